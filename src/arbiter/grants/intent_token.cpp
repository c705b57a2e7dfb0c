#include "arbiter/grants/intent_token.h"

#include <boost/json/monotonic_resource.hpp>

#include <algorithm>
#include <array>

#include "arbiter/common/json.h"
#include "arbiter/grants/internal/intent_record_writer.h"
#include "arbiter/identity/token_error.h"

namespace arbiter::grants {
namespace {

using identity::ClaimInt;
using identity::ClaimString;
using identity::Quoted;
using identity::TokenError;
using identity::TokenFailure;

bool IsPrintable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

Result<IntentClaims> ClaimsFrom(const boost::json::object& payload) {
  IntentClaims c;
  auto str = [&](std::string_view name, std::string& out) -> Status {
    ARBITER_TRY(std::string_view v, ClaimString(payload, name));
    out = std::string(v);
    return Status::Ok();
  };
  ARBITER_RETURN_IF_ERROR(str("jti", c.jti));
  ARBITER_RETURN_IF_ERROR(str("sub", c.agent));
  ARBITER_RETURN_IF_ERROR(str("aud", c.audience));
  ARBITER_RETURN_IF_ERROR(str("case_id", c.case_id));
  ARBITER_RETURN_IF_ERROR(str("grant_id", c.grant_id));
  ARBITER_RETURN_IF_ERROR(str("action", c.action));
  ARBITER_RETURN_IF_ERROR(str("params_sha256", c.params_sha256));
  ARBITER_TRY(c.issued_at, ClaimInt(payload, "iat"));
  ARBITER_TRY(c.expires_at, ClaimInt(payload, "exp"));
  return c;
}

identity::JwtExpectations Expectations(std::string_view issuer, std::string_view audience,
                                       std::int64_t now, std::int64_t leeway) {
  identity::JwtExpectations e;
  e.typ = kIntentTokenType;
  e.issuer = issuer;
  e.audience = audience;
  e.now_seconds = now;
  e.leeway_seconds = leeway;
  e.max_lifetime_seconds = kMaxIntentTtlSeconds;
  e.require_jti = true;
  return e;
}

// 16 bytes as 32 hex digits: the minting time in microseconds (big-endian, so that hex order is
// time order and the records of recent tokens are neighbours in the store), then 8 random bytes.
std::string NewJti(std::int64_t now_micros, RandomSource& random) {
  std::array<std::uint8_t, 16> bytes;
  const auto t = static_cast<std::uint64_t>(now_micros);
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(t >> (56 - 8 * i));
  random.Fill(std::span<std::uint8_t>(bytes).subspan(8));
  return HexEncode(bytes);
}

Status CheckBinding(const IntentClaims& c, const IntentExpectations& expect) {
  if (!expect.case_id.empty() && c.case_id != expect.case_id) {
    return TokenFailure(TokenError::kCaseMismatch, "token is for case " + Quoted(c.case_id) +
                                                       ", not " + Quoted(expect.case_id));
  }
  if (!expect.action.empty() && c.action != expect.action) {
    return TokenFailure(TokenError::kActionMismatch, "token is for action " + Quoted(c.action) +
                                                         ", not " + Quoted(expect.action));
  }
  std::string expected_hash;
  if (expect.params != nullptr) {
    expected_hash = ParamsSha256(*expect.params);
  } else if (!expect.params_sha256.empty()) {
    expected_hash = std::string(expect.params_sha256);
  }
  if (!expected_hash.empty() &&
      !ConstantTimeEqual(AsBytes(expected_hash), AsBytes(c.params_sha256))) {
    return TokenFailure(TokenError::kParamsMismatch,
                        "token was issued for other parameters (params_sha256 " +
                            Quoted(c.params_sha256) + ", request " + Quoted(expected_hash) + ")");
  }
  return Status::Ok();
}

}  // namespace

std::string ParamsSha256(const boost::json::value& params) {
  return Base64UrlEncode(Sha256(CanonicalJson(params)));
}

boost::json::object IntentClaims::ToJson() const {
  boost::json::object o;
  o["active"] = true;
  o["token_type"] = kIntentTokenType;
  o["jti"] = jti;
  o["sub"] = agent;
  o["aud"] = audience;
  o["case_id"] = case_id;
  o["grant_id"] = grant_id;
  o["action"] = action;
  o["params_sha256"] = params_sha256;
  o["iat"] = issued_at;
  o["exp"] = expires_at;
  return o;
}

boost::json::object InactiveIntrospectionJson(const Status& refusal) {
  boost::json::object o;
  o["active"] = false;
  const auto reason = identity::TokenErrorOf(refusal);
  o["error"] = reason ? identity::TokenErrorName(*reason) : StatusCodeName(refusal.code());
  o["error_description"] = refusal.message();
  return o;
}

Result<IntentClaims> VerifyIntentToken(std::string_view token, const identity::JwsKeyResolver& keys,
                                       std::string_view issuer, std::string_view audience,
                                       std::int64_t now_seconds, std::int64_t leeway_seconds) {
  ARBITER_TRY(identity::VerifiedJwt jwt,
              identity::VerifyJwt(token, keys,
                                  Expectations(issuer, audience, now_seconds, leeway_seconds)));
  return ClaimsFrom(jwt.claims);
}

Result<std::unique_ptr<IntentTokenService>> IntentTokenService::Create(
    GrantStore& store, const GrantService& grants, const identity::KeyRing& keys,
    const Clock& clock, RandomSource& random, IntentTokenOptions options) {
  if (options.issuer.empty()) return Status::InvalidArgument("intent tokens need an issuer");
  if (options.leeway_seconds < 0 ||
      options.leeway_seconds > SingleUseRegistry::kForgetAfterExpirySeconds) {
    return Status::InvalidArgument("intent token leeway must be 0-60 seconds");
  }
  if (options.single_use != nullptr &&
      grants.change_signal() != options.single_use->grant_changes()) {
    return Status::InvalidArgument(
        "intent tokens with " + options.single_use->Describe() +
        " need a GrantService created with its grant-change signal (grant_changes())");
  }
  std::unique_ptr<IntentTokenService> service(
      new IntentTokenService(store, grants, keys, clock, random, std::move(options)));
  if (service->options_.single_use != nullptr && service->options_.defer_records) {
    ARBITER_TRY(service->record_writer_, internal::IntentRecordWriter::Start(store));
  }
  return service;
}

IntentTokenService::IntentTokenService(GrantStore& store, const GrantService& grants,
                                       const identity::KeyRing& keys, const Clock& clock,
                                       RandomSource& random, IntentTokenOptions options)
    : store_(store),
      grants_(grants),
      keys_(keys),
      clock_(clock),
      random_(random),
      options_(std::move(options)) {}

IntentTokenService::~IntentTokenService() = default;

Status IntentTokenService::FlushRecords(std::chrono::milliseconds timeout) {
  if (record_writer_ == nullptr) return Status::Ok();
  return record_writer_->Flush(timeout);
}

std::optional<std::uint64_t> IntentTokenService::GrantStamp() const {
  if (options_.single_use != nullptr) return options_.single_use->grant_changes()->Stamp();
  return grants_.generation();
}

bool IntentTokenService::CachedGrant(const std::string& key, std::int64_t now, GrantRef& out) {
  const std::optional<std::uint64_t> stamp = GrantStamp();
  if (!stamp) return false;
  std::lock_guard lock(cache_mu_);
  auto it = grant_cache_.find(key);
  if (it == grant_cache_.end()) return false;
  if (it->second.generation != *stamp || now >= it->second.expires_at) {
    grant_cache_.erase(it);
    return false;
  }
  out = it->second;
  return true;
}

void IntentTokenService::RememberGrant(const std::string& key, const GrantRef& grant) {
  std::lock_guard lock(cache_mu_);
  if (grant_cache_.size() >= kMaxCachedGrants) grant_cache_.clear();
  grant_cache_.insert_or_assign(key, grant);
}

void IntentTokenService::ForgetGrant(const std::string& key) {
  std::lock_guard lock(cache_mu_);
  grant_cache_.erase(key);
}

Result<MintedIntent> IntentTokenService::Mint(const identity::AgentIdentity& agent,
                                              const IntentRequest& request) {
  if (request.ttl_seconds < 1 || request.ttl_seconds > kMaxIntentTtlSeconds) {
    return Status::InvalidArgument("intent ttl must be between 1 and 120 seconds, got " +
                                   std::to_string(request.ttl_seconds));
  }
  if (request.audience.empty() || request.audience.size() > 256 || !IsPrintable(request.audience)) {
    return Status::InvalidArgument("intent audience " + Quoted(request.audience) +
                                   " must be 1-256 printable ascii characters");
  }
  if (request.action.empty() || request.action.size() > 128) {
    return Status::InvalidArgument("intent action must be 1-128 characters");
  }
  if (!agent.MayAsk(request.action)) {
    return TokenFailure(TokenError::kIntentNotAllowed, "action " + Quoted(request.action) +
                                                           " is not a registered intent of " +
                                                           "workload " + Quoted(agent.workload));
  }
  const std::int64_t now = clock_.NowSeconds();
  IntentRecord rec;
  rec.case_id = request.case_id;
  rec.agent = agent.id.ToString();
  rec.audience = request.audience;
  rec.action = request.action;
  rec.params_sha256 = ParamsSha256(request.params);
  rec.issued_at = now;
  std::string cache_key = rec.case_id;
  cache_key += '\n';
  cache_key += rec.agent;

  // At most two rounds: the second only when the store refused a grant the cache still held.
  for (int round = 0;; ++round) {
    GrantRef grant;
    if (round > 0 || !CachedGrant(cache_key, now, grant)) {
      // Stamped before the read: a change during or after it moves the stamp.
      const std::optional<std::uint64_t> stamp = GrantStamp();
      ARBITER_TRY(CaseGrant g, grants_.ActiveGrantFor(request.case_id, agent));
      grant.id = std::move(g.id);
      grant.expires_at = g.expires_at;
      if (stamp) {
        grant.generation = *stamp;
        RememberGrant(cache_key, grant);
      }
    }
    // Deferred records: refuse before signing when the writer is far behind.
    if (record_writer_ != nullptr) ARBITER_RETURN_IF_ERROR(record_writer_->Reserve());
    rec.jti = NewJti(clock_.NowMicros(), jti_random_);
    rec.grant_id = grant.id;
    rec.expires_at = std::min(now + request.ttl_seconds, grant.expires_at);

    // The claims, serialised directly (as boost::json would, in this order).
    std::string claims;
    claims.reserve(384 + rec.agent.size() + rec.audience.size() + rec.case_id.size() +
                   rec.action.size() + options_.issuer.size());
    const std::string iat = std::to_string(now);
    claims += R"({"iss":)";
    AppendJsonString(options_.issuer, claims);
    claims += R"(,"sub":)";
    AppendJsonString(rec.agent, claims);
    claims += R"(,"aud":)";
    AppendJsonString(rec.audience, claims);
    claims += R"(,"iat":)";
    claims += iat;
    claims += R"(,"nbf":)";
    claims += iat;
    claims += R"(,"exp":)";
    claims += std::to_string(rec.expires_at);
    claims += R"(,"jti":)";
    AppendJsonString(rec.jti, claims);
    claims += R"(,"case_id":)";
    AppendJsonString(rec.case_id, claims);
    claims += R"(,"grant_id":)";
    AppendJsonString(rec.grant_id, claims);
    claims += R"(,"action":)";
    AppendJsonString(rec.action, claims);
    claims += R"(,"params_sha256":)";
    AppendJsonString(rec.params_sha256, claims);
    claims += '}';
    ARBITER_TRY(std::string token, keys_.SignJson(kIntentTokenType, claims));
    rec.token_sha256 = Sha256(token);

    if (record_writer_ != nullptr) {
      // The grant was checked above, against a cache that every grant change (by any process
      // sharing the registry) invalidates, or the store itself. The registry's issued record is
      // what introspection needs; the store's record follows within a few milliseconds.
      ARBITER_RETURN_IF_ERROR(
          options_.single_use->RecordIssued(rec.token_sha256, rec.expires_at, now));
      MintedIntent out;
      out.token = std::move(token);
      out.jti = rec.jti;
      out.params_sha256 = rec.params_sha256;
      out.expires_at = rec.expires_at;
      record_writer_->Enqueue(std::move(rec));
      PruneWhenDue(now);
      return out;
    }
    ARBITER_TRY(bool recorded, store_.InsertIntent(rec, now));
    if (recorded && options_.single_use != nullptr) {
      ARBITER_RETURN_IF_ERROR(
          options_.single_use->RecordIssued(rec.token_sha256, rec.expires_at, now));
    }
    if (recorded) {
      PruneWhenDue(now);
      MintedIntent out;
      out.token = std::move(token);
      out.jti = std::move(rec.jti);
      out.params_sha256 = std::move(rec.params_sha256);
      out.expires_at = rec.expires_at;
      return out;
    }
    // The grant no longer holds (revoked, shortened or expired, perhaps by another process): the
    // signed token is dropped unrecorded, and the grant read again to say why.
    ForgetGrant(cache_key);
    if (round > 0) {
      return TokenFailure(TokenError::kGrantInactive,
                          "the grant for case " + Quoted(rec.case_id) +
                              " changed while a token was minted for it; try again");
    }
  }
}

Result<IntentClaims> IntentTokenService::Introspect(std::string_view token,
                                                    const IntentExpectations& expect) {
  const std::int64_t now = clock_.NowSeconds();
  // The decoded header and payload are only looked at here: they live in a stack arena.
  alignas(std::max_align_t) std::array<unsigned char, 4096> arena_buffer;
  boost::json::monotonic_resource arena(arena_buffer.data(), arena_buffer.size());
  ARBITER_TRY(identity::DecodedJws jws, identity::DecodeCompactJws(token, &arena));
  ARBITER_RETURN_IF_ERROR(identity::CheckJoseHeader(jws.header, kIntentTokenType));
  const auto& kid = jws.header.at("kid").get_string();
  const std::string_view kid_view(kid.data(), kid.size());
  ARBITER_TRY(EcdsaP256PublicKey key, keys_.ResolveKey(kid_view));
  ARBITER_TRY(std::string_view jti, ClaimString(jws.payload, "jti"));
  const Sha256Digest digest = Sha256(token);

  // Claims and binding are checked on the still unauthenticated payload, but a failure is only
  // reported once the token is known to be authentic (below): a forged or tampered token learns
  // nothing but bad_signature or unknown_token.
  Status checked = identity::CheckJwtClaims(
      jws.payload, Expectations(options_.issuer, expect.audience, now, options_.leeway_seconds));
  Result<IntentClaims> claims =
      checked.ok() ? ClaimsFrom(jws.payload) : Result<IntentClaims>(std::move(checked));
  if (claims) {
    if (Status bound = CheckBinding(*claims, expect); !bound.ok()) claims = std::move(bound);
  }
  // The hot path: one conditional UPDATE proves authenticity (the token's SHA-256 equals the one
  // recorded when Arbiter signed it), checks the grant and consumes the jti, durably.
  if (claims && options_.single_use == nullptr) {
    ARBITER_TRY(bool consumed, store_.ConsumeIntent(jti, digest, now));
    if (consumed) return claims;
  } else if (claims) {
    // With a registry: the grant first (from the cache, on the still unauthenticated claims; a
    // refusal is explained below), then the token's digest, recorded as issued at mint, is used
    // with one compare-and-swap. A grant revoked between the two is a revocation concurrent with
    // this use, as with one statement.
    ARBITER_TRY(bool grant_allows, GrantAllowsUse(*claims, now));
    if (grant_allows) {
      ARBITER_TRY(IssuedUse use, options_.single_use->UseIfIssued(digest, claims->expires_at, now));
      if (use == IssuedUse::kFirstUse) return claims;
      if (use == IssuedUse::kAlreadyUsed) {
        return TokenFailure(TokenError::kReplayed, "intent " + Quoted(jti) + " was already used");
      }
      // Not recorded as issued (e.g. minted by a process without the registry): the store says
      // whether it is ours and usable, then the registry records the use.
      ARBITER_TRY(bool usable, store_.IntentUsable(jti, digest, now));
      if (usable) {
        ARBITER_TRY(UseOutcome first, options_.single_use->Use(digest, claims->expires_at, now));
        if (first == UseOutcome::kFirstUse) return claims;
        return TokenFailure(TokenError::kReplayed, "intent " + Quoted(jti) + " was already used");
      }
    }
  }

  // Refused: find out why, authenticity first.
  auto record = store_.GetIntent(jti);
  if (!record && record.error().code() == StatusCode::kNotFound && record_writer_ != nullptr &&
      record_writer_->stats().pending > 0) {
    // Its record may be queued in this process: wait for it (a refusal is the slow path).
    ARBITER_RETURN_IF_ERROR(record_writer_->Flush());
    record = store_.GetIntent(jti);
  }
  if (!record && record.error().code() != StatusCode::kNotFound) return record.error();
  bool recorded = record.has_value() && ConstantTimeEqual(record->token_sha256, digest);
  if (!recorded && options_.single_use != nullptr) {
    // With deferred records the store's record may still be queued, or lost with the process
    // that minted the token: the registry knows every token minted through it (issued or used)
    // until a minute after its expiry.
    if (auto exp = ClaimInt(jws.payload, "exp"); exp) {
      auto known = options_.single_use->Recorded(digest, *exp, now);
      recorded = known.value_or(false);
    }
  }
  if (!recorded) {
    // A real signature check tells a forged signature from a token Arbiter never issued.
    if (jws.signature.size() != kEs256SignatureSize ||
        !key.Verify(AsBytes(jws.signing_input), jws.signature).ok()) {
      return TokenFailure(TokenError::kBadSignature,
                          "signature does not verify under key " + Quoted(kid_view));
    }
    return TokenFailure(TokenError::kUnknownToken,
                        "token " + Quoted(jti) + " was not issued by this arbiter or was pruned");
  }
  if (!claims) return claims.error();
  if (record.has_value() && record->used_at != 0) {
    return TokenFailure(TokenError::kReplayed, "intent " + Quoted(jti) + " was already used at " +
                                                   std::to_string(record->used_at));
  }
  ARBITER_TRY(CaseGrant grant, store_.GetGrant(claims->grant_id));
  if (grant.StateAt(now) != GrantState::kActive) {
    std::string detail = "grant " + Quoted(grant.id) + " for case " + Quoted(grant.case_id) +
                         " is " + std::string(GrantStateName(grant.StateAt(now)));
    if (!grant.end_reason.empty() && grant.state == GrantState::kRevoked) {
      detail += " (" + grant.end_reason + ")";
    }
    return TokenFailure(TokenError::kGrantInactive, detail);
  }
  if (grant.agent != claims->agent || grant.case_id != claims->case_id) {
    return TokenFailure(TokenError::kAgentMismatch, "grant " + Quoted(grant.id) + " is held by " +
                                                        Quoted(grant.agent) + ", not " +
                                                        Quoted(claims->agent));
  }
  // Unused a moment ago and the grant holds: another introspection consumed it in between.
  return TokenFailure(TokenError::kReplayed, "intent " + Quoted(jti) + " was already used");
}

Result<bool> IntentTokenService::GrantAllowsUse(const IntentClaims& c, std::int64_t now) {
  GrantChangeSignal& changes = *options_.single_use->grant_changes();
  auto allows = [&](const CaseGrant& g) {
    return g.state == GrantState::kActive && g.expires_at > now && g.agent == c.agent &&
           g.case_id == c.case_id;
  };
  const std::optional<std::uint64_t> before = changes.Stamp();
  if (before) {
    std::lock_guard lock(introspection_mu_);
    auto it = introspection_grants_.find(c.grant_id);
    if (it != introspection_grants_.end() && it->second.stamp == *before) {
      return allows(it->second.grant);
    }
  }
  auto g = store_.GetGrant(c.grant_id);
  if (!g) {
    if (g.error().code() == StatusCode::kNotFound) return false;
    return g.error();
  }
  const bool result = allows(*g);
  // Kept only if no grant changed (anywhere) while it was read.
  if (before && changes.Stamp() == before) {
    std::lock_guard lock(introspection_mu_);
    if (introspection_grants_.size() >= kMaxIntrospectionGrants) introspection_grants_.clear();
    introspection_grants_.insert_or_assign(c.grant_id, StampedGrant{std::move(*g), *before});
  }
  return result;
}

void IntentTokenService::PruneWhenDue(std::int64_t now) {
  std::int64_t due = next_prune_at_.load(std::memory_order_relaxed);
  if (now < due) return;
  // One minting thread wins the slot; a failed prune is retried at the next interval (the records
  // it would have deleted are expired and refused anyway, so only space is at stake).
  if (!next_prune_at_.compare_exchange_strong(due, now + kPruneIntervalSeconds)) return;
  (void)PruneRecords();  // no flush: a mint never waits for the record writer
}

Result<int> IntentTokenService::Prune() {
  // Deferred records: those still queued are recent, but a clock may have jumped.
  ARBITER_RETURN_IF_ERROR(FlushRecords());
  return PruneRecords();
}

Result<int> IntentTokenService::PruneRecords() {
  // Every token minted before `before - kMaxIntentTtlSeconds` has expired before `before`; the
  // bound is the time prefix of the jtis minted then (NewJti).
  const std::int64_t before = clock_.NowSeconds() - 60;
  const auto t = static_cast<std::uint64_t>((before - kMaxIntentTtlSeconds) * 1'000'000);
  std::array<std::uint8_t, 8> prefix;
  for (int i = 0; i < 8; ++i) prefix[i] = static_cast<std::uint8_t>(t >> (56 - 8 * i));
  return store_.DeleteIntentsBefore(HexEncode(prefix), before);
}

}  // namespace arbiter::grants
