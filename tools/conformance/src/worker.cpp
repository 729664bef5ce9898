#include "regiongate/tools/conformance/worker.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "policy_probe.hpp"
#include "regiongate/core/plugin_loader.hpp"
#include "regiongate/core/runtime.hpp"
#include "regiongate/tools/conformance/report.hpp"
#include "regiongate/tools/conformance/scenario.hpp"
#include "regiongate/tools/vendor_sim.hpp"

namespace rg::tools::conformance {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

// ---- verdicts --------------------------------------------------------------------------

struct Verdict {
  CaseStatus status = CaseStatus::kPassed;
  std::string message;
  std::string details;
};

Verdict Pass(std::string details = {}) { return {CaseStatus::kPassed, "", std::move(details)}; }
Verdict Fail(std::string message, std::string details = {}) {
  return {CaseStatus::kFailed, std::move(message), std::move(details)};
}
Verdict Skip(std::string message) { return {CaseStatus::kSkipped, std::move(message), ""}; }
Verdict Pending(std::string message, std::string details = {}) {
  return {CaseStatus::kPending, std::move(message), std::move(details)};
}

std::string Q(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string Clip(std::string_view text, size_t limit = 120) {
  if (text.size() <= limit) return std::string(text);
  size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

std::string ModeName(bool stream) { return stream ? "stream:true" : "stream:false"; }

std::string Join(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

// ---- what one completion looked like to the caller -------------------------------------

/// Records events as the caller's callback sees them; can ask to stop after N text deltas.
class EventLog {
 public:
  explicit EventLog(int stop_after = 0) : stop_after_(stop_after) {}

  bool On(const core::CompletionEvent& event) {
    std::lock_guard lock(mutex_);
    if (event.kind != RG_EVENT_TEXT_DELTA) return !stopped_;
    if (stopped_) ++after_stop_;
    delivered_ += event.data;
    ++deltas_;
    if (!stopped_ && stop_after_ > 0 && deltas_ >= stop_after_) {
      stopped_ = true;
      return false;
    }
    return !stopped_;
  }

  std::string delivered() const {
    std::lock_guard lock(mutex_);
    return delivered_;
  }
  int deltas() const {
    std::lock_guard lock(mutex_);
    return deltas_;
  }
  int after_stop() const {
    std::lock_guard lock(mutex_);
    return after_stop_;
  }
  bool stopped() const {
    std::lock_guard lock(mutex_);
    return stopped_;
  }

 private:
  mutable std::mutex mutex_;
  int stop_after_;
  bool stopped_ = false;
  std::string delivered_;
  int deltas_ = 0;
  int after_stop_ = 0;
};

struct Observed {
  core::CompletionResult result;
  std::string delivered;  ///< text that reached the caller's callback
  int deltas = 0;
  int deltas_after_stop = 0;
  bool stopped = false;
  bool returned = true;              ///< complete() returned before the deadline
  std::optional<rg::Error> refused;  ///< Runtime::Complete refused (gated runs)
  std::optional<compliance::Decision> decision;
  std::string runtime_outcome;  ///< GatedCompletion::outcome, when the runtime says
  std::string blocked_by;       ///< GatedCompletion::blocked_by, when the runtime says
  std::string ui_notice;        ///< the label the UI keeps on screen (ui_persistent)
  uint64_t sim_requests = 0;    ///< requests the simulator served meanwhile
  bool stream = false;
};

std::string Describe(const Observed& o) {
  if (o.refused) return "refused: " + o.refused->message + " [" + o.refused->id + "]";
  const auto& r = o.result;
  std::string out = std::string(core::CodeName(r.code)) + " / " +
                    std::string(core::FinishName(r.finish)) + " after " +
                    std::to_string(r.attempts) + " attempt(s), " + std::to_string(o.deltas) +
                    " text delta(s)";
  if (!r.message.empty()) out += ", message '" + Clip(r.message, 200) + "'";
  if (!r.final_data.empty()) out += ", final " + Clip(r.final_data.dump(), 200);
  out += ", text '" + Clip(r.text) + "'";
  return out;
}

// The outcome vocabulary of scenario files.
struct Outcome {
  std::string outcome;
  std::string code;
  std::string finish;
  std::string blocked_by;
};

bool IsBlocked(const core::CompletionResult& r) {
  return r.finish == RG_FINISH_CONTENT_FILTER || r.code == RG_ERR_PROVIDER_BLOCKED;
}

// Request-time policy fields of GatedCompletion and RuntimeOptions, read or set only when
// the runtime in this build has them: the harness builds (and says "pending") before the
// runtime applies every policy, and works unchanged once it does.
template <class G>
void ReadRuntimeFields(const G& gated, Observed* o) {
  if constexpr (requires { gated.outcome; }) o->runtime_outcome = gated.outcome;
  if constexpr (requires { gated.blocked_by; }) o->blocked_by = gated.blocked_by;
  if constexpr (requires { gated.labels.ui_notice; }) o->ui_notice = gated.labels.ui_notice;
}
template <class O>
void SetAuditDirectory(O* options, const std::filesystem::path& dir) {
  if constexpr (requires { options->audit_dir; }) options->audit_dir = dir;
}

// The scenario vocabulary: Runtime::Complete's outcome when it gives one; otherwise read
// off the result (`vendor_block`: the simulator was asked for a vendor-side block).
Outcome Classify(const Observed& o, bool vendor_block) {
  Outcome out;
  if (o.refused) {
    out.outcome = o.refused->id == "RG-G001" || o.refused->id == "RG-G003" ? "denied" : "failed";
    out.code = o.refused->id;
    return out;
  }
  const auto& r = o.result;
  out.code = std::string(core::CodeName(r.code));
  out.finish = std::string(core::FinishName(r.finish));
  out.blocked_by = o.blocked_by;
  if (!o.runtime_outcome.empty()) {
    out.outcome = o.runtime_outcome;
    return out;
  }
  if (r.ok()) {
    out.outcome = "completed";
  } else if (IsBlocked(r)) {
    const bool input = r.final_data.is_object() && r.final_data.value("blocked", "") == "input";
    out.outcome = input ? "blocked_input" : "blocked_output";
    if (out.blocked_by.empty()) {
      out.blocked_by = r.final_data.is_object() && r.final_data.contains("by")
                           ? r.final_data.value("by", "")
                           : (vendor_block ? "provider" : "regiongate");
    }
  } else if (r.code == RG_ERR_CANCELLED) {
    out.outcome = "cancelled";
  } else {
    out.outcome = "failed";
  }
  return out;
}

std::string ToLower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ContainsFolded(const std::string& haystack, const std::string& needle) {
  return ToLower(haystack).find(ToLower(needle)) != std::string::npos;
}

// ---- files -----------------------------------------------------------------------------

using FileSizes = std::map<fs::path, uintmax_t>;

// Files the host may have written in the worker's folder: everything except our own inputs.
FileSizes SnapshotFiles(const fs::path& dir, const std::set<fs::path>& skip) {
  FileSizes out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && skip.count(it->path()) != 0) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec)) out[it->path()] = it->file_size(ec);
  }
  return out;
}

std::string ReadFrom(const fs::path& path, uintmax_t offset) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  in.seekg(static_cast<std::streamoff>(offset));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The audit trail writes JSON lines (compliance/audit_log.hpp: <prefix>-YYYYMMDD-NNNN.jsonl).
bool LooksLikeAudit(const fs::path& path) { return path.extension() == ".jsonl"; }

// ---- the worker ------------------------------------------------------------------------

enum class Feature { kInputFilter, kOutputFilter, kLabels, kAudit };

std::string_view FeatureName(Feature f) {
  switch (f) {
    case Feature::kInputFilter:
      return "the input content filter";
    case Feature::kOutputFilter:
      return "the output content filter";
    case Feature::kLabels:
      return "the explicit label";
    case Feature::kAudit:
      return "the audit trail";
  }
  return "";
}

struct Probe {
  bool done = false;
  std::optional<bool> wired;  ///< nullopt: the probe could not tell
  std::string reason;
};

const char* const kPrompt = "Conformance check: please say hello to the moon";

class Worker {
 public:
  explicit Worker(const WorkerOptions& options) : o_(options) {}

  int Run() {
    ReadManifest();
    PlanCases();
    json plan = json::array();
    for (const auto& c : cases_) plan.push_back(c.id.ToJson());
    Send({{"event", "plan"}, {"plugin", id_}, {"cases", plan}});
    SetUp();
    for (size_t i = 0; i < cases_.size(); ++i) {
      Send({{"event", "start"}, {"index", i}});
      const auto start = Clock::now();
      Verdict verdict;
      try {
        verdict = cases_[i].run();
      } catch (const std::exception& e) {
        verdict = Fail(std::string("the harness failed while running this case: ") + e.what());
      }
      CaseResult result;
      result.id = cases_[i].id;
      result.plugin = id_;
      result.status = verdict.status;
      result.message = verdict.message;
      result.details = verdict.details;
      result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
      json message = result.ToJson();
      message["event"] = "result";
      message["index"] = i;
      Send(message);
    }
    Send({{"event", "done"}});
    return 0;
  }

  /// True when a thread was left inside the plug-in (it ignored a deadline): the process
  /// must then end without running destructors that would wait for it.
  bool abandoned_threads() const { return abandoned_.load() > 0; }

 private:
  struct PlannedCase {
    CaseId id;
    std::function<Verdict()> run;
  };

  // ---- protocol ----

  void Send(const json& message) {
    const std::string line = message.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    std::lock_guard lock(send_mutex_);
    size_t written = 0;
    while (written < line.size()) {
      const ssize_t n = ::write(o_.result_fd, line.data() + written, line.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // the harness is gone; nothing left to tell
      written += static_cast<size_t>(n);
    }
  }

  // ---- set-up ----

  void ReadManifest() {
    std::error_code ec;
    manifest_path_ = fs::weakly_canonical(fs::absolute(o_.manifest), ec);
    compliance::PluginManifest manifest;
    manifest_diagnostics_ = compliance::CheckPluginManifest(manifest_path_, &manifest);
    if (!compliance::HasErrors(manifest_diagnostics_)) {
      manifest_ = std::move(manifest);
      id_ = manifest_->id;
    } else {
      id_ = manifest_path_.parent_path().filename().string();
    }
  }

  bool Has(std::string_view capability) const {
    return manifest_ && manifest_->HasCapability(capability);
  }

  void Add(std::string name, std::function<Verdict()> run) {
    cases_.push_back({CaseId{id_, id_, std::move(name)}, std::move(run)});
  }

  void PlanCases() {
    Add("manifest and hash", [this] { return CaseManifest(); });
    Add("exported symbols", [this] { return CaseExportedSymbols(); });
    Add("ABI negotiation", [this] { return CaseAbiNegotiation(); });
    Add("wrong ABI major is refused", [this] { return CaseWrongMajor(); });
    Add("description agrees with manifest", [this] { return CaseDescription(); });
    Add("instance with default settings", [this] { return CaseInstance(); });
    Add("non-streaming completion", [this] { return CaseBuffered(); });
    Add("streaming completion", [this] { return CaseStreamed(); });
    Add("exactly one final event", [this] { return CaseFinalEvents(); });
    Add("usage accounting", [this] { return CaseUsage(); });
    Add("tools in the request", [this] { return CaseTools(); });
    Add("cancellation mid-stream", [this] { return CaseCancellation(); });
    Add("concurrent requests", [this] { return CaseConcurrency(); });
    struct Fault {
      const char* name;
      const char* behavior;
    };
    for (const Fault& f : std::initializer_list<Fault>{
             {"fault rate-limit -> rate_limited", "rate-limit:2"},
             {"fault server-error -> retryable after retries", "server-error"},
             {"fault unavailable -> retryable after retries", "unavailable"},
             {"fault flaky -> answered on retry", "flaky:1"},
             {"fault auth-failure -> auth", "auth-failure"},
             {"fault truncate -> protocol", "truncate"},
             {"fault truncate:abort -> protocol", "truncate:abort"},
             {"fault malformed-chunk -> protocol", "malformed-chunk"},
             {"fault stall -> retryable (idle timeout)", "stall:2000"},
             {"provider block of the input", "input-block"},
             {"provider block of the output", "output-block"}}) {
      const std::string behavior = f.behavior;
      Add(f.name, [this, behavior] { return CaseFault(behavior); });
    }
    Add("output policy enforced", [this] { return CaseOutputPolicy(); });
    Add("stream:true cannot bypass output policy", [this] { return CaseStreamBypass(); });
    // Scenario suites: every case that applies to this plug-in.
    std::vector<ScenarioSuite> suites;
    const auto diagnostics = LoadScenarios(o_.scenario_files, &suites);
    for (auto& suite : suites) suites_.push_back(std::make_shared<ScenarioSuite>(std::move(suite)));
    for (const auto& suite : suites_) {
      for (const auto& c : suite->cases) {
        if (!c.AppliesTo(id_)) continue;
        const ScenarioCase* scenario = &c;
        cases_.push_back({CaseId{suite->name, suite->name, c.name + " [" + id_ + "]"},
                          [this, suite, scenario] { return CaseScenario(*suite, *scenario); }});
      }
    }
    if (compliance::HasErrors(diagnostics)) {
      std::string text;
      for (const auto& d : diagnostics) text += d.ToString() + "\n";
      scenario_errors_ = text;
    }
    // Last, so that they see every log line and file the other cases produced.
    Add("credentials absent from log lines", [this] { return CaseLogCredentials(); });
    Add("credentials absent from audit records", [this] { return CaseAuditCredentials(); });
  }

  void SetUp() {
    if (!o_.scenario_files.empty() && !scenario_errors_.empty()) {
      spdlog::warn("scenario files have errors:\n{}", scenario_errors_);
    }
    VendorSimOptions sim_options;
    sim_options.chunk_chars = 3;  // many chunks: streams really stream, terms span chunks
    sim_options.created = 1767225600;
    sim_ = std::make_unique<VendorSim>(sim_options);
    if (auto started = sim_->Start(); !started) {
      setup_error_ = "the vendor simulator did not start: " + started.error().message;
      sim_.reset();
    }
    core::HostOptions host;
    if (sim_) {
      const std::string base = sim_->BaseUrl();
      std::vector<std::string> specs = {"*.*={sim}"};
      specs.insert(specs.end(), o_.endpoint_overrides.begin(), o_.endpoint_overrides.end());
      for (std::string spec : specs) {
        for (size_t at; (at = spec.find("{sim}")) != std::string::npos;) {
          spec.replace(at, 5, base);
        }
        auto parsed = core::ParseEndpointOverride(spec);
        if (!parsed.ok()) {
          setup_error_ = parsed.error().message;
          continue;
        }
        host.endpoint_overrides.push_back(parsed.value());
      }
    }
    host.http.connect_timeout = std::chrono::milliseconds(2'000);
    host.http.total_timeout = std::chrono::milliseconds(20'000);
    host.http.idle_timeout = std::chrono::milliseconds(500);
    host.retry.max_attempts = 3;
    host.retry.initial_delay = std::chrono::milliseconds(5);
    host.retry.max_delay = std::chrono::milliseconds(20);
    host.retry.max_retry_after = std::chrono::milliseconds(500);
    host.plugin_log_level = RG_LOG_TRACE;
    host.log_observer = [this](const core::PluginLogRecord& record) {
      std::lock_guard lock(log_mutex_);
      logs_.push_back(record);
    };
    if (manifest_) {
      for (const auto& setting : manifest_->settings) {
        if (!setting.secret || !setting.default_value.is_string()) continue;
        const std::string name = setting.default_value.get<std::string>();
        if (const char* value = std::getenv(name.c_str()); value != nullptr && *value != '\0') {
          secrets_.push_back({name, value});
        }
      }
    }

    // The policy in force: the given one plus the probe regions (docs/conformance.md).
    core::RuntimeOptions runtime_options;
    runtime_options.host = host;
    runtime_options.as_of = o_.as_of;
    SetAuditDirectory(&runtime_options, o_.work_dir / "audit");
    auto policy = MakeProbePolicy(o_.config_dir, o_.work_dir / "policy");
    if (!policy.ok()) {
      runtime_error_ = policy.error().message;
    } else {
      runtime_options.config_dir = policy.value();
      auto runtime = core::Runtime::Create(std::move(runtime_options));
      if (runtime.ok()) {
        runtime_ = std::move(runtime.value());
        host_ = &runtime_->host();
      } else {
        runtime_error_ = runtime.error().message;
      }
    }
    if (!runtime_) {
      // Plug-in cases still run on a bare host; gated cases report why they cannot.
      own_host_ = std::make_unique<core::Host>(host);
      host_ = own_host_.get();
    }
    own_files_ = {o_.work_dir / "policy", o_.work_dir / "wrong-abi-major"};
  }

  /// A loader message without its leading "plug-in 'ID': ", which the case adds itself.
  std::string Unprefixed(std::string message) const {
    if (const std::string prefix = "plug-in " + Q(id_) + ": "; message.rfind(prefix, 0) == 0) {
      message.erase(0, prefix.size());
    }
    return message;
  }

  // ---- completions ----

  json Body(const std::string& prompt, bool stream, const std::string& system = {},
            std::optional<int64_t> max_tokens = {}) const {
    json messages = json::array();
    if (!system.empty()) messages.push_back({{"role", "system"}, {"content", system}});
    messages.push_back({{"role", "user"}, {"content", prompt}});
    json body = {{"model", model_}, {"messages", messages}, {"stream", stream}};
    if (max_tokens) body["max_tokens"] = *max_tokens;
    return body;
  }

  uint64_t SimRequests() const { return sim_ ? sim_->RequestsServed() : 0; }

  /// One ungated completion on the instance. With a deadline it runs on its own thread and
  /// is abandoned (returned=false) when the plug-in has not returned in time.
  Observed Direct(const json& body, int stop_after = 0,
                  std::optional<std::chrono::milliseconds> deadline = std::nullopt) {
    struct Shared {
      explicit Shared(int stop) : log(stop) {}
      EventLog log;
      std::mutex mutex;
      std::condition_variable cv;
      bool finished = false;
      core::CompletionResult result;
    };
    auto shared = std::make_shared<Shared>(stop_after);
    core::CompletionRequest request;
    request.endpoint_id = endpoint_;
    request.body = body;
    const uint64_t before = SimRequests();
    Observed o;
    o.stream = body.value("stream", false);
    auto run = [shared, instance = instance_, host = host_, request] {
      core::CompletionResult result = host->Complete(
          *instance, request,
          [s = shared.get()](const core::CompletionEvent& e) { return s->log.On(e); });
      std::lock_guard lock(shared->mutex);
      shared->result = std::move(result);
      shared->finished = true;
      shared->cv.notify_all();
    };
    if (deadline) {
      std::thread(run).detach();
      std::unique_lock lock(shared->mutex);
      if (!shared->cv.wait_for(lock, *deadline, [&] { return shared->finished; })) {
        o.returned = false;
        ++abandoned_;
      } else {
        o.result = shared->result;
      }
    } else {
      run();
      o.result = shared->result;
    }
    o.delivered = shared->log.delivered();
    o.deltas = shared->log.deltas();
    o.deltas_after_stop = shared->log.after_stop();
    o.stopped = shared->log.stopped();
    o.sim_requests = SimRequests() - before;
    return o;
  }

  /// One completion through the gate (Runtime::Complete), as an application makes it.
  Observed Gated(const std::string& locale, const compliance::DecisionFilter& filter, json body,
                 const json& settings = json::object()) {
    Observed o;
    o.stream = body.value("stream", false);
    EventLog log;
    const uint64_t before = SimRequests();
    auto gated = runtime_->Complete(locale, filter, std::move(body), settings,
                                    [&log](const core::CompletionEvent& e) { return log.On(e); });
    if (gated.ok()) {
      o.result = gated->result;
      o.decision = gated->decision;
      ReadRuntimeFields(gated.value(), &o);
    } else {
      o.refused = gated.error();
    }
    o.delivered = log.delivered();
    o.deltas = log.deltas();
    o.sim_requests = SimRequests() - before;
    gated_requests_ = true;
    return o;
  }

  /// "" when the call ended with exactly one FINAL event, else what went wrong.
  std::string FinalEventsProblem(const Observed& o) const {
    if (!o.returned || o.refused) return {};
    const int n = o.result.final_events;
    if (n == 1) return {};
    if (n == 0) {
      return "plug-in " + Q(id_) + " returned from complete() without a FINAL event (" +
             ModeName(o.stream) + "); abi.h requires exactly one FINAL, as the last event";
    }
    return "plug-in " + Q(id_) + " emitted " + std::to_string(n) +
           " FINAL events in one complete() call (" + ModeName(o.stream) +
           "); abi.h requires exactly one FINAL, as the last event";
  }

  // ---- preconditions ----

  std::optional<Verdict> NeedManifest() const {
    if (!manifest_) return Skip("not run: the manifest is invalid (see 'manifest and hash')");
    return std::nullopt;
  }
  std::optional<Verdict> NeedPlugin() const {
    if (auto v = NeedManifest()) return v;
    if (!plugin_) return Skip("not run: the plug-in did not load (see 'ABI negotiation')");
    return std::nullopt;
  }
  std::optional<Verdict> NeedInstance() const {
    if (auto v = NeedPlugin()) return v;
    if (!instance_) return Skip("not run: no instance (see 'instance with default settings')");
    return std::nullopt;
  }
  std::optional<Verdict> NeedAnswer() const {
    if (auto v = NeedInstance()) return v;
    if (!buffered_ok_) return Skip("not run: 'non-streaming completion' failed");
    return std::nullopt;
  }
  std::optional<Verdict> NeedSimulator() const {
    if (auto v = NeedAnswer()) return v;
    if (!uses_sim_) {
      return Skip("not applicable: plug-in " + Q(id_) +
                  " made no request to the vendor simulator, so simulator faults cannot reach it");
    }
    return std::nullopt;
  }
  std::optional<Verdict> NeedCapability(std::string_view capability) const {
    if (auto v = NeedManifest()) return v;
    if (!Has(capability)) {
      return Skip("not applicable: the manifest does not declare capability " + Q(capability));
    }
    return std::nullopt;
  }

  // ---- plug-in cases ----

  Verdict CaseManifest() {
    if (!manifest_) {
      std::string details;
      for (const auto& d : manifest_diagnostics_) details += d.ToString() + "\n";
      const std::string first =
          manifest_diagnostics_.empty() ? std::string() : manifest_diagnostics_.front().ToString();
      return Fail("the manifest of plug-in " + Q(id_) + " is invalid: " + first, details);
    }
    auto hash = core::Sha256File(manifest_->library_path);
    if (!hash.ok()) return Fail(hash.error().message + " [" + hash.error().id + "]");
    if (hash.value() != manifest_->sha256) {
      return Fail("plug-in " + Q(id_) + ": the sha256 of " + manifest_->library_path.string() +
                  " is " + hash.value() + " but its manifest says " + manifest_->sha256 +
                  "; rebuild it (rg_add_plugin rewrites the manifest after every link) or fix "
                  "the manifest");
    }
    return Pass("sha256 " + hash.value());
  }

  Verdict CaseExportedSymbols() {
    if (auto v = NeedManifest()) return *v;
    auto symbols = core::ExportedSymbols(manifest_->library_path);
    if (!symbols.ok()) return Fail(symbols.error().message + " [" + symbols.error().id + "]");
    std::vector<std::string> extra;
    bool entry = false;
    for (const auto& s : symbols.value()) {
      if (s == RG_PLUGIN_ENTRY_SYMBOL) {
        entry = true;
      } else {
        extra.push_back(s);
      }
    }
    if (!entry) {
      return Fail("plug-in " + Q(id_) + " does not export " + RG_PLUGIN_ENTRY_SYMBOL +
                  " (it exports: " + (extra.empty() ? "nothing" : Join(extra)) +
                  "); define the entry with RG_PLUGIN_EXPORT");
    }
    if (!extra.empty()) {
      std::vector<std::string> shown(
          extra.begin(), extra.begin() + static_cast<long>(std::min<size_t>(extra.size(), 8)));
      return Fail("plug-in " + Q(id_) + " exports " + std::to_string(extra.size()) +
                      " symbol(s) besides rg_plugin_entry (" + Join(shown) +
                      (extra.size() > shown.size() ? ", ..." : "") +
                      "); build it with hidden visibility and a version script (rg_add_plugin "
                      "does both) so that only the entry is exported",
                  Join(extra, "\n"));
    }
    return Pass("exports only rg_plugin_entry");
  }

  Verdict CaseAbiNegotiation() {
    if (auto v = NeedManifest()) return *v;
    if (!host_) return Fail("no host: " + setup_error_);
    auto loaded = host_->LoadPlugin(manifest_path_);
    if (!loaded.ok()) {
      load_error_ = loaded.error();
      // The loader checks the description after negotiation: that refusal belongs to the
      // next case, and negotiation itself went through.
      if (loaded.error().id == core::loader_error::kDescriptionMismatch) {
        return Pass("negotiated; the loader then refused the description [" + loaded.error().id +
                    "]");
      }
      return Fail("plug-in " + Q(id_) + " was refused by the loader: " +
                  Unprefixed(loaded.error().message) + " [" + loaded.error().id + "]");
    }
    plugin_ = loaded.value();
    if (runtime_) {
      const auto diagnostics = runtime_->policy().SetPlugins({plugin_->manifest});
      for (const auto& d : diagnostics) policy_notes_ += d.ToString() + "\n";
    }
    const auto& abi = manifest_->abi;
    if (plugin_->abi_major != RG_ABI_VERSION_MAJOR || plugin_->abi_minor > RG_ABI_VERSION_MINOR ||
        plugin_->abi_minor < abi.min_minor || plugin_->abi_minor > abi.max_minor) {
      return Fail("plug-in " + Q(id_) + " negotiated ABI " + std::to_string(plugin_->abi_major) +
                  "." + std::to_string(plugin_->abi_minor) + ", outside what host " +
                  std::to_string(RG_ABI_VERSION_MAJOR) + "." +
                  std::to_string(RG_ABI_VERSION_MINOR) + " and its manifest (" +
                  std::to_string(abi.major) + "." + std::to_string(abi.min_minor) + "-" +
                  std::to_string(abi.max_minor) + ") allow");
    }
    return Pass("negotiated ABI " + std::to_string(plugin_->abi_major) + "." +
                std::to_string(plugin_->abi_minor) + " with host " +
                std::to_string(RG_ABI_VERSION_MAJOR) + "." + std::to_string(RG_ABI_VERSION_MINOR));
  }

  Verdict CaseWrongMajor() {
    if (auto v = NeedManifest()) return *v;
    // A copy of the plug-in whose manifest claims the next major: the host must refuse it
    // from the manifest alone, before any of its code runs.
    const fs::path dir = o_.work_dir / "wrong-abi-major";
    std::error_code ec;
    fs::create_directories(dir, ec);
    const fs::path library = dir / manifest_->library_path.filename();
    fs::remove(library, ec);
    fs::create_symlink(manifest_->library_path, library, ec);
    if (ec) fs::copy_file(manifest_->library_path, library, ec);
    if (ec) return Fail("cannot copy the library to " + library.string() + ": " + ec.message());
    YAML::Node root;
    try {
      root = YAML::LoadFile(manifest_path_.string());
      root["abi"]["major"] = RG_ABI_VERSION_MAJOR + 1;
    } catch (const std::exception& e) {
      return Fail(std::string("cannot patch the manifest: ") + e.what());
    }
    YAML::Emitter out;
    out << root;
    const fs::path patched = dir / "plugin.yaml";
    std::ofstream(patched) << out.c_str() << "\n";
    core::PluginLoader loader([](const compliance::PluginManifest&) -> const rg_host_services* {
      return nullptr;  // never reached: the refusal comes before dlopen
    });
    auto loaded = loader.LoadManifest(patched);
    const std::string major = std::to_string(RG_ABI_VERSION_MAJOR + 1);
    if (loaded.ok()) {
      return Fail("the host loaded a copy of plug-in " + Q(id_) +
                  " whose manifest declares ABI major " + major +
                  "; a host must refuse a major it does not speak");
    }
    if (loaded.error().id != core::loader_error::kManifestAbiExcludesHost) {
      return Fail("the copy of plug-in " + Q(id_) + " with ABI major " + major +
                  " was refused for another reason: " + loaded.error().message + " [" +
                  loaded.error().id + "]; expected " +
                  std::string(core::loader_error::kManifestAbiExcludesHost));
    }
    return Pass(loaded.error().message + " [" + loaded.error().id + "]");
  }

  Verdict CaseDescription() {
    if (auto v = NeedManifest()) return *v;
    if (!plugin_) {
      if (load_error_ && load_error_->id == core::loader_error::kDescriptionMismatch) {
        return Fail("plug-in " + Q(id_) + ": " + Unprefixed(load_error_->message) + " [" +
                    load_error_->id + "]");
      }
      return Skip("not run: the plug-in did not load (see 'ABI negotiation')");
    }
    const rg_plugin* table = plugin_->table;
    std::vector<std::string> problems;
    auto same = [&](const char* what, const char* value, const std::string& expected) {
      if (value == nullptr || expected != value) {
        problems.push_back(std::string(what) + " is " + Q(value ? value : "(null)") +
                           " in the library but " + Q(expected) + " in the manifest");
      }
    };
    same("id", table->id, manifest_->id);
    same("version", table->version, manifest_->version);
    same("vendor", table->vendor, manifest_->vendor);
    const json description = json::parse(table->description_json ? table->description_json : "",
                                         nullptr, /*allow_exceptions=*/false);
    auto set_of = [](const json& list) {
      std::set<std::string> out;
      if (list.is_array()) {
        for (const auto& item : list) {
          if (item.is_string()) out.insert(item.get<std::string>());
        }
      }
      return out;
    };
    std::set<std::string> models, endpoints, capabilities;
    for (const auto& m : manifest_->models) models.insert(m.id);
    for (const auto& e : manifest_->endpoints) endpoints.insert(e.id);
    capabilities.insert(manifest_->capabilities.begin(), manifest_->capabilities.end());
    auto compare = [&](const char* key, const std::set<std::string>& expected) {
      const std::set<std::string> got = description.is_object()
                                            ? set_of(description.value(key, json::array()))
                                            : std::set<std::string>{};
      if (got != expected) {
        problems.push_back(
            std::string("'") + key + "' lists [" +
            Join(std::vector<std::string>(got.begin(), got.end())) + "] in the library but [" +
            Join(std::vector<std::string>(expected.begin(), expected.end())) + "] in the manifest");
      }
    };
    compare("models", models);
    compare("endpoints", endpoints);
    compare("capabilities", capabilities);
    if (!problems.empty()) {
      return Fail("plug-in " + Q(id_) +
                  "'s description disagrees with its manifest: " + Join(problems, "; "));
    }
    return Pass();
  }

  Verdict CaseInstance() {
    if (auto v = NeedPlugin()) return *v;
    auto created = host_->CreateInstance(id_, json::object());
    if (!created.ok()) {
      return Fail("plug-in " + Q(id_) +
                  " could not create an instance with its default "
                  "settings: " +
                  created.error().message + " [" + created.error().id + "]");
    }
    instance_ = created.value();
    if (manifest_->models.empty()) return Fail("plug-in " + Q(id_) + " declares no model");
    const auto& model = manifest_->models.front();
    model_ = model.id;
    if (!model.endpoints.empty()) {
      endpoint_ = model.endpoints.front();
    } else {
      for (const auto& e : manifest_->endpoints) {
        if (e.kind == "inference") {
          endpoint_ = e.id;
          break;
        }
      }
    }
    if (endpoint_.empty()) {
      instance_.reset();
      return Fail("plug-in " + Q(id_) + " declares no inference endpoint for model " + Q(model_));
    }
    return Pass("model " + model_ + " via endpoint " + endpoint_ + " (" +
                host_->EffectiveBaseUrl(id_, endpoint_) + ")");
  }

  std::string NotFoundHint(const Observed& o) const {
    if (o.result.final_data.value("http_status", 0) != 404) return {};
    return "; the simulator answered 404: every endpoint points at it and it serves "
           "OpenAI-compatible chat at POST /v1/chat/completions (docs/simulators.md); if the "
           "plug-in adds another path, pass --endpoint-override '" +
           id_ + ".*={sim}/PREFIX'";
  }

  Verdict CaseBuffered() {
    if (auto v = NeedInstance()) return *v;
    Observed o = Direct(Body(kPrompt, false));
    uses_sim_ = o.sim_requests > 0;
    if (!o.result.ok()) {
      return Fail("plug-in " + Q(id_) + " did not answer a stream:false request: " +
                      std::string(core::CodeName(o.result.code)) + ": " + o.result.message +
                      NotFoundHint(o),
                  Describe(o));
    }
    if (o.result.text.empty()) {
      return Fail("plug-in " + Q(id_) + " answered a stream:false request with no text",
                  Describe(o));
    }
    if (o.result.finish != RG_FINISH_STOP) {
      return Fail("plug-in " + Q(id_) + " ended a complete answer with finish " +
                      Q(core::FinishName(o.result.finish)) + " instead of 'stop'",
                  Describe(o));
    }
    if (auto problem = FinalEventsProblem(o); !problem.empty()) return Fail(problem, Describe(o));
    buffered_ok_ = true;
    buffered_ = o.result;
    echoes_ = ContainsFolded(o.result.text, "please say hello to the moon");
    return Pass(Describe(o) + (uses_sim_ ? "" : "; made no request to the simulator"));
  }

  Verdict CaseStreamed() {
    if (auto v = NeedCapability("streaming")) return *v;
    if (auto v = NeedInstance()) return *v;
    Observed o = Direct(Body(kPrompt, true));
    if (!o.result.ok()) {
      return Fail("plug-in " + Q(id_) + " did not answer a stream:true request: " +
                      std::string(core::CodeName(o.result.code)) + ": " + o.result.message +
                      NotFoundHint(o),
                  Describe(o));
    }
    if (o.result.text.empty() || o.delivered.empty()) {
      return Fail("plug-in " + Q(id_) + " answered a stream:true request with no text",
                  Describe(o));
    }
    if (o.result.finish != RG_FINISH_STOP) {
      return Fail("plug-in " + Q(id_) + " ended a complete stream with finish " +
                      Q(core::FinishName(o.result.finish)) + " instead of 'stop'",
                  Describe(o));
    }
    if (uses_sim_ && o.deltas < 2) {
      return Fail("plug-in " + Q(id_) + " delivered a streamed answer in " +
                      std::to_string(o.deltas) +
                      " text delta; the simulator sent it in many chunks, so the plug-in "
                      "buffers the stream instead of passing each chunk on",
                  Describe(o));
    }
    if (buffered_ && uses_sim_ && buffered_->text != o.result.text) {
      return Fail("plug-in " + Q(id_) + " streamed '" + Clip(o.result.text) +
                      "' but answered the same request with '" + Clip(buffered_->text) +
                      "' when not streaming; the simulator sent the same text both times",
                  Describe(o));
    }
    if (auto problem = FinalEventsProblem(o); !problem.empty()) return Fail(problem, Describe(o));
    streamed_ = o.result;
    return Pass(Describe(o));
  }

  Verdict CaseFinalEvents() {
    if (auto v = NeedInstance()) return *v;
    std::vector<Observed> runs;
    runs.push_back(Direct(Body(kPrompt + std::string(" (final events)"), false)));
    if (Has("streaming"))
      runs.push_back(Direct(Body(kPrompt + std::string(" (final events)"), true)));
    if (uses_sim_) {
      // A failure path too: plug-ins that get FINAL right on success may not on errors.
      runs.push_back(Direct(Body("final events on failure [[sim:auth-failure]]", false)));
    }
    std::string details;
    for (const auto& o : runs) {
      details += ModeName(o.stream) + ": " + Describe(o) + "\n";
      if (auto problem = FinalEventsProblem(o); !problem.empty()) return Fail(problem, details);
    }
    return Pass(details);
  }

  Verdict CaseUsage() {
    if (auto v = NeedCapability("usage")) return *v;
    if (auto v = NeedAnswer()) return *v;
    auto check = [&](const core::CompletionResult& r, bool stream) -> std::string {
      const std::string who = "plug-in " + Q(id_);
      if (!r.usage.is_object()) {
        return who + " reported no usage (" + ModeName(stream) +
               "); a plug-in that declares 'usage' emits a USAGE event with the call's totals";
      }
      for (const char* key : {"prompt_tokens", "completion_tokens", "total_tokens"}) {
        if (!r.usage.contains(key) || !r.usage[key].is_number_integer() ||
            r.usage[key].get<int64_t>() < 0) {
          return who + " reported usage without a non-negative integer '" + key + "' (" +
                 ModeName(stream) + "): " + r.usage.dump();
        }
      }
      const int64_t p = r.usage["prompt_tokens"].get<int64_t>();
      const int64_t c = r.usage["completion_tokens"].get<int64_t>();
      const int64_t t = r.usage["total_tokens"].get<int64_t>();
      if (p == 0 || c == 0) {
        return who + " reported zero tokens for a request that had a prompt and an answer (" +
               ModeName(stream) + "): " + r.usage.dump();
      }
      if (t != p + c) {
        return who + " reported total_tokens " + std::to_string(t) + " but prompt_tokens " +
               std::to_string(p) + " + completion_tokens " + std::to_string(c) + " = " +
               std::to_string(p + c) + " (" + ModeName(stream) + ")";
      }
      return {};
    };
    if (auto problem = check(*buffered_, false); !problem.empty()) return Fail(problem);
    if (streamed_) {
      if (auto problem = check(*streamed_, true); !problem.empty()) return Fail(problem);
      if (streamed_->usage != buffered_->usage) {
        return Fail("plug-in " + Q(id_) +
                    " counted the same request differently when streaming: stream:false " +
                    buffered_->usage.dump() + ", stream:true " + streamed_->usage.dump() +
                    "; the simulator counted it the same both times");
      }
    }
    return Pass("stream:false " + buffered_->usage.dump() +
                (streamed_ ? ", stream:true " + streamed_->usage.dump() : std::string()));
  }

  Verdict CaseTools() {
    if (auto v = NeedCapability("tools")) return *v;
    if (auto v = NeedAnswer()) return *v;
    // The simulator never answers with tool calls, so this proves that a request carrying
    // tools reaches the vendor and the answer comes back; tool-call deltas are untested.
    json body = Body(kPrompt + std::string(" (with tools)"), false);
    body["tools"] = json::array({{{"type", "function"},
                                  {"function",
                                   {{"name", "get_weather"},
                                    {"description", "the weather in a city"},
                                    {"parameters",
                                     {{"type", "object"},
                                      {"properties", {{"city", {{"type", "string"}}}}},
                                      {"required", json::array({"city"})}}}}}}});
    body["tool_choice"] = "auto";
    Observed o = Direct(body);
    if (!o.result.ok()) {
      return Fail("plug-in " + Q(id_) + " failed a request that carries tools: " +
                      std::string(core::CodeName(o.result.code)) + ": " + o.result.message,
                  Describe(o));
    }
    return Pass(Describe(o) + "; the simulator answers without tool calls");
  }

  Verdict CaseCancellation() {
    if (auto v = NeedCapability("streaming")) return *v;
    if (auto v = NeedCapability("cancellation")) return *v;
    if (auto v = NeedAnswer()) return *v;
    std::string prompt = "Conformance cancellation check:";
    for (int i = 0; i < 40; ++i) prompt += " the stream goes on and on";
    Observed o = Direct(Body(prompt, true), /*stop_after=*/1, o_.cancel_deadline);
    const std::string who = "plug-in " + Q(id_) + " ignored cancellation: ";
    const std::string rule =
        "; after the event sink returns non-zero a plug-in must stop producing output, emit "
        "FINAL with RG_FINISH_CANCELLED and return";
    if (!o.stopped) {
      return Fail("plug-in " + Q(id_) + " delivered no text to stop (" + Describe(o) + ")");
    }
    if (!o.returned) {
      return Fail(who + "complete() had not returned " +
                  std::to_string(o_.cancel_deadline.count()) +
                  " ms after the caller stopped the stream (" +
                  std::to_string(o.deltas_after_stop) + " more text deltas meanwhile)" + rule);
    }
    if (o.deltas_after_stop > 0) {
      return Fail(who + "it pushed " + std::to_string(o.deltas_after_stop) +
                      " more text delta(s) after the caller stopped the stream" + rule,
                  Describe(o));
    }
    if (o.result.code != RG_ERR_CANCELLED || o.result.finish != RG_FINISH_CANCELLED) {
      return Fail("plug-in " + Q(id_) + " ended a stopped stream with " + Describe(o) +
                  "; expected code cancelled and finish cancelled");
    }
    if (auto problem = FinalEventsProblem(o); !problem.empty()) return Fail(problem, Describe(o));
    return Pass(Describe(o));
  }

  Verdict CaseConcurrency() {
    if (auto v = NeedAnswer()) return *v;
    const int threads = std::max(1, o_.threads);
    const bool stream = Has("streaming");
    struct One {
      std::string tag;
      bool stream = false;
      Observed observed;
    };
    std::vector<One> runs(static_cast<size_t>(threads) * 2);
    std::vector<std::thread> pool;
    pool.reserve(static_cast<size_t>(threads));
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (int k = 0; k < 2; ++k) {
          One& one = runs[static_cast<size_t>(t) * 2 + static_cast<size_t>(k)];
          one.tag = "concurrent-" + std::to_string(t) + "-" + std::to_string(k);
          one.stream = stream && k == 1;
          one.observed =
              Direct(Body("Conformance check " + one.tag + ": please answer", one.stream));
        }
      });
    }
    for (auto& thread : pool) thread.join();
    std::vector<std::string> problems;
    for (const auto& one : runs) {
      const Observed& o = one.observed;
      if (!o.result.ok()) {
        problems.push_back(one.tag + " (" + ModeName(one.stream) + ") failed: " + Describe(o));
      } else if (echoes_ && !ContainsFolded(o.result.text, one.tag)) {
        problems.push_back(one.tag + " (" + ModeName(one.stream) +
                           ") got another request's "
                           "answer: '" +
                           Clip(o.result.text) + "'");
      } else if (auto problem = FinalEventsProblem(o); !problem.empty()) {
        problems.push_back(problem);
      }
    }
    if (!problems.empty()) {
      return Fail(std::to_string(problems.size()) + " of " + std::to_string(runs.size()) +
                      " concurrent requests to plug-in " + Q(id_) + " from " +
                      std::to_string(threads) + " threads went wrong; first: " + problems.front(),
                  Join(problems, "\n"));
    }
    return Pass(std::to_string(runs.size()) + " requests from " + std::to_string(threads) +
                " threads on one instance");
  }

  // ---- simulator faults ----

  Verdict CaseFault(const std::string& behavior) {
    const bool block = behavior == "input-block" || behavior == "output-block";
    if (block) {
      if (auto v = NeedCapability("provider_blocks")) return *v;
    }
    if (auto v = NeedSimulator()) return *v;
    std::vector<bool> modes = {false};
    if (Has("streaming")) modes.push_back(true);
    std::string details;
    for (bool stream : modes) {
      const std::string prompt = "Conformance fault check (" + id_ + ", " + ModeName(stream) +
                                 ") [[sim:" + behavior + "]]";
      Observed o = Direct(Body(prompt, stream));
      details += ModeName(stream) + ": " + Describe(o) + "\n";
      if (std::string problem = FaultProblem(behavior, o); !problem.empty()) {
        return Fail("plug-in " + Q(id_) + ", simulator behaviour " + Q(behavior) + " (" +
                        ModeName(stream) + "): " + problem,
                    details);
      }
      if (auto problem = FinalEventsProblem(o); !problem.empty()) return Fail(problem, details);
    }
    return Pass(details);
  }

  std::string FaultProblem(const std::string& behavior, const Observed& o) const {
    const auto& r = o.result;
    const std::string got = "got " + std::string(core::CodeName(r.code)) + " / " +
                            std::string(core::FinishName(r.finish)) + " after " +
                            std::to_string(r.attempts) + " attempt(s)" +
                            (r.message.empty() ? "" : ": " + Clip(r.message, 200));
    auto expect_code = [&](rg_code code) -> std::string {
      if (r.code == code) return {};
      return "expected code " + std::string(core::CodeName(code)) + ", " + got;
    };
    const int max_attempts = 3;
    if (behavior.rfind("rate-limit", 0) == 0) {
      if (auto p = expect_code(RG_ERR_RATE_LIMITED); !p.empty()) return p;
      if (r.final_data.value("retry_after_ms", int64_t{-1}) != 2000) {
        return "a 429 with Retry-After: 2 must reach the caller as retry_after_ms 2000, got "
               "final data " +
               r.final_data.dump();
      }
      return {};
    }
    if (behavior == "server-error" || behavior == "unavailable") {
      if (auto p = expect_code(RG_ERR_RETRYABLE); !p.empty()) return p;
      if (r.attempts != max_attempts) {
        return "expected the host to try " + std::to_string(max_attempts) +
               " times (a retryable failure before any output), " + got;
      }
      return {};
    }
    if (behavior.rfind("flaky", 0) == 0) {
      if (!r.ok()) return "expected the host's retry to get the answer, " + got;
      if (r.attempts != 2) return "expected the answer on the second attempt, " + got;
      return {};
    }
    if (behavior == "auth-failure") {
      if (auto p = expect_code(RG_ERR_AUTH); !p.empty()) return p;
      if (r.attempts != 1) return "an auth failure must not be retried, " + got;
      return {};
    }
    if (behavior.rfind("truncate", 0) == 0 || behavior == "malformed-chunk") {
      return expect_code(RG_ERR_PROTOCOL);
    }
    if (behavior.rfind("stall", 0) == 0) {
      // Before any text the host retries a timeout; after partial text it cannot, and the
      // cut stream is reported as it was seen.
      if (r.code == RG_ERR_RETRYABLE) return {};
      if (r.code == RG_ERR_PROTOCOL && r.partial() &&
          (ContainsFolded(r.message, "time") || ContainsFolded(r.message, "idle"))) {
        return {};
      }
      return "expected code retryable (the host's idle timeout of 500 ms), " + got;
    }
    if (behavior == "input-block" || behavior == "output-block") {
      const std::string side = behavior == "input-block" ? "input" : "output";
      if (auto p = expect_code(RG_ERR_PROVIDER_BLOCKED); !p.empty()) return p;
      if (r.finish != RG_FINISH_CONTENT_FILTER) {
        return "expected finish content_filter, " + got;
      }
      if (r.final_data.value("blocked", "") != side) {
        return "a vendor block of the " + side + " must say \"blocked\":\"" + side +
               "\" in its FINAL data, got " + r.final_data.dump();
      }
      if (side == "input" && !r.text.empty()) {
        return "a refused input must produce no text, got '" + Clip(r.text) + "'";
      }
      if (r.attempts != 1) return "a content block must not be retried, " + got;
      return {};
    }
    return {};
  }

  // ---- policy through the gate ----

  std::optional<Verdict> NeedRuntime() const {
    if (!runtime_) return Fail("the policy could not be loaded: " + runtime_error_);
    return std::nullopt;
  }

  std::optional<Verdict> NeedEcho() const {
    if (!echoes_) {
      return Skip("not applicable: plug-in " + Q(id_) +
                  "'s answer does not repeat the prompt, so no blocked term can be put in its "
                  "output");
    }
    return std::nullopt;
  }

  compliance::DecisionFilter ProbeFilter() const { return {id_, model_, endpoint_}; }

  std::string ProbePrompt() const {
    return std::string("Conformance policy check: repeat after me ") + kProbeTerm + " please";
  }

  /// Runs the output probe once: a buffered request whose answer holds a term the probe
  /// region blocks on output.
  const Probe& OutputProbe() {
    Probe& p = probes_[Feature::kOutputFilter];
    if (p.done) return p;
    p.done = true;
    if (!runtime_ || !instance_ || !echoes_) {
      p.reason = !runtime_ ? "the policy could not be loaded" : "the plug-in does not echo";
      return p;
    }
    output_probe_ = Gated(kProbeOutputLocale, ProbeFilter(), Body(ProbePrompt(), false));
    const Observed& o = *output_probe_;
    if (o.refused) {
      p.reason = "the probe request was refused: " + o.refused->message;
    } else if (ContainsFolded(o.result.text, kProbeTerm)) {
      p.wired = false;
      p.reason = "the buffered answer for locale " + std::string(kProbeOutputLocale) +
                 " (output_action: block) contained the blocked term '" + kProbeTerm + "'";
    } else if (IsBlocked(o.result)) {
      p.wired = true;
    } else {
      p.reason = "the probe request ended " + Describe(o);
    }
    return p;
  }

  const Probe& InputProbe() {
    Probe& p = probes_[Feature::kInputFilter];
    if (p.done) return p;
    p.done = true;
    if (!runtime_ || !instance_ || !echoes_) {
      p.reason = !runtime_ ? "the policy could not be loaded" : "the plug-in does not echo";
      return p;
    }
    Observed o = Gated(kProbeInputLocale, ProbeFilter(), Body(ProbePrompt(), false));
    // Refused before any byte reached the vendor: as a blocked result, or as an error of
    // the content filter (RG-F...).
    const bool refused_here =
        o.sim_requests == 0 &&
        ((o.refused && o.refused->id.rfind("RG-F", 0) == 0) || (!o.refused && IsBlocked(o.result)));
    if (refused_here) {
      p.wired = true;
    } else if (o.refused) {
      p.reason = "the probe request was refused: " + o.refused->message;
    } else if (o.result.ok() && ContainsFolded(o.result.text, kProbeTerm)) {
      p.wired = false;
      p.reason = "a prompt holding the blocked term '" + std::string(kProbeTerm) +
                 "' reached the plug-in for locale " + kProbeInputLocale +
                 " (input_action: refuse)";
    } else {
      p.reason = "the probe request ended " + Describe(o);
    }
    return p;
  }

  const Probe& LabelProbe() {
    Probe& p = probes_[Feature::kLabels];
    if (p.done) return p;
    p.done = true;
    if (!runtime_ || !instance_) {
      p.reason = "the policy could not be loaded";
      return p;
    }
    Observed o = Gated(kProbeOutputLocale, ProbeFilter(), Body(kPrompt, false));
    if (!o.result.ok()) {
      p.reason = "the probe request ended " + Describe(o);
    } else if (o.result.text.find(kProbeLabel) != std::string::npos) {
      p.wired = true;
    } else {
      p.wired = false;
      p.reason = "the answer for locale " + std::string(kProbeOutputLocale) +
                 " carries no explicit label '" + kProbeLabel + "'";
    }
    return p;
  }

  const Probe& AuditProbe() {
    Probe& p = probes_[Feature::kAudit];
    if (!gated_requests_ && runtime_ && instance_) LabelProbe();  // any gated request will do
    p.done = true;
    bool found = false;
    for (const auto& [path, size] : SnapshotFiles(o_.work_dir, own_files_)) {
      if (LooksLikeAudit(path) && size > 0) found = true;
    }
    p.wired = found;
    p.reason = found ? std::string()
                     : "no audit record was written under " + o_.work_dir.string() +
                           " (the runtime's audit directory is its audit/ folder)";
    return p;
  }

  const Probe& ProbeOf(Feature f) {
    switch (f) {
      case Feature::kInputFilter:
        return InputProbe();
      case Feature::kOutputFilter:
        return OutputProbe();
      case Feature::kLabels:
        return LabelProbe();
      case Feature::kAudit:
        return AuditProbe();
    }
    return OutputProbe();
  }

  std::string NotWired(Feature f, const Probe& p) const {
    return std::string(FeatureName(f)) + " is not applied by Runtime::Complete yet (" +
           (p.reason.empty() ? "the probe could not tell" : p.reason) + ")";
  }

  Verdict CaseOutputPolicy() {
    if (auto v = NeedRuntime()) return *v;
    if (auto v = NeedAnswer()) return *v;
    if (auto v = NeedEcho()) return *v;
    const Probe& p = OutputProbe();
    const Observed& o = *output_probe_;
    if (o.refused) {
      return Fail("the gate refused plug-in " + Q(id_) + " for the probe locale " +
                  kProbeOutputLocale + ": " + o.refused->message + " [" + o.refused->id + "]");
    }
    if (p.wired && *p.wired) {
      if (o.result.finish != RG_FINISH_CONTENT_FILTER) {
        return Fail("the output policy stopped the answer for " + std::string(kProbeOutputLocale) +
                        " but ended it with finish " + Q(core::FinishName(o.result.finish)) +
                        " instead of 'content_filter'",
                    Describe(o));
      }
      return Pass(Describe(o));
    }
    if (p.wired && !*p.wired) return Pending(NotWired(Feature::kOutputFilter, p), Describe(o));
    return Fail("the output policy probe for plug-in " + Q(id_) +
                    " neither passed the blocked term nor stopped the answer: " + p.reason,
                Describe(o));
  }

  Verdict CaseStreamBypass() {
    if (auto v = NeedRuntime()) return *v;
    if (auto v = NeedCapability("streaming")) return *v;
    if (auto v = NeedAnswer()) return *v;
    if (auto v = NeedEcho()) return *v;
    const Probe& p = OutputProbe();
    if (!p.wired || !*p.wired) {
      // Asserting a guard cannot be bypassed means nothing while the guard is off.
      return Pending(
          "not checked: the output policy is not enforced even without streaming "
          "(see 'output policy enforced'); once it is, this case checks that no "
          "streamed delta carries the blocked term");
    }
    Observed o = Gated(kProbeOutputLocale, ProbeFilter(), Body(ProbePrompt(), true));
    if (o.refused) {
      return Fail("the gate refused the streamed probe: " + o.refused->message);
    }
    if (ContainsFolded(o.delivered, kProbeTerm) || ContainsFolded(o.result.text, kProbeTerm)) {
      return Fail("stream:true bypassed the output policy: the caller received the blocked term '" +
                      std::string(kProbeTerm) + "' in streamed text for locale " +
                      kProbeOutputLocale + " although the buffered answer was stopped",
                  Describe(o) + "; delivered '" + Clip(o.delivered) + "'");
    }
    if (o.result.finish != RG_FINISH_CONTENT_FILTER) {
      return Fail("the streamed answer for " + std::string(kProbeOutputLocale) +
                      " ended with finish " + Q(core::FinishName(o.result.finish)) +
                      " instead of 'content_filter'",
                  Describe(o));
    }
    return Pass(Describe(o) + "; delivered '" + Clip(o.delivered) + "'");
  }

  // ---- credentials ----

  Verdict CaseLogCredentials() {
    if (auto v = NeedManifest()) return *v;
    if (secrets_.empty()) {
      return Skip("not applicable: plug-in " + Q(id_) +
                  " declares no secret setting, so it was given no credential");
    }
    std::lock_guard lock(log_mutex_);
    for (const auto& record : logs_) {
      bool raw = false;
      for (const auto& [name, value] : secrets_) {
        if (record.message.find(value) != std::string::npos) raw = true;
      }
      if (record.contained_secret || raw) {
        return Fail("plug-in " + Q(id_) + " wrote a credential into a log line (level " +
                    LevelName(record.level) + (raw ? ", NOT redacted" : ", redacted by the host") +
                    "): \"" + Clip(Redacted(record.message), 200) +
                    "\"; never log a secret's value");
      }
    }
    return Pass(std::to_string(logs_.size()) + " log line(s) checked for " +
                std::to_string(secrets_.size()) + " credential(s)");
  }

  Verdict CaseAuditCredentials() {
    if (auto v = NeedManifest()) return *v;
    std::vector<fs::path> audit_files;
    for (const auto& [path, size] : SnapshotFiles(o_.work_dir, own_files_)) {
      std::string text = ReadFrom(path, 0);
      for (const auto& [name, value] : secrets_) {
        if (!value.empty() && text.find(value) != std::string::npos) {
          return Fail("a credential of plug-in " + Q(id_) + " (" + name + ") was written to " +
                      path.string() + (LooksLikeAudit(path) ? " (an audit record)" : "") +
                      "; audit records and other files must never hold secret values");
        }
      }
      if (LooksLikeAudit(path) && size > 0) audit_files.push_back(path);
    }
    if (audit_files.empty() && !gated_requests_) {
      return Skip("not run: no request went through the gate (see the cases before)");
    }
    if (audit_files.empty()) {
      return Pending(NotWired(Feature::kAudit, AuditProbe()) +
                     "; every file the worker's host wrote was checked, and none held a "
                     "credential");
    }
    std::vector<std::string> names;
    names.reserve(audit_files.size());
    for (const auto& f : audit_files) names.push_back(f.string());
    return Pass("checked " + Join(names));
  }

  std::string Redacted(std::string text) const {
    for (const auto& [name, value] : secrets_) {
      for (size_t at; !value.empty() && (at = text.find(value)) != std::string::npos;) {
        text.replace(at, value.size(), "[" + name + "]");
      }
    }
    return text;
  }

  static std::string LevelName(rg_log_level level) {
    switch (level) {
      case RG_LOG_TRACE:
        return "trace";
      case RG_LOG_DEBUG:
        return "debug";
      case RG_LOG_INFO:
        return "info";
      case RG_LOG_WARN:
        return "warn";
      case RG_LOG_ERROR:
        return "error";
      default:
        return "unknown";
    }
  }

  // ---- scenario cases ----

  Verdict CaseScenario(const ScenarioSuite& suite, const ScenarioCase& c) {
    (void)suite;
    const std::string where = c.Where() + ": ";
    if (auto v = NeedRuntime()) return *v;
    if (auto v = NeedPlugin()) return *v;
    for (const auto& capability : c.capabilities) {
      if (!Has(capability)) {
        return Skip("not applicable: the case needs capability " + Q(capability) +
                    ", which plug-in " + Q(id_) + " does not declare");
      }
    }
    auto gate = runtime_->gate();
    compliance::DecisionFilter filter{id_, c.model, c.endpoint};
    auto explained = gate->Explain(c.locale, filter);
    if (!explained.ok()) {
      return Fail(where + explained.error().message + " [" + explained.error().id + "]");
    }
    std::vector<const compliance::Decision*> candidates;
    for (const auto& d : explained->decisions) {
      const auto* endpoint = plugin_->manifest.FindEndpoint(d.endpoint);
      if (endpoint == nullptr || endpoint->kind == "inference") candidates.push_back(&d);
    }
    const auto allowed = std::find_if(candidates.begin(), candidates.end(),
                                      [](const compliance::Decision* d) { return d->allowed; });
    const bool any_allowed = allowed != candidates.end();
    const std::string subject = "plug-in " + Q(id_) +
                                (c.model.empty() ? "" : " model " + Q(c.model)) +
                                (c.endpoint.empty() ? "" : " endpoint " + Q(c.endpoint)) + " for " +
                                c.locale + " (region " + explained->region + ")";
    auto deny_reasons = [&]() {
      std::vector<std::string> out;
      for (const auto* d : candidates) {
        for (const auto& r : d->reasons) {
          if (r.effect == "deny") out.push_back(d->model + "/" + d->endpoint + ": " + r.rule);
        }
      }
      return Join(out, "; ");
    };
    // "Any plug-in" cases are about the plug-ins the gate lets through.
    const bool wants_allowed = c.expect.decision == "allowed" ||
                               (c.expect.decision.empty() && c.expect.outcome != "denied");
    if (c.plugin.empty() && wants_allowed && !any_allowed) {
      return Skip("not applicable: the gate allows no model of plug-in " + Q(id_) + " for " +
                  c.locale);
    }
    if (c.expect.decision == "allowed" && !any_allowed) {
      return Fail(where + "expected the gate to allow " + subject +
                  ", but it denies every "
                  "candidate (" +
                  deny_reasons() + ")");
    }
    if (c.expect.decision == "denied" && any_allowed) {
      return Fail(where + "expected the gate to deny " + subject + ", but it allows " +
                  (*allowed)->model + " via " + (*allowed)->endpoint);
    }
    if (!c.expect.rule.empty()) {
      if (c.expect.decision == "denied") {
        std::vector<std::string> without;
        for (const auto* d : candidates) {
          const bool has = std::any_of(d->reasons.begin(), d->reasons.end(), [&](const auto& r) {
            return r.rule == c.expect.rule && r.effect == "deny";
          });
          if (!has) without.push_back(d->model + " via " + d->endpoint);
        }
        if (!without.empty()) {
          return Fail(where + "expected rule " + Q(c.expect.rule) + " to deny " + subject +
                      ", but it does not deny " + Join(without) +
                      " (deny reasons: " + deny_reasons() + ")");
        }
      } else {
        auto choice = gate->Choose(c.locale, filter);
        const bool has =
            choice.ok() &&
            std::any_of(choice->reasons.begin(), choice->reasons.end(), [&](const auto& r) {
              return r.rule == c.expect.rule && r.effect == "allow";
            });
        if (!has) {
          return Fail(where + "expected rule " + Q(c.expect.rule) + " to allow " + subject +
                      (choice.ok() ? " (chosen: " + choice->model + " via " + choice->endpoint + ")"
                                   : std::string()) +
                      ", but it is not among the allowing rules");
        }
      }
    }
    if (c.prompt.empty()) return Pass("decision checked");
    const bool sim_behaviour = !c.behavior.empty() && c.behavior != "normal";
    if (sim_behaviour && !(uses_sim_)) {
      return Skip("not applicable: plug-in " + Q(id_) +
                  " does not talk to the vendor simulator, so behaviour " + Q(c.behavior) +
                  " cannot reach it");
    }
    if (!instance_) return Skip("not run: no instance (see 'instance with default settings')");

    std::vector<bool> modes;
    if (c.stream != StreamMode::kStream) modes.push_back(false);
    if (c.stream != StreamMode::kBuffered && Has("streaming")) modes.push_back(true);
    if (modes.empty()) {
      return Skip("not applicable: the case streams and plug-in " + Q(id_) +
                  " does not declare 'streaming'");
    }
    std::string details;
    std::optional<std::string> pending;
    for (bool stream : modes) {
      const std::string prompt =
          c.prompt + (c.behavior.empty() ? "" : " [[sim:" + c.behavior + "]]");
      const FileSizes before = SnapshotFiles(o_.work_dir, own_files_);
      Observed o =
          Gated(c.locale, filter, Body(prompt, stream, c.system, c.max_tokens), c.settings);
      details += ModeName(stream) + ": " + Describe(o) + "\n";
      std::vector<Check> checks = CheckScenario(c, o, before, explained->region);
      for (const auto& check : checks) {
        if (!check.feature) {
          return Fail(where + check.message + " (" + ModeName(stream) + ")", details);
        }
        const Probe& probe = ProbeOf(*check.feature);
        if (probe.wired && *probe.wired) {
          return Fail(where + check.message + " (" + ModeName(stream) + ")", details);
        }
        if (!pending) {
          pending =
              check.message + " (" + ModeName(stream) + "): " + NotWired(*check.feature, probe);
        }
      }
    }
    if (pending) return Pending(*pending, details);
    return Pass(details);
  }

  struct Check {
    std::string message;
    std::optional<Feature> feature;  ///< the runtime policy this expectation depends on
  };

  std::vector<Check> CheckScenario(const ScenarioCase& c, const Observed& o,
                                   const FileSizes& before, const std::string& region_id) {
    std::vector<Check> out;
    const ScenarioExpect& e = c.expect;
    const bool vendor_block = c.behavior.rfind("input-block", 0) == 0 ||
                              c.behavior.rfind("output-block", 0) == 0 ||
                              c.behavior.rfind("refusal", 0) == 0;
    const Outcome got = Classify(o, vendor_block);
    // What a failed expectation depends on: a block the vendor did not cause is the host's
    // content filter's (input or output side).
    const bool input_side = e.outcome == "blocked_input";
    std::optional<Feature> filter;
    if (!vendor_block && e.blocked_by != "provider" &&
        (e.outcome == "blocked_input" || e.outcome == "blocked_output" || !e.text_absent.empty())) {
      filter = input_side ? Feature::kInputFilter : Feature::kOutputFilter;
    }
    auto mismatch = [&](const char* what, const std::string& expected, const std::string& actual) {
      out.push_back({std::string("expected ") + what + " " + Q(expected) + ", got " + Q(actual) +
                         " (" + Describe(o) + ")",
                     filter});
    };
    if (!e.outcome.empty() && got.outcome != e.outcome) mismatch("outcome", e.outcome, got.outcome);
    if (!e.code.empty() && got.code != e.code) mismatch("code", e.code, got.code);
    if (!e.finish.empty() && got.finish != e.finish) mismatch("finish", e.finish, got.finish);
    if (!e.blocked_by.empty() && got.blocked_by != e.blocked_by) {
      mismatch("blocked_by", e.blocked_by, got.blocked_by.empty() ? "nothing" : got.blocked_by);
    }
    const std::string text = o.refused ? std::string() : o.result.text;
    for (const auto& needle : e.text_contains) {
      if (text.find(needle) == std::string::npos) {
        out.push_back({"the answer lacks '" + needle + "': '" + Clip(text) + "'", std::nullopt});
      }
    }
    for (const auto& term : e.text_absent) {
      if (ContainsFolded(o.delivered, term) || ContainsFolded(text, term)) {
        out.push_back({"'" + term + "' reached the caller" +
                           (o.stream ? " in streamed text" : std::string()) + ": '" +
                           Clip(o.delivered.empty() ? text : o.delivered) + "'",
                       input_side ? Feature::kInputFilter : Feature::kOutputFilter});
      }
    }
    if (!e.label.empty() && !o.refused) {
      std::string label = e.label;
      std::string position;
      if (label == "region") {
        label.clear();
        const auto* region = runtime_->gate()->policy().FindRegion(region_id);
        if (region != nullptr) {
          auto it = region->labels.explicit_labels.find(c.locale);
          if (it == region->labels.explicit_labels.end()) {
            it = region->labels.explicit_labels.find("default");
          }
          if (it != region->labels.explicit_labels.end()) {
            label = it->second.text;
            position = it->second.position;
          }
        }
        if (label.empty()) {
          out.push_back({"'expect.label: region' but region " + Q(region_id) +
                             " has no explicit label for " + c.locale,
                         std::nullopt});
        }
      }
      // A ui_persistent label is shown by the UI, not written into the answer: the runtime
      // hands it over as the notice to keep on screen.
      if (!label.empty() && position == "ui_persistent") {
        if (o.ui_notice.find(label) == std::string::npos) {
          out.push_back(
              {"the response carries no UI notice '" + label + "' (got '" + o.ui_notice + "')",
               Feature::kLabels});
        }
      } else if (!label.empty()) {
        std::string trimmed = text;
        while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back()))) {
          trimmed.pop_back();
        }
        size_t lead = 0;
        while (lead < trimmed.size() && std::isspace(static_cast<unsigned char>(trimmed[lead]))) {
          ++lead;
        }
        trimmed.erase(0, lead);
        bool ok = trimmed.find(label) != std::string::npos;
        if (ok && (position == "start" || position == "start_and_end")) {
          ok = trimmed.rfind(label, 0) == 0;
        }
        if (ok && (position == "end" || position == "start_and_end")) {
          ok = trimmed.size() >= label.size() &&
               trimmed.compare(trimmed.size() - label.size(), label.size(), label) == 0;
        }
        if (!ok) {
          out.push_back({"the answer lacks the label '" + label + "'" +
                             (position.empty() ? "" : " at its " + position) + ": '" + Clip(text) +
                             "'",
                         Feature::kLabels});
        }
      }
    }
    if (!e.audit.empty()) {
      std::optional<json> record = NewAuditRecord(before);
      if (!record) {
        out.push_back({"no audit record was written for the request", Feature::kAudit});
      } else {
        for (const auto& [key, expected] : e.audit) {
          const json* actual = nullptr;
          if (record->is_object() && record->contains(key)) actual = &(*record)[key];
          if (actual == nullptr || *actual != expected) {
            out.push_back({"audit record field '" + key + "' is " +
                               (actual ? actual->dump() : std::string("missing")) + ", expected " +
                               expected.dump(),
                           Feature::kAudit});
          }
        }
      }
    }
    return out;
  }

  /// The last JSON record appended to an audit-looking file since `before`.
  std::optional<json> NewAuditRecord(const FileSizes& before) const {
    std::optional<json> last;
    for (const auto& [path, size] : SnapshotFiles(o_.work_dir, own_files_)) {
      if (!LooksLikeAudit(path)) continue;
      auto it = before.find(path);
      const uintmax_t from = it == before.end() ? 0 : it->second;
      if (size <= from) continue;
      std::istringstream lines(ReadFrom(path, from));
      for (std::string line; std::getline(lines, line);) {
        json record = json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (record.is_object()) last = std::move(record);
      }
    }
    return last;
  }

  const WorkerOptions& o_;
  std::mutex send_mutex_;
  std::vector<PlannedCase> cases_;
  std::vector<std::shared_ptr<ScenarioSuite>> suites_;
  std::string scenario_errors_;

  fs::path manifest_path_;
  std::optional<compliance::PluginManifest> manifest_;
  compliance::Diagnostics manifest_diagnostics_;
  std::string id_;

  // Before the host: a plug-in may still log while the host unloads it.
  std::mutex log_mutex_;
  std::vector<core::PluginLogRecord> logs_;

  std::unique_ptr<VendorSim> sim_;
  std::string setup_error_;
  std::unique_ptr<core::Runtime> runtime_;
  std::string runtime_error_;
  std::unique_ptr<core::Host> own_host_;
  core::Host* host_ = nullptr;
  std::set<fs::path> own_files_;
  std::string policy_notes_;

  std::shared_ptr<const core::LoadedPlugin> plugin_;
  std::optional<rg::Error> load_error_;
  std::shared_ptr<core::Instance> instance_;
  std::string model_;
  std::string endpoint_;

  bool uses_sim_ = false;  // the plug-in reached the simulator in its first answer
  bool echoes_ = false;
  bool buffered_ok_ = false;
  std::optional<core::CompletionResult> buffered_;
  std::optional<core::CompletionResult> streamed_;
  std::map<Feature, Probe> probes_;
  std::optional<Observed> output_probe_;
  bool gated_requests_ = false;

  std::vector<std::pair<std::string, std::string>> secrets_;  // name, value

  std::atomic<int> abandoned_{0};
};

}  // namespace

int RunWorker(const WorkerOptions& options) {
  // Destroyed only when no thread was abandoned inside the plug-in; otherwise the process
  // ends without running destructors that would wait for (or race with) that thread.
  auto worker = std::make_unique<Worker>(options);
  const int code = worker->Run();
  if (worker->abandoned_threads()) {
    std::fflush(nullptr);
    std::_Exit(code);
  }
  worker.reset();
  return code;
}

}  // namespace rg::tools::conformance
