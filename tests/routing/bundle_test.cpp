#include "arbiter/routing/bundle.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "arbiter/common/clock.h"
#include "arbiter/common/json.h"
#include "test_packs.h"

namespace arbiter::routing {
namespace {

using testing::ExamplePackSources;
using testing::Replace;

std::uint32_t LineOf(const std::string& text, std::string_view needle) {
  const size_t at = text.find(needle);
  return 1 + static_cast<std::uint32_t>(std::count(text.begin(), text.begin() + at, '\n'));
}

std::string& PolicyFile(PackSources& s, std::string_view name) {
  for (auto& [path, text] : s.policy_files) {
    if (path == name) return text;
  }
  ADD_FAILURE() << "no policy file " << name;
  return s.policy_files.front().second;
}

TEST(Bundle, LoadsTheExamplePack) {
  auto bundle = LoadBundle(testing::ExamplePackDir());
  ASSERT_TRUE(bundle.has_value()) << bundle.error().ToString();
  const Bundle& b = **bundle;
  EXPECT_EQ(b.hash().size(), 64u);
  EXPECT_GE(b.policies().size(), 20u);
  const cedar::Policy* fraud = b.policies().Find("fraud-indicator");
  ASSERT_NE(fraud, nullptr);
  const PolicyInfo& info = b.info(fraud->index());
  EXPECT_EQ(info.escalate, "fraud");
  EXPECT_EQ(info.priority, 90);
  EXPECT_EQ(info.file, "policies/10_escalations.cedar");
  const auto sources = ExamplePackSources();
  EXPECT_EQ(info.line,
            LineOf(PolicyFile(const_cast<PackSources&>(sources), "policies/10_escalations.cedar"),
                   "@id(\"fraud-indicator\")"));
  const cedar::Policy* refund = b.policies().Find("refund-over-1000-needs-finance");
  ASSERT_NE(refund, nullptr);
  EXPECT_EQ(b.info(refund->index()).approval, "finance");
  EXPECT_EQ(b.info(refund->index()).file, "policies/30_intents.cedar");
}

// Texts the pack names (policy literals, string defaults, entity attributes, priority names)
// are shared values; any other text is a new value equal to it.
TEST(Bundle, StringValueSharesThePacksOwnTexts) {
  auto bundle = LoadBundle(testing::ExamplePackDir());
  ASSERT_TRUE(bundle.has_value()) << bundle.error().ToString();
  const Bundle& b = **bundle;
  for (std::string_view text : {"enterprise", "restricted", "standard", "urgent", "en"}) {
    const cedar::Value v = b.StringValue(text);
    ASSERT_TRUE(v.is(cedar::ValueKind::kString)) << text;
    EXPECT_EQ(v.as_string(), text);
    EXPECT_EQ(v, cedar::Value::String(std::string(text)));
    EXPECT_EQ(&b.StringValue(text).as_string(), &v.as_string()) << text << " is not shared";
  }
  const cedar::Value other = b.StringValue("a text no pack file has");
  EXPECT_EQ(other, cedar::Value::String("a text no pack file has"));
  EXPECT_NE(&b.StringValue("a text no pack file has").as_string(), &other.as_string());
  EXPECT_EQ(b.StringValue(""), cedar::Value::String(""));
}

TEST(Bundle, HashIsAFunctionOfTheContent) {
  auto s = ExamplePackSources();
  auto a = BuildBundle(s);
  auto b = BuildBundle(s);
  ASSERT_TRUE(a && b);
  EXPECT_EQ((*a)->hash(), (*b)->hash());
  PolicyFile(s, "policies/10_escalations.cedar") += "\n// a comment changes the bytes\n";
  auto c = BuildBundle(s);
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  EXPECT_NE((*a)->hash(), (*c)->hash());
}

struct BadPack {
  const char* name;
  const char* file;  // routing.toml, schema.cedarschema, entities.json or a policy file
  const char* from;
  const char* to;
  const char* error;  // expected prefix of the message
};

class BundleErrors : public ::testing::TestWithParam<BadPack> {};

TEST_P(BundleErrors, RefusedWithFileLineAndReason) {
  const BadPack& p = GetParam();
  PackSources s = ExamplePackSources();
  const std::string file = p.file;
  if (file == "routing.toml") {
    s.routing_toml = Replace(s.routing_toml, p.from, p.to);
  } else if (file == "schema.cedarschema") {
    s.schema = Replace(s.schema, p.from, p.to);
  } else if (file == "entities.json") {
    s.entities_json = Replace(s.entities_json, p.from, p.to);
  } else {
    std::string& text = PolicyFile(s, file);
    text = Replace(text, p.from, p.to);
  }
  auto b = BuildBundle(s);
  ASSERT_FALSE(b.has_value()) << "pack with `" << p.name << "` was accepted";
  EXPECT_EQ(b.error().message().substr(0, std::string(p.error).size()), p.error)
      << b.error().message();
  EXPECT_EQ(b.error().message().find('\n'), std::string::npos) << "errors are one line";
}

INSTANTIATE_TEST_SUITE_P(
    Table, BundleErrors,
    ::testing::Values(
        BadPack{"policy_syntax", "policies/10_escalations.cedar",
                "when { resource.severity == 1 };", "when { resource.severity == };",
                "policies/10_escalations.cedar:9:"},
        BadPack{"unknown_queue", "policies/10_escalations.cedar", "@escalate(\"fraud\")",
                "@escalate(\"frawd\")",
                "policies/10_escalations.cedar:18: policy `fraud-indicator`: @escalate names "
                "unknown queue `frawd`"},
        BadPack{"priority_not_integer", "policies/10_escalations.cedar", "@priority(\"90\")",
                "@priority(\"high\")",
                "policies/10_escalations.cedar:18: policy `fraud-indicator`: @priority must be"},
        BadPack{"missing_id", "policies/20_holds.cedar", "@id(\"sanctioned-account-hold\")\n", "",
                "policies/20_holds.cedar:"},
        BadPack{"duplicate_id", "policies/20_holds.cedar", "@id(\"sanctioned-account-hold\")",
                "@id(\"fraud-indicator\")",
                "policies/20_holds.cedar:3: duplicate policy id `fraud-indicator` (first at "
                "policies/10_escalations.cedar:18)"},
        BadPack{"escalate_on_permit", "policies/00_ai_baseline.cedar", "@id(\"ai-baseline\")",
                "@id(\"ai-baseline\")\n@escalate(\"general\")",
                "policies/00_ai_baseline.cedar:4: policy `ai-baseline`: @escalate belongs on a "
                "forbid"},
        BadPack{"missing_attribute", "policies/10_escalations.cedar", "when { resource.fraud };",
                "when { resource.fraudulent };",
                "policies/10_escalations.cedar:18: policy `fraud-indicator` fails on a case with "
                "default signals"},
        BadPack{"agent_without_owner", "entities.json",
                "\"owner\": {\n        \"__entity\": {\n          \"type\": \"Team\",\n          "
                "\"id\": \"billing-ops\"",
                "\"owner_x\": {\n        \"__entity\": {\n          \"type\": \"Team\",\n          "
                "\"id\": \"billing-ops\"",
                "entities.json:"},
        BadPack{"entities_syntax", "entities.json", "[", "[[", "entities.json: "},
        BadPack{"schema_syntax", "schema.cedarschema", "entity Role;", "entity Role",
                "schema.cedarschema:"},
        BadPack{"intent_action_missing", "routing.toml", "refund = { action = \"refund\"",
                "refund = { action = \"refunds\"",
                "routing.toml: intent `refund` uses action `refunds`"},
        BadPack{"principal_missing", "routing.toml", "AgentPool::\"support-ai\"",
                "AgentPool::\"nobody\"", "routing.toml: `routing.ai_principal`"}),
    [](const auto& tp) { return std::string(tp.param.name); });

TEST(Bundle, MissingFilesAreNamed) {
  testing::TempDir dir;
  PackSources s = ExamplePackSources();
  dir.WritePack(s);
  std::filesystem::remove(dir.path() / "entities.json");
  auto b = LoadBundle(dir.path());
  ASSERT_FALSE(b.has_value());
  EXPECT_EQ(b.error().code(), StatusCode::kNotFound);
  EXPECT_EQ(b.error().message(), "entities.json: missing (expected a file)");
  auto none = LoadBundle(dir.path() / "nope");
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), StatusCode::kNotFound);
}

TEST(PackStore, SwapsVersionsAtomicallyAndRecordsEachLoad) {
  InMemoryEvidenceSink sink;
  FakeClock clock;
  PackStore store(&sink, clock);
  EXPECT_EQ(store.Current(), nullptr);
  testing::TempDir v1;
  v1.WritePack(ExamplePackSources());
  auto loaded = store.Load(v1.path(), Actor{"human", "Human::\"alice\""});
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  ASSERT_EQ(loaded->evidence_index, 0u);
  std::shared_ptr<const Bundle> first = store.Current();
  ASSERT_NE(first, nullptr);

  auto record = ParseJson(sink.Records()[0]);
  ASSERT_TRUE(record.has_value());
  const auto& o = record->as_object();
  EXPECT_EQ(o.at("type"), "pack_load");
  EXPECT_EQ(o.at("bundle").at("hash").as_string(), first->hash());
  EXPECT_EQ(o.at("actor").at("id"), "Human::\"alice\"");
  EXPECT_TRUE(o.at("previous").is_null());
  EXPECT_EQ(o.at("at"), clock.NowMicros());

  // A broken version is refused and the first stays in force, with no evidence written.
  testing::TempDir broken;
  PackSources bad = ExamplePackSources();
  bad.routing_toml = Replace(bad.routing_toml, "[queues]", "[queues");
  broken.WritePack(bad);
  auto refused = store.Load(broken.path(), Actor{"human", "Human::\"alice\""});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().message().substr(0, 13), "routing.toml:");
  EXPECT_EQ(store.Current(), first);
  EXPECT_EQ(sink.size(), 1u);

  // A new version swaps in; readers holding the old snapshot keep it.
  testing::TempDir v2;
  PackSources next = ExamplePackSources();
  next.routing_toml =
      Replace(next.routing_toml, "version = \"2026.11.0\"", "version = \"2026.12.0\"");
  v2.WritePack(next);
  auto second = store.Load(v2.path(), Actor{"human", "Human::\"erin\""});
  ASSERT_TRUE(second.has_value()) << second.error().ToString();
  EXPECT_NE(store.Current(), first);
  EXPECT_EQ(first->config().version, "2026.11.0");
  EXPECT_EQ(store.Current()->config().version, "2026.12.0");
  auto r2 = ParseJson(sink.Records()[1]);
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(r2->at("previous").as_string(), first->hash());
}

TEST(PackStore, EvidenceFailureKeepsThePreviousVersion) {
  InMemoryEvidenceSink sink;
  FakeClock clock;
  PackStore store(&sink, clock);
  auto b = BuildBundle(ExamplePackSources());
  ASSERT_TRUE(b.has_value());
  sink.FailAppends(true);
  auto installed = store.Install(*b, Actor{});
  ASSERT_FALSE(installed.has_value());
  EXPECT_EQ(store.Current(), nullptr);
}

}  // namespace
}  // namespace arbiter::routing
