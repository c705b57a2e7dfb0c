// Case grants: just-in-time, case-scoped leases that let one AI agent instance work on one case.
// Start here for the grants module (intent tokens are in intent_token.h).
//
// The routing layer creates a grant when it routes a case to AI; an agent instance claims it and
// from then on the grant is bound to that instance. A grant has a TTL (extendable) and a maximum
// TTL (never exceeded; also capped by the workload's max grant TTL at claim time). States: active,
// expired, revoked; closing the case revokes its grants; a revoked or expired grant is never
// revived.
//
//   ARBITER_TRY(auto grants, GrantService::Create(store, clock, random));
//   ARBITER_TRY(CaseGrant g, grants->CreateForCase({.case_id = "c-1", .ttl_seconds = 900}));
//   ARBITER_TRY(g, grants->Claim(g.id, agent));              // agent: identity::AgentIdentity
//   ...
//   ARBITER_RETURN_IF_ERROR(grants->RevokeForCase("c-1", "case closed"));
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/clock.h"
#include "arbiter/common/crypto.h"
#include "arbiter/common/status.h"
#include "arbiter/grants/grant_store.h"
#include "arbiter/grants/single_use_registry.h"
#include "arbiter/identity/registry.h"

namespace arbiter::grants {

struct GrantSpec {
  std::string case_id;   // 1-256 bytes, printable ASCII
  std::string workload;  // optional: only instances of this workload may claim
  std::int64_t ttl_seconds = 900;
  std::int64_t max_ttl_seconds = 4 * 3600;  // >= ttl_seconds, at most 7 days
};

class GrantService {
 public:
  // `changes`: when set (the single-use registry's grant_changes()), every change this service
  // makes to the store is bracketed by it, so that other processes' caches of grant state drop
  // (IntentTokenService's introspection cache needs it). It must outlive the service.
  static Result<std::unique_ptr<GrantService>> Create(GrantStore& store, const Clock& clock,
                                                      RandomSource& random,
                                                      GrantChangeSignal* changes = nullptr);

  Result<CaseGrant> CreateForCase(const GrantSpec& spec);
  // Binds the grant to `agent`. Claiming again by the same instance is a no-op; by another
  // instance it is agent_mismatch; an expired or revoked grant is grant_inactive.
  Result<CaseGrant> Claim(std::string_view grant_id, const identity::AgentIdentity& agent);
  // Moves the expiry to now + ttl_seconds, never past the grant's maximum. Only its holder may.
  Result<CaseGrant> Extend(std::string_view grant_id, const identity::AgentIdentity& agent,
                           std::int64_t ttl_seconds);
  Status Revoke(std::string_view grant_id, std::string_view reason);
  // Revokes every active grant of the case (call it when the case closes); returns how many.
  Result<int> RevokeForCase(std::string_view case_id, std::string_view reason = "case closed");
  // Records the expiry of grants whose TTL elapsed; returns how many.
  Result<int> ExpireDue();

  // Grants as they are at the current time (state computed with StateAt).
  Result<CaseGrant> Get(std::string_view grant_id) const;
  Result<std::vector<CaseGrant>> ListByCase(std::string_view case_id) const;
  Result<std::vector<CaseGrant>> ListByAgent(const identity::SpiffeId& agent) const;

  // The active grant of `case_id` held by `agent`, or: grant_inactive when the case has no
  // active grant, agent_mismatch when another instance holds it or it is unclaimed.
  Result<CaseGrant> ActiveGrantFor(std::string_view case_id,
                                   const identity::AgentIdentity& agent) const;

  // Changes with every state change this service makes (claim, extend, revoke, expire), after
  // the store has it: a cache of grant lookups filled at generation n is stale once this is no
  // longer n. Changes made by other processes do not move it; caches must not be the authority.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  GrantChangeSignal* change_signal() const { return changes_; }

 private:
  GrantService(GrantStore& store, const Clock& clock, RandomSource& random,
               GrantChangeSignal* changes)
      : store_(store), clock_(clock), random_(random), changes_(changes) {}
  // Brackets one change of the store with the shared signal, if any.
  class ChangeScope {
   public:
    explicit ChangeScope(GrantChangeSignal* s) : s_(s) {
      if (s_ != nullptr) s_->BeginChange();
    }
    ~ChangeScope() {
      if (s_ != nullptr) s_->EndChange();
    }
    ChangeScope(const ChangeScope&) = delete;
    ChangeScope& operator=(const ChangeScope&) = delete;

   private:
    GrantChangeSignal* s_;
  };
  CaseGrant Normalise(CaseGrant g) const;
  void Changed() { generation_.fetch_add(1, std::memory_order_acq_rel); }

  GrantStore& store_;
  const Clock& clock_;
  RandomSource& random_;
  GrantChangeSignal* changes_;
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace arbiter::grants
