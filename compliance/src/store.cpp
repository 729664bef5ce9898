#include "regiongate/compliance/store.hpp"

namespace rg::compliance {

ComplianceStore::ComplianceStore(StoreOptions options) : options_(std::move(options)) {}

Date ComplianceStore::EffectiveDate() const { return options_.as_of.value_or(Today()); }

Diagnostics ComplianceStore::Reload() {
  // Parse outside the lock: readers keep using the current gate meanwhile.
  std::vector<PluginManifest> plugins;
  uint64_t plugins_version = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    plugins = plugins_;
    plugins_version = plugins_version_;
  }
  PolicySet policy;
  Diagnostics diagnostics = LoadPolicy(options_.sources, plugins, &policy);
  if (HasErrors(diagnostics)) return diagnostics;
  auto shared_policy = std::make_shared<const PolicySet>(std::move(policy));
  auto gate = std::make_shared<const Gate>(shared_policy, plugins, EffectiveDate());
  std::lock_guard<std::mutex> lock(mutex_);
  if (plugins_version_ != plugins_version) {
    // Plug-ins changed while we parsed: decide against the current set.
    gate = std::make_shared<const Gate>(shared_policy, plugins_, EffectiveDate());
  }
  policy_ = std::move(shared_policy);
  gate_ = std::move(gate);
  ++generation_;
  return diagnostics;
}

Diagnostics ComplianceStore::SetPlugins(std::vector<PluginManifest> plugins) {
  std::lock_guard<std::mutex> lock(mutex_);
  plugins_ = std::move(plugins);
  ++plugins_version_;
  Diagnostics diagnostics;
  if (policy_) {
    diagnostics = CheckPolicy(*policy_, plugins_);
    gate_ = std::make_shared<const Gate>(policy_, plugins_, EffectiveDate());
  }
  ++generation_;
  return diagnostics;
}

std::shared_ptr<const Gate> ComplianceStore::gate() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (gate_ && !options_.as_of && gate_->as_of() != Today()) {
    // A new day: rules may have come into force or lapsed.
    gate_ = std::make_shared<const Gate>(policy_, plugins_, Today());
  }
  return gate_;
}

uint64_t ComplianceStore::generation() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return generation_;
}

}  // namespace rg::compliance
