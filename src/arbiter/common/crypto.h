// Cryptographic primitives on OpenSSL 3's EVP interface: SHA-256, HMAC-SHA-256, Ed25519 and ECDSA
// P-256 (ES256, with JOSE's fixed-size r||s signature encoding). Keys are immutable and safe to
// share between threads; every call that can fail on caller input returns a Status instead of
// aborting.
//
//   ARBITER_TRY(auto key, Ed25519PrivateKey::Generate());
//   ARBITER_TRY(Bytes sig, key.Sign(AsBytes("message")));
//   ARBITER_RETURN_IF_ERROR(Ed25519Verify(key.PublicKey(), AsBytes("message"), sig));
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "arbiter/common/bytes.h"
#include "arbiter/common/status.h"

struct evp_pkey_st;
struct evp_md_ctx_st;

namespace arbiter {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest Sha256(ByteView data);
inline Sha256Digest Sha256(std::string_view data) { return Sha256(AsBytes(data)); }

// Incremental SHA-256. Reusable: Final() resets it for the next message.
class Sha256Hasher {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  Sha256Hasher& Update(ByteView data);
  Sha256Hasher& Update(std::string_view data) { return Update(AsBytes(data)); }
  Sha256Hasher& Update(std::uint8_t byte) { return Update(ByteView(&byte, 1)); }
  Sha256Digest Final();

 private:
  evp_md_ctx_st* ctx_;
};

Sha256Digest HmacSha256(ByteView key, ByteView data);

// Compares in time independent of where the inputs differ (lengths are not secret).
bool ConstantTimeEqual(ByteView a, ByteView b);

// Cryptographically secure random bytes from OpenSSL's DRBG. Aborts the process if the DRBG fails:
// no caller can continue securely without randomness.
Bytes RandomBytes(size_t n);
void FillRandom(std::span<std::uint8_t> out);

// A source of randomness that tests may replace. Production code uses SecureRandom.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual void Fill(std::span<std::uint8_t> out) = 0;
  Bytes Generate(size_t n) {
    Bytes b(n);
    Fill(b);
    return b;
  }
};
class SecureRandom final : public RandomSource {
 public:
  void Fill(std::span<std::uint8_t> out) override { FillRandom(out); }
};

namespace internal {
using PkeyPtr = std::shared_ptr<evp_pkey_st>;
// Initialised OpenSSL contexts for one key and one operation, reused across calls (crypto.cpp).
struct PkeyCtxPool;
using PkeyCtxPoolPtr = std::shared_ptr<PkeyCtxPool>;
}  // namespace internal

// ---- Ed25519 (RFC 8032) ----

inline constexpr size_t kEd25519KeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

class Ed25519PrivateKey {
 public:
  static Result<Ed25519PrivateKey> Generate();
  // From the 32-byte seed (RFC 8032's private key).
  static Result<Ed25519PrivateKey> FromSeed(ByteView seed);

  Bytes Seed() const;
  Bytes PublicKey() const;  // 32 bytes
  Result<Bytes> Sign(ByteView message) const;

 private:
  explicit Ed25519PrivateKey(internal::PkeyPtr key) : key_(std::move(key)) {}
  internal::PkeyPtr key_;
};

// OK iff `signature` is a valid Ed25519 signature of `message` under the 32-byte `public_key`.
// Errors: kInvalidArgument for a malformed key or signature size, kUnauthenticated for a bad
// signature.
Status Ed25519Verify(ByteView public_key, ByteView message, ByteView signature);

// ---- ECDSA P-256 with SHA-256 (JOSE ES256) ----

inline constexpr size_t kP256CoordinateSize = 32;
inline constexpr size_t kEs256SignatureSize = 64;

class EcdsaP256PublicKey {
 public:
  // From the affine coordinates (32 bytes each, big-endian). Rejects points not on the curve.
  static Result<EcdsaP256PublicKey> FromCoordinates(ByteView x, ByteView y);
  // From a PEM SubjectPublicKeyInfo.
  static Result<EcdsaP256PublicKey> FromPem(std::string_view pem);

  Bytes X() const;
  Bytes Y() const;
  std::string ToPem() const;

  // OK iff `signature` (r||s, 64 bytes) is a valid ES256 signature of `message`.
  // Errors: kInvalidArgument for a wrong size, kUnauthenticated for a bad signature.
  Status Verify(ByteView message, ByteView signature) const;

 private:
  friend class EcdsaP256PrivateKey;
  explicit EcdsaP256PublicKey(internal::PkeyPtr key);
  internal::PkeyPtr key_;
  internal::PkeyCtxPoolPtr verifiers_;  // shared by copies, like key_
};

class EcdsaP256PrivateKey {
 public:
  static Result<EcdsaP256PrivateKey> Generate();
  // From the 32-byte private scalar d (big-endian).
  static Result<EcdsaP256PrivateKey> FromScalar(ByteView d);
  // From a PEM PKCS#8 or SEC1 private key.
  static Result<EcdsaP256PrivateKey> FromPem(std::string_view pem);

  Bytes Scalar() const;
  std::string ToPem() const;  // PKCS#8
  const EcdsaP256PublicKey& PublicKey() const { return public_key_; }

  // SHA-256 then ECDSA; returns r||s (64 bytes), the JOSE encoding.
  Result<Bytes> Sign(ByteView message) const;

 private:
  EcdsaP256PrivateKey(internal::PkeyPtr key, EcdsaP256PublicKey pub);
  internal::PkeyPtr key_;
  EcdsaP256PublicKey public_key_;
  internal::PkeyCtxPoolPtr signers_;  // shared by copies, like key_
};

}  // namespace arbiter
