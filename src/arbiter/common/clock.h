// Time as an injected dependency: production code asks a Clock, tests pass a FakeClock and move it.
#pragma once

#include <atomic>
#include <cstdint>

namespace arbiter {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch (wall-clock time, as written into tokens and evidence).
  virtual std::int64_t NowMicros() const = 0;
  std::int64_t NowSeconds() const { return NowMicros() / 1'000'000; }
  std::int64_t NowMillis() const { return NowMicros() / 1'000; }
};

class SystemClock final : public Clock {
 public:
  std::int64_t NowMicros() const override;
  // A process-wide instance.
  static const Clock& Get();
};

// A clock that only moves when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t start_micros = 1'700'000'000'000'000) : now_(start_micros) {}
  std::int64_t NowMicros() const override { return now_.load(std::memory_order_relaxed); }
  void SetMicros(std::int64_t t) { now_.store(t, std::memory_order_relaxed); }
  void AdvanceMicros(std::int64_t d) { now_.fetch_add(d, std::memory_order_relaxed); }
  void AdvanceSeconds(std::int64_t s) { AdvanceMicros(s * 1'000'000); }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace arbiter
