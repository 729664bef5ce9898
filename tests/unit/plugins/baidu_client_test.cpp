// Baidu client against canned Qianfan bytes (shapes from vendor-protocols.md §3): v2 through
// the shared OpenAI decoder with Qianfan's codes and safety fields; v1 with the OAuth token
// (cached, refreshed once on 110/111), URL suffixes, JSON errors on HTTP 200 even for
// streams, is_end, need_clear_history / ban_round / flag.
#include "baidu_client.hpp"

#include <gtest/gtest.h>

#include "fake_host.hpp"
#include "manifest_check.hpp"

namespace rg::plugins::baidu {
namespace {

using nlohmann::json;
using test::Canned;
using test::DataFrames;
using test::FinalOf;
using test::TextOf;

const json kEndpoints = {
    {"qianfan-v2", {{"id", "qianfan-v2"}, {"kind", "inference"}, {"protocol", "v2"}}},
    {"qianfan-v1", {{"id", "qianfan-v1"}, {"kind", "inference"}, {"protocol", "v1"}}},
    {"oauth", {{"id", "oauth"}, {"kind", "auth"}, {"protocol", ""}}}};

json Request(bool stream, const std::string& model = "ernie-4.0-8k") {
  return {{"model", model},
          {"messages", json::array({{{"role", "system"}, {"content", "be brief"}},
                                    {{"role", "user"}, {"content", "你好"}}})},
          {"stream", stream}};
}

// ---- v2 ---------------------------------------------------------------------------------------

const std::string kV2Answer =
    R"({"id":"as-qsp8w7ppnv","object":"chat.completion","created":1755938117,"model":"ernie-4.0-8k",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"你好！很高兴和你交流。"},)"
    R"("finish_reason":"stop","flag":0}],"usage":{"prompt_tokens":11,"completion_tokens":15,"total_tokens":26}})";

std::string V2Chunk(const std::string& content, const std::string& finish = "null", int flag = 0,
                    const std::string& extra = "") {
  return R"({"id":"as-0gtky9bide","object":"chat.completion.chunk","created":1,"model":"ernie-4.0-8k",)"
         R"("choices":[{"index":0,"delta":{"content":")" +
         content + R"("},"finish_reason":)" + finish + R"(,"flag":)" + std::to_string(flag) +
         extra + "}]}";
}
const std::string kV2Usage =
    R"({"id":"as-0gtky9bide","object":"chat.completion.chunk","created":1,"model":"ernie-4.0-8k",)"
    R"("choices":[],"usage":{"prompt_tokens":11,"completion_tokens":15,"total_tokens":26}})";

std::string V2Error(const std::string& code, const std::string& message, const std::string& type) {
  return R"({"error":{"code":")" + code + R"(","message":")" + message + R"(","type":")" + type +
         R"("},"id":"as-bkv66krfus"})";
}

// ---- v1 ---------------------------------------------------------------------------------------

const std::string kToken =
    R"({"refresh_token":"25.r","expires_in":2592000,"session_key":"s","access_token":"24.first",)"
    R"("scope":"public","session_secret":"x"})";
const std::string kToken2 =
    R"({"refresh_token":"25.r","expires_in":2592000,"session_key":"s","access_token":"24.second",)"
    R"("scope":"public","session_secret":"x"})";

std::string V1Chunk(int sentence, bool is_end, const std::string& result, int completion,
                    const std::string& extra = "") {
  return R"({"id":"as-ywwpgx4dt7","object":"chat.completion","created":1680166793,"sentence_id":)" +
         std::to_string(sentence) + R"(,"is_end":)" + (is_end ? "true" : "false") +
         R"(,"is_truncated":false,"result":")" + result + R"(","need_clear_history":false)" +
         extra + R"(,"usage":{"prompt_tokens":11,"completion_tokens":)" +
         std::to_string(completion) + R"(,"total_tokens":)" + std::to_string(11 + completion) +
         "}}";
}

std::string V1Error(int code, const std::string& message) {
  return R"({"error_code":)" + std::to_string(code) + R"(,"error_msg":")" + message + R"("})";
}

class BaiduClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_.secrets["QIANFAN_API_KEY"] = "bce-v3/ALTAK-secret";
    fake_.secrets["QIANFAN_AK"] = "ak-1";
    fake_.secrets["QIANFAN_SK"] = "sk/secret+1";
    client_ = Make({});
  }

  std::unique_ptr<sdk::Instance> Make(json settings) {
    sdk::Status status;
    auto client = Client::Create(
        fake_.host(), {{"settings", std::move(settings)}, {"endpoints", kEndpoints}}, &status);
    EXPECT_TRUE(client) << status.message;
    return client;
  }

  std::vector<test::Seen> V2(const json& request) {
    return fake_.Complete(*client_, request, "qianfan-v2");
  }
  std::vector<test::Seen> V1(const json& request) {
    return fake_.Complete(*client_, request, "qianfan-v1");
  }

  test::FakeHost fake_;
  std::unique_ptr<sdk::Instance> client_;
};

TEST(BaiduManifestTest, DescriptionAndSettingsMatchPluginYaml) {
  test::ExpectManifestMatchesCode("baidu", kVendor, kDescriptionJson, SettingsTable());
}

TEST(BaiduSuffixTest, ModelNamesMapToV1UrlSuffixes) {
  EXPECT_EQ(V1Suffix("ernie-4.0-8k"), "completions_pro");
  EXPECT_EQ(V1Suffix("ERNIE-4.0-8K"), "completions_pro");
  EXPECT_EQ(V1Suffix("ernie-3.5-8k"), "completions");
  EXPECT_EQ(V1Suffix("ernie-speed-128k"), "ernie-speed-128k");
  EXPECT_EQ(V1Suffix("ERNIE-Speed-8K"), "ernie_speed");
  EXPECT_EQ(V1Suffix("ernie-character-8k"), "ernie-char-8k");
  EXPECT_EQ(V1Suffix("ernie-4.5-turbo-128k"), std::nullopt);
}

TEST_F(BaiduClientTest, UnknownEndpointProtocolIsRefusedAtCreate) {
  json endpoints = kEndpoints;
  endpoints["qianfan-v2"]["protocol"] = "v3";
  sdk::Status status;
  EXPECT_FALSE(Client::Create(fake_.host(), {{"endpoints", endpoints}}, &status));
  EXPECT_EQ(status.message,
            "plug-in 'baidu': endpoint 'qianfan-v2' declares protocol 'v3'; use 'v2' or 'v1'");
}

TEST_F(BaiduClientTest, TheAuthEndpointCannotServeCompletions) {
  const auto events = fake_.Complete(*client_, Request(false), "oauth");
  EXPECT_EQ(FinalOf(events).code, RG_ERR_INVALID_REQUEST);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "plug-in 'baidu' has no inference endpoint 'oauth' (declared: qianfan-v1, qianfan-v2)");
}

// ---- v2 ---------------------------------------------------------------------------------------

TEST_F(BaiduClientTest, V2SendsBearerKeyAndOpenAiShape) {
  auto client = Make({{"app_id", "app-7"}});
  fake_.Enqueue(test::Json(200, kV2Answer));
  json request = Request(false);
  request["max_completion_tokens"] = 10;
  request["web_search"] = {{"enable", true}};
  const auto events = fake_.Complete(*client, request, "qianfan-v2");
  const test::Sent& sent = fake_.sent.at(0);
  EXPECT_EQ(sent.endpoint_id, "qianfan-v2");
  EXPECT_EQ(sent.path, "/v2/chat/completions");
  EXPECT_EQ(sent.Header("Authorization"), "Bearer bce-v3/ALTAK-secret");
  EXPECT_EQ(sent.Header("appid"), "app-7");
  EXPECT_EQ(sent.Json()["max_tokens"], 10);
  EXPECT_EQ(sent.Json()["web_search"]["enable"], true);
  EXPECT_EQ(TextOf(events), "你好！很高兴和你交流。");
  EXPECT_EQ(FinalOf(events).finish, RG_FINISH_STOP);
  EXPECT_EQ(FinalOf(events).Json()["request_id"], "as-qsp8w7ppnv");
}

TEST_F(BaiduClientTest, V2StreamWithFinalUsageChunk) {
  fake_.Enqueue(test::Sse(
      DataFrames({V2Chunk("你好"), V2Chunk("！"), V2Chunk("", R"("stop")"), kV2Usage, "[DONE]"}),
      {{"X-Baidu-Request-Id", "req-bd-1"}}));
  const auto events = V2(Request(true));
  EXPECT_EQ(TextOf(events), "你好！");
  EXPECT_EQ(test::UsagesOf(events).back()["total_tokens"], 26);
  EXPECT_EQ(FinalOf(events).code, RG_OK);
  EXPECT_EQ(FinalOf(events).Json()["request_id"], "req-bd-1");
  EXPECT_EQ(fake_.sent[0].Json()["stream_options"]["include_usage"], true);
}

TEST_F(BaiduClientTest, V2FlagBeforeAnyTextBlocksTheInput) {
  fake_.Enqueue(test::Sse(DataFrames(
      {V2Chunk("", R"("content_filter")", 3, R"(,"ban_round":-1)"), kV2Usage, "[DONE]"})));
  const auto events = V2(Request(true));
  EXPECT_EQ(TextOf(events), "");
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROVIDER_BLOCKED);
  EXPECT_EQ(FinalOf(events).Json()["blocked"], "input");
  EXPECT_EQ(FinalOf(events).Json()["vendor_code"], "flag=3");
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "baidu endpoint 'qianfan-v2' blocked the input (flag=3): Qianfan content safety: "
            "safety flag 3 (ban_round -1)");
}

TEST_F(BaiduClientTest, V2FlagAfterPartialTextBlocksTheOutput) {
  fake_.Enqueue(test::Sse(DataFrames({V2Chunk("从前"), V2Chunk("有座山"),
                                      V2Chunk("", R"("content_filter")", 4, R"(,"ban_round":-1)"),
                                      kV2Usage, "[DONE]"})));
  const auto events = V2(Request(true));
  EXPECT_EQ(TextOf(events), "从前有座山");
  EXPECT_EQ(FinalOf(events).Json()["blocked"], "output");
  ASSERT_EQ(test::UsagesOf(events).size(), 1u);
}

TEST_F(BaiduClientTest, V2ContentFilterFinishBlocksTheOutput) {
  fake_.Enqueue(
      test::Sse(DataFrames({V2Chunk("从前"), V2Chunk("", R"("content_filter")"), "[DONE]"})));
  const auto events = V2(Request(true));
  EXPECT_EQ(FinalOf(events).Json()["blocked"], "output");
  EXPECT_EQ(FinalOf(events).Json()["vendor_code"], "content_filter");
}

TEST_F(BaiduClientTest, V2BufferedFlagSidesFollowTheText) {
  // Flag with no answer text: the input was refused.
  std::string input_block = kV2Answer;
  input_block.replace(input_block.find("你好！很高兴和你交流。"),
                      std::string("你好！很高兴和你交流。").size(), "");
  input_block.replace(input_block.find(R"("flag":0)"), 8, R"("flag":3,"ban_round":-1)");
  fake_.Enqueue(test::Json(200, input_block));
  auto events = V2(Request(false));
  EXPECT_EQ(TextOf(events), "");
  EXPECT_EQ(FinalOf(events).Json()["blocked"], "input");
  // Flag with partial text: generation was cut, the output blocked; flagged text is never
  // emitted (flag 4 means "retract what was shown").
  std::string output_block = kV2Answer;
  output_block.replace(output_block.find(R"("flag":0)"), 8, R"("flag":4,"ban_round":-1)");
  fake_.Enqueue(test::Json(200, output_block));
  events = V2(Request(false));
  EXPECT_EQ(TextOf(events), "");
  EXPECT_EQ(FinalOf(events).Json()["blocked"], "output");
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "baidu endpoint 'qianfan-v2' blocked the output (flag=4): Qianfan content safety: "
            "safety flag 4 (ban_round -1)");
}

TEST_F(BaiduClientTest, V2UnsafeCodesBlockTheInput) {
  fake_.Enqueue(test::Json(403, V2Error("system_unsafe", "system is unsafe", "access_denied")));
  const auto events = V2(Request(true));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROVIDER_BLOCKED);
  EXPECT_EQ(FinalOf(events).Json(),
            json({{"blocked", "input"},
                  {"http_status", 403},
                  {"vendor_code", "system_unsafe"},
                  {"request_id", "as-bkv66krfus"},
                  {"message",
                   "baidu endpoint 'qianfan-v2' blocked the input (system_unsafe): system is "
                   "unsafe"}}));
}

TEST_F(BaiduClientTest, V2ErrorsMapToCanonicalCodes) {
  const std::vector<std::tuple<int, std::string, std::string, rg_code>> cases = {
      {401, "invalid_model", "invalid_request_error", RG_ERR_UNAVAILABLE},
      {401, "invalid_iam_token", "invalid_request_error", RG_ERR_AUTH},
      {400, "invalid_argument", "invalid_request_error", RG_ERR_INVALID_REQUEST},
      {403, "account_overdue", "access_denied", RG_ERR_UNAVAILABLE},
      {429, "rpm_rate_limit_exceeded", "rate_limit_exceeded", RG_ERR_RATE_LIMITED},
      {500, "internal_error", "internal_error", RG_ERR_RETRYABLE},
      {503, "service_unavailable", "internal_error", RG_ERR_RETRYABLE},
  };
  for (const auto& [status, code, type, expected] : cases) {
    fake_.Enqueue(test::Json(status, V2Error(code, "m", type), {{"Retry-After", "4"}}));
    const auto events = V2(Request(false));
    EXPECT_EQ(FinalOf(events).code, expected) << code;
    EXPECT_EQ(FinalOf(events).Json()["retry_after_ms"], 4000) << code;
  }
}

TEST_F(BaiduClientTest, V2TruncatedStreamIsAnError) {
  fake_.Enqueue(test::Sse(DataFrames({V2Chunk("你好")})));
  EXPECT_EQ(FinalOf(V2(Request(true))).code, RG_ERR_PROTOCOL);
}

TEST_F(BaiduClientTest, V2MissingKeyNamesTheVariable) {
  fake_.secrets.erase("QIANFAN_API_KEY");
  EXPECT_EQ(FinalOf(V2(Request(false))).Json()["message"],
            "missing credential: set QIANFAN_API_KEY (the secret named by setting "
            "'api_key_secret' of plug-in 'baidu')");
}

// ---- v1 ---------------------------------------------------------------------------------------

TEST_F(BaiduClientTest, V1FetchesATokenThenCallsTheModelSuffix) {
  fake_.Enqueue(test::Json(200, kToken));
  fake_.Enqueue(test::Json(
      200,
      R"({"id":"as-1","object":"chat.completion","created":1,"result":"你好！","is_truncated":false,"need_clear_history":false,"finish_reason":"normal","usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}})"));
  json request = Request(false);
  request["max_tokens"] = 100;
  request["temperature"] = 0.7;
  request["seed"] = 3;  // not a v1 parameter: not sent
  const auto events = V1(request);
  ASSERT_EQ(fake_.sent.size(), 2u);
  EXPECT_EQ(fake_.sent[0].endpoint_id, "oauth");
  EXPECT_EQ(fake_.sent[0].path,
            "/oauth/2.0/"
            "token?grant_type=client_credentials&client_id=ak-1&client_secret=sk%2Fsecret%2B1");
  EXPECT_EQ(fake_.sent[1].endpoint_id, "qianfan-v1");
  EXPECT_EQ(fake_.sent[1].path,
            "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions_pro?access_token=24.first");
  EXPECT_EQ(fake_.sent[1].Json(),
            json({{"messages", json::array({{{"role", "user"}, {"content", "你好"}}})},
                  {"stream", false},
                  {"system", "be brief"},
                  {"max_output_tokens", 100},
                  {"temperature", 0.7}}));
  EXPECT_EQ(TextOf(events), "你好！");
  EXPECT_EQ(test::UsagesOf(events).back()["total_tokens"], 5);
  EXPECT_EQ(FinalOf(events).finish, RG_FINISH_STOP);
  EXPECT_EQ(FinalOf(events).code, RG_OK);
}

TEST_F(BaiduClientTest, V1TokenIsCachedUntilItExpires) {
  const std::string answer = V1Chunk(0, true, "ok", 1);
  fake_.Enqueue(test::Json(200, kToken));
  fake_.Enqueue(test::Json(200, answer));
  fake_.Enqueue(test::Json(200, answer));
  EXPECT_EQ(FinalOf(V1(Request(false))).code, RG_OK);
  EXPECT_EQ(FinalOf(V1(Request(false))).code, RG_OK);
  EXPECT_EQ(fake_.sent.size(), 3u);          // one token request for two calls
  fake_.unix_ms += int64_t{2592000} * 1000;  // 30 days later
  fake_.Enqueue(test::Json(200, kToken2));
  fake_.Enqueue(test::Json(200, answer));
  EXPECT_EQ(FinalOf(V1(Request(false))).code, RG_OK);
  ASSERT_EQ(fake_.sent.size(), 5u);
  EXPECT_EQ(fake_.sent[3].endpoint_id, "oauth");
  EXPECT_NE(fake_.sent[4].path.find("access_token=24.second"), std::string::npos);
}

TEST_F(BaiduClientTest, V1ExpiredTokenIsRefreshedOnceAndRetried) {
  fake_.Enqueue(test::Json(200, kToken));
  fake_.Enqueue(test::Json(200, V1Error(111, "Access token expired")));
  fake_.Enqueue(test::Json(200, kToken2));
  fake_.Enqueue(test::Sse(DataFrames({V1Chunk(0, false, "你", 1), V1Chunk(1, true, "好", 2)})));
  const auto events = V1(Request(true));
  EXPECT_EQ(TextOf(events), "你好");
  EXPECT_EQ(FinalOf(events).code, RG_OK);
  ASSERT_EQ(fake_.sent.size(), 4u);
  EXPECT_NE(fake_.sent[3].path.find("access_token=24.second"), std::string::npos);
}

TEST_F(BaiduClientTest, V1TokenRejectedTwiceIsAnAuthFailure) {
  fake_.Enqueue(test::Json(200, kToken));
  fake_.Enqueue(test::Json(200, V1Error(110, "Access token invalid or no longer valid")));
  fake_.Enqueue(test::Json(200, kToken2));
  fake_.Enqueue(test::Json(200, V1Error(110, "Access token invalid or no longer valid")));
  const auto events = V1(Request(true));
  EXPECT_EQ(fake_.sent.size(), 4u);
  EXPECT_EQ(FinalOf(events).code, RG_ERR_AUTH);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "baidu endpoint 'qianfan-v1' failed (110): Access token invalid or no longer valid; "
            "check QIANFAN_AK and QIANFAN_SK");
  EXPECT_EQ(FinalOf(events).Json()["vendor_code"], "110");
}

TEST_F(BaiduClientTest, V1BadKeysAtTheTokenEndpointAreAnAuthFailure) {
  fake_.Enqueue(
      test::Json(401, R"({"error":"invalid_client","error_description":"unknown client id"})"));
  const auto events = V1(Request(false));
  EXPECT_EQ(fake_.sent.size(), 1u);
  EXPECT_EQ(FinalOf(events).code, RG_ERR_AUTH);
  EXPECT_EQ(FinalOf(events).Json(),
            json({{"http_status", 401},
                  {"vendor_code", "invalid_client"},
                  {"message",
                   "baidu endpoint 'oauth' refused the token request (HTTP 401, invalid_client): "
                   "unknown client id; check QIANFAN_AK and QIANFAN_SK"}}));
}

TEST_F(BaiduClientTest, V1TokenEndpointOutageIsRetryable) {
  fake_.Enqueue(test::Json(
      503, R"({"error":"server_error","error_description":"Service temporarily unavailable"})"));
  EXPECT_EQ(FinalOf(V1(Request(false))).code, RG_ERR_RETRYABLE);
}

TEST_F(BaiduClientTest, V1MissingSecretKeyNamesTheVariable) {
  fake_.secrets.erase("QIANFAN_SK");
  const auto events = V1(Request(false));
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "missing credential: set QIANFAN_SK (the secret named by setting "
            "'secret_key_secret' of plug-in 'baidu')");
  EXPECT_TRUE(fake_.sent.empty());
}

TEST_F(BaiduClientTest, V1ModelWithoutSuffixIsUnavailableThere) {
  const auto events = V1(Request(false, "ernie-4.5-turbo-128k"));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_UNAVAILABLE);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "model 'ernie-4.5-turbo-128k' is not served on baidu endpoint 'qianfan-v1': Qianfan "
            "v1 has no URL suffix for it; use endpoint 'qianfan-v2'");
  EXPECT_TRUE(fake_.sent.empty());
}

TEST_F(BaiduClientTest, V1RefusesTools) {
  json request = Request(false);
  request["tools"] = json::array({{{"type", "function"}, {"function", {{"name", "f"}}}}});
  const auto events = V1(request);
  EXPECT_EQ(FinalOf(events).code, RG_ERR_INVALID_REQUEST);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "plug-in 'baidu' cannot send tools to Qianfan v1 (wenxinworkshop has only the legacy "
            "functions API); use endpoint 'qianfan-v2'");
}

TEST_F(BaiduClientTest, V1StreamEndsAtIsEndWithTheLastUsage) {
  fake_.Enqueue(test::Json(200, kToken));
  fake_.Enqueue(
      test::Sse(DataFrames({V1Chunk(0, false, "从前", 1), V1Chunk(1, false, "有座", 2),
                            V1Chunk(2, true, "山。", 3, R"(,"finish_reason":"normal")")})));
  const auto events = V1(Request(true));
  EXPECT_EQ(TextOf(events), "从前有座山。");
  const auto usages = test::UsagesOf(events);
  ASSERT_EQ(usages.size(), 3u);
  EXPECT_EQ(usages.back(),
            json({{"prompt_tokens", 11}, {"completion_tokens", 3}, {"total_tokens", 14}}));
  EXPECT_EQ(FinalOf(events).finish, RG_FINISH_STOP);
  EXPECT_EQ(FinalOf(events).code, RG_OK);
}

TEST_F(BaiduClientTest, V1UnknownFinishIsAnErrorNotAStop) {
  fake_.Enqueue(test::Json(200, kToken));
  fake_.Enqueue(test::Sse(DataFrames(
      {V1Chunk(0, false, "从前", 1), V1Chunk(1, true, "", 1, R"(,"finish_reason":"paused")")})));
  const auto events = V1(Request(true));
  EXPECT_EQ(TextOf(events), "从前");
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROTOCOL);
  EXPECT_EQ(FinalOf(events).finish, RG_FINISH_ERROR);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "baidu endpoint 'qianfan-v1' ended the answer with finish_reason 'paused', which "
            "regiongate does not know; treat the answer as incomplete");
}

TEST_F(BaiduClientTest, V1StreamWithoutIsEndIsTruncated) {
  fake_.Enqueue(test::Json(200, kToken));
  fake_.Enqueue(
      test::Sse(DataFrames({V1Chunk(0, false, "从前", 1), V1Chunk(1, false, "有座", 2)})));
  const auto events = V1(Request(true));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROTOCOL);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "stream truncated: baidu endpoint 'qianfan-v1' ended the stream before a chunk with "
            "is_end:true; the partial answer is incomplete");
}

TEST_F(BaiduClientTest, V1ErrorAsJsonOn200ToAStreamRequest) {
  fake_.Enqueue(test::Json(200, kToken));
  fake_.Enqueue(test::Json(200, V1Error(336501, "Rate limit reached for RPM"),
                           {{"X-Ratelimit-Limit-Requests", "300"}, {"Retry-After", "2"}}));
  const auto events = V1(Request(true));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_RATE_LIMITED);
  EXPECT_EQ(FinalOf(events).Json(),
            json({{"http_status", 200},
                  {"vendor_code", "336501"},
                  {"retry_after_ms", 2000},
                  {"message",
                   "baidu endpoint 'qianfan-v1' failed (336501): Rate limit reached for RPM"}}));
}

TEST_F(BaiduClientTest, V1ErrorCodesMapToCanonicalCodes) {
  EXPECT_EQ(ClassifyV1Error(336100, 200).code, RG_ERR_RETRYABLE);
  EXPECT_EQ(ClassifyV1Error(18, 200).code, RG_ERR_RATE_LIMITED);
  EXPECT_EQ(ClassifyV1Error(2, 200).code, RG_ERR_RETRYABLE);
  EXPECT_EQ(ClassifyV1Error(4, 200).code, RG_ERR_RATE_LIMITED);
  EXPECT_EQ(ClassifyV1Error(17, 200).code, RG_ERR_RATE_LIMITED);
  EXPECT_EQ(ClassifyV1Error(336502, 200).code, RG_ERR_RATE_LIMITED);
  EXPECT_EQ(ClassifyV1Error(336000, 200).code, RG_ERR_RETRYABLE);
  EXPECT_EQ(ClassifyV1Error(336003, 200).code, RG_ERR_INVALID_REQUEST);
  EXPECT_EQ(ClassifyV1Error(336005, 200).code, RG_ERR_UNAVAILABLE);
  EXPECT_EQ(ClassifyV1Error(14, 200).code, RG_ERR_AUTH);
}

TEST_F(BaiduClientTest, V1NeedClearHistoryBlocksTheInput) {
  fake_.Enqueue(test::Json(200, kToken));
  fake_.Enqueue(test::Sse(DataFrames(
      {R"({"id":"as-1","object":"chat.completion","created":1,"sentence_id":0,"is_end":true,"is_truncated":false,"result":"","need_clear_history":true,"ban_round":-1,"flag":3,"finish_reason":"normal","usage":{"prompt_tokens":11,"completion_tokens":0,"total_tokens":11}})"})));
  const auto events = V1(Request(true));
  EXPECT_EQ(TextOf(events), "");
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROVIDER_BLOCKED);
  EXPECT_EQ(FinalOf(events).Json()["blocked"], "input");
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "baidu endpoint 'qianfan-v1' blocked the input (need_clear_history): Qianfan content "
            "safety: need_clear_history is true (ban_round -1)");
}

TEST_F(BaiduClientTest, V1FlagAfterPartialTextBlocksTheOutput) {
  fake_.Enqueue(test::Json(200, kToken));
  fake_.Enqueue(test::Sse(DataFrames(
      {V1Chunk(0, false, "从前", 1),
       V1Chunk(1, true, "", 1, R"(,"ban_round":-1,"flag":4,"finish_reason":"content_filter")")})));
  const auto events = V1(Request(true));
  EXPECT_EQ(TextOf(events), "从前");
  EXPECT_EQ(FinalOf(events).Json()["blocked"], "output");
}

TEST_F(BaiduClientTest, V1BufferedOutputBlockWithholdsTheFlaggedText) {
  fake_.Enqueue(test::Json(200, kToken));
  fake_.Enqueue(test::Json(
      200,
      R"({"id":"as-1","object":"chat.completion","created":1,"is_truncated":false,"result":"从前","need_clear_history":false,"ban_round":-1,"flag":4,"finish_reason":"content_filter","usage":{"prompt_tokens":11,"completion_tokens":1,"total_tokens":12}})"));
  const auto events = V1(Request(false));
  EXPECT_EQ(TextOf(events), "");
  EXPECT_EQ(test::UsagesOf(events).size(), 1u);
  EXPECT_EQ(FinalOf(events).Json()["blocked"], "output");
}

TEST_F(BaiduClientTest, V1FlaggedChunkCarryingTextBlocksTheOutputWithoutShowingIt) {
  fake_.Enqueue(test::Json(200, kToken));
  fake_.Enqueue(
      test::Sse(DataFrames({V1Chunk(0, false, "从前", 1, R"(,"ban_round":-1,"flag":4)")})));
  const auto events = V1(Request(true));
  EXPECT_EQ(TextOf(events), "");
  EXPECT_EQ(FinalOf(events).Json()["blocked"], "output");
}

TEST_F(BaiduClientTest, V1MalformedChunkIsAProtocolError) {
  fake_.Enqueue(test::Json(200, kToken));
  fake_.Enqueue(test::Sse(DataFrames({V1Chunk(0, false, "从前", 1), R"({"id":"as-1","result":)"})));
  EXPECT_EQ(FinalOf(V1(Request(true))).code, RG_ERR_PROTOCOL);
}

TEST_F(BaiduClientTest, V1TheTokenIsNeverLogged) {
  fake_.Enqueue(test::Json(200, kToken));
  fake_.Enqueue(test::Json(200, V1Error(111, "Access token expired")));
  fake_.Enqueue(test::Json(200, kToken2));
  fake_.Enqueue(test::Json(200, V1Chunk(0, true, "ok", 1)));
  V1(Request(false));
  ASSERT_FALSE(fake_.logs.empty());
  for (const auto& line : fake_.logs) {
    for (const char* secret : {"24.first", "24.second", "sk/secret+1", "ak-1"}) {
      EXPECT_EQ(line.find(secret), std::string::npos) << line;
    }
  }
}

}  // namespace
}  // namespace rg::plugins::baidu
