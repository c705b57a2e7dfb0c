// JSON Web Keys (RFC 7517) for ES256 verification keys, RFC 7638 thumbprints (used as key ids),
// and JWK Sets. Arbiter publishes its verification keys as a JWK Set at /.well-known/jwks.json;
// every key carries "use": "sig", "alg": "ES256" and its kid (JOSE libraries such as npm `jose`
// skip keys whose `use` is not `sig`).
//
//   std::string kid = JwkThumbprint(key.PublicKey());
//   JwkSet set;
//   set.Add(PublicJwk{kid, key.PublicKey()});
//   std::string json = set.ToJson();                    // {"keys":[{...}]}
//   ARBITER_TRY(JwkSet parsed, JwkSet::Parse(json));   // verifies tokens via ResolveKey
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/crypto.h"
#include "arbiter/common/status.h"
#include "arbiter/identity/jose.h"

namespace arbiter::identity {

// An EC P-256 public key with its id.
struct PublicJwk {
  std::string kid;
  EcdsaP256PublicKey key;
};

// {"kty":"EC","crv":"P-256","x":..,"y":..,"kid":..,"alg":"ES256","use":"sig"}
boost::json::object PublicJwkToJson(const PublicJwk& jwk);

// Accepts an EC P-256 public JWK. Rejects: other kty/crv, `use` other than "sig", `alg` other than
// ES256, a `d` member (a private key must never be published) and points not on the curve. A
// missing kid becomes the key's RFC 7638 thumbprint.
Result<PublicJwk> PublicJwkFromJson(const boost::json::value& v);

// RFC 7638 thumbprint (base64url SHA-256 of the canonical required members) of any JWK object
// of kty EC, OKP or RSA.
Result<std::string> JwkThumbprint(const boost::json::object& jwk);
// The thumbprint of a P-256 public key: Arbiter's kid.
std::string JwkThumbprint(const EcdsaP256PublicKey& key);

class JwkSet final : public JwsKeyResolver {
 public:
  // At most kMaxKeys keys; at most 64 KiB of JSON. Keys that are not ES256 signature keys (e.g.
  // RSA, or use "enc") are skipped as RFC 7517 §5 allows; a malformed ES256 key is an error.
  static Result<JwkSet> Parse(std::string_view json);
  static constexpr size_t kMaxKeys = 64;

  void Add(PublicJwk jwk) { keys_.push_back(std::move(jwk)); }
  const std::vector<PublicJwk>& keys() const { return keys_; }

  boost::json::object ToJsonObject() const;
  std::string ToJson() const;

  Result<EcdsaP256PublicKey> ResolveKey(std::string_view kid) const override;

 private:
  std::vector<PublicJwk> keys_;
};

}  // namespace arbiter::identity
