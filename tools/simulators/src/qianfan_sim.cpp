// Baidu Qianfan (vendor-protocols.md §3): v2 `POST /v2/chat/completions` (bearer key), v1
// OAuth `POST /oauth/2.0/token` and v1 `POST /rpc/2.0/ai_custom/v1/wenxinworkshop/chat/{suffix}`.
#include <algorithm>

#include "sim_internal.hpp"

namespace rg::tools {

const std::vector<std::pair<std::string, std::string>>& QianfanV1Suffixes() {
  static const std::vector<std::pair<std::string, std::string>> table = {
      {"ERNIE-4.0-8K", "completions_pro"},
      {"ERNIE-4.0-8K-Preemptible", "completions_pro_preemptible"},
      {"ERNIE-4.0-8K-Preview-0518", "completions_adv_pro"},
      {"ERNIE-4.0-8K-Latest", "ernie-4.0-8k-latest"},
      {"ERNIE-4.0-Turbo-8K", "ernie-4.0-turbo-8k"},
      {"ERNIE-3.5-8K", "completions"},
      {"ERNIE-3.5-128K", "ernie-3.5-128k"},
      {"ERNIE-Speed-8K", "ernie_speed"},
      {"ERNIE-Speed-128K", "ernie-speed-128k"},
      {"ERNIE-Lite-8K", "ernie-lite-8k"},
      {"ERNIE-Tiny-8K", "ernie-tiny-8k"},
      {"ERNIE-Character-8K", "ernie-char-8k"},
      {"ERNIE-Function-8K", "ernie-func-8k"},
  };
  return table;
}

const std::vector<std::string>& QianfanV2KnownModels() {
  static const std::vector<std::string> models = {
      "ernie-4.0-8k",
      "ernie-4.0-8k-latest",
      "ernie-4.0-turbo-8k",
      "ernie-3.5-8k",
      "ernie-3.5-128k",
      "ernie-speed-128k",
      "ernie-lite-8k",
      "ernie-4.5-turbo-128k",
      "ernie-4.5-turbo-vl",
      "ernie-4.5-8k",
      "ernie-4.5-21b-a3b",
      "ernie-4.5-vl-28b-a3b",
      "ernie-4.5-0.3b",
      "ernie-x1-turbo-32k",
      "ernie-x1.1-preview",
      "ernie-5.0",
      "ernie-5.0-thinking-preview",
      "deepseek-v3.1-250821",
      "deepseek-v3.2",
  };
  return models;
}

namespace sim {
namespace {

constexpr int kRequestLimit = 300;
constexpr int kInputTokenLimit = 300000;
constexpr int kOutputTokenLimit = 100000;

// ---- v2 ----------------------------------------------------------------------------------

struct V2Call {
  const SimRequest& request;
  SimState& state;
  std::string id;  ///< "as-" + 10 lower-case alphanumerics
};

Headers V2Headers(const V2Call& call, const std::string& content_type, bool rate_limited,
                  int64_t input_tokens, int64_t output_tokens) {
  return {
      {"Content-Type", content_type},
      {"X-Baidu-Request-Id", UuidId(call.id)},
      {"X-Ratelimit-Limit-Requests", std::to_string(kRequestLimit)},
      {"X-Ratelimit-Limit-Input-Tokens", std::to_string(kInputTokenLimit)},
      {"X-Ratelimit-Limit-Output-Tokens", std::to_string(kOutputTokenLimit)},
      {"X-Ratelimit-Remaining-Requests", rate_limited ? "0" : std::to_string(kRequestLimit - 1)},
      {"X-Ratelimit-Remaining-Input-Tokens",
       rate_limited ? "0" : std::to_string(kInputTokenLimit - input_tokens)},
      {"X-Ratelimit-Remaining-Output-Tokens",
       rate_limited ? "0" : std::to_string(kOutputTokenLimit - output_tokens)},
  };
}

ResponsePlan V2Error(const V2Call& call, int status, const std::string& code,
                     const std::string& message, const std::string& type) {
  OJson error;
  error["code"] = code;
  error["message"] = message;
  error["type"] = type;
  OJson body;
  body["error"] = std::move(error);
  body["id"] = call.id;
  return BodyPlan(status, V2Headers(call, "application/json", status == 429, 0, 0), Dump(body));
}

OJson V2Usage(int64_t prompt, int64_t completion) {
  OJson usage;
  usage["prompt_tokens"] = prompt;
  usage["completion_tokens"] = completion;
  usage["total_tokens"] = prompt + completion;
  return usage;
}

// ---- v1 ----------------------------------------------------------------------------------

Headers V1Headers(const VendorSimOptions& options, const std::string& content_type,
                  bool rate_limited) {
  Headers headers = {
      {"Content-Type", content_type},
      {"X-Ratelimit-Limit-Requests", std::to_string(kRequestLimit)},
      {"X-Ratelimit-Limit-Tokens", std::to_string(kInputTokenLimit)},
  };
  if (options.facts.qianfan_v1_ratelimit_remaining) {
    headers.emplace_back("X-Ratelimit-Remaining-Requests",
                         rate_limited ? "0" : std::to_string(kRequestLimit - 1));
    headers.emplace_back("X-Ratelimit-Remaining-Tokens",
                         rate_limited ? "0" : std::to_string(kInputTokenLimit - 1));
  }
  return headers;
}

/// v1 errors are JSON, usually on HTTP 200, even when a stream was requested.
ResponsePlan V1Error(const VendorSimOptions& options, int code, const std::string& message) {
  OJson body;
  body["error_code"] = code;
  body["error_msg"] = message;
  return BodyPlan(options.facts.qianfan_v1_error_status,
                  V1Headers(options, "application/json", code == 336501 || code == 18), Dump(body));
}

std::string FormValue(const SimRequest& request, const std::string& key) {
  auto it = request.query.find(key);
  return it == request.query.end() ? std::string() : it->second;
}

}  // namespace

ResponsePlan HandleQianfanV2(const SimRequest& request, SimState& state) {
  const VendorSimOptions& options = state.options();
  V2Call call{request, state, "as-" + AlnumId("qianfan-v2|" + request.body, 10, true)};

  const std::string auth = request.Header("authorization");
  if (auth.rfind("Bearer ", 0) != 0 || auth.substr(7) != options.qianfan_key) {
    return V2Error(call, 401, "invalid_iam_token", "invalid_iam_token", "invalid_request_error");
  }
  const std::optional<Json> body = ParseObject(request.body);
  if (!body) {
    return V2Error(call, 400, "malformed_json", "The request body is not valid JSON.",
                   "invalid_request_error");
  }
  const std::string model = GetString(*body, "model");
  const auto& known = QianfanV2KnownModels();
  const auto& extra = options.qianfan_v2_extra_models;
  if (std::find(known.begin(), known.end(), model) == known.end() &&
      std::find(extra.begin(), extra.end(), model) == extra.end()) {
    // Observed: an unknown model is a 401, not a 404.
    return V2Error(call, 401, "invalid_model",
                   "The model does not exist or you do not have access to it.",
                   "invalid_request_error");
  }
  const std::optional<ChatInput> input = ReadMessages(Find(*body, "messages"));
  if (!input || Find(*body, "messages")->empty()) {
    return V2Error(call, 400, "invalid_argument", "messages cannot be empty",
                   "invalid_request_error");
  }
  Result<Behavior> resolved =
      ResolveBehavior(request, input->marker, "qianfan-v2|" + input->last_user, state, false);
  if (!resolved) {
    return V2Error(call, 400, "invalid_argument", resolved.error().message,
                   "invalid_request_error");
  }
  const Behavior behavior = resolved.value();

  ResponsePlan plan;
  switch (behavior.kind) {
    case BehaviorKind::kAuthFailure:
      plan = V2Error(call, 401, "invalid_iam_token", "invalid_iam_token", "invalid_request_error");
      break;
    case BehaviorKind::kRateLimit:
      plan = V2Error(call, 429, "rpm_rate_limit_exceeded", "Rate limit reached for RPM",
                     "rate_limit_exceeded");
      if (behavior.number >= 0) {
        plan.headers.emplace_back("Retry-After", std::to_string(behavior.number));
      }
      break;
    case BehaviorKind::kServerError:
      plan = V2Error(call, 500, "internal_error", "Internal error", "internal_error");
      break;
    case BehaviorKind::kUnavailable:
      plan = V2Error(call, 503, "service_unavailable", "Service temporarily unavailable",
                     "internal_error");
      break;
    default:
      break;
  }
  if (!plan.pieces.empty()) {
    plan.behavior = behavior.spec;
    return plan;
  }

  std::optional<int64_t> max_tokens = GetInt(*body, "max_completion_tokens");
  if (!max_tokens) max_tokens = GetInt(*body, "max_tokens");
  const Answer answer = MakeAnswer(*input, max_tokens, options.chunk_chars);
  const bool input_block = behavior.kind == BehaviorKind::kInputBlock;
  const bool output_block = behavior.kind == BehaviorKind::kOutputBlock;
  const int flag = static_cast<int>(behavior.number >= 0 ? behavior.number
                                    : input_block        ? options.facts.qianfan_input_block_flag
                                                         : options.facts.qianfan_output_block_flag);
  const size_t shown = input_block    ? 0
                       : output_block ? PartialPieceCount(answer.pieces.size())
                                      : answer.pieces.size();
  const std::string text =
      input_block ? options.facts.qianfan_block_text : JoinPieces(answer.pieces, shown);
  const int64_t completion = TokenCount(text);
  const std::string finish = input_block || output_block ? "content_filter"
                             : answer.cut_by_length      ? "length"
                                                         : "stop";
  const int64_t created = state.Created();
  const bool blocked = input_block || output_block;
  const bool stream = GetBool(*body, "stream", false);

  if (!stream) {
    OJson message;
    message["role"] = "assistant";
    message["content"] = text;
    OJson choice;
    choice["index"] = 0;
    choice["message"] = std::move(message);
    choice["finish_reason"] = finish;
    choice["flag"] = blocked ? flag : 0;
    if (blocked) choice["ban_round"] = -1;
    OJson out;
    out["id"] = call.id;
    out["object"] = "chat.completion";
    out["created"] = created;
    out["model"] = model;
    out["choices"] = OJson::array({std::move(choice)});
    out["usage"] = V2Usage(answer.prompt_tokens, completion);
    plan =
        BodyPlan(200, V2Headers(call, "application/json", false, answer.prompt_tokens, completion),
                 Dump(out));
    ApplyBodyFaults(behavior, plan);
    plan.behavior = behavior.spec;
    return plan;
  }

  const Json* stream_options = Find(*body, "stream_options");
  const bool include_usage =
      stream_options != nullptr && GetBool(*stream_options, "include_usage", false);
  const bool chunk_usage =
      stream_options != nullptr && GetBool(*stream_options, "chunk_include_usage", false);
  const auto chunk = [&](OJson choices, int64_t completion_so_far) {
    OJson out;
    out["id"] = call.id;
    out["object"] = options.facts.qianfan_v2_chunk_object;
    out["created"] = created;
    out["model"] = model;
    out["choices"] = std::move(choices);
    if (chunk_usage) out["usage"] = V2Usage(answer.prompt_tokens, completion_so_far);
    return Dump(out);
  };
  const auto choice = [](OJson delta, const OJson& finish_reason, int choice_flag,
                         bool with_ban_round) {
    OJson c;
    c["index"] = 0;
    c["delta"] = std::move(delta);
    c["finish_reason"] = finish_reason;
    c["flag"] = choice_flag;
    if (with_ban_round) c["ban_round"] = -1;
    return OJson::array({std::move(c)});
  };

  std::vector<StreamEvent> events;
  for (size_t i = 0; i < shown; ++i) {
    OJson delta;
    if (i == 0) delta["role"] = "assistant";
    delta["content"] = answer.pieces[i];
    events.push_back({chunk(choice(std::move(delta), nullptr, 0, false),
                            TokenCount(JoinPieces(answer.pieces, i + 1))),
                      true});
  }
  OJson last_delta;
  if (shown == 0) last_delta["role"] = "assistant";
  last_delta["content"] = input_block ? text : std::string();
  events.push_back(
      {chunk(choice(std::move(last_delta), finish, blocked ? flag : 0, blocked), completion)});
  if (include_usage) {
    OJson out;
    out["id"] = call.id;
    out["object"] = options.facts.qianfan_v2_chunk_object;
    out["created"] = created;
    out["model"] = model;
    out["choices"] = OJson::array();
    out["usage"] = V2Usage(answer.prompt_tokens, completion);
    events.push_back({Dump(out)});
  }
  events.push_back({"[DONE]"});
  plan = StreamPlan(V2Headers(call, "text/event-stream", false, answer.prompt_tokens, completion),
                    std::move(events), Framing::kDataSpace, behavior);
  plan.behavior = behavior.spec;
  return plan;
}

ResponsePlan HandleQianfanToken(const SimRequest& request, SimState& state) {
  const VendorSimOptions& options = state.options();
  const auto oauth_error = [](int status, const std::string& error,
                              const std::string& description) {
    OJson body;
    body["error"] = error;
    body["error_description"] = description;
    return BodyPlan(status, {{"Content-Type", "application/json"}}, Dump(body));
  };
  // The token endpoint has no prompt: only the X-Sim-Behavior header applies to it.
  Behavior behavior;
  const std::string header = request.Header("x-sim-behavior");
  if (!header.empty()) {
    Result<Behavior> parsed = ParseBehavior(header, "header X-Sim-Behavior");
    if (!parsed) return oauth_error(400, "invalid_request", parsed.error().message);
    behavior = parsed.value();
  }
  ResponsePlan plan;
  if (FormValue(request, "grant_type") != "client_credentials") {
    plan =
        oauth_error(400, "unsupported_grant_type", "The authorization grant type is not supported");
  } else if (behavior.kind == BehaviorKind::kAuthFailure ||
             FormValue(request, "client_id") != options.qianfan_ak) {
    plan = oauth_error(401, "invalid_client", "unknown client id");
  } else if (FormValue(request, "client_secret") != options.qianfan_sk) {
    plan = oauth_error(401, "invalid_client", "Client authentication failed");
  } else if (behavior.kind == BehaviorKind::kServerError ||
             behavior.kind == BehaviorKind::kUnavailable) {
    plan = oauth_error(behavior.kind == BehaviorKind::kServerError ? 500 : 503, "server_error",
                       "Service temporarily unavailable");
  } else {
    const auto [token, expires_in] = state.IssueToken(options.qianfan_ak);
    const std::string seed = token;
    OJson body;
    body["refresh_token"] = "25." + HexId(seed + "|refresh", 32) + "." +
                            std::to_string(expires_in * 10) + ".1700000000.282335-sim";
    body["expires_in"] = expires_in;
    body["session_key"] = HexId(seed + "|session-key", 48);
    body["access_token"] = token;
    body["scope"] =
        "public brain_all_scope wenxinworkshop_mgr ai_custom_yiyan_com "
        "ai_custom_yiyan_com_eb_instant";
    body["session_secret"] = HexId(seed + "|session-secret", 32);
    plan = BodyPlan(200, {{"Content-Type", "application/json"}}, Dump(body));
    ApplyFirstByteDelay(behavior, plan);
  }
  plan.behavior = behavior.spec.empty() ? "normal" : behavior.spec;
  return plan;
}

ResponsePlan HandleQianfanV1(const SimRequest& request, const std::string& suffix,
                             SimState& state) {
  const VendorSimOptions& options = state.options();
  const std::string token = FormValue(request, "access_token");
  switch (state.CheckToken(token)) {
    case SimState::TokenCheck::kInvalid:
      return V1Error(options, 110, "Access token invalid or no longer valid");
    case SimState::TokenCheck::kExpired:
      return V1Error(options, 111, "Access token expired");
    case SimState::TokenCheck::kValid:
      break;
  }
  const auto& table = QianfanV1Suffixes();
  if (std::none_of(table.begin(), table.end(),
                   [&](const auto& row) { return row.second == suffix; })) {
    return V1Error(options, 336005, "API name not exist");
  }
  const std::optional<Json> body = ParseObject(request.body);
  if (!body) return V1Error(options, 336002, "Invalid JSON");
  const Json* messages = Find(*body, "messages");
  std::optional<ChatInput> input = ReadMessages(messages);
  if (!input || messages->empty() || messages->size() % 2 == 0) {
    return V1Error(options, 336003, "the length of messages must be an odd number");
  }
  for (size_t i = 0; i < messages->size(); ++i) {
    const Json& message = (*messages)[i];
    const std::string role = GetString(message, "role");
    if (i % 2 == 0 && role != "user" && !(role == "function" && i > 0)) {
      return V1Error(
          options, 336003,
          "the role of message with even index in the messages must be user or function");
    }
    if (i % 2 == 1 && role != "assistant") {
      return V1Error(options, 336003,
                     "the role of message with odd index in the messages must be assistant");
    }
    const Json* content = Find(message, "content");
    if (content == nullptr || ContentText(*content).empty()) {
      return V1Error(options, 336003, "the content of message must not be empty");
    }
  }
  Result<Behavior> resolved =
      ResolveBehavior(request, input->marker, "qianfan-v1|" + input->last_user, state, true);
  if (!resolved) return V1Error(options, 336003, resolved.error().message);
  const Behavior behavior = resolved.value();

  ResponsePlan plan;
  switch (behavior.kind) {
    case BehaviorKind::kAuthFailure:
      plan = V1Error(options, 110, "Access token invalid or no longer valid");
      break;
    case BehaviorKind::kExpireToken:
      if (state.Bump("expire-token|" + input->last_user) <= behavior.number) {
        state.RevokeToken(token);
        plan = V1Error(options, 111, "Access token expired");
      }
      break;
    case BehaviorKind::kRateLimit:
      plan = V1Error(options, 336501, "Rate limit reached for RPM");
      if (behavior.number >= 0) {
        plan.headers.emplace_back("Retry-After", std::to_string(behavior.number));
      }
      break;
    case BehaviorKind::kServerError:
      plan = V1Error(options, 336000, "Internal error");
      break;
    case BehaviorKind::kUnavailable:
      plan = V1Error(options, 336100, "Server high load, try again");
      break;
    default:
      break;
  }
  if (!plan.pieces.empty()) {
    plan.behavior = behavior.spec;
    return plan;
  }

  const Answer answer = MakeAnswer(*input, GetInt(*body, "max_output_tokens"), options.chunk_chars);
  const bool input_block = behavior.kind == BehaviorKind::kInputBlock;
  const bool output_block = behavior.kind == BehaviorKind::kOutputBlock;
  const int flag = static_cast<int>(behavior.number >= 0 ? behavior.number
                                    : input_block        ? options.facts.qianfan_input_block_flag
                                                         : options.facts.qianfan_output_block_flag);
  const size_t shown = input_block    ? 0
                       : output_block ? PartialPieceCount(answer.pieces.size())
                                      : answer.pieces.size();
  const std::string id = "as-" + AlnumId("qianfan-v1|" + request.body, 10, true);
  const int64_t created = state.Created();
  const std::string finish = output_block           ? "content_filter"
                             : answer.cut_by_length ? "length"
                                                    : "normal";

  // One response object. Field order: the documented answer puts `result` before
  // `is_truncated`; the SDK's stream mock puts sentence_id/is_end/is_truncated first.
  const auto object = [&](std::optional<int64_t> sentence_id, bool is_end,
                          const std::string& result, bool with_finish,
                          std::optional<int64_t> completion) {
    const bool truncated = answer.cut_by_length && is_end && !output_block && !input_block;
    OJson out;
    out["id"] = id;
    out["object"] = "chat.completion";
    out["created"] = created;
    if (sentence_id) {
      out["sentence_id"] = *sentence_id;
      out["is_end"] = is_end;
      out["is_truncated"] = truncated;
      out["result"] = result;
    } else {
      out["result"] = result;
      out["is_truncated"] = truncated;
    }
    out["need_clear_history"] = input_block;
    // An output block flags only the object where safety triggered (the last one), as the
    // v2 stream does: the sentences streamed before it were delivered unflagged.
    if (input_block || (output_block && is_end)) {
      out["ban_round"] = -1;
      out["flag"] = flag;
    }
    if (with_finish) out["finish_reason"] = input_block ? "normal" : finish;
    if (completion) out["usage"] = V2Usage(answer.prompt_tokens, *completion);
    return Dump(out);
  };

  const std::string block_text = options.facts.qianfan_block_text;
  if (!GetBool(*body, "stream", false)) {
    const std::string text = input_block ? block_text : JoinPieces(answer.pieces, shown);
    plan = BodyPlan(200, V1Headers(options, "application/json", false),
                    object(std::nullopt, true, text, true, TokenCount(text)));
    ApplyBodyFaults(behavior, plan);
    plan.behavior = behavior.spec;
    return plan;
  }

  const bool cumulative = options.facts.qianfan_v1_cumulative_stream_usage;
  std::vector<StreamEvent> events;
  if (input_block) {
    events.push_back({object(0, true, block_text, true, TokenCount(block_text))});
  } else {
    for (size_t i = 0; i < shown; ++i) {
      // Without a block, the last sentence is also the end of the answer (no [DONE]).
      const bool last = !output_block && i + 1 == shown;
      const int64_t so_far = TokenCount(JoinPieces(answer.pieces, i + 1));
      events.push_back({object(static_cast<int64_t>(i), last, answer.pieces[i], last,
                               cumulative || last ? std::optional<int64_t>(so_far) : std::nullopt),
                        true});
    }
    if (output_block) {
      events.push_back({object(static_cast<int64_t>(shown), true, "", true,
                               TokenCount(JoinPieces(answer.pieces, shown)))});
    } else if (shown == 0) {
      events.push_back({object(0, true, "", true, 0)});
    }
  }
  plan = StreamPlan(V1Headers(options, "text/event-stream", false), std::move(events),
                    Framing::kDataSpace, behavior);
  plan.behavior = behavior.spec;
  return plan;
}

}  // namespace sim
}  // namespace rg::tools
