// Plug-in manifest parsing: a valid manifest, and one test per mistake asserting the exact
// diagnostic (file, line, column, message, suggestion).
#include "regiongate/compliance/plugin_manifest.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace rg::compliance {
namespace {

// Line numbers matter: the tests below replace or insert lines by number.
const char* const kValidManifest =
    "# yaml-language-server: "
    "$schema=https://regiongate.dev/schema/plugin-manifest.schema.json\n"         // 1
    "schema_version: 1\n"                                                         // 2
    "id: qwen\n"                                                                  // 3
    "version: \"0.1.0\"\n"                                                        // 4
    "vendor: Alibaba Cloud\n"                                                     // 5
    "description: Qwen models through Alibaba Cloud Model Studio (DashScope)\n"   // 6
    "library: rg-plugin-qwen.so\n"                                                // 7
    "sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"  // 8
    "abi: {major: 1, min_minor: 0, max_minor: 0}\n"                               // 9
    "capabilities: [streaming, usage, tools, provider_blocks]\n"                  // 10
    "endpoints:\n"                                                                // 11
    "  - id: cn-beijing\n"                                                        // 12
    "    kind: inference\n"                                                       // 13
    "    base_url: https://dashscope.aliyuncs.com\n"                              // 14
    "    data_region: CN\n"                                                       // 15
    "    inference_scope: cn-mainland\n"                                          // 16
    "    protocol: compatible\n"                                                  // 17
    "  - id: ap-singapore\n"                                                      // 18
    "    base_url: https://dashscope-intl.aliyuncs.com\n"                         // 19
    "    data_region: SG\n"                                                       // 20
    "    inference_scope: intl-ex-cn\n"                                           // 21
    "models:\n"                                                                   // 22
    "  - id: qwen-plus\n"                                                         // 23
    "    endpoints: [cn-beijing]\n"                                               // 24
    "  - id: qwen-max\n"                                                          // 25
    "filings:\n"                                                                  // 26
    "  - kind: cac-genai\n"                                                       // 27
    "    number: ZheJiang-TongYiQianWen-20230901\n"                               // 28
    "    holder: Alibaba Cloud\n"                                                 // 29
    "    models: [qwen-plus]\n"                                                   // 30
    "settings:\n"                                                                 // 31
    "  - key: api_key_secret\n"                                                   // 32
    "    type: string\n"                                                          // 33
    "    default: DASHSCOPE_API_KEY\n"                                            // 34
    "    required: false\n"                                                       // 35
    "    secret: true\n"                                                          // 36
    "    description: name of the secret holding the DashScope API key\n"         // 37
    "  - key: timeout_ms\n"                                                       // 38
    "    type: integer\n"                                                         // 39
    "    default: 30000\n"                                                        // 40
    "    description: request timeout in milliseconds\n";                         // 41

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  return out;
}

/// The valid manifest with line `number` (1-based) replaced by `text` (may hold several lines).
std::string WithLine(int number, const std::string& text) {
  std::vector<std::string> lines = Lines(kValidManifest);
  lines.at(static_cast<size_t>(number - 1)) = text;
  return Join(lines);
}

/// The valid manifest with `text` inserted before line `number`.
std::string InsertBefore(int number, const std::string& text) {
  std::vector<std::string> lines = Lines(kValidManifest);
  lines.insert(lines.begin() + (number - 1), text);
  return Join(lines);
}

class PluginManifestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("rg-plugin-manifest-" + std::string(info->name()) + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path Write(const std::string& text, const std::string& name = "plugin.yaml") {
    std::filesystem::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  /// Every diagnostic for `text`, rendered, with the temp path replaced by "plugin.yaml".
  std::vector<std::string> Check(const std::string& text) {
    const std::filesystem::path path = Write(text);
    std::vector<std::string> out;
    for (const Diagnostic& d : CheckPluginManifest(path, nullptr)) {
      std::string s = d.ToString();
      const std::string prefix = path.string();
      if (s.compare(0, prefix.size(), prefix) == 0) s = "plugin.yaml" + s.substr(prefix.size());
      out.push_back(s);
    }
    return out;
  }

  using V = std::vector<std::string>;
  std::filesystem::path dir_;
};

TEST_F(PluginManifestTest, ValidManifestLoadsEveryField) {
  const std::filesystem::path path = Write(kValidManifest);
  Result<PluginManifest> loaded = LoadPluginManifest(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  const PluginManifest& m = *loaded;
  EXPECT_EQ(m.manifest_path, path);
  EXPECT_TRUE(m.manifest_path.is_absolute());
  EXPECT_EQ(m.library_path, dir_ / "rg-plugin-qwen.so");
  EXPECT_EQ(m.id, "qwen");
  EXPECT_EQ(m.version, "0.1.0");
  EXPECT_EQ(m.vendor, "Alibaba Cloud");
  EXPECT_EQ(m.library, "rg-plugin-qwen.so");
  EXPECT_EQ(m.sha256, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  EXPECT_EQ(m.abi.major, 1);
  EXPECT_EQ(m.abi.min_minor, 0);
  EXPECT_EQ(m.abi.max_minor, 0);
  EXPECT_EQ(m.capabilities, (V{"streaming", "usage", "tools", "provider_blocks"}));
  ASSERT_EQ(m.endpoints.size(), 2u);
  EXPECT_EQ(m.endpoints[0].id, "cn-beijing");
  EXPECT_EQ(m.endpoints[0].kind, "inference");
  EXPECT_EQ(m.endpoints[0].data_region, "CN");
  EXPECT_EQ(m.endpoints[0].inference_scope, "cn-mainland");
  EXPECT_EQ(m.endpoints[0].protocol, "compatible");
  EXPECT_EQ(m.endpoints[0].line, 12);
  EXPECT_EQ(m.endpoints[0].column, 5);
  EXPECT_EQ(m.endpoints[1].kind, "inference") << "kind defaults to inference";
  EXPECT_EQ(m.endpoints[1].protocol, "");
  ASSERT_EQ(m.models.size(), 2u);
  EXPECT_EQ(m.models[0].endpoints, V{"cn-beijing"});
  EXPECT_TRUE(m.models[1].endpoints.empty());
  ASSERT_EQ(m.filings.size(), 1u);
  EXPECT_EQ(m.filings[0].number, "ZheJiang-TongYiQianWen-20230901");
  EXPECT_EQ(m.filings[0].models, V{"qwen-plus"});
  ASSERT_EQ(m.settings.size(), 2u);
  EXPECT_EQ(m.settings[0].default_value, "DASHSCOPE_API_KEY");
  EXPECT_TRUE(m.settings[0].secret);
  EXPECT_FALSE(m.settings[0].required);
  EXPECT_EQ(m.settings[1].default_value, 30000);
  EXPECT_NE(m.FindEndpoint("ap-singapore"), nullptr);
  EXPECT_EQ(m.FindEndpoint("nowhere"), nullptr);
  EXPECT_NE(m.FindModel("qwen-max"), nullptr);
  EXPECT_TRUE(m.HasCapability("tools"));
  EXPECT_FALSE(m.HasCapability("json_mode"));
}

TEST_F(PluginManifestTest, ToJsonRendersTheWholeManifest) {
  const std::filesystem::path path = Write(kValidManifest);
  Result<PluginManifest> loaded = LoadPluginManifest(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  const nlohmann::json j = loaded->ToJson();
  EXPECT_EQ(j["id"], "qwen");
  EXPECT_EQ(j["manifest_path"], path.string());
  EXPECT_EQ(j["library_path"], (dir_ / "rg-plugin-qwen.so").string());
  EXPECT_EQ(j["abi"], (nlohmann::json{{"major", 1}, {"min_minor", 0}, {"max_minor", 0}}));
  EXPECT_EQ(j["endpoints"][0], (nlohmann::json{{"id", "cn-beijing"},
                                               {"kind", "inference"},
                                               {"base_url", "https://dashscope.aliyuncs.com"},
                                               {"data_region", "CN"},
                                               {"inference_scope", "cn-mainland"},
                                               {"protocol", "compatible"}}));
  EXPECT_FALSE(j["endpoints"][1].contains("protocol"));
  EXPECT_EQ(j["models"][0], (nlohmann::json{{"id", "qwen-plus"}, {"endpoints", {"cn-beijing"}}}));
  EXPECT_EQ(j["models"][1], (nlohmann::json{{"id", "qwen-max"}}));
  EXPECT_EQ(j["filings"][0]["holder"], "Alibaba Cloud");
  EXPECT_EQ(j["settings"][1], (nlohmann::json{{"key", "timeout_ms"},
                                              {"type", "integer"},
                                              {"default", 30000},
                                              {"required", false},
                                              {"secret", false},
                                              {"description", "request timeout in milliseconds"}}));
}

TEST_F(PluginManifestTest, ParsesTextInMemoryWithoutPaths) {
  PluginManifest m;
  Diagnostics d = ParsePluginManifest(kValidManifest, "<memory>", &m);
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(m.id, "qwen");
  EXPECT_TRUE(m.manifest_path.empty());
}

TEST_F(PluginManifestTest, UnknownKeySuggestsTheNearestKnownKey) {
  EXPECT_EQ(Check(WithLine(5, "vendr: Alibaba Cloud")),
            (V{"plugin.yaml:2:1: error: missing required key 'vendor'",
               "plugin.yaml:5:1: error: unknown key 'vendr' (did you mean 'vendor'?)"}));
}

TEST_F(PluginManifestTest, UnknownKeyWithoutNearMatchListsTheKnownKeys) {
  EXPECT_EQ(Check(InsertBefore(11, "homepage: https://qwen.ai")),
            V{"plugin.yaml:11:1: error: unknown key 'homepage'; expected one of schema_version, "
              "id, version, vendor, description, library, sha256, abi, capabilities, endpoints, "
              "models, filings, settings"});
}

TEST_F(PluginManifestTest, UnknownNestedKeyNamesWhereItIs) {
  EXPECT_EQ(Check(WithLine(13, "    kinds: inference")),
            V{"plugin.yaml:13:5: error: unknown key 'kinds' in endpoints[0] (did you mean "
              "'kind'?)"});
}

TEST_F(PluginManifestTest, WrongTypeList) {
  EXPECT_EQ(Check(WithLine(10, "capabilities: streaming")),
            V{"plugin.yaml:10:15: error: 'capabilities' must be a list, got a string"});
}

TEST_F(PluginManifestTest, WrongTypeInteger) {
  EXPECT_EQ(Check(WithLine(9, "abi: {major: one, min_minor: 0, max_minor: 0}")),
            V{"plugin.yaml:9:14: error: 'abi.major' must be an integer from 0 to 65535, got a "
              "string"});
}

TEST_F(PluginManifestTest, IntegerOutOfRange) {
  EXPECT_EQ(Check(WithLine(9, "abi: {major: 70000, min_minor: 0, max_minor: 0}")),
            V{"plugin.yaml:9:14: error: 'abi.major' must be an integer from 0 to 65535, got "
              "'70000'"});
}

TEST_F(PluginManifestTest, WrongTypeMapping) {
  EXPECT_EQ(Check(WithLine(9, "abi: 1")),
            V{"plugin.yaml:9:6: error: 'abi' must be a mapping of keys, got an integer"});
}

TEST_F(PluginManifestTest, EmptyValueIsAWrongTypeAtTheKey) {
  EXPECT_EQ(Check(WithLine(5, "vendor:")),
            V{"plugin.yaml:5:1: error: 'vendor' must be a string, got an empty value"});
}

TEST_F(PluginManifestTest, UnquotedNumberWhereAStringIsExpected) {
  EXPECT_EQ(Check(WithLine(4, "version: 1.0")),
            V{"plugin.yaml:4:10: error: 'version' must be a string, got a number; put it in "
              "quotes"});
}

TEST_F(PluginManifestTest, UnknownEnumValueSuggestsTheNearestValue) {
  EXPECT_EQ(Check(WithLine(15, "    data_region: CM")),
            V{"plugin.yaml:15:18: error: 'endpoints[0].data_region' has unknown value 'CM'; "
              "expected one of CN, HK, SG, US, EU, JP, GLOBAL (did you mean 'CN'?)"});
}

TEST_F(PluginManifestTest, UnknownEnumValueIgnoresCaseInTheSuggestion) {
  EXPECT_EQ(Check(WithLine(16, "    inference_scope: CN-Mainland")),
            V{"plugin.yaml:16:22: error: 'endpoints[0].inference_scope' has unknown value "
              "'CN-Mainland'; expected one of cn-mainland, cn-elastic, intl-ex-cn, us, eu, hk, "
              "jp, sg, global (did you mean 'cn-mainland'?)"});
}

TEST_F(PluginManifestTest, UnknownCapability) {
  EXPECT_EQ(Check(WithLine(10, "capabilities: [streamin, usage]")),
            V{"plugin.yaml:10:16: error: 'capabilities[0]' has unknown value 'streamin'; "
              "expected one of streaming, usage, tools, provider_blocks, cancellation, json_mode "
              "(did you mean 'streaming'?)"});
}

TEST_F(PluginManifestTest, RepeatedCapability) {
  EXPECT_EQ(Check(WithLine(10, "capabilities: [streaming, usage, streaming]")),
            V{"plugin.yaml:10:34: error: 'capabilities[2]' repeats 'streaming'; list each value "
              "once"});
}

TEST_F(PluginManifestTest, DuplicateKeyIsReportedNotSilentlyDropped) {
  EXPECT_EQ(Check(InsertBefore(4, "id: qwen2")),
            V{"plugin.yaml:4:1: error: duplicate key 'id', first set at line 3; keep only one"});
}

TEST_F(PluginManifestTest, DuplicateNestedKey) {
  EXPECT_EQ(Check(InsertBefore(17, "    data_region: SG")),
            V{"plugin.yaml:17:5: error: duplicate key 'data_region' in endpoints[0], first set "
              "at line 15; keep only one"});
}

TEST_F(PluginManifestTest, MissingRequiredKey) {
  EXPECT_EQ(Check(WithLine(8, "# sha256 removed")),
            V{"plugin.yaml:2:1: error: missing required key 'sha256'"});
}

TEST_F(PluginManifestTest, MissingRequiredNestedKey) {
  EXPECT_EQ(Check(WithLine(20, "    # data_region removed")),
            V{"plugin.yaml:18:5: error: missing required key 'data_region' in endpoints[1]"});
}

TEST_F(PluginManifestTest, InvalidId) {
  EXPECT_EQ(Check(WithLine(3, "id: Qwen")),
            V{"plugin.yaml:3:5: error: 'id' must be a lower-case id: a letter, then up to 63 of "
              "a-z, 0-9, '_', '-', got 'Qwen'"});
}

TEST_F(PluginManifestTest, InvalidVersion) {
  EXPECT_EQ(Check(WithLine(4, "version: \"0.1\"")),
            V{"plugin.yaml:4:10: error: 'version' must be a semantic version such as '1.2.3', "
              "got '0.1'"});
}

TEST_F(PluginManifestTest, LibraryMustBeAFileNameNextToTheManifest) {
  EXPECT_EQ(Check(WithLine(7, "library: ../lib/rg-plugin-qwen.so")),
            V{"plugin.yaml:7:10: error: 'library' must be a file name in the manifest's "
              "directory, without '/' or '\\', got '../lib/rg-plugin-qwen.so'"});
}

TEST_F(PluginManifestTest, Sha256MustBeLowerCaseHex) {
  EXPECT_EQ(Check(WithLine(8, "sha256: ABCDEF")),
            V{"plugin.yaml:8:9: error: 'sha256' must be the library's SHA-256 as 64 lower-case "
              "hex characters, got 'ABCDEF'"});
}

TEST_F(PluginManifestTest, UnfilledTemplatePlaceholderIsRejected) {
  EXPECT_EQ(Check(WithLine(8, "sha256: \"@RG_PLUGIN_SHA256@\"")),
            V{"plugin.yaml:8:9: error: 'sha256' must be the library's SHA-256 as 64 lower-case "
              "hex characters, got '@RG_PLUGIN_SHA256@'"});
}

TEST_F(PluginManifestTest, InvalidBaseUrl) {
  EXPECT_EQ(Check(WithLine(14, "    base_url: ftp://dashscope.aliyuncs.com")),
            V{"plugin.yaml:14:15: error: 'endpoints[0].base_url' must be an http:// or https:// "
              "URL without spaces, got 'ftp://dashscope.aliyuncs.com'"});
}

TEST_F(PluginManifestTest, UnsupportedSchemaVersion) {
  EXPECT_EQ(Check(WithLine(2, "schema_version: 2")),
            V{"plugin.yaml:2:17: error: unsupported schema_version 2; this build reads "
              "schema_version 1"});
}

TEST_F(PluginManifestTest, AbiRangeMustNotBeEmpty) {
  EXPECT_EQ(Check(WithLine(9, "abi: {major: 1, min_minor: 2, max_minor: 1}")),
            V{"plugin.yaml:9:28: error: 'abi.min_minor' (2) is greater than 'abi.max_minor' (1); "
              "give the lowest and highest host minor the plug-in supports"});
}

TEST_F(PluginManifestTest, DuplicateEndpointId) {
  EXPECT_EQ(Check(WithLine(18, "  - id: cn-beijing")),
            V{"plugin.yaml:18:9: error: 'endpoints[1].id' repeats endpoint id 'cn-beijing' "
              "(first at line 12); give each endpoint its own id"});
}

TEST_F(PluginManifestTest, DuplicateModelId) {
  EXPECT_EQ(Check(WithLine(25, "  - id: qwen-plus")),
            V{"plugin.yaml:25:9: error: 'models[1].id' repeats model id 'qwen-plus' (first at "
              "line 23); declare each model once"});
}

TEST_F(PluginManifestTest, ModelNamesUnknownEndpoint) {
  EXPECT_EQ(Check(WithLine(24, "    endpoints: [cn-bejing]")),
            V{"plugin.yaml:24:17: error: 'models[0].endpoints[0]' names unknown endpoint "
              "'cn-bejing'; declare it under 'endpoints' or fix the id (did you mean "
              "'cn-beijing'?)"});
}

TEST_F(PluginManifestTest, ModelCannotBeServedByAnAuthEndpoint) {
  EXPECT_EQ(Check(WithLine(13, "    kind: auth")),
            V{"plugin.yaml:24:17: error: 'models[0].endpoints[0]' names 'cn-beijing', an auth "
              "endpoint; models are served by inference endpoints"});
}

TEST_F(PluginManifestTest, AtLeastOneInferenceEndpoint) {
  std::vector<std::string> lines = Lines(kValidManifest);
  lines[12] = "    kind: auth";                        // line 13
  lines.insert(lines.begin() + 18, "    kind: auth");  // into the second endpoint
  lines[24] = "    endpoints: []";                     // line 24 moved to 25
  EXPECT_EQ(Check(Join(lines)),
            (V{"plugin.yaml:12:3: error: 'endpoints' declares no inference endpoint; add one "
               "with kind: inference",
               "plugin.yaml:25:16: error: 'models[0].endpoints' must list at least one item"}));
}

TEST_F(PluginManifestTest, FilingNamesUnknownModel) {
  EXPECT_EQ(Check(WithLine(30, "    models: [qwen-pls]")),
            V{"plugin.yaml:30:14: error: 'filings[0].models[0]' names unknown model 'qwen-pls'; "
              "declare it under 'models' or fix the id (did you mean 'qwen-plus'?)"});
}

TEST_F(PluginManifestTest, UnknownFilingKind) {
  EXPECT_EQ(Check(WithLine(27, "  - kind: cac-gen-ai")),
            V{"plugin.yaml:27:11: error: 'filings[0].kind' has unknown value 'cac-gen-ai'; "
              "expected one of cac-genai, cac-algorithm (did you mean 'cac-genai'?)"});
}

TEST_F(PluginManifestTest, SettingDefaultMustMatchItsType) {
  EXPECT_EQ(Check(WithLine(40, "    default: soon")),
            V{"plugin.yaml:40:14: error: 'settings[1].default' must be an integer to match type "
              "'integer', got a string"});
}

TEST_F(PluginManifestTest, SecretSettingMustBeAString) {
  EXPECT_EQ(Check(WithLine(33, "    type: boolean")),
            (V{"plugin.yaml:34:14: error: 'settings[0].default' must be a boolean to match type "
               "'boolean', got a string",
               "plugin.yaml:36:13: error: 'settings[0].secret' is true but the type is "
               "'boolean'; a secret setting names a secret (env var or file), so use type: "
               "string"}));
}

TEST_F(PluginManifestTest, DuplicateSettingKey) {
  EXPECT_EQ(Check(WithLine(38, "  - key: api_key_secret")),
            V{"plugin.yaml:38:10: error: 'settings[1].key' repeats setting 'api_key_secret' "
              "(first at line 32); declare each setting once"});
}

TEST_F(PluginManifestTest, InvalidSettingKey) {
  EXPECT_EQ(Check(WithLine(38, "  - key: Timeout-MS")),
            V{"plugin.yaml:38:10: error: 'settings[1].key' must be a lower-case key: a letter, "
              "then up to 63 of a-z, 0-9, '_', got 'Timeout-MS'"});
}

TEST_F(PluginManifestTest, BooleanMustBeTrueOrFalse) {
  EXPECT_EQ(Check(WithLine(36, "    secret: yes")),
            V{"plugin.yaml:36:13: error: 'settings[0].secret' must be a boolean (true or false), "
              "got a string"});
}

TEST_F(PluginManifestTest, EveryErrorIsReportedAtOnceInFileOrder) {
  std::vector<std::string> lines = Lines(kValidManifest);
  lines[2] = "id: Qwen";                 // 3
  lines[9] = "capabilities: [tool]";     // 10
  lines[14] = "    data_region: China";  // 15
  lines[39] = "    default: 1.5";        // 40
  EXPECT_EQ(Check(Join(lines)),
            (V{"plugin.yaml:3:5: error: 'id' must be a lower-case id: a letter, then up to 63 of "
               "a-z, 0-9, '_', '-', got 'Qwen'",
               "plugin.yaml:10:16: error: 'capabilities[0]' has unknown value 'tool'; expected "
               "one of streaming, usage, tools, provider_blocks, cancellation, json_mode (did you "
               "mean 'tools'?)",
               "plugin.yaml:15:18: error: 'endpoints[0].data_region' has unknown value 'China'; "
               "expected one of CN, HK, SG, US, EU, JP, GLOBAL",
               "plugin.yaml:40:14: error: 'settings[1].default' must be an integer to match type "
               "'integer', got a number"}));
}

TEST_F(PluginManifestTest, YamlSyntaxError) {
  EXPECT_EQ(Check(WithLine(10, "capabilities: [streaming, usage")),
            V{"plugin.yaml:11:10: error: invalid YAML: end of sequence flow not found; fix the "
              "syntax at this position"});
}

TEST_F(PluginManifestTest, EmptyFile) {
  EXPECT_EQ(Check("# nothing here\n"),
            V{"plugin.yaml: error: the file holds no YAML document; write the keys at the top "
              "level"});
}

TEST_F(PluginManifestTest, MoreThanOneDocument) {
  EXPECT_EQ(Check(std::string(kValidManifest) + "---\nid: other\n"),
            V{"plugin.yaml:42:1: error: the file holds more than one YAML document; keep one and "
              "remove the '---' separators"});
}

TEST_F(PluginManifestTest, LeadingCommaIsRejectedWithoutHanging) {
  // yaml-cpp 0.7's LoadAll loops forever on this (yaml-cpp issue #1040).
  EXPECT_EQ(Check(",\n"),
            V{"plugin.yaml: error: the file holds no YAML document; write the keys at the top "
              "level"});
}

TEST_F(PluginManifestTest, DeepNestingIsRejected) {
  EXPECT_EQ(Check(std::string(600, '[') + std::string(600, ']') + "\n"),
            V{"plugin.yaml:2:1: error: invalid YAML: nested deeper than 500 levels; manifests "
              "need only a few"});
}

TEST_F(PluginManifestTest, DocumentMustBeAMapping) {
  EXPECT_EQ(Check("- id: qwen\n"),
            V{"plugin.yaml:1:1: error: the document must be a mapping of keys, got a list"});
}

TEST_F(PluginManifestTest, UnreadableFile) {
  std::vector<std::string> out;
  for (const Diagnostic& d : CheckPluginManifest(dir_ / "missing.yaml", nullptr)) {
    out.push_back(d.ToString());
  }
  EXPECT_EQ(out, V{(dir_ / "missing.yaml").string() +
                   ": error: cannot read file: No such file or directory; check the path and "
                   "permissions"});
}

TEST_F(PluginManifestTest, LoadReturnsEveryDiagnosticInOneError) {
  std::vector<std::string> lines = Lines(kValidManifest);
  lines[2] = "id: Qwen";
  lines[14] = "    data_region: CM";
  const std::filesystem::path path = Write(Join(lines));
  Result<PluginManifest> loaded = LoadPluginManifest(path);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().id, "RG-M100");
  EXPECT_EQ(loaded.error().message,
            path.string() +
                ":3:5: error: 'id' must be a lower-case id: a letter, then up to 63 of a-z, 0-9, "
                "'_', '-', got 'Qwen'\n" +
                path.string() +
                ":15:18: error: 'endpoints[0].data_region' has unknown value 'CM'; expected one "
                "of CN, HK, SG, US, EU, JP, GLOBAL (did you mean 'CN'?)");
}

TEST_F(PluginManifestTest, DiagnosticsCarryStableIds) {
  PluginManifest m;
  Diagnostics d = ParsePluginManifest(WithLine(5, "vendr: x"), "p.yaml", &m);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].id, "RG-M006");
  EXPECT_EQ(d[1].id, "RG-M004");
  EXPECT_EQ(d[1].suggestion, "did you mean 'vendor'?");
  EXPECT_TRUE(m.id.empty()) << "the manifest is filled only when there are no errors";
}

TEST_F(PluginManifestTest, CyclicAliasDoesNotRecurseForever) {
  PluginManifest m;
  Diagnostics d =
      ParsePluginManifest(WithLine(10, "capabilities: &c [streaming, *c]"), "p.yaml", &m);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].ToString(), "p.yaml:10:15: error: 'capabilities[1]' must be a string, got a list");
}

}  // namespace
}  // namespace rg::compliance
