// The grants module's storage interface: case grants and the record of every intent token minted.
// SqliteGrantStore (sqlite_grant_store.h) implements it; PostgreSQL can follow.
//
// Contracts: every method is thread-safe; times are Unix seconds, 0 = not set; state changes only
// ever leave `active` (a revoked or expired grant is never revived: the implementations update
// with `WHERE state = 'active'`); ClaimGrant, InsertIntent and ConsumeIntent are atomic
// check-and-set operations, also across processes sharing a database.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/crypto.h"
#include "arbiter/common/status.h"

namespace arbiter::grants {

enum class GrantState : std::uint8_t { kActive, kExpired, kRevoked };
std::string_view GrantStateName(GrantState s);  // "active", "expired", "revoked"

struct CaseGrant {
  std::string id;
  std::string case_id;
  std::string workload;  // when set, only instances of this workload may claim it
  std::string agent;     // SPIFFE ID of the instance that claimed it; empty until claimed
  GrantState state = GrantState::kActive;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;      // current expiry (extendable up to max_expires_at)
  std::int64_t max_expires_at = 0;  // hard limit
  std::int64_t claimed_at = 0;
  std::int64_t ended_at = 0;  // when it was revoked or (recorded as) expired
  std::string end_reason;

  // The state at `now`: an active grant past its expiry is expired even before ExpireDue records
  // it.
  GrantState StateAt(std::int64_t now) const {
    return state == GrantState::kActive && now >= expires_at ? GrantState::kExpired : state;
  }
};

// The record of one minted intent token. Its jti starts with the time of minting (see Mint), so
// that records of recent tokens, the ones still in use, sit together in the store's b-tree.
struct IntentRecord {
  std::string jti;
  std::string grant_id;
  std::string case_id;
  std::string agent;
  std::string audience;
  std::string action;
  std::string params_sha256;    // base64url
  Sha256Digest token_sha256{};  // of the exact compact token Arbiter signed
  std::int64_t issued_at = 0;
  std::int64_t expires_at = 0;
  std::int64_t used_at = 0;
};

class GrantStore {
 public:
  virtual ~GrantStore() = default;

  virtual Status InsertGrant(const CaseGrant& g) = 0;
  virtual Result<CaseGrant> GetGrant(std::string_view id) = 0;  // kNotFound
  virtual Result<std::vector<CaseGrant>> ListGrantsByCase(std::string_view case_id) = 0;
  virtual Result<std::vector<CaseGrant>> ListGrantsByAgent(std::string_view agent) = 0;
  // Binds an active, unexpired (at `now`), unclaimed grant to `agent` and lowers its expiry and
  // maximum to the given values when they are smaller. Returns false when the grant was not in
  // that state (the caller reads it to say why).
  virtual Result<bool> ClaimGrant(std::string_view id, std::string_view agent, std::int64_t now,
                                  std::int64_t expires_at, std::int64_t max_expires_at) = 0;
  // Sets expires_at of an active grant that has not expired at `now`; false otherwise.
  virtual Result<bool> ExtendGrant(std::string_view id, std::int64_t now,
                                   std::int64_t expires_at) = 0;
  // Ends an active grant (state kExpired or kRevoked); false when it was not active.
  virtual Result<bool> EndGrant(std::string_view id, GrantState state, std::int64_t at,
                                std::string_view reason) = 0;
  // Revokes every active grant of the case; returns how many.
  virtual Result<int> RevokeGrantsForCase(std::string_view case_id, std::int64_t at,
                                          std::string_view reason) = 0;
  // Records as expired every active grant with expires_at <= now; returns how many.
  virtual Result<int> ExpireDueGrants(std::int64_t now) = 0;

  // Records a minted intent if, atomically, its grant is active and unexpired at `now`, held by
  // the intent's agent, for the intent's case, and does not expire before the intent does. False
  // (nothing recorded) otherwise: the caller re-reads the grant to say why. Checking the grant in
  // the same statement makes the database, not a caller's cache, the authority on whether a token
  // may be issued, also across processes.
  virtual Result<bool> InsertIntent(const IntentRecord& r, std::int64_t now) = 0;
  // Records intents that were already issued, unconditionally and all in one transaction (all
  // or none): the deferred records of IntentTokenService with a SingleUseRegistry, whose mint
  // checked the grant before signing and recorded the token as issued in the registry. A jti
  // recorded before is kAlreadyExists (and nothing of the batch is recorded).
  virtual Status InsertIssuedIntents(std::span<const IntentRecord> records) = 0;
  virtual Result<IntentRecord> GetIntent(std::string_view jti) = 0;  // kNotFound
  // Marks the intent used at `now` if, atomically: its recorded token_sha256 is `token_sha256`
  // (the presented token is the one Arbiter signed), it was unused, and its grant is active,
  // unexpired at `now`, held by the intent's agent and for the intent's case. False otherwise
  // (the caller reads the intent and the grant to say why). One statement, so that the hot path
  // of introspection is one durable write and no separate read.
  virtual Result<bool> ConsumeIntent(std::string_view jti, const Sha256Digest& token_sha256,
                                     std::int64_t now) = 0;
  // The read-only twin of ConsumeIntent, for when a SingleUseRegistry records uses: true when the
  // intent's recorded token_sha256 is `token_sha256`, no use is recorded in the store, and its
  // grant is active, unexpired at `now`, held by the intent's agent and for its case. Changes
  // nothing.
  virtual Result<bool> IntentUsable(std::string_view jti, const Sha256Digest& token_sha256,
                                    std::int64_t now) = 0;
  // Deletes the records of intents whose jti sorts before `jti_bound` and that expired before
  // `before` (their tokens can no longer verify, so forgetting them cannot enable a replay). Jtis
  // start with the minting time (IntentTokenService), so this is a range delete on the key and
  // needs no index on the expiry.
  virtual Result<int> DeleteIntentsBefore(std::string_view jti_bound, std::int64_t before) = 0;
};

}  // namespace arbiter::grants
