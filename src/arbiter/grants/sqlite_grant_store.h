// GrantStore on SQLite. Owns its connection, serialises calls with a mutex, keeps the hot
// statements (intent lookup and consumption, grant lookup) prepared.
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
