// A scriptable HTTP/1.1 server for tests (Boost.Beast parses requests): loopback, port 0,
// its own threads. A handler scripts each response: status, headers, a body sent chunk by
// chunk (Content-Length, chunked or close-delimited) with delays or blocking hooks between
// chunks, and faults (close or stall before the head or mid-body, raw bytes). It counts
// accepted connections and records every request. Optionally speaks TLS with a self-signed
// certificate for 127.0.0.1 generated in memory.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rg::testing {

using TestHeaders = std::vector<std::pair<std::string, std::string>>;

/// One request as the server received it.
struct RecordedRequest {
  std::string method;
  std::string target;   ///< request-target as sent: "/path?query", or absolute-form via a proxy
  TestHeaders headers;  ///< names as sent, in order
  std::string body;
  size_t connection = 0;  ///< 1-based index of the connection it arrived on

  /// Value of the first header called `name` (case-insensitive).
  std::optional<std::string> Header(std::string_view name) const;
};

/// What to answer. The defaults give "200, empty body, Content-Length: 0, keep-alive".
struct ScriptedResponse {
  enum class Framing {
    kContentLength,  ///< Content-Length: sum of the chunks (unless `headers` already has one)
    kChunked,        ///< Transfer-Encoding: chunked, one HTTP chunk per entry of `chunks`
    kClose,          ///< no length: the body ends when the server closes the connection
  };
  enum class Fault {
    kNone,
    kCloseBeforeHead,  ///< close the connection without answering
    kStallBeforeHead,  ///< send nothing until the server stops
    kCloseMidBody,     ///< send the head and `fault_after_chunks` chunks, then close
    kStallMidBody,     ///< send the head and `fault_after_chunks` chunks, then go silent
    kResetMidBody,     ///< send the head and `fault_after_chunks` chunks, then reset (RST)
  };

  int status = 200;
  TestHeaders headers;
  std::vector<std::string> chunks;  ///< the body, written piece by piece
  Framing framing = Framing::kContentLength;
  std::chrono::milliseconds head_delay{0};   ///< before the status line (slow first byte)
  std::chrono::milliseconds chunk_delay{0};  ///< before every chunk but the first
  /// Called (on the connection's thread) just before chunk `index` is written; may block,
  /// e.g. until the client under test signals it saw the previous chunk. Bound such waits:
  /// a stuck hook holds the server's Stop().
  std::function<void(size_t index)> before_chunk;
  Fault fault = Fault::kNone;
  size_t fault_after_chunks = 0;
  bool close_connection = false;   ///< send "Connection: close" and close after this response
  std::optional<std::string> raw;  ///< written verbatim instead of all of the above, then close

  /// A complete response with `body` in one piece and Content-Length framing.
  static ScriptedResponse Text(int status, std::string body, TestHeaders headers = {});
};

class TestHttpServer {
 public:
  using Handler = std::function<ScriptedResponse(const RecordedRequest&)>;

  struct Options {
    bool tls = false;  ///< serve https with a fresh self-signed certificate for 127.0.0.1
  };

  /// Starts listening on 127.0.0.1, port 0. A null handler answers every request with the
  /// default ScriptedResponse. The handler runs on the connection's thread, so several
  /// may run at once.
  explicit TestHttpServer(Handler handler = {});
  TestHttpServer(Handler handler, Options options);
  ~TestHttpServer();  ///< Stop()s
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  uint16_t Port() const;
  /// "http://127.0.0.1:<port>" (or https) followed by `path`.
  std::string Url(std::string_view path = "/") const;
  /// PEM of the self-signed certificate when Options::tls, else empty. Write it to a file to
  /// use as a CA file.
  const std::string& CertificatePem() const;

  size_t ConnectionsAccepted() const;
  std::vector<RecordedRequest> Requests() const;
  /// Waits until at least `count` requests were recorded; false when `timeout` passed first.
  bool WaitForRequests(size_t count, std::chrono::milliseconds timeout) const;

  /// Sleeps for `duration` unless the server stops first; returns false when it stopped.
  /// Handler hooks use it to wait without holding up Stop().
  bool SleepFor(std::chrono::milliseconds duration) const;
  bool Stopping() const;

  /// Stops accepting, wakes stalled responses, closes every connection and joins all
  /// threads. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rg::testing
