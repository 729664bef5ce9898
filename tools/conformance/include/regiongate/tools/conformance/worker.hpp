// The conformance worker: runs every case for ONE plug-in inside its own process (the
// harness starts it as `regiongate conformance-worker`), against an in-process vendor
// simulator, and reports each case as a JSON line on a pipe as soon as it is decided, so
// the harness keeps every result reached before a crash or a hang.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "regiongate/compliance/policy.hpp"

namespace rg::tools::conformance {

struct WorkerOptions {
  std::filesystem::path manifest;  ///< plugin.yaml of the plug-in under test
  std::vector<std::filesystem::path> scenario_files;
  std::filesystem::path config_dir;  ///< the policy (regions/, registry/, lexicons/)
  /// Scratch space owned by this worker: the merged policy with the probe regions, the
  /// patched manifest copy, and whatever the host writes (audit records are looked for here).
  std::filesystem::path work_dir;
  std::optional<compliance::Date> as_of;  ///< rules in force on this day; unset: today
  /// Extra PLUGIN.ENDPOINT=URL overrides; "{sim}" in URL is the simulator's base URL. Every
  /// endpoint already points at the simulator ("*.*={sim}"); these win by being more specific.
  std::vector<std::string> endpoint_overrides;
  int result_fd = -1;  ///< where JSON lines go (the harness's pipe)
  /// How long a plug-in may take to return after the caller stopped its stream.
  std::chrono::milliseconds cancel_deadline{5000};
  int threads = 8;  ///< concurrent-requests case: threads, two requests each
};

/// Runs the suite and returns the process exit code (0 when the run finished, whatever the
/// verdicts; they travel on the pipe). Never returns early on a plug-in failure.
int RunWorker(const WorkerOptions& options);

/// Protocol between worker and harness, one JSON object per line:
///   {"event":"plan","plugin":ID,"cases":[{"suite","classname","name"}...]}
///   {"event":"start","index":N}
///   {"event":"result","index":N,...CaseResult::ToJson()}
///   {"event":"done"}
/// A worker that dies between "start" and "result" died in that case.
inline constexpr const char* kWorkerSubcommand = "conformance-worker";

}  // namespace rg::tools::conformance
