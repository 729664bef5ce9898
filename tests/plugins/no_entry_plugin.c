/* A plug-in whose entry has the wrong name (rg_plugin_init): it exports one symbol, but not
 * rg_plugin_entry, so the loader must refuse it after dlopen (RG-L006). Built without
 * rg_add_plugin because that version script exports only rg_plugin_entry. */
#include "regiongate/abi.h"

RG_PLUGIN_EXPORT rg_code rg_plugin_init(const rg_host_services* host, uint32_t host_abi_major,
                                        uint32_t host_abi_minor, const rg_plugin** out);

rg_code rg_plugin_init(const rg_host_services* host, uint32_t host_abi_major,
                       uint32_t host_abi_minor, const rg_plugin** out) {
  (void)host;
  (void)host_abi_major;
  (void)host_abi_minor;
  (void)out;
  return RG_ERR_UNAVAILABLE;
}
