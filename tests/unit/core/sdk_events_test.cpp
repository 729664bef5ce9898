// EventWriter enforces the ABI's stream rules for plug-in code: exactly one FINAL, nothing
// after it, and a stop request from the host ends output.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "regiongate/sdk/events.hpp"

namespace {

struct Recorded {
  rg_event_kind kind;
  std::string data;
  rg_finish_reason finish;
  rg_code code;
};

struct Recorder {
  std::vector<Recorded> events;
  int stop_after = -1;  // return "stop" once this many events were seen

  rg_event_sink Sink() {
    rg_event_sink sink{};
    sink.struct_size = sizeof sink;
    sink.user = this;
    sink.emit = [](void* user, const rg_event* e) -> int {
      auto* self = static_cast<Recorder*>(user);
      self->events.push_back({e->kind, std::string(e->data.ptr, e->data.len), e->finish, e->code});
      return self->stop_after >= 0 && static_cast<int>(self->events.size()) >= self->stop_after ? 1
                                                                                                : 0;
    };
    return sink;
  }
};

TEST(SdkEvents, OnlyTheFirstFinalIsSent) {
  Recorder rec;
  const rg_event_sink sink = rec.Sink();
  rg::sdk::EventWriter out(&sink);
  EXPECT_TRUE(out.Text("hello"));
  EXPECT_TRUE(out.ReportUsage({3, 1, 4}));
  EXPECT_EQ(out.Final(RG_FINISH_STOP, RG_OK), RG_OK);
  EXPECT_EQ(out.Fail(RG_ERR_INTERNAL, "late"), RG_OK);
  EXPECT_FALSE(out.Text("after final"));
  ASSERT_EQ(rec.events.size(), 3u);
  EXPECT_EQ(rec.events[0].kind, RG_EVENT_TEXT_DELTA);
  EXPECT_EQ(rec.events[1].data, R"({"completion_tokens":1,"prompt_tokens":3,"total_tokens":4})");
  EXPECT_EQ(rec.events[2].kind, RG_EVENT_FINAL);
  EXPECT_EQ(rec.events[2].finish, RG_FINISH_STOP);
}

TEST(SdkEvents, BlockedCarriesWhichSideAndTheContentFilterFinish) {
  Recorder rec;
  const rg_event_sink sink = rec.Sink();
  rg::sdk::EventWriter out(&sink);
  out.Blocked("output", "vendor content safety stopped the answer", {{"vendor_code", "x"}});
  ASSERT_EQ(rec.events.size(), 1u);
  EXPECT_EQ(rec.events[0].finish, RG_FINISH_CONTENT_FILTER);
  EXPECT_EQ(rec.events[0].code, RG_ERR_PROVIDER_BLOCKED);
  EXPECT_EQ(rec.events[0].data,
            R"({"blocked":"output","message":"vendor content safety stopped the answer",)"
            R"("vendor_code":"x"})");
}

TEST(SdkEvents, HostStopRequestEndsOutput) {
  Recorder rec;
  rec.stop_after = 2;
  const rg_event_sink sink = rec.Sink();
  rg::sdk::EventWriter out(&sink);
  EXPECT_TRUE(out.Text("a"));
  EXPECT_FALSE(out.Text("b"));
  EXPECT_TRUE(out.stopped());
  EXPECT_FALSE(out.Text("c"));
  out.Cancelled();
  ASSERT_EQ(rec.events.size(), 3u);  // a, b, FINAL
  EXPECT_EQ(rec.events[2].finish, RG_FINISH_CANCELLED);
  EXPECT_EQ(rec.events[2].code, RG_ERR_CANCELLED);
}

}  // namespace
