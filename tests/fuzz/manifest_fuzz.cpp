// Fuzz target for the manifest loaders: random bytes as plug-in manifest, region manifest and
// filing registry; whatever parses goes through the cross-file checks and the gate. Builds as
// a libFuzzer target (clang -fsanitize=fuzzer) or, with g++, with fuzz_driver.cpp, which
// replays corpus/manifest and a few thousand deterministic mutations inside ctest.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "regiongate/compliance/filing_registry.hpp"
#include "regiongate/compliance/gate.hpp"
#include "regiongate/compliance/plugin_manifest.hpp"
#include "regiongate/compliance/region_manifest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rg::compliance;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  PluginManifest plugin;
  const bool plugin_ok = !HasErrors(ParsePluginManifest(text, "fuzz.yaml", &plugin));
  if (plugin_ok) (void)plugin.ToJson();

  RegionManifest region;
  const bool region_ok = !HasErrors(ParseRegionManifest(text, "fuzz.yaml", &region));

  auto policy = std::make_shared<PolicySet>();
  (void)ParseRegistry(text, "fuzz.yaml", &policy->registry);
  (void)policy->registry.ToJson();

  if (region_ok) {
    (void)region.ToJson();
    policy->regions.push_back(region);
    std::vector<PluginManifest> plugins;
    if (plugin_ok) plugins.push_back(plugin);
    (void)CheckPolicy(*policy, plugins);
    Gate gate(policy, plugins, *ParseDate("2026-11-21"));
    for (const std::string& locale : region.locales) {
      if (rg::Result<Explanation> e = gate.Explain(locale); e.ok()) {
        (void)e->ToJson();
        (void)e->ToText();
      }
      (void)gate.Choose(locale);
    }
    for (const PluginManifest& p : plugins) {
      for (const EndpointDecl& e : p.endpoints) (void)gate.EgressCheck(region.region, p.id, e.id);
    }
  }
  return 0;
}
