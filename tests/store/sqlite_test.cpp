#include "arbiter/store/sqlite.h"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>

#include <unistd.h>

namespace arbiter::store {
namespace {

TEST(Sqlite, InsertSelectAndTransactions) {
  auto db = SqliteDb::OpenInMemory();
  ASSERT_TRUE(db) << db.error().ToString();
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, b BLOB)").ok());
  auto ins = (*db)->Prepare("INSERT INTO t VALUES (?1, ?2, ?3)");
  ASSERT_TRUE(ins);
  ASSERT_TRUE(ins->Bind(1, "a")
                  .Bind(2, std::int64_t{-9223372036854775807 - 1})
                  .Bind(3, AsBytes("x"))
                  .Run()
                  .ok());
  // A duplicate key is a constraint violation.
  EXPECT_EQ(ins->Bind(1, "a").Bind(2, std::int64_t{1}).Bind(3, AsBytes("y")).Run().code(),
            StatusCode::kAlreadyExists);
  // A failed transaction leaves nothing behind.
  Status s = (*db)->InTransaction([&]() -> Status {
    ARBITER_RETURN_IF_ERROR(ins->Bind(1, "b").Bind(2, std::int64_t{2}).Bind(3, AsBytes("z")).Run());
    return Status::Internal("boom");
  });
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  auto sel = (*db)->Prepare("SELECT k, n, b FROM t ORDER BY k");
  ASSERT_TRUE(sel);
  ASSERT_TRUE(sel->Step().value());
  EXPECT_EQ(sel->ColumnText(0), "a");
  EXPECT_EQ(sel->ColumnInt64(1), -9223372036854775807 - 1);
  EXPECT_EQ(sel->ColumnBlob(2), ToBytes("x"));
  EXPECT_FALSE(sel->Step().value());
}

// BindNoCopy stores exactly the bytes bound (no copy: they must outlive the step), empty values as
// empty text and blobs rather than NULL, and a reset statement takes new values.
TEST(Sqlite, BindNoCopyStoresTheBoundBytes) {
  auto db = SqliteDb::OpenInMemory();
  ASSERT_TRUE(db) << db.error().ToString();
  ASSERT_TRUE((*db)->Exec("CREATE TABLE t (k TEXT PRIMARY KEY, b BLOB)").ok());
  auto ins = (*db)->Prepare("INSERT INTO t VALUES (?1, ?2)");
  ASSERT_TRUE(ins);
  const std::string big(100000, 'q');
  const Bytes blob = {1, 0, 2};
  ASSERT_TRUE(ins->BindNoCopy(1, big).BindNoCopy(2, ByteView(blob)).Run().ok());
  ASSERT_TRUE(ins->BindNoCopy(1, std::string_view()).BindNoCopy(2, ByteView()).Run().ok());
  auto sel = (*db)->Prepare("SELECT k, b, typeof(k), typeof(b) FROM t ORDER BY length(k)");
  ASSERT_TRUE(sel);
  ASSERT_TRUE(sel->Step().value());
  EXPECT_EQ(sel->ColumnText(0), "");
  EXPECT_EQ(sel->ColumnText(2), "text");
  EXPECT_EQ(sel->ColumnText(3), "blob");
  ASSERT_TRUE(sel->Step().value());
  EXPECT_EQ(sel->ColumnText(0), big);
  EXPECT_EQ(sel->ColumnBlob(1), blob);
  EXPECT_FALSE(sel->Step().value());
}

TEST(Sqlite, MigrationsAreIdempotentAndPersist) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("arbiter-sqlite-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  const std::array<std::string_view, 2> migrations = {"CREATE TABLE a (x INTEGER)",
                                                      "CREATE TABLE b (y INTEGER)"};
  {
    auto db = SqliteDb::Open(path / "db.sqlite");
    ASSERT_TRUE(db) << db.error().ToString();
    ASSERT_TRUE((*db)->Migrate(migrations).ok());
    ASSERT_TRUE((*db)->Migrate(migrations).ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO b VALUES (7)").ok());
  }
  {
    auto db = SqliteDb::Open(path / "db.sqlite");
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->Migrate(migrations).ok());
    auto sel = (*db)->Prepare("SELECT y FROM b");
    ASSERT_TRUE(sel && sel->Step().value());
    EXPECT_EQ(sel->ColumnInt64(0), 7);
    // A build that knows fewer migrations refuses the newer database.
    EXPECT_EQ((*db)->Migrate(std::span(migrations).first(1)).code(),
              StatusCode::kFailedPrecondition);
  }
  std::filesystem::remove_all(path);
}

int PageSize(SqliteDb& db) {
  auto stmt = db.Prepare("PRAGMA page_size");
  EXPECT_TRUE(stmt && stmt->Step().value());
  return stmt ? static_cast<int>(stmt->ColumnInt64(0)) : 0;
}

// SqliteOptions::page_size applies to a file the open creates; an existing file keeps its own.
TEST(Sqlite, PageSizeIsSetForANewFileOnly) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("arbiter-sqlite-page-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  {
    auto db = SqliteDb::Open(path / "new.sqlite", {.page_size = 2048});
    ASSERT_TRUE(db) << db.error().ToString();
    ASSERT_TRUE((*db)->Exec("CREATE TABLE t (x TEXT)").ok());
    EXPECT_EQ(PageSize(**db), 2048);
  }
  {
    auto db = SqliteDb::Open(path / "new.sqlite", {.page_size = 8192});
    ASSERT_TRUE(db);
    EXPECT_EQ(PageSize(**db), 2048);
    ASSERT_TRUE((*db)->Exec("INSERT INTO t VALUES ('kept')").ok());
  }
  {
    auto db = SqliteDb::Open(path / "default.sqlite");
    ASSERT_TRUE(db);
    ASSERT_TRUE((*db)->Exec("CREATE TABLE t (x TEXT)").ok());
    EXPECT_EQ(PageSize(**db), 4096);
  }
  std::filesystem::remove_all(path);
}

// TrackWalFrames: the count follows the log's frames (not its file's size, which a restart keeps),
// and SQLite's automatic checkpoint no longer runs on the connection.
TEST(Sqlite, TrackWalFramesCountsFramesSinceTheLogRestarted) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("arbiter-sqlite-wal-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  {
    auto db = SqliteDb::Open(path / "db.sqlite", {.durability = Durability::kNormal});
    ASSERT_TRUE(db) << db.error().ToString();
    ASSERT_TRUE((*db)->Exec("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)").ok());
    EXPECT_EQ((*db)->WalFrames(), 0);  // not tracked yet
    (*db)->TrackWalFrames();
    // More than SQLite's default autocheckpoint (1,000 pages): without the hook replaced, a
    // commit would checkpoint and restart the log.
    for (int i = 0; i < 40; ++i) {
      ASSERT_TRUE((*db)->Exec("INSERT INTO t (v) VALUES (zeroblob(120000))").ok());
    }
    const std::int64_t frames = (*db)->WalFrames();
    EXPECT_GT(frames, 1000);
    const auto wal = path / "db.sqlite-wal";
    const auto wal_size = std::filesystem::file_size(wal);
    EXPECT_GE(wal_size, static_cast<std::uintmax_t>(frames) * 4096);
    // A complete checkpoint; the next commit restarts the log from its beginning.
    ASSERT_TRUE((*db)->Exec("PRAGMA wal_checkpoint(PASSIVE)").ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO t (v) VALUES (x'01')").ok());
    EXPECT_GT((*db)->WalFrames(), 0);
    EXPECT_LT((*db)->WalFrames(), 10);
    EXPECT_EQ(std::filesystem::file_size(wal), wal_size);  // the file is reused, not shrunk
  }
  std::filesystem::remove_all(path);
}

TEST(Sqlite, BadSqlIsAnErrorNotACrash) {
  auto db = SqliteDb::OpenInMemory();
  ASSERT_TRUE(db);
  EXPECT_FALSE((*db)->Prepare("SELEC nonsense").has_value());
  EXPECT_FALSE((*db)->Exec("DROP TABLE missing").ok());
}

}  // namespace
}  // namespace arbiter::store
