// Canonical JSON helpers. Requests and responses cross the ABI as JSON close to OpenAI chat
// completions; these helpers read the canonical request and build vendor-neutral pieces.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "regiongate/sdk/guard.hpp"
#include "regiongate/sdk/host.hpp"

namespace rg::sdk {

/// A parsed canonical request. Keys the plug-in does not know stay in `json` so they can be
/// passed through to vendors that accept them.
struct CanonicalRequest {
  nlohmann::json json;
  std::string model;
  bool stream = false;

  const nlohmann::json& messages() const { return json.at("messages"); }
  std::optional<int64_t> max_tokens() const {
    for (const char* key : {"max_completion_tokens", "max_tokens"}) {
      if (auto it = json.find(key); it != json.end() && it->is_number_integer()) {
        return it->get<int64_t>();
      }
    }
    return std::nullopt;
  }
  /// Text of the last user message (string content or text parts joined).
  std::string LastUserText() const;
};

/// Parses and checks the canonical request; errors are RG_ERR_INVALID_REQUEST with a
/// message naming the key.
inline Status ParseCanonicalRequest(std::string_view text, CanonicalRequest* out) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return {RG_ERR_INVALID_REQUEST, "request is not a JSON object"};
  }
  auto model = json.find("model");
  if (model == json.end() || !model->is_string() || model->get_ref<const std::string&>().empty()) {
    return {RG_ERR_INVALID_REQUEST, "request key 'model' must be a non-empty string"};
  }
  auto messages = json.find("messages");
  if (messages == json.end() || !messages->is_array() || messages->empty()) {
    return {RG_ERR_INVALID_REQUEST, "request key 'messages' must be a non-empty array"};
  }
  for (const auto& m : *messages) {
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string()) {
      return {RG_ERR_INVALID_REQUEST, "every message needs a string 'role'"};
    }
  }
  out->model = model->get<std::string>();
  auto stream = json.find("stream");
  out->stream = stream != json.end() && stream->is_boolean() && stream->get<bool>();
  out->json = std::move(json);
  return {};
}

/// Text of a message's content: a string, or the "text" of each text part.
inline std::string ContentText(const nlohmann::json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string out;
  if (content.is_array()) {
    for (const auto& part : content) {
      if (part.is_object() && part.value("type", "") == "text" && part.contains("text") &&
          part["text"].is_string()) {
        out += part["text"].get<std::string>();
      }
    }
  }
  return out;
}

inline std::string CanonicalRequest::LastUserText() const {
  const auto& list = messages();
  for (auto it = list.rbegin(); it != list.rend(); ++it) {
    if (it->value("role", "") == "user" && it->contains("content")) {
      return ContentText((*it)["content"]);
    }
  }
  return {};
}

/// Parses a JSON body without throwing; returns a discarded value on failure.
inline nlohmann::json ParseJson(std::string_view text) {
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

/// Reads an integer member that vendors sometimes send as a string; `fallback` otherwise.
inline int64_t IntMember(const nlohmann::json& object, const char* key, int64_t fallback = 0) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  if (it == object.end()) return fallback;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number()) return static_cast<int64_t>(it->get<double>());
  if (it->is_string()) {
    const std::string& text = it->get_ref<const std::string&>();
    char* end = nullptr;
    const long long value = std::strtoll(text.c_str(), &end, 10);
    if (!text.empty() && end != nullptr && *end == '\0') return static_cast<int64_t>(value);
  }
  return fallback;
}

/// Delay the vendor asks for before a retry, from retry-after-ms or retry-after (seconds;
/// an HTTP date is ignored). nullopt when absent or unreadable.
inline std::optional<int64_t> RetryAfterMs(const HttpResponse& response) {
  const std::string ms = response.Header("retry-after-ms");
  if (!ms.empty()) {
    char* end = nullptr;
    const double value = std::strtod(ms.c_str(), &end);
    if (end != ms.c_str() && value >= 0) return static_cast<int64_t>(value);
  }
  const std::string seconds = response.Header("retry-after");
  if (!seconds.empty()) {
    char* end = nullptr;
    const double value = std::strtod(seconds.c_str(), &end);
    if (end != seconds.c_str() && *end == '\0' && value >= 0) {
      return static_cast<int64_t>(value * 1000.0);
    }
  }
  return std::nullopt;
}

/// The canonical code for an HTTP status that carries no more specific vendor signal.
inline rg_code CodeForHttpStatus(int status) {
  if (status == 401 || status == 403) return RG_ERR_AUTH;
  if (status == 429) return RG_ERR_RATE_LIMITED;
  if (status == 408 || status == 409 || status >= 500) {
    return status == 501 ? RG_ERR_UNAVAILABLE : RG_ERR_RETRYABLE;
  }
  if (status == 404) return RG_ERR_UNAVAILABLE;
  if (status >= 400) return RG_ERR_INVALID_REQUEST;
  return RG_OK;
}

}  // namespace rg::sdk
