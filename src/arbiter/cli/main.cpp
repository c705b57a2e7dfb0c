// The `arbiter` executable: parses the command line and dispatches to the registered command
// groups.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "arbiter/cli/command_registry.h"
#include "arbiter/common/version.h"

int main(int argc, char** argv) {
  CLI::App app{
      "Arbiter: governed routing of support cases between AI agents and people.\n"
      "Policy-as-code (Cedar) decides what the machine may do; every decision is evidence in a "
      "verifiable Merkle log.",
      "arbiter"};
  app.set_version_flag("--version", std::string("arbiter ") + arbiter::kVersion);
  app.require_subcommand(0, 1);
  app.footer("Run `arbiter COMMAND --help` for a command's options.");

  arbiter::cli::CommandContext ctx;
  for (const auto& group : arbiter::cli::RegisteredCommandGroups()) group.add(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "arbiter: " << e.what() << "\n";
    return 1;
  }
  if (argc == 1) {
    std::cout << app.help();
    return 0;
  }
  return ctx.exit_code;
}
