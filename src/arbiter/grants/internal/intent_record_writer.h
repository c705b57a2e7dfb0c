// The deferred writer of intent records (IntentTokenService with a SingleUseRegistry): Mint
// queues the record of a token it has already recorded as issued in the registry, and one thread
// commits whatever is queued in one transaction (GrantStore::InsertIssuedIntents), so a mint pays
// no database commit. The record serves audit and refusal explanations; introspection's hot path
// does not read it (docs/IDENTITY.md, "Deferred intent records").
//
//   ARBITER_TRY(auto writer, IntentRecordWriter::Start(store));
//   ARBITER_RETURN_IF_ERROR(writer->Reserve());   // before signing: refuses when far behind
//   writer->Enqueue(std::move(record));            // after RecordIssued
//   ARBITER_RETURN_IF_ERROR(writer->Flush());      // everything queued so far is committed
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "arbiter/common/status.h"
#include "arbiter/grants/grant_store.h"

namespace arbiter::grants::internal {

class IntentRecordWriter {
 public:
  // A batch is committed when it has kMaxBatch records or its oldest record has waited kLinger;
  // at most kMaxPending records wait (Reserve refuses more: the store is failing or far behind).
  static constexpr size_t kMaxBatch = 512;
  static constexpr std::chrono::microseconds kLinger{2000};
  static constexpr size_t kMaxPending = 65536;
  // After a failed commit the batch is kept and retried after this pause.
  static constexpr std::chrono::milliseconds kRetryPause{50};

  static Result<std::unique_ptr<IntentRecordWriter>> Start(GrantStore& store);
  // Commits what is queued (one last attempt), then stops the thread.
  ~IntentRecordWriter();
  IntentRecordWriter(const IntentRecordWriter&) = delete;
  IntentRecordWriter& operator=(const IntentRecordWriter&) = delete;

  // kUnavailable (naming the last store error, if any) when kMaxPending records already wait.
  Status Reserve();
  void Enqueue(IntentRecord record);
  // Waits until every record queued before the call is committed (at most `timeout`);
  // kUnavailable with the last store error when that does not happen in time.
  Status Flush(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  struct Stats {
    std::uint64_t committed = 0;  // records
    std::uint64_t batches = 0;    // transactions that committed
    std::uint64_t failures = 0;   // transactions that failed (their records were retried)
    size_t pending = 0;
  };
  Stats stats();

 private:
  explicit IntentRecordWriter(GrantStore& store) : store_(store) {}
  void Run();

  GrantStore& store_;
  std::mutex mu_;
  std::condition_variable wake_;  // the writer: records queued, or stopping
  std::condition_variable done_;  // Flush: a batch committed or failed
  std::vector<IntentRecord> queue_;
  std::chrono::steady_clock::time_point oldest_;  // when queue_'s first record was queued
  std::uint64_t enqueued_ = 0;                    // records ever queued
  std::uint64_t committed_ = 0;                   // records committed (in order)
  std::uint64_t batches_ = 0;
  std::uint64_t failures_ = 0;
  size_t in_flight_ = 0;  // records taken by the writer, not yet committed
  Status last_error_;
  bool stopping_ = false;
  std::thread thread_;  // last: started after everything above exists
};

}  // namespace arbiter::grants::internal
