// Runtime = host + compliance policy: the gate chooses among loaded plug-ins, the egress hook
// enforces the region's rules on every outbound request (with the declared endpoint's
// attributes, whatever the override), and a bad policy reload keeps the last good one.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "regiongate/core/runtime.hpp"
#include "support/test_http_server.hpp"

namespace {

namespace fs = std::filesystem;
using rg::testing::ScriptedResponse;
using rg::testing::TestHttpServer;

constexpr const char* kRegion = R"(schema_version: 1
region: testland
name: Testland
jurisdiction: US
locales: [en-US]
reviewed: 2026-11-01
rules:
  - id: t-residency
    kind: residency
    summary: data stays in the US
    citation: Test Act s. 1
    effective: 2020-01-01
    data_regions: [US]
    inference_scopes: [us]
)";

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("rg_runtime_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
            "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "regions");
    Write(kRegion);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& text) { std::ofstream(dir_ / "regions" / "test.yaml") << text; }

  std::unique_ptr<rg::core::Runtime> Make(const std::string& sim_url) {
    rg::core::RuntimeOptions options;
    options.plugin_dirs = {RG_TEST_PLUGIN_DIR};
    options.config_dir = dir_;
    options.host.endpoint_overrides = {{"*", "*", sim_url}};
    auto runtime = rg::core::Runtime::Create(options);
    EXPECT_TRUE(runtime.ok()) << (runtime.ok() ? "" : runtime.error().message);
    return runtime.ok() ? std::move(runtime.value()) : nullptr;
  }

  static nlohmann::json Body(const std::string& prompt) {
    return {{"messages", {{{"role", "user"}, {"content", prompt}}}}, {"stream", true}};
  }

  fs::path dir_;
};

TEST_F(RuntimeTest, GateChoosesTheAllowedPluginAndEndpoint) {
  TestHttpServer server([](const auto&) { return ScriptedResponse::Text(200, "from home"); });
  auto runtime = Make(server.Url(""));
  ASSERT_NE(runtime, nullptr);
  auto done = runtime->Complete("en-US", {}, Body("http home /ok"));
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->decision.plugin, "probe");  // echo's endpoint is GLOBAL: denied
  EXPECT_EQ(done->decision.endpoint, "home");
  EXPECT_EQ(done->decision.region, "testland");
  EXPECT_TRUE(done->result.ok()) << done->result.message;
  EXPECT_EQ(done->result.text, "from home");
}

TEST_F(RuntimeTest, EgressToAnEndpointTheRegionDeniesFailsBeforeAnyByte) {
  TestHttpServer server;
  auto runtime = Make(server.Url(""));
  ASSERT_NE(runtime, nullptr);
  // The gate allowed probe via 'home'; the plug-in then tries to reach 'abroad' (CN).
  auto done = runtime->Complete("en-US", {"probe", "", ""}, Body("http abroad /leak"));
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->result.code, RG_ERR_EGRESS_DENIED);
  EXPECT_NE(done->result.message.find("t-residency"), std::string::npos) << done->result.message;
  EXPECT_EQ(server.ConnectionsAccepted(), 0u);
}

TEST_F(RuntimeTest, NothingAllowedIsARefusalWithReasons) {
  TestHttpServer server;
  auto runtime = Make(server.Url(""));
  ASSERT_NE(runtime, nullptr);
  auto denied = runtime->Complete("en-US", {"echo", "", ""}, Body("hi"));
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().id, "RG-G003");
  EXPECT_NE(denied.error().message.find("t-residency"), std::string::npos)
      << denied.error().message;
  auto unknown = runtime->Complete("xx-YY", {}, Body("hi"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().id, "RG-G001");
}

TEST_F(RuntimeTest, InvalidReloadKeepsTheLastGoodPolicy) {
  TestHttpServer server([](const auto&) { return ScriptedResponse::Text(200, "still here"); });
  auto runtime = Make(server.Url(""));
  ASSERT_NE(runtime, nullptr);
  const auto generation = runtime->policy().generation();
  Write(std::string(kRegion) + "bogus_key: 1\n");
  const auto diagnostics = runtime->Reload();
  ASSERT_TRUE(rg::compliance::HasErrors(diagnostics));
  EXPECT_NE(rg::core::FormatDiagnostics(diagnostics).find("unknown key 'bogus_key'"),
            std::string::npos)
      << rg::core::FormatDiagnostics(diagnostics);
  EXPECT_EQ(runtime->policy().generation(), generation);
  auto done = runtime->Complete("en-US", {}, Body("http home /ok"));
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->result.text, "still here");

  Write(std::string(kRegion).replace(std::string(kRegion).find("[US]"), 4, "[US, CN]"));
  ASSERT_FALSE(rg::compliance::HasErrors(runtime->Reload()));
  EXPECT_GT(runtime->policy().generation(), generation);
}

TEST_F(RuntimeTest, InvalidPolicyAtStartIsAnError) {
  Write("schema_version: 1\nregion: [oops\n");
  rg::core::RuntimeOptions options;
  options.plugin_dirs = {RG_TEST_PLUGIN_DIR};
  options.config_dir = dir_;
  auto runtime = rg::core::Runtime::Create(options);
  ASSERT_FALSE(runtime.ok());
  EXPECT_EQ(runtime.error().id, "RG-R001");
  EXPECT_NE(runtime.error().message.find("test.yaml:"), std::string::npos)
      << runtime.error().message;
}

}  // namespace
