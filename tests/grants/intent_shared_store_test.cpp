// Intent tokens when several connections or processes share one grant database: the store, not a
// process's cache, decides whether a token may be minted and whether it was used; a use survives
// the death (kill -9) of the process that made it.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "arbiter/grants/grants.h"
#include "arbiter/grants/intent_token.h"
#include "arbiter/grants/sqlite_grant_store.h"
#include "arbiter/identity/token_error.h"
#include "grants/grants_env.h"

namespace arbiter::grants {
namespace {

namespace fs = std::filesystem;
using identity::TokenError;
using identity::TokenErrorOf;

// Param: where uses are recorded, "store" (the grant store) or "mmap" (a mapped single-use file
// next to the database, opened by every node).
class IntentSharedStoreTest : public ::testing::TestWithParam<const char*> {
 protected:
  virtual std::string_view Backend() const { return GetParam(); }
  bool Mapped() const { return Backend() == "mmap"; }

  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) c = c == '/' ? '-' : c;
    dir_ = fs::temp_directory_path() /
           ("arbiter-intent-shared-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    if (Mapped()) s_.single_use_file = dir_ / "intents.used";
    s_.Init("spiffe://example.org", dir_ / "grants.db");
    agent_ = s_.NewAgent();
    grant_ = s_.GrantFor("case-A", *agent_);
    request_.case_id = "case-A";
    request_.action = "refund.issue";
    request_.audience = "payments";
    expect_.audience = "payments";
  }

  void TearDown() override {
    s_.intents.reset();
    s_.grants.reset();
    s_.grant_store.reset();
    s_.single_use.reset();
    fs::remove_all(dir_);
  }

  // Another node's view of the same database: its own connection and grant service.
  struct Node {
    std::unique_ptr<GrantStore> store;
    std::unique_ptr<SingleUseRegistry> single_use;
    std::unique_ptr<GrantService> grants;
    std::unique_ptr<IntentTokenService> intents;
  };
  Result<Node> OpenNode() {
    ARBITER_TRY(auto db, store::SqliteDb::Open(dir_ / "grants.db", testing::Stack::FileOptions()));
    Node n;
    ARBITER_TRY(n.store, CreateSqliteGrantStore(std::move(db)));
    IntentTokenOptions io;
    io.issuer = "spiffe://example.org";
    if (Mapped()) {
      MappedSingleUseOptions o;
      o.path = s_.single_use_file;
      o.slots = kMinSingleUseSlots * 4;
      ARBITER_TRY(n.single_use, OpenMappedSingleUseRegistry(o));
      io.single_use = n.single_use.get();
    }
    ARBITER_TRY(n.grants,
                GrantService::Create(*n.store, s_.clock, s_.random,
                                     n.single_use ? n.single_use->grant_changes() : nullptr));
    ARBITER_TRY(n.intents,
                IntentTokenService::Create(*n.store, *n.grants, *s_.keys, s_.clock, s_.random, io));
    return n;
  }

  std::string Reason(const Status& s) {
    auto r = TokenErrorOf(s);
    return r ? std::string(identity::TokenErrorName(*r)) : s.ToString();
  }

  fs::path dir_;
  testing::Stack s_;
  std::optional<identity::AgentIdentity> agent_;
  CaseGrant grant_;
  IntentRequest request_;
  IntentExpectations expect_;
};

// The fixture with uses recorded in the grant store (for tests that add a node with a file).
class IntentSharedStoreMixedTest : public IntentSharedStoreTest {
 protected:
  std::string_view Backend() const override { return "store"; }
};

TEST_P(IntentSharedStoreTest, ACaseClosedByAnotherNodeStopsMintingDespiteTheCache) {
  auto other = OpenNode();
  ASSERT_TRUE(other) << other.error().ToString();
  auto before = s_.intents->Mint(*agent_, request_);  // this node now caches the grant
  ASSERT_TRUE(before) << before.error().ToString();
  ASSERT_EQ(*other->grants->RevokeForCase("case-A", "case closed"), 1);

  auto after = s_.intents->Mint(*agent_, request_);
  ASSERT_FALSE(after);
  EXPECT_EQ(Reason(after.error()), "grant_inactive");
  EXPECT_NE(after.error().message().find("case closed"), std::string::npos)
      << after.error().message();
  auto used = s_.intents->Introspect(before->token, expect_);
  ASSERT_FALSE(used);
  EXPECT_EQ(Reason(used.error()), "grant_inactive");
}

TEST_P(IntentSharedStoreTest, AGrantShortenedByAnotherNodeShortensNewTokens) {
  auto other = OpenNode();
  ASSERT_TRUE(other) << other.error().ToString();
  ASSERT_TRUE(s_.intents->Mint(*agent_, request_));  // cached with the old expiry
  auto shortened = other->grants->Extend(grant_.id, *agent_, 10);
  ASSERT_TRUE(shortened) << shortened.error().ToString();
  request_.ttl_seconds = 60;
  auto m = s_.intents->Mint(*agent_, request_);
  ASSERT_TRUE(m) << m.error().ToString();
  EXPECT_EQ(m->expires_at, s_.clock.NowSeconds() + 10);  // never outlives the grant
}

// Introspection's grant state (cached with a single-use file) follows changes made by another
// node: revocation, and a shortened grant.
TEST_P(IntentSharedStoreTest, IntrospectionSeesGrantsChangedByAnotherNode) {
  auto other = OpenNode();
  ASSERT_TRUE(other) << other.error().ToString();
  auto first = s_.intents->Mint(*agent_, request_);
  auto second = s_.intents->Mint(*agent_, request_);
  auto third = s_.intents->Mint(*agent_, request_);
  ASSERT_TRUE(first && second && third);
  ASSERT_TRUE(s_.intents->Introspect(first->token, expect_));  // this node now knows the grant

  auto shortened = other->grants->Extend(grant_.id, *agent_, 10);
  ASSERT_TRUE(shortened) << shortened.error().ToString();
  s_.clock.AdvanceSeconds(11);
  auto late = s_.intents->Introspect(second->token, expect_);
  ASSERT_FALSE(late);
  EXPECT_EQ(Reason(late.error()), "grant_inactive") << late.error().ToString();

  ASSERT_EQ(*other->grants->RevokeForCase("case-A", "case closed"), 0);  // already expired
  auto closed = s_.intents->Introspect(third->token, expect_);
  ASSERT_FALSE(closed);
  EXPECT_EQ(Reason(closed.error()), "grant_inactive");
}

TEST_P(IntentSharedStoreTest, ARevocationByAnotherNodeReachesIntrospectionAtOnce) {
  auto other = OpenNode();
  ASSERT_TRUE(other) << other.error().ToString();
  auto first = s_.intents->Mint(*agent_, request_);
  auto second = s_.intents->Mint(*agent_, request_);
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(s_.intents->Introspect(first->token, expect_));
  ASSERT_EQ(*other->grants->RevokeForCase("case-A", "case closed"), 1);
  auto after = s_.intents->Introspect(second->token, expect_);
  ASSERT_FALSE(after);
  EXPECT_EQ(Reason(after.error()), "grant_inactive");
  EXPECT_NE(after.error().message().find("case closed"), std::string::npos);
}

TEST_P(IntentSharedStoreTest, ATokenUsedThroughOneConnectionIsReplayedThroughAnother) {
  auto other = OpenNode();
  ASSERT_TRUE(other) << other.error().ToString();
  auto m = s_.intents->Mint(*agent_, request_);
  ASSERT_TRUE(m);
  ASSERT_TRUE(other->intents->Introspect(m->token, expect_));
  auto again = s_.intents->Introspect(m->token, expect_);
  ASSERT_FALSE(again);
  EXPECT_EQ(Reason(again.error()), "replayed");
}

// Concurrent uses are committed in groups (SqliteGrantStore): eight threads each try every token;
// each token is active exactly once, and the uses are in the database.
TEST_P(IntentSharedStoreTest, ConcurrentUsesShareCommitsAndEachTokenIsUsedOnce) {
  constexpr int kTokens = 48;
  constexpr int kThreads = 8;
  std::vector<std::string> tokens;
  for (int i = 0; i < kTokens; ++i) {
    auto m = s_.intents->Mint(*agent_, request_);
    ASSERT_TRUE(m) << m.error().ToString();
    tokens.push_back(m->token);
  }
  std::atomic<int> active{0};
  std::atomic<int> replayed{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kTokens; ++i) {
        auto r = s_.intents->Introspect(tokens[(i + t * 5) % kTokens], expect_);
        if (r) {
          ++active;
        } else if (TokenErrorOf(r.error()) == TokenError::kReplayed) {
          ++replayed;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(active.load(), kTokens);
  EXPECT_EQ(replayed.load(), (kThreads - 1) * kTokens);
  EXPECT_EQ(other.load(), 0);
  s_.RestartGrants();
  for (const auto& token : tokens) {
    auto again = s_.intents->Introspect(token, expect_);
    ASSERT_FALSE(again);
    EXPECT_EQ(Reason(again.error()), "replayed");
  }
}

// Child processes race to use one token; then one uses another token and is killed with SIGKILL
// right after its answer. Exactly one racer wins, and the killed process's use stands.
TEST_P(IntentSharedStoreTest, ProcessesRaceForOneUseAndAUseSurvivesKillNine) {
  auto raced = s_.intents->Mint(*agent_, request_);
  auto killed = s_.intents->Mint(*agent_, request_);
  ASSERT_TRUE(raced && killed);
  // No connection to the file may cross fork(): close ours, reopen after.
  s_.intents.reset();
  s_.grants.reset();
  s_.grant_store.reset();
  s_.single_use.reset();

  // In the child: 0 active, 1 replayed, 2 anything else. `die` ends it with SIGKILL instead.
  auto child = [&](const std::string& token, bool die) {
    const pid_t pid = ::fork();
    if (pid != 0) return pid;
    auto node = OpenNode();
    int code = 2;
    if (node) {
      auto r = node->intents->Introspect(token, expect_);
      code = r ? 0 : (TokenErrorOf(r.error()) == TokenError::kReplayed ? 1 : 2);
    }
    if (die && code == 0) ::raise(SIGKILL);
    ::_exit(code);
  };
  auto wait = [](pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return status;
  };

  std::vector<pid_t> racers;
  for (int i = 0; i < 4; ++i) racers.push_back(child(raced->token, false));
  int active = 0;
  int replayed = 0;
  for (pid_t pid : racers) {
    const int status = wait(pid);
    ASSERT_TRUE(WIFEXITED(status));
    active += WEXITSTATUS(status) == 0;
    replayed += WEXITSTATUS(status) == 1;
  }
  EXPECT_EQ(active, 1);
  EXPECT_EQ(replayed, 3);

  const int status = wait(child(killed->token, true));
  ASSERT_TRUE(WIFSIGNALED(status)) << "the child did not get to use the token";
  EXPECT_EQ(WTERMSIG(status), SIGKILL);

  s_.RestartGrants();
  for (const auto* m : {&*raced, &*killed}) {
    auto again = s_.intents->Introspect(m->token, expect_);
    ASSERT_FALSE(again);
    EXPECT_EQ(Reason(again.error()), "replayed");
  }
}

// A token minted by a node that records uses in the grant store (so not recorded as issued in the
// file) is checked in the store by a node with the file, and used once there.
TEST_F(IntentSharedStoreMixedTest, ATokenTheFileDoesNotKnowIsCheckedInTheStoreAndUsedOnce) {
  auto minted = s_.intents->Mint(*agent_, request_);  // s_ records uses in the grant store
  ASSERT_TRUE(minted);
  MappedSingleUseOptions o;
  o.path = dir_ / "intents.used";
  o.slots = kMinSingleUseSlots;
  auto file = OpenMappedSingleUseRegistry(o);
  ASSERT_TRUE(file) << file.error().ToString();
  auto db = store::SqliteDb::Open(dir_ / "grants.db", testing::Stack::FileOptions());
  ASSERT_TRUE(db);
  auto store = CreateSqliteGrantStore(std::move(*db));
  ASSERT_TRUE(store);
  auto grants = GrantService::Create(**store, s_.clock, s_.random, (*file)->grant_changes());
  ASSERT_TRUE(grants);
  IntentTokenOptions io;
  io.issuer = "spiffe://example.org";
  io.single_use = file->get();
  auto intents = IntentTokenService::Create(**store, **grants, *s_.keys, s_.clock, s_.random, io);
  ASSERT_TRUE(intents) << intents.error().ToString();
  ASSERT_TRUE((*intents)->Introspect(minted->token, expect_));
  auto again = (*intents)->Introspect(minted->token, expect_);
  ASSERT_FALSE(again);
  EXPECT_EQ(Reason(again.error()), "replayed");

  // Wiring: a registry without its grant-change signal on the GrantService is refused.
  auto unsignalled = GrantService::Create(**store, s_.clock, s_.random);
  auto refused =
      IntentTokenService::Create(**store, **unsignalled, *s_.keys, s_.clock, s_.random, io);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.error().message().find("grant-change signal"), std::string::npos);
  intents->reset();
}

INSTANTIATE_TEST_SUITE_P(SingleUse, IntentSharedStoreTest, ::testing::Values("store", "mmap"),
                         testing::BackendName);

}  // namespace
}  // namespace arbiter::grants
