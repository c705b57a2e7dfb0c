// `arbiter identity attest-request` / `renew-request`: the agent side of attestation from the
// command line. The bodies it prints must be accepted by the registry, its key file must be kept
// and reused, and bad input refused with exit 1.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "arbiter/common/json.h"
#include "arbiter/identity/registry.h"
#include "identity/test_env.h"
#include "support/run_command.h"
#include "support/shared_data.h"

namespace arbiter::identity {
namespace {

#ifdef ARBITER_CLI_PATH
class IdentityCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = arbiter::testing::BuildDir() / "identity-cli-test" /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = testing::NewMemoryIdentityStore();
    ring_ = std::move(*KeyRing::Create(*store_, clock_));
    RegistryOptions options;
    options.trust_domain = "example.org";
    registry_ = std::move(*WorkloadRegistry::Create(*store_, *ring_, clock_, random_, options));
  }
  arbiter::testing::CommandResult Cli(const std::string& args) {
    return arbiter::testing::RunCommand(std::string(ARBITER_CLI_PATH) + " identity " + args);
  }
  std::string Key() { return (dir_ / "agent.pem").string(); }
  std::string JoinToken() {
    WorkloadSpec spec{.name = "refund-bot",
                      .owner = "payments-team",
                      .risk_tier = "high",
                      .intents = {"refund.issue"},
                      .max_grant_ttl_seconds = 1800};
    // The first call registers the workload; later ones issue a token for one more instance.
    auto jt = registered_ ? registry_->IssueJoinToken(spec.name)
                          : registry_->RegisterWorkload(spec, "alice");
    registered_ = true;
    EXPECT_TRUE(jt) << jt.error().ToString();
    return jt->token;
  }
  // Attests with a body printed by the CLI.
  Result<AgentCredential> AttestWith(const std::string& body_text) {
    ARBITER_TRY(boost::json::value body, ParseJson(body_text));
    const auto& o = body.as_object();
    return registry_->Attest(std::string(o.at("join_token").as_string()),
                             ToJson(o.at("public_key")), std::string(o.at("proof").as_string()));
  }

  std::filesystem::path dir_;
  bool registered_ = false;
  FakeClock clock_;
  SecureRandom random_;
  std::unique_ptr<IdentityStore> store_;
  std::unique_ptr<KeyRing> ring_;
  std::unique_ptr<WorkloadRegistry> registry_;
};

TEST_F(IdentityCli, AttestRequestIsAcceptedAndKeepsItsKey) {
  auto first = Cli("attest-request --key " + Key() + " --join-token " + JoinToken());
  ASSERT_EQ(first.exit_code, 0) << first.out;
  auto cred = AttestWith(first.out);
  ASSERT_TRUE(cred) << cred.error().ToString();
  struct stat st {};
  ASSERT_EQ(::stat(Key().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // a private key is the agent's alone

  // The same key file is reused for the next instance (same public key), and renewal proofs verify.
  auto second = Cli("attest-request --key " + Key() + " --join-token " + JoinToken());
  ASSERT_EQ(second.exit_code, 0) << second.out;
  auto pub = [](const std::string& out) { return ToJson(ParseJson(out)->at("public_key")); };
  EXPECT_EQ(pub(first.out), pub(second.out));
  auto renew = Cli("renew-request --key " + Key() + " --svid " + cred->svid);
  ASSERT_EQ(renew.exit_code, 0) << renew.out;
  auto renewed =
      registry_->Renew(cred->svid, std::string(ParseJson(renew.out)->at("proof").as_string()));
  EXPECT_TRUE(renewed) << renewed.error().ToString();
}

TEST_F(IdentityCli, BadInputIsRefused) {
  std::ofstream(dir_ / "garbage.pem") << "not a key";
  auto garbage = Cli("attest-request --key " + (dir_ / "garbage.pem").string() + " --join-token x");
  EXPECT_EQ(garbage.exit_code, 1);
  EXPECT_NE(garbage.out.find("garbage.pem"), std::string::npos) << garbage.out;
  auto missing = Cli("renew-request --key " + (dir_ / "none.pem").string() + " --svid x");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("cannot read"), std::string::npos) << missing.out;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "none.pem"));  // renewal never makes a key
}
#endif

}  // namespace
}  // namespace arbiter::identity
