#include "arbiter/cedar/entities.h"

#include "arbiter/cedar/internal/ast.h"
#include "arbiter/cedar/internal/schema_data.h"
#include "arbiter/cedar/schema.h"
#include "arbiter/common/json.h"

namespace arbiter::cedar {

Status Entities::Add(EntityUid uid, Value attrs, std::vector<EntityUid> parents, Value tags) {
  if (!attrs.is(ValueKind::kRecord)) {
    return Status::InvalidArgument("attributes of `" + uid.ToString() + "` must be a record");
  }
  if (!tags.is(ValueKind::kRecord)) {
    return Status::InvalidArgument("tags of `" + uid.ToString() + "` must be a record");
  }
  EntityData data;
  data.uid = uid;
  data.attrs = std::move(attrs);
  data.tags = std::move(tags);
  data.parents = std::move(parents);
  if (!first_) {
    first_.emplace(std::move(data));
    return Status::Ok();
  }
  if (first_->uid == uid) return Status::AlreadyExists("duplicate entity `" + uid.ToString() + "`");
  auto [it, inserted] = rest_.try_emplace(uid, std::move(data));
  if (!inserted) return Status::AlreadyExists("duplicate entity `" + uid.ToString() + "`");
  return Status::Ok();
}

Status Entities::Finalize() {
  // Depth-first over parents, for every own entity. Base entities already carry their closure.
  std::vector<const EntityUid*> stack;
  const auto close = [&](EntityData& data) {
    data.ancestors.clear();
    stack.clear();
    for (const EntityUid& p : data.parents) stack.push_back(&p);
    while (!stack.empty()) {
      const EntityUid* u = stack.back();
      stack.pop_back();
      if (!data.ancestors.insert(*u).second) continue;
      const EntityData* own = first_ && first_->uid == *u ? &*first_ : nullptr;
      if (own == nullptr && !rest_.empty()) {
        auto it = rest_.find(*u);
        if (it != rest_.end()) own = &it->second;
      }
      if (own != nullptr) {
        for (const EntityUid& p : own->parents) {
          if (!data.ancestors.count(p)) stack.push_back(&p);
        }
      } else if (base_) {
        if (const EntityData* b = base_->Find(*u)) {
          for (const EntityUid& a : b->ancestors) data.ancestors.insert(a);
        }
      }
    }
  };
  if (first_) close(*first_);
  for (auto& [uid, data] : rest_) close(data);
  return Status::Ok();
}

Result<EntityUid> ParseEntityUidJson(std::string_view json) {
  ARBITER_TRY(boost::json::value doc, ParseJson(json, JsonLimits{1u << 16, 8}));
  return internal::ParseUidJson(doc, "entity uid");
}

Result<EntityUid> ParseEntityUid(std::string_view text) { return internal::ParseUidLiteral(text); }

namespace {
Result<Entities> ParseEntitiesJsonImpl(std::string_view json, const Schema* schema,
                                       const EntitiesLimits& limits) {
  ARBITER_TRY(boost::json::value doc,
              ParseJson(json, JsonLimits{limits.max_bytes, limits.max_depth}));
  const boost::json::array* arr = doc.if_array();
  if (!arr) return Status::InvalidArgument("entities: expected a JSON array of entities");
  if (arr->size() > limits.max_entities) {
    return Status::ResourceExhausted("entities: more than " + std::to_string(limits.max_entities) +
                                     " entities");
  }
  const internal::SchemaData* sd = schema ? &schema->data() : nullptr;
  Entities out;
  size_t index = 0;
  for (const boost::json::value& item : *arr) {
    std::string where = "entities[" + std::to_string(index++) + "]";
    const boost::json::object* o = item.if_object();
    if (!o) return Status::InvalidArgument(where + ": expected an object");
    const boost::json::value* uid_json = o->if_contains("uid");
    if (!uid_json) return Status::InvalidArgument(where + ": missing `uid`");
    ARBITER_TRY(EntityUid uid, internal::ParseUidJson(*uid_json, where + ".uid"));
    where = "entity `" + uid.ToString() + "`";
    for (const auto& kv : *o) {
      if (kv.key() != "uid" && kv.key() != "attrs" && kv.key() != "parents" && kv.key() != "tags") {
        return Status::InvalidArgument(where + ": unexpected field `" + std::string(kv.key()) +
                                       "`");
      }
    }
    const internal::EntityTypeDef* def = nullptr;
    bool is_schema_action = false;
    if (sd) {
      auto it = sd->entity_types.find(uid.type());
      if (it != sd->entity_types.end()) {
        def = &it->second;
      } else if (sd->actions.count(uid)) {
        is_schema_action = true;
      } else {
        return Status::InvalidArgument(where + ": entity type `" + uid.type() +
                                       "` is not declared in the schema");
      }
      if (def && def->enum_ids) {
        bool found = false;
        for (const std::string& id : *def->enum_ids) found = found || id == uid.id();
        if (!found) {
          return Status::InvalidArgument(where + ": id `" + uid.id() +
                                         "` is not one of the enumerated ids of `" + uid.type() +
                                         "`");
        }
      }
    }
    Value attrs = Value::Record({});
    if (const boost::json::value* a = o->if_contains("attrs")) {
      if (!a->is_object()) return Status::InvalidArgument(where + ".attrs: expected an object");
      if (def) {
        ARBITER_TRY(Value v, internal::ParseTypedJson(*a, *def->attrs, where));
        attrs = std::move(v);
      } else {
        ARBITER_TRY(Value v, internal::ParseUntypedJson(*a, where));
        attrs = std::move(v);
      }
    } else if (def) {
      ARBITER_TRY(Value v, internal::ParseTypedJson(boost::json::object(), *def->attrs, where));
      attrs = std::move(v);
    }
    Value tags = Value::Record({});
    if (const boost::json::value* t = o->if_contains("tags")) {
      if (!t->is_object()) return Status::InvalidArgument(where + ".tags: expected an object");
      if (def && !def->tags && !t->as_object().empty()) {
        return Status::InvalidArgument(where + ": entity type `" + uid.type() +
                                       "` does not allow tags");
      }
      std::vector<std::pair<std::string, Value>> fields;
      for (const auto& kv : t->as_object()) {
        std::string tw = where + " tag `" + std::string(kv.key()) + "`";
        Value v;
        if (def) {
          ARBITER_TRY(Value parsed, internal::ParseTypedJson(kv.value(), *def->tags, tw));
          v = std::move(parsed);
        } else {
          ARBITER_TRY(Value parsed, internal::ParseUntypedJson(kv.value(), tw));
          v = std::move(parsed);
        }
        fields.emplace_back(std::string(kv.key()), std::move(v));
      }
      tags = Value::Record(std::move(fields));
    }
    std::vector<EntityUid> parents;
    if (const boost::json::value* p = o->if_contains("parents")) {
      if (!p->is_array()) return Status::InvalidArgument(where + ".parents: expected an array");
      for (const auto& pj : p->as_array()) {
        ARBITER_TRY(EntityUid parent, internal::ParseUidJson(pj, where + ".parents"));
        parents.push_back(std::move(parent));
      }
    }
    if (is_schema_action) continue;  // the schema's definition is used
    Status s = out.Add(std::move(uid), std::move(attrs), std::move(parents), std::move(tags));
    if (!s.ok()) return Status::InvalidArgument("entities: " + s.message());
  }
  if (sd) {
    for (const EntityUid& action : sd->action_order) {
      const internal::ActionDef& def = sd->actions.at(action);
      if (out.Find(action)) continue;
      ARBITER_RETURN_IF_ERROR(out.Add(action, Value::Record({}), def.parents));
    }
  }
  ARBITER_RETURN_IF_ERROR(out.Finalize());
  return out;
}
}  // namespace

Result<Entities> ParseEntitiesJson(std::string_view json, const Schema* schema,
                                   const EntitiesLimits& limits) {
  auto r = ParseEntitiesJsonImpl(json, schema, limits);
  if (!r) return internal::OneLine(r.error());
  return r;
}

}  // namespace arbiter::cedar
