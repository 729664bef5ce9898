// The echo test plug-in, loaded and called through the ABI as the host does: it must be a
// faithful, well-behaved plug-in because host and conformance tests build on it.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "regiongate/core/plugin_loader.hpp"
#include "support/test_services.hpp"

namespace rg::core {
namespace {

namespace fs = std::filesystem;
using test::EventRecorder;
using test::RecordedEvent;
using test::Str;
using test::TestCall;
using test::TestError;
using test::TestServices;

class EchoPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TestServices::Shared().Reset();
    auto loaded = loader_.LoadManifest(fs::path(RG_TEST_PLUGIN_DIR) / "echo" / "plugin.yaml");
    ASSERT_TRUE(loaded.ok()) << loaded.error().id << " " << loaded.error().message;
    plugin_ = loaded.value();
  }

  void TearDown() override {
    if (instance_ != nullptr) plugin_->table->instance_destroy(instance_);
  }

  rg_code Create(const std::string& config, TestError* error = nullptr) {
    TestError ignored;
    return plugin_->table->instance_create(Str(config), &instance_,
                                           (error != nullptr ? error : &ignored)->handle());
  }

  rg_code Complete(const std::string& json, EventRecorder* events, TestCall* call = nullptr) {
    rg_request request{};
    request.struct_size = sizeof(rg_request);
    request.call = call != nullptr ? call->handle() : nullptr;
    request.endpoint_id = Str(endpoint_);
    request.json = Str(json);
    return plugin_->table->complete(instance_, &request, events->sink());
  }

  static void ExpectFinal(const RecordedEvent& event, rg_finish_reason finish, rg_code code,
                          const std::string& data) {
    EXPECT_EQ(event.kind, RG_EVENT_FINAL);
    EXPECT_EQ(event.finish, finish);
    EXPECT_EQ(event.code, code);
    EXPECT_EQ(event.data, data);
  }

  PluginLoader loader_{TestServices::Shared().Factory()};
  std::shared_ptr<const LoadedPlugin> plugin_;
  rg_instance* instance_ = nullptr;
  const std::string endpoint_ = "local";
};

TEST_F(EchoPluginTest, DescribesItselfAsItsManifestDoes) {
  EXPECT_STREQ(plugin_->table->id, "echo");
  EXPECT_EQ(plugin_->manifest.id, "echo");
  EXPECT_EQ(plugin_->abi_major, 1);
  EXPECT_EQ(plugin_->abi_minor, 0);
  ASSERT_EQ(plugin_->manifest.models.size(), 1u);
  EXPECT_EQ(plugin_->manifest.models[0].id, "echo-1");
  EXPECT_TRUE(plugin_->manifest.HasCapability("cancellation"));
}

TEST_F(EchoPluginTest, EchoesTheLastUserMessageThenStops) {
  ASSERT_EQ(Create(R"({"settings":{}})"), RG_OK);
  EventRecorder events;
  EXPECT_EQ(Complete(R"({"model":"echo-1","stream":true,"messages":[
                        {"role":"system","content":"be brief"},
                        {"role":"user","content":"first"},
                        {"role":"assistant","content":"ok"},
                        {"role":"user","content":"second"}]})",
                     &events),
            RG_OK);
  const auto recorded = events.events();
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded[0].kind, RG_EVENT_TEXT_DELTA);
  EXPECT_EQ(recorded[0].data, "second");
  ExpectFinal(recorded[1], RG_FINISH_STOP, RG_OK, "{}");
}

TEST_F(EchoPluginTest, AcceptsAnEmptyConfigurationAndContentParts) {
  ASSERT_EQ(Create(""), RG_OK);
  EventRecorder events;
  EXPECT_EQ(Complete(R"({"messages":[{"role":"user","content":[
                        {"type":"text","text":"hello "},{"type":"image_url","image_url":{}},
                        {"type":"text","text":"world"}]}]})",
                     &events),
            RG_OK);
  EXPECT_EQ(events.Text(), "hello world");
}

TEST_F(EchoPluginTest, AppliesPrefixAndSplitsOnUtf8Boundaries) {
  ASSERT_EQ(Create(R"({"settings":{"prefix":"» ","chunk_size":2}})"), RG_OK);
  EventRecorder events;
  EXPECT_EQ(Complete(R"({"messages":[{"role":"user","content":"héllo"}]})", &events), RG_OK);
  const auto recorded = events.events();
  ASSERT_GE(recorded.size(), 2u);
  EXPECT_EQ(events.Text(), "» héllo");
  for (size_t i = 0; i + 1 < recorded.size(); ++i) {
    EXPECT_EQ(recorded[i].kind, RG_EVENT_TEXT_DELTA);
    ASSERT_FALSE(recorded[i].data.empty());
    EXPECT_LE(recorded[i].data.size(), 2u);
    EXPECT_NE(static_cast<unsigned char>(recorded[i].data[0]) & 0xC0, 0x80)
        << "delta " << i << " starts inside a UTF-8 sequence";
  }
  ExpectFinal(recorded.back(), RG_FINISH_STOP, RG_OK, "{}");
}

TEST_F(EchoPluginTest, RefusesSettingsOfTheWrongType) {
  TestError error;
  EXPECT_EQ(Create(R"({"settings":{"prefix":5}})", &error), RG_ERR_INVALID_REQUEST);
  EXPECT_EQ(error.code, RG_ERR_INVALID_REQUEST);
  EXPECT_EQ(error.message, "echo: setting 'prefix' must be a string");
  EXPECT_EQ(instance_, nullptr);
  EXPECT_EQ(Create(R"({"settings":{"chunk_size":-1}})", &error), RG_ERR_INVALID_REQUEST);
  EXPECT_EQ(error.message, "echo: setting 'chunk_size' must be a non-negative integer");
}

TEST_F(EchoPluginTest, FailsARequestWithoutAUserMessage) {
  ASSERT_EQ(Create(""), RG_OK);
  EventRecorder events;
  EXPECT_EQ(Complete(R"({"messages":[{"role":"system","content":"x"}]})", &events),
            RG_ERR_INVALID_REQUEST);
  const auto recorded = events.events();
  ASSERT_EQ(recorded.size(), 1u);
  ExpectFinal(recorded[0], RG_FINISH_ERROR, RG_ERR_INVALID_REQUEST,
              R"({"message":"echo: the request has no user message to echo"})");
}

TEST_F(EchoPluginTest, StopsWhenTheHostHasCancelledTheCall) {
  ASSERT_EQ(Create(""), RG_OK);
  TestCall call;
  call.cancelled = true;
  EventRecorder events;
  EXPECT_EQ(Complete(R"({"messages":[{"role":"user","content":"hi"}]})", &events, &call),
            RG_ERR_CANCELLED);
  const auto recorded = events.events();
  ASSERT_EQ(recorded.size(), 1u);
  ExpectFinal(recorded[0], RG_FINISH_CANCELLED, RG_ERR_CANCELLED, "{}");
}

TEST_F(EchoPluginTest, StopsWhenTheSinkSaysStop) {
  ASSERT_EQ(Create(R"({"settings":{"chunk_size":1}})"), RG_OK);
  EventRecorder events;
  events.set_stop_after(2);
  EXPECT_EQ(Complete(R"({"messages":[{"role":"user","content":"abcdef"}]})", &events),
            RG_ERR_CANCELLED);
  const auto recorded = events.events();
  ASSERT_EQ(recorded.size(), 3u);
  EXPECT_EQ(events.Text(), "ab");
  ExpectFinal(recorded[2], RG_FINISH_CANCELLED, RG_ERR_CANCELLED, "{}");
}

}  // namespace
}  // namespace rg::core
