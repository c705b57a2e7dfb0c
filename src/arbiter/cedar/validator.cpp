// Strict-mode typechecking of Cedar policies. The rules follow Cedar's validator (4.10): each
// policy is typechecked in every request environment of the schema, with the scope folded into the
// condition as `((principal-scope && action-scope) && resource-scope) && conditions`, so that
// environments the scope excludes type as `false` and short-circuit without reporting errors.
#include "arbiter/cedar/validator.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "arbiter/cedar/internal/ast.h"
#include "arbiter/cedar/internal/schema_data.h"

namespace arbiter::cedar {
namespace {

using internal::Expr;
using internal::ExprKind;
using internal::ExtFn;
using internal::PolicyAst;
using internal::SchemaData;
using internal::SchemaType;
using internal::Scope;
using internal::ScopeKind;
using internal::Var;

// ---- types -----------------------------------------------------------------------------------

struct Type;
using TypeP = std::shared_ptr<const Type>;

struct AttrT {
  TypeP type;
  bool required = true;
};

struct Type {
  enum class Kind {
    kTrue,
    kFalse,
    kBool,
    kLong,
    kString,
    kSet,
    kEntity,
    kAnyEntity,
    kRecord,
    kExt
  };
  Kind kind = Kind::kBool;
  std::string name;                    // entity type or extension name
  TypeP elem;                          // kSet; nullptr for the empty set literal
  std::map<std::string, AttrT> attrs;  // kRecord (closed)
  // kEntity: the entity type's attribute record, resolved on first use by the Prepared schema
  // that made this Type (every entity Type comes from Prepared::EntityType), to skip the lookup
  // by name afterwards.
  mutable const Type* entity_attrs = nullptr;
};
using K = Type::Kind;

TypeP Make(K k, std::string name = "") {
  auto t = std::make_shared<Type>();
  t->kind = k;
  t->name = std::move(name);
  return t;
}
TypeP SetOf(TypeP elem) {
  auto t = std::make_shared<Type>();
  t->kind = K::kSet;
  t->elem = std::move(elem);
  return t;
}

const TypeP& TTrue() {
  static const TypeP t = Make(K::kTrue);
  return t;
}
const TypeP& TFalse() {
  static const TypeP t = Make(K::kFalse);
  return t;
}
const TypeP& TBool() {
  static const TypeP t = Make(K::kBool);
  return t;
}
const TypeP& TLong() {
  static const TypeP t = Make(K::kLong);
  return t;
}
const TypeP& TString() {
  static const TypeP t = Make(K::kString);
  return t;
}
const TypeP& TBoolOf(bool b) { return b ? TTrue() : TFalse(); }

// The extension types, shared (typechecking allocates no Type for them).
const TypeP& TExt(ValueKind k) {
  static const TypeP kDecimal = Make(K::kExt, "decimal");
  static const TypeP kIpAddr = Make(K::kExt, "ipaddr");
  static const TypeP kDatetime = Make(K::kExt, "datetime");
  static const TypeP kDuration = Make(K::kExt, "duration");
  switch (k) {
    case ValueKind::kIpAddr: return kIpAddr;
    case ValueKind::kDatetime: return kDatetime;
    case ValueKind::kDuration: return kDuration;
    default: return kDecimal;
  }
}

// A type by name: Bool, Long, String or an extension type (a Type of its own for other names).
TypeP NamedType(std::string_view n) {
  if (n == "Bool") return TBool();
  if (n == "Long") return TLong();
  if (n == "String") return TString();
  if (n == "decimal") return TExt(ValueKind::kDecimal);
  if (n == "ipaddr") return TExt(ValueKind::kIpAddr);
  if (n == "datetime") return TExt(ValueKind::kDatetime);
  if (n == "duration") return TExt(ValueKind::kDuration);
  return Make(K::kExt, std::string(n));
}

bool IsBoolKind(K k) { return k == K::kTrue || k == K::kFalse || k == K::kBool; }

std::string TypeName(const Type& t) {
  switch (t.kind) {
    case K::kTrue:
    case K::kFalse:
    case K::kBool: return "Bool";
    case K::kLong: return "Long";
    case K::kString: return "String";
    case K::kSet: return "Set<" + (t.elem ? TypeName(*t.elem) : std::string("?")) + ">";
    case K::kEntity: return t.name;
    case K::kAnyEntity: return "entity";
    case K::kExt: return t.name;
    case K::kRecord: {
      std::string out = "{";
      for (const auto& [k, a] : t.attrs) {
        if (out.size() > 1) out += ", ";
        out += k + (a.required ? ": " : "?: ") + TypeName(*a.type);
      }
      return out + "}";
    }
  }
  return "?";
}

// Strict least upper bound; nullptr when there is none.
TypeP Lub(const TypeP& a, const TypeP& b) {
  if (!a || !b) return nullptr;
  if (IsBoolKind(a->kind) && IsBoolKind(b->kind)) return a->kind == b->kind ? a : TBool();
  if (a->kind != b->kind) return nullptr;
  switch (a->kind) {
    case K::kLong:
    case K::kString:
    case K::kAnyEntity: return a;
    case K::kEntity:
    case K::kExt: return a->name == b->name ? a : nullptr;
    case K::kSet: {
      if (!a->elem) return b;
      if (!b->elem) return a;
      TypeP e = Lub(a->elem, b->elem);
      return e ? SetOf(e) : nullptr;
    }
    case K::kRecord: {
      if (a->attrs.size() != b->attrs.size()) return nullptr;
      auto out = std::make_shared<Type>();
      out->kind = K::kRecord;
      for (const auto& [k, av] : a->attrs) {
        auto it = b->attrs.find(k);
        if (it == b->attrs.end() || it->second.required != av.required) return nullptr;
        TypeP e = Lub(av.type, it->second.type);
        if (!e) return nullptr;
        out->attrs[k] = AttrT{e, av.required};
      }
      return out;
    }
    default: return nullptr;
  }
}

bool Disjoint(const Type& a, const Type& b) {
  if (a.kind == K::kEntity && b.kind == K::kEntity) return a.name != b.name;
  return (a.kind == K::kTrue && b.kind == K::kFalse) || (a.kind == K::kFalse && b.kind == K::kTrue);
}

bool IsActionType(std::string_view type) {
  return type == "Action" || (type.size() > 8 && type.substr(type.size() - 8) == "::Action");
}

// ---- structural expression equality (for `has` / `hasTag` facts) --------------------------------

bool SameExpr(const Expr& a, const Expr& b) {
  if (a.kind != b.kind || a.kids.size() != b.kids.size()) return false;
  switch (a.kind) {
    case ExprKind::kLit:
      if (!(a.lit == b.lit)) return false;
      break;
    case ExprKind::kVar:
      if (a.var != b.var) return false;
      break;
    case ExprKind::kCall:
      if (a.fn != b.fn) return false;
      break;
    case ExprKind::kLike:
      if (a.pattern.size() != b.pattern.size()) return false;
      for (size_t i = 0; i < a.pattern.size(); ++i) {
        if (a.pattern[i].wildcard != b.pattern[i].wildcard ||
            a.pattern[i].text != b.pattern[i].text) {
          return false;
        }
      }
      break;
    default: break;
  }
  if (a.name != b.name || a.keys != b.keys) return false;
  for (size_t i = 0; i < a.kids.size(); ++i) {
    if (!SameExpr(*a.kids[i], *b.kids[i])) return false;
  }
  return true;
}

// A fact learned from a `has` / `hasTag` test: `of.attr` (tag == nullptr) or `of.hasTag(tag)`.
struct Cap {
  const Expr* of;
  std::string_view attr;  // points into the policy's AST, which outlives the check
  const Expr* tag = nullptr;
};
using Caps = std::vector<Cap>;

bool CapsContain(const Caps& caps, const Expr& of, std::string_view attr) {
  for (const Cap& c : caps) {
    if (!c.tag && c.attr == attr && SameExpr(*c.of, of)) return true;
  }
  return false;
}
bool CapsContainTag(const Caps& caps, const Expr& of, const Expr& tag) {
  for (const Cap& c : caps) {
    if (c.tag && SameExpr(*c.of, of) && SameExpr(*c.tag, tag)) return true;
  }
  return false;
}
// `prior` plus `extra`, copied into `*storage` only when `extra` adds something.
const Caps& Extend(const Caps& prior, const Caps& extra, Caps* storage) {
  if (extra.empty()) return prior;
  if (prior.empty()) return extra;
  *storage = prior;
  storage->insert(storage->end(), extra.begin(), extra.end());
  return *storage;
}
// Appends `extra` to `*to`.
void Append(Caps* to, const Caps& extra) { to->insert(to->end(), extra.begin(), extra.end()); }

Caps Intersect(const Caps& a, const Caps& b) {
  Caps out;
  for (const Cap& c : a) {
    bool in_b = c.tag ? CapsContainTag(b, *c.of, *c.tag) : CapsContain(b, *c.of, c.attr);
    if (in_b) out.push_back(c);
  }
  return out;
}

// The result of typechecking an expression: its type (nullptr after an error), the facts that
// hold when it is true, and how many entity dereferences produced it (level validation).
struct Ans {
  TypeP type;
  Caps caps;
  int level = 0;
};

// ---- the schema, prepared for typechecking -----------------------------------------------------

struct Env {
  std::string principal;
  EntityUid action;
  std::string resource;
  TypeP context;
  // The entity types of the three variables (Prepared's cached types).
  TypeP principal_type;
  TypeP action_type;
  TypeP resource_type;
};

class Prepared {
 public:
  explicit Prepared(const SchemaData& d) : data_(d) {
    // descendants_[T]: the entity types that may be `in` T (T itself included).
    for (const auto& [name, def] : d.entity_types) descendants_[name].insert(name);
    bool changed = true;
    for (const auto& [name, def] : d.entity_types) {
      for (const std::string& p : def.member_of) descendants_[p].insert(name);
    }
    while (changed) {
      changed = false;
      for (auto& [anc, set] : descendants_) {
        std::vector<std::string> add;
        for (const std::string& t : set) {
          auto it = descendants_.find(t);
          if (it == descendants_.end() || &it->second == &set) continue;
          for (const std::string& u : it->second) {
            if (!set.count(u)) add.push_back(u);
          }
        }
        for (auto& u : add) changed |= set.insert(u).second;
      }
    }
    // Action ancestors (reflexive, transitive).
    for (const EntityUid& a : d.action_order) {
      std::vector<EntityUid> stack{a};
      auto& anc = action_ancestors_[a];
      while (!stack.empty()) {
        EntityUid u = stack.back();
        stack.pop_back();
        if (!anc.insert(u).second) continue;
        auto it = d.actions.find(u);
        if (it != d.actions.end()) {
          for (const EntityUid& p : it->second.parents) stack.push_back(p);
        }
      }
    }
    for (const EntityUid& a : d.action_order) {
      const internal::ActionDef& def = d.actions.at(a);
      if (!def.has_applies_to) continue;
      TypeP ctx = def.context ? FromSchema(*def.context) : Make(K::kRecord);
      for (const std::string& p : def.principals) {
        for (const std::string& r : def.resources) {
          envs_.push_back(Env{p, a, r, ctx, EntityType(p), EntityType(a.type()), EntityType(r)});
        }
      }
    }
  }

  const SchemaData& data() const { return data_; }
  const std::vector<Env>& envs() const { return envs_; }

  bool MayBeIn(const std::string& lhs, const std::string& rhs) const {
    auto it = descendants_.find(rhs);
    if (it != descendants_.end() && it->second.count(lhs)) return true;
    if (lhs == rhs) return true;
    // Action hierarchy: some action of type `rhs` has a descendant of type `lhs`.
    for (const auto& [a, anc] : action_ancestors_) {
      if (a.type() != lhs) continue;
      for (const EntityUid& x : anc) {
        if (x.type() == rhs) return true;
      }
    }
    return false;
  }
  bool ActionIn(const EntityUid& a, const EntityUid& group) const {
    auto it = action_ancestors_.find(a);
    return it != action_ancestors_.end() && it->second.count(group);
  }
  bool HasAction(const EntityUid& a) const { return data_.actions.count(a) > 0; }

  TypeP FromSchema(const SchemaType& s) const {
    switch (s.kind) {
      case SchemaType::Kind::kBool: return TBool();
      case SchemaType::Kind::kLong: return TLong();
      case SchemaType::Kind::kString: return TString();
      case SchemaType::Kind::kEntity: return EntityType(s.name);
      case SchemaType::Kind::kExtension: return NamedType(s.name);
      case SchemaType::Kind::kSet: return SetOf(s.element ? FromSchema(*s.element) : nullptr);
      case SchemaType::Kind::kRecord: {
        auto t = std::make_shared<Type>();
        t->kind = K::kRecord;
        for (const auto& [k, a] : s.attrs) {
          t->attrs[k] = AttrT{a.type ? FromSchema(*a.type) : nullptr, a.required};
        }
        return t;
      }
    }
    return nullptr;
  }

  // The attributes of an entity type (empty for actions and unknown types), cached.
  // The attributes of an entity type made by EntityType (never nullptr).
  const Type* EntityAttrs(const Type& entity) const {
    if (!entity.entity_attrs) entity.entity_attrs = EntityAttrs(entity.name).get();
    return entity.entity_attrs;
  }
  TypeP EntityAttrs(const std::string& type) const {
    auto it = attr_cache_.find(type);
    if (it != attr_cache_.end()) return it->second;
    TypeP t = Make(K::kRecord);
    auto def = data_.entity_types.find(type);
    if (def != data_.entity_types.end() && def->second.attrs) t = FromSchema(*def->second.attrs);
    attr_cache_[type] = t;
    return t;
  }
  // nullptr when the type has no tags (cached).
  TypeP TagType(const std::string& type) const {
    auto it = tag_cache_.find(type);
    if (it != tag_cache_.end()) return it->second;
    TypeP t;
    auto def = data_.entity_types.find(type);
    if (def != data_.entity_types.end() && def->second.tags) t = FromSchema(*def->second.tags);
    tag_cache_[type] = t;
    return t;
  }
  // The entity type `type` (cached, so that typechecking allocates little).
  TypeP EntityType(const std::string& type) const {
    auto it = entity_cache_.find(type);
    if (it != entity_cache_.end()) return it->second;
    TypeP t = Make(K::kEntity, type);
    entity_cache_[type] = t;
    return t;
  }

 private:
  const SchemaData& data_;
  std::unordered_map<std::string, std::set<std::string>> descendants_;
  std::unordered_map<EntityUid, std::unordered_set<EntityUid, EntityUidHash>, EntityUidHash>
      action_ancestors_;
  std::vector<Env> envs_;
  mutable std::unordered_map<std::string, TypeP> attr_cache_;
  mutable std::unordered_map<std::string, TypeP> tag_cache_;
  mutable std::unordered_map<std::string, TypeP> entity_cache_;
};

// ---- extension functions -----------------------------------------------------------------------

struct FnSig {
  const char* name;
  std::vector<const char*> args;  // "String", or an extension type name; receiver first
  const char* ret;                // "Bool", "Long", or an extension type name
  bool constructor;
};

const FnSig& Signature(ExtFn fn) {
  static const std::map<ExtFn, FnSig> kSigs = {
      {ExtFn::kDecimal, {"decimal", {"String"}, "decimal", true}},
      {ExtFn::kIp, {"ip", {"String"}, "ipaddr", true}},
      {ExtFn::kDatetime, {"datetime", {"String"}, "datetime", true}},
      {ExtFn::kDuration, {"duration", {"String"}, "duration", true}},
      {ExtFn::kLessThan, {"lessThan", {"decimal", "decimal"}, "Bool", false}},
      {ExtFn::kLessThanOrEqual, {"lessThanOrEqual", {"decimal", "decimal"}, "Bool", false}},
      {ExtFn::kGreaterThan, {"greaterThan", {"decimal", "decimal"}, "Bool", false}},
      {ExtFn::kGreaterThanOrEqual, {"greaterThanOrEqual", {"decimal", "decimal"}, "Bool", false}},
      {ExtFn::kIsIpv4, {"isIpv4", {"ipaddr"}, "Bool", false}},
      {ExtFn::kIsIpv6, {"isIpv6", {"ipaddr"}, "Bool", false}},
      {ExtFn::kIsLoopback, {"isLoopback", {"ipaddr"}, "Bool", false}},
      {ExtFn::kIsMulticast, {"isMulticast", {"ipaddr"}, "Bool", false}},
      {ExtFn::kIsInRange, {"isInRange", {"ipaddr", "ipaddr"}, "Bool", false}},
      {ExtFn::kOffset, {"offset", {"datetime", "duration"}, "datetime", false}},
      {ExtFn::kDurationSince, {"durationSince", {"datetime", "datetime"}, "duration", false}},
      {ExtFn::kToDate, {"toDate", {"datetime"}, "datetime", false}},
      {ExtFn::kToTime, {"toTime", {"datetime"}, "duration", false}},
      {ExtFn::kToMilliseconds, {"toMilliseconds", {"duration"}, "Long", false}},
      {ExtFn::kToSeconds, {"toSeconds", {"duration"}, "Long", false}},
      {ExtFn::kToMinutes, {"toMinutes", {"duration"}, "Long", false}},
      {ExtFn::kToHours, {"toHours", {"duration"}, "Long", false}},
      {ExtFn::kToDays, {"toDays", {"duration"}, "Long", false}},
  };
  return kSigs.at(fn);
}

Status ParseExtLiteral(ExtFn fn, std::string_view text) {
  Result<Value> v = Status::Ok();
  switch (fn) {
    case ExtFn::kDecimal: v = Value::ParseDecimal(text); break;
    case ExtFn::kIp: v = Value::ParseIpAddr(text); break;
    case ExtFn::kDatetime: v = Value::ParseDatetime(text); break;
    case ExtFn::kDuration: v = Value::ParseDuration(text); break;
    default: return Status::Ok();
  }
  return v ? Status::Ok() : v.error();
}

// ---- typechecking in one environment ------------------------------------------------------------

// One problem found in a policy, at bytes [begin, end) of its text (0, 0: the policy as a whole).
struct Issue {
  std::uint32_t begin = 0;
  std::uint32_t end = 0;
  std::string message;
};

constexpr int kMaxDepth = 256;  // the parser bounds nesting at 200 by default

class Checker {
 public:
  Checker(const Prepared& s, const Env& env, const ValidationOptions& o, std::vector<Issue>* errors)
      : s_(s), env_(env), options_(o), errors_(errors) {}

  // The type of the whole policy in this environment (nullptr after an error).
  TypeP CheckPolicy(const PolicyAst& ast) {
    At(ast.principal.begin, ast.principal.end);
    TypeP p = ScopeType(ast.principal, env_.principal);
    if (p && p->kind == K::kFalse) return TFalse();
    At(ast.action.begin, ast.action.end);
    TypeP a = ActionScopeType(ast.action);
    TypeP pa = And(p, a);
    if (pa && pa->kind == K::kFalse) return TFalse();
    At(ast.resource.begin, ast.resource.end);
    TypeP r = ScopeType(ast.resource, env_.resource);
    TypeP par = And(pa, r);
    if (par && par->kind == K::kFalse) return TFalse();
    // Conditions, left to right, with facts flowing through `&&`.
    Caps caps;
    TypeP body = TTrue();
    for (const internal::Condition& c : ast.conditions) {
      Ans x = c.is_when ? ExpectBool(*c.expr, caps) : Not(*c.expr, caps);
      if (!x.type) {
        body = nullptr;
        continue;
      }
      if (x.type->kind == K::kFalse) return body ? TFalse() : nullptr;
      Append(&caps, x.caps);
      body = And(body, x.type);
    }
    return And(par, body);
  }

 private:
  // Errors are located at the expression being checked (Check sets it), or at `at` explicitly.
  void Error(std::string m) { errors_->push_back(Issue{at_begin_, at_end_, std::move(m)}); }
  void ErrorAt(const Expr& at, std::string m) {
    errors_->push_back(Issue{at.begin, at.end, std::move(m)});
  }
  void At(std::uint32_t begin, std::uint32_t end) {
    at_begin_ = begin;
    at_end_ = end;
  }

  static TypeP And(const TypeP& a, const TypeP& b) {
    if (!a || !b) return nullptr;
    if (a->kind == K::kFalse || b->kind == K::kFalse) return TFalse();
    if (a->kind == K::kTrue) return b;
    if (b->kind == K::kTrue) return a;
    return TBool();
  }

  TypeP ScopeType(const Scope& sc, const std::string& var_type) {
    switch (sc.kind) {
      case ScopeKind::kAny: return TTrue();
      case ScopeKind::kEq:
        if (sc.slot) return TBool();
        if (!LiteralType(sc.uid)) return nullptr;
        return sc.uid.type() == var_type ? TBool() : TFalse();
      case ScopeKind::kIn:
        if (sc.slot) return TBool();
        if (!LiteralType(sc.uid)) return nullptr;
        return s_.MayBeIn(var_type, sc.uid.type()) ? TBool() : TFalse();
      case ScopeKind::kIs: return TBoolOf(sc.type == var_type);
      case ScopeKind::kIsIn: {
        if (sc.type != var_type) return TFalse();
        if (sc.slot) return TBool();
        if (!LiteralType(sc.uid)) return nullptr;
        return s_.MayBeIn(var_type, sc.uid.type()) ? TBool() : TFalse();
      }
      case ScopeKind::kInSet: return TBool();
    }
    return TBool();
  }

  TypeP ActionScopeType(const Scope& sc) {
    switch (sc.kind) {
      case ScopeKind::kAny: return TTrue();
      case ScopeKind::kEq:
        if (!LiteralType(sc.uid)) return nullptr;
        return TBoolOf(sc.uid == env_.action);
      case ScopeKind::kIn:
        if (!IsActionType(sc.uid.type())) return TFalse();
        if (!s_.HasAction(sc.uid)) return nullptr;
        return TBoolOf(s_.ActionIn(env_.action, sc.uid));
      case ScopeKind::kInSet: {
        TypeP elem;
        for (const EntityUid& u : sc.uids) {
          TypeP t = LiteralType(u);
          if (!t) return nullptr;
          TypeP l = elem ? Lub(elem, t) : t;
          if (!l) {
            Error("incompatible types in the action set: " + TypeName(*elem) + " and " +
                  TypeName(*t));
            return nullptr;
          }
          elem = l;
        }
        if (sc.uids.empty()) {
          Error("empty set literals are not allowed in strict validation");
          return nullptr;
        }
        bool any_action = false, found = false;
        for (const EntityUid& u : sc.uids) {
          if (!IsActionType(u.type())) continue;
          any_action = true;
          if (!s_.HasAction(u)) return nullptr;
          found |= s_.ActionIn(env_.action, u);
        }
        return any_action ? TBoolOf(found) : TFalse();
      }
      default: return TBool();
    }
  }

  // The type of an entity literal; nullptr (no error: a separate pass reports it) when its type or
  // action is not in the schema.
  TypeP LiteralType(const EntityUid& uid) {
    if (IsActionType(uid.type())) {
      if (s_.HasAction(uid)) return s_.EntityType(uid.type());
      if (!s_.data().entity_types.count(uid.type())) return nullptr;
    }
    if (!s_.data().entity_types.count(uid.type())) return nullptr;
    return s_.EntityType(uid.type());
  }

  TypeP VarType(Var v) {
    switch (v) {
      case Var::kPrincipal: return env_.principal_type;
      case Var::kAction: return env_.action_type;
      case Var::kResource: return env_.resource_type;
      case Var::kContext: return env_.context;
    }
    return nullptr;
  }

  // The expression as an entity uid literal (the `action` variable is the environment's action).
  std::optional<EntityUid> AsUid(const Expr& e) {
    if (e.kind == ExprKind::kVar && e.var == Var::kAction) return env_.action;
    if (e.kind == ExprKind::kLit && e.lit.is(ValueKind::kEntity)) return e.lit.as_entity();
    return std::nullopt;
  }
  // A literal value, with the `action` variable replaced by the environment's action.
  std::optional<Value> AsLiteral(const Expr& e) {
    if (e.kind == ExprKind::kVar && e.var == Var::kAction) return Value::Entity(env_.action);
    // Only what Cedar's AST calls literals: folded extension constructors, sets and records are
    // not, so `decimal("1") == decimal("1")` types as Bool, not as true.
    if (e.kind == ExprKind::kLit &&
        (e.lit.is(ValueKind::kBool) || e.lit.is(ValueKind::kLong) || e.lit.is(ValueKind::kString) ||
         e.lit.is(ValueKind::kEntity))) {
      return e.lit;
    }
    return std::nullopt;
  }

  // The type of a value the parser folded into a literal (an extension constructor of a valid
  // literal, possibly a set or record of literals).
  TypeP ValueType(const Value& v) {
    switch (v.kind()) {
      case ValueKind::kBool: return TBoolOf(v.as_bool());
      case ValueKind::kLong: return TLong();
      case ValueKind::kString: return TString();
      case ValueKind::kEntity: return LiteralType(v.as_entity());
      case ValueKind::kDecimal:
      case ValueKind::kIpAddr:
      case ValueKind::kDatetime:
      case ValueKind::kDuration: return TExt(v.kind());
      case ValueKind::kSet: {
        if (v.as_set().empty()) {
          Error("empty set literals are not allowed in strict validation");
          return nullptr;
        }
        TypeP lub;
        for (const Value& el : v.as_set().elements()) {
          TypeP t = ValueType(el);
          if (!t) return nullptr;
          TypeP l = lub ? Lub(lub, t) : t;
          if (!l) {
            Error("incompatible types in a set literal: " + TypeName(*lub) + " and " +
                  TypeName(*t));
            return nullptr;
          }
          lub = l;
        }
        return SetOf(lub);
      }
      case ValueKind::kRecord: {
        auto rec = std::make_shared<Type>();
        rec->kind = K::kRecord;
        for (const auto& [k, fv] : v.as_record().fields()) {
          TypeP t = ValueType(fv);
          if (!t) return nullptr;
          rec->attrs[k] = AttrT{t, true};
        }
        return rec;
      }
    }
    return nullptr;
  }

  Ans Fail(Ans a) {
    a.type = nullptr;
    a.caps.clear();
    return a;
  }

  void Expected(const Expr& at, const char* what, const Type& actual) {
    ErrorAt(at, std::string("expected ") + what + ", found " + TypeName(actual));
  }

  Ans ExpectBool(const Expr& e, const Caps& prior) {
    Ans a = Check(e, prior);
    if (a.type && !IsBoolKind(a.type->kind)) {
      Expected(e, "Bool", *a.type);
      return Fail(a);
    }
    return a;
  }
  Ans ExpectKind(const Expr& e, const Caps& prior, K k, const char* what) {
    Ans a = Check(e, prior);
    if (a.type && a.type->kind != k) {
      Expected(e, what, *a.type);
      return Fail(a);
    }
    return a;
  }
  Ans ExpectEntity(const Expr& e, const Caps& prior) {
    Ans a = Check(e, prior);
    if (a.type && a.type->kind != K::kEntity && a.type->kind != K::kAnyEntity) {
      Expected(e, "an entity", *a.type);
      return Fail(a);
    }
    return a;
  }
  Ans ExpectNamed(const Expr& e, const Caps& prior, const TypeP& want) {
    Ans a = Check(e, prior);
    if (a.type && !(a.type->kind == want->kind && a.type->name == want->name)) {
      Expected(e, TypeName(*want).c_str(), *a.type);
      return Fail(a);
    }
    return a;
  }

  Ans Not(const Expr& e, const Caps& prior) {
    Ans a = ExpectBool(e, prior);
    if (!a.type) return a;
    Ans out;
    out.type = a.type->kind == K::kTrue ? TFalse() : a.type->kind == K::kFalse ? TTrue() : TBool();
    return out;
  }

  // Level validation: dereferencing an entity reached through `level` dereferences.
  void Deref(const Ans& a, const char* what) {
    if (options_.max_level && a.level + 1 > *options_.max_level) {
      Error(std::string(what) + " needs entity dereference level " + std::to_string(a.level + 1) +
            ", over the maximum of " + std::to_string(*options_.max_level));
    }
  }

  Ans Check(const Expr& e, const Caps& prior) {
    if (++depth_ > kMaxDepth) {
      --depth_;
      Error("expression nests too deeply to validate");
      return Ans{};
    }
    std::uint32_t outer_begin = at_begin_, outer_end = at_end_;
    At(e.begin, e.end);
    Ans a = CheckInner(e, prior);
    At(outer_begin, outer_end);
    --depth_;
    return a;
  }

  Ans CheckInner(const Expr& e, const Caps& prior) {
    Ans out;
    switch (e.kind) {
      case ExprKind::kLit:
        switch (e.lit.kind()) {
          case ValueKind::kBool: out.type = TBoolOf(e.lit.as_bool()); break;
          case ValueKind::kLong: out.type = TLong(); break;
          case ValueKind::kString: out.type = TString(); break;
          default: out.type = ValueType(e.lit); break;
        }
        return out;
      case ExprKind::kVar: out.type = VarType(e.var); return out;
      case ExprKind::kNot: return Not(*e.kids[0], prior);
      case ExprKind::kNeg: {
        if (ExpectKind(*e.kids[0], prior, K::kLong, "Long").type) out.type = TLong();
        return out;
      }
      case ExprKind::kIf: {
        Ans c = ExpectBool(*e.kids[0], prior);
        Caps storage;
        if (c.type && c.type->kind == K::kTrue) {
          Ans t = Check(*e.kids[1], Extend(prior, c.caps, &storage));
          Append(&t.caps, c.caps);
          return t;
        }
        if (c.type && c.type->kind == K::kFalse) return Check(*e.kids[2], prior);
        Ans t = Check(*e.kids[1], Extend(prior, c.caps, &storage));
        Ans f = Check(*e.kids[2], prior);
        if (!t.type || !f.type) return out;
        out.type = Lub(t.type, f.type);
        if (!out.type) {
          Error("incompatible types in the branches of `if`: " + TypeName(*t.type) + " and " +
                TypeName(*f.type));
          return out;
        }
        Append(&t.caps, c.caps);
        out.caps = Intersect(t.caps, f.caps);
        out.level = std::max(t.level, f.level);
        return out;
      }
      case ExprKind::kAnd: {
        Ans l = ExpectBool(*e.kids[0], prior);
        if (l.type && l.type->kind == K::kFalse) return l;
        Caps storage;
        Ans r = ExpectBool(*e.kids[1], Extend(prior, l.caps, &storage));
        if (!l.type || !r.type) return out;
        if (r.type->kind == K::kFalse) {
          out.type = TFalse();
          return out;
        }
        out.caps = std::move(l.caps);
        Append(&out.caps, r.caps);
        out.type = r.type->kind == K::kTrue ? l.type : l.type->kind == K::kTrue ? r.type : TBool();
        return out;
      }
      case ExprKind::kOr: {
        Ans l = ExpectBool(*e.kids[0], prior);
        if (l.type && l.type->kind == K::kTrue) return l;
        Ans r = ExpectBool(*e.kids[1], prior);
        if (!l.type || !r.type) return out;
        if (r.type->kind == K::kTrue) return r;
        if (r.type->kind == K::kFalse) return l;
        if (l.type->kind == K::kFalse) return r;
        out.type = TBool();
        out.caps = Intersect(r.caps, l.caps);
        return out;
      }
      case ExprKind::kEq:
      case ExprKind::kNe: {
        Ans l = Check(*e.kids[0], prior);
        Ans r = Check(*e.kids[1], prior);
        if (!l.type || !r.type) return out;
        TypeP t;
        if (Disjoint(*l.type, *r.type)) {
          t = TFalse();
        } else {
          auto lv = AsLiteral(*e.kids[0]);
          auto rv = AsLiteral(*e.kids[1]);
          t = lv && rv ? TBoolOf(*lv == *rv) : TBool();
        }
        if (t->kind == K::kBool && !Lub(l.type, r.type)) {
          Error("incompatible types in `==`: " + TypeName(*l.type) + " and " + TypeName(*r.type));
          return out;
        }
        if (e.kind == ExprKind::kNe) {
          t = t->kind == K::kTrue ? TFalse() : t->kind == K::kFalse ? TTrue() : TBool();
        }
        out.type = t;
        return out;
      }
      case ExprKind::kLt:
      case ExprKind::kLe:
      case ExprKind::kGt:
      case ExprKind::kGe: {
        Ans l = Check(*e.kids[0], prior);
        Ans r = Check(*e.kids[1], prior);
        if (!l.type || !r.type) return out;
        auto comparable = [](const Type& t) {
          return t.kind == K::kLong ||
                 (t.kind == K::kExt && (t.name == "datetime" || t.name == "duration"));
        };
        if (!comparable(*l.type) || !comparable(*r.type) || l.type->kind != r.type->kind ||
            l.type->name != r.type->name) {
          Error(
              "comparison needs two Long, datetime or duration operands of the same type, found " +
              TypeName(*l.type) + " and " + TypeName(*r.type));
          return out;
        }
        out.type = TBool();
        return out;
      }
      case ExprKind::kAdd:
      case ExprKind::kSub:
      case ExprKind::kMul: {
        Ans l = ExpectKind(*e.kids[0], prior, K::kLong, "Long");
        Ans r = ExpectKind(*e.kids[1], prior, K::kLong, "Long");
        if (!l.type || !r.type) return out;
        out.type = TLong();
        return out;
      }
      case ExprKind::kIn: return CheckIn(e, prior);
      case ExprKind::kHas: {
        Ans a = Check(*e.kids[0], prior);
        if (!a.type) return out;
        const Type* rec = nullptr;
        bool is_record = a.type->kind == K::kRecord;
        if (is_record) {
          rec = a.type.get();
        } else if (a.type->kind == K::kEntity) {
          Deref(a, "`has`");
          rec = s_.EntityAttrs(*a.type);
        } else if (a.type->kind == K::kAnyEntity) {
          out.type = TBool();
          return out;
        } else {
          Expected(*e.kids[0], "an entity or a record", *a.type);
          return out;
        }
        auto it = rec->attrs.find(e.name);
        if (it == rec->attrs.end()) {
          out.type = TFalse();
          return out;
        }
        bool known = CapsContain(prior, *e.kids[0], e.name);
        out.type = (known || (it->second.required && is_record)) ? TTrue() : TBool();
        out.caps.push_back(Cap{e.kids[0].get(), e.name, nullptr});
        return out;
      }
      case ExprKind::kGetAttr: {
        Ans a = Check(*e.kids[0], prior);
        if (!a.type) return out;
        const Type* rec = nullptr;
        // Named only in errors, so built only then.
        auto owner = [&] {
          return a.type->kind == K::kRecord ? std::string("the record") : "`" + a.type->name + "`";
        };
        if (a.type->kind == K::kRecord) {
          rec = a.type.get();
          out.level = a.level;
        } else if (a.type->kind == K::kEntity) {
          Deref(a, "attribute access");
          rec = s_.EntityAttrs(*a.type);
          out.level = a.level + 1;
        } else if (a.type->kind == K::kAnyEntity) {
          Error("attribute `" + e.name + "` is read from an entity of unknown type");
          return out;
        } else {
          Expected(*e.kids[0], "an entity or a record", *a.type);
          return out;
        }
        auto it = rec->attrs.find(e.name);
        if (it == rec->attrs.end()) {
          Error("attribute `" + e.name + "` not found on " + owner());
          return out;
        }
        if (!it->second.required && !CapsContain(prior, *e.kids[0], e.name)) {
          Error("attribute `" + e.name + "` of " + owner() +
                " is optional; test it with `has` before reading it");
          return out;
        }
        out.type = it->second.type;
        return out;
      }
      case ExprKind::kLike: {
        Ans a = ExpectKind(*e.kids[0], prior, K::kString, "String");
        if (a.type) out.type = TBool();
        return out;
      }
      case ExprKind::kIs: {
        Ans a = ExpectEntity(*e.kids[0], prior);
        if (!a.type) return out;
        out.type = a.type->kind == K::kAnyEntity ? TBool() : TBoolOf(a.type->name == e.name);
        return out;
      }
      case ExprKind::kIsIn: {
        Ans a = ExpectEntity(*e.kids[0], prior);
        Ans in = CheckIn(e, prior);
        if (!a.type) return out;
        TypeP is = a.type->kind == K::kAnyEntity ? TBool() : TBoolOf(a.type->name == e.name);
        if (is->kind == K::kFalse) {
          out.type = TFalse();
          return out;
        }
        out.type = And(is, in.type);
        return out;
      }
      case ExprKind::kContains: {
        Ans l = ExpectKind(*e.kids[0], prior, K::kSet, "a set");
        Ans r = Check(*e.kids[1], prior);
        if (!l.type || !r.type) {
          if (l.type) out.type = TBool();
          return out;
        }
        if (l.type->elem && !Lub(l.type->elem, r.type)) {
          Error("incompatible types in `contains`: " + TypeName(*l.type) + " and " +
                TypeName(*r.type));
          return out;
        }
        out.type = TBool();
        return out;
      }
      case ExprKind::kContainsAll:
      case ExprKind::kContainsAny: {
        Ans l = ExpectKind(*e.kids[0], prior, K::kSet, "a set");
        Ans r = ExpectKind(*e.kids[1], prior, K::kSet, "a set");
        if (!l.type || !r.type) return out;
        if (!Lub(l.type, r.type)) {
          Error("incompatible types in `containsAll`/`containsAny`: " + TypeName(*l.type) +
                " and " + TypeName(*r.type));
          return out;
        }
        out.type = TBool();
        return out;
      }
      case ExprKind::kIsEmpty: {
        Ans a = ExpectKind(*e.kids[0], prior, K::kSet, "a set");
        if (a.type) out.type = TBool();
        return out;
      }
      case ExprKind::kHasTag:
      case ExprKind::kGetTag: {
        Ans l = ExpectEntity(*e.kids[0], prior);
        Ans r = ExpectKind(*e.kids[1], prior, K::kString, "String");
        if (!l.type || !r.type) return out;
        Deref(l, e.kind == ExprKind::kHasTag ? "`hasTag`" : "`getTag`");
        TypeP tags;
        bool any_tags = true;
        if (l.type->kind == K::kEntity) {
          tags = s_.TagType(l.type->name);
          any_tags = tags != nullptr;
        }
        bool known = CapsContainTag(prior, *e.kids[0], *e.kids[1]);
        if (e.kind == ExprKind::kHasTag) {
          if (!any_tags) {
            out.type = TFalse();
            return out;
          }
          out.type = known ? TTrue() : TBool();
          out.caps.push_back(Cap{e.kids[0].get(), "", e.kids[1].get()});
          return out;
        }
        if (!known) {
          Error("tag read with `getTag` on " + TypeName(*l.type) +
                " without testing it with `hasTag` first");
          return out;
        }
        if (!any_tags) {
          Error("`getTag` on `" + l.type->name + "`, which has no tags");
          return out;
        }
        if (!tags) {
          Error("`getTag` on an entity of unknown type");
          return out;
        }
        out.type = tags;
        out.level = l.level + 1;
        return out;
      }
      case ExprKind::kSet: {
        std::vector<Ans> elems;
        for (const auto& k : e.kids) elems.push_back(Check(*k, prior));
        if (e.kids.empty()) {
          Error("empty set literals are not allowed in strict validation");
          return out;
        }
        TypeP lub;
        for (const Ans& a : elems) {
          if (!a.type) return out;
          TypeP l = lub ? Lub(lub, a.type) : a.type;
          if (!l) {
            Error("incompatible types in a set literal: " + TypeName(*lub) + " and " +
                  TypeName(*a.type));
            return out;
          }
          lub = l;
          out.level = std::max(out.level, a.level);
        }
        out.type = SetOf(lub);
        return out;
      }
      case ExprKind::kRecord: {
        auto rec = std::make_shared<Type>();
        rec->kind = K::kRecord;
        bool ok = true;
        for (size_t i = 0; i < e.kids.size(); ++i) {
          Ans a = Check(*e.kids[i], prior);
          if (!a.type) ok = false;
          rec->attrs[e.keys[i]] = AttrT{a.type, true};
          out.level = std::max(out.level, a.level);
        }
        if (ok) out.type = rec;
        return out;
      }
      case ExprKind::kCall: return CheckCall(e, prior);
    }
    return out;
  }

  Ans CheckIn(const Expr& e, const Caps& prior) {
    Ans out;
    const Expr& lhs_e = *e.kids[0];
    const Expr& rhs_e = *e.kids[1];
    Ans l = ExpectEntity(lhs_e, prior);
    Ans r = Check(rhs_e, prior);
    if (r.type) {
      bool ok = r.type->kind == K::kEntity || r.type->kind == K::kAnyEntity ||
                (r.type->kind == K::kSet && (!r.type->elem || r.type->elem->kind == K::kEntity ||
                                             r.type->elem->kind == K::kAnyEntity));
      if (!ok) {
        Expected(rhs_e, "an entity or a set of entities", *r.type);
        r.type = nullptr;
      }
    }
    if (!l.type || !r.type) return out;
    Deref(l, "`in`");
    // An action literal (or the `action` variable) in action literals: decided by the schema.
    std::optional<EntityUid> lhs_uid = AsUid(lhs_e);
    if (lhs_uid && IsActionType(lhs_uid->type())) {
      std::vector<EntityUid> rhs_uids;
      bool all = true;
      if (auto single = AsUid(rhs_e)) {
        rhs_uids.push_back(*single);
      } else if (rhs_e.kind == ExprKind::kSet) {
        for (const auto& k : rhs_e.kids) {
          if (auto elem = AsUid(*k)) {
            rhs_uids.push_back(*elem);
          } else {
            all = false;
          }
        }
      } else {
        all = false;
      }
      if (all) {
        bool any_action = false, found = false;
        for (const EntityUid& u : rhs_uids) {
          if (!IsActionType(u.type())) continue;
          any_action = true;
          if (!s_.HasAction(u)) return out;
          found |= s_.ActionIn(*lhs_uid, u);
        }
        out.type = any_action ? TBoolOf(found) : TFalse();
        return out;
      }
    }
    const Type* lt = l.type->kind == K::kEntity ? l.type.get() : nullptr;
    const Type* rt = r.type->kind == K::kEntity ? r.type.get()
                     : (r.type->kind == K::kSet && r.type->elem && r.type->elem->kind == K::kEntity)
                         ? r.type->elem.get()
                         : nullptr;
    if (lt && rt && !s_.MayBeIn(lt->name, rt->name)) {
      out.type = TFalse();
      return out;
    }
    out.type = TBool();
    return out;
  }

  Ans CheckCall(const Expr& e, const Caps& prior) {
    Ans out;
    const FnSig& sig = Signature(e.fn);
    bool failed = false;
    if (e.kids.size() != sig.args.size()) {
      Error(std::string("`") + sig.name + "` takes " +
            std::to_string(sig.args.size() - (sig.constructor ? 0 : 1)) + " argument(s), found " +
            std::to_string(e.kids.size() - (sig.constructor ? 0 : 1)));
      failed = true;
    }
    if (sig.constructor) {
      bool all_lit = true;
      for (const auto& k : e.kids) all_lit &= k->kind == ExprKind::kLit;
      if (!all_lit) {
        Error(std::string("`") + sig.name + "` needs a literal argument in strict validation");
        failed = true;
      } else if (e.kids.size() == 1 && e.kids[0]->lit.is(ValueKind::kString)) {
        Status s = ParseExtLiteral(e.fn, e.kids[0]->lit.as_string());
        if (!s.ok()) {
          Error(std::string("invalid `") + sig.name + "` literal: " + s.message());
          failed = true;
        }
      }
    }
    if (failed) {
      for (const auto& k : e.kids) Check(*k, prior);
      return out;
    }
    bool ok = true;
    for (size_t i = 0; i < e.kids.size(); ++i) {
      Ans a = ExpectNamed(*e.kids[i], prior, NamedType(sig.args[i]));
      ok &= a.type != nullptr;
    }
    if (ok) out.type = NamedType(sig.ret);
    return out;
  }

  const Prepared& s_;
  const Env& env_;
  const ValidationOptions& options_;
  std::vector<Issue>* errors_;
  std::uint32_t at_begin_ = 0;
  std::uint32_t at_end_ = 0;
  int depth_ = 0;
};

// ---- schema-independent passes ------------------------------------------------------------------

// Entity literals and `is` types of a policy, each with the byte range of the literal.
struct Names {
  struct Uid {
    const EntityUid* uid;
    std::uint32_t begin, end;
  };
  struct TypeName {
    const std::string* type;
    std::uint32_t begin, end;
  };
  std::vector<Uid> uids;
  std::vector<TypeName> types;
};

void CollectUids(const Expr& e, Names* n, int depth) {
  if (depth > kMaxDepth) return;
  if (e.kind == ExprKind::kLit && e.lit.is(ValueKind::kEntity)) {
    n->uids.push_back({&e.lit.as_entity(), e.begin, e.end});
  }
  if (e.kind == ExprKind::kIs || e.kind == ExprKind::kIsIn)
    n->types.push_back({&e.name, e.begin, e.end});
  for (const auto& k : e.kids) CollectUids(*k, n, depth + 1);
}

void CollectScope(const Scope& sc, Names* n) {
  if (!sc.slot &&
      (sc.kind == ScopeKind::kEq || sc.kind == ScopeKind::kIn || sc.kind == ScopeKind::kIsIn)) {
    n->uids.push_back({&sc.uid, sc.uid_begin, sc.uid_end});
  }
  if (sc.kind == ScopeKind::kIs || sc.kind == ScopeKind::kIsIn) {
    n->types.push_back({&sc.type, sc.begin, sc.end});
  }
  for (size_t i = 0; i < sc.uids.size(); ++i) {
    auto [begin, end] =
        i < sc.uid_spans.size() ? sc.uid_spans[i] : std::pair<std::uint32_t, std::uint32_t>{};
    n->uids.push_back({&sc.uids[i], begin, end});
  }
}

// Unknown entity types, unknown actions and ids outside an enum entity type. As the reference, an
// unknown entity type is located at the type name of its literal (`App::Nope` of
// `App::Nope::"x"`), other problems at the whole literal.
void CheckNames(const PolicyAst& ast, const Prepared& s, bool check_enum_ids,
                std::vector<Issue>* errors) {
  Names n;
  CollectScope(ast.principal, &n);
  CollectScope(ast.action, &n);
  CollectScope(ast.resource, &n);
  for (const auto& c : ast.conditions) CollectUids(*c.expr, &n, 0);
  const SchemaData& d = s.data();
  for (const Names::Uid& u : n.uids) {
    const std::string& type = u.uid->type();
    if (IsActionType(type) && !d.entity_types.count(type)) {
      if (!d.actions.count(*u.uid)) {
        errors->push_back(Issue{u.begin, u.end, "unrecognized action `" + u.uid->ToString() + "`"});
      }
      continue;
    }
    auto it = d.entity_types.find(type);
    if (it == d.entity_types.end()) {
      std::uint32_t type_end =
          u.end == 0
              ? 0
              : std::min<std::uint32_t>(u.end, u.begin + static_cast<std::uint32_t>(type.size()));
      errors->push_back(Issue{u.begin, type_end, "unrecognized entity type `" + type + "`"});
      continue;
    }
    const auto& ids = it->second.enum_ids;
    if (check_enum_ids && ids && std::find(ids->begin(), ids->end(), u.uid->id()) == ids->end()) {
      errors->push_back(
          Issue{u.begin, u.end,
                "`" + u.uid->ToString() + "` is not a value of enum entity type `" + type + "`"});
    }
  }
  for (const Names::TypeName& t : n.types) {
    if (!d.entity_types.count(*t.type)) {
      errors->push_back(Issue{t.begin, t.end, "unrecognized entity type `" + *t.type + "`"});
    }
  }
}

bool ScopeMatches(const Scope& sc, const std::string& type, const Prepared& s) {
  if (sc.slot && (sc.kind == ScopeKind::kEq || sc.kind == ScopeKind::kIn)) return true;
  switch (sc.kind) {
    case ScopeKind::kAny: return true;
    case ScopeKind::kEq: return sc.uid.type() == type;
    case ScopeKind::kIn: return s.MayBeIn(type, sc.uid.type());
    case ScopeKind::kIs: return sc.type == type;
    case ScopeKind::kIsIn: return sc.type == type && (sc.slot || s.MayBeIn(type, sc.uid.type()));
    case ScopeKind::kInSet: return true;
  }
  return true;
}

bool ActionMatches(const Scope& sc, const EntityUid& a, const Prepared& s) {
  switch (sc.kind) {
    case ScopeKind::kAny: return true;
    case ScopeKind::kEq: return sc.uid == a;
    case ScopeKind::kIn: return s.ActionIn(a, sc.uid);
    case ScopeKind::kInSet:
      for (const EntityUid& u : sc.uids) {
        if (s.ActionIn(a, u)) return true;
      }
      return false;
    default: return true;
  }
}

// Whether some action of the schema applies to the scope's principal and resource types.
bool HasApplicableAction(const PolicyAst& ast, const Prepared& s) {
  for (const Env& env : s.envs()) {
    if (ActionMatches(ast.action, env.action, s) && ScopeMatches(ast.principal, env.principal, s) &&
        ScopeMatches(ast.resource, env.resource, s)) {
      return true;
    }
  }
  return false;
}

// Adds one policy's errors and warnings to `result`, each distinct message once.
void EmitIssues(const Policy& policy, std::vector<Issue> errors, std::vector<Issue> warnings,
                ValidationResult* result) {
  auto emit = [&](std::vector<Issue>& issues, std::vector<ValidationIssue>* out) {
    std::set<std::tuple<std::uint32_t, std::uint32_t, std::string_view>> seen;
    for (Issue& i : issues) {
      if (!seen.emplace(i.begin, i.end, i.message).second) continue;
      out->push_back(ValidationIssue{
          policy.id(), internal::LocateSpan(policy.ast(), i.begin, i.end, policy.span()),
          std::move(i.message)});
    }
  };
  emit(errors, &result->errors);
  emit(warnings, &result->warnings);
}

}  // namespace

std::string ValidationIssue::ToString() const {
  return policy_id + " at " + std::to_string(span.line) + ":" + std::to_string(span.column) + ": " +
         message;
}

ValidationResult ValidatePolicies(const PolicySet& policies, const Schema& schema,
                                  const ValidationOptions& options) {
  ValidationResult result;
  Prepared prepared(schema.data());
  for (const Policy& policy : policies.policies()) {
    const PolicyAst& ast = policy.ast();
    std::vector<Issue> errors;
    std::vector<Issue> warnings;
    if (policy.is_linked()) {
      // As the reference: a template's conditions are typechecked once, under the template's id
      // (its slots typed by the environments, see ScopeType); a link is checked only for what
      // its slot values add: their entity types, and whether some action still applies to the
      // linked scope.
      PolicyAst slots;
      auto slot_scope = [](const Scope& linked, Scope* out) {
        out->kind = ScopeKind::kEq;  // only the linked entity, not the template's `is` type
        out->uid = linked.uid;
        // The linked entity is not in the text: its errors are at the policy (as the reference).
        out->uid_begin = out->uid_end = 0;
        (void)linked;
      };
      if (policy.linked_principal()) slot_scope(ast.principal, &slots.principal);
      if (policy.linked_resource()) slot_scope(ast.resource, &slots.resource);
      // The reference does not check enum ids of linked entities.
      CheckNames(slots, prepared, /*check_enum_ids=*/false, &errors);
    } else {
      CheckNames(ast, prepared, /*check_enum_ids=*/true, &errors);
    }
    if (!HasApplicableAction(ast, prepared)) {
      Issue i{0, 0, "unable to find an applicable action given the policy scope constraints"};
      (options.version == ValidatorVersion::kCedar4_10 ? errors : warnings).push_back(std::move(i));
    }
    if (policy.is_linked()) {
      EmitIssues(policy, std::move(errors), std::move(warnings), &result);
      continue;
    }
    bool all_false = true;
    // An environment whose action the scope excludes types as false once the principal scope is
    // checked, and reports nothing, unless the action scope itself is ill-typed (`action in []`,
    // actions of different types): then every environment is checked, as the reference does.
    bool action_scope_may_fail = false;
    if (ast.action.kind == ScopeKind::kInSet) {
      action_scope_may_fail = ast.action.uids.empty();
      for (const EntityUid& u : ast.action.uids) {
        action_scope_may_fail |= u.type() != ast.action.uids.front().type();
      }
    }
    for (const Env& env : prepared.envs()) {
      if (!action_scope_may_fail && !ActionMatches(ast.action, env.action, prepared)) continue;
      Checker checker(prepared, env, options, &errors);
      TypeP t = checker.CheckPolicy(ast);
      if (!t || t->kind != K::kFalse) all_false = false;
    }
    if (all_false && !prepared.envs().empty()) {
      warnings.push_back(
          Issue{0, 0, "policy is impossible: it evaluates to false in every request"});
    }
    EmitIssues(policy, std::move(errors), std::move(warnings), &result);
  }
  return result;
}

}  // namespace arbiter::cedar
