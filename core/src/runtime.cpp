#include "regiongate/core/runtime.hpp"

#include <spdlog/spdlog.h>

namespace rg::core {

std::string FormatDiagnostics(const compliance::Diagnostics& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) {
    if (!out.empty()) out += '\n';
    out += d.ToString();
  }
  return out;
}

Result<std::unique_ptr<Runtime>> Runtime::Create(RuntimeOptions options) {
  std::unique_ptr<Runtime> runtime(new Runtime());
  runtime->host_ = std::make_unique<Host>(std::move(options.host));
  for (const auto& dir : options.plugin_dirs) {
    LoadReport one = runtime->host_->LoadPluginDirectory(dir);
    auto& all = runtime->load_report_;
    all.loaded.insert(all.loaded.end(), one.loaded.begin(), one.loaded.end());
    all.refused.insert(all.refused.end(), one.refused.begin(), one.refused.end());
  }
  // Only plug-ins that passed every load check are candidates: a refused plug-in (say, a
  // tampered library) never shows up as allowed.
  std::vector<compliance::PluginManifest> manifests;
  for (const auto& plugin : runtime->host_->Plugins()) manifests.push_back(plugin->manifest);

  compliance::StoreOptions store_options;
  store_options.sources = compliance::DefaultPolicySources(options.config_dir);
  store_options.as_of = options.as_of;
  runtime->store_ = std::make_unique<compliance::ComplianceStore>(std::move(store_options));
  runtime->store_->SetPlugins(std::move(manifests));
  compliance::Diagnostics diagnostics = runtime->store_->Reload();
  if (compliance::HasErrors(diagnostics)) {
    return Error{"RG-R001", "the compliance policy in '" + options.config_dir.string() +
                                "' is invalid; fix these and run again:\n" +
                                FormatDiagnostics(diagnostics)};
  }
  runtime->warnings_ = std::move(diagnostics);

  // Every outbound request of a gated call is checked against the region's rules, with the
  // declared endpoint's attributes (never the override's URL).
  compliance::ComplianceStore* store = runtime->store_.get();
  runtime->host_->SetEgressHook([store](const EgressTarget& target) -> Result<void> {
    if (target.region.empty()) return {};  // an ungated call (no locale) — an operator choice
    auto gate = store->gate();
    if (!gate) {
      return Error{"RG-R002", "no compliance policy is in force; egress denied"};
    }
    return gate->EgressCheck(target.region, target.plugin_id, target.endpoint_id);
  });
  return runtime;
}

compliance::Diagnostics Runtime::Reload() {
  compliance::Diagnostics diagnostics = store_->Reload();
  if (compliance::HasErrors(diagnostics)) {
    spdlog::error("policy reload rejected; the previous policy stays in force:\n{}",
                  FormatDiagnostics(diagnostics));
  } else {
    warnings_ = diagnostics;
    spdlog::info("policy reloaded (generation {})", store_->generation());
  }
  return diagnostics;
}

Result<GatedCompletion> Runtime::Complete(const std::string& locale,
                                          const compliance::DecisionFilter& filter,
                                          nlohmann::json body, const nlohmann::json& settings,
                                          const EventCallback& on_event,
                                          const CancelToken& cancel) {
  auto gate = store_->gate();
  auto region = gate->ResolveRegion(locale);
  if (!region.ok()) return region.error();
  auto choice = gate->Choose(locale, filter);
  if (!choice.ok()) return choice.error();
  GatedCompletion out;
  out.decision = std::move(choice.value());
  auto instance = host_->CreateInstance(out.decision.plugin, settings);
  if (!instance.ok()) return instance.error();
  body["model"] = out.decision.model;
  CompletionRequest request;
  request.endpoint_id = out.decision.endpoint;
  request.body = std::move(body);
  request.region = region.value();
  request.locale = locale;
  out.result = host_->Complete(**instance, request, on_event, cancel);
  return out;
}

}  // namespace rg::core
