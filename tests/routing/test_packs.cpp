#include "test_packs.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "arbiter/common/json.h"
#include "support/shared_data.h"

namespace arbiter::routing::testing {

namespace fs = std::filesystem;

fs::path ExamplePackDir() { return ::arbiter::testing::SourceDir() / "examples" / "support"; }

PackSources ExamplePackSources() {
  auto s = ReadPackSources(ExamplePackDir());
  EXPECT_TRUE(s.has_value()) << s.status().ToString();
  return s.has_value() ? *s : PackSources{};
}

sources::Case MakeCase(std::string_view json) {
  auto v = ParseJson(json);
  EXPECT_TRUE(v.has_value()) << v.status().ToString();
  if (!v) return {};
  auto c = sources::CaseFromJson(*v);
  EXPECT_TRUE(c.has_value()) << c.status().ToString();
  return c.has_value() ? *c : sources::Case{};
}

std::vector<SampleCase> ExampleSampleCases() {
  std::vector<SampleCase> out;
  std::ifstream in(ExamplePackDir() / "tests" / "cases.jsonl");
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    auto json = ParseJson(line);
    auto c = json.has_value() && json->is_object() && json->as_object().contains("case")
                 ? sources::CaseFromJson(json->as_object().at("case"))
                 : Result<sources::Case>(Status::InvalidArgument("not an object with a `case`"));
    if (!c.has_value()) {
      ADD_FAILURE() << "tests/cases.jsonl:" << number << ": " << c.status().ToString();
      continue;
    }
    SampleCase sample{std::move(*c), {}};
    if (const auto* sv = json->as_object().if_contains("signals")) {
      auto signals = SignalsFromJson(*sv, "signals");
      if (!signals.has_value()) {
        ADD_FAILURE() << "tests/cases.jsonl:" << number << ": " << signals.status().ToString();
        continue;
      }
      sample.signals = std::move(*signals);
    }
    out.push_back(std::move(sample));
  }
  EXPECT_FALSE(out.empty()) << "no sample cases in " << ExamplePackDir() / "tests" / "cases.jsonl";
  return out;
}

std::string Replace(std::string text, std::string_view from, std::string_view to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "test setup: `" << from << "` not found";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

PackSources TinyPack() {
  PackSources s;
  s.routing_toml = R"([pack]
name = "tiny"
version = "1"

[routing]
ai_principal = 'Pool::"ai"'
default_human_queue = "general"
error_queue = "errors"

[queues]
general = { name = "General" }
urgent = { name = "Urgent" }
errors = { name = "Errors" }

[intents]
refund = { action = "refund", params = { amount_cents = "long" } }

[signals]
severity = { from = "severity", default = 4 }
tier = { from = "customer.tier", default = "standard" }
flag = { from = "attributes.flag", default = "" }
)";
  s.schema = R"(entity Pool = { "owner": String };
entity Person = { "roles": Set<String> };
entity Case = { "severity": Long, "tier": String, "flag": String };
action ai_handle appliesTo { principal: [Pool], resource: [Case], context: {} };
action refund appliesTo { principal: [Pool], resource: [Case], context: { "amount_cents": Long } };
action approve appliesTo { principal: [Person], resource: [Case], context: { "intent": String, "required_role": String } };
action override appliesTo { principal: [Person], resource: [Case], context: { "to_route": String, "to_queue": String } };
)";
  s.entities_json =
      R"([{"uid": {"type": "Pool", "id": "ai"}, "attrs": {"owner": "ops"}, "parents": []}])";
  s.policy_files = {{"policies/a.cedar", R"(@id("ai-ok")
permit (principal, action == Action::"ai_handle", resource);

@id("sev1")
@escalate("urgent")
@priority("10")
@reason("severity 1")
forbid (principal, action == Action::"ai_handle", resource) when { resource.severity == 1 };
)"}};
  return s;
}

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() /
          ("arbiter-routing-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void TempDir::WritePack(const PackSources& s) const {
  auto write = [this](const std::string& name, const std::string& text) {
    fs::create_directories((path_ / name).parent_path());
    std::ofstream(path_ / name, std::ios::binary) << text;
  };
  write("routing.toml", s.routing_toml);
  write("schema.cedarschema", s.schema);
  write("entities.json", s.entities_json);
  fs::create_directories(path_ / "policies");
  for (const auto& [name, text] : s.policy_files) write(name, text);
}

}  // namespace arbiter::routing::testing
