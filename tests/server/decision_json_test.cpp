#include "arbiter/server/internal/decision_json.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "arbiter/cedar/value.h"
#include "arbiter/common/json.h"

namespace arbiter::server::internal {
namespace {

using routing::RoutingDecision;

std::string Direct(const RoutingDecision& d) {
  std::string out;
  AppendRoutingDecisionJson(d, out);
  return out;
}

std::string Tree(const RoutingDecision& d) { return ToJson(routing::RoutingDecisionToJson(d)); }

// POST /v1/cases and /v1/route answer with the direct text; clients and the OpenAPI examples
// rely on exactly the tree's bytes (member order included), for every shape of decision.
TEST(DecisionJson, ByteIdenticalToTheTreeForEveryShape) {
  std::mt19937_64 rng(91127);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
  const std::vector<std::string> texts = {"",
                                          "support-ai",
                                          "AgentPool::\"support-ai\"",
                                          "tab\tquote\"back\\slash",
                                          "\x01\x1f ctrl",
                                          "caf\xc3\xa9"};
  auto text = [&] { return texts[static_cast<size_t>(pick(static_cast<int>(texts.size())))]; };
  auto value = [&](auto& self, int depth) -> cedar::Value {
    switch (pick(depth > 1 ? 4 : 6)) {
      case 0: return cedar::Value::Bool(pick(2) == 1);
      case 1: return cedar::Value::Long(static_cast<std::int64_t>(rng()));
      case 2: return cedar::Value::String(text());
      case 3: return cedar::Value::Entity(cedar::EntityUid("Queue", text()));
      case 4: return cedar::Value::Record({{"a", cedar::Value::Long(1)}});
      default: {
        std::vector<cedar::Value> elements;
        for (int i = pick(4); i > 0; --i) elements.push_back(self(self, depth + 1));
        return cedar::Value::Set(std::move(elements));
      }
    }
  };
  for (int i = 0; i < 1000; ++i) {
    RoutingDecision d;
    d.route = static_cast<routing::Route>(pick(3));
    d.queue = text();
    d.priority = static_cast<std::int64_t>(rng()) >> pick(64);
    d.escalation_policy = text();
    for (int r = pick(4); r > 0; --r) {
      routing::PolicyReason reason;
      reason.policy_id = text();
      reason.forbid = pick(2) == 1;
      const char* keys[] = {"id", "reason", "escalate", "priority", "approval"};
      for (const char* k : keys) {
        if (pick(2) == 0) continue;
        if (pick(4) == 0) {
          reason.annotations.emplace_back(k, std::nullopt);
        } else {
          reason.annotations.emplace_back(k, text());
        }
      }
      d.reasons.push_back(std::move(reason));
    }
    for (int e = pick(3); e > 0; --e) d.errors.push_back({text(), text()});
    d.fail_safe = pick(2) == 1;
    d.principal = text();
    const char* names[] = {"pii", "confidence_pct", "tier", "labels", "language"};
    for (const char* n : names) {
      if (pick(2) == 0) d.signals.emplace_back(n, value(value, 0));
    }
    d.bundle_hash = text();
    d.pack_version = text();
    ASSERT_EQ(Direct(d), Tree(d)) << "iteration " << i;
  }
}

// A repeated key (never produced by the evaluator) still gives the tree's bytes.
TEST(DecisionJson, RepeatedKeysFallBackToTheTree) {
  RoutingDecision d;
  d.signals.emplace_back("tier", cedar::Value::String("gold"));
  d.signals.emplace_back("tier", cedar::Value::String("free"));
  routing::PolicyReason reason;
  reason.policy_id = "p";
  reason.annotations = {{"reason", "a"}, {"reason", "b"}};
  d.reasons.push_back(reason);
  EXPECT_EQ(Direct(d), Tree(d));
  EXPECT_NE(Direct(d).find("\"tier\":\"free\""), std::string::npos);
}

}  // namespace
}  // namespace arbiter::server::internal
