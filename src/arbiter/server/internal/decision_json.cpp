#include "arbiter/server/internal/decision_json.h"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <utility>
#include <vector>

#include "arbiter/cedar/value.h"
#include "arbiter/common/json.h"

namespace arbiter::server::internal {
namespace {

void AppendInt(std::int64_t v, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

// As routing's CedarValueToJson: bool, long, string, sets of them; anything else as its Cedar text.
void AppendCedarValue(const cedar::Value& v, std::string& out) {
  switch (v.kind()) {
    case cedar::ValueKind::kBool: out += v.as_bool() ? "true" : "false"; return;
    case cedar::ValueKind::kLong: AppendInt(v.as_long(), out); return;
    case cedar::ValueKind::kString: AppendJsonString(v.as_string(), out); return;
    case cedar::ValueKind::kSet: {
      out += '[';
      bool first = true;
      for (const auto& e : v.as_set().elements()) {
        if (!first) out += ',';
        first = false;
        AppendCedarValue(e, out);
      }
      out += ']';
      return;
    }
    default: AppendJsonString(v.ToString(), out); return;
  }
}

// A boost::json object keeps the first position and the last value of a repeated key; the direct
// writer handles only the (normal) case without repeats and falls back to the tree otherwise.
template <typename Pairs, typename Skip>
bool HasRepeatedKey(const Pairs& pairs, Skip skip) {
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (skip(pairs[i].first)) continue;
    for (size_t j = i + 1; j < pairs.size(); ++j) {
      if (pairs[i].first == pairs[j].first) return true;
    }
  }
  return false;
}

bool NeedsTree(const routing::RoutingDecision& d) {
  if (HasRepeatedKey(d.signals, [](const std::string&) { return false; })) return true;
  for (const auto& r : d.reasons) {
    if (HasRepeatedKey(r.annotations, [](const std::string& k) { return k == "id"; })) return true;
  }
  return false;
}

}  // namespace

void AppendRoutingDecisionJson(const routing::RoutingDecision& d, std::string& out) {
  if (NeedsTree(d)) {
    out += ToJson(routing::RoutingDecisionToJson(d));
    return;
  }
  out += "{\"route\":";
  AppendJsonString(routing::RouteName(d.route), out);
  out += ",\"queue\":";
  if (d.queue.empty()) {
    out += "null";
  } else {
    AppendJsonString(d.queue, out);
  }
  if (!d.escalation_policy.empty()) {
    out += ",\"escalation\":{\"policy\":";
    AppendJsonString(d.escalation_policy, out);
    out += ",\"priority\":";
    AppendInt(d.priority, out);
    out += '}';
  }
  out += ",\"fail_safe\":";
  out += d.fail_safe ? "true" : "false";
  out += ",\"principal\":";
  AppendJsonString(d.principal, out);
  out += ",\"reasons\":[";
  for (size_t i = 0; i < d.reasons.size(); ++i) {
    const auto& r = d.reasons[i];
    if (i > 0) out += ',';
    out += "{\"policy\":";
    AppendJsonString(r.policy_id, out);
    out += ",\"effect\":";
    out += r.forbid ? "\"forbid\"" : "\"permit\"";
    out += ",\"annotations\":{";
    bool first = true;
    for (const auto& [k, v] : r.annotations) {
      if (k == "id") continue;
      if (!first) out += ',';
      first = false;
      AppendJsonString(k, out);
      out += ':';
      if (v) {
        AppendJsonString(*v, out);
      } else {
        out += "null";
      }
    }
    out += "}}";
  }
  out += "],\"errors\":[";
  for (size_t i = 0; i < d.errors.size(); ++i) {
    const auto& e = d.errors[i];
    if (i > 0) out += ',';
    out += '{';
    if (!e.policy_id.empty()) {
      out += "\"policy\":";
      AppendJsonString(e.policy_id, out);
      out += ',';
    }
    out += "\"message\":";
    AppendJsonString(e.message, out);
    out += '}';
  }
  out += "],\"signals\":{";
  for (size_t i = 0; i < d.signals.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonString(d.signals[i].first, out);
    out += ':';
    AppendCedarValue(d.signals[i].second, out);
  }
  out += "},\"bundle\":{\"hash\":";
  AppendJsonString(d.bundle_hash, out);
  out += ",\"version\":";
  AppendJsonString(d.pack_version, out);
  out += "}}";
}

}  // namespace arbiter::server::internal
