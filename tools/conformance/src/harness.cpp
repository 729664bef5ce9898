#include "regiongate/tools/conformance/harness.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "regiongate/tools/conformance/worker.hpp"
#include "regiongate/tools/vendor_sim.hpp"

extern char** environ;

namespace rg::tools::conformance {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string Quoted(const std::string& name) { return "'" + name + "'"; }

std::string DurationText(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

// ---- one worker process ----------------------------------------------------------------

constexpr size_t kOutputTailBytes = size_t{16} * 1024;

struct WorkerProcess {
  Target target;
  fs::path work_dir;
  std::vector<std::string> secrets;  // credential values given to it, for the raw-output scan

  pid_t pid = -1;
  int result_fd = -1;
  int output_fd = -1;
  Clock::time_point started;
  Clock::time_point phase_start;  // start of the current case (or of the worker)

  std::string line_buffer;
  std::string output_tail;  // last kOutputTailBytes of stdout+stderr
  std::string scan_carry;   // end of the previous output chunk, for secrets split by reads
  bool asan_report = false;
  std::string asan_kind;
  bool leaked_secret = false;

  std::vector<CaseId> plan;
  std::map<size_t, CaseResult> results;
  std::optional<size_t> current;
  std::optional<size_t> last_finished;
  bool done = false;

  bool exited = false;
  int wait_status = 0;
  bool timed_out = false;
  std::optional<size_t> timed_out_case;
  std::string spawn_error;
};

void CloseFd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

std::string CaseName(const WorkerProcess& w, std::optional<size_t> index) {
  if (index && *index < w.plan.size()) return w.plan[*index].name;
  return {};
}

// Where the worker was when it stopped: "during case 'x'", "before its first case", ...
std::string WhereText(const WorkerProcess& w, std::optional<size_t> index) {
  if (index && *index < w.plan.size()) return "during case " + Quoted(w.plan[*index].name);
  if (w.plan.empty() || !w.last_finished) return "before its first case";
  return "after case " + Quoted(CaseName(w, w.last_finished));
}

void HandleLine(WorkerProcess& w, const std::string& line, const ProgressSink& progress,
                size_t workers_done, size_t workers_total) {
  const json event = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!event.is_object()) return;
  const std::string kind = event.value("event", "");
  w.phase_start = Clock::now();
  if (kind == "plan") {
    w.plan.clear();
    if (event.contains("cases") && event["cases"].is_array()) {
      for (const auto& c : event["cases"]) w.plan.push_back(CaseId::FromJson(c));
    }
  } else if (kind == "start") {
    const size_t index = event.value("index", size_t{0});
    w.current = index;
    if (progress) {
      ProgressEvent e;
      e.kind = ProgressEvent::Kind::kCaseStarted;
      e.plugin = w.target.plugin;
      e.case_index = index;
      e.case_count = w.plan.size();
      e.case_name = CaseName(w, index);
      e.workers_done = workers_done;
      e.workers_total = workers_total;
      progress(e);
    }
  } else if (kind == "result") {
    const size_t index = event.value("index", size_t{0});
    CaseResult result = CaseResult::FromJson(event);
    if (index < w.plan.size()) result.id = w.plan[index];
    result.plugin = w.target.plugin;
    if (progress) {
      ProgressEvent e;
      e.kind = ProgressEvent::Kind::kCaseFinished;
      e.plugin = w.target.plugin;
      e.case_index = index;
      e.case_count = w.plan.size();
      e.case_name = result.id.name;
      e.status = result.status;
      e.workers_done = workers_done;
      e.workers_total = workers_total;
      progress(e);
    }
    w.results[index] = std::move(result);
    w.current.reset();
    w.last_finished = index;
  } else if (kind == "done") {
    w.done = true;
  }
}

void ReadResults(WorkerProcess& w, const ProgressSink& progress, size_t done, size_t total) {
  char buffer[8192];
  while (w.result_fd >= 0) {
    const ssize_t n = ::read(w.result_fd, buffer, sizeof buffer);
    if (n > 0) {
      w.line_buffer.append(buffer, static_cast<size_t>(n));
      size_t newline;
      while ((newline = w.line_buffer.find('\n')) != std::string::npos) {
        const std::string line = w.line_buffer.substr(0, newline);
        w.line_buffer.erase(0, newline + 1);
        HandleLine(w, line, progress, done, total);
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    CloseFd(&w.result_fd);  // EOF or error
  }
}

void ScanOutput(WorkerProcess& w, std::string_view chunk) {
  size_t longest = 0;
  for (const auto& s : w.secrets) longest = std::max(longest, s.size());
  const std::string window = w.scan_carry + std::string(chunk);
  for (const auto& secret : w.secrets) {
    if (!secret.empty() && window.find(secret) != std::string::npos) w.leaked_secret = true;
  }
  w.scan_carry = longest > 1 && window.size() >= longest - 1
                     ? window.substr(window.size() - (longest - 1))
                     : window;
  if (!w.asan_report) {
    const std::string probe = w.output_tail + std::string(chunk);
    const size_t at = probe.find("ERROR: AddressSanitizer: ");
    if (at != std::string::npos) {
      w.asan_report = true;
      const size_t start = at + std::string_view("ERROR: AddressSanitizer: ").size();
      const size_t end = probe.find_first_of("\n(", start);
      w.asan_kind = probe.substr(start, end == std::string::npos ? std::string::npos : end - start);
      while (!w.asan_kind.empty() && w.asan_kind.back() == ' ') w.asan_kind.pop_back();
    }
  }
}

void ReadOutput(WorkerProcess& w) {
  char buffer[8192];
  while (w.output_fd >= 0) {
    const ssize_t n = ::read(w.output_fd, buffer, sizeof buffer);
    if (n > 0) {
      const std::string_view chunk(buffer, static_cast<size_t>(n));
      ScanOutput(w, chunk);
      w.output_tail.append(chunk);
      if (w.output_tail.size() > kOutputTailBytes) {
        w.output_tail.erase(0, w.output_tail.size() - kOutputTailBytes);
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    CloseFd(&w.output_fd);
  }
}

// Environment of a worker: the caller's, without real credentials or proxies (the simulator
// is on loopback), plus the simulator's credentials under the names the plug-in reads.
std::vector<std::string> WorkerEnvironment(
    const WorkerProcess& w, const std::vector<std::pair<std::string, std::string>>& credentials) {
  std::set<std::string> drop = {
      "OPENAI_API_KEY", "DASHSCOPE_API_KEY", "QIANFAN_API_KEY", "QIANFAN_AK",  "QIANFAN_SK",
      "http_proxy",     "https_proxy",       "HTTP_PROXY",      "HTTPS_PROXY", "all_proxy",
      "ALL_PROXY",      "no_proxy",          "NO_PROXY",        "TMPDIR",      "XDG_STATE_HOME",
      "XDG_DATA_HOME",  "RG_PLUGIN_DIR"};
  for (const auto& [name, value] : credentials) drop.insert(name);
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    if (drop.count(name) != 0) continue;
    // Any other vendor key in the caller's environment stays out of a plug-in under test.
    if (name.size() > 8 && name.compare(name.size() - 8, 8, "_API_KEY") == 0) continue;
    env.push_back(entry);
  }
  for (const auto& [name, value] : credentials) env.push_back(name + '=' + value);  // NOLINT
  env.push_back("no_proxy=127.0.0.1,localhost");
  env.push_back("NO_PROXY=127.0.0.1,localhost");
  // Files the host writes by default (audit records, caches) land in the worker's scratch
  // folder, where the credential scan looks.
  env.push_back("TMPDIR=" + (w.work_dir / "tmp").string());
  env.push_back("XDG_STATE_HOME=" + (w.work_dir / "state").string());
  env.push_back("XDG_DATA_HOME=" + (w.work_dir / "data").string());
  return env;
}

std::vector<std::string> WorkerArguments(const HarnessOptions& o, const WorkerProcess& w) {
  std::vector<std::string> args = {
      o.worker_exe.string(), kWorkerSubcommand,        "--manifest",  w.target.manifest.string(),
      "--work-dir",          w.work_dir.string(),      "--result-fd", "3",
      "--threads",           std::to_string(o.threads)};
  if (!o.config_dir.empty()) {
    args.push_back("--config");
    args.push_back(o.config_dir.string());
  }
  if (!o.as_of.empty()) {
    args.push_back("--as-of");
    args.push_back(o.as_of);
  }
  // Half the case timeout: a plug-in that does not stop when asked fails its cancellation
  // case with that precise message before the harness would call it a hang.
  args.push_back("--cancel-deadline-ms");
  args.push_back(std::to_string(std::max<int64_t>(200, o.case_timeout.count() / 2)));
  for (const auto& file : o.scenario_files) {
    args.push_back("--case-file");
    args.push_back(fs::absolute(file).string());
  }
  for (const auto& spec : o.endpoint_overrides) {
    args.push_back("--endpoint-override");
    args.push_back(spec);
  }
  return args;
}

// Moves `fd` to `target` in a freshly forked child (async-signal-safe calls only).
void PlaceFd(int fd, int target) {
  if (fd == target) {
    ::fcntl(fd, F_SETFD, 0);  // keep it across exec
  } else {
    ::dup2(fd, target);
  }
}

bool Spawn(const HarnessOptions& options, WorkerProcess& w) {
  std::error_code ec;
  fs::create_directories(w.work_dir / "tmp", ec);
  if (ec) {
    w.spawn_error =
        "cannot create the worker's folder " + w.work_dir.string() + ": " + ec.message();
    return false;
  }
  compliance::PluginManifest manifest;
  std::vector<std::pair<std::string, std::string>> credentials;
  if (!compliance::HasErrors(compliance::CheckPluginManifest(w.target.manifest, &manifest))) {
    credentials = SimulatorCredentials(manifest);
  }
  for (const auto& [name, value] : credentials) w.secrets.push_back(value);

  const std::vector<std::string> args = WorkerArguments(options, w);
  const std::vector<std::string> env = WorkerEnvironment(w, credentials);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const std::string dir = w.work_dir.string();

  int result_pipe[2];
  int output_pipe[2];
  if (::pipe2(result_pipe, O_CLOEXEC) != 0) {
    w.spawn_error = std::string("cannot create a pipe: ") + std::strerror(errno);
    return false;
  }
  if (::pipe2(output_pipe, O_CLOEXEC) != 0) {
    w.spawn_error = std::string("cannot create a pipe: ") + std::strerror(errno);
    ::close(result_pipe[0]);
    ::close(result_pipe[1]);
    return false;
  }
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t pid = ::fork();
  if (pid == 0) {
    // Child: its own process group, so a timeout kills it and anything it started.
    ::setpgid(0, 0);
    // Lift every fd above the targets first so that no dup2 clobbers one still needed.
    const int result = ::fcntl(result_pipe[1], F_DUPFD_CLOEXEC, 10);
    const int output = ::fcntl(output_pipe[1], F_DUPFD_CLOEXEC, 10);
    const int input = devnull >= 0 ? ::fcntl(devnull, F_DUPFD_CLOEXEC, 10) : -1;
    if (input >= 0) PlaceFd(input, 0);
    PlaceFd(output, 1);
    PlaceFd(output, 2);
    PlaceFd(result, 3);
    if (::chdir(dir.c_str()) != 0) ::_exit(126);
    ::execve(argv[0], argv.data(), envp.data());
    const char message[] = "regiongate conformance: cannot start the worker\n";
    [[maybe_unused]] const ssize_t ignored = ::write(2, message, sizeof message - 1);
    ::_exit(127);
  }
  if (devnull >= 0) ::close(devnull);
  ::close(result_pipe[1]);
  ::close(output_pipe[1]);
  if (pid < 0) {
    w.spawn_error = std::string("cannot fork: ") + std::strerror(errno);
    ::close(result_pipe[0]);
    ::close(output_pipe[0]);
    return false;
  }
  ::setpgid(pid, pid);  // also here: whichever of parent and child runs first
  w.pid = pid;
  w.result_fd = result_pipe[0];
  w.output_fd = output_pipe[0];
  ::fcntl(w.result_fd, F_SETFL, ::fcntl(w.result_fd, F_GETFL) | O_NONBLOCK);
  ::fcntl(w.output_fd, F_SETFL, ::fcntl(w.output_fd, F_GETFL) | O_NONBLOCK);
  w.started = Clock::now();
  w.phase_start = w.started;
  return true;
}

// The last few lines of what the worker printed, for a crash report.
std::string OutputTail(const WorkerProcess& w, size_t lines) {
  std::string tail = w.output_tail;
  while (!tail.empty() && tail.back() == '\n') tail.pop_back();
  size_t pos = tail.size();
  for (size_t i = 0; i < lines && pos != std::string::npos && pos > 0; ++i) {
    pos = tail.rfind('\n', pos - 1);
  }
  return pos == std::string::npos || pos == 0 ? tail : tail.substr(pos + 1);
}

PluginReport Finalize(const HarnessOptions& options, WorkerProcess& w) {
  PluginReport report;
  report.plugin = w.target.plugin;
  report.manifest = w.target.manifest.string();
  report.seconds = w.pid > 0 ? SecondsSince(w.started) : 0;
  const std::string who = "plug-in " + Quoted(w.target.plugin);

  // Why the worker stopped, if it did not finish.
  std::optional<size_t> died_in = w.timed_out ? w.timed_out_case : w.current;
  if (!w.spawn_error.empty()) {
    report.failure = "could not start the worker for " + who + ": " + w.spawn_error + " [" +
                     std::string(harness_error::kSpawnFailed) + "]";
  } else if (w.timed_out) {
    report.failure =
        died_in ? who + " hung: case " + Quoted(CaseName(w, died_in)) + " did not finish within " +
                      DurationText(options.case_timeout) + "; the harness killed it"
                : who + " hung " + WhereText(w, died_in) + ": nothing was reported for " +
                      DurationText(options.case_timeout) + "; the harness killed it";
  } else if (WIFSIGNALED(w.wait_status)) {
    report.failure =
        who + " crashed with " + SignalName(WTERMSIG(w.wait_status)) + " " + WhereText(w, died_in);
  } else if (w.asan_report) {
    // AddressSanitizer catches the signal and exits; name the signal it caught all the same.
    std::string signal;
    for (const char* name : {"SEGV", "BUS", "FPE", "ILL", "ABRT"}) {
      if (w.asan_kind.rfind(name, 0) == 0) signal = std::string("SIG") + name;
    }
    report.failure =
        signal.empty()
            ? who + " crashed (AddressSanitizer: " + w.asan_kind + ") " + WhereText(w, died_in)
            : who + " crashed with " + signal + " " + WhereText(w, died_in) +
                  " (reported by AddressSanitizer: " + w.asan_kind + ")";
  } else if (WIFEXITED(w.wait_status) && WEXITSTATUS(w.wait_status) != 0 && !w.done) {
    report.failure = "the worker for " + who + " exited with status " +
                     std::to_string(WEXITSTATUS(w.wait_status)) + " " + WhereText(w, died_in) +
                     (WEXITSTATUS(w.wait_status) == 127 ? " (it could not be started)" : "");
  } else if (!w.done) {
    report.failure = "the worker for " + who + " stopped " + WhereText(w, died_in) +
                     " without reporting every case (a plug-in may have called exit())";
  }

  const std::string tail = report.failure.empty() ? std::string() : OutputTail(w, 12);
  for (size_t i = 0; i < w.plan.size(); ++i) {
    auto it = w.results.find(i);
    if (it != w.results.end()) {
      report.cases.push_back(it->second);
      continue;
    }
    CaseResult c;
    c.id = w.plan[i];
    c.plugin = w.target.plugin;
    if (died_in && *died_in == i) {
      c.status = CaseStatus::kFailed;
      c.message = report.failure;
      c.details = tail.empty() ? std::string() : "last output of the worker:\n" + tail;
    } else {
      c.status = CaseStatus::kSkipped;
      c.message = report.failure.empty() ? "not run: the worker did not report it"
                                         : "not run: " + report.failure;
    }
    report.cases.push_back(std::move(c));
  }
  if (w.plan.empty() || (!report.failure.empty() && !died_in)) {
    // Nothing to pin the failure on: report it as a case of its own so JUnit shows it.
    if (!report.failure.empty()) {
      CaseResult c;
      c.id = {w.target.plugin, w.target.plugin, "worker"};
      c.plugin = w.target.plugin;
      c.status = CaseStatus::kFailed;
      c.message = report.failure;
      c.details = tail.empty() ? std::string() : "last output of the worker:\n" + tail;
      report.cases.push_back(std::move(c));
    }
  }
  if (w.leaked_secret) {
    const std::string message =
        who +
        " printed a credential to its standard output or error; a plug-in must not "
        "print, and must log through the host's log service, which redacts secrets";
    bool placed = false;
    for (auto& c : report.cases) {
      if (c.id.name == "credentials absent from log lines") {
        if (c.status != CaseStatus::kFailed) {
          c.status = CaseStatus::kFailed;
          c.message = message;
        }
        placed = true;
      }
    }
    if (!placed) {
      CaseResult c;
      c.id = {w.target.plugin, w.target.plugin, "credentials absent from log lines"};
      c.plugin = w.target.plugin;
      c.status = CaseStatus::kFailed;
      c.message = message;
      report.cases.push_back(std::move(c));
    }
  }
  return report;
}

std::vector<std::string> Notes(const HarnessOptions& options) {
  std::set<std::string> under_test;
  for (const auto& t : options.targets) under_test.insert(t.plugin);
  std::map<std::string, int> missing;
  for (const auto& suite : options.suites) {
    for (const auto& c : suite.cases) {
      if (!c.plugin.empty() && under_test.count(c.plugin) == 0) ++missing[c.plugin];
    }
  }
  std::vector<std::string> notes;
  notes.reserve(missing.size());
  for (const auto& [plugin, count] : missing) {
    notes.push_back(std::to_string(count) + " scenario case" + (count == 1 ? "" : "s") +
                    " for plug-in '" + plugin + "' did not run: it is not under test");
  }
  return notes;
}

}  // namespace

std::string SignalName(int signal) {
  if (const char* abbrev = ::sigabbrev_np(signal); abbrev != nullptr) {
    return std::string("SIG") + abbrev;
  }
  return "signal " + std::to_string(signal);
}

Result<std::vector<Target>> ResolveTargets(const std::vector<fs::path>& paths) {
  std::vector<Target> targets;
  auto add = [&](const fs::path& manifest, const std::string& fallback_name) {
    compliance::PluginManifest m;
    const auto diagnostics = compliance::CheckPluginManifest(manifest, &m);
    std::string id = compliance::HasErrors(diagnostics) ? fallback_name : m.id;
    if (id.empty()) id = fallback_name;
    std::error_code ec;
    targets.push_back({id, fs::weakly_canonical(fs::absolute(manifest), ec)});
  };
  for (const auto& path : paths) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      return Error{std::string(harness_error::kNoTarget),
                   "'" + path.string() +
                       "' does not exist; pass a plug-in folder, a folder of "
                       "plug-ins, a plugin.yaml or a plug-in library"};
    }
    if (fs::is_directory(path, ec)) {
      if (fs::is_regular_file(path / "plugin.yaml", ec)) {
        add(path / "plugin.yaml", fs::absolute(path).lexically_normal().filename().string());
        continue;
      }
      std::vector<fs::path> found;
      for (const auto& entry : fs::directory_iterator(path, ec)) {
        if (entry.is_directory(ec) && fs::is_regular_file(entry.path() / "plugin.yaml", ec)) {
          found.push_back(entry.path() / "plugin.yaml");
        } else if (entry.is_regular_file(ec)) {
          const std::string name = entry.path().filename().string();
          if (name.size() > 12 && name.compare(name.size() - 12, 12, ".plugin.yaml") == 0) {
            found.push_back(entry.path());
          }
        }
      }
      std::sort(found.begin(), found.end());
      if (found.empty()) {
        return Error{std::string(harness_error::kNoTarget),
                     "'" + path.string() +
                         "' holds no plug-in: expected plugin.yaml in it or "
                         "in its sub-folders"};
      }
      for (const auto& manifest : found) {
        add(manifest, manifest.filename() == "plugin.yaml"
                          ? manifest.parent_path().filename().string()
                          : manifest.stem().stem().string());
      }
      continue;
    }
    const std::string name = path.filename().string();
    if (name == "plugin.yaml" ||
        (name.size() > 12 && name.compare(name.size() - 12, 12, ".plugin.yaml") == 0)) {
      add(path, fs::absolute(path).parent_path().filename().string());
      continue;
    }
    // A library: its manifest sits next to it.
    const fs::path manifest = path.parent_path() / "plugin.yaml";
    if (!fs::is_regular_file(manifest, ec)) {
      return Error{std::string(harness_error::kNoManifest),
                   "no plugin.yaml next to '" + path.string() +
                       "'; a plug-in library is tested with its manifest (build it with "
                       "rg_add_plugin, which writes one)"};
    }
    add(manifest, path.stem().string());
  }
  return targets;
}

std::vector<std::pair<std::string, std::string>> SimulatorCredentials(
    const compliance::PluginManifest& manifest) {
  const VendorSimOptions sim;  // the simulator's default keys
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& setting : manifest.settings) {
    if (!setting.secret || !setting.default_value.is_string()) continue;
    const std::string name = setting.default_value.get<std::string>();
    if (name.empty()) continue;
    std::string value = sim.openai_key;  // OpenAI-compatible: the simulator's OpenAI route
    if (manifest.id == "qwen") {
      value = sim.dashscope_key;
    } else if (manifest.id == "baidu") {
      if (name == "QIANFAN_AK" || setting.key == "access_key_secret") {
        value = sim.qianfan_ak;
      } else if (name == "QIANFAN_SK" || setting.key == "secret_key_secret") {
        value = sim.qianfan_sk;
      } else {
        value = sim.qianfan_key;
      }
    }
    out.emplace_back(name, value);
  }
  return out;
}

RunReport RunHarness(const HarnessOptions& options, const ProgressSink& progress) {
  const auto start = Clock::now();
  RunReport report;
  report.fail_pending = options.fail_pending;
  report.notes = Notes(options);

  // A SIGPIPE from a worker that closed its end early must not end the harness.
  ::signal(SIGPIPE, SIG_IGN);

  // One scratch folder per run (TMPDIR honoured), one sub-folder per worker.
  std::error_code ec;
  std::string pattern = (fs::temp_directory_path(ec) / "rg-conformance-XXXXXX").string();
  const char* made = ::mkdtemp(pattern.data());
  // Never the temporary directory itself: the folder is removed at the end.
  const fs::path run_dir = made != nullptr ? fs::path(made)
                                           : fs::temp_directory_path(ec) /
                                                 ("rg-conformance-" + std::to_string(::getpid()));

  std::vector<std::unique_ptr<WorkerProcess>> all;
  for (size_t i = 0; i < options.targets.size(); ++i) {
    auto w = std::make_unique<WorkerProcess>();
    w->target = options.targets[i];
    w->work_dir = run_dir / (std::to_string(i + 1) + "-" + w->target.plugin);
    all.push_back(std::move(w));
  }
  std::deque<WorkerProcess*> queue;
  for (auto& w : all) queue.push_back(w.get());
  std::vector<WorkerProcess*> running;
  std::map<WorkerProcess*, PluginReport> finished;
  const size_t total = all.size();
  const int jobs = std::max(1, options.jobs);

  auto notify_worker = [&](ProgressEvent::Kind kind, const WorkerProcess& w) {
    if (!progress) return;
    ProgressEvent e;
    e.kind = kind;
    e.plugin = w.target.plugin;
    e.case_count = w.plan.size();
    e.workers_done = finished.size();
    e.workers_total = total;
    progress(e);
  };

  while (!queue.empty() || !running.empty()) {
    while (!queue.empty() && running.size() < static_cast<size_t>(jobs)) {
      WorkerProcess* w = queue.front();
      queue.pop_front();
      notify_worker(ProgressEvent::Kind::kWorkerStarted, *w);
      if (!Spawn(options, *w)) {
        finished[w] = Finalize(options, *w);
        notify_worker(ProgressEvent::Kind::kWorkerFinished, *w);
        continue;
      }
      running.push_back(w);
    }
    std::vector<pollfd> fds;
    for (WorkerProcess* w : running) {
      if (w->result_fd >= 0) fds.push_back({w->result_fd, POLLIN, 0});
      if (w->output_fd >= 0) fds.push_back({w->output_fd, POLLIN, 0});
    }
    if (!fds.empty()) {
      ::poll(fds.data(), fds.size(), 100);
    } else if (!running.empty()) {
      ::usleep(20'000);
    }
    for (auto it = running.begin(); it != running.end();) {
      WorkerProcess* w = *it;
      ReadResults(*w, progress, finished.size(), total);
      ReadOutput(*w);
      if (!w->exited) {
        int status = 0;
        const pid_t r = ::waitpid(w->pid, &status, WNOHANG);
        if (r == w->pid) {
          w->exited = true;
          w->wait_status = status;
        }
      }
      if (!w->exited && !w->timed_out && Clock::now() - w->phase_start > options.case_timeout) {
        w->timed_out = true;
        w->timed_out_case = w->current;
        ::kill(-w->pid, SIGKILL);
      }
      // Done when it exited and both pipes reached end of file (nothing is lost in between).
      if (w->exited && w->result_fd < 0 && w->output_fd < 0) {
        finished[w] = Finalize(options, *w);
        notify_worker(ProgressEvent::Kind::kWorkerFinished, *w);
        it = running.erase(it);
        continue;
      }
      if (w->exited && Clock::now() - w->phase_start > options.case_timeout) {
        // Something it started still holds the pipes: stop waiting for them.
        CloseFd(&w->result_fd);
        CloseFd(&w->output_fd);
      }
      ++it;
    }
  }
  for (auto& w : all) report.plugins.push_back(std::move(finished[w.get()]));
  if (!options.keep_work_dirs) {
    fs::remove_all(run_dir, ec);
  } else {
    report.notes.push_back("worker folders kept in " + run_dir.string());
  }
  report.seconds = SecondsSince(start);
  return report;
}

void ProgressPrinter::operator()(const ProgressEvent& e) {
  using Kind = ProgressEvent::Kind;
  if (!terminal_) {
    if (e.kind == Kind::kCaseFinished) {
      std::cerr << "conformance: " << e.plugin << " [" << e.case_index + 1 << "/" << e.case_count
                << "] " << StatusName(e.status) << ": " << e.case_name << "\n";
    } else if (e.kind == Kind::kWorkerStarted) {
      std::cerr << "conformance: " << e.plugin << ": starting (plug-in " << e.workers_done + 1
                << " of " << e.workers_total << ")\n";
    }
    return;
  }
  if (e.kind != Kind::kCaseStarted && e.kind != Kind::kWorkerStarted) return;
  std::string line = "conformance [" + std::to_string(e.workers_done) + "/" +
                     std::to_string(e.workers_total) + " plug-ins] " + e.plugin;
  if (e.kind == Kind::kCaseStarted) {
    line += " " + std::to_string(e.case_index + 1) + "/" + std::to_string(e.case_count) + ": " +
            e.case_name;
  } else {
    line += ": starting";
  }
  if (line.size() > 100) {
    size_t cut = 97;  // on a UTF-8 boundary: case names may be Chinese
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    line = line.substr(0, cut) + "...";
  }
  std::cerr << "\r" << line;
  if (line.size() < width_) std::cerr << std::string(width_ - line.size(), ' ');
  std::cerr << std::flush;
  width_ = line.size();
}

void ProgressPrinter::Finish() {
  if (terminal_ && width_ > 0) std::cerr << "\r" << std::string(width_, ' ') << "\r" << std::flush;
  width_ = 0;
}

}  // namespace rg::tools::conformance
