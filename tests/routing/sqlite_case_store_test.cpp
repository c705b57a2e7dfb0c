// The SQLite case store's disk behaviour under group commit: early writeback of its files while
// rows commit, and the WAL's bound measured in frames since the log restarted (not in file size).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "arbiter/common/json.h"
#include "arbiter/routing/service.h"
#include "arbiter/routing/sqlite_case_store.h"
#include "test_packs.h"

namespace arbiter::routing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using testing::MakeCase;

class SqliteCaseStoreDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(packs_.Load(testing::ExamplePackDir(), Actor{}).has_value());
  }
  fs::path db_path() const { return dir_.path() / "arbiter.db"; }
  std::unique_ptr<SqliteRoutingStore> OpenStore(SqliteRoutingStoreOptions options) {
    auto db = store::SqliteDb::Open(db_path(), {.durability = store::Durability::kNormal});
    EXPECT_TRUE(db.has_value());
    auto s = SqliteRoutingStore::Open(std::move(db).value(), options);
    EXPECT_TRUE(s.has_value()) << s.error().ToString();
    return s.has_value() ? std::move(s).value() : nullptr;
  }
  // Routes `n` cases through `store` and waits until they are committed.
  void Route(SqliteRoutingStore& store, int n) {
    ServiceDeps deps{&packs_, &sink_, &store, &grants_, nullptr, &clock_};
    deps.cases = &store;
    RoutingService service(deps);
    SqliteRoutingStore::BeginTickets();
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(service
                      .RouteCase(MakeCase(R"({"id":"D-)" + std::to_string(next_++) +
                                          R"(","language":"en","body":")" + std::string(512, 'x') +
                                          R"("})"),
                                 {}, Actor{})
                      .has_value());
    }
    ASSERT_TRUE(store.WaitDurable(*store.LastTicketOnThisThread(), 10s).ok());
  }

  testing::TempDir dir_;
  FakeClock clock_;
  InMemoryEvidenceSink sink_;
  InMemoryGrantIssuer grants_{clock_};
  PackStore packs_{&sink_, clock_};
  int next_ = 0;
};

// While rows commit, the store starts the writeback of its files (one round per period); with a
// zero period it does not.
TEST_F(SqliteCaseStoreDisk, GroupCommitStartsWritebackWhileWriting) {
  {
    auto store = OpenStore({.group_commit = true, .writeback_period = 1ms});
    ASSERT_NE(store, nullptr);
    Route(*store, 40);
    for (int i = 0; i < 500 && store->Stats().writeback_rounds == 0; ++i) {
      std::this_thread::sleep_for(10ms);
    }
    EXPECT_GE(store->Stats().writeback_rounds, 1u);
  }
  auto store = OpenStore({.group_commit = true, .writeback_period = 0us});
  ASSERT_NE(store, nullptr);
  Route(*store, 40);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(store->Stats().writeback_rounds, 0u);
}

// A WAL file that once grew past the bound keeps its size after the log restarts; the committer
// checkpoints inline only when the log's frames pass the bound, not whenever the file is large.
TEST_F(SqliteCaseStoreDisk, InlineCheckpointOnlyWhenTheLogsFramesPassTheBound) {
  // Another connection grows the WAL file past 64 MiB with a transaction it rolls back (its pages
  // spill into the log but are never committed), and stays open so the file is kept.
  auto other = store::SqliteDb::Open(db_path(), {.durability = store::Durability::kNormal});
  ASSERT_TRUE(other.has_value());
  ASSERT_TRUE((*other)->Exec("CREATE TABLE IF NOT EXISTS filler (b BLOB)").ok());
  ASSERT_TRUE((*other)->Exec("PRAGMA cache_size=16").ok());
  ASSERT_TRUE((*other)->Begin().ok());
  ASSERT_TRUE((*other)->Exec("INSERT INTO filler VALUES (zeroblob(70000000))").ok());
  ASSERT_TRUE((*other)->Rollback().ok());
  ASSERT_GT(fs::file_size(db_path().string() + "-wal"), 64u << 20);

  auto store = OpenStore({.group_commit = true});
  ASSERT_NE(store, nullptr);
  Route(*store, 600);  // past two checks (every 256 rows), a few MB of frames
  EXPECT_EQ(store->Stats().inline_checkpoints, 0u);
  EXPECT_EQ(store->Stats().durable, 600u);
}

}  // namespace
}  // namespace arbiter::routing
