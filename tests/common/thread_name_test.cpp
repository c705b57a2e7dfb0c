#include "arbiter/common/thread_name.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <string>
#include <thread>

namespace arbiter {
namespace {

std::string NameOfThisThread() {
  char buf[64] = {};
  EXPECT_EQ(pthread_getname_np(pthread_self(), buf, sizeof buf), 0);
  return buf;
}

TEST(ThreadName, NamesTheCallingThread) {
  std::string seen;
  std::thread t([&] {
    NameThisThread("arbiter-test");
    seen = NameOfThisThread();
  });
  t.join();
  EXPECT_EQ(seen, "arbiter-test");
}

TEST(ThreadName, KeepsTheFirstFifteenBytesOfALongName) {
  std::string seen;
  std::thread t([&] {
    NameThisThread("arbiter-integrator-of-the-ledger");
    seen = NameOfThisThread();
  });
  t.join();
  EXPECT_EQ(seen, "arbiter-integra");
}

}  // namespace
}  // namespace arbiter
