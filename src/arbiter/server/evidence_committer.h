// Group commit of evidence for the HTTP API: handlers queue records without waiting for the disk,
// and their responses leave only once the records are durable.
//
// The committer is the ledger's only writer while it runs. Enqueue assigns the record the next
// ledger index at once (so routing can put the index in its case history while it holds its case
// lock, without holding it across an fsync) and queues it; one committer thread writes everything
// queued with Ledger::AppendBatch (one transaction, one fsync) and then completes the waiters of
// those indices. Many concurrent requests therefore share one fsync, and I/O threads never block
// on the disk: the transport parks the response (HttpResponse::defer) until OnDurable fires.
//
//   ARBITER_TRY(auto committer, EvidenceCommitter::Start(ledger.get()));
//   ARBITER_TRY(std::uint64_t index, committer->Enqueue(record));   // not yet durable
//   committer->OnDurable(index, [](Status s) { /* send the response, or 503 when !s.ok() */ });
//   ARBITER_RETURN_IF_ERROR(committer->WaitDurable(index, std::chrono::seconds(5)));
//
// A caller learns an index only from a response sent after the committer has seen the ledger
// acknowledge it. How durable an acknowledged entry is depends on the ledger's
// LedgerOptions::sync_appends (the server's `evidence_ack`): fsynced, or in the write-ahead log
// and fsynced with the next checkpoint. "Durable" below means acknowledged by the ledger. If an
// append fails, the committer fails every waiter and every later Enqueue with the error
// (kUnavailable) and readiness turns false: the server then answers 503 rather than decide without
// evidence.
//
// RequestEvidence is the per-request bookkeeping: the evidence sink notes, on the calling thread,
// the highest index a handler enqueued, so the routing endpoints know what to wait for.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "arbiter/common/status.h"
#include "arbiter/ledger/ledger.h"
#include "arbiter/store/batch_timings.h"
#include "arbiter/store/durability_waiters.h"

namespace arbiter::server {

struct CommitterStats {
  std::uint64_t enqueued = 0;
  std::uint64_t durable = 0;
  std::uint64_t batches = 0;
  // Per-stage times, summed over batches: how long the oldest entry of each batch waited in the
  // queue before its append began, and how long the appends took (write and, with
  // evidence_ack = fsync, the fsync). With the environment variable ARBITER_COMMIT_TRACE=1 the
  // committer also prints one line per batch to stderr.
  std::uint64_t wait_micros = 0;
  std::uint64_t commit_micros = 0;
  std::uint64_t max_batch = 0;  // entries in the largest batch
};

struct EvidenceCommitterOptions {
  // When nonzero, a batch starts at most this long after the previous one started (or at once
  // when kPacedBatchEntries are queued). For a ledger that acknowledges appends without an fsync:
  // such an append takes tens of microseconds, so unpaced the committer would write a
  // transaction (and the case rows paced by OnBatchStart another) for every few entries; paced,
  // batches gather about as many entries as an fsync's duration does with fsync acknowledgement.
  std::chrono::microseconds pace{0};
};

class EvidenceCommitter {
 public:
  // With EvidenceCommitterOptions::pace: a batch of this many entries starts without waiting.
  static constexpr size_t kPacedBatchEntries = 256;

  // `ledger` must outlive the committer; nothing else may append to it while the committer runs.
  static Result<std::unique_ptr<EvidenceCommitter>> Start(ledger::Ledger* ledger,
                                                          EvidenceCommitterOptions options = {});
  ~EvidenceCommitter();  // Stop()
  EvidenceCommitter(const EvidenceCommitter&) = delete;
  EvidenceCommitter& operator=(const EvidenceCommitter&) = delete;

  // Queues `entry` (at most ledger::kMaxEntrySize bytes) and returns the index it will have.
  Result<std::uint64_t> Enqueue(std::string entry);
  // Calls `done` once entry `index` is durable (OK) or can no longer become so (the error): from
  // the committer thread, or at once on the calling thread when that is already known.
  void OnDurable(std::uint64_t index, std::function<void(Status)> done);
  // Blocks until entry `index` is durable; kUnavailable after `timeout` or on failure.
  Status WaitDurable(std::uint64_t index, std::chrono::milliseconds timeout);

  // Calls `fn` on the committer thread each time it takes a batch, just before the append, and
  // again when the append returns, before the batch's waiters complete (the server commits its
  // queued case rows then, in parallel with the evidence fsync: SqliteRoutingStore::CommitNow).
  // nullptr removes it; once this returns, an earlier `fn` is no longer running and will not be
  // called again.
  void OnBatchStart(std::function<void()> fn);

  // OK while appends succeed.
  Status health() const;
  CommitterStats Stats() const;

  // Commits what is queued, completes its waiters and stops the thread; later Enqueue calls fail.
  // Idempotent.
  void Stop();

 private:
  EvidenceCommitter(ledger::Ledger* ledger, std::uint64_t next_index,
                    EvidenceCommitterOptions options);
  void Run();
  void RunBatchHook();

  ledger::Ledger* ledger_;
  const EvidenceCommitterOptions options_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::vector<std::string> queue_;
  // Tickets are ledger indices: next() is the index of the next Enqueue.
  store::DurabilityWaiters waiters_;
  bool stopping_ = false;
  std::mutex batch_start_mu_;  // held while on_batch_start_ runs
  std::function<void()> on_batch_start_;
  std::chrono::steady_clock::time_point queued_since_;  // when queue_ last became non-empty
  store::BatchTimings timings_{"evidence"};             // ARBITER_COMMIT_TRACE, Stats()
  std::uint64_t base_;                                  // the first index at start
  std::thread thread_;
};

// Per-request bookkeeping on the calling thread (see above).
class RequestEvidence {
 public:
  // Forgets what earlier requests on this thread enqueued.
  static void Begin();
  static void Note(std::uint64_t index);
  // The highest index noted since Begin().
  static std::optional<std::uint64_t> Last();
};

}  // namespace arbiter::server
