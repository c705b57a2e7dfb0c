// The lifecycle of one case as a state machine. Every transition either happens or is refused
// with a reason (kFailedPrecondition), so a closed case cannot be claimed, an agent cannot act on
// a case a person holds, and outcomes are recorded only after close.
//
//   new ──route──► routed(ai|human) | blocked
//   routed(ai) ──claim──► claimed ──(intents, approvals)──► claimed
//   routed(ai) | claimed | overridden(ai) ──escalate──► escalated(human)
//   any open state ──override (a person)──► overridden(ai|human)
//   any routed state ──close──► closed ──outcome reopened──► reopened ──route──► routed ...
//   closed | reopened ──outcome disputed / csat──► (same state; recorded)
//
//   CaseLifecycle lc;
//   ARBITER_RETURN_IF_ERROR(lc.Route(Route::kAi, ""));
//   ARBITER_RETURN_IF_ERROR(lc.Claim("Agent::\"bot\""));
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "arbiter/common/status.h"
#include "arbiter/routing/router.h"

namespace arbiter::routing {

enum class CaseState : std::uint8_t {
  kNew,
  kRouted,
  kBlocked,
  kClaimed,
  kEscalated,
  kOverridden,
  kClosed,
  kReopened,
};
std::string_view CaseStateName(CaseState s);

enum class Holder : std::uint8_t { kNone, kAi, kHuman };
std::string_view HolderName(Holder h);

enum class OutcomeKind : std::uint8_t { kReopened, kDisputed, kSatisfaction };
std::string_view OutcomeKindName(OutcomeKind k);  // "reopened", "disputed", "csat"
std::optional<OutcomeKind> ParseOutcomeKind(std::string_view name);
std::optional<CaseState> ParseCaseState(std::string_view name);
std::optional<Holder> ParseHolder(std::string_view name);

class CaseLifecycle {
 public:
  // A lifecycle as it was saved (CaseStore). kDataLoss when the combination cannot arise from the
  // transitions above (e.g. claimed without an agent), so a damaged store is not trusted.
  static Result<CaseLifecycle> Restore(CaseState state, Holder holder, std::string queue,
                                       std::string agent);

  CaseState state() const { return state_; }
  Holder holder() const { return holder_; }
  const std::string& queue() const { return queue_; }
  const std::string& agent() const { return agent_; }  // the claiming agent, when claimed

  Status Route(routing::Route route, std::string_view queue);
  Status Claim(std::string_view agent);
  // Checks (without changing state) that `agent` may ask for an intent now.
  Status CheckIntent(std::string_view agent) const;
  Status Escalate(std::string_view queue);
  Status Override(routing::Route to, std::string_view queue);
  Status Close();
  Status Outcome(OutcomeKind kind);

  bool open() const { return state_ != CaseState::kNew && state_ != CaseState::kClosed; }

 private:
  Status Refuse(std::string_view what) const;
  CaseState state_ = CaseState::kNew;
  Holder holder_ = Holder::kNone;
  std::string queue_;
  std::string agent_;
};

}  // namespace arbiter::routing
