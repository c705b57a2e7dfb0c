#include "arbiter/routing/service.h"

#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <span>
#include <tuple>

#include "arbiter/common/bytes.h"
#include "arbiter/common/crypto.h"
#include "arbiter/common/json.h"
#include "arbiter/routing/internal/canonical_writer.h"

namespace arbiter::routing {
namespace {

boost::json::object BundleJson(const Bundle& b) {
  return {{"hash", b.hash()}, {"name", b.config().name}, {"version", b.config().version}};
}

std::vector<std::string> PolicyIds(const std::vector<PolicyReason>& reasons) {
  std::vector<std::string> ids;
  ids.reserve(reasons.size());
  for (const auto& r : reasons) ids.push_back(r.policy_id);
  return ids;
}

CaseSnapshot SnapshotOf(const StoredCase& e) {
  CaseSnapshot snap{e.c.id,
                    e.lifecycle.state(),
                    e.lifecycle.holder(),
                    e.lifecycle.queue(),
                    e.lifecycle.agent(),
                    e.last_route,
                    e.evidence,
                    {},
                    e.shredded};
  for (const auto& [id, p] : e.pending) snap.pending.push_back(id);
  return snap;
}

Status RefuseRoute(const std::string& case_id, CaseState s) {
  return Status::FailedPrecondition("cannot route case `" + case_id + "`: it is " +
                                    std::string(CaseStateName(s)) +
                                    " (only new and reopened cases are routed)");
}

bool IsToken(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
  });
}

}  // namespace

boost::json::object RouteRecord(const Bundle& bundle, const sources::Case& c,
                                const RoutingDecision& d, const CaseKey& key, const Actor& actor,
                                std::int64_t at_micros) {
  boost::json::object record = NewEvidenceRecord("route", actor, at_micros);
  record["case"] = key.Hash("case", c.id);
  record["bundle"] = BundleJson(bundle);
  if (!c.customer.id.empty()) record["customer"] = key.Hash("customer", c.customer.id);
  record["text"] = key.Hash("text", c.AllText());
  record["source"] = c.source;
  boost::json::object decision = RoutingDecisionToJson(d);
  decision.erase("bundle");
  record["decision"] = std::move(decision);
  return record;
}

namespace {

// A signal value as RoutingDecisionToJson writes it: bool, long, string, a set of them as an
// array, anything else as its Cedar text.
void WriteCedarValue(const cedar::Value& v, internal::Appender& out) {
  switch (v.kind()) {
    case cedar::ValueKind::kBool: out.Text(v.as_bool() ? "true" : "false"); return;
    case cedar::ValueKind::kLong: out.Int(v.as_long()); return;
    case cedar::ValueKind::kString: out.String(v.as_string()); return;
    case cedar::ValueKind::kSet: {
      out.Char('[');
      bool first = true;
      for (const auto& e : v.as_set().elements()) {
        if (!first) out.Char(',');
        first = false;
        WriteCedarValue(e, out);
      }
      out.Char(']');
      return;
    }
    default: out.String(v.ToString()); return;
  }
}

// Writes the keyed hash of `parts` as a JSON string.
void WriteHash(const CaseKey& key, std::string_view label, std::span<const std::string_view> parts,
               internal::Appender& out) {
  char* p = out.Room(66);
  p[0] = '"';
  key.WriteHash(label, parts, p + 1);
  p[65] = '"';
  out.Advance(66);
}

// The parts of Case::AllText (subject, body and messages joined by newlines), to be hashed in
// place: a newline goes before the body and each message when something came before it.
// Returns how many parts were written to `parts` (which must hold 3 + 2 * messages).
size_t TextParts(const sources::Case& c, std::string_view* parts) {
  size_t n = 0;
  size_t length = c.subject.size();
  parts[n++] = c.subject;
  if (!c.body.empty()) {
    if (length != 0) parts[n++] = "\n";
    parts[n++] = c.body;
    length += 1 + c.body.size();
  }
  for (const auto& m : c.messages) {
    if (length != 0) {
      parts[n++] = "\n";
      ++length;
    }
    parts[n++] = m.text;
    length += m.text.size();
  }
  return n;
}

// Room for the usual route record (~1.1 KB) and its reasons.
size_t ExpectedRecordSize(const RoutingDecision& d) { return 1536 + 256 * d.reasons.size(); }

// Writes the route record (RouteRecordJson) to `out`. The record's keys in canonical (sorted)
// order, with the constant text between its values written in one piece; values go through the
// canonical string and number writers. The test
// RouteRecordJson.EqualsCanonicalJsonOfTheRecordForEverySampleCase holds it to CanonicalJson.
void WriteRouteRecord(const Bundle& bundle, const sources::Case& c, const RoutingDecision& d,
                      const CaseKey& key, const Actor& actor, std::int64_t at_micros,
                      internal::Appender& out) {
  out.Text(R"({"actor":{"id":)");
  out.String(actor.id);
  out.Text(R"(,"kind":)");
  out.String(actor.kind);
  out.Text(R"(},"at":)");
  out.Int(at_micros);
  out.Text(R"(,"bundle":)");
  out.Text(bundle.canonical_ref());
  out.Text(R"(,"case":)");
  const std::string_view id = c.id;
  WriteHash(key, "case", {&id, 1}, out);
  if (!c.customer.id.empty()) {
    out.Text(R"(,"customer":)");
    const std::string_view customer = c.customer.id;
    WriteHash(key, "customer", {&customer, 1}, out);
  }
  out.Text(R"(,"decision":{"errors":[)");
  for (size_t i = 0; i < d.errors.size(); ++i) {
    const EvaluationError& e = d.errors[i];
    out.Text(i == 0 ? R"({"message":)" : R"(,{"message":)");
    out.String(e.message);
    if (!e.policy_id.empty()) {
      out.Text(R"(,"policy":)");
      out.String(e.policy_id);
    }
    out.Char('}');
  }
  out.Char(']');
  if (!d.escalation_policy.empty()) {
    out.Text(R"(,"escalation":{"policy":)");
    out.String(d.escalation_policy);
    out.Text(R"(,"priority":)");
    out.Int(d.priority);
    out.Char('}');
  }
  out.Text(d.fail_safe ? R"(,"fail_safe":true,"principal":)"
                       : R"(,"fail_safe":false,"principal":)");
  if (d.principal == bundle.ai_principal_text()) {
    out.Text(bundle.ai_principal_json());
  } else {
    out.String(d.principal);
  }
  out.Text(R"(,"queue":)");
  if (d.queue.empty()) {
    out.Text("null");
  } else {
    out.String(d.queue);
  }
  out.Text(R"(,"reasons":[)");
  for (size_t i = 0; i < d.reasons.size(); ++i) {
    if (i != 0) out.Char(',');
    const PolicyReason& r = d.reasons[i];
    const cedar::Policy* p = bundle.policies().Find(r.policy_id);
    if (p != nullptr) {
      out.Text(bundle.info(p->index()).canonical_reason);
    } else {
      out.Text(CanonicalJson(ReasonsToJson({r}).at(0)));
    }
  }
  out.Text(R"(],"route":)");
  out.String(RouteName(d.route));
  out.Text(R"(,"signals":{)");
  bool first = true;
  const auto signal = [&](size_t i) {
    if (!first) out.Char(',');
    first = false;
    out.String(d.signals[i].first);
    out.Char(':');
    WriteCedarValue(d.signals[i].second, out);
  };
  const std::vector<SignalMapping>& mappings = bundle.config().signals;
  bool pack_signals = d.signals.size() == mappings.size();
  for (size_t i = 0; pack_signals && i < mappings.size(); ++i) {
    pack_signals = d.signals[i].first == mappings[i].attribute;
  }
  if (pack_signals) {
    // The pack's own signals: keys in the bundle's precomputed order and form.
    for (size_t i : bundle.signal_order()) {
      if (!first) out.Char(',');
      first = false;
      out.Text(bundle.signal_json_keys()[i]);
      WriteCedarValue(d.signals[i].second, out);
    }
  } else {
    std::vector<size_t> order(d.signals.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&d](size_t a, size_t b) { return d.signals[a].first < d.signals[b].first; });
    for (size_t i : order) signal(i);
  }
  out.Text(R"(}},"source":)");
  out.String(c.source);
  out.Text(R"(,"text":)");
  constexpr size_t kInline = 16;
  std::array<std::string_view, kInline> inline_parts;
  std::vector<std::string_view> heap_parts;
  std::string_view* parts = inline_parts.data();
  if (3 + 2 * c.messages.size() > kInline) {
    heap_parts.resize(3 + 2 * c.messages.size());
    parts = heap_parts.data();
  }
  WriteHash(key, "text", {parts, TextParts(c, parts)}, out);
  out.Text(R"(,"type":"route","v":1})");
}

// The per-thread buffer RouteCase writes its records into; one past kMaxKept is dropped after
// use so that an outsized case does not pin its memory.
constexpr size_t kMaxKeptRecordBuffer = 64 * 1024;
thread_local std::string record_buffer;

}  // namespace

std::string RouteRecordJson(const Bundle& bundle, const sources::Case& c, const RoutingDecision& d,
                            const CaseKey& key, const Actor& actor, std::int64_t at_micros) {
  std::string record;
  internal::Appender out(record, ExpectedRecordSize(d));
  WriteRouteRecord(bundle, c, d, key, actor, at_micros, out);
  out.Finish();
  return record;
}

// Declared after a public call takes mu_ (so it runs before the lock is released, once nothing
// refers to the case's entry any more): evicts the case if the call leaves it closed.
class RoutingService::EvictOnExit {
 public:
  EvictOnExit(RoutingService* service, std::string_view case_id)
      : service_(service), case_id_(case_id) {}
  EvictOnExit(const EvictOnExit&) = delete;
  EvictOnExit& operator=(const EvictOnExit&) = delete;
  ~EvictOnExit() { service_->EvictIfClosed(case_id_); }

 private:
  RoutingService* service_;
  std::string_view case_id_;
};

RoutingService::RoutingService(ServiceDeps deps) : deps_(deps) { load_status_ = Load(); }

Result<std::unique_ptr<RoutingService>> RoutingService::Open(ServiceDeps deps) {
  auto service = std::make_unique<RoutingService>(deps);
  ARBITER_RETURN_IF_ERROR(service->load_status_);
  return service;
}

Status RoutingService::Load() {
  if (deps_.cases == nullptr) return Status::Ok();
  ARBITER_TRY(std::vector<StoredCase> stored, deps_.cases->LoadAll());
  std::lock_guard<std::mutex> lock(mu_);
  for (StoredCase& c : stored) {
    const CaseState s = c.lifecycle.state();
    // Cases in the duplicate index before the restart: routed and not closed since.
    const bool indexed =
        s != CaseState::kNew && s != CaseState::kClosed && s != CaseState::kReopened && !c.shredded;
    if (indexed && deps_.signals != nullptr) deps_.signals->CaseOpened(c.c);
    if (s == CaseState::kClosed) {  // read back from the store when needed
      closed_.Insert(std::move(c.c.id));
      c = StoredCase();
      continue;
    }
    std::string id = c.c.id;
    cases_.insert_or_assign(std::move(id), std::move(c));
  }
  return Status::Ok();
}

Status RoutingService::Commit(CaseEntry* into, CaseEntry&& next, unsigned changed) {
  if (deps_.cases != nullptr) ARBITER_RETURN_IF_ERROR(deps_.cases->Put(next, changed));
  *into = std::move(next);
  return Status::Ok();
}

Result<std::shared_ptr<const Bundle>> RoutingService::CurrentBundle() const {
  ARBITER_RETURN_IF_ERROR(load_status_);
  std::shared_ptr<const Bundle> b = deps_.packs->Current();
  if (b == nullptr) return Status::FailedPrecondition("no policy pack is loaded");
  return b;
}

Result<RoutingService::CaseEntry*> RoutingService::Find(std::string_view case_id) {
  auto it = cases_.find(case_id);
  if (it != cases_.end()) return &it->second;
  if (!closed_.Contains(case_id)) {
    return Status::NotFound("case `" + std::string(case_id) + "` is unknown");
  }
  ARBITER_TRY(std::optional<StoredCase> stored, deps_.cases->Get(case_id));
  if (!stored) {
    return Status::DataLoss("case `" + std::string(case_id) + "` was closed but is not stored");
  }
  closed_.Erase(case_id);
  it = cases_.emplace(std::string(case_id), std::move(*stored)).first;
  return &it->second;
}

std::optional<RoutingService::CaseEntry> RoutingService::ReadStored(
    std::string_view case_id) const {
  Result<std::optional<StoredCase>> stored = deps_.cases->Get(case_id);
  if (!stored) return std::nullopt;
  return std::move(stored).value();
}

void RoutingService::EvictIfClosed(std::string_view case_id) {
  if (deps_.cases == nullptr) return;
  auto it = cases_.find(case_id);
  if (it == cases_.end() || it->second.lifecycle.state() != CaseState::kClosed) return;
  auto node = cases_.extract(it);
  closed_.Insert(std::move(node.key()));
}

Result<boost::json::object> RoutingService::CaseRecord(std::string_view type, const Actor& actor,
                                                       const CaseEntry& e, const Bundle* bundle) {
  ARBITER_TRY(CaseKey key, deps_.keys->KeyFor(e.c.id));
  boost::json::object record = NewEvidenceRecord(type, actor, deps_.clock->NowMicros());
  record["case"] = key.Hash("case", e.c.id);
  if (bundle != nullptr) record["bundle"] = BundleJson(*bundle);
  return record;
}

Result<std::optional<std::uint64_t>> RoutingService::Write(CaseEntry& e,
                                                           const boost::json::object& record) {
  ARBITER_TRY(std::optional<std::uint64_t> index, AppendEvidence(deps_.sink, record));
  if (index) e.evidence.push_back(*index);
  return index;
}

std::string RoutingService::NewRequestId() {
  Bytes r = RandomBytes(8);
  return "req-" + std::to_string(next_request_++) + "-" + HexEncode(r);
}

Result<RouteResult> RoutingService::RouteCase(sources::Case c, const ComputedSignals& given,
                                              const Actor& actor,
                                              const std::optional<cedar::EntityUid>& agent) {
  ARBITER_TRY(std::shared_ptr<const Bundle> bundle, CurrentBundle());
  ComputedSignals computed;
  std::string signal_failure;
  if (deps_.signals != nullptr) {
    auto r = deps_.signals->Compute(c);
    if (r) {
      computed = std::move(r).value();
    } else {
      signal_failure = "signals: " + r.error().message();
    }
  }
  ComputedSignals signals = MergeSignals(std::move(computed), given);

  // One decision, shared by the result and the case state (it is never changed once made). It
  // depends only on the case, its signals, the bundle and the agent, never on what is stored, so
  // it is made before taking mu_: requests on different threads evaluate policy in parallel and
  // serialise only for the case's state, its evidence and its row. A case that turns out not to
  // be routable below costs one wasted evaluation.
  auto decided = std::make_shared<RoutingDecision>(
      EvaluateRoute(*bundle, BuildCaseView(*bundle, c, signals), agent));
  RoutingDecision& d = *decided;
  if (!signal_failure.empty()) {
    d.errors.push_back({"", signal_failure});
    if (d.route == Route::kAi) {
      d.route = Route::kHuman;
      d.queue = bundle->config().error_queue;
      d.fail_safe = true;
    }
  }

  std::lock_guard<std::mutex> lock(mu_);
  // A closed case that left memory is refused as one in memory is; a new id costs this lookup.
  if (!closed_.empty() && closed_.Contains(c.id)) return RefuseRoute(c.id, CaseState::kClosed);
  auto it = cases_.lower_bound(c.id);
  const bool known = it != cases_.end() && it->first == c.id;
  if (known) {
    const CaseState s = it->second.lifecycle.state();
    if (s != CaseState::kNew && s != CaseState::kReopened) return RefuseRoute(c.id, s);
  }

  // A known (reopened) case changes on a copy, committed at the end. A new case is built in its
  // own map node (a StoredCase is large: building it aside and moving it in showed in profiles)
  // and removed again if any step below fails, so that a failed route leaves no trace.
  struct EraseUnlessKept {
    std::map<std::string, CaseEntry, std::less<>>* cases;
    std::map<std::string, CaseEntry, std::less<>>::iterator node;
    bool active;
    ~EraseUnlessKept() {
      if (active) cases->erase(node);
    }
  };
  std::optional<CaseEntry> copy;
  if (known) {
    copy.emplace(it->second);
  } else {
    it = cases_.emplace_hint(it, std::piecewise_construct, std::forward_as_tuple(c.id),
                             std::forward_as_tuple());
  }
  EraseUnlessKept undo{&cases_, it, !known};
  CaseEntry& e = known ? *copy : it->second;
  e.c = std::move(c);  // from here on the case is e.c
  e.signals = std::move(signals);
  ARBITER_TRY(CaseKey key, deps_.keys->KeyForRoute(e.c.id, deps_.cases));
  Result<std::uint64_t> appended = [&] {
    internal::Appender out(record_buffer, ExpectedRecordSize(d), internal::Appender::kOverwrite);
    WriteRouteRecord(*bundle, e.c, d, key, actor, deps_.clock->NowMicros(), out);
    Result<std::uint64_t> r = deps_.sink->Append(out.View());
    if (record_buffer.size() > kMaxKeptRecordBuffer) std::string().swap(record_buffer);
    return r;
  }();
  ARBITER_TRY(std::uint64_t index, std::move(appended));
  e.evidence.push_back(index);
  ARBITER_RETURN_IF_ERROR(e.lifecycle.Route(d.route, d.queue));
  e.last_route = decided;
  if (d.route == Route::kAi) {
    e.kept_by_ai = true;
    e.ai_bundle_hash = d.bundle_hash;
    e.ai_policies = PolicyIds(d.reasons);
  }
  if (deps_.cases != nullptr) ARBITER_RETURN_IF_ERROR(deps_.cases->Put(e, kCaseChangedAll));
  undo.active = false;
  if (known) it->second = std::move(*copy);
  if (deps_.signals != nullptr) deps_.signals->CaseOpened(it->second.c);
  return RouteResult{std::move(decided), index};
}

Result<ClaimResult> RoutingService::Claim(std::string_view case_id, const cedar::EntityUid& agent,
                                          const Actor& actor) {
  ARBITER_TRY(std::shared_ptr<const Bundle> bundle, CurrentBundle());
  std::lock_guard<std::mutex> lock(mu_);
  EvictOnExit evict(this, case_id);
  ARBITER_TRY(CaseEntry * cur, Find(case_id));
  const std::string agent_id = agent.ToString();
  {
    CaseLifecycle probe = cur->lifecycle;
    ARBITER_RETURN_IF_ERROR(probe.Claim(agent_id));
  }
  CaseEntry next = *cur;
  CaseEntry* e = &next;
  CaseView view = BuildCaseView(*bundle, e->c, e->signals);
  RoutingDecision d = EvaluateRoute(*bundle, view, agent);
  if (d.route != Route::kAi) {
    // Policy no longer lets this agent keep the case: it escalates instead.
    const std::string queue = d.queue.empty() ? bundle->config().default_human_queue : d.queue;
    ARBITER_TRY(boost::json::object record, CaseRecord("escalation", actor, *e, bundle.get()));
    record["queue"] = queue;
    record["trigger"] = "claim";
    boost::json::object decision = RoutingDecisionToJson(d);
    decision.erase("bundle");
    record["decision"] = std::move(decision);
    ARBITER_RETURN_IF_ERROR(Write(*e, record).status());
    ARBITER_RETURN_IF_ERROR(e->lifecycle.Escalate(queue));
    e->escalated_later = true;
    ARBITER_RETURN_IF_ERROR(Commit(cur, std::move(next), kCaseChangedState));
    return Status::PermissionDenied("agent " + agent_id + " may not handle case `" +
                                    std::string(case_id) + "`: escalated to queue `" + queue + "`");
  }
  const RoutingConfig& config = bundle->config();
  ARBITER_TRY(CaseGrant grant,
              deps_.grants->IssueCaseGrant({e->c.id, agent_id, config.grant_ttl_seconds,
                                            config.grant_max_ttl_seconds, bundle->hash()}));
  ARBITER_TRY(boost::json::object record, CaseRecord("claim", actor, *e, bundle.get()));
  record["agent"] = agent_id;
  record["grant"] = {{"id", grant.grant_id}, {"expires_at", grant.expires_at_micros}};
  record["policies"] = ReasonsToJson(d.reasons);
  ARBITER_TRY(std::optional<std::uint64_t> index, Write(*e, record));
  ARBITER_RETURN_IF_ERROR(e->lifecycle.Claim(agent_id));
  e->grant_id = grant.grant_id;
  ARBITER_RETURN_IF_ERROR(Commit(cur, std::move(next), kCaseChangedState));
  return ClaimResult{grant, index};
}

Result<IntentResult> RoutingService::FinishIntent(CaseEntry& e, const Bundle& bundle,
                                                  IntentDecision decision,
                                                  const PendingIntent& request, const Actor& actor,
                                                  std::string_view record_type,
                                                  boost::json::object extra) {
  IntentResult result;
  ARBITER_TRY(CaseKey key, deps_.keys->KeyFor(e.c.id));
  const std::string params_json = CanonicalJson(request.params);
  if (decision.outcome == IntentOutcome::kAllow) {
    ARBITER_TRY(result.intent_token,
                deps_.grants->IssueIntentToken({e.c.id, e.grant_id, request.agent, request.intent,
                                                HexEncode(Sha256(params_json))}));
  } else if (decision.outcome == IntentOutcome::kPendingApproval) {
    result.request_id = NewRequestId();
  }
  ARBITER_TRY(boost::json::object record, CaseRecord(record_type, actor, e, &bundle));
  for (auto& kv : extra) record[kv.key()] = std::move(kv.value());
  record["agent"] = request.agent;
  // Numbers and booleans are kept (amounts are audit facts); strings may be personal data.
  boost::json::object params;
  for (const auto& kv : request.params) {
    if (kv.value().is_string()) {
      params[kv.key()] = {{"hmac", key.Hash("param", kv.value().get_string())}};
    } else {
      params[kv.key()] = kv.value();
    }
  }
  record["params"] = std::move(params);
  boost::json::object decision_json = IntentDecisionToJson(decision);
  decision_json.erase("bundle");
  record["decision"] = std::move(decision_json);
  if (!result.request_id.empty()) record["request"] = result.request_id;
  ARBITER_TRY(result.evidence_index, Write(e, record));
  if (decision.outcome == IntentOutcome::kPendingApproval) {
    PendingIntent pending = request;
    pending.roles = decision.approvals;
    e.pending.emplace(result.request_id, std::move(pending));
  } else if (decision.outcome == IntentOutcome::kEscalate) {
    ARBITER_RETURN_IF_ERROR(e.lifecycle.Escalate(decision.queue));
    ARBITER_RETURN_IF_ERROR(deps_.grants->RevokeCase(e.c.id));
    e.pending.clear();
    e.escalated_later = e.kept_by_ai;
  }
  result.decision = std::move(decision);
  return result;
}

Result<IntentResult> RoutingService::RequestIntent(std::string_view case_id,
                                                   const cedar::EntityUid& agent,
                                                   std::string_view intent,
                                                   const boost::json::object& params,
                                                   const Actor& actor) {
  ARBITER_TRY(std::shared_ptr<const Bundle> bundle, CurrentBundle());
  std::lock_guard<std::mutex> lock(mu_);
  EvictOnExit evict(this, case_id);
  ARBITER_TRY(CaseEntry * cur, Find(case_id));
  const std::string agent_id = agent.ToString();
  ARBITER_RETURN_IF_ERROR(cur->lifecycle.CheckIntent(agent_id));
  CaseView view = BuildCaseView(*bundle, cur->c, cur->signals);
  ARBITER_TRY(IntentDecision d, EvaluateIntent(*bundle, view, agent, intent, params, std::nullopt));
  PendingIntent request{std::string(intent), agent_id, params, {}};
  CaseEntry next = *cur;
  ARBITER_TRY(IntentResult result,
              FinishIntent(next, *bundle, std::move(d), request, actor, "intent", {}));
  ARBITER_RETURN_IF_ERROR(Commit(cur, std::move(next), kCaseChangedState | kCaseChangedPending));
  return result;
}

Result<ApprovalResult> RoutingService::Approve(std::string_view case_id,
                                               std::string_view request_id,
                                               const cedar::EntityUid& person, const Actor& actor) {
  ARBITER_TRY(std::shared_ptr<const Bundle> bundle, CurrentBundle());
  std::lock_guard<std::mutex> lock(mu_);
  EvictOnExit evict(this, case_id);
  ARBITER_TRY(CaseEntry * cur, Find(case_id));
  CaseEntry next = *cur;
  CaseEntry* e = &next;
  auto pit = e->pending.find(request_id);
  if (pit == e->pending.end()) {
    return Status::NotFound("no pending intent `" + std::string(request_id) + "` on case `" +
                            std::string(case_id) + "`");
  }
  if (e->lifecycle.state() != CaseState::kClaimed) {
    return Status::FailedPrecondition("cannot approve: the case is " +
                                      std::string(CaseStateName(e->lifecycle.state())));
  }
  const PendingIntent pending = pit->second;
  CaseView view = BuildCaseView(*bundle, e->c, e->signals);
  ApprovalResult result;
  std::string role;
  for (const auto& r : pending.roles) {
    PersonDecision pd = EvaluateApproval(*bundle, view, person, pending.intent, r);
    result.approval = pd;
    if (pd.allowed) {
      role = r;
      break;
    }
  }
  ARBITER_TRY(boost::json::object record, CaseRecord("approval", actor, *e, bundle.get()));
  record["request"] = std::string(request_id);
  record["approver"] = person.ToString();
  record["intent"] = pending.intent;
  record["allowed"] = result.approval.allowed;
  if (!role.empty()) record["role"] = role;
  record["policies"] = ReasonsToJson(result.approval.reasons);
  record["errors"] = ErrorsToJson(result.approval.errors);
  ARBITER_TRY(result.evidence_index, Write(*e, record));
  if (!result.approval.allowed) {
    ARBITER_RETURN_IF_ERROR(Commit(cur, std::move(next), kCaseChangedState));
    return result;
  }

  e->pending.erase(pit);
  // Re-evaluate as the agent that asked (its uid is kept in Cedar syntax).
  ARBITER_TRY(cedar::EntityUid agent_uid, cedar::ParseEntityUid(pending.agent));
  ARBITER_TRY(IntentDecision redo,
              EvaluateIntent(*bundle, view, agent_uid, pending.intent, pending.params,
                             Approval{person.ToString(), role}));
  boost::json::object extra;
  extra["approval"] = {
      {"request", std::string(request_id)}, {"approver", person.ToString()}, {"role", role}};
  ARBITER_TRY(IntentResult intent, FinishIntent(*e, *bundle, std::move(redo), pending, actor,
                                                "intent", std::move(extra)));
  result.intent = std::move(intent);
  ARBITER_RETURN_IF_ERROR(Commit(cur, std::move(next), kCaseChangedState | kCaseChangedPending));
  return result;
}

Result<OverrideResult> RoutingService::Override(std::string_view case_id,
                                                const cedar::EntityUid& person, Route to,
                                                std::string_view queue, const Actor& actor) {
  ARBITER_TRY(std::shared_ptr<const Bundle> bundle, CurrentBundle());
  std::lock_guard<std::mutex> lock(mu_);
  EvictOnExit evict(this, case_id);
  ARBITER_TRY(CaseEntry * cur, Find(case_id));
  CaseEntry next = *cur;
  CaseEntry* e = &next;
  if (to == Route::kHuman && bundle->config().FindQueue(queue) == nullptr) {
    return Status::InvalidArgument("override: unknown queue `" + std::string(queue) + "`");
  }
  {
    CaseLifecycle probe = e->lifecycle;
    ARBITER_RETURN_IF_ERROR(probe.Override(to, queue));
  }
  CaseView view = BuildCaseView(*bundle, e->c, e->signals);
  OverrideResult result;
  result.decision = EvaluateOverride(*bundle, view, person, to, queue);
  const Holder before = e->lifecycle.holder();
  ARBITER_TRY(boost::json::object record, CaseRecord("override", actor, *e, bundle.get()));
  record["person"] = person.ToString();
  record["from"] = {{"holder", HolderName(before)}, {"queue", e->lifecycle.queue()}};
  record["to"] = {{"route", RouteName(to)}, {"queue", std::string(queue)}};
  record["allowed"] = result.decision.allowed;
  record["policies"] = ReasonsToJson(result.decision.reasons);
  record["errors"] = ErrorsToJson(result.decision.errors);
  ARBITER_TRY(result.evidence_index, Write(*e, record));
  if (!result.decision.allowed) {
    ARBITER_RETURN_IF_ERROR(Commit(cur, std::move(next), kCaseChangedState));
    return result;
  }
  ARBITER_RETURN_IF_ERROR(e->lifecycle.Override(to, queue));
  e->pending.clear();
  if (before == Holder::kAi) ARBITER_RETURN_IF_ERROR(deps_.grants->RevokeCase(e->c.id));
  if (to == Route::kHuman && e->kept_by_ai) e->escalated_later = true;
  ARBITER_RETURN_IF_ERROR(Commit(cur, std::move(next), kCaseChangedState | kCaseChangedPending));
  return result;
}

Result<std::optional<std::uint64_t>> RoutingService::Escalate(std::string_view case_id,
                                                              std::string_view queue,
                                                              std::string_view reason,
                                                              const Actor& actor) {
  ARBITER_TRY(std::shared_ptr<const Bundle> bundle, CurrentBundle());
  std::lock_guard<std::mutex> lock(mu_);
  EvictOnExit evict(this, case_id);
  ARBITER_TRY(CaseEntry * cur, Find(case_id));
  CaseEntry next = *cur;
  CaseEntry* e = &next;
  if (bundle->config().FindQueue(queue) == nullptr) {
    return Status::InvalidArgument("escalate: unknown queue `" + std::string(queue) + "`");
  }
  {
    CaseLifecycle probe = e->lifecycle;
    ARBITER_RETURN_IF_ERROR(probe.Escalate(queue));
  }
  ARBITER_TRY(CaseKey key, deps_.keys->KeyFor(e->c.id));
  ARBITER_TRY(boost::json::object record, CaseRecord("escalation", actor, *e, bundle.get()));
  record["queue"] = std::string(queue);
  record["trigger"] = "request";
  record["reason"] = key.Hash("reason", reason);
  ARBITER_TRY(std::optional<std::uint64_t> index, Write(*e, record));
  ARBITER_RETURN_IF_ERROR(e->lifecycle.Escalate(queue));
  ARBITER_RETURN_IF_ERROR(deps_.grants->RevokeCase(e->c.id));
  e->pending.clear();
  if (e->kept_by_ai) e->escalated_later = true;
  ARBITER_RETURN_IF_ERROR(Commit(cur, std::move(next), kCaseChangedState | kCaseChangedPending));
  return index;
}

Result<std::optional<std::uint64_t>> RoutingService::Close(std::string_view case_id,
                                                           std::string_view resolution,
                                                           const Actor& actor) {
  if (!IsToken(resolution)) {
    return Status::InvalidArgument("close: resolution `" + std::string(resolution) +
                                   "` must be a short code of [a-z0-9_-]");
  }
  ARBITER_TRY(std::shared_ptr<const Bundle> bundle, CurrentBundle());
  std::lock_guard<std::mutex> lock(mu_);
  EvictOnExit evict(this, case_id);
  ARBITER_TRY(CaseEntry * cur, Find(case_id));
  {
    CaseLifecycle probe = cur->lifecycle;
    ARBITER_RETURN_IF_ERROR(probe.Close());
  }
  CaseEntry next = *cur;
  CaseEntry* e = &next;
  ARBITER_TRY(boost::json::object record, CaseRecord("close", actor, *e, bundle.get()));
  record["resolution"] = std::string(resolution);
  record["holder"] = HolderName(e->lifecycle.holder());
  ARBITER_TRY(std::optional<std::uint64_t> index, Write(*e, record));
  e->closed_with_ai = e->lifecycle.holder() == Holder::kAi;
  ARBITER_RETURN_IF_ERROR(e->lifecycle.Close());
  ARBITER_RETURN_IF_ERROR(deps_.grants->RevokeCase(e->c.id));
  e->pending.clear();
  ARBITER_RETURN_IF_ERROR(Commit(cur, std::move(next), kCaseChangedState | kCaseChangedPending));
  if (deps_.signals != nullptr) deps_.signals->CaseClosed(case_id);
  return index;
}

Result<std::optional<std::uint64_t>> RoutingService::RecordOutcome(
    std::string_view case_id, OutcomeKind kind, std::optional<std::int64_t> score,
    const Actor& actor) {
  if (kind == OutcomeKind::kSatisfaction && (!score || *score < 1 || *score > 5)) {
    return Status::InvalidArgument("outcome csat: score must be from 1 to 5");
  }
  ARBITER_RETURN_IF_ERROR(load_status_);
  std::lock_guard<std::mutex> lock(mu_);
  EvictOnExit evict(this, case_id);
  ARBITER_TRY(CaseEntry * cur, Find(case_id));
  {
    CaseLifecycle probe = cur->lifecycle;
    ARBITER_RETURN_IF_ERROR(probe.Outcome(kind));
  }
  CaseEntry next = *cur;
  CaseEntry* e = &next;
  ARBITER_TRY(boost::json::object record, CaseRecord("outcome", actor, *e, nullptr));
  record["outcome"] = OutcomeKindName(kind);
  if (score) record["score"] = *score;
  record["ai_kept"] = e->closed_with_ai;
  ARBITER_TRY(std::optional<std::uint64_t> index, Write(*e, record));
  ARBITER_RETURN_IF_ERROR(e->lifecycle.Outcome(kind));
  if (e->closed_with_ai) {
    if (kind == OutcomeKind::kReopened) e->outcomes.emplace_back("reopened");
    if (kind == OutcomeKind::kDisputed) e->outcomes.emplace_back("disputed");
    if (kind == OutcomeKind::kSatisfaction && *score <= 2) e->outcomes.emplace_back("low_csat");
  }
  ARBITER_RETURN_IF_ERROR(Commit(cur, std::move(next), kCaseChangedState));
  return index;
}

std::optional<CaseSnapshot> RoutingService::Get(std::string_view case_id) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cases_.find(case_id);
    if (it != cases_.end()) return SnapshotOf(it->second);
    if (!closed_.Contains(case_id)) return std::nullopt;
  }
  std::optional<CaseEntry> closed = ReadStored(case_id);  // not cached: it stays out of memory
  if (!closed) return std::nullopt;
  return SnapshotOf(*closed);
}

std::optional<sources::Case> RoutingService::CaseOf(std::string_view case_id) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cases_.find(case_id);
    if (it != cases_.end()) return it->second.c;
    if (!closed_.Contains(case_id)) return std::nullopt;
  }
  std::optional<CaseEntry> closed = ReadStored(case_id);
  if (!closed) return std::nullopt;
  return std::move(closed->c);
}

size_t RoutingService::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cases_.size() + closed_.size();
}

size_t RoutingService::resident_cases() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cases_.size();
}

std::vector<MissedEscalation> RoutingService::MissedEscalations() const {
  std::vector<MissedEscalation> out;
  const auto add = [&out](const CaseEntry& e) {
    if (!e.kept_by_ai) return;
    MissedEscalation m;
    if (e.escalated_later) m.signals.emplace_back("escalated_later");
    for (const auto& o : e.outcomes) {
      if (std::find(m.signals.begin(), m.signals.end(), o) == m.signals.end()) {
        m.signals.push_back(o);
      }
    }
    if (m.signals.empty()) return;
    m.case_id = e.c.id;
    m.bundle_hash = e.ai_bundle_hash;
    m.policies = e.ai_policies;
    out.push_back(std::move(m));
  };
  std::vector<std::string> closed_ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, e] : cases_) add(e);
    closed_ids.reserve(closed_.size());
    closed_.ForEach([&](const std::string& id) { closed_ids.push_back(id); });
  }
  // Closed cases one at a time from the store (never all of them in memory at once), outside mu_.
  for (const std::string& id : closed_ids) {
    if (std::optional<CaseEntry> e = ReadStored(id)) add(*e);
  }
  std::sort(out.begin(), out.end(), [](const MissedEscalation& a, const MissedEscalation& b) {
    return a.case_id < b.case_id;
  });
  return out;
}

Status RoutingService::Shred(std::string_view case_id) {
  ARBITER_RETURN_IF_ERROR(load_status_);
  std::lock_guard<std::mutex> lock(mu_);
  EvictOnExit evict(this, case_id);
  Result<CaseEntry*> found = Find(case_id);
  if (!found && found.error().code() != StatusCode::kNotFound) return found.error();
  if (found) {
    CaseEntry* cur = *found;
    // The text goes first: if the key deletion fails the caller retries Shred, and a crash in
    // between never leaves the text on disk without the key gone soon after.
    CaseEntry next = *cur;
    sources::Case& c = next.c;
    c.subject.clear();
    c.body.clear();
    c.messages.clear();
    c.customer.id.clear();
    c.attributes.clear();
    next.pending.clear();  // their params may hold personal data
    next.shredded = true;
    ARBITER_RETURN_IF_ERROR(Commit(cur, std::move(next), kCaseChangedAll));
  }
  return deps_.keys->Shred(case_id);
}

}  // namespace arbiter::routing
