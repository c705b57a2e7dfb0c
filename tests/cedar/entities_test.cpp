// The entities JSON format without a schema: escapes, hierarchy closure, tags and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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

namespace arbiter::cedar {
namespace {

// An overlay keeps its first entity apart from the others: duplicates, lookups, the closure
// through the base and ForEach must not see the difference.
TEST(CedarEntities, OverlayWithOneAndWithSeveralEntities) {
  Entities base;
  ASSERT_TRUE(base.Add(EntityUid("G", "root"), Value::Record({}), {}).ok());
  ASSERT_TRUE(base.Add(EntityUid("G", "team"), Value::Record({}), {EntityUid("G", "root")}).ok());
  ASSERT_TRUE(base.Finalize().ok());

  Entities one(&base);
  ASSERT_TRUE(
      one.Add(EntityUid("C", "1"), Value::Record({{"n", Value::Long(1)}}), {EntityUid("G", "team")})
          .ok());
  EXPECT_EQ(one.Add(EntityUid("C", "1"), Value::Record({}), {}).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(one.Finalize().ok());
  EXPECT_EQ(one.size(), 1u);
  EXPECT_TRUE(one.IsIn(EntityUid("C", "1"), EntityUid("G", "root")));
  EXPECT_NE(one.Find(EntityUid("G", "team")), nullptr);  // from the base
  EXPECT_EQ(one.Find(EntityUid("C", "2")), nullptr);

  Entities several(&base);
  ASSERT_TRUE(several.Add(EntityUid("C", "1"), Value::Record({}), {EntityUid("C", "2")}).ok());
  ASSERT_TRUE(several.Add(EntityUid("C", "2"), Value::Record({}), {EntityUid("C", "3")}).ok());
  ASSERT_TRUE(several.Add(EntityUid("C", "3"), Value::Record({}), {EntityUid("G", "team")}).ok());
  EXPECT_EQ(several.Add(EntityUid("C", "1"), Value::Record({}), {}).code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(several.Add(EntityUid("C", "3"), Value::Record({}), {}).code(),
            StatusCode::kAlreadyExists);
  ASSERT_TRUE(several.Finalize().ok());
  EXPECT_EQ(several.size(), 3u);
  EXPECT_TRUE(several.IsIn(EntityUid("C", "1"), EntityUid("C", "3")));
  EXPECT_TRUE(several.IsIn(EntityUid("C", "1"), EntityUid("G", "root")));
  EXPECT_TRUE(several.IsIn(EntityUid("C", "3"), EntityUid("G", "root")));
  EXPECT_FALSE(several.IsIn(EntityUid("C", "3"), EntityUid("C", "1")));
  std::vector<std::string> ids;
  several.ForEach([&](const EntityData& d) { ids.push_back(d.uid.id()); });
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"1", "2", "3"}));
}

// RecordReusing builds in the kept record only when nothing refers to it any more.
TEST(CedarValue, RecordReusingNeverChangesARecordInUse) {
  const std::vector<std::pair<std::string, Value>> a = {{"a", Value::Long(1)},
                                                        {"b", Value::String("x")}};
  const std::vector<std::pair<std::string, Value>> b = {{"a", Value::Long(2)},
                                                        {"b", Value::String("y")}};
  const auto fields = [](const auto& v) {
    return [&v](size_t i) -> std::pair<std::string_view, const Value&> {
      return {v[i].first, v[i].second};
    };
  };
  std::shared_ptr<RecordValue> reuse;
  Value first = Value::RecordReusing(&reuse, a.size(), fields(a));
  EXPECT_EQ(first, Value::Record(a));
  // `first` still refers to the kept record: a new one is made, `first` keeps its values.
  Value second = Value::RecordReusing(&reuse, b.size(), fields(b));
  EXPECT_EQ(first, Value::Record(a));
  EXPECT_EQ(second, Value::Record(b));
  const RecordValue* storage = &second.as_record();
  second = Value();
  first = Value();
  // Nothing refers to it now: the same storage takes the new values.
  Value third = Value::RecordReusing(&reuse, a.size(), fields(a));
  EXPECT_EQ(&third.as_record(), storage);
  EXPECT_EQ(third, Value::Record(a));
  // Other keys: a new record.
  const std::vector<std::pair<std::string, Value>> c = {{"a", Value::Long(1)},
                                                        {"c", Value::Bool(true)}};
  third = Value();
  Value fourth = Value::RecordReusing(&reuse, c.size(), fields(c));
  EXPECT_EQ(fourth, Value::Record(c));
  EXPECT_EQ(*fourth.as_record().Find("c"), Value::Bool(true));
  // Keys out of order or repeated: a plain (sorted, last duplicate wins) record, not kept.
  const std::vector<std::pair<std::string, Value>> d = {
      {"z", Value::Long(1)}, {"a", Value::Long(2)}, {"z", Value::Long(3)}};
  Value fifth = Value::RecordReusing(&reuse, d.size(), fields(d));
  EXPECT_EQ(fifth, Value::Record({{"a", Value::Long(2)}, {"z", Value::Long(3)}}));
  EXPECT_NE(&fifth.as_record(), reuse.get());
}

}  // namespace
}  // namespace arbiter::cedar
