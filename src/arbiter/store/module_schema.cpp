#include "arbiter/store/module_schema.h"

#include <string>

namespace arbiter::store {

Status MigrateModule(SqliteDb& db, std::string_view module,
                     std::span<const std::string_view> migrations) {
  ARBITER_RETURN_IF_ERROR(
      db.Exec("CREATE TABLE IF NOT EXISTS arbiter_schema (module TEXT PRIMARY KEY, "
              "version INTEGER NOT NULL)"));
  return db.InTransaction([&]() -> Status {
    std::int64_t version = 0;
    {
      ARBITER_TRY(auto sel, db.Prepare("SELECT version FROM arbiter_schema WHERE module = ?1"));
      sel.Bind(1, module);
      ARBITER_TRY(bool row, sel.Step());
      if (row) version = sel.ColumnInt64(0);
    }
    if (version > static_cast<std::int64_t>(migrations.size())) {
      return Status::FailedPrecondition("schema of `" + std::string(module) + "` is version " +
                                        std::to_string(version) + ", newer than this build (" +
                                        std::to_string(migrations.size()) + ")");
    }
    for (auto v = static_cast<size_t>(version); v < migrations.size(); ++v) {
      ARBITER_RETURN_IF_ERROR(db.Exec(migrations[v]));
    }
    ARBITER_TRY(auto up,
                db.Prepare("INSERT INTO arbiter_schema (module, version) VALUES (?1, ?2) "
                           "ON CONFLICT(module) DO UPDATE SET version = excluded.version"));
    up.Bind(1, module).Bind(2, static_cast<std::int64_t>(migrations.size()));
    return up.Run();
  });
}

}  // namespace arbiter::store
