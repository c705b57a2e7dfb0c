#include "arbiter/routing/evidence.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include "arbiter/common/crypto.h"
#include "arbiter/common/json.h"

namespace arbiter::routing {
namespace {

TEST(CaseKey, HashesAreKeyedAndLabelled) {
  InMemoryCaseKeyStore keys;
  auto a = keys.KeyFor("CASE-1");
  auto b = keys.KeyFor("CASE-2");
  auto a2 = keys.KeyFor("CASE-1");
  ASSERT_TRUE(a && b && a2);
  EXPECT_EQ(a->Hash("text", "hello"), a2->Hash("text", "hello"));
  EXPECT_NE(a->Hash("text", "hello"), b->Hash("text", "hello"));
  EXPECT_NE(a->Hash("text", "hello"), a->Hash("customer", "hello"));
  EXPECT_EQ(a->Hash("text", "hello").size(), 64u);
}

TEST(CaseKey, IsHmacSha256OfLabelNulData) {
  CaseKey key(ToBytes("Jefe"));
  std::string message("text");
  message.push_back('\0');
  message += "hello";
  EXPECT_EQ(key.Hash("text", "hello"), HexEncode(HmacSha256(ToBytes("Jefe"), AsBytes(message))));
  // RFC 4231 test case 2 pins the primitive.
  EXPECT_EQ(HexEncode(HmacSha256(ToBytes("Jefe"), AsBytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // The NUL separates label and data: moving a byte across it changes the hash.
  EXPECT_NE(key.Hash("ab", "c"), key.Hash("a", "bc"));
}

TEST(CaseKey, HashOfPartsIsTheHashOfTheirConcatenation) {
  CaseKey key(ToBytes("Jefe"));
  const std::string long_part(200, 'x');  // crosses SHA-256 blocks
  const std::vector<std::string_view> parts = {"subject", "", "\n", long_part, "\n", "tail"};
  std::string joined;
  for (auto p : parts) joined += p;
  std::string out = "prefix:";
  key.AppendHash("text", parts, out);
  EXPECT_EQ(out, "prefix:" + key.Hash("text", joined));
  out.clear();
  key.AppendHash("text", std::span<const std::string_view>(), out);
  EXPECT_EQ(out, key.Hash("text", ""));
}

TEST(CaseKeyStore, ShreddingMakesTheKeyUnrecoverable) {
  InMemoryCaseKeyStore keys;
  ASSERT_TRUE(keys.KeyFor("CASE-1").has_value());
  ASSERT_TRUE(keys.Shred("CASE-1").ok());
  auto again = keys.KeyFor("CASE-1");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(keys.KeyForRoute("CASE-1", nullptr).has_value());
  // Shredding a case that never had a key also refuses one later.
  ASSERT_TRUE(keys.Shred("CASE-2").ok());
  EXPECT_FALSE(keys.KeyFor("CASE-2").has_value());
}

TEST(EvidenceSink, AppendsCanonicalRecordsInOrder) {
  InMemoryEvidenceSink sink;
  boost::json::object r = NewEvidenceRecord("route", Actor{"source", "zendesk"}, 42);
  r["zeta"] = 1;
  r["alpha"] = 2;
  auto i0 = AppendEvidence(&sink, r);
  auto i1 = AppendEvidence(&sink, r);
  ASSERT_TRUE(i0 && i1);
  EXPECT_EQ(**i0, 0u);
  EXPECT_EQ(**i1, 1u);
  EXPECT_EQ(
      sink.Records()[0],
      R"({"actor":{"id":"zendesk","kind":"source"},"alpha":2,"at":42,"type":"route","v":1,"zeta":1})");
  sink.FailAppends(true);
  auto failed = AppendEvidence(&sink, r);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), StatusCode::kUnavailable);
  auto none = AppendEvidence(nullptr, r);
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
}

}  // namespace
}  // namespace arbiter::routing

namespace arbiter::routing {
namespace {

// Evidence hashes depend on CanonicalJson's bytes: its string and number writer must match
// Boost.JSON's serializer exactly (every byte value, integer extremes).
TEST(CanonicalJson, ScalarsMatchBoostSerialize) {
  for (int b = 0; b < 256; ++b) {
    std::string s = "a";
    s.push_back(static_cast<char>(b));
    s += "z\xc3\xa9";
    const boost::json::value v(s);
    EXPECT_EQ(CanonicalJson(v), boost::json::serialize(v)) << "byte " << b;
    boost::json::object o;
    o[s] = 1;
    EXPECT_EQ(CanonicalJson(o), boost::json::serialize(o)) << "key byte " << b;
  }
  for (const boost::json::value& v :
       {boost::json::value(std::int64_t{0}), boost::json::value(std::int64_t{-1}),
        boost::json::value(std::numeric_limits<std::int64_t>::min()),
        boost::json::value(std::numeric_limits<std::int64_t>::max()),
        boost::json::value(std::numeric_limits<std::uint64_t>::max()), boost::json::value(true),
        boost::json::value(false), boost::json::value(nullptr), boost::json::value(0.25)}) {
    EXPECT_EQ(CanonicalJson(v), boost::json::serialize(v));
  }
}

}  // namespace
}  // namespace arbiter::routing
