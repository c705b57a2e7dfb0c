#include "arbiter/signals/sensitivity.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "arbiter/common/json.h"
#include "arbiter/signals/internal/checks.h"
#include "support/shared_data.h"

namespace arbiter::signals {
namespace {

std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == 'n') {
      out += '\n';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct RedactionCase {
  int line;
  std::string input;
  std::string expected;
};

std::vector<RedactionCase> LoadCases() {
  std::ifstream in(testing::SourceDir() / "tests/data/signals/redaction_cases.txt");
  std::vector<RedactionCase> cases;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.rfind("> ", 0) == 0) {
      cases.push_back({n, Unescape(line.substr(2)), ""});
    } else if (line.rfind("= ", 0) == 0 && !cases.empty()) {
      cases.back().expected = Unescape(line.substr(2));
    }
  }
  return cases;
}

TEST(Sensitivity, RedactionCasesFromDataFile) {
  const auto cases = LoadCases();
  ASSERT_GE(cases.size(), 30u);
  for (const auto& c : cases) {
    const ScanResult r = ScanText(c.input);
    EXPECT_EQ(Redact(c.input, r.spans), c.expected) << "redaction_cases.txt line " << c.line;
  }
}

TEST(Sensitivity, CountsKindsAndLevel) {
  const std::string text =
      "Mail ana@example.org or bo@example.net, card 4111 1111 1111 1111, from 10.0.0.1";
  const ScanResult r = ScanText(text);
  EXPECT_EQ(r.count(Kind::kEmail), 2u);
  EXPECT_EQ(r.count(Kind::kCard), 1u);
  EXPECT_EQ(r.count(Kind::kIp), 1u);
  EXPECT_EQ(r.level, Level::kRestricted);
  ASSERT_EQ(r.spans.size(), 4u);
  EXPECT_EQ(text.substr(r.spans[0].begin, r.spans[0].end - r.spans[0].begin), "ana@example.org");
  EXPECT_EQ(ScanText("no personal data here").level, Level::kPublic);
  EXPECT_EQ(ScanText("write to a@example.com").level, Level::kInternal);
}

TEST(Sensitivity, ConfigurableLevelsAndDisabledKinds) {
  auto json = ParseJson(R"({"levels": {"email": "restricted"}, "disabled": ["ip"]})");
  ASSERT_TRUE(json);
  auto config = ScanConfigFromJson(*json);
  ASSERT_TRUE(config) << config.error().ToString();
  const ScanResult r = ScanText("a@example.com from 10.0.0.1", *config);
  EXPECT_EQ(r.level, Level::kRestricted);
  EXPECT_EQ(r.count(Kind::kIp), 0u);
  EXPECT_EQ(r.spans.size(), 1u);

  auto bad = ScanConfigFromJson(*ParseJson(R"({"levels": {"email": "secretish"}})"));
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(),
            "scan config.levels.email: `secretish` is not one of public, internal, "
            "confidential, restricted");
  EXPECT_FALSE(ScanConfigFromJson(*ParseJson(R"({"disabled": ["pii"]})")));
  EXPECT_FALSE(ScanConfigFromJson(*ParseJson(R"({"level": {}})")));
}

TEST(Sensitivity, RedactLeavesEverythingElseByteIdentical) {
  const std::string text = "\xff\xfe garbage \xc3 then bo@example.net\x01\x02 end";
  const ScanResult r = ScanText(text);
  ASSERT_EQ(r.spans.size(), 1u);
  EXPECT_EQ(Redact(text, r.spans), "\xff\xfe garbage \xc3 then [EMAIL]\x01\x02 end");
  // Overlapping or out-of-range spans are ignored rather than trusted.
  EXPECT_EQ(Redact("abcdef", {{Kind::kIp, 1, 3}, {Kind::kIp, 2, 4}, {Kind::kIp, 5, 99}}),
            "a[IP]def");
}

TEST(Sensitivity, MaxSpansBoundsOutputButCountsContinue) {
  std::string text;
  for (int i = 0; i < 50; ++i) text += std::string("u") + std::to_string(i) + "@example.com ";
  ScanConfig config;
  config.max_spans = 10;
  const ScanResult r = ScanText(text, config);
  EXPECT_EQ(r.spans.size(), 10u);
  EXPECT_EQ(r.count(Kind::kEmail), 50u);
}

TEST(Sensitivity, JsonShape) {
  const ScanResult r = ScanText("ssn 123-45-6789");
  EXPECT_EQ(
      ToJson(ScanResultToJson(r)),
      R"({"level":"restricted","kinds":{"ssn":1},"spans":[{"kind":"ssn","begin":4,"end":15}]})");
}

TEST(Checks, LuhnIbanSsn) {
  EXPECT_TRUE(internal::LuhnValid("4111111111111111"));
  EXPECT_FALSE(internal::LuhnValid("4111111111111112"));
  EXPECT_TRUE(internal::KnownCardPrefix("378282246310005"));
  EXPECT_FALSE(internal::KnownCardPrefix("113542617735902"));
  EXPECT_TRUE(internal::IbanValid("GB82WEST12345698765432"));
  EXPECT_FALSE(internal::IbanValid("GB82WEST12345698765433"));
  EXPECT_FALSE(internal::IbanValid("DE89370400440532013000X"));  // wrong length for DE
  EXPECT_FALSE(internal::IbanValid("ZZ89370400440532013000"));   // unregistered country
  EXPECT_TRUE(internal::SsnValid("123456789"));
  EXPECT_FALSE(internal::SsnValid("900456789"));
  EXPECT_FALSE(internal::SsnValid("123006789"));
}

}  // namespace
}  // namespace arbiter::signals
