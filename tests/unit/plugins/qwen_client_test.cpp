// Qwen client against canned DashScope bytes (shapes from vendor-protocols.md §2), in both
// protocols: compatible mode (shared OpenAI decoder, DashScope error codes) and native
// (no-space framing, :HTTP_STATUS comments, cumulative usage, no terminator, event:error,
// incremental_output both ways).
#include "qwen_client.hpp"

#include <gtest/gtest.h>

#include "fake_host.hpp"
#include "manifest_check.hpp"

namespace rg::plugins::qwen {
namespace {

using nlohmann::json;
using test::Canned;
using test::DataFrames;
using test::FinalOf;
using test::TextOf;

json Endpoints(const std::string& beijing_protocol = "") {
  json endpoints = json::object();
  for (const char* id : {"cn-beijing", "ap-singapore", "us-virginia", "cn-hongkong"}) {
    endpoints[id] = {{"id", id}, {"kind", "inference"}, {"protocol", ""}};
  }
  endpoints["cn-beijing"]["protocol"] = beijing_protocol;
  return endpoints;
}

json Config(json settings, const std::string& beijing_protocol = "") {
  return {{"settings", std::move(settings)}, {"endpoints", Endpoints(beijing_protocol)}};
}

json Request(bool stream) {
  return {{"model", "qwen-plus"},
          {"messages", json::array({{{"role", "system"}, {"content", "be brief"}},
                                    {{"role", "user"}, {"content", "你是谁？"}}})},
          {"stream", stream}};
}

// ---- compatible mode: verbatim shapes (vendor-protocols.md §2.3, §2.5) --------------------

std::string CompatChunk(const std::string& content, const std::string& finish = "null",
                        const std::string& role = "null") {
  return R"({"id":"chatcmpl-e30f5ae7-3063-93c4-90fe-beb5f900bd57","choices":[{"delta":{"content":")" +
         content + R"(","function_call":null,"refusal":null,"role":)" + role +
         R"(,"tool_calls":null},"finish_reason":)" + finish +
         R"(,"index":0,"logprobs":null}],"created":1735113344,"model":"qwen-plus",)"
         R"("object":"chat.completion.chunk","service_tier":null,"system_fingerprint":null,"usage":null})";
}
const std::string kCompatUsage =
    R"({"id":"chatcmpl-e30f5ae7-3063-93c4-90fe-beb5f900bd57","choices":[],"created":1735113344,)"
    R"("model":"qwen-plus","object":"chat.completion.chunk","service_tier":null,)"
    R"("system_fingerprint":null,"usage":{"completion_tokens":17,"prompt_tokens":22,)"
    R"("total_tokens":39,"completion_tokens_details":null,"prompt_tokens_details":)"
    R"({"audio_tokens":null,"cached_tokens":0}}})";
const sdk::Headers kRequestId = {{"x-request-id", "e30f5ae7-3063-93c4-90fe-beb5f900bd57"}};

// ---- native: framing without spaces, one event per result -----------------------------------

std::string NativeEvent(int id, const std::string& content, const std::string& finish,
                        int output_tokens, const std::string& event = "result", int status = 200) {
  return "id:" + std::to_string(id) + "\nevent:" + event + "\n:HTTP_STATUS/" +
         std::to_string(status) + "\ndata:{\"output\":{\"choices\":[{\"message\":{\"content\":\"" +
         content + "\",\"role\":\"assistant\"},\"finish_reason\":\"" + finish +
         "\"}]},\"usage\":{\"total_tokens\":" + std::to_string(22 + output_tokens) +
         ",\"output_tokens\":" + std::to_string(output_tokens) +
         ",\"input_tokens\":22},\"request_id\":\"902fee3b-f7f0-9a8c-96a1-6b4ea25af114\"}\n\n";
}

std::string NativeError(int id, const std::string& code, const std::string& message, int status) {
  return "id:" + std::to_string(id) + "\nevent:error\n:HTTP_STATUS/" + std::to_string(status) +
         "\ndata:{\"code\":\"" + code + "\",\"message\":\"" + message +
         "\",\"request_id\":\"d18bb1bc-0000\"}\n\n";
}

Canned NativeSse(std::string body) {
  Canned c = test::Sse(std::move(body), kRequestId);
  c.headers[0].second = "text/event-stream;charset=UTF-8";
  return c;
}

class QwenClientTest : public ::testing::Test {
 protected:
  void SetUp() override { fake_.secrets["DASHSCOPE_API_KEY"] = "sk-dash-secret"; }

  std::unique_ptr<sdk::Instance> Make(json settings, const std::string& beijing_protocol = "") {
    sdk::Status status;
    auto client =
        Client::Create(fake_.host(), Config(std::move(settings), beijing_protocol), &status);
    EXPECT_TRUE(client) << status.message;
    return client;
  }

  std::vector<test::Seen> Compat(const json& request, int stop_after_texts = -1) {
    auto client = Make({{"protocol", "compatible"}});
    return fake_.Complete(*client, request, "cn-beijing", stop_after_texts);
  }
  std::vector<test::Seen> Native(const json& request, bool incremental = true) {
    auto client = Make({{"protocol", "native"}, {"incremental_output", incremental}});
    return fake_.Complete(*client, request, "cn-beijing");
  }

  test::FakeHost fake_;
};

TEST(QwenManifestTest, DescriptionAndSettingsMatchPluginYaml) {
  test::ExpectManifestMatchesCode("qwen", kVendor, kDescriptionJson, SettingsTable());
}

TEST_F(QwenClientTest, ProtocolComesFromTheSettingUnlessTheEndpointPinsIt) {
  sdk::Status status;
  auto compatible = Client::Create(fake_.host(), Config(json::object(), "native"), &status);
  ASSERT_TRUE(compatible);
  auto* client = dynamic_cast<Client*>(compatible.get());
  EXPECT_EQ(client->ProtocolFor("cn-beijing"), Protocol::kNative);
  EXPECT_EQ(client->ProtocolFor("ap-singapore"), Protocol::kCompatible);
  auto native =
      Client::Create(fake_.host(), Config({{"protocol", "native"}}, "compatible"), &status);
  client = dynamic_cast<Client*>(native.get());
  EXPECT_EQ(client->ProtocolFor("cn-beijing"), Protocol::kCompatible);
  EXPECT_EQ(client->ProtocolFor("us-virginia"), Protocol::kNative);
}

TEST_F(QwenClientTest, UnknownProtocolIsRefusedAtCreate) {
  sdk::Status status;
  EXPECT_FALSE(Client::Create(fake_.host(), Config({{"protocol", "grpc"}}), &status));
  EXPECT_EQ(status.code, RG_ERR_INVALID_REQUEST);
  EXPECT_EQ(status.message,
            "plug-in 'qwen': setting 'protocol' is 'grpc'; use 'compatible' or 'native'");
  EXPECT_FALSE(Client::Create(fake_.host(), Config(json::object(), "v2"), &status));
  EXPECT_EQ(status.message,
            "plug-in 'qwen': endpoint 'cn-beijing' declares protocol 'v2'; use 'compatible' or "
            "'native'");
  EXPECT_FALSE(Client::Create(fake_.host(), Config({{"incremental_output", "yes"}}), &status));
  EXPECT_EQ(status.message, "plug-in 'qwen': setting 'incremental_output' must be of type boolean");
}

TEST_F(QwenClientTest, MissingCredentialNamesTheVariable) {
  fake_.secrets.clear();
  const auto events = Native(Request(true));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_AUTH);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "missing credential: set DASHSCOPE_API_KEY (the secret named by setting "
            "'api_key_secret' of plug-in 'qwen')");
  EXPECT_TRUE(fake_.sent.empty());
}

// ---- compatible mode -------------------------------------------------------------------------

TEST_F(QwenClientTest, CompatSendsOpenAiShapeToTheCompatiblePath) {
  auto client = Make({{"workspace", "ws-1"}});
  fake_.Enqueue(test::Sse(DataFrames({CompatChunk("hi", R"("stop")"), kCompatUsage, "[DONE]"})));
  json request = Request(true);
  request["max_completion_tokens"] = 99;
  request["enable_search"] = true;
  request["incremental_output"] = false;
  fake_.Complete(*client, request, "ap-singapore");
  const test::Sent& sent = fake_.sent.at(0);
  EXPECT_EQ(sent.endpoint_id, "ap-singapore");
  EXPECT_EQ(sent.path, "/compatible-mode/v1/chat/completions");
  EXPECT_EQ(sent.Header("Authorization"), "Bearer sk-dash-secret");
  EXPECT_EQ(sent.Header("X-DashScope-WorkSpace"), "ws-1");
  const json body = sent.Json();
  EXPECT_EQ(body["max_tokens"], 99);
  EXPECT_FALSE(body.contains("max_completion_tokens"));
  EXPECT_EQ(body["stream_options"]["include_usage"], true);
  EXPECT_EQ(body["enable_search"], true);
  EXPECT_FALSE(body.contains("incremental_output"));
  EXPECT_EQ(body["messages"], Request(true)["messages"]);
}

TEST_F(QwenClientTest, CompatStreamUsesTheFinalUsageChunk) {
  fake_.Enqueue(test::Sse(
      DataFrames({CompatChunk("", "null", R"("assistant")"), CompatChunk("我是"),
                  CompatChunk("通义千问。"), CompatChunk("", R"("stop")"), kCompatUsage, "[DONE]"}),
      kRequestId));
  const auto events = Compat(Request(true));
  EXPECT_EQ(TextOf(events), "我是通义千问。");
  const auto usages = test::UsagesOf(events);
  ASSERT_EQ(usages.size(), 1u);
  EXPECT_EQ(usages[0],
            json({{"prompt_tokens", 22}, {"completion_tokens", 17}, {"total_tokens", 39}}));
  EXPECT_EQ(FinalOf(events).finish, RG_FINISH_STOP);
  EXPECT_EQ(FinalOf(events).code, RG_OK);
  EXPECT_EQ(FinalOf(events).Json()["request_id"], "e30f5ae7-3063-93c4-90fe-beb5f900bd57");
}

TEST_F(QwenClientTest, CompatDataInspectionBeforeTheStreamBlocksTheInput) {
  fake_.Enqueue(test::Json(
      400,
      R"({"error":{"code":"data_inspection_failed","param":null,"message":"Input data may contain inappropriate content.","type":"data_inspection_failed"},"id":"chatcmpl-deab386b-2562-9a7b-b8fa-0ba9385a5c28","request_id":"deab386b-2562-9a7b-b8fa-0ba9385a5c28"})"));
  const auto events = Compat(Request(true));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROVIDER_BLOCKED);
  EXPECT_EQ(FinalOf(events).finish, RG_FINISH_CONTENT_FILTER);
  EXPECT_EQ(FinalOf(events).Json(),
            json({{"blocked", "input"},
                  {"http_status", 400},
                  {"vendor_code", "data_inspection_failed"},
                  {"request_id", "deab386b-2562-9a7b-b8fa-0ba9385a5c28"},
                  {"message",
                   "qwen endpoint 'cn-beijing' blocked the input (data_inspection_failed): Input "
                   "data may contain inappropriate content."}}));
}

TEST_F(QwenClientTest, CompatDataInspectionMidStreamBlocksTheOutput) {
  fake_.Enqueue(test::Sse(DataFrames(
      {CompatChunk("", "null", R"("assistant")"), CompatChunk("Once upon"),
       R"({"error":{"code":"data_inspection_failed","param":null,"message":"Output data may contain inappropriate content.","type":"data_inspection_failed"},"id":"chatcmpl-1"})",
       "[DONE]"})));
  const auto events = Compat(Request(true));
  EXPECT_EQ(TextOf(events), "Once upon");
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROVIDER_BLOCKED);
  EXPECT_EQ(FinalOf(events).Json()["blocked"], "output");
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "qwen endpoint 'cn-beijing' blocked the output (data_inspection_failed): Output data "
            "may contain inappropriate content.; the partial answer is incomplete");
}

TEST_F(QwenClientTest, CompatBufferedOutputBlockSaysOutput) {
  fake_.Enqueue(test::Json(
      400,
      R"({"error":{"code":"data_inspection_failed","param":null,"message":"Output data may contain inappropriate content.","type":"data_inspection_failed"},"id":"chatcmpl-1","request_id":"1"})"));
  const auto events = Compat(Request(false));
  EXPECT_EQ(FinalOf(events).Json()["blocked"], "output");
}

TEST_F(QwenClientTest, CompatRateLimitAndServerErrors) {
  Canned limited = test::Json(
      429,
      R"({"error":{"message":"You have exceeded your current request limit. For details, see: https://help.aliyun.com/zh/model-studio/error-code#rate-limit","type":"limit_requests","code":"limit_requests"}})",
      {{"Retry-After", "3"}});
  fake_.Enqueue(limited);
  auto events = Compat(Request(true));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_RATE_LIMITED);
  EXPECT_EQ(FinalOf(events).Json()["retry_after_ms"], 3000);
  EXPECT_EQ(FinalOf(events).Json()["vendor_code"], "limit_requests");

  fake_.Enqueue(test::Json(
      500,
      R"({"error":{"code":"internal_error","param":null,"message":"An internal error has occured, please try again later or contact service support.","type":"internal_error"}})"));
  EXPECT_EQ(FinalOf(Compat(Request(false))).code, RG_ERR_RETRYABLE);

  fake_.Enqueue(test::Json(
      401,
      R"({"error":{"code":"invalid_api_key","param":null,"message":"Incorrect API key provided. ","type":"invalid_request_error"}})"));
  events = Compat(Request(false));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_AUTH);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "qwen endpoint 'cn-beijing' answered HTTP 401 (invalid_api_key): Incorrect API key "
            "provided. ; check the key in DASHSCOPE_API_KEY (DashScope keys only work in the "
            "region that issued them)");

  fake_.Enqueue(test::Json(
      400,
      R"({"error":{"code":"Arrearage","param":null,"message":"Access denied, please make sure your account is in good standing.","type":"Arrearage"}})"));
  EXPECT_EQ(FinalOf(Compat(Request(false))).code, RG_ERR_UNAVAILABLE);
}

TEST_F(QwenClientTest, CompatTruncatedStreamIsAnError) {
  fake_.Enqueue(test::Sse(DataFrames({CompatChunk("我是"), CompatChunk("", R"("stop")")})));
  const auto events = Compat(Request(true));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROTOCOL);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "stream truncated: qwen endpoint 'cn-beijing' ended the stream before data: [DONE]; "
            "the partial answer is incomplete");
}

// ---- native ----------------------------------------------------------------------------------

TEST_F(QwenClientTest, NativeRequestPutsMessagesUnderInputAndTheRestUnderParameters) {
  fake_.Enqueue(NativeSse(NativeEvent(1, "hi", "stop", 1)));
  json request = Request(true);
  request["max_tokens"] = 64;
  request["temperature"] = 0.5;
  request["stream_options"] = {{"include_usage", true}};
  request["messages"][1]["content"] =
      json::array({{{"type", "text"}, {"text", "你是"}}, {{"type", "text"}, {"text", "谁？"}}});
  auto events = Native(request);
  const test::Sent& sent = fake_.sent.at(0);
  EXPECT_EQ(sent.path, "/api/v1/services/aigc/text-generation/generation");
  EXPECT_EQ(sent.Header("X-DashScope-SSE"), "enable");
  EXPECT_EQ(sent.Header("Accept"), "text/event-stream");
  EXPECT_EQ(sent.Json(), json({{"model", "qwen-plus"},
                               {"input", {{"messages", Request(true)["messages"]}}},
                               {"parameters",
                                {{"result_format", "message"},
                                 {"incremental_output", true},
                                 {"max_tokens", 64},
                                 {"temperature", 0.5}}}}));
  EXPECT_EQ(FinalOf(events).code, RG_OK);

  fake_.Enqueue(test::Json(
      200,
      R"({"output":{"choices":[{"finish_reason":"stop","message":{"role":"assistant","content":"x"}}]},"usage":{"input_tokens":1,"output_tokens":1,"total_tokens":2},"request_id":"r"})"));
  Native(Request(false));
  EXPECT_EQ(fake_.sent.at(1).Header("X-DashScope-SSE"), "");
  EXPECT_FALSE(fake_.sent.at(1).Json()["parameters"].contains("incremental_output"));
}

TEST_F(QwenClientTest, NativeIncrementalStreamTakesTheLastCumulativeUsage) {
  fake_.Enqueue(NativeSse(NativeEvent(1, "我是", "null", 2) + NativeEvent(2, "通义", "null", 4) +
                          NativeEvent(3, "千问。", "null", 7) + NativeEvent(4, "", "stop", 7)));
  const auto events = Native(Request(true));
  EXPECT_EQ(TextOf(events), "我是通义千问。");
  const auto usages = test::UsagesOf(events);
  ASSERT_EQ(usages.size(), 4u);
  // Cumulative in every event: the running total is the vendor's last figure, never a sum.
  EXPECT_EQ(usages.back(),
            json({{"prompt_tokens", 22}, {"completion_tokens", 7}, {"total_tokens", 29}}));
  EXPECT_EQ(FinalOf(events).finish, RG_FINISH_STOP);
  EXPECT_EQ(FinalOf(events).code, RG_OK);
  EXPECT_EQ(FinalOf(events).Json()["request_id"], "e30f5ae7-3063-93c4-90fe-beb5f900bd57");
}

TEST_F(QwenClientTest, NativeNonIncrementalStreamEmitsOnlyTheNewSuffix) {
  fake_.Enqueue(NativeSse(
      NativeEvent(1, "我是", "null", 2) + NativeEvent(2, "我是通义", "null", 4) +
      NativeEvent(3, "我是通义千问。", "null", 7) + NativeEvent(4, "我是通义千问。", "stop", 7)));
  const auto events = Native(Request(true), /*incremental=*/false);
  EXPECT_EQ(fake_.sent.at(0).Json()["parameters"]["incremental_output"], false);
  std::vector<std::string> deltas;
  for (const auto& e : events) {
    if (e.kind == RG_EVENT_TEXT_DELTA) deltas.push_back(e.data);
  }
  EXPECT_EQ(deltas, (std::vector<std::string>{"我是", "通义", "千问。"}));
  EXPECT_EQ(FinalOf(events).code, RG_OK);
}

TEST_F(QwenClientTest, NativeNonIncrementalRewriteIsAProtocolError) {
  fake_.Enqueue(NativeSse(NativeEvent(1, "我是", "null", 2) + NativeEvent(2, "你是", "null", 4)));
  const auto events = Native(Request(true), /*incremental=*/false);
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROTOCOL);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "qwen endpoint 'cn-beijing' changed text it had already streamed (incremental_output "
            "false)");
}

TEST_F(QwenClientTest, NativeLengthFinishIsMapped) {
  fake_.Enqueue(NativeSse(NativeEvent(1, "cut", "null", 1) + NativeEvent(2, "", "length", 1)));
  EXPECT_EQ(FinalOf(Native(Request(true))).finish, RG_FINISH_LENGTH);
}

TEST_F(QwenClientTest, NativeUnknownFinishIsAnErrorNotAStop) {
  fake_.Enqueue(NativeSse(NativeEvent(1, "cut", "null", 1) + NativeEvent(2, "", "paused", 1)));
  const auto events = Native(Request(true));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROTOCOL);
  EXPECT_EQ(FinalOf(events).finish, RG_FINISH_ERROR);
  EXPECT_EQ(FinalOf(events).Json()["vendor_code"], "paused");
}

TEST_F(QwenClientTest, NativeStreamWithoutAFinalEventIsTruncated) {
  fake_.Enqueue(NativeSse(NativeEvent(1, "我是", "null", 2) + NativeEvent(2, "通义", "null", 4)));
  const auto events = Native(Request(true));
  EXPECT_EQ(TextOf(events), "我是通义");
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROTOCOL);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "stream truncated: qwen endpoint 'cn-beijing' ended the stream before its final event "
            "(a finish_reason other than \"null\"); the partial answer is incomplete");
}

TEST_F(QwenClientTest, NativeFinalEventCutMidLineIsTruncated) {
  const std::string last = NativeEvent(2, "", "stop", 4);
  fake_.Enqueue(NativeSse(NativeEvent(1, "我是", "null", 2) + last.substr(0, last.size() - 20)));
  EXPECT_EQ(FinalOf(Native(Request(true))).code, RG_ERR_PROTOCOL);
}

TEST_F(QwenClientTest, NativeErrorEventMidStreamBlocksTheOutput) {
  fake_.Enqueue(NativeSse(NativeEvent(1, "Once", "null", 1) +
                          NativeError(2, "DataInspectionFailed",
                                      "Output data may contain inappropriate content.", 400)));
  const auto events = Native(Request(true));
  EXPECT_EQ(TextOf(events), "Once");
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROVIDER_BLOCKED);
  EXPECT_EQ(FinalOf(events).Json(),
            json({{"blocked", "output"},
                  {"http_status", 400},
                  {"vendor_code", "DataInspectionFailed"},
                  {"request_id", "e30f5ae7-3063-93c4-90fe-beb5f900bd57"},
                  {"message",
                   "qwen endpoint 'cn-beijing' blocked the output (DataInspectionFailed): Output "
                   "data may contain inappropriate content.; the partial answer is incomplete"}}));
}

TEST_F(QwenClientTest, NativeInputBlockAsAnErrorEventWithHttp200) {
  fake_.Enqueue(NativeSse(NativeError(1, "DataInspectionFailed",
                                      "Input data may contain inappropriate content.", 400)));
  const auto events = Native(Request(true));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(FinalOf(events).Json()["blocked"], "input");
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "qwen endpoint 'cn-beijing' blocked the input (DataInspectionFailed): Input data may "
            "contain inappropriate content.");
}

TEST_F(QwenClientTest, NativeInputBlockAsHttp400) {
  fake_.Enqueue(test::Json(
      400,
      R"({"code":"DataInspectionFailed","message":"Input data may contain inappropriate content.","request_id":"902fee3b"})"));
  auto events = Native(Request(true));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROVIDER_BLOCKED);
  EXPECT_EQ(FinalOf(events).Json()["blocked"], "input");
  EXPECT_EQ(FinalOf(events).Json()["request_id"], "902fee3b");
  // The 2026 message variant with a prefixed code and a trailing link.
  fake_.Enqueue(test::Json(
      400,
      R"({"code":"InternalError.Algo.DataInspectionFailed","message":"<400> InternalError.Algo.DataInspectionFailed: Input text data may contain inappropriate content. For details, see: https://help.aliyun.com/zh/model-studio/error-code#inappropriate-content"})"));
  events = Native(Request(false));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROVIDER_BLOCKED);
  EXPECT_EQ(FinalOf(events).Json()["blocked"], "input");
}

TEST_F(QwenClientTest, NativeAnErrorStreamWithANon200HeadIsRead) {
  Canned canned = NativeSse(NativeError(
      1, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.", 429));
  canned.status = 429;
  canned.headers.emplace_back("Retry-After", "1");
  fake_.Enqueue(canned);
  const auto events = Native(Request(true));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_RATE_LIMITED);
  EXPECT_EQ(FinalOf(events).Json()["retry_after_ms"], 1000);
  EXPECT_EQ(FinalOf(events).Json()["vendor_code"], "Throttling.RateQuota");
}

TEST_F(QwenClientTest, NativeErrorsMapToCanonicalCodes) {
  const std::vector<std::tuple<int, std::string, rg_code>> cases = {
      {401, "InvalidApiKey", RG_ERR_AUTH},
      {429, "Throttling.AllocationQuota", RG_ERR_RATE_LIMITED},
      {500, "InternalError", RG_ERR_RETRYABLE},
      {503, "ModelServingError", RG_ERR_RETRYABLE},
      {404, "ModelNotFound", RG_ERR_UNAVAILABLE},
      {400, "InvalidParameter", RG_ERR_INVALID_REQUEST},
      {400, "Arrearage", RG_ERR_UNAVAILABLE},
  };
  for (const auto& [status, code, expected] : cases) {
    fake_.Enqueue(
        test::Json(status, R"({"code":")" + code + R"(","message":"m","request_id":"r"})"));
    EXPECT_EQ(FinalOf(Native(Request(false))).code, expected) << code;
  }
}

TEST_F(QwenClientTest, NativeBufferedAnswerInBothResultFormats) {
  fake_.Enqueue(test::Json(
      200,
      R"({"request_id":"902fee3b-f7f0-9a8c-96a1-6b4ea25af114","output":{"text":null,"finish_reason":null,"choices":[{"finish_reason":"stop","message":{"role":"assistant","content":"我是通义千问。"}}]},"usage":{"input_tokens":22,"output_tokens":17,"total_tokens":39}})"));
  auto events = Native(Request(false));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].data, "我是通义千问。");
  EXPECT_EQ(events[1].Json(),
            json({{"prompt_tokens", 22}, {"completion_tokens", 17}, {"total_tokens", 39}}));
  EXPECT_EQ(events[2].finish, RG_FINISH_STOP);
  EXPECT_EQ(events[2].Json()["request_id"], "902fee3b-f7f0-9a8c-96a1-6b4ea25af114");

  fake_.Enqueue(test::Json(
      200,
      R"({"output":{"finish_reason":"stop","text":"你好！很高兴为你提供帮助。"},"usage":{"total_tokens":18,"output_tokens":7,"input_tokens":11},"request_id":"db13c38b"})"));
  events = Native(Request(false));
  EXPECT_EQ(TextOf(events), "你好！很高兴为你提供帮助。");
  EXPECT_EQ(FinalOf(events).code, RG_OK);
}

TEST_F(QwenClientTest, NativeMalformedEventIsAProtocolError) {
  fake_.Enqueue(NativeSse(NativeEvent(1, "我是", "null", 2) +
                          "id:2\nevent:result\n:HTTP_STATUS/200\ndata:{\"output\":{\n\n"));
  const auto events = Native(Request(true));
  EXPECT_EQ(FinalOf(events).code, RG_ERR_PROTOCOL);
  EXPECT_EQ(FinalOf(events).Json()["message"],
            "malformed JSON in a stream event from qwen endpoint 'cn-beijing'; the partial answer "
            "is incomplete");
}

TEST_F(QwenClientTest, NativeToolCallsAreDeltas) {
  fake_.Enqueue(NativeSse(
      "id:1\nevent:result\n:HTTP_STATUS/"
      "200\ndata:{\"output\":{\"choices\":[{\"message\":{\"content\":\"\",\"role\":\"assistant\","
      "\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":"
      "\"get_weather\",\"arguments\":\"{\\\"city\\\"\"}}]},\"finish_reason\":\"null\"}]},\"usage\":"
      "{\"input_tokens\":5,\"output_tokens\":3,\"total_tokens\":8}}\n\n"
      "id:2\nevent:result\n:HTTP_STATUS/"
      "200\ndata:{\"output\":{\"choices\":[{\"message\":{\"content\":\"\",\"role\":\"assistant\","
      "\"tool_calls\":[{\"index\":0,\"id\":\"\",\"type\":\"function\",\"function\":{\"arguments\":"
      "\":\\\"Paris\\\"}\"}}]},\"finish_reason\":\"tool_calls\"}]},\"usage\":{\"input_tokens\":5,"
      "\"output_tokens\":6,\"total_tokens\":11}}\n\n"));
  const auto events = Native(Request(true));
  const auto deltas = test::ToolDeltasOf(events);
  ASSERT_EQ(deltas.size(), 2u);
  EXPECT_EQ(
      deltas[0],
      json({{"index", 0}, {"id", "call_1"}, {"name", "get_weather"}, {"arguments", "{\"city\""}}));
  EXPECT_EQ(deltas[1], json({{"index", 0}, {"arguments", ":\"Paris\"}"}}));
  EXPECT_EQ(FinalOf(events).finish, RG_FINISH_TOOL_CALLS);
}

TEST_F(QwenClientTest, NativeCancellationStopsTheStream) {
  fake_.cancel_after_chunks = 2;
  fake_.Enqueue(NativeSse(NativeEvent(1, "我是", "null", 2) + NativeEvent(2, "", "stop", 2)));
  EXPECT_EQ(FinalOf(Native(Request(true))).code, RG_ERR_CANCELLED);
}

TEST_F(QwenClientTest, CompatSinkStopIsCancelled) {
  fake_.Enqueue(test::Sse(
      DataFrames({CompatChunk("a"), CompatChunk("b"), CompatChunk("", R"("stop")"), "[DONE]"})));
  const auto events = Compat(Request(true), /*stop_after_texts=*/1);
  EXPECT_EQ(TextOf(events), "a");
  EXPECT_EQ(FinalOf(events).code, RG_ERR_CANCELLED);
}

}  // namespace
}  // namespace rg::plugins::qwen
