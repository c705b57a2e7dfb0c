// The durable CaseStore and CaseKeyStore on SQLite: one connection, tables routing_cases,
// routing_pending, routing_case_keys and routing_shredded (module `routing` in arbiter_schema).
// Keeping both on one connection lets Shred clear the case's text and delete its key together.
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
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "arbiter/routing/case_store.h"
#include "arbiter/routing/evidence.h"
#include "arbiter/store/sqlite.h"

namespace arbiter::routing {

class SqliteRoutingStore final : public CaseStore, public CaseKeyStore {
 public:
  // Creates or migrates the routing tables.
  static Result<std::unique_ptr<SqliteRoutingStore>> Open(std::unique_ptr<store::SqliteDb> db);
  ~SqliteRoutingStore() override;

  // CaseStore. Put is one transaction (case row and pending rows).
  Status Put(const StoredCase& c, unsigned changed) override;
  Result<std::vector<StoredCase>> LoadAll() override;

  // CaseKeyStore. Keys are cached in memory after the first read; Shred drops the cache entry.
  // KeyFor writes a new key at once; KeyForRoute(id, this) keeps a new key in memory and writes it
  // in the transaction of the case's next Put (one commit per routed case).
  Result<CaseKey> KeyFor(std::string_view case_id) override;
  Result<CaseKey> KeyForRoute(std::string_view case_id, const CaseStore* cases) override;
  Status Shred(std::string_view case_id) override;

  // Runs PRAGMA wal_checkpoint(TRUNCATE). True when the WAL was emptied (no earlier page copies
  // remain in it); false when a reader kept it from finishing.
  Result<bool> WipeWal();

 private:
  struct Statements;
  explicit SqliteRoutingStore(std::unique_ptr<store::SqliteDb> db);
  Status Init();
  Result<bool> WipeWalLocked();
  // The cached or stored key; with `create`, a new one when there is none (not yet written).
  Result<CaseKey> KeyLocked(std::string_view case_id, bool* created);

  std::mutex mu_;
  std::unique_ptr<store::SqliteDb> db_;
  std::unique_ptr<Statements> stmts_;
  struct CachedKey {
    CaseKey key;
    Bytes unsaved;  // the key's bytes until they are written (KeyForRoute), then empty
  };
  std::unordered_map<std::string, CachedKey> keys_;
};

}  // namespace arbiter::routing
