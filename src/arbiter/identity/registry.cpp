#include "arbiter/identity/registry.h"

#include <boost/json/array.hpp>

#include <algorithm>
#include <array>

#include "arbiter/common/json.h"
#include "arbiter/identity/jwk.h"
#include "arbiter/identity/token_error.h"

namespace arbiter::identity {
namespace {

constexpr std::string_view kJoinTokenPrefix = "arbjt_";
constexpr size_t kMaxIntents = 256;
constexpr std::int64_t kMaxGrantTtlLimit = 7 * 86400;

bool IsIntentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '/' || c == '-';
}

Status ValidateSpec(const WorkloadSpec& spec) {
  if (spec.name.empty() || spec.name.size() > 64 || !ValidateSpiffePathSegment(spec.name).ok()) {
    return Status::InvalidArgument("workload.name: " + Quoted(spec.name) +
                                   " must be 1-64 characters of letters, digits, '.', '-', '_'");
  }
  if (spec.owner.empty() || spec.owner.size() > 256) {
    return Status::InvalidArgument("workload.owner: must name the accountable person or team");
  }
  if (std::find(std::begin(kRiskTiers), std::end(kRiskTiers), spec.risk_tier) ==
      std::end(kRiskTiers)) {
    return Status::InvalidArgument("workload.risk_tier: " + Quoted(spec.risk_tier) +
                                   " is not one of low, medium, high, critical");
  }
  if (spec.intents.empty() || spec.intents.size() > kMaxIntents) {
    return Status::InvalidArgument("workload.intents: expected 1-256 intents");
  }
  for (const auto& intent : spec.intents) {
    if (intent.empty() || intent.size() > 128 ||
        !std::all_of(intent.begin(), intent.end(), IsIntentChar)) {
      return Status::InvalidArgument("workload.intents: " + Quoted(intent) +
                                     " is not a valid intent name");
    }
  }
  if (spec.max_grant_ttl_seconds < 1 || spec.max_grant_ttl_seconds > kMaxGrantTtlLimit) {
    return Status::InvalidArgument("workload.max_grant_ttl_seconds: must be between 1 and 604800");
  }
  return Status::Ok();
}

std::string HashSecret(std::string_view secret) { return HexEncode(Sha256(secret)); }

Status VerifyProof(const EcdsaP256PublicKey& key, std::string_view message,
                   std::string_view proof) {
  auto sig = Base64UrlDecode(proof);
  if (!sig || sig->size() != kEs256SignatureSize) {
    return TokenFailure(TokenError::kBadProof, "proof is not a base64url es256 signature");
  }
  if (!key.Verify(AsBytes(message), *sig).ok()) {
    return TokenFailure(TokenError::kBadProof, "proof does not verify under the agent's key");
  }
  return Status::Ok();
}

}  // namespace

bool AgentIdentity::MayAsk(std::string_view action) const {
  return std::find(intents.begin(), intents.end(), action) != intents.end();
}

std::string AttestationProofMessage(std::string_view join_token) {
  return "arbiter-attest-v1." + std::string(join_token);
}

std::string RenewalProofMessage(std::string_view svid) {
  return "arbiter-renew-v1." + std::string(svid);
}

Result<std::string> SignProof(const EcdsaP256PrivateKey& key, std::string_view message) {
  ARBITER_TRY(Bytes sig, key.Sign(AsBytes(message)));
  return Base64UrlEncode(sig);
}

std::string AgentPublicJwk(const EcdsaP256PrivateKey& key) {
  return ToJson(PublicJwkToJson(PublicJwk{JwkThumbprint(key.PublicKey()), key.PublicKey()}));
}

Result<std::unique_ptr<WorkloadRegistry>> WorkloadRegistry::Create(IdentityStore& store,
                                                                   const KeyRing& keys,
                                                                   const Clock& clock,
                                                                   RandomSource& random,
                                                                   RegistryOptions options) {
  ARBITER_TRY(TrustDomain td, TrustDomain::Parse(options.trust_domain));
  if (options.issuer.empty()) options.issuer = td.IdString();
  if (options.svid_lifetime_seconds < 1 || options.join_token_ttl_seconds < 1 ||
      options.leeway_seconds < 0 || options.svid_audience.empty()) {
    return Status::InvalidArgument("registry options: lifetimes must be positive");
  }
  return std::unique_ptr<WorkloadRegistry>(
      new WorkloadRegistry(store, keys, clock, random, std::move(options), std::move(td)));
}

Result<JoinToken> WorkloadRegistry::NewJoinToken(std::string_view workload) {
  const std::int64_t now = clock_.NowSeconds();
  JoinToken jt;
  jt.token = std::string(kJoinTokenPrefix) + Base64UrlEncode(random_.Generate(32));
  jt.workload = std::string(workload);
  jt.expires_at = now + options_.join_token_ttl_seconds;
  JoinTokenRecord rec;
  rec.token_hash = HashSecret(jt.token);
  rec.workload = jt.workload;
  rec.created_at = now;
  rec.expires_at = jt.expires_at;
  ARBITER_RETURN_IF_ERROR(store_.InsertJoinToken(rec));
  return jt;
}

Result<JoinToken> WorkloadRegistry::RegisterWorkload(const WorkloadSpec& spec,
                                                     std::string_view registered_by) {
  ARBITER_RETURN_IF_ERROR(ValidateSpec(spec));
  WorkloadRecord rec;
  rec.name = spec.name;
  rec.owner = spec.owner;
  rec.risk_tier = spec.risk_tier;
  rec.intents = spec.intents;
  rec.max_grant_ttl_seconds = spec.max_grant_ttl_seconds;
  rec.created_by = std::string(registered_by);
  rec.created_at = clock_.NowSeconds();
  ARBITER_RETURN_IF_ERROR(store_.InsertWorkload(rec));
  return NewJoinToken(spec.name);
}

Result<JoinToken> WorkloadRegistry::IssueJoinToken(std::string_view workload) {
  ARBITER_TRY(WorkloadRecord w, store_.GetWorkload(workload));
  if (w.revoked_at != 0) {
    return Status::FailedPrecondition("workload " + Quoted(workload) + " is revoked");
  }
  return NewJoinToken(workload);
}

Result<WorkloadRecord> WorkloadRegistry::GetWorkload(std::string_view name) const {
  return store_.GetWorkload(name);
}

Result<std::vector<WorkloadRecord>> WorkloadRegistry::ListWorkloads() const {
  return store_.ListWorkloads();
}

Result<std::vector<InstanceRecord>> WorkloadRegistry::ListInstances(
    std::string_view workload) const {
  return store_.ListInstances(workload);
}

Result<AgentCredential> WorkloadRegistry::IssueSvid(const SpiffeId& id) {
  const std::int64_t now = clock_.NowSeconds();
  AgentCredential cred{
      id, {}, Base64UrlEncode(random_.Generate(16)), now + options_.svid_lifetime_seconds};
  boost::json::object claims;
  claims["iss"] = options_.issuer;
  claims["sub"] = id.ToString();
  claims["aud"] = boost::json::array{boost::json::value(options_.svid_audience)};
  claims["iat"] = now;
  claims["exp"] = cred.expires_at;
  claims["jti"] = cred.jti;
  ARBITER_TRY(cred.svid, keys_.Sign("JWT", claims));
  ARBITER_RETURN_IF_ERROR(store_.UpdateInstanceSvid(id.ToString(), cred.jti, cred.expires_at));
  return cred;
}

Result<AgentCredential> WorkloadRegistry::Attest(std::string_view join_token,
                                                 std::string_view public_key_jwk,
                                                 std::string_view proof) {
  if (join_token.size() > 256 || !join_token.starts_with(kJoinTokenPrefix)) {
    return TokenFailure(TokenError::kJoinTokenUnknown, "join token is not an arbiter join token");
  }
  if (public_key_jwk.size() > 4096) {
    return Status::InvalidArgument("public_key: jwk is larger than 4096 bytes");
  }
  JsonLimits limits;
  limits.max_bytes = 4096;
  limits.max_depth = 4;
  ARBITER_TRY(boost::json::value jwk_doc, ParseJson(public_key_jwk, limits));
  auto jwk = PublicJwkFromJson(jwk_doc);
  if (!jwk) return jwk.error().WithContext("public_key");
  ARBITER_RETURN_IF_ERROR(VerifyProof(jwk->key, AttestationProofMessage(join_token), proof));

  const std::string instance = HexEncode(random_.Generate(16));
  // The workload is known only after the token is consumed; build the id from the record.
  const std::int64_t now = clock_.NowSeconds();
  const std::string token_hash = HashSecret(join_token);
  // Consume first with a provisional marker, then bind: the store's check-and-set makes a
  // concurrent second attestation with the same token fail with join_token_used.
  ARBITER_TRY(JoinTokenRecord used, store_.ConsumeJoinToken(token_hash, now, instance));
  ARBITER_TRY(WorkloadRecord w, store_.GetWorkload(used.workload));
  if (w.revoked_at != 0) {
    return TokenFailure(TokenError::kRevoked, "workload " + Quoted(w.name) + " is revoked");
  }
  const std::array<std::string_view, 3> segments = {"agent", w.name, instance};
  ARBITER_TRY(SpiffeId id, SpiffeId::FromSegments(trust_domain_, segments));
  InstanceRecord rec;
  rec.spiffe_id = id.ToString();
  rec.workload = w.name;
  rec.instance_id = instance;
  rec.public_key_jwk = ToJson(PublicJwkToJson(*jwk));
  rec.created_at = now;
  ARBITER_RETURN_IF_ERROR(store_.InsertInstance(rec));
  return IssueSvid(id);
}

Result<AgentCredential> WorkloadRegistry::Renew(std::string_view svid, std::string_view proof) {
  ARBITER_TRY(AgentIdentity agent, VerifySvid(svid));
  ARBITER_TRY(InstanceRecord rec, store_.GetInstance(agent.id.ToString()));
  ARBITER_TRY(boost::json::value jwk_doc, ParseJson(rec.public_key_jwk));
  ARBITER_TRY(PublicJwk jwk, PublicJwkFromJson(jwk_doc));
  ARBITER_RETURN_IF_ERROR(VerifyProof(jwk.key, RenewalProofMessage(svid), proof));
  return IssueSvid(agent.id);
}

Status WorkloadRegistry::RevokeInstance(std::string_view spiffe_id, std::string_view reason) {
  ARBITER_TRY(InstanceRecord rec, store_.GetInstance(spiffe_id));
  if (rec.revoked_at != 0) return Status::Ok();
  return store_.RevokeInstance(spiffe_id, clock_.NowSeconds(), reason);
}

Status WorkloadRegistry::RevokeWorkload(std::string_view name, std::string_view reason) {
  ARBITER_TRY(WorkloadRecord w, store_.GetWorkload(name));
  if (w.revoked_at != 0) return Status::Ok();
  return store_.RevokeWorkload(name, clock_.NowSeconds(), reason);
}

Result<AgentIdentity> WorkloadRegistry::VerifySvid(std::string_view svid,
                                                   std::string_view audience) const {
  JwtExpectations expect;
  expect.issuer = options_.issuer;
  expect.audience = audience.empty() ? std::string_view(options_.svid_audience) : audience;
  expect.now_seconds = clock_.NowSeconds();
  expect.leeway_seconds = options_.leeway_seconds;
  expect.max_lifetime_seconds = options_.svid_lifetime_seconds;
  ARBITER_TRY(VerifiedJwt jwt, VerifyJwt(svid, keys_, expect));
  // JWT-SVID §2: typ, when present, is JWT or JOSE. This also keeps an intent token (typ
  // intent+jwt, same keys) from passing as an SVID.
  if (const auto* typ = jwt.header.if_contains("typ")) {
    if (!typ->is_string() || (typ->get_string() != "JWT" && typ->get_string() != "JOSE")) {
      return TokenFailure(TokenError::kWrongType, "a jwt-svid has typ JWT or JOSE");
    }
  }
  ARBITER_TRY(std::string_view sub, ClaimString(jwt.claims, "sub"));
  auto id = SpiffeId::Parse(sub);
  if (!id) return TokenFailure(TokenError::kMalformed, "sub: " + id.error().message());
  if (!id->MemberOf(trust_domain_)) {
    return TokenFailure(
        TokenError::kWrongTrustDomain,
        "sub " + Quoted(sub) + " is not in trust domain " + Quoted(trust_domain_.name()));
  }
  const auto segments = id->Segments();
  if (segments.size() != 3 || segments[0] != "agent") {
    return TokenFailure(
        TokenError::kMalformed,
        "sub " + Quoted(sub) + " is not an agent id (/agent/<workload>/<instance>)");
  }
  auto inst = store_.GetInstance(sub);
  if (!inst) {
    if (inst.error().code() == StatusCode::kNotFound) {
      return TokenFailure(TokenError::kRevoked, "agent instance " + Quoted(sub) + " is not known");
    }
    return inst.error();
  }
  if (inst->revoked_at != 0) {
    return TokenFailure(TokenError::kRevoked, "agent instance " + Quoted(sub) + " was revoked at " +
                                                  std::to_string(inst->revoked_at) + " (" +
                                                  Quoted(inst->revoke_reason) + ")");
  }
  ARBITER_TRY(WorkloadRecord w, store_.GetWorkload(inst->workload));
  if (w.revoked_at != 0) {
    return TokenFailure(TokenError::kRevoked, "workload " + Quoted(w.name) + " is revoked");
  }
  AgentIdentity agent{std::move(*id),
                      w.name,
                      inst->instance_id,
                      w.owner,
                      w.risk_tier,
                      w.intents,
                      w.max_grant_ttl_seconds,
                      std::string(ClaimString(jwt.claims, "jti").value_or(std::string_view())),
                      ClaimInt(jwt.claims, "exp").value_or(0)};
  return agent;
}

}  // namespace arbiter::identity
