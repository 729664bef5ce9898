// Validate(): every file at once, cross-file checks (locale collisions, duplicate ids,
// references to plug-ins/models/endpoints), text and JSON rendering, the registry.
#include "regiongate/compliance/policy.hpp"

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace rg::compliance {
namespace {

using testing::FixturePlugins;
using testing::kShippedConfig;
using testing::kTestData;
using testing::TempDir;
using testing::WriteText;
using V = std::vector<std::string>;

/// A small valid region; `extra_rule` is appended to its rules.
std::string Region(const std::string& id, const std::string& locales,
                   const std::string& extra_rule = "") {
  return "schema_version: 1\n"  // 1
         "region: " +
         id +
         "\n"  // 2
         "name: " +
         id +
         "\n"  // 3
         "locales: " +
         locales +
         "\n"        // 4
         "rules:\n"  // 5
         "  - id: " +
         id +
         "-deny\n"                                         // 6
         "    kind: deny\n"                                // 7
         "    summary: no\n"                               // 8
         "    citation: none\n"                            // 9
         "    effective: 2024-01-01\n"                     // 10
         "    match:\n"                                    // 11
         "      - {plugin: openai, models: [gpt-4o]}\n" +  // 12
         extra_rule;
}

V Render(const ValidationReport& report, const std::filesystem::path& strip) {
  V out;
  const std::string prefix = strip.string() + "/";
  for (const Diagnostic& d : report.diagnostics) {
    std::string s = d.ToString();
    for (size_t at; (at = s.find(prefix)) != std::string::npos;) s.erase(at, prefix.size());
    out.push_back(s);
  }
  return out;
}

TEST(ValidateTest, ShippedConfigAndPluginsAreValid) {
  ValidationReport report = Validate({kShippedConfig, kTestData / "plugins"});
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.ExitCode(), 0);
  EXPECT_EQ(Render(report, testing::kSourceDir), V{});
  EXPECT_EQ(report.files.size(), 10u);
  EXPECT_EQ(report.ToText(), "checked 10 files: all valid\n");
}

TEST(ValidateTest, ShippedConfigValidatesWithoutPlugins) {
  ValidationReport report = Validate({kShippedConfig});
  EXPECT_TRUE(report.ok()) << report.ToText();
  EXPECT_TRUE(report.diagnostics.empty()) << report.ToText();
}

TEST(ValidateTest, PlannedPluginThatIsNotLoadedIsAWarning) {
  std::vector<PluginManifest> plugins = FixturePlugins();
  plugins.pop_back();  // no deepseek
  ValidationReport report = Validate({kShippedConfig / "regions/us.yaml"}, plugins);
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(Render(report, kShippedConfig),
            V{"regions/us.yaml:43:18: warning: rule 'us-doj-covered-vendors' names plug-in "
              "'deepseek', which is not loaded (known: qwen, openai, baidu); it takes effect once "
              "the plug-in is installed"});
}

TEST(ValidateTest, LocaleInTwoRegionsIsAnError) {
  TempDir dir;
  WriteText(dir.path() / "regions/a.yaml", Region("a", "[zh-CN, zh-Hans-CN]"));
  WriteText(dir.path() / "regions/b.yaml", Region("b", "[en-US, zh-CN]"));
  ValidationReport report = Validate({dir.path()});
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.ExitCode(), 1);
  EXPECT_EQ(Render(report, dir.path()),
            V{"regions/b.yaml:4:18: error: locale 'zh-CN' is already covered by region 'a' "
              "(regions/a.yaml:4:11); a locale resolves to exactly one region, remove it from one "
              "of them"});
}

TEST(ValidateTest, DuplicateRegionAndRuleIdsAcrossFiles) {
  TempDir dir;
  WriteText(dir.path() / "regions/a.yaml", Region("a", "[zh-CN]"));
  WriteText(dir.path() / "regions/b.yaml", Region("a", "[en-US]"));
  EXPECT_EQ(Render(Validate({dir.path()}), dir.path()),
            (V{"regions/b.yaml:2:9: error: region id 'a' is already used by regions/a.yaml:2:9; "
               "give each region its own id",
               "regions/b.yaml:6:5: error: rule id 'a-deny' is also used at regions/a.yaml:6:5; "
               "rule ids must be unique across regions"}));
}

TEST(ValidateTest, UnknownPluginModelAndEndpointReferences) {
  TempDir dir;
  const std::string rule =
      "  - id: r-allow\n"                                                     // 13
      "    kind: allow_only\n"                                                // 14
      "    summary: yes\n"                                                    // 15
      "    citation: none\n"                                                  // 16
      "    effective: 2024-01-01\n"                                           // 17
      "    match:\n"                                                          // 18
      "      - {plugin: qwen, models: [qwen-pls], endpoints: [cn-bejing]}\n"  // 19
      "      - {plugin: opnai}\n";                                            // 20
  WriteText(dir.path() / "regions/r.yaml", Region("r", "[zh-CN]", rule));
  EXPECT_EQ(
      Render(Validate({dir.path()}, FixturePlugins()), dir.path()),
      (V{"regions/r.yaml:19:33: error: rule 'r-allow' names model 'qwen-pls', which plug-in "
         "'qwen' does not declare; fix the id (models: qwen-plus, qwen-max, qwen-turbo) (did you "
         "mean 'qwen-plus'?)",
         "regions/r.yaml:19:56: error: rule 'r-allow' names endpoint 'cn-bejing', which plug-in "
         "'qwen' does not declare; fix the id (endpoints: cn-beijing, ap-singapore, us-virginia, "
         "cn-hongkong) (did you mean 'cn-beijing'?)",
         "regions/r.yaml:20:18: error: rule 'r-allow' names unknown plug-in 'opnai'; fix the id "
         "or load the plug-in's manifest (did you mean 'openai'?)"}));
}

TEST(ValidateTest, PluginManifestsInThePathsJoinTheKnownPlugins) {
  TempDir dir;
  WriteText(dir.path() / "regions/r.yaml", Region("r", "[zh-CN]"));
  std::filesystem::create_directories(dir.path() / "plugins/openai");
  std::filesystem::copy(kTestData / "plugins/openai", dir.path() / "plugins/openai",
                        std::filesystem::copy_options::recursive);
  ValidationReport report = Validate({dir.path()});
  EXPECT_TRUE(report.diagnostics.empty()) << report.ToText();
  EXPECT_EQ(report.files.size(), 2u);
}

TEST(ValidateTest, EveryFileIsCheckedAndErrorsAreGroupedByFile) {
  TempDir dir;
  WriteText(dir.path() / "regions/a.yaml", Region("a", "[zh-CN]") + "labls: {}\n");
  WriteText(dir.path() / "registry/f.yaml",
            "schema_version: 1\nfilings:\n  - {kind: cac-genai, number: X-1, holder: H, models: "
            "[m], status: verified}\n");
  WriteText(dir.path() / "notes.yaml", "hello: world\n");
  ValidationReport report = Validate({dir.path()});
  EXPECT_EQ(Render(report, dir.path()),
            (V{"notes.yaml: error: cannot tell what kind of file this is: region manifests have "
               "'region', registry files 'filings', plug-in manifests 'library'; put it under "
               "regions/ or registry/, or fix its keys",
               "regions/a.yaml:13:1: error: unknown key 'labls' (did you mean 'labels'?)",
               "registry/f.yaml:3:5: error: filing 'X-1' in filings[0] has status verified but "
               "no 'verified_on'; add the date you checked it"}));
  EXPECT_EQ(report.ToText().substr(report.ToText().rfind("checked")),
            "checked 3 files: 3 errors, 0 warnings\n");
}

TEST(ValidateTest, DuplicateFilingAcrossRegistryFiles) {
  TempDir dir;
  WriteText(dir.path() / "regions/a.yaml", Region("a", "[zh-CN]"));
  const std::string entry =
      "schema_version: 1\nfilings:\n  - kind: cac-genai\n    number: X-1\n    holder: H\n"
      "    models: [m]\n    status: pending\n";
  WriteText(dir.path() / "registry/1.yaml", entry);
  WriteText(dir.path() / "registry/2.yaml", entry);
  EXPECT_EQ(Render(Validate({dir.path()}), dir.path()),
            V{"registry/2.yaml:3:5: error: filing 'X-1' is already listed at registry/1.yaml:3:5; "
              "keep one entry"});
}

TEST(ValidateTest, MissingPath) {
  ValidationReport report = Validate({"/nonexistent/regions"});
  EXPECT_EQ(Render(report, "/x"),
            V{"/nonexistent/regions: error: cannot read file: No such file or directory; check "
              "the path"});
}

TEST(ValidateTest, JsonRendering) {
  TempDir dir;
  WriteText(dir.path() / "regions/a.yaml", Region("a", "[zh-CN]") + "labls: {}\n");
  const nlohmann::json j = Validate({dir.path()}).ToJson();
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["errors"], 1);
  EXPECT_EQ(j["warnings"], 0);
  EXPECT_EQ(j["files"], nlohmann::json::array({(dir.path() / "regions/a.yaml").string()}));
  EXPECT_EQ(j["diagnostics"][0], (nlohmann::json{{"file", (dir.path() / "regions/a.yaml").string()},
                                                 {"line", 13},
                                                 {"column", 1},
                                                 {"severity", "error"},
                                                 {"id", "RG-M004"},
                                                 {"message", "unknown key 'labls'"},
                                                 {"suggestion", "did you mean 'labels'?"}}));
}

TEST(LoadPolicyTest, LoadsShippedConfig) {
  PolicySet policy;
  Diagnostics d = LoadPolicy(DefaultPolicySources(kShippedConfig), FixturePlugins(), &policy);
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(policy.regions.size(), 5u);
  EXPECT_EQ(policy.registry.entries.size(), 4u);
  ASSERT_NE(policy.ResolveLocale("zh_hant_hk"), nullptr);
  EXPECT_EQ(policy.ResolveLocale("zh_hant_hk")->region, "hk");
  EXPECT_EQ(policy.ResolveLocale("de-DE"), nullptr);
  EXPECT_NE(policy.registry.Find("cac-genai", "ZheJiang-TongYiQianWen-20230901"), nullptr);
}

TEST(LoadPolicyTest, LoadsPluginManifestsFromTheBuildLayout) {
  std::vector<PluginManifest> plugins;
  Diagnostics d = LoadPluginManifests({kTestData / "plugins"}, &plugins);
  EXPECT_TRUE(d.empty());
  std::vector<std::string> ids;
  for (const PluginManifest& p : plugins) ids.push_back(p.id);
  EXPECT_EQ(ids, (V{"baidu", "deepseek", "openai", "qwen"}));
  d = LoadPluginManifests({kTestData / "plugins/qwen/plugin.yaml"}, &plugins);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].id, "RG-M411");
}

TEST(LoadPolicyTest, NoRegionManifestIsAnError) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() / "regions");
  std::filesystem::create_directories(dir.path() / "registry");
  PolicySet policy;
  Diagnostics d = LoadPolicy(DefaultPolicySources(dir.path()), {}, &policy);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].id, "RG-M410");
}

}  // namespace
}  // namespace rg::compliance
