#include "arbiter/routing/replay.h"

#include <gtest/gtest.h>

#include "test_packs.h"

namespace arbiter::routing {
namespace {

using testing::Replace;

TEST(Replay, SummarisesMovesBetweenVersions) {
  PackSources old_sources = testing::ExamplePackSources();
  PackSources new_sources = old_sources;
  // The new version raises the confidence bar from 60% to 85%.
  for (auto& [name, text] : new_sources.policy_files) {
    if (name == "policies/10_escalations.cedar") {
      text = Replace(text, "when { resource.ai_confidence < 60 };",
                     "when { resource.ai_confidence < 85 };");
    }
  }
  auto baseline = BuildBundle(old_sources);
  auto candidate = BuildBundle(new_sources);
  ASSERT_TRUE(baseline && candidate);
  Replayer replay(baseline->get(), **candidate);
  const std::vector<std::string> lines = {
      R"({"id":"1","language":"en","ai":{"confidence":0.70}})",  // ai -> general
      R"({"id":"2","language":"en","ai":{"confidence":0.95}})",  // ai -> ai
      R"({"case":{"id":"3","language":"en","ai":{"confidence":0.75}},"signals":{"sensitivity":{"level":"restricted"}}})",  // privacy stays
      R"({"id":"4","language":"en","ai":{"confidence":0.80},"category":"chargeback"})",  // billing
                                                                                         // ->
                                                                                         // general
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    auto row = replay.Add(lines[i], i + 1);
    ASSERT_TRUE(row.has_value()) << row.error().ToString();
  }
  const ReplaySummary& s = replay.summary();
  EXPECT_EQ(s.cases, 4u);
  EXPECT_EQ(s.moved, 2u);
  EXPECT_EQ(s.ai_to_human, 1u);
  EXPECT_EQ(s.queue_changes, 1u);
  EXPECT_EQ(s.human_to_ai, 0u);
  EXPECT_EQ((s.moves.at({"ai", "human:general"})), 1u);
  EXPECT_EQ((s.moves.at({"human:billing", "human:general"})), 1u);
  EXPECT_EQ(s.because.at("+low-ai-confidence"), 2u);
  EXPECT_EQ(s.because.at("-ai-baseline"), 1u);
  const std::string text = FormatReplaySummary(s, true);
  EXPECT_NE(text.find("4 cases replayed, 2 would move"), std::string::npos) << text;
  EXPECT_NE(text.find("low-ai-confidence (now determining)"), std::string::npos) << text;
}

TEST(Replay, BadLinesNameTheLine) {
  auto b = BuildBundle(testing::ExamplePackSources());
  ASSERT_TRUE(b.has_value());
  Replayer replay(nullptr, **b);
  auto bad = replay.Add(R"({"id": 7})", 12);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "line 12: case.id: expected a string, got number");
  auto bad_json = replay.Add("{", 13);
  ASSERT_FALSE(bad_json.has_value());
  EXPECT_EQ(bad_json.error().message().substr(0, 14), "line 13: json:");
  EXPECT_EQ(replay.summary().cases, 0u);
}

}  // namespace
}  // namespace arbiter::routing
