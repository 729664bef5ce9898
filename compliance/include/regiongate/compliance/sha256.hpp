// SHA-256 for manifest revisions (explain, audit) and plug-in binary pins. Self-contained so
// rg::compliance needs no crypto library; not for secrets, only for content identity.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "regiongate/result.hpp"

namespace rg::compliance {

/// Lower-case hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

/// Lower-case hex SHA-256 of a file's bytes; error RG-M001 when it cannot be read.
Result<std::string> Sha256File(const std::filesystem::path& path);

}  // namespace rg::compliance
