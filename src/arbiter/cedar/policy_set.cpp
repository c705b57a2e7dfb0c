#include "arbiter/cedar/policy_set.h"

#include <unordered_set>

#include "arbiter/cedar/internal/ast.h"

namespace arbiter::cedar {

std::optional<std::optional<std::string>> Policy::annotation(std::string_view key) const {
  for (const auto& [k, v] : annotations_) {
    if (k == key) return v;
  }
  return std::nullopt;
}

PolicySet::PolicySet() : index_(std::make_shared<internal::PolicyIndex>()) {}

const Policy* PolicySet::Find(std::string_view id) const {
  for (const Policy& p : policies_) {
    if (p.id() == id) return &p;
  }
  return nullptr;
}

class PolicySetBuilder {
 public:
  static Result<PolicySet> Build(std::vector<internal::ParsedPolicy> parsed,
                                 const PolicySetOptions& options, std::string_view source_name,
                                 const std::vector<std::string>* explicit_ids = nullptr) {
    PolicySet set;
    auto index = std::make_shared<internal::PolicyIndex>();
    std::unordered_set<std::string> ids;
    for (size_t i = 0; i < parsed.size(); ++i) {
      internal::ParsedPolicy& pp = parsed[i];
      Policy p;
      p.id_ = "policy" + std::to_string(i);
      if (explicit_ids) {
        p.id_ = (*explicit_ids)[i];
      } else if (!options.file_order_ids) {
        for (const auto& [k, v] : pp.annotations) {
          if (k == "id" && v) p.id_ = *v;
        }
      }
      if (!ids.insert(p.id_).second) {
        std::string where = source_name.empty() ? "" : std::string(source_name) + ":";
        return Status::InvalidArgument(where + std::to_string(pp.span.line) + ":" +
                                       std::to_string(pp.span.column) + ": duplicate policy id `" +
                                       p.id_ + "`");
      }
      p.effect_ = pp.effect;
      p.annotations_ = std::move(pp.annotations);
      p.span_ = pp.span;
      p.is_template_ = pp.is_template;
      p.index_ = i;
      if (!p.is_template_) {
        const internal::Scope& a = pp.ast->action;
        if (a.kind == internal::ScopeKind::kEq) {
          index->by_action[a.uid].push_back(i);
        } else {
          index->other.push_back(i);
        }
      }
      p.ast_ = std::move(pp.ast);
      set.policies_.push_back(std::move(p));
    }
    set.index_ = std::move(index);
    return set;
  }
};

namespace internal {
Result<PolicySet> BuildPolicySet(std::vector<ParsedPolicy> parsed,
                                 const std::vector<std::string>& ids,
                                 const PolicySetOptions& options, std::string_view source_name) {
  if (ids.size() != parsed.size()) return Status::Internal("policy ids do not match the policies");
  return PolicySetBuilder::Build(std::move(parsed), options, source_name, &ids);
}
}  // namespace internal

Result<PolicySet> ParsePolicySet(std::string_view text, std::string_view source_name) {
  return ParsePolicySet(text, source_name, PolicySetOptions{});
}

Result<PolicySet> ParsePolicySet(std::string_view text, std::string_view source_name,
                                 const PolicySetOptions& options) {
  std::vector<internal::ParsedPolicy> parsed;
  Status s = internal::ParsePolicies(text, source_name, options, &parsed);
  if (!s.ok()) return internal::OneLine(std::move(s));
  auto set = PolicySetBuilder::Build(std::move(parsed), options, source_name);
  if (!set) return internal::OneLine(set.error());
  return set;
}

}  // namespace arbiter::cedar
