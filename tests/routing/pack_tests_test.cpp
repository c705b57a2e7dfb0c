#include "arbiter/routing/pack_tests.h"

#include <gtest/gtest.h>

#include <fstream>

#include "arbiter/common/json.h"
#include "test_packs.h"

namespace arbiter::routing {
namespace {

TEST(PackTests, EveryExamplePackTestPasses) {
  auto bundle = LoadBundle(testing::ExamplePackDir());
  ASSERT_TRUE(bundle.has_value()) << bundle.error().ToString();
  auto report = RunPackTests(**bundle, testing::ExamplePackDir() / "tests");
  ASSERT_TRUE(report.has_value()) << report.error().ToString();
  EXPECT_GE(report->passed, 200u);
  EXPECT_EQ(report->failed, 0u);
  for (const auto& r : report->results) {
    if (!r.passed) {
      ADD_FAILURE() << r.file << ":" << r.line << " " << r.name << ": " << r.problems.front();
    }
  }
}

TEST(PackTests, AWrongExpectationFailsWithTheDifference) {
  auto bundle = LoadBundle(testing::ExamplePackDir());
  ASSERT_TRUE(bundle.has_value());
  auto test = ParseJson(R"({"name":"t","case":{"id":"C","language":"en","indicators":{"fraud":true},
      "ai":{"confidence":0.9}},"expect":{"route":"human","queue":"general","reasons":["low-ai-confidence"]},
      "intents":[{"agent":"Agent::\"refund-agent-1\"","intent":"refund","params":{"amount_cents":100},
                  "expect":{"decision":"allow"}}],
      "overrides":[{"by":"Human::\"bob\"","to_route":"human","to_queue":"tier2","expect":"allow"}]})");
  ASSERT_TRUE(test.has_value());
  PackTestResult r = RunPackTest(**bundle, *test);
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.problems, (std::vector<std::string>{
                            "queue `fraud`, expected `general`",
                            "route: reasons [fraud-indicator], expected [low-ai-confidence]",
                            "intents[0]: decision `escalate`, expected `allow`",
                            "overrides[0]: `deny`, expected `allow`"}));
}

TEST(PackTests, MalformedLinesFailWithTheirLine) {
  auto bundle = LoadBundle(testing::ExamplePackDir());
  ASSERT_TRUE(bundle.has_value());
  testing::TempDir dir;
  std::ofstream(dir.path() / "a.jsonl")
      << R"({"case":{"id":"C","language":"en","ai":{"confidence":0.9}},"expect":{"route":"ai"}})"
      << "\n"
      << "{not json\n"
      << R"({"case":{"id":"C","colour":"red"},"expect":{"route":"ai"}})"
      << "\n";
  auto report = RunPackTests(**bundle, dir.path());
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->passed, 1u);
  EXPECT_EQ(report->failed, 2u);
  EXPECT_EQ(report->results[1].line, 2u);
  EXPECT_EQ(report->results[1].problems.front().substr(0, 5), "json:");
  EXPECT_EQ(report->results[2].problems.front(),
            "case.colour: unknown field (put free-form data under `attributes`)");
}

}  // namespace
}  // namespace arbiter::routing
