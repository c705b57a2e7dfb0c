// Arbiter's token signing keys: one active ES256 key signs; keys rotated out keep verifying until
// every token they signed has expired (the overlap), then disappear from the JWKS. Keys live in
// the IdentityStore, so every node sharing the database signs and verifies with the same set.
//
//   KeyRingOptions opts{.overlap_seconds = 600, .rotation_period_seconds = 7 * 86400};
//   ARBITER_TRY(auto ring, KeyRing::Create(store, clock, opts));  // creates the first key if none
//   ARBITER_TRY(std::string jwt, ring->Sign("JWT", claims));
//   std::string jwks = ring->JwksJson();          // {"keys":[...]} for /.well-known/jwks.json
//   ARBITER_TRY(VerifiedJwt v, VerifyJwt(jwt, *ring, expectations));
//
// The overlap must be at least the longest lifetime of any token signed (JWT-SVIDs, intent
// tokens), plus clock leeway; Create() refuses a smaller one than `min_overlap_seconds`.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "arbiter/common/clock.h"
#include "arbiter/common/crypto.h"
#include "arbiter/identity/identity_store.h"
#include "arbiter/identity/jose.h"
#include "arbiter/identity/jwk.h"

namespace arbiter::identity {

struct KeyRingOptions {
  std::int64_t overlap_seconds = 900;                // how long a rotated-out key still verifies
  std::int64_t rotation_period_seconds = 7 * 86400;  // RotateIfDue() rotates keys older than this
};

class KeyRing final : public JwsKeyResolver {
 public:
  // Loads the keys; generates and stores the first key when there is none.
  static Result<std::unique_ptr<KeyRing>> Create(IdentityStore& store, const Clock& clock,
                                                 KeyRingOptions options = {});

  // Signs `claims` as a compact JWS with the active key (header alg ES256, kid, typ).
  Result<std::string> Sign(std::string_view typ, const boost::json::object& claims) const;
  // The same with the claims already serialised as one JSON object (see SignJwtJson).
  Result<std::string> SignJson(std::string_view typ, std::string_view claims_json) const;

  // Makes a fresh key active; the previous one verifies for `overlap_seconds` more.
  Status Rotate();
  // Rotates when the active key is older than rotation_period_seconds; also deletes keys whose
  // overlap has ended. Returns true when it rotated.
  Result<bool> RotateIfDue();
  // Re-reads the keys from the store (another node may have rotated).
  Status Reload();

  std::string ActiveKid() const;
  // The published verification keys: the active key and rotated keys still in their overlap.
  JwkSet Jwks() const;
  std::string JwksJson() const { return Jwks().ToJson(); }

  // The key for `kid` when it is active or still in its overlap; otherwise unknown_key. An unknown
  // kid triggers at most one reload per second, for keys rotated in by another node.
  Result<EcdsaP256PublicKey> ResolveKey(std::string_view kid) const override;

 private:
  struct Key {
    std::string kid;
    EcdsaP256PrivateKey private_key;
    std::int64_t created_at;
    bool active;
    std::int64_t verify_until;
  };
  struct Snapshot {
    std::vector<Key> keys;  // the active key last
  };

  KeyRing(IdentityStore& store, const Clock& clock, KeyRingOptions options)
      : store_(store), clock_(clock), options_(options) {}
  Result<std::shared_ptr<const Snapshot>> Load() const;
  std::shared_ptr<const Snapshot> Current() const;
  Status Refresh() const;

  IdentityStore& store_;
  const Clock& clock_;
  KeyRingOptions options_;
  mutable std::mutex mu_;
  mutable std::shared_ptr<const Snapshot> snapshot_;
  mutable std::int64_t last_reload_ = 0;
};

}  // namespace arbiter::identity
