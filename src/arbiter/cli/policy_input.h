// Loading the policy set a `cedar` command works on, the same way for every command.
//
//   ARBITER_TRY(cedar::PolicySet ps, LoadPolicySet({.policies = path, .links = links_path}));
//
// The policies are Cedar text or the JSON policy format (`{staticPolicies, templates,
// templateLinks}` or one policy object): JSON when the text starts with `{` after whitespace, which
// Cedar text never does. With `links`, a JSON file of template links (`[{templateId, newId,
// values}]` or an object with `templateLinks`) is applied on top. Errors are one line and name the
// file they are about.
#pragma once

#include <cstddef>
#include <string>

#include "arbiter/cedar/policy_set.h"
#include "arbiter/common/status.h"

namespace arbiter::cli {

struct PolicyInput {
  std::string policies;  // a path, or "-" for standard input
  std::string links;     // empty: no links
  size_t max_bytes = 64u << 20;
};

Result<cedar::PolicySet> LoadPolicySet(const PolicyInput& input);

// Help texts for the options that feed it, worded the same in every command.
inline constexpr const char* kPoliciesHelp =
    "policy file (Cedar text or the JSON policy format), or - for standard input";
inline constexpr const char* kLinksHelp =
    "template links as JSON: [{templateId, newId, values}] or an object with `templateLinks`";
inline constexpr const char* kSchemaHelp = "schema file (.cedarschema text or JSON)";

}  // namespace arbiter::cli
