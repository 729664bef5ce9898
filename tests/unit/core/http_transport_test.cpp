// Tests for core/src/http_transport.cpp against the scriptable loopback server: reuse,
// streaming, every timeout, cancellation, truncation, egress refusal, TLS, proxies, errors.
#include "regiongate/core/http_transport.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "support/test_http_server.hpp"

namespace rg::core {
namespace {

using rg::testing::RecordedRequest;
using rg::testing::ScriptedResponse;
using rg::testing::TestHttpServer;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using Framing = ScriptedResponse::Framing;
using Fault = ScriptedResponse::Fault;
using namespace std::chrono_literals;

/// Records what the transport hands over, in order.
class Recorder : public HttpResponseHandler {
 public:
  bool OnHead(int head_status, const HttpHeaders& head_headers) override {
    std::lock_guard<std::mutex> lock(mutex_);
    events.push_back("head");
    ++head_calls;
    status = head_status;
    headers = head_headers;
    return continue_after_head;
  }
  bool OnBody(std::string_view chunk) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      events.push_back("body");
      body += chunk;
    }
    return on_body ? on_body(chunk) : true;
  }
  std::string Body() {
    std::lock_guard<std::mutex> lock(mutex_);
    return body;
  }
  std::optional<std::string> Header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (key == name) return value;
    }
    return std::nullopt;
  }

  std::vector<std::string> events;
  int head_calls = 0;
  int status = 0;
  HttpHeaders headers;
  std::string body;
  bool continue_after_head = true;
  std::function<bool(std::string_view)> on_body;

 private:
  std::mutex mutex_;
};

/// A one-shot flag another thread can wait on with a bound.
class Signal {
 public:
  void Set() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      set_ = true;
    }
    cv_.notify_all();
  }
  bool WaitFor(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, timeout, [this] { return set_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool set_ = false;
};

HttpRequest Get(std::string url) {
  HttpRequest request;
  request.url = std::move(url);
  return request;
}

ScriptedResponse Chunks(std::vector<std::string> chunks, Framing framing) {
  ScriptedResponse response;
  response.chunks = std::move(chunks);
  response.framing = framing;
  return response;
}

/// A loopback port nothing listens on (bound, then released).
uint16_t UnusedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ADD_FAILURE() << "cannot bind a loopback socket";
  }
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

/// A listening socket that never accepts: the kernel completes TCP handshakes, nothing
/// ever answers. A TLS client connecting to it waits for a ServerHello forever.
class SilentListener {
 public:
  SilentListener() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(fd_, 16) != 0) {
      ADD_FAILURE() << "cannot listen on a loopback socket";
    }
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  uint16_t port() const { return port_; }

 private:
  int fd_;
  uint16_t port_ = 0;
};

class HttpTransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Hermetic even on a machine with a proxy configured: loopback never goes through it.
    ::setenv("no_proxy", "127.0.0.1,localhost", 1);
  }
};

// --- Delivery --------------------------------------------------------------------------

TEST_F(HttpTransportTest, DeliversStatusHeadersAndBodyAndSendsTheRequest) {
  TestHttpServer server([](const RecordedRequest&) {
    return ScriptedResponse::Text(201, R"({"id":"r1"})", {{"X-Request-Id", "abc"}});
  });
  HttpTransport transport;
  HttpRequest request;
  request.method = "POST";
  request.url = server.Url("/v1/chat?stream=true");
  request.headers = {{"Authorization", "Bearer sk-test"}, {"Content-Type", "application/json"}};
  request.body = R"({"model":"m"})";
  Recorder recorder;

  const HttpOutcome outcome = transport.Perform(request, recorder);

  EXPECT_EQ(outcome.code, RG_OK) << outcome.message;
  EXPECT_EQ(outcome.status, 201);
  EXPECT_EQ(outcome.id, "");
  EXPECT_EQ(recorder.head_calls, 1);
  EXPECT_EQ(recorder.status, 201);
  EXPECT_EQ(recorder.Header("X-Request-Id"), "abc");
  EXPECT_EQ(recorder.Body(), R"({"id":"r1"})");
  const std::vector<RecordedRequest> requests = server.Requests();
  ASSERT_EQ(requests.size(), 1u);
  const RecordedRequest& seen = requests[0];
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.target, "/v1/chat?stream=true");
  EXPECT_EQ(seen.body, R"({"model":"m"})");
  EXPECT_EQ(seen.Header("authorization"), "Bearer sk-test");
  EXPECT_EQ(seen.Header("content-type"), "application/json");
  EXPECT_EQ(seen.Header("expect"), std::nullopt);  // no 100-continue round trip
}

TEST_F(HttpTransportTest, ErrorStatusIsAResponseNotATransportFailure) {
  TestHttpServer server(
      [](const RecordedRequest&) { return ScriptedResponse::Text(503, "overloaded"); });
  HttpTransport transport;
  Recorder recorder;
  const HttpOutcome outcome = transport.Perform(Get(server.Url("/x")), recorder);
  EXPECT_EQ(outcome.code, RG_OK);
  EXPECT_EQ(outcome.status, 503);
  EXPECT_EQ(recorder.Body(), "overloaded");
}

TEST_F(HttpTransportTest, EmptyBodyStillDeliversTheHeadExactlyOnce) {
  TestHttpServer server([](const RecordedRequest&) { return ScriptedResponse::Text(204, ""); });
  HttpTransport transport;
  Recorder recorder;
  const HttpOutcome outcome = transport.Perform(Get(server.Url("/x")), recorder);
  EXPECT_EQ(outcome.code, RG_OK);
  EXPECT_EQ(recorder.events, std::vector<std::string>{"head"});
  EXPECT_EQ(recorder.status, 204);
}

TEST_F(HttpTransportTest, SendsMethodsWithAndWithoutBodies) {
  TestHttpServer server;
  HttpTransport transport;
  for (const char* method : {"GET", "DELETE", "PUT", "PATCH", "HEAD"}) {
    HttpRequest request = Get(server.Url("/m"));
    request.method = method;
    if (std::string(method) == "PUT") request.body = "payload";
    Recorder recorder;
    EXPECT_EQ(transport.Perform(request, recorder).code, RG_OK) << method;
  }
  const auto requests = server.Requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[1].method, "DELETE");
  EXPECT_EQ(requests[2].method, "PUT");
  EXPECT_EQ(requests[2].body, "payload");
  EXPECT_EQ(requests[3].method, "PATCH");
  EXPECT_EQ(requests[4].method, "HEAD");
}

// --- Connection reuse ------------------------------------------------------------------

TEST_F(HttpTransportTest, ReusesOneConnectionForSequentialRequests) {
  TestHttpServer server([](const RecordedRequest&) { return ScriptedResponse::Text(200, "ok"); });
  HttpTransport transport;
  for (int i = 0; i < 2; ++i) {
    Recorder recorder;
    ASSERT_EQ(transport.Perform(Get(server.Url("/a")), recorder).code, RG_OK);
  }
  EXPECT_EQ(server.ConnectionsAccepted(), 1u);
  EXPECT_EQ(transport.ConnectionsOpened(), 1);
  EXPECT_EQ(server.Requests()[1].connection, 1u);
}

TEST_F(HttpTransportTest, ReusesAConnectionAcrossThreads) {
  TestHttpServer server([](const RecordedRequest&) { return ScriptedResponse::Text(200, "ok"); });
  HttpTransport transport;
  for (int i = 0; i < 2; ++i) {
    std::thread worker([&] {
      Recorder recorder;
      EXPECT_EQ(transport.Perform(Get(server.Url("/a")), recorder).code, RG_OK);
    });
    worker.join();
  }
  EXPECT_EQ(server.ConnectionsAccepted(), 1u);
  EXPECT_EQ(transport.ConnectionsOpened(), 1);
}

TEST_F(HttpTransportTest, KeepsNoIdleConnectionWhenThePoolIsDisabled) {
  TestHttpServer server;
  HttpTransport::Options options;
  options.max_idle_connections = 0;
  HttpTransport transport(options);
  for (int i = 0; i < 2; ++i) {
    Recorder recorder;
    ASSERT_EQ(transport.Perform(Get(server.Url("/a")), recorder).code, RG_OK);
  }
  EXPECT_EQ(transport.ConnectionsOpened(), 2);
}

TEST_F(HttpTransportTest, ServesEightThreadsAtOnce) {
  TestHttpServer server([](const RecordedRequest& request) {
    ScriptedResponse response = ScriptedResponse::Text(200, request.target);
    response.head_delay = 5ms;  // keeps requests overlapping
    return response;
  });
  HttpTransport transport;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        const std::string path = "/t" + std::to_string(t) + "/" + std::to_string(i);
        Recorder recorder;
        const HttpOutcome outcome = transport.Perform(Get(server.Url(path)), recorder);
        if (outcome.code != RG_OK || recorder.Body() != path) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(server.Requests().size(), 40u);
  EXPECT_EQ(static_cast<long>(server.ConnectionsAccepted()), transport.ConnectionsOpened());
  EXPECT_LE(transport.ConnectionsOpened(), 8);  // reused, never one per request
}

// --- Streaming -------------------------------------------------------------------------

class HttpTransportFramingTest : public HttpTransportTest,
                                 public ::testing::WithParamInterface<Framing> {};

std::string FramingName(const ::testing::TestParamInfo<Framing>& param) {
  switch (param.param) {
    case Framing::kContentLength:
      return "ContentLength";
    case Framing::kChunked:
      return "Chunked";
    case Framing::kClose:
      return "CloseDelimited";
  }
  return "Unknown";
}

INSTANTIATE_TEST_SUITE_P(Framings, HttpTransportFramingTest,
                         ::testing::Values(Framing::kContentLength, Framing::kChunked,
                                           Framing::kClose),
                         FramingName);

TEST_P(HttpTransportFramingTest, DeliversEachChunkBeforeTheServerSendsTheNext) {
  Signal client_saw_first;
  std::atomic<bool> signalled_in_time{false};
  TestHttpServer server([&](const RecordedRequest&) {
    ScriptedResponse response = Chunks({"first|", "second"}, GetParam());
    response.before_chunk = [&](size_t index) {
      // A transport that buffered the body would never see chunk 0 before chunk 1 is sent.
      if (index == 1) signalled_in_time = client_saw_first.WaitFor(5s);
    };
    return response;
  });
  HttpTransport transport;
  Recorder recorder;
  recorder.on_body = [&](std::string_view chunk) {
    if (chunk.find("first|") != std::string_view::npos) client_saw_first.Set();
    return true;
  };

  const HttpOutcome outcome = transport.Perform(Get(server.Url("/stream")), recorder);

  EXPECT_EQ(outcome.code, RG_OK) << outcome.message;
  EXPECT_TRUE(signalled_in_time.load());
  EXPECT_EQ(recorder.Body(), "first|second");
  ASSERT_FALSE(recorder.events.empty());
  EXPECT_EQ(recorder.events.front(), "head");
  EXPECT_EQ(recorder.head_calls, 1);
}

// --- Timeouts --------------------------------------------------------------------------

TEST_F(HttpTransportTest, ConnectTimeoutCoversATlsHandshakeThatNeverCompletes) {
  SilentListener listener;
  HttpTransport::Options options;
  options.connect_timeout = 200ms;
  options.idle_timeout = 50ms;  // must not fire while still connecting
  HttpTransport transport(options);
  Recorder recorder;
  const std::string url = "https://127.0.0.1:" + std::to_string(listener.port()) + "/v1";

  const HttpOutcome outcome = transport.Perform(Get(url), recorder);

  EXPECT_EQ(outcome.code, RG_ERR_RETRYABLE);
  EXPECT_EQ(outcome.id, "RG-H005");
  EXPECT_EQ(outcome.message,
            "connecting to " + url +
                " timed out after 200 ms; check the network path and proxy settings, or raise "
                "the connect timeout");
  EXPECT_EQ(recorder.head_calls, 0);
}

TEST_F(HttpTransportTest, TotalTimeoutEndsAStalledResponse) {
  TestHttpServer server([](const RecordedRequest&) {
    ScriptedResponse response = Chunks({"12345", "67890"}, Framing::kChunked);
    response.fault = Fault::kStallMidBody;
    response.fault_after_chunks = 1;
    return response;
  });
  HttpTransport transport;
  HttpRequest request = Get(server.Url("/slow"));
  request.total_timeout = 150ms;
  request.idle_timeout = 10s;
  Recorder recorder;

  const HttpOutcome outcome = transport.Perform(request, recorder);

  EXPECT_EQ(outcome.code, RG_ERR_RETRYABLE);
  EXPECT_EQ(outcome.id, "RG-H006");
  EXPECT_EQ(outcome.message, "no complete response from " + server.Url("/slow") +
                                 " within the total timeout of 150 ms (5 body bytes received); "
                                 "retry, or raise the request's total timeout");
  EXPECT_EQ(outcome.status, 200);
  EXPECT_EQ(recorder.Body(), "12345");
}

TEST_F(HttpTransportTest, TotalTimeoutFiresEvenWhileBytesKeepFlowing) {
  TestHttpServer server([](const RecordedRequest&) {
    ScriptedResponse response = Chunks(std::vector<std::string>(50, "x"), Framing::kChunked);
    response.chunk_delay = 20ms;  // one second in all, never idle for long
    return response;
  });
  HttpTransport transport;
  HttpRequest request = Get(server.Url("/drip"));
  request.total_timeout = 150ms;
  request.idle_timeout = 5s;
  Recorder recorder;

  const HttpOutcome outcome = transport.Perform(request, recorder);

  EXPECT_EQ(outcome.code, RG_ERR_RETRYABLE);
  EXPECT_EQ(outcome.id, "RG-H006");
  EXPECT_LT(recorder.Body().size(), 50u);
}

TEST_F(HttpTransportTest, IdleTimeoutEndsASilentBodyAndKeepsWhatArrived) {
  TestHttpServer server([](const RecordedRequest&) {
    ScriptedResponse response = Chunks({"partial", "never sent"}, Framing::kContentLength);
    response.fault = Fault::kStallMidBody;
    response.fault_after_chunks = 1;
    return response;
  });
  HttpTransport transport;
  HttpRequest request = Get(server.Url("/stall"));
  request.idle_timeout = 100ms;
  Recorder recorder;

  const HttpOutcome outcome = transport.Perform(request, recorder);

  EXPECT_EQ(outcome.code, RG_ERR_RETRYABLE);
  EXPECT_EQ(outcome.id, "RG-H007");
  EXPECT_EQ(outcome.message, server.Url("/stall") +
                                 " sent nothing for 100 ms (idle timeout) after 7 body bytes; "
                                 "retry, or raise the request's idle timeout");
  EXPECT_EQ(recorder.Body(), "partial");
}

TEST_F(HttpTransportTest, IdleTimeoutCoversASilentServerBeforeTheFirstByte) {
  TestHttpServer server([](const RecordedRequest&) {
    ScriptedResponse response;
    response.fault = Fault::kStallBeforeHead;
    return response;
  });
  HttpTransport::Options options;
  options.idle_timeout = 100ms;  // the transport default applies when the request sets none
  HttpTransport transport(options);
  Recorder recorder;

  const HttpOutcome outcome = transport.Perform(Get(server.Url("/silent")), recorder);

  EXPECT_EQ(outcome.code, RG_ERR_RETRYABLE);
  EXPECT_EQ(outcome.id, "RG-H007");
  EXPECT_EQ(outcome.message, server.Url("/silent") +
                                 " sent nothing for 100 ms (idle timeout) after 0 body bytes; "
                                 "retry, or raise the request's idle timeout");
  EXPECT_EQ(outcome.status, 0);
  EXPECT_EQ(recorder.head_calls, 0);
}

TEST_F(HttpTransportTest, SlowFirstByteWithinTheIdleTimeoutSucceeds) {
  TestHttpServer server([](const RecordedRequest&) {
    ScriptedResponse response = ScriptedResponse::Text(200, "late");
    response.head_delay = 100ms;
    return response;
  });
  HttpTransport transport;
  HttpRequest request = Get(server.Url("/late"));
  request.idle_timeout = 2s;
  Recorder recorder;
  EXPECT_EQ(transport.Perform(request, recorder).code, RG_OK);
  EXPECT_EQ(recorder.Body(), "late");
}

// --- Cancellation ----------------------------------------------------------------------

TEST_F(HttpTransportTest, CancellationStopsAStreamMidway) {
  TestHttpServer server([](const RecordedRequest&) {
    ScriptedResponse response = Chunks(std::vector<std::string>(100, "chunk;"), Framing::kChunked);
    response.chunk_delay = 10ms;
    return response;
  });
  HttpTransport transport;
  std::atomic<bool> cancelled{false};
  Recorder recorder;
  recorder.on_body = [&](std::string_view) {
    cancelled = true;  // the caller cancels as soon as output starts
    return true;
  };

  const HttpOutcome outcome =
      transport.Perform(Get(server.Url("/s")), recorder, [&] { return cancelled.load(); });

  EXPECT_EQ(outcome.code, RG_ERR_CANCELLED);
  EXPECT_EQ(outcome.id, "RG-H012");
  EXPECT_EQ(outcome.message, "request to " + server.Url("/s") + " cancelled by the caller");
  EXPECT_THAT(recorder.Body(), StartsWith("chunk;"));
  EXPECT_LT(recorder.Body().size(), 600u);  // not the whole body
}

TEST_F(HttpTransportTest, CancellationFromAnotherThreadEndsAWaitOnASilentServer) {
  TestHttpServer server([](const RecordedRequest&) {
    ScriptedResponse response = Chunks({"one", "two"}, Framing::kChunked);
    response.fault = Fault::kStallMidBody;
    response.fault_after_chunks = 1;
    return response;
  });
  HttpTransport transport;
  std::atomic<bool> cancelled{false};
  Signal first_chunk;
  Recorder recorder;
  recorder.on_body = [&](std::string_view) {
    first_chunk.Set();
    return true;
  };
  std::thread canceller([&] {
    first_chunk.WaitFor(10s);
    cancelled = true;
  });

  const HttpOutcome outcome =
      transport.Perform(Get(server.Url("/s")), recorder, [&] { return cancelled.load(); });
  canceller.join();

  EXPECT_EQ(outcome.code, RG_ERR_CANCELLED);
  EXPECT_EQ(outcome.id, "RG-H012");
  EXPECT_EQ(recorder.Body(), "one");
}

TEST_F(HttpTransportTest, CancelledBeforeStartingNeverConnects) {
  TestHttpServer server;
  HttpTransport transport;
  Recorder recorder;
  const HttpOutcome outcome =
      transport.Perform(Get(server.Url("/s")), recorder, [] { return true; });
  EXPECT_EQ(outcome.code, RG_ERR_CANCELLED);
  EXPECT_EQ(transport.ConnectionsOpened(), 0);
}

TEST_F(HttpTransportTest, HandlerReturningFalseFromOnBodyCancels) {
  TestHttpServer server([](const RecordedRequest&) {
    return Chunks({"a", "b", "c"}, Framing::kChunked);
  });
  HttpTransport transport;
  Recorder recorder;
  recorder.on_body = [](std::string_view) { return false; };

  const HttpOutcome outcome = transport.Perform(Get(server.Url("/h")), recorder);

  EXPECT_EQ(outcome.code, RG_ERR_CANCELLED);
  EXPECT_EQ(outcome.id, "RG-H012");
  EXPECT_EQ(outcome.message, "request to " + server.Url("/h") + " stopped by its response handler");
}

TEST_F(HttpTransportTest, HandlerReturningFalseFromOnHeadCancelsBeforeAnyBody) {
  TestHttpServer server([](const RecordedRequest&) { return ScriptedResponse::Text(200, "x"); });
  HttpTransport transport;
  Recorder recorder;
  recorder.continue_after_head = false;

  const HttpOutcome outcome = transport.Perform(Get(server.Url("/h")), recorder);

  EXPECT_EQ(outcome.code, RG_ERR_CANCELLED);
  EXPECT_EQ(recorder.events, std::vector<std::string>{"head"});
}

// --- Broken responses ------------------------------------------------------------------

TEST_F(HttpTransportTest, ConnectionClosedBeforeContentLengthIsAProtocolError) {
  TestHttpServer server([](const RecordedRequest&) {
    ScriptedResponse response = Chunks({"0123456789", "abcdefghij"}, Framing::kContentLength);
    response.fault = Fault::kCloseMidBody;
    response.fault_after_chunks = 1;
    return response;
  });
  HttpTransport transport;
  Recorder recorder;

  const HttpOutcome outcome = transport.Perform(Get(server.Url("/t")), recorder);

  EXPECT_EQ(outcome.code, RG_ERR_PROTOCOL);
  EXPECT_EQ(outcome.id, "RG-H009");
  EXPECT_EQ(outcome.message,
            "connection closed mid-body: " + server.Url("/t") +
                " announced 20 bytes (content-length) but sent 10; retry the request, and check "
                "the server or any proxy in between if it persists");
  EXPECT_EQ(outcome.status, 200);
  EXPECT_EQ(recorder.Body(), "0123456789");
}

TEST_F(HttpTransportTest, ConnectionClosedBeforeTheLastChunkIsAProtocolError) {
  TestHttpServer server([](const RecordedRequest&) {
    ScriptedResponse response = Chunks({"0123456789", "abcdefghij"}, Framing::kChunked);
    response.fault = Fault::kCloseMidBody;
    response.fault_after_chunks = 2;  // every data chunk, but not the terminating one
    return response;
  });
  HttpTransport transport;
  Recorder recorder;

  const HttpOutcome outcome = transport.Perform(Get(server.Url("/t")), recorder);

  EXPECT_EQ(outcome.code, RG_ERR_PROTOCOL);
  EXPECT_EQ(outcome.id, "RG-H009");
  EXPECT_EQ(outcome.message,
            "connection closed mid-body: " + server.Url("/t") +
                " ended its chunked response before the last chunk after 20 bytes; retry the "
                "request, and check the server or any proxy in between if it persists");
  EXPECT_EQ(recorder.Body(), "0123456789abcdefghij");
}

TEST_F(HttpTransportTest, ConnectionClosedWithoutAResponseIsRetryable) {
  TestHttpServer server([](const RecordedRequest&) {
    ScriptedResponse response;
    response.fault = Fault::kCloseBeforeHead;
    return response;
  });
  HttpTransport transport;
  Recorder recorder;

  const HttpOutcome outcome = transport.Perform(Get(server.Url("/n")), recorder);

  EXPECT_EQ(outcome.code, RG_ERR_RETRYABLE);
  EXPECT_EQ(outcome.id, "RG-H008");
  EXPECT_EQ(outcome.message, server.Url("/n") +
                                 " closed the connection without sending a response; retry "
                                 "the request");
}

TEST_F(HttpTransportTest, ConnectionResetMidBodyIsRetryable) {
  TestHttpServer server([](const RecordedRequest&) {
    ScriptedResponse response = Chunks({"0123456789", "abcdefghij"}, Framing::kContentLength);
    response.fault = Fault::kResetMidBody;
    response.fault_after_chunks = 1;
    return response;
  });
  HttpTransport transport;
  Recorder recorder;

  const HttpOutcome outcome = transport.Perform(Get(server.Url("/r")), recorder);

  EXPECT_EQ(outcome.code, RG_ERR_RETRYABLE);
  EXPECT_EQ(outcome.id, "RG-H008");
  EXPECT_EQ(outcome.message, "the connection to " + server.Url("/r") +
                                 " failed while receiving the response (connection reset) "
                                 "after 10 body bytes; retry the request");
  EXPECT_EQ(outcome.status, 200);
}

TEST_F(HttpTransportTest, GarbageInsteadOfHttpIsAProtocolError) {
  TestHttpServer server([](const RecordedRequest&) {
    ScriptedResponse response;
    response.raw = "this is not http\r\n\r\n";
    return response;
  });
  HttpTransport transport;
  Recorder recorder;

  const HttpOutcome outcome = transport.Perform(Get(server.Url("/g")), recorder);

  EXPECT_EQ(outcome.code, RG_ERR_PROTOCOL);
  EXPECT_EQ(outcome.id, "RG-H010");
  EXPECT_THAT(outcome.message, StartsWith("malformed http response from " + server.Url("/g")));
  EXPECT_THAT(outcome.message, HasSubstr("check that the endpoint is an http/1.1 server"));
}

// --- Connect failures and egress -------------------------------------------------------

TEST_F(HttpTransportTest, RefusedConnectionIsRetryable) {
  const std::string url = "http://127.0.0.1:" + std::to_string(UnusedPort()) + "/v1/x";
  HttpTransport transport;
  Recorder recorder;

  const HttpOutcome outcome = transport.Perform(Get(url), recorder);

  EXPECT_EQ(outcome.code, RG_ERR_RETRYABLE);
  EXPECT_EQ(outcome.id, "RG-H004");
  EXPECT_EQ(outcome.message, "cannot connect to " + url +
                                 ": connection refused; check that the server (or the proxy "
                                 "named in the environment) is up and the endpoint's base_url "
                                 "is right");
}

TEST_F(HttpTransportTest, EgressHookRefusesBeforeAnyConnection) {
  TestHttpServer server([](const RecordedRequest&) { return ScriptedResponse::Text(200, "ok"); });
  HttpTransport transport;
  std::optional<EgressTarget> asked;
  size_t connections_when_asked = 99;
  transport.SetEgressHook([&](const EgressTarget& target) -> Result<void> {
    asked = target;
    connections_when_asked = server.ConnectionsAccepted();
    return Error{"RG-G007",
                 "region 'cn' requires data region 'cn-mainland' but endpoint 'intl' processes "
                 "data in 'sg'; choose a mainland endpoint"};
  });
  HttpRequest request = Get(server.Url("/v1/chat"));
  request.target.plugin_id = "qwen";
  request.target.endpoint_id = "intl";
  request.target.data_region = "sg";
  Recorder recorder;

  const HttpOutcome outcome = transport.Perform(request, recorder);

  EXPECT_EQ(outcome.code, RG_ERR_EGRESS_DENIED);
  EXPECT_EQ(outcome.id, "RG-H001");
  EXPECT_EQ(outcome.message,
            "egress to " + server.Url("/v1/chat") +
                " refused for plug-in 'qwen' endpoint 'intl': region 'cn' requires data region "
                "'cn-mainland' but endpoint 'intl' processes data in 'sg'; choose a mainland "
                "endpoint");
  ASSERT_TRUE(asked.has_value());
  EXPECT_EQ(asked->url, server.Url("/v1/chat"));  // the URL actually about to be contacted
  EXPECT_EQ(asked->data_region, "sg");
  EXPECT_EQ(connections_when_asked, 0u);
  EXPECT_EQ(recorder.head_calls, 0);
  EXPECT_EQ(transport.ConnectionsOpened(), 0);

  // Allowed again, one request reaches the server: had the refused one connected, the
  // server would have accepted two connections by the time this one is answered.
  transport.SetEgressHook(nullptr);
  ASSERT_EQ(transport.Perform(Get(server.Url("/after")), recorder).code, RG_OK);
  EXPECT_EQ(server.ConnectionsAccepted(), 1u);
  ASSERT_EQ(server.Requests().size(), 1u);
  EXPECT_EQ(server.Requests()[0].target, "/after");
}

TEST_F(HttpTransportTest, EgressHookThatThrowsRefuses) {
  TestHttpServer server;
  HttpTransport transport;
  transport.SetEgressHook(
      [](const EgressTarget&) -> Result<void> { throw std::runtime_error("boom"); });
  Recorder recorder;
  const HttpOutcome outcome = transport.Perform(Get(server.Url("/x")), recorder);
  EXPECT_EQ(outcome.code, RG_ERR_EGRESS_DENIED);
  EXPECT_EQ(outcome.message, "egress to " + server.Url("/x") +
                                 " refused: the egress check failed unexpectedly, so the "
                                 "request is refused");
  EXPECT_EQ(server.ConnectionsAccepted(), 0u);
}

// --- Request validation and redaction --------------------------------------------------

TEST_F(HttpTransportTest, RefusesAHeaderValueWithALineBreakWithoutEchoingIt) {
  TestHttpServer server;
  HttpTransport transport;
  HttpRequest request = Get(server.Url("/x"));
  request.headers = {{"Authorization", "Bearer sk-secret\r\nX-Injected: 1"}};
  Recorder recorder;

  const HttpOutcome outcome = transport.Perform(request, recorder);

  EXPECT_EQ(outcome.code, RG_ERR_INVALID_REQUEST);
  EXPECT_EQ(outcome.id, "RG-H002");
  EXPECT_EQ(outcome.message, "request header 'Authorization' to " + server.Url("/x") +
                                 " contains a line break or NUL; remove it from the value");
  EXPECT_EQ(server.ConnectionsAccepted(), 0u);
}

TEST_F(HttpTransportTest, RefusesAnInvalidHeaderName) {
  HttpTransport transport;
  HttpRequest request = Get("http://127.0.0.1:9/x");
  request.headers = {{"Accept", "*/*"}, {"Bad Name", "v"}};
  Recorder recorder;
  const HttpOutcome outcome = transport.Perform(request, recorder);
  EXPECT_EQ(outcome.code, RG_ERR_INVALID_REQUEST);
  EXPECT_EQ(outcome.message,
            "request header #2 to http://127.0.0.1:9/x has an empty or invalid "
            "name; use letters, digits and -_. only");
}

TEST_F(HttpTransportTest, RefusesUnsupportedSchemesAndUnparsableUrls) {
  HttpTransport transport;
  Recorder recorder;
  HttpOutcome outcome = transport.Perform(Get("ftp://127.0.0.1/file"), recorder);
  EXPECT_EQ(outcome.code, RG_ERR_INVALID_REQUEST);
  EXPECT_EQ(outcome.message,
            "unsupported url scheme 'ftp' in ftp://127.0.0.1/file; use an http:// or https:// "
            "endpoint");

  HttpRequest request = Get("http://exa mple.com/x");
  request.target.endpoint_id = "chat";
  outcome = transport.Perform(request, recorder);
  EXPECT_EQ(outcome.code, RG_ERR_INVALID_REQUEST);
  EXPECT_EQ(outcome.id, "RG-H002");
  EXPECT_EQ(outcome.message,
            "cannot parse the request url of endpoint 'chat'; check the endpoint's base_url and "
            "the path appended to it");
}

TEST_F(HttpTransportTest, MessagesNeverContainCredentialsQueriesOrHeaderValues) {
  const std::string port = std::to_string(UnusedPort());
  HttpTransport transport;
  HttpRequest request = Get("http://user:pa55word@127.0.0.1:" + port + "/v1/x?key=sk-query");
  request.headers = {{"Authorization", "Bearer sk-header"}};
  Recorder recorder;

  const HttpOutcome outcome = transport.Perform(request, recorder);

  EXPECT_EQ(outcome.code, RG_ERR_RETRYABLE);
  EXPECT_THAT(outcome.message, HasSubstr("http://127.0.0.1:" + port + "/v1/x:"));
  EXPECT_THAT(outcome.message, Not(HasSubstr("pa55word")));
  EXPECT_THAT(outcome.message, Not(HasSubstr("sk-query")));
  EXPECT_THAT(outcome.message, Not(HasSubstr("sk-header")));
}

// --- Proxies and TLS -------------------------------------------------------------------

TEST_F(HttpTransportTest, UsesTheProxyNamedInTheEnvironment) {
  TestHttpServer proxy([](const RecordedRequest&) { return ScriptedResponse::Text(200, "via"); });
  ::setenv("http_proxy", proxy.Url("").c_str(), 1);
  HttpTransport transport;
  std::string hook_url;
  transport.SetEgressHook([&](const EgressTarget& target) -> Result<void> {
    hook_url = target.url;
    return {};
  });
  Recorder recorder;

  const HttpOutcome outcome = transport.Perform(Get("http://vendor.example/v1/models"), recorder);
  ::unsetenv("http_proxy");

  EXPECT_EQ(outcome.code, RG_OK) << outcome.message;
  EXPECT_EQ(recorder.Body(), "via");
  EXPECT_EQ(hook_url, "http://vendor.example/v1/models");  // policy judges the destination
  ASSERT_EQ(proxy.Requests().size(), 1u);
  EXPECT_EQ(proxy.Requests()[0].target, "http://vendor.example/v1/models");
}

TEST_F(HttpTransportTest, VerifiesTlsCertificatesByDefault) {
  TestHttpServer server([](const RecordedRequest&) { return ScriptedResponse::Text(200, "tls"); },
                        {.tls = true});
  HttpTransport transport;
  Recorder recorder;

  const HttpOutcome outcome = transport.Perform(Get(server.Url("/v1")), recorder);

  EXPECT_EQ(outcome.code, RG_ERR_UNAVAILABLE);
  EXPECT_EQ(outcome.id, "RG-H011");
  EXPECT_EQ(outcome.message,
            "the tls certificate of https://127.0.0.1:" + std::to_string(server.Port()) +
                " failed verification (openssl verify code 18); install its issuing ca in the "
                "system store or set the transport's ca_file, never turn verification off");
  EXPECT_TRUE(server.Requests().empty());  // nothing was sent over the unverified channel
}

TEST_F(HttpTransportTest, TrustsTheConfiguredCaFile) {
  TestHttpServer server([](const RecordedRequest&) { return ScriptedResponse::Text(200, "tls"); },
                        {.tls = true});
  const std::filesystem::path ca_file = std::filesystem::path(::testing::TempDir()) /
                                        ("rg_http_ca_" + std::to_string(::getpid()) + ".pem");
  std::ofstream(ca_file) << server.CertificatePem();
  HttpTransport::Options options;
  options.ca_file = ca_file.string();
  HttpTransport transport(options);

  for (int i = 0; i < 2; ++i) {
    Recorder recorder;
    const HttpOutcome outcome = transport.Perform(Get(server.Url("/v1")), recorder);
    EXPECT_EQ(outcome.code, RG_OK) << outcome.message;
    EXPECT_EQ(recorder.Body(), "tls");
  }
  EXPECT_EQ(transport.ConnectionsOpened(), 1);  // TLS connections are reused too
  std::filesystem::remove(ca_file);
}

TEST_F(HttpTransportTest, UnreadableCaFileIsAConfigurationError) {
  TestHttpServer server(nullptr, {.tls = true});
  HttpTransport::Options options;
  options.ca_file = "/nonexistent/ca.pem";
  HttpTransport transport(options);
  Recorder recorder;
  const HttpOutcome outcome = transport.Perform(Get(server.Url("/v1")), recorder);
  EXPECT_EQ(outcome.code, RG_ERR_INTERNAL);
  EXPECT_EQ(outcome.id, "RG-H013");
  EXPECT_THAT(outcome.message, StartsWith("cannot load the ca file '/nonexistent/ca.pem' ("));
}

}  // namespace
}  // namespace rg::core
