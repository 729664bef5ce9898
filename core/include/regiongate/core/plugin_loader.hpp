// Loads provider plug-ins: manifest and sha256 first, then dlopen (Boost.DLL, rtld_now |
// rtld_local, absolute paths, one load lock), the entry symbol, ABI negotiation and the
// description/manifest agreement check. A refused plug-in never stops the others.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "regiongate/abi.h"
#include "regiongate/compliance/plugin_manifest.hpp"
#include "regiongate/result.hpp"

namespace rg::core {

/// A plug-in that passed every check. Holds its library for as long as it lives; the loader
/// never unloads by default (DESIGN rule 9).
struct LoadedPlugin {
  compliance::PluginManifest manifest;
  const rg_plugin* table = nullptr;
  const rg_host_services* services = nullptr;  ///< the table this plug-in was given
  uint16_t abi_major = 0;                       ///< negotiated
  uint16_t abi_minor = 0;
  std::shared_ptr<void> library;  ///< keeps the shared library mapped
};

/// Why a plug-in was not loaded. `id` is a stable catalogue id (docs/errors.md).
struct LoadRefusal {
  std::string plugin;              ///< plug-in id, or the manifest path when unknown
  std::filesystem::path manifest;  ///< manifest that was refused
  std::string id;                  ///< e.g. "RG-L002"
  std::string message;             ///< names the plug-in and says what to do
};

struct LoadReport {
  std::vector<std::shared_ptr<const LoadedPlugin>> loaded;
  std::vector<LoadRefusal> refused;
};

class PluginLoader {
 public:
  /// Builds the host services table handed to a plug-in at entry; called under the load
  /// lock, once per plug-in, before its code runs. The table must outlive the plug-in.
  using ServicesFactory =
      std::function<const rg_host_services*(const compliance::PluginManifest& manifest)>;

  explicit PluginLoader(ServicesFactory services_factory);
  ~PluginLoader();

  /// Loads every plug-in manifest in `dir`: `*/plugin.yaml` one level down and
  /// `*.plugin.yaml` directly inside. Manifests are taken in path order.
  LoadReport LoadDirectory(const std::filesystem::path& dir);

  /// Loads one plug-in from its manifest path. Refuses a duplicate id.
  Result<std::shared_ptr<const LoadedPlugin>> LoadManifest(const std::filesystem::path& manifest);

  std::vector<std::shared_ptr<const LoadedPlugin>> Loaded() const;
  std::shared_ptr<const LoadedPlugin> Find(std::string_view plugin_id) const;

 private:
  ServicesFactory services_factory_;
  mutable std::mutex mutex_;  // the one load lock
  std::vector<std::shared_ptr<const LoadedPlugin>> loaded_;
};

}  // namespace rg::core
