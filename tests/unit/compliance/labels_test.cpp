// Labels: explicit text and position per region and locale with the fallback
// zh-Hans-CN -> zh-CN -> default, and the implicit metadata (GB 45438 AIGC fields for
// zh-CN; provider, model, time and id everywhere).
#include "regiongate/compliance/labels.hpp"

#include <gtest/gtest.h>

#include "regiongate/compliance/region_manifest.hpp"
#include "test_util.hpp"

namespace rg::compliance {
namespace {

using V = std::vector<std::string>;
using namespace std::chrono_literals;

RegionManifest Shipped(const std::string& region) {
  Result<RegionManifest> m =
      LoadRegionManifest(testing::kShippedConfig / "regions" / (region + ".yaml"));
  EXPECT_TRUE(m.ok()) << m.error().message;
  return m.ok() ? *m : RegionManifest{};
}

LabelRequest Request(const std::string& locale) {
  LabelRequest r;
  r.locale = locale;
  r.provider = "qwen";
  r.model = "qwen-plus";
  r.time = std::chrono::sys_days{std::chrono::year{2026} / 11 / 21} + 8h + 30min + 5s + 250ms;
  r.id = "dec-0001";
  return r;
}

Labels Sample(std::map<std::string, ExplicitLabel> labels) {
  Labels l;
  l.present = true;
  l.explicit_labels = std::move(labels);
  return l;
}

TEST(LabelsTest, MainlandChinaEndLabelAndAigcMetadata) {
  RegionManifest m = Shipped("cn-mainland");
  m.labels.producer_code = "001191110102MAD55U9H0F10002";
  const LabelOutput out = MakeLabels(m.labels, Request("zh-CN"));
  EXPECT_EQ(out.prefix, "");
  EXPECT_EQ(out.suffix, "\n\n（本内容由人工智能生成）");
  EXPECT_EQ(out.ui_notice, "");
  EXPECT_EQ(out.position, "end");
  EXPECT_EQ(out.label_key, "zh-CN");
  EXPECT_EQ(out.warnings, V{});
  // Field order is the standard's; Label is the string "1".
  EXPECT_EQ(out.implicit_metadata.dump(),
            R"({"scheme":"gb45438-aigc","ai_generated":true,"provider":"qwen",)"
            R"("model":"qwen-plus","time":"2026-11-21T08:30:05.250Z","id":"dec-0001",)"
            R"("AIGC":{"Label":"1","ContentProducer":"001191110102MAD55U9H0F10002",)"
            R"("ProduceID":"dec-0001","ReservedCode1":"",)"
            R"("ContentPropagator":"001191110102MAD55U9H0F10002","PropagateID":"dec-0001",)"
            R"("ReservedCode2":""}})");
}

TEST(LabelsTest, MissingProducerCodeIsAWarning) {
  const LabelOutput out = MakeLabels(Shipped("cn-mainland").labels, Request("zh-Hans-CN"));
  EXPECT_EQ(out.label_key, "zh-Hans-CN");
  EXPECT_EQ(out.implicit_metadata["AIGC"]["ContentProducer"], "");
  EXPECT_EQ(out.warnings,
            V{"labels.implicit.producer_code is not set, so the AIGC ContentProducer field is "
              "empty; set it to the deployer's code (TC260 coding practice guide)"});
}

TEST(LabelsTest, EuAiInteractionNoticeStaysInTheUi) {
  LabelRequest request = Request("fr-FR");
  request.provider = "openai";
  request.model = "gpt-4o";
  const LabelOutput out = MakeLabels(Shipped("eu-fr").labels, request);
  EXPECT_EQ(out.prefix, "");
  EXPECT_EQ(out.suffix, "");
  EXPECT_EQ(out.position, "ui_persistent");
  EXPECT_EQ(out.ui_notice,
            "Vous échangez avec une intelligence artificielle : ce contenu est généré par IA");
  EXPECT_EQ(out.implicit_metadata.dump(),
            R"({"scheme":"c2pa","ai_generated":true,"provider":"openai","model":"gpt-4o",)"
            R"("time":"2026-11-21T08:30:05.250Z","id":"dec-0001"})");
  EXPECT_EQ(out.warnings, V{});
}

TEST(LabelsTest, EveryShippedLocaleHasALabel) {
  for (const char* region : {"cn-mainland", "eu-fr", "hk", "jp", "us"}) {
    const RegionManifest m = Shipped(region);
    for (const std::string& locale : m.locales) {
      const LabelOutput out = MakeLabels(m.labels, Request(locale));
      EXPECT_EQ(out.label_key, locale) << region;
      EXPECT_FALSE(out.prefix.empty() && out.suffix.empty() && out.ui_notice.empty()) << locale;
    }
  }
}

TEST(LabelsTest, LocaleFallback) {
  const Labels labels = Sample({{"zh-CN", {"中文标签", "start"}},
                                {"zh", {"通用中文", "end"}},
                                {"default", {"AI-generated", "start_and_end"}}});
  std::string used;
  ASSERT_NE(FindExplicitLabel(labels, "zh-Hans-CN", &used), nullptr);
  EXPECT_EQ(used, "zh-CN");
  ASSERT_NE(FindExplicitLabel(labels, "zh_hans_cn", &used), nullptr);
  EXPECT_EQ(used, "zh-CN") << "tags compare in canonical case";
  ASSERT_NE(FindExplicitLabel(labels, "zh-Hant-TW", &used), nullptr);
  EXPECT_EQ(used, "zh");
  ASSERT_NE(FindExplicitLabel(labels, "en-GB", &used), nullptr);
  EXPECT_EQ(used, "default");
  ASSERT_NE(FindExplicitLabel(labels, "", &used), nullptr);
  EXPECT_EQ(used, "default");
}

TEST(LabelsTest, Positions) {
  const Labels labels =
      Sample({{"zh-CN", {"中文标签", "start"}}, {"default", {"AI-generated", "start_and_end"}}});
  LabelOutput out = MakeLabels(labels, Request("zh-Hans-CN"));
  EXPECT_EQ(out.prefix, "中文标签\n\n");
  EXPECT_EQ(out.suffix, "");
  out = MakeLabels(labels, Request("en-GB"));
  EXPECT_EQ(out.prefix, "AI-generated\n\n");
  EXPECT_EQ(out.suffix, "\n\nAI-generated");
  EXPECT_EQ(out.label_key, "default");
}

TEST(LabelsTest, NoLabelForTheLocaleIsAWarning) {
  const Labels labels = Sample({{"zh-CN", {"中文标签", "start"}}});
  EXPECT_EQ(FindExplicitLabel(labels, "en-US"), nullptr);
  const LabelOutput out = MakeLabels(labels, Request("en-US"));
  EXPECT_EQ(out.prefix + out.suffix + out.ui_notice, "");
  EXPECT_EQ(out.label_key, "");
  EXPECT_EQ(out.warnings, V{"labels.explicit has no label for locale 'en-US' and no 'default' "
                            "entry; add one so the answer is labelled"});
  // Implicit metadata comes with every response, labelled or not.
  EXPECT_EQ(out.implicit_metadata["scheme"], "none");
  EXPECT_EQ(out.implicit_metadata["id"], "dec-0001");
}

TEST(LabelsTest, NoLabelsSectionAtAll) {
  const LabelOutput out = MakeLabels(Labels{}, Request("en-US"));
  EXPECT_EQ(out.position, "");
  EXPECT_EQ(out.warnings, V{});
  EXPECT_EQ(out.implicit_metadata["ai_generated"], true);
}

TEST(LabelsTest, AigcValuesOutsidePrintableAsciiAreFlagged) {
  Labels labels = Shipped("cn-mainland").labels;
  labels.producer_code = "某公司";
  LabelRequest request = Request("zh-CN");
  request.id = "id with space";
  const LabelOutput out = MakeLabels(labels, request);
  EXPECT_EQ(out.warnings,
            (V{"labels.implicit.producer_code '某公司' has characters outside printable ASCII (or "
               "a space, quote or backslash), which AIGC readers may reject",
               "the response id 'id with space' is not printable ASCII without spaces, quotes or "
               "backslashes, which AIGC readers may reject as ProduceID"}));
}

TEST(LabelsTest, ManifestAcceptsADefaultLabel) {
  const std::string yaml =
      "schema_version: 1\n"
      "region: test\n"
      "name: Test\n"
      "locales: [en-US]\n"
      "rules:\n"
      "  - id: t-labels\n"
      "    kind: require_capabilities\n"
      "    summary: s\n"
      "    citation: c\n"
      "    effective: 2024-01-01\n"
      "    runtime: [labels]\n"
      "labels:\n"
      "  explicit:\n"
      "    default: {text: AI-generated, position: start}\n";
  RegionManifest m;
  EXPECT_TRUE(ParseRegionManifest(yaml, "t.yaml", &m).empty())
      << "en-US is covered by the default entry, so no RG-M206 warning";
  EXPECT_EQ(m.labels.explicit_labels.at("default").text, "AI-generated");
  EXPECT_EQ(m.ToJson()["labels"]["explicit"]["default"]["position"], "start");
}

}  // namespace
}  // namespace rg::compliance
