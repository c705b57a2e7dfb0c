// SHA256_Init/Update/Final are deprecated in OpenSSL 3 in favour of EVP, but remain part of its
// API; see hmac.h for why this file uses them.
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "arbiter/routing/internal/hmac.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <cstring>

namespace arbiter::routing::internal {
namespace {

constexpr size_t kBlock = 64;
static_assert(sizeof(SHA256_CTX) <= 112, "HmacSha256Key::kStateBytes is too small");

SHA256_CTX* Ctx(std::uint8_t* p) { return reinterpret_cast<SHA256_CTX*>(p); }

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
  OPENSSL_cleanse(block, sizeof(block));
  OPENSSL_cleanse(pad, sizeof(pad));
}

HmacSha256Key::~HmacSha256Key() {
  OPENSSL_cleanse(inner_.data(), inner_.size());
  OPENSSL_cleanse(outer_.data(), outer_.size());
}

Sha256Digest HmacSha256Key::Mac(std::string_view label, std::string_view data) const {
  static const std::uint8_t kZero = 0;
  SHA256_CTX ctx;
  std::memcpy(&ctx, inner_.data(), sizeof(ctx));
  Sha256Digest inner{};
  Sha256Digest out{};
  Check(SHA256_Update(&ctx, label.data(), label.size()));
  Check(SHA256_Update(&ctx, &kZero, 1));
  Check(SHA256_Update(&ctx, data.data(), data.size()));
  Check(SHA256_Final(inner.data(), &ctx));
  std::memcpy(&ctx, outer_.data(), sizeof(ctx));
  Check(SHA256_Update(&ctx, inner.data(), inner.size()));
  Check(SHA256_Final(out.data(), &ctx));
  OPENSSL_cleanse(&ctx, sizeof(ctx));
  return out;
}

void HmacSha256Key::AppendHexMac(std::string_view label, std::string_view data,
                                 std::string& out) const {
  static constexpr char kHex[] = "0123456789abcdef";
  const Sha256Digest mac = Mac(label, data);
  const size_t at = out.size();
  out.resize(at + 2 * mac.size());
  char* p = out.data() + at;
  for (std::uint8_t b : mac) {
    *p++ = kHex[b >> 4];
    *p++ = kHex[b & 15];
  }
}

Bytes NewCaseKeyBytes() {
  constexpr size_t kKeyBytes = 32;
  constexpr size_t kKeysPerDraw = 128;
  struct Pool {
    std::uint8_t bytes[kKeyBytes * kKeysPerDraw];
    size_t used = sizeof(bytes);
    ~Pool() { OPENSSL_cleanse(bytes, sizeof(bytes)); }
  };
  thread_local Pool pool;
  if (pool.used == sizeof(pool.bytes)) {
    if (RAND_bytes(pool.bytes, static_cast<int>(sizeof(pool.bytes))) != 1) std::abort();
    pool.used = 0;
  }
  std::uint8_t* key = pool.bytes + pool.used;
  Bytes out(key, key + kKeyBytes);
  OPENSSL_cleanse(key, kKeyBytes);
  pool.used += kKeyBytes;
  return out;
}

}  // namespace arbiter::routing::internal
