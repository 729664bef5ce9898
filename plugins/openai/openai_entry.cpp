// Entry point of the OpenAI plug-in: the definition the SDK exports as rg_plugin_entry.
// The vendor logic lives in openai_client.cpp.
#include "openai_client.hpp"
#include "regiongate/sdk/plugin.hpp"

namespace {

const rg::sdk::PluginDefinition kDefinition = {
    rg::plugins::openai::kPluginId,       RG_PLUGIN_VERSION,
    rg::plugins::openai::kVendor,         rg::plugins::openai::kDescriptionJson,
    &rg::plugins::openai::Client::Create,
};

}  // namespace

RG_SDK_DEFINE_PLUGIN(kDefinition)
