// The ledger's storage interface: append-only entries, the tree as C2SP hash tiles, a leaf-hash
// lookup and signed checkpoints. SqliteLedgerStore (sqlite_store.h) implements it on one SQLite
// file; a PostgreSQL implementation can follow the same contract. docs/LEDGER.md describes the
// layout byte by byte.
//
// Contract shared by every implementation:
// - All methods are thread-safe.
// - AppendEntries and Integrate are atomic and durable when they return OK: after a crash either
//   all of their rows exist or none do. (An implementation may let AppendEntries return before
//   an fsync, as SqliteLedgerStoreOptions::sync_appends = false does; Integrate then makes every
//   entry stored before the call durable before its checkpoint is.)
// - AppendEntries does not wait for a concurrent Integrate (they write independent state).
// - Tiles hold the hashes of one tile (see tiles.h) concatenated, 32 bytes each; a stored partial
//   tile is a prefix of the full tile it becomes, so any width up to the stored one can be served.
// - At most one checkpoint exists per tree size: Integrate fails with kAlreadyExists otherwise.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "arbiter/common/bytes.h"
#include "arbiter/common/status.h"
#include "arbiter/ledger/merkle.h"

namespace arbiter::ledger {

struct StoredCheckpoint {
  std::uint64_t size = 0;
  Hash root{};
  std::string note;  // the signed note, exactly as published
};

struct TileWrite {
  std::uint32_t level = 0;
  std::uint64_t index = 0;
  Bytes hashes;  // 32 * width bytes
};

// Everything one integration step writes, in one transaction.
struct IntegrationWrite {
  std::vector<TileWrite> tiles;  // replaces the stored tile at (level, index)
  std::uint64_t first_leaf = 0;  // leaf_prefixes[i] belongs to leaf first_leaf + i
  std::vector<std::uint64_t> leaf_prefixes;
  StoredCheckpoint checkpoint;
};

// The first 8 bytes of a leaf hash, big-endian: the key of the leaf lookup.
std::uint64_t LeafPrefix(const Hash& leaf_hash);

class LedgerStore {
 public:
  virtual ~LedgerStore() = default;

  // Metadata (origin, format version).
  virtual Result<std::optional<std::string>> GetMeta(std::string_view key) = 0;
  virtual Status SetMeta(std::string_view key, std::string_view value) = 0;

  // Stores entries first_index, first_index + 1, ...; fails if any index exists.
  virtual Status AppendEntries(std::uint64_t first_index, std::span<const ByteView> entries) = 0;
  // One past the highest stored entry index (0 when there are none).
  virtual Result<std::uint64_t> EntryEnd() = 0;
  virtual Result<std::optional<Bytes>> ReadEntry(std::uint64_t index) = 0;
  // Calls fn for every stored entry with begin <= index < end, in index order. Stops at the first
  // error fn returns. Stored data that cannot be decoded (entries first .. first + count - 1) is
  // passed to on_corrupt when given and skipped; without on_corrupt it is a kDataLoss error.
  using CorruptFn = std::function<void(std::uint64_t first, std::uint64_t count, std::string why)>;
  virtual Status ScanEntries(std::uint64_t begin, std::uint64_t end,
                             const std::function<Status(std::uint64_t, ByteView)>& fn,
                             const CorruptFn& on_corrupt = nullptr) = 0;

  virtual Result<std::optional<Bytes>> ReadTile(std::uint32_t level, std::uint64_t index) = 0;
  // Indices of leaves whose hash starts with `prefix`, below `limit`, ascending.
  virtual Result<std::vector<std::uint64_t>> FindLeaves(std::uint64_t prefix,
                                                        std::uint64_t limit) = 0;

  virtual Result<std::optional<StoredCheckpoint>> LatestCheckpoint() = 0;
  virtual Result<std::optional<StoredCheckpoint>> CheckpointAt(std::uint64_t size) = 0;
  // Every checkpoint in ascending size order.
  virtual Status ScanCheckpoints(const std::function<Status(const StoredCheckpoint&)>& fn) = 0;

  virtual Status Integrate(const IntegrationWrite& write) = 0;
};

}  // namespace arbiter::ledger
