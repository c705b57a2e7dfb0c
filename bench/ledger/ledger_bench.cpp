// Ledger benchmarks. Every figure is wall-clock (UseRealTime) on real files with fsync.
//
//   build/rel/bench/ledger/ledger_bench --benchmark_filter=Sha256
//   ARBITER_LEDGER_BENCH_DIR=/tmp/lb build/rel/bench/ledger/ledger_bench
//
// ARBITER_LEDGER_BENCH_VERIFY_ENTRIES (default 1,000,000) sizes the verification benchmark's log.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "arbiter/ledger/ledger.h"
#include "arbiter/ledger/verify.h"
#include "arbiter/store/sqlite.h"

namespace arbiter::ledger {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kEntrySize = 300;

std::filesystem::path BenchRoot() {
  const char* env = std::getenv("ARBITER_LEDGER_BENCH_DIR");
  std::filesystem::path p =
      env ? env : std::filesystem::temp_directory_path() / "arbiter-ledger-bench";
  std::filesystem::create_directories(p);
  return p;
}

std::filesystem::path FreshDir(const std::string& name) {
  const auto p = BenchRoot() / name;
  std::filesystem::remove_all(p);
  return p;
}

// 300-byte entries shaped like canonical JSON evidence records.
std::vector<std::string> MakeEntries(size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> out(n);
  for (size_t i = 0; i < n; ++i) {
    std::string s = "{\"actor\":\"spiffe://arbiter/agent/" + std::to_string(rng() % 1000) +
                    "\",\"case\":\"" + std::to_string(rng()) + "\",\"decision\":\"escalate\",";
    s += "\"evidence\":\"";
    while (s.size() < kEntrySize - 2) s += static_cast<char>('a' + rng() % 26);
    s += "\"}";
    out[i] = std::move(s);
  }
  return out;
}

std::unique_ptr<Ledger> OpenLedger(
    const std::filesystem::path& dir,
    std::chrono::milliseconds interval = std::chrono::milliseconds(50)) {
  LedgerOptions o;
  o.data_dir = dir;
  o.origin = "bench.arbiter/ledger";
  o.integration_interval = interval;
  auto l = Ledger::Open(o);
  if (!l) {
    std::fprintf(stderr, "open: %s\n", l.error().ToString().c_str());
    std::abort();
  }
  return std::move(*l);
}

// ---- The ceiling: raw SHA-256 on this machine ----

void BM_Sha256Raw(benchmark::State& state) {
  const std::string data(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state) benchmark::DoNotOptimize(Sha256(data));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_Sha256Raw)->Arg(65)->Arg(301)->Arg(1 << 20);

void BM_LeafHash300(benchmark::State& state) {
  const std::string data(kEntrySize, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(LeafHash(AsBytes(data)));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_LeafHash300);

// Leaf hashes plus the tree over them in memory: the hashing floor of verifying 1M entries.
void BM_TreeHashingCeiling(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  const auto entries = MakeEntries(1024, 1);
  for (auto _ : state) {
    MerkleAccumulator acc;
    for (size_t i = 0; i < n; ++i) acc.Add(LeafHash(AsBytes(entries[i % entries.size()])));
    benchmark::DoNotOptimize(acc.Root());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_TreeHashingCeiling)->Arg(1000000)->Unit(benchmark::kMillisecond)->Iterations(2);

// ---- Durable appends ----

// `threads` appenders, each calling AppendBatch with `batch` entries until `total` are durable.
void RunAppenders(Ledger& l, const std::vector<std::string>& entries, int threads, size_t batch,
                  size_t total) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      std::vector<ByteView> views(batch);
      while (true) {
        const size_t start = next.fetch_add(batch);
        if (start >= total) return;
        for (size_t k = 0; k < batch; ++k) {
          views[k] = AsBytes(entries[(start + k) % entries.size()]);
        }
        if (!l.AppendBatch(views)) std::abort();
      }
    });
  }
  for (auto& w : workers) w.join();
}

void BM_DurableAppend(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const auto batch = static_cast<size_t>(state.range(1));
  const size_t total = 200000;
  const auto entries = MakeEntries(65536, 2);
  auto l = OpenLedger(FreshDir("append"));
  for (auto _ : state) RunAppenders(*l, entries, threads, batch, total);
  const auto stats = l->Stats();
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * total));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * total * kEntrySize));
  state.counters["entries_per_commit"] =
      static_cast<double>(stats.sequenced) /
      static_cast<double>(std::max<std::uint64_t>(1, stats.group_commits));
  l->Close();
  state.counters["integrated"] = static_cast<double>(l->Stats().integrated);
}
// Concurrent single-entry appenders, and callers batching 16 or 256 entries per call.
BENCHMARK(BM_DurableAppend)
    ->Args({64, 1})
    ->Args({256, 1})
    ->Args({8, 16})
    ->Args({4, 256})
    ->Args({1, 4096})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// Peer: the naive durable append, one SQLite transaction (one fsync) per entry.
void BM_PeerSqliteOneCommitPerEntry(benchmark::State& state) {
  const auto dir = FreshDir("peer");
  std::filesystem::create_directories(dir);
  auto db = std::move(*store::SqliteDb::Open(dir / "peer.db"));
  (void)db->Exec("CREATE TABLE e (idx INTEGER PRIMARY KEY, data BLOB NOT NULL)");
  auto stmt = std::move(*db->Prepare("INSERT INTO e VALUES (?1, ?2)"));
  const auto entries = MakeEntries(1024, 3);
  std::int64_t i = 0;
  for (auto _ : state) {
    (void)db->Begin();
    stmt.Bind(1, i).Bind(2, AsBytes(entries[static_cast<size_t>(i) % entries.size()]));
    (void)stmt.Run();
    (void)db->Commit();
    ++i;
  }
  state.SetItemsProcessed(i);
}
BENCHMARK(BM_PeerSqliteOneCommitPerEntry)->UseRealTime()->Iterations(300);

// Peer: the same inserts in one big transaction (one fsync for all): SQLite's ceiling here.
void BM_PeerSqliteOneCommitForAll(benchmark::State& state) {
  const auto dir = FreshDir("peer-bulk");
  std::filesystem::create_directories(dir);
  auto db = std::move(*store::SqliteDb::Open(dir / "peer.db"));
  (void)db->Exec("CREATE TABLE e (idx INTEGER PRIMARY KEY, data BLOB NOT NULL)");
  auto stmt = std::move(*db->Prepare("INSERT INTO e VALUES (?1, ?2)"));
  const auto entries = MakeEntries(1024, 3);
  const std::int64_t n = 200000;
  std::int64_t i = 0;
  for (auto _ : state) {
    (void)db->Begin();
    for (std::int64_t k = 0; k < n; ++k, ++i) {
      stmt.Bind(1, i).Bind(2, AsBytes(entries[static_cast<size_t>(i) % entries.size()]));
      (void)stmt.Run();
    }
    (void)db->Commit();
  }
  state.SetItemsProcessed(i);
}
BENCHMARK(BM_PeerSqliteOneCommitForAll)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// ---- Integration latency under a steady 10,000 entries/s ----

void BM_IntegrationLatency(benchmark::State& state) {
  const double rate = static_cast<double>(state.range(0));  // entries per second
  const auto interval = std::chrono::milliseconds(state.range(1));
  const int producers = 64;
  const auto duration = std::chrono::seconds(3);
  const size_t max_entries = static_cast<size_t>(rate * 3.5) + 1000;
  const auto entries = MakeEntries(4096, 4);
  auto l = OpenLedger(FreshDir("latency"), interval);
  std::vector<std::atomic<std::int64_t>> acked_ns(max_entries);
  std::vector<std::atomic<std::int64_t>> called_ns(max_entries);
  std::vector<double> ack_to_integrated_ms, call_to_integrated_ms, append_ms;
  std::mutex append_mu;
  for (auto _ : state) {
    const auto start = Clock::now();
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> appended{0};
    std::thread monitor([&] {
      std::uint64_t seen = 0;
      while (!done || seen < appended.load()) {
        const std::uint64_t size = l->Stats().integrated;
        const auto now = (Clock::now() - start).count();
        for (; seen < size && seen < max_entries; ++seen) {
          // An index integrated before its appender recorded the ack time is spun on briefly.
          while (acked_ns[seen].load() == 0) std::this_thread::yield();
          ack_to_integrated_ms.push_back(static_cast<double>(now - acked_ns[seen]) / 1e6);
          call_to_integrated_ms.push_back(static_cast<double>(now - called_ns[seen]) / 1e6);
        }
        std::this_thread::sleep_for(std::chrono::microseconds(100));
      }
    });
    std::vector<std::thread> threads;
    const auto period = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 * producers / rate));
    for (int p = 0; p < producers; ++p) {
      threads.emplace_back([&, p] {
        auto next = start + period * p / producers;
        std::vector<double> local;
        for (size_t k = static_cast<size_t>(p);; k += producers) {
          next += period;
          if (next - start > duration) break;
          std::this_thread::sleep_until(next);
          const auto t0 = Clock::now();
          auto index = l->Append(AsBytes(entries[k % entries.size()]));
          const auto t1 = Clock::now();
          if (!index || *index >= max_entries) std::abort();
          called_ns[*index] = (t0 - start).count();
          acked_ns[*index] = std::max<std::int64_t>(1, (t1 - start).count());
          appended.fetch_add(1);
          local.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        }
        std::lock_guard lock(append_mu);
        append_ms.insert(append_ms.end(), local.begin(), local.end());
      });
    }
    for (auto& t : threads) t.join();
    done = true;
    (void)l->Flush();
    monitor.join();
    state.SetItemsProcessed(static_cast<std::int64_t>(appended.load()));
  }
  const auto pct = [](std::vector<double> v, double q) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
  };
  state.counters["integrated_p50_ms"] = pct(ack_to_integrated_ms, 0.50);
  state.counters["integrated_p99_ms"] = pct(ack_to_integrated_ms, 0.99);
  state.counters["call_to_integrated_p99_ms"] = pct(call_to_integrated_ms, 0.99);
  state.counters["append_p50_ms"] = pct(append_ms, 0.50);
  state.counters["append_p99_ms"] = pct(append_ms, 0.99);
  state.counters["entries"] = static_cast<double>(ack_to_integrated_ms.size());
  state.counters["checkpoints"] = static_cast<double>(l->Stats().checkpoints_signed);
}
BENCHMARK(BM_IntegrationLatency)
    ->Args({10000, 50})
    ->Args({10000, 20})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// ---- Full verification ----

std::filesystem::path BuildVerifyLedger(size_t n) {
  const auto dir = BenchRoot() / ("verify-" + std::to_string(n));
  if (std::filesystem::exists(dir / "complete")) return dir;
  std::filesystem::remove_all(dir);
  auto l = OpenLedger(dir, std::chrono::milliseconds(50));
  const auto entries = MakeEntries(65536, 5);
  RunAppenders(*l, entries, 4, 1000, n);
  (void)l->Flush();
  l->Close();
  std::ofstream(dir / "complete") << n;
  return dir;
}

void BM_VerifyFullLedger(benchmark::State& state) {
  size_t n = 1000000;
  if (const char* env = std::getenv("ARBITER_LEDGER_BENCH_VERIFY_ENTRIES")) n = std::stoul(env);
  const auto dir = BuildVerifyLedger(n);
  VerifyReport last;
  for (auto _ : state) {
    auto report = VerifyLedgerDir(dir);
    if (!report || !report->ok()) std::abort();
    last = *report;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * last.entries));
  state.counters["entries"] = static_cast<double>(last.entries);
  state.counters["checkpoints"] = static_cast<double>(last.checkpoints);
  state.counters["tiles"] = static_cast<double>(last.tiles);
}
BENCHMARK(BM_VerifyFullLedger)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace
}  // namespace arbiter::ledger

BENCHMARK_MAIN();
