// ComplianceStore: reload without restart; an invalid new version is rejected whole and the
// last good version stays in force; plug-in changes recompute decisions.
#include "regiongate/compliance/store.hpp"

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace rg::compliance {
namespace {

using testing::FixturePlugins;
using testing::ReplaceInFile;
using testing::TempDir;

StoreOptions Options(const std::filesystem::path& dir) {
  return StoreOptions{DefaultPolicySources(dir), ParseDate("2026-11-21")};
}

TEST(ComplianceStoreTest, NoGateBeforeTheFirstSuccessfulLoad) {
  TempDir dir;
  ComplianceStore store(Options(dir.path()));
  EXPECT_EQ(store.gate(), nullptr);
  Diagnostics d = store.Reload();  // no regions directory at all
  EXPECT_TRUE(HasErrors(d));
  EXPECT_EQ(store.gate(), nullptr);
  EXPECT_EQ(store.generation(), 0u);
}

TEST(ComplianceStoreTest, ReloadAppliesAValidChange) {
  TempDir dir;
  testing::CopyShippedConfig(dir.path());
  ComplianceStore store(Options(dir.path()));
  store.SetPlugins(FixturePlugins());
  ASSERT_FALSE(HasErrors(store.Reload()));
  std::shared_ptr<const Gate> before = store.gate();
  ASSERT_NE(before, nullptr);
  EXPECT_FALSE(before->Find("fr-FR", "openai", "gpt-4o", "us")->allowed);

  // The team records the DPF basis for the US.
  ReplaceInFile(dir.path() / "regions/eu-fr.yaml",
                "recipient DPF-certified, or SCCs (decision 2021/914)\n        in_place: false",
                "recipient DPF-certified, or SCCs (decision 2021/914)\n        in_place: true");
  const uint64_t generation = store.generation();
  Diagnostics d = store.Reload();
  EXPECT_FALSE(HasErrors(d));
  std::shared_ptr<const Gate> after = store.gate();
  EXPECT_TRUE(after->Find("fr-FR", "openai", "gpt-4o", "us")->allowed);
  EXPECT_EQ(store.generation(), generation + 1);
  EXPECT_NE(after->Explain("fr-FR")->manifest_revision,
            before->Explain("fr-FR")->manifest_revision);
  // A reader holding the old snapshot still sees the old decision.
  EXPECT_FALSE(before->Find("fr-FR", "openai", "gpt-4o", "us")->allowed);
}

TEST(ComplianceStoreTest, InvalidNewVersionIsRejectedWholeAndTheLastGoodStays) {
  TempDir dir;
  testing::CopyShippedConfig(dir.path());
  ComplianceStore store(Options(dir.path()));
  store.SetPlugins(FixturePlugins());
  ASSERT_FALSE(HasErrors(store.Reload()));
  std::shared_ptr<const Gate> good = store.gate();
  const uint64_t generation = store.generation();

  // A valid edit in one file and a broken one in another: neither may apply.
  ReplaceInFile(dir.path() / "regions/eu-fr.yaml",
                "recipient DPF-certified, or SCCs (decision 2021/914)\n        in_place: false",
                "recipient DPF-certified, or SCCs (decision 2021/914)\n        in_place: true");
  ReplaceInFile(dir.path() / "regions/cn-mainland.yaml", "kind: allow_only", "kind: allow-only");
  Diagnostics d = store.Reload();
  ASSERT_TRUE(HasErrors(d));
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].ToString(),
            (dir.path() / "regions/cn-mainland.yaml").string() +
                ":21:11: error: 'rules[0].kind' has unknown value 'allow-only'; expected one of "
                "deny, allow_only, require_filing, residency, pin_binary, require_capabilities "
                "(did you mean 'allow_only'?)");
  EXPECT_EQ(store.gate(), good);
  EXPECT_EQ(store.generation(), generation);
  EXPECT_FALSE(store.gate()->Find("fr-FR", "openai", "gpt-4o", "us")->allowed);
  EXPECT_TRUE(store.gate()->Find("zh-CN", "qwen", "qwen-plus", "cn-beijing")->allowed);
}

TEST(ComplianceStoreTest, LocaleCollisionRejectsTheReload) {
  TempDir dir;
  testing::CopyShippedConfig(dir.path());
  ComplianceStore store(Options(dir.path()));
  ASSERT_FALSE(HasErrors(store.Reload()));
  std::shared_ptr<const Gate> good = store.gate();
  ReplaceInFile(dir.path() / "regions/hk.yaml", "locales: [zh-HK,", "locales: [zh-CN, zh-HK,");
  Diagnostics d = store.Reload();
  ASSERT_TRUE(HasErrors(d));
  EXPECT_EQ(d.back().id, "RG-M401");
  EXPECT_EQ(store.gate(), good);
}

TEST(ComplianceStoreTest, SetPluginsRecomputesDecisions) {
  TempDir dir;
  testing::CopyShippedConfig(dir.path());
  ComplianceStore store(Options(dir.path()));
  ASSERT_FALSE(HasErrors(store.Reload()));
  EXPECT_EQ(store.gate()->Find("zh-CN", "qwen", "qwen-plus", "cn-beijing"), nullptr);
  std::vector<PluginManifest> plugins = FixturePlugins();
  store.SetPlugins(plugins);
  EXPECT_TRUE(store.gate()->Find("zh-CN", "qwen", "qwen-plus", "cn-beijing")->allowed);
  plugins.erase(plugins.begin());  // qwen unloaded
  store.SetPlugins(plugins);
  EXPECT_EQ(store.gate()->Find("zh-CN", "qwen", "qwen-plus", "cn-beijing"), nullptr);
  Result<void> egress = store.gate()->EgressCheck("cn-mainland", "qwen", "cn-beijing");
  EXPECT_FALSE(egress.ok());
}

TEST(ComplianceStoreTest, DefaultDateIsToday) {
  TempDir dir;
  testing::CopyShippedConfig(dir.path());
  ComplianceStore store(StoreOptions{DefaultPolicySources(dir.path()), std::nullopt});
  ASSERT_FALSE(HasErrors(store.Reload()));
  EXPECT_EQ(store.gate()->as_of(), Today());
}

}  // namespace
}  // namespace rg::compliance
