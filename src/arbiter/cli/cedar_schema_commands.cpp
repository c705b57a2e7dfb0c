// `arbiter cedar translate-schema`: translation between Cedar's two schema formats, in the manner
// of the Cedar CLI. Registered as its own group (`cedar_schema`) and attached to the `cedar`
// subcommand. Exit 0 with the translation on stdout, 1 with a one-line error on stderr.
#include <CLI/CLI.hpp>

#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include "arbiter/cedar/schema_json.h"
#include "arbiter/cli/command_registry.h"
#include "arbiter/cli/input.h"

namespace arbiter::cli {
namespace {

constexpr size_t kMaxInputFile = 64u << 20;

struct TranslateOptions {
  std::string direction;
  std::string file;
};

int RunTranslate(const TranslateOptions& o) {
  auto fail = [](const std::string& m) {
    std::cerr << "arbiter cedar translate-schema: " << m << "\n";
    return 1;
  };
  if (o.direction != "cedar-to-json" && o.direction != "json-to-cedar") {
    return fail("`--direction` must be `cedar-to-json` or `json-to-cedar`, found `" + o.direction +
                "`");
  }
  auto text = ReadInput(o.file, kMaxInputFile);
  if (!text) return fail(text.error().message());
  std::string source = o.file == "-" ? "<stdin>" : o.file;
  auto out = o.direction == "cedar-to-json" ? cedar::CedarSchemaToJson(*text, source)
                                            : cedar::JsonSchemaToCedar(*text, source);
  if (!out) return fail(out.error().message());
  std::cout << *out;
  std::cout.flush();
  return std::cout ? 0 : 1;
}

void AddCedarSchemaCommands(CLI::App& app, CommandContext& ctx) {
  CLI::App* cedar = SharedSubcommand(app, "cedar", "Cedar policies");
  auto* translate = cedar->add_subcommand(
      "translate-schema",
      "Translate a schema between the cedar (.cedarschema) and JSON formats; exit 0, or 1 with "
      "a one-line error");
  auto o = std::make_shared<TranslateOptions>();
  translate->add_option("--direction", o->direction, "cedar-to-json or json-to-cedar")->required();
  translate->add_option("file", o->file, "schema file, or - for stdin")->required();
  translate->callback([&ctx, o] { ctx.exit_code = RunTranslate(*o); });
}

}  // namespace

ARBITER_COMMAND_GROUP(cedar_schema, AddCedarSchemaCommands);

}  // namespace arbiter::cli
