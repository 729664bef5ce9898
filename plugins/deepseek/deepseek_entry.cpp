// Entry point of the deepseek plug-in: the definition the SDK exports as rg_plugin_entry.
// The vendor logic lives in deepseek_client.cpp.
#include "deepseek_client.hpp"
#include "regiongate/sdk/plugin.hpp"

namespace {

const rg::sdk::PluginDefinition kDefinition = {
    rg::plugins::deepseek::kPluginId,       RG_PLUGIN_VERSION,
    rg::plugins::deepseek::kVendor,         rg::plugins::deepseek::kDescriptionJson,
    &rg::plugins::deepseek::Client::Create,
};

}  // namespace

RG_SDK_DEFINE_PLUGIN(kDefinition)
