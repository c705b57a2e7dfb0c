// The case lifecycle over real HTTP on the assembled App with the example support pack: routing
// with evidence in the ledger, claim, intents (allow, pending approval, approval), an override
// refused for a non-supervisor, escalation on an indicator, close, refusals after close, the
// dry run, and a ledger that verifies afterwards.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <filesystem>
#include <fstream>

#include "app_fixture.h"
#include "arbiter/common/bytes.h"
#include "arbiter/common/crypto.h"
#include "arbiter/identity/registry.h"
#include "arbiter/ledger/verify.h"
#include "arbiter/server/app.h"
#include "support/shared_data.h"
#include "test_client.h"

namespace arbiter::server {
namespace {

namespace fs = std::filesystem;
using testing::Fetch;
using testing::RawResponse;

constexpr const char* kRoutineCase =
    R"({"id":"CASE-1","source":"native","subject":"Where is my order?",)"
    R"("body":"The tracking page has not changed for five days.",)"
    R"("customer":{"id":"cust-1","tier":"standard"},"language":"en","priority":"low",)"
    R"("severity":4,"category":"shipping","channel":"web","ai":{"confidence":0.89}})";

class RoutingE2eTest : public testing::AppE2eTest {
 protected:
  void SetUp() override {
    AppE2eTest::SetUp();
    alice_ = NewUser("alice", "supervisor");
    bob_ = NewUser("bob", "agent");
  }
  boost::json::object Intent(const std::string& svid, const std::string& action,
                             const std::string& params, int status = 200) {
    RawResponse r =
        Call("POST", "/v1/intents", svid,
             R"({"case_id":"CASE-1","action":")" + action + R"(","params":)" + params + "}");
    EXPECT_EQ(r.status, status) << r.body;
    return Json(r);
  }

  std::string alice_, bob_;
};

TEST_F(RoutingE2eTest, TheWholeLifecycleIsDecidedAndRecorded) {
  EXPECT_FALSE(app_->pack_hash().empty());
  // Route: the routine case stays with AI; ?wait=integrated returns the receipt.
  RawResponse routed = Call("POST", "/v1/cases?wait=integrated", bob_, kRoutineCase);
  ASSERT_EQ(routed.status, 201) << routed.body;
  auto decision = Json(routed);
  EXPECT_EQ(decision.at("decision").at("route").as_string(), "ai");
  ASSERT_TRUE(decision.at("evidence_index").is_int64() ||
              decision.at("evidence_index").is_uint64());
  ASSERT_TRUE(decision.contains("receipt"));
  EXPECT_EQ(decision.at("receipt").at("index"), decision.at("evidence_index"));

  std::string agent = Agent("refund-agent-1");
  std::string other = Agent("refund-agent-2");
  ASSERT_EQ(Call("POST", "/v1/cases/CASE-1/claim", agent).status, 200);
  EXPECT_EQ(Call("POST", "/v1/cases/CASE-1/claim", other).status, 409);
  EXPECT_EQ(Call("POST", "/v1/cases/CASE-1/claim", bob_).status, 403);  // people do not claim
  // Another instance of the same workload may not act on the case this instance claimed: no
  // decision, no token (a token would carry the holder's identity).
  auto stolen = Intent(other, "refund", R"({"amount_cents":500})", 403);
  EXPECT_FALSE(stolen.contains("token"));
  EXPECT_NE(std::string(stolen.at("error").at("message").as_string()).find("claimed by another"),
            std::string::npos);

  // Intents: within the agent's limit → a token; above it → pending a supervisor's approval.
  auto small = Intent(agent, "refund", R"({"amount_cents":5000})");
  EXPECT_EQ(small.at("decision").as_string(), "allow");
  EXPECT_FALSE(small.at("token").as_string().empty());
  auto big = Intent(agent, "refund", R"({"amount_cents":50000})");
  ASSERT_EQ(big.at("decision").as_string(), "pending_approval");
  std::string intent_id(big.at("intent_id").as_string());
  std::string approve = R"({"intent_id":")" + intent_id + R"("})";
  EXPECT_EQ(Call("POST", "/v1/cases/CASE-1/approve", bob_, approve).status, 403);
  RawResponse approved = Call("POST", "/v1/cases/CASE-1/approve", alice_, approve);
  ASSERT_EQ(approved.status, 200) << approved.body;
  EXPECT_EQ(Json(approved).at("intent").at("decision").as_string(), "allow");

  // A non-supervisor may not override routing.
  EXPECT_EQ(
      Call("POST", "/v1/cases/CASE-1/override", bob_, R"({"route":"human","queue":"general"})")
          .status,
      403);

  // Close; closing again and asking for an intent afterwards are refused.
  RawResponse closed = Call("POST", "/v1/cases/CASE-1/close", alice_, R"({"resolution":"done"})");
  ASSERT_EQ(closed.status, 200) << closed.body;
  EXPECT_EQ(Call("POST", "/v1/cases/CASE-1/close", alice_, R"({"resolution":"again"})").status,
            409);
  RawResponse late =
      Call("POST", "/v1/intents", agent, R"({"case_id":"CASE-1","action":"reply","params":{}})");
  EXPECT_TRUE(late.status == 409 || late.status == 403) << late.status << " " << late.body;

  // The case's history carries its evidence indices, each readable from the ledger.
  RawResponse state = Call("GET", "/v1/cases/CASE-1", alice_);
  ASSERT_EQ(state.status, 200);
  auto s = Json(state);
  EXPECT_EQ(s.at("state").as_string(), "closed");
  auto evidence = s.at("evidence").as_array();
  EXPECT_GE(evidence.size(), 5u);
  for (const auto& i : evidence) {
    RawResponse e =
        Call("GET", "/v1/ledger/entries/" + std::to_string(i.to_number<std::uint64_t>()), "");
    ASSERT_EQ(e.status, 200);
    auto record = boost::json::parse(AsChars(*Base64Decode(Json(e).at("entry").as_string())));
    EXPECT_TRUE(record.as_object().contains("type")) << record;
  }
  EXPECT_EQ(Call("GET", "/v1/cases/CASE-1", agent).status, 403);  // the history is for people
  // The closed case left memory: only its id is held, its history above was read from the store.
  RawResponse metrics = Call("GET", "/metrics", "");
  EXPECT_NE(metrics.body.find(R"(arbiter_routing_cases{where="closed"} 1)"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(R"(arbiter_routing_cases{where="resident"} 0)"), std::string::npos);

  // After the run the ledger verifies from its files.
  std::string ledger_dir = dir_ + "/ledger";
  app_.reset();
  auto report = ledger::VerifyLedgerDir(ledger_dir);
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_TRUE(report->ok());
  EXPECT_GE(report->entries, 7u);
}

TEST_F(RoutingE2eTest, IndicatorsEscalateToTheirQueues) {
  struct Case {
    std::string indicator;
    std::string queue;
  };
  for (const Case& c :
       {Case{"fraud", "fraud"}, Case{"safety", "trust-safety"}, Case{"regulatory", "compliance"}}) {
    std::string body = kRoutineCase;
    body.replace(body.find("CASE-1"), 6, "CASE-" + c.indicator);
    body.insert(body.size() - 1, R"(,"indicators":{")" + c.indicator + R"(":true})");
    RawResponse r = Call("POST", "/v1/cases", bob_, body);
    ASSERT_EQ(r.status, 201) << r.body;
    auto d = Json(r).at("decision").as_object();
    EXPECT_EQ(d.at("route").as_string(), "human") << c.indicator;
    EXPECT_EQ(d.at("queue").as_string(), c.queue) << c.indicator;
  }
  RawResponse metrics = Call("GET", "/metrics", "");
  EXPECT_NE(metrics.body.find(R"(arbiter_decisions_total{route="human",queue="fraud"} 1)"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(
                R"(arbiter_decision_policies_total{policy="fraud-indicator",effect="forbid"})"),
            std::string::npos);
  // Each 201 left only once its case row was committed: the three rows are all committed.
  EXPECT_NE(metrics.body.find(R"(arbiter_group_commit_rows{committer="cases",kind="queued"} 3)"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find(R"(arbiter_group_commit_rows{committer="cases",kind="committed"} 3)"),
            std::string::npos);
  // The three cases are open: held in memory.
  EXPECT_NE(metrics.body.find(R"(arbiter_routing_cases{where="resident"} 3)"), std::string::npos)
      << metrics.body;
}

TEST_F(RoutingE2eTest, DryRunRecordsNothing) {
  std::uint64_t before =
      Json(Call("GET", "/v1/ledger", "")).at("sequenced").to_number<std::uint64_t>();
  RawResponse r = Call("POST", "/v1/route", bob_, kRoutineCase);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r).at("decision").at("route").as_string(), "ai");
  EXPECT_TRUE(Json(r).at("dry_run").as_bool());
  std::uint64_t after =
      Json(Call("GET", "/v1/ledger", "")).at("sequenced").to_number<std::uint64_t>();
  EXPECT_EQ(before, after);
  EXPECT_EQ(Call("GET", "/v1/cases/CASE-1", alice_).status, 404);
}

TEST_F(RoutingE2eTest, ABadWaitQueryIsRefusedBeforeAnythingIsRecorded) {
  std::uint64_t before =
      Json(Call("GET", "/v1/ledger", "")).at("sequenced").to_number<std::uint64_t>();
  RawResponse r = Call("POST", "/v1/cases?wait=forever", bob_, kRoutineCase);
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Json(r).at("error").at("field").as_string(), "query.wait");
  // Nothing happened: no evidence and no case.
  std::uint64_t after =
      Json(Call("GET", "/v1/ledger", "")).at("sequenced").to_number<std::uint64_t>();
  EXPECT_EQ(before, after);
  EXPECT_EQ(Call("GET", "/v1/cases/CASE-1", alice_).status, 404);
  // A closing step with a receipt: the receipt is the answer's last member and proves the step.
  ASSERT_EQ(Call("POST", "/v1/cases", bob_, kRoutineCase).status, 201);
  RawResponse closed =
      Call("POST", "/v1/cases/CASE-1/close?wait=integrated", alice_, R"({"resolution":"done"})");
  ASSERT_EQ(closed.status, 200) << closed.body;
  auto o = Json(closed);
  ASSERT_TRUE(o.contains("receipt")) << closed.body;
  EXPECT_EQ(o.at("receipt").at("index"), o.at("evidence_index"));
  EXPECT_EQ(std::prev(o.end())->key(), "receipt");
}

TEST_F(RoutingE2eTest, InvalidCasesAre400WithTheField) {
  RawResponse r = Call("POST", "/v1/cases", bob_, R"({"id":"X","customer":{"tier":7}})");
  ASSERT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(Json(r).at("error").at("field").as_string(), "case.customer.tier");
  EXPECT_EQ(Call("POST", "/v1/cases", "", kRoutineCase).status, 401);
  EXPECT_EQ(Call("POST", "/v1/cases/NOPE/close", alice_, R"({"resolution":"done"})").status, 404);
}

}  // namespace
}  // namespace arbiter::server
