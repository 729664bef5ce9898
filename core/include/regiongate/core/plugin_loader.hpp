// Loads provider plug-ins: manifest and sha256 first, then dlopen (Boost.DLL, rtld_now |
// rtld_local, absolute paths, one load lock), the entry symbol, ABI negotiation and the
// description/manifest agreement check. A refused plug-in never stops the others.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "regiongate/abi.h"
#include "regiongate/compliance/plugin_manifest.hpp"
#include "regiongate/result.hpp"

namespace rg::core {

/// Stable ids of loader refusals and errors; docs/errors.d/loader.md has each message and fix.
/// Numbered in the order the loader checks, so a plug-in is refused for the first problem.
namespace loader_error {
inline constexpr std::string_view kManifestInvalid = "RG-L001";
inline constexpr std::string_view kLibraryMissing = "RG-L002";
inline constexpr std::string_view kHashMismatch = "RG-L003";
inline constexpr std::string_view kManifestAbiExcludesHost = "RG-L004";
inline constexpr std::string_view kDlopenFailed = "RG-L005";
inline constexpr std::string_view kEntryMissing = "RG-L006";
inline constexpr std::string_view kEntryFailed = "RG-L007";
inline constexpr std::string_view kTableInvalid = "RG-L008";
inline constexpr std::string_view kAbiNegotiationFailed = "RG-L009";
inline constexpr std::string_view kDescriptionMismatch = "RG-L010";
inline constexpr std::string_view kDuplicateId = "RG-L011";
inline constexpr std::string_view kDirectoryUnreadable = "RG-L012";
inline constexpr std::string_view kNoServices = "RG-L013";
inline constexpr std::string_view kSymbolsUnreadable = "RG-L014";
}  // namespace loader_error

/// A plug-in that passed every check. Holds its library for as long as it lives; the loader
/// never unloads by default (DESIGN rule 9): a process-wide registry also keeps every library
/// it opened mapped until exit.
struct LoadedPlugin {
  compliance::PluginManifest manifest;
  const rg_plugin* table = nullptr;
  const rg_host_services* services = nullptr;  ///< the table this plug-in was given at entry
  uint16_t abi_major = 0;                      ///< negotiated
  uint16_t abi_minor = 0;
  std::shared_ptr<void> library;  ///< keeps the shared library mapped
};

/// Why a plug-in was not loaded. `id` is a stable catalogue id (docs/errors.d/loader.md).
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
  /// lock just before the plug-in's entry runs. The table must outlive the plug-in, which
  /// is never unloaded: in practice it lives until the process exits.
  ///
  /// The entry of a library runs at most once per process (abi.h). When a second loader
  /// loads a library another loader already entered, the factory is not called and the
  /// plug-in keeps the services table it was first given (LoadedPlugin::services says which).
  using ServicesFactory =
      std::function<const rg_host_services*(const compliance::PluginManifest& manifest)>;

  explicit PluginLoader(ServicesFactory services_factory);
  ~PluginLoader();
  PluginLoader(const PluginLoader&) = delete;
  PluginLoader& operator=(const PluginLoader&) = delete;

  /// Loads every plug-in manifest in `dir`: `*/plugin.yaml` one level down and
  /// `*.plugin.yaml` directly inside. Manifests are taken in path order; a refused plug-in
  /// is recorded in the report and the next one is tried.
  LoadReport LoadDirectory(const std::filesystem::path& dir);

  /// Loads one plug-in from its manifest path. Checks run in the order of the loader_error
  /// ids with two exceptions: a duplicate id (RG-L011) is refused as soon as the manifest is
  /// read, and the table's ABI version (RG-L009) is checked before the rest of its layout
  /// (RG-L008) because a table of another major version has another layout. Nothing of the
  /// plug-in runs before its manifest, hash and ABI range have passed.
  Result<std::shared_ptr<const LoadedPlugin>> LoadManifest(const std::filesystem::path& manifest);

  std::vector<std::shared_ptr<const LoadedPlugin>> Loaded() const;
  std::shared_ptr<const LoadedPlugin> Find(std::string_view plugin_id) const;

 private:
  // Loads under the process-wide load lock; on failure fills `refusal` and returns null.
  std::shared_ptr<const LoadedPlugin> LoadLocked(const std::filesystem::path& manifest_path,
                                                 LoadRefusal* refusal);

  ServicesFactory services_factory_;
  mutable std::mutex mutex_;  // guards loaded_; loads also hold the process-wide load lock
  std::vector<std::shared_ptr<const LoadedPlugin>> loaded_;
};

/// Lower-case hex sha256 of a file's contents (rg::compliance's SHA-256, the one the loader
/// checks libraries with). Fails with RG-L002 when the file cannot be read.
Result<std::string> Sha256File(const std::filesystem::path& path);

/// The dynamic symbols an ELF shared library exports: defined (not undefined), global, weak
/// or GNU-unique entries of .dynsym, sorted - what `nm -D --defined-only` lists, without
/// loading the library. Fails with RG-L014 when the file is not a readable ELF library.
Result<std::vector<std::string>> ExportedSymbols(const std::filesystem::path& path);

}  // namespace rg::core
