// The host library end to end through real dlopen of test plug-ins and real HTTP over
// loopback: settings validation, endpoint overrides, the egress hook, undeclared endpoints,
// retries (and none after output reached the caller), secrets and log redaction,
// cancellation.
#include <atomic>
#include <cstdlib>
#include <mutex>

#include <gtest/gtest.h>

#include "regiongate/core/host.hpp"
#include "support/test_http_server.hpp"

namespace {

using rg::core::CompletionRequest;
using rg::core::Host;
using rg::core::HostOptions;
using rg::testing::ScriptedResponse;
using rg::testing::TestHttpServer;

CompletionRequest Prompt(const std::string& text, const std::string& endpoint = "home") {
  CompletionRequest r;
  r.endpoint_id = endpoint;
  r.body = {{"model", "probe-1"},
            {"messages", {{{"role", "user"}, {"content", text}}}},
            {"stream", true}};
  return r;
}

HostOptions FastRetries(const TestHttpServer& server) {
  HostOptions o;
  o.retry.initial_delay = std::chrono::milliseconds(1);
  o.retry.max_delay = std::chrono::milliseconds(5);
  const std::string base = server.Url("");  // no trailing slash: paths carry their own
  o.endpoint_overrides = {{"probe", "home", base}, {"probe", "abroad", base}};
  return o;
}

std::unique_ptr<Host> LoadedHost(HostOptions options) {
  auto host = std::make_unique<Host>(std::move(options));
  auto report = host->LoadPluginDirectory(RG_TEST_PLUGIN_DIR);
  EXPECT_TRUE(report.refused.empty()) << report.refused.front().message;
  EXPECT_NE(host->FindPlugin("probe"), nullptr);
  return host;
}

TEST(Host, SettingsAreValidatedAgainstTheManifestTable) {
  Host host;
  ASSERT_TRUE(host.LoadPluginDirectory(RG_TEST_PLUGIN_DIR).refused.empty());
  auto unknown = host.CreateInstance("probe", {{"api_kye_secret", "X"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message,
            "unknown setting 'api_kye_secret' for plug-in 'probe' (known settings: "
            "api_key_secret, depth)");
  auto wrong = host.CreateInstance("probe", {{"depth", "deep"}});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().message, "setting 'depth' of plug-in 'probe' must be of type integer");
  auto missing = host.CreateInstance("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message,
            "no plug-in 'nope' is loaded; run 'regiongate plugins list' to see the loaded ones");
  auto ok = host.CreateInstance("probe", {{"depth", 2}});
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ((*ok)->config()["settings"]["api_key_secret"], "RG_PROBE_KEY");  // default applied
}

TEST(Host, StreamsAnHttpBodyThroughAnOverriddenEndpoint) {
  TestHttpServer server([](const auto&) {
    ScriptedResponse r;
    r.chunks = {"hello ", "from ", "loopback"};
    r.framing = ScriptedResponse::Framing::kChunked;
    return r;
  });
  auto host = LoadedHost(FastRetries(server));
  EXPECT_TRUE(host->IsOverridden("probe", "home"));
  auto instance = host->CreateInstance("probe");
  ASSERT_TRUE(instance.ok());
  std::vector<std::string> deltas;
  auto result = host->Complete(**instance, Prompt("http home /v1/things?x=1"),
                               [&](const rg::core::CompletionEvent& e) {
                                 if (e.kind == RG_EVENT_TEXT_DELTA) deltas.push_back(e.data);
                                 return true;
                               });
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.text, "hello from loopback");
  EXPECT_GE(deltas.size(), 1u);
  EXPECT_EQ(result.final_events, 1);
  ASSERT_EQ(server.Requests().size(), 1u);
  EXPECT_EQ(server.Requests()[0].target, "/v1/things?x=1");
}

TEST(Host, EgressHookRefusesBeforeAnyByteIsSent) {
  TestHttpServer server;
  auto host = LoadedHost(FastRetries(server));
  std::vector<rg::core::EgressTarget> asked;
  std::mutex m;
  host->SetEgressHook([&](const rg::core::EgressTarget& t) -> rg::Result<void> {
    std::lock_guard lock(m);
    asked.push_back(t);
    if (t.data_region == "CN") {
      return rg::Error{"RG-G900", "rule us.residency denies data region CN"};
    }
    return {};
  });
  auto instance = host->CreateInstance("probe");
  ASSERT_TRUE(instance.ok());
  CompletionRequest request = Prompt("http abroad /x", "abroad");
  request.region = "en-US";
  auto result = host->Complete(**instance, request);
  EXPECT_EQ(result.code, RG_ERR_EGRESS_DENIED);
  EXPECT_NE(result.message.find("rule us.residency denies data region CN"), std::string::npos)
      << result.message;
  EXPECT_EQ(result.attempts, 1);  // a policy refusal is not retried
  EXPECT_EQ(server.ConnectionsAccepted(), 0u);
  ASSERT_EQ(asked.size(), 1u);
  // Decisions use the declared endpoint's attributes even though the URL was overridden.
  EXPECT_EQ(asked[0].inference_scope, "cn-mainland");
  EXPECT_EQ(asked[0].declared_base_url, "http://127.0.0.1:9");
  EXPECT_TRUE(asked[0].overridden);
  EXPECT_EQ(asked[0].region, "en-US");
  EXPECT_EQ(asked[0].url, server.Url("/x"));
}

TEST(Host, UndeclaredEndpointIsRefused) {
  TestHttpServer server;
  auto host = LoadedHost(FastRetries(server));
  auto instance = host->CreateInstance("probe");
  ASSERT_TRUE(instance.ok());
  auto result = host->Complete(**instance, Prompt("http elsewhere /x"));
  EXPECT_EQ(result.code, RG_ERR_EGRESS_DENIED);
  EXPECT_EQ(result.message,
            "plug-in 'probe' asked to reach endpoint 'elsewhere', which its manifest does not "
            "declare; declare it in plugin.yaml");
  EXPECT_EQ(server.ConnectionsAccepted(), 0u);
}

TEST(Host, RetriesRetryableFailuresThenSucceeds) {
  std::atomic<int> calls{0};
  TestHttpServer server([&](const auto&) {
    if (++calls <= 2) return ScriptedResponse::Text(503, "busy");
    return ScriptedResponse::Text(200, "finally");
  });
  auto host = LoadedHost(FastRetries(server));
  auto instance = host->CreateInstance("probe");
  ASSERT_TRUE(instance.ok());
  auto result = host->Complete(**instance, Prompt("http home /r"));
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.text, "finally");
  EXPECT_EQ(result.attempts, 3);
}

TEST(Host, RateLimitHonoursRetryAfterAndGivesUpAfterMaxAttempts) {
  TestHttpServer server([](const auto&) {
    return ScriptedResponse::Text(429, "slow down", {{"Retry-After", "0"}});
  });
  auto host = LoadedHost(FastRetries(server));
  auto instance = host->CreateInstance("probe");
  ASSERT_TRUE(instance.ok());
  auto result = host->Complete(**instance, Prompt("http home /r"));
  EXPECT_EQ(result.code, RG_ERR_RATE_LIMITED);
  EXPECT_EQ(result.attempts, 3);
  EXPECT_EQ(result.final_data["retry_after_ms"], 0);
  EXPECT_EQ(server.Requests().size(), 3u);
}

TEST(Host, NeverRetriesOnceOutputReachedTheCaller) {
  Host host([] {
    HostOptions o;
    o.retry.initial_delay = std::chrono::milliseconds(1);
    return o;
  }());
  ASSERT_TRUE(host.LoadPluginDirectory(RG_TEST_PLUGIN_DIR).refused.empty());
  auto instance = host.CreateInstance("probe");
  ASSERT_TRUE(instance.ok());
  auto result = host.Complete(**instance, Prompt("text-then-fail"));
  EXPECT_EQ(result.code, RG_ERR_RETRYABLE);
  EXPECT_EQ(result.attempts, 1);
  EXPECT_TRUE(result.partial());
  EXPECT_EQ(result.text, "partial ");
}

TEST(Host, SecretsAreRedactedFromPluginLogs) {
  ::setenv("RG_PROBE_KEY", "sk-probe-very-secret", 1);
  std::vector<rg::core::PluginLogRecord> logs;
  std::mutex m;
  HostOptions o;
  o.log_observer = [&](const rg::core::PluginLogRecord& r) {
    std::lock_guard lock(m);
    logs.push_back(r);
  };
  Host host(o);
  ASSERT_TRUE(host.LoadPluginDirectory(RG_TEST_PLUGIN_DIR).refused.empty());
  auto instance = host.CreateInstance("probe");
  ASSERT_TRUE(instance.ok());
  auto result = host.Complete(**instance, Prompt("secret RG_PROBE_KEY"));
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.text, "secret length 20");
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_EQ(logs[0].plugin_id, "probe");
  EXPECT_EQ(logs[0].message, "using key [redacted]");
  EXPECT_TRUE(logs[0].contained_secret);
}

TEST(Host, MissingSecretNamesTheVariable) {
  ::unsetenv("RG_PROBE_ABSENT");
  HostOptions o;
  o.log_observer = [](const rg::core::PluginLogRecord&) {};
  Host host(o);
  ASSERT_TRUE(host.LoadPluginDirectory(RG_TEST_PLUGIN_DIR).refused.empty());
  auto instance = host.CreateInstance("probe");
  ASSERT_TRUE(instance.ok());
  auto result = host.Complete(**instance, Prompt("secret RG_PROBE_ABSENT"));
  EXPECT_EQ(result.code, RG_ERR_AUTH);
  EXPECT_EQ(result.message,
            "missing credential: set the environment variable or secret file 'RG_PROBE_ABSENT'");
  EXPECT_EQ(result.attempts, 1);
}

TEST(Host, CallerCanCancelMidStream) {
  TestHttpServer server([&](const auto&) {
    ScriptedResponse r;
    r.framing = ScriptedResponse::Framing::kChunked;
    r.chunks = {"one ", "two ", "three ", "four "};
    r.chunk_delay = std::chrono::milliseconds(20);
    return r;
  });
  auto host = LoadedHost(FastRetries(server));
  auto instance = host->CreateInstance("probe");
  ASSERT_TRUE(instance.ok());
  int deltas = 0;
  auto result =
      host->Complete(**instance, Prompt("http home /s"), [&](const rg::core::CompletionEvent& e) {
        return e.kind != RG_EVENT_TEXT_DELTA || ++deltas < 2;
      });
  EXPECT_EQ(result.code, RG_ERR_CANCELLED);
  EXPECT_EQ(result.finish, RG_FINISH_CANCELLED);
  EXPECT_EQ(result.attempts, 1);
  EXPECT_LT(result.text.size(), std::string("one two three four ").size());
}

TEST(Host, WildcardOverrideReachesEveryEndpointMostSpecificWins) {
  TestHttpServer server([](const auto&) { return ScriptedResponse::Text(200, "wild"); });
  HostOptions o;
  o.endpoint_overrides = {{"*", "*", server.Url("")}, {"probe", "abroad", "http://127.0.0.1:9"}};
  Host host(o);
  ASSERT_TRUE(host.LoadPluginDirectory(RG_TEST_PLUGIN_DIR).refused.empty());
  EXPECT_EQ(host.EffectiveBaseUrl("probe", "home"), server.Url(""));
  EXPECT_EQ(host.EffectiveBaseUrl("probe", "abroad"), "http://127.0.0.1:9");
  EXPECT_TRUE(host.IsOverridden("echo", "local"));
  auto instance = host.CreateInstance("probe");
  ASSERT_TRUE(instance.ok());
  auto result = host.Complete(**instance, Prompt("http home /w"));
  ASSERT_TRUE(result.ok()) << result.message;
  EXPECT_EQ(result.text, "wild");
}

TEST(Host, EndpointOverrideSpecIsParsed) {
  auto ok = rg::core::ParseEndpointOverride("qwen.cn-beijing=http://127.0.0.1:8080/");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->plugin_id, "qwen");
  EXPECT_EQ(ok->endpoint_id, "cn-beijing");
  EXPECT_EQ(ok->url, "http://127.0.0.1:8080");
  auto bad = rg::core::ParseEndpointOverride("qwen=http://x");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message,
            "endpoint override 'qwen=http://x' is not of the form PLUGIN.ENDPOINT_ID=URL");
  auto scheme = rg::core::ParseEndpointOverride("qwen.a=ftp://x");
  ASSERT_FALSE(scheme.ok());
  EXPECT_EQ(scheme.error().message,
            "endpoint override for 'qwen.a' must be an http:// or https:// URL, got 'ftp://x'");
}

}  // namespace
