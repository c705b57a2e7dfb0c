#include "arbiter/store/sqlite.h"

#include <sqlite3.h>

#include <utility>

namespace arbiter::store {
namespace {

Status SqliteError(sqlite3* db, int rc, std::string_view what) {
  std::string msg = "sqlite: ";
  msg += what;
  msg += ": ";
  msg += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  const int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_IOERR ||
      primary == SQLITE_FULL || primary == SQLITE_CANTOPEN) {
    return Status::Unavailable(std::move(msg));
  }
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
    return Status::DataLoss(std::move(msg));
  if (primary == SQLITE_CONSTRAINT) return Status::AlreadyExists(std::move(msg));
  return Status::Internal(std::move(msg));
}

}  // namespace

// ---- SqliteStatement ----

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), bind_error_(other.bind_error_) {}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_error_ = other.bind_error_;
  }
  return *this;
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

SqliteStatement& SqliteStatement::Bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

SqliteStatement& SqliteStatement::Bind(int index, std::string_view text) {
  return BindText(index, text, true);
}

SqliteStatement& SqliteStatement::Bind(int index, ByteView blob) {
  return BindBlob(index, blob, true);
}

SqliteStatement& SqliteStatement::BindNoCopy(int index, std::string_view text) {
  return BindText(index, text, false);
}

SqliteStatement& SqliteStatement::BindNoCopy(int index, ByteView blob) {
  return BindBlob(index, blob, false);
}

SqliteStatement& SqliteStatement::BindText(int index, std::string_view text, bool copy) {
  // An empty view may have no data; SQLite would bind NULL for a null pointer.
  const int rc = sqlite3_bind_text64(stmt_, index, text.empty() ? "" : text.data(), text.size(),
                                     copy ? SQLITE_TRANSIENT : SQLITE_STATIC, SQLITE_UTF8);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

SqliteStatement& SqliteStatement::BindBlob(int index, ByteView blob, bool copy) {
  static const std::uint8_t kEmpty = 0;
  const int rc = sqlite3_bind_blob64(stmt_, index, blob.empty() ? &kEmpty : blob.data(),
                                     blob.size(), copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

SqliteStatement& SqliteStatement::BindNull(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) bind_error_ = rc;
  return *this;
}

Result<bool> SqliteStatement::Step() {
  if (bind_error_ != 0) {
    const int rc = std::exchange(bind_error_, 0);
    Reset();
    return SqliteError(db_, rc, "binding a parameter");
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status s = SqliteError(db_, rc, sqlite3_sql(stmt_));
  sqlite3_reset(stmt_);
  return s;
}

Status SqliteStatement::Run() {
  auto row = Step();
  Reset();
  if (!row) return row.error();
  if (*row) return Status::Internal("sqlite: statement returned rows where none were expected");
  return Status::Ok();
}

void SqliteStatement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = 0;
}

bool SqliteStatement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t SqliteStatement::ColumnInt64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string SqliteStatement::ColumnText(int column) const {
  const auto* p = sqlite3_column_text(stmt_, column);
  const int n = sqlite3_column_bytes(stmt_, column);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

ByteView SqliteStatement::ColumnBlobView(int column) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
  const int n = sqlite3_column_bytes(stmt_, column);
  return p ? ByteView(p, static_cast<size_t>(n)) : ByteView();
}

Bytes SqliteStatement::ColumnBlob(int column) const {
  auto v = ColumnBlobView(column);
  return Bytes(v.begin(), v.end());
}

// ---- SqliteDb ----

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::filesystem::path& path,
                                                 const SqliteOptions& options) {
  sqlite3* raw = nullptr;
  const int flags =
      (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
      SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(raw, rc, "opening `" + path.string() + "`");
    sqlite3_close(raw);
    return s;
  }
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw, path));
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  sqlite3_extended_result_codes(raw, 1);
  if (!options.read_only) {
    // Before WAL mode: switching a new file to WAL writes its header, which fixes the page size.
    if (options.page_size != 0) {
      ARBITER_RETURN_IF_ERROR(db->Exec("PRAGMA page_size=" + std::to_string(options.page_size)));
    }
    ARBITER_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
  }
  ARBITER_RETURN_IF_ERROR(db->Exec(options.durability == Durability::kFull
                                       ? "PRAGMA synchronous=FULL"
                                       : "PRAGMA synchronous=NORMAL"));
  ARBITER_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  return db;
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::OpenInMemory() {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(":memory:", &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(raw, rc, "opening in-memory database");
    sqlite3_close(raw);
    return s;
  }
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw, ":memory:"));
  sqlite3_extended_result_codes(raw, 1);
  ARBITER_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  return db;
}

SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

Status SqliteDb::Exec(std::string_view sql) {
  const std::string text(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, text);
  return Status::Ok();
}

Result<SqliteStatement> SqliteDb::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "preparing `" + std::string(sql) + "`");
  return SqliteStatement(db_, stmt);
}

Status SqliteDb::Begin() { return Exec("BEGIN IMMEDIATE"); }
Status SqliteDb::Commit() { return Exec("COMMIT"); }
Status SqliteDb::Rollback() { return Exec("ROLLBACK"); }

std::int64_t SqliteDb::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int SqliteDb::Changes() const { return sqlite3_changes(db_); }

void SqliteDb::TrackWalFrames() {
  // Replaces the automatic checkpoint's hook (sqlite3_wal_autocheckpoint is this hook).
  sqlite3_wal_hook(
      db_,
      [](void* self, sqlite3*, const char*, int frames) {
        static_cast<SqliteDb*>(self)->wal_frames_.store(frames, std::memory_order_relaxed);
        return SQLITE_OK;
      },
      this);
}

Status SqliteDb::Migrate(std::span<const std::string_view> migrations) {
  ARBITER_TRY(auto stmt, Prepare("PRAGMA user_version"));
  ARBITER_TRY(bool has_row, stmt.Step());
  std::int64_t version = has_row ? stmt.ColumnInt64(0) : 0;
  stmt.Reset();
  if (version > static_cast<std::int64_t>(migrations.size())) {
    return Status::FailedPrecondition(
        "sqlite: database `" + path_.string() + "` has schema version " + std::to_string(version) +
        ", newer than this build knows (" + std::to_string(migrations.size()) + ")");
  }
  for (auto v = static_cast<size_t>(version); v < migrations.size(); ++v) {
    ARBITER_RETURN_IF_ERROR(InTransaction([&]() -> Status {
      ARBITER_RETURN_IF_ERROR(Exec(migrations[v]));
      return Exec("PRAGMA user_version = " + std::to_string(v + 1));
    }));
  }
  return Status::Ok();
}

}  // namespace arbiter::store
