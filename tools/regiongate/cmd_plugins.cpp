// `regiongate plugins list|describe`: what the host found in its plug-in directories.
#include <iomanip>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli_context.hpp"

namespace rg::tools {

namespace {

nlohmann::json RefusalsJson(const core::LoadReport& report) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : report.refused) {
    out.push_back({{"plugin", r.plugin},
                   {"manifest", r.manifest.string()},
                   {"id", r.id},
                   {"message", r.message}});
  }
  return out;
}

std::string Join(const std::vector<std::string>& items, const char* separator = ", ") {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

void PrintRefusals(const core::LoadReport& report) {
  for (const auto& r : report.refused) {
    std::cerr << "regiongate: refused plug-in " << r.plugin << ": " << r.message << " [" << r.id
              << "]\n";
  }
}

int List(CliContext& ctx, bool json) {
  core::LoadReport report;
  auto host = ctx.MakeHost(&report);
  if (json) {
    nlohmann::json out = {{"plugins", nlohmann::json::array()}, {"refused", RefusalsJson(report)}};
    for (const auto& plugin : host->Plugins()) {
      nlohmann::json entry = plugin->manifest.ToJson();
      entry["abi_negotiated"] =
          std::to_string(plugin->abi_major) + "." + std::to_string(plugin->abi_minor);
      out["plugins"].push_back(entry);
    }
    std::cout << out.dump(2) << "\n";
  } else {
    PrintRefusals(report);
    std::cout << std::left << std::setw(12) << "PLUGIN" << std::setw(10) << "VERSION"
              << std::setw(16) << "VENDOR" << std::setw(6) << "ABI"
              << "MODELS / ENDPOINTS\n";
    for (const auto& plugin : host->Plugins()) {
      const auto& m = plugin->manifest;
      std::vector<std::string> models, endpoints;
      for (const auto& model : m.models) models.push_back(model.id);
      for (const auto& endpoint : m.endpoints) {
        endpoints.push_back(endpoint.id + "[" + endpoint.data_region + "]");
      }
      std::cout << std::left << std::setw(12) << m.id << std::setw(10) << m.version << std::setw(16)
                << m.vendor.substr(0, 15) << std::setw(6)
                << (std::to_string(plugin->abi_major) + "." + std::to_string(plugin->abi_minor))
                << Join(models) << "\n"
                << std::setw(44) << "" << Join(endpoints) << "\n";
    }
    if (host->Plugins().empty()) std::cout << "(no plug-ins loaded)\n";
  }
  return kExitOk;
}

int Describe(CliContext& ctx, const std::string& name, bool json) {
  core::LoadReport report;
  auto host = ctx.MakeHost(&report);
  auto plugin = host->FindPlugin(name);
  if (!plugin) {
    for (const auto& r : report.refused) {
      if (r.plugin == name) {
        throw CliExit{kExitDenied, "plug-in '" + name + "' was refused: " + r.message};
      }
    }
    throw CliExit{kExitUsage, "no plug-in '" + name +
                                  "' in the plug-in directories; run 'regiongate plugins list'"};
  }
  const auto& m = plugin->manifest;
  if (json) {
    nlohmann::json out = m.ToJson();
    out["abi_negotiated"] =
        std::to_string(plugin->abi_major) + "." + std::to_string(plugin->abi_minor);
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << m.id << " " << m.version << " — " << m.vendor << "\n"
            << "  " << m.description << "\n"
            << "  manifest:  " << m.manifest_path.string() << "\n"
            << "  library:   " << m.library_path.string() << "\n"
            << "  sha256:    " << m.sha256 << "\n"
            << "  abi:       " << plugin->abi_major << "." << plugin->abi_minor
            << " (manifest range " << m.abi.major << "." << m.abi.min_minor << "-" << m.abi.major
            << "." << m.abi.max_minor << ")\n"
            << "  capabilities: " << Join(m.capabilities) << "\n\n  endpoints:\n";
  for (const auto& e : m.endpoints) {
    const bool overridden = host->IsOverridden(m.id, e.id);
    std::cout << "    " << std::left << std::setw(14) << e.id << std::setw(10) << e.kind
              << "region " << std::setw(7) << e.data_region << "scope " << std::setw(12)
              << e.inference_scope << e.base_url
              << (overridden ? "  (overridden -> " + host->EffectiveBaseUrl(m.id, e.id) + ")"
                             : std::string())
              << "\n";
  }
  std::cout << "\n  models:\n";
  for (const auto& model : m.models) {
    std::cout << "    " << std::setw(24) << model.id
              << (model.endpoints.empty() ? std::string("all inference endpoints")
                                          : Join(model.endpoints))
              << "\n";
  }
  std::cout << "\n  filings claimed (count only when the registry corroborates them):\n";
  if (m.filings.empty()) std::cout << "    none\n";
  for (const auto& f : m.filings) {
    std::cout << "    " << f.kind << " " << f.number << " (" << f.holder << ") for "
              << Join(f.models) << "\n";
  }
  std::cout << "\n  settings:\n";
  if (m.settings.empty()) std::cout << "    none\n";
  for (const auto& s : m.settings) {
    std::cout << "    " << std::setw(20) << s.key << std::setw(9) << s.type << std::setw(10)
              << (s.required ? "required" : "optional") << "default " << std::setw(20)
              << (s.default_value.is_null() ? std::string("-") : s.default_value.dump())
              << s.description << (s.secret ? " [names a secret]" : "") << "\n";
  }
  return kExitOk;
}

}  // namespace

void RegisterPlugins(CLI::App& app, CliContext& ctx) {
  auto* plugins = app.add_subcommand("plugins", "list and describe the loaded plug-ins");
  plugins->require_subcommand(1);

  struct Options {
    bool json = false;
    std::string name;
  };
  auto list_opts = std::make_shared<Options>();
  auto* list = plugins->add_subcommand("list", "list plug-ins found in the plug-in directories");
  list->add_flag("--json", list_opts->json,
                 "print JSON: {\"plugins\":[manifest...],\"refused\":[...]}");
  list->callback([&ctx, list_opts] { ctx.exit_code = List(ctx, list_opts->json); });

  auto describe_opts = std::make_shared<Options>();
  auto* describe = plugins->add_subcommand("describe", "show one plug-in's manifest and settings");
  describe->add_option("NAME", describe_opts->name, "plug-in id")->required();
  describe->add_flag("--json", describe_opts->json, "print the manifest as JSON");
  describe->callback([&ctx, describe_opts] {
    ctx.exit_code = Describe(ctx, describe_opts->name, describe_opts->json);
  });
}

}  // namespace rg::tools
