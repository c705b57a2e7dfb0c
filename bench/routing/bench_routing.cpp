// Routing throughput on the example pack (examples/support) over its 240 sample cases, which mix
// routine cases with every escalation family. See docs/benchmarks/routing.md.
//
//   build/rel/bench/routing/bench_routing --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
//
// Benchmarks:
//   CedarOnly           the ai_handle authorization alone (peer: the floor routing builds on)
//   EvaluateRoute       case -> signals mapped into the Case entity -> Cedar -> decision
//   RouteWithEvidence   EvaluateRoute + the evidence record (keyed hashes, canonical JSON, append)
//   ServiceRouteCase    RoutingService::RouteCase: the above + per-case key, lifecycle, state;
//                       /0 no case store, /1 InMemoryCaseStore, /2 SQLite NORMAL, /3 SQLite FULL
//   ServiceRouteCaseScanned  the same with CaseSignals computing sensitivity and duplicates
//   ServerRouteCase     RouteCase in the server's configuration: SQLite group commit on a file,
//                       CaseSignals, 100,000 open cases, the load generator's identical cases
//   ReplayLine          one JSON line parsed and decided under two bundles (what `replay` does)
//   ReplayFile          a whole JSONL file replayed (opt-in: ARBITER_REPLAY_FILE, _PACK, _BASELINE)
//   ClosedCaseMemory    resident-set growth per case routed and closed on the server's store
//                       (opt-in: ARBITER_BENCH_CLOSED_CASES=N)
#include <benchmark/benchmark.h>
#include <boost/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "alloc_count.h"
#include "arbiter/cedar/authorizer.h"
#include "arbiter/common/json.h"
#include "arbiter/common/sharded_hash.h"
#include "arbiter/routing/bundle.h"
#include "arbiter/routing/case_signals.h"
#include "arbiter/routing/replay.h"
#include "arbiter/routing/router.h"
#include "arbiter/routing/service.h"
#include "arbiter/routing/sqlite_case_store.h"

namespace arbiter::routing {
namespace {

using bench::AllocationCounter;

struct Corpus {
  std::shared_ptr<const Bundle> bundle;
  std::vector<sources::Case> cases;
  std::vector<ComputedSignals> signals;
  std::vector<std::string> lines;  // replay form: {"case": ..., "signals": ...}
};

const Corpus& GetCorpus() {
  static const Corpus corpus = [] {
    Corpus c;
    const char* dir = std::getenv("ARBITER_ROUTING_PACK");
    const std::string pack = dir != nullptr ? dir : ARBITER_ROUTING_EXAMPLE_PACK;
    auto b = LoadBundle(pack);
    if (!b) {
      std::cerr << "bench_routing: " << b.error().ToString() << "\n";
      std::exit(1);
    }
    c.bundle = *b;
    std::ifstream in(pack + "/tests/cases.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      auto json = ParseJson(line);
      if (!json) continue;
      const auto& o = json->as_object();
      auto cs = sources::CaseFromJson(o.at("case"));
      if (!cs) continue;
      ComputedSignals s;
      if (const auto* sv = o.if_contains("signals")) s = *SignalsFromJson(*sv, "signals");
      boost::json::object replay{{"case", o.at("case")}};
      if (const auto* sv = o.if_contains("signals")) replay["signals"] = *sv;
      c.lines.push_back(ToJson(replay));
      c.cases.push_back(std::move(cs).value());
      c.signals.push_back(std::move(s));
    }
    if (c.cases.empty()) {
      std::cerr << "bench_routing: no cases in " << pack << "/tests/cases.jsonl\n";
      std::exit(1);
    }
    return c;
  }();
  return corpus;
}

// A sink that keeps only a count and the byte total (the ledger's cost is its own benchmark).
class CountingSink final : public EvidenceSink {
 public:
  Result<std::uint64_t> Append(std::string_view canonical_json) override {
    bytes_ += canonical_json.size();
    return count_++;
  }
  std::uint64_t bytes() const { return bytes_; }

 private:
  std::uint64_t count_ = 0;
  std::uint64_t bytes_ = 0;
};

void CedarOnly(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  std::vector<CaseView> views;
  for (size_t i = 0; i < c.cases.size(); ++i) {
    views.push_back(BuildCaseView(*c.bundle, c.cases[i], c.signals[i]));
  }
  const cedar::EntityUid action("Action", "ai_handle");
  size_t i = 0;
  for (auto _ : state) {
    const CaseView& v = views[i++ % views.size()];
    cedar::Request req{c.bundle->config().ai_principal, action, v.uid, cedar::Value::Record({})};
    benchmark::DoNotOptimize(cedar::IsAuthorized(req, c.bundle->policies(), v.entities));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(CedarOnly);

void EvaluateRouteBench(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ % c.cases.size();
    CaseView view = BuildCaseView(*c.bundle, c.cases[k], c.signals[k]);
    benchmark::DoNotOptimize(EvaluateRoute(*c.bundle, view, std::nullopt));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(EvaluateRouteBench)->Name("EvaluateRoute");

void RouteWithEvidence(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  InMemoryCaseKeyStore keys;
  std::vector<CaseKey> case_keys;
  for (const auto& cs : c.cases) case_keys.push_back(*keys.KeyFor(cs.id));
  CountingSink sink;
  const Actor actor{"source", "zendesk"};
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ % c.cases.size();
    CaseView view = BuildCaseView(*c.bundle, c.cases[k], c.signals[k]);
    RoutingDecision d = EvaluateRoute(*c.bundle, view, std::nullopt);
    auto index = AppendEvidence(
        &sink, RouteRecord(*c.bundle, c.cases[k], d, case_keys[k], actor, 1'700'000'000'000'000));
    benchmark::DoNotOptimize(index);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["record_bytes"] =
      static_cast<double>(sink.bytes()) / static_cast<double>(state.iterations());
}
BENCHMARK(RouteWithEvidence);

// Parts of the evidence record, to see where its cost goes.
void RecordBuild(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  InMemoryCaseKeyStore keys;
  const CaseKey key = *keys.KeyFor("k");
  std::vector<RoutingDecision> decisions;
  for (size_t k = 0; k < c.cases.size(); ++k) {
    CaseView view = BuildCaseView(*c.bundle, c.cases[k], c.signals[k]);
    decisions.push_back(EvaluateRoute(*c.bundle, view, std::nullopt));
  }
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ % c.cases.size();
    benchmark::DoNotOptimize(
        RouteRecordJson(*c.bundle, c.cases[k], decisions[k], key, Actor{}, 1'700'000'000'000'000));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(RecordBuild);

// The generic path the fast writer replaces: build a boost::json record, then CanonicalJson.
void RecordViaBoostJson(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  InMemoryCaseKeyStore keys;
  const CaseKey key = *keys.KeyFor("k");
  std::vector<RoutingDecision> decisions;
  for (size_t k = 0; k < c.cases.size(); ++k) {
    CaseView view = BuildCaseView(*c.bundle, c.cases[k], c.signals[k]);
    decisions.push_back(EvaluateRoute(*c.bundle, view, std::nullopt));
  }
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ % c.cases.size();
    benchmark::DoNotOptimize(CanonicalJson(
        RouteRecord(*c.bundle, c.cases[k], decisions[k], key, Actor{}, 1'700'000'000'000'000)));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(RecordViaBoostJson);

void RecordCanonical(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  InMemoryCaseKeyStore keys;
  const CaseKey key = *keys.KeyFor("k");
  CaseView view = BuildCaseView(*c.bundle, c.cases[0], c.signals[0]);
  const boost::json::object record = RouteRecord(
      *c.bundle, c.cases[0], EvaluateRoute(*c.bundle, view, std::nullopt), key, Actor{}, 0);
  for (auto _ : state) benchmark::DoNotOptimize(CanonicalJson(record));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(RecordCanonical);

void KeyedHash(benchmark::State& state) {
  InMemoryCaseKeyStore keys;
  const CaseKey key = *keys.KeyFor("k");
  const std::string text(300, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(key.Hash("text", text));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(KeyedHash);

// Where RoutingService keeps its cases in the service benchmarks.
enum StoreKind : int64_t { kNoStore = 0, kMemoryStore = 1, kSqliteNormal = 2, kSqliteFull = 3 };

std::string StoreLabel(int64_t kind) {
  switch (kind) {
    case kNoStore: return "no case store";
    case kMemoryStore: return "InMemoryCaseStore";
    case kSqliteNormal: return "SQLite WAL synchronous=NORMAL";
    default: return "SQLite WAL synchronous=FULL";
  }
}

// A RoutingService with its stores, rebuilt (outside the timing) every kBatch cases so that every
// case is new and memory stays bounded. SQLite files go to $ARBITER_BENCH_DIR (default /tmp).
class ServiceUnderTest {
 public:
  ServiceUnderTest(int64_t kind, SignalComputer* signals) : kind_(kind), signals_(signals) {
    if (!packs_.Install(GetCorpus().bundle, Actor{}).has_value()) std::exit(1);
    const char* dir = std::getenv("ARBITER_BENCH_DIR");
    db_path_ = std::filesystem::path(dir != nullptr ? dir : "/tmp") /
               ("bench_routing_" + std::to_string(::getpid()) + ".db");
    Reset();
  }
  ~ServiceUnderTest() {
    service_.reset();
    sqlite_.reset();
    RemoveFiles();
  }
  void Reset() {
    service_.reset();
    sqlite_.reset();
    memory_cases_ = std::make_unique<InMemoryCaseStore>();
    memory_keys_ = std::make_unique<InMemoryCaseKeyStore>();
    ServiceDeps deps{&packs_, &sink_, memory_keys_.get(), &grants_, signals_, &clock_};
    if (kind_ == kMemoryStore) deps.cases = memory_cases_.get();
    if (kind_ == kSqliteNormal || kind_ == kSqliteFull) {
      RemoveFiles();
      store::SqliteOptions options;
      options.durability =
          kind_ == kSqliteFull ? store::Durability::kFull : store::Durability::kNormal;
      auto db = store::SqliteDb::Open(db_path_, options);
      if (!db) Die(db.error());
      auto opened = SqliteRoutingStore::Open(std::move(db).value());
      if (!opened) Die(opened.error());
      sqlite_ = std::move(opened).value();
      deps.keys = sqlite_.get();
      deps.cases = sqlite_.get();
    }
    service_ = std::make_unique<RoutingService>(deps);
  }
  RoutingService& service() { return *service_; }

 private:
  [[noreturn]] static void Die(const Status& s) {
    std::cerr << "bench_routing: " << s.ToString() << "\n";
    std::exit(1);
  }
  void RemoveFiles() {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(std::filesystem::path(db_path_) += suffix, ec);
    }
  }

  int64_t kind_;
  SignalComputer* signals_;
  FakeClock clock_;
  PackStore packs_{nullptr, clock_};
  CountingSink sink_;
  InMemoryGrantIssuer grants_{clock_};
  std::filesystem::path db_path_;
  std::unique_ptr<InMemoryCaseStore> memory_cases_;
  std::unique_ptr<InMemoryCaseKeyStore> memory_keys_;
  std::unique_ptr<SqliteRoutingStore> sqlite_;
  std::unique_ptr<RoutingService> service_;
};

// RoutingService::RouteCase on new cases. Arg: the case store (StoreKind). Signals are the ones
// the sample lines give (as the pack tests use them); ServiceRouteCaseScanned computes them.
void RunServiceRouteCase(benchmark::State& state, SignalComputer* signals) {
  const Corpus& c = GetCorpus();
  ServiceUnderTest sut(state.range(0), signals);
  state.SetLabel(StoreLabel(state.range(0)));
  const Actor actor{"source", "zendesk"};
  constexpr size_t kBatch = 4096;
  size_t i = 0;
  // The cases of the next kBatch iterations, each with its own id, made while the timer is
  // paused: a caller hands RouteCase a case it has just parsed and moves it in (as the server
  // does), so neither the copy nor the id formatting is part of routing.
  std::vector<sources::Case> batch;
  const auto prepare = [&](size_t first) {
    batch.clear();
    batch.reserve(kBatch);
    for (size_t j = first; j < first + kBatch; ++j) {
      batch.push_back(c.cases[j % c.cases.size()]);
      batch.back().id = "B" + std::to_string(j);
    }
  };
  prepare(0);
  const ComputedSignals none;
  std::uint64_t allocations = 0;
  std::uint64_t large_allocations = 0;
  for (auto _ : state) {
    if (i != 0 && i % kBatch == 0) {
      state.PauseTiming();
      sut.Reset();
      prepare(i);
      state.ResumeTiming();
    }
    const size_t k = i % c.cases.size();
    {
      const AllocationCounter count;
      {  // the result's destruction is part of a routed case
        auto r = sut.service().RouteCase(std::move(batch[i % kBatch]),
                                         signals != nullptr ? none : c.signals[k], actor);
        if (!r) state.SkipWithError(r.error().ToString().c_str());
        benchmark::DoNotOptimize(r);
      }
      allocations += count.calls();
      large_allocations += count.large();
    }
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
  // operator new calls per routed case, and those of 1 KB or more (OpenSSL's and SQLite's own
  // malloc calls are not counted).
  state.counters["allocs"] = static_cast<double>(allocations) / static_cast<double>(i);
  state.counters["allocs_1k"] = static_cast<double>(large_allocations) / static_cast<double>(i);
}

void ServiceRouteCase(benchmark::State& state) { RunServiceRouteCase(state, nullptr); }
BENCHMARK(ServiceRouteCase)->Arg(kNoStore)->Arg(kMemoryStore)->Arg(kSqliteNormal);
// One fsync per case: bounded so a run stays short.
BENCHMARK(ServiceRouteCase)->Arg(kSqliteFull)->Iterations(2000);

// The same with the production SignalComputer: the sensitivity scanner over the case text and
// the duplicate index (which grows with every open case, up to kBatch).
void ServiceRouteCaseScanned(benchmark::State& state) {
  CaseSignals signals;
  RunServiceRouteCase(state, &signals);
}
BENCHMARK(ServiceRouteCaseScanned)->Arg(kNoStore)->Arg(kMemoryStore);

// RouteCase as the server runs it (src/arbiter/server/app.cpp): the file-backed
// SqliteRoutingStore with group commit (a committer thread writes the queued rows, paced 10 ms as
// the server paces it), the production CaseSignals, and a steady state of open cases: the service,
// the key cache and the duplicate index already hold $ARBITER_BENCH_OPEN_CASES (default 100,000)
// cases. Cases are the load generator's (bench/server/run_decisions.sh): one body, ids `L-<16
// digits>` — a storm of identical cases, as under load. Every case routed stays open, so the state
// grows by the iterations run (a few ten thousand on top of the steady state). The fixture is
// built once per process (filling it takes seconds); its files go to $ARBITER_BENCH_DIR.
class ServerFixture {
 public:
  static ServerFixture& Get() {
    static ServerFixture* fixture = new ServerFixture();  // outlives the benchmarks; never freed
    return *fixture;
  }

  // The next case, made while the timer is paused (the server parses it before RouteCase).
  sources::Case NextCase() {
    sources::Case c = body_;
    char id[24];
    std::snprintf(id, sizeof(id), "L-%016llu", static_cast<unsigned long long>(++seq_));
    c.id = id;
    return c;
  }
  RoutingService& service() { return *service_; }
  // Waits until every row queued so far is committed (keeps the committer's queue bounded).
  void Drain() {
    if (auto t = store_->LastTicketOnThisThread()) {
      Status s = store_->WaitDurable(*t, std::chrono::seconds(60));
      if (!s.ok()) Die(s);
    }
    SqliteRoutingStore::BeginTickets();
  }
  size_t open_cases() const { return static_cast<size_t>(seq_); }

 private:
  ServerFixture() {
    if (!packs_.Install(GetCorpus().bundle, Actor{}).has_value()) std::exit(1);
    const char* dir = std::getenv("ARBITER_BENCH_DIR");
    db_path_ = std::filesystem::path(dir != nullptr ? dir : "/tmp") /
               ("bench_routing_server_" + std::to_string(::getpid()) + ".db");
    RemoveFiles();
    std::atexit([] { Get().RemoveFiles(); });
    auto json = ParseJson(
        R"({"id":"L-0","source":"native","subject":"Where is my order?","body":"The tracking )"
        R"(page has not changed for five days.","customer":{"id":"cust-1","tier":"standard"},)"
        R"("language":"en","priority":"low","severity":4,"category":"shipping","channel":"web",)"
        R"("ai":{"confidence":0.89}})");
    if (!json) Die(json.error());
    auto body = sources::CaseFromJson(*json);
    if (!body) Die(body.error());
    body_ = std::move(body).value();
    auto db = store::SqliteDb::Open(db_path_, {.durability = store::Durability::kNormal});
    if (!db) Die(db.error());
    auto opened = SqliteRoutingStore::Open(std::move(db).value(),
                                           {.group_commit = true, .pace = kServerPace});
    if (!opened) Die(opened.error());
    store_ = std::move(opened).value();
    ServiceDeps deps{&packs_, &sink_, store_.get(), &grants_, &signals_, &clock_};
    deps.cases = store_.get();
    service_ = std::make_unique<RoutingService>(deps);
    const char* open = std::getenv("ARBITER_BENCH_OPEN_CASES");
    const size_t steady = open != nullptr ? std::strtoull(open, nullptr, 10) : 100'000;
    const Actor actor{"source", "native"};
    SqliteRoutingStore::BeginTickets();
    for (size_t i = 0; i < steady; ++i) {
      auto r = service_->RouteCase(NextCase(), {}, actor);
      if (!r) Die(r.error());
      if (i % 4096 == 4095) Drain();
    }
    Drain();
  }
  void RemoveFiles() {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(std::filesystem::path(db_path_) += suffix, ec);
    }
  }
  [[noreturn]] static void Die(const Status& s) {
    std::cerr << "bench_routing: " << s.ToString() << "\n";
    std::exit(1);
  }
  static constexpr std::chrono::milliseconds kServerPace{10};  // app.cpp's kCaseRowPace

  FakeClock clock_;
  PackStore packs_{nullptr, clock_};
  CountingSink sink_;
  InMemoryGrantIssuer grants_{clock_};
  CaseSignals signals_;
  std::filesystem::path db_path_;
  std::unique_ptr<SqliteRoutingStore> store_;
  std::unique_ptr<RoutingService> service_;
  sources::Case body_;
  std::uint64_t seq_ = 0;
};

void ServerRouteCase(benchmark::State& state) {
  ServerFixture& f = ServerFixture::Get();
  const Actor actor{"source", "native"};
  constexpr size_t kBatch = 2048;
  std::vector<sources::Case> batch;
  size_t i = 0;
  std::uint64_t allocations = 0;
  for (auto _ : state) {
    if (i % kBatch == 0) {
      state.PauseTiming();
      f.Drain();
      batch.clear();
      for (size_t j = 0; j < kBatch; ++j) batch.push_back(f.NextCase());
      state.ResumeTiming();
    }
    {
      const AllocationCounter count;
      {
        auto r = f.service().RouteCase(std::move(batch[i % kBatch]), {}, actor);
        if (!r) state.SkipWithError(r.error().ToString().c_str());
        benchmark::DoNotOptimize(r);
      }
      allocations += count.calls();
    }
    ++i;
  }
  f.Drain();
  state.SetLabel("SQLite group commit, " + std::to_string(f.open_cases()) + " open cases");
  state.SetItemsProcessed(state.iterations());
  state.counters["allocs"] = static_cast<double>(allocations) / static_cast<double>(i);
}
BENCHMARK(ServerRouteCase);

void ReplayLine(benchmark::State& state) {
  const Corpus& c = GetCorpus();
  Replayer replay(c.bundle.get(), *c.bundle);
  size_t i = 0;
  for (auto _ : state) {
    auto row = replay.Add(c.lines[i % c.lines.size()], i + 1);
    benchmark::DoNotOptimize(row);
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(ReplayLine);

// What `arbiter replay --pack NEW --baseline OLD CASES.jsonl` does, in process and without the
// output: every line of $ARBITER_REPLAY_FILE decided under $ARBITER_REPLAY_PACK (candidate) and
// $ARBITER_REPLAY_BASELINE (default: the example pack). Run only when the file is set; see
// docs/benchmarks/routing.md for the 100,000-case run.
void ReplayFile(benchmark::State& state) {
  const char* file = std::getenv("ARBITER_REPLAY_FILE");
  const char* pack = std::getenv("ARBITER_REPLAY_PACK");
  if (file == nullptr || pack == nullptr) {
    state.SkipWithError("set ARBITER_REPLAY_FILE and ARBITER_REPLAY_PACK");
    for (auto _ : state) {
    }
    return;
  }
  const char* base = std::getenv("ARBITER_REPLAY_BASELINE");
  auto candidate = LoadBundle(pack);
  auto baseline = LoadBundle(base != nullptr ? base : ARBITER_ROUTING_EXAMPLE_PACK);
  if (!candidate || !baseline) {
    state.SkipWithError("cannot load the packs");
    for (auto _ : state) {
    }
    return;
  }
  size_t lines = 0;
  for (auto _ : state) {
    Replayer replay(baseline->get(), **candidate);
    std::ifstream in(file, std::ios::binary);
    std::string line;
    size_t line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.empty()) continue;
      auto row = replay.Add(line, line_no);
      if (!row) {
        state.SkipWithError(row.error().ToString().c_str());
        break;
      }
    }
    lines = replay.summary().cases;
    state.counters["moved"] = static_cast<double>(replay.summary().moved);
  }
  state.counters["cases"] = static_cast<double>(lines);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * lines));
}
// Registered only when the file is given, so a default run has no skipped entry.
[[maybe_unused]] const bool kReplayFileRegistered = [] {
  if (std::getenv("ARBITER_REPLAY_FILE") == nullptr) return false;
  benchmark::RegisterBenchmark("ReplayFile", ReplayFile)
      ->Unit(benchmark::kSecond)
      ->Iterations(1)
      ->UseRealTime();
  return true;
}();

// The resident set of this process in bytes (/proc/self/statm).
std::uint64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t pages = 0;
  std::uint64_t resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

// What a closed case costs in memory: $ARBITER_BENCH_CLOSED_CASES (N) of the load generator's
// cases routed and at once closed through a service on the server's store (SQLite group commit
// on a file, paced as the server paces it, CaseSignals), after a warm-up of N/10 cases that brings
// the allocator, SQLite's page cache and the tables to their working size. Reports the growth of
// the resident set over the N cases, per case. Opt-in (it takes tens of seconds); files go to
// $ARBITER_BENCH_DIR.
void ClosedCaseMemory(benchmark::State& state) {
  const std::uint64_t n = std::strtoull(std::getenv("ARBITER_BENCH_CLOSED_CASES"), nullptr, 10);
  const char* dir = std::getenv("ARBITER_BENCH_DIR");
  const std::filesystem::path db_path =
      std::filesystem::path(dir != nullptr ? dir : "/tmp") /
      ("bench_routing_closed_" + std::to_string(::getpid()) + ".db");
  const auto remove_files = [&db_path] {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(std::filesystem::path(db_path) += suffix, ec);
    }
  };
  remove_files();
  auto body = sources::CaseFromJson(*ParseJson(
      R"({"id":"C-0","source":"native","subject":"Where is my order?","body":"The tracking )"
      R"(page has not changed for five days.","customer":{"id":"cust-1","tier":"standard"},)"
      R"("language":"en","priority":"low","severity":4,"category":"shipping","channel":"web",)"
      R"("ai":{"confidence":0.89}})"));
  FakeClock clock;
  PackStore packs(nullptr, clock);
  CountingSink sink;
  InMemoryGrantIssuer grants(clock);
  CaseSignals signals;
  auto db = store::SqliteDb::Open(db_path, {.durability = store::Durability::kNormal});
  if (!body || !db || !packs.Install(GetCorpus().bundle, Actor{}).has_value()) {
    state.SkipWithError("cannot set up the store");
    for (auto _ : state) {
    }
    return;
  }
  auto store = SqliteRoutingStore::Open(
      std::move(db).value(), {.group_commit = true, .pace = std::chrono::milliseconds(10)});
  if (!store) {
    state.SkipWithError(store.error().ToString().c_str());
    for (auto _ : state) {
    }
    return;
  }
  ServiceDeps deps{&packs, &sink, store->get(), &grants, &signals, &clock};
  deps.cases = store->get();
  RoutingService service(deps);
  const Actor actor{"source", "native"};
  std::uint64_t seq = 0;
  const auto route_and_close = [&](std::uint64_t count) {
    SqliteRoutingStore::BeginTickets();
    for (std::uint64_t i = 0; i < count; ++i) {
      sources::Case c = *body;
      char id[24];
      std::snprintf(id, sizeof(id), "C-%016llu", static_cast<unsigned long long>(++seq));
      c.id = id;
      auto routed = service.RouteCase(std::move(c), {}, actor);
      auto closed = service.Close(id, "resolved", actor);
      if (!routed || !closed) {
        state.SkipWithError("route or close failed");
        return;
      }
      if (i % 4096 == 4095 || i + 1 == count) {  // keeps the committer's queue bounded
        if (auto t = (*store)->LastTicketOnThisThread()) {
          if (!(*store)->WaitDurable(*t, std::chrono::seconds(60)).ok()) {
            state.SkipWithError("commit failed");
            return;
          }
        }
        SqliteRoutingStore::BeginTickets();
      }
    }
  };
  std::uint64_t before = 0;
  std::uint64_t after = 0;
  for (auto _ : state) {
    route_and_close(n / 10);
    before = ResidentBytes();
    route_and_close(n);
    after = ResidentBytes();
  }
  state.counters["cases"] = static_cast<double>(n);
  state.counters["known"] = static_cast<double>(service.size());
  state.counters["rss_growth_MiB"] = static_cast<double>(after - before) / (1 << 20);
  state.counters["rss_bytes_per_case"] =
      static_cast<double>(after - before) / static_cast<double>(n);
  state.SetLabel("SQLite group commit, every case closed");
  store->reset();
  remove_files();
}
[[maybe_unused]] const bool kClosedCaseMemoryRegistered = [] {
  if (std::getenv("ARBITER_BENCH_CLOSED_CASES") == nullptr) return false;
  benchmark::RegisterBenchmark("ClosedCaseMemory", ClosedCaseMemory)
      ->Unit(benchmark::kSecond)
      ->Iterations(1)
      ->UseRealTime();
  return true;
}();

// The longest single insert while a case-id index grows to 2 M ids ("L-" and 16 digits, as the
// load generator's): std::unordered_map rehashes every id inside one insert when it grows, which
// stalls whatever lock guards it; ShardedStringMap (common/sharded_hash.h, the case-key cache and
// the closed-case ids) rehashes one 256th at a time. Counters: max_insert_us (the stall), and the
// mean insert in ns.
template <typename Map>
void CaseIdIndexGrowth(benchmark::State& state) {
  constexpr int kIds = 2'000'000;
  double max_us = 0;
  double total_ns = 0;
  for (auto _ : state) {
    Map map;
    char id[32];
    for (int i = 0; i < kIds; ++i) {
      std::snprintf(id, sizeof id, "L-%016llu", static_cast<unsigned long long>(i) * 7919ULL);
      const auto start = std::chrono::steady_clock::now();
      if constexpr (std::is_same_v<Map, ShardedStringMap<int>>) {
        map.InsertOrAssign(id, i);
      } else {
        map.insert_or_assign(id, i);
      }
      const auto ns =
          std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start)
              .count();
      max_us = std::max(max_us, ns / 1000);
      total_ns += ns;
    }
    benchmark::DoNotOptimize(map);
  }
  state.counters["max_insert_us"] = max_us;
  state.counters["mean_insert_ns"] = total_ns / (static_cast<double>(kIds) * state.iterations());
}
BENCHMARK(CaseIdIndexGrowth<std::unordered_map<std::string, int>>)
    ->Name("CaseIdIndexGrowth/std_unordered_map")
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(CaseIdIndexGrowth<ShardedStringMap<int>>)
    ->Name("CaseIdIndexGrowth/sharded")
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace arbiter::routing

BENCHMARK_MAIN();
