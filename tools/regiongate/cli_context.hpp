// State shared by the regiongate subcommands: global options, the host, and the exit-code
// convention (docs/cli.md): 0 ok, 1 usage, 2 refused/denied, 3 runtime error.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "regiongate/core/host.hpp"
#include "regiongate/core/runtime.hpp"

namespace rg::tools {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitDenied = 2;
inline constexpr int kExitRuntime = 3;

/// Thrown by a subcommand to end with a message and an exit code (only in the CLI, never
/// in the libraries).
struct CliExit {
  int code;
  std::string message;
};

struct CliContext {
  std::vector<std::string> plugin_dirs;
  std::vector<std::string> endpoint_overrides;
  std::vector<std::string> secret_files;  ///< NAME=PATH
  std::string config_dir;                 ///< holds regions/ and registry/
  std::string audit_dir;                  ///< audit trails, one folder per region
  bool verbose = false;
  int exit_code = kExitOk;

  /// Adds the options every subcommand shares to `app`.
  void AddGlobalOptions(CLI::App& app);

  /// Builds the host and loads the plug-in directories; refusals go to stderr (or are
  /// returned for --json callers through `report`).
  std::unique_ptr<core::Host> MakeHost(core::LoadReport* report = nullptr) const;

  /// Host + policy for gated commands (explain, chat --locale). `as_of` is YYYY-MM-DD or
  /// empty for today.
  std::unique_ptr<core::Runtime> MakeRuntime(const std::string& as_of = {}) const;

  /// Plug-in directories to scan: --plugin-dir, else $RG_PLUGIN_DIR, else next to the binary.
  std::vector<std::filesystem::path> PluginDirs() const;

  /// --config, else $RG_CONFIG_DIR, else the source tree's or the installed config/.
  std::filesystem::path ConfigDir() const;

  core::HostOptions MakeHostOptions() const;
};

/// Subcommand registration: each adds itself to `app` and writes its exit code into ctx.
void RegisterPlugins(CLI::App& app, CliContext& ctx);
void RegisterChat(CLI::App& app, CliContext& ctx);
void RegisterValidate(CLI::App& app, CliContext& ctx);
void RegisterExplain(CLI::App& app, CliContext& ctx);
void RegisterAudit(CLI::App& app, CliContext& ctx);
void RegisterConformance(CLI::App& app, CliContext& ctx);

}  // namespace rg::tools
