// The agent workload registry: registration, join-token attestation, JWT-SVIDs, renewal,
// revocation, and the identity rows of the attack matrix (reused join token, revoked instance).
#include "arbiter/identity/registry.h"

#include <gtest/gtest.h>

#include "arbiter/common/json.h"
#include "arbiter/identity/token_error.h"
#include "identity/test_env.h"

namespace arbiter::identity {
namespace {

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::NewMemoryIdentityStore();
    auto ring = KeyRing::Create(*store_, clock_);
    ASSERT_TRUE(ring);
    ring_ = std::move(*ring);
    RegistryOptions options;
    options.trust_domain = "example.org";
    auto reg = WorkloadRegistry::Create(*store_, *ring_, clock_, random_, options);
    ASSERT_TRUE(reg) << reg.error().ToString();
    registry_ = std::move(*reg);
  }

  WorkloadSpec Spec(std::string name = "refund-bot") {
    return {.name = std::move(name),
            .owner = "payments-team",
            .risk_tier = "high",
            .intents = {"refund.issue", "case.comment"},
            .max_grant_ttl_seconds = 1800};
  }

  struct Agent {
    EcdsaP256PrivateKey key;
    AgentCredential cred;
  };

  Result<Agent> Attest(const std::string& join_token) {
    ARBITER_TRY(auto key, EcdsaP256PrivateKey::Generate());
    ARBITER_TRY(std::string proof, SignProof(key, AttestationProofMessage(join_token)));
    ARBITER_TRY(AgentCredential cred, registry_->Attest(join_token, AgentPublicJwk(key), proof));
    return Agent{std::move(key), std::move(cred)};
  }

  static std::optional<TokenError> ReasonOf(const Status& s) { return TokenErrorOf(s); }

  FakeClock clock_;
  SecureRandom random_;
  std::unique_ptr<IdentityStore> store_;
  std::unique_ptr<KeyRing> ring_;
  std::unique_ptr<WorkloadRegistry> registry_;
};

TEST_F(RegistryTest, AttestIssuesSpiffeIdAndJwtSvid) {
  auto jt = registry_->RegisterWorkload(Spec(), "alice");
  ASSERT_TRUE(jt) << jt.error().ToString();
  EXPECT_EQ(jt->expires_at, clock_.NowSeconds() + 600);
  auto agent = Attest(jt->token);
  ASSERT_TRUE(agent) << agent.error().ToString();
  const auto segs = agent->cred.id.Segments();
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_EQ(segs[0], "agent");
  EXPECT_EQ(segs[1], "refund-bot");
  EXPECT_EQ(agent->cred.id.trust_domain().name(), "example.org");
  // The SVID: ES256, kid, typ JWT; sub, aud, exp (5 min), iat, jti, iss.
  auto header = ParseJson(testing::Header(agent->cred.svid));
  ASSERT_TRUE(header);
  EXPECT_EQ(header->at("alg").as_string(), "ES256");
  EXPECT_EQ(header->at("kid").as_string(), ring_->ActiveKid());
  auto claims = ParseJson(testing::Payload(agent->cred.svid));
  ASSERT_TRUE(claims);
  EXPECT_EQ(claims->at("sub").as_string(), agent->cred.id.ToString());
  EXPECT_EQ(claims->at("aud").as_array().at(0).as_string(), "arbiter");
  EXPECT_EQ(claims->at("exp").as_int64() - claims->at("iat").as_int64(), 300);
  EXPECT_EQ(claims->at("jti").as_string(), agent->cred.jti);
  EXPECT_EQ(claims->at("iss").as_string(), "spiffe://example.org");

  auto who = registry_->VerifySvid(agent->cred.svid);
  ASSERT_TRUE(who) << who.error().ToString();
  EXPECT_EQ(who->id, agent->cred.id);
  EXPECT_EQ(who->workload, "refund-bot");
  EXPECT_EQ(who->owner, "payments-team");
  EXPECT_EQ(who->risk_tier, "high");
  EXPECT_TRUE(who->MayAsk("refund.issue"));
  EXPECT_FALSE(who->MayAsk("account.delete"));
  EXPECT_EQ(who->max_grant_ttl_seconds, 1800);
}

TEST_F(RegistryTest, JoinTokensAreOneTimeAndShortLived) {
  auto jt = registry_->RegisterWorkload(Spec(), "alice");
  ASSERT_TRUE(jt);
  ASSERT_TRUE(Attest(jt->token));
  auto again = Attest(jt->token);
  ASSERT_FALSE(again);
  EXPECT_EQ(ReasonOf(again.error()), TokenError::kJoinTokenUsed) << again.error().ToString();
  EXPECT_EQ(again.error().code(), StatusCode::kUnauthenticated);

  auto jt2 = registry_->IssueJoinToken("refund-bot");
  ASSERT_TRUE(jt2);
  clock_.AdvanceSeconds(600);
  auto late = Attest(jt2->token);
  ASSERT_FALSE(late);
  EXPECT_EQ(ReasonOf(late.error()), TokenError::kJoinTokenExpired);

  auto unknown = Attest("arbjt_" + std::string(43, 'A'));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(ReasonOf(unknown.error()), TokenError::kJoinTokenUnknown);
  auto garbage = Attest("hello");
  ASSERT_FALSE(garbage);
  EXPECT_EQ(ReasonOf(garbage.error()), TokenError::kJoinTokenUnknown);
}

TEST_F(RegistryTest, AttestationNeedsProofOfTheKey) {
  auto jt = registry_->RegisterWorkload(Spec(), "alice");
  ASSERT_TRUE(jt);
  auto key = EcdsaP256PrivateKey::Generate();
  auto other = EcdsaP256PrivateKey::Generate();
  ASSERT_TRUE(key && other);
  // Signed by another key than the one presented.
  auto proof = SignProof(*other, AttestationProofMessage(jt->token));
  auto r = registry_->Attest(jt->token, AgentPublicJwk(*key), *proof);
  ASSERT_FALSE(r);
  EXPECT_EQ(ReasonOf(r.error()), TokenError::kBadProof);
  // A failed proof does not burn the token.
  proof = SignProof(*key, AttestationProofMessage(jt->token));
  EXPECT_TRUE(registry_->Attest(jt->token, AgentPublicJwk(*key), *proof));
  // Bad JWKs are errors, not crashes.
  auto jt2 = registry_->IssueJoinToken("refund-bot");
  EXPECT_FALSE(registry_->Attest(jt2->token, "{", *proof));
  EXPECT_FALSE(registry_->Attest(jt2->token, R"({"kty":"RSA"})", *proof));
}

TEST_F(RegistryTest, RevokedInstanceSvidIsRefused) {
  auto jt = registry_->RegisterWorkload(Spec(), "alice");
  auto a = Attest(jt->token);
  auto jt2 = registry_->IssueJoinToken("refund-bot");
  auto b = Attest(jt2->token);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(registry_->RevokeInstance(a->cred.id.ToString(), "compromised").ok());
  auto v = registry_->VerifySvid(a->cred.svid);
  ASSERT_FALSE(v);
  EXPECT_EQ(ReasonOf(v.error()), TokenError::kRevoked);
  EXPECT_NE(v.error().message().find("compromised"), std::string::npos);
  // The other instance is unaffected.
  EXPECT_TRUE(registry_->VerifySvid(b->cred.svid));
  // A revoked instance cannot renew either.
  auto proof = SignProof(a->key, RenewalProofMessage(a->cred.svid));
  auto renewed = registry_->Renew(a->cred.svid, *proof);
  ASSERT_FALSE(renewed);
  EXPECT_EQ(ReasonOf(renewed.error()), TokenError::kRevoked);
}

TEST_F(RegistryTest, RevokingAWorkloadRevokesItsInstancesAndJoinTokens) {
  auto jt = registry_->RegisterWorkload(Spec(), "alice");
  auto a = Attest(jt->token);
  ASSERT_TRUE(a);
  auto pending = registry_->IssueJoinToken("refund-bot");
  ASSERT_TRUE(pending);
  ASSERT_TRUE(registry_->RevokeWorkload("refund-bot", "retired").ok());
  auto v = registry_->VerifySvid(a->cred.svid);
  ASSERT_FALSE(v);
  EXPECT_EQ(ReasonOf(v.error()), TokenError::kRevoked);
  auto late = Attest(pending->token);
  ASSERT_FALSE(late);
  EXPECT_EQ(ReasonOf(late.error()), TokenError::kJoinTokenExpired);
  EXPECT_EQ(registry_->IssueJoinToken("refund-bot").error().code(),
            StatusCode::kFailedPrecondition);
  auto instances = registry_->ListInstances("refund-bot");
  ASSERT_TRUE(instances);
  ASSERT_EQ(instances->size(), 1u);
  EXPECT_NE((*instances)[0].revoked_at, 0);
}

TEST_F(RegistryTest, RenewalBeforeExpiryWithProof) {
  auto jt = registry_->RegisterWorkload(Spec(), "alice");
  auto a = Attest(jt->token);
  ASSERT_TRUE(a);
  clock_.AdvanceSeconds(240);
  auto proof = SignProof(a->key, RenewalProofMessage(a->cred.svid));
  auto renewed = registry_->Renew(a->cred.svid, *proof);
  ASSERT_TRUE(renewed) << renewed.error().ToString();
  EXPECT_EQ(renewed->id, a->cred.id);
  EXPECT_NE(renewed->jti, a->cred.jti);
  EXPECT_EQ(renewed->expires_at, clock_.NowSeconds() + 300);
  // A proof by another key is refused.
  auto thief = EcdsaP256PrivateKey::Generate();
  auto bad =
      registry_->Renew(renewed->svid, *SignProof(*thief, RenewalProofMessage(renewed->svid)));
  ASSERT_FALSE(bad);
  EXPECT_EQ(ReasonOf(bad.error()), TokenError::kBadProof);
  // After expiry (plus the 5 s leeway) the SVID can neither be used nor renewed.
  clock_.AdvanceSeconds(305);
  auto late_proof = SignProof(a->key, RenewalProofMessage(renewed->svid));
  auto late = registry_->Renew(renewed->svid, *late_proof);
  ASSERT_FALSE(late);
  EXPECT_EQ(ReasonOf(late.error()), TokenError::kExpired);
}

TEST_F(RegistryTest, SvidAudienceIssuerAndTrustDomainAreChecked) {
  auto jt = registry_->RegisterWorkload(Spec(), "alice");
  auto a = Attest(jt->token);
  ASSERT_TRUE(a);
  auto wrong_aud = registry_->VerifySvid(a->cred.svid, "payments-tool");
  ASSERT_FALSE(wrong_aud);
  EXPECT_EQ(ReasonOf(wrong_aud.error()), TokenError::kWrongAudience);
  // Signed by our key, but for another trust domain / issuer / shape.
  auto claims = ParseJson(testing::Payload(a->cred.svid))->as_object();
  claims["sub"] = "spiffe://evil.org/agent/refund-bot/x";
  auto v = registry_->VerifySvid(*ring_->Sign("JWT", claims));
  EXPECT_EQ(ReasonOf(v.error()), TokenError::kWrongTrustDomain);
  claims["sub"] = "spiffe://example.org/admin";
  v = registry_->VerifySvid(*ring_->Sign("JWT", claims));
  EXPECT_EQ(ReasonOf(v.error()), TokenError::kMalformed);
  claims["sub"] = "spiffe://example.org/agent/refund-bot/never-attested";
  v = registry_->VerifySvid(*ring_->Sign("JWT", claims));
  EXPECT_EQ(ReasonOf(v.error()), TokenError::kRevoked);
  claims["sub"] = a->cred.id.ToString();
  claims["iss"] = "https://evil.example";
  v = registry_->VerifySvid(*ring_->Sign("JWT", claims));
  EXPECT_EQ(ReasonOf(v.error()), TokenError::kWrongIssuer);
  claims["iss"] = "spiffe://example.org";
  v = registry_->VerifySvid(*ring_->Sign("intent+jwt", claims));
  EXPECT_EQ(ReasonOf(v.error()), TokenError::kWrongType);
}

TEST_F(RegistryTest, WorkloadSpecValidation) {
  auto s = Spec("bad/name");
  EXPECT_EQ(registry_->RegisterWorkload(s, "a").error().code(), StatusCode::kInvalidArgument);
  s = Spec();
  s.risk_tier = "extreme";
  EXPECT_EQ(registry_->RegisterWorkload(s, "a").error().code(), StatusCode::kInvalidArgument);
  s = Spec();
  s.intents.clear();
  EXPECT_FALSE(registry_->RegisterWorkload(s, "a"));
  s = Spec();
  s.owner.clear();
  EXPECT_FALSE(registry_->RegisterWorkload(s, "a"));
  s = Spec();
  s.max_grant_ttl_seconds = 0;
  EXPECT_FALSE(registry_->RegisterWorkload(s, "a"));
  ASSERT_TRUE(registry_->RegisterWorkload(Spec(), "a"));
  EXPECT_EQ(registry_->RegisterWorkload(Spec(), "a").error().code(), StatusCode::kAlreadyExists);
  auto list = registry_->ListWorkloads();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].intents, (std::vector<std::string>{"refund.issue", "case.comment"}));
  EXPECT_EQ((*list)[0].created_by, "a");
}

}  // namespace
}  // namespace arbiter::identity
