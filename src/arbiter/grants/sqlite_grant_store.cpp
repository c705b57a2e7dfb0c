#include "arbiter/grants/sqlite_grant_store.h"

#include <algorithm>
#include <array>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "arbiter/identity/token_error.h"
#include "arbiter/store/module_schema.h"
#include "arbiter/store/sqlite_rows.h"

namespace arbiter::grants {
namespace {

using identity::Quoted;

constexpr std::array<std::string_view, 2> kMigrations = {
    R"sql(
CREATE TABLE grants_case_grants (
  id TEXT PRIMARY KEY,
  case_id TEXT NOT NULL,
  workload TEXT NOT NULL,
  agent TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('active', 'expired', 'revoked')),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  max_expires_at INTEGER NOT NULL,
  claimed_at INTEGER NOT NULL,
  ended_at INTEGER NOT NULL,
  end_reason TEXT NOT NULL
);
CREATE INDEX grants_by_case ON grants_case_grants(case_id);
CREATE INDEX grants_by_agent ON grants_case_grants(agent);
CREATE INDEX grants_active_by_expiry ON grants_case_grants(expires_at) WHERE state = 'active';
CREATE TABLE grants_intents (
  jti TEXT PRIMARY KEY,
  grant_id TEXT NOT NULL REFERENCES grants_case_grants(id),
  case_id TEXT NOT NULL,
  agent TEXT NOT NULL,
  audience TEXT NOT NULL,
  action TEXT NOT NULL,
  params_sha256 TEXT NOT NULL,
  token_sha256 TEXT NOT NULL,
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX grants_intents_by_expiry ON grants_intents(expires_at);
)sql",
    // Intents keyed by jti, without the expiry index: a mint writes two b-trees (the table and
    // its jti index) instead of three. Since jtis start with the minting time, new rows are
    // appended at the right edge of both, the rows still in use share a few hot pages, and
    // pruning is a range delete on the jti. (WITHOUT ROWID, one b-tree, was measured 15-20 %
    // slower per introspection: an update that grows a row in its packed pages costs more
    // there.) The token's SHA-256 is a 32-byte blob. The grant is checked by the insert itself,
    // so no foreign key. Records of the old layout are dropped: they are of tokens that live at
    // most 120 s, and a token without its record is refused (unknown_token), never accepted.
    R"sql(
DROP TABLE grants_intents;
CREATE TABLE grants_intents (
  jti TEXT PRIMARY KEY,
  grant_id TEXT NOT NULL,
  case_id TEXT NOT NULL,
  agent TEXT NOT NULL,
  audience TEXT NOT NULL,
  action TEXT NOT NULL,
  params_sha256 TEXT NOT NULL,
  token_sha256 BLOB NOT NULL,
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER NOT NULL
);
)sql"};

Result<GrantState> ParseState(std::string_view s) {
  if (s == "active") return GrantState::kActive;
  if (s == "expired") return GrantState::kExpired;
  if (s == "revoked") return GrantState::kRevoked;
  return Status::DataLoss("stored grant state " + Quoted(s) + " is unknown");
}

constexpr std::string_view kGrantColumns =
    "SELECT id, case_id, workload, agent, state, created_at, expires_at, max_expires_at, "
    "claimed_at, ended_at, end_reason FROM grants_case_grants";

Result<CaseGrant> ReadGrant(const store::SqliteStatement& s) {
  CaseGrant g;
  g.id = s.ColumnText(0);
  g.case_id = s.ColumnText(1);
  g.workload = s.ColumnText(2);
  g.agent = s.ColumnText(3);
  ARBITER_TRY(g.state, ParseState(s.ColumnText(4)));
  g.created_at = s.ColumnInt64(5);
  g.expires_at = s.ColumnInt64(6);
  g.max_expires_at = s.ColumnInt64(7);
  g.claimed_at = s.ColumnInt64(8);
  g.ended_at = s.ColumnInt64(9);
  g.end_reason = s.ColumnText(10);
  return g;
}

// Binds the fields of an intent record to the parameters both intent inserts number alike: ?1
// jti, ?3 grant_id, ?4 case_id, ?5 agent, ?6 audience, ?7 action, ?8 params_sha256,
// ?9 token_sha256, ?10 issued_at, ?11 expires_at (?2 is the conditional insert's `now`).
store::SqliteStatement& BindIntent(store::SqliteStatement& s, const IntentRecord& r) {
  return s.Bind(1, r.jti)
      .Bind(3, r.grant_id)
      .Bind(4, r.case_id)
      .Bind(5, r.agent)
      .Bind(6, r.audience)
      .Bind(7, r.action)
      .Bind(8, r.params_sha256)
      .Bind(9, ByteView(r.token_sha256))
      .Bind(10, r.issued_at)
      .Bind(11, r.expires_at);
}

class SqliteGrantStore final : public GrantStore {
 public:
  explicit SqliteGrantStore(std::unique_ptr<store::SqliteDb> db) : db_(std::move(db)) {}

  Status Init() {
    ARBITER_RETURN_IF_ERROR(store::MigrateModule(*db_, "grants", kMigrations));
    ARBITER_TRY(auto get_grant, db_->Prepare(std::string(kGrantColumns) + " WHERE id = ?1"));
    get_grant_.emplace(std::move(get_grant));
    ARBITER_TRY(auto by_case, db_->Prepare(std::string(kGrantColumns) +
                                           " WHERE case_id = ?1 ORDER BY created_at, rowid"));
    list_by_case_.emplace(std::move(by_case));
    ARBITER_TRY(auto by_agent, db_->Prepare(std::string(kGrantColumns) +
                                            " WHERE agent = ?1 ORDER BY created_at, rowid"));
    list_by_agent_.emplace(std::move(by_agent));
    ARBITER_TRY(auto get_intent,
                db_->Prepare("SELECT jti, grant_id, case_id, agent, audience, action, "
                             "params_sha256, token_sha256, issued_at, expires_at, used_at "
                             "FROM grants_intents WHERE jti = ?1"));
    get_intent_.emplace(std::move(get_intent));
    ARBITER_TRY(auto consume,
                db_->Prepare("UPDATE grants_intents AS i SET used_at = ?2 "
                             "WHERE i.jti = ?1 AND i.token_sha256 = ?3 AND i.used_at = 0 AND "
                             "EXISTS (SELECT 1 FROM grants_case_grants g WHERE g.id = i.grant_id "
                             "AND g.state = 'active' AND g.expires_at > ?2 AND g.agent = i.agent "
                             "AND g.case_id = i.case_id)"));
    consume_intent_.emplace(std::move(consume));
    ARBITER_TRY(auto usable,
                db_->Prepare("SELECT 1 FROM grants_intents AS i JOIN grants_case_grants g "
                             "ON g.id = i.grant_id WHERE i.jti = ?1 AND i.token_sha256 = ?3 AND "
                             "i.used_at = 0 AND g.state = 'active' AND g.expires_at > ?2 AND "
                             "g.agent = i.agent AND g.case_id = i.case_id"));
    intent_usable_.emplace(std::move(usable));
    ARBITER_TRY(auto insert,
                db_->Prepare("INSERT INTO grants_intents (jti, grant_id, case_id, agent, "
                             "audience, action, params_sha256, token_sha256, issued_at, "
                             "expires_at, used_at) SELECT ?1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                             "?11, 0 FROM grants_case_grants g WHERE g.id = ?3 AND "
                             "g.state = 'active' AND g.expires_at > ?2 AND g.expires_at >= ?11 AND "
                             "g.agent = ?5 AND g.case_id = ?4"));
    insert_intent_.emplace(std::move(insert));
    ARBITER_TRY(auto insert_issued,
                db_->Prepare("INSERT INTO grants_intents (jti, grant_id, case_id, agent, "
                             "audience, action, params_sha256, token_sha256, issued_at, "
                             "expires_at, used_at) VALUES (?1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
                             "?11, 0)"));
    insert_issued_.emplace(std::move(insert_issued));
    return Status::Ok();
  }

  Status InsertGrant(const CaseGrant& g) override {
    std::lock_guard lock(mu_);
    ARBITER_TRY(auto ins, db_->Prepare("INSERT INTO grants_case_grants VALUES "
                                       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
    ins.Bind(1, g.id)
        .Bind(2, g.case_id)
        .Bind(3, g.workload)
        .Bind(4, g.agent)
        .Bind(5, GrantStateName(g.state))
        .Bind(6, g.created_at)
        .Bind(7, g.expires_at)
        .Bind(8, g.max_expires_at)
        .Bind(9, g.claimed_at)
        .Bind(10, g.ended_at)
        .Bind(11, g.end_reason);
    return ins.Run();
  }

  Result<CaseGrant> GetGrant(std::string_view id) override {
    std::lock_guard lock(mu_);
    auto& sel = *get_grant_;
    sel.Bind(1, id);
    auto grant =
        store::ReadRow(sel, ReadGrant, [&] { return "grant " + Quoted(id) + " does not exist"; });
    sel.Reset();
    return grant;
  }

  Result<std::vector<CaseGrant>> List(store::SqliteStatement& sel, std::string_view value) {
    std::lock_guard lock(mu_);
    sel.Bind(1, value);
    auto grants = store::ReadRows(sel, ReadGrant);
    sel.Reset();
    return grants;
  }

  Result<std::vector<CaseGrant>> ListGrantsByCase(std::string_view case_id) override {
    return List(*list_by_case_, case_id);
  }
  Result<std::vector<CaseGrant>> ListGrantsByAgent(std::string_view agent) override {
    return List(*list_by_agent_, agent);
  }

  Result<bool> ClaimGrant(std::string_view id, std::string_view agent, std::int64_t now,
                          std::int64_t expires_at, std::int64_t max_expires_at) override {
    ARBITER_TRY(int changed, Update("UPDATE grants_case_grants SET agent = ?2, claimed_at = ?3, "
                                    "expires_at = MIN(expires_at, ?4), "
                                    "max_expires_at = MIN(max_expires_at, ?5) "
                                    "WHERE id = ?1 AND state = 'active' AND agent = '' AND "
                                    "expires_at > ?3",
                                    [&](store::SqliteStatement& up) {
                                      up.Bind(1, id).Bind(2, agent).Bind(3, now);
                                      up.Bind(4, expires_at).Bind(5, max_expires_at);
                                    }));
    return changed == 1;
  }

  Result<bool> ExtendGrant(std::string_view id, std::int64_t now,
                           std::int64_t expires_at) override {
    ARBITER_TRY(int changed, Update("UPDATE grants_case_grants SET expires_at = "
                                    "MIN(?3, max_expires_at) WHERE id = ?1 AND "
                                    "state = 'active' AND expires_at > ?2",
                                    [&](store::SqliteStatement& up) {
                                      up.Bind(1, id).Bind(2, now).Bind(3, expires_at);
                                    }));
    return changed == 1;
  }

  Result<bool> EndGrant(std::string_view id, GrantState state, std::int64_t at,
                        std::string_view reason) override {
    if (state == GrantState::kActive) {
      return Status::Internal("EndGrant needs a terminal state");
    }
    ARBITER_TRY(int changed, Update("UPDATE grants_case_grants SET state = ?2, ended_at = ?3, "
                                    "end_reason = ?4 WHERE id = ?1 AND state = 'active'",
                                    [&](store::SqliteStatement& up) {
                                      up.Bind(1, id).Bind(2, GrantStateName(state));
                                      up.Bind(3, at).Bind(4, reason);
                                    }));
    return changed == 1;
  }

  Result<int> RevokeGrantsForCase(std::string_view case_id, std::int64_t at,
                                  std::string_view reason) override {
    return Update(
        "UPDATE grants_case_grants SET state = 'revoked', ended_at = ?2, end_reason = ?3 "
        "WHERE case_id = ?1 AND state = 'active'",
        [&](store::SqliteStatement& up) { up.Bind(1, case_id).Bind(2, at).Bind(3, reason); });
  }

  Result<int> ExpireDueGrants(std::int64_t now) override {
    return Update(
        "UPDATE grants_case_grants SET state = 'expired', ended_at = expires_at, "
        "end_reason = 'ttl elapsed' WHERE state = 'active' AND expires_at <= ?1",
        [&](store::SqliteStatement& up) { up.Bind(1, now); });
  }

  Result<bool> InsertIntent(const IntentRecord& r, std::int64_t now) override {
    std::lock_guard lock(mu_);
    auto& ins = *insert_intent_;
    BindIntent(ins, r).Bind(2, now);
    ARBITER_RETURN_IF_ERROR(ins.Run());
    return db_->Changes() == 1;
  }

  Status InsertIssuedIntents(std::span<const IntentRecord> records) override {
    if (records.empty()) return Status::Ok();
    std::lock_guard lock(mu_);
    auto insert_all = [&]() -> Status {
      auto& ins = *insert_issued_;
      for (const IntentRecord& r : records) {
        BindIntent(ins, r);
        if (Status s = ins.Run(); !s.ok()) {
          if (s.code() == StatusCode::kAlreadyExists) {
            return Status::AlreadyExists("intent " + Quoted(r.jti) + " is already recorded");
          }
          return s;
        }
      }
      return Status::Ok();
    };
    if (records.size() == 1) return insert_all();
    return db_->InTransaction(insert_all);
  }

  Result<IntentRecord> GetIntent(std::string_view jti) override {
    std::lock_guard lock(mu_);
    auto& sel = *get_intent_;
    sel.Bind(1, jti);
    auto row = sel.Step();
    if (!row) return row.error();
    if (!*row) {
      sel.Reset();
      return Status::NotFound("intent " + Quoted(jti) + " is not known");
    }
    IntentRecord r;
    r.jti = sel.ColumnText(0);
    r.grant_id = sel.ColumnText(1);
    r.case_id = sel.ColumnText(2);
    r.agent = sel.ColumnText(3);
    r.audience = sel.ColumnText(4);
    r.action = sel.ColumnText(5);
    r.params_sha256 = sel.ColumnText(6);
    const ByteView digest = sel.ColumnBlobView(7);
    if (digest.size() != r.token_sha256.size()) {
      sel.Reset();
      return Status::DataLoss("stored digest of intent " + Quoted(jti) + " is not 32 bytes");
    }
    std::copy(digest.begin(), digest.end(), r.token_sha256.begin());
    r.issued_at = sel.ColumnInt64(8);
    r.expires_at = sel.ColumnInt64(9);
    r.used_at = sel.ColumnInt64(10);
    sel.Reset();
    return r;
  }

  // Group commit: a caller that finds no commit in progress leads: it takes every request queued
  // so far and runs them in one transaction (a lone request as one autocommit statement); the
  // others wait for its commit. Each caller returns only after the commit holding its use, so a
  // use is exactly as durable as before; under concurrency N uses share one commit (the fsync-free
  // WAL commit costs ~15-20 us here; see BM_Peer_SqliteCommitBatched).
  Result<bool> ConsumeIntent(std::string_view jti, const Sha256Digest& token_sha256,
                             std::int64_t now) override {
    PendingUse me{jti, &token_sha256, now};
    std::unique_lock queue_lock(queue_mu_);
    queue_.push_back(&me);
    while (!me.done) {
      if (committing_) {
        queue_cv_.wait(queue_lock);
        continue;
      }
      committing_ = true;
      std::vector<PendingUse*> batch = std::exchange(queue_, {});
      queue_lock.unlock();
      RunUses(batch);
      queue_lock.lock();
      for (PendingUse* u : batch) u->done = true;
      committing_ = false;
      queue_cv_.notify_all();
    }
    return std::move(me.result);
  }

  Result<bool> IntentUsable(std::string_view jti, const Sha256Digest& token_sha256,
                            std::int64_t now) override {
    std::lock_guard lock(mu_);
    auto& sel = *intent_usable_;
    sel.Bind(1, jti).Bind(2, now).Bind(3, ByteView(token_sha256));
    auto row = sel.Step();
    sel.Reset();
    if (!row) return row.error();
    return *row;
  }

  Result<int> DeleteIntentsBefore(std::string_view jti_bound, std::int64_t before) override {
    return Update("DELETE FROM grants_intents WHERE jti < ?1 AND expires_at < ?2",
                  [&](store::SqliteStatement& del) { del.Bind(1, jti_bound).Bind(2, before); });
  }

 private:
  // Runs one UPDATE or DELETE (bound by `bind`) and returns how many rows it changed.
  template <typename BindFn>
  Result<int> Update(std::string_view sql, BindFn bind) {
    std::lock_guard lock(mu_);
    ARBITER_TRY(auto statement, db_->Prepare(sql));
    bind(statement);
    ARBITER_RETURN_IF_ERROR(statement.Run());
    return db_->Changes();
  }

  struct PendingUse {
    std::string_view jti;
    const Sha256Digest* token_sha256;
    std::int64_t now;
    Result<bool> result = false;
    bool done = false;  // under queue_mu_
  };

  Result<bool> Consume(const PendingUse& u) {
    auto& up = *consume_intent_;
    up.Bind(1, u.jti).Bind(2, u.now).Bind(3, ByteView(*u.token_sha256));
    ARBITER_RETURN_IF_ERROR(up.Run());
    return db_->Changes() == 1;
  }

  // Runs the uses of `batch` and commits them; on any error none is consumed and every caller
  // gets the error.
  void RunUses(const std::vector<PendingUse*>& batch) {
    std::lock_guard lock(mu_);
    if (batch.size() == 1) {
      batch[0]->result = Consume(*batch[0]);
      return;
    }
    Status s = db_->InTransaction([&]() -> Status {
      for (PendingUse* u : batch) {
        u->result = Consume(*u);
        if (!u->result) return u->result.error();
      }
      return Status::Ok();
    });
    if (!s.ok()) {
      for (PendingUse* u : batch) u->result = s;
    }
  }

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::vector<PendingUse*> queue_;  // under queue_mu_
  bool committing_ = false;         // under queue_mu_: a leader is running a batch

  std::mutex mu_;
  std::unique_ptr<store::SqliteDb> db_;
  // Prepared once; used under mu_. Declared after db_ so that they are finalised before it closes.
  std::optional<store::SqliteStatement> get_grant_;
  std::optional<store::SqliteStatement> list_by_case_;
  std::optional<store::SqliteStatement> list_by_agent_;
  std::optional<store::SqliteStatement> get_intent_;
  std::optional<store::SqliteStatement> consume_intent_;
  std::optional<store::SqliteStatement> insert_intent_;
  std::optional<store::SqliteStatement> intent_usable_;
  std::optional<store::SqliteStatement> insert_issued_;
};

}  // namespace

std::string_view GrantStateName(GrantState s) {
  switch (s) {
    case GrantState::kActive: return "active";
    case GrantState::kExpired: return "expired";
    case GrantState::kRevoked: return "revoked";
  }
  return "unknown";
}

Result<std::unique_ptr<GrantStore>> CreateSqliteGrantStore(std::unique_ptr<store::SqliteDb> db) {
  auto s = std::make_unique<SqliteGrantStore>(std::move(db));
  ARBITER_RETURN_IF_ERROR(s->Init());
  return std::unique_ptr<GrantStore>(std::move(s));
}

}  // namespace arbiter::grants
