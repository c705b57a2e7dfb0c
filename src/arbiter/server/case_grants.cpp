#include "arbiter/server/case_grants.h"

#include <algorithm>
#include <utility>

#include "arbiter/common/bytes.h"
#include "arbiter/common/crypto.h"
#include "arbiter/common/json.h"
#include "arbiter/identity/spiffe_id.h"
#include "arbiter/identity/token_error.h"
#include "arbiter/store/module_schema.h"

namespace arbiter::server {
namespace {

constexpr std::int64_t kIntentTtlSeconds = 60;

// The server's own tables in <data>/arbiter.db (module `server` in `arbiter_schema`).
constexpr std::string_view kMigrations[] = {
    // Parameters of intents asked for, by case and SHA-256 of their canonical JSON; seq orders
    // them for the bounds.
    "CREATE TABLE server_intent_params ("
    " case_id TEXT NOT NULL, digest TEXT NOT NULL, params TEXT NOT NULL, seq INTEGER NOT NULL,"
    " PRIMARY KEY (case_id, digest)) WITHOUT ROWID;"
    "CREATE INDEX server_intent_params_seq ON server_intent_params (seq);"
    "CREATE INDEX server_intent_params_case_seq ON server_intent_params (case_id, seq);",
};

// `Agent::"refund-agent-1"` → "refund-agent-1"; a SPIFFE ID `.../agent/<workload>/<instance>` →
// "<workload>". Anything else names no workload (a pool): "".
std::string WorkloadOf(std::string_view agent) {
  constexpr std::string_view kCedar = "Agent::\"";
  if (agent.starts_with(kCedar) && agent.size() > kCedar.size() + 1 && agent.back() == '"') {
    return std::string(agent.substr(kCedar.size(), agent.size() - kCedar.size() - 1));
  }
  constexpr std::string_view kMarker = "/agent/";
  if (auto at = agent.find(kMarker); agent.starts_with("spiffe://") && at != agent.npos) {
    std::string_view rest = agent.substr(at + kMarker.size());
    return std::string(rest.substr(0, rest.find('/')));
  }
  return {};
}

}  // namespace

CaseGrants::CaseGrants(CaseGrantsDeps deps, std::string audience,
                       std::unique_ptr<store::SqliteDb> db)
    : deps_(deps), audience_(std::move(audience)), db_(std::move(db)) {}

Result<std::unique_ptr<CaseGrants>> CaseGrants::Create(CaseGrantsDeps deps, std::string audience,
                                                       std::unique_ptr<store::SqliteDb> db) {
  if (db == nullptr) return Status::InvalidArgument("case grants need a database");
  ARBITER_RETURN_IF_ERROR(store::MigrateModule(*db, "server", kMigrations));
  ARBITER_TRY(auto max_seq, db->Prepare("SELECT coalesce(max(seq), -1) FROM server_intent_params"));
  ARBITER_TRY(bool row, max_seq.Step());
  const std::int64_t next = row ? max_seq.ColumnInt64(0) + 1 : 0;
  std::unique_ptr<CaseGrants> out(new CaseGrants(deps, std::move(audience), std::move(db)));
  out->next_seq_ = next;
  return out;
}

Result<routing::CaseGrant> CaseGrants::IssueCaseGrant(const routing::CaseGrantRequest& request) {
  grants::GrantSpec spec;
  spec.case_id = request.case_id;
  spec.workload = WorkloadOf(request.agent);
  spec.ttl_seconds = request.ttl_seconds;
  spec.max_ttl_seconds = std::max(request.ttl_seconds, request.max_ttl_seconds);
  ARBITER_TRY(grants::CaseGrant g, deps_.grants->CreateForCase(spec));
  return routing::CaseGrant{g.id, g.expires_at * 1'000'000};
}

Result<identity::AgentIdentity> CaseGrants::ResolveAgent(std::string_view spiffe_id) const {
  auto id = identity::SpiffeId::Parse(spiffe_id);
  if (!id) return Status::PermissionDenied("agent `" + std::string(spiffe_id) + "` is malformed");
  auto instance = deps_.identities->GetInstance(spiffe_id);
  if (!instance) {
    if (instance.error().code() == StatusCode::kNotFound) {
      return Status::PermissionDenied("agent `" + std::string(spiffe_id) + "` is not registered");
    }
    return instance.error();
  }
  ARBITER_TRY(identity::WorkloadRecord w, deps_.identities->GetWorkload(instance->workload));
  if (instance->revoked_at != 0 || w.revoked_at != 0) {
    return identity::TokenFailure(identity::TokenError::kRevoked,
                                  "agent `" + std::string(spiffe_id) + "` is revoked");
  }
  return identity::AgentIdentity{std::move(id).value(),
                                 w.name,
                                 instance->instance_id,
                                 w.owner,
                                 w.risk_tier,
                                 w.intents,
                                 w.max_grant_ttl_seconds,
                                 instance->svid_jti,
                                 instance->svid_expires_at};
}

Result<grants::CaseGrant> CaseGrants::BindClaim(std::string_view grant_id,
                                                std::string_view spiffe_id) {
  ARBITER_TRY(identity::AgentIdentity agent, ResolveAgent(spiffe_id));
  return deps_.grants->Claim(grant_id, agent);
}

Result<grants::CaseGrant> CaseGrants::ActiveGrantFor(std::string_view case_id,
                                                     std::string_view spiffe_id) const {
  ARBITER_TRY(identity::AgentIdentity agent, ResolveAgent(spiffe_id));
  return deps_.grants->ActiveGrantFor(case_id, agent);
}

Status CaseGrants::RememberParams(std::string_view case_id, const boost::json::object& params) {
  std::string canonical = CanonicalJson(boost::json::value(params));
  if (canonical.size() > kMaxIntentParamsBytes) {
    return Status::InvalidArgument("body.params: over " + std::to_string(kMaxIntentParamsBytes) +
                                   " bytes of canonical json");
  }
  const std::string digest = HexEncode(Sha256(canonical));
  std::lock_guard<std::mutex> lock(mu_);
  const std::int64_t seq = next_seq_++;
  return db_->InTransaction([&]() -> Status {
    ARBITER_TRY(auto put,
                db_->Prepare("INSERT OR REPLACE INTO server_intent_params VALUES (?1, ?2, "
                             "?3, ?4)"));
    put.Bind(1, case_id).Bind(2, digest).Bind(3, canonical).Bind(4, seq);
    ARBITER_RETURN_IF_ERROR(put.Run());
    // The bounds: the newest kMaxRememberedParamsPerCase of this case, kMaxRememberedParams in all
    // (seq grows with every insert, so no more than that many rows have a seq in the window).
    ARBITER_TRY(auto trim_case,
                db_->Prepare("DELETE FROM server_intent_params WHERE case_id = ?1 AND seq <= "
                             "(SELECT seq FROM server_intent_params WHERE case_id = ?1 "
                             "ORDER BY seq DESC LIMIT 1 OFFSET ?2)"));
    trim_case.Bind(1, case_id).Bind(2, static_cast<std::int64_t>(kMaxRememberedParamsPerCase));
    ARBITER_RETURN_IF_ERROR(trim_case.Run());
    ARBITER_TRY(auto trim_all, db_->Prepare("DELETE FROM server_intent_params WHERE seq <= ?1"));
    trim_all.Bind(1, seq - static_cast<std::int64_t>(kMaxRememberedParams));
    return trim_all.Run();
  });
}

Result<std::optional<boost::json::object>> CaseGrants::FindParams(std::string_view case_id,
                                                                  std::string_view digest) const {
  std::lock_guard<std::mutex> lock(mu_);
  ARBITER_TRY(auto get, db_->Prepare("SELECT params FROM server_intent_params WHERE case_id = ?1 "
                                     "AND digest = ?2"));
  get.Bind(1, case_id).Bind(2, digest);
  ARBITER_TRY(bool row, get.Step());
  if (!row) return std::optional<boost::json::object>();
  JsonLimits limits;
  limits.max_bytes = kMaxIntentParamsBytes;
  limits.max_depth = 1024;  // what the request was parsed with is at most this
  auto parsed = ParseJson(get.ColumnText(0), limits);
  if (!parsed || !parsed->is_object()) {
    return Status::DataLoss("remembered parameters of case `" + std::string(case_id) +
                            "` are not a json object");
  }
  return std::optional<boost::json::object>(std::move(parsed->as_object()));
}

Status CaseGrants::ForgetCase(std::string_view case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  ARBITER_TRY(auto del, db_->Prepare("DELETE FROM server_intent_params WHERE case_id = ?1"));
  del.Bind(1, case_id);
  return del.Run();
}

Result<std::uint64_t> CaseGrants::ActiveGrants() const {
  const std::int64_t now = deps_.clock->NowSeconds();
  std::lock_guard<std::mutex> lock(mu_);
  ARBITER_TRY(auto count, db_->Prepare("SELECT count(*) FROM grants_case_grants WHERE state = "
                                       "'active' AND expires_at > ?1"));
  count.Bind(1, now);
  ARBITER_TRY(bool row, count.Step());
  return row ? static_cast<std::uint64_t>(count.ColumnInt64(0)) : 0;
}

Result<std::uint64_t> CaseGrants::RememberedParams() const {
  std::lock_guard<std::mutex> lock(mu_);
  ARBITER_TRY(auto count, db_->Prepare("SELECT count(*) FROM server_intent_params"));
  ARBITER_TRY(bool row, count.Step());
  return row ? static_cast<std::uint64_t>(count.ColumnInt64(0)) : 0;
}

Result<std::string> CaseGrants::IssueIntentToken(const routing::IntentTokenRequest& request) {
  ARBITER_TRY(grants::CaseGrant grant, deps_.grants->Get(request.grant_id));
  if (grant.agent.empty()) {
    return Status::FailedPrecondition("grant `" + grant.id + "` of case `" + request.case_id +
                                      "` has not been claimed by an agent instance");
  }
  const std::string workload = WorkloadOf(request.agent);
  if (!workload.empty() && workload != WorkloadOf(grant.agent)) {
    return Status::PermissionDenied("grant `" + grant.id + "` is held by `" + grant.agent +
                                    "`, not by an instance of `" + workload + "`");
  }
  ARBITER_TRY(identity::AgentIdentity agent, ResolveAgent(grant.agent));
  grants::IntentRequest intent;
  intent.case_id = request.case_id;
  intent.action = request.intent;
  intent.audience = audience_;
  intent.ttl_seconds = kIntentTtlSeconds;
  ARBITER_TRY(auto found, FindParams(request.case_id, request.params_digest));
  if (!found) {
    return Status::FailedPrecondition("the parameters of intent `" + request.intent +
                                      "` on case `" + request.case_id +
                                      "` are no longer known; ask for the intent again");
  }
  intent.params = std::move(*found);
  ARBITER_TRY(grants::MintedIntent minted, deps_.intents->Mint(agent, intent));
  return std::move(minted.token);
}

Status CaseGrants::RevokeCase(std::string_view case_id) {
  ARBITER_RETURN_IF_ERROR(ForgetCase(case_id));
  auto revoked = deps_.grants->RevokeForCase(case_id, "case left the ai");
  return revoked ? Status::Ok() : revoked.error();
}

Result<grants::IntentClaims> CaseGrants::Introspect(std::string_view token,
                                                    grants::IntentExpectations expect) {
  if (expect.audience.empty()) expect.audience = audience_;
  return deps_.intents->Introspect(token, expect);
}

}  // namespace arbiter::server
