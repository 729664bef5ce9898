// The C side of the host services table (rg_host_services): the trampolines plug-ins call,
// and the per-plug-in and per-call contexts behind the ABI's opaque handles. Private to
// rg::core.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "regiongate/abi.h"
#include "regiongate/core/host.hpp"
#include "regiongate/core/http_transport.hpp"
#include "regiongate/core/plugin_loader.hpp"

namespace rg::core {

/// What the trampolines need from the host.
class HostServicesBackend {
 public:
  virtual ~HostServicesBackend() = default;
  virtual void Log(const std::string& plugin_id, rg_log_level level, std::string_view text) = 0;
  virtual bool LogEnabled(rg_log_level level) const = 0;
  virtual std::optional<std::string> Secret(std::string_view name) = 0;
  /// `request.url` holds the path relative to the endpoint; target.endpoint_id is set.
  virtual HttpOutcome Http(rg_call& call, HttpRequest request, HttpResponseHandler& handler) = 0;
};

/// Creates the services table handed to a plug-in's entry point. A plug-in's entry runs once
/// per process (dlopen shares one handle), so its table and context live for the whole
/// process; each Host attaches itself as the context's backend when it loads the plug-in and
/// detaches when it goes away (calls always carry their own backend through rg_call).
class HostServicesFactory {
 public:
  /// A new table for `plugin_id`, attached to `backend`. Never freed (see above).
  static const rg_host_services* Create(const std::string& plugin_id, HostServicesBackend* backend);
  /// Points the plug-in's context at `backend` (the host that just loaded it).
  static void Attach(const rg_host_services* services, HostServicesBackend* backend);
  /// Points it back at the detached backend if it still points at `backend`.
  static void Detach(const rg_host_services* services, HostServicesBackend* backend);
};

}  // namespace rg::core

/// Per-plug-in context behind rg_host_context*.
struct rg_host_context {
  std::atomic<rg::core::HostServicesBackend*> backend{nullptr};
  std::string plugin_id;
  rg_host_services services{};
};

/// Per-call context behind rg_call*.
struct rg_call {
  rg::core::HostServicesBackend* backend = nullptr;
  const rg::core::LoadedPlugin* plugin = nullptr;
  std::string region;
  std::string locale;
  rg::core::CancelToken cancel;
};
