// The agent workload registry: who may run as an AI agent, and the identity of every running
// instance. Start here for agent identity.
//
// An admin registers a workload (name, accountable owner, risk tier, the intents it may ever ask
// for, its maximum grant TTL) and receives a one-time join token with a short TTL. An agent
// instance attests with the join token, its own P-256 public key (a JWK) and a proof that it holds
// the private key; it receives its SPIFFE ID `spiffe://<trust-domain>/agent/<workload>/<instance>`
// and a JWT-SVID (ES256; kid, iss, sub, aud, exp, iat, jti; 5 minutes by default). It renews
// before expiry by presenting its SVID and a fresh proof. Admins revoke one instance or a whole
// workload; a revoked instance's SVIDs stop verifying at once.
//
//   ARBITER_TRY(JoinToken jt, registry->RegisterWorkload(spec, "alice"));
//   // agent side:
//   ARBITER_TRY(auto key, EcdsaP256PrivateKey::Generate());
//   ARBITER_TRY(std::string proof, SignProof(key, AttestationProofMessage(jt.token)));
//   ARBITER_TRY(AgentCredential cred, registry->Attest(jt.token, AgentPublicJwk(key), proof));
//   // server side, on each agent request:
//   ARBITER_TRY(AgentIdentity agent, registry->VerifySvid(cred.svid));
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/clock.h"
#include "arbiter/common/crypto.h"
#include "arbiter/common/status.h"
#include "arbiter/identity/identity_store.h"
#include "arbiter/identity/key_ring.h"
#include "arbiter/identity/spiffe_id.h"

namespace arbiter::identity {

inline constexpr std::string_view kRiskTiers[] = {"low", "medium", "high", "critical"};

struct WorkloadSpec {
  std::string name;       // 1-64 chars of [a-zA-Z0-9._-] (it becomes a SPIFFE path segment)
  std::string owner;      // person or team accountable for its outcomes (non-empty)
  std::string risk_tier;  // one of kRiskTiers
  std::vector<std::string> intents;  // 1-256 action names, each 1-128 chars of [a-zA-Z0-9._:/-]
  std::int64_t max_grant_ttl_seconds = 3600;  // 1 s .. 7 days
};

// A one-time secret; shown once, stored only as a hash.
struct JoinToken {
  std::string token;
  std::string workload;
  std::int64_t expires_at = 0;
};

// What an instance receives at attestation and renewal.
struct AgentCredential {
  SpiffeId id;
  std::string svid;  // compact JWS
  std::string jti;
  std::int64_t expires_at = 0;
};

// A verified agent: the instance and the workload it runs as.
struct AgentIdentity {
  SpiffeId id;
  std::string workload;
  std::string instance;
  std::string owner;
  std::string risk_tier;
  std::vector<std::string> intents;
  std::int64_t max_grant_ttl_seconds = 0;
  std::string svid_jti;
  std::int64_t svid_expires_at = 0;

  // True when `action` is one of the workload's registered intents.
  bool MayAsk(std::string_view action) const;
};

struct RegistryOptions {
  std::string trust_domain = "arbiter.local";
  std::string issuer;                     // `iss` of SVIDs; default "spiffe://<trust domain>"
  std::string svid_audience = "arbiter";  // `aud` of SVIDs Arbiter issues for itself
  std::int64_t svid_lifetime_seconds = 300;
  std::int64_t join_token_ttl_seconds = 600;
  std::int64_t leeway_seconds = 5;
};

class WorkloadRegistry {
 public:
  static Result<std::unique_ptr<WorkloadRegistry>> Create(IdentityStore& store, const KeyRing& keys,
                                                          const Clock& clock, RandomSource& random,
                                                          RegistryOptions options = {});

  Result<JoinToken> RegisterWorkload(const WorkloadSpec& spec, std::string_view registered_by);
  // Another join token for an existing, unrevoked workload (one per instance to start).
  Result<JoinToken> IssueJoinToken(std::string_view workload);
  Result<WorkloadRecord> GetWorkload(std::string_view name) const;
  Result<std::vector<WorkloadRecord>> ListWorkloads() const;
  Result<std::vector<InstanceRecord>> ListInstances(std::string_view workload) const;

  // `public_key_jwk`: the instance's EC P-256 public JWK (JSON). `proof`: SignProof(private key,
  // AttestationProofMessage(join_token)). The join token is consumed only when the proof holds.
  Result<AgentCredential> Attest(std::string_view join_token, std::string_view public_key_jwk,
                                 std::string_view proof);
  // `svid`: the instance's current, unexpired SVID; `proof`: SignProof(private key,
  // RenewalProofMessage(svid)).
  Result<AgentCredential> Renew(std::string_view svid, std::string_view proof);

  Status RevokeInstance(std::string_view spiffe_id, std::string_view reason);
  Status RevokeWorkload(std::string_view name, std::string_view reason);

  // Verifies an SVID presented to `audience` (default: options.svid_audience): signature, claims,
  // trust domain, `/agent/<workload>/<instance>` shape, and that neither instance nor workload is
  // revoked.
  Result<AgentIdentity> VerifySvid(std::string_view svid, std::string_view audience = {}) const;

  const TrustDomain& trust_domain() const { return trust_domain_; }
  const RegistryOptions& options() const { return options_; }

 private:
  WorkloadRegistry(IdentityStore& store, const KeyRing& keys, const Clock& clock,
                   RandomSource& random, RegistryOptions options, TrustDomain td)
      : store_(store),
        keys_(keys),
        clock_(clock),
        random_(random),
        options_(std::move(options)),
        trust_domain_(std::move(td)) {}
  Result<JoinToken> NewJoinToken(std::string_view workload);
  Result<AgentCredential> IssueSvid(const SpiffeId& id);

  IdentityStore& store_;
  const KeyRing& keys_;
  const Clock& clock_;
  RandomSource& random_;
  RegistryOptions options_;
  TrustDomain trust_domain_;
};

// ---- agent side ----

// The messages an instance signs to prove it holds its key.
std::string AttestationProofMessage(std::string_view join_token);
std::string RenewalProofMessage(std::string_view svid);
// ES256 signature of `message`, base64url (r||s).
Result<std::string> SignProof(const EcdsaP256PrivateKey& key, std::string_view message);
// The public JWK (JSON text) of an agent key.
std::string AgentPublicJwk(const EcdsaP256PrivateKey& key);

}  // namespace arbiter::identity
