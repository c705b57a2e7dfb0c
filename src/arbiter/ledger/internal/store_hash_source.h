// A HashSource over a LedgerStore's hash tiles, with a shared cache of full (immutable) tiles and
// an optional overlay of tiles not yet written (the integrator checks a new tree before storing
// it).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "arbiter/ledger/merkle.h"
#include "arbiter/ledger/storage.h"

namespace arbiter::ledger::internal {

// Full tiles never change, so they are cached by (level, index). Thread-safe; bounded.
class TileCache {
 public:
  explicit TileCache(size_t max_tiles = 4096) : max_tiles_(max_tiles) {}
  std::shared_ptr<const Bytes> Get(std::uint32_t level, std::uint64_t index);
  void Put(std::uint32_t level, std::uint64_t index, std::shared_ptr<const Bytes> tile);

 private:
  static std::uint64_t Key(std::uint32_t level, std::uint64_t index) {
    return (std::uint64_t{level} << 58) | index;
  }
  std::mutex mu_;
  size_t max_tiles_;
  std::unordered_map<std::uint64_t, std::shared_ptr<const Bytes>> tiles_;
};

using TileOverlay = std::map<std::pair<std::uint32_t, std::uint64_t>, const Bytes*>;

class StoreHashSource final : public HashSource {
 public:
  // Serves subtrees of the tree of `size` leaves. `cache` and `overlay` may be null.
  StoreHashSource(LedgerStore& store, TileCache* cache, std::uint64_t size,
                  const TileOverlay* overlay = nullptr)
      : store_(store), cache_(cache), size_(size), overlay_(overlay) {}

  Result<Hash> SubtreeHash(std::uint32_t level, std::uint64_t index) override;

  // The bytes of tile (level, index), at least `min_hashes` hashes long.
  Result<std::shared_ptr<const Bytes>> Tile(std::uint32_t level, std::uint64_t index,
                                            size_t min_hashes);

 private:
  LedgerStore& store_;
  TileCache* cache_;
  std::uint64_t size_;
  const TileOverlay* overlay_;
  // The last tile read, reused by consecutive lookups in the same tile.
  std::uint32_t last_level_ = 0;
  std::uint64_t last_index_ = 0;
  std::shared_ptr<const Bytes> last_tile_;
};

}  // namespace arbiter::ledger::internal
