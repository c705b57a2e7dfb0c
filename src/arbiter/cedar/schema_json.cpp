// The JSON schema front end (JSON → SchemaSyntax) and the two emitters (SchemaSyntax → JSON,
// SchemaSyntax → `.cedarschema`). Name resolution is BuildSchema's, in schema.cpp.
#include "arbiter/cedar/schema_json.h"

#include <boost/json.hpp>

#include <initializer_list>

#include "arbiter/cedar/internal/schema_syntax.h"
#include "arbiter/cedar/value.h"
#include "arbiter/common/json.h"

namespace arbiter::cedar {

using internal::ActionDecl;
using internal::ActionRef;
using internal::Annotations;
using internal::AttrExpr;
using internal::CommonDecl;
using internal::EntityDecl;
using internal::SchemaSyntax;
using internal::SyntaxLoc;
using internal::TypeExpr;

namespace {

bool IsReservedWord(std::string_view s) {
  for (std::string_view r :
       {"true", "false", "if", "then", "else", "in", "is", "like", "has", "__cedar"}) {
    if (s == r) return true;
  }
  return false;
}

bool IsSimpleIdent(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

bool IsIdent(std::string_view s) { return IsSimpleIdent(s) && !IsReservedWord(s); }

// `A::B::C` with every part an identifier.
bool IsPath(std::string_view s) {
  while (true) {
    size_t sep = s.find("::");
    if (!IsIdent(s.substr(0, sep))) return false;
    if (sep == std::string_view::npos) return true;
    s.remove_prefix(sep + 2);
  }
}

// `__cedar::X` names the built-in X in type references (not in declarations).
bool IsTypePath(std::string_view s) {
  if (s.rfind("__cedar::", 0) == 0) return IsIdent(s.substr(9));
  return IsPath(s);
}

std::string Child(const std::string& path, std::string_view key) {
  if (IsSimpleIdent(key)) return path + "." + std::string(key);
  std::string out = path + "[";
  AppendJsonString(key, out);
  return out + "]";
}

std::string Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

class JsonSchemaParser {
 public:
  JsonSchemaParser(std::string_view source_name, const SchemaOptions& options)
      : source_name_(source_name), options_(options) {}

  Result<SchemaSyntax> Parse(const boost::json::value& doc) {
    SchemaSyntax out;
    ARBITER_TRY(const boost::json::object* top, Object(doc, "$"));
    for (const auto& kv : *top) {
      std::string ns(kv.key());
      std::string path = Child("$", ns);
      if (!ns.empty() && (!IsPath(ns) || ns.find("__cedar") != std::string::npos)) {
        return Error(path, "invalid namespace name `" + ns + "`");
      }
      for (const auto& n : out.namespaces) {
        if (n.name == ns) return Error(path, "duplicate namespace `" + ns + "`");
      }
      ARBITER_TRY(const boost::json::object* o, Object(kv.value(), path));
      ARBITER_RETURN_IF_ERROR(
          Keys(*o, path, {"commonTypes", "entityTypes", "actions", "annotations"}));
      internal::NamespaceDecl decl{ns, {}};
      if (const auto* a = o->if_contains("annotations")) {
        ARBITER_TRY(decl.annotations, ParseAnnotations(*a, Child(path, "annotations")));
      }
      out.namespaces.push_back(std::move(decl));
      if (const auto* c = o->if_contains("commonTypes")) {
        ARBITER_RETURN_IF_ERROR(ParseCommons(ns, *c, Child(path, "commonTypes"), &out));
      }
      const auto* e = o->if_contains("entityTypes");
      if (!e) return Error(path, "missing `entityTypes`");
      ARBITER_RETURN_IF_ERROR(ParseEntities(ns, *e, Child(path, "entityTypes"), &out));
      const auto* a = o->if_contains("actions");
      if (!a) return Error(path, "missing `actions`");
      ARBITER_RETURN_IF_ERROR(ParseActions(ns, *a, Child(path, "actions"), &out));
    }
    return out;
  }

 private:
  Status Error(const std::string& path, const std::string& msg) const {
    std::string where = source_name_.empty() ? "" : std::string(source_name_) + ": ";
    return Status::InvalidArgument(where + path + ": " + msg);
  }

  Result<const boost::json::object*> Object(const boost::json::value& v, const std::string& path) {
    if (!v.is_object()) {
      return Error(path, "expected an object, found " + std::string(JsonKindName(v)));
    }
    return &v.as_object();
  }
  Result<const boost::json::array*> Array(const boost::json::value& v, const std::string& path) {
    if (!v.is_array()) {
      return Error(path, "expected an array, found " + std::string(JsonKindName(v)));
    }
    return &v.as_array();
  }
  Result<std::string> String(const boost::json::value& v, const std::string& path) {
    if (!v.is_string()) {
      return Error(path, "expected a string, found " + std::string(JsonKindName(v)));
    }
    return std::string(v.as_string());
  }

  Status Keys(const boost::json::object& o, const std::string& path,
              std::initializer_list<std::string_view> allowed) {
    for (const auto& kv : o) {
      bool ok = false;
      for (std::string_view a : allowed) ok |= kv.key() == a;
      if (!ok) {
        std::string list;
        for (std::string_view a : allowed)
          list += (list.empty() ? "`" : ", `") + std::string(a) + "`";
        return Error(Child(path, kv.key()),
                     "unknown field `" + std::string(kv.key()) + "`, expected one of " + list);
      }
    }
    return Status::Ok();
  }

  Result<Annotations> ParseAnnotations(const boost::json::value& v, const std::string& path) {
    ARBITER_TRY(const boost::json::object* o, Object(v, path));
    Annotations out;
    for (const auto& kv : *o) {
      std::string p = Child(path, kv.key());
      if (!IsSimpleIdent(kv.key())) {
        return Error(p, "invalid annotation name `" + std::string(kv.key()) + "`");
      }
      ARBITER_TRY(std::string value, String(kv.value(), p));
      out.emplace_back(std::string(kv.key()), std::move(value));
    }
    return out;
  }

  Result<std::string> Name(const boost::json::value& v, const std::string& path, bool path_ok) {
    ARBITER_TRY(std::string s, String(v, path));
    if (path_ok ? !IsTypePath(s) : !IsIdent(s)) {
      return Error(path,
                   std::string("invalid ") + (path_ok ? "type name" : "name") + " `" + s + "`");
    }
    return s;
  }

  Status ParseCommons(const std::string& ns, const boost::json::value& v, const std::string& path,
                      SchemaSyntax* out) {
    ARBITER_TRY(const boost::json::object* o, Object(v, path));
    for (const auto& kv : *o) {
      std::string p = Child(path, kv.key());
      CommonDecl c;
      c.ns = ns;
      c.name = std::string(kv.key());
      c.loc.json_path = p;
      if (!IsIdent(c.name)) return Error(p, "invalid common type name `" + c.name + "`");
      ARBITER_TRY(c.type, ParseType(kv.value(), p, 0, Where::kCommon, &c.annotations, nullptr));
      out->commons.push_back(std::move(c));
    }
    return Status::Ok();
  }

  Result<std::vector<std::string>> NameList(const boost::json::value& v, const std::string& path) {
    ARBITER_TRY(const boost::json::array* a, Array(v, path));
    std::vector<std::string> out;
    for (size_t i = 0; i < a->size(); ++i) {
      ARBITER_TRY(std::string n, Name((*a)[i], Index(path, i), true));
      out.push_back(std::move(n));
    }
    return out;
  }

  Status ParseEntities(const std::string& ns, const boost::json::value& v, const std::string& path,
                       SchemaSyntax* out) {
    ARBITER_TRY(const boost::json::object* o, Object(v, path));
    for (const auto& kv : *o) {
      std::string p = Child(path, kv.key());
      EntityDecl e;
      e.ns = ns;
      e.name = std::string(kv.key());
      e.loc.json_path = p;
      if (!IsIdent(e.name)) return Error(p, "invalid entity type name `" + e.name + "`");
      ARBITER_TRY(const boost::json::object* d, Object(kv.value(), p));
      ARBITER_RETURN_IF_ERROR(
          Keys(*d, p, {"memberOfTypes", "shape", "tags", "enum", "annotations"}));
      if (const auto* a = d->if_contains("annotations")) {
        ARBITER_TRY(e.annotations, ParseAnnotations(*a, Child(p, "annotations")));
      }
      if (const auto* en = d->if_contains("enum")) {
        for (std::string_view k : {"memberOfTypes", "shape", "tags"}) {
          if (d->contains(k)) {
            return Error(Child(p, k), "an enum entity type cannot have `" + std::string(k) + "`");
          }
        }
        std::string ep = Child(p, "enum");
        ARBITER_TRY(const boost::json::array* arr, Array(*en, ep));
        if (arr->empty()) return Error(ep, "an enum entity type needs at least one value");
        std::vector<std::string> ids;
        for (size_t i = 0; i < arr->size(); ++i) {
          ARBITER_TRY(std::string id, String((*arr)[i], Index(ep, i)));
          ids.push_back(std::move(id));
        }
        e.enum_ids = std::move(ids);
      }
      if (const auto* m = d->if_contains("memberOfTypes")) {
        ARBITER_TRY(e.member_of, NameList(*m, Child(p, "memberOfTypes")));
      }
      if (const auto* s = d->if_contains("shape")) {
        ARBITER_TRY(e.attrs, ParseType(*s, Child(p, "shape"), 0, Where::kType, nullptr, nullptr));
        if (e.attrs->kind != TypeExpr::Kind::kRecord && e.attrs->kind != TypeExpr::Kind::kCommon &&
            e.attrs->kind != TypeExpr::Kind::kName) {
          return Error(Child(p, "shape"), "the shape of an entity type must be a record type");
        }
      }
      if (const auto* t = d->if_contains("tags")) {
        ARBITER_TRY(e.tags, ParseType(*t, Child(p, "tags"), 0, Where::kType, nullptr, nullptr));
      }
      out->entities.push_back(std::move(e));
    }
    return Status::Ok();
  }

  Status ParseActions(const std::string& ns, const boost::json::value& v, const std::string& path,
                      SchemaSyntax* out) {
    ARBITER_TRY(const boost::json::object* o, Object(v, path));
    for (const auto& kv : *o) {
      std::string p = Child(path, kv.key());
      ActionDecl a;
      a.ns = ns;
      a.id = std::string(kv.key());
      a.loc.json_path = p;
      ARBITER_TRY(const boost::json::object* d, Object(kv.value(), p));
      if (d->contains("attributes")) {
        return Error(Child(p, "attributes"), "action attributes are not supported");
      }
      ARBITER_RETURN_IF_ERROR(Keys(*d, p, {"memberOf", "appliesTo", "annotations"}));
      if (const auto* an = d->if_contains("annotations")) {
        ARBITER_TRY(a.annotations, ParseAnnotations(*an, Child(p, "annotations")));
      }
      if (const auto* m = d->if_contains("memberOf")) {
        std::string mp = Child(p, "memberOf");
        ARBITER_TRY(const boost::json::array* arr, Array(*m, mp));
        for (size_t i = 0; i < arr->size(); ++i) {
          std::string ip = Index(mp, i);
          ARBITER_TRY(const boost::json::object* r, Object((*arr)[i], ip));
          ARBITER_RETURN_IF_ERROR(Keys(*r, ip, {"id", "type"}));
          ActionRef ref;
          const auto* id = r->if_contains("id");
          if (!id) return Error(ip, "missing `id`");
          ARBITER_TRY(ref.id, String(*id, Child(ip, "id")));
          if (const auto* t = r->if_contains("type")) {
            ARBITER_TRY(ref.type, Name(*t, Child(ip, "type"), true));
          }
          a.parents.push_back(std::move(ref));
        }
      }
      if (const auto* at = d->if_contains("appliesTo"); at && !at->is_null()) {
        std::string ap = Child(p, "appliesTo");
        ARBITER_TRY(const boost::json::object* ao, Object(*at, ap));
        ARBITER_RETURN_IF_ERROR(Keys(*ao, ap, {"principalTypes", "resourceTypes", "context"}));
        a.has_applies_to = true;
        const auto* pt = ao->if_contains("principalTypes");
        if (!pt) return Error(ap, "missing `principalTypes`");
        ARBITER_TRY(a.principals, NameList(*pt, Child(ap, "principalTypes")));
        const auto* rt = ao->if_contains("resourceTypes");
        if (!rt) return Error(ap, "missing `resourceTypes`");
        ARBITER_TRY(a.resources, NameList(*rt, Child(ap, "resourceTypes")));
        if (const auto* c = ao->if_contains("context")) {
          ARBITER_TRY(a.context,
                      ParseType(*c, Child(ap, "context"), 0, Where::kType, nullptr, nullptr));
        }
      }
      out->actions.push_back(std::move(a));
    }
    return Status::Ok();
  }

  enum class Where { kType, kCommon, kAttribute };

  // A type object. Common type declarations may carry `annotations`; record attributes may carry
  // `annotations` and `required`.
  Result<std::unique_ptr<TypeExpr>> ParseType(const boost::json::value& v, const std::string& path,
                                              size_t depth, Where where, Annotations* annotations,
                                              bool* required) {
    if (depth > options_.max_depth) {
      return Status::ResourceExhausted(
          Error(path, "type nests deeper than " + std::to_string(options_.max_depth)).message());
    }
    ARBITER_TRY(const boost::json::object* o, Object(v, path));
    const auto* tv = o->if_contains("type");
    if (!tv) return Error(path, "missing `type`");
    ARBITER_TRY(std::string type, String(*tv, Child(path, "type")));
    auto t = std::make_unique<TypeExpr>();
    t->loc.json_path = path;
    std::vector<std::string_view> allowed{"type"};
    if (where == Where::kCommon || where == Where::kAttribute) allowed.push_back("annotations");
    if (where == Where::kAttribute) allowed.push_back("required");
    auto check_keys = [&](std::initializer_list<std::string_view> extra) -> Status {
      for (const auto& kv : *o) {
        bool ok = false;
        for (std::string_view a : allowed) ok |= kv.key() == a;
        for (std::string_view a : extra) ok |= kv.key() == a;
        if (!ok) {
          return Error(Child(path, kv.key()),
                       "unknown field `" + std::string(kv.key()) + "` for a type `" + type + "`");
        }
      }
      return Status::Ok();
    };
    auto name_field = [&]() -> Result<std::string> {
      const auto* n = o->if_contains("name");
      if (!n) return Error(path, "type `" + type + "` needs `name`");
      return Name(*n, Child(path, "name"), true);
    };
    if (type == "Long" || type == "String" || type == "Boolean") {
      ARBITER_RETURN_IF_ERROR(check_keys({}));
      t->kind = TypeExpr::Kind::kPrimitive;
      t->name = type == "Boolean" ? "Bool" : type;
    } else if (type == "Set") {
      ARBITER_RETURN_IF_ERROR(check_keys({"element"}));
      const auto* el = o->if_contains("element");
      if (!el) return Error(path, "type `Set` needs `element`");
      t->kind = TypeExpr::Kind::kSet;
      ARBITER_TRY(t->element, ParseType(*el, Child(path, "element"), depth + 1, Where::kType,
                                        nullptr, nullptr));
    } else if (type == "Record") {
      ARBITER_RETURN_IF_ERROR(check_keys({"attributes", "additionalAttributes"}));
      t->kind = TypeExpr::Kind::kRecord;
      if (const auto* aa = o->if_contains("additionalAttributes")) {
        std::string ap = Child(path, "additionalAttributes");
        if (!aa->is_bool()) {
          return Error(ap, "expected a boolean, found " + std::string(JsonKindName(*aa)));
        }
        if (aa->as_bool()) {
          return Error(ap, "`additionalAttributes: true` is not supported (experimental in Cedar)");
        }
      }
      if (const auto* attrs = o->if_contains("attributes")) {
        std::string ap = Child(path, "attributes");
        ARBITER_TRY(const boost::json::object* ao, Object(*attrs, ap));
        for (const auto& kv : *ao) {
          AttrExpr a;
          a.name = std::string(kv.key());
          ARBITER_TRY(a.type, ParseType(kv.value(), Child(ap, kv.key()), depth + 1,
                                        Where::kAttribute, &a.annotations, &a.required));
          t->attrs.push_back(std::move(a));
        }
      }
    } else if (type == "Entity" || type == "Extension" || type == "EntityOrCommon") {
      ARBITER_RETURN_IF_ERROR(check_keys({"name"}));
      ARBITER_TRY(t->name, name_field());
      t->kind = type == "Entity"      ? TypeExpr::Kind::kEntity
                : type == "Extension" ? TypeExpr::Kind::kExtension
                                      : TypeExpr::Kind::kName;
      if (t->kind != TypeExpr::Kind::kName && t->name.rfind("__cedar::", 0) == 0 &&
          t->kind == TypeExpr::Kind::kEntity) {
        return Error(Child(path, "name"), "invalid entity type name `" + t->name + "`");
      }
    } else {
      ARBITER_RETURN_IF_ERROR(check_keys({}));
      if (!IsTypePath(type)) return Error(Child(path, "type"), "unknown type `" + type + "`");
      t->kind = TypeExpr::Kind::kCommon;
      t->name = type;
    }
    if (const auto* a = o->if_contains("annotations"); a && annotations) {
      ARBITER_TRY(*annotations, ParseAnnotations(*a, Child(path, "annotations")));
    }
    if (const auto* r = o->if_contains("required"); r && required) {
      if (!r->is_bool()) {
        return Error(Child(path, "required"),
                     "expected a boolean, found " + std::string(JsonKindName(*r)));
      }
      *required = r->as_bool();
    }
    return t;
  }

  std::string_view source_name_;
  const SchemaOptions& options_;
};

// ---- JSON output ----

void PrettyJson(const boost::json::value& v, int indent, std::string& out) {
  auto newline = [&](int n) {
    out += '\n';
    out.append(static_cast<size_t>(n) * 2, ' ');
  };
  if (v.is_object()) {
    const auto& o = v.as_object();
    if (o.empty()) {
      out += "{}";
      return;
    }
    out += '{';
    bool first = true;
    for (const auto& kv : o) {
      if (!first) out += ',';
      first = false;
      newline(indent + 1);
      AppendJsonString(kv.key(), out);
      out += ": ";
      PrettyJson(kv.value(), indent + 1, out);
    }
    newline(indent);
    out += '}';
  } else if (v.is_array()) {
    const auto& a = v.as_array();
    if (a.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    bool first = true;
    for (const auto& el : a) {
      if (!first) out += ',';
      first = false;
      newline(indent + 1);
      PrettyJson(el, indent + 1, out);
    }
    newline(indent);
    out += ']';
  } else {
    out += ToJson(v);
  }
}

boost::json::object AnnotationsJson(const Annotations& annotations) {
  boost::json::object o;
  for (const auto& [k, v] : annotations) o[k] = v;
  return o;
}

boost::json::object TypeJson(const TypeExpr& t) {
  boost::json::object o;
  switch (t.kind) {
    case TypeExpr::Kind::kName:
      o["type"] = "EntityOrCommon";
      o["name"] = t.name;
      break;
    case TypeExpr::Kind::kCommon: o["type"] = t.name; break;
    case TypeExpr::Kind::kEntity:
      o["type"] = "Entity";
      o["name"] = t.name;
      break;
    case TypeExpr::Kind::kExtension:
      o["type"] = "Extension";
      o["name"] = t.name;
      break;
    case TypeExpr::Kind::kPrimitive: o["type"] = t.name == "Bool" ? "Boolean" : t.name; break;
    case TypeExpr::Kind::kSet:
      o["type"] = "Set";
      o["element"] = TypeJson(*t.element);
      break;
    case TypeExpr::Kind::kRecord: {
      o["type"] = "Record";
      boost::json::object attrs;
      for (const AttrExpr& a : t.attrs) {
        boost::json::object at = TypeJson(*a.type);
        if (!a.required) at["required"] = false;
        if (!a.annotations.empty()) at["annotations"] = AnnotationsJson(a.annotations);
        attrs[a.name] = std::move(at);
      }
      o["attributes"] = std::move(attrs);
      break;
    }
  }
  return o;
}

boost::json::array NamesJson(const std::vector<std::string>& names) {
  boost::json::array a;
  for (const std::string& n : names) a.emplace_back(n);
  return a;
}

// ---- `.cedarschema` output ----

std::string Quoted(std::string_view s) { return "\"" + EscapeCedarString(s) + "\""; }

std::string AttrName(std::string_view s) { return IsIdent(s) ? std::string(s) : Quoted(s); }

class CedarWriter {
 public:
  Result<std::string> Write(const SchemaSyntax& s) {
    bool first_block = true;
    for (const internal::NamespaceDecl& ns : s.namespaces) {
      int level = ns.name.empty() ? 0 : 1;
      std::vector<std::string> decls;
      for (const CommonDecl& c : s.commons) {
        if (c.ns != ns.name) continue;
        std::string d = AnnotationLines(c.annotations, level);
        d += Indent(level) + "type " + c.name + " = " + Type(*c.type, level) + ";\n";
        decls.push_back(std::move(d));
      }
      for (const EntityDecl& e : s.entities) {
        if (e.ns != ns.name) continue;
        ARBITER_TRY(std::string d, Entity(e, level));
        decls.push_back(std::move(d));
      }
      for (const ActionDecl& a : s.actions) {
        if (a.ns == ns.name) decls.push_back(Action(a, level));
      }
      if (ns.name.empty()) {
        for (const std::string& d : decls) {
          if (!first_block) out_ += '\n';
          first_block = false;
          out_ += d;
        }
        continue;
      }
      if (!first_block) out_ += '\n';
      first_block = false;
      out_ += AnnotationLines(ns.annotations, 0);
      out_ += "namespace " + ns.name + " {\n";
      for (size_t i = 0; i < decls.size(); ++i) {
        if (i) out_ += '\n';
        out_ += decls[i];
      }
      out_ += "}\n";
    }
    return out_;
  }

 private:
  static std::string Indent(int level) { return std::string(static_cast<size_t>(level) * 2, ' '); }

  static std::string AnnotationLines(const Annotations& annotations, int level) {
    std::string out;
    for (const auto& [k, v] : annotations) out += Indent(level) + "@" + k + "(" + Quoted(v) + ")\n";
    return out;
  }

  static std::string Names(const std::vector<std::string>& names) {
    std::string out = "[";
    for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + names[i];
    return out + "]";
  }

  static std::string Type(const TypeExpr& t, int level) {
    switch (t.kind) {
      case TypeExpr::Kind::kName:
      case TypeExpr::Kind::kCommon:
      case TypeExpr::Kind::kEntity: return t.name;
      case TypeExpr::Kind::kExtension:
      case TypeExpr::Kind::kPrimitive: return "__cedar::" + t.name;
      case TypeExpr::Kind::kSet: return "Set<" + Type(*t.element, level) + ">";
      case TypeExpr::Kind::kRecord: {
        if (t.attrs.empty()) return "{}";
        std::string out = "{\n";
        for (size_t i = 0; i < t.attrs.size(); ++i) {
          const AttrExpr& a = t.attrs[i];
          out += AnnotationLines(a.annotations, level + 1);
          out += Indent(level + 1) + AttrName(a.name) + (a.required ? "" : "?") + ": " +
                 Type(*a.type, level + 1) + (i + 1 < t.attrs.size() ? ",\n" : "\n");
        }
        return out + Indent(level) + "}";
      }
    }
    return "";
  }

  static Result<std::string> Entity(const EntityDecl& e, int level) {
    std::string d = AnnotationLines(e.annotations, level);
    d += Indent(level) + "entity " + e.name;
    if (e.enum_ids) {
      d += " enum [";
      for (size_t i = 0; i < e.enum_ids->size(); ++i)
        d += (i ? ", " : "") + Quoted((*e.enum_ids)[i]);
      return d + "];\n";
    }
    if (!e.member_of.empty()) d += " in " + Names(e.member_of);
    if (e.attrs) {
      if (e.attrs->kind != TypeExpr::Kind::kRecord) {
        return Status::InvalidArgument("entity type `" + e.name +
                                       "` has a shape given by the common type `" + e.attrs->name +
                                       "`, which the cedar schema format cannot express");
      }
      if (!e.attrs->attrs.empty()) d += " = " + Type(*e.attrs, level);
    }
    if (e.tags) d += " tags " + Type(*e.tags, level);
    return d + ";\n";
  }

  static std::string Action(const ActionDecl& a, int level) {
    std::string d = AnnotationLines(a.annotations, level);
    d += Indent(level) + "action " + Quoted(a.id);
    if (!a.parents.empty()) {
      d += " in [";
      for (size_t i = 0; i < a.parents.size(); ++i) {
        const ActionRef& r = a.parents[i];
        d += (i ? ", " : "") + (r.type.empty() ? "" : r.type + "::") + Quoted(r.id);
      }
      d += "]";
    }
    if (a.has_applies_to) {
      std::string in = Indent(level + 1);
      d += " appliesTo {\n" + in + "principal: " + Names(a.principals) + ",\n" + in +
           "resource: " + Names(a.resources);
      if (a.context) d += ",\n" + in + "context: " + Type(*a.context, level + 1);
      d += "\n" + Indent(level) + "}";
    }
    return d + ";\n";
  }

  std::string out_;
};

}  // namespace

namespace internal {

Result<SchemaSyntax> ParseJsonSyntax(std::string_view text, std::string_view source_name,
                                     const SchemaOptions& options) {
  if (text.size() > options.max_bytes) {
    return Status::ResourceExhausted("schema is " + std::to_string(text.size()) +
                                     " bytes, over the limit of " +
                                     std::to_string(options.max_bytes));
  }
  // A type level is at most three JSON levels (type, attributes, attribute).
  JsonLimits limits{options.max_bytes, 3 * options.max_depth + 8};
  auto doc = ParseJson(text, limits);
  if (!doc) {
    std::string where = source_name.empty() ? "" : std::string(source_name) + ": ";
    return Status(doc.error().code(), where + doc.error().message());
  }
  JsonSchemaParser parser(source_name, options);
  return parser.Parse(*doc);
}

std::string EmitJsonSchema(const SchemaSyntax& s) {
  boost::json::object top;
  for (const NamespaceDecl& ns : s.namespaces) {
    boost::json::object o;
    boost::json::object commons, entities, actions;
    for (const CommonDecl& c : s.commons) {
      if (c.ns != ns.name) continue;
      boost::json::object t = TypeJson(*c.type);
      if (!c.annotations.empty()) t["annotations"] = AnnotationsJson(c.annotations);
      commons[c.name] = std::move(t);
    }
    for (const EntityDecl& e : s.entities) {
      if (e.ns != ns.name) continue;
      boost::json::object d;
      if (!e.member_of.empty()) d["memberOfTypes"] = NamesJson(e.member_of);
      if (e.attrs) d["shape"] = TypeJson(*e.attrs);
      if (e.tags) d["tags"] = TypeJson(*e.tags);
      if (e.enum_ids) d["enum"] = NamesJson(*e.enum_ids);
      if (!e.annotations.empty()) d["annotations"] = AnnotationsJson(e.annotations);
      entities[e.name] = std::move(d);
    }
    for (const ActionDecl& a : s.actions) {
      if (a.ns != ns.name) continue;
      boost::json::object d;
      if (!a.parents.empty()) {
        boost::json::array parents;
        for (const ActionRef& r : a.parents) {
          boost::json::object ref{{"id", r.id}};
          if (!r.type.empty()) ref["type"] = r.type;
          parents.emplace_back(std::move(ref));
        }
        d["memberOf"] = std::move(parents);
      }
      if (a.has_applies_to) {
        boost::json::object at{{"principalTypes", NamesJson(a.principals)},
                               {"resourceTypes", NamesJson(a.resources)}};
        if (a.context) at["context"] = TypeJson(*a.context);
        d["appliesTo"] = std::move(at);
      }
      if (!a.annotations.empty()) d["annotations"] = AnnotationsJson(a.annotations);
      actions[a.id] = std::move(d);
    }
    if (!commons.empty()) o["commonTypes"] = std::move(commons);
    o["entityTypes"] = std::move(entities);
    o["actions"] = std::move(actions);
    if (!ns.annotations.empty()) o["annotations"] = AnnotationsJson(ns.annotations);
    top[ns.name] = std::move(o);
  }
  std::string out;
  PrettyJson(top, 0, out);
  return out + "\n";
}

Result<std::string> EmitCedarSchema(const SchemaSyntax& s) { return CedarWriter().Write(s); }

}  // namespace internal

Result<std::string> CedarSchemaToJson(std::string_view text, std::string_view source_name,
                                      const SchemaOptions& options) {
  ARBITER_TRY(SchemaSyntax syntax, internal::ParseCedarSyntax(text, source_name, options));
  ARBITER_RETURN_IF_ERROR(internal::BuildSchema(syntax, source_name, options).status());
  return internal::EmitJsonSchema(syntax);
}

Result<std::string> JsonSchemaToCedar(std::string_view text, std::string_view source_name,
                                      const SchemaOptions& options) {
  ARBITER_TRY(SchemaSyntax syntax, internal::ParseJsonSyntax(text, source_name, options));
  ARBITER_RETURN_IF_ERROR(internal::BuildSchema(syntax, source_name, options).status());
  return internal::EmitCedarSchema(syntax);
}

}  // namespace arbiter::cedar
