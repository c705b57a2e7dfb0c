// signals_eval: prints the evaluation report (Markdown) for docs/SIGNALS.md.
//   build/rel/tests/signals/signals_eval ../shared/data/tickets [--mistakes]
#include <cstdio>
#include <cstring>

#include "arbiter/signals/duplicates.h"
#include "eval/eval_sets.h"

using namespace arbiter::signals;  // NOLINT(google-build-using-namespace): a small tool

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: signals_eval TICKETS_DIR [--mistakes]\n");
    return 1;
  }
  const bool show = argc > 2 && std::strcmp(argv[2], "--mistakes") == 0;
  constexpr std::uint64_t kSeed = 20261127;
  auto set = eval::BuildSensitivitySet(argv[1], kSeed);
  if (!set) {
    std::fprintf(stderr, "signals_eval: ticket files not found under `%s`\n", argv[1]);
    return 1;
  }
  std::vector<std::string> mistakes;
  const auto scores = eval::ScoreSensitivity(*set, show ? &mistakes : nullptr);
  size_t bytes = 0;
  for (const auto& t : *set) bytes += t.text.size();
  std::printf("Sensitivity set: %zu texts, %zu bytes (seed %llu)\n\n", set->size(), bytes,
              static_cast<unsigned long long>(kSeed));
  std::printf("| kind | labelled | found | precision | recall |\n|---|---:|---:|---:|---:|\n");
  for (Kind k : kAllKinds) {
    const auto& s = scores[static_cast<size_t>(k)];
    std::printf("| %s | %zu | %zu | %.4f | %.4f |\n", std::string(KindName(k)).c_str(), s.tp + s.fn,
                s.tp + s.fp, s.precision(), s.recall());
  }
  for (const auto& m : mistakes) std::printf("  %s\n", m.c_str());

  auto dd = eval::BuildDedupeSet(argv[1], kSeed);
  if (!dd) return 1;
  std::printf("\nDuplicate set: %zu open cases, %zu queries\n\n", dd->open_cases.size(),
              dd->queries.size());
  std::printf(
      "| threshold | precision | recall | false duplicates / negatives | bitext paraphrases "
      "matched (unscored) |\n"
      "|---:|---:|---:|---:|---:|\n");
  for (double t : {0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8}) {
    const auto r = eval::ScoreDedupe(*dd, t);
    std::printf("| %.2f | %.4f | %.4f | %zu / %zu | %zu / %zu |\n", t, r.overall.precision(),
                r.overall.recall(), r.false_duplicates, r.negatives, r.paraphrases_matched,
                r.paraphrases);
  }
  std::vector<std::string> dedupe_mistakes;
  const auto r =
      eval::ScoreDedupe(*dd, DuplicateIndexOptions{}.threshold, show ? &dedupe_mistakes : nullptr);
  std::printf(
      "\nRecall by variant at the default threshold %.2f:\n\n| variant | recall | n |\n"
      "|---|---:|---:|\n",
      DuplicateIndexOptions{}.threshold);
  for (const auto& [name, s] : r.by_variant) {
    if (name == "negative") continue;
    std::printf("| %s | %.4f | %zu |\n", name.c_str(), s.recall(), s.tp + s.fn);
  }
  for (const auto& m : dedupe_mistakes) std::printf("  %s\n", m.c_str());
  return 0;
}
