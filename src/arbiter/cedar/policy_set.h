// Cedar policy sets: parsing Cedar policy text (language 4.5) into an immutable, pre-indexed
// PolicySet that the authorizer evaluates.
//
//   ARBITER_TRY(PolicySet policies, ParsePolicySet(text, "routing.cedar"));
//   for (const Policy& p : policies.policies()) {
//     if (auto v = p.annotation("priority")) ...   // @priority("high")
//   }
//
// Parse errors are one line: "<source>:<line>:<column>: <problem>" (kInvalidArgument), or
// kResourceExhausted when the text is over PolicySetOptions::max_bytes or nests deeper than
// max_depth. No input crashes or hangs the parser.
//
// Templates (policies with `?principal` / `?resource` slots) are not evaluated themselves; linking
// one gives a policy with the slots filled in that the authorizer evaluates like a static one:
//
//   ARBITER_TRY(PolicySet linked,
//               LinkTemplates(policies, {{.template_id = "support-team",
//                                         .link_id = "support-team/eu",
//                                         .principal = EntityUid("Team", "eu")}}));
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "arbiter/cedar/value.h"
#include "arbiter/common/status.h"

namespace arbiter::cedar {

namespace internal {
struct PolicyAst;
struct PolicyIndex;
}  // namespace internal

enum class Effect : std::uint8_t { kPermit, kForbid };

// Where a policy sits in its source text (1-based line and column; byte offsets).
struct SourceSpan {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
  std::uint32_t begin = 0;  // byte offset of the first character (its first annotation)
  std::uint32_t end = 0;    // byte offset just past the closing `;`
};

class Policy {
 public:
  // `@id("x")` when present (unless file-order ids were asked for), else "policy<N>".
  const std::string& id() const { return id_; }
  Effect effect() const { return effect_; }
  // In source order; a key with no value (`@escalate`) maps to nullopt.
  const std::vector<std::pair<std::string, std::optional<std::string>>>& annotations() const {
    return annotations_;
  }
  // nullopt when the key is absent; an engaged optional holding nullopt when present without value.
  std::optional<std::optional<std::string>> annotation(std::string_view key) const;
  // The policy's span in its source; a linked policy has its template's span.
  const SourceSpan& span() const { return span_; }
  // A template has `?principal` or `?resource` slots. The authorizer skips templates; it evaluates
  // their linked policies (LinkTemplates).
  bool is_template() const { return is_template_; }
  // Which slots a template has (both false for static and linked policies).
  bool has_principal_slot() const;
  bool has_resource_slot() const;
  // A template-linked policy: its id is the link id, its effect, annotations, span and conditions
  // are the template's, and its scope has the slots replaced by the linked entities.
  bool is_linked() const { return !template_id_.empty(); }
  // The template a linked policy was made from (empty for static policies and templates).
  const std::string& template_id() const { return template_id_; }
  // The entities a linked policy put in its template's slots (nullopt for a slot the template
  // does not have).
  const std::optional<EntityUid>& linked_principal() const { return linked_principal_; }
  const std::optional<EntityUid>& linked_resource() const { return linked_resource_; }
  // The policy's position in the policy set (0-based): file order, then links in link order.
  size_t index() const { return index_; }

  const internal::PolicyAst& ast() const { return *ast_; }

 private:
  friend class PolicySetBuilder;
  std::string id_;
  Effect effect_ = Effect::kPermit;
  std::vector<std::pair<std::string, std::optional<std::string>>> annotations_;
  SourceSpan span_;
  bool is_template_ = false;
  size_t index_ = 0;
  std::string template_id_;
  std::optional<EntityUid> linked_principal_;
  std::optional<EntityUid> linked_resource_;
  std::shared_ptr<const internal::PolicyAst> ast_;
};

struct PolicySetOptions {
  // Ignore `@id` and number policies policy0, policy1, ... in file order (the conformance harness
  // does this).
  bool file_order_ids = false;
  size_t max_bytes = 8u << 20;  // policy text size
  size_t max_depth = 200;       // expression nesting
};

class PolicySet {
 public:
  PolicySet();
  // Static policies, templates and linked policies, in that order of arrival: the parsed text in
  // file order, then each LinkTemplates call's links in the order given.
  const std::vector<Policy>& policies() const { return policies_; }
  size_t size() const { return policies_.size(); }
  // The policy with this id, or nullptr.
  const Policy* Find(std::string_view id) const;

  const internal::PolicyIndex& index() const { return *index_; }

 private:
  friend class PolicySetBuilder;
  std::vector<Policy> policies_;
  std::shared_ptr<const internal::PolicyIndex> index_;
};

// The string literals in the policies' conditions (each distinct text once, as the policies hold
// it). A caller that builds its string values from these shares their storage, so that Cedar's
// `==` on an equal string compares one pointer (routing interns signal values this way).
std::vector<Value> StringLiterals(const PolicySet& policies);

// One template link, as in Cedar's `templateLinks` JSON (`{"templateId", "newId", "values":
// {"?principal": …, "?resource": …}}`): the template to link, the new policy's id, and one
// entity per slot of the template (exactly the template's slots).
struct TemplateLink {
  std::string template_id;
  std::string link_id;
  std::optional<EntityUid> principal;
  std::optional<EntityUid> resource;
};

// Returns `policies` plus one linked policy per link, appended in order. Errors (kInvalidArgument,
// one line naming the link id): the template does not exist, or is a static policy; the link id is
// already a policy, template or link id (or repeats within `links`); a slot of the template has
// no value, or a value is given for a slot the template does not have. Links are all-or-nothing.
Result<PolicySet> LinkTemplates(const PolicySet& policies, const std::vector<TemplateLink>& links);

// Parses template links from Cedar's JSON: an array of `{"templateId": "t", "newId": "l",
// "values": {"?principal": {"type": "User", "id": "alice"}, "?resource": …}}` (an entity may also
// be `{"__entity": {…}}`), or an object whose `templateLinks` member is that array (a policy set
// in the JSON shape). Errors are one line naming the element, e.g.
// "links.json: templateLinks[1].values: unknown slot `?owner`". At most 8 MiB of text.
Result<std::vector<TemplateLink>> ParseTemplateLinksJson(std::string_view json,
                                                         std::string_view source_name = "");

// Parses a whole policy set. Policy ids must be unique (a duplicate `@id` is an error).
Result<PolicySet> ParsePolicySet(std::string_view text, std::string_view source_name = "");
Result<PolicySet> ParsePolicySet(std::string_view text, std::string_view source_name,
                                 const PolicySetOptions& options);

}  // namespace arbiter::cedar
