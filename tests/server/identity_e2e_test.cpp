// The identity endpoints over real HTTP on the assembled App: the bootstrap admin credential,
// workload registration, agent attestation with proof of key possession, SVIDs as bearer
// credentials (verified against the published JWKS), renewal, revocation, users and roles, and a
// restart that keeps it all.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>
#include <fstream>

#include "app_fixture.h"
#include "arbiter/common/clock.h"
#include "arbiter/common/crypto.h"
#include "arbiter/identity/jose.h"
#include "arbiter/identity/jwk.h"
#include "arbiter/identity/registry.h"
#include "arbiter/server/app.h"
#include "test_client.h"

namespace arbiter::server {
namespace {

namespace fs = std::filesystem;
using testing::Fetch;
using testing::RawResponse;

class IdentityE2eTest : public testing::AppE2eTest {
 protected:
  // No pack: the identity endpoints need none. Another trust domain than the default.
  ServeConfig Config() const override {
    ServeConfig c = AppE2eTest::Config();
    c.pack_dir.clear();
    c.trust_domain = "example.org";
    return c;
  }
  void Start() { StartApp(); }

  // Registers workload `name` and attests one instance; returns the attest response.
  boost::json::object AttestAgent(const std::string& name, EcdsaP256PrivateKey& key) {
    RawResponse reg =
        Call("POST", "/v1/admin/workloads", admin_,
             R"({"name":")" + name +
                 R"(","owner":"support-team","risk_tier":"medium","intents":["refund","reply"]})");
    EXPECT_EQ(reg.status, 201) << reg.body;
    std::string join(Json(reg).at("join_token").as_string());
    auto proof = identity::SignProof(key, identity::AttestationProofMessage(join));
    EXPECT_TRUE(proof.has_value());
    boost::json::object body;
    body["join_token"] = join;
    body["public_key"] = boost::json::parse(identity::AgentPublicJwk(key));
    body["proof"] = *proof;
    RawResponse att = Call("POST", "/v1/attest", "", boost::json::serialize(body));
    EXPECT_EQ(att.status, 200) << att.body;
    last_join_ = join;
    return Json(att);
  }

  std::string last_join_;
};

TEST_F(IdentityE2eTest, BootstrapAdminTokenAuthenticatesAsAdmin) {
  ASSERT_FALSE(admin_.empty());
  RawResponse users = Call("GET", "/v1/admin/users", admin_);
  ASSERT_EQ(users.status, 200) << users.body;
  auto list = Json(users).at("users").as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].at("name").as_string(), "admin");
  EXPECT_EQ(Call("GET", "/v1/admin/users", "").status, 401);
  RawResponse bad = Call("GET", "/v1/admin/users", "arb_nope_nope");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad.Header("www-authenticate"), "Bearer");
}

TEST_F(IdentityE2eTest, AgentsAttestAndActUnderTheirSvid) {
  auto key = EcdsaP256PrivateKey::Generate();
  ASSERT_TRUE(key.has_value());
  auto cred = AttestAgent("triage", *key);
  std::string spiffe(cred.at("spiffe_id").as_string());
  EXPECT_EQ(spiffe.rfind("spiffe://example.org/agent/triage/", 0), 0u) << spiffe;
  std::string svid(cred.at("svid").as_string());

  // The SVID verifies with any JOSE library against the published JWKS.
  RawResponse jwks = Call("GET", "/.well-known/jwks.json", "");
  ASSERT_EQ(jwks.status, 200);
  auto set = identity::JwkSet::Parse(jwks.body);
  ASSERT_TRUE(set.has_value()) << set.error().ToString();
  identity::JwtExpectations expect;
  expect.audience = "arbiter";
  expect.now_seconds = SystemClock::Get().NowSeconds();
  expect.leeway_seconds = 5;
  auto verified = identity::VerifyJwt(svid, *set, expect);
  ASSERT_TRUE(verified.has_value()) << verified.error().ToString();
  EXPECT_EQ(verified->claims.at("sub").as_string(), spiffe);

  // An agent is not an admin.
  RawResponse denied = Call("GET", "/v1/admin/workloads", svid);
  EXPECT_EQ(denied.status, 403);
  // A join token is single-use.
  boost::json::object again;
  again["join_token"] = last_join_;
  again["public_key"] = boost::json::parse(identity::AgentPublicJwk(*key));
  again["proof"] = *identity::SignProof(*key, identity::AttestationProofMessage(last_join_));
  RawResponse replay = Call("POST", "/v1/attest", "", boost::json::serialize(again));
  EXPECT_EQ(replay.status, 401) << replay.body;
  EXPECT_NE(replay.body.find("join_token_used"), std::string::npos) << replay.body;

  // Renewal needs proof of the same key.
  auto other = EcdsaP256PrivateKey::Generate();
  boost::json::object wrong{
      {"proof", *identity::SignProof(*other, identity::RenewalProofMessage(svid))}};
  EXPECT_EQ(Call("POST", "/v1/attest/renew", svid, boost::json::serialize(wrong)).status, 401);
  boost::json::object right{
      {"proof", *identity::SignProof(*key, identity::RenewalProofMessage(svid))}};
  RawResponse renewed = Call("POST", "/v1/attest/renew", svid, boost::json::serialize(right));
  ASSERT_EQ(renewed.status, 200) << renewed.body;
  EXPECT_EQ(Json(renewed).at("spiffe_id").as_string(), spiffe);

  // Revoking the instance stops its SVIDs at once, even those the server has verified before
  // and keeps in its cache of verified SVIDs (authenticated, then refused by the route: 403).
  std::string renewed_svid(Json(renewed).at("svid").as_string());
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Call("GET", "/v1/admin/workloads", svid).status, 403);
    EXPECT_EQ(Call("GET", "/v1/admin/workloads", renewed_svid).status, 403);
  }
  std::string instance = spiffe.substr(spiffe.rfind('/') + 1);
  EXPECT_EQ(Call("DELETE", "/v1/admin/instances/triage/" + instance, admin_).status, 204);
  for (const std::string& cached : {svid, renewed_svid}) {
    RawResponse refused = Call("GET", "/v1/admin/workloads", cached);
    EXPECT_EQ(refused.status, 401) << refused.body;
    EXPECT_NE(refused.body.find("revoked"), std::string::npos) << refused.body;
  }
  boost::json::object proof2{
      {"proof", *identity::SignProof(*key, identity::RenewalProofMessage(renewed_svid))}};
  RawResponse revoked =
      Call("POST", "/v1/attest/renew", renewed_svid, boost::json::serialize(proof2));
  EXPECT_EQ(revoked.status, 401);
  EXPECT_NE(revoked.body.find("revoked"), std::string::npos) << revoked.body;

  RawResponse instances = Call("GET", "/v1/admin/instances?workload=triage", admin_);
  ASSERT_EQ(instances.status, 200);
  EXPECT_TRUE(Json(instances).at("instances").as_array()[0].as_object().contains("revoked_at"));
}

TEST_F(IdentityE2eTest, ValidatesWorkloadsAndUsersWithFieldNames) {
  RawResponse bad_tier = Call("POST", "/v1/admin/workloads", admin_,
                              R"({"name":"w","owner":"o","risk_tier":"extreme","intents":["x"]})");
  EXPECT_EQ(bad_tier.status, 400);
  EXPECT_EQ(Json(bad_tier).at("error").at("field").as_string(), "workload.risk_tier");
  RawResponse missing = Call("POST", "/v1/admin/workloads", admin_, R"({"name":"w"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(Json(missing).at("error").at("field").as_string(), "body.owner");
  RawResponse dup1 = Call("POST", "/v1/admin/workloads", admin_,
                          R"({"name":"w","owner":"o","risk_tier":"low","intents":["x"]})");
  EXPECT_EQ(dup1.status, 201);
  RawResponse dup2 = Call("POST", "/v1/admin/workloads", admin_,
                          R"({"name":"w","owner":"o","risk_tier":"low","intents":["x"]})");
  EXPECT_EQ(dup2.status, 409) << dup2.body;

  RawResponse sue =
      Call("POST", "/v1/admin/users", admin_, R"({"name":"sue","roles":["supervisor"]})");
  ASSERT_EQ(sue.status, 201) << sue.body;
  std::string sue_token(Json(sue).at("token").as_string());
  EXPECT_EQ(Call("GET", "/v1/admin/users", sue_token).status, 403);
  EXPECT_EQ(Call("POST", "/v1/admin/users", admin_, R"({"name":"bob","roles":"x"})").status, 400);
}

TEST_F(IdentityE2eTest, RestartKeepsUsersWorkloadsAndKeys) {
  auto key = EcdsaP256PrivateKey::Generate();
  ASSERT_TRUE(key.has_value());
  auto cred = AttestAgent("keeper", *key);
  std::string svid(cred.at("svid").as_string());
  std::string jwks_before = Call("GET", "/.well-known/jwks.json", "").body;
  std::string admin_before = admin_;
  app_.reset();
  Start();
  EXPECT_EQ(admin_, admin_before);
  EXPECT_EQ(Call("GET", "/.well-known/jwks.json", "").body, jwks_before);
  RawResponse workloads = Call("GET", "/v1/admin/workloads", admin_);
  ASSERT_EQ(workloads.status, 200);
  EXPECT_EQ(Json(workloads).at("workloads").as_array().size(), 1u);
  // The SVID issued before the restart still authenticates (same signing key, same store).
  boost::json::object proof{
      {"proof", *identity::SignProof(*key, identity::RenewalProofMessage(svid))}};
  EXPECT_EQ(Call("POST", "/v1/attest/renew", svid, boost::json::serialize(proof)).status, 200);
}

}  // namespace
}  // namespace arbiter::server
