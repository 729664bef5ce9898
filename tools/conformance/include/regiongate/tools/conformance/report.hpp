// Results of a conformance run and the three ways they are written: the summary a person
// reads, JUnit XML for CI, and JSON for scripts (docs/conformance.md describes each shape).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace rg::tools::conformance {

/// Pending: the case checks a policy the runtime does not apply yet. It is listed, with
/// its reason, but does not fail the run (unless the caller asks with --fail-pending).
enum class CaseStatus { kPassed, kFailed, kSkipped, kPending };

/// "passed", "failed", "skipped", "pending".
std::string_view StatusName(CaseStatus status);
std::optional<CaseStatus> ParseStatus(std::string_view name);

/// Where a case sits in JUnit terms.
struct CaseId {
  std::string suite;      ///< JUnit testsuite: the plug-in id, or the scenario suite's name
  std::string classname;  ///< JUnit classname: the plug-in id, or the scenario suite's name
  std::string name;       ///< the case, unique within its classname

  nlohmann::json ToJson() const;
  static CaseId FromJson(const nlohmann::json& json);
};

struct CaseResult {
  CaseId id;
  std::string plugin;  ///< the plug-in the case ran against
  CaseStatus status = CaseStatus::kSkipped;
  std::string message;  ///< why it failed, was skipped or is pending; empty when it passed
  std::string details;  ///< what was observed, for the curious (JUnit failure body, --json)
  double seconds = 0;

  nlohmann::json ToJson() const;
  static CaseResult FromJson(const nlohmann::json& json);
};

/// Everything one plug-in's worker reported, plus what the harness saw of the worker.
struct PluginReport {
  std::string plugin;    ///< id, or the folder name when the manifest could not be read
  std::string manifest;  ///< path of its plugin.yaml
  std::vector<CaseResult> cases;
  /// Why the worker did not finish (crash, hang, bad exit), naming the case it was in;
  /// empty when it finished. The case it was in is also failed with this message.
  std::string failure;
  double seconds = 0;
};

struct Counts {
  int passed = 0;
  int failed = 0;
  int skipped = 0;
  int pending = 0;
  int total() const { return passed + failed + skipped + pending; }
  void Add(CaseStatus status);
};

struct RunReport {
  std::vector<PluginReport> plugins;
  /// Remarks about the run as a whole (scenario cases naming a plug-in not under test, ...).
  std::vector<std::string> notes;
  double seconds = 0;
  bool fail_pending = false;  ///< --fail-pending: pending cases fail the run

  Counts counts() const;
  /// True when no case failed, no worker failed (and, with fail_pending, nothing is pending).
  bool ok() const;
};

/// The summary printed at the end: one block per plug-in listing every case that did not
/// pass with its reason (every case with `verbose`), then the totals.
std::string SummaryText(const RunReport& report, bool verbose = false);

/// JUnit XML: <testsuites> of <testsuite name=plug-in or scenario suite> of <testcase
/// classname=... name=...>, with <failure message=...> or <skipped message=...> (pending
/// cases are skipped with a message starting "pending: ").
std::string JunitXml(const RunReport& report);

/// {"ok","seconds","counts":{...},"notes":[...],"plugins":[{"plugin","manifest","failure",
///  "seconds","counts","cases":[{"suite","classname","name","status","message","details",
///  "seconds"}]}]}
nlohmann::json ReportJson(const RunReport& report);

/// Escapes text for an XML attribute or element (and drops characters XML 1.0 forbids).
std::string XmlEscape(std::string_view text);

}  // namespace rg::tools::conformance
