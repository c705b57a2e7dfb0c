// LedgerStore on SQLite (WAL, synchronous=FULL) in two files: entries and metadata in `ledger.db`
// (written by the sequencer), tiles, leaf lookup and checkpoints in `ledger-tree.db` (written by
// the integrator). Each file has its own writer connection and lock, so an append never waits for
// an integration's commit and fsync; small pools of reader connections serve proofs and reads
// while writes are open.
//
//   ARBITER_TRY(auto store, OpenSqliteLedgerStore(dir / "ledger.db", {}));   // + ledger-tree.db
//
// A ledger written before the split (tree tables inside ledger.db) is migrated on its first
// writable open (copied into ledger-tree.db, then removed from ledger.db; safe against a crash at
// any point) and read in place by a read-only open. A split ledger whose tree file is missing is
// refused with kDataLoss.
#pragma once

#include <filesystem>
#include <memory>

#include "arbiter/ledger/storage.h"

namespace arbiter::ledger {

struct SqliteLedgerStoreOptions {
  int readers = 4;
  bool read_only = false;  // no schema changes; writes fail
  // false: AppendEntries commits without an fsync (synchronous=NORMAL for that transaction: the
  // entries survive a process crash, not a power loss) until the next Integrate, which first
  // fsyncs ledger.db's write-ahead log and so makes every earlier entry durable before it stores
  // a checkpoint.
  bool sync_appends = true;
};

class SqliteLedgerStore;

// The tree file that goes with an entries database: `ledger.db` -> `ledger-tree.db`.
std::filesystem::path LedgerTreePath(const std::filesystem::path& entries_db);

// Opens (creating when allowed) the database at `path`.
Result<std::unique_ptr<LedgerStore>> OpenSqliteLedgerStore(const std::filesystem::path& path,
                                                           const SqliteLedgerStoreOptions& options);

}  // namespace arbiter::ledger
