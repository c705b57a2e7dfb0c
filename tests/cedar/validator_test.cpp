// Unit tests of the strict validator on small schemas: each rule has a policy that must validate
// and one that must not, with the error naming the policy and the problem.
#include "arbiter/cedar/validator.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "support/run_command.h"

namespace arbiter::cedar {
namespace {

constexpr const char* kSchema = R"(
entity Team;
entity User in [Team] { name: String, age: Long, manager?: User, tags: Set<String>,
                        ip: ipaddr, score: decimal };
entity Doc { owner: User, secret?: Bool, meta: { size: Long, label?: String } } tags String;
entity Color enum ["red", "green"];
action view appliesTo { principal: [User], resource: [Doc], context: { n: Long, when?: datetime } };
action edit appliesTo { principal: [User], resource: [Doc] };
action admin;
)";

ValidationResult Validate(const std::string& policies, ValidationOptions options = {}) {
  auto schema = ParseSchema(kSchema, "test.cedarschema");
  EXPECT_TRUE(static_cast<bool>(schema)) << schema.error().message();
  auto ps = ParsePolicySet(policies, "test.cedar");
  EXPECT_TRUE(static_cast<bool>(ps)) << ps.error().message();
  return ValidatePolicies(*ps, *schema, options);
}

std::string Errors(const ValidationResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.ToString() + "\n";
  return out;
}

struct Case {
  const char* policy;
  const char* error;  // nullptr: must validate; otherwise a fragment of the expected error
};

class ValidatorCase : public ::testing::TestWithParam<Case> {};

TEST_P(ValidatorCase, AgreesWithCedarRules) {
  const Case& c = GetParam();
  ValidationResult r = Validate(c.policy);
  if (!c.error) {
    EXPECT_TRUE(r.ok()) << c.policy << "\n" << Errors(r);
  } else {
    ASSERT_FALSE(r.ok()) << c.policy;
    EXPECT_NE(Errors(r).find(c.error), std::string::npos) << c.policy << "\n" << Errors(r);
    EXPECT_EQ(r.errors[0].policy_id, "policy0");
    EXPECT_EQ(r.errors[0].span.line, 1u);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rules, ValidatorCase,
    ::testing::Values(
        Case{"permit(principal, action, resource);", nullptr},
        Case{"permit(principal == User::\"a\", action == Action::\"view\", resource);", nullptr},
        Case{"permit(principal, action, resource) when { principal.name == \"x\" };", nullptr},
        Case{"permit(principal, action, resource) when { principal.nmae == \"x\" };",
             "attribute `nmae` not found on `User`"},
        Case{"permit(principal, action, resource) when { principal.manager.age > 3 };",
             "optional; test it with `has`"},
        Case{"permit(principal, action, resource) when { principal has manager && "
             "principal.manager.age > 3 };",
             nullptr},
        Case{"permit(principal, action, resource) when { if principal has manager then "
             "principal.manager.age > 3 else false };",
             nullptr},
        Case{"permit(principal, action, resource) when { principal has manager || "
             "principal.manager.age > 3 };",
             "optional"},
        Case{"permit(principal, action, resource) when { principal has manager } when { "
             "principal.manager.age > 3 };",
             nullptr},
        Case{"permit(principal, action, resource) unless { principal.age + \"1\" == 2 };",
             "expected Long, found String"},
        Case{"permit(principal, action, resource) when { principal.age == \"1\" };",
             "incompatible types in `==`"},
        Case{"permit(principal, action, resource) when { [1, \"a\"].contains(1) };",
             "incompatible types in a set literal"},
        Case{"permit(principal, action, resource) when { [].isEmpty() };", "empty set literals"},
        Case{"permit(principal, action, resource) when { principal.tags.contains(1) };",
             "incompatible types in `contains`"},
        Case{"permit(principal, action, resource) when { principal.tags.contains(\"a\") };",
             nullptr},
        Case{"permit(principal, action, resource) when { if true then 1 else \"a\" };",
             "expected Bool"},
        Case{"permit(principal, action, resource) when { (if context.n > 1 then 1 else \"a\") "
             "== 1 };",
             "incompatible types in the branches of `if`"},
        Case{"permit(principal, action, resource) when { principal == resource };", nullptr},
        Case{"permit(principal, action, resource) when { resource.getTag(\"k\") == \"v\" };",
             "without testing it with `hasTag`"},
        Case{"permit(principal, action, resource) when { resource.hasTag(\"k\") && "
             "resource.getTag(\"k\") == \"v\" };",
             nullptr},
        Case{"permit(principal, action, resource) when { principal.hasTag(\"k\") && "
             "principal.getTag(\"k\") == \"v\" };",
             nullptr},  // `hasTag` on a type without tags is false: the rest is not checked
        Case{
            "permit(principal, action, resource) when { principal.ip.isInRange(ip(\"10.0.0.0/8\")) "
            "};",
            nullptr},
        Case{"permit(principal, action, resource) when { principal.ip.isInRange(ip(\"10.0.0.0/"
             "99\")) };",
             "invalid `ip` literal"},
        Case{"permit(principal, action, resource) when { decimal(principal.name) == "
             "principal.score };",
             "needs a literal argument"},
        Case{"permit(principal, action, resource) when { principal.score.lessThan(1) };",
             "expected decimal, found Long"},
        Case{"permit(principal, action == Action::\"view\", resource) when { context.n > 1 && "
             "context has when && "
             "context.when < datetime(\"2024-01-01\") };",
             nullptr},
        Case{"permit(principal, action, resource) when { context.when < datetime(\"2024-01-01\") "
             "};",
             "optional"},
        Case{"permit(principal, action, resource) when { principal.age < decimal(\"1.0\") };",
             "expected Long, found decimal"},
        Case{"permit(principal, action, resource) when { resource.meta.size > 1 && "
             "resource.meta.label like \"x*\" };",
             "attribute `label` of the record is optional"},
        Case{"permit(principal, action, resource) when { resource.owner.manager.name == "
             "\"x\" };",
             "optional"},
        Case{"permit(principal is Usr, action, resource);", "unrecognized entity type `Usr`"},
        Case{"permit(principal, action == Action::\"veiw\", resource);",
             "unrecognized action `Action::\"veiw\"`"},
        Case{"permit(principal, action, resource) when { Color::\"blue\" == Color::\"red\" };",
             "is not a value of enum entity type `Color`"},
        Case{"permit(principal, action == Action::\"admin\", resource);",
             "unable to find an applicable action"},
        Case{"permit(principal is Team, action, resource);", "unable to find an applicable action"},
        Case{"permit(principal in Team::\"t\", action, resource is Doc);", nullptr},
        Case{"permit(principal, action in [Action::\"view\", Action::\"edit\"], resource) when { "
             "context.n > 1 };",
             "attribute `n` not found on the record"},  // `edit` has no context
        Case{"permit(principal, action == Action::\"view\", resource) when { context.n > 1 };",
             nullptr},
        Case{"permit(principal, action, resource) when { principal in resource };", nullptr},
        Case{"permit(principal, action, resource) when { principal in 1 };",
             "expected an entity or a set of entities"},
        Case{"permit(principal, action, resource) when { {a: 1}.a == 1 && {a: 1}.b == 1 };",
             "attribute `b` not found on the record"},
        Case{"permit(principal, action, resource) when { principal.name.isEmpty() };",
             "expected a set, found String"},
        Case{"permit(principal, action, resource) when { principal.name.toDays() == 1 };",
             "expected duration, found String"}));

TEST(Validator, VersionDecidesWhetherAnUnmatchedScopeIsAnError) {
  const char* p = "permit(principal is Team, action, resource);";
  ValidationResult v10 = Validate(p);
  EXPECT_EQ(v10.errors.size(), 1u) << Errors(v10);
  ValidationOptions o;
  o.version = ValidatorVersion::kCedar4_13;
  ValidationResult v13 = Validate(p, o);
  EXPECT_TRUE(v13.ok()) << Errors(v13);
  ASSERT_FALSE(v13.warnings.empty());
  EXPECT_NE(v13.warnings[0].message.find("applicable action"), std::string::npos);
}

TEST(Validator, LevelLimitsEntityDereferences) {
  const char* p =
      "permit(principal, action, resource) when { resource.owner.name == \"x\" };\n"
      "permit(principal, action == Action::\"view\", resource) when { context.n == 1 };";
  ValidationOptions o;
  o.max_level = 1;
  ValidationResult r1 = Validate(p, o);
  ASSERT_EQ(r1.errors.size(), 1u) << Errors(r1);
  EXPECT_EQ(r1.errors[0].policy_id, "policy0");
  EXPECT_NE(r1.errors[0].message.find("level 2"), std::string::npos);
  o.max_level = 2;
  EXPECT_TRUE(Validate(p, o).ok());
  EXPECT_TRUE(Validate(p).ok());
}

TEST(Validator, ImpossiblePolicyIsAWarningNotAnError) {
  ValidationResult r = Validate(
      "permit(principal, action, resource) when { principal is Team && "
      "principal.nothing };");
  EXPECT_TRUE(r.ok()) << Errors(r);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].message.find("impossible"), std::string::npos);
}

TEST(Validator, ErrorsNamePolicyIdAndLocation) {
  ValidationResult r = Validate(
      "permit(principal, action, resource);\n\n@id(\"bad\")\n  forbid(principal, action, "
      "resource) when { principal.nope };");
  ASSERT_EQ(r.errors.size(), 1u) << Errors(r);
  EXPECT_EQ(r.errors[0].policy_id, "bad");
  // The offending subexpression `principal.nope`, not the policy's start (3:1).
  EXPECT_EQ(r.errors[0].ToString(), "bad at 4:46: attribute `nope` not found on `User`");
}

// Each error is located at its own subexpression: line, column and byte range.
TEST(Validator, ErrorSpansNameTheSubexpression) {
  const std::string text =
      "@id(\"p\")\n"
      "permit(principal, action, resource)\n"
      "when {\n"
      "  1 + \"a\" == 2 &&\n"
      "  resource.nope &&\n"
      "  Nope::\"x\" == principal\n"
      "} unless { principal.manager == principal };\n"
      "permit(principal in Nope::\"y\", action, resource);\n";
  ValidationResult r = Validate(text);
  auto find = [&](std::string_view fragment) -> const ValidationIssue* {
    for (const auto& e : r.errors) {
      if (e.message.find(fragment) != std::string::npos) return &e;
    }
    return nullptr;
  };
  auto covers = [&](const ValidationIssue* e, std::string_view source) {
    ASSERT_NE(e, nullptr) << Errors(r);
    EXPECT_EQ(text.substr(e->span.begin, e->span.end - e->span.begin), source) << e->ToString();
  };
  const ValidationIssue* operand = find("expected Long, found String");
  covers(operand, "\"a\"");
  EXPECT_EQ(operand->span.line, 4u);
  EXPECT_EQ(operand->span.column, 7u);
  const ValidationIssue* attr = find("attribute `nope`");
  covers(attr, "resource.nope");
  EXPECT_EQ(attr->span.line, 5u);
  EXPECT_EQ(attr->span.column, 3u);
  // An unknown entity type: its name in the literal, as the reference.
  covers(find("unrecognized entity type `Nope`"), "Nope");
  const ValidationIssue* optional = find("`manager`");
  covers(optional, "principal.manager");
  EXPECT_EQ(optional->span.line, 7u);
  EXPECT_EQ(optional->policy_id, "p");
  // In the scope too.
  const ValidationIssue* scope = nullptr;
  for (const auto& e : r.errors) {
    if (e.policy_id == "policy1" && e.message.find("unrecognized") != std::string::npos) scope = &e;
  }
  covers(scope, "Nope");
  EXPECT_EQ(scope->span.line, 8u);
  EXPECT_EQ(scope->span.column, 21u);
}

TEST(Validator, UnlessConditionsAreChecked) {
  EXPECT_FALSE(
      Validate("forbid(principal, action, resource) unless { principal.manager == principal };")
          .ok());
  EXPECT_TRUE(Validate("forbid(principal, action, resource) unless { principal has manager && "
                       "principal.manager == principal };")
                  .ok());
  // Conditions are `when₁ && !unless₁ && …` in order: a `has` fact from an earlier `when` covers a
  // later `unless` (cedar-wasm agrees), while an `unless`'s own `has` proves nothing afterwards.
  EXPECT_TRUE(Validate("permit(principal, action, resource) when { principal has manager } "
                       "unless { principal.manager.age > 1 };")
                  .ok());
  EXPECT_FALSE(Validate("permit(principal, action, resource) unless { principal has manager } "
                        "when { principal.manager.age > 1 };")
                   .ok());
  EXPECT_FALSE(Validate("permit(principal, action, resource) unless { principal.age };").ok());
}

TEST(Validator, CommonTypesInAttributes) {
  const char* schema = R"(
    namespace App {
      type Address = { city: String, zip?: String };
      type Zips = Set<Address>;
      entity User { home: Address, old: Zips };
      action view appliesTo { principal: [User], resource: [User], context: { at: Address } };
    })";
  auto s = ParseSchema(schema, "common.cedarschema");
  ASSERT_TRUE(s.has_value()) << s.error().message();
  auto check = [&](const std::string& cond) {
    auto ps = ParsePolicySet("permit(principal, action, resource) when { " + cond + " };");
    EXPECT_TRUE(ps.has_value()) << ps.error().message();
    return ValidatePolicies(*ps, *s);
  };
  EXPECT_TRUE(check("principal.home.city like \"B*\" && context.at.city == \"x\"").ok());
  EXPECT_FALSE(check("principal.home.zip == \"1\"").ok());
  EXPECT_TRUE(check("principal.home has zip && principal.home.zip == \"1\"").ok());
  EXPECT_TRUE(check("principal.old.contains(principal.home)").ok());
  EXPECT_FALSE(check("principal.old.contains(principal)").ok());
  EXPECT_FALSE(check("principal.home.street == \"x\"").ok());
}

TEST(Validator, LevelCountsEveryKindOfDereference) {
  struct LevelCase {
    const char* condition;
    int needed;  // the smallest level that validates
  };
  const LevelCase cases[] = {
      {"principal.age > 1", 1},
      {"resource.owner.age > 1", 2},
      {"resource has owner", 1},
      {"resource.owner has manager", 2},
      {"resource.owner in principal", 2},
      {"principal in resource.owner", 1},
      {"resource.hasTag(\"k\") && resource.getTag(\"k\") == \"v\"", 1},
      {"resource.meta.size > 1", 1},  // a record attribute is not a dereference
      {"context.n > 1", 0},
      {"principal == resource.owner", 1},
  };
  for (const LevelCase& c : cases) {
    std::string p = "permit(principal, action == Action::\"view\", resource) when { " +
                    std::string(c.condition) + " };";
    ValidationOptions o;
    o.max_level = c.needed;
    EXPECT_TRUE(Validate(p, o).ok()) << c.condition << " at level " << c.needed << "\n"
                                     << Errors(Validate(p, o));
    if (c.needed > 0) {
      o.max_level = c.needed - 1;
      ValidationResult r = Validate(p, o);
      EXPECT_FALSE(r.ok()) << c.condition << " at level " << c.needed - 1;
    }
  }
}

// Templates: slots range over the entity types that can satisfy them, so the template validates
// when its conditions do; errors in the template are reported once, under the template's id.
TEST(Validator, TemplatesAndLinks) {
  auto schema = ParseSchema(kSchema, "test.cedarschema");
  ASSERT_TRUE(schema.has_value());
  auto ps = ParsePolicySet(R"(
@id("viewer")
permit(principal == ?principal, action == Action::"view", resource == ?resource)
when { principal.age > 18 && resource.owner != principal };
@id("team")
permit(principal in ?principal, action, resource) when { principal.name like "a*" };
@id("broken")
permit(principal == ?principal, action, resource) when { principal.nope };
)",
                           "t.cedar");
  ASSERT_TRUE(ps.has_value()) << ps.error().message();
  ValidationResult templates_only = ValidatePolicies(*ps, *schema);
  ASSERT_EQ(templates_only.errors.size(), 1u) << Errors(templates_only);
  EXPECT_EQ(templates_only.errors[0].policy_id, "broken");

  auto linked = LinkTemplates(
      *ps, {{"viewer", "alice-doc", EntityUid("User", "alice"), EntityUid("Doc", "d")},
            {"team", "eng", EntityUid("Team", "eng"), {}},
            {"team", "user-in-user", EntityUid("User", "bob"), {}},
            {"broken", "b1", EntityUid("User", "x"), {}},
            {"viewer", "wrong-type", EntityUid("Doc", "d"), EntityUid("Doc", "d")},
            {"team", "unknown-type", EntityUid("Nope", "x"), {}}});
  ASSERT_TRUE(linked.has_value()) << linked.error().message();
  ValidationResult r = ValidatePolicies(*linked, *schema);
  std::map<std::string, std::vector<std::string>> by_id;
  for (const auto& e : r.errors) by_id[e.policy_id].push_back(e.message);
  EXPECT_EQ(by_id.count("alice-doc"), 0u) << Errors(r);
  EXPECT_EQ(by_id.count("eng"), 0u) << Errors(r);
  EXPECT_EQ(by_id.count("user-in-user"), 0u) << Errors(r);
  // The template's error is not repeated for its link.
  EXPECT_EQ(by_id.count("b1"), 0u) << Errors(r);
  EXPECT_EQ(by_id["broken"].size(), 1u) << Errors(r);
  // A Doc cannot be the principal of any action.
  ASSERT_EQ(by_id["wrong-type"].size(), 1u) << Errors(r);
  EXPECT_NE(by_id["wrong-type"][0].find("applicable action"), std::string::npos);
  ASSERT_FALSE(by_id["unknown-type"].empty()) << Errors(r);
  EXPECT_NE(by_id["unknown-type"][0].find("unrecognized entity type `Nope`"), std::string::npos);
  // The linked entity is not in the text: link errors are at the template's span.
  for (const auto& e : r.errors) {
    if (e.policy_id == "unknown-type") {
      EXPECT_EQ(e.span.line, 5u) << e.ToString();
    }
  }
  // Cedar 4.13: the unmatched link scope is a warning.
  ValidationOptions v13;
  v13.version = ValidatorVersion::kCedar4_13;
  ValidationResult r13 = ValidatePolicies(*linked, *schema, v13);
  bool warned = false;
  for (const auto& w : r13.warnings) warned |= w.policy_id == "wrong-type";
  EXPECT_TRUE(warned);
  for (const auto& e : r13.errors) EXPECT_NE(e.policy_id, "wrong-type");
}

#ifdef ARBITER_CLI_PATH
using CliRun = arbiter::testing::CommandResult;

CliRun RunCli(const std::string& args) {
  return arbiter::testing::RunCommand(std::string(ARBITER_CLI_PATH) + " " + args);
}

TEST(ValidatorCli, ExitStatusAndOutput) {
  auto dir =
      std::filesystem::temp_directory_path() / ("arbiter-validate-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    return (dir / name).string();
  };
  std::string schema = write("s.cedarschema", kSchema);
  std::string good =
      write("good.cedar", "permit(principal, action, resource) when { principal.age > 1 };");
  std::string bad =
      write("bad.cedar",
            "@id(\"typo\")\npermit(principal, action, resource) when { principal.agee > 1 };");
  std::string unmatched = write("scope.cedar", "permit(principal is Team, action, resource);");

  CliRun ok = RunCli("cedar validate --policies " + good + " --schema " + schema);
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("validation passed"), std::string::npos) << ok.out;

  CliRun fail = RunCli("cedar validate --policies " + bad + " --schema " + schema);
  EXPECT_EQ(fail.exit_code, 2) << fail.out;
  EXPECT_NE(fail.out.find("typo at 2:44: attribute `agee` not found on `User`"), std::string::npos)
      << fail.out;

  CliRun json = RunCli("cedar validate --json --policies " + bad + " --schema " + schema);
  EXPECT_EQ(json.exit_code, 2);
  EXPECT_NE(json.out.find("\"valid\":false"), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"policyId\":\"typo\""), std::string::npos) << json.out;

  EXPECT_EQ(RunCli("cedar validate --policies " + unmatched + " --schema " + schema).exit_code, 2);
  CliRun v13 =
      RunCli("cedar validate --cedar-version 4.13 --policies " + unmatched + " --schema " + schema);
  EXPECT_EQ(v13.exit_code, 0) << v13.out;
  EXPECT_NE(v13.out.find("warning:"), std::string::npos) << v13.out;

  // Template links, in Cedar's templateLinks JSON.
  std::string tmpl =
      write("tmpl.cedar", "@id(\"t\")\npermit(principal == ?principal, action, resource);");
  std::string good_links = write("good.json",
                                 R"({"templateLinks": [{"templateId": "t", "newId": "l1",
                             "values": {"?principal": {"type": "User", "id": "alice"}}}]})");
  std::string bad_links = write("bad.json", R"([{"templateId": "t", "newId": "l2",
                      "values": {"?principal": {"__entity": {"type": "Doc", "id": "d"}}}}])");
  std::string missing_slot = write("missing.json", R"([{"templateId": "t", "newId": "l3"}])");
  CliRun linked = RunCli("cedar validate --policies " + tmpl + " --schema " + schema + " --links " +
                         good_links);
  EXPECT_EQ(linked.exit_code, 0) << linked.out;
  CliRun bad_link =
      RunCli("cedar validate --policies " + tmpl + " --schema " + schema + " --links " + bad_links);
  EXPECT_EQ(bad_link.exit_code, 2) << bad_link.out;
  EXPECT_NE(bad_link.out.find("l2 at 1:1: unable to find an applicable action"), std::string::npos)
      << bad_link.out;
  CliRun unlinkable = RunCli("cedar validate --policies " + tmpl + " --schema " + schema +
                             " --links " + missing_slot);
  EXPECT_EQ(unlinkable.exit_code, 1) << unlinkable.out;
  EXPECT_NE(unlinkable.out.find("link `l3`: template `t` has a `?principal` slot"),
            std::string::npos)
      << unlinkable.out;

  CliRun missing =
      RunCli("cedar validate --policies " + (dir / "none.cedar").string() + " --schema " + schema);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("cannot read"), std::string::npos) << missing.out;
  CliRun badschema = RunCli("cedar validate --policies " + good + " --schema " + good);
  EXPECT_EQ(badschema.exit_code, 1) << badschema.out;
  std::filesystem::remove_all(dir);
}
#endif

}  // namespace
}  // namespace arbiter::cedar
