// The policy surface syntax: Cedar's JSON policy format (EST) and the formatter, on hand-written
// policies; the conformance suite's .cedar files; and the CLI commands `translate-policy` and
// `format`. The whole corpus is in surface_corpus_test.cpp.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <boost/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "arbiter/cedar/format.h"
#include "arbiter/cedar/policy_json.h"
#include "arbiter/cedar/policy_set.h"
#include "arbiter/common/json.h"
#include "support/run_command.h"
#include "support/shared_data.h"
#include "surface_util.h"

namespace arbiter::cedar {
namespace {

using testing::PolicySetDiff;

PolicySet MustParse(const std::string& text) {
  auto set = ParsePolicySet(text, "t.cedar");
  EXPECT_TRUE(set.has_value()) << set.error().message();
  return set.has_value() ? std::move(*set) : PolicySet();
}

std::string Format(const std::string& text, size_t width = 80) {
  FormatOptions o;
  o.width = width;
  return FormatPolicySet(MustParse(text), o);
}

// cedar → json → cedar gives the same ASTs; format re-parses to the same ASTs and is idempotent.
void ExpectRoundTrips(const std::string& text, size_t width = 80) {
  SCOPED_TRACE(text);
  PolicySet set = MustParse(text);
  auto json = PolicySetToJson(set);
  ASSERT_TRUE(json.has_value());
  auto back = ParsePolicySetJson(ToJson(*json), "t.json");
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(PolicySetDiff(set, *back), "");
  FormatOptions o;
  o.width = width;
  std::string once = FormatPolicySet(set, o);
  PolicySet reparsed = MustParse(once);
  EXPECT_EQ(PolicySetDiff(set, reparsed, /*ignore_ids=*/true), "") << once;
  EXPECT_EQ(FormatPolicySet(reparsed, o), once);
  // json-to-cedar uses the same printer.
  for (const Policy& p : set.policies()) {
    const Policy* q = back->Find(p.id());
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(FormatPolicy(*q, o), FormatPolicy(p, o));
  }
}

TEST(CedarFormat, CanonicalLayout) {
  EXPECT_EQ(Format("@id(\"a\")@escalate permit(principal,action==Action::\"view\",resource)"
                   "when{principal.level>=3&&context.ok}unless{resource.locked};"),
            "@id(\"a\")\n@escalate\n"
            "permit (principal, action == Action::\"view\", resource)\n"
            "when { principal.level >= 3 && context.ok }\n"
            "unless { resource.locked };\n");
  EXPECT_EQ(Format("forbid(principal is Ns::User in Group::\"very-long-group-name-number-one\","
                   " action in [Action::\"a\", Action::\"b\"], resource);"),
            "forbid (\n"
            "  principal is Ns::User in Group::\"very-long-group-name-number-one\",\n"
            "  action in [Action::\"a\", Action::\"b\"],\n"
            "  resource\n"
            ");\n");
  EXPECT_EQ(Format("permit(principal,action,resource);permit(principal,action,resource);"),
            "permit (principal, action, resource);\n\npermit (principal, action, resource);\n");
  EXPECT_EQ(Format(""), "");
}

TEST(CedarFormat, Precedence) {
  auto body = [](const std::string& expr) {
    std::string f = Format("permit(principal,action,resource) when { " + expr + " };", 1000);
    size_t open = f.find("{ ");
    return f.substr(open + 2, f.rfind(" }") - open - 2);
  };
  EXPECT_EQ(body("((context.a || context.b)) && context.c"),
            "(context.a || context.b) && context.c");
  EXPECT_EQ(body("context.a || (context.b && context.c)"), "context.a || context.b && context.c");
  EXPECT_EQ(body("context.a && (context.b && context.c)"), "context.a && (context.b && context.c)");
  EXPECT_EQ(body("(1 + 2) * 3 == 1 + (2 * 3)"), "(1 + 2) * 3 == 1 + 2 * 3");
  EXPECT_EQ(body("1 - (2 - 3) == (1 - 2) - 3"), "1 - (2 - 3) == 1 - 2 - 3");
  EXPECT_EQ(body("(context.a == 1) == true"), "(context.a == 1) == true");
  EXPECT_EQ(body("!(context.a == 1)"), "!(context.a == 1)");
  EXPECT_EQ(body("(if context.a then 1 else 2) == 1"), "(if context.a then 1 else 2) == 1");
  EXPECT_EQ(body("if context.a then 1 else if context.b then 2 else 3"),
            "if context.a then 1 else if context.b then 2 else 3");
  EXPECT_EQ(body("-5 == -(5)"), "-5 == -(5)");
  EXPECT_EQ(body("--5 == -(-5)"), "--5 == --5");
  EXPECT_EQ(body("-(5.x) == (-5).x"), "-(5.x) == (-5).x");
  EXPECT_EQ(body("(principal in Group::\"g\") && principal is User in Group::\"g\""),
            "principal in Group::\"g\" && principal is User in Group::\"g\"");
  EXPECT_EQ(body("(principal has a).x"), "(principal has a).x");
  EXPECT_EQ(body("principal has a.b"), "principal has a && principal.a has b");
  EXPECT_EQ(body("context[\"if\"] == context.then2 && context has \"a b\""),
            "context[\"if\"] == context.then2 && context has \"a b\"");
  EXPECT_EQ(body("{\"a b\": 1, c: [1, 2], \"if\": {}}.c.contains(1)"),
            "{\"a b\": 1, c: [1, 2], \"if\": {}}.c.contains(1)");
  EXPECT_EQ(body("decimal(\"1.50\").lessThan(decimal(\"2\")) && ip(\"10.0.0.1/8\").isIpv4()"),
            "decimal(\"1.5\").lessThan(decimal(\"2\")) && ip(\"10.0.0.1/8\").isIpv4()");
  EXPECT_EQ(body("datetime(\"2024-10-15T11:35:00.001+0100\") < datetime(\"2024-10-15\")"),
            "datetime(\"2024-10-15T10:35:00.001Z\") < datetime(\"2024-10-15\")");
  EXPECT_EQ(body("datetime(\"0000-01-01T02:14:14+1444\") < datetime(\"9999-12-31T23:00:00-0200\")"),
            "datetime(\"0000-01-01T11:29:14+2359\") < datetime(\"9999-12-31T01:01:00-2359\")");
  EXPECT_EQ(body("duration(\"90m\") == duration(\"-1d2h3m4s5ms\") + duration(\"0ms\")"),
            "duration(\"1h30m\") == duration(\"-1d2h3m4s5ms\") + duration(\"0ms\")");
  EXPECT_EQ(body("decimal(\"bad\") == ip(\"x\")"), "decimal(\"bad\") == ip(\"x\")");
  EXPECT_EQ(body("context.s like \"a*\\*b**c\""), "context.s like \"a*\\*b*c\"");
}

TEST(CedarFormat, StringEscapesAsCedarPrintsThem) {
  std::string f = Format(
      "@note(\"tab\\there \\\"q\\\" 'apos' \\\\ nul\\0 bell\\u{7} \\u{200B} é ✓ 😀\")\n"
      "permit(principal == User::\"a\\nb\", action, resource);");
  EXPECT_EQ(f,
            "@note(\"tab\\there \\\"q\\\" \\'apos\\' \\\\ nul\\0 bell\\u{7} \\u{200b} é ✓ 😀\")\n"
            "permit (principal == User::\"a\\nb\", action, resource);\n");
  ExpectRoundTrips(f);
}

TEST(CedarFormat, BreaksLongConditions) {
  std::string text =
      "permit(principal, action, resource) when { principal.department == \"support\" && "
      "(resource.priority == \"high\" || resource.priority == \"critical\" || "
      "context.escalated == true) && !resource.archived };";
  EXPECT_EQ(Format(text, 60),
            "permit (principal, action, resource)\n"
            "when {\n"
            "  principal.department == \"support\" &&\n"
            "  (\n"
            "    resource.priority == \"high\" ||\n"
            "    resource.priority == \"critical\" ||\n"
            "    context.escalated == true\n"
            "  ) &&\n"
            "  !resource.archived\n"
            "};\n");
  ExpectRoundTrips(text, 60);
  ExpectRoundTrips(text, 20);
}

TEST(CedarFormat, RoundTripsHandWrittenPolicies) {
  ExpectRoundTrips(
      "@id(\"t\") @flag permit(principal == ?principal, action in [Action::\"a\"],"
      " resource is Doc in ?resource) when { true } unless { context.x };");
  ExpectRoundTrips(
      "forbid(principal in ?principal, action == Action::\"a\", resource == ?resource);"
      "permit(principal is User, action in [A::\"1\", A::\"2\"], resource in F::\"x\");");
  ExpectRoundTrips(
      "permit(principal, action, resource) when { -9223372036854775808 < 9223372036854775807 && "
      "[1, \"a\", User::\"u\", {k: true}].containsAll([]) && principal.tags.hasTag(\"t\") && "
      "principal.getTag(\"t\") == 1 && context.set.isEmpty() && context.s.containsAny([1]) && "
      "ip(\"::1\").isLoopback() && datetime(\"2024-01-01\").toDate() == datetime(\"1970-01-01\") "
      "&& duration(\"1d\").toDays() == 1 && 2 * -3 - 4 + 5 > -6 };");
}

// `arbiter cedar format` keeps comments: a formatter that dropped them would lose a policy
// author's notes on --write.
std::string FormatSource(const std::string& text) {
  return FormatPolicySource(text, MustParse(text));
}

TEST(CedarFormat, KeepsComments) {
  std::string text =
      "// Routing policies.\n"
      "// Owner: trust & safety.\n"
      "\n\n"
      "// Fraud goes to people.   \n"
      "@id(\"fraud\") forbid(principal,action,resource) when {context.fraud};  // see RB-12\n"
      "@id(\"ok\")\n"
      "permit(principal, action, resource) when {\n"
      "  // only in business hours\n"
      "  context.open\n"
      "};\n"
      "permit(principal,action,resource);\n"
      "// end of file\n";
  std::string formatted = FormatSource(text);
  EXPECT_EQ(formatted,
            "// Routing policies.\n"
            "// Owner: trust & safety.\n"
            "\n"
            "// Fraud goes to people.\n"
            "@id(\"fraud\")\n"
            "forbid (principal, action, resource)\n"
            "when { context.fraud }; // see RB-12\n"
            "\n"
            "@id(\"ok\")\n"
            "permit(principal, action, resource) when {\n"
            "  // only in business hours\n"
            "  context.open\n"
            "};\n"
            "\n"
            "permit (principal, action, resource);\n"
            "\n"
            "// end of file\n");
  EXPECT_EQ(PolicySetDiff(MustParse(text), MustParse(formatted), /*ignore_ids=*/true), "");
  EXPECT_EQ(FormatSource(formatted), formatted);
  // Without comments it is the plain formatter.
  std::string plain = "permit(principal,action,resource);";
  EXPECT_EQ(FormatSource(plain), FormatPolicySet(MustParse(plain)));
  // A comment-only file, and `//` inside a string, which is no comment.
  EXPECT_EQ(FormatSource("  // nothing yet  \n"), "// nothing yet\n");
  std::string url = "permit(principal,action,resource) when { context.u == \"http://x\" };";
  EXPECT_EQ(FormatSource(url), FormatPolicySet(MustParse(url)));
}

TEST(CedarPolicyJson, ParsesEveryNodeKind) {
  const char* json = R"({
    "staticPolicies": {
      "p1": {
        "effect": "forbid",
        "principal": {"op": "is", "entity_type": "User", "in": {"entity": {"type": "G", "id": "g"}}},
        "action": {"op": "in", "entities": [{"type": "Action", "id": "a"}, {"__entity": {"type": "Action", "id": "b"}}]},
        "resource": {"op": "All"},
        "conditions": [
          {"kind": "when", "body": {"&&": {
            "left": {"like": {"left": {"Var": "context"}, "pattern": [{"Literal": "a"}, {"Literal": "*"}, "Wildcard", "Wildcard"]}},
            "right": {"has": {"left": {"Var": "principal"}, "attr": ["a", "b"]}}}}},
          {"kind": "unless", "body": {"if-then-else": {
            "if": {"is": {"left": {"Var": "resource"}, "entity_type": "Doc"}},
            "then": {"Value": {"__extn": {"fn": "decimal", "arg": "1.5"}}},
            "else": {"lessThan": [{"decimal": [{"Value": "2.0"}]}, {"Record": {"k": {"Set": [{"Value": [1, {"a": false}]}]}}}]}}}}
        ],
        "annotations": {"id": "p1", "flag": null}
      }
    },
    "templates": {
      "t1": {"effect": "permit", "principal": {"op": "==", "slot": "?principal"},
             "action": {"op": "==", "entity": {"type": "Action", "id": "a"}},
             "resource": {"op": "in", "slot": "?resource"}, "conditions": []}
    },
    "templateLinks": []
  })";
  auto set = ParsePolicySetJson(json, "p.json");
  ASSERT_TRUE(set.has_value()) << set.error().message();
  ASSERT_EQ(set->size(), 2u);
  EXPECT_EQ(set->policies()[0].id(), "p1");
  EXPECT_FALSE(set->policies()[0].is_template());
  EXPECT_EQ(set->policies()[1].id(), "t1");
  EXPECT_TRUE(set->policies()[1].is_template());
  EXPECT_EQ(FormatPolicySet(*set, FormatOptions{1000}),
            "@id(\"p1\")\n@flag\n"
            "forbid (principal is User in G::\"g\", action in [Action::\"a\", Action::\"b\"], "
            "resource)\n"
            "when { context like \"a\\**\" && (principal has a && principal.a has b) }\n"
            "unless { if resource is Doc then decimal(\"1.5\") else "
            "decimal(\"2.0\").lessThan({k: [[1, {a: false}]]}) };\n"
            "\n"
            "permit (principal == ?principal, action == Action::\"a\", resource in ?resource);\n");
  // And back: the emitted JSON parses to the same policies.
  auto est = PolicySetToJson(*set);
  ASSERT_TRUE(est.has_value());
  auto again = PolicySetFromJson(*est, "again");
  ASSERT_TRUE(again.has_value()) << again.error().message();
  EXPECT_EQ(PolicySetDiff(*set, *again), "");
}

TEST(CedarPolicyJson, TemplateLinks) {
  const char* json = R"({
    "staticPolicies": {"s": {"effect": "forbid", "principal": {"op": "All"},
                              "action": {"op": "All"}, "resource": {"op": "All"}}},
    "templates": {"t": {"effect": "permit", "principal": {"op": "in", "slot": "?principal"},
                        "action": {"op": "All"}, "resource": {"op": "==", "slot": "?resource"},
                        "conditions": [{"kind": "unless", "body": {"Value": false}}]}},
    "templateLinks": [
      {"templateId": "t", "newId": "eu", "values": {"?principal": {"__entity": {"type": "Team", "id": "eu"}},
                                                   "?resource": {"type": "Queue", "id": "q1"}}}]
  })";
  auto set = ParsePolicySetJson(json, "links.json");
  ASSERT_TRUE(set.has_value()) << set.error().message();
  ASSERT_EQ(set->size(), 3u);
  const Policy* eu = set->Find("eu");
  ASSERT_NE(eu, nullptr);
  EXPECT_TRUE(eu->is_linked());
  EXPECT_EQ(eu->template_id(), "t");
  EXPECT_EQ(eu->ast().principal.uid, EntityUid("Team", "eu"));
  // Emitted back as a link, not as a static policy.
  auto est = PolicySetToJson(*set);
  ASSERT_TRUE(est.has_value());
  auto expected = ParseJson(R"([{"templateId": "t", "newId": "eu", "values": {
      "?principal": {"__entity": {"type": "Team", "id": "eu"}},
      "?resource": {"__entity": {"type": "Queue", "id": "q1"}}}}])");
  ASSERT_TRUE(expected.has_value());
  EXPECT_EQ(est->at("templateLinks"), *expected);
  EXPECT_FALSE(est->at("staticPolicies").as_object().contains("eu"));
  auto again = PolicySetFromJson(*est);
  ASSERT_TRUE(again.has_value()) << again.error().message();
  EXPECT_EQ(PolicySetDiff(*set, *again), "");
  // Text has no links: the template is printed, the link is not.
  EXPECT_EQ(FormatPolicySet(*set),
            "forbid (principal, action, resource);\n\n"
            "permit (principal in ?principal, action, resource == ?resource)\n"
            "unless { false };\n");
  // Link errors come from the link API and name the link.
  std::string bad = std::string(json);
  bad.replace(bad.find("\"templateId\": \"t\""), 17, "\"templateId\": \"s\"");
  auto err = ParsePolicySetJson(bad, "links.json");
  ASSERT_FALSE(err.has_value());
  EXPECT_EQ(err.error().message(), "links.json: link `eu`: `s` is a static policy, not a template");
}

TEST(CedarPolicyJson, EmitsCedarsShape) {
  PolicySet set = MustParse(
      "@id(\"x\") @flag permit(principal == User::\"a\", action in [Action::\"v\"], resource) "
      "when { context.s like \"a*\" && -5 < 3 && decimal(\"1.50\") == decimal(\"1.5\") };");
  auto est = PolicyToJson(set.policies()[0]);
  ASSERT_TRUE(est.has_value());
  auto expected = ParseJson(R"({"effect":"permit",
    "principal":{"op":"==","entity":{"type":"User","id":"a"}},
    "action":{"op":"in","entities":[{"type":"Action","id":"v"}]},
    "resource":{"op":"All"},
    "conditions":[{"kind":"when","body":{"&&":{"left":{"&&":{
      "left":{"like":{"left":{".":{"left":{"Var":"context"},"attr":"s"}},"pattern":[{"Literal":"a"},"Wildcard"]}},
      "right":{"<":{"left":{"Value":-5},"right":{"Value":3}}}}},
      "right":{"==":{"left":{"decimal":[{"Value":"1.5"}]},"right":{"decimal":[{"Value":"1.5"}]}}}}}}],
    "annotations":{"id":"x","flag":null}})");
  ASSERT_TRUE(expected.has_value());
  EXPECT_EQ(*est, *expected) << ToJson(*est);
  // One EST policy on its own is accepted too.
  auto one = ParsePolicySetJson(ToJson(*est));
  ASSERT_TRUE(one.has_value()) << one.error().message();
  EXPECT_EQ(one->policies()[0].id(), "policy0");
}

TEST(CedarPolicyJson, ErrorsNameThePolicyAndPath) {
  auto err = [](const std::string& json) {
    auto set = ParsePolicySetJson(json, "p.json");
    EXPECT_FALSE(set.has_value());
    return set.has_value() ? std::string() : set.error().message();
  };
  std::string scope = R"("principal":{"op":"All"},"action":{"op":"All"},"resource":{"op":"All"})";
  EXPECT_EQ(
      err(R"({"staticPolicies":{"p1":{"effect":"permit",)" + scope +
          R"(,"conditions":[{"kind":"when","body":{"&&":{"left":{"foo":{}},"right":{"Value":true}}}}]}}})"),
      "p.json: policy `p1`: /conditions/0/body/&&/left: unknown operator `foo`");
  EXPECT_EQ(err(R"({"staticPolicies":{"p1":{"effect":"allow",)" + scope + "}}}"),
            "p.json: policy `p1`: /effect: expected `permit` or `forbid`, found `allow`");
  EXPECT_EQ(
      err(R"({"staticPolicies":{"p1":{"effect":"permit","principal":{"op":"==","slot":"?principal"},"action":{"op":"All"},"resource":{"op":"All"}}}})"),
      "p.json: policy `p1`: a static policy cannot have slots (put it under `templates`)");
  EXPECT_EQ(
      err(R"({"templates":{"t":{"effect":"permit","principal":{"op":"==","slot":"?resource"},"action":{"op":"All"},"resource":{"op":"All"}}}})"),
      "p.json: policy `t`: /principal/slot: expected `?principal`, found `?resource`");
  EXPECT_EQ(
      err(R"({"staticPolicies":{"p":{"effect":"permit","principal":{"op":"==","entity":{"type":"if","id":"x"}},"action":{"op":"All"},"resource":{"op":"All"}}}})"),
      "p.json: policy `p`: /principal/entity/type: invalid entity type name `if`");
  EXPECT_EQ(err(R"({"staticPolicies":{"p":{"effect":"permit",)" + scope +
                R"(,"conditions":[{"kind":"when","body":{"Value":18446744073709551615}}]}}})"),
            "p.json: policy `p`: /conditions/0/body/Value: integer `18446744073709551615` is out "
            "of range");
  EXPECT_EQ(err(R"({"staticPolicies":{"p":{"effect":"permit",)" + scope +
                R"(,"conditions":[{"kind":"when","body":{"Unknown":{"name":"x"}}}]}}})"),
            "p.json: policy `p`: /conditions/0/body/Unknown: unknown values (partial "
            "evaluation) are not supported");
  EXPECT_EQ(err(R"({"staticPolicies":{"p":{"effect":"permit",)" + scope + R"(,"extra":1}}})"),
            "p.json: policy `p`: unexpected key `extra`");
  EXPECT_EQ(err(R"({"policies":{}})"),
            "p.json: unexpected key `policies` (expected `staticPolicies`, `templates`, "
            "`templateLinks`, or one policy with `effect`)");
  EXPECT_EQ(err("[1]"), "p.json: expected a JSON object, found a JSON array");
  EXPECT_NE(err("{\"staticPolicies\": "), "");
  EXPECT_EQ(err(R"({"staticPolicies":{"a":{"effect":"permit",)" + scope +
                R"(}},"templates":{"a":{"effect":"permit",)" + scope + "}}}"),
            "p.json: duplicate policy id `a`");
  // Control characters in user input stay on one line.
  std::string msg = err(R"({"staticPolicies":{"p\n1":{"effect":"x\ny",)" + scope + "}}}");
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST(CedarPolicyJson, DepthAndSizeAreBounded) {
  // 5,000 nested negations: over the expression depth limit, an error and no crash.
  std::string body;
  for (int i = 0; i < 5000; ++i) body += R"({"!":{"arg":)";
  body += R"({"Value":true})";
  for (int i = 0; i < 5000; ++i) body += "}}";
  std::string json = R"({"effect":"permit","principal":{"op":"All"},"action":{"op":"All"},)"
                     R"("resource":{"op":"All"},"conditions":[{"kind":"when","body":)" +
                     body + "}]}";
  auto set = ParsePolicySetJson(json);
  ASSERT_FALSE(set.has_value());
  EXPECT_EQ(set.error().code(), StatusCode::kResourceExhausted) << set.error().message();
  // Within the limit it parses (and formats and round-trips).
  std::string shallow;
  for (int i = 0; i < 150; ++i) shallow += R"({"!":{"arg":)";
  shallow += R"({"Value":true})";
  for (int i = 0; i < 150; ++i) shallow += "}}";
  json = R"({"effect":"permit","principal":{"op":"All"},"action":{"op":"All"},)"
         R"("resource":{"op":"All"},"conditions":[{"kind":"when","body":)" +
         shallow + "}]}";
  auto ok = ParsePolicySetJson(json);
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  ExpectRoundTrips(FormatPolicySet(*ok));
  PolicySetOptions small;
  small.max_bytes = 100;
  auto big = ParsePolicySetJson(json, "", small);
  ASSERT_FALSE(big.has_value());
  EXPECT_EQ(big.error().code(), StatusCode::kResourceExhausted);
}

// Every .cedar file of the hand-written conformance tests and sample data round-trips.
TEST(CedarFormat, RoundTripsConformanceFiles) {
  ARBITER_REQUIRE_SHARED(root, "conformance/cedar");
  size_t files = 0, policies = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.path().extension() != ".cedar") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto set = ParsePolicySet(ss.str(), entry.path().string());
    if (!set.has_value()) continue;  // a few files are meant not to parse
    SCOPED_TRACE(entry.path().string());
    ExpectRoundTrips(ss.str());
    ExpectRoundTrips(ss.str(), 40);
    ++files;
    policies += set->size();
  }
  EXPECT_GT(files, 20u);
  std::cout << files << " files, " << policies << " policies round-tripped\n";
}

#ifdef ARBITER_CLI_PATH
using RunResult = arbiter::testing::CommandResult;

RunResult RunCli(const std::string& args) {
  return arbiter::testing::RunCommand(std::string(ARBITER_CLI_PATH) + " " + args);
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CedarSurfaceCli : public ::testing::Test {
 protected:
  void SetUp() override {
    // One folder per test: ctest runs the tests of this fixture in parallel processes.
    dir_ = arbiter::testing::BuildDir() / "cedar-surface-cli-test" /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_);
    Write("p.cedar",
          "@id(\"admins\")\npermit(principal in Group::\"admins\",action,resource)"
          " when {context.ok};\n");
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  std::filesystem::path dir_;
};

TEST_F(CedarSurfaceCli, TranslatesBothWays) {
  RunResult r = RunCli("cedar translate-policy --direction cedar-to-json " + Path("p.cedar"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto json = ParseJson(r.out);
  ASSERT_TRUE(json.has_value()) << r.out;
  EXPECT_TRUE(json->at("staticPolicies").as_object().contains("admins"));
  Write("p.json", r.out);
  r = RunCli("cedar translate-policy --direction json-to-cedar " + Path("p.json"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out,
            "@id(\"admins\")\npermit (principal in Group::\"admins\", action, resource)\n"
            "when { context.ok };\n");
  r = RunCli("cedar translate-policy --direction json-to-cedar - < " + Path("p.json"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  r = RunCli("cedar translate-policy --direction sideways " + Path("p.json"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out,
            "arbiter cedar translate-policy: `--direction` must be `cedar-to-json` or "
            "`json-to-cedar`, found `sideways`\n");
  Write("bad.json", R"({"effect":"permit","principal":{"op":"All"},"action":{"op":"All"}})");
  r = RunCli("cedar translate-policy --direction json-to-cedar " + Path("bad.json"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "arbiter cedar translate-policy: " + Path("bad.json") +
                       ": policy `policy0`: missing `resource`\n");
}

TEST_F(CedarSurfaceCli, FormatCheckAndWrite) {
  RunResult r = RunCli("cedar format --policies " + Path("p.cedar") + " --check");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "arbiter cedar format: `" + Path("p.cedar") + "` is not formatted\n");
  r = RunCli("cedar format --policies " + Path("p.cedar"));
  ASSERT_EQ(r.exit_code, 0);
  std::string formatted = r.out;
  r = RunCli("cedar format --policies " + Path("p.cedar") + " --write");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(ReadFile(dir_ / "p.cedar"), formatted);
  r = RunCli("cedar format --policies " + Path("p.cedar") + " --check");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  Write("broken.cedar", "permit(principal, action, resource) when { 1 + };");
  r = RunCli("cedar format --policies " + Path("broken.cedar"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out.find("arbiter cedar format: " + Path("broken.cedar") + ":1:"), 0u) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
}
#endif

}  // namespace
}  // namespace arbiter::cedar
