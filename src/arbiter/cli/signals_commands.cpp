// `arbiter signals scan FILE|-` (sensitivity kinds, level and the redacted text) and
// `arbiter signals dedupe CASES.jsonl` (duplicate clusters among cases, in file order).
#include <CLI/CLI.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <iostream>
#include <map>
#include <sstream>

#include "arbiter/cli/command_registry.h"
#include "arbiter/cli/input.h"
#include "arbiter/common/json.h"
#include "arbiter/signals/duplicates.h"
#include "arbiter/signals/sensitivity.h"
#include "arbiter/sources/case.h"

namespace arbiter::cli {
namespace {

constexpr size_t kMaxScanInput = 64u << 20;
constexpr size_t kMaxCasesInput = 1u << 30;

int RunScan(const std::string& path, const std::string& config_path, bool json) {
  signals::ScanConfig config;
  if (!config_path.empty()) {
    auto text = ReadInput(config_path, 1u << 20);
    if (!text) {
      std::cerr << "arbiter signals scan: config: " << text.error().message() << "\n";
      return 1;
    }
    auto doc = ParseJson(*text);
    if (!doc) {
      std::cerr << "arbiter signals scan: " << config_path << ": " << doc.error().message() << "\n";
      return 1;
    }
    auto parsed = signals::ScanConfigFromJson(*doc);
    if (!parsed) {
      std::cerr << "arbiter signals scan: " << parsed.error().message() << "\n";
      return 1;
    }
    config = *parsed;
  }
  auto input = ReadInput(path, kMaxScanInput);
  if (!input) {
    std::cerr << "arbiter signals scan: " << input.error().message() << "\n";
    return 1;
  }
  const std::string& text = *input;
  const signals::ScanResult r = signals::ScanText(text, config);
  const std::string redacted = signals::Redact(text, r.spans);
  if (json) {
    boost::json::value v = signals::ScanResultToJson(r);
    v.as_object()["redacted"] = redacted;
    std::cout << ToJson(v) << "\n";
    return 0;
  }
  std::cout << "level: " << signals::LevelName(r.level) << "\nkinds:";
  bool any = false;
  for (auto k : signals::kAllKinds) {
    if (r.count(k) == 0) continue;
    std::cout << " " << signals::KindName(k) << "=" << r.count(k);
    any = true;
  }
  std::cout << (any ? "" : " none") << "\n--- redacted ---\n" << redacted;
  if (!redacted.empty() && redacted.back() != '\n') std::cout << "\n";
  return 0;
}

int RunDedupe(const std::string& path, double threshold, bool json) {
  auto input = ReadInput(path, kMaxCasesInput);
  if (!input) {
    std::cerr << "arbiter signals dedupe: " << input.error().message() << "\n";
    return 1;
  }
  const std::string& text = *input;
  signals::DuplicateIndexOptions options;
  options.threshold = threshold;
  signals::DuplicateIndex index(options);
  std::vector<std::string> order;
  std::map<std::string, std::string> root_of;  // case → first case of its cluster
  boost::json::array cases;
  size_t line_no = 0;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto doc = ParseJson(line);
    if (!doc) {
      std::cerr << "arbiter signals dedupe: " << path << ":" << line_no << ": "
                << doc.error().message() << "\n";
      return 1;
    }
    auto c = sources::CaseFromJson(*doc);
    if (!c) {
      std::cerr << "arbiter signals dedupe: " << path << ":" << line_no << ": "
                << c.error().message() << "\n";
      return 1;
    }
    auto m = index.Add(c->id, c->AllText());
    if (!m) {
      std::cerr << "arbiter signals dedupe: " << path << ":" << line_no << ": "
                << m.error().message() << "\n";
      return 1;
    }
    root_of[c->id] = m->is_duplicate() ? root_of[m->duplicate_of] : c->id;
    order.push_back(c->id);
    boost::json::object o{{"id", c->id}, {"similarity", m->similarity}};
    if (m->is_duplicate()) o["duplicate_of"] = m->duplicate_of;
    cases.push_back(std::move(o));
  }
  std::map<std::string, std::vector<std::string>> clusters;
  std::vector<std::string> roots;
  for (const auto& id : order) {
    auto& members = clusters[root_of[id]];
    if (members.empty()) roots.push_back(root_of[id]);
    members.push_back(id);
  }
  if (json) {
    boost::json::array out;
    for (const auto& r : roots) {
      boost::json::array ids;
      for (const auto& id : clusters[r]) ids.push_back(boost::json::value(id));
      out.push_back(boost::json::object{{"size", clusters[r].size()}, {"cases", std::move(ids)}});
    }
    std::cout << ToJson(boost::json::object{{"clusters", std::move(out)}, {"cases", cases}})
              << "\n";
    return 0;
  }
  for (const auto& r : roots) {
    std::cout << clusters[r].size() << ":";
    for (const auto& id : clusters[r]) std::cout << " " << id;
    std::cout << "\n";
  }
  return 0;
}

void AddSignalsCommands(CLI::App& app, CommandContext& ctx) {
  auto* group = app.add_subcommand("signals",
                                   "Case signals Arbiter computes: sensitivity and "
                                   "duplicates");
  group->require_subcommand(1);

  auto* scan = group->add_subcommand(
      "scan", "Find personal data and secrets; print the level, the kinds and the redacted text");
  auto scan_file = std::make_shared<std::string>();
  auto scan_config = std::make_shared<std::string>();
  auto scan_json = std::make_shared<bool>(false);
  scan->add_option("FILE", *scan_file, "text file, or - for stdin")->required();
  scan->add_option("--config", *scan_config,
                   "JSON level mapping, e.g. {\"levels\":{\"email\":\"confidential\"}}");
  scan->add_flag("--json", *scan_json,
                 "machine-readable: {\"level\",\"kinds\":{kind:count},\"spans\",\"redacted\"}");
  scan->callback([&ctx, scan_file, scan_config, scan_json] {
    ctx.exit_code = RunScan(*scan_file, *scan_config, *scan_json);
  });

  auto* dedupe = group->add_subcommand(
      "dedupe", "Cluster near-duplicate cases of a JSON Lines file of Case objects");
  auto dd_file = std::make_shared<std::string>();
  auto dd_threshold = std::make_shared<double>(signals::DuplicateIndexOptions{}.threshold);
  auto dd_json = std::make_shared<bool>(false);
  dedupe->add_option("CASES", *dd_file, "CASES.jsonl: one Case JSON per line, or -")->required();
  dedupe->add_option("--threshold", *dd_threshold, "similarity at which a case is a duplicate")
      ->check(CLI::Range(0.0, 1.0));
  dedupe->add_flag("--json", *dd_json,
                   "machine-readable: {\"clusters\":[{\"size\",\"cases\"}],\"cases\":[...]}");
  dedupe->callback([&ctx, dd_file, dd_threshold, dd_json] {
    ctx.exit_code = RunDedupe(*dd_file, *dd_threshold, *dd_json);
  });
}

}  // namespace

ARBITER_COMMAND_GROUP(signals, AddSignalsCommands);

}  // namespace arbiter::cli
