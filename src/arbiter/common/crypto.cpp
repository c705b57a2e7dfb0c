#include "arbiter/common/crypto.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

namespace arbiter {

namespace internal {

// Each ES256 call used to create an EVP_PKEY_CTX and run *_init and set_signature_md, which fetch
// the provider's implementation: ~26k instructions, 9% of a signature (callgrind). A pool keeps
// initialised contexts per key and operation; a context is used by one thread at a time (leased
// under the mutex) and is reusable because OpenSSL's ECDSA sign/verify keep no per-message state
// in it. A context that saw a failure is dropped rather than returned. The pool lives as long as
// the key's last copy, so no key material outlives the key object.
struct PkeyCtxPool {
  static constexpr size_t kMaxIdle = 8;

  ~PkeyCtxPool() {
    for (EVP_PKEY_CTX* c : idle) EVP_PKEY_CTX_free(c);
  }

  std::mutex mu;
  std::vector<EVP_PKEY_CTX*> idle;
};

}  // namespace internal

namespace {

template <auto Fn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Fn(p);
  }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using EcGroupPtr = std::unique_ptr<EC_GROUP, Deleter<EC_GROUP_free>>;
using EcPointPtr = std::unique_ptr<EC_POINT, Deleter<EC_POINT_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM_free>>;

internal::PkeyPtr WrapPkey(EVP_PKEY* p) { return internal::PkeyPtr(p, EVP_PKEY_free); }

// The first queued OpenSSL error as text (and clears the queue).
std::string OpensslError(std::string_view what) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  std::string out(what);
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    out += " (";
    out += buf;
    out += ")";
  }
  return out;
}

const EVP_MD* Sha256Md() {
  static const EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

constexpr const char* kP256GroupName = "prime256v1";

bool IsP256(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "EC") != 1) return false;
  char name[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) !=
      1) {
    return false;
  }
  return std::string_view(name, len) == kP256GroupName;
}

Bytes BnParam(EVP_PKEY* key, const char* param) {
  BIGNUM* raw = nullptr;
  Bytes out(kP256CoordinateSize);
  if (EVP_PKEY_get_bn_param(key, param, &raw) != 1) return {};
  BnPtr bn(raw);
  if (BN_bn2binpad(bn.get(), out.data(), static_cast<int>(out.size())) < 0) return {};
  return out;
}

Result<internal::PkeyPtr> P256FromData(ByteView uncompressed_point, const BIGNUM* d) {
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kP256GroupName, 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                       uncompressed_point.data(), uncompressed_point.size()) != 1 ||
      (d != nullptr && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, d) != 1)) {
    return Status::Internal(OpensslError("p-256: building key parameters failed"));
  }
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                        params.get()) != 1) {
    return Status::InvalidArgument(OpensslError("p-256: invalid key"));
  }
  auto key = WrapPkey(raw);
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return Status::InvalidArgument(OpensslError("p-256: public key is not a point on the curve"));
  }
  return key;
}

enum class PkeyOp { kSign, kVerify };

// A context leased from a pool: initialised for `op` with SHA-256 as the signature digest.
class LeasedCtx {
 public:
  LeasedCtx(internal::PkeyCtxPool& pool, EVP_PKEY* key, PkeyOp op) : pool_(pool) {
    {
      std::lock_guard lock(pool_.mu);
      if (!pool_.idle.empty()) {
        ctx_ = pool_.idle.back();
        pool_.idle.pop_back();
        return;
      }
    }
    ctx_ = EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr);
    if (ctx_ == nullptr) return;
    const int init = op == PkeyOp::kSign ? EVP_PKEY_sign_init(ctx_) : EVP_PKEY_verify_init(ctx_);
    if (init != 1 || EVP_PKEY_CTX_set_signature_md(ctx_, Sha256Md()) != 1) Drop();
  }
  ~LeasedCtx() {
    if (ctx_ == nullptr) return;
    {
      std::lock_guard lock(pool_.mu);
      if (pool_.idle.size() < internal::PkeyCtxPool::kMaxIdle) {
        pool_.idle.push_back(ctx_);
        return;
      }
    }
    EVP_PKEY_CTX_free(ctx_);
  }
  LeasedCtx(const LeasedCtx&) = delete;
  LeasedCtx& operator=(const LeasedCtx&) = delete;

  EVP_PKEY_CTX* get() const { return ctx_; }
  // Frees the context instead of returning it to the pool (after a failed operation).
  void Drop() {
    EVP_PKEY_CTX_free(ctx_);
    ctx_ = nullptr;
  }

 private:
  internal::PkeyCtxPool& pool_;
  EVP_PKEY_CTX* ctx_ = nullptr;
};

// The DER ECDSA-Sig-Value of a JOSE r||s signature (two 32-byte big-endian integers).
size_t EncodeDerSignature(ByteView rs, std::uint8_t (&out)[72]) {
  size_t n = 2;
  for (int half = 0; half < 2; ++half) {
    ByteView v = rs.subspan(static_cast<size_t>(half) * 32, 32);
    while (v.size() > 1 && v[0] == 0) v = v.subspan(1);  // minimal encoding
    const bool pad = (v[0] & 0x80) != 0;                 // keep the INTEGER positive
    out[n++] = 0x02;
    out[n++] = static_cast<std::uint8_t>(v.size() + (pad ? 1 : 0));
    if (pad) out[n++] = 0x00;
    std::memcpy(out + n, v.data(), v.size());
    n += v.size();
  }
  out[0] = 0x30;
  out[1] = static_cast<std::uint8_t>(n - 2);
  return n;
}

}  // namespace

// ---- SHA-256 and HMAC ----

Sha256Digest Sha256(ByteView data) {
  thread_local Sha256Hasher hasher;
  return hasher.Update(data).Final();
}

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr || EVP_DigestInit_ex2(ctx_, Sha256Md(), nullptr) != 1) std::abort();
}

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(ctx_); }

Sha256Hasher& Sha256Hasher::Update(ByteView data) {
  EVP_DigestUpdate(ctx_, data.data(), data.size());
  return *this;
}

Sha256Digest Sha256Hasher::Final() {
  Sha256Digest out{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, out.data(), &len);
  EVP_DigestInit_ex2(ctx_, Sha256Md(), nullptr);
  return out;
}

Sha256Digest HmacSha256(ByteView key, ByteView data) {
  Sha256Digest out{};
  unsigned int len = 0;
  static const std::uint8_t kEmpty = 0;
  HMAC(EVP_sha256(), key.empty() ? &kEmpty : key.data(), static_cast<int>(key.size()), data.data(),
       data.size(), out.data(), &len);
  return out;
}

bool ConstantTimeEqual(ByteView a, ByteView b) {
  return a.size() == b.size() && (a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0);
}

void FillRandom(std::span<std::uint8_t> out) {
  if (out.empty()) return;
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) std::abort();
}

Bytes RandomBytes(size_t n) {
  Bytes out(n);
  FillRandom(out);
  return out;
}

// ---- Ed25519 ----

Result<Ed25519PrivateKey> Ed25519PrivateKey::Generate() {
  return FromSeed(RandomBytes(kEd25519KeySize));
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(ByteView seed) {
  if (seed.size() != kEd25519KeySize) {
    return Status::InvalidArgument("ed25519: seed must be 32 bytes, got " +
                                   std::to_string(seed.size()));
  }
  EVP_PKEY* raw = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size());
  if (raw == nullptr) return Status::Internal(OpensslError("ed25519: creating key failed"));
  return Ed25519PrivateKey(WrapPkey(raw));
}

Bytes Ed25519PrivateKey::Seed() const {
  Bytes out(kEd25519KeySize);
  size_t len = out.size();
  EVP_PKEY_get_raw_private_key(key_.get(), out.data(), &len);
  return out;
}

Bytes Ed25519PrivateKey::PublicKey() const {
  Bytes out(kEd25519KeySize);
  size_t len = out.size();
  EVP_PKEY_get_raw_public_key(key_.get(), out.data(), &len);
  return out;
}

Result<Bytes> Ed25519PrivateKey::Sign(ByteView message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  Bytes sig(kEd25519SignatureSize);
  size_t len = sig.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, message.data(), message.size()) != 1) {
    return Status::Internal(OpensslError("ed25519: signing failed"));
  }
  return sig;
}

Status Ed25519Verify(ByteView public_key, ByteView message, ByteView signature) {
  if (public_key.size() != kEd25519KeySize) {
    return Status::InvalidArgument("ed25519: public key must be 32 bytes, got " +
                                   std::to_string(public_key.size()));
  }
  if (signature.size() != kEd25519SignatureSize) {
    return Status::InvalidArgument("ed25519: signature must be 64 bytes, got " +
                                   std::to_string(signature.size()));
  }
  EVP_PKEY* raw =
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size());
  if (raw == nullptr) return Status::InvalidArgument(OpensslError("ed25519: invalid public key"));
  auto key = WrapPkey(raw);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) {
    return Status::Internal(OpensslError("ed25519: verifier setup failed"));
  }
  if (EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(),
                       message.size()) != 1) {
    ERR_clear_error();
    return Status::Unauthenticated("ed25519: signature does not verify");
  }
  return Status::Ok();
}

// ---- ECDSA P-256 ----

EcdsaP256PublicKey::EcdsaP256PublicKey(internal::PkeyPtr key)
    : key_(std::move(key)), verifiers_(std::make_shared<internal::PkeyCtxPool>()) {}

EcdsaP256PrivateKey::EcdsaP256PrivateKey(internal::PkeyPtr key, EcdsaP256PublicKey pub)
    : key_(std::move(key)),
      public_key_(std::move(pub)),
      signers_(std::make_shared<internal::PkeyCtxPool>()) {}

Result<EcdsaP256PublicKey> EcdsaP256PublicKey::FromCoordinates(ByteView x, ByteView y) {
  if (x.size() != kP256CoordinateSize || y.size() != kP256CoordinateSize) {
    return Status::InvalidArgument("p-256: coordinates must be 32 bytes each");
  }
  Bytes point;
  point.reserve(65);
  point.push_back(0x04);
  point.insert(point.end(), x.begin(), x.end());
  point.insert(point.end(), y.begin(), y.end());
  ARBITER_TRY(auto key, P256FromData(point, nullptr));
  return EcdsaP256PublicKey(std::move(key));
}

Result<EcdsaP256PublicKey> EcdsaP256PublicKey::FromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* raw = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (raw == nullptr)
    return Status::InvalidArgument(OpensslError("p-256: unreadable PEM public key"));
  auto key = WrapPkey(raw);
  if (!IsP256(key.get())) return Status::InvalidArgument("p-256: PEM key is not a P-256 key");
  return EcdsaP256PublicKey(std::move(key));
}

Bytes EcdsaP256PublicKey::X() const { return BnParam(key_.get(), OSSL_PKEY_PARAM_EC_PUB_X); }
Bytes EcdsaP256PublicKey::Y() const { return BnParam(key_.get(), OSSL_PKEY_PARAM_EC_PUB_Y); }

std::string EcdsaP256PublicKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) return {};
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Status EcdsaP256PublicKey::Verify(ByteView message, ByteView signature) const {
  if (signature.size() != kEs256SignatureSize) {
    return Status::InvalidArgument("es256: signature must be 64 bytes, got " +
                                   std::to_string(signature.size()));
  }
  std::uint8_t der[72];
  const size_t der_len = EncodeDerSignature(signature, der);
  // Hash here and verify the digest with EVP_PKEY_verify: ~20% faster per call than
  // EVP_DigestVerifyInit/EVP_DigestVerify, whose set-up dominates for short JOSE inputs.
  const Sha256Digest digest = Sha256(message);
  LeasedCtx ctx(*verifiers_, key_.get(), PkeyOp::kVerify);
  if (ctx.get() == nullptr) return Status::Internal(OpensslError("es256: verifier setup failed"));
  if (EVP_PKEY_verify(ctx.get(), der, der_len, digest.data(), digest.size()) != 1) {
    ERR_clear_error();
    ctx.Drop();
    return Status::Unauthenticated("es256: signature does not verify");
  }
  return Status::Ok();
}

Result<EcdsaP256PrivateKey> EcdsaP256PrivateKey::Generate() {
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", kP256GroupName);
  if (raw == nullptr) return Status::Internal(OpensslError("p-256: key generation failed"));
  auto key = WrapPkey(raw);
  return EcdsaP256PrivateKey(key, EcdsaP256PublicKey(key));
}

Result<EcdsaP256PrivateKey> EcdsaP256PrivateKey::FromScalar(ByteView d) {
  if (d.size() != kP256CoordinateSize)
    return Status::InvalidArgument("p-256: private scalar must be 32 bytes");
  BnPtr bn(BN_bin2bn(d.data(), static_cast<int>(d.size()), nullptr));
  EcGroupPtr group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
  if (!bn || !group) return Status::Internal(OpensslError("p-256: setup failed"));
  if (BN_is_zero(bn.get()) || BN_cmp(bn.get(), EC_GROUP_get0_order(group.get())) >= 0) {
    return Status::InvalidArgument("p-256: private scalar out of range");
  }
  EcPointPtr pub(EC_POINT_new(group.get()));
  Bytes point(65);
  if (!pub || EC_POINT_mul(group.get(), pub.get(), bn.get(), nullptr, nullptr, nullptr) != 1 ||
      EC_POINT_point2oct(group.get(), pub.get(), POINT_CONVERSION_UNCOMPRESSED, point.data(),
                         point.size(), nullptr) != point.size()) {
    return Status::Internal(OpensslError("p-256: deriving the public key failed"));
  }
  ARBITER_TRY(auto key, P256FromData(point, bn.get()));
  return EcdsaP256PrivateKey(key, EcdsaP256PublicKey(key));
}

Result<EcdsaP256PrivateKey> EcdsaP256PrivateKey::FromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* raw = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (raw == nullptr)
    return Status::InvalidArgument(OpensslError("p-256: unreadable PEM private key"));
  auto key = WrapPkey(raw);
  if (!IsP256(key.get())) return Status::InvalidArgument("p-256: PEM key is not a P-256 key");
  return EcdsaP256PrivateKey(key, EcdsaP256PublicKey(key));
}

Bytes EcdsaP256PrivateKey::Scalar() const { return BnParam(key_.get(), OSSL_PKEY_PARAM_PRIV_KEY); }

std::string EcdsaP256PrivateKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return {};
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<Bytes> EcdsaP256PrivateKey::Sign(ByteView message) const {
  // As in Verify: hash here, then sign the digest (cheaper set-up than EVP_DigestSign*).
  const Sha256Digest digest = Sha256(message);
  LeasedCtx ctx(*signers_, key_.get(), PkeyOp::kSign);
  if (ctx.get() == nullptr) return Status::Internal(OpensslError("es256: signer setup failed"));
  std::uint8_t der[80];  // a P-256 ECDSA-Sig-Value is at most 72 bytes
  size_t der_len = sizeof der;
  if (EVP_PKEY_sign(ctx.get(), der, &der_len, digest.data(), digest.size()) != 1) {
    ctx.Drop();
    return Status::Internal(OpensslError("es256: signing failed"));
  }
  const unsigned char* p = der;
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) return Status::Internal(OpensslError("es256: decoding signature failed"));
  Bytes out(kEs256SignatureSize);
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out.data(), 32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out.data() + 32, 32) != 32) {
    return Status::Internal("es256: signature component out of range");
  }
  return out;
}

}  // namespace arbiter
