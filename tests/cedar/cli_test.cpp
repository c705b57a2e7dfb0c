// `arbiter cedar ...` end to end: exit codes, output formats and batch mode.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/run_command.h"
#include "support/shared_data.h"

namespace {

#ifdef ARBITER_CLI_PATH
using RunResult = arbiter::testing::CommandResult;

RunResult RunCli(const std::string& args) {
  return arbiter::testing::RunCommand(std::string(ARBITER_CLI_PATH) + " " + args);
}

class CedarCli : public ::testing::Test {
 protected:
  void SetUp() override {
    // One folder per test: ctest runs the tests of this fixture in parallel processes.
    dir_ = arbiter::testing::BuildDir() / "cedar-cli-test" /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_);
    Write("p.cedar",
          "@id(\"admins\") permit(principal in Group::\"admins\", action, resource);\n"
          "@id(\"broken\") permit(principal, action, resource) when { principal.nope };\n"
          "@id(\"block\") forbid(principal, action, resource) when { context.blocked };\n");
    Write("s.cedarschema",
          "entity Group; entity User in [Group] { name: String };\n"
          "entity Doc;\n"
          "action view appliesTo { principal: User, resource: Doc, context: { blocked: Bool } };");
    Write("e.json", R"([{"uid": {"type": "User", "id": "alice"}, "attrs": {"name": "A"},
                         "parents": [{"type": "Group", "id": "admins"}]},
                        {"uid": {"type": "User", "id": "bob"}, "attrs": {"name": "B"}}])");
    Write("ctx_no.json", R"({"blocked": false})");
    Write("ctx_yes.json", R"({"blocked": true})");
    Write("bad.cedar", "permit(principal, action, resource) when { 1 + };");
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }
  std::string P(const std::string& name) { return (dir_ / name).string(); }
  std::string Common() {
    return "--policies " + P("p.cedar") + " --entities " + P("e.json") + " --schema " +
           P("s.cedarschema");
  }
  std::filesystem::path dir_;
};

TEST_F(CedarCli, CheckParse) {
  auto ok = RunCli("cedar check-parse --policies " + P("p.cedar"));
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("3 policies"), std::string::npos);
  auto bad = RunCli("cedar check-parse --policies " + P("bad.cedar"));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("bad.cedar:1:"), std::string::npos) << bad.out;
}

TEST_F(CedarCli, AuthorizeExitCodes) {
  auto allow = RunCli("cedar authorize " + Common() +
                      " --principal 'User::\"alice\"' --action 'Action::\"view\"' --resource "
                      "'Doc::\"d\"' --context " +
                      P("ctx_no.json"));
  EXPECT_EQ(allow.exit_code, 0) << allow.out;
  EXPECT_EQ(allow.out,
            "ALLOW\nreason: admins\nerror: while evaluating policy `broken`: `User::\"alice\"` "
            "does not have the attribute `nope`\n");
  auto deny = RunCli("cedar authorize " + Common() +
                     " --principal 'User::\"alice\"' --action 'Action::\"view\"' --resource "
                     "'Doc::\"d\"' --context " +
                     P("ctx_yes.json") + " --json");
  EXPECT_EQ(deny.exit_code, 2) << deny.out;
  EXPECT_EQ(deny.out, "{\"decision\":\"deny\",\"reason\":[\"block\"],\"errors\":[\"broken\"]}\n");
  auto invalid = RunCli("cedar authorize " + Common() +
                        " --principal 'Doc::\"x\"' --action 'Action::\"view\"' --resource "
                        "'Doc::\"d\"' --context " +
                        P("ctx_no.json"));
  EXPECT_EQ(invalid.exit_code, 1) << invalid.out;
  auto bad_uid = RunCli("cedar authorize " + Common() +
                        " --principal 'User' --action 'Action::\"view\"' --resource 'Doc::\"d\"'");
  EXPECT_EQ(bad_uid.exit_code, 1) << bad_uid.out;
  auto bad_policies = RunCli("cedar authorize --policies " + P("bad.cedar") +
                             " --principal 'User::\"a\"' --action 'Action::\"view\"' --resource "
                             "'Doc::\"d\"'");
  EXPECT_EQ(bad_policies.exit_code, 1);
}

TEST_F(CedarCli, BatchKeepsOrderAndReportsBadLines) {
  Write(
      "r.jsonl",
      R"({"principal":{"type":"User","id":"alice"},"action":{"type":"Action","id":"view"},"resource":{"type":"Doc","id":"d"},"context":{"blocked":false}})"
      "\n"
      "not json\n"
      R"({"principal":{"type":"User","id":"bob"},"action":{"type":"Action","id":"view"},"resource":{"type":"Doc","id":"d"},"context":{"blocked":false}})"
      "\n"
      R"({"principal":{"type":"User","id":"bob"},"action":{"type":"Action","id":"view"},"resource":{"type":"Doc","id":"d"},"context":{"blocked":"no"}})"
      "\n" +
          std::string(3u << 20, 'x') + "\n");
  auto r = RunCli("cedar authorize " + Common() + " --requests " + P("r.jsonl"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < r.out.size()) {
    size_t nl = r.out.find('\n', start);
    lines.push_back(r.out.substr(start, nl - start));
    start = nl + 1;
  }
  ASSERT_EQ(lines.size(), 5u) << r.out.substr(0, 2000);
  EXPECT_EQ(lines[0], R"({"decision":"allow","reason":["admins"],"errors":["broken"]})");
  EXPECT_EQ(lines[1].rfind(R"({"error":"line 2: )", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2], R"({"decision":"deny","reason":[],"errors":["broken"]})");
  EXPECT_EQ(lines[3].rfind(R"({"error":"line 4: )", 0), 0u) << lines[3];
  // A line over the 1 MiB limit is reported without being held in memory.
  EXPECT_EQ(lines[4], R"({"error":"line 5: request line is longer than 1048576 bytes"})");
}

// The JSON policy format is read wherever Cedar text is, and gives the same decisions.
TEST_F(CedarCli, PoliciesInTheJsonFormatDecideTheSame) {
  auto json = RunCli("cedar translate-policy --direction cedar-to-json " + P("p.cedar"));
  ASSERT_EQ(json.exit_code, 0) << json.out;
  Write("p.json", json.out);
  std::string request =
      " --principal 'User::\"alice\"' --action 'Action::\"view\"' --resource 'Doc::\"d\"' "
      "--context " +
      P("ctx_yes.json") + " --json";
  auto from_text = RunCli("cedar authorize " + Common() + request);
  auto from_json = RunCli("cedar authorize --policies " + P("p.json") + " --entities " +
                          P("e.json") + " --schema " + P("s.cedarschema") + request);
  EXPECT_EQ(from_json.exit_code, 2) << from_json.out;
  EXPECT_EQ(from_json.out, from_text.out);
  auto check = RunCli("cedar check-parse --policies " + P("p.json"));
  EXPECT_EQ(check.out, "ok: 3 policies\n");
  auto valid = RunCli("cedar validate --policies " + P("p.json") + " --schema " +
                      P("s.cedarschema") + " --json");
  EXPECT_EQ(valid.exit_code, 2) << valid.out;  // `broken` reads an attribute User lacks
  EXPECT_NE(valid.out.find("\"policyId\":\"broken\""), std::string::npos) << valid.out;
  Write("bad.json", R"({"staticPolicies": {"x": {"effect": "maybe"}}})");
  auto bad = RunCli("cedar authorize --policies " + P("bad.json") + request);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("bad.json"), std::string::npos) << bad.out;
}

// Template links: a linked policy takes part in the decision; without the links it does not.
TEST_F(CedarCli, AuthorizeAppliesTemplateLinks) {
  Write("t.cedar", "@id(\"viewers\") permit(principal == ?principal, action, resource);\n");
  Write("links.json",
        R"([{"templateId": "viewers", "newId": "bob-views",
             "values": {"?principal": {"type": "User", "id": "bob"}}}])");
  std::string request =
      " --entities " + P("e.json") +
      " --principal 'User::\"bob\"' --action 'Action::\"view\"' --resource 'Doc::\"d\"' --json";
  auto linked = RunCli("cedar authorize --policies " + P("t.cedar") + " --links " +
                       P("links.json") + request);
  EXPECT_EQ(linked.exit_code, 0) << linked.out;
  EXPECT_EQ(linked.out, "{\"decision\":\"allow\",\"reason\":[\"bob-views\"],\"errors\":[]}\n");
  auto unlinked = RunCli("cedar authorize --policies " + P("t.cedar") + request);
  EXPECT_EQ(unlinked.exit_code, 2) << unlinked.out;
  Write("bad-links.json", R"([{"templateId": "nope", "newId": "x", "values": {}}])");
  auto bad = RunCli("cedar authorize --policies " + P("t.cedar") + " --links " +
                    P("bad-links.json") + request);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("bad-links.json"), std::string::npos) << bad.out;
}

TEST_F(CedarCli, Conformance) {
  ARBITER_REQUIRE_SHARED(root, "conformance/cedar");
  auto r =
      RunCli("cedar conformance --root " + root.string() + " " +
             (root / "tests/decimal/1.json").string() + " " + (root / "tests/ip/1.json").string());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "2 passed, 0 failed\n");
}
#endif

}  // namespace
