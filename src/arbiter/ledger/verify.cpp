#include "arbiter/ledger/verify.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "arbiter/ledger/checkpoint.h"
#include "arbiter/ledger/internal/store_hash_source.h"
#include "arbiter/ledger/ledger.h"
#include "arbiter/ledger/merkle.h"
#include "arbiter/ledger/note.h"
#include "arbiter/ledger/sqlite_store.h"
#include "arbiter/ledger/tiles.h"

namespace arbiter::ledger {

std::string_view ProblemKindName(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::kEntryMissing: return "entry_missing";
    case ProblemKind::kEntryModified: return "entry_modified";
    case ProblemKind::kTileCorrupt: return "tile_corrupt";
    case ProblemKind::kTileMissing: return "tile_missing";
    case ProblemKind::kCheckpointSignature: return "checkpoint_signature";
    case ProblemKind::kCheckpointMalformed: return "checkpoint_malformed";
    case ProblemKind::kCheckpointRoot: return "checkpoint_root";
    case ProblemKind::kCheckpointInconsistent: return "checkpoint_inconsistent";
    case ProblemKind::kCheckpointBeyondEntries: return "checkpoint_beyond_entries";
  }
  return "unknown";
}

namespace {

// Pairs of consecutive checkpoints checked with a consistency proof served from the stored tiles
// (every pair is already checked through the roots recomputed from the entries).
constexpr size_t kMaxStoredConsistencyChecks = 256;

std::string TilePath(std::uint32_t level, std::uint64_t index) {
  return TileId{false, level, index, kTileWidth}.Path();
}

class Verifier {
 public:
  Verifier(LedgerStore& store, NoteVerifierKey key, const VerifyOptions& options,
           VerifyReport& report)
      : store_(store), key_(std::move(key)), options_(options), report_(report) {}

  Status Run() {
    ARBITER_RETURN_IF_ERROR(LoadCheckpoints());
    ARBITER_RETURN_IF_ERROR(ScanEntries());
    ARBITER_RETURN_IF_ERROR(FinishTiles());
    AttributeLeafMismatches();
    for (const Valid& cp : valid_) {
      if (cp.size > report_.entry_end) {
        Problem(ProblemKind::kCheckpointBeyondEntries, cp.size,
                "checkpoint of size " + std::to_string(cp.size) + " covers entries beyond the " +
                    std::to_string(report_.entry_end) + " stored");
      }
    }
    if (!tile_problems_) CheckStoredConsistency();
    return Status::Ok();
  }

 private:
  struct Valid {
    std::uint64_t size;
    Hash root;
    bool root_matches = true;
  };

  void Problem(ProblemKind kind, std::uint64_t index, std::string message) {
    if (kind == ProblemKind::kTileCorrupt || kind == ProblemKind::kTileMissing) {
      tile_problems_ = true;
    }
    if (report_.problems.size() >= options_.max_problems) {
      ++report_.problems_omitted;
      return;
    }
    report_.problems.push_back({kind, index, std::move(message)});
  }

  Status LoadCheckpoints() {
    return store_.ScanCheckpoints([&](const StoredCheckpoint& row) -> Status {
      ++report_.checkpoints;
      tree_extent_ = std::max(tree_extent_, row.size);
      const std::string where = "checkpoint of size " + std::to_string(row.size);
      auto opened = OpenCheckpoint(row.note, {&key_, 1});
      if (!opened) {
        const bool bad_sig = opened.error().code() == StatusCode::kUnauthenticated;
        Problem(bad_sig ? ProblemKind::kCheckpointSignature : ProblemKind::kCheckpointMalformed,
                row.size, where + ": " + opened.error().message());
        return Status::Ok();
      }
      if (opened->checkpoint.size != row.size || opened->checkpoint.root != row.root) {
        Problem(ProblemKind::kCheckpointMalformed, row.size,
                where + ": the signed note says size " + std::to_string(opened->checkpoint.size) +
                    " and a different root");
        return Status::Ok();
      }
      if (report_.origin.empty()) report_.origin = opened->checkpoint.origin;
      valid_.push_back({row.size, row.root, true});
      report_.latest_size = std::max(report_.latest_size, row.size);
      return Status::Ok();
    });
  }

  // Level-0 hash at `index` from the stored tiles, if present.
  std::optional<Hash> StoredLeaf(std::uint64_t index) {
    const std::uint64_t tile_index = index / kTileWidth;
    if (!leaf_tile_loaded_ || leaf_tile_index_ != tile_index) {
      leaf_tile_loaded_ = true;
      leaf_tile_index_ = tile_index;
      leaf_tile_.clear();
      auto tile = store_.ReadTile(0, tile_index);
      if (tile && *tile && (*tile)->size() % kHashSize == 0) leaf_tile_ = std::move(**tile);
    }
    const size_t offset = index % kTileWidth;
    if ((offset + 1) * kHashSize > leaf_tile_.size()) return std::nullopt;
    Hash h;
    std::memcpy(h.data(), leaf_tile_.data() + offset * kHashSize, kHashSize);
    return h;
  }

  // Adds a hash at `level` of the recomputed tree; compares completed tiles with the store.
  void AddToLevel(std::uint32_t level, const Hash& h) {
    if (levels_.size() <= level) levels_.resize(level + 1);
    auto& tile = levels_[level];
    tile.push_back(h);
    if (tile.size() < kTileWidth) return;
    const std::uint64_t tile_index = level_tiles_.size() > level ? level_tiles_[level] : 0;
    if (level_tiles_.size() <= level) level_tiles_.resize(level + 1, 0);
    if (level > 0) CompareTile(level, tile_index, tile);
    ++report_.tiles;
    ++level_tiles_[level];
    const Hash up = RootFromLeafHashes(tile);
    tile.clear();
    if (level < kMaxTileLevel) AddToLevel(level + 1, up);
  }

  void CompareTile(std::uint32_t level, std::uint64_t index, const std::vector<Hash>& computed) {
    auto stored = store_.ReadTile(level, index);
    if (!stored || !*stored || (*stored)->size() < computed.size() * kHashSize) {
      Problem(ProblemKind::kTileMissing, index,
              "tile " + TilePath(level, index) + " is missing or too short");
      return;
    }
    for (size_t i = 0; i < computed.size(); ++i) {
      if (std::memcmp((*stored)->data() + i * kHashSize, computed[i].data(), kHashSize) != 0) {
        Problem(ProblemKind::kTileCorrupt, index,
                "tile " + TilePath(level, index) + ": stored hash " + std::to_string(i) +
                    " differs from the one recomputed from the entries");
      }
    }
  }

  void AddLeaf(std::uint64_t index, const Hash& leaf) {
    if (index < tree_extent_) AddToLevel(0, leaf);
    acc_.Add(leaf);
    while (next_checkpoint_ < valid_.size() && valid_[next_checkpoint_].size == acc_.size()) {
      Valid& cp = valid_[next_checkpoint_++];
      if (acc_.Root() != cp.root) {
        cp.root_matches = false;
        Problem(ProblemKind::kCheckpointRoot, cp.size,
                "checkpoint of size " + std::to_string(cp.size) +
                    ": the root recomputed from the entries differs from the signed root");
      }
    }
  }

  Status ScanEntries() {
    std::uint64_t expect = 0;
    // The signed empty tree, if any, needs no entries.
    while (next_checkpoint_ < valid_.size() && valid_[next_checkpoint_].size == 0) {
      ++next_checkpoint_;
    }
    const auto missing = [&](std::uint64_t index) {
      Problem(ProblemKind::kEntryMissing, index, "entry " + std::to_string(index) + " is missing");
      // Keep rebuilding the tree with the stored hash so that one deletion is reported once.
      auto stored = StoredLeaf(index);
      AddLeaf(index, stored ? *stored : Hash{});
    };
    ARBITER_RETURN_IF_ERROR(store_.ScanEntries(0, static_cast<std::uint64_t>(INT64_MAX),
                                               [&](std::uint64_t index, ByteView data) {
                                                 while (expect < index) missing(expect++);
                                                 ++report_.entries;
                                                 const Hash leaf = LeafHash(data);
                                                 if (index < tree_extent_) {
                                                   auto stored = StoredLeaf(index);
                                                   if (!stored || *stored != leaf)
                                                     leaf_mismatches_.push_back(index);
                                                 }
                                                 AddLeaf(index, leaf);
                                                 expect = index + 1;
                                                 return Status::Ok();
                                               }));
    // Entries the latest checkpoint covers but the store lacks at the end.
    while (expect < tree_extent_) missing(expect++);
    report_.entry_end = std::max(expect, report_.entries);
    return Status::Ok();
  }

  Status FinishTiles() {
    // Compare the rightmost partial tile of each level (the stored one may not be shorter).
    for (std::uint32_t level = 1; level < levels_.size(); ++level) {
      if (levels_[level].empty()) continue;
      const std::uint64_t index = level_tiles_.size() > level ? level_tiles_[level] : 0;
      CompareTile(level, index, levels_[level]);
      ++report_.tiles;
    }
    if (!levels_.empty() && !levels_[0].empty()) ++report_.tiles;
    return Status::Ok();
  }

  void AttributeLeafMismatches() {
    for (std::uint64_t index : leaf_mismatches_) {
      const Valid* covering = nullptr;
      for (const Valid& cp : valid_) {
        if (cp.size > index) {
          covering = &cp;
          break;
        }
      }
      const std::string tile = TilePath(0, index / kTileWidth);
      if (covering != nullptr && covering->root_matches) {
        Problem(ProblemKind::kTileCorrupt, index / kTileWidth,
                "tile " + tile + ": stored leaf hash of entry " + std::to_string(index) +
                    " is corrupt (the entry matches the checkpoint of size " +
                    std::to_string(covering->size) + ")");
      } else {
        Problem(ProblemKind::kEntryModified, index,
                "entry " + std::to_string(index) +
                    " does not match the signed tree (modified or reordered)");
      }
    }
  }

  void CheckStoredConsistency() {
    if (valid_.size() < 2) return;
    internal::TileCache cache;
    internal::StoreHashSource source(store_, &cache, tree_extent_);
    std::vector<std::pair<size_t, size_t>> pairs;
    const size_t n = valid_.size() - 1;
    const size_t step = std::max<size_t>(1, n / kMaxStoredConsistencyChecks);
    for (size_t i = 0; i < n; i += step) pairs.emplace_back(i, i + 1);
    pairs.emplace_back(0, n);
    for (const auto& [a, b] : pairs) {
      const Valid& older = valid_[a];
      const Valid& newer = valid_[b];
      if (older.size == 0 || newer.size > tree_extent_) continue;
      auto proof = ProveConsistency(source, older.size, newer.size);
      Status s = proof ? VerifyConsistency(older.size, newer.size, *proof, older.root, newer.root)
                       : proof.error();
      if (!s.ok()) {
        Problem(ProblemKind::kCheckpointInconsistent, newer.size,
                "checkpoints of sizes " + std::to_string(older.size) + " and " +
                    std::to_string(newer.size) + " are not consistent: " + s.message());
      }
    }
  }

  LedgerStore& store_;
  const NoteVerifierKey key_;
  const VerifyOptions& options_;
  VerifyReport& report_;

  std::vector<Valid> valid_;  // checkpoints whose signature verifies, ascending size
  size_t next_checkpoint_ = 0;
  std::uint64_t tree_extent_ = 0;  // size of the largest checkpoint row: what the tiles cover
  MerkleAccumulator acc_;
  std::vector<std::vector<Hash>> levels_;   // recomputed partial tile per level
  std::vector<std::uint64_t> level_tiles_;  // completed tiles per level
  std::vector<std::uint64_t> leaf_mismatches_;
  bool tile_problems_ = false;
  bool leaf_tile_loaded_ = false;
  std::uint64_t leaf_tile_index_ = 0;
  Bytes leaf_tile_;
};

}  // namespace

Result<VerifyReport> VerifyLedgerStore(LedgerStore& store, const std::string& verifier_key,
                                       const VerifyOptions& options) {
  ARBITER_TRY(NoteVerifierKey key, ParseVerifierKey(verifier_key));
  VerifyReport report;
  report.verifier_key = verifier_key;
  Verifier verifier(store, std::move(key), options, report);
  ARBITER_RETURN_IF_ERROR(verifier.Run());
  if (report.origin.empty()) {
    auto origin = store.GetMeta("origin");
    if (origin && *origin) report.origin = **origin;
  }
  return report;
}

Result<VerifyReport> VerifyLedgerDir(const std::filesystem::path& data_dir,
                                     const VerifyOptions& options) {
  std::error_code ec;
  const std::filesystem::path db = data_dir / kLedgerDbFile;
  if (!std::filesystem::exists(db, ec)) {
    return Status::NotFound("no ledger in `" + data_dir.string() + "`");
  }
  std::string vkey;
  if (options.verifier_key) {
    vkey = *options.verifier_key;
  } else {
    ARBITER_TRY(vkey, ReadVerifierKey(data_dir));
  }
  SqliteLedgerStoreOptions store_options;
  store_options.read_only = true;
  store_options.readers = 2;
  ARBITER_TRY(auto store, OpenSqliteLedgerStore(db, store_options));
  return VerifyLedgerStore(*store, vkey, options);
}

}  // namespace arbiter::ledger
