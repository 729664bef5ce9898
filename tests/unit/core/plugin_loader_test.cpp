// The plug-in loader: one test per refusal, asserting the exact message, and proof that the
// checks meant to run before dlopen do (the canary plug-in ends the process if it is loaded).
#include "regiongate/core/plugin_loader.hpp"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "regiongate/compliance/plugin_manifest.hpp"
#include "support/test_services.hpp"

namespace rg::core {
namespace {

namespace fs = std::filesystem;
using test::TestServices;

const fs::path kTestPlugins = RG_TEST_PLUGIN_DIR;

fs::path GoodManifest(const std::string& id) { return kTestPlugins / id / "plugin.yaml"; }
fs::path RefusingManifest(const std::string& id) {
  return kTestPlugins / "refusing" / id / "plugin.yaml";
}
std::string LibraryName(const std::string& id) { return "rg-plugin-" + id + ".so"; }

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream data;
  data << in.rdbuf();
  return data.str();
}

void WriteFile(const fs::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

// Replaces the one occurrence of `from` in the file; fails the test when it is not there.
void ReplaceInFile(const fs::path& path, const std::string& from, const std::string& to) {
  std::string data = ReadFile(path);
  const size_t at = data.find(from);
  ASSERT_NE(at, std::string::npos) << "'" << from << "' not in " << path;
  data.replace(at, from.size(), to);
  WriteFile(path, data);
}

// "plug-in 'ID': TEXT": how every refusal of a plug-in with a readable manifest starts.
std::string Refusal(const std::string& id, const std::string& text) {
  return "plug-in '" + id + "': " + text;
}

class PluginLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "rg-loader-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    temp_ = pattern;
    TestServices::Shared().Reset();
  }

  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(temp_, ignored);
  }

  // Copies a built plug-in's folder (library and manifest) to temp_/name; returns the new
  // manifest path. A copy is a new file, so dlopen treats it as a new library.
  fs::path CopyPlugin(const fs::path& manifest, const std::string& name) {
    const fs::path dir = temp_ / name;
    fs::create_directories(dir);
    fs::copy(manifest.parent_path(), dir,
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    return dir / "plugin.yaml";
  }

  // Loads and expects a refusal with exactly this id and message.
  void ExpectRefused(const fs::path& manifest, std::string_view id, const std::string& message) {
    const auto result = loader_.LoadManifest(manifest);
    ASSERT_FALSE(result.ok()) << "loaded " << manifest;
    EXPECT_EQ(result.error().id, id);
    EXPECT_EQ(result.error().message, message);
    EXPECT_TRUE(loader_.Loaded().empty());
  }

  PluginLoader loader_{TestServices::Shared().Factory()};
  fs::path temp_;
};

TEST_F(PluginLoaderTest, LoadsAGoodPlugin) {
  const auto result = loader_.LoadManifest(GoodManifest("echo"));
  ASSERT_TRUE(result.ok()) << result.error().id << " " << result.error().message;
  const auto& plugin = result.value();
  EXPECT_EQ(plugin->manifest.id, "echo");
  EXPECT_EQ(plugin->manifest.manifest_path, GoodManifest("echo"));
  ASSERT_NE(plugin->table, nullptr);
  EXPECT_STREQ(plugin->table->id, "echo");
  EXPECT_EQ(plugin->services, TestServices::Shared().table());
  EXPECT_EQ(plugin->abi_major, RG_ABI_VERSION_MAJOR);
  EXPECT_EQ(plugin->abi_minor, 0);
  EXPECT_NE(plugin->library, nullptr);
  ASSERT_EQ(loader_.Loaded().size(), 1u);
  EXPECT_EQ(loader_.Find("echo"), plugin);
  EXPECT_EQ(loader_.Find("qwen"), nullptr);
}

TEST_F(PluginLoaderTest, RefusesAnInvalidManifestWithTheParsersDiagnostics) {
  const fs::path manifest = temp_ / "plugin.yaml";
  WriteFile(manifest, "schema_version: 1\nid: Not An Id\n");
  const auto parsed = compliance::LoadPluginManifest(manifest);
  ASSERT_FALSE(parsed.ok());
  const auto result = loader_.LoadManifest(manifest);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().id, "RG-L001");
  EXPECT_EQ(result.error().message, "plug-in manifest " + manifest.string() +
                                        " is invalid; fix the errors below and load it again:\n" +
                                        parsed.error().message);
}

TEST_F(PluginLoaderTest, RefusesAManifestWhoseLibraryIsMissing) {
  const fs::path manifest = temp_ / "echo" / "plugin.yaml";
  fs::create_directories(manifest.parent_path());
  fs::copy_file(GoodManifest("echo"), manifest);
  const std::string library = (temp_ / "echo" / LibraryName("echo")).string();
  ExpectRefused(manifest, "RG-L002",
                Refusal("echo", "library " + library + " named in " + manifest.string() +
                                    " does not exist; build or install the plug-in, or fix "
                                    "'library' in the manifest"));
}

TEST_F(PluginLoaderTest, RefusesALibraryThatCannotBeRead) {
  const fs::path manifest = temp_ / "echo" / "plugin.yaml";
  fs::create_directories(temp_ / "echo" / LibraryName("echo"));  // a directory, not a file
  fs::copy_file(GoodManifest("echo"), manifest);
  const std::string library = (temp_ / "echo" / LibraryName("echo")).string();
  ExpectRefused(manifest, "RG-L002",
                Refusal("echo", "library " + library + " named in " + manifest.string() +
                                    " cannot be read (Is a directory); check the file and its "
                                    "permissions"));
}

// The canary's constructor ends the process: this is what would happen to every test below
// that expects a refusal before dlopen, had the check come after it.
TEST(PluginLoaderDeathTest, CanaryEndsTheProcessWhenItsManifestAllowsLoadingIt) {
  EXPECT_EXIT(
      {
        PluginLoader loader(TestServices::Shared().Factory());
        (void)loader.LoadManifest(RefusingManifest("canary"));
      },
      ::testing::ExitedWithCode(86), "rg test canary: constructor ran");
}

TEST_F(PluginLoaderTest, RefusesATamperedLibraryBeforeLoadingIt) {
  const fs::path manifest = CopyPlugin(RefusingManifest("canary"), "canary");
  const fs::path library = manifest.parent_path() / LibraryName("canary");
  ReplaceInFile(library, "rg-test-canary-tamper-target", "rg-test-canary-tamper-targeT");
  // The tampered copy is still a library whose constructor runs when it is opened...
  EXPECT_EXIT(::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL), ::testing::ExitedWithCode(86),
              "rg test canary: constructor ran");
  // ...and the loader refuses it for its hash without opening it: this process lives on.
  const auto expected = compliance::LoadPluginManifest(manifest).value().sha256;
  const auto actual = Sha256File(library);
  ASSERT_TRUE(actual.ok());
  ASSERT_NE(*actual, expected);
  ::testing::internal::CaptureStderr();
  const auto result = loader_.LoadManifest(manifest);
  const std::string printed = ::testing::internal::GetCapturedStderr();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().id, "RG-L003");
  EXPECT_EQ(result.error().message,
            Refusal("canary", "sha256 of " + library.string() + " is " + *actual + " but " +
                                  manifest.string() + " says " + expected +
                                  "; the library changed after its manifest was written: "
                                  "rebuild the plug-in (the build writes sha256) or install "
                                  "the library and manifest together"));
  EXPECT_EQ(printed.find("canary"), std::string::npos) << printed;
}

TEST_F(PluginLoaderTest, RefusesAManifestForAnotherAbiMajorBeforeLoading) {
  const fs::path manifest = CopyPlugin(RefusingManifest("canary"), "canary");
  ReplaceInFile(manifest, "abi: {major: 1, min_minor: 0, max_minor: 0}",
                "abi: {major: 2, min_minor: 0, max_minor: 3}");
  ExpectRefused(manifest, "RG-L004",
                Refusal("canary", manifest.string() +
                                      " declares ABI 2.0 to 2.3 but this host speaks ABI 1.0; "
                                      "install a build of the plug-in for ABI 1.x"));
}

TEST_F(PluginLoaderTest, RefusesAManifestRequiringANewerHostMinorBeforeLoading) {
  const fs::path manifest = CopyPlugin(RefusingManifest("canary"), "canary");
  ReplaceInFile(manifest, "abi: {major: 1, min_minor: 0, max_minor: 0}",
                "abi: {major: 1, min_minor: 1, max_minor: 3}");
  ExpectRefused(manifest, "RG-L004",
                Refusal("canary", manifest.string() +
                                      " requires ABI 1.1 or newer but this host speaks ABI 1.0; "
                                      "upgrade regiongate or install an older build of the "
                                      "plug-in"));
}

TEST_F(PluginLoaderTest, RefusesAFileThatIsNotALibraryWithTheDlerrorText) {
  const fs::path manifest = CopyPlugin(GoodManifest("echo"), "echo");
  const fs::path library = manifest.parent_path() / LibraryName("echo");
  WriteFile(library, std::string(4, '\n') + std::string(200, 'x'));
  ReplaceInFile(manifest, compliance::LoadPluginManifest(manifest).value().sha256,
                Sha256File(library).value());
  const std::string name = library.string();
  ExpectRefused(manifest, "RG-L005",
                Refusal("echo", "cannot load " + name + ": " + name +
                                    ": invalid ELF header; check that it is a shared library "
                                    "built for this platform and that its dependencies "
                                    "resolve (ldd " +
                                    name + ")"));
}

TEST_F(PluginLoaderTest, RefusesALibraryWithoutTheEntrySymbol) {
  const fs::path manifest = RefusingManifest("no-entry");
  ExpectRefused(manifest, "RG-L006",
                Refusal("no-entry", (manifest.parent_path() / LibraryName("no-entry")).string() +
                                        " does not export rg_plugin_entry; define it extern "
                                        "\"C\" with RG_PLUGIN_EXPORT (nm -D --defined-only "
                                        "lists what the library exports)"));
}

TEST_F(PluginLoaderTest, RefusesAnEntryThatThrows) {
  ExpectRefused(RefusingManifest("entry-throws"), "RG-L007",
                Refusal("entry-throws",
                        "rg_plugin_entry threw a C++ exception: cannot reach the licence server; "
                        "catch everything inside the entry and return an rg_code, exceptions "
                        "must not cross the ABI"));
}

TEST_F(PluginLoaderTest, RefusesAnEntryThatThrowsSomethingElse) {
  ExpectRefused(RefusingManifest("entry-throws-unknown"), "RG-L007",
                Refusal("entry-throws-unknown",
                        "rg_plugin_entry threw a C++ exception of unknown type; catch "
                        "everything inside the entry and return an rg_code, exceptions must "
                        "not cross the ABI"));
}

TEST_F(PluginLoaderTest, RefusesAnEntryThatFails) {
  // A fresh copy, so that its entry runs (and logs) in this test even when the process has
  // loaded the built one before.
  ExpectRefused(CopyPlugin(RefusingManifest("entry-fails"), "entry-fails"), "RG-L007",
                Refusal("entry-fails",
                        "rg_plugin_entry failed with RG_ERR_UNAVAILABLE (6); the plug-in's log "
                        "lines say why"));
  const auto logs = TestServices::Shared().Logs();
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0].level, RG_LOG_ERROR);
  EXPECT_EQ(logs[0].message, "entry-fails: secret ENTRY_FAILS_KEY is not set");
}

TEST_F(PluginLoaderTest, RefusesAnEntryThatReturnsNothing) {
  ExpectRefused(RefusingManifest("entry-returns-nothing"), "RG-L007",
                Refusal("entry-returns-nothing",
                        "rg_plugin_entry returned RG_OK without a plug-in table; the entry must "
                        "store a pointer to its rg_plugin table in *out"));
}

TEST_F(PluginLoaderTest, RefusesATableTooSmallToHoldItsVersion) {
  ExpectRefused(RefusingManifest("table-header-too-small"), "RG-L008",
                Refusal("table-header-too-small",
                        "its rg_plugin table is 4 bytes, too small to hold its ABI version; set "
                        "struct_size to sizeof(rg_plugin) and rebuild against regiongate/abi.h"));
}

TEST_F(PluginLoaderTest, RefusesATableSmallerThanAbi1Needs) {
  ExpectRefused(
      RefusingManifest("table-too-small"), "RG-L008",
      Refusal("table-too-small",
              "its rg_plugin table is " + std::to_string(offsetof(rg_plugin, instance_create)) +
                  " bytes but ABI 1.0 needs at least " + std::to_string(sizeof(rg_plugin)) +
                  "; set struct_size to sizeof(rg_plugin) and rebuild against "
                  "regiongate/abi.h"));
}

TEST_F(PluginLoaderTest, RefusesATableWithNullRequiredMembers) {
  ExpectRefused(RefusingManifest("null-members"), "RG-L008",
                Refusal("null-members",
                        "its rg_plugin table leaves required members NULL: vendor, complete; "
                        "set every member except shutdown"));
}

TEST_F(PluginLoaderTest, RefusesADescriptionThatIsNotJson) {
  ExpectRefused(RefusingManifest("description-not-json"), "RG-L008",
                Refusal("description-not-json",
                        "its description_json is not {\"models\":[...],\"endpoints\":[...],"
                        "\"capabilities\":[...]} (invalid JSON at byte 2); list the models, "
                        "endpoints and capabilities the code implements"));
}

TEST_F(PluginLoaderTest, RefusesADescriptionOfTheWrongShape) {
  ExpectRefused(RefusingManifest("description-wrong-shape"), "RG-L008",
                Refusal("description-wrong-shape",
                        "its description_json is not {\"models\":[...],\"endpoints\":[...],"
                        "\"capabilities\":[...]} ('models' is not a list of strings); list the "
                        "models, endpoints and capabilities the code implements"));
}

TEST_F(PluginLoaderTest, RefusesAPluginSpeakingAnotherAbiMajor) {
  ExpectRefused(RefusingManifest("abi-major-2"), "RG-L009",
                Refusal("abi-major-2",
                        "it speaks ABI 2.0 but this host speaks ABI 1.0 and the major versions "
                        "must be equal; install a build of the plug-in for ABI 1.x"));
}

TEST_F(PluginLoaderTest, RefusesAPluginSpeakingANewerMinor) {
  ExpectRefused(RefusingManifest("abi-minor-too-new"), "RG-L009",
                Refusal("abi-minor-too-new",
                        "it speaks ABI 1.99 but this host speaks ABI 1.0 and the plug-in's minor "
                        "version must not exceed the host's; make the entry answer the "
                        "host_abi_minor it is given, or upgrade regiongate"));
}

TEST_F(PluginLoaderTest, RefusesADescriptionThatDisagreesWithTheManifest) {
  const fs::path manifest = RefusingManifest("mismatch");
  ExpectRefused(
      manifest, "RG-L010",
      Refusal("mismatch", "the library disagrees with " + manifest.string() +
                              ": version is '9.9.9' in the library but '" RG_TEST_VERSION
                              "' in the manifest; models: only in the library [mismatch-extra]; "
                              "capabilities: only in the manifest [streaming]; rebuild the "
                              "plug-in or fix the manifest so both describe the same code"));
}

TEST_F(PluginLoaderTest, RefusesAManifestThatDisagreesWithTheLibrarysIdentity) {
  const fs::path manifest = CopyPlugin(GoodManifest("echo"), "echo");
  ReplaceInFile(manifest, "id: echo\n", "id: echo2\n");
  ReplaceInFile(manifest, "vendor: regiongate tests\n", "vendor: Someone Else\n");
  ReplaceInFile(manifest, "models:\n",
                "  - id: backup\n    base_url: http://127.0.0.2\n    data_region: GLOBAL\n"
                "    inference_scope: global\nmodels:\n  - id: echo-2\n");
  ExpectRefused(
      manifest, "RG-L010",
      Refusal("echo2", "the library disagrees with " + manifest.string() +
                           ": id is 'echo' in the library but 'echo2' in the manifest; vendor "
                           "is 'regiongate tests' in the library but 'Someone Else' in the "
                           "manifest; models: only in the manifest [echo-2]; endpoints: only in "
                           "the manifest [backup]; rebuild the plug-in or fix the manifest so "
                           "both describe the same code"));
}

TEST_F(PluginLoaderTest, RefusesADuplicateIdBeforeLoadingTheSecondCopy) {
  ASSERT_TRUE(loader_.LoadManifest(GoodManifest("echo")).ok());
  // A canary under the same id: were it hashed-and-opened, this process would end.
  const fs::path manifest = CopyPlugin(RefusingManifest("canary"), "canary");
  ReplaceInFile(manifest, "id: canary\n", "id: echo\n");
  const auto result = loader_.LoadManifest(manifest);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().id, "RG-L011");
  EXPECT_EQ(result.error().message,
            Refusal("echo", "already loaded from " + GoodManifest("echo").string() +
                                ", so the copy in " + manifest.string() +
                                " is refused; remove one of the copies or give it another id"));
  EXPECT_EQ(loader_.Loaded().size(), 1u);
}

TEST_F(PluginLoaderTest, RefusesWhenTheHostHasNoServicesTable) {
  PluginLoader loader([](const compliance::PluginManifest&) { return nullptr; });
  // A fresh copy, so that no earlier test in this process has already run its entry.
  const fs::path manifest = CopyPlugin(GoodManifest("echo"), "echo");
  const auto result = loader.LoadManifest(manifest);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().id, "RG-L013");
  EXPECT_EQ(result.error().message,
            Refusal("echo",
                    "the host built no services table for it; this is a regiongate "
                    "bug: report it with this message"));
}

TEST_F(PluginLoaderTest, RunsAnEntryOncePerProcessAcrossLoaders) {
  const fs::path manifest = CopyPlugin(GoodManifest("echo"), "echo");
  const auto first = loader_.LoadManifest(manifest);
  ASSERT_TRUE(first.ok()) << first.error().message;
  int factory_calls = 0;
  TestServices other;
  PluginLoader second_loader([&](const compliance::PluginManifest&) {
    ++factory_calls;
    return other.table();
  });
  const auto second = second_loader.LoadManifest(manifest);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(factory_calls, 0);
  EXPECT_EQ(second.value()->table, first.value()->table);
  EXPECT_EQ(second.value()->services, TestServices::Shared().table());
}

TEST_F(PluginLoaderTest, ARefusedPluginDoesNotStopTheOthersInADirectory) {
  const fs::path dir = temp_ / "plugins";
  const fs::path throws = CopyPlugin(RefusingManifest("entry-throws"), "plugins/aa-throws");
  const fs::path echo = CopyPlugin(GoodManifest("echo"), "plugins/bb-echo");
  const fs::path missing = dir / "cc-missing.plugin.yaml";  // its library is not there
  fs::copy_file(GoodManifest("echo"), missing);
  ReplaceInFile(missing, "id: echo\n", "id: missing\n");
  ReplaceInFile(missing, LibraryName("echo"), LibraryName("missing"));
  const fs::path invalid = dir / "dd-invalid" / "plugin.yaml";
  fs::create_directories(invalid.parent_path());
  WriteFile(invalid, "id: [\n");
  fs::create_directories(dir / "ee-no-manifest");
  WriteFile(dir / "notes.txt", "not a manifest\n");

  const LoadReport report = loader_.LoadDirectory(dir);
  ASSERT_EQ(report.loaded.size(), 1u);
  EXPECT_EQ(report.loaded[0]->manifest.id, "echo");
  EXPECT_EQ(report.loaded[0]->manifest.manifest_path, echo);
  ASSERT_EQ(report.refused.size(), 3u);
  EXPECT_EQ(report.refused[0].plugin, "entry-throws");
  EXPECT_EQ(report.refused[0].manifest, throws);
  EXPECT_EQ(report.refused[0].id, "RG-L007");
  EXPECT_EQ(report.refused[1].plugin, "missing");
  EXPECT_EQ(report.refused[1].manifest, missing);
  EXPECT_EQ(report.refused[1].id, "RG-L002");
  EXPECT_EQ(report.refused[2].plugin, invalid.string());
  EXPECT_EQ(report.refused[2].manifest, invalid);
  EXPECT_EQ(report.refused[2].id, "RG-L001");
  ASSERT_EQ(loader_.Loaded().size(), 1u);
  EXPECT_EQ(loader_.Find("echo"), report.loaded[0]);
}

TEST_F(PluginLoaderTest, ReportsADirectoryThatCannotBeRead) {
  const fs::path dir = temp_ / "no-such-dir";
  const LoadReport report = loader_.LoadDirectory(dir);
  EXPECT_TRUE(report.loaded.empty());
  ASSERT_EQ(report.refused.size(), 1u);
  EXPECT_EQ(report.refused[0].plugin, dir.string());
  EXPECT_EQ(report.refused[0].id, "RG-L012");
  EXPECT_EQ(report.refused[0].message,
            "plug-in directory " + dir.string() +
                " cannot be read (No such file or directory); check the plug-in directory in "
                "the host configuration");
}

TEST(Sha256FileTest, HashesAFile) {
  const fs::path file = fs::temp_directory_path() / ("rg-sha-test-" + std::to_string(::getpid()));
  WriteFile(file, "abc");
  const auto hash = Sha256File(file);
  fs::remove(file);
  ASSERT_TRUE(hash.ok()) << hash.error().message;
  EXPECT_EQ(*hash, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256FileTest, FailsOnAMissingFile) {
  const auto hash = Sha256File("/nonexistent/rg-plugin-x.so");
  ASSERT_FALSE(hash.ok());
  EXPECT_EQ(hash.error().id, "RG-L002");
  EXPECT_EQ(hash.error().message,
            "cannot read /nonexistent/rg-plugin-x.so (No such file or directory)");
}

}  // namespace
}  // namespace rg::core
