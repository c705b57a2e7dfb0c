#include "arbiter/server/routing_api.h"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <memory>
#include <mutex>
#include <utility>

#include "arbiter/cedar/value.h"
#include "arbiter/common/bytes.h"
#include "arbiter/common/json.h"
#include "arbiter/identity/token_error.h"
#include "arbiter/routing/router.h"
#include "arbiter/server/internal/decision_json.h"
#include "arbiter/server/ledger_api.h"
#include "arbiter/signals/sensitivity.h"
#include "arbiter/sources/adapters.h"
#include "arbiter/sources/case.h"

namespace arbiter::server {
namespace {

using routing::Actor;

struct Counters {
  CounterFamily* decisions = nullptr;
  CounterFamily* policies = nullptr;

  void Count(const routing::RoutingDecision& d) const {
    if (decisions == nullptr) return;
    decisions->WithLabels({routing::RouteName(d.route), d.queue}).Inc();
    for (const auto& r : d.reasons) {
      policies->WithLabels({r.policy_id, r.forbid ? "forbid" : "permit"}).Inc();
    }
  }
};

Actor ActorOf(const Principal& p) {
  return Actor{p.kind == PrincipalKind::kAgent ? "agent" : "human", p.id};
}

// spiffe://<td>/agent/<workload>/<instance> → Agent::"<workload>".
Result<cedar::EntityUid> AgentUid(const Principal& p) {
  constexpr std::string_view kMarker = "/agent/";
  size_t at = p.id.find(kMarker);
  if (p.kind != PrincipalKind::kAgent || at == std::string::npos) {
    return Status::PermissionDenied("caller `" + p.id + "` is not an agent instance");
  }
  std::string_view rest = std::string_view(p.id).substr(at + kMarker.size());
  std::string_view workload = rest.substr(0, rest.find('/'));
  if (workload.empty()) {
    return Status::PermissionDenied("caller `" + p.id + "` names no workload");
  }
  return cedar::EntityUid("Agent", workload);
}

cedar::EntityUid HumanUid(const Principal& p) { return cedar::EntityUid("Human", p.id); }

// The body's case (and optional given signals): either the Case itself, or
// {"case": {...}, "signals": {...}}.
struct CaseInput {
  sources::Case c;
  routing::ComputedSignals signals;
};

Result<CaseInput> ReadCase(RequestContext& ctx) {
  // Kept as a value: CaseFromJson takes a value, and passing it an object would copy the tree.
  ARBITER_TRY(boost::json::value doc, ctx.JsonBody());
  if (!doc.is_object()) {
    return Status::InvalidArgument("body: expected an object, got " +
                                   std::string(JsonKindName(doc)));
  }
  const boost::json::object& body = doc.get_object();
  CaseInput in;
  if (auto it = body.find("case"); it != body.end() && it->value().is_object()) {
    ARBITER_TRY(in.c, sources::CaseFromJson(it->value()));
    if (auto s = body.find("signals"); s != body.end() && !s->value().is_null()) {
      ARBITER_TRY(in.signals, routing::SignalsFromJson(s->value(), "body.signals"));
    }
    return in;
  }
  ARBITER_TRY(in.c, sources::CaseFromJson(doc));
  return in;
}

boost::json::value EvidenceIndex(const std::optional<std::uint64_t>& index) {
  return index ? boost::json::value(*index) : boost::json::value(nullptr);
}

// Every route here refuses a `wait` query other than `integrated` before its handler runs, so a
// bad value changes nothing.
Handler WaitChecked(Handler handler) {
  return [handler = std::move(handler)](RequestContext& ctx) {
    auto wait = ctx.request().QueryParam("wait");
    if (wait && *wait != "integrated") {
      return ErrorResponse(400, "invalid_argument", "query.wait: expected `integrated`",
                           "query.wait");
    }
    return handler(ctx);
  };
}

// `?wait=integrated`: `r` answers once evidence `index` is integrated, with its receipt as the
// body's last member "receipt" (AnswerWithReceipt); unchanged without the query or evidence.
HttpResponse WithReceipt(RequestContext& ctx, const RoutingServices& s,
                         const std::optional<std::uint64_t>& index, HttpResponse r) {
  if (!index || !ctx.request().QueryParam("wait")) return r;
  AnswerWithReceipt(r, s.ledger, *index, ReceiptPlacement::kLastMember);
  return r;
}

HttpResponse NoPack() {
  return ErrorResponse(503, "unavailable",
                       "no policy pack is loaded; start `arbiter serve` with --pack DIR");
}

boost::json::object SnapshotJson(const routing::CaseSnapshot& s) {
  boost::json::object o;
  o["case_id"] = s.case_id;
  o["state"] = routing::CaseStateName(s.state);
  o["holder"] = routing::HolderName(s.holder);
  o["queue"] = s.queue;
  o["agent"] = s.agent;
  if (s.last_route) o["last_route"] = routing::RoutingDecisionToJson(*s.last_route);
  boost::json::array ev;
  for (auto i : s.evidence) ev.push_back(i);
  o["evidence"] = std::move(ev);
  return o;
}

boost::json::object StepJson(const routing::RoutingService& service, std::string_view case_id,
                             const std::optional<std::uint64_t>& index) {
  boost::json::object o;
  if (auto snap = service.Get(case_id)) o = SnapshotJson(*snap);
  o["evidence_index"] = EvidenceIndex(index);
  return o;
}

Result<std::string> OptionalBodyString(const boost::json::object& body, std::string_view key) {
  ARBITER_TRY(auto v, GetOptionalString(body, key, "body"));
  return v ? std::string(*v) : std::string();
}

// An empty body is allowed for close and escalate.
Result<boost::json::object> OptionalObjectBody(RequestContext& ctx) {
  if (ctx.request().body.empty()) return boost::json::object{};
  return ctx.JsonObjectBody();
}

// Completes `done` once both parts of a response's durability are known: the first error, or OK
// when both report OK.
std::function<void(Status)> BothDurable(std::function<void(Status)> done) {
  struct Join {
    std::mutex mu;
    int left = 2;
    Status first_error;
    std::function<void(Status)> done;
  };
  auto join = std::make_shared<Join>();
  join->done = std::move(done);
  return [join](Status s) {
    std::function<void(Status)> fire;
    Status result;
    {
      std::lock_guard<std::mutex> lock(join->mu);
      if (!s.ok() && join->first_error.ok()) join->first_error = std::move(s);
      if (--join->left != 0) return;
      fire = std::move(join->done);
      result = join->first_error;
    }
    fire(std::move(result));
  };
}

// Writes that answer only once they are durable: the handler runs, and when it enqueued evidence
// or queued a case row the transport holds the response until both are committed. A wait the
// handler deferred on itself (a receipt) follows once they are.
Handler Durable(EvidenceCommitter* committer, routing::SqliteRoutingStore* cases, Handler handler) {
  if (committer == nullptr && cases == nullptr) return handler;
  return [committer, cases, handler = std::move(handler)](RequestContext& ctx) {
    RequestEvidence::Begin();
    routing::SqliteRoutingStore::BeginTickets();
    HttpResponse r = handler(ctx);
    // Plain values, not optionals: g++ 12 misreads the optionals' captures as uninitialised.
    const std::optional<std::uint64_t> last_evidence =
        committer != nullptr ? RequestEvidence::Last() : std::nullopt;
    const std::optional<std::uint64_t> last_row =
        cases != nullptr ? cases->LastTicketOnThisThread() : std::nullopt;
    const bool has_evidence = last_evidence.has_value();
    const bool has_row = last_row.has_value();
    if (!has_evidence && !has_row) return r;
    const std::uint64_t index = last_evidence.value_or(0);
    const std::uint64_t ticket = last_row.value_or(0);
    r.defer = [committer, cases, has_evidence, has_row, index, ticket,
               then = std::move(r.defer)](std::function<void(Status)> done) {
      if (then) {
        done = [then, done = std::move(done)](Status s) mutable {
          if (s.ok()) {
            then(std::move(done));
          } else {
            done(std::move(s));
          }
        };
      }
      // One wait completes `done` directly; two complete it through a join.
      std::function<void(Status)> each =
          has_evidence && has_row ? BothDurable(std::move(done)) : std::move(done);
      if (has_evidence && has_row) committer->OnDurable(index, each);  // the join's other half
      if (has_row) {
        cases->OnDurable(ticket, std::move(each));
      } else {
        committer->OnDurable(index, std::move(each));
      }
    };
    return r;
  };
}

struct Redacted {
  std::string text;
  signals::ScanResult scan;
};

Redacted RedactText(std::string_view text) {
  Redacted r;
  r.scan = signals::ScanText(text);
  r.text = signals::Redact(text, r.scan.spans);
  return r;
}

// What the agent holding the grant sees: the conversation with personal data and secrets
// replaced by markers, the routing-relevant attributes, and no customer identifier, source
// attributes or AI classification.
boost::json::object MinimisedView(const sources::Case& c, const routing::CaseSnapshot& snap,
                                  const grants::CaseGrant& grant) {
  boost::json::object o;
  o["case_id"] = c.id;
  o["source"] = c.source;
  o["state"] = routing::CaseStateName(snap.state);
  signals::Level level = signals::Level::kPublic;
  std::array<std::uint32_t, signals::kKindCount> counts{};
  auto add = [&](std::string_view text) {
    Redacted r = RedactText(text);
    level = std::max(level, r.scan.level);
    for (size_t k = 0; k < counts.size(); ++k) counts[k] += r.scan.counts[k];
    return std::move(r.text);
  };
  o["subject"] = add(c.subject);
  o["body"] = add(c.body);
  boost::json::array messages;
  for (const auto& m : c.messages) {
    boost::json::object mo;
    mo["author"] = m.author;
    mo["text"] = add(m.text);
    if (!m.at.empty()) mo["at"] = m.at;
    messages.push_back(std::move(mo));
  }
  o["messages"] = std::move(messages);
  o["language"] = c.language;
  o["channel"] = c.channel;
  o["priority"] = sources::PriorityName(c.priority);
  o["severity"] = c.severity ? boost::json::value(*c.severity) : boost::json::value(nullptr);
  o["category"] = c.category;
  boost::json::object customer;
  customer["tier"] = c.customer.tier;
  o["customer"] = std::move(customer);
  boost::json::object kinds;
  std::uint64_t redactions = 0;
  for (signals::Kind k : signals::kAllKinds) {
    auto n = counts[static_cast<size_t>(k)];
    if (n == 0) continue;
    kinds[signals::KindName(k)] = n;
    redactions += n;
  }
  boost::json::object sensitivity;
  sensitivity["level"] = signals::LevelName(level);
  sensitivity["kinds"] = std::move(kinds);
  o["sensitivity"] = std::move(sensitivity);
  o["redactions"] = redactions;
  boost::json::object g;
  g["id"] = grant.id;
  g["expires_at"] = grant.expires_at;
  o["grant"] = std::move(g);
  return o;
}

// The answer when the calling agent instance does not hold the case's active grant: 403 when the
// grant is someone else's, revoked or expired, the store's error otherwise.
HttpResponse NoActiveGrant(const RequestContext& ctx, std::string_view case_id,
                           const Status& error) {
  if (error.code() == StatusCode::kUnauthenticated ||
      error.code() == StatusCode::kPermissionDenied) {
    return ErrorResponse(403, "permission_denied",
                         "`" + ctx.principal()->id + "` does not hold an active grant for case `" +
                             std::string(case_id) + "`: " + error.message());
  }
  return ErrorResponse(error);
}

HttpResponse NoGrants() {
  return ErrorResponse(503, "unavailable", "case grants are not configured on this server");
}

// Routes a converted or native case and answers 201 with the decision (shared by POST /v1/cases
// and POST /v1/sources/{source}).
HttpResponse RouteAndAnswer(RequestContext& ctx, const RoutingServices& s, const Counters& counters,
                            sources::Case c, const routing::ComputedSignals& given) {
  std::string case_id = c.id;
  auto routed = s.service->RouteCase(std::move(c), given, ActorOf(*ctx.principal()));
  if (!routed) return ErrorResponse(routed.error());
  counters.Count(*routed->decision);
  // {"case_id":..,"decision":..,"evidence_index":..[,"receipt":..]} written as text: the bytes the
  // boost::json tree gave, without building it (tests/server/decision_json_test.cpp).
  HttpResponse r;
  r.status = 201;
  std::string& out = r.body;
  out.reserve(1024);
  out += "{\"case_id\":";
  AppendJsonString(case_id, out);
  out += ",\"decision\":";
  internal::AppendRoutingDecisionJson(*routed->decision, out);
  out += ",\"evidence_index\":";
  if (routed->evidence_index) {
    out += std::to_string(*routed->evidence_index);
  } else {
    out += "null";
  }
  out += '}';
  return WithReceipt(ctx, s, routed->evidence_index, std::move(r));
}

std::optional<HttpResponse> OptionalStringField(const boost::json::object& body,
                                                std::string_view key, std::string& out) {
  auto v = GetOptionalString(body, key, "body");
  if (!v) return ErrorResponse(v.error());
  if (*v) out = std::string(**v);
  return std::nullopt;
}

}  // namespace

Result<std::uint64_t> LedgerEvidenceSink::Append(std::string_view canonical_json) {
  if (committer_ != nullptr) return committer_->Enqueue(std::string(canonical_json));
  return ledger_->Append(AsBytes(canonical_json));
}

Status AddRoutingRoutes(Router& router, RoutingServices s) {
  auto counters = std::make_shared<Counters>();
  // Every write answers once its evidence is durable.
  auto add = [&router, committer = s.committer, cases = s.case_store](
                 HttpMethod method, std::string_view pattern, Access access, Handler handler) {
    return router.Add(method, pattern, access,
                      Durable(committer, cases, WaitChecked(std::move(handler))));
  };
  if (s.metrics != nullptr) {
    ARBITER_TRY(counters->decisions,
                s.metrics->AddCounter("arbiter_decisions_total",
                                      "Routing decisions, by route (ai, human, blocked) and queue.",
                                      {"route", "queue"}));
    ARBITER_TRY(counters->policies,
                s.metrics->AddCounter("arbiter_decision_policies_total",
                                      "Determining policies of routing decisions, by policy id "
                                      "and effect.",
                                      {"policy", "effect"}));
  }

  ARBITER_RETURN_IF_ERROR(
      add(HttpMethod::kPost, "/v1/route", Access::kAuthenticated, [s](RequestContext& ctx) {
        auto bundle = s.packs->Current();
        if (!bundle) return NoPack();
        auto in = ReadCase(ctx);
        if (!in) return ErrorResponse(in.error());
        routing::CaseView view = routing::BuildCaseView(*bundle, in->c, in->signals);
        routing::RoutingDecision d = routing::EvaluateRoute(*bundle, view, std::nullopt);
        HttpResponse r;
        r.status = 200;
        r.body.reserve(1024);
        r.body += "{\"case_id\":";
        AppendJsonString(in->c.id, r.body);
        r.body += ",\"decision\":";
        internal::AppendRoutingDecisionJson(d, r.body);
        r.body += ",\"dry_run\":true}";
        return r;
      }));

  ARBITER_RETURN_IF_ERROR(add(
      HttpMethod::kPost, "/v1/cases", Access::kAuthenticated, [s, counters](RequestContext& ctx) {
        if (!s.packs->Current()) return NoPack();
        auto in = ReadCase(ctx);
        if (!in) return ErrorResponse(in.error());
        return RouteAndAnswer(ctx, s, *counters, std::move(in->c), in->signals);
      }));

  ARBITER_RETURN_IF_ERROR(add(
      HttpMethod::kPost, "/v1/sources/{source}", Access::kAuthenticated,
      [s, counters](RequestContext& ctx) {
        if (!s.packs->Current()) return NoPack();
        std::string_view source = ctx.PathParam("source");
        const auto& known = sources::SupportedSources();
        if (std::find(known.begin(), known.end(), source) == known.end()) {
          return ErrorResponse(404, "not_found",
                               "source `" + std::string(source.substr(0, 64)) +
                                   "` is not one of zendesk, jira, servicenow, freshdesk, email",
                               "path.source");
        }
        if (ctx.request().body.empty()) {
          return ErrorResponse(400, "invalid_argument", "body: the source payload is empty",
                               "body");
        }
        sources::ConvertLimits limits;
        limits.max_bytes = s.max_source_bytes;
        limits.max_json_depth = s.max_json_depth;
        auto c = sources::ConvertPayload(source, ctx.request().body, limits);
        if (!c) {
          ApiError e = ApiErrorFromStatus(c.error());
          if (e.http_status == 500) return ErrorResponse(c.error());
          return ErrorResponse(400, "invalid_argument", c.error().message(), "body");
        }
        return RouteAndAnswer(ctx, s, *counters, std::move(*c), {});
      }));

  ARBITER_RETURN_IF_ERROR(
      add(HttpMethod::kGet, "/v1/cases/{id}/view", Access::kAgent, [s](RequestContext& ctx) {
        if (s.grants == nullptr) return NoGrants();
        std::string_view id = ctx.PathParam("id");
        auto snap = s.service->Get(id);
        if (!snap) {
          return ErrorResponse(404, "not_found", "case `" + std::string(id) + "` is not known");
        }
        auto grant = s.grants->ActiveGrantFor(id, ctx.principal()->id);
        if (!grant) return NoActiveGrant(ctx, id, grant.error());
        // The case as routing keeps it (durably); text and customer are cleared once shredded.
        auto content = s.service->CaseOf(id);
        if (!content) {
          return ErrorResponse(404, "not_found", "case `" + std::string(id) + "` is not known");
        }
        return JsonResponse(200, MinimisedView(*content, *snap, *grant));
      }));

  ARBITER_RETURN_IF_ERROR(
      add(HttpMethod::kPost, "/v1/intents/introspect", Access::kAuthenticated,
          [s](RequestContext& ctx) {
            if (s.grants == nullptr) return NoGrants();
            auto body = ctx.JsonObjectBody();
            if (!body) return ErrorResponse(body.error());
            auto token = GetString(*body, "token", "body");
            if (!token) return ErrorResponse(token.error());
            std::string audience, case_id, action, params_sha256;
            if (auto r = OptionalStringField(*body, "audience", audience)) return *r;
            if (auto r = OptionalStringField(*body, "case_id", case_id)) return *r;
            if (auto r = OptionalStringField(*body, "action", action)) return *r;
            if (auto r = OptionalStringField(*body, "params_sha256", params_sha256)) return *r;
            grants::IntentExpectations expect;
            expect.audience = audience;
            expect.case_id = case_id;
            expect.action = action;
            expect.params_sha256 = params_sha256;
            const boost::json::value* params = body->if_contains("params");
            if (params != nullptr && !params->is_null()) {
              if (!params->is_object()) {
                return ErrorResponse(400, "invalid_argument", "body.params: expected an object",
                                     "body.params");
              }
              expect.params = params;
            }
            auto claims = s.grants->Introspect(*token, expect);
            if (!claims) {
              // RFC 7662: a token that is not active is a 200 {"active": false, ...}.
              if (identity::TokenErrorOf(claims.error())) {
                return JsonResponse(200, grants::InactiveIntrospectionJson(claims.error()));
              }
              return ErrorResponse(claims.error());
            }
            return JsonResponse(200, claims->ToJson());
          }));

  ARBITER_RETURN_IF_ERROR(
      add(HttpMethod::kGet, "/v1/cases/{id}", Access::kHuman, [s](RequestContext& ctx) {
        auto snap = s.service->Get(ctx.PathParam("id"));
        if (!snap) {
          return ErrorResponse(404, "not_found",
                               "case `" + std::string(ctx.PathParam("id")) + "` is not known");
        }
        return JsonResponse(200, SnapshotJson(*snap));
      }));

  ARBITER_RETURN_IF_ERROR(
      add(HttpMethod::kPost, "/v1/cases/{id}/claim", Access::kAgent, [s](RequestContext& ctx) {
        auto agent = AgentUid(*ctx.principal());
        if (!agent) return ErrorResponse(agent.error());
        auto claimed = s.service->Claim(ctx.PathParam("id"), *agent, ActorOf(*ctx.principal()));
        if (!claimed) return ErrorResponse(claimed.error());
        std::int64_t expires_at = claimed->grant.expires_at_micros / 1'000'000;
        if (s.grants != nullptr) {
          // The grant routing asked for is the workload's; the caller's instance now holds it.
          auto bound = s.grants->BindClaim(claimed->grant.grant_id, ctx.principal()->id);
          if (!bound) return ErrorResponse(bound.error());
          expires_at = bound->expires_at;
        }
        boost::json::object o;
        o["case_id"] = ctx.PathParam("id");
        o["grant_id"] = claimed->grant.grant_id;
        o["expires_at"] = expires_at;
        o["evidence_index"] = EvidenceIndex(claimed->evidence_index);
        return WithReceipt(ctx, s, claimed->evidence_index, JsonResponse(200, std::move(o)));
      }));

  ARBITER_RETURN_IF_ERROR(
      add(HttpMethod::kPost, "/v1/intents", Access::kAgent, [s](RequestContext& ctx) {
        auto body = ctx.JsonObjectBody();
        if (!body) return ErrorResponse(body.error());
        auto case_id = GetString(*body, "case_id", "body");
        if (!case_id) return ErrorResponse(case_id.error());
        auto action = GetString(*body, "action", "body");
        if (!action) return ErrorResponse(action.error());
        boost::json::object params;
        if (auto it = body->find("params"); it != body->end() && !it->value().is_null()) {
          if (!it->value().is_object()) {
            return ErrorResponse(400, "invalid_argument", "body.params: expected an object",
                                 "body.params");
          }
          params = it->value().as_object();
        }
        auto agent = AgentUid(*ctx.principal());
        if (!agent) return ErrorResponse(agent.error());
        if (s.grants != nullptr) {
          // Only the instance that claimed the case acts on it: another instance, even of the
          // same workload, is refused before policy is asked (the token would name the holder).
          // (An unknown case falls through to RequestIntent's 404; the case is looked up only
          // on that failure path, not for every intent.)
          auto held = s.grants->ActiveGrantFor(*case_id, ctx.principal()->id);
          if (!held && s.service->Get(*case_id)) return NoActiveGrant(ctx, *case_id, held.error());
          Status remembered = s.grants->RememberParams(*case_id, params);
          if (!remembered.ok()) {
            ApiError e = ApiErrorFromStatus(remembered);
            if (remembered.code() == StatusCode::kInvalidArgument) e.field = "body.params";
            return ErrorResponse(e);
          }
        }
        auto result =
            s.service->RequestIntent(*case_id, *agent, *action, params, ActorOf(*ctx.principal()));
        if (!result) return ErrorResponse(result.error());
        boost::json::object o = routing::IntentDecisionToJson(result->decision);
        if (!result->request_id.empty()) o["intent_id"] = result->request_id;
        if (!result->intent_token.empty()) o["token"] = result->intent_token;
        o["evidence_index"] = EvidenceIndex(result->evidence_index);
        return WithReceipt(ctx, s, result->evidence_index, JsonResponse(200, std::move(o)));
      }));

  ARBITER_RETURN_IF_ERROR(
      add(HttpMethod::kPost, "/v1/cases/{id}/approve", Access::kHuman, [s](RequestContext& ctx) {
        auto body = ctx.JsonObjectBody();
        if (!body) return ErrorResponse(body.error());
        auto intent_id = GetString(*body, "intent_id", "body");
        if (!intent_id) return ErrorResponse(intent_id.error());
        auto approved = s.service->Approve(ctx.PathParam("id"), *intent_id,
                                           HumanUid(*ctx.principal()), ActorOf(*ctx.principal()));
        if (!approved) return ErrorResponse(approved.error());
        if (!approved->approval.allowed) {
          return ErrorResponse(
              403, "permission_denied",
              "policy does not allow `" + ctx.principal()->id + "` to approve this intent");
        }
        boost::json::object o = StepJson(*s.service, ctx.PathParam("id"), approved->evidence_index);
        if (approved->intent) {
          boost::json::object intent = routing::IntentDecisionToJson(approved->intent->decision);
          if (!approved->intent->intent_token.empty()) {
            intent["token"] = approved->intent->intent_token;
          }
          o["intent"] = std::move(intent);
        }
        return WithReceipt(ctx, s, approved->evidence_index, JsonResponse(200, std::move(o)));
      }));

  ARBITER_RETURN_IF_ERROR(
      add(HttpMethod::kPost, "/v1/cases/{id}/override", Access::kHuman, [s](RequestContext& ctx) {
        auto body = ctx.JsonObjectBody();
        if (!body) return ErrorResponse(body.error());
        auto route_name = GetString(*body, "route", "body");
        if (!route_name) return ErrorResponse(route_name.error());
        auto to = routing::ParseRoute(*route_name);
        if (!to) {
          return ErrorResponse(400, "invalid_argument",
                               "body.route: expected `ai` or `human`, got `" +
                                   std::string(route_name->substr(0, 32)) + "`",
                               "body.route");
        }
        auto queue = OptionalBodyString(*body, "queue");
        if (!queue) return ErrorResponse(queue.error());
        auto result = s.service->Override(ctx.PathParam("id"), HumanUid(*ctx.principal()), *to,
                                          *queue, ActorOf(*ctx.principal()));
        if (!result) return ErrorResponse(result.error());
        if (!result->decision.allowed) {
          return ErrorResponse(
              403, "permission_denied",
              "policy does not allow `" + ctx.principal()->id + "` to override this case");
        }
        boost::json::object o = StepJson(*s.service, ctx.PathParam("id"), result->evidence_index);
        o["reasons"] = routing::ReasonsToJson(result->decision.reasons);
        return WithReceipt(ctx, s, result->evidence_index, JsonResponse(200, std::move(o)));
      }));

  ARBITER_RETURN_IF_ERROR(add(
      HttpMethod::kPost, "/v1/cases/{id}/escalate", Access::kAuthenticated,
      [s](RequestContext& ctx) {
        auto body = OptionalObjectBody(ctx);
        if (!body) return ErrorResponse(body.error());
        auto queue = OptionalBodyString(*body, "queue");
        if (!queue) return ErrorResponse(queue.error());
        auto reason = OptionalBodyString(*body, "reason");
        if (!reason) return ErrorResponse(reason.error());
        auto index =
            s.service->Escalate(ctx.PathParam("id"), *queue, *reason, ActorOf(*ctx.principal()));
        if (!index) return ErrorResponse(index.error());
        boost::json::object o = StepJson(*s.service, ctx.PathParam("id"), *index);
        return WithReceipt(ctx, s, *index, JsonResponse(200, std::move(o)));
      }));

  ARBITER_RETURN_IF_ERROR(add(
      HttpMethod::kPost, "/v1/cases/{id}/close", Access::kAuthenticated, [s](RequestContext& ctx) {
        auto body = OptionalObjectBody(ctx);
        if (!body) return ErrorResponse(body.error());
        auto resolution = OptionalBodyString(*body, "resolution");
        if (!resolution) return ErrorResponse(resolution.error());
        auto index = s.service->Close(ctx.PathParam("id"), *resolution, ActorOf(*ctx.principal()));
        if (!index) return ErrorResponse(index.error());
        boost::json::object o = StepJson(*s.service, ctx.PathParam("id"), *index);
        return WithReceipt(ctx, s, *index, JsonResponse(200, std::move(o)));
      }));

  ARBITER_RETURN_IF_ERROR(
      add(HttpMethod::kPost, "/v1/cases/{id}/outcomes", Access::kHuman, [s](RequestContext& ctx) {
        auto body = ctx.JsonObjectBody();
        if (!body) return ErrorResponse(body.error());
        auto kind_name = GetString(*body, "kind", "body");
        if (!kind_name) return ErrorResponse(kind_name.error());
        auto kind = routing::ParseOutcomeKind(*kind_name);
        if (!kind) {
          return ErrorResponse(400, "invalid_argument",
                               "body.kind: expected `reopened`, `disputed` or `csat`, got `" +
                                   std::string(kind_name->substr(0, 32)) + "`",
                               "body.kind");
        }
        std::optional<std::int64_t> score;
        if (body->contains("score")) {
          auto v = GetInt64(*body, "score", "body");
          if (!v) return ErrorResponse(v.error());
          score = *v;
        }
        auto index =
            s.service->RecordOutcome(ctx.PathParam("id"), *kind, score, ActorOf(*ctx.principal()));
        if (!index) return ErrorResponse(index.error());
        boost::json::object o = StepJson(*s.service, ctx.PathParam("id"), *index);
        return WithReceipt(ctx, s, *index, JsonResponse(200, std::move(o)));
      }));

  ARBITER_RETURN_IF_ERROR(
      add(HttpMethod::kPost, "/v1/admin/policy/reload", Access::kAdmin, [s](RequestContext& ctx) {
        if (s.pack_dir.empty()) {
          return ErrorResponse(409, "failed_precondition",
                               "no pack directory configured; start with --pack DIR");
        }
        auto loaded = s.packs->Load(s.pack_dir, ActorOf(*ctx.principal()));
        if (!loaded) return ErrorResponse(loaded.error());
        boost::json::object o;
        o["pack"] = s.pack_dir;
        o["bundle_hash"] = loaded->bundle->hash();
        o["evidence_index"] = EvidenceIndex(loaded->evidence_index);
        return JsonResponse(200, std::move(o));
      }));

  ARBITER_RETURN_IF_ERROR(add(HttpMethod::kDelete, "/v1/admin/cases/{id}/personal-data",
                              Access::kAdmin, [s](RequestContext& ctx) {
                                Status st = s.service->Shred(ctx.PathParam("id"));
                                // Intent parameters can carry personal data too.
                                if (st.ok() && s.grants != nullptr) {
                                  st = s.grants->ForgetCase(ctx.PathParam("id"));
                                }
                                if (!st.ok()) return ErrorResponse(st);
                                HttpResponse r;
                                r.status = 204;
                                return r;
                              }));
  return Status::Ok();
}

}  // namespace arbiter::server
