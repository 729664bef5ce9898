// The compliance gate: for every (locale, plug-in, model, endpoint) an allow/deny decision
// with every rule that decided it, computed once when manifests or plug-ins load (never per
// request), as of a date. Missing evidence denies. Also the runtime egress check and the data
// behind `regiongate explain` and `regiongate chat`.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "regiongate/compliance/plugin_manifest.hpp"
#include "regiongate/compliance/policy.hpp"
#include "regiongate/compliance/region_manifest.hpp"
#include "regiongate/result.hpp"

namespace rg::compliance {

/// One rule's say about one combination.
struct Reason {
  std::string rule;      ///< rule id, or "gate" for the gate's own structural checks
  std::string effect;    ///< "allow", "deny", "warn" or "inactive" (not in force / switched off)
  std::string message;   ///< why, naming the plug-in, model, endpoint, filing or region
  std::string citation;  ///< the rule's legal source

  nlohmann::json ToJson() const;
};

struct Decision {
  std::string locale;
  std::string region;
  std::string plugin;
  std::string model;
  std::string endpoint;
  bool allowed = false;
  std::vector<Reason> reasons;  ///< in rule order; a denied decision has at least one "deny"

  /// {"plugin","model","endpoint","allowed","reasons":[...]}
  nlohmann::json ToJson() const;
};

/// Narrows explain/choose to one plug-in, model or endpoint; empty fields match everything.
struct DecisionFilter {
  std::string plugin;
  std::string model;
  std::string endpoint;
};

/// Everything `regiongate explain` prints.
struct Explanation {
  std::string locale;
  std::string region;
  std::string region_name;
  std::string manifest_file;
  std::string as_of;              ///< YYYY-MM-DD
  std::string manifest_revision;  ///< sha256 of the region manifest's bytes
  std::vector<Decision> decisions;

  /// {"locale","region","as_of","manifest_revision","decisions":[...]} (the documented shape).
  nlohmann::json ToJson() const;
  /// A table: one row per decision, then its reasons indented beneath it.
  std::string ToText() const;
  /// A short summary: decisions grouped by plug-in and outcome (same deny rules together),
  /// allowed models and endpoints listed, and each deny rule's reason once.
  std::string ToSummaryText() const;
};

class Gate {
 public:
  /// Computes every decision for every locale of every region in `policy` as of `as_of`.
  Gate(std::shared_ptr<const PolicySet> policy, std::vector<PluginManifest> plugins, Date as_of);

  Date as_of() const { return as_of_; }
  const PolicySet& policy() const { return *policy_; }
  const std::vector<PluginManifest>& plugins() const { return plugins_; }

  /// The region id serving `locale`; RG-G001 (with the nearest known locale) when none does.
  Result<std::string> ResolveRegion(std::string_view locale) const;

  /// Decisions for a locale, optionally narrowed. RG-G001 for an unknown locale, RG-G002 when
  /// the filter names a plug-in, model or endpoint that does not exist.
  Result<Explanation> Explain(std::string_view locale, const DecisionFilter& filter = {}) const;

  /// The precomputed decision, or nullptr when the combination does not exist.
  const Decision* Find(std::string_view locale, std::string_view plugin, std::string_view model,
                       std::string_view endpoint) const;

  /// Allowed decisions for a locale, best first: by the region's `priority` list, then in
  /// plug-in, model and endpoint declaration order.
  std::vector<const Decision*> Allowed(std::string_view locale) const;

  /// What `regiongate chat` uses: the best allowed decision matching `filter`. When none is
  /// allowed, RG-G003 whose message lists every candidate with its deny reasons.
  Result<Decision> Choose(std::string_view locale, const DecisionFilter& filter = {}) const;

  /// The host's egress hook: may a request for `region_id` go to this plug-in endpoint?
  /// Denied destinations return RG-G004 naming the rule; unknown ones RG-G005/RG-G006.
  Result<void> EgressCheck(std::string_view region_id, std::string_view plugin,
                           std::string_view endpoint) const;

 private:
  struct EgressVerdict {
    bool allowed = false;
    std::string rule;
    std::string message;
  };

  Decision Evaluate(const RegionManifest& region, const std::string& locale,
                    const PluginManifest& plugin, const std::string& model,
                    const EndpointDecl& endpoint) const;
  EgressVerdict EvaluateEgress(const RegionManifest& region, const PluginManifest& plugin,
                               const EndpointDecl& endpoint) const;
  Result<void> CheckFilter(const DecisionFilter& filter) const;

  std::shared_ptr<const PolicySet> policy_;
  std::vector<PluginManifest> plugins_;
  Date as_of_;
  std::map<std::string, std::vector<Decision>, std::less<>> decisions_;  // by locale
  std::map<std::string, EgressVerdict, std::less<>> egress_;  // "region\nplugin\nendpoint"
};

}  // namespace rg::compliance
