// Internals shared by the simulator's vendor handlers and its HTTP server: the parsed
// request, the response plan a handler returns (head, body pieces, faults), the shared
// state (fault counters, Qianfan v1 tokens) and the text/id/JSON helpers.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "regiongate/tools/sim_behavior.hpp"
#include "regiongate/tools/vendor_sim.hpp"

namespace rg::tools::sim {

using Json = nlohmann::json;
// Responses keep the vendors' key order, so wire bytes match the reference captures.
using OJson = nlohmann::ordered_json;
using Headers = std::vector<std::pair<std::string, std::string>>;

struct SimRequest {
  std::string method;
  std::string path;                            ///< target without the query
  std::map<std::string, std::string> query;    ///< decoded
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;

  /// The header value, or "" when absent.
  std::string Header(const std::string& lower_name) const;
};

/// What the server writes for one request. Handlers only build plans; the server owns
/// sockets, timers and framing.
struct ResponsePlan {
  enum class End {
    kComplete,    ///< the body ends properly; the connection may be reused
    kCleanClose,  ///< the body ends properly (chunked: the zero chunk), then close
    kAbort,       ///< close at once: a chunked body lacks its zero chunk, a sized one bytes
  };

  int status = 200;
  Headers headers;  ///< everything except Content-Length/Transfer-Encoding/Connection
  bool chunked = false;
  std::vector<std::string> pieces;
  std::optional<size_t> declared_length;  ///< Content-Length when it differs from the pieces
  std::chrono::milliseconds first_byte_delay{0};
  size_t stall_before = SIZE_MAX;  ///< index of the piece preceded by `stall`
  std::chrono::milliseconds stall{0};
  End end = End::kComplete;

  // For --verbose.
  std::string vendor;
  std::string behavior = "normal";
};

/// One SSE event before framing.
struct StreamEvent {
  std::string payload;           ///< JSON text, or "[DONE]"
  bool content = false;          ///< carries answer text (positions faults)
  std::string event = "result";  ///< DashScope native `event:` value
  int http_status = 200;         ///< DashScope native `:HTTP_STATUS/` value
};

enum class Framing {
  kDataSpace,        ///< "data: X\n\n" (OpenAI, compatible mode, Qianfan)
  kDashScopeNative,  ///< "id:N\nevent:E\n:HTTP_STATUS/S\ndata:X\n\n"
};

struct QianfanToken {
  std::string ak;
  int64_t generation = 0;
  int64_t issued_at_ms = 0;
};

/// State shared by every connection.
class SimState {
 public:
  explicit SimState(const VendorSimOptions& options) : options_(options) {}

  const VendorSimOptions& options() const { return options_; }
  int64_t Now() const;      ///< wall clock, seconds
  int64_t NowMs() const;    ///< wall clock, milliseconds (token lifetimes)
  int64_t Created() const;  ///< `created` value for responses

  /// Increments and returns the counter under `key` (flaky, expire-token).
  int64_t Bump(const std::string& key);
  void ResetCounters();

  /// The current access token for `ak`, issuing the next one when the last expired.
  std::pair<std::string, int64_t> IssueToken(const std::string& ak);
  enum class TokenCheck { kValid, kInvalid, kExpired };
  TokenCheck CheckToken(const std::string& token);
  /// Revokes `token` (its AK moves to the next token).
  void RevokeToken(const std::string& token);
  void ExpireAllTokens();

 private:
  std::string TokenFor(const std::string& ak, int64_t generation) const;

  const VendorSimOptions& options_;
  std::mutex mu_;
  std::map<std::string, int64_t> counters_;
  std::map<std::string, int64_t> generation_;         ///< per AK
  std::map<std::string, int64_t> generation_issued_;  ///< "AK|gen" -> issue time, ms
  std::map<std::string, QianfanToken> tokens_;
};

// ---- text, tokens, ids ------------------------------------------------------------------

int64_t CountCodePoints(std::string_view text);
/// The simulator's token count: ceil(code points / 4).
int64_t TokenCount(std::string_view text);
/// The first `max_code_points` code points of `text`.
std::string TruncateCodePoints(std::string_view text, int64_t max_code_points);
/// Splits into pieces of `per_piece` code points (never inside a UTF-8 sequence).
std::vector<std::string> SplitCodePoints(std::string_view text, int per_piece);

uint64_t Fnv1a(std::string_view text, uint64_t seed = 0);
std::string HexId(std::string_view seed, size_t length);
std::string AlnumId(std::string_view seed, size_t length, bool lower_only);
std::string UuidId(std::string_view seed);

/// Serialises without throwing on invalid UTF-8.
std::string Dump(const OJson& value);

// ---- request reading ---------------------------------------------------------------------

/// The parsed JSON object, or nullopt when the body is not a JSON object.
std::optional<Json> ParseObject(const std::string& body);
const Json* Find(const Json& object, const char* key);
bool GetBool(const Json& object, const char* key, bool fallback);
std::optional<int64_t> GetInt(const Json& object, const char* key);
std::string GetString(const Json& object, const char* key);
/// Text of a message `content` (a string, or the text parts of an array).
std::string ContentText(const Json& content);

/// What every vendor handler needs from a chat request.
struct ChatInput {
  std::string last_user;          ///< raw text of the last user message (marker included)
  std::string prompt;             ///< last user text without the marker
  int64_t input_code_points = 0;  ///< all message contents
  MarkerSearch marker;
};
/// Reads `messages` (an array); nullopt when it is missing or not an array.
std::optional<ChatInput> ReadMessages(const Json* messages);

/// The deterministic answer: "Echo: <prompt>", cut to `max_tokens` when given.
struct Answer {
  std::string text;
  std::vector<std::string> pieces;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  bool cut_by_length = false;
};
Answer MakeAnswer(const ChatInput& input, std::optional<int64_t> max_tokens, int chunk_chars);
/// Joined text of the first `count` pieces.
std::string JoinPieces(const std::vector<std::string>& pieces, size_t count);
/// How many pieces an output block lets through (at least one, about half).
size_t PartialPieceCount(size_t pieces);

// ---- behaviors ---------------------------------------------------------------------------

/// The behavior for a request: marker, then X-Sim-Behavior, then --behavior. `counter_key`
/// scopes flaky / expire-token counting (vendor + prompt); `flaky` is resolved here into
/// `unavailable` or `normal`, `expire-token` is left for Qianfan v1 (others: normal).
Result<Behavior> ResolveBehavior(const SimRequest& request, const MarkerSearch& marker,
                                 const std::string& counter_key, SimState& state,
                                 bool keep_expire_token);

// ---- plan building -----------------------------------------------------------------------

/// A plain (non-stream) response with `body`.
ResponsePlan BodyPlan(int status, Headers headers, std::string body);
/// Applies slow-first-byte / stall / truncate / malformed-chunk to a non-stream success.
void ApplyBodyFaults(const Behavior& behavior, ResponsePlan& plan);
/// Frames `events` into a chunked SSE plan, applying the stream faults on the way.
ResponsePlan StreamPlan(Headers headers, std::vector<StreamEvent> events, Framing framing,
                        const Behavior& behavior);
/// Delay from slow-first-byte (applies to any plan).
void ApplyFirstByteDelay(const Behavior& behavior, ResponsePlan& plan);

// ---- vendors -----------------------------------------------------------------------------

ResponsePlan HandleOpenAi(const SimRequest& request, SimState& state);
ResponsePlan HandleDashScopeCompat(const SimRequest& request, SimState& state);
ResponsePlan HandleDashScopeNative(const SimRequest& request, SimState& state);
ResponsePlan HandleQianfanV2(const SimRequest& request, SimState& state);
ResponsePlan HandleQianfanToken(const SimRequest& request, SimState& state);
/// `suffix` is the part after ".../wenxinworkshop/chat/".
ResponsePlan HandleQianfanV1(const SimRequest& request, const std::string& suffix, SimState& state);

}  // namespace rg::tools::sim
