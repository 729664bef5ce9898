// The SDK's SSE parser must read every vendor's framing identically: "data:" with and
// without a space, event:/id: lines, comments, CRLF, and chunk boundaries anywhere.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "regiongate/sdk/sse.hpp"

namespace {

using rg::sdk::SseEvent;
using rg::sdk::SseParser;

std::vector<SseEvent> ParseInChunks(const std::string& stream, size_t chunk) {
  std::vector<SseEvent> events;
  SseParser parser([&](const SseEvent& e) {
    events.push_back(e);
    return true;
  });
  for (size_t i = 0; i < stream.size(); i += chunk) {
    EXPECT_TRUE(parser.Feed(std::string_view(stream).substr(i, chunk)));
  }
  EXPECT_FALSE(parser.HasPartialEvent());
  return events;
}

TEST(SdkSse, OpenAiFramingWithSpace) {
  const std::string stream =
      "data: {\"a\":1}\n\n"
      "data: {\"b\":2}\n\n"
      "data: [DONE]\n\n";
  for (size_t chunk : {1u, 2u, 3u, 7u, 1000u}) {
    auto events = ParseInChunks(stream, chunk);
    ASSERT_EQ(events.size(), 3u) << "chunk " << chunk;
    EXPECT_EQ(events[0].data, "{\"a\":1}");
    EXPECT_EQ(events[1].data, "{\"b\":2}");
    EXPECT_EQ(events[2].data, "[DONE]");
    EXPECT_EQ(events[0].event, "");
  }
}

TEST(SdkSse, DashScopeNativeFramingWithoutSpaces) {
  const std::string stream =
      "id:1\nevent:result\n:HTTP_STATUS/200\ndata:{\"output\":{\"text\":\"hi\"}}\n\n"
      "id:2\nevent:error\n:HTTP_STATUS/400\ndata:{\"code\":\"DataInspectionFailed\"}\n\n";
  for (size_t chunk : {1u, 5u, 64u}) {
    auto events = ParseInChunks(stream, chunk);
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[0].id, "1");
    EXPECT_EQ(events[0].event, "result");
    EXPECT_EQ(events[0].comments, "HTTP_STATUS/200");
    EXPECT_EQ(events[0].data, "{\"output\":{\"text\":\"hi\"}}");
    EXPECT_EQ(events[1].id, "2");
    EXPECT_EQ(events[1].event, "error");
    EXPECT_EQ(events[1].comments, "HTTP_STATUS/400");
  }
}

TEST(SdkSse, CrLfAndCrLineEndingsSplitAcrossChunks) {
  const std::string stream = "data: one\r\n\r\ndata: two\r\rdata: three\n\n";
  for (size_t chunk : {1u, 2u, 3u}) {
    auto events = ParseInChunks(stream, chunk);
    ASSERT_EQ(events.size(), 3u) << "chunk " << chunk;
    EXPECT_EQ(events[0].data, "one");
    EXPECT_EQ(events[1].data, "two");
    EXPECT_EQ(events[2].data, "three");
  }
}

TEST(SdkSse, MultipleDataLinesJoinWithNewline) {
  auto events = ParseInChunks("data: a\ndata:b\ndata:  c\n\n", 4);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "a\nb\n c");  // only one leading space is removed
}

TEST(SdkSse, CommentOnlyAndEmptyEventsAreNotDispatched) {
  auto events = ParseInChunks(": keep-alive\n\n\n\nevent: ping\n\nretry: 10\nunknown: x\n\n", 3);
  EXPECT_TRUE(events.empty());
}

TEST(SdkSse, IdPersistsAcrossEvents) {
  auto events = ParseInChunks("id: 7\ndata: a\n\ndata: b\n\n", 100);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].id, "7");
}

TEST(SdkSse, UnterminatedEventIsReportedAsPartial) {
  std::vector<SseEvent> events;
  SseParser parser([&](const SseEvent& e) {
    events.push_back(e);
    return true;
  });
  ASSERT_TRUE(parser.Feed("data: complete\n\ndata: {\"half\":"));
  EXPECT_EQ(events.size(), 1u);
  EXPECT_TRUE(parser.HasPartialEvent());
  ASSERT_TRUE(parser.Feed("1}\n"));
  EXPECT_TRUE(parser.HasPartialEvent());  // a field line without the blank line
  ASSERT_TRUE(parser.Feed("\n"));
  EXPECT_FALSE(parser.HasPartialEvent());
  EXPECT_EQ(events.size(), 2u);
}

TEST(SdkSse, CallbackCanStopParsing) {
  int seen = 0;
  SseParser parser([&](const SseEvent&) { return ++seen < 2; });
  EXPECT_FALSE(parser.Feed("data: 1\n\ndata: 2\n\ndata: 3\n\n"));
  EXPECT_EQ(seen, 2);
}

}  // namespace
