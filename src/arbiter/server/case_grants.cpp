#include "arbiter/server/case_grants.h"

#include <algorithm>
#include <utility>

#include "arbiter/common/bytes.h"
#include "arbiter/common/crypto.h"
#include "arbiter/common/json.h"
#include "arbiter/identity/spiffe_id.h"
#include "arbiter/identity/token_error.h"

namespace arbiter::server {
namespace {

constexpr std::int64_t kIntentTtlSeconds = 60;

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

std::string ParamsDigest(const boost::json::object& params) {
  return HexEncode(Sha256(CanonicalJson(boost::json::value(params))));
}

}  // namespace

CaseGrants::CaseGrants(CaseGrantsDeps deps, std::string audience)
    : deps_(deps), audience_(std::move(audience)) {}

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

void CaseGrants::RememberParams(std::string_view case_id, const boost::json::object& params) {
  std::string digest = ParamsDigest(params);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = params_.find(case_id);
  if (it == params_.end()) {
    while (params_.size() >= kMaxCasesWithParams && !params_order_.empty()) {
      auto oldest = params_order_.begin();
      params_.erase(oldest->second);
      params_seq_.erase(oldest->second);
      params_order_.erase(oldest);
    }
    it = params_.emplace(std::string(case_id), std::map<std::string, boost::json::object>{}).first;
    params_order_.emplace(next_seq_, std::string(case_id));
    params_seq_.emplace(std::string(case_id), next_seq_);
    ++next_seq_;
  }
  if (it->second.size() >= kMaxRememberedParamsPerCase && !it->second.contains(digest)) {
    it->second.erase(it->second.begin());
  }
  it->second.insert_or_assign(std::move(digest), params);
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
  {
    std::lock_guard<std::mutex> lock(mu_);
    const boost::json::object* found = nullptr;
    if (auto c = params_.find(request.case_id); c != params_.end()) {
      if (auto p = c->second.find(request.params_digest); p != c->second.end()) found = &p->second;
    }
    if (found == nullptr) {
      return Status::FailedPrecondition("the parameters of intent `" + request.intent +
                                        "` on case `" + request.case_id +
                                        "` are no longer known; ask for the intent again");
    }
    intent.params = *found;
  }
  ARBITER_TRY(grants::MintedIntent minted, deps_.intents->Mint(agent, intent));
  return std::move(minted.token);
}

Status CaseGrants::RevokeCase(std::string_view case_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto seq = params_seq_.find(case_id); seq != params_seq_.end()) {
      params_order_.erase(seq->second);
      params_seq_.erase(seq);
      params_.erase(params_.find(case_id));
    }
  }
  auto revoked = deps_.grants->RevokeForCase(case_id, "case left the ai");
  return revoked ? Status::Ok() : revoked.error();
}

Result<grants::IntentClaims> CaseGrants::Introspect(std::string_view token,
                                                    grants::IntentExpectations expect) {
  if (expect.audience.empty()) expect.audience = audience_;
  return deps_.intents->Introspect(token, expect);
}

}  // namespace arbiter::server
