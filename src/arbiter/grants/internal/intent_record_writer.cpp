#include "arbiter/grants/internal/intent_record_writer.h"

#include <utility>

#include "arbiter/common/thread_name.h"

namespace arbiter::grants::internal {

Result<std::unique_ptr<IntentRecordWriter>> IntentRecordWriter::Start(GrantStore& store) {
  std::unique_ptr<IntentRecordWriter> w(new IntentRecordWriter(store));
  w->thread_ = std::thread([p = w.get()] {
    NameThisThread("arbiter-intents");
    p->Run();
  });
  return w;
}

IntentRecordWriter::~IntentRecordWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

Status IntentRecordWriter::Reserve() {
  std::lock_guard lock(mu_);
  const size_t pending = queue_.size() + in_flight_;
  if (pending < kMaxPending) return Status::Ok();
  return Status::Unavailable("intent records are not being committed: " + std::to_string(pending) +
                             " wait" +
                             (last_error_.ok() ? "" : "; last error: " + last_error_.ToString()));
}

void IntentRecordWriter::Enqueue(IntentRecord record) {
  bool first = false;
  {
    std::lock_guard lock(mu_);
    first = queue_.empty();
    if (first) oldest_ = std::chrono::steady_clock::now();
    queue_.push_back(std::move(record));
    ++enqueued_;
  }
  if (first) wake_.notify_one();
}

Status IntentRecordWriter::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const std::uint64_t target = enqueued_;
  if (!queue_.empty()) oldest_ = std::chrono::steady_clock::now() - kLinger;  // no lingering
  wake_.notify_one();
  if (done_.wait_for(lock, timeout, [&] { return committed_ >= target; })) return Status::Ok();
  return Status::Unavailable("intent records were not committed within " +
                             std::to_string(timeout.count()) + " ms" +
                             (last_error_.ok() ? "" : "; last error: " + last_error_.ToString()));
}

IntentRecordWriter::Stats IntentRecordWriter::stats() {
  std::lock_guard lock(mu_);
  return Stats{committed_, batches_, failures_, queue_.size() + in_flight_};
}

void IntentRecordWriter::Run() {
  std::vector<IntentRecord> batch;
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    // Linger so that mints arriving meanwhile share the commit; stop waiting when the batch is
    // full, the oldest record has waited kLinger, or the service is going away.
    wake_.wait_until(lock, oldest_ + kLinger,
                     [&] { return stopping_ || queue_.size() >= kMaxBatch; });
    if (queue_.size() <= kMaxBatch) {
      batch.swap(queue_);
    } else {
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + kMaxBatch));
      queue_.erase(queue_.begin(), queue_.begin() + kMaxBatch);
    }
    if (!queue_.empty()) oldest_ = std::chrono::steady_clock::now() - kLinger;  // go on at once
    in_flight_ = batch.size();
    lock.unlock();
    Status s = store_.InsertIssuedIntents(batch);
    if (s.code() == StatusCode::kAlreadyExists) {
      // Some record is there already (a retried batch whose commit had in fact succeeded): one
      // by one, so that the others are not held back by it.
      s = Status::Ok();
      for (const IntentRecord& r : batch) {
        Status one = store_.InsertIssuedIntents(std::span<const IntentRecord>(&r, 1));
        if (!one.ok() && one.code() != StatusCode::kAlreadyExists) s = one;
      }
    }
    lock.lock();
    in_flight_ = 0;
    if (s.ok()) {
      committed_ += batch.size();
      ++batches_;
      batch.clear();
    } else {
      ++failures_;
      last_error_ = s;
      // Keep the order: the failed batch goes back in front of what was queued meanwhile.
      queue_.insert(queue_.begin(), std::make_move_iterator(batch.begin()),
                    std::make_move_iterator(batch.end()));
      batch.clear();
      if (stopping_) {
        // One last attempt failed while shutting down: what is left is lost (docs/IDENTITY.md).
        queue_.clear();
        done_.notify_all();
        return;
      }
      done_.notify_all();
      wake_.wait_for(lock, kRetryPause, [&] { return stopping_; });
      continue;
    }
    done_.notify_all();
  }
}

}  // namespace arbiter::grants::internal
