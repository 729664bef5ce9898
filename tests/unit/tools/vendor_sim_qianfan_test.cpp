// rg-vendor-sim, Baidu Qianfan v2 and v1 (wenxinworkshop + OAuth): wire format of every
// behavior (vendor-protocols.md §3).
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <thread>

#include "sim_test_client.hpp"

namespace rg::tools::test {
namespace {

constexpr const char* kV2Path = "/v2/chat/completions";
constexpr const char* kV1Chat = "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/";
const Headers kV2Auth = {{"Authorization", "Bearer bce-v3/ALTAK-sim"}};

// ---- v2 ----------------------------------------------------------------------------------

HttpReply V2(const std::string& prompt, nlohmann::json extra = nlohmann::json::object(),
             const std::string& model = "ernie-4.0-8k", const Headers& headers = kV2Auth) {
  return Post(SharedSim().port(), kV2Path, UserBody(model, prompt, std::move(extra)), headers);
}

bool IsQianfanId(const std::string& id) {
  return std::regex_match(id, std::regex("as-[a-z0-9]{10}"));
}

TEST(VendorSimQianfanV2, NonStreamMatchesTheDocumentedExample) {
  const HttpReply reply = V2("hello there");
  ASSERT_EQ(reply.status, 200);
  const std::string id = reply.Json()["id"];
  EXPECT_TRUE(IsQianfanId(id)) << id;
  EXPECT_EQ(ReplaceAll(reply.body, id, "{ID}"),
            R"({"id":"{ID}","object":"chat.completion","created":1767225600,)"
            R"("model":"ernie-4.0-8k","choices":[{"index":0,"message":{"role":"assistant",)"
            R"("content":"Echo: hello there"},"finish_reason":"stop","flag":0}],)"
            R"("usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}})");
  EXPECT_EQ(reply.Header("X-Ratelimit-Limit-Requests"), "300");
  EXPECT_EQ(reply.Header("X-Ratelimit-Remaining-Requests"), "299");
  EXPECT_TRUE(reply.HasHeader("X-Ratelimit-Limit-Input-Tokens"));
  EXPECT_TRUE(reply.HasHeader("X-Ratelimit-Remaining-Output-Tokens"));
  EXPECT_TRUE(reply.HasHeader("X-Baidu-Request-Id"));
}

TEST(VendorSimQianfanV2, StreamHasRoleOnTheFirstFrameUsageChunkAndDone) {
  const HttpReply reply =
      V2("hello there", {{"stream", true}, {"stream_options", {{"include_usage", true}}}});
  ASSERT_EQ(reply.status, 200);
  const std::string id = FrameJson(Frames(reply.body)[0])["id"];
  const std::vector<std::string> frames = Frames(ReplaceAll(reply.body, id, "{ID}"));
  ASSERT_EQ(frames.size(), 8U);  // 5 pieces, finish, usage, [DONE]
  EXPECT_EQ(frames[0],
            R"(data: {"id":"{ID}","object":"chat.completion.chunk","created":1767225600,)"
            R"("model":"ernie-4.0-8k","choices":[{"index":0,"delta":{"role":"assistant",)"
            R"("content":"Echo"},"finish_reason":null,"flag":0}]})");
  EXPECT_EQ(FrameJson(frames[1])["choices"][0]["delta"].dump(), R"({"content":": he"})");
  EXPECT_EQ(frames[5],
            R"(data: {"id":"{ID}","object":"chat.completion.chunk","created":1767225600,)"
            R"("model":"ernie-4.0-8k","choices":[{"index":0,"delta":{"content":""},)"
            R"("finish_reason":"stop","flag":0}]})");
  EXPECT_EQ(frames[6],
            R"(data: {"id":"{ID}","object":"chat.completion.chunk","created":1767225600,)"
            R"("model":"ernie-4.0-8k","choices":[],"usage":{"prompt_tokens":3,)"
            R"("completion_tokens":5,"total_tokens":8}})");
  EXPECT_EQ(frames[7], "data: [DONE]");
}

TEST(VendorSimQianfanV2, ChunkIncludeUsageIsCumulativeInEveryChunk) {
  const HttpReply reply =
      V2("hello there", {{"stream", true}, {"stream_options", {{"chunk_include_usage", true}}}});
  std::vector<int> completion;
  for (const std::string& frame : Frames(reply.body)) {
    if (frame != "data: [DONE]")
      completion.push_back(FrameJson(frame)["usage"]["completion_tokens"]);
  }
  EXPECT_EQ(completion, (std::vector<int>{1, 2, 3, 4, 5, 5}));
}

TEST(VendorSimQianfanV2, ChunkObjectIsAnOption) {
  VendorSimOptions options = TestOptions();
  options.facts.qianfan_v2_chunk_object = "chat.completion";
  VendorSim sim(options);
  ASSERT_TRUE(sim.Start().ok());
  const HttpReply reply =
      Post(sim.port(), kV2Path, UserBody("ernie-4.0-8k", "hi", {{"stream", true}}), kV2Auth);
  EXPECT_EQ(FrameJson(Frames(reply.body)[0])["object"], "chat.completion");
}

TEST(VendorSimQianfanV2, UnknownModelIsA401AsObserved) {
  const HttpReply reply = V2("hi", {}, "ernie-9000");
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(ReplaceAll(reply.body, reply.Json()["id"].get<std::string>(), "{ID}"),
            R"({"error":{"code":"invalid_model","message":"The model does not exist or you do )"
            R"(not have access to it.","type":"invalid_request_error"},"id":"{ID}"})");
}

TEST(VendorSimQianfanV2, WrongKeyEmptyMessagesAndForcedAuthFailure) {
  const HttpReply wrong = V2("hi", {}, "ernie-4.0-8k", {{"Authorization", "Bearer bce-v3/x"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(ReplaceAll(wrong.body, wrong.Json()["id"].get<std::string>(), "{ID}"),
            R"({"error":{"code":"invalid_iam_token","message":"invalid_iam_token",)"
            R"("type":"invalid_request_error"},"id":"{ID}"})");
  EXPECT_EQ(V2("hi [[sim:auth-failure]]").status, 401);
  const HttpReply empty =
      Post(SharedSim().port(), kV2Path, R"({"model":"ernie-4.0-8k","messages":[]})", kV2Auth);
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.Json()["error"]["message"], "messages cannot be empty");
}

TEST(VendorSimQianfanV2, InputBlockIsA200WithFlagAndBanRound) {
  const HttpReply reply = V2("bad [[sim:input-block]]");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Json()["choices"][0].dump(),
            R"({"ban_round":-1,"finish_reason":"content_filter","flag":3,"index":0,)"
            R"("message":{"content":"","role":"assistant"}})");
  EXPECT_EQ(V2("bad [[sim:input-block:2]]").Json()["choices"][0]["flag"], 2);
  const std::vector<std::string> frames =
      Frames(V2("bad [[sim:input-block]]", {{"stream", true}}).body);
  ASSERT_EQ(frames.size(), 2U);
  EXPECT_EQ(FrameJson(frames[0])["choices"][0].dump(),
            R"({"ban_round":-1,"delta":{"content":"","role":"assistant"},)"
            R"("finish_reason":"content_filter","flag":3,"index":0})");
  EXPECT_EQ(frames[1], "data: [DONE]");
}

TEST(VendorSimQianfanV2, OutputBlockFlagsTheStreamAfterPartialText) {
  const HttpReply reply = V2("hello there [[sim:output-block]]", {{"stream", true}});
  const std::vector<std::string> frames = Frames(reply.body);
  ASSERT_EQ(frames.size(), 4U);  // 2 pieces, flagged finish, [DONE]
  EXPECT_EQ(FrameJson(frames[2])["choices"][0].dump(),
            R"({"ban_round":-1,"delta":{"content":""},"finish_reason":"content_filter",)"
            R"("flag":4,"index":0})");
  const nlohmann::json plain = V2("hello there [[sim:output-block:1]]").Json();
  EXPECT_EQ(plain["choices"][0]["message"]["content"], "Echo: he");
  EXPECT_EQ(plain["choices"][0]["flag"], 1);
}

TEST(VendorSimQianfanV2, RateLimitIsTheObserved429WithRemainingZero) {
  const HttpReply reply = V2("hi [[sim:rate-limit]]");
  EXPECT_EQ(reply.status, 429);
  EXPECT_EQ(ReplaceAll(reply.body, reply.Json()["id"].get<std::string>(), "{ID}"),
            R"({"error":{"code":"rpm_rate_limit_exceeded","message":"Rate limit reached for RPM",)"
            R"("type":"rate_limit_exceeded"},"id":"{ID}"})");
  EXPECT_EQ(reply.Header("X-Ratelimit-Remaining-Requests"), "0");
  EXPECT_FALSE(reply.HasHeader("Retry-After"));
}

TEST(VendorSimQianfanV2, ServerErrorUnavailableTruncateAndFlaky) {
  EXPECT_EQ(V2("hi [[sim:server-error]]").status, 500);
  EXPECT_EQ(V2("hi [[sim:unavailable]]").status, 503);
  const HttpReply cut = V2("hello there [[sim:truncate]]", {{"stream", true}});
  EXPECT_EQ(cut.body.find("[DONE]"), std::string::npos);
  EXPECT_EQ(Frames(cut.body).size(), 2U);
  EXPECT_EQ(V2("v2 flaky [[sim:flaky]]").status, 503);
  EXPECT_EQ(V2("v2 flaky [[sim:flaky]]").status, 200);
}

// ---- v1 ----------------------------------------------------------------------------------

std::string TokenTarget(const std::string& ak = "sim-ak", const std::string& sk = "sim-sk") {
  return "/oauth/2.0/token?grant_type=client_credentials&client_id=" + ak + "&client_secret=" + sk;
}

std::string FetchToken(uint16_t port) {
  const HttpReply reply = Post(port, TokenTarget(), "");
  return reply.Json().value("access_token", std::string());
}

std::string V1Body(const std::string& prompt, bool stream = false) {
  nlohmann::json body = {{"messages", {{{"role", "user"}, {"content", prompt}}}}};
  if (stream) body["stream"] = true;
  return body.dump();
}

HttpReply V1(uint16_t port, const std::string& token, const std::string& prompt,
             bool stream = false, const std::string& suffix = "completions_pro") {
  return Post(port, kV1Chat + suffix + "?access_token=" + token, V1Body(prompt, stream));
}

TEST(VendorSimQianfanV1, TokenEndpointIssuesADeterministicTokenPerKey) {
  const uint16_t port = SharedSim().port();
  const HttpReply reply = Post(port, TokenTarget(), "");
  ASSERT_EQ(reply.status, 200);
  const nlohmann::json json = reply.Json();
  std::vector<std::string> keys;
  for (auto it = json.begin(); it != json.end(); ++it) keys.push_back(it.key());
  // nlohmann::json sorts keys; the wire order is checked below.
  EXPECT_EQ(reply.body.find(R"({"refresh_token":"25.)"), 0U);
  EXPECT_LT(reply.body.find("\"expires_in\":2592000"), reply.body.find("\"access_token\""));
  EXPECT_EQ(keys, (std::vector<std::string>{"access_token", "expires_in", "refresh_token", "scope",
                                            "session_key", "session_secret"}));
  EXPECT_EQ(json["access_token"].get<std::string>().rfind("24.", 0), 0U);
  EXPECT_EQ(FetchToken(port), json["access_token"]) << "same key, same token";
}

TEST(VendorSimQianfanV1, TokenEndpointRefusesWrongCredentials) {
  const uint16_t port = SharedSim().port();
  const HttpReply bad_ak = Post(port, TokenTarget("nope", "sim-sk"), "");
  EXPECT_EQ(bad_ak.status, 401);
  EXPECT_EQ(bad_ak.body, R"({"error":"invalid_client","error_description":"unknown client id"})");
  const HttpReply bad_sk = Post(port, TokenTarget("sim-ak", "nope"), "");
  EXPECT_EQ(bad_sk.status, 401);
  EXPECT_EQ(bad_sk.body,
            R"({"error":"invalid_client","error_description":"Client authentication failed"})");
  const HttpReply forced = Post(port, TokenTarget(), "", {{"X-Sim-Behavior", "auth-failure"}});
  EXPECT_EQ(forced.status, 401);
}

TEST(VendorSimQianfanV1, NonStreamAnswerUsesResultAndNeedClearHistory) {
  const uint16_t port = SharedSim().port();
  const HttpReply reply = V1(port, FetchToken(port), "hello there");
  ASSERT_EQ(reply.status, 200);
  const std::string id = reply.Json()["id"];
  EXPECT_TRUE(IsQianfanId(id)) << id;
  EXPECT_EQ(ReplaceAll(reply.body, id, "{ID}"),
            R"({"id":"{ID}","object":"chat.completion","created":1767225600,)"
            R"("result":"Echo: hello there","is_truncated":false,"need_clear_history":false,)"
            R"("finish_reason":"normal","usage":{"prompt_tokens":3,"completion_tokens":5,)"
            R"("total_tokens":8}})");
  EXPECT_EQ(reply.Header("X-Ratelimit-Limit-Requests"), "300");
  EXPECT_EQ(reply.Header("X-Ratelimit-Limit-Tokens"), "300000");
  EXPECT_FALSE(reply.HasHeader("X-Ratelimit-Remaining-Requests"));
}

TEST(VendorSimQianfanV1, StreamEndsWithIsEndAndNoDone) {
  const uint16_t port = SharedSim().port();
  const HttpReply reply = V1(port, FetchToken(port), "hello there", true);
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("Content-Type"), "text/event-stream");
  const std::string id = FrameJson(Frames(reply.body)[0])["id"];
  const std::vector<std::string> frames = Frames(ReplaceAll(reply.body, id, "{ID}"));
  ASSERT_EQ(frames.size(), 5U);
  EXPECT_EQ(frames[0],
            R"(data: {"id":"{ID}","object":"chat.completion","created":1767225600,)"
            R"("sentence_id":0,"is_end":false,"is_truncated":false,"result":"Echo",)"
            R"("need_clear_history":false,"usage":{"prompt_tokens":3,"completion_tokens":1,)"
            R"("total_tokens":4}})");
  EXPECT_EQ(frames[4],
            R"(data: {"id":"{ID}","object":"chat.completion","created":1767225600,)"
            R"("sentence_id":4,"is_end":true,"is_truncated":false,"result":"e",)"
            R"("need_clear_history":false,"finish_reason":"normal","usage":{"prompt_tokens":3,)"
            R"("completion_tokens":5,"total_tokens":8}})");
  EXPECT_EQ(reply.body.find("[DONE]"), std::string::npos);
}

TEST(VendorSimQianfanV1, UsageOnlyInTheLastChunkIsAnOption) {
  VendorSimOptions options = TestOptions();
  options.facts.qianfan_v1_cumulative_stream_usage = false;
  options.facts.qianfan_v1_ratelimit_remaining = true;
  VendorSim sim(options);
  ASSERT_TRUE(sim.Start().ok());
  const HttpReply reply = V1(sim.port(), FetchToken(sim.port()), "hello there", true);
  const std::vector<std::string> frames = Frames(reply.body);
  ASSERT_EQ(frames.size(), 5U);
  for (size_t i = 0; i + 1 < frames.size(); ++i) {
    EXPECT_FALSE(FrameJson(frames[i]).contains("usage"));
  }
  EXPECT_EQ(FrameJson(frames[4])["usage"]["completion_tokens"], 5);
  EXPECT_EQ(reply.Header("X-Ratelimit-Remaining-Requests"), "299");
}

TEST(VendorSimQianfanV1, ErrorsAreJsonOnHttp200EvenForStreams) {
  const uint16_t port = SharedSim().port();
  const HttpReply invalid = V1(port, "24.not-a-token", "hi", true);
  EXPECT_EQ(invalid.status, 200);
  EXPECT_EQ(invalid.Header("Content-Type"), "application/json");
  EXPECT_EQ(invalid.body,
            R"({"error_code":110,"error_msg":"Access token invalid or no longer valid"})");
  const std::string token = FetchToken(port);
  EXPECT_EQ(V1(port, token, "hi", false, "no-such-model").body,
            R"({"error_code":336005,"error_msg":"API name not exist"})");
  EXPECT_EQ(V1(port, token, "hi [[sim:rate-limit]]").body,
            R"({"error_code":336501,"error_msg":"Rate limit reached for RPM"})");
  EXPECT_EQ(V1(port, token, "hi [[sim:server-error]]").body,
            R"({"error_code":336000,"error_msg":"Internal error"})");
  EXPECT_EQ(V1(port, token, "hi [[sim:unavailable]]").body,
            R"({"error_code":336100,"error_msg":"Server high load, try again"})");
  EXPECT_EQ(V1(port, token, "hi [[sim:auth-failure]]").body,
            R"({"error_code":110,"error_msg":"Access token invalid or no longer valid"})");
  const HttpReply even =
      Post(port, std::string(kV1Chat) + "completions?access_token=" + token,
           R"({"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]})");
  EXPECT_EQ(even.body,
            R"({"error_code":336003,"error_msg":"the length of messages must be an odd number"})");
}

TEST(VendorSimQianfanV1, ExpiredTokensGet111AndTheNextTokenWorks) {
  VendorSim sim(TestOptions());
  ASSERT_TRUE(sim.Start().ok());
  const std::string first = FetchToken(sim.port());
  EXPECT_EQ(V1(sim.port(), first, "hi").Json()["result"], "Echo: hi");
  sim.ExpireQianfanTokens();
  EXPECT_EQ(V1(sim.port(), first, "hi").body,
            R"({"error_code":111,"error_msg":"Access token expired"})");
  const std::string second = FetchToken(sim.port());
  EXPECT_NE(second, first);
  EXPECT_EQ(V1(sim.port(), second, "hi").Json()["result"], "Echo: hi");
  EXPECT_EQ(FetchToken(sim.port()), second);
}

TEST(VendorSimQianfanV1, TokensExpireAfterTheirLifetime) {
  VendorSimOptions options = TestOptions();
  options.qianfan_token_ttl_s = 1;
  VendorSim sim(options);
  ASSERT_TRUE(sim.Start().ok());
  const HttpReply issued = Post(sim.port(), TokenTarget(), "");
  EXPECT_EQ(issued.Json()["expires_in"], 1);
  const std::string first = issued.Json()["access_token"];
  // Expiry only moves forward, so this wait cannot make the test flaky.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(V1(sim.port(), first, "hi").Json()["error_code"], 111);
  EXPECT_NE(FetchToken(sim.port()), first);
}

TEST(VendorSimQianfanV1, ExpireTokenBehaviorRevokesTheTokenUsedForTheFirstNRequests) {
  VendorSim sim(TestOptions());
  ASSERT_TRUE(sim.Start().ok());
  const std::string prompt = "refresh me [[sim:expire-token]]";
  const std::string first = FetchToken(sim.port());
  EXPECT_EQ(V1(sim.port(), first, prompt).Json()["error_code"], 111);
  const std::string second = FetchToken(sim.port());
  EXPECT_NE(second, first);
  EXPECT_EQ(V1(sim.port(), second, prompt).Json()["result"], "Echo: refresh me");
}

TEST(VendorSimQianfanV1, InputBlockSetsNeedClearHistoryAndBanRound) {
  const uint16_t port = SharedSim().port();
  const std::string token = FetchToken(port);
  const HttpReply reply = V1(port, token, "bad [[sim:input-block]]");
  ASSERT_EQ(reply.status, 200);
  const nlohmann::json json = reply.Json();
  EXPECT_EQ(json["need_clear_history"], true);
  EXPECT_EQ(json["ban_round"], -1);
  EXPECT_EQ(json["flag"], 3);
  EXPECT_EQ(json["result"], "");
  const std::vector<std::string> frames =
      Frames(V1(port, token, "bad [[sim:input-block]]", true).body);
  ASSERT_EQ(frames.size(), 1U);
  EXPECT_EQ(FrameJson(frames[0])["is_end"], true);
  EXPECT_EQ(FrameJson(frames[0])["need_clear_history"], true);
}

TEST(VendorSimQianfanV1, OutputBlockEndsTheStreamWithContentFilter) {
  const uint16_t port = SharedSim().port();
  const HttpReply reply = V1(port, FetchToken(port), "hello there [[sim:output-block]]", true);
  const std::vector<std::string> frames = Frames(reply.body);
  ASSERT_EQ(frames.size(), 3U);
  const nlohmann::json last = FrameJson(frames[2]);
  EXPECT_EQ(last["is_end"], true);
  EXPECT_EQ(last["sentence_id"], 2);
  EXPECT_EQ(last["result"], "");
  EXPECT_EQ(last["finish_reason"], "content_filter");
  EXPECT_EQ(last["flag"], 4);
  EXPECT_EQ(last["need_clear_history"], false);
}

TEST(VendorSimQianfanV1, TruncateStopsBeforeIsEnd) {
  const uint16_t port = SharedSim().port();
  const HttpReply reply = V1(port, FetchToken(port), "hello there [[sim:truncate]]", true);
  const std::vector<std::string> frames = Frames(reply.body);
  ASSERT_EQ(frames.size(), 2U);
  for (const std::string& frame : frames) {
    EXPECT_EQ(FrameJson(frame)["is_end"], false);
  }
}

TEST(VendorSimQianfanV1, EverySuffixInTheTableIsServed) {
  const uint16_t port = SharedSim().port();
  const std::string token = FetchToken(port);
  ASSERT_EQ(QianfanV1Suffixes().size(), 13U);
  for (const auto& [model, suffix] : QianfanV1Suffixes()) {
    EXPECT_EQ(V1(port, token, "hi", false, suffix).Json()["result"], "Echo: hi") << model;
  }
  EXPECT_EQ(QianfanV1Suffixes().front(),
            (std::pair<std::string, std::string>{"ERNIE-4.0-8K", "completions_pro"}));
}

}  // namespace
}  // namespace rg::tools::test
