// The resolved form of a `.cedarschema` schema, and typed JSON parsing driven by it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/json/value.hpp>

#include "arbiter/cedar/value.h"
#include "arbiter/common/status.h"

namespace arbiter::cedar::internal {

struct SchemaType;

struct AttrType {
  std::shared_ptr<const SchemaType> type;
  bool required = true;
};

struct SchemaType {
  enum class Kind { kBool, kLong, kString, kEntity, kSet, kRecord, kExtension };
  Kind kind = Kind::kBool;
  std::string name;                           // entity type, or extension name (decimal, ...)
  std::shared_ptr<const SchemaType> element;  // kSet
  std::map<std::string, AttrType> attrs;      // kRecord
};

struct EntityTypeDef {
  std::string name;
  std::vector<std::string> member_of;
  std::shared_ptr<const SchemaType> attrs;  // a record
  std::shared_ptr<const SchemaType> tags;   // nullptr when the type has no tags
  std::optional<std::vector<std::string>> enum_ids;
};

struct ActionDef {
  EntityUid uid;
  std::vector<EntityUid> parents;
  bool has_applies_to = false;
  std::vector<std::string> principals;
  std::vector<std::string> resources;
  std::shared_ptr<const SchemaType> context;  // a record
};

struct SchemaData {
  std::unordered_map<std::string, EntityTypeDef> entity_types;
  std::unordered_map<EntityUid, ActionDef, EntityUidHash> actions;
  std::vector<EntityUid> action_order;  // declaration order
};

// Parses JSON by a schema type (plain strings become extension values where the type says so).
// `where` names the value in errors.
Result<Value> ParseTypedJson(const boost::json::value& json, const SchemaType& type,
                             const std::string& where);
// Parses JSON without a schema (`__entity` and `__extn` escapes).
Result<Value> ParseUntypedJson(const boost::json::value& json, const std::string& where);
// Parses an entity uid object (`{"type","id"}` or `{"__entity":{...}}`).
Result<EntityUid> ParseUidJson(const boost::json::value& json, const std::string& where);
// Parses a context object, by the action's context type when `schema` is given.
Result<Value> ParseContextValue(const boost::json::value& json, const SchemaData* schema,
                                const EntityUid& action);
// Checks a value against a schema type.
Status CheckType(const Value& value, const SchemaType& type, const SchemaData& schema,
                 const std::string& where);

}  // namespace arbiter::cedar::internal
