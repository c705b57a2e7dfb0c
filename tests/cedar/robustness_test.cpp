// Malformed input never crashes, hangs or produces a multi-line error: deterministic mutations of
// valid policies, schemas, entities and requests are parsed (and, when they parse, evaluated).
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "arbiter/cedar/authorizer.h"
#include "arbiter/cedar/format.h"
#include "arbiter/cedar/policy_json.h"
#include "arbiter/common/json.h"

namespace arbiter::cedar {
namespace {

constexpr const char* kPolicies = R"(@id("p") @reason("vip")
permit(principal is User in Group::"g", action in [Action::"view", Action::"edit"], resource)
when { resource.owner == principal && context.score.greaterThan(decimal("0.5")) &&
       ip(context.ip).isInRange(ip("10.0.0.0/8")) && [1, 2, -3].containsAny([2]) &&
       principal.name like "a*\*" && { "k": -9223372036854775808 }.k < 0 &&
       (if principal has age then principal.age * 2 + 1 >= 3 else false) &&
       datetime("2024-10-15T11:35:00Z").offset(duration("-1d2h")) < datetime("2025-01-01") }
unless { principal.hasTag("x") && principal.getTag("x") == "\u{1F600}\n" };
forbid(principal == User::"b", action, resource is Doc in Folder::"f");
)";

constexpr const char* kSchema = R"(namespace N {
  type T = { a: Long, b?: Set<String>, c: { d: decimal } };
  entity User in [Group] = { name: String, age?: Long, t: T } tags String;
  entity Group; entity E enum ["x", "y"];
  action view, "edit" in [all] appliesTo { principal: [User], resource: [Group], context: T };
  action all;
}
)";

constexpr const char* kEntities = R"([
  {"uid": {"type": "User", "id": "a"}, "attrs": {"name": "abc*", "age": 3,
    "owner": {"__entity": {"type": "User", "id": "a"}}, "s": [1, {"x": "y"}]},
   "parents": [{"type": "Group", "id": "g"}], "tags": {"x": "y"}},
  {"uid": {"type": "Doc", "id": "d"}, "attrs": {"owner": {"__entity": {"type": "User", "id": "a"}},
   "d": {"__extn": {"fn": "decimal", "arg": "0.75"}}}, "parents": []}
])";

std::string Mutate(const std::string& in, std::mt19937& rng) {
  std::string s = in;
  static const std::string kAlphabet = "(){}[]<>,;:.\"\\*!-+&|=@?_aZ09 \n\t\x80\xff";
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits && !s.empty(); ++i) {
    size_t pos = rng() % s.size();
    switch (rng() % 5) {
      case 0: s.erase(pos, 1 + rng() % 8); break;
      case 1: s.insert(pos, 1, kAlphabet[rng() % kAlphabet.size()]); break;
      case 2: s[pos] = kAlphabet[rng() % kAlphabet.size()]; break;
      case 3: s.resize(pos); break;
      default: s.insert(pos, s.substr(rng() % s.size(), 1 + rng() % 16)); break;
    }
  }
  return s;
}

void ExpectOneLine(const Status& s) {
  EXPECT_FALSE(s.message().empty());
  EXPECT_EQ(s.message().find('\n'), std::string::npos) << s.message();
}

TEST(CedarRobustness, MutatedPoliciesParseOrFailCleanly) {
  ASSERT_TRUE(ParsePolicySet(kPolicies).has_value()) << ParsePolicySet(kPolicies).error().message();
  auto entities = ParseEntitiesJson(kEntities, nullptr);
  ASSERT_TRUE(entities.has_value()) << entities.error().message();
  Request req{
      EntityUid("User", "a"), EntityUid("Action", "view"), EntityUid("Doc", "d"),
      Value::Record({{"score", *Value::ParseDecimal("0.9")}, {"ip", Value::String("10.1.1.1")}})};
  ASSERT_EQ(IsAuthorized(req, *ParsePolicySet(kPolicies), *entities).decision, Decision::kAllow);
  std::mt19937 rng(1234);
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = Mutate(kPolicies, rng);
    auto ps = ParsePolicySet(text, "m.cedar");
    if (ps.has_value()) {
      ++parsed;
      Response r = IsAuthorized(req, *ps, *entities);
      for (const auto& e : r.errors) EXPECT_EQ(e.message.find('\n'), std::string::npos);
    } else {
      ExpectOneLine(ps.error());
    }
  }
  EXPECT_GT(parsed, 0);
}

// Mutated JSON policy sets (EST) parse or fail with one line; whatever parses formats to Cedar
// text that parses again; mutated Cedar text that parses formats to text that parses again.
TEST(CedarRobustness, MutatedPolicyJsonParsesOrFailsCleanly) {
  auto base = ParsePolicySet(kPolicies);
  ASSERT_TRUE(base.has_value());
  auto est = PolicySetToJson(*base);
  ASSERT_TRUE(est.has_value());
  const std::string json = ToJson(*est);
  std::mt19937 rng(4321);
  int parsed = 0;
  for (int i = 0; i < 3000; ++i) {
    auto ps = ParsePolicySetJson(Mutate(json, rng), "m.json");
    if (!ps.has_value()) {
      ExpectOneLine(ps.error());
      continue;
    }
    ++parsed;
    std::string text = FormatPolicySet(*ps);
    auto again = ParsePolicySet(text, "formatted.cedar");
    ASSERT_TRUE(again.has_value()) << again.error().message() << "\n" << text;
    EXPECT_EQ(FormatPolicySet(*again), text);
  }
  EXPECT_GT(parsed, 0);
  for (int i = 0; i < 3000; ++i) {
    auto ps = ParsePolicySet(Mutate(kPolicies, rng), "m.cedar");
    if (!ps.has_value()) continue;
    std::string text = FormatPolicySet(*ps);
    auto again = ParsePolicySet(text, "formatted.cedar");
    ASSERT_TRUE(again.has_value()) << again.error().message() << "\n" << text;
    EXPECT_EQ(FormatPolicySet(*again), text);
  }
}

TEST(CedarRobustness, MutatedSchemasParseOrFailCleanly) {
  ASSERT_TRUE(ParseSchema(kSchema).has_value()) << ParseSchema(kSchema).error().message();
  std::mt19937 rng(99);
  for (int i = 0; i < 3000; ++i) {
    auto s = ParseSchema(Mutate(kSchema, rng), "m.cedarschema");
    if (!s.has_value()) ExpectOneLine(s.error());
  }
}

TEST(CedarRobustness, MutatedEntitiesAndContextsParseOrFailCleanly) {
  auto schema = ParseSchema(kSchema);
  ASSERT_TRUE(schema.has_value());
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; ++i) {
    std::string text = Mutate(kEntities, rng);
    auto e = ParseEntitiesJson(text, nullptr);
    if (!e.has_value()) ExpectOneLine(e.error());
    auto typed = ParseEntitiesJson(text, &*schema);
    if (!typed.has_value()) ExpectOneLine(typed.error());
    auto ctx = ParseContextJson(Mutate(R"({"a": 1, "b": ["x"], "c": {"d": "1.5"}})", rng), &*schema,
                                EntityUid("N::Action", "view"));
    if (!ctx.has_value()) ExpectOneLine(ctx.error());
  }
}

TEST(CedarRobustness, PathologicalLikePatternsStayFast) {
  std::string star_heavy = "permit(principal, action, resource) when { context.s like \"" +
                           std::string(200, '*') + "a" + std::string(200, '*') + "b\" };";
  auto ps = ParsePolicySet(star_heavy);
  ASSERT_TRUE(ps.has_value());
  Entities entities;
  Request req{EntityUid("U", "a"), EntityUid("Action", "v"), EntityUid("R", "r"),
              Value::Record({{"s", Value::String(std::string(20000, 'a'))}})};
  EXPECT_EQ(IsAuthorized(req, *ps, entities).decision, Decision::kDeny);
}

}  // namespace
}  // namespace arbiter::cedar
