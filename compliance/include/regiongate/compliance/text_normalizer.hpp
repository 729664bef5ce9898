// Folding text for the content filter, one code point at a time, so that trivial spellings of
// a term meet the same lexicon entry: NFKD compatibility folding (full-width/half-width,
// ligatures, circled letters), Unicode case folding, traditional -> simplified Chinese
// (OpenCC's character tables, HK/TW variants included), and removal of everything a person
// can slip between the characters of a term without changing how it reads (spaces,
// punctuation, symbols, emoji, zero-width and other format characters, diacritics,
// unassigned and private-use code points, invalid UTF-8). See docs/content-filter.md.
// The table is generated at build time (compliance/gen/fold_table_gen.cpp): no ICU, utf8proc
// or OpenCC at run time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rg::compliance {

/// What DecodeUtf8 yields for a byte that does not start a valid UTF-8 sequence.
inline constexpr char32_t kInvalidUtf8 = 0xFFFFFFFF;

/// Decodes the code point at `p` (`n` > 0 bytes available). Returns the bytes consumed (1-4)
/// and sets `*cp`; a byte that cannot start a well-formed sequence (stray continuation,
/// overlong form, surrogate, beyond U+10FFFF) is consumed alone as kInvalidUtf8. Returns 0
/// when the bytes are a valid but incomplete prefix: a stream waits for more, and the end of
/// the text consumes the first byte as kInvalidUtf8 (call with `at_end`). Either way the
/// result never depends on where a text was cut into chunks.
inline size_t DecodeUtf8(const unsigned char* p, size_t n, bool at_end, char32_t* cp) {
  const unsigned char b0 = p[0];
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  // Three bytes (CJK, kana, most punctuation): the common case outside ASCII.
  if ((b0 & 0xF0) == 0xE0 && n >= 3 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
    const char32_t v = (b0 & 0x0Fu) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu);
    if (v >= 0x800 && (v < 0xD800 || v > 0xDFFF)) {  // not overlong, not a surrogate
      *cp = v;
      return 3;
    }
  }
  size_t len = 0;
  char32_t value = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    value = b0 & 0x1Fu;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    value = b0 & 0x0Fu;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    value = b0 & 0x07u;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    *cp = kInvalidUtf8;
    return 1;
  }
  for (size_t i = 1; i < len; ++i) {
    if (i >= n) {
      if (at_end) break;
      return 0;
    }
    const unsigned char b = p[i];
    const bool ok = i == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    if (!ok) break;
    value = value << 6 | (b & 0x3Fu);
    if (i + 1 == len) {
      *cp = value;
      return len;
    }
  }
  *cp = kInvalidUtf8;
  return 1;
}

/// Appends the UTF-8 encoding of `cp` (a scalar value) to `out`.
void AppendUtf8(char32_t cp, std::string* out);

/// The most code points one code point folds to (U+FDFA folds to 18).
inline constexpr size_t kMaxFoldLength = 32;

/// Writes what `cp` folds to into `out` (room for kMaxFoldLength) and returns how many code
/// points that is: 0 when it is removed. kInvalidUtf8 is removed.
size_t FoldCodePoint(char32_t cp, char32_t* out);

/// Appends what `cp` folds to (nothing when it is removed) to `out`.
void FoldCodePoint(char32_t cp, std::u32string* out);

/// True when `cp` folds to nothing (a separator a term may contain anywhere).
bool IsRemovedCodePoint(char32_t cp);

/// Folds a whole string (a lexicon term, a test's expectation); invalid bytes are removed.
std::u32string FoldText(std::string_view text);

/// Folded text as UTF-8 with, for every byte of it, the original bytes it came from.
struct NormalizedText {
  std::string text;
  std::vector<uint32_t> source_begin;  ///< per byte of `text`: first original byte
  std::vector<uint32_t> source_end;    ///< per byte of `text`: one past the last original byte

  /// Original [begin, end) of the folded bytes [begin, end); requires begin < end.
  std::pair<size_t, size_t> SourceRange(size_t begin, size_t end) const {
    return {source_begin[begin], source_end[end - 1]};
  }
};

/// Folds `text` (at most 4 GiB) and keeps the offset map. The content filter folds while it
/// matches and never builds this; it is for tests, tools and the engine benchmarks.
NormalizedText NormalizeForMatching(std::string_view text);

/// Unicode version of the folding table, e.g. "15.0.0".
std::string_view FoldUnicodeVersion();
/// Identity of the folding table: compiled lexicons built with another table are rebuilt.
uint64_t FoldTableHash();

}  // namespace rg::compliance
