// Deferred intent records (IntentTokenOptions::defer_records, with a mapped single-use file):
// Mint queues the grant store's record for a writer thread. The records reach the store, also
// when the service shuts down; a token whose record is still queued or was lost with its process
// is checked exactly as before (registry: digest, single use; grant; claims); a failing store
// holds records back until it recovers.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "arbiter/grants/intent_token.h"
#include "arbiter/identity/token_error.h"
#include "grants/grants_env.h"

namespace arbiter::grants {
namespace {

using identity::TokenErrorOf;

// A grant store whose deferred-record inserts can be dropped (as if the process had died before
// committing them) or failed (a broken disk), forwarding everything else.
class FaultyStore final : public GrantStore {
 public:
  enum class Mode { kPass, kDrop, kFail };
  explicit FaultyStore(std::unique_ptr<GrantStore> inner) : inner_(std::move(inner)) {}
  std::atomic<Mode> mode{Mode::kPass};

  Status InsertIssuedIntents(std::span<const IntentRecord> records) override {
    switch (mode.load()) {
      case Mode::kDrop: return Status::Ok();
      case Mode::kFail: return Status::Unavailable("disk I/O error (injected)");
      case Mode::kPass: break;
    }
    return inner_->InsertIssuedIntents(records);
  }
  Status InsertGrant(const CaseGrant& g) override { return inner_->InsertGrant(g); }
  Result<CaseGrant> GetGrant(std::string_view id) override { return inner_->GetGrant(id); }
  Result<std::vector<CaseGrant>> ListGrantsByCase(std::string_view c) override {
    return inner_->ListGrantsByCase(c);
  }
  Result<std::vector<CaseGrant>> ListGrantsByAgent(std::string_view a) override {
    return inner_->ListGrantsByAgent(a);
  }
  Result<bool> ClaimGrant(std::string_view id, std::string_view agent, std::int64_t now,
                          std::int64_t expires_at, std::int64_t max_expires_at) override {
    return inner_->ClaimGrant(id, agent, now, expires_at, max_expires_at);
  }
  Result<bool> ExtendGrant(std::string_view id, std::int64_t now,
                           std::int64_t expires_at) override {
    return inner_->ExtendGrant(id, now, expires_at);
  }
  Result<bool> EndGrant(std::string_view id, GrantState state, std::int64_t at,
                        std::string_view reason) override {
    return inner_->EndGrant(id, state, at, reason);
  }
  Result<int> RevokeGrantsForCase(std::string_view case_id, std::int64_t at,
                                  std::string_view reason) override {
    return inner_->RevokeGrantsForCase(case_id, at, reason);
  }
  Result<int> ExpireDueGrants(std::int64_t now) override { return inner_->ExpireDueGrants(now); }
  Result<bool> InsertIntent(const IntentRecord& r, std::int64_t now) override {
    return inner_->InsertIntent(r, now);
  }
  Result<IntentRecord> GetIntent(std::string_view jti) override { return inner_->GetIntent(jti); }
  Result<bool> ConsumeIntent(std::string_view jti, const Sha256Digest& d,
                             std::int64_t now) override {
    return inner_->ConsumeIntent(jti, d, now);
  }
  Result<bool> IntentUsable(std::string_view jti, const Sha256Digest& d,
                            std::int64_t now) override {
    return inner_->IntentUsable(jti, d, now);
  }
  Result<int> DeleteIntentsBefore(std::string_view bound, std::int64_t before) override {
    return inner_->DeleteIntentsBefore(bound, before);
  }

 private:
  std::unique_ptr<GrantStore> inner_;
};

class DeferredRecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("arbiter-deferred-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    s_.single_use_file = dir_ / "intents.used";
    s_.Init("spiffe://example.org", dir_ / "arbiter.db");
    // The same stack on a store that can lose or fail deferred records.
    s_.intents.reset();
    s_.grants.reset();
    auto faulty = std::make_unique<FaultyStore>(std::move(s_.grant_store));
    store_ = faulty.get();
    s_.grant_store = std::move(faulty);
    s_.StartGrantServices();
    agent_ = s_.NewAgent();
    s_.GrantFor("case-A", *agent_);
    params_ = boost::json::object{{"amount", 25}, {"order", "o-17"}};
  }

  void TearDown() override {
    s_.intents.reset();
    s_.grants.reset();
    s_.single_use.reset();
    s_.grant_store.reset();
    std::filesystem::remove_all(dir_);
  }

  MintedIntent Mint(const std::string& case_id = "case-A",
                    const identity::AgentIdentity* agent = nullptr) {
    IntentRequest r;
    r.case_id = case_id;
    r.action = "refund.issue";
    r.audience = "payments";
    r.params = params_;
    auto m = s_.intents->Mint(agent != nullptr ? *agent : *agent_, r);
    EXPECT_TRUE(m) << m.error().ToString();
    return m ? *m : MintedIntent{};
  }

  std::string Introspect(std::string_view token, std::string_view audience = "payments",
                         std::string_view case_id = "case-A") {
    IntentExpectations e;
    e.audience = audience;
    e.case_id = case_id;
    e.action = "refund.issue";
    e.params = &params_;
    auto r = s_.intents->Introspect(token, e);
    if (r) return "active";
    auto reason = TokenErrorOf(r.error());
    return reason ? std::string(identity::TokenErrorName(*reason)) : r.error().ToString();
  }

  void ExpectRecorded(const MintedIntent& m) {
    auto rec = s_.grant_store->GetIntent(m.jti);
    ASSERT_TRUE(rec) << rec.error().ToString();
    EXPECT_EQ(rec->token_sha256, Sha256(m.token));
    EXPECT_EQ(rec->case_id, "case-A");
    EXPECT_EQ(rec->agent, agent_->id.ToString());
    EXPECT_EQ(rec->expires_at, m.expires_at);
    EXPECT_EQ(rec->used_at, 0);
  }

  std::filesystem::path dir_;
  testing::Stack s_;
  FaultyStore* store_ = nullptr;
  std::optional<identity::AgentIdentity> agent_;
  boost::json::value params_;
};

TEST_F(DeferredRecordsTest, RecordsReachTheStoreAndSurviveShutdown) {
  std::vector<MintedIntent> minted;
  for (int i = 0; i < 20; ++i) minted.push_back(Mint());
  ASSERT_TRUE(s_.intents->FlushRecords().ok());
  for (const auto& m : minted) ExpectRecorded(m);
  // Queued records are committed before the service goes away.
  std::vector<MintedIntent> last;
  for (int i = 0; i < 5; ++i) last.push_back(Mint());
  s_.intents.reset();
  for (const auto& m : last) ExpectRecorded(m);
}

TEST_F(DeferredRecordsTest, WithoutDeferralTheRecordIsThereWhenMintReturns) {
  s_.intents.reset();
  s_.grants.reset();
  s_.defer_records = false;
  s_.StartGrantServices();
  store_->mode = FaultyStore::Mode::kFail;  // not used on this path
  const MintedIntent m = Mint();
  ExpectRecorded(m);
  EXPECT_EQ(Introspect(m.token), "active");
  EXPECT_EQ(Introspect(m.token), "replayed");
}

// What a crash between a mint and the commit of its record leaves: the token was recorded as
// issued in the mapped file, so it is checked exactly as any other (single use, grant, claims,
// binding), and a forgery is still told apart from it.
TEST_F(DeferredRecordsTest, ATokenWhoseRecordWasLostIsCheckedInFull) {
  store_->mode = FaultyStore::Mode::kDrop;
  const MintedIntent m = Mint();
  ASSERT_TRUE(s_.intents->FlushRecords().ok());
  ASSERT_EQ(s_.grant_store->GetIntent(m.jti).error().code(), StatusCode::kNotFound);
  EXPECT_EQ(Introspect(m.token, "billing"), "wrong_audience");  // not unknown_token
  EXPECT_EQ(Introspect(m.token, "payments", "case-B"), "case_mismatch");
  std::string tampered = m.token;
  tampered[tampered.find('.') + 5] ^= 1;
  EXPECT_EQ(Introspect(tampered), "bad_signature");
  EXPECT_EQ(Introspect(m.token), "active");
  EXPECT_EQ(Introspect(m.token), "replayed");

  const MintedIntent expiring = Mint();
  const MintedIntent revoked = Mint();
  s_.clock.AdvanceSeconds(66);  // both have expired (exp = iat + 60, leeway 5 s)
  EXPECT_EQ(Introspect(expiring.token), "expired");
  ASSERT_TRUE(s_.grants->RevokeForCase("case-A", "case closed"));
  EXPECT_EQ(Introspect(revoked.token), "expired");
  const auto b = s_.NewAgent();
  s_.GrantFor("case-C", b);
  const MintedIntent c = Mint("case-C", &b);
  ASSERT_TRUE(s_.grants->RevokeForCase("case-C", "case closed"));
  EXPECT_EQ(Introspect(c.token, "payments", "case-C"), "grant_inactive");
}

TEST_F(DeferredRecordsTest, AFailingStoreHoldsRecordsBackUntilItRecovers) {
  store_->mode = FaultyStore::Mode::kFail;
  const MintedIntent a = Mint();
  const MintedIntent b = Mint();
  Status flushed = s_.intents->FlushRecords(std::chrono::milliseconds(200));
  EXPECT_EQ(flushed.code(), StatusCode::kUnavailable);
  EXPECT_NE(flushed.message().find("disk I/O error (injected)"), std::string::npos)
      << flushed.ToString();
  EXPECT_EQ(Introspect(a.token), "active");  // introspection does not need the record
  store_->mode = FaultyStore::Mode::kPass;
  ASSERT_TRUE(s_.intents->FlushRecords().ok());
  ExpectRecorded(a);
  ExpectRecorded(b);
}

TEST_F(DeferredRecordsTest, ARefusalWaitsForTheRecordOfThisProcess) {
  // Explaining a refusal reads the record; one still queued here is committed first, so that a
  // genuine token is never reported as unknown.
  const MintedIntent m = Mint();
  EXPECT_EQ(Introspect(m.token, "billing"), "wrong_audience");
  ExpectRecorded(m);
}

}  // namespace
}  // namespace arbiter::grants
