// DeepSeek client (made with tools/new-plugin) against canned vendor bytes: what it sends,
// deepseek-reasoner's reasoning deltas kept out of the answer, and the codes it edits on top
// of the template (402 insufficient balance). Shapes follow DeepSeek's API documentation;
// they are not in vendor-protocols.md, so treat them as UNCONFIRMED. The OpenAI-shaped
// decoding itself is covered by openai_client_test.cpp and the conformance suite.
#include "deepseek_client.hpp"

#include <gtest/gtest.h>

#include "fake_host.hpp"
#include "manifest_check.hpp"

namespace rg::plugins::deepseek {
namespace {

using nlohmann::json;
using test::DataFrames;
using test::FinalOf;
using test::TextOf;

const json kConfig = {
    {"settings", json::object()},
    {"endpoints", {{"cn", {{"id", "cn"}, {"kind", "inference"}, {"data_region", "CN"}}}}}};

json Request(bool stream, const std::string& model = "deepseek-chat") {
  return {{"model", model},
          {"messages", json::array({{{"role", "user"}, {"content", "你好"}}})},
          {"stream", stream}};
}

std::string Chunk(const std::string& delta, const std::string& finish = "null") {
  return R"({"id":"0a1b","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner",)"
         R"("system_fingerprint":"fp_1","choices":[{"index":0,"delta":)" +
         delta + R"(,"logprobs":null,"finish_reason":)" + finish + "}]}";
}
const std::string kUsageChunk =
    R"({"id":"0a1b","object":"chat.completion.chunk","created":1,"model":"deepseek-reasoner",)"
    R"("choices":[],"usage":{"prompt_tokens":4,"completion_tokens":9,"total_tokens":13,)"
    R"("prompt_cache_hit_tokens":0,"prompt_cache_miss_tokens":4,)"
    R"("completion_tokens_details":{"reasoning_tokens":6}}})";

class DeepSeekClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_.secrets["DEEPSEEK_API_KEY"] = "sk-deepseek-test";
    sdk::Status status;
    client_ = Client::Create(fake_.host(), kConfig, &status);
    ASSERT_TRUE(client_) << status.message;
  }

  std::vector<test::Seen> Run(const json& request) {
    return fake_.Complete(*client_, request, "cn");
  }

  test::FakeHost fake_;
  std::unique_ptr<sdk::Instance> client_;
};

TEST(DeepSeekManifestTest, DescriptionAndSettingsMatchPluginYaml) {
  test::ExpectManifestMatchesCode("deepseek", kVendor, kDescriptionJson, SettingsTable());
}

TEST_F(DeepSeekClientTest, SendsAnOpenAiShapedRequestWithTheKeyFromDeepSeekApiKey) {
  fake_.Enqueue(
      test::Sse(DataFrames({Chunk(R"({"role":"assistant","content":""})"),
                            Chunk(R"({"content":"好"})", R"("stop")"), kUsageChunk, "[DONE]"})));
  Run(Request(true, "deepseek-reasoner"));
  ASSERT_EQ(fake_.sent.size(), 1u);
  const test::Sent& sent = fake_.sent[0];
  EXPECT_EQ(sent.endpoint_id, "cn");
  // DeepSeek serves the OpenAI paths under /v1 as well as at the root.
  EXPECT_EQ(sent.path, "/v1/chat/completions");
  EXPECT_EQ(sent.Header("Authorization"), "Bearer sk-deepseek-test");
  const json body = sent.Json();
  EXPECT_EQ(body["model"], "deepseek-reasoner");
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["stream_options"], json({{"include_usage", true}}));
}

TEST_F(DeepSeekClientTest, ReasoningContentStaysOutOfTheAnswer) {
  fake_.Enqueue(test::Sse(DataFrames(
      {Chunk(R"({"role":"assistant","content":null,"reasoning_content":""})"),
       Chunk(R"({"content":null,"reasoning_content":"The user greets me."})"),
       Chunk(R"({"content":"你好！","reasoning_content":null})"),
       Chunk(R"({"content":"","reasoning_content":null})", R"("stop")"), kUsageChunk, "[DONE]"})));
  const auto events = Run(Request(true, "deepseek-reasoner"));
  EXPECT_EQ(TextOf(events), "你好！");
  EXPECT_EQ(FinalOf(events).code, RG_OK);
  EXPECT_EQ(FinalOf(events).finish, RG_FINISH_STOP);
  ASSERT_FALSE(test::UsagesOf(events).empty());
  EXPECT_EQ(test::UsagesOf(events).back()["total_tokens"], 13);
}

TEST_F(DeepSeekClientTest, InsufficientBalanceIsUnavailableSoTheHostMayFallBack) {
  fake_.Enqueue(test::Json(
      402,
      R"({"error":{"message":"Insufficient Balance","type":"unknown_error","param":null,"code":"invalid_request_error"}})"));
  const auto events = Run(Request(false));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_UNAVAILABLE);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "deepseek endpoint 'cn' answered HTTP 402 (invalid_request_error): Insufficient "
            "Balance");
}

TEST_F(DeepSeekClientTest, InvalidParametersAreAnInvalidRequest) {
  fake_.Enqueue(test::Json(
      422,
      R"({"error":{"message":"Invalid max_tokens value, the valid range of max_tokens is [1, 8192]","type":"invalid_request_error","param":null,"code":"invalid_request_error"}})"));
  EXPECT_EQ(FinalOf(Run(Request(false))).code, RG_ERR_INVALID_REQUEST);
}

TEST_F(DeepSeekClientTest, ServerOverloadedIsRetryable) {
  fake_.Enqueue(test::Json(
      503,
      R"({"error":{"message":"Server overloaded","type":"server_error","param":null,"code":"server_overloaded"}})"));
  EXPECT_EQ(FinalOf(Run(Request(false))).code, RG_ERR_RETRYABLE);
}

TEST_F(DeepSeekClientTest, WrongKeyIsAnAuthFailureNamingTheVariable) {
  fake_.Enqueue(test::Json(
      401,
      R"json({"error":{"message":"Authentication Fails (no such user)","type":"authentication_error","param":null,"code":"invalid_request_error"}})json"));
  const auto events = Run(Request(false));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_AUTH);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "deepseek endpoint 'cn' answered HTTP 401 (invalid_request_error): Authentication "
            "Fails (no such user); check the key in DEEPSEEK_API_KEY");
}

TEST_F(DeepSeekClientTest, MissingCredentialNamesTheVariableAndSendsNothing) {
  fake_.secrets.clear();
  const auto events = Run(Request(false));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_AUTH);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "missing credential: set DEEPSEEK_API_KEY (the secret named by setting "
            "'api_key_secret' of plug-in 'deepseek')");
  EXPECT_TRUE(fake_.sent.empty());
}

TEST_F(DeepSeekClientTest, ContentFilterAfterPartialTextBlocksTheOutput) {
  fake_.Enqueue(test::Sse(
      DataFrames({Chunk(R"({"role":"assistant","content":""})"), Chunk(R"({"content":"部分"})"),
                  Chunk("{}", R"("content_filter")"), kUsageChunk, "[DONE]"})));
  const auto events = Run(Request(true));
  EXPECT_EQ(TextOf(events), "部分");
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROVIDER_BLOCKED);
  EXPECT_EQ(FinalOf(events).Json()["blocked"], "output");
}

// DeepSeek ends an answer its servers could not finish with insufficient_system_resource
// (200, then [DONE]): the text so far is not a complete answer.
TEST_F(DeepSeekClientTest, InsufficientSystemResourceIsAnIncompleteAnswerNotAStop) {
  fake_.Enqueue(test::Sse(
      DataFrames({Chunk(R"({"role":"assistant","content":""})"), Chunk(R"({"content":"从前有座"})"),
                  Chunk("{}", R"("insufficient_system_resource")"), kUsageChunk, "[DONE]"})));
  const auto events = Run(Request(true));
  EXPECT_EQ(TextOf(events), "从前有座");
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROTOCOL);
  EXPECT_EQ(FinalOf(events).finish, RG_FINISH_ERROR);
  EXPECT_EQ(FinalOf(events).Json()["vendor_code"], "insufficient_system_resource");
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "deepseek endpoint 'cn' ended the answer with finish_reason "
            "'insufficient_system_resource', which regiongate does not know; treat the answer "
            "as incomplete");
}

TEST_F(DeepSeekClientTest, UnknownFinishReasonInABufferedAnswerIsAnErrorNotAStop) {
  fake_.Enqueue(test::Json(
      200, R"({"id":"0a1b","object":"chat.completion","created":1,"model":"deepseek-chat",)"
           R"("choices":[{"index":0,"message":{"role":"assistant","content":"从前"},)"
           R"("logprobs":null,"finish_reason":"paused_for_reasons"}],)"
           R"("usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}})"));
  const auto events = Run(Request(false));
  EXPECT_EQ(TextOf(events), "从前");
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROTOCOL);
  EXPECT_EQ(FinalOf(events).finish, RG_FINISH_ERROR);
  EXPECT_EQ(FinalOf(events).Json()["vendor_code"], "paused_for_reasons");
}

TEST_F(DeepSeekClientTest, UnknownEndpointIsRefused) {
  const auto events = fake_.Complete(*client_, Request(false), "global");
  EXPECT_EQ(FinalOf(events).code, RG_ERR_INVALID_REQUEST);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "plug-in 'deepseek' has no inference endpoint 'global' (declared: cn)");
  EXPECT_TRUE(fake_.sent.empty());
}

TEST_F(DeepSeekClientTest, TheKeyIsNeverLogged) {
  fake_.Enqueue(test::Json(500, R"({"error":{"message":"boom","type":"server_error"}})"));
  Run(Request(false));
  for (const auto& line : fake_.logs) EXPECT_EQ(line.find("sk-deepseek-test"), std::string::npos);
}

}  // namespace
}  // namespace rg::plugins::deepseek
