// Settings-table helper. The plug-in manifest's settings table is the source of truth (the
// host validates values and applies defaults before instance_create); this helper reads the
// resulting values with types and lets a plug-in re-check them against its own table.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "regiongate/sdk/guard.hpp"

namespace rg::sdk {

/// One row of a settings table, as a plug-in declares it in code.
struct SettingSpec {
  const char* key;
  const char* type;  ///< "string", "integer", "number", "boolean"
  bool required;
  const char* description;
};

class Settings {
 public:
  Settings() = default;
  /// `config` is the instance configuration passed to instance_create; settings live under
  /// its "settings" key.
  explicit Settings(const nlohmann::json& config)
      : values_(config.is_object() && config.contains("settings") ? config.at("settings")
                                                                  : nlohmann::json::object()) {}

  bool Has(std::string_view key) const {
    auto it = values_.find(std::string(key));
    return it != values_.end() && !it->is_null();
  }
  std::string String(std::string_view key, std::string fallback = {}) const {
    auto it = values_.find(std::string(key));
    return it != values_.end() && it->is_string() ? it->get<std::string>() : fallback;
  }
  int64_t Integer(std::string_view key, int64_t fallback = 0) const {
    auto it = values_.find(std::string(key));
    return it != values_.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
  }
  double Number(std::string_view key, double fallback = 0) const {
    auto it = values_.find(std::string(key));
    return it != values_.end() && it->is_number() ? it->get<double>() : fallback;
  }
  bool Boolean(std::string_view key, bool fallback = false) const {
    auto it = values_.find(std::string(key));
    return it != values_.end() && it->is_boolean() ? it->get<bool>() : fallback;
  }

  /// Checks values against `table`: required keys present, types right, no unknown keys.
  /// The message names the key and the expected type.
  Status Check(const std::vector<SettingSpec>& table) const {
    for (const auto& spec : table) {
      auto it = values_.find(spec.key);
      if (it == values_.end() || it->is_null()) {
        if (spec.required) {
          return {RG_ERR_INVALID_REQUEST, std::string("setting '") + spec.key + "' is required"};
        }
        continue;
      }
      const std::string_view type = spec.type;
      const bool ok =
          (type == "string" && it->is_string()) || (type == "integer" && it->is_number_integer()) ||
          (type == "number" && it->is_number()) || (type == "boolean" && it->is_boolean());
      if (!ok) {
        return {RG_ERR_INVALID_REQUEST,
                std::string("setting '") + spec.key + "' must be of type " + spec.type};
      }
    }
    for (const auto& item : values_.items()) {
      bool known = false;
      for (const auto& spec : table) known = known || item.key() == spec.key;
      if (!known) return {RG_ERR_INVALID_REQUEST, "unknown setting '" + item.key() + "'"};
    }
    return {};
  }

  const nlohmann::json& values() const { return values_; }

 private:
  nlohmann::json values_ = nlohmann::json::object();
};

}  // namespace rg::sdk
