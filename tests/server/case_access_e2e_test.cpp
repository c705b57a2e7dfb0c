// Source payloads, the agent's minimised case view and intent-token introspection over real HTTP
// on the assembled App (grants module behind routing, evidence acknowledged after group commit):
// each source endpoint routes its payload, the view is redacted and only for the grant's holder,
// an intent token is good once and dies with its case.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "app_fixture.h"
#include "arbiter/common/crypto.h"
#include "arbiter/identity/registry.h"
#include "arbiter/ledger/verify.h"
#include "arbiter/server/app.h"
#include "arbiter/store/sqlite.h"
#include "support/shared_data.h"
#include "test_client.h"

namespace arbiter::server {
namespace {

namespace fs = std::filesystem;
using testing::Fetch;
using testing::RawResponse;

// Stays with AI under examples/support; its e-mail address makes it `internal`.
constexpr const char* kCase =
    R"({"id":"CASE-V","source":"native","subject":"Where is my order?",)"
    R"("body":"Please write to ana.lopez@example.org about the parcel.",)"
    R"("customer":{"id":"cust-42","tier":"standard"},"language":"en","priority":"low",)"
    R"("severity":4,"category":"shipping","channel":"web","ai":{"confidence":0.89}})";

class CaseAccessE2eTest : public testing::AppE2eTest {
 protected:
  void SetUp() override {
    AppE2eTest::SetUp();
    alice_ = NewUser("alice", "supervisor");
    bob_ = NewUser("bob", "agent");
  }
  std::string AllowedToken(const std::string& agent, const std::string& params) {
    RawResponse r = Call("POST", "/v1/intents", agent,
                         R"({"case_id":"CASE-V","action":"refund","params":)" + params + "}");
    EXPECT_EQ(r.status, 200) << r.body;
    auto o = Json(r);
    EXPECT_EQ(o.at("decision").as_string(), "allow") << r.body;
    return o.contains("token") ? std::string(o.at("token").as_string()) : std::string();
  }
  boost::json::object Introspect(const std::string& caller, const std::string& body) {
    RawResponse r = Call("POST", "/v1/intents/introspect", caller, body);
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r);
  }

  std::string alice_, bob_;
};

TEST_F(CaseAccessE2eTest, EachSourceEndpointRoutesItsPayload) {
  struct Payload {
    std::string source, body, id;
  };
  const Payload kPayloads[] = {
      {"zendesk",
       R"({"ticket":{"id":35436,"subject":"Printer on fire","description":"It smokes.",)"
       R"("priority":"high","status":"open","requester_id":20978392}})",
       ""},
      {"freshdesk",
       R"({"id":7,"subject":"Cannot log in","description_text":"Reset link fails.",)"
       R"("priority":2,"status":2,"source":1})",
       ""},
      {"servicenow",
       R"({"result":{"number":"INC0000042","short_description":"VPN down","priority":"3",)"
       R"("severity":"3"}})",
       "INC0000042"},
      {"jira",
       R"({"webhookEvent":"jira:issue_created","issue":{"key":"SUP-9","fields":{)"
       R"("summary":"Export broken","issuetype":{"name":"Task"},"priority":{"name":"High"}}}})",
       "SUP-9"},
      {"email",
       "From: Ana <ana@example.org>\r\nTo: help@example.com\r\nSubject: Refund please\r\n"
       "Message-ID: <m1@example.org>\r\n\r\nMy parcel never came.\r\n",
       "m1@example.org"},
  };
  for (const auto& p : kPayloads) {
    RawResponse r = Call("POST", "/v1/sources/" + p.source + "?wait=integrated", bob_, p.body);
    ASSERT_EQ(r.status, 201) << p.source << ": " << r.body;
    auto o = Json(r);
    if (!p.id.empty()) {
      EXPECT_EQ(o.at("case_id").as_string(), p.id) << p.source;
    }
    EXPECT_TRUE(o.at("decision").as_object().contains("route")) << p.source;
    EXPECT_EQ(o.at("receipt").at("index"), o.at("evidence_index")) << p.source;
    // The same payload again is a state conflict: the case is already routed.
    ExpectError(Call("POST", "/v1/sources/" + p.source, bob_, p.body), 409, "failed_precondition");
  }
  ExpectError(Call("POST", "/v1/sources/hubspot", bob_, "{}"), 404, "not_found");
  ExpectError(Call("POST", "/v1/sources/freshdesk", bob_, R"({"id":1,"priority":7})"), 400,
              "invalid_argument");
  ExpectError(Call("POST", "/v1/sources/zendesk", bob_, "{not json"), 400, "invalid_argument");
  ExpectError(Call("POST", "/v1/sources/email", bob_, ""), 400, "invalid_argument");
  EXPECT_EQ(Call("POST", "/v1/sources/zendesk", "", kPayloads[0].body).status, 401);
}

TEST_F(CaseAccessE2eTest, SharedSourcePayloadsRoute) {
  ARBITER_REQUIRE_SHARED(dir, "data/payloads");
  const std::pair<const char*, const char*> kFiles[] = {
      {"zendesk", "zendesk_ticket_show.json"},
      {"zendesk", "zendesk_event_webhook_ticket_created.json"},
      {"jira", "jira_webhook_issue_created.json"},
      {"jira", "jsm_customer_request.json"},
      {"servicenow", "servicenow_incident_table_record.json"},
      {"freshdesk", "freshdesk_ticket_v2.json"},
      {"email", "email_rfc5322_A2_reply.eml"}};
  for (const auto& [source, file] : kFiles) {
    std::ifstream in(dir / file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    RawResponse r = Call("POST", std::string("/v1/sources/") + source, bob_, text.str());
    // Two payloads may describe the same ticket; the second is then a 409.
    EXPECT_TRUE(r.status == 201 || r.status == 409) << file << ": " << r.body;
  }
}

TEST_F(CaseAccessE2eTest, TheViewIsRedactedAndOnlyForTheGrantHolder) {
  ASSERT_EQ(Call("POST", "/v1/cases", bob_, kCase).status, 201);
  std::string agent = Agent("refund-agent-1");
  std::string sibling = Agent("refund-agent-1");  // same workload, another instance
  ExpectError(Call("GET", "/v1/cases/CASE-V/view", agent), 403, "permission_denied");  // unclaimed

  RawResponse claimed = Call("POST", "/v1/cases/CASE-V/claim", agent);
  ASSERT_EQ(claimed.status, 200) << claimed.body;
  std::string grant_id(Json(claimed).at("grant_id").as_string());

  RawResponse view = Call("GET", "/v1/cases/CASE-V/view", agent);
  ASSERT_EQ(view.status, 200) << view.body;
  auto v = Json(view);
  EXPECT_EQ(v.at("case_id").as_string(), "CASE-V");
  EXPECT_EQ(v.at("body").as_string(), "Please write to [EMAIL] about the parcel.");
  EXPECT_EQ(view.body.find("ana.lopez@example.org"), std::string::npos);
  EXPECT_EQ(view.body.find("cust-42"), std::string::npos);  // no customer identifier
  EXPECT_EQ(v.at("customer").at("tier").as_string(), "standard");
  EXPECT_EQ(v.at("sensitivity").at("level").as_string(), "internal");
  EXPECT_EQ(v.at("sensitivity").at("kinds").at("email").to_number<int>(), 1);
  EXPECT_EQ(v.at("grant").at("id").as_string(), grant_id);

  ExpectError(Call("GET", "/v1/cases/CASE-V/view", sibling), 403, "permission_denied");
  ExpectError(Call("GET", "/v1/cases/CASE-V/view", alice_), 403, "permission_denied");
  ExpectError(Call("GET", "/v1/cases/NOPE/view", agent), 404, "not_found");
  EXPECT_EQ(Call("GET", "/v1/cases/CASE-V/view", "").status, 401);

  // Closing the case revokes the grant: the view is gone with it.
  ASSERT_EQ(Call("POST", "/v1/cases/CASE-V/close", alice_, R"({"resolution":"done"})").status, 200);
  ExpectError(Call("GET", "/v1/cases/CASE-V/view", agent), 403, "permission_denied");
}

TEST_F(CaseAccessE2eTest, IntentTokensAreSingleUseAndDieWithTheCase) {
  ASSERT_EQ(Call("POST", "/v1/cases", bob_, kCase).status, 201);
  std::string agent = Agent("refund-agent-1");
  ASSERT_EQ(Call("POST", "/v1/cases/CASE-V/claim", agent).status, 200);

  // A tool (any authenticated caller) checks the token against what it is about to do.
  std::string token = AllowedToken(agent, R"({"amount_cents":2500})");
  ASSERT_FALSE(token.empty());
  std::string check = R"({"token":")" + token +
                      R"(","case_id":"CASE-V","action":"refund","params":{"amount_cents":2500}})";
  auto wrong = Introspect(bob_, R"({"token":")" + token +
                                    R"(","case_id":"CASE-V","action":"refund",)"
                                    R"("params":{"amount_cents":99999}})");
  EXPECT_FALSE(wrong.at("active").as_bool());
  EXPECT_EQ(wrong.at("error").as_string(), "params_mismatch");
  auto first = Introspect(bob_, check);
  ASSERT_TRUE(first.at("active").as_bool()) << boost::json::serialize(first);
  EXPECT_EQ(first.at("case_id").as_string(), "CASE-V");
  EXPECT_EQ(first.at("action").as_string(), "refund");
  auto second = Introspect(bob_, check);
  EXPECT_FALSE(second.at("active").as_bool());
  EXPECT_EQ(second.at("error").as_string(), "replayed");

  // A forged token (one byte of the signature changed) and garbage are inactive, never 500.
  std::string forged = AllowedToken(agent, R"({"amount_cents":100})");
  forged[forged.size() - 2] = forged[forged.size() - 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(Introspect(bob_, R"({"token":")" + forged + R"("})").at("active").as_bool());
  EXPECT_FALSE(Introspect(bob_, R"({"token":"not.a.token"})").at("active").as_bool());

  // A token issued before the close is refused after it: the grant was revoked.
  std::string before_close = AllowedToken(agent, R"({"amount_cents":300})");
  ASSERT_EQ(Call("POST", "/v1/cases/CASE-V/close", alice_, R"({"resolution":"done"})").status, 200);
  auto late = Introspect(bob_, R"({"token":")" + before_close + R"("})");
  EXPECT_FALSE(late.at("active").as_bool());
  EXPECT_EQ(late.at("error").as_string(), "grant_inactive");

  ExpectError(Call("POST", "/v1/intents/introspect", bob_, R"({"audience":"tools"})"), 400,
              "invalid_argument");
  ExpectError(Call("POST", "/v1/intents/introspect", bob_, R"({"token":"x","params":[1]})"), 400,
              "invalid_argument");
  EXPECT_EQ(Call("POST", "/v1/intents/introspect", "", check).status, 401);
}

// Cases, their holder, content and grants live in <data>/arbiter.db: after a restart the agent
// that claimed a case still holds it, sees its view and gets intent tokens; conflicts still hold.
TEST_F(CaseAccessE2eTest, ARestartKeepsCasesClaimsAndViews) {
  ASSERT_EQ(Call("POST", "/v1/cases", bob_, kCase).status, 201);
  std::string agent = Agent("refund-agent-1");
  std::string other = Agent("refund-agent-1");
  ASSERT_EQ(Call("POST", "/v1/cases/CASE-V/claim", agent).status, 200);
  RawResponse before = Call("GET", "/v1/cases/CASE-V", alice_);
  ASSERT_EQ(before.status, 200) << before.body;

  app_.reset();
  StartApp();

  RawResponse after = Call("GET", "/v1/cases/CASE-V", alice_);
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(Json(after).at("state"), Json(before).at("state"));
  EXPECT_EQ(Json(after).at("evidence"), Json(before).at("evidence"));
  RawResponse view = Call("GET", "/v1/cases/CASE-V/view", agent);
  ASSERT_EQ(view.status, 200) << view.body;
  EXPECT_EQ(Json(view).at("body").as_string(), "Please write to [EMAIL] about the parcel.");
  EXPECT_EQ(Call("POST", "/v1/cases/CASE-V/claim", other).status, 409);
  EXPECT_EQ(Call("POST", "/v1/cases", bob_, kCase).status, 409);
  std::string token = AllowedToken(agent, R"({"amount_cents":2500})");
  ASSERT_FALSE(token.empty());
  EXPECT_TRUE(Introspect(bob_, R"({"token":")" + token + R"("})").at("active").as_bool());

  ASSERT_EQ(Call("POST", "/v1/cases/CASE-V/close", alice_, R"({"resolution":"done"})").status, 200);
  app_.reset();
  StartApp();
  EXPECT_EQ(Call("POST", "/v1/cases/CASE-V/close", alice_, R"({"resolution":"again"})").status,
            409);
  ExpectError(Call("GET", "/v1/cases/CASE-V/view", agent), 403, "permission_denied");
}

// An intent pending approval keeps its parameters in the server's table: after a restart the
// supervisor approves it and the agent's token binds the parameters it asked with.
TEST_F(CaseAccessE2eTest, AnIntentPendingApprovalSurvivesARestart) {
  ASSERT_EQ(Call("POST", "/v1/cases", bob_, kCase).status, 201);
  std::string agent = Agent("refund-agent-1");
  ASSERT_EQ(Call("POST", "/v1/cases/CASE-V/claim", agent).status, 200);
  RawResponse asked =
      Call("POST", "/v1/intents", agent,
           R"({"case_id":"CASE-V","action":"refund","params":{"amount_cents":50000}})");
  ASSERT_EQ(asked.status, 200) << asked.body;
  ASSERT_EQ(Json(asked).at("decision").as_string(), "pending_approval") << asked.body;
  std::string approve =
      R"({"intent_id":")" + std::string(Json(asked).at("intent_id").as_string()) + R"("})";

  app_.reset();
  StartApp();

  RawResponse approved = Call("POST", "/v1/cases/CASE-V/approve", alice_, approve);
  ASSERT_EQ(approved.status, 200) << approved.body;
  auto intent = Json(approved).at("intent").as_object();
  EXPECT_EQ(intent.at("decision").as_string(), "allow") << approved.body;
  ASSERT_TRUE(intent.contains("token")) << approved.body;
  std::string token(intent.at("token").as_string());
  auto wrong = Introspect(bob_, R"({"token":")" + token + R"(","params":{"amount_cents":50001}})");
  EXPECT_EQ(wrong.at("error").as_string(), "params_mismatch");
  auto right = Introspect(bob_, R"({"token":")" + token +
                                    R"(","case_id":"CASE-V","action":"refund",)"
                                    R"("params":{"amount_cents":50000}})");
  EXPECT_TRUE(right.at("active").as_bool()) << boost::json::serialize(right);
}

// The remembered parameters are bounded in size, and deleted when the case closes or its personal
// data is erased (they can carry personal data).
TEST_F(CaseAccessE2eTest, RememberedParametersAreBoundedAndErased) {
  auto remembered = [&](std::string_view case_id) -> std::int64_t {
    auto db = store::SqliteDb::Open(fs::path(dir_) / "arbiter.db");
    EXPECT_TRUE(db.has_value());
    auto q = (*db)->Prepare("SELECT count(*) FROM server_intent_params WHERE case_id = ?1");
    EXPECT_TRUE(q.has_value());
    q->Bind(1, case_id);
    EXPECT_TRUE(q->Step().value_or(false));
    return q->ColumnInt64(0);
  };
  ASSERT_EQ(Call("POST", "/v1/cases", bob_, kCase).status, 201);
  std::string agent = Agent("refund-agent-1");
  ASSERT_EQ(Call("POST", "/v1/cases/CASE-V/claim", agent).status, 200);
  AllowedToken(agent, R"({"amount_cents":100})");
  EXPECT_EQ(remembered("CASE-V"), 1);
  std::string huge = R"({"case_id":"CASE-V","action":"refund","params":{"note":")" +
                     std::string(70000, 'x') + R"("}})";
  ExpectError(Call("POST", "/v1/intents", agent, huge), 400, "invalid_argument");
  EXPECT_EQ(Call("DELETE", "/v1/admin/cases/CASE-V/personal-data", admin_).status, 204);
  EXPECT_EQ(remembered("CASE-V"), 0);

  std::string second = kCase;
  second.replace(second.find("CASE-V"), 6, "CASE-W");
  ASSERT_EQ(Call("POST", "/v1/cases", bob_, second).status, 201);
  ASSERT_EQ(Call("POST", "/v1/cases/CASE-W/claim", agent).status, 200);
  RawResponse asked =
      Call("POST", "/v1/intents", agent,
           R"({"case_id":"CASE-W","action":"refund","params":{"amount_cents":50000}})");
  ASSERT_EQ(asked.status, 200) << asked.body;
  EXPECT_EQ(remembered("CASE-W"), 1);
  ASSERT_EQ(Call("POST", "/v1/cases/CASE-W/close", alice_, R"({"resolution":"done"})").status, 200);
  EXPECT_EQ(remembered("CASE-W"), 0);
}

// GET /metrics reports the case grants active now.
TEST_F(CaseAccessE2eTest, MetricsCountActiveGrants) {
  auto active = [&]() -> std::string {
    RawResponse m = Call("GET", "/metrics", "");
    EXPECT_EQ(m.status, 200);
    const std::string name = "\narbiter_grants_active ";
    size_t at = m.body.find(name);
    if (at == std::string::npos) return "(missing)";
    at += name.size();
    return m.body.substr(at, m.body.find('\n', at) - at);
  };
  EXPECT_EQ(active(), "0");
  ASSERT_EQ(Call("POST", "/v1/cases", bob_, kCase).status, 201);
  std::string agent = Agent("refund-agent-1");
  ASSERT_EQ(Call("POST", "/v1/cases/CASE-V/claim", agent).status, 200);
  EXPECT_EQ(active(), "1");
  ASSERT_EQ(Call("POST", "/v1/cases/CASE-V/close", alice_, R"({"resolution":"done"})").status, 200);
  EXPECT_EQ(active(), "0");
}

// With `evidence_ack = written` a write is acknowledged once its evidence is in the ledger's log,
// before the fsync; the ledger still verifies and receipts still come (after the fsync).
TEST_F(CaseAccessE2eTest, WrittenAcknowledgementKeepsTheLedgerWhole) {
  app_.reset();
  evidence_ack_ = EvidenceAck::kWritten;
  StartApp();
  std::uint64_t last = 0;
  for (int i = 0; i < 5; ++i) {
    std::string body = kCase;
    body.replace(body.find("CASE-V"), 6, "W-" + std::to_string(i));
    RawResponse r = Call("POST", "/v1/cases", bob_, body);
    ASSERT_EQ(r.status, 201) << r.body;
    last = Json(r).at("evidence_index").to_number<std::uint64_t>();
  }
  RawResponse receipt =
      Call("GET", "/v1/ledger/receipts/" + std::to_string(last) + "?wait=integrated", "");
  EXPECT_EQ(receipt.status, 200) << receipt.body;
  std::string ledger_dir = dir_ + "/ledger";
  app_.reset();
  auto report = ledger::VerifyLedgerDir(ledger_dir);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_TRUE(report->ok());
  EXPECT_GT(report->entries, last);
}

TEST_F(CaseAccessE2eTest, ConcurrentWritesAreAcknowledgedDurableInOneLedger) {
  // Many concurrent requests share group commits; every acknowledged index is readable at once.
  constexpr int kThreads = 8, kPerThread = 10;
  std::vector<std::thread> threads;
  std::vector<std::vector<std::uint64_t>> indices(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string body = kCase;
        body.replace(body.find("CASE-V"), 6, "C-" + std::to_string(t) + "-" + std::to_string(i));
        auto r = Fetch(port_, "POST", "/v1/cases", body, "Authorization: Bearer " + bob_ + "\r\n");
        if (r && r->status == 201) {
          indices[t].push_back(
              boost::json::parse(r->body).at("evidence_index").to_number<std::uint64_t>());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::uint64_t> all;
  for (const auto& v : indices) all.insert(v.begin(), v.end());
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kPerThread));
  RawResponse stats = Call("GET", "/v1/ledger", "");
  ASSERT_EQ(stats.status, 200);
  EXPECT_GT(Json(stats).at("sequenced").to_number<std::uint64_t>(), *all.rbegin());
  std::string ledger_dir = dir_ + "/ledger";
  app_.reset();
  auto report = ledger::VerifyLedgerDir(ledger_dir);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_TRUE(report->ok());
  EXPECT_GT(report->entries, *all.rbegin());
}

}  // namespace
}  // namespace arbiter::server
