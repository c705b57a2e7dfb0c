// HMAC-SHA-256 with the key schedule done once: the inner and outer SHA-256 states after the
// padded key are kept, so each MAC costs two state copies and the hashing of the message. Used
// for the per-case keyed hashes of evidence records (one key, many hashes). Thread-safe (Mac is
// const and works on copies).
//
// It uses OpenSSL's one-shot SHA-256 state (SHA256_CTX, the same assembly as EVP) rather than
// EVP_MD_CTX: copying an EVP context goes through the provider layer (locks, allocation), which
// cost more than hashing a short field (docs/benchmarks/routing.md).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "arbiter/common/bytes.h"
#include "arbiter/common/crypto.h"

namespace arbiter::routing::internal {

class HmacSha256Key {
 public:
  explicit HmacSha256Key(ByteView key);
  ~HmacSha256Key();
  HmacSha256Key(const HmacSha256Key&) = delete;
  HmacSha256Key& operator=(const HmacSha256Key&) = delete;

  // HMAC-SHA-256(key, label || 0x00 || data).
  Sha256Digest Mac(std::string_view label, std::string_view data) const;
  // The same as 64 lowercase hex characters appended to `out`.
  void AppendHexMac(std::string_view label, std::string_view data, std::string& out) const;
  // Mac over the concatenation of `parts` (hashed in place, without joining them).
  Sha256Digest Mac(std::string_view label, const std::string_view* parts, size_t count) const;
  // AppendHexMac over the concatenation of `parts`.
  void AppendHexMac(std::string_view label, const std::string_view* parts, size_t count,
                    std::string& out) const;

 private:
  // Storage for two SHA256_CTX (checked against sizeof(SHA256_CTX) in hmac.cpp), so that
  // <openssl/sha.h> stays out of this header.
  static constexpr size_t kStateBytes = 112;
  alignas(8) std::array<std::uint8_t, kStateBytes> inner_;
  alignas(8) std::array<std::uint8_t, kStateBytes> outer_;
};

// Lowercase hex of a digest appended to `out`, or written at out[0..63].
void AppendHex(const Sha256Digest& digest, std::string& out);
void WriteHex(const Sha256Digest& digest, char* out);

constexpr size_t kCaseKeyBytes = 32;

// 32 fresh random bytes for a new case key. Draws from OpenSSL's RAND_bytes in blocks of
// kKeysPerDraw keys per thread (one RAND call per block instead of per case); used bytes are
// wiped from the block. Aborts if the system has no randomness, like RandomBytes.
Bytes NewCaseKeyBytes();
// The same written to out[0..kCaseKeyBytes) (no allocation); wipe them with WipeKeyBytes.
void DrawCaseKeyBytes(std::uint8_t* out);
// Overwrites key material with zeros (a write the compiler keeps).
void WipeKeyBytes(std::uint8_t* key, size_t size);

}  // namespace arbiter::routing::internal
