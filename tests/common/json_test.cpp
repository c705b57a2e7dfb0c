#include "arbiter/common/json.h"

#include <gtest/gtest.h>

#include <limits>

namespace arbiter {
namespace {

TEST(Json, Int64ExtremesRoundTripExactly) {
  const std::string text =
      R"({"max":9223372036854775807,"min":-9223372036854775808,"big":9007199254740993})";
  auto doc = ParseJson(text);
  ASSERT_TRUE(doc) << doc.error().ToString();
  const auto& o = doc->as_object();
  EXPECT_EQ(GetInt64(o, "max", "").value(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(GetInt64(o, "min", "").value(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(GetInt64(o, "big", "").value(),
            9007199254740993);  // 2^53 + 1: not representable as double
  EXPECT_EQ(ToJson(*doc), text);
}

TEST(Json, BeyondInt64IsRejectedByGetInt64) {
  auto doc = ParseJson(R"({"n":9223372036854775808})");
  ASSERT_TRUE(doc);
  auto n = GetInt64(doc->as_object(), "n", "req");
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().message(), "req.n: integer out of the 64-bit signed range");
}

TEST(Json, ErrorsAreLocated) {
  auto doc = ParseJson("{\n  \"a\": 1,\n  \"b\": tru\n}");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(doc.error().message().find("line 3"), std::string::npos) << doc.error().message();
  EXPECT_FALSE(ParseJson("{} x"));
  EXPECT_FALSE(ParseJson("{"));
  EXPECT_FALSE(ParseJson(""));
}

TEST(Json, LimitsOnSizeAndDepth) {
  std::string deep(100, '[');
  deep += std::string(100, ']');
  auto r = ParseJson(deep, {.max_bytes = 1 << 20, .max_depth = 64});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(ParseJson(deep, {.max_bytes = 1 << 20, .max_depth = 128}));
  auto big = ParseJson(std::string(2000, ' ') + "1", {.max_bytes = 1000, .max_depth = 8});
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code(), StatusCode::kResourceExhausted);
}

// The parser's working stack starts in a fixed buffer; documents deeper than it fits still parse
// (and still hit the depth limit) exactly as before.
TEST(Json, DeepDocumentsOutgrowTheParsersStackBuffer) {
  std::string deep(1000, '[');
  deep += std::string(1000, ']');
  auto ok = ParseJson(deep, {.max_bytes = 1 << 20, .max_depth = 2000});
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ToJson(*ok), deep);
  auto too_deep = ParseJson(deep, {.max_bytes = 1 << 20, .max_depth = 999});
  ASSERT_FALSE(too_deep);
  EXPECT_EQ(too_deep.error().code(), StatusCode::kResourceExhausted);
}

TEST(Json, CanonicalFormSortsKeysAtEveryLevel) {
  auto a = ParseJson(R"({"b":[{"z":1,"a":2}],"a":"x\u00e9","c":null})");
  auto b = ParseJson(R"({ "c" : null, "a":"xé", "b":[{"a":2,"z":1}] })");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(CanonicalJson(*a), CanonicalJson(*b));
  EXPECT_EQ(CanonicalJson(*a), "{\"a\":\"xé\",\"b\":[{\"a\":2,\"z\":1}],\"c\":null}");
}

TEST(Json, TypedAccessNamesTheField) {
  auto doc = ParseJson(R"({"tier":5,"name":"x","ok":true})");
  ASSERT_TRUE(doc);
  const auto& o = doc->as_object();
  auto tier = GetString(o, "tier", "case.customer");
  ASSERT_FALSE(tier);
  EXPECT_EQ(tier.error().message(), "case.customer.tier: expected a string, got number");
  EXPECT_EQ(GetString(o, "missing", "case").error().message(), "case.missing: missing");
  EXPECT_EQ(GetBool(o, "ok", "").value(), true);
  EXPECT_FALSE(GetOptionalString(o, "absent", "").value().has_value());
}

}  // namespace
}  // namespace arbiter
