// Tampering with a stored ledger (issue 5 §8): flip a byte of an entry, of a stored hash and of a
// checkpoint; delete an entry; swap two. Full verification must catch each and name the index.
#include <gtest/gtest.h>

#include <algorithm>

#include "arbiter/ledger/ledger.h"
#include "arbiter/ledger/verify.h"
#include "arbiter/store/sqlite.h"
#include "ledger/test_util.h"

namespace arbiter::ledger {
namespace {

using testing::TempDir;
using namespace std::chrono_literals;

constexpr std::uint64_t kEntries = 1000;

class TamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LedgerOptions o;
    o.data_dir = dir_.path();
    o.origin = "tamper.example/log";
    auto l = std::move(*Ledger::Open(o));
    std::uint64_t next = 0;
    // Several checkpoints: 100, 356, 700, 1000.
    for (std::uint64_t end : {100u, 356u, 700u, 1000u}) {
      std::vector<std::string> texts;
      for (; next < end; ++next) texts.push_back("{\"record\":" + std::to_string(next) + "}");
      std::vector<ByteView> views;
      for (const auto& t : texts) views.push_back(AsBytes(t));
      ASSERT_TRUE(l->AppendBatch(views).has_value());
      ASSERT_TRUE(l->Flush().has_value());
    }
    l->Close();
    auto db = store::SqliteDb::Open(dir_.path() / kLedgerDbFile);
    ASSERT_TRUE(db.has_value());
    db_ = std::move(*db);
    // The ledger writes one row per group commit; one row per entry is just as valid and lets
    // each test edit single entries.
    testing::ExplodeEntryRuns(*db_);
    auto tree = store::SqliteDb::Open(dir_.path() / kLedgerTreeDbFile);
    ASSERT_TRUE(tree.has_value());
    tree_ = std::move(*tree);
  }

  // Tiles and checkpoints live in the tree file, entries in ledger.db.
  store::SqliteDb& DbFor(const std::string& sql) {
    const bool tree = sql.find("ledger_tiles") != std::string::npos ||
                      sql.find("ledger_checkpoints") != std::string::npos;
    return tree ? *tree_ : *db_;
  }

  VerifyReport Verify() {
    auto report = VerifyLedgerDir(dir_.path());
    EXPECT_TRUE(report.has_value()) << report.status().ToString();
    return report.value_or(VerifyReport{});
  }

  void Exec(const std::string& sql) { ASSERT_TRUE(DbFor(sql).Exec(sql).ok()) << sql; }

  Bytes ReadBlob(const std::string& sql) {
    auto stmt = DbFor(sql).Prepare(sql);
    EXPECT_TRUE(stmt.has_value());
    auto row = stmt->Step();
    EXPECT_TRUE(row.has_value() && *row) << sql;
    return stmt->ColumnBlob(0);
  }

  void WriteBlob(const std::string& sql, ByteView blob) {
    auto stmt = DbFor(sql).Prepare(sql);
    ASSERT_TRUE(stmt.has_value());
    stmt->Bind(1, blob);
    ASSERT_TRUE(stmt->Run().ok()) << sql;
  }

  static std::vector<std::pair<ProblemKind, std::uint64_t>> Kinds(const VerifyReport& r) {
    std::vector<std::pair<ProblemKind, std::uint64_t>> out;
    for (const auto& p : r.problems) out.emplace_back(p.kind, p.index);
    return out;
  }

  static bool Has(const VerifyReport& r, ProblemKind kind, std::uint64_t index) {
    return std::any_of(r.problems.begin(), r.problems.end(),
                       [&](const VerifyProblem& p) { return p.kind == kind && p.index == index; });
  }

  TempDir dir_;
  std::unique_ptr<store::SqliteDb> db_;    // ledger.db
  std::unique_ptr<store::SqliteDb> tree_;  // ledger-tree.db
};

TEST_F(TamperTest, UntouchedLedgerVerifies) {
  const VerifyReport r = Verify();
  EXPECT_TRUE(r.ok()) << r.problems.front().message;
  EXPECT_EQ(r.entries, kEntries);
  EXPECT_EQ(r.checkpoints, 4u);
  EXPECT_EQ(r.latest_size, kEntries);
  EXPECT_EQ(r.origin, "tamper.example/log");
}

TEST_F(TamperTest, FlippedEntryByteIsReportedByIndex) {
  Bytes e = ReadBlob("SELECT data FROM ledger_entries WHERE first = 500");
  e[2 + 3] ^= 0x01;  // after the 2-byte length
  WriteBlob("UPDATE ledger_entries SET data = ?1 WHERE first = 500", e);
  const VerifyReport r = Verify();
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(Has(r, ProblemKind::kEntryModified, 500)) << r.problems.front().message;
  // The signed root at 700 and 1000 no longer matches what the entries give.
  EXPECT_TRUE(Has(r, ProblemKind::kCheckpointRoot, 700));
  EXPECT_TRUE(Has(r, ProblemKind::kCheckpointRoot, 1000));
  EXPECT_FALSE(Has(r, ProblemKind::kCheckpointRoot, 356));
}

TEST_F(TamperTest, UntouchedExplodedLayoutStillVerifies) {
  const VerifyReport r = Verify();
  EXPECT_TRUE(r.ok()) << r.problems.front().message;
}

TEST_F(TamperTest, MalformedRunIsReportedAndTheRestStillChecked) {
  // A length that runs past the end of the row.
  Bytes e = ReadBlob("SELECT data FROM ledger_entries WHERE first = 42");
  e[0] = 0x7f;
  WriteBlob("UPDATE ledger_entries SET data = ?1 WHERE first = 42", e);
  Bytes f = ReadBlob("SELECT data FROM ledger_entries WHERE first = 800");
  f[2] ^= 0x20;
  WriteBlob("UPDATE ledger_entries SET data = ?1 WHERE first = 800", f);
  const VerifyReport r = Verify();
  EXPECT_TRUE(Has(r, ProblemKind::kEntryModified, 42));
  EXPECT_NE(r.problems.at(0).message.find("starting at 42 is malformed"), std::string::npos)
      << r.problems.at(0).message;
  EXPECT_TRUE(Has(r, ProblemKind::kEntryModified, 800));
  // Entry 42 is re-hashed from the stored tree, so no checkpoint root fails before 800.
  EXPECT_FALSE(Has(r, ProblemKind::kCheckpointRoot, 100));
  EXPECT_TRUE(Has(r, ProblemKind::kCheckpointRoot, 1000));
}

TEST_F(TamperTest, FlippedStoredLeafHashIsACorruptTileNotAModifiedEntry) {
  Bytes t = ReadBlob("SELECT hashes FROM ledger_tiles WHERE level = 0 AND idx = 1");
  t[3 * 32 + 7] ^= 0x80;  // the leaf hash of entry 259
  WriteBlob("UPDATE ledger_tiles SET hashes = ?1 WHERE level = 0 AND idx = 1", t);
  const VerifyReport r = Verify();
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(Has(r, ProblemKind::kTileCorrupt, 1)) << r.problems.front().message;
  for (const auto& p : r.problems) {
    EXPECT_NE(p.kind, ProblemKind::kEntryModified) << p.message;
    EXPECT_NE(p.kind, ProblemKind::kCheckpointRoot) << p.message;
  }
  EXPECT_NE(r.problems.front().message.find("entry 259"), std::string::npos)
      << r.problems.front().message;
  // Proofs served from the corrupt tile fail for clients: entry 258's path contains the hash.
  LedgerOptions o;
  o.data_dir = dir_.path();
  o.read_only = true;
  auto l = Ledger::Open(o);
  ASSERT_TRUE(l.has_value()) << l.status().ToString();
  auto proof = (*l)->ProveInclusion(258, 0);
  ASSERT_TRUE(proof.has_value());
  const Hash leaf = LeafHash(*(*l)->Entry(258));
  EXPECT_FALSE(VerifyInclusion(leaf, 258, proof->tree_size, proof->path,
                               (*l)->LatestCheckpoint()->checkpoint.root)
                   .ok());
}

TEST_F(TamperTest, FlippedUpperLevelHashIsReported) {
  Bytes t = ReadBlob("SELECT hashes FROM ledger_tiles WHERE level = 1 AND idx = 0");
  ASSERT_EQ(t.size(), 3u * 32);
  t[32 + 1] ^= 0x02;
  WriteBlob("UPDATE ledger_tiles SET hashes = ?1 WHERE level = 1 AND idx = 0", t);
  const VerifyReport r = Verify();
  EXPECT_TRUE(Has(r, ProblemKind::kTileCorrupt, 0)) << (r.ok() ? "" : r.problems.front().message);
  // Opening the ledger notices that the right edge no longer matches the signed root.
  LedgerOptions o;
  o.data_dir = dir_.path();
  o.origin = "tamper.example/log";
  auto l = Ledger::Open(o);
  ASSERT_FALSE(l.has_value());
  EXPECT_EQ(l.error().code(), StatusCode::kDataLoss);
}

TEST_F(TamperTest, FlippedCheckpointByteFailsItsSignature) {
  auto stmt = tree_->Prepare("SELECT note FROM ledger_checkpoints WHERE size = 356");
  ASSERT_TRUE(stmt.has_value() && *stmt->Step());
  std::string note = stmt->ColumnText(0);
  stmt = tree_->Prepare("SELECT 1");  // release the read
  note[note.find('\n') + 2] ^= 0x01;  // a digit of the size
  auto upd = tree_->Prepare("UPDATE ledger_checkpoints SET note = ?1 WHERE size = 356");
  upd->Bind(1, note);
  ASSERT_TRUE(upd->Run().ok());
  const VerifyReport r = Verify();
  EXPECT_TRUE(Has(r, ProblemKind::kCheckpointSignature, 356))
      << (r.ok() ? "" : r.problems.front().message);
  // Changing the stored root instead is caught as a disagreement with the signed note.
  Bytes root = ReadBlob("SELECT root FROM ledger_checkpoints WHERE size = 700");
  root[0] ^= 0x01;
  WriteBlob("UPDATE ledger_checkpoints SET root = ?1 WHERE size = 700", root);
  EXPECT_TRUE(Has(Verify(), ProblemKind::kCheckpointMalformed, 700));
}

TEST_F(TamperTest, DeletedEntryIsReportedAsMissing) {
  Exec("DELETE FROM ledger_entries WHERE first = 300");
  const VerifyReport r = Verify();
  EXPECT_EQ(Kinds(r),
            (std::vector<std::pair<ProblemKind, std::uint64_t>>{{ProblemKind::kEntryMissing, 300}}))
      << (r.ok() ? "" : r.problems.front().message);
}

TEST_F(TamperTest, TrimmedTailIsReportedAsMissing) {
  Exec("DELETE FROM ledger_entries WHERE first >= 990");
  const VerifyReport r = Verify();
  ASSERT_EQ(r.problems.size(), 10u);
  for (std::uint64_t i = 0; i < 10; ++i) {
    EXPECT_EQ(r.problems[i].kind, ProblemKind::kEntryMissing);
    EXPECT_EQ(r.problems[i].index, 990 + i);
  }
}

TEST_F(TamperTest, SwappedEntriesAreBothReported) {
  Bytes a = ReadBlob("SELECT data FROM ledger_entries WHERE first = 10");
  Bytes b = ReadBlob("SELECT data FROM ledger_entries WHERE first = 20");
  WriteBlob("UPDATE ledger_entries SET data = ?1 WHERE first = 10", b);
  WriteBlob("UPDATE ledger_entries SET data = ?1 WHERE first = 20", a);
  const VerifyReport r = Verify();
  EXPECT_TRUE(Has(r, ProblemKind::kEntryModified, 10));
  EXPECT_TRUE(Has(r, ProblemKind::kEntryModified, 20));
  size_t modified = 0;
  for (const auto& p : r.problems) modified += p.kind == ProblemKind::kEntryModified;
  EXPECT_EQ(modified, 2u);
  EXPECT_TRUE(Has(r, ProblemKind::kCheckpointRoot, 100));
}

TEST_F(TamperTest, CheckpointSignedByAnotherKeyIsRejected) {
  auto other = *NoteSigner::Generate("tamper.example/log");
  auto stmt = tree_->Prepare("SELECT note FROM ledger_checkpoints WHERE size = 1000");
  ASSERT_TRUE(stmt.has_value() && *stmt->Step());
  const std::string text = *NoteText(stmt->ColumnText(0));
  stmt = tree_->Prepare("SELECT 1");
  auto upd = tree_->Prepare("UPDATE ledger_checkpoints SET note = ?1 WHERE size = 1000");
  upd->Bind(1, *other.Sign(text));
  ASSERT_TRUE(upd->Run().ok());
  const VerifyReport r = Verify();
  EXPECT_TRUE(Has(r, ProblemKind::kCheckpointSignature, 1000));
  // Pinning the other key instead makes every other checkpoint fail.
  VerifyOptions pinned;
  pinned.verifier_key = other.VerifierKey();
  auto r2 = VerifyLedgerDir(dir_.path(), pinned);
  ASSERT_TRUE(r2.has_value());
  EXPECT_TRUE(Has(*r2, ProblemKind::kCheckpointSignature, 100));
  EXPECT_FALSE(Has(*r2, ProblemKind::kCheckpointSignature, 1000));
}

}  // namespace
}  // namespace arbiter::ledger
