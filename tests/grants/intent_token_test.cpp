// Intent tokens and introspection: the attack matrix of issue 6 §7, each refused with its reason.
#include "arbiter/grants/intent_token.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <boost/json/array.hpp>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "arbiter/common/json.h"
#include "arbiter/identity/jwk.h"
#include "arbiter/identity/token_error.h"
#include "grants/grants_env.h"

namespace arbiter::grants {
namespace {

using identity::TokenError;
using identity::TokenErrorOf;

std::string Segment(std::string_view token, int i) {
  size_t start = 0;
  for (int k = 0; k < i; ++k) start = token.find('.', start) + 1;
  const size_t end = token.find('.', start);
  return std::string(token.substr(start, end == std::string_view::npos ? end : end - start));
}

std::string DecodeSegment(std::string_view token, int i) {
  return std::string(AsChars(*Base64UrlDecode(Segment(token, i))));
}

// Where uses are recorded: "store" (the grant store, the default) or "mmap" (a mapped
// single-use file). The whole attack matrix runs against both.
std::filesystem::path SingleUseFileFor(std::string_view backend, std::string_view test) {
  if (backend != "mmap") return {};
  const auto dir = std::filesystem::temp_directory_path() /
                   ("arbiter-intent-" + std::to_string(::getpid()) + "-" + std::string(test));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir / "intents.used";
}

void RemoveSingleUseFile(const std::filesystem::path& file) {
  if (!file.empty()) std::filesystem::remove_all(file.parent_path());
}

std::string TestName() {
  std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  for (char& c : name) c = c == '/' ? '-' : c;
  return name;
}

class IntentTokenTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    s_.single_use_file = SingleUseFileFor(GetParam(), TestName());
    s_.Init();
    agent_ = s_.NewAgent();
    grant_ = s_.GrantFor("case-A", (*agent_));
    params_ = boost::json::object{{"amount", 25}, {"currency", "EUR"}, {"order", "o-17"}};
  }

  IntentRequest Request(std::string case_id = "case-A", std::int64_t ttl = 60) {
    IntentRequest r;
    r.case_id = std::move(case_id);
    r.action = "refund.issue";
    r.audience = "payments";
    r.params = params_;
    r.ttl_seconds = ttl;
    return r;
  }

  MintedIntent Mint() {
    auto m = s_.intents->Mint((*agent_), Request());
    EXPECT_TRUE(m) << m.error().ToString();
    return *m;
  }

  IntentExpectations Expect(std::string_view case_id = "case-A") {
    IntentExpectations e;
    e.audience = "payments";
    e.case_id = case_id;
    e.action = "refund.issue";
    e.params = &params_;
    return e;
  }

  // The refusal reason of introspecting `token`, or "active".
  std::string Introspect(std::string_view token, const IntentExpectations& e) {
    auto r = s_.intents->Introspect(token, e);
    if (r) return "active";
    auto reason = TokenErrorOf(r.error());
    EXPECT_TRUE(reason.has_value()) << r.error().ToString();
    return reason ? std::string(identity::TokenErrorName(*reason)) : r.error().ToString();
  }
  std::string Introspect(std::string_view token) { return Introspect(token, Expect()); }

  void TearDown() override {
    s_.intents.reset();
    s_.single_use.reset();
    RemoveSingleUseFile(s_.single_use_file);
  }

  testing::Stack s_;
  std::optional<identity::AgentIdentity> agent_;
  CaseGrant grant_;
  boost::json::value params_;
};

INSTANTIATE_TEST_SUITE_P(SingleUse, IntentTokenTest, ::testing::Values("store", "mmap"),
                         testing::BackendName);

TEST_P(IntentTokenTest, MintedTokenHasTheSpecifiedShape) {
  const MintedIntent m = Mint();
  auto header = ParseJson(DecodeSegment(m.token, 0));
  ASSERT_TRUE(header);
  EXPECT_EQ(header->at("typ").as_string(), "intent+jwt");
  EXPECT_EQ(header->at("alg").as_string(), "ES256");
  EXPECT_EQ(header->at("kid").as_string(), s_.keys->ActiveKid());
  auto claims = ParseJson(DecodeSegment(m.token, 1));
  ASSERT_TRUE(claims);
  const auto& c = claims->as_object();
  EXPECT_EQ(c.at("sub").as_string(), agent_->id.ToString());
  EXPECT_EQ(c.at("aud").as_string(), "payments");
  EXPECT_EQ(c.at("case_id").as_string(), "case-A");
  EXPECT_EQ(c.at("grant_id").as_string(), grant_.id);
  EXPECT_EQ(c.at("action").as_string(), "refund.issue");
  EXPECT_EQ(c.at("jti").as_string(), m.jti);
  EXPECT_EQ(c.at("iss").as_string(), "spiffe://example.org");
  EXPECT_EQ(c.at("exp").as_int64() - c.at("iat").as_int64(), 60);
  // The hash of the canonical JSON: key order and whitespace do not matter.
  auto reordered = ParseJson(R"({ "order":"o-17", "currency":"EUR", "amount":25 })");
  EXPECT_EQ(c.at("params_sha256").as_string(), ParamsSha256(*reordered));
  EXPECT_EQ(c.at("params_sha256").as_string(),
            Base64UrlEncode(Sha256(R"({"amount":25,"currency":"EUR","order":"o-17"})")));
}

TEST_P(IntentTokenTest, IntrospectionIsActiveOnceThenReplayed) {
  const MintedIntent m = Mint();
  auto claims = s_.intents->Introspect(m.token, Expect());
  ASSERT_TRUE(claims) << claims.error().ToString();
  EXPECT_EQ(claims->jti, m.jti);
  EXPECT_EQ(claims->agent, agent_->id.ToString());
  EXPECT_EQ(claims->ToJson().at("active").as_bool(), true);
  // Second use of the jti.
  auto again = s_.intents->Introspect(m.token, Expect());
  ASSERT_FALSE(again);
  EXPECT_EQ(TokenErrorOf(again.error()), TokenError::kReplayed);
  auto json = InactiveIntrospectionJson(again.error());
  EXPECT_EQ(json.at("active").as_bool(), false);
  EXPECT_EQ(json.at("error").as_string(), "replayed");
}

TEST_P(IntentTokenTest, ExpiredAndNotYetValid) {
  const MintedIntent m = Mint();
  s_.clock.AdvanceSeconds(60 + 5);  // exp plus the 5 s leeway
  EXPECT_EQ(Introspect(m.token), "expired");
  // Minted "in the future" relative to the verifier (clock skew beyond the leeway).
  const MintedIntent future = Mint();
  s_.clock.AdvanceSeconds(-30);
  EXPECT_EQ(Introspect(future.token), "not_yet_valid");
}

TEST_P(IntentTokenTest, WrongAudienceAndWrongIssuer) {
  const MintedIntent m = Mint();
  auto e = Expect();
  e.audience = "crm";
  EXPECT_EQ(Introspect(m.token, e), "wrong_audience");
  // Same keys and store, other issuer (e.g. a misconfigured or foreign deployment).
  IntentTokenOptions other;
  other.issuer = "https://other.example";
  auto foreign =
      IntentTokenService::Create(*s_.grant_store, *s_.grants, *s_.keys, s_.clock, s_.random, other);
  ASSERT_TRUE(foreign);
  auto fm = (*foreign)->Mint((*agent_), Request());
  ASSERT_TRUE(fm);
  EXPECT_EQ(Introspect(fm->token), "wrong_issuer");
}

TEST_P(IntentTokenTest, AlgNoneAndHs256WithThePublicKey) {
  const MintedIntent m = Mint();
  const std::string payload_b64 = Segment(m.token, 1);
  const std::string kid = s_.keys->ActiveKid();
  const std::string none_header =
      Base64UrlEncode(AsBytes(R"({"alg":"none","typ":"intent+jwt","kid":")" + kid + "\"}"));
  EXPECT_EQ(Introspect(none_header + "." + payload_b64 + "."), "unsupported_alg");
  const std::string hs_header =
      Base64UrlEncode(AsBytes(R"({"alg":"HS256","typ":"intent+jwt","kid":")" + kid + "\"}"));
  const std::string input = hs_header + "." + payload_b64;
  const auto jwk = s_.keys->Jwks().keys().at(0);
  for (const std::string& secret :
       {ToJson(identity::PublicJwkToJson(jwk)), jwk.key.ToPem(), s_.keys->JwksJson()}) {
    const std::string forged =
        input + "." + Base64UrlEncode(HmacSha256(AsBytes(secret), AsBytes(input)));
    EXPECT_EQ(Introspect(forged), "unsupported_alg");
  }
  // The genuine token is untouched by these attempts.
  EXPECT_EQ(Introspect(m.token), "active");
}

TEST_P(IntentTokenTest, BadSignatureTruncatedAndGarbled) {
  const MintedIntent m = Mint();
  std::string flipped = m.token;
  flipped[flipped.size() - 3] = flipped[flipped.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Introspect(flipped), "bad_signature");
  // A changed payload (more money) under the original signature.
  auto claims = ParseJson(DecodeSegment(m.token, 1))->as_object();
  claims["action"] = "refund.issue";
  claims["params_sha256"] = ParamsSha256(boost::json::object{{"amount", 2500}});
  const std::string tampered = Segment(m.token, 0) + "." +
                               Base64UrlEncode(AsBytes(ToJson(claims))) + "." + Segment(m.token, 2);
  EXPECT_EQ(Introspect(tampered), "bad_signature");
  // Signed with a key Arbiter does not have, under Arbiter's kid.
  auto rogue = EcdsaP256PrivateKey::Generate();
  auto rogue_token = identity::SignJwt(*rogue, s_.keys->ActiveKid(), "intent+jwt", claims);
  EXPECT_EQ(Introspect(*rogue_token), "bad_signature");
  // Truncations and garbage: refused as malformed (or bad signature when only the signature is
  // cut), never accepted.
  for (size_t n = 0; n + 1 < m.token.size(); n += 5) {
    const std::string r = Introspect(m.token.substr(0, n));
    EXPECT_TRUE(r == "malformed" || r == "bad_signature") << n << ": " << r;
  }
  EXPECT_EQ(Introspect(""), "malformed");
  EXPECT_EQ(Introspect("garbage"), "malformed");
  EXPECT_EQ(Introspect("e30.e30.e30"), "malformed");
  EXPECT_EQ(Introspect(std::string(10000, '.')), "malformed");
  // The real token still works afterwards (none of the above consumed it).
  EXPECT_EQ(Introspect(m.token), "active");
}

TEST_P(IntentTokenTest, TokenForCaseAUsedOnCaseB) {
  s_.GrantFor("case-B", (*agent_));
  const MintedIntent m = Mint();
  auto r = s_.intents->Introspect(m.token, Expect("case-B"));
  ASSERT_FALSE(r);
  EXPECT_EQ(TokenErrorOf(r.error()), TokenError::kCaseMismatch);
  EXPECT_EQ(r.error().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.error().message().find("`case-A`"), std::string::npos);
}

TEST_P(IntentTokenTest, OtherActionOrParameters) {
  const MintedIntent m = Mint();
  auto e = Expect();
  e.action = "case.comment";
  EXPECT_EQ(Introspect(m.token, e), "action_mismatch");
  boost::json::value more =
      boost::json::object{{"amount", 2500}, {"currency", "EUR"}, {"order", "o-17"}};
  e = Expect();
  e.params = &more;
  EXPECT_EQ(Introspect(m.token, e), "params_mismatch");
  e = Expect();
  e.params = nullptr;
  e.params_sha256 = m.params_sha256;
  EXPECT_EQ(Introspect(m.token, e), "active");
}

TEST_P(IntentTokenTest, TokenAfterItsCaseClosed) {
  const MintedIntent m = Mint();
  ASSERT_TRUE(s_.grants->RevokeForCase("case-A", "case closed"));
  auto r = s_.intents->Introspect(m.token, Expect());
  ASSERT_FALSE(r);
  EXPECT_EQ(TokenErrorOf(r.error()), TokenError::kGrantInactive);
  EXPECT_NE(r.error().message().find("case closed"), std::string::npos);
  // And no new token can be minted for it.
  auto again = s_.intents->Mint((*agent_), Request());
  ASSERT_FALSE(again);
  EXPECT_EQ(TokenErrorOf(again.error()), TokenError::kGrantInactive);
}

TEST_P(IntentTokenTest, TokenAfterItsGrantExpired) {
  testing::Stack& s = s_;
  const auto b = s.NewAgent();
  s.GrantFor("case-short", b, 30);
  auto r = Request("case-short", 120);
  auto m = s.intents->Mint(b, r);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->expires_at, s.clock.NowSeconds() + 30);  // never outlives the grant
  s.clock.AdvanceSeconds(30);
  EXPECT_EQ(Introspect(m->token, Expect("case-short")), "grant_inactive");
}

TEST_P(IntentTokenTest, AgentActingOnACaseAnotherInstanceClaimed) {
  const auto intruder = s_.NewAgent();  // same workload, different instance
  auto m = s_.intents->Mint(intruder, Request());
  ASSERT_FALSE(m);
  EXPECT_EQ(TokenErrorOf(m.error()), TokenError::kAgentMismatch);
  EXPECT_EQ(m.error().code(), StatusCode::kPermissionDenied);
  auto claim = s_.grants->Claim(grant_.id, intruder);
  ASSERT_FALSE(claim);
  EXPECT_EQ(TokenErrorOf(claim.error()), TokenError::kAgentMismatch);
  // A token signed by Arbiter's key naming the intruder as subject on A's grant is not one
  // Arbiter minted.
  const MintedIntent genuine = Mint();
  auto claims = ParseJson(DecodeSegment(genuine.token, 1))->as_object();
  claims["sub"] = intruder.id.ToString();
  claims["jti"] = "forged-jti";
  auto forged = s_.keys->Sign("intent+jwt", claims);
  EXPECT_EQ(Introspect(*forged), "unknown_token");
}

TEST_P(IntentTokenTest, MintRefusesWhatTheRegistryNeverAllowed) {
  auto r = Request();
  r.action = "account.delete";
  auto m = s_.intents->Mint((*agent_), r);
  ASSERT_FALSE(m);
  EXPECT_EQ(TokenErrorOf(m.error()), TokenError::kIntentNotAllowed);
  EXPECT_EQ(s_.intents->Mint((*agent_), Request("case-A", 121)).error().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(s_.intents->Mint((*agent_), Request("case-A", 0)).error().code(),
            StatusCode::kInvalidArgument);
  r = Request();
  r.audience = "bad audience";
  EXPECT_EQ(s_.intents->Mint((*agent_), r).error().code(), StatusCode::kInvalidArgument);
}

TEST_P(IntentTokenTest, OfflineVerificationWithTheJwks) {
  const MintedIntent m = Mint();
  auto jwks = identity::JwkSet::Parse(s_.keys->JwksJson());
  ASSERT_TRUE(jwks);
  auto c =
      VerifyIntentToken(m.token, *jwks, "spiffe://example.org", "payments", s_.clock.NowSeconds());
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->case_id, "case-A");
  EXPECT_EQ(TokenErrorOf(VerifyIntentToken(m.token, *jwks, "spiffe://example.org", "crm",
                                           s_.clock.NowSeconds())
                             .error()),
            TokenError::kWrongAudience);
  // An SVID is not an intent token.
  std::string svid;
  s_.NewAgent("refund-bot", &svid);
  EXPECT_EQ(TokenErrorOf(VerifyIntentToken(svid, *jwks, "spiffe://example.org", "arbiter",
                                           s_.clock.NowSeconds())
                             .error()),
            TokenError::kWrongType);
}

TEST_P(IntentTokenTest, KeyRotationKeepsOutstandingTokensValid) {
  const MintedIntent before = Mint();
  ASSERT_TRUE(s_.keys->Rotate().ok());
  const MintedIntent after = Mint();
  EXPECT_EQ(Introspect(before.token), "active");
  EXPECT_EQ(Introspect(after.token), "active");
}

TEST_P(IntentTokenTest, PruneForgetsOnlyExpiredIntents) {
  const MintedIntent m = Mint();
  EXPECT_EQ(*s_.intents->Prune(), 0);
  s_.clock.AdvanceSeconds(200);
  EXPECT_EQ(*s_.intents->Prune(), 1);
  const MintedIntent fresh = Mint();
  // A pruned token is expired anyway; it stays refused. A fresh one keeps its record.
  EXPECT_NE(Introspect(m.token), "active");
  EXPECT_EQ(Introspect(fresh.token), "active");
  EXPECT_EQ(Introspect(fresh.token), "replayed");
}

// Nobody has to remember to prune: minting does it, at most once a minute.
TEST_P(IntentTokenTest, MintingPrunesOldRecords) {
  const MintedIntent old_token = Mint();
  EXPECT_EQ(Introspect(old_token.token), "active");
  const MintedIntent unused = Mint();
  s_.clock.AdvanceSeconds(200);
  EXPECT_EQ(Introspect(unused.token), "expired");  // its record is still there
  Mint();                                          // due: prunes the two old records
  EXPECT_EQ(*s_.intents->Prune(), 0);
  EXPECT_EQ(Introspect(unused.token), "unknown_token");
}

}  // namespace
}  // namespace arbiter::grants

namespace arbiter::grants {
namespace {

class IntentTokenConcurrency : public ::testing::TestWithParam<const char*> {};
INSTANTIATE_TEST_SUITE_P(SingleUse, IntentTokenConcurrency, ::testing::Values("store", "mmap"),
                         testing::BackendName);

TEST_P(IntentTokenConcurrency, ExactlyOneOfManyConcurrentIntrospectionsIsActive) {
  testing::Stack s;
  s.single_use_file = SingleUseFileFor(GetParam(), TestName());
  s.Init();
  const auto agent = s.NewAgent();
  s.GrantFor("case-A", agent);
  IntentRequest r;
  r.case_id = "case-A";
  r.action = "refund.issue";
  r.audience = "payments";
  auto m = s.intents->Mint(agent, r);
  ASSERT_TRUE(m);
  IntentExpectations e;
  e.audience = "payments";
  std::atomic<int> active{0};
  std::atomic<int> replayed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto c = s.intents->Introspect(m->token, e);
      if (c) {
        ++active;
      } else if (identity::TokenErrorOf(c.error()) == identity::TokenError::kReplayed) {
        ++replayed;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(active.load(), 1);
  EXPECT_EQ(replayed.load(), 7);
  s.intents.reset();
  s.single_use.reset();
  RemoveSingleUseFile(s.single_use_file);
}

// The single-use record is durable: a token used before a restart stays used after it, and one
// minted but unused before it is still good once.
class IntentTokenDurability : public ::testing::TestWithParam<const char*> {};
INSTANTIATE_TEST_SUITE_P(SingleUse, IntentTokenDurability, ::testing::Values("store", "mmap"),
                         testing::BackendName);

TEST_P(IntentTokenDurability, AReplayAfterRestartIsRefused) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("arbiter-intent-durability-" + std::to_string(::getpid()) + "-" + GetParam());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  testing::Stack s;
  if (std::string_view(GetParam()) == "mmap") s.single_use_file = dir / "intents.used";
  s.Init("spiffe://example.org", dir / "grants.db");
  const auto agent = s.NewAgent();
  s.GrantFor("case-A", agent);
  IntentRequest r;
  r.case_id = "case-A";
  r.action = "refund.issue";
  r.audience = "payments";
  auto used = s.intents->Mint(agent, r);
  auto unused = s.intents->Mint(agent, r);
  ASSERT_TRUE(used && unused);
  IntentExpectations e;
  e.audience = "payments";
  ASSERT_TRUE(s.intents->Introspect(used->token, e));

  s.RestartGrants();
  auto again = s.intents->Introspect(used->token, e);
  ASSERT_FALSE(again);
  EXPECT_EQ(identity::TokenErrorOf(again.error()), identity::TokenError::kReplayed);
  EXPECT_TRUE(s.intents->Introspect(unused->token, e));
  auto twice = s.intents->Introspect(unused->token, e);
  ASSERT_FALSE(twice);
  EXPECT_EQ(identity::TokenErrorOf(twice.error()), identity::TokenError::kReplayed);
  s.intents.reset();
  s.grants.reset();
  s.grant_store.reset();
  s.single_use.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace arbiter::grants
