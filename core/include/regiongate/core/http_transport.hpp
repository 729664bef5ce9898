// The host's HTTP client (libcurl). Every byte a plug-in sends leaves through here, so
// data-residency checks, endpoint overrides, timeouts, proxies and TLS are applied once,
// uniformly, for every vendor.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "regiongate/abi.h"
#include "regiongate/result.hpp"

namespace rg::core {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

/// Where a request goes, as the compliance layer sees it: the declared endpoint, whose
/// attributes decide, and the URL actually used (which an override may have replaced).
struct EgressTarget {
  std::string region;  ///< region id of the request (empty outside a gated call)
  std::string locale;
  std::string plugin_id;
  std::string endpoint_id;
  std::string declared_base_url;
  std::string data_region;
  std::string inference_scope;
  std::string url;  ///< full URL about to be contacted
  bool overridden = false;
};

/// Asked before any byte is sent; an Error refuses the destination (its message names the
/// rule) and the request fails with RG_ERR_EGRESS_DENIED.
using EgressHook = std::function<Result<void>(const EgressTarget&)>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HttpHeaders headers;
  std::string body;
  EgressTarget target;                         ///< for the egress hook and logs
  std::chrono::milliseconds total_timeout{0};  ///< 0 = transport default
  std::chrono::milliseconds idle_timeout{0};   ///< 0 = transport default
};

/// Receives a response as it arrives. Returning false aborts the transfer (-> cancelled).
class HttpResponseHandler {
 public:
  virtual ~HttpResponseHandler() = default;
  virtual bool OnHead(int status, const HttpHeaders& headers) = 0;
  virtual bool OnBody(std::string_view chunk) = 0;
};

/// Members keep their original order (code, message, status) so `{code, message, status}`
/// initialisers stay valid; new members go at the end, each with a default member
/// initialiser (which also keeps -Wmissing-field-initializers quiet for such initialisers).
struct HttpOutcome {
  rg_code code = RG_OK;  ///< RG_OK when a full response was delivered (any status)
  std::string message;   ///< why it failed; never contains header values, bodies, URL
                         ///< credentials or query strings
  int status = 0;        ///< HTTP status when a head was received
  std::string id{};      ///< catalogue id (docs/errors.d/http.md), e.g. "RG-H004"; empty on RG_OK
};

class HttpTransport {
 public:
  struct Options {
    /// TCP connect plus TLS handshake (and a proxy's CONNECT); 0 = libcurl's 300 s.
    std::chrono::milliseconds connect_timeout{10'000};
    /// Whole exchange, even while bytes keep arriving; 0 = no limit.
    std::chrono::milliseconds total_timeout{600'000};
    /// Max silence once the connection is ready: before the first response byte and
    /// between body bytes (ms resolution); 0 = no limit.
    std::chrono::milliseconds idle_timeout{60'000};
    bool verify_tls = true;            ///< never turned off for real vendors
    std::string ca_file;               ///< empty = system store
    size_t max_idle_connections = 16;  ///< kept open between requests, across all hosts
  };

  HttpTransport();
  explicit HttpTransport(Options options);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  /// Installs the egress hook; nullptr allows every destination. Thread-safe.
  void SetEgressHook(EgressHook hook);

  /// Performs one exchange, blocking; thread-safe (connections are reused across calls and
  /// threads). `is_cancelled` is polled while waiting and between body chunks; when it
  /// returns true the transfer stops promptly and RG_ERR_CANCELLED is returned.
  ///
  /// Order of events: the egress hook is asked first (nothing is resolved or connected
  /// before it allows the destination); then `handler.OnHead` is called exactly once, before
  /// any body byte (or at completion for an empty body), then `OnBody` as bytes arrive.
  /// Redirects are never followed (the egress hook only vetted `request.url`). Proxies come
  /// from the environment (http_proxy, https_proxy, all_proxy, no_proxy; libcurl ignores an
  /// upper-case HTTP_PROXY). Codes: RG_OK (full response, any status), RG_ERR_EGRESS_DENIED,
  /// RG_ERR_CANCELLED, RG_ERR_RETRYABLE (connect failure, timeouts, reset),
  /// RG_ERR_PROTOCOL (truncated or malformed response), RG_ERR_INVALID_REQUEST (bad URL or
  /// header), RG_ERR_UNAVAILABLE (TLS peer verification failed), RG_ERR_INTERNAL.
  HttpOutcome Perform(const HttpRequest& request, HttpResponseHandler& handler,
                      const std::function<bool()>& is_cancelled = {});

  /// Counters for tests and `doctor`: connections opened so far (CURLINFO_NUM_CONNECTS summed
  /// over every transfer; a reused connection does not count).
  long ConnectionsOpened() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rg::core
