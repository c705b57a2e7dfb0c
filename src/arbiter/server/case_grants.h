// The grants module behind routing's GrantIssuer: durable case grants bound to the claiming agent
// instance, and ES256 intent tokens that introspection checks for signature, expiry, grant state
// and single use.
//
// Routing speaks in Cedar uids (`Agent::"refund-agent-1"`); the grants module needs the agent
// instance (`identity::AgentIdentity`). The server bridges the two:
//   - IssueCaseGrant creates a grant that only instances of the workload may claim; the claim
//     handler then binds it to the calling instance with BindClaim (SPIFFE ID → AgentIdentity
//     through the identity store);
//   - IssueIntentToken looks up the grant's holder and mints for that instance. Routing hands over
//     only the parameters' digest, so the intent handler first records the parameters with
//     RememberParams; the token binds params_sha256 of the real parameters, as the grants module
//     documents, so a tool can check them offline too. The parameters are kept in the server's
//     own table `server_intent_params` of <data>/arbiter.db, so that an intent pending approval
//     can still be approved after a restart; bounded (kMaxRememberedParams*), and deleted when the
//     case leaves the AI (RevokeCase) or its personal data is erased (ForgetCase);
//   - RevokeCase revokes the case's grants, which makes every outstanding intent token inactive.
//
//   ARBITER_TRY(auto grants, CaseGrants::Create({grant_service, intent_service, identity_store,
//                                                &clock}, "tools", std::move(db)));
//   RoutingService routing({..., .grants = grants.get(), ...});
//   // POST /v1/cases/{id}/claim, after routing's Claim:
//   ARBITER_TRY(grants::CaseGrant g, grants.BindClaim(claimed.grant.grant_id, principal.id));
//   // POST /v1/intents/introspect:
//   ARBITER_TRY(grants::IntentClaims c, grants.Introspect(token, {.audience = "tools"}));
//
// Thread-safe.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "arbiter/common/clock.h"
#include "arbiter/common/status.h"
#include "arbiter/grants/grants.h"
#include "arbiter/grants/intent_token.h"
#include "arbiter/identity/identity_store.h"
#include "arbiter/identity/registry.h"
#include "arbiter/routing/grants.h"
#include "arbiter/store/sqlite.h"

namespace arbiter::server {

struct CaseGrantsDeps {
  grants::GrantService* grants = nullptr;
  grants::IntentTokenService* intents = nullptr;
  identity::IdentityStore* identities = nullptr;
  const Clock* clock = nullptr;
};

// Most parameter sets remembered per case, and in all; past either bound the oldest are forgotten
// (an intent whose parameters were forgotten is refused with kFailedPrecondition and may be asked
// again). One parameter set is at most kMaxIntentParamsBytes of canonical JSON.
inline constexpr size_t kMaxRememberedParamsPerCase = 256;
inline constexpr size_t kMaxRememberedParams = 100000;
inline constexpr size_t kMaxIntentParamsBytes = 65536;

class CaseGrants final : public routing::GrantIssuer {
 public:
  // `audience`: the `aud` of intent tokens (the downstream tools), 1-256 printable ascii. `db`:
  // where remembered intent parameters live (the server's tables of <data>/arbiter.db, or an
  // in-memory database in tests); its schema is migrated here (module `server`).
  static Result<std::unique_ptr<CaseGrants>> Create(CaseGrantsDeps deps, std::string audience,
                                                    std::unique_ptr<store::SqliteDb> db);

  // routing::GrantIssuer.
  Result<routing::CaseGrant> IssueCaseGrant(const routing::CaseGrantRequest& request) override;
  Result<std::string> IssueIntentToken(const routing::IntentTokenRequest& request) override;
  Status RevokeCase(std::string_view case_id) override;

  // The verified, unrevoked agent instance behind a SPIFFE ID (instance and workload records).
  // kPermissionDenied when it is unknown or revoked.
  Result<identity::AgentIdentity> ResolveAgent(std::string_view spiffe_id) const;
  // Binds grant `grant_id` to the instance `spiffe_id` (the claim's caller).
  Result<grants::CaseGrant> BindClaim(std::string_view grant_id, std::string_view spiffe_id);
  // The case's active grant held by `spiffe_id`; kPermissionDenied (grant_inactive,
  // agent_mismatch) otherwise.
  Result<grants::CaseGrant> ActiveGrantFor(std::string_view case_id,
                                           std::string_view spiffe_id) const;
  // Records the parameters of an intent the caller is about to ask for (see above).
  // kInvalidArgument when they are over kMaxIntentParamsBytes; kUnavailable when the store fails.
  Status RememberParams(std::string_view case_id, const boost::json::object& params);
  // Forgets every parameter set remembered for the case (its personal data is being erased).
  Status ForgetCase(std::string_view case_id);
  // Case grants active now (neither expired, revoked nor ended), over all cases: a count on the
  // grants module's table (its partial index on active grants), for /metrics.
  Result<std::uint64_t> ActiveGrants() const;
  // Parameter sets remembered, over all cases (tests, metrics).
  Result<std::uint64_t> RememberedParams() const;
  // Introspection (single use): see grants::IntentTokenService::Introspect. An empty
  // expect.audience means this issuer's audience.
  Result<grants::IntentClaims> Introspect(std::string_view token,
                                          grants::IntentExpectations expect);

  const std::string& audience() const { return audience_; }

 private:
  CaseGrants(CaseGrantsDeps deps, std::string audience, std::unique_ptr<store::SqliteDb> db);
  Result<std::optional<boost::json::object>> FindParams(std::string_view case_id,
                                                        std::string_view digest) const;

  CaseGrantsDeps deps_;
  std::string audience_;
  mutable std::mutex mu_;  // guards db_ and next_seq_
  std::unique_ptr<store::SqliteDb> db_;
  std::int64_t next_seq_ = 0;  // insertion order of remembered parameters
};

}  // namespace arbiter::server
