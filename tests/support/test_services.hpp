// A minimal host services table (rg_host_services) for tests that load plug-ins without the
// real host: it records log lines, serves secrets from a map, answers is_cancelled from a
// TestCall and routes http() to a handler the test sets (egress denied by default).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "regiongate/abi.h"
#include "regiongate/core/plugin_loader.hpp"

namespace rg::test {

/// One line a plug-in logged through the services table.
struct LogLine {
  rg_log_level level = RG_LOG_INFO;
  std::string message;
};

class TestServices;

/// A call handle for rg_request::call: the test flips `cancelled` to cancel it. http() has
/// no context argument, so the call names the services whose HTTP handler serves it
/// (TestServices::Shared() when null).
struct TestCall {
  std::atomic<bool> cancelled{false};
  TestServices* services = nullptr;
  rg_call* handle() { return reinterpret_cast<rg_call*>(this); }
};

/// A host error slot (rg_error) that keeps what the plug-in set.
struct TestError {
  rg_code code = RG_OK;
  std::string message;
  rg_error* handle() { return reinterpret_cast<rg_error*>(this); }
};

/// The services table and the state behind it. Not copyable: the table points at it.
/// Plug-ins are never unloaded and keep the table they were given at entry, so a table handed
/// to a loader must live until the process exits: use Shared() for that.
class TestServices {
 public:
  using HttpHandler = std::function<rg_code(const rg_http_request& request,
                                            const rg_http_response_sink& sink, rg_error* error)>;

  TestServices();
  TestServices(const TestServices&) = delete;
  TestServices& operator=(const TestServices&) = delete;

  /// The process-wide instance (never destroyed) for loaders; tests reset it with Reset().
  static TestServices& Shared();

  const rg_host_services* table() const { return &table_; }

  /// A loader factory that hands every plug-in this table.
  core::PluginLoader::ServicesFactory Factory();

  /// Lines logged so far, oldest first.
  std::vector<LogLine> Logs() const;
  void SetSecret(const std::string& name, const std::string& value);
  /// Routes http(); without a handler http() answers RG_ERR_EGRESS_DENIED.
  void SetHttpHandler(HttpHandler handler);
  /// Forgets logs, secrets and the HTTP handler.
  void Reset();

 private:
  static TestServices& Self(rg_host_context* context);
  static void Log(rg_host_context* context, rg_log_level level, rg_str message);
  static int LogEnabled(rg_host_context* context, rg_log_level level);
  static uint64_t ClockMonotonicNs(rg_host_context* context);
  static int64_t ClockUnixMs(rg_host_context* context);
  static rg_code SecretGet(rg_host_context* context, rg_str name, char* buffer, size_t capacity,
                           size_t* length);
  static int IsCancelled(rg_call* call);
  static rg_code Http(rg_call* call, const rg_http_request* request,
                      const rg_http_response_sink* sink, rg_error* error);
  static void ErrorSet(rg_error* error, rg_code code, rg_str message);

  rg_host_services table_{};
  mutable std::mutex mutex_;
  std::vector<LogLine> logs_;
  std::map<std::string, std::string> secrets_;
  HttpHandler http_handler_;
};

/// One event a plug-in emitted, copied out of the borrowed rg_event.
struct RecordedEvent {
  rg_event_kind kind = RG_EVENT_MAX_ENUM;
  std::string data;
  rg_finish_reason finish = RG_FINISH_NONE;
  rg_code code = RG_OK;
};

/// An rg_event_sink that records events; `stop_after` > 0 makes emit answer "stop" from the
/// stop_after-th event on (the host cancelling through its sink).
class EventRecorder {
 public:
  EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  const rg_event_sink* sink() const { return &sink_; }
  std::vector<RecordedEvent> events() const;
  /// Concatenated data of every TEXT_DELTA.
  std::string Text() const;
  void set_stop_after(int stop_after) { stop_after_ = stop_after; }

 private:
  static int Emit(void* user, const rg_event* event);

  rg_event_sink sink_{};
  mutable std::mutex mutex_;
  std::vector<RecordedEvent> events_;
  int stop_after_ = 0;
};

/// A borrowed rg_str over a std::string (or literal) for calls into a plug-in.
inline rg_str Str(const std::string& text) { return rg_str{text.data(), text.size()}; }

}  // namespace rg::test
