// A thin, safe wrapper over the SQLite C API: one connection, prepared statements with typed
// binding, transactions, and errors as Status. Modules define their own repository interfaces and
// implement them on this; `sqlite3.h` stays out of every header.
//
//   ARBITER_TRY(auto db, SqliteDb::Open(dir / "arbiter.db"));
//   ARBITER_RETURN_IF_ERROR(db->Exec("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v BLOB)"));
//   ARBITER_TRY(auto stmt, db->Prepare("INSERT INTO t VALUES (?1, ?2)"));
//   stmt.Bind(1, "key").Bind(2, AsBytes("value"));
//   ARBITER_RETURN_IF_ERROR(stmt.Run());
//
// A SqliteDb is used by one thread at a time (callers serialise access, e.g. with a mutex); open
// several connections to the same file for concurrent readers (WAL mode allows one writer and many
// readers).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "arbiter/common/bytes.h"
#include "arbiter/common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace arbiter::store {

enum class Durability : std::uint8_t {
  kFull,    // synchronous=FULL: a committed transaction survives power loss
  kNormal,  // synchronous=NORMAL in WAL mode: survives a process crash, may lose the last commits
            // on power loss
};

struct SqliteOptions {
  Durability durability = Durability::kFull;
  int busy_timeout_ms = 5000;
  bool read_only = false;
  // Page size (512 to 65,536, a power of two) for a database this call creates; 0 keeps SQLite's
  // default (4,096). A database that already has a header keeps the size it was created with.
  int page_size = 0;
};

class SqliteStatement {
 public:
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  // Parameters are 1-based, as in SQL's ?1, ?2, ...
  SqliteStatement& Bind(int index, std::int64_t value);
  SqliteStatement& Bind(int index, std::string_view text);
  SqliteStatement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  SqliteStatement& Bind(int index, ByteView blob);
  SqliteStatement& BindNull(int index);
  // Like Bind, without copying the value into SQLite: `text` or `blob` must stay alive and
  // unchanged until the statement is reset (Run, Reset, or Step after its last row). For values
  // that outlive the step anyway, e.g. a batch's rows written by a committer.
  SqliteStatement& BindNoCopy(int index, std::string_view text);
  SqliteStatement& BindNoCopy(int index, ByteView blob);

  // Advances to the next row: true when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion, expecting no rows; then resets the statement for reuse (bindings cleared).
  Status Run();
  // Resets for reuse and clears bindings.
  void Reset();

  // Column accessors for the current row (0-based).
  bool IsNull(int column) const;
  std::int64_t ColumnInt64(int column) const;
  std::string ColumnText(int column) const;
  Bytes ColumnBlob(int column) const;
  ByteView ColumnBlobView(int column) const;  // valid until the next Step/Reset

 private:
  friend class SqliteDb;
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  // Bind and BindNoCopy: `copy` says whether SQLite copies the value (else it must outlive the
  // step).
  SqliteStatement& BindText(int index, std::string_view text, bool copy);
  SqliteStatement& BindBlob(int index, ByteView blob, bool copy);
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  int bind_error_ = 0;
};

class SqliteDb {
 public:
  // Opens (creating if needed) the database file; enables WAL, foreign keys and the busy timeout.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::filesystem::path& path,
                                                const SqliteOptions& options = {});
  // A private in-memory database (for tests).
  static Result<std::unique_ptr<SqliteDb>> OpenInMemory();
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Runs one or more SQL statements that return no rows.
  Status Exec(std::string_view sql);
  Result<SqliteStatement> Prepare(std::string_view sql);

  // BEGIN IMMEDIATE / COMMIT / ROLLBACK.
  Status Begin();
  Status Commit();
  Status Rollback();

  // Runs `body` in a transaction; commits when it returns OK, rolls back otherwise.
  template <typename Fn>
  Status InTransaction(Fn&& body) {
    ARBITER_RETURN_IF_ERROR(Begin());
    Status s = body();
    if (!s.ok()) {
      (void)Rollback();
      return s;
    }
    return Commit();
  }

  std::int64_t LastInsertRowId() const;
  int Changes() const;  // rows changed by the last statement

  // Turns off SQLite's automatic checkpoint on this connection (it would run inside a commit) and
  // from then on notes, after each of its commits, how many frames the write-ahead log holds
  // (WalFrames(): pages written since the log last restarted from its beginning, not the file's
  // size, which a restart does not shrink). For a connection whose owner checkpoints itself.
  void TrackWalFrames();
  // Frames in the WAL after this connection's last commit; 0 before TrackWalFrames() or a commit.
  // Any thread.
  std::int64_t WalFrames() const { return wal_frames_.load(std::memory_order_relaxed); }

  // Applies schema migrations: migrations[i] brings user_version i to i+1. Idempotent.
  Status Migrate(std::span<const std::string_view> migrations);

  const std::filesystem::path& path() const { return path_; }

 private:
  SqliteDb(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::filesystem::path path_;
  std::atomic<std::int64_t> wal_frames_{0};
};

}  // namespace arbiter::store
