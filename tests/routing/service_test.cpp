#include "arbiter/routing/service.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "arbiter/cedar/entities.h"
#include "arbiter/common/bytes.h"
#include "arbiter/common/crypto.h"
#include "arbiter/common/json.h"
#include "test_packs.h"

namespace arbiter::routing {
namespace {

using testing::MakeCase;

cedar::EntityUid Uid(std::string_view text) { return *cedar::ParseEntityUid(text); }

class FailingSignals final : public SignalComputer {
 public:
  Result<ComputedSignals> Compute(const sources::Case&) override {
    return Status::Unavailable("scanner is down");
  }
};

class Service : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = packs_.Load(testing::ExamplePackDir(), Actor{"human", "Human::\"erin\""});
    ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  }
  boost::json::object Record(size_t i) {
    auto v = ParseJson(sink_.Records().at(i));
    EXPECT_TRUE(v.has_value());
    return v->as_object();
  }

  FakeClock clock_;
  InMemoryEvidenceSink sink_;
  InMemoryCaseKeyStore keys_;
  InMemoryGrantIssuer grants_{clock_};
  PackStore packs_{&sink_, clock_};
  RoutingService service_{{&packs_, &sink_, &keys_, &grants_, nullptr, &clock_}};
  const Actor source_{"source", "zendesk"};
  const Actor bot_{"agent", "spiffe://arbiter.example/agent/refund-agent-1"};
  const Actor alice_{"human", "Human::\"alice\""};
};

constexpr std::string_view kRefundCase =
    R"({"id":"ZD-1001","subject":"Refund please","body":"Card 4111 1111 1111 1111 charged twice, mail anna@example.com",
        "language":"en","customer":{"id":"cust-42","tier":"standard"},"category":"refund",
        "ai":{"confidence":0.93}})";

TEST_F(Service, FullAiLifecycleWithApprovalAndEvidence) {
  sources::Case c = MakeCase(kRefundCase);
  auto routed = service_.RouteCase(c, {}, source_);
  ASSERT_TRUE(routed.has_value()) << routed.error().ToString();
  EXPECT_EQ(routed->decision->route, Route::kAi);
  ASSERT_TRUE(routed->evidence_index.has_value());

  // The route record: canonical JSON, no raw text or personal data, keyed hashes instead.
  const std::string raw = sink_.Records().at(*routed->evidence_index);
  EXPECT_EQ(raw, CanonicalJson(*ParseJson(raw)));
  // (Each secret contains a character that is not hex: "4111" alone turns up in a random
  // 64-hex-digit keyed hash about once in 360 runs.)
  for (std::string_view secret :
       {"ZD-1001", "4111 1111", "anna@example.com", "cust-42", "Refund please"}) {
    EXPECT_EQ(raw.find(secret), std::string::npos) << secret << " leaked into " << raw;
  }
  boost::json::object r = Record(*routed->evidence_index);
  EXPECT_EQ(r.at("type"), "route");
  auto key = keys_.KeyFor("ZD-1001");
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(r.at("case").as_string(), key->Hash("case", "ZD-1001"));
  EXPECT_EQ(r.at("customer").as_string(), key->Hash("customer", "cust-42"));
  EXPECT_EQ(r.at("text").as_string(), key->Hash("text", c.AllText()));
  EXPECT_EQ(r.at("bundle").at("hash").as_string(), packs_.Current()->hash());
  EXPECT_EQ(r.at("decision").at("route"), "ai");
  EXPECT_EQ(r.at("decision").at("signals").at("ai_confidence"), 93);
  EXPECT_EQ(r.at("actor").at("id"), "zendesk");

  const auto agent = Uid("Agent::\"refund-agent-1\"");
  auto claim = service_.Claim("ZD-1001", agent, bot_);
  ASSERT_TRUE(claim.has_value()) << claim.error().ToString();
  EXPECT_TRUE(grants_.IsLive(claim->grant.grant_id));
  EXPECT_EQ(claim->grant.expires_at_micros, clock_.NowMicros() + 900'000'000);

  // Another agent cannot act on the claimed case.
  auto other = service_.RequestIntent("ZD-1001", Uid("Agent::\"refund-agent-2\""), "refund",
                                      {{"amount_cents", 100}}, bot_);
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), StatusCode::kPermissionDenied);

  auto small = service_.RequestIntent("ZD-1001", agent, "refund", {{"amount_cents", 900}}, bot_);
  ASSERT_TRUE(small.has_value()) << small.error().ToString();
  EXPECT_EQ(small->decision.outcome, IntentOutcome::kAllow);
  EXPECT_FALSE(small->intent_token.empty());

  auto big = service_.RequestIntent("ZD-1001", agent, "refund", {{"amount_cents", 45000}}, bot_);
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(big->decision.outcome, IntentOutcome::kPendingApproval);
  EXPECT_EQ(big->decision.approvals, std::vector<std::string>{"supervisor"});
  EXPECT_TRUE(big->intent_token.empty());
  ASSERT_FALSE(big->request_id.empty());

  auto by_bob = service_.Approve("ZD-1001", big->request_id, Uid("Human::\"bob\""),
                                 Actor{"human", "Human::\"bob\""});
  ASSERT_TRUE(by_bob.has_value());
  EXPECT_FALSE(by_bob->approval.allowed);
  EXPECT_FALSE(by_bob->intent.has_value());

  auto by_alice = service_.Approve("ZD-1001", big->request_id, Uid("Human::\"alice\""), alice_);
  ASSERT_TRUE(by_alice.has_value()) << by_alice.error().ToString();
  EXPECT_TRUE(by_alice->approval.allowed);
  ASSERT_TRUE(by_alice->intent.has_value());
  EXPECT_EQ(by_alice->intent->decision.outcome, IntentOutcome::kAllow);
  EXPECT_FALSE(by_alice->intent->intent_token.empty());
  // The pending request is consumed.
  EXPECT_EQ(
      service_.Approve("ZD-1001", big->request_id, Uid("Human::\"alice\""), alice_).error().code(),
      StatusCode::kNotFound);

  auto closed = service_.Close("ZD-1001", "resolved", bot_);
  ASSERT_TRUE(closed.has_value()) << closed.error().ToString();
  EXPECT_FALSE(grants_.IsLive(claim->grant.grant_id)) << "close revokes the case grant";
  EXPECT_EQ(service_.RequestIntent("ZD-1001", agent, "refund", {{"amount_cents", 1}}, bot_)
                .error()
                .code(),
            StatusCode::kFailedPrecondition);

  // Every step left a record, in order, all tied to the case by the same keyed reference.
  auto snap = service_.Get("ZD-1001");
  ASSERT_TRUE(snap.has_value());
  EXPECT_EQ(snap->state, CaseState::kClosed);
  std::vector<std::string> types;
  for (std::uint64_t i : snap->evidence) {
    boost::json::object rec = Record(i);
    types.emplace_back(rec.at("type").as_string());
    EXPECT_EQ(rec.at("case").as_string(), key->Hash("case", "ZD-1001"));
  }
  EXPECT_EQ(types, (std::vector<std::string>{"route", "claim", "intent", "intent", "approval",
                                             "approval", "intent", "close"}));
}

TEST_F(Service, EscalatingIntentTakesTheCaseFromAi) {
  sources::Case c =
      MakeCase(R"({"id":"ZD-2","language":"en","ai":{"confidence":0.95},"category":"refund"})");
  ASSERT_TRUE(service_.RouteCase(c, {}, source_).has_value());
  const auto agent = Uid("Agent::\"refund-agent-1\"");
  auto claim = service_.Claim("ZD-2", agent, bot_);
  ASSERT_TRUE(claim.has_value());
  // The refund is above the hard limit: a plain deny, the case stays claimed.
  auto denied = service_.RequestIntent("ZD-2", agent, "refund", {{"amount_cents", 900000}}, bot_);
  ASSERT_TRUE(denied.has_value());
  EXPECT_EQ(denied->decision.outcome, IntentOutcome::kDeny);
  EXPECT_EQ(service_.Get("ZD-2")->state, CaseState::kClaimed);
  // The agent hands over.
  auto esc = service_.Escalate("ZD-2", "billing", "customer asked for a person", bot_);
  ASSERT_TRUE(esc.has_value()) << esc.error().ToString();
  EXPECT_EQ(service_.Get("ZD-2")->state, CaseState::kEscalated);
  EXPECT_EQ(service_.Get("ZD-2")->queue, "billing");
  EXPECT_FALSE(grants_.IsLive(claim->grant.grant_id));
  const std::string raw = sink_.Records().at(**esc);
  EXPECT_EQ(raw.find("customer asked"), std::string::npos);
  auto missed = service_.MissedEscalations();
  ASSERT_EQ(missed.size(), 1u);
  EXPECT_EQ(missed[0].case_id, "ZD-2");
  EXPECT_EQ(missed[0].signals, std::vector<std::string>{"escalated_later"});
  EXPECT_EQ(missed[0].policies, std::vector<std::string>{"ai-baseline"});
}

TEST_F(Service, OverrideIsCheckedByPolicy) {
  sources::Case c = MakeCase(R"({"id":"ZD-3","language":"en","severity":1})");
  auto routed = service_.RouteCase(c, {}, source_);
  ASSERT_TRUE(routed.has_value());
  EXPECT_EQ(routed->decision->queue, "incident");
  auto by_bob = service_.Override("ZD-3", Uid("Human::\"bob\""), Route::kAi, "",
                                  Actor{"human", "Human::\"bob\""});
  ASSERT_TRUE(by_bob.has_value());
  EXPECT_FALSE(by_bob->decision.allowed);
  EXPECT_EQ(service_.Get("ZD-3")->holder, Holder::kHuman);
  auto by_alice = service_.Override("ZD-3", Uid("Human::\"alice\""), Route::kAi, "", alice_);
  ASSERT_TRUE(by_alice.has_value());
  EXPECT_TRUE(by_alice->decision.allowed);
  EXPECT_EQ(service_.Get("ZD-3")->state, CaseState::kOverridden);
  EXPECT_EQ(service_.Get("ZD-3")->holder, Holder::kAi);
  boost::json::object r = Record(*by_alice->evidence_index);
  EXPECT_EQ(r.at("type"), "override");
  EXPECT_EQ(r.at("allowed"), true);
  EXPECT_EQ(r.at("to").at("route"), "ai");
  EXPECT_EQ(r.at("policies").as_array().at(0).at("policy"), "supervisors-may-override");
  // Now an agent may claim it.
  EXPECT_TRUE(service_.Claim("ZD-3", Uid("Agent::\"triage-bot-1\""), bot_).has_value() == false)
      << "ai_handle is re-checked at claim: severity 1 still forbids the machine";
  EXPECT_EQ(service_.Get("ZD-3")->state, CaseState::kEscalated);
}

TEST_F(Service, OutcomesFindMissedEscalations) {
  for (const char* id : {"A-1", "A-2", "A-3", "H-1"}) {
    std::string json = std::string(R"({"id":")") + id + R"(","language":"en","ai":{"confidence":)" +
                       (id[0] == 'A' ? "0.9" : "0.1") + "}}";
    ASSERT_TRUE(service_.RouteCase(MakeCase(json), {}, source_).has_value());
    ASSERT_TRUE(service_.Close(id, "resolved", bot_).has_value());
  }
  ASSERT_TRUE(
      service_.RecordOutcome("A-1", OutcomeKind::kReopened, std::nullopt, source_).has_value());
  ASSERT_TRUE(service_.RecordOutcome("A-2", OutcomeKind::kSatisfaction, 5, source_).has_value());
  ASSERT_TRUE(
      service_.RecordOutcome("A-3", OutcomeKind::kDisputed, std::nullopt, source_).has_value());
  ASSERT_TRUE(service_.RecordOutcome("A-3", OutcomeKind::kSatisfaction, 1, source_).has_value());
  ASSERT_TRUE(
      service_.RecordOutcome("H-1", OutcomeKind::kReopened, std::nullopt, source_).has_value());
  EXPECT_EQ(service_.RecordOutcome("A-2", OutcomeKind::kSatisfaction, 9, source_).error().code(),
            StatusCode::kInvalidArgument);
  auto missed = service_.MissedEscalations();
  ASSERT_EQ(missed.size(), 2u);
  EXPECT_EQ(missed[0].case_id, "A-1");
  EXPECT_EQ(missed[0].signals, std::vector<std::string>{"reopened"});
  EXPECT_EQ(missed[1].case_id, "A-3");
  EXPECT_EQ(missed[1].signals, (std::vector<std::string>{"disputed", "low_csat"}));
  EXPECT_EQ(missed[1].bundle_hash, packs_.Current()->hash());
  // A reopened case is routed again.
  EXPECT_TRUE(
      service_.RouteCase(MakeCase(R"({"id":"A-1","language":"en"})"), {}, source_).has_value());
  EXPECT_FALSE(
      service_.RouteCase(MakeCase(R"({"id":"A-2","language":"en"})"), {}, source_).has_value());
}

// Without a case store there is nothing to read a closed case back from: it stays in memory.
TEST_F(Service, WithoutAStoreClosedCasesStayInMemory) {
  ASSERT_TRUE(service_.RouteCase(MakeCase(kRefundCase), {}, source_).has_value());
  ASSERT_TRUE(service_.Close("ZD-1001", "resolved", bot_).has_value());
  EXPECT_EQ(service_.resident_cases(), 1u);
  EXPECT_EQ(service_.size(), 1u);
  EXPECT_EQ(service_.Get("ZD-1001")->state, CaseState::kClosed);
}

TEST_F(Service, ShreddingBreaksTheLinkButKeepsTheRecords) {
  sources::Case c = MakeCase(kRefundCase);
  auto routed = service_.RouteCase(c, {}, source_);
  ASSERT_TRUE(routed.has_value());
  const std::string before = sink_.Records().at(*routed->evidence_index);
  auto key = keys_.KeyFor("ZD-1001");
  ASSERT_TRUE(key.has_value());
  ASSERT_TRUE(service_.Shred("ZD-1001").ok());
  EXPECT_EQ(sink_.Records().at(*routed->evidence_index), before) << "the ledger is untouched";
  EXPECT_FALSE(keys_.KeyFor("ZD-1001").has_value());
  // Without the key nothing further can be written for the case.
  EXPECT_FALSE(service_.Claim("ZD-1001", Uid("Agent::\"triage-bot-1\""), bot_).has_value());
}

TEST_F(Service, ScannerFailureNeverRoutesToAi) {
  FailingSignals failing;
  RoutingService service({&packs_, &sink_, &keys_, &grants_, &failing, &clock_});
  auto routed = service.RouteCase(MakeCase(kRefundCase), {}, source_);
  ASSERT_TRUE(routed.has_value());
  EXPECT_EQ(routed->decision->route, Route::kHuman);
  EXPECT_EQ(routed->decision->queue, "policy-errors");
  EXPECT_TRUE(routed->decision->fail_safe);
  EXPECT_EQ(routed->decision->errors.back().message, "signals: scanner is down");
}

TEST_F(Service, EvidenceFailureLeavesTheCaseUnrouted) {
  sink_.FailAppends(true);
  auto routed = service_.RouteCase(MakeCase(kRefundCase), {}, source_);
  ASSERT_FALSE(routed.has_value());
  EXPECT_EQ(routed.error().code(), StatusCode::kUnavailable);
  // No trace of the failed route: the case is unknown, not left behind as a new case.
  EXPECT_FALSE(service_.Get(MakeCase(kRefundCase).id).has_value());
  EXPECT_EQ(service_.size(), 0u);
  sink_.FailAppends(false);
  auto again = service_.RouteCase(MakeCase(kRefundCase), {}, source_);
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
}

// Policy is evaluated outside the service's lock, so threads race for the same new case: exactly
// one routes it (one record, one state), the others are refused as for any routed case.
TEST_F(Service, ConcurrentRoutesOfOneNewCaseRouteItOnce) {
  constexpr int kThreads = 8;
  const size_t records_before = sink_.Records().size();  // the pack's load record
  std::atomic<int> routed{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        std::string json(kRefundCase);
        const std::string id = "RACE-" + std::to_string(i);
        json.replace(json.find("ZD-1001"), 7, id);
        auto r = service_.RouteCase(MakeCase(json), {}, source_);
        if (r.has_value()) {
          ++routed;
        } else if (r.error().code() == StatusCode::kFailedPrecondition) {
          ++refused;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(routed.load(), 50);
  EXPECT_EQ(refused.load(), 50 * (kThreads - 1));
  EXPECT_EQ(sink_.Records().size() - records_before, 50u);
  EXPECT_EQ(service_.size(), 50u);
}

// RouteCase writes its record into a per-thread buffer that it reuses: each appended record is
// exactly RouteRecordJson of that case (nothing left over from a longer record before it), and
// the result and the case state hold the same decision.
TEST_F(Service, RecordsFromTheReusedBufferEqualRouteRecordJson) {
  auto bundle = packs_.Current();
  ASSERT_NE(bundle, nullptr);
  sources::Case big = MakeCase(kRefundCase);
  big.id = "ZD-BIG";
  for (int i = 0; i < 40; ++i) big.messages.push_back({"customer", std::string(400, 'x'), ""});
  sources::Case small = MakeCase(kRefundCase);
  small.id = "ZD-SMALL";
  for (const sources::Case* c : {&big, &small, &big}) {
    sources::Case routed_case = *c;
    routed_case.id += "-" + std::to_string(sink_.size());
    auto routed = service_.RouteCase(routed_case, {}, source_);
    ASSERT_TRUE(routed.has_value()) << routed.error().ToString();
    ASSERT_NE(routed->decision, nullptr);
    const std::string raw = sink_.Records().at(*routed->evidence_index);
    auto key = keys_.KeyFor(routed_case.id);
    ASSERT_TRUE(key.has_value());
    EXPECT_EQ(raw, RouteRecordJson(*bundle, routed_case, *routed->decision, *key, source_,
                                   clock_.NowMicros()));
    auto snap = service_.Get(routed_case.id);
    ASSERT_TRUE(snap.has_value());
    EXPECT_EQ(snap->last_route, routed->decision) << "one decision, shared";
  }
}

TEST(ServiceWithoutPack, RefusesToRoute) {
  FakeClock clock;
  InMemoryEvidenceSink sink;
  InMemoryCaseKeyStore keys;
  InMemoryGrantIssuer grants(clock);
  PackStore packs(&sink, clock);
  RoutingService service({&packs, &sink, &keys, &grants, nullptr, &clock});
  auto r = service.RouteCase(MakeCase(R"({"id":"X"})"), {}, Actor{});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "no policy pack is loaded");
}

}  // namespace
}  // namespace arbiter::routing

namespace arbiter::routing {
namespace {

// The hot-path writer produces exactly CanonicalJson of the generic record, for every sample case.
TEST(RouteRecordJson, EqualsCanonicalJsonOfTheRecordForEverySampleCase) {
  auto bundle = LoadBundle(testing::ExamplePackDir());
  ASSERT_TRUE(bundle.has_value());
  InMemoryCaseKeyStore keys;
  const auto samples = testing::ExampleSampleCases();
  for (const auto& [c, s] : samples) {
    CaseView view = BuildCaseView(**bundle, c, s);
    RoutingDecision d = EvaluateRoute(**bundle, view, std::nullopt);
    CaseKey key = *keys.KeyFor(c.id);
    const Actor actor{"source", "zen\"desk\n"};
    EXPECT_EQ(RouteRecordJson(**bundle, c, d, key, actor, 123),
              CanonicalJson(RouteRecord(**bundle, c, d, key, actor, 123)))
        << c.id;
  }
  EXPECT_GE(samples.size(), 200u);
}

// Records larger than the writer's first buffer, text in many messages (hashed in place in more
// pieces than fit inline), a decision under another principal with errors and unknown signals.
TEST(RouteRecordJson, EqualsCanonicalJsonForLargeAndUnusualRecords) {
  auto bundle = LoadBundle(testing::ExamplePackDir());
  ASSERT_TRUE(bundle.has_value());
  sources::Case c;
  c.id = "ZD-\"big\"";
  c.source = "native";
  c.body = "first line";
  for (int i = 0; i < 20; ++i)
    c.messages.push_back({"customer", "message " + std::to_string(i), ""});
  c.messages.push_back({"agent", "", ""});
  InMemoryCaseKeyStore keys;
  CaseKey key = *keys.KeyFor(c.id);
  CaseView view = BuildCaseView(**bundle, c, {});
  RoutingDecision d = EvaluateRoute(**bundle, view, cedar::EntityUid("Agent", "x\"y"));
  d.errors.push_back({"p\u00e9", std::string(3000, '\x01')});
  d.signals.emplace_back("zz_extra", cedar::Value::Long(1));
  d.signals.emplace_back("aa_extra", cedar::Value::String("\t"));
  const Actor actor{"human", std::string(5000, 'a')};
  EXPECT_EQ(RouteRecordJson(**bundle, c, d, key, actor, -1),
            CanonicalJson(RouteRecord(**bundle, c, d, key, actor, -1)));
  // Subject only, and no text at all.
  sources::Case bare;
  bare.id = "bare";
  EXPECT_EQ(RouteRecordJson(**bundle, bare, d, key, actor, 0),
            CanonicalJson(RouteRecord(**bundle, bare, d, key, actor, 0)));
  bare.subject = "only a subject";
  bare.messages.push_back({"", "and a message", ""});
  EXPECT_EQ(RouteRecordJson(**bundle, bare, d, key, actor, 0),
            CanonicalJson(RouteRecord(**bundle, bare, d, key, actor, 0)));
}

}  // namespace
}  // namespace arbiter::routing

namespace arbiter::routing {
namespace {

// The bytes of every sample case's route record and decision, pinned: a fixed key, actor and time,
// so that optimisations of the hot path (case view, Cedar, record writer) cannot change what is
// written to the ledger. The pin covers the example pack's bundle hash too: a change to
// examples/support changes it (print the new value with --gtest_also_run_disabled_tests after
// checking, case by case, that only the bundle hash moved).
TEST(RouteRecordJson, BytesOfEverySampleRecordArePinned) {
  auto bundle = LoadBundle(testing::ExamplePackDir());
  ASSERT_TRUE(bundle.has_value());
  Bytes key_bytes(32);
  for (size_t i = 0; i < key_bytes.size(); ++i) key_bytes[i] = static_cast<std::uint8_t>(7 * i + 1);
  const CaseKey key(key_bytes);
  const Actor actor{"source", "zendesk"};
  const auto samples = testing::ExampleSampleCases();
  std::string all;
  std::string first;
  for (const auto& [c, s] : samples) {
    RoutingDecision d = EvaluateRoute(**bundle, BuildCaseView(**bundle, c, s), std::nullopt);
    const std::string record = RouteRecordJson(**bundle, c, d, key, actor, 1700000000000000);
    if (first.empty()) first = record;
    all += record;
    all += '\n';
    all += CanonicalJson(RoutingDecisionToJson(d));
    all += '\n';
  }
  EXPECT_EQ(samples.size(), 240u);
  EXPECT_EQ(HexEncode(Sha256(all)),
            "427c0c26ac3d4dfae6a95ea4d74e7f2f3e8a000ca07808037a3ae001a3d67cf0")
      << "first record: " << first;
}

}  // namespace
}  // namespace arbiter::routing
