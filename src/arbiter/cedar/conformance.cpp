#include "arbiter/cedar/conformance.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "arbiter/cedar/authorizer.h"
#include "arbiter/cedar/internal/schema_data.h"
#include "arbiter/common/json.h"

namespace arbiter::cedar {
namespace {

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read `" + path + "`");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Join(const std::set<std::string>& s) {
  std::string out = "[";
  for (const std::string& x : s) {
    if (out.size() > 1) out += ",";
    out += x;
  }
  return out + "]";
}

Result<std::set<std::string>> IdSet(const boost::json::object& o, std::string_view key) {
  std::set<std::string> out;
  const boost::json::value* v = o.if_contains(key);
  if (!v) return out;
  if (!v->is_array()) return Status::InvalidArgument("`" + std::string(key) + "` must be an array");
  for (const auto& el : v->as_array()) {
    if (el.is_string()) {
      out.insert(std::string(el.as_string()));
    } else if (el.is_object() && el.as_object().contains("policyId") &&
               el.as_object().at("policyId").is_string()) {
      out.insert(std::string(el.as_object().at("policyId").as_string()));
    } else {
      return Status::InvalidArgument("`" + std::string(key) + "` holds a non-string");
    }
  }
  return out;
}

std::string Resolve(const std::string& root, std::string_view rel) {
  if (root.empty() || (!rel.empty() && rel[0] == '/')) return std::string(rel);
  return root + "/" + std::string(rel);
}

}  // namespace

ConformanceOutcome RunConformanceFile(const std::string& test_path, const std::string& root) {
  ConformanceOutcome outcome;
  auto fail = [&](const std::string& msg) {
    outcome.mismatches.push_back(test_path + ": " + msg);
    outcome.passed = false;
    return outcome;
  };
  auto text = ReadWholeFile(test_path);
  if (!text) return fail(text.error().message());
  auto doc = ParseJson(*text, JsonLimits{256u << 20, 128});
  if (!doc) return fail(doc.error().message());
  const boost::json::object* test = doc->if_object();
  if (!test) return fail("expected a JSON object");
  auto get_path = [&](std::string_view key) -> Result<std::string> {
    const boost::json::value* v = test->if_contains(key);
    if (!v || !v->is_string()) return Status::InvalidArgument("missing `" + std::string(key) + "`");
    return Resolve(root, v->as_string());
  };
  if (const boost::json::value* sv = test->if_contains("shouldValidate"); sv && sv->is_bool()) {
    outcome.should_validate = sv->as_bool();
  }
  auto policies_path = get_path("policies");
  auto entities_path = get_path("entities");
  auto schema_path = get_path("schema");
  if (!policies_path) return fail(policies_path.error().message());
  if (!entities_path) return fail(entities_path.error().message());
  if (!schema_path) return fail(schema_path.error().message());

  auto schema_text = ReadWholeFile(*schema_path);
  if (!schema_text) return fail(schema_text.error().message());
  auto schema = ParseSchema(*schema_text, *schema_path);
  if (!schema) return fail("schema: " + schema.error().message());

  auto policy_text = ReadWholeFile(*policies_path);
  if (!policy_text) return fail(policy_text.error().message());
  PolicySetOptions options;
  options.file_order_ids = true;
  auto policies = ParsePolicySet(*policy_text, *policies_path, options);
  if (!policies) return fail("policies: " + policies.error().message());

  auto entities_text = ReadWholeFile(*entities_path);
  if (!entities_text) return fail(entities_text.error().message());
  auto entities = ParseEntitiesJson(*entities_text, &*schema);
  if (!entities) return fail("entities: " + entities.error().message());

  const boost::json::value* requests = test->if_contains("requests");
  if (!requests || !requests->is_array()) return fail("missing `requests`");
  outcome.passed = true;
  for (const auto& rj : requests->as_array()) {
    ++outcome.requests;
    const boost::json::object* r = rj.if_object();
    std::string desc = "request " + std::to_string(outcome.requests - 1);
    if (!r) {
      fail(desc + ": expected an object");
      continue;
    }
    if (const boost::json::value* d = r->if_contains("description"); d && d->is_string()) {
      desc = std::string(d->as_string());
    }
    auto mismatch = [&](const std::string& msg) { fail("`" + desc + "`: " + msg); };
    Request req;
    auto uid = [&](std::string_view key, EntityUid* out) {
      const boost::json::value* v = r->if_contains(key);
      if (!v) {
        mismatch("missing `" + std::string(key) +
                 "` (unknown request variables are not supported)");
        return false;
      }
      auto u = internal::ParseUidJson(*v, std::string(key));
      if (!u) {
        mismatch(u.error().message());
        return false;
      }
      *out = *u;
      return true;
    };
    if (!uid("principal", &req.principal) || !uid("action", &req.action) ||
        !uid("resource", &req.resource)) {
      continue;
    }
    boost::json::value empty_context = boost::json::object();
    const boost::json::value* cj = r->if_contains("context");
    auto context =
        internal::ParseContextValue(cj ? *cj : empty_context, &schema->data(), req.action);
    if (!context) {
      mismatch(context.error().message());
      continue;
    }
    req.context = *context;
    const boost::json::value* vr = r->if_contains("validateRequest");
    if (vr && vr->is_bool() && vr->as_bool()) {
      Status s = ValidateRequest(req, *schema);
      if (!s.ok()) {
        mismatch("request validation failed: " + s.message());
        continue;
      }
    }
    Response resp = IsAuthorized(req, *policies, *entities);
    std::string want_decision;
    if (const boost::json::value* d = r->if_contains("decision"); d && d->is_string()) {
      want_decision = std::string(d->as_string());
      std::transform(want_decision.begin(), want_decision.end(), want_decision.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    auto want_reasons = IdSet(*r, "reason");
    auto want_errors = IdSet(*r, "errors");
    if (!want_reasons || !want_errors) {
      mismatch("malformed expectations");
      continue;
    }
    std::set<std::string> got_reasons(resp.reasons.begin(), resp.reasons.end());
    std::set<std::string> got_errors;
    for (const auto& e : resp.errors) got_errors.insert(e.policy_id);
    std::string got_decision(DecisionName(resp.decision));
    if (got_decision != want_decision || got_reasons != *want_reasons ||
        got_errors != *want_errors) {
      std::string detail;
      for (const auto& e : resp.errors) detail += " {" + e.policy_id + ": " + e.message + "}";
      mismatch("expected " + want_decision + " reasons " + Join(*want_reasons) + " errors " +
               Join(*want_errors) + ", got " + got_decision + " reasons " + Join(got_reasons) +
               " errors " + Join(got_errors) + detail);
    }
  }
  return outcome;
}

}  // namespace arbiter::cedar
