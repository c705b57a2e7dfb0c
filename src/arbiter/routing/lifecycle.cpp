#include "arbiter/routing/lifecycle.h"

namespace arbiter::routing {

std::string_view CaseStateName(CaseState s) {
  switch (s) {
    case CaseState::kNew: return "new";
    case CaseState::kRouted: return "routed";
    case CaseState::kBlocked: return "blocked";
    case CaseState::kClaimed: return "claimed";
    case CaseState::kEscalated: return "escalated";
    case CaseState::kOverridden: return "overridden";
    case CaseState::kClosed: return "closed";
    case CaseState::kReopened: return "reopened";
  }
  return "new";
}

std::string_view HolderName(Holder h) {
  switch (h) {
    case Holder::kNone: return "none";
    case Holder::kAi: return "ai";
    case Holder::kHuman: return "human";
  }
  return "none";
}

std::string_view OutcomeKindName(OutcomeKind k) {
  switch (k) {
    case OutcomeKind::kReopened: return "reopened";
    case OutcomeKind::kDisputed: return "disputed";
    case OutcomeKind::kSatisfaction: return "csat";
  }
  return "reopened";
}

std::optional<CaseState> ParseCaseState(std::string_view name) {
  for (CaseState s :
       {CaseState::kNew, CaseState::kRouted, CaseState::kBlocked, CaseState::kClaimed,
        CaseState::kEscalated, CaseState::kOverridden, CaseState::kClosed, CaseState::kReopened}) {
    if (CaseStateName(s) == name) return s;
  }
  return std::nullopt;
}

std::optional<Holder> ParseHolder(std::string_view name) {
  for (Holder h : {Holder::kNone, Holder::kAi, Holder::kHuman}) {
    if (HolderName(h) == name) return h;
  }
  return std::nullopt;
}

Result<CaseLifecycle> CaseLifecycle::Restore(CaseState state, Holder holder, std::string queue,
                                             std::string agent) {
  const bool consistent =
      (state != CaseState::kClaimed || (!agent.empty() && holder == Holder::kAi)) &&
      (state != CaseState::kNew || (holder == Holder::kNone && agent.empty())) &&
      (state != CaseState::kBlocked || holder == Holder::kNone);
  if (!consistent) {
    return Status::DataLoss("stored lifecycle is inconsistent: state " +
                            std::string(CaseStateName(state)) + ", holder " +
                            std::string(HolderName(holder)) + ", agent `" + agent + "`");
  }
  CaseLifecycle lc;
  lc.state_ = state;
  lc.holder_ = holder;
  lc.queue_ = std::move(queue);
  lc.agent_ = std::move(agent);
  return lc;
}

std::optional<OutcomeKind> ParseOutcomeKind(std::string_view name) {
  if (name == "reopened") return OutcomeKind::kReopened;
  if (name == "disputed") return OutcomeKind::kDisputed;
  if (name == "csat") return OutcomeKind::kSatisfaction;
  return std::nullopt;
}

Status CaseLifecycle::Refuse(std::string_view what) const {
  std::string m = "cannot ";
  m += what;
  m += ": the case is ";
  m += CaseStateName(state_);
  if (holder_ != Holder::kNone && state_ != CaseState::kClosed) {
    m += " (held by ";
    m += holder_ == Holder::kAi ? "ai" : "a person";
    if (!queue_.empty()) m += " in queue `" + queue_ + "`";
    m += ")";
  }
  return Status::FailedPrecondition(std::move(m));
}

Status CaseLifecycle::Route(routing::Route route, std::string_view queue) {
  if (state_ != CaseState::kNew && state_ != CaseState::kReopened) return Refuse("route it");
  agent_.clear();
  queue_ = queue;
  switch (route) {
    case routing::Route::kAi:
      state_ = CaseState::kRouted;
      holder_ = Holder::kAi;
      break;
    case routing::Route::kHuman:
      state_ = CaseState::kRouted;
      holder_ = Holder::kHuman;
      break;
    case routing::Route::kBlocked:
      state_ = CaseState::kBlocked;
      holder_ = Holder::kNone;
      break;
  }
  return Status::Ok();
}

Status CaseLifecycle::Claim(std::string_view agent) {
  const bool ai_waiting = (state_ == CaseState::kRouted || state_ == CaseState::kOverridden) &&
                          holder_ == Holder::kAi && agent_.empty();
  if (!ai_waiting) return Refuse("claim it for an agent");
  if (agent.empty()) return Status::InvalidArgument("claim: empty agent");
  agent_ = agent;
  state_ = CaseState::kClaimed;
  return Status::Ok();
}

Status CaseLifecycle::CheckIntent(std::string_view agent) const {
  if (state_ != CaseState::kClaimed) return Refuse("act on it");
  if (agent != agent_) {
    return Status::PermissionDenied("agent `" + std::string(agent) +
                                    "` did not claim the case (claimed by `" + agent_ + "`)");
  }
  return Status::Ok();
}

Status CaseLifecycle::Escalate(std::string_view queue) {
  const bool with_ai = (state_ == CaseState::kRouted || state_ == CaseState::kClaimed ||
                        state_ == CaseState::kOverridden) &&
                       holder_ == Holder::kAi;
  if (!with_ai) return Refuse("escalate it");
  if (queue.empty()) return Status::InvalidArgument("escalate: empty queue");
  state_ = CaseState::kEscalated;
  holder_ = Holder::kHuman;
  queue_ = queue;
  agent_.clear();
  return Status::Ok();
}

Status CaseLifecycle::Override(routing::Route to, std::string_view queue) {
  if (!open() || state_ == CaseState::kReopened) return Refuse("override its routing");
  if (to == routing::Route::kBlocked) return Status::InvalidArgument("override: cannot block");
  if (to == routing::Route::kHuman && queue.empty()) {
    return Status::InvalidArgument("override: a route to a person needs a queue");
  }
  state_ = CaseState::kOverridden;
  holder_ = to == routing::Route::kAi ? Holder::kAi : Holder::kHuman;
  queue_ = to == routing::Route::kAi ? std::string() : std::string(queue);
  agent_.clear();
  return Status::Ok();
}

Status CaseLifecycle::Close() {
  if (!open() || state_ == CaseState::kReopened) return Refuse("close it");
  state_ = CaseState::kClosed;
  return Status::Ok();
}

Status CaseLifecycle::Outcome(OutcomeKind kind) {
  if (state_ != CaseState::kClosed && state_ != CaseState::kReopened) {
    return Refuse("record an outcome (outcomes follow close)");
  }
  if (kind == OutcomeKind::kReopened) {
    if (state_ != CaseState::kClosed) return Refuse("reopen it");
    state_ = CaseState::kReopened;
  }
  return Status::Ok();
}

}  // namespace arbiter::routing
