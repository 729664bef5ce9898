// Incremental Server-Sent Events parser for vendor streams. Vendors disagree on framing:
// OpenAI writes "data: {...}", DashScope native writes "data:{...}" with "id:", "event:" and
// ":HTTP_STATUS/200" comment lines and no terminator; some servers use CRLF. This parser
// follows the WHATWG event-stream rules, so all of them parse the same way.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace rg::sdk {

struct SseEvent {
  std::string event;     ///< "event:" field; empty means the default "message"
  std::string data;      ///< "data:" lines joined with '\n'
  std::string id;        ///< last "id:" seen (persists across events, per the spec)
  std::string comments;  ///< comment lines (":..."), joined with '\n'; e.g. "HTTP_STATUS/400"
};

class SseParser {
 public:
  /// Called once per complete event (terminated by a blank line). Return false to stop
  /// parsing; Feed() then returns false too.
  using Callback = std::function<bool(const SseEvent&)>;

  explicit SseParser(Callback on_event) : on_event_(std::move(on_event)) {}

  /// Feeds bytes as they arrive; chunks may split lines and CRLF pairs anywhere.
  bool Feed(std::string_view bytes) {
    for (size_t i = 0; i < bytes.size(); ++i) {
      const char c = bytes[i];
      if (c == '\n' && pending_cr_) {  // second half of a CRLF split across chunks
        pending_cr_ = false;
        continue;
      }
      pending_cr_ = false;
      if (c == '\r' || c == '\n') {
        pending_cr_ = (c == '\r');
        if (!Line(line_)) return false;
        line_.clear();
        continue;
      }
      line_.push_back(c);
      if (line_.size() > kMaxLineBytes) return Overflow();
    }
    return true;
  }

  /// True when bytes of an unterminated event are pending: at end of stream this means the
  /// connection closed mid-event (a truncated stream).
  bool HasPartialEvent() const { return !line_.empty() || has_fields_; }

  /// True when a line exceeded kMaxLineBytes (input rejected; the stream is malformed).
  bool overflowed() const { return overflowed_; }

  static constexpr size_t kMaxLineBytes = 8u << 20;

 private:
  bool Line(std::string_view line) {
    if (line.empty()) return Dispatch();
    has_fields_ = true;
    if (line.front() == ':') {
      if (!current_.comments.empty()) current_.comments.push_back('\n');
      current_.comments.append(line.substr(1));
      return true;
    }
    std::string_view field = line;
    std::string_view value;
    if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
      field = line.substr(0, colon);
      value = line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
      if (has_data_) current_.data.push_back('\n');
      current_.data.append(value);
      has_data_ = true;
    } else if (field == "event") {
      current_.event.assign(value);
    } else if (field == "id") {
      if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
    }
    // "retry" and unknown fields are ignored, as the spec says.
    return true;
  }

  bool Dispatch() {
    bool keep_going = true;
    if (has_data_) {  // the spec drops events without data (e.g. ": keep-alive")
      current_.id = last_id_;
      keep_going = on_event_(current_);
    }
    current_ = SseEvent{};
    has_data_ = false;
    has_fields_ = false;
    return keep_going;
  }

  bool Overflow() {
    overflowed_ = true;
    return false;
  }

  Callback on_event_;
  SseEvent current_;
  std::string line_;
  std::string last_id_;
  bool has_data_ = false;
  bool has_fields_ = false;
  bool pending_cr_ = false;
  bool overflowed_ = false;
};

}  // namespace rg::sdk
