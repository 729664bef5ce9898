// ComplianceStore: the policy in force in a running host. Reloads region manifests and the
// filing registry on request (SIGHUP in a long-running host, Reload() in the library); an
// invalid new version is rejected as a whole with its diagnostics and the last good version
// stays in force. Readers get an immutable Gate snapshot and never see a half-loaded policy.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "regiongate/compliance/gate.hpp"
#include "regiongate/compliance/policy.hpp"

namespace rg::compliance {

struct StoreOptions {
  PolicySources sources;
  /// Evaluate rules as of this date; unset means today (UTC), re-evaluated when the day
  /// changes so a rule comes into force without a reload.
  std::optional<Date> as_of;
};

class ComplianceStore {
 public:
  explicit ComplianceStore(StoreOptions options);

  /// Re-reads manifests and registry and recomputes every decision. With errors, nothing
  /// changes (the previous policy stays in force, or none before the first success) and the
  /// diagnostics say why. Warnings are returned on success too.
  Diagnostics Reload();

  /// Replaces the loaded plug-ins (after the host loads or unloads one) and recomputes every
  /// decision. Always applied: a plug-in that is gone must not stay allowed. Returns the
  /// reference diagnostics of the policy against the new plug-ins.
  Diagnostics SetPlugins(std::vector<PluginManifest> plugins);

  /// The gate in force; nullptr until the first successful Reload(). Cheap; safe from any
  /// thread. Holding the pointer keeps that snapshot alive across reloads.
  std::shared_ptr<const Gate> gate() const;

  /// Increments on every successful reload or plug-in change.
  uint64_t generation() const;

 private:
  Date EffectiveDate() const;

  StoreOptions options_;
  mutable std::mutex mutex_;
  std::shared_ptr<const PolicySet> policy_;   // guarded by mutex_
  std::vector<PluginManifest> plugins_;       // guarded by mutex_
  uint64_t plugins_version_ = 0;              // guarded by mutex_
  mutable std::shared_ptr<const Gate> gate_;  // guarded by mutex_
  uint64_t generation_ = 0;                   // guarded by mutex_
};

}  // namespace rg::compliance
