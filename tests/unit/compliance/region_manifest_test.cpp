// Region manifest parsing: a valid manifest, and one test per mistake asserting the exact
// diagnostic with line and column.
#include "regiongate/compliance/region_manifest.hpp"

#include <gtest/gtest.h>

#include "regiongate/compliance/sha256.hpp"
#include "test_util.hpp"

namespace rg::compliance {
namespace {

using testing::Join;
using testing::Lines;
using V = std::vector<std::string>;

// Line numbers matter: the tests replace or insert lines by number.
const char* const kValid =
    "# yaml-language-server: "
    "$schema=https://regiongate.dev/schema/region-manifest.schema.json\n"  // 1
    "schema_version: 1\n"                                                  // 2
    "region: test-cn\n"                                                    // 3
    "name: Test China\n"                                                   // 4
    "jurisdiction: CN\n"                                                   // 5
    "locales: [zh-CN, zh-Hans-CN]\n"                                       // 6
    "reviewed: 2026-11-01\n"                                               // 7
    "priority:\n"                                                          // 8
    "  - {plugin: qwen, endpoints: [cn-beijing]}\n"                        // 9
    "rules:\n"                                                             // 10
    "  - id: t-allow\n"                                                    // 11
    "    kind: allow_only\n"                                               // 12
    "    summary: only filed vendors\n"                                    // 13
    "    citation: GenAI Interim Measures Art. 17\n"                       // 14
    "    effective: 2023-08-15\n"                                          // 15
    "    match:\n"                                                         // 16
    "      - {plugin: qwen}\n"                                             // 17
    "      - {plugin: baidu}\n"                                            // 18
    "  - id: t-deny-openai\n"                                              // 19
    "    kind: deny\n"                                                     // 20
    "    summary: no CAC filing\n"                                         // 21
    "    citation: OpenAI notice\n"                                        // 22
    "    effective: 2023-08-15\n"                                          // 23
    "    match:\n"                                                         // 24
    "      - {plugin: openai}\n"                                           // 25
    "  - id: t-residency\n"                                                // 26
    "    kind: residency\n"                                                // 27
    "    summary: data stays on the mainland\n"                            // 28
    "    citation: PIPL Art. 38\n"                                         // 29
    "    effective: 2021-11-01\n"                                          // 30
    "    data_regions: [CN]\n"                                             // 31
    "    inference_scopes: [cn-mainland]\n"                                // 32
    "    transfers:\n"                                                     // 33
    "      - {to: SG, basis: standard contract, in_place: false}\n"        // 34
    "  - id: t-labels\n"                                                   // 35
    "    kind: require_capabilities\n"                                     // 36
    "    summary: labels\n"                                                // 37
    "    citation: GB 45438-2025\n"                                        // 38
    "    effective: 2025-09-01\n"                                          // 39
    "    runtime: [labels]\n"                                              // 40
    "labels:\n"                                                            // 41
    "  explicit:\n"                                                        // 42
    "    zh-CN: {text: AI生成, position: end}\n"                           // 43
    "    zh-Hans-CN: {text: AI生成, position: end}\n"                      // 44
    "audit:\n"                                                             // 45
    "  required: true\n"                                                   // 46
    "  retention_days: 183\n";                                             // 47

std::string WithLine(int number, const std::string& text) {
  std::vector<std::string> lines = Lines(kValid);
  lines.at(static_cast<size_t>(number - 1)) = text;
  return Join(lines);
}

std::string InsertBefore(int number, const std::string& text) {
  std::vector<std::string> lines = Lines(kValid);
  lines.insert(lines.begin() + (number - 1), text);
  return Join(lines);
}

std::string RemoveLines(int first, int last) {
  std::vector<std::string> lines = Lines(kValid);
  lines.erase(lines.begin() + (first - 1), lines.begin() + last);
  return Join(lines);
}

V Check(const std::string& text) {
  V out;
  for (const Diagnostic& d : ParseRegionManifest(text, "cn.yaml", nullptr)) {
    out.push_back(d.ToString());
  }
  return out;
}

TEST(RegionManifestTest, ValidManifestLoadsEveryField) {
  RegionManifest m;
  Diagnostics d = ParseRegionManifest(kValid, "cn.yaml", &m);
  ASSERT_TRUE(d.empty()) << d.front().ToString();
  EXPECT_EQ(m.region, "test-cn");
  EXPECT_EQ(m.region_pos.line, 3);
  EXPECT_EQ(m.name, "Test China");
  EXPECT_EQ(m.locales, (V{"zh-CN", "zh-Hans-CN"}));
  EXPECT_EQ(m.revision, Sha256Hex(kValid));
  ASSERT_TRUE(m.reviewed.has_value());
  EXPECT_EQ(FormatDate(*m.reviewed), "2026-11-01");
  ASSERT_EQ(m.priority.size(), 1u);
  EXPECT_EQ(m.priority[0].endpoints, V{"cn-beijing"});
  ASSERT_EQ(m.rules.size(), 4u);
  EXPECT_EQ(m.rules[0].kind, RuleKind::kAllowOnly);
  EXPECT_EQ(m.rules[0].match.size(), 2u);
  EXPECT_EQ(m.rules[0].enforcement, Enforcement::kEnforce);
  EXPECT_EQ(m.rules[0].confidence, Confidence::kSecondary);
  EXPECT_EQ(m.rules[2].transfers.size(), 1u);
  EXPECT_FALSE(m.rules[2].transfers[0].in_place);
  EXPECT_EQ(m.rules[3].runtime, V{"labels"});
  EXPECT_TRUE(m.labels.present);
  EXPECT_EQ(m.labels.explicit_labels.at("zh-CN").text, "AI生成");
  EXPECT_TRUE(m.audit.required);
  EXPECT_EQ(m.audit.retention_days, 183);
  EXPECT_FALSE(m.content_policy.present);
  EXPECT_EQ(m.ToJson()["rules"][2]["transfers"][0]["to"], "SG");
  EXPECT_TRUE(m.rules[0].InForce(*ParseDate("2023-08-15")));
  EXPECT_FALSE(m.rules[0].InForce(*ParseDate("2023-08-14")));
}

TEST(RegionManifestTest, UnknownRuleKeySuggestsTheNearestKey) {
  EXPECT_EQ(Check(WithLine(13, "    sumary: only filed vendors")),
            (V{"cn.yaml:11:5: error: missing required key 'summary' in rules[0]",
               "cn.yaml:13:5: error: unknown key 'sumary' in rules[0] (did you mean 'summary'?)"}));
}

TEST(RegionManifestTest, UnknownTopLevelKey) {
  EXPECT_EQ(Check(WithLine(8, "prority:")),
            V{"cn.yaml:8:1: error: unknown key 'prority' (did you mean 'priority'?)"});
}

TEST(RegionManifestTest, UnknownRuleKind) {
  EXPECT_EQ(Check(WithLine(12, "    kind: allow-only")),
            V{"cn.yaml:12:11: error: 'rules[0].kind' has unknown value 'allow-only'; expected one "
              "of deny, allow_only, require_filing, residency, pin_binary, require_capabilities "
              "(did you mean 'allow_only'?)"});
}

TEST(RegionManifestTest, EnforcementOffIsNotAValue) {
  EXPECT_EQ(Check(InsertBefore(16, "    enforcement: off")),
            V{"cn.yaml:16:18: error: 'rules[0].enforcement' has unknown value 'off'; expected one "
              "of enforce, warn, disabled"});
}

TEST(RegionManifestTest, BadDate) {
  EXPECT_EQ(Check(WithLine(15, "    effective: 2026-02-30")),
            V{"cn.yaml:15:16: error: 'rules[0].effective' must be a date written YYYY-MM-DD, got "
              "'2026-02-30'"});
}

TEST(RegionManifestTest, UntilMustBeAfterEffective) {
  EXPECT_EQ(Check(InsertBefore(16, "    until: 2020-01-01")),
            V{"cn.yaml:16:12: error: 'rules[0].until' (2020-01-01) must be after "
              "'rules[0].effective' (2023-08-15); a rule is in force from 'effective' up to the "
              "day before 'until'"});
}

TEST(RegionManifestTest, DuplicateKey) {
  EXPECT_EQ(Check(InsertBefore(13, "    kind: deny")),
            V{"cn.yaml:13:5: error: duplicate key 'kind' in rules[0], first set at line 12; keep "
              "only one"});
}

TEST(RegionManifestTest, WrongTypeList) {
  EXPECT_EQ(Check(WithLine(31, "    data_regions: CN")),
            V{"cn.yaml:31:19: error: 'rules[2].data_regions' must be a list, got a string"});
}

TEST(RegionManifestTest, UnknownDataRegion) {
  EXPECT_EQ(Check(WithLine(31, "    data_regions: [China]")),
            V{"cn.yaml:31:20: error: 'rules[2].data_regions[0]' has unknown value 'China'; "
              "expected one of CN, HK, SG, US, EU, JP, GLOBAL"});
}

TEST(RegionManifestTest, KeyOfAnotherKind) {
  EXPECT_EQ(Check(InsertBefore(24, "    filing_kinds: [cac-genai]")),
            V{"cn.yaml:24:5: error: 'rules[1].filing_kinds' does not apply to a rule of kind "
              "'deny'; it belongs to kind 'require_filing', remove it or fix 'kind'"});
}

TEST(RegionManifestTest, KindNeedsItsKey) {
  EXPECT_EQ(Check(RemoveLines(24, 25)),
            V{"cn.yaml:19:5: error: rule of kind 'deny' needs 'match' in rules[1]"});
}

TEST(RegionManifestTest, SamePluginAllowedAndDeniedIsAContradiction) {
  EXPECT_EQ(Check(InsertBefore(19, "      - {plugin: openai}")),
            V{"cn.yaml:26:9: error: plug-in 'openai' is denied by rule 't-deny-openai' and "
              "allowed by rule 't-allow' (line 19) while both are in force; remove it from one "
              "of them"});
}

TEST(RegionManifestTest, AllowedAndDeniedAtDifferentTimesIsNoContradiction) {
  std::vector<std::string> lines = Lines(kValid);
  lines.insert(lines.begin() + 18, "      - {plugin: openai}");  // into t-allow
  lines.insert(lines.begin() + 15, "    until: 2024-07-09");     // t-allow ends
  lines[24] = "    effective: 2024-07-09";                       // t-deny-openai starts
  EXPECT_EQ(Check(Join(lines)), V{});
}

TEST(RegionManifestTest, LocaleMustBeCanonical) {
  EXPECT_EQ(Check(WithLine(6, "locales: [zh-cn, zh-Hans-CN]")),
            (V{"cn.yaml:6:11: error: 'locales[0]' must be written in canonical case, got 'zh-cn' "
               "(did you mean 'zh-CN'?)",
               "cn.yaml:43:5: error: unknown key 'zh-CN' in labels.explicit; expected one of "
               "zh-Hans-CN, default"}));
}

TEST(RegionManifestTest, LocaleKeyedMapNamesOnlyTheRegionsLocales) {
  // zh-Hans-CN falls back to zh-CN (labels.hpp), but nothing stands in for zh-CN.
  EXPECT_EQ(Check(WithLine(43, "    zh-TW: {text: AI生成, position: end}")),
            (V{"cn.yaml:35:5: warning: rule 't-labels' requires 'labels' but it has no entry for "
               "locale 'zh-CN'; the gate denies every plug-in for that locale until it is "
               "configured",
               "cn.yaml:43:5: error: unknown key 'zh-TW' in labels.explicit; expected one of "
               "zh-CN, zh-Hans-CN, default"}));
  EXPECT_EQ(Check(WithLine(44, "    zh-TW: {text: AI生成, position: end}")),
            V{"cn.yaml:44:5: error: unknown key 'zh-TW' in labels.explicit; expected one of "
              "zh-CN, zh-Hans-CN, default"});
}

TEST(RegionManifestTest, RequiredRuntimeSectionMissingIsAWarning) {
  RegionManifest m;
  Diagnostics d = ParseRegionManifest(RemoveLines(41, 44), "cn.yaml", &m);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].ToString(),
            "cn.yaml:35:5: warning: rule 't-labels' requires 'labels' but the manifest has no "
            "'labels' section; the gate denies every plug-in in region 'test-cn' until it is "
            "configured");
  EXPECT_EQ(d[0].id, "RG-M205");
  EXPECT_EQ(m.region, "test-cn") << "a warning does not stop the manifest from loading";
}

TEST(RegionManifestTest, TransferMustLeaveTheAllowedRegions) {
  EXPECT_EQ(Check(WithLine(34, "      - {to: CN, basis: standard contract, in_place: false}")),
            V{"cn.yaml:34:14: error: 'rules[2].transfers[0].to' is 'CN', which 'data_regions' "
              "already allows; a transfer names a region outside them"});
}

TEST(RegionManifestTest, DuplicateRuleId) {
  EXPECT_EQ(Check(WithLine(19, "  - id: t-allow")),
            V{"cn.yaml:19:5: error: 'rules[1]' repeats rule id 't-allow' (first at line 11); give "
              "each rule its own id"});
}

TEST(RegionManifestTest, MissingTopLevelKey) {
  EXPECT_EQ(Check(WithLine(4, "# name removed")),
            V{"cn.yaml:2:1: error: missing required key 'name'"});
}

TEST(RegionManifestTest, IntegerOutOfRange) {
  EXPECT_EQ(Check(WithLine(47, "  retention_days: -1")),
            V{"cn.yaml:47:19: error: 'audit.retention_days' must be an integer from 0 to 36500, "
              "got '-1'"});
}

TEST(RegionManifestTest, SelectorNeedsAPlugin) {
  EXPECT_EQ(Check(WithLine(17, "      - {plugins: qwen}")),
            (V{"cn.yaml:17:9: error: missing required key 'plugin' in rules[0].match[0]",
               "cn.yaml:17:10: error: unknown key 'plugins' in rules[0].match[0] (did you mean "
               "'plugin'?)"}));
}

TEST(RegionManifestTest, LoadReportsEveryErrorInOneError) {
  testing::TempDir dir;
  const auto path = dir.path() / "cn.yaml";
  testing::WriteText(path, WithLine(15, "    effective: someday"));
  Result<RegionManifest> loaded = LoadRegionManifest(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().id, "RG-M200");
  EXPECT_EQ(loaded.error().message,
            path.string() +
                ":15:16: error: 'rules[0].effective' must be a date written YYYY-MM-DD, got "
                "'someday'");
}

TEST(RegionManifestTest, CanonicalLocale) {
  EXPECT_EQ(CanonicalLocale("zh_cn"), "zh-CN");
  EXPECT_EQ(CanonicalLocale("ZH-hant-hk"), "zh-Hant-HK");
  EXPECT_EQ(CanonicalLocale("en"), "en");
  EXPECT_EQ(CanonicalLocale("es-419"), "es-419");
}

TEST(RegionManifestTest, Dates) {
  EXPECT_FALSE(ParseDate("2026-13-01").has_value());
  EXPECT_FALSE(ParseDate("2025-02-29").has_value());
  EXPECT_TRUE(ParseDate("2024-02-29").has_value());
  EXPECT_EQ(FormatDate(*ParseDate("2026-08-02")), "2026-08-02");
}

}  // namespace
}  // namespace rg::compliance
