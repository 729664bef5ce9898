#include "qwen_client.hpp"

#include <cstdlib>
#include <optional>
#include <utility>

namespace rg::plugins::qwen {

using nlohmann::json;

namespace {

// "InternalError.Algo.DataInspectionFailed" and "data_inspection_failed" compare equal.
std::string Normalized(std::string_view code) {
  std::string out;
  for (char c : sdk::AsciiLower(code)) {
    if (c != '_' && c != '.' && c != '-') out.push_back(c);
  }
  return out;
}

bool ContainsAny(std::string_view text, std::initializer_list<std::string_view> needles) {
  for (std::string_view needle : needles) {
    if (sdk::Contains(text, needle)) return true;
  }
  return false;
}

sdk::Usage UsageFromNative(const json& usage) {
  sdk::Usage out;
  out.prompt_tokens = sdk::IntMember(usage, "input_tokens");
  out.completion_tokens = sdk::IntMember(usage, "output_tokens");
  out.total_tokens =
      sdk::IntMember(usage, "total_tokens", out.prompt_tokens + out.completion_tokens);
  return out;
}

// DashScope native frames carry the status of an error as a ":HTTP_STATUS/400" comment.
int StatusFromComments(const std::string& comments) {
  constexpr std::string_view kPrefix = "HTTP_STATUS/";
  const size_t at = comments.find(kPrefix);
  if (at == std::string::npos) return 0;
  return std::atoi(comments.c_str() + at + kPrefix.size());
}

// {"code":"...","message":"...","request_id":"..."}; the vendor SDK also accepts
// error_code / error_message, so this does too.
bool ReadNativeError(const json& body, sdk::VendorError* error) {
  std::string code = sdk::JsonScalarText(sdk::Member(body, "code"));
  if (code.empty()) code = sdk::JsonScalarText(sdk::Member(body, "error_code"));
  if (code.empty()) return false;
  error->code = std::move(code);
  error->message = sdk::StringMember(body, "message");
  if (error->message.empty()) error->message = sdk::StringMember(body, "error_message");
  return true;
}

std::string Snippet(std::string_view body) {
  std::string out(body.substr(0, 200));
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

// The native text-generation protocol: cumulative usage in every event, finish_reason the
// string "null" until the last event, no terminator (the server closes after the final
// event), errors as `event:error` frames, and incremental_output:false repeating the whole
// text so far in every event.
class NativeDecoder {
 public:
  NativeDecoder(sdk::VendorExchange& exchange, bool incremental, std::string auth_hint)
      : exchange_(exchange),
        out_(exchange.out()),
        incremental_(incremental),
        auth_hint_(std::move(auth_hint)) {}

  bool OnEvent(const sdk::SseEvent& event) {
    if (finish_ != sdk::VendorFinish::kNone) return true;  // nothing counts after the end
    const json data = sdk::ParseJson(event.data);
    if (data.is_discarded() || !data.is_object()) {
      exchange_.FailMalformed("a stream event");
      return false;
    }
    const int status = StatusFromComments(event.comments);
    sdk::VendorError error;
    const bool has_code = ReadNativeError(data, &error);
    if (event.event == "error" || status >= 400 || (has_code && !data.contains("output"))) {
      error.http_status = status;
      error.mid_stream = result_events_ > 0;
      error.output_started = out_.text_bytes() > 0;
      if (error.message.empty()) error.message = Snippet(event.data);
      exchange_.Fail(error, ClassifyError(error), data, auth_hint_);
      return false;
    }
    ++result_events_;
    last_data_ = data;
    return Apply(data, /*whole=*/false);
  }

  void OnStreamEnd(const std::optional<sdk::Status>& transport) {
    if (finish_ == sdk::VendorFinish::kNone) {
      exchange_.FailTruncated("its final event (a finish_reason other than \"null\")", transport);
      return;
    }
    if (!EmitHeldToolCalls()) {
      out_.Cancelled();
      return;
    }
    Finish(last_data_);
  }

  void OnResponse(const sdk::HttpResponse& response) {
    json body = sdk::ParseJson(response.body);
    if (response.status / 100 != 2) {
      sdk::VendorError error;
      error.http_status = response.status;
      if (!ReadNativeError(body, &error)) {
        // An error that came as an SSE frame with a non-2xx head.
        sdk::SseParser parser([&](const sdk::SseEvent& event) {
          json data = sdk::ParseJson(event.data);
          if (data.is_object() && ReadNativeError(data, &error)) {
            body = std::move(data);
            return false;
          }
          return true;
        });
        parser.Feed(response.body);
        parser.Feed("\n\n");
        if (error.code.empty()) error.message = Snippet(response.body);
      }
      exchange_.Fail(error, ClassifyError(error), body, auth_hint_);
      return;
    }
    if (body.is_discarded() || !body.is_object()) {
      exchange_.FailMalformed("the response body");
      return;
    }
    sdk::VendorError error;
    if (ReadNativeError(body, &error) && !body.contains("output")) {
      error.http_status = response.status;
      exchange_.Fail(error, ClassifyError(error), body, auth_hint_);
      return;
    }
    if (!Apply(body, /*whole=*/true)) {
      out_.Cancelled();
      return;
    }
    if (usage_seen_) out_.ReportUsage(usage_);
    if (finish_ == sdk::VendorFinish::kNone) finish_ = sdk::VendorFinish::kStop;
    Finish(body);
  }

 private:
  // One result (an event, or the whole buffered answer). False once the host said stop or
  // FINAL was sent.
  bool Apply(const json& data, bool whole) {
    if (const json& usage = sdk::Member(data, "usage"); usage.is_object()) {
      usage_ = UsageFromNative(usage);  // cumulative: the last one is the total, never a sum
      usage_seen_ = true;
      if (!whole && !out_.ReportUsage(usage_)) return false;
    }
    const json& output = sdk::Member(data, "output");
    const json& choices = sdk::Member(output, "choices");
    std::string text;
    json tool_calls;
    json finish;
    if (choices.is_array() && !choices.empty()) {  // result_format "message"
      const json& message = sdk::Member(choices[0], "message");
      text = sdk::ContentText(sdk::Member(message, "content"));
      tool_calls = sdk::Member(message, "tool_calls");
      finish = sdk::Member(choices[0], "finish_reason");
    } else {  // result_format "text"
      text = sdk::StringMember(output, "text");
      finish = sdk::Member(output, "finish_reason");
    }

    std::string delta = text;
    if (!incremental_ && !whole && !text.empty()) {
      if (text.compare(0, so_far_.size(), so_far_) != 0) {
        out_.Fail(RG_ERR_PROTOCOL,
                  exchange_.label().Describe() +
                      " changed text it had already streamed (incremental_output false)",
                  exchange_.Details(data));
        return false;
      }
      delta = text.substr(so_far_.size());
      so_far_ = std::move(text);
    }
    if (!out_.Text(delta)) return false;

    if (tool_calls.is_array()) {
      if (incremental_ || whole) {
        for (size_t i = 0; i < tool_calls.size(); ++i) {
          if (tool_calls[i].is_object() && !out_.ToolCallDelta(tools_.Delta(tool_calls[i], i))) {
            return false;
          }
        }
      } else {
        held_tool_calls_ = tool_calls;  // repeated whole in every event: keep the last
      }
    }
    const sdk::VendorFinish parsed = sdk::ParseFinishReason(finish);
    if (parsed != sdk::VendorFinish::kNone) {
      finish_ = parsed;
      finish_reason_ = sdk::JsonScalarText(finish);
    }
    return true;
  }

  bool EmitHeldToolCalls() {
    if (!held_tool_calls_.is_array()) return true;
    for (size_t i = 0; i < held_tool_calls_.size(); ++i) {
      if (held_tool_calls_[i].is_object() &&
          !out_.ToolCallDelta(tools_.Delta(held_tool_calls_[i], i))) {
        return false;
      }
    }
    return true;
  }

  void Finish(const json& body) { exchange_.Finish(finish_, finish_reason_, body); }

  sdk::VendorExchange& exchange_;
  sdk::EventWriter& out_;
  const bool incremental_;
  const std::string auth_hint_;
  sdk::ToolCallTracker tools_;
  sdk::Usage usage_;
  bool usage_seen_ = false;
  int result_events_ = 0;
  std::string so_far_;
  json held_tool_calls_;
  json last_data_;
  sdk::VendorFinish finish_ = sdk::VendorFinish::kNone;
  std::string finish_reason_;  // the vendor's word for finish_
};

std::optional<Protocol> ParseProtocol(std::string_view name) {
  if (name == "compatible") return Protocol::kCompatible;
  if (name == "native") return Protocol::kNative;
  return std::nullopt;
}

}  // namespace

const std::vector<sdk::SettingSpec>& SettingsTable() {
  static const std::vector<sdk::SettingSpec> table = {
      {"api_key_secret", "string", false,
       "name of the secret holding the DashScope API key (keys are region-specific)"},
      {"protocol", "string", false,
       "compatible (OpenAI-compatible mode) or native (DashScope text-generation API); an "
       "endpoint's own protocol wins"},
      {"incremental_output", "boolean", false,
       "native streams only: true sends only new text per event; false repeats the whole text "
       "so far (the plug-in emits only the new suffix either way)"},
      {"workspace", "string", false,
       "optional DashScope workspace id, sent as X-DashScope-WorkSpace"},
  };
  return table;
}

sdk::Verdict ClassifyError(const sdk::VendorError& error) {
  const std::string key = Normalized(error.code) + " " + Normalized(error.type);
  if (ContainsAny(key, {"datainspectionfailed", "faqruleblocked", "customroleblocked",
                        "ipinfringementsuspect"})) {
    std::string side = error.output_started ? "output" : sdk::BlockedSideFromMessage(error.message);
    if (side.empty()) side = error.mid_stream ? "output" : "input";
    return {RG_ERR_PROVIDER_BLOCKED, side};
  }
  if (sdk::Contains(key, "invalidapikey")) return {RG_ERR_AUTH, {}};
  // An account in arrears or a model this key may not use: another plug-in may serve.
  if (ContainsAny(key, {"arrearage", "modelnotfound", "modelnotsupported", "modelaccessdenied"})) {
    return {RG_ERR_UNAVAILABLE, {}};
  }
  if (ContainsAny(key, {"throttling", "limitrequests", "limitburstrate", "insufficientquota"})) {
    return {RG_ERR_RATE_LIMITED, {}};
  }
  if (ContainsAny(key, {"internalerror", "systemerror", "modelservicefailed", "requesttimeout",
                        "modelservingerror", "modelunavailable"})) {
    return {RG_ERR_RETRYABLE, {}};
  }
  if (ContainsAny(key, {"invalidparameter", "badrequest", "invalidvalue", "invalidrequesterror"})) {
    return {RG_ERR_INVALID_REQUEST, {}};
  }
  return sdk::CommonVerdict(error);
}

json BuildNativeRequest(const sdk::CanonicalRequest& request, bool incremental) {
  json messages = json::array();
  for (const auto& message : request.messages()) {
    json copy = message;
    if (auto content = copy.find("content"); content != copy.end() && content->is_array()) {
      *content = sdk::ContentText(*content);  // text-generation takes string content
    }
    messages.push_back(std::move(copy));
  }
  json parameters = {{"result_format", "message"}};
  if (request.stream) parameters["incremental_output"] = incremental;
  if (const auto max_tokens = request.max_tokens()) parameters["max_tokens"] = *max_tokens;
  for (const auto& [key, value] : request.json.items()) {
    if (key == "model" || key == "messages" || key == "stream" || key == "stream_options" ||
        key == "max_tokens" || key == "max_completion_tokens" || key == "incremental_output" ||
        key == "result_format") {
      continue;
    }
    parameters[key] = value;  // sampling, tools, enable_search, ... all live here
  }
  return {{"model", request.model},
          {"input", {{"messages", std::move(messages)}}},
          {"parameters", std::move(parameters)}};
}

std::unique_ptr<sdk::Instance> Client::Create(const sdk::Host& /*host*/, const json& config,
                                              sdk::Status* error) {
  const sdk::Settings settings(config);
  if (sdk::Status checked = settings.Check(SettingsTable()); !checked.ok()) {
    *error = {checked.code, "plug-in 'qwen': " + checked.message};
    return nullptr;
  }
  const std::string protocol = settings.String("protocol", "compatible");
  if (!ParseProtocol(protocol)) {
    *error = {RG_ERR_INVALID_REQUEST, "plug-in 'qwen': setting 'protocol' is '" + protocol +
                                          "'; use 'compatible' or 'native'"};
    return nullptr;
  }
  if (const json& endpoints = sdk::Member(config, "endpoints"); endpoints.is_object()) {
    for (const auto& [id, endpoint] : endpoints.items()) {
      const std::string own = sdk::StringMember(endpoint, "protocol");
      if (!own.empty() && !ParseProtocol(own)) {
        *error = {RG_ERR_INVALID_REQUEST, "plug-in 'qwen': endpoint '" + id +
                                              "' declares protocol '" + own +
                                              "'; use 'compatible' or 'native'"};
        return nullptr;
      }
    }
  }
  return std::make_unique<Client>(config);
}

Client::Client(json config) : config_(std::move(config)) {
  const sdk::Settings settings(config_);
  api_key_secret_ = settings.String("api_key_secret", "DASHSCOPE_API_KEY");
  protocol_ = settings.String("protocol", "compatible");
  incremental_output_ = settings.Boolean("incremental_output", true);
  workspace_ = settings.String("workspace");
}

Protocol Client::ProtocolFor(const std::string& endpoint_id) const {
  const json* endpoint = sdk::FindEndpoint(config_, endpoint_id);
  const std::string own =
      endpoint == nullptr ? std::string() : sdk::StringMember(*endpoint, "protocol");
  return ParseProtocol(own.empty() ? protocol_ : own).value_or(Protocol::kCompatible);
}

void Client::Complete(const sdk::CallContext& context, sdk::EventWriter& out) {
  const json* endpoint = sdk::FindEndpoint(config_, context.endpoint_id);
  if (endpoint == nullptr || sdk::StringMember(*endpoint, "kind") == "auth") {
    out.Fail(RG_ERR_INVALID_REQUEST,
             "plug-in 'qwen' has no inference endpoint '" + context.endpoint_id +
                 "' (declared: " + sdk::EndpointIds(config_, "inference") + ")");
    return;
  }
  std::string key;
  if (!sdk::ReadCredential(context.host, out, kPluginId, api_key_secret_, "api_key_secret", &key)) {
    return;
  }
  sdk::Headers headers = {{"Authorization", "Bearer " + key}};
  if (!workspace_.empty()) headers.emplace_back("X-DashScope-WorkSpace", workspace_);

  if (ProtocolFor(context.endpoint_id) == Protocol::kNative) {
    CompleteNative(context, out, headers);
    return;
  }
  sdk::openai_compat::Dialect dialect;
  dialect.label = {kPluginId, context.endpoint_id};
  dialect.path = kCompatiblePath;
  dialect.headers = std::move(headers);
  dialect.classify = ClassifyError;
  dialect.auth_hint = "check the key in " + api_key_secret_ +
                      " (DashScope keys only work in the region that issued them)";
  sdk::openai_compat::RequestOptions options;
  options.drop_keys = {"incremental_output", "result_format"};
  sdk::openai_compat::Complete(context, out, dialect,
                               sdk::openai_compat::BuildRequest(context.request, options));
}

void Client::CompleteNative(const sdk::CallContext& context, sdk::EventWriter& out,
                            const sdk::Headers& headers) {
  const json& asked = sdk::Member(context.request.json, "incremental_output");
  const bool incremental = asked.is_boolean() ? asked.get<bool>() : incremental_output_;
  const bool stream = context.request.stream;
  sdk::HttpCall call = sdk::JsonPost(context.endpoint_id, kNativePath, headers,
                                     BuildNativeRequest(context.request, incremental));
  if (stream) {
    call.headers.emplace_back("X-DashScope-SSE", "enable");
    call.headers.emplace_back("Accept", "text/event-stream");
  }

  sdk::VendorExchange exchange(context, out, {kPluginId, context.endpoint_id});
  NativeDecoder decoder(exchange, incremental,
                        "check the key in " + api_key_secret_ +
                            " (DashScope keys only work in the region that issued them)");
  exchange.RunDecoder(call, stream, decoder);
}

}  // namespace rg::plugins::qwen
