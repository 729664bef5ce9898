// EventWriter: the plug-in side of the event sink. It enforces the ABI's stream rules —
// exactly one FINAL event, nothing after it — so vendor clients cannot get them wrong.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "regiongate/abi.h"
#include "regiongate/sdk/guard.hpp"

namespace rg::sdk {

/// Token accounting for the whole call so far.
struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t total_tokens = 0;

  nlohmann::json ToJson() const {
    return {{"prompt_tokens", prompt_tokens},
            {"completion_tokens", completion_tokens},
            {"total_tokens", total_tokens}};
  }
};

class EventWriter {
 public:
  explicit EventWriter(const rg_event_sink* sink) : sink_(sink) {}

  /// Appends answer text. Returns false once the host asked to stop (or FINAL was sent).
  bool Text(std::string_view text) {
    if (text.empty()) return !stopped_ && !finished_;
    text_bytes_ += text.size();
    return Emit(RG_EVENT_TEXT_DELTA, text);
  }

  bool ToolCallDelta(const nlohmann::json& delta) {
    return Emit(RG_EVENT_TOOL_CALL_DELTA, delta.dump());
  }

  /// Reports running totals; the last one wins.
  bool ReportUsage(const Usage& usage) {
    usage_ = usage;
    has_usage_ = true;
    return Emit(RG_EVENT_USAGE, usage.ToJson().dump());
  }

  /// Ends the call. Only the first FINAL is sent; later calls return the first code.
  rg_code Final(rg_finish_reason finish, rg_code code, const nlohmann::json& data = nullptr) {
    if (finished_) return final_code_;
    finished_ = true;
    final_code_ = code;
    const std::string payload = data.is_null() ? std::string("{}") : data.dump();
    rg_event event{};
    event.struct_size = sizeof event;
    event.kind = RG_EVENT_FINAL;
    event.data = ToRgStr(payload);
    event.finish = finish;
    event.code = code;
    sink_->emit(sink_->user, &event);
    return code;
  }

  /// FINAL for a failure: `details` may add retry_after_ms, http_status, vendor_code, ...
  rg_code Fail(rg_code code, std::string_view message, nlohmann::json details = nullptr) {
    if (!details.is_object()) details = nlohmann::json::object();
    details["message"] = std::string(message);
    const rg_finish_reason finish = code == RG_ERR_CANCELLED          ? RG_FINISH_CANCELLED
                                    : code == RG_ERR_PROVIDER_BLOCKED ? RG_FINISH_CONTENT_FILTER
                                                                      : RG_FINISH_ERROR;
    return Final(finish, code, details);
  }

  /// FINAL for a vendor content-safety block; `blocked` is "input" or "output".
  rg_code Blocked(std::string_view blocked, std::string_view message,
                  nlohmann::json details = nullptr) {
    if (!details.is_object()) details = nlohmann::json::object();
    details["blocked"] = std::string(blocked);
    return Fail(RG_ERR_PROVIDER_BLOCKED, message, std::move(details));
  }

  rg_code Cancelled() { return Fail(RG_ERR_CANCELLED, "cancelled by the host"); }

  bool finished() const { return finished_; }
  rg_code final_code() const { return final_code_; }
  bool stopped() const { return stopped_; }
  bool has_usage() const { return has_usage_; }
  const Usage& usage() const { return usage_; }
  /// Bytes of answer text delivered so far (0 = nothing reached the host yet).
  size_t text_bytes() const { return text_bytes_; }

 private:
  bool Emit(rg_event_kind kind, std::string_view data) {
    if (finished_ || stopped_) return false;
    rg_event event{};
    event.struct_size = sizeof event;
    event.kind = kind;
    event.data = ToRgStr(data);
    if (sink_->emit(sink_->user, &event) != 0) stopped_ = true;
    return !stopped_;
  }

  const rg_event_sink* sink_;
  Usage usage_;
  size_t text_bytes_ = 0;
  rg_code final_code_ = RG_OK;
  bool has_usage_ = false;
  bool finished_ = false;
  bool stopped_ = false;
};

}  // namespace rg::sdk
