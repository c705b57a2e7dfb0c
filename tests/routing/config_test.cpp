#include "arbiter/routing/config.h"

#include <gtest/gtest.h>

#include "test_packs.h"

namespace arbiter::routing {
namespace {

using testing::Replace;
using testing::TinyPack;

TEST(RoutingConfig, ParsesTheExamplePack) {
  auto sources = testing::ExamplePackSources();
  auto config = ParseRoutingConfig(sources.routing_toml, "routing.toml");
  ASSERT_TRUE(config.has_value()) << config.error().ToString();
  EXPECT_EQ(config->name, "support");
  EXPECT_EQ(config->default_human_queue, "general");
  EXPECT_EQ(config->error_queue, "policy-errors");
  EXPECT_EQ(config->ai_principal.ToString(), "AgentPool::\"support-ai\"");
  EXPECT_EQ(config->grant_ttl_seconds, 900);
  ASSERT_NE(config->FindQueue("incident"), nullptr);
  EXPECT_EQ(config->FindQueue("incident")->kind, "incident");
  ASSERT_NE(config->FindIntent("refund"), nullptr);
  EXPECT_EQ(config->FindIntent("refund")->params.at("amount_cents"), ParamType::kLong);
  ASSERT_FALSE(config->signals.empty());
  EXPECT_EQ(config->signals.front().attribute, "tier");
}

TEST(RoutingConfig, MapsFractionsWithAScale) {
  std::string toml =
      TinyPack().routing_toml + "conf = { from = \"ai.confidence\", scale = 100, default = 0 }\n";
  auto config = ParseRoutingConfig(toml, "routing.toml");
  ASSERT_TRUE(config.has_value()) << config.error().ToString();
  EXPECT_EQ(config->signals.back().scale, 100);
  EXPECT_EQ(config->signals.back().default_value.as_long(), 0);
}

struct BadConfig {
  const char* name;
  const char* from;
  const char* to;
  const char* error;  // expected message (a prefix is enough)
};

class RoutingConfigErrors : public ::testing::TestWithParam<BadConfig> {};

TEST_P(RoutingConfigErrors, NamesFileLineAndReason) {
  const BadConfig& p = GetParam();
  const std::string toml = Replace(TinyPack().routing_toml, p.from, p.to);
  auto config = ParseRoutingConfig(toml, "routing.toml");
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(config.error().message().substr(0, std::string(p.error).size()), p.error)
      << config.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, RoutingConfigErrors,
    ::testing::Values(
        BadConfig{"syntax", "version = \"1\"", "version = ", "routing.toml:3:"},
        BadConfig{"unknown_top_key", "[queues]", "[queue]",
                  "routing.toml:10:1: unknown key `queue`"},
        BadConfig{"unknown_default_queue", "default_human_queue = \"general\"",
                  "default_human_queue = \"nope\"",
                  "routing.toml:7:23: `routing.default_human_queue` names unknown queue `nope`"},
        BadConfig{"bad_principal", "'Pool::\"ai\"'", "'Pool::ai'",
                  "routing.toml:6:16: `routing.ai_principal`:"},
        BadConfig{"queue_kind", "urgent = { name = \"Urgent\" }",
                  "urgent = { name = \"Urgent\", kind = \"robot\" }", "routing.toml:12:"},
        BadConfig{"unknown_signal", "from = \"severity\"", "from = \"severty\"",
                  "routing.toml:19:21: `signals.severity.from`: unknown signal `severty`"},
        BadConfig{"default_type", "default = 4", "default = \"four\"", "routing.toml:19:"},
        BadConfig{"reserved_action", "action = \"refund\"", "action = \"approve\"",
                  "routing.toml:16:"},
        BadConfig{"param_type", "amount_cents = \"long\"", "amount_cents = \"float\"",
                  "routing.toml:16:"},
        BadConfig{"missing_pack_name", "name = \"tiny\"\n", "", "routing.toml"}),
    [](const auto& tp) { return std::string(tp.param.name); });

TEST(RoutingConfig, FractionWithoutScaleIsRefused) {
  std::string toml = TinyPack().routing_toml + "conf = { from = \"ai.confidence\", default = 0 }\n";
  auto config = ParseRoutingConfig(toml, "routing.toml");
  ASSERT_FALSE(config.has_value());
  EXPECT_NE(config.error().message().find("needs `scale`"), std::string::npos)
      << config.error().message();
}

TEST(RoutingConfig, OversizedInputIsRefused) {
  ConfigLimits limits;
  limits.max_bytes = 16;
  auto config = ParseRoutingConfig(TinyPack().routing_toml, "routing.toml", limits);
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().code(), StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace arbiter::routing
