// Fuzz target for PII handling: random text through the detectors, the masks, ProcessInput
// with every type on replace_and_restore, and the restorers. Checks what must always hold:
// findings are ordered, disjoint and point at their values; restoring the text sent to the
// provider gives back the input byte for byte; the stream restorer, fed in random chunks,
// agrees with the whole-text restore and never holds back a full placeholder. Builds like
// manifest_fuzz.cpp (libFuzzer with clang, fuzz_driver.cpp with g++).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "regiongate/compliance/pii.hpp"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rg::compliance;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const std::vector<PiiFinding> findings = DetectPii(text);
  size_t previous_end = 0;
  for (const PiiFinding& f : findings) {
    Check(f.begin >= previous_end && f.begin < f.end && f.end <= text.size());
    Check(text.substr(f.begin, f.end - f.begin) == f.value);
    (void)MaskPii(f.type, f.value);
    previous_end = f.end;
  }

  PiiPolicy policy;
  policy.region = "fuzz";
  for (PiiType type : kAllPiiTypes) policy.actions[type] = PiiAction::kReplaceAndRestore;
  const PiiInputResult result = ProcessInput(policy, text);
  Check(result.ok() && result.findings.size() == findings.size());
  const std::string restored = RestorePii(result.text_for_provider, result.restore);
  Check(restored == text);
  (void)PiiSummaryJson(result.findings).dump();

  // Chunk sizes taken from the input itself, so the mutations explore the splits too.
  PiiStreamRestorer restorer(result.restore);
  std::string streamed;
  const std::string& sent = result.text_for_provider;
  size_t at = 0;
  size_t step = 0;
  while (at < sent.size()) {
    const size_t n =
        1 + static_cast<unsigned char>(text.empty() ? 0 : text[step++ % text.size()]) % 7;
    streamed += restorer.Push(std::string_view(sent).substr(at, n));
    Check(restorer.held() < kMaxPiiPlaceholderSize);
    at += n;
  }
  streamed += restorer.Finish();
  Check(streamed == restored);
  return 0;
}
