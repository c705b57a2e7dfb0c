// Intent tokens: a credential good for one exact request. After Cedar (in the routing layer) has
// permitted an agent's intent, Mint issues a compact JWS with typ `intent+jwt`:
//
//   header  {"alg":"ES256","kid":"<thumbprint>","typ":"intent+jwt"}
//   claims  iss, sub (the agent instance's SPIFFE ID), aud (the downstream tool), iat, nbf,
//           exp (at most 120 s after iat, never after the grant expires), jti,
//           case_id, grant_id, action, params_sha256 (base64url SHA-256 of the canonical JSON of
//           the action's parameters)
//
// The tool either verifies it offline against Arbiter's JWKS (VerifyIntentToken), or asks Arbiter
// (Introspect), which additionally enforces single use and the grant's state: a token is active
// only when signature, expiry, grant state and single use all hold; the second introspection of a
// jti is refused (replayed). Closing the case revokes the grant, so outstanding tokens die with it.
//
// Algorithm: ES256 (ECDSA P-256, SHA-256), the same key ring and JWKS as the JWT-SVIDs. Why: tools
// must be able to verify without a shared secret (so no HS256), SPIFFE and every JOSE library
// support it, keys and signatures are small, and OpenSSL 3.0 signs and verifies P-256 about twice
// as fast as Ed25519 here. Introspection does not re-verify the ECDSA signature of tokens it
// minted: Arbiter recorded the SHA-256 of every token it signed under its jti, and the one
// conditional UPDATE that consumes the jti matches it, which proves these are the bytes Arbiter
// signed (ECDSA verification, ~85 µs, is the slow path for refusals, to tell a forged signature
// from an unknown token). See docs/IDENTITY.md.
//
//   ARBITER_TRY(MintedIntent t, intents->Mint(agent, {.case_id = "c-1", .action = "refund",
//                                                     .audience = "payments", .params = p}));
//   // the tool, on receiving the request:
//   ARBITER_TRY(IntentClaims c, intents->Introspect(t.token, {.audience = "payments",
//                                                             .case_id = "c-1",
//                                                             .action = "refund", .params = &p}));
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "arbiter/common/clock.h"
#include "arbiter/common/crypto.h"
#include "arbiter/common/status.h"
#include "arbiter/grants/grant_store.h"
#include "arbiter/grants/grants.h"
#include "arbiter/grants/single_use_registry.h"
#include "arbiter/identity/jose.h"
#include "arbiter/identity/key_ring.h"
#include "arbiter/identity/registry.h"

namespace arbiter::grants {

inline constexpr std::string_view kIntentTokenType = "intent+jwt";
inline constexpr std::int64_t kMaxIntentTtlSeconds = 120;

struct IntentRequest {
  std::string case_id;
  std::string action;    // must be one of the workload's registered intents
  std::string audience;  // the downstream tool, 1-256 printable ascii
  boost::json::value params = boost::json::object();
  std::int64_t ttl_seconds = 60;  // 1..120
};

struct MintedIntent {
  std::string token;
  std::string jti;
  std::string params_sha256;
  std::int64_t expires_at = 0;
};

// What a verified intent token says.
struct IntentClaims {
  std::string jti;
  std::string agent;  // sub
  std::string audience;
  std::string case_id;
  std::string grant_id;
  std::string action;
  std::string params_sha256;
  std::int64_t issued_at = 0;
  std::int64_t expires_at = 0;

  // RFC 7662-style introspection response: {"active":true,"sub":...,...}.
  boost::json::object ToJson() const;
};

// What the caller of introspection is about to do; each field that is set must match the token.
struct IntentExpectations {
  std::string_view audience;  // required
  std::string_view case_id;
  std::string_view action;
  const boost::json::value* params = nullptr;  // hashed canonically and compared
  std::string_view params_sha256;              // alternatively, the hash itself
};

// base64url(SHA-256(CanonicalJson(params))).
std::string ParamsSha256(const boost::json::value& params);

// Offline verification (what a tool does with the JWKS): signature, typ, iss, aud, time, lifetime,
// and the presence of the intent claims. No single-use or grant check.
Result<IntentClaims> VerifyIntentToken(std::string_view token, const identity::JwsKeyResolver& keys,
                                       std::string_view issuer, std::string_view audience,
                                       std::int64_t now_seconds, std::int64_t leeway_seconds = 5);

// {"active":false,"error":"<reason>","error_description":"<message>"} for a refusal.
boost::json::object InactiveIntrospectionJson(const Status& refusal);

struct IntentTokenOptions {
  std::string issuer;  // `iss` of intent tokens, e.g. the registry's issuer
  std::int64_t leeway_seconds = 5;
  // Where uses are recorded (single_use_registry.h). nullptr: in the grant store
  // (GrantStore::ConsumeIntent, one database commit per use). Otherwise in this registry, which
  // must outlive the service: Mint also records each token as issued there, and introspection
  // recognises the token by its digest there, checks the grant against a cache that the
  // registry's grant-change signal invalidates across processes (so the GrantService must be
  // created with `single_use->grant_changes()`), and uses it with one compare-and-swap; no
  // database access. Tokens the registry does not know are checked in the store
  // (GrantStore::IntentUsable) and then used in the registry. Every process sharing a database
  // must make the same choice: a use recorded one way is not seen the other way.
  SingleUseRegistry* single_use = nullptr;
  // With `single_use` only: Mint records each token as issued in the registry and queues its
  // GrantStore record for a writer thread that commits queued records in batches (one
  // transaction per batch, within ~2 ms), instead of committing the record itself. The grant is
  // then checked before signing against the same cross-process-invalidated cache (or the store)
  // as introspection's, which with a registry does not need the record. A token whose record is
  // still queued, or was lost with its process (kill -9 within those ~2 ms), is still
  // introspected correctly from the registry. false: Mint commits the record (and the store
  // checks the grant) before returning, as without a registry. See docs/IDENTITY.md.
  bool defer_records = true;
};

namespace internal {
class IntentRecordWriter;
}

class IntentTokenService {
 public:
  static Result<std::unique_ptr<IntentTokenService>> Create(
      GrantStore& store, const GrantService& grants, const identity::KeyRing& keys,
      const Clock& clock, RandomSource& random, IntentTokenOptions options);

  // Mints a token for an action Cedar has permitted. Checks (defence in depth, the decision is
  // Cedar's): the action is a registered intent of the agent's workload, and the agent holds the
  // case's active grant. The grant lookup is cached per (case, agent) until the grant's expiry or
  // the next state change made through `grants`; the authority is the store, which records the
  // token only if the grant still holds (GrantStore::InsertIntent), so a grant revoked by another
  // process is refused too (after one wasted signature).
  Result<MintedIntent> Mint(const identity::AgentIdentity& agent, const IntentRequest& request);

  // Active (returns the claims) only when signature, expiry, grant state and single use all hold
  // and the token matches `expect`; consumes the jti (in the grant store, or in
  // options.single_use). Otherwise the refusal (token_error.h):
  // malformed, unsupported_alg, wrong_type, unknown_key, bad_signature, unknown_token, expired,
  // not_yet_valid, wrong_issuer, wrong_audience, case_mismatch, action_mismatch, params_mismatch,
  // grant_inactive, agent_mismatch, replayed.
  Result<IntentClaims> Introspect(std::string_view token, const IntentExpectations& expect);

  // Forgets the records of intents minted more than 180 s ago (every one of them expired more
  // than a minute ago). Mint calls it itself at most once every kPruneIntervalSeconds, so the
  // table stays bounded by the tokens of the last few minutes; call it directly to prune now.
  Result<int> Prune();
  static constexpr std::int64_t kPruneIntervalSeconds = 60;

  // With deferred records (IntentTokenOptions::defer_records): waits until the records of every
  // token minted before the call are in the store (at most `timeout`); kUnavailable, naming the
  // store's last error, otherwise. Without: returns Ok at once.
  Status FlushRecords(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Commits the records still queued (deferred records) before returning.
  ~IntentTokenService();

 private:
  struct GrantRef {
    std::string id;
    std::int64_t expires_at = 0;
    std::uint64_t generation = 0;  // GrantStamp() before it was read
  };
  static constexpr size_t kMaxCachedGrants = 4096;

  // Introspection's grant check (with a registry): is the token's grant active at `now`, held by
  // its agent, for its case? From a cache stamped by the registry's grant-change signal, filled
  // from the store on a miss.
  Result<bool> GrantAllowsUse(const IntentClaims& c, std::int64_t now);
  static constexpr size_t kMaxIntrospectionGrants = 4096;
  struct StampedGrant {
    CaseGrant grant;
    std::uint64_t stamp = 0;  // GrantChangeSignal::Stamp() before it was read
  };
  std::mutex introspection_mu_;
  std::unordered_map<std::string, StampedGrant> introspection_grants_;  // by grant id

  // What a GrantRef is stamped with: the registry's grant-change stamp (changes by any process)
  // with a registry, else grants_.generation() (changes by this process; the store's conditional
  // insert is the authority then). nullopt: a change is in progress, cache nothing.
  std::optional<std::uint64_t> GrantStamp() const;
  bool CachedGrant(const std::string& key, std::int64_t now, GrantRef& out);
  void RememberGrant(const std::string& key, const GrantRef& grant);
  void ForgetGrant(const std::string& key);

  IntentTokenService(GrantStore& store, const GrantService& grants, const identity::KeyRing& keys,
                     const Clock& clock, RandomSource& random, IntentTokenOptions options);

  // The random half of jtis, drawn from `random_` 512 bytes at a time: one OpenSSL RAND_bytes
  // call costs ~6k instructions whatever its size, more than anything else in minting besides
  // ECDSA, SHA-256 and the SQLite insert.
  class PooledRandom final : public RandomSource {
   public:
    explicit PooledRandom(RandomSource& source) : source_(source) {}
    void Fill(std::span<std::uint8_t> out) override {
      std::lock_guard lock(mu_);
      if (out.size() > pool_.size()) return source_.Fill(out);
      if (pool_.size() - used_ < out.size()) {
        source_.Fill(pool_);
        used_ = 0;
      }
      std::copy_n(pool_.begin() + static_cast<std::ptrdiff_t>(used_), out.size(), out.begin());
      std::fill_n(pool_.begin() + static_cast<std::ptrdiff_t>(used_), out.size(), 0);
      used_ += out.size();
    }

   private:
    RandomSource& source_;
    std::mutex mu_;
    std::array<std::uint8_t, 512> pool_{};
    size_t used_ = 512;  // bytes of pool_ already handed out
  };

  GrantStore& store_;
  const GrantService& grants_;
  const identity::KeyRing& keys_;
  const Clock& clock_;
  RandomSource& random_;
  PooledRandom jti_random_{random_};
  IntentTokenOptions options_;
  void PruneWhenDue(std::int64_t now);
  Result<int> PruneRecords();  // Prune without flushing deferred records first

  std::atomic<std::int64_t> next_prune_at_{0};  // Mint prunes when the clock passes it
  std::mutex cache_mu_;
  std::unordered_map<std::string, GrantRef> grant_cache_;        // "<case id>\n<agent>"; cache_mu_
  std::unique_ptr<internal::IntentRecordWriter> record_writer_;  // deferred records, or null
};

}  // namespace arbiter::grants
