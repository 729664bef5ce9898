#include "host_services.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "regiongate/sdk/guard.hpp"

namespace rg::core {

namespace {

std::string_view View(rg_str s) {
  return s.ptr == nullptr ? std::string_view() : std::string_view(s.ptr, s.len);
}

void Log(rg_host_context* context, rg_log_level level, rg_str message) noexcept {
  try {
    if (context != nullptr) context->backend.load()->Log(context->plugin_id, level, View(message));
  } catch (...) {
  }
}

int LogEnabled(rg_host_context* context, rg_log_level level) noexcept {
  return context != nullptr && context->backend.load()->LogEnabled(level) ? 1 : 0;
}

uint64_t MonotonicNs(rg_host_context*) noexcept {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

int64_t UnixMs(rg_host_context*) noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

rg_code SecretGet(rg_host_context* context, rg_str name, char* buffer, size_t capacity,
                  size_t* length) noexcept {
  try {
    if (context == nullptr || length == nullptr) return RG_ERR_INTERNAL;
    auto value = context->backend.load()->Secret(View(name));
    if (!value.has_value()) {
      *length = 0;
      context->backend.load()->Log(context->plugin_id, RG_LOG_WARN,
                                   "missing credential: set the environment variable '" +
                                       std::string(View(name)) + "' or name a secret file for it");
      return RG_ERR_AUTH;
    }
    *length = value->size();
    if (value->size() > capacity || (buffer == nullptr && !value->empty())) {
      return RG_ERR_INVALID_REQUEST;
    }
    std::memcpy(buffer, value->data(), value->size());
    return RG_OK;
  } catch (...) {
    return RG_ERR_INTERNAL;
  }
}

int IsCancelled(rg_call* call) noexcept {
  return call != nullptr && call->cancel.cancelled() ? 1 : 0;
}

// Adapts the transport's handler to the plug-in's C sink.
class SinkHandler : public HttpResponseHandler {
 public:
  explicit SinkHandler(const rg_http_response_sink* sink) : sink_(sink) {}

  bool OnHead(int status, const HttpHeaders& headers) override {
    if (sink_->on_head == nullptr) return true;
    std::vector<rg_http_header> out;
    out.reserve(headers.size());
    for (const auto& [name, value] : headers) {
      out.push_back({rg_str{name.data(), name.size()}, rg_str{value.data(), value.size()}});
    }
    return sink_->on_head(sink_->user, status, out.data(), out.size()) == 0;
  }

  bool OnBody(std::string_view chunk) override {
    if (sink_->on_body == nullptr) return true;
    return sink_->on_body(sink_->user, rg_str{chunk.data(), chunk.size()}) == 0;
  }

 private:
  const rg_http_response_sink* sink_;
};

rg_code Http(rg_call* call, const rg_http_request* request, const rg_http_response_sink* sink,
             rg_error* error) noexcept {
  try {
    if (call == nullptr || request == nullptr || sink == nullptr ||
        !RG_HAS_MEMBER(request, idle_timeout_ms) || !RG_HAS_MEMBER(sink, on_body)) {
      sdk::SetError(error, RG_ERR_INTERNAL, "http() called with a missing argument");
      return RG_ERR_INTERNAL;
    }
    HttpRequest out;
    out.method = std::string(View(request->method));
    if (out.method.empty()) out.method = "GET";
    out.url = std::string(View(request->path));
    out.target.endpoint_id = std::string(View(request->endpoint_id));
    for (size_t i = 0; i < request->header_count; ++i) {
      out.headers.emplace_back(std::string(View(request->headers[i].name)),
                               std::string(View(request->headers[i].value)));
    }
    out.body = std::string(View(request->body));
    out.total_timeout = std::chrono::milliseconds(request->total_timeout_ms);
    out.idle_timeout = std::chrono::milliseconds(request->idle_timeout_ms);
    SinkHandler handler(sink);
    const HttpOutcome outcome = call->backend->Http(*call, std::move(out), handler);
    if (outcome.code != RG_OK) sdk::SetError(error, outcome.code, outcome.message);
    return outcome.code;
  } catch (...) {
    sdk::SetError(error, RG_ERR_INTERNAL, "host failed while performing the request");
    return RG_ERR_INTERNAL;
  }
}

// Serves a plug-in whose host is gone: logs to spdlog, secrets from the environment, and
// no egress (there is no call to serve without a host anyway).
class DetachedBackend final : public HostServicesBackend {
 public:
  void Log(const std::string& plugin_id, rg_log_level level, std::string_view text) override {
    if (level >= RG_LOG_WARN) spdlog::warn("[plugin {}] (no host) {}", plugin_id, text);
  }
  bool LogEnabled(rg_log_level level) const override { return level >= RG_LOG_WARN; }
  std::optional<std::string> Secret(std::string_view) override { return std::nullopt; }
  HttpOutcome Http(rg_call&, HttpRequest, HttpResponseHandler&) override {
    return {RG_ERR_EGRESS_DENIED, "no host is attached to this plug-in", 0};
  }
};

HostServicesBackend* Detached() {
  static auto* backend = new DetachedBackend();  // process lifetime, like the tables
  return backend;
}

}  // namespace

const rg_host_services* HostServicesFactory::Create(const std::string& plugin_id,
                                                    HostServicesBackend* backend) {
  auto* context = new rg_host_context();  // process lifetime: see the class comment
  context->backend = backend;
  context->plugin_id = plugin_id;
  rg_host_services& s = context->services;
  s.struct_size = sizeof(rg_host_services);
  s.abi_major = RG_ABI_VERSION_MAJOR;
  s.abi_minor = RG_ABI_VERSION_MINOR;
  s.context = context;
  s.log = &Log;
  s.log_enabled = &LogEnabled;
  s.clock_monotonic_ns = &MonotonicNs;
  s.clock_unix_ms = &UnixMs;
  s.secret_get = &SecretGet;
  s.is_cancelled = &IsCancelled;
  s.http = &Http;
  // The SDK's own truncation, so the host and a plug-in without services write the same bytes.
  s.error_set = [](rg_error* error, rg_code code, rg_str message) noexcept {
    sdk::SetError(error, code, View(message));
  };
  return &s;
}

void HostServicesFactory::Attach(const rg_host_services* services, HostServicesBackend* backend) {
  if (services != nullptr && services->context != nullptr) services->context->backend = backend;
}

void HostServicesFactory::Detach(const rg_host_services* services, HostServicesBackend* backend) {
  if (services == nullptr || services->context == nullptr) return;
  HostServicesBackend* expected = backend;
  services->context->backend.compare_exchange_strong(expected, Detached());
}

}  // namespace rg::core
