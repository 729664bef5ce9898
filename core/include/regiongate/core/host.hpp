// The host library API (rg::core): load plug-in directories, list plug-ins, create
// instances with settings, run completions (blocking or streaming) with cancellation.
// The host owns egress (HTTP through HttpTransport, with the egress hook and endpoint
// overrides), secrets, logging with redaction, and retries of retryable failures.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "regiongate/abi.h"
#include "regiongate/core/http_transport.hpp"
#include "regiongate/core/plugin_loader.hpp"
#include "regiongate/core/retry_policy.hpp"
#include "regiongate/core/secret_store.hpp"
#include "regiongate/result.hpp"

namespace rg::core {

/// `--endpoint-override PLUGIN.ENDPOINT_ID=URL`: replaces where a declared endpoint points
/// while every decision keeps using the declared endpoint's attributes.
struct EndpointOverride {
  std::string plugin_id;
  std::string endpoint_id;
  std::string url;
};

/// Parses "PLUGIN.ENDPOINT_ID=URL"; either part may be "*" ("qwen.*", "*.*"), the most
/// specific match wins. The error says what form is expected.
Result<EndpointOverride> ParseEndpointOverride(std::string_view spec);

/// One log line from a plug-in, after redaction.
struct PluginLogRecord {
  std::string plugin_id;
  rg_log_level level = RG_LOG_INFO;
  std::string message;            ///< secrets already replaced by "[redacted]"
  bool contained_secret = false;  ///< the plug-in tried to log a secret value
};

struct HostOptions {
  HttpTransport::Options http;
  RetryPolicy retry;
  std::vector<EndpointOverride> endpoint_overrides;
  SecretStore::Options secrets;
  rg_log_level plugin_log_level = RG_LOG_INFO;
  /// Receives every plug-in log line (after redaction). Default: spdlog.
  std::function<void(const PluginLogRecord&)> log_observer;
};

/// Cancels a running completion from any thread.
class CancelToken {
 public:
  CancelToken() : flag_(std::make_shared<std::atomic<bool>>(false)) {}
  void Cancel() const { flag_->store(true); }
  bool cancelled() const { return flag_->load(); }

 private:
  std::shared_ptr<std::atomic<bool>> flag_;
};

/// A configured plug-in instance; destroyed through the plug-in's table.
class Instance {
 public:
  Instance(std::shared_ptr<const LoadedPlugin> plugin, rg_instance* handle, nlohmann::json config);
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  const LoadedPlugin& plugin() const { return *plugin_; }
  rg_instance* handle() const { return handle_; }
  /// The configuration given to instance_create (settings with defaults, endpoints).
  const nlohmann::json& config() const { return config_; }

 private:
  std::shared_ptr<const LoadedPlugin> plugin_;
  rg_instance* handle_;
  nlohmann::json config_;
};

struct CompletionRequest {
  std::string endpoint_id;  ///< declared endpoint to use (the gate's choice)
  nlohmann::json body;      ///< canonical request JSON; "stream" says how to deliver
  std::string region;       ///< region id, for the egress hook (empty = ungated)
  std::string locale;
};

/// One event as the caller sees it.
struct CompletionEvent {
  rg_event_kind kind = RG_EVENT_TEXT_DELTA;
  std::string data;
  rg_finish_reason finish = RG_FINISH_NONE;
  rg_code code = RG_OK;
};

/// Return false to cancel the call.
using EventCallback = std::function<bool(const CompletionEvent&)>;

struct CompletionResult {
  std::string text;
  nlohmann::json tool_calls = nlohmann::json::array();
  nlohmann::json usage;       ///< last USAGE event, null when none
  nlohmann::json final_data;  ///< FINAL event data (message, blocked, retry_after_ms, ...)
  rg_finish_reason finish = RG_FINISH_NONE;
  rg_code code = RG_ERR_INTERNAL;
  std::string message;  ///< human-readable failure, empty on success
  int attempts = 0;
  int final_events = 0;  ///< FINAL events seen in the last attempt (must be 1)
  std::chrono::microseconds latency{0};
  std::chrono::microseconds time_to_first_token{-1};  ///< -1 when no text arrived

  bool ok() const { return code == RG_OK; }
  /// True when text was delivered but the answer is not complete (blocked or failed after
  /// partial output): it must not be presented as a complete answer.
  bool partial() const { return !text.empty() && code != RG_OK; }
};

/// Stable lower-case name of a code ("rate_limited", ...), for JSON and logs.
std::string_view CodeName(rg_code code);
/// Stable name of a finish reason ("stop", "content_filter", ...).
std::string_view FinishName(rg_finish_reason finish);

class Host {
 public:
  explicit Host(HostOptions options = {});
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  /// Loads every plug-in in `dir` (see PluginLoader::LoadDirectory). Overrides naming an
  /// unknown plug-in or endpoint are reported as refusals of the override, not ignored.
  LoadReport LoadPluginDirectory(const std::filesystem::path& dir);
  Result<std::shared_ptr<const LoadedPlugin>> LoadPlugin(const std::filesystem::path& manifest);

  std::vector<std::shared_ptr<const LoadedPlugin>> Plugins() const;
  std::shared_ptr<const LoadedPlugin> FindPlugin(std::string_view plugin_id) const;

  /// Effective base URL of a declared endpoint (the override if one is configured).
  std::string EffectiveBaseUrl(std::string_view plugin_id, std::string_view endpoint_id) const;
  bool IsOverridden(std::string_view plugin_id, std::string_view endpoint_id) const;

  /// Validates `settings` against the plug-in's settings table (unknown key, wrong type,
  /// missing required), applies defaults, and creates an instance.
  Result<std::shared_ptr<Instance>> CreateInstance(std::string_view plugin_id,
                                                   const nlohmann::json& settings = {});

  /// Runs one completion. Events reach `on_event` as they arrive (for streaming callers).
  /// Retryable failures are retried per RetryPolicy, but never once text or a tool call
  /// has reached `on_event`.
  CompletionResult Complete(const Instance& instance, const CompletionRequest& request,
                            const EventCallback& on_event = {},
                            const CancelToken& cancel = CancelToken());

  /// Asked before every outbound request (see HttpTransport). Thread-safe.
  void SetEgressHook(EgressHook hook);

  HttpTransport& transport();
  SecretStore& secrets();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rg::core
