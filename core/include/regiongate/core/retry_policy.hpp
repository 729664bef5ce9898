// When and how long to wait before retrying a failed completion: capped exponential backoff
// with jitter, honouring the vendor's Retry-After within a bound.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "regiongate/abi.h"

namespace rg::core {

struct RetryPolicy {
  int max_attempts = 3;  ///< total attempts, first included; 1 disables retries
  std::chrono::milliseconds initial_delay{500};
  std::chrono::milliseconds max_delay{8'000};
  /// A Retry-After longer than this is not waited for: the error goes to the caller.
  std::chrono::milliseconds max_retry_after{60'000};
  double jitter = 0.25;  ///< delay is reduced by up to this fraction, at random

  /// True for codes worth another attempt (retryable, rate-limited).
  static bool IsRetryable(rg_code code);

  /// Delay before attempt number `attempt + 1` (attempt counts from 1), or nullopt to give
  /// up. `random01` is a uniform draw in [0,1) so tests can pin it.
  std::optional<std::chrono::milliseconds> DelayBefore(int attempt, rg_code code,
                                                       std::optional<int64_t> retry_after_ms,
                                                       double random01) const;
};

}  // namespace rg::core
