#include "arbiter/server/auth.h"

#include <algorithm>

#include "arbiter/common/bytes.h"
#include "arbiter/common/crypto.h"

namespace arbiter::server {

std::string_view PrincipalKindName(PrincipalKind kind) {
  switch (kind) {
    case PrincipalKind::kAgent: return "agent";
    case PrincipalKind::kHuman: return "human";
  }
  return "unknown";
}

bool Principal::HasRole(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

std::string_view AccessName(Access access) {
  switch (access) {
    case Access::kPublic: return "public";
    case Access::kAuthenticated: return "authenticated";
    case Access::kAgent: return "agent";
    case Access::kHuman: return "human";
    case Access::kAdmin: return "admin";
  }
  return "unknown";
}

Status CheckAccess(Access access, const Principal& principal) {
  switch (access) {
    case Access::kPublic:
    case Access::kAuthenticated: return Status::Ok();
    case Access::kAgent:
      if (principal.kind == PrincipalKind::kAgent) return Status::Ok();
      return Status::PermissionDenied("this endpoint is for agent instances");
    case Access::kHuman:
      if (principal.kind == PrincipalKind::kHuman) return Status::Ok();
      return Status::PermissionDenied("this endpoint is for people, not agents");
    case Access::kAdmin:
      if (principal.IsAdmin()) return Status::Ok();
      return Status::PermissionDenied("this endpoint needs the `admin` role");
  }
  return Status::PermissionDenied("access denied");
}

Result<std::string_view> BearerToken(const HttpRequest& request) {
  auto header = request.Header("authorization");
  if (!header) return Status::Unauthenticated("missing authorization header");
  std::string_view v = *header;
  constexpr std::string_view kScheme = "bearer ";
  if (v.size() < kScheme.size()) {
    return Status::Unauthenticated("authorization: expected `Bearer <token>`");
  }
  for (size_t i = 0; i < kScheme.size(); ++i) {
    char c = v[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kScheme[i]) return Status::Unauthenticated("authorization: expected `Bearer <token>`");
  }
  std::string_view token = v.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return Status::Unauthenticated("authorization: empty bearer token");
  return token;
}

void StaticTokenAuthenticator::AddToken(std::string_view token, Principal principal) {
  by_digest_[HexEncode(Sha256(token))] = std::move(principal);
}

Result<Principal> StaticTokenAuthenticator::Authenticate(const HttpRequest& request) const {
  ARBITER_TRY(std::string_view token, BearerToken(request));
  auto it = by_digest_.find(HexEncode(Sha256(token)));
  if (it == by_digest_.end()) return Status::Unauthenticated("unknown bearer token");
  return it->second;
}

void CompositeAuthenticator::Add(std::shared_ptr<const Authenticator> authenticator) {
  authenticators_.push_back(std::move(authenticator));
}

Result<Principal> CompositeAuthenticator::Authenticate(const HttpRequest& request) const {
  ARBITER_RETURN_IF_ERROR(BearerToken(request));
  Status last = Status::Unauthenticated("unknown bearer token");
  for (const auto& a : authenticators_) {
    auto r = a->Authenticate(request);
    if (r) return r;
    // Prefer a specific reason ("jwt-svid: expired") over the generic one.
    if (r.error().message() != "unknown bearer token") last = r.error();
  }
  return last;
}

}  // namespace arbiter::server
