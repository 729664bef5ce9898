#include "regiongate/core/host.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <list>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "host_services.hpp"

namespace rg::core {

namespace {

using Clock = std::chrono::steady_clock;

std::string_view View(rg_str s) {
  return s.ptr == nullptr ? std::string_view() : std::string_view(s.ptr, s.len);
}

bool IsUrl(std::string_view url) {
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

std::string JoinSettingKeys(const compliance::PluginManifest& manifest) {
  std::string out;
  for (const auto& setting : manifest.settings) {
    if (!out.empty()) out += ", ";
    out += setting.key;
  }
  return out.empty() ? std::string("none") : out;
}

bool TypeMatches(const std::string& type, const nlohmann::json& value) {
  if (type == "string") return value.is_string();
  if (type == "integer") return value.is_number_integer();
  if (type == "number") return value.is_number();
  if (type == "boolean") return value.is_boolean();
  return false;
}

}  // namespace

Result<EndpointOverride> ParseEndpointOverride(std::string_view spec) {
  const size_t eq = spec.find('=');
  const size_t dot = spec.substr(0, eq).find('.');
  if (eq == std::string_view::npos || dot == std::string_view::npos || dot == 0 || dot + 1 >= eq ||
      eq + 1 >= spec.size()) {
    return Error{"RG-H101", "endpoint override '" + std::string(spec) +
                                "' is not of the form PLUGIN.ENDPOINT_ID=URL"};
  }
  // PLUGIN and ENDPOINT_ID may be "*" (every plug-in / every endpoint of the plug-in).
  EndpointOverride out{std::string(spec.substr(0, dot)),
                       std::string(spec.substr(dot + 1, eq - dot - 1)),
                       std::string(spec.substr(eq + 1))};
  if (!IsUrl(out.url)) {
    return Error{"RG-H102", "endpoint override for '" + out.plugin_id + "." + out.endpoint_id +
                                "' must be an http:// or https:// URL, got '" + out.url + "'"};
  }
  while (!out.url.empty() && out.url.back() == '/') out.url.pop_back();
  return out;
}

std::string_view CodeName(rg_code code) {
  switch (code) {
    case RG_OK:
      return "ok";
    case RG_ERR_RETRYABLE:
      return "retryable";
    case RG_ERR_AUTH:
      return "auth";
    case RG_ERR_RATE_LIMITED:
      return "rate_limited";
    case RG_ERR_INVALID_REQUEST:
      return "invalid_request";
    case RG_ERR_PROVIDER_BLOCKED:
      return "provider_blocked";
    case RG_ERR_UNAVAILABLE:
      return "unavailable";
    case RG_ERR_CANCELLED:
      return "cancelled";
    case RG_ERR_INTERNAL:
      return "internal";
    case RG_ERR_PROTOCOL:
      return "protocol";
    case RG_ERR_EGRESS_DENIED:
      return "egress_denied";
    default:
      return "internal";
  }
}

std::string_view FinishName(rg_finish_reason finish) {
  switch (finish) {
    case RG_FINISH_STOP:
      return "stop";
    case RG_FINISH_LENGTH:
      return "length";
    case RG_FINISH_TOOL_CALLS:
      return "tool_calls";
    case RG_FINISH_CONTENT_FILTER:
      return "content_filter";
    case RG_FINISH_ERROR:
      return "error";
    case RG_FINISH_CANCELLED:
      return "cancelled";
    default:
      return "none";
  }
}

// ---------------------------------------------------------------------------------------
// Instance

Instance::Instance(std::shared_ptr<const LoadedPlugin> plugin, rg_instance* handle,
                   nlohmann::json config)
    : plugin_(std::move(plugin)), handle_(handle), config_(std::move(config)) {}

Instance::~Instance() {
  if (handle_ != nullptr && plugin_->table->instance_destroy != nullptr) {
    plugin_->table->instance_destroy(handle_);
  }
}

// ---------------------------------------------------------------------------------------
// Host

struct Host::Impl : HostServicesBackend {
  explicit Impl(HostOptions opts)
      : options(std::move(opts)),
        transport(options.http),
        secret_store(options.secrets),
        loader([this](const compliance::PluginManifest& manifest) {
          return HostServicesFactory::Create(manifest.id, this);
        }) {
    for (const auto& o : options.endpoint_overrides) {
      overrides[{o.plugin_id, o.endpoint_id}] = o.url;
    }
  }

  // HostServicesBackend --------------------------------------------------------------
  void Log(const std::string& plugin_id, rg_log_level level, std::string_view text) override {
    if (level < options.plugin_log_level) return;
    PluginLogRecord record{plugin_id, level, std::string(text), false};
    record.contained_secret = secret_store.Redact(&record.message);
    if (options.log_observer) {
      options.log_observer(record);
      return;
    }
    const auto spd = level >= RG_LOG_ERROR  ? spdlog::level::err
                     : level >= RG_LOG_WARN ? spdlog::level::warn
                     : level >= RG_LOG_INFO ? spdlog::level::info
                                            : spdlog::level::debug;
    spdlog::log(spd, "[plugin {}] {}{}", plugin_id, record.message,
                record.contained_secret ? " (a secret was redacted from this line)" : "");
  }

  bool LogEnabled(rg_log_level level) const override { return level >= options.plugin_log_level; }

  std::optional<std::string> Secret(std::string_view name) override {
    return secret_store.Get(name);
  }

  HttpOutcome Http(rg_call& call, HttpRequest request, HttpResponseHandler& handler) override {
    const LoadedPlugin& plugin = *call.plugin;
    const std::string endpoint_id = request.target.endpoint_id;
    const compliance::EndpointDecl* endpoint = plugin.manifest.FindEndpoint(endpoint_id);
    if (endpoint == nullptr) {
      return {RG_ERR_EGRESS_DENIED,
              "plug-in '" + plugin.manifest.id + "' asked to reach endpoint '" + endpoint_id +
                  "', which its manifest does not declare; declare it in plugin.yaml",
              0};
    }
    const std::string base = EffectiveBaseUrl(plugin.manifest.id, endpoint_id);
    request.url = base + request.url;  // request.url holds the path until here
    request.target.region = call.region;
    request.target.locale = call.locale;
    request.target.plugin_id = plugin.manifest.id;
    request.target.declared_base_url = endpoint->base_url;
    request.target.data_region = endpoint->data_region;
    request.target.inference_scope = endpoint->inference_scope;
    request.target.overridden = IsOverridden(plugin.manifest.id, endpoint_id);
    request.target.url = request.url;
    const CancelToken cancel = call.cancel;
    return transport.Perform(request, handler, [cancel] { return cancel.cancelled(); });
  }

  // ----------------------------------------------------------------------------------
  // Most specific first: PLUGIN.ENDPOINT, then PLUGIN.*, then *.* (handy to point every
  // endpoint at one simulator).
  const std::string* FindOverride(std::string_view plugin_id, std::string_view endpoint_id) const {
    for (const auto& key : {std::pair{std::string(plugin_id), std::string(endpoint_id)},
                            std::pair{std::string(plugin_id), std::string("*")},
                            std::pair{std::string("*"), std::string("*")}}) {
      if (auto it = overrides.find(key); it != overrides.end()) return &it->second;
    }
    return nullptr;
  }

  std::string EffectiveBaseUrl(std::string_view plugin_id, std::string_view endpoint_id) const {
    if (const std::string* url = FindOverride(plugin_id, endpoint_id)) return *url;
    if (auto plugin = loader.Find(plugin_id)) {
      if (const auto* endpoint = plugin->manifest.FindEndpoint(endpoint_id)) {
        std::string url = endpoint->base_url;
        while (!url.empty() && url.back() == '/') url.pop_back();
        return url;
      }
    }
    return {};
  }

  bool IsOverridden(std::string_view plugin_id, std::string_view endpoint_id) const {
    return FindOverride(plugin_id, endpoint_id) != nullptr;
  }

  ~Impl() override {
    for (const auto& plugin : loader.Loaded()) HostServicesFactory::Detach(plugin->services, this);
  }

  // A plug-in loaded earlier in the process by another host now reports to this one.
  void Attach(const LoadReport& report) {
    for (const auto& plugin : report.loaded) HostServicesFactory::Attach(plugin->services, this);
  }

  // Overrides are checked and logged once their plug-in is known.
  void ReportOverrides(LoadReport& report) {
    for (const auto& [key, url] : overrides) {
      const auto& [plugin_id, endpoint_id] = key;
      if (endpoint_id == "*") continue;
      auto plugin = loader.Find(plugin_id);
      if (plugin && plugin->manifest.FindEndpoint(endpoint_id) == nullptr) {
        report.refused.push_back(
            LoadRefusal{plugin_id, plugin->manifest.manifest_path, "RG-H103",
                        "endpoint override names endpoint '" + endpoint_id + "', which plug-in '" +
                            plugin_id + "' does not declare; use one of its endpoint ids"});
      }
    }
    // One line per override rule, naming what it redirects.
    for (const auto& [key, url] : overrides) {
      std::vector<std::string> targets;
      std::set<std::string> plugins;
      for (const auto& plugin : loader.Loaded()) {
        for (const auto& endpoint : plugin->manifest.endpoints) {
          if (FindOverride(plugin->manifest.id, endpoint.id) != &url) continue;
          targets.push_back(plugin->manifest.id + "." + endpoint.id + " (" + endpoint.data_region +
                            "/" + endpoint.inference_scope + ")");
          plugins.insert(plugin->manifest.id);
        }
      }
      std::string summary;
      if (targets.size() <= 3) {
        for (const auto& t : targets) summary += (summary.empty() ? "" : ", ") + t;
      } else {
        summary = std::to_string(targets.size()) + " endpoints of";
        for (const auto& p : plugins) summary += " " + p;
      }
      if (targets.empty() || logged_overrides[key] == summary) continue;
      logged_overrides[key] = summary;
      spdlog::info(
          "endpoint override {}.{} -> {} redirects {}; decisions keep using the declared "
          "endpoints' data region and inference scope",
          key.first, key.second, url, summary);
    }
  }

  HostOptions options;
  HttpTransport transport;
  SecretStore secret_store;
  PluginLoader loader;
  std::map<std::pair<std::string, std::string>, std::string> overrides;
  std::map<std::pair<std::string, std::string>, std::string> logged_overrides;
  std::mutex random_mutex;
  std::mt19937_64 random{std::random_device{}()};
};

Host::Host(HostOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Host::~Host() = default;

LoadReport Host::LoadPluginDirectory(const std::filesystem::path& dir) {
  LoadReport report = impl_->loader.LoadDirectory(dir);
  impl_->Attach(report);
  impl_->ReportOverrides(report);
  return report;
}

Result<std::shared_ptr<const LoadedPlugin>> Host::LoadPlugin(
    const std::filesystem::path& manifest) {
  auto loaded = impl_->loader.LoadManifest(manifest);
  if (loaded.ok()) {
    HostServicesFactory::Attach(loaded.value()->services, impl_.get());
    LoadReport report;
    impl_->ReportOverrides(report);
    if (!report.refused.empty()) {
      return Error{report.refused.front().id, report.refused.front().message};
    }
  }
  return loaded;
}

std::vector<std::shared_ptr<const LoadedPlugin>> Host::Plugins() const {
  return impl_->loader.Loaded();
}

std::shared_ptr<const LoadedPlugin> Host::FindPlugin(std::string_view plugin_id) const {
  return impl_->loader.Find(plugin_id);
}

std::string Host::EffectiveBaseUrl(std::string_view plugin_id, std::string_view endpoint_id) const {
  return impl_->EffectiveBaseUrl(plugin_id, endpoint_id);
}

bool Host::IsOverridden(std::string_view plugin_id, std::string_view endpoint_id) const {
  return impl_->IsOverridden(plugin_id, endpoint_id);
}

Result<std::shared_ptr<Instance>> Host::CreateInstance(std::string_view plugin_id,
                                                       const nlohmann::json& settings) {
  auto plugin = FindPlugin(plugin_id);
  if (!plugin) {
    return Error{"RG-I001",
                 "no plug-in '" + std::string(plugin_id) +
                     "' is loaded; run 'regiongate plugins list' to see the loaded ones"};
  }
  const auto& manifest = plugin->manifest;
  const nlohmann::json given = settings.is_null() ? nlohmann::json::object() : settings;
  if (!given.is_object()) {
    return Error{"RG-I002", "settings for plug-in '" + manifest.id + "' must be a JSON object"};
  }
  nlohmann::json effective = nlohmann::json::object();
  for (const auto& item : given.items()) {
    const auto it = std::find_if(manifest.settings.begin(), manifest.settings.end(),
                                 [&](const auto& s) { return s.key == item.key(); });
    if (it == manifest.settings.end()) {
      return Error{"RG-I003", "unknown setting '" + item.key() + "' for plug-in '" + manifest.id +
                                  "' (known settings: " + JoinSettingKeys(manifest) + ")"};
    }
    if (!TypeMatches(it->type, item.value())) {
      return Error{"RG-I004", "setting '" + item.key() + "' of plug-in '" + manifest.id +
                                  "' must be of type " + it->type};
    }
  }
  for (const auto& spec : manifest.settings) {
    if (auto it = given.find(spec.key); it != given.end()) {
      effective[spec.key] = *it;
    } else if (!spec.default_value.is_null()) {
      effective[spec.key] = spec.default_value;
    } else if (spec.required) {
      return Error{"RG-I005", "setting '" + spec.key + "' of plug-in '" + manifest.id +
                                  "' is required: " + spec.description};
    }
  }
  nlohmann::json endpoints = nlohmann::json::object();
  for (const auto& endpoint : manifest.endpoints) {
    endpoints[endpoint.id] = {
        {"id", endpoint.id},
        {"kind", endpoint.kind},
        {"base_url", EffectiveBaseUrl(manifest.id, endpoint.id)},
        {"declared_base_url", endpoint.base_url},
        {"overridden", IsOverridden(manifest.id, endpoint.id)},
        {"data_region", endpoint.data_region},
        {"inference_scope", endpoint.inference_scope},
        {"protocol", endpoint.protocol},
    };
  }
  nlohmann::json config = {{"settings", effective}, {"endpoints", endpoints}};
  const std::string text = config.dump();
  rg_error error{};
  error.struct_size = sizeof error;
  rg_instance* handle = nullptr;
  rg_code code = RG_ERR_INTERNAL;
  try {
    code = plugin->table->instance_create(rg_str{text.data(), text.size()}, &handle, &error);
  } catch (...) {
    return Error{"RG-I006", "plug-in '" + manifest.id +
                                "' threw from instance_create; its entry points must catch "
                                "everything (use the SDK's guard)"};
  }
  if (code != RG_OK || handle == nullptr) {
    error.message[RG_ERROR_MESSAGE_CAPACITY - 1] = '\0';
    return Error{"RG-I007", "plug-in '" + manifest.id + "' could not create an instance (" +
                                std::string(CodeName(code == RG_OK ? RG_ERR_INTERNAL : code)) +
                                "): " + (error.message[0] ? error.message : "no reason given")};
  }
  return std::make_shared<Instance>(plugin, handle, std::move(config));
}

namespace {

// Collects one attempt's events; forwards text and usage to the caller as they arrive.
struct Attempt {
  const EventCallback* on_event = nullptr;
  const CancelToken* cancel = nullptr;
  Clock::time_point start;
  CompletionResult* result = nullptr;
  bool* delivered = nullptr;
  int final_events = 0;
  int events_after_final = 0;
  rg_finish_reason finish = RG_FINISH_NONE;
  rg_code code = RG_ERR_INTERNAL;
  nlohmann::json final_data;

  int Emit(const rg_event* event) {
    if (event == nullptr) return 1;
    if (final_events > 0) {
      ++events_after_final;
      if (event->kind == RG_EVENT_FINAL) ++final_events;
      return 1;
    }
    const std::string_view data = View(event->data);
    switch (event->kind) {
      case RG_EVENT_FINAL: {
        ++final_events;
        finish = event->finish;
        code = event->code;
        final_data = nlohmann::json::parse(data, nullptr, false);
        if (final_data.is_discarded() || !final_data.is_object()) {
          final_data = nlohmann::json::object();
        }
        return 0;
      }
      case RG_EVENT_TEXT_DELTA: {
        if (result->time_to_first_token.count() < 0) {
          result->time_to_first_token =
              std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
        }
        result->text.append(data);
        *delivered = true;
        return Forward({RG_EVENT_TEXT_DELTA, std::string(data), RG_FINISH_NONE, RG_OK});
      }
      case RG_EVENT_TOOL_CALL_DELTA: {
        MergeToolCall(nlohmann::json::parse(data, nullptr, false));
        *delivered = true;
        return Forward({RG_EVENT_TOOL_CALL_DELTA, std::string(data), RG_FINISH_NONE, RG_OK});
      }
      case RG_EVENT_USAGE: {
        auto usage = nlohmann::json::parse(data, nullptr, false);
        if (!usage.is_discarded() && usage.is_object()) result->usage = usage;
        return Forward({RG_EVENT_USAGE, std::string(data), RG_FINISH_NONE, RG_OK});
      }
      default:
        return 0;  // unknown kinds from a newer minor version are skipped
    }
  }

  int Forward(const CompletionEvent& event) {
    if (*on_event && !(*on_event)(event)) {
      cancel->Cancel();
      return 1;
    }
    return cancel->cancelled() ? 1 : 0;
  }

  void MergeToolCall(const nlohmann::json& delta) {
    if (delta.is_discarded() || !delta.is_object()) return;
    const int64_t index = delta.value("index", int64_t{0});
    auto& calls = result->tool_calls;
    while (static_cast<int64_t>(calls.size()) <= index) {
      calls.push_back(
          {{"id", ""}, {"type", "function"}, {"function", {{"name", ""}, {"arguments", ""}}}});
    }
    auto& call = calls[static_cast<size_t>(index)];
    if (delta.contains("id") && delta["id"].is_string()) call["id"] = delta["id"];
    if (delta.contains("name") && delta["name"].is_string()) {
      call["function"]["name"] = delta["name"];
    }
    if (delta.contains("arguments") && delta["arguments"].is_string()) {
      call["function"]["arguments"] =
          call["function"]["arguments"].get<std::string>() + delta["arguments"].get<std::string>();
    }
  }
};

}  // namespace

CompletionResult Host::Complete(const Instance& instance, const CompletionRequest& request,
                                const EventCallback& on_event, const CancelToken& cancel) {
  CompletionResult result;
  const auto start = Clock::now();
  const LoadedPlugin& plugin = instance.plugin();
  const std::string body = request.body.dump();
  bool delivered = false;
  const RetryPolicy& policy = impl_->options.retry;

  for (int attempt = 1;; ++attempt) {
    result.attempts = attempt;
    result.usage = nullptr;
    Attempt state;
    state.on_event = &on_event;
    state.cancel = &cancel;
    state.start = start;
    state.result = &result;
    state.delivered = &delivered;

    rg_call call{impl_.get(), &plugin, request.region, request.locale, cancel};
    rg_event_sink sink{};
    sink.struct_size = sizeof sink;
    sink.user = &state;
    sink.emit = [](void* user, const rg_event* event) -> int {
      return static_cast<Attempt*>(user)->Emit(event);
    };
    rg_request req{};
    req.struct_size = sizeof req;
    req.call = &call;
    req.endpoint_id = rg_str{request.endpoint_id.data(), request.endpoint_id.size()};
    req.json = rg_str{body.data(), body.size()};

    try {
      plugin.table->complete(instance.handle(), &req, &sink);
    } catch (...) {
      state.final_events = state.final_events == 0 ? 0 : state.final_events;
      if (state.final_events == 0) {
        state.code = RG_ERR_INTERNAL;
        state.finish = RG_FINISH_ERROR;
        state.final_data = {{"message", "plug-in '" + plugin.manifest.id +
                                            "' threw from complete(); its entry points must "
                                            "catch everything"}};
        state.final_events = 1;
      }
    }
    if (state.final_events == 0) {
      state.code = RG_ERR_INTERNAL;
      state.finish = RG_FINISH_ERROR;
      state.final_data = {{"message", "plug-in '" + plugin.manifest.id +
                                          "' returned from complete() without a final event"}};
    }
    result.final_events = state.final_events;
    result.code = state.code;
    result.finish = state.finish;
    result.final_data = state.final_data;
    result.message = state.final_data.value("message", std::string());
    if (result.code != RG_OK && result.message.empty()) {
      result.message = "plug-in '" + plugin.manifest.id + "' failed with code " +
                       std::string(CodeName(result.code));
    }
    if (cancel.cancelled() && result.code == RG_OK) {
      // The caller stopped the stream; the answer is not complete.
      result.code = RG_ERR_CANCELLED;
      result.finish = RG_FINISH_CANCELLED;
      if (result.message.empty()) result.message = "cancelled by the caller";
    }
    if (result.code == RG_OK || delivered || cancel.cancelled()) break;

    std::optional<int64_t> retry_after;
    if (auto it = result.final_data.find("retry_after_ms");
        it != result.final_data.end() && it->is_number()) {
      retry_after = it->get<int64_t>();
    }
    double random01 = 0;
    {
      std::lock_guard lock(impl_->random_mutex);
      random01 = std::uniform_real_distribution<double>(0.0, 1.0)(impl_->random);
    }
    const auto delay = policy.DelayBefore(attempt, result.code, retry_after, random01);
    if (!delay.has_value()) break;
    spdlog::info("plug-in '{}' failed ({}: {}); retrying in {} ms (attempt {} of {})",
                 plugin.manifest.id, CodeName(result.code), result.message, delay->count(),
                 attempt + 1, policy.max_attempts);
    const auto until = Clock::now() + *delay;
    while (Clock::now() < until && !cancel.cancelled()) {
      std::this_thread::sleep_for(
          std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(20)));
    }
    if (cancel.cancelled()) {
      result.code = RG_ERR_CANCELLED;
      result.finish = RG_FINISH_CANCELLED;
      result.message = "cancelled by the caller";
      break;
    }
  }
  result.latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  if (on_event) {
    on_event(CompletionEvent{RG_EVENT_FINAL, result.final_data.dump(), result.finish, result.code});
  }
  return result;
}

void Host::SetEgressHook(EgressHook hook) { impl_->transport.SetEgressHook(std::move(hook)); }

HttpTransport& Host::transport() { return impl_->transport; }
SecretStore& Host::secrets() { return impl_->secret_store; }

}  // namespace rg::core
