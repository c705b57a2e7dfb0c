// The entities JSON format without a schema: escapes, hierarchy closure, tags and errors.
#include <gtest/gtest.h>

#include <string>

#include "arbiter/cedar/authorizer.h"
#include "arbiter/cedar/entities.h"

namespace arbiter::cedar {
namespace {

TEST(CedarEntitiesJson, EscapesAndClosure) {
  auto e = ParseEntitiesJson(R"([
    {"uid": {"type": "U", "id": "a"},
     "attrs": {"n": 9223372036854775807, "s": "x", "b": true, "set": [1, 1, 2],
               "rec": {"type": "T", "id": "not-an-entity"},
               "ref": {"__entity": {"type": "U", "id": "b"}},
               "d": {"__extn": {"fn": "decimal", "arg": "1.5"}},
               "t": {"__extn": {"fn": "offset", "args": [{"__extn": {"fn": "datetime", "arg": "2024-01-01"}},
                                                          {"__extn": {"fn": "duration", "arg": "1d"}}]}}},
     "parents": [{"type": "G", "id": "1"}], "tags": {"k": [1]}},
    {"uid": {"type": "G", "id": "1"}, "attrs": {}, "parents": [{"type": "G", "id": "2"}]},
    {"uid": {"type": "G", "id": "2"}, "attrs": {}, "parents": [{"type": "G", "id": "3"}]},
    {"uid": {"type": "G", "id": "3"}, "attrs": {}, "parents": [{"type": "G", "id": "1"}]}
  ])",
                             nullptr);
  ASSERT_TRUE(e.has_value()) << e.error().message();
  const EntityData* a = e->Find(EntityUid("U", "a"));
  ASSERT_NE(a, nullptr);
  const RecordValue& attrs = a->attrs.as_record();
  EXPECT_EQ(attrs.Find("n")->as_long(), INT64_MAX);
  EXPECT_EQ(attrs.Find("set")->as_set().size(), 2u);
  EXPECT_TRUE(attrs.Find("rec")->is(ValueKind::kRecord));
  EXPECT_TRUE(attrs.Find("ref")->is(ValueKind::kEntity));
  EXPECT_EQ(attrs.Find("d")->as_decimal().scaled, 15000);
  EXPECT_EQ(*attrs.Find("t"), *Value::ParseDatetime("2024-01-02"));
  // Three levels and a cycle: every group is an ancestor of U::"a".
  EXPECT_TRUE(e->IsIn(EntityUid("U", "a"), EntityUid("G", "3")));
  EXPECT_TRUE(e->IsIn(EntityUid("G", "3"), EntityUid("G", "2")));
  EXPECT_FALSE(e->IsIn(EntityUid("G", "1"), EntityUid("U", "a")));
  EXPECT_TRUE(a->tags.as_record().Find("k") != nullptr);
}

TEST(CedarEntitiesJson, Errors) {
  struct Case {
    const char* json;
    const char* part;
  } cases[] = {
      {"{}", "expected a json array"},
      {"[1]", "expected an object"},
      {R"([{"attrs": {}}])", "missing `uid`"},
      {R"([{"uid": {"type": "U"}}])", "`type` and `id`"},
      {R"([{"uid": {"type": "bad type", "id": "x"}}])", "invalid entity type"},
      {R"([{"uid": {"type": "U", "id": "x"}, "attrs": {"f": 1.5}}])", "unsupported json value"},
      {R"([{"uid": {"type": "U", "id": "x"}, "attrs": {"f": 18446744073709551615}}])",
       "out of the 64-bit range"},
      {R"([{"uid": {"type": "U", "id": "x"}, "parents": {}}])", "expected an array"},
      {R"([{"uid": {"type": "U", "id": "x"}}, {"uid": {"type": "U", "id": "x"}}])", "duplicate"},
      {R"([{"uid": {"type": "U", "id": "x"}, "attrs": {"d": {"__extn": {"fn": "decimal", "arg": "x"}}}}])",
       "invalid decimal"},
      {R"([{"uid": {"type": "U", "id": "x"}, "extra": 1}])", "unexpected field"},
      {"[", "json"},
  };
  for (const Case& c : cases) {
    auto e = ParseEntitiesJson(c.json, nullptr);
    ASSERT_FALSE(e.has_value()) << c.json;
    std::string m = e.error().message();
    for (char& ch : m) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_NE(m.find(c.part), std::string::npos) << e.error().message();
  }
  EntitiesLimits limits;
  limits.max_entities = 1;
  EXPECT_FALSE(ParseEntitiesJson(R"([{"uid": {"type": "U", "id": "x"}},
                                     {"uid": {"type": "U", "id": "y"}}])",
                                 nullptr, limits)
                   .has_value());
  std::string deep =
      "[{\"uid\": {\"type\": \"U\", \"id\": \"x\"}, \"attrs\": {\"a\": " + std::string(5000, '[') +
      std::string(5000, ']') + "}}]";
  EXPECT_FALSE(ParseEntitiesJson(deep, nullptr).has_value());
}

TEST(CedarValues, ConstructorsAndPrinting) {
  EXPECT_EQ(Value::Set({Value::Long(2), Value::Long(1), Value::Long(2)}).ToString(), "[1, 2]");
  EXPECT_EQ(Value::Record({{"b", Value::Bool(true)}, {"a", Value::String("x\"")}}).ToString(),
            "{\"a\": \"x\\\"\", \"b\": true}");
  EXPECT_EQ(Value::ParseDecimal("-0.5")->as_decimal().scaled, -5000);
  EXPECT_EQ(Value::ParseDecimal("-0.5")->ToString(), "decimal(\"-0.5\")");
  EXPECT_EQ(Value::ParseIpAddr("10.0.0.1/8")->ToString(), "ip(\"10.0.0.1/8\")");
  EXPECT_EQ(Value::ParseDuration("1h")->as_duration().millis, 3600000);
  EXPECT_EQ(Value::ParseDatetime("1970-01-02")->as_datetime().millis, 86400000);
  EXPECT_FALSE(Value::ParseDecimal("1.").has_value());
  EXPECT_FALSE(Value::ParseDecimal(".5").has_value());
  EXPECT_FALSE(Value::ParseIpAddr("1.2.3").has_value());
  EXPECT_FALSE(Value::ParseIpAddr("1::2::3").has_value());
  EXPECT_TRUE(Value::ParseIpAddr("::").has_value());
  EXPECT_TRUE(Value::ParseIpAddr("2001:db8::/32").has_value());
  EXPECT_FALSE(Value::ParseDatetime("2024-1-01").has_value());
  EXPECT_TRUE(Value::ParseDatetime("2024-02-29T23:59:59.999-2359").has_value());
  EXPECT_FALSE(Value::ParseDatetime("2023-02-29").has_value());
  EXPECT_FALSE(Value::ParseDuration("1x").has_value());
  EXPECT_TRUE(Value::ParseDuration("-1d1ms").has_value());
}

}  // namespace
}  // namespace arbiter::cedar
