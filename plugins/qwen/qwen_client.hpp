// The Qwen plug-in's vendor logic: Alibaba Cloud Model Studio (DashScope) through the
// host's HTTP service, in OpenAI-compatible mode (shared decoder, openai_compat.hpp) or the
// native text-generation API (its own SSE framing, cumulative usage, no terminator).
// Testable without dlopen: tests drive Client with a fake rg_host_services.
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

namespace rg::plugins::qwen {

inline constexpr const char* kPluginId = "qwen";
inline constexpr const char* kVendor = "Alibaba Cloud";
/// What the code implements; the loader checks it equals plugin.yaml.in.
inline constexpr const char* kDescriptionJson =
    R"({"models":["qwen-plus","qwen-max","qwen-turbo"],)"
    R"("endpoints":["cn-beijing","ap-singapore","us-virginia","cn-hongkong"],)"
    R"("capabilities":["streaming","usage","tools","provider_blocks","cancellation"]})";

inline constexpr const char* kCompatiblePath = "/compatible-mode/v1/chat/completions";
inline constexpr const char* kNativePath = "/api/v1/services/aigc/text-generation/generation";

/// The settings table of plugin.yaml.in, as the code reads it.
const std::vector<sdk::SettingSpec>& SettingsTable();

enum class Protocol { kCompatible, kNative };

/// DashScope errors in canonical terms, for both protocols (native `code` such as
/// DataInspectionFailed, compatible-mode `error.code` such as data_inspection_failed).
/// Content-safety codes block: the output once answer text was delivered; before that the
/// side the vendor's message names ("Input data ..."), else the input before the stream
/// and the output mid-stream.
sdk::Verdict ClassifyError(const sdk::VendorError& error);

/// Canonical request -> native text-generation body: messages under `input`, everything
/// else (sampling, tools, vendor extras) under `parameters` with result_format "message";
/// streams set incremental_output to `incremental`.
nlohmann::json BuildNativeRequest(const sdk::CanonicalRequest& request, bool incremental);

class Client : public sdk::Instance {
 public:
  /// Creates an instance from {"settings":{...},"endpoints":{...}}; fails with
  /// RG_ERR_INVALID_REQUEST for an unknown or mistyped setting or an unknown protocol.
  static std::unique_ptr<sdk::Instance> Create(const sdk::Host& host, const nlohmann::json& config,
                                               sdk::Status* error);

  explicit Client(nlohmann::json config);

  void Complete(const sdk::CallContext& context, sdk::EventWriter& out) override;

  /// The protocol used for `endpoint_id`: the endpoint's own `protocol`, else the setting.
  Protocol ProtocolFor(const std::string& endpoint_id) const;

 private:
  void CompleteNative(const sdk::CallContext& context, sdk::EventWriter& out,
                      const sdk::Headers& headers);

  nlohmann::json config_;
  std::string api_key_secret_;
  std::string protocol_;
  bool incremental_output_ = true;
  std::string workspace_;
};

}  // namespace rg::plugins::qwen
