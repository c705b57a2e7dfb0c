// Early writeback: FileWriteback opens a file when it first exists and starts its writeback; the
// pacer runs a round per period only while it is notified, and stops cleanly.
#include "arbiter/store/writeback.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace arbiter::store {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class WritebackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("arbiter-writeback-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const fs::path& p, size_t bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::app);
    out << std::string(bytes, 'x');
  }
  // Waits up to 5 s for `pred`.
  template <typename Pred>
  static bool Eventually(Pred pred) {
    for (int i = 0; i < 500; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  }
  fs::path dir_;
};

TEST_F(WritebackTest, OpensTheFileOnceItExists) {
  FileWriteback wb(dir_ / "f");
  EXPECT_FALSE(wb.Start());  // not there yet
  Write(dir_ / "f", 100);    // a partial page only
  EXPECT_TRUE(wb.Start());
  Write(dir_ / "f", 3 * 4096);
  EXPECT_TRUE(wb.Start());
  FileWriteback moved(std::move(wb));
  EXPECT_TRUE(moved.Start());
  EXPECT_EQ(moved.path(), dir_ / "f");
}

TEST_F(WritebackTest, PacerRunsOnlyWhenNotified) {
  Write(dir_ / "a", 64 * 1024);
  WritebackPacer pacer({dir_ / "a", dir_ / "missing"}, {.period = 1ms, .thread_name = "test-wb"});
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(pacer.rounds(), 0u);  // idle: never notified
  pacer.Notify();
  ASSERT_TRUE(Eventually([&] { return pacer.rounds() >= 1; }));
  // One round per notification burst (the last Notify gets one more), and the missing file is not
  // counted as started.
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(pacer.rounds(), 1u);
  EXPECT_EQ(pacer.started(), 1u);
  Write(dir_ / "missing", 8192);
  pacer.Notify();
  ASSERT_TRUE(Eventually([&] { return pacer.rounds() >= 2; }));
  EXPECT_EQ(pacer.started(), 3u);
  pacer.Stop();
  pacer.Stop();    // idempotent
  pacer.Notify();  // after Stop: ignored
  EXPECT_EQ(pacer.rounds(), 2u);
}

TEST_F(WritebackTest, StopsWhileWaitingForThePeriod) {
  WritebackPacer pacer({dir_ / "a"}, {.period = std::chrono::hours(1)});
  pacer.Notify();
  const auto t0 = std::chrono::steady_clock::now();
  pacer.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(pacer.rounds(), 0u);
}

}  // namespace
}  // namespace arbiter::store
