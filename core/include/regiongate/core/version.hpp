// Version of the regiongate host and the ABI it speaks.
#pragma once

#include <string_view>

namespace rg::core {

/// The host's semantic version, e.g. "0.1.0".
std::string_view HostVersion();

}  // namespace rg::core
