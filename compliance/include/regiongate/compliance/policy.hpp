// The compliance policy as a whole: every region manifest plus the filing registry, checked
// together (locale collisions, duplicate ids, references to plug-ins, models and endpoints).
// Also `Validate`, which is all of `regiongate validate PATH...` except printing.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "regiongate/compliance/diagnostic.hpp"
#include "regiongate/compliance/filing_registry.hpp"
#include "regiongate/compliance/plugin_manifest.hpp"
#include "regiongate/compliance/region_manifest.hpp"

namespace rg::compliance {

struct PolicySet {
  std::vector<RegionManifest> regions;
  FilingRegistry registry;

  /// The region whose `locales` list the locale (any case, '_' or '-'); nullptr when none.
  const RegionManifest* ResolveLocale(std::string_view locale) const;
  const RegionManifest* FindRegion(std::string_view region_id) const;
  /// Every locale of every region, for suggestions.
  std::vector<std::string> AllLocales() const;
};

/// Where the policy lives: files or directories (directories are read for *.yaml / *.yml,
/// sorted by name, not recursively).
struct PolicySources {
  std::vector<std::filesystem::path> regions;   ///< e.g. config/regions
  std::vector<std::filesystem::path> registry;  ///< e.g. config/registry
};

/// Conventional layout under a config directory: <dir>/regions and <dir>/registry.
PolicySources DefaultPolicySources(const std::filesystem::path& config_dir);

/// Loads every region manifest and registry file and runs the cross-file checks against
/// `plugins` (reference checks are skipped when `plugins` is empty). A registry source that
/// does not exist is an empty registry (nothing corroborated, so required filings deny); a
/// missing regions source is an error. `policy` is filled only
/// when there are no errors; warnings are returned either way.
Diagnostics LoadPolicy(const PolicySources& sources, const std::vector<PluginManifest>& plugins,
                       PolicySet* policy);

/// The cross-file checks alone, for a policy already parsed.
Diagnostics CheckPolicy(const PolicySet& policy, const std::vector<PluginManifest>& plugins);

/// Loads every plug-in manifest found in `paths`: a plugin.yaml file, or a directory searched
/// for <dir>/plugin.yaml and <dir>/*/plugin.yaml (the build's plug-in folder layout). Manifests
/// with errors are skipped and their diagnostics returned; duplicate ids are errors (RG-M411).
Diagnostics LoadPluginManifests(const std::vector<std::filesystem::path>& paths,
                                std::vector<PluginManifest>* plugins);

/// The outcome of `regiongate validate`.
struct ValidationReport {
  std::vector<std::string> files;  ///< every file checked, in order
  Diagnostics diagnostics;         ///< every problem, grouped by file, in position order

  bool ok() const { return !HasErrors(diagnostics); }
  /// 0 when every file is valid (warnings allowed), 1 otherwise.
  int ExitCode() const { return ok() ? 0 : 1; }
  /// One diagnostic per line, then a summary line ("3 files checked: 2 errors, 1 warning").
  std::string ToText() const;
  /// {"ok","files","errors","warnings","diagnostics":[{"file","line","column","severity","id",
  ///  "message","suggestion"}]}
  nlohmann::json ToJson() const;
};

/// Validates region manifests, registry files and plug-in manifests in `paths` (files or
/// directories, recursively), every error at once, including cross-file checks. A file's kind
/// comes from its folder ("regions", "registry"), its name ("plugin.yaml") or its keys.
/// Plug-in manifests found in `paths` join `known_plugins` for the reference checks.
ValidationReport Validate(const std::vector<std::filesystem::path>& paths,
                          const std::vector<PluginManifest>& known_plugins = {});

}  // namespace rg::compliance
