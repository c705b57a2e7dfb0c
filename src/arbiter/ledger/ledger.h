// The evidence ledger: an append-only RFC 9162 Merkle log of opaque entries with C2SP signed-note
// checkpoints, inclusion and consistency proofs and C2SP tlog-tiles. Start here.
//
//   LedgerOptions options;
//   options.data_dir = "/var/lib/arbiter/ledger";
//   options.origin = "arbiter.example.com/ledger";
//   ARBITER_TRY(std::unique_ptr<Ledger> ledger, Ledger::Open(options));
//   ARBITER_TRY(std::uint64_t index, ledger->Append(AsBytes(record)));   // durable on return
//   ARBITER_TRY(Receipt receipt, ledger->WaitForReceipt(index, std::chrono::seconds(5)));
//   // receipt.checkpoint.note is a signed checkpoint that includes the entry, receipt.proof the
//   // inclusion proof against it.
//
// How it works. Appends are sequenced with group commit: concurrent Append/AppendBatch calls queue
// up, the first in the queue writes every queued entry in one transaction, waits for it to be
// durable (fsync) and then acknowledges them all. An integrator thread takes acknowledged entries
// in batches (when `integration_max_batch` are waiting or the oldest has waited
// `integration_interval`), extends the hash tiles, checks that the new tree is consistent with the
// previous checkpoint, signs a checkpoint and stores tiles and checkpoint in one transaction.
// A crash at any point loses no acknowledged entry (entries are the source of truth; integration
// resumes from the last checkpoint) and never produces two checkpoints for one size (checkpoints
// are keyed by size, and a checkpoint note is a deterministic function of origin, size and root).
//
// Every method is thread-safe. Methods that take a tree size accept sizes up to the latest
// checkpoint's; 0 means "the latest checkpoint".
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/bytes.h"
#include "arbiter/common/status.h"
#include "arbiter/ledger/checkpoint.h"
#include "arbiter/ledger/merkle.h"
#include "arbiter/ledger/storage.h"

namespace arbiter::ledger {

// Entries are opaque byte strings of 0 to 65,535 bytes: an entry bundle tile stores each length as
// a big-endian uint16.
inline constexpr size_t kMaxEntrySize = 65535;
// Entries one AppendBatch call may carry.
inline constexpr size_t kMaxBatchEntries = 100000;

struct LedgerOptions {
  std::filesystem::path data_dir;  // holds ledger.db, ledger-tree.db and ledger.key
  // The log's origin line and key name, e.g. "arbiter.example.com/ledger". Required unless
  // read_only (then taken from the store).
  std::string origin;
  // Integrate when this many entries wait ...
  size_t integration_max_batch = 65536;
  // ... or when the oldest waiting entry has waited this long.
  std::chrono::milliseconds integration_interval{20};
  // Most entries one group commit writes.
  size_t max_group_entries = 32768;
  // true: Append returns once its entries are fsynced. false: once they are committed to the
  // write-ahead log without an fsync (they survive a crash of the process, not a power loss);
  // the next integration (at most `integration_interval` later under load) commits with an fsync
  // and makes them durable. Checkpoints and receipts are always fsynced, and only ever cover
  // fsynced entries.
  bool sync_appends = true;
  // Opens an existing ledger for reading (verification, proofs, the CLI): no key is generated,
  // nothing is written and no integrator runs.
  bool read_only = false;
};

struct InclusionProof {
  std::uint64_t index = 0;
  std::uint64_t tree_size = 0;
  Hash leaf_hash{};
  Hash root{};
  std::vector<Hash> path;
};

struct Receipt {
  std::uint64_t index = 0;
  Hash leaf_hash{};
  SignedCheckpoint checkpoint;  // the checkpoint the proof is against
  std::vector<Hash> proof;
};

struct LedgerStats {
  std::uint64_t sequenced = 0;   // entries acknowledged (durable)
  std::uint64_t integrated = 0;  // size of the latest checkpoint
  std::uint64_t group_commits = 0;
  std::uint64_t checkpoints_signed = 0;
};

class Ledger {
 public:
  // Opens or creates the ledger in options.data_dir. The signing key is read from
  // `<data_dir>/ledger.key` (the golang.org/x/mod/sumdb/note private-key format), or generated and
  // written there (mode 0600) when absent. Errors: kInvalidArgument for bad options, kDataLoss when
  // stored state is inconsistent (e.g. tiles that do not match the latest signed checkpoint).
  static Result<std::unique_ptr<Ledger>> Open(const LedgerOptions& options);
  virtual ~Ledger() = default;

  // Appends one entry; returns its index once it is durable.
  virtual Result<std::uint64_t> Append(ByteView entry) = 0;
  // Appends entries atomically at consecutive indices; returns the first index once all are
  // durable.
  virtual Result<std::uint64_t> AppendBatch(std::span<const ByteView> entries) = 0;

  // Waits until entry `index` is covered by a checkpoint, then returns its receipt. kNotFound for
  // an index never acknowledged, kUnavailable when the timeout passes first (or the ledger
  // closes, or integration has stopped on an error, which the status then names).
  virtual Result<Receipt> WaitForReceipt(std::uint64_t index,
                                         std::chrono::milliseconds timeout) = 0;
  // The same wait without blocking: calls `done` once entry `index` is covered by a checkpoint
  // (OK; WaitForReceipt(index, 0) then returns its receipt at once), or with the error when it
  // cannot be: kNotFound for an index never appended, kUnavailable once `deadline` passes while
  // integration keeps failing, or when the ledger closes or integration stops on an error. `done`
  // runs on the integrator's thread (or on the caller's when the answer is already known), never
  // under a ledger lock; it must be quick and must not call back into the ledger's waits. A
  // deadline is checked whenever integration succeeds or fails, so it can be late by one
  // integration's duration.
  virtual void OnIntegrated(std::uint64_t index, std::chrono::steady_clock::time_point deadline,
                            std::function<void(Status)> done) = 0;

  // The latest signed checkpoint; kNotFound before the first integration.
  virtual Result<SignedCheckpoint> LatestCheckpoint() = 0;
  // The stored checkpoint of exactly `size`; kNotFound if none was signed at that size.
  virtual Result<SignedCheckpoint> CheckpointAt(std::uint64_t size) = 0;
  // Entry `index` (any acknowledged entry, integrated or not).
  virtual Result<Bytes> Entry(std::uint64_t index) = 0;
  virtual Result<InclusionProof> ProveInclusion(std::uint64_t index, std::uint64_t tree_size) = 0;
  // The first leaf with this hash below tree_size.
  virtual Result<InclusionProof> ProveInclusionByLeafHash(const Hash& leaf_hash,
                                                          std::uint64_t tree_size) = 0;
  // RFC 9162 consistency proof between two sizes (0 < size1 <= size2 <= latest).
  virtual Result<std::vector<Hash>> ProveConsistency(std::uint64_t size1, std::uint64_t size2) = 0;
  // The hash of the tree of `tree_size` leaves.
  virtual Result<Hash> RootAt(std::uint64_t tree_size) = 0;
  // A tile or entry bundle by its C2SP path (`tile/0/x001/234.p/7`, `tile/entries/000`), or the
  // latest checkpoint note for `checkpoint`. A full tile exists once the latest checkpoint covers
  // it; a partial tile of width W exists while the tile holds at least W hashes (a partial tile
  // is a prefix of the tile it grows into). kNotFound otherwise.
  virtual Result<Bytes> ReadTilePath(std::string_view path) = 0;

  // `<origin>+<key id>+<base64 key>`: what verifiers and witnesses need.
  virtual std::string VerifierKey() const = 0;
  virtual const std::string& Origin() const = 0;
  virtual LedgerStats Stats() = 0;

  // Integrates everything acknowledged so far and returns the resulting checkpoint (tests, tools,
  // shutdown). Not needed in normal operation.
  virtual Result<SignedCheckpoint> Flush() = 0;

  // Stops the integrator after a final integration; later appends fail. Idempotent; the
  // destructor calls it.
  virtual void Close() = 0;
};

// The file names inside a data directory.
inline constexpr std::string_view kLedgerDbFile = "ledger.db";  // entries and metadata
// Tiles, leaf lookup and checkpoints (the integrator's file; since the append/integration split).
inline constexpr std::string_view kLedgerTreeDbFile = "ledger-tree.db";
inline constexpr std::string_view kLedgerKeyFile = "ledger.key";

// The verifier key of the ledger in `data_dir`, from its key file.
Result<std::string> ReadVerifierKey(const std::filesystem::path& data_dir);

}  // namespace arbiter::ledger
