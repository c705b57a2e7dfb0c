// `arbiter cedar translate-schema`: both directions, stdin, one-line errors with exit 1, and a
// JSON schema accepted by the other cedar commands.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "arbiter/cedar/schema.h"
#include "arbiter/cedar/schema_json.h"
#include "schema/schema_dump.h"

#include "support/run_command.h"

namespace arbiter::cedar {
namespace {

using schema_testing::DumpSchema;

constexpr const char* kKitchenSink = R"(
type Shared = {level: Long};
namespace App {
  type Ctx = {@doc("where from") ip?: ipaddr, shared: Shared};
  entity Group;
  @doc("users")
  entity User in [Group] = {name: String, manager?: User, ctx: Ctx} tags Set<String>;
  entity Doc = {"owner": User};
  action "read";
  action write in ["read"] appliesTo {principal: [User], resource: Doc, context: Ctx};
}
)";

using CliResult = arbiter::testing::CommandResult;

CliResult RunCli(const std::string& args) {
  return arbiter::testing::RunCommand(std::string(ARBITER_CLI_PATH) + " " + args);
}

TEST(CedarSchemaCli, TranslateSchemaBothWays) {
  auto dir = std::filesystem::temp_directory_path() /
             ("arbiter-translate-schema-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "s.cedarschema") << kKitchenSink;
    std::ofstream(dir / "bad.json") << R"({"": {"entityTypes": {"E": {"shape": {"type": "Int"}}},
                                            "actions": {}}})";
  }
  auto to_json = RunCli("cedar translate-schema --direction cedar-to-json " +
                        (dir / "s.cedarschema").string());
  ASSERT_EQ(to_json.exit_code, 0) << to_json.out;
  EXPECT_EQ(to_json.out, *CedarSchemaToJson(kKitchenSink, "x"));
  { std::ofstream(dir / "s.json") << to_json.out; }
  auto to_cedar =
      RunCli("cedar translate-schema --direction json-to-cedar - < " + (dir / "s.json").string());
  ASSERT_EQ(to_cedar.exit_code, 0) << to_cedar.out;
  auto reparsed = ParseCedarSchema(to_cedar.out, "back");
  ASSERT_TRUE(reparsed.has_value()) << reparsed.error().message();
  EXPECT_EQ(DumpSchema(*reparsed), DumpSchema(*ParseSchema(kKitchenSink)));

  auto bad =
      RunCli("cedar translate-schema --direction json-to-cedar " + (dir / "bad.json").string());
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.out.find("$[\"\"].entityTypes.E.shape: undeclared type `Int`"), std::string::npos)
      << bad.out;
  EXPECT_EQ(std::count(bad.out.begin(), bad.out.end(), '\n'), 1) << bad.out;
  auto wrong = RunCli("cedar translate-schema --direction sideways " + (dir / "s.json").string());
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_NE(wrong.out.find("`--direction` must be"), std::string::npos) << wrong.out;
  auto missing =
      RunCli("cedar translate-schema --direction cedar-to-json " + (dir / "nope").string());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("cannot read"), std::string::npos);
  // A JSON schema is accepted wherever a schema is loaded.
  { std::ofstream(dir / "p.cedar") << "permit(principal, action, resource);"; }
  auto check = RunCli("cedar check-parse --policies " + (dir / "p.cedar").string() + " --schema " +
                      (dir / "s.json").string());
  EXPECT_EQ(check.exit_code, 0) << check.out;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace arbiter::cedar
