// Structural comparison of parsed policy sets, for the formatter and JSON-format round-trip tests.
#pragma once

#include <string>

#include "arbiter/cedar/internal/ast.h"
#include "arbiter/cedar/policy_set.h"

namespace arbiter::cedar::testing {

// Empty when the expressions are the same AST, else where they first differ.
inline std::string ExprDiff(const internal::Expr& a, const internal::Expr& b,
                            const std::string& where = "") {
  auto diff = [&](const std::string& what) { return where + ": " + what; };
  if (a.kind != b.kind)
    return diff("kind " + std::to_string(static_cast<int>(a.kind)) + " vs " +
                std::to_string(static_cast<int>(b.kind)));
  if (a.kind == internal::ExprKind::kVar && a.var != b.var) return diff("variable");
  if (a.kind == internal::ExprKind::kCall && a.fn != b.fn) return diff("function");
  if (a.kind == internal::ExprKind::kLit && (a.lit.kind() != b.lit.kind() || !(a.lit == b.lit))) {
    return diff("literal " + a.lit.ToString() + " vs " + b.lit.ToString());
  }
  if (a.name != b.name) return diff("name `" + a.name + "` vs `" + b.name + "`");
  if (a.keys != b.keys) return diff("record keys");
  if (a.pattern.size() != b.pattern.size()) return diff("pattern length");
  for (size_t i = 0; i < a.pattern.size(); ++i) {
    if (a.pattern[i].wildcard != b.pattern[i].wildcard || a.pattern[i].text != b.pattern[i].text) {
      return diff("pattern part " + std::to_string(i));
    }
  }
  if (a.kids.size() != b.kids.size()) return diff("operand count");
  for (size_t i = 0; i < a.kids.size(); ++i) {
    std::string d = ExprDiff(*a.kids[i], *b.kids[i], where + "/" + std::to_string(i));
    if (!d.empty()) return d;
  }
  return "";
}

inline bool SameScope(const internal::Scope& x, const internal::Scope& y) {
  using internal::ScopeKind;
  if (x.kind != y.kind || x.slot != y.slot || x.type != y.type || x.uids != y.uids) return false;
  bool has_uid = x.kind == ScopeKind::kEq || x.kind == ScopeKind::kIn || x.kind == ScopeKind::kIsIn;
  return !has_uid || x.slot || x.uid == y.uid;
}

// Empty when the two policies are the same (effect, annotations, scope, conditions; and the id
// unless `ignore_ids`).
inline std::string PolicyDiff(const Policy& a, const Policy& b, bool ignore_ids = false) {
  std::string p = "policy `" + a.id() + "`";
  if (!ignore_ids && a.id() != b.id()) return p + ": id vs `" + b.id() + "`";
  if (a.effect() != b.effect()) return p + ": effect";
  if (a.annotations() != b.annotations()) return p + ": annotations";
  if (a.is_template() != b.is_template()) return p + ": template";
  const internal::PolicyAst& x = a.ast();
  const internal::PolicyAst& y = b.ast();
  if (!SameScope(x.principal, y.principal)) return p + ": principal scope";
  if (!SameScope(x.action, y.action)) return p + ": action scope";
  if (!SameScope(x.resource, y.resource)) return p + ": resource scope";
  if (x.conditions.size() != y.conditions.size()) return p + ": condition count";
  for (size_t i = 0; i < x.conditions.size(); ++i) {
    if (x.conditions[i].is_when != y.conditions[i].is_when) return p + ": when/unless";
    std::string d = ExprDiff(*x.conditions[i].expr, *y.conditions[i].expr,
                             p + " condition " + std::to_string(i));
    if (!d.empty()) return d;
  }
  return "";
}

inline std::string PolicySetDiff(const PolicySet& a, const PolicySet& b, bool ignore_ids = false) {
  if (a.size() != b.size()) {
    return "policy count " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
  }
  for (size_t i = 0; i < a.size(); ++i) {
    // By position when ids are ignored; else by id (the JSON shape lists static policies first).
    const Policy* other = ignore_ids ? &b.policies()[i] : b.Find(a.policies()[i].id());
    if (!other) return "policy `" + a.policies()[i].id() + "` is missing";
    std::string d = PolicyDiff(a.policies()[i], *other, ignore_ids);
    if (!d.empty()) return d;
  }
  return "";
}

}  // namespace arbiter::cedar::testing
