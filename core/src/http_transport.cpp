// HttpTransport on libcurl: egress check first, then one HTTP/1.1 exchange streamed to the
// caller's handler, with connection reuse, ms-resolution timeouts and prompt cancellation.
//
// Why a private multi handle per pooled easy handle (and not curl_easy_perform, nor one
// shared multi driven by a background thread):
//   - curl_easy_perform only calls the progress callback "about once per second" while the
//     socket is quiet, so neither cancellation (< 100 ms) nor an idle timeout in ms could be
//     honoured. Driving the transfer with curl_multi_perform/curl_multi_poll on the caller's
//     thread wakes us at least every kPollIntervalMs, and handler callbacks still run on the
//     caller's thread, as the ABI promises (rg_http_response_sink).
//   - Connections live in the multi handle's cache. Pooling (multi, easy) pairs gives reuse
//     across sequential requests and across threads with one mutex around the pool. A
//     CURLSH connection cache would also share them, but libcurl documents sharing
//     connections between concurrently running threads as unsupported.
//   - One shared multi with a dispatcher thread would need cross-thread hand-off of every
//     chunk to keep callbacks on the caller's thread; the pool is simpler and as fast.
// Each pooled multi keeps at most one idle connection (CURLMOPT_MAXCONNECTS = 1), so
// Options::max_idle_connections bounds the idle connections of the whole transport.

#include "regiongate/core/http_transport.hpp"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace rg::core {
namespace {

using Clock = std::chrono::steady_clock;

/// Longest we sleep in curl_multi_poll before checking cancellation and our timeouts again.
constexpr int kPollIntervalMs = 10;

#ifndef RG_VERSION
#define RG_VERSION "0"
#endif
constexpr const char* kUserAgent = "regiongate/" RG_VERSION;

// Catalogue ids (docs/errors.d/http.md).
constexpr const char* kIdEgressDenied = "RG-H001";
constexpr const char* kIdInvalidRequest = "RG-H002";
constexpr const char* kIdResolve = "RG-H003";
constexpr const char* kIdConnect = "RG-H004";
constexpr const char* kIdConnectTimeout = "RG-H005";
constexpr const char* kIdTotalTimeout = "RG-H006";
constexpr const char* kIdIdleTimeout = "RG-H007";
constexpr const char* kIdConnectionFailed = "RG-H008";
constexpr const char* kIdTruncated = "RG-H009";
constexpr const char* kIdMalformed = "RG-H010";
constexpr const char* kIdTlsVerify = "RG-H011";
constexpr const char* kIdCancelled = "RG-H012";
constexpr const char* kIdInternal = "RG-H013";

/// curl_global_init is not thread-safe on every platform; a function-local static runs it
/// exactly once even when the first transports are created concurrently. It is never
/// paired with curl_global_cleanup: the transport may be used until the process exits.
CURLcode GlobalInit() {
  static const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
  return code;
}

std::string Lowered(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && Lowered(a) == Lowered(b);
}

std::string CurlText(CURLcode code) {
  return "curl " + std::to_string(static_cast<int>(code)) + ": " +
         Lowered(curl_easy_strerror(code));
}

/// The parts of a URL that messages and the pool may use. `display` drops user
/// credentials, the query and the fragment, which may carry secrets (API keys in a query).
struct ParsedUrl {
  std::string scheme;
  std::string host;
  std::string display;  ///< scheme://host[:port]/path
  std::string origin;   ///< scheme://host:port with the default port filled in
};

std::optional<std::string> UrlPart(CURLU* url, CURLUPart part, unsigned int flags = 0) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, flags) != CURLUE_OK || value == nullptr) {
    return std::nullopt;
  }
  std::string out(value);
  curl_free(value);
  return out;
}

std::optional<ParsedUrl> ParseUrl(const std::string& text) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> url(curl_url(), &curl_url_cleanup);
  if (!url || curl_url_set(url.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
    return std::nullopt;
  }
  ParsedUrl out;
  auto scheme = UrlPart(url.get(), CURLUPART_SCHEME);
  auto host = UrlPart(url.get(), CURLUPART_HOST);
  auto default_port = UrlPart(url.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (!scheme || !host || !default_port) return std::nullopt;
  out.scheme = Lowered(*scheme);
  out.host = *host;
  auto port = UrlPart(url.get(), CURLUPART_PORT);
  auto path = UrlPart(url.get(), CURLUPART_PATH);
  out.display = out.scheme + "://" + out.host + (port ? ":" + *port : "") + (path ? *path : "/");
  out.origin = out.scheme + "://" + out.host + ":" + *default_port;
  return out;
}

/// RFC 9110 token characters: anything else in a header name could split the header block.
bool IsHeaderName(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) != 0 ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool IsHeaderValue(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

std::string OsErrorText(long os_errno) {
  switch (os_errno) {
    case ECONNREFUSED:
      return "connection refused";
    case ENETUNREACH:
      return "network unreachable";
    case EHOSTUNREACH:
      return "host unreachable";
    case ETIMEDOUT:
      return "timed out";
    case ECONNRESET:
      return "connection reset";
    case 0:
      return "connection failed";
    default:
      return "os error " + std::to_string(os_errno);
  }
}

struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using HeaderList = std::unique_ptr<curl_slist, CurlSlistDeleter>;

/// Why we stopped a transfer ourselves (as opposed to libcurl reporting a failure).
enum class Stop { kNone, kCancelled, kHandlerStopped, kHandlerThrew, kTotalTimeout, kIdleTimeout };

/// Per-exchange state shared with the libcurl callbacks, all on the caller's thread.
struct Exchange {
  HttpResponseHandler* handler = nullptr;
  const std::function<bool()>* is_cancelled = nullptr;
  Clock::time_point total_deadline;
  std::chrono::milliseconds idle_timeout{0};  ///< 0 = no idle limit

  bool connected = false;  ///< the request may go out: the idle clock runs from here
  Clock::time_point last_activity;
  curl_off_t uploaded = 0;

  int status = 0;
  HttpHeaders headers;
  bool chunked = false;
  bool head_delivered = false;
  uint64_t body_bytes = 0;
  Stop stop = Stop::kNone;

  bool ShouldStop() {
    if (stop != Stop::kNone) return true;
    if (*is_cancelled && (*is_cancelled)()) {
      stop = Stop::kCancelled;
      return true;
    }
    const auto now = Clock::now();
    if (now >= total_deadline) {
      stop = Stop::kTotalTimeout;
      return true;
    }
    if (connected && idle_timeout.count() > 0 && now - last_activity >= idle_timeout) {
      stop = Stop::kIdleTimeout;
      return true;
    }
    return false;
  }

  /// Hands the collected head to the handler once, before the first body byte.
  bool DeliverHead() {
    if (head_delivered) return true;
    head_delivered = true;
    try {
      if (!handler->OnHead(status, headers)) {
        stop = Stop::kHandlerStopped;
        return false;
      }
    } catch (...) {
      stop = Stop::kHandlerThrew;
      return false;
    }
    return true;
  }
};

// libcurl callbacks. They never let an exception escape into C code.

size_t OnHeaderLine(char* data, size_t size, size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  const size_t length = size * count;
  exchange->last_activity = Clock::now();
  if (exchange->ShouldStop()) return 0;
  if (exchange->head_delivered) return length;  // trailers of a chunked body: not delivered
  std::string_view line(data, length);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.substr(0, 5) == "HTTP/") {
    // A new status line (after 1xx, or a proxy's CONNECT answer) starts a new head.
    exchange->headers.clear();
    exchange->chunked = false;
    const size_t space = line.find(' ');
    int status = 0;
    if (space != std::string_view::npos) {
      for (size_t i = space + 1; i < line.size() && i < space + 4; ++i) {
        if (line[i] < '0' || line[i] > '9') break;
        status = status * 10 + (line[i] - '0');
      }
    }
    exchange->status = status;
    return length;
  }
  if (line.empty()) return length;
  if ((line.front() == ' ' || line.front() == '\t') && !exchange->headers.empty()) {
    // Obsolete line folding: the line continues the previous header's value.
    exchange->headers.back().second += " ";
    exchange->headers.back().second += Trim(line);
    return length;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return length;
  std::string name(Trim(line.substr(0, colon)));
  std::string value(Trim(line.substr(colon + 1)));
  if (EqualsIgnoreCase(name, "transfer-encoding") &&
      Lowered(value).find("chunked") != std::string::npos) {
    exchange->chunked = true;
  }
  exchange->headers.emplace_back(std::move(name), std::move(value));
  return length;
}

size_t OnBodyBytes(char* data, size_t size, size_t count, void* user) {
  auto* exchange = static_cast<Exchange*>(user);
  const size_t length = size * count;
  if (exchange->ShouldStop() || !exchange->DeliverHead()) return CURL_WRITEFUNC_ERROR;
  if (length == 0) return 0;
  exchange->last_activity = Clock::now();
  exchange->body_bytes += length;
  try {
    if (!exchange->handler->OnBody(std::string_view(data, length))) {
      exchange->stop = Stop::kHandlerStopped;
      return CURL_WRITEFUNC_ERROR;
    }
  } catch (...) {
    exchange->stop = Stop::kHandlerThrew;
    return CURL_WRITEFUNC_ERROR;
  }
  // Time the handler spent is not silence from the server.
  exchange->last_activity = Clock::now();
  return length;
}

int OnProgress(void* user, curl_off_t /*dltotal*/, curl_off_t /*dlnow*/, curl_off_t /*ultotal*/,
               curl_off_t ulnow) {
  auto* exchange = static_cast<Exchange*>(user);
  if (ulnow != exchange->uploaded) {
    exchange->uploaded = ulnow;
    exchange->last_activity = Clock::now();
  }
  return exchange->ShouldStop() ? 1 : 0;
}

/// Called once the connection (new or reused, TLS included) is ready, before the request
/// is sent: connecting is bounded by the connect timeout, silence after this by the idle one.
int OnConnectionReady(void* user, char* /*primary_ip*/, char* /*local_ip*/, int /*primary_port*/,
                      int /*local_port*/) {
  auto* exchange = static_cast<Exchange*>(user);
  exchange->connected = true;
  exchange->last_activity = Clock::now();
  return CURL_PREREQFUNC_OK;
}

HttpOutcome Failure(rg_code code, const char* id, std::string message, int status = 0) {
  HttpOutcome outcome;
  outcome.code = code;
  outcome.id = id;
  outcome.message = std::move(message);
  outcome.status = status;
  return outcome;
}

/// One pooled connection slot: a multi handle owning the connection cache and the easy
/// handle driven through it.
struct Session {
  CURLM* multi = nullptr;
  CURL* easy = nullptr;
  std::string origin;  ///< scheme://host:port of the connection it may still hold

  Session() : multi(curl_multi_init()), easy(curl_easy_init()) {
    if (multi != nullptr) curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, 1L);
  }
  ~Session() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (multi != nullptr) curl_multi_cleanup(multi);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  bool ok() const { return multi != nullptr && easy != nullptr; }
};

}  // namespace

struct HttpTransport::Impl {
  Options options;
  CURLcode init_code = CURLE_OK;

  std::mutex hook_mutex;
  std::shared_ptr<const EgressHook> hook;

  std::mutex pool_mutex;
  std::vector<std::unique_ptr<Session>> idle;  ///< least recently used first

  std::atomic<long> connections_opened{0};

  /// Prefers the slot last used for the same origin, so its connection can be reused.
  std::unique_ptr<Session> Acquire(const std::string& origin) {
    {
      std::lock_guard<std::mutex> lock(pool_mutex);
      for (auto it = idle.rbegin(); it != idle.rend(); ++it) {
        if ((*it)->origin == origin) {
          std::unique_ptr<Session> session = std::move(*it);
          idle.erase(std::next(it).base());
          return session;
        }
      }
    }
    auto session = std::make_unique<Session>();
    if (!session->ok()) return nullptr;
    return session;
  }

  void Release(std::unique_ptr<Session> session) {
    std::unique_ptr<Session> evicted;  // cleaned up outside the lock: closing may take time
    {
      std::lock_guard<std::mutex> lock(pool_mutex);
      if (options.max_idle_connections == 0) return;
      if (idle.size() >= options.max_idle_connections) {
        evicted = std::move(idle.front());
        idle.erase(idle.begin());
      }
      idle.push_back(std::move(session));
    }
  }
};

HttpTransport::HttpTransport() : HttpTransport(Options{}) {}

HttpTransport::HttpTransport(Options options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->init_code = GlobalInit();
}

HttpTransport::~HttpTransport() = default;

void HttpTransport::SetEgressHook(EgressHook hook) {
  auto shared = hook ? std::make_shared<const EgressHook>(std::move(hook)) : nullptr;
  std::lock_guard<std::mutex> lock(impl_->hook_mutex);
  impl_->hook = std::move(shared);
}

long HttpTransport::ConnectionsOpened() const { return impl_->connections_opened.load(); }

HttpOutcome HttpTransport::Perform(const HttpRequest& request, HttpResponseHandler& handler,
                                   const std::function<bool()>& is_cancelled) {
  const Options& options = impl_->options;
  if (impl_->init_code != CURLE_OK) {
    return Failure(RG_ERR_INTERNAL, kIdInternal,
                   "libcurl failed to initialise (" + CurlText(impl_->init_code) +
                       "); check the libcurl and TLS libraries installed on this machine");
  }

  // 1. The destination must be an http(s) URL we can name without leaking secrets.
  const std::optional<ParsedUrl> url = ParseUrl(request.url);
  if (!url) {
    const std::string endpoint = request.target.endpoint_id.empty()
                                     ? ""
                                     : " of endpoint '" + request.target.endpoint_id + "'";
    return Failure(RG_ERR_INVALID_REQUEST, kIdInvalidRequest,
                   "cannot parse the request url" + endpoint +
                       "; check the endpoint's base_url and the path appended to it");
  }
  if (url->scheme != "http" && url->scheme != "https") {
    return Failure(RG_ERR_INVALID_REQUEST, kIdInvalidRequest,
                   "unsupported url scheme '" + url->scheme + "' in " + url->display +
                       "; use an http:// or https:// endpoint");
  }

  // 2. The egress hook decides before anything is resolved or connected.
  std::shared_ptr<const EgressHook> hook;
  {
    std::lock_guard<std::mutex> lock(impl_->hook_mutex);
    hook = impl_->hook;
  }
  if (hook && *hook) {
    EgressTarget target = request.target;
    target.url = request.url;  // the hook judges the URL actually contacted
    std::optional<Error> refusal;
    try {
      Result<void> verdict = (*hook)(target);
      if (!verdict.ok()) refusal = verdict.error();
    } catch (...) {
      refusal = Error{"", "the egress check failed unexpectedly, so the request is refused"};
    }
    if (refusal) {
      std::string who;
      if (!target.plugin_id.empty()) who += " for plug-in '" + target.plugin_id + "'";
      if (!target.endpoint_id.empty()) who += " endpoint '" + target.endpoint_id + "'";
      return Failure(RG_ERR_EGRESS_DENIED, kIdEgressDenied,
                     "egress to " + url->display + " refused" + who + ": " + refusal->message);
    }
  }

  // 3. Headers: names and values must not be able to split the header block. Messages name
  //    the header, never its value (it may be a credential).
  HeaderList header_list;
  bool has_content_type = false;
  bool has_expect = false;
  for (size_t i = 0; i < request.headers.size(); ++i) {
    const auto& [name, value] = request.headers[i];
    if (!IsHeaderName(name)) {
      return Failure(RG_ERR_INVALID_REQUEST, kIdInvalidRequest,
                     "request header #" + std::to_string(i + 1) + " to " + url->display +
                         " has an empty or invalid name; use letters, digits and -_. only");
    }
    if (!IsHeaderValue(value)) {
      return Failure(RG_ERR_INVALID_REQUEST, kIdInvalidRequest,
                     "request header '" + name + "' to " + url->display +
                         " contains a line break or NUL; remove it from the value");
    }
    has_content_type = has_content_type || EqualsIgnoreCase(name, "content-type");
    has_expect = has_expect || EqualsIgnoreCase(name, "expect");
    // "Name;" is libcurl's spelling of a header with an empty value ("Name:" removes it).
    std::string line = name;
    if (value.empty()) {
      line += ';';
    } else {
      line.append(": ").append(value);
    }
    curl_slist* grown = curl_slist_append(header_list.get(), line.c_str());
    if (grown == nullptr) {
      return Failure(RG_ERR_INTERNAL, kIdInternal, "out of memory building the request headers");
    }
    (void)header_list.release();
    header_list.reset(grown);
  }
  // No 100-continue round trip, and no made-up form content type for bodies sent without one.
  for (const char* line :
       {has_expect ? nullptr : "Expect:", has_content_type ? nullptr : "Content-Type:"}) {
    if (line == nullptr) continue;
    curl_slist* grown = curl_slist_append(header_list.get(), line);
    if (grown == nullptr) {
      return Failure(RG_ERR_INTERNAL, kIdInternal, "out of memory building the request headers");
    }
    (void)header_list.release();
    header_list.reset(grown);
  }

  if (is_cancelled && is_cancelled()) {
    return Failure(RG_ERR_CANCELLED, kIdCancelled,
                   "request to " + url->display + " cancelled by the caller");
  }

  // 4. One exchange on a pooled session.
  std::unique_ptr<Session> session = impl_->Acquire(url->origin);
  if (!session) {
    return Failure(RG_ERR_INTERNAL, kIdInternal,
                   "cannot create a libcurl handle (out of memory?); retry later");
  }
  CURL* easy = session->easy;
  CURLM* multi = session->multi;
  curl_easy_reset(easy);  // keeps the multi's connection cache

  const auto start = Clock::now();
  const std::chrono::milliseconds total_timeout =
      request.total_timeout.count() > 0 ? request.total_timeout : options.total_timeout;
  Exchange exchange;
  exchange.handler = &handler;
  exchange.is_cancelled = &is_cancelled;
  exchange.total_deadline =
      total_timeout.count() > 0 ? start + total_timeout : Clock::time_point::max();
  exchange.idle_timeout =
      request.idle_timeout.count() > 0 ? request.idle_timeout : options.idle_timeout;
  exchange.last_activity = start;

  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  // No signals from a multi-threaded host: no SIGALRM for resolver timeouts (the threaded
  // resolver needs none), and libcurl 7.88 sends through its own OpenSSL BIO with
  // MSG_NOSIGNAL, so a peer closing early cannot raise SIGPIPE either.
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect would bypass the egress hook
  curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  // The total and idle timeouts are ours (ms resolution, distinct messages); no
  // CURLOPT_TIMEOUT/LOW_SPEED, so CURLE_OPERATION_TIMEDOUT can only mean "connect".
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, options.verify_tls ? 1L : 0L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, options.verify_tls ? 2L : 0L);
  if (!options.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, options.ca_file.c_str());
  // Proxies: CURLOPT_PROXY stays unset so libcurl reads http_proxy/https_proxy/no_proxy.
  curl_easy_setopt(easy, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, kUserAgent);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &OnHeaderLine);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &exchange);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &OnBodyBytes);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &exchange);
  curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, &OnProgress);
  curl_easy_setopt(easy, CURLOPT_XFERINFODATA, &exchange);
  curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, &OnConnectionReady);
  curl_easy_setopt(easy, CURLOPT_PREREQDATA, &exchange);

  const std::string& method = request.method;
  if (method == "GET" && request.body.empty()) {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  } else if (method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
  } else {
    if (!request.body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
    }
    if (method != "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method.c_str());
  }

  CURLcode result = CURLE_OK;
  bool finished = false;
  CURLMcode multi_code = curl_multi_add_handle(multi, easy);
  while (multi_code == CURLM_OK) {
    int running = 0;
    multi_code = curl_multi_perform(multi, &running);
    if (multi_code != CURLM_OK || running == 0 || exchange.ShouldStop()) break;
    multi_code = curl_multi_poll(multi, nullptr, 0, kPollIntervalMs, nullptr);
  }
  int queued = 0;
  while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
    if (message->msg == CURLMSG_DONE && message->easy_handle == easy) {
      result = message->data.result;
      finished = true;
    }
  }
  long new_connections = 0;
  long os_errno = 0;
  long verify_result = 0;
  curl_off_t announced_length = -1;
  curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &new_connections);
  curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
  curl_easy_getinfo(easy, CURLINFO_SSL_VERIFYRESULT, &verify_result);
  curl_easy_getinfo(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced_length);
  // Removing an unfinished transfer closes its connection: a half-read response cannot be
  // reused. A finished one leaves its connection in the multi's cache for the next request.
  curl_multi_remove_handle(multi, easy);
  impl_->connections_opened.fetch_add(new_connections);
  session->origin = url->origin;
  impl_->Release(std::move(session));

  const auto elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
  const int status = exchange.status;
  const std::string received = std::to_string(exchange.body_bytes);
  const std::string& where = url->display;

  // Our own stops win over what libcurl reports for them (write error, aborted by callback).
  const auto stopped = [&]() {
    switch (exchange.stop) {
      case Stop::kCancelled:
        return Failure(RG_ERR_CANCELLED, kIdCancelled,
                       "request to " + where + " cancelled by the caller", exchange.status);
      case Stop::kHandlerStopped:
        return Failure(RG_ERR_CANCELLED, kIdCancelled,
                       "request to " + where + " stopped by its response handler", exchange.status);
      case Stop::kHandlerThrew:
        return Failure(RG_ERR_INTERNAL, kIdInternal,
                       "the response handler for " + where +
                           " threw an exception; handlers must report failure by returning false",
                       exchange.status);
      case Stop::kTotalTimeout:
        return Failure(RG_ERR_RETRYABLE, kIdTotalTimeout,
                       "no complete response from " + where + " within the total timeout of " +
                           std::to_string(total_timeout.count()) + " ms (" + received +
                           " body bytes received); retry, or raise the request's total timeout",
                       exchange.status);
      case Stop::kIdleTimeout:
        return Failure(RG_ERR_RETRYABLE, kIdIdleTimeout,
                       where + " sent nothing for " +
                           std::to_string(exchange.idle_timeout.count()) +
                           " ms (idle timeout) after " + received +
                           " body bytes; retry, or raise the request's idle timeout",
                       exchange.status);
      case Stop::kNone:
        break;
    }
    return HttpOutcome{};
  };

  HttpOutcome outcome;
  if (exchange.stop != Stop::kNone) {
    outcome = stopped();
  } else if (multi_code != CURLM_OK) {
    outcome = Failure(RG_ERR_INTERNAL, kIdInternal,
                      "libcurl multi interface failed for " + where + " (curlm " +
                          std::to_string(static_cast<int>(multi_code)) + ": " +
                          Lowered(curl_multi_strerror(multi_code)) + "); report this as a bug");
  } else if (!finished) {
    outcome = Failure(
        RG_ERR_INTERNAL, kIdInternal,
        "libcurl ended the transfer to " + where + " without a result; report this as a bug");
  } else if (result == CURLE_OK) {
    // An empty body: the head still goes out, exactly once.
    if (exchange.DeliverHead()) {
      outcome.status = exchange.status;
    } else {
      outcome = stopped();
    }
  } else {
    switch (result) {
      case CURLE_COULDNT_RESOLVE_HOST:
        outcome = Failure(RG_ERR_RETRYABLE, kIdResolve,
                          "cannot resolve host '" + url->host + "' for " + where +
                              "; check the endpoint's base_url and this machine's dns settings");
        break;
      case CURLE_COULDNT_RESOLVE_PROXY:
        outcome = Failure(RG_ERR_RETRYABLE, kIdResolve,
                          "cannot resolve the proxy host for " + where +
                              "; check http_proxy, https_proxy and all_proxy in the environment");
        break;
      case CURLE_COULDNT_CONNECT:
        outcome = Failure(RG_ERR_RETRYABLE, kIdConnect,
                          "cannot connect to " + where + ": " + OsErrorText(os_errno) +
                              "; check that the server (or the proxy named in the environment) "
                              "is up and the endpoint's base_url is right");
        break;
      case CURLE_OPERATION_TIMEDOUT:
        outcome = Failure(RG_ERR_RETRYABLE, kIdConnectTimeout,
                          "connecting to " + where + " timed out after " +
                              std::to_string(options.connect_timeout.count()) +
                              " ms; check the network path and proxy settings, or raise the "
                              "connect timeout");
        break;
      case CURLE_SEND_ERROR:
        outcome = Failure(RG_ERR_RETRYABLE, kIdConnectionFailed,
                          "the connection to " + where + " failed while sending the request (" +
                              OsErrorText(os_errno) + "); retry the request");
        break;
      case CURLE_RECV_ERROR:
        outcome = Failure(RG_ERR_RETRYABLE, kIdConnectionFailed,
                          "the connection to " + where + " failed while receiving the response (" +
                              OsErrorText(os_errno) + ") after " + received +
                              " body bytes; retry the request",
                          status);
        break;
      case CURLE_GOT_NOTHING:
        outcome = Failure(RG_ERR_RETRYABLE, kIdConnectionFailed,
                          where +
                              " closed the connection without sending a response; retry "
                              "the request");
        break;
      case CURLE_SSL_CONNECT_ERROR:
        outcome = Failure(RG_ERR_RETRYABLE, kIdConnectionFailed,
                          "the tls handshake with " + url->origin +
                              " failed; check that the endpoint speaks https on this port, then "
                              "retry");
        break;
      case CURLE_PARTIAL_FILE:
        if (exchange.chunked) {
          outcome =
              Failure(RG_ERR_PROTOCOL, kIdTruncated,
                      "connection closed mid-body: " + where +
                          " ended its chunked response before the last chunk after " + received +
                          " bytes; retry the request, and check the server or "
                          "any proxy in between if it persists",
                      status);
        } else {
          outcome = Failure(RG_ERR_PROTOCOL, kIdTruncated,
                            "connection closed mid-body: " + where + " announced " +
                                std::to_string(announced_length) +
                                " bytes (content-length) but sent " + received +
                                "; retry the request, and check the server or any proxy in "
                                "between if it persists",
                            status);
        }
        break;
      case CURLE_WEIRD_SERVER_REPLY:
      case CURLE_BAD_CONTENT_ENCODING:
      case CURLE_UNSUPPORTED_PROTOCOL:
      case CURLE_HTTP2:
      case CURLE_HTTP2_STREAM:
        outcome = Failure(RG_ERR_PROTOCOL, kIdMalformed,
                          "malformed http response from " + where + " (" + CurlText(result) +
                              "); check that the endpoint is an http/1.1 server",
                          status);
        break;
      case CURLE_PEER_FAILED_VERIFICATION:
        outcome = Failure(
            RG_ERR_UNAVAILABLE, kIdTlsVerify,
            "the tls certificate of " + url->origin + " failed verification" +
                (verify_result != 0 ? " (openssl verify code " + std::to_string(verify_result) + ")"
                                    : std::string()) +
                "; install its issuing ca in the system store or set the "
                "transport's ca_file, never turn verification off");
        break;
      case CURLE_SSL_CACERT_BADFILE:
        outcome = Failure(RG_ERR_INTERNAL, kIdInternal,
                          "cannot load the ca file '" + options.ca_file + "' (" + CurlText(result) +
                              "); fix the transport's ca_file setting");
        break;
      case CURLE_URL_MALFORMAT:
        outcome = Failure(RG_ERR_INVALID_REQUEST, kIdInvalidRequest,
                          "libcurl rejected the url " + where +
                              "; check the endpoint's base_url and the path appended to it");
        break;
      default:
        outcome = Failure(RG_ERR_INTERNAL, kIdInternal,
                          "unexpected transport failure for " + where + " (" + CurlText(result) +
                              "); report this with the host log",
                          status);
        break;
    }
  }

  // Never log header values or bodies; the URL is shown without credentials or query.
  spdlog::debug("http {} {} -> code {} status {} in {} ms, {} body bytes, {} new connection(s){}{}",
                method, where, static_cast<int>(outcome.code), outcome.status, elapsed_ms,
                exchange.body_bytes, new_connections, outcome.id.empty() ? "" : " ", outcome.id);
  return outcome;
}

}  // namespace rg::core
