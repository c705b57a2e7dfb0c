#include "arbiter/sources/case.h"

#include <gtest/gtest.h>

#include "arbiter/common/json.h"

namespace arbiter::sources {
namespace {

Result<Case> Parse(std::string_view text) {
  auto json = ParseJson(text);
  if (!json) return json.error();
  return CaseFromJson(*json);
}

TEST(Case, FullCaseRoundTrips) {
  auto c = Parse(R"({
    "id": "c-1", "source": "native", "subject": "Refund", "body": "I was charged twice",
    "messages": [{"author": "customer", "text": "hello", "at": "2026-01-01T00:00:00Z"}],
    "language": "en", "channel": "email", "customer": {"id": "u-9", "tier": "enterprise"},
    "severity": 2, "priority": "high", "category": "refund",
    "ai": {"confidence": 0.42, "model": "triage-v3", "suggested_queue": "billing"},
    "indicators": {"fraud": true}, "attributes": {"order": 1234}
  })");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->customer.tier, "enterprise");
  EXPECT_EQ(c->severity, 2);
  EXPECT_EQ(c->priority, Priority::kHigh);
  EXPECT_DOUBLE_EQ(c->ai.confidence.value(), 0.42);
  EXPECT_TRUE(c->indicators.fraud);
  EXPECT_FALSE(c->indicators.safety);
  EXPECT_EQ(c->AllText(), "Refund\nI was charged twice\nhello");
  auto again = CaseFromJson(CaseToJson(*c));
  ASSERT_TRUE(again);
  EXPECT_EQ(ToJson(CaseToJson(*again)), ToJson(CaseToJson(*c)));
}

TEST(Case, ErrorsNameTheField) {
  struct Bad {
    const char* json;
    const char* message;
  };
  const Bad cases[] = {
      {R"({"subject":"x"})", "case.id: missing"},
      {R"({"id":""})", "case.id: must not be empty"},
      {R"({"id":"a","severity":7})",
       "case.severity: expected an integer from 1 (most severe) to 4"},
      {R"({"id":"a","priority":"asap"})",
       "case.priority: `asap` is not one of low, normal, high, urgent"},
      {R"({"id":"a","ai":{"confidence":1.5}})", "case.ai.confidence: must be between 0 and 1"},
      {R"({"id":"a","customer":{"tier":3}})", "case.customer.tier: expected a string, got number"},
      {R"({"id":"a","indicators":{"fraud":"yes"}})",
       "case.indicators.fraud: expected a boolean, got string"},
      {R"({"id":"a","sevrity":1})",
       "case.sevrity: unknown field (put free-form data under `attributes`)"},
      {R"({"id":"a","messages":[{"author":"x"}]})", "case.messages[0].text: missing"},
      {R"([1])", "case: expected an object, got array"},
  };
  for (const auto& b : cases) {
    auto c = Parse(b.json);
    ASSERT_FALSE(c) << b.json;
    EXPECT_EQ(c.error().message(), b.message) << b.json;
  }
}

TEST(Case, OversizedTextIsRefused) {
  auto json = ParseJson(R"({"id":"a"})");
  ASSERT_TRUE(json);
  json->as_object()["body"] = std::string(2000, 'x');
  auto c = CaseFromJson(*json, {.max_id_bytes = 256, .max_text_bytes = 1000, .max_messages = 10});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message(), "case.body: longer than 1000 bytes");
}

}  // namespace
}  // namespace arbiter::sources
