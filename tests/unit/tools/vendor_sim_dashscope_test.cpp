// rg-vendor-sim, DashScope compatible mode and native text-generation: wire format of every
// behavior (vendor-protocols.md §2).
#include <gtest/gtest.h>

#include "sim_test_client.hpp"

namespace rg::tools::test {
namespace {

constexpr const char* kCompatPath = "/compatible-mode/v1/chat/completions";
constexpr const char* kNativePath = "/api/v1/services/aigc/text-generation/generation";
const Headers kAuth = {{"Authorization", "Bearer sk-sim-dashscope"}};

HttpReply Compat(const std::string& prompt, nlohmann::json extra = nlohmann::json::object(),
                 const Headers& headers = kAuth) {
  return Post(SharedSim().port(), kCompatPath, UserBody("qwen-plus", prompt, std::move(extra)),
              headers);
}

HttpReply CompatStream(const std::string& prompt) {
  return Compat(prompt, {{"stream", true}, {"stream_options", {{"include_usage", true}}}});
}

std::string NativeBody(const std::string& prompt, nlohmann::json parameters = nullptr,
                       const std::string& model = "qwen-plus") {
  nlohmann::json body = {{"model", model},
                         {"input", {{"messages", {{{"role", "user"}, {"content", prompt}}}}}}};
  if (!parameters.is_null()) body["parameters"] = std::move(parameters);
  return body.dump();
}

HttpReply Native(const std::string& prompt, bool sse, nlohmann::json parameters = nullptr,
                 const std::string& model = "qwen-plus", uint16_t port = 0) {
  Headers headers = kAuth;
  if (sse) headers.emplace_back("X-DashScope-SSE", "enable");
  return Post(port != 0 ? port : SharedSim().port(), kNativePath,
              NativeBody(prompt, std::move(parameters), model), headers);
}

// ---- compatible mode ---------------------------------------------------------------------

TEST(VendorSimDashScopeCompat, StreamMatchesTheDocumentedChunksUsageAndDone) {
  const HttpReply reply = CompatStream("hello there");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("Content-Type"), "text/event-stream;charset=UTF-8");
  const std::string rid = reply.Header("x-request-id");
  ASSERT_EQ(rid.size(), 36U);
  const std::vector<std::string> frames = Frames(ReplaceAll(reply.body, rid, "{RID}"));
  ASSERT_EQ(frames.size(), 9U);  // role, 5 pieces, finish, usage, [DONE]
  EXPECT_EQ(frames[0],
            R"(data: {"id":"chatcmpl-{RID}","choices":[{"delta":{"content":"",)"
            R"("function_call":null,"refusal":null,"role":"assistant","tool_calls":null},)"
            R"("finish_reason":null,"index":0,"logprobs":null}],"created":1767225600,)"
            R"("model":"qwen-plus","object":"chat.completion.chunk","service_tier":null,)"
            R"("system_fingerprint":null,"usage":null})");
  EXPECT_EQ(frames[1],
            R"(data: {"id":"chatcmpl-{RID}","choices":[{"delta":{"content":"Echo",)"
            R"("function_call":null,"refusal":null,"role":null,"tool_calls":null},)"
            R"("finish_reason":null,"index":0,"logprobs":null}],"created":1767225600,)"
            R"("model":"qwen-plus","object":"chat.completion.chunk","service_tier":null,)"
            R"("system_fingerprint":null,"usage":null})");
  EXPECT_EQ(frames[6],
            R"(data: {"id":"chatcmpl-{RID}","choices":[{"delta":{"content":"",)"
            R"("function_call":null,"refusal":null,"role":null,"tool_calls":null},)"
            R"("finish_reason":"stop","index":0,"logprobs":null}],"created":1767225600,)"
            R"("model":"qwen-plus","object":"chat.completion.chunk","service_tier":null,)"
            R"("system_fingerprint":null,"usage":null})");
  EXPECT_EQ(frames[7],
            R"(data: {"id":"chatcmpl-{RID}","choices":[],"created":1767225600,)"
            R"("model":"qwen-plus","object":"chat.completion.chunk","service_tier":null,)"
            R"("system_fingerprint":null,"usage":{"completion_tokens":5,"prompt_tokens":3,)"
            R"("total_tokens":8,"completion_tokens_details":null,)"
            R"("prompt_tokens_details":{"audio_tokens":null,"cached_tokens":0}}})");
  EXPECT_EQ(frames[8], "data: [DONE]");
  EXPECT_EQ(reply.raw_body.find("x-ratelimit"), std::string::npos);
  EXPECT_FALSE(reply.HasHeader("x-ratelimit-limit-requests"));
}

TEST(VendorSimDashScopeCompat, NonStreamIdEmbedsTheRequestId) {
  const HttpReply reply = Compat("hello there");
  ASSERT_EQ(reply.status, 200);
  const std::string rid = reply.Header("x-request-id");
  EXPECT_EQ(
      ReplaceAll(reply.body, rid, "{RID}"),
      R"({"id":"chatcmpl-{RID}","choices":[{"finish_reason":"stop","index":0,)"
      R"("logprobs":null,"message":{"content":"Echo: hello there","role":"assistant"}}],)"
      R"("created":1767225600,"model":"qwen-plus","object":"chat.completion",)"
      R"("service_tier":null,"system_fingerprint":null,"usage":{"prompt_tokens":3,)"
      R"("completion_tokens":5,"total_tokens":8,"prompt_tokens_details":{"cached_tokens":0}}})");
  EXPECT_EQ(reply.Header("x-dashscope-call-gateway"), "true");
  EXPECT_EQ(reply.Header("server"), "istio-envoy");
}

TEST(VendorSimDashScopeCompat, InputBlockIsTheObserved400) {
  const HttpReply reply = Compat("bad [[sim:input-block]]");
  EXPECT_EQ(reply.status, 400);
  const std::string rid = reply.Header("x-request-id");
  EXPECT_EQ(ReplaceAll(reply.body, rid, "{RID}"),
            R"({"error":{"code":"data_inspection_failed","param":null,"message":"Input data may )"
            R"(contain inappropriate content.","type":"data_inspection_failed"},)"
            R"("id":"chatcmpl-{RID}","request_id":"{RID}"})");
  EXPECT_EQ(Compat("bad [[sim:input-block]]", {{"stream", true}}).status, 400)
      << "an input block comes before any stream bytes";
}

TEST(VendorSimDashScopeCompat, OutputBlockMidStreamIsAnErrorChunkThenDone) {
  const HttpReply reply = CompatStream("hello there [[sim:output-block]]");
  ASSERT_EQ(reply.status, 200);
  const std::string rid = reply.Header("x-request-id");
  const std::vector<std::string> frames = Frames(ReplaceAll(reply.body, rid, "{RID}"));
  ASSERT_EQ(frames.size(), 5U);  // role, 2 pieces, error, [DONE]
  EXPECT_EQ(frames[3],
            R"(data: {"error":{"code":"data_inspection_failed","param":null,"message":"Output )"
            R"(data may contain inappropriate content.","type":"data_inspection_failed"},)"
            R"("id":"chatcmpl-{RID}"})");
  EXPECT_EQ(frames[4], "data: [DONE]");
  EXPECT_EQ(Compat("hello there [[sim:output-block]]").status, 400);
}

TEST(VendorSimDashScopeCompat, DoneAfterTheErrorChunkIsAnOption) {
  VendorSimOptions options = TestOptions();
  options.facts.dashscope_compat_done_after_error = false;
  options.facts.dashscope_input_block_status = 429;
  VendorSim sim(options);
  ASSERT_TRUE(sim.Start().ok());
  const HttpReply reply =
      Post(sim.port(), kCompatPath,
           UserBody("qwen-plus", "hello there [[sim:output-block]]", {{"stream", true}}), kAuth);
  const std::vector<std::string> frames = Frames(reply.body);
  ASSERT_EQ(frames.size(), 4U);
  EXPECT_EQ(FrameJson(frames.back())["error"]["code"], "data_inspection_failed");
  EXPECT_EQ(
      Post(sim.port(), kCompatPath, UserBody("qwen-plus", "x [[sim:input-block]]"), kAuth).status,
      429);
}

TEST(VendorSimDashScopeCompat, RateLimitIsTheObserved429WithoutRateLimitHeaders) {
  const HttpReply reply = Compat("hi [[sim:rate-limit]]");
  EXPECT_EQ(reply.status, 429);
  EXPECT_EQ(reply.body,
            R"({"error":{"message":"You have exceeded your current request limit. For details, )"
            R"(see: https://help.aliyun.com/zh/model-studio/error-code#rate-limit",)"
            R"("type":"limit_requests","code":"limit_requests"}})");
  EXPECT_FALSE(reply.HasHeader("Retry-After"));
  EXPECT_FALSE(reply.HasHeader("x-ratelimit-remaining-requests"));
  EXPECT_EQ(Compat("hi [[sim:rate-limit:3]]").Header("Retry-After"), "3");
}

TEST(VendorSimDashScopeCompat, AuthServerErrorAndUnavailable) {
  const HttpReply wrong = Compat("hi", {}, {{"Authorization", "Bearer sk-other"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.Json()["error"]["code"], "invalid_api_key");
  EXPECT_EQ(Compat("hi [[sim:auth-failure]]").status, 401);
  const HttpReply server = Compat("hi [[sim:server-error]]");
  EXPECT_EQ(server.status, 500);
  EXPECT_EQ(server.Json()["error"]["code"], "internal_error");
  const HttpReply unavailable = Compat("hi [[sim:unavailable]]");
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_EQ(unavailable.Json()["request_id"], unavailable.Header("x-request-id"));
}

TEST(VendorSimDashScopeCompat, TruncateMalformedAndFlaky) {
  const HttpReply cut = CompatStream("hello there [[sim:truncate]]");
  EXPECT_TRUE(cut.complete);
  EXPECT_EQ(cut.body.find("[DONE]"), std::string::npos);
  EXPECT_EQ(Frames(cut.body).size(), 3U);
  const HttpReply malformed = CompatStream("hello there [[sim:malformed-chunk]]");
  EXPECT_TRUE(FrameJson(Frames(malformed.body)[2]).is_discarded());
  const std::string flaky = "compat flaky [[sim:flaky:1]]";
  EXPECT_EQ(Compat(flaky).status, 503);
  EXPECT_EQ(Compat(flaky).status, 200);
}

// ---- native ------------------------------------------------------------------------------

TEST(VendorSimDashScopeNative, IncrementalStreamUsesNoSpaceFramingAndNoTerminator) {
  const HttpReply reply = Native("hello there", true, {{"incremental_output", true}});
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("Content-Type"), "text/event-stream;charset=UTF-8");
  const std::string rid = reply.Header("x-request-id");
  const std::string body = ReplaceAll(reply.body, rid, "{RID}");
  const auto event = [](int id, const std::string& text, const std::string& finish, int output) {
    return "id:" + std::to_string(id) +
           "\nevent:result\n:HTTP_STATUS/200\ndata:" + R"({"output":{"finish_reason":")" + finish +
           R"(","text":")" + text + R"("},"usage":{"total_tokens":)" + std::to_string(3 + output) +
           R"(,"output_tokens":)" + std::to_string(output) +
           R"(,"input_tokens":3},"request_id":"{RID}"})" + "\n\n";
  };
  EXPECT_EQ(body, event(1, "Echo", "null", 1) + event(2, ": he", "null", 2) +
                      event(3, "llo ", "null", 3) + event(4, "ther", "null", 4) +
                      event(5, "e", "null", 5) + event(6, "", "stop", 5));
  EXPECT_TRUE(reply.complete);
}

TEST(VendorSimDashScopeNative, NonIncrementalStreamRepeatsTheWholeTextSoFar) {
  // qwen-plus defaults to incremental_output=false and result_format=text.
  const HttpReply reply = Native("hello there", true);
  std::vector<std::string> texts;
  for (const std::string& frame : Frames(reply.body)) {
    texts.push_back(FrameJson(frame)["output"]["text"]);
  }
  EXPECT_EQ(texts, (std::vector<std::string>{"Echo", "Echo: he", "Echo: hello ", "Echo: hello ther",
                                             "Echo: hello there", "Echo: hello there"}));
}

TEST(VendorSimDashScopeNative, MessageFormatStreamAndAcceptHeaderSwitch) {
  const HttpReply reply =
      Post(SharedSim().port(), kNativePath,
           NativeBody("hello there", {{"result_format", "message"}, {"incremental_output", true}}),
           {{"Authorization", "Bearer sk-sim-dashscope"}, {"Accept", "text/event-stream"}});
  const std::string rid = reply.Header("x-request-id");
  const std::vector<std::string> frames = Frames(ReplaceAll(reply.body, rid, "{RID}"));
  ASSERT_EQ(frames.size(), 6U);
  EXPECT_EQ(frames[0],
            "id:1\nevent:result\n:HTTP_STATUS/200\n"
            R"(data:{"output":{"choices":[{"message":{"content":"Echo","role":"assistant"},)"
            R"("finish_reason":"null"}]},"usage":{"total_tokens":4,"output_tokens":1,)"
            R"("input_tokens":3},"request_id":"{RID}"})");
  EXPECT_EQ(FrameJson(frames[5])["output"]["choices"][0]["finish_reason"], "stop");
}

TEST(VendorSimDashScopeNative, NonStreamTextAndMessageFormats) {
  const HttpReply text = Native("hello there", false);
  std::string rid = text.Header("x-request-id");
  EXPECT_EQ(
      ReplaceAll(text.body, rid, "{RID}"),
      R"({"output":{"finish_reason":"stop","text":"Echo: hello there"},)"
      R"("usage":{"total_tokens":8,"output_tokens":5,"input_tokens":3},"request_id":"{RID}"})");
  EXPECT_EQ(text.Header("x-dashscope-finished"), "true");
  const HttpReply message = Native("hello there", false, {{"result_format", "message"}});
  rid = message.Header("x-request-id");
  EXPECT_EQ(ReplaceAll(message.body, rid, "{RID}"),
            R"({"output":{"choices":[{"finish_reason":"stop","message":{"role":"assistant",)"
            R"("content":"Echo: hello there"}}]},"usage":{"total_tokens":8,"output_tokens":5,)"
            R"("input_tokens":3},"request_id":"{RID}"})");
  // Qwen3-Max defaults to the message format.
  EXPECT_TRUE(Native("hi", false, nullptr, "qwen3-max").Json()["output"].contains("choices"));
}

TEST(VendorSimDashScopeNative, OutputBlockIsAnEventErrorFrameAfterPartialText) {
  const HttpReply reply =
      Native("hello there [[sim:output-block]]", true, {{"incremental_output", true}});
  ASSERT_EQ(reply.status, 200);
  const std::string rid = reply.Header("x-request-id");
  const std::vector<std::string> frames = Frames(ReplaceAll(reply.body, rid, "{RID}"));
  ASSERT_EQ(frames.size(), 3U);
  EXPECT_EQ(FrameJson(frames[1])["output"]["text"], ": he");
  EXPECT_EQ(frames[2],
            "id:3\nevent:error\n:HTTP_STATUS/400\n"
            R"(data:{"code":"DataInspectionFailed","message":"Output data may contain )"
            R"(inappropriate content.","request_id":"{RID}"})");
}

TEST(VendorSimDashScopeNative, InputBlockBeforeStreamingIsAnEventErrorOrA400) {
  const HttpReply sse = Native("bad [[sim:input-block]]", true);
  EXPECT_EQ(sse.status, 200);
  EXPECT_EQ(sse.Header("x-dashscope-finished"), "true");
  const std::string rid = sse.Header("x-request-id");
  EXPECT_EQ(ReplaceAll(sse.body, rid, "{RID}"),
            "id:1\nevent:error\n:HTTP_STATUS/400\n"
            R"(data:{"code":"DataInspectionFailed","message":"Input data may contain )"
            R"(inappropriate content.","request_id":"{RID}"})"
            "\n\n");
  const HttpReply plain = Native("bad [[sim:input-block]]", false);
  EXPECT_EQ(plain.status, 400);
  EXPECT_EQ(ReplaceAll(plain.body, plain.Header("x-request-id"), "{RID}"),
            R"({"code":"DataInspectionFailed","message":"Input data may contain inappropriate )"
            R"(content.","request_id":"{RID}"})");

  VendorSimOptions options = TestOptions();
  options.facts.dashscope_native_sse_errors_as_events = false;
  VendorSim sim(options);
  ASSERT_TRUE(sim.Start().ok());
  const HttpReply http = Native("bad [[sim:input-block]]", true, nullptr, "qwen-plus", sim.port());
  EXPECT_EQ(http.status, 400);
  EXPECT_EQ(http.Json()["code"], "DataInspectionFailed");
}

TEST(VendorSimDashScopeNative, WrongKeyIsAPlain401EvenWhenStreaming) {
  const HttpReply reply =
      Post(SharedSim().port(), kNativePath, NativeBody("hi"),
           {{"Authorization", "Bearer sk-nope"}, {"X-DashScope-SSE", "enable"}});
  EXPECT_EQ(reply.status, 401);
  EXPECT_EQ(
      ReplaceAll(reply.body, reply.Header("x-request-id"), "{RID}"),
      R"({"code":"InvalidApiKey","message":"Invalid API-key provided.","request_id":"{RID}"})");
}

TEST(VendorSimDashScopeNative, RateLimitServerErrorAndUnavailable) {
  const HttpReply limited = Native("hi [[sim:rate-limit]]", false);
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.Json()["code"], "Throttling.RateQuota");
  EXPECT_FALSE(limited.HasHeader("Retry-After"));
  const HttpReply limited_sse = Native("hi [[sim:rate-limit]]", true);
  EXPECT_EQ(limited_sse.status, 200);
  EXPECT_EQ(limited_sse.body.rfind("id:1\nevent:error\n:HTTP_STATUS/429\ndata:{", 0), 0U);
  EXPECT_EQ(Native("hi [[sim:server-error]]", false).Json()["code"], "InternalError");
  EXPECT_EQ(Native("hi [[sim:server-error]]", false).status, 500);
  EXPECT_EQ(Native("hi [[sim:unavailable]]", false).status, 503);
}

TEST(VendorSimDashScopeNative, TruncateDropsTheFinalEvent) {
  const HttpReply cut =
      Native("hello there [[sim:truncate]]", true, {{"incremental_output", true}});
  const std::vector<std::string> frames = Frames(cut.body);
  ASSERT_EQ(frames.size(), 2U);
  for (const std::string& frame : frames) {
    EXPECT_EQ(FrameJson(frame)["output"]["finish_reason"], "null");
  }
  const HttpReply aborted = Native("hello there [[sim:truncate:abort]]", true);
  EXPECT_FALSE(aborted.complete);
}

TEST(VendorSimDashScopeNative, RequestShapeErrors) {
  const uint16_t port = SharedSim().port();
  const HttpReply top_level =
      Post(port, kNativePath,
           R"({"model":"qwen-plus","messages":[{"role":"user","content":"hi"}]})", kAuth);
  EXPECT_EQ(top_level.status, 400);
  EXPECT_EQ(top_level.Json()["code"], "InvalidParameter");
  EXPECT_EQ(top_level.Json()["message"],
            "Either \"prompt\" or \"messages\" must exist and cannot both be none");
  EXPECT_EQ(Post(port, kNativePath, R"({"input":{"prompt":"hi"}})", kAuth).Json()["code"],
            "BadRequest.EmptyModel");
  EXPECT_EQ(Post(port, kNativePath, R"({"model":"qwen-plus"})", kAuth).Json()["code"],
            "BadRequest.EmptyInput");
  const HttpReply legacy =
      Post(port, kNativePath, R"({"model":"qwen-plus","input":{"prompt":"old style"}})", kAuth);
  EXPECT_EQ(legacy.Json()["output"]["text"], "Echo: old style");
}

}  // namespace
}  // namespace rg::tools::test
