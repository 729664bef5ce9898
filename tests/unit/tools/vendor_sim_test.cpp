// rg-vendor-sim server: routing, options, lifecycle, HTTP/1.1 details and concurrency.
// Vendor wire formats are in vendor_sim_{openai,dashscope,qianfan}_test.cpp.
#include "regiongate/tools/vendor_sim.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include <boost/asio/ip/tcp.hpp>

#include "sim_test_client.hpp"

namespace rg::tools::test {
namespace {

TEST(VendorSim, UnknownRouteIs404AndChatRoutesNeedPost) {
  const uint16_t port = SharedSim().port();
  const HttpReply missing = Post(port, "/v1/embeddings", "{}");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(
      missing.Json()["error"]["message"].get<std::string>().rfind(
          "rg-vendor-sim: no route for POST /v1/embeddings; served: POST /v1/chat/completions", 0),
      0U);
  const HttpReply get = Send(port, "GET", "/v1/chat/completions", "");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(get.Json()["error"]["message"],
            "rg-vendor-sim: GET /v1/chat/completions is not served; send POST");
}

TEST(VendorSim, HealthAndAdminEndpoints) {
  const uint16_t port = SharedSim().port();
  EXPECT_EQ(Send(port, "GET", "/sim/health", "").body, R"({"status":"ok"})");
  EXPECT_EQ(Post(port, "/sim/admin/reset-counters", "").status, 200);
}

TEST(VendorSim, AdminEndpointExpiresQianfanTokens) {
  VendorSim sim(TestOptions());
  ASSERT_TRUE(sim.Start().ok());
  const std::string token_target =
      "/oauth/2.0/token?grant_type=client_credentials&client_id=sim-ak&client_secret=sim-sk";
  const std::string token = Post(sim.port(), token_target, "").Json()["access_token"];
  EXPECT_EQ(Post(sim.port(), "/sim/admin/expire-qianfan-tokens", "").status, 200);
  const HttpReply chat = Post(
      sim.port(), "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions?access_token=" + token,
      R"({"messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(chat.Json()["error_code"], 111);
}

TEST(VendorSim, ResetCountersRestartsFlakyCounting) {
  VendorSim sim(TestOptions());
  ASSERT_TRUE(sim.Start().ok());
  const std::string body = UserBody("gpt-4o", "reset me [[sim:flaky]]");
  const Headers auth = {{"Authorization", "Bearer sk-sim-openai"}};
  EXPECT_EQ(Post(sim.port(), "/v1/chat/completions", body, auth).status, 503);
  EXPECT_EQ(Post(sim.port(), "/v1/chat/completions", body, auth).status, 200);
  sim.ResetCounters();
  EXPECT_EQ(Post(sim.port(), "/v1/chat/completions", body, auth).status, 503);
}

TEST(VendorSim, KeepAliveServesPipelinedRequestsOnOneConnection) {
  const std::string body = UserBody("gpt-4o", "first");
  std::string first =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
      "Authorization: Bearer sk-sim-openai\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  const std::string raw =
      Exchange(SharedSim().port(),
               first + RequestBytes("POST", "/v1/chat/completions", UserBody("gpt-4o", "second"),
                                    {{"Authorization", "Bearer sk-sim-openai"}}));
  EXPECT_NE(raw.find("Connection: keep-alive"), std::string::npos);
  EXPECT_NE(raw.find("Echo: first"), std::string::npos);
  EXPECT_NE(raw.find("Echo: second"), std::string::npos);
}

TEST(VendorSim, AnswersExpect100Continue) {
  namespace net = boost::asio;
  net::io_context io;
  net::ip::tcp::socket socket(io);
  socket.connect({net::ip::make_address("127.0.0.1"), SharedSim().port()});
  const std::string body = UserBody("gpt-4o", "continue");
  const std::string head =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
      "Authorization: Bearer sk-sim-openai\r\nExpect: 100-continue\r\n"
      "Connection: close\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n";
  net::write(socket, net::buffer(head));
  std::string interim(25, '\0');
  net::read(socket, net::buffer(interim));
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  net::write(socket, net::buffer(body));
  boost::system::error_code ec;
  std::string rest;
  char buffer[4096];
  for (;;) {
    const size_t n = socket.read_some(net::buffer(buffer), ec);
    rest.append(buffer, n);
    if (ec) break;
  }
  EXPECT_EQ(ParseReply(rest).Json()["choices"][0]["message"]["content"], "Echo: continue");
}

TEST(VendorSim, ServesManyConcurrentStreams) {
  const uint16_t port = SharedSim().port();
  constexpr int kClients = 12;
  std::vector<std::thread> clients;
  clients.reserve(kClients);
  std::mutex mu;
  std::vector<std::string> failures;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      const std::string prompt = "concurrent " + std::to_string(i) + " [[sim:stall:50]]";
      HttpReply reply;
      switch (i % 3) {
        case 0:
          reply = Post(port, "/v1/chat/completions", UserBody("gpt-4o", prompt, {{"stream", true}}),
                       {{"Authorization", "Bearer sk-sim-openai"}});
          break;
        case 1:
          reply = Post(port, "/compatible-mode/v1/chat/completions",
                       UserBody("qwen-plus", prompt, {{"stream", true}}),
                       {{"Authorization", "Bearer sk-sim-dashscope"}});
          break;
        default:
          reply = Post(port, "/v2/chat/completions",
                       UserBody("ernie-4.0-8k", prompt, {{"stream", true}}),
                       {{"Authorization", "Bearer bce-v3/ALTAK-sim"}});
          break;
      }
      std::string text;
      for (const std::string& frame : Frames(reply.body)) {
        const nlohmann::json json = FrameJson(frame);
        if (json.is_discarded() || !json.contains("choices") || json["choices"].empty()) continue;
        const nlohmann::json& delta = json["choices"][0]["delta"];
        if (delta.contains("content") && delta["content"].is_string()) {
          text += delta["content"].get<std::string>();
        }
      }
      const std::vector<std::string> frames = Frames(reply.body);
      if (reply.status != 200 || !reply.complete || frames.empty() ||
          frames.back() != "data: [DONE]" || text != "Echo: concurrent " + std::to_string(i)) {
        std::lock_guard lock(mu);
        failures.push_back("client " + std::to_string(i) + ": status " +
                           std::to_string(reply.status) + ", text '" + text + "'");
      }
    });
  }
  for (std::thread& client : clients) client.join();
  EXPECT_TRUE(failures.empty()) << ::testing::PrintToString(failures);
}

TEST(VendorSim, DefaultBehaviorAppliesToRequestsThatNameNone) {
  VendorSimOptions options = TestOptions();
  options.default_behavior = "rate-limit";
  VendorSim sim(options);
  ASSERT_TRUE(sim.Start().ok());
  const Headers auth = {{"Authorization", "Bearer bce-v3/ALTAK-sim"}};
  EXPECT_EQ(Post(sim.port(), "/v2/chat/completions", UserBody("ernie-4.0-8k", "hi"), auth).status,
            429);
  EXPECT_EQ(
      Post(sim.port(), "/v2/chat/completions", UserBody("ernie-4.0-8k", "hi [[sim:normal]]"), auth)
          .status,
      200);
}

TEST(VendorSim, ChunkCharsSetsThePieceSize) {
  VendorSimOptions options = TestOptions();
  options.chunk_chars = 1;
  VendorSim sim(options);
  ASSERT_TRUE(sim.Start().ok());
  const HttpReply reply =
      Post(sim.port(), "/v2/chat/completions", UserBody("ernie-4.0-8k", "你好", {{"stream", true}}),
           {{"Authorization", "Bearer bce-v3/ALTAK-sim"}});
  // "Echo: 你好" is 8 code points: 8 pieces, the finish chunk and [DONE].
  const std::vector<std::string> frames = Frames(reply.body);
  ASSERT_EQ(frames.size(), 10U);
  EXPECT_EQ(FrameJson(frames[6])["choices"][0]["delta"]["content"], "你");
}

TEST(VendorSim, VerboseLogNamesRoutesButNeverKeysOrTokens) {
  VendorSimOptions options = TestOptions();
  options.verbose = true;
  std::mutex mu;
  std::vector<std::string> lines;
  options.log_sink = [&](std::string_view line) {
    std::lock_guard lock(mu);
    lines.emplace_back(line);
  };
  VendorSim sim(options);
  ASSERT_TRUE(sim.Start().ok());
  const std::string token =
      Post(sim.port(),
           "/oauth/2.0/token?grant_type=client_credentials&client_id=sim-ak&client_secret=sim-sk",
           "")
          .Json()["access_token"];
  Post(sim.port(), "/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions?access_token=" + token,
       R"({"messages":[{"role":"user","content":"hi"}]})");
  Post(sim.port(), "/v1/chat/completions", UserBody("gpt-4o", "hi [[sim:stall:1]]"),
       {{"Authorization", "Bearer sk-sim-openai"}});
  sim.Stop();
  ASSERT_EQ(lines.size(), 3U);
  EXPECT_EQ(lines[0],
            "rg-vendor-sim: POST /oauth/2.0/token -> 200 vendor=qianfan-oauth behavior=normal");
  EXPECT_EQ(lines[1],
            "rg-vendor-sim: POST /rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions -> 200 "
            "vendor=qianfan-v1 behavior=normal");
  EXPECT_EQ(lines[2],
            "rg-vendor-sim: POST /v1/chat/completions -> 200 vendor=openai behavior=stall:1");
  for (const std::string& line : lines) {
    EXPECT_EQ(line.find("sim-sk"), std::string::npos);
    EXPECT_EQ(line.find(token), std::string::npos);
    EXPECT_EQ(line.find("sk-sim-openai"), std::string::npos);
  }
}

TEST(VendorSim, StopDropsAStalledStream) {
  VendorSim sim(TestOptions());
  ASSERT_TRUE(sim.Start().ok());
  HttpReply reply;
  std::thread client([&] {
    reply = Post(sim.port(), "/v1/chat/completions",
                 UserBody("gpt-4o", "hello there [[sim:stall:600000]]", {{"stream", true}}),
                 {{"Authorization", "Bearer sk-sim-openai"}});
  });
  while (sim.RequestsServed() == 0) std::this_thread::yield();
  sim.Stop();
  client.join();
  EXPECT_FALSE(reply.complete);
  sim.Stop();  // idempotent
}

TEST(VendorSim, StartingTwiceOrOnABusyPortIsRefused) {
  VendorSim sim(TestOptions());
  ASSERT_TRUE(sim.Start().ok());
  const Result<void> again = sim.Start();
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().id, "RG-S004");
  EXPECT_EQ(again.error().message, "the simulator is already running on port " +
                                       std::to_string(sim.port()) + "; call Stop() first");
  VendorSimOptions options = TestOptions();
  options.port = sim.port();
  VendorSim clash(options);
  const Result<void> busy = clash.Start();
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().id, "RG-S003");
  EXPECT_EQ(busy.error().message.rfind(
                "cannot listen on 127.0.0.1:" + std::to_string(sim.port()) + " (bind): ", 0),
            0U);
  EXPECT_NE(busy.error().message.find("; pick another --port, or 0 for an ephemeral one"),
            std::string::npos);
}

TEST(VendorSim, OptionsAreValidatedBeforeBinding) {
  VendorSimOptions options = TestOptions();
  options.host = "0.0.0.0";
  Result<void> result = ValidateOptions(options);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().id, "RG-S001");
  EXPECT_EQ(result.error().message,
            "--host 0.0.0.0 is not a loopback address; the simulator serves fake vendors over "
            "plain HTTP, so use 127.0.0.1 or pass --allow-non-loopback");
  options.allow_non_loopback = true;
  EXPECT_TRUE(ValidateOptions(options).ok()) << "the guard can be lifted explicitly";

  options = TestOptions();
  options.host = "localhost";
  EXPECT_EQ(ValidateOptions(options).error().message,
            "--host 'localhost' is not an IP address; pass 127.0.0.1 or ::1");

  options = TestOptions();
  options.chunk_chars = 0;
  EXPECT_EQ(ValidateOptions(options).error().message,
            "--chunk-chars 0 is out of range; pass a value from 1 to 4096");

  options = TestOptions();
  options.default_behavior = "stall:soon";
  result = ValidateOptions(options);
  EXPECT_EQ(result.error().id, "RG-S011");
  EXPECT_EQ(result.error().message,
            "--behavior: behavior 'stall' takes milliseconds (a number such as 500), got 'soon'");
  VendorSim sim(options);
  EXPECT_EQ(sim.Start().error().id, "RG-S011");
}

TEST(VendorSim, QianfanV2KnownModelsCanBeExtended) {
  VendorSimOptions options = TestOptions();
  options.qianfan_v2_extra_models = {"my-finetune"};
  VendorSim sim(options);
  ASSERT_TRUE(sim.Start().ok());
  EXPECT_EQ(Post(sim.port(), "/v2/chat/completions", UserBody("my-finetune", "hi"),
                 {{"Authorization", "Bearer bce-v3/ALTAK-sim"}})
                .status,
            200);
}

}  // namespace
}  // namespace rg::tools::test
