// What-if replay: routes historical cases under a candidate bundle (and optionally a baseline)
// and summarises what would change: how many cases move between AI and people, between which
// queues, and because of which policies.
//
//   Replayer replay(baseline.get(), *candidate);         // baseline may be null
//   while (std::getline(in, line)) {
//     auto row = replay.Add(line, ++line_no);            // one JSON case (or {"case","signals"})
//     if (!row) return row.status();                     // malformed line: file, line and reason
//   }
//   PrintSummary(replay.summary());
#pragma once

#include <boost/json/object.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "arbiter/common/status.h"
#include "arbiter/routing/bundle.h"
#include "arbiter/routing/router.h"

namespace arbiter::routing {

struct ReplayRow {
  std::string case_id;
  std::optional<RoutingDecision> baseline;
  RoutingDecision candidate;
  bool moved = false;  // route or queue differs from the baseline
};

// "ai", "blocked", or "human:<queue>".
std::string Destination(const RoutingDecision& d);

struct ReplaySummary {
  size_t cases = 0;
  size_t moved = 0;
  size_t ai_to_human = 0;
  size_t human_to_ai = 0;
  size_t queue_changes = 0;  // human to human, another queue
  size_t to_blocked = 0;
  size_t from_blocked = 0;
  size_t errors = 0;     // cases whose candidate decision had evaluation errors
  size_t fail_safe = 0;  // ... and were sent to a person because of them
  std::map<std::string, size_t> candidate_destinations;  // Destination() -> cases
  std::map<std::string, size_t> baseline_destinations;
  std::map<std::pair<std::string, std::string>, size_t> moves;  // (from, to) -> cases
  // Policies that explain moves: determining in one version and not the other, for moved cases.
  std::map<std::string, size_t> because;
};

class Replayer {
 public:
  // Both bundles must outlive the replayer; `baseline` may be null.
  Replayer(const Bundle* baseline, const Bundle& candidate)
      : baseline_(baseline), candidate_(candidate) {}

  // Parses one line (a native case, or {"case": ..., "signals": ...}), decides it under both
  // versions and adds it to the summary. Errors name the line: "line 12: case.id: ...".
  Result<ReplayRow> Add(std::string_view line, size_t line_no);

  const ReplaySummary& summary() const { return summary_; }

 private:
  const Bundle* baseline_;
  const Bundle& candidate_;
  ReplaySummary summary_;
};

boost::json::object ReplayRowToJson(const ReplayRow& row);
boost::json::object ReplaySummaryToJson(const ReplaySummary& s);
std::string FormatReplaySummary(const ReplaySummary& s, bool has_baseline);

}  // namespace arbiter::routing
