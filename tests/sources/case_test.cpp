#include "arbiter/sources/case.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

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
      // Every top-level field's type is checked, in the order CaseFromJson reads them (whatever
      // the order of the keys in the document).
      {R"({"id":7})", "case.id: expected a string, got number"},
      {R"({"id":null})", "case.id: expected a string, got null"},
      {R"({"body":1,"subject":2,"id":"a"})", "case.subject: expected a string, got number"},
      {R"({"id":"a","source":false})", "case.source: expected a string, got bool"},
      {R"({"id":"a","language":[],"body":{}})", "case.body: expected a string, got object"},
      {R"({"id":"a","channel":1,"language":2})", "case.language: expected a string, got number"},
      {R"({"id":"a","created_at":1,"channel":2})", "case.channel: expected a string, got number"},
      {R"({"id":"a","intent":1,"category":2})", "case.category: expected a string, got number"},
      {R"({"id":"a","intent":1})", "case.intent: expected a string, got number"},
      {R"({"id":"a","created_at":1})", "case.created_at: expected a string, got number"},
      {R"({"id":"a","messages":{}})", "case.messages: expected an array, got object"},
      {R"({"id":"a","priority":1,"customer":2})", "case.customer: expected an object, got number"},
      {R"({"id":"a","ai":1,"priority":2})", "case.priority: expected a string, got number"},
      {R"({"id":"a","indicators":1,"ai":2})", "case.ai: expected an object, got number"},
      {R"({"id":"a","attributes":1,"indicators":2})",
       "case.indicators: expected an object, got number"},
      {R"({"id":"a","attributes":[]})", "case.attributes: expected an object, got array"},
      {R"({"id":"a","source":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"})",
       "case.source: longer than 64 bytes"},
      {R"({"id":"a","extra":1,"source":false})",
       "case.extra: unknown field (put free-form data under `attributes`)"},
  };
  for (const auto& b : cases) {
    auto c = Parse(b.json);
    ASSERT_FALSE(c) << b.json;
    EXPECT_EQ(c.error().message(), b.message) << b.json;
  }
}

TEST(Case, NullFieldsAreAbsentAndIntentStandsInForCategory) {
  auto c = Parse(R"({"id":"a","source":null,"subject":null,"customer":null,"ai":null,
                     "severity":null,"priority":null,"messages":null,"intent":"refund"})");
  ASSERT_TRUE(c) << c.error().ToString();
  EXPECT_EQ(c->source, "native");
  EXPECT_EQ(c->category, "refund");
  EXPECT_EQ(c->priority, Priority::kNormal);
  auto both = Parse(R"({"intent":"refund","id":"a","category":"billing"})");
  ASSERT_TRUE(both);
  EXPECT_EQ(both->category, "billing");
}

TEST(Case, OversizedTextIsRefused) {
  auto json = ParseJson(R"({"id":"a"})");
  ASSERT_TRUE(json);
  json->as_object()["body"] = std::string(2000, 'x');
  auto c = CaseFromJson(*json, {.max_id_bytes = 256, .max_text_bytes = 1000, .max_messages = 10});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message(), "case.body: longer than 1000 bytes");
}

// The durable case row stores CaseToJsonText; it must be exactly the bytes of the tree-based
// serialisation for every shape of case: each optional member present or absent, every byte value
// in strings, numbers of every magnitude, nested attributes.
TEST(Case, TextSerialisationIsByteIdenticalToTheTree) {
  std::mt19937_64 rng(20261127);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
  std::string all_bytes;
  for (int b = 1; b < 256; ++b) all_bytes.push_back(static_cast<char>(b));
  const std::vector<std::string> texts = {"",
                                          "x",
                                          "Where is my order?",
                                          "q\"uote",
                                          "back\\slash",
                                          "tab\tnew\nline\r\b\f",
                                          "\x01\x1f\x7f",
                                          "caf\xc3\xa9 \xe2\x82\xac",
                                          all_bytes,
                                          std::string("nul\0in", 6)};
  const std::vector<double> confidences = {0.0, 1.0, 0.89, 0.5, 1e-7, 0.1 + 0.2, 0.999999999999};
  auto text = [&] { return texts[static_cast<size_t>(pick(static_cast<int>(texts.size())))]; };
  for (int i = 0; i < 500; ++i) {
    Case c;
    c.id = text();
    c.source = text();
    c.subject = text();
    c.body = text();
    for (int m = pick(3); m > 0; --m) c.messages.push_back({text(), text(), text()});
    c.language = text();
    c.channel = text();
    c.customer = {text(), text()};
    if (pick(2) == 1) c.severity = pick(4) + 1;
    c.priority = static_cast<Priority>(pick(4));
    c.category = text();
    if (pick(2) == 1) {
      c.ai.confidence =
          confidences[static_cast<size_t>(pick(static_cast<int>(confidences.size())))];
    }
    c.ai.model = text();
    c.ai.suggested_queue = text();
    c.indicators = {pick(2) == 1, pick(2) == 1, pick(2) == 1};
    c.created_at = text();
    if (pick(2) == 1) {
      c.attributes["order"] = static_cast<std::int64_t>(rng());
      c.attributes["note"] = text();
      c.attributes["nested"] = {{"a", 1.5}, {"b", boost::json::array{1, "two", nullptr}}};
    }
    ASSERT_EQ(CaseToJsonText(c), ToJson(CaseToJson(c))) << "iteration " << i;
  }
}

}  // namespace
}  // namespace arbiter::sources
