#include "arbiter/routing/grants.h"

namespace arbiter::routing {

Result<CaseGrant> InMemoryGrantIssuer::IssueCaseGrant(const CaseGrantRequest& request) {
  if (request.case_id.empty()) return Status::InvalidArgument("case grant: empty case id");
  if (request.ttl_seconds <= 0 || request.ttl_seconds > request.max_ttl_seconds) {
    return Status::InvalidArgument("case grant: ttl must be positive and at most the max ttl");
  }
  std::lock_guard<std::mutex> lock(mu_);
  CaseGrant g;
  g.grant_id = "grant-" + std::to_string(next_++);
  g.expires_at_micros = clock_.NowMicros() + request.ttl_seconds * 1'000'000;
  grants_.emplace(g.grant_id, Grant{request.case_id, g.expires_at_micros});
  return g;
}

Result<std::string> InMemoryGrantIssuer::IssueIntentToken(const IntentTokenRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = grants_.find(request.grant_id);
  if (it == grants_.end() || it->second.revoked || it->second.case_id != request.case_id ||
      it->second.expires_at_micros <= clock_.NowMicros()) {
    return Status::PermissionDenied("intent token: no live grant `" + request.grant_id +
                                    "` for this case");
  }
  ++tokens_;
  return "itok-" + std::to_string(tokens_) + "-" + request.params_digest.substr(0, 16);
}

Status InMemoryGrantIssuer::RevokeCase(std::string_view case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, g] : grants_) {
    if (g.case_id == case_id) g.revoked = true;
  }
  return Status::Ok();
}

bool InMemoryGrantIssuer::IsLive(std::string_view grant_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = grants_.find(grant_id);
  return it != grants_.end() && !it->second.revoked &&
         it->second.expires_at_micros > clock_.NowMicros();
}

size_t InMemoryGrantIssuer::tokens_issued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tokens_;
}

}  // namespace arbiter::routing
