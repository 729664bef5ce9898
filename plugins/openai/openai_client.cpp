#include "openai_client.hpp"

#include <utility>

namespace rg::plugins::openai {

const std::vector<sdk::SettingSpec>& SettingsTable() {
  static const std::vector<sdk::SettingSpec> table = {
      {"api_key_secret", "string", false, "name of the secret holding the OpenAI API key"},
      {"organization", "string", false, "optional organization id, sent as OpenAI-Organization"},
      {"project", "string", false, "optional project id, sent as OpenAI-Project"},
  };
  return table;
}

sdk::openai_compat::MaxTokensKey MaxTokensKeyFor(std::string_view model) {
  std::string name = sdk::AsciiLower(model);
  if (name.rfind("ft:", 0) == 0) name = name.substr(3);
  const bool o_series = name.size() >= 2 && name[0] == 'o' && name[1] >= '0' && name[1] <= '9';
  const bool gpt5 = name.rfind("gpt-5", 0) == 0;
  return o_series || gpt5 ? sdk::openai_compat::MaxTokensKey::kMaxCompletionTokens
                          : sdk::openai_compat::MaxTokensKey::kMaxTokens;
}

sdk::Verdict ClassifyError(const sdk::VendorError& error) {
  const std::string code = sdk::AsciiLower(error.code);
  if (code == "invalid_prompt") return {RG_ERR_PROVIDER_BLOCKED, "input"};
  if (code == "model_not_found" || code == "unsupported_country_region_territory" ||
      error.http_status == 403) {
    return {RG_ERR_UNAVAILABLE, {}};
  }
  return sdk::CommonVerdict(error);
}

std::unique_ptr<sdk::Instance> Client::Create(const sdk::Host& /*host*/,
                                              const nlohmann::json& config, sdk::Status* error) {
  const sdk::Settings settings(config);
  if (sdk::Status checked = settings.Check(SettingsTable()); !checked.ok()) {
    *error = {checked.code, "plug-in 'openai': " + checked.message};
    return nullptr;
  }
  return std::make_unique<Client>(config);
}

Client::Client(nlohmann::json config) : config_(std::move(config)) {
  const sdk::Settings settings(config_);
  api_key_secret_ = settings.String("api_key_secret", "OPENAI_API_KEY");
  organization_ = settings.String("organization");
  project_ = settings.String("project");
}

void Client::Complete(const sdk::CallContext& context, sdk::EventWriter& out) {
  const nlohmann::json* endpoint = sdk::FindEndpoint(config_, context.endpoint_id);
  if (endpoint == nullptr || sdk::StringMember(*endpoint, "kind") == "auth") {
    out.Fail(RG_ERR_INVALID_REQUEST,
             "plug-in 'openai' has no inference endpoint '" + context.endpoint_id +
                 "' (declared: " + sdk::EndpointIds(config_, "inference") + ")");
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
  if (!organization_.empty()) dialect.headers.emplace_back("OpenAI-Organization", organization_);
  if (!project_.empty()) dialect.headers.emplace_back("OpenAI-Project", project_);
  dialect.classify = ClassifyError;
  dialect.auth_hint = "check the key in " + api_key_secret_;

  sdk::openai_compat::RequestOptions options;
  options.max_tokens_key = MaxTokensKeyFor(context.request.model);
  sdk::openai_compat::Complete(context, out, dialect,
                               sdk::openai_compat::BuildRequest(context.request, options));
}

}  // namespace rg::plugins::openai
