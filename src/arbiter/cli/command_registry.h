// The `arbiter` executable's command groups. Each group lives in its own `<group>_commands.cpp` in
// this folder and registers itself with ARBITER_COMMAND_GROUP, so a new group never touches
// main.cpp or another group's file. CLI11 stays out of this header.
//
//   void AddLedgerCommands(CLI::App& app, CommandContext& ctx) {
//     auto* verify = app.add_subcommand("ledger", "...");
//     ...
//     verify->callback([&ctx] { ctx.exit_code = RunVerify(...); });
//   }
//   ARBITER_COMMAND_GROUP(ledger, AddLedgerCommands);
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
}

namespace arbiter::cli {

// Shared by all commands of one process run.
struct CommandContext {
  // The process exit status a command chose: 0 success, 1 bad input or failure, other values as
  // documented by the command (e.g. `cedar authorize` exits 2 on deny).
  int exit_code = 0;
};

using AddCommandsFn = void (*)(CLI::App& app, CommandContext& ctx);

struct CommandGroup {
  std::string_view name;
  AddCommandsFn add;
};

// All registered groups, sorted by name.
std::vector<CommandGroup> RegisteredCommandGroups();

// The subcommand `name` of `app`, added (requiring a subcommand of its own) when no group has
// added it yet. Lets several groups share one command word, e.g. `cedar validate` and
// `cedar format` registered from different files.
CLI::App* SharedSubcommand(CLI::App& app, const std::string& name, const std::string& description);

struct CommandGroupRegistrar {
  CommandGroupRegistrar(std::string_view name, AddCommandsFn add);
};

}  // namespace arbiter::cli

#define ARBITER_COMMAND_GROUP(name, fn) \
  static const ::arbiter::cli::CommandGroupRegistrar arbiter_command_group_##name(#name, fn)
