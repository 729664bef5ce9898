// rg-vendor-sim, OpenAI chat completions: wire format of every behavior (vendor-protocols.md §1).
#include <gtest/gtest.h>

#include "sim_test_client.hpp"

namespace rg::tools::test {
namespace {

constexpr const char* kPath = "/v1/chat/completions";
const Headers kAuth = {{"Authorization", "Bearer sk-sim-openai"}};

HttpReply Chat(const std::string& prompt, nlohmann::json extra = nlohmann::json::object(),
               const Headers& headers = kAuth, const std::string& model = "gpt-4o") {
  return Post(SharedSim().port(), kPath, UserBody(model, prompt, std::move(extra)), headers);
}

HttpReply Stream(const std::string& prompt, bool include_usage = true) {
  nlohmann::json extra = {{"stream", true}};
  if (include_usage) extra["stream_options"] = {{"include_usage", true}};
  return Chat(prompt, extra);
}

const char* kUsage = R"({"prompt_tokens":3,"completion_tokens":5,"total_tokens":8,)"
                     R"("prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},)"
                     R"("completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,)"
                     R"("accepted_prediction_tokens":0,"rejected_prediction_tokens":0}})";

TEST(VendorSimOpenAi, NonStreamAnswerHasTheChatCompletionShape) {
  const HttpReply reply = Chat("hello there");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("Content-Type"), "application/json");
  const nlohmann::json json = reply.Json();
  const std::string id = json["id"];
  const std::string fingerprint = json["system_fingerprint"];
  EXPECT_EQ(id.rfind("chatcmpl-", 0), 0U);
  EXPECT_EQ(fingerprint.rfind("fp_", 0), 0U);
  EXPECT_EQ(ReplaceAll(ReplaceAll(reply.body, id, "{ID}"), fingerprint, "{FP}"),
            std::string(R"({"id":"{ID}","object":"chat.completion","created":1767225600,)"
                        R"("model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant",)"
                        R"("content":"Echo: hello there","refusal":null,"annotations":[]},)"
                        R"("logprobs":null,"finish_reason":"stop"}],"usage":)") +
                kUsage + R"(,"service_tier":"default","system_fingerprint":"{FP}"})");
}

TEST(VendorSimOpenAi, ResponseHeadersCarryRequestIdAndRateLimits) {
  const HttpReply reply = Chat("headers please");
  ASSERT_EQ(reply.status, 200);
  const std::string request_id = reply.Header("x-request-id");
  ASSERT_EQ(request_id.size(), 36U);
  EXPECT_EQ(request_id.rfind("req_", 0), 0U);
  EXPECT_EQ(reply.Header("openai-version"), "2020-10-01");
  EXPECT_EQ(reply.Header("access-control-expose-headers"), "X-Request-ID");
  EXPECT_EQ(reply.Header("x-ratelimit-limit-requests"), "500");
  EXPECT_EQ(reply.Header("x-ratelimit-remaining-requests"), "499");
  EXPECT_EQ(reply.Header("x-ratelimit-limit-tokens"), "30000");
  EXPECT_TRUE(reply.HasHeader("x-ratelimit-remaining-tokens"));
  EXPECT_EQ(reply.Header("x-ratelimit-reset-requests"), "6ms");
  EXPECT_EQ(reply.Header("x-ratelimit-reset-tokens"), "40ms");
}

TEST(VendorSimOpenAi, StreamUsesDataSpaceFramingUsageChunkAndDone) {
  const HttpReply reply = Stream("hello there");
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.Header("Content-Type"), "text/event-stream; charset=utf-8");
  EXPECT_TRUE(reply.chunked);
  EXPECT_TRUE(reply.complete);
  const std::vector<std::string> frames = Frames(reply.body);
  // role, 5 text pieces, finish, usage, [DONE]
  ASSERT_EQ(frames.size(), 9U);
  EXPECT_EQ(frames.back(), "data: [DONE]");
  std::string text;
  for (size_t i = 0; i + 1 < frames.size(); ++i) {
    ASSERT_EQ(frames[i].rfind("data: {", 0), 0U) << frames[i];
    const nlohmann::json chunk = FrameJson(frames[i]);
    ASSERT_FALSE(chunk.is_discarded()) << frames[i];
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    EXPECT_EQ(chunk["id"], FrameJson(frames[0])["id"]);
    EXPECT_TRUE(chunk.contains("obfuscation"));
    if (i + 2 < frames.size()) {
      EXPECT_TRUE(chunk["usage"].is_null()) << "only the extra chunk carries usage";
      if (chunk["choices"][0]["delta"].contains("content")) {
        text += chunk["choices"][0]["delta"]["content"].get<std::string>();
      }
    }
  }
  EXPECT_EQ(text, "Echo: hello there");
  const nlohmann::json first = FrameJson(frames[0]);
  EXPECT_EQ(first["choices"][0]["delta"].dump(),
            R"({"content":"","refusal":null,"role":"assistant"})");
  const nlohmann::json finish = FrameJson(frames[6]);
  EXPECT_EQ(finish["choices"][0]["delta"].dump(), "{}");
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "stop");
  const nlohmann::json usage = FrameJson(frames[7]);
  EXPECT_EQ(usage["choices"].dump(), "[]");
  EXPECT_EQ(usage["usage"].dump(), nlohmann::json::parse(kUsage).dump());
}

TEST(VendorSimOpenAi, StreamChunkBytesFollowTheObservedKeyOrder) {
  const HttpReply reply = Stream("hello there");
  const std::vector<std::string> frames = Frames(reply.body);
  ASSERT_GE(frames.size(), 3U);
  const nlohmann::json chunk = FrameJson(frames[1]);
  const std::string id = chunk["id"];
  const std::string fingerprint = chunk["system_fingerprint"];
  const std::string padding = chunk["obfuscation"];
  EXPECT_EQ(ReplaceAll(ReplaceAll(ReplaceAll(frames[1], id, "{ID}"), fingerprint, "{FP}"),
                       "\"" + padding + "\"", "\"{PAD}\""),
            R"(data: {"id":"{ID}","object":"chat.completion.chunk","created":1767225600,)"
            R"("model":"gpt-4o","service_tier":"default","system_fingerprint":"{FP}",)"
            R"("choices":[{"index":0,"delta":{"content":"Echo"},"logprobs":null,)"
            R"("finish_reason":null}],"usage":null,"obfuscation":"{PAD}"})");
}

TEST(VendorSimOpenAi, StreamWithoutIncludeUsageHasNoUsageKeyAndNoUsageChunk) {
  const HttpReply reply = Stream("hello there", /*include_usage=*/false);
  const std::vector<std::string> frames = Frames(reply.body);
  ASSERT_EQ(frames.size(), 8U);
  for (size_t i = 0; i + 1 < frames.size(); ++i) {
    EXPECT_FALSE(FrameJson(frames[i]).contains("usage")) << frames[i];
  }
  EXPECT_EQ(frames.back(), "data: [DONE]");
}

TEST(VendorSimOpenAi, IncludeObfuscationFalseRemovesThePadding) {
  const HttpReply reply =
      Chat("hello there", {{"stream", true}, {"stream_options", {{"include_obfuscation", false}}}});
  for (const std::string& frame : Frames(reply.body)) {
    if (frame != "data: [DONE]") {
      EXPECT_FALSE(FrameJson(frame).contains("obfuscation"));
    }
  }
}

TEST(VendorSimOpenAi, MaxTokensIsRejectedForReasoningModelsWithTheObservedError) {
  for (const std::string model : {"gpt-5", "o3-mini", "o4-mini", "gpt-5.4-mini"}) {
    const HttpReply reply = Chat("hi", {{"max_tokens", 10}}, kAuth, model);
    EXPECT_EQ(reply.status, 400) << model;
    EXPECT_EQ(reply.body,
              R"({"error":{"message":"Unsupported parameter: 'max_tokens' is not supported with )"
              R"(this model. Use 'max_completion_tokens' instead.","type":"invalid_request_error",)"
              R"("param":"max_tokens","code":"unsupported_parameter"}})")
        << model;
  }
  for (const std::string model : {"gpt-4o", "gpt-4.1", "gpt-5-chat-latest"}) {
    EXPECT_EQ(Chat("hi", {{"max_tokens", 10}}, kAuth, model).status, 200) << model;
  }
  EXPECT_EQ(Chat("hi", {{"max_completion_tokens", 10}}, kAuth, "gpt-5").status, 200);
}

TEST(VendorSimOpenAi, ReverseMarkerEchoesThePromptBackwardsByCharacter) {
  const nlohmann::json json = Chat("[[sim:reverse]] 词禁ab").Json();
  EXPECT_EQ(json["choices"][0]["message"]["content"], "Echo: ba禁词");
}

TEST(VendorSimOpenAi, MaxCompletionTokensCutsTheAnswerWithFinishReasonLength) {
  const nlohmann::json json = Chat("a long prompt here", {{"max_completion_tokens", 2}}).Json();
  EXPECT_EQ(json["choices"][0]["message"]["content"], "Echo: a ");
  EXPECT_EQ(json["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(json["usage"]["completion_tokens"], 2);
}

TEST(VendorSimOpenAi, WrongOrMissingKeyGets401InTheOpenAiEnvelope) {
  const HttpReply wrong = Chat("hi", {}, {{"Authorization", "Bearer sk-wrong-key-123456"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.body,
            R"({"error":{"message":"Incorrect API key provided: sk-************3456. You can )"
            R"(find your API key at https://platform.openai.com/account/api-keys.",)"
            R"("type":"invalid_request_error","param":null,"code":"invalid_api_key"}})");
  const HttpReply missing = Chat("hi", {}, {});
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.Json()["error"]["message"].get<std::string>().rfind(
                "You didn't provide an API key.", 0),
            0U);
  const HttpReply forced = Chat("hi [[sim:auth-failure]]");
  EXPECT_EQ(forced.status, 401);
  EXPECT_EQ(forced.Json()["error"]["code"], "invalid_api_key");
}

TEST(VendorSimOpenAi, InputBlockIsTheObservedInvalidPrompt400) {
  const HttpReply reply = Chat("bad words [[sim:input-block]]");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body,
            R"({"error":{"message":"Invalid prompt: your prompt was flagged as potentially )"
            R"(violating our usage policy. Please try again with a different prompt: )"
            R"(https://platform.openai.com/docs/guides/reasoning#advice-on-prompting",)"
            R"("type":"invalid_request_error","param":null,"code":"invalid_prompt"}})");
  EXPECT_EQ(reply.Header("x-request-id").rfind("req_", 0), 0U);
}

TEST(VendorSimOpenAi, OutputBlockStreamsPartialTextThenContentFilter) {
  const HttpReply reply = Stream("hello there [[sim:output-block]]");
  ASSERT_EQ(reply.status, 200);
  const std::vector<std::string> frames = Frames(reply.body);
  // role, 2 of 5 pieces, finish, usage, [DONE]
  ASSERT_EQ(frames.size(), 6U);
  EXPECT_EQ(FrameJson(frames[1])["choices"][0]["delta"]["content"], "Echo");
  EXPECT_EQ(FrameJson(frames[2])["choices"][0]["delta"]["content"], ": he");
  EXPECT_EQ(FrameJson(frames[3])["choices"][0]["finish_reason"], "content_filter");
  EXPECT_EQ(FrameJson(frames[4])["usage"]["completion_tokens"], 2);
  EXPECT_EQ(frames[5], "data: [DONE]");

  const nlohmann::json plain = Chat("hello there [[sim:output-block]]").Json();
  EXPECT_EQ(plain["choices"][0]["message"]["content"], "Echo: he");
  EXPECT_EQ(plain["choices"][0]["finish_reason"], "content_filter");
}

TEST(VendorSimOpenAi, RefusalComesBackInMessageRefusal) {
  const nlohmann::json plain = Chat("hi [[sim:refusal]]").Json();
  EXPECT_TRUE(plain["choices"][0]["message"]["content"].is_null());
  EXPECT_EQ(plain["choices"][0]["message"]["refusal"], "I'm sorry, but I can't help with that.");
  const std::vector<std::string> frames = Frames(Stream("hi [[sim:refusal]]").body);
  EXPECT_EQ(FrameJson(frames[1])["choices"][0]["delta"].dump(), R"({"refusal":"I'm "})");
}

TEST(VendorSimOpenAi, RateLimitIs429WithHeadersAndRetryAfter) {
  const HttpReply reply = Chat("hi [[sim:rate-limit]]");
  EXPECT_EQ(reply.status, 429);
  EXPECT_EQ(reply.Header("retry-after"), "1");
  EXPECT_EQ(reply.Header("x-ratelimit-remaining-requests"), "0");
  EXPECT_EQ(reply.Header("x-ratelimit-limit-requests"), "500");
  EXPECT_EQ(reply.body,
            R"({"error":{"message":"Rate limit reached for gpt-4o in organization org-sim on )"
            R"(requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 1s. )"
            R"(Visit https://platform.openai.com/account/rate-limits to learn more.",)"
            R"("type":"requests","param":null,"code":"rate_limit_exceeded"}})");
  EXPECT_EQ(Chat("hi [[sim:rate-limit:7]]").Header("retry-after"), "7");
}

TEST(VendorSimOpenAi, RetryAfterCanBeSwitchedOff) {
  VendorSimOptions options = TestOptions();
  options.facts.openai_retry_after_s = -1;
  VendorSim sim(options);
  ASSERT_TRUE(sim.Start().ok());
  const HttpReply reply =
      Post(sim.port(), kPath, UserBody("gpt-4o", "hi [[sim:rate-limit]]"), kAuth);
  EXPECT_EQ(reply.status, 429);
  EXPECT_FALSE(reply.HasHeader("retry-after"));
}

TEST(VendorSimOpenAi, ServerErrorAndUnavailableUseTheErrorEnvelope) {
  const HttpReply server = Chat("hi [[sim:server-error]]");
  EXPECT_EQ(server.status, 500);
  EXPECT_EQ(server.body,
            R"({"error":{"message":"The server had an error while processing your request. )"
            R"(Sorry about that!","type":"server_error","param":null,"code":null}})");
  const HttpReply unavailable = Chat("hi [[sim:unavailable]]");
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_EQ(unavailable.body,
            R"({"error":{"message":"The engine is currently overloaded, please try again later",)"
            R"("type":"service_unavailable_error","param":null,"code":"server_is_overloaded"}})");
}

TEST(VendorSimOpenAi, TruncateEndsTheBodyBeforeFinishAndDone) {
  const HttpReply clean = Stream("hello there [[sim:truncate]]");
  EXPECT_EQ(clean.status, 200);
  EXPECT_TRUE(clean.complete) << "a clean cut ends the chunked body properly";
  EXPECT_EQ(clean.Header("Connection"), "close");
  const std::vector<std::string> frames = Frames(clean.body);
  ASSERT_EQ(frames.size(), 3U);  // role + 2 pieces
  EXPECT_EQ(clean.body.find("[DONE]"), std::string::npos);
  EXPECT_EQ(clean.body.find("finish_reason\":\"stop"), std::string::npos);

  const HttpReply aborted = Stream("hello there [[sim:truncate:abort]]");
  EXPECT_FALSE(aborted.complete) << "an abort leaves the chunked body unterminated";
  EXPECT_EQ(Frames(aborted.body).size(), 3U);

  const HttpReply plain = Chat("hello there [[sim:truncate]]");
  EXPECT_FALSE(plain.complete);
  EXPECT_LT(plain.body.size(), std::stoul(plain.Header("Content-Length")));
}

TEST(VendorSimOpenAi, MalformedChunkSendsOneFrameThatIsNotJson) {
  const HttpReply reply = Stream("hello there [[sim:malformed-chunk]]");
  EXPECT_TRUE(reply.complete);
  int broken = 0;
  for (const std::string& frame : Frames(reply.body)) {
    if (frame != "data: [DONE]" && FrameJson(frame).is_discarded()) ++broken;
  }
  EXPECT_EQ(broken, 1);
  EXPECT_TRUE(Chat("hello there [[sim:malformed-chunk]]").Json().is_discarded());
}

TEST(VendorSimOpenAi, SlowFirstByteAndStallStillDeliverTheWholeAnswer) {
  const HttpReply slow = Stream("hello there [[sim:slow-first-byte:20]]");
  const HttpReply stall = Stream("hello there [[sim:stall:20]]");
  const HttpReply normal = Stream("hello there");
  EXPECT_EQ(Frames(slow.body).size(), Frames(normal.body).size());
  EXPECT_EQ(Frames(stall.body).size(), Frames(normal.body).size());
  EXPECT_TRUE(stall.complete);
  EXPECT_EQ(Chat("hello there [[sim:stall:20]]").Json()["choices"][0]["message"]["content"],
            "Echo: hello there");
}

TEST(VendorSimOpenAi, FlakyFailsTheFirstNRequestsWithTheSamePrompt) {
  const std::string prompt = "openai flaky prompt [[sim:flaky:2]]";
  EXPECT_EQ(Chat(prompt).status, 503);
  EXPECT_EQ(Chat(prompt).status, 503);
  EXPECT_EQ(Chat(prompt).status, 200);
  EXPECT_EQ(Chat(prompt).status, 200);
}

TEST(VendorSimOpenAi, BehaviorHeaderAppliesWhenThePromptHasNoMarker) {
  Headers headers = kAuth;
  headers.emplace_back("X-Sim-Behavior", "server-error");
  EXPECT_EQ(Chat("hi", {}, headers).status, 500);
  EXPECT_EQ(Chat("hi [[sim:normal]]", {}, headers).status, 200) << "the marker wins";
}

TEST(VendorSimOpenAi, UnknownBehaviorIsRefusedWithTheKnownList) {
  const HttpReply reply = Chat("hi [[sim:explode]]");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(
      reply.Json()["error"]["message"],
      "marker [[sim:explode]]: unknown simulator behavior 'explode' (known: normal, "
      "input-block, output-block, rate-limit, server-error, unavailable, auth-failure, "
      "slow-first-byte, stall, truncate, malformed-chunk, flaky, refusal, expire-token, reverse)");
  EXPECT_EQ(reply.Json()["error"]["code"], "sim_bad_behavior");
}

TEST(VendorSimOpenAi, RequestValidationErrors) {
  const uint16_t port = SharedSim().port();
  EXPECT_EQ(Post(port, kPath, "{not json", kAuth).Json()["error"]["type"], "invalid_request_error");
  EXPECT_EQ(Post(port, kPath, R"({"messages":[]})", kAuth).Json()["error"]["message"],
            "you must provide a model parameter");
  const HttpReply no_messages = Post(port, kPath, R"({"model":"gpt-4o"})", kAuth);
  EXPECT_EQ(no_messages.status, 400);
  EXPECT_EQ(no_messages.Json()["error"]["code"], "missing_required_parameter");
  EXPECT_EQ(Chat("hi", {{"stream_options", {{"include_usage", true}}}}).status, 400);
}

}  // namespace
}  // namespace rg::tools::test
