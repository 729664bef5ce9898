// The simulator's HTTP/1.1 server: Beast parses requests, handlers build response plans,
// and one coroutine per connection writes them (head, pieces, pauses, deliberate cuts).
// Heads and chunk framing are written by hand so header case, framing and cuts are exact.

// Boost 1.74's Asio enables co_await on clang only in the old coroutines-TS mode; clang's
// C++20 coroutines (<coroutine>, which Asio already selects) work the same, so say so here.
// This keeps the file buildable with clang and parseable by clang-tidy.
#if defined(__clang__) && defined(__cpp_impl_coroutine) && !defined(BOOST_ASIO_HAS_CO_AWAIT)
#define BOOST_ASIO_HAS_CO_AWAIT 1
#endif

#include "regiongate/tools/vendor_sim.hpp"

#include <atomic>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "sim_internal.hpp"

namespace rg::tools {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using sim::ResponsePlan;
using sim::SimRequest;

constexpr std::string_view kOpenAiPath = "/v1/chat/completions";
constexpr std::string_view kCompatPath = "/compatible-mode/v1/chat/completions";
constexpr std::string_view kNativePath = "/api/v1/services/aigc/text-generation/generation";
constexpr std::string_view kQianfanV2Path = "/v2/chat/completions";
constexpr std::string_view kQianfanTokenPath = "/oauth/2.0/token";
constexpr std::string_view kQianfanV1Prefix = "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/";
constexpr std::string_view kHealthPath = "/sim/health";
constexpr std::string_view kExpireTokensPath = "/sim/admin/expire-qianfan-tokens";
constexpr std::string_view kResetCountersPath = "/sim/admin/reset-counters";
constexpr uint64_t kMaxBodyBytes = 16ULL * 1024 * 1024;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string UrlDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

void ParseForm(std::string_view text, std::map<std::string, std::string>& out) {
  while (!text.empty()) {
    const size_t amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    const size_t eq = pair.find('=');
    const std::string key = UrlDecode(pair.substr(0, eq));
    if (!key.empty() && out.count(key) == 0) {
      out[key] = eq == std::string_view::npos ? std::string() : UrlDecode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    text.remove_prefix(amp + 1);
  }
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string ToString(beast::string_view view) { return std::string(view.data(), view.size()); }

ResponsePlan SimJson(int status, const std::string& message) {
  sim::OJson error;
  error["message"] = message;
  error["type"] = "rg_vendor_sim";
  sim::OJson body;
  body["error"] = std::move(error);
  ResponsePlan plan =
      sim::BodyPlan(status, {{"Content-Type", "application/json"}}, sim::Dump(body));
  plan.vendor = "sim";
  return plan;
}

}  // namespace

struct VendorSim::Impl {
  explicit Impl(VendorSimOptions opts) : options(std::move(opts)) {}

  VendorSimOptions options;
  sim::SimState state{options};
  std::unique_ptr<net::io_context> io;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::string host;
  uint16_t port = 0;
  std::atomic<uint64_t> served{0};
  std::mutex lifecycle_mu;
  std::mutex log_mu;
  bool started = false;

  void Log(std::string_view line) {
    std::lock_guard lock(log_mu);
    if (options.log_sink) {
      options.log_sink(line);
    } else {
      std::cerr << line << '\n' << std::flush;
    }
  }

  ResponsePlan Route(const SimRequest& request);
  net::awaitable<void> Listen();
  net::awaitable<void> Session(tcp::socket socket);
  net::awaitable<bool> Write(tcp::socket& socket, const ResponsePlan& plan, bool keep_alive);
};

ResponsePlan VendorSim::Impl::Route(const SimRequest& request) {
  const std::string_view path = request.path;
  const bool post = request.method == "POST";
  const auto vendor = [&](const char* name, auto&& handle) {
    if (!post) {
      return SimJson(405, "rg-vendor-sim: " + request.method + " " + request.path +
                              " is not served; send POST");
    }
    ResponsePlan plan = handle();
    plan.vendor = name;
    return plan;
  };
  if (path == kOpenAiPath) {
    return vendor("openai", [&] { return sim::HandleOpenAi(request, state); });
  }
  if (path == kCompatPath) {
    return vendor("dashscope-compat", [&] { return sim::HandleDashScopeCompat(request, state); });
  }
  if (path == kNativePath) {
    return vendor("dashscope-native", [&] { return sim::HandleDashScopeNative(request, state); });
  }
  if (path == kQianfanV2Path) {
    return vendor("qianfan-v2", [&] { return sim::HandleQianfanV2(request, state); });
  }
  if (path == kQianfanTokenPath) {
    if (request.method != "GET" && !post) {
      return SimJson(405, "rg-vendor-sim: " + request.method + " " + request.path +
                              " is not served; send POST");
    }
    ResponsePlan plan = sim::HandleQianfanToken(request, state);
    plan.vendor = "qianfan-oauth";
    return plan;
  }
  if (path.substr(0, kQianfanV1Prefix.size()) == kQianfanV1Prefix) {
    const std::string suffix(path.substr(kQianfanV1Prefix.size()));
    return vendor("qianfan-v1", [&] { return sim::HandleQianfanV1(request, suffix, state); });
  }
  if (path == kHealthPath) {
    ResponsePlan plan =
        sim::BodyPlan(200, {{"Content-Type", "application/json"}}, R"({"status":"ok"})");
    plan.vendor = "sim";
    return plan;
  }
  if (path == kExpireTokensPath && post) {
    state.ExpireAllTokens();
    ResponsePlan plan =
        sim::BodyPlan(200, {{"Content-Type", "application/json"}}, R"({"expired":true})");
    plan.vendor = "sim";
    return plan;
  }
  if (path == kResetCountersPath && post) {
    state.ResetCounters();
    ResponsePlan plan =
        sim::BodyPlan(200, {{"Content-Type", "application/json"}}, R"({"reset":true})");
    plan.vendor = "sim";
    return plan;
  }
  return SimJson(404, "rg-vendor-sim: no route for " + request.method + " " + request.path +
                          "; served: POST /v1/chat/completions, "
                          "POST /compatible-mode/v1/chat/completions, POST " +
                          std::string(kNativePath) +
                          ", POST /v2/chat/completions, POST /oauth/2.0/token, POST " +
                          std::string(kQianfanV1Prefix) + "{suffix}");
}

net::awaitable<void> VendorSim::Impl::Listen() {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket =
        co_await acceptor->async_accept(net::redirect_error(net::use_awaitable, ec));
    if (ec == net::error::operation_aborted || !acceptor->is_open()) co_return;
    if (ec) {
      // Out of descriptors and the like: back off instead of spinning.
      net::steady_timer timer(co_await net::this_coro::executor);
      timer.expires_after(std::chrono::milliseconds(50));
      co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
      continue;
    }
    net::co_spawn(acceptor->get_executor(), Session(std::move(socket)), net::detached);
  }
}

net::awaitable<void> VendorSim::Impl::Session(tcp::socket socket) {
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kMaxBodyBytes);
    co_await http::async_read_header(socket, buffer, parser,
                                     net::redirect_error(net::use_awaitable, ec));
    if (!ec && beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      // libcurl waits for this before sending larger bodies.
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      co_await net::async_write(socket, net::buffer(kContinue.data(), kContinue.size()),
                                net::redirect_error(net::use_awaitable, ec));
    }
    if (!ec) {
      co_await http::async_read(socket, buffer, parser,
                                net::redirect_error(net::use_awaitable, ec));
    }
    if (ec) {
      if (ec != http::error::end_of_stream && ec != net::error::eof &&
          ec != net::error::connection_reset && ec != net::error::operation_aborted) {
        const ResponsePlan bad =
            SimJson(400, "rg-vendor-sim: cannot parse the HTTP request: " + ec.message());
        co_await Write(socket, bad, false);
      }
      break;
    }
    const http::request<http::string_body>& message = parser.get();
    SimRequest request;
    request.method = ToString(message.method_string());
    const std::string target = ToString(message.target());
    const size_t question = target.find('?');
    request.path = target.substr(0, question);
    if (question != std::string::npos)
      ParseForm(std::string_view(target).substr(question + 1), request.query);
    for (const auto& field : message.base()) {
      request.headers[Lower(ToString(field.name_string()))] = ToString(field.value());
    }
    request.body = message.body();
    if (request.Header("content-type").find("application/x-www-form-urlencoded") !=
        std::string::npos) {
      ParseForm(request.body, request.query);
    }

    ResponsePlan plan = Route(request);
    served.fetch_add(1);
    if (options.verbose) {
      // Path only: the query may hold an access token or a client secret.
      Log("rg-vendor-sim: " + request.method + " " + request.path + " -> " +
          std::to_string(plan.status) + " vendor=" + plan.vendor + " behavior=" + plan.behavior +
          (plan.chunked ? " stream" : ""));
    }
    const bool keep_alive = message.keep_alive() && plan.end == ResponsePlan::End::kComplete;
    const bool written = co_await Write(socket, plan, keep_alive);
    if (!written || !keep_alive) break;
  }
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

net::awaitable<bool> VendorSim::Impl::Write(tcp::socket& socket, const ResponsePlan& plan,
                                            bool keep_alive) {
  boost::system::error_code ec;
  net::steady_timer timer(co_await net::this_coro::executor);
  const auto pause = [&](std::chrono::milliseconds delay) -> net::awaitable<void> {
    timer.expires_after(delay);
    co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
  };
  const auto send = [&](std::string bytes) -> net::awaitable<bool> {
    co_await net::async_write(socket, net::buffer(bytes),
                              net::redirect_error(net::use_awaitable, ec));
    co_return !ec;
  };

  if (plan.first_byte_delay.count() > 0) co_await pause(plan.first_byte_delay);

  size_t body_size = 0;
  for (const std::string& piece : plan.pieces) body_size += piece.size();
  const beast::string_view reason =
      http::obsolete_reason(http::int_to_status(static_cast<unsigned>(plan.status)));
  std::string head = "HTTP/1.1 " + std::to_string(plan.status) + " " + ToString(reason) + "\r\n";
  for (const auto& [name, value] : plan.headers) {
    head.append(name).append(": ").append(value).append("\r\n");
  }
  if (plan.chunked) {
    head += "Transfer-Encoding: chunked\r\n";
  } else {
    head += "Content-Length: " + std::to_string(plan.declared_length.value_or(body_size)) + "\r\n";
  }
  head += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  if (!co_await send(head)) co_return false;

  const std::chrono::milliseconds interval(options.chunk_interval_ms);
  for (size_t i = 0; i < plan.pieces.size(); ++i) {
    const std::chrono::milliseconds wait = i == plan.stall_before ? plan.stall
                                           : i > 0                ? interval
                                                                  : std::chrono::milliseconds(0);
    if (wait.count() > 0) co_await pause(wait);
    const std::string& piece = plan.pieces[i];
    if (piece.empty()) continue;  // an empty chunk would end a chunked body
    if (plan.chunked) {
      char size[32];
      std::snprintf(size, sizeof(size), "%zx\r\n", piece.size());
      if (!co_await send(size + piece + "\r\n")) co_return false;
    } else if (!co_await send(piece)) {
      co_return false;
    }
  }
  if (plan.stall_before >= plan.pieces.size() && plan.stall_before != SIZE_MAX &&
      plan.stall.count() > 0) {
    co_await pause(plan.stall);
  }
  if (plan.end == ResponsePlan::End::kAbort) co_return false;
  if (plan.chunked && !co_await send("0\r\n\r\n")) co_return false;
  co_return true;
}

// ---- public API --------------------------------------------------------------------------

Result<void> ValidateOptions(const VendorSimOptions& options) {
  boost::system::error_code ec;
  const net::ip::address address = net::ip::make_address(options.host, ec);
  if (ec) {
    return Error{"RG-S002",
                 "--host '" + options.host + "' is not an IP address; pass 127.0.0.1 or ::1"};
  }
  if (!address.is_loopback() && !options.allow_non_loopback) {
    return Error{"RG-S001", "--host " + options.host +
                                " is not a loopback address; the simulator serves fake vendors "
                                "over plain HTTP, so use 127.0.0.1 or pass --allow-non-loopback"};
  }
  const auto range = [](const char* name, int64_t value, int64_t low,
                        int64_t high) -> Result<void> {
    if (value < low || value > high) {
      return Error{"RG-S002", std::string(name) + " " + std::to_string(value) +
                                  " is out of range; pass a value from " + std::to_string(low) +
                                  " to " + std::to_string(high)};
    }
    return {};
  };
  for (const Result<void>& check : {
           range("--threads", options.threads, 1, 64),
           range("--chunk-chars", options.chunk_chars, 1, 4096),
           range("--chunk-interval-ms", options.chunk_interval_ms, 0, 60000),
           range("--qianfan-token-ttl", options.qianfan_token_ttl_s, 1, 315360000),
           range("--dashscope-input-block-status", options.facts.dashscope_input_block_status, 400,
                 599),
           range("--qianfan-v1-error-status", options.facts.qianfan_v1_error_status, 200, 599),
           range("--openai-retry-after", options.facts.openai_retry_after_s, -1, 86400),
       }) {
    if (!check) return check;
  }
  Result<Behavior> behavior = ParseBehavior(options.default_behavior, "--behavior");
  if (!behavior) return behavior.error();
  return {};
}

VendorSim::VendorSim(VendorSimOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

VendorSim::~VendorSim() { Stop(); }

Result<void> VendorSim::Start() {
  std::lock_guard lock(impl_->lifecycle_mu);
  if (impl_->started) {
    return Error{"RG-S004", "the simulator is already running on port " +
                                std::to_string(impl_->port) + "; call Stop() first"};
  }
  if (Result<void> valid = ValidateOptions(impl_->options); !valid) return valid;

  const VendorSimOptions& options = impl_->options;
  boost::system::error_code ec;
  const tcp::endpoint endpoint(net::ip::make_address(options.host, ec), options.port);
  auto io = std::make_unique<net::io_context>(options.threads);
  auto acceptor = std::make_unique<tcp::acceptor>(*io);
  const auto fail = [&](const char* step) -> Result<void> {
    return Error{"RG-S003", "cannot listen on " + options.host + ":" +
                                std::to_string(options.port) + " (" + step + "): " + ec.message() +
                                "; pick another --port, or 0 for an ephemeral one"};
  };
  acceptor->open(endpoint.protocol(), ec);
  if (ec) return fail("open");
  acceptor->set_option(net::socket_base::reuse_address(true), ec);
  acceptor->bind(endpoint, ec);
  if (ec) return fail("bind");
  acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  impl_->port = acceptor->local_endpoint(ec).port();
  impl_->host = options.host;

  impl_->io = std::move(io);
  impl_->acceptor = std::move(acceptor);
  net::co_spawn(*impl_->io, impl_->Listen(), net::detached);
  for (int i = 0; i < options.threads; ++i) {
    impl_->threads.emplace_back([io = impl_->io.get()] { io->run(); });
  }
  impl_->started = true;
  return {};
}

void VendorSim::Stop() {
  std::lock_guard lock(impl_->lifecycle_mu);
  if (!impl_->started) return;
  impl_->io->stop();
  for (std::thread& thread : impl_->threads) thread.join();
  impl_->threads.clear();
  boost::system::error_code ec;
  impl_->acceptor->close(ec);
  impl_->acceptor.reset();
  // Destroying the context destroys every suspended connection coroutine and its socket.
  impl_->io.reset();
  impl_->started = false;
}

uint16_t VendorSim::port() const { return impl_->port; }

std::string VendorSim::BaseUrl() const {
  const bool v6 = impl_->host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + impl_->host + "]" : impl_->host) + ":" +
         std::to_string(impl_->port);
}

void VendorSim::ExpireQianfanTokens() { impl_->state.ExpireAllTokens(); }

void VendorSim::ResetCounters() { impl_->state.ResetCounters(); }

uint64_t VendorSim::RequestsServed() const { return impl_->served.load(); }

}  // namespace rg::tools
