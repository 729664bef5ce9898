// "echo": a well-behaved test plug-in that answers with the last user message. It loads,
// describes itself, accepts settings, streams one TEXT_DELTA (or several, with chunk_size)
// and one FINAL, and honours cancellation through is_cancelled and the sink's return value.
// Host, loader and conformance tests use it where no vendor can be reached.
//
// Settings (plugin.yaml): prefix (string, put before the echo), chunk_size (integer, split
// the echo into deltas of at most this many bytes on UTF-8 boundaries; 0 = one delta).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "regiongate/abi.h"

#ifndef RG_TEST_PLUGIN_VERSION
#error "RG_TEST_PLUGIN_VERSION must be defined by the build"
#endif

namespace {

const rg_host_services* g_host = nullptr;  // set once by the entry, valid until unload

struct EchoInstance {
  std::string prefix;
  size_t chunk_size = 0;
};

rg_str Str(std::string_view text) { return rg_str{text.data(), text.size()}; }

void Log(rg_log_level level, std::string_view message) {
  if (g_host != nullptr && RG_HAS_MEMBER(g_host, log) && g_host->log != nullptr) {
    g_host->log(g_host->context, level, Str(message));
  }
}

void SetError(rg_error* error, rg_code code, std::string_view message) {
  if (g_host != nullptr && g_host->error_set != nullptr)
    g_host->error_set(error, code, Str(message));
}

bool Cancelled(const rg_request* request) {
  return g_host != nullptr && g_host->is_cancelled != nullptr && request->call != nullptr &&
         g_host->is_cancelled(request->call) != 0;
}

int Emit(const rg_event_sink* sink, rg_event_kind kind, std::string_view data,
         rg_finish_reason finish = RG_FINISH_NONE, rg_code code = RG_OK) {
  rg_event event{};
  event.struct_size = sizeof(rg_event);
  event.kind = kind;
  event.data = Str(data);
  event.finish = finish;
  event.code = code;
  return sink->emit(sink->user, &event);
}

rg_code Finish(const rg_event_sink* sink, rg_finish_reason finish, rg_code code,
               const std::string& message = "") {
  const std::string data =
      message.empty() ? std::string("{}") : nlohmann::json{{"message", message}}.dump();
  Emit(sink, RG_EVENT_FINAL, data, finish, code);
  return code;
}

// Text of a message's content: a string, or the text parts of a list of parts.
std::string ContentText(const nlohmann::json& content) {
  if (content.is_string()) return content.get<std::string>();
  std::string text;
  if (content.is_array()) {
    for (const auto& part : content) {
      if (part.is_object() && part.value("type", "") == "text" && part.contains("text") &&
          part["text"].is_string()) {
        text += part["text"].get<std::string>();
      }
    }
  }
  return text;
}

// Length of the longest prefix of `text` of at most `limit` bytes that ends on a UTF-8
// boundary (at least one code point, so progress is always made).
size_t ChunkLength(std::string_view text, size_t limit) {
  if (text.size() <= limit) return text.size();
  size_t length = limit;
  while (length > 0 && (static_cast<unsigned char>(text[length]) & 0xC0) == 0x80) --length;
  if (length == 0) {
    length = 1;
    while (length < text.size() && (static_cast<unsigned char>(text[length]) & 0xC0) == 0x80) {
      ++length;
    }
  }
  return length;
}

rg_code InstanceCreate(rg_str config_json, rg_instance** out, rg_error* error) noexcept {
  try {
    if (out == nullptr) {
      SetError(error, RG_ERR_INVALID_REQUEST, "echo: instance_create needs an output pointer");
      return RG_ERR_INVALID_REQUEST;
    }
    auto instance = std::make_unique<EchoInstance>();
    const std::string_view text(config_json.ptr != nullptr ? config_json.ptr : "",
                                config_json.ptr != nullptr ? config_json.len : 0);
    if (!text.empty()) {
      const auto config = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (!config.is_object()) {
        SetError(error, RG_ERR_INVALID_REQUEST, "echo: configuration is not a JSON object");
        return RG_ERR_INVALID_REQUEST;
      }
      const auto settings = config.find("settings");
      if (settings != config.end() && !settings->is_null()) {
        if (!settings->is_object()) {
          SetError(error, RG_ERR_INVALID_REQUEST, "echo: 'settings' is not a JSON object");
          return RG_ERR_INVALID_REQUEST;
        }
        if (const auto prefix = settings->find("prefix"); prefix != settings->end()) {
          if (!prefix->is_string()) {
            SetError(error, RG_ERR_INVALID_REQUEST, "echo: setting 'prefix' must be a string");
            return RG_ERR_INVALID_REQUEST;
          }
          instance->prefix = prefix->get<std::string>();
        }
        if (const auto chunk = settings->find("chunk_size"); chunk != settings->end()) {
          if (!chunk->is_number_integer() || chunk->get<int64_t>() < 0) {
            SetError(error, RG_ERR_INVALID_REQUEST,
                     "echo: setting 'chunk_size' must be a non-negative integer");
            return RG_ERR_INVALID_REQUEST;
          }
          instance->chunk_size = static_cast<size_t>(chunk->get<int64_t>());
        }
      }
    }
    Log(RG_LOG_DEBUG, "echo: instance created");
    *out = reinterpret_cast<rg_instance*>(instance.release());
    return RG_OK;
  } catch (const std::bad_alloc&) {
    SetError(error, RG_ERR_INTERNAL, "echo: out of memory");
    return RG_ERR_INTERNAL;
  } catch (...) {
    SetError(error, RG_ERR_INTERNAL, "echo: unexpected failure in instance_create");
    return RG_ERR_INTERNAL;
  }
}

void InstanceDestroy(rg_instance* instance) noexcept {
  delete reinterpret_cast<EchoInstance*>(instance);
}

rg_code Complete(rg_instance* handle, const rg_request* request,
                 const rg_event_sink* sink) noexcept {
  if (sink == nullptr || sink->emit == nullptr) return RG_ERR_INVALID_REQUEST;
  try {
    if (handle == nullptr || request == nullptr) {
      return Finish(sink, RG_FINISH_ERROR, RG_ERR_INVALID_REQUEST,
                    "echo: complete needs an instance and a request");
    }
    const auto& instance = *reinterpret_cast<const EchoInstance*>(handle);
    const std::string_view text(request->json.ptr != nullptr ? request->json.ptr : "",
                                request->json.ptr != nullptr ? request->json.len : 0);
    const auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!json.is_object() || !json.contains("messages") || !json["messages"].is_array()) {
      return Finish(sink, RG_FINISH_ERROR, RG_ERR_INVALID_REQUEST,
                    "echo: the request has no 'messages' list");
    }
    const nlohmann::json* last_user = nullptr;
    for (const auto& message : json["messages"]) {
      if (message.is_object() && message.value("role", "") == "user") last_user = &message;
    }
    if (last_user == nullptr) {
      return Finish(sink, RG_FINISH_ERROR, RG_ERR_INVALID_REQUEST,
                    "echo: the request has no user message to echo");
    }
    const std::string answer =
        instance.prefix + ContentText(last_user->value("content", nlohmann::json()));

    std::string_view rest = answer;
    do {
      if (Cancelled(request)) return Finish(sink, RG_FINISH_CANCELLED, RG_ERR_CANCELLED);
      const size_t length =
          instance.chunk_size == 0 ? rest.size() : ChunkLength(rest, instance.chunk_size);
      if (Emit(sink, RG_EVENT_TEXT_DELTA, rest.substr(0, length)) != 0) {
        return Finish(sink, RG_FINISH_CANCELLED, RG_ERR_CANCELLED);
      }
      rest.remove_prefix(length);
    } while (!rest.empty());
    if (Cancelled(request)) return Finish(sink, RG_FINISH_CANCELLED, RG_ERR_CANCELLED);
    return Finish(sink, RG_FINISH_STOP, RG_OK);
  } catch (...) {
    return Finish(sink, RG_FINISH_ERROR, RG_ERR_INTERNAL, "echo: unexpected failure");
  }
}

constexpr rg_plugin kPlugin = {
    sizeof(rg_plugin),
    RG_ABI_VERSION_MAJOR,
    0,
    "echo",
    RG_TEST_PLUGIN_VERSION,
    "regiongate tests",
    R"({"models":["echo-1"],"endpoints":["local"],"capabilities":["streaming","cancellation"]})",
    &InstanceCreate,
    &InstanceDestroy,
    &Complete,
    nullptr,
};

}  // namespace

extern "C" RG_PLUGIN_EXPORT rg_code rg_plugin_entry(const rg_host_services* host,
                                                    uint32_t host_abi_major,
                                                    uint32_t /*host_abi_minor*/,
                                                    const rg_plugin** out) {
  if (out == nullptr || host == nullptr) return RG_ERR_INVALID_REQUEST;
  if (host_abi_major != RG_ABI_VERSION_MAJOR) return RG_ERR_UNAVAILABLE;
  g_host = host;
  *out = &kPlugin;
  return RG_OK;
}
