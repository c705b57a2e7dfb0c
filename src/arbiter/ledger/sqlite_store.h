// LedgerStore on SQLite (WAL, synchronous=FULL): one writer connection shared by the sequencer and
// the integrator, and a small pool of reader connections so that proofs and reads run while a
// write transaction is open.
//
//   ARBITER_TRY(auto store, SqliteLedgerStore::Open(dir / "ledger.db"));
#pragma once

#include <filesystem>
#include <memory>

#include "arbiter/ledger/storage.h"

namespace arbiter::ledger {

struct SqliteLedgerStoreOptions {
  int readers = 4;
  bool read_only = false;  // no schema changes; writes fail
  // false: AppendEntries commits without an fsync (synchronous=NORMAL for that transaction: the
  // entries survive a process crash, not a power loss) until the next Integrate, which commits
  // with synchronous=FULL and so makes every earlier entry durable with it.
  bool sync_appends = true;
};

class SqliteLedgerStore;

// Opens (creating when allowed) the database at `path`.
Result<std::unique_ptr<LedgerStore>> OpenSqliteLedgerStore(const std::filesystem::path& path,
                                                           const SqliteLedgerStoreOptions& options);

}  // namespace arbiter::ledger
