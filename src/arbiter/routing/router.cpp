#include "arbiter/routing/router.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include "arbiter/cedar/authorizer.h"
#include "arbiter/common/json.h"

namespace arbiter::routing {
namespace {

const cedar::EntityUid& ActionUid(std::string_view which) {
  static const cedar::EntityUid kAiHandle("Action", "ai_handle");
  static const cedar::EntityUid kApprove("Action", "approve");
  static const cedar::EntityUid kOverride("Action", "override");
  if (which == "approve") return kApprove;
  if (which == "override") return kOverride;
  return kAiHandle;
}

// A string signal's value (nullopt when empty: the default applies), shared with the pack's own
// texts where it is one of them (Bundle::StringValue).
std::optional<cedar::Value> NonEmpty(const Bundle& bundle, std::string_view s) {
  if (s.empty()) return std::nullopt;
  return bundle.StringValue(s);
}

// The same for the lowercase form of `s` (language tags).
std::optional<cedar::Value> NonEmptyLowercase(const Bundle& bundle, std::string_view s) {
  if (s.empty()) return std::nullopt;
  char small[32];
  std::string large;
  char* out = small;
  if (s.size() > sizeof(small)) {
    large.resize(s.size());
    out = large.data();
  }
  for (size_t i = 0; i < s.size(); ++i) {
    out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
  }
  return bundle.StringValue(std::string_view(out, s.size()));
}

std::optional<cedar::Value> Scaled(double fraction, std::int64_t scale) {
  return cedar::Value::Long(std::llround(fraction * static_cast<double>(scale)));
}

// The signal's value, nullopt when it has none (the default applies), or an error message.
std::optional<cedar::Value> ReadSignal(const Bundle& bundle, const SignalMapping& m,
                                       const sources::Case& c, const ComputedSignals& s,
                                       std::string& error) {
  switch (m.from.source) {
    case SignalSource::kSource: return NonEmpty(bundle, c.source);
    case SignalSource::kChannel: return NonEmpty(bundle, c.channel);
    case SignalSource::kLanguage: return NonEmptyLowercase(bundle, c.language);
    case SignalSource::kLanguagePrimary: {
      const size_t end = c.language.find_first_of("-_");
      return NonEmptyLowercase(bundle, std::string_view(c.language).substr(0, end));
    }
    case SignalSource::kCustomerTier: return NonEmpty(bundle, c.customer.tier);
    case SignalSource::kSeverity:
      if (!c.severity) return std::nullopt;
      return cedar::Value::Long(*c.severity);
    case SignalSource::kPriority: return bundle.StringValue(sources::PriorityName(c.priority));
    case SignalSource::kPriorityRank:
      return cedar::Value::Long(static_cast<std::int64_t>(c.priority));
    case SignalSource::kCategory: return NonEmpty(bundle, c.category);
    case SignalSource::kAiConfidence:
      if (!c.ai.confidence) return std::nullopt;
      return Scaled(*c.ai.confidence, m.scale);
    case SignalSource::kAiModel: return NonEmpty(bundle, c.ai.model);
    case SignalSource::kAiSuggestedQueue: return NonEmpty(bundle, c.ai.suggested_queue);
    case SignalSource::kFraud: return cedar::Value::Bool(c.indicators.fraud);
    case SignalSource::kRegulatory: return cedar::Value::Bool(c.indicators.regulatory);
    case SignalSource::kSafety: return cedar::Value::Bool(c.indicators.safety);
    case SignalSource::kSensitivityLevel:
      if (!s.sensitivity) return std::nullopt;
      return bundle.StringValue(s.sensitivity->level);
    case SignalSource::kSensitivityRank:
      if (!s.sensitivity) return std::nullopt;
      return cedar::Value::Long(SensitivityRank(s.sensitivity->level).value_or(0));
    case SignalSource::kSensitivityKinds: {
      if (!s.sensitivity) return std::nullopt;
      std::vector<cedar::Value> kinds;
      kinds.reserve(s.sensitivity->kinds.size());
      for (const auto& k : s.sensitivity->kinds) kinds.push_back(bundle.StringValue(k));
      return cedar::Value::Set(std::move(kinds));
    }
    case SignalSource::kDuplicateClusterSize:
      if (!s.duplicate) return std::nullopt;
      return cedar::Value::Long(s.duplicate->cluster_size);
    case SignalSource::kDuplicateSimilarity:
      if (!s.duplicate) return std::nullopt;
      return Scaled(s.duplicate->similarity, m.scale);
    case SignalSource::kAttribute: {
      const boost::json::value* v = c.attributes.if_contains(m.from.attribute);
      if (v == nullptr || v->is_null()) return std::nullopt;
      if (v->is_string()) return bundle.StringValue(v->get_string());
      if (v->is_bool()) return cedar::Value::Bool(v->get_bool());
      if (v->is_int64()) return cedar::Value::Long(v->get_int64());
      if (v->is_uint64() &&
          v->get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return cedar::Value::Long(static_cast<std::int64_t>(v->get_uint64()));
      }
      error = "is a " + std::string(JsonKindName(*v)) + ", expected a string, integer or boolean";
      return std::nullopt;
    }
  }
  return std::nullopt;
}

PolicyReason MakeReason(const Bundle& bundle, size_t index) {
  const cedar::Policy& p = bundle.policies().policies()[index];
  const PolicyInfo& info = bundle.info(index);
  PolicyReason r;
  r.policy_id = p.id();
  r.forbid = p.effect() == cedar::Effect::kForbid;
  r.annotations = p.annotations();
  r.file = info.file;
  r.line = info.line;
  return r;
}

void CollectErrors(const CaseView& view, const cedar::Response& resp,
                   std::vector<EvaluationError>& out) {
  out = view.signal_errors;
  for (const auto& e : resp.errors) out.push_back({e.policy_id, e.message});
}

// The escalation among the determining forbids with the highest priority (earliest on ties).
const PolicyInfo* BestEscalation(const Bundle& bundle, const cedar::Response& resp,
                                 size_t* best_index) {
  const PolicyInfo* best = nullptr;
  for (size_t i : resp.reason_indexes) {
    const PolicyInfo& info = bundle.info(i);
    if (!info.escalate) continue;
    if (best == nullptr || info.priority > best->priority ||
        (info.priority == best->priority && i < *best_index)) {
      best = &info;
      *best_index = i;
    }
  }
  return best;
}

cedar::Value ParamDefault(ParamType t) {
  switch (t) {
    case ParamType::kLong: return cedar::Value::Long(0);
    case ParamType::kString: return cedar::Value::String("");
    case ParamType::kBool: return cedar::Value::Bool(false);
  }
  return cedar::Value::Long(0);
}

Result<cedar::Value> IntentContext(const IntentConfig& intent, const boost::json::object& params,
                                   const std::optional<Approval>& approval) {
  std::vector<std::pair<std::string, cedar::Value>> fields;
  fields.reserve(intent.params.size() + 1);
  for (const auto& kv : params) {
    if (intent.params.count(std::string(kv.key())) == 0) {
      return Status::InvalidArgument("intent `" + intent.name + "`: unknown parameter `" +
                                     std::string(kv.key()) + "`");
    }
  }
  for (const auto& [name, type] : intent.params) {
    const boost::json::value* v = params.if_contains(name);
    const std::string where = "intent `" + intent.name + "`: parameter `" + name + "`";
    if (v == nullptr || v->is_null()) return Status::InvalidArgument(where + " is missing");
    switch (type) {
      case ParamType::kLong:
        if (!v->is_int64()) return Status::InvalidArgument(where + " must be an integer");
        fields.emplace_back(name, cedar::Value::Long(v->get_int64()));
        break;
      case ParamType::kString:
        if (!v->is_string()) return Status::InvalidArgument(where + " must be a string");
        fields.emplace_back(name, cedar::Value::String(std::string(v->get_string())));
        break;
      case ParamType::kBool:
        if (!v->is_bool()) return Status::InvalidArgument(where + " must be a boolean");
        fields.emplace_back(name, cedar::Value::Bool(v->get_bool()));
        break;
    }
  }
  if (approval) {
    fields.emplace_back(
        "approval", cedar::Value::Record({{"approver", cedar::Value::String(approval->approver)},
                                          {"role", cedar::Value::String(approval->role)}}));
  }
  return cedar::Value::Record(std::move(fields));
}

PersonDecision EvaluatePerson(const Bundle& bundle, const CaseView& view,
                              const cedar::EntityUid& person, const cedar::EntityUid& action,
                              cedar::Value context) {
  cedar::Request req{person, action, view.uid, std::move(context)};
  cedar::Response resp = cedar::IsAuthorized(req, bundle.policies(), view.entities,
                                             cedar::ResponseDetail::kIndexesOnly);
  PersonDecision d;
  for (size_t i : resp.reason_indexes) d.reasons.push_back(MakeReason(bundle, i));
  CollectErrors(view, resp, d.errors);
  d.allowed = resp.decision == cedar::Decision::kAllow && d.errors.empty();
  d.bundle_hash = bundle.hash();
  return d;
}

boost::json::value CedarValueToJson(const cedar::Value& v) {
  switch (v.kind()) {
    case cedar::ValueKind::kBool: return v.as_bool();
    case cedar::ValueKind::kLong: return v.as_long();
    case cedar::ValueKind::kString: return boost::json::string(v.as_string());
    case cedar::ValueKind::kSet: {
      boost::json::array a;
      for (const auto& e : v.as_set().elements()) a.push_back(CedarValueToJson(e));
      return a;
    }
    default: return boost::json::string(v.ToString());
  }
}

}  // namespace

std::string_view RouteName(Route r) {
  switch (r) {
    case Route::kAi: return "ai";
    case Route::kHuman: return "human";
    case Route::kBlocked: return "blocked";
  }
  return "human";
}

std::optional<Route> ParseRoute(std::string_view name) {
  if (name == "ai") return Route::kAi;
  if (name == "human") return Route::kHuman;
  if (name == "blocked") return Route::kBlocked;
  return std::nullopt;
}

std::string_view IntentOutcomeName(IntentOutcome o) {
  switch (o) {
    case IntentOutcome::kAllow: return "allow";
    case IntentOutcome::kDeny: return "deny";
    case IntentOutcome::kPendingApproval: return "pending_approval";
    case IntentOutcome::kEscalate: return "escalate";
  }
  return "deny";
}

CaseView BuildCaseView(const Bundle& bundle, const sources::Case& c,
                       const ComputedSignals& signals) {
  CaseView view{cedar::EntityUid(bundle.config().case_type, c.id),
                {},
                {},
                cedar::Entities(&bundle.entities()),
                c.id};
  const auto& mappings = bundle.config().signals;
  view.signals.reserve(mappings.size());
  for (const SignalMapping& m : mappings) {
    std::string error;
    std::optional<cedar::Value> v = ReadSignal(bundle, m, c, signals, error);
    if (v && v->kind() != m.default_value.kind()) {
      error = "is a " + std::string(cedar::ValueKindName(v->kind())) + ", the pack expects a " +
              std::string(cedar::ValueKindName(m.default_value.kind()));
      v.reset();
    }
    if (!error.empty()) {
      view.signal_errors.push_back(
          {"", "signal `" + m.attribute + "` (from `" + SignalRefName(m.from) + "`) " + error});
    }
    view.signals.emplace_back(m.attribute, v ? std::move(*v) : m.default_value);
  }
  // The entity's record in key order (the bundle's precomputed order), built in this thread's
  // record of the previous case when nothing refers to that any more (the view of the previous
  // case is gone): only the values are copied, no keys, vector or record are allocated.
  thread_local std::shared_ptr<cedar::RecordValue> reused_record;
  const std::vector<size_t>& order = bundle.signal_order();
  const bool sorted = order.size() == view.signals.size();
  cedar::Value record = cedar::Value::RecordReusing(
      &reused_record, view.signals.size(),
      [&](size_t i) -> std::pair<std::string_view, const cedar::Value&> {
        const auto& f = view.signals[sorted ? order[i] : i];
        return {f.first, f.second};
      });
  Status added = view.entities.Add(view.uid, std::move(record), {});
  if (added.ok()) added = view.entities.Finalize();
  if (!added.ok()) view.signal_errors.push_back({"", "case entity: " + added.message()});
  return view;
}

namespace {

// EvaluateRoute with the decision's signal values given (copied or moved from the view).
RoutingDecision DecideRoute(const Bundle& bundle, const CaseView& view,
                            const std::optional<cedar::EntityUid>& agent,
                            std::vector<std::pair<std::string, cedar::Value>> signals) {
  const RoutingConfig& config = bundle.config();
  cedar::Request req{agent ? *agent : config.ai_principal, ActionUid("ai_handle"), view.uid,
                     cedar::Value::Record({})};
  cedar::Response resp = cedar::IsAuthorized(req, bundle.policies(), view.entities,
                                             cedar::ResponseDetail::kIndexesOnly);

  RoutingDecision d;
  d.principal = agent ? agent->ToString() : bundle.ai_principal_text();
  d.bundle_hash = bundle.hash();
  d.pack_version = config.version;
  d.signals = std::move(signals);
  d.reasons.reserve(resp.reason_indexes.size());
  for (size_t i : resp.reason_indexes) d.reasons.push_back(MakeReason(bundle, i));
  CollectErrors(view, resp, d.errors);

  if (resp.decision == cedar::Decision::kAllow) {
    if (d.errors.empty()) {
      d.route = Route::kAi;
    } else {
      d.route = Route::kHuman;
      d.queue = config.error_queue;
      d.fail_safe = true;
    }
    return d;
  }
  for (size_t i : resp.reason_indexes) {
    if (bundle.info(i).block) {
      d.route = Route::kBlocked;
      return d;
    }
  }
  d.route = Route::kHuman;
  size_t best_index = 0;
  if (const PolicyInfo* best = BestEscalation(bundle, resp, &best_index)) {
    d.queue = *best->escalate;
    d.priority = best->priority;
    d.escalation_policy = bundle.policies().policies()[best_index].id();
  } else if (!d.errors.empty()) {
    d.queue = config.error_queue;
    d.fail_safe = true;
  } else {
    d.queue = config.default_human_queue;
  }
  return d;
}

}  // namespace

RoutingDecision EvaluateRoute(const Bundle& bundle, const CaseView& view,
                              const std::optional<cedar::EntityUid>& agent) {
  return DecideRoute(bundle, view, agent, view.signals);
}

RoutingDecision EvaluateRoute(const Bundle& bundle, CaseView&& view,
                              const std::optional<cedar::EntityUid>& agent) {
  std::vector<std::pair<std::string, cedar::Value>> signals = std::move(view.signals);
  return DecideRoute(bundle, view, agent, std::move(signals));
}

Result<IntentDecision> EvaluateIntent(const Bundle& bundle, const CaseView& view,
                                      const cedar::EntityUid& agent, std::string_view intent,
                                      const boost::json::object& params,
                                      const std::optional<Approval>& approval) {
  const IntentConfig* config = bundle.config().FindIntent(intent);
  if (config == nullptr) {
    return Status::InvalidArgument("unknown intent `" + std::string(intent) + "`");
  }
  ARBITER_TRY(cedar::Value context, IntentContext(*config, params, approval));
  cedar::Request req{agent, cedar::EntityUid("Action", config->action), view.uid,
                     std::move(context)};
  cedar::Response resp = cedar::IsAuthorized(req, bundle.policies(), view.entities,
                                             cedar::ResponseDetail::kIndexesOnly);

  IntentDecision d;
  d.intent = config->name;
  d.action = config->action;
  d.bundle_hash = bundle.hash();
  for (size_t i : resp.reason_indexes) d.reasons.push_back(MakeReason(bundle, i));
  CollectErrors(view, resp, d.errors);
  if (resp.decision == cedar::Decision::kAllow) {
    d.outcome = d.errors.empty() ? IntentOutcome::kAllow : IntentOutcome::kDeny;
    return d;
  }
  size_t best_index = 0;
  if (const PolicyInfo* best = BestEscalation(bundle, resp, &best_index)) {
    d.outcome = IntentOutcome::kEscalate;
    d.queue = *best->escalate;
    return d;
  }
  bool all_approval = !resp.reason_indexes.empty() && d.errors.empty();
  for (size_t i : resp.reason_indexes) {
    const PolicyInfo& info = bundle.info(i);
    if (!info.approval) {
      all_approval = false;
      break;
    }
    d.approvals.push_back(*info.approval);
  }
  if (all_approval) {
    std::sort(d.approvals.begin(), d.approvals.end());
    d.approvals.erase(std::unique(d.approvals.begin(), d.approvals.end()), d.approvals.end());
    d.outcome = IntentOutcome::kPendingApproval;
  } else {
    d.approvals.clear();
    d.outcome = IntentOutcome::kDeny;
  }
  return d;
}

PersonDecision EvaluateApproval(const Bundle& bundle, const CaseView& view,
                                const cedar::EntityUid& person, std::string_view intent,
                                std::string_view required_role) {
  return EvaluatePerson(
      bundle, view, person, ActionUid("approve"),
      cedar::Value::Record({{"intent", cedar::Value::String(std::string(intent))},
                            {"required_role", cedar::Value::String(std::string(required_role))}}));
}

PersonDecision EvaluateOverride(const Bundle& bundle, const CaseView& view,
                                const cedar::EntityUid& person, Route to_route,
                                std::string_view to_queue) {
  return EvaluatePerson(
      bundle, view, person, ActionUid("override"),
      cedar::Value::Record({{"to_route", cedar::Value::String(std::string(RouteName(to_route)))},
                            {"to_queue", cedar::Value::String(std::string(to_queue))}}));
}

boost::json::array ReasonsToJson(const std::vector<PolicyReason>& reasons) {
  boost::json::array out;
  out.reserve(reasons.size());
  for (const auto& r : reasons) {
    boost::json::object ann;
    for (const auto& [k, v] : r.annotations) {
      if (k == "id") continue;
      ann[k] = v ? boost::json::value(*v) : boost::json::value(nullptr);
    }
    boost::json::object o;
    o["policy"] = r.policy_id;
    o["effect"] = r.forbid ? "forbid" : "permit";
    o["annotations"] = std::move(ann);
    out.push_back(std::move(o));
  }
  return out;
}

boost::json::array ErrorsToJson(const std::vector<EvaluationError>& errors) {
  boost::json::array out;
  for (const auto& e : errors) {
    boost::json::object o;
    if (!e.policy_id.empty()) o["policy"] = e.policy_id;
    o["message"] = e.message;
    out.push_back(std::move(o));
  }
  return out;
}

boost::json::object SignalValuesToJson(
    const std::vector<std::pair<std::string, cedar::Value>>& signals) {
  boost::json::object o;
  o.reserve(signals.size());
  for (const auto& [k, v] : signals) o[k] = CedarValueToJson(v);
  return o;
}

boost::json::object RoutingDecisionToJson(const RoutingDecision& d) {
  boost::json::object o;
  o["route"] = RouteName(d.route);
  o["queue"] = d.queue.empty() ? boost::json::value(nullptr) : boost::json::value(d.queue);
  if (!d.escalation_policy.empty()) {
    o["escalation"] = {{"policy", d.escalation_policy}, {"priority", d.priority}};
  }
  o["fail_safe"] = d.fail_safe;
  o["principal"] = d.principal;
  o["reasons"] = ReasonsToJson(d.reasons);
  o["errors"] = ErrorsToJson(d.errors);
  o["signals"] = SignalValuesToJson(d.signals);
  o["bundle"] = {{"hash", d.bundle_hash}, {"version", d.pack_version}};
  return o;
}

boost::json::object IntentDecisionToJson(const IntentDecision& d) {
  boost::json::object o;
  o["intent"] = d.intent;
  o["action"] = d.action;
  o["decision"] = IntentOutcomeName(d.outcome);
  if (!d.approvals.empty()) {
    boost::json::array roles;
    for (const auto& r : d.approvals) roles.emplace_back(r);
    o["approvals"] = std::move(roles);
  }
  if (!d.queue.empty()) o["queue"] = d.queue;
  o["reasons"] = ReasonsToJson(d.reasons);
  o["errors"] = ErrorsToJson(d.errors);
  o["bundle"] = {{"hash", d.bundle_hash}};
  return o;
}

std::string ExplainDecision(const Bundle& bundle, const RoutingDecision& d) {
  std::string out = "route: " + std::string(RouteName(d.route));
  if (!d.queue.empty()) {
    out += " -> queue `" + d.queue + "`";
    if (const QueueConfig* q = bundle.config().FindQueue(d.queue)) out += " (" + q->name + ")";
  }
  out += "\n";
  if (d.fail_safe) {
    out += "fail-safe: policy evaluation had errors, so the case goes to a person\n";
  } else if (!d.escalation_policy.empty()) {
    out += "why this queue: `" + d.escalation_policy + "` has the highest escalation priority (" +
           std::to_string(d.priority) + ")\n";
  } else if (d.route == Route::kHuman) {
    out += "why this queue: no escalation names a queue; the pack's default human queue\n";
  }
  out += "policies (" + std::string(d.route == Route::kAi ? "permits" : "determining") + "):\n";
  if (d.reasons.empty()) out += "  (none: no policy permits " + d.principal + " to handle it)\n";
  for (const auto& r : d.reasons) {
    out += "  " + std::string(r.forbid ? "forbid " : "permit ") + r.policy_id;
    std::string reason;
    for (const auto& [k, v] : r.annotations) {
      if (k == "reason" && v) reason = *v;
      if ((k == "escalate" || k == "priority" || k == "approval" || k == "block") && v) {
        out += " @" + k + "(" + *v + ")";
      }
    }
    out += "  [" + r.file + ":" + std::to_string(r.line) + "]\n";
    if (!reason.empty()) out += "      " + reason + "\n";
  }
  if (!d.errors.empty()) {
    out += "errors:\n";
    for (const auto& e : d.errors) {
      out += "  " + (e.policy_id.empty() ? std::string() : "policy " + e.policy_id + ": ") +
             e.message + "\n";
    }
  }
  out += "signals:";
  for (const auto& [k, v] : d.signals) out += " " + k + "=" + v.ToString();
  out += "\nprincipal: " + d.principal + "\n";
  out +=
      "bundle: " + bundle.config().name + " " + d.pack_version + " sha256:" + d.bundle_hash + "\n";
  return out;
}

namespace internal {

Status ProbeBundle(const Bundle& bundle) {
  sources::Case probe;
  probe.id = "probe";
  CaseView view = BuildCaseView(bundle, probe, ComputedSignals{});
  std::vector<EvaluationError> errors = view.signal_errors;
  auto collect = [&errors](const std::vector<EvaluationError>& errs) {
    for (const auto& e : errs) {
      if (!e.policy_id.empty()) errors.push_back(e);
    }
  };
  collect(EvaluateRoute(bundle, view, std::nullopt).errors);
  for (const auto& [name, intent] : bundle.config().intents) {
    boost::json::object params;
    for (const auto& [pname, ptype] : intent.params) {
      const cedar::Value v = ParamDefault(ptype);
      if (v.is(cedar::ValueKind::kLong)) {
        params[pname] = 0;
      } else if (v.is(cedar::ValueKind::kString)) {
        params[pname] = "";
      } else {
        params[pname] = false;
      }
    }
    auto d = EvaluateIntent(bundle, view, bundle.config().ai_principal, name, params, std::nullopt);
    if (d) collect(d->errors);
  }
  // People: the first entity of type Human (if the pack has people).
  std::optional<cedar::EntityUid> person;
  bundle.entities().ForEach([&](const cedar::EntityData& data) {
    if (data.uid.type() == "Human" && (!person || data.uid < *person)) person = data.uid;
  });
  if (person) {
    collect(EvaluateApproval(bundle, view, *person, "probe", "probe").errors);
    collect(EvaluateOverride(bundle, view, *person, Route::kAi, "").errors);
  }
  if (errors.empty()) return Status::Ok();
  const EvaluationError& e = errors.front();
  if (e.policy_id.empty()) return Status::InvalidArgument("routing.toml: " + e.message);
  const cedar::Policy* p = bundle.policies().Find(e.policy_id);
  std::string where = "policies";
  if (p != nullptr) {
    const PolicyInfo& info = bundle.info(p->index());
    where = info.file + ":" + std::to_string(info.line);
  }
  return Status::InvalidArgument(where + ": policy `" + e.policy_id +
                                 "` fails on a case with default signals: " + e.message);
}

}  // namespace internal

}  // namespace arbiter::routing
