// The identity module's HTTP side: the production Authenticator (people's API tokens and agents'
// JWT-SVIDs), the JWKS, agent attestation and renewal, and the admin endpoints for workloads,
// join tokens, instances and users.
//
//   VerifiedSvidCache svids(SystemClock::Get());
//   IdentityServices ids{registry.get(), users.get(), keys.get(), &svids};
//   auto auth = std::make_shared<IdentityAuthenticator>(ids);
//   ARBITER_RETURN_IF_ERROR(AddIdentityRoutes(router, ids));
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "arbiter/common/clock.h"
#include "arbiter/common/crypto.h"
#include "arbiter/common/status.h"
#include "arbiter/identity/key_ring.h"
#include "arbiter/identity/registry.h"
#include "arbiter/identity/users.h"
#include "arbiter/server/auth.h"
#include "arbiter/server/router.h"

namespace arbiter::server {

// JWT-SVIDs that verified, keyed by the SHA-256 of the token, until their `exp`: an agent sends
// the same SVID with every request, and verifying it (ES256 signature, then the instance and its
// workload in the store) is the most expensive part of authenticating it. Revocation stays exact:
// every revocation goes through this server's admin endpoints, which call Clear() once the store
// has it, and a verification that read the store before that is never cached (generations).
// Thread-safe.
class VerifiedSvidCache {
 public:
  explicit VerifiedSvidCache(const Clock& clock, size_t max_entries = 4096)
      : clock_(clock), max_entries_(max_entries) {}

  // The SPIFFE ID of a cached, unexpired SVID with this digest.
  std::optional<std::string> Find(const Sha256Digest& digest);
  // Read before verifying; Insert is ignored when a Clear() happened since.
  std::uint64_t generation() const;
  void Insert(const Sha256Digest& digest, std::string spiffe_id, std::int64_t expires_at,
              std::uint64_t generation);
  // Forgets every SVID: after an instance or workload is revoked.
  void Clear();

  std::uint64_t hits() const;

 private:
  struct Entry {
    std::string spiffe_id;
    std::int64_t expires_at = 0;
  };
  const Clock& clock_;
  const size_t max_entries_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> by_digest_;
  std::uint64_t generation_ = 0;
  std::uint64_t hits_ = 0;
};

// Borrowed; must outlive the router and authenticator that use them.
struct IdentityServices {
  identity::WorkloadRegistry* registry = nullptr;
  identity::UserDirectory* users = nullptr;
  identity::KeyRing* keys = nullptr;
  // Optional: verified SVIDs (null: every request verifies its SVID).
  VerifiedSvidCache* svids = nullptr;
};

// A bearer credential that looks like a compact JWS (three base64url parts) is verified as a
// JWT-SVID → an agent Principal whose id is the SPIFFE ID; anything else is a person's API token →
// a human Principal with the user's roles. Failures are kUnauthenticated with the identity
// module's reason ("expired: ...", "revoked: ...").
class IdentityAuthenticator final : public Authenticator {
 public:
  explicit IdentityAuthenticator(IdentityServices services) : services_(services) {}
  Result<Principal> Authenticate(const HttpRequest& request) const override;

 private:
  IdentityServices services_;
};

// Registers:
//   GET    /.well-known/jwks.json                          public
//   POST   /v1/attest                                      public (the join token is the
//   credential) POST   /v1/attest/renew                                agent (its current SVID) GET
//   /v1/admin/workloads                             admin POST   /v1/admin/workloads admin → 201
//   with the first join token DELETE /v1/admin/workloads/{id}                        admin POST
//   /v1/admin/join-tokens                           admin GET    /v1/admin/instances[?workload=]
//   admin DELETE /v1/admin/instances/{workload}/{instance}       admin GET    /v1/admin/users admin
//   POST   /v1/admin/users                                 admin → 201 with the user's first token
Status AddIdentityRoutes(Router& router, IdentityServices services);

}  // namespace arbiter::server
