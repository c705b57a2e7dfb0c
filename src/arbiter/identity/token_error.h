// Why a credential was refused: a small, stable vocabulary shared by JWT verification, the agent
// registry, and the grants module's intent tokens. Every refusal is a Status whose message starts
// with the reason's name, e.g. "expired: token expired at 1700000120, now 1700000300", so that
// callers (the HTTP API, logs, tests) can both show the message and branch on the reason.
//
//   Status s = TokenFailure(TokenError::kExpired, "token expired at ...");
//   if (TokenErrorOf(s) == TokenError::kExpired) { ... }
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "arbiter/common/status.h"

namespace arbiter::identity {

enum class TokenError : std::uint8_t {
  kMalformed,             // not a compact JWS, bad base64url, bad JSON, wrong claim types
  kUnsupportedAlgorithm,  // alg other than ES256 (none, HS256, RS256 ...)
  kWrongType,             // typ header is not the expected one
  kUnknownKey,            // kid missing, unknown, or retired
  kBadSignature,          // the signature does not verify
  kExpired,               // now >= exp (+ leeway)
  kNotYetValid,           // now < nbf or iat (- leeway)
  kLifetimeTooLong,       // exp - iat beyond what this token type allows
  kWrongIssuer,           // iss is not ours
  kWrongAudience,         // aud does not name the expected audience
  kMissingClaim,          // a required claim is absent
  kWrongTrustDomain,      // sub is a SPIFFE ID outside our trust domain
  kUnknownToken,          // authentic-looking token that Arbiter has no record of
  kReplayed,              // single-use token (jti) presented a second time
  kCaseMismatch,          // token bound to another case
  kActionMismatch,        // token bound to another action
  kParamsMismatch,        // token bound to other parameters
  kGrantInactive,         // the case grant is expired or revoked (e.g. the case closed)
  kAgentMismatch,         // another agent instance holds the grant
  kRevoked,               // the agent instance or workload is revoked
  kJoinTokenUnknown,      // no such join token
  kJoinTokenUsed,         // join token already used (they are one-time)
  kJoinTokenExpired,      // join token past its TTL
  kBadProof,              // proof of possession of the agent's key does not verify
  kIntentNotAllowed,      // the action is not among the workload's registered intents
};

// The lowercase snake_case name, e.g. "expired", "bad_signature", "replayed".
std::string_view TokenErrorName(TokenError e);

// A refusal: kUnauthenticated for credential problems, kPermissionDenied for binding and
// authorisation problems (case/action/params/agent mismatch, inactive grant, intent not allowed).
// The message is "<name>: <detail>".
Status TokenFailure(TokenError e, std::string_view detail);

// The reason of a Status made by TokenFailure, or nullopt.
std::optional<TokenError> TokenErrorOf(const Status& s);

// `input` in backticks for an error message: at most 64 bytes shown, control and non-ASCII bytes
// as '?', so that attacker-chosen text cannot forge log lines or bloat messages.
std::string Quoted(std::string_view input);

}  // namespace arbiter::identity
