// Unit tests of the strict validator on small schemas: each rule has a policy that must validate
// and one that must not, with the error naming the policy and the problem.
#include "arbiter/cedar/validator.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

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
             "comparison needs"},
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
  EXPECT_EQ(r.errors[0].span.line, 3u);
  EXPECT_EQ(r.errors[0].ToString().rfind("bad at 3:", 0), 0u) << r.errors[0].ToString();
}

#ifdef ARBITER_CLI_PATH
struct CliRun {
  int status;
  std::string out;
};

CliRun RunCli(const std::string& args) {
  std::string cmd = std::string(ARBITER_CLI_PATH) + " " + args + " 2>&1";
  FILE* f = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while (f && (n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  int status = f ? pclose(f) : -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
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
  EXPECT_EQ(ok.status, 0) << ok.out;
  EXPECT_NE(ok.out.find("validation passed"), std::string::npos) << ok.out;

  CliRun fail = RunCli("cedar validate --policies " + bad + " --schema " + schema);
  EXPECT_EQ(fail.status, 2) << fail.out;
  EXPECT_NE(fail.out.find("typo at 1:1: attribute `agee` not found on `User`"), std::string::npos)
      << fail.out;

  CliRun json = RunCli("cedar validate --json --policies " + bad + " --schema " + schema);
  EXPECT_EQ(json.status, 2);
  EXPECT_NE(json.out.find("\"valid\":false"), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"policyId\":\"typo\""), std::string::npos) << json.out;

  EXPECT_EQ(RunCli("cedar validate --policies " + unmatched + " --schema " + schema).status, 2);
  CliRun v13 =
      RunCli("cedar validate --cedar-version 4.13 --policies " + unmatched + " --schema " + schema);
  EXPECT_EQ(v13.status, 0) << v13.out;
  EXPECT_NE(v13.out.find("warning:"), std::string::npos) << v13.out;

  CliRun missing =
      RunCli("cedar validate --policies " + (dir / "none.cedar").string() + " --schema " + schema);
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.out.find("cannot read"), std::string::npos) << missing.out;
  CliRun badschema = RunCli("cedar validate --policies " + good + " --schema " + good);
  EXPECT_EQ(badschema.status, 1) << badschema.out;
  std::filesystem::remove_all(dir);
}
#endif

}  // namespace
}  // namespace arbiter::cedar
