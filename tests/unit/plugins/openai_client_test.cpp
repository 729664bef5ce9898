// OpenAI client against canned vendor bytes (shapes from vendor-protocols.md §1): request
// building, answers and streams to canonical events, usage, finish reasons, content
// blocks, errors with their details, truncation, malformed chunks and cancellation.
#include "openai_client.hpp"

#include <gtest/gtest.h>

#include "fake_host.hpp"
#include "manifest_check.hpp"

namespace rg::plugins::openai {
namespace {

using nlohmann::json;
using test::Canned;
using test::DataFrames;
using test::FinalOf;
using test::TextOf;

const json kConfig = {
    {"settings", {{"api_key_secret", "OPENAI_API_KEY"}}},
    {"endpoints",
     {{"global", {{"id", "global"}, {"kind", "inference"}, {"data_region", "GLOBAL"}}},
      {"eu", {{"id", "eu"}, {"kind", "inference"}, {"data_region", "EU"}}},
      {"us", {{"id", "us"}, {"kind", "inference"}, {"data_region", "US"}}}}}};

json Request(bool stream, const std::string& model = "gpt-4o") {
  return {{"model", model},
          {"messages", json::array({{{"role", "user"}, {"content", "hello"}}})},
          {"stream", stream}};
}

// Verbatim shapes: first chunk with role, content chunks, empty delta with finish_reason,
// the include_usage chunk with choices:[], then [DONE].
std::string Chunk(const std::string& delta, const std::string& finish = "null") {
  return R"({"id":"chatcmpl-X","object":"chat.completion.chunk","created":1,"model":"gpt-4o",)"
         R"("service_tier":"default","system_fingerprint":null,"choices":[{"index":0,"delta":)" +
         delta + R"(,"logprobs":null,"finish_reason":)" + finish +
         R"(}],"usage":null,)"
         R"("obfuscation":"ab"})";
}
const std::string kUsageChunk =
    R"({"id":"chatcmpl-X","object":"chat.completion.chunk","created":1,"model":"gpt-4o",)"
    R"("choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}})";

std::string NormalStream() {
  return DataFrames({Chunk(R"({"role":"assistant","content":"","refusal":null})"),
                     Chunk(R"({"content":"Hel"})"), Chunk(R"({"content":"lo, 世界"})"),
                     Chunk("{}", R"("stop")"), kUsageChunk, "[DONE]"});
}

const std::string kAnswer =
    R"({"id":"chatcmpl-X","object":"chat.completion","created":1,"model":"gpt-4o",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hello, 世界","refusal":null,)"
    R"("annotations":[]},"logprobs":null,"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21},)"
    R"("service_tier":"default","system_fingerprint":"fp_1"})";

const sdk::Headers kRequestId = {{"x-request-id", "req_abc"}};

class OpenAiClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_.secrets["OPENAI_API_KEY"] = "sk-test-secret";
    sdk::Status status;
    client_ = Client::Create(fake_.host(), kConfig, &status);
    ASSERT_TRUE(client_) << status.message;
  }

  std::vector<test::Seen> Run(const json& request, const std::string& endpoint = "global",
                              int stop_after_texts = -1) {
    return fake_.Complete(*client_, request, endpoint, stop_after_texts);
  }

  test::FakeHost fake_;
  std::unique_ptr<sdk::Instance> client_;
};

TEST(OpenAiManifestTest, DescriptionAndSettingsMatchPluginYaml) {
  test::ExpectManifestMatchesCode("openai", kVendor, kDescriptionJson, SettingsTable());
}

TEST(OpenAiMaxTokensTest, ReasoningFamiliesUseMaxCompletionTokens) {
  using sdk::openai_compat::MaxTokensKey;
  EXPECT_EQ(MaxTokensKeyFor("gpt-4o"), MaxTokensKey::kMaxTokens);
  EXPECT_EQ(MaxTokensKeyFor("gpt-4o-mini"), MaxTokensKey::kMaxTokens);
  EXPECT_EQ(MaxTokensKeyFor("gpt-4.1"), MaxTokensKey::kMaxTokens);
  EXPECT_EQ(MaxTokensKeyFor("o4-mini"), MaxTokensKey::kMaxCompletionTokens);
  EXPECT_EQ(MaxTokensKeyFor("o3"), MaxTokensKey::kMaxCompletionTokens);
  EXPECT_EQ(MaxTokensKeyFor("gpt-5"), MaxTokensKey::kMaxCompletionTokens);
  EXPECT_EQ(MaxTokensKeyFor("gpt-5-mini-2025-08-07"), MaxTokensKey::kMaxCompletionTokens);
  EXPECT_EQ(MaxTokensKeyFor("ft:o4-mini:org:x"), MaxTokensKey::kMaxCompletionTokens);
  EXPECT_EQ(MaxTokensKeyFor("omni-moderation"), MaxTokensKey::kMaxTokens);
}

TEST_F(OpenAiClientTest, SendsChatCompletionWithAuthAndPassThrough) {
  sdk::Status status;
  auto client = Client::Create(fake_.host(),
                               {{"settings", {{"organization", "org-1"}, {"project", "proj-1"}}},
                                {"endpoints", kConfig["endpoints"]}},
                               &status);
  ASSERT_TRUE(client);
  fake_.Enqueue(test::Json(200, kAnswer));
  json request = Request(false);
  request["max_tokens"] = 50;
  request["seed"] = 7;
  request["stream_options"] = {{"include_usage", true}};  // invalid without stream: dropped
  fake_.Complete(*client, request, "eu");

  ASSERT_EQ(fake_.sent.size(), 1u);
  const test::Sent& sent = fake_.sent[0];
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.endpoint_id, "eu");
  EXPECT_EQ(sent.path, "/v1/chat/completions");
  EXPECT_EQ(sent.Header("Authorization"), "Bearer sk-test-secret");
  EXPECT_EQ(sent.Header("OpenAI-Organization"), "org-1");
  EXPECT_EQ(sent.Header("OpenAI-Project"), "proj-1");
  EXPECT_EQ(sent.Header("Content-Type"), "application/json");
  const json body = sent.Json();
  EXPECT_EQ(body["model"], "gpt-4o");
  EXPECT_EQ(body["stream"], false);
  EXPECT_EQ(body["max_tokens"], 50);
  EXPECT_FALSE(body.contains("max_completion_tokens"));
  EXPECT_FALSE(body.contains("stream_options"));
  EXPECT_EQ(body["seed"], 7);
  EXPECT_EQ(body["messages"], Request(false)["messages"]);
}

TEST_F(OpenAiClientTest, RenamesTheTokenLimitPerModelFamily) {
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    for (const auto& [model, expected] :
         std::vector<std::pair<std::string, std::string>>{{"gpt-4o-mini", "max_tokens"},
                                                          {"o4-mini", "max_completion_tokens"},
                                                          {"gpt-5", "max_completion_tokens"}}) {
      fake_.Enqueue(test::Json(200, kAnswer));
      json request = Request(false, model);
      request[key] = 64;
      Run(request);
      const json body = fake_.sent.back().Json();
      EXPECT_EQ(body[expected], 64) << model << " " << key;
      EXPECT_EQ(body.count(expected == "max_tokens" ? "max_completion_tokens" : "max_tokens"), 0u)
          << model << " " << key;
    }
  }
}

TEST_F(OpenAiClientTest, StreamRequestAsksForTheUsageChunk) {
  fake_.Enqueue(test::Sse(NormalStream()));
  Run(Request(true));
  const json body = fake_.sent[0].Json();
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["stream_options"]["include_usage"], true);
  EXPECT_EQ(fake_.sent[0].Header("Accept"), "text/event-stream");
}

TEST_F(OpenAiClientTest, AnswerBecomesTextUsageAndStop) {
  fake_.Enqueue(test::Json(200, kAnswer, kRequestId));
  const auto events = Run(Request(false));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind, RG_EVENT_TEXT_DELTA);
  EXPECT_EQ(events[0].data, "Hello, 世界");
  EXPECT_EQ(events[1].kind, RG_EVENT_USAGE);
  EXPECT_EQ(events[1].Json(),
            json({{"prompt_tokens", 9}, {"completion_tokens", 12}, {"total_tokens", 21}}));
  EXPECT_EQ(events[2].finish, RG_FINISH_STOP);
  EXPECT_EQ(events[2].code, RG_OK);
  EXPECT_EQ(events[2].Json(), json({{"http_status", 200}, {"request_id", "req_abc"}}));
}

TEST_F(OpenAiClientTest, StreamSplitAnywhereBecomesDeltasThenUsageThenStop) {
  fake_.Enqueue(test::Sse(NormalStream(), kRequestId));
  const auto events = Run(Request(true));
  EXPECT_EQ(TextOf(events), "Hello, 世界");
  const auto usages = test::UsagesOf(events);
  ASSERT_EQ(usages.size(), 1u);
  EXPECT_EQ(usages[0]["total_tokens"], 21);
  EXPECT_EQ(events[events.size() - 2].kind, RG_EVENT_USAGE);
  EXPECT_EQ(FinalOf(events).finish, RG_FINISH_STOP);
  EXPECT_EQ(FinalOf(events).code, RG_OK);
  EXPECT_EQ(FinalOf(events).Json()["request_id"], "req_abc");
}

TEST_F(OpenAiClientTest, CrlfFramingParsesTheSame) {
  std::string body = NormalStream();
  std::string crlf;
  for (char c : body) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  fake_.Enqueue(test::Sse(crlf));
  const auto events = Run(Request(true));
  EXPECT_EQ(TextOf(events), "Hello, 世界");
  EXPECT_EQ(FinalOf(events).code, RG_OK);
}

TEST_F(OpenAiClientTest, LengthFinishIsMapped) {
  fake_.Enqueue(test::Sse(DataFrames(
      {Chunk(R"({"content":"cut"})"), Chunk("{}", R"("length")"), kUsageChunk, "[DONE]"})));
  const auto events = Run(Request(true));
  EXPECT_EQ(FinalOf(events).finish, RG_FINISH_LENGTH);
  EXPECT_EQ(FinalOf(events).code, RG_OK);
}

TEST_F(OpenAiClientTest, InvalidPromptBlocksTheInput) {
  fake_.Enqueue(test::Json(
      400,
      R"({"error":{"message":"Invalid prompt: your prompt was flagged as potentially violating our usage policy. Please try again with a different prompt: https://platform.openai.com/docs/guides/reasoning#advice-on-prompting","type":"invalid_request_error","param":null,"code":"invalid_prompt"}})",
      kRequestId));
  const auto events = Run(Request(true));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROVIDER_BLOCKED);
  EXPECT_EQ(FinalOf(events).finish, RG_FINISH_CONTENT_FILTER);
  EXPECT_EQ(FinalOf(events).Json(),
            json({{"blocked", "input"},
                  {"http_status", 400},
                  {"request_id", "req_abc"},
                  {"vendor_code", "invalid_prompt"},
                  {"message",
                   "openai endpoint 'global' blocked the input (invalid_prompt): Invalid prompt: "
                   "your prompt was flagged as potentially violating our usage policy. Please "
                   "try again with a different prompt: "
                   "https://platform.openai.com/docs/guides/reasoning#advice-on-prompting"}}));
}

TEST_F(OpenAiClientTest, ContentFilterAfterPartialTextBlocksTheOutput) {
  fake_.Enqueue(test::Sse(
      DataFrames({Chunk(R"({"role":"assistant","content":""})"), Chunk(R"({"content":"Part"})"),
                  Chunk("{}", R"("content_filter")"), kUsageChunk, "[DONE]"})));
  const auto events = Run(Request(true));
  EXPECT_EQ(TextOf(events), "Part");
  ASSERT_EQ(test::UsagesOf(events).size(), 1u);
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROVIDER_BLOCKED);
  EXPECT_EQ(FinalOf(events).Json()["blocked"], "output");
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "openai endpoint 'global' blocked the output (content_filter): finish_reason "
            "content_filter; the partial answer is incomplete");
}

TEST_F(OpenAiClientTest, ContentFilterInABufferedAnswerBlocksTheOutput) {
  std::string answer = kAnswer;
  answer.replace(answer.find(R"("stop")"), 6, R"("content_filter")");
  fake_.Enqueue(test::Json(200, answer));
  const auto events = Run(Request(false));
  EXPECT_EQ(TextOf(events), "Hello, 世界");
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROVIDER_BLOCKED);
  EXPECT_EQ(FinalOf(events).Json()["blocked"], "output");
}

TEST_F(OpenAiClientTest, RefusalIsAnOutputBlock) {
  fake_.Enqueue(test::Sse(
      DataFrames({Chunk(R"({"role":"assistant","content":null,"refusal":""})"),
                  Chunk(R"({"refusal":"I'm sorry, "})"), Chunk(R"({"refusal":"I can't."})"),
                  Chunk("{}", R"("stop")"), "[DONE]"})));
  const auto events = Run(Request(true));
  EXPECT_EQ(TextOf(events), "");
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROVIDER_BLOCKED);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "openai endpoint 'global' blocked the output (refusal): I'm sorry, I can't.");
}

TEST_F(OpenAiClientTest, RateLimitCarriesRetryAfter) {
  fake_.Enqueue(test::Json(
      429,
      R"({"error":{"message":"Rate limit reached for requests","type":"requests","param":null,"code":"rate_limit_exceeded"}})",
      {{"retry-after", "2"}, {"x-ratelimit-remaining-requests", "0"}, {"x-request-id", "req_1"}}));
  const auto events = Run(Request(false));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_RATE_LIMITED);
  EXPECT_EQ(FinalOf(events).finish, RG_FINISH_ERROR);
  EXPECT_EQ(FinalOf(events).Json(),
            json({{"http_status", 429},
                  {"request_id", "req_1"},
                  {"retry_after_ms", 2000},
                  {"vendor_code", "rate_limit_exceeded"},
                  {"message",
                   "openai endpoint 'global' answered HTTP 429 (rate_limit_exceeded): Rate limit "
                   "reached for requests"}}));
}

TEST_F(OpenAiClientTest, RetryAfterMsWinsOverSeconds) {
  fake_.Enqueue(test::Json(429, R"({"error":{"message":"slow down","type":"tokens","code":null}})",
                           {{"retry-after-ms", "250"}, {"retry-after", "9"}}));
  const auto events = Run(Request(true));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_RATE_LIMITED);
  EXPECT_EQ(FinalOf(events).Json()["retry_after_ms"], 250);
}

TEST_F(OpenAiClientTest, ServerErrorsAreRetryable) {
  fake_.Enqueue(test::Json(
      500,
      R"({"error":{"message":"The server had an error while processing your request. Sorry about that!","type":"server_error","param":null,"code":null}})"));
  fake_.Enqueue(test::Json(
      503,
      R"({"error":{"message":"The engine is currently overloaded, please try again later","type":"service_unavailable_error","param":null,"code":"server_is_overloaded"}})"));
  EXPECT_EQ(FinalOf(Run(Request(true))).code, RG_ERR_RETRYABLE);
  const auto events = Run(Request(false));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_RETRYABLE);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "openai endpoint 'global' answered HTTP 503 (server_is_overloaded): The engine is "
            "currently overloaded, please try again later");
}

TEST_F(OpenAiClientTest, WrongKeyIsAnAuthFailureNamingTheVariable) {
  fake_.Enqueue(test::Json(
      401,
      R"({"error":{"message":"Incorrect API key provided: sk-test-***cret.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})"));
  const auto events = Run(Request(false));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_AUTH);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "openai endpoint 'global' answered HTTP 401 (invalid_api_key): Incorrect API key "
            "provided: sk-test-***cret.; check the key in OPENAI_API_KEY");
}

TEST_F(OpenAiClientTest, MissingCredentialNamesTheVariableAndSendsNothing) {
  fake_.secrets.clear();
  const auto events = Run(Request(false));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_AUTH);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "missing credential: set OPENAI_API_KEY (the secret named by setting "
            "'api_key_secret' of plug-in 'openai')");
  EXPECT_TRUE(fake_.sent.empty());
}

TEST_F(OpenAiClientTest, ConfiguredSecretNameIsUsed) {
  sdk::Status status;
  auto client = Client::Create(
      fake_.host(),
      {{"settings", {{"api_key_secret", "MY_KEY"}}}, {"endpoints", kConfig["endpoints"]}}, &status);
  ASSERT_TRUE(client);
  const auto events = fake_.Complete(*client, Request(false), "global");
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "missing credential: set MY_KEY (the secret named by setting 'api_key_secret' of "
            "plug-in 'openai')");
  fake_.secrets["MY_KEY"] = "sk-mine";
  fake_.Enqueue(test::Json(200, kAnswer));
  fake_.Complete(*client, Request(false), "global");
  EXPECT_EQ(fake_.sent.back().Header("Authorization"), "Bearer sk-mine");
}

TEST_F(OpenAiClientTest, TruncatedStreamIsAnErrorNotAnAnswer) {
  fake_.Enqueue(
      test::Sse(DataFrames({Chunk(R"({"content":"Hel"})"), Chunk(R"({"content":"lo"})")})));
  const auto events = Run(Request(true));
  EXPECT_EQ(TextOf(events), "Hello");
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROTOCOL);
  EXPECT_EQ(FinalOf(events).finish, RG_FINISH_ERROR);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "stream truncated: openai endpoint 'global' ended the stream before data: [DONE]; "
            "the partial answer is incomplete");
}

TEST_F(OpenAiClientTest, StreamCutMidEventByAResetIsTruncated) {
  Canned canned = test::Sse(DataFrames({Chunk(R"({"content":"Hel"})")}) + "data: {\"id\":");
  canned.transport = RG_ERR_PROTOCOL;
  canned.transport_message = "connection closed mid-body";
  fake_.Enqueue(canned);
  const auto events = Run(Request(true));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROTOCOL);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "stream truncated: openai endpoint 'global' ended the stream before data: [DONE] "
            "(connection closed mid-body); the partial answer is incomplete");
}

TEST_F(OpenAiClientTest, FinishReasonWithoutDoneIsStillTruncated) {
  fake_.Enqueue(test::Sse(DataFrames({Chunk(R"({"content":"Hi"})"), Chunk("{}", R"("stop")")})));
  EXPECT_EQ(FinalOf(Run(Request(true))).code, RG_ERR_PROTOCOL);
}

TEST_F(OpenAiClientTest, MalformedChunkIsAProtocolError) {
  fake_.Enqueue(test::Sse(
      DataFrames({Chunk(R"({"content":"Hi"})"), R"({"id":"chatcmpl-X","choices":[{)", "[DONE]"})));
  const auto events = Run(Request(true));
  EXPECT_EQ(TextOf(events), "Hi");
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROTOCOL);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "malformed JSON in a stream chunk from openai endpoint 'global'; the partial answer "
            "is incomplete");
}

TEST_F(OpenAiClientTest, MalformedBodyIsAProtocolError) {
  fake_.Enqueue(test::Json(200, R"({"id":"chatcmpl-X","choices":[)"));
  const auto events = Run(Request(false));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROTOCOL);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "malformed JSON in the response body from openai endpoint 'global'");
}

TEST_F(OpenAiClientTest, ErrorObjectMidStreamFailsTheCall) {
  fake_.Enqueue(test::Sse(DataFrames(
      {Chunk(R"({"content":"Hi"})"),
       R"({"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}})"})));
  const auto events = Run(Request(true));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_RETRYABLE);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "openai endpoint 'global' failed mid-stream (server_error): The server had an error; "
            "the partial answer is incomplete");
}

TEST_F(OpenAiClientTest, HostCancellationStopsTheStream) {
  fake_.cancel_after_chunks = 3;
  fake_.Enqueue(test::Sse(NormalStream()));
  const auto events = Run(Request(true));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_CANCELLED);
  EXPECT_EQ(FinalOf(events).finish, RG_FINISH_CANCELLED);
}

TEST_F(OpenAiClientTest, SinkStopEndsWithCancelled) {
  fake_.Enqueue(test::Sse(NormalStream()));
  const auto events = Run(Request(true), "global", /*stop_after_texts=*/1);
  EXPECT_EQ(TextOf(events), "Hel");
  EXPECT_EQ(FinalOf(events).code, RG_ERR_CANCELLED);
}

TEST_F(OpenAiClientTest, TransportFailureKeepsTheHostCode) {
  Canned refused;
  refused.send_head = false;
  refused.transport = RG_ERR_EGRESS_DENIED;
  refused.transport_message = "egress to EU denied by rule cn.residency";
  fake_.Enqueue(refused);
  const auto events = Run(Request(false));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_EGRESS_DENIED);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "openai endpoint 'global': egress to EU denied by rule cn.residency");
}

TEST_F(OpenAiClientTest, ToolCallFragmentsBecomeToolCallDeltas) {
  fake_.Enqueue(test::Sse(DataFrames(
      {Chunk(
           R"({"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]})"),
       Chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]})"),
       Chunk(R"({"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]})"),
       Chunk("{}", R"("tool_calls")"), kUsageChunk, "[DONE]"})));
  const auto events = Run(Request(true));
  const auto deltas = test::ToolDeltasOf(events);
  ASSERT_EQ(deltas.size(), 3u);
  EXPECT_EQ(deltas[0],
            json({{"index", 0}, {"id", "call_1"}, {"name", "get_weather"}, {"arguments", ""}}));
  EXPECT_EQ(deltas[1], json({{"index", 0}, {"arguments", "{\"city\":"}}));
  EXPECT_EQ(deltas[2], json({{"index", 0}, {"arguments", "\"Paris\"}"}}));
  EXPECT_EQ(FinalOf(events).finish, RG_FINISH_TOOL_CALLS);
}

TEST_F(OpenAiClientTest, BufferedToolCallsBecomeOneDeltaEach) {
  fake_.Enqueue(test::Json(
      200,
      R"({"id":"chatcmpl-X","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"a","arguments":"{}"}},{"id":"call_2","type":"function","function":{"name":"b","arguments":"{\"x\":1}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":6,"total_tokens":11}})"));
  const auto events = Run(Request(false));
  const auto deltas = test::ToolDeltasOf(events);
  ASSERT_EQ(deltas.size(), 2u);
  EXPECT_EQ(deltas[1],
            json({{"index", 1}, {"id", "call_2"}, {"name", "b"}, {"arguments", "{\"x\":1}"}}));
  EXPECT_EQ(FinalOf(events).finish, RG_FINISH_TOOL_CALLS);
}

TEST_F(OpenAiClientTest, UnknownEndpointIsRefused) {
  const auto events = Run(Request(false), "jp");
  EXPECT_EQ(FinalOf(events).code, RG_ERR_INVALID_REQUEST);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "plug-in 'openai' has no inference endpoint 'jp' (declared: eu, global, us)");
}

TEST_F(OpenAiClientTest, UnknownSettingIsRefusedAtCreate) {
  sdk::Status status;
  auto client = Client::Create(fake_.host(), {{"settings", {{"api_key", "sk-oops"}}}}, &status);
  EXPECT_FALSE(client);
  EXPECT_EQ(status.code, RG_ERR_INVALID_REQUEST);
  EXPECT_EQ(status.message, "plug-in 'openai': unknown setting 'api_key'");
}

TEST_F(OpenAiClientTest, TheKeyIsNeverLogged) {
  fake_.Enqueue(test::Json(401, R"({"error":{"message":"bad key","code":"invalid_api_key"}})"));
  const auto events = Run(Request(false));
  for (const auto& line : fake_.logs) EXPECT_EQ(line.find("sk-test-secret"), std::string::npos);
  EXPECT_EQ(FinalOf(events).data.find("sk-test-secret"), std::string::npos);
}

}  // namespace
}  // namespace rg::plugins::openai
