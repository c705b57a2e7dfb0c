// Batch timings: per-batch wait and commit times in microseconds, sums and the largest batch over
// batches, the trace line's format (what scripts grep), and the environment switch.
#include "arbiter/store/batch_timings.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace arbiter::store {
namespace {

using namespace std::chrono_literals;

TEST(BatchTimings, TimesSumsAndLargestBatch) {
  BatchTimings timings("cases", /*trace=*/false);
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  const BatchTiming a = timings.Time(12, t0, t0 + 840us, t0 + 1250us);
  EXPECT_EQ(a.rows, 12u);
  EXPECT_EQ(a.wait_micros, 840u);
  EXPECT_EQ(a.commit_micros, 410u);
  timings.Add(a);
  // A clock that went backwards (a batch queued "after" it started) counts as no wait.
  const BatchTiming b = timings.Time(30, t0 + 5ms, t0 + 4ms, t0 + 6ms);
  EXPECT_EQ(b.wait_micros, 0u);
  EXPECT_EQ(b.commit_micros, 2000u);
  timings.Add(b);
  timings.Add(timings.Time(3, t0, t0, t0));
  EXPECT_EQ(timings.batches(), 3u);
  EXPECT_EQ(timings.wait_micros(), 840u);
  EXPECT_EQ(timings.commit_micros(), 2410u);
  EXPECT_EQ(timings.max_batch(), 30u);
}

TEST(BatchTimings, TraceLineAndEnvironmentSwitch) {
  BatchTimings timings("evidence", /*trace=*/false);
  EXPECT_EQ(timings.TraceLine({7, 100, 1500}), "commit evidence rows=7 wait_us=100 commit_us=1500");

  ::setenv("ARBITER_COMMIT_TRACE", "1", 1);
  EXPECT_TRUE(BatchTimings("cases").tracing());
  ::setenv("ARBITER_COMMIT_TRACE", "yes", 1);
  EXPECT_FALSE(BatchTimings("cases").tracing());
  ::unsetenv("ARBITER_COMMIT_TRACE");
  EXPECT_FALSE(BatchTimings("cases").tracing());
}

}  // namespace
}  // namespace arbiter::store
