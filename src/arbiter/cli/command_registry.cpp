#include "arbiter/cli/command_registry.h"

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

}  // namespace arbiter::cli
