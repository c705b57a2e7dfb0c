#include "arbiter/identity/jwk.h"

#include <boost/json/array.hpp>

#include <span>

#include "arbiter/common/json.h"
#include "arbiter/identity/token_error.h"

namespace arbiter::identity {
namespace {

Result<Bytes> Coordinate(const boost::json::object& o, std::string_view name) {
  ARBITER_TRY(std::string_view text, GetString(o, name, "jwk"));
  auto bytes = Base64UrlDecode(text);
  if (!bytes || bytes->size() != kP256CoordinateSize) {
    return Status::InvalidArgument("jwk." + std::string(name) + ": expected 32 bytes of base64url");
  }
  return std::move(*bytes);
}

}  // namespace

boost::json::object PublicJwkToJson(const PublicJwk& jwk) {
  boost::json::object o;
  o["kty"] = "EC";
  o["crv"] = "P-256";
  o["x"] = Base64UrlEncode(jwk.key.X());
  o["y"] = Base64UrlEncode(jwk.key.Y());
  o["kid"] = jwk.kid;
  o["alg"] = kEs256;
  o["use"] = "sig";
  return o;
}

Result<PublicJwk> PublicJwkFromJson(const boost::json::value& v) {
  ARBITER_TRY(const boost::json::object* o, AsObject(v, "jwk"));
  ARBITER_TRY(std::string_view kty, GetString(*o, "kty", "jwk"));
  if (kty != "EC") return Status::InvalidArgument("jwk.kty: `" + std::string(kty) + "` is not EC");
  ARBITER_TRY(std::string_view crv, GetString(*o, "crv", "jwk"));
  if (crv != "P-256") {
    return Status::InvalidArgument("jwk.crv: `" + std::string(crv) + "` is not P-256");
  }
  if (o->contains("d")) {
    return Status::InvalidArgument("jwk.d: a private key is not accepted where a public key is");
  }
  ARBITER_TRY(std::optional<std::string_view> use, GetOptionalString(*o, "use", "jwk"));
  if (use && *use != "sig") {
    return Status::InvalidArgument("jwk.use: `" + std::string(*use) + "` is not sig");
  }
  ARBITER_TRY(std::optional<std::string_view> alg, GetOptionalString(*o, "alg", "jwk"));
  if (alg && *alg != kEs256) {
    return Status::InvalidArgument("jwk.alg: `" + std::string(*alg) + "` is not ES256");
  }
  ARBITER_TRY(Bytes x, Coordinate(*o, "x"));
  ARBITER_TRY(Bytes y, Coordinate(*o, "y"));
  auto key = EcdsaP256PublicKey::FromCoordinates(x, y);
  if (!key) return Status::InvalidArgument("jwk: the point is not on the p-256 curve");
  ARBITER_TRY(std::optional<std::string_view> kid, GetOptionalString(*o, "kid", "jwk"));
  if (kid && !kid->empty()) return PublicJwk{std::string(*kid), std::move(*key)};
  std::string thumbprint = JwkThumbprint(*key);
  return PublicJwk{std::move(thumbprint), std::move(*key)};
}

Result<std::string> JwkThumbprint(const boost::json::object& jwk) {
  ARBITER_TRY(std::string_view kty, GetString(jwk, "kty", "jwk"));
  static constexpr std::string_view kEc[] = {"crv", "kty", "x", "y"};
  static constexpr std::string_view kOkp[] = {"crv", "kty", "x"};
  static constexpr std::string_view kRsa[] = {"e", "kty", "n"};
  std::span<const std::string_view> members;
  if (kty == "EC") {
    members = kEc;
  } else if (kty == "OKP") {
    members = kOkp;
  } else if (kty == "RSA") {
    members = kRsa;
  } else {
    return Status::InvalidArgument("jwk.kty: `" + std::string(kty) + "` has no thumbprint rule");
  }
  boost::json::object required;
  for (std::string_view m : members) {
    ARBITER_TRY(std::string_view value, GetString(jwk, m, "jwk"));
    required[m] = value;
  }
  const Sha256Digest digest = Sha256(CanonicalJson(required));
  return Base64UrlEncode(digest);
}

std::string JwkThumbprint(const EcdsaP256PublicKey& key) {
  boost::json::object o;
  o["crv"] = "P-256";
  o["kty"] = "EC";
  o["x"] = Base64UrlEncode(key.X());
  o["y"] = Base64UrlEncode(key.Y());
  return Base64UrlEncode(Sha256(CanonicalJson(o)));
}

Result<JwkSet> JwkSet::Parse(std::string_view json) {
  JsonLimits limits;
  limits.max_bytes = 64 * 1024;
  limits.max_depth = 8;
  ARBITER_TRY(boost::json::value doc, ParseJson(json, limits));
  ARBITER_TRY(const boost::json::object* root, AsObject(doc, "jwks"));
  const auto* keys = root->if_contains("keys");
  if (keys == nullptr || !keys->is_array()) {
    return Status::InvalidArgument("jwks.keys: expected an array");
  }
  if (keys->get_array().size() > kMaxKeys) {
    return Status::ResourceExhausted("jwks.keys: more than " + std::to_string(kMaxKeys) + " keys");
  }
  JwkSet set;
  size_t index = 0;
  for (const auto& k : keys->get_array()) {
    const std::string where = "jwks.keys[" + std::to_string(index++) + "]";
    if (!k.is_object()) return Status::InvalidArgument(where + ": expected an object");
    const auto& o = k.get_object();
    const auto* kty = o.if_contains("kty");
    const auto* crv = o.if_contains("crv");
    const auto* use = o.if_contains("use");
    const bool is_p256 = kty != nullptr && kty->is_string() && kty->get_string() == "EC" &&
                         crv != nullptr && crv->is_string() && crv->get_string() == "P-256";
    const bool for_signing = use == nullptr || (use->is_string() && use->get_string() == "sig");
    if (!is_p256 || !for_signing) continue;
    auto jwk = PublicJwkFromJson(k);
    if (!jwk) return jwk.error().WithContext(where);
    set.Add(std::move(*jwk));
  }
  return set;
}

boost::json::object JwkSet::ToJsonObject() const {
  boost::json::array keys;
  for (const auto& k : keys_) keys.push_back(PublicJwkToJson(k));
  boost::json::object root;
  root["keys"] = std::move(keys);
  return root;
}

std::string JwkSet::ToJson() const { return arbiter::ToJson(ToJsonObject()); }

Result<EcdsaP256PublicKey> JwkSet::ResolveKey(std::string_view kid) const {
  for (const auto& k : keys_) {
    if (k.kid == kid) return k.key;
  }
  return TokenFailure(TokenError::kUnknownKey, "no key with kid " + Quoted(kid));
}

}  // namespace arbiter::identity
