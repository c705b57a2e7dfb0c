#include "arbiter/cedar/policy_set.h"

#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "arbiter/cedar/internal/ast.h"
#include "arbiter/cedar/internal/schema_data.h"
#include "arbiter/common/json.h"

namespace arbiter::cedar {

std::optional<std::optional<std::string>> Policy::annotation(std::string_view key) const {
  for (const auto& [k, v] : annotations_) {
    if (k == key) return v;
  }
  return std::nullopt;
}

bool Policy::has_principal_slot() const { return is_template_ && ast_->principal.slot; }
bool Policy::has_resource_slot() const { return is_template_ && ast_->resource.slot; }

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

  static Result<PolicySet> Link(const PolicySet& policies, const std::vector<TemplateLink>& links) {
    PolicySet set = policies;
    auto index = std::make_shared<internal::PolicyIndex>(policies.index());
    // Reserved first: `ids` views the policies' id strings, which must not move.
    set.policies_.reserve(set.policies_.size() + links.size());
    std::unordered_map<std::string_view, size_t> ids;
    for (size_t i = 0; i < set.policies_.size(); ++i) ids.emplace(set.policies_[i].id(), i);
    for (const TemplateLink& link : links) {
      auto fail = [&](const std::string& problem) {
        return internal::OneLine(
            Status::InvalidArgument("link `" + link.link_id + "`: " + problem));
      };
      auto t = ids.find(link.template_id);
      if (t == ids.end()) return fail("no template `" + link.template_id + "`");
      // Copied: `set.policies_` grows below.
      const Policy tmpl = set.policies_[t->second];
      if (!tmpl.is_template()) {
        return fail("`" + link.template_id + "` is a static policy, not a template");
      }
      if (link.link_id.empty()) return fail("the link id is empty");
      if (ids.count(link.link_id)) {
        const Policy& other = set.policies_[ids[link.link_id]];
        return fail(std::string("the id is already used by a ") +
                    (other.is_linked()     ? "linked policy"
                     : other.is_template() ? "template"
                                           : "static policy"));
      }
      auto check_slot = [&](const std::optional<EntityUid>& value, bool has,
                            std::string_view slot) -> Status {
        if (has && !value) {
          return fail("template `" + link.template_id + "` has a `?" + std::string(slot) +
                      "` slot but the link gives it no value");
        }
        if (!has && value) {
          return fail("template `" + link.template_id + "` has no `?" + std::string(slot) +
                      "` slot but the link gives it a value");
        }
        return Status::Ok();
      };
      ARBITER_RETURN_IF_ERROR(check_slot(link.principal, tmpl.has_principal_slot(), "principal"));
      ARBITER_RETURN_IF_ERROR(check_slot(link.resource, tmpl.has_resource_slot(), "resource"));

      Policy p = tmpl;
      p.id_ = link.link_id;
      p.is_template_ = false;
      p.template_id_ = link.template_id;
      p.linked_principal_ = link.principal;
      p.linked_resource_ = link.resource;
      p.index_ = set.policies_.size();
      auto ast = std::make_shared<internal::PolicyAst>(tmpl.ast());
      auto fill = [](internal::Scope* scope, const std::optional<EntityUid>& value) {
        if (!scope->slot) return;
        scope->slot = false;
        scope->uid = *value;
      };
      fill(&ast->principal, link.principal);
      fill(&ast->resource, link.resource);
      p.ast_ = std::move(ast);
      // The action scope of a template is never a slot; index as in Build.
      const internal::Scope& a = p.ast_->action;
      if (a.kind == internal::ScopeKind::kEq) {
        index->by_action[a.uid].push_back(p.index_);
      } else {
        index->other.push_back(p.index_);
      }
      set.policies_.push_back(std::move(p));
      ids.emplace(set.policies_.back().id(), set.policies_.back().index());
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

Result<PolicySet> LinkTemplates(const PolicySet& policies, const std::vector<TemplateLink>& links) {
  return PolicySetBuilder::Link(policies, links);
}

namespace {

Result<std::vector<TemplateLink>> TemplateLinksFromJson(const boost::json::value& doc) {
  const boost::json::array* array = doc.if_array();
  if (const boost::json::object* o = doc.if_object()) {
    const boost::json::value* links = o->if_contains("templateLinks");
    if (!links) return std::vector<TemplateLink>{};
    array = links->if_array();
  }
  if (!array) {
    return Status::InvalidArgument(
        "templateLinks: expected an array of links or an object with `templateLinks`");
  }
  std::vector<TemplateLink> out;
  out.reserve(array->size());
  for (size_t i = 0; i < array->size(); ++i) {
    std::string where = "templateLinks[" + std::to_string(i) + "]";
    const boost::json::object* o = (*array)[i].if_object();
    if (!o) return Status::InvalidArgument(where + ": expected an object");
    TemplateLink link;
    for (const auto& kv : *o) {
      std::string_view key = kv.key();
      if (key == "templateId" || key == "newId") {
        if (!kv.value().is_string()) {
          return Status::InvalidArgument(where + "." + std::string(key) + ": expected a string");
        }
        (key == "templateId" ? link.template_id : link.link_id) = kv.value().as_string();
      } else if (key == "values") {
        const boost::json::object* values = kv.value().if_object();
        if (!values) return Status::InvalidArgument(where + ".values: expected an object");
        for (const auto& slot : *values) {
          std::string slot_where = where + ".values[\"" + std::string(slot.key()) + "\"]";
          std::optional<EntityUid>* target = nullptr;
          if (slot.key() == "?principal") {
            target = &link.principal;
          } else if (slot.key() == "?resource") {
            target = &link.resource;
          } else {
            return Status::InvalidArgument(where + ".values: unknown slot `" +
                                           std::string(slot.key()) + "`");
          }
          ARBITER_TRY(EntityUid uid, internal::ParseUidJson(slot.value(), slot_where));
          *target = std::move(uid);
        }
      } else {
        return Status::InvalidArgument(where + ": unknown field `" + std::string(key) + "`");
      }
    }
    if (!o->contains("templateId"))
      return Status::InvalidArgument(where + ": missing `templateId`");
    if (!o->contains("newId")) return Status::InvalidArgument(where + ": missing `newId`");
    out.push_back(std::move(link));
  }
  return out;
}

}  // namespace

Result<std::vector<TemplateLink>> ParseTemplateLinksJson(std::string_view json,
                                                         std::string_view source_name) {
  std::string where = source_name.empty() ? "" : std::string(source_name) + ": ";
  auto doc = ParseJson(json, JsonLimits{8u << 20, 64});
  if (!doc) return internal::OneLine(Status(doc.error().code(), where + doc.error().message()));
  auto links = TemplateLinksFromJson(*doc);
  if (!links) {
    return internal::OneLine(Status(links.error().code(), where + links.error().message()));
  }
  return links;
}

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

namespace arbiter::cedar {
namespace {

void CollectString(const Value& v, std::unordered_set<std::string_view>& seen,
                   std::vector<Value>& out) {
  if (v.is(ValueKind::kString)) {
    if (seen.insert(v.as_string()).second) out.push_back(v);
  } else if (v.is(ValueKind::kSet)) {
    for (const Value& element : v.as_set().elements()) CollectString(element, seen, out);
  }
}

void CollectStringLiterals(const internal::Expr& e, std::unordered_set<std::string_view>& seen,
                           std::vector<Value>& out) {
  if (e.kind == internal::ExprKind::kLit) CollectString(e.lit, seen, out);
  for (const auto& kid : e.kids) CollectStringLiterals(*kid, seen, out);
}

}  // namespace

std::vector<Value> StringLiterals(const PolicySet& policies) {
  std::unordered_set<std::string_view> seen;
  std::vector<Value> out;
  for (const Policy& p : policies.policies()) {
    for (const internal::Condition& c : p.ast().conditions) {
      CollectStringLiterals(*c.expr, seen, out);
    }
  }
  return out;
}

}  // namespace arbiter::cedar
