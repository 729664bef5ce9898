#include "regiongate/tools/sim_behavior.hpp"

#include <charconv>
#include <optional>

namespace rg::tools {
namespace {

struct KindName {
  BehaviorKind kind;
  std::string_view name;
};

constexpr KindName kKinds[] = {
    {BehaviorKind::kNormal, "normal"},
    {BehaviorKind::kInputBlock, "input-block"},
    {BehaviorKind::kOutputBlock, "output-block"},
    {BehaviorKind::kRateLimit, "rate-limit"},
    {BehaviorKind::kServerError, "server-error"},
    {BehaviorKind::kUnavailable, "unavailable"},
    {BehaviorKind::kAuthFailure, "auth-failure"},
    {BehaviorKind::kSlowFirstByte, "slow-first-byte"},
    {BehaviorKind::kStall, "stall"},
    {BehaviorKind::kTruncate, "truncate"},
    {BehaviorKind::kMalformedChunk, "malformed-chunk"},
    {BehaviorKind::kFlaky, "flaky"},
    {BehaviorKind::kRefusal, "refusal"},
    {BehaviorKind::kExpireToken, "expire-token"},
    {BehaviorKind::kReverse, "reverse"},
};

std::optional<int64_t> ParseNumber(std::string_view text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < 0) return std::nullopt;
  return value;
}

std::string KnownList() {
  std::string out;
  for (const auto& k : kKinds) {
    if (!out.empty()) out += ", ";
    out += k.name;
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

std::string_view BehaviorName(BehaviorKind kind) {
  for (const auto& k : kKinds) {
    if (k.kind == kind) return k.name;
  }
  return "normal";
}

const std::vector<std::string_view>& BehaviorNames() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const auto& k : kKinds) out.push_back(k.name);
    return out;
  }();
  return names;
}

Result<Behavior> ParseBehavior(std::string_view spec, std::string_view source) {
  spec = Trim(spec);
  const size_t colon = spec.find(':');
  const std::string_view name = spec.substr(0, colon);
  const bool has_arg = colon != std::string_view::npos;
  const std::string_view arg = has_arg ? spec.substr(colon + 1) : std::string_view();

  const KindName* found = nullptr;
  for (const auto& k : kKinds) {
    if (k.name == name) found = &k;
  }
  if (found == nullptr) {
    return Error{"RG-S010", std::string(source) + ": unknown simulator behavior '" +
                                std::string(name) + "' (known: " + KnownList() + ")"};
  }

  Behavior behavior;
  behavior.kind = found->kind;
  behavior.spec = std::string(spec);
  const auto bad_arg = [&](std::string_view wants) {
    return Error{"RG-S011", std::string(source) + ": behavior '" + std::string(name) + "' " +
                                std::string(wants) + ", got '" + std::string(arg) + "'"};
  };
  const auto number_or = [&](int64_t fallback, int64_t minimum,
                             std::string_view wants) -> Result<Behavior> {
    if (!has_arg) {
      behavior.number = fallback;
      return behavior;
    }
    const auto value = ParseNumber(arg);
    if (!value || *value < minimum) return bad_arg(wants);
    behavior.number = *value;
    return behavior;
  };

  switch (behavior.kind) {
    case BehaviorKind::kNormal:
    case BehaviorKind::kServerError:
    case BehaviorKind::kUnavailable:
    case BehaviorKind::kAuthFailure:
    case BehaviorKind::kMalformedChunk:
    case BehaviorKind::kRefusal:
    case BehaviorKind::kReverse:
      if (has_arg) return bad_arg("takes no argument");
      return behavior;
    case BehaviorKind::kInputBlock:
    case BehaviorKind::kOutputBlock:
      return number_or(-1, 0, "takes an optional Qianfan flag (a number such as 2)");
    case BehaviorKind::kRateLimit:
      return number_or(-1, 0, "takes optional Retry-After seconds (a number such as 2)");
    case BehaviorKind::kSlowFirstByte:
      return number_or(kDefaultSlowFirstByteMs, 0, "takes milliseconds (a number such as 500)");
    case BehaviorKind::kStall:
      return number_or(kDefaultStallMs, 0, "takes milliseconds (a number such as 500)");
    case BehaviorKind::kFlaky:
    case BehaviorKind::kExpireToken:
      return number_or(1, 1, "takes a request count of at least 1 (such as 2)");
    case BehaviorKind::kTruncate:
      if (!has_arg || arg == "clean") return behavior;
      if (arg == "abort") {
        behavior.abort = true;
        return behavior;
      }
      return bad_arg("takes 'clean' or 'abort'");
  }
  return behavior;
}

MarkerSearch FindMarker(std::string_view text) {
  static constexpr std::string_view kOpen = "[[sim:";
  static constexpr std::string_view kClose = "]]";
  MarkerSearch out;
  const size_t open = text.find(kOpen);
  const size_t close =
      open == std::string_view::npos ? open : text.find(kClose, open + kOpen.size());
  if (close == std::string_view::npos) {
    out.stripped = std::string(Trim(text));
    return out;
  }
  out.found = true;
  out.spec = std::string(text.substr(open + kOpen.size(), close - open - kOpen.size()));
  std::string_view before = text.substr(0, open);
  std::string_view after = text.substr(close + kClose.size());
  // "say hi [[sim:stall]] please" reads "say hi please", not "say hi  please".
  if (!before.empty() && before.back() == ' ' && !after.empty() && after.front() == ' ') {
    after.remove_prefix(1);
  }
  out.stripped = std::string(Trim(std::string(before) + std::string(after)));
  return out;
}

}  // namespace rg::tools
