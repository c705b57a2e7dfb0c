// The evidence committer: indices assigned at enqueue are the ledger's, every waiter completes
// once its entry is durable, concurrent writers share group commits, Stop commits what is queued,
// and a ledger that stops matching (another writer) fails every waiter instead of acknowledging.
#include "arbiter/server/evidence_committer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "arbiter/common/bytes.h"

namespace arbiter::server {
namespace {

namespace fs = std::filesystem;

class EvidenceCommitterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "arbiter_committer_XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    ledger::LedgerOptions o;
    o.data_dir = dir_;
    o.origin = "test.example/ledger";
    auto l = ledger::Ledger::Open(o);
    ASSERT_TRUE(l.has_value()) << l.error().ToString();
    ledger_ = std::move(*l);
  }
  void TearDown() override {
    ledger_.reset();
    fs::remove_all(dir_);
  }
  std::string Entry(const Bytes& b) { return std::string(AsChars(b)); }

  std::string dir_;
  std::unique_ptr<ledger::Ledger> ledger_;
};

TEST_F(EvidenceCommitterTest, ConcurrentEntriesAreDurableAtTheirIndices) {
  ASSERT_TRUE(ledger_->Append(AsBytes(std::string_view("before"))).has_value());
  auto c = EvidenceCommitter::Start(ledger_.get());
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  auto& committer = **c;

  constexpr int kThreads = 8, kEach = 200;
  std::atomic<int> completed{0}, failed{0};
  std::vector<std::vector<std::pair<std::uint64_t, std::string>>> written(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::string e = "entry " + std::to_string(t) + "/" + std::to_string(i);
        RequestEvidence::Begin();
        auto index = committer.Enqueue(e);
        ASSERT_TRUE(index.has_value());
        EXPECT_EQ(RequestEvidence::Last(), *index);
        written[t].emplace_back(*index, e);
        committer.OnDurable(*index, [&](Status s) { (s.ok() ? completed : failed)++; });
      }
    });
  }
  for (auto& t : threads) t.join();
  const std::uint64_t last = written[0].back().first;
  ASSERT_TRUE(committer.WaitDurable(last, std::chrono::seconds(10)).ok());
  committer.Stop();
  EXPECT_EQ(completed.load(), kThreads * kEach);
  EXPECT_EQ(failed.load(), 0);
  CommitterStats stats = committer.Stats();
  EXPECT_EQ(stats.durable, static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_LT(stats.batches, stats.durable);  // group commit: fewer transactions than entries

  // Index 0 was the ledger's own; every enqueued entry is where the committer said it would be.
  for (const auto& w : written) {
    for (const auto& [index, text] : w) {
      EXPECT_GE(index, 1u);
      auto got = ledger_->Entry(index);
      ASSERT_TRUE(got.has_value()) << index;
      EXPECT_EQ(Entry(*got), text);
    }
  }
  // After Stop nothing more is accepted, and a waiter on a durable index completes at once.
  EXPECT_FALSE(committer.Enqueue("late").has_value());
  std::promise<Status> p;
  committer.OnDurable(1, [&](Status s) { p.set_value(s); });
  EXPECT_TRUE(p.get_future().get().ok());
}

TEST_F(EvidenceCommitterTest, StopCommitsWhatIsQueued) {
  auto c = EvidenceCommitter::Start(ledger_.get());
  ASSERT_TRUE(c.has_value());
  std::uint64_t last = 0;
  for (int i = 0; i < 100; ++i) last = *(*c)->Enqueue("e" + std::to_string(i));
  (*c)->Stop();
  EXPECT_EQ(ledger_->Stats().sequenced, last + 1);
}

TEST_F(EvidenceCommitterTest, AnotherWriterFailsWaitersInsteadOfAcknowledging) {
  auto c = EvidenceCommitter::Start(ledger_.get());
  ASSERT_TRUE(c.has_value());
  auto& committer = **c;
  auto first = committer.Enqueue("one");
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(committer.WaitDurable(*first, std::chrono::seconds(10)).ok());
  // Someone appends behind the committer's back: the next batch lands at another index.
  ASSERT_TRUE(ledger_->Append(AsBytes(std::string_view("intruder"))).has_value());
  auto second = committer.Enqueue("two");
  ASSERT_TRUE(second.has_value());
  Status s = committer.WaitDurable(*second, std::chrono::seconds(10));
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_FALSE(committer.health().ok());
  auto third = committer.Enqueue("three");
  EXPECT_FALSE(third.has_value());
  std::promise<Status> p;
  committer.OnDurable(*second, [&](Status st) { p.set_value(st); });
  EXPECT_FALSE(p.get_future().get().ok());
}

TEST_F(EvidenceCommitterTest, OversizedEntriesAndUnknownIndicesAreRefused) {
  auto c = EvidenceCommitter::Start(ledger_.get());
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ((*c)->Enqueue(std::string(ledger::kMaxEntrySize + 1, 'x')).error().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ((*c)->WaitDurable(1000, std::chrono::milliseconds(10)).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE((*c)->health().ok());
}

}  // namespace
// With a pace, entries queued while a paced batch waits share it: a batch starts at most once
// per pace (or at once when kPacedBatchEntries are queued), and every entry still becomes durable.
TEST_F(EvidenceCommitterTest, PacedBatchesGatherWhatIsQueuedMeanwhile) {
  auto c = EvidenceCommitter::Start(ledger_.get(), {.pace = std::chrono::milliseconds(200)});
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  auto& committer = **c;
  auto first = committer.Enqueue("first");
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(committer.WaitDurable(*first, std::chrono::seconds(5)).ok());
  EXPECT_EQ(committer.Stats().batches, 1u);

  // The next batch waits out the pace: all three entries land in it.
  std::vector<std::uint64_t> indices;
  for (const char* e : {"a", "b", "c"}) {
    auto index = committer.Enqueue(e);
    ASSERT_TRUE(index.has_value());
    indices.push_back(*index);
  }
  for (std::uint64_t index : indices) {
    ASSERT_TRUE(committer.WaitDurable(index, std::chrono::seconds(5)).ok());
  }
  EXPECT_EQ(committer.Stats().batches, 2u);
  EXPECT_EQ(committer.Stats().max_batch, 3u);

  // A full batch does not wait for the pace (nor does anything get lost when one fills).
  std::uint64_t last = 0;
  for (size_t i = 0; i < EvidenceCommitter::kPacedBatchEntries; ++i) {
    auto index = committer.Enqueue("entry " + std::to_string(i));
    ASSERT_TRUE(index.has_value());
    last = *index;
  }
  ASSERT_TRUE(committer.WaitDurable(last, std::chrono::seconds(5)).ok());
  EXPECT_EQ(committer.Stats().durable, 4u + EvidenceCommitter::kPacedBatchEntries);
  auto read = ledger_->Entry(indices[1]);
  ASSERT_TRUE(read.has_value()) << read.error().ToString();
  EXPECT_EQ(std::string(AsChars(*read)), "b");
}

}  // namespace arbiter::server
