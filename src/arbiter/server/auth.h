// Who is calling: the authentication hook of the HTTP API.
//
// Every request that is not public carries `Authorization: Bearer <credential>`. People and admins
// present an opaque bearer token; AI agent instances present a JWT-SVID. The server hands the whole
// request to an Authenticator, which returns the Principal or an kUnauthenticated error (→ 401).
// The route's Access rule then decides whether that principal may call it at all (→ 403); finer,
// per-case decisions are Cedar's, in the handlers.
//
//   StaticTokenAuthenticator auth;
//   auth.AddToken("s3cret", Principal{PrincipalKind::kHuman, "admin", {"admin"}});
//   Result<Principal> who = auth.Authenticate(request);
//
// The identity module provides the production JWT-SVID authenticator; CompositeAuthenticator
// combines it with token authenticators.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/status.h"
#include "arbiter/server/http.h"

namespace arbiter::server {

enum class PrincipalKind : std::uint8_t {
  kAgent,  // an AI agent instance, identified by its SPIFFE ID
  kHuman,  // a person: support agent, supervisor or admin
};

std::string_view PrincipalKindName(PrincipalKind kind);

struct Principal {
  PrincipalKind kind = PrincipalKind::kHuman;
  std::string id;                  // SPIFFE ID for agents, user id for people
  std::vector<std::string> roles;  // e.g. "admin", "supervisor"

  bool HasRole(std::string_view role) const;
  bool IsAdmin() const { return kind == PrincipalKind::kHuman && HasRole("admin"); }
};

// Which callers a route admits before its handler runs.
enum class Access : std::uint8_t {
  kPublic,         // no credential needed (health, metrics, JWKS, ledger reads)
  kAuthenticated,  // any valid principal
  kAgent,          // agent instances only
  kHuman,          // people only (any role)
  kAdmin,          // people with the "admin" role
};

std::string_view AccessName(Access access);

// OK when `principal` may call a route with this access rule, else kPermissionDenied naming the
// requirement.
Status CheckAccess(Access access, const Principal& principal);

// The credential of an "Authorization: Bearer <token>" header. Missing header, another scheme or
// an empty token is kUnauthenticated.
Result<std::string_view> BearerToken(const HttpRequest& request);

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // The caller of `request`, or kUnauthenticated (missing, malformed, unknown or expired
  // credential). Must be thread-safe: requests are authenticated concurrently.
  virtual Result<Principal> Authenticate(const HttpRequest& request) const = 0;
};

// Opaque bearer tokens, each mapped to a principal. Only SHA-256 digests of the tokens are kept.
// Used for the bootstrap admin credential and in tests. Not thread-safe while tokens are being
// added; add them all before serving.
class StaticTokenAuthenticator final : public Authenticator {
 public:
  void AddToken(std::string_view token, Principal principal);
  Result<Principal> Authenticate(const HttpRequest& request) const override;

 private:
  std::map<std::string, Principal, std::less<>> by_digest_;  // hex SHA-256 of the token
};

// Tries each authenticator in order and returns the first success. When all fail, returns the
// error of the last one that recognised the credential's format (a JWT-SVID that failed
// verification says why), or a generic kUnauthenticated.
class CompositeAuthenticator final : public Authenticator {
 public:
  void Add(std::shared_ptr<const Authenticator> authenticator);
  Result<Principal> Authenticate(const HttpRequest& request) const override;

 private:
  std::vector<std::shared_ptr<const Authenticator>> authenticators_;
};

}  // namespace arbiter::server
