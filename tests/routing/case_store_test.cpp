// Case state across restarts: RoutingService over an InMemoryCaseStore and over the SQLite store,
// rebuilt mid-lifecycle on the same store; the stored forms round-trip; crypto-shredding leaves no
// key or text in the database files.
#include "arbiter/routing/case_store.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <future>
#include <iterator>
#include <thread>

#include "arbiter/cedar/entities.h"
#include "arbiter/common/json.h"
#include "arbiter/routing/service.h"
#include "arbiter/routing/sqlite_case_store.h"
#include "test_packs.h"

namespace arbiter::routing {
namespace {

namespace fs = std::filesystem;

using testing::MakeCase;

cedar::EntityUid Uid(std::string_view text) { return *cedar::ParseEntityUid(text); }

constexpr std::string_view kRefundCase =
    R"({"id":"ZD-1001","subject":"Refund please","body":"Card 4111 1111 1111 1111 charged twice, mail anna@example.com",
        "language":"en","customer":{"id":"cust-42","tier":"standard"},"category":"refund",
        "ai":{"confidence":0.93}})";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// One "process": the stores and the service, rebuilt by Restart() over the same data. The grant
// issuer, evidence sink and clock outlive restarts (they stand for the grants module and the
// ledger, which persist on their own).
// The parameter: 0 in memory, 1 SQLite writing through, 2 SQLite with group commit.
class Restartable : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    auto loaded = packs_.Load(testing::ExamplePackDir(), Actor{"human", "Human::\"erin\""});
    ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
    Start();
  }
  bool sqlite() const { return GetParam() != 0; }
  fs::path db_path() const { return dir_.path() / "arbiter.db"; }

  void Start() {
    CaseStore* cases = nullptr;
    CaseKeyStore* keys = nullptr;
    if (sqlite()) {
      auto db = store::SqliteDb::Open(db_path(), {.durability = store::Durability::kNormal});
      ASSERT_TRUE(db.has_value()) << db.error().ToString();
      auto opened =
          SqliteRoutingStore::Open(std::move(db).value(), {.group_commit = GetParam() == 2});
      ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
      sqlite_ = std::move(opened).value();
      cases = sqlite_.get();
      keys = sqlite_.get();
    } else {
      cases = &memory_cases_;
      keys = &memory_keys_;
    }
    ServiceDeps deps{&packs_, &sink_, keys, &grants_, nullptr, &clock_};
    deps.cases = cases;
    auto service = RoutingService::Open(deps);
    ASSERT_TRUE(service.has_value()) << service.error().ToString();
    service_ = std::move(service).value();
  }
  void Restart() {
    service_.reset();
    sqlite_.reset();  // closes the database like a stopped process
    Start();
  }
  CaseKeyStore& keys() { return sqlite() ? static_cast<CaseKeyStore&>(*sqlite_) : memory_keys_; }

  testing::TempDir dir_;
  FakeClock clock_;
  InMemoryEvidenceSink sink_;
  InMemoryGrantIssuer grants_{clock_};
  PackStore packs_{&sink_, clock_};
  InMemoryCaseStore memory_cases_;
  InMemoryCaseKeyStore memory_keys_;
  std::unique_ptr<SqliteRoutingStore> sqlite_;
  std::unique_ptr<RoutingService> service_;
  const Actor source_{"source", "zendesk"};
  const Actor bot_{"agent", "spiffe://arbiter.example/agent/refund-agent-1"};
  const Actor alice_{"human", "Human::\"alice\""};
};

TEST_P(Restartable, RestartKeepsCasePendingIntentAndKey) {
  const auto agent = Uid("Agent::\"refund-agent-1\"");
  auto routed = service_->RouteCase(MakeCase(kRefundCase), {}, source_);
  ASSERT_TRUE(routed.has_value()) << routed.error().ToString();
  ASSERT_EQ(routed->decision->route, Route::kAi);
  auto claim = service_->Claim("ZD-1001", agent, bot_);
  ASSERT_TRUE(claim.has_value()) << claim.error().ToString();
  auto big = service_->RequestIntent("ZD-1001", agent, "refund", {{"amount_cents", 45000}}, bot_);
  ASSERT_TRUE(big.has_value()) << big.error().ToString();
  ASSERT_EQ(big->decision.outcome, IntentOutcome::kPendingApproval);
  const auto before = service_->Get("ZD-1001");
  ASSERT_TRUE(before.has_value());

  Restart();

  auto after = service_->Get("ZD-1001");
  ASSERT_TRUE(after.has_value()) << "the case survived the restart";
  EXPECT_EQ(after->state, CaseState::kClaimed);
  EXPECT_EQ(after->holder, Holder::kAi);
  EXPECT_EQ(after->agent, "Agent::\"refund-agent-1\"");
  EXPECT_EQ(after->evidence, before->evidence);
  EXPECT_EQ(after->pending, std::vector<std::string>{big->request_id});
  ASSERT_TRUE(after->last_route != nullptr);
  EXPECT_EQ(ToJson(DecisionToStoreJson(*after->last_route)),
            ToJson(DecisionToStoreJson(*routed->decision)));
  auto c = service_->CaseOf("ZD-1001");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->subject, "Refund please");
  EXPECT_EQ(c->customer.id, "cust-42");

  // The lifecycle is still enforced: another agent may not act, a second claim is refused.
  auto other = service_->RequestIntent("ZD-1001", Uid("Agent::\"refund-agent-2\""), "refund",
                                       {{"amount_cents", 100}}, bot_);
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(service_->Claim("ZD-1001", agent, bot_).error().code(),
            StatusCode::kFailedPrecondition);

  // The pending intent is approved after the restart, under the same case key.
  auto approved = service_->Approve("ZD-1001", big->request_id, Uid("Human::\"alice\""), alice_);
  ASSERT_TRUE(approved.has_value()) << approved.error().ToString();
  EXPECT_TRUE(approved->approval.allowed);
  ASSERT_TRUE(approved->intent.has_value());
  EXPECT_EQ(approved->intent->decision.outcome, IntentOutcome::kAllow);
  EXPECT_FALSE(approved->intent->intent_token.empty());
  auto key = keys().KeyFor("ZD-1001");
  ASSERT_TRUE(key.has_value());
  auto route_record = ParseJson(sink_.Records().at(*routed->evidence_index));
  auto approval_record = ParseJson(sink_.Records().at(*approved->evidence_index));
  EXPECT_EQ(route_record->at("case"), approval_record->at("case"));
  EXPECT_EQ(route_record->at("case").as_string(), key->Hash("case", "ZD-1001"));

  ASSERT_TRUE(service_->Close("ZD-1001", "resolved", bot_).has_value());
  ASSERT_TRUE(
      service_->RecordOutcome("ZD-1001", OutcomeKind::kDisputed, std::nullopt, alice_).has_value());

  Restart();

  auto closed = service_->Get("ZD-1001");
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->state, CaseState::kClosed);
  EXPECT_TRUE(closed->pending.empty());
  EXPECT_EQ(closed->evidence.size(), 7u);  // route claim intent approval intent close outcome
  // Illegal transitions after the restart are refused with the reason.
  auto reclaim = service_->Claim("ZD-1001", agent, bot_);
  ASSERT_FALSE(reclaim.has_value());
  EXPECT_EQ(reclaim.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(reclaim.error().message(), "cannot claim it for an agent: the case is closed");
  EXPECT_EQ(service_->RouteCase(MakeCase(kRefundCase), {}, source_).error().code(),
            StatusCode::kFailedPrecondition);
  // The missed-escalation facts survived both restarts.
  auto missed = service_->MissedEscalations();
  ASSERT_EQ(missed.size(), 1u);
  EXPECT_EQ(missed[0].case_id, "ZD-1001");
  EXPECT_EQ(missed[0].signals, std::vector<std::string>{"disputed"});
  EXPECT_EQ(missed[0].bundle_hash, packs_.Current()->hash());
}

TEST_P(Restartable, ShredSurvivesRestart) {
  ASSERT_TRUE(service_->RouteCase(MakeCase(kRefundCase), {}, source_).has_value());
  ASSERT_TRUE(service_->Shred("ZD-1001").ok());
  Restart();
  EXPECT_EQ(keys().KeyFor("ZD-1001").error().code(), StatusCode::kFailedPrecondition);
  auto snap = service_->Get("ZD-1001");
  ASSERT_TRUE(snap.has_value());
  EXPECT_TRUE(snap->shredded);
  auto c = service_->CaseOf("ZD-1001");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->subject.empty());
  EXPECT_TRUE(c->body.empty());
  EXPECT_TRUE(c->customer.id.empty());
  EXPECT_FALSE(service_->Claim("ZD-1001", Uid("Agent::\"triage-bot-1\""), bot_).has_value());
}

TEST_P(Restartable, ManyCasesComeBackWithTheirDecisions) {
  std::map<std::string, RoutingDecision> decided;
  for (const auto& [c, s] : testing::ExampleSampleCases()) {
    if (decided.size() == 60) break;
    auto routed = service_->RouteCase(c, s, source_);
    ASSERT_TRUE(routed.has_value()) << routed.error().ToString();
    decided.emplace(c.id, *routed->decision);
  }
  Restart();
  EXPECT_EQ(service_->size(), decided.size());
  for (const auto& [id, d] : decided) {
    auto snap = service_->Get(id);
    ASSERT_TRUE(snap.has_value()) << id;
    ASSERT_TRUE(snap->last_route != nullptr);
    EXPECT_EQ(ToJson(DecisionToStoreJson(*snap->last_route)), ToJson(DecisionToStoreJson(d)));
    EXPECT_EQ(snap->state, d.route == Route::kBlocked ? CaseState::kBlocked : CaseState::kRouted);
  }
}

// With a store, a closed case leaves memory once its close is committed; Get and CaseOf read it
// back from the store without holding it again.
TEST_P(Restartable, AClosedCaseLeavesMemoryAndIsReadBack) {
  ASSERT_TRUE(service_->RouteCase(MakeCase(kRefundCase), {}, source_).has_value());
  ASSERT_TRUE(
      service_->RouteCase(MakeCase(R"({"id":"ZD-2","language":"en"})"), {}, source_).has_value());
  const std::vector<std::uint64_t> routed = service_->Get("ZD-1001")->evidence;
  EXPECT_EQ(service_->resident_cases(), 2u);
  auto closed = service_->Close("ZD-1001", "resolved", bot_);
  ASSERT_TRUE(closed.has_value()) << closed.error().ToString();
  EXPECT_EQ(service_->resident_cases(), 1u) << "the closed case left memory";
  EXPECT_EQ(service_->size(), 2u) << "and is still known";
  auto snap = service_->Get("ZD-1001");
  ASSERT_TRUE(snap.has_value());
  EXPECT_EQ(snap->state, CaseState::kClosed);
  std::vector<std::uint64_t> evidence = routed;
  evidence.push_back(**closed);
  EXPECT_EQ(snap->evidence, evidence);
  ASSERT_TRUE(snap->last_route != nullptr);
  EXPECT_EQ(snap->last_route->route, Route::kAi);
  auto c = service_->CaseOf("ZD-1001");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->subject, "Refund please");
  EXPECT_EQ(service_->resident_cases(), 1u) << "reading it does not hold it again";
  EXPECT_FALSE(service_->Get("ZD-404").has_value());
  // Routing its id again is refused as for a closed case in memory.
  auto again = service_->RouteCase(MakeCase(kRefundCase), {}, source_);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(again.error().message(),
            "cannot route case `ZD-1001`: it is closed (only new and reopened cases are routed)");
  // A call that reads it back and fails leaves it out of memory again.
  auto claim = service_->Claim("ZD-1001", Uid("Agent::\"refund-agent-1\""), bot_);
  ASSERT_FALSE(claim.has_value());
  EXPECT_EQ(claim.error().message(), "cannot claim it for an agent: the case is closed");
  EXPECT_EQ(service_->resident_cases(), 1u);
}

// Outcomes of an evicted case are recorded and stored; MissedEscalations still sees the case; a
// reopened case stays in memory (it is routed again).
TEST_P(Restartable, OutcomesOfAnEvictedCaseAreStored) {
  ASSERT_TRUE(service_->RouteCase(MakeCase(kRefundCase), {}, source_).has_value());
  ASSERT_TRUE(service_->Close("ZD-1001", "resolved", bot_).has_value());
  ASSERT_EQ(service_->resident_cases(), 0u);
  auto outcome = service_->RecordOutcome("ZD-1001", OutcomeKind::kDisputed, std::nullopt, source_);
  ASSERT_TRUE(outcome.has_value()) << outcome.error().ToString();
  EXPECT_EQ(service_->resident_cases(), 0u) << "still closed: evicted again";
  auto snap = service_->Get("ZD-1001");
  ASSERT_TRUE(snap.has_value());
  EXPECT_EQ(snap->state, CaseState::kClosed);
  ASSERT_EQ(snap->evidence.size(), 3u);  // route close outcome
  EXPECT_EQ(snap->evidence.back(), **outcome);
  auto missed = service_->MissedEscalations();
  ASSERT_EQ(missed.size(), 1u);
  EXPECT_EQ(missed[0].case_id, "ZD-1001");
  EXPECT_EQ(missed[0].signals, std::vector<std::string>{"disputed"});
  Restart();  // the outcome was stored, not only held
  missed = service_->MissedEscalations();
  ASSERT_EQ(missed.size(), 1u);
  EXPECT_EQ(missed[0].signals, std::vector<std::string>{"disputed"});
  ASSERT_TRUE(service_->RecordOutcome("ZD-1001", OutcomeKind::kReopened, std::nullopt, source_)
                  .has_value());
  EXPECT_EQ(service_->resident_cases(), 1u) << "reopened: back in memory";
  EXPECT_EQ(service_->Get("ZD-1001")->state, CaseState::kReopened);
  auto routed = service_->RouteCase(MakeCase(kRefundCase), {}, source_);
  EXPECT_TRUE(routed.has_value()) << routed.error().ToString();
}

// After a restart only open cases are held in memory; the closed ones are still known.
TEST_P(Restartable, RestartHoldsOnlyOpenCases) {
  for (const char* id : {"R-1", "R-2", "R-3"}) {
    ASSERT_TRUE(service_
                    ->RouteCase(MakeCase(std::string(R"({"id":")") + id + R"(","language":"en"})"),
                                {}, source_)
                    .has_value());
  }
  ASSERT_TRUE(service_->Close("R-1", "resolved", bot_).has_value());
  ASSERT_TRUE(service_->Close("R-3", "resolved", bot_).has_value());
  Restart();
  EXPECT_EQ(service_->size(), 3u);
  EXPECT_EQ(service_->resident_cases(), 1u);
  EXPECT_EQ(service_->Get("R-1")->state, CaseState::kClosed);
  EXPECT_NE(service_->Get("R-2")->state, CaseState::kClosed);
  EXPECT_EQ(service_->Get("R-3")->state, CaseState::kClosed);
  EXPECT_EQ(service_->RouteCase(MakeCase(R"({"id":"R-3","language":"en"})"), {}, source_)
                .error()
                .message(),
            "cannot route case `R-3`: it is closed (only new and reopened cases are routed)");
  EXPECT_EQ(service_->resident_cases(), 1u);
}

// Shredding a closed case that left memory clears its text in the store and deletes its key.
TEST_P(Restartable, ShredOfAnEvictedCase) {
  ASSERT_TRUE(service_->RouteCase(MakeCase(kRefundCase), {}, source_).has_value());
  ASSERT_TRUE(service_->Close("ZD-1001", "resolved", bot_).has_value());
  ASSERT_EQ(service_->resident_cases(), 0u);
  ASSERT_TRUE(service_->Shred("ZD-1001").ok());
  EXPECT_EQ(service_->resident_cases(), 0u);
  auto snap = service_->Get("ZD-1001");
  ASSERT_TRUE(snap.has_value());
  EXPECT_TRUE(snap->shredded);
  EXPECT_EQ(snap->state, CaseState::kClosed);
  auto c = service_->CaseOf("ZD-1001");
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->subject.empty());
  EXPECT_TRUE(c->customer.id.empty());
  EXPECT_EQ(keys().KeyFor("ZD-1001").error().code(), StatusCode::kFailedPrecondition);
  Restart();
  EXPECT_TRUE(service_->Get("ZD-1001")->shredded);
  EXPECT_TRUE(service_->CaseOf("ZD-1001")->body.empty());
}

// A store whose Get waits until the test lets it go (the SQLite store's Get can wait for a group
// commit).
class SlowGetCaseStore final : public CaseStore {
 public:
  Status Put(const StoredCase& c, unsigned changed) override { return inner_.Put(c, changed); }
  Result<std::vector<StoredCase>> LoadAll() override { return inner_.LoadAll(); }
  Result<std::optional<StoredCase>> Get(std::string_view case_id) override {
    if (hold_) {
      entered_.set_value();
      release_.wait();
    }
    return inner_.Get(case_id);
  }
  void HoldGets() { hold_ = true; }
  std::future<void> Entered() { return entered_.get_future(); }
  void Release() { go_.set_value(); }

 private:
  InMemoryCaseStore inner_;
  std::atomic<bool> hold_{false};
  std::promise<void> entered_;
  std::promise<void> go_;
  std::shared_future<void> release_ = go_.get_future().share();
};

// Reading a closed case back from the store (GET of a closed case, its redacted view) happens
// outside the service's lock: a slow read holds up no other case's route.
TEST(ClosedCaseReads, ReadingAClosedCaseHoldsUpNoRoute) {
  FakeClock clock;
  InMemoryEvidenceSink sink;
  InMemoryGrantIssuer grants{clock};
  PackStore packs{&sink, clock};
  ASSERT_TRUE(packs.Load(testing::ExamplePackDir(), Actor{"human", "Human::\"erin\""}).has_value());
  InMemoryCaseKeyStore keys;
  SlowGetCaseStore cases;
  ServiceDeps deps{&packs, &sink, &keys, &grants, nullptr, &clock};
  deps.cases = &cases;
  auto service = RoutingService::Open(deps);
  ASSERT_TRUE(service.has_value()) << service.error().ToString();
  RoutingService& s = **service;
  const Actor source{"source", "zendesk"};
  ASSERT_TRUE(s.RouteCase(MakeCase(kRefundCase), {}, source).has_value());
  ASSERT_TRUE(s.Close("ZD-1001", "resolved", source).has_value());
  ASSERT_EQ(s.resident_cases(), 0u);

  cases.HoldGets();
  std::future<void> entered = cases.Entered();
  auto reader = std::async(std::launch::async, [&] { return s.Get("ZD-1001"); });
  ASSERT_EQ(entered.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  // The read is now inside the store. A route of another case must finish meanwhile.
  auto router = std::async(std::launch::async, [&] {
    return s.RouteCase(MakeCase(R"({"id":"ZD-2","language":"en"})"), {}, source);
  });
  const bool routed_meanwhile =
      router.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  cases.Release();
  EXPECT_TRUE(routed_meanwhile) << "the route waited for the closed case's read";
  auto routed = router.get();
  EXPECT_TRUE(routed.has_value()) << routed.error().ToString();
  auto snap = reader.get();
  ASSERT_TRUE(snap.has_value());
  EXPECT_EQ(snap->state, CaseState::kClosed);
}

INSTANTIATE_TEST_SUITE_P(Stores, Restartable, ::testing::Values(0, 1, 2), [](const auto& p) {
  return p.param == 0 ? "InMemory" : p.param == 1 ? "Sqlite" : "SqliteGroupCommit";
});

TEST(CaseStoreWriteThrough, AFailedWriteLeavesTheCaseAsItWas) {
  FakeClock clock;
  InMemoryEvidenceSink sink;
  InMemoryCaseKeyStore keys;
  InMemoryGrantIssuer grants(clock);
  PackStore packs(&sink, clock);
  ASSERT_TRUE(packs.Load(testing::ExamplePackDir(), Actor{}).has_value());
  InMemoryCaseStore cases;
  ServiceDeps deps{&packs, &sink, &keys, &grants, nullptr, &clock};
  deps.cases = &cases;
  RoutingService service(deps);
  const auto agent = Uid("Agent::\"refund-agent-1\"");
  ASSERT_TRUE(service.RouteCase(MakeCase(kRefundCase), {}, Actor{}).has_value());
  cases.FailPuts(true);
  auto claim = service.Claim("ZD-1001", agent, Actor{});
  ASSERT_FALSE(claim.has_value());
  EXPECT_EQ(claim.error().code(), StatusCode::kUnavailable);
  EXPECT_EQ(service.Get("ZD-1001")->state, CaseState::kRouted) << "not claimed in memory either";
  auto route = service.RouteCase(MakeCase(R"({"id":"ZD-2","language":"en"})"), {}, Actor{});
  ASSERT_FALSE(route.has_value());
  EXPECT_FALSE(service.Get("ZD-2").has_value()) << "a case that was not stored is not known";
  cases.FailPuts(false);
  EXPECT_TRUE(service.Claim("ZD-1001", agent, Actor{}).has_value());
  EXPECT_EQ(cases.LoadAll()->at(0).lifecycle.state(), CaseState::kClaimed);
}

class SqliteStore : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(packs_.Load(testing::ExamplePackDir(), Actor{}).has_value());
  }
  fs::path db_path() const { return dir_.path() / "arbiter.db"; }
  std::unique_ptr<SqliteRoutingStore> OpenStore(SqliteRoutingStoreOptions options = {}) {
    auto db = store::SqliteDb::Open(db_path(), {.durability = store::Durability::kNormal});
    EXPECT_TRUE(db.has_value());
    auto s = SqliteRoutingStore::Open(std::move(db).value(), options);
    EXPECT_TRUE(s.has_value()) << s.error().ToString();
    return s.has_value() ? std::move(s).value() : nullptr;
  }
  // A service's dependencies with `store` as both its key store and its case store.
  ServiceDeps DepsOver(SqliteRoutingStore& store) {
    ServiceDeps deps{&packs_, &sink_, &store, &grants_, nullptr, &clock_};
    deps.cases = &store;
    return deps;
  }
  // The raw key bytes of a case, read as any other process could.
  std::string RawKey(std::string_view case_id) {
    auto db = store::SqliteDb::Open(db_path());
    EXPECT_TRUE(db.has_value());
    auto sel = (*db)->Prepare("SELECT key FROM routing_case_keys WHERE case_id = ?1");
    EXPECT_TRUE(sel.has_value());
    sel->Bind(1, case_id);
    EXPECT_TRUE(*sel->Step());
    Bytes b = sel->ColumnBlob(0);
    return std::string(b.begin(), b.end());
  }

  testing::TempDir dir_;
  FakeClock clock_;
  InMemoryEvidenceSink sink_;
  InMemoryGrantIssuer grants_{clock_};
  PackStore packs_{&sink_, clock_};
};

// Crypto-shredding holds on disk: after Shred neither the key nor the case text is anywhere in
// the database file or its write-ahead log (secure_delete + TRUNCATE checkpoint).
TEST_F(SqliteStore, ShredLeavesNoKeyOrTextInTheFiles) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ServiceDeps deps = DepsOver(*store);
  RoutingService service(deps);
  ASSERT_TRUE(service.RouteCase(MakeCase(kRefundCase), {}, Actor{}).has_value());
  for (int i = 0; i < 50; ++i) {  // neighbours on the same pages
    const std::string json = R"({"id":"N-)" + std::to_string(i) +
                             R"(","subject":"printer jam","language":"en","category":"howto"})";
    ASSERT_TRUE(service.RouteCase(MakeCase(json), {}, Actor{}).has_value());
  }
  const std::string key = RawKey("ZD-1001");
  ASSERT_EQ(key.size(), 32u);
  const auto files = [&] { return ReadFile(db_path()) + ReadFile(fs::path(db_path()) += "-wal"); };
  ASSERT_NE(files().find(key), std::string::npos) << "the key is on disk before the shred";
  ASSERT_NE(files().find("anna@example.com"), std::string::npos);

  ASSERT_TRUE(service.Shred("ZD-1001").ok());
  const std::string after = files();
  EXPECT_EQ(after.find(key), std::string::npos) << "key bytes remain on disk";
  EXPECT_EQ(after.find("anna@example.com"), std::string::npos) << "case text remains on disk";
  EXPECT_EQ(after.find("Refund please"), std::string::npos);
  EXPECT_NE(after.find("printer jam"), std::string::npos) << "other cases are untouched";
  EXPECT_EQ(store->KeyFor("ZD-1001").error().code(), StatusCode::kFailedPrecondition);
  auto wiped = store->WipeWal();
  ASSERT_TRUE(wiped.has_value());
  EXPECT_TRUE(*wiped);
}

TEST_F(SqliteStore, ADamagedRowIsRefusedAtOpen) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ServiceDeps deps{&packs_, &sink_, store.get(), &grants_, nullptr, &clock_};
    deps.cases = store.get();
    RoutingService service(deps);
    ASSERT_TRUE(service.RouteCase(MakeCase(kRefundCase), {}, Actor{}).has_value());
  }
  {
    auto db = store::SqliteDb::Open(db_path());
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE((*db)->Exec("UPDATE routing_cases SET state = 'claimed', agent = ''").ok());
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ServiceDeps deps = DepsOver(*store);
  auto service = RoutingService::Open(deps);
  ASSERT_FALSE(service.has_value());
  EXPECT_EQ(service.error().code(), StatusCode::kDataLoss);
  EXPECT_EQ(service.error().message(),
            "stored case `ZD-1001`: stored lifecycle is inconsistent: state claimed, holder ai, "
            "agent ``");
  // A service constructed anyway refuses to act on a store it could not read.
  RoutingService broken(deps);
  EXPECT_EQ(broken.RouteCase(MakeCase(kRefundCase), {}, Actor{}).error().code(),
            StatusCode::kDataLoss);
}

// Cases a rule routes alike store the policy part of their decision once (routing_route_shapes)
// and only their own signals in their row; a restart puts the whole decision back.
TEST_F(SqliteStore, CasesRoutedAlikeShareOneDecisionShape) {
  std::map<std::string, std::string> decided;
  {
    auto store = OpenStore({.group_commit = true});
    ASSERT_NE(store, nullptr);
    ServiceDeps deps{&packs_, &sink_, store.get(), &grants_, nullptr, &clock_};
    deps.cases = store.get();
    RoutingService service(deps);
    SqliteRoutingStore::BeginTickets();
    for (int i = 0; i < 40; ++i) {
      const std::string id = "S-" + std::to_string(i);
      auto routed = service.RouteCase(
          MakeCase(R"({"id":")" + id + R"(","subject":"printer jam","language":"en"})"), {},
          Actor{});
      ASSERT_TRUE(routed.has_value()) << routed.error().ToString();
      decided.emplace(id, DecisionToStoreText(*routed->decision));
    }
    ASSERT_TRUE(
        store->WaitDurable(*store->LastTicketOnThisThread(), std::chrono::seconds(10)).ok());
  }
  {
    auto db = store::SqliteDb::Open(db_path());
    ASSERT_TRUE(db.has_value());
    auto shapes = (*db)->Prepare("SELECT count(*) FROM routing_route_shapes");
    ASSERT_TRUE(shapes.has_value() && *shapes->Step());
    EXPECT_EQ(shapes->ColumnInt64(0), 1);
    auto rows = (*db)->Prepare(
        "SELECT count(*), max(length(last_route)) FROM routing_cases WHERE route_shape IS NOT "
        "NULL");
    ASSERT_TRUE(rows.has_value() && *rows->Step());
    EXPECT_EQ(rows->ColumnInt64(0), 40);
    EXPECT_LT(static_cast<size_t>(rows->ColumnInt64(1)), decided.begin()->second.size() / 2)
        << "rows hold more than their signals";
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto loaded = store->LoadAll();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  ASSERT_EQ(loaded->size(), decided.size());
  for (const StoredCase& c : *loaded) {
    ASSERT_NE(c.last_route, nullptr) << c.c.id;
    EXPECT_EQ(DecisionToStoreText(*c.last_route), decided.at(c.c.id)) << c.c.id;
  }
  // A row naming a shape that is not stored is refused, not guessed at.
  {
    auto db = store::SqliteDb::Open(db_path());
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE(
        (*db)->Exec("UPDATE routing_cases SET route_shape = 99 WHERE case_id = 'S-7'").ok());
  }
  store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto damaged = store->LoadAll();
  ASSERT_FALSE(damaged.has_value());
  EXPECT_EQ(damaged.error().message(),
            "stored case `S-7`: its decision names an unknown route shape");
}

// A database written by schema version 1 (rowid tables, whole decisions in the rows) is migrated
// on open: every case, pending intent and key comes back, and new writes use the new form.
TEST_F(SqliteStore, AVersionOneDatabaseIsMigrated) {
  const fs::path v1_path = dir_.path() / "v1.db";
  std::string route_text;
  std::string key;
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    ServiceDeps deps{&packs_, &sink_, store.get(), &grants_, nullptr, &clock_};
    deps.cases = store.get();
    RoutingService service(deps);
    auto routed = service.RouteCase(MakeCase(kRefundCase), {}, Actor{});
    ASSERT_TRUE(routed.has_value());
    route_text = DecisionToStoreText(*routed->decision);
    key = RawKey("ZD-1001");
    auto db = store::SqliteDb::Open(v1_path);
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE((*db)
                    ->Exec(R"sql(
CREATE TABLE arbiter_schema (module TEXT PRIMARY KEY, version INTEGER NOT NULL);
INSERT INTO arbiter_schema VALUES ('routing', 1);
CREATE TABLE routing_cases (case_id TEXT PRIMARY KEY, state TEXT NOT NULL, holder TEXT NOT NULL,
  queue TEXT NOT NULL, agent TEXT NOT NULL, grant_id TEXT NOT NULL, last_route TEXT,
  evidence TEXT NOT NULL, facts TEXT NOT NULL, case_json TEXT NOT NULL,
  signals_json TEXT NOT NULL);
CREATE TABLE routing_pending (case_id TEXT NOT NULL REFERENCES routing_cases(case_id),
  request_id TEXT NOT NULL, request TEXT NOT NULL, PRIMARY KEY (case_id, request_id));
CREATE TABLE routing_case_keys (case_id TEXT PRIMARY KEY, key BLOB NOT NULL);
CREATE TABLE routing_shredded (case_id TEXT PRIMARY KEY);
INSERT INTO routing_shredded VALUES ('GONE-1');
)sql")
                    .ok());
    ASSERT_TRUE((*db)->Exec("ATTACH DATABASE '" + db_path().string() + "' AS v2").ok());
    // The version-1 row: the whole decision in last_route.
    auto copy = (*db)->Prepare(
        "INSERT INTO routing_cases SELECT case_id, state, holder, queue, agent, grant_id, ?1, "
        "evidence, facts, case_json, signals_json FROM v2.routing_cases");
    ASSERT_TRUE(copy.has_value());
    copy->Bind(1, route_text);
    ASSERT_TRUE(copy->Run().ok());
    ASSERT_TRUE((*db)
                    ->Exec("INSERT INTO routing_case_keys SELECT * FROM v2.routing_case_keys; "
                           "INSERT INTO routing_pending VALUES ('ZD-1001', 'r-1', 'x')")
                    .ok());
  }
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(fs::path(db_path()) += suffix);
  fs::rename(v1_path, db_path());
  {
    // The pending row above is no valid intent: the migration keeps it, and LoadAll says so.
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto loaded = store->LoadAll();
    ASSERT_FALSE(loaded.has_value());
    EXPECT_EQ(loaded.error().code(), StatusCode::kDataLoss);
    auto db = store::SqliteDb::Open(db_path());
    ASSERT_TRUE(db.has_value());
    ASSERT_TRUE((*db)->Exec("DELETE FROM routing_pending").ok());
  }
  auto store = OpenStore({.group_commit = true});
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(RawKey("ZD-1001"), key);
  EXPECT_EQ(store->KeyFor("GONE-1").error().code(), StatusCode::kFailedPrecondition);
  auto loaded = store->LoadAll();
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  ASSERT_EQ(loaded->size(), 1u);
  ASSERT_NE(loaded->at(0).last_route, nullptr);
  EXPECT_EQ(DecisionToStoreText(*loaded->at(0).last_route), route_text);
  // A new write of the migrated case stores the shared shape.
  ServiceDeps deps = DepsOver(*store);
  auto service = RoutingService::Open(deps);
  ASSERT_TRUE(service.has_value()) << service.error().ToString();
  SqliteRoutingStore::BeginTickets();
  ASSERT_TRUE((*service)->Close("ZD-1001", "done", Actor{}).has_value());
  ASSERT_TRUE(store->WaitDurable(*store->LastTicketOnThisThread(), std::chrono::seconds(10)).ok());
  auto db = store::SqliteDb::Open(db_path());
  ASSERT_TRUE(db.has_value());
  auto sel = (*db)->Prepare("SELECT route_shape IS NOT NULL FROM routing_cases");
  ASSERT_TRUE(sel.has_value() && *sel->Step());
  EXPECT_EQ(sel->ColumnInt64(0), 1);
}

TEST(StoredForms, EveryExampleDecisionRoundTrips) {
  auto bundle = LoadBundle(testing::ExamplePackDir());
  ASSERT_TRUE(bundle.has_value());
  const auto samples = testing::ExampleSampleCases();
  for (const auto& [c, s] : samples) {
    CaseView view = BuildCaseView(**bundle, c, s);
    RoutingDecision d = EvaluateRoute(**bundle, view, std::nullopt);
    const boost::json::value stored = DecisionToStoreJson(d);
    // The direct writer the SQLite store uses writes exactly the canonical form of the same JSON.
    ASSERT_EQ(DecisionToStoreText(d), CanonicalJson(stored)) << c.id;
    auto back = DecisionFromStoreJson(*ParseJson(ToJson(stored)));
    ASSERT_TRUE(back.has_value()) << back.error().ToString();
    EXPECT_EQ(ToJson(DecisionToStoreJson(*back)), ToJson(stored));
    EXPECT_EQ(ToJson(RoutingDecisionToJson(*back)), ToJson(RoutingDecisionToJson(d)));
  }
  EXPECT_GE(samples.size(), 200u);
}

// Parts the example pack never produces: errors, a set-valued and a non-primitive signal, an
// annotation without a value, characters that need escaping.
TEST(StoredForms, DirectWriterCoversEveryPart) {
  RoutingDecision d;
  d.route = Route::kHuman;
  d.queue = "fraud\"q";
  d.priority = -3;
  d.escalation_policy = "p\n1";
  d.fail_safe = true;
  d.principal = "AgentPool::\"support-ai\"";
  d.reasons.push_back(
      {"p1", true, {{"id", std::string("p1")}, {"block", std::nullopt}}, "policies/a.cedar", 7});
  d.errors.push_back({"p1", "while evaluating policy `p1`: \u00e9\x01"});
  d.errors.push_back({"", "signal `x` is odd"});
  d.signals.emplace_back(
      "kinds", cedar::Value::Set({cedar::Value::String("iban"), cedar::Value::String("card")}));
  d.signals.emplace_back("owner", cedar::Value::Entity(cedar::EntityUid("Human", "a\"b")));
  d.signals.emplace_back("n", cedar::Value::Long(-5));
  d.bundle_hash = std::string(64, 'a');
  d.pack_version = "2026.11";
  EXPECT_EQ(DecisionToStoreText(d), CanonicalJson(DecisionToStoreJson(d)));
  auto back = DecisionFromStoreJson(*ParseJson(DecisionToStoreText(d)));
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(DecisionToStoreText(*back), DecisionToStoreText(d));
}

// The per-thread writer the SQLite store uses copies the policy part of the previous decision
// when it is the same: its bytes are DecisionToStoreText's for every decision, in any order, and
// a change in any one field of the policy part is noticed.
TEST(StoredForms, DecisionTextWriterWritesWhatDecisionToStoreTextWrites) {
  auto bundle = LoadBundle(testing::ExamplePackDir());
  ASSERT_TRUE(bundle.has_value());
  DecisionStoreTextWriter writer;
  for (const auto& [c, s] : testing::ExampleSampleCases()) {
    const RoutingDecision d = EvaluateRoute(**bundle, BuildCaseView(**bundle, c, s), std::nullopt);
    ASSERT_EQ(writer.Text(d), DecisionToStoreText(d)) << c.id;
    ASSERT_EQ(writer.Text(d), DecisionToStoreText(d)) << c.id;  // the copied policy part
  }

  RoutingDecision base;
  base.route = Route::kHuman;
  base.queue = "billing";
  base.priority = 2;
  base.escalation_policy = "p1";
  base.principal = "AgentPool::\"support-ai\"";
  base.reasons.push_back({"p1", false, {{"id", std::string("p1")}}, "policies/a.cedar", 7});
  base.signals.emplace_back("tier", cedar::Value::String("gold"));
  base.signals.emplace_back("vip", cedar::Value::Bool(true));
  base.bundle_hash = std::string(64, 'a');
  base.pack_version = "1";
  std::vector<std::function<void(RoutingDecision&)>> changes = {
      [](RoutingDecision& d) { d.route = Route::kAi; },
      [](RoutingDecision& d) { d.queue = "fraud"; },
      [](RoutingDecision& d) { d.priority = 3; },
      [](RoutingDecision& d) { d.escalation_policy = "p2"; },
      [](RoutingDecision& d) { d.fail_safe = true; },
      [](RoutingDecision& d) { d.principal = "AgentPool::\"other\""; },
      [](RoutingDecision& d) { d.bundle_hash = std::string(64, 'b'); },
      [](RoutingDecision& d) { d.pack_version = "2"; },
      [](RoutingDecision& d) { d.reasons[0].policy_id = "p9"; },
      [](RoutingDecision& d) { d.reasons[0].forbid = true; },
      [](RoutingDecision& d) { d.reasons[0].file = "policies/b.cedar"; },
      [](RoutingDecision& d) { d.reasons[0].line = 8; },
      [](RoutingDecision& d) { d.reasons[0].annotations[0].second = std::nullopt; },
      [](RoutingDecision& d) {
        d.reasons[0].annotations.push_back({"block", std::nullopt});
      },
      [](RoutingDecision& d) { d.reasons.push_back(d.reasons[0]); },
      [](RoutingDecision& d) { d.reasons.clear(); },
      [](RoutingDecision& d) {
        d.errors.push_back({"p1", "boom \"x\""});
      },
      [](RoutingDecision& d) { d.signals[0].second = cedar::Value::Long(-4); },
      [](RoutingDecision& d) { d.signals.clear(); },
  };
  for (size_t i = 0; i < changes.size(); ++i) {
    RoutingDecision changed = base;
    changes[i](changed);
    ASSERT_EQ(writer.Text(base), DecisionToStoreText(base)) << i;
    ASSERT_EQ(writer.Text(changed), DecisionToStoreText(changed)) << i;
    ASSERT_NE(DecisionToStoreText(changed), DecisionToStoreText(base)) << i;
  }
  // Errors of the same count but another message.
  RoutingDecision a = base;
  a.errors.push_back({"p1", "one"});
  RoutingDecision b = base;
  b.errors.push_back({"p1", "two"});
  ASSERT_EQ(writer.Text(a), DecisionToStoreText(a));
  ASSERT_EQ(writer.Text(b), DecisionToStoreText(b));
}

// The writer keeps the heads of several policy parts: the example pack's sample cases, in turn,
// alternate between a few routes, and each route's head is written once, however they alternate;
// past kKeptHeads distinct parts the rarest is replaced and every text is still exact.
TEST(StoredForms, DecisionTextWriterKeepsSeveralHeads) {
  auto bundle = LoadBundle(testing::ExamplePackDir());
  ASSERT_TRUE(bundle.has_value());
  std::vector<RoutingDecision> decisions;
  for (const auto& [c, s] : testing::ExampleSampleCases()) {
    decisions.push_back(EvaluateRoute(**bundle, BuildCaseView(**bundle, c, s), std::nullopt));
  }
  DecisionStoreTextWriter writer;
  for (const auto& d : decisions) ASSERT_EQ(writer.Text(d), DecisionToStoreText(d));
  const std::uint64_t distinct = writer.heads_written();
  ASSERT_GE(distinct, 3u);  // the example pack routes its cases in several ways
  ASSERT_LE(distinct, DecisionStoreTextWriter::kKeptHeads) << distinct;
  for (int round = 0; round < 3; ++round) {
    for (const auto& d : decisions) ASSERT_EQ(writer.Text(d), DecisionToStoreText(d));
  }
  EXPECT_EQ(writer.heads_written(), distinct);  // every later case found its head kept

  // More distinct parts than are kept: each text is still DecisionToStoreText's.
  RoutingDecision base = decisions.front();
  for (size_t i = 0; i < 3 * DecisionStoreTextWriter::kKeptHeads; ++i) {
    RoutingDecision d = base;
    d.priority = static_cast<std::int64_t>(i % (DecisionStoreTextWriter::kKeptHeads + 3));
    ASSERT_EQ(writer.Text(d), DecisionToStoreText(d)) << i;
    ASSERT_EQ(writer.Text(decisions[i % decisions.size()]),
              DecisionToStoreText(decisions[i % decisions.size()]))
        << i;
  }
}

// The stored signals text is written directly, with the bytes ToJson(SignalsToJson(s)) writes.
TEST(StoredForms, SignalsTextIsTheSerialisedJson) {
  std::vector<ComputedSignals> all;
  for (const auto& [c, s] : testing::ExampleSampleCases()) all.push_back(s);
  ComputedSignals none;
  all.push_back(none);
  for (double similarity : {0.0, 1.0, 0.5, 0.1, 2.0 / 3.0, 0.8958333333333334, 1e-7}) {
    ComputedSignals s;
    s.duplicate = DuplicateSignal{"L-0000000000000042", similarity, 7};
    all.push_back(s);
  }
  ComputedSignals odd;
  odd.sensitivity = SensitivitySignal{"restricted", {"card", "e\"mail\n", "\u00e9\x01/"}};
  odd.duplicate = DuplicateSignal{"", 0.25, std::int64_t{1} << 40};
  all.push_back(odd);
  ComputedSignals quoted;
  quoted.duplicate = DuplicateSignal{"c\\\"1\t", 0.75, -1};
  all.push_back(quoted);
  ComputedSignals only_sensitivity;
  only_sensitivity.sensitivity = SensitivitySignal{};
  all.push_back(only_sensitivity);
  for (const ComputedSignals& s : all) {
    ASSERT_EQ(SignalsToStoreText(s), ToJson(SignalsToJson(s)));
  }
  EXPECT_GE(all.size(), 200u);
}

// Routing a new case is one transaction: the key KeyForRoute creates is written with the case's
// Put, so an interruption in between leaves neither behind (the records hashed with the lost key
// stay unlinkable, as after a shred).
TEST_F(SqliteStore, ANewCaseKeyIsWrittenWithTheCase) {
  const auto key_rows = [&](std::string_view id) {
    auto db = store::SqliteDb::Open(db_path());
    EXPECT_TRUE(db.has_value());
    auto sel = (*db)->Prepare("SELECT count(*) FROM routing_case_keys WHERE case_id = ?1");
    EXPECT_TRUE(sel.has_value());
    sel->Bind(1, id);
    EXPECT_TRUE(*sel->Step());
    return sel->ColumnInt64(0);
  };
  std::string first_hash;
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    auto key = store->KeyForRoute("ZD-1", store.get());
    ASSERT_TRUE(key.has_value());
    first_hash = key->Hash("case", "ZD-1");
    EXPECT_EQ(store->KeyForRoute("ZD-1", store.get())->Hash("case", "ZD-1"), first_hash);
    EXPECT_EQ(key_rows("ZD-1"), 0) << "held back until the case is put";
  }  // the process stops before the case is stored
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ServiceDeps deps = DepsOver(*store);
  {
    RoutingService service(deps);
    ASSERT_TRUE(
        service.RouteCase(MakeCase(R"({"id":"ZD-1","language":"en"})"), {}, Actor{}).has_value());
  }
  EXPECT_EQ(key_rows("ZD-1"), 1) << "written with the case";
  const std::string second_hash = store->KeyFor("ZD-1")->Hash("case", "ZD-1");
  EXPECT_NE(second_hash, first_hash) << "the lost key was not reused";
  // After a restart the stored key is the one the route used.
  store.reset();
  store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->KeyFor("ZD-1")->Hash("case", "ZD-1"), second_hash);

  // KeyFor (not for a route) hands out a held-back key only once it is written.
  ASSERT_TRUE(store->KeyForRoute("ZD-2", store.get()).has_value());
  EXPECT_EQ(key_rows("ZD-2"), 0);
  ASSERT_TRUE(store->KeyFor("ZD-2").has_value());
  EXPECT_EQ(key_rows("ZD-2"), 1);
  // KeyForRoute for another case store writes at once, like KeyFor.
  InMemoryCaseStore other;
  ASSERT_TRUE(store->KeyForRoute("ZD-3", &other).has_value());
  EXPECT_EQ(key_rows("ZD-3"), 1);
  // A held-back key that is shredded is never written.
  ASSERT_TRUE(store->KeyForRoute("ZD-4", store.get()).has_value());
  ASSERT_TRUE(store->Shred("ZD-4").ok());
  EXPECT_EQ(key_rows("ZD-4"), 0);
  EXPECT_EQ(store->KeyForRoute("ZD-4", store.get()).error().code(),
            StatusCode::kFailedPrecondition);
}

// Group commit: many threads route and move cases; each waits only for its own ticket, and what
// a ticket acknowledged is on disk, with later writes of a case after earlier ones.
TEST_F(SqliteStore, GroupCommitKeepsEveryAcknowledgedWriteInOrder) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 40;
  {
    auto store = OpenStore({.group_commit = true});
    ASSERT_NE(store, nullptr);
    ServiceDeps deps{&packs_, &sink_, store.get(), &grants_, nullptr, &clock_};
    deps.cases = store.get();
    RoutingService service(deps);
    std::vector<std::thread> threads;
    std::atomic<int> acknowledged{0};
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          const std::string id = "GC-" + std::to_string(t) + "-" + std::to_string(i);
          SqliteRoutingStore::BeginTickets();
          auto routed = service.RouteCase(
              MakeCase(R"({"id":")" + id + R"(","language":"en","category":"refund"})"), {},
              Actor{});
          ASSERT_TRUE(routed.has_value()) << routed.error().ToString();
          // The second write of the case (close) lands after the first (route).
          ASSERT_TRUE(service.Close(id, "done", Actor{}).has_value());
          auto ticket = store->LastTicketOnThisThread();
          ASSERT_TRUE(ticket.has_value());
          ASSERT_TRUE(store->WaitDurable(*ticket, std::chrono::seconds(10)).ok());
          ++acknowledged;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(acknowledged.load(), kThreads * kPerThread);
    const CaseWriteStats stats = store->Stats();
    EXPECT_EQ(stats.queued, 2u * kThreads * kPerThread);
    EXPECT_EQ(stats.durable, stats.queued);
    EXPECT_LE(stats.batches, stats.queued);
    EXPECT_TRUE(store->health().ok());
    // A ticket already committed completes at once, on the calling thread.
    Status seen = Status::Unavailable("not called");
    store->OnDurable(stats.durable, [&](Status s) { seen = s; });
    EXPECT_TRUE(seen.ok()) << seen.ToString();
    // A ticket never handed out is an error, not a hang.
    store->OnDurable(stats.queued + 1, [&](Status s) { seen = s; });
    EXPECT_EQ(seen.code(), StatusCode::kFailedPrecondition);
  }
  // Read back by a store without group commit (another process).
  auto again = OpenStore();
  ASSERT_NE(again, nullptr);
  auto all = again->LoadAll();
  ASSERT_TRUE(all.has_value()) << all.error().ToString();
  ASSERT_EQ(all->size(), static_cast<size_t>(kThreads * kPerThread));
  for (const auto& c : *all) {
    EXPECT_EQ(c.lifecycle.state(), CaseState::kClosed) << c.c.id;
    EXPECT_EQ(c.evidence.size(), 2u) << c.c.id;
    EXPECT_TRUE(again->KeyFor(c.c.id).has_value()) << c.c.id << ": its key was written with it";
  }
}

// Group commit checkpoints the WAL on its own thread: while the store is open and writing, the
// rows reach the main database file (SQLite's automatic checkpoint is off on the writing
// connection, so without the checkpointer the file would not grow until the store closes).
TEST_F(SqliteStore, GroupCommitCheckpointsTheWalWhileWriting) {
  auto store = OpenStore({.group_commit = true});
  ASSERT_NE(store, nullptr);
  const auto main_size = [&] { return fs::file_size(db_path()); };
  const auto before = main_size();
  ServiceDeps deps = DepsOver(*store);
  RoutingService service(deps);
  SqliteRoutingStore::BeginTickets();
  for (int i = 0; i < 600; ++i) {
    ASSERT_TRUE(
        service
            .RouteCase(MakeCase(R"({"id":"CP-)" + std::to_string(i) +
                                R"(","language":"en","body":")" + std::string(512, 'x') + R"("})"),
                       {}, Actor{})
            .has_value());
  }
  ASSERT_TRUE(store->WaitDurable(*store->LastTicketOnThisThread(), std::chrono::seconds(10)).ok());
  for (int i = 0; i < 100 && main_size() <= before; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GT(main_size(), before) << "no checkpoint copied the rows into the database file";
}

// Paced group commit (what the server runs, paced by its evidence batches): queued rows wait for
// CommitNow or for the pace, whichever comes first; Shred and LoadAll do not wait for either.
TEST_F(SqliteStore, PacedGroupCommitWaitsForCommitNowOrThePace) {
  auto store = OpenStore({.group_commit = true, .pace = std::chrono::hours(1)});
  ASSERT_NE(store, nullptr);
  ServiceDeps deps = DepsOver(*store);
  RoutingService service(deps);
  SqliteRoutingStore::BeginTickets();
  ASSERT_TRUE(
      service.RouteCase(MakeCase(R"({"id":"P-1","language":"en"})"), {}, Actor{}).has_value());
  const std::uint64_t first = *store->LastTicketOnThisThread();
  EXPECT_EQ(store->WaitDurable(first, std::chrono::milliseconds(50)).code(),
            StatusCode::kUnavailable)
      << "committed before CommitNow or the pace";
  store->CommitNow();
  EXPECT_TRUE(store->WaitDurable(first, std::chrono::seconds(10)).ok());
  EXPECT_EQ(store->Stats().batches, 1u);
  // Shred orders after the queued rows without waiting for the pace.
  ASSERT_TRUE(
      service.RouteCase(MakeCase(R"({"id":"P-2","language":"en"})"), {}, Actor{}).has_value());
  ASSERT_TRUE(store->Shred("P-1").ok());
  EXPECT_EQ(store->Stats().durable, 2u);

  // With a short pace the rows commit without CommitNow.
  store.reset();
  store = OpenStore({.group_commit = true, .pace = std::chrono::milliseconds(5)});
  ASSERT_NE(store, nullptr);
  deps.keys = store.get();
  deps.cases = store.get();
  RoutingService paced(deps);
  SqliteRoutingStore::BeginTickets();
  ASSERT_TRUE(
      paced.RouteCase(MakeCase(R"({"id":"P-3","language":"en"})"), {}, Actor{}).has_value());
  EXPECT_TRUE(store->WaitDurable(*store->LastTicketOnThisThread(), std::chrono::seconds(10)).ok());
  auto loaded = store->LoadAll();
  ASSERT_TRUE(loaded.has_value());
  EXPECT_EQ(loaded->size(), 3u);
}

// A batch that cannot commit fails its waiters and every later write with kUnavailable, and the
// store reports itself unhealthy: nothing is acknowledged that is not on disk.
TEST_F(SqliteStore, AFailedGroupCommitFailsWaitersAndLaterWrites) {
  auto store = OpenStore({.group_commit = true});
  ASSERT_NE(store, nullptr);
  StoredCase ghost;
  ghost.c.id = "NEVER-STORED";
  // A state-only update of a case that was never stored cannot commit.
  SqliteRoutingStore::BeginTickets();
  ASSERT_TRUE(store->Put(ghost, kCaseChangedState).ok());  // queued, not yet known to fail
  auto ticket = store->LastTicketOnThisThread();
  ASSERT_TRUE(ticket.has_value());
  std::promise<Status> failed;
  store->OnDurable(*ticket, [&](Status s) { failed.set_value(s); });
  auto result = failed.get_future();
  ASSERT_EQ(result.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const Status s = result.get();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("case store: "), std::string::npos) << s.message();
  EXPECT_EQ(store->health().code(), StatusCode::kUnavailable);
  StoredCase fresh;
  fresh.c.id = "LATER";
  EXPECT_EQ(store->Put(fresh, kCaseChangedAll).code(), StatusCode::kUnavailable);
  EXPECT_EQ(store->WaitDurable(*ticket, std::chrono::seconds(1)).code(), StatusCode::kUnavailable);
}

// Shred waits for queued rows: the key queued with a routed case is written first, then deleted.
TEST_F(SqliteStore, ShredOrdersAfterQueuedWrites) {
  auto store = OpenStore({.group_commit = true});
  ASSERT_NE(store, nullptr);
  ServiceDeps deps = DepsOver(*store);
  RoutingService service(deps);
  ASSERT_TRUE(
      service.RouteCase(MakeCase(R"({"id":"ZD-9","language":"en"})"), {}, Actor{}).has_value());
  ASSERT_TRUE(service.Shred("ZD-9").ok());
  auto sel_db = store::SqliteDb::Open(db_path());
  ASSERT_TRUE(sel_db.has_value());
  auto sel = (*sel_db)->Prepare("SELECT count(*) FROM routing_case_keys WHERE case_id = 'ZD-9'");
  ASSERT_TRUE(sel.has_value());
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->ColumnInt64(0), 0);
  EXPECT_EQ(store->KeyFor("ZD-9").error().code(), StatusCode::kFailedPrecondition);
}

// CaseStore::Get on the SQLite store sees rows still queued for the committer: with a long pace
// nothing commits on its own, and Get right after a close returns the closed case.
TEST_F(SqliteStore, GetSeesRowsStillQueued) {
  auto store = OpenStore({.group_commit = true, .pace = std::chrono::seconds(30)});
  ASSERT_NE(store, nullptr);
  ServiceDeps deps = DepsOver(*store);
  RoutingService service(deps);
  EXPECT_FALSE(store->Get("ZD-7").value().has_value()) << "never put";
  ASSERT_TRUE(
      service
          .RouteCase(MakeCase(R"({"id":"ZD-7","language":"en","category":"refund"})"), {}, Actor{})
          .has_value());
  auto stored = store->Get("ZD-7");
  ASSERT_TRUE(stored.has_value()) << stored.error().ToString();
  ASSERT_TRUE(stored->has_value()) << "the queued route is seen";
  EXPECT_EQ((*stored)->lifecycle.state(), CaseState::kRouted);
  ASSERT_TRUE(service.Close("ZD-7", "done", Actor{}).has_value());
  EXPECT_EQ(store->Stats().queued, store->Stats().durable + 1) << "the close is still queued";
  EXPECT_EQ(service.resident_cases(), 0u);
  auto snap = service.Get("ZD-7");
  ASSERT_TRUE(snap.has_value());
  EXPECT_EQ(snap->state, CaseState::kClosed);
  EXPECT_EQ(snap->evidence.size(), 2u);
  stored = store->Get("ZD-7");
  ASSERT_TRUE(stored.has_value() && stored->has_value());
  EXPECT_EQ((*stored)->lifecycle.state(), CaseState::kClosed);
  EXPECT_EQ((*stored)->c.id, "ZD-7");
}

// Get reads a case with its pending intents and its decision as LoadAll does.
TEST_F(SqliteStore, GetReadsWhatLoadAllReads) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ServiceDeps deps = DepsOver(*store);
  RoutingService service(deps);
  const auto agent = Uid("Agent::\"refund-agent-1\"");
  ASSERT_TRUE(service.RouteCase(MakeCase(kRefundCase), {}, Actor{}).has_value());
  ASSERT_TRUE(service.Claim("ZD-1001", agent, Actor{}).has_value());
  auto big = service.RequestIntent("ZD-1001", agent, "refund", {{"amount_cents", 45000}}, Actor{});
  ASSERT_TRUE(big.has_value()) << big.error().ToString();
  ASSERT_EQ(big->decision.outcome, IntentOutcome::kPendingApproval);
  auto all = store->LoadAll();
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 1u);
  auto one = store->Get("ZD-1001");
  ASSERT_TRUE(one.has_value() && one->has_value());
  const StoredCase& a = all->at(0);
  const StoredCase& b = **one;
  EXPECT_EQ(b.pending.size(), 1u);
  EXPECT_TRUE(b.pending.contains(big->request_id));
  EXPECT_EQ(CanonicalJson(PendingToStoreJson(b.pending.begin()->second)),
            CanonicalJson(PendingToStoreJson(a.pending.begin()->second)));
  ASSERT_TRUE(a.last_route != nullptr && b.last_route != nullptr);
  EXPECT_EQ(DecisionToStoreText(*b.last_route), DecisionToStoreText(*a.last_route));
  EXPECT_EQ(b.evidence, a.evidence);
  EXPECT_EQ(b.lifecycle.state(), CaseState::kClaimed);
  EXPECT_EQ(b.c.subject, "Refund please");
}

TEST(StoredForms, MalformedDecisionIsDataLoss) {
  auto r = DecisionFromStoreJson(*ParseJson(R"({"route":"sideways"})"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
  EXPECT_EQ(r.error().message(), "stored case: last_route: unknown route `sideways`");
  auto p = PendingFromStoreJson(*ParseJson(R"({"intent":"refund","agent":"A","params":[]})"));
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().message(), "stored case: pending intent: params is not an object");
}

}  // namespace
}  // namespace arbiter::routing
