// The content filter's matching engine: an Aho-Corasick automaton over folded code points
// ("symbols"), with the folding of every Unicode code point precompiled into a per-lexicon
// class table, so that scanning is: decode UTF-8, one table lookup, one transition. Its depth
// tells a stream exactly how much text could still become a match, which is what the hold-back
// needs (docs/content-filter.md explains the choice against Hyperscan, with numbers).
// States live in one flat array (a state id is its offset), breadth-first, so the shallow
// states normal text visits share cache lines; shallow states of Latin-script terms carry a
// fully resolved row for the ASCII symbols, since every letter of English text is a symbol.
// The whole automaton is a handful of flat arrays, serialised as-is into the on-disk cache.
// Internal to rg::compliance.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "regiongate/compliance/lexicon.hpp"

namespace rg::compliance::detail {

/// Class table entries. Removed: a separator. Sequence: a code point that folds to several
/// symbols (U+FB01 "fi"): bit 31, length in bits 24-30, offset into class_sequences below.
/// Otherwise a symbol entry: bit 30 set for a word character of a space-delimited script,
/// symbol id in bits 0-23 (0: a character no term contains).
inline constexpr uint32_t kClassRemoved = 0xFFFFFFFF;
inline constexpr uint32_t kClassSequence = 0x80000000;
inline constexpr uint32_t kWordBit = 0x40000000;
inline constexpr uint32_t kSymbolMask = 0x00FFFFFF;
inline constexpr uint32_t kNoTerm = 0xFFFFFFFF;

/// State layout in `nodes` (32-bit words), at the state's offset:
///   [0] fail state   [1] first report on the suffix chain (index into reports; 0: none)
///   [2] count (bits 0-15) | depth (16-23) | kNodeBand | kNodeAsciiRow | hold depth (26-31):
///       the depth of the deepest state on the fail chain (this one included) with an edge,
///       i.e. the longest suffix that a later character could still extend into a term
///   [3] [4] lowest and highest symbol with an edge anywhere on the fail chain (others go
///           straight to the root's row)
///   then, with kNodeAsciiRow: ascii_symbols resolved targets for symbols 1..ascii_symbols,
///       kRowChild set on those that are the state's own edges (children);
///   then, with kNodeBand: [lo] [width] and width targets (0: no edge); otherwise count
///   symbols (ascending) followed by count targets.
inline constexpr uint32_t kNodeHeader = 5;
inline constexpr uint32_t kRowChild = 0x80000000;
inline constexpr uint32_t kNodeBand = 1u << 24;
inline constexpr uint32_t kNodeAsciiRow = 1u << 25;
inline constexpr uint32_t kNodeHoldShift = 26;

/// The root's row, with what a scan needs to leave a depth-1 state without touching it: in CJK
/// text nearly every character starts some term, and the next one rarely continues it.
struct RootInfo {
  uint32_t state;  ///< target of the root's edge for this symbol (0: none)
  uint32_t flags;  ///< kRootReports
  /// That state's edges' symbols as a two-hash Bloom filter (ChildBits): a symbol with either
  /// bit clear is no edge, and the scan goes on from the root's row.
  uint64_t children[2];

  bool MayHaveChild(uint32_t symbol) const {
    const uint32_t b1 = ChildBit1(symbol), b2 = ChildBit2(symbol);
    return ((children[b1 >> 6] >> (b1 & 63)) & (children[b2 >> 6] >> (b2 & 63)) & 1) != 0;
  }
  void AddChild(uint32_t symbol) {
    const uint32_t b1 = ChildBit1(symbol), b2 = ChildBit2(symbol);
    children[b1 >> 6] |= uint64_t{1} << (b1 & 63);
    children[b2 >> 6] |= uint64_t{1} << (b2 & 63);
  }
  static uint32_t ChildBit1(uint32_t symbol) { return (symbol * 0x9E3779B1u) >> 25; }
  static uint32_t ChildBit2(uint32_t symbol) { return (symbol * 0x85EBCA77u) >> 25; }
};
inline constexpr uint32_t kRootReports = 2;  ///< the state ends a term

/// Inside a Latin word, where only the word's first letter may start a term, the first three
/// letters decide most words without touching a state (English text rarely gets further).
struct PairInfo {
  uint32_t state;    ///< the depth-2 state the two symbols lead to from the root (0: none)
  uint32_t reports;  ///< that state ends a term
};
/// Front tables are built when the lexicons' ASCII symbols are at most this many (letters and
/// digits are 36).
inline constexpr uint32_t kMaxFrontSymbols = 63;

/// A term ending at a state, and the next one on its suffix chain (0: none; always a smaller
/// index, so chains end).
struct ReportRecord {
  uint32_t term;
  uint32_t next;
};

/// Term flags.
inline constexpr uint8_t kTermWordStart = 1;  ///< must not follow a word character directly
inline constexpr uint8_t kTermWordEnd = 2;    ///< must not be followed by one directly

struct TermRecord {
  uint32_t text_offset;  ///< into strings
  uint32_t text_length;
  uint16_t category;  ///< into categories
  uint16_t lexicon;   ///< into lexicons
  uint32_t line;
  uint8_t length;  ///< symbols
  uint8_t action;  ///< FilterAction
  uint8_t locale;  ///< 0: every locale; else index into locales
  uint8_t flags;   ///< kTermWordStart | kTermWordEnd
};

struct CompiledLexicon {
  uint32_t max_separator_run = 0;
  uint32_t max_term_length = 0;  ///< symbols
  uint32_t num_symbols = 0;
  uint32_t ascii_symbols = 0;  ///< symbols 1..ascii_symbols are ASCII characters
  /// Some term may start inside a word ('part' terms of Latin-like scripts): a stream then
  /// holds the word being written, since a block there cuts at the word's start.
  bool inner_word_terms = false;
  std::vector<uint16_t> class_stage1;  ///< 0x1100 entries: block index
  std::vector<uint32_t> class_stage2;  ///< blocks of 256 entries
  std::vector<uint32_t> class_sequences;
  std::vector<uint32_t> root_next;  ///< the root's targets, by symbol
  std::vector<RootInfo> root_info;  ///< the same with the targets' edges (derived)
  uint32_t root_via = 0;            ///< root_info's entry for the root itself (derived)
  /// Symbols 1..front_symbols (ASCII) have front tables (derived; 0: none).
  uint32_t front_symbols = 0;
  std::vector<PairInfo> pairs;    ///< [a * (front_symbols + 1) + b]
  std::vector<uint64_t> triples;  ///< bit [pair index * (front_symbols + 1) + c]: a depth-3 state
  /// Per byte: its symbol when it is an ASCII word character with front tables, else 0.
  std::array<uint8_t, 256> front_of{};

  bool HasTriple(uint32_t pair, uint32_t symbol) const {
    const size_t bit = size_t{pair} * (front_symbols + 1) + symbol;
    return (triples[bit >> 6] >> (bit & 63)) & 1;
  }
  std::vector<uint32_t> nodes;        ///< states; the root is at 0
  std::vector<ReportRecord> reports;  ///< [0] unused
  std::vector<TermRecord> terms;
  std::string strings;  ///< term texts
  std::vector<std::string> categories;
  std::vector<std::string> lexicons;  ///< file names
  std::vector<std::string> locales;   ///< [0] is "" (every locale)
  std::array<uint32_t, 128> ascii{};  ///< class of each ASCII byte (derived, not stored)
  /// ASCII letters and digits are word characters and all other ASCII separators (derived).
  bool ascii_plain = false;
  /// The classes of the CJK unified ideographs U+4E00-U+9FFF, in 16 bits (derived; empty when
  /// one of them is not a plain symbol below 2^16): half the cache of class_stage2.
  std::vector<uint16_t> cjk_classes;
  static constexpr char32_t kCjkFirst = 0x4E00, kCjkLast = 0x9FFF;
  size_t state_count = 0;  ///< derived

  uint32_t Class(char32_t cp) const {
    if (cp < 128) return ascii[cp];
    if (cp > 0x10FFFF) return kClassRemoved;
    return class_stage2[static_cast<size_t>(class_stage1[cp >> 8]) * 256 + (cp & 0xFF)];
  }

  uint32_t Depth(uint32_t state) const { return (nodes[state + 2] >> 16) & 0xFF; }
  uint32_t HoldDepth(uint32_t state) const { return nodes[state + 2] >> kNodeHoldShift; }
  uint32_t FirstReport(uint32_t state) const { return nodes[state + 1]; }
  uint32_t Fail(uint32_t state) const { return nodes[state]; }

  // Inlined into the scan loop: it runs for every character of every text.
  [[gnu::always_inline]] uint32_t Next(uint32_t s, uint32_t symbol) const {
    while (s != 0) {
      const uint32_t* n = nodes.data() + s;
      if (symbol < n[3] || symbol > n[4]) break;
      const uint32_t h = n[2];
      const uint32_t* x = n + kNodeHeader;
      if (h & kNodeAsciiRow) {
        if (symbol <= ascii_symbols) return x[symbol - 1] & ~kRowChild;
        x += ascii_symbols;
      }
      if (h & kNodeBand) {
        const uint32_t index = symbol - x[0];
        if (index < x[1] && x[2 + index] != 0) return x[2 + index];
      } else {
        const uint32_t count = h & 0xFFFF;
        if (count <= 16) {
          for (uint32_t k = 0; k < count; ++k) {
            if (x[k] == symbol) return x[count + k];
          }
        } else {
          uint32_t lo = 0, hi = count;
          while (lo < hi) {
            const uint32_t mid = (lo + hi) / 2;
            if (x[mid] < symbol) {
              lo = mid + 1;
            } else {
              hi = mid;
            }
          }
          if (lo < count && x[lo] == symbol) return x[count + lo];
        }
      }
      s = n[0];
    }
    return root_next[symbol];
  }

  /// The state's own edge for `symbol` (a child, one deeper), or 0: no fail links followed.
  [[gnu::always_inline]] uint32_t Child(uint32_t s, uint32_t symbol) const {
    const uint32_t* n = nodes.data() + s;
    if (symbol < n[3] || symbol > n[4]) return 0;
    const uint32_t h = n[2];
    const uint32_t* x = n + kNodeHeader;
    if (h & kNodeAsciiRow) {
      if (symbol <= ascii_symbols) {
        const uint32_t e = x[symbol - 1];
        return (e & kRowChild) != 0 ? e & ~kRowChild : 0;
      }
      x += ascii_symbols;
    }
    if (h & kNodeBand) {
      const uint32_t index = symbol - x[0];
      return index < x[1] ? x[2 + index] : 0;
    }
    const uint32_t count = h & 0xFFFF;
    if (count <= 16) {
      for (uint32_t k = 0; k < count; ++k) {
        if (x[k] == symbol) return x[count + k];
      }
      return 0;
    }
    const uint32_t* end = x + count;
    const uint32_t* at = std::lower_bound(x, end, symbol);
    return at != end && *at == symbol ? at[count] : 0;
  }

  std::string_view TermText(uint32_t term) const {
    return std::string_view(strings).substr(terms[term].text_offset, terms[term].text_length);
  }

  /// Bytes held by the arrays (the compiled lexicon's resident size).
  size_t MemoryBytes() const;
};

/// True for a word character of a script that separates words with spaces (Latin, Greek,
/// Cyrillic, Hangul, digits...); false for CJK ideographs, kana, Thai and the like.
bool IsWordScript(char32_t folded);

/// The lexicons' terms for Compile: lexicon index and term.
struct CompileInput {
  std::vector<std::string> lexicon_files;
  std::vector<std::pair<uint16_t, const LexiconTerm*>> terms;
};

/// Builds the automaton. Terms with the same folded form are merged (the strongest action
/// wins, the first on ties). Fails (returns false, sets `error`) only on limits: more than
/// 63 term locales, 65,535 categories or lexicons, or 2^24 distinct characters.
bool Compile(const CompileInput& input, uint32_t max_separator_run, CompiledLexicon* out,
             std::string* error);

/// The cache file's format: part of its name (the key) and of its header, so builds with
/// different formats never read, or overwrite, each other's files.
inline constexpr uint32_t kCacheFormatVersion = 4;

/// Flat serialisation for the cache, with a checksum; Deserialize validates every offset, so
/// a corrupt or truncated file is rejected rather than trusted.
std::string Serialize(const CompiledLexicon& lexicon, std::string_view key);
bool Deserialize(std::string_view bytes, std::string_view key, CompiledLexicon* out);

}  // namespace rg::compliance::detail
