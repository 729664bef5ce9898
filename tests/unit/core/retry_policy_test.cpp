// Retry policy: which codes are retried, capped exponential backoff with jitter, and the
// vendor's Retry-After honoured within a bound.
#include <gtest/gtest.h>

#include "regiongate/core/retry_policy.hpp"

namespace {

using rg::core::RetryPolicy;
using std::chrono::milliseconds;

TEST(RetryPolicy, OnlyTransientCodesAreRetried) {
  RetryPolicy p;
  EXPECT_TRUE(p.DelayBefore(1, RG_ERR_RETRYABLE, std::nullopt, 0).has_value());
  EXPECT_TRUE(p.DelayBefore(1, RG_ERR_RATE_LIMITED, std::nullopt, 0).has_value());
  for (rg_code c : {RG_ERR_AUTH, RG_ERR_INVALID_REQUEST, RG_ERR_PROVIDER_BLOCKED, RG_ERR_CANCELLED,
                    RG_ERR_PROTOCOL, RG_ERR_EGRESS_DENIED, RG_ERR_INTERNAL}) {
    EXPECT_FALSE(p.DelayBefore(1, c, std::nullopt, 0).has_value()) << c;
  }
}

TEST(RetryPolicy, BackoffDoublesAndIsCapped) {
  RetryPolicy p;
  p.max_attempts = 10;
  EXPECT_EQ(*p.DelayBefore(1, RG_ERR_RETRYABLE, std::nullopt, 0), milliseconds(500));
  EXPECT_EQ(*p.DelayBefore(2, RG_ERR_RETRYABLE, std::nullopt, 0), milliseconds(1000));
  EXPECT_EQ(*p.DelayBefore(3, RG_ERR_RETRYABLE, std::nullopt, 0), milliseconds(2000));
  EXPECT_EQ(*p.DelayBefore(6, RG_ERR_RETRYABLE, std::nullopt, 0), milliseconds(8000));
  // Jitter takes off up to 25%.
  EXPECT_EQ(*p.DelayBefore(1, RG_ERR_RETRYABLE, std::nullopt, 1.0), milliseconds(375));
}

TEST(RetryPolicy, GivesUpAfterMaxAttempts) {
  RetryPolicy p;
  p.max_attempts = 3;
  EXPECT_TRUE(p.DelayBefore(2, RG_ERR_RETRYABLE, std::nullopt, 0).has_value());
  EXPECT_FALSE(p.DelayBefore(3, RG_ERR_RETRYABLE, std::nullopt, 0).has_value());
}

TEST(RetryPolicy, RetryAfterIsHonouredWithinBound) {
  RetryPolicy p;
  EXPECT_EQ(*p.DelayBefore(1, RG_ERR_RATE_LIMITED, 1200, 0.9), milliseconds(1200));
  EXPECT_FALSE(p.DelayBefore(1, RG_ERR_RATE_LIMITED, 120'000, 0).has_value());
}

}  // namespace
