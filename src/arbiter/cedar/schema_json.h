// Cedar's JSON schema format, and translation between it and the human `.cedarschema` format.
// Parsing a JSON schema into a Schema is ParseJsonSchema (or ParseSchema, which takes either
// format) in schema.h; both formats go through one builder, so a name resolves the same way in
// both. Translation keeps namespaces, common types (not inlined), annotations and declaration
// order, and checks the schema first: a schema that does not load is not translated.
//
//   ARBITER_TRY(std::string json, CedarSchemaToJson(text, "app.cedarschema"));
//   ARBITER_TRY(std::string text, JsonSchemaToCedar(json, "app.cedarschema.json"));
//
// Type names are written the way Cedar's own translator writes them: a human-format name becomes
// `{"type": "EntityOrCommon", "name": N}`; JSON `Long`/`String`/`Boolean`/`Extension` become
// `__cedar::Long`, `__cedar::String`, `__cedar::Bool`, `__cedar::decimal`, ... so that a
// declaration of the same name cannot capture them.
#pragma once

#include <string>
#include <string_view>

#include "arbiter/cedar/schema.h"
#include "arbiter/common/status.h"

namespace arbiter::cedar {

// Human format → JSON schema (pretty-printed, two-space indent, trailing newline).
Result<std::string> CedarSchemaToJson(std::string_view cedarschema_text,
                                      std::string_view source_name = "",
                                      const SchemaOptions& options = {});

// JSON schema → human format. Fails (as the reference does) on what the human format cannot say:
// an entity shape given as a common type reference.
Result<std::string> JsonSchemaToCedar(std::string_view json_text, std::string_view source_name = "",
                                      const SchemaOptions& options = {});

}  // namespace arbiter::cedar
