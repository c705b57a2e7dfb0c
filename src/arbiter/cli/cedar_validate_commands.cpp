// `arbiter cedar validate`: strict validation of a policy set against a schema, in the manner of
// the Cedar CLI. Registered as its own group (`cedar_tools`, after `cedar` in name order) and
// attached to the `cedar` subcommand.
#include <CLI/CLI.hpp>

#include <boost/json.hpp>

#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include "arbiter/cedar/policy_set.h"
#include "arbiter/cedar/schema.h"
#include "arbiter/cedar/validator.h"
#include "arbiter/cli/command_registry.h"
#include "arbiter/cli/input.h"
#include "arbiter/cli/policy_input.h"

namespace arbiter::cli {
namespace {

constexpr size_t kMaxInputFile = 64u << 20;

struct ValidateOptions {
  std::string policies;
  std::string schema;
  std::string links;
  std::optional<int> level;
  std::string version = "4.10";
  bool json = false;
};

boost::json::object IssueJson(const cedar::ValidationIssue& i) {
  return {{"policyId", i.policy_id}, {"line", i.span.line}, {"column", i.span.column},
          {"begin", i.span.begin},   {"end", i.span.end},   {"message", i.message}};
}

// Exit status: 0 valid, 2 validation errors, 1 bad input.
int RunValidate(const ValidateOptions& o) {
  auto fail = [](const std::string& m) {
    std::cerr << "arbiter cedar validate: " << m << "\n";
    return 1;
  };
  cedar::ValidationOptions vopts;
  if (o.version == "4.10") {
    vopts.version = cedar::ValidatorVersion::kCedar4_10;
  } else if (o.version == "4.13") {
    vopts.version = cedar::ValidatorVersion::kCedar4_13;
  } else {
    return fail("`--cedar-version` must be `4.10` or `4.13`, found `" + o.version + "`");
  }
  if (o.level && *o.level < 0) return fail("`--level` must be at least 0");
  vopts.max_level = o.level;
  auto policies = LoadPolicySet({o.policies, o.links, kMaxInputFile});
  if (!policies) return fail(policies.error().message());
  auto stext = ReadInput(o.schema, kMaxInputFile);
  if (!stext) return fail(stext.error().message());
  auto schema = cedar::ParseSchema(*stext, o.schema);
  if (!schema) return fail(schema.error().message());
  cedar::ValidationResult r = cedar::ValidatePolicies(*policies, *schema, vopts);
  if (o.json) {
    boost::json::array errors, warnings;
    for (const auto& e : r.errors) errors.push_back(IssueJson(e));
    for (const auto& w : r.warnings) warnings.push_back(IssueJson(w));
    boost::json::object out{{"valid", r.ok()}, {"errors", errors}, {"warnings", warnings}};
    std::cout << boost::json::serialize(out) << "\n";
  } else {
    for (const auto& e : r.errors)
      std::cout << "error: " << o.policies << ": " << e.ToString() << "\n";
    for (const auto& w : r.warnings) {
      std::cout << "warning: " << o.policies << ": " << w.ToString() << "\n";
    }
    std::cout << (r.ok() ? "validation passed" : "validation failed") << " (" << r.errors.size()
              << " errors, " << r.warnings.size() << " warnings)\n";
  }
  return r.ok() ? 0 : 2;
}

void AddCedarToolCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* cedar = SharedSubcommand(app, "cedar", "Cedar policies");
  auto* validate = cedar->add_subcommand(
      "validate",
      "Strictly validate (typecheck) a policy set against a schema; exit 0 valid, 2 invalid, "
      "1 bad input");
  auto o = std::make_shared<ValidateOptions>();
  validate->add_option("--policies", o->policies, kPoliciesHelp)->required();
  validate->add_option("--schema", o->schema, kSchemaHelp)->required();
  validate->add_option("--links", o->links, kLinksHelp);
  validate->add_option("--level", o->level,
                       "level validation: the most entity dereferences allowed");
  validate->add_option("--cedar-version", o->version,
                       "validator release to follow: 4.10 (default; an unmatched scope is an "
                       "error) or 4.13 (a warning)");
  validate->add_flag("--json", o->json, "print {valid, errors, warnings} as one JSON line");
  validate->callback([&ctx, o] { ctx.exit_code = RunValidate(*o); });
}

}  // namespace

ARBITER_COMMAND_GROUP(cedar_tools, AddCedarToolCommands);

}  // namespace arbiter::cli
