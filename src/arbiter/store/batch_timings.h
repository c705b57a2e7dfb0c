// The timing half of a group committer: per batch, how long its oldest write waited in the queue
// before the commit began and how long the commit took, summed over batches for metrics, and with
// the environment variable ARBITER_COMMIT_TRACE=1 one line per batch on stderr:
//
//   commit cases rows=12 wait_us=840 commit_us=410
//
// Not thread-safe on its own: Time needs no lock (call it outside the owner's mutex, so a trace
// line is never printed under it); Add and the getters are called with the owner's mutex held.
//
//   store::BatchTimings timings("cases");
//   // committer, after each batch (no lock):
//   const store::BatchTiming t = timings.Time(rows, queued_since, started, ended);
//   // under the owner's mutex:  timings.Add(t);   ... timings.wait_micros() for /metrics
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace arbiter::store {

struct BatchTiming {
  std::uint64_t rows = 0;
  std::uint64_t wait_micros = 0;    // oldest write queued -> commit began
  std::uint64_t commit_micros = 0;  // commit began -> commit ended
};

class BatchTimings {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // `what` names the committer in trace lines ("cases", "evidence"). Tracing is on when
  // ARBITER_COMMIT_TRACE is "1" at construction.
  explicit BatchTimings(std::string_view what);
  // As above with tracing given (tests).
  BatchTimings(std::string_view what, bool trace);

  // One batch of `rows`, its oldest write queued at `queued_since`, committed from `started` to
  // `ended` (a negative span counts as 0). Prints the trace line when tracing.
  BatchTiming Time(std::uint64_t rows, TimePoint queued_since, TimePoint started,
                   TimePoint ended) const;
  // Adds a batch to the sums (failed batches included: they took the time too).
  void Add(const BatchTiming& t);

  bool tracing() const { return trace_; }
  std::uint64_t batches() const { return batches_; }
  std::uint64_t wait_micros() const { return wait_micros_; }
  std::uint64_t commit_micros() const { return commit_micros_; }
  std::uint64_t max_batch() const { return max_batch_; }  // rows in the largest batch

  // The trace line for `t`, without the newline.
  std::string TraceLine(const BatchTiming& t) const;

 private:
  const std::string what_;
  const bool trace_;
  std::uint64_t batches_ = 0;
  std::uint64_t wait_micros_ = 0;
  std::uint64_t commit_micros_ = 0;
  std::uint64_t max_batch_ = 0;
};

}  // namespace arbiter::store
