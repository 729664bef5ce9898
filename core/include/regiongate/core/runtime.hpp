// Runtime: the host plus the compliance policy in force — what an application embeds and what
// `regiongate chat --locale` runs. Loads plug-ins, gives their manifests to the compliance
// store, installs the egress hook so every outbound request is checked against the region's
// rules, picks the best allowed plug-in/model/endpoint for a locale, and reloads policy
// without a restart (the last good policy stays in force when a new one is invalid).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <map>
#include <mutex>

#include "regiongate/compliance/audit_log.hpp"
#include "regiongate/compliance/content_filter.hpp"
#include "regiongate/compliance/gate.hpp"
#include "regiongate/compliance/labels.hpp"
#include "regiongate/compliance/store.hpp"
#include "regiongate/core/host.hpp"
#include "regiongate/result.hpp"

namespace rg::core {

struct RuntimeOptions {
  HostOptions host;
  std::vector<std::filesystem::path> plugin_dirs;
  std::filesystem::path config_dir;       ///< holds regions/ and registry/
  std::optional<compliance::Date> as_of;  ///< unset: today (UTC)
  /// Audit trails go to <audit_dir>/<region>/. Empty: no trail, and a region that requires
  /// one refuses every request (fail closed).
  std::filesystem::path audit_dir;
  /// File holding the key of the prompt HMAC (>= 16 bytes). Empty: <audit_dir>/audit.salt,
  /// created with fresh random bytes (mode 0600) on first use.
  std::filesystem::path audit_salt_file;
  /// Where compiled lexicons are cached; empty: the content filter's default.
  std::filesystem::path filter_cache_dir;
};

/// A completion that went through the gate and the region's request-time policies.
struct GatedCompletion {
  std::string decision_id;        ///< unique per request; also the audit record's id
  compliance::Decision decision;  ///< the allowed decision that was used
  /// completed | blocked_input | blocked_output | failed | cancelled
  std::string outcome;
  /// For blocked_*: "regiongate" (content filter, PII, content it cannot inspect) or
  /// "provider"; the audit record has it as extra.blocked_by.
  std::string blocked_by;
  std::vector<std::string> rules;  ///< rules that fired: gate rules, content categories, PII
  /// What the caller received: text is the delivered answer (labels, restored PII, cut at
  /// an output block), code/finish say how it ended.
  CompletionResult result;
  compliance::LabelOutput labels;    ///< explicit label text and implicit metadata
  std::filesystem::path audit_file;  ///< the trail the record went to ("" when none)
};

class Runtime {
 public:
  /// Loads plug-ins and policy. Plug-in refusals are kept in load_report() (they do not fail
  /// creation); an invalid policy fails with every diagnostic in the error message.
  static Result<std::unique_ptr<Runtime>> Create(RuntimeOptions options);

  Host& host() { return *host_; }
  const LoadReport& load_report() const { return load_report_; }
  compliance::ComplianceStore& policy() { return *store_; }
  /// The gate in force (never null after Create succeeded).
  std::shared_ptr<const compliance::Gate> gate() const { return store_->gate(); }
  /// Warnings from the last successful policy load.
  const compliance::Diagnostics& policy_warnings() const { return warnings_; }

  /// Re-reads region manifests and the registry (SIGHUP in a long-running host). With errors
  /// nothing changes and the diagnostics say why.
  compliance::Diagnostics Reload();

  /// Chooses the best allowed plug-in/model/endpoint for `locale` (narrowed by `filter`),
  /// applies the region's input policies to every message (string content or text parts;
  /// RG-R007 refuses parts they cannot inspect), creates an instance and runs the completion
  /// with the region attached, so the egress hook checks every request. RG-G001/RG-G003 when
  /// nothing is allowed (exit code 2 in the CLI). `body` is the canonical request; its
  /// "model" is set from the decision. Every call that returns a GatedCompletion, refusals
  /// included, ends `on_event` with one FINAL event whose JSON data holds the result's
  /// final_data plus "outcome", "decision_id" (the audit record's) and, when a provider was
  /// called, "implicit_metadata" (labels.implicit_metadata, in its key order).
  Result<GatedCompletion> Complete(const std::string& locale,
                                   const compliance::DecisionFilter& filter, nlohmann::json body,
                                   const nlohmann::json& settings = {},
                                   const EventCallback& on_event = {},
                                   const CancelToken& cancel = CancelToken());

 private:
  Runtime() = default;
  /// The region's content filter (built once per policy generation), nullptr when the
  /// region has no lexicons.
  Result<std::shared_ptr<const compliance::ContentFilter>> FilterFor(
      const compliance::RegionManifest& region);
  /// The region's audit writer; an Error when it cannot be opened.
  Result<compliance::AuditWriter*> AuditFor(const compliance::RegionManifest& region);

  RuntimeOptions options_;
  std::mutex mutex_;  // guards the caches below
  std::map<std::string, std::pair<uint64_t, std::shared_ptr<const compliance::ContentFilter>>>
      filters_;  // region -> (generation, filter)
  std::map<std::string, std::unique_ptr<compliance::AuditWriter>> audit_writers_;
  std::unique_ptr<Host> host_;
  std::unique_ptr<compliance::ComplianceStore> store_;
  LoadReport load_report_;
  compliance::Diagnostics warnings_;
};

/// Joins diagnostics one per line (FILE:LINE:COL: error: MESSAGE).
std::string FormatDiagnostics(const compliance::Diagnostics& diagnostics);

}  // namespace rg::core
