#include "arbiter/grants/grants.h"

#include <algorithm>

#include "arbiter/identity/token_error.h"

namespace arbiter::grants {
namespace {

using identity::Quoted;
using identity::TokenError;
using identity::TokenFailure;

constexpr std::int64_t kMaxGrantSeconds = 7 * 86400;

Status ValidateCaseId(std::string_view case_id) {
  const bool ok =
      !case_id.empty() && case_id.size() <= 256 &&
      std::all_of(case_id.begin(), case_id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (!ok) {
    return Status::InvalidArgument("case id " + Quoted(case_id) +
                                   " must be 1-256 printable ascii characters");
  }
  return Status::Ok();
}

Status InactiveError(const CaseGrant& g, std::int64_t now) {
  const GrantState s = g.StateAt(now);
  std::string detail = "grant " + Quoted(g.id) + " for case " + Quoted(g.case_id) + " is " +
                       std::string(GrantStateName(s));
  if (s == GrantState::kRevoked && !g.end_reason.empty()) detail += " (" + g.end_reason + ")";
  return TokenFailure(TokenError::kGrantInactive, detail);
}

}  // namespace

Result<std::unique_ptr<GrantService>> GrantService::Create(GrantStore& store, const Clock& clock,
                                                           RandomSource& random,
                                                           GrantChangeSignal* changes) {
  return std::unique_ptr<GrantService>(new GrantService(store, clock, random, changes));
}

CaseGrant GrantService::Normalise(CaseGrant g) const {
  const std::int64_t now = clock_.NowSeconds();
  if (g.StateAt(now) == GrantState::kExpired && g.state == GrantState::kActive) {
    g.state = GrantState::kExpired;
    g.ended_at = g.expires_at;
    g.end_reason = "ttl elapsed";
  }
  return g;
}

Result<CaseGrant> GrantService::CreateForCase(const GrantSpec& spec) {
  ARBITER_RETURN_IF_ERROR(ValidateCaseId(spec.case_id));
  if (!spec.workload.empty()) {
    ARBITER_RETURN_IF_ERROR(identity::ValidateSpiffePathSegment(spec.workload));
  }
  if (spec.ttl_seconds < 1 || spec.max_ttl_seconds < spec.ttl_seconds ||
      spec.max_ttl_seconds > kMaxGrantSeconds) {
    return Status::InvalidArgument("grant ttl: need 1 <= ttl_seconds <= max_ttl_seconds <= 604800");
  }
  const std::int64_t now = clock_.NowSeconds();
  CaseGrant g;
  g.id = "g_" + HexEncode(random_.Generate(16));
  g.case_id = spec.case_id;
  g.workload = spec.workload;
  g.created_at = now;
  g.expires_at = now + spec.ttl_seconds;
  g.max_expires_at = now + spec.max_ttl_seconds;
  ARBITER_RETURN_IF_ERROR(store_.InsertGrant(g));
  return g;
}

Result<CaseGrant> GrantService::Claim(std::string_view grant_id,
                                      const identity::AgentIdentity& agent) {
  const std::int64_t now = clock_.NowSeconds();
  const std::string who = agent.id.ToString();
  ARBITER_TRY(CaseGrant g, store_.GetGrant(grant_id));
  if (!g.workload.empty() && g.workload != agent.workload) {
    return TokenFailure(TokenError::kAgentMismatch, "grant " + Quoted(g.id) + " is for workload " +
                                                        Quoted(g.workload) + ", not " +
                                                        Quoted(agent.workload));
  }
  const std::int64_t cap = now + agent.max_grant_ttl_seconds;
  Result<bool> claim_result = false;
  {
    ChangeScope scope(changes_);
    claim_result = store_.ClaimGrant(grant_id, who, now, cap, cap);
  }
  ARBITER_TRY(bool claimed, std::move(claim_result));
  Changed();
  ARBITER_TRY(CaseGrant after, store_.GetGrant(grant_id));
  if (claimed) return after;
  if (after.StateAt(now) != GrantState::kActive) return InactiveError(after, now);
  if (after.agent == who) return after;  // already ours
  return TokenFailure(TokenError::kAgentMismatch, "case " + Quoted(after.case_id) +
                                                      " is claimed by another agent instance " +
                                                      Quoted(after.agent));
}

Result<CaseGrant> GrantService::Extend(std::string_view grant_id,
                                       const identity::AgentIdentity& agent,
                                       std::int64_t ttl_seconds) {
  if (ttl_seconds < 1 || ttl_seconds > kMaxGrantSeconds) {
    return Status::InvalidArgument("grant ttl must be between 1 and 604800 seconds");
  }
  const std::int64_t now = clock_.NowSeconds();
  ARBITER_TRY(CaseGrant g, store_.GetGrant(grant_id));
  if (g.StateAt(now) != GrantState::kActive) return InactiveError(g, now);
  if (g.agent != agent.id.ToString()) {
    return TokenFailure(TokenError::kAgentMismatch,
                        "grant " + Quoted(g.id) + " is not held by " + Quoted(agent.id.ToString()));
  }
  Result<bool> extend_result = false;
  {
    ChangeScope scope(changes_);
    extend_result = store_.ExtendGrant(grant_id, now, now + ttl_seconds);
  }
  ARBITER_TRY(bool extended, std::move(extend_result));
  Changed();
  ARBITER_TRY(CaseGrant after, store_.GetGrant(grant_id));
  if (!extended) return InactiveError(after, now);
  return after;
}

Status GrantService::Revoke(std::string_view grant_id, std::string_view reason) {
  ARBITER_TRY(CaseGrant g, store_.GetGrant(grant_id));
  const std::int64_t now = clock_.NowSeconds();
  if (g.StateAt(now) == GrantState::kExpired && g.state == GrantState::kActive) {
    // Record what happened first: it expired; revoking does not rewrite history.
    ChangeScope scope(changes_);
    ARBITER_TRY(bool ended,
                store_.EndGrant(grant_id, GrantState::kExpired, g.expires_at, "ttl elapsed"));
    (void)ended;
    Changed();
    return Status::Ok();
  }
  ChangeScope scope(changes_);
  ARBITER_TRY(bool ended, store_.EndGrant(grant_id, GrantState::kRevoked, now, reason));
  (void)ended;  // already ended: revoking again changes nothing
  Changed();
  return Status::Ok();
}

Result<int> GrantService::RevokeForCase(std::string_view case_id, std::string_view reason) {
  ARBITER_RETURN_IF_ERROR(ValidateCaseId(case_id));
  const std::int64_t now = clock_.NowSeconds();
  ChangeScope scope(changes_);
  ARBITER_RETURN_IF_ERROR(store_.ExpireDueGrants(now).status());
  auto revoked = store_.RevokeGrantsForCase(case_id, now, reason);
  if (!revoked || *revoked > 0) Changed();
  return revoked;
}

// Records only what time already decided: no generation change (a cached grant carries its
// expiry and is not used past it).
Result<int> GrantService::ExpireDue() { return store_.ExpireDueGrants(clock_.NowSeconds()); }

Result<CaseGrant> GrantService::Get(std::string_view grant_id) const {
  ARBITER_TRY(CaseGrant g, store_.GetGrant(grant_id));
  return Normalise(std::move(g));
}

Result<std::vector<CaseGrant>> GrantService::ListByCase(std::string_view case_id) const {
  ARBITER_TRY(auto list, store_.ListGrantsByCase(case_id));
  for (auto& g : list) g = Normalise(std::move(g));
  return list;
}

Result<std::vector<CaseGrant>> GrantService::ListByAgent(const identity::SpiffeId& agent) const {
  ARBITER_TRY(auto list, store_.ListGrantsByAgent(agent.ToString()));
  for (auto& g : list) g = Normalise(std::move(g));
  return list;
}

Result<CaseGrant> GrantService::ActiveGrantFor(std::string_view case_id,
                                               const identity::AgentIdentity& agent) const {
  const std::int64_t now = clock_.NowSeconds();
  ARBITER_TRY(auto list, store_.ListGrantsByCase(case_id));
  const std::string who = agent.id.ToString();
  const CaseGrant* held_by_other = nullptr;
  const CaseGrant* unclaimed = nullptr;
  const CaseGrant* last = nullptr;
  for (const auto& g : list) {
    last = &g;
    if (g.StateAt(now) != GrantState::kActive) continue;
    if (g.agent == who) return g;
    if (g.agent.empty()) {
      unclaimed = &g;
    } else {
      held_by_other = &g;
    }
  }
  if (held_by_other != nullptr) {
    return TokenFailure(TokenError::kAgentMismatch, "case " + Quoted(case_id) +
                                                        " is claimed by another agent instance " +
                                                        Quoted(held_by_other->agent));
  }
  if (unclaimed != nullptr) {
    return TokenFailure(TokenError::kAgentMismatch, "the grant for case " + Quoted(case_id) +
                                                        " has not been claimed by " + Quoted(who));
  }
  if (last != nullptr) return InactiveError(*last, now);
  return TokenFailure(TokenError::kGrantInactive, "case " + Quoted(case_id) + " has no grant");
}

}  // namespace arbiter::grants
