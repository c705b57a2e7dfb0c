// The waiting half of a group committer: numbered writes (tickets) become durable in order, and
// callers either block until theirs is (Wait) or leave a callback (OnDurable) that the committer
// runs when its batch commits. One committer failure fails every waiter and every later write.
//
// Not thread-safe on its own: every call is made with the owner's mutex held (the owner keeps its
// queue under the same mutex), passed in as `lock`; callbacks run with it released.
//
//   std::mutex mu;
//   store::DurabilityWaiters waiters(/*first=*/1, "case write");
//   // producer, under mu:      std::uint64_t t = waiters.Issue();
//   // caller:                  std::unique_lock lock(mu); waiters.OnDurable(t, done, lock);
//   // committer, after commit: std::unique_lock lock(mu); waiters.CompleteUpTo(t + 1, lock);
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "arbiter/common/status.h"

namespace arbiter::store {

class DurabilityWaiters {
 public:
  // `first`: the ticket of the first write; `noun` names a ticket in errors ("case write 7").
  DurabilityWaiters(std::uint64_t first, std::string_view noun);

  // Hands out the next ticket. Refuse the write instead (failed()) once the committer failed.
  std::uint64_t Issue() { return next_++; }
  std::uint64_t next() const { return next_; }        // the ticket Issue hands out next
  std::uint64_t durable() const { return durable_; }  // tickets below this are durable
  const Status& failed() const { return failed_; }    // OK until Fail

  // Runs `done` once ticket `t` is durable (OK) or can no longer be (the failure): later, from
  // CompleteUpTo or Fail, or now (with `lock` released) when that is already known. A ticket
  // never issued is kFailedPrecondition.
  void OnDurable(std::uint64_t t, std::function<void(Status)> done,
                 std::unique_lock<std::mutex>& lock);
  // Blocks (releasing `lock`) until ticket `t` is durable; kUnavailable after `timeout`, the
  // failure on failure, kFailedPrecondition for a ticket never issued.
  Status Wait(std::uint64_t t, std::chrono::milliseconds timeout,
              std::unique_lock<std::mutex>& lock);
  // Blocks until every issued ticket is durable; the failure if one cannot be.
  Status Drain(std::unique_lock<std::mutex>& lock);

  // The committer: tickets below `durable` are durable. Runs their callbacks in ticket order with
  // `lock` released, all in one go (one hand-off per batch, not per ticket).
  void CompleteUpTo(std::uint64_t durable, std::unique_lock<std::mutex>& lock);
  // The committer cannot write: records `status`, runs every waiting callback with it (with
  // `lock` released) and wakes every Wait.
  void Fail(const Status& status, std::unique_lock<std::mutex>& lock);

 private:
  std::string Name(std::uint64_t t) const;

  std::string noun_;
  std::uint64_t next_;
  std::uint64_t durable_;
  Status failed_;
  std::condition_variable cv_;
  std::multimap<std::uint64_t, std::function<void(Status)>> waiting_;
};

}  // namespace arbiter::store
