#include "arbiter/routing/sqlite_case_store.h"

#include <boost/json.hpp>

#include <openssl/crypto.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <filesystem>

#include "arbiter/common/crypto.h"
#include "arbiter/common/json.h"
#include "arbiter/common/thread_name.h"
#include "arbiter/routing/internal/canonical_writer.h"
#include "arbiter/routing/internal/hmac.h"
#include "arbiter/store/module_schema.h"

namespace arbiter::routing {
namespace {

namespace fs = std::filesystem;

constexpr std::array<std::string_view, 2> kMigrations = {
    R"sql(
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
)sql",
    // Version 2: fewer bytes per write. The policy part of a case's last decision (bundle,
    // principal, reasons: the same for every case a rule routes alike) is stored once in
    // routing_route_shapes and referenced by id. routing_case_keys is WITHOUT ROWID (one b-tree
    // instead of a table and its primary-key index; its rows are small). routing_cases stays a
    // rowid table: its ~1 KB rows would spill into an overflow page each in a WITHOUT ROWID
    // b-tree. The old key table's pages are zeroed when it is dropped (secure_delete).
    R"sql(
CREATE TABLE routing_route_shapes (
  id INTEGER PRIMARY KEY,
  shape TEXT NOT NULL
);
ALTER TABLE routing_cases ADD COLUMN route_shape INTEGER;
CREATE TABLE routing_case_keys_v2 (
  case_id TEXT PRIMARY KEY,
  key BLOB NOT NULL
) WITHOUT ROWID;
INSERT INTO routing_case_keys_v2 SELECT case_id, key FROM routing_case_keys;
DROP TABLE routing_case_keys;
ALTER TABLE routing_case_keys_v2 RENAME TO routing_case_keys;
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

// The columns CaseFromRow reads: the case row and the text of the route shape it names (NULL when
// it names none, or one that is not stored). LoadAll reads every row, Get one (WHERE case_id).
constexpr std::string_view kSelectCases =
    "SELECT c.case_id, c.state, c.holder, c.queue, c.agent, c.grant_id, c.last_route, "
    "c.evidence, c.facts, c.case_json, c.signals_json, c.route_shape, s.shape "
    "FROM routing_cases c LEFT JOIN routing_route_shapes s ON s.id = c.route_shape";
// The columns AddPendingFromRow reads.
constexpr std::string_view kSelectPending =
    "SELECT case_id, request_id, request FROM routing_pending";

// The current row of a kSelectCases statement, without its pending intents.
Result<StoredCase> CaseFromRow(const store::SqliteStatement& sel) {
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
  if (!sel.IsNull(11) && sel.IsNull(6)) return Bad(id, "a route shape without its signals");
  if (!sel.IsNull(6)) {
    std::string route_text = sel.ColumnText(6);
    if (!sel.IsNull(11)) {
      if (sel.IsNull(12)) return Bad(id, "its decision names an unknown route shape");
      route_text.insert(0, sel.ColumnText(12));
    }
    ARBITER_TRY(boost::json::value route_json, ParseStored(id, "last_route", route_text));
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
  return c;
}

// Adds the current row of a kSelectPending statement (a pending intent of `c`) to `c`.
Status AddPendingFromRow(const store::SqliteStatement& pend, StoredCase& c) {
  ARBITER_TRY(boost::json::value json, ParseStored(c.c.id, "pending", pend.ColumnText(2)));
  auto p = PendingFromStoreJson(json);
  if (!p) return Bad(c.c.id, p.error().message());
  c.pending.emplace(pend.ColumnText(1), std::move(p).value());
  return Status::Ok();
}

}  // namespace

// The policy part of stored decisions, shared by the cases routed alike (see kMigrations v2).
struct SqliteRoutingStore::RouteShape {
  std::int64_t id = 0;
  std::string text;  // the decision's stored text up to its per-case signals
  // Set once a committed transaction holds the shape; until then every row that uses it writes it
  // (INSERT OR IGNORE), so a row never references a shape that is not stored.
  mutable std::atomic<bool> stored{false};
};

struct SqliteRoutingStore::Statements {
  store::SqliteStatement upsert;        // the whole row
  store::SqliteStatement update_state;  // the state columns only
  store::SqliteStatement delete_pending;
  store::SqliteStatement insert_pending;
  store::SqliteStatement insert_key;
  store::SqliteStatement delete_key;
  store::SqliteStatement mark_shredded;
  store::SqliteStatement insert_shape;
  store::SqliteStatement select_case;     // kSelectCases, one case (Get)
  store::SqliteStatement select_pending;  // kSelectPending, one case's (Get)
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
  // The decision's stored text is *shape + last_route when `shape` is set (route_shape = its id),
  // else last_route alone.
  std::optional<std::string> last_route;
  std::shared_ptr<const RouteShape> shape;
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

// Distinct decision shapes kept in memory and in routing_route_shapes; past this, decisions of a
// new shape are stored whole in their row. (A pack's rules make a handful of shapes.)
constexpr size_t kMaxRouteShapes = 4096;

// Where the per-case part of a decision's stored text begins: its last key, the signals
// (DecisionToStoreText writes keys in order; a quote inside a string is escaped, so the first
// `,"signals":` is that key). Only decisions without errors are shared (an error message may
// quote the case); npos when the text is not shared. Splitting anywhere else would still store
// the exact text (shape + rest), only less of it shared.
size_t ShapeEnd(std::string_view text) {
  constexpr std::string_view kSignals = ",\"signals\":";
  constexpr std::string_view kNoErrors = ",\"errors\":[],";
  const size_t end = text.find(kSignals);
  if (end == std::string_view::npos) return end;
  const size_t errors = text.find(kNoErrors);
  if (errors == std::string_view::npos || errors > end) return std::string_view::npos;
  return end;
}

// Group commit: checkpoint the WAL after this many committed rows (a row is a few pages; SQLite's
// own default is every 1,000 pages), at most once per kMinCheckpointInterval (each checkpoint is
// two fsyncs on the disk the evidence fsyncs wait for, and copies every page the rows touched since
// the last one: under load fewer checkpoints copy each hot page once), and inline when the WAL
// holds more than kMaxWalFrames frames (64 MiB of 4 KiB pages) since it last restarted.
constexpr size_t kCheckpointRows = 256;
constexpr std::chrono::milliseconds kMinCheckpointInterval{250};
constexpr std::int64_t kMaxWalFrames = 16384;

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
      if (options.writeback_period.count() > 0) {
        // Early writeback of the WAL and of the pages checkpoints copy (see the header).
        s->writeback_ = std::make_unique<store::WritebackPacer>(
            std::vector<fs::path>{path.string() + "-wal", path},
            store::WritebackPacerOptions{.period = options.writeback_period,
                                         .thread_name = "arbiter-case-wb"});
      }
      s->db_->TrackWalFrames();  // and no automatic checkpoint inside a commit
      s->checkpointer_ = std::thread([raw = s.get()] {
        NameThisThread("arbiter-case-wal");
        raw->CheckpointLoop();
      });
    }
    s->thread_ = std::thread([raw = s.get()] {
      NameThisThread("arbiter-cases");
      raw->Run();
    });
  }
  return s;
}

Status SqliteRoutingStore::Init() {
  // Deleted rows are overwritten with zeros in the file (crypto-shredding needs the key gone).
  ARBITER_RETURN_IF_ERROR(db_->Exec("PRAGMA secure_delete=ON"));
  ARBITER_RETURN_IF_ERROR(store::MigrateModule(*db_, "routing", kMigrations));
  ARBITER_TRY(auto upsert,
              db_->Prepare("INSERT INTO routing_cases (case_id, state, holder, queue, agent, "
                           "grant_id, last_route, evidence, facts, case_json, signals_json, "
                           "route_shape) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
                           "?12) ON CONFLICT(case_id) DO UPDATE SET state = ?2, holder = ?3, "
                           "queue = ?4, agent = ?5, grant_id = ?6, last_route = ?7, "
                           "evidence = ?8, facts = ?9, case_json = ?10, signals_json = ?11, "
                           "route_shape = ?12"));
  ARBITER_TRY(auto update_state,
              db_->Prepare("UPDATE routing_cases SET state = ?2, holder = ?3, queue = ?4, "
                           "agent = ?5, grant_id = ?6, last_route = ?7, evidence = ?8, "
                           "facts = ?9, route_shape = ?12 WHERE case_id = ?1"));
  ARBITER_TRY(auto delete_pending, db_->Prepare("DELETE FROM routing_pending WHERE case_id = ?1"));
  ARBITER_TRY(auto insert_pending, db_->Prepare("INSERT INTO routing_pending (case_id, "
                                                "request_id, request) VALUES (?1, ?2, ?3)"));
  ARBITER_TRY(auto insert_key,
              db_->Prepare("INSERT INTO routing_case_keys (case_id, key) VALUES (?1, ?2)"));
  ARBITER_TRY(auto delete_key, db_->Prepare("DELETE FROM routing_case_keys WHERE case_id = ?1"));
  ARBITER_TRY(auto mark_shredded,
              db_->Prepare("INSERT OR IGNORE INTO routing_shredded (case_id) VALUES (?1)"));
  ARBITER_TRY(auto insert_shape, db_->Prepare("INSERT OR IGNORE INTO routing_route_shapes (id, "
                                              "shape) VALUES (?1, ?2)"));
  ARBITER_TRY(auto select_case, db_->Prepare(std::string(kSelectCases) + " WHERE c.case_id = ?1"));
  ARBITER_TRY(auto select_pending, db_->Prepare(std::string(kSelectPending) +
                                                " WHERE case_id = ?1 ORDER BY request_id"));
  stmts_.reset(new Statements{std::move(upsert), std::move(update_state), std::move(delete_pending),
                              std::move(insert_pending), std::move(insert_key),
                              std::move(delete_key), std::move(mark_shredded),
                              std::move(insert_shape), std::move(select_case),
                              std::move(select_pending)});
  ARBITER_RETURN_IF_ERROR(LoadShapes());
  return LoadKeys();
}

Status SqliteRoutingStore::WriteRow(const Row& row) {
  // The row outlives each statement's Run: its text is bound without copies.
  if (!row.key.empty()) {
    ARBITER_RETURN_IF_ERROR(
        stmts_->insert_key.BindNoCopy(1, row.id).BindNoCopy(2, ByteView(row.key)).Run());
  }
  const bool whole = (row.changed & kCaseChangedContent) != 0;
  store::SqliteStatement& s = whole ? stmts_->upsert : stmts_->update_state;
  s.BindNoCopy(1, row.id)
      .BindNoCopy(2, row.state)
      .BindNoCopy(3, row.holder)
      .BindNoCopy(4, row.queue)
      .BindNoCopy(5, row.agent)
      .BindNoCopy(6, row.grant_id)
      .BindNoCopy(8, row.evidence)
      .BindNoCopy(9, row.facts);
  if (row.last_route) {
    s.BindNoCopy(7, *row.last_route);
  } else {
    s.BindNull(7);
  }
  if (row.shape != nullptr) {
    // The shape is written in the transaction of the first row that uses it (and after that
    // looked up, not written, by the ones that follow until the connection knows it is stored).
    if (!row.shape->stored.load(std::memory_order_acquire)) {
      ARBITER_RETURN_IF_ERROR(
          stmts_->insert_shape.Bind(1, row.shape->id).BindNoCopy(2, row.shape->text).Run());
    }
    s.Bind(12, row.shape->id);
  } else {
    s.BindNull(12);
  }
  if (whole) s.BindNoCopy(10, row.case_json).BindNoCopy(11, row.signals_json);
  ARBITER_RETURN_IF_ERROR(s.Run());
  if (!whole && db_->Changes() != 1) {
    return Status::NotFound("case store: case `" + row.id + "` is not stored yet");
  }
  if ((row.changed & kCaseChangedPending) != 0) {
    ARBITER_RETURN_IF_ERROR(stmts_->delete_pending.BindNoCopy(1, row.id).Run());
    for (const auto& [id, json] : row.pending) {
      ARBITER_RETURN_IF_ERROR(
          stmts_->insert_pending.BindNoCopy(1, row.id).BindNoCopy(2, id).BindNoCopy(3, json).Run());
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
  if (c.last_route) {
    // DecisionToStoreText(d) = head + tail; decisions mostly repeat the previous one's head (its
    // policy part), which is then not written again (case_store.h).
    thread_local DecisionStoreTextWriter decision_text;
    const std::string_view head = decision_text.Head(*c.last_route);
    row.shape = ShapeOf(head);
    const std::string_view kept = row.shape != nullptr ? head.substr(row.shape->text.size()) : head;
    std::string text;
    text.reserve(kept.size() + 64 + 48 * c.last_route->signals.size());
    text += kept;
    DecisionStoreTextWriter::AppendTail(*c.last_route, text);
    row.last_route = std::move(text);
  }
  if ((changed & kCaseChangedContent) != 0) {
    row.case_json = sources::CaseToJsonText(c.c);
    row.signals_json = SignalsToStoreText(c.signals);
  }
  if ((changed & kCaseChangedPending) != 0) {
    for (const auto& [id, p] : c.pending) {
      row.pending.emplace_back(id, ToJson(PendingToStoreJson(p)));
    }
  }

  std::unique_lock<std::mutex> lock(mu_);
  // A key KeyForRoute held back for this case is written with it, in the same transaction.
  CachedKey* key = keys_.Find(c.c.id);
  const bool write_key = key != nullptr && !key->unsaved.empty();
  if (options_.group_commit) {
    if (!waiters_.failed().ok()) return waiters_.failed();
    if (stopping_) return Status::Unavailable("case store is closing");
    if (queue_.size() >= kMaxQueuedRows) {
      return Status::ResourceExhausted("case store: too many writes waiting; retry later");
    }
    // The key travels with the queued row: a later KeyFor finds nothing unsaved to write.
    if (write_key) row.key = std::move(key->unsaved);
    const std::uint64_t ticket = waiters_.Issue();
    queue_.push_back(std::move(row));
    if (queue_.size() == 1) {
      // One wake-up per batch: the committer then waits (paced) or commits at once.
      queued_since_ = std::chrono::steady_clock::now();
      work_cv_.notify_one();
    }
    tls_ticket = ThreadTicket{this, ticket};
    return Status::Ok();
  }
  if (write_key) row.key = key->unsaved;
  {
    std::lock_guard<std::mutex> db_lock(db_mu_);
    ARBITER_RETURN_IF_ERROR(db_->InTransaction([&]() -> Status { return WriteRow(row); }));
    MarkShapesStored({&row, 1});
  }
  if (write_key) {
    OPENSSL_cleanse(key->unsaved.data(), key->unsaved.size());
    key->unsaved.clear();
  }
  return Status::Ok();
}

void SqliteRoutingStore::BeginTickets() { tls_ticket = ThreadTicket{}; }

std::optional<std::uint64_t> SqliteRoutingStore::LastTicketOnThisThread() const {
  if (tls_ticket.store != this) return std::nullopt;
  return tls_ticket.ticket;
}

void SqliteRoutingStore::OnDurable(std::uint64_t ticket, std::function<void(Status)> done) {
  std::unique_lock<std::mutex> lock(mu_);
  waiters_.OnDurable(ticket, std::move(done), lock);
}

Status SqliteRoutingStore::WaitDurable(std::uint64_t ticket, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return waiters_.Wait(ticket, timeout, lock);
}

Status SqliteRoutingStore::health() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiters_.failed();
}

CaseWriteStats SqliteRoutingStore::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return CaseWriteStats{waiters_.next() - 1,
                        waiters_.durable() - 1,
                        timings_.batches(),
                        timings_.wait_micros(),
                        timings_.commit_micros(),
                        timings_.max_batch(),
                        writeback_ != nullptr ? writeback_->rounds() : 0,
                        inline_checkpoints_.load(std::memory_order_relaxed)};
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
  if (writeback_ != nullptr) writeback_->Stop();
}

void SqliteRoutingStore::AfterCommit(size_t rows) {
  if (checkpoint_db_ == nullptr) return;
  rows_since_checkpoint_ += rows;
  if (rows_since_checkpoint_ < kCheckpointRows) return;
  rows_since_checkpoint_ = 0;
  // The log's frames since it last restarted (its file keeps its size after a restart: measuring
  // the file would checkpoint inline after every kCheckpointRows rows once it had grown past the
  // bound).
  if (db_->WalFrames() > kMaxWalFrames) {
    // The checkpointer never caught up with the writes: checkpoint while no row is being written,
    // so that the next transaction restarts the WAL from its beginning.
    std::lock_guard<std::mutex> db_lock(db_mu_);
    std::lock_guard<std::mutex> checkpoint_lock(checkpoint_mu_);
    if (writeback_ != nullptr) writeback_->Notify();
    (void)db_->Exec("PRAGMA wal_checkpoint(PASSIVE)");
    inline_checkpoints_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  checkpoint_wanted_ = true;
  checkpoint_cv_.notify_one();
}

void SqliteRoutingStore::CheckpointLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  auto last = std::chrono::steady_clock::now() - kMinCheckpointInterval;
  for (;;) {
    checkpoint_cv_.wait(lock, [&] { return stopping_ || checkpoint_wanted_; });
    checkpoint_cv_.wait_until(lock, last + kMinCheckpointInterval, [&] { return stopping_; });
    if (stopping_) return;
    checkpoint_wanted_ = false;
    lock.unlock();
    {
      // A failed or busy checkpoint is retried after the next kCheckpointRows rows; the WAL stays
      // bounded by the committer's inline checkpoint.
      std::lock_guard<std::mutex> checkpoint_lock(checkpoint_mu_);
      // The checkpoint writes pages into the database file: their writeback starts as it goes.
      if (writeback_ != nullptr) writeback_->Notify();
      (void)checkpoint_db_->Exec("PRAGMA wal_checkpoint(PASSIVE)");
    }
    last = std::chrono::steady_clock::now();
    lock.lock();
  }
}

void SqliteRoutingStore::CommitNow() {
  std::lock_guard<std::mutex> lock(mu_);
  if (queue_.empty()) return;
  commit_now_ = true;
  work_cv_.notify_one();
}

Status SqliteRoutingStore::DrainLocked(std::unique_lock<std::mutex>& lock) {
  if (!options_.group_commit) return Status::Ok();
  if (!queue_.empty()) {  // do not wait for the pace (nor leave a stale flag for the next batch)
    commit_now_ = true;
    work_cv_.notify_one();
  }
  return waiters_.Drain(lock);
}

void SqliteRoutingStore::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  std::vector<Row> batch;
  for (;;) {
    work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (options_.pace.count() > 0) {
      // Paced: until CommitNow(), Stop() or the oldest row's deadline.
      work_cv_.wait_until(lock, queued_since_ + options_.pace,
                          [&] { return stopping_ || commit_now_; });
    }
    commit_now_ = false;
    if (queue_.empty()) return;     // stopping, nothing left
    if (!waiters_.failed().ok()) {  // queued while the failing batch ran: never committed
      queue_.clear();
      continue;
    }
    batch.clear();
    batch.swap(queue_);
    const std::uint64_t first = waiters_.durable();
    const auto queued_since = queued_since_;
    lock.unlock();

    const auto started = std::chrono::steady_clock::now();
    Status status;
    {
      // One transaction for the whole batch, rows in queue order.
      std::lock_guard<std::mutex> db_lock(db_mu_);
      status = db_->InTransaction([&]() -> Status {
        for (const Row& row : batch) ARBITER_RETURN_IF_ERROR(WriteRow(row));
        return Status::Ok();
      });
      if (status.ok()) MarkShapesStored(batch);
    }
    const std::uint64_t committed = first + batch.size();
    batch.clear();  // cleanses the keys
    const auto ended = std::chrono::steady_clock::now();
    const store::BatchTiming timing =
        timings_.Time(committed - first, queued_since, started, ended);

    lock.lock();
    timings_.Add(timing);
    if (!status.ok()) {
      waiters_.Fail(Status::Unavailable("case store: " + status.message()), lock);
      continue;
    }
    const size_t rows = committed - first;
    waiters_.CompleteUpTo(committed, lock);
    lock.unlock();
    if (writeback_ != nullptr) writeback_->Notify();
    AfterCommit(rows);
    lock.lock();
  }
}

Result<std::vector<StoredCase>> SqliteRoutingStore::LoadAll() {
  std::unique_lock<std::mutex> lock(mu_);
  ARBITER_RETURN_IF_ERROR(DrainLocked(lock));
  std::lock_guard<std::mutex> db_lock(db_mu_);
  std::vector<StoredCase> out;
  ARBITER_TRY(auto sel, db_->Prepare(std::string(kSelectCases) + " ORDER BY c.case_id"));
  while (true) {
    ARBITER_TRY(bool row, sel.Step());
    if (!row) break;
    ARBITER_TRY(StoredCase c, CaseFromRow(sel));
    out.push_back(std::move(c));
  }
  // Pending intents, attached to their cases (both lists are in case-id order).
  ARBITER_TRY(auto pend,
              db_->Prepare(std::string(kSelectPending) + " ORDER BY case_id, request_id"));
  size_t at = 0;
  while (true) {
    ARBITER_TRY(bool row, pend.Step());
    if (!row) break;
    const std::string id = pend.ColumnText(0);
    while (at < out.size() && out[at].c.id < id) ++at;
    if (at == out.size() || out[at].c.id != id) {
      return Bad(id, "a pending intent belongs to no stored case");
    }
    ARBITER_RETURN_IF_ERROR(AddPendingFromRow(pend, out[at]));
  }
  return out;
}

Result<std::optional<StoredCase>> SqliteRoutingStore::Get(std::string_view case_id) {
  std::unique_lock<std::mutex> lock(mu_);
  // Rows still queued for the committer are written first, so the read sees every Put.
  ARBITER_RETURN_IF_ERROR(DrainLocked(lock));
  std::lock_guard<std::mutex> db_lock(db_mu_);
  store::SqliteStatement& sel = stmts_->select_case;
  sel.Bind(1, case_id);
  Result<bool> found = sel.Step();
  if (!found || !*found) {
    sel.Reset();
    if (!found) return found.error();
    return std::optional<StoredCase>();
  }
  Result<StoredCase> c = CaseFromRow(sel);
  sel.Reset();
  if (!c) return c.error();
  store::SqliteStatement& pend = stmts_->select_pending;
  pend.Bind(1, case_id);
  Status pending;
  while (pending.ok()) {
    Result<bool> row = pend.Step();
    if (!row) {
      pending = row.error();
    } else if (!*row) {
      break;
    } else {
      pending = AddPendingFromRow(pend, *c);
    }
  }
  pend.Reset();
  ARBITER_RETURN_IF_ERROR(pending);
  return std::optional<StoredCase>(std::move(c).value());
}

Status SqliteRoutingStore::LoadShapes() {
  ARBITER_TRY(auto sel, db_->Prepare("SELECT id, shape FROM routing_route_shapes"));
  while (true) {
    ARBITER_TRY(bool row, sel.Step());
    if (!row) break;
    auto shape = std::make_shared<RouteShape>();
    shape->id = sel.ColumnInt64(0);
    shape->text = sel.ColumnText(1);
    shape->stored.store(true, std::memory_order_relaxed);
    next_shape_id_ = std::max(next_shape_id_, shape->id + 1);
    if (shapes_.size() < kMaxRouteShapes) shapes_.emplace(shape->text, std::move(shape));
  }
  return Status::Ok();
}

std::shared_ptr<const SqliteRoutingStore::RouteShape> SqliteRoutingStore::ShapeOf(
    std::string_view text) {
  const size_t end = ShapeEnd(text);
  if (end == std::string_view::npos) return nullptr;
  const std::string_view prefix = text.substr(0, end);
  std::lock_guard<std::mutex> lock(shapes_mu_);
  if (auto it = shapes_.find(prefix); it != shapes_.end()) return it->second;
  if (shapes_.size() >= kMaxRouteShapes) return nullptr;
  auto shape = std::make_shared<RouteShape>();
  shape->id = next_shape_id_++;
  shape->text = std::string(prefix);
  shapes_.emplace(shape->text, shape);
  return shape;
}

void SqliteRoutingStore::MarkShapesStored(std::span<const Row> rows) {
  for (const Row& row : rows) {
    if (row.shape != nullptr) row.shape->stored.store(true, std::memory_order_release);
  }
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
    keys_.InsertOrAssign(std::move(id), CachedKey{std::move(case_key), {}});
  }
  ARBITER_TRY(auto shredded, db_->Prepare("SELECT case_id FROM routing_shredded"));
  while (true) {
    ARBITER_TRY(bool row, shredded.Step());
    if (!row) break;
    shredded_.Insert(shredded.ColumnText(0));
  }
  return Status::Ok();
}

Result<SqliteRoutingStore::CachedKey*> SqliteRoutingStore::KeyLocked(std::string_view case_id,
                                                                     bool* created) {
  if (CachedKey* cached = keys_.Find(case_id)) {
    *created = false;
    return cached;
  }
  // Every stored key was loaded when the store opened: a case without one is new or shredded.
  if (shredded_.Contains(case_id)) {
    return Status::FailedPrecondition("case `" + std::string(case_id) + "`: its key was shredded");
  }
  Bytes key = internal::NewCaseKeyBytes();
  CaseKey case_key(key);
  *created = true;
  return &keys_.InsertOrAssign(std::string(case_id),
                               CachedKey{std::move(case_key), std::move(key)});
}

Result<CaseKey> SqliteRoutingStore::KeyFor(std::string_view case_id) {
  std::lock_guard<std::mutex> lock(mu_);
  bool created = false;
  ARBITER_TRY(CachedKey * cached, KeyLocked(case_id, &created));
  if (!cached->unsaved.empty()) {
    // Created here, or held back by KeyForRoute: written before the key is handed out for good.
    // (A key queued with its case's row is no longer unsaved here: it commits before any later
    // row of that case, and so before the response that uses it.)
    Status written;
    {
      std::lock_guard<std::mutex> db_lock(db_mu_);
      written = stmts_->insert_key.Bind(1, case_id).Bind(2, ByteView(cached->unsaved)).Run();
    }
    if (!written.ok()) {
      if (created) keys_.Erase(case_id);
      return written;
    }
    OPENSSL_cleanse(cached->unsaved.data(), cached->unsaved.size());
    cached->unsaved.clear();
  }
  return cached->key;
}

Result<CaseKey> SqliteRoutingStore::KeyForRoute(std::string_view case_id, const CaseStore* cases) {
  if (cases != this) return KeyFor(case_id);
  std::lock_guard<std::mutex> lock(mu_);
  bool created = false;
  ARBITER_TRY(CachedKey * cached, KeyLocked(case_id, &created));
  return cached->key;
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
  if (CachedKey* cached = keys_.Find(case_id)) {
    OPENSSL_cleanse(cached->unsaved.data(), cached->unsaved.size());
    keys_.Erase(case_id);
  }
  shredded_.Insert(std::string(case_id));
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
