#include "arbiter/ledger/internal/store_hash_source.h"

#include <cstring>
#include <string>
#include <vector>

#include "arbiter/ledger/tiles.h"

namespace arbiter::ledger::internal {

std::shared_ptr<const Bytes> TileCache::Get(std::uint32_t level, std::uint64_t index) {
  std::lock_guard lock(mu_);
  auto it = tiles_.find(Key(level, index));
  return it == tiles_.end() ? nullptr : it->second;
}

void TileCache::Put(std::uint32_t level, std::uint64_t index, std::shared_ptr<const Bytes> tile) {
  std::lock_guard lock(mu_);
  if (tiles_.size() >= max_tiles_) tiles_.clear();
  tiles_.emplace(Key(level, index), std::move(tile));
}

Result<std::shared_ptr<const Bytes>> StoreHashSource::Tile(std::uint32_t level, std::uint64_t index,
                                                           size_t min_hashes) {
  const auto path = [&] { return TileId{false, level, index, kTileWidth}.Path(); };
  std::shared_ptr<const Bytes> tile;
  if (last_tile_ && last_level_ == level && last_index_ == index &&
      last_tile_->size() >= min_hashes * kHashSize) {
    return last_tile_;
  }
  if (overlay_ != nullptr) {
    auto it = overlay_->find({level, index});
    if (it != overlay_->end()) {
      // Not owned: the overlay outlives this source.
      tile = std::shared_ptr<const Bytes>(std::shared_ptr<const Bytes>(), it->second);
    }
  }
  if (!tile && cache_ != nullptr) tile = cache_->Get(level, index);
  if (!tile) {
    ARBITER_TRY(auto stored, store_.ReadTile(level, index));
    if (!stored) return Status::DataLoss("tile " + path() + " is missing from the store");
    if (stored->size() % kHashSize != 0 || stored->size() > kTileWidth * kHashSize) {
      return Status::DataLoss("stored tile " + path() + " has a bad length");
    }
    tile = std::make_shared<const Bytes>(std::move(*stored));
    if (cache_ != nullptr && tile->size() == kTileWidth * kHashSize) {
      cache_->Put(level, index, tile);
    }
  }
  if (tile->size() < min_hashes * kHashSize) {
    return Status::DataLoss("stored tile " + path() + " holds " +
                            std::to_string(tile->size() / kHashSize) + " hashes, expected " +
                            std::to_string(min_hashes));
  }
  last_level_ = level;
  last_index_ = index;
  last_tile_ = tile;
  return tile;
}

Result<Hash> StoreHashSource::SubtreeHash(std::uint32_t level, std::uint64_t index) {
  if (level >= 64 || index >= (size_ >> level)) {
    return Status::OutOfRange("subtree " + std::to_string(level) + "/" + std::to_string(index) +
                              " is beyond tree size " + std::to_string(size_));
  }
  const std::uint32_t tile_level = level / kTileHeight;
  const std::uint32_t r = level % kTileHeight;
  const std::uint64_t first = index << r;  // position among the hashes of tile_level
  const std::uint64_t tile_index = first / kTileWidth;
  const size_t offset = first % kTileWidth;
  const size_t count = size_t{1} << r;
  ARBITER_TRY(auto tile, Tile(tile_level, tile_index, offset + count));
  std::vector<Hash> hashes(count);
  std::memcpy(hashes.data(), tile->data() + offset * kHashSize, count * kHashSize);
  if (count == 1) return hashes[0];
  return RootFromLeafHashes(hashes);
}

}  // namespace arbiter::ledger::internal
