// Per-module schema versions in a shared SQLite database. SqliteDb::Migrate keeps one version per
// database (PRAGMA user_version), which breaks when several modules share a file; this keeps one
// row per module in `arbiter_schema` instead.
#pragma once

#include <span>
#include <string_view>

#include "arbiter/common/status.h"
#include "arbiter/store/sqlite.h"

namespace arbiter::store {

// Applies migrations[v..] for `module` (v = its recorded version), each in its own transaction.
// A database newer than this build (more migrations recorded) is kFailedPrecondition.
Status MigrateModule(SqliteDb& db, std::string_view module,
                     std::span<const std::string_view> migrations);

}  // namespace arbiter::store
