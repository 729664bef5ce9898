// OpenAI-chat-shaped protocols, shared: request building and response / stream-chunk
// decoding for OpenAI chat completions, DashScope compatible mode, Qianfan v2 and any other
// vendor that speaks the same shape. A plug-in supplies a Dialect (endpoint, path, headers,
// how to read its error codes and safety flags) instead of copying the decoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "regiongate/abi.h"
#include "regiongate/sdk/events.hpp"
#include "regiongate/sdk/host.hpp"
#include "regiongate/sdk/json.hpp"
#include "regiongate/sdk/plugin.hpp"
#include "regiongate/sdk/sse.hpp"
#include "regiongate/sdk/vendor_call.hpp"

namespace rg::sdk::openai_compat {

/// Which key carries the output-token limit: OpenAI's reasoning families (o-series, GPT-5)
/// reject `max_tokens`; older models and most compatible vendors only know `max_tokens`.
enum class MaxTokensKey { kMaxTokens, kMaxCompletionTokens };

struct RequestOptions {
  MaxTokensKey max_tokens_key = MaxTokensKey::kMaxTokens;
  /// Streams ask for the final usage chunk (stream_options.include_usage).
  bool include_usage = true;
  /// Canonical keys this vendor rejects; dropped instead of passed through.
  std::vector<std::string> drop_keys;
};

/// Canonical request -> OpenAI-shaped chat body. Unknown keys pass through, so vendor
/// extras in the canonical request (enable_search, web_search, ...) reach the vendor.
inline nlohmann::json BuildRequest(const CanonicalRequest& request, const RequestOptions& options) {
  nlohmann::json body = request.json;
  body["model"] = request.model;
  body["stream"] = request.stream;
  const std::optional<int64_t> max_tokens = request.max_tokens();
  body.erase("max_tokens");
  body.erase("max_completion_tokens");
  if (max_tokens.has_value()) {
    body[options.max_tokens_key == MaxTokensKey::kMaxCompletionTokens ? "max_completion_tokens"
                                                                      : "max_tokens"] = *max_tokens;
  }
  if (request.stream && options.include_usage) {
    if (!body.contains("stream_options") || !body["stream_options"].is_object()) {
      body["stream_options"] = nlohmann::json::object();
    }
    body["stream_options"]["include_usage"] = true;
  } else if (!request.stream) {
    body.erase("stream_options");  // only valid with stream:true
  }
  for (const auto& key : options.drop_keys) body.erase(key);
  return body;
}

/// Reads an OpenAI-shaped error envelope ({"error":{"message","type","code",...}} or
/// {"error":"text"}) into `error`; false when `body` holds none.
inline bool ReadErrorObject(const nlohmann::json& body, VendorError* error) {
  if (!body.is_object()) return false;
  auto it = body.find("error");
  if (it == body.end() || it->is_null()) return false;
  if (it->is_string()) {
    error->message = it->get<std::string>();
    return true;
  }
  if (!it->is_object()) return false;
  error->code = JsonScalarText(Member(*it, "code"));
  error->type = JsonScalarText(Member(*it, "type"));
  error->message = JsonScalarText(Member(*it, "message"));
  if (error->code.empty()) error->code = error->type;
  return true;
}

/// How one vendor speaks the OpenAI shape.
struct Dialect {
  VendorLabel label;
  std::string path = "/v1/chat/completions";
  Headers headers;  ///< authorization and vendor headers; Content-Type/Accept are added
  /// Maps a vendor error to the canonical verdict. Vendors put their safety codes first.
  std::function<Verdict(const VendorError&)> classify = CommonVerdict;
  /// Optional: a vendor safety signal on a choice (Qianfan's flag / ban_round). Returns the
  /// signal as an error (code and message); the side is "input" while no answer text has
  /// been delivered, "output" after.
  std::function<std::optional<VendorError>(const nlohmann::json& choice)> inspect_choice;
  /// Appended to auth failures: which credential to check.
  std::string auth_hint;
  uint32_t total_timeout_ms = 0;
  uint32_t idle_timeout_ms = 0;
};

/// Decodes one OpenAI-shaped response (buffered) or stream (chunk by chunk) into canonical
/// events. Separate from the HTTP exchange so tests and fuzzers can drive it directly.
class Decoder {
 public:
  Decoder(VendorExchange& exchange, const Dialect& dialect)
      : exchange_(exchange), out_(exchange.out()), dialect_(dialect) {}

  /// One SSE event of a 2xx stream. Returns false to stop reading (FINAL sent or stopped).
  bool OnEvent(const SseEvent& event) {
    if (done_) return true;  // nothing counts after [DONE]
    if (event.data == "[DONE]") {
      done_ = true;
      return true;
    }
    const nlohmann::json chunk = ParseJson(event.data);
    if (chunk.is_discarded() || !chunk.is_object()) {
      exchange_.FailMalformed("a stream chunk");
      return false;
    }
    VendorError error;
    if (ReadErrorObject(chunk, &error)) {
      error.mid_stream = true;
      error.output_started = out_.text_bytes() > 0;
      error.http_status = 0;
      Verdict verdict = dialect_.classify(error);
      if (verdict.code == RG_ERR_PROVIDER_BLOCKED && verdict.blocked.empty()) {
        verdict.blocked = error.output_started ? "output" : "input";
      }
      exchange_.Fail(error, verdict, chunk, dialect_.auth_hint);
      return false;
    }
    if (auto usage = chunk.find("usage"); usage != chunk.end() && usage->is_object()) {
      usage_ = UsageFromOpenAi(*usage);
      usage_seen_ = true;
      if (!out_.ReportUsage(usage_)) return false;
    }
    auto choices = chunk.find("choices");
    if (choices == chunk.end() || !choices->is_array()) return true;
    for (const auto& choice : *choices) {
      if (!choice.is_object() || IntMember(choice, "index", 0) != 0) continue;  // n = 1
      if (!Choice(choice, Member(choice, "delta"))) return false;
    }
    return true;
  }

  /// The stream ended (cleanly when `transport` is empty). Emits FINAL.
  void OnStreamEnd(const std::optional<Status>& transport) {
    if (pending_block_.has_value()) {  // a block outranks a missing terminator
      EmitPendingBlock();
      return;
    }
    if (!done_) {
      exchange_.FailTruncated("data: [DONE]", transport);
      return;
    }
    Finish(nlohmann::json::object());
  }

  /// A buffered response of any status.
  void OnResponse(const HttpResponse& response) {
    const nlohmann::json body = ParseJson(response.body);
    if (response.status / 100 != 2) {
      VendorError error;
      error.http_status = response.status;
      if (!ReadErrorObject(body, &error)) error.message = Snippet(response.body);
      Verdict verdict = dialect_.classify(error);
      if (verdict.code == RG_ERR_PROVIDER_BLOCKED && verdict.blocked.empty()) {
        verdict.blocked = "input";
      }
      exchange_.Fail(error, verdict, body, dialect_.auth_hint);
      return;
    }
    if (body.is_discarded() || !body.is_object()) {
      exchange_.FailMalformed("the response body");
      return;
    }
    VendorError error;
    if (ReadErrorObject(body, &error)) {  // an error envelope with 200
      Verdict verdict = dialect_.classify(error);
      if (verdict.code == RG_ERR_PROVIDER_BLOCKED && verdict.blocked.empty()) {
        verdict.blocked = BlockedSideFromMessage(error.message);
        if (verdict.blocked.empty()) verdict.blocked = "input";
      }
      exchange_.Fail(error, verdict, body, dialect_.auth_hint);
      return;
    }
    auto choices = body.find("choices");
    if (choices == body.end() || !choices->is_array() || choices->empty()) {
      out_.Fail(RG_ERR_PROTOCOL, exchange_.label().Describe() + " answered without choices",
                exchange_.Details(body));
      return;
    }
    if (auto usage = body.find("usage"); usage != body.end() && usage->is_object()) {
      usage_ = UsageFromOpenAi(*usage);
      usage_seen_ = true;
    }
    const nlohmann::json& choice = (*choices)[0];
    if (!Choice(choice, Member(choice, "message"))) {
      if (!out_.finished()) out_.Cancelled();
      return;
    }
    if (usage_seen_) out_.ReportUsage(usage_);
    if (pending_block_.has_value()) {
      EmitPendingBlock(body);
      return;
    }
    Finish(body);
  }

 private:
  static std::string Snippet(const std::string& body) {
    if (body.empty()) return {};
    std::string out = body.substr(0, 200);
    for (char& c : out) {
      if (c == '\n' || c == '\r') c = ' ';
    }
    return out;
  }

  // One choice: `part` is the stream delta or, for a buffered response, the full message.
  // Returns false once the host asked to stop.
  bool Choice(const nlohmann::json& choice, const nlohmann::json& part) {
    bool show = !pending_block_.has_value();
    if (!pending_block_.has_value() && dialect_.inspect_choice) {
      if (auto signal = dialect_.inspect_choice(choice)) {
        // A safety flag while no answer text exists blocks the input; once text was
        // delivered, or when the flagged part itself carries text (generation was cut), it
        // blocks the output. Text that arrives with a flag is never emitted: vendors flag
        // text that must not be shown (Qianfan flag 3) or must be retracted (flag 4).
        const bool has_text = !ContentText(Member(part, "content")).empty();
        pending_side_ = out_.text_bytes() > 0 || has_text ? "output" : "input";
        signal->output_started = out_.text_bytes() > 0;
        pending_block_ = std::move(*signal);
        show = false;
      }
    }
    if (show && part.is_object() && StringMember(part, "delta_tag") != "search_status" &&
        StringMember(choice, "delta_tag") != "search_status") {
      if (auto content = part.find("content"); content != part.end() && !content->is_null()) {
        if (!out_.Text(ContentText(*content))) return false;
      }
      if (auto refusal = part.find("refusal"); refusal != part.end() && refusal->is_string()) {
        refusal_ += refusal->get<std::string>();
      }
      if (auto calls = part.find("tool_calls"); calls != part.end() && calls->is_array()) {
        for (size_t i = 0; i < calls->size(); ++i) {
          if (!(*calls)[i].is_object()) continue;
          if (!out_.ToolCallDelta(tools_.Delta((*calls)[i], i))) return false;
        }
      }
    }
    const nlohmann::json& reason = Member(choice, "finish_reason");
    const VendorFinish finish = ParseFinishReason(reason);
    if (finish == VendorFinish::kContentFilter && !pending_block_.has_value()) {
      VendorError signal;
      signal.code = "content_filter";
      signal.message = "finish_reason content_filter";
      signal.output_started = out_.text_bytes() > 0;
      pending_block_ = std::move(signal);
      pending_side_ = "output";
    } else if (finish != VendorFinish::kNone) {
      finish_ = finish;
      finish_reason_ = JsonScalarText(reason);
    }
    return true;
  }

  void EmitPendingBlock(const nlohmann::json& body = nullptr) {
    if (usage_seen_ && !out_.has_usage()) out_.ReportUsage(usage_);
    exchange_.Fail(*pending_block_, Verdict{RG_ERR_PROVIDER_BLOCKED, pending_side_}, body,
                   dialect_.auth_hint);
  }

  void Finish(const nlohmann::json& body) {
    if (!refusal_.empty()) {  // the model refused instead of answering
      VendorError signal;
      signal.code = "refusal";
      signal.message = refusal_;
      signal.output_started = out_.text_bytes() > 0;
      exchange_.Fail(signal, Verdict{RG_ERR_PROVIDER_BLOCKED, "output"}, body, dialect_.auth_hint);
      return;
    }
    exchange_.Finish(finish_, finish_reason_, body);
  }

  VendorExchange& exchange_;
  EventWriter& out_;
  const Dialect& dialect_;
  ToolCallTracker tools_;
  Usage usage_;
  bool usage_seen_ = false;
  bool done_ = false;
  VendorFinish finish_ = VendorFinish::kNone;
  std::string finish_reason_;  // the vendor's word for finish_
  std::optional<VendorError> pending_block_;
  std::string pending_side_;
  std::string refusal_;
};

/// Runs one chat completion against `dialect`: sends `body` (see BuildRequest), decodes
/// the answer or stream, and emits exactly one FINAL.
inline void Complete(const CallContext& context, EventWriter& out, const Dialect& dialect,
                     const nlohmann::json& body) {
  VendorExchange exchange(context, out, dialect.label);
  Decoder decoder(exchange, dialect);
  const bool stream = body.value("stream", false);
  HttpCall call = JsonPost(dialect.label.endpoint, dialect.path, dialect.headers, body);
  call.headers.emplace_back("Accept", stream ? "text/event-stream" : "application/json");
  call.total_timeout_ms = dialect.total_timeout_ms;
  call.idle_timeout_ms = dialect.idle_timeout_ms;
  exchange.RunDecoder(call, stream, decoder);
}

}  // namespace rg::sdk::openai_compat
