// Entry point of the Baidu ERNIE plug-in: the definition the SDK exports as rg_plugin_entry.
// The vendor logic lives in baidu_client.cpp.
#include "baidu_client.hpp"
#include "regiongate/sdk/plugin.hpp"

namespace {

const rg::sdk::PluginDefinition kDefinition = {
    rg::plugins::baidu::kPluginId,       RG_PLUGIN_VERSION,
    rg::plugins::baidu::kVendor,         rg::plugins::baidu::kDescriptionJson,
    &rg::plugins::baidu::Client::Create,
};

}  // namespace

RG_SDK_DEFINE_PLUGIN(kDefinition)
