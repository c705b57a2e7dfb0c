#include "arbiter/routing/replay.h"

#include <boost/json.hpp>

#include <algorithm>
#include <set>
#include <vector>

#include "arbiter/common/json.h"
#include "arbiter/sources/case.h"

namespace arbiter::routing {
namespace {

constexpr size_t kMaxLineBytes = 4u << 20;

std::set<std::string> IdSet(const RoutingDecision& d) {
  std::set<std::string> ids;
  for (const auto& r : d.reasons) ids.insert(r.policy_id);
  return ids;
}

template <typename Map>
std::vector<std::pair<typename Map::key_type, size_t>> ByCount(const Map& m) {
  std::vector<std::pair<typename Map::key_type, size_t>> v(m.begin(), m.end());
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return v;
}

}  // namespace

std::string Destination(const RoutingDecision& d) {
  switch (d.route) {
    case Route::kAi: return "ai";
    case Route::kBlocked: return "blocked";
    case Route::kHuman: return "human:" + d.queue;
  }
  return "human:" + d.queue;
}

Result<ReplayRow> Replayer::Add(std::string_view line, size_t line_no) {
  const std::string where = "line " + std::to_string(line_no);
  if (line.size() > kMaxLineBytes) {
    return Status::ResourceExhausted(where + ": longer than " + std::to_string(kMaxLineBytes) +
                                     " bytes");
  }
  auto json = ParseJson(line);
  if (!json) return json.error().WithContext(where);
  const boost::json::value* case_json = &*json;
  ComputedSignals signals;
  if (json->is_object() && json->get_object().contains("case")) {
    const auto& o = json->get_object();
    case_json = o.if_contains("case");
    if (const auto* s = o.if_contains("signals")) {
      auto parsed = SignalsFromJson(*s, "signals");
      if (!parsed) return parsed.error().WithContext(where);
      signals = std::move(parsed).value();
    }
  }
  auto c = sources::CaseFromJson(*case_json);
  if (!c) return c.error().WithContext(where);

  ReplayRow row;
  row.case_id = c->id;
  {
    CaseView view = BuildCaseView(candidate_, *c, signals);
    row.candidate = EvaluateRoute(candidate_, view, std::nullopt);
  }
  const std::string to = Destination(row.candidate);
  summary_.cases++;
  summary_.candidate_destinations[to]++;
  if (!row.candidate.errors.empty()) summary_.errors++;
  if (row.candidate.fail_safe) summary_.fail_safe++;
  if (baseline_ != nullptr) {
    CaseView view = BuildCaseView(*baseline_, *c, signals);
    row.baseline = EvaluateRoute(*baseline_, view, std::nullopt);
    const std::string from = Destination(*row.baseline);
    summary_.baseline_destinations[from]++;
    if (from != to) {
      row.moved = true;
      summary_.moved++;
      summary_.moves[{from, to}]++;
      const Route a = row.baseline->route;
      const Route b = row.candidate.route;
      if (a == Route::kAi && b == Route::kHuman) summary_.ai_to_human++;
      if (a == Route::kHuman && b == Route::kAi) summary_.human_to_ai++;
      if (a == Route::kHuman && b == Route::kHuman) summary_.queue_changes++;
      if (a != Route::kBlocked && b == Route::kBlocked) summary_.to_blocked++;
      if (a == Route::kBlocked && b != Route::kBlocked) summary_.from_blocked++;
      const std::set<std::string> old_ids = IdSet(*row.baseline);
      const std::set<std::string> new_ids = IdSet(row.candidate);
      for (const auto& id : new_ids) {
        if (old_ids.count(id) == 0) summary_.because["+" + id]++;
      }
      for (const auto& id : old_ids) {
        if (new_ids.count(id) == 0) summary_.because["-" + id]++;
      }
    }
  }
  return row;
}

boost::json::object ReplayRowToJson(const ReplayRow& row) {
  boost::json::object o;
  o["case_id"] = row.case_id;
  o["decision"] = RoutingDecisionToJson(row.candidate);
  if (row.baseline) {
    o["baseline"] = RoutingDecisionToJson(*row.baseline);
    o["moved"] = row.moved;
  }
  return o;
}

boost::json::object ReplaySummaryToJson(const ReplaySummary& s) {
  boost::json::object o;
  o["cases"] = s.cases;
  o["moved"] = s.moved;
  o["ai_to_human"] = s.ai_to_human;
  o["human_to_ai"] = s.human_to_ai;
  o["queue_changes"] = s.queue_changes;
  o["to_blocked"] = s.to_blocked;
  o["from_blocked"] = s.from_blocked;
  o["errors"] = s.errors;
  o["fail_safe"] = s.fail_safe;
  boost::json::object cand;
  for (const auto& [k, v] : s.candidate_destinations) cand[k] = v;
  o["destinations"] = std::move(cand);
  boost::json::object base;
  for (const auto& [k, v] : s.baseline_destinations) base[k] = v;
  o["baseline_destinations"] = std::move(base);
  boost::json::array moves;
  for (const auto& [k, v] : ByCount(s.moves)) {
    moves.push_back(boost::json::object{{"from", k.first}, {"to", k.second}, {"cases", v}});
  }
  o["moves"] = std::move(moves);
  boost::json::array because;
  for (const auto& [k, v] : ByCount(s.because)) {
    because.push_back(
        boost::json::object{{"policy", k.substr(1)},
                            {"change", k[0] == '+' ? "now determining" : "no longer determining"},
                            {"cases", v}});
  }
  o["because"] = std::move(because);
  return o;
}

std::string FormatReplaySummary(const ReplaySummary& s, bool has_baseline) {
  std::string out = std::to_string(s.cases) + " cases replayed";
  if (!has_baseline) {
    out += "\ndestinations:\n";
    for (const auto& [k, v] : ByCount(s.candidate_destinations)) {
      out += "  " + std::to_string(v) + "  " + k + "\n";
    }
  } else {
    out += ", " + std::to_string(s.moved) + " would move\n";
    out += "  AI -> human:     " + std::to_string(s.ai_to_human) + "\n";
    out += "  human -> AI:     " + std::to_string(s.human_to_ai) + "\n";
    out += "  queue -> queue:  " + std::to_string(s.queue_changes) + "\n";
    out += "  -> blocked:      " + std::to_string(s.to_blocked) + "\n";
    out += "  blocked ->:      " + std::to_string(s.from_blocked) + "\n";
    if (!s.moves.empty()) out += "moves:\n";
    for (const auto& [k, v] : ByCount(s.moves)) {
      out += "  " + std::to_string(v) + "  " + k.first + " -> " + k.second + "\n";
    }
    if (!s.because.empty()) out += "because of:\n";
    for (const auto& [k, v] : ByCount(s.because)) {
      out += "  " + std::to_string(v) + "  " + k.substr(1) +
             (k[0] == '+' ? " (now determining)" : " (no longer determining)") + "\n";
    }
  }
  if (s.errors != 0) {
    out += "evaluation errors: " + std::to_string(s.errors) + " cases (" +
           std::to_string(s.fail_safe) + " sent to a person by the fail-safe)\n";
  }
  return out;
}

}  // namespace arbiter::routing
