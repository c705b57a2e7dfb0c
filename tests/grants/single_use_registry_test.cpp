// The mapped single-use registry on its own: one use per token across threads and processes, uses
// that survive kill -9 and reopening, a full table that refuses instead of forgetting, reuse of
// dead slots, and files that are not a registry refused at open.
#include "arbiter/grants/single_use_registry.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace arbiter::grants {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kNow = 1'800'000'000;

// A digest whose first 8 bytes (the home slot) are `home` and the rest derived from `n`.
Sha256Digest Digest(std::uint64_t n, std::uint64_t home = ~std::uint64_t{0}) {
  Sha256Digest d = Sha256(std::to_string(n));
  if (home != ~std::uint64_t{0}) std::memcpy(d.data(), &home, sizeof home);
  return d;
}

class SingleUseRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("arbiter-single-use-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = dir_ / "intents.used";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<SingleUseRegistry> Open(std::uint64_t slots = kMinSingleUseSlots) {
    MappedSingleUseOptions o;
    o.path = path_;
    o.slots = slots;
    auto r = OpenMappedSingleUseRegistry(o);
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? std::move(*r) : nullptr;
  }

  Status OpenError(std::uint64_t slots = kMinSingleUseSlots) {
    MappedSingleUseOptions o;
    o.path = path_;
    o.slots = slots;
    auto r = OpenMappedSingleUseRegistry(o);
    return r ? Status::Ok() : r.error();
  }

  static std::string Outcome(const Result<UseOutcome>& r) {
    if (!r) return r.error().ToString();
    return *r == UseOutcome::kFirstUse ? "first" : "used";
  }

  fs::path dir_;
  fs::path path_;
};

TEST_F(SingleUseRegistryTest, EachTokenIsUsedOnce) {
  auto reg = Open();
  ASSERT_NE(reg, nullptr);
  for (std::uint64_t i = 0; i < 100; ++i) {
    EXPECT_EQ(Outcome(reg->Use(Digest(i), kNow + 60, kNow)), "first");
  }
  for (std::uint64_t i = 0; i < 100; ++i) {
    EXPECT_EQ(Outcome(reg->Use(Digest(i), kNow + 60, kNow + 30)), "used");
  }
  EXPECT_NE(reg->Describe().find(path_.string()), std::string::npos);
}

// Digests that share their home slot, and even their fingerprint, are told apart by the 24
// recorded bytes.
TEST_F(SingleUseRegistryTest, CollidingDigestsAreToldApart) {
  auto reg = Open();
  ASSERT_NE(reg, nullptr);
  std::vector<Sha256Digest> digests;
  for (std::uint64_t i = 0; i < 20; ++i) digests.push_back(Digest(i, /*home=*/42));
  digests.push_back(digests[0]);
  digests.back()[10] ^= 1;  // same home and fingerprint as digests[0], another token
  for (const auto& d : digests) EXPECT_EQ(Outcome(reg->Use(d, kNow + 60, kNow)), "first");
  for (const auto& d : digests) EXPECT_EQ(Outcome(reg->Use(d, kNow + 60, kNow)), "used");
}

TEST_F(SingleUseRegistryTest, ThreadsRaceForEachTokenAndExactlyOneWins) {
  auto reg = Open(kMinSingleUseSlots * 4);
  ASSERT_NE(reg, nullptr);
  constexpr int kTokens = 500;
  constexpr int kThreads = 8;
  std::vector<std::atomic<int>> wins(kTokens);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kTokens; ++i) {
        // Home slots crowded into a few chains, so racers meet inside probe sequences too.
        const int token = (i + t * 7) % kTokens;
        auto r = reg->Use(Digest(static_cast<std::uint64_t>(token), token % 16), kNow + 60, kNow);
        if (!r) {
          ++errors;
        } else if (*r == UseOutcome::kFirstUse) {
          ++wins[static_cast<size_t>(token)];
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  for (int i = 0; i < kTokens; ++i) EXPECT_EQ(wins[static_cast<size_t>(i)].load(), 1) << i;
}

// Four processes, each with its own mapping of the file, race for each of 50 tokens: exactly one
// wins each. Then a process records a use and kills itself with SIGKILL: the use stands.
TEST_F(SingleUseRegistryTest, ProcessesRaceForOneTokenAndAUseSurvivesKillNine) {
  ASSERT_NE(Open(), nullptr);  // creates the file
  constexpr int kTokens = 50;
  int pipes[4][2];
  std::vector<pid_t> pids;
  for (int p = 0; p < 4; ++p) {
    ASSERT_EQ(::pipe(pipes[p]), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(pipes[p][0]);
      MappedSingleUseOptions o;
      o.path = path_;
      o.slots = kMinSingleUseSlots;
      auto reg = OpenMappedSingleUseRegistry(o);
      std::string wins(kTokens, '?');
      if (reg) {
        for (int i = 0; i < kTokens; ++i) {
          auto r = (*reg)->Use(Digest(static_cast<std::uint64_t>(i), 7), kNow + 60, kNow);
          wins[static_cast<size_t>(i)] = !r ? 'e' : (*r == UseOutcome::kFirstUse ? '1' : '0');
        }
      }
      (void)!::write(pipes[p][1], wins.data(), wins.size());
      ::_exit(0);
    }
    ::close(pipes[p][1]);
    pids.push_back(pid);
  }
  std::vector<int> winners(kTokens, 0);
  for (int p = 0; p < 4; ++p) {
    std::string wins(kTokens, ' ');
    size_t got = 0;
    while (got < wins.size()) {
      const ssize_t n = ::read(pipes[p][0], wins.data() + got, wins.size() - got);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    ::close(pipes[p][0]);
    int status = 0;
    ::waitpid(pids[static_cast<size_t>(p)], &status, 0);
    ASSERT_EQ(got, wins.size()) << "child " << p << " did not report";
    for (int i = 0; i < kTokens; ++i) {
      ASSERT_NE(wins[static_cast<size_t>(i)], 'e');
      winners[static_cast<size_t>(i)] += wins[static_cast<size_t>(i)] == '1';
    }
  }
  for (int i = 0; i < kTokens; ++i) EXPECT_EQ(winners[static_cast<size_t>(i)], 1) << i;

  const pid_t pid = ::fork();
  if (pid == 0) {
    MappedSingleUseOptions o;
    o.path = path_;
    o.slots = kMinSingleUseSlots;
    auto reg = OpenMappedSingleUseRegistry(o);
    if (reg && (*reg)->Use(Digest(9999), kNow + 60, kNow).value_or(UseOutcome::kAlreadyUsed) ==
                   UseOutcome::kFirstUse) {
      ::raise(SIGKILL);
    }
    ::_exit(2);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child did not get to use the token";
  auto reg = Open();
  ASSERT_NE(reg, nullptr);
  EXPECT_EQ(Outcome(reg->Use(Digest(9999), kNow + 60, kNow)), "used");
  EXPECT_EQ(Outcome(reg->Use(Digest(3, 7), kNow + 60, kNow)), "used");
}

// A full table refuses new uses with a clear error and still refuses the recorded ones; once their
// tokens are dead, their slots are reused.
TEST_F(SingleUseRegistryTest, AFullTableRefusesAndDeadSlotsAreReused) {
  auto reg = Open(kMinSingleUseSlots);
  ASSERT_NE(reg, nullptr);
  for (std::uint64_t i = 0; i < kMinSingleUseSlots; ++i) {
    ASSERT_EQ(Outcome(reg->Use(Digest(i), kNow + 120, kNow)), "first") << i;
  }
  auto full = reg->Use(Digest(kMinSingleUseSlots), kNow + 120, kNow);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(full.error().message().find("is full"), std::string::npos) << full.error().message();
  EXPECT_EQ(Outcome(reg->Use(Digest(5), kNow + 120, kNow + 100)), "used");

  // Ten minutes on, every recorded token is long dead: new uses take their slots.
  const std::int64_t later = kNow + 600;
  for (std::uint64_t i = 0; i < kMinSingleUseSlots; ++i) {
    ASSERT_EQ(Outcome(reg->Use(Digest(100'000 + i), later + 60, later)), "first") << i;
  }
  EXPECT_EQ(Outcome(reg->Use(Digest(100'005), later + 60, later)), "used");
}

// A slot is not reused while its token may still be accepted somewhere (up to its expiry plus the
// largest leeway), even when the table is full.
TEST_F(SingleUseRegistryTest, ALiveUseIsNeverForgotten) {
  auto reg = Open(kMinSingleUseSlots);
  ASSERT_NE(reg, nullptr);
  for (std::uint64_t i = 0; i < kMinSingleUseSlots; ++i) {
    ASSERT_EQ(Outcome(reg->Use(Digest(i), kNow + 120, kNow)), "first");
  }
  // At exp + 59 s, a verifier with the largest leeway still accepts the tokens.
  const std::int64_t t = kNow + 120 + SingleUseRegistry::kForgetAfterExpirySeconds - 1;
  EXPECT_EQ(Outcome(reg->Use(Digest(3), kNow + 120, t)), "used");
  auto other = reg->Use(Digest(kMinSingleUseSlots + 1), t + 100, t);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), StatusCode::kResourceExhausted);
}

TEST_F(SingleUseRegistryTest, ExpiriesOutsideATokensLifetimeAreRefused) {
  auto reg = Open();
  ASSERT_NE(reg, nullptr);
  auto far = reg->Use(Digest(1), kNow + SingleUseRegistry::kMaxExpiryAheadSeconds + 1, kNow);
  ASSERT_FALSE(far);
  EXPECT_EQ(far.error().code(), StatusCode::kInvalidArgument);
  auto dead = reg->Use(Digest(1), kNow - SingleUseRegistry::kForgetAfterExpirySeconds, kNow);
  ASSERT_FALSE(dead);
  EXPECT_EQ(dead.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Outcome(reg->Use(Digest(1), kNow + 10, kNow)), "first");
}

TEST_F(SingleUseRegistryTest, UsesSurviveReopening) {
  {
    auto reg = Open();
    ASSERT_NE(reg, nullptr);
    EXPECT_EQ(Outcome(reg->Use(Digest(1), kNow + 60, kNow)), "first");
  }
  auto reg = Open();
  ASSERT_NE(reg, nullptr);
  EXPECT_EQ(Outcome(reg->Use(Digest(1), kNow + 60, kNow)), "used");
  EXPECT_EQ(Outcome(reg->Use(Digest(2), kNow + 60, kNow)), "first");
}

TEST_F(SingleUseRegistryTest, SyncEachUseWorks) {
  MappedSingleUseOptions o;
  o.path = path_;
  o.slots = kMinSingleUseSlots;
  o.sync_each_use = true;
  auto reg = OpenMappedSingleUseRegistry(o);
  ASSERT_TRUE(reg) << reg.error().ToString();
  EXPECT_EQ(Outcome((*reg)->Use(Digest(1), kNow + 60, kNow)), "first");
  EXPECT_EQ(Outcome((*reg)->Use(Digest(1), kNow + 60, kNow)), "used");
}

// Files that are not a registry of this size are refused at open, never repaired or overwritten.
TEST_F(SingleUseRegistryTest, ForeignCorruptTruncatedOrResizedFilesAreRefused) {
  auto expect_refused = [&](StatusCode code, std::string_view words) {
    const Status s = OpenError();
    EXPECT_EQ(s.code(), code) << s.ToString();
    EXPECT_NE(s.message().find(words), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(path_.string()), std::string::npos) << s.message();
  };
  { std::ofstream(path_) << "SQLite format 3, or anything else that is not ours"; }
  expect_refused(StatusCode::kDataLoss, "not an arbiter single-use registry");
  const auto size_of_foreign = fs::file_size(path_);

  fs::remove(path_);
  ASSERT_NE(Open(), nullptr);
  const auto size = fs::file_size(path_);
  fs::resize_file(path_, size - 32);
  expect_refused(StatusCode::kDataLoss, "truncated");
  fs::resize_file(path_, 10);
  expect_refused(StatusCode::kDataLoss, "truncated");

  fs::remove(path_);
  ASSERT_NE(Open(), nullptr);
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(16);  // the slot count
    f.put('\x7f');
  }
  expect_refused(StatusCode::kDataLoss, "corrupt header");

  fs::remove(path_);
  ASSERT_NE(Open(), nullptr);
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(8);  // the version
    f.put('\x09');
  }
  expect_refused(StatusCode::kFailedPrecondition, "format version 9");

  fs::remove(path_);
  ASSERT_NE(Open(), nullptr);
  const Status resized = OpenError(kMinSingleUseSlots * 2);
  EXPECT_EQ(resized.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(resized.message().find("1024 slots, but 2048 are configured"), std::string::npos)
      << resized.message();
  EXPECT_GT(size, size_of_foreign);  // nothing above rewrote a foreign file into a registry
}

// Tokens recorded as issued at mint are used by one compare-and-swap; unknown ones are reported
// as such without being recorded; Use of an issued token uses it too.
TEST_F(SingleUseRegistryTest, IssuedTokensAreUsedOnceAndUnknownOnesAreReported) {
  auto reg = Open();
  ASSERT_NE(reg, nullptr);
  ASSERT_TRUE(reg->RecordIssued(Digest(1), kNow + 60, kNow).ok());
  ASSERT_TRUE(reg->RecordIssued(Digest(2), kNow + 60, kNow).ok());
  ASSERT_TRUE(reg->RecordIssued(Digest(1), kNow + 60, kNow).ok());  // again: no change
  EXPECT_EQ(*reg->UseIfIssued(Digest(1), kNow + 60, kNow), IssuedUse::kFirstUse);
  EXPECT_EQ(*reg->UseIfIssued(Digest(1), kNow + 60, kNow), IssuedUse::kAlreadyUsed);
  EXPECT_EQ(Outcome(reg->Use(Digest(1), kNow + 60, kNow)), "used");
  EXPECT_EQ(reg->RecordIssued(Digest(1), kNow + 60, kNow).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Outcome(reg->Use(Digest(2), kNow + 60, kNow)), "first");
  EXPECT_EQ(*reg->UseIfIssued(Digest(2), kNow + 60, kNow), IssuedUse::kAlreadyUsed);
  EXPECT_EQ(*reg->UseIfIssued(Digest(3), kNow + 60, kNow), IssuedUse::kNotRecorded);
  EXPECT_EQ(*reg->UseIfIssued(Digest(3), kNow + 60, kNow), IssuedUse::kNotRecorded);
  EXPECT_EQ(Outcome(reg->Use(Digest(3), kNow + 60, kNow)), "first");
}

TEST_F(SingleUseRegistryTest, ThreadsRaceForIssuedTokensAndExactlyOneWins) {
  auto reg = Open(kMinSingleUseSlots * 4);
  ASSERT_NE(reg, nullptr);
  constexpr int kTokens = 500;
  for (int i = 0; i < kTokens; ++i) {
    ASSERT_TRUE(
        reg->RecordIssued(Digest(static_cast<std::uint64_t>(i), i % 16), kNow + 60, kNow).ok());
  }
  std::vector<std::atomic<int>> wins(kTokens);
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kTokens; ++i) {
        const int token = (i + t * 7) % kTokens;
        const auto d = Digest(static_cast<std::uint64_t>(token), token % 16);
        // Half the threads go the fallback way (Use), as a process without the record would.
        bool first = false;
        if (t % 2 == 0) {
          auto r = reg->UseIfIssued(d, kNow + 60, kNow);
          if (!r || *r == IssuedUse::kNotRecorded) ++errors;
          first = r && *r == IssuedUse::kFirstUse;
        } else {
          auto r = reg->Use(d, kNow + 60, kNow);
          if (!r) ++errors;
          first = r && *r == UseOutcome::kFirstUse;
        }
        if (first) ++wins[static_cast<size_t>(token)];
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  for (int i = 0; i < kTokens; ++i) EXPECT_EQ(wins[static_cast<size_t>(i)].load(), 1) << i;
}

// The grant-change signal: no stamp while a change is in progress; a change moves the stamp for
// every process mapping the file; a change left open by a dead process keeps stamps off until a
// process opens the file alone.
TEST_F(SingleUseRegistryTest, GrantChangeSignalIsSharedAndSurvivesADeadWriter) {
  auto a = Open();
  auto b = Open();
  ASSERT_TRUE(a && b);
  GrantChangeSignal* sa = a->grant_changes();
  GrantChangeSignal* sb = b->grant_changes();
  ASSERT_TRUE(sa && sb);
  const auto s0 = sa->Stamp();
  ASSERT_TRUE(s0.has_value());
  EXPECT_EQ(sb->Stamp(), s0);
  sb->BeginChange();
  EXPECT_FALSE(sa->Stamp().has_value());
  sb->EndChange();
  ASSERT_TRUE(sa->Stamp().has_value());
  EXPECT_NE(*sa->Stamp(), *s0);

  // A writer that dies inside a change (here: a child process, killed).
  const pid_t pid = ::fork();
  if (pid == 0) {
    MappedSingleUseOptions o;
    o.path = path_;
    o.slots = kMinSingleUseSlots;
    auto reg = OpenMappedSingleUseRegistry(o);
    if (reg) (*reg)->grant_changes()->BeginChange();
    ::raise(SIGKILL);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(sa->Stamp().has_value());
  b.reset();
  auto c = Open();  // `a` still has it open: not alone, nothing reset
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(c->grant_changes()->Stamp().has_value());
  a.reset();
  c.reset();
  auto d = Open();  // alone
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(d->grant_changes()->Stamp().has_value());
}

TEST_F(SingleUseRegistryTest, SlotCountIsBounded) {
  EXPECT_EQ(OpenError(kMinSingleUseSlots - 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenError(kMaxSingleUseSlots + 1).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(path_));
}

TEST(SingleUseConfigTest, BackendNamesAndTheStoreDefault) {
  EXPECT_EQ(*ParseSingleUseBackend("store"), SingleUseBackend::kStore);
  EXPECT_EQ(*ParseSingleUseBackend("mmap"), SingleUseBackend::kMappedFile);
  auto bad = ParseSingleUseBackend("redis");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "single-use backend `redis` is unknown; use `store` or `mmap`");
  EXPECT_EQ(SingleUseBackendName(SingleUseBackend::kMappedFile), "mmap");
  auto none = OpenSingleUseRegistry(SingleUseConfig{}, fs::temp_directory_path());
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, nullptr);
}

}  // namespace
}  // namespace arbiter::grants

namespace arbiter::grants {
namespace {

class SingleUseShardTest : public SingleUseRegistryTest {
 protected:
  // Indexes of the slots in use (non-zero control word), read from the file itself.
  std::vector<std::uint64_t> OccupiedSlots() {
    std::ifstream f(path_, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<std::uint64_t> out;
    for (size_t off = 4096; off + 32 <= bytes.size(); off += 32) {
      std::uint64_t control;
      std::memcpy(&control, bytes.data() + off, sizeof control);
      if (control != 0) out.push_back((off - 4096) / 32);
    }
    return out;
  }
};

// The tokens of one moment (one expiry) land in one run of the table, so they dirty a few pages
// instead of one random page each; a burst larger than its run spills into the next ones and
// every token is still used exactly once.
TEST_F(SingleUseShardTest, TokensOfOneMomentShareOneRunOfPages) {
  auto reg = Open(kMinSingleUseSlots * 64);  // 65,536 slots: 32 runs of 2,048 (16 pages each)
  ASSERT_NE(reg, nullptr);
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(reg->RecordIssued(Digest(i), kNow + 60, kNow).ok());
  auto slots = OccupiedSlots();
  ASSERT_EQ(slots.size(), 500u);
  EXPECT_LT(slots.back() - slots.front(), 2048u);
  EXPECT_EQ(slots.front() / 2048, slots.back() / 2048);  // one run
  // Tokens expiring 8 s later go to another run.
  for (int i = 500; i < 600; ++i) ASSERT_TRUE(reg->RecordIssued(Digest(i), kNow + 68, kNow).ok());
  slots = OccupiedSlots();
  std::vector<std::uint64_t> runs;
  for (auto s : slots) {
    if (runs.empty() || runs.back() != s / 2048) runs.push_back(s / 2048);
  }
  EXPECT_EQ(runs.size(), 2u);
  // A burst of 3,000 tokens with one expiry overflows its run of 2,048: spills, nothing lost.
  for (int i = 1000; i < 4000; ++i) {
    ASSERT_EQ(Outcome(reg->Use(Digest(i), kNow + 100, kNow)), "first") << i;
  }
  for (int i = 1000; i < 4000; ++i) {
    ASSERT_EQ(Outcome(reg->Use(Digest(i), kNow + 100, kNow + 1)), "used") << i;
  }
  for (int i = 0; i < 600; ++i) {
    EXPECT_EQ(*reg->UseIfIssued(Digest(i), i < 500 ? kNow + 60 : kNow + 68, kNow),
              IssuedUse::kFirstUse);
    EXPECT_TRUE(*reg->Recorded(Digest(i), i < 500 ? kNow + 60 : kNow + 68, kNow));
  }
  EXPECT_FALSE(*reg->Recorded(Digest(99'999), kNow + 60, kNow));
}

// Files of format version 1 (before shards) are still read, as one shard: uses recorded in them
// keep being found.
TEST_F(SingleUseShardTest, Version1FilesAreReadAsOneShard) {
  {
    auto reg = Open(kMinSingleUseSlots * 4);
    ASSERT_NE(reg, nullptr);
  }
  auto rewrite_header = [&](std::uint32_t version, std::uint32_t shards) {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    std::array<char, 40> h;
    f.read(h.data(), h.size());
    std::memcpy(h.data() + 8, &version, 4);
    std::memcpy(h.data() + 28, &shards, 4);
    const Sha256Digest sum = Sha256(std::string_view(h.data(), 32));
    std::memcpy(h.data() + 32, sum.data(), 8);
    f.seekp(0);
    f.write(h.data(), h.size());
  };
  rewrite_header(1, 0);
  {
    auto reg = Open(kMinSingleUseSlots * 4);
    ASSERT_NE(reg, nullptr);
    for (int i = 0; i < 50; ++i) {
      // Home slots as in version 1: anywhere in the table, from the digest alone.
      const std::uint64_t home = static_cast<std::uint64_t>(i) * 80;
      ASSERT_EQ(Outcome(reg->Use(Digest(i, home), kNow + 60, kNow)), "first");
    }
  }
  auto slots = OccupiedSlots();
  ASSERT_EQ(slots.size(), 50u);
  EXPECT_EQ(slots.back(), 49u * 80);
  {
    auto reg = Open(kMinSingleUseSlots * 4);
    ASSERT_NE(reg, nullptr);
    for (int i = 0; i < 50; ++i) {
      EXPECT_EQ(Outcome(reg->Use(Digest(i, static_cast<std::uint64_t>(i) * 80), kNow + 60, kNow)),
                "used");
    }
  }
  rewrite_header(1, 4);  // a shard count in a version 1 file: not something we wrote
  EXPECT_EQ(OpenError(kMinSingleUseSlots * 4).code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace arbiter::grants
