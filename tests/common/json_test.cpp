#include "arbiter/common/json.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

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

// The byte-at-a-time escaping AppendJsonString replaced: its output is the contract.
std::string ReferenceJsonString(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

TEST(Json, AppendJsonStringEscapesEveryByteAtEveryPosition) {
  // Each byte value at each position of strings that span several eight-byte words (the scan's
  // unit), alone and after another escaped byte, and appended to existing text.
  for (int b = 0; b < 256; ++b) {
    for (size_t len = 1; len <= 19; ++len) {
      for (size_t at = 0; at < len; ++at) {
        std::string s(len, 'a');
        s[at] = static_cast<char>(b);
        if (at + 2 < len) s[at + 2] = '\n';
        std::string out = "x";
        AppendJsonString(s, out);
        ASSERT_EQ(out, "x" + ReferenceJsonString(s))
            << "byte " << b << " at " << at << " of " << len;
        // Right after an escaped byte (whose borrow must not reach the next byte's test).
        for (char before : {'\n', '"', '\\', '\x1f'}) {
          if (at == 0) break;
          s[at - 1] = before;
          out.clear();
          AppendJsonString(s, out);
          ASSERT_EQ(out, ReferenceJsonString(s))
              << "byte " << b << " at " << at << " of " << len << " after " << int{before};
        }
      }
    }
  }
  std::string empty;
  AppendJsonString("", empty);
  EXPECT_EQ(empty, "\"\"");
  const std::string mixed = "Ol\xc3\xa9 \"quoted\" \\ tab\there\x01\x1f\x7f\xff end";
  std::string out;
  AppendJsonString(mixed, out);
  EXPECT_EQ(out, ReferenceJsonString(mixed));
  EXPECT_EQ(out, ToJson(boost::json::value(mixed)));
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
