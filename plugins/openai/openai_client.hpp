// The OpenAI plug-in's vendor logic: chat completions on the global endpoint or a
// data-residency domain, through the host's HTTP service. Testable without dlopen: tests
// drive Client with a fake rg_host_services.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "regiongate/sdk/openai_compat.hpp"
#include "regiongate/sdk/plugin.hpp"
#include "regiongate/sdk/settings.hpp"
#include "regiongate/sdk/vendor_call.hpp"

namespace rg::plugins::openai {

inline constexpr const char* kPluginId = "openai";
inline constexpr const char* kVendor = "OpenAI";
/// What the code implements; the loader checks it equals plugin.yaml.in.
inline constexpr const char* kDescriptionJson =
    R"({"models":["gpt-4o","gpt-4o-mini","gpt-4.1","o4-mini","gpt-5"],)"
    R"("endpoints":["global","eu","us"],)"
    R"("capabilities":["streaming","usage","tools","provider_blocks","cancellation"]})";

/// The settings table of plugin.yaml.in, as the code reads it.
const std::vector<sdk::SettingSpec>& SettingsTable();

/// `max_completion_tokens` for the o-series and GPT-5 families (they reject `max_tokens`),
/// `max_tokens` for the others. Fine-tuned ids ("ft:gpt-4o-mini:...") follow their base.
sdk::openai_compat::MaxTokensKey MaxTokensKeyFor(std::string_view model);

/// OpenAI errors in canonical terms: 400 invalid_prompt blocks the input, 403 (country or
/// region not supported) and unknown models are unavailable, the rest by status.
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
  std::string organization_;
  std::string project_;
};

}  // namespace rg::plugins::openai
