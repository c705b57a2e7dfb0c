#include "alloc_count.h"

#include <cstdlib>
#include <new>

namespace {
thread_local std::uint64_t calls = 0;
thread_local std::uint64_t large = 0;
}  // namespace

namespace arbiter::bench {
std::uint64_t AllocationCalls() { return calls; }
std::uint64_t LargeAllocationCalls() { return large; }
}  // namespace arbiter::bench

void* operator new(std::size_t n) {
  ++calls;
  if (n >= 1024) ++large;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
