// Scriptable simulator behaviors: what `[[sim:NAME[:ARG]]]` in a prompt, an
// `X-Sim-Behavior: NAME[:ARG]` header or `--behavior NAME[:ARG]` asks rg-vendor-sim to do
// with one request (a vendor's content block, a 429, a stalled or truncated stream, ...).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "regiongate/result.hpp"

namespace rg::tools {

enum class BehaviorKind {
  kNormal,          ///< a complete answer
  kInputBlock,      ///< the vendor's input content-safety refusal
  kOutputBlock,     ///< partial text, then the vendor's output block signal
  kRateLimit,       ///< 429 (or the vendor's equivalent) with its rate-limit headers
  kServerError,     ///< 500 (or the vendor's equivalent)
  kUnavailable,     ///< 503 (or the vendor's equivalent)
  kAuthFailure,     ///< the vendor's answer to a wrong key
  kSlowFirstByte,   ///< a normal answer whose first byte waits ARG milliseconds
  kStall,           ///< a normal stream that pauses ARG milliseconds halfway
  kTruncate,        ///< the body ends halfway, before the terminator / final event
  kMalformedChunk,  ///< one chunk (or the body) is invalid JSON
  kFlaky,           ///< the first ARG requests with the same prompt get `unavailable`
  kRefusal,         ///< OpenAI only: a model refusal (`message.refusal`); normal elsewhere
  kExpireToken,     ///< Qianfan v1 only: the first ARG requests revoke their token (111)
  kReverse,         ///< a normal answer echoing the prompt with its characters reversed
                    ///< (lets a test make the model say what the prompt did not contain)
};

/// One parsed behavior. `number` is the numeric argument after defaults were applied
/// (milliseconds, a count, Retry-After seconds or a Qianfan flag), -1 when there is none.
struct Behavior {
  BehaviorKind kind = BehaviorKind::kNormal;
  int64_t number = -1;
  bool abort = false;  ///< truncate:abort: close without ending the HTTP body
  std::string spec;    ///< as written, for logs
};

/// Milliseconds used when `slow-first-byte` / `stall` come without an argument.
inline constexpr int64_t kDefaultSlowFirstByteMs = 2000;
inline constexpr int64_t kDefaultStallMs = 10000;

/// Parses "NAME" or "NAME:ARG". `source` names where the spec came from ("--behavior",
/// "header X-Sim-Behavior", "marker [[sim:...]]") and starts the error message.
/// Errors: RG-S010 (unknown name), RG-S011 (bad argument).
Result<Behavior> ParseBehavior(std::string_view spec, std::string_view source);

/// The canonical name ("input-block", ...) of a kind.
std::string_view BehaviorName(BehaviorKind kind);

/// Every behavior name, in documentation order.
const std::vector<std::string_view>& BehaviorNames();

/// A `[[sim:...]]` marker found in a prompt.
struct MarkerSearch {
  bool found = false;
  std::string spec;      ///< the text between "[[sim:" and "]]"
  std::string stripped;  ///< the prompt without the marker, trimmed
};

/// Finds the first `[[sim:...]]` marker in `text`.
MarkerSearch FindMarker(std::string_view text);

}  // namespace rg::tools
