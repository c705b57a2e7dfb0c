#include "arbiter/cedar/policy_json.h"

#include <boost/json.hpp>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "arbiter/cedar/internal/ast.h"
#include "arbiter/cedar/internal/evaluator.h"
#include "arbiter/cedar/internal/surface.h"
#include "arbiter/common/json.h"

namespace arbiter::cedar {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;
using internal::Expr;
using internal::ExprKind;
using internal::Scope;
using internal::ScopeKind;

struct BinaryName {
  std::string_view name;
  ExprKind kind;
};

constexpr BinaryName kBinary[] = {
    {"==", ExprKind::kEq},
    {"!=", ExprKind::kNe},
    {"in", ExprKind::kIn},
    {"<", ExprKind::kLt},
    {"<=", ExprKind::kLe},
    {">", ExprKind::kGt},
    {">=", ExprKind::kGe},
    {"&&", ExprKind::kAnd},
    {"||", ExprKind::kOr},
    {"+", ExprKind::kAdd},
    {"-", ExprKind::kSub},
    {"*", ExprKind::kMul},
    {"contains", ExprKind::kContains},
    {"containsAll", ExprKind::kContainsAll},
    {"containsAny", ExprKind::kContainsAny},
    {"getTag", ExprKind::kGetTag},
    {"hasTag", ExprKind::kHasTag},
};

// Appends a JSON-pointer segment (RFC 6901 escapes).
std::string Seg(std::string_view key) {
  std::string out = "/";
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// Converts EST JSON to the AST. Errors go to `error_`; functions return false / nullptr after one.
class EstReader {
 public:
  explicit EstReader(const PolicySetOptions& options) : options_(options) {}

  const Status& error() const { return error_; }

  bool ReadPolicy(const value& v, bool in_templates, internal::ParsedPolicy* out) {
    path_.clear();
    const object* o = v.if_object();
    if (!o) return Fail("expected a policy object, found " + Kind(v));
    if (!OnlyKeys(*o, {"effect", "principal", "action", "resource", "conditions", "annotations"})) {
      return false;
    }
    const value* effect = Field(*o, "effect");
    if (!effect) return false;
    if (effect->is_string() && effect->get_string() == "permit") {
      out->effect = Effect::kPermit;
    } else if (effect->is_string() && effect->get_string() == "forbid") {
      out->effect = Effect::kForbid;
    } else {
      return FailAt("/effect", "expected `permit` or `forbid`, found " + Show(*effect));
    }
    out->ast = std::make_shared<internal::PolicyAst>();
    bool slots = false;
    for (std::string_view var : {"principal", "action", "resource"}) {
      const value* s = Field(*o, var);
      if (!s) return false;
      Scope* scope = var == "principal" ? &out->ast->principal
                     : var == "action"  ? &out->ast->action
                                        : &out->ast->resource;
      Push(var);
      if (!ReadScope(*s, var, scope)) return false;
      Pop(var);
      slots = slots || scope->slot;
    }
    if (slots && !in_templates) {
      return Fail("a static policy cannot have slots (put it under `templates`)");
    }
    out->is_template = in_templates;
    if (const value* conds = o->if_contains("conditions")) {
      const array* a = conds->if_array();
      if (!a) return FailAt("/conditions", "expected an array, found " + Kind(*conds));
      for (size_t i = 0; i < a->size(); ++i) {
        std::string seg = "/conditions/" + std::to_string(i);
        path_ = seg;
        const object* c = (*a)[i].if_object();
        if (!c) return Fail("expected a condition object, found " + Kind((*a)[i]));
        if (!OnlyKeys(*c, {"kind", "body"})) return false;
        const value* kind = Field(*c, "kind");
        if (!kind) return false;
        internal::Condition cond;
        if (kind->is_string() && kind->get_string() == "when") {
          cond.is_when = true;
        } else if (kind->is_string() && kind->get_string() == "unless") {
          cond.is_when = false;
        } else {
          return FailAt("/kind", "expected `when` or `unless`, found " + Show(*kind));
        }
        const value* body = Field(*c, "body");
        if (!body) return false;
        path_ = seg + "/body";
        cond.expr = ReadExpr(*body, 0);
        if (!cond.expr) return false;
        out->ast->conditions.push_back(std::move(cond));
      }
    }
    path_.clear();
    if (const value* ann = o->if_contains("annotations")) {
      const object* a = ann->if_object();
      if (!a) return FailAt("/annotations", "expected an object, found " + Kind(*ann));
      for (const auto& kv : *a) {
        std::string key(kv.key());
        path_ = "/annotations" + Seg(key);
        if (!internal::IsIdentifier(key)) return Fail("invalid annotation name `" + key + "`");
        if (kv.value().is_null()) {
          out->annotations.emplace_back(key, std::nullopt);
        } else if (kv.value().is_string()) {
          out->annotations.emplace_back(key, std::string(kv.value().get_string()));
        } else {
          return Fail("expected a string or null, found " + Kind(kv.value()));
        }
      }
    }
    return true;
  }

 private:
  static std::string Kind(const value& v) { return "a JSON " + std::string(JsonKindName(v)); }
  static std::string Show(const value& v) {
    if (v.is_string()) return "`" + std::string(v.get_string()) + "`";
    return Kind(v);
  }

  void Push(std::string_view key) { path_ += Seg(key); }
  void Pop(std::string_view key) { path_.resize(path_.size() - Seg(key).size()); }

  bool Fail(const std::string& msg) {
    if (error_.ok()) {
      error_ = Status::InvalidArgument((path_.empty() ? "" : path_ + ": ") + msg);
    }
    return false;
  }
  bool FailAt(std::string_view key, const std::string& msg) {
    path_ += key;
    return Fail(msg);
  }
  std::unique_ptr<Expr> Null(const std::string& msg) {
    Fail(msg);
    return nullptr;
  }

  const value* Field(const object& o, std::string_view key) {
    const value* v = o.if_contains(key);
    if (!v) Fail("missing `" + std::string(key) + "`");
    return v;
  }

  bool OnlyKeys(const object& o, std::initializer_list<std::string_view> keys) {
    for (const auto& kv : o) {
      if (std::find(keys.begin(), keys.end(), kv.key()) == keys.end()) {
        return Fail("unexpected key `" + std::string(kv.key()) + "`");
      }
    }
    return true;
  }

  bool ReadTypeName(const value& v, std::string* out) {
    if (!v.is_string()) return Fail("expected an entity type name, found " + Kind(v));
    std::string_view s = v.get_string();
    if (!internal::IsTypeName(s)) return Fail("invalid entity type name `" + std::string(s) + "`");
    *out = std::string(s);
    return true;
  }

  // {"type": T, "id": I} or {"__entity": {"type": T, "id": I}}.
  bool ReadEntityRef(const value& v, EntityUid* uid) {
    const object* o = v.if_object();
    if (!o) return Fail("expected an entity reference, found " + Kind(v));
    if (const value* inner = o->if_contains("__entity")) {
      if (o->size() != 1) return Fail("unexpected keys next to `__entity`");
      Push("__entity");
      bool ok = ReadEntityRef(*inner, uid);
      if (ok) Pop("__entity");
      return ok;
    }
    if (!OnlyKeys(*o, {"type", "id"})) return false;
    const value* type = Field(*o, "type");
    const value* id = type ? Field(*o, "id") : nullptr;
    if (!type || !id) return false;
    std::string t;
    Push("type");
    if (!ReadTypeName(*type, &t)) return false;
    Pop("type");
    if (!id->is_string()) return FailAt("/id", "expected a string, found " + Kind(*id));
    *uid = EntityUid(t, std::string_view(id->get_string()));
    return true;
  }

  // {"entity": ref} or {"slot": "?principal"} as the target of `==`, `in`, `is … in`.
  bool ReadTarget(const object& o, std::string_view var, Scope* scope) {
    if (const value* slot = o.if_contains("slot")) {
      std::string want = "?" + std::string(var);
      if (var == "action") return FailAt("/slot", "the action scope cannot have a slot");
      if (!slot->is_string() || slot->get_string() != want) {
        return FailAt("/slot", "expected `" + want + "`, found " + Show(*slot));
      }
      scope->slot = true;
      return true;
    }
    const value* entity = Field(o, "entity");
    if (!entity) return false;
    Push("entity");
    if (!ReadEntityRef(*entity, &scope->uid)) return false;
    Pop("entity");
    return true;
  }

  bool ReadScope(const value& v, std::string_view var, Scope* scope) {
    const object* o = v.if_object();
    if (!o) return Fail("expected a scope object, found " + Kind(v));
    const value* opv = Field(*o, "op");
    if (!opv) return false;
    std::string_view op = opv->is_string() ? std::string_view(opv->get_string()) : "";
    bool is_action = var == "action";
    if (op == "All") {
      if (!OnlyKeys(*o, {"op"})) return false;
      scope->kind = ScopeKind::kAny;
      return true;
    }
    if (op == "==") {
      if (!OnlyKeys(*o, {"op", "entity", "slot"})) return false;
      scope->kind = ScopeKind::kEq;
      return ReadTarget(*o, var, scope);
    }
    if (op == "in") {
      if (!OnlyKeys(*o, {"op", "entity", "entities", "slot"})) return false;
      if (const value* list = o->if_contains("entities")) {
        if (!is_action) return FailAt("/entities", "only the action scope takes `entities`");
        const array* a = list->if_array();
        if (!a) return FailAt("/entities", "expected an array, found " + Kind(*list));
        scope->kind = ScopeKind::kInSet;
        for (size_t i = 0; i < a->size(); ++i) {
          std::string seg = "entities/" + std::to_string(i);
          Push(seg);
          EntityUid uid;
          if (!ReadEntityRef((*a)[i], &uid)) return false;
          Pop(seg);
          scope->uids.push_back(std::move(uid));
        }
        return true;
      }
      scope->kind = ScopeKind::kIn;
      return ReadTarget(*o, var, scope);
    }
    if (op == "is") {
      if (is_action) return FailAt("/op", "`is` is not allowed in the action scope");
      if (!OnlyKeys(*o, {"op", "entity_type", "in"})) return false;
      const value* type = Field(*o, "entity_type");
      if (!type) return false;
      Push("entity_type");
      if (!ReadTypeName(*type, &scope->type)) return false;
      Pop("entity_type");
      scope->kind = ScopeKind::kIs;
      if (const value* in = o->if_contains("in")) {
        const object* io = in->if_object();
        if (!io) return FailAt("/in", "expected an object, found " + Kind(*in));
        Push("in");
        if (!OnlyKeys(*io, {"entity", "slot"})) return false;
        scope->kind = ScopeKind::kIsIn;
        if (!ReadTarget(*io, var, scope)) return false;
        Pop("in");
      }
      return true;
    }
    return FailAt("/op",
                  "unknown scope operator " + Show(*opv) + " (expected `All`, `==`, `in` or `is`)");
  }

  static std::unique_ptr<Expr> Make(ExprKind kind) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    return e;
  }

  // The value of a {"Value": …} node (Cedar's JSON value syntax) as an expression: sets and
  // records become Set / Record nodes, as they are when written in Cedar text.
  std::unique_ptr<Expr> ReadValue(const value& v, size_t depth) {
    if (depth > options_.max_depth) return TooDeep();
    auto e = Make(ExprKind::kLit);
    switch (v.kind()) {
      case boost::json::kind::bool_: e->lit = Value::Bool(v.get_bool()); return e;
      case boost::json::kind::int64: e->lit = Value::Long(v.get_int64()); return e;
      case boost::json::kind::uint64:
        return Null("integer `" + std::to_string(v.get_uint64()) + "` is out of range");
      case boost::json::kind::double_: return Null("expected an integer, found a fraction");
      case boost::json::kind::null: return Null("expected a value, found null");
      case boost::json::kind::string: e->lit = Value::String(std::string(v.get_string())); return e;
      case boost::json::kind::array: {
        e->kind = ExprKind::kSet;
        const array& a = v.get_array();
        for (size_t i = 0; i < a.size(); ++i) {
          std::string seg = std::to_string(i);
          Push(seg);
          auto el = ReadValue(a[i], depth + 1);
          if (!el) return nullptr;
          Pop(seg);
          e->kids.push_back(std::move(el));
        }
        return e;
      }
      case boost::json::kind::object: {
        const object& o = v.get_object();
        if (o.contains("__entity")) {
          EntityUid uid;
          if (!ReadEntityRef(v, &uid)) return nullptr;
          e->lit = Value::Entity(std::move(uid));
          return e;
        }
        if (const value* ext = o.if_contains("__extn")) {
          if (o.size() != 1) return Null("unexpected keys next to `__extn`");
          Push("__extn");
          const object* xo = ext->if_object();
          if (!xo) return Null("expected {\"fn\", \"arg\"}, found " + Kind(*ext));
          if (!OnlyKeys(*xo, {"fn", "arg"})) return nullptr;
          const value* fn = Field(*xo, "fn");
          const value* arg = fn ? Field(*xo, "arg") : nullptr;
          if (!fn || !arg) return nullptr;
          if (!fn->is_string()) return Null("`fn` must be a string, found " + Kind(*fn));
          Push("arg");
          auto a = ReadValue(*arg, depth + 1);
          if (!a) return nullptr;
          Pop("arg");
          std::vector<std::unique_ptr<Expr>> args;
          args.push_back(std::move(a));
          return Call(fn->get_string(), std::move(args));
        }
        e->kind = ExprKind::kRecord;
        for (const auto& kv : o) {
          Push(kv.key());
          auto el = ReadValue(kv.value(), depth + 1);
          if (!el) return nullptr;
          Pop(kv.key());
          e->keys.emplace_back(kv.key());
          e->kids.push_back(std::move(el));
        }
        return e;
      }
    }
    return Null("unexpected JSON value");
  }

  // An extension function or method call by name; the receiver of a method is the first argument.
  // A constructor of a valid literal is folded into a value, as the Cedar parser does.
  std::unique_ptr<Expr> Call(std::string_view name, std::vector<std::unique_ptr<Expr>> args) {
    internal::ExtFn fn;
    bool method = false;
    int nargs = 0;
    if (!internal::LookupExtFn(name, &fn, &method, &nargs)) {
      return Null("unknown operator or function `" + std::string(name) + "`");
    }
    if (method && args.empty()) return Null("method `" + std::string(name) + "` needs a receiver");
    auto e = Make(ExprKind::kCall);
    e->fn = fn;
    e->kids = std::move(args);
    if (!method && e->kids.size() == 1 && e->kids[0]->kind == ExprKind::kLit &&
        e->kids[0]->lit.is(ValueKind::kString)) {
      Value folded;
      std::string ignored;
      if (internal::CallExtension(e->fn, &e->kids[0]->lit, 1, &folded, &ignored)) {
        auto lit = Make(ExprKind::kLit);
        lit->lit = std::move(folded);
        return lit;
      }
    }
    return e;
  }

  std::unique_ptr<Expr> TooDeep() {
    if (error_.ok()) {
      error_ = Status::ResourceExhausted(path_ + ": expression nests deeper than " +
                                         std::to_string(options_.max_depth));
    }
    return nullptr;
  }

  // Reads `o[key]` as an expression, with `key` on the path.
  std::unique_ptr<Expr> Sub(const object& o, std::string_view key, size_t depth) {
    const value* v = Field(o, key);
    if (!v) return nullptr;
    Push(key);
    auto e = ReadExpr(*v, depth);
    if (e) Pop(key);
    return e;
  }

  std::unique_ptr<Expr> ReadExpr(const value& v, size_t depth) {
    if (depth > options_.max_depth) return TooDeep();
    const object* o = v.if_object();
    if (!o || o->size() != 1) {
      return Null("expected an expression (an object with one key), found " +
                  (o ? "an object with " + std::to_string(o->size()) + " keys" : Kind(v)));
    }
    const auto& kv = *o->begin();
    std::string_view op = kv.key();
    const value& body = kv.value();
    Push(op);
    auto e = ReadNode(op, body, depth + 1);
    if (e) Pop(op);
    return e;
  }

  std::unique_ptr<Expr> ReadNode(std::string_view op, const value& body, size_t depth) {
    if (op == "Value") return ReadValue(body, depth);
    if (op == "Var") {
      static const struct {
        std::string_view name;
        internal::Var var;
      } kVars[] = {{"principal", internal::Var::kPrincipal},
                   {"action", internal::Var::kAction},
                   {"resource", internal::Var::kResource},
                   {"context", internal::Var::kContext}};
      for (const auto& var : kVars) {
        if (body.is_string() && body.get_string() == var.name) {
          auto e = Make(ExprKind::kVar);
          e->var = var.var;
          return e;
        }
      }
      return Null("unknown variable " + Show(body));
    }
    if (op == "Slot") return Null("template slots are only allowed in the policy scope");
    if (op == "Unknown") return Null("unknown values (partial evaluation) are not supported");
    if (op == "Set") {
      const array* a = body.if_array();
      if (!a) return Null("expected an array, found " + Kind(body));
      auto e = Make(ExprKind::kSet);
      for (size_t i = 0; i < a->size(); ++i) {
        std::string seg = std::to_string(i);
        Push(seg);
        auto el = ReadExpr((*a)[i], depth);
        if (!el) return nullptr;
        Pop(seg);
        e->kids.push_back(std::move(el));
      }
      return e;
    }
    if (op == "Record") {
      const object* r = body.if_object();
      if (!r) return Null("expected an object, found " + Kind(body));
      auto e = Make(ExprKind::kRecord);
      for (const auto& kv : *r) {
        Push(kv.key());
        auto el = ReadExpr(kv.value(), depth);
        if (!el) return nullptr;
        Pop(kv.key());
        e->keys.emplace_back(kv.key());
        e->kids.push_back(std::move(el));
      }
      return e;
    }
    const object* o = body.if_object();
    if (op == "!" || op == "neg" || op == "isEmpty") {
      if (!o) return Null("expected {\"arg\": …}, found " + Kind(body));
      if (!OnlyKeys(*o, {"arg"})) return nullptr;
      auto e = Make(op == "!" ? ExprKind::kNot : op == "neg" ? ExprKind::kNeg : ExprKind::kIsEmpty);
      auto arg = Sub(*o, "arg", depth);
      if (!arg) return nullptr;
      e->kids.push_back(std::move(arg));
      return e;
    }
    for (const BinaryName& b : kBinary) {
      if (op != b.name) continue;
      if (!o) return Null("expected {\"left\": …, \"right\": …}, found " + Kind(body));
      if (!OnlyKeys(*o, {"left", "right"})) return nullptr;
      auto left = Sub(*o, "left", depth);
      if (!left) return nullptr;
      auto right = Sub(*o, "right", depth);
      if (!right) return nullptr;
      auto e = Make(b.kind);
      e->kids.push_back(std::move(left));
      e->kids.push_back(std::move(right));
      return e;
    }
    if (op == "." || op == "has") {
      if (!o) return Null("expected {\"left\": …, \"attr\": …}, found " + Kind(body));
      if (!OnlyKeys(*o, {"left", "attr"})) return nullptr;
      auto left = Sub(*o, "left", depth);
      if (!left) return nullptr;
      const value* attr = Field(*o, "attr");
      if (!attr) return nullptr;
      if (op == "has" && attr->is_array()) return HasPath(std::move(left), attr->get_array());
      if (!attr->is_string()) {
        Push("attr");
        return Null("expected a string, found " + Kind(*attr));
      }
      auto e = Make(op == "." ? ExprKind::kGetAttr : ExprKind::kHas);
      e->name = std::string(attr->get_string());
      e->kids.push_back(std::move(left));
      return e;
    }
    if (op == "like") {
      if (!o) return Null("expected {\"left\": …, \"pattern\": …}, found " + Kind(body));
      if (!OnlyKeys(*o, {"left", "pattern"})) return nullptr;
      auto left = Sub(*o, "left", depth);
      if (!left) return nullptr;
      const value* pattern = Field(*o, "pattern");
      if (!pattern) return nullptr;
      Push("pattern");
      auto e = Make(ExprKind::kLike);
      if (!ReadPattern(*pattern, &e->pattern)) return nullptr;
      Pop("pattern");
      e->kids.push_back(std::move(left));
      return e;
    }
    if (op == "is") {
      if (!o) return Null("expected {\"left\": …, \"entity_type\": …}, found " + Kind(body));
      if (!OnlyKeys(*o, {"left", "entity_type", "in"})) return nullptr;
      auto left = Sub(*o, "left", depth);
      if (!left) return nullptr;
      const value* type = Field(*o, "entity_type");
      if (!type) return nullptr;
      auto e = Make(ExprKind::kIs);
      Push("entity_type");
      if (!ReadTypeName(*type, &e->name)) return nullptr;
      Pop("entity_type");
      e->kids.push_back(std::move(left));
      if (o->contains("in")) {
        auto in = Sub(*o, "in", depth);
        if (!in) return nullptr;
        e->kind = ExprKind::kIsIn;
        e->kids.push_back(std::move(in));
      }
      return e;
    }
    if (op == "if-then-else") {
      if (!o) return Null("expected {\"if\", \"then\", \"else\"}, found " + Kind(body));
      if (!OnlyKeys(*o, {"if", "then", "else"})) return nullptr;
      auto e = Make(ExprKind::kIf);
      for (std::string_view k : {"if", "then", "else"}) {
        auto kid = Sub(*o, k, depth);
        if (!kid) return nullptr;
        e->kids.push_back(std::move(kid));
      }
      return e;
    }
    internal::ExtFn fn;
    bool method = false;
    int nargs = 0;
    if (internal::LookupExtFn(op, &fn, &method, &nargs)) {
      const array* a = body.if_array();
      if (!a) return Null("expected an array of arguments, found " + Kind(body));
      std::vector<std::unique_ptr<Expr>> args;
      for (size_t i = 0; i < a->size(); ++i) {
        std::string seg = std::to_string(i);
        Push(seg);
        auto arg = ReadExpr((*a)[i], depth);
        if (!arg) return nullptr;
        Pop(seg);
        args.push_back(std::move(arg));
      }
      return Call(op, std::move(args));
    }
    Pop(op);
    return Null("unknown operator `" + std::string(op) + "`");
  }

  // `e has a.b.c` (Cedar 4.13 writes "attr": ["a", "b", "c"]) means
  // `e has a && e.a has b && e.a.b has c`, as the Cedar parser desugars it.
  std::unique_ptr<Expr> HasPath(std::unique_ptr<Expr> left, const array& attrs) {
    Push("attr");
    if (attrs.empty()) return Null("expected at least one attribute name");
    std::vector<std::string> path;
    for (const value& a : attrs) {
      if (!a.is_string()) return Null("expected attribute names, found " + Kind(a));
      path.emplace_back(a.get_string());
    }
    Pop("attr");
    std::unique_ptr<Expr> result;
    for (size_t i = 0; i < path.size(); ++i) {
      auto base = internal::CloneExpr(*left);
      for (size_t k = 0; k < i; ++k) {
        auto g = Make(ExprKind::kGetAttr);
        g->name = path[k];
        g->kids.push_back(std::move(base));
        base = std::move(g);
      }
      auto h = Make(ExprKind::kHas);
      h->name = path[i];
      h->kids.push_back(std::move(base));
      if (result) {
        auto conj = Make(ExprKind::kAnd);
        conj->kids.push_back(std::move(result));
        conj->kids.push_back(std::move(h));
        result = std::move(conj);
      } else {
        result = std::move(h);
      }
    }
    return result;
  }

  // [{"Literal": "ab"}, "Wildcard", …], normalised as the Cedar parser does: adjacent literals
  // joined, adjacent wildcards collapsed.
  bool ReadPattern(const value& v, std::vector<internal::PatternPart>* out) {
    const array* a = v.if_array();
    if (!a) return Fail("expected an array of pattern elements, found " + Kind(v));
    for (size_t i = 0; i < a->size(); ++i) {
      const value& el = (*a)[i];
      if (el.is_string() && el.get_string() == "Wildcard") {
        if (out->empty() || !out->back().wildcard) out->push_back({true, ""});
        continue;
      }
      const object* o = el.if_object();
      const value* lit = o && o->size() == 1 ? o->if_contains("Literal") : nullptr;
      if (!lit || !lit->is_string()) {
        Push(std::to_string(i));
        return Fail("expected \"Wildcard\" or {\"Literal\": string}, found " + Kind(el));
      }
      std::string_view text = lit->get_string();
      if (text.empty()) continue;
      if (!out->empty() && !out->back().wildcard) {
        out->back().text += text;
      } else {
        out->push_back({false, std::string(text)});
      }
    }
    return true;
  }

  const PolicySetOptions& options_;
  std::string path_;
  Status error_;
};

// ---- emitting ----

value EntityJson(const EntityUid& uid) { return object{{"type", uid.type()}, {"id", uid.id()}}; }

value ValueJson(const Value& v);

value LitExprJson(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kSet: {
      array a;
      for (const Value& el : v.as_set().elements()) a.push_back(LitExprJson(el));
      return object{{"Set", std::move(a)}};
    }
    case ValueKind::kRecord: {
      object r;
      for (const auto& [k, el] : v.as_record().fields()) r[k] = LitExprJson(el);
      return object{{"Record", std::move(r)}};
    }
    case ValueKind::kDecimal:
    case ValueKind::kIpAddr:
    case ValueKind::kDatetime:
    case ValueKind::kDuration: {
      std::string fn, arg;
      internal::ExtensionLiteral(v, &fn, &arg);
      array args;
      args.push_back(object{{"Value", arg}});
      return object{{fn, std::move(args)}};
    }
    default: return object{{"Value", ValueJson(v)}};
  }
}

value ValueJson(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kBool: return v.as_bool();
    case ValueKind::kLong: return v.as_long();
    case ValueKind::kString: return value(v.as_string());
    case ValueKind::kEntity: return object{{"__entity", EntityJson(v.as_entity())}};
    default: return nullptr;  // not reached: LitExprJson handles the others
  }
}

std::string_view KindName(ExprKind k) {
  if (k == ExprKind::kIsEmpty) return "isEmpty";
  for (const BinaryName& b : kBinary) {
    if (b.kind == k) return b.name;
  }
  return "";
}

value ExprJson(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kLit: return LitExprJson(e.lit);
    case ExprKind::kVar: {
      static constexpr std::string_view kVars[] = {"principal", "action", "resource", "context"};
      return object{{"Var", kVars[static_cast<int>(e.var)]}};
    }
    case ExprKind::kNot: return object{{"!", object{{"arg", ExprJson(*e.kids[0])}}}};
    case ExprKind::kNeg: return object{{"neg", object{{"arg", ExprJson(*e.kids[0])}}}};
    case ExprKind::kIsEmpty: return object{{"isEmpty", object{{"arg", ExprJson(*e.kids[0])}}}};
    case ExprKind::kIf:
      return object{{"if-then-else", object{{"if", ExprJson(*e.kids[0])},
                                            {"then", ExprJson(*e.kids[1])},
                                            {"else", ExprJson(*e.kids[2])}}}};
    case ExprKind::kHas:
    case ExprKind::kGetAttr:
      return object{{e.kind == ExprKind::kHas ? "has" : ".",
                     object{{"left", ExprJson(*e.kids[0])}, {"attr", e.name}}}};
    case ExprKind::kLike: {
      array pattern;
      for (const internal::PatternPart& p : e.pattern) {
        if (p.wildcard) {
          pattern.push_back("Wildcard");
          continue;
        }
        // One element per character (code point), as Cedar writes patterns.
        for (size_t i = 0; i < p.text.size();) {
          size_t len = 1;
          auto c = static_cast<unsigned char>(p.text[i]);
          if (c >= 0xf0) {
            len = 4;
          } else if (c >= 0xe0) {
            len = 3;
          } else if (c >= 0xc0) {
            len = 2;
          }
          len = std::min(len, p.text.size() - i);
          pattern.push_back(object{{"Literal", p.text.substr(i, len)}});
          i += len;
        }
      }
      return object{{"like", object{{"left", ExprJson(*e.kids[0])}, {"pattern", pattern}}}};
    }
    case ExprKind::kIs:
    case ExprKind::kIsIn: {
      object is{{"left", ExprJson(*e.kids[0])}, {"entity_type", e.name}};
      if (e.kind == ExprKind::kIsIn) is["in"] = ExprJson(*e.kids[1]);
      return object{{"is", std::move(is)}};
    }
    case ExprKind::kSet: {
      array a;
      for (const auto& k : e.kids) a.push_back(ExprJson(*k));
      return object{{"Set", std::move(a)}};
    }
    case ExprKind::kRecord: {
      object r;
      for (size_t i = 0; i < e.kids.size(); ++i) r[e.keys[i]] = ExprJson(*e.kids[i]);
      return object{{"Record", std::move(r)}};
    }
    case ExprKind::kCall: {
      array args;
      for (const auto& k : e.kids) args.push_back(ExprJson(*k));
      return object{{internal::ExtFnName(e.fn), std::move(args)}};
    }
    default:
      return object{{KindName(e.kind),
                     object{{"left", ExprJson(*e.kids[0])}, {"right", ExprJson(*e.kids[1])}}}};
  }
}

value ScopeJson(const Scope& s, std::string_view var) {
  auto target = [&](object o) {
    if (s.slot) {
      o["slot"] = "?" + std::string(var);
    } else {
      o["entity"] = EntityJson(s.uid);
    }
    return o;
  };
  switch (s.kind) {
    case ScopeKind::kAny: return object{{"op", "All"}};
    case ScopeKind::kEq: return target(object{{"op", "=="}});
    case ScopeKind::kIn: return target(object{{"op", "in"}});
    case ScopeKind::kIs: return object{{"op", "is"}, {"entity_type", s.type}};
    case ScopeKind::kIsIn:
      return object{{"op", "is"}, {"entity_type", s.type}, {"in", target(object{})}};
    case ScopeKind::kInSet: {
      array a;
      for (const EntityUid& uid : s.uids) a.push_back(EntityJson(uid));
      return object{{"op", "in"}, {"entities", std::move(a)}};
    }
  }
  return object{{"op", "All"}};
}

Status WithPolicy(std::string_view source_name, std::string_view id, const Status& s) {
  std::string where = source_name.empty() ? "" : std::string(source_name) + ": ";
  Status out =
      s.code() == StatusCode::kResourceExhausted
          ? Status::ResourceExhausted(where + "policy `" + std::string(id) + "`: " + s.message())
          : Status::InvalidArgument(where + "policy `" + std::string(id) + "`: " + s.message());
  return internal::OneLine(std::move(out));
}

Status Plain(std::string_view source_name, const std::string& msg) {
  std::string where = source_name.empty() ? "" : std::string(source_name) + ": ";
  return internal::OneLine(Status::InvalidArgument(where + msg));
}

}  // namespace

Result<PolicySet> PolicySetFromJson(const value& json, std::string_view source_name,
                                    const PolicySetOptions& options) {
  std::vector<internal::ParsedPolicy> parsed;
  std::vector<std::string> ids;
  EstReader reader(options);
  auto read = [&](const std::string& id, const value& v, bool in_templates) -> Status {
    if (std::find(ids.begin(), ids.end(), id) != ids.end()) {
      return Plain(source_name, "duplicate policy id `" + id + "`");
    }
    internal::ParsedPolicy p;
    if (!reader.ReadPolicy(v, in_templates, &p)) {
      return WithPolicy(source_name, id, reader.error());
    }
    parsed.push_back(std::move(p));
    ids.push_back(id);
    return Status::Ok();
  };
  const object* top = json.if_object();
  if (!top) {
    return Plain(source_name,
                 "expected a JSON object, found a JSON " + std::string(JsonKindName(json)));
  }
  if (top->contains("effect")) {
    ARBITER_RETURN_IF_ERROR(read("policy0", json, false));
  } else {
    for (const auto& kv : *top) {
      std::string_view k = kv.key();
      if (k != "staticPolicies" && k != "templates" && k != "templateLinks") {
        return Plain(source_name, "unexpected key `" + std::string(k) +
                                      "` (expected `staticPolicies`, `templates`, "
                                      "`templateLinks`, or one policy with `effect`)");
      }
    }
    for (std::string_view section : {"staticPolicies", "templates"}) {
      const value* v = top->if_contains(section);
      if (!v) continue;
      const object* o = v->if_object();
      if (!o) {
        return Plain(source_name, "/" + std::string(section) +
                                      ": expected an object, found a JSON " +
                                      std::string(JsonKindName(*v)));
      }
      for (const auto& kv : *o) {
        ARBITER_RETURN_IF_ERROR(read(std::string(kv.key()), kv.value(), section == "templates"));
      }
    }
  }
  auto set = internal::BuildPolicySet(std::move(parsed), ids, options, source_name);
  if (!set) return internal::OneLine(set.error());
  const value* links = top->contains("effect") ? nullptr : top->if_contains("templateLinks");
  if (!links) return set;
  // The links are read and applied by the template-link API (policy_set.h).
  ARBITER_TRY(std::vector<TemplateLink> parsed_links,
              ParseTemplateLinksJson(ToJson(*links), source_name));
  if (parsed_links.empty()) return set;
  auto linked = LinkTemplates(*set, parsed_links);
  if (!linked) return Plain(source_name, linked.error().message());
  return linked;
}

Result<PolicySet> ParsePolicySetJson(std::string_view text, std::string_view source_name,
                                     const PolicySetOptions& options) {
  if (text.size() > options.max_bytes) {
    return Status::ResourceExhausted("policy JSON is " + std::to_string(text.size()) +
                                     " bytes, over the limit of " +
                                     std::to_string(options.max_bytes));
  }
  JsonLimits limits;
  limits.max_bytes = options.max_bytes;
  // An expression level is two JSON levels ({"&&": {"left": …}}), plus the policy-set wrapping.
  limits.max_depth = 2 * options.max_depth + 16;
  auto json = ParseJson(text, limits);
  if (!json) {
    std::string where = source_name.empty() ? "" : std::string(source_name) + ": ";
    return Status(json.error().code(), where + json.error().message());
  }
  return PolicySetFromJson(*json, source_name, options);
}

Result<value> PolicyToJson(const Policy& policy) {
  const internal::PolicyAst& ast = policy.ast();
  object out;
  out["effect"] = policy.effect() == Effect::kPermit ? "permit" : "forbid";
  out["principal"] = ScopeJson(ast.principal, "principal");
  out["action"] = ScopeJson(ast.action, "action");
  out["resource"] = ScopeJson(ast.resource, "resource");
  array conditions;
  for (const internal::Condition& c : ast.conditions) {
    conditions.push_back(
        object{{"kind", c.is_when ? "when" : "unless"}, {"body", ExprJson(*c.expr)}});
  }
  out["conditions"] = std::move(conditions);
  object annotations;
  for (const auto& [k, v] : policy.annotations()) {
    if (v) {
      annotations[k] = *v;
    } else {
      annotations[k] = nullptr;
    }
  }
  if (!annotations.empty()) out["annotations"] = std::move(annotations);
  return value(std::move(out));
}

Result<value> PolicySetToJson(const PolicySet& set) {
  object statics, templates;
  array links;
  for (const Policy& p : set.policies()) {
    if (p.is_linked()) {
      object values;
      if (p.linked_principal()) {
        values["?principal"] = object{{"__entity", EntityJson(*p.linked_principal())}};
      }
      if (p.linked_resource()) {
        values["?resource"] = object{{"__entity", EntityJson(*p.linked_resource())}};
      }
      links.push_back(object{
          {"templateId", p.template_id()}, {"newId", p.id()}, {"values", std::move(values)}});
      continue;
    }
    ARBITER_TRY(value est, PolicyToJson(p));
    (p.is_template() ? templates : statics)[p.id()] = std::move(est);
  }
  return value(object{{"staticPolicies", std::move(statics)},
                      {"templates", std::move(templates)},
                      {"templateLinks", std::move(links)}});
}

}  // namespace arbiter::cedar
