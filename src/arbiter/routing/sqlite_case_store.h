// The durable CaseStore and CaseKeyStore on SQLite: one connection, tables routing_cases,
// routing_pending, routing_case_keys, routing_shredded and routing_route_shapes (module `routing`
// in arbiter_schema, version 2). Keeping both on one connection lets Shred clear the case's text
// and delete its key together. A decision's policy part (bundle, principal, reasons: what every
// case a rule routes alike shares) is stored once in routing_route_shapes, the row keeping only
// its id and the case's own signals; LoadAll puts the exact stored text back together.
//
//   ARBITER_TRY(auto db, store::SqliteDb::Open(dir / "arbiter.db",
//                                              {.durability = store::Durability::kNormal}));
//   ARBITER_TRY(auto routing_store, SqliteRoutingStore::Open(std::move(db)));
//   ServiceDeps deps{&packs, &sink, routing_store.get(), &grants, &signals, &clock};
//   deps.cases = routing_store.get();
//   ARBITER_TRY(auto service, RoutingService::Open(deps));   // reloads every case
//
// Durability is the connection's (docs/ROUTING.md, "Persistence"): with Durability::kNormal a
// committed write survives kill -9 of the process but the last commits may be lost on power loss
// (no fsync per write); with kFull each write is fsynced before it returns.
//
// Crypto-shredding on disk: the connection runs with PRAGMA secure_delete=ON, so deleting a key
// overwrites its bytes in the page with zeros, and Shred then runs a TRUNCATE checkpoint so the
// write-ahead log keeps no earlier copy of the page. If another connection holds a read
// transaction the checkpoint cannot finish; Shred still succeeds (the key is deleted and the case
// refuses it) and the wipe happens at the next Shred or WipeWal() that finishes.
//
// Group commit (SqliteRoutingStoreOptions::group_commit, what `arbiter serve` uses): Put serialises
// the row on the calling thread, queues it with the next write ticket and returns at once; one
// committer thread writes everything queued in one transaction, in queue order (later writes of a
// case land after earlier ones), and then completes the waiters of those tickets. The caller learns
// its ticket from LastTicketOnThisThread() and answers only once OnDurable(ticket) reports OK:
//
//   SqliteRoutingStore::BeginTickets();                  // per request, on the handler's thread
//   ARBITER_TRY(auto routed, service->RouteCase(c, {}, actor));   // Put queued the row
//   if (auto t = store->LastTicketOnThisThread()) store->OnDurable(*t, [](Status s) { ... });
//
// SQLite's automatic WAL checkpoint (an fsync or two, tens of milliseconds on a busy disk) would
// run inside the committing transaction and hold up every row behind it; with group commit the
// store turns it off and a checkpointer thread on its own connection checkpoints (PASSIVE) after
// every 256 committed rows but at most four times a second, so the commit path never waits for
// it. Should the WAL
// still hold more than 64 MiB of frames since it last restarted (writes never pause long enough
// for a checkpoint to finish), the committer checkpoints inline once, which lets the next write
// restart the WAL from its beginning (the file keeps its size and is written over).
//
// Early writeback (SqliteRoutingStoreOptions::writeback_period): the WAL's pages are written by
// the kernel only when a checkpoint fsyncs them, and the pages a checkpoint copies into
// arbiter.db only at its second fsync: a burst of megabytes every checkpoint that the ledger's
// fsyncs queue behind. While rows commit, a thread (store::WritebackPacer) starts the writeback
// of both files every few milliseconds, so the bytes reach the disk as a steady trickle and the
// checkpoint's fsyncs find little left to do. It adds no durability and removes none: the same
// pages, written sooner; the fsyncs stay where they were.
//
// A failed batch fails every waiter and every later Put with kUnavailable and health() turns
// false: the in-memory service may then be ahead of the disk only for requests that were refused,
// and nothing more is written until a restart reloads what is stored. Shred, WipeWal, LoadAll and
// Get first wait until every queued row is written, so they order after the queued writes (a key
// queued with its case's row is not written again by KeyFor).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "arbiter/common/sharded_hash.h"
#include "arbiter/routing/case_store.h"
#include "arbiter/routing/evidence.h"
#include "arbiter/store/batch_timings.h"
#include "arbiter/store/durability_waiters.h"
#include "arbiter/store/sqlite.h"
#include "arbiter/store/writeback.h"

namespace arbiter::routing {

struct SqliteRoutingStoreOptions {
  // Put queues and a committer thread writes batches (see above); otherwise Put writes through.
  bool group_commit = false;
  // With group commit: when nonzero, the committer commits what is queued when CommitNow() is
  // called (the server calls it as each evidence batch starts, so case rows and their evidence
  // share one cadence and a batch of rows is one transaction per evidence fsync, not one per
  // wake-up), or once the oldest queued row has waited this long.
  std::chrono::microseconds pace{0};
  // With group commit on a file database: while rows commit, start the kernel's writeback of
  // arbiter.db-wal and arbiter.db once per this period (store::WritebackPacer, thread
  // `arbiter-case-wb`), so that a checkpoint's fsyncs find little dirty data; zero turns it off.
  std::chrono::microseconds writeback_period{5000};
};

struct CaseWriteStats {
  std::uint64_t queued = 0;   // rows queued by Put (group commit)
  std::uint64_t durable = 0;  // ... of which committed
  std::uint64_t batches = 0;  // transactions that committed them
  // Per-stage times, summed over batches: how long the oldest row of each batch waited in the
  // queue before its transaction began, and how long the transactions took. With the environment
  // variable ARBITER_COMMIT_TRACE=1 the committer also prints one line per batch to stderr.
  std::uint64_t wait_micros = 0;
  std::uint64_t commit_micros = 0;
  std::uint64_t max_batch = 0;           // rows in the largest batch
  std::uint64_t writeback_rounds = 0;    // rounds of early writeback (writeback_period)
  std::uint64_t inline_checkpoints = 0;  // checkpoints the committer ran (the WAL's bound)
};

class SqliteRoutingStore final : public CaseStore, public CaseKeyStore {
 public:
  // Creates or migrates the routing tables; with group commit, starts the committer thread.
  static Result<std::unique_ptr<SqliteRoutingStore>> Open(std::unique_ptr<store::SqliteDb> db,
                                                          SqliteRoutingStoreOptions options = {});
  ~SqliteRoutingStore() override;  // Stop()

  // CaseStore. Put is one transaction (case row and pending rows); with group commit it is queued
  // and shares the transaction of its batch (kUnavailable once a batch failed, kResourceExhausted
  // when too many rows wait).
  Status Put(const StoredCase& c, unsigned changed) override;
  Result<std::vector<StoredCase>> LoadAll() override;
  // Waits for the queued rows to be written (as LoadAll does), then reads the case's row.
  Result<std::optional<StoredCase>> Get(std::string_view case_id) override;

  // CaseKeyStore. Every key (and the set of shredded case ids) is read into memory when the store
  // opens, so no key lookup touches the disk; Shred drops the cache entry.
  // KeyFor writes a new key at once; KeyForRoute(id, this) keeps a new key in memory and writes it
  // in the transaction of the case's next Put (one commit per routed case).
  Result<CaseKey> KeyFor(std::string_view case_id) override;
  Result<CaseKey> KeyForRoute(std::string_view case_id, const CaseStore* cases) override;
  Status Shred(std::string_view case_id) override;

  // Runs PRAGMA wal_checkpoint(TRUNCATE). True when the WAL was emptied (no earlier page copies
  // remain in it); false when a reader kept it from finishing.
  Result<bool> WipeWal();

  // Group commit. Forgets the ticket the calling thread's earlier Puts noted.
  static void BeginTickets();
  // The ticket of the last row this thread queued into this store since BeginTickets().
  std::optional<std::uint64_t> LastTicketOnThisThread() const;
  // Calls `done` once row `ticket` (and every row queued before it) is committed (OK) or can no
  // longer be (kUnavailable): from the committer thread, or at once when that is already known.
  void OnDurable(std::uint64_t ticket, std::function<void(Status)> done);
  // Blocks until row `ticket` is committed; kUnavailable after `timeout` or on failure.
  Status WaitDurable(std::uint64_t ticket, std::chrono::milliseconds timeout);
  // With SqliteRoutingStoreOptions::pace: commit what is queued now (a no-op when nothing is).
  void CommitNow();
  // OK while batches commit.
  Status health() const;
  CaseWriteStats Stats() const;
  // Commits what is queued, completes its waiters and stops the thread; later Puts fail.
  // Idempotent; a store without group commit ignores it.
  void Stop();

 private:
  struct Statements;
  struct Row;
  struct RouteShape;
  SqliteRoutingStore(std::unique_ptr<store::SqliteDb> db, SqliteRoutingStoreOptions options);
  Status Init();
  Result<bool> WipeWalLocked();
  Status LoadKeys();
  Status LoadShapes();
  // The shared shape of a decision's stored text (nullptr: stored whole); the row stores the rest.
  std::shared_ptr<const RouteShape> ShapeOf(std::string_view text);
  // After a committed transaction: its rows' shapes need not be written again.
  static void MarkShapesStored(std::span<const Row> rows);
  struct CachedKey;
  // The case's cache entry (its key loaded, or created and not yet written: `*created`); an error
  // for a shredded case. The entry stays valid until it is erased (keys_ never moves its values).
  Result<CachedKey*> KeyLocked(std::string_view case_id, bool* created);
  // Waits (releasing `lock` on mu_) until every queued row is committed; the batch error if not.
  Status DrainLocked(std::unique_lock<std::mutex>& lock);
  // Writes one row's statements; the caller holds db_mu_ and runs a transaction.
  Status WriteRow(const Row& row);
  void Run();
  void CheckpointLoop();
  // After a committed batch of `rows`: wakes the checkpointer, or checkpoints inline when the WAL
  // is too large. Called by the committer without mu_ or db_mu_ held.
  void AfterCommit(size_t rows);

  const SqliteRoutingStoreOptions options_;
  // Lock order: mu_ before db_mu_; the committer never takes mu_ while it holds db_mu_.
  mutable std::mutex mu_;  // keys_, the queue, tickets and waiters
  std::mutex db_mu_;       // db_ and stmts_
  std::unique_ptr<store::SqliteDb> db_;
  std::unique_ptr<Statements> stmts_;
  struct CachedKey {
    CaseKey key;
    Bytes unsaved;  // the key's bytes until they are written or queued (KeyForRoute), then empty
  };
  // Every case's key, and the shredded case ids: sharded, so that growing never stalls mu_ for a
  // rehash of every key (common/sharded_hash.h).
  ShardedStringMap<CachedKey> keys_;
  ShardedStringSet shredded_;
  // Decision shapes by text (kMaxRouteShapes); a leaf lock, taken by Put before mu_.
  std::mutex shapes_mu_;
  std::unordered_map<std::string_view, std::shared_ptr<const RouteShape>> shapes_;
  std::int64_t next_shape_id_ = 1;

  // Group commit (guarded by mu_).
  std::condition_variable work_cv_;
  std::vector<Row> queue_;
  store::DurabilityWaiters waiters_{1, "case write"};   // a ticket per queued row
  std::chrono::steady_clock::time_point queued_since_;  // when queue_ last became non-empty
  store::BatchTimings timings_{"cases"};                // ARBITER_COMMIT_TRACE, Stats()
  bool stopping_ = false;
  bool commit_now_ = false;  // CommitNow() since the last batch was taken
  std::thread thread_;

  // WAL checkpoints off the commit path (group commit on a file database).
  std::unique_ptr<store::SqliteDb> checkpoint_db_;
  std::mutex checkpoint_mu_;  // one checkpoint at a time (Shred's TRUNCATE included); after db_mu_
  std::condition_variable checkpoint_cv_;  // with mu_
  bool checkpoint_wanted_ = false;         // guarded by mu_
  size_t rows_since_checkpoint_ = 0;       // committer thread only
  std::thread checkpointer_;
  std::unique_ptr<store::WritebackPacer> writeback_;  // with checkpoint_db_ and writeback_period
  std::atomic<std::uint64_t> inline_checkpoints_{0};
};

}  // namespace arbiter::routing
