// rg-vendor-sim as a library: one loopback HTTP server that imitates the OpenAI, DashScope
// (compatible mode and native) and Qianfan (v2 and v1) chat APIs byte for byte, quirks and
// faults included (docs/simulators.md), so plug-ins and the host are tested without a vendor.
// The executable and the tests both use this class; tests run it in-process.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "regiongate/result.hpp"

namespace rg::tools {

/// Vendor facts that vendor-protocols.md marks UNCONFIRMED (or "usually"), each settable
/// from the command line so a test can pin the variant it cares about.
struct VendorFacts {
  /// Seconds in `retry-after` on an OpenAI 429; -1 sends no header.
  int openai_retry_after_s = 1;
  /// `error.code` of an OpenAI 401.
  std::string openai_auth_error_code = "invalid_api_key";
  /// `error.type` / `error.code` of an OpenAI 429.
  std::string openai_rate_limit_type = "requests";
  std::string openai_rate_limit_code = "rate_limit_exceeded";
  /// Model-name prefixes that reject `max_tokens` (o-series and GPT-5 reasoning models);
  /// names containing "-chat" are exempt (gpt-5-chat-latest is not a reasoning model).
  std::vector<std::string> openai_reasoning_prefixes = {"o1", "o3", "o4", "gpt-5"};
  /// HTTP status of a DashScope input content block (400 documented, 429 seen once).
  int dashscope_input_block_status = 400;
  /// Whether compatible mode sends `data: [DONE]` after a mid-stream error chunk.
  bool dashscope_compat_done_after_error = true;
  /// Native streaming: errors known before the first event (input block, 429, 5xx) come
  /// as HTTP 200 + an `event:error` frame (true, as observed for InvalidParameter) or as a
  /// plain HTTP error with a JSON body (false). A wrong key is always a plain 401.
  bool dashscope_native_sse_errors_as_events = true;
  /// Whether DashScope answers carry x-ratelimit-* headers (never observed on free keys).
  bool dashscope_ratelimit_headers = false;
  /// `object` of Qianfan v2 stream chunks.
  std::string qianfan_v2_chunk_object = "chat.completion.chunk";
  /// Text that accompanies a Qianfan content block (the answer or `result`).
  std::string qianfan_block_text;
  /// `flag` of a Qianfan input block and of an output block (a behavior ARG overrides).
  int qianfan_input_block_flag = 3;
  int qianfan_output_block_flag = 4;
  /// Qianfan v1 streams: cumulative `usage` in every chunk (true) or only in the last.
  bool qianfan_v1_cumulative_stream_usage = true;
  /// HTTP status of Qianfan v1 `{"error_code":...}` bodies ("usually HTTP 200").
  int qianfan_v1_error_status = 200;
  /// Whether Qianfan v1 also sends X-Ratelimit-Remaining-* headers.
  bool qianfan_v1_ratelimit_remaining = false;
};

struct VendorSimOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;                        ///< 0 = ephemeral
  bool allow_non_loopback = false;          ///< plain HTTP with fake keys: loopback unless asked
  int threads = 2;                          ///< I/O threads; every connection is asynchronous
  bool verbose = false;                     ///< one line per request on the log sink (never keys)
  std::string default_behavior = "normal";  ///< NAME[:ARG] when a request names none
  int chunk_chars = 4;                      ///< code points of answer text per stream chunk
  int chunk_interval_ms = 0;                ///< pause between stream chunks
  int64_t created = 0;                      ///< `created` timestamps; 0 = the current time

  std::string openai_key = "sk-sim-openai";
  std::string dashscope_key = "sk-sim-dashscope";
  std::string qianfan_key = "bce-v3/ALTAK-sim";
  std::string qianfan_ak = "sim-ak";
  std::string qianfan_sk = "sim-sk";
  int64_t qianfan_token_ttl_s = 2592000;             ///< `expires_in` of v1 access tokens (30 days)
  std::vector<std::string> qianfan_v2_extra_models;  ///< accepted besides the known ids

  VendorFacts facts;

  /// Where verbose lines go; empty = stderr.
  std::function<void(std::string_view line)> log_sink;
};

/// Checks option values without binding anything. Errors: RG-S001 (non-loopback host),
/// RG-S002 (a value out of range), RG-S010/RG-S011 (bad --behavior).
Result<void> ValidateOptions(const VendorSimOptions& options);

/// The Qianfan v1 model -> URL suffix table (vendor-protocols.md §3.3), in table order.
const std::vector<std::pair<std::string, std::string>>& QianfanV1Suffixes();

/// The Qianfan v2 model ids the simulator accepts by default (vendor-protocols.md §3.4);
/// any other id gets the vendor's 401 `invalid_model`.
const std::vector<std::string>& QianfanV2KnownModels();

class VendorSim {
 public:
  explicit VendorSim(VendorSimOptions options);
  ~VendorSim();  ///< stops the server
  VendorSim(const VendorSim&) = delete;
  VendorSim& operator=(const VendorSim&) = delete;

  /// Validates the options, binds, and starts serving on background threads.
  /// Errors: those of ValidateOptions, RG-S003 (cannot listen), RG-S004 (already started).
  Result<void> Start();

  /// Stops accepting, drops every open connection (streams end abruptly) and joins the
  /// threads. Idempotent; safe to call from any thread except an I/O thread.
  void Stop();

  /// The bound port (after Start).
  uint16_t port() const;
  /// "http://HOST:PORT" (after Start).
  std::string BaseUrl() const;

  /// Revokes every Qianfan v1 access token issued so far: chat calls with them get
  /// error_code 111 and the token endpoint issues the next token of the sequence.
  void ExpireQianfanTokens();
  /// Forgets the `flaky` / `expire-token` counters.
  void ResetCounters();
  /// Requests answered so far (all routes).
  uint64_t RequestsServed() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rg::tools
