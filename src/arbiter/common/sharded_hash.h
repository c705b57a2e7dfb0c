// Hash containers keyed by strings that never rehash more than a small part of themselves at
// once. A std::unordered_map grows by rehashing every entry inside one insert: with a million case
// ids that insert takes tens of milliseconds, and when it happens under a lock every request
// waits (measured in session 18: 20-40 ms stalls of the routing thread in the case-key cache's
// rehash). These split the entries over kShards independent std::unordered containers chosen by
// the key's hash, so one insert rehashes at most one shard: 1/256 of the entries.
//
//   ShardedStringMap<CaseKey> keys;
//   keys.InsertOrAssign("ZD-1", key);
//   if (CaseKey* k = keys.Find("ZD-1")) ...;
//   keys.Erase("ZD-1");
//
// Not thread-safe (as the std containers). Lookups take std::string_view without a copy.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace arbiter {

// Transparent string hash: lookups by std::string_view or std::string alike.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>()(s); }
};

namespace internal {

inline constexpr size_t kHashShards = 256;

// The shard of a hash: its top bits, which the shard's own buckets (hash modulo a prime) barely
// depend on.
inline size_t ShardOfHash(size_t hash) {
  return static_cast<size_t>((static_cast<std::uint64_t>(hash) * 0x9E3779B97F4A7C15ULL) >> 56) %
         kHashShards;
}

// What the map and the set share: the shards, the count, erasure. `Shard` is a std::unordered
// container keyed by std::string with StringHash and std::equal_to<>.
template <typename Shard>
class ShardedByString {
 public:
  // Whether `key` was there.
  bool Erase(std::string_view key) {
    Shard& s = ShardOf(key);
    auto it = s.find(key);
    if (it == s.end()) return false;
    s.erase(it);
    --size_;
    return true;
  }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 protected:
  Shard& ShardOf(std::string_view key) { return shards_[ShardOfHash(StringHash()(key))]; }
  const Shard& ShardOf(std::string_view key) const {
    return shards_[ShardOfHash(StringHash()(key))];
  }

  std::array<Shard, kHashShards> shards_;
  size_t size_ = 0;
};

}  // namespace internal

template <typename Value>
class ShardedStringMap : public internal::ShardedByString<
                             std::unordered_map<std::string, Value, StringHash, std::equal_to<>>> {
 public:
  Value* Find(std::string_view key) {
    auto& s = this->ShardOf(key);
    auto it = s.find(key);
    return it == s.end() ? nullptr : &it->second;
  }
  const Value* Find(std::string_view key) const {
    const auto& s = this->ShardOf(key);
    auto it = s.find(key);
    return it == s.end() ? nullptr : &it->second;
  }
  // Inserts `key` or replaces its value; returns the stored value.
  Value& InsertOrAssign(std::string key, Value value) {
    auto& s = this->ShardOf(key);
    auto [it, inserted] = s.insert_or_assign(std::move(key), std::move(value));
    if (inserted) ++this->size_;
    return it->second;
  }
};

class ShardedStringSet : public internal::ShardedByString<
                             std::unordered_set<std::string, StringHash, std::equal_to<>>> {
 public:
  bool Contains(std::string_view key) const { return ShardOf(key).contains(key); }
  // Whether `key` was new.
  bool Insert(std::string key) {
    const bool inserted = ShardOf(key).insert(std::move(key)).second;
    if (inserted) ++size_;
    return inserted;
  }
  // Calls fn(const std::string&) for every key, in no particular order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& s : shards_) {
      for (const std::string& key : s) fn(key);
    }
  }
};

}  // namespace arbiter
