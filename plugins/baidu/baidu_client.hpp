// The Baidu ERNIE plug-in's vendor logic: Qianfan v2 (OpenAI-shaped, bearer key; shared
// decoder in openai_compat.hpp) and the legacy v1 wenxinworkshop API (API key + secret key
// -> cached OAuth access token, per-model URL suffixes, errors as JSON on HTTP 200, is_end
// instead of a terminator). Testable without dlopen: tests drive Client with a fake
// rg_host_services.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "regiongate/sdk/openai_compat.hpp"
#include "regiongate/sdk/plugin.hpp"
#include "regiongate/sdk/settings.hpp"
#include "regiongate/sdk/vendor_call.hpp"

namespace rg::plugins::baidu {

inline constexpr const char* kPluginId = "baidu";
inline constexpr const char* kVendor = "Baidu AI Cloud";
/// What the code implements; the loader checks it equals plugin.yaml.in.
inline constexpr const char* kDescriptionJson =
    R"({"models":["ernie-4.0-8k","ernie-3.5-8k","ernie-speed-128k","ernie-4.5-turbo-128k"],)"
    R"("endpoints":["qianfan-v2","qianfan-v1","oauth"],)"
    R"("capabilities":["streaming","usage","tools","provider_blocks","cancellation"]})";

inline constexpr const char* kV2Path = "/v2/chat/completions";
inline constexpr const char* kV1ChatPrefix = "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/";
inline constexpr const char* kTokenPath = "/oauth/2.0/token";

/// The settings table of plugin.yaml.in, as the code reads it.
const std::vector<sdk::SettingSpec>& SettingsTable();

/// The v1 URL suffix of a model (case-insensitive: "ERNIE-4.0-8K" and "ernie-4.0-8k" are
/// the same model), or nullopt when wenxinworkshop never served it.
std::optional<std::string> V1Suffix(std::string_view model);

/// Qianfan v2 error codes in canonical terms: *_unsafe codes block the input, an unknown
/// model (which Qianfan answers with 401) or an account in arrears is unavailable.
sdk::Verdict ClassifyV2Error(const sdk::VendorError& error);

/// Qianfan v1 numeric error codes in canonical terms.
sdk::Verdict ClassifyV1Error(int64_t code, int http_status);

/// Canonical request -> v1 body: no model (it is in the URL), system messages in `system`,
/// max_tokens as max_output_tokens, and only the keys v1 documents. Fails with
/// RG_ERR_INVALID_REQUEST for what v1 cannot express (tools).
sdk::Status BuildV1Request(const sdk::CanonicalRequest& request, nlohmann::json* body);

class Client : public sdk::Instance {
 public:
  /// Creates an instance from {"settings":{...},"endpoints":{...}}; fails with
  /// RG_ERR_INVALID_REQUEST for an unknown or mistyped setting or endpoint protocol.
  static std::unique_ptr<sdk::Instance> Create(const sdk::Host& host, const nlohmann::json& config,
                                               sdk::Status* error);

  explicit Client(nlohmann::json config);

  void Complete(const sdk::CallContext& context, sdk::EventWriter& out) override;

 private:
  void CompleteV2(const sdk::CallContext& context, sdk::EventWriter& out);
  void CompleteV1(const sdk::CallContext& context, sdk::EventWriter& out);

  /// The cached access token, fetched when there is none or it expired. On failure emits
  /// FINAL and returns nullopt.
  std::optional<std::string> AccessToken(const sdk::CallContext& context, sdk::EventWriter& out,
                                         const std::string& ak, const std::string& sk);
  /// Forgets `token` if it is still the cached one (another call may have refreshed it).
  void ForgetToken(const std::string& token);

  nlohmann::json config_;
  std::string api_key_secret_;
  std::string access_key_secret_;
  std::string secret_key_secret_;
  std::string app_id_;
  std::string auth_endpoint_;

  std::mutex token_mutex_;  // guards the token cache; held while a token is fetched
  std::string token_;
  std::string token_ak_;  // the API key the token was issued for
  int64_t token_expires_ms_ = 0;
};

}  // namespace rg::plugins::baidu
