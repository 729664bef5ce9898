#include "deepseek_client.hpp"

#include <utility>

namespace rg::plugins::deepseek {

const std::vector<sdk::SettingSpec>& SettingsTable() {
  static const std::vector<sdk::SettingSpec> table = {
      {"api_key_secret", "string", false, "name of the secret holding the DeepSeek API key"},
  };
  return table;
}

sdk::Verdict ClassifyError(const sdk::VendorError& error) {
  const std::string code = sdk::AsciiLower(error.code);
  // OpenAI's input content-safety refusal; compatible vendors that filter input reuse it.
  if (code == "invalid_prompt") return {RG_ERR_PROVIDER_BLOCKED, "input"};
  if (code == "model_not_found" || error.http_status == 403) return {RG_ERR_UNAVAILABLE, {}};
  // DeepSeek: 402 "Insufficient Balance" lasts until the account is topped up; UNAVAILABLE
  // lets the host fall back to another allowed plug-in instead of reporting a bad request.
  if (error.http_status == 402) return {RG_ERR_UNAVAILABLE, {}};
  return sdk::CommonVerdict(error);
}

std::unique_ptr<sdk::Instance> Client::Create(const sdk::Host& /*host*/,
                                              const nlohmann::json& config, sdk::Status* error) {
  const sdk::Settings settings(config);
  if (sdk::Status checked = settings.Check(SettingsTable()); !checked.ok()) {
    *error = {checked.code, std::string("plug-in '") + kPluginId + "': " + checked.message};
    return nullptr;
  }
  return std::make_unique<Client>(config);
}

Client::Client(nlohmann::json config) : config_(std::move(config)) {
  const sdk::Settings settings(config_);
  api_key_secret_ = settings.String("api_key_secret", "DEEPSEEK_API_KEY");
}

void Client::Complete(const sdk::CallContext& context, sdk::EventWriter& out) {
  const nlohmann::json* endpoint = sdk::FindEndpoint(config_, context.endpoint_id);
  if (endpoint == nullptr || sdk::StringMember(*endpoint, "kind") == "auth") {
    out.Fail(RG_ERR_INVALID_REQUEST, std::string("plug-in '") + kPluginId +
                                         "' has no inference endpoint '" + context.endpoint_id +
                                         "' (declared: " + sdk::EndpointIds(config_, "inference") +
                                         ")");
    return;
  }
  std::string key;
  if (!sdk::ReadCredential(context.host, out, kPluginId, api_key_secret_, "api_key_secret", &key)) {
    return;
  }
  sdk::openai_compat::Dialect dialect;
  dialect.label = {kPluginId, context.endpoint_id};
  dialect.path = "/v1/chat/completions";
  dialect.headers.emplace_back("Authorization", "Bearer " + key);
  dialect.classify = ClassifyError;
  dialect.auth_hint = "check the key in " + api_key_secret_;

  sdk::openai_compat::Complete(context, out, dialect,
                               sdk::openai_compat::BuildRequest(context.request, {}));
}

}  // namespace rg::plugins::deepseek
