#include "arbiter/common/crypto.h"

#include <gtest/gtest.h>

#include "arbiter/common/json.h"
#include "support/shared_data.h"

namespace arbiter {
namespace {

std::string Sha256Hex(std::string_view s) { return HexEncode(Sha256(s)); }

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  std::string million(1'000'000, 'a');
  EXPECT_EQ(Sha256Hex(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalMatchesOneShotAndResets) {
  Sha256Hasher h;
  h.Update("ab").Update(std::uint8_t{'c'});
  EXPECT_EQ(h.Final(), Sha256("abc"));
  EXPECT_EQ(h.Update("abc").Final(), Sha256("abc"));
}

// RFC 4231 test case 2.
TEST(HmacSha256, Rfc4231) {
  EXPECT_EQ(HexEncode(HmacSha256(AsBytes("Jefe"), AsBytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Ed25519, Rfc8037Vectors) {
  ARBITER_REQUIRE_SHARED(path, "vectors/rfc8037-vectors.json");
  auto doc = ParseJson(testing::ReadFile(path));
  ASSERT_TRUE(doc) << doc.error().ToString();
  const auto& v = doc->as_object();
  const auto& jwk = v.at("A1_private_jwk").as_object();
  auto d = Base64UrlDecode(jwk.at("d").as_string());
  auto x = Base64UrlDecode(jwk.at("x").as_string());
  ASSERT_TRUE(d && x);
  EXPECT_EQ(HexEncode(*d), std::string(v.at("A1_hex").at("secret_seed_d").as_string()));

  auto key = Ed25519PrivateKey::FromSeed(*d);
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_EQ(key->PublicKey(), *x);

  // A.3: RFC 7638 thumbprint of the public JWK.
  const auto& thumb = v.at("A3_thumbprint").as_object();
  boost::json::value pub = {{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", jwk.at("x")}};
  EXPECT_EQ(CanonicalJson(pub), std::string(thumb.at("canonical_json").as_string()));
  EXPECT_EQ(Base64UrlEncode(Sha256(CanonicalJson(pub))), std::string(thumb.at("b64u").as_string()));

  // A.4: deterministic signature, byte for byte.
  const auto& jws = v.at("A4_jws").as_object();
  const std::string signing_input(jws.at("signing_input").as_string());
  auto sig = key->Sign(AsBytes(signing_input));
  ASSERT_TRUE(sig);
  EXPECT_EQ(Base64UrlEncode(*sig), std::string(jws.at("signature_b64u").as_string()));

  // A.5: validation of the compact JWS, and rejection of a flipped bit.
  EXPECT_TRUE(Ed25519Verify(*x, AsBytes(signing_input), *sig).ok());
  Bytes flipped = *sig;
  flipped[10] ^= 0x01;
  EXPECT_EQ(Ed25519Verify(*x, AsBytes(signing_input), flipped).code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(Ed25519Verify(*x, AsBytes(signing_input + "."), *sig).code(),
            StatusCode::kUnauthenticated);
}

TEST(Ed25519, RejectsMalformedInputs) {
  auto key = Ed25519PrivateKey::Generate();
  ASSERT_TRUE(key);
  auto sig = key->Sign(AsBytes("m"));
  ASSERT_TRUE(sig);
  EXPECT_EQ(Ed25519Verify(Bytes(31), AsBytes("m"), *sig).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Ed25519Verify(key->PublicKey(), AsBytes("m"), Bytes(63)).code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(Ed25519PrivateKey::FromSeed(Bytes(16)).has_value());
}

TEST(Es256, SignVerifyRoundTripAndFlippedBit) {
  auto key = EcdsaP256PrivateKey::Generate();
  ASSERT_TRUE(key) << key.error().ToString();
  const std::string msg = "header.payload";
  auto sig = key->Sign(AsBytes(msg));
  ASSERT_TRUE(sig);
  ASSERT_EQ(sig->size(), kEs256SignatureSize);
  EXPECT_TRUE(key->PublicKey().Verify(AsBytes(msg), *sig).ok());
  for (size_t bit : {0u, 100u, 511u}) {
    Bytes flipped = *sig;
    flipped[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    EXPECT_EQ(key->PublicKey().Verify(AsBytes(msg), flipped).code(), StatusCode::kUnauthenticated)
        << bit;
  }
  EXPECT_EQ(key->PublicKey().Verify(AsBytes("header.payloaD"), *sig).code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(key->PublicKey().Verify(AsBytes(msg), Bytes(63)).code(), StatusCode::kInvalidArgument);
}

TEST(Es256, KeysSurviveScalarCoordinateAndPemRoundTrips) {
  auto key = EcdsaP256PrivateKey::Generate();
  ASSERT_TRUE(key);
  auto again = EcdsaP256PrivateKey::FromScalar(key->Scalar());
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(again->PublicKey().X(), key->PublicKey().X());
  EXPECT_EQ(again->PublicKey().Y(), key->PublicKey().Y());

  auto from_pem = EcdsaP256PrivateKey::FromPem(key->ToPem());
  ASSERT_TRUE(from_pem) << from_pem.error().ToString();
  auto sig = from_pem->Sign(AsBytes("m"));
  ASSERT_TRUE(sig);

  auto pub = EcdsaP256PublicKey::FromCoordinates(key->PublicKey().X(), key->PublicKey().Y());
  ASSERT_TRUE(pub) << pub.error().ToString();
  EXPECT_TRUE(pub->Verify(AsBytes("m"), *sig).ok());
  auto pub_pem = EcdsaP256PublicKey::FromPem(pub->ToPem());
  ASSERT_TRUE(pub_pem);
  EXPECT_TRUE(pub_pem->Verify(AsBytes("m"), *sig).ok());
}

TEST(Es256, RejectsPointsOffTheCurveAndBadScalars) {
  auto key = EcdsaP256PrivateKey::Generate();
  ASSERT_TRUE(key);
  Bytes y = key->PublicKey().Y();
  y[31] ^= 1;
  EXPECT_FALSE(EcdsaP256PublicKey::FromCoordinates(key->PublicKey().X(), y).has_value());
  EXPECT_FALSE(EcdsaP256PrivateKey::FromScalar(Bytes(32, 0)).has_value());
  EXPECT_FALSE(EcdsaP256PrivateKey::FromScalar(Bytes(32, 0xff)).has_value());
  EXPECT_FALSE(EcdsaP256PublicKey::FromPem("not a pem").has_value());
}

TEST(Random, BytesDiffer) {
  EXPECT_EQ(RandomBytes(32).size(), 32u);
  EXPECT_NE(RandomBytes(32), RandomBytes(32));
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEqual(AsBytes("abc"), AsBytes("abc")));
  EXPECT_FALSE(ConstantTimeEqual(AsBytes("abc"), AsBytes("abd")));
  EXPECT_FALSE(ConstantTimeEqual(AsBytes("abc"), AsBytes("ab")));
}

}  // namespace
}  // namespace arbiter
