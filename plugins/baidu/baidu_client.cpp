#include "baidu_client.hpp"

#include <algorithm>
#include <cstdlib>
#include <utility>

namespace rg::plugins::baidu {

using nlohmann::json;

namespace {

// Percent-encodes a query value (API and secret keys are normally alphanumeric, but a
// secret file may hold anything).
std::string QueryEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// Qianfan's safety fields (v2 per choice, v1 per response): flag (0/null = normal),
// ban_round (the round holding the sensitive content, -1 = the current question) and
// need_clear_history (the user input is risky). All arrive on HTTP 200.
std::optional<sdk::VendorError> SafetySignal(const json& object) {
  const json& clear = sdk::Member(object, "need_clear_history");
  const int64_t flag = sdk::IntMember(object, "flag", 0);
  const json& ban_round = sdk::Member(object, "ban_round");
  const bool banned = ban_round.is_number_integer() && ban_round.get<int64_t>() != 0;
  if (!(clear.is_boolean() && clear.get<bool>()) && flag == 0 && !banned) return std::nullopt;
  sdk::VendorError signal;
  std::string detail;
  if (clear.is_boolean() && clear.get<bool>()) {
    signal.code = "need_clear_history";
    detail = "need_clear_history is true";
  } else {
    signal.code = "flag=" + std::to_string(flag);
    detail = "safety flag " + std::to_string(flag);
  }
  if (ban_round.is_number_integer()) {
    detail += " (ban_round " + std::to_string(ban_round.get<int64_t>()) + ")";
  }
  signal.message = "Qianfan content safety: " + detail;
  return signal;
}

// The legacy v1 protocol: one JSON object per SSE event, "result" text, "is_end" on the
// last (no [DONE]), usage in chunks (taken as running totals: the last one wins), and
// errors as {"error_code","error_msg"} bodies, usually with HTTP 200.
class V1Decoder {
 public:
  V1Decoder(sdk::VendorExchange& exchange, bool may_refresh, std::string auth_hint)
      : exchange_(exchange),
        out_(exchange.out()),
        may_refresh_(may_refresh),
        auth_hint_(std::move(auth_hint)) {}

  /// The access token was rejected (110/111) before any output: refresh and retry.
  bool token_rejected() const { return token_rejected_; }

  bool OnEvent(const sdk::SseEvent& event) {
    if (done_) return true;
    const json data = sdk::ParseJson(event.data);
    if (data.is_discarded() || !data.is_object()) {
      exchange_.FailMalformed("a stream chunk");
      return false;
    }
    if (HandleError(data, 0, chunks_ > 0)) return false;
    ++chunks_;
    last_ = data;
    if (!Apply(data, /*whole=*/false)) return false;
    if (pending_.has_value()) {
      EmitBlock(data);
      return false;
    }
    return true;
  }

  void OnStreamEnd(const std::optional<sdk::Status>& transport) {
    if (!done_) {
      exchange_.FailTruncated("a chunk with is_end:true", transport);
      return;
    }
    Finish(last_);
  }

  void OnResponse(const sdk::HttpResponse& response) {
    const json body = sdk::ParseJson(response.body);
    if (body.is_object() && HandleError(body, response.status, false)) return;
    if (response.status / 100 != 2) {
      sdk::VendorError error;
      error.http_status = response.status;
      error.message = response.body.substr(0, 200);
      exchange_.Fail(error, sdk::CommonVerdict(error), body, auth_hint_);
      return;
    }
    if (body.is_discarded() || !body.is_object()) {
      exchange_.FailMalformed("the response body");
      return;
    }
    if (!Apply(body, /*whole=*/true)) {
      out_.Cancelled();
      return;
    }
    if (usage_seen_) out_.ReportUsage(usage_);
    if (pending_.has_value()) {
      EmitBlock(body);
      return;
    }
    done_ = true;
    Finish(body);
  }

 private:
  // True when `data` is an error (FINAL sent, or abandoned for a token refresh).
  bool HandleError(const json& data, int http_status, bool mid_stream) {
    const json& field = sdk::Member(data, "error_code");
    int64_t code = 0;
    if (field.is_number_integer()) code = field.get<int64_t>();
    if (field.is_string()) code = std::atoll(field.get_ref<const std::string&>().c_str());
    if (code == 0) return false;
    if ((code == 110 || code == 111) && may_refresh_ && out_.text_bytes() == 0) {
      token_rejected_ = true;
      exchange_.Abandon();
      return true;
    }
    sdk::VendorError error;
    error.http_status = http_status == 200 ? 0 : http_status;  // 200 says nothing here
    error.code = std::to_string(code);
    error.message = sdk::StringMember(data, "error_msg");
    error.mid_stream = mid_stream;
    error.output_started = out_.text_bytes() > 0;
    exchange_.Fail(error, ClassifyV1Error(code, http_status), data, auth_hint_);
    return true;
  }

  // One response object (a chunk, or the whole answer). False once the host said stop.
  bool Apply(const json& data, bool whole) {
    if (const json& usage = sdk::Member(data, "usage"); usage.is_object()) {
      usage_ = sdk::UsageFromOpenAi(usage);
      usage_seen_ = true;
      if (!whole && !out_.ReportUsage(usage_)) return false;
    }
    const std::string text = sdk::StringMember(data, "result");
    if (auto signal = SafetySignal(data)) {
      // need_clear_history means the input was risky. Otherwise the side is the input while
      // no answer text exists, the output once text was delivered or when the flagged object
      // itself carries text (generation was cut). Flagged text is never emitted: it may be
      // text that must not be shown (flag 3) or must be retracted (flag 4).
      const bool has_text = out_.text_bytes() > 0 || !text.empty();
      side_ = signal->code == "need_clear_history" || !has_text ? "input" : "output";
      signal->output_started = out_.text_bytes() > 0;
      pending_ = std::move(signal);
      return true;
    }
    if (!out_.Text(text)) return false;
    const json& reason = sdk::Member(data, "finish_reason");
    const sdk::VendorFinish finish = sdk::ParseFinishReason(reason);
    if (finish != sdk::VendorFinish::kNone) {
      finish_ = finish;
      finish_reason_ = sdk::JsonScalarText(reason);
    }
    const json& truncated = sdk::Member(data, "is_truncated");
    if (truncated.is_boolean() && truncated.get<bool>()) truncated_ = true;
    const json& is_end = sdk::Member(data, "is_end");
    if (is_end.is_boolean() && is_end.get<bool>()) done_ = true;
    return true;
  }

  void EmitBlock(const json& body) {
    exchange_.Fail(*pending_, {RG_ERR_PROVIDER_BLOCKED, side_}, body, auth_hint_);
  }

  void Finish(const json& body) {
    sdk::VendorFinish finish =
        finish_ == sdk::VendorFinish::kNone ? sdk::VendorFinish::kStop : finish_;
    if (truncated_ && finish == sdk::VendorFinish::kStop) finish = sdk::VendorFinish::kLength;
    exchange_.Finish(finish, finish_reason_, body);
  }

  sdk::VendorExchange& exchange_;
  sdk::EventWriter& out_;
  const bool may_refresh_;
  const std::string auth_hint_;
  sdk::Usage usage_;
  bool usage_seen_ = false;
  bool token_rejected_ = false;
  bool done_ = false;
  bool truncated_ = false;
  int chunks_ = 0;
  json last_;
  sdk::VendorFinish finish_ = sdk::VendorFinish::kNone;
  std::string finish_reason_;  // the vendor's word for finish_
  std::optional<sdk::VendorError> pending_;
  std::string side_;
};

}  // namespace

const std::vector<sdk::SettingSpec>& SettingsTable() {
  static const std::vector<sdk::SettingSpec> table = {
      {"api_key_secret", "string", false,
       "name of the secret holding the Qianfan v2 API key (bce-v3/ALTAK-...)"},
      {"access_key_secret", "string", false,
       "name of the secret holding the Qianfan v1 API key (client_id of the token request)"},
      {"secret_key_secret", "string", false,
       "name of the secret holding the Qianfan v1 secret key (client_secret)"},
      {"app_id", "string", false, "optional Qianfan v2 app id, sent as the appid header"},
  };
  return table;
}

std::optional<std::string> V1Suffix(std::string_view model) {
  // vendor-protocols.md §3.3 (from the vendor SDK's table).
  static const std::vector<std::pair<std::string, std::string>> table = {
      {"ernie-4.0-8k", "completions_pro"},
      {"ernie-4.0-8k-preemptible", "completions_pro_preemptible"},
      {"ernie-4.0-8k-preview-0518", "completions_adv_pro"},
      {"ernie-4.0-8k-latest", "ernie-4.0-8k-latest"},
      {"ernie-4.0-turbo-8k", "ernie-4.0-turbo-8k"},
      {"ernie-3.5-8k", "completions"},
      {"ernie-3.5-128k", "ernie-3.5-128k"},
      {"ernie-speed-8k", "ernie_speed"},
      {"ernie-speed-128k", "ernie-speed-128k"},
      {"ernie-lite-8k", "ernie-lite-8k"},
      {"ernie-tiny-8k", "ernie-tiny-8k"},
      {"ernie-character-8k", "ernie-char-8k"},
      {"ernie-function-8k", "ernie-func-8k"},
  };
  const std::string key = sdk::AsciiLower(model);
  for (const auto& [name, suffix] : table) {
    if (name == key) return suffix;
  }
  return std::nullopt;
}

sdk::Verdict ClassifyV2Error(const sdk::VendorError& error) {
  const std::string code = sdk::AsciiLower(error.code);
  if (code.size() > 7 && code.compare(code.size() - 7, 7, "_unsafe") == 0) {
    return {RG_ERR_PROVIDER_BLOCKED, "input"};  // system_unsafe, user_setting_unsafe, ...
  }
  if (code == "invalid_model" || code == "account_overdue") return {RG_ERR_UNAVAILABLE, {}};
  if (code == "offline_batch_reasoning_refused") return {RG_ERR_RATE_LIMITED, {}};
  return sdk::CommonVerdict(error);
}

sdk::Verdict ClassifyV1Error(int64_t code, int http_status) {
  switch (code) {
    case 110:  // access token invalid
    case 111:  // access token expired
    case 6:    // no permission to access data
    case 13:   // get service token failed
    case 14:   // IAM certification failed
    case 15:   // app not exists
    case 336004:
      return {RG_ERR_AUTH, {}};
    case 4:       // cluster request limit
    case 17:      // daily request limit
    case 18:      // qps request limit
    case 19:      // total request limit
    case 336501:  // RPM
    case 336502:  // TPM
      return {RG_ERR_RATE_LIMITED, {}};
    case 1:
    case 2:  // service temporarily unavailable
    case 336000:
    case 336100:  // server high load
    case 500000:
      return {RG_ERR_RETRYABLE, {}};
    case 336005:  // API name not exist: no such model suffix
      return {RG_ERR_UNAVAILABLE, {}};
    case 3:
    case 100:
    case 336001:
    case 336002:
    case 336003:
    case 336101:
    case 336104:
    case 336105:
      return {RG_ERR_INVALID_REQUEST, {}};
    default:
      return {http_status >= 400 ? sdk::CodeForHttpStatus(http_status) : RG_ERR_RETRYABLE, {}};
  }
}

sdk::Status BuildV1Request(const sdk::CanonicalRequest& request, json* body) {
  const std::string refusal =
      "plug-in 'baidu' cannot send tools to Qianfan v1 (wenxinworkshop has only the legacy "
      "functions API); use endpoint 'qianfan-v2'";
  if (const json& tools = sdk::Member(request.json, "tools"); tools.is_array() && !tools.empty()) {
    return {RG_ERR_INVALID_REQUEST, refusal};
  }
  std::string system;
  json messages = json::array();
  for (const auto& message : request.messages()) {
    const std::string role = sdk::StringMember(message, "role");
    const std::string content = sdk::ContentText(sdk::Member(message, "content"));
    if (role == "system" || role == "developer") {
      if (!system.empty()) system += "\n";
      system += content;
    } else if (role == "user" || role == "assistant") {
      messages.push_back({{"role", role}, {"content", content}});
    } else {
      return {RG_ERR_INVALID_REQUEST, refusal};
    }
  }
  *body = {{"messages", std::move(messages)}, {"stream", request.stream}};
  if (!system.empty()) (*body)["system"] = system;
  if (const auto max_tokens = request.max_tokens()) (*body)["max_output_tokens"] = *max_tokens;
  for (const char* key : {"temperature", "top_p", "penalty_score", "stop", "disable_search",
                          "enable_citation", "enable_trace", "response_format", "user_id"}) {
    if (auto it = request.json.find(key); it != request.json.end()) (*body)[key] = *it;
  }
  if (const json& user = sdk::Member(request.json, "user");
      user.is_string() && !body->contains("user_id")) {
    (*body)["user_id"] = user;
  }
  return {};
}

std::unique_ptr<sdk::Instance> Client::Create(const sdk::Host& /*host*/, const json& config,
                                              sdk::Status* error) {
  const sdk::Settings settings(config);
  if (sdk::Status checked = settings.Check(SettingsTable()); !checked.ok()) {
    *error = {checked.code, "plug-in 'baidu': " + checked.message};
    return nullptr;
  }
  if (const json& endpoints = sdk::Member(config, "endpoints"); endpoints.is_object()) {
    for (const auto& [id, endpoint] : endpoints.items()) {
      const std::string protocol = sdk::StringMember(endpoint, "protocol");
      if (sdk::StringMember(endpoint, "kind") != "auth" && !protocol.empty() && protocol != "v1" &&
          protocol != "v2") {
        *error = {RG_ERR_INVALID_REQUEST, "plug-in 'baidu': endpoint '" + id +
                                              "' declares protocol '" + protocol +
                                              "'; use 'v2' or 'v1'"};
        return nullptr;
      }
    }
  }
  return std::make_unique<Client>(config);
}

Client::Client(json config) : config_(std::move(config)) {
  const sdk::Settings settings(config_);
  api_key_secret_ = settings.String("api_key_secret", "QIANFAN_API_KEY");
  access_key_secret_ = settings.String("access_key_secret", "QIANFAN_AK");
  secret_key_secret_ = settings.String("secret_key_secret", "QIANFAN_SK");
  app_id_ = settings.String("app_id");
  auth_endpoint_ = "oauth";
  if (const json& endpoints = sdk::Member(config_, "endpoints"); endpoints.is_object()) {
    for (const auto& [id, endpoint] : endpoints.items()) {
      if (sdk::StringMember(endpoint, "kind") == "auth") {
        auth_endpoint_ = id;
        break;
      }
    }
  }
}

void Client::Complete(const sdk::CallContext& context, sdk::EventWriter& out) {
  const json* endpoint = sdk::FindEndpoint(config_, context.endpoint_id);
  if (endpoint == nullptr || sdk::StringMember(*endpoint, "kind") == "auth") {
    out.Fail(RG_ERR_INVALID_REQUEST,
             "plug-in 'baidu' has no inference endpoint '" + context.endpoint_id +
                 "' (declared: " + sdk::EndpointIds(config_, "inference") + ")");
    return;
  }
  if (sdk::StringMember(*endpoint, "protocol") == "v1") {
    CompleteV1(context, out);
  } else {
    CompleteV2(context, out);
  }
}

void Client::CompleteV2(const sdk::CallContext& context, sdk::EventWriter& out) {
  std::string key;
  if (!sdk::ReadCredential(context.host, out, kPluginId, api_key_secret_, "api_key_secret", &key)) {
    return;
  }
  sdk::openai_compat::Dialect dialect;
  dialect.label = {kPluginId, context.endpoint_id};
  dialect.path = kV2Path;
  dialect.headers.emplace_back("Authorization", "Bearer " + key);
  if (!app_id_.empty()) dialect.headers.emplace_back("appid", app_id_);
  dialect.classify = ClassifyV2Error;
  dialect.inspect_choice = SafetySignal;
  dialect.auth_hint = "check the key in " + api_key_secret_;
  sdk::openai_compat::Complete(context, out, dialect,
                               sdk::openai_compat::BuildRequest(context.request, {}));
}

void Client::CompleteV1(const sdk::CallContext& context, sdk::EventWriter& out) {
  const std::optional<std::string> suffix = V1Suffix(context.request.model);
  if (!suffix) {
    out.Fail(RG_ERR_UNAVAILABLE, "model '" + context.request.model +
                                     "' is not served on baidu endpoint '" + context.endpoint_id +
                                     "': Qianfan v1 has no URL suffix for it; use endpoint "
                                     "'qianfan-v2'");
    return;
  }
  json body;
  if (const sdk::Status built = BuildV1Request(context.request, &body); !built.ok()) {
    out.Fail(built.code, built.message);
    return;
  }
  std::string ak;
  std::string sk;
  if (!sdk::ReadCredential(context.host, out, kPluginId, access_key_secret_, "access_key_secret",
                           &ak) ||
      !sdk::ReadCredential(context.host, out, kPluginId, secret_key_secret_, "secret_key_secret",
                           &sk)) {
    return;
  }
  const std::string hint = "check " + access_key_secret_ + " and " + secret_key_secret_;
  const bool stream = context.request.stream;
  // The only retry a plug-in does: one token refresh after 110/111 (the vendor SDKs do the
  // same). Every other retry belongs to the host.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const std::optional<std::string> token = AccessToken(context, out, ak, sk);
    if (!token) return;
    const sdk::HttpCall call = sdk::JsonPost(
        context.endpoint_id,
        std::string(kV1ChatPrefix) + *suffix + "?access_token=" + QueryEncode(*token), {}, body);
    sdk::VendorExchange exchange(context, out, {kPluginId, context.endpoint_id});
    V1Decoder decoder(exchange, /*may_refresh=*/attempt == 0, hint);
    exchange.RunDecoder(call, stream, decoder);
    if (!decoder.token_rejected()) return;
    ForgetToken(*token);
    context.host.Log(
        RG_LOG_INFO,
        "baidu endpoint '" + context.endpoint_id +
            "' rejected the cached access token; fetching a new one and retrying once");
  }
}

std::optional<std::string> Client::AccessToken(const sdk::CallContext& context,
                                               sdk::EventWriter& out, const std::string& ak,
                                               const std::string& sk) {
  std::lock_guard lock(token_mutex_);
  const int64_t now = context.host.UnixMs();
  if (!token_.empty() && token_ak_ == ak && now < token_expires_ms_) return token_;

  const sdk::VendorLabel label{kPluginId, auth_endpoint_};
  sdk::HttpCall call;
  call.method = "POST";
  call.endpoint_id = auth_endpoint_;
  call.path = std::string(kTokenPath) +
              "?grant_type=client_credentials&client_id=" + QueryEncode(ak) +
              "&client_secret=" + QueryEncode(sk);
  call.headers = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  sdk::HttpResponse response;
  const sdk::Status status = context.host.HttpBuffered(context.call, call, &response);
  if (context.Cancelled() || status.code == RG_ERR_CANCELLED) {
    out.Cancelled();
    return std::nullopt;
  }
  if (!status.ok()) {
    out.Fail(status.code, label.Describe() + ": " + status.message);
    return std::nullopt;
  }
  const json body = sdk::ParseJson(response.body);
  const std::string token = sdk::StringMember(body, "access_token");
  if (response.status / 100 == 2 && !token.empty()) {
    const int64_t ttl_ms = sdk::IntMember(body, "expires_in", 2592000) * 1000;
    // Renew a little early so a token does not expire between this check and the vendor.
    token_expires_ms_ = now + ttl_ms - std::min<int64_t>(60'000, ttl_ms / 10);
    token_ = token;
    token_ak_ = ak;
    return token_;
  }
  json details = {{"http_status", response.status}};
  if (const auto retry_after = sdk::RetryAfterMs(response))
    details["retry_after_ms"] = *retry_after;
  const std::string error = sdk::StringMember(body, "error");
  std::string description = sdk::StringMember(body, "error_description");
  if (!error.empty()) details["vendor_code"] = error;
  rg_code code = sdk::CodeForHttpStatus(response.status);
  if (error == "invalid_client" || code == RG_ERR_INVALID_REQUEST) code = RG_ERR_AUTH;
  if (code == RG_OK) code = RG_ERR_PROTOCOL;  // 2xx without a token
  if (description.empty()) description = body.is_discarded() ? "not JSON" : "no access_token";
  std::string message = label.Describe() + " refused the token request (HTTP " +
                        std::to_string(response.status) +
                        (error.empty() ? std::string() : ", " + error) + "): " + description;
  if (code == RG_ERR_AUTH)
    message += "; check " + access_key_secret_ + " and " + secret_key_secret_;
  out.Fail(code, message, std::move(details));
  return std::nullopt;
}

void Client::ForgetToken(const std::string& token) {
  std::lock_guard lock(token_mutex_);
  if (token_ == token) {
    token_.clear();
    token_expires_ms_ = 0;
  }
}

}  // namespace rg::plugins::baidu
