#include "arbiter/routing/case_signals.h"

#include <algorithm>

namespace arbiter::routing {

CaseSignals::CaseSignals(signals::ScanConfig scan, signals::DuplicateIndexOptions dedupe)
    : scan_(std::move(scan)), index_(dedupe) {}

Result<ComputedSignals> CaseSignals::Compute(const sources::Case& c) {
  const std::string text = c.AllText();
  const signals::ScanResult scan = signals::ScanText(text, scan_);
  SensitivitySignal sensitivity;
  sensitivity.level = std::string(signals::LevelName(scan.level));
  for (size_t k = 0; k < signals::kKindCount; ++k) {
    if (scan.counts[k] > 0) {
      sensitivity.kinds.emplace_back(signals::KindName(static_cast<signals::Kind>(k)));
    }
  }
  std::sort(sensitivity.kinds.begin(), sensitivity.kinds.end());

  DuplicateSignal duplicate;
  const signals::DuplicateMatch match = index_.Query(text);
  // A case already open (re-routed) is not a duplicate of itself.
  if (match.is_duplicate() && match.duplicate_of != c.id) {
    duplicate.duplicate_of = match.duplicate_of;
    duplicate.similarity = match.similarity;
    duplicate.cluster_size = static_cast<std::int64_t>(match.cluster_size) + 1;
  }
  ComputedSignals out;
  out.sensitivity = std::move(sensitivity);
  out.duplicate = std::move(duplicate);
  return out;
}

void CaseSignals::CaseOpened(const sources::Case& c) {
  if (index_.Contains(c.id)) return;
  // An id or text the index refuses (over its limits) only means the case is not found as a
  // duplicate later; routing has already happened.
  (void)index_.Add(c.id, c.AllText());
}

void CaseSignals::CaseClosed(std::string_view case_id) { (void)index_.Remove(case_id); }

}  // namespace arbiter::routing
