// Region manifests (config/regions/*.yaml): which locales a region covers, the rules that
// decide which plug-in/model/endpoint may serve it (each with a citation and an effective
// date), and the runtime policy sections (content policy, labels, PII, audit) the host applies.
// Requirements travel with regions; evidence travels with plug-ins (plugin_manifest.hpp).
// Reference: docs/manifests.md; schema: config/schema/region-manifest.schema.json.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "regiongate/compliance/diagnostic.hpp"
#include "regiongate/result.hpp"

namespace rg::compliance {

using Date = std::chrono::year_month_day;

/// YYYY-MM-DD, a real calendar date; nullopt otherwise.
std::optional<Date> ParseDate(std::string_view text);
std::string FormatDate(Date date);
/// Today's date in UTC.
Date Today();

/// Canonical casing of a locale tag: "zh_cn" -> "zh-CN", "zh-hant-hk" -> "zh-Hant-HK".
std::string CanonicalLocale(std::string_view locale);

/// What a rule checks. See docs/manifests.md, "Rules".
enum class RuleKind {
  kDeny,           ///< deny the plug-ins/models/endpoints in `match`
  kAllowOnly,      ///< deny everything not in `match`
  kRequireFiling,  ///< each model needs a filing of `filing_kinds`, corroborated by the registry
  kResidency,  ///< endpoint data region / inference scope in the allowed sets or a transfer basis
  kPinBinary,  ///< the plug-in's library sha256 must be one of `sha256`
  kRequireCapabilities,  ///< plug-in capabilities and runtime policy sections must be configured
};
std::string_view ToString(RuleKind kind);

/// How sure the compliance team is of the legal basis (regulations.md marks UNCONFIRMED facts).
enum class Confidence { kPrimary, kSecondary, kUnconfirmed };
std::string_view ToString(Confidence confidence);

/// What a failing rule does: deny, only record a warning, or nothing (kept for the record).
/// ("disabled", not "off": YAML 1.1 tools read a bare off as false.)
enum class Enforcement { kEnforce, kWarn, kDisabled };
std::string_view ToString(Enforcement enforcement);

/// 1-based position in a manifest, for diagnostics that point at one list item.
struct SourcePos {
  int line = 0;
  int column = 0;
};

/// Picks plug-ins, and optionally some of their models and endpoints. Empty lists match all.
struct Selector {
  std::string plugin;
  std::vector<std::string> models;
  std::vector<std::string> endpoints;
  int line = 0;
  int column = 0;
  SourcePos plugin_pos;
  std::vector<SourcePos> model_pos;     ///< parallel to models
  std::vector<SourcePos> endpoint_pos;  ///< parallel to endpoints

  bool Matches(std::string_view plugin_id, std::string_view model, std::string_view endpoint) const;
  /// Matches every model and endpoint of the plug-in.
  bool WholePlugin() const { return models.empty() && endpoints.empty(); }
};

/// A data transfer to a region outside `data_regions` that a residency rule accepts when the
/// deployer has the legal basis in place.
struct Transfer {
  std::string to;         ///< data region: CN, HK, SG, US, EU, JP, GLOBAL
  std::string basis;      ///< e.g. "EU-US Data Privacy Framework (adequacy decision 2023/1795)"
  bool in_place = false;  ///< the deployer has the basis in place (contract signed, TIA done...)
  int line = 0;
  int column = 0;
};

struct Rule {
  std::string id;  ///< unique across all region manifests; decisions and errors name it
  RuleKind kind = RuleKind::kDeny;
  std::string summary;        ///< one line, what the rule requires; used in reasons
  std::string citation;       ///< legal source, e.g. "GenAI Interim Measures Art. 17 [S2]"
  std::string url;            ///< optional link to the source
  Date effective{};           ///< in force from this date (inclusive)
  std::optional<Date> until;  ///< no longer in force from this date (exclusive)
  Confidence confidence = Confidence::kSecondary;
  Enforcement enforcement = Enforcement::kEnforce;
  std::vector<Selector> applies_to;  ///< which plug-ins the rule concerns; empty = all

  std::vector<Selector> match;                ///< deny, allow_only
  std::vector<std::string> filing_kinds;      ///< require_filing: any of these kinds
  std::vector<std::string> data_regions;      ///< residency: allowed data regions (empty = any)
  std::vector<std::string> inference_scopes;  ///< residency: allowed inference scopes (empty = any)
  std::vector<Transfer> transfers;            ///< residency: other data regions with a basis
  std::string plugin;                         ///< pin_binary
  SourcePos plugin_pos;
  std::vector<std::string> sha256;               ///< pin_binary: approved library hashes
  std::vector<std::string> plugin_capabilities;  ///< require_capabilities
  /// require_capabilities: content_policy, labels, implicit_labels, pii, audit
  std::vector<std::string> runtime;

  int line = 0;
  int column = 0;

  bool InForce(Date as_of) const;
  bool AppliesTo(std::string_view plugin_id, std::string_view model,
                 std::string_view endpoint) const;
};

/// Issue 5 sections: parsed and validated now so the host only adds behaviour later.
/// What the content filter applies (content_filter.hpp; docs/content-filter.md).
struct ContentPolicy {
  bool present = false;
  std::vector<std::string> lexicons;   ///< paths relative to the manifest's directory
  std::vector<SourcePos> lexicon_pos;  ///< parallel to lexicons
  std::string input_action;            ///< refuse | mask | flag: the most a match does to a prompt
  std::string output_action;           ///< block | mask | flag: the most a match does to an answer
  std::map<std::string, std::string> refusal_message;  ///< locale -> text shown on refusal
  /// Longest run of separators allowed between two characters of a term (0-32); unset: the
  /// filter's default (kDefaultMaxSeparatorRun).
  std::optional<int> max_separator_run;
};

struct ExplicitLabel {
  std::string text;      ///< e.g. "内容由AI生成"
  std::string position;  ///< start | end | start_and_end | ui_persistent
};

struct Labels {
  bool present = false;
  /// locale -> label, plus an optional "default" entry for the region's other locales;
  /// FindExplicitLabel (labels.hpp) applies the fallback.
  std::map<std::string, ExplicitLabel> explicit_labels;
  std::string implicit_scheme;  ///< none | gb45438-aigc | c2pa
  std::string producer_code;    ///< GB 45438 ContentProducer, when the scheme needs it
};

struct PiiRule {
  /// email | phone | cn_resident_id | bank_card | jp_my_number | us_ssn | ip_address
  std::string type;
  std::string action;  ///< allow | mask | block | replace_and_restore (pii.hpp, PiiAction)
};

struct Pii {
  bool present = false;
  std::vector<PiiRule> actions;
};

struct Audit {
  bool present = false;
  /// Fail closed: a request whose audit record cannot be written is refused.
  bool required = false;
  int retention_days = 0;          ///< audit files older than this are deleted (0 keeps them all)
  bool store_prompt_text = false;  ///< keep the prompt text, not only its salted hash
};

/// One allowed combination preference: `regiongate chat` picks the first allowed match.
using PriorityEntry = Selector;

struct RegionManifest {
  std::filesystem::path path;  ///< as loaded
  std::string file;            ///< name used in diagnostics
  std::string revision;        ///< sha256 (hex) of the file's bytes
  std::string region;          ///< region id, e.g. "cn-mainland"
  SourcePos region_pos;
  std::string name;                  ///< e.g. "Mainland China"
  std::string jurisdiction;          ///< ISO 3166-1 alpha-2 (or "EU"), informative
  std::vector<std::string> locales;  ///< canonical tags this region serves
  std::vector<int> locale_lines;     ///< positions of `locales` items, for diagnostics
  std::vector<int> locale_columns;
  std::optional<Date> reviewed;  ///< when the rules were last checked against sources
  std::vector<PriorityEntry> priority;
  std::vector<Rule> rules;
  ContentPolicy content_policy;
  Labels labels;
  Pii pii;
  Audit audit;

  const Rule* FindRule(std::string_view rule_id) const;
  bool CoversLocale(std::string_view locale) const;
  nlohmann::json ToJson() const;
};

/// Parses and checks one region manifest file. `manifest` is filled only without errors.
Diagnostics CheckRegionManifest(const std::filesystem::path& path, RegionManifest* manifest);
/// Same for text in memory (tests, fuzzing); `file` names it in diagnostics.
Diagnostics ParseRegionManifest(std::string_view yaml, const std::string& file,
                                RegionManifest* manifest);
/// Loads one region manifest; the Error (RG-M200) holds every diagnostic, one per line.
Result<RegionManifest> LoadRegionManifest(const std::filesystem::path& path);

}  // namespace rg::compliance
