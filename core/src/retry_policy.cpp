#include "regiongate/core/retry_policy.hpp"

#include <algorithm>
#include <cmath>

namespace rg::core {

bool RetryPolicy::IsRetryable(rg_code code) {
  return code == RG_ERR_RETRYABLE || code == RG_ERR_RATE_LIMITED;
}

std::optional<std::chrono::milliseconds> RetryPolicy::DelayBefore(
    int attempt, rg_code code, std::optional<int64_t> retry_after_ms, double random01) const {
  if (!IsRetryable(code) || attempt >= max_attempts) return std::nullopt;
  if (retry_after_ms.has_value()) {
    // The vendor said when: wait exactly that, unless it is longer than we accept.
    if (*retry_after_ms < 0 || *retry_after_ms > max_retry_after.count()) return std::nullopt;
    return std::chrono::milliseconds(*retry_after_ms);
  }
  const double base = static_cast<double>(initial_delay.count()) *
                      std::pow(2.0, static_cast<double>(std::max(0, attempt - 1)));
  const double capped = std::min(base, static_cast<double>(max_delay.count()));
  const double jittered = capped * (1.0 - jitter * std::clamp(random01, 0.0, 1.0));
  return std::chrono::milliseconds(static_cast<int64_t>(jittered));
}

}  // namespace rg::core
