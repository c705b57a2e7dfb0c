// The SignalComputer that Arbiter runs in production: data sensitivity from the signals module's
// scanner and near-duplicates from its index of open cases.
//
//   CaseSignals signals;                         // default scanner levels, duplicate threshold
//   RoutingService service({..., .signals = &signals, ...});
//   // RouteCase computes sensitivity and duplicates, then adds the case to the index;
//   // Close removes it.
#pragma once

#include <memory>

#include "arbiter/routing/signals.h"
#include "arbiter/signals/duplicates.h"
#include "arbiter/signals/sensitivity.h"

namespace arbiter::routing {

class CaseSignals final : public SignalComputer {
 public:
  explicit CaseSignals(signals::ScanConfig scan = {}, signals::DuplicateIndexOptions dedupe = {});

  // Scans AllText() of the case and asks the index for the most similar other open case.
  // Thread-safe.
  Result<ComputedSignals> Compute(const sources::Case& c) override;
  // Adds the case to the duplicate index (a case open already stays as it is). The text's
  // fingerprint that Compute made on this thread is reused when the case's text is the same
  // (RouteCase computes, routes, then opens the case on one thread).
  void CaseOpened(const sources::Case& c) override;
  void CaseClosed(std::string_view case_id) override;

  const signals::DuplicateIndex& index() const { return index_; }

 private:
  signals::ScanConfig scan_;
  signals::DuplicateIndex index_;
};

}  // namespace arbiter::routing
