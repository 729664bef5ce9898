// The plug-in manifest (plugin.yaml next to each plug-in library): metadata the host and the
// compliance gate read before any plug-in code runs. Evidence travels with plug-ins
// (endpoints, where they process data, filings); requirements travel with regions.
// Reference: docs/manifests.md; schema: config/schema/plugin-manifest.schema.json.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "regiongate/compliance/diagnostic.hpp"
#include "regiongate/result.hpp"

namespace rg::compliance {

/// A network endpoint the plug-in may call. All egress goes to declared endpoints only.
struct EndpointDecl {
  std::string id;           ///< e.g. "cn-beijing"
  std::string kind;         ///< "inference" (default) or "auth" (token endpoints)
  std::string base_url;     ///< declared URL; overrides never change the attributes below
  std::string data_region;  ///< where data is processed and stored: CN, HK, SG, US, EU, JP, GLOBAL
  std::string inference_scope;  ///< where inference runs: cn-mainland, cn-elastic, intl-ex-cn,
                                ///< us, eu, hk, jp, sg, global
  std::string protocol;         ///< plug-in specific, e.g. "compatible" / "native", "v2" / "v1"
  int line = 0;                 ///< position in the manifest, for diagnostics
  int column = 0;
};

struct ModelDecl {
  std::string id;  ///< vendor model id, e.g. "qwen-plus"
  /// Endpoint ids serving it; empty = every inference endpoint.
  std::vector<std::string> endpoints;
  int line = 0;
  int column = 0;
};

/// A regulatory filing the plug-in claims. Claims count only when the compliance team's
/// registry (config/registry/) corroborates them.
struct FilingClaim {
  std::string kind;                 ///< "cac-genai" or "cac-algorithm"
  std::string number;               ///< e.g. "ZheJiang-TongYiQianWen-20230901"
  std::string holder;               ///< e.g. "Alibaba Cloud"
  std::vector<std::string> models;  ///< model ids covered
  int line = 0;
  int column = 0;
};

/// One row of the settings table: validated by the host, printed by `plugins describe`.
struct SettingDecl {
  std::string key;
  std::string type;              ///< "string", "integer", "number", "boolean"
  nlohmann::json default_value;  ///< null when there is no default
  bool required = false;
  bool secret = false;  ///< the value names a secret (env var / file), never the secret itself
  std::string description;
};

struct AbiRange {
  uint16_t major = 0;
  uint16_t min_minor = 0;
  uint16_t max_minor = 0;
};

struct PluginManifest {
  std::filesystem::path manifest_path;  ///< absolute
  std::filesystem::path library_path;   ///< absolute: manifest directory / library
  std::string id;                       ///< [a-z][a-z0-9_-]*, unique per host
  std::string version;                  ///< semver
  std::string vendor;
  std::string description;
  std::string library;  ///< file name as written in the manifest
  std::string sha256;   ///< lower-case hex of the library file
  AbiRange abi;
  std::vector<ModelDecl> models;
  std::vector<EndpointDecl> endpoints;
  std::vector<FilingClaim> filings;
  std::vector<std::string> capabilities;  ///< e.g. "streaming", "tools", "usage", "provider_blocks"
  std::vector<SettingDecl> settings;

  const EndpointDecl* FindEndpoint(std::string_view endpoint_id) const;
  const ModelDecl* FindModel(std::string_view model_id) const;
  bool HasCapability(std::string_view capability) const;
  /// The manifest as JSON (for `plugins describe --json` and instance configuration).
  nlohmann::json ToJson() const;
};

/// Parses and schema-checks a plug-in manifest. On failure the Error message holds every
/// diagnostic, one per line, as FILE:LINE:COL: error: MESSAGE.
Result<PluginManifest> LoadPluginManifest(const std::filesystem::path& path);

/// Same, but returns all diagnostics (for `regiongate validate`); `manifest` is filled only
/// when there are no errors.
Diagnostics CheckPluginManifest(const std::filesystem::path& path, PluginManifest* manifest);

/// Parses manifest text already in memory (tests, fuzzing, stdin). `file` names it in
/// diagnostics; `manifest_path`/`library_path` stay empty unless `manifest_path` is given
/// (then it must be absolute and library_path is resolved next to it).
Diagnostics ParsePluginManifest(std::string_view yaml, const std::string& file,
                                PluginManifest* manifest,
                                const std::filesystem::path& manifest_path = {});

/// Closed vocabularies shared by plug-in and region manifests (and their JSON Schemas).
const std::vector<std::string>& KnownDataRegions();      ///< CN, HK, SG, US, EU, JP, GLOBAL
const std::vector<std::string>& KnownInferenceScopes();  ///< cn-mainland, cn-elastic, ...
const std::vector<std::string>& KnownCapabilities();     ///< streaming, usage, tools, ...

}  // namespace rg::compliance
