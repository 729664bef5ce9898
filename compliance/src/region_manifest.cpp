#include "regiongate/compliance/region_manifest.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "regiongate/compliance/labels.hpp"
#include "regiongate/compliance/plugin_manifest.hpp"
#include "regiongate/compliance/sha256.hpp"
#include "regiongate/compliance/yaml_reader.hpp"

namespace rg::compliance {
namespace {

using detail::Field;
using detail::MapReader;
using detail::Pos;
using detail::Reader;
using detail::Value;

constexpr int64_t kSchemaVersion = 1;

const std::vector<std::string> kRuleKinds = {"deny",      "allow_only", "require_filing",
                                             "residency", "pin_binary", "require_capabilities"};
const std::vector<std::string> kConfidences = {"primary", "secondary", "unconfirmed"};
const std::vector<std::string> kEnforcements = {"enforce", "warn", "disabled"};
const std::vector<std::string> kFilingKinds = {"cac-genai", "cac-algorithm"};
const std::vector<std::string> kRuntimeFeatures = {"content_policy", "labels", "implicit_labels",
                                                   "pii", "audit"};
const std::vector<std::string> kInputActions = {"refuse", "mask", "flag"};
const std::vector<std::string> kOutputActions = {"block", "mask", "flag"};
const std::vector<std::string> kLabelPositions = {"start", "end", "start_and_end", "ui_persistent"};
const std::vector<std::string> kImplicitSchemes = {"none", "gb45438-aigc", "c2pa"};
const std::vector<std::string> kPiiTypes = {"email",        "phone",  "cn_resident_id", "bank_card",
                                            "jp_my_number", "us_ssn", "ip_address"};
const std::vector<std::string> kPiiActions = {"allow", "mask", "block", "replace_and_restore"};
// Values of the first draft, with what to write instead (docs/pii-labels-audit.md says why).
const std::map<std::string, std::string, std::less<>> kRetiredPiiValues = {
    {"id_number", "it was split by country: write cn_resident_id, jp_my_number or us_ssn"},
    {"name",
     "personal names cannot be detected reliably without a language model, so regiongate "
     "does not look for them; remove the entry"},
    {"address",
     "postal addresses cannot be detected reliably without a language model, so "
     "regiongate does not look for them; remove the entry"},
    {"redact",
     "write replace_and_restore (the provider sees a placeholder, the caller gets the "
     "value back) or mask (the value is gone for good)"},
    {"refuse", "it is now called block"},
};

// Keys that belong to one rule kind only; any other kind rejects them.
const std::map<std::string, std::vector<std::string>, std::less<>> kKindKeys = {
    {"match", {"deny", "allow_only"}},
    {"filing_kinds", {"require_filing"}},
    {"data_regions", {"residency"}},
    {"inference_scopes", {"residency"}},
    {"transfers", {"residency"}},
    {"plugin", {"pin_binary"}},
    {"sha256", {"pin_binary"}},
    {"plugin_capabilities", {"require_capabilities"}},
    {"runtime", {"require_capabilities"}},
};

const char* const kIdWhat = "a lower-case id: a letter, then up to 63 of a-z, 0-9, '_', '-'";

bool IsJurisdiction(std::string_view s) {
  return s.size() == 2 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

bool IsDate(std::string_view s) { return detail::IsIsoDate(s); }

bool IsRelativePath(std::string_view s) {
  if (s.empty() || s.front() == '/') return false;
  return s.find('\0') == std::string_view::npos;
}

void SortByPosition(Diagnostics* diagnostics) {
  std::stable_sort(diagnostics->begin(), diagnostics->end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::tie(a.line, a.column) < std::tie(b.line, b.column);
                   });
}

RuleKind KindFrom(std::string_view s) {
  if (s == "allow_only") return RuleKind::kAllowOnly;
  if (s == "require_filing") return RuleKind::kRequireFiling;
  if (s == "residency") return RuleKind::kResidency;
  if (s == "pin_binary") return RuleKind::kPinBinary;
  if (s == "require_capabilities") return RuleKind::kRequireCapabilities;
  return RuleKind::kDeny;
}

class RegionManifestParser {
 public:
  RegionManifestParser(const std::string& file, Diagnostics* out) : r_(file, out) {}

  void Parse(const YAML::Node& root, RegionManifest* m) {
    MapReader doc = r_.Root(root, {{"schema_version", true},
                                   {"region", true},
                                   {"name", true},
                                   {"jurisdiction", false},
                                   {"locales", true},
                                   {"reviewed", false},
                                   {"priority", false},
                                   {"rules", true},
                                   {"content_policy", false},
                                   {"labels", false},
                                   {"pii", false},
                                   {"audit", false}});
    if (!doc.ok()) return;
    r_.CheckSchemaVersion(doc, kSchemaVersion);
    m->region = doc.Checked("region", detail::IsIdentifier, kIdWhat).value_or("");
    if (std::optional<Value> v = doc.Get("region")) m->region_pos = {v->pos.line, v->pos.column};
    m->name = doc.String("name").value_or("");
    m->jurisdiction =
        doc.Checked("jurisdiction", IsJurisdiction, "a two-letter upper-case country code")
            .value_or("");
    if (std::optional<Value> v = doc.Get("locales")) ParseLocales(*v, m);
    if (std::optional<Value> v = doc.Get("reviewed")) m->reviewed = DateOf(*v);
    if (std::optional<std::vector<Value>> items = doc.List("priority")) {
      for (const Value& item : *items) {
        if (std::optional<Selector> s = ParseSelector(item)) m->priority.push_back(std::move(*s));
      }
    }
    if (std::optional<std::vector<Value>> items = doc.List("rules", /*allow_empty=*/false)) {
      std::map<std::string, int> first_line;
      for (const Value& item : *items) {
        std::optional<Rule> rule = ParseRule(item);
        if (!rule) continue;
        if (!rule->id.empty()) {
          auto [it, inserted] = first_line.emplace(rule->id, rule->line);
          if (!inserted) {
            r_.Report({rule->line, rule->column}, "RG-M011",
                      "'" + item.path + "' repeats rule id '" + rule->id + "' (first at line " +
                          std::to_string(it->second) + "); give each rule its own id");
            continue;
          }
        }
        m->rules.push_back(std::move(*rule));
      }
    }
    if (std::optional<Value> v = doc.Get("content_policy")) ParseContentPolicy(*v, m);
    if (std::optional<Value> v = doc.Get("labels")) ParseLabels(*v, m);
    if (std::optional<Value> v = doc.Get("pii")) ParsePii(*v, m);
    if (std::optional<Value> v = doc.Get("audit")) ParseAudit(*v, m);
    CheckContradictions(*m);
    CheckRuntimeConfigured(*m);
  }

 private:
  std::optional<Date> DateOf(const Value& v) {
    std::optional<std::string> s = r_.Checked(v, IsDate, "a date written YYYY-MM-DD");
    return s ? ParseDate(*s) : std::nullopt;
  }

  void ParseLocales(const Value& v, RegionManifest* m) {
    std::optional<std::vector<Value>> items = r_.List(v, /*allow_empty=*/false);
    if (!items) return;
    for (const Value& item : *items) {
      std::optional<std::string> s = r_.String(item);
      if (!s) continue;
      const std::string canonical = CanonicalLocale(*s);
      if (!detail::IsLocaleTag(canonical)) {
        r_.Report(item.pos, "RG-M009",
                  "'" + item.path +
                      "' must be a locale tag such as 'zh-CN' or 'zh-Hant-HK', got '" + *s + "'");
        continue;
      }
      if (canonical != *s) {
        r_.Report(item.pos, "RG-M009",
                  "'" + item.path + "' must be written in canonical case, got '" + *s + "'",
                  "did you mean '" + canonical + "'?");
        continue;
      }
      if (std::find(m->locales.begin(), m->locales.end(), *s) != m->locales.end()) {
        r_.Report(item.pos, "RG-M011",
                  "'" + item.path + "' repeats '" + *s + "'; list each value once");
        continue;
      }
      m->locales.push_back(*s);
      m->locale_lines.push_back(item.pos.line);
      m->locale_columns.push_back(item.pos.column);
    }
  }

  /// A list of ids with each item's position; bad items are reported and skipped.
  void IdList(const Value& v, bool (*valid)(std::string_view), std::string_view what,
              std::vector<std::string>* ids, std::vector<SourcePos>* positions) {
    std::optional<std::vector<Value>> items = r_.List(v, /*allow_empty=*/false);
    if (!items) return;
    for (const Value& item : *items) {
      std::optional<std::string> s = r_.Checked(item, valid, what);
      if (!s) continue;
      if (std::find(ids->begin(), ids->end(), *s) != ids->end()) {
        r_.Report(item.pos, "RG-M011",
                  "'" + item.path + "' repeats '" + *s + "'; list each value once");
        continue;
      }
      ids->push_back(*s);
      positions->push_back({item.pos.line, item.pos.column});
    }
  }

  std::optional<Selector> ParseSelector(const Value& v) {
    MapReader map = r_.Map(v, {{"plugin", true}, {"models", false}, {"endpoints", false}});
    if (!map.ok()) return std::nullopt;
    Selector s;
    s.line = map.pos().line;
    s.column = map.pos().column;
    const size_t errors = r_.error_count();
    if (std::optional<Value> p = map.Get("plugin")) {
      s.plugin = r_.Checked(*p, detail::IsIdentifier, kIdWhat).value_or("");
      s.plugin_pos = {p->pos.line, p->pos.column};
    }
    if (std::optional<Value> models = map.Get("models")) {
      IdList(*models, detail::IsModelId, "a model id: letters, digits and . _ : / - (up to 128)",
             &s.models, &s.model_pos);
    }
    if (std::optional<Value> endpoints = map.Get("endpoints")) {
      IdList(*endpoints, detail::IsIdentifier, kIdWhat, &s.endpoints, &s.endpoint_pos);
    }
    if (r_.error_count() != errors) return std::nullopt;
    return s;
  }

  std::vector<Selector> SelectorList(const MapReader& map, std::string_view key) {
    std::vector<Selector> out;
    std::optional<std::vector<Value>> items = map.List(key, /*allow_empty=*/false);
    if (!items) return out;
    for (const Value& item : *items) {
      if (std::optional<Selector> s = ParseSelector(item)) out.push_back(std::move(*s));
    }
    return out;
  }

  std::optional<Rule> ParseRule(const Value& v) {
    std::vector<Field> fields = {
        {"id", true},           {"kind", true},       {"summary", true}, {"citation", true},
        {"url", false},         {"effective", true},  {"until", false},  {"confidence", false},
        {"enforcement", false}, {"applies_to", false}};
    for (const auto& [key, kinds] : kKindKeys) fields.push_back({key, false});
    MapReader map = r_.Map(v, fields);
    if (!map.ok()) return std::nullopt;
    const size_t errors = r_.error_count();
    Rule rule;
    rule.line = map.pos().line;
    rule.column = map.pos().column;
    rule.id = map.Checked("id", detail::IsIdentifier, kIdWhat).value_or("");
    std::optional<std::string> kind = map.Enum("kind", kRuleKinds);
    if (kind) rule.kind = KindFrom(*kind);
    rule.summary = map.String("summary").value_or("");
    rule.citation = map.String("citation").value_or("");
    rule.url = map.Checked("url", detail::IsHttpUrl, "an http:// or https:// URL without spaces")
                   .value_or("");
    std::optional<Date> effective;
    if (std::optional<Value> e = map.Get("effective")) effective = DateOf(*e);
    if (effective) rule.effective = *effective;
    if (std::optional<Value> u = map.Get("until")) {
      rule.until = DateOf(*u);
      if (rule.until && effective && *rule.until <= *effective) {
        r_.Report(u->pos, "RG-M201",
                  "'" + u->path + "' (" + FormatDate(*rule.until) + ") must be after '" +
                      map.PathOf("effective") + "' (" + FormatDate(*effective) +
                      "); a rule is in force from 'effective' up to the day before 'until'");
      }
    }
    if (std::optional<std::string> c = map.Enum("confidence", kConfidences)) {
      rule.confidence = *c == "primary"     ? Confidence::kPrimary
                        : *c == "secondary" ? Confidence::kSecondary
                                            : Confidence::kUnconfirmed;
    }
    if (std::optional<std::string> e = map.Enum("enforcement", kEnforcements)) {
      rule.enforcement = *e == "enforce" ? Enforcement::kEnforce
                         : *e == "warn"  ? Enforcement::kWarn
                                         : Enforcement::kDisabled;
    }
    if (map.Has("applies_to")) rule.applies_to = SelectorList(map, "applies_to");

    if (kind) {
      for (const auto& [key, kinds] : kKindKeys) {
        if (map.Has(key) && std::find(kinds.begin(), kinds.end(), *kind) == kinds.end()) {
          r_.Report(map.KeyPos(key), "RG-M202",
                    "'" + map.PathOf(key) + "' does not apply to a rule of kind '" + *kind +
                        "'; it belongs to kind '" + kinds.front() + "', remove it or fix 'kind'");
        }
      }
      ParseKindFields(map, *kind, &rule);
    }
    if (r_.error_count() != errors) return std::nullopt;
    return rule;
  }

  void RequireKey(const MapReader& map, std::string_view key, std::string_view kind) {
    if (!map.Has(key)) {
      r_.Report(map.pos(), "RG-M203",
                "rule of kind '" + std::string(kind) + "' needs '" + std::string(key) + "' in " +
                    map.path());
    }
  }

  void ParseKindFields(const MapReader& map, const std::string& kind, Rule* rule) {
    if (kind == "deny" || kind == "allow_only") {
      RequireKey(map, "match", kind);
      if (map.Has("match")) rule->match = SelectorList(map, "match");
      // A deny or allow_only rule's 'match' already names what it concerns.
      if (map.Has("applies_to")) {
        r_.Report(map.KeyPos("applies_to"), "RG-M202",
                  "'" + map.PathOf("applies_to") + "' does not apply to a rule of kind '" + kind +
                      "'; its 'match' names what it concerns");
      }
    } else if (kind == "require_filing") {
      RequireKey(map, "filing_kinds", kind);
      rule->filing_kinds = map.EnumList("filing_kinds", kFilingKinds, /*allow_empty=*/false);
    } else if (kind == "residency") {
      if (!map.Has("data_regions") && !map.Has("inference_scopes")) {
        r_.Report(
            map.pos(), "RG-M203",
            "rule of kind 'residency' needs 'data_regions' or 'inference_scopes' in " + map.path());
      }
      rule->data_regions = map.EnumList("data_regions", KnownDataRegions(), false);
      rule->inference_scopes = map.EnumList("inference_scopes", KnownInferenceScopes(), false);
      if (std::optional<std::vector<Value>> items = map.List("transfers")) {
        if (!map.Has("data_regions")) {
          r_.Report(map.KeyPos("transfers"), "RG-M203",
                    "'" + map.PathOf("transfers") +
                        "' needs 'data_regions': transfers name data regions outside them");
        }
        for (const Value& item : *items) ParseTransfer(item, rule);
      }
    } else if (kind == "pin_binary") {
      RequireKey(map, "plugin", kind);
      RequireKey(map, "sha256", kind);
      if (std::optional<Value> p = map.Get("plugin")) {
        rule->plugin = r_.Checked(*p, detail::IsIdentifier, kIdWhat).value_or("");
        rule->plugin_pos = {p->pos.line, p->pos.column};
      }
      rule->sha256 =
          map.StringList("sha256", detail::IsSha256Hex, "a SHA-256 as 64 lower-case hex characters",
                         /*allow_empty=*/false);
    } else if (kind == "require_capabilities") {
      if (!map.Has("plugin_capabilities") && !map.Has("runtime")) {
        r_.Report(map.pos(), "RG-M203",
                  "rule of kind 'require_capabilities' needs 'plugin_capabilities' or 'runtime' "
                  "in " +
                      map.path());
      }
      rule->plugin_capabilities =
          map.EnumList("plugin_capabilities", KnownCapabilities(), /*allow_empty=*/false);
      rule->runtime = map.EnumList("runtime", kRuntimeFeatures, /*allow_empty=*/false);
    }
  }

  void ParseTransfer(const Value& v, Rule* rule) {
    MapReader map = r_.Map(v, {{"to", true}, {"basis", true}, {"in_place", true}});
    if (!map.ok()) return;
    Transfer t;
    t.line = map.pos().line;
    t.column = map.pos().column;
    t.to = map.Enum("to", KnownDataRegions()).value_or("");
    t.basis = map.String("basis").value_or("");
    t.in_place = map.Boolean("in_place").value_or(false);
    if (!t.to.empty()) {
      if (std::find(rule->data_regions.begin(), rule->data_regions.end(), t.to) !=
          rule->data_regions.end()) {
        r_.Report(map.Get("to")->pos, "RG-M203",
                  "'" + map.PathOf("to") + "' is '" + t.to +
                      "', which 'data_regions' already allows; a transfer names a region outside "
                      "them");
        return;
      }
      for (const Transfer& other : rule->transfers) {
        if (other.to == t.to) {
          r_.Report(map.Get("to")->pos, "RG-M011",
                    "'" + map.PathOf("to") + "' repeats transfer to '" + t.to +
                        "' (first at line " + std::to_string(other.line) + "); keep one");
          return;
        }
      }
    }
    rule->transfers.push_back(std::move(t));
  }

  /// A mapping keyed by the manifest's locales.
  template <class Fn>
  void ForEachLocale(const Value& v, const RegionManifest& m, Fn fn) {
    std::vector<Field> fields;
    for (const std::string& locale : m.locales) fields.push_back({locale, false});
    MapReader map = r_.Map(v, fields);
    if (!map.ok()) return;
    for (const std::string& locale : m.locales) {
      if (std::optional<Value> item = map.Get(locale)) fn(locale, *item);
    }
  }

  void ParseContentPolicy(const Value& v, RegionManifest* m) {
    MapReader map = r_.Map(v, {{"lexicons", false},
                               {"input_action", true},
                               {"output_action", true},
                               {"refusal_message", true},
                               {"max_separator_run", false}});
    if (!map.ok()) return;
    ContentPolicy& c = m->content_policy;
    c.present = true;
    if (std::optional<std::vector<Value>> items = map.List("lexicons")) {
      for (const Value& item : *items) {
        std::optional<std::string> path =
            r_.Checked(item, IsRelativePath, "a path relative to the manifest's directory");
        if (!path) continue;
        if (std::find(c.lexicons.begin(), c.lexicons.end(), *path) != c.lexicons.end()) {
          r_.Report(item.pos, "RG-M011",
                    "'" + item.path + "' repeats '" + *path + "'; list each value once");
          continue;
        }
        c.lexicons.push_back(std::move(*path));
        c.lexicon_pos.push_back({item.pos.line, item.pos.column});
      }
    }
    if (map.Has("max_separator_run")) {
      if (std::optional<int64_t> run = map.Integer("max_separator_run", 0, 32)) {
        c.max_separator_run = static_cast<int>(*run);
      }
    }
    c.input_action = map.Enum("input_action", kInputActions).value_or("");
    c.output_action = map.Enum("output_action", kOutputActions).value_or("");
    if (std::optional<Value> rm = map.Get("refusal_message")) {
      ForEachLocale(*rm, *m, [&](const std::string& locale, const Value& item) {
        if (std::optional<std::string> text = r_.String(item)) c.refusal_message[locale] = *text;
      });
    }
  }

  void ParseLabels(const Value& v, RegionManifest* m) {
    MapReader map = r_.Map(v, {{"explicit", false}, {"implicit", false}});
    if (!map.ok()) return;
    Labels& labels = m->labels;
    labels.present = true;
    if (!map.Has("explicit") && !map.Has("implicit")) {
      r_.Report(map.pos(), "RG-M203", "'labels' needs 'explicit' or 'implicit'");
    }
    if (std::optional<Value> ex = map.Get("explicit")) {
      // Keyed by the region's locales, plus "default" for any other locale it is asked for.
      std::vector<Field> fields;
      for (const std::string& locale : m->locales) fields.push_back({locale, false});
      fields.push_back({std::string(kDefaultLabelKey), false});
      MapReader by_locale = r_.Map(*ex, fields);
      if (by_locale.ok()) {
        for (const Field& field : fields) {
          std::optional<Value> item = by_locale.Get(field.name);
          if (!item) continue;
          MapReader label = r_.Map(*item, {{"text", true}, {"position", true}});
          if (!label.ok()) continue;
          ExplicitLabel l;
          l.text = label.String("text").value_or("");
          l.position = label.Enum("position", kLabelPositions).value_or("");
          labels.explicit_labels[field.name] = std::move(l);
        }
      }
    }
    if (std::optional<Value> im = map.Get("implicit")) {
      MapReader implicit = r_.Map(*im, {{"scheme", true}, {"producer_code", false}});
      if (!implicit.ok()) return;
      labels.implicit_scheme = implicit.Enum("scheme", kImplicitSchemes).value_or("");
      labels.producer_code = implicit.String("producer_code").value_or("");
    }
  }

  void ParsePii(const Value& v, RegionManifest* m) {
    MapReader map = r_.Map(v, {{"actions", true}});
    if (!map.ok()) return;
    m->pii.present = true;
    std::optional<std::vector<Value>> items = map.List("actions", /*allow_empty=*/false);
    if (!items) return;
    for (const Value& item : *items) {
      MapReader action = r_.Map(item, {{"type", true}, {"action", true}});
      if (!action.ok()) continue;
      PiiRule p;
      p.type = PiiEnum(action, "type", kPiiTypes);
      p.action = PiiEnum(action, "action", kPiiActions);
      const bool repeated = std::any_of(m->pii.actions.begin(), m->pii.actions.end(),
                                        [&](const PiiRule& o) { return o.type == p.type; });
      if (!p.type.empty() && repeated) {
        r_.Report(
            action.Get("type")->pos, "RG-M011",
            "'" + action.PathOf("type") + "' repeats '" + p.type + "'; give one action per type");
        continue;
      }
      m->pii.actions.push_back(std::move(p));
    }
  }

  /// An enum of the pii section that names retired values with what to write instead.
  std::string PiiEnum(const MapReader& map, std::string_view key,
                      const std::vector<std::string>& allowed) {
    std::optional<Value> v = map.Get(key);
    if (v && detail::TypeOf(v->node) == detail::ValueType::kString) {
      const std::string text = v->node.Scalar();
      if (const auto it = kRetiredPiiValues.find(text); it != kRetiredPiiValues.end()) {
        r_.Report(v->pos, "RG-M008",
                  "'" + v->path + "' has retired value '" + text + "': " + it->second);
        return "";
      }
    }
    return map.Enum(key, allowed).value_or("");
  }

  void ParseAudit(const Value& v, RegionManifest* m) {
    MapReader map =
        r_.Map(v, {{"required", true}, {"retention_days", true}, {"store_prompt_text", false}});
    if (!map.ok()) return;
    m->audit.present = true;
    m->audit.required = map.Boolean("required").value_or(false);
    m->audit.retention_days = static_cast<int>(map.Integer("retention_days", 0, 36500).value_or(0));
    m->audit.store_prompt_text = map.Boolean("store_prompt_text").value_or(false);
  }

  static bool Overlap(const Rule& a, const Rule& b) {
    const bool a_before_b = a.until && *a.until <= b.effective;
    const bool b_before_a = b.until && *b.until <= a.effective;
    return !a_before_b && !b_before_a;
  }

  static bool Covers(const std::vector<std::string>& wide, const std::vector<std::string>& narrow) {
    if (wide.empty()) return true;
    if (narrow.empty()) return false;
    return std::all_of(narrow.begin(), narrow.end(), [&](const std::string& x) {
      return std::find(wide.begin(), wide.end(), x) != wide.end();
    });
  }

  void CheckContradictions(const RegionManifest& m) {
    for (const Rule& deny : m.rules) {
      if (deny.kind != RuleKind::kDeny || deny.enforcement != Enforcement::kEnforce) continue;
      for (const Rule& allow : m.rules) {
        if (allow.kind != RuleKind::kAllowOnly || allow.enforcement != Enforcement::kEnforce ||
            !Overlap(deny, allow)) {
          continue;
        }
        for (const Selector& d : deny.match) {
          for (const Selector& a : allow.match) {
            if (d.plugin != a.plugin || !Covers(d.models, a.models) ||
                !Covers(d.endpoints, a.endpoints)) {
              continue;
            }
            r_.Report({d.line, d.column}, "RG-M204",
                      "plug-in '" + d.plugin + "' is denied by rule '" + deny.id +
                          "' and allowed by rule '" + allow.id + "' (line " +
                          std::to_string(a.line) +
                          ") while both are in force; remove it from one of them");
          }
        }
      }
    }
  }

  void CheckRuntimeConfigured(const RegionManifest& m) {
    for (const Rule& rule : m.rules) {
      if (rule.kind != RuleKind::kRequireCapabilities ||
          rule.enforcement == Enforcement::kDisabled) {
        continue;
      }
      for (const std::string& feature : rule.runtime) {
        if (feature == "implicit_labels") {
          if (m.labels.implicit_scheme.empty() || m.labels.implicit_scheme == "none") {
            r_.Warn({rule.line, rule.column}, "RG-M205",
                    "rule '" + rule.id +
                        "' requires 'implicit_labels' but 'labels.implicit."
                        "scheme' is not set; the gate denies every plug-in in region '" +
                        m.region + "' until it is configured");
          }
          continue;
        }
        const bool present = (feature == "content_policy" && m.content_policy.present) ||
                             (feature == "labels" && m.labels.present) ||
                             (feature == "pii" && m.pii.present) ||
                             (feature == "audit" && m.audit.present);
        if (!present) {
          r_.Warn({rule.line, rule.column}, "RG-M205",
                  "rule '" + rule.id + "' requires '" + feature + "' but the manifest has no '" +
                      feature + "' section; the gate denies every plug-in in region '" + m.region +
                      "' until it is configured");
          continue;
        }
        for (const std::string& locale : m.locales) {
          const bool missing =
              (feature == "labels" && FindExplicitLabel(m.labels, locale) == nullptr) ||
              (feature == "content_policy" && m.content_policy.refusal_message.count(locale) == 0);
          if (missing) {
            r_.Warn({rule.line, rule.column}, "RG-M206",
                    "rule '" + rule.id + "' requires '" + feature +
                        "' but it has no entry for "
                        "locale '" +
                        locale +
                        "'; the gate denies every plug-in for that locale "
                        "until it is configured");
          }
        }
      }
    }
  }

  Reader r_;
};

}  // namespace

// ---- dates and locales -----------------------------------------------------------------

std::optional<Date> ParseDate(std::string_view text) {
  if (!detail::IsIsoDate(text)) return std::nullopt;
  const int year = std::stoi(std::string(text.substr(0, 4)));
  const unsigned month = static_cast<unsigned>(std::stoi(std::string(text.substr(5, 2))));
  const unsigned day = static_cast<unsigned>(std::stoi(std::string(text.substr(8, 2))));
  Date date{std::chrono::year{year}, std::chrono::month{month}, std::chrono::day{day}};
  if (!date.ok()) return std::nullopt;
  return date;
}

std::string FormatDate(Date date) {
  char buffer[16];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return buffer;
}

Date Today() {
  return Date{std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())};
}

std::string CanonicalLocale(std::string_view locale) {
  std::string out;
  size_t index = 0;
  size_t start = 0;
  while (start <= locale.size()) {
    size_t end = locale.find_first_of("-_", start);
    if (end == std::string_view::npos) end = locale.size();
    std::string part(locale.substr(start, end - start));
    if (index == 0) {
      for (char& c : part) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (part.size() == 4) {
      for (size_t i = 0; i < part.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(part[i]);
        part[i] = static_cast<char>(i == 0 ? std::toupper(c) : std::tolower(c));
      }
    } else if (part.size() == 2) {
      for (char& c : part) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (index > 0) out += '-';
    out += part;
    ++index;
    if (end == locale.size()) break;
    start = end + 1;
  }
  return out;
}

std::string_view ToString(RuleKind kind) {
  switch (kind) {
    case RuleKind::kDeny:
      return "deny";
    case RuleKind::kAllowOnly:
      return "allow_only";
    case RuleKind::kRequireFiling:
      return "require_filing";
    case RuleKind::kResidency:
      return "residency";
    case RuleKind::kPinBinary:
      return "pin_binary";
    case RuleKind::kRequireCapabilities:
      return "require_capabilities";
  }
  return "deny";
}

std::string_view ToString(Confidence confidence) {
  switch (confidence) {
    case Confidence::kPrimary:
      return "primary";
    case Confidence::kSecondary:
      return "secondary";
    case Confidence::kUnconfirmed:
      return "unconfirmed";
  }
  return "secondary";
}

std::string_view ToString(Enforcement enforcement) {
  switch (enforcement) {
    case Enforcement::kEnforce:
      return "enforce";
    case Enforcement::kWarn:
      return "warn";
    case Enforcement::kDisabled:
      return "disabled";
  }
  return "enforce";
}

// ---- model -----------------------------------------------------------------------------

bool Selector::Matches(std::string_view plugin_id, std::string_view model,
                       std::string_view endpoint) const {
  if (plugin != plugin_id) return false;
  if (!models.empty() && std::find(models.begin(), models.end(), model) == models.end()) {
    return false;
  }
  if (!endpoints.empty() &&
      std::find(endpoints.begin(), endpoints.end(), endpoint) == endpoints.end()) {
    return false;
  }
  return true;
}

bool Rule::InForce(Date as_of) const { return effective <= as_of && (!until || as_of < *until); }

bool Rule::AppliesTo(std::string_view plugin_id, std::string_view model,
                     std::string_view endpoint) const {
  if (applies_to.empty()) return true;
  return std::any_of(applies_to.begin(), applies_to.end(), [&](const Selector& s) {
    // An auth endpoint has no model: a model filter cannot exclude it.
    return s.plugin == plugin_id &&
           (model.empty() || s.models.empty() ||
            std::find(s.models.begin(), s.models.end(), model) != s.models.end()) &&
           (s.endpoints.empty() ||
            std::find(s.endpoints.begin(), s.endpoints.end(), endpoint) != s.endpoints.end());
  });
}

const Rule* RegionManifest::FindRule(std::string_view rule_id) const {
  for (const Rule& rule : rules) {
    if (rule.id == rule_id) return &rule;
  }
  return nullptr;
}

bool RegionManifest::CoversLocale(std::string_view locale) const {
  return std::find(locales.begin(), locales.end(), locale) != locales.end();
}

namespace {
nlohmann::json SelectorJson(const Selector& s) {
  nlohmann::json j = {{"plugin", s.plugin}};
  if (!s.models.empty()) j["models"] = s.models;
  if (!s.endpoints.empty()) j["endpoints"] = s.endpoints;
  return j;
}
nlohmann::json SelectorsJson(const std::vector<Selector>& list) {
  nlohmann::json j = nlohmann::json::array();
  for (const Selector& s : list) j.push_back(SelectorJson(s));
  return j;
}
}  // namespace

nlohmann::json RegionManifest::ToJson() const {
  nlohmann::json j;
  j["schema_version"] = kSchemaVersion;
  j["file"] = file;
  j["revision"] = revision;
  j["region"] = region;
  j["name"] = name;
  if (!jurisdiction.empty()) j["jurisdiction"] = jurisdiction;
  j["locales"] = locales;
  if (reviewed) j["reviewed"] = FormatDate(*reviewed);
  j["priority"] = SelectorsJson(priority);
  j["rules"] = nlohmann::json::array();
  for (const Rule& rule : rules) {
    nlohmann::json r = {{"id", rule.id},
                        {"kind", ToString(rule.kind)},
                        {"summary", rule.summary},
                        {"citation", rule.citation},
                        {"effective", FormatDate(rule.effective)},
                        {"confidence", ToString(rule.confidence)},
                        {"enforcement", ToString(rule.enforcement)}};
    if (!rule.url.empty()) r["url"] = rule.url;
    if (rule.until) r["until"] = FormatDate(*rule.until);
    if (!rule.applies_to.empty()) r["applies_to"] = SelectorsJson(rule.applies_to);
    if (!rule.match.empty()) r["match"] = SelectorsJson(rule.match);
    if (!rule.filing_kinds.empty()) r["filing_kinds"] = rule.filing_kinds;
    if (!rule.data_regions.empty()) r["data_regions"] = rule.data_regions;
    if (!rule.inference_scopes.empty()) r["inference_scopes"] = rule.inference_scopes;
    if (!rule.transfers.empty()) {
      r["transfers"] = nlohmann::json::array();
      for (const Transfer& t : rule.transfers) {
        r["transfers"].push_back({{"to", t.to}, {"basis", t.basis}, {"in_place", t.in_place}});
      }
    }
    if (!rule.plugin.empty()) r["plugin"] = rule.plugin;
    if (!rule.sha256.empty()) r["sha256"] = rule.sha256;
    if (!rule.plugin_capabilities.empty()) r["plugin_capabilities"] = rule.plugin_capabilities;
    if (!rule.runtime.empty()) r["runtime"] = rule.runtime;
    j["rules"].push_back(std::move(r));
  }
  if (content_policy.present) {
    j["content_policy"] = {{"lexicons", content_policy.lexicons},
                           {"input_action", content_policy.input_action},
                           {"output_action", content_policy.output_action},
                           {"refusal_message", content_policy.refusal_message}};
    if (content_policy.max_separator_run) {
      j["content_policy"]["max_separator_run"] = *content_policy.max_separator_run;
    }
  }
  if (labels.present) {
    nlohmann::json ex = nlohmann::json::object();
    for (const auto& [locale, label] : labels.explicit_labels) {
      ex[locale] = {{"text", label.text}, {"position", label.position}};
    }
    j["labels"] = {{"explicit", ex}};
    if (!labels.implicit_scheme.empty()) {
      j["labels"]["implicit"] = {{"scheme", labels.implicit_scheme}};
      if (!labels.producer_code.empty()) {
        j["labels"]["implicit"]["producer_code"] = labels.producer_code;
      }
    }
  }
  if (pii.present) {
    j["pii"]["actions"] = nlohmann::json::array();
    for (const PiiRule& p : pii.actions) {
      j["pii"]["actions"].push_back({{"type", p.type}, {"action", p.action}});
    }
  }
  if (audit.present) {
    j["audit"] = {{"required", audit.required},
                  {"retention_days", audit.retention_days},
                  {"store_prompt_text", audit.store_prompt_text}};
  }
  return j;
}

Diagnostics ParseRegionManifest(std::string_view yaml, const std::string& file,
                                RegionManifest* manifest) {
  Diagnostics diagnostics;
  try {
    YAML::Node root;
    if (detail::ParseYaml(yaml, file, &root, &diagnostics)) {
      RegionManifest parsed;
      RegionManifestParser(file, &diagnostics).Parse(root, &parsed);
      if (!HasErrors(diagnostics) && manifest != nullptr) {
        parsed.file = file;
        parsed.revision = Sha256Hex(yaml);
        *manifest = std::move(parsed);
      }
    }
  } catch (const std::exception& e) {
    diagnostics.push_back(Diagnostic{file, 0, 0, Severity::kError, "RG-M002",
                                     std::string("cannot read the manifest: ") + e.what(), ""});
  }
  SortByPosition(&diagnostics);
  return diagnostics;
}

namespace {

// content_policy.lexicons must name files (their contents are checked when the filter is
// built: ContentFilter::ForRegion, CheckContentPolicyLexicons).
void CheckLexiconFiles(const std::filesystem::path& manifest_path, const RegionManifest& m,
                       Diagnostics* out) {
  const ContentPolicy& c = m.content_policy;
  for (size_t i = 0; i < c.lexicons.size(); ++i) {
    const std::filesystem::path lexicon =
        (manifest_path.parent_path() / c.lexicons[i]).lexically_normal();
    std::error_code ec;
    if (std::filesystem::is_regular_file(lexicon, ec)) continue;
    const SourcePos pos = i < c.lexicon_pos.size() ? c.lexicon_pos[i] : SourcePos{};
    out->push_back(
        Diagnostic{manifest_path.string(), pos.line, pos.column, Severity::kError, "RG-F020",
                   "lexicon '" + c.lexicons[i] + "' is not a file (looked for " + lexicon.string() +
                       "); fix the path, which is relative to this manifest",
                   ""});
  }
}

}  // namespace

Diagnostics CheckRegionManifest(const std::filesystem::path& path, RegionManifest* manifest) {
  Diagnostics diagnostics;
  std::string bytes;
  const std::string file = path.string();
  if (!detail::ReadFileBytes(path, file, &bytes, &diagnostics)) return diagnostics;
  RegionManifest parsed;
  diagnostics = ParseRegionManifest(bytes, file, &parsed);
  if (!HasErrors(diagnostics)) CheckLexiconFiles(path, parsed, &diagnostics);
  if (!HasErrors(diagnostics) && manifest != nullptr) {
    parsed.path = path;
    *manifest = std::move(parsed);
  }
  return diagnostics;
}

Result<RegionManifest> LoadRegionManifest(const std::filesystem::path& path) {
  RegionManifest manifest;
  Diagnostics diagnostics = CheckRegionManifest(path, &manifest);
  if (HasErrors(diagnostics)) {
    std::string message;
    for (const Diagnostic& d : diagnostics) {
      if (d.severity != Severity::kError) continue;
      if (!message.empty()) message += '\n';
      message += d.ToString();
    }
    return Error{"RG-M200", std::move(message)};
  }
  return manifest;
}

}  // namespace rg::compliance
