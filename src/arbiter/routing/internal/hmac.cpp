// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, but remain part of its
// API; see hmac.h for why this file uses them.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "arbiter/routing/internal/hmac.h"

#include <openssl/rand.h>
#include <openssl/sha.h>

#include <string.h>  // explicit_bzero

#include <cstdlib>
#include <cstring>

namespace arbiter::routing::internal {
namespace {

constexpr size_t kBlock = 64;
static_assert(sizeof(SHA256_CTX) <= 112, "HmacSha256Key::kStateBytes is too small");

SHA256_CTX* Ctx(std::uint8_t* p) { return reinterpret_cast<SHA256_CTX*>(p); }

// Wipes key material. explicit_bzero is glibc's memset that the compiler may not drop; it costs a
// few instructions per call where OPENSSL_cleanse's byte loop cost one per byte (about 600
// instructions per routed case, docs/benchmarks/routing.md).
void Wipe(void* p, size_t n) { explicit_bzero(p, n); }

void Check(int ok) {
  // SHA256_* fail only on a null argument: nothing can continue.
  if (ok != 1) std::abort();
}

}  // namespace

HmacSha256Key::HmacSha256Key(ByteView key) {
  std::uint8_t block[kBlock] = {};
  if (key.size() > kBlock) {
    const Sha256Digest d = Sha256(key);
    std::memcpy(block, d.data(), d.size());
  } else if (!key.empty()) {
    std::memcpy(block, key.data(), key.size());
  }
  std::uint8_t pad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) pad[i] = block[i] ^ 0x36;
  Check(SHA256_Init(Ctx(inner_.data())));
  Check(SHA256_Update(Ctx(inner_.data()), pad, kBlock));
  for (size_t i = 0; i < kBlock; ++i) pad[i] = block[i] ^ 0x5c;
  Check(SHA256_Init(Ctx(outer_.data())));
  Check(SHA256_Update(Ctx(outer_.data()), pad, kBlock));
  Wipe(block, sizeof(block));
  Wipe(pad, sizeof(pad));
}

HmacSha256Key::~HmacSha256Key() {
  Wipe(inner_.data(), inner_.size());
  Wipe(outer_.data(), outer_.size());
}

namespace {

// HMAC-SHA-256(key, label || 0x00 || parts...) from the precomputed inner and outer states.
Sha256Digest MacParts(const std::uint8_t* inner_state, const std::uint8_t* outer_state,
                      std::string_view label, const std::string_view* parts, size_t count) {
  // The label and its separator go in one update (labels are short words).
  std::uint8_t head[64];
  SHA256_CTX ctx;
  std::memcpy(&ctx, inner_state, sizeof(ctx));
  if (label.size() < sizeof(head)) {
    std::memcpy(head, label.data(), label.size());
    head[label.size()] = 0;
    Check(SHA256_Update(&ctx, head, label.size() + 1));
  } else {
    static const std::uint8_t kZero = 0;
    Check(SHA256_Update(&ctx, label.data(), label.size()));
    Check(SHA256_Update(&ctx, &kZero, 1));
  }
  for (size_t i = 0; i < count; ++i) {
    if (!parts[i].empty()) Check(SHA256_Update(&ctx, parts[i].data(), parts[i].size()));
  }
  Sha256Digest inner{};
  Sha256Digest out{};
  Check(SHA256_Final(inner.data(), &ctx));
  std::memcpy(&ctx, outer_state, sizeof(ctx));
  Check(SHA256_Update(&ctx, inner.data(), inner.size()));
  Check(SHA256_Final(out.data(), &ctx));
  Wipe(&ctx, sizeof(ctx));
  return out;
}

}  // namespace

Sha256Digest HmacSha256Key::Mac(std::string_view label, std::string_view data) const {
  return MacParts(inner_.data(), outer_.data(), label, &data, 1);
}

Sha256Digest HmacSha256Key::Mac(std::string_view label, const std::string_view* parts,
                                size_t count) const {
  return MacParts(inner_.data(), outer_.data(), label, parts, count);
}

void WriteHex(const Sha256Digest& digest, char* out) {
  // Two characters per byte from one table lookup.
  static constexpr auto kPairs = [] {
    constexpr char kHex[] = "0123456789abcdef";
    std::array<char, 512> t{};
    for (size_t b = 0; b < 256; ++b) {
      t[2 * b] = kHex[b >> 4];
      t[2 * b + 1] = kHex[b & 15];
    }
    return t;
  }();
  for (std::uint8_t b : digest) {
    std::memcpy(out, &kPairs[2 * size_t{b}], 2);
    out += 2;
  }
}

void AppendHex(const Sha256Digest& digest, std::string& out) {
  const size_t at = out.size();
  out.resize(at + 2 * digest.size());
  WriteHex(digest, out.data() + at);
}

void HmacSha256Key::AppendHexMac(std::string_view label, std::string_view data,
                                 std::string& out) const {
  AppendHex(MacParts(inner_.data(), outer_.data(), label, &data, 1), out);
}

void HmacSha256Key::AppendHexMac(std::string_view label, const std::string_view* parts,
                                 size_t count, std::string& out) const {
  AppendHex(MacParts(inner_.data(), outer_.data(), label, parts, count), out);
}

void DrawCaseKeyBytes(std::uint8_t* out) {
  constexpr size_t kKeysPerDraw = 128;
  struct Pool {
    std::uint8_t bytes[kCaseKeyBytes * kKeysPerDraw];
    size_t used = sizeof(bytes);
    ~Pool() { Wipe(bytes, sizeof(bytes)); }
  };
  thread_local Pool pool;
  if (pool.used == sizeof(pool.bytes)) {
    if (RAND_bytes(pool.bytes, static_cast<int>(sizeof(pool.bytes))) != 1) std::abort();
    pool.used = 0;
  }
  std::uint8_t* key = pool.bytes + pool.used;
  std::memcpy(out, key, kCaseKeyBytes);
  Wipe(key, kCaseKeyBytes);
  pool.used += kCaseKeyBytes;
}

Bytes NewCaseKeyBytes() {
  Bytes out(kCaseKeyBytes);
  DrawCaseKeyBytes(out.data());
  return out;
}

void WipeKeyBytes(std::uint8_t* key, size_t size) { Wipe(key, size); }

}  // namespace arbiter::routing::internal
