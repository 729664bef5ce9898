// Diagnostics for files people edit (region manifests, plug-in manifests, registry,
// lexicons): FILE:LINE:COL: error: MESSAGE, all of them at once, never just the first.
#pragma once

#include <string>
#include <vector>

namespace rg::compliance {

enum class Severity { kError, kWarning };

struct Diagnostic {
  std::string file;  ///< path as given by the user
  int line = 0;      ///< 1-based; 0 when the problem is the whole file
  int column = 0;    ///< 1-based; 0 when unknown
  Severity severity = Severity::kError;
  std::string id;          ///< stable catalogue id, e.g. "RG-M001" (docs/errors.md)
  std::string message;     ///< lower-case start, no trailing period
  std::string suggestion;  ///< e.g. "did you mean 'allowed_plugins'?"; may be empty

  /// "FILE:LINE:COL: error: MESSAGE (SUGGESTION)".
  std::string ToString() const;
};

using Diagnostics = std::vector<Diagnostic>;

bool HasErrors(const Diagnostics& diagnostics);

}  // namespace rg::compliance
