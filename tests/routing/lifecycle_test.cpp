#include "arbiter/routing/lifecycle.h"

#include <gtest/gtest.h>

namespace arbiter::routing {
namespace {

TEST(CaseLifecycle, HappyPathWithAi) {
  CaseLifecycle lc;
  ASSERT_TRUE(lc.Route(Route::kAi, "").ok());
  EXPECT_EQ(lc.state(), CaseState::kRouted);
  EXPECT_EQ(lc.holder(), Holder::kAi);
  ASSERT_TRUE(lc.Claim("Agent::\"a\"").ok());
  EXPECT_TRUE(lc.CheckIntent("Agent::\"a\"").ok());
  EXPECT_EQ(lc.CheckIntent("Agent::\"b\"").code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(lc.Close().ok());
  EXPECT_EQ(lc.state(), CaseState::kClosed);
  ASSERT_TRUE(lc.Outcome(OutcomeKind::kSatisfaction).ok());
  EXPECT_EQ(lc.state(), CaseState::kClosed);
  ASSERT_TRUE(lc.Outcome(OutcomeKind::kReopened).ok());
  EXPECT_EQ(lc.state(), CaseState::kReopened);
  ASSERT_TRUE(lc.Route(Route::kHuman, "general").ok());
  EXPECT_EQ(lc.holder(), Holder::kHuman);
}

// Each step is applied in order; `ok` says whether it must be accepted.
struct Step {
  const char* op;  // route_ai route_human route_blocked claim intent escalate override_ai
                   // override_human close reopened disputed csat
  bool ok;
};

Status Apply(CaseLifecycle& lc, std::string_view op) {
  if (op == "route_ai") return lc.Route(Route::kAi, "");
  if (op == "route_human") return lc.Route(Route::kHuman, "general");
  if (op == "route_blocked") return lc.Route(Route::kBlocked, "");
  if (op == "claim") return lc.Claim("Agent::\"a\"");
  if (op == "intent") return lc.CheckIntent("Agent::\"a\"");
  if (op == "escalate") return lc.Escalate("tier2");
  if (op == "override_ai") return lc.Override(Route::kAi, "");
  if (op == "override_human") return lc.Override(Route::kHuman, "tier2");
  if (op == "close") return lc.Close();
  if (op == "reopened") return lc.Outcome(OutcomeKind::kReopened);
  if (op == "disputed") return lc.Outcome(OutcomeKind::kDisputed);
  if (op == "csat") return lc.Outcome(OutcomeKind::kSatisfaction);
  return Status::Internal("unknown op");
}

struct Scenario {
  const char* name;
  std::vector<Step> steps;
};

class LifecycleTransitions : public ::testing::TestWithParam<Scenario> {};

TEST_P(LifecycleTransitions, RefusesIllegalTransitionsWithAReason) {
  CaseLifecycle lc;
  for (size_t i = 0; i < GetParam().steps.size(); ++i) {
    const Step& s = GetParam().steps[i];
    const CaseState before = lc.state();
    Status st = Apply(lc, s.op);
    EXPECT_EQ(st.ok(), s.ok) << "step " << i << " `" << s.op << "`: " << st.ToString();
    if (!st.ok()) {
      EXPECT_EQ(lc.state(), before) << "a refused transition must not change state";
      EXPECT_FALSE(st.message().empty());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, LifecycleTransitions,
    ::testing::Values(
        Scenario{"claim_before_route", {{"claim", false}, {"close", false}, {"csat", false}}},
        Scenario{"human_case_cannot_be_claimed",
                 {{"route_human", true}, {"claim", false}, {"intent", false}, {"escalate", false}}},
        Scenario{"intent_needs_claim",
                 {{"route_ai", true},
                  {"intent", false},
                  {"claim", true},
                  {"intent", true},
                  {"claim", false}}},
        Scenario{"route_twice", {{"route_ai", true}, {"route_human", false}}},
        Scenario{"escalate_then_agent_is_out",
                 {{"route_ai", true},
                  {"claim", true},
                  {"escalate", true},
                  {"intent", false},
                  {"escalate", false},
                  {"close", true}}},
        Scenario{"override_back_to_ai",
                 {{"route_human", true}, {"override_ai", true}, {"claim", true}, {"intent", true}}},
        Scenario{
            "blocked_can_be_overridden",
            {{"route_blocked", true}, {"claim", false}, {"override_human", true}, {"close", true}}},
        Scenario{"closed_is_final_until_reopened",
                 {{"route_ai", true},
                  {"close", true},
                  {"close", false},
                  {"claim", false},
                  {"override_human", false},
                  {"route_ai", false},
                  {"disputed", true},
                  {"reopened", true},
                  {"reopened", false},
                  {"close", false},
                  {"route_ai", true}}},
        Scenario{"outcome_needs_close",
                 {{"route_ai", true}, {"reopened", false}, {"disputed", false}}}),
    [](const auto& tp) { return std::string(tp.param.name); });

TEST(CaseLifecycle, RefusalNamesStateAndHolder) {
  CaseLifecycle lc;
  ASSERT_TRUE(lc.Route(Route::kHuman, "fraud").ok());
  Status st = lc.Claim("Agent::\"a\"");
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(),
            "cannot claim it for an agent: the case is routed (held by a person in queue `fraud`)");
}

}  // namespace
}  // namespace arbiter::routing
