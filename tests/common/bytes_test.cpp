#include "arbiter/common/bytes.h"

#include <gtest/gtest.h>

namespace arbiter {
namespace {

TEST(Hex, RoundTripAndErrors) {
  Bytes b = {0x00, 0x7f, 0x80, 0xff};
  EXPECT_EQ(HexEncode(b), "007f80ff");
  EXPECT_EQ(HexDecode("007F80ff").value(), b);
  EXPECT_FALSE(HexDecode("abc").has_value());
  auto bad = HexDecode("0g");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("offset 1"), std::string::npos);
}

// RFC 4648 §10 test vectors.
TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : cases) {
    EXPECT_EQ(Base64Encode(AsBytes(plain)), encoded);
    EXPECT_EQ(Base64Decode(encoded).value(), ToBytes(plain));
  }
  EXPECT_FALSE(Base64Decode("Zg=").has_value());
  EXPECT_FALSE(Base64Decode("Z===").has_value());
  EXPECT_FALSE(Base64Decode("Zm9 v").has_value());
}

TEST(Base64Url, NoPaddingAndUrlAlphabet) {
  Bytes b = {0xfb, 0xff, 0xbf};
  EXPECT_EQ(Base64Encode(b), "+/+/");
  EXPECT_EQ(Base64UrlEncode(b), "-_-_");
  EXPECT_EQ(Base64UrlEncode(AsBytes("f")), "Zg");
  EXPECT_EQ(Base64UrlDecode("Zg").value(), ToBytes("f"));
  EXPECT_EQ(Base64UrlDecode("-_-_").value(), b);
}

TEST(Base64Url, RejectsPaddingInvalidCharactersAndLengths) {
  EXPECT_FALSE(Base64UrlDecode("Zg==").has_value());   // padding
  EXPECT_FALSE(Base64UrlDecode("+/+/").has_value());   // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("Zm9v!").has_value());  // not base64
  EXPECT_FALSE(Base64UrlDecode("Zm9vY").has_value());  // 4n+1 characters
  EXPECT_FALSE(Base64UrlDecode("Zh").has_value());     // non-zero trailing bits
  auto r = Base64UrlDecode("ab.c");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "base64url: invalid character at offset 2");
}

}  // namespace
}  // namespace arbiter
