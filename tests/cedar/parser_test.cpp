// Policy parser: ids, annotations, spans, scope forms, templates, precedence and errors.
#include <gtest/gtest.h>

#include <string>

#include "arbiter/cedar/authorizer.h"
#include "arbiter/cedar/internal/ast.h"
#include "arbiter/cedar/policy_set.h"

namespace arbiter::cedar {
namespace {

TEST(CedarParser, IdsAnnotationsAndSpans) {
  auto ps = ParsePolicySet(
      "// routing\n"
      "@id(\"first\") @reason(\"vip \\u{1F600}\") @escalate\n"
      "permit(principal, action, resource);\n"
      "  forbid(principal, action, resource) unless { false };\n",
      "r.cedar");
  ASSERT_TRUE(ps.has_value()) << ps.error().message();
  ASSERT_EQ(ps->size(), 2u);
  const Policy& p0 = ps->policies()[0];
  EXPECT_EQ(p0.id(), "first");
  EXPECT_EQ(p0.effect(), Effect::kPermit);
  ASSERT_EQ(p0.annotations().size(), 3u);
  EXPECT_EQ(p0.annotations()[1].second, std::optional<std::string>("vip \xF0\x9F\x98\x80"));
  EXPECT_FALSE(p0.annotations()[2].second.has_value());
  EXPECT_EQ(p0.span().line, 2u);
  EXPECT_EQ(p0.span().column, 1u);
  const Policy& p1 = ps->policies()[1];
  EXPECT_EQ(p1.id(), "policy1");
  EXPECT_EQ(p1.effect(), Effect::kForbid);
  EXPECT_EQ(p1.span().line, 4u);
  EXPECT_EQ(p1.span().column, 3u);
  EXPECT_EQ(ps->Find("first"), &p0);

  PolicySetOptions file_order;
  file_order.file_order_ids = true;
  auto ps2 = ParsePolicySet("@id(\"x\") permit(principal, action, resource);", "", file_order);
  ASSERT_TRUE(ps2.has_value());
  EXPECT_EQ(ps2->policies()[0].id(), "policy0");
}

TEST(CedarParser, ScopeForms) {
  auto ps = ParsePolicySet(R"(
    permit(principal == A::B::User::"a", action == NS::Action::"x", resource);
    permit(principal in Group::"g", action in [Action::"a", Action::"b",], resource is Photo);
    permit(principal is User in Group::"g", action in Action::"all", resource is P in F::"f");
    permit(principal == ?principal, action, resource in ?resource);
  )");
  ASSERT_TRUE(ps.has_value()) << ps.error().message();
  const auto& ast1 = ps->policies()[1].ast();
  EXPECT_EQ(ast1.action.kind, internal::ScopeKind::kInSet);
  EXPECT_EQ(ast1.action.uids.size(), 2u);
  EXPECT_EQ(ast1.resource.kind, internal::ScopeKind::kIs);
  EXPECT_EQ(ps->policies()[0].ast().principal.uid, EntityUid("A::B::User", "a"));
  EXPECT_EQ(ps->policies()[2].ast().resource.kind, internal::ScopeKind::kIsIn);
  EXPECT_FALSE(ps->policies()[2].is_template());
  EXPECT_TRUE(ps->policies()[3].is_template());
  // Templates are not evaluated until linked.
  Entities entities;
  Response r = IsAuthorized(Request{EntityUid("U", "a"), EntityUid("Action", "z"),
                                    EntityUid("R", "r"), Value::Record({})},
                            *ps, entities);
  EXPECT_EQ(r.decision, Decision::kDeny);
}

struct BadCase {
  const char* text;
  const char* message_part;
};

class CedarParserErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(CedarParserErrors, OneLineLocatedError) {
  auto ps = ParsePolicySet(GetParam().text, "bad.cedar");
  ASSERT_FALSE(ps.has_value()) << GetParam().text;
  const std::string& m = ps.error().message();
  EXPECT_EQ(m.rfind("bad.cedar:", 0), 0u) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  EXPECT_NE(m.find(GetParam().message_part), std::string::npos) << m;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, CedarParserErrors,
    ::testing::Values(
        BadCase{"permit(principal, action, resource)", "expected `;`"},
        BadCase{"allow(principal, action, resource);", "expected `permit` or `forbid`"},
        BadCase{"permit(action, principal, resource);", "expected `principal`"},
        BadCase{"permit(principal, action, resource) when { 1 + };", "unexpected"},
        BadCase{"permit(principal, action, resource) when { 9223372036854775808 == 0 };",
                "out of range"},
        BadCase{"permit(principal, action, resource) when { 1 < 2 < 3 };", "expected `}`"},
        BadCase{"permit(principal, action, resource) when { 4 / 2 == 2 };", "not supported"},
        BadCase{"permit(principal, action, resource) when { foo(1) };", "not a known function"},
        BadCase{"permit(principal, action, resource) when { [].foo() };", "not a known method"},
        BadCase{"permit(principal, action, resource) when { \"a\".decimal() };",
                "is a function, not a method"},
        BadCase{"permit(principal, action, resource) when { principal.if };", "reserved"},
        BadCase{"permit(principal, action, resource) when { {if: 1} };", "reserved"},
        BadCase{"permit(principal, action, resource) when { {a: 1, a: 2} };", "duplicate key"},
        BadCase{"permit(principal, action, resource) when { \"\\q\" };", "invalid escape"},
        BadCase{"permit(principal, action, resource) when { \"\\u{110000}\" };", "invalid"},
        BadCase{"permit(principal, action, resource) when { \"abc };", "unterminated string"},
        BadCase{"permit(principal, action, resource) when { principal == ?principal };", "slots"},
        BadCase{"permit(principal, action, resource) when { };", "empty condition"},
        BadCase{"permit(principal, action is Action, resource);", "`is` is not allowed"},
        BadCase{"permit(principal in ?resource, action, resource);", "invalid slot"},
        BadCase{"permit(principal == User, action, resource);", "expected `::\"id\"`"},
        BadCase{"@id(\"a\") @id(\"b\") permit(principal, action, resource);",
                "duplicate annotation"},
        BadCase{"@id(\"a\") permit(principal, action, resource);\n"
                "@id(\"a\") permit(principal, action, resource);",
                "duplicate policy id"},
        BadCase{"permit(principal, action, resource) when { x };", "unknown variable"},
        BadCase{"permit(principal, action, resource) when { 1 = 1 };", "`=` is not an operator"},
        BadCase{"permit(principal, action, resource) when { # };", "unexpected character"}));

TEST(CedarParser, NestingAndSizeAreBounded) {
  std::string deep = "permit(principal, action, resource) when { " + std::string(100000, '(') +
                     "true" + std::string(100000, ')') + " };";
  auto ps = ParsePolicySet(deep);
  ASSERT_FALSE(ps.has_value());
  EXPECT_EQ(ps.error().code(), StatusCode::kResourceExhausted);
  std::string bangs =
      "permit(principal, action, resource) when { " + std::string(100000, '!') + "true };";
  ps = ParsePolicySet(bangs);
  ASSERT_FALSE(ps.has_value());
  EXPECT_EQ(ps.error().code(), StatusCode::kResourceExhausted);
  std::string sets = "permit(principal, action, resource) when { " + std::string(100000, '[') +
                     std::string(100000, ']') + " };";
  ps = ParsePolicySet(sets);
  ASSERT_FALSE(ps.has_value());
  PolicySetOptions small;
  small.max_bytes = 10;
  ps = ParsePolicySet("permit(principal, action, resource);", "", small);
  ASSERT_FALSE(ps.has_value());
  EXPECT_EQ(ps.error().code(), StatusCode::kResourceExhausted);
  // Moderate nesting is fine.
  std::string ok = "permit(principal, action, resource) when { " + std::string(50, '(') + "true" +
                   std::string(50, ')') + " };";
  EXPECT_TRUE(ParsePolicySet(ok).has_value());
}

TEST(CedarParser, EntityUidLiterals) {
  auto uid = ParseEntityUid("A::B::\"x\\\"y\"");
  ASSERT_TRUE(uid.has_value()) << uid.error().message();
  EXPECT_EQ(uid->type(), "A::B");
  EXPECT_EQ(uid->id(), "x\"y");
  EXPECT_EQ(uid->ToString(), "A::B::\"x\\\"y\"");
  EXPECT_FALSE(ParseEntityUid("A::\"x\" extra").has_value());
  EXPECT_FALSE(ParseEntityUid("if::\"x\"").has_value());
  EXPECT_FALSE(ParseEntityUid("\"x\"").has_value());
}

TEST(CedarParser, HasPathDesugarsToChainedChecks) {
  auto ps = ParsePolicySet(
      "permit(principal, action, resource) when { context has a.b.c && context.a.b.c == 1 };");
  ASSERT_TRUE(ps.has_value()) << ps.error().message();
  Entities entities;
  auto ctx = Value::Record({{"a", Value::Record({{"b", Value::Record({{"c", Value::Long(1)}})}})}});
  Response r =
      IsAuthorized(Request{EntityUid("U", "a"), EntityUid("Action", "z"), EntityUid("R", "r"), ctx},
                   *ps, entities);
  EXPECT_EQ(r.decision, Decision::kAllow);
  r = IsAuthorized(Request{EntityUid("U", "a"), EntityUid("Action", "z"), EntityUid("R", "r"),
                           Value::Record({{"a", Value::Long(1)}})},
                   *ps, entities);
  EXPECT_EQ(r.decision, Decision::kDeny);
  // `context has a.b.c` is `context has a && context.a has b && ...`: `1 has b` is a type error.
  EXPECT_EQ(r.errors.size(), 1u);
}

}  // namespace
}  // namespace arbiter::cedar
