// Where plug-ins' credentials come from: the environment, or files named in host
// configuration (e.g. a mounted secret). Never from manifests; values never leave the
// process, and the store remembers which values it handed out so logs can be redacted.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace rg::core {

class SecretStore {
 public:
  struct Options {
    /// Secret name -> file whose content (trailing newline stripped) is the value. Takes
    /// precedence over the environment.
    std::map<std::string, std::filesystem::path> files;
    /// Read the process environment (on by default).
    bool use_environment = true;
  };

  SecretStore() = default;
  explicit SecretStore(Options options) : options_(std::move(options)) {}

  /// The value of `name`, or nullopt when it is not set (or its file cannot be read).
  std::optional<std::string> Get(std::string_view name);

  /// Replaces every handed-out secret value in `text` with "[redacted]"; returns true when
  /// anything was replaced.
  bool Redact(std::string* text) const;

 private:
  Options options_;
  mutable std::mutex mutex_;
  std::set<std::string> handed_out_;
};

}  // namespace rg::core
