// The C2SP tlog-tiles layout (https://c2sp.org/tlog-tiles): a log's hashes cut into tiles of 256
// hashes and its entries into bundles of 256, addressed by static paths
//
//   tile/<L>/<N>[.p/<W>]        hashes of level L (level 0 = leaf hashes; level L entry i is the
//                               root of the perfect subtree of 256^L leaves starting at i * 256^L)
//   tile/entries/<N>[.p/<W>]    entries N*256 .. N*256+W-1, each as a big-endian uint16 length and
//                               the entry bytes
//
// where N is written in groups of three digits, all but the last prefixed with `x`
// (1234067 -> x001/x234/067), and a partial tile of width W < 256 carries `.p/W`.
//
//   ARBITER_TRY(TileId id, ParseTilePath("tile/0/x001/234.p/7"));   // level 0, index 1234, width 7
//   std::string p = id.Path();
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "arbiter/common/status.h"

namespace arbiter::ledger {

inline constexpr std::uint32_t kTileHeight = 8;
inline constexpr std::uint32_t kTileWidth = 256;
inline constexpr std::uint32_t kMaxTileLevel = 7;  // 256^8 = 2^64 leaves

struct TileId {
  bool entries = false;     // an entry bundle rather than a hash tile
  std::uint32_t level = 0;  // hash tiles only
  std::uint64_t index = 0;
  std::uint32_t width = kTileWidth;  // 1..256; 256 is a full tile

  std::string Path() const;
  friend bool operator==(const TileId&, const TileId&) = default;
};

// 1234067 -> "x001/x234/067".
std::string EncodeTileIndex(std::uint64_t n);

// Parses `tile/...` paths as above (no prefix). Rejects non-canonical numbers, widths outside
// 1..255 after `.p/`, levels above 7 and anything else.
Result<TileId> ParseTilePath(std::string_view path);

// The width of the tile `index` at `level` in a tree of `size` leaves: 256 for a full tile, less
// for the rightmost partial tile, 0 when the tile does not exist at that size.
std::uint32_t TileWidthAt(std::uint32_t level, std::uint64_t index, std::uint64_t size);

}  // namespace arbiter::ledger
