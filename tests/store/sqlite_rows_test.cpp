// ReadRows / ReadRow: records from query results, with readers that can fail.
#include "arbiter/store/sqlite_rows.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace arbiter::store {
namespace {

struct Pair {
  std::string k;
  std::int64_t n = 0;
};

Pair ReadPair(const SqliteStatement& s) { return {s.ColumnText(0), s.ColumnInt64(1)}; }

// Refuses negative numbers, as a reader refuses a stored value it does not know.
Result<Pair> ReadCheckedPair(const SqliteStatement& s) {
  if (s.ColumnInt64(1) < 0) return Status::DataLoss("negative n for `" + s.ColumnText(0) + "`");
  return ReadPair(s);
}

class SqliteRowsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = SqliteDb::OpenInMemory();
    ASSERT_TRUE(db) << db.error().ToString();
    db_ = std::move(*db);
    ASSERT_TRUE(db_->Exec("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER NOT NULL);"
                          "INSERT INTO t VALUES ('a', 1), ('b', 2), ('c', 3)")
                    .ok());
  }
  std::unique_ptr<SqliteDb> db_;
};

TEST_F(SqliteRowsTest, ReadRowsReadsEveryRowInOrder) {
  auto sel = db_->Prepare("SELECT k, n FROM t WHERE n >= ?1 ORDER BY k");
  ASSERT_TRUE(sel);
  sel->Bind(1, std::int64_t{2});
  auto rows = ReadRows(*sel, ReadPair);
  ASSERT_TRUE(rows) << rows.error().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].k, "b");
  EXPECT_EQ((*rows)[1].n, 3);
  sel->Reset();
  sel->Bind(1, std::int64_t{9});
  auto none = ReadRows(*sel, ReadCheckedPair);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST_F(SqliteRowsTest, AReaderErrorEndsTheRead) {
  ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES ('bad', -1)").ok());
  auto sel = db_->Prepare("SELECT k, n FROM t ORDER BY k");
  ASSERT_TRUE(sel);
  auto rows = ReadRows(*sel, ReadCheckedPair);
  ASSERT_FALSE(rows);
  EXPECT_EQ(rows.error().code(), StatusCode::kDataLoss);
  EXPECT_NE(rows.error().message().find("`bad`"), std::string::npos);
}

TEST_F(SqliteRowsTest, ReadRowReadsOneOrSaysNotFound) {
  auto sel = db_->Prepare("SELECT k, n FROM t WHERE k = ?1");
  ASSERT_TRUE(sel);
  sel->Bind(1, "b");
  int messages = 0;
  auto message = [&] {
    ++messages;
    return std::string("pair `z` does not exist");
  };
  auto b = ReadRow(*sel, ReadCheckedPair, message);
  ASSERT_TRUE(b) << b.error().ToString();
  EXPECT_EQ(b->n, 2);
  EXPECT_EQ(messages, 0);  // the message is built only when needed
  sel->Reset();
  sel->Bind(1, "z");
  auto z = ReadRow(*sel, ReadPair, message);
  ASSERT_FALSE(z);
  EXPECT_EQ(z.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(z.error().message(), "pair `z` does not exist");
}

}  // namespace
}  // namespace arbiter::store
