#include "regiongate/core/version.hpp"

namespace rg::core {

std::string_view HostVersion() { return RG_VERSION; }

}  // namespace rg::core
