// Entry point of the Qwen plug-in: the definition the SDK exports as rg_plugin_entry.
// The vendor logic lives in qwen_client.cpp.
#include "qwen_client.hpp"
#include "regiongate/sdk/plugin.hpp"

namespace {

const rg::sdk::PluginDefinition kDefinition = {
    rg::plugins::qwen::kPluginId,       RG_PLUGIN_VERSION,
    rg::plugins::qwen::kVendor,         rg::plugins::qwen::kDescriptionJson,
    &rg::plugins::qwen::Client::Create,
};

}  // namespace

RG_SDK_DEFINE_PLUGIN(kDefinition)
