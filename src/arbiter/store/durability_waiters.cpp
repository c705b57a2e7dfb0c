#include "arbiter/store/durability_waiters.h"

#include <utility>
#include <vector>

namespace arbiter::store {

DurabilityWaiters::DurabilityWaiters(std::uint64_t first, std::string_view noun)
    : noun_(noun), next_(first), durable_(first) {}

std::string DurabilityWaiters::Name(std::uint64_t t) const {
  return noun_ + " " + std::to_string(t);
}

void DurabilityWaiters::OnDurable(std::uint64_t t, std::function<void(Status)> done,
                                  std::unique_lock<std::mutex>& lock) {
  Status now_known;
  if (t >= durable_) {
    if (!failed_.ok()) {
      now_known = failed_;
    } else if (t >= next_) {
      now_known = Status::FailedPrecondition(Name(t) + " was never queued");
    } else {
      waiting_.emplace(t, std::move(done));
      return;
    }
  }
  lock.unlock();
  done(std::move(now_known));
  lock.lock();
}

Status DurabilityWaiters::Wait(std::uint64_t t, std::chrono::milliseconds timeout,
                               std::unique_lock<std::mutex>& lock) {
  if (t >= next_) return Status::FailedPrecondition(Name(t) + " was never queued");
  if (!cv_.wait_for(lock, timeout, [&] { return t < durable_ || !failed_.ok(); })) {
    return Status::Unavailable(Name(t) + " not durable within " + std::to_string(timeout.count()) +
                               " ms");
  }
  return t < durable_ ? Status::Ok() : failed_;
}

Status DurabilityWaiters::Drain(std::unique_lock<std::mutex>& lock) {
  cv_.wait(lock, [&] { return durable_ == next_ || !failed_.ok(); });
  return failed_;
}

void DurabilityWaiters::CompleteUpTo(std::uint64_t durable, std::unique_lock<std::mutex>& lock) {
  if (durable <= durable_) return;
  durable_ = durable;
  cv_.notify_all();
  const auto end = waiting_.lower_bound(durable);
  if (end == waiting_.begin()) return;
  std::vector<std::function<void(Status)>> done;
  for (auto it = waiting_.begin(); it != end; ++it) done.push_back(std::move(it->second));
  waiting_.erase(waiting_.begin(), end);
  lock.unlock();
  for (auto& d : done) d(Status::Ok());
  lock.lock();
}

void DurabilityWaiters::Fail(const Status& status, std::unique_lock<std::mutex>& lock) {
  failed_ = status;
  cv_.notify_all();
  std::vector<std::function<void(Status)>> done;
  for (auto& [t, d] : waiting_) done.push_back(std::move(d));
  waiting_.clear();
  lock.unlock();
  for (auto& d : done) d(status);
  lock.lock();
}

}  // namespace arbiter::store
