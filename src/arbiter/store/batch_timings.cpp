#include "arbiter/store/batch_timings.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace arbiter::store {
namespace {

bool TraceFromEnvironment() {
  const char* trace = std::getenv("ARBITER_COMMIT_TRACE");
  return trace != nullptr && std::string_view(trace) == "1";
}

std::uint64_t Micros(std::chrono::steady_clock::duration d) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  return us > 0 ? static_cast<std::uint64_t>(us) : 0;
}

}  // namespace

BatchTimings::BatchTimings(std::string_view what) : BatchTimings(what, TraceFromEnvironment()) {}

BatchTimings::BatchTimings(std::string_view what, bool trace) : what_(what), trace_(trace) {}

BatchTiming BatchTimings::Time(std::uint64_t rows, TimePoint queued_since, TimePoint started,
                               TimePoint ended) const {
  BatchTiming t{rows, Micros(started - queued_since), Micros(ended - started)};
  if (trace_) std::fprintf(stderr, "%s\n", TraceLine(t).c_str());
  return t;
}

void BatchTimings::Add(const BatchTiming& t) {
  ++batches_;
  wait_micros_ += t.wait_micros;
  commit_micros_ += t.commit_micros;
  max_batch_ = std::max(max_batch_, t.rows);
}

std::string BatchTimings::TraceLine(const BatchTiming& t) const {
  return "commit " + what_ + " rows=" + std::to_string(t.rows) +
         " wait_us=" + std::to_string(t.wait_micros) +
         " commit_us=" + std::to_string(t.commit_micros);
}

}  // namespace arbiter::store
