// JOSE for Arbiter's tokens: compact JWS (RFC 7515) with ES256 only (RFC 7518 §3.4), and JWT
// (RFC 7519) claim validation in the order RFC 8725 recommends: shape, algorithm allow-list, type,
// key, signature, then claims. JWT-SVIDs and intent tokens are both built on this.
//
//   ARBITER_TRY(std::string jwt, SignJwt(key, kid, "JWT", claims));
//   JwtExpectations expect{.typ = "JWT", .issuer = "https://arbiter.example",
//                          .audience = "arbiter", .now_seconds = clock.NowSeconds()};
//   ARBITER_TRY(VerifiedJwt v, VerifyJwt(jwt, key_ring, expect));
//
// Refusals are TokenFailure statuses (token_error.h): `alg: none`, HS256 (including the classic
// "HMAC keyed with the public key" confusion) and every other algorithm are unsupported_alg before
// any key is looked up; a wrong signature is bad_signature; time problems are expired /
// not_yet_valid; and so on. Tokens over 8 KiB are malformed without being decoded.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/storage_ptr.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "arbiter/common/bytes.h"
#include "arbiter/common/crypto.h"
#include "arbiter/common/status.h"

namespace arbiter::identity {

inline constexpr size_t kMaxTokenBytes = 8192;
inline constexpr std::string_view kEs256 = "ES256";

// Resolves a key id to the ES256 public key that verifies tokens signed under it.
class JwsKeyResolver {
 public:
  virtual ~JwsKeyResolver() = default;
  // unknown_key (kUnauthenticated) when the kid is unknown or its key is retired.
  virtual Result<EcdsaP256PublicKey> ResolveKey(std::string_view kid) const = 0;
};

// A compact JWS split and decoded but not verified.
struct DecodedJws {
  boost::json::object header;
  boost::json::object payload;     // the payload parsed as a JSON object (the JWT claims)
  std::string_view signing_input;  // "<b64 header>.<b64 payload>", a view into the token
  Bytes signature;
};

// Splits and decodes a compact JWS whose payload is a JSON object. Errors are malformed. The
// parsed header and payload allocate from `storage` (default: the heap); a caller that only
// looks at them briefly can pass a monotonic_resource on a stack buffer.
Result<DecodedJws> DecodeCompactJws(std::string_view token, boost::json::storage_ptr storage = {});

// Signs `claims` as a compact JWS: header {"alg":"ES256","kid":kid,"typ":typ} (typ omitted when
// empty).
Result<std::string> SignJwt(const EcdsaP256PrivateKey& key, std::string_view kid,
                            std::string_view typ, const boost::json::object& claims);
// The same with the claims already serialised: `claims_json` must be one JSON object (callers
// build it with AppendJsonString from common/json.h). For hot paths that skip building a tree.
Result<std::string> SignJwtJson(const EcdsaP256PrivateKey& key, std::string_view kid,
                                std::string_view typ, std::string_view claims_json);

struct JwtExpectations {
  // Required `typ` header, compared as RFC 7515 §4.1.9 says (case-insensitive, optional
  // "application/" prefix). Empty: typ may be absent or anything.
  std::string_view typ;
  std::string_view issuer;    // required `iss`; empty: not checked
  std::string_view audience;  // must appear in `aud` (a string or an array of strings)
  std::int64_t now_seconds = 0;
  std::int64_t leeway_seconds = 0;        // clock skew allowed on exp, nbf and iat
  std::int64_t max_lifetime_seconds = 0;  // when > 0: exp - iat must not exceed it
  bool require_jti = true;
};

struct VerifiedJwt {
  std::string kid;
  boost::json::object header;
  boost::json::object claims;
};

// The whole check. `keys` resolves the header's kid.
Result<VerifiedJwt> VerifyJwt(std::string_view token, const JwsKeyResolver& keys,
                              const JwtExpectations& expect);

// The steps of VerifyJwt, for callers that interleave their own checks (intent introspection).
// CheckJoseHeader: alg is ES256, no `crit`, kid is a string, typ as expected.
Status CheckJoseHeader(const boost::json::object& header, std::string_view typ);
// CheckJwtClaims: iss, aud, exp (required), nbf, iat, lifetime, jti.
Status CheckJwtClaims(const boost::json::object& claims, const JwtExpectations& expect);

// Claim accessors whose errors are malformed/missing_claim naming the claim.
Result<std::string_view> ClaimString(const boost::json::object& claims, std::string_view name);
Result<std::int64_t> ClaimInt(const boost::json::object& claims, std::string_view name);

}  // namespace arbiter::identity
