// Benchmarks of Cedar authorization (issue 3 §9) on the workload files written by
// bench/cedar/gen_workloads.js: (a) `small`, 10 policies and 5 entities; (b) `large`, 100 policies
// and 1,000 entities in a 3-level hierarchy; (c) `routing`, 30 policies over one Case entity with
// 20 attributes. bench/cedar/peer.js runs cedar-wasm on the same files; bench/cedar/compare.js runs
// both and prints the ratios.
//
//   ARBITER_CEDAR_WORKLOADS=build/diff-rel/cedar-workloads build/diff-rel/bench/cedar/bench_cedar
//
// BM_Authorize: one IsAuthorized call per iteration, cycling through the workload's requests (time
// per request, and items_per_second = single-core throughput). BM_Latency: each call timed on its
// own; reports the median (p50_ns) and p99 (p99_ns) of the per-request times, clock reads included.
// BM_AuthorizeParsingEntities: also parses the entities JSON on every call, as cedar-wasm must.
// Policies, schema and entities are parsed once, outside the timed region, as an embedding
// application does.
#include <benchmark/benchmark.h>

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "arbiter/cedar/authorizer.h"
#include "arbiter/cedar/entities.h"
#include "arbiter/cedar/policy_set.h"
#include "arbiter/cedar/schema.h"
#include "arbiter/common/json.h"
#include "arbiter/common/status.h"

#ifndef ARBITER_CEDAR_WORKLOADS_DEFAULT
#define ARBITER_CEDAR_WORKLOADS_DEFAULT "cedar-workloads"
#endif

namespace arbiter::cedar {
namespace {

struct Workload {
  std::string entities_json;  // kept for BM_AuthorizeParsingEntities
  Schema schema;
  PolicySet policies;
  Entities entities;
  std::vector<Request> requests;
  size_t allowed = 0;        // requests allowed (compare.js checks this against cedar-wasm)
  size_t policy_errors = 0;  // erroring policies over all requests
};

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read `" + path + "`");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Result<std::unique_ptr<Workload>> LoadWorkload(const std::string& dir) {
  auto w = std::make_unique<Workload>();
  ARBITER_TRY(std::string schema_text, ReadFile(dir + "/schema.cedarschema"));
  ARBITER_TRY(w->schema, ParseSchema(schema_text, dir + "/schema.cedarschema"));
  ARBITER_TRY(std::string policy_text, ReadFile(dir + "/policies.cedar"));
  ARBITER_TRY(w->policies, ParsePolicySet(policy_text, dir + "/policies.cedar"));
  ARBITER_TRY(std::string entities_text, ReadFile(dir + "/entities.json"));
  ARBITER_TRY(w->entities, ParseEntitiesJson(entities_text, &w->schema));
  w->entities_json = std::move(entities_text);
  ARBITER_TRY(std::string requests_text, ReadFile(dir + "/requests.jsonl"));
  std::istringstream lines(requests_text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    ARBITER_TRY(boost::json::value doc, ParseJson(line));
    ARBITER_TRY(const boost::json::object* o, AsObject(doc, "request"));
    Request r;
    for (auto [key, out] : {std::pair<const char*, EntityUid*>{"principal", &r.principal},
                            {"action", &r.action},
                            {"resource", &r.resource}}) {
      const boost::json::value* v = o->if_contains(key);
      if (v == nullptr) return Status::InvalidArgument(std::string("request: missing ") + key);
      ARBITER_TRY(*out, ParseEntityUidJson(boost::json::serialize(*v)));
    }
    const boost::json::value* ctx = o->if_contains("context");
    ARBITER_TRY(r.context,
                ParseContextJson(ctx ? boost::json::serialize(*ctx) : "{}", &w->schema, r.action));
    w->requests.push_back(std::move(r));
  }
  if (w->requests.empty()) return Status::InvalidArgument(dir + ": no requests");
  for (const Request& r : w->requests) {
    Response resp = IsAuthorized(r, w->policies, w->entities);
    if (resp.decision == Decision::kAllow) ++w->allowed;
    w->policy_errors += resp.errors.size();
  }
  return w;
}

// Loads each workload once per process; nullptr (with the reason in `error`) when it cannot.
const Workload* GetWorkload(const std::string& name, std::string* error) {
  static std::map<std::string, std::unique_ptr<Workload>> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second.get();
  const char* env = std::getenv("ARBITER_CEDAR_WORKLOADS");
  std::string root = env != nullptr ? env : ARBITER_CEDAR_WORKLOADS_DEFAULT;
  auto w = LoadWorkload(root + "/" + name);
  if (!w) {
    *error = "workload `" + root + "/" + name + "`: " + w.error().message() +
             " (generate it with bench/cedar/gen_workloads.js)";
    return nullptr;
  }
  return cache.emplace(name, std::move(*w)).first->second.get();
}

void BM_Authorize(benchmark::State& state, const std::string& name) {
  std::string error;
  const Workload* w = GetWorkload(name, &error);
  if (w == nullptr) {
    state.SkipWithError(error.c_str());
    return;
  }
  size_t i = 0;
  const size_t n = w->requests.size();
  for (auto _ : state) {
    Response r = IsAuthorized(w->requests[i], w->policies, w->entities);
    benchmark::DoNotOptimize(r);
    if (++i == n) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["requests"] = static_cast<double>(n);
  state.counters["allowed"] = static_cast<double>(w->allowed);
  state.counters["policy_errors"] = static_cast<double>(w->policy_errors);
}

// What cedar-wasm's statefulIsAuthorized does per call: parse the entities JSON (with the schema),
// then authorize. Not a use Arbiter makes (it parses entities once), but the like-for-like figure.
void BM_AuthorizeParsingEntities(benchmark::State& state, const std::string& name) {
  std::string error;
  const Workload* w = GetWorkload(name, &error);
  if (w == nullptr) {
    state.SkipWithError(error.c_str());
    return;
  }
  size_t i = 0;
  const size_t n = w->requests.size();
  for (auto _ : state) {
    auto entities = ParseEntitiesJson(w->entities_json, &w->schema);
    if (!entities) {
      state.SkipWithError(entities.error().message().c_str());
      return;
    }
    Response r = IsAuthorized(w->requests[i], w->policies, *entities);
    benchmark::DoNotOptimize(r);
    if (++i == n) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Latency(benchmark::State& state, const std::string& name) {
  std::string error;
  const Workload* w = GetWorkload(name, &error);
  if (w == nullptr) {
    state.SkipWithError(error.c_str());
    return;
  }
  using Clock = std::chrono::steady_clock;
  std::vector<double> samples;
  samples.reserve(static_cast<size_t>(state.max_iterations));
  size_t i = 0;
  const size_t n = w->requests.size();
  for (auto _ : state) {
    auto t0 = Clock::now();
    Response r = IsAuthorized(w->requests[i], w->policies, w->entities);
    benchmark::DoNotOptimize(r);
    auto t1 = Clock::now();
    double seconds = std::chrono::duration<double>(t1 - t0).count();
    state.SetIterationTime(seconds);
    samples.push_back(seconds * 1e9);
    if (++i == n) i = 0;
  }
  std::sort(samples.begin(), samples.end());
  auto at = [&](double q) {
    size_t k = static_cast<size_t>(q * static_cast<double>(samples.size()));
    return samples[std::min(k, samples.size() - 1)];
  };
  if (!samples.empty()) {
    state.counters["p50_ns"] = at(0.50);
    state.counters["p99_ns"] = at(0.99);
  }
}

constexpr int64_t kLatencySamples = 200000;

BENCHMARK_CAPTURE(BM_Authorize, small, std::string("small"));
BENCHMARK_CAPTURE(BM_Authorize, large, std::string("large"));
BENCHMARK_CAPTURE(BM_Authorize, routing, std::string("routing"));
BENCHMARK_CAPTURE(BM_AuthorizeParsingEntities, small, std::string("small"));
BENCHMARK_CAPTURE(BM_AuthorizeParsingEntities, large, std::string("large"));
BENCHMARK_CAPTURE(BM_AuthorizeParsingEntities, routing, std::string("routing"));
BENCHMARK_CAPTURE(BM_Latency, small, std::string("small"))
    ->UseManualTime()
    ->Iterations(kLatencySamples);
BENCHMARK_CAPTURE(BM_Latency, large, std::string("large"))
    ->UseManualTime()
    ->Iterations(kLatencySamples);
BENCHMARK_CAPTURE(BM_Latency, routing, std::string("routing"))
    ->UseManualTime()
    ->Iterations(kLatencySamples);

}  // namespace
}  // namespace arbiter::cedar

BENCHMARK_MAIN();
