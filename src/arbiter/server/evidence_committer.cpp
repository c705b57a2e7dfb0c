#include "arbiter/server/evidence_committer.h"

#include <algorithm>
#include <span>
#include <string_view>
#include <utility>

#include "arbiter/common/bytes.h"
#include "arbiter/common/thread_name.h"

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

Result<std::unique_ptr<EvidenceCommitter>> EvidenceCommitter::Start(
    ledger::Ledger* ledger, EvidenceCommitterOptions options) {
  if (ledger == nullptr) return Status::InvalidArgument("evidence committer needs a ledger");
  if (options.pace.count() < 0) return Status::InvalidArgument("evidence committer: negative pace");
  const std::uint64_t next = ledger->Stats().sequenced;
  std::unique_ptr<EvidenceCommitter> c(new EvidenceCommitter(ledger, next, options));
  c->thread_ = std::thread([raw = c.get()] {
    NameThisThread("arbiter-evidence");
    raw->Run();
  });
  return c;
}

EvidenceCommitter::EvidenceCommitter(ledger::Ledger* ledger, std::uint64_t next_index,
                                     EvidenceCommitterOptions options)
    : ledger_(ledger),
      options_(options),
      waiters_(next_index, "evidence index"),
      base_(next_index) {}

EvidenceCommitter::~EvidenceCommitter() { Stop(); }

Result<std::uint64_t> EvidenceCommitter::Enqueue(std::string entry) {
  if (entry.size() > ledger::kMaxEntrySize) {
    return Status::InvalidArgument("evidence record of " + std::to_string(entry.size()) +
                                   " bytes exceeds the ledger's entry limit");
  }
  std::uint64_t index = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!waiters_.failed().ok()) return waiters_.failed();
    if (stopping_) return Status::Unavailable("evidence ledger is closing");
    if (queue_.size() >= kMaxQueued) {
      return Status::ResourceExhausted("evidence queue is full; retry later");
    }
    index = waiters_.Issue();
    queue_.push_back(std::move(entry));
    if (queue_.size() == 1) {
      queued_since_ = std::chrono::steady_clock::now();
      work_cv_.notify_one();
    } else if (queue_.size() == kPacedBatchEntries && options_.pace.count() > 0) {
      work_cv_.notify_one();
    }
  }
  RequestEvidence::Note(index);
  return index;
}

void EvidenceCommitter::OnDurable(std::uint64_t index, std::function<void(Status)> done) {
  std::unique_lock<std::mutex> lock(mu_);
  waiters_.OnDurable(index, std::move(done), lock);
}

Status EvidenceCommitter::WaitDurable(std::uint64_t index, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return waiters_.Wait(index, timeout, lock);
}

void EvidenceCommitter::RunBatchHook() {
  std::lock_guard<std::mutex> hook_lock(batch_start_mu_);
  if (on_batch_start_) on_batch_start_();
}

void EvidenceCommitter::OnBatchStart(std::function<void()> fn) {
  std::lock_guard<std::mutex> hook_lock(batch_start_mu_);
  on_batch_start_ = std::move(fn);
}

Status EvidenceCommitter::health() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiters_.failed();
}

CommitterStats EvidenceCommitter::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return CommitterStats{waiters_.next() - base_, waiters_.durable() - base_, timings_.batches(),
                        timings_.wait_micros(),  timings_.commit_micros(),   timings_.max_batch()};
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

void EvidenceCommitter::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  std::vector<std::string> batch;
  std::vector<ByteView> views;
  auto last_started = std::chrono::steady_clock::time_point::min();
  for (;;) {
    work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (options_.pace.count() > 0 && last_started != std::chrono::steady_clock::time_point::min()) {
      work_cv_.wait_until(lock, last_started + options_.pace,
                          [&] { return stopping_ || queue_.size() >= kPacedBatchEntries; });
    }
    if (queue_.empty()) return;     // stopping, nothing left
    if (!waiters_.failed().ok()) {  // enqueued while the failing append ran: never durable
      queue_.clear();
      continue;
    }
    batch.clear();
    batch.swap(queue_);
    const std::uint64_t first = waiters_.durable();
    const auto queued_since = queued_since_;
    lock.unlock();

    RunBatchHook();
    const auto started = std::chrono::steady_clock::now();
    last_started = started;
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

    // Again as the batch ends: a row queued just after this batch was taken, with its evidence in
    // it, commits now rather than with the next batch (or after the pace).
    RunBatchHook();
    const auto ended = std::chrono::steady_clock::now();
    const store::BatchTiming timing = timings_.Time(batch.size(), queued_since, started, ended);

    lock.lock();
    timings_.Add(timing);
    waiters_.CompleteUpTo(committed, lock);
    if (!status.ok()) {
      waiters_.Fail(Status::Unavailable("evidence ledger: " + status.message()), lock);
    }
  }
}

}  // namespace arbiter::server
