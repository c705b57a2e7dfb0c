// Cedar authorization: forbid overrides permit, default deny, and a policy whose condition errors
// is skipped and reported with its id.
//
//   Request req{EntityUid("User", "alice"), EntityUid("Action", "view"),
//               EntityUid("Photo", "p1"), Value::Record({})};
//   Response r = IsAuthorized(req, policies, entities);
//   if (r.decision == Decision::kAllow) ...
//   for (const Policy* p : DeterminingPolicies(r, policies)) p->annotation("escalate");
//
// Evaluation never throws and allocates little: scope constraints are checked first from a
// per-action index, and only matching policies' conditions are evaluated.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/cedar/entities.h"
#include "arbiter/cedar/policy_set.h"
#include "arbiter/cedar/schema.h"
#include "arbiter/cedar/value.h"
#include "arbiter/common/status.h"

namespace arbiter::cedar {

struct Request {
  EntityUid principal;
  EntityUid action;
  EntityUid resource;
  Value context = Value::Record({});  // a Record
};

enum class Decision : std::uint8_t { kAllow, kDeny };

struct AuthorizationError {
  std::string policy_id;
  std::string message;  // one line, lowercase
};

struct Response {
  Decision decision = Decision::kDeny;
  // Ids of the determining policies: the satisfied forbids on deny, else the satisfied permits.
  std::vector<std::string> reasons;
  // Indexes of the determining policies in PolicySet::policies(), parallel to `reasons`.
  std::vector<size_t> reason_indexes;
  // Policies whose evaluation errored (they were skipped), in policy-set order.
  std::vector<AuthorizationError> errors;
};

Response IsAuthorized(const Request& request, const PolicySet& policies, const Entities& entities);

// What a Response carries besides the decision, the reason indexes and the errors.
enum class ResponseDetail : std::uint8_t {
  kFull,         // `reasons` too (the determining policies' ids)
  kIndexesOnly,  // `reasons` left empty: for callers that map reason_indexes themselves
};
Response IsAuthorized(const Request& request, const PolicySet& policies, const Entities& entities,
                      ResponseDetail detail);

// The determining policies of `response` (which must come from `policies`).
std::vector<const Policy*> DeterminingPolicies(const Response& response, const PolicySet& policies);

// Checks the request against the schema: the action is declared, principal and resource types are
// in its appliesTo, and the context conforms to its context type.
Status ValidateRequest(const Request& request, const Schema& schema);

// Parses a context record from JSON. With a schema, values are parsed by the action's context
// type (plain strings become extension values, `{"type","id"}` become entities); without one, the
// `__entity`/`__extn` escapes apply.
Result<Value> ParseContextJson(std::string_view json, const Schema* schema,
                               const EntityUid& action);

// "allow" / "deny".
std::string_view DecisionName(Decision d);

}  // namespace arbiter::cedar
