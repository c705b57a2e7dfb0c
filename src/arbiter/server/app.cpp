#include "arbiter/server/app.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "arbiter/common/bytes.h"
#include "arbiter/common/crypto.h"
#include "arbiter/grants/grants.h"
#include "arbiter/grants/intent_token.h"
#include "arbiter/grants/single_use_registry.h"
#include "arbiter/grants/sqlite_grant_store.h"
#include "arbiter/identity/key_ring.h"
#include "arbiter/identity/registry.h"
#include "arbiter/identity/sqlite_identity_store.h"
#include "arbiter/identity/users.h"
#include "arbiter/routing/bundle.h"
#include "arbiter/routing/case_signals.h"
#include "arbiter/routing/evidence.h"
#include "arbiter/routing/grants.h"
#include "arbiter/routing/service.h"
#include "arbiter/routing/sqlite_case_store.h"
#include "arbiter/server/auth.h"
#include "arbiter/server/case_grants.h"
#include "arbiter/server/dispatcher.h"
#include "arbiter/server/evidence_committer.h"
#include "arbiter/server/health.h"
#include "arbiter/server/identity_api.h"
#include "arbiter/server/ledger_api.h"
#include "arbiter/server/log.h"
#include "arbiter/server/metrics.h"
#include "arbiter/server/process_metrics.h"
#include "arbiter/server/routing_api.h"
#include "arbiter/server/server.h"
#include "arbiter/store/sqlite.h"

namespace arbiter::server {
namespace {

namespace fs = std::filesystem;

Status EnsureDataDir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::Unavailable("data: cannot create `" + dir + "`: " + ec.message());
  if (!fs::is_directory(dir, ec)) {
    return Status::InvalidArgument("data: `" + dir + "` is not a directory");
  }
  return Status::Ok();
}

// Writes `token` to `path` with mode 0600 (atomically, via a temporary file).
Status WritePrivateFile(const std::string& path, const std::string& token) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Status::Unavailable("cannot write `" + tmp + "`");
    ::chmod(tmp.c_str(), 0600);
    out << token << "\n";
    if (!out.flush()) return Status::Unavailable("cannot write `" + tmp + "`");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Status::Unavailable("cannot create `" + path + "`: " + ec.message());
  return Status::Ok();
}

// The bootstrap admin credential: on first start the identity module creates user `admin` and its
// first API token, which goes to `<data>/admin.token`. If that file was deleted later, a fresh
// token is issued for `admin` (earlier tokens stay valid until revoked).
Status EnsureAdminTokenFile(identity::UserDirectory& users, const std::string& path) {
  ARBITER_TRY(auto first, users.EnsureBootstrapAdmin("admin"));
  if (first) return WritePrivateFile(path, first->token);
  std::error_code ec;
  if (fs::exists(path, ec)) return Status::Ok();
  auto issued = users.IssueApiToken("admin", "bootstrap (admin.token re-created)");
  if (!issued) return issued.error().WithContext("admin token");
  return WritePrivateFile(path, issued->token);
}

}  // namespace

// How long a queued case row waits for an evidence batch to start before it commits on its own
// (writes without evidence; a stalled evidence committer).
constexpr std::chrono::milliseconds kCaseRowPace{10};
// EvidenceCommitterOptions::pace with evidence_ack = "written" (about one fdatasync on this disk).
constexpr std::chrono::microseconds kWrittenEvidencePace{1000};

struct App::Impl {
  ~Impl();
  ServeConfig config;
  std::string data_dir;
  std::string admin_token_path;
  MetricsRegistry metrics;
  Health health;
  std::unique_ptr<Logger> logger;
  std::unique_ptr<ledger::Ledger> ledger;
  // The ledger's only writer while serving: group commit of evidence (evidence_committer.h).
  std::unique_ptr<EvidenceCommitter> committer;
  std::unique_ptr<LedgerEvidenceSink> evidence;
  std::unique_ptr<routing::PackStore> packs;
  // Cases, their lifecycle, pending intents and per-case keys, on <data>/arbiter.db (WAL,
  // synchronous=NORMAL: survives kill -9; docs/ROUTING.md "Persistence"). Outlives `routing`.
  std::unique_ptr<routing::SqliteRoutingStore> routing_store;
  // Case grants and intent tokens: the grants module on <data>/arbiter.db, behind routing's
  // GrantIssuer (case_grants.h).
  // Where intent-token uses are recorded (config `single_use`); created before, and outliving,
  // the grant and intent services that use it. nullptr: in the grant store.
  std::unique_ptr<grants::SingleUseRegistry> single_use;
  std::unique_ptr<grants::GrantStore> grant_store;
  std::unique_ptr<grants::GrantService> grant_service;
  std::unique_ptr<grants::IntentTokenService> intent_tokens;
  std::unique_ptr<CaseGrants> grant_issuer;
  // Sensitivity scanner and the duplicate index over open cases (in memory: RoutingService::Open
  // puts the open cases back on start).
  routing::CaseSignals case_signals;
  std::unique_ptr<routing::RoutingService> routing;
  SecureRandom random;
  std::unique_ptr<identity::IdentityStore> identity_store;
  std::unique_ptr<identity::KeyRing> keys;
  std::unique_ptr<identity::WorkloadRegistry> registry;
  std::unique_ptr<identity::UserDirectory> users;
  std::unique_ptr<VerifiedSvidCache> svids;
  CompositeAuthenticator authenticator;
  Router router;
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<HttpServer> http;
};

App::App(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
App::~App() { Shutdown(); }

Result<std::unique_ptr<App>> App::Start(const ServeConfig& config) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  ARBITER_RETURN_IF_ERROR(EnsureDataDir(config.data_dir));
  std::error_code ec;
  impl->data_dir = fs::absolute(config.data_dir, ec).lexically_normal().string();
  impl->admin_token_path = (fs::path(impl->data_dir) / "admin.token").string();

  // Identity: people, agent workloads and instances, signing keys; in <data>/arbiter.db.
  auto db = store::SqliteDb::Open(fs::path(impl->data_dir) / "arbiter.db");
  if (!db) return db.error().WithContext("store");
  auto identity_store = identity::CreateSqliteIdentityStore(std::move(*db));
  if (!identity_store) return identity_store.error().WithContext("identity store");
  impl->identity_store = std::move(*identity_store);
  const Clock& clock = SystemClock::Get();
  ARBITER_TRY(impl->keys, identity::KeyRing::Create(*impl->identity_store, clock));
  identity::RegistryOptions registry_options;
  registry_options.trust_domain = config.trust_domain;
  ARBITER_TRY(impl->registry,
              identity::WorkloadRegistry::Create(*impl->identity_store, *impl->keys, clock,
                                                 impl->random, registry_options));
  identity::UserDirectoryOptions user_options;
  // The directory's clock counts seconds: a TTL under one second still caches, for at most 1 s.
  user_options.cache_ttl_seconds =
      config.auth_cache_ttl.count() == 0
          ? 0
          : std::max<std::int64_t>(1, config.auth_cache_ttl.count() / 1000);
  ARBITER_TRY(impl->users, identity::UserDirectory::Create(*impl->identity_store, clock,
                                                           impl->random, user_options));
  ARBITER_RETURN_IF_ERROR(EnsureAdminTokenFile(*impl->users, impl->admin_token_path));
  impl->svids = std::make_unique<VerifiedSvidCache>(clock);
  IdentityServices identity_services{impl->registry.get(), impl->users.get(), impl->keys.get(),
                                     impl->svids.get()};
  impl->authenticator.Add(std::make_shared<IdentityAuthenticator>(identity_services));

  if (config.access_log == "off") {
    impl->logger = Logger::Null();
  } else if (config.access_log == "-" || config.access_log.empty()) {
    impl->logger = Logger::ToStderr();
  } else {
    ARBITER_TRY(impl->logger, Logger::ToFile(config.access_log));
  }

  ledger::LedgerOptions ledger_options;
  ledger_options.data_dir = fs::path(impl->data_dir) / "ledger";
  ledger_options.origin = config.ledger_origin;
  if (config.evidence_ack == EvidenceAck::kWritten) {
    // Appends are acknowledged once in the write-ahead log; each integration commits with an
    // fsync, so the interval between integrations bounds how long evidence waits for the disk.
    ledger_options.sync_appends = false;
    ledger_options.integration_interval = config.evidence_sync_interval;
  }
  fs::create_directories(ledger_options.data_dir, ec);
  if (ec) {
    return Status::Unavailable("data: cannot create `" + ledger_options.data_dir.string() +
                               "`: " + ec.message());
  }
  auto opened = ledger::Ledger::Open(ledger_options);
  if (!opened) return opened.error().WithContext("ledger");
  impl->ledger = std::move(*opened);

  // Routing: the policy pack in force, decisions and the case lifecycle; evidence into the ledger.
  // With "written" the appends take no fsync: batches are paced to gather about as many entries
  // as an fsync's duration does with "fsync" (fewer, larger transactions of evidence and rows).
  EvidenceCommitterOptions committer_options;
  if (config.evidence_ack == EvidenceAck::kWritten) committer_options.pace = kWrittenEvidencePace;
  ARBITER_TRY(impl->committer, EvidenceCommitter::Start(impl->ledger.get(), committer_options));
  impl->evidence = std::make_unique<LedgerEvidenceSink>(impl->ledger.get(), impl->committer.get());
  impl->packs = std::make_unique<routing::PackStore>(impl->evidence.get(), clock);
  if (!config.pack_dir.empty()) {
    auto loaded = impl->packs->Load(config.pack_dir, routing::Actor{"system", "arbiter serve"});
    if (!loaded) return loaded.error().WithContext("pack `" + config.pack_dir + "`");
    if (loaded->evidence_index) {
      ARBITER_RETURN_IF_ERROR(
          impl->committer->WaitDurable(*loaded->evidence_index, kMaxIntegrationWait));
    }
  }
  auto grants_db = store::SqliteDb::Open(fs::path(impl->data_dir) / "arbiter.db");
  if (!grants_db) return grants_db.error().WithContext("store");
  auto grant_store = grants::CreateSqliteGrantStore(std::move(*grants_db));
  if (!grant_store) return grant_store.error().WithContext("grant store");
  impl->grant_store = std::move(*grant_store);
  ARBITER_TRY(impl->single_use, grants::OpenSingleUseRegistry(config.single_use, impl->data_dir));
  ARBITER_TRY(
      impl->grant_service,
      grants::GrantService::Create(*impl->grant_store, clock, impl->random,
                                   impl->single_use ? impl->single_use->grant_changes() : nullptr));
  grants::IntentTokenOptions intent_options;
  intent_options.issuer = impl->registry->options().issuer;
  intent_options.single_use = impl->single_use.get();
  intent_options.defer_records = config.defer_intent_records;
  ARBITER_TRY(impl->intent_tokens,
              grants::IntentTokenService::Create(*impl->grant_store, *impl->grant_service,
                                                 *impl->keys, clock, impl->random, intent_options));
  store::SqliteOptions routing_db_options;
  routing_db_options.durability = store::Durability::kNormal;
  // The server's own tables (remembered intent parameters), like routing's: survive kill -9.
  auto server_db =
      store::SqliteDb::Open(fs::path(impl->data_dir) / "arbiter.db", routing_db_options);
  if (!server_db) return server_db.error().WithContext("store");
  ARBITER_TRY(
      impl->grant_issuer,
      CaseGrants::Create(CaseGrantsDeps{impl->grant_service.get(), impl->intent_tokens.get(),
                                        impl->identity_store.get(), &clock},
                         config.intent_audience, std::move(*server_db)));
  auto routing_db =
      store::SqliteDb::Open(fs::path(impl->data_dir) / "arbiter.db", routing_db_options);
  if (!routing_db) return routing_db.error().WithContext("store");
  // Group commit: RouteCase and the other transitions queue the case row under the service's
  // lock and return; one thread commits whatever is queued in one transaction, and the response
  // waits for its row as it waits for its evidence (routing_api.cpp, Durable).
  // Paced by the evidence committer: the rows queued while an evidence batch was gathered commit
  // in one transaction when that batch starts, in parallel with its fsync (both must be done
  // before a response leaves), instead of one transaction per committer wake-up.
  auto routing_store = routing::SqliteRoutingStore::Open(
      std::move(*routing_db), {.group_commit = true, .pace = kCaseRowPace});
  if (!routing_store) return routing_store.error().WithContext("case store");
  impl->routing_store = std::move(*routing_store);
  impl->committer->OnBatchStart([cases = impl->routing_store.get()] { cases->CommitNow(); });
  routing::ServiceDeps deps;
  deps.packs = impl->packs.get();
  deps.sink = impl->evidence.get();
  deps.keys = impl->routing_store.get();
  deps.cases = impl->routing_store.get();
  deps.grants = impl->grant_issuer.get();
  deps.signals = &impl->case_signals;
  deps.clock = &clock;
  auto routing_service = routing::RoutingService::Open(deps);
  if (!routing_service) return routing_service.error().WithContext("cases");
  impl->routing = std::move(*routing_service);

  ARBITER_RETURN_IF_ERROR(AddHealthRoutes(impl->router, &impl->health, &impl->metrics));
  ARBITER_RETURN_IF_ERROR(AddLedgerRoutes(impl->router, impl->ledger.get()));
  ARBITER_RETURN_IF_ERROR(AddIdentityRoutes(impl->router, identity_services));
  RoutingServices routing_services{impl->routing.get(), impl->packs.get(), impl->ledger.get(),
                                   config.pack_dir, &impl->metrics};
  routing_services.committer = impl->committer.get();
  routing_services.case_store = impl->routing_store.get();
  routing_services.grants = impl->grant_issuer.get();
  routing_services.max_source_bytes = config.server.limits.max_body_bytes;
  routing_services.max_json_depth = config.max_json_depth;
  ARBITER_RETURN_IF_ERROR(AddRoutingRoutes(impl->router, routing_services));
  ARBITER_RETURN_IF_ERROR(AddLedgerMetrics(impl->metrics, impl->ledger.get()));
  ARBITER_RETURN_IF_ERROR(AddProcessMetrics(impl->metrics));
  ARBITER_TRY(auto* active_grants,
              impl->metrics.AddGauge("arbiter_grants_active",
                                     "Case grants active now (not expired, revoked or ended)."));
  impl->metrics.AddCollector(
      [grants = impl->grant_issuer.get(), gauge = &active_grants->WithLabels({})] {
        if (auto n = grants->ActiveGrants()) gauge->Set(static_cast<double>(*n));
      });
  ARBITER_TRY(auto* routing_cases,
              impl->metrics.AddGauge("arbiter_routing_cases",
                                     "Cases the routing service knows, by where they are: resident "
                                     "(held in memory) or closed (only the id held; the case is "
                                     "read from the store when needed).",
                                     {"where"}));
  impl->metrics.AddCollector([routing = impl->routing.get(), gauge = routing_cases] {
    const size_t known = routing->size();
    const size_t resident = routing->resident_cases();
    gauge->WithLabels({"resident"}).Set(static_cast<double>(resident));
    gauge->WithLabels({"closed"}).Set(static_cast<double>(known > resident ? known - resident : 0));
  });
  // Group commit at a glance: committed ÷ batches is the average batch, queued − committed what
  // waits for the disk now.
  ARBITER_TRY(auto* commits,
              impl->metrics.AddGauge("arbiter_group_commit_rows",
                                     "Rows of the group committers, by committer (evidence, "
                                     "cases) and kind (queued, committed, batches, max_batch).",
                                     {"committer", "kind"}));
  ARBITER_TRY(auto* times,
              impl->metrics.AddGauge("arbiter_group_commit_seconds",
                                     "Seconds the group committers spent, summed over batches, by "
                                     "committer and stage (queue_wait: the oldest row of each "
                                     "batch waiting for its transaction; commit: the "
                                     "transactions, fsync included).",
                                     {"committer", "stage"}));
  impl->metrics.AddCollector(
      [commits, times, evidence = impl->committer.get(), cases = impl->routing_store.get()] {
        const CommitterStats e = evidence->Stats();
        const routing::CaseWriteStats c = cases->Stats();
        commits->WithLabels({"evidence", "queued"}).Set(static_cast<double>(e.enqueued));
        commits->WithLabels({"evidence", "committed"}).Set(static_cast<double>(e.durable));
        commits->WithLabels({"evidence", "batches"}).Set(static_cast<double>(e.batches));
        commits->WithLabels({"cases", "queued"}).Set(static_cast<double>(c.queued));
        commits->WithLabels({"cases", "committed"}).Set(static_cast<double>(c.durable));
        commits->WithLabels({"cases", "batches"}).Set(static_cast<double>(c.batches));
        commits->WithLabels({"evidence", "max_batch"}).Set(static_cast<double>(e.max_batch));
        commits->WithLabels({"cases", "max_batch"}).Set(static_cast<double>(c.max_batch));
        times->WithLabels({"evidence", "queue_wait"}).Set(static_cast<double>(e.wait_micros) / 1e6);
        times->WithLabels({"evidence", "commit"}).Set(static_cast<double>(e.commit_micros) / 1e6);
        times->WithLabels({"cases", "queue_wait"}).Set(static_cast<double>(c.wait_micros) / 1e6);
        times->WithLabels({"cases", "commit"}).Set(static_cast<double>(c.commit_micros) / 1e6);
      });
  impl->health.AddReadinessCheck("evidence", [c = impl->committer.get()] { return c->health(); });
  impl->health.AddReadinessCheck("cases", [c = impl->routing_store.get()] { return c->health(); });
  impl->health.AddReadinessCheck("data", [dir = impl->data_dir] {
    std::error_code e;
    return fs::is_directory(dir, e) ? Status::Ok()
                                    : Status::Unavailable("`" + dir + "` is not reachable");
  });

  DispatchOptions dispatch;
  dispatch.json.max_bytes = config.server.limits.max_body_bytes;
  dispatch.json.max_depth = config.max_json_depth;
  ARBITER_TRY(impl->dispatcher, Dispatcher::Create(&impl->router, &impl->authenticator,
                                                   &impl->metrics, impl->logger.get(), dispatch));
  ARBITER_TRY(impl->http, HttpServer::Start(config.server, impl->dispatcher.get()));
  return std::unique_ptr<App>(new App(std::move(impl)));
}

std::string App::address() const { return impl_->http->address(); }
const std::string& App::data_dir() const { return impl_->data_dir; }
const std::string& App::admin_token_path() const { return impl_->admin_token_path; }

std::string App::pack_hash() const {
  auto bundle = impl_->packs->Current();
  return bundle ? bundle->hash() : std::string();
}

const std::string& App::ledger_origin() const { return impl_->ledger->Origin(); }
std::string App::ledger_verifier_key() const { return impl_->ledger->VerifierKey(); }

std::vector<std::string> App::ServedRoutes() const {
  std::vector<std::string> out;
  for (const Route* r : impl_->router.Routes()) {
    out.push_back(std::string(HttpMethodName(r->method)) + " " + r->pattern);
  }
  return out;
}

App::Impl::~Impl() {
  // The committer's hook points at the case store, which is destroyed first.
  if (committer) committer->OnBatchStart(nullptr);
}

void App::Shutdown() {
  if (!impl_ || !impl_->http) return;
  impl_->health.SetDraining();
  impl_->http->Shutdown();
  // After the last request: commits what is queued, then integrates what was acknowledged and
  // stops the integrator.
  if (impl_->routing_store) impl_->routing_store->Stop();
  if (impl_->committer) impl_->committer->Stop();
  if (impl_->ledger) impl_->ledger->Close();
}

}  // namespace arbiter::server
