// The probe policy: two made-up regions added to a copy of the policy under test, so that
// every plug-in can be driven through the gate into a content block whatever the shipped
// regions allow. Their locales use ISO 639 private-use languages (qaa, qab) and the unknown
// region ZZ, so they can never collide with a real locale.
#pragma once

#include <filesystem>

#include "regiongate/result.hpp"

namespace rg::tools::conformance {

/// Output probe: input_action flag, output_action block, an explicit label at the end.
inline constexpr const char* kProbeOutputLocale = "qaa-ZZ";
/// Input probe: input_action refuse.
inline constexpr const char* kProbeInputLocale = "qab-ZZ";
/// The one term of the probe lexicon. Letters only, so no normalisation changes it, and
/// longer than a simulator chunk, so it always spans chunks in a stream.
inline constexpr const char* kProbeTerm = "zqxconformanceprobe";
/// The explicit label of the output probe region.
inline constexpr const char* kProbeLabel = "[conformance probe: AI-generated]";

/// Copies `config_dir` (regions/, registry/, lexicons/, ...) to `destination` and adds the
/// probe regions and their lexicon. Returns `destination`. RG-C104 when it cannot write.
Result<std::filesystem::path> MakeProbePolicy(const std::filesystem::path& config_dir,
                                              const std::filesystem::path& destination);

}  // namespace rg::tools::conformance
