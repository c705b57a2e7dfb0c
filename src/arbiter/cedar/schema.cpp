// The human `.cedarschema` front end, the builder that resolves a schema's syntax tree (from either
// format) into SchemaData, and schema-driven JSON parsing.
#include "arbiter/cedar/schema.h"

#include <algorithm>
#include <functional>
#include <set>
#include <unordered_set>

#include "arbiter/cedar/internal/evaluator.h"
#include "arbiter/cedar/internal/lexer.h"
#include "arbiter/cedar/internal/schema_data.h"
#include "arbiter/cedar/internal/schema_syntax.h"
#include "arbiter/common/json.h"

namespace arbiter::cedar {

using internal::ActionDecl;
using internal::ActionDef;
using internal::ActionRef;
using internal::Annotations;
using internal::AttrExpr;
using internal::AttrType;
using internal::CommonDecl;
using internal::EntityDecl;
using internal::EntityTypeDef;
using internal::SchemaData;
using internal::SchemaSyntax;
using internal::SchemaType;
using internal::SyntaxLoc;
using internal::Token;
using internal::TokKind;
using internal::TypeExpr;

namespace {

std::string Qualify(const std::string& ns, const std::string& name) {
  return ns.empty() ? name : ns + "::" + name;
}

class SchemaParser : private internal::TokenCursor {
 public:
  SchemaParser(std::string_view src, std::string_view source_name, const SchemaOptions& options)
      : TokenCursor(source_name), src_(src), options_(options) {}

  bool Parse() {
    if (!Start(src_)) return false;
    while (Peek().kind != TokKind::kEof) {
      Annotations annotations;
      if (!ParseAnnotations(&annotations)) return false;
      if (IsIdent("namespace")) {
        Next();
        std::string ns;
        if (!ParsePath(&ns)) return false;
        if (!Expect("{")) return false;
        NoteNamespace(ns, std::move(annotations));
        while (!IsPunct("}")) {
          if (Peek().kind == TokKind::kEof) {
            Fail(Peek(), "expected `}` to close namespace `" + ns + "`");
            return false;
          }
          Annotations inner;
          if (!ParseAnnotations(&inner)) return false;
          if (!ParseDecl(ns, std::move(inner))) return false;
        }
        Next();
      } else {
        NoteNamespace("", {});
        if (!ParseDecl("", std::move(annotations))) return false;
      }
    }
    return true;
  }

  using TokenCursor::error;
  SchemaSyntax syntax;

 private:
  void NoteNamespace(const std::string& ns, Annotations annotations) {
    for (auto& n : syntax.namespaces) {
      if (n.name == ns) {
        for (auto& a : annotations) n.annotations.push_back(std::move(a));
        return;
      }
    }
    syntax.namespaces.push_back({ns, std::move(annotations)});
  }
  static SyntaxLoc Loc(const Token& t) { return SyntaxLoc{t.line, t.column, {}}; }
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
  bool ParseAnnotations(Annotations* out) {
    while (IsPunct("@")) {
      Next();
      const Token& at = Peek();
      std::string name;
      if (!ParseIdent(&name)) return false;
      std::string value;
      if (IsPunct("(")) {
        Next();
        if (!ParseString(&value)) return false;
        if (!Expect(")")) return false;
      }
      for (const auto& [k, unused] : *out) {
        if (k == name) {
          Fail(at, "duplicate annotation `@" + name + "`");
          return false;
        }
      }
      out->emplace_back(std::move(name), std::move(value));
    }
    return true;
  }

  bool ParseDecl(const std::string& ns, Annotations annotations) {
    if (IsIdent("entity")) return ParseEntity(ns, std::move(annotations));
    if (IsIdent("action")) return ParseAction(ns, std::move(annotations));
    if (IsIdent("type")) {
      CommonDecl c;
      c.loc = Loc(Next());
      c.ns = ns;
      c.annotations = std::move(annotations);
      if (!ParseIdent(&c.name)) return false;
      if (!Expect("=")) return false;
      c.type = ParseType(0);
      if (!c.type) return false;
      if (!Expect(";")) return false;
      syntax.commons.push_back(std::move(c));
      return true;
    }
    Fail(Peek(), "expected `entity`, `action`, `type` or `namespace`, found " + Describe(Peek()));
    return false;
  }

  bool ParseEntity(const std::string& ns, Annotations annotations) {
    const Token& kw = Next();
    std::vector<std::string> names;
    do {
      std::string n;
      if (!ParseIdent(&n)) return false;
      names.push_back(std::move(n));
      if (!IsPunct(",")) break;
      Next();
    } while (true);
    EntityDecl proto;
    proto.ns = ns;
    proto.loc = Loc(kw);
    if (IsIdent("enum")) {
      Next();
      std::vector<std::string> ids;
      if (!ParseList([&] {
            std::string id;
            if (!ParseString(&id)) return false;
            ids.push_back(std::move(id));
            return true;
          })) {
        return false;
      }
      if (ids.empty()) {
        Fail(Peek(), "an enum entity type needs at least one value");
        return false;
      }
      proto.enum_ids = std::move(ids);
    } else {
      if (IsIdent("in")) {
        Next();
        if (!ParseEntityTypeList(&proto.member_of)) return false;
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
      EntityDecl e;
      e.ns = proto.ns;
      e.name = n;
      e.member_of = proto.member_of;
      e.attrs = proto.attrs ? internal::CloneType(*proto.attrs) : nullptr;
      e.tags = proto.tags ? internal::CloneType(*proto.tags) : nullptr;
      e.enum_ids = proto.enum_ids;
      e.annotations = annotations;
      e.loc = proto.loc;
      syntax.entities.push_back(std::move(e));
    }
    return true;
  }

  bool ParseActionRef(ActionRef* ref) {
    // Name | Path '::' STR
    if (Peek().kind == TokKind::kStr) return ParseString(&ref->id);
    std::string path;
    if (!ParseIdent(&path)) return false;
    while (IsPunct("::")) {
      Next();
      if (Peek().kind == TokKind::kStr) {
        ref->type = path;
        return ParseString(&ref->id);
      }
      std::string part;
      if (!ParseIdent(&part)) return false;
      path += "::" + part;
    }
    if (path.find("::") != std::string::npos) {
      Fail(Peek(), "expected `::\"name\"` after action type `" + path + "`");
      return false;
    }
    ref->id = path;
    return true;
  }

  bool ParseEntityTypeList(std::vector<std::string>* out) {
    if (IsPunct("[")) {
      return ParseList([&] {
        std::string p;
        if (!ParsePath(&p)) return false;
        out->push_back(std::move(p));
        return true;
      });
    }
    std::string p;
    if (!ParsePath(&p)) return false;
    out->push_back(std::move(p));
    return true;
  }

  bool ParseAction(const std::string& ns, Annotations annotations) {
    const Token& kw = Next();
    std::vector<std::string> names;
    do {
      std::string n;
      if (!ParseName(&n)) return false;
      names.push_back(std::move(n));
      if (!IsPunct(",")) break;
      Next();
    } while (true);
    ActionDecl proto;
    proto.ns = ns;
    proto.loc = Loc(kw);
    if (IsIdent("in")) {
      Next();
      auto one = [&] {
        ActionRef r;
        if (!ParseActionRef(&r)) return false;
        proto.parents.push_back(std::move(r));
        return true;
      };
      if (IsPunct("[") ? !ParseList(one) : !one()) return false;
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
      ActionDecl a;
      a.ns = proto.ns;
      a.id = n;
      a.parents = proto.parents;
      a.has_applies_to = proto.has_applies_to;
      a.principals = proto.principals;
      a.resources = proto.resources;
      a.context = proto.context ? internal::CloneType(*proto.context) : nullptr;
      a.annotations = annotations;
      a.loc = proto.loc;
      syntax.actions.push_back(std::move(a));
    }
    return true;
  }

  std::unique_ptr<TypeExpr> ParseType(size_t depth) {
    if (depth > options_.max_depth) {
      Fail(Peek(), "type nests deeper than " + std::to_string(options_.max_depth),
           StatusCode::kResourceExhausted);
      return nullptr;
    }
    auto t = std::make_unique<TypeExpr>();
    t->loc = Loc(Peek());
    if (IsPunct("{")) {
      Next();
      t->kind = TypeExpr::Kind::kRecord;
      while (!IsPunct("}")) {
        AttrExpr attr;
        if (!ParseAnnotations(&attr.annotations)) return nullptr;
        const Token& nt = Peek();
        if (!ParseName(&attr.name)) return nullptr;
        if (IsPunct("?")) {
          Next();
          attr.required = false;
        }
        if (!Expect(":")) return nullptr;
        attr.type = ParseType(depth + 1);
        if (!attr.type) return nullptr;
        for (const AttrExpr& a : t->attrs) {
          if (a.name == attr.name) {
            Fail(nt, "duplicate attribute `" + attr.name + "`");
            return nullptr;
          }
        }
        t->attrs.push_back(std::move(attr));
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
  const SchemaOptions& options_;
};

// The offset of the first byte that is not part of valid UTF-8, or npos.
size_t InvalidUtf8At(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xe ? 2 : (c >> 3) == 0x1e ? 3 : 9;
    if (n == 9 || i + n >= s.size()) return i;
    std::uint32_t cp = n == 0 ? c : n == 1 ? (c & 0x1f) : n == 2 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3f);
    }
    bool overlong = (n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000);
    if (overlong || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return std::string_view::npos;
}

bool IsReservedCommonName(std::string_view n) {
  return n == "Bool" || n == "Boolean" || n == "Entity" || n == "Extension" || n == "Long" ||
         n == "Record" || n == "Set" || n == "String";
}

// Resolves a SchemaSyntax into SchemaData. Common types are resolved once each (memoised), so a
// schema's resolved types form a DAG; `max_type_nodes` bounds the size of that DAG expanded into
// a tree, which is what consumers that walk types recursively see.
class Builder {
 public:
  Builder(const SchemaSyntax& s, std::string_view source_name, const SchemaOptions& options)
      : s_(s), source_name_(source_name), options_(options) {}

  Result<std::shared_ptr<SchemaData>> Run() {
    auto data = std::make_shared<SchemaData>();
    for (const CommonDecl& c : s_.commons) {
      std::string full = Qualify(c.ns, c.name);
      if (IsReservedCommonName(c.name)) {
        return Error(c.loc, "`" + c.name + "` is reserved and cannot be the name of a common type");
      }
      if (commons_.count(full)) return Error(c.loc, "duplicate common type `" + full + "`");
      commons_[full] = &c;
    }
    for (const EntityDecl& e : s_.entities) {
      std::string full = Qualify(e.ns, e.name);
      if (entity_names_.count(full)) {
        return Error(e.loc, "duplicate entity type `" + full + "`");
      }
      entity_names_.insert(full);
    }
    // A definition in a namespace may not shadow one of the empty namespace (RFC 70).
    auto check_shadow = [&](const std::string& ns, const std::string& name,
                            const SyntaxLoc& loc) -> Status {
      if (ns.empty() || !(entity_names_.count(name) || commons_.count(name))) return Status::Ok();
      return Error(loc, "definition of `" + Qualify(ns, name) + "` shadows the definition of `" +
                            name + "` in the empty namespace");
    };
    for (const CommonDecl& c : s_.commons) {
      ARBITER_RETURN_IF_ERROR(check_shadow(c.ns, c.name, c.loc));
    }
    for (const EntityDecl& e : s_.entities) {
      ARBITER_RETURN_IF_ERROR(check_shadow(e.ns, e.name, e.loc));
    }
    for (const CommonDecl& c : s_.commons) {  // unused ones must resolve too
      ARBITER_RETURN_IF_ERROR(ResolveCommon(Qualify(c.ns, c.name), *c.type, 0).status());
    }
    for (const EntityDecl& e : s_.entities) {
      EntityTypeDef def;
      def.name = Qualify(e.ns, e.name);
      for (const std::string& m : e.member_of) {
        ARBITER_TRY(std::string resolved, ResolveEntityType(m, e.ns, e.loc));
        def.member_of.push_back(std::move(resolved));
      }
      if (e.attrs) {
        ARBITER_TRY(auto t, Resolve(*e.attrs, e.ns, 0));
        if (t->kind != SchemaType::Kind::kRecord) {
          return Error(e.attrs->loc,
                       "the shape of entity type `" + def.name + "` must be a record type");
        }
        def.attrs = std::move(t);
      } else {
        def.attrs = EmptyRecord();
      }
      if (e.tags) {
        ARBITER_TRY(auto t, Resolve(*e.tags, e.ns, 0));
        def.tags = std::move(t);
      }
      def.enum_ids = e.enum_ids;
      data->entity_types[def.name] = std::move(def);
    }
    std::set<EntityUid> declared;
    for (const ActionDecl& a : s_.actions)
      declared.insert(EntityUid(Qualify(a.ns, "Action"), a.id));
    for (const ActionDecl& a : s_.actions) {
      ActionDef def;
      def.uid = EntityUid(Qualify(a.ns, "Action"), a.id);
      if (data->actions.count(def.uid)) {
        return Error(a.loc, "duplicate action `" + def.uid.ToString() + "`");
      }
      for (const ActionRef& r : a.parents) {
        // An action group's type is relative to the declaring namespace, then absolute.
        EntityUid parent(Qualify(a.ns, r.type.empty() ? "Action" : r.type), r.id);
        if (!r.type.empty() && !declared.count(parent)) parent = EntityUid(r.type, r.id);
        if (!declared.count(parent)) {
          return Error(a.loc, "action `" + def.uid.ToString() + "` is in undeclared action `" +
                                  parent.ToString() + "`");
        }
        def.parents.push_back(std::move(parent));
      }
      def.has_applies_to = a.has_applies_to;
      for (const std::string& t : a.principals) {
        ARBITER_TRY(std::string resolved, ResolveEntityType(t, a.ns, a.loc));
        def.principals.push_back(std::move(resolved));
      }
      for (const std::string& t : a.resources) {
        ARBITER_TRY(std::string resolved, ResolveEntityType(t, a.ns, a.loc));
        def.resources.push_back(std::move(resolved));
      }
      if (a.context) {
        ARBITER_TRY(auto t, Resolve(*a.context, a.ns, 0));
        if (t->kind != SchemaType::Kind::kRecord) {
          return Error(a.context->loc,
                       "the context of action `" + def.uid.ToString() + "` must be a record type");
        }
        def.context = std::move(t);
      } else {
        def.context = EmptyRecord();
      }
      data->action_order.push_back(def.uid);
      data->actions[def.uid] = std::move(def);
    }
    ARBITER_RETURN_IF_ERROR(CheckActionCycles(*data));
    return data;
  }

 private:
  Status Error(const SyntaxLoc& loc, const std::string& msg) const {
    std::string where = source_name_.empty() ? "" : std::string(source_name_) + ":";
    if (loc.line) {
      where += std::to_string(loc.line) + ":" + std::to_string(loc.column) + ": ";
    } else if (!loc.json_path.empty()) {
      where += (where.empty() ? "" : " ") + loc.json_path + ": ";
    } else if (!where.empty()) {
      where += " ";
    }
    return Status::InvalidArgument(where + msg);
  }

  static std::shared_ptr<const SchemaType> EmptyRecord() {
    auto empty = std::make_shared<SchemaType>();
    empty->kind = SchemaType::Kind::kRecord;
    return empty;
  }

  Status CheckActionCycles(const SchemaData& data) const {
    // Iterative DFS with colours: 1 = on the stack, 2 = done.
    std::unordered_map<EntityUid, int, EntityUidHash> colour;
    for (const EntityUid& start : data.action_order) {
      if (colour[start]) continue;
      std::vector<std::pair<EntityUid, size_t>> stack{{start, 0}};
      colour[start] = 1;
      while (!stack.empty()) {
        auto& [uid, next] = stack.back();
        const ActionDef& def = data.actions.at(uid);
        if (next == def.parents.size()) {
          colour[uid] = 2;
          stack.pop_back();
          continue;
        }
        const EntityUid& p = def.parents[next++];
        int& c = colour[p];
        if (c == 1) {
          return Error(SyntaxLoc{},
                       "cycle in the action hierarchy containing `" + p.ToString() + "`");
        }
        if (c == 0) {
          c = 1;
          stack.emplace_back(p, 0);
        }
      }
    }
    return Status::Ok();
  }

  Result<std::string> ResolveEntityType(const std::string& name, const std::string& ns,
                                        const SyntaxLoc& loc) {
    if (!ns.empty() && entity_names_.count(ns + "::" + name)) return ns + "::" + name;
    if (entity_names_.count(name)) return name;
    return Error(loc, "undeclared entity type `" + name + "`");
  }

  static std::shared_ptr<const SchemaType> Builtin(std::string_view name) {
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
      return nullptr;
    }
    return t;
  }

  Result<std::shared_ptr<const SchemaType>> Counted(std::shared_ptr<const SchemaType> t,
                                                    size_t size, size_t height,
                                                    const SyntaxLoc& loc) {
    if (size > options_.max_type_nodes) {
      return Status::ResourceExhausted(
          Error(loc,
                "types expand to more than " + std::to_string(options_.max_type_nodes) + " nodes")
              .message());
    }
    sizes_[t.get()] = size;
    heights_[t.get()] = height;
    return t;
  }

  size_t HeightOf(const std::shared_ptr<const SchemaType>& t) const {
    auto it = heights_.find(t.get());
    return it == heights_.end() ? 0 : it->second;
  }

  size_t SizeOf(const std::shared_ptr<const SchemaType>& t) const {
    auto it = sizes_.find(t.get());
    return it == sizes_.end() ? 1 : it->second;
  }

  // `depth` is the nesting at which the reference appears; a common type resolved once counts
  // its own height at every use.
  Result<std::shared_ptr<const SchemaType>> ResolveCommon(const std::string& full,
                                                          const TypeExpr& at, size_t depth) {
    if (auto it = resolved_commons_.find(full); it != resolved_commons_.end()) {
      if (depth + HeightOf(it->second) > options_.max_depth) return TooDeep(at);
      return it->second;
    }
    if (std::find(resolving_.begin(), resolving_.end(), full) != resolving_.end()) {
      return Error(at.loc, "cyclic common type definition involving `" + full + "`");
    }
    if (resolving_.size() > options_.max_depth) {
      return Status::ResourceExhausted(Error(at.loc, "common type references nest deeper than " +
                                                         std::to_string(options_.max_depth))
                                           .message());
    }
    const CommonDecl& c = *commons_.at(full);
    resolving_.push_back(full);
    auto r = Resolve(*c.type, c.ns, depth);
    resolving_.pop_back();
    if (!r) return r.error();
    resolved_commons_[full] = *r;
    return r;
  }

  Status TooDeep(const TypeExpr& t) const {
    return Status::ResourceExhausted(
        Error(t.loc, "type nests deeper than " + std::to_string(options_.max_depth)).message());
  }

  Result<std::shared_ptr<const SchemaType>> ResolveName(const TypeExpr& t, const std::string& ns,
                                                        size_t depth) {
    const std::string& name = t.name;
    auto entity = [&](const std::string& full) {
      auto e = std::make_shared<SchemaType>();
      e->kind = SchemaType::Kind::kEntity;
      e->name = full;
      return std::shared_ptr<const SchemaType>(std::move(e));
    };
    switch (t.kind) {
      case TypeExpr::Kind::kEntity: {
        ARBITER_TRY(std::string full, ResolveEntityType(name, ns, t.loc));
        return entity(full);
      }
      case TypeExpr::Kind::kExtension: {
        auto b = Builtin(name);
        if (!b || b->kind != SchemaType::Kind::kExtension) {
          return Error(t.loc, "unknown extension type `" + name + "`");
        }
        return b;
      }
      case TypeExpr::Kind::kPrimitive: return Builtin(name);
      default: break;
    }
    bool entities_too = t.kind == TypeExpr::Kind::kName;
    std::vector<std::string> candidates;
    if (!ns.empty()) candidates.push_back(ns + "::" + name);
    candidates.push_back(name);
    for (const std::string& c : candidates) {
      if (commons_.count(c)) return ResolveCommon(c, t, depth);
      if (entities_too && entity_names_.count(c)) return entity(c);
    }
    auto b = Builtin(name.rfind("__cedar::", 0) == 0 ? std::string_view(name).substr(9)
                                                     : std::string_view(name));
    if (b) return b;
    if (!entities_too && entity_names_.count(Qualify(ns, name)) + entity_names_.count(name)) {
      return Error(t.loc, "`" + name + "` is an entity type; write {\"type\": \"Entity\", " +
                              "\"name\": \"" + name + "\"} or use EntityOrCommon");
    }
    return Error(t.loc, "undeclared type `" + name + "`");
  }

  Result<std::shared_ptr<const SchemaType>> Resolve(const TypeExpr& t, const std::string& ns,
                                                    size_t depth) {
    if (depth > options_.max_depth) return TooDeep(t);
    switch (t.kind) {
      case TypeExpr::Kind::kSet: {
        ARBITER_TRY(auto el, Resolve(*t.element, ns, depth + 1));
        auto s = std::make_shared<SchemaType>();
        s->kind = SchemaType::Kind::kSet;
        size_t size = 1 + SizeOf(el), height = 1 + HeightOf(el);
        s->element = std::move(el);
        return Counted(std::move(s), size, height, t.loc);
      }
      case TypeExpr::Kind::kRecord: {
        auto r = std::make_shared<SchemaType>();
        r->kind = SchemaType::Kind::kRecord;
        size_t size = 1, height = 1;
        for (const AttrExpr& a : t.attrs) {
          ARBITER_TRY(auto at, Resolve(*a.type, ns, depth + 1));
          size += SizeOf(at);
          height = std::max(height, 1 + HeightOf(at));
          if (size > options_.max_type_nodes) return Counted(r, size, height, t.loc);
          r->attrs[a.name] = AttrType{std::move(at), a.required};
        }
        return Counted(std::move(r), size, height, t.loc);
      }
      default: return ResolveName(t, ns, depth);
    }
  }

  const SchemaSyntax& s_;
  std::string_view source_name_;
  const SchemaOptions& options_;
  std::unordered_map<std::string, const CommonDecl*> commons_;
  std::unordered_map<std::string, std::shared_ptr<const SchemaType>> resolved_commons_;
  std::vector<std::string> resolving_;
  std::unordered_map<const SchemaType*, size_t> sizes_, heights_;
  std::set<std::string> entity_names_;
};

}  // namespace

namespace internal {

std::unique_ptr<TypeExpr> CloneType(const TypeExpr& t) {
  auto c = std::make_unique<TypeExpr>();
  c->kind = t.kind;
  c->name = t.name;
  c->loc = t.loc;
  if (t.element) c->element = CloneType(*t.element);
  for (const AttrExpr& a : t.attrs) {
    c->attrs.push_back(AttrExpr{a.name, CloneType(*a.type), a.required, a.annotations});
  }
  return c;
}

Result<SchemaSyntax> ParseCedarSyntax(std::string_view text, std::string_view source_name,
                                      const SchemaOptions& options) {
  if (text.size() > options.max_bytes) {
    return Status::ResourceExhausted("schema is " + std::to_string(text.size()) +
                                     " bytes, over the limit of " +
                                     std::to_string(options.max_bytes));
  }
  if (size_t bad = InvalidUtf8At(text); bad != std::string_view::npos) {
    return Status::InvalidArgument((source_name.empty() ? "" : std::string(source_name) + ": ") +
                                   "invalid UTF-8 at byte " + std::to_string(bad));
  }
  SchemaParser parser(text, source_name, options);
  if (!parser.Parse()) return OneLine(parser.error());
  return std::move(parser.syntax);
}

Result<std::shared_ptr<SchemaData>> BuildSchema(const SchemaSyntax& syntax,
                                                std::string_view source_name,
                                                const SchemaOptions& options) {
  Builder builder(syntax, source_name, options);
  auto data = builder.Run();
  if (!data) return OneLine(data.error());
  return data;
}

}  // namespace internal

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

bool IsJsonSchemaText(std::string_view text) {
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    return c == '{';
  }
  return false;
}

Result<Schema> ParseSchema(std::string_view text, std::string_view source_name) {
  return ParseSchema(text, source_name, SchemaOptions{});
}

Result<Schema> ParseSchema(std::string_view text, std::string_view source_name,
                           const SchemaOptions& options) {
  if (IsJsonSchemaText(text)) return ParseJsonSchema(text, source_name, options);
  return ParseCedarSchema(text, source_name, options);
}

Result<Schema> ParseCedarSchema(std::string_view text, std::string_view source_name,
                                const SchemaOptions& options) {
  ARBITER_TRY(SchemaSyntax syntax, internal::ParseCedarSyntax(text, source_name, options));
  ARBITER_TRY(auto data, internal::BuildSchema(syntax, source_name, options));
  return SchemaBuilder::Make(std::move(data));
}

Result<Schema> ParseJsonSchema(std::string_view text, std::string_view source_name,
                               const SchemaOptions& options) {
  ARBITER_TRY(SchemaSyntax syntax, internal::ParseJsonSyntax(text, source_name, options));
  ARBITER_TRY(auto data, internal::BuildSchema(syntax, source_name, options));
  return SchemaBuilder::Make(std::move(data));
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
