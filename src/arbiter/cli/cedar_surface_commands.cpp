// `arbiter cedar translate-policy` and `arbiter cedar format`: the policy surface syntax (Cedar
// text and Cedar's JSON policy format). Registered as its own group (`cedar_surface`, after `cedar`
// in name order) and attached to the `cedar` subcommand.
#include <CLI/CLI.hpp>

#include <boost/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

#include "arbiter/cedar/format.h"
#include "arbiter/cedar/policy_json.h"
#include "arbiter/cedar/policy_set.h"
#include "arbiter/cli/command_registry.h"
#include "arbiter/cli/input.h"

namespace arbiter::cli {
namespace {

constexpr size_t kMaxInputFile = 64u << 20;

// Writes `data` to `path` through a temporary file renamed over it.
Status WriteFileAtomically(const std::string& path, const std::string& data) {
  std::string tmp = path + ".arbiter-format.tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::InvalidArgument("cannot write `" + tmp + "`");
    out << data;
    out.flush();
    if (!out) return Status::InvalidArgument("cannot write `" + tmp + "`");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::InvalidArgument("cannot replace `" + path + "`");
  }
  return Status::Ok();
}

std::string SourceName(const std::string& path) { return path == "-" ? "<stdin>" : path; }

struct TranslateOptions {
  std::string direction;
  std::string input;
};

int RunTranslate(const TranslateOptions& o) {
  auto fail = [](const std::string& m) {
    std::cerr << "arbiter cedar translate-policy: " << m << "\n";
    return 1;
  };
  auto text = ReadInput(o.input, kMaxInputFile);
  if (!text) return fail(text.error().message());
  if (o.direction == "cedar-to-json") {
    auto set = cedar::ParsePolicySet(*text, SourceName(o.input));
    if (!set) return fail(set.error().message());
    auto json = cedar::PolicySetToJson(*set);
    if (!json) return fail(json.error().message());
    std::cout << boost::json::serialize(*json) << "\n";
    return 0;
  }
  if (o.direction == "json-to-cedar") {
    auto set = cedar::ParsePolicySetJson(*text, SourceName(o.input));
    if (!set) return fail(set.error().message());
    std::cout << cedar::FormatPolicySet(*set);
    size_t links = 0;
    for (const cedar::Policy& p : set->policies()) links += p.is_linked() ? 1 : 0;
    if (links > 0) {
      std::cerr << "arbiter cedar translate-policy: note: " << links
                << " template link(s) have no Cedar text form and were left out\n";
    }
    return 0;
  }
  return fail("`--direction` must be `cedar-to-json` or `json-to-cedar`, found `" + o.direction +
              "`");
}

struct FormatCommandOptions {
  std::string policies;
  bool check = false;
  bool write = false;
  size_t width = 80;
};

// Exit status: 0 formatted (or written), 2 with --check when the file is not formatted, 1 bad
// input.
int RunFormat(const FormatCommandOptions& o) {
  auto fail = [](const std::string& m) {
    std::cerr << "arbiter cedar format: " << m << "\n";
    return 1;
  };
  if (o.check && o.write) return fail("`--check` and `--write` cannot be combined");
  if (o.write && o.policies == "-") return fail("`--write` needs a file, not standard input");
  if (o.width < 20 || o.width > 1000) return fail("`--width` must be between 20 and 1000");
  auto text = ReadInput(o.policies, kMaxInputFile);
  if (!text) return fail(text.error().message());
  auto set = cedar::ParsePolicySet(*text, SourceName(o.policies));
  if (!set) return fail(set.error().message());
  cedar::FormatOptions fopts;
  fopts.width = o.width;
  std::string formatted = cedar::FormatPolicySource(*text, *set, fopts);
  if (o.check) {
    if (formatted == *text) return 0;
    std::cerr << "arbiter cedar format: `" << SourceName(o.policies) << "` is not formatted\n";
    return 2;
  }
  if (o.write) {
    if (formatted == *text) return 0;
    Status s = WriteFileAtomically(o.policies, formatted);
    if (!s.ok()) return fail(s.message());
    return 0;
  }
  std::cout << formatted;
  return 0;
}

void AddCedarSurfaceCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* cedar = SharedSubcommand(app, "cedar", "Cedar policies");
  auto* translate = cedar->add_subcommand(
      "translate-policy",
      "Translate a policy set between Cedar text and Cedar's JSON policy format (EST)");
  auto t = std::make_shared<TranslateOptions>();
  translate->add_option("--direction", t->direction, "cedar-to-json or json-to-cedar")->required();
  translate->add_option("input", t->input, "policy file, or - for standard input")->required();
  translate->callback([&ctx, t] { ctx.exit_code = RunTranslate(*t); });

  auto* format = cedar->add_subcommand(
      "format",
      "Print a policy set in the canonical layout; exit 0, 2 with --check when not formatted, "
      "1 bad input");
  auto f = std::make_shared<FormatCommandOptions>();
  format->add_option("--policies", f->policies, "Cedar policy file, or - for standard input")
      ->required();
  format->add_flag("--check", f->check, "print nothing; exit 2 when the file is not formatted");
  format->add_flag("--write", f->write, "rewrite the file in place");
  format->add_option("--width", f->width, "line width for breaking conditions (default 80)");
  format->callback([&ctx, f] { ctx.exit_code = RunFormat(*f); });
}

}  // namespace

ARBITER_COMMAND_GROUP(cedar_surface, AddCedarSurfaceCommands);

}  // namespace arbiter::cli
