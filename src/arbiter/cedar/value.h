// Cedar values: Bool, Long, String, Set, Record, Entity (an EntityUid) and the extension values
// decimal, ipaddr, datetime and duration. Values are immutable and cheap to copy (heap parts are
// shared), so the evaluator passes them around freely.
//
//   Value v = Value::Record({{"tier", Value::String("gold")},
//                            {"score", *Value::ParseDecimal("0.85")},
//                            {"owner", Value::Entity(EntityUid("User", "alice"))}});
//   const Value* tier = v.record().Find("tier");
//
// Sets are kept sorted and free of duplicates (by the total order Value::Compare), so equality of
// sets is set equality and `contains` is a binary search. Records are kept sorted by key.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "arbiter/common/status.h"

namespace arbiter::cedar {

// An entity type and id, e.g. `Namespace::User::"alice"`. Shares its strings, so copies are cheap;
// the hash is computed once.
class EntityUid {
 public:
  EntityUid();
  EntityUid(std::string_view type, std::string_view id);

  const std::string& type() const { return data_->type; }
  const std::string& id() const { return data_->id; }
  size_t hash() const { return data_->hash; }

  // Cedar syntax: Type::"id" with the id escaped.
  std::string ToString() const;

  friend bool operator==(const EntityUid& a, const EntityUid& b) {
    return a.data_ == b.data_ || (a.data_->hash == b.data_->hash &&
                                  a.data_->type == b.data_->type && a.data_->id == b.data_->id);
  }
  // Total order: by type, then id.
  friend bool operator<(const EntityUid& a, const EntityUid& b);

 private:
  struct Data {
    std::string type;
    std::string id;
    size_t hash;
  };
  std::shared_ptr<const Data> data_;
};

struct EntityUidHash {
  size_t operator()(const EntityUid& u) const { return u.hash(); }
};

// decimal: a fixed-point number with four digits after the point, stored scaled by 10^4.
struct Decimal {
  std::int64_t scaled = 0;
  friend bool operator==(const Decimal&, const Decimal&) = default;
};

// ipaddr: an IPv4 or IPv6 address with a prefix length (host addresses have /32 or /128). Host
// bits are kept, as the reference does: ip("10.0.0.1/24") != ip("10.0.0.0/24").
struct IpAddr {
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4
  std::uint8_t prefix = 0;
  bool v6 = false;
  friend bool operator==(const IpAddr&, const IpAddr&) = default;
};

// datetime: milliseconds since the Unix epoch (UTC).
struct Datetime {
  std::int64_t millis = 0;
  friend bool operator==(const Datetime&, const Datetime&) = default;
};

// duration: milliseconds.
struct Duration {
  std::int64_t millis = 0;
  friend bool operator==(const Duration&, const Duration&) = default;
};

enum class ValueKind : std::uint8_t {
  kBool,
  kLong,
  kString,
  kEntity,
  kSet,
  kRecord,
  kDecimal,
  kIpAddr,
  kDatetime,
  kDuration,
};

// "bool", "long", "string", "entity", "set", "record", "decimal", "ipaddr", "datetime",
// "duration".
std::string_view ValueKindName(ValueKind kind);

class Value;
class SetValue;
namespace internal {
class Evaluator;
}  // namespace internal
class RecordValue;

class Value {
 public:
  Value() = default;  // Bool false
  static Value Bool(bool b);
  static Value Long(std::int64_t n);
  static Value String(std::string s);
  static Value Entity(EntityUid uid);
  // Sorts and removes duplicates.
  static Value Set(std::vector<Value> elements);
  // Later duplicates of a key replace earlier ones.
  static Value Record(std::vector<std::pair<std::string, Value>> fields);
  static Value Record(std::initializer_list<std::pair<std::string, Value>> fields);
  // The record of `n` fields `field(i)` (a pair of the key and a const Value&; keys strictly
  // increasing), built in `*reuse`'s storage when `*reuse` holds a record with exactly these keys
  // that no Value refers to any more: a caller that builds many short-lived records of one shape
  // (e.g. one thread's case entities) then copies only the values. `*reuse` then holds the new
  // record. Keys out of order make a plain Record (not kept in `*reuse`).
  template <typename FieldAt>
  static Value RecordReusing(std::shared_ptr<RecordValue>* reuse, size_t n, FieldAt field);
  static Value FromDecimal(Decimal d);
  static Value FromIpAddr(const IpAddr& ip);
  static Value FromDatetime(Datetime d);
  static Value FromDuration(Duration d);

  // Extension constructors with Cedar's syntax rules; errors name the input in backticks.
  static Result<Value> ParseDecimal(std::string_view text);   // decimal("0.85")
  static Result<Value> ParseIpAddr(std::string_view text);    // ip("10.0.0.0/8")
  static Result<Value> ParseDatetime(std::string_view text);  // datetime("2024-10-15T11:35:00Z")
  static Result<Value> ParseDuration(std::string_view text);  // duration("1h30m")

  ValueKind kind() const { return kind_; }
  bool is(ValueKind k) const { return kind_ == k; }

  // Accessors: only valid for the matching kind.
  bool as_bool() const { return scalar_ != 0; }
  std::int64_t as_long() const { return scalar_; }
  const std::string& as_string() const { return *static_cast<const std::string*>(heap_.get()); }
  const EntityUid& as_entity() const { return *static_cast<const EntityUid*>(heap_.get()); }
  const SetValue& as_set() const { return *static_cast<const SetValue*>(heap_.get()); }
  const RecordValue& as_record() const { return *static_cast<const RecordValue*>(heap_.get()); }
  Decimal as_decimal() const { return Decimal{scalar_}; }
  const IpAddr& as_ipaddr() const { return *static_cast<const IpAddr*>(heap_.get()); }
  Datetime as_datetime() const { return Datetime{scalar_}; }
  Duration as_duration() const { return Duration{scalar_}; }

  // Cedar equality (structural; values of different kinds are unequal).
  friend bool operator==(const Value& a, const Value& b);
  // A total order used to keep sets canonical: by kind, then content.
  static int Compare(const Value& a, const Value& b);

  // Cedar syntax, e.g. `[1, "a", User::"x", decimal("1.5")]`.
  std::string ToString() const;

 private:
  ValueKind kind_ = ValueKind::kBool;
  std::int64_t scalar_ = 0;           // bool, long, decimal, datetime, duration
  std::shared_ptr<const void> heap_;  // string, entity data, set, record, ipaddr
  // An entity value that refers to `uid` without owning it (no allocation). Only for values that
  // cannot outlive `uid`: the evaluator's request variables during one authorization.
  static Value BorrowedEntity(const EntityUid& uid);
  friend class SetValue;
  friend class RecordValue;
  friend class internal::Evaluator;
};

class SetValue {
 public:
  const std::vector<Value>& elements() const { return elements_; }
  size_t size() const { return elements_.size(); }
  bool empty() const { return elements_.empty(); }
  bool Contains(const Value& v) const;

 private:
  friend class Value;
  std::vector<Value> elements_;  // sorted by Value::Compare, unique
};

class RecordValue {
 public:
  // Fields sorted by key.
  const std::vector<std::pair<std::string, Value>>& fields() const { return fields_; }
  const Value* Find(std::string_view key) const;
  // Find, trying position `*hint` first and updating it.
  const Value* Find(std::string_view key, std::uint32_t* hint) const {
    if (*hint < fields_.size() && fields_[*hint].first == key) return &fields_[*hint].second;
    size_t i = FindIndex(key);
    if (i == fields_.size()) return nullptr;
    *hint = static_cast<std::uint32_t>(i);
    return &fields_[i].second;
  }
  // The position of `key` in fields(), or size() when absent.
  size_t FindIndex(std::string_view key) const;
  size_t size() const { return fields_.size(); }

 private:
  friend class Value;
  std::vector<std::pair<std::string, Value>> fields_;
};

template <typename FieldAt>
Value Value::RecordReusing(std::shared_ptr<RecordValue>* reuse, size_t n, FieldAt field) {
  RecordValue* r = reuse->get();
  bool same = r != nullptr && reuse->use_count() == 1 && r->fields_.size() == n;
  for (size_t i = 0; same && i < n; ++i) same = r->fields_[i].first == field(i).first;
  if (same) {
    // Pairs with the release of the last Value that referred to the record (in any thread):
    // its reads of the old values happen before these writes.
    std::atomic_thread_fence(std::memory_order_acquire);
    for (size_t i = 0; i < n; ++i) r->fields_[i].second = field(i).second;
  } else {
    std::vector<std::pair<std::string, Value>> fields;
    fields.reserve(n);
    bool in_order = true;
    for (size_t i = 0; i < n; ++i) {
      auto f = field(i);
      if (i != 0 && !(fields.back().first < f.first)) in_order = false;
      fields.emplace_back(std::string(f.first), f.second);
    }
    if (!in_order || n == 0) return Record(std::move(fields));
    auto fresh = std::make_shared<RecordValue>();
    fresh->fields_ = std::move(fields);
    *reuse = std::move(fresh);
  }
  Value v;
  v.kind_ = ValueKind::kRecord;
  v.heap_ = *reuse;
  return v;
}

// Escapes a string the way Cedar prints string literals (without the quotes).
std::string EscapeCedarString(std::string_view s);

}  // namespace arbiter::cedar
