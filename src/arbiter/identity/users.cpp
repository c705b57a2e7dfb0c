#include "arbiter/identity/users.h"

#include <algorithm>

#include "arbiter/identity/token_error.h"

namespace arbiter::identity {
namespace {

constexpr std::string_view kTokenPrefix = "arb_";

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '@' || c == '-';
}

Status ValidateName(std::string_view name) {
  if (name.empty() || name.size() > 64 || !std::all_of(name.begin(), name.end(), IsNameChar)) {
    return Status::InvalidArgument(
        "user name " + Quoted(name) +
        " must be 1-64 characters of letters, digits, '.', '_', '@', '-'");
  }
  return Status::Ok();
}

Status ValidateRoles(std::vector<std::string>& roles) {
  if (roles.empty()) return Status::InvalidArgument("user roles: at least one role is required");
  for (const auto& r : roles) {
    const bool ok = !r.empty() && r.size() <= 32 && r[0] >= 'a' && r[0] <= 'z' &&
                    std::all_of(r.begin(), r.end(), [](char c) {
                      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                    });
    if (!ok) {
      return Status::InvalidArgument("user role " + Quoted(r) + " must match [a-z][a-z0-9_]{0,31}");
    }
  }
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  return Status::Ok();
}

std::string HashToken(std::string_view token) { return HexEncode(Sha256(token)); }

}  // namespace

bool AuthenticatedUser::HasRole(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

Result<std::unique_ptr<UserDirectory>> UserDirectory::Create(IdentityStore& store,
                                                             const Clock& clock,
                                                             RandomSource& random,
                                                             UserDirectoryOptions options) {
  if (options.cache_ttl_seconds < 0) {
    return Status::InvalidArgument("user directory: cache ttl must not be negative");
  }
  return std::unique_ptr<UserDirectory>(new UserDirectory(store, clock, random, options));
}

void UserDirectory::InvalidateCache() {
  std::lock_guard lock(cache_mu_);
  ++generation_;
  cache_.clear();
}

std::uint64_t UserDirectory::cache_hits() const {
  std::lock_guard lock(cache_mu_);
  return hits_;
}

std::uint64_t UserDirectory::cache_misses() const {
  std::lock_guard lock(cache_mu_);
  return misses_;
}

IssuedApiToken UserDirectory::NewToken(std::string_view user, ApiTokenRecord& rec,
                                       std::string_view label, std::int64_t ttl_seconds) {
  const std::int64_t now = clock_.NowSeconds();
  IssuedApiToken t;
  t.id = HexEncode(random_.Generate(8));
  t.token = std::string(kTokenPrefix) + t.id + "_" + Base64UrlEncode(random_.Generate(32));
  t.user = std::string(user);
  rec.id = t.id;
  rec.token_hash = HashToken(t.token);
  rec.user = t.user;
  rec.label = std::string(label);
  rec.created_at = now;
  rec.expires_at = ttl_seconds > 0 ? now + ttl_seconds : 0;
  return t;
}

Result<std::optional<IssuedApiToken>> UserDirectory::EnsureBootstrapAdmin(std::string_view name) {
  ARBITER_RETURN_IF_ERROR(ValidateName(name));
  UserRecord user{std::string(name), {std::string(kRoleAdmin)}, clock_.NowSeconds(), false};
  ApiTokenRecord rec;
  IssuedApiToken token = NewToken(name, rec, "bootstrap", 0);
  ARBITER_TRY(bool inserted, store_.InsertFirstUser(user, rec));
  if (!inserted) return std::optional<IssuedApiToken>();
  return std::optional<IssuedApiToken>(std::move(token));
}

Result<UserRecord> UserDirectory::CreateUser(std::string_view name,
                                             std::vector<std::string> roles) {
  ARBITER_RETURN_IF_ERROR(ValidateName(name));
  ARBITER_RETURN_IF_ERROR(ValidateRoles(roles));
  UserRecord u{std::string(name), std::move(roles), clock_.NowSeconds(), false};
  ARBITER_RETURN_IF_ERROR(store_.InsertUser(u));
  return u;
}

Result<UserRecord> UserDirectory::GetUser(std::string_view name) const {
  return store_.GetUser(name);
}

Result<std::vector<UserRecord>> UserDirectory::ListUsers() const { return store_.ListUsers(); }

Status UserDirectory::SetRoles(std::string_view name, std::vector<std::string> roles) {
  ARBITER_RETURN_IF_ERROR(ValidateRoles(roles));
  ARBITER_TRY(UserRecord u, store_.GetUser(name));
  u.roles = std::move(roles);
  Status s = store_.UpdateUser(u);
  InvalidateCache();
  return s;
}

Status UserDirectory::DisableUser(std::string_view name) {
  ARBITER_TRY(UserRecord u, store_.GetUser(name));
  u.disabled = true;
  Status s = store_.UpdateUser(u);
  InvalidateCache();
  return s;
}

Result<IssuedApiToken> UserDirectory::IssueApiToken(std::string_view user, std::string_view label,
                                                    std::int64_t ttl_seconds) {
  if (ttl_seconds < 0) return Status::InvalidArgument("api token ttl must not be negative");
  if (label.size() > 128) return Status::InvalidArgument("api token label is over 128 bytes");
  ARBITER_TRY(UserRecord u, store_.GetUser(user));
  if (u.disabled) return Status::FailedPrecondition("user " + Quoted(user) + " is disabled");
  ApiTokenRecord rec;
  IssuedApiToken t = NewToken(user, rec, label, ttl_seconds);
  ARBITER_RETURN_IF_ERROR(store_.InsertApiToken(rec));
  return t;
}

Status UserDirectory::RevokeApiToken(std::string_view token_id) {
  Status s = store_.RevokeApiToken(token_id, clock_.NowSeconds());
  InvalidateCache();
  return s;
}

Result<std::vector<ApiTokenRecord>> UserDirectory::ListApiTokens(std::string_view user) const {
  return store_.ListApiTokens(user);
}

Result<AuthenticatedUser> UserDirectory::Authenticate(std::string_view token) const {
  if (token.size() > 256 || !token.starts_with(kTokenPrefix)) {
    return Status::Unauthenticated("api token is not an arbiter token");
  }
  const Sha256Digest digest = Sha256(token);
  std::string key(reinterpret_cast<const char*>(digest.data()), digest.size());
  const std::int64_t now = clock_.NowSeconds();
  std::uint64_t generation = 0;
  {
    std::lock_guard lock(cache_mu_);
    generation = generation_;
    if (options_.cache_ttl_seconds > 0) {
      auto it = cache_.find(key);
      if (it != cache_.end()) {
        const CachedToken& c = it->second;
        const bool fresh = now < c.cached_at + options_.cache_ttl_seconds && now >= c.cached_at;
        const bool expired = c.token_expires_at != 0 && now >= c.token_expires_at;
        if (fresh && !expired) {
          ++hits_;
          return c.user;
        }
        cache_.erase(it);  // stale, or expired (the store says which, below)
      }
    }
  }
  std::int64_t token_expires_at = 0;
  ARBITER_TRY(AuthenticatedUser user, AuthenticateFromStore(HexEncode(digest), &token_expires_at));
  std::lock_guard lock(cache_mu_);
  ++misses_;
  // A revocation that ran while the store was read bumped the generation: do not cache what it
  // may have revoked.
  if (options_.cache_ttl_seconds > 0 && generation == generation_) {
    if (cache_.size() >= options_.cache_max_entries) cache_.clear();
    cache_[std::move(key)] = CachedToken{user, token_expires_at, now};
  }
  return user;
}

Result<AuthenticatedUser> UserDirectory::AuthenticateFromStore(
    const std::string& hash, std::int64_t* token_expires_at) const {
  auto rec = store_.FindApiTokenByHash(hash);
  if (!rec) {
    if (rec.error().code() == StatusCode::kNotFound) {
      return Status::Unauthenticated("api token is not known");
    }
    return rec.error();
  }
  // The lookup is by hash; compare again in constant time so that no index timing matters.
  if (!ConstantTimeEqual(AsBytes(rec->token_hash), AsBytes(hash))) {
    return Status::Unauthenticated("api token is not known");
  }
  if (rec->revoked_at != 0) {
    return Status::Unauthenticated("api token " + Quoted(rec->id) + " was revoked");
  }
  if (rec->expires_at != 0 && clock_.NowSeconds() >= rec->expires_at) {
    return Status::Unauthenticated("api token " + Quoted(rec->id) + " expired");
  }
  ARBITER_TRY(UserRecord u, store_.GetUser(rec->user));
  if (u.disabled) return Status::Unauthenticated("user " + Quoted(u.name) + " is disabled");
  *token_expires_at = rec->expires_at;
  return AuthenticatedUser{u.name, u.roles, rec->id};
}

}  // namespace arbiter::identity
