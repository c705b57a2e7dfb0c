// Cedar schemas in both of Cedar's formats: the human `.cedarschema` format and the JSON schema
// format (docs/CEDAR.md, "Schema formats"). Either gives namespaces (including the empty one),
// entity types (attributes, optional attributes, tags, parents, enum entity types), actions
// (appliesTo, context, groups; action attributes are rejected, as the reference does), common
// types and annotations. Both front ends feed one builder, so names resolve the same way in both.
// Translating between the formats is schema_json.h.
//
// A Schema drives schema-based parsing of entities and contexts (plain JSON strings become
// decimal/ipaddr/datetime/duration where the schema says so; `{"type","id"}` objects become
// entities), provides the action entities, and validates requests. Validating policies against a
// schema is validator.h.
//
//   ARBITER_TRY(Schema schema, ParseSchema(text, "app.cedarschema"));  // either format
//   ARBITER_TRY(Entities entities, ParseEntitiesJson(json, &schema));
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/cedar/value.h"
#include "arbiter/common/status.h"

namespace arbiter::cedar {

namespace internal {
struct SchemaData;
}

struct SchemaOptions {
  size_t max_bytes = 8u << 20;
  size_t max_depth = 64;  // nesting of record/set types, and of common type references
  // Size of all resolved types expanded into trees (common types used many times count each
  // time): bounds the work of anything that walks a type.
  size_t max_type_nodes = 1u << 20;
};

class Schema {
 public:
  Schema();
  // Fully qualified names, e.g. "App::User".
  std::vector<std::string> EntityTypeNames() const;
  // Every action's uid (`App::Action::"view"`), with its group parents.
  std::vector<EntityUid> ActionUids() const;
  bool HasEntityType(std::string_view name) const;
  bool HasAction(const EntityUid& action) const;

  const internal::SchemaData& data() const { return *data_; }

 private:
  friend class SchemaBuilder;
  std::shared_ptr<const internal::SchemaData> data_;
};

// Either format: JSON when the text starts with `{` after whitespace (a `.cedarschema` file never
// does), the human format otherwise. Errors are one line: "<source>:<line>:<column>: <problem>"
// for the human format, "<source>: <json path>: <problem>" for JSON (the path reads like
// `$.App.entityTypes.User.shape`, `$[""]` for the empty namespace).
Result<Schema> ParseSchema(std::string_view text, std::string_view source_name = "");
Result<Schema> ParseSchema(std::string_view text, std::string_view source_name,
                           const SchemaOptions& options);
// One format only.
Result<Schema> ParseCedarSchema(std::string_view cedarschema_text,
                                std::string_view source_name = "",
                                const SchemaOptions& options = {});
Result<Schema> ParseJsonSchema(std::string_view json_text, std::string_view source_name = "",
                               const SchemaOptions& options = {});
// True when `text` starts with `{` after whitespace, i.e. ParseSchema reads it as JSON.
bool IsJsonSchemaText(std::string_view text);

}  // namespace arbiter::cedar
