// DurabilityWaiters: callbacks and waits complete in ticket order once their batch commits, at
// once when already known, and with the failure once the committer failed.
#include "arbiter/store/durability_waiters.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace arbiter::store {
namespace {

using std::chrono::milliseconds;

TEST(DurabilityWaiters, CallbacksRunWhenTheirBatchCommitsInTicketOrder) {
  std::mutex mu;
  DurabilityWaiters w(5, "case write");
  std::unique_lock lock(mu);
  const std::uint64_t a = w.Issue(), b = w.Issue(), c = w.Issue();
  EXPECT_EQ(a, 5u);
  std::vector<std::uint64_t> seen;
  for (std::uint64_t t : {c, a, b}) {
    w.OnDurable(
        t,
        [&, t](Status s) {
          EXPECT_TRUE(s.ok());
          seen.push_back(t);
        },
        lock);
  }
  EXPECT_TRUE(seen.empty());
  w.CompleteUpTo(b + 1, lock);  // a and b commit
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{a, b}));
  w.CompleteUpTo(b + 1, lock);  // nothing new
  w.CompleteUpTo(c + 1, lock);
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{a, b, c}));
  EXPECT_EQ(w.durable(), 8u);
  EXPECT_TRUE(w.Drain(lock).ok());
}

TEST(DurabilityWaiters, KnownOutcomesCompleteAtOnceWithoutTheLock) {
  std::mutex mu;
  DurabilityWaiters w(1, "evidence index");
  std::unique_lock lock(mu);
  const std::uint64_t t = w.Issue();
  w.CompleteUpTo(t + 1, lock);
  Status seen = Status::Unavailable("not called");
  w.OnDurable(
      t,
      [&](Status s) {
        EXPECT_FALSE(lock.owns_lock()) << "callbacks run with the owner's mutex released";
        seen = s;
      },
      lock);
  EXPECT_TRUE(seen.ok());
  EXPECT_TRUE(lock.owns_lock());
  w.OnDurable(
      9, [&](Status s) { seen = s; }, lock);
  EXPECT_EQ(seen.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(seen.message(), "evidence index 9 was never queued");
  EXPECT_EQ(w.Wait(9, milliseconds(10), lock).code(), StatusCode::kFailedPrecondition);
}

TEST(DurabilityWaiters, AFailureFailsWaitersWaitsAndLaterCallbacks) {
  std::mutex mu;
  DurabilityWaiters w(1, "case write");
  std::unique_lock lock(mu);
  const std::uint64_t t = w.Issue();
  Status first = Status::Ok();
  w.OnDurable(
      t, [&](Status s) { first = s; }, lock);
  lock.unlock();
  std::thread waiter([&] {
    std::unique_lock l(mu);
    EXPECT_EQ(w.Wait(t, std::chrono::seconds(30), l).message(), "case store: disk full");
  });
  std::this_thread::sleep_for(milliseconds(20));
  lock.lock();
  w.Fail(Status::Unavailable("case store: disk full"), lock);
  lock.unlock();
  waiter.join();
  lock.lock();
  EXPECT_EQ(first.code(), StatusCode::kUnavailable);
  Status later = Status::Ok();
  w.OnDurable(
      t, [&](Status s) { later = s; }, lock);
  EXPECT_EQ(later.message(), "case store: disk full");
  EXPECT_EQ(w.Drain(lock).code(), StatusCode::kUnavailable);
}

TEST(DurabilityWaiters, AWaitTimesOutWhenNothingCommits) {
  std::mutex mu;
  DurabilityWaiters w(1, "case write");
  std::unique_lock lock(mu);
  const std::uint64_t t = w.Issue();
  Status s = w.Wait(t, milliseconds(20), lock);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "case write 1 not durable within 20 ms");
}

// Many producers and one committer: every callback runs exactly once, with OK.
TEST(DurabilityWaiters, ConcurrentProducersAndOneCommitter) {
  std::mutex mu;
  DurabilityWaiters w(1, "case write");
  std::atomic<int> done{0};
  std::atomic<bool> stop{false};
  std::thread committer([&] {
    std::unique_lock lock(mu);
    while (!stop.load() || w.durable() != w.next()) {
      w.CompleteUpTo(w.next(), lock);
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      lock.lock();
    }
  });
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        std::unique_lock lock(mu);
        const std::uint64_t t = w.Issue();
        w.OnDurable(
            t,
            [&](Status s) {
              EXPECT_TRUE(s.ok());
              ++done;
            },
            lock);
      }
    });
  }
  for (auto& p : producers) p.join();
  stop = true;
  committer.join();
  EXPECT_EQ(done.load(), 800);
}

}  // namespace
}  // namespace arbiter::store
