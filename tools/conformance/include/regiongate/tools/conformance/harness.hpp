// The conformance harness (`regiongate conformance`): finds the plug-ins to test, runs each
// plug-in's suite in its own worker process with a per-case timeout, turns a crash or a hang
// into that plug-in's failure (naming the signal and the case), and collects the results.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "regiongate/compliance/plugin_manifest.hpp"
#include "regiongate/result.hpp"
#include "regiongate/tools/conformance/report.hpp"
#include "regiongate/tools/conformance/scenario.hpp"

namespace rg::tools::conformance {

/// Stable ids of harness errors (docs/errors.md, "Conformance").
namespace harness_error {
inline constexpr std::string_view kNoTarget = "RG-C101";
inline constexpr std::string_view kNoManifest = "RG-C102";
inline constexpr std::string_view kSpawnFailed = "RG-C103";
inline constexpr std::string_view kWorkDir = "RG-C104";
}  // namespace harness_error

/// One plug-in to test.
struct Target {
  std::string plugin;              ///< id from its manifest, or the folder name
  std::filesystem::path manifest;  ///< absolute path of its plugin.yaml
};

/// Expands what the user named: a plug-in folder (holding plugin.yaml), a folder of plug-in
/// folders (like the build's plugins/), a plugin.yaml, or a library with plugin.yaml next to
/// it. RG-C101 when a path does not exist or holds no plug-in, RG-C102 when a library has no
/// manifest beside it.
Result<std::vector<Target>> ResolveTargets(const std::vector<std::filesystem::path>& paths);

/// The simulator's default credentials under the names this plug-in's secret settings
/// default to: OPENAI_API_KEY for openai, DASHSCOPE_API_KEY for qwen, the Qianfan key, AK
/// and SK for baidu, and the OpenAI key for any other (OpenAI-compatible) plug-in.
std::vector<std::pair<std::string, std::string>> SimulatorCredentials(
    const compliance::PluginManifest& manifest);

/// Observes the run as it goes (the progress line).
struct ProgressEvent {
  enum class Kind { kWorkerStarted, kCaseStarted, kCaseFinished, kWorkerFinished };
  Kind kind = Kind::kCaseStarted;
  std::string plugin;
  size_t case_index = 0;  ///< 0-based, within the plug-in
  size_t case_count = 0;  ///< planned cases of the plug-in (0 until the worker said)
  std::string case_name;
  CaseStatus status = CaseStatus::kPassed;  ///< kCaseFinished only
  size_t workers_done = 0;
  size_t workers_total = 0;
};
using ProgressSink = std::function<void(const ProgressEvent&)>;

struct HarnessOptions {
  std::vector<Target> targets;
  std::vector<std::filesystem::path> scenario_files;  ///< already checked (LoadScenarios)
  std::vector<ScenarioSuite> suites;                  ///< the same, parsed (for notes)
  std::filesystem::path config_dir;
  std::string as_of;  ///< YYYY-MM-DD or empty
  std::vector<std::string> endpoint_overrides;
  /// The binary that has the worker subcommand (regiongate itself, /proc/self/exe).
  std::filesystem::path worker_exe;
  /// A case running longer than this is a hang: the worker is killed and the plug-in fails.
  std::chrono::milliseconds case_timeout{60'000};
  int jobs = 2;  ///< workers at a time
  int threads = 8;
  bool keep_work_dirs = false;  ///< leave each worker's scratch folder for inspection
  bool fail_pending = false;
};

/// Runs every target's worker and returns what they reported. Never throws and never dies
/// with a worker; a worker's crash, hang or odd exit is in PluginReport::failure.
RunReport RunHarness(const HarnessOptions& options, const ProgressSink& progress = {});

/// Prints the progress line: rewritten in place ("\r") on a terminal, one plain line per
/// finished case otherwise. Writes to stderr.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool terminal) : terminal_(terminal) {}
  void operator()(const ProgressEvent& event);
  /// Clears the line (terminal) before the summary is printed.
  void Finish();

 private:
  bool terminal_;
  size_t width_ = 0;
};

/// "SIGSEGV" for 11, ..., "signal N" when unnamed.
std::string SignalName(int signal);

}  // namespace rg::tools::conformance
