#include "regiongate/compliance/filing_registry.hpp"

#include <algorithm>
#include <map>

#include "regiongate/compliance/sha256.hpp"
#include "regiongate/compliance/yaml_reader.hpp"

namespace rg::compliance {
namespace {

using detail::MapReader;
using detail::Reader;
using detail::Value;

constexpr int64_t kSchemaVersion = 1;
const std::vector<std::string> kFilingKinds = {"cac-genai", "cac-algorithm"};
const std::vector<std::string> kStatuses = {"verified", "pending", "revoked"};

void Parse(const YAML::Node& root, Reader& r, std::vector<RegistryEntry>* entries) {
  MapReader doc = r.Root(root, {{"schema_version", true}, {"filings", true}});
  if (!doc.ok()) return;
  r.CheckSchemaVersion(doc, kSchemaVersion);
  std::optional<std::vector<Value>> items = doc.List("filings");
  if (!items) return;
  std::map<std::string, int> first_line;
  for (const Value& item : *items) {
    MapReader map = r.Map(item, {{"kind", true},
                                 {"number", true},
                                 {"holder", true},
                                 {"service", false},
                                 {"models", true},
                                 {"status", true},
                                 {"verified_on", false},
                                 {"verified_by", false},
                                 {"source", false},
                                 {"note", false}});
    if (!map.ok()) continue;
    RegistryEntry e;
    e.file = r.file();
    e.line = map.pos().line;
    e.column = map.pos().column;
    e.kind = map.Enum("kind", kFilingKinds).value_or("");
    e.number = map.String("number").value_or("");
    e.holder = map.String("holder").value_or("");
    e.service = map.String("service").value_or("");
    e.models = map.StringList("models", detail::IsModelId,
                              "a model id: letters, digits and . _ : / - (up to 128)",
                              /*allow_empty=*/false);
    e.status = map.Enum("status", kStatuses).value_or("");
    if (std::optional<std::string> d =
            map.Checked("verified_on", detail::IsIsoDate, "a date written YYYY-MM-DD")) {
      e.verified_on = ParseDate(*d);
    }
    e.verified_by = map.String("verified_by").value_or("");
    e.source = map.String("source").value_or("");
    e.note = map.String("note", /*allow_empty=*/true).value_or("");
    if (e.status == "verified" && !map.Has("verified_on")) {
      r.Report(map.pos(), "RG-M301",
               "filing '" + e.number + "' in " + map.path() +
                   " has status verified but no 'verified_on'; add the date you checked it");
    }
    if (!e.number.empty()) {
      auto [it, inserted] = first_line.emplace(e.number, e.line);
      if (!inserted) {
        r.Report(map.Get("number")->pos, "RG-M011",
                 "'" + map.PathOf("number") + "' repeats filing '" + e.number +
                     "' (first at line " + std::to_string(it->second) + "); keep one entry");
        continue;
      }
    }
    entries->push_back(std::move(e));
  }
}

void SortByPosition(Diagnostics* diagnostics) {
  std::stable_sort(diagnostics->begin(), diagnostics->end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                   });
}

}  // namespace

bool RegistryEntry::Covers(std::string_view model) const {
  return std::find(models.begin(), models.end(), model) != models.end();
}

const RegistryEntry* FilingRegistry::Find(std::string_view kind, std::string_view number) const {
  for (const RegistryEntry& e : entries) {
    if (e.kind == kind && e.number == number) return &e;
  }
  return nullptr;
}

nlohmann::json FilingRegistry::ToJson() const {
  nlohmann::json j = nlohmann::json::array();
  for (const RegistryEntry& e : entries) {
    nlohmann::json ej = {{"kind", e.kind},     {"number", e.number}, {"holder", e.holder},
                         {"models", e.models}, {"status", e.status}, {"file", e.file}};
    if (!e.service.empty()) ej["service"] = e.service;
    if (e.verified_on) ej["verified_on"] = FormatDate(*e.verified_on);
    if (!e.verified_by.empty()) ej["verified_by"] = e.verified_by;
    if (!e.source.empty()) ej["source"] = e.source;
    if (!e.note.empty()) ej["note"] = e.note;
    j.push_back(std::move(ej));
  }
  return {{"filings", j}, {"revisions", revisions}};
}

Diagnostics ParseRegistry(std::string_view yaml, const std::string& file,
                          FilingRegistry* registry) {
  Diagnostics diagnostics;
  try {
    YAML::Node root;
    if (detail::ParseYaml(yaml, file, &root, &diagnostics)) {
      Reader reader(file, &diagnostics);
      std::vector<RegistryEntry> entries;
      Parse(root, reader, &entries);
      if (!HasErrors(diagnostics) && registry != nullptr) {
        for (RegistryEntry& e : entries) registry->entries.push_back(std::move(e));
        registry->revisions.push_back(Sha256Hex(yaml));
      }
    }
  } catch (const std::exception& e) {
    diagnostics.push_back(Diagnostic{file, 0, 0, Severity::kError, "RG-M002",
                                     std::string("cannot read the registry: ") + e.what(), ""});
  }
  SortByPosition(&diagnostics);
  return diagnostics;
}

Diagnostics CheckRegistryFile(const std::filesystem::path& path, FilingRegistry* registry) {
  Diagnostics diagnostics;
  std::string bytes;
  if (!detail::ReadFileBytes(path, path.string(), &bytes, &diagnostics)) return diagnostics;
  return ParseRegistry(bytes, path.string(), registry);
}

}  // namespace rg::compliance
