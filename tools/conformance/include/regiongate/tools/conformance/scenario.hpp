// Scenario suites: conformance cases written as data by QA (tests/conformance/cases/*.yaml).
// Each case names a locale, a plug-in (or any plug-in the gate allows), a prompt and a
// simulator behaviour, and what must happen: the gate's decision, the outcome, the label and
// the audit record. One runner runs every case against every plug-in it applies to.
// The file format is in docs/conformance.md; problems are reported as FILE:LINE:COL.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "regiongate/compliance/diagnostic.hpp"

namespace rg::tools::conformance {

/// Stable ids of case-file diagnostics (docs/errors.md, "Conformance"). Problems of shape
/// (unknown key, wrong type, YAML syntax) carry the manifests' ids RG-M001..RG-M011: case
/// files are read by the same reader.
namespace scenario_error {
inline constexpr std::string_view kBadBehavior = "RG-C001";
inline constexpr std::string_view kContradiction = "RG-C002";
inline constexpr std::string_view kDuplicateName = "RG-C003";
inline constexpr std::string_view kNoFiles = "RG-C004";
}  // namespace scenario_error

/// How a case is sent: once buffered and once streamed (the default, so a stream can never
/// pass where the buffered answer is stopped), or only one of them.
enum class StreamMode { kBoth, kStream, kBuffered };

struct ScenarioExpect {
  std::string decision;  ///< "", "allowed" or "denied"
  std::string rule;      ///< a rule id that decided it (allow or deny effect)
  /// "", or Runtime::Complete's outcome: completed, blocked_input, blocked_output, failed,
  /// cancelled; or denied (the gate refused the request)
  std::string outcome;
  std::string code;        ///< canonical code name (rate_limited, provider_blocked, ...)
  std::string finish;      ///< finish name (stop, content_filter, ...)
  std::string blocked_by;  ///< "", "regiongate" (its content filter or PII) or "provider"
  std::vector<std::string> text_contains;  ///< each must be in the answer
  std::vector<std::string> text_absent;    ///< none may ever reach the caller, streamed or not
  /// Explicit label that must be in the answer: literal text, or "region" for the region's
  /// label for the locale (at its position).
  std::string label;
  /// Fields the request's audit record must have, with these values.
  std::map<std::string, nlohmann::json> audit;
};

struct ScenarioCase {
  std::string name;
  std::string locale;
  std::string plugin;  ///< empty: every plug-in under test (those the gate allows, when allowed)
  std::string model;
  std::string endpoint;
  /// The case applies only to plug-ins whose manifest declares all of these (a vendor's
  /// content block means nothing for a plug-in without provider_blocks).
  std::vector<std::string> capabilities;
  nlohmann::json settings = nlohmann::json::object();  ///< plug-in settings
  std::string system;
  std::string prompt;    ///< empty: only the gate's decision is checked
  std::string behavior;  ///< simulator behaviour NAME[:ARG]; empty = normal
  StreamMode stream = StreamMode::kBoth;
  std::optional<int64_t> max_tokens;
  ScenarioExpect expect;

  std::string file;  ///< where the case is written, for messages
  int line = 0;
  int column = 0;

  bool AppliesTo(std::string_view plugin_id) const { return plugin.empty() || plugin == plugin_id; }
  /// "FILE:LINE:COL".
  std::string Where() const;
};

struct ScenarioSuite {
  std::string name;  ///< `suite:`, or the file name without extension
  std::string description;
  std::string file;
  std::vector<ScenarioCase> cases;
};

/// Parses one suite from YAML text; `file` names it in diagnostics. `suite` is filled only
/// when there are no errors.
compliance::Diagnostics ParseScenario(std::string_view yaml, const std::string& file,
                                      ScenarioSuite* suite);

/// Reads case files: files as given, directories for *.yaml / *.yml (sorted, not recursive).
/// Every problem in every file is reported; suites with errors are left out.
compliance::Diagnostics LoadScenarios(const std::vector<std::filesystem::path>& paths,
                                      std::vector<ScenarioSuite>* suites);

/// The files LoadScenarios would read for `paths`, in order.
std::vector<std::filesystem::path> ScenarioFiles(const std::vector<std::filesystem::path>& paths);

}  // namespace rg::tools::conformance
