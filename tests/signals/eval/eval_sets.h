// Evaluation sets for the signals module, generated at test time from ../shared/data/tickets (never
// copied into the repository), and the scoring of the scanner and the duplicate index on them.
//
// Sensitivity: ticket texts (multilingual support tickets, placeholder-laden retail tickets, and
// ABCD conversations with their fictional personal data) with known spans of each kind injected,
// plus hard negatives (Luhn-failing order numbers, dates, versions, bad IBAN check digits, invalid
// SSNs, hashes). Duplicates: both CSVs' exact duplicates plus re-greeted, lightly edited, reordered
// and re-sent copies of open tickets; distinct tickets of the same queue and type as negatives.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "arbiter/signals/sensitivity.h"

namespace arbiter::signals::eval {

// RFC 4180 CSV (quoted fields may hold commas, quotes and newlines).
std::vector<std::vector<std::string>> ParseCsv(const std::string& text);

struct LabelledSpan {
  Kind kind;
  size_t begin;
  size_t end;
};
struct LabelledText {
  std::string origin;  // "tobi", "bitext", "abcd"
  std::string text;
  std::vector<LabelledSpan> spans;
};

// nullopt when the shared ticket files are absent.
std::optional<std::vector<LabelledText>> BuildSensitivitySet(const std::filesystem::path& tickets,
                                                             std::uint64_t seed);

struct Score {
  size_t tp = 0, fp = 0, fn = 0;
  double precision() const { return tp + fp == 0 ? 1.0 : double(tp) / double(tp + fp); }
  double recall() const { return tp + fn == 0 ? 1.0 : double(tp) / double(tp + fn); }
};

// A predicted span is a true positive when it overlaps an unmatched labelled span of its kind.
// `mistakes` (optional) receives up to 40 examples of errors for diagnosis.
std::array<Score, kKindCount> ScoreSensitivity(const std::vector<LabelledText>& set,
                                               std::vector<std::string>* mistakes);

struct DedupeQuery {
  std::string text;
  std::string expected;  // the open case it duplicates; empty for a negative
  std::string variant;   // "exact-csv", "exact-bitext", "regreeted", "edited", "reordered",
                         // "resent", "negative", "paraphrase-bitext"
  // False for the stress queries kept out of precision and recall: distinct one-line bitext
  // utterances of an intent some open case has. They differ from an open utterance by a word or
  // two ("update info on free acount" / "update info on free account") — by the definition above
  // a light edit — so neither label is right; their duplicate rate is reported on its own.
  bool scored = true;
};
struct DedupeSet {
  std::vector<std::pair<std::string, std::string>> open_cases;  // (id, text)
  std::vector<DedupeQuery> queries;
};
std::optional<DedupeSet> BuildDedupeSet(const std::filesystem::path& tickets, std::uint64_t seed);

struct DedupeResult {
  Score overall;
  size_t negatives = 0;
  size_t false_duplicates = 0;  // negatives reported as duplicates
  size_t paraphrases = 0;       // unscored stress queries
  size_t paraphrases_matched = 0;
  std::vector<std::pair<std::string, Score>> by_variant;
};
// Builds an index (with the given threshold) over the open cases and scores the queries.
// `mistakes` (optional) receives up to 40 examples of errors for diagnosis.
DedupeResult ScoreDedupe(const DedupeSet& set, double threshold,
                         std::vector<std::string>* mistakes = nullptr);

}  // namespace arbiter::signals::eval
