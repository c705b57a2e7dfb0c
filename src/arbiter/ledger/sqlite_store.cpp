#include "arbiter/ledger/sqlite_store.h"

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

// Schema version 1. See docs/LEDGER.md.
constexpr std::string_view kMigrations[] = {
    R"sql(
CREATE TABLE ledger_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE ledger_entries (
  idx  INTEGER PRIMARY KEY,
  data BLOB NOT NULL
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

// SQLite integers are signed 64-bit; indices and sizes stay below 2^63 and prefixes are stored as
// their two's-complement bit pattern.
std::int64_t I64(std::uint64_t v) { return static_cast<std::int64_t>(v); }
std::uint64_t U64(std::int64_t v) { return static_cast<std::uint64_t>(v); }

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

class SqliteLedgerStoreImpl final : public LedgerStore {
 public:
  static Result<std::unique_ptr<LedgerStore>> Open(const std::filesystem::path& path,
                                                   const SqliteLedgerStoreOptions& options) {
    auto self = std::unique_ptr<SqliteLedgerStoreImpl>(new SqliteLedgerStoreImpl());
    store::SqliteOptions db_options;
    db_options.durability = store::Durability::kFull;
    db_options.read_only = options.read_only;
    if (!options.read_only) {
      ARBITER_TRY(self->writer_, SqliteDb::Open(path, db_options));
      ARBITER_RETURN_IF_ERROR(self->writer_->Migrate(kMigrations));
      // Larger cache and WAL before auto-checkpoint: fewer, bigger writes under sustained appends.
      ARBITER_RETURN_IF_ERROR(
          self->writer_->Exec("PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 4096;"));
    }
    store::SqliteOptions reader_options = db_options;
    for (int i = 0; i < std::max(1, options.readers); ++i) {
      ARBITER_TRY(auto db, SqliteDb::Open(path, reader_options));
      if (options.read_only && i == 0) {
        ARBITER_TRY(auto check, db->Prepare("SELECT count(*) FROM sqlite_master WHERE name = "
                                            "'ledger_entries'"));
        ARBITER_TRY(bool row, check.Step());
        if (!row || check.ColumnInt64(0) == 0) {
          std::string msg = "`";  // (not "`" + ...: g++ 12 -O3 raises a false -Wrestrict)
          msg += path.string();
          msg += "` holds no ledger";
          return Status::NotFound(std::move(msg));
        }
      }
      self->free_readers_.push_back(db.get());
      self->readers_.push_back(std::move(db));
    }
    return std::unique_ptr<LedgerStore>(std::move(self));
  }

  Result<std::optional<std::string>> GetMeta(std::string_view key) override {
    Reader r(*this);
    ARBITER_TRY(auto stmt, r->Prepare("SELECT value FROM ledger_meta WHERE key = ?1"));
    stmt.Bind(1, key);
    ARBITER_TRY(bool row, stmt.Step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(stmt.ColumnText(0));
  }

  Status SetMeta(std::string_view key, std::string_view value) override {
    std::lock_guard lock(writer_mu_);
    ARBITER_RETURN_IF_ERROR(RequireWriter());
    ARBITER_TRY(auto stmt, writer_->Prepare("INSERT OR REPLACE INTO ledger_meta VALUES (?1, ?2)"));
    stmt.Bind(1, key).Bind(2, value);
    return stmt.Run();
  }

  Status AppendEntries(std::uint64_t first_index, std::span<const ByteView> entries) override {
    std::lock_guard lock(writer_mu_);
    ARBITER_RETURN_IF_ERROR(RequireWriter());
    if (!insert_entry_) {
      ARBITER_TRY(auto stmt, writer_->Prepare("INSERT INTO ledger_entries VALUES (?1, ?2)"));
      insert_entry_.emplace(std::move(stmt));
    }
    return writer_->InTransaction([&]() -> Status {
      std::uint64_t index = first_index;
      for (ByteView e : entries) {
        insert_entry_->Bind(1, I64(index++)).Bind(2, e);
        ARBITER_RETURN_IF_ERROR(insert_entry_->Run());
      }
      return Status::Ok();
    });
  }

  Result<std::uint64_t> EntryEnd() override {
    Reader r(*this);
    ARBITER_TRY(auto stmt, r->Prepare("SELECT max(idx) FROM ledger_entries"));
    ARBITER_TRY(bool row, stmt.Step());
    if (!row || stmt.IsNull(0)) return std::uint64_t{0};
    return U64(stmt.ColumnInt64(0)) + 1;
  }

  Result<std::optional<Bytes>> ReadEntry(std::uint64_t index) override {
    Reader r(*this);
    ARBITER_TRY(auto stmt, r->Prepare("SELECT data FROM ledger_entries WHERE idx = ?1"));
    stmt.Bind(1, I64(index));
    ARBITER_TRY(bool row, stmt.Step());
    if (!row) return std::optional<Bytes>();
    return std::optional<Bytes>(stmt.ColumnBlob(0));
  }

  Status ScanEntries(std::uint64_t begin, std::uint64_t end,
                     const std::function<Status(std::uint64_t, ByteView)>& fn) override {
    Reader r(*this);
    ARBITER_TRY(auto stmt, r->Prepare("SELECT idx, data FROM ledger_entries WHERE idx >= ?1 AND "
                                      "idx < ?2 ORDER BY idx"));
    stmt.Bind(1, I64(begin)).Bind(2, I64(end));
    while (true) {
      ARBITER_TRY(bool row, stmt.Step());
      if (!row) return Status::Ok();
      ARBITER_RETURN_IF_ERROR(fn(U64(stmt.ColumnInt64(0)), stmt.ColumnBlobView(1)));
    }
  }

  Result<std::optional<Bytes>> ReadTile(std::uint32_t level, std::uint64_t index) override {
    Reader r(*this);
    ARBITER_TRY(auto stmt,
                r->Prepare("SELECT hashes FROM ledger_tiles WHERE level = ?1 AND idx = ?2"));
    stmt.Bind(1, std::int64_t{level}).Bind(2, I64(index));
    ARBITER_TRY(bool row, stmt.Step());
    if (!row) return std::optional<Bytes>();
    return std::optional<Bytes>(stmt.ColumnBlob(0));
  }

  Result<std::vector<std::uint64_t>> FindLeaves(std::uint64_t prefix,
                                                std::uint64_t limit) override {
    Reader r(*this);
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
    Reader r(*this);
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
    std::lock_guard lock(writer_mu_);
    ARBITER_RETURN_IF_ERROR(RequireWriter());
    ARBITER_TRY(auto put_tile, writer_->Prepare("INSERT OR REPLACE INTO ledger_tiles VALUES (?1, "
                                                "?2, ?3)"));
    ARBITER_TRY(auto put_leaf, writer_->Prepare("INSERT OR IGNORE INTO ledger_leaves VALUES (?1, "
                                                "?2)"));
    ARBITER_TRY(auto put_cp, writer_->Prepare("INSERT INTO ledger_checkpoints VALUES (?1, ?2, "
                                              "?3)"));
    return writer_->InTransaction([&]() -> Status {
      for (const TileWrite& t : write.tiles) {
        put_tile.Bind(1, std::int64_t{t.level}).Bind(2, I64(t.index)).Bind(3, ByteView(t.hashes));
        ARBITER_RETURN_IF_ERROR(put_tile.Run());
      }
      for (size_t i = 0; i < write.leaf_prefixes.size(); ++i) {
        put_leaf.Bind(1, I64(write.leaf_prefixes[i])).Bind(2, I64(write.first_leaf + i));
        ARBITER_RETURN_IF_ERROR(put_leaf.Run());
      }
      put_cp.Bind(1, I64(write.checkpoint.size))
          .Bind(2, ByteView(write.checkpoint.root))
          .Bind(3, write.checkpoint.note);
      return put_cp.Run();
    });
  }

 private:
  SqliteLedgerStoreImpl() = default;

  // Borrows a reader connection for the lifetime of the object.
  class Reader {
   public:
    explicit Reader(SqliteLedgerStoreImpl& s) : s_(s) {
      std::unique_lock lock(s_.readers_mu_);
      s_.readers_cv_.wait(lock, [this] { return !s_.free_readers_.empty(); });
      db_ = s_.free_readers_.back();
      s_.free_readers_.pop_back();
    }
    ~Reader() {
      {
        std::lock_guard lock(s_.readers_mu_);
        s_.free_readers_.push_back(db_);
      }
      s_.readers_cv_.notify_one();
    }
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;
    SqliteDb* operator->() { return db_; }

   private:
    SqliteLedgerStoreImpl& s_;
    SqliteDb* db_;
  };

  Status RequireWriter() const {
    if (!writer_) return Status::FailedPrecondition("ledger store is open read-only");
    return Status::Ok();
  }

  Result<std::optional<StoredCheckpoint>> OneCheckpoint(std::string_view sql,
                                                        std::optional<std::uint64_t> size) {
    Reader r(*this);
    ARBITER_TRY(auto stmt, r->Prepare(sql));
    if (size) stmt.Bind(1, I64(*size));
    ARBITER_TRY(bool row, stmt.Step());
    if (!row) return std::optional<StoredCheckpoint>();
    ARBITER_TRY(StoredCheckpoint cp, ReadCheckpointRow(stmt));
    return std::optional<StoredCheckpoint>(std::move(cp));
  }

  std::mutex writer_mu_;
  std::unique_ptr<SqliteDb> writer_;
  std::optional<SqliteStatement> insert_entry_;  // guarded by writer_mu_

  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<SqliteDb>> readers_;
  std::vector<SqliteDb*> free_readers_;
};

}  // namespace

Result<std::unique_ptr<LedgerStore>> OpenSqliteLedgerStore(
    const std::filesystem::path& path, const SqliteLedgerStoreOptions& options) {
  return SqliteLedgerStoreImpl::Open(path, options);
}

}  // namespace arbiter::ledger
