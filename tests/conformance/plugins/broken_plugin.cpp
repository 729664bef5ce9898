// Deliberately broken plug-ins: each is a working echo plug-in (no network, answers with the
// last user message) with exactly one defect, chosen at build time, that
// `regiongate conformance` must catch and name precisely (tests/conformance/CMakeLists.txt):
//   RG_BROKEN_WRONG_ABI       its table speaks ABI major 2 while its manifest says 1
//   RG_BROKEN_TWO_FINALS      every call ends with two FINAL events
//   RG_BROKEN_IGNORES_CANCEL  keeps streaming after the host says stop
//   RG_BROKEN_LEAKY           logs its API key
//   RG_BROKEN_CRASHY          dies with SIGSEGV on a streaming request
//   RG_BROKEN_HANGS           never returns from complete()
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include <nlohmann/json.hpp>

#include "regiongate/abi.h"

#ifndef RG_BROKEN_ID
#error "RG_BROKEN_ID must be defined by the build"
#endif
#ifndef RG_BROKEN_VERSION
#error "RG_BROKEN_VERSION must be defined by the build"
#endif

namespace {

const rg_host_services* g_host = nullptr;

struct Instance {
  std::string api_key_secret = "CONFORMANCE_TEST_API_KEY";
};

rg_str Str(std::string_view text) { return rg_str{text.data(), text.size()}; }

int Emit(const rg_event_sink* sink, rg_event_kind kind, std::string_view data,
         rg_finish_reason finish = RG_FINISH_NONE, rg_code code = RG_OK) {
  rg_event event{};
  event.struct_size = sizeof event;
  event.kind = kind;
  event.data = Str(data);
  event.finish = finish;
  event.code = code;
  return sink->emit(sink->user, &event);
}

rg_code Final(const rg_event_sink* sink, rg_finish_reason finish, rg_code code) {
  Emit(sink, RG_EVENT_FINAL, "{}", finish, code);
#ifdef RG_BROKEN_TWO_FINALS
  Emit(sink, RG_EVENT_FINAL, "{}", finish, code);
#endif
  return code;
}

bool Cancelled(const rg_request* request) {
#ifdef RG_BROKEN_IGNORES_CANCEL
  (void)request;
  return false;
#else
  return g_host->is_cancelled != nullptr && g_host->is_cancelled(request->call) != 0;
#endif
}

rg_code InstanceCreate(rg_str config_json, rg_instance** out, rg_error* error) noexcept {
  try {
    auto instance = std::make_unique<Instance>();
    const auto config = nlohmann::json::parse(std::string_view(config_json.ptr, config_json.len),
                                              nullptr, /*allow_exceptions=*/false);
    if (config.is_object() && config.contains("settings") &&
        config["settings"].value("api_key_secret", "") != "") {
      instance->api_key_secret = config["settings"]["api_key_secret"].get<std::string>();
    }
    *out = reinterpret_cast<rg_instance*>(instance.release());
    return RG_OK;
  } catch (...) {
    g_host->error_set(error, RG_ERR_INTERNAL, Str(RG_BROKEN_ID ": instance_create failed"));
    return RG_ERR_INTERNAL;
  }
}

void InstanceDestroy(rg_instance* instance) noexcept {
  delete reinterpret_cast<Instance*>(instance);
}

rg_code Complete(rg_instance* handle, const rg_request* request,
                 const rg_event_sink* sink) noexcept {
  try {
    const auto& instance = *reinterpret_cast<const Instance*>(handle);
    const auto body = nlohmann::json::parse(std::string_view(request->json.ptr, request->json.len),
                                            nullptr, /*allow_exceptions=*/false);
    std::string prompt;
    if (body.is_object() && body.contains("messages") && body["messages"].is_array()) {
      for (const auto& m : body["messages"]) {
        if (m.is_object() && m.value("role", "") == "user" && m.contains("content") &&
            m["content"].is_string()) {
          prompt = m["content"].get<std::string>();
        }
      }
    }
    const bool stream = body.is_object() && body.value("stream", false);
    (void)stream;
    (void)instance;
#ifdef RG_BROKEN_LEAKY
    char key[256];
    size_t length = 0;
    const std::string& name = instance.api_key_secret;
    if (g_host->secret_get(g_host->context, Str(name), key, sizeof key, &length) == RG_OK &&
        length <= sizeof key) {
      const std::string line =
          RG_BROKEN_ID ": calling the vendor with key " + std::string(key, length);
      g_host->log(g_host->context, RG_LOG_INFO, Str(line));
    }
#endif
#ifdef RG_BROKEN_CRASHY
    if (stream) std::raise(SIGSEGV);
#endif
#ifdef RG_BROKEN_HANGS
    for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
#endif
    // The answer in small pieces, so that a stream has something to stop.
    constexpr size_t kPiece = 8;
    for (size_t at = 0; at < prompt.size(); at += kPiece) {
      if (Cancelled(request)) return Final(sink, RG_FINISH_CANCELLED, RG_ERR_CANCELLED);
      const int stop = Emit(sink, RG_EVENT_TEXT_DELTA, std::string_view(prompt).substr(at, kPiece));
#ifdef RG_BROKEN_IGNORES_CANCEL
      (void)stop;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
#else
      if (stop != 0) return Final(sink, RG_FINISH_CANCELLED, RG_ERR_CANCELLED);
#endif
    }
    return Final(sink, RG_FINISH_STOP, RG_OK);
  } catch (...) {
    return Final(sink, RG_FINISH_ERROR, RG_ERR_INTERNAL);
  }
}

#ifdef RG_BROKEN_WRONG_ABI
constexpr uint16_t kAbiMajor = RG_ABI_VERSION_MAJOR + 1;
#else
constexpr uint16_t kAbiMajor = RG_ABI_VERSION_MAJOR;
#endif

constexpr rg_plugin kPlugin = {
    sizeof(rg_plugin),
    kAbiMajor,
    0,
    RG_BROKEN_ID,
    RG_BROKEN_VERSION,
    "regiongate tests",
    R"({"models":["echo-1"],"endpoints":["local"],"capabilities":["streaming","cancellation"]})",
    &InstanceCreate,
    &InstanceDestroy,
    &Complete,
    nullptr,
};

}  // namespace

extern "C" RG_PLUGIN_EXPORT rg_code rg_plugin_entry(const rg_host_services* host,
                                                    uint32_t /*host_abi_major*/,
                                                    uint32_t /*host_abi_minor*/,
                                                    const rg_plugin** out) {
  if (out == nullptr || host == nullptr) return RG_ERR_INVALID_REQUEST;
  g_host = host;
  *out = &kPlugin;
  return RG_OK;
}
