#include "arbiter/routing/evidence.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "arbiter/common/crypto.h"

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

TEST(CaseKeyStore, ShreddingMakesTheKeyUnrecoverable) {
  InMemoryCaseKeyStore keys;
  ASSERT_TRUE(keys.KeyFor("CASE-1").has_value());
  ASSERT_TRUE(keys.Shred("CASE-1").ok());
  auto again = keys.KeyFor("CASE-1");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), StatusCode::kFailedPrecondition);
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
