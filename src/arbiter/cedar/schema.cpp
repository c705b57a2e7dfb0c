// Parser for the human `.cedarschema` format, type resolution, and schema-driven JSON parsing.
#include "arbiter/cedar/schema.h"

#include <algorithm>
#include <set>

#include "arbiter/cedar/internal/evaluator.h"
#include "arbiter/cedar/internal/lexer.h"
#include "arbiter/cedar/internal/schema_data.h"
#include "arbiter/common/json.h"

namespace arbiter::cedar {

using internal::ActionDef;
using internal::AttrType;
using internal::EntityTypeDef;
using internal::SchemaData;
using internal::SchemaType;
using internal::Token;
using internal::TokKind;

namespace {

// A type expression before name resolution.
struct TypeExpr {
  enum class Kind { kName, kSet, kRecord };
  Kind kind = Kind::kName;
  std::string name;  // kName: the path as written
  std::unique_ptr<TypeExpr> element;
  std::vector<std::pair<std::string, std::pair<std::unique_ptr<TypeExpr>, bool>>> attrs;
  std::uint32_t line = 0, column = 0;
};

struct RawEntity {
  std::string ns;
  std::string name;
  std::vector<std::string> member_of;  // as written
  std::unique_ptr<TypeExpr> attrs;     // may be null
  std::unique_ptr<TypeExpr> tags;      // may be null
  std::optional<std::vector<std::string>> enum_ids;
  std::uint32_t line = 0, column = 0;
};

struct RawActionRef {
  std::string type;  // empty: same namespace's Action
  std::string id;
};

struct RawAction {
  std::string ns;
  std::string id;
  std::vector<RawActionRef> parents;
  bool has_applies_to = false;
  std::vector<std::string> principals, resources;
  std::unique_ptr<TypeExpr> context;
  std::uint32_t line = 0, column = 0;
};

struct RawCommon {
  std::string ns;
  std::string name;
  std::unique_ptr<TypeExpr> type;
};

std::string Qualify(const std::string& ns, const std::string& name) {
  return ns.empty() ? name : ns + "::" + name;
}

class SchemaParser {
 public:
  SchemaParser(std::string_view src, std::string_view source_name, const SchemaOptions& options)
      : src_(src), source_name_(source_name), options_(options) {}

  bool Parse() {
    toks_ = internal::Tokenize(src_);
    if (toks_.back().kind == TokKind::kError) {
      Fail(toks_.back(), std::string(toks_.back().text));
      return false;
    }
    while (Peek().kind != TokKind::kEof) {
      if (!SkipAnnotations()) return false;
      if (IsIdent("namespace")) {
        Next();
        std::string ns;
        if (!ParsePath(&ns)) return false;
        if (!Expect("{")) return false;
        while (!IsPunct("}")) {
          if (Peek().kind == TokKind::kEof) {
            Fail(Peek(), "expected `}` to close namespace `" + ns + "`");
            return false;
          }
          if (!ParseDecl(ns)) return false;
        }
        Next();
      } else {
        if (!ParseDecl("")) return false;
      }
    }
    return true;
  }

  Status error() const { return error_; }
  std::vector<RawEntity> entities;
  std::vector<RawAction> actions;
  std::vector<RawCommon> commons;

 private:
  const Token& Peek(size_t ahead = 0) const {
    return toks_[std::min(pos_ + ahead, toks_.size() - 1)];
  }
  const Token& Next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    return t;
  }
  bool IsPunct(std::string_view p) const {
    return Peek().kind == TokKind::kPunct && Peek().text == p;
  }
  bool IsIdent(std::string_view s) const {
    return Peek().kind == TokKind::kIdent && Peek().text == s;
  }
  static std::string Describe(const Token& t) {
    if (t.kind == TokKind::kEof) return "end of input";
    if (t.kind == TokKind::kStr) return "string literal";
    return "`" + std::string(t.text) + "`";
  }
  void Fail(const Token& t, const std::string& msg) {
    if (!error_.ok()) return;
    std::string where = source_name_.empty() ? "" : std::string(source_name_) + ":";
    error_ = Status::InvalidArgument(where + std::to_string(t.line) + ":" +
                                     std::to_string(t.column) + ": " + msg);
  }
  bool Expect(std::string_view p) {
    if (!IsPunct(p)) {
      Fail(Peek(), "expected `" + std::string(p) + "`, found " + Describe(Peek()));
      return false;
    }
    Next();
    return true;
  }
  bool ParseString(std::string* out) {
    const Token& t = Peek();
    if (t.kind != TokKind::kStr) {
      Fail(t, "expected a string, found " + Describe(t));
      return false;
    }
    Next();
    std::string err;
    if (!internal::Unescape(t.text, false, out, nullptr, &err)) {
      Fail(t, err);
      return false;
    }
    return true;
  }
  bool ParseIdent(std::string* out) {
    const Token& t = Peek();
    if (t.kind != TokKind::kIdent) {
      Fail(t, "expected an identifier, found " + Describe(t));
      return false;
    }
    Next();
    *out = std::string(t.text);
    return true;
  }
  bool ParseName(std::string* out) {  // IDENT | STR
    if (Peek().kind == TokKind::kStr) return ParseString(out);
    return ParseIdent(out);
  }
  bool ParsePath(std::string* out) {
    if (!ParseIdent(out)) return false;
    while (IsPunct("::") && Peek(1).kind == TokKind::kIdent) {
      Next();
      *out += "::";
      *out += Next().text;
    }
    return true;
  }
  bool SkipAnnotations() {
    while (IsPunct("@")) {
      Next();
      std::string name;
      if (!ParseIdent(&name)) return false;
      if (IsPunct("(")) {
        Next();
        std::string v;
        if (!ParseString(&v)) return false;
        if (!Expect(")")) return false;
      }
    }
    return true;
  }

  bool ParseDecl(const std::string& ns) {
    if (!SkipAnnotations()) return false;
    if (IsIdent("entity")) return ParseEntity(ns);
    if (IsIdent("action")) return ParseAction(ns);
    if (IsIdent("type")) {
      Next();
      RawCommon c;
      c.ns = ns;
      if (!ParseIdent(&c.name)) return false;
      if (!Expect("=")) return false;
      c.type = ParseType(0);
      if (!c.type) return false;
      if (!Expect(";")) return false;
      commons.push_back(std::move(c));
      return true;
    }
    Fail(Peek(), "expected `entity`, `action`, `type` or `namespace`, found " + Describe(Peek()));
    return false;
  }

  bool ParseEntity(const std::string& ns) {
    const Token& kw = Next();
    std::vector<std::string> names;
    do {
      std::string n;
      if (!ParseIdent(&n)) return false;
      names.push_back(std::move(n));
      if (!IsPunct(",")) break;
      Next();
    } while (true);
    RawEntity proto;
    proto.ns = ns;
    proto.line = kw.line;
    proto.column = kw.column;
    if (IsIdent("enum")) {
      Next();
      if (!Expect("[")) return false;
      std::vector<std::string> ids;
      while (!IsPunct("]")) {
        std::string id;
        if (!ParseString(&id)) return false;
        ids.push_back(std::move(id));
        if (IsPunct(",")) {
          Next();
        } else if (!IsPunct("]")) {
          Fail(Peek(), "expected `,` or `]`, found " + Describe(Peek()));
          return false;
        }
      }
      Next();
      if (ids.empty()) {
        Fail(Peek(), "an enum entity type needs at least one value");
        return false;
      }
      proto.enum_ids = std::move(ids);
    } else {
      if (IsIdent("in")) {
        Next();
        if (IsPunct("[")) {
          Next();
          while (!IsPunct("]")) {
            std::string p;
            if (!ParsePath(&p)) return false;
            proto.member_of.push_back(std::move(p));
            if (IsPunct(",")) {
              Next();
            } else if (!IsPunct("]")) {
              Fail(Peek(), "expected `,` or `]`, found " + Describe(Peek()));
              return false;
            }
          }
          Next();
        } else {
          std::string p;
          if (!ParsePath(&p)) return false;
          proto.member_of.push_back(std::move(p));
        }
      }
      if (IsPunct("=")) {
        Next();
        if (!IsPunct("{")) {
          Fail(Peek(), "expected a record type after `=`");
          return false;
        }
      }
      if (IsPunct("{")) {
        proto.attrs = ParseType(0);
        if (!proto.attrs) return false;
      }
      if (IsIdent("tags")) {
        Next();
        proto.tags = ParseType(0);
        if (!proto.tags) return false;
      }
    }
    if (!Expect(";")) return false;
    for (const std::string& n : names) {
      RawEntity e;
      e.ns = proto.ns;
      e.name = n;
      e.member_of = proto.member_of;
      e.attrs = proto.attrs ? Clone(*proto.attrs) : nullptr;
      e.tags = proto.tags ? Clone(*proto.tags) : nullptr;
      e.enum_ids = proto.enum_ids;
      e.line = proto.line;
      e.column = proto.column;
      entities.push_back(std::move(e));
    }
    return true;
  }

  static std::unique_ptr<TypeExpr> Clone(const TypeExpr& t) {
    auto c = std::make_unique<TypeExpr>();
    c->kind = t.kind;
    c->name = t.name;
    c->line = t.line;
    c->column = t.column;
    if (t.element) c->element = Clone(*t.element);
    for (const auto& [k, v] : t.attrs) {
      c->attrs.emplace_back(k, std::make_pair(Clone(*v.first), v.second));
    }
    return c;
  }

  bool ParseActionRef(RawActionRef* ref) {
    // Name | Path '::' STR
    if (Peek().kind == TokKind::kStr) return ParseString(&ref->id);
    std::string path;
    if (!ParseIdent(&path)) return false;
    bool qualified = false;
    while (IsPunct("::")) {
      Next();
      if (Peek().kind == TokKind::kStr) {
        ref->type = path;
        qualified = true;
        return ParseString(&ref->id);
      }
      std::string part;
      if (!ParseIdent(&part)) return false;
      path += "::" + part;
    }
    if (!qualified) {
      if (path.find("::") != std::string::npos) {
        Fail(Peek(), "expected `::\"name\"` after action type `" + path + "`");
        return false;
      }
      ref->id = path;
    }
    return true;
  }

  bool ParseEntityTypeList(std::vector<std::string>* out) {
    if (IsPunct("[")) {
      Next();
      while (!IsPunct("]")) {
        std::string p;
        if (!ParsePath(&p)) return false;
        out->push_back(std::move(p));
        if (IsPunct(",")) {
          Next();
        } else if (!IsPunct("]")) {
          Fail(Peek(), "expected `,` or `]`, found " + Describe(Peek()));
          return false;
        }
      }
      Next();
      return true;
    }
    std::string p;
    if (!ParsePath(&p)) return false;
    out->push_back(std::move(p));
    return true;
  }

  bool ParseAction(const std::string& ns) {
    const Token& kw = Next();
    std::vector<std::string> names;
    do {
      std::string n;
      if (!ParseName(&n)) return false;
      names.push_back(std::move(n));
      if (!IsPunct(",")) break;
      Next();
    } while (true);
    RawAction proto;
    proto.ns = ns;
    proto.line = kw.line;
    proto.column = kw.column;
    if (IsIdent("in")) {
      Next();
      if (IsPunct("[")) {
        Next();
        while (!IsPunct("]")) {
          RawActionRef r;
          if (!ParseActionRef(&r)) return false;
          proto.parents.push_back(std::move(r));
          if (IsPunct(",")) {
            Next();
          } else if (!IsPunct("]")) {
            Fail(Peek(), "expected `,` or `]`, found " + Describe(Peek()));
            return false;
          }
        }
        Next();
      } else {
        RawActionRef r;
        if (!ParseActionRef(&r)) return false;
        proto.parents.push_back(std::move(r));
      }
    }
    if (IsIdent("appliesTo")) {
      Next();
      proto.has_applies_to = true;
      if (!Expect("{")) return false;
      bool seen_p = false, seen_r = false, seen_c = false;
      while (!IsPunct("}")) {
        const Token& key = Peek();
        if (key.kind != TokKind::kIdent) {
          Fail(key, "expected `principal`, `resource` or `context`, found " + Describe(key));
          return false;
        }
        Next();
        if (!Expect(":")) return false;
        if (key.text == "principal" && !seen_p) {
          seen_p = true;
          if (!ParseEntityTypeList(&proto.principals)) return false;
        } else if (key.text == "resource" && !seen_r) {
          seen_r = true;
          if (!ParseEntityTypeList(&proto.resources)) return false;
        } else if (key.text == "context" && !seen_c) {
          seen_c = true;
          proto.context = ParseType(0);
          if (!proto.context) return false;
        } else {
          Fail(key, "unexpected or repeated `" + std::string(key.text) + "` in appliesTo");
          return false;
        }
        if (IsPunct(",")) {
          Next();
        } else if (!IsPunct("}")) {
          Fail(Peek(), "expected `,` or `}`, found " + Describe(Peek()));
          return false;
        }
      }
      Next();
    }
    if (IsIdent("attributes")) {
      Fail(Peek(), "action attributes are not supported");
      return false;
    }
    if (!Expect(";")) return false;
    for (const std::string& n : names) {
      RawAction a;
      a.ns = proto.ns;
      a.id = n;
      a.parents = proto.parents;
      a.has_applies_to = proto.has_applies_to;
      a.principals = proto.principals;
      a.resources = proto.resources;
      a.context = proto.context ? Clone(*proto.context) : nullptr;
      a.line = proto.line;
      a.column = proto.column;
      actions.push_back(std::move(a));
    }
    return true;
  }

  std::unique_ptr<TypeExpr> ParseType(size_t depth) {
    if (depth > options_.max_depth) {
      if (error_.ok()) {
        error_ = Status::ResourceExhausted(
            std::string(source_name_.empty() ? "" : std::string(source_name_) + ":") +
            std::to_string(Peek().line) + ":" + std::to_string(Peek().column) +
            ": type nests deeper than " + std::to_string(options_.max_depth));
      }
      return nullptr;
    }
    auto t = std::make_unique<TypeExpr>();
    t->line = Peek().line;
    t->column = Peek().column;
    if (IsPunct("{")) {
      Next();
      t->kind = TypeExpr::Kind::kRecord;
      while (!IsPunct("}")) {
        if (!SkipAnnotations()) return nullptr;
        std::string name;
        const Token& nt = Peek();
        if (!ParseName(&name)) return nullptr;
        bool required = true;
        if (IsPunct("?")) {
          Next();
          required = false;
        }
        if (!Expect(":")) return nullptr;
        auto at = ParseType(depth + 1);
        if (!at) return nullptr;
        for (const auto& [k, unused] : t->attrs) {
          if (k == name) {
            Fail(nt, "duplicate attribute `" + name + "`");
            return nullptr;
          }
        }
        t->attrs.emplace_back(std::move(name), std::make_pair(std::move(at), required));
        if (IsPunct(",")) {
          Next();
        } else if (!IsPunct("}")) {
          Fail(Peek(), "expected `,` or `}`, found " + Describe(Peek()));
          return nullptr;
        }
      }
      Next();
      return t;
    }
    if (IsIdent("Set") && Peek(1).kind == TokKind::kPunct && Peek(1).text == "<") {
      Next();
      Next();
      t->kind = TypeExpr::Kind::kSet;
      t->element = ParseType(depth + 1);
      if (!t->element) return nullptr;
      if (!Expect(">")) return nullptr;
      return t;
    }
    t->kind = TypeExpr::Kind::kName;
    if (!ParsePath(&t->name)) return nullptr;
    return t;
  }

  std::string_view src_;
  std::string_view source_name_;
  const SchemaOptions& options_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
  Status error_;
};

class Resolver {
 public:
  Resolver(SchemaParser& p, std::string_view source_name, size_t max_depth)
      : p_(p), source_name_(source_name), max_depth_(max_depth) {}

  Result<std::shared_ptr<SchemaData>> Run() {
    auto data = std::make_shared<SchemaData>();
    for (RawCommon& c : p_.commons) {
      std::string full = Qualify(c.ns, c.name);
      if (commons_.count(full)) return Error(0, 0, "duplicate common type `" + full + "`");
      commons_[full] = &c;
    }
    for (RawEntity& e : p_.entities) {
      std::string full = Qualify(e.ns, e.name);
      if (entity_names_.count(full)) {
        return Error(e.line, e.column, "duplicate entity type `" + full + "`");
      }
      entity_names_.insert(full);
    }
    for (RawEntity& e : p_.entities) {
      EntityTypeDef def;
      def.name = Qualify(e.ns, e.name);
      for (const std::string& m : e.member_of) {
        ARBITER_TRY(std::string resolved, ResolveEntityType(m, e.ns, e.line, e.column));
        def.member_of.push_back(std::move(resolved));
      }
      if (e.attrs) {
        ARBITER_TRY(auto t, Resolve(*e.attrs, e.ns, 0));
        def.attrs = std::move(t);
      } else {
        auto empty = std::make_shared<SchemaType>();
        empty->kind = SchemaType::Kind::kRecord;
        def.attrs = std::move(empty);
      }
      if (e.tags) {
        ARBITER_TRY(auto t, Resolve(*e.tags, e.ns, 0));
        def.tags = std::move(t);
      }
      def.enum_ids = e.enum_ids;
      data->entity_types[def.name] = std::move(def);
    }
    for (RawAction& a : p_.actions) {
      ActionDef def;
      def.uid = EntityUid(Qualify(a.ns, "Action"), a.id);
      if (data->actions.count(def.uid)) {
        return Error(a.line, a.column, "duplicate action `" + def.uid.ToString() + "`");
      }
      for (const RawActionRef& r : a.parents) {
        def.parents.emplace_back(r.type.empty() ? Qualify(a.ns, "Action") : r.type, r.id);
      }
      def.has_applies_to = a.has_applies_to;
      for (const std::string& t : a.principals) {
        ARBITER_TRY(std::string resolved, ResolveEntityType(t, a.ns, a.line, a.column));
        def.principals.push_back(std::move(resolved));
      }
      for (const std::string& t : a.resources) {
        ARBITER_TRY(std::string resolved, ResolveEntityType(t, a.ns, a.line, a.column));
        def.resources.push_back(std::move(resolved));
      }
      if (a.context) {
        ARBITER_TRY(auto t, Resolve(*a.context, a.ns, 0));
        if (t->kind != SchemaType::Kind::kRecord) {
          return Error(a.line, a.column,
                       "the context of action `" + def.uid.ToString() + "` must be a record type");
        }
        def.context = std::move(t);
      } else {
        auto empty = std::make_shared<SchemaType>();
        empty->kind = SchemaType::Kind::kRecord;
        def.context = std::move(empty);
      }
      data->action_order.push_back(def.uid);
      data->actions[def.uid] = std::move(def);
    }
    for (const auto& [uid, def] : data->actions) {
      for (const EntityUid& parent : def.parents) {
        if (!data->actions.count(parent)) {
          return Error(0, 0,
                       "action `" + uid.ToString() + "` is in undeclared action `" +
                           parent.ToString() + "`");
        }
      }
    }
    return data;
  }

 private:
  Status Error(std::uint32_t line, std::uint32_t column, const std::string& msg) {
    std::string where = source_name_.empty() ? "" : std::string(source_name_) + ":";
    if (line) where += std::to_string(line) + ":" + std::to_string(column) + ": ";
    return Status::InvalidArgument(where + msg);
  }

  Result<std::string> ResolveEntityType(const std::string& name, const std::string& ns,
                                        std::uint32_t line, std::uint32_t column) {
    if (!ns.empty() && entity_names_.count(ns + "::" + name)) return ns + "::" + name;
    if (entity_names_.count(name)) return name;
    return Error(line, column, "undeclared entity type `" + name + "`");
  }

  Result<std::shared_ptr<const SchemaType>> Builtin(std::string_view name) {
    auto t = std::make_shared<SchemaType>();
    if (name == "Bool" || name == "Boolean") {
      t->kind = SchemaType::Kind::kBool;
    } else if (name == "Long") {
      t->kind = SchemaType::Kind::kLong;
    } else if (name == "String") {
      t->kind = SchemaType::Kind::kString;
    } else if (name == "decimal" || name == "ipaddr" || name == "datetime" || name == "duration") {
      t->kind = SchemaType::Kind::kExtension;
      t->name = std::string(name);
    } else {
      return Status::NotFound("");
    }
    return std::shared_ptr<const SchemaType>(std::move(t));
  }

  Result<std::shared_ptr<const SchemaType>> ResolveName(const std::string& name,
                                                        const std::string& ns, size_t depth,
                                                        const TypeExpr& at) {
    auto entity = [&](const std::string& full) {
      auto t = std::make_shared<SchemaType>();
      t->kind = SchemaType::Kind::kEntity;
      t->name = full;
      return std::shared_ptr<const SchemaType>(std::move(t));
    };
    std::vector<std::string> candidates;
    if (!ns.empty()) candidates.push_back(ns + "::" + name);
    candidates.push_back(name);
    for (const std::string& c : candidates) {
      auto it = commons_.find(c);
      if (it != commons_.end()) return Resolve(*it->second->type, it->second->ns, depth + 1);
      if (entity_names_.count(c)) return entity(c);
    }
    if (name.rfind("__cedar::", 0) == 0) {
      auto b = Builtin(std::string_view(name).substr(9));
      if (b) return b;
    } else {
      auto b = Builtin(name);
      if (b) return b;
    }
    return Error(at.line, at.column, "undeclared type `" + name + "`");
  }

  Result<std::shared_ptr<const SchemaType>> Resolve(const TypeExpr& t, const std::string& ns,
                                                    size_t depth) {
    if (depth > max_depth_) {
      return Error(t.line, t.column, "type definitions nest too deeply or are cyclic");
    }
    switch (t.kind) {
      case TypeExpr::Kind::kName: return ResolveName(t.name, ns, depth, t);
      case TypeExpr::Kind::kSet: {
        ARBITER_TRY(auto el, Resolve(*t.element, ns, depth + 1));
        auto s = std::make_shared<SchemaType>();
        s->kind = SchemaType::Kind::kSet;
        s->element = std::move(el);
        return std::shared_ptr<const SchemaType>(std::move(s));
      }
      case TypeExpr::Kind::kRecord: {
        auto r = std::make_shared<SchemaType>();
        r->kind = SchemaType::Kind::kRecord;
        for (const auto& [k, v] : t.attrs) {
          ARBITER_TRY(auto at, Resolve(*v.first, ns, depth + 1));
          r->attrs[k] = AttrType{std::move(at), v.second};
        }
        return std::shared_ptr<const SchemaType>(std::move(r));
      }
    }
    return Error(t.line, t.column, "bad type");
  }

  SchemaParser& p_;
  std::string_view source_name_;
  size_t max_depth_;
  std::unordered_map<std::string, RawCommon*> commons_;
  std::set<std::string> entity_names_;
};

}  // namespace

class SchemaBuilder {
 public:
  static Schema Make(std::shared_ptr<const SchemaData> data) {
    Schema s;
    s.data_ = std::move(data);
    return s;
  }
};

Schema::Schema() : data_(std::make_shared<SchemaData>()) {}

std::vector<std::string> Schema::EntityTypeNames() const {
  std::vector<std::string> out;
  for (const auto& [name, unused] : data_->entity_types) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<EntityUid> Schema::ActionUids() const { return data_->action_order; }

bool Schema::HasEntityType(std::string_view name) const {
  return data_->entity_types.count(std::string(name)) != 0;
}

bool Schema::HasAction(const EntityUid& action) const { return data_->actions.count(action) != 0; }

Result<Schema> ParseSchema(std::string_view text, std::string_view source_name) {
  return ParseSchema(text, source_name, SchemaOptions{});
}

Result<Schema> ParseSchema(std::string_view text, std::string_view source_name,
                           const SchemaOptions& options) {
  if (text.size() > options.max_bytes) {
    return Status::ResourceExhausted("schema is " + std::to_string(text.size()) +
                                     " bytes, over the limit of " +
                                     std::to_string(options.max_bytes));
  }
  SchemaParser parser(text, source_name, options);
  if (!parser.Parse()) return internal::OneLine(parser.error());
  Resolver resolver(parser, source_name, options.max_depth);
  auto data = resolver.Run();
  if (!data) return internal::OneLine(data.error());
  return SchemaBuilder::Make(std::move(*data));
}

// ---- typed JSON ----

namespace internal {
namespace {

Result<Value> ParseExtn(const boost::json::value& json, const std::string& where);

// `{"fn": F, "arg": "..."}` or `{"fn": F, "args": [...]}` (arguments may themselves be `__extn`).
Result<Value> ParseExtn(const boost::json::value& json, const std::string& where) {
  const boost::json::object* o = json.if_object();
  const boost::json::value* fn = o ? o->if_contains("fn") : nullptr;
  if (!fn || !fn->is_string()) {
    return Status::InvalidArgument(where + ": `__extn` needs a string field `fn`");
  }
  std::string name(fn->as_string());
  if (name == "ipaddr") name = "ip";
  ExtFn f;
  bool method = false;
  int nargs = 0;
  if (!LookupExtFn(name, &f, &method, &nargs)) {
    return Status::InvalidArgument(where + ": unknown extension function `" + name + "`");
  }
  std::vector<Value> args;
  if (const boost::json::value* arg = o->if_contains("arg")) {
    ARBITER_TRY(Value v, ParseUntypedJson(*arg, where));
    args.push_back(std::move(v));
  } else if (const boost::json::value* arr = o->if_contains("args"); arr && arr->is_array()) {
    for (const auto& a : arr->as_array()) {
      ARBITER_TRY(Value v, ParseUntypedJson(a, where));
      args.push_back(std::move(v));
    }
  } else {
    return Status::InvalidArgument(where + ": `__extn` needs `arg` or `args`");
  }
  Value out;
  std::string error;
  if (!CallExtension(f, args.data(), args.size(), &out, &error)) {
    return Status::InvalidArgument(where + ": " + error);
  }
  return out;
}

Result<Value> ParseExtensionFor(const std::string& ext, std::string_view text,
                                const std::string& where) {
  Result<Value> r = Status::InvalidArgument("");
  if (ext == "decimal") {
    r = Value::ParseDecimal(text);
  } else if (ext == "ipaddr") {
    r = Value::ParseIpAddr(text);
  } else if (ext == "datetime") {
    r = Value::ParseDatetime(text);
  } else {
    r = Value::ParseDuration(text);
  }
  if (!r) return Status::InvalidArgument(where + ": " + r.error().message());
  return r;
}

ValueKind ExtKind(const std::string& ext) {
  if (ext == "decimal") return ValueKind::kDecimal;
  if (ext == "ipaddr") return ValueKind::kIpAddr;
  if (ext == "datetime") return ValueKind::kDatetime;
  return ValueKind::kDuration;
}

Result<std::int64_t> JsonLong(const boost::json::value& json, const std::string& where) {
  if (json.is_int64()) return json.as_int64();
  if (json.is_uint64()) {
    return Status::InvalidArgument(where + ": integer `" + std::to_string(json.as_uint64()) +
                                   "` is out of the 64-bit range");
  }
  return Status::InvalidArgument(where + ": expected an integer, found " +
                                 std::string(JsonKindName(json)));
}

}  // namespace

Result<EntityUid> ParseUidJson(const boost::json::value& json, const std::string& where) {
  const boost::json::object* o = json.if_object();
  if (!o) return Status::InvalidArgument(where + ": expected an entity uid object");
  if (const boost::json::value* inner = o->if_contains("__entity")) {
    return ParseUidJson(*inner, where);
  }
  const boost::json::value* type = o->if_contains("type");
  const boost::json::value* id = o->if_contains("id");
  if (!type || !type->is_string() || !id || !id->is_string()) {
    return Status::InvalidArgument(where + ": an entity uid needs string fields `type` and `id`");
  }
  std::string_view t = type->as_string();
  // The type must be a valid name path.
  auto valid = internal::ParseUidLiteral(std::string(t) + "::\"\"");
  if (!valid) {
    return Status::InvalidArgument(where + ": invalid entity type `" + std::string(t) + "`");
  }
  return EntityUid(t, std::string_view(id->as_string()));
}

Result<Value> ParseUntypedJson(const boost::json::value& json, const std::string& where) {
  switch (json.kind()) {
    case boost::json::kind::bool_: return Value::Bool(json.as_bool());
    case boost::json::kind::int64:
    case boost::json::kind::uint64: {
      ARBITER_TRY(std::int64_t n, JsonLong(json, where));
      return Value::Long(n);
    }
    case boost::json::kind::string: return Value::String(std::string(json.as_string()));
    case boost::json::kind::array: {
      std::vector<Value> els;
      size_t i = 0;
      for (const auto& el : json.as_array()) {
        ARBITER_TRY(Value v, ParseUntypedJson(el, where + "[" + std::to_string(i++) + "]"));
        els.push_back(std::move(v));
      }
      return Value::Set(std::move(els));
    }
    case boost::json::kind::object: {
      const boost::json::object& o = json.as_object();
      if (o.size() == 1 && o.contains("__entity")) {
        ARBITER_TRY(EntityUid uid, ParseUidJson(o.at("__entity"), where));
        return Value::Entity(std::move(uid));
      }
      if (o.size() == 1 && o.contains("__extn")) return ParseExtn(o.at("__extn"), where);
      std::vector<std::pair<std::string, Value>> fields;
      for (const auto& kv : o) {
        ARBITER_TRY(Value v, ParseUntypedJson(kv.value(), where + "." + std::string(kv.key())));
        fields.emplace_back(std::string(kv.key()), std::move(v));
      }
      return Value::Record(std::move(fields));
    }
    default:
      return Status::InvalidArgument(where + ": unsupported JSON value (" +
                                     std::string(JsonKindName(json)) + ")");
  }
}

Result<Value> ParseTypedJson(const boost::json::value& json, const SchemaType& type,
                             const std::string& where) {
  switch (type.kind) {
    case SchemaType::Kind::kBool:
      if (!json.is_bool()) {
        return Status::InvalidArgument(where + ": expected a boolean, found " +
                                       std::string(JsonKindName(json)));
      }
      return Value::Bool(json.as_bool());
    case SchemaType::Kind::kLong: {
      ARBITER_TRY(std::int64_t n, JsonLong(json, where));
      return Value::Long(n);
    }
    case SchemaType::Kind::kString:
      if (!json.is_string()) {
        return Status::InvalidArgument(where + ": expected a string, found " +
                                       std::string(JsonKindName(json)));
      }
      return Value::String(std::string(json.as_string()));
    case SchemaType::Kind::kExtension: {
      Value v;
      if (json.is_string()) {
        ARBITER_TRY(Value parsed, ParseExtensionFor(type.name, json.as_string(), where));
        v = std::move(parsed);
      } else if (json.is_object() && json.as_object().contains("__extn")) {
        ARBITER_TRY(Value parsed, ParseExtn(json.as_object().at("__extn"), where));
        v = std::move(parsed);
      } else if (json.is_object() && json.as_object().contains("fn")) {
        ARBITER_TRY(Value parsed, ParseExtn(json, where));
        v = std::move(parsed);
      } else {
        return Status::InvalidArgument(where + ": expected a " + type.name + " value");
      }
      if (!v.is(ExtKind(type.name))) {
        return Status::InvalidArgument(where + ": expected a " + type.name + " value, found " +
                                       std::string(ValueKindName(v.kind())));
      }
      return v;
    }
    case SchemaType::Kind::kEntity: {
      ARBITER_TRY(EntityUid uid, ParseUidJson(json, where));
      if (uid.type() != type.name) {
        return Status::InvalidArgument(where + ": expected an entity of type `" + type.name +
                                       "`, found `" + uid.ToString() + "`");
      }
      return Value::Entity(std::move(uid));
    }
    case SchemaType::Kind::kSet: {
      if (!json.is_array()) {
        return Status::InvalidArgument(where + ": expected an array, found " +
                                       std::string(JsonKindName(json)));
      }
      std::vector<Value> els;
      size_t i = 0;
      for (const auto& el : json.as_array()) {
        ARBITER_TRY(Value v,
                    ParseTypedJson(el, *type.element, where + "[" + std::to_string(i++) + "]"));
        els.push_back(std::move(v));
      }
      return Value::Set(std::move(els));
    }
    case SchemaType::Kind::kRecord: {
      if (!json.is_object()) {
        return Status::InvalidArgument(where + ": expected an object, found " +
                                       std::string(JsonKindName(json)));
      }
      const boost::json::object& o = json.as_object();
      std::vector<std::pair<std::string, Value>> fields;
      for (const auto& kv : o) {
        std::string key(kv.key());
        auto it = type.attrs.find(key);
        if (it == type.attrs.end()) {
          return Status::InvalidArgument(where + ": unexpected attribute `" + key + "`");
        }
        ARBITER_TRY(Value v, ParseTypedJson(kv.value(), *it->second.type, where + "." + key));
        fields.emplace_back(std::move(key), std::move(v));
      }
      for (const auto& [k, at] : type.attrs) {
        if (at.required && !o.contains(k)) {
          return Status::InvalidArgument(where + ": missing required attribute `" + k + "`");
        }
      }
      return Value::Record(std::move(fields));
    }
  }
  return Status::Internal("bad schema type");
}

Status CheckType(const Value& value, const SchemaType& type, const SchemaData& schema,
                 const std::string& where) {
  auto mismatch = [&](std::string_view want) {
    return Status::InvalidArgument(where + ": expected " + std::string(want) + ", found " +
                                   std::string(ValueKindName(value.kind())));
  };
  switch (type.kind) {
    case SchemaType::Kind::kBool:
      return value.is(ValueKind::kBool) ? Status::Ok() : mismatch("bool");
    case SchemaType::Kind::kLong:
      return value.is(ValueKind::kLong) ? Status::Ok() : mismatch("long");
    case SchemaType::Kind::kString:
      return value.is(ValueKind::kString) ? Status::Ok() : mismatch("string");
    case SchemaType::Kind::kExtension:
      return value.is(ExtKind(type.name)) ? Status::Ok() : mismatch(type.name);
    case SchemaType::Kind::kEntity:
      if (!value.is(ValueKind::kEntity)) return mismatch("entity of type `" + type.name + "`");
      if (value.as_entity().type() != type.name) {
        return Status::InvalidArgument(where + ": expected an entity of type `" + type.name +
                                       "`, found `" + value.as_entity().ToString() + "`");
      }
      return Status::Ok();
    case SchemaType::Kind::kSet: {
      if (!value.is(ValueKind::kSet)) return mismatch("set");
      for (const Value& el : value.as_set().elements()) {
        ARBITER_RETURN_IF_ERROR(CheckType(el, *type.element, schema, where + "[]"));
      }
      return Status::Ok();
    }
    case SchemaType::Kind::kRecord: {
      if (!value.is(ValueKind::kRecord)) return mismatch("record");
      for (const auto& [k, v] : value.as_record().fields()) {
        auto it = type.attrs.find(k);
        if (it == type.attrs.end()) {
          return Status::InvalidArgument(where + ": unexpected attribute `" + k + "`");
        }
        ARBITER_RETURN_IF_ERROR(CheckType(v, *it->second.type, schema, where + "." + k));
      }
      for (const auto& [k, at] : type.attrs) {
        if (at.required && !value.as_record().Find(k)) {
          return Status::InvalidArgument(where + ": missing required attribute `" + k + "`");
        }
      }
      return Status::Ok();
    }
  }
  return Status::Internal("bad schema type");
}

}  // namespace internal
}  // namespace arbiter::cedar
