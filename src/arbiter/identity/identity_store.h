// The identity module's storage interface: signing keys, agent workloads, join tokens, agent
// instances, people and their API tokens. SqliteIdentityStore (sqlite_identity_store.h) implements
// it today; a PostgreSQL implementation can follow without touching the services above it.
//
// Contracts shared by all implementations:
// - every method is safe to call from several threads;
// - times are Unix seconds; 0 means "never"/"not set" for *_at fields;
// - secrets are never stored: join tokens and API tokens only as lowercase hex SHA-256 hashes;
// - check-and-set operations (ConsumeJoinToken, RotateSigningKey, InsertFirstUser) are atomic,
//   also across processes sharing the database.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/status.h"

namespace arbiter::identity {

struct SigningKeyRecord {
  std::string kid;
  std::string private_key_pem;  // PKCS#8
  std::int64_t created_at = 0;
  bool active = false;            // the one key that signs new tokens
  std::int64_t verify_until = 0;  // for inactive keys: verifies tokens until this time
};

struct WorkloadRecord {
  std::string name;
  std::string owner;                 // person or team accountable for the workload's outcomes
  std::string risk_tier;             // low | medium | high | critical
  std::vector<std::string> intents;  // actions it may ever ask for
  std::int64_t max_grant_ttl_seconds = 0;
  std::string created_by;
  std::int64_t created_at = 0;
  std::int64_t revoked_at = 0;
  std::string revoke_reason;
};

struct JoinTokenRecord {
  std::string token_hash;
  std::string workload;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  std::int64_t used_at = 0;
  std::string used_by;  // the instance id it produced
};

struct InstanceRecord {
  std::string spiffe_id;
  std::string workload;
  std::string instance_id;
  std::string public_key_jwk;  // the agent's own key, proven at attestation and renewal
  std::int64_t created_at = 0;
  std::string svid_jti;  // the latest SVID issued
  std::int64_t svid_expires_at = 0;
  std::int64_t revoked_at = 0;
  std::string revoke_reason;
};

struct UserRecord {
  std::string name;
  std::vector<std::string> roles;
  std::int64_t created_at = 0;
  bool disabled = false;
};

struct ApiTokenRecord {
  std::string id;          // public identifier, e.g. for listing and revocation
  std::string token_hash;  // SHA-256 of the token, hex
  std::string user;
  std::string label;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;  // 0: no expiry
  std::int64_t revoked_at = 0;
};

class IdentityStore {
 public:
  virtual ~IdentityStore() = default;

  // ---- signing keys ----
  virtual Result<std::vector<SigningKeyRecord>> ListSigningKeys() = 0;
  // Atomically: each active key becomes inactive and verifiable until `old_verify_until`; `key`
  // is inserted as the active key.
  virtual Status RotateSigningKey(const SigningKeyRecord& key, std::int64_t old_verify_until) = 0;
  // Deletes inactive keys whose verify_until <= now.
  virtual Status DeleteRetiredSigningKeys(std::int64_t now) = 0;

  // ---- workloads ----
  virtual Status InsertWorkload(const WorkloadRecord& w) = 0;             // kAlreadyExists
  virtual Result<WorkloadRecord> GetWorkload(std::string_view name) = 0;  // kNotFound
  virtual Result<std::vector<WorkloadRecord>> ListWorkloads() = 0;
  // Revokes the workload, all its instances and its unused join tokens.
  virtual Status RevokeWorkload(std::string_view name, std::int64_t at,
                                std::string_view reason) = 0;

  // ---- join tokens ----
  virtual Status InsertJoinToken(const JoinTokenRecord& t) = 0;
  // Atomically marks the token used by `used_by` if it exists, is unused and unexpired at `now`,
  // and returns it. Errors: join_token_unknown, join_token_used, join_token_expired.
  virtual Result<JoinTokenRecord> ConsumeJoinToken(std::string_view token_hash, std::int64_t now,
                                                   std::string_view used_by) = 0;

  // ---- agent instances ----
  virtual Status InsertInstance(const InstanceRecord& i) = 0;
  virtual Result<InstanceRecord> GetInstance(std::string_view spiffe_id) = 0;  // kNotFound
  virtual Result<std::vector<InstanceRecord>> ListInstances(std::string_view workload) = 0;
  virtual Status UpdateInstanceSvid(std::string_view spiffe_id, std::string_view jti,
                                    std::int64_t expires_at) = 0;
  virtual Status RevokeInstance(std::string_view spiffe_id, std::int64_t at,
                                std::string_view reason) = 0;

  // ---- people ----
  virtual Status InsertUser(const UserRecord& u) = 0;  // kAlreadyExists
  virtual Result<UserRecord> GetUser(std::string_view name) = 0;
  virtual Result<std::vector<UserRecord>> ListUsers() = 0;
  virtual Status UpdateUser(const UserRecord& u) = 0;
  // Inserts `user` and `token` in one transaction only when no user exists yet; false otherwise.
  virtual Result<bool> InsertFirstUser(const UserRecord& user, const ApiTokenRecord& token) = 0;
  virtual Status InsertApiToken(const ApiTokenRecord& t) = 0;
  virtual Result<ApiTokenRecord> FindApiTokenByHash(std::string_view token_hash) = 0;
  virtual Result<std::vector<ApiTokenRecord>> ListApiTokens(std::string_view user) = 0;
  virtual Status RevokeApiToken(std::string_view id, std::int64_t at) = 0;
};

}  // namespace arbiter::identity
