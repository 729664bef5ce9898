// Lexicon files (config/lexicons/**.tsv): the terms the content filter looks for, one per
// line, each with a category (a TC260-003 Appendix A risk code such as A.1.a, or a region's
// own), an action and an optional locale. Tab-separated with a header line, so a 100,000-term
// library is a few MB that loads in milliseconds, diffs line by line and opens in any
// spreadsheet. Format reference: docs/content-filter.md; diagnostics: RG-F0xx in docs/errors.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "regiongate/compliance/diagnostic.hpp"

namespace rg::compliance {

/// What a match does, weakest first (the region's content_policy caps it; see ContentFilter).
enum class FilterAction : uint8_t {
  kFlag = 0,   ///< let it pass, record the match (audit)
  kMask = 1,   ///< replace each character of the match with '*'
  kBlock = 2,  ///< refuse the input / stop the output before the match
};
std::string_view ToString(FilterAction action);

/// Longest term, in folded code points: bounds the stream's hold-back (docs/content-filter.md).
inline constexpr size_t kMaxTermLength = 64;

struct LexiconTerm {
  std::string text;       ///< as written in the file
  std::u32string folded;  ///< FoldText(text): what is matched
  std::string category;   ///< "A.1.a" ... or a region category such as "us-sample"
  FilterAction action = FilterAction::kBlock;
  std::string locale;  ///< empty: every locale; "ja" matches ja-*, "zh-CN" only zh-CN
  /// `match` column: "word" (default): in scripts that separate words with spaces (Latin,
  /// Cyrillic, Greek, Hangul, digits), the term must not start or end inside a word, so
  /// "sex" does not match "Essex" nor "is excellent"; "part": anywhere. CJK, kana and Thai
  /// terms match anywhere either way.
  bool whole_words = true;
  int line = 0;  ///< 1-based line in the file
};

struct Lexicon {
  std::string file;  ///< name used in diagnostics and match sources
  std::vector<LexiconTerm> terms;
};

/// TC260-003 Appendix A risk codes: A.1.a-h, A.2.a-i, A.3.a-e, A.4.a-g, A.5.a-b.
const std::vector<std::string>& Tc260Categories();

/// True for a TC260-003 code or a region category (a lower-case id: a letter, then up to 63
/// of a-z, 0-9, '_', '-').
bool IsLexiconCategory(std::string_view category);

/// Parses lexicon text; `file` names it in diagnostics. Terms that fail a check are reported
/// and skipped; `lexicon` holds the good ones. Duplicates (same folded form) are warnings and
/// keep the strongest action.
Diagnostics ParseLexicon(std::string_view text, const std::string& file, Lexicon* lexicon);

/// Reads a lexicon file's bytes; reports RG-F001 (naming `file`) when it cannot.
bool ReadLexiconBytes(const std::filesystem::path& path, const std::string& file,
                      std::string* bytes, Diagnostics* out);

/// Reads and parses a lexicon file; `file` (default: the path) names it in diagnostics.
Diagnostics LoadLexicon(const std::filesystem::path& path, Lexicon* lexicon,
                        const std::string& file = {});

}  // namespace rg::compliance
