// Alibaba DashScope (vendor-protocols.md §2): OpenAI-compatible mode
// `POST /compatible-mode/v1/chat/completions` and the native text-generation API
// `POST /api/v1/services/aigc/text-generation/generation`.
#include <algorithm>
#include <cctype>

#include "sim_internal.hpp"

namespace rg::tools::sim {
namespace {

constexpr const char* kInputBlocked = "Input data may contain inappropriate content.";
constexpr const char* kOutputBlocked = "Output data may contain inappropriate content.";
constexpr const char* kInternalError =
    "An internal error has occured, please try again later or contact service support.";
constexpr const char* kCapacity =
    "Too many requests. Your requests are being throttled due to system capacity limits. "
    "Please try again later.";
constexpr const char* kRateLimited = "Requests rate limit exceeded, please try again later.";

struct DashScopeCall {
  const SimRequest& request;
  SimState& state;
  std::string request_id;  ///< a UUID; also the x-request-id header and the chatcmpl- suffix
};

Headers CommonHeaders(const DashScopeCall& call, const std::string& content_type, bool finished,
                      bool rate_limited) {
  const int64_t arrive_ms = call.state.Created() * 1000;
  Headers headers = {
      {"Content-Type", content_type},
      {"x-request-id", call.request_id},
      {"x-dashscope-call-gateway", "true"},
  };
  if (finished) headers.emplace_back("x-dashscope-finished", "true");
  headers.emplace_back("req-cost-time", "42");
  headers.emplace_back("req-arrive-time", std::to_string(arrive_ms));
  headers.emplace_back("resp-start-time", std::to_string(arrive_ms + 42));
  headers.emplace_back("x-envoy-upstream-service-time", "40");
  headers.emplace_back("server", "istio-envoy");
  headers.emplace_back("vary",
                       "Origin,Access-Control-Request-Method,Access-Control-Request-Headers");
  if (call.state.options().facts.dashscope_ratelimit_headers) {
    headers.emplace_back("x-ratelimit-limit-requests", "15000");
    headers.emplace_back("x-ratelimit-remaining-requests", rate_limited ? "0" : "14999");
  }
  return headers;
}

bool KeyMatches(const SimRequest& request, const VendorSimOptions& options) {
  const std::string auth = request.Header("authorization");
  return auth.rfind("Bearer ", 0) == 0 && auth.substr(7) == options.dashscope_key;
}

// ---- compatible mode ---------------------------------------------------------------------

ResponsePlan CompatError(const DashScopeCall& call, int status, const std::string& code,
                         const std::string& message, const std::string& type) {
  OJson error;
  error["code"] = code;
  error["param"] = nullptr;
  error["message"] = message;
  error["type"] = type;
  OJson body;
  body["error"] = std::move(error);
  body["id"] = "chatcmpl-" + call.request_id;
  body["request_id"] = call.request_id;
  return BodyPlan(status, CommonHeaders(call, "application/json", true, status == 429), Dump(body));
}

OJson CompatChunk(const std::string& id, int64_t created, const std::string& model, OJson choices,
                  OJson usage) {
  OJson out;
  out["id"] = id;
  out["choices"] = std::move(choices);
  out["created"] = created;
  out["model"] = model;
  out["object"] = "chat.completion.chunk";
  out["service_tier"] = nullptr;
  out["system_fingerprint"] = nullptr;
  out["usage"] = std::move(usage);
  return out;
}

OJson CompatDelta(const OJson& content, const OJson& role) {
  OJson delta;
  delta["content"] = content;
  delta["function_call"] = nullptr;
  delta["refusal"] = nullptr;
  delta["role"] = role;
  delta["tool_calls"] = nullptr;
  return delta;
}

OJson CompatChoice(OJson delta, const OJson& finish_reason) {
  OJson choice;
  choice["delta"] = std::move(delta);
  choice["finish_reason"] = finish_reason;
  choice["index"] = 0;
  choice["logprobs"] = nullptr;
  return OJson::array({std::move(choice)});
}

// ---- native ------------------------------------------------------------------------------

bool WantsSse(const SimRequest& request) {
  std::string sse = request.Header("x-dashscope-sse");
  std::transform(sse.begin(), sse.end(), sse.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return sse == "enable" || request.Header("accept").find("text/event-stream") != std::string::npos;
}

/// Qwen3-Max, Qwen3-VL, QwQ and the Qwen3 open-source models default to
/// result_format=message and incremental_output=true (vendor-protocols.md §2.4).
bool ModernDefaults(const std::string& model) {
  if (model.rfind("qwen3-max", 0) == 0 || model.rfind("qwen3-vl", 0) == 0 ||
      model.rfind("qwq", 0) == 0) {
    return true;
  }
  // Open-source sizes: qwen3-235b-a22b..., qwen3-32b, qwen3-0.6b.
  if (model.rfind("qwen3-", 0) != 0) return false;
  size_t i = 6;
  while (i < model.size() &&
         (std::isdigit(static_cast<unsigned char>(model[i])) != 0 || model[i] == '.')) {
    ++i;
  }
  return i > 6 && i < model.size() && model[i] == 'b';
}

OJson NativeErrorBody(const std::string& code, const std::string& message,
                      const std::string& request_id) {
  OJson body;
  body["code"] = code;
  body["message"] = message;
  body["request_id"] = request_id;
  return body;
}

OJson NativeUsage(int64_t input, int64_t output) {
  OJson usage;
  usage["total_tokens"] = input + output;
  usage["output_tokens"] = output;
  usage["input_tokens"] = input;
  return usage;
}

}  // namespace

ResponsePlan HandleDashScopeCompat(const SimRequest& request, SimState& state) {
  const VendorSimOptions& options = state.options();
  DashScopeCall call{request, state, UuidId("dashscope-compat|" + request.body)};
  if (!KeyMatches(request, options)) {
    return CompatError(call, 401, "invalid_api_key", "Incorrect API key provided. ",
                       "invalid_request_error");
  }
  const std::optional<Json> body = ParseObject(request.body);
  if (!body) {
    return CompatError(call, 400, "invalid_parameter_error", "The request body is not valid JSON.",
                       "invalid_request_error");
  }
  const std::string model = GetString(*body, "model");
  if (model.empty()) {
    return CompatError(call, 400, "invalid_parameter_error", "The model parameter is required.",
                       "invalid_request_error");
  }
  const std::optional<ChatInput> input = ReadMessages(Find(*body, "messages"));
  if (!input || Find(*body, "messages")->empty()) {
    return CompatError(call, 400, "invalid_parameter_error",
                       "The messages parameter must be a non-empty array.",
                       "invalid_request_error");
  }
  Result<Behavior> resolved =
      ResolveBehavior(request, input->marker, "compat|" + input->last_user, state, false);
  if (!resolved) {
    return CompatError(call, 400, "invalid_parameter_error", resolved.error().message,
                       "invalid_request_error");
  }
  const Behavior behavior = resolved.value();
  const bool stream = GetBool(*body, "stream", false);

  ResponsePlan plan;
  switch (behavior.kind) {
    case BehaviorKind::kAuthFailure:
      plan = CompatError(call, 401, "invalid_api_key", "Incorrect API key provided. ",
                         "invalid_request_error");
      break;
    case BehaviorKind::kInputBlock:
      // Observed verbatim (vendor-protocols.md §2.5).
      plan = CompatError(call, options.facts.dashscope_input_block_status, "data_inspection_failed",
                         kInputBlocked, "data_inspection_failed");
      break;
    case BehaviorKind::kOutputBlock:
      if (!stream) {
        plan = CompatError(call, 400, "data_inspection_failed", kOutputBlocked,
                           "data_inspection_failed");
      }
      break;
    case BehaviorKind::kRateLimit: {
      // Observed verbatim: no param, id or request_id in this one.
      OJson error;
      error["message"] =
          "You have exceeded your current request limit. For details, see: "
          "https://help.aliyun.com/zh/model-studio/error-code#rate-limit";
      error["type"] = "limit_requests";
      error["code"] = "limit_requests";
      OJson out;
      out["error"] = std::move(error);
      Headers headers = CommonHeaders(call, "application/json", true, true);
      if (behavior.number >= 0)
        headers.emplace_back("Retry-After", std::to_string(behavior.number));
      plan = BodyPlan(429, std::move(headers), Dump(out));
      break;
    }
    case BehaviorKind::kServerError:
      plan = CompatError(call, 500, "internal_error", kInternalError, "internal_error");
      break;
    case BehaviorKind::kUnavailable:
      plan = CompatError(call, 503, "ModelServingError", kCapacity, "ModelServingError");
      break;
    default:
      break;
  }
  if (!plan.pieces.empty()) {
    plan.behavior = behavior.spec;
    return plan;
  }

  const Answer answer = MakeAnswer(*input, GetInt(*body, "max_tokens"), options.chunk_chars);
  const std::string id = "chatcmpl-" + call.request_id;
  const int64_t created = state.Created();
  const std::string finish = answer.cut_by_length ? "length" : "stop";

  if (!stream) {
    OJson message;
    message["content"] = answer.text;
    message["role"] = "assistant";
    OJson choice;
    choice["finish_reason"] = finish;
    choice["index"] = 0;
    choice["logprobs"] = nullptr;
    choice["message"] = std::move(message);
    OJson usage;
    usage["prompt_tokens"] = answer.prompt_tokens;
    usage["completion_tokens"] = answer.completion_tokens;
    usage["total_tokens"] = answer.prompt_tokens + answer.completion_tokens;
    usage["prompt_tokens_details"] = {{"cached_tokens", 0}};
    OJson out;
    out["id"] = id;
    out["choices"] = OJson::array({std::move(choice)});
    out["created"] = created;
    out["model"] = model;
    out["object"] = "chat.completion";
    out["service_tier"] = nullptr;
    out["system_fingerprint"] = nullptr;
    out["usage"] = std::move(usage);
    plan = BodyPlan(200, CommonHeaders(call, "application/json", true, false), Dump(out));
    ApplyBodyFaults(behavior, plan);
    plan.behavior = behavior.spec;
    return plan;
  }

  const Json* stream_options = Find(*body, "stream_options");
  const bool include_usage =
      stream_options != nullptr && GetBool(*stream_options, "include_usage", false);
  const bool blocked = behavior.kind == BehaviorKind::kOutputBlock;
  const size_t shown = blocked ? PartialPieceCount(answer.pieces.size()) : answer.pieces.size();

  std::vector<StreamEvent> events;
  events.push_back({Dump(CompatChunk(
      id, created, model, CompatChoice(CompatDelta("", "assistant"), nullptr), nullptr))});
  for (size_t i = 0; i < shown; ++i) {
    events.push_back(
        {Dump(CompatChunk(id, created, model,
                          CompatChoice(CompatDelta(answer.pieces[i], nullptr), nullptr), nullptr)),
         true});
  }
  if (blocked) {
    OJson error;
    error["code"] = "data_inspection_failed";
    error["param"] = nullptr;
    error["message"] = kOutputBlocked;
    error["type"] = "data_inspection_failed";
    OJson out;
    out["error"] = std::move(error);
    out["id"] = id;
    events.push_back({Dump(out)});
    if (options.facts.dashscope_compat_done_after_error) events.push_back({"[DONE]"});
  } else {
    events.push_back({Dump(
        CompatChunk(id, created, model, CompatChoice(CompatDelta("", nullptr), finish), nullptr))});
    if (include_usage) {
      OJson usage;
      usage["completion_tokens"] = answer.completion_tokens;
      usage["prompt_tokens"] = answer.prompt_tokens;
      usage["total_tokens"] = answer.prompt_tokens + answer.completion_tokens;
      usage["completion_tokens_details"] = nullptr;
      OJson details;
      details["audio_tokens"] = nullptr;
      details["cached_tokens"] = 0;
      usage["prompt_tokens_details"] = std::move(details);
      events.push_back({Dump(CompatChunk(id, created, model, OJson::array(), std::move(usage)))});
    }
    events.push_back({"[DONE]"});
  }
  plan = StreamPlan(CommonHeaders(call, "text/event-stream;charset=UTF-8", false, false),
                    std::move(events), Framing::kDataSpace, behavior);
  plan.behavior = behavior.spec;
  return plan;
}

ResponsePlan HandleDashScopeNative(const SimRequest& request, SimState& state) {
  const VendorSimOptions& options = state.options();
  DashScopeCall call{request, state, UuidId("dashscope-native|" + request.body)};
  const bool sse = WantsSse(request);
  std::string behavior_spec = "normal";

  // Before generation starts: a plain HTTP error, or (SSE, as observed) HTTP 200 with one
  // event:error frame carrying the real status.
  const auto error = [&](int status, const std::string& code, const std::string& message,
                         bool allow_event) {
    const OJson body = NativeErrorBody(code, message, call.request_id);
    if (sse && allow_event && options.facts.dashscope_native_sse_errors_as_events) {
      ResponsePlan plan = StreamPlan(
          CommonHeaders(call, "text/event-stream;charset=UTF-8", true, status == 429),
          {StreamEvent{Dump(body), false, "error", status}}, Framing::kDashScopeNative, Behavior{});
      plan.behavior = behavior_spec;
      return plan;
    }
    ResponsePlan plan =
        BodyPlan(status, CommonHeaders(call, "application/json", true, status == 429), Dump(body));
    plan.behavior = behavior_spec;
    return plan;
  };

  if (!KeyMatches(request, options)) {
    return error(401, "InvalidApiKey", "Invalid API-key provided.", false);
  }
  const std::optional<Json> body = ParseObject(request.body);
  if (!body) {
    return error(400, "BadRequest.IllegalInput", "The request body is not valid JSON.", true);
  }
  const std::string model = GetString(*body, "model");
  if (model.empty()) {
    return error(400, "BadRequest.EmptyModel", "Required parameter \"model\" missing from request.",
                 true);
  }
  const Json* in = Find(*body, "input");
  if (in == nullptr || !in->is_object()) {
    if (Find(*body, "messages") != nullptr) {
      return error(400, "InvalidParameter",
                   "Either \"prompt\" or \"messages\" must exist and cannot both be none", true);
    }
    return error(400, "BadRequest.EmptyInput", "Required input parameter missing from request.",
                 true);
  }
  std::optional<ChatInput> input = ReadMessages(Find(*in, "messages"));
  if (!input || input->last_user.empty()) {
    const std::string prompt = GetString(*in, "prompt");  // the legacy prompt + history form
    if (prompt.empty() && (!input || Find(*in, "messages")->empty())) {
      return error(400, "InvalidParameter",
                   "Either \"prompt\" or \"messages\" must exist and cannot both be none", true);
    }
    if (!prompt.empty()) {
      ChatInput legacy;
      legacy.last_user = prompt;
      legacy.input_code_points = CountCodePoints(prompt);
      legacy.marker = FindMarker(prompt);
      legacy.prompt = legacy.marker.stripped;
      input = legacy;
    }
  }
  const Json empty_object = Json::object();
  const Json* parameters = Find(*body, "parameters");
  if (parameters == nullptr || !parameters->is_object()) parameters = &empty_object;

  Result<Behavior> resolved =
      ResolveBehavior(request, input->marker, "native|" + input->last_user, state, false);
  if (!resolved) return error(400, "InvalidParameter", resolved.error().message, true);
  const Behavior behavior = resolved.value();
  behavior_spec = behavior.spec;

  switch (behavior.kind) {
    case BehaviorKind::kAuthFailure:
      return error(401, "InvalidApiKey", "Invalid API-key provided.", false);
    case BehaviorKind::kInputBlock:
      return error(options.facts.dashscope_input_block_status, "DataInspectionFailed",
                   kInputBlocked, true);
    case BehaviorKind::kOutputBlock:
      if (!sse) return error(400, "DataInspectionFailed", kOutputBlocked, false);
      break;
    case BehaviorKind::kRateLimit: {
      ResponsePlan plan = error(429, "Throttling.RateQuota", kRateLimited, true);
      if (behavior.number >= 0) {
        plan.headers.emplace_back("Retry-After", std::to_string(behavior.number));
      }
      return plan;
    }
    case BehaviorKind::kServerError:
      return error(500, "InternalError", kInternalError, true);
    case BehaviorKind::kUnavailable:
      return error(503, "ModelServingError", kCapacity, true);
    default:
      break;
  }

  const bool modern = ModernDefaults(model);
  const std::string format_name = GetString(*parameters, "result_format");
  const bool message_format = format_name.empty() ? modern : format_name == "message";
  const bool incremental = GetBool(*parameters, "incremental_output", modern);
  const Answer answer = MakeAnswer(*input, GetInt(*parameters, "max_tokens"), options.chunk_chars);
  const std::string finish = answer.cut_by_length ? "length" : "stop";

  if (!sse) {
    OJson output;
    if (message_format) {
      OJson message;
      message["role"] = "assistant";
      message["content"] = answer.text;
      OJson choice;
      choice["finish_reason"] = finish;
      choice["message"] = std::move(message);
      output["choices"] = OJson::array({std::move(choice)});
    } else {
      output["finish_reason"] = finish;
      output["text"] = answer.text;
    }
    OJson out;
    out["output"] = std::move(output);
    out["usage"] = NativeUsage(answer.prompt_tokens, answer.completion_tokens);
    out["request_id"] = call.request_id;
    ResponsePlan plan =
        BodyPlan(200, CommonHeaders(call, "application/json", true, false), Dump(out));
    ApplyBodyFaults(behavior, plan);
    plan.behavior = behavior.spec;
    return plan;
  }

  const auto event = [&](const std::string& text, const std::string& finish_reason,
                         int64_t output_tokens) {
    OJson output;
    if (message_format) {
      OJson message;
      message["content"] = text;
      message["role"] = "assistant";
      OJson choice;
      choice["message"] = std::move(message);
      choice["finish_reason"] = finish_reason;
      output["choices"] = OJson::array({std::move(choice)});
    } else {
      output["finish_reason"] = finish_reason;
      output["text"] = text;
    }
    OJson out;
    out["output"] = std::move(output);
    out["usage"] = NativeUsage(answer.prompt_tokens, output_tokens);
    out["request_id"] = call.request_id;
    return Dump(out);
  };

  const bool blocked = behavior.kind == BehaviorKind::kOutputBlock;
  const size_t shown = blocked ? PartialPieceCount(answer.pieces.size()) : answer.pieces.size();
  std::vector<StreamEvent> events;
  for (size_t i = 0; i < shown; ++i) {
    const std::string so_far = JoinPieces(answer.pieces, i + 1);
    // Usage is cumulative in every event; finish_reason is the string "null" meanwhile.
    events.push_back(
        {event(incremental ? answer.pieces[i] : so_far, "null", TokenCount(so_far)), true});
  }
  if (blocked) {
    events.push_back(
        {Dump(NativeErrorBody("DataInspectionFailed", kOutputBlocked, call.request_id)), false,
         "error", 400});
  } else {
    events.push_back({event(incremental ? "" : answer.text, finish, answer.completion_tokens)});
  }
  // No terminator: the body simply ends after the final event.
  ResponsePlan plan =
      StreamPlan(CommonHeaders(call, "text/event-stream;charset=UTF-8", false, false),
                 std::move(events), Framing::kDashScopeNative, behavior);
  plan.behavior = behavior.spec;
  return plan;
}

}  // namespace rg::tools::sim
