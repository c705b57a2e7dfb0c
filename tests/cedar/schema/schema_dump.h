// A canonical text form of a resolved schema, for comparing schemas loaded from different
// formats: entity types (parents, attributes with required flags, tags, enum ids), actions
// (groups, appliesTo, context), everything sorted. An action without appliesTo and one with
// empty principal and resource lists are the same (neither applies to any request).
#pragma once

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "arbiter/cedar/internal/schema_data.h"
#include "arbiter/cedar/schema.h"

namespace arbiter::cedar::schema_testing {

inline std::string DumpType(const internal::SchemaType& t) {
  using K = internal::SchemaType::Kind;
  switch (t.kind) {
    case K::kBool: return "Bool";
    case K::kLong: return "Long";
    case K::kString: return "String";
    case K::kExtension: return "ext:" + t.name;
    case K::kEntity: return "entity:" + t.name;
    case K::kSet: return "Set<" + DumpType(*t.element) + ">";
    case K::kRecord: {
      std::string out = "{";
      for (const auto& [k, a] : t.attrs) {
        out += "\"" + k + "\"" + (a.required ? ":" : "?:") + DumpType(*a.type) + ",";
      }
      return out + "}";
    }
  }
  return "?";
}

inline std::string Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  std::string out = "[";
  for (const auto& s : v) out += s + ",";
  return out + "]";
}

inline std::string DumpSchema(const Schema& schema) {
  const internal::SchemaData& d = schema.data();
  std::string out;
  for (const std::string& name : schema.EntityTypeNames()) {
    const auto& e = d.entity_types.at(name);
    out += "entity " + name + " in " + Sorted(e.member_of) + " = " + DumpType(*e.attrs);
    if (e.tags) out += " tags " + DumpType(*e.tags);
    if (e.enum_ids) out += " enum " + Sorted(*e.enum_ids);
    out += "\n";
  }
  std::vector<std::string> actions;
  for (const auto& [uid, a] : d.actions) {
    std::vector<std::string> parents;
    for (const auto& p : a.parents) parents.push_back(p.ToString());
    actions.push_back("action " + uid.ToString() + " in " + Sorted(parents) + " principals " +
                      Sorted(a.principals) + " resources " + Sorted(a.resources) + " context " +
                      DumpType(*a.context) + "\n");
  }
  std::sort(actions.begin(), actions.end());
  for (const auto& a : actions) out += a;
  return out;
}

}  // namespace arbiter::cedar::schema_testing
