// Pack tests: JSON Lines files in a pack's tests/ folder, one test per line, pinning what the
// pack must decide for a case. Format (docs/POLICY_PACKS.md has the full reference):
//
//   {"name": "fraud-goes-to-fraud-queue",
//    "case": {...native case...}, "signals": {"sensitivity": {...}, "duplicate": {...}},
//    "agent": "Agent::\"triage-bot-1\"",                       // optional ai_handle principal
//    "expect": {"route": "human", "queue": "fraud", "reasons": ["fraud-indicator"]},
//    "intents": [{"agent": "Agent::\"refund-agent-1\"", "intent": "refund",
//                 "params": {"amount_cents": 50000},
//                 "expect": {"decision": "pending_approval", "approvals": ["supervisor"]},
//                 "approve": {"by": "Human::\"alice\"",
//                             "expect": {"approval": "allow", "decision": "allow"}}}],
//    "overrides": [{"by": "Human::\"bob\"", "to_route": "ai", "expect": "deny"}]}
//
// `reasons` compares the set of determining policy ids exactly.
//
//   ARBITER_TRY(PackTestReport r, RunPackTests(*bundle, bundle->dir() / "tests"));
//   std::cout << r.passed << " passed, " << r.failed << " failed\n";
#pragma once

#include <boost/json/value.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "arbiter/common/status.h"
#include "arbiter/routing/bundle.h"

namespace arbiter::routing {

struct PackTestResult {
  std::string file;
  size_t line = 0;
  std::string name;
  bool passed = false;
  std::vector<std::string> problems;  // what differed, one line each
};

struct PackTestReport {
  size_t passed = 0;
  size_t failed = 0;
  std::vector<PackTestResult> results;
};

// Runs one test (a parsed line). Malformed tests fail with the problem as their message.
PackTestResult RunPackTest(const Bundle& bundle, const boost::json::value& test);

// Runs every *.jsonl file in `dir` (sorted by name). kNotFound if the folder is missing.
Result<PackTestReport> RunPackTests(const Bundle& bundle, const std::filesystem::path& dir);

}  // namespace arbiter::routing
