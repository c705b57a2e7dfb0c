// Cedar entity stores: entities with attributes, tags and parents, the transitive closure of the
// hierarchy computed when the store is finalized, and lookup by hash.
//
// From JSON (the Cedar entities format: `uid`, `attrs`, `parents`, `tags`, `__entity`, `__extn`):
//   ARBITER_TRY(Entities base, ParseEntitiesJson(json, &schema));   // schema may be nullptr
//
// Programmatically, with a small per-request overlay over a large shared base (the base is not
// copied and must outlive the overlay):
//   Entities overlay(&base);
//   ARBITER_RETURN_IF_ERROR(overlay.Add(EntityUid("Case", "c-1"), Value::Record({...}),
//                                       {EntityUid("Queue", "billing")}));
//   ARBITER_RETURN_IF_ERROR(overlay.Finalize());
//   Response r = IsAuthorized(request, policies, overlay);
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "arbiter/cedar/value.h"
#include "arbiter/common/status.h"

namespace arbiter::cedar {

class Schema;

struct EntityData {
  EntityUid uid;
  Value attrs = Value::Record({});  // a Record
  Value tags = Value::Record({});   // a Record of tag name -> value
  std::vector<EntityUid> parents;
  // Every ancestor (parents, their parents, ...), filled by Entities::Finalize().
  std::unordered_set<EntityUid, EntityUidHash> ancestors;
};

struct EntitiesLimits {
  size_t max_bytes = 64u << 20;
  size_t max_depth = 64;
  size_t max_entities = 1u << 20;
};

class Entities {
 public:
  Entities() = default;
  // An overlay: lookups fall back to `base` (which must be finalized and outlive this object).
  explicit Entities(const Entities* base) : base_(base) {}
  Entities(Entities&&) = default;
  Entities& operator=(Entities&&) = default;

  // Adds an entity; an entity with the same uid already in this store (not the base) is an error.
  // `attrs` and `tags` must be Records.
  Status Add(EntityUid uid, Value attrs, std::vector<EntityUid> parents,
             Value tags = Value::Record({}));
  // Computes ancestors of this store's entities (through the base too). Call after the last Add
  // and before authorizing. Cycles are allowed.
  Status Finalize();

  // This store's entity or the base's, or nullptr.
  const EntityData* Find(const EntityUid& uid) const {
    if (first_ && first_->uid == uid) return &*first_;
    if (!rest_.empty()) {
      auto it = rest_.find(uid);
      if (it != rest_.end()) return &it->second;
    }
    return base_ ? base_->Find(uid) : nullptr;
  }
  // Cedar's `in`: a == b, or b is an ancestor of a.
  bool IsIn(const EntityUid& a, const EntityUid& b) const {
    if (a == b) return true;
    const EntityData* e = Find(a);
    return e && e->ancestors.count(b) != 0;
  }
  // Calls fn(const EntityData&) for each of this store's own entities (not the base's), in no
  // particular order.
  template <typename Fn>
  void ForEach(Fn fn) const {
    if (first_) fn(*first_);
    for (const auto& entry : rest_) fn(entry.second);
  }
  // The number of this store's own entities (not the base's).
  size_t size() const { return (first_ ? 1 : 0) + rest_.size(); }
  const Entities* base() const { return base_; }

 private:
  const Entities* base_ = nullptr;
  // The first entity added is kept in place, the others in a hash table: an overlay usually
  // holds one entity (the request's resource), which then costs no table, node or hashing.
  // Pointers returned by Find stay valid until the store is moved or destroyed.
  std::optional<EntityData> first_;
  std::unordered_map<EntityUid, EntityData, EntityUidHash> rest_;
};

// Parses the Cedar entities JSON format (an array of entities). With a schema, attributes and
// tags are parsed by their declared types and the schema's action entities are added. The result
// is finalized.
Result<Entities> ParseEntitiesJson(std::string_view json, const Schema* schema,
                                   const EntitiesLimits& limits = {});

// Parses one entity uid from JSON: `{"type":"T","id":"i"}` or `{"__entity":{...}}`.
Result<EntityUid> ParseEntityUidJson(std::string_view json);

// Parses a Cedar uid literal such as `App::User::"alice"`.
Result<EntityUid> ParseEntityUid(std::string_view text);

}  // namespace arbiter::cedar
