#include "arbiter/ledger/tiles.h"

#include <cstdio>
#include <vector>

namespace arbiter::ledger {
namespace {

Status BadPath(std::string_view path, std::string_view why) {
  return Status::InvalidArgument("tile path `" + std::string(path.substr(0, 128)) +
                                 "`: " + std::string(why));
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string EncodeTileIndex(std::uint64_t n) {
  std::vector<unsigned> groups;
  do {
    groups.push_back(static_cast<unsigned>(n % 1000));
    n /= 1000;
  } while (n > 0);
  std::string out;
  char buf[8];
  for (size_t i = groups.size(); i-- > 0;) {
    std::snprintf(buf, sizeof buf, i == 0 ? "%03u" : "x%03u/", groups[i]);
    out += buf;
  }
  return out;
}

std::string TileId::Path() const {
  std::string out = "tile/";
  out += entries ? std::string("entries") : std::to_string(level);
  out += '/';
  out += EncodeTileIndex(index);
  if (width < kTileWidth) {
    out += ".p/";
    out += std::to_string(width);
  }
  return out;
}

Result<TileId> ParseTilePath(std::string_view path) {
  if (path.size() > 256) return BadPath(path, "too long");
  std::vector<std::string_view> parts;
  for (size_t pos = 0;;) {
    const size_t slash = path.find('/', pos);
    parts.push_back(path.substr(pos, slash == std::string_view::npos ? slash : slash - pos));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  if (parts.size() < 3 || parts[0] != "tile") return BadPath(path, "expected tile/<L>/<N>");
  TileId id;
  if (parts[1] == "entries") {
    id.entries = true;
  } else {
    if (!AllDigits(parts[1]) || parts[1].size() > 1) return BadPath(path, "bad level");
    id.level = static_cast<std::uint32_t>(parts[1][0] - '0');
    if (id.level > kMaxTileLevel) return BadPath(path, "level above 7");
  }
  size_t last = parts.size() - 1;
  // A partial tile ends in "<NNN>.p/<W>".
  if (parts.size() >= 4 && parts[last - 1].size() > 2 &&
      parts[last - 1].substr(parts[last - 1].size() - 2) == ".p") {
    const std::string_view w = parts[last];
    if (!AllDigits(w) || w.size() > 3 || w[0] == '0') return BadPath(path, "bad partial width");
    id.width = static_cast<std::uint32_t>(std::stoul(std::string(w)));
    if (id.width == 0 || id.width >= kTileWidth) return BadPath(path, "partial width not 1..255");
    parts[last - 1].remove_suffix(2);
    parts.pop_back();
    last = parts.size() - 1;
  }
  std::uint64_t n = 0;
  for (size_t i = 2; i <= last; ++i) {
    std::string_view g = parts[i];
    const bool final = i == last;
    if (!final) {
      if (g.empty() || g[0] != 'x') return BadPath(path, "non-final index group without `x`");
      g.remove_prefix(1);
    }
    if (g.size() != 3 || !AllDigits(g)) return BadPath(path, "index group is not three digits");
    if (i == 2 && !final && g == "000") return BadPath(path, "index has a leading zero group");
    if (n > (UINT64_MAX - 999) / 1000) return BadPath(path, "index too large");
    n = n * 1000 + static_cast<std::uint64_t>(std::stoul(std::string(g)));
  }
  id.index = n;
  return id;
}

std::uint32_t TileWidthAt(std::uint32_t level, std::uint64_t index, std::uint64_t size) {
  const std::uint32_t shift = kTileHeight * level;
  if (shift >= 64) return 0;
  const std::uint64_t count = size >> shift;  // level-L hashes in a tree of `size`
  const std::uint64_t start = index * kTileWidth;
  if (index > count / kTileWidth || start >= count) return 0;
  const std::uint64_t w = count - start;
  return w >= kTileWidth ? kTileWidth : static_cast<std::uint32_t>(w);
}

}  // namespace arbiter::ledger
