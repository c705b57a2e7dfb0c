// People: users with roles and API tokens. Tokens are 256-bit random secrets shown once and
// stored only as SHA-256 hashes (a fast hash is right for high-entropy secrets: there is nothing
// to brute-force; slow password hashes are for low-entropy passwords). On first start,
// EnsureBootstrapAdmin creates user `admin` with role `admin` and returns its token, once.
//
//   ARBITER_TRY(auto users, UserDirectory::Create(store, clock, random));
//   ARBITER_TRY(auto first, users->EnsureBootstrapAdmin());
//   if (first) std::cout << "admin token (shown once): " << first->token << "\n";
//   ARBITER_TRY(AuthenticatedUser who, users->Authenticate(bearer_token));
//   if (who.HasRole(kRoleSupervisor)) { ... }
//
// Authenticate is on every request's path, so successful lookups are cached in memory, keyed by
// the token's SHA-256 (the secret itself is never kept). Revoking a token, disabling a user or
// changing its roles through this directory drops the cache at once. A change made by another
// process on the same database (none does today: only `arbiter serve` writes people and tokens) is
// seen within `cache_ttl_seconds`. A token's own expiry is always checked exactly.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "arbiter/common/clock.h"
#include "arbiter/common/crypto.h"
#include "arbiter/common/status.h"
#include "arbiter/identity/identity_store.h"

namespace arbiter::identity {

// The roles Arbiter's policies and API know. Custom roles ([a-z][a-z0-9_]{0,31}) are accepted too,
// for Cedar policies that name them.
inline constexpr std::string_view kRoleAdmin = "admin";
inline constexpr std::string_view kRoleSupervisor = "supervisor";
inline constexpr std::string_view kRoleApprover = "approver";
inline constexpr std::string_view kRoleAgent = "agent";  // a human support agent
inline constexpr std::string_view kRoleAuditor = "auditor";

struct IssuedApiToken {
  std::string id;     // public id, for listing and revocation
  std::string token;  // the secret, shown once: "arb_<id>_<base64url of 32 random bytes>"
  std::string user;
};

struct AuthenticatedUser {
  std::string name;
  std::vector<std::string> roles;
  std::string token_id;
  bool HasRole(std::string_view role) const;
};

struct UserDirectoryOptions {
  // How long a successful Authenticate may be answered from memory without reading the store. 0
  // turns the cache off. Bounds how late a revocation by another process is seen.
  std::int64_t cache_ttl_seconds = 5;
  // Most cached tokens; when full the cache starts over (tokens are few: one per person or tool).
  size_t cache_max_entries = 4096;
};

class UserDirectory {
 public:
  static Result<std::unique_ptr<UserDirectory>> Create(IdentityStore& store, const Clock& clock,
                                                       RandomSource& random,
                                                       UserDirectoryOptions options = {});

  // When no user exists: creates `name` with role admin and returns its first token. Otherwise
  // nullopt (the token was shown when it was created and cannot be shown again).
  Result<std::optional<IssuedApiToken>> EnsureBootstrapAdmin(std::string_view name = "admin");

  // Names are 1-64 chars of [a-zA-Z0-9._@-]; at least one role.
  Result<UserRecord> CreateUser(std::string_view name, std::vector<std::string> roles);
  Result<UserRecord> GetUser(std::string_view name) const;
  Result<std::vector<UserRecord>> ListUsers() const;
  Status SetRoles(std::string_view name, std::vector<std::string> roles);
  Status DisableUser(std::string_view name);

  // ttl_seconds 0: no expiry.
  Result<IssuedApiToken> IssueApiToken(std::string_view user, std::string_view label,
                                       std::int64_t ttl_seconds = 0);
  Status RevokeApiToken(std::string_view token_id);
  Result<std::vector<ApiTokenRecord>> ListApiTokens(std::string_view user) const;

  // kUnauthenticated for an unknown, revoked or expired token or a disabled user. Thread-safe.
  Result<AuthenticatedUser> Authenticate(std::string_view token) const;

  // Successful authentications answered from the cache / from the store (tests, metrics).
  std::uint64_t cache_hits() const;
  std::uint64_t cache_misses() const;

 private:
  struct CachedToken {
    AuthenticatedUser user;
    std::int64_t token_expires_at = 0;  // 0: never
    std::int64_t cached_at = 0;
  };

  UserDirectory(IdentityStore& store, const Clock& clock, RandomSource& random,
                UserDirectoryOptions options)
      : store_(store), clock_(clock), random_(random), options_(options) {}
  IssuedApiToken NewToken(std::string_view user, ApiTokenRecord& rec, std::string_view label,
                          std::int64_t ttl_seconds);
  Result<AuthenticatedUser> AuthenticateFromStore(const std::string& hash,
                                                  std::int64_t* token_expires_at) const;
  // Drops every cached token; a lookup that started before stays out of the cache.
  void InvalidateCache();

  IdentityStore& store_;
  const Clock& clock_;
  RandomSource& random_;
  UserDirectoryOptions options_;

  mutable std::mutex cache_mu_;
  // Key: the token's raw SHA-256 digest.
  mutable std::unordered_map<std::string, CachedToken> cache_;
  mutable std::uint64_t generation_ = 0;  // bumped by InvalidateCache
  mutable std::uint64_t hits_ = 0;
  mutable std::uint64_t misses_ = 0;
};

}  // namespace arbiter::identity
