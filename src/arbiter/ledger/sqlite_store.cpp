#include "arbiter/ledger/sqlite_store.h"

#include <algorithm>
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

class SqliteLedgerStoreImpl final : public LedgerStore {
 public:
  static Result<std::unique_ptr<LedgerStore>> Open(const std::filesystem::path& path,
                                                   const SqliteLedgerStoreOptions& options) {
    auto self = std::unique_ptr<SqliteLedgerStoreImpl>(new SqliteLedgerStoreImpl());
    self->sync_appends_ = options.sync_appends;
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
            .Bind(3, ByteView(run));
        ARBITER_RETURN_IF_ERROR(insert_run_->Run());
        run_first += run_count;
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
    Reader r(*this);
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
    Reader r(*this);
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
  bool sync_appends_ = true;
  std::unique_ptr<SqliteDb> writer_;
  std::optional<SqliteStatement> insert_run_;  // guarded by writer_mu_

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
