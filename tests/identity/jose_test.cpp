// JWS/JWT verification, JWKs and the key ring: the token-level attack matrix.
#include "arbiter/identity/jose.h"

#include <gtest/gtest.h>

#include <boost/json/array.hpp>

#include "arbiter/common/json.h"
#include "arbiter/identity/jwk.h"
#include "arbiter/identity/key_ring.h"
#include "arbiter/identity/token_error.h"
#include "identity/test_env.h"
#include "support/shared_data.h"

namespace arbiter::identity {
namespace {

using testing::RawJws;

KeyRingOptions Overlap600() {
  KeyRingOptions o;
  o.overlap_seconds = 600;
  return o;
}

class JoseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::NewMemoryIdentityStore();
    auto ring = KeyRing::Create(*store_, clock_, Overlap600());
    ASSERT_TRUE(ring) << ring.error().ToString();
    ring_ = std::move(*ring);
  }

  boost::json::object Claims(std::int64_t lifetime = 60) {
    const std::int64_t now = clock_.NowSeconds();
    boost::json::object c;
    c["iss"] = "spiffe://example.org";
    c["sub"] = "spiffe://example.org/agent/triage/1";
    c["aud"] = boost::json::array{"arbiter"};
    c["iat"] = now;
    c["exp"] = now + lifetime;
    c["jti"] = "j1";
    return c;
  }

  JwtExpectations Expect() {
    JwtExpectations e;
    e.typ = "JWT";
    e.issuer = "spiffe://example.org";
    e.audience = "arbiter";
    e.now_seconds = clock_.NowSeconds();
    e.max_lifetime_seconds = 300;
    return e;
  }

  // The reason a token is refused, or "ok".
  std::string Reason(std::string_view token) {
    auto v = VerifyJwt(token, *ring_, Expect());
    if (v) return "ok";
    auto reason = TokenErrorOf(v.error());
    EXPECT_TRUE(reason.has_value()) << v.error().ToString();
    EXPECT_EQ(v.error().code(), StatusCode::kUnauthenticated) << v.error().ToString();
    return reason ? std::string(TokenErrorName(*reason)) : v.error().ToString();
  }

  std::string Sign(const boost::json::object& claims) {
    auto t = ring_->Sign("JWT", claims);
    EXPECT_TRUE(t);
    return *t;
  }

  FakeClock clock_;
  std::unique_ptr<IdentityStore> store_;
  std::unique_ptr<KeyRing> ring_;
};

TEST_F(JoseTest, ValidTokenVerifies) {
  const std::string t = Sign(Claims());
  auto v = VerifyJwt(t, *ring_, Expect());
  ASSERT_TRUE(v) << v.error().ToString();
  EXPECT_EQ(v->kid, ring_->ActiveKid());
  EXPECT_EQ(v->claims.at("sub").as_string(), "spiffe://example.org/agent/triage/1");
  EXPECT_EQ(testing::Header(t),
            R"({"alg":"ES256","kid":")" + ring_->ActiveKid() + R"(","typ":"JWT"})");
}

TEST_F(JoseTest, ExpiredAndNotYetValid) {
  const std::string t = Sign(Claims(60));
  clock_.AdvanceSeconds(60);
  EXPECT_EQ(Reason(t), "expired");
  clock_.AdvanceSeconds(-60);
  auto future = Claims();
  future["nbf"] = clock_.NowSeconds() + 30;
  EXPECT_EQ(Reason(Sign(future)), "not_yet_valid");
  auto issued_later = Claims();
  issued_later["iat"] = clock_.NowSeconds() + 30;
  EXPECT_EQ(Reason(Sign(issued_later)), "not_yet_valid");
  EXPECT_EQ(Reason(Sign(Claims(301))), "lifetime_too_long");
}

TEST_F(JoseTest, WrongAudienceAndIssuer) {
  auto c = Claims();
  c["aud"] = "someone-else";
  EXPECT_EQ(Reason(Sign(c)), "wrong_audience");
  c = Claims();
  c["aud"] = boost::json::array{"a", "arbiter"};
  EXPECT_EQ(Reason(Sign(c)), "ok");
  c = Claims();
  c["iss"] = "spiffe://evil.org";
  EXPECT_EQ(Reason(Sign(c)), "wrong_issuer");
  c = Claims();
  c.erase("exp");
  EXPECT_EQ(Reason(Sign(c)), "missing_claim");
  c = Claims();
  c["exp"] = 1.7e9;
  EXPECT_EQ(Reason(Sign(c)), "malformed");
}

TEST_F(JoseTest, AlgNoneIsRefused) {
  const std::string payload = ToJson(Claims());
  const std::string kid = ring_->ActiveKid();
  EXPECT_EQ(Reason(RawJws(R"({"alg":"none","typ":"JWT","kid":")" + kid + "\"}", payload, {})),
            "unsupported_alg");
  EXPECT_EQ(Reason(RawJws(R"({"alg":"None","typ":"JWT"})", payload, {})), "unsupported_alg");
  EXPECT_EQ(Reason(RawJws(R"({"typ":"JWT"})", payload, {})), "malformed");
}

TEST_F(JoseTest, Hs256SignedWithThePublicKeyIsRefused) {
  // The classic algorithm-confusion attack: HMAC keyed with the verifier's public key, in each
  // form a naive verifier might use as the "secret".
  const std::string kid = ring_->ActiveKid();
  auto jwks = ring_->Jwks();
  ASSERT_EQ(jwks.keys().size(), 1u);
  const std::string jwk_json = ToJson(PublicJwkToJson(jwks.keys()[0]));
  const std::string pem = jwks.keys()[0].key.ToPem();
  for (const std::string& secret : {jwk_json, pem}) {
    const std::string header = R"({"alg":"HS256","typ":"JWT","kid":")" + kid + "\"}";
    const std::string input =
        Base64UrlEncode(AsBytes(header)) + "." + Base64UrlEncode(AsBytes(ToJson(Claims())));
    const Sha256Digest mac = HmacSha256(AsBytes(secret), AsBytes(input));
    const std::string token = input + "." + Base64UrlEncode(mac);
    auto v = VerifyJwt(token, *ring_, Expect());
    ASSERT_FALSE(v);
    EXPECT_EQ(TokenErrorOf(v.error()), TokenError::kUnsupportedAlgorithm);
    EXPECT_NE(v.error().message().find("`HS256`"), std::string::npos) << v.error().message();
  }
}

TEST_F(JoseTest, BadSignatureTruncatedAndGarbled) {
  const std::string t = Sign(Claims());
  std::string flipped = t;
  flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Reason(flipped), "bad_signature");
  // A payload changed under the original signature.
  auto c = Claims();
  c["sub"] = "spiffe://example.org/agent/admin/1";
  const size_t d1 = t.find('.');
  const size_t d2 = t.rfind('.');
  const std::string swapped =
      t.substr(0, d1) + "." + Base64UrlEncode(AsBytes(ToJson(c))) + t.substr(d2);
  EXPECT_EQ(Reason(swapped), "bad_signature");
  // Signature of the wrong size (e.g. DER instead of r||s).
  EXPECT_EQ(Reason(t.substr(0, d2) + "." + Base64UrlEncode(Bytes(70, 1))), "bad_signature");
  // Truncated anywhere: never accepted, never a crash.
  for (size_t n = 0; n < t.size(); n += 7) {
    const std::string r = Reason(t.substr(0, n));
    EXPECT_NE(r, "ok") << n;
  }
  EXPECT_EQ(Reason(t.substr(0, d2)), "malformed");
  EXPECT_EQ(Reason(t + ".x"), "malformed");
  EXPECT_EQ(Reason("not a token"), "malformed");
  EXPECT_EQ(Reason("a.b.c"), "malformed");
  EXPECT_EQ(Reason("!!!.???.***"), "malformed");
  EXPECT_EQ(Reason(RawJws("[1,2]", "{}", {})), "malformed");
  EXPECT_EQ(Reason(RawJws("{\"alg\":", "{}", {})), "malformed");
  EXPECT_EQ(Reason(std::string(kMaxTokenBytes + 1, 'a')), "malformed");
  // Deep nesting in the header is bounded by the JSON depth limit.
  EXPECT_EQ(Reason(RawJws(std::string(1000, '[') + std::string(1000, ']'), "{}", {})), "malformed");
}

TEST_F(JoseTest, UnknownKidAndCritAreRefused) {
  const std::string t = Sign(Claims());
  const std::string header = R"({"alg":"ES256","typ":"JWT","kid":"nope"})";
  const std::string payload_b64 = t.substr(t.find('.') + 1);
  EXPECT_EQ(Reason(Base64UrlEncode(AsBytes(header)) + "." + payload_b64), "unknown_key");
  const std::string crit =
      R"({"alg":"ES256","typ":"JWT","crit":["exp"],"kid":")" + ring_->ActiveKid() + "\"}";
  EXPECT_EQ(Reason(Base64UrlEncode(AsBytes(crit)) + "." + payload_b64), "malformed");
  const std::string wrong_typ =
      R"({"alg":"ES256","typ":"intent+jwt","kid":")" + ring_->ActiveKid() + "\"}";
  EXPECT_EQ(Reason(Base64UrlEncode(AsBytes(wrong_typ)) + "." + payload_b64), "wrong_type");
}

TEST_F(JoseTest, RotationKeepsOldKeysVerifyingForTheOverlapOnly) {
  const std::string old_kid = ring_->ActiveKid();
  const std::string before = Sign(Claims(300));
  ASSERT_TRUE(ring_->Rotate().ok());
  const std::string new_kid = ring_->ActiveKid();
  EXPECT_NE(new_kid, old_kid);
  const std::string after = Sign(Claims(300));
  EXPECT_EQ(Reason(before), "ok");
  EXPECT_EQ(Reason(after), "ok");
  auto jwks = ParseJson(ring_->JwksJson());
  ASSERT_TRUE(jwks);
  const auto& keys = jwks->at("keys").as_array();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].at("kid").as_string(), new_kid);  // the active key first
  for (const auto& k : keys) {
    EXPECT_EQ(k.at("use").as_string(), "sig");
    EXPECT_EQ(k.at("alg").as_string(), "ES256");
    EXPECT_EQ(k.at("kty").as_string(), "EC");
    EXPECT_FALSE(k.as_object().contains("d"));
  }
  // Another node (a second key ring on the same store) sees the rotation.
  auto other = KeyRing::Create(*store_, clock_, Overlap600());
  ASSERT_TRUE(other);
  EXPECT_EQ((*other)->ActiveKid(), new_kid);
  // After the overlap, the old key is gone from the JWKS and its tokens no longer verify.
  clock_.AdvanceSeconds(600);
  EXPECT_EQ(ring_->Jwks().keys().size(), 1u);
  auto expect = Expect();
  auto v = VerifyJwt(before, *ring_, expect);
  ASSERT_FALSE(v);
  EXPECT_EQ(TokenErrorOf(v.error()), TokenError::kUnknownKey);
  auto rotated = ring_->RotateIfDue();
  ASSERT_TRUE(rotated);
  EXPECT_FALSE(*rotated);
  clock_.AdvanceSeconds(7 * 86400);
  rotated = ring_->RotateIfDue();
  ASSERT_TRUE(rotated);
  EXPECT_TRUE(*rotated);
  EXPECT_NE(ring_->ActiveKid(), new_kid);
}

TEST_F(JoseTest, JwksRoundTripAndVerifiesLikeTheRing) {
  auto parsed = JwkSet::Parse(ring_->JwksJson());
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  const std::string t = Sign(Claims());
  EXPECT_TRUE(VerifyJwt(t, *parsed, Expect()).has_value());
  // Keys for other uses are skipped; malformed ES256 keys are errors; private keys are refused.
  auto skip = JwkSet::Parse(R"({"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"},)"
                            R"({"kty":"EC","crv":"P-256","use":"enc","x":"","y":""}]})");
  ASSERT_TRUE(skip);
  EXPECT_TRUE(skip->keys().empty());
  EXPECT_FALSE(JwkSet::Parse(R"({"keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}]})"));
  auto key = EcdsaP256PrivateKey::Generate();
  ASSERT_TRUE(key);
  auto jwk = PublicJwkToJson({"k", key->PublicKey()});
  jwk["d"] = Base64UrlEncode(key->Scalar());
  EXPECT_FALSE(PublicJwkFromJson(jwk));
  // A point off the curve.
  jwk = PublicJwkToJson({"k", key->PublicKey()});
  jwk["y"] = jwk["x"];
  EXPECT_FALSE(PublicJwkFromJson(jwk));
  EXPECT_FALSE(JwkSet::Parse("{\"keys\":3}"));
  EXPECT_FALSE(JwkSet::Parse("nonsense"));
}

TEST(Jwk, Rfc8037ThumbprintVector) {
  ARBITER_REQUIRE_SHARED(path, "vectors/rfc8037-vectors.json");
  auto doc = ParseJson(arbiter::testing::ReadFile(path));
  ASSERT_TRUE(doc);
  const auto& a3 = doc->at("A3_thumbprint").as_object();
  const auto& jwk = doc->at("A2_public_jwk").as_object();
  auto tp = JwkThumbprint(jwk);
  ASSERT_TRUE(tp) << tp.error().ToString();
  EXPECT_EQ(*tp, a3.at("b64u").as_string());
  EXPECT_EQ(CanonicalJson(jwk), a3.at("canonical_json").as_string());
  // The private JWK (with `d`) has the same thumbprint: only required members count.
  EXPECT_EQ(*JwkThumbprint(doc->at("A1_private_jwk").as_object()), a3.at("b64u").as_string());
}

TEST(Jwk, Rfc7638EcThumbprintIsTheKid) {
  auto key = EcdsaP256PrivateKey::Generate();
  ASSERT_TRUE(key);
  auto obj = PublicJwkToJson({"ignored", key->PublicKey()});
  EXPECT_EQ(*JwkThumbprint(obj), JwkThumbprint(key->PublicKey()));
}

}  // namespace
}  // namespace arbiter::identity
