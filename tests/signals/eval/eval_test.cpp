// Scores the scanner and the duplicate index on evaluation sets generated from ../shared (skips
// when it is absent) and holds them to the targets. `signals_eval` prints the full report.
#include <gtest/gtest.h>

#include "arbiter/signals/duplicates.h"

#include "eval/eval_sets.h"
#include "support/shared_data.h"

namespace arbiter::signals::eval {
namespace {

constexpr std::uint64_t kSeed = 20261127;

TEST(SignalsEval, ScannerPrecisionAndRecallPerKind) {
  ARBITER_REQUIRE_SHARED(tickets, "data/tickets");
  auto set = BuildSensitivitySet(tickets, kSeed);
  ASSERT_TRUE(set.has_value()) << "ticket files missing under " << tickets;
  std::vector<std::string> mistakes;
  const auto scores = ScoreSensitivity(*set, &mistakes);
  std::string report;
  for (const auto& m : mistakes) report += m + "\n";
  for (Kind k : kAllKinds) {
    const Score& s = scores[static_cast<size_t>(k)];
    EXPECT_GE(s.tp + s.fn, 100u) << KindName(k) << ": too few labelled spans";
    EXPECT_GE(s.precision(), 0.95) << KindName(k) << " precision\n" << report;
    EXPECT_GE(s.recall(), 0.95) << KindName(k) << " recall\n" << report;
  }
}

TEST(SignalsEval, DuplicatePrecisionAndRecall) {
  ARBITER_REQUIRE_SHARED(tickets, "data/tickets");
  auto set = BuildDedupeSet(tickets, kSeed);
  ASSERT_TRUE(set.has_value());
  ASSERT_GE(set->open_cases.size(), 400u);
  const DedupeResult r = ScoreDedupe(*set, DuplicateIndexOptions{}.threshold);
  EXPECT_GE(r.negatives, 300u);
  EXPECT_GE(r.overall.precision(), 0.9);
  EXPECT_GE(r.overall.recall(), 0.9);
  // Both CSVs' exact duplicates are in the set, and all of them are found.
  size_t exact_bitext = 0;
  for (const auto& [variant, score] : r.by_variant) {
    if (variant == "exact-bitext") exact_bitext = score.tp + score.fn;
    if (variant == "exact-bitext" || variant == "exact-csv") {
      EXPECT_EQ(score.fn, 0u) << variant;
    }
  }
  EXPECT_GE(exact_bitext, 59u);
}

}  // namespace
}  // namespace arbiter::signals::eval
