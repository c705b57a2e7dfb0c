#include "arbiter/routing/router.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "arbiter/cedar/entities.h"
#include "arbiter/common/json.h"
#include "test_packs.h"

namespace arbiter::routing {
namespace {

using testing::MakeCase;
using testing::Replace;
using testing::TinyPack;

std::vector<std::string> Ids(const std::vector<PolicyReason>& reasons) {
  std::vector<std::string> ids;
  for (const auto& r : reasons) ids.push_back(r.policy_id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

cedar::EntityUid Uid(std::string_view text) {
  auto uid = cedar::ParseEntityUid(text);
  EXPECT_TRUE(uid.has_value());
  return uid.has_value() ? *uid : cedar::EntityUid();
}

class ExamplePack : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = LoadBundle(testing::ExamplePackDir());
    ASSERT_TRUE(b.has_value()) << b.error().ToString();
    bundle_ = *b;
  }
  RoutingDecision Route(std::string_view case_json, const ComputedSignals& s = {}) {
    sources::Case c = MakeCase(case_json);
    CaseView view = BuildCaseView(*bundle_, c, s);
    return EvaluateRoute(*bundle_, view, std::nullopt);
  }
  std::shared_ptr<const Bundle> bundle_;
};

constexpr std::string_view kRoutine =
    R"({"id":"C1","language":"en","customer":{"tier":"standard"},"severity":4,
        "category":"how_to","ai":{"confidence":0.9}})";

TEST_F(ExamplePack, RoutineCaseStaysWithAi) {
  RoutingDecision d = Route(kRoutine);
  EXPECT_EQ(d.route, Route::kAi);
  EXPECT_EQ(d.queue, "");
  EXPECT_EQ(Ids(d.reasons), std::vector<std::string>{"ai-baseline"});
  EXPECT_TRUE(d.errors.empty());
  EXPECT_EQ(d.bundle_hash, bundle_->hash());
  EXPECT_EQ(d.principal, "AgentPool::\"support-ai\"");
  // The signal values used are part of the decision.
  auto it = std::find_if(d.signals.begin(), d.signals.end(),
                         [](const auto& kv) { return kv.first == "ai_confidence"; });
  ASSERT_NE(it, d.signals.end());
  EXPECT_EQ(it->second.as_long(), 90);
}

TEST_F(ExamplePack, HighestPriorityEscalationPicksTheQueue) {
  RoutingDecision d = Route(
      R"({"id":"C2","language":"en","severity":1,"indicators":{"fraud":true},"ai":{"confidence":0.9}})");
  EXPECT_EQ(d.route, Route::kHuman);
  EXPECT_EQ(d.queue, "incident");
  EXPECT_EQ(d.priority, 100);
  EXPECT_EQ(d.escalation_policy, "sev1-incident");
  EXPECT_EQ(Ids(d.reasons), (std::vector<std::string>{"fraud-indicator", "sev1-incident"}));
  for (const auto& r : d.reasons) EXPECT_TRUE(r.forbid);
}

TEST_F(ExamplePack, RestrictedDataNeverGoesToAi) {
  ComputedSignals s;
  s.sensitivity = SensitivitySignal{"restricted", {"card"}};
  RoutingDecision d = Route(kRoutine, s);
  EXPECT_EQ(d.route, Route::kHuman);
  EXPECT_EQ(d.queue, "privacy");
}

TEST_F(ExamplePack, MissingConfidenceIsNotConfidence) {
  RoutingDecision d = Route(R"({"id":"C3","language":"en"})");
  EXPECT_EQ(d.route, Route::kHuman);
  EXPECT_EQ(d.queue, "general");
  EXPECT_EQ(Ids(d.reasons), std::vector<std::string>{"low-ai-confidence"});
}

TEST_F(ExamplePack, SanctionsHoldBlocksTheCase) {
  RoutingDecision d = Route(
      R"({"id":"C4","language":"en","ai":{"confidence":0.9},"indicators":{"fraud":true},
          "attributes":{"account_status":"sanctioned"}})");
  EXPECT_EQ(d.route, Route::kBlocked);
  EXPECT_EQ(d.queue, "");
  EXPECT_EQ(Ids(d.reasons),
            (std::vector<std::string>{"fraud-indicator", "sanctioned-account-hold"}));
}

TEST_F(ExamplePack, LanguagePrimarySubtagIsMatched) {
  EXPECT_EQ(Route(R"({"id":"C5","language":"de-CH","ai":{"confidence":0.9}})").route, Route::kAi);
  RoutingDecision d = Route(R"({"id":"C6","language":"ja","ai":{"confidence":0.9}})");
  EXPECT_EQ(d.queue, "language-desk");
}

TEST_F(ExamplePack, SignalOfTheWrongTypeFailsSafe) {
  RoutingDecision d = Route(
      R"({"id":"C7","language":"en","ai":{"confidence":0.9},"attributes":{"account_status":7}})");
  EXPECT_EQ(d.route, Route::kHuman);
  EXPECT_EQ(d.queue, "policy-errors");
  EXPECT_TRUE(d.fail_safe);
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_EQ(d.errors[0].message,
            "signal `account_status` (from `attributes.account_status`) is a long, the pack "
            "expects a string");
}

TEST_F(ExamplePack, RefundNeedsApprovalAndTheRightApprover) {
  sources::Case c = MakeCase(kRoutine);
  CaseView view = BuildCaseView(*bundle_, c, {});
  const auto agent = Uid("Agent::\"refund-agent-1\"");
  boost::json::object params{{"amount_cents", 150000}};
  auto d = EvaluateIntent(*bundle_, view, agent, "refund", params, std::nullopt);
  ASSERT_TRUE(d.has_value()) << d.error().ToString();
  EXPECT_EQ(d->outcome, IntentOutcome::kPendingApproval);
  EXPECT_EQ(d->approvals, std::vector<std::string>{"finance"});

  EXPECT_FALSE(
      EvaluateApproval(*bundle_, view, Uid("Human::\"bob\""), "refund", "finance").allowed);
  PersonDecision ok =
      EvaluateApproval(*bundle_, view, Uid("Human::\"carla\""), "refund", "finance");
  EXPECT_TRUE(ok.allowed);
  EXPECT_EQ(Ids(ok.reasons), std::vector<std::string>{"approver-holds-required-role"});

  auto approved = EvaluateIntent(*bundle_, view, agent, "refund", params,
                                 Approval{"Human::\"carla\"", "finance"});
  ASSERT_TRUE(approved.has_value());
  EXPECT_EQ(approved->outcome, IntentOutcome::kAllow);
  // A supervisor's approval is not a finance approval.
  auto wrong = EvaluateIntent(*bundle_, view, agent, "refund", params,
                              Approval{"Human::\"alice\"", "supervisor"});
  ASSERT_TRUE(wrong.has_value());
  EXPECT_EQ(wrong->outcome, IntentOutcome::kPendingApproval);
}

TEST_F(ExamplePack, SmallRefundIsAllowedAndHugeOneDenied) {
  sources::Case c = MakeCase(kRoutine);
  CaseView view = BuildCaseView(*bundle_, c, {});
  const auto agent = Uid("Agent::\"refund-agent-1\"");
  auto small =
      EvaluateIntent(*bundle_, view, agent, "refund", {{"amount_cents", 500}}, std::nullopt);
  ASSERT_TRUE(small.has_value());
  EXPECT_EQ(small->outcome, IntentOutcome::kAllow);
  auto huge =
      EvaluateIntent(*bundle_, view, agent, "refund", {{"amount_cents", 900000}}, std::nullopt);
  ASSERT_TRUE(huge.has_value());
  EXPECT_EQ(huge->outcome, IntentOutcome::kDeny);
  EXPECT_EQ(Ids(huge->reasons), std::vector<std::string>{"refund-hard-limit"});
}

TEST_F(ExamplePack, RefundOnFraudEscalates) {
  sources::Case c = MakeCase(R"({"id":"C8","language":"en","indicators":{"fraud":true}})");
  CaseView view = BuildCaseView(*bundle_, c, {});
  auto d = EvaluateIntent(*bundle_, view, Uid("Agent::\"refund-agent-1\""), "refund",
                          {{"amount_cents", 500}}, std::nullopt);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->outcome, IntentOutcome::kEscalate);
  EXPECT_EQ(d->queue, "fraud");
}

TEST_F(ExamplePack, IntentParametersAreChecked) {
  sources::Case c = MakeCase(kRoutine);
  CaseView view = BuildCaseView(*bundle_, c, {});
  const auto agent = Uid("Agent::\"refund-agent-1\"");
  struct Bad {
    std::string intent;
    boost::json::object params;
    std::string error;
  };
  const std::vector<Bad> bad = {
      {"refunds", {{"amount_cents", 1}}, "unknown intent `refunds`"},
      {"refund", {}, "intent `refund`: parameter `amount_cents` is missing"},
      {"refund",
       {{"amount_cents", "12"}},
       "intent `refund`: parameter `amount_cents` must be an integer"},
      {"refund",
       {{"amount_cents", 1.5}},
       "intent `refund`: parameter `amount_cents` must be an integer"},
      {"refund", {{"amount_cents", 1}, {"note", "x"}}, "intent `refund`: unknown parameter `note`"},
  };
  for (const auto& b : bad) {
    auto d = EvaluateIntent(*bundle_, view, agent, b.intent, b.params, std::nullopt);
    ASSERT_FALSE(d.has_value()) << b.error;
    EXPECT_EQ(d.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(d.error().message(), b.error);
  }
}

TEST_F(ExamplePack, OnlySupervisorsOverrideAndNeverRestrictedToAi) {
  sources::Case c = MakeCase(kRoutine);
  CaseView plain = BuildCaseView(*bundle_, c, {});
  EXPECT_TRUE(
      EvaluateOverride(*bundle_, plain, Uid("Human::\"alice\""), Route::kHuman, "tier2").allowed);
  EXPECT_FALSE(
      EvaluateOverride(*bundle_, plain, Uid("Human::\"bob\""), Route::kHuman, "tier2").allowed);
  ComputedSignals s;
  s.sensitivity = SensitivitySignal{"restricted", {"iban"}};
  CaseView restricted = BuildCaseView(*bundle_, c, s);
  PersonDecision d =
      EvaluateOverride(*bundle_, restricted, Uid("Human::\"alice\""), Route::kAi, "");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(Ids(d.reasons), std::vector<std::string>{"restricted-never-overridden-to-ai"});
}

TEST_F(ExamplePack, ExplanationNamesQueuePoliciesAndSignals) {
  RoutingDecision d =
      Route(R"({"id":"C9","language":"en","indicators":{"fraud":true},"ai":{"confidence":0.9}})");
  const std::string text = ExplainDecision(*bundle_, d);
  EXPECT_NE(text.find("route: human -> queue `fraud` (Fraud investigations)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("forbid fraud-indicator @escalate(fraud) @priority(90)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("a fraud indicator is set"), std::string::npos) << text;
  EXPECT_NE(text.find("fraud=true"), std::string::npos) << text;
  EXPECT_NE(text.find(bundle_->hash()), std::string::npos) << text;
}

TEST_F(ExamplePack, DecisionJsonHasEveryPart) {
  RoutingDecision d = Route(R"({"id":"C10","language":"en","severity":1,"ai":{"confidence":0.9}})");
  boost::json::object o = RoutingDecisionToJson(d);
  EXPECT_EQ(o.at("route"), "human");
  EXPECT_EQ(o.at("queue"), "incident");
  EXPECT_EQ(o.at("reasons").as_array().at(0).at("policy"), "sev1-incident");
  EXPECT_EQ(o.at("reasons").as_array().at(0).at("effect"), "forbid");
  EXPECT_EQ(o.at("reasons").as_array().at(0).at("annotations").at("escalate"), "incident");
  EXPECT_EQ(o.at("signals").at("severity"), 1);
  EXPECT_EQ(o.at("bundle").at("hash").as_string(), bundle_->hash());
  EXPECT_TRUE(o.at("errors").as_array().empty());
}

// Fail-safe: an escalation that errors at evaluation time must not let the case reach AI.
TEST(RouterFailSafe, ErroringForbidSendsTheCaseToAPerson) {
  PackSources s = TinyPack();
  s.policy_files.emplace_back("policies/b.cedar", R"(@id("broken-check")
@escalate("urgent")
@priority("5")
forbid (principal, action == Action::"ai_handle", resource)
when { resource.flag == "boom" && resource.tier + 1 == 2 };
)");
  auto bundle = BuildBundle(s);
  ASSERT_TRUE(bundle.has_value()) << bundle.error().ToString();
  sources::Case c = MakeCase(R"({"id":"X","attributes":{"flag":"boom"}})");
  CaseView view = BuildCaseView(**bundle, c, {});
  RoutingDecision d = EvaluateRoute(**bundle, view, std::nullopt);
  EXPECT_EQ(d.route, Route::kHuman);
  EXPECT_EQ(d.queue, "errors");
  EXPECT_TRUE(d.fail_safe);
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_EQ(d.errors[0].policy_id, "broken-check");

  // When another escalation determines the queue, it is used; the error is still reported.
  sources::Case sev1 = MakeCase(R"({"id":"Y","severity":1,"attributes":{"flag":"boom"}})");
  CaseView view1 = BuildCaseView(**bundle, sev1, {});
  RoutingDecision d1 = EvaluateRoute(**bundle, view1, std::nullopt);
  EXPECT_EQ(d1.queue, "urgent");
  EXPECT_FALSE(d1.fail_safe);
  EXPECT_EQ(d1.errors.size(), 1u);

  // Intents are denied on any error.
  s.policy_files.emplace_back("policies/c.cedar", R"(@id("refund-ok")
permit (principal, action == Action::"refund", resource);
@id("refund-broken")
forbid (principal, action == Action::"refund", resource)
when { context.amount_cents > 5 && resource.tier + 1 == 2 };
)");
  auto bundle2 = BuildBundle(s);
  ASSERT_TRUE(bundle2.has_value()) << bundle2.error().ToString();
  CaseView view2 = BuildCaseView(**bundle2, c, {});
  auto intent = EvaluateIntent(**bundle2, view2, (*bundle2)->config().ai_principal, "refund",
                               {{"amount_cents", 10}}, std::nullopt);
  ASSERT_TRUE(intent.has_value());
  EXPECT_EQ(intent->outcome, IntentOutcome::kDeny);
  EXPECT_FALSE(intent->errors.empty());
}

TEST(RouterDefaults, DenyWithoutEscalationUsesTheDefaultQueue) {
  PackSources s = TinyPack();
  s.policy_files.emplace_back("policies/b.cedar", R"(@id("gold-to-people")
forbid (principal, action == Action::"ai_handle", resource) when { resource.tier == "gold" };
)");
  auto bundle = BuildBundle(s);
  ASSERT_TRUE(bundle.has_value()) << bundle.error().ToString();
  sources::Case c = MakeCase(R"({"id":"G","customer":{"tier":"gold"}})");
  CaseView view = BuildCaseView(**bundle, c, {});
  RoutingDecision d = EvaluateRoute(**bundle, view, std::nullopt);
  EXPECT_EQ(d.route, Route::kHuman);
  EXPECT_EQ(d.queue, "general");
  EXPECT_FALSE(d.fail_safe);
  EXPECT_EQ(Ids(d.reasons), std::vector<std::string>{"gold-to-people"});
}

}  // namespace
}  // namespace arbiter::routing
