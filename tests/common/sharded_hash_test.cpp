#include "arbiter/common/sharded_hash.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace arbiter {
namespace {

// The same random operations on a sharded container and on the std one it replaces give the same
// answers at every step.
TEST(ShardedHashTest, MapBehavesAsUnorderedMap) {
  ShardedStringMap<int> sharded;
  std::unordered_map<std::string, int> reference;
  std::mt19937 rng(7);
  for (int step = 0; step < 200000; ++step) {
    const std::string key = "case-" + std::to_string(rng() % 5000);
    switch (rng() % 3) {
      case 0: {
        const int value = static_cast<int>(rng() % 1000);
        EXPECT_EQ(sharded.InsertOrAssign(key, value), value);
        reference.insert_or_assign(key, value);
        break;
      }
      case 1: EXPECT_EQ(sharded.Erase(key), reference.erase(key) == 1) << key; break;
      default: {
        const int* found = sharded.Find(std::string_view(key));
        auto it = reference.find(key);
        ASSERT_EQ(found != nullptr, it != reference.end()) << key;
        if (found != nullptr) {
          EXPECT_EQ(*found, it->second);
        }
      }
    }
    ASSERT_EQ(sharded.size(), reference.size());
  }
  EXPECT_FALSE(sharded.empty());
  // A value found can be changed in place.
  const std::string some = reference.begin()->first;
  *sharded.Find(some) = -1;
  EXPECT_EQ(*static_cast<const ShardedStringMap<int>&>(sharded).Find(some), -1);
}

TEST(ShardedHashTest, SetBehavesAsUnorderedSetAndVisitsEveryKey) {
  ShardedStringSet sharded;
  std::unordered_set<std::string> reference;
  std::mt19937 rng(11);
  for (int step = 0; step < 200000; ++step) {
    const std::string key = "ZD-" + std::to_string(rng() % 5000);
    if (rng() % 2 == 0) {
      EXPECT_EQ(sharded.Insert(key), reference.insert(key).second) << key;
    } else {
      EXPECT_EQ(sharded.Erase(key), reference.erase(key) == 1) << key;
    }
    ASSERT_EQ(sharded.Contains(key), reference.contains(key)) << key;
    ASSERT_EQ(sharded.size(), reference.size());
  }
  std::set<std::string> visited;
  sharded.ForEach([&](const std::string& key) { EXPECT_TRUE(visited.insert(key).second) << key; });
  EXPECT_EQ(visited, std::set<std::string>(reference.begin(), reference.end()));
  EXPECT_FALSE(sharded.Contains(""));
  EXPECT_TRUE(sharded.Insert(""));
  EXPECT_TRUE(sharded.Contains(""));
}

}  // namespace
}  // namespace arbiter
