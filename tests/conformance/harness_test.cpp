// The harness's own pieces: target resolution, simulator credentials, signal names. The
// harness end to end (workers, crashes, hangs) is tested by the conformance.* ctests.
#include "regiongate/tools/conformance/harness.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace rg::tools::conformance {
namespace {

namespace fs = std::filesystem;

compliance::PluginManifest Manifest(const std::string& id, const std::string& settings) {
  compliance::PluginManifest m;
  const std::string yaml =
      "schema_version: 1\nid: " + id +
      "\nversion: \"1.0.0\"\nvendor: V\ndescription: d\nlibrary: x.so\n"
      "sha256: " +
      std::string(64, 'a') +
      "\nabi: {major: 1, min_minor: 0, max_minor: 0}\ncapabilities: []\n"
      "endpoints:\n  - {id: e, base_url: \"https://x.example\", data_region: US,"
      " inference_scope: us}\nmodels:\n  - id: m\nsettings:\n" +
      settings;
  const auto diagnostics = compliance::ParsePluginManifest(yaml, "m.yaml", &m);
  for (const auto& d : diagnostics) ADD_FAILURE() << d.ToString();
  return m;
}

const std::string kKeySetting =
    R"(  - {key: api_key_secret, type: string, default: MY_KEY, secret: true, description: k}
  - {key: region, type: string, default: x, description: not a secret}
)";

TEST(ConformanceHarnessTest, SignalNames) {
  EXPECT_EQ(SignalName(SIGSEGV), "SIGSEGV");
  EXPECT_EQ(SignalName(SIGABRT), "SIGABRT");
  EXPECT_EQ(SignalName(SIGKILL), "SIGKILL");
}

TEST(ConformanceHarnessTest, CredentialsFollowTheSecretSettings) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(SimulatorCredentials(Manifest("openai", kKeySetting)),
            (Pairs{{"MY_KEY", "sk-sim-openai"}}));
  EXPECT_EQ(SimulatorCredentials(Manifest("qwen", kKeySetting)),
            (Pairs{{"MY_KEY", "sk-sim-dashscope"}}));
  // Any other plug-in is taken to be OpenAI-compatible.
  EXPECT_EQ(SimulatorCredentials(Manifest("deepseek", kKeySetting)),
            (Pairs{{"MY_KEY", "sk-sim-openai"}}));
  EXPECT_EQ(
      SimulatorCredentials(Manifest(
          "baidu",
          R"(  - {key: api_key_secret, type: string, default: QIANFAN_API_KEY, secret: true, description: k}
  - {key: access_key_secret, type: string, default: QIANFAN_AK, secret: true, description: k}
  - {key: secret_key_secret, type: string, default: QIANFAN_SK, secret: true, description: k}
)")),
      (Pairs{{"QIANFAN_API_KEY", "bce-v3/ALTAK-sim"},
             {"QIANFAN_AK", "sim-ak"},
             {"QIANFAN_SK", "sim-sk"}}));
}

TEST(ConformanceHarnessTest, MissingPathIsRefused) {
  auto targets = ResolveTargets({"/no/such/plugin"});
  ASSERT_FALSE(targets.ok());
  EXPECT_EQ(targets.error().id, "RG-C101");
  EXPECT_EQ(targets.error().message,
            "'/no/such/plugin' does not exist; pass a plug-in folder, a folder of plug-ins, a "
            "plugin.yaml or a plug-in library");
}

TEST(ConformanceHarnessTest, ResolvesFoldersManifestsAndLibraries) {
  const fs::path root =
      fs::temp_directory_path() / ("rg-harness-test-" + std::to_string(::getpid()));
  fs::create_directories(root / "plugins" / "alpha");
  fs::create_directories(root / "plugins" / "beta");
  fs::create_directories(root / "empty");
  fs::create_directories(root / "lonely");
  std::ofstream(root / "plugins" / "alpha" / "plugin.yaml")
      << "id: alpha\n";  // invalid: id from folder
  std::ofstream(root / "plugins" / "beta" / "plugin.yaml") << "id: beta\n";
  std::ofstream(root / "plugins" / "alpha" / "rg-plugin-alpha.so") << "";
  std::ofstream(root / "lonely" / "rg-plugin-lonely.so") << "";

  auto all = ResolveTargets({root / "plugins"});
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].plugin, "alpha");
  EXPECT_EQ((*all)[1].plugin, "beta");
  EXPECT_EQ((*all)[1].manifest, root / "plugins" / "beta" / "plugin.yaml");

  auto one = ResolveTargets({root / "plugins" / "alpha"});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->size(), 1u);

  auto library = ResolveTargets({root / "plugins" / "alpha" / "rg-plugin-alpha.so"});
  ASSERT_TRUE(library.ok());
  EXPECT_EQ(library->front().manifest, root / "plugins" / "alpha" / "plugin.yaml");

  auto lonely = ResolveTargets({root / "lonely" / "rg-plugin-lonely.so"});
  ASSERT_FALSE(lonely.ok());
  EXPECT_EQ(lonely.error().id, "RG-C102");
  EXPECT_EQ(lonely.error().message,
            "no plugin.yaml next to '" + (root / "lonely" / "rg-plugin-lonely.so").string() +
                "'; a plug-in library is tested with its manifest (build it with rg_add_plugin, "
                "which writes one)");

  auto empty = ResolveTargets({root / "empty"});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().message, "'" + (root / "empty").string() +
                                       "' holds no plug-in: expected plugin.yaml in it or in its "
                                       "sub-folders");
  fs::remove_all(root);
}

// ---- the supervisor, with scripted fake workers --------------------------------------------

constexpr const char* kPlan =
    R"({"event":"plan","plugin":"fake","cases":[{"suite":"fake","classname":"fake","name":"a"},)"
    R"({"suite":"fake","classname":"fake","name":"b"},{"suite":"fake","classname":"fake","name":"c"}]})";

std::string Line(const std::string& json) { return "printf '%s\\n' '" + json + "' >&3\n"; }
std::string Start(int i) { return Line(R"({"event":"start","index":)" + std::to_string(i) + "}"); }
std::string Passed(int i) {
  return Line(R"({"event":"result","index":)" + std::to_string(i) +
              R"(,"status":"passed","message":"","details":"","seconds":0.1})");
}

/// A worker played by a shell script: it ignores its arguments and writes `body`'s lines.
class FakeWorker {
 public:
  explicit FakeWorker(const std::string& body) {
    dir_ = fs::temp_directory_path() /
           ("rg-fake-worker-" + std::to_string(::getpid()) + "-" + std::to_string(++count_));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "x.so") << "";
    std::ofstream(dir_ / "plugin.yaml")
        << "schema_version: 1\nid: fake\nversion: \"1.0.0\"\nvendor: V\ndescription: d\n"
           "library: x.so\nsha256: "
        << std::string(64, 'a')
        << "\nabi: {major: 1, min_minor: 0, max_minor: 0}\ncapabilities: []\n"
           "endpoints:\n  - {id: e, base_url: \"https://x.example\", data_region: US, "
           "inference_scope: us}\nmodels:\n  - id: m\nsettings:\n  - {key: api_key_secret, "
           "type: string, default: FAKE_API_KEY, secret: true, description: k}\n";
    script_ = dir_ / "worker.sh";
    std::ofstream(script_) << "#!/bin/sh\n" << body;
    ::chmod(script_.c_str(), 0755);
  }
  ~FakeWorker() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  RunReport Run(std::chrono::milliseconds timeout = std::chrono::seconds(20)) const {
    HarnessOptions options;
    options.targets = {{"fake", dir_ / "plugin.yaml"}};
    options.worker_exe = script_;
    options.config_dir = dir_;
    options.case_timeout = timeout;
    return RunHarness(options);
  }

 private:
  static inline int count_ = 0;
  fs::path dir_;
  fs::path script_;
};

TEST(ConformanceHarnessTest, ResultsBeforeACrashSurviveAndTheRestIsNotRun) {
  const RunReport report =
      FakeWorker(Line(kPlan) + Start(0) + Passed(0) + Start(1) + "kill -SEGV $$\n").Run();
  ASSERT_EQ(report.plugins.size(), 1u);
  const PluginReport& p = report.plugins[0];
  EXPECT_EQ(p.failure, "plug-in 'fake' crashed with SIGSEGV during case 'b'");
  ASSERT_EQ(p.cases.size(), 3u);
  EXPECT_EQ(p.cases[0].status, CaseStatus::kPassed);
  EXPECT_EQ(p.cases[1].status, CaseStatus::kFailed);
  EXPECT_EQ(p.cases[1].message, p.failure);
  EXPECT_EQ(p.cases[2].status, CaseStatus::kSkipped);
  EXPECT_EQ(p.cases[2].message, "not run: " + p.failure);
  EXPECT_FALSE(report.ok());
}

TEST(ConformanceHarnessTest, AHungCaseIsKilledAndNamed) {
  const RunReport report =
      FakeWorker(Line(kPlan) + Start(0) + Passed(0) + Start(1) + "exec sleep 30\n")
          .Run(std::chrono::milliseconds(300));
  const PluginReport& p = report.plugins[0];
  EXPECT_EQ(p.failure,
            "plug-in 'fake' hung: case 'b' did not finish within 300 ms; the harness killed it");
  EXPECT_EQ(p.cases[1].status, CaseStatus::kFailed);
  EXPECT_LT(p.seconds, 10.0);
}

TEST(ConformanceHarnessTest, AnAddressSanitizerReportNamesTheSignal) {
  const RunReport report = FakeWorker(Line(kPlan) + Start(0) +
                                      "echo '==1==ERROR: AddressSanitizer: SEGV on unknown "
                                      "address 0x000000000000 (pc 0x1 bp 0x2 sp 0x3 T0)' >&2\n"
                                      "exit 1\n")
                               .Run();
  EXPECT_EQ(report.plugins[0].failure,
            "plug-in 'fake' crashed with SIGSEGV during case 'a' (reported by AddressSanitizer: "
            "SEGV on unknown address 0x000000000000)");
  EXPECT_NE(report.plugins[0].cases[0].details.find("AddressSanitizer"), std::string::npos);
}

TEST(ConformanceHarnessTest, AWorkerThatStopsEarlyIsAFailure) {
  const RunReport report = FakeWorker(Line(kPlan) + Start(0) + Passed(0) + "exit 0\n").Run();
  EXPECT_EQ(report.plugins[0].failure,
            "the worker for plug-in 'fake' stopped after case 'a' without reporting every case "
            "(a plug-in may have called exit())");
  EXPECT_EQ(report.plugins[0].cases[1].status, CaseStatus::kSkipped);
}

TEST(ConformanceHarnessTest, ACredentialOnStdoutFailsTheCredentialCase) {
  // The fake worker is given the simulator's OpenAI key as FAKE_API_KEY and prints it.
  const RunReport report =
      FakeWorker(Line(kPlan) + Start(0) + Passed(0) + Start(1) + Passed(1) + Start(2) + Passed(2) +
                 "echo \"key is $FAKE_API_KEY\"\n" + Line(R"({"event":"done"})"))
          .Run();
  const PluginReport& p = report.plugins[0];
  EXPECT_TRUE(p.failure.empty()) << p.failure;
  ASSERT_EQ(p.cases.size(), 4u);
  EXPECT_EQ(p.cases[3].id.name, "credentials absent from log lines");
  EXPECT_EQ(p.cases[3].status, CaseStatus::kFailed);
  EXPECT_EQ(p.cases[3].message,
            "plug-in 'fake' printed a credential to its standard output or error; a plug-in "
            "must not print, and must log through the host's log service, which redacts secrets");
}

TEST(ConformanceHarnessTest, ACleanWorkerPasses) {
  const RunReport report = FakeWorker(Line(kPlan) + Start(0) + Passed(0) + Start(1) + Passed(1) +
                                      Start(2) + Passed(2) + Line(R"({"event":"done"})"))
                               .Run();
  EXPECT_TRUE(report.ok()) << SummaryText(report);
  EXPECT_EQ(report.counts().passed, 3);
}

}  // namespace
}  // namespace rg::tools::conformance
