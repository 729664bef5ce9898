#include "cli_context.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>

#include <iostream>
#include "regiongate/compliance/region_manifest.hpp"

#include <unistd.h>

namespace rg::tools {

namespace {

std::filesystem::path ExecutableDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::current_path() : exe.parent_path();
}

}  // namespace

void CliContext::AddGlobalOptions(CLI::App& app) {
  app.add_option("--plugin-dir", plugin_dirs,
                 "directory of plug-ins (each in a folder with plugin.yaml); repeatable; "
                 "default $RG_PLUGIN_DIR or the build's plugins/ folder");
  app.add_option("--endpoint-override", endpoint_overrides,
                 "PLUGIN.ENDPOINT_ID=URL: send that endpoint's traffic to URL (decisions keep "
                 "using the declared endpoint); repeatable");
  app.add_option("--secret-file", secret_files,
                 "NAME=PATH: read secret NAME from file PATH instead of the environment");
  app.add_option("--config", config_dir,
                 "policy directory holding regions/ and registry/; default $RG_CONFIG_DIR or "
                 "the shipped config/");
  app.add_option("--audit-dir", audit_dir,
                 "where audit trails go (one folder per region); default $RG_AUDIT_DIR or "
                 "$XDG_STATE_HOME/regiongate/audit");
  app.add_flag("-v,--verbose", verbose, "log more (to stderr)");
}

std::vector<std::filesystem::path> CliContext::PluginDirs() const {
  std::vector<std::filesystem::path> dirs(plugin_dirs.begin(), plugin_dirs.end());
  if (!dirs.empty()) return dirs;
  if (const char* env = std::getenv("RG_PLUGIN_DIR"); env != nullptr && *env != '\0') {
    return {env};
  }
  const auto exe_dir = ExecutableDir();
  // Install tree first: <prefix>/bin/regiongate -> <prefix>/lib/regiongate/plugins.
  // Build tree: <build>/tools/regiongate/regiongate -> <build>/plugins.
  const bool in_build_tree =
      exe_dir.filename() == "regiongate" && exe_dir.parent_path().filename() == "tools";
  for (const auto& candidate :
       {exe_dir / ".." / "lib" / "regiongate" / "plugins",
        in_build_tree ? exe_dir / ".." / ".." / "plugins" : std::filesystem::path()}) {
    if (candidate.empty()) continue;
    std::error_code ec;
    if (std::filesystem::is_directory(candidate, ec)) {
      return {std::filesystem::weakly_canonical(candidate, ec)};
    }
  }
  return {};
}

std::filesystem::path CliContext::ConfigDir() const {
  if (!config_dir.empty()) return config_dir;
  if (const char* env = std::getenv("RG_CONFIG_DIR"); env != nullptr && *env != '\0') return env;
  const auto exe_dir = ExecutableDir();
  std::error_code ec;
  // An installed binary uses the installed policy; a build-tree binary the source tree's.
  for (const auto& candidate : {exe_dir / ".." / "share" / "regiongate" / "config",
                                std::filesystem::path(RG_SOURCE_CONFIG_DIR)}) {
    if (std::filesystem::is_directory(candidate / "regions", ec)) {
      return std::filesystem::weakly_canonical(candidate, ec);
    }
  }
  throw CliExit{kExitUsage, "no policy directory: pass --config DIR or set RG_CONFIG_DIR"};
}

core::HostOptions CliContext::MakeHostOptions() const {
  core::HostOptions options;
  for (const auto& spec : endpoint_overrides) {
    auto parsed = core::ParseEndpointOverride(spec);
    if (!parsed.ok()) throw CliExit{kExitUsage, parsed.error().message};
    options.endpoint_overrides.push_back(parsed.value());
  }
  for (const auto& spec : secret_files) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
      throw CliExit{kExitUsage, "--secret-file '" + spec + "' is not of the form NAME=PATH"};
    }
    options.secrets.files[spec.substr(0, eq)] = spec.substr(eq + 1);
  }
  options.plugin_log_level = verbose ? RG_LOG_DEBUG : RG_LOG_WARN;
  spdlog::set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  return options;
}

std::unique_ptr<core::Runtime> CliContext::MakeRuntime(const std::string& as_of) const {
  core::RuntimeOptions options;
  options.host = MakeHostOptions();
  options.plugin_dirs = PluginDirs();
  if (options.plugin_dirs.empty()) {
    throw CliExit{kExitUsage, "no plug-in directory: pass --plugin-dir DIR or set RG_PLUGIN_DIR"};
  }
  options.config_dir = ConfigDir();
  if (!audit_dir.empty()) {
    options.audit_dir = audit_dir;
  } else if (const char* env = std::getenv("RG_AUDIT_DIR"); env != nullptr && *env != '\0') {
    options.audit_dir = env;
  } else if (const char* state = std::getenv("XDG_STATE_HOME"); state != nullptr && *state) {
    options.audit_dir = std::filesystem::path(state) / "regiongate" / "audit";
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    options.audit_dir = std::filesystem::path(home) / ".local" / "state" / "regiongate" / "audit";
  }
  if (!as_of.empty()) {
    options.as_of = compliance::ParseDate(as_of);
    if (!options.as_of) {
      throw CliExit{kExitUsage, "--as-of '" + as_of + "' is not a date of the form YYYY-MM-DD"};
    }
  }
  auto runtime = core::Runtime::Create(std::move(options));
  if (!runtime.ok()) throw CliExit{kExitDenied, runtime.error().message};
  for (const auto& refusal : (*runtime)->load_report().refused) {
    std::cerr << "regiongate: refused plug-in " << refusal.plugin << ": " << refusal.message << " ["
              << refusal.id << "]\n";
  }
  return std::move(runtime.value());
}

std::unique_ptr<core::Host> CliContext::MakeHost(core::LoadReport* report) const {
  auto host = std::make_unique<core::Host>(MakeHostOptions());
  const auto dirs = PluginDirs();
  if (dirs.empty()) {
    throw CliExit{kExitUsage, "no plug-in directory: pass --plugin-dir DIR or set RG_PLUGIN_DIR"};
  }
  core::LoadReport all;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
      throw CliExit{kExitUsage, "plug-in directory '" + dir.string() + "' does not exist"};
    }
    auto one = host->LoadPluginDirectory(dir);
    all.loaded.insert(all.loaded.end(), one.loaded.begin(), one.loaded.end());
    all.refused.insert(all.refused.end(), one.refused.begin(), one.refused.end());
  }
  if (report != nullptr) {
    *report = all;
  } else {
    for (const auto& refusal : all.refused) {
      std::cerr << "regiongate: refused plug-in " << refusal.plugin << ": " << refusal.message
                << " [" << refusal.id << "]\n";
    }
  }
  return host;
}

}  // namespace rg::tools
