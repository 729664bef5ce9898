// OpenAI chat completions (vendor-protocols.md §1): `POST /v1/chat/completions`.
#include <algorithm>

#include "sim_internal.hpp"

namespace rg::tools::sim {
namespace {

constexpr int kRequestLimit = 500;
constexpr int kTokenLimit = 30000;

struct OpenAiCall {
  const SimRequest& request;
  SimState& state;
  std::string seed;
  std::string request_id;
};

Headers CommonHeaders(const OpenAiCall& call, const std::string& content_type, bool rate_limited,
                      int64_t tokens) {
  return {
      {"Content-Type", content_type},
      {"x-request-id", call.request_id},
      {"openai-organization", "user-sim"},
      {"openai-processing-ms", "42"},
      {"openai-version", "2020-10-01"},
      {"access-control-expose-headers", "X-Request-ID"},
      {"x-ratelimit-limit-requests", std::to_string(kRequestLimit)},
      {"x-ratelimit-limit-tokens", std::to_string(kTokenLimit)},
      {"x-ratelimit-remaining-requests", rate_limited ? "0" : std::to_string(kRequestLimit - 1)},
      {"x-ratelimit-remaining-tokens", std::to_string(std::max<int64_t>(0, kTokenLimit - tokens))},
      {"x-ratelimit-reset-requests", "6ms"},
      {"x-ratelimit-reset-tokens", "40ms"},
  };
}

ResponsePlan Error(const OpenAiCall& call, int status, const std::string& message,
                   const std::string& type, const OJson& param, const OJson& code,
                   Headers extra = {}) {
  OJson error;
  error["message"] = message;
  error["type"] = type;
  error["param"] = param;
  error["code"] = code;
  OJson body;
  body["error"] = std::move(error);
  Headers headers = CommonHeaders(call, "application/json", status == 429, 0);
  for (auto& header : extra) headers.push_back(std::move(header));
  return BodyPlan(status, std::move(headers), Dump(body));
}

std::string MaskKey(const std::string& key) {
  if (key.size() <= 8) return std::string(key.size(), '*');
  return key.substr(0, 3) + std::string(key.size() - 7, '*') + key.substr(key.size() - 4);
}

ResponsePlan AuthFailure(const OpenAiCall& call, const std::string& given_key) {
  const auto& facts = call.state.options().facts;
  if (given_key.empty()) {
    return Error(call, 401,
                 "You didn't provide an API key. You need to provide your API key in an "
                 "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), "
                 "or as the password field (i.e. username: API key, password: YOUR_KEY). You "
                 "can obtain an API key from https://platform.openai.com/account/api-keys.",
                 "invalid_request_error", nullptr, nullptr);
  }
  return Error(call, 401,
               "Incorrect API key provided: " + MaskKey(given_key) +
                   ". You can find your API key at https://platform.openai.com/account/api-keys.",
               "invalid_request_error", nullptr, facts.openai_auth_error_code);
}

bool RejectsMaxTokens(const std::string& model, const VendorFacts& facts) {
  if (model.find("-chat") != std::string::npos) return false;
  return std::any_of(facts.openai_reasoning_prefixes.begin(), facts.openai_reasoning_prefixes.end(),
                     [&](const std::string& prefix) { return model.rfind(prefix, 0) == 0; });
}

OJson Usage(int64_t prompt, int64_t completion) {
  OJson usage;
  usage["prompt_tokens"] = prompt;
  usage["completion_tokens"] = completion;
  usage["total_tokens"] = prompt + completion;
  usage["prompt_tokens_details"] = {{"cached_tokens", 0}, {"audio_tokens", 0}};
  OJson details;
  details["reasoning_tokens"] = 0;
  details["audio_tokens"] = 0;
  details["accepted_prediction_tokens"] = 0;
  details["rejected_prediction_tokens"] = 0;
  usage["completion_tokens_details"] = std::move(details);
  return usage;
}

constexpr const char* kRefusalText = "I'm sorry, but I can't help with that.";

}  // namespace

ResponsePlan HandleOpenAi(const SimRequest& request, SimState& state) {
  const VendorSimOptions& options = state.options();
  OpenAiCall call{request, state, "openai|" + request.body, ""};
  call.request_id = "req_" + HexId(call.seed + "|request-id", 32);

  const std::string auth = request.Header("authorization");
  const std::string given_key = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : std::string();
  if (given_key != options.openai_key) return AuthFailure(call, given_key);

  const std::optional<Json> body = ParseObject(request.body);
  if (!body) {
    return Error(call, 400,
                 "We could not parse the JSON body of your request. (HINT: This likely means "
                 "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
                 "payload, but what was sent was not valid JSON. If you have trouble figuring "
                 "out how to fix this, please contact us through our help center at "
                 "help.openai.com.)",
                 "invalid_request_error", nullptr, nullptr);
  }
  const std::string model = GetString(*body, "model");
  if (model.empty()) {
    return Error(call, 400, "you must provide a model parameter", "invalid_request_error", nullptr,
                 nullptr);
  }
  const std::optional<ChatInput> input = ReadMessages(Find(*body, "messages"));
  if (!input) {
    return Error(call, 400, "Missing required parameter: 'messages'.", "invalid_request_error",
                 "messages", "missing_required_parameter");
  }
  if (Find(*body, "messages")->empty()) {
    return Error(call, 400,
                 "Invalid 'messages': empty array. Expected an array with minimum length 1, "
                 "but got an empty array instead.",
                 "invalid_request_error", "messages", "empty_array");
  }
  if (Find(*body, "max_tokens") != nullptr && RejectsMaxTokens(model, options.facts)) {
    // Observed verbatim (vendor-protocols.md §1.3).
    return Error(call, 400,
                 "Unsupported parameter: 'max_tokens' is not supported with this model. Use "
                 "'max_completion_tokens' instead.",
                 "invalid_request_error", "max_tokens", "unsupported_parameter");
  }
  const bool stream = GetBool(*body, "stream", false);
  const Json* stream_options = Find(*body, "stream_options");
  if (stream_options != nullptr && !stream_options->is_null() && !stream) {
    return Error(call, 400,
                 "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                 "invalid_request_error", "stream_options", nullptr);
  }

  Result<Behavior> resolved =
      ResolveBehavior(request, input->marker, "openai|" + input->last_user, state, false);
  if (!resolved) {
    return Error(call, 400, resolved.error().message, "invalid_request_error", nullptr,
                 "sim_bad_behavior");
  }
  const Behavior behavior = resolved.value();
  ResponsePlan plan;
  switch (behavior.kind) {
    case BehaviorKind::kAuthFailure:
      plan = AuthFailure(call, given_key);
      break;
    case BehaviorKind::kInputBlock:
      // Observed verbatim (vendor-protocols.md §1.6).
      plan = Error(call, 400,
                   "Invalid prompt: your prompt was flagged as potentially violating our usage "
                   "policy. Please try again with a different prompt: "
                   "https://platform.openai.com/docs/guides/reasoning#advice-on-prompting",
                   "invalid_request_error", nullptr, "invalid_prompt");
      break;
    case BehaviorKind::kRateLimit: {
      const int64_t wait =
          behavior.number >= 0 ? behavior.number : options.facts.openai_retry_after_s;
      Headers extra;
      if (wait >= 0) extra.emplace_back("retry-after", std::to_string(wait));
      plan = Error(call, 429,
                   "Rate limit reached for " + model +
                       " in organization org-sim on requests per min (RPM): Limit " +
                       std::to_string(kRequestLimit) + ", Used " + std::to_string(kRequestLimit) +
                       ", Requested 1. Please try again in " +
                       std::to_string(std::max<int64_t>(wait, 1)) +
                       "s. Visit https://platform.openai.com/account/rate-limits to learn more.",
                   options.facts.openai_rate_limit_type, nullptr,
                   options.facts.openai_rate_limit_code, std::move(extra));
      break;
    }
    case BehaviorKind::kServerError:
      plan = Error(call, 500,
                   "The server had an error while processing your request. Sorry about that!",
                   "server_error", nullptr, nullptr);
      break;
    case BehaviorKind::kUnavailable:
      plan = Error(call, 503, "The engine is currently overloaded, please try again later",
                   "service_unavailable_error", nullptr, "server_is_overloaded");
      break;
    default:
      break;
  }
  if (!plan.pieces.empty()) {
    plan.behavior = behavior.spec;
    return plan;
  }

  // A successful answer, possibly blocked or refused on the way.
  std::optional<int64_t> max_tokens = GetInt(*body, "max_completion_tokens");
  if (!max_tokens) max_tokens = GetInt(*body, "max_tokens");
  const Answer answer = MakeAnswer(*input, max_tokens, options.chunk_chars);
  const bool refusal = behavior.kind == BehaviorKind::kRefusal;
  const bool blocked = behavior.kind == BehaviorKind::kOutputBlock;
  const size_t shown = blocked ? PartialPieceCount(answer.pieces.size()) : answer.pieces.size();
  const std::vector<std::string> pieces =
      refusal
          ? SplitCodePoints(kRefusalText, options.chunk_chars)
          : std::vector<std::string>(answer.pieces.begin(),
                                     answer.pieces.begin() + static_cast<std::ptrdiff_t>(shown));
  const std::string text = JoinPieces(pieces, pieces.size());
  const std::string finish = blocked ? "content_filter" : answer.cut_by_length ? "length" : "stop";
  const int64_t completion = TokenCount(text);
  const std::string id = "chatcmpl-" + AlnumId(call.seed + "|id", 29, false);
  const std::string fingerprint = "fp_" + HexId(model, 10);
  const int64_t created = state.Created();

  if (!stream) {
    OJson message;
    message["role"] = "assistant";
    message["content"] = refusal ? OJson(nullptr) : OJson(text);
    message["refusal"] = refusal ? OJson(text) : OJson(nullptr);
    message["annotations"] = OJson::array();
    OJson choice;
    choice["index"] = 0;
    choice["message"] = std::move(message);
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = finish;
    OJson out;
    out["id"] = id;
    out["object"] = "chat.completion";
    out["created"] = created;
    out["model"] = model;
    out["choices"] = OJson::array({std::move(choice)});
    out["usage"] = Usage(answer.prompt_tokens, completion);
    out["service_tier"] = "default";
    out["system_fingerprint"] = fingerprint;
    plan = BodyPlan(
        200, CommonHeaders(call, "application/json", false, answer.prompt_tokens + completion),
        Dump(out));
    ApplyBodyFaults(behavior, plan);
    plan.behavior = behavior.spec;
    return plan;
  }

  const bool include_usage =
      stream_options != nullptr && GetBool(*stream_options, "include_usage", false);
  const bool obfuscate =
      stream_options == nullptr || GetBool(*stream_options, "include_obfuscation", true);
  int serial = 0;
  const auto chunk = [&](OJson choices, const OJson& usage) {
    OJson out;
    out["id"] = id;
    out["object"] = "chat.completion.chunk";
    out["created"] = created;
    out["model"] = model;
    out["service_tier"] = "default";
    out["system_fingerprint"] = fingerprint;
    out["choices"] = std::move(choices);
    if (include_usage) out["usage"] = usage;
    if (obfuscate) {
      ++serial;
      out["obfuscation"] = AlnumId(call.seed + "|pad" + std::to_string(serial),
                                   static_cast<size_t>(2 + serial % 9), false);
    }
    return Dump(out);
  };
  const auto choice = [](OJson delta, const OJson& finish_reason) {
    OJson c;
    c["index"] = 0;
    c["delta"] = std::move(delta);
    c["logprobs"] = nullptr;
    c["finish_reason"] = finish_reason;
    return OJson::array({std::move(c)});
  };

  std::vector<StreamEvent> events;
  OJson first_delta;
  first_delta["role"] = "assistant";
  first_delta["content"] = refusal ? OJson(nullptr) : OJson("");
  first_delta["refusal"] = refusal ? OJson("") : OJson(nullptr);
  events.push_back({chunk(choice(std::move(first_delta), nullptr), nullptr)});
  for (const std::string& piece : pieces) {
    OJson delta;
    delta[refusal ? "refusal" : "content"] = piece;
    events.push_back({chunk(choice(std::move(delta), nullptr), nullptr), true});
  }
  events.push_back({chunk(choice(OJson::object(), finish), nullptr)});
  if (include_usage) {
    events.push_back({chunk(OJson::array(), Usage(answer.prompt_tokens, completion))});
  }
  events.push_back({"[DONE]"});
  plan = StreamPlan(CommonHeaders(call, "text/event-stream; charset=utf-8", false,
                                  answer.prompt_tokens + completion),
                    std::move(events), Framing::kDataSpace, behavior);
  plan.behavior = behavior.spec;
  return plan;
}

}  // namespace rg::tools::sim
