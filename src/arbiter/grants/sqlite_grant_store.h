// GrantStore on SQLite. Owns its connection, serialises calls with a mutex, keeps the hot
// statements (intent insert, lookup and consumption, grant lookup) prepared. Concurrent
// ConsumeIntent calls are committed in groups: one transaction for the uses that queued while the
// previous commit ran, each caller answered only after the commit that holds its use.
//
//   ARBITER_TRY(auto db, store::SqliteDb::Open(dir / "arbiter.db"));
//   ARBITER_TRY(auto grant_store, CreateSqliteGrantStore(std::move(db)));
#pragma once

#include <memory>

#include "arbiter/grants/grant_store.h"
#include "arbiter/store/sqlite.h"

namespace arbiter::grants {

// Creates or migrates the grants tables (module `grants` in `arbiter_schema`).
Result<std::unique_ptr<GrantStore>> CreateSqliteGrantStore(std::unique_ptr<store::SqliteDb> db);

}  // namespace arbiter::grants
