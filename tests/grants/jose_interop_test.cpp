// Interop (issue 6 §8): the npm package `jose`, installed into the build folder at test time,
// verifies Arbiter's JWT-SVIDs and intent tokens against Arbiter's JWKS, before and after a key
// rotation, and refuses tampered ones. Fails (never skips) when npm, node or jose fail.
#include <gtest/gtest.h>

#include <boost/json/array.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "arbiter/common/json.h"
#include "grants/grants_env.h"
#include "support/shared_data.h"

namespace arbiter::grants {
namespace {

namespace fs = std::filesystem;

int RunCommand(const std::string& command, std::string* output) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) output->append(buf, n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// ARBITER_BUILD_DIR / ARBITER_SOURCE_DIR when ctest sets them, else the folders compiled in.
fs::path BuildDir() {
  const char* env = std::getenv("ARBITER_BUILD_DIR");
  return env != nullptr && *env != '\0' ? fs::path(env) : fs::path(ARBITER_GRANTS_TEST_BUILD_DIR);
}
fs::path SourceDir() {
  const char* env = std::getenv("ARBITER_SOURCE_DIR");
  return env != nullptr && *env != '\0' ? fs::path(env) : fs::path(ARBITER_GRANTS_TEST_SOURCE_DIR);
}

std::string Quote(const fs::path& p) { return "'" + p.string() + "'"; }

void WriteFile(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << p;
}

boost::json::object Case(std::string name, const std::string& token, bool valid,
                         const std::string& audience, const std::string& typ,
                         const std::string& kid) {
  boost::json::object c;
  c["name"] = std::move(name);
  c["token"] = token;
  c["valid"] = valid;
  c["issuer"] = "spiffe://example.org";
  c["audience"] = audience;
  c["typ"] = typ;
  c["kid"] = kid;
  return c;
}

std::string Flip(std::string token) {
  char& c = token[token.size() - 4];
  c = c == 'A' ? 'B' : 'A';
  return token;
}

TEST(JoseInterop, JoseVerifiesSvidsAndIntentTokensAgainstTheJwks) {
  const fs::path build = BuildDir();
  ASSERT_FALSE(build.empty()) << "ARBITER_BUILD_DIR is not set";
  const fs::path prefix = build / "npm-jose";
  std::string out;
  if (!fs::exists(prefix / "node_modules" / "jose" / "package.json")) {
    const int rc =
        RunCommand("npm install --no-audit --no-fund --prefix " + Quote(prefix) + " jose", &out);
    ASSERT_EQ(rc, 0) << "npm install jose failed:\n" << out;
  }

  // Tokens against the real time: jose checks exp/iat with its own clock.
  testing::Stack s;
  s.clock.SetMicros(SystemClock::Get().NowMicros());
  s.Init();
  std::string svid;
  const auto agent = s.NewAgent("refund-bot", &svid);
  s.GrantFor("case-42", agent);
  IntentRequest req;
  req.case_id = "case-42";
  req.action = "refund.issue";
  req.audience = "payments";
  req.params = boost::json::object{{"amount", 25}, {"currency", "EUR"}};
  req.ttl_seconds = 120;
  auto intent = s.intents->Mint(agent, req);
  ASSERT_TRUE(intent) << intent.error().ToString();
  const std::string old_kid = s.keys->ActiveKid();

  // Rotate: tokens signed before and after must all verify against the published JWKS.
  ASSERT_TRUE(s.keys->Rotate().ok());
  const std::string new_kid = s.keys->ActiveKid();
  std::string svid2;
  const auto agent2 = s.NewAgent("refund-bot", &svid2);
  s.GrantFor("case-43", agent2);
  req.case_id = "case-43";
  auto intent2 = s.intents->Mint(agent2, req);
  ASSERT_TRUE(intent2);

  boost::json::array cases;
  auto svid_case = Case("svid-old-key", svid, true, "arbiter", "JWT", old_kid);
  svid_case["claims"] = boost::json::object{{"sub", agent.id.ToString()}};
  cases.push_back(svid_case);
  svid_case = Case("svid-new-key", svid2, true, "arbiter", "JWT", new_kid);
  svid_case["claims"] = boost::json::object{{"sub", agent2.id.ToString()}};
  cases.push_back(svid_case);
  auto intent_case = Case("intent-old-key", intent->token, true, "payments", "intent+jwt", old_kid);
  intent_case["max_age"] = "120s";
  intent_case["claims"] = boost::json::object{{"sub", agent.id.ToString()},
                                              {"case_id", "case-42"},
                                              {"action", "refund.issue"},
                                              {"params_sha256", intent->params_sha256},
                                              {"jti", intent->jti}};
  cases.push_back(intent_case);
  intent_case = Case("intent-new-key", intent2->token, true, "payments", "intent+jwt", new_kid);
  intent_case["claims"] = boost::json::object{{"case_id", "case-43"}};
  cases.push_back(intent_case);
  // Refusals jose must agree with: tampered signature, wrong audience, wrong typ.
  cases.push_back(Case("svid-tampered", Flip(svid), false, "arbiter", "JWT", old_kid));
  cases.push_back(
      Case("intent-tampered", Flip(intent->token), false, "payments", "intent+jwt", old_kid));
  cases.push_back(Case("intent-wrong-aud", intent->token, false, "crm", "intent+jwt", old_kid));
  cases.push_back(Case("svid-as-intent", svid, false, "arbiter", "intent+jwt", old_kid));

  const fs::path dir = build / "identity-interop";
  fs::create_directories(dir);
  WriteFile(dir / "jwks.json", s.keys->JwksJson());
  WriteFile(dir / "cases.json", ToJson(cases));
  // The script runs from inside the prefix so that `import 'jose'` resolves there.
  const fs::path script = SourceDir() / "tests" / "grants" / "jose_interop.mjs";
  ASSERT_TRUE(fs::exists(script)) << script;
  fs::copy_file(script, prefix / "jose_interop.mjs", fs::copy_options::overwrite_existing);
  out.clear();
  const int rc = RunCommand("node " + Quote(prefix / "jose_interop.mjs") + " " + Quote(dir), &out);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("ok 8 cases"), std::string::npos) << out;
}

}  // namespace
}  // namespace arbiter::grants
