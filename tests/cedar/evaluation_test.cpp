// Data-driven evaluation tests: data/expressions.txt lists expressions with the expected outcome.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "arbiter/cedar/authorizer.h"

namespace arbiter::cedar {
namespace {

Entities TestEntities() {
  Entities e;
  EXPECT_TRUE(e.Add(EntityUid("User", "alice"), Value::Record({{"age", Value::Long(42)}}),
                    {EntityUid("Group", "admins")},
                    Value::Record({{"clearance", Value::String("secret")}}))
                  .ok());
  EXPECT_TRUE(
      e.Add(EntityUid("Group", "admins"), Value::Record({}), {EntityUid("Group", "all")}).ok());
  EXPECT_TRUE(e.Add(EntityUid("Group", "all"), Value::Record({}), {}).ok());
  EXPECT_TRUE(e.Add(EntityUid("Photo", "p1"),
                    Value::Record({{"owner", Value::Entity(EntityUid("User", "alice"))}}), {})
                  .ok());
  EXPECT_TRUE(
      e.Add(EntityUid("Action", "view"), Value::Record({}), {EntityUid("Action", "read")}).ok());
  EXPECT_TRUE(e.Add(EntityUid("Action", "read"), Value::Record({}), {}).ok());
  EXPECT_TRUE(e.Finalize().ok());
  return e;
}

TEST(CedarEvaluation, ExpressionTable) {
  std::ifstream in(ARBITER_CEDAR_TEST_DATA "/expressions.txt");
  ASSERT_TRUE(in) << "cannot read tests/cedar/data/expressions.txt";
  Entities entities = TestEntities();
  Request req{EntityUid("User", "alice"), EntityUid("Action", "view"), EntityUid("Photo", "p1"),
              Value::Record({{"flag", Value::Bool(true)}, {"n", Value::Long(7)}})};
  std::string line;
  int line_no = 0, cases = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    size_t bar = line.find('|');
    ASSERT_NE(bar, std::string::npos) << "line " << line_no;
    std::string expected = line.substr(0, line.find(' '));
    std::string expr = line.substr(bar + 1);
    std::string text = "permit(principal, action, resource) when { " + expr + " };";
    auto policies = ParsePolicySet(text);
    ASSERT_TRUE(policies.has_value())
        << "line " << line_no << ": " << expr << ": " << policies.error().message();
    Response r = IsAuthorized(req, *policies, entities);
    std::string got = !r.errors.empty()                ? "error"
                      : r.decision == Decision::kAllow ? "true"
                                                       : "false";
    EXPECT_EQ(got, expected) << "line " << line_no << ":" << expr
                             << (r.errors.empty() ? "" : " (" + r.errors[0].message + ")");
    ++cases;
  }
  EXPECT_GT(cases, 100);
}

TEST(CedarAuthorizer, ForbidOverridesPermitAndErrorsAreReported) {
  auto policies = ParsePolicySet(R"(
    @id("allow-all") permit(principal, action, resource);
    @id("deny-alice") forbid(principal == User::"alice", action, resource);
    @id("broken") forbid(principal, action, resource) when { principal.nope };
    permit(principal, action, resource) when { context.n > 1 };
  )");
  ASSERT_TRUE(policies.has_value()) << policies.error().message();
  Entities entities = TestEntities();
  Request req{EntityUid("User", "alice"), EntityUid("Action", "view"), EntityUid("Photo", "p1"),
              Value::Record({{"n", Value::Long(2)}})};
  Response r = IsAuthorized(req, *policies, entities);
  EXPECT_EQ(r.decision, Decision::kDeny);
  EXPECT_EQ(r.reasons, std::vector<std::string>{"deny-alice"});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].policy_id, "broken");
  EXPECT_NE(r.errors[0].message.find("nope"), std::string::npos);

  req.principal = EntityUid("User", "bob");
  r = IsAuthorized(req, *policies, entities);
  EXPECT_EQ(r.decision, Decision::kAllow);
  EXPECT_EQ(r.reasons, (std::vector<std::string>{"allow-all", "policy3"}));
  auto determining = DeterminingPolicies(r, *policies);
  ASSERT_EQ(determining.size(), 2u);
  EXPECT_EQ(determining[0]->id(), "allow-all");
}

TEST(CedarAuthorizer, DefaultDenyWithNoPolicies) {
  auto policies = ParsePolicySet("");
  ASSERT_TRUE(policies.has_value());
  Entities entities;
  Response r = IsAuthorized(Request{EntityUid("U", "a"), EntityUid("Action", "x"),
                                    EntityUid("R", "r"), Value::Record({})},
                            *policies, entities);
  EXPECT_EQ(r.decision, Decision::kDeny);
  EXPECT_TRUE(r.reasons.empty());
  EXPECT_TRUE(r.errors.empty());
}

TEST(CedarAuthorizer, ScopeFormsAndActionIndex) {
  auto policies = ParsePolicySet(R"(
    permit(principal == User::"alice", action == Action::"view", resource);
    permit(principal in Group::"all", action in [Action::"read"], resource is Photo);
    permit(principal is User in Group::"admins", action in Action::"read", resource == Photo::"p1");
    permit(principal, action == Action::"edit", resource);
    forbid(principal is Group, action, resource in Photo::"p1");
  )");
  ASSERT_TRUE(policies.has_value()) << policies.error().message();
  Entities entities = TestEntities();
  Request req{EntityUid("User", "alice"), EntityUid("Action", "view"), EntityUid("Photo", "p1"),
              Value::Record({})};
  Response r = IsAuthorized(req, *policies, entities);
  EXPECT_EQ(r.decision, Decision::kAllow);
  EXPECT_EQ(r.reasons, (std::vector<std::string>{"policy0", "policy1", "policy2"}));
  req.principal = EntityUid("User", "bob");
  r = IsAuthorized(req, *policies, entities);
  EXPECT_EQ(r.decision, Decision::kDeny);
  req.action = EntityUid("Action", "edit");
  r = IsAuthorized(req, *policies, entities);
  EXPECT_EQ(r.reasons, std::vector<std::string>{"policy3"});
}

TEST(CedarEntities, OverlayOverBaseWithoutCopying) {
  Entities base = TestEntities();
  Entities overlay(&base);
  ASSERT_TRUE(overlay
                  .Add(EntityUid("Case", "c1"),
                       Value::Record({{"score", *Value::ParseDecimal("0.85")},
                                      {"tags", Value::Set({Value::String("vip")})}}),
                       {EntityUid("Group", "admins")})
                  .ok());
  ASSERT_TRUE(overlay.Finalize().ok());
  EXPECT_EQ(overlay.size(), 1u);
  EXPECT_TRUE(overlay.IsIn(EntityUid("Case", "c1"), EntityUid("Group", "all")));
  EXPECT_NE(overlay.Find(EntityUid("User", "alice")), nullptr);
  auto policies = ParsePolicySet(R"(
    @escalate @priority("high")
    permit(principal, action, resource is Case in Group::"all")
      when { resource.score.greaterThan(decimal("0.8")) && resource.tags.contains("vip") };
  )");
  ASSERT_TRUE(policies.has_value()) << policies.error().message();
  Response r = IsAuthorized(Request{EntityUid("User", "alice"), EntityUid("Action", "view"),
                                    EntityUid("Case", "c1"), Value::Record({})},
                            *policies, overlay);
  EXPECT_EQ(r.decision, Decision::kAllow);
  auto determining = DeterminingPolicies(r, *policies);
  ASSERT_EQ(determining.size(), 1u);
  EXPECT_EQ(determining[0]->annotation("priority"), std::optional<std::string>("high"));
  ASSERT_TRUE(determining[0]->annotation("escalate").has_value());
  EXPECT_FALSE(determining[0]->annotation("escalate")->has_value());
  EXPECT_FALSE(determining[0]->annotation("absent").has_value());
  // The overlay does not change the base.
  EXPECT_EQ(base.Find(EntityUid("Case", "c1")), nullptr);
}

TEST(CedarEntities, DuplicateInOverlayIsAnError) {
  Entities e;
  ASSERT_TRUE(e.Add(EntityUid("A", "1"), Value::Record({}), {}).ok());
  EXPECT_FALSE(e.Add(EntityUid("A", "1"), Value::Record({}), {}).ok());
  EXPECT_FALSE(e.Add(EntityUid("A", "2"), Value::Long(1), {}).ok());
}

// Records built from fields already in key order take a fast path; the result must be the same
// record as from any other order, and repeated keys keep the last value either way.
TEST(CedarValue, RecordIsTheSameWhateverTheFieldOrder) {
  const Value sorted =
      Value::Record({{"a", Value::Long(1)}, {"b", Value::String("x")}, {"c", Value::Bool(true)}});
  const Value shuffled =
      Value::Record({{"c", Value::Bool(true)}, {"a", Value::Long(1)}, {"b", Value::String("x")}});
  EXPECT_EQ(sorted, shuffled);
  ASSERT_EQ(sorted.as_record().size(), 3u);
  EXPECT_EQ(sorted.as_record().fields()[2].first, "c");
  EXPECT_EQ(sorted.ToString(), shuffled.ToString());

  const Value repeated = Value::Record({{"a", Value::Long(1)}, {"a", Value::Long(2)}});
  ASSERT_EQ(repeated.as_record().size(), 1u);
  EXPECT_EQ(repeated.as_record().Find("a")->as_long(), 2);
  const Value repeated_late =
      Value::Record({{"a", Value::Long(1)}, {"b", Value::Long(2)}, {"b", Value::Long(3)}});
  ASSERT_EQ(repeated_late.as_record().size(), 2u);
  EXPECT_EQ(repeated_late.as_record().Find("b")->as_long(), 3);

  // Empty records are shared but equal to any other empty record and distinct from non-empty.
  EXPECT_EQ(Value::Record({}), Value::Record(std::vector<std::pair<std::string, Value>>{}));
  EXPECT_EQ(Value::Record({}).as_record().size(), 0u);
  EXPECT_FALSE(Value::Record({}) == sorted);
}

}  // namespace
}  // namespace arbiter::cedar

namespace arbiter::cedar {
namespace {

// StringLiterals gives each distinct string of the conditions once (also inside set literals),
// as the policies hold it, so that a caller's equal values can share the policies' storage.
TEST(CedarPolicySet, StringLiteralsAreTheConditionsStringsEachOnce) {
  auto policies = ParsePolicySet(R"(
    permit(principal, action, resource) when { resource.tier == "gold" && context.n == 1 };
    forbid(principal, action, resource)
      when { ["gold", "silver"].contains(resource.tier) || resource.name like "x*" }
      unless { principal == User::"notastring" };
  )");
  ASSERT_TRUE(policies.has_value()) << policies.error().message();
  std::vector<std::string> texts;
  for (const Value& v : StringLiterals(*policies)) {
    ASSERT_TRUE(v.is(ValueKind::kString));
    texts.push_back(v.as_string());
  }
  std::sort(texts.begin(), texts.end());
  EXPECT_EQ(texts, (std::vector<std::string>{"gold", "silver"}));
}

// The request's principal, action and resource are evaluated as borrowed entity values; they
// must behave as owned ones in every place an entity value can go.
TEST(CedarAuthorizer, RequestVariablesWorkInEveryEntityPosition) {
  auto policies = ParsePolicySet(R"(
    @id("eq") permit(principal, action, resource) when { principal == User::"alice" };
    @id("set") permit(principal, action, resource)
      when { [principal, resource].contains(User::"alice") && {p: principal}.p == principal };
    @id("in") permit(principal, action, resource) when { principal in Group::"admins" };
    @id("attr") permit(principal, action, resource) when { resource.owner == principal };
  )");
  ASSERT_TRUE(policies.has_value()) << policies.error().message();
  Entities entities;
  ASSERT_TRUE(
      entities.Add(EntityUid("User", "alice"), Value::Record({}), {EntityUid("Group", "admins")})
          .ok());
  ASSERT_TRUE(entities
                  .Add(EntityUid("Photo", "p1"),
                       Value::Record({{"owner", Value::Entity(EntityUid("User", "alice"))}}), {})
                  .ok());
  ASSERT_TRUE(entities.Finalize().ok());
  Response r = IsAuthorized(Request{EntityUid("User", "alice"), EntityUid("Action", "view"),
                                    EntityUid("Photo", "p1"), Value::Record({})},
                            *policies, entities);
  EXPECT_EQ(r.decision, Decision::kAllow);
  EXPECT_EQ(r.reasons, (std::vector<std::string>{"eq", "set", "in", "attr"}));
  EXPECT_TRUE(r.errors.empty());
}

}  // namespace
}  // namespace arbiter::cedar
