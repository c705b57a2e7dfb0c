// The shared fixture of the server's end-to-end tests: the assembled App on 127.0.0.1:0 over a
// fresh data directory with the example support pack, its admin credential, and the helpers every
// test needs (an authenticated call, JSON bodies, people, attested agent instances). One place, so
// a change of how the API is called changes one file.
//
//   class MyE2eTest : public testing::AppE2eTest {};
//   TEST_F(MyE2eTest, Works) {
//     std::string svid = Agent("refund-agent-1");
//     EXPECT_EQ(Call("POST", "/v1/cases/CASE-1/claim", svid).status, 200);
//   }
#pragma once

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "arbiter/common/crypto.h"
#include "arbiter/identity/registry.h"
#include "arbiter/server/app.h"
#include "arbiter/server/config.h"
#include "support/shared_data.h"
#include "test_client.h"

namespace arbiter::server::testing {

class AppE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "arbiter_server_e2e_XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    StartApp();
  }
  void TearDown() override {
    app_.reset();
    std::filesystem::remove_all(dir_);
  }

  virtual ~AppE2eTest() = default;
  // The configuration StartApp uses: the example pack, 2 threads, no access log. Tests override
  // it, or set evidence_ack_ before a (re)start.
  virtual ServeConfig Config() const {
    ServeConfig c;
    c.server.listen = "127.0.0.1:0";
    c.server.threads = 2;
    c.data_dir = dir_;
    c.access_log = "off";
    c.pack_dir = (arbiter::testing::SourceDir() / "examples/support").string();
    c.evidence_ack = evidence_ack_;
    return c;
  }
  // Starts the server on dir_ (again, after app_.reset(), for a restart).
  void StartApp() {
    auto app = App::Start(Config());
    ASSERT_TRUE(app.has_value()) << app.error().ToString();
    app_ = std::move(*app);
    std::string a = app_->address();
    port_ = static_cast<std::uint16_t>(std::stoi(a.substr(a.rfind(':') + 1)));
    std::ifstream in(app_->admin_token_path());
    std::getline(in, admin_);
  }

  RawResponse Call(const std::string& method, const std::string& target, const std::string& token,
                   const std::string& body = {}) {
    std::string headers = token.empty() ? "" : "Authorization: Bearer " + token + "\r\n";
    auto r = Fetch(port_, method, target, body, headers);
    EXPECT_TRUE(r.has_value()) << method << " " << target;
    return r.value_or(RawResponse{});
  }
  // The body as a JSON object; an empty object (and a test failure) when it is not one.
  static boost::json::object Json(const RawResponse& r) {
    boost::system::error_code ec;
    auto v = boost::json::parse(r.body, ec);
    EXPECT_TRUE(!ec && v.is_object()) << "not a json object: " << r.body;
    return !ec && v.is_object() ? v.as_object() : boost::json::object{};
  }
  static void ExpectError(const RawResponse& r, int status, std::string_view code) {
    EXPECT_EQ(r.status, status) << r.body;
    auto e = Json(r).at("error").as_object();
    EXPECT_EQ(e.at("code").as_string(), code) << r.body;
    EXPECT_FALSE(e.at("message").as_string().empty());
    EXPECT_TRUE(e.contains("field"));
  }
  // A person with one role; returns their API token.
  std::string NewUser(const std::string& name, const std::string& role) {
    RawResponse r = Call("POST", "/v1/admin/users", admin_,
                         R"({"name":")" + name + R"(","roles":[")" + role + R"("]})");
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(Json(r).at("token").as_string());
  }
  // Registers `workload` (the pack's agent of that name) once, then attests one more instance per
  // call; returns the instance's SVID.
  std::string Agent(const std::string& workload) {
    std::string join;
    RawResponse reg = Call(
        "POST", "/v1/admin/workloads", admin_,
        R"({"name":")" + workload +
            R"(","owner":"support-automation","risk_tier":"medium","intents":["reply","refund"]})");
    if (reg.status == 201) {
      join = std::string(Json(reg).at("join_token").as_string());
    } else {
      RawResponse more =
          Call("POST", "/v1/admin/join-tokens", admin_, R"({"workload":")" + workload + R"("})");
      EXPECT_EQ(more.status, 201) << more.body;
      join = std::string(Json(more).at("join_token").as_string());
    }
    auto key = EcdsaP256PrivateKey::Generate();
    boost::json::object body;
    body["join_token"] = join;
    body["public_key"] = boost::json::parse(identity::AgentPublicJwk(*key));
    body["proof"] = *identity::SignProof(*key, identity::AttestationProofMessage(join));
    RawResponse att = Call("POST", "/v1/attest", "", boost::json::serialize(body));
    EXPECT_EQ(att.status, 200) << att.body;
    return std::string(Json(att).at("svid").as_string());
  }

  std::string dir_;
  std::unique_ptr<App> app_;
  std::uint16_t port_ = 0;
  std::string admin_;
  EvidenceAck evidence_ack_ = EvidenceAck::kFsync;
};

}  // namespace arbiter::server::testing
