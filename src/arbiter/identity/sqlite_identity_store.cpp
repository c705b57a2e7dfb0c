#include "arbiter/identity/sqlite_identity_store.h"

#include <boost/json/array.hpp>

#include <array>
#include <mutex>

#include "arbiter/common/json.h"
#include "arbiter/identity/token_error.h"
#include "arbiter/store/module_schema.h"
#include "arbiter/store/sqlite_rows.h"

namespace arbiter::identity {
namespace {

constexpr std::array<std::string_view, 1> kMigrations = {R"sql(
CREATE TABLE identity_signing_keys (
  kid TEXT PRIMARY KEY,
  private_key_pem TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  active INTEGER NOT NULL,
  verify_until INTEGER NOT NULL
);
CREATE TABLE identity_workloads (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  risk_tier TEXT NOT NULL,
  intents TEXT NOT NULL,
  max_grant_ttl_seconds INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL DEFAULT 0,
  revoke_reason TEXT NOT NULL DEFAULT ''
);
CREATE TABLE identity_join_tokens (
  token_hash TEXT PRIMARY KEY,
  workload TEXT NOT NULL REFERENCES identity_workloads(name),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER NOT NULL DEFAULT 0,
  used_by TEXT NOT NULL DEFAULT ''
);
CREATE TABLE identity_instances (
  spiffe_id TEXT PRIMARY KEY,
  workload TEXT NOT NULL REFERENCES identity_workloads(name),
  instance_id TEXT NOT NULL,
  public_key_jwk TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  svid_jti TEXT NOT NULL DEFAULT '',
  svid_expires_at INTEGER NOT NULL DEFAULT 0,
  revoked_at INTEGER NOT NULL DEFAULT 0,
  revoke_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX identity_instances_by_workload ON identity_instances(workload);
CREATE TABLE identity_users (
  name TEXT PRIMARY KEY,
  roles TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE identity_api_tokens (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  user TEXT NOT NULL REFERENCES identity_users(name),
  label TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL DEFAULT 0,
  revoked_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX identity_api_tokens_by_user ON identity_api_tokens(user);
)sql"};

std::string StringListToJson(const std::vector<std::string>& list) {
  boost::json::array a;
  for (const auto& s : list) a.emplace_back(s);
  return ToJson(a);
}

Result<std::vector<std::string>> StringListFromJson(std::string_view text, std::string_view what) {
  auto doc = ParseJson(text);
  if (!doc || !doc->is_array()) {
    return Status::DataLoss("stored " + std::string(what) + " is not a json array");
  }
  std::vector<std::string> out;
  for (const auto& v : doc->get_array()) {
    if (!v.is_string())
      return Status::DataLoss("stored " + std::string(what) + " holds a non-string");
    out.emplace_back(v.get_string().data(), v.get_string().size());
  }
  return out;
}

class SqliteIdentityStore final : public IdentityStore {
 public:
  explicit SqliteIdentityStore(std::unique_ptr<store::SqliteDb> db) : db_(std::move(db)) {}

  Status Init() { return store::MigrateModule(*db_, "identity", kMigrations); }

  Result<std::vector<SigningKeyRecord>> ListSigningKeys() override {
    std::lock_guard lock(mu_);
    ARBITER_TRY(auto sel, db_->Prepare("SELECT kid, private_key_pem, created_at, active, "
                                       "verify_until FROM identity_signing_keys "
                                       "ORDER BY created_at, kid"));
    return store::ReadRows(sel, [](const store::SqliteStatement& row) {
      return SigningKeyRecord{row.ColumnText(0), row.ColumnText(1), row.ColumnInt64(2),
                              row.ColumnInt64(3) != 0, row.ColumnInt64(4)};
    });
  }

  Status RotateSigningKey(const SigningKeyRecord& key, std::int64_t old_verify_until) override {
    std::lock_guard lock(mu_);
    return db_->InTransaction([&]() -> Status {
      ARBITER_TRY(auto retire, db_->Prepare("UPDATE identity_signing_keys SET active = 0, "
                                            "verify_until = ?1 WHERE active = 1"));
      retire.Bind(1, old_verify_until);
      ARBITER_RETURN_IF_ERROR(retire.Run());
      ARBITER_TRY(auto ins, db_->Prepare("INSERT INTO identity_signing_keys VALUES "
                                         "(?1, ?2, ?3, 1, 0)"));
      ins.Bind(1, key.kid).Bind(2, key.private_key_pem).Bind(3, key.created_at);
      return ins.Run();
    });
  }

  Status DeleteRetiredSigningKeys(std::int64_t now) override {
    std::lock_guard lock(mu_);
    ARBITER_TRY(auto del, db_->Prepare("DELETE FROM identity_signing_keys WHERE active = 0 AND "
                                       "verify_until <= ?1"));
    del.Bind(1, now);
    return del.Run();
  }

  Status InsertWorkload(const WorkloadRecord& w) override {
    std::lock_guard lock(mu_);
    ARBITER_TRY(auto ins, db_->Prepare("INSERT INTO identity_workloads VALUES "
                                       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    ins.Bind(1, w.name)
        .Bind(2, w.owner)
        .Bind(3, w.risk_tier)
        .Bind(4, StringListToJson(w.intents))
        .Bind(5, w.max_grant_ttl_seconds)
        .Bind(6, w.created_by)
        .Bind(7, w.created_at)
        .Bind(8, w.revoked_at)
        .Bind(9, w.revoke_reason);
    Status s = ins.Run();
    if (s.code() == StatusCode::kAlreadyExists) {
      return Status::AlreadyExists("workload " + Quoted(w.name) + " already exists");
    }
    return s;
  }

  static constexpr std::string_view kWorkloadColumns =
      "SELECT name, owner, risk_tier, intents, max_grant_ttl_seconds, created_by, created_at, "
      "revoked_at, revoke_reason FROM identity_workloads";

  static Result<WorkloadRecord> ReadWorkload(const store::SqliteStatement& sel) {
    WorkloadRecord w;
    w.name = sel.ColumnText(0);
    w.owner = sel.ColumnText(1);
    w.risk_tier = sel.ColumnText(2);
    ARBITER_TRY(w.intents, StringListFromJson(sel.ColumnText(3), "workload intents"));
    w.max_grant_ttl_seconds = sel.ColumnInt64(4);
    w.created_by = sel.ColumnText(5);
    w.created_at = sel.ColumnInt64(6);
    w.revoked_at = sel.ColumnInt64(7);
    w.revoke_reason = sel.ColumnText(8);
    return w;
  }

  Result<WorkloadRecord> GetWorkload(std::string_view name) override {
    std::lock_guard lock(mu_);
    ARBITER_TRY(auto sel, db_->Prepare(std::string(kWorkloadColumns) + " WHERE name = ?1"));
    sel.Bind(1, name);
    return store::ReadRow(sel, ReadWorkload,
                          [&] { return "workload " + Quoted(name) + " is not registered"; });
  }

  Result<std::vector<WorkloadRecord>> ListWorkloads() override {
    std::lock_guard lock(mu_);
    ARBITER_TRY(auto sel, db_->Prepare(std::string(kWorkloadColumns) + " ORDER BY name"));
    return store::ReadRows(sel, ReadWorkload);
  }

  Status RevokeWorkload(std::string_view name, std::int64_t at, std::string_view reason) override {
    std::lock_guard lock(mu_);
    return db_->InTransaction([&]() -> Status {
      ARBITER_TRY(auto w, db_->Prepare("UPDATE identity_workloads SET revoked_at = ?2, "
                                       "revoke_reason = ?3 WHERE name = ?1 AND revoked_at = 0"));
      w.Bind(1, name).Bind(2, at).Bind(3, reason);
      ARBITER_RETURN_IF_ERROR(w.Run());
      ARBITER_TRY(auto i, db_->Prepare("UPDATE identity_instances SET revoked_at = ?2, "
                                       "revoke_reason = ?3 WHERE workload = ?1 AND "
                                       "revoked_at = 0"));
      i.Bind(1, name).Bind(2, at).Bind(3, reason);
      ARBITER_RETURN_IF_ERROR(i.Run());
      // Unused join tokens die with the workload: mark them expired now.
      ARBITER_TRY(auto t, db_->Prepare("UPDATE identity_join_tokens SET expires_at = ?2 WHERE "
                                       "workload = ?1 AND used_at = 0 AND expires_at > ?2"));
      t.Bind(1, name).Bind(2, at);
      return t.Run();
    });
  }

  Status InsertJoinToken(const JoinTokenRecord& t) override {
    std::lock_guard lock(mu_);
    ARBITER_TRY(auto ins, db_->Prepare("INSERT INTO identity_join_tokens VALUES "
                                       "(?1, ?2, ?3, ?4, ?5, ?6)"));
    ins.Bind(1, t.token_hash)
        .Bind(2, t.workload)
        .Bind(3, t.created_at)
        .Bind(4, t.expires_at)
        .Bind(5, t.used_at)
        .Bind(6, t.used_by);
    return ins.Run();
  }

  Result<JoinTokenRecord> ConsumeJoinToken(std::string_view token_hash, std::int64_t now,
                                           std::string_view used_by) override {
    std::lock_guard lock(mu_);
    JoinTokenRecord t;
    Status s = db_->InTransaction([&]() -> Status {
      ARBITER_TRY(auto sel, db_->Prepare("SELECT token_hash, workload, created_at, expires_at, "
                                         "used_at, used_by FROM identity_join_tokens "
                                         "WHERE token_hash = ?1"));
      sel.Bind(1, token_hash);
      ARBITER_TRY(bool row, sel.Step());
      if (!row) return TokenFailure(TokenError::kJoinTokenUnknown, "join token is not known");
      t = {sel.ColumnText(0),  sel.ColumnText(1),  sel.ColumnInt64(2),
           sel.ColumnInt64(3), sel.ColumnInt64(4), sel.ColumnText(5)};
      sel.Reset();
      if (t.used_at != 0) {
        return TokenFailure(TokenError::kJoinTokenUsed, "join token was already used at " +
                                                            std::to_string(t.used_at) + " by " +
                                                            Quoted(t.used_by));
      }
      if (now >= t.expires_at) {
        return TokenFailure(TokenError::kJoinTokenExpired,
                            "join token expired at " + std::to_string(t.expires_at));
      }
      ARBITER_TRY(auto up, db_->Prepare("UPDATE identity_join_tokens SET used_at = ?2, "
                                        "used_by = ?3 WHERE token_hash = ?1 AND used_at = 0"));
      up.Bind(1, token_hash).Bind(2, now).Bind(3, used_by);
      ARBITER_RETURN_IF_ERROR(up.Run());
      if (db_->Changes() != 1) {
        return TokenFailure(TokenError::kJoinTokenUsed, "join token was already used");
      }
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return t;
  }

  Status InsertInstance(const InstanceRecord& i) override {
    std::lock_guard lock(mu_);
    ARBITER_TRY(auto ins, db_->Prepare("INSERT INTO identity_instances VALUES "
                                       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    ins.Bind(1, i.spiffe_id)
        .Bind(2, i.workload)
        .Bind(3, i.instance_id)
        .Bind(4, i.public_key_jwk)
        .Bind(5, i.created_at)
        .Bind(6, i.svid_jti)
        .Bind(7, i.svid_expires_at)
        .Bind(8, i.revoked_at)
        .Bind(9, i.revoke_reason);
    return ins.Run();
  }

  static constexpr std::string_view kInstanceColumns =
      "SELECT spiffe_id, workload, instance_id, public_key_jwk, created_at, svid_jti, "
      "svid_expires_at, revoked_at, revoke_reason FROM identity_instances";

  static InstanceRecord ReadInstance(const store::SqliteStatement& sel) {
    return {sel.ColumnText(0),  sel.ColumnText(1),  sel.ColumnText(2),
            sel.ColumnText(3),  sel.ColumnInt64(4), sel.ColumnText(5),
            sel.ColumnInt64(6), sel.ColumnInt64(7), sel.ColumnText(8)};
  }

  Result<InstanceRecord> GetInstance(std::string_view spiffe_id) override {
    std::lock_guard lock(mu_);
    ARBITER_TRY(auto sel, db_->Prepare(std::string(kInstanceColumns) + " WHERE spiffe_id = ?1"));
    sel.Bind(1, spiffe_id);
    return store::ReadRow(sel, ReadInstance,
                          [&] { return "agent instance " + Quoted(spiffe_id) + " is not known"; });
  }

  Result<std::vector<InstanceRecord>> ListInstances(std::string_view workload) override {
    std::lock_guard lock(mu_);
    ARBITER_TRY(auto sel, db_->Prepare(std::string(kInstanceColumns) +
                                       " WHERE workload = ?1 ORDER BY created_at, spiffe_id"));
    sel.Bind(1, workload);
    return store::ReadRows(sel, ReadInstance);
  }

  Status UpdateInstanceSvid(std::string_view spiffe_id, std::string_view jti,
                            std::int64_t expires_at) override {
    std::lock_guard lock(mu_);
    ARBITER_TRY(auto up, db_->Prepare("UPDATE identity_instances SET svid_jti = ?2, "
                                      "svid_expires_at = ?3 WHERE spiffe_id = ?1"));
    up.Bind(1, spiffe_id).Bind(2, jti).Bind(3, expires_at);
    return up.Run();
  }

  Status RevokeInstance(std::string_view spiffe_id, std::int64_t at,
                        std::string_view reason) override {
    std::lock_guard lock(mu_);
    ARBITER_TRY(auto up, db_->Prepare("UPDATE identity_instances SET revoked_at = ?2, "
                                      "revoke_reason = ?3 WHERE spiffe_id = ?1 AND "
                                      "revoked_at = 0"));
    up.Bind(1, spiffe_id).Bind(2, at).Bind(3, reason);
    return up.Run();
  }

  Status InsertUser(const UserRecord& u) override {
    std::lock_guard lock(mu_);
    return InsertUserLocked(u);
  }

  Status InsertUserLocked(const UserRecord& u) {
    ARBITER_TRY(auto ins, db_->Prepare("INSERT INTO identity_users VALUES (?1, ?2, ?3, ?4)"));
    ins.Bind(1, u.name)
        .Bind(2, StringListToJson(u.roles))
        .Bind(3, u.created_at)
        .Bind(4, std::int64_t{u.disabled ? 1 : 0});
    Status s = ins.Run();
    if (s.code() == StatusCode::kAlreadyExists) {
      return Status::AlreadyExists("user " + Quoted(u.name) + " already exists");
    }
    return s;
  }

  static Result<UserRecord> ReadUser(const store::SqliteStatement& sel) {
    UserRecord u;
    u.name = sel.ColumnText(0);
    ARBITER_TRY(u.roles, StringListFromJson(sel.ColumnText(1), "user roles"));
    u.created_at = sel.ColumnInt64(2);
    u.disabled = sel.ColumnInt64(3) != 0;
    return u;
  }

  Result<UserRecord> GetUser(std::string_view name) override {
    std::lock_guard lock(mu_);
    ARBITER_TRY(auto sel, db_->Prepare("SELECT name, roles, created_at, disabled FROM "
                                       "identity_users WHERE name = ?1"));
    sel.Bind(1, name);
    return store::ReadRow(sel, ReadUser,
                          [&] { return "user " + Quoted(name) + " does not exist"; });
  }

  Result<std::vector<UserRecord>> ListUsers() override {
    std::lock_guard lock(mu_);
    ARBITER_TRY(auto sel, db_->Prepare("SELECT name, roles, created_at, disabled FROM "
                                       "identity_users ORDER BY name"));
    return store::ReadRows(sel, ReadUser);
  }

  Status UpdateUser(const UserRecord& u) override {
    std::lock_guard lock(mu_);
    ARBITER_TRY(auto up, db_->Prepare("UPDATE identity_users SET roles = ?2, disabled = ?3 "
                                      "WHERE name = ?1"));
    up.Bind(1, u.name).Bind(2, StringListToJson(u.roles)).Bind(3, std::int64_t{u.disabled});
    ARBITER_RETURN_IF_ERROR(up.Run());
    if (db_->Changes() != 1) return Status::NotFound("user " + Quoted(u.name) + " does not exist");
    return Status::Ok();
  }

  Result<bool> InsertFirstUser(const UserRecord& user, const ApiTokenRecord& token) override {
    std::lock_guard lock(mu_);
    bool inserted = false;
    Status s = db_->InTransaction([&]() -> Status {
      ARBITER_TRY(auto count, db_->Prepare("SELECT COUNT(*) FROM identity_users"));
      ARBITER_TRY(bool row, count.Step());
      if (!row || count.ColumnInt64(0) != 0) return Status::Ok();
      count.Reset();
      ARBITER_RETURN_IF_ERROR(InsertUserLocked(user));
      ARBITER_RETURN_IF_ERROR(InsertApiTokenLocked(token));
      inserted = true;
      return Status::Ok();
    });
    if (!s.ok()) return s;
    return inserted;
  }

  Status InsertApiToken(const ApiTokenRecord& t) override {
    std::lock_guard lock(mu_);
    return InsertApiTokenLocked(t);
  }

  Status InsertApiTokenLocked(const ApiTokenRecord& t) {
    ARBITER_TRY(auto ins, db_->Prepare("INSERT INTO identity_api_tokens VALUES "
                                       "(?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    ins.Bind(1, t.id)
        .Bind(2, t.token_hash)
        .Bind(3, t.user)
        .Bind(4, t.label)
        .Bind(5, t.created_at)
        .Bind(6, t.expires_at)
        .Bind(7, t.revoked_at);
    return ins.Run();
  }

  static constexpr std::string_view kTokenColumns =
      "SELECT id, token_hash, user, label, created_at, expires_at, revoked_at FROM "
      "identity_api_tokens";

  static ApiTokenRecord ReadToken(const store::SqliteStatement& sel) {
    return {sel.ColumnText(0),  sel.ColumnText(1),  sel.ColumnText(2), sel.ColumnText(3),
            sel.ColumnInt64(4), sel.ColumnInt64(5), sel.ColumnInt64(6)};
  }

  Result<ApiTokenRecord> FindApiTokenByHash(std::string_view token_hash) override {
    std::lock_guard lock(mu_);
    ARBITER_TRY(auto sel, db_->Prepare(std::string(kTokenColumns) + " WHERE token_hash = ?1"));
    sel.Bind(1, token_hash);
    return store::ReadRow(sel, ReadToken, [] { return "api token is not known"; });
  }

  Result<std::vector<ApiTokenRecord>> ListApiTokens(std::string_view user) override {
    std::lock_guard lock(mu_);
    ARBITER_TRY(auto sel, db_->Prepare(std::string(kTokenColumns) +
                                       " WHERE user = ?1 ORDER BY created_at, id"));
    sel.Bind(1, user);
    return store::ReadRows(sel, ReadToken);
  }

  Status RevokeApiToken(std::string_view id, std::int64_t at) override {
    std::lock_guard lock(mu_);
    ARBITER_TRY(auto up, db_->Prepare("UPDATE identity_api_tokens SET revoked_at = ?2 WHERE "
                                      "id = ?1 AND revoked_at = 0"));
    up.Bind(1, id).Bind(2, at);
    ARBITER_RETURN_IF_ERROR(up.Run());
    if (db_->Changes() != 1) {
      return Status::NotFound("api token " + Quoted(id) + " is not known or already revoked");
    }
    return Status::Ok();
  }

 private:
  std::mutex mu_;
  std::unique_ptr<store::SqliteDb> db_;
};

}  // namespace

Result<std::unique_ptr<IdentityStore>> CreateSqliteIdentityStore(
    std::unique_ptr<store::SqliteDb> db) {
  auto s = std::make_unique<SqliteIdentityStore>(std::move(db));
  ARBITER_RETURN_IF_ERROR(s->Init());
  return std::unique_ptr<IdentityStore>(std::move(s));
}

}  // namespace arbiter::identity
