#include "arbiter/identity/token_error.h"

#include <array>
#include <string>

namespace arbiter::identity {
namespace {

constexpr std::array<std::string_view, 25> kNames = {
    "malformed",          "unsupported_alg", "wrong_type",         "unknown_key",
    "bad_signature",      "expired",         "not_yet_valid",      "lifetime_too_long",
    "wrong_issuer",       "wrong_audience",  "missing_claim",      "wrong_trust_domain",
    "unknown_token",      "replayed",        "case_mismatch",      "action_mismatch",
    "params_mismatch",    "grant_inactive",  "agent_mismatch",     "revoked",
    "join_token_unknown", "join_token_used", "join_token_expired", "bad_proof",
    "intent_not_allowed",
};
static_assert(kNames.size() == static_cast<size_t>(TokenError::kIntentNotAllowed) + 1);

}  // namespace

std::string_view TokenErrorName(TokenError e) { return kNames[static_cast<size_t>(e)]; }

Status TokenFailure(TokenError e, std::string_view detail) {
  std::string message(TokenErrorName(e));
  message += ": ";
  message += detail;
  switch (e) {
    case TokenError::kCaseMismatch:
    case TokenError::kActionMismatch:
    case TokenError::kParamsMismatch:
    case TokenError::kGrantInactive:
    case TokenError::kAgentMismatch:
    case TokenError::kIntentNotAllowed: return Status::PermissionDenied(std::move(message));
    default: return Status::Unauthenticated(std::move(message));
  }
}

std::string Quoted(std::string_view input) {
  constexpr size_t kMax = 64;
  std::string out = "`";
  for (size_t i = 0; i < input.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(input[i]);
    out += (c < 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
  }
  if (input.size() > kMax) out += "...";
  out += '`';
  return out;
}

std::optional<TokenError> TokenErrorOf(const Status& s) {
  const std::string& m = s.message();
  const size_t colon = m.find(':');
  if (colon == std::string::npos) return std::nullopt;
  const std::string_view name = std::string_view(m).substr(0, colon);
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<TokenError>(i);
  }
  return std::nullopt;
}

}  // namespace arbiter::identity
