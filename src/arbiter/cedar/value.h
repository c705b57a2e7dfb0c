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
  Value();  // Bool false
  static Value Bool(bool b);
  static Value Long(std::int64_t n);
  static Value String(std::string s);
  static Value Entity(EntityUid uid);
  // Sorts and removes duplicates.
  static Value Set(std::vector<Value> elements);
  // Later duplicates of a key replace earlier ones.
  static Value Record(std::vector<std::pair<std::string, Value>> fields);
  static Value Record(std::initializer_list<std::pair<std::string, Value>> fields);
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
  const std::string& as_string() const;
  const EntityUid& as_entity() const;
  const SetValue& as_set() const;
  const RecordValue& as_record() const;
  Decimal as_decimal() const { return Decimal{scalar_}; }
  const IpAddr& as_ipaddr() const;
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

// Escapes a string the way Cedar prints string literals (without the quotes).
std::string EscapeCedarString(std::string_view s);

}  // namespace arbiter::cedar
