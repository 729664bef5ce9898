// Vendor-neutral plumbing for one HTTP exchange with a vendor: streamed versus buffered
// responses, cancellation, truncation, and turning every vendor failure into exactly one
// FINAL event with the canonical code and its details (http_status, vendor_code,
// request_id, retry_after_ms). openai_compat.hpp and the non-OpenAI protocols of the
// plug-ins (DashScope native, Qianfan v1) are built on it.
#pragma once

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "regiongate/abi.h"
#include "regiongate/sdk/events.hpp"
#include "regiongate/sdk/host.hpp"
#include "regiongate/sdk/json.hpp"
#include "regiongate/sdk/plugin.hpp"
#include "regiongate/sdk/sse.hpp"

namespace rg::sdk {

inline std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

inline bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

/// A JSON value as a string: strings as they are, numbers in decimal, anything else empty.
/// Vendors disagree on whether error codes are strings ("invalid_prompt") or numbers (110).
inline std::string JsonScalarText(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  if (value.is_number()) return value.dump();
  return {};
}

/// A string member of a vendor object, or empty when absent or not a string. (Vendor data
/// is untrusted: nlohmann's value() throws on a type mismatch.)
inline std::string StringMember(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/// A member of a vendor object, or null when absent.
inline const nlohmann::json& Member(const nlohmann::json& object, const char* key) {
  static const nlohmann::json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

/// Names where a call went, for messages: "qwen endpoint 'cn-beijing'".
struct VendorLabel {
  std::string plugin;
  std::string endpoint;

  std::string Describe() const { return plugin + " endpoint '" + endpoint + "'"; }
};

/// A vendor error as it arrived: an HTTP error body, an error object inside a stream that
/// started with 200, or a vendor safety signal.
struct VendorError {
  int http_status = 0;  ///< from the head or an event's ":HTTP_STATUS/NNN"; 0 = unknown
  std::string code;     ///< vendor code as text: "invalid_prompt", "DataInspectionFailed", "110"
  std::string type;     ///< vendor error type, when the vendor has one
  std::string message;  ///< the vendor's own words
  bool mid_stream = false;      ///< arrived after a successful stream had started
  bool output_started = false;  ///< answer text had already reached the host
};

/// What a vendor error means in canonical terms.
struct Verdict {
  rg_code code = RG_ERR_INTERNAL;
  std::string blocked;  ///< "input" or "output" when code is RG_ERR_PROVIDER_BLOCKED
};

/// The verdict from the HTTP status and the code words most vendors share. Vendor
/// classifiers handle their own codes first and fall back to this.
inline Verdict CommonVerdict(const VendorError& error) {
  const std::string key = AsciiLower(error.code + " " + error.type);
  if (Contains(key, "rate_limit") || Contains(key, "ratelimit") || Contains(key, "throttling") ||
      Contains(key, "insufficient_quota") || Contains(key, "limit_requests") ||
      Contains(key, "limit_burst_rate")) {
    return {RG_ERR_RATE_LIMITED, {}};
  }
  if (error.http_status >= 400) return {CodeForHttpStatus(error.http_status), {}};
  // An error object after HTTP 200 (mid-stream, or an error body some vendors send as 200).
  if (Contains(key, "invalid_api_key") || Contains(key, "authentication")) {
    return {RG_ERR_AUTH, {}};
  }
  if (Contains(key, "invalid_request") || Contains(key, "invalid_argument") ||
      Contains(key, "invalid_parameter")) {
    return {RG_ERR_INVALID_REQUEST, {}};
  }
  return {RG_ERR_RETRYABLE, {}};
}

/// "input" or "output" when the vendor's wording says which side it blocked ("Input data
/// may contain ...", "Output data ..."); empty when it does not ("Input or output data ...").
inline std::string BlockedSideFromMessage(std::string_view message) {
  const std::string lower = AsciiLower(message);
  const bool input = Contains(lower, "input");
  const bool output = Contains(lower, "output");
  if (input && !output) return "input";
  if (output && !input) return "output";
  return {};
}

/// The FINAL message for a vendor failure or block. Blocks after partial output say that
/// the partial answer is incomplete; auth failures end with `auth_hint` (which credential
/// to check).
inline std::string DescribeFailure(const VendorLabel& label, const VendorError& error,
                                   const Verdict& verdict, bool output_started,
                                   std::string_view auth_hint) {
  const std::string vendor_message =
      error.message.empty() ? std::string("no message given") : error.message;
  const std::string code = error.code.empty() ? std::string() : " (" + error.code + ")";
  std::string out;
  if (verdict.code == RG_ERR_PROVIDER_BLOCKED) {
    out = label.Describe() + " blocked the " + verdict.blocked + code + ": " + vendor_message;
    if (output_started) out += "; the partial answer is incomplete";
    return out;
  }
  if (error.mid_stream) {
    out = label.Describe() + " failed mid-stream" + code + ": " + vendor_message;
  } else if (error.http_status != 0) {
    out = label.Describe() + " answered HTTP " + std::to_string(error.http_status) + code + ": " +
          vendor_message;
  } else {
    out = label.Describe() + " failed" + code + ": " + vendor_message;
  }
  if (verdict.code == RG_ERR_AUTH && !auth_hint.empty()) out += "; " + std::string(auth_hint);
  if (output_started) out += "; the partial answer is incomplete";
  return out;
}

/// "missing credential: set DASHSCOPE_API_KEY (the secret named by setting 'api_key_secret'
/// of plug-in 'qwen')".
inline std::string MissingCredentialMessage(std::string_view plugin, std::string_view secret,
                                            std::string_view setting) {
  return "missing credential: set " + std::string(secret) + " (the secret named by setting '" +
         std::string(setting) + "' of plug-in '" + std::string(plugin) + "')";
}

/// Reads the secret named by a setting; on failure emits FINAL RG_ERR_AUTH naming the
/// variable and returns false. The value is never logged.
inline bool ReadCredential(const Host& host, EventWriter& out, std::string_view plugin,
                           std::string_view secret, std::string_view setting, std::string* value) {
  const Status status = host.Secret(secret, value);
  if (status.ok() && !value->empty()) return true;
  value->clear();
  out.Fail(RG_ERR_AUTH, MissingCredentialMessage(plugin, secret, setting));
  return false;
}

/// A vendor finish reason, normalised. kUnknown is a reason ParseFinishReason does not list.
enum class VendorFinish { kNone, kStop, kLength, kToolCalls, kContentFilter, kUnknown };

/// null, "" and DashScope's string "null" mean "still generating". A reason not listed here
/// (DeepSeek's insufficient_system_resource, whatever a vendor adds next) is kUnknown, never
/// kStop: the vendor may have cut the answer short, so the call must not look complete.
inline VendorFinish ParseFinishReason(const nlohmann::json& value) {
  if (!value.is_string()) return VendorFinish::kNone;
  const std::string reason = AsciiLower(value.get<std::string>());
  if (reason.empty() || reason == "null") return VendorFinish::kNone;
  if (reason == "stop" || reason == "normal") return VendorFinish::kStop;  // normal: Qianfan
  if (reason == "length" || reason == "max_tokens") return VendorFinish::kLength;
  if (reason == "tool_calls" || reason == "function_call") return VendorFinish::kToolCalls;
  if (reason == "content_filter") return VendorFinish::kContentFilter;
  return VendorFinish::kUnknown;
}

/// The FINAL finish reason of a vendor's. kUnknown is RG_FINISH_ERROR: it is emitted with
/// RG_ERR_PROTOCOL (VendorExchange::Finish), never with RG_OK.
inline rg_finish_reason ToFinishReason(VendorFinish finish) {
  switch (finish) {
    case VendorFinish::kLength:
      return RG_FINISH_LENGTH;
    case VendorFinish::kToolCalls:
      return RG_FINISH_TOOL_CALLS;
    case VendorFinish::kContentFilter:
      return RG_FINISH_CONTENT_FILTER;
    case VendorFinish::kUnknown:
      return RG_FINISH_ERROR;
    default:
      return RG_FINISH_STOP;
  }
}

/// Usage from {"prompt_tokens","completion_tokens","total_tokens"} (OpenAI, DashScope
/// compatible mode, Qianfan). A missing total is the sum.
inline Usage UsageFromOpenAi(const nlohmann::json& usage) {
  Usage out;
  out.prompt_tokens = IntMember(usage, "prompt_tokens");
  out.completion_tokens = IntMember(usage, "completion_tokens");
  out.total_tokens = IntMember(usage, "total_tokens", out.prompt_tokens + out.completion_tokens);
  return out;
}

/// Turns vendor tool-call fragments into canonical TOOL_CALL_DELTA payloads: id and name
/// only on the first delta of a call (some vendors repeat them, empty, on every fragment).
class ToolCallTracker {
 public:
  /// `item` is {"index":N,"id":"...","function":{"name":"...","arguments":"..."}};
  /// `position` is used when the vendor gives no index.
  nlohmann::json Delta(const nlohmann::json& item, size_t position) {
    const int64_t index = IntMember(item, "index", static_cast<int64_t>(position));
    nlohmann::json delta = {{"index", index}};
    if (auto id = item.find("id"); id != item.end() && id->is_string() &&
                                   !id->get_ref<const std::string&>().empty() &&
                                   ids_.insert(index).second) {
      delta["id"] = *id;
    }
    std::string arguments;
    if (auto function = item.find("function"); function != item.end() && function->is_object()) {
      if (auto name = function->find("name"); name != function->end() && name->is_string() &&
                                              !name->get_ref<const std::string&>().empty() &&
                                              names_.insert(index).second) {
        delta["name"] = *name;
      }
      if (auto args = function->find("arguments"); args != function->end()) {
        arguments = args->is_string() ? args->get<std::string>() : args->dump();
      }
    }
    delta["arguments"] = arguments;
    return delta;
  }

  bool empty() const { return ids_.empty() && names_.empty(); }

 private:
  std::set<int64_t> ids_;
  std::set<int64_t> names_;
};

/// A POST of `body` as JSON to a declared endpoint: `headers`, then Content-Type. Invalid
/// UTF-8 (a caller's message may hold some) is replaced instead of failing the dump.
inline HttpCall JsonPost(std::string endpoint_id, std::string path, Headers headers,
                         const nlohmann::json& body) {
  HttpCall call;
  call.method = "POST";
  call.endpoint_id = std::move(endpoint_id);
  call.path = std::move(path);
  call.headers = std::move(headers);
  call.headers.emplace_back("Content-Type", "application/json");
  call.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return call;
}

/// One HTTP exchange with a vendor. Decides from the head whether the body is a stream
/// (2xx, a stream was asked for, and the content type is not JSON: Qianfan v1 answers
/// errors as JSON with 200 even to stream:true) and routes it: stream bytes through an SSE
/// parser to `on_event`, anything else buffered to `on_response`. Handles cancellation
/// (the host's flag, or EventWriter::Text returning false) and transport failures, so the
/// handlers only speak the vendor's protocol.
class VendorExchange {
 public:
  struct Handlers {
    /// One event of a streamed 2xx response. Return false to stop reading (after emitting
    /// FINAL, or when the host asked to stop).
    std::function<bool(const SseEvent&)> on_event;
    /// The streamed response ended. `transport` is empty when every byte arrived (the
    /// handler checks the vendor's terminator) or holds the host's failure (connection
    /// reset, timeout) when it did not.
    std::function<void(const std::optional<Status>& transport)> on_stream_end;
    /// A buffered response of any status (non-streamed calls, errors, JSON bodies).
    std::function<void(const HttpResponse& response)> on_response;
  };

  /// Bodies larger than this are refused rather than buffered without bound.
  static constexpr size_t kMaxBufferedBytes = 32u << 20;

  VendorExchange(const CallContext& context, EventWriter& out, VendorLabel label)
      : context_(context), out_(out), label_(std::move(label)) {}

  const VendorLabel& label() const { return label_; }
  const CallContext& context() const { return context_; }
  EventWriter& out() { return out_; }
  /// Status and headers of the response (status 0 before the head arrived).
  const HttpResponse& head() const { return head_; }
  bool streaming() const { return streaming_; }

  /// Runs the exchange. Every path emits FINAL except a complete stream or buffered
  /// response, which the handlers finish.
  void Run(const HttpCall& call, bool stream, const Handlers& handlers) {
    bool cancelled = false;
    bool overflowed = false;
    std::string body;
    SseParser parser([&](const SseEvent& event) { return handlers.on_event(event); });
    const Status status = context_.host.Http(
        context_.call, call,
        [&](int http_status, const Headers& headers) {
          head_.status = http_status;
          head_.headers = headers;
          if (context_.Cancelled()) {
            cancelled = true;
            return false;
          }
          streaming_ = stream && http_status / 100 == 2 &&
                       !Contains(AsciiLower(head_.Header("content-type")), "json");
          return true;
        },
        [&](std::string_view chunk) {
          if (out_.finished()) return false;
          if (out_.stopped() || context_.Cancelled()) {
            cancelled = true;
            return false;
          }
          if (!streaming_) {
            if (body.size() + chunk.size() > kMaxBufferedBytes) {
              overflowed = true;
              return false;
            }
            body.append(chunk);
            return true;
          }
          if (abandoned_) return false;
          if (!parser.Feed(chunk)) {
            if (parser.overflowed() && !out_.finished()) {
              out_.Fail(RG_ERR_PROTOCOL,
                        label_.Describe() + " sent a stream line longer than " +
                            std::to_string(SseParser::kMaxLineBytes) + " bytes",
                        Details());
            }
            return false;
          }
          if (out_.stopped()) cancelled = true;
          return !out_.finished() && !out_.stopped() && !abandoned_;
        });
    if (out_.finished() || abandoned_) return;
    if (cancelled || out_.stopped() || context_.Cancelled() || status.code == RG_ERR_CANCELLED) {
      out_.Cancelled();
      return;
    }
    if (overflowed) {
      out_.Fail(RG_ERR_PROTOCOL,
                label_.Describe() + " sent a response larger than " +
                    std::to_string(kMaxBufferedBytes) + " bytes",
                Details());
      return;
    }
    if (streaming_) {
      handlers.on_stream_end(status.ok() ? std::nullopt : std::optional<Status>(status));
      return;
    }
    if (!status.ok()) {
      // Nothing usable arrived: refused by egress policy, connection failed, timed out, or
      // the body broke off.
      out_.Fail(status.code, label_.Describe() + ": " + status.message, Details());
      return;
    }
    HttpResponse response = head_;
    response.body = std::move(body);
    handlers.on_response(response);
  }

  /// Run() with a protocol decoder's OnEvent, OnStreamEnd and OnResponse as the handlers
  /// (openai_compat::Decoder, DashScope native, Qianfan v1 all have that shape).
  template <class Decoder>
  void RunDecoder(const HttpCall& call, bool stream, Decoder& decoder) {
    Handlers handlers;
    handlers.on_event = [&decoder](const SseEvent& event) { return decoder.OnEvent(event); };
    handlers.on_stream_end = [&decoder](const std::optional<Status>& transport) {
      decoder.OnStreamEnd(transport);
    };
    handlers.on_response = [&decoder](const HttpResponse& response) {
      decoder.OnResponse(response);
    };
    Run(call, stream, handlers);
  }

  /// Stops reading without emitting FINAL, for a handler that will retry the call itself
  /// (Qianfan v1 after an expired access token: the only retry a plug-in does). The
  /// handler's on_event returns false after calling it.
  void Abandon() { abandoned_ = true; }
  bool abandoned() const { return abandoned_; }

  /// http_status and request_id (the x-request-id / x-baidu-request-id header, else the
  /// body's request_id or id), plus retry_after_ms when the vendor asked for a delay.
  nlohmann::json Details(const nlohmann::json& body = nullptr) const {
    nlohmann::json details = nlohmann::json::object();
    if (head_.status != 0) details["http_status"] = head_.status;
    std::string request_id = head_.Header("x-request-id");
    if (request_id.empty()) request_id = head_.Header("x-baidu-request-id");
    if (request_id.empty() && body.is_object()) {
      for (const char* key : {"request_id", "id"}) {
        if (auto it = body.find(key); it != body.end() && it->is_string()) {
          request_id = it->get<std::string>();
          break;
        }
      }
    }
    if (!request_id.empty()) details["request_id"] = request_id;
    if (const auto retry_after = RetryAfterMs(head_)) details["retry_after_ms"] = *retry_after;
    return details;
  }

  /// Emits FINAL for a vendor error: the verdict's code (or a block saying which side),
  /// a message naming the endpoint, and the details.
  rg_code Fail(const VendorError& error, const Verdict& verdict, const nlohmann::json& body,
               std::string_view auth_hint) {
    nlohmann::json details = Details(body);
    if (error.http_status != 0) details["http_status"] = error.http_status;
    if (!error.code.empty()) details["vendor_code"] = error.code;
    const std::string message =
        DescribeFailure(label_, error, verdict, out_.text_bytes() > 0, auth_hint);
    if (verdict.code == RG_ERR_PROVIDER_BLOCKED) {
      return out_.Blocked(verdict.blocked, message, std::move(details));
    }
    return out_.Fail(verdict.code, message, std::move(details));
  }

  /// Emits FINAL for a stream that ended before `terminator` (e.g. "data: [DONE]"). A
  /// clean close or a broken connection is RG_ERR_PROTOCOL: a truncated answer is never
  /// complete. A timeout keeps the host's code (retryable while nothing was delivered).
  rg_code FailTruncated(std::string_view terminator, const std::optional<Status>& transport) {
    std::string message = "stream truncated: " + label_.Describe() + " ended the stream before " +
                          std::string(terminator);
    rg_code code = RG_ERR_PROTOCOL;
    if (transport.has_value()) {
      message += " (" + transport->message + ")";
      if (transport->code != RG_ERR_PROTOCOL && out_.text_bytes() == 0) code = transport->code;
    }
    if (out_.text_bytes() > 0) message += "; the partial answer is incomplete";
    return out_.Fail(code, message, Details());
  }

  /// Emits FINAL for an answer the vendor ended with `finish` (kNone: it gave no reason, so
  /// stop). content_filter is a block of the output (RG_ERR_PROVIDER_BLOCKED). A reason
  /// regiongate does not know (kUnknown; `vendor_reason` is the vendor's word) fails the call
  /// with RG_ERR_PROTOCOL and finish ERROR, as a truncated stream does: the answer may be
  /// incomplete and must not be shown as a complete one. Otherwise RG_OK and the reason.
  rg_code Finish(VendorFinish finish, std::string_view vendor_reason, const nlohmann::json& body) {
    if (finish == VendorFinish::kContentFilter) {
      VendorError signal;
      signal.code = "content_filter";
      signal.message = "finish_reason content_filter";
      return Fail(signal, {RG_ERR_PROVIDER_BLOCKED, "output"}, body, {});
    }
    if (finish == VendorFinish::kUnknown) {
      nlohmann::json details = Details(body);
      details["vendor_code"] = std::string(vendor_reason);
      return out_.Fail(RG_ERR_PROTOCOL,
                       label_.Describe() + " ended the answer with finish_reason '" +
                           std::string(vendor_reason) +
                           "', which regiongate does not know; treat the answer as incomplete",
                       std::move(details));
    }
    return out_.Final(ToFinishReason(finish == VendorFinish::kNone ? VendorFinish::kStop : finish),
                      RG_OK, Details(body));
  }

  /// Emits FINAL RG_ERR_PROTOCOL for a body or stream event that is not the JSON expected.
  rg_code FailMalformed(std::string_view what) {
    std::string message = "malformed JSON in " + std::string(what) + " from " + label_.Describe();
    if (out_.text_bytes() > 0) message += "; the partial answer is incomplete";
    return out_.Fail(RG_ERR_PROTOCOL, message, Details());
  }

 private:
  const CallContext& context_;
  EventWriter& out_;
  VendorLabel label_;
  HttpResponse head_;
  bool streaming_ = false;
  bool abandoned_ = false;
};

/// The endpoint entry the host passed in the instance configuration
/// ({"endpoints":{"<id>":{"id","kind","base_url","data_region","protocol",...}}}).
inline const nlohmann::json* FindEndpoint(const nlohmann::json& config, std::string_view id) {
  auto endpoints = config.find("endpoints");
  if (endpoints == config.end() || !endpoints->is_object()) return nullptr;
  auto it = endpoints->find(std::string(id));
  return it == endpoints->end() || !it->is_object() ? nullptr : &*it;
}

/// Ids of the configured endpoints of `kind` ("inference" or "auth"), for messages.
inline std::string EndpointIds(const nlohmann::json& config, std::string_view kind) {
  std::string out;
  auto endpoints = config.find("endpoints");
  if (endpoints == config.end() || !endpoints->is_object()) return out;
  for (const auto& [id, endpoint] : endpoints->items()) {
    const std::string endpoint_kind = StringMember(endpoint, "kind");
    if ((endpoint_kind.empty() ? "inference" : endpoint_kind) != kind) continue;
    if (!out.empty()) out += ", ";
    out += id;
  }
  return out;
}

}  // namespace rg::sdk
