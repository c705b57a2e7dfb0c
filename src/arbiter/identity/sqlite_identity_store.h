// IdentityStore on SQLite (arbiter/store/sqlite.h). Owns its connection; serialises calls with a
// mutex. Open several stores on one file for several processes: check-and-set operations run in
// BEGIN IMMEDIATE transactions.
//
//   ARBITER_TRY(auto db, store::SqliteDb::Open(dir / "arbiter.db"));
//   ARBITER_TRY(auto identity_store, SqliteIdentityStore::Create(std::move(db)));
#pragma once

#include <memory>

#include "arbiter/identity/identity_store.h"
#include "arbiter/store/sqlite.h"

namespace arbiter::identity {

// Creates or migrates the identity tables (module `identity` in `arbiter_schema`).
Result<std::unique_ptr<IdentityStore>> CreateSqliteIdentityStore(
    std::unique_ptr<store::SqliteDb> db);

}  // namespace arbiter::identity
