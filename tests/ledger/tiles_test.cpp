// C2SP tlog-tiles paths and tile contents against ../shared/vectors/tlog-tiles-vectors.json.
#include "arbiter/ledger/tiles.h"

#include <gtest/gtest.h>

#include "ledger/test_util.h"

namespace arbiter::ledger {
namespace {

using testing::LoadJson;
using testing::Str;

TEST(TilesVectors, IndexEncoding) {
  ARBITER_REQUIRE_SHARED(path, "vectors/tlog-tiles-vectors.json");
  const auto doc = LoadJson(path);
  int n = 0;
  for (const auto& v : doc.at("index_encoding").as_array()) {
    const auto index = v.at("n").to_number<std::uint64_t>();
    EXPECT_EQ(EncodeTileIndex(index), Str(v.at("path")));
    auto id = ParseTilePath("tile/0/" + Str(v.at("path")));
    ASSERT_TRUE(id.has_value()) << id.status().ToString();
    EXPECT_EQ(id->index, index);
    ++n;
  }
  EXPECT_EQ(n, 8);
}

TEST(TilesVectors, PartialTilesOfExampleTrees) {
  ARBITER_REQUIRE_SHARED(path, "vectors/tlog-tiles-vectors.json");
  const auto doc = LoadJson(path);
  const auto& ex = doc.at("c2sp_examples");
  for (const auto& [key, size] :
       {std::pair<std::string, std::uint64_t>{"tree_size_70000", 70000}, {"tree_size_256", 256}}) {
    for (const auto& lvl : ex.at(key).as_array()) {
      const auto level = lvl.at("level").to_number<std::uint32_t>();
      const auto full = lvl.at("full_tiles").to_number<std::uint64_t>();
      const auto partial = lvl.at("partial_width").to_number<std::uint32_t>();
      for (std::uint64_t i = 0; i < full; ++i) EXPECT_EQ(TileWidthAt(level, i, size), kTileWidth);
      EXPECT_EQ(TileWidthAt(level, full, size), partial) << key << " level " << level;
      if (lvl.at("partial_path").is_string()) {
        EXPECT_EQ((TileId{false, level, full, partial}.Path()), Str(lvl.at("partial_path")));
        auto id = ParseTilePath(Str(lvl.at("partial_path")));
        ASSERT_TRUE(id.has_value());
        EXPECT_EQ(*id, (TileId{false, level, full, partial}));
      }
      EXPECT_EQ(TileWidthAt(level, full + 1, size), 0u);
    }
  }
  EXPECT_EQ(doc.at("c2sp_paths").at("full_tile_bytes").to_number<std::uint32_t>(), kTileWidth * 32);
}

// Go sumdb paths carry a tile height; C2SP's do not. Those with H = 8 would be C2SP paths with an
// extra segment, which the C2SP parser must refuse rather than misread.
TEST(TilesVectors, SumdbPathsAreNotC2spPaths) {
  ARBITER_REQUIRE_SHARED(path, "vectors/tlog-tiles-vectors.json");
  const auto doc = LoadJson(path);
  for (const auto& v : doc.at("sumdb_path_examples").as_array()) {
    const std::string p = Str(v.at("path"));
    auto id = ParseTilePath(p);
    if (v.as_object().contains("invalid")) {
      EXPECT_FALSE(id.has_value()) << p;
      continue;
    }
    // tile/H/L/N...: as C2SP that is level H with index groups "L/N..." — never a valid index.
    EXPECT_FALSE(id.has_value()) << p;
    // Dropping the height gives the equivalent C2SP path, which parses to the same L, N, W
    // (data tiles become entry bundles).
    std::string c2sp = "tile/" + p.substr(p.find('/', 5) + 1);
    if (v.at("L").to_number<std::int64_t>() < 0) c2sp.replace(5, 4, "entries");
    auto cid = ParseTilePath(c2sp);
    ASSERT_TRUE(cid.has_value()) << c2sp << ": " << cid.status().ToString();
    EXPECT_EQ(cid->index, v.at("N").to_number<std::uint64_t>());
    const auto h = v.at("H").to_number<std::uint32_t>();
    const auto w = v.at("W").to_number<std::uint32_t>();
    if (c2sp.find(".p/") != std::string::npos) {
      EXPECT_EQ(cid->width, w);
    } else {
      EXPECT_EQ(w, 1u << h);  // a full sumdb tile of height H
      EXPECT_EQ(cid->width, kTileWidth);
    }
  }
}

TEST(Tiles, PathRoundTripAndRejections) {
  for (const TileId id : {TileId{false, 0, 0, 256}, TileId{false, 3, 1234067, 17},
                          TileId{true, 0, 999, 256}, TileId{true, 0, 1000, 1}}) {
    auto parsed = ParseTilePath(id.Path());
    ASSERT_TRUE(parsed.has_value()) << id.Path();
    EXPECT_EQ(*parsed, id);
  }
  EXPECT_EQ((TileId{true, 0, 5, 3}.Path()), "tile/entries/005.p/3");
  for (const char* bad :
       {"", "tile", "tile/0", "tile/0/1", "tile/0/0001", "tile/0/x000/001", "tile/0/001/002",
        "tile/8/000", "tile/01/000", "tile/0/000.p/0", "tile/0/000.p/256", "tile/0/000.p/08",
        "tile/0/000.p/", "tiles/0/000", "tile/-1/000", "tile/0/x001", "tile/entries/000.p/300",
        "tile/0/x18446744073709551/615", "tile/0/abc"}) {
    EXPECT_FALSE(ParseTilePath(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace arbiter::ledger
