// A raw HTTP/1.1 client for the simulator tests: it keeps the exact bytes, undoes chunked
// framing itself and reports whether the body ended as framed, so tests can tell a clean
// cut from an aborted one.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "regiongate/tools/vendor_sim.hpp"

namespace rg::tools::test {

using Headers = std::vector<std::pair<std::string, std::string>>;

inline constexpr int64_t kCreated = 1767225600;

struct HttpReply {
  int status = 0;
  Headers headers;
  std::string raw_body;  ///< bytes after the head, as received
  std::string body;      ///< de-chunked
  bool chunked = false;
  bool complete = false;  ///< zero chunk seen / Content-Length reached

  std::string Header(const std::string& name) const {
    for (const auto& [key, value] : headers) {
      if (key.size() == name.size() &&
          std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          })) {
        return value;
      }
    }
    return "<absent>";
  }
  bool HasHeader(const std::string& name) const { return Header(name) != "<absent>"; }
  nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
};

inline void Dechunk(HttpReply& reply) {
  std::string_view rest = reply.raw_body;
  for (;;) {
    const size_t eol = rest.find("\r\n");
    if (eol == std::string_view::npos) return;
    const size_t size = std::strtoul(std::string(rest.substr(0, eol)).c_str(), nullptr, 16);
    rest.remove_prefix(eol + 2);
    if (size == 0) {
      reply.complete = true;
      return;
    }
    if (rest.size() < size + 2) {
      reply.body += rest.substr(0, std::min(size, rest.size()));
      return;
    }
    reply.body += rest.substr(0, size);
    rest.remove_prefix(size + 2);
  }
}

/// Parses everything a server sent on a connection that it then closed.
inline HttpReply ParseReply(const std::string& raw) {
  HttpReply reply;
  const size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) return reply;
  const std::string head = raw.substr(0, head_end);
  reply.raw_body = raw.substr(head_end + 4);
  size_t line_start = head.find("\r\n");
  reply.status = std::atoi(head.substr(9, 3).c_str());
  while (line_start != std::string::npos) {
    line_start += 2;
    const size_t line_end = head.find("\r\n", line_start);
    const std::string line = head.substr(line_start, line_end - line_start);
    const size_t colon = line.find(": ");
    if (colon != std::string::npos) {
      reply.headers.emplace_back(line.substr(0, colon), line.substr(colon + 2));
    }
    line_start = line_end;
  }
  reply.chunked = reply.Header("Transfer-Encoding") == "chunked";
  if (reply.chunked) {
    Dechunk(reply);
  } else {
    reply.body = reply.raw_body;
    reply.complete =
        reply.HasHeader("Content-Length") &&
        reply.body.size() == std::strtoul(reply.Header("Content-Length").c_str(), nullptr, 10);
  }
  return reply;
}

/// Sends `request` as is and reads until the server closes.
inline std::string Exchange(uint16_t port, const std::string& request) {
  namespace net = boost::asio;
  net::io_context io;
  net::ip::tcp::socket socket(io);
  boost::system::error_code ec;
  socket.connect({net::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return {};
  net::write(socket, net::buffer(request), ec);
  std::string raw;
  char buffer[8192];
  for (;;) {
    const size_t n = socket.read_some(net::buffer(buffer), ec);
    raw.append(buffer, n);
    if (ec) break;
  }
  return raw;
}

inline std::string RequestBytes(const std::string& method, const std::string& target,
                                const std::string& body, const Headers& headers) {
  std::string out = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [name, value] : headers) {
    out.append(name).append(": ").append(value).append("\r\n");
  }
  out += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
  return out;
}

inline HttpReply Send(uint16_t port, const std::string& method, const std::string& target,
                      const std::string& body, const Headers& headers = {}) {
  return ParseReply(Exchange(port, RequestBytes(method, target, body, headers)));
}

inline HttpReply Post(uint16_t port, const std::string& target, const std::string& body,
                      const Headers& headers = {}) {
  return Send(port, "POST", target, body, headers);
}

/// Splits an SSE body into frames (the text between blank lines), without the separators.
inline std::vector<std::string> Frames(const std::string& body) {
  std::vector<std::string> frames;
  size_t start = 0;
  for (;;) {
    const size_t end = body.find("\n\n", start);
    if (end == std::string::npos) {
      if (start < body.size()) frames.push_back(body.substr(start));
      return frames;
    }
    frames.push_back(body.substr(start, end - start));
    start = end + 2;
  }
}

/// The JSON after "data: " / "data:" in a frame (discarded when it is not JSON).
inline nlohmann::json FrameJson(const std::string& frame) {
  const size_t data = frame.rfind("data:");
  if (data == std::string::npos) return nlohmann::json::value_t::discarded;
  size_t start = data + 5;
  if (start < frame.size() && frame[start] == ' ') ++start;
  return nlohmann::json::parse(frame.substr(start), nullptr, false);
}

inline std::string ReplaceAll(std::string text, const std::string& from, const std::string& to) {
  if (from.empty()) return text;
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

/// Options every shared simulator uses: a fixed clock so bodies are byte-stable.
inline VendorSimOptions TestOptions() {
  VendorSimOptions options;
  options.created = kCreated;
  options.log_sink = [](std::string_view) {};
  return options;
}

/// One simulator per test program, started on first use.
inline VendorSim& SharedSim() {
  static VendorSim sim(TestOptions());
  static const bool started = [] {
    const Result<void> result = sim.Start();
    if (!result) ADD_FAILURE() << result.error().message;
    return result.ok();
  }();
  (void)started;
  return sim;
}

/// A chat body with one user message.
inline std::string UserBody(const std::string& model, const std::string& prompt,
                            nlohmann::json extra = nlohmann::json::object()) {
  nlohmann::json body = {{"model", model}, {"messages", {{{"role", "user"}, {"content", prompt}}}}};
  for (auto& [key, value] : extra.items()) body[key] = value;
  return body.dump();
}

}  // namespace rg::tools::test
