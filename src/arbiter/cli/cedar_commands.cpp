// `arbiter cedar ...`: check-parse, authorize (single and batch) and conformance, in the manner
// of the Cedar CLI. Thin wrappers over the arbiter_cedar library.
#include <CLI/CLI.hpp>

#include <boost/json.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "arbiter/cedar/authorizer.h"
#include "arbiter/cedar/conformance.h"
#include "arbiter/cedar/entities.h"
#include "arbiter/cedar/internal/schema_data.h"
#include "arbiter/cedar/policy_set.h"
#include "arbiter/cedar/schema.h"
#include "arbiter/cli/command_registry.h"
#include "arbiter/cli/input.h"
#include "arbiter/cli/policy_input.h"
#include "arbiter/common/json.h"

namespace arbiter::cli {
namespace {

using cedar::EntityUid;

constexpr size_t kMaxInputFile = 64u << 20;
constexpr size_t kMaxRequestLine = 1u << 20;

// Reads one line (without the newline) into `line`, keeping at most `max` bytes: a longer line is
// consumed to its end with `too_long` set, so that one huge line cannot exhaust memory. False at
// end of input.
bool ReadBoundedLine(std::istream& in, std::string* line, size_t max, bool* too_long) {
  line->clear();
  *too_long = false;
  std::streambuf* buf = in.rdbuf();
  bool any = false;
  for (int c = buf->sbumpc(); c != std::char_traits<char>::eof(); c = buf->sbumpc()) {
    any = true;
    if (c == '\n') return true;
    if (line->size() < max) {
      line->push_back(static_cast<char>(c));
    } else {
      *too_long = true;
    }
  }
  return any;
}

int BadInput(const std::string& message) {
  std::cerr << "arbiter cedar: " << message << "\n";
  return 1;
}

struct AuthorizeOptions {
  std::string policies;
  std::string links;
  std::string entities;
  std::string schema;
  std::string principal, action, resource;
  std::string context;
  std::string requests;
  bool json = false;
  bool no_validation = false;
};

// Loaded once for a whole run.
struct Inputs {
  cedar::PolicySet policies;
  std::optional<cedar::Schema> schema;
  cedar::Entities entities;
};

Result<Inputs> LoadInputs(const AuthorizeOptions& o) {
  Inputs in;
  ARBITER_TRY(cedar::PolicySet ps, LoadPolicySet({o.policies, o.links, kMaxInputFile}));
  in.policies = std::move(ps);
  if (!o.schema.empty()) {
    ARBITER_TRY(std::string stext, ReadInput(o.schema, kMaxInputFile));
    ARBITER_TRY(cedar::Schema s, cedar::ParseSchema(stext, o.schema));
    in.schema = std::move(s);
  }
  std::string etext = "[]";
  if (!o.entities.empty()) {
    ARBITER_TRY(std::string t, ReadInput(o.entities, kMaxInputFile));
    etext = std::move(t);
  }
  ARBITER_TRY(cedar::Entities ents,
              cedar::ParseEntitiesJson(etext, in.schema ? &*in.schema : nullptr));
  in.entities = std::move(ents);
  return in;
}

Result<EntityUid> ParseUidArg(const std::string& text, std::string_view what) {
  auto r = cedar::ParseEntityUid(text);
  if (!r) return Status::InvalidArgument("--" + std::string(what) + ": " + r.error().message());
  return r;
}

std::string ResponseJson(const cedar::Response& r) {
  boost::json::object o;
  o["decision"] = std::string(cedar::DecisionName(r.decision));
  boost::json::array reasons, errors;
  for (const std::string& id : r.reasons) reasons.emplace_back(id);
  for (const auto& e : r.errors) errors.emplace_back(e.policy_id);
  o["reason"] = std::move(reasons);
  o["errors"] = std::move(errors);
  return boost::json::serialize(o);
}

Result<cedar::Response> AuthorizeOne(const Inputs& in, cedar::Request req, bool validate) {
  if (validate && in.schema) ARBITER_RETURN_IF_ERROR(cedar::ValidateRequest(req, *in.schema));
  return cedar::IsAuthorized(req, in.policies, in.entities);
}

// One JSONL request line -> one output line.
std::string BatchLine(const Inputs& in, std::string_view line, size_t line_no, bool validate) {
  auto error_line = [&](const std::string& msg) {
    boost::json::object o;
    o["error"] = "line " + std::to_string(line_no) + ": " + msg;
    return boost::json::serialize(o);
  };
  if (line.size() > kMaxRequestLine) return error_line("request line is too long");
  auto doc = ParseJson(line, JsonLimits{kMaxRequestLine, 64});
  if (!doc) return error_line(doc.error().message());
  const boost::json::object* o = doc->if_object();
  if (!o) return error_line("expected a JSON object");
  cedar::Request req;
  for (auto [key, out] : {std::pair<const char*, EntityUid*>{"principal", &req.principal},
                          {"action", &req.action},
                          {"resource", &req.resource}}) {
    const boost::json::value* v = o->if_contains(key);
    if (!v) return error_line(std::string("missing `") + key + "`");
    auto uid = cedar::internal::ParseUidJson(*v, key);
    if (!uid) return error_line(uid.error().message());
    *out = *uid;
  }
  boost::json::value empty = boost::json::object();
  const boost::json::value* cj = o->if_contains("context");
  auto context = cedar::internal::ParseContextValue(
      cj ? *cj : empty, in.schema ? &in.schema->data() : nullptr, req.action);
  if (!context) return error_line(context.error().message());
  req.context = *context;
  auto resp = AuthorizeOne(in, std::move(req), validate);
  if (!resp) return error_line(resp.error().message());
  return ResponseJson(*resp);
}

int RunAuthorize(const AuthorizeOptions& o) {
  auto in = LoadInputs(o);
  if (!in) return BadInput(in.error().message());
  bool validate = !o.no_validation;
  if (!o.requests.empty()) {
    std::ifstream file(o.requests, std::ios::binary);
    if (!file) return BadInput("cannot read `" + o.requests + "`");
    std::string line;
    size_t line_no = 0;
    std::string out;
    bool too_long = false;
    while (ReadBoundedLine(file, &line, kMaxRequestLine, &too_long)) {
      ++line_no;
      if (too_long) {
        out += "{\"error\":\"line " + std::to_string(line_no) + ": request line is longer than " +
               std::to_string(kMaxRequestLine) + " bytes\"}\n";
        continue;
      }
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      out += BatchLine(*in, line, line_no, validate);
      out += '\n';
      if (out.size() > (1u << 16)) {
        std::cout << out;
        out.clear();
      }
    }
    std::cout << out << std::flush;
    return 0;
  }
  if (o.principal.empty() || o.action.empty() || o.resource.empty()) {
    return BadInput("--principal, --action and --resource are required without --requests");
  }
  cedar::Request req;
  auto p = ParseUidArg(o.principal, "principal");
  auto a = ParseUidArg(o.action, "action");
  auto r = ParseUidArg(o.resource, "resource");
  if (!p) return BadInput(p.error().message());
  if (!a) return BadInput(a.error().message());
  if (!r) return BadInput(r.error().message());
  req.principal = *p;
  req.action = *a;
  req.resource = *r;
  if (!o.context.empty()) {
    auto text = ReadInput(o.context, kMaxInputFile);
    if (!text) return BadInput(text.error().message());
    auto ctx = cedar::ParseContextJson(*text, in->schema ? &*in->schema : nullptr, req.action);
    if (!ctx) return BadInput(ctx.error().message());
    req.context = *ctx;
  }
  auto resp = AuthorizeOne(*in, std::move(req), validate);
  if (!resp) return BadInput(resp.error().message());
  if (o.json) {
    std::cout << ResponseJson(*resp) << "\n";
  } else {
    std::cout << (resp->decision == cedar::Decision::kAllow ? "ALLOW" : "DENY") << "\n";
    for (const std::string& id : resp->reasons) std::cout << "reason: " << id << "\n";
    for (const auto& e : resp->errors) std::cout << "error: " << e.message << "\n";
  }
  return resp->decision == cedar::Decision::kAllow ? 0 : 2;
}

int RunCheckParse(const PolicyInput& policies, const std::string& schema,
                  const std::string& entities) {
  auto ps = LoadPolicySet(policies);
  if (!ps) return BadInput(ps.error().message());
  std::optional<cedar::Schema> s;
  if (!schema.empty()) {
    auto stext = ReadInput(schema, kMaxInputFile);
    if (!stext) return BadInput(stext.error().message());
    auto parsed = cedar::ParseSchema(*stext, schema);
    if (!parsed) return BadInput(parsed.error().message());
    s = std::move(*parsed);
  }
  if (!entities.empty()) {
    auto etext = ReadInput(entities, kMaxInputFile);
    if (!etext) return BadInput(etext.error().message());
    auto parsed = cedar::ParseEntitiesJson(*etext, s ? &*s : nullptr);
    if (!parsed) return BadInput(parsed.error().message());
  }
  std::cout << "ok: " << ps->size() << " polic" << (ps->size() == 1 ? "y" : "ies") << "\n";
  return 0;
}

int RunConformance(const std::string& root, const std::vector<std::string>& files,
                   const std::string& validator) {
  cedar::ConformanceOptions options;
  if (validator == "none") {
    options.check_validation = false;
  } else if (validator == "4.13") {
    options.validator_version = cedar::ValidatorVersion::kCedar4_13;
  } else if (validator != "4.10") {
    return BadInput("`--validator` must be `4.10`, `4.13` or `none`, found `" + validator + "`");
  }
  size_t passed = 0, failed = 0;
  for (const std::string& f : files) {
    cedar::ConformanceOutcome o = cedar::RunConformanceFile(f, root, options);
    for (const std::string& m : o.mismatches) std::cout << m << "\n";
    if (o.passed) {
      ++passed;
    } else {
      ++failed;
    }
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed == 0 ? 0 : 2;
}

void AddCedarCommands(CLI::App& app, CommandContext& ctx) {
  auto* cedar = SharedSubcommand(app, "cedar", "Cedar policies: parse, authorize, conformance");

  auto* check = cedar->add_subcommand("check-parse",
                                      "Parse a policy set (and optionally a "
                                      "schema and entities); exit 1 on error");
  auto check_policies = std::make_shared<PolicyInput>();
  auto check_schema = std::make_shared<std::string>();
  auto check_entities = std::make_shared<std::string>();
  check->add_option("--policies", check_policies->policies, kPoliciesHelp)->required();
  check->add_option("--links", check_policies->links, kLinksHelp);
  check->add_option("--schema", *check_schema, kSchemaHelp);
  check->add_option("--entities", *check_entities, "entities JSON");
  check->callback([&ctx, check_policies, check_schema, check_entities] {
    ctx.exit_code = RunCheckParse(*check_policies, *check_schema, *check_entities);
  });

  auto* authz = cedar->add_subcommand(
      "authorize",
      "Authorize a request (exit 0 allow, 2 deny, 1 bad input), or a batch of JSONL requests "
      "(one JSON result line per request; exit 0 unless the policies, schema or entities are "
      "bad)");
  auto ao = std::make_shared<AuthorizeOptions>();
  authz->add_option("--policies", ao->policies, kPoliciesHelp)->required();
  authz->add_option("--links", ao->links, kLinksHelp);
  authz->add_option("--entities", ao->entities, "entities JSON (default: none)");
  authz->add_option("--schema", ao->schema,
                    "schema (either format): entities and context are parsed with it and requests "
                    "validated against it");
  authz->add_option("--principal", ao->principal, "principal uid, e.g. User::\"alice\"");
  authz->add_option("--action", ao->action, "action uid, e.g. Action::\"view\"");
  authz->add_option("--resource", ao->resource, "resource uid");
  authz->add_option("--context", ao->context, "context JSON file");
  authz->add_option("--requests", ao->requests,
                    "JSONL file of {principal, action, resource, context} requests");
  authz->add_flag("--json", ao->json, "print the single result as a JSON line");
  authz->add_flag("--no-request-validation", ao->no_validation,
                  "do not validate requests against the schema");
  authz->callback([&ctx, ao] { ctx.exit_code = RunAuthorize(*ao); });

  auto* conf = cedar->add_subcommand(
      "conformance",
      "Run cedar-integration-tests files; prints one line per mismatch and `N passed, N failed` "
      "(exit 0 when all pass, 2 otherwise)");
  auto root = std::make_shared<std::string>();
  auto files = std::make_shared<std::vector<std::string>>();
  conf->add_option("--root", *root, "directory the test files' paths are relative to");
  conf->add_option("tests", *files, "test JSON files")->required();
  auto validator = std::make_shared<std::string>("4.10");
  conf->add_option(
      "--validator", *validator,
      "check shouldValidate with the validator of Cedar 4.10 (default, as the corpus), "
      "4.13 (an unmatched scope is a warning: 31 corpus tests then fail), or none");
  conf->callback([&ctx, root, files, validator] {
    ctx.exit_code = RunConformance(*root, *files, *validator);
  });
}

}  // namespace

ARBITER_COMMAND_GROUP(cedar, AddCedarCommands);

}  // namespace arbiter::cli
