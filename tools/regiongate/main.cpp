// regiongate: command-line front end of the host. Subcommands live one per file and are
// registered explicitly here (no static registration).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli_context.hpp"

int main(int argc, char** argv) {
  using namespace rg::tools;
  // Logs go to stderr so stdout stays clean for answers and --json.
  spdlog::set_default_logger(spdlog::stderr_color_mt("regiongate"));
  spdlog::set_pattern("regiongate: %^%l%$: %v");
  spdlog::set_level(spdlog::level::warn);

  CLI::App app{"regiongate: region-gated LLM inference through vendor plug-ins", "regiongate"};
  app.set_version_flag("--version", std::string("regiongate ") + RG_VERSION + " (inference ABI " +
                                        std::to_string(RG_ABI_VERSION_MAJOR) + "." +
                                        std::to_string(RG_ABI_VERSION_MINOR) + ")");
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the subcommand
  app.footer("exit codes: 0 ok, 1 usage error, 2 refused or denied, 3 runtime error");
  CliContext ctx;
  ctx.AddGlobalOptions(app);
  RegisterPlugins(app, ctx);
  RegisterChat(app, ctx);
  RegisterValidate(app, ctx);
  RegisterExplain(app, ctx);
  RegisterAudit(app, ctx);
  RegisterConformance(app, ctx);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  } catch (const CliExit& e) {
    if (!e.message.empty()) std::cerr << "regiongate: " << e.message << "\n";
    return e.code;
  }
  return ctx.exit_code;
}
