// The gate: golden decisions for every shipped region and plug-in (testdata/
// golden_decisions.yaml), the named cases of issue 4, egress checks, explain and choose.
#include "regiongate/compliance/gate.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <set>

#include "regiongate/compliance/sha256.hpp"
#include "test_util.hpp"

namespace rg::compliance {
namespace {

using testing::FixturePlugins;
using testing::kShippedConfig;
using testing::kTestData;
using testing::ReplaceInFile;
using testing::TempDir;
using V = std::vector<std::string>;

const Date kAsOf = *ParseDate("2026-11-21");

std::shared_ptr<const Gate> BuildGate(const PolicySources& sources, Date as_of,
                                      std::vector<PluginManifest> plugins = FixturePlugins()) {
  PolicySet policy;
  Diagnostics d = LoadPolicy(sources, plugins, &policy);
  for (const Diagnostic& diagnostic : d) {
    EXPECT_NE(diagnostic.severity, Severity::kError) << diagnostic.ToString();
  }
  return std::make_shared<const Gate>(std::make_shared<const PolicySet>(std::move(policy)),
                                      std::move(plugins), as_of);
}

std::shared_ptr<const Gate> ShippedGate(Date as_of = kAsOf) {
  return BuildGate(DefaultPolicySources(kShippedConfig), as_of);
}

V RulesWithEffect(const Decision& d, const std::string& effect) {
  V out;
  for (const Reason& r : d.reasons) {
    if (r.effect == effect) out.push_back(r.rule);
  }
  return out;
}

const Reason* ReasonOf(const Decision& d, const std::string& rule) {
  for (const Reason& r : d.reasons) {
    if (r.rule == rule) return &r;
  }
  return nullptr;
}

TEST(GateTest, GoldenDecisionsForEveryShippedRegionAndPlugin) {
  const YAML::Node golden = YAML::LoadFile((kTestData / "golden_decisions.yaml").string());
  auto gate = ShippedGate(*ParseDate(golden["as_of"].as<std::string>()));
  std::set<std::string> regions_seen;
  std::set<std::string> plugins_seen;
  for (const YAML::Node& c : golden["cases"]) {
    const std::string locale = c["locale"].as<std::string>();
    const std::string plugin = c["plugin"].as<std::string>();
    const std::string model = c["model"].as<std::string>();
    const std::string endpoint = c["endpoint"].as<std::string>();
    SCOPED_TRACE(locale + " " + plugin + "/" + model + " via " + endpoint);
    const Decision* d = gate->Find(locale, plugin, model, endpoint);
    ASSERT_NE(d, nullptr) << "no such combination";
    EXPECT_EQ(d->allowed, c["allowed"].as<bool>());
    EXPECT_EQ(RulesWithEffect(*d, "deny"), c["deny"] ? c["deny"].as<V>() : V{});
    EXPECT_EQ(RulesWithEffect(*d, "warn"), c["warn"] ? c["warn"].as<V>() : V{});
    regions_seen.insert(d->region);
    plugins_seen.insert(plugin);
  }
  for (const RegionManifest& region : gate->policy().regions) {
    EXPECT_TRUE(regions_seen.count(region.region)) << "no golden case for " << region.region;
  }
  for (const PluginManifest& p : gate->plugins()) {
    EXPECT_TRUE(plugins_seen.count(p.id)) << "no golden case for " << p.id;
  }
}

TEST(GateTest, OpenAiIsDeniedInMainlandChina) {
  auto gate = ShippedGate();
  const Decision* d = gate->Find("zh-CN", "openai", "gpt-4o", "global");
  ASSERT_NE(d, nullptr);
  EXPECT_FALSE(d->allowed);
  const Reason* r = ReasonOf(*d, "cn-deny-openai");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->effect, "deny");
  EXPECT_EQ(r->message,
            "openai/gpt-4o via global is on the deny list: OpenAI holds no CAC filing and has "
            "blocked API traffic from mainland China since 2024-07-09");
  EXPECT_EQ(r->citation,
            "GenAI Interim Measures Art. 17 [S2]; OpenAI unsupported-regions notice [S33]");
  EXPECT_TRUE(gate->Allowed("zh-CN").size() > 0);
  for (const Decision* allowed : gate->Allowed("zh-CN")) EXPECT_NE(allowed->plugin, "openai");
}

TEST(GateTest, QwenIsAllowedInMainlandChinaOnlyThroughMainlandInference) {
  auto gate = ShippedGate();
  const Decision* beijing = gate->Find("zh-CN", "qwen", "qwen-plus", "cn-beijing");
  ASSERT_NE(beijing, nullptr);
  EXPECT_TRUE(beijing->allowed);
  EXPECT_EQ(ReasonOf(*beijing, "cn-residency-mainland")->message,
            "endpoint 'cn-beijing' stores data in CN and runs inference in cn-mainland");
  EXPECT_EQ(ReasonOf(*beijing, "cn-genai-filing")->message,
            "model 'qwen-plus' has cac-genai filing ZheJiang-TongYiQianWen-20230901 (holder "
            "阿里巴巴达摩院（杭州）科技有限公司), verified in the registry on 2026-11-01");

  const Decision* singapore = gate->Find("zh-CN", "qwen", "qwen-plus", "ap-singapore");
  ASSERT_NE(singapore, nullptr);
  EXPECT_FALSE(singapore->allowed);
  EXPECT_EQ(RulesWithEffect(*singapore, "deny"), V{"cn-residency-mainland"});
  EXPECT_EQ(ReasonOf(*singapore, "cn-residency-mainland")->message,
            "endpoint 'ap-singapore' stores data in SG, which needs a transfer basis (PIPL "
            "standard contract filed with the provincial CAC (100k-1M people a year) or CAC "
            "security assessment) that is not in place; set in_place: true once it is; endpoint "
            "'ap-singapore' runs inference in intl-ex-cn, outside the allowed cn-mainland");
  for (const Decision* allowed : gate->Allowed("zh-CN")) {
    if (allowed->plugin == "qwen") {
      EXPECT_EQ(allowed->endpoint, "cn-beijing");
    }
  }
}

TEST(GateTest, FilingClaimedButAbsentFromTheRegistryIsDenied) {
  TempDir dir;
  testing::CopyShippedConfig(dir.path());
  // Drop the Qwen generative-AI filing from the registry; the plug-in still claims it.
  ReplaceInFile(dir.path() / "registry/cac-filings.yaml", "number: ZheJiang-TongYiQianWen-20230901",
                "number: ZheJiang-SomethingElse-20230901");
  auto gate = BuildGate(DefaultPolicySources(dir.path()), kAsOf);
  const Decision* d = gate->Find("zh-CN", "qwen", "qwen-plus", "cn-beijing");
  ASSERT_NE(d, nullptr);
  EXPECT_FALSE(d->allowed);
  EXPECT_EQ(RulesWithEffect(*d, "deny"), V{"cn-genai-filing"});
  EXPECT_EQ(ReasonOf(*d, "cn-genai-filing")->message,
            "plug-in 'qwen' claims cac-genai filing ZheJiang-TongYiQianWen-20230901 for model "
            "'qwen-plus', but the registry has no such filing; verify it and add it to "
            "config/registry");
}

TEST(GateTest, PendingRegistryEntryDoesNotCorroborate) {
  auto gate = ShippedGate();
  const Decision* d = gate->Find("zh-CN", "baidu", "ernie-4.0-8k", "qianfan-v2");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(ReasonOf(*d, "cn-genai-filing")->message,
            "plug-in 'baidu' claims cac-genai filing Beijing-WenXinYiYan-20230821 for model "
            "'ernie-4.0-8k', but the registry marks it pending; verify it and set status: "
            "verified");
}

TEST(GateTest, PluginWithoutAnyFilingClaimIsDenied) {
  auto gate = ShippedGate();
  const Decision* d = gate->Find("zh-CN", "openai", "gpt-4o", "us");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(ReasonOf(*d, "cn-genai-filing")->message,
            "plug-in 'openai' claims no cac-genai filing covering model 'gpt-4o'; a public-facing "
            "generative AI service must use a model with a CAC generative-AI filing (备案), "
            "corroborated by config/registry");
}

TEST(GateTest, EuRuleWithFutureEffectiveDateIsNotAppliedBeforeIt) {
  TempDir dir;
  testing::CopyShippedConfig(dir.path());
  // Without labels, AI Act Art. 50(1) (in force 2026-08-02) must deny; before it, not.
  std::string text = testing::ReadText(dir.path() / "regions/eu-fr.yaml");
  const size_t from = text.find("\nlabels:");
  const size_t to = text.find("\npii:");
  ASSERT_NE(from, std::string::npos);
  text.erase(from, to - from);
  testing::WriteText(dir.path() / "regions/eu-fr.yaml", text);

  auto before = BuildGate(DefaultPolicySources(dir.path()), *ParseDate("2026-08-01"));
  const Decision* d = before->Find("fr-FR", "openai", "gpt-4o", "eu");
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(d->allowed);
  const Reason* r = ReasonOf(*d, "eu-ai-act-art50-1-disclosure");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->effect, "inactive");
  EXPECT_EQ(r->message,
            "not in force until 2026-08-02: people must be told they are interacting with an AI "
            "system, no later than the first interaction");

  auto after = BuildGate(DefaultPolicySources(dir.path()), *ParseDate("2026-08-02"));
  d = after->Find("fr-FR", "openai", "gpt-4o", "eu");
  ASSERT_NE(d, nullptr);
  EXPECT_FALSE(d->allowed);
  EXPECT_EQ(RulesWithEffect(*d, "deny"), (V{"eu-ai-act-art50-1-disclosure"}));
  EXPECT_EQ(ReasonOf(*d, "eu-ai-act-art50-1-disclosure")->message,
            "region 'eu-fr' has no labels section; configure it or the region denies every "
            "plug-in");
}

TEST(GateTest, ShippedEuMarkingRuleIsInactiveUntilTheGracePeriodEnds) {
  auto gate = ShippedGate();
  const Decision* d = gate->Find("fr-FR", "openai", "gpt-4o", "eu");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(ReasonOf(*d, "eu-ai-act-art50-2-marking")->effect, "inactive");
  auto later_gate = ShippedGate(*ParseDate("2026-12-02"));
  const Decision* later = later_gate->Find("fr-FR", "openai", "gpt-4o", "eu");
  EXPECT_EQ(ReasonOf(*later, "eu-ai-act-art50-2-marking")->effect, "allow");
}

TEST(GateTest, DisabledRuleDecidesNothing) {
  auto gate = ShippedGate();
  const Decision* d = gate->Find("en-US", "openai", "gpt-4o", "global");
  ASSERT_NE(d, nullptr);
  const Reason* r = ReasonOf(*d, "us-ca-sb942-latent-disclosure");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->effect, "inactive");
  EXPECT_EQ(r->message.rfind("disabled (enforcement: disabled): ", 0), 0u) << r->message;
}

TEST(GateTest, MissingRuntimeConfigurationForALocaleDenies) {
  TempDir dir;
  testing::CopyShippedConfig(dir.path());
  // zh-Hans-CN would fall back to zh-CN and then to default (labels.hpp), zh-CN only to default.
  ReplaceInFile(dir.path() / "regions/cn-mainland.yaml",
                "    zh-CN: {text: （本内容由人工智能生成）, position: end}\n", "");
  ReplaceInFile(dir.path() / "regions/cn-mainland.yaml",
                "    default: {text: （本内容由人工智能生成）, position: end}\n", "");
  auto gate = BuildGate(DefaultPolicySources(dir.path()), kAsOf);
  EXPECT_TRUE(gate->Find("zh-Hans-CN", "qwen", "qwen-plus", "cn-beijing")->allowed);
  const Decision* d = gate->Find("zh-CN", "qwen", "qwen-plus", "cn-beijing");
  ASSERT_NE(d, nullptr);
  EXPECT_FALSE(d->allowed);
  EXPECT_EQ(ReasonOf(*d, "cn-aigc-labels")->message,
            "labels has no explicit label for locale 'zh-CN'; configure it or the region "
            "denies every plug-in");
}

TEST(GateTest, PinnedBinaryMustBeApproved) {
  TempDir dir;
  testing::CopyShippedConfig(dir.path());
  const std::string pin =
      "  - id: hk-pin-qwen\n"
      "    kind: pin_binary\n"
      "    summary: only reviewed Qwen builds\n"
      "    citation: internal change control\n"
      "    effective: 2026-01-01\n"
      "    plugin: qwen\n"
      "    sha256: [" +
      std::string(64, 'e') + "]\n\n";
  ReplaceInFile(dir.path() / "regions/hk.yaml", "  - id: hk-deny-openai\n",
                pin + "  - id: hk-deny-openai\n");
  auto gate = BuildGate(DefaultPolicySources(dir.path()), kAsOf);
  const Decision* d = gate->Find("zh-HK", "qwen", "qwen-plus", "cn-hongkong");
  ASSERT_NE(d, nullptr);
  EXPECT_FALSE(d->allowed);
  EXPECT_EQ(ReasonOf(*d, "hk-pin-qwen")->message,
            "library of plug-in 'qwen' (sha256 a1a1a1a1a1a1...) is not one of the approved "
            "builds; install an approved build or add its hash to rule 'hk-pin-qwen'");

  ReplaceInFile(dir.path() / "regions/hk.yaml", std::string(64, 'e'),
                "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1");
  gate = BuildGate(DefaultPolicySources(dir.path()), kAsOf);
  EXPECT_TRUE(gate->Find("zh-HK", "qwen", "qwen-plus", "cn-hongkong")->allowed);
}

TEST(GateTest, ExplainJsonHasTheDocumentedShape) {
  auto gate = ShippedGate();
  Result<Explanation> e = gate->Explain("zh-CN", {"qwen", "qwen-plus", "cn-beijing"});
  ASSERT_TRUE(e.ok()) << e.error().message;
  const nlohmann::json j = e->ToJson();
  V keys;
  for (const auto& item : j.items()) keys.push_back(item.key());
  EXPECT_EQ(keys, (V{"as_of", "decisions", "locale", "manifest_revision", "region"}));
  EXPECT_EQ(j["locale"], "zh-CN");
  EXPECT_EQ(j["region"], "cn-mainland");
  EXPECT_EQ(j["as_of"], "2026-11-21");
  EXPECT_EQ(j["manifest_revision"],
            Sha256Hex(testing::ReadText(kShippedConfig / "regions/cn-mainland.yaml")));
  ASSERT_EQ(j["decisions"].size(), 1u);
  const nlohmann::json& d = j["decisions"][0];
  EXPECT_EQ(d["plugin"], "qwen");
  EXPECT_EQ(d["model"], "qwen-plus");
  EXPECT_EQ(d["endpoint"], "cn-beijing");
  EXPECT_EQ(d["allowed"], true);
  ASSERT_FALSE(d["reasons"].empty());
  V reason_keys;
  for (const auto& item : d["reasons"][0].items()) reason_keys.push_back(item.key());
  EXPECT_EQ(reason_keys, (V{"citation", "effect", "message", "rule"}));
  EXPECT_EQ(d["reasons"][0]["rule"], "cn-allow-filed-vendors");
}

TEST(GateTest, ExplainTextIsATableWithReasons) {
  auto gate = ShippedGate();
  Result<Explanation> e = gate->Explain("zh_cn", {"openai", "gpt-4o", "global"});
  ASSERT_TRUE(e.ok()) << e.error().message;
  const std::string text = e->ToText();
  EXPECT_EQ(
      text.rfind("locale zh-CN -> region cn-mainland (Mainland China), as of 2026-11-21\n", 0), 0u)
      << text;
  EXPECT_NE(text.find("PLUGIN  MODEL   ENDPOINT  DECISION\n"
                      "openai  gpt-4o  global    DENY\n"
                      "    deny     cn-allow-filed-vendors: openai/gpt-4o via global is not on "
                      "the allow list"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\n0 of 1 combination allowed\n"), std::string::npos) << text;
}

TEST(GateTest, UnknownLocaleSuggestsTheNearestKnownOne) {
  Result<Explanation> e = ShippedGate()->Explain("ja-JA");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().id, "RG-G001");
  EXPECT_EQ(e.error().message,
            "no region manifest covers locale 'ja-JA'; add it to one region's 'locales' (known: "
            "zh-CN, zh-Hans-CN, fr-FR, zh-HK, zh-Hant-HK, en-HK, ja-JP, en-US, es-US) (did you "
            "mean 'ja-JP'?)");
  Result<Explanation> far = ShippedGate()->Explain("zh-TW");
  ASSERT_FALSE(far.ok());
  EXPECT_EQ(far.error().message.find("did you mean"), std::string::npos);
}

TEST(GateTest, UnknownPluginInTheFilterIsAnError) {
  Result<Explanation> e = ShippedGate()->Explain("zh-CN", {"opnai", "", ""});
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().id, "RG-G002");
  EXPECT_EQ(e.error().message,
            "unknown plug-in 'opnai' (known: qwen, openai, baidu, deepseek) (did you mean "
            "'openai'?)");
}

TEST(GateTest, ChooseFollowsThePriorityList) {
  auto gate = ShippedGate();
  Result<Decision> zh = gate->Choose("zh-CN");
  ASSERT_TRUE(zh.ok()) << zh.error().message;
  EXPECT_EQ(zh->plugin + "/" + zh->model + "/" + zh->endpoint, "qwen/qwen-plus/cn-beijing");
  Result<Decision> us = gate->Choose("en-US");
  ASSERT_TRUE(us.ok());
  EXPECT_EQ(us->plugin + "/" + us->model + "/" + us->endpoint, "openai/gpt-4o/us");
  Result<Decision> deepseek = gate->Choose("zh-CN", {"deepseek", "", ""});
  ASSERT_TRUE(deepseek.ok());
  EXPECT_EQ(deepseek->model, "deepseek-chat");
}

TEST(GateTest, ChooseRefusesWithEveryReasonWhenNothingIsAllowed) {
  Result<Decision> d = ShippedGate()->Choose("zh-CN", {"openai", "gpt-4o", "eu"});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().id, "RG-G003");
  EXPECT_EQ(d.error().message,
            "nothing is allowed for locale 'zh-CN' (region 'cn-mainland') with plug-in 'openai' "
            "model 'gpt-4o' endpoint 'eu'; see 'regiongate explain --locale zh-CN':\n"
            "  openai/gpt-4o via eu: cn-allow-filed-vendors: openai/gpt-4o via eu is not on the "
            "allow list: only vendors whose models hold a CAC filing and run on mainland "
            "infrastructure may serve mainland users\n"
            "  openai/gpt-4o via eu: cn-deny-openai: openai/gpt-4o via eu is on the deny list: "
            "OpenAI holds no CAC filing and has blocked API traffic from mainland China since "
            "2024-07-09\n"
            "  openai/gpt-4o via eu: cn-genai-filing: plug-in 'openai' claims no cac-genai filing "
            "covering model 'gpt-4o'; a public-facing generative AI service must use a model "
            "with a CAC generative-AI filing (备案), corroborated by config/registry\n"
            "  openai/gpt-4o via eu: cn-residency-mainland: endpoint 'eu' stores data in EU, "
            "outside the allowed CN; endpoint 'eu' runs inference in eu, outside the allowed "
            "cn-mainland");
}

TEST(GateTest, EgressToAnAllowedEndpointPasses) {
  auto gate = ShippedGate();
  EXPECT_TRUE(gate->EgressCheck("cn-mainland", "qwen", "cn-beijing").ok());
  EXPECT_TRUE(gate->EgressCheck("eu-fr", "openai", "eu").ok());
}

TEST(GateTest, EgressToADeniedEndpointFailsNamingTheRule) {
  Result<void> r = ShippedGate()->EgressCheck("cn-mainland", "qwen", "ap-singapore");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().id, "RG-G004");
  EXPECT_EQ(r.error().message,
            "egress to qwen endpoint 'ap-singapore' denied for region 'cn-mainland' by rule "
            "'cn-residency-mainland': endpoint 'ap-singapore' stores data in SG, which needs a "
            "transfer basis (PIPL standard contract filed with the provincial CAC (100k-1M "
            "people a year) or CAC security assessment) that is not in place; set in_place: true "
            "once it is; endpoint 'ap-singapore' runs inference in intl-ex-cn, outside the "
            "allowed cn-mainland");
}

TEST(GateTest, EgressToAnUndeclaredEndpointOrRegionFails) {
  auto gate = ShippedGate();
  Result<void> endpoint = gate->EgressCheck("cn-mainland", "qwen", "evil");
  ASSERT_FALSE(endpoint.ok());
  EXPECT_EQ(endpoint.error().id, "RG-G005");
  EXPECT_EQ(endpoint.error().message,
            "egress denied: plug-in 'qwen' declares no endpoint 'evil'; a plug-in may only call "
            "endpoints in its manifest");
  Result<void> region = gate->EgressCheck("mars", "qwen", "cn-beijing");
  ASSERT_FALSE(region.ok());
  EXPECT_EQ(region.error().id, "RG-G006");
}

TEST(GateTest, AuthEndpointFollowsItsPlugin) {
  // ERNIE's filing is pending in the shipped registry: no model is allowed, so neither is
  // the token endpoint.
  Result<void> denied = ShippedGate()->EgressCheck("cn-mainland", "baidu", "oauth");
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().message,
            "egress to baidu endpoint 'oauth' denied for region 'cn-mainland' by rule 'gate': "
            "plug-in 'baidu' has no allowed model in region 'cn-mainland', so its auth endpoint "
            "'oauth' is not needed");

  TempDir dir;
  testing::CopyShippedConfig(dir.path());
  ReplaceInFile(dir.path() / "registry/cac-filings.yaml", "    status: pending\n",
                "    status: verified\n    verified_on: 2026-11-20\n");
  auto gate = BuildGate(DefaultPolicySources(dir.path()), kAsOf);
  EXPECT_TRUE(gate->Find("zh-CN", "baidu", "ernie-4.0-8k", "qianfan-v2")->allowed);
  EXPECT_TRUE(gate->EgressCheck("cn-mainland", "baidu", "oauth").ok());
  // The token endpoint is in CN, so residency still keeps it out of Hong Kong's region.
  Result<void> hk = gate->EgressCheck("hk", "baidu", "oauth");
  ASSERT_FALSE(hk.ok());
  EXPECT_NE(hk.error().message.find("by rule 'hk-no-mainland-inference'"), std::string::npos)
      << hk.error().message;
}

TEST(GateTest, RegionWithoutRestrictionsSaysSo) {
  TempDir dir;
  testing::WriteText(dir.path() / "regions/open.yaml",
                     "schema_version: 1\nregion: open\nname: Open\nlocales: [en-GB]\nrules:\n"
                     "  - {id: o-later, kind: deny, summary: later, citation: none, effective: "
                     "2030-01-01, match: [{plugin: openai}]}\n");
  auto gate = BuildGate(DefaultPolicySources(dir.path()), kAsOf);
  const Decision* d = gate->Find("en-GB", "openai", "gpt-4o", "global");
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(d->allowed);
  ASSERT_EQ(d->reasons.size(), 2u);
  EXPECT_EQ(d->reasons[0].effect, "inactive");
  EXPECT_EQ(d->reasons[1].rule, "gate");
  EXPECT_EQ(d->reasons[1].message,
            "no rule in force in region 'open' restricts openai/gpt-4o via global");
}

}  // namespace
}  // namespace rg::compliance
