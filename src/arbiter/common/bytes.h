// Byte strings and their text encodings: hex, standard base64 (RFC 4648 §4) and base64url without
// padding (RFC 4648 §5, as JOSE uses it).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/status.h"

namespace arbiter {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsChars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

// Lowercase hex.
std::string HexEncode(ByteView data);
// Accepts upper- and lowercase digits; rejects odd lengths and other characters.
Result<Bytes> HexDecode(std::string_view text);

// Standard base64 with '=' padding.
std::string Base64Encode(ByteView data);
// Requires canonical padding; rejects characters outside the alphabet, whitespace included.
Result<Bytes> Base64Decode(std::string_view text);

// base64url without padding.
std::string Base64UrlEncode(ByteView data);
// Rejects '=' padding, characters outside the URL-safe alphabet, impossible lengths (4n+1) and
// non-zero trailing bits (so every byte string has exactly one encoding).
Result<Bytes> Base64UrlDecode(std::string_view text);

}  // namespace arbiter
