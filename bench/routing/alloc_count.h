// Allocation counting for the routing benchmarks: alloc_count.cpp replaces the global operator
// new (a per-thread counter increment each, as cheap as it gets), so a benchmark can report
// allocations per case next to the time. It lives in its own file so that the compiler does not
// see the replacement's malloc/free pairing inlined into callers.
//
//   const AllocationCounter count;
//   DoWork();
//   state.counters["allocs"] = count.calls();
#pragma once

#include <cstdint>

namespace arbiter::bench {

std::uint64_t AllocationCalls();       // operator new calls on this thread so far
std::uint64_t LargeAllocationCalls();  // ... of 1 KB or more (beyond glibc's small bins)

// Counts the allocations this thread makes while it is alive.
class AllocationCounter {
 public:
  AllocationCounter() : calls_(AllocationCalls()), large_(LargeAllocationCalls()) {}
  std::uint64_t calls() const { return AllocationCalls() - calls_; }
  std::uint64_t large() const { return LargeAllocationCalls() - large_; }

 private:
  std::uint64_t calls_;
  std::uint64_t large_;
};

}  // namespace arbiter::bench
