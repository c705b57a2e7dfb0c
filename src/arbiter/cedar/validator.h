// Strict-mode validation (typechecking) of a Cedar policy set against a schema, as Cedar's
// validator defines it: unknown entity types, actions and enum ids; type errors; optional
// attributes read without `has` (facts tracked through `&&`, `||` and if-then-else); tags read
// without `hasTag`; extension-function arguments (constructors need valid literal arguments);
// strict least upper bounds (sets, `if` branches, `==`, `contains*` of mixed types are errors);
// policies whose scope matches no action of the schema; and entity dereference levels.
//
//   ARBITER_TRY(PolicySet policies, ParsePolicySet(text, "routing.cedar"));
//   ARBITER_TRY(Schema schema, ParseSchema(schema_text, "app.cedarschema"));
//   ValidationResult r = ValidatePolicies(policies, schema);
//   for (const ValidationIssue& e : r.errors) std::cerr << e.ToString() << "\n";
//   if (!r.ok()) ...
//
// Each policy is typechecked once per request environment the schema declares (every action with
// `appliesTo`, times its principal and resource types); the scope becomes part of the condition,
// so an environment whose scope can never match reports nothing. Templates are checked as Cedar
// does: in each environment a slot ranges over the entity types that can satisfy its constraint
// (`principal == ?principal`: the environment's principal type; `principal in ?principal`: that
// type and its ancestor types), so a slot constraint is never what makes a template fail. A linked
// policy is checked for what its slot values add: their entity types must exist (and enum ids be
// valid), and some action must still apply to the linked scope; the template's own errors are
// reported once, under the template's id.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "arbiter/cedar/policy_set.h"
#include "arbiter/cedar/schema.h"

namespace arbiter::cedar {

// The Cedar SDK release whose validator we follow where releases differ.
enum class ValidatorVersion {
  // Cedar 4.10 (the conformance corpus): a policy whose scope matches no action of the schema
  // ("unable to find an applicable action given the policy scope constraints") is an error.
  kCedar4_10,
  // Cedar 4.13: the same policy only draws a warning.
  kCedar4_13,
};

struct ValidationOptions {
  ValidatorVersion version = ValidatorVersion::kCedar4_10;
  // Level validation: at most this many entity dereferences (attribute, tag or `in` on an entity
  // reached through attributes) from a request variable or literal. nullopt: unlimited.
  std::optional<int> max_level;
};

struct ValidationIssue {
  std::string policy_id;
  // Where the problem is: the offending subexpression or scope constraint (line:column and byte
  // range in the policy text), or the policy's own span for problems of the whole policy (no
  // applicable action, impossible policy) and for policies without source text.
  SourceSpan span;
  std::string message;
  // "<policy_id> at <line>:<column>: <message>"
  std::string ToString() const;
};

struct ValidationResult {
  std::vector<ValidationIssue> errors;
  std::vector<ValidationIssue> warnings;
  bool ok() const { return errors.empty(); }
};

ValidationResult ValidatePolicies(const PolicySet& policies, const Schema& schema,
                                  const ValidationOptions& options = {});

}  // namespace arbiter::cedar
