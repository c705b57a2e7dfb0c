// Case grants: creation, claim by one instance, TTL and max TTL, revocation on case close, expiry,
// listing, and the rule that an ended grant is never revived.
#include "arbiter/grants/grants.h"

#include <gtest/gtest.h>

#include "arbiter/identity/token_error.h"
#include "grants/grants_env.h"

namespace arbiter::grants {
namespace {

using identity::TokenError;
using identity::TokenErrorOf;

class GrantsTest : public ::testing::Test {
 protected:
  void SetUp() override { s_.Init(); }
  GrantSpec Spec(std::string case_id = "case-A", std::int64_t ttl = 900,
                 std::int64_t max_ttl = 3600) {
    GrantSpec g;
    g.case_id = std::move(case_id);
    g.ttl_seconds = ttl;
    g.max_ttl_seconds = max_ttl;
    return g;
  }
  testing::Stack s_;
};

TEST_F(GrantsTest, ClaimBindsTheGrantToOneInstance) {
  const auto a = s_.NewAgent();
  const auto b = s_.NewAgent();
  auto g = s_.grants->CreateForCase(Spec());
  ASSERT_TRUE(g) << g.error().ToString();
  EXPECT_EQ(g->state, GrantState::kActive);
  EXPECT_TRUE(g->agent.empty());
  auto claimed = s_.grants->Claim(g->id, a);
  ASSERT_TRUE(claimed) << claimed.error().ToString();
  EXPECT_EQ(claimed->agent, a.id.ToString());
  EXPECT_EQ(claimed->claimed_at, s_.clock.NowSeconds());
  // Idempotent for the holder; refused for any other instance (same workload or not).
  EXPECT_TRUE(s_.grants->Claim(g->id, a));
  auto stolen = s_.grants->Claim(g->id, b);
  ASSERT_FALSE(stolen);
  EXPECT_EQ(TokenErrorOf(stolen.error()), TokenError::kAgentMismatch);
  EXPECT_EQ(stolen.error().code(), StatusCode::kPermissionDenied);
  auto active_for_b = s_.grants->ActiveGrantFor("case-A", b);
  ASSERT_FALSE(active_for_b);
  EXPECT_EQ(TokenErrorOf(active_for_b.error()), TokenError::kAgentMismatch);
  EXPECT_TRUE(s_.grants->ActiveGrantFor("case-A", a));
}

TEST_F(GrantsTest, WorkloadRestrictedGrant) {
  const auto triage = s_.NewAgent("triage-bot");
  const auto refund = s_.NewAgent("refund-bot");
  auto spec = Spec();
  spec.workload = "refund-bot";
  auto g = s_.grants->CreateForCase(spec);
  ASSERT_TRUE(g);
  auto wrong = s_.grants->Claim(g->id, triage);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(TokenErrorOf(wrong.error()), TokenError::kAgentMismatch);
  EXPECT_TRUE(s_.grants->Claim(g->id, refund));
}

TEST_F(GrantsTest, TtlMaxTtlAndTheWorkloadCap) {
  const auto a = s_.NewAgent();  // workload max grant TTL: 1800 s
  auto g = s_.grants->CreateForCase(Spec("case-A", 600, 7200));
  ASSERT_TRUE(g);
  EXPECT_EQ(g->max_expires_at, s_.clock.NowSeconds() + 7200);
  auto claimed = s_.grants->Claim(g->id, a);
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->max_expires_at, s_.clock.NowSeconds() + 1800);  // capped by the workload
  s_.clock.AdvanceSeconds(500);
  auto extended = s_.grants->Extend(g->id, a, 3600);
  ASSERT_TRUE(extended) << extended.error().ToString();
  EXPECT_EQ(extended->expires_at, claimed->max_expires_at);  // never past the maximum
  const auto b = s_.NewAgent();
  EXPECT_EQ(TokenErrorOf(s_.grants->Extend(g->id, b, 60).error()), TokenError::kAgentMismatch);
  s_.clock.AdvanceSeconds(1300);
  auto got = s_.grants->Get(g->id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->state, GrantState::kExpired);
  // Expired: cannot be extended, claimed or revived.
  EXPECT_EQ(TokenErrorOf(s_.grants->Extend(g->id, a, 60).error()), TokenError::kGrantInactive);
  EXPECT_EQ(*s_.grants->ExpireDue(), 1);
  EXPECT_EQ(*s_.grants->ExpireDue(), 0);
  ASSERT_TRUE(s_.grants->Revoke(g->id, "late").ok());
  EXPECT_EQ(s_.grants->Get(g->id)->state, GrantState::kExpired);
  EXPECT_EQ(s_.grants->Get(g->id)->end_reason, "ttl elapsed");
}

TEST_F(GrantsTest, ClosingTheCaseRevokesItsGrantsForGood) {
  const auto a = s_.NewAgent();
  auto g1 = s_.GrantFor("case-A", a);
  auto g2 = s_.grants->CreateForCase(Spec("case-A"));
  auto other = s_.GrantFor("case-B", a);
  ASSERT_TRUE(g2);
  auto n = s_.grants->RevokeForCase("case-A");
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 2);
  auto list = s_.grants->ListByCase("case-A");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  for (const auto& g : *list) {
    EXPECT_EQ(g.state, GrantState::kRevoked);
    EXPECT_EQ(g.end_reason, "case closed");
  }
  EXPECT_EQ(s_.grants->Get(other.id)->state, GrantState::kActive);
  // Never revived: claim, extend and expiry leave it revoked.
  EXPECT_EQ(TokenErrorOf(s_.grants->Claim(g2->id, a).error()), TokenError::kGrantInactive);
  EXPECT_EQ(TokenErrorOf(s_.grants->Extend(g1.id, a, 60).error()), TokenError::kGrantInactive);
  s_.clock.AdvanceSeconds(10000);
  EXPECT_TRUE(s_.grants->ExpireDue());
  EXPECT_EQ(s_.grants->Get(g1.id)->state, GrantState::kRevoked);
  auto inactive = s_.grants->ActiveGrantFor("case-A", a);
  ASSERT_FALSE(inactive);
  EXPECT_EQ(TokenErrorOf(inactive.error()), TokenError::kGrantInactive);
  EXPECT_NE(inactive.error().message().find("revoked"), std::string::npos);
}

TEST_F(GrantsTest, ListByAgentAndValidation) {
  const auto a = s_.NewAgent();
  const auto b = s_.NewAgent();
  s_.GrantFor("case-1", a);
  s_.GrantFor("case-2", a);
  s_.GrantFor("case-3", b);
  auto mine = s_.grants->ListByAgent(a.id);
  ASSERT_TRUE(mine);
  ASSERT_EQ(mine->size(), 2u);
  EXPECT_EQ((*mine)[0].case_id, "case-1");
  EXPECT_EQ(s_.grants->ListByAgent(b.id)->size(), 1u);
  EXPECT_EQ(s_.grants->CreateForCase(Spec("", 1, 1)).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s_.grants->CreateForCase(Spec("c d")).error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s_.grants->CreateForCase(Spec("c", 100, 50)).error().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(s_.grants->CreateForCase(Spec("c", 0, 50)).error().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(s_.grants->Get("g_missing").error().code(), StatusCode::kNotFound);
  auto none = s_.grants->ActiveGrantFor("case-none", a);
  EXPECT_EQ(TokenErrorOf(none.error()), TokenError::kGrantInactive);
}

}  // namespace
}  // namespace arbiter::grants
