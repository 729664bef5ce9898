// `regiongate conformance`: proves plug-in binaries and scenario files (docs/conformance.md).
// The work is in rg::conformance; this file parses options, prints and writes the reports.
// `conformance-worker` is the hidden subcommand the harness starts once per plug-in.
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <memory>

#include "cli_context.hpp"
#include "regiongate/tools/conformance/harness.hpp"
#include "regiongate/tools/conformance/worker.hpp"

namespace rg::tools {

namespace {

namespace fs = std::filesystem;

struct ConformanceOptions {
  std::vector<std::string> paths;
  std::vector<std::string> cases;
  std::string junit;
  std::string json;
  double timeout_s = 60;
  int jobs = 2;
  int threads = 8;
  std::string as_of;
  bool fail_pending = false;
  bool keep = false;
};

struct WorkerArgs {
  std::string manifest;
  std::string work_dir;
  int result_fd = -1;
  std::string as_of;
  std::vector<std::string> case_files;
  int64_t cancel_deadline_ms = 5000;
  int threads = 8;
};

void WriteFile(const std::string& path, const std::string& text, const char* what) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) {
    throw CliExit{kExitRuntime, std::string("cannot write the ") + what + " report to '" + path +
                                    "'; check the directory exists and is writable"};
  }
}

int Conformance(CliContext& ctx, const ConformanceOptions& o) {
  using namespace conformance;
  if (!o.as_of.empty() && !compliance::ParseDate(o.as_of)) {
    throw CliExit{kExitUsage, "--as-of '" + o.as_of + "' is not a date of the form YYYY-MM-DD"};
  }
  std::vector<fs::path> paths(o.paths.begin(), o.paths.end());
  if (paths.empty()) paths = ctx.PluginDirs();
  if (paths.empty()) {
    throw CliExit{kExitUsage,
                  "nothing to test: name plug-in folders or libraries, or pass --plugin-dir"};
  }
  auto targets = ResolveTargets(paths);
  if (!targets.ok()) {
    throw CliExit{kExitUsage, targets.error().message + " [" + targets.error().id + "]"};
  }

  HarnessOptions options;
  options.targets = targets.value();
  options.scenario_files = ScenarioFiles(std::vector<fs::path>(o.cases.begin(), o.cases.end()));
  const auto diagnostics =
      LoadScenarios(std::vector<fs::path>(o.cases.begin(), o.cases.end()), &options.suites);
  for (const auto& d : diagnostics) std::cerr << d.ToString() << "\n";
  if (compliance::HasErrors(diagnostics)) {
    throw CliExit{kExitUsage, "the case files have errors (above); fix them and run again"};
  }
  options.config_dir = ctx.ConfigDir();
  options.as_of = o.as_of;
  options.endpoint_overrides = ctx.endpoint_overrides;
  std::error_code ec;
  options.worker_exe = fs::read_symlink("/proc/self/exe", ec);
  options.case_timeout = std::chrono::milliseconds(static_cast<int64_t>(o.timeout_s * 1000));
  options.jobs = o.jobs;
  options.threads = o.threads;
  options.keep_work_dirs = o.keep;
  options.fail_pending = o.fail_pending;

  ProgressPrinter printer(::isatty(2) != 0);
  const RunReport report = RunHarness(options, [&printer](const ProgressEvent& e) { printer(e); });
  printer.Finish();
  std::cout << SummaryText(report, ctx.verbose) << std::flush;
  if (!o.junit.empty()) WriteFile(o.junit, JunitXml(report), "JUnit");
  if (!o.json.empty()) {
    WriteFile(
        o.json,
        ReportJson(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
        "JSON");
  }
  return report.ok() ? kExitOk : kExitDenied;
}

int Worker(CliContext& ctx, const WorkerArgs& a) {
  conformance::WorkerOptions options;
  options.manifest = a.manifest;
  options.work_dir = a.work_dir;
  options.result_fd = a.result_fd;
  options.config_dir = ctx.config_dir.empty() ? fs::path() : fs::path(ctx.config_dir);
  if (!a.as_of.empty()) options.as_of = compliance::ParseDate(a.as_of);
  options.scenario_files.assign(a.case_files.begin(), a.case_files.end());
  options.endpoint_overrides = ctx.endpoint_overrides;
  options.cancel_deadline = std::chrono::milliseconds(a.cancel_deadline_ms);
  options.threads = a.threads;
  return conformance::RunWorker(options);
}

}  // namespace

void RegisterConformance(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<ConformanceOptions>();
  auto* cmd = app.add_subcommand(
      "conformance",
      "prove plug-ins against the vendor simulator and scenario files; exit 0 only when every "
      "case passes (2 when one fails)");
  cmd->add_option("PATH", o->paths,
                  "plug-in folder, folder of plug-ins, plugin.yaml or plug-in library; "
                  "default: the plug-in directories (--plugin-dir)");
  cmd->add_option("--cases", o->cases,
                  "scenario file or directory of *.yaml suites (tests/conformance/cases); "
                  "repeatable");
  cmd->add_option("--junit", o->junit, "write JUnit XML to FILE");
  cmd->add_option("--json", o->json, "write the results as JSON to FILE");
  cmd->add_option("--timeout", o->timeout_s,
                  "seconds one case may run before the plug-in counts as hung and its worker "
                  "is killed (default 60)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--jobs", o->jobs, "plug-ins tested at a time (default 2)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--threads", o->threads,
                  "threads of the concurrent-requests case, two requests each (default 8)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--as-of", o->as_of, "evaluate the rules as of YYYY-MM-DD (default today)");
  cmd->add_flag("--fail-pending", o->fail_pending,
                "count pending cases (policies the runtime does not apply yet) as failures");
  cmd->add_flag("--keep-work-dirs", o->keep, "keep each worker's scratch folder for inspection");
  cmd->footer(
      "Every declared endpoint points at an in-process vendor simulator; --endpoint-override "
      "'ID.*={sim}/PREFIX' changes where one plug-in's requests go on it.");
  cmd->callback([&ctx, o] { ctx.exit_code = Conformance(ctx, *o); });

  auto w = std::make_shared<WorkerArgs>();
  auto* worker = app.add_subcommand(conformance::kWorkerSubcommand,
                                    "run one plug-in's conformance cases (started by "
                                    "'regiongate conformance')");
  worker->group("");  // hidden: only the harness starts it
  worker->add_option("--manifest", w->manifest)->required();
  worker->add_option("--work-dir", w->work_dir)->required();
  worker->add_option("--result-fd", w->result_fd)->required();
  worker->add_option("--as-of", w->as_of);
  worker->add_option("--case-file", w->case_files);
  worker->add_option("--cancel-deadline-ms", w->cancel_deadline_ms);
  worker->add_option("--threads", w->threads);
  worker->callback([&ctx, w] { ctx.exit_code = Worker(ctx, *w); });
}

}  // namespace rg::tools
