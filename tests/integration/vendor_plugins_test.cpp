// Every simulator behaviour x every vendor plug-in (and protocol) x streamed and buffered,
// through the real path: the built plug-ins loaded from RG_PLUGIN_DIR by rg::core::Host
// (manifest, sha256, dlopen, ABI negotiation), every declared endpoint overridden to the
// in-process rg-vendor-sim on loopback, real HTTP through the host's transport, and the
// host's retry policy. Asserts the canonical result the caller sees.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "regiongate/core/host.hpp"
#include "regiongate/tools/vendor_sim.hpp"

namespace rg {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

/// One way of reaching a vendor: a plug-in, its settings, an endpoint and a model.
struct Route {
  std::string name;  ///< for test names
  std::string plugin;
  json settings;
  std::string endpoint;
  std::string model;
};

// Test names already say which route; keep gtest from dumping the struct's bytes.
void PrintTo(const Route& route, std::ostream* out) { *out << route.name; }

const std::vector<Route>& Routes() {
  static const std::vector<Route> routes = {
      {"openai", "openai", json::object(), "global", "gpt-4o"},
      {"openai_eu_o4mini", "openai", json::object(), "eu", "o4-mini"},
      {"qwen_compatible", "qwen", {{"protocol", "compatible"}}, "cn-beijing", "qwen-plus"},
      {"qwen_native", "qwen", {{"protocol", "native"}}, "ap-singapore", "qwen-max"},
      {"qwen_native_full_text",
       "qwen",
       {{"protocol", "native"}, {"incremental_output", false}},
       "cn-hongkong",
       "qwen-turbo"},
      {"baidu_v2", "baidu", json::object(), "qianfan-v2", "ernie-4.0-8k"},
      {"baidu_v1", "baidu", json::object(), "qianfan-v1", "ernie-3.5-8k"},
  };
  return routes;
}

const std::vector<std::pair<std::string, std::vector<std::string>>> kDeclaredEndpoints = {
    {"openai", {"global", "eu", "us"}},
    {"qwen", {"cn-beijing", "ap-singapore", "us-virginia", "cn-hongkong"}},
    {"baidu", {"qianfan-v2", "qianfan-v1", "oauth"}},
};

constexpr auto kIdleTimeout = std::chrono::milliseconds(400);

/// The simulator and the host, shared by every test of the binary (plug-ins are loaded
/// once per process anyway: their entry runs once).
class Environment {
 public:
  static Environment& Get() {
    static Environment environment;
    return environment;
  }

  core::Host& host() { return *host_; }
  tools::VendorSim& sim() { return *sim_; }
  const std::string& setup_error() const { return setup_error_; }

  std::shared_ptr<core::Instance> InstanceFor(const Route& route) {
    auto created = host_->CreateInstance(route.plugin, route.settings);
    if (!created) {
      ADD_FAILURE() << created.error().message;
      return nullptr;
    }
    return created.value();
  }

 private:
  Environment() {
    tools::VendorSimOptions sim_options;
    sim_options.chunk_chars = 3;
    sim_options.created = 1700000000;
    sim_ = std::make_unique<tools::VendorSim>(sim_options);
    if (auto started = sim_->Start(); !started) {
      setup_error_ = "simulator did not start: " + started.error().message;
      return;
    }
    // Credentials come from secret files, never from the environment of the test run.
    secrets_dir_ =
        fs::temp_directory_path() / ("rg-vendor-plugins-test-" + std::to_string(::getpid()));
    fs::create_directories(secrets_dir_);
    core::HostOptions options;
    options.secrets.use_environment = false;
    for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
             {"OPENAI_API_KEY", sim_options.openai_key},
             {"DASHSCOPE_API_KEY", sim_options.dashscope_key},
             {"QIANFAN_API_KEY", sim_options.qianfan_key},
             {"QIANFAN_AK", sim_options.qianfan_ak},
             {"QIANFAN_SK", sim_options.qianfan_sk}}) {
      const fs::path file = secrets_dir_ / name;
      std::ofstream(file) << value << "\n";
      options.secrets.files[name] = file;
    }
    for (const auto& [plugin, endpoints] : kDeclaredEndpoints) {
      for (const auto& endpoint : endpoints) {
        options.endpoint_overrides.push_back({plugin, endpoint, sim_->BaseUrl()});
      }
    }
    options.http.idle_timeout = kIdleTimeout;
    options.http.total_timeout = std::chrono::milliseconds(20'000);
    options.retry.max_attempts = 3;
    options.retry.initial_delay = std::chrono::milliseconds(5);
    options.retry.max_delay = std::chrono::milliseconds(20);
    // A vendor asking for more than this is not waited for: the error goes to the caller.
    options.retry.max_retry_after = std::chrono::milliseconds(500);
    options.log_observer = [](const core::PluginLogRecord&) {};
    host_ = std::make_unique<core::Host>(options);
    const core::LoadReport report = host_->LoadPluginDirectory(RG_PLUGIN_DIR);
    for (const auto& plugin : {"openai", "qwen", "baidu"}) {
      if (!host_->FindPlugin(plugin)) {
        setup_error_ +=
            std::string("plug-in '") + plugin + "' did not load from " + RG_PLUGIN_DIR + ";";
      }
    }
    for (const auto& refused : report.refused) {
      setup_error_ += " refused " + refused.plugin + ": " + refused.message + ";";
    }
  }

  ~Environment() {
    if (sim_) sim_->Stop();
    std::error_code ignored;
    fs::remove_all(secrets_dir_, ignored);
  }

  std::unique_ptr<tools::VendorSim> sim_;
  std::unique_ptr<core::Host> host_;
  fs::path secrets_dir_;
  std::string setup_error_;
};

json Request(const Route& route, const std::string& behaviour, bool stream) {
  const std::string marker = behaviour.empty() ? "" : " [[sim:" + behaviour + "]]";
  // The route and mode in the prompt keep the simulator's per-prompt counters (flaky,
  // expire-token) apart when one process runs every test.
  const std::string prompt = "tell me about the moon (" + route.name + ", " + route.model +
                             (stream ? ", stream)" : ", buffered)") + marker;
  return {{"model", route.model},
          {"messages", json::array({{{"role", "system"}, {"content", "answer briefly"}},
                                    {{"role", "user"}, {"content", prompt}}})},
          {"stream", stream},
          {"max_tokens", 200}};
}

struct Outcome {
  core::CompletionResult result;
  std::vector<core::CompletionEvent> events;
};

Outcome RunRoute(const Route& route, const std::string& behaviour, bool stream,
                 const core::EventCallback& extra = {}) {
  Outcome outcome;
  Environment& env = Environment::Get();
  auto instance = env.InstanceFor(route);
  if (!instance) return outcome;
  core::CompletionRequest request;
  request.endpoint_id = route.endpoint;
  request.body = Request(route, behaviour, stream);
  outcome.result = env.host().Complete(*instance, request, [&](const core::CompletionEvent& event) {
    outcome.events.push_back(event);
    return extra ? extra(event) : true;
  });
  return outcome;
}

std::string Describe(const core::CompletionResult& r) {
  return std::string(core::CodeName(r.code)) + " / " + std::string(core::FinishName(r.finish)) +
         " after " + std::to_string(r.attempts) + " attempt(s): " + r.final_data.dump() +
         " text='" + r.text + "'";
}

class VendorPluginsTest : public ::testing::TestWithParam<std::tuple<Route, bool>> {
 protected:
  void SetUp() override {
    const std::string& error = Environment::Get().setup_error();
    ASSERT_TRUE(error.empty()) << error;
  }
  const Route& route() const { return std::get<0>(GetParam()); }
  bool stream() const { return std::get<1>(GetParam()); }
  Outcome Run(const std::string& behaviour) { return RunRoute(route(), behaviour, stream()); }
};

TEST_P(VendorPluginsTest, NormalAnswerIsCompleteWithUsage) {
  const Outcome o = Run("normal");
  const auto& r = o.result;
  ASSERT_TRUE(r.ok()) << Describe(r);
  EXPECT_EQ(r.finish, RG_FINISH_STOP);
  EXPECT_FALSE(r.text.empty());
  EXPECT_EQ(r.final_events, 1);
  EXPECT_EQ(r.attempts, 1);
  ASSERT_TRUE(r.usage.is_object()) << Describe(r);
  EXPECT_GT(r.usage.value("prompt_tokens", 0), 0);
  EXPECT_GT(r.usage.value("completion_tokens", 0), 0);
  EXPECT_EQ(r.usage.value("total_tokens", 0),
            r.usage.value("prompt_tokens", 0) + r.usage.value("completion_tokens", 0));
  size_t deltas = 0;
  for (const auto& e : o.events) deltas += e.kind == RG_EVENT_TEXT_DELTA ? 1 : 0;
  if (stream()) {
    EXPECT_GT(deltas, 1u) << "a stream arrives in pieces";
  } else {
    EXPECT_EQ(deltas, 1u);
  }
}

TEST_P(VendorPluginsTest, InputBlockIsAProviderBlockOfTheInput) {
  const auto r = Run("input-block").result;
  EXPECT_EQ(r.code, RG_ERR_PROVIDER_BLOCKED) << Describe(r);
  EXPECT_EQ(r.finish, RG_FINISH_CONTENT_FILTER);
  EXPECT_EQ(r.final_data.value("blocked", ""), "input") << Describe(r);
  EXPECT_TRUE(r.text.empty());
  EXPECT_EQ(r.attempts, 1);
}

TEST_P(VendorPluginsTest, OutputBlockIsAProviderBlockOfTheOutputAndNotComplete) {
  const auto r = Run("output-block").result;
  EXPECT_EQ(r.code, RG_ERR_PROVIDER_BLOCKED) << Describe(r);
  EXPECT_EQ(r.final_data.value("blocked", ""), "output") << Describe(r);
  if (stream()) {
    EXPECT_FALSE(r.text.empty()) << "the block comes after partial text";
    EXPECT_TRUE(r.partial());
    EXPECT_NE(r.message.find("the partial answer is incomplete"), std::string::npos) << r.message;
  }
  EXPECT_EQ(r.attempts, 1);
}

TEST_P(VendorPluginsTest, RateLimitCarriesRetryAfterToTheCaller) {
  const auto r = Run("rate-limit:2").result;
  EXPECT_EQ(r.code, RG_ERR_RATE_LIMITED) << Describe(r);
  EXPECT_EQ(r.final_data.value("retry_after_ms", int64_t{0}), 2000) << Describe(r);
  EXPECT_EQ(r.attempts, 1) << "Retry-After beyond the policy's limit is not waited for";
}

TEST_P(VendorPluginsTest, ServerErrorIsRetriedByTheHostThenReported) {
  const auto r = Run("server-error").result;
  EXPECT_EQ(r.code, RG_ERR_RETRYABLE) << Describe(r);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_TRUE(r.text.empty());
}

TEST_P(VendorPluginsTest, UnavailableIsRetriedByTheHostThenReported) {
  const auto r = Run("unavailable").result;
  EXPECT_EQ(r.code, RG_ERR_RETRYABLE) << Describe(r);
  EXPECT_EQ(r.attempts, 3);
}

TEST_P(VendorPluginsTest, FlakyVendorSucceedsOnTheHostsRetry) {
  const auto r = Run("flaky:1").result;
  EXPECT_TRUE(r.ok()) << Describe(r);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_FALSE(r.text.empty());
}

TEST_P(VendorPluginsTest, AuthFailureIsNotRetried) {
  const auto r = Run("auth-failure").result;
  EXPECT_EQ(r.code, RG_ERR_AUTH) << Describe(r);
  EXPECT_EQ(r.attempts, 1);
}

TEST_P(VendorPluginsTest, SlowFirstByteStillAnswers) {
  const auto r = Run("slow-first-byte:150").result;
  EXPECT_TRUE(r.ok()) << Describe(r);
  EXPECT_FALSE(r.text.empty());
}

TEST_P(VendorPluginsTest, StallMidStreamIsAFailureNeverAnAnswer) {
  const auto r = Run("stall:2000").result;
  EXPECT_FALSE(r.ok()) << Describe(r);
  if (stream()) {
    EXPECT_EQ(r.code, RG_ERR_PROTOCOL) << Describe(r);
    EXPECT_TRUE(r.partial());
    EXPECT_EQ(r.attempts, 1) << "text reached the caller: never retried";
  }
}

TEST_P(VendorPluginsTest, TruncatedResponseIsAProtocolError) {
  const auto r = Run("truncate").result;
  EXPECT_EQ(r.code, RG_ERR_PROTOCOL) << Describe(r);
  if (stream()) {
    EXPECT_TRUE(r.partial()) << Describe(r);
    EXPECT_NE(r.message.find("stream truncated"), std::string::npos) << r.message;
  }
}

TEST_P(VendorPluginsTest, AbortedConnectionIsAProtocolError) {
  const auto r = Run("truncate:abort").result;
  EXPECT_EQ(r.code, RG_ERR_PROTOCOL) << Describe(r);
}

TEST_P(VendorPluginsTest, MalformedJsonIsAProtocolError) {
  const auto r = Run("malformed-chunk").result;
  EXPECT_EQ(r.code, RG_ERR_PROTOCOL) << Describe(r);
  EXPECT_NE(r.message.find("malformed JSON"), std::string::npos) << r.message;
}

TEST_P(VendorPluginsTest, CallerStopIsCancelled) {
  if (!stream()) GTEST_SKIP() << "a buffered answer arrives as one delta";
  int texts = 0;
  const auto o = RunRoute(route(), "normal", true, [&](const core::CompletionEvent& event) {
    return !(event.kind == RG_EVENT_TEXT_DELTA && ++texts == 2);
  });
  EXPECT_EQ(o.result.code, RG_ERR_CANCELLED) << Describe(o.result);
  EXPECT_EQ(o.result.finish, RG_FINISH_CANCELLED);
  EXPECT_EQ(texts, 2);
}

std::string ParamName(const ::testing::TestParamInfo<std::tuple<Route, bool>>& info) {
  return std::get<0>(info.param).name + (std::get<1>(info.param) ? "_stream" : "_buffered");
}

INSTANTIATE_TEST_SUITE_P(AllVendors, VendorPluginsTest,
                         ::testing::Combine(::testing::ValuesIn(Routes()), ::testing::Bool()),
                         ParamName);

// ---- vendor-specific behaviours --------------------------------------------------------------

class VendorSpecificTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    const std::string& error = Environment::Get().setup_error();
    ASSERT_TRUE(error.empty()) << error;
  }
};

TEST_P(VendorSpecificTest, OpenAiRefusalIsAnOutputBlock) {
  const auto r = RunRoute(Routes()[0], "refusal", GetParam()).result;
  EXPECT_EQ(r.code, RG_ERR_PROVIDER_BLOCKED) << Describe(r);
  EXPECT_EQ(r.final_data.value("blocked", ""), "output");
  EXPECT_EQ(r.final_data.value("vendor_code", ""), "refusal");
}

TEST_P(VendorSpecificTest, OpenAiReasoningModelsGetMaxCompletionTokens) {
  // The simulator answers 400 unsupported_parameter when o-series / GPT-5 get max_tokens.
  for (const char* model : {"o4-mini", "gpt-5", "gpt-4.1", "gpt-4o-mini"}) {
    Route route = Routes()[0];
    route.model = model;
    const auto r = RunRoute(route, "", GetParam()).result;
    EXPECT_TRUE(r.ok()) << model << ": " << Describe(r);
  }
}

TEST_P(VendorSpecificTest, QianfanV1ExpiredTokenIsRefreshedInsideThePlugin) {
  const Route& v1 = Routes()[6];
  ASSERT_EQ(v1.name, "baidu_v1");
  const auto r = RunRoute(v1, "expire-token:1", GetParam()).result;
  EXPECT_TRUE(r.ok()) << Describe(r);
  EXPECT_EQ(r.attempts, 1) << "the refresh is the plug-in's own retry, not the host's";
}

TEST_P(VendorSpecificTest, QianfanV1RevokedTokensAreReplaced) {
  const Route& v1 = Routes()[6];
  ASSERT_TRUE(RunRoute(v1, "", GetParam()).result.ok());
  Environment::Get().sim().ExpireQianfanTokens();
  const auto r = RunRoute(v1, "", GetParam()).result;
  EXPECT_TRUE(r.ok()) << Describe(r);
}

TEST_P(VendorSpecificTest, QianfanV1RefusesAModelWithoutSuffix) {
  Route route = Routes()[6];
  route.model = "ernie-4.5-turbo-128k";
  const auto r = RunRoute(route, "", GetParam()).result;
  EXPECT_EQ(r.code, RG_ERR_UNAVAILABLE) << Describe(r);
  EXPECT_EQ(r.message,
            "model 'ernie-4.5-turbo-128k' is not served on baidu endpoint 'qianfan-v1': Qianfan "
            "v1 has no URL suffix for it; use endpoint 'qianfan-v2'");
  route = Routes()[5];
  route.model = "ernie-4.5-turbo-128k";
  EXPECT_TRUE(RunRoute(route, "", GetParam()).result.ok());
}

TEST_P(VendorSpecificTest, MissingCredentialNamesTheVariable) {
  Environment& env = Environment::Get();
  auto created = env.host().CreateInstance("qwen", {{"api_key_secret", "NO_SUCH_SECRET"}});
  ASSERT_TRUE(created) << created.error().message;
  core::CompletionRequest request;
  request.endpoint_id = "cn-beijing";
  request.body = Request(Routes()[2], "", GetParam());
  const auto r = env.host().Complete(*created.value(), request);
  EXPECT_EQ(r.code, RG_ERR_AUTH);
  EXPECT_EQ(r.message,
            "missing credential: set NO_SUCH_SECRET (the secret named by setting "
            "'api_key_secret' of plug-in 'qwen')");
  EXPECT_EQ(r.attempts, 1);
}

std::string ModeName(const ::testing::TestParamInfo<bool>& param) {
  return param.param ? "stream" : "buffered";
}

INSTANTIATE_TEST_SUITE_P(StreamAndBuffered, VendorSpecificTest, ::testing::Bool(), ModeName);

}  // namespace
}  // namespace rg
