#include "arbiter/cli/command_registry.h"

#include <CLI/CLI.hpp>

#include <algorithm>

namespace arbiter::cli {
namespace {
std::vector<CommandGroup>& Groups() {
  static std::vector<CommandGroup> groups;
  return groups;
}
}  // namespace

CommandGroupRegistrar::CommandGroupRegistrar(std::string_view name, AddCommandsFn add) {
  Groups().push_back({name, add});
}

std::vector<CommandGroup> RegisteredCommandGroups() {
  auto groups = Groups();
  std::sort(groups.begin(), groups.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return groups;
}

CLI::App* SharedSubcommand(CLI::App& app, const std::string& name, const std::string& description) {
  // get_subcommands() without a filter lists only the subcommands parsed so far.
  auto named = app.get_subcommands([&name](CLI::App* sub) { return sub->get_name() == name; });
  if (!named.empty()) return named.front();
  CLI::App* sub = app.add_subcommand(name, description);
  sub->require_subcommand(1);
  return sub;
}

}  // namespace arbiter::cli
