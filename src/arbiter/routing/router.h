// The router: turns a Case and its signals into Cedar requests against a Bundle and interprets
// the answers (the three decisions of docs/ROUTING.md).
//
//   1. May the machine continue?  Action::"ai_handle", principal the agent (or the pack's AI pool),
//      resource the case. Allow -> route "ai".
//   2. Must it escalate?  A deny of ai_handle. Determining forbids carry @escalate("queue") and
//      @priority("N"): the highest priority picks the queue (ties: the earlier policy in the
//      pack); none -> the pack's default human queue. A determining forbid with @block holds the
//      case: route "blocked".
//   3. May a person override / approve?  Action::"override" and Action::"approve" with a Human
//      principal. Agent intents are checked with their own action; a deny whose determining
//      forbids all carry @approval("role") is "pending approval".
//
// Fail-safe: an evaluation error (a policy that errored and was skipped, or a signal that could
// not be mapped) never lets a case reach AI silently. ai_handle with any error routes to a person:
// the queue of the determining escalations if there are any, else the pack's error_queue. An
// intent with any error is denied. Errors are always reported in the decision.
//
// Pure functions of (bundle, case, signals); no I/O. RoutingService (service.h) adds evidence,
// grants and the case lifecycle.
//
//   CaseView view = BuildCaseView(*bundle, c, signals);
//   RoutingDecision d = EvaluateRoute(*bundle, view, std::nullopt);
//   if (d.route == Route::kHuman) Enqueue(d.queue);
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "arbiter/cedar/entities.h"
#include "arbiter/cedar/value.h"
#include "arbiter/routing/bundle.h"
#include "arbiter/routing/signals.h"
#include "arbiter/sources/case.h"

namespace arbiter::routing {

enum class Route : std::uint8_t { kAi, kHuman, kBlocked };
std::string_view RouteName(Route r);  // "ai", "human", "blocked"
std::optional<Route> ParseRoute(std::string_view name);

// A determining policy.
struct PolicyReason {
  std::string policy_id;
  bool forbid = false;
  std::vector<std::pair<std::string, std::optional<std::string>>> annotations;
  std::string file;
  std::uint32_t line = 0;
};

struct EvaluationError {
  std::string policy_id;  // empty for a signal error
  std::string message;
};

// The case as the policies see it: its Cedar entity (built from the pack's signal mapping) in an
// overlay over the bundle's entities. Build once per case and reuse for all of its requests. The
// bundle must outlive the view.
struct CaseView {
  cedar::EntityUid uid;
  std::vector<std::pair<std::string, cedar::Value>> signals;  // attribute -> value, pack order
  std::vector<EvaluationError> signal_errors;
  cedar::Entities entities;  // overlay holding the case entity
  std::string case_id;
};
CaseView BuildCaseView(const Bundle& bundle, const sources::Case& c,
                       const ComputedSignals& signals);

struct RoutingDecision {
  Route route = Route::kHuman;
  std::string queue;              // empty for route ai and blocked
  std::int64_t priority = 0;      // of the escalation that chose the queue
  std::string escalation_policy;  // id of that policy, when one chose the queue
  std::vector<PolicyReason> reasons;
  std::vector<EvaluationError> errors;
  bool fail_safe = false;  // errors forced the route to a person
  std::string principal;   // the Cedar principal asked, e.g. AgentPool::"support-ai"
  std::vector<std::pair<std::string, cedar::Value>> signals;
  std::string bundle_hash;
  std::string pack_version;
};
RoutingDecision EvaluateRoute(const Bundle& bundle, const CaseView& view,
                              const std::optional<cedar::EntityUid>& agent);
// The same, moving the view's signal values into the decision instead of copying them (for a
// view that is not used again).
RoutingDecision EvaluateRoute(const Bundle& bundle, CaseView&& view,
                              const std::optional<cedar::EntityUid>& agent);

enum class IntentOutcome : std::uint8_t { kAllow, kDeny, kPendingApproval, kEscalate };
std::string_view IntentOutcomeName(
    IntentOutcome o);  // "allow", "deny", "pending_approval", "escalate"

struct Approval {
  std::string approver;  // Cedar uid of the person, e.g. Human::"alice"
  std::string role;
};

struct IntentDecision {
  IntentOutcome outcome = IntentOutcome::kDeny;
  std::string intent;
  std::string action;
  std::vector<std::string> approvals;  // roles required when pending, sorted and unique
  std::string queue;                   // when escalating
  std::vector<PolicyReason> reasons;
  std::vector<EvaluationError> errors;
  std::string bundle_hash;
};
// Validates `params` against the intent's declared parameters (refused as kInvalidArgument) and
// evaluates it. `approval`, when set, is passed as context.approval.
Result<IntentDecision> EvaluateIntent(const Bundle& bundle, const CaseView& view,
                                      const cedar::EntityUid& agent, std::string_view intent,
                                      const boost::json::object& params,
                                      const std::optional<Approval>& approval);

// A person's request: approve (context: intent, required_role) or override (context: to_route,
// to_queue). Allowed only on a permit with no errors.
struct PersonDecision {
  bool allowed = false;
  std::vector<PolicyReason> reasons;
  std::vector<EvaluationError> errors;
  std::string bundle_hash;
};
PersonDecision EvaluateApproval(const Bundle& bundle, const CaseView& view,
                                const cedar::EntityUid& person, std::string_view intent,
                                std::string_view required_role);
PersonDecision EvaluateOverride(const Bundle& bundle, const CaseView& view,
                                const cedar::EntityUid& person, Route to_route,
                                std::string_view to_queue);

// JSON forms (the `--json` output of `arbiter route` and the HTTP API).
boost::json::object RoutingDecisionToJson(const RoutingDecision& d);
boost::json::object IntentDecisionToJson(const IntentDecision& d);
boost::json::array ReasonsToJson(const std::vector<PolicyReason>& reasons);
boost::json::array ErrorsToJson(const std::vector<EvaluationError>& errors);
boost::json::object SignalValuesToJson(const std::vector<std::pair<std::string, cedar::Value>>& s);

// A readable explanation: route and queue, which policies and why, which signals.
std::string ExplainDecision(const Bundle& bundle, const RoutingDecision& d);

namespace internal {
// Evaluates every action once with default signals; errors name the policy's file and line.
Status ProbeBundle(const Bundle& bundle);
}  // namespace internal

}  // namespace arbiter::routing
