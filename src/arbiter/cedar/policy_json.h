// Cedar's JSON policy format (the "EST", as in the Cedar reference "JSON policy format"): parsing
// it into the same PolicySet that Cedar text gives, and emitting a policy or a policy set as EST
// JSON.
//
//   ARBITER_TRY(PolicySet set, ParsePolicySetJson(text, "policies.json"));
//   ARBITER_TRY(boost::json::value est, PolicySetToJson(set));   // {"staticPolicies": ...}
//   std::string cedar = FormatPolicySet(set);                   // format.h: back to Cedar text
//
// Two input shapes are accepted: a policy set {"staticPolicies": {id: EST}, "templates": {id: EST},
// "templateLinks": [{"templateId", "newId", "values": {"?principal": entity, …}}]} (each key
// optional), or one EST policy object (it has "effect"), which gets the id `policy0`. Policy ids
// are the object keys. Every policy in "templates" is a template (never evaluated unlinked), even
// without slots; a static policy with a slot is an error. Links are applied with LinkTemplates
// (policy_set.h), so the set holds statics, templates, then linked policies.
//
// Errors are one line naming the policy and the JSON path of the problem, e.g.
//   policies.json: policy `p1`: /conditions/0/body/&&/left: unknown operator `foo`
// (kInvalidArgument), or kResourceExhausted when the input is over PolicySetOptions::max_bytes or
// an expression nests deeper than PolicySetOptions::max_depth. No input crashes the parser.
//
// The emitted EST is what Cedar 4.13 emits for the same policy (checked against cedar-wasm on the
// conformance corpus), except where the AST does not keep the source form: `e has a.b` is emitted
// as the conjunction it means (`e has a && e.a has b`); extension constructors applied to valid
// literals (folded at parse time) carry the canonical form of their argument (`decimal("1.50")` →
// {"decimal": [{"Value": "1.5"}]}); repeated `*` in a pattern is one wildcard; and `action in [A]`
// keeps its list ({"entities": [A]}, where Cedar writes {"entity": A}), so that cedar → JSON →
// cedar gives back the same AST.
#pragma once

#include <boost/json/value.hpp>

#include <string_view>

#include "arbiter/cedar/policy_set.h"
#include "arbiter/common/status.h"

namespace arbiter::cedar {

// Parses EST JSON text (a policy set or one policy).
Result<PolicySet> ParsePolicySetJson(std::string_view text, std::string_view source_name = "",
                                     const PolicySetOptions& options = {});
// The same from an already parsed JSON value.
Result<PolicySet> PolicySetFromJson(const boost::json::value& json,
                                    std::string_view source_name = "",
                                    const PolicySetOptions& options = {});

// One policy as an EST object {effect, principal, action, resource, conditions, annotations}.
Result<boost::json::value> PolicyToJson(const Policy& policy);
// The policy set as {"staticPolicies": {id: EST}, "templates": {id: EST}, "templateLinks": [...]}
// (linked policies are written as links to their templates).
Result<boost::json::value> PolicySetToJson(const PolicySet& set);

}  // namespace arbiter::cedar
