// The Cedar policy formatter: a policy set's AST printed back as Cedar text in one canonical,
// readable layout. It is also the printer of the JSON-to-Cedar translation (policy_json.h).
//
//   ARBITER_TRY(PolicySet set, ParsePolicySet(text, "routing.cedar"));
//   std::string pretty = FormatPolicySet(set);
//
// Layout: annotations one per line; `permit (` with the principal, action and resource scope on
// their own lines indented by 2 and `)`; each `when { … }` / `unless { … }` on its own line, and
// when it does not fit in FormatOptions::width, its body broken after top-level `&&` / `||` (and
// inside parenthesised chains, indented by 2 more), one operand per line; policies separated by a
// blank line. Parentheses are the fewest that keep Cedar's precedence; strings are escaped as Cedar
// prints them (Rust's escape_debug: \n \r \t \0 \\ \" \' and \u{…} for other control characters).
//
// Contract (tested on the whole conformance corpus): the output re-parses to the same ASTs — the
// same policies, in order, with the same annotations — and formatting the output again changes
// nothing. FormatPolicySet knows no comments (the AST has none); FormatPolicySource keeps them.
// `has a.b` is printed as the conjunction it
// means, and valid extension constructors are printed in canonical form (`decimal("1.5")`).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "arbiter/cedar/policy_set.h"

namespace arbiter::cedar {

struct FormatOptions {
  size_t width = 80;  // a condition longer than this is broken over lines
};

// One policy, ending with `;` and no newline.
std::string FormatPolicy(const Policy& policy, const FormatOptions& options = {});
// All policies in order, separated by blank lines, ending with a newline ("" for an empty set).
// Template-linked policies are left out: Cedar text has no links (their templates are printed).
std::string FormatPolicySet(const PolicySet& set, const FormatOptions& options = {});
// The same for the policies parsed from `text` (`set` = ParsePolicySet(text)), keeping its `//`
// comments: those between policies are printed above the policy that follows them (one per line,
// a blank line between groups kept), one on the line where a policy ends stays after its `;`, and
// a policy with a comment inside it is printed as written. Formatting the output again changes
// nothing, and it re-parses to the same policies.
std::string FormatPolicySource(std::string_view text, const PolicySet& set,
                               const FormatOptions& options = {});

}  // namespace arbiter::cedar
