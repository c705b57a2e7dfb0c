// `arbiter sources convert --from SOURCE FILE|-`: a ticket-source payload as the native Case JSON.
#include <CLI/CLI.hpp>

#include <iostream>

#include "arbiter/cli/command_registry.h"
#include "arbiter/cli/input.h"
#include "arbiter/common/json.h"
#include "arbiter/sources/adapters.h"

namespace arbiter::cli {
namespace {

constexpr size_t kMaxInput = 16u << 20;

int RunConvert(const std::string& from, const std::string& path) {
  auto bytes = ReadInput(path, kMaxInput);
  if (!bytes) {
    std::cerr << "arbiter sources convert: " << bytes.error().message() << "\n";
    return 1;
  }
  auto c = sources::ConvertPayload(from, *bytes);
  if (!c) {
    std::cerr << "arbiter sources convert: " << c.error().message() << "\n";
    return 1;
  }
  std::cout << sources::CaseToJsonText(*c) << "\n";
  return 0;
}

void AddSourcesCommands(CLI::App& app, CommandContext& ctx) {
  auto* group = app.add_subcommand("sources",
                                   "Ticket-source payloads (Zendesk, Jira/JSM, "
                                   "ServiceNow, Freshdesk, e-mail)");
  group->require_subcommand(1);
  auto* convert = group->add_subcommand(
      "convert", "Convert a payload to the native Case JSON (printed on stdout; always JSON)");
  auto from = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  convert->add_option("--from", *from, "zendesk, jira, servicenow, freshdesk or email")
      ->required()
      ->check(CLI::IsMember({"zendesk", "jira", "jsm", "servicenow", "freshdesk", "email"}));
  convert->add_option("FILE", *file, "the payload file, or - for stdin")->required();
  convert->add_flag("--json", *json, "machine-readable output (the Case JSON; the default)");
  convert->callback([&ctx, from, file] { ctx.exit_code = RunConvert(*from, *file); });
}

}  // namespace

ARBITER_COMMAND_GROUP(sources, AddSourcesCommands);

}  // namespace arbiter::cli
