#include "arbiter/ledger/sqlite_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "arbiter/store/sqlite.h"

namespace arbiter::ledger {

std::uint64_t LeafPrefix(const Hash& leaf_hash) {
  std::uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | leaf_hash[i];
  return v;
}

namespace {

using store::SqliteDb;
using store::SqliteStatement;

// The entries database (ledger.db), schema version 1. See docs/LEDGER.md. Its tiles, leaves and
// checkpoints tables are those of the single-file layout before the tree moved to its own file;
// they stay empty in a split ledger (a single-file ledger is migrated on its first writable open).
constexpr std::string_view kMigrations[] = {
    R"sql(
CREATE TABLE ledger_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE ledger_entries (
  first INTEGER PRIMARY KEY,
  count INTEGER NOT NULL,
  data  BLOB NOT NULL
);
CREATE TABLE ledger_tiles (
  level  INTEGER NOT NULL,
  idx    INTEGER NOT NULL,
  hashes BLOB NOT NULL,
  PRIMARY KEY (level, idx)
);
CREATE TABLE ledger_leaves (
  prefix INTEGER NOT NULL,
  idx    INTEGER NOT NULL,
  PRIMARY KEY (prefix, idx)
) WITHOUT ROWID;
CREATE TABLE ledger_checkpoints (
  size INTEGER PRIMARY KEY,
  root BLOB NOT NULL,
  note TEXT NOT NULL
);
)sql",
};

// The tree database (ledger-tree.db), schema version 1: what the integrator writes. It has its
// own connection, lock and fsyncs, so integration never holds up an append.
constexpr std::string_view kTreeMigrations[] = {
    R"sql(
CREATE TABLE ledger_tiles (
  level  INTEGER NOT NULL,
  idx    INTEGER NOT NULL,
  hashes BLOB NOT NULL,
  PRIMARY KEY (level, idx)
);
CREATE TABLE ledger_leaves (
  prefix INTEGER NOT NULL,
  idx    INTEGER NOT NULL,
  PRIMARY KEY (prefix, idx)
) WITHOUT ROWID;
CREATE TABLE ledger_checkpoints (
  size INTEGER PRIMARY KEY,
  root BLOB NOT NULL,
  note TEXT NOT NULL
);
)sql",
};

// ledger_meta key naming the tree file once the ledger is split.
constexpr std::string_view kTreeFileMeta = "tree_file";

// SQLite integers are signed 64-bit; indices and sizes stay below 2^63 and prefixes are stored as
// their two's-complement bit pattern.
std::int64_t I64(std::uint64_t v) { return static_cast<std::int64_t>(v); }
std::uint64_t U64(std::int64_t v) { return static_cast<std::uint64_t>(v); }

// A run of consecutive entries is stored in one row, encoded as an entry bundle: for each entry a
// big-endian uint16 length, then its bytes. One row per group commit (split at these limits) makes
// a durable append cost one B-tree insert per group instead of one per entry.
constexpr size_t kMaxRunEntries = 4096;
constexpr size_t kMaxRunBytes = 1 << 20;

// Calls fn(index, entry) for each entry of the run; an error names what is malformed.
template <typename Fn>
Status DecodeRun(std::uint64_t first, std::uint64_t count, ByteView data, Fn&& fn) {
  size_t pos = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (data.size() - pos < 2) {
      return Status::DataLoss("run ends after " + std::to_string(i) + " of " +
                              std::to_string(count) + " entries");
    }
    const size_t len = (size_t{data[pos]} << 8) | data[pos + 1];
    pos += 2;
    if (data.size() - pos < len) {
      return Status::DataLoss("entry " + std::to_string(first + i) + " is cut short");
    }
    ARBITER_RETURN_IF_ERROR(fn(first + i, data.subspan(pos, len)));
    pos += len;
  }
  if (pos != data.size()) return Status::DataLoss("run has bytes after its last entry");
  return Status::Ok();
}

Result<StoredCheckpoint> ReadCheckpointRow(const SqliteStatement& stmt) {
  StoredCheckpoint cp;
  cp.size = U64(stmt.ColumnInt64(0));
  auto root = HashFromBytes(stmt.ColumnBlobView(1));
  if (!root) {
    return Status::DataLoss("stored checkpoint of size " + std::to_string(cp.size) +
                            " has a root of the wrong length");
  }
  cp.root = *root;
  cp.note = stmt.ColumnText(2);
  return cp;
}

// A fixed set of connections to one database file, lent out one at a time.
class ConnectionPool {
 public:
  Status Open(const std::filesystem::path& path, int count, const store::SqliteOptions& options) {
    for (int i = 0; i < std::max(1, count); ++i) {
      ARBITER_TRY(auto db, SqliteDb::Open(path, options));
      free_.push_back(db.get());
      all_.push_back(std::move(db));
    }
    return Status::Ok();
  }

  // Borrows a connection for the lifetime of the object.
  class Lease {
   public:
    explicit Lease(ConnectionPool& pool) : pool_(pool) {
      std::unique_lock lock(pool_.mu_);
      pool_.cv_.wait(lock, [this] { return !pool_.free_.empty(); });
      db_ = pool_.free_.back();
      pool_.free_.pop_back();
    }
    ~Lease() {
      {
        std::lock_guard lock(pool_.mu_);
        pool_.free_.push_back(db_);
      }
      pool_.cv_.notify_one();
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    SqliteDb* operator->() { return db_; }
    SqliteDb& operator*() { return *db_; }

   private:
    ConnectionPool& pool_;
    SqliteDb* db_;
  };

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<SqliteDb>> all_;
  std::vector<SqliteDb*> free_;
};

Result<bool> QueryBool(SqliteDb& db, std::string_view sql) {
  ARBITER_TRY(auto stmt, db.Prepare(sql));
  ARBITER_TRY(bool row, stmt.Step());
  return row && stmt.ColumnInt64(0) != 0;
}

Result<std::optional<std::string>> QueryMeta(SqliteDb& db, std::string_view key) {
  ARBITER_TRY(auto stmt, db.Prepare("SELECT value FROM ledger_meta WHERE key = ?1"));
  stmt.Bind(1, key);
  ARBITER_TRY(bool row, stmt.Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(stmt.ColumnText(0));
}

constexpr std::string_view kHasTreeRows =
    "SELECT EXISTS (SELECT 1 FROM ledger_checkpoints) OR EXISTS (SELECT 1 FROM ledger_tiles) OR "
    "EXISTS (SELECT 1 FROM ledger_leaves)";

// The append WAL is checkpointed (PASSIVE, by the integrator, never blocking an append) after
// this many bytes of entries; the appender's own automatic checkpoint is only a backstop for a
// stopped integrator, at this many pages.
constexpr std::uint64_t kEntryCheckpointBytes = 4 << 20;
constexpr int kAppendWalBackstopPages = 32768;

// Page size of a new tree file. Each integration inserts its leaves into ledger_leaves, keyed by
// a hash prefix, i.e. at random pages: about one dirty page per integrated entry, every one of
// them written whole to the WAL (and again by the checkpoint). 1 KiB pages write a quarter of the
// bytes that 4 KiB pages do for the same rows; the tiles (8 KiB blobs) take the same bytes either
// way. An existing tree file keeps its page size.
constexpr int kTreePageSize = 1024;

class SqliteLedgerStoreImpl final : public LedgerStore {
 public:
  static Result<std::unique_ptr<LedgerStore>> Open(const std::filesystem::path& path,
                                                   const SqliteLedgerStoreOptions& options) {
    auto self = std::unique_ptr<SqliteLedgerStoreImpl>(new SqliteLedgerStoreImpl());
    self->sync_appends_ = options.sync_appends;
    self->entries_path_ = path;
    const std::filesystem::path tree_path = LedgerTreePath(path);
    std::error_code ec;
    const bool tree_exists = std::filesystem::exists(tree_path, ec);
    std::filesystem::path tree_source = tree_path;
    store::SqliteOptions db_options;
    db_options.durability = store::Durability::kFull;
    db_options.read_only = options.read_only;
    if (!options.read_only) {
      ARBITER_TRY(self->writer_, SqliteDb::Open(path, db_options));
      ARBITER_RETURN_IF_ERROR(self->writer_->Migrate(kMigrations));
      // Larger cache and WAL: fewer, bigger writes under sustained appends; the integrator
      // checkpoints the WAL (see kEntryCheckpointBytes).
      ARBITER_RETURN_IF_ERROR(
          self->writer_->Exec("PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = " +
                              std::to_string(kAppendWalBackstopPages) + ";"));
      ARBITER_TRY(auto tree_file, QueryMeta(*self->writer_, kTreeFileMeta));
      if (tree_file && !tree_exists) return MissingTree(tree_path);
      store::SqliteOptions tree_options = db_options;
      tree_options.page_size = kTreePageSize;  // a new file's; an existing one keeps its own
      ARBITER_TRY(self->tree_writer_, SqliteDb::Open(tree_path, tree_options));
      ARBITER_RETURN_IF_ERROR(self->tree_writer_->Migrate(kTreeMigrations));
      ARBITER_RETURN_IF_ERROR(self->tree_writer_->Exec("PRAGMA cache_size = -65536;"));
      ARBITER_RETURN_IF_ERROR(self->MoveSingleFileTree(tree_file.has_value()));
      ARBITER_TRY(self->checkpointer_, SqliteDb::Open(path, db_options));
    }
    ARBITER_RETURN_IF_ERROR(
        self->entry_readers_.Open(path, std::max(1, options.readers), db_options));
    if (options.read_only) {
      ConnectionPool::Lease r(self->entry_readers_);
      ARBITER_TRY(bool has_entries, QueryBool(*r,
                                              "SELECT count(*) FROM sqlite_master WHERE name "
                                              "= 'ledger_entries'"));
      if (!has_entries) {
        std::string msg = "`";  // (not "`" + ...: g++ 12 -O3 raises a false -Wrestrict)
        msg += path.string();
        msg += "` holds no ledger";
        return Status::NotFound(std::move(msg));
      }
      if (!tree_exists) {
        // A ledger written before the tree had its own file is read in place.
        ARBITER_TRY(auto tree_file, QueryMeta(*r, kTreeFileMeta));
        if (tree_file) return MissingTree(tree_path);
        tree_source = path;
      }
    }
    ARBITER_RETURN_IF_ERROR(
        self->tree_readers_.Open(tree_source, std::max(1, options.readers), db_options));
    return std::unique_ptr<LedgerStore>(std::move(self));
  }

  Result<std::optional<std::string>> GetMeta(std::string_view key) override {
    ConnectionPool::Lease r(entry_readers_);
    return QueryMeta(*r, key);
  }

  Status SetMeta(std::string_view key, std::string_view value) override {
    std::lock_guard lock(append_mu_);
    ARBITER_RETURN_IF_ERROR(RequireWriter());
    ARBITER_TRY(auto stmt, writer_->Prepare("INSERT OR REPLACE INTO ledger_meta VALUES (?1, ?2)"));
    stmt.Bind(1, key).Bind(2, value);
    return stmt.Run();
  }

  Status AppendEntries(std::uint64_t first_index, std::span<const ByteView> entries) override {
    std::lock_guard lock(append_mu_);
    ARBITER_RETURN_IF_ERROR(RequireWriter());
    if (!insert_run_) {
      ARBITER_TRY(auto stmt, writer_->Prepare("INSERT INTO ledger_entries VALUES (?1, ?2, ?3)"));
      insert_run_.emplace(std::move(stmt));
    }
    if (!sync_appends_) ARBITER_RETURN_IF_ERROR(writer_->Exec("PRAGMA synchronous=NORMAL"));
    Status appended = writer_->InTransaction([&]() -> Status {
      Bytes run;
      std::uint64_t run_first = first_index;
      size_t run_count = 0;
      const auto flush = [&]() -> Status {
        if (run_count == 0) return Status::Ok();
        insert_run_->Bind(1, I64(run_first))
            .Bind(2, static_cast<std::int64_t>(run_count))
            .BindNoCopy(3, ByteView(run));  // `run` is cleared only after the Run below
        ARBITER_RETURN_IF_ERROR(insert_run_->Run());
        run_first += run_count;
        appended_bytes_.fetch_add(run.size(), std::memory_order_relaxed);
        run_count = 0;
        run.clear();
        return Status::Ok();
      };
      for (ByteView e : entries) {
        if (e.size() > 0xFFFF) return Status::InvalidArgument("entry larger than 65535 bytes");
        if (run_count == kMaxRunEntries || run.size() + 2 + e.size() > kMaxRunBytes) {
          ARBITER_RETURN_IF_ERROR(flush());
        }
        run.push_back(static_cast<std::uint8_t>(e.size() >> 8));
        run.push_back(static_cast<std::uint8_t>(e.size()));
        run.insert(run.end(), e.begin(), e.end());
        ++run_count;
      }
      return flush();
    });
    if (!sync_appends_) {
      Status full = writer_->Exec("PRAGMA synchronous=FULL");
      if (appended.ok()) return full;
    }
    return appended;
  }

  Result<std::uint64_t> EntryEnd() override {
    ConnectionPool::Lease r(entry_readers_);
    ARBITER_TRY(auto stmt, r->Prepare("SELECT first + count FROM ledger_entries ORDER BY first "
                                      "DESC LIMIT 1"));
    ARBITER_TRY(bool row, stmt.Step());
    if (!row) return std::uint64_t{0};
    return U64(stmt.ColumnInt64(0));
  }

  Result<std::optional<Bytes>> ReadEntry(std::uint64_t index) override {
    std::optional<Bytes> out;
    ARBITER_RETURN_IF_ERROR(ScanEntries(
        index, index + 1,
        [&](std::uint64_t, ByteView data) {
          out = Bytes(data.begin(), data.end());
          return Status::Ok();
        },
        nullptr));
    return out;
  }

  Status ScanEntries(std::uint64_t begin, std::uint64_t end,
                     const std::function<Status(std::uint64_t, ByteView)>& fn,
                     const CorruptFn& on_corrupt) override {
    if (begin >= end) return Status::Ok();
    ConnectionPool::Lease r(entry_readers_);
    // Start at the run that holds `begin`, if any.
    ARBITER_TRY(auto seek, r->Prepare("SELECT first FROM ledger_entries WHERE first <= ?1 ORDER "
                                      "BY first DESC LIMIT 1"));
    seek.Bind(1, I64(begin));
    ARBITER_TRY(bool found, seek.Step());
    const std::uint64_t start = found ? U64(seek.ColumnInt64(0)) : begin;
    ARBITER_TRY(auto stmt, r->Prepare("SELECT first, count, data FROM ledger_entries WHERE first "
                                      ">= ?1 AND first < ?2 ORDER BY first"));
    stmt.Bind(1, I64(start)).Bind(2, I64(end));
    while (true) {
      ARBITER_TRY(bool row, stmt.Step());
      if (!row) return Status::Ok();
      const std::uint64_t first = U64(stmt.ColumnInt64(0));
      const std::int64_t count = stmt.ColumnInt64(1);
      Status fn_error;
      Status decoded = count <= 0 ? Status::DataLoss("run has a count of " + std::to_string(count))
                                  : DecodeRun(first, U64(count), stmt.ColumnBlobView(2),
                                              [&](std::uint64_t index, ByteView data) -> Status {
                                                if (index < begin || index >= end)
                                                  return Status::Ok();
                                                fn_error = fn(index, data);
                                                return fn_error;
                                              });
      if (!fn_error.ok()) return fn_error;
      if (!decoded.ok()) {
        const std::string why = "stored run of entries starting at " + std::to_string(first) +
                                " is malformed: " + decoded.message();
        if (!on_corrupt) return Status::DataLoss(why);
        on_corrupt(first, count > 0 ? U64(count) : 1, why);
      }
    }
  }

  Result<std::optional<Bytes>> ReadTile(std::uint32_t level, std::uint64_t index) override {
    ConnectionPool::Lease r(tree_readers_);
    ARBITER_TRY(auto stmt,
                r->Prepare("SELECT hashes FROM ledger_tiles WHERE level = ?1 AND idx = ?2"));
    stmt.Bind(1, std::int64_t{level}).Bind(2, I64(index));
    ARBITER_TRY(bool row, stmt.Step());
    if (!row) return std::optional<Bytes>();
    return std::optional<Bytes>(stmt.ColumnBlob(0));
  }

  Result<std::vector<std::uint64_t>> FindLeaves(std::uint64_t prefix,
                                                std::uint64_t limit) override {
    ConnectionPool::Lease r(tree_readers_);
    ARBITER_TRY(auto stmt, r->Prepare("SELECT idx FROM ledger_leaves WHERE prefix = ?1 AND idx < "
                                      "?2 ORDER BY idx LIMIT 64"));
    stmt.Bind(1, I64(prefix)).Bind(2, I64(limit));
    std::vector<std::uint64_t> out;
    while (true) {
      ARBITER_TRY(bool row, stmt.Step());
      if (!row) return out;
      out.push_back(U64(stmt.ColumnInt64(0)));
    }
  }

  Result<std::optional<StoredCheckpoint>> LatestCheckpoint() override {
    return OneCheckpoint(
        "SELECT size, root, note FROM ledger_checkpoints ORDER BY size DESC LIMIT 1", std::nullopt);
  }

  Result<std::optional<StoredCheckpoint>> CheckpointAt(std::uint64_t size) override {
    return OneCheckpoint("SELECT size, root, note FROM ledger_checkpoints WHERE size = ?1", size);
  }

  Status ScanCheckpoints(const std::function<Status(const StoredCheckpoint&)>& fn) override {
    ConnectionPool::Lease r(tree_readers_);
    ARBITER_TRY(auto stmt,
                r->Prepare("SELECT size, root, note FROM ledger_checkpoints ORDER BY size"));
    while (true) {
      ARBITER_TRY(bool row, stmt.Step());
      if (!row) return Status::Ok();
      ARBITER_TRY(StoredCheckpoint cp, ReadCheckpointRow(stmt));
      ARBITER_RETURN_IF_ERROR(fn(cp));
    }
  }

  Status Integrate(const IntegrationWrite& write) override {
    std::lock_guard lock(tree_mu_);
    ARBITER_RETURN_IF_ERROR(RequireWriter());
    // A checkpoint never covers an entry that is not durable: the entries it covers were committed
    // before this call; without synced appends they are fsynced here, before the checkpoint is.
    if (!sync_appends_) ARBITER_RETURN_IF_ERROR(SyncEntries());
    ARBITER_TRY(auto put_tile,
                tree_writer_->Prepare("INSERT OR REPLACE INTO ledger_tiles VALUES (?1, "
                                      "?2, ?3)"));
    ARBITER_TRY(auto put_leaf,
                tree_writer_->Prepare("INSERT OR IGNORE INTO ledger_leaves VALUES (?1, "
                                      "?2)"));
    ARBITER_TRY(auto put_cp, tree_writer_->Prepare("INSERT INTO ledger_checkpoints VALUES (?1, ?2, "
                                                   "?3)"));
    Status stored = tree_writer_->InTransaction([&]() -> Status {
      for (const TileWrite& t : write.tiles) {
        put_tile.Bind(1, std::int64_t{t.level}).Bind(2, I64(t.index)).Bind(3, ByteView(t.hashes));
        ARBITER_RETURN_IF_ERROR(put_tile.Run());
      }
      // Inserting in key order keeps the B-tree writes local.
      std::vector<std::pair<std::int64_t, std::int64_t>> leaves;
      leaves.reserve(write.leaf_prefixes.size());
      for (size_t i = 0; i < write.leaf_prefixes.size(); ++i) {
        leaves.emplace_back(I64(write.leaf_prefixes[i]), I64(write.first_leaf + i));
      }
      std::sort(leaves.begin(), leaves.end());
      for (const auto& [prefix, index] : leaves) {
        put_leaf.Bind(1, prefix).Bind(2, index);
        ARBITER_RETURN_IF_ERROR(put_leaf.Run());
      }
      put_cp.Bind(1, I64(write.checkpoint.size))
          .Bind(2, ByteView(write.checkpoint.root))
          .Bind(3, write.checkpoint.note);
      return put_cp.Run();
    });
    if (stored.ok()) CheckpointEntriesWal();
    return stored;
  }

 private:
  SqliteLedgerStoreImpl() = default;

  static Status MissingTree(const std::filesystem::path& tree_path) {
    return Status::DataLoss("`" + tree_path.string() +
                            "` is missing: it holds the ledger's tiles and checkpoints (restore it "
                            "with ledger.db from the same backup)");
  }

  // Moves the tiles, leaves and checkpoints of a single-file ledger (before the tree had its own
  // file) into the tree file, then marks the ledger as split. Safe to repeat after a crash at any
  // point: the copy is one transaction of the tree file, and the old rows are only deleted (with
  // the mark set, in one transaction of ledger.db) once the tree file holds them.
  Status MoveSingleFileTree(bool marked) {
    ARBITER_TRY(bool old_rows, QueryBool(*writer_, kHasTreeRows));
    if (!old_rows) {
      if (marked) return Status::Ok();
      ARBITER_TRY(auto mark,
                  writer_->Prepare("INSERT OR REPLACE INTO ledger_meta VALUES (?1, ?2)"));
      mark.Bind(1, kTreeFileMeta).Bind(2, LedgerTreePath(entries_path_).filename().string());
      return mark.Run();
    }
    ARBITER_TRY(bool copied, QueryBool(*tree_writer_,
                                       "SELECT EXISTS (SELECT 1 FROM "
                                       "ledger_checkpoints)"));
    if (!copied) {
      ARBITER_TRY(auto attach, tree_writer_->Prepare("ATTACH DATABASE ?1 AS single_file"));
      attach.Bind(1, entries_path_.string());
      ARBITER_RETURN_IF_ERROR(attach.Run());
      Status moved = tree_writer_->InTransaction([&] {
        return tree_writer_->Exec(
            "DELETE FROM main.ledger_tiles; DELETE FROM main.ledger_leaves;"
            "INSERT INTO main.ledger_tiles SELECT * FROM single_file.ledger_tiles;"
            "INSERT INTO main.ledger_leaves SELECT * FROM single_file.ledger_leaves;"
            "INSERT INTO main.ledger_checkpoints SELECT * FROM single_file.ledger_checkpoints;");
      });
      Status detached = tree_writer_->Exec("DETACH DATABASE single_file");
      ARBITER_RETURN_IF_ERROR(moved);
      ARBITER_RETURN_IF_ERROR(detached);
    }
    return writer_->InTransaction([&]() -> Status {
      ARBITER_RETURN_IF_ERROR(writer_->Exec(
          "DELETE FROM ledger_tiles; DELETE FROM ledger_leaves; DELETE FROM ledger_checkpoints;"));
      ARBITER_TRY(auto mark,
                  writer_->Prepare("INSERT OR REPLACE INTO ledger_meta VALUES (?1, ?2)"));
      mark.Bind(1, kTreeFileMeta).Bind(2, LedgerTreePath(entries_path_).filename().string());
      return mark.Run();
    });
  }

  // fdatasync of the entries' write-ahead log: every transaction committed to it before the call
  // is durable after it (frames still in the log are synced here; frames already copied into
  // ledger.db were synced by that checkpoint, which SQLite syncs even with synchronous=NORMAL).
  Status SyncEntries() {
    const std::string wal = entries_path_.string() + "-wal";
    int fd = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) fd = ::open(entries_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::Unavailable("cannot open `" + wal + "` to sync it");
    const int rc = ::fdatasync(fd);
    ::close(fd);
    if (rc != 0) return Status::Unavailable("fdatasync of `" + wal + "` failed");
    return Status::Ok();
  }

  // A PASSIVE checkpoint of the entries' WAL on its own connection once enough has been appended:
  // it copies committed frames into ledger.db without taking the write lock, so appends go on.
  // Best effort: a failure leaves the work to the next call (or the appender's backstop).
  void CheckpointEntriesWal() {
    const std::uint64_t appended = appended_bytes_.load(std::memory_order_relaxed);
    if (appended - checkpointed_bytes_ < kEntryCheckpointBytes) return;
    if (checkpointer_->Exec("PRAGMA wal_checkpoint(PASSIVE)").ok()) checkpointed_bytes_ = appended;
  }

  Status RequireWriter() const {
    if (!writer_ || !tree_writer_)
      return Status::FailedPrecondition("ledger store is open read-only");
    return Status::Ok();
  }

  Result<std::optional<StoredCheckpoint>> OneCheckpoint(std::string_view sql,
                                                        std::optional<std::uint64_t> size) {
    ConnectionPool::Lease r(tree_readers_);
    ARBITER_TRY(auto stmt, r->Prepare(sql));
    if (size) stmt.Bind(1, I64(*size));
    ARBITER_TRY(bool row, stmt.Step());
    if (!row) return std::optional<StoredCheckpoint>();
    ARBITER_TRY(StoredCheckpoint cp, ReadCheckpointRow(stmt));
    return std::optional<StoredCheckpoint>(std::move(cp));
  }

  bool sync_appends_ = true;
  std::filesystem::path entries_path_;

  // Appends (and metadata) write ledger.db under append_mu_; the integrator writes
  // ledger-tree.db under tree_mu_. Neither ever waits for the other.
  std::mutex append_mu_;
  std::unique_ptr<SqliteDb> writer_;
  std::optional<SqliteStatement> insert_run_;  // guarded by append_mu_
  std::atomic<std::uint64_t> appended_bytes_{0};

  std::mutex tree_mu_;
  std::unique_ptr<SqliteDb> tree_writer_;
  std::unique_ptr<SqliteDb> checkpointer_;  // ledger.db, for PASSIVE checkpoints; under tree_mu_
  std::uint64_t checkpointed_bytes_ = 0;    // guarded by tree_mu_

  ConnectionPool entry_readers_;  // ledger.db
  ConnectionPool tree_readers_;   // ledger-tree.db (ledger.db for a single-file ledger, read-only)
};

}  // namespace

std::filesystem::path LedgerTreePath(const std::filesystem::path& entries_db) {
  return entries_db.parent_path() /
         (entries_db.stem().string() + "-tree" + entries_db.extension().string());
}

Result<std::unique_ptr<LedgerStore>> OpenSqliteLedgerStore(
    const std::filesystem::path& path, const SqliteLedgerStoreOptions& options) {
  return SqliteLedgerStoreImpl::Open(path, options);
}

}  // namespace arbiter::ledger
