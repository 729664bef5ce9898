// Plug-ins the loader must refuse, one library per fault. The build defines
// RG_TEST_PLUGIN_ID, RG_TEST_PLUGIN_VERSION and exactly one RG_TEST_MODE_* macro; each mode
// breaks one rule of abi.h and is otherwise a plausible plug-in, so the loader test proves
// that each refusal is caught by its own check (plugin_loader_test.cpp).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <stdexcept>

#include <unistd.h>

#include "regiongate/abi.h"

#if !defined(RG_TEST_PLUGIN_ID) || !defined(RG_TEST_PLUGIN_VERSION)
#error "RG_TEST_PLUGIN_ID and RG_TEST_PLUGIN_VERSION must be defined by the build"
#endif

namespace {

const rg_host_services* g_host = nullptr;

rg_code InstanceCreate(rg_str, rg_instance**, rg_error*) { return RG_ERR_UNAVAILABLE; }
void InstanceDestroy(rg_instance*) {}
rg_code Complete(rg_instance*, const rg_request*, const rg_event_sink* sink) {
  rg_event event{};
  event.struct_size = sizeof(rg_event);
  event.kind = RG_EVENT_FINAL;
  event.finish = RG_FINISH_ERROR;
  event.code = RG_ERR_UNAVAILABLE;
  if (sink != nullptr && sink->emit != nullptr) sink->emit(sink->user, &event);
  return RG_ERR_UNAVAILABLE;
}

#if defined(RG_TEST_MODE_DESCRIPTION_NOT_JSON)
constexpr const char* kDescription = "{models: [" RG_TEST_PLUGIN_ID "-model}";
#elif defined(RG_TEST_MODE_DESCRIPTION_WRONG_SHAPE)
constexpr const char* kDescription = "{\"models\":\"" RG_TEST_PLUGIN_ID
                                     "-model\",\"endpoints\":[\"local\"],"
                                     "\"capabilities\":[\"streaming\"]}";
#elif defined(RG_TEST_MODE_MISMATCH)
// Disagrees with its manifest on version, models and capabilities; agrees on endpoints.
constexpr const char* kDescription =
    "{\"models\":[\"" RG_TEST_PLUGIN_ID "-model\",\"" RG_TEST_PLUGIN_ID
    "-extra\"],\"endpoints\":[\"local\"],\"capabilities\":[]}";
#else
constexpr const char* kDescription = "{\"models\":[\"" RG_TEST_PLUGIN_ID
                                     "-model\"],\"endpoints\":[\"local\"],"
                                     "\"capabilities\":[\"streaming\"]}";
#endif

constexpr rg_plugin MakeTable() {
  rg_plugin table{};
  table.struct_size = sizeof(rg_plugin);
  table.abi_major = RG_ABI_VERSION_MAJOR;
  table.abi_minor = RG_ABI_VERSION_MINOR;
  table.id = RG_TEST_PLUGIN_ID;
  table.version = RG_TEST_PLUGIN_VERSION;
  table.vendor = "regiongate tests";
  table.description_json = kDescription;
  table.instance_create = &InstanceCreate;
  table.instance_destroy = &InstanceDestroy;
  table.complete = &Complete;
  table.shutdown = nullptr;
#if defined(RG_TEST_MODE_TABLE_TOO_SMALL)
  table.struct_size = static_cast<uint32_t>(offsetof(rg_plugin, instance_create));
#elif defined(RG_TEST_MODE_TABLE_HEADER_TOO_SMALL)
  table.struct_size = sizeof(uint32_t);
#elif defined(RG_TEST_MODE_NULL_MEMBERS)
  table.vendor = nullptr;
  table.complete = nullptr;
#elif defined(RG_TEST_MODE_ABI_MAJOR_2)
  table.abi_major = 2;
#elif defined(RG_TEST_MODE_ABI_MINOR_TOO_NEW)
  table.abi_minor = 99;
#elif defined(RG_TEST_MODE_MISMATCH)
  table.version = "9.9.9";
#endif
  return table;
}

constexpr rg_plugin kPlugin = MakeTable();

#if defined(RG_TEST_MODE_CANARY)
// Proves that a refused library never ran: loading this one ends the process at once. The
// tampering test flips one byte of kTamperTarget, which keeps the file a loadable library.
[[gnu::used]] const char kTamperTarget[] = "rg-test-canary-tamper-target";

[[gnu::constructor]] void CanaryConstructor() {
  std::fputs("rg test canary: constructor ran\n", stderr);
  std::fflush(stderr);
  _exit(86);
}
#endif

}  // namespace

extern "C" RG_PLUGIN_EXPORT rg_code rg_plugin_entry(const rg_host_services* host,
                                                    uint32_t /*host_abi_major*/,
                                                    uint32_t /*host_abi_minor*/,
                                                    const rg_plugin** out) {
  g_host = host;
  (void)out;  // unused by the modes that never answer a table
#if defined(RG_TEST_MODE_ENTRY_THROWS)
  throw std::runtime_error("cannot reach the licence server");
#elif defined(RG_TEST_MODE_ENTRY_THROWS_UNKNOWN)
  throw 42;
#elif defined(RG_TEST_MODE_ENTRY_RETURNS_NOTHING)
  return RG_OK;
#elif defined(RG_TEST_MODE_ENTRY_FAILS)
  static constexpr char kMessage[] = "entry-fails: secret ENTRY_FAILS_KEY is not set";
  if (g_host != nullptr && g_host->log != nullptr) {
    g_host->log(g_host->context, RG_LOG_ERROR, rg_str{kMessage, sizeof(kMessage) - 1});
  }
  return RG_ERR_UNAVAILABLE;
#else
  *out = &kPlugin;
  return RG_OK;
#endif
}
