#include "arbiter/routing/case_store.h"

#include <boost/json.hpp>

#include "arbiter/routing/internal/canonical_writer.h"

namespace arbiter::routing {
namespace {

Status Bad(std::string_view where, std::string_view what) {
  return Status::DataLoss("stored case: " + std::string(where) + ": " + std::string(what));
}

// Signal values are bool, long, string or a set of them (router.cpp); anything else is kept as
// its Cedar text, as the evidence record does.
boost::json::value ValueToStore(const cedar::Value& v) {
  switch (v.kind()) {
    case cedar::ValueKind::kBool: return {{"b", v.as_bool()}};
    case cedar::ValueKind::kLong: return {{"l", v.as_long()}};
    case cedar::ValueKind::kString: return {{"s", v.as_string()}};
    case cedar::ValueKind::kSet: {
      boost::json::array a;
      for (const auto& e : v.as_set().elements()) a.push_back(ValueToStore(e));
      return {{"set", std::move(a)}};
    }
    default: return {{"s", v.ToString()}};
  }
}

Result<cedar::Value> ValueFromStore(const boost::json::value& j, int depth = 0) {
  const auto* o = j.if_object();
  if (o == nullptr || o->size() != 1 || depth > 4) return Bad("signal value", "malformed");
  const auto& [k, v] = *o->begin();
  if (k == "b" && v.is_bool()) return cedar::Value::Bool(v.get_bool());
  if (k == "l" && v.is_int64()) return cedar::Value::Long(v.get_int64());
  if (k == "s" && v.is_string()) return cedar::Value::String(std::string(v.get_string()));
  if (k == "set" && v.is_array()) {
    std::vector<cedar::Value> elements;
    for (const auto& e : v.get_array()) {
      ARBITER_TRY(cedar::Value ev, ValueFromStore(e, depth + 1));
      elements.push_back(std::move(ev));
    }
    return cedar::Value::Set(std::move(elements));
  }
  return Bad("signal value", "unknown kind `" + std::string(k) + "`");
}

Result<std::string> Str(const boost::json::object& o, std::string_view key,
                        std::string_view where) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return Bad(where, std::string(key) + " is not a string");
  return std::string(v->get_string());
}

Result<std::int64_t> Int(const boost::json::object& o, std::string_view key,
                         std::string_view where) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_int64()) return Bad(where, std::string(key) + " is not an integer");
  return v->get_int64();
}

Result<bool> Bool(const boost::json::object& o, std::string_view key, std::string_view where) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_bool()) return Bad(where, std::string(key) + " is not a boolean");
  return v->get_bool();
}

Result<const boost::json::array*> Arr(const boost::json::object& o, std::string_view key,
                                      std::string_view where) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_array()) return Bad(where, std::string(key) + " is not an array");
  return &v->get_array();
}

Result<std::vector<std::string>> Strings(const boost::json::array& a, std::string_view where) {
  std::vector<std::string> out;
  out.reserve(a.size());
  for (const auto& e : a) {
    if (!e.is_string()) return Bad(where, "an element is not a string");
    out.emplace_back(e.get_string());
  }
  return out;
}

}  // namespace

Status InMemoryCaseStore::Put(const StoredCase& c, unsigned /*changed*/) {
  std::lock_guard<std::mutex> lock(mu_);
  if (fail_) return Status::Unavailable("case store: put failed (test)");
  auto it = cases_.find(c.c.id);
  if (it == cases_.end()) {
    cases_.emplace(c.c.id, c);
  } else {
    it->second = c;
  }
  return Status::Ok();
}

Result<std::vector<StoredCase>> InMemoryCaseStore::LoadAll() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<StoredCase> out;
  out.reserve(cases_.size());
  for (const auto& [id, c] : cases_) out.push_back(c);
  return out;
}

Result<std::optional<StoredCase>> InMemoryCaseStore::Get(std::string_view case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cases_.find(case_id);
  if (it == cases_.end()) return std::optional<StoredCase>();
  return std::optional<StoredCase>(it->second);
}

size_t InMemoryCaseStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cases_.size();
}

void InMemoryCaseStore::FailPuts(bool fail) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_ = fail;
}

boost::json::value DecisionToStoreJson(const RoutingDecision& d) {
  boost::json::object o;
  o["route"] = RouteName(d.route);
  o["queue"] = d.queue;
  o["priority"] = d.priority;
  o["escalation_policy"] = d.escalation_policy;
  boost::json::array reasons;
  for (const auto& r : d.reasons) {
    boost::json::array annotations;
    for (const auto& [k, v] : r.annotations) {
      annotations.push_back(
          {boost::json::value(k), v ? boost::json::value(*v) : boost::json::value(nullptr)});
    }
    reasons.push_back({{"policy", r.policy_id},
                       {"forbid", r.forbid},
                       {"annotations", std::move(annotations)},
                       {"file", r.file},
                       {"line", r.line}});
  }
  o["reasons"] = std::move(reasons);
  boost::json::array errors;
  for (const auto& e : d.errors)
    errors.push_back({{"policy", e.policy_id}, {"message", e.message}});
  o["errors"] = std::move(errors);
  o["fail_safe"] = d.fail_safe;
  o["principal"] = d.principal;
  boost::json::array signals;
  for (const auto& [k, v] : d.signals) {
    signals.push_back({boost::json::value(k), ValueToStore(v)});
  }
  o["signals"] = std::move(signals);
  o["bundle_hash"] = d.bundle_hash;
  o["pack_version"] = d.pack_version;
  return o;
}

namespace {

// ValueToStore's JSON written canonically: {"b":true}, {"l":3}, {"s":"x"}, {"set":[...]}.
void AppendStoreValue(const cedar::Value& v, std::string& out) {
  switch (v.kind()) {
    case cedar::ValueKind::kBool: out += v.as_bool() ? R"({"b":true})" : R"({"b":false})"; return;
    case cedar::ValueKind::kLong:
      out += R"({"l":)";
      internal::AppendInt(v.as_long(), out);
      break;
    case cedar::ValueKind::kString:
      out += R"({"s":)";
      internal::AppendCanonicalString(v.as_string(), out);
      break;
    case cedar::ValueKind::kSet: {
      out += R"({"set":[)";
      bool first = true;
      for (const auto& e : v.as_set().elements()) {
        if (!first) out += ',';
        first = false;
        AppendStoreValue(e, out);
      }
      out += ']';
      break;
    }
    default:
      out += R"({"s":)";
      internal::AppendCanonicalString(v.ToString(), out);
      break;
  }
  out += '}';
}

// DecisionToStoreText is the policy part (every key before "signals", in key order, without the
// closing brace) followed by the signals part (`,"signals":[...]}`).
void AppendPolicyPart(const RoutingDecision& d, std::string& out) {
  internal::CanonicalWriter w(out);
  w.BeginObject();
  w.Key("bundle_hash");
  w.String(d.bundle_hash);
  w.Key("errors");
  w.BeginArray();
  for (const auto& e : d.errors) {
    w.BeginObject();
    w.Key("message");
    w.String(e.message);
    w.Key("policy");
    w.String(e.policy_id);
    w.EndObject();
  }
  w.EndArray();
  w.Key("escalation_policy");
  w.String(d.escalation_policy);
  w.Key("fail_safe");
  w.Bool(d.fail_safe);
  w.Key("pack_version");
  w.String(d.pack_version);
  w.Key("principal");
  w.String(d.principal);
  w.Key("priority");
  w.Int(d.priority);
  w.Key("queue");
  w.String(d.queue);
  w.Key("reasons");
  w.BeginArray();
  for (const auto& r : d.reasons) {
    w.BeginObject();
    w.Key("annotations");
    w.BeginArray();
    for (const auto& [k, v] : r.annotations) {
      w.BeginArray();
      w.String(k);
      if (v) {
        w.String(*v);
      } else {
        w.Null();
      }
      w.EndArray();
    }
    w.EndArray();
    w.Key("file");
    w.String(r.file);
    w.Key("forbid");
    w.Bool(r.forbid);
    w.Key("line");
    w.Int(r.line);
    w.Key("policy");
    w.String(r.policy_id);
    w.EndObject();
  }
  w.EndArray();
  w.Key("route");
  w.String(RouteName(d.route));
}

// The signals array and the closing brace: what follows `,"signals":`.
void AppendSignalsTail(const RoutingDecision& d, std::string& out) {
  out += '[';
  bool first = true;
  for (const auto& [k, v] : d.signals) {
    out += first ? "[" : ",[";
    first = false;
    internal::AppendCanonicalString(k, out);
    out += ',';
    AppendStoreValue(v, out);
    out += ']';
  }
  out += "]}";
}

constexpr std::string_view kSignalsKey = R"(,"signals":)";

// Whether a and b have the same policy part: every field AppendPolicyPart writes.
bool SamePolicyPart(const RoutingDecision& a, const RoutingDecision& b) {
  if (a.route != b.route || a.priority != b.priority || a.fail_safe != b.fail_safe ||
      a.queue != b.queue || a.escalation_policy != b.escalation_policy ||
      a.principal != b.principal || a.bundle_hash != b.bundle_hash ||
      a.pack_version != b.pack_version || a.reasons.size() != b.reasons.size() ||
      a.errors.size() != b.errors.size()) {
    return false;
  }
  for (size_t i = 0; i < a.reasons.size(); ++i) {
    const PolicyReason& x = a.reasons[i];
    const PolicyReason& y = b.reasons[i];
    if (x.policy_id != y.policy_id || x.forbid != y.forbid || x.line != y.line ||
        x.file != y.file || x.annotations != y.annotations) {
      return false;
    }
  }
  for (size_t i = 0; i < a.errors.size(); ++i) {
    if (a.errors[i].policy_id != b.errors[i].policy_id ||
        a.errors[i].message != b.errors[i].message) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string DecisionToStoreText(const RoutingDecision& d) {
  std::string out;
  out.reserve(1024 + 512 * d.reasons.size());
  AppendPolicyPart(d, out);
  out += kSignalsKey;
  AppendSignalsTail(d, out);
  return out;
}

std::string_view DecisionStoreTextWriter::Head(const RoutingDecision& d) {
  for (size_t i = 0; i < kept_.size(); ++i) {
    if (!SamePolicyPart(kept_[i].policy, d)) continue;
    if (i == 0) return kept_[0].head;
    // One place up per hit: the frequent parts gather at the front, a rare one sinks to the back
    // and is the one replaced.
    std::swap(kept_[i], kept_[i - 1]);
    return kept_[i - 1].head;
  }
  if (kept_.size() < kKeptHeads) {
    kept_.emplace_back();
  }
  Kept& k = kept_.back();
  k.head.clear();
  AppendPolicyPart(d, k.head);
  k.head += kSignalsKey;
  k.policy.route = d.route;
  k.policy.queue = d.queue;
  k.policy.priority = d.priority;
  k.policy.escalation_policy = d.escalation_policy;
  k.policy.reasons = d.reasons;
  k.policy.errors = d.errors;
  k.policy.fail_safe = d.fail_safe;
  k.policy.principal = d.principal;
  k.policy.bundle_hash = d.bundle_hash;
  k.policy.pack_version = d.pack_version;
  ++heads_written_;
  return k.head;
}

void DecisionStoreTextWriter::AppendTail(const RoutingDecision& d, std::string& out) {
  AppendSignalsTail(d, out);
}

std::string DecisionStoreTextWriter::Text(const RoutingDecision& d) {
  const std::string_view head = Head(d);
  std::string out;
  out.reserve(head.size() + 64 + 48 * d.signals.size());
  out += head;
  AppendTail(d, out);
  return out;
}

Result<RoutingDecision> DecisionFromStoreJson(const boost::json::value& json) {
  constexpr std::string_view kWhere = "last_route";
  const auto* o = json.if_object();
  if (o == nullptr) return Bad(kWhere, "not an object");
  RoutingDecision d;
  ARBITER_TRY(std::string route, Str(*o, "route", kWhere));
  std::optional<Route> r = ParseRoute(route);
  if (!r) return Bad(kWhere, "unknown route `" + route + "`");
  d.route = *r;
  ARBITER_TRY(d.queue, Str(*o, "queue", kWhere));
  ARBITER_TRY(d.priority, Int(*o, "priority", kWhere));
  ARBITER_TRY(d.escalation_policy, Str(*o, "escalation_policy", kWhere));
  ARBITER_TRY(const boost::json::array* reasons, Arr(*o, "reasons", kWhere));
  for (const auto& rj : *reasons) {
    const auto* ro = rj.if_object();
    if (ro == nullptr) return Bad("last_route.reasons", "not an object");
    PolicyReason reason;
    ARBITER_TRY(reason.policy_id, Str(*ro, "policy", "last_route.reasons"));
    ARBITER_TRY(reason.forbid, Bool(*ro, "forbid", "last_route.reasons"));
    ARBITER_TRY(reason.file, Str(*ro, "file", "last_route.reasons"));
    ARBITER_TRY(std::int64_t line, Int(*ro, "line", "last_route.reasons"));
    reason.line = static_cast<std::uint32_t>(line);
    ARBITER_TRY(const boost::json::array* annotations,
                Arr(*ro, "annotations", "last_route.reasons"));
    for (const auto& a : *annotations) {
      const auto* pair = a.if_array();
      if (pair == nullptr || pair->size() != 2 || !(*pair)[0].is_string() ||
          !((*pair)[1].is_string() || (*pair)[1].is_null())) {
        return Bad("last_route.reasons.annotations", "not a [name, value] pair");
      }
      std::optional<std::string> value;
      if ((*pair)[1].is_string()) value = std::string((*pair)[1].get_string());
      reason.annotations.emplace_back(std::string((*pair)[0].get_string()), std::move(value));
    }
    d.reasons.push_back(std::move(reason));
  }
  ARBITER_TRY(const boost::json::array* errors, Arr(*o, "errors", kWhere));
  for (const auto& ej : *errors) {
    const auto* eo = ej.if_object();
    if (eo == nullptr) return Bad("last_route.errors", "not an object");
    EvaluationError e;
    ARBITER_TRY(e.policy_id, Str(*eo, "policy", "last_route.errors"));
    ARBITER_TRY(e.message, Str(*eo, "message", "last_route.errors"));
    d.errors.push_back(std::move(e));
  }
  ARBITER_TRY(d.fail_safe, Bool(*o, "fail_safe", kWhere));
  ARBITER_TRY(d.principal, Str(*o, "principal", kWhere));
  ARBITER_TRY(const boost::json::array* signals, Arr(*o, "signals", kWhere));
  for (const auto& sj : *signals) {
    const auto* pair = sj.if_array();
    if (pair == nullptr || pair->size() != 2 || !(*pair)[0].is_string()) {
      return Bad("last_route.signals", "not a [name, value] pair");
    }
    ARBITER_TRY(cedar::Value v, ValueFromStore((*pair)[1]));
    d.signals.emplace_back(std::string((*pair)[0].get_string()), std::move(v));
  }
  ARBITER_TRY(d.bundle_hash, Str(*o, "bundle_hash", kWhere));
  ARBITER_TRY(d.pack_version, Str(*o, "pack_version", kWhere));
  return d;
}

boost::json::value PendingToStoreJson(const PendingIntent& p) {
  boost::json::array roles;
  for (const auto& r : p.roles) roles.emplace_back(r);
  return {{"intent", p.intent}, {"agent", p.agent}, {"params", p.params}, {"roles", roles}};
}

Result<PendingIntent> PendingFromStoreJson(const boost::json::value& json) {
  constexpr std::string_view kWhere = "pending intent";
  const auto* o = json.if_object();
  if (o == nullptr) return Bad(kWhere, "not an object");
  PendingIntent p;
  ARBITER_TRY(p.intent, Str(*o, "intent", kWhere));
  ARBITER_TRY(p.agent, Str(*o, "agent", kWhere));
  const auto* params = o->if_contains("params");
  if (params == nullptr || !params->is_object()) return Bad(kWhere, "params is not an object");
  p.params = params->get_object();
  ARBITER_TRY(const boost::json::array* roles, Arr(*o, "roles", kWhere));
  ARBITER_TRY(p.roles, Strings(*roles, kWhere));
  return p;
}

}  // namespace arbiter::routing
