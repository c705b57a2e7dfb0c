#include "arbiter/routing/internal/hmac.h"

#include <openssl/evp.h>

#include <array>
#include <cstdlib>

namespace arbiter::routing::internal {
namespace {

constexpr size_t kBlock = 64;

void Check(int ok) {
  // OpenSSL fails here only on allocation failure or a broken build: nothing can continue.
  if (ok != 1) std::abort();
}

// One scratch context per thread, reused by every MAC on it.
EVP_MD_CTX* Scratch() {
  struct Holder {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Holder() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Holder holder;
  if (holder.ctx == nullptr) std::abort();
  return holder.ctx;
}

}  // namespace

HmacSha256Key::HmacSha256Key(ByteView key) : inner_(EVP_MD_CTX_new()), outer_(EVP_MD_CTX_new()) {
  if (inner_ == nullptr || outer_ == nullptr) std::abort();
  std::array<std::uint8_t, kBlock> block{};
  if (key.size() > kBlock) {
    const Sha256Digest d = Sha256(key);
    std::copy(d.begin(), d.end(), block.begin());
  } else {
    std::copy(key.begin(), key.end(), block.begin());
  }
  std::array<std::uint8_t, kBlock> pad{};
  for (size_t i = 0; i < kBlock; ++i) pad[i] = block[i] ^ 0x36;
  Check(EVP_DigestInit_ex(inner_, EVP_sha256(), nullptr));
  Check(EVP_DigestUpdate(inner_, pad.data(), pad.size()));
  for (size_t i = 0; i < kBlock; ++i) pad[i] = block[i] ^ 0x5c;
  Check(EVP_DigestInit_ex(outer_, EVP_sha256(), nullptr));
  Check(EVP_DigestUpdate(outer_, pad.data(), pad.size()));
}

HmacSha256Key::~HmacSha256Key() {
  EVP_MD_CTX_free(inner_);
  EVP_MD_CTX_free(outer_);
}

Sha256Digest HmacSha256Key::Mac(std::string_view label, std::string_view data) const {
  EVP_MD_CTX* ctx = Scratch();
  static const std::uint8_t kZero = 0;
  Sha256Digest inner{};
  Sha256Digest out{};
  unsigned int len = 0;
  Check(EVP_MD_CTX_copy_ex(ctx, inner_));
  Check(EVP_DigestUpdate(ctx, label.data(), label.size()));
  Check(EVP_DigestUpdate(ctx, &kZero, 1));
  Check(EVP_DigestUpdate(ctx, data.data(), data.size()));
  Check(EVP_DigestFinal_ex(ctx, inner.data(), &len));
  Check(EVP_MD_CTX_copy_ex(ctx, outer_));
  Check(EVP_DigestUpdate(ctx, inner.data(), inner.size()));
  Check(EVP_DigestFinal_ex(ctx, out.data(), &len));
  return out;
}

}  // namespace arbiter::routing::internal
