// Sensitivity scanner throughput and duplicate-index latency/memory (docs/benchmarks/signals.md).
//   build/rel/bench/signals/signals_bench --benchmark_repetitions=3
//   ARBITER_DEDUPE_CASES=1000000 build/rel/bench/signals/signals_bench --benchmark_filter=Dedupe
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "arbiter/signals/duplicates.h"
#include "arbiter/signals/sensitivity.h"

namespace {

using arbiter::signals::DuplicateIndex;

// Mixed ticket text: multilingual sentences, with an e-mail, phone, card, IBAN, IP or password
// in about one sentence in eight, plus order numbers, dates and versions.
const std::string& MixedText() {
  static const std::string text = [] {
    const std::vector<std::string> sentences = {
        "Dear support team, I hope this message finds you well. ",
        "Our checkout page fails with error 502 since 09:40 on 2026-03-02. ",
        "Sehr geehrte Damen und Herren, die Rechnung für März ist leider falsch. ",
        "Estimado equipo, el pedido 113542617735902 no ha llegado todavía. ",
        "Prezado suporte, o aplicativo trava ao abrir a versão 10.0.19041.1. ",
        "Bonjour, je n'arrive plus à me connecter depuis la mise à jour. ",
        "お世話になっております。ログインできません。 ",
        "Please reply to ana.lopez@example.org or call +44 20 7946 0958. ",
        "The card 4111 1111 1111 1111 was charged twice. ",
        "Refund to IBAN DE89 3704 0044 0532 0130 00 please. ",
        "The server 192.168.10.25 refuses connections. ",
        "My password is Hunter2! and it no longer works. ",
        "Thank you for your help, best regards, Kim. ",
        "I have already restarted the router and cleared the cache twice. ",
        "The invoice total was 1.234,56 EUR instead of 617,28 EUR. ",
        "Kindly escalate this, it is blocking our whole team today. "};
    std::mt19937_64 rng(1);
    std::string t;
    while (t.size() < (8u << 20)) {
      const size_t i = rng() % 64;
      // The sensitive sentences (7..11) come up about one time in eight.
      t += sentences[i < 56 ? (i % 16 < 7 ? i % 7 : 12 + i % 4) : 7 + (i % 5)];
      if (rng() % 6 == 0) t += "\n\n";
    }
    return t;
  }();
  return text;
}

void BM_ScanMixedTicketText(benchmark::State& state) {
  const std::string& text = MixedText();
  for (auto _ : state) {
    auto r = arbiter::signals::ScanText(text);
    benchmark::DoNotOptimize(r.spans.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ScanMixedTicketText)->Unit(benchmark::kMillisecond);

void BM_ScanAndRedact(benchmark::State& state) {
  const std::string& text = MixedText();
  for (auto _ : state) {
    auto r = arbiter::signals::ScanText(text);
    auto red = arbiter::signals::Redact(text, r.spans);
    benchmark::DoNotOptimize(red.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ScanAndRedact)->Unit(benchmark::kMillisecond);

// The real ticket CSVs of ../shared (set ARBITER_SHARED_DIR), scanned as one text.
void BM_ScanSharedTickets(benchmark::State& state) {
  static const std::string text = [] {
    const char* dir = std::getenv("ARBITER_SHARED_DIR");
    std::string all;
    if (dir == nullptr) return all;
    for (const char* f : {"/data/tickets/tobi_bueck_tickets_multilang3_4k_head1167.csv",
                          "/data/tickets/bitext_customer_support_sample_337b968.csv"}) {
      std::ifstream in(std::string(dir) + f, std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      all += ss.str();
    }
    return all;
  }();
  if (text.empty()) {
    state.SkipWithError("set ARBITER_SHARED_DIR to the shared/ folder");
    return;
  }
  for (auto _ : state) {
    auto r = arbiter::signals::ScanText(text);
    benchmark::DoNotOptimize(r.spans.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ScanSharedTickets)->Unit(benchmark::kMillisecond);

// Peers measured in the same run: a memchr pass for '@' (a floor: the least any scanner does) and
// std::regex finding e-mail addresses only (what a regex-based scanner pays for one kind).
void BM_PeerMemchrAt(benchmark::State& state) {
  const std::string& text = MixedText();
  for (auto _ : state) {
    size_t n = 0;
    const char* p = text.data();
    const char* end = p + text.size();
    while ((p = static_cast<const char*>(std::memchr(p, '@', static_cast<size_t>(end - p))))) {
      ++n;
      ++p;
    }
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_PeerMemchrAt)->Unit(benchmark::kMillisecond);

void BM_PeerStdRegexEmailOnly(benchmark::State& state) {
  const std::string text = MixedText().substr(0, 1u << 20);
  const std::regex email(R"([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})");
  for (auto _ : state) {
    size_t n = 0;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), email);
         it != std::sregex_iterator(); ++it) {
      ++n;
    }
    benchmark::DoNotOptimize(n);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_PeerStdRegexEmailOnly)->Unit(benchmark::kMillisecond);

// ---- Duplicate index ----------------------------------------------------------------------------

std::string TicketText(std::uint64_t seed) {
  // ~60 words from a 20,000-word vocabulary with a Zipf-like skew, like real tickets.
  std::mt19937_64 r(seed);
  std::string t;
  for (int w = 0; w < 60; ++w) {
    const std::uint64_t x = r() % 20000;
    t += 'w';
    t += std::to_string((x * x) / 20000);
    t += ' ';
  }
  return t;
}

size_t CaseCount() {
  const char* env = std::getenv("ARBITER_DEDUPE_CASES");
  return env != nullptr ? static_cast<size_t>(std::strtoull(env, nullptr, 10)) : 200000;
}

DuplicateIndex& FilledIndex() {
  static DuplicateIndex* index = [] {
    auto* idx = new DuplicateIndex();
    const size_t n = CaseCount();
    for (size_t i = 0; i < n; ++i) {
      std::string id = "case-";
      id += std::to_string(i);
      (void)idx->Add(id, TicketText(i));
    }
    return idx;
  }();
  return *index;
}

void BM_DedupeQuery(benchmark::State& state) {
  DuplicateIndex& index = FilledIndex();
  const size_t n = index.size();
  std::vector<std::string> queries;
  for (size_t i = 0; i < 2000; ++i) {
    // Half near-duplicates of open cases (a word changed), half new texts.
    std::string q = TicketText(i % 2 == 0 ? (i * 7919) % n : n + i);
    if (i % 2 == 0) q += " again";
    queries.push_back(std::move(q));
  }
  std::vector<double> micros;
  size_t k = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    auto m = index.Query(queries[k++ % queries.size()]);
    const auto stop = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(m.similarity);
    micros.push_back(std::chrono::duration<double, std::micro>(stop - start).count());
  }
  std::sort(micros.begin(), micros.end());
  auto pct = [&](double p) { return micros[static_cast<size_t>(p * (micros.size() - 1))]; };
  state.counters["open_cases"] = static_cast<double>(n);
  state.counters["p50_us"] = pct(0.50);
  state.counters["p99_us"] = pct(0.99);
  state.counters["bytes_per_case"] =
      static_cast<double>(index.MemoryBytes()) / static_cast<double>(n);
}
BENCHMARK(BM_DedupeQuery)->Iterations(20000)->Unit(benchmark::kMicrosecond);

void BM_DedupeAddRemove(benchmark::State& state) {
  DuplicateIndex& index = FilledIndex();
  size_t i = 0;
  for (auto _ : state) {
    std::string id = "churn-";
    id += std::to_string(i);
    (void)index.Add(id, TicketText(1000000000 + i));
    (void)index.Remove(id);
    ++i;
  }
}
BENCHMARK(BM_DedupeAddRemove)->Iterations(20000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
