// HMAC-SHA-256 with the key schedule done once: the inner and outer SHA-256 states after the
// padded key are kept, so each MAC costs two context copies and the hashing of the message. Used
// for the per-case keyed hashes of evidence records (one key, many hashes). Thread-safe.
#pragma once

#include <string_view>

#include "arbiter/common/bytes.h"
#include "arbiter/common/crypto.h"

struct evp_md_ctx_st;

namespace arbiter::routing::internal {

class HmacSha256Key {
 public:
  explicit HmacSha256Key(ByteView key);
  ~HmacSha256Key();
  HmacSha256Key(const HmacSha256Key&) = delete;
  HmacSha256Key& operator=(const HmacSha256Key&) = delete;

  // HMAC-SHA-256(key, label || 0x00 || data).
  Sha256Digest Mac(std::string_view label, std::string_view data) const;

 private:
  evp_md_ctx_st* inner_;
  evp_md_ctx_st* outer_;
};

}  // namespace arbiter::routing::internal
