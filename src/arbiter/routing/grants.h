// What routing needs from the grants module: a case grant for the agent that keeps a case, a
// single-use intent token for each permitted intent, and revocation when the case leaves the AI.
// The server wires the real implementation (grants module); InMemoryGrantIssuer serves tests.
//
//   InMemoryGrantIssuer grants(clock);
//   ARBITER_TRY(CaseGrant g, grants.IssueCaseGrant({"CASE-1", "Agent::\"bot\"", 900, 3600, hash}));
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/clock.h"
#include "arbiter/common/status.h"

namespace arbiter::routing {

struct CaseGrantRequest {
  std::string case_id;
  std::string agent;  // Cedar uid or SPIFFE id of the agent (or pool) that keeps the case
  std::int64_t ttl_seconds = 900;
  std::int64_t max_ttl_seconds = 3600;
  std::string bundle_hash;  // the policy version that allowed it
};

struct CaseGrant {
  std::string grant_id;
  std::int64_t expires_at_micros = 0;
};

struct IntentTokenRequest {
  std::string case_id;
  std::string grant_id;
  std::string agent;
  std::string intent;
  std::string params_digest;  // hex SHA-256 of the canonical JSON parameters: binds the token
};

class GrantIssuer {
 public:
  virtual ~GrantIssuer() = default;
  virtual Result<CaseGrant> IssueCaseGrant(const CaseGrantRequest& request) = 0;
  // A single-use token for exactly this intent request.
  virtual Result<std::string> IssueIntentToken(const IntentTokenRequest& request) = 0;
  // Revokes the case's grants and outstanding intent tokens (case closed, escalated, overridden).
  virtual Status RevokeCase(std::string_view case_id) = 0;
};

class InMemoryGrantIssuer final : public GrantIssuer {
 public:
  explicit InMemoryGrantIssuer(const Clock& clock) : clock_(clock) {}
  Result<CaseGrant> IssueCaseGrant(const CaseGrantRequest& request) override;
  Result<std::string> IssueIntentToken(const IntentTokenRequest& request) override;
  Status RevokeCase(std::string_view case_id) override;

  // Test inspection: is this grant live (issued, not revoked, not expired)?
  bool IsLive(std::string_view grant_id) const;
  size_t tokens_issued() const;

 private:
  struct Grant {
    std::string case_id;
    std::int64_t expires_at_micros;
    bool revoked = false;
  };
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, Grant, std::less<>> grants_;
  std::uint64_t next_ = 1;
  size_t tokens_ = 0;
};

}  // namespace arbiter::routing
