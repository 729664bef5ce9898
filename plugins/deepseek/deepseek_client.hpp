// The deepseek plug-in's vendor logic: chat completions against DeepSeek's
// OpenAI-compatible API, through the host's HTTP service. Testable without dlopen: tests
// drive Client with a fake rg_host_services.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "regiongate/sdk/openai_compat.hpp"
#include "regiongate/sdk/plugin.hpp"
#include "regiongate/sdk/settings.hpp"
#include "regiongate/sdk/vendor_call.hpp"

namespace rg::plugins::deepseek {

inline constexpr const char* kPluginId = "deepseek";
inline constexpr const char* kVendor = "DeepSeek";
/// What the code implements; the loader checks it equals plugin.yaml.in.
inline constexpr const char* kDescriptionJson =
    R"({"models":["deepseek-chat","deepseek-reasoner"],)"
    R"("endpoints":["cn"],)"
    R"("capabilities":["streaming","usage","tools","provider_blocks","cancellation"]})";

/// The settings table of plugin.yaml.in, as the code reads it.
const std::vector<sdk::SettingSpec>& SettingsTable();

/// DeepSeek errors in canonical terms: the vendor's own codes first (402 insufficient
/// balance is UNAVAILABLE), then the codes most OpenAI-compatible vendors share
/// (sdk::CommonVerdict: 401 AUTH, 422 INVALID_REQUEST, 429 RATE_LIMITED, 5xx RETRYABLE).
sdk::Verdict ClassifyError(const sdk::VendorError& error);

class Client : public sdk::Instance {
 public:
  /// Creates an instance from {"settings":{...},"endpoints":{...}}; fails with
  /// RG_ERR_INVALID_REQUEST when a setting is unknown or mistyped.
  static std::unique_ptr<sdk::Instance> Create(const sdk::Host& host, const nlohmann::json& config,
                                               sdk::Status* error);

  explicit Client(nlohmann::json config);

  void Complete(const sdk::CallContext& context, sdk::EventWriter& out) override;

 private:
  nlohmann::json config_;
  std::string api_key_secret_;
};

}  // namespace rg::plugins::deepseek
