// Schema parsing and schema-driven entity and context parsing and request validation.
#include <gtest/gtest.h>

#include <string>

#include "arbiter/cedar/authorizer.h"
#include "arbiter/cedar/entities.h"
#include "arbiter/cedar/schema.h"

namespace arbiter::cedar {
namespace {

constexpr const char* kSchema = R"(
// Common types, namespaces, tags, enums, action groups, annotations.
type Score = decimal;
@doc("support")
namespace Support {
  type Meta = { "source": String, seen?: Set<datetime> };
  entity Queue;
  entity Team in [Queue] { name: String };
  entity Agent in Team = { name: String, level: Long, ip?: ipaddr, meta: Meta } tags String;
  entity Case in [Queue] {
    score: Score,
    tags: Set<String>,
    owner: Agent,
    sla: duration,
    @doc("nested") customer: { tier: String, since?: datetime },
  };
  entity Channel enum ["email", "chat"];
  action read;
  action "view" in [read] appliesTo { principal: [Agent], resource: [Case, Channel],
                                      context: { urgent: Bool, ts?: datetime } };
  action assign in Support::Action::"read" appliesTo { principal: Agent, resource: Case,
                                                       context: Ctx };
  type Ctx = { reason: String };
}
)";

TEST(CedarSchema, ParsesEveryDeclarationForm) {
  auto schema = ParseSchema(kSchema, "support.cedarschema");
  ASSERT_TRUE(schema.has_value()) << schema.error().message();
  EXPECT_TRUE(schema->HasEntityType("Support::Case"));
  EXPECT_TRUE(schema->HasEntityType("Support::Channel"));
  EXPECT_FALSE(schema->HasEntityType("Case"));
  EXPECT_TRUE(schema->HasAction(EntityUid("Support::Action", "view")));
  EXPECT_EQ(schema->ActionUids().size(), 3u);
}

TEST(CedarSchema, EntitiesAndContextAreParsedByType) {
  auto schema = ParseSchema(kSchema);
  ASSERT_TRUE(schema.has_value()) << schema.error().message();
  auto entities = ParseEntitiesJson(R"([
    {"uid": {"type": "Support::Queue", "id": "q"}, "attrs": {}, "parents": []},
    {"uid": {"type": "Support::Team", "id": "t"}, "attrs": {"name": "T"},
     "parents": [{"type": "Support::Queue", "id": "q"}]},
    {"uid": {"type": "Support::Agent", "id": "a"},
     "attrs": {"name": "A", "level": 3, "ip": "10.1.2.3",
               "meta": {"source": "hr", "seen": ["2024-01-01"]}},
     "parents": [{"__entity": {"type": "Support::Team", "id": "t"}}], "tags": {"shift": "night"}},
    {"uid": {"type": "Support::Case", "id": "c"},
     "attrs": {"score": "0.85", "tags": ["vip"], "owner": {"type": "Support::Agent", "id": "a"},
               "sla": "4h", "customer": {"tier": "gold"}},
     "parents": [{"type": "Support::Queue", "id": "q"}]}
  ])",
                                    &*schema);
  ASSERT_TRUE(entities.has_value()) << entities.error().message();
  const EntityData* c = entities->Find(EntityUid("Support::Case", "c"));
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->attrs.as_record().Find("score")->is(ValueKind::kDecimal));
  EXPECT_TRUE(c->attrs.as_record().Find("sla")->is(ValueKind::kDuration));
  EXPECT_TRUE(c->attrs.as_record().Find("owner")->is(ValueKind::kEntity));
  // Agent -> Team -> Queue, transitively; schema actions were added with their groups.
  EXPECT_TRUE(entities->IsIn(EntityUid("Support::Agent", "a"), EntityUid("Support::Queue", "q")));
  EXPECT_TRUE(
      entities->IsIn(EntityUid("Support::Action", "view"), EntityUid("Support::Action", "read")));

  auto policies = ParsePolicySet(R"(
    permit(principal in Support::Queue::"q", action in Support::Action::"read", resource)
    when { resource.score.greaterThan(decimal("0.5")) && principal.ip.isInRange(ip("10.0.0.0/8"))
           && principal.getTag("shift") == "night" && context.urgent && resource.sla < duration("1d") };
  )");
  ASSERT_TRUE(policies.has_value()) << policies.error().message();
  EntityUid view("Support::Action", "view");
  auto context =
      ParseContextJson(R"({"urgent": true, "ts": "2024-10-15T10:00:00Z"})", &*schema, view);
  ASSERT_TRUE(context.has_value()) << context.error().message();
  EXPECT_TRUE(context->as_record().Find("ts")->is(ValueKind::kDatetime));
  Request req{EntityUid("Support::Agent", "a"), view, EntityUid("Support::Case", "c"), *context};
  EXPECT_TRUE(ValidateRequest(req, *schema).ok());
  Response r = IsAuthorized(req, *policies, *entities);
  EXPECT_EQ(r.decision, Decision::kAllow) << (r.errors.empty() ? "" : r.errors[0].message);

  // Request validation.
  Request bad = req;
  bad.principal = EntityUid("Support::Team", "t");
  EXPECT_FALSE(ValidateRequest(bad, *schema).ok());
  bad = req;
  bad.context = Value::Record({});
  EXPECT_FALSE(ValidateRequest(bad, *schema).ok());
  bad = req;
  bad.resource = EntityUid("Support::Channel", "fax");
  EXPECT_FALSE(ValidateRequest(bad, *schema).ok());
  bad.resource = EntityUid("Support::Channel", "chat");
  EXPECT_TRUE(ValidateRequest(bad, *schema).ok());
  bad.action = EntityUid("Support::Action", "nope");
  EXPECT_FALSE(ValidateRequest(bad, *schema).ok());
  EXPECT_FALSE(ParseContextJson(R"({"urgent": "yes"})", &*schema, view).has_value());
  EXPECT_FALSE(ParseContextJson(R"({"urgent": true, "extra": 1})", &*schema, view).has_value());
}

TEST(CedarSchema, EntityErrorsNameTheEntity) {
  auto schema = ParseSchema(kSchema);
  ASSERT_TRUE(schema.has_value());
  struct Case {
    const char* json;
    const char* part;
  } cases[] = {
      {R"([{"uid": {"type": "Nope", "id": "x"}, "attrs": {}, "parents": []}])", "not declared"},
      {R"([{"uid": {"type": "Support::Team", "id": "t"}, "attrs": {}, "parents": []}])",
       "missing required attribute `name`"},
      {R"([{"uid": {"type": "Support::Team", "id": "t"}, "attrs": {"name": 1}, "parents": []}])",
       "expected a string"},
      {R"([{"uid": {"type": "Support::Team", "id": "t"}, "attrs": {"name": "n", "x": 1}}])",
       "unexpected attribute `x`"},
      {R"([{"uid": {"type": "Support::Channel", "id": "fax"}}])", "enumerated"},
      {R"([{"uid": {"type": "Support::Team", "id": "t"}, "attrs": {"name": "n"},
           "tags": {"a": "b"}}])",
       "does not allow tags"},
  };
  for (const Case& c : cases) {
    auto e = ParseEntitiesJson(c.json, &*schema);
    ASSERT_FALSE(e.has_value()) << c.json;
    EXPECT_NE(e.error().message().find(c.part), std::string::npos) << e.error().message();
  }
}

TEST(CedarSchema, Errors) {
  struct Case {
    const char* text;
    const char* part;
  } cases[] = {
      {"entity A { b: Nope };", "undeclared type `Nope`"},
      {"type A = B; type B = A; entity E { a: A };", "cyclic"},
      {"entity A in [B];", "undeclared entity type `B`"},
      {"entity A; entity A;", "duplicate entity type"},
      {"action a in [b];", "undeclared action"},
      {"entity A { a: Long, a: Long };", "duplicate attribute"},
      {"entity A\n  { a: Long ", "expected"},
      {"namespace N { entity A; ", "expected `}`"},
      {"action a appliesTo { principal: [A] };", "undeclared entity type `A`"},
      {"action a appliesTo { context: Long }; entity A;", "must be a record"},
  };
  for (const Case& c : cases) {
    auto s = ParseSchema(c.text, "s.cedarschema");
    ASSERT_FALSE(s.has_value()) << c.text;
    EXPECT_NE(s.error().message().find(c.part), std::string::npos) << s.error().message();
    EXPECT_EQ(s.error().message().find('\n'), std::string::npos);
  }
  std::string deep = "entity A { a: ";
  for (int i = 0; i < 10000; ++i) deep += "Set<";
  deep += "Long" + std::string(10000, '>') + " };";
  auto s = ParseSchema(deep);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace arbiter::cedar
