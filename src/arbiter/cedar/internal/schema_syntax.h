// The syntax tree of a Cedar schema, shared by the two front ends (the human `.cedarschema` parser
// in schema.cpp, the JSON schema parser in schema_json.cpp) and the two emitters. Names are kept as
// written; BuildSchema resolves them once, the same way for both formats, into SchemaData.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "arbiter/cedar/internal/schema_data.h"
#include "arbiter/cedar/schema.h"
#include "arbiter/common/status.h"

namespace arbiter::cedar::internal {

// Where a declaration came from: a line and column in a `.cedarschema` file, or a JSON path
// (`$.App.entityTypes.User`, `$[""].actions["read doc"]`) in a JSON schema.
struct SyntaxLoc {
  std::uint32_t line = 0, column = 0;
  std::string json_path;
};

using Annotations = std::vector<std::pair<std::string, std::string>>;

struct TypeExpr;

struct AttrExpr {
  std::string name;
  std::unique_ptr<TypeExpr> type;
  bool required = true;
  Annotations annotations;
};

struct TypeExpr {
  enum class Kind {
    kName,       // human name / JSON EntityOrCommon: common type, then entity type, then built-in
    kCommon,     // JSON `{"type": "N"}` with a non-keyword N: common type, then built-in
    kEntity,     // JSON `{"type": "Entity", "name": N}`
    kExtension,  // JSON `{"type": "Extension", "name": N}`
    kPrimitive,  // JSON `{"type": "Long" | "String" | "Boolean"}`; name is Long, String or Bool
    kSet,
    kRecord,
  };
  Kind kind = Kind::kName;
  std::string name;
  std::unique_ptr<TypeExpr> element;  // kSet
  std::vector<AttrExpr> attrs;        // kRecord, in declaration order
  SyntaxLoc loc;
};

struct NamespaceDecl {
  std::string name;  // "" for the empty namespace
  Annotations annotations;
};

struct EntityDecl {
  std::string ns;
  std::string name;
  std::vector<std::string> member_of;  // as written
  std::unique_ptr<TypeExpr> attrs;     // may be null (no shape)
  std::unique_ptr<TypeExpr> tags;      // may be null
  std::optional<std::vector<std::string>> enum_ids;
  Annotations annotations;
  SyntaxLoc loc;
};

struct ActionRef {
  std::string type;  // as written; empty: the declaring namespace's Action
  std::string id;
};

struct ActionDecl {
  std::string ns;
  std::string id;
  std::vector<ActionRef> parents;
  bool has_applies_to = false;
  std::vector<std::string> principals, resources;  // as written
  std::unique_ptr<TypeExpr> context;               // may be null
  Annotations annotations;
  SyntaxLoc loc;
};

struct CommonDecl {
  std::string ns;
  std::string name;
  std::unique_ptr<TypeExpr> type;
  Annotations annotations;
  SyntaxLoc loc;
};

struct SchemaSyntax {
  std::vector<NamespaceDecl> namespaces;  // in order of first appearance
  std::vector<EntityDecl> entities;
  std::vector<ActionDecl> actions;
  std::vector<CommonDecl> commons;
};

std::unique_ptr<TypeExpr> CloneType(const TypeExpr& t);

// Front ends. Errors are one line: "<source>:<line>:<column>: ..." or "<source>: <json path>: ...".
Result<SchemaSyntax> ParseCedarSyntax(std::string_view text, std::string_view source_name,
                                      const SchemaOptions& options);
Result<SchemaSyntax> ParseJsonSyntax(std::string_view text, std::string_view source_name,
                                     const SchemaOptions& options);

// Resolves names (Cedar's order: the namespace's common type, its entity type, then the empty
// namespace's, then the built-ins) and checks the schema.
Result<std::shared_ptr<SchemaData>> BuildSchema(const SchemaSyntax& syntax,
                                                std::string_view source_name,
                                                const SchemaOptions& options);

// Emitters. The output parses back (with the other front end) to the same resolved schema.
std::string EmitJsonSchema(const SchemaSyntax& syntax);
Result<std::string> EmitCedarSchema(const SchemaSyntax& syntax);

}  // namespace arbiter::cedar::internal
