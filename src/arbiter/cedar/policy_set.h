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
  const SourceSpan& span() const { return span_; }
  // A template has `?principal` or `?resource` slots; templates are parsed but not evaluated until
  // linked (linking is not implemented yet), so the authorizer skips them.
  bool is_template() const { return is_template_; }
  // The policy's position in the file (0-based).
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

// Parses a whole policy set. Policy ids must be unique (a duplicate `@id` is an error).
Result<PolicySet> ParsePolicySet(std::string_view text, std::string_view source_name = "");
Result<PolicySet> ParsePolicySet(std::string_view text, std::string_view source_name,
                                 const PolicySetOptions& options);

}  // namespace arbiter::cedar
