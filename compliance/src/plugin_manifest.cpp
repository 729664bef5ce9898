#include "regiongate/compliance/plugin_manifest.hpp"

#include <algorithm>
#include <map>

#include "regiongate/compliance/yaml_reader.hpp"

namespace rg::compliance {
namespace {

using detail::Field;
using detail::MapReader;
using detail::Pos;
using detail::Reader;
using detail::Value;
using detail::ValueType;

const std::vector<std::string> kEndpointKinds = {"inference", "auth"};
const std::vector<std::string> kFilingKinds = {"cac-genai", "cac-algorithm"};
const std::vector<std::string> kSettingTypes = {"string", "integer", "number", "boolean"};
constexpr int64_t kSchemaVersion = 1;

bool IsPlainFileName(std::string_view s) {
  if (s.empty() || s == "." || s == "..") return false;
  return std::none_of(s.begin(), s.end(),
                      [](char c) { return c == '/' || c == '\\' || c == '\0'; });
}

void SortByPosition(Diagnostics* diagnostics) {
  std::stable_sort(diagnostics->begin(), diagnostics->end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                   });
}

class PluginManifestParser {
 public:
  PluginManifestParser(const std::string& file, Diagnostics* out) : r_(file, out) {}

  void Parse(const YAML::Node& root, PluginManifest* m) {
    MapReader doc = r_.Root(root, {{"schema_version", true},
                                   {"id", true},
                                   {"version", true},
                                   {"vendor", true},
                                   {"description", false},
                                   {"library", true},
                                   {"sha256", true},
                                   {"abi", true},
                                   {"capabilities", false},
                                   {"endpoints", true},
                                   {"models", true},
                                   {"filings", false},
                                   {"settings", false}});
    if (!doc.ok()) return;
    r_.CheckSchemaVersion(doc, kSchemaVersion);
    m->id = doc.Checked("id", detail::IsIdentifier,
                        "a lower-case id: a letter, then up to 63 of a-z, 0-9, '_', '-'")
                .value_or("");
    m->version =
        doc.Checked("version", detail::IsSemver, "a semantic version such as '1.2.3'").value_or("");
    m->vendor = doc.String("vendor").value_or("");
    m->description = doc.String("description", /*allow_empty=*/true).value_or("");
    m->library = doc.Checked("library", IsPlainFileName,
                             "a file name in the manifest's directory, without '/' or '\\'")
                     .value_or("");
    m->sha256 = doc.Checked("sha256", detail::IsSha256Hex,
                            "the library's SHA-256 as 64 lower-case hex characters")
                    .value_or("");
    if (std::optional<Value> v = doc.Get("abi")) ParseAbi(*v, &m->abi);
    m->capabilities = doc.EnumList("capabilities", KnownCapabilities());
    if (std::optional<std::vector<Value>> items = doc.List("endpoints", /*allow_empty=*/false)) {
      ParseEndpoints(*items, doc.Get("endpoints")->pos, m);
    }
    if (std::optional<std::vector<Value>> items = doc.List("models", /*allow_empty=*/false)) {
      ParseModels(*items, m);
    }
    if (std::optional<std::vector<Value>> items = doc.List("filings")) ParseFilings(*items, m);
    if (std::optional<std::vector<Value>> items = doc.List("settings")) ParseSettings(*items, m);
  }

 private:
  void ParseAbi(const Value& v, AbiRange* abi) {
    MapReader map = r_.Map(v, {{"major", true}, {"min_minor", true}, {"max_minor", true}});
    if (!map.ok()) return;
    std::optional<int64_t> major = map.Integer("major", 0, 65535);
    std::optional<int64_t> min_minor = map.Integer("min_minor", 0, 65535);
    std::optional<int64_t> max_minor = map.Integer("max_minor", 0, 65535);
    if (major) abi->major = static_cast<uint16_t>(*major);
    if (min_minor) abi->min_minor = static_cast<uint16_t>(*min_minor);
    if (max_minor) abi->max_minor = static_cast<uint16_t>(*max_minor);
    if (min_minor && max_minor && *min_minor > *max_minor) {
      r_.Report(map.Get("min_minor")->pos, "RG-M102",
                "'abi.min_minor' (" + std::to_string(*min_minor) + ") is greater than " +
                    "'abi.max_minor' (" + std::to_string(*max_minor) +
                    "); give the lowest and highest host minor the plug-in supports");
    }
  }

  void ParseEndpoints(const std::vector<Value>& items, Pos list_pos, PluginManifest* m) {
    std::map<std::string, int> first_line;
    bool any_inference = false;
    bool kind_unknown = false;
    for (const Value& item : items) {
      MapReader map = r_.Map(item, {{"id", true},
                                    {"kind", false},
                                    {"base_url", true},
                                    {"data_region", true},
                                    {"inference_scope", true},
                                    {"protocol", false}});
      if (!map.ok()) continue;
      EndpointDecl e;
      e.line = map.pos().line;
      e.column = map.pos().column;
      e.id = map.Checked("id", detail::IsIdentifier,
                         "a lower-case id: a letter, then up to 63 of a-z, 0-9, '_', '-'")
                 .value_or("");
      e.kind = map.Has("kind") ? map.Enum("kind", kEndpointKinds).value_or("") : "inference";
      e.base_url =
          map.Checked("base_url", detail::IsHttpUrl, "an http:// or https:// URL without spaces")
              .value_or("");
      e.data_region = map.Enum("data_region", KnownDataRegions()).value_or("");
      e.inference_scope = map.Enum("inference_scope", KnownInferenceScopes()).value_or("");
      e.protocol = map.String("protocol").value_or("");
      if (e.kind == "inference") any_inference = true;
      if (e.kind.empty()) kind_unknown = true;
      if (!e.id.empty()) {
        if (auto [it, inserted] = first_line.emplace(e.id, map.KeyPos("id").line); !inserted) {
          r_.Report(map.Get("id")->pos, "RG-M011",
                    "'" + map.PathOf("id") + "' repeats endpoint id '" + e.id +
                        "' (first at line " + std::to_string(it->second) +
                        "); give each endpoint its own id");
          continue;
        }
      }
      m->endpoints.push_back(std::move(e));
    }
    if (!items.empty() && !any_inference && !kind_unknown) {
      r_.Report(list_pos, "RG-M103",
                "'endpoints' declares no inference endpoint; add one with kind: inference");
    }
  }

  std::vector<std::string> EndpointIds(const PluginManifest& m, const std::string& kind) {
    std::vector<std::string> ids;
    for (const EndpointDecl& e : m.endpoints) {
      if (kind.empty() || e.kind == kind) ids.push_back(e.id);
    }
    return ids;
  }

  void ParseModels(const std::vector<Value>& items, PluginManifest* m) {
    std::map<std::string, int> first_line;
    const std::vector<std::string> all_endpoints = EndpointIds(*m, "");
    const std::vector<std::string> inference = EndpointIds(*m, "inference");
    for (const Value& item : items) {
      MapReader map = r_.Map(item, {{"id", true}, {"endpoints", false}});
      if (!map.ok()) continue;
      ModelDecl model;
      model.line = map.pos().line;
      model.column = map.pos().column;
      model.id = map.Checked("id", detail::IsModelId,
                             "a model id: letters, digits and . _ : / - (up to 128)")
                     .value_or("");
      if (std::optional<std::vector<Value>> refs = map.List("endpoints", /*allow_empty=*/false)) {
        for (const Value& ref : *refs) {
          std::optional<std::string> id = r_.String(ref);
          if (!id) continue;
          if (std::find(model.endpoints.begin(), model.endpoints.end(), *id) !=
              model.endpoints.end()) {
            r_.Report(ref.pos, "RG-M011",
                      "'" + ref.path + "' repeats '" + *id + "'; list each value once");
            continue;
          }
          if (std::find(all_endpoints.begin(), all_endpoints.end(), *id) == all_endpoints.end()) {
            r_.Report(ref.pos, "RG-M012",
                      "'" + ref.path + "' names unknown endpoint '" + *id +
                          "'; declare it under 'endpoints' or fix the id",
                      detail::DidYouMean(*id, inference));
            continue;
          }
          if (std::find(inference.begin(), inference.end(), *id) == inference.end()) {
            r_.Report(ref.pos, "RG-M103",
                      "'" + ref.path + "' names '" + *id +
                          "', an auth endpoint; models are served by inference endpoints");
            continue;
          }
          model.endpoints.push_back(*id);
        }
      }
      if (!model.id.empty()) {
        if (auto [it, inserted] = first_line.emplace(model.id, map.KeyPos("id").line); !inserted) {
          r_.Report(map.Get("id")->pos, "RG-M011",
                    "'" + map.PathOf("id") + "' repeats model id '" + model.id +
                        "' (first at line " + std::to_string(it->second) +
                        "); declare each model once");
          continue;
        }
      }
      m->models.push_back(std::move(model));
    }
  }

  void ParseFilings(const std::vector<Value>& items, PluginManifest* m) {
    std::vector<std::string> model_ids;
    for (const ModelDecl& model : m->models) model_ids.push_back(model.id);
    for (const Value& item : items) {
      MapReader map =
          r_.Map(item, {{"kind", true}, {"number", true}, {"holder", true}, {"models", true}});
      if (!map.ok()) continue;
      FilingClaim f;
      f.line = map.pos().line;
      f.column = map.pos().column;
      f.kind = map.Enum("kind", kFilingKinds).value_or("");
      f.number = map.String("number").value_or("");
      f.holder = map.String("holder").value_or("");
      if (std::optional<std::vector<Value>> refs = map.List("models", /*allow_empty=*/false)) {
        for (const Value& ref : *refs) {
          std::optional<std::string> id = r_.String(ref);
          if (!id) continue;
          if (std::find(model_ids.begin(), model_ids.end(), *id) == model_ids.end()) {
            r_.Report(ref.pos, "RG-M012",
                      "'" + ref.path + "' names unknown model '" + *id +
                          "'; declare it under 'models' or fix the id",
                      detail::DidYouMean(*id, model_ids));
            continue;
          }
          if (std::find(f.models.begin(), f.models.end(), *id) != f.models.end()) {
            r_.Report(ref.pos, "RG-M011",
                      "'" + ref.path + "' repeats '" + *id + "'; list each value once");
            continue;
          }
          f.models.push_back(*id);
        }
      }
      m->filings.push_back(std::move(f));
    }
  }

  void ParseSettings(const std::vector<Value>& items, PluginManifest* m) {
    std::map<std::string, int> first_line;
    for (const Value& item : items) {
      MapReader map = r_.Map(item, {{"key", true},
                                    {"type", true},
                                    {"default", false},
                                    {"required", false},
                                    {"secret", false},
                                    {"description", true}});
      if (!map.ok()) continue;
      SettingDecl s;
      s.key = map.Checked("key", detail::IsSettingKey,
                          "a lower-case key: a letter, then up to 63 of a-z, 0-9, '_'")
                  .value_or("");
      s.type = map.Enum("type", kSettingTypes).value_or("");
      s.required = map.Boolean("required").value_or(false);
      s.secret = map.Boolean("secret").value_or(false);
      s.description = map.String("description").value_or("");
      if (std::optional<Value> d = map.Get("default"); d && !s.type.empty()) {
        const ValueType type = detail::TypeOf(d->node);
        const bool matches =
            (s.type == "string" && type == ValueType::kString) ||
            (s.type == "integer" && type == ValueType::kInt) ||
            (s.type == "number" && (type == ValueType::kInt || type == ValueType::kFloat)) ||
            (s.type == "boolean" && type == ValueType::kBool);
        if (matches) {
          s.default_value = detail::ToJson(d->node);
        } else {
          r_.Report(d->pos, "RG-M104",
                    "'" + d->path + "' must be " +
                        (s.type == "integer" ? std::string("an ") : std::string("a ")) + s.type +
                        " to match type '" + s.type + "', got " +
                        std::string(detail::Describe(type)));
        }
      }
      if (s.secret && !s.type.empty() && s.type != "string") {
        r_.Report(map.Get("secret")->pos, "RG-M105",
                  "'" + map.PathOf("secret") + "' is true but the type is '" + s.type +
                      "'; a secret setting names a secret (env var or file), so use type: string");
      }
      if (!s.key.empty()) {
        if (auto [it, inserted] = first_line.emplace(s.key, map.KeyPos("key").line); !inserted) {
          r_.Report(map.Get("key")->pos, "RG-M011",
                    "'" + map.PathOf("key") + "' repeats setting '" + s.key + "' (first at line " +
                        std::to_string(it->second) + "); declare each setting once");
          continue;
        }
      }
      m->settings.push_back(std::move(s));
    }
  }

  Reader r_;
};

}  // namespace

const std::vector<std::string>& KnownDataRegions() {
  static const std::vector<std::string> kValues = {"CN", "HK", "SG", "US", "EU", "JP", "GLOBAL"};
  return kValues;
}

const std::vector<std::string>& KnownInferenceScopes() {
  static const std::vector<std::string> kValues = {
      "cn-mainland", "cn-elastic", "intl-ex-cn", "us", "eu", "hk", "jp", "sg", "global"};
  return kValues;
}

const std::vector<std::string>& KnownCapabilities() {
  static const std::vector<std::string> kValues = {"streaming",       "usage",        "tools",
                                                   "provider_blocks", "cancellation", "json_mode"};
  return kValues;
}

const EndpointDecl* PluginManifest::FindEndpoint(std::string_view endpoint_id) const {
  for (const EndpointDecl& e : endpoints) {
    if (e.id == endpoint_id) return &e;
  }
  return nullptr;
}

const ModelDecl* PluginManifest::FindModel(std::string_view model_id) const {
  for (const ModelDecl& m : models) {
    if (m.id == model_id) return &m;
  }
  return nullptr;
}

bool PluginManifest::HasCapability(std::string_view capability) const {
  return std::find(capabilities.begin(), capabilities.end(), capability) != capabilities.end();
}

nlohmann::json PluginManifest::ToJson() const {
  nlohmann::json j;
  j["schema_version"] = kSchemaVersion;
  j["id"] = id;
  j["version"] = version;
  j["vendor"] = vendor;
  j["description"] = description;
  j["library"] = library;
  j["sha256"] = sha256;
  j["manifest_path"] = manifest_path.string();
  j["library_path"] = library_path.string();
  j["abi"] = {{"major", abi.major}, {"min_minor", abi.min_minor}, {"max_minor", abi.max_minor}};
  j["capabilities"] = capabilities;
  j["endpoints"] = nlohmann::json::array();
  for (const EndpointDecl& e : endpoints) {
    nlohmann::json ej = {{"id", e.id},
                         {"kind", e.kind},
                         {"base_url", e.base_url},
                         {"data_region", e.data_region},
                         {"inference_scope", e.inference_scope}};
    if (!e.protocol.empty()) ej["protocol"] = e.protocol;
    j["endpoints"].push_back(std::move(ej));
  }
  j["models"] = nlohmann::json::array();
  for (const ModelDecl& model : models) {
    nlohmann::json mj = {{"id", model.id}};
    if (!model.endpoints.empty()) mj["endpoints"] = model.endpoints;
    j["models"].push_back(std::move(mj));
  }
  j["filings"] = nlohmann::json::array();
  for (const FilingClaim& f : filings) {
    j["filings"].push_back(
        {{"kind", f.kind}, {"number", f.number}, {"holder", f.holder}, {"models", f.models}});
  }
  j["settings"] = nlohmann::json::array();
  for (const SettingDecl& s : settings) {
    j["settings"].push_back({{"key", s.key},
                             {"type", s.type},
                             {"default", s.default_value},
                             {"required", s.required},
                             {"secret", s.secret},
                             {"description", s.description}});
  }
  return j;
}

Diagnostics ParsePluginManifest(std::string_view yaml, const std::string& file,
                                PluginManifest* manifest,
                                const std::filesystem::path& manifest_path) {
  Diagnostics diagnostics;
  try {
    YAML::Node root;
    if (detail::ParseYaml(yaml, file, &root, &diagnostics)) {
      PluginManifest parsed;
      PluginManifestParser(file, &diagnostics).Parse(root, &parsed);
      if (!HasErrors(diagnostics) && manifest != nullptr) {
        if (!manifest_path.empty()) {
          parsed.manifest_path = manifest_path;
          parsed.library_path = manifest_path.parent_path() / parsed.library;
        }
        *manifest = std::move(parsed);
      }
    }
  } catch (const std::exception& e) {
    // yaml-cpp may throw from accessors on malformed graphs; never let it escape.
    diagnostics.push_back(Diagnostic{file, 0, 0, Severity::kError, "RG-M002",
                                     std::string("cannot read the manifest: ") + e.what(), ""});
  }
  SortByPosition(&diagnostics);
  return diagnostics;
}

Diagnostics CheckPluginManifest(const std::filesystem::path& path, PluginManifest* manifest) {
  Diagnostics diagnostics;
  std::string bytes;
  const std::string file = path.string();
  if (!detail::ReadFileBytes(path, file, &bytes, &diagnostics)) return diagnostics;
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec).lexically_normal();
  if (ec) absolute = path;
  return ParsePluginManifest(bytes, file, manifest, absolute);
}

Result<PluginManifest> LoadPluginManifest(const std::filesystem::path& path) {
  PluginManifest manifest;
  Diagnostics diagnostics = CheckPluginManifest(path, &manifest);
  if (HasErrors(diagnostics)) {
    std::string message;
    for (const Diagnostic& d : diagnostics) {
      if (!message.empty()) message += '\n';
      message += d.ToString();
    }
    return Error{"RG-M100", std::move(message)};
  }
  return manifest;
}

}  // namespace rg::compliance
