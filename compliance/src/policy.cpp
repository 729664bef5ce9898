#include "regiongate/compliance/policy.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "regiongate/compliance/yaml_reader.hpp"

namespace rg::compliance {
namespace {

namespace fs = std::filesystem;

std::string Where(const std::string& file, SourcePos pos) {
  return file + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column);
}

Diagnostic Make(const std::string& file, SourcePos pos, Severity severity, std::string id,
                std::string message, std::string suggestion = {}) {
  return Diagnostic{file,          pos.line,           pos.column,           severity,
                    std::move(id), std::move(message), std::move(suggestion)};
}

bool IsYamlFile(const fs::path& path) {
  const std::string ext = path.extension().string();
  return ext == ".yaml" || ext == ".yml";
}

/// Files of a source entry: the file itself, or a directory's *.yaml / *.yml sorted by name.
std::vector<fs::path> ListYaml(const fs::path& path, bool recursive, Diagnostics* out) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    files.push_back(path);
    return files;
  }
  if (recursive) {
    for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec) && IsYamlFile(it->path())) files.push_back(it->path());
    }
  } else {
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec) && IsYamlFile(it->path())) files.push_back(it->path());
    }
  }
  if (ec) {
    out->push_back(Diagnostic{path.string(), 0, 0, Severity::kError, "RG-M001",
                              "cannot read directory: " + ec.message(), ""});
  }
  std::sort(files.begin(), files.end());
  return files;
}

const PluginManifest* FindPlugin(const std::vector<PluginManifest>& plugins, std::string_view id) {
  for (const PluginManifest& p : plugins) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

std::vector<std::string> PluginIds(const std::vector<PluginManifest>& plugins) {
  std::vector<std::string> ids;
  for (const PluginManifest& p : plugins) ids.push_back(p.id);
  return ids;
}

class CrossChecker {
 public:
  CrossChecker(const std::vector<PluginManifest>& plugins, Diagnostics* out)
      : plugins_(plugins), ids_(PluginIds(plugins)), out_(out) {}

  void Run(const PolicySet& policy) {
    std::map<std::string, std::pair<const RegionManifest*, SourcePos>> locales;
    std::map<std::string, const RegionManifest*> regions;
    std::map<std::string, std::pair<const RegionManifest*, const Rule*>> rules;
    for (const RegionManifest& m : policy.regions) {
      if (auto [it, inserted] = regions.emplace(m.region, &m); !inserted) {
        out_->push_back(Make(m.file, m.region_pos, Severity::kError, "RG-M402",
                             "region id '" + m.region + "' is already used by " +
                                 Where(it->second->file, it->second->region_pos) +
                                 "; give each region its own id"));
      }
      for (size_t i = 0; i < m.locales.size(); ++i) {
        const SourcePos pos{m.locale_lines[i], m.locale_columns[i]};
        auto [it, inserted] = locales.emplace(m.locales[i], std::make_pair(&m, pos));
        if (!inserted) {
          out_->push_back(Make(m.file, pos, Severity::kError, "RG-M401",
                               "locale '" + m.locales[i] + "' is already covered by region '" +
                                   it->second.first->region + "' (" +
                                   Where(it->second.first->file, it->second.second) +
                                   "); a locale resolves to exactly one region, remove it from "
                                   "one of them"));
        }
      }
      for (const Rule& rule : m.rules) {
        auto [it, inserted] = rules.emplace(rule.id, std::make_pair(&m, &rule));
        if (!inserted) {
          out_->push_back(Make(m.file, {rule.line, rule.column}, Severity::kError, "RG-M403",
                               "rule id '" + rule.id + "' is also used at " +
                                   Where(it->second.first->file,
                                         {it->second.second->line, it->second.second->column}) +
                                   "; rule ids must be unique across regions"));
        }
      }
      if (!plugins_.empty()) CheckReferences(m);
    }
    std::map<std::pair<std::string, std::string>, const RegistryEntry*> filings;
    for (const RegistryEntry& e : policy.registry.entries) {
      auto [it, inserted] = filings.emplace(std::make_pair(e.kind, e.number), &e);
      if (!inserted) {
        out_->push_back(Make(e.file, {e.line, e.column}, Severity::kError, "RG-M404",
                             "filing '" + e.number + "' is already listed at " +
                                 Where(it->second->file, {it->second->line, it->second->column}) +
                                 "; keep one entry"));
      }
    }
  }

 private:
  void CheckReferences(const RegionManifest& m) {
    for (const Rule& rule : m.rules) {
      const std::string who = "rule '" + rule.id + "'";
      for (const Selector& s : rule.match) CheckSelector(m, s, who);
      for (const Selector& s : rule.applies_to) CheckSelector(m, s, who);
      if (rule.kind == RuleKind::kPinBinary) CheckPlugin(m, rule.plugin, rule.plugin_pos, who);
    }
    for (const Selector& s : m.priority) CheckSelector(m, s, "a priority entry");
  }

  const PluginManifest* CheckPlugin(const RegionManifest& m, const std::string& id, SourcePos pos,
                                    const std::string& who) {
    if (const PluginManifest* p = FindPlugin(plugins_, id)) return p;
    std::string suggestion = detail::DidYouMean(id, ids_);
    if (!suggestion.empty()) {
      out_->push_back(Make(
          m.file, pos, Severity::kError, "RG-M405",
          who + " names unknown plug-in '" + id + "'; fix the id or load the plug-in's manifest",
          std::move(suggestion)));
    } else {
      // A plug-in the team plans to ship: the rule is kept and takes effect once it loads.
      out_->push_back(Make(m.file, pos, Severity::kWarning, "RG-M406",
                           who + " names plug-in '" + id +
                               "', which is not loaded (known: " + detail::JoinList(ids_) +
                               "); it takes effect once the plug-in is "
                               "installed"));
    }
    return nullptr;
  }

  void CheckSelector(const RegionManifest& m, const Selector& s, const std::string& who) {
    const PluginManifest* p = CheckPlugin(m, s.plugin, s.plugin_pos, who);
    if (p == nullptr) return;
    std::vector<std::string> model_ids;
    for (const ModelDecl& model : p->models) model_ids.push_back(model.id);
    for (size_t i = 0; i < s.models.size(); ++i) {
      if (p->FindModel(s.models[i]) != nullptr) continue;
      out_->push_back(
          Make(m.file, s.model_pos[i], Severity::kError, "RG-M407",
               who + " names model '" + s.models[i] + "', which plug-in '" + p->id +
                   "' does not declare; fix the id (models: " + detail::JoinList(model_ids) + ")",
               detail::DidYouMean(s.models[i], model_ids)));
    }
    std::vector<std::string> endpoint_ids;
    for (const EndpointDecl& e : p->endpoints) endpoint_ids.push_back(e.id);
    for (size_t i = 0; i < s.endpoints.size(); ++i) {
      if (p->FindEndpoint(s.endpoints[i]) != nullptr) continue;
      out_->push_back(Make(
          m.file, s.endpoint_pos[i], Severity::kError, "RG-M408",
          who + " names endpoint '" + s.endpoints[i] + "', which plug-in '" + p->id +
              "' does not declare; fix the id (endpoints: " + detail::JoinList(endpoint_ids) + ")",
          detail::DidYouMean(s.endpoints[i], endpoint_ids)));
    }
  }

  const std::vector<PluginManifest>& plugins_;
  std::vector<std::string> ids_;
  Diagnostics* out_;
};

enum class FileKind { kRegion, kRegistry, kPlugin, kUnknown };

FileKind Classify(const fs::path& path) {
  const std::string parent = path.parent_path().filename().string();
  if (parent == "regions") return FileKind::kRegion;
  if (parent == "registry") return FileKind::kRegistry;
  if (path.filename() == "plugin.yaml") return FileKind::kPlugin;
  std::string bytes;
  Diagnostics ignored;
  if (!detail::ReadFileBytes(path, path.string(), &bytes, &ignored)) return FileKind::kUnknown;
  try {
    YAML::Node root = YAML::Load(bytes);
    if (!root.IsMap()) return FileKind::kUnknown;
    std::set<std::string> keys;
    for (auto it = root.begin(); it != root.end(); ++it) {
      if (it->first.IsScalar()) keys.insert(it->first.Scalar());
    }
    if (keys.count("region") || keys.count("rules")) return FileKind::kRegion;
    if (keys.count("library") || keys.count("abi")) return FileKind::kPlugin;
    if (keys.count("filings") && !keys.count("id")) return FileKind::kRegistry;
  } catch (const std::exception&) {
  }
  return FileKind::kUnknown;
}

}  // namespace

const RegionManifest* PolicySet::ResolveLocale(std::string_view locale) const {
  const std::string canonical = CanonicalLocale(locale);
  for (const RegionManifest& m : regions) {
    if (m.CoversLocale(canonical)) return &m;
  }
  return nullptr;
}

const RegionManifest* PolicySet::FindRegion(std::string_view region_id) const {
  for (const RegionManifest& m : regions) {
    if (m.region == region_id) return &m;
  }
  return nullptr;
}

std::vector<std::string> PolicySet::AllLocales() const {
  std::vector<std::string> out;
  for (const RegionManifest& m : regions) out.insert(out.end(), m.locales.begin(), m.locales.end());
  return out;
}

PolicySources DefaultPolicySources(const std::filesystem::path& config_dir) {
  return PolicySources{{config_dir / "regions"}, {config_dir / "registry"}};
}

Diagnostics CheckPolicy(const PolicySet& policy, const std::vector<PluginManifest>& plugins) {
  Diagnostics out;
  CrossChecker(plugins, &out).Run(policy);
  return out;
}

Diagnostics LoadPolicy(const PolicySources& sources, const std::vector<PluginManifest>& plugins,
                       PolicySet* policy) {
  Diagnostics out;
  PolicySet loaded;
  for (const fs::path& source : sources.regions) {
    for (const fs::path& file : ListYaml(source, /*recursive=*/false, &out)) {
      RegionManifest m;
      Diagnostics d = CheckRegionManifest(file, &m);
      const bool ok = !HasErrors(d);
      out.insert(out.end(), d.begin(), d.end());
      if (ok) loaded.regions.push_back(std::move(m));
    }
  }
  for (const fs::path& source : sources.registry) {
    std::error_code ec;
    // No registry corroborates nothing: every required filing then denies (fail closed).
    if (!fs::exists(source, ec)) continue;
    for (const fs::path& file : ListYaml(source, /*recursive=*/false, &out)) {
      Diagnostics d = CheckRegistryFile(file, &loaded.registry);
      out.insert(out.end(), d.begin(), d.end());
    }
  }
  if (loaded.regions.empty() && !HasErrors(out)) {
    std::string where;
    for (const fs::path& source : sources.regions)
      where += (where.empty() ? "" : ", ") + source.string();
    out.push_back(Diagnostic{where, 0, 0, Severity::kError, "RG-M410",
                             "no region manifest found; every locale would be denied, add "
                             "config/regions/<region>.yaml",
                             ""});
  }
  Diagnostics cross = CheckPolicy(loaded, plugins);
  out.insert(out.end(), cross.begin(), cross.end());
  if (!HasErrors(out) && policy != nullptr) *policy = std::move(loaded);
  return out;
}

Diagnostics LoadPluginManifests(const std::vector<std::filesystem::path>& paths,
                                std::vector<PluginManifest>* plugins) {
  Diagnostics out;
  std::vector<fs::path> files;
  for (const fs::path& path : paths) {
    std::error_code ec;
    if (!fs::is_directory(path, ec)) {
      files.push_back(path);
      continue;
    }
    if (fs::exists(path / "plugin.yaml", ec)) files.push_back(path / "plugin.yaml");
    std::vector<fs::path> found;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_directory(ec) && fs::exists(it->path() / "plugin.yaml", ec)) {
        found.push_back(it->path() / "plugin.yaml");
      }
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  for (const fs::path& file : files) {
    PluginManifest p;
    Diagnostics d = CheckPluginManifest(file, &p);
    out.insert(out.end(), d.begin(), d.end());
    if (HasErrors(d)) continue;
    if (const PluginManifest* known = FindPlugin(*plugins, p.id)) {
      out.push_back(Diagnostic{file.string(), 0, 0, Severity::kError, "RG-M411",
                               "plug-in id '" + p.id + "' is also declared by " +
                                   known->manifest_path.string() + "; plug-in ids must be unique",
                               ""});
      continue;
    }
    plugins->push_back(std::move(p));
  }
  return out;
}

std::string ValidationReport::ToText() const {
  std::string out;
  size_t errors = 0;
  size_t warnings = 0;
  for (const Diagnostic& d : diagnostics) {
    out += d.ToString() + "\n";
    (d.severity == Severity::kError ? errors : warnings)++;
  }
  out += "checked " + std::to_string(files.size()) + (files.size() == 1 ? " file: " : " files: ");
  if (errors == 0 && warnings == 0) return out + "all valid\n";
  out += std::to_string(errors) + (errors == 1 ? " error" : " errors");
  out += ", " + std::to_string(warnings) + (warnings == 1 ? " warning" : " warnings");
  return out + "\n";
}

nlohmann::json ValidationReport::ToJson() const {
  nlohmann::json list = nlohmann::json::array();
  size_t errors = 0;
  for (const Diagnostic& d : diagnostics) {
    if (d.severity == Severity::kError) ++errors;
    list.push_back({{"file", d.file},
                    {"line", d.line},
                    {"column", d.column},
                    {"severity", d.severity == Severity::kError ? "error" : "warning"},
                    {"id", d.id},
                    {"message", d.message},
                    {"suggestion", d.suggestion}});
  }
  return {{"ok", ok()},
          {"files", files},
          {"errors", errors},
          {"warnings", diagnostics.size() - errors},
          {"diagnostics", list}};
}

ValidationReport Validate(const std::vector<std::filesystem::path>& paths,
                          const std::vector<PluginManifest>& known_plugins) {
  ValidationReport report;
  Diagnostics& out = report.diagnostics;
  std::vector<fs::path> files;
  for (const fs::path& path : paths) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      out.push_back(Diagnostic{path.string(), 0, 0, Severity::kError, "RG-M001",
                               "cannot read file: No such file or directory; check the path", ""});
      report.files.push_back(path.string());
      continue;
    }
    for (fs::path& f : ListYaml(path, /*recursive=*/true, &out)) files.push_back(std::move(f));
  }
  PolicySet policy;
  std::vector<PluginManifest> plugins = known_plugins;
  for (const fs::path& file : files) {
    report.files.push_back(file.string());
    Diagnostics d;
    switch (Classify(file)) {
      case FileKind::kRegion: {
        RegionManifest m;
        d = CheckRegionManifest(file, &m);
        if (!HasErrors(d)) policy.regions.push_back(std::move(m));
        break;
      }
      case FileKind::kRegistry:
        d = CheckRegistryFile(file, &policy.registry);
        break;
      case FileKind::kPlugin: {
        PluginManifest p;
        d = CheckPluginManifest(file, &p);
        if (!HasErrors(d)) {
          if (const PluginManifest* known = FindPlugin(plugins, p.id)) {
            if (known->manifest_path != p.manifest_path) {
              d.push_back(Diagnostic{file.string(), 0, 0, Severity::kError, "RG-M411",
                                     "plug-in id '" + p.id + "' is also declared by " +
                                         known->manifest_path.string() +
                                         "; plug-in ids must be unique",
                                     ""});
            }
          } else {
            plugins.push_back(std::move(p));
          }
        }
        break;
      }
      case FileKind::kUnknown:
        d.push_back(Diagnostic{file.string(), 0, 0, Severity::kError, "RG-M409",
                               "cannot tell what kind of file this is: region manifests have "
                               "'region', registry files 'filings', plug-in manifests 'library'; "
                               "put it under regions/ or registry/, or fix its keys",
                               ""});
        break;
    }
    out.insert(out.end(), d.begin(), d.end());
  }
  Diagnostics cross = CheckPolicy(policy, plugins);
  out.insert(out.end(), cross.begin(), cross.end());
  // Group by file in the order checked, then by position.
  std::map<std::string, size_t> order;
  for (size_t i = 0; i < report.files.size(); ++i) order.emplace(report.files[i], i);
  auto file_index = [&order](const std::string& file) {
    auto it = order.find(file);
    return it == order.end() ? order.size() : it->second;
  };
  std::stable_sort(out.begin(), out.end(), [&file_index](const Diagnostic& a, const Diagnostic& b) {
    const size_t ia = file_index(a.file);
    const size_t ib = file_index(b.file);
    return std::tie(ia, a.line, a.column) < std::tie(ib, b.line, b.column);
  });
  return report;
}

}  // namespace rg::compliance
