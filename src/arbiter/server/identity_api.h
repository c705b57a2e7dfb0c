// The identity module's HTTP side: the production Authenticator (people's API tokens and agents'
// JWT-SVIDs), the JWKS, agent attestation and renewal, and the admin endpoints for workloads,
// join tokens, instances and users.
//
//   IdentityServices ids{registry.get(), users.get(), keys.get()};
//   auto auth = std::make_shared<IdentityAuthenticator>(ids);
//   ARBITER_RETURN_IF_ERROR(AddIdentityRoutes(router, ids));
#pragma once

#include "arbiter/common/status.h"
#include "arbiter/identity/key_ring.h"
#include "arbiter/identity/registry.h"
#include "arbiter/identity/users.h"
#include "arbiter/server/auth.h"
#include "arbiter/server/router.h"

namespace arbiter::server {

// Borrowed; must outlive the router and authenticator that use them.
struct IdentityServices {
  identity::WorkloadRegistry* registry = nullptr;
  identity::UserDirectory* users = nullptr;
  identity::KeyRing* keys = nullptr;
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
