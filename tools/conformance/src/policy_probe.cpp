#include "policy_probe.hpp"

#include <fstream>
#include <string>

namespace rg::tools::conformance {

namespace {

namespace fs = std::filesystem;

constexpr const char* kLexiconPath = "lexicons/conformance-probe/probe.tsv";

// The lexicon in the content filter's file format (docs/content-filter.md): tab-separated
// with a header. The term blocks; each region's content_policy caps it (flag on input in the
// output probe, so the prompt reaches the plug-in and the term comes back in its answer).
std::string Lexicon() {
  return std::string(
             "# Lexicon of the conformance probe regions (written by regiongate conformance).\n"
             "term\tcategory\taction\tnote\n") +
         kProbeTerm + "\tconformance-probe\tblock\tthe probe's only term\n";
}

std::string Region(const std::string& id, const std::string& locale,
                   const std::string& input_action) {
  const std::string label = std::string(kProbeLabel);
  return "# Written by regiongate conformance: a probe region, not a real one.\n"
         "schema_version: 1\n"
         "region: " +
         id +
         "\n"
         "name: Conformance probe (" +
         input_action +
         " input, block output)\n"
         "locales: [" +
         locale +
         "]\n"
         "rules:\n"
         "  - id: " +
         id +
         "-policies\n"
         "    kind: require_capabilities\n"
         "    summary: the probe needs its content policy and labels configured\n"
         "    citation: regiongate conformance\n"
         "    effective: 2000-01-01\n"
         "    runtime: [content_policy, labels]\n"
         "content_policy:\n"
         "  lexicons: [../" +
         kLexiconPath +
         "]\n"
         "  input_action: " +
         input_action +
         "\n"
         "  output_action: block\n"
         "  refusal_message:\n"
         "    " +
         locale +
         ": refused by the conformance probe\n"
         "labels:\n"
         "  explicit:\n"
         "    " +
         locale + ": {text: \"" + label + "\", position: end}\n";
}

bool Write(const fs::path& path, const std::string& text) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

}  // namespace

Result<fs::path> MakeProbePolicy(const fs::path& config_dir, const fs::path& destination) {
  std::error_code ec;
  fs::remove_all(destination, ec);
  fs::create_directories(destination, ec);
  if (ec) {
    return Error{"RG-C104", "cannot create " + destination.string() + ": " + ec.message() +
                                "; check that the temporary directory is writable"};
  }
  if (!config_dir.empty()) {
    if (!fs::is_directory(config_dir / "regions", ec)) {
      return Error{"RG-C104", "the policy directory '" + config_dir.string() +
                                  "' has no regions/ folder; pass --config DIR"};
    }
    fs::copy(config_dir, destination,
             fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
    if (ec) {
      return Error{"RG-C104", "cannot copy the policy '" + config_dir.string() + "' to " +
                                  destination.string() + ": " + ec.message()};
    }
  }
  const bool ok = Write(destination / kLexiconPath, Lexicon()) &&
                  Write(destination / "regions" / "zz-conformance-probe-output.yaml",
                        Region("conformance-probe-output", kProbeOutputLocale, "flag")) &&
                  Write(destination / "regions" / "zz-conformance-probe-input.yaml",
                        Region("conformance-probe-input", kProbeInputLocale, "refuse"));
  if (!ok) {
    return Error{"RG-C104", "cannot write the probe regions under " + destination.string()};
  }
  return destination;
}

}  // namespace rg::tools::conformance
