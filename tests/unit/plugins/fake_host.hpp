// A scripted host for plug-in client tests: secrets from a map, HTTP answered from canned
// vendor bytes delivered in awkward chunks (lines and CRLF pairs split anywhere), host-side
// cancellation on demand, a settable clock, and every log line kept. Clients run through
// the SDK's real complete() trampoline, without dlopen.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "regiongate/abi.h"
#include "regiongate/sdk/plugin.hpp"

namespace rg::test {
class FakeHost;
}

/// The ABI leaves rg_call opaque; the fake host defines it as a pointer back to itself.
struct rg_call {
  rg::test::FakeHost* fake;
};

namespace rg::test {

/// One canned vendor answer.
struct Canned {
  int status = 200;
  sdk::Headers headers;
  std::string body;
  /// What http() returns after delivering the body: RG_ERR_PROTOCOL imitates a connection
  /// reset mid-body, RG_ERR_RETRYABLE a timeout.
  rg_code transport = RG_OK;
  std::string transport_message;
  /// False: fail before any head (connection refused, egress denied) with `transport`.
  bool send_head = true;
};

inline Canned Json(int status, std::string body, sdk::Headers extra = {}) {
  Canned c;
  c.status = status;
  c.headers = {{"Content-Type", "application/json"}};
  for (auto& h : extra) c.headers.push_back(std::move(h));
  c.body = std::move(body);
  return c;
}

inline Canned Sse(std::string body, sdk::Headers extra = {}) {
  Canned c;
  c.status = 200;
  c.headers = {{"Content-Type", "text/event-stream"}};
  for (auto& h : extra) c.headers.push_back(std::move(h));
  c.body = std::move(body);
  return c;
}

/// What the plug-in sent.
struct Sent {
  std::string method;
  std::string endpoint_id;
  std::string path;
  sdk::Headers headers;
  std::string body;

  std::string Header(std::string_view name) const {
    sdk::HttpResponse view;
    view.headers = headers;
    return view.Header(name);
  }
  nlohmann::json Json() const { return nlohmann::json::parse(body, nullptr, false); }
};

/// One event as the host's sink received it.
struct Seen {
  rg_event_kind kind = RG_EVENT_TEXT_DELTA;
  std::string data;
  rg_finish_reason finish = RG_FINISH_NONE;
  rg_code code = RG_OK;

  nlohmann::json Json() const { return nlohmann::json::parse(data, nullptr, false); }
};

class FakeHost {
 public:
  FakeHost() {
    services_.struct_size = sizeof services_;
    services_.abi_major = RG_ABI_VERSION_MAJOR;
    services_.abi_minor = RG_ABI_VERSION_MINOR;
    services_.context = reinterpret_cast<rg_host_context*>(this);
    services_.log = [](rg_host_context* c, rg_log_level, rg_str message) {
      Self(c)->logs.emplace_back(sdk::FromRgStr(message));
    };
    services_.log_enabled = [](rg_host_context*, rg_log_level) { return 1; };
    services_.clock_monotonic_ns = [](rg_host_context* c) {
      return static_cast<uint64_t>(Self(c)->unix_ms) * 1000000u;
    };
    services_.clock_unix_ms = [](rg_host_context* c) { return Self(c)->unix_ms; };
    services_.secret_get = [](rg_host_context* c, rg_str name, char* buffer, size_t capacity,
                              size_t* length) -> rg_code {
      auto& table = Self(c)->secrets;
      auto it = table.find(std::string(sdk::FromRgStr(name)));
      if (it == table.end()) {
        *length = 0;
        return RG_ERR_AUTH;
      }
      *length = it->second.size();
      if (it->second.size() > capacity) return RG_ERR_INVALID_REQUEST;
      it->second.copy(buffer, it->second.size());
      return RG_OK;
    };
    services_.is_cancelled = [](rg_call* call) { return call->fake->cancelled ? 1 : 0; };
    services_.http = [](rg_call* call, const rg_http_request* request,
                        const rg_http_response_sink* sink,
                        rg_error* error) { return call->fake->Http(request, sink, error); };
    services_.error_set = [](rg_error* error, rg_code code, rg_str message) {
      sdk::SetError(error, code, sdk::FromRgStr(message));
    };
    call_.fake = this;
    sdk::detail::GlobalHost() = sdk::Host(&services_);
  }
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;

  const rg_host_services* services() const { return &services_; }
  sdk::Host host() const { return sdk::Host(&services_); }
  rg_call* call() { return &call_; }

  void Enqueue(Canned canned) { queue.push_back(std::move(canned)); }

  /// Runs one completion through the SDK's complete() trampoline and returns the events.
  /// `stop_after_texts` >= 0 makes the sink answer "stop" on that many-th text delta.
  std::vector<Seen> Complete(sdk::Instance& instance, const nlohmann::json& request,
                             const std::string& endpoint_id, int stop_after_texts = -1) {
    struct SinkState {
      std::vector<Seen> events;
      int texts = 0;
      int stop_after = -1;
    } state;
    state.stop_after = stop_after_texts;
    rg_event_sink sink{};
    sink.struct_size = sizeof sink;
    sink.user = &state;
    sink.emit = [](void* user, const rg_event* event) -> int {
      auto* s = static_cast<SinkState*>(user);
      s->events.push_back(
          {event->kind, std::string(sdk::FromRgStr(event->data)), event->finish, event->code});
      if (event->kind == RG_EVENT_TEXT_DELTA && ++s->texts == s->stop_after) return 1;
      return 0;
    };
    const std::string body = request.dump();
    rg_request req{};
    req.struct_size = sizeof req;
    req.call = &call_;
    req.endpoint_id = sdk::ToRgStr(endpoint_id);
    req.json = sdk::ToRgStr(body);
    const rg_code returned =
        sdk::detail::Complete(reinterpret_cast<rg_instance*>(&instance), &req, &sink);
    // The ABI's stream rules hold for every call: exactly one FINAL, last, and complete()
    // returns its code.
    int finals = 0;
    for (const auto& e : state.events) finals += e.kind == RG_EVENT_FINAL ? 1 : 0;
    EXPECT_EQ(finals, 1);
    EXPECT_FALSE(state.events.empty());
    if (!state.events.empty()) {
      EXPECT_EQ(state.events.back().kind, RG_EVENT_FINAL);
      EXPECT_EQ(returned, state.events.back().code);
    }
    return state.events;
  }

  std::map<std::string, std::string> secrets;
  std::deque<Canned> queue;
  std::vector<Sent> sent;
  std::vector<std::string> logs;
  /// Body chunk sizes, cycled: awkward on purpose so lines, UTF-8 sequences and CRLF pairs
  /// are split everywhere.
  std::vector<size_t> chunk_sizes = {1, 7, 2, 13, 3, 64, 5};
  /// Sets `cancelled` once this many body chunks were delivered (-1 = never).
  int cancel_after_chunks = -1;
  bool cancelled = false;
  int64_t unix_ms = 1'700'000'000'000;

 private:
  static FakeHost* Self(rg_host_context* context) { return reinterpret_cast<FakeHost*>(context); }

  rg_code Http(const rg_http_request* request, const rg_http_response_sink* sink, rg_error* error) {
    Sent record;
    record.method = std::string(sdk::FromRgStr(request->method));
    record.endpoint_id = std::string(sdk::FromRgStr(request->endpoint_id));
    record.path = std::string(sdk::FromRgStr(request->path));
    for (size_t i = 0; i < request->header_count; ++i) {
      record.headers.emplace_back(std::string(sdk::FromRgStr(request->headers[i].name)),
                                  std::string(sdk::FromRgStr(request->headers[i].value)));
    }
    record.body = std::string(sdk::FromRgStr(request->body));
    sent.push_back(std::move(record));
    auto fail = [&](rg_code code, const std::string& message) {
      services_.error_set(error, code, sdk::ToRgStr(message));
      return code;
    };
    if (queue.empty()) return fail(RG_ERR_RETRYABLE, "fake host: no canned response left");
    Canned canned = std::move(queue.front());
    queue.pop_front();
    if (!canned.send_head) return fail(canned.transport, canned.transport_message);
    std::vector<rg_http_header> headers;
    for (const auto& [name, value] : canned.headers) {
      headers.push_back({sdk::ToRgStr(name), sdk::ToRgStr(value)});
    }
    if (sink->on_head(sink->user, canned.status, headers.data(), headers.size()) != 0) {
      return fail(RG_ERR_CANCELLED, "aborted by the plug-in");
    }
    size_t offset = 0;
    int chunks = 0;
    while (offset < canned.body.size()) {
      const size_t size = std::min(chunk_sizes[static_cast<size_t>(chunks) % chunk_sizes.size()],
                                   canned.body.size() - offset);
      if (sink->on_body(sink->user,
                        sdk::ToRgStr(std::string_view(canned.body).substr(offset, size))) != 0) {
        return fail(RG_ERR_CANCELLED, "aborted by the plug-in");
      }
      offset += size;
      ++chunks;
      if (chunks == cancel_after_chunks) cancelled = true;
    }
    if (canned.transport != RG_OK) return fail(canned.transport, canned.transport_message);
    return RG_OK;
  }

  rg_host_services services_{};
  rg_call call_{};
};

/// Concatenated text deltas.
inline std::string TextOf(const std::vector<Seen>& events) {
  std::string out;
  for (const auto& e : events) {
    if (e.kind == RG_EVENT_TEXT_DELTA) out += e.data;
  }
  return out;
}

/// The USAGE events' payloads, in order.
inline std::vector<nlohmann::json> UsagesOf(const std::vector<Seen>& events) {
  std::vector<nlohmann::json> out;
  for (const auto& e : events) {
    if (e.kind == RG_EVENT_USAGE) out.push_back(e.Json());
  }
  return out;
}

inline std::vector<nlohmann::json> ToolDeltasOf(const std::vector<Seen>& events) {
  std::vector<nlohmann::json> out;
  for (const auto& e : events) {
    if (e.kind == RG_EVENT_TOOL_CALL_DELTA) out.push_back(e.Json());
  }
  return out;
}

inline const Seen& FinalOf(const std::vector<Seen>& events) { return events.back(); }

/// "data: X\n\n" for each payload (OpenAI, compatible mode, Qianfan framing).
inline std::string DataFrames(const std::vector<std::string>& payloads) {
  std::string out;
  for (const auto& p : payloads) out += "data: " + p + "\n\n";
  return out;
}

}  // namespace rg::test
