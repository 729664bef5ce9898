// Checks that a plug-in's code agrees with its plugin.yaml.in: the template parses as a
// valid manifest (the compliance parser's full checks), its models, endpoints and
// capabilities equal the code's description_json (what the loader compares at load), and
// its settings table equals the one the code validates against.
#pragma once

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "regiongate/compliance/plugin_manifest.hpp"
#include "regiongate/sdk/settings.hpp"

namespace rg::test {

/// The template with the build's placeholders filled as RgPluginManifest.cmake would.
inline std::string FilledManifest(const std::string& plugin_id) {
  std::ifstream in(std::string(RG_SOURCE_DIR) + "/plugins/" + plugin_id + "/plugin.yaml.in");
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string text = buffer.str();
  const std::vector<std::pair<std::string, std::string>> fills = {
      {"@RG_PLUGIN_VERSION@", "0.1.0"},
      {"@RG_PLUGIN_LIBRARY@", "rg-plugin-" + plugin_id + ".so"},
      {"@RG_PLUGIN_SHA256@", std::string(64, 'a')}};
  for (const auto& [key, value] : fills) {
    for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at)) {
      text.replace(at, key.size(), value);
    }
  }
  return text;
}

inline void ExpectManifestMatchesCode(const std::string& plugin_id, const char* vendor,
                                      const char* description_json,
                                      const std::vector<sdk::SettingSpec>& settings) {
  compliance::PluginManifest manifest;
  const compliance::Diagnostics diagnostics = compliance::ParsePluginManifest(
      FilledManifest(plugin_id), "plugins/" + plugin_id + "/plugin.yaml.in", &manifest);
  for (const auto& d : diagnostics) ADD_FAILURE() << d.ToString();
  ASSERT_FALSE(compliance::HasErrors(diagnostics));
  EXPECT_EQ(manifest.id, plugin_id);
  EXPECT_EQ(manifest.vendor, vendor);

  const nlohmann::json description = nlohmann::json::parse(description_json);
  auto set_of = [](const nlohmann::json& list) { return list.get<std::set<std::string>>(); };
  std::set<std::string> models, endpoints;
  for (const auto& m : manifest.models) models.insert(m.id);
  for (const auto& e : manifest.endpoints) endpoints.insert(e.id);
  EXPECT_EQ(set_of(description["models"]), models);
  EXPECT_EQ(set_of(description["endpoints"]), endpoints);
  EXPECT_EQ(set_of(description["capabilities"]),
            std::set<std::string>(manifest.capabilities.begin(), manifest.capabilities.end()));

  ASSERT_EQ(manifest.settings.size(), settings.size());
  for (size_t i = 0; i < settings.size(); ++i) {
    EXPECT_EQ(manifest.settings[i].key, settings[i].key);
    EXPECT_EQ(manifest.settings[i].type, settings[i].type);
    EXPECT_EQ(manifest.settings[i].required, settings[i].required);
    EXPECT_EQ(manifest.settings[i].description, settings[i].description) << settings[i].key;
  }
}

}  // namespace rg::test
