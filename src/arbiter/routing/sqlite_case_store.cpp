#include "arbiter/routing/sqlite_case_store.h"

#include <boost/json.hpp>

#include <openssl/crypto.h>

#include <array>
#include <filesystem>
#include <system_error>

#include "arbiter/common/crypto.h"
#include "arbiter/common/json.h"
#include "arbiter/routing/internal/canonical_writer.h"
#include "arbiter/routing/internal/hmac.h"
#include "arbiter/store/module_schema.h"

namespace arbiter::routing {
namespace {

namespace fs = std::filesystem;

constexpr std::array<std::string_view, 1> kMigrations = {R"sql(
CREATE TABLE routing_cases (
  case_id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  holder TEXT NOT NULL,
  queue TEXT NOT NULL,
  agent TEXT NOT NULL,
  grant_id TEXT NOT NULL,
  last_route TEXT,
  evidence TEXT NOT NULL,
  facts TEXT NOT NULL,
  case_json TEXT NOT NULL,
  signals_json TEXT NOT NULL
);
CREATE TABLE routing_pending (
  case_id TEXT NOT NULL REFERENCES routing_cases(case_id),
  request_id TEXT NOT NULL,
  request TEXT NOT NULL,
  PRIMARY KEY (case_id, request_id)
);
CREATE TABLE routing_case_keys (
  case_id TEXT PRIMARY KEY,
  key BLOB NOT NULL
);
CREATE TABLE routing_shredded (
  case_id TEXT PRIMARY KEY
);
)sql"};

// Stored cases were validated when they came in; these limits only bound what a damaged file
// can make us allocate.
constexpr sources::CaseLimits kStoredCaseLimits{4096, 64u << 20, 100'000};
constexpr JsonLimits kStoredJsonLimits{256u << 20, 64};

std::string EvidenceJson(const std::vector<std::uint64_t>& evidence) {
  std::string out = "[";
  for (size_t i = 0; i < evidence.size(); ++i) {
    if (i != 0) out += ',';
    out += std::to_string(evidence[i]);
  }
  out += ']';
  return out;
}

// {"ai_bundle_hash", "ai_policies", "closed_with_ai", "escalated_later", "kept_by_ai",
// "outcomes", "shredded"}, written directly.
std::string FactsJson(const StoredCase& c) {
  std::string out;
  out.reserve(256);
  internal::CanonicalWriter w(out);
  w.BeginObject();
  w.Key("ai_bundle_hash");
  w.String(c.ai_bundle_hash);
  w.Key("ai_policies");
  w.BeginArray();
  for (const auto& p : c.ai_policies) w.String(p);
  w.EndArray();
  w.Key("closed_with_ai");
  w.Bool(c.closed_with_ai);
  w.Key("escalated_later");
  w.Bool(c.escalated_later);
  w.Key("kept_by_ai");
  w.Bool(c.kept_by_ai);
  w.Key("outcomes");
  w.BeginArray();
  for (const auto& o : c.outcomes) w.String(o);
  w.EndArray();
  w.Key("shredded");
  w.Bool(c.shredded);
  w.EndObject();
  return out;
}

Status Bad(std::string_view case_id, std::string_view what) {
  return Status::DataLoss("stored case `" + std::string(case_id) + "`: " + std::string(what));
}

Result<boost::json::value> ParseStored(std::string_view case_id, std::string_view column,
                                       std::string_view text) {
  auto v = ParseJson(text, kStoredJsonLimits);
  if (!v) return Bad(case_id, std::string(column) + ": " + v.error().message());
  return std::move(v).value();
}

Result<std::vector<std::string>> StringArray(std::string_view case_id, const boost::json::object& o,
                                             std::string_view key) {
  const auto* a = o.if_contains(key);
  if (a == nullptr || !a->is_array()) return Bad(case_id, std::string(key) + " is not an array");
  std::vector<std::string> out;
  for (const auto& e : a->get_array()) {
    if (!e.is_string()) return Bad(case_id, std::string(key) + " holds a non-string");
    out.emplace_back(e.get_string());
  }
  return out;
}

Result<bool> Flag(std::string_view case_id, const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_bool()) return Bad(case_id, std::string(key) + " is not a boolean");
  return v->get_bool();
}

Status ReadFacts(StoredCase& c, const boost::json::value& json) {
  const std::string& id = c.c.id;
  const auto* o = json.if_object();
  if (o == nullptr) return Bad(id, "facts is not an object");
  ARBITER_TRY(c.kept_by_ai, Flag(id, *o, "kept_by_ai"));
  ARBITER_TRY(c.escalated_later, Flag(id, *o, "escalated_later"));
  ARBITER_TRY(c.closed_with_ai, Flag(id, *o, "closed_with_ai"));
  ARBITER_TRY(c.shredded, Flag(id, *o, "shredded"));
  const auto* hash = o->if_contains("ai_bundle_hash");
  if (hash == nullptr || !hash->is_string()) return Bad(id, "ai_bundle_hash is not a string");
  c.ai_bundle_hash = hash->get_string();
  ARBITER_TRY(c.ai_policies, StringArray(id, *o, "ai_policies"));
  ARBITER_TRY(c.outcomes, StringArray(id, *o, "outcomes"));
  return Status::Ok();
}

}  // namespace

struct SqliteRoutingStore::Statements {
  store::SqliteStatement upsert;        // the whole row
  store::SqliteStatement update_state;  // the state columns only
  store::SqliteStatement delete_pending;
  store::SqliteStatement insert_pending;
  store::SqliteStatement insert_key;
  store::SqliteStatement delete_key;
  store::SqliteStatement mark_shredded;
};

// One Put, serialised: what WriteRow binds.
struct SqliteRoutingStore::Row {
  std::string id;
  unsigned changed = 0;
  std::string_view state;  // static names
  std::string_view holder;
  std::string queue;
  std::string agent;
  std::string grant_id;
  std::optional<std::string> last_route;
  std::string evidence;
  std::string facts;
  std::string case_json;  // with kCaseChangedContent
  std::string signals_json;
  std::vector<std::pair<std::string, std::string>> pending;  // with kCaseChangedPending
  Bytes key;  // a key KeyForRoute held back for this case, written with the row

  ~Row() {
    if (!key.empty()) OPENSSL_cleanse(key.data(), key.size());
  }
  Row() = default;
  Row(Row&&) noexcept = default;
  Row& operator=(Row&&) noexcept = default;
};

namespace {

// Rows waiting for the committer; past this Put answers kResourceExhausted (the request fails
// with 503 and is retried) instead of growing memory without bound.
constexpr size_t kMaxQueuedRows = 1u << 16;

// Group commit: checkpoint the WAL after this many committed rows (a row is a few pages; SQLite's
// own default is every 1,000 pages), and inline when the WAL file has grown past kMaxWalBytes.
constexpr size_t kCheckpointRows = 256;
constexpr std::uintmax_t kMaxWalBytes = 64u << 20;

struct ThreadTicket {
  const void* store = nullptr;
  std::uint64_t ticket = 0;
};
thread_local ThreadTicket tls_ticket;

}  // namespace

SqliteRoutingStore::SqliteRoutingStore(std::unique_ptr<store::SqliteDb> db,
                                       SqliteRoutingStoreOptions options)
    : options_(options), db_(std::move(db)) {}

SqliteRoutingStore::~SqliteRoutingStore() {
  Stop();
  // Statements must be finalised before the connection closes.
  stmts_.reset();
}

Result<std::unique_ptr<SqliteRoutingStore>> SqliteRoutingStore::Open(
    std::unique_ptr<store::SqliteDb> db, SqliteRoutingStoreOptions options) {
  if (db == nullptr) return Status::InvalidArgument("routing store: no database");
  std::unique_ptr<SqliteRoutingStore> s(new SqliteRoutingStore(std::move(db), options));
  ARBITER_RETURN_IF_ERROR(s->Init());
  if (options.group_commit) {
    const fs::path& path = s->db_->path();
    if (!path.empty() && path != ":memory:") {
      // Checkpoints move to their own connection and thread (see the header).
      auto checkpoint_db = store::SqliteDb::Open(path, {.durability = store::Durability::kNormal});
      if (!checkpoint_db) return checkpoint_db.error().WithContext("case store checkpointer");
      s->checkpoint_db_ = std::move(checkpoint_db).value();
      ARBITER_RETURN_IF_ERROR(s->db_->Exec("PRAGMA wal_autocheckpoint=0"));
      s->checkpointer_ = std::thread([raw = s.get()] { raw->CheckpointLoop(); });
    }
    s->thread_ = std::thread([raw = s.get()] { raw->Run(); });
  }
  return s;
}

Status SqliteRoutingStore::Init() {
  // Deleted rows are overwritten with zeros in the file (crypto-shredding needs the key gone).
  ARBITER_RETURN_IF_ERROR(db_->Exec("PRAGMA secure_delete=ON"));
  ARBITER_RETURN_IF_ERROR(store::MigrateModule(*db_, "routing", kMigrations));
  ARBITER_TRY(auto upsert,
              db_->Prepare("INSERT INTO routing_cases (case_id, state, holder, queue, agent, "
                           "grant_id, last_route, evidence, facts, case_json, signals_json) "
                           "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
                           "ON CONFLICT(case_id) DO UPDATE SET state = ?2, holder = ?3, "
                           "queue = ?4, agent = ?5, grant_id = ?6, last_route = ?7, "
                           "evidence = ?8, facts = ?9, case_json = ?10, signals_json = ?11"));
  ARBITER_TRY(auto update_state,
              db_->Prepare("UPDATE routing_cases SET state = ?2, holder = ?3, queue = ?4, "
                           "agent = ?5, grant_id = ?6, last_route = ?7, evidence = ?8, "
                           "facts = ?9 WHERE case_id = ?1"));
  ARBITER_TRY(auto delete_pending, db_->Prepare("DELETE FROM routing_pending WHERE case_id = ?1"));
  ARBITER_TRY(auto insert_pending, db_->Prepare("INSERT INTO routing_pending (case_id, "
                                                "request_id, request) VALUES (?1, ?2, ?3)"));
  ARBITER_TRY(auto insert_key,
              db_->Prepare("INSERT INTO routing_case_keys (case_id, key) VALUES (?1, ?2)"));
  ARBITER_TRY(auto delete_key, db_->Prepare("DELETE FROM routing_case_keys WHERE case_id = ?1"));
  ARBITER_TRY(auto mark_shredded,
              db_->Prepare("INSERT OR IGNORE INTO routing_shredded (case_id) VALUES (?1)"));
  stmts_.reset(new Statements{std::move(upsert), std::move(update_state), std::move(delete_pending),
                              std::move(insert_pending), std::move(insert_key),
                              std::move(delete_key), std::move(mark_shredded)});
  return LoadKeys();
}

Status SqliteRoutingStore::WriteRow(const Row& row) {
  if (!row.key.empty()) {
    ARBITER_RETURN_IF_ERROR(stmts_->insert_key.Bind(1, row.id).Bind(2, ByteView(row.key)).Run());
  }
  const bool whole = (row.changed & kCaseChangedContent) != 0;
  store::SqliteStatement& s = whole ? stmts_->upsert : stmts_->update_state;
  s.Bind(1, row.id)
      .Bind(2, row.state)
      .Bind(3, row.holder)
      .Bind(4, row.queue)
      .Bind(5, row.agent)
      .Bind(6, row.grant_id)
      .Bind(8, row.evidence)
      .Bind(9, row.facts);
  if (row.last_route) {
    s.Bind(7, *row.last_route);
  } else {
    s.BindNull(7);
  }
  if (whole) s.Bind(10, row.case_json).Bind(11, row.signals_json);
  ARBITER_RETURN_IF_ERROR(s.Run());
  if (!whole && db_->Changes() != 1) {
    return Status::NotFound("case store: case `" + row.id + "` is not stored yet");
  }
  if ((row.changed & kCaseChangedPending) != 0) {
    ARBITER_RETURN_IF_ERROR(stmts_->delete_pending.Bind(1, row.id).Run());
    for (const auto& [id, json] : row.pending) {
      ARBITER_RETURN_IF_ERROR(
          stmts_->insert_pending.Bind(1, row.id).Bind(2, id).Bind(3, json).Run());
    }
  }
  return Status::Ok();
}

Status SqliteRoutingStore::Put(const StoredCase& c, unsigned changed) {
  Row row;
  row.id = c.c.id;
  row.changed = changed;
  row.state = CaseStateName(c.lifecycle.state());
  row.holder = HolderName(c.lifecycle.holder());
  row.queue = c.lifecycle.queue();
  row.agent = c.lifecycle.agent();
  row.grant_id = c.grant_id;
  row.evidence = EvidenceJson(c.evidence);
  row.facts = FactsJson(c);
  if (c.last_route) row.last_route = DecisionToStoreText(*c.last_route);
  if ((changed & kCaseChangedContent) != 0) {
    row.case_json = ToJson(sources::CaseToJson(c.c));
    row.signals_json = ToJson(SignalsToJson(c.signals));
  }
  if ((changed & kCaseChangedPending) != 0) {
    for (const auto& [id, p] : c.pending) {
      row.pending.emplace_back(id, ToJson(PendingToStoreJson(p)));
    }
  }

  std::unique_lock<std::mutex> lock(mu_);
  // A key KeyForRoute held back for this case is written with it, in the same transaction.
  auto key = keys_.find(c.c.id);
  const bool write_key = key != keys_.end() && !key->second.unsaved.empty();
  if (options_.group_commit) {
    if (!failed_.ok()) return failed_;
    if (stopping_) return Status::Unavailable("case store is closing");
    if (queue_.size() >= kMaxQueuedRows) {
      return Status::ResourceExhausted("case store: too many writes waiting; retry later");
    }
    // The key travels with the queued row: a later KeyFor finds nothing unsaved to write.
    if (write_key) row.key = std::move(key->second.unsaved);
    const std::uint64_t ticket = next_ticket_++;
    queue_.push_back(std::move(row));
    if (queue_.size() == 1) work_cv_.notify_one();
    tls_ticket = ThreadTicket{this, ticket};
    return Status::Ok();
  }
  if (write_key) row.key = key->second.unsaved;
  {
    std::lock_guard<std::mutex> db_lock(db_mu_);
    ARBITER_RETURN_IF_ERROR(db_->InTransaction([&]() -> Status { return WriteRow(row); }));
  }
  if (write_key) {
    OPENSSL_cleanse(key->second.unsaved.data(), key->second.unsaved.size());
    key->second.unsaved.clear();
  }
  return Status::Ok();
}

void SqliteRoutingStore::BeginTickets() { tls_ticket = ThreadTicket{}; }

std::optional<std::uint64_t> SqliteRoutingStore::LastTicketOnThisThread() const {
  if (tls_ticket.store != this) return std::nullopt;
  return tls_ticket.ticket;
}

void SqliteRoutingStore::OnDurable(std::uint64_t ticket, std::function<void(Status)> done) {
  Status now_known;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ticket >= durable_) {
      if (!failed_.ok()) {
        now_known = failed_;
      } else if (ticket >= next_ticket_) {
        now_known = Status::FailedPrecondition("case write " + std::to_string(ticket) +
                                               " was never queued");
      } else {
        waiters_.emplace(ticket, std::move(done));
        return;
      }
    }
  }
  done(now_known);
}

Status SqliteRoutingStore::WaitDurable(std::uint64_t ticket, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (ticket >= next_ticket_) {
    return Status::FailedPrecondition("case write " + std::to_string(ticket) + " was never queued");
  }
  if (!durable_cv_.wait_for(lock, timeout, [&] { return ticket < durable_ || !failed_.ok(); })) {
    return Status::Unavailable("case write " + std::to_string(ticket) + " not committed within " +
                               std::to_string(timeout.count()) + " ms");
  }
  return ticket < durable_ ? Status::Ok() : failed_;
}

Status SqliteRoutingStore::health() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_;
}

CaseWriteStats SqliteRoutingStore::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return CaseWriteStats{next_ticket_ - 1, durable_ - 1, batches_};
}

void SqliteRoutingStore::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    work_cv_.notify_one();
    checkpoint_cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  if (checkpointer_.joinable()) checkpointer_.join();
}

void SqliteRoutingStore::AfterCommit(size_t rows) {
  if (checkpoint_db_ == nullptr) return;
  rows_since_checkpoint_ += rows;
  if (rows_since_checkpoint_ < kCheckpointRows) return;
  rows_since_checkpoint_ = 0;
  std::error_code ec;
  const std::uintmax_t wal = fs::file_size(db_->path().string() + "-wal", ec);
  if (!ec && wal > kMaxWalBytes) {
    // The checkpointer never caught up with the writes: checkpoint while no row is being written,
    // so that the next transaction restarts the WAL from its beginning.
    std::lock_guard<std::mutex> db_lock(db_mu_);
    std::lock_guard<std::mutex> checkpoint_lock(checkpoint_mu_);
    (void)db_->Exec("PRAGMA wal_checkpoint(PASSIVE)");
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  checkpoint_wanted_ = true;
  checkpoint_cv_.notify_one();
}

void SqliteRoutingStore::CheckpointLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    checkpoint_cv_.wait(lock, [&] { return stopping_ || checkpoint_wanted_; });
    if (stopping_) return;
    checkpoint_wanted_ = false;
    lock.unlock();
    {
      // A failed or busy checkpoint is retried after the next kCheckpointRows rows; the WAL stays
      // bounded by the committer's inline checkpoint.
      std::lock_guard<std::mutex> checkpoint_lock(checkpoint_mu_);
      (void)checkpoint_db_->Exec("PRAGMA wal_checkpoint(PASSIVE)");
    }
    lock.lock();
  }
}

Status SqliteRoutingStore::DrainLocked(std::unique_lock<std::mutex>& lock) {
  if (!options_.group_commit) return Status::Ok();
  durable_cv_.wait(lock, [&] { return durable_ == next_ticket_ || !failed_.ok(); });
  return failed_;
}

void SqliteRoutingStore::FailAll(const Status& status, std::unique_lock<std::mutex>& lock) {
  failed_ = status;
  std::vector<std::function<void(Status)>> done;
  for (auto& [ticket, d] : waiters_) done.push_back(std::move(d));
  waiters_.clear();
  durable_cv_.notify_all();
  lock.unlock();
  for (auto& d : done) d(status);
  lock.lock();
}

void SqliteRoutingStore::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  std::vector<Row> batch;
  for (;;) {
    work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    if (!failed_.ok()) {         // queued while the failing batch ran: never committed
      queue_.clear();
      continue;
    }
    batch.clear();
    batch.swap(queue_);
    const std::uint64_t first = durable_;
    lock.unlock();

    Status status;
    {
      // One transaction for the whole batch, rows in queue order.
      std::lock_guard<std::mutex> db_lock(db_mu_);
      status = db_->InTransaction([&]() -> Status {
        for (const Row& row : batch) ARBITER_RETURN_IF_ERROR(WriteRow(row));
        return Status::Ok();
      });
    }
    const std::uint64_t committed = first + batch.size();
    batch.clear();  // cleanses the keys

    lock.lock();
    ++batches_;
    if (!status.ok()) {
      FailAll(Status::Unavailable("case store: " + status.message()), lock);
      continue;
    }
    durable_ = committed;
    const size_t rows = committed - first;
    std::vector<std::function<void(Status)>> done;
    auto end = waiters_.lower_bound(committed);
    for (auto it = waiters_.begin(); it != end; ++it) done.push_back(std::move(it->second));
    waiters_.erase(waiters_.begin(), end);
    durable_cv_.notify_all();
    lock.unlock();
    for (auto& d : done) d(Status::Ok());
    AfterCommit(rows);
    lock.lock();
  }
}

Result<std::vector<StoredCase>> SqliteRoutingStore::LoadAll() {
  std::unique_lock<std::mutex> lock(mu_);
  ARBITER_RETURN_IF_ERROR(DrainLocked(lock));
  std::lock_guard<std::mutex> db_lock(db_mu_);
  std::vector<StoredCase> out;
  ARBITER_TRY(auto sel, db_->Prepare("SELECT case_id, state, holder, queue, agent, grant_id, "
                                     "last_route, evidence, facts, case_json, signals_json "
                                     "FROM routing_cases ORDER BY case_id"));
  while (true) {
    ARBITER_TRY(bool row, sel.Step());
    if (!row) break;
    const std::string id = sel.ColumnText(0);
    StoredCase c;
    ARBITER_TRY(boost::json::value case_json, ParseStored(id, "case", sel.ColumnText(9)));
    auto parsed = sources::CaseFromJson(case_json, kStoredCaseLimits);
    if (!parsed) return Bad(id, "case: " + parsed.error().message());
    c.c = std::move(parsed).value();
    if (c.c.id != id) return Bad(id, "the stored case has id `" + c.c.id + "`");
    ARBITER_TRY(boost::json::value signals_json, ParseStored(id, "signals", sel.ColumnText(10)));
    auto signals = SignalsFromJson(signals_json, "signals");
    if (!signals) return Bad(id, signals.error().message());
    c.signals = std::move(signals).value();
    const std::optional<CaseState> state = ParseCaseState(sel.ColumnText(1));
    const std::optional<Holder> holder = ParseHolder(sel.ColumnText(2));
    if (!state || !holder) return Bad(id, "unknown state or holder");
    auto lifecycle = CaseLifecycle::Restore(*state, *holder, sel.ColumnText(3), sel.ColumnText(4));
    if (!lifecycle) return Bad(id, lifecycle.error().message());
    c.lifecycle = std::move(lifecycle).value();
    c.grant_id = sel.ColumnText(5);
    if (!sel.IsNull(6)) {
      ARBITER_TRY(boost::json::value route_json, ParseStored(id, "last_route", sel.ColumnText(6)));
      auto route = DecisionFromStoreJson(route_json);
      if (!route) return Bad(id, route.error().message());
      c.last_route = std::make_shared<const RoutingDecision>(std::move(route).value());
    }
    ARBITER_TRY(boost::json::value evidence, ParseStored(id, "evidence", sel.ColumnText(7)));
    if (!evidence.is_array()) return Bad(id, "evidence is not an array");
    for (const auto& e : evidence.get_array()) {
      if (!e.is_int64() || e.get_int64() < 0) return Bad(id, "evidence holds a non-index");
      c.evidence.push_back(static_cast<std::uint64_t>(e.get_int64()));
    }
    ARBITER_TRY(boost::json::value facts, ParseStored(id, "facts", sel.ColumnText(8)));
    ARBITER_RETURN_IF_ERROR(ReadFacts(c, facts));
    out.push_back(std::move(c));
  }
  // Pending intents, attached to their cases (both lists are in case-id order).
  ARBITER_TRY(auto pend, db_->Prepare("SELECT case_id, request_id, request FROM routing_pending "
                                      "ORDER BY case_id, request_id"));
  size_t at = 0;
  while (true) {
    ARBITER_TRY(bool row, pend.Step());
    if (!row) break;
    const std::string id = pend.ColumnText(0);
    while (at < out.size() && out[at].c.id < id) ++at;
    if (at == out.size() || out[at].c.id != id) {
      return Bad(id, "a pending intent belongs to no stored case");
    }
    ARBITER_TRY(boost::json::value json, ParseStored(id, "pending", pend.ColumnText(2)));
    auto p = PendingFromStoreJson(json);
    if (!p) return Bad(id, p.error().message());
    out[at].pending.emplace(pend.ColumnText(1), std::move(p).value());
  }
  return out;
}

Status SqliteRoutingStore::LoadKeys() {
  ARBITER_TRY(auto keys, db_->Prepare("SELECT case_id, key FROM routing_case_keys"));
  while (true) {
    ARBITER_TRY(bool row, keys.Step());
    if (!row) break;
    std::string id = keys.ColumnText(0);
    Bytes key = keys.ColumnBlob(1);
    if (key.size() != 32) return Bad(id, "its key is not 32 bytes");
    CaseKey case_key(key);
    OPENSSL_cleanse(key.data(), key.size());
    keys_.insert_or_assign(std::move(id), CachedKey{std::move(case_key), {}});
  }
  ARBITER_TRY(auto shredded, db_->Prepare("SELECT case_id FROM routing_shredded"));
  while (true) {
    ARBITER_TRY(bool row, shredded.Step());
    if (!row) break;
    shredded_.insert(shredded.ColumnText(0));
  }
  return Status::Ok();
}

Result<CaseKey> SqliteRoutingStore::KeyLocked(std::string_view case_id, bool* created) {
  std::string id(case_id);
  if (auto it = keys_.find(id); it != keys_.end()) {
    *created = false;
    return it->second.key;
  }
  // Every stored key was loaded when the store opened: a case without one is new or shredded.
  if (shredded_.count(id) != 0) {
    return Status::FailedPrecondition("case `" + id + "`: its key was shredded");
  }
  Bytes key = internal::NewCaseKeyBytes();
  CaseKey case_key(key);
  keys_.emplace(std::move(id), CachedKey{case_key, std::move(key)});
  *created = true;
  return case_key;
}

Result<CaseKey> SqliteRoutingStore::KeyFor(std::string_view case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  bool created = false;
  ARBITER_TRY(CaseKey key, KeyLocked(case_id, &created));
  auto it = keys_.find(std::string(case_id));
  if (it != keys_.end() && !it->second.unsaved.empty()) {
    // Created here, or held back by KeyForRoute: written before the key is handed out for good.
    // (A key queued with its case's row is no longer unsaved here: it commits before any later
    // row of that case, and so before the response that uses it.)
    Status written;
    {
      std::lock_guard<std::mutex> db_lock(db_mu_);
      written = stmts_->insert_key.Bind(1, case_id).Bind(2, ByteView(it->second.unsaved)).Run();
    }
    if (!written.ok()) {
      if (created) keys_.erase(it);
      return written;
    }
    OPENSSL_cleanse(it->second.unsaved.data(), it->second.unsaved.size());
    it->second.unsaved.clear();
  }
  return key;
}

Result<CaseKey> SqliteRoutingStore::KeyForRoute(std::string_view case_id, const CaseStore* cases) {
  if (cases != this) return KeyFor(case_id);
  std::lock_guard<std::mutex> lock(mu_);
  bool created = false;
  return KeyLocked(case_id, &created);
}

Status SqliteRoutingStore::Shred(std::string_view case_id) {
  std::unique_lock<std::mutex> lock(mu_);
  // After the queued rows: one of them may still carry this case's key.
  ARBITER_RETURN_IF_ERROR(DrainLocked(lock));
  std::lock_guard<std::mutex> db_lock(db_mu_);
  ARBITER_RETURN_IF_ERROR(db_->InTransaction([&]() -> Status {
    ARBITER_RETURN_IF_ERROR(stmts_->delete_key.Bind(1, case_id).Run());
    return stmts_->mark_shredded.Bind(1, case_id).Run();
  }));
  if (auto it = keys_.find(std::string(case_id)); it != keys_.end()) {
    OPENSSL_cleanse(it->second.unsaved.data(), it->second.unsaved.size());
    keys_.erase(it);
  }
  shredded_.emplace(case_id);
  return WipeWalLocked().status();
}

Result<bool> SqliteRoutingStore::WipeWal() {
  std::unique_lock<std::mutex> lock(mu_);
  ARBITER_RETURN_IF_ERROR(DrainLocked(lock));
  std::lock_guard<std::mutex> db_lock(db_mu_);
  return WipeWalLocked();
}

Result<bool> SqliteRoutingStore::WipeWalLocked() {
  std::lock_guard<std::mutex> checkpoint_lock(checkpoint_mu_);
  ARBITER_TRY(auto checkpoint, db_->Prepare("PRAGMA wal_checkpoint(TRUNCATE)"));
  ARBITER_TRY(bool row, checkpoint.Step());
  // One row (busy, log frames, checkpointed frames); busy = 1 when a reader blocked it. An
  // in-memory database has no WAL and returns no row or log = -1.
  return !row || checkpoint.ColumnInt64(0) == 0;
}

}  // namespace arbiter::routing
