// The Ledger API: appends, receipts, proofs, tiles, restart and concurrency.
#include "arbiter/ledger/ledger.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "arbiter/ledger/tiles.h"
#include "arbiter/ledger/verify.h"
#include "ledger/test_util.h"

namespace arbiter::ledger {
namespace {

using testing::TempDir;
using namespace std::chrono_literals;

constexpr char kOrigin[] = "test.arbiter.example/ledger";

LedgerOptions Options(const TempDir& dir) {
  LedgerOptions o;
  o.data_dir = dir.path();
  o.origin = kOrigin;
  o.integration_interval = 5ms;
  return o;
}

std::string EntryText(std::uint64_t i) { return "{\"evidence\":" + std::to_string(i) + "}"; }

TEST(Ledger, AppendReceiptAndVerifiableProof) {
  TempDir dir;
  auto ledger = Ledger::Open(Options(dir));
  ASSERT_TRUE(ledger.has_value()) << ledger.status().ToString();
  auto& l = **ledger;
  EXPECT_EQ(l.LatestCheckpoint().error().code(), StatusCode::kNotFound);
  std::vector<std::uint64_t> indices;
  for (int i = 0; i < 10; ++i) {
    auto index = l.Append(AsBytes(EntryText(i)));
    ASSERT_TRUE(index.has_value()) << index.status().ToString();
    indices.push_back(*index);
  }
  EXPECT_EQ(indices, (std::vector<std::uint64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  auto receipt = l.WaitForReceipt(7, 5s);
  ASSERT_TRUE(receipt.has_value()) << receipt.status().ToString();
  EXPECT_EQ(receipt->index, 7u);
  EXPECT_EQ(receipt->leaf_hash, LeafHash(AsBytes(EntryText(7))));
  // The receipt is checkable by anyone holding the verifier key.
  auto vkey = *ParseVerifierKey(l.VerifierKey());
  auto cp = OpenCheckpoint(receipt->checkpoint.note, {&vkey, 1}, kOrigin);
  ASSERT_TRUE(cp.has_value()) << cp.status().ToString();
  EXPECT_GT(cp->checkpoint.size, 7u);
  EXPECT_TRUE(VerifyInclusion(receipt->leaf_hash, 7, cp->checkpoint.size, receipt->proof,
                              cp->checkpoint.root)
                  .ok());
  EXPECT_EQ(l.WaitForReceipt(10, 10ms).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(*l.Entry(3), ToBytes(EntryText(3)));
  EXPECT_EQ(l.Entry(99).error().code(), StatusCode::kNotFound);
}

// Waits for a callback that another thread completes.
struct Completion {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Status> status;
  std::thread::id thread;

  std::function<void(Status)> Callback() {
    return [this](Status s) {
      std::lock_guard lock(mu);
      status = std::move(s);
      thread = std::this_thread::get_id();
      cv.notify_all();
    };
  }
  std::optional<Status> Wait(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, timeout, [&] { return status.has_value(); });
    return status;
  }
};

TEST(Ledger, OnIntegratedCallsBackOnceTheEntryHasAReceipt) {
  TempDir dir;
  LedgerOptions options = Options(dir);
  options.integration_interval = 200ms;  // long enough that the wait is really asynchronous
  auto l = std::move(*Ledger::Open(options));
  ASSERT_TRUE(l->Append(AsBytes(EntryText(0))).has_value());
  Completion integrated;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  l->OnIntegrated(0, deadline, integrated.Callback());
  // Registered, not answered: the entry waits for its integration interval.
  EXPECT_FALSE(integrated.Wait(0ms).has_value());
  auto status = integrated.Wait(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->ok()) << status->ToString();
  EXPECT_NE(integrated.thread, std::this_thread::get_id());
  // Once called back, the receipt is there without waiting.
  auto receipt = l->WaitForReceipt(0, 0ms);
  ASSERT_TRUE(receipt.has_value()) << receipt.status().ToString();
  EXPECT_EQ(receipt->index, 0u);

  // An integrated entry is answered at once, on the caller's thread.
  Completion again;
  l->OnIntegrated(0, deadline, again.Callback());
  ASSERT_TRUE(again.Wait(0ms).has_value());
  EXPECT_TRUE(again.status->ok());
  EXPECT_EQ(again.thread, std::this_thread::get_id());

  // An index never appended is kNotFound, at once.
  Completion missing;
  l->OnIntegrated(5, deadline, missing.Callback());
  ASSERT_TRUE(missing.Wait(0ms).has_value());
  EXPECT_EQ(missing.status->code(), StatusCode::kNotFound);
}

TEST(Ledger, OnIntegratedFailsItsWaitersWhenTheLedgerCloses) {
  TempDir dir;
  LedgerOptions options = Options(dir);
  options.integration_interval = 1h;  // never integrates on its own
  options.integration_max_batch = 1000;
  auto l = std::move(*Ledger::Open(options));
  ASSERT_TRUE(l->Append(AsBytes(EntryText(0))).has_value());
  Completion waiting;
  l->OnIntegrated(0, std::chrono::steady_clock::now() + 1h, waiting.Callback());
  EXPECT_FALSE(waiting.Wait(20ms).has_value());
  l->Close();
  auto status = waiting.Wait(10s);
  ASSERT_TRUE(status.has_value());
  // Close integrates nothing more here; either way the waiter learns its fate.
  if (!status->ok()) {
    EXPECT_EQ(status->code(), StatusCode::kUnavailable) << status->ToString();
  }
  // After Close a new waiter is answered at once.
  Completion late;
  l->OnIntegrated(0, std::chrono::steady_clock::now() + 1h, late.Callback());
  EXPECT_TRUE(late.Wait(0ms).has_value());
}

TEST(Ledger, ProofsMatchAnInMemoryTreeAtEverySize) {
  TempDir dir;
  auto l = std::move(*Ledger::Open(Options(dir)));
  std::vector<Hash> leaves;
  std::vector<std::uint64_t> sizes;
  // Batches of awkward sizes so that checkpoints land inside and across tile boundaries.
  std::uint64_t next = 0;
  for (size_t batch : {1u, 2u, 250u, 3u, 300u, 255u, 1u, 70000u - 812u}) {
    std::vector<std::string> texts;
    std::vector<ByteView> views;
    for (size_t i = 0; i < batch; ++i) texts.push_back(EntryText(next++));
    for (const auto& t : texts) {
      views.push_back(AsBytes(t));
      leaves.push_back(LeafHash(AsBytes(t)));
    }
    ASSERT_TRUE(l->AppendBatch(views).has_value());
    auto cp = l->Flush();
    ASSERT_TRUE(cp.has_value()) << cp.status().ToString();
    ASSERT_EQ(cp->checkpoint.size, leaves.size());
    sizes.push_back(leaves.size());
  }
  ASSERT_EQ(leaves.size(), 70000u);
  MemoryHashSource memory(leaves);
  for (std::uint64_t size : sizes) {
    auto stored_cp = l->CheckpointAt(size);
    ASSERT_TRUE(stored_cp.has_value()) << size;
    EXPECT_EQ(stored_cp->checkpoint.root,
              RootFromLeafHashes(std::span<const Hash>(leaves).first(size)));
    EXPECT_EQ(*l->RootAt(size), stored_cp->checkpoint.root);
  }
  for (std::uint64_t size : {1ull, 3ull, 256ull, 257ull, 811ull, 65536ull, 70000ull}) {
    MemoryHashSource prefix(std::span<const Hash>(leaves).first(size));
    for (std::uint64_t index : {0ull, 1ull, 255ull, 256ull, 700ull, 65535ull, 69999ull}) {
      if (index >= size) continue;
      auto proof = l->ProveInclusion(index, size);
      ASSERT_TRUE(proof.has_value()) << proof.status().ToString();
      EXPECT_EQ(proof->path, *ProveInclusion(prefix, index, size)) << index << "@" << size;
      EXPECT_EQ(proof->leaf_hash, leaves[index]);
      EXPECT_TRUE(VerifyInclusion(leaves[index], index, size, proof->path, *l->RootAt(size)).ok());
    }
  }
  for (auto [a, b] : {std::pair<std::uint64_t, std::uint64_t>{1, 70000},
                      {3, 256},
                      {256, 257},
                      {811, 65536},
                      {65536, 70000},
                      {70000, 70000}}) {
    auto proof = l->ProveConsistency(a, b);
    ASSERT_TRUE(proof.has_value()) << proof.status().ToString();
    MemoryHashSource prefix(std::span<const Hash>(leaves).first(b));
    EXPECT_EQ(*proof, *ProveConsistency(prefix, a, b));
    EXPECT_TRUE(VerifyConsistency(a, b, *proof, *l->RootAt(a), *l->RootAt(b)).ok());
  }
  auto by_hash = l->ProveInclusionByLeafHash(leaves[4242], 0);
  ASSERT_TRUE(by_hash.has_value()) << by_hash.status().ToString();
  EXPECT_EQ(by_hash->index, 4242u);
  EXPECT_EQ(by_hash->tree_size, 70000u);
  EXPECT_EQ(l->ProveInclusionByLeafHash(LeafHash(AsBytes("absent")), 0).error().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(l->ProveInclusionByLeafHash(leaves[4242], 4242).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(l->ProveInclusion(0, 70001).error().code(), StatusCode::kOutOfRange);
  EXPECT_EQ(l->ProveConsistency(0, 5).error().code(), StatusCode::kInvalidArgument);

  // Tiles by C2SP path: level 0 holds leaf hashes, level 1 the roots of full level-0 tiles.
  auto t0 = l->ReadTilePath("tile/0/273.p/112");
  ASSERT_TRUE(t0.has_value()) << t0.status().ToString();
  ASSERT_EQ(t0->size(), 112u * 32);
  EXPECT_TRUE(std::equal(leaves[273 * 256].begin(), leaves[273 * 256].end(), t0->begin()));
  auto t1 = l->ReadTilePath("tile/1/001.p/17");
  ASSERT_TRUE(t1.has_value());
  const Hash second_level1 = *RangeHash(memory, 256 * 256 + 256, 256 * 256 + 512);
  EXPECT_TRUE(std::equal(second_level1.begin(), second_level1.end(), t1->begin() + 32));
  auto t2 = l->ReadTilePath("tile/2/000.p/1");
  ASSERT_TRUE(t2.has_value());
  const Hash first_65536 = *RangeHash(memory, 0, 65536);
  EXPECT_TRUE(std::equal(first_65536.begin(), first_65536.end(), t2->begin()));
  EXPECT_EQ(l->ReadTilePath("tile/0/000")->size(), 8192u);
  EXPECT_EQ(l->ReadTilePath("tile/0/273.p/5")->size(), 160u);  // any smaller width is a prefix
  EXPECT_EQ(l->ReadTilePath("tile/0/273.p/113").error().code(), StatusCode::kNotFound);
  EXPECT_EQ(l->ReadTilePath("tile/0/273").error().code(), StatusCode::kNotFound);
  EXPECT_EQ(l->ReadTilePath("tile/0/274.p/1").error().code(), StatusCode::kNotFound);
  EXPECT_EQ(l->ReadTilePath("tile/x").error().code(), StatusCode::kInvalidArgument);
  auto bundle = l->ReadTilePath("tile/entries/001.p/2");
  ASSERT_TRUE(bundle.has_value());
  Bytes want;
  for (int i : {256, 257}) {
    const std::string t = EntryText(static_cast<std::uint64_t>(i));
    want.push_back(static_cast<std::uint8_t>(t.size() >> 8));
    want.push_back(static_cast<std::uint8_t>(t.size()));
    want.insert(want.end(), t.begin(), t.end());
  }
  EXPECT_EQ(*bundle, want);
  EXPECT_EQ(AsChars(*l->ReadTilePath("checkpoint")), l->LatestCheckpoint()->note);
}

TEST(Ledger, RestartKeepsKeyEntriesAndCheckpoints) {
  TempDir dir;
  std::string vkey;
  SignedCheckpoint before;
  {
    auto l = std::move(*Ledger::Open(Options(dir)));
    vkey = l->VerifierKey();
    std::vector<std::string> texts;
    for (int i = 0; i < 600; ++i) texts.push_back(EntryText(i));
    std::vector<ByteView> views(texts.size());
    std::transform(texts.begin(), texts.end(), views.begin(), [](auto& t) { return AsBytes(t); });
    ASSERT_EQ(*l->AppendBatch(std::span(views).first(10)), 0u);
    ASSERT_EQ(*l->AppendBatch(std::span(views).subspan(10)), 10u);
    before = *l->Flush();
  }
  auto l = std::move(*Ledger::Open(Options(dir)));
  EXPECT_EQ(l->VerifierKey(), vkey);
  EXPECT_EQ(l->LatestCheckpoint()->note, before.note);
  EXPECT_EQ(*l->Append(AsBytes("after restart")), 600u);
  auto r = l->WaitForReceipt(600, 5s);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->checkpoint.checkpoint.size, 601u);
  auto proof = l->ProveConsistency(600, 601);
  ASSERT_TRUE(proof.has_value());
  EXPECT_TRUE(
      VerifyConsistency(600, 601, *proof, before.checkpoint.root, r->checkpoint.checkpoint.root)
          .ok());
  l->Close();
  auto report = VerifyLedgerDir(dir.path());
  ASSERT_TRUE(report.has_value()) << report.status().ToString();
  EXPECT_TRUE(report->ok()) << report->problems.front().message;
  EXPECT_EQ(report->entries, 601u);

  // Another origin for the same directory is refused, and so is a bad origin.
  LedgerOptions other = Options(dir);
  other.origin = "other.example/log";
  EXPECT_EQ(Ledger::Open(other).error().code(), StatusCode::kInvalidArgument);
  other.origin = "has space";
  EXPECT_EQ(Ledger::Open(other).error().code(), StatusCode::kInvalidArgument);
  // Read-only mode serves proofs and refuses appends.
  LedgerOptions ro;
  ro.data_dir = dir.path();
  ro.read_only = true;
  auto reader = Ledger::Open(ro);
  ASSERT_TRUE(reader.has_value()) << reader.status().ToString();
  EXPECT_EQ((*reader)->Origin(), kOrigin);
  EXPECT_EQ((*reader)->LatestCheckpoint()->checkpoint.size, 601u);
  EXPECT_EQ((*reader)->Append(AsBytes("x")).error().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE((*reader)->ProveInclusion(5, 0).has_value());
}

TEST(Ledger, RejectsOversizedAndEmptyBatches) {
  TempDir dir;
  auto l = std::move(*Ledger::Open(Options(dir)));
  std::string big(kMaxEntrySize + 1, 'x');
  EXPECT_EQ(l->Append(AsBytes(big)).error().code(), StatusCode::kInvalidArgument);
  std::string max(kMaxEntrySize, 'x');
  EXPECT_EQ(*l->Append(AsBytes(max)), 0u);
  EXPECT_EQ(*l->Append(ByteView()), 1u);  // empty entries are allowed
  EXPECT_EQ(l->AppendBatch({}).error().code(), StatusCode::kInvalidArgument);
  auto r = l->WaitForReceipt(1, 5s);
  ASSERT_TRUE(r.has_value());
  auto bundle = l->ReadTilePath("tile/entries/000.p/2");
  ASSERT_TRUE(bundle.has_value());
  EXPECT_EQ(bundle->size(), 2 + kMaxEntrySize + 2);
  EXPECT_EQ((*bundle)[0], 0xff);
  EXPECT_EQ((*bundle)[1], 0xff);
}

TEST(Ledger, ConcurrentAppendersGetDistinctDurableIndices) {
  TempDir dir;
  LedgerOptions o = Options(dir);
  o.integration_max_batch = 500;
  auto l = std::move(*Ledger::Open(o));
  constexpr int kThreads = 8;
  constexpr int kPerThread = 300;
  std::vector<std::vector<std::pair<std::uint64_t, std::string>>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string text = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto index = l->Append(AsBytes(text));
        ASSERT_TRUE(index.has_value());
        got[t].emplace_back(*index, text);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<bool> seen(kThreads * kPerThread, false);
  for (const auto& list : got) {
    std::uint64_t last = 0;
    for (size_t k = 0; k < list.size(); ++k) {
      const auto& [index, text] = list[k];
      ASSERT_LT(index, seen.size());
      EXPECT_FALSE(seen[index]);
      seen[index] = true;
      if (k > 0) {
        EXPECT_GT(index, last);  // one thread's appends keep their order
      }
      last = index;
      EXPECT_EQ(*l->Entry(index), ToBytes(text));
    }
  }
  auto r = l->WaitForReceipt(kThreads * kPerThread - 1, 10s);
  ASSERT_TRUE(r.has_value()) << r.status().ToString();
  EXPECT_LT(l->Stats().group_commits, static_cast<std::uint64_t>(kThreads * kPerThread));
  l->Close();
  auto report = VerifyLedgerDir(dir.path());
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->ok());
  EXPECT_GE(report->checkpoints, 2u);
}

TEST(Ledger, IntegratesOnBatchSizeOrInterval) {
  TempDir dir;
  LedgerOptions o = Options(dir);
  o.integration_interval = 1000ms;
  o.integration_max_batch = 10;
  auto l = std::move(*Ledger::Open(o));
  std::vector<std::string> texts;
  for (int i = 0; i < 25; ++i) texts.push_back(EntryText(static_cast<std::uint64_t>(i)));
  std::vector<ByteView> views;
  for (const auto& t : texts) views.push_back(AsBytes(t));
  // Five entries wait for the interval...
  ASSERT_TRUE(l->AppendBatch(std::span(views).first(5)).has_value());
  EXPECT_EQ(l->WaitForReceipt(4, 100ms).error().code(), StatusCode::kUnavailable);
  auto r = l->WaitForReceipt(4, 5s);
  ASSERT_TRUE(r.has_value()) << r.status().ToString();
  EXPECT_EQ(r->checkpoint.checkpoint.size, 5u);
  // ... a full batch does not, and integrates in steps of at most 10.
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(l->AppendBatch(std::span(views).subspan(5)).has_value());
  ASSERT_TRUE(l->WaitForReceipt(14, 5s).has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 700ms);  // well below the interval
  EXPECT_TRUE(l->CheckpointAt(15).has_value());
  EXPECT_TRUE(l->CheckpointAt(25).has_value() || l->WaitForReceipt(24, 5s).has_value());
  EXPECT_EQ(l->CheckpointAt(20).error().code(), StatusCode::kNotFound);
}

TEST(Ledger, VerifierKeyFileIsPrivate) {
  TempDir dir;
  auto l = std::move(*Ledger::Open(Options(dir)));
  const auto perms = std::filesystem::status(dir.path() / kLedgerKeyFile).permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  EXPECT_EQ(*ReadVerifierKey(dir.path()), l->VerifierKey());
  EXPECT_EQ(l->VerifierKey().rfind(std::string(kOrigin) + "+", 0), 0u);
}

}  // namespace
}  // namespace arbiter::ledger
