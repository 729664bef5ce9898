// `regiongate validate PATH...`: checks region manifests, registry files and plug-in
// manifests; prints every error at once as FILE:LINE:COL: error: MESSAGE.
#include <iostream>
#include <memory>

#include "cli_context.hpp"
#include "regiongate/compliance/policy.hpp"

namespace rg::tools {

namespace {

struct ValidateOptions {
  std::vector<std::string> paths;
  bool json = false;
};

int Validate(CliContext& ctx, const ValidateOptions& o) {
  // Plug-in manifests from the plug-in directories make references checkable; they are read
  // as data, without loading any library.
  std::vector<compliance::PluginManifest> known;
  std::vector<std::filesystem::path> plugin_dirs;
  try {
    plugin_dirs = ctx.PluginDirs();
  } catch (const CliExit&) {
  }
  if (!plugin_dirs.empty()) (void)compliance::LoadPluginManifests(plugin_dirs, &known);
  std::vector<std::filesystem::path> paths(o.paths.begin(), o.paths.end());
  const compliance::ValidationReport report = compliance::Validate(paths, known);
  std::cout << (o.json ? report.ToJson().dump(2) + "\n" : report.ToText());
  return report.ok() ? kExitOk : kExitDenied;
}

}  // namespace

void RegisterValidate(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<ValidateOptions>();
  auto* cmd = app.add_subcommand(
      "validate",
      "check region manifests, registry files and plug-in manifests; exit 0 only when all "
      "are valid (2 otherwise)");
  cmd->add_option("PATH", o->paths, "files or directories (searched recursively)")->required();
  cmd->add_flag("--json", o->json, "print the diagnostics as JSON");
  cmd->callback([&ctx, o] { ctx.exit_code = Validate(ctx, *o); });
}

}  // namespace rg::tools
