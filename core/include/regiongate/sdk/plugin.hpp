// Everything a C++ plug-in needs: implement rg::sdk::Instance, describe the plug-in with a
// PluginDefinition, and put RG_SDK_DEFINE_PLUGIN(Definition) in the entry file. The SDK
// provides the C trampolines, the catch-all guard, ABI negotiation and the one-FINAL rule.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "regiongate/abi.h"
#include "regiongate/sdk/events.hpp"
#include "regiongate/sdk/guard.hpp"
#include "regiongate/sdk/host.hpp"
#include "regiongate/sdk/json.hpp"
#include "regiongate/sdk/settings.hpp"
#include "regiongate/sdk/sse.hpp"

namespace rg::sdk {

/// What one call sees: the parsed request, the endpoint the gate chose, and the call handle
/// for cancellation and HTTP.
struct CallContext {
  const Host& host;
  rg_call* call;
  std::string endpoint_id;
  CanonicalRequest request;

  bool Cancelled() const { return host.Cancelled(call); }
};

/// One configured instance. Complete() may run concurrently for different requests.
class Instance {
 public:
  virtual ~Instance() = default;
  /// Runs the completion, pushing events to `out`; must end with out.Final()/Fail(). If it
  /// returns without a FINAL, the SDK sends RG_ERR_INTERNAL for it.
  virtual void Complete(const CallContext& context, EventWriter& out) = 0;
};

struct PluginDefinition {
  const char* id;
  const char* version;
  const char* vendor;
  const char* description_json;  ///< {"models":[...],"endpoints":[...],"capabilities":[...]}
  /// Creates an instance from the configuration ({"settings":..., "endpoints":...}).
  std::unique_ptr<Instance> (*create)(const Host& host, const nlohmann::json& config,
                                      Status* error);
};

namespace detail {

inline Host& GlobalHost() {
  static Host host;
  return host;
}

inline const PluginDefinition*& GlobalDefinition() {
  static const PluginDefinition* definition = nullptr;
  return definition;
}

inline void WriteError(rg_error* error, rg_code code, const std::string& message) {
  if (error == nullptr) return;
  error->code = code;  // also when a host's error_set forgets to
  const rg_host_services* services = GlobalHost().services();
  if (services != nullptr && services->error_set != nullptr) {
    services->error_set(error, code, ToRgStr(message));
    return;
  }
  SetError(error, code, message);
}

inline rg_code InstanceCreate(rg_str config_json, rg_instance** out, rg_error* error) {
  return Guard(
      [&]() -> rg_code {
        *out = nullptr;
        nlohmann::json config = ParseJson(FromRgStr(config_json));
        if (config.is_discarded() || !config.is_object()) {
          WriteError(error, RG_ERR_INVALID_REQUEST, "instance configuration is not a JSON object");
          return RG_ERR_INVALID_REQUEST;
        }
        Status status;
        std::unique_ptr<Instance> instance =
            GlobalDefinition()->create(GlobalHost(), config, &status);
        if (!instance) {
          if (status.ok()) status = {RG_ERR_INTERNAL, "plug-in created no instance"};
          WriteError(error, status.code, status.message);
          return status.code;
        }
        *out = reinterpret_cast<rg_instance*>(instance.release());
        return RG_OK;
      },
      [&](rg_code code, const std::string& message) { WriteError(error, code, message); });
}

inline void InstanceDestroy(rg_instance* instance) {
  GuardVoid([&] { delete reinterpret_cast<Instance*>(instance); });
}

inline rg_code Complete(rg_instance* instance, const rg_request* request,
                        const rg_event_sink* sink) {
  EventWriter out(sink);
  Guard(
      [&]() -> rg_code {
        CallContext context{
            GlobalHost(), request->call, std::string(FromRgStr(request->endpoint_id)), {}};
        const Status parsed = ParseCanonicalRequest(FromRgStr(request->json), &context.request);
        if (!parsed.ok()) return out.Fail(parsed.code, parsed.message);
        reinterpret_cast<Instance*>(instance)->Complete(context, out);
        return RG_OK;
      },
      [&](rg_code c, const std::string& message) { out.Fail(c, message); });
  if (!out.finished()) out.Fail(RG_ERR_INTERNAL, "plug-in returned without a final event");
  // The FINAL event carries the authoritative code; complete() returns the same one.
  return out.final_code();
}

inline void Shutdown() {}

inline rg_code Entry(const PluginDefinition& definition, const rg_host_services* host,
                     uint32_t /*host_major*/, uint32_t /*host_minor*/, const rg_plugin** out) {
  return Guard(
      [&]() -> rg_code {
        GlobalHost() = Host(host);
        GlobalDefinition() = &definition;
        // The table speaks the version this plug-in was compiled against; the host refuses
        // it with a precise message when that does not fit.
        static const rg_plugin table = [&] {
          rg_plugin t{};
          t.struct_size = sizeof(rg_plugin);
          t.abi_major = RG_ABI_VERSION_MAJOR;
          t.abi_minor = RG_ABI_VERSION_MINOR;
          t.id = definition.id;
          t.version = definition.version;
          t.vendor = definition.vendor;
          t.description_json = definition.description_json;
          t.instance_create = &InstanceCreate;
          t.instance_destroy = &InstanceDestroy;
          t.complete = &Complete;
          t.shutdown = &Shutdown;
          return t;
        }();
        *out = &table;
        return RG_OK;
      },
      [](rg_code, const std::string&) {});
}

}  // namespace detail
}  // namespace rg::sdk

/// Defines the exported entry symbol for a plug-in described by `definition` (an object of
/// type rg::sdk::PluginDefinition with static storage duration).
#define RG_SDK_DEFINE_PLUGIN(definition)                                                        \
  extern "C" RG_PLUGIN_EXPORT rg_code rg_plugin_entry(const rg_host_services* host,             \
                                                      uint32_t host_major, uint32_t host_minor, \
                                                      const rg_plugin** out) {                  \
    return ::rg::sdk::detail::Entry(definition, host, host_major, host_minor, out);             \
  }
