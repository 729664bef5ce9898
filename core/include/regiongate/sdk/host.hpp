// C++ view of the host services table for plug-in code: logging, clock, secrets,
// cancellation and HTTP through the host (plug-ins never open sockets).
#pragma once

#include <cctype>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "regiongate/abi.h"
#include "regiongate/sdk/guard.hpp"

namespace rg::sdk {

using Headers = std::vector<std::pair<std::string, std::string>>;

/// One outbound exchange, addressed to a declared endpoint by id.
struct HttpCall {
  std::string method = "POST";
  std::string endpoint_id;
  std::string path;  ///< appended to the endpoint's base URL, may include a query
  Headers headers;
  std::string body;
  uint32_t total_timeout_ms = 0;  ///< 0 = host default
  uint32_t idle_timeout_ms = 0;
};

/// A buffered response, for calls that are not streamed.
struct HttpResponse {
  int status = 0;
  Headers headers;
  std::string body;

  /// Case-insensitive header lookup; empty when absent.
  std::string Header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key.size() != name.size()) continue;
      bool same = true;
      for (size_t i = 0; i < key.size() && same; ++i) {
        same = std::tolower(static_cast<unsigned char>(key[i])) ==
               std::tolower(static_cast<unsigned char>(name[i]));
      }
      if (same) return value;
    }
    return {};
  }
};

class Host {
 public:
  Host() = default;
  explicit Host(const rg_host_services* services) : services_(services) {}

  const rg_host_services* services() const { return services_; }

  bool LogEnabled(rg_log_level level) const {
    return services_ != nullptr && services_->log_enabled != nullptr &&
           services_->log_enabled(services_->context, level) != 0;
  }
  void Log(rg_log_level level, std::string_view message) const {
    if (services_ != nullptr && services_->log != nullptr) {
      services_->log(services_->context, level, ToRgStr(message));
    }
  }

  uint64_t MonotonicNs() const { return services_->clock_monotonic_ns(services_->context); }
  int64_t UnixMs() const { return services_->clock_unix_ms(services_->context); }

  /// Reads the secret called `name` into `value`. The host's message names the variable
  /// when it is missing; never log `value`.
  Status Secret(std::string_view name, std::string* value) const {
    size_t length = 0;
    char small[256];
    rg_code code =
        services_->secret_get(services_->context, ToRgStr(name), small, sizeof small, &length);
    if (code == RG_OK && length <= sizeof small) {
      value->assign(small, length);
      return {};
    }
    if (code == RG_OK || code == RG_ERR_INVALID_REQUEST) {  // buffer too small: ask again
      value->resize(length);
      code = services_->secret_get(services_->context, ToRgStr(name), value->data(), value->size(),
                                   &length);
      if (code == RG_OK) {
        value->resize(length);
        return {};
      }
    }
    value->clear();
    return {RG_ERR_AUTH, "missing credential: set the environment variable or secret file '" +
                             std::string(name) + "'"};
  }

  bool Cancelled(rg_call* call) const {
    return services_->is_cancelled != nullptr && services_->is_cancelled(call) != 0;
  }

  /// Streams a response: `on_head` once, then `on_body` per chunk as it arrives. Either
  /// returning false aborts the transfer (the call then returns RG_ERR_CANCELLED).
  Status Http(rg_call* call, const HttpCall& request,
              const std::function<bool(int, const Headers&)>& on_head,
              const std::function<bool(std::string_view)>& on_body) const {
    std::vector<rg_http_header> headers;
    headers.reserve(request.headers.size());
    for (const auto& [name, value] : request.headers) {
      headers.push_back(rg_http_header{ToRgStr(name), ToRgStr(value)});
    }
    rg_http_request req{};
    req.struct_size = sizeof req;
    req.method = ToRgStr(request.method);
    req.endpoint_id = ToRgStr(request.endpoint_id);
    req.path = ToRgStr(request.path);
    req.headers = headers.data();
    req.header_count = headers.size();
    req.body = ToRgStr(request.body);
    req.total_timeout_ms = request.total_timeout_ms;
    req.idle_timeout_ms = request.idle_timeout_ms;

    struct Context {
      const std::function<bool(int, const Headers&)>* on_head;
      const std::function<bool(std::string_view)>* on_body;
    } context{&on_head, &on_body};
    rg_http_response_sink sink{};
    sink.struct_size = sizeof sink;
    sink.user = &context;
    sink.on_head = [](void* user, int32_t status, const rg_http_header* hs, size_t n) -> int {
      auto* ctx = static_cast<Context*>(user);
      Headers copy;
      copy.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        copy.emplace_back(std::string(FromRgStr(hs[i].name)), std::string(FromRgStr(hs[i].value)));
      }
      bool keep = false;
      GuardVoid([&] { keep = (*ctx->on_head)(status, copy); });
      return keep ? 0 : 1;
    };
    sink.on_body = [](void* user, rg_str chunk) -> int {
      auto* ctx = static_cast<Context*>(user);
      bool keep = false;
      GuardVoid([&] { keep = (*ctx->on_body)(FromRgStr(chunk)); });
      return keep ? 0 : 1;
    };
    rg_error error{};
    error.struct_size = sizeof error;
    const rg_code code = services_->http(call, &req, &sink, &error);
    if (code == RG_OK) return {};
    return {code, error.message[0] != '\0' ? std::string(error.message)
                                           : std::string("http request failed")};
  }

  /// Buffers the whole response (for small, non-streamed calls such as token requests).
  Status HttpBuffered(rg_call* call, const HttpCall& request, HttpResponse* response) const {
    return Http(
        call, request,
        [response](int status, const Headers& headers) {
          response->status = status;
          response->headers = headers;
          return true;
        },
        [response](std::string_view chunk) {
          response->body.append(chunk);
          return true;
        });
  }

 private:
  const rg_host_services* services_ = nullptr;
};

}  // namespace rg::sdk
