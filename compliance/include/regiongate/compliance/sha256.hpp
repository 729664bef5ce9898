// SHA-256 for manifest revisions (explain, audit), plug-in binary pins and the audit hash
// chain, and HMAC-SHA256 for the audit trail's salted prompt hash. Self-contained so
// rg::compliance needs no crypto library.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "regiongate/result.hpp"

namespace rg::compliance {

/// Lower-case hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

/// Lower-case hex HMAC-SHA256 (RFC 2104) of `message` under `key`: the audit trail's salted
/// prompt hash, so a prompt cannot be confirmed by hashing guesses without the key.
std::string HmacSha256Hex(std::string_view key, std::string_view message);

/// Lower-case hex SHA-256 of a file's bytes into `*hex`. When the file cannot be read, returns
/// the system's reason instead (e.g. "Is a directory") and leaves `*hex` alone, so a caller
/// words the failure for its own context (the plug-in loader's RG-L002).
std::optional<std::string> Sha256OfFile(const std::filesystem::path& path, std::string* hex);

/// Lower-case hex SHA-256 of a file's bytes; error RG-M001 when it cannot be read.
Result<std::string> Sha256File(const std::filesystem::path& path);

}  // namespace rg::compliance
