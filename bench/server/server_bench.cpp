// Google Benchmark micro-benchmarks of the server's hot path without the network: routing,
// metrics updates, a full Dispatch (route match, handler, metrics, request id), and authentication
// of a person's API token and an agent's JWT-SVID, with and without the in-memory caches.
#include <benchmark/benchmark.h>

#include <boost/json/object.hpp>

#include "arbiter/cedar/value.h"
#include "arbiter/common/clock.h"
#include "arbiter/common/crypto.h"
#include "arbiter/common/json.h"
#include "arbiter/identity/key_ring.h"
#include "arbiter/identity/registry.h"
#include "arbiter/identity/sqlite_identity_store.h"
#include "arbiter/identity/users.h"
#include "arbiter/server/dispatcher.h"
#include "arbiter/server/health.h"
#include "arbiter/server/identity_api.h"
#include "arbiter/server/internal/decision_json.h"
#include "arbiter/server/metrics.h"
#include "arbiter/server/router.h"
#include "arbiter/sources/case.h"
#include "arbiter/store/sqlite.h"

namespace arbiter::server {
namespace {

HttpResponse Ok(RequestContext&) { return JsonResponse(200, boost::json::object{{"ok", true}}); }

// A routing table of the API's shape (about 40 routes).
Router ApiShapedRouter() {
  Router r;
  const char* patterns[] = {"/healthz",
                            "/readyz",
                            "/metrics",
                            "/.well-known/jwks.json",
                            "/v1/route",
                            "/v1/cases",
                            "/v1/sources/{source}",
                            "/v1/cases/{id}",
                            "/v1/cases/{id}/claim",
                            "/v1/cases/{id}/view",
                            "/v1/cases/{id}/escalate",
                            "/v1/cases/{id}/override",
                            "/v1/cases/{id}/approve",
                            "/v1/cases/{id}/close",
                            "/v1/cases/{id}/outcomes",
                            "/v1/intents",
                            "/v1/intents/introspect",
                            "/v1/attest",
                            "/v1/admin/workloads",
                            "/v1/admin/workloads/{id}",
                            "/v1/admin/join-tokens",
                            "/v1/admin/instances",
                            "/v1/admin/instances/{id}",
                            "/v1/admin/users",
                            "/v1/admin/policy/reload",
                            "/v1/admin/cases/{id}/personal-data",
                            "/v1/ledger",
                            "/v1/ledger/checkpoint",
                            "/v1/ledger/entries",
                            "/v1/ledger/entries/{index}",
                            "/v1/ledger/receipts/{index}",
                            "/v1/ledger/proofs/inclusion",
                            "/v1/ledger/proofs/consistency",
                            "/v1/ledger/tile/{level}/{index...}",
                            "/v1/ledger/tile/entries/{index...}"};
  for (const char* p : patterns) {
    (void)r.Add(HttpMethod::kGet, p, Access::kPublic, Ok);
    (void)r.Add(HttpMethod::kPost, p, Access::kPublic, Ok);
  }
  return r;
}

void BM_RouterMatch(benchmark::State& state) {
  Router r = ApiShapedRouter();
  for (auto _ : state) {
    RouteMatch m = r.Match(HttpMethod::kPost, "/v1/cases/c-123456/claim");
    benchmark::DoNotOptimize(m.route);
  }
}
BENCHMARK(BM_RouterMatch);

void BM_CounterWithLabels(benchmark::State& state) {
  MetricsRegistry reg;
  auto* c = *reg.AddCounter("x_total", "", {"method", "route", "status"});
  for (auto _ : state) c->WithLabels({"POST", "/v1/cases", "201"}).Inc();
}
BENCHMARK(BM_CounterWithLabels)->Threads(1)->Threads(2);

void BM_HistogramObserve(benchmark::State& state) {
  MetricsRegistry reg;
  Histogram& h = (*reg.AddHistogram("lat", "", {}))->WithLabels({});
  double v = 0.0001;
  for (auto _ : state) {
    h.Observe(v);
    v = v < 1 ? v * 1.5 : 0.0001;
  }
}
BENCHMARK(BM_HistogramObserve);

void BM_Dispatch(benchmark::State& state) {
  Router r = ApiShapedRouter();
  MetricsRegistry reg;
  auto logger = Logger::Null();
  auto d = std::move(*Dispatcher::Create(&r, nullptr, &reg, logger.get(), {}));
  HttpRequest req;
  req.method = HttpMethod::kPost;
  req.method_name = "POST";
  req.path = "/v1/cases/c-1/claim";
  req.target = req.path;
  for (auto _ : state) {
    HttpResponse resp = d->Dispatch(req);
    benchmark::DoNotOptimize(resp.body.data());
  }
}
BENCHMARK(BM_Dispatch);

void BM_RenderMetrics(benchmark::State& state) {
  Router r = ApiShapedRouter();
  MetricsRegistry reg;
  auto logger = Logger::Null();
  auto d = std::move(*Dispatcher::Create(&r, nullptr, &reg, logger.get(), {}));
  HttpRequest req;
  req.method = HttpMethod::kGet;
  req.method_name = "GET";
  for (const Route* route : r.Routes()) {
    req.path = route->pattern;
    (void)d->Dispatch(req);
  }
  for (auto _ : state) {
    std::string text = reg.Render();
    benchmark::DoNotOptimize(text.data());
  }
}
BENCHMARK(BM_RenderMetrics);

// People and one agent instance on an in-memory identity store, as `arbiter serve` wires them.
struct Identities {
  Identities(bool cache) : svids(SystemClock::Get()) {
    store = std::move(
        *identity::CreateSqliteIdentityStore(std::move(*store::SqliteDb::OpenInMemory())));
    keys = std::move(*identity::KeyRing::Create(*store, SystemClock::Get()));
    registry = std::move(
        *identity::WorkloadRegistry::Create(*store, *keys, SystemClock::Get(), random, {}));
    identity::UserDirectoryOptions user_options;
    user_options.cache_ttl_seconds = cache ? 5 : 0;
    users = std::move(
        *identity::UserDirectory::Create(*store, SystemClock::Get(), random, user_options));
    api_token = (*users->EnsureBootstrapAdmin())->token;
    identity::WorkloadSpec spec{"triage", "support", "low", {"reply"}, 3600};
    auto join = registry->RegisterWorkload(spec, "admin");
    auto key = EcdsaP256PrivateKey::Generate();
    auto proof = identity::SignProof(*key, identity::AttestationProofMessage(join->token));
    svid = registry->Attest(join->token, identity::AgentPublicJwk(*key), *proof)->svid;
    auth = std::make_unique<IdentityAuthenticator>(
        IdentityServices{registry.get(), users.get(), keys.get(), cache ? &svids : nullptr});
  }
  HttpRequest Request(const std::string& token) const {
    HttpRequest r;
    r.method = HttpMethod::kPost;
    r.headers.push_back({"authorization", "Bearer " + token});
    return r;
  }
  SecureRandom random;
  VerifiedSvidCache svids;
  std::unique_ptr<identity::IdentityStore> store;
  std::unique_ptr<identity::KeyRing> keys;
  std::unique_ptr<identity::WorkloadRegistry> registry;
  std::unique_ptr<identity::UserDirectory> users;
  std::unique_ptr<IdentityAuthenticator> auth;
  std::string api_token, svid;
};

// Arg 0: every request reads the store (and verifies the SVID); 1: the caches of `arbiter serve`.
void BM_AuthenticateApiToken(benchmark::State& state) {
  Identities ids(state.range(0) != 0);
  HttpRequest request = ids.Request(ids.api_token);
  for (auto _ : state) {
    auto who = ids.auth->Authenticate(request);
    if (!who) state.SkipWithError(who.error().ToString().c_str());
    benchmark::DoNotOptimize(who);
  }
}
BENCHMARK(BM_AuthenticateApiToken)->Arg(0)->Arg(1);

void BM_AuthenticateSvid(benchmark::State& state) {
  Identities ids(state.range(0) != 0);
  HttpRequest request = ids.Request(ids.svid);
  for (auto _ : state) {
    auto who = ids.auth->Authenticate(request);
    if (!who) state.SkipWithError(who.error().ToString().c_str());
    benchmark::DoNotOptimize(who);
  }
}
BENCHMARK(BM_AuthenticateSvid)->Arg(0)->Arg(1);

// The case row's JSON (SqliteRoutingStore::Put): the boost::json tree and ToJson (Arg 0) against
// CaseToJsonText (Arg 1), on the case bench/server/profile_cases.sh sends. Same bytes.
void BM_CaseRowJson(benchmark::State& state) {
  auto c = sources::CaseFromJson(*ParseJson(
      R"({"id":"P-1","source":"native","subject":"Where is my order?","body":"The tracking page )"
      R"(has not changed for five days.","customer":{"id":"cust-1","tier":"standard"},)"
      R"("language":"en","priority":"low","severity":4,"category":"shipping","channel":"web",)"
      R"("ai":{"confidence":0.89}})"));
  for (auto _ : state) {
    std::string out =
        state.range(0) == 0 ? ToJson(sources::CaseToJson(*c)) : sources::CaseToJsonText(*c);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_CaseRowJson)->Arg(0)->Arg(1);

// The decision in POST /v1/cases' answer: RoutingDecisionToJson + ToJson (Arg 0) against
// AppendRoutingDecisionJson (Arg 1), on a decision of the shape examples/support gives.
void BM_DecisionJson(benchmark::State& state) {
  routing::RoutingDecision d;
  d.route = routing::Route::kAi;
  d.principal = "AgentPool::\"support-ai\"";
  d.reasons.push_back(routing::PolicyReason{
      "ai-baseline",
      false,
      {{"id", "ai-baseline"},
       {"reason", "no escalation rule applies: the AI pool may handle the case"}},
      "ai.cedar",
      3});
  const std::pair<const char*, const char*> strings[] = {
      {"tier", "standard"},        {"priority", "low"}, {"category", "shipping"},
      {"language", "en"},          {"channel", "web"},  {"sensitivity", "public"},
      {"account_status", "active"}};
  for (const auto& [k, v] : strings) d.signals.emplace_back(k, cedar::Value::String(v));
  d.signals.emplace_back("severity", cedar::Value::Long(4));
  d.signals.emplace_back("ai_confidence", cedar::Value::Long(89));
  d.signals.emplace_back("fraud", cedar::Value::Bool(false));
  d.signals.emplace_back("sensitive_kinds", cedar::Value::Set({}));
  d.bundle_hash = std::string(64, 'd');
  d.pack_version = "2026.11.0";
  for (auto _ : state) {
    std::string out;
    if (state.range(0) == 0) {
      out = ToJson(routing::RoutingDecisionToJson(d));
    } else {
      internal::AppendRoutingDecisionJson(d, out);
    }
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_DecisionJson)->Arg(0)->Arg(1);

}  // namespace
}  // namespace arbiter::server

BENCHMARK_MAIN();
