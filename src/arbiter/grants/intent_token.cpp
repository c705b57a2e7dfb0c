#include "arbiter/grants/intent_token.h"

#include <algorithm>

#include "arbiter/common/json.h"
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
  if (options.leeway_seconds < 0 || options.leeway_seconds > 60) {
    return Status::InvalidArgument("intent token leeway must be 0-60 seconds");
  }
  return std::unique_ptr<IntentTokenService>(
      new IntentTokenService(store, grants, keys, clock, random, std::move(options)));
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
  ARBITER_TRY(CaseGrant grant, grants_.ActiveGrantFor(request.case_id, agent));
  const std::int64_t now = clock_.NowSeconds();
  MintedIntent out;
  out.jti = Base64UrlEncode(random_.Generate(16));
  out.params_sha256 = ParamsSha256(request.params);
  out.expires_at = std::min(now + request.ttl_seconds, grant.expires_at);

  boost::json::object claims;
  claims["iss"] = options_.issuer;
  claims["sub"] = agent.id.ToString();
  claims["aud"] = request.audience;
  claims["iat"] = now;
  claims["nbf"] = now;
  claims["exp"] = out.expires_at;
  claims["jti"] = out.jti;
  claims["case_id"] = request.case_id;
  claims["grant_id"] = grant.id;
  claims["action"] = request.action;
  claims["params_sha256"] = out.params_sha256;
  ARBITER_TRY(out.token, keys_.Sign(kIntentTokenType, claims));

  IntentRecord rec;
  rec.jti = out.jti;
  rec.grant_id = grant.id;
  rec.case_id = request.case_id;
  rec.agent = agent.id.ToString();
  rec.audience = request.audience;
  rec.action = request.action;
  rec.params_sha256 = out.params_sha256;
  rec.token_sha256 = HexEncode(Sha256(out.token));
  rec.issued_at = now;
  rec.expires_at = out.expires_at;
  ARBITER_RETURN_IF_ERROR(store_.InsertIntent(rec));
  return out;
}

Result<IntentClaims> IntentTokenService::Introspect(std::string_view token,
                                                    const IntentExpectations& expect) {
  const std::int64_t now = clock_.NowSeconds();
  ARBITER_TRY(identity::DecodedJws jws, identity::DecodeCompactJws(token));
  ARBITER_RETURN_IF_ERROR(identity::CheckJoseHeader(jws.header, kIntentTokenType));
  const auto& kid = jws.header.at("kid").get_string();
  const std::string_view kid_view(kid.data(), kid.size());
  ARBITER_TRY(EcdsaP256PublicKey key, keys_.ResolveKey(kid_view));
  ARBITER_TRY(std::string_view jti, ClaimString(jws.payload, "jti"));
  const std::string digest = HexEncode(Sha256(token));

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
  if (claims) {
    ARBITER_TRY(bool consumed, store_.ConsumeIntent(jti, digest, now));
    if (consumed) return claims;
  }

  // Refused: find out why, authenticity first.
  auto record = store_.GetIntent(jti);
  if (!record && record.error().code() != StatusCode::kNotFound) return record.error();
  const bool recorded =
      record.has_value() && ConstantTimeEqual(AsBytes(record->token_sha256), AsBytes(digest));
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
  if (record->used_at != 0) {
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

Result<int> IntentTokenService::Prune() {
  return store_.DeleteIntentsExpiredBefore(clock_.NowSeconds() - 60);
}

}  // namespace arbiter::grants
