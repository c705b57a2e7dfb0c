// Identity and grants hot paths. Targets (issue 6): mint + verify an intent token <= 100 us;
// introspection with the single-use check <= 20 us. Peers measured in the same run: raw OpenSSL
// ES256 sign/verify and HMAC-SHA-256 (what HS256 would cost), SHA-256 of a token.
//
//   build/rel/bench/identity/identity_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
#include <benchmark/benchmark.h>

#include <sys/resource.h>
#include <unistd.h>

#include <boost/json/object.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "arbiter/common/clock.h"
#include "arbiter/common/crypto.h"
#include "arbiter/grants/grants.h"
#include "arbiter/grants/intent_token.h"
#include "arbiter/grants/single_use_registry.h"
#include "arbiter/grants/sqlite_grant_store.h"
#include "arbiter/identity/jwk.h"
#include "arbiter/identity/key_ring.h"
#include "arbiter/identity/registry.h"
#include "arbiter/identity/spiffe_id.h"
#include "arbiter/identity/sqlite_identity_store.h"
#include "arbiter/store/sqlite.h"

namespace arbiter {
namespace {

template <typename T>
T Must(Result<T> r) {
  if (!r) {
    std::fprintf(stderr, "bench setup failed: %s\n", r.error().ToString().c_str());
    std::abort();
  }
  return std::move(r).value();
}

void MustOk(const Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "bench setup failed: %s\n", s.ToString().c_str());
    std::abort();
  }
}

// Grant-store backing: 0 in-memory SQLite, 1 file (WAL, synchronous=NORMAL), 2 file (WAL, FULL);
// 3 file (WAL, NORMAL) with uses recorded in a mapped single-use file (single_use_registry.h),
// 4 the same with an msync per use, 5 in-memory SQLite with the mapped file (to compare with 0),
// 6 as 3 but mint commits its intent record itself (IntentTokenOptions::defer_records = false).
// The files live in one folder per process, removed when the process exits (the handler is
// registered after `dir` is constructed, so it runs before `dir` is destroyed).
const std::filesystem::path& BenchDir() {
  static const std::filesystem::path dir = std::filesystem::temp_directory_path() /
                                           ("arbiter-identity-bench-" + std::to_string(::getpid()));
  static const bool cleanup = [] {
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(BenchDir(), ec);
    });
    return true;
  }();
  (void)cleanup;
  return dir;
}

std::unique_ptr<store::SqliteDb> OpenGrantDb(int kind) {
  if (kind == 0 || kind == 5) return Must(store::SqliteDb::OpenInMemory());
  const auto& dir = BenchDir();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  store::SqliteOptions o;
  o.durability = kind == 2 ? store::Durability::kFull : store::Durability::kNormal;
  return Must(store::SqliteDb::Open(dir / "grants.db", o));
}

long MinorFaults() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

struct Stack {
  explicit Stack(int grant_db_kind = 0) {
    identity_store =
        Must(identity::CreateSqliteIdentityStore(Must(store::SqliteDb::OpenInMemory())));
    grant_store = Must(grants::CreateSqliteGrantStore(OpenGrantDb(grant_db_kind)));
    keys = Must(identity::KeyRing::Create(*identity_store, clock));
    identity::RegistryOptions ro;
    ro.trust_domain = "example.org";
    registry = Must(identity::WorkloadRegistry::Create(*identity_store, *keys, clock, random, ro));
    grants::IntentTokenOptions io;
    io.issuer = "spiffe://example.org";
    if (grant_db_kind >= 3) {
      grants::MappedSingleUseOptions so;
      std::filesystem::create_directories(BenchDir());
      so.path = BenchDir() / "intents.used";
      std::filesystem::remove(so.path);
      so.sync_each_use = grant_db_kind == 4;
      single_use = Must(grants::OpenMappedSingleUseRegistry(so));
      io.single_use = single_use.get();
      io.defer_records = grant_db_kind != 6;
    }
    grant_service = Must(grants::GrantService::Create(
        *grant_store, clock, random, single_use ? single_use->grant_changes() : nullptr));
    intents = Must(
        grants::IntentTokenService::Create(*grant_store, *grant_service, *keys, clock, random, io));
    identity::WorkloadSpec spec;
    spec.name = "refund-bot";
    spec.owner = "payments";
    spec.risk_tier = "high";
    spec.intents = {"refund.issue"};
    spec.max_grant_ttl_seconds = 86400;
    auto jt = Must(registry->RegisterWorkload(spec, "bench"));
    auto key = Must(EcdsaP256PrivateKey::Generate());
    auto proof = Must(identity::SignProof(key, identity::AttestationProofMessage(jt.token)));
    auto cred = Must(registry->Attest(jt.token, identity::AgentPublicJwk(key), proof));
    svid = cred.svid;
    agent = Must(registry->VerifySvid(cred.svid));
    grants::GrantSpec gs;
    gs.case_id = "case-1";
    gs.ttl_seconds = 86400;
    gs.max_ttl_seconds = 86400;
    auto g = Must(grant_service->CreateForCase(gs));
    Must(grant_service->Claim(g.id, *agent));
    request.case_id = "case-1";
    request.action = "refund.issue";
    request.audience = "payments";
    request.params = boost::json::object{{"amount", 25}, {"currency", "EUR"}, {"order", "o-17"}};
    request.ttl_seconds = 60;
  }

  grants::IntentExpectations Expect() const {
    grants::IntentExpectations e;
    e.audience = "payments";
    e.case_id = "case-1";
    e.action = "refund.issue";
    e.params = &request.params;
    return e;
  }

  FakeClock clock{SystemClock::Get().NowMicros()};
  SecureRandom random;
  std::unique_ptr<identity::IdentityStore> identity_store;
  std::unique_ptr<grants::GrantStore> grant_store;
  std::unique_ptr<identity::KeyRing> keys;
  std::unique_ptr<identity::WorkloadRegistry> registry;
  std::unique_ptr<grants::SingleUseRegistry> single_use;
  std::unique_ptr<grants::GrantService> grant_service;
  std::unique_ptr<grants::IntentTokenService> intents;
  std::optional<identity::AgentIdentity> agent;
  std::string svid;
  grants::IntentRequest request;
};

// ---- peers ----

void BM_Peer_OpenSslEs256Sign(benchmark::State& state) {
  auto key = Must(EcdsaP256PrivateKey::Generate());
  const std::string msg(300, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(key.Sign(AsBytes(msg)));
}
BENCHMARK(BM_Peer_OpenSslEs256Sign);

void BM_Peer_OpenSslEs256Verify(benchmark::State& state) {
  auto key = Must(EcdsaP256PrivateKey::Generate());
  const std::string msg(300, 'x');
  const Bytes sig = Must(key.Sign(AsBytes(msg)));
  for (auto _ : state) benchmark::DoNotOptimize(key.PublicKey().Verify(AsBytes(msg), sig));
}
BENCHMARK(BM_Peer_OpenSslEs256Verify);

// The alternative algorithm for intent tokens, same library, same run: EdDSA (Ed25519).
void BM_Peer_OpenSslEd25519Sign(benchmark::State& state) {
  auto key = Must(Ed25519PrivateKey::Generate());
  const std::string msg(300, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(key.Sign(AsBytes(msg)));
}
BENCHMARK(BM_Peer_OpenSslEd25519Sign);

void BM_Peer_OpenSslEd25519Verify(benchmark::State& state) {
  auto key = Must(Ed25519PrivateKey::Generate());
  const std::string msg(300, 'x');
  const Bytes pub = key.PublicKey();
  const Bytes sig = Must(key.Sign(AsBytes(msg)));
  for (auto _ : state) benchmark::DoNotOptimize(Ed25519Verify(pub, AsBytes(msg), sig));
}
BENCHMARK(BM_Peer_OpenSslEd25519Verify);

void BM_Peer_HmacSha256Token(benchmark::State& state) {
  const std::string key(32, 'k');
  const std::string msg(400, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(HmacSha256(AsBytes(key), AsBytes(msg)));
}
BENCHMARK(BM_Peer_HmacSha256Token);

void BM_Peer_Sha256Token(benchmark::State& state) {
  const std::string msg(600, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(Sha256(msg));
}
BENCHMARK(BM_Peer_Sha256Token);

// The floor of the single-use check: one autocommit UPDATE of a one-row table, through the same
// SQLite plumbing and options as the grant store (arg as BM_IntentIntrospect: 0 in memory, 1 file
// WAL synchronous=NORMAL, 2 file WAL FULL). On a file this is one durable commit: in WAL mode six
// fcntl locks on the -shm file and two pwrites of one WAL frame, whatever the statement.
void BM_Peer_SqliteCommit(benchmark::State& state) {
  auto db = OpenGrantDb(static_cast<int>(state.range(0)));
  MustOk(db->Exec("CREATE TABLE peer_counter (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)"));
  MustOk(db->Exec("INSERT INTO peer_counter VALUES (1, 0)"));
  auto up = Must(db->Prepare("UPDATE peer_counter SET v = v + 1 WHERE k = 1"));
  for (auto _ : state) {
    if (Status s = up.Run(); !s.ok()) state.SkipWithError(s.ToString().c_str());
  }
}
BENCHMARK(BM_Peer_SqliteCommit)->Arg(0)->Arg(1);

// The mapped single-use registry alone: one first use of a fresh token per iteration (the
// table is sized so that it never fills; a fake clock moves 1 s every 1,000 uses).
void BM_Peer_SingleUseMappedUse(benchmark::State& state) {
  std::filesystem::create_directories(BenchDir());
  grants::MappedSingleUseOptions o;
  o.path = BenchDir() / "peer.used";
  std::filesystem::remove(o.path);
  auto reg = Must(grants::OpenMappedSingleUseRegistry(o));
  std::int64_t now = 1'800'000'000;
  std::uint64_t n = 0;
  for (auto _ : state) {
    // Distinct, well-spread digests without hashing: n times odd constants.
    Sha256Digest d{};
    ++n;
    const std::uint64_t words[4] = {n * 0x9e3779b97f4a7c15ULL, n, 0, n * 0xc2b2ae3d27d4eb4fULL};
    std::memcpy(d.data(), words, sizeof words);
    if (n % 1000 == 0) ++now;
    auto r = reg->Use(d, now + 60, now);
    if (!r || *r != grants::UseOutcome::kFirstUse) state.SkipWithError("use failed");
  }
}
BENCHMARK(BM_Peer_SingleUseMappedUse);

// What group commit would buy: `arg` such UPDATEs in one transaction, time per UPDATE (file, WAL,
// synchronous=NORMAL).
void BM_Peer_SqliteCommitBatched(benchmark::State& state) {
  auto db = OpenGrantDb(1);
  MustOk(db->Exec("CREATE TABLE peer_counter (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)"));
  MustOk(db->Exec("INSERT INTO peer_counter VALUES (1, 0)"));
  auto up = Must(db->Prepare("UPDATE peer_counter SET v = v + 1 WHERE k = 1"));
  const auto batch = static_cast<int>(state.range(0));
  for (auto _ : state) {
    MustOk(db->Begin());
    for (int i = 0; i < batch; ++i) MustOk(up.Run());
    MustOk(db->Commit());
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_Peer_SqliteCommitBatched)->Arg(8);

// ---- ours ----

void BM_SpiffeIdParse(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        identity::SpiffeId::Parse("spiffe://example.org/agent/refund-bot/0123456789abcdef"));
  }
}
BENCHMARK(BM_SpiffeIdParse);

void BM_SvidVerify(benchmark::State& state) {
  Stack s;
  for (auto _ : state) {
    auto r = s.registry->VerifySvid(s.svid);
    if (!r) state.SkipWithError(r.error().ToString().c_str());
  }
}
BENCHMARK(BM_SvidVerify);

void BM_IntentMint(benchmark::State& state) {
  Stack s;
  for (auto _ : state) {
    auto m = s.intents->Mint(*s.agent, s.request);
    if (!m) state.SkipWithError(m.error().ToString().c_str());
  }
}
BENCHMARK(BM_IntentMint);

// Target <= 100 us: mint, then verify as a tool does with the JWKS (signature + claims).
void BM_IntentMintAndVerify(benchmark::State& state) {
  Stack s;
  const auto jwks = Must(identity::JwkSet::Parse(s.keys->JwksJson()));
  const std::int64_t now = s.clock.NowSeconds();
  for (auto _ : state) {
    auto m = s.intents->Mint(*s.agent, s.request);
    auto v = grants::VerifyIntentToken(m->token, jwks, "spiffe://example.org", "payments", now);
    if (!v) state.SkipWithError(v.error().ToString().c_str());
  }
}
BENCHMARK(BM_IntentMintAndVerify);

// Mint, then Arbiter's own verification: introspection (arg as BM_IntentIntrospect). CPU is the
// whole process's: with a mapped file (3, 5) mint's records are committed by a writer thread.
void BM_IntentMintAndIntrospect(benchmark::State& state) {
  Stack s(static_cast<int>(state.range(0)));
  const auto expect = s.Expect();
  std::uint64_t n = 0;
  const long faults_before = MinorFaults();
  for (auto _ : state) {
    // Time moves 1 s per 1,000 tokens, the rate the mapped file is sized for, so tokens do not
    // all share one expiry (which picks where the file records them).
    if (++n % 1000 == 0) s.clock.AdvanceSeconds(1);
    auto m = s.intents->Mint(*s.agent, s.request);
    if (!m) {
      state.SkipWithError(m.error().ToString().c_str());
      break;
    }
    auto r = s.intents->Introspect(m->token, expect);
    if (!r) state.SkipWithError(r.error().ToString().c_str());
  }
  // Page faults of the whole process per token (a first write to a clean page of the mapped
  // file is one: ~10-25 us in the kernel).
  state.counters["faults"] = benchmark::Counter(static_cast<double>(MinorFaults() - faults_before),
                                                benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_IntentMintAndIntrospect)
    ->Arg(0)
    ->Arg(1)
    ->Arg(3)
    ->Arg(5)
    ->Arg(6)
    ->MeasureProcessCPUTime();

// Target <= 20 us: introspection with the single-use check (arg: 0 in-memory SQLite, 1 file WAL
// synchronous=NORMAL, 2 file WAL synchronous=FULL, 3 file WAL NORMAL + mapped single-use file,
// 4 the same with an msync per use, 5 in-memory SQLite + mapped file). Tokens are minted before
// timing.
void BM_IntentIntrospect(benchmark::State& state) {
  Stack s(static_cast<int>(state.range(0)));
  const size_t kBatch = std::min<size_t>(2000, static_cast<size_t>(state.max_iterations));
  std::vector<std::string> tokens;
  size_t next = kBatch;
  const auto expect = s.Expect();
  for (auto _ : state) {
    if (next == kBatch) {
      state.PauseTiming();
      tokens.clear();
      // Time moves 2 s per batch of 2,000 tokens (1,000 tokens/s, the rate the mapped file is
      // sized for; its tokens' expiries pick where they are recorded).
      s.clock.AdvanceSeconds(2);
      for (size_t i = 0; i < kBatch; ++i)
        tokens.push_back(s.intents->Mint(*s.agent, s.request)->token);
      next = 0;
      state.ResumeTiming();
    }
    auto r = s.intents->Introspect(tokens[next++], expect);
    if (!r) state.SkipWithError(r.error().ToString().c_str());
  }
}
BENCHMARK(BM_IntentIntrospect)->Arg(0)->Arg(1)->Arg(2)->Arg(3)->Arg(4)->Arg(5);

// Durable introspection (file, WAL, NORMAL) from several threads sharing one service: uses that
// arrive while a commit is running share the next one (group commit in SqliteGrantStore). Time is
// wall clock; CPU is the whole process's, so CPU per use is what a server pays per introspection.
void BM_IntentIntrospectConcurrent(benchmark::State& state) {
  static std::unique_ptr<Stack> shared;
  static std::vector<std::string> tokens;
  static std::atomic<size_t> next{0};
  constexpr size_t kPerThread = 3000;
  if (state.thread_index() == 0) {
    shared = std::make_unique<Stack>(1);
    tokens.clear();
    for (size_t i = 0; i < kPerThread * static_cast<size_t>(state.threads()); ++i) {
      tokens.push_back(Must(shared->intents->Mint(*shared->agent, shared->request)).token);
    }
    next = 0;
  }
  // Setup above happens before the (barriered) start of the timed loop in every thread.
  for (auto _ : state) {
    const size_t i = next.fetch_add(1);
    auto r = shared->intents->Introspect(tokens[i], shared->Expect());
    if (!r) state.SkipWithError(r.error().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IntentIntrospectConcurrent)
    ->Iterations(3000)
    ->Threads(1)
    ->Threads(4)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

// For comparison: what introspection would cost if it re-verified the ECDSA signature each time.
void BM_IntentIntrospectPlusEcdsaVerify(benchmark::State& state) {
  Stack s;
  const size_t kBatch = std::min<size_t>(2000, static_cast<size_t>(state.max_iterations));
  std::vector<std::string> tokens;
  size_t next = kBatch;
  const auto expect = s.Expect();
  const std::int64_t now = s.clock.NowSeconds();
  for (auto _ : state) {
    if (next == kBatch) {
      state.PauseTiming();
      tokens.clear();
      for (size_t i = 0; i < kBatch; ++i)
        tokens.push_back(s.intents->Mint(*s.agent, s.request)->token);
      next = 0;
      state.ResumeTiming();
    }
    const std::string& t = tokens[next++];
    auto v = grants::VerifyIntentToken(t, *s.keys, "spiffe://example.org", "payments", now);
    auto r = s.intents->Introspect(t, expect);
    if (!v || !r) state.SkipWithError("introspection failed");
  }
}
BENCHMARK(BM_IntentIntrospectPlusEcdsaVerify);

// A replayed token: the refusal path must stay cheap too.
void BM_IntentIntrospectReplay(benchmark::State& state) {
  Stack s;
  const auto expect = s.Expect();
  const std::string t = s.intents->Mint(*s.agent, s.request)->token;
  (void)s.intents->Introspect(t, expect);
  for (auto _ : state) benchmark::DoNotOptimize(s.intents->Introspect(t, expect));
}
BENCHMARK(BM_IntentIntrospectReplay);

}  // namespace
}  // namespace arbiter

BENCHMARK_MAIN();
