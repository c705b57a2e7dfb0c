// The two-file store: appends write ledger.db, the integrator writes ledger-tree.db, and neither
// waits for the other; a single-file ledger (before the split) is migrated or read in place; a
// split ledger missing its tree file is refused.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "arbiter/ledger/ledger.h"
#include "arbiter/ledger/sqlite_store.h"
#include "arbiter/ledger/verify.h"
#include "arbiter/store/sqlite.h"
#include "ledger/test_util.h"

namespace arbiter::ledger {
namespace {

using testing::TempDir;
using namespace std::chrono_literals;

constexpr char kOrigin[] = "split.arbiter.example/ledger";

LedgerOptions Options(const TempDir& dir) {
  LedgerOptions o;
  o.data_dir = dir.path();
  o.origin = kOrigin;
  o.integration_interval = 2ms;
  return o;
}

// Appends `count` entries in batches of 50, each batch integrated (one checkpoint per batch).
void Fill(Ledger& l, std::uint64_t count) {
  for (std::uint64_t done = 0; done < count; done += 50) {
    std::vector<std::string> texts;
    for (std::uint64_t i = done; i < std::min(count, done + 50); ++i) {
      texts.push_back("{\"n\":" + std::to_string(i) + "}");
    }
    std::vector<ByteView> views;
    for (const auto& t : texts) views.push_back(AsBytes(t));
    ASSERT_TRUE(l.AppendBatch(views).has_value());
    ASSERT_TRUE(l.Flush().has_value());
  }
}

void RemoveDb(const std::filesystem::path& db) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(db.string() + suffix);
  }
}

std::int64_t Count(store::SqliteDb& db, const std::string& sql) {
  auto stmt = db.Prepare(sql);
  EXPECT_TRUE(stmt.has_value()) << sql;
  auto row = stmt->Step();
  EXPECT_TRUE(row.has_value() && *row) << sql;
  return stmt->ColumnInt64(0);
}

// Rewrites a split ledger in `dir` into the single-file layout of earlier versions: tree tables
// copied back into ledger.db, the split mark removed, ledger-tree.db deleted (after saving a copy
// at `keep` when given).
void MakeSingleFile(const TempDir& dir, const std::filesystem::path& keep = {}) {
  {
    auto db = *store::SqliteDb::Open(dir.path() / kLedgerDbFile);
    auto attach = *db->Prepare("ATTACH DATABASE ?1 AS tree");
    attach.Bind(1, (dir.path() / kLedgerTreeDbFile).string());
    ASSERT_TRUE(attach.Run().ok());
    ASSERT_TRUE(
        db->Exec("INSERT INTO main.ledger_tiles SELECT * FROM tree.ledger_tiles;"
                 "INSERT INTO main.ledger_leaves SELECT * FROM tree.ledger_leaves;"
                 "INSERT INTO main.ledger_checkpoints SELECT * FROM tree.ledger_checkpoints;"
                 "DELETE FROM main.ledger_meta WHERE key = 'tree_file';")
            .ok());
    ASSERT_TRUE(db->Exec("DETACH DATABASE tree").ok());
  }
  if (!keep.empty()) {
    auto tree = *store::SqliteDb::Open(dir.path() / kLedgerTreeDbFile);
    auto into = *tree->Prepare("VACUUM INTO ?1");
    into.Bind(1, keep.string());
    ASSERT_TRUE(into.Run().ok());
  }
  RemoveDb(dir.path() / kLedgerTreeDbFile);
}

TEST(LedgerSplitStore, AppendsCompleteWhileTheTreeFileIsLocked) {
  for (const bool sync_appends : {true, false}) {
    SCOPED_TRACE(sync_appends ? "fsync acknowledgement" : "written acknowledgement");
    TempDir dir;
    LedgerOptions o = Options(dir);
    o.sync_appends = sync_appends;
    auto l = std::move(*Ledger::Open(o));
    ASSERT_TRUE(l->Append(AsBytes("first")).has_value());
    ASSERT_TRUE(l->Flush().has_value());

    // Another connection holds the tree file's write lock, as a long integration commit would.
    auto blocker = *store::SqliteDb::Open(dir.path() / kLedgerTreeDbFile);
    ASSERT_TRUE(blocker->Begin().ok());
    ASSERT_TRUE(blocker->Exec("DELETE FROM ledger_leaves WHERE prefix = 0 AND idx = -1").ok());

    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) {
      auto index = l->Append(AsBytes("entry " + std::to_string(i)));
      ASSERT_TRUE(index.has_value()) << index.status().ToString();
      EXPECT_EQ(*index, 1u + static_cast<std::uint64_t>(i));
    }
    // Well under the store's 5 s busy timeout: the appends never touched the locked file.
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    // ... while integration cannot finish: no receipt yet.
    auto early = l->WaitForReceipt(20, 100ms);
    ASSERT_FALSE(early.has_value());
    EXPECT_EQ(early.error().code(), StatusCode::kUnavailable);
    EXPECT_EQ(l->Stats().integrated, 1u);

    ASSERT_TRUE(blocker->Rollback().ok());
    auto receipt = l->WaitForReceipt(20, 10s);
    ASSERT_TRUE(receipt.has_value()) << receipt.status().ToString();
    EXPECT_TRUE(VerifyInclusion(receipt->leaf_hash, 20, receipt->checkpoint.checkpoint.size,
                                receipt->proof, receipt->checkpoint.checkpoint.root)
                    .ok());
    l->Close();
    auto report = VerifyLedgerDir(dir.path());
    ASSERT_TRUE(report.has_value()) << report.status().ToString();
    EXPECT_TRUE(report->ok()) << report->problems.front().message;
    EXPECT_EQ(report->entries, 21u);
  }
}

TEST(LedgerSplitStore, SingleFileLedgerIsReadInPlaceAndMigratedOnWritableOpen) {
  TempDir dir;
  SignedCheckpoint before;
  {
    auto l = std::move(*Ledger::Open(Options(dir)));
    Fill(*l, 300);
    before = *l->LatestCheckpoint();
    l->Close();
  }
  MakeSingleFile(dir);
  const auto tree_path = dir.path() / kLedgerTreeDbFile;
  ASSERT_FALSE(std::filesystem::exists(tree_path));

  // Read-only tools read the old layout as it is and create nothing.
  auto report = VerifyLedgerDir(dir.path());
  ASSERT_TRUE(report.has_value()) << report.status().ToString();
  EXPECT_TRUE(report->ok()) << report->problems.front().message;
  EXPECT_EQ(report->entries, 300u);
  EXPECT_EQ(report->checkpoints, 6u);
  EXPECT_FALSE(std::filesystem::exists(tree_path));

  // A writable open moves the tree into its own file and carries on from the same checkpoint.
  auto l = Ledger::Open(Options(dir));
  ASSERT_TRUE(l.has_value()) << l.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(tree_path));
  auto latest = (*l)->LatestCheckpoint();
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(latest->note, before.note);
  {
    auto db = *store::SqliteDb::Open(dir.path() / kLedgerDbFile);
    EXPECT_EQ(Count(*db, "SELECT count(*) FROM ledger_checkpoints"), 0);
    EXPECT_EQ(Count(*db, "SELECT count(*) FROM ledger_tiles"), 0);
    EXPECT_EQ(Count(*db, "SELECT count(*) FROM ledger_leaves"), 0);
    EXPECT_EQ(Count(*db,
                    "SELECT count(*) FROM ledger_meta WHERE key = 'tree_file' AND value = "
                    "'ledger-tree.db'"),
              1);
  }
  Fill(**l, 100);
  auto proof = (*l)->ProveInclusion(7, 0);
  ASSERT_TRUE(proof.has_value());
  EXPECT_TRUE(VerifyInclusion(LeafHash(*(*l)->Entry(7)), 7, proof->tree_size, proof->path,
                              (*l)->LatestCheckpoint()->checkpoint.root)
                  .ok());
  auto consistency = (*l)->ProveConsistency(before.checkpoint.size, 400);
  ASSERT_TRUE(consistency.has_value());
  EXPECT_TRUE(VerifyConsistency(before.checkpoint.size, 400, *consistency, before.checkpoint.root,
                                (*l)->LatestCheckpoint()->checkpoint.root)
                  .ok());
  (*l)->Close();
  report = VerifyLedgerDir(dir.path());
  ASSERT_TRUE(report.has_value()) << report.status().ToString();
  EXPECT_TRUE(report->ok()) << report->problems.front().message;
  EXPECT_EQ(report->entries, 400u);
  EXPECT_EQ(report->checkpoints, 8u);
}

TEST(LedgerSplitStore, MigrationInterruptedAfterTheCopyCompletesOnNextOpen) {
  TempDir dir;
  {
    auto l = std::move(*Ledger::Open(Options(dir)));
    Fill(*l, 150);
    l->Close();
  }
  // The state a crash leaves between the two migration transactions: the tree file holds the
  // copy, ledger.db still holds the old rows and no split mark.
  const auto saved = dir.path() / "saved-tree.db";
  MakeSingleFile(dir, saved);
  std::filesystem::rename(saved, dir.path() / kLedgerTreeDbFile);

  auto l = Ledger::Open(Options(dir));
  ASSERT_TRUE(l.has_value()) << l.status().ToString();
  EXPECT_EQ((*l)->LatestCheckpoint()->checkpoint.size, 150u);
  Fill(**l, 50);
  (*l)->Close();
  {
    auto db = *store::SqliteDb::Open(dir.path() / kLedgerDbFile);
    EXPECT_EQ(Count(*db, "SELECT count(*) FROM ledger_checkpoints"), 0);
  }
  auto report = VerifyLedgerDir(dir.path());
  ASSERT_TRUE(report.has_value()) << report.status().ToString();
  EXPECT_TRUE(report->ok()) << report->problems.front().message;
  EXPECT_EQ(report->entries, 200u);
}

TEST(LedgerSplitStore, MissingTreeFileIsRefusedNotRebuilt) {
  TempDir dir;
  {
    auto l = std::move(*Ledger::Open(Options(dir)));
    Fill(*l, 60);
    l->Close();
  }
  RemoveDb(dir.path() / kLedgerTreeDbFile);

  auto writable = Ledger::Open(Options(dir));
  ASSERT_FALSE(writable.has_value());
  EXPECT_EQ(writable.error().code(), StatusCode::kDataLoss);
  EXPECT_NE(writable.error().message().find("ledger-tree.db` is missing"), std::string::npos)
      << writable.error().message();
  EXPECT_FALSE(std::filesystem::exists(dir.path() / kLedgerTreeDbFile));

  LedgerOptions ro;
  ro.data_dir = dir.path();
  ro.read_only = true;
  auto read_only = Ledger::Open(ro);
  ASSERT_FALSE(read_only.has_value());
  EXPECT_EQ(read_only.error().code(), StatusCode::kDataLoss);
  auto report = VerifyLedgerDir(dir.path());
  ASSERT_FALSE(report.has_value());
  EXPECT_EQ(report.error().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace arbiter::ledger
