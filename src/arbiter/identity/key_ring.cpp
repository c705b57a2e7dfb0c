#include "arbiter/identity/key_ring.h"

#include "arbiter/identity/token_error.h"

namespace arbiter::identity {

Result<std::unique_ptr<KeyRing>> KeyRing::Create(IdentityStore& store, const Clock& clock,
                                                 KeyRingOptions options) {
  if (options.overlap_seconds <= 0 || options.rotation_period_seconds <= 0) {
    return Status::InvalidArgument("key ring: overlap and rotation period must be positive");
  }
  std::unique_ptr<KeyRing> ring(new KeyRing(store, clock, options));
  ARBITER_TRY(auto snap, ring->Load());
  ring->snapshot_ = std::move(snap);
  if (ring->snapshot_->keys.empty() || !ring->snapshot_->keys.back().active) {
    ARBITER_RETURN_IF_ERROR(ring->Rotate());
  }
  return ring;
}

Result<std::shared_ptr<const KeyRing::Snapshot>> KeyRing::Load() const {
  ARBITER_TRY(auto records, store_.ListSigningKeys());
  auto snap = std::make_shared<Snapshot>();
  std::optional<Key> active;
  for (const auto& r : records) {
    auto key = EcdsaP256PrivateKey::FromPem(r.private_key_pem);
    if (!key) return Status::DataLoss("signing key " + Quoted(r.kid) + " is not a valid p-256 key");
    Key k{r.kid, std::move(*key), r.created_at, r.active, r.verify_until};
    if (r.active) {
      active = std::move(k);
    } else {
      snap->keys.push_back(std::move(k));
    }
  }
  if (active) snap->keys.push_back(std::move(*active));
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

std::shared_ptr<const KeyRing::Snapshot> KeyRing::Current() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

Status KeyRing::Reload() { return Refresh(); }

Status KeyRing::Refresh() const {
  ARBITER_TRY(auto snap, Load());
  std::lock_guard lock(mu_);
  snapshot_ = std::move(snap);
  return Status::Ok();
}

Status KeyRing::Rotate() {
  ARBITER_TRY(EcdsaP256PrivateKey key, EcdsaP256PrivateKey::Generate());
  const std::int64_t now = clock_.NowSeconds();
  SigningKeyRecord rec;
  rec.kid = JwkThumbprint(key.PublicKey());
  rec.private_key_pem = key.ToPem();
  rec.created_at = now;
  rec.active = true;
  ARBITER_RETURN_IF_ERROR(store_.RotateSigningKey(rec, now + options_.overlap_seconds));
  return Reload();
}

Result<bool> KeyRing::RotateIfDue() {
  const std::int64_t now = clock_.NowSeconds();
  ARBITER_RETURN_IF_ERROR(store_.DeleteRetiredSigningKeys(now));
  auto snap = Current();
  bool due = snap->keys.empty() || !snap->keys.back().active ||
             now - snap->keys.back().created_at >= options_.rotation_period_seconds;
  if (due) {
    ARBITER_RETURN_IF_ERROR(Rotate());
  } else {
    ARBITER_RETURN_IF_ERROR(Reload());
  }
  return due;
}

std::string KeyRing::ActiveKid() const {
  auto snap = Current();
  return snap->keys.empty() ? std::string() : snap->keys.back().kid;
}

Result<std::string> KeyRing::Sign(std::string_view typ, const boost::json::object& claims) const {
  auto snap = Current();
  if (snap->keys.empty() || !snap->keys.back().active) {
    return Status::FailedPrecondition("key ring has no active signing key");
  }
  const Key& k = snap->keys.back();
  return SignJwt(k.private_key, k.kid, typ, claims);
}

Result<std::string> KeyRing::SignJson(std::string_view typ, std::string_view claims_json) const {
  auto snap = Current();
  if (snap->keys.empty() || !snap->keys.back().active) {
    return Status::FailedPrecondition("key ring has no active signing key");
  }
  const Key& k = snap->keys.back();
  return SignJwtJson(k.private_key, k.kid, typ, claims_json);
}

JwkSet KeyRing::Jwks() const {
  auto snap = Current();
  const std::int64_t now = clock_.NowSeconds();
  JwkSet set;
  // Newest first: the active key leads.
  for (auto it = snap->keys.rbegin(); it != snap->keys.rend(); ++it) {
    if (it->active || it->verify_until > now) {
      set.Add(PublicJwk{it->kid, it->private_key.PublicKey()});
    }
  }
  return set;
}

Result<EcdsaP256PublicKey> KeyRing::ResolveKey(std::string_view kid) const {
  const std::int64_t now = clock_.NowSeconds();
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto snap = Current();
    for (const auto& k : snap->keys) {
      if (k.kid != kid) continue;
      if (!k.active && k.verify_until <= now) {
        return TokenFailure(TokenError::kUnknownKey, "key " + Quoted(kid) + " was retired at " +
                                                         std::to_string(k.verify_until));
      }
      return k.private_key.PublicKey();
    }
    if (attempt == 1) break;
    {
      std::lock_guard lock(mu_);
      if (now - last_reload_ < 1) break;
      last_reload_ = now;
    }
    if (!Refresh().ok()) break;
  }
  return TokenFailure(TokenError::kUnknownKey, "no signing key with kid " + Quoted(kid));
}

}  // namespace arbiter::identity
