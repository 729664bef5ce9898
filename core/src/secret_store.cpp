#include "regiongate/core/secret_store.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace rg::core {

std::optional<std::string> SecretStore::Get(std::string_view name) {
  std::optional<std::string> value;
  const std::string key(name);
  if (auto it = options_.files.find(key); it != options_.files.end()) {
    std::ifstream in(it->second, std::ios::binary);
    if (in) {
      std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
        content.pop_back();
      }
      value = std::move(content);
    }
  } else if (options_.use_environment) {
    if (const char* env = std::getenv(key.c_str()); env != nullptr) value = std::string(env);
  }
  if (value.has_value() && value->empty()) value.reset();
  if (value.has_value()) {
    std::lock_guard lock(mutex_);
    handed_out_.insert(*value);
  }
  return value;
}

bool SecretStore::Redact(std::string* text) const {
  std::lock_guard lock(mutex_);
  bool replaced = false;
  for (const std::string& secret : handed_out_) {
    // Very short values would redact ordinary words; credentials are never that short.
    if (secret.size() < 6) continue;
    for (size_t pos = text->find(secret); pos != std::string::npos; pos = text->find(secret, pos)) {
      text->replace(pos, secret.size(), "[redacted]");
      replaced = true;
    }
  }
  return replaced;
}

}  // namespace rg::core
