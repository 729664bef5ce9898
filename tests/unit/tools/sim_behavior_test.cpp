// Parsing of simulator behaviors and [[sim:...]] markers.
#include "regiongate/tools/sim_behavior.hpp"

#include <gtest/gtest.h>

namespace rg::tools {
namespace {

Behavior Parse(std::string_view spec) {
  Result<Behavior> result = ParseBehavior(spec, "test");
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
  return result.ok() ? result.value() : Behavior{};
}

std::string Refusal(std::string_view spec) {
  Result<Behavior> result = ParseBehavior(spec, "header X-Sim-Behavior");
  EXPECT_FALSE(result.ok()) << spec;
  return result.ok() ? "" : result.error().id + " " + result.error().message;
}

TEST(SimBehavior, EveryNameParsesToItsKind) {
  for (std::string_view name : BehaviorNames()) {
    const Behavior behavior = Parse(name);
    EXPECT_EQ(BehaviorName(behavior.kind), name);
    EXPECT_EQ(behavior.spec, name);
  }
  EXPECT_EQ(BehaviorNames().size(), 15U);
}

TEST(SimBehavior, ArgumentsAndTheirDefaults) {
  EXPECT_EQ(Parse("slow-first-byte").number, kDefaultSlowFirstByteMs);
  EXPECT_EQ(Parse("slow-first-byte:250").number, 250);
  EXPECT_EQ(Parse("stall").number, kDefaultStallMs);
  EXPECT_EQ(Parse("stall:0").number, 0);
  EXPECT_EQ(Parse("flaky").number, 1);
  EXPECT_EQ(Parse("flaky:3").number, 3);
  EXPECT_EQ(Parse("expire-token:2").number, 2);
  EXPECT_EQ(Parse("rate-limit").number, -1);
  EXPECT_EQ(Parse("rate-limit:5").number, 5);
  EXPECT_EQ(Parse("input-block:2").number, 2);
  EXPECT_EQ(Parse("output-block").number, -1);
  EXPECT_FALSE(Parse("truncate").abort);
  EXPECT_FALSE(Parse("truncate:clean").abort);
  EXPECT_TRUE(Parse("truncate:abort").abort);
  EXPECT_EQ(Parse("  stall:5 ").number, 5) << "surrounding blanks are ignored";
}

TEST(SimBehavior, RefusesUnknownNamesAndBadArguments) {
  EXPECT_EQ(
      Refusal("explode"),
      "RG-S010 header X-Sim-Behavior: unknown simulator behavior 'explode' (known: normal, "
      "input-block, output-block, rate-limit, server-error, unavailable, auth-failure, "
      "slow-first-byte, stall, truncate, malformed-chunk, flaky, refusal, expire-token, reverse)");
  EXPECT_EQ(Refusal("stall:-5"),
            "RG-S011 header X-Sim-Behavior: behavior 'stall' takes milliseconds (a number such as "
            "500), got '-5'");
  EXPECT_EQ(Refusal("flaky:0"),
            "RG-S011 header X-Sim-Behavior: behavior 'flaky' takes a request count of at least 1 "
            "(such as 2), got '0'");
  EXPECT_EQ(Refusal("truncate:half"),
            "RG-S011 header X-Sim-Behavior: behavior 'truncate' takes 'clean' or 'abort', got "
            "'half'");
  EXPECT_EQ(Refusal("server-error:1"),
            "RG-S011 header X-Sim-Behavior: behavior 'server-error' takes no argument, got '1'");
  EXPECT_EQ(Refusal("rate-limit:soon"),
            "RG-S011 header X-Sim-Behavior: behavior 'rate-limit' takes optional Retry-After "
            "seconds (a number such as 2), got 'soon'");
}

TEST(SimBehavior, FindsTheFirstMarkerAndStripsIt) {
  MarkerSearch found = FindMarker("say hi [[sim:stall:20]] please");
  EXPECT_TRUE(found.found);
  EXPECT_EQ(found.spec, "stall:20");
  EXPECT_EQ(found.stripped, "say hi please");

  found = FindMarker("[[sim:input-block]] bad words");
  EXPECT_EQ(found.spec, "input-block");
  EXPECT_EQ(found.stripped, "bad words");

  found = FindMarker("a [[sim:flaky]] b [[sim:stall]]");
  EXPECT_EQ(found.spec, "flaky");

  found = FindMarker("  no marker here [[sim:unclosed ");
  EXPECT_FALSE(found.found);
  EXPECT_EQ(found.stripped, "no marker here [[sim:unclosed");
}

}  // namespace
}  // namespace rg::tools
