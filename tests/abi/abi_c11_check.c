/* Compiled with -std=c11 -pedantic -Werror: proves abi.h is strict C11. It also exposes
 * the C compiler's view of the layout so the C++ test can compare the two. */
#include "regiongate/abi.h"

#include <stddef.h>

size_t rg_abi_c_sizeof_plugin(void);
size_t rg_abi_c_sizeof_services(void);
size_t rg_abi_c_sizeof_event(void);
size_t rg_abi_c_offsetof_complete(void);
size_t rg_abi_c_offsetof_http(void);

size_t rg_abi_c_sizeof_plugin(void) { return sizeof(rg_plugin); }
size_t rg_abi_c_sizeof_services(void) { return sizeof(rg_host_services); }
size_t rg_abi_c_sizeof_event(void) { return sizeof(rg_event); }
size_t rg_abi_c_offsetof_complete(void) { return offsetof(rg_plugin, complete); }
size_t rg_abi_c_offsetof_http(void) { return offsetof(rg_host_services, http); }
