// Cedar schemas in the human `.cedarschema` format: namespaces, entity types (attributes, optional
// attributes, tags, `in` parents, enum entity types), actions (appliesTo, context, groups,
// attributes are not supported), common types and annotations.
//
// A Schema drives schema-based parsing of entities and contexts (plain JSON strings become
// decimal/ipaddr/datetime/duration where the schema says so; `{"type","id"}` objects become
// entities), provides the action entities, and validates requests. Validating policies against a
// schema is not done here.
//
//   ARBITER_TRY(Schema schema, ParseSchema(text, "app.cedarschema"));
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
  size_t max_depth = 64;  // nesting of record/set types
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

// Errors: "<source>:<line>:<column>: <problem>" or a resolution error naming the type.
Result<Schema> ParseSchema(std::string_view cedarschema_text, std::string_view source_name = "");
Result<Schema> ParseSchema(std::string_view cedarschema_text, std::string_view source_name,
                           const SchemaOptions& options);

}  // namespace arbiter::cedar
