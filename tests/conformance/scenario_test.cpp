// Scenario files: parsing, and the exact diagnostics QA gets for mistakes (FILE:LINE:COL).
#include "regiongate/tools/conformance/scenario.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace rg::tools::conformance {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Messages(const compliance::Diagnostics& diagnostics) {
  std::vector<std::string> out;
  for (const auto& d : diagnostics) out.push_back(d.ToString());
  return out;
}

TEST(ConformanceScenarioTest, ParsesEveryField) {
  ScenarioSuite suite;
  const auto diagnostics = ParseScenario(R"(suite: demo
description: all the keys
cases:
  - name: qwen answers zh-CN
    locale: zh-CN
    plugin: qwen
    model: qwen-plus
    endpoint: cn-beijing
    capabilities: [streaming]
    settings: {protocol: native, incremental_output: false}
    system: be brief
    prompt: hello
    behavior: rate-limit:2
    stream: both
    max_tokens: 50
    expect:
      decision: allowed
      rule: cn-residency-mainland
      outcome: failed
      code: rate_limited
      finish: error
      text_contains: [a, b]
      text_absent: forbidden
      label: region
      audit: {outcome: failed, region: cn-mainland, attempts: 1}
)",
                                         "demo.yaml", &suite);
  ASSERT_TRUE(diagnostics.empty()) << Messages(diagnostics).front();
  EXPECT_EQ(suite.name, "demo");
  ASSERT_EQ(suite.cases.size(), 1u);
  const ScenarioCase& c = suite.cases[0];
  EXPECT_EQ(c.name, "qwen answers zh-CN");
  EXPECT_EQ(c.plugin, "qwen");
  EXPECT_EQ(c.settings, (nlohmann::json{{"protocol", "native"}, {"incremental_output", false}}));
  EXPECT_EQ(c.behavior, "rate-limit:2");
  EXPECT_EQ(c.stream, StreamMode::kBoth);
  EXPECT_EQ(c.max_tokens, 50);
  EXPECT_EQ(c.expect.text_contains, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.expect.text_absent, (std::vector<std::string>{"forbidden"}));
  EXPECT_EQ(c.expect.audit.at("attempts"), 1);
  EXPECT_EQ(c.Where(), "demo.yaml:4:5");
  EXPECT_TRUE(c.AppliesTo("qwen"));
  EXPECT_FALSE(c.AppliesTo("openai"));
}

TEST(ConformanceScenarioTest, AnyPluginAndDefaults) {
  ScenarioSuite suite;
  const auto diagnostics = ParseScenario(
      "cases:\n  - {name: n, locale: en-US, plugin: any, prompt: hi, stream: false,"
      " expect: {outcome: completed}}\n",
      "dir/defaults.yaml", &suite);
  ASSERT_TRUE(diagnostics.empty()) << Messages(diagnostics).front();
  EXPECT_EQ(suite.name, "defaults");
  EXPECT_TRUE(suite.cases[0].plugin.empty());
  EXPECT_TRUE(suite.cases[0].AppliesTo("anything"));
  EXPECT_EQ(suite.cases[0].stream, StreamMode::kBuffered);
}

TEST(ConformanceScenarioTest, UnknownKeyNamesThePositionAndTheNearestKey) {
  ScenarioSuite suite;
  const auto diagnostics = ParseScenario(
      "cases:\n  - name: n\n    locale: en-US\n    promt: hi\n    expect: {decision: allowed}\n",
      "typo.yaml", &suite);
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_EQ(diagnostics[0].ToString(),
            "typo.yaml:4:5: error: unknown key 'promt' in cases[0] (did you mean 'prompt'?)");
}

TEST(ConformanceScenarioTest, BadBehaviourIsReportedWithTheSimulatorsMessage) {
  ScenarioSuite suite;
  const auto diagnostics = ParseScenario(
      "cases:\n  - name: n\n    locale: en-US\n    prompt: hi\n    behavior: explode\n"
      "    expect: {outcome: failed}\n",
      "b.yaml", &suite);
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_EQ(diagnostics[0].id, "RG-C001");
  EXPECT_EQ(diagnostics[0].line, 5);
  EXPECT_EQ(diagnostics[0].column, 15);
  EXPECT_NE(
      diagnostics[0].message.find("'cases[0].behavior': unknown simulator behavior 'explode'"),
      std::string::npos)
      << diagnostics[0].message;
}

TEST(ConformanceScenarioTest, ContradictionsAreRefused) {
  ScenarioSuite suite;
  auto diagnostics = ParseScenario(
      "cases:\n  - name: n\n    locale: zh-CN\n    plugin: openai\n    prompt: hi\n"
      "    expect: {decision: denied, outcome: completed}\n",
      "c.yaml", &suite);
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_EQ(diagnostics[0].ToString(),
            "c.yaml:6:5: error: case 'n': a request the gate denies can only have outcome "
            "'denied', not 'completed'");
  EXPECT_EQ(diagnostics[0].id, "RG-C002");

  diagnostics = ParseScenario(
      "cases:\n  - {name: n, locale: zh-CN, expect: {outcome: completed}}\n", "c.yaml", &suite);
  ASSERT_EQ(diagnostics.size(), 2u);
  EXPECT_EQ(diagnostics[0].message,
            "case 'n': 'expect' checks an answer but the case has no 'prompt' to send; add one");
  EXPECT_EQ(diagnostics[1].message,
            "case 'n': the case checks nothing: give 'expect.decision', or a 'prompt' and what "
            "must happen to it");

  diagnostics = ParseScenario(
      "cases:\n  - {name: n, locale: zh-CN, prompt: x, expect: {outcome: completed, blocked_by: "
      "provider}}\n",
      "c.yaml", &suite);
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_EQ(diagnostics[0].message,
            "case 'n': 'blocked_by: provider' needs outcome blocked_input or blocked_output, not "
            "'completed'");
}

TEST(ConformanceScenarioTest, DuplicateCaseNamesAreRefused) {
  ScenarioSuite suite;
  const auto diagnostics = ParseScenario(
      "cases:\n  - {name: same, locale: en-US, expect: {decision: allowed}}\n"
      "  - {name: same, locale: fr-FR, expect: {decision: allowed}}\n",
      "d.yaml", &suite);
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_EQ(diagnostics[0].ToString(),
            "d.yaml:3:5: error: case name 'same' is already used at line 2; give every case of "
            "a suite its own name");
}

TEST(ConformanceScenarioTest, WrongTypesAndValues) {
  ScenarioSuite suite;
  const auto diagnostics = ParseScenario(
      "cases:\n  - name: n\n    locale: Chinese\n    prompt: hi\n    stream: sometimes\n"
      "    expect: {outcome: exploded}\n",
      "w.yaml", &suite);
  const auto messages = Messages(diagnostics);
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0],
            "w.yaml:3:13: error: 'cases[0].locale' must be a locale tag such as zh-CN or fr-FR, "
            "got 'Chinese'");
  EXPECT_EQ(messages[1],
            "w.yaml:5:13: error: 'cases[0].stream' must be true, false or both, got a string");
  EXPECT_EQ(
      messages[2].rfind("w.yaml:6:23: error: 'cases[0].expect.outcome' has unknown value "
                        "'exploded'; expected one of completed, blocked_input, blocked_output",
                        0),
      0u)
      << messages[2];
}

TEST(ConformanceScenarioTest, YamlSyntaxErrorsHaveAPosition) {
  ScenarioSuite suite;
  const auto diagnostics = ParseScenario("cases: [\n", "s.yaml", &suite);
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_EQ(diagnostics[0].file, "s.yaml");
  EXPECT_GT(diagnostics[0].line, 0);
}

TEST(ConformanceScenarioTest, EmptyDirectoryIsAnError) {
  const fs::path dir =
      fs::temp_directory_path() / ("rg-scenario-empty-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::vector<ScenarioSuite> suites;
  const auto diagnostics = LoadScenarios({dir}, &suites);
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_EQ(diagnostics[0].id, "RG-C004");
  EXPECT_EQ(diagnostics[0].message,
            "no case files (*.yaml) in this directory; pass a directory of scenario suites or a "
            "file");
  fs::remove_all(dir);
}

TEST(ConformanceScenarioTest, DuplicateSuiteNamesAcrossFilesAreRefused) {
  const fs::path dir =
      fs::temp_directory_path() / ("rg-scenario-dup-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const char* name : {"a.yaml", "b.yaml"}) {
    std::ofstream(dir / name) << "suite: same\ncases:\n  - {name: n, locale: en-US, expect: "
                                 "{decision: allowed}}\n";
  }
  std::vector<ScenarioSuite> suites;
  const auto diagnostics = LoadScenarios({dir}, &suites);
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_EQ(diagnostics[0].message, "suite name 'same' is already used by " +
                                        (dir / "a.yaml").string() + "; set a distinct 'suite:'");
  EXPECT_EQ(suites.size(), 1u);
  fs::remove_all(dir);
}

// The suites QA ships must always parse.
TEST(ConformanceScenarioTest, ShippedSuitesAreValid) {
  std::vector<ScenarioSuite> suites;
  const auto diagnostics =
      LoadScenarios({fs::path(RG_SOURCE_DIR) / "tests" / "conformance" / "cases"}, &suites);
  for (const auto& d : diagnostics) ADD_FAILURE() << d.ToString();
  EXPECT_GE(suites.size(), 3u);
}

}  // namespace
}  // namespace rg::tools::conformance
