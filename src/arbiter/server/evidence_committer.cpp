#include "arbiter/server/evidence_committer.h"

#include <algorithm>
#include <span>
#include <utility>

#include "arbiter/common/bytes.h"

namespace arbiter::server {
namespace {

// Entries waiting for the disk; past this Enqueue answers kResourceExhausted (→ the caller sees
// 503 and retries) instead of growing memory without bound.
constexpr size_t kMaxQueued = 1u << 20;

thread_local std::optional<std::uint64_t> tls_last_index;

}  // namespace

void RequestEvidence::Begin() { tls_last_index.reset(); }
void RequestEvidence::Note(std::uint64_t index) {
  if (!tls_last_index || *tls_last_index < index) tls_last_index = index;
}
std::optional<std::uint64_t> RequestEvidence::Last() { return tls_last_index; }

Result<std::unique_ptr<EvidenceCommitter>> EvidenceCommitter::Start(ledger::Ledger* ledger) {
  if (ledger == nullptr) return Status::InvalidArgument("evidence committer needs a ledger");
  const std::uint64_t next = ledger->Stats().sequenced;
  std::unique_ptr<EvidenceCommitter> c(new EvidenceCommitter(ledger, next));
  c->thread_ = std::thread([raw = c.get()] { raw->Run(); });
  return c;
}

EvidenceCommitter::EvidenceCommitter(ledger::Ledger* ledger, std::uint64_t next_index)
    : ledger_(ledger), next_index_(next_index), durable_(next_index), base_(next_index) {}

EvidenceCommitter::~EvidenceCommitter() { Stop(); }

Result<std::uint64_t> EvidenceCommitter::Enqueue(std::string entry) {
  if (entry.size() > ledger::kMaxEntrySize) {
    return Status::InvalidArgument("evidence record of " + std::to_string(entry.size()) +
                                   " bytes exceeds the ledger's entry limit");
  }
  std::uint64_t index = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!failed_.ok()) return failed_;
    if (stopping_) return Status::Unavailable("evidence ledger is closing");
    if (queue_.size() >= kMaxQueued) {
      return Status::ResourceExhausted("evidence queue is full; retry later");
    }
    index = next_index_++;
    queue_.push_back(std::move(entry));
    if (queue_.size() == 1) work_cv_.notify_one();
  }
  RequestEvidence::Note(index);
  return index;
}

void EvidenceCommitter::OnDurable(std::uint64_t index, std::function<void(Status)> done) {
  Status now_known;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (index >= durable_) {
      if (!failed_.ok()) {
        now_known = failed_;
      } else if (index >= next_index_) {
        now_known = Status::FailedPrecondition("evidence index " + std::to_string(index) +
                                               " was never enqueued");
      } else {
        waiters_.emplace(index, std::move(done));
        return;
      }
    }
  }
  done(now_known);
}

Status EvidenceCommitter::WaitDurable(std::uint64_t index, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (index >= next_index_) {
    return Status::FailedPrecondition("evidence index " + std::to_string(index) +
                                      " was never enqueued");
  }
  if (!durable_cv_.wait_for(lock, timeout, [&] { return index < durable_ || !failed_.ok(); })) {
    return Status::Unavailable("evidence " + std::to_string(index) + " not durable within " +
                               std::to_string(timeout.count()) + " ms");
  }
  return index < durable_ ? Status::Ok() : failed_;
}

Status EvidenceCommitter::health() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_;
}

CommitterStats EvidenceCommitter::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return CommitterStats{next_index_ - base_, durable_ - base_, batches_};
}

void EvidenceCommitter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    work_cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void EvidenceCommitter::CompleteUpTo(std::uint64_t durable, std::unique_lock<std::mutex>& lock) {
  durable_ = durable;
  std::vector<std::function<void(Status)>> done;
  auto end = waiters_.lower_bound(durable);
  for (auto it = waiters_.begin(); it != end; ++it) done.push_back(std::move(it->second));
  waiters_.erase(waiters_.begin(), end);
  durable_cv_.notify_all();
  lock.unlock();
  for (auto& d : done) d(Status::Ok());
  lock.lock();
}

void EvidenceCommitter::FailAll(const Status& status, std::unique_lock<std::mutex>& lock) {
  failed_ = status;
  std::vector<std::function<void(Status)>> done;
  for (auto& [index, d] : waiters_) done.push_back(std::move(d));
  waiters_.clear();
  durable_cv_.notify_all();
  lock.unlock();
  for (auto& d : done) d(status);
  lock.lock();
}

void EvidenceCommitter::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  std::vector<std::string> batch;
  std::vector<ByteView> views;
  for (;;) {
    work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    if (!failed_.ok()) {         // enqueued while the failing append ran: never durable
      queue_.clear();
      continue;
    }
    batch.clear();
    batch.swap(queue_);
    const std::uint64_t first = durable_;
    lock.unlock();

    Status status;
    std::uint64_t committed = first;
    for (size_t off = 0; off < batch.size();) {
      const size_t n = std::min(batch.size() - off, ledger::kMaxBatchEntries);
      views.clear();
      for (size_t i = off; i < off + n; ++i) views.push_back(AsBytes(batch[i]));
      auto appended = ledger_->AppendBatch(std::span<const ByteView>(views));
      if (!appended) {
        status = appended.error();
        break;
      }
      if (*appended != committed) {
        status = Status::DataLoss("ledger assigned index " + std::to_string(*appended) +
                                  ", expected " + std::to_string(committed) +
                                  " (another writer appended to the ledger)");
        break;
      }
      committed += n;
      off += n;
    }

    lock.lock();
    ++batches_;
    if (committed > first) CompleteUpTo(committed, lock);
    if (!status.ok()) {
      FailAll(Status::Unavailable("evidence ledger: " + status.message()), lock);
    }
  }
}

}  // namespace arbiter::server
