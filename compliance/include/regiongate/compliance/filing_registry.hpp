// The filing registry (config/registry/*.yaml): regulatory filings the compliance team has
// verified itself. A plug-in's claim of a filing counts only when an entry here corroborates it
// (same kind and number, covering the model, status verified).
// Reference: docs/manifests.md; schema: config/schema/filing-registry.schema.json.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "regiongate/compliance/diagnostic.hpp"
#include "regiongate/compliance/region_manifest.hpp"
#include "regiongate/result.hpp"

namespace rg::compliance {

struct RegistryEntry {
  std::string kind;                 ///< cac-genai | cac-algorithm
  std::string number;               ///< e.g. "ZheJiang-TongYiQianWen-20230901"
  std::string holder;               ///< entity holding the filing
  std::string service;              ///< service name as filed, e.g. "Tongyi Qianwen"
  std::vector<std::string> models;  ///< vendor model ids the filing covers
  std::string status;               ///< verified | pending | revoked
  std::optional<Date> verified_on;  ///< required when status is verified
  std::string verified_by;
  std::string source;  ///< where it was checked, e.g. https://beian.cac.gov.cn
  std::string note;
  std::string file;  ///< registry file it came from
  int line = 0;
  int column = 0;

  bool Covers(std::string_view model) const;
};

struct FilingRegistry {
  std::vector<RegistryEntry> entries;
  std::vector<std::string> revisions;  ///< sha256 of each registry file, in load order

  /// The entry with this kind and number, or nullptr.
  const RegistryEntry* Find(std::string_view kind, std::string_view number) const;
  nlohmann::json ToJson() const;
};

/// Parses one registry file and appends its entries to `registry` when it has no errors.
Diagnostics CheckRegistryFile(const std::filesystem::path& path, FilingRegistry* registry);
Diagnostics ParseRegistry(std::string_view yaml, const std::string& file, FilingRegistry* registry);

}  // namespace rg::compliance
