// `arbiter route`, `arbiter test` and `arbiter replay`: the routing engine on the command line.
//
//   arbiter route --pack examples/support case.json [--json] [--agent 'Agent::"bot-1"']
//   arbiter test --pack examples/support [--json] [--verbose]
//   arbiter replay --pack NEW [--baseline OLD] cases.jsonl [--json]
//
// Exit codes: 0 success; 1 bad input (unreadable or malformed pack, case or option); `test` exits
// 2 when a pack test fails.
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "arbiter/cedar/entities.h"
#include "arbiter/cli/command_registry.h"
#include "arbiter/cli/input.h"
#include "arbiter/common/json.h"
#include "arbiter/routing/bundle.h"
#include "arbiter/routing/pack_tests.h"
#include "arbiter/routing/replay.h"
#include "arbiter/routing/router.h"
#include "arbiter/sources/case.h"

namespace arbiter::cli {
namespace {

namespace fs = std::filesystem;
using routing::Bundle;

int Fail(const std::string& message) {
  std::cerr << "arbiter: " << message << "\n";
  return 1;
}

Result<std::shared_ptr<const Bundle>> Load(const std::string& dir) {
  auto b = routing::LoadBundle(dir);
  if (!b && b.error().message().rfind("pack `", 0) != 0) {
    return b.error().WithContext("pack `" + dir + "`");
  }
  return b;
}

// A case file holds one Case (or {case, signals}); the server's own body limit is far smaller.
constexpr size_t kMaxCaseFile = 16u << 20;

struct RouteOptions {
  std::string pack;
  std::vector<std::string> cases;
  std::string agent;
  bool json = false;
};

int RunRoute(const RouteOptions& o) {
  auto bundle = Load(o.pack);
  if (!bundle) return Fail(bundle.error().message());
  std::optional<cedar::EntityUid> agent;
  if (!o.agent.empty()) {
    auto uid = cedar::ParseEntityUid(o.agent);
    if (!uid) return Fail("--agent: " + uid.error().message());
    agent = *uid;
  }
  for (size_t i = 0; i < o.cases.size(); ++i) {
    const std::string& path = o.cases[i];
    auto text = ReadInput(path, kMaxCaseFile);
    if (!text) return Fail(text.error().message());
    auto json = ParseJson(*text);
    if (!json) return Fail(path + ": " + json.error().message());
    const boost::json::value* case_json = &*json;
    routing::ComputedSignals signals;
    if (json->is_object() && json->get_object().contains("case")) {
      case_json = json->get_object().if_contains("case");
      if (const auto* s = json->get_object().if_contains("signals")) {
        auto parsed = routing::SignalsFromJson(*s, "signals");
        if (!parsed) return Fail(path + ": " + parsed.error().message());
        signals = std::move(parsed).value();
      }
    }
    auto c = sources::CaseFromJson(*case_json);
    if (!c) return Fail(path + ": " + c.error().message());
    routing::CaseView view = routing::BuildCaseView(**bundle, *c, signals);
    routing::RoutingDecision d = routing::EvaluateRoute(**bundle, view, agent);
    if (o.json) {
      boost::json::object out = routing::RoutingDecisionToJson(d);
      out["case_id"] = c->id;
      std::cout << ToJson(out) << "\n";
    } else {
      if (o.cases.size() > 1) std::cout << (i ? "\n" : "") << "case " << c->id << "\n";
      std::cout << routing::ExplainDecision(**bundle, d);
    }
  }
  return 0;
}

struct TestOptions {
  std::string pack;
  bool json = false;
  bool verbose = false;
};

int RunTest(const TestOptions& o) {
  auto bundle = Load(o.pack);
  if (!bundle) return Fail(bundle.error().message());
  auto report = routing::RunPackTests(**bundle, fs::path(o.pack) / "tests");
  if (!report) return Fail(report.error().message());
  if (o.json) {
    boost::json::array results;
    for (const auto& r : report->results) {
      boost::json::array problems;
      for (const auto& p : r.problems) problems.emplace_back(p);
      results.push_back(boost::json::object{{"file", r.file},
                                            {"line", r.line},
                                            {"name", r.name},
                                            {"passed", r.passed},
                                            {"problems", std::move(problems)}});
    }
    std::cout << ToJson(boost::json::object{{"bundle", (*bundle)->hash()},
                                            {"passed", report->passed},
                                            {"failed", report->failed},
                                            {"results", std::move(results)}})
              << "\n";
  } else {
    for (const auto& r : report->results) {
      if (r.passed) {
        if (o.verbose) std::cout << "ok    " << r.name << "\n";
        continue;
      }
      std::cout << "FAIL  " << r.name << "  (" << r.file << ":" << r.line << ")\n";
      for (const auto& p : r.problems) std::cout << "      " << p << "\n";
    }
    std::cout << report->passed << " passed, " << report->failed << " failed\n";
  }
  return report->failed == 0 ? 0 : 2;
}

struct ReplayOptions {
  std::string pack;
  std::string baseline;
  std::string cases;
  bool json = false;
  size_t show = 20;
};

class ProgressBar {
 public:
  explicit ProgressBar(std::uintmax_t total) : total_(total), enabled_(isatty(2) != 0) {}
  void Update(std::uintmax_t done, size_t cases) {
    if (!enabled_ || total_ == 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const int width = 40;
    const double frac = static_cast<double>(done) / static_cast<double>(total_);
    const int filled = static_cast<int>(frac * width);
    std::fprintf(stderr, "\r[%s%s] %3d%%  %zu cases", std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), static_cast<int>(frac * 100), cases);
    std::fflush(stderr);
  }
  void Finish() {
    if (enabled_) std::fprintf(stderr, "\r%s\r", std::string(70, ' ').c_str());
  }

 private:
  std::uintmax_t total_;
  bool enabled_;
  std::chrono::steady_clock::time_point last_{};
};

int RunReplay(const ReplayOptions& o) {
  auto candidate = Load(o.pack);
  if (!candidate) return Fail(candidate.error().message());
  std::shared_ptr<const Bundle> baseline;
  if (!o.baseline.empty()) {
    auto b = Load(o.baseline);
    if (!b) return Fail(b.error().message());
    baseline = *b;
  }
  std::ifstream in(o.cases, std::ios::binary);
  if (!in) return Fail("`" + o.cases + "`: cannot open");
  std::error_code ec;
  ProgressBar progress(fs::file_size(o.cases, ec));
  routing::Replayer replay(baseline.get(), **candidate);
  std::vector<routing::ReplayRow> shown;
  std::string line;
  size_t line_no = 0;
  std::uintmax_t bytes = 0;
  while (std::getline(in, line)) {
    ++line_no;
    bytes += line.size() + 1;
    if (line.empty()) continue;
    auto row = replay.Add(line, line_no);
    if (!row) {
      progress.Finish();
      return Fail(o.cases + ": " + row.error().message());
    }
    if (o.json) {
      std::cout << ToJson(routing::ReplayRowToJson(*row)) << "\n";
    } else if (row->moved && shown.size() < o.show) {
      shown.push_back(std::move(row).value());
    }
    if ((line_no & 255) == 0) progress.Update(bytes, replay.summary().cases);
  }
  progress.Finish();
  if (o.json) {
    std::cout << ToJson(boost::json::object{
                     {"summary", routing::ReplaySummaryToJson(replay.summary())},
                     {"bundle", (*candidate)->hash()},
                     {"baseline", baseline ? boost::json::value(baseline->hash())
                                           : boost::json::value(nullptr)}})
              << "\n";
    return 0;
  }
  std::cout << routing::FormatReplaySummary(replay.summary(), baseline != nullptr);
  if (!shown.empty()) {
    std::cout << "first moved cases:\n";
    for (const auto& r : shown) {
      std::cout << "  " << r.case_id << ": " << routing::Destination(*r.baseline) << " -> "
                << routing::Destination(r.candidate);
      if (!r.candidate.escalation_policy.empty()) {
        std::cout << " (" << r.candidate.escalation_policy << ")";
      }
      std::cout << "\n";
    }
  }
  return 0;
}

void AddRoutingCommands(CLI::App& app, CommandContext& ctx) {
  auto route_opts = std::make_shared<RouteOptions>();
  auto* route = app.add_subcommand(
      "route",
      "Route a case under a policy pack and explain the decision (policies, signals, queue)");
  route->add_option("--pack", route_opts->pack, "Policy pack folder")->required();
  route
      ->add_option("cases", route_opts->cases,
                   "Case JSON file(s): a native case, or {\"case\": ..., \"signals\": ...}")
      ->required();
  route->add_option("--agent", route_opts->agent,
                    "Principal of ai_handle (default: the pack's ai_principal)");
  route->add_flag("--json", route_opts->json, "One JSON decision per case");
  route->callback([route_opts, &ctx] { ctx.exit_code = RunRoute(*route_opts); });

  auto test_opts = std::make_shared<TestOptions>();
  auto* test = app.add_subcommand(
      "test", "Run a policy pack's tests (tests/*.jsonl); exits 2 if any test fails");
  test->add_option("--pack", test_opts->pack, "Policy pack folder")->required();
  test->add_flag("--json", test_opts->json, "Machine-readable report");
  test->add_flag("-v,--verbose", test_opts->verbose, "List passing tests too");
  test->callback([test_opts, &ctx] { ctx.exit_code = RunTest(*test_opts); });

  auto replay_opts = std::make_shared<ReplayOptions>();
  auto* replay = app.add_subcommand(
      "replay",
      "What-if: route historical cases under a new pack (and a baseline) and summarise the moves");
  replay->add_option("--pack", replay_opts->pack, "The new policy pack")->required();
  replay->add_option("--baseline", replay_opts->baseline, "The policy pack in force today");
  replay->add_option("cases", replay_opts->cases, "Cases, one JSON per line")->required();
  replay->add_flag("--json", replay_opts->json, "One JSON decision per case, then the summary");
  replay->add_option("--show", replay_opts->show, "How many moved cases to list (default 20)");
  replay->callback([replay_opts, &ctx] { ctx.exit_code = RunReplay(*replay_opts); });
}

}  // namespace
}  // namespace arbiter::cli

ARBITER_COMMAND_GROUP(routing, arbiter::cli::AddRoutingCommands);
