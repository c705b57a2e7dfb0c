#include "arbiter/cli/policy_input.h"

#include <utility>

#include "arbiter/cedar/policy_json.h"
#include "arbiter/cedar/schema.h"
#include "arbiter/cli/input.h"

namespace arbiter::cli {

Result<cedar::PolicySet> LoadPolicySet(const PolicyInput& input) {
  ARBITER_TRY(std::string text, ReadInput(input.policies, input.max_bytes));
  // The JSON test is the schema's: both formats' human text never starts with `{`.
  ARBITER_TRY(cedar::PolicySet policies, cedar::IsJsonSchemaText(text)
                                             ? cedar::ParsePolicySetJson(text, input.policies)
                                             : cedar::ParsePolicySet(text, input.policies));
  if (input.links.empty()) return policies;
  ARBITER_TRY(std::string links_text, ReadInput(input.links, input.max_bytes));
  ARBITER_TRY(std::vector<cedar::TemplateLink> links,
              cedar::ParseTemplateLinksJson(links_text, input.links));
  auto linked = cedar::LinkTemplates(policies, links);
  if (!linked) return Status(linked.error().code(), input.links + ": " + linked.error().message());
  return linked;
}

}  // namespace arbiter::cli
