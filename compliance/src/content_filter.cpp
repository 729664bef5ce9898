#include "regiongate/compliance/content_filter.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "filter_automaton.hpp"
#include "regiongate/compliance/sha256.hpp"
#include "regiongate/compliance/text_normalizer.hpp"

namespace rg::compliance {
namespace {

using detail::CompiledLexicon;
using detail::kClassRemoved;
using detail::kClassSequence;
using detail::kSymbolMask;
using detail::kWordBit;
using detail::ScanCursor;

constexpr uint64_t kRingMask = kMaxTermLength - 1;
// Ring entries: stream offset, and two flags.
constexpr uint64_t kJoinedBit = uint64_t{1} << 63;   // directly after a word character
constexpr uint64_t kNoStartBit = uint64_t{1} << 62;  // no term may start here
constexpr uint64_t kOffsetMask = kNoStartBit - 1;
static_assert((kMaxTermLength & kRingMask) == 0, "the ring needs a power of two");

FilterAction CapFrom(std::string_view action) {
  if (action == "flag") return FilterAction::kFlag;
  if (action == "mask") return FilterAction::kMask;
  return FilterAction::kBlock;  // refuse, block, and (fail closed) anything unset
}

bool ReadBytes(const std::filesystem::path& path, std::string* bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return false;
  *bytes = std::move(buffer).str();
  return true;
}

double MillisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// What a scan applies to every match: the request's locales and the region's cap.
struct ScanRules {
  uint64_t locale_mask;
  FilterAction cap;
};

// The cursor's scalars, in registers while ScanBytes runs (it copies them in and out): the
// ring and the waiting matches stay in the cursor.
struct Regs {
  uint32_t state;
  uint32_t via;   // its root_info entry: the symbol at depth 1, root_via at the root, 0 deeper
  uint32_t gap;   // separators since the last symbol
  uint32_t run;   // symbols in a row, up to the last, where no term may start
  uint32_t pair;  // a depth-2 state reached inside a word from its first letter: pairs' index
  bool joined;
  bool waiting;  // cur.pending is not empty
  uint64_t word_begin;
  uint64_t symbols;
};

// Matches that had to wait for the next character are confirmed: it is not a word character.
template <class OnMatch>
bool Confirm(ScanCursor& cur, OnMatch& on_match) {
  for (size_t i = 0; i < cur.pending.size(); ++i) {
    if (!on_match(cur.pending[i])) {
      cur.pending.clear();
      return false;
    }
  }
  cur.pending.clear();
  return true;
}

// A separator (or invalid byte): confirms waiting matches; too many in a row end the
// current partial match (the cap on what a stream holds back).
template <class OnMatch>
[[gnu::always_inline]] inline bool Removed(const CompiledLexicon& c, ScanCursor& cur, Regs& r,
                                           OnMatch& on_match) {
  if (r.waiting) {
    r.waiting = false;
    if (!Confirm(cur, on_match)) return false;
  }
  r.joined = false;
  if (r.gap <= c.max_separator_run && ++r.gap > c.max_separator_run) {
    r.state = 0;
    r.via = c.root_via;
    r.pair = 0;
  }
  return true;
}

// Reports the terms ending at r.state, the symbol just scanned ending at stream offset `end`.
template <class OnMatch>
[[gnu::noinline]] bool Report(const CompiledLexicon& c, const ScanRules& rules, ScanCursor& cur,
                              uint32_t state, uint64_t symbols, uint64_t end, OnMatch& on_match) {
  for (uint32_t i = c.FirstReport(state); i != 0; i = c.reports[i].next) {
    const uint32_t term = c.reports[i].term;
    const detail::TermRecord& t = c.terms[term];
    if (t.locale != 0 && ((rules.locale_mask >> t.locale) & 1) == 0) continue;
    const uint64_t first = (symbols - t.length) & kRingMask;
    const uint64_t start = cur.ring[first];
    if ((t.flags & detail::kTermWordStart) && (start & kJoinedBit)) continue;
    FilterMatch m;
    m.term = term;
    m.term_action = static_cast<FilterAction>(t.action);
    m.action = std::min(m.term_action, rules.cap);
    m.begin = start & kOffsetMask;
    m.end = end;
    m.stop = (start & kJoinedBit) ? cur.word_ring[first] : m.begin;
    if (t.flags & detail::kTermWordEnd) {
      cur.pending.push_back(m);
    } else if (!on_match(m)) {
      return false;
    }
  }
  return true;
}

// The transition from a state that may have an edge for `symbol`, keeping only suffixes that
// begin where a term may start. `run`: symbols in a row, up to the last, where none may.
[[gnu::noinline]] uint32_t NextFromState(const CompiledLexicon& c, const ScanCursor& cur,
                                         uint32_t from, uint64_t symbols, uint32_t run,
                                         uint32_t symbol, bool no_start) {
  if (const uint32_t child = c.Child(from, symbol); child != 0) return child;
  // Every shorter suffix of `from` starts where no term may start (inside the word whose first
  // letter began it): go on from the root.
  if (run + 1 >= c.Depth(from)) return no_start ? 0 : c.root_next[symbol];
  uint32_t t = c.Next(c.Fail(from), symbol);
  while (t != 0 && (cur.ring[(symbols - c.Depth(t)) & kRingMask] & kNoStartBit)) {
    t = c.Fail(t);
  }
  return t;
}

// Moves r.state on by `symbol` (already in the ring); returns whether the new state ends a term.
[[gnu::always_inline]] inline bool Transition(const CompiledLexicon& c, const ScanCursor& cur,
                                              Regs& r, uint32_t symbol, bool no_start,
                                              uint32_t run) {
  if (symbol - 1 < c.front_symbols && r.state != 0) {
    if (no_start && r.via - 1 < c.front_symbols) {
      // The second letter of a word: a depth-2 state, or the root.
      const uint32_t pair = r.via * (c.front_symbols + 1) + symbol;
      const detail::PairInfo& to = c.pairs[pair];
      r.state = to.state;
      r.via = to.state != 0 ? 0 : c.root_via;
      r.pair = to.state != 0 ? pair : 0;
      return to.reports != 0;
    }
    if (r.pair != 0 && !c.HasTriple(r.pair, symbol)) {
      // No edge from a depth-2 state begun at a word's first letter: every shorter suffix
      // starts inside that word, where no term may start; go on from the root.
      r.state = 0;
      r.via = c.root_via;
    }
  }
  r.pair = 0;
  // From the root, or from a depth-1 state without an edge for the symbol (the common case in
  // CJK text: its children's Bloom bits say so), RootInfo has the target and whether it
  // reports, without touching either state.
  if (!c.root_info[r.via].MayHaveChild(symbol)) [[likely]] {
    const detail::RootInfo& to = c.root_info[no_start ? 0 : symbol];
    r.state = to.state;
    r.via = to.state != 0 ? symbol : c.root_via;
    return (to.flags & detail::kRootReports) != 0;
  }
  const uint32_t t = NextFromState(c, cur, r.state, r.symbols, run, symbol, no_start);
  r.state = t;
  r.via = t == 0 ? c.root_via : t == c.root_info[symbol].state ? symbol : 0;
  return c.FirstReport(t) != 0;
}

// One symbol entry (kWordBit | symbol id) of a code point at stream offsets [begin, end).
template <class OnMatch>
[[gnu::always_inline]] inline bool Symbol(const CompiledLexicon& c, const ScanRules& rules,
                                          ScanCursor& cur, Regs& r, uint32_t entry, uint64_t begin,
                                          uint64_t end, OnMatch& on_match) {
  const bool word = (entry & kWordBit) != 0;
  if (r.waiting) [[unlikely]] {
    if (word) {
      cur.pending.clear();  // the term runs on into a word: not a whole-word match
      r.waiting = false;
    } else {
      r.waiting = false;
      if (!Confirm(cur, on_match)) return false;
    }
  }
  r.gap = 0;
  if (!r.joined) r.word_begin = begin;
  // A word character straight after another cannot start a whole-word term: without 'part'
  // terms, such positions are no starts at all, and the automaton keeps only suffixes that
  // begin at a real start (English text then mostly stays at the root).
  const bool no_start = word && r.joined && !c.inner_word_terms;
  cur.ring[r.symbols & kRingMask] =
      begin | (r.joined ? kJoinedBit : 0) | (no_start ? kNoStartBit : 0);
  cur.word_ring[r.symbols & kRingMask] = r.word_begin;
  ++r.symbols;
  r.joined = word;
  const uint32_t run = r.run;
  r.run = no_start ? run + 1 : 0;
  if (!Transition(c, cur, r, entry & kSymbolMask, no_start, run)) [[likely]]
    return true;
  const bool go_on = Report(c, rules, cur, r.state, r.symbols, end, on_match);
  r.waiting = !cur.pending.empty();
  return go_on;
}

// One code point of class `cls` at stream offsets [begin, end). `on_match(const FilterMatch&)`
// returns false to stop the scan; then Step returns false too.
template <class OnMatch>
[[gnu::always_inline]] inline bool Step(const CompiledLexicon& c, const ScanRules& rules,
                                        ScanCursor& cur, Regs& r, uint32_t cls, uint64_t begin,
                                        uint64_t end, OnMatch& on_match) {
  if ((cls & kClassSequence) == 0) [[likely]] {
    return Symbol(c, rules, cur, r, cls, begin, end, on_match);
  }
  if (cls == kClassRemoved) return Removed(c, cur, r, on_match);
  const uint32_t* seq = c.class_sequences.data() + (cls & kSymbolMask);
  const uint32_t count = (cls >> 24) & 0x7F;
  for (uint32_t k = 0; k < count; ++k) {
    if (!Symbol(c, rules, cur, r, seq[k], begin, end, on_match)) return false;
  }
  return true;
}

// The symbol of an ASCII byte when it is a letter or digit with front tables; else 0.
[[gnu::always_inline]] inline uint32_t FrontSymbol(const CompiledLexicon& c, unsigned char byte) {
  return c.front_of[byte];
}

// Whether p[at] is an ASCII letter or digit that no term contains: inside a word it ends every
// partial match, and no term starts there.
[[gnu::always_inline]] inline bool NoTermLetter(const CompiledLexicon& c, const unsigned char* p,
                                                size_t at, size_t n) {
  return at < n && p[at] < 0x80 && c.ascii[p[at]] == kWordBit;
}

// Bit 7 of each byte of `x` (eight bytes of text, the first in the low byte) is set where the
// byte is not an ASCII letter or digit.
inline uint64_t NotAlnum(uint64_t x) {
  constexpr uint64_t k7F = 0x7F7F7F7F7F7F7F7Full;
  constexpr uint64_t k80 = 0x8080808080808080ull;
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  const uint64_t v = x & k7F;  // no byte carries into the next below
  const uint64_t t = v | (kOnes * 0x20);
  const uint64_t alpha = (t + kOnes * (0x80 - 'a')) & ~(t + kOnes * (0x80 - 'z' - 1));
  const uint64_t digit = (v + kOnes * (0x80 - '0')) & ~(v + kOnes * (0x80 - '9' - 1));
  return ~((alpha | digit) & ~x) & k80;
}

// Skips the letters and digits from p[i] on, eight at a time where it can.
[[gnu::always_inline]] inline size_t SkipAlnum(const CompiledLexicon& c, const unsigned char* p,
                                               size_t i, size_t n) {
  if constexpr (std::endian::native == std::endian::little) {
    if (c.ascii_plain) {
      while (i + 8 <= n) {
        uint64_t x;
        std::memcpy(&x, p + i, 8);
        if (const uint64_t stop = NotAlnum(x); stop != 0) {
          return i + static_cast<size_t>(std::countr_zero(stop) / 8);
        }
        i += 8;
      }
    }
  }
  while (i < n && p[i] < 0x80 && (c.ascii[p[i]] & (kClassSequence | kWordBit)) == kWordBit) ++i;
  return i;
}

// ASCII text outside any partial match, with no match waiting for its word to end: separators,
// the inside of words (where no term may start), and the first three letters of words, which
// decide most words without touching a state (the second from `pairs`, the third from
// `triples`); a word of one or two letters that some term goes on from is held across the
// separators after it, and dropped when the next word does not go on with it. Most of English
// text, in a loop of its own. Returns where the general loop goes on: a letter that continues a
// partial match or ends a term, or a byte that is not ASCII.
[[gnu::always_inline]] inline size_t LatinRun(const CompiledLexicon& c, ScanCursor& cur, Regs& r,
                                              const unsigned char* p, size_t i, size_t n,
                                              uint64_t base) {
  const uint32_t* ascii = c.ascii.data();
  const uint32_t row = c.front_symbols + 1;
  bool joined = r.joined;
  uint64_t word_begin = r.word_begin;
  uint64_t symbols = r.symbols;
  uint32_t run = r.run;
  // A held state (0: the root) whose shorter suffixes all start where no term may (depth 1, or
  // begun at the first letter of the last word), and the separators since.
  uint32_t state = r.state, via = r.via, pair = 0, gap = r.gap;
  auto ends_word = [&](size_t at) {
    return at < n && p[at] < 0x80 && ascii[p[at]] == kClassRemoved;
  };
  while (i < n) {
    const unsigned char byte = p[i];
    if (byte >= 0x80) break;
    const uint32_t cls = ascii[byte];
    if (cls == kClassRemoved) {
      joined = false;
      ++i;
      if (state != 0 && ++gap > c.max_separator_run) {
        state = 0;
        via = c.root_via;
        pair = 0;
      }
      continue;
    }
    if ((cls & (kClassSequence | kWordBit)) != kWordBit) break;
    if (joined) {
      i = SkipAlnum(c, p, i + 1, n);
      continue;
    }
    const uint32_t a = cls & kSymbolMask;
    if (a != 0 && (a - 1 >= c.front_symbols || (c.root_info[a].flags & detail::kRootReports))) {
      break;
    }
    if (state != 0) {
      // Does a term go on from the held word into this one? Its shorter suffixes all start
      // inside the held word, so if not, this word starts from the root.
      if (a != 0 && (pair != 0 ? c.HasTriple(pair, a) : c.Child(state, a) != 0)) break;
      state = 0;
      via = c.root_via;
      pair = 0;
    }
    word_begin = base + i;
    joined = true;
    ++i;
    if (a == 0 || c.root_info[a].state == 0) {  // no term starts with it
      i = SkipAlnum(c, p, i, n);
      continue;
    }
    cur.ring[symbols & kRingMask] = word_begin;
    cur.word_ring[symbols & kRingMask] = word_begin;
    ++symbols;
    run = 0;
    gap = 0;
    const uint32_t b = i < n ? FrontSymbol(c, p[i]) : 0;
    const uint32_t ab = a * row + b;
    if (b == 0 && NoTermLetter(c, p, i, n)) {  // a letter or digit no term contains
      i = SkipAlnum(c, p, i, n);
      continue;
    }
    if (b == 0 || c.pairs[ab].reports != 0) {
      state = c.root_info[a].state;
      via = a;
      if (b == 0 && ends_word(i)) continue;  // a one-letter word: held
      break;
    }
    cur.ring[symbols & kRingMask] = (base + i) | kJoinedBit | kNoStartBit;
    cur.word_ring[symbols & kRingMask] = word_begin;
    ++symbols;
    run = 1;
    ++i;
    const uint32_t d = i < n ? FrontSymbol(c, p[i]) : 0;
    if (c.pairs[ab].state == 0 || (d != 0 && !c.HasTriple(ab, d)) ||
        (d == 0 && NoTermLetter(c, p, i, n))) {
      i = SkipAlnum(c, p, i, n);  // back at the root, inside the word
      continue;
    }
    state = c.pairs[ab].state;
    via = 0;
    pair = ab;
    if (d == 0) {
      if (ends_word(i)) continue;  // a two-letter word: held
      break;
    }
    // Deeper into the word: only the state's own edges count, since every shorter suffix
    // starts inside the word. A letter that ends a term is left to Step.
    bool held = false;
    for (uint32_t e = d; e != 0; e = i < n ? FrontSymbol(c, p[i]) : 0) {
      const uint32_t t = c.Child(state, e);
      if (t == 0) {
        state = 0;
        break;
      }
      if (c.FirstReport(t) != 0) break;
      if (NoTermLetter(c, p, i + 1, n)) {  // the letter after it ends the partial match
        state = 0;
        break;
      }
      cur.ring[symbols & kRingMask] = (base + i) | kJoinedBit | kNoStartBit;
      cur.word_ring[symbols & kRingMask] = word_begin;
      ++symbols;
      ++run;
      ++i;
      state = t;
      pair = 0;
      held = ends_word(i);
    }
    if (state == 0) {  // back at the root, inside the word
      via = c.root_via;
      pair = 0;
      i = SkipAlnum(c, p, i, n);
      continue;
    }
    if (held) continue;  // the word ended inside a term: held
    break;
  }
  r.state = state;
  r.via = via;
  r.pair = pair;
  r.gap = gap;
  r.run = run;
  r.joined = joined;
  r.word_begin = word_begin;
  r.symbols = symbols;
  return i;
}

// Characters of a script without spaces (CJK) from the root or a depth-1 state, with no match
// waiting: symbols that leave the state for the root's row without a report, and separators.
// Most of Chinese text, in a loop of its own. `cls` is the class of the three bytes at p[i],
// which the caller has checked is such a symbol; returns where the general loop goes on.
[[gnu::always_inline]] inline size_t CjkRun(const CompiledLexicon& c, ScanCursor& cur, Regs& r,
                                            uint32_t cls, const unsigned char* p, size_t i,
                                            size_t n, uint64_t base) {
  const detail::RootInfo* root = c.root_info.data();
  const uint16_t* cjk = c.cjk_classes.data();
  const uint32_t cjk_size = static_cast<uint32_t>(c.cjk_classes.size());
  uint64_t symbols = r.symbols;
  uint64_t word_begin = r.word_begin;
  bool joined = r.joined;
  uint32_t state = r.state;
  uint32_t via = r.via;
  uint32_t gap = r.gap;
  // The state never gets deeper than 1 here, so only the last symbol's ring entries can be
  // read later (a state's span, a report's start, the hold-back): written once, at the end.
  uint64_t last = 0, count = 0;
  for (;;) {
    if (cls == kClassRemoved) {
      joined = false;
      if (state != 0 && ++gap > c.max_separator_run) {
        state = 0;
        via = c.root_via;
      }
    } else {
      const uint64_t begin = base + i;
      if (!joined) word_begin = begin;
      last = begin | (joined ? kJoinedBit : 0);
      ++count;
      joined = false;
      gap = 0;
      state = root[cls].state;
      via = state != 0 ? cls : c.root_via;
    }
    i += 3;
    if (i + 2 >= n) break;
    const unsigned char b = p[i];
    if ((b & 0xF0) != 0xE0 || b == 0xE0 || b == 0xED || (p[i + 1] & 0xC0) != 0x80 ||
        (p[i + 2] & 0xC0) != 0x80) {
      break;
    }
    const char32_t cp = (b & 0x0Fu) << 12 | (p[i + 1] & 0x3Fu) << 6 | (p[i + 2] & 0x3Fu);
    cls = cp - CompiledLexicon::kCjkFirst < cjk_size ? cjk[cp - CompiledLexicon::kCjkFirst]
                                                     : c.Class(cp);
    if (cls == kClassRemoved) continue;
    if (cls == 0 || (cls & (kClassSequence | kWordBit)) != 0 ||
        (root[cls].flags & detail::kRootReports) != 0) {
      break;
    }
    // A depth-1 state's edges: its Bloom bits, and the state itself when they say maybe.
    if (root[via].MayHaveChild(cls) && c.Child(state, cls) != 0) break;
  }
  if (count != 0) {
    symbols += count;
    cur.ring[(symbols - 1) & kRingMask] = last;
    cur.word_ring[(symbols - 1) & kRingMask] = word_begin;
  }
  r.state = state;
  r.via = via;
  r.gap = gap;
  r.run = 0;
  r.pair = 0;
  r.joined = joined;
  r.word_begin = word_begin;
  r.symbols = symbols;
  return i;
}

// Scans bytes [from, n) of `p`, whose byte 0 is at stream offset `base`. Returns the bytes
// consumed: all of them, less an incomplete UTF-8 tail when !at_end; stops early (after the
// code point whose match made `on_match` return false) and sets *stopped. At the end of the
// text, matches waiting for the next character are confirmed.
template <class OnMatch>
size_t ScanBytes(const CompiledLexicon& c, const ScanRules& rules, ScanCursor& cur,
                 const unsigned char* p, size_t from, size_t n, bool at_end, uint64_t base,
                 OnMatch& on_match, bool* stopped) {
  // In the scan, `via` indexes root_info for every state: the root has its own entry.
  Regs r{cur.state,
         cur.state == 0 ? c.root_via : cur.via,
         cur.gap,
         cur.run,
         0,
         cur.joined,
         !cur.pending.empty(),
         cur.word_begin,
         cur.symbols};
  const uint32_t* ascii = c.ascii.data();
  const bool skip_words = !c.inner_word_terms;
  size_t i = from;
  while (i < n) {
    const unsigned char b = p[i];
    uint32_t cls;
    size_t used = 1;
    if (b < 0x80) {
      cls = ascii[b];
      // From the root, or before a word from a state whose shorter suffixes all start where no
      // term may (depth 1, or begun at the first letter of the last word): LatinRun goes on
      // from it only where it has an edge, and else from the root.
      if ((r.state == 0 || (!r.joined && (r.via != 0 || r.run + 1 >= c.Depth(r.state)))) &&
          !r.waiting && skip_words && c.front_symbols != 0) {
        const size_t next = LatinRun(c, cur, r, p, i, n, base);
        if (next != i) {
          i = next;
          continue;
        }
      }
    } else {
      char32_t cp;
      if ((b & 0xF0) == 0xE0 && i + 2 < n && (p[i + 1] & 0xC0) == 0x80 &&
          (p[i + 2] & 0xC0) == 0x80 && b != 0xE0 && b != 0xED) {
        // Three bytes, not overlong and not a surrogate (E0 and ED take the general path).
        cp = (b & 0x0Fu) << 12 | (p[i + 1] & 0x3Fu) << 6 | (p[i + 2] & 0x3Fu);
        used = 3;
      } else {
        used = DecodeUtf8(p + i, n - i, at_end, &cp);
        if (used == 0) break;
      }
      cls = cp == kInvalidUtf8 ? kClassRemoved : c.Class(cp);
      // CJK text from the root or a depth-1 state (via is 0 for deeper ones).
      if (used == 3 && r.via != 0 && !r.waiting &&
          (cls == kClassRemoved ||
           (cls != 0 && (cls & (kClassSequence | kWordBit)) == 0 &&
            (c.root_info[cls].flags & detail::kRootReports) == 0 &&
            (!c.root_info[r.via].MayHaveChild(cls) || c.Child(r.state, cls) == 0)))) {
        i = CjkRun(c, cur, r, cls, p, i, n, base);
        continue;
      }
      if ((cls & (kClassSequence | kWordBit)) == kWordBit && r.joined && r.state == 0 &&
          skip_words) {
        r.gap = 0;
        i += used;
        continue;
      }
    }
    // A character no term contains, outside any partial match: most of normal text.
    if ((cls & ~kWordBit) == 0 && r.state == 0) [[unlikely]] {
      r.gap = 0;
      if (cls != 0 && !r.joined) r.word_begin = base + i;
      r.joined = cls != 0;
      i += used;
      continue;
    }
    if (!Step(c, rules, cur, r, cls, base + i, base + i + used, on_match)) {
      *stopped = true;
      i += used;
      break;
    }
    i += used;
  }
  if (!*stopped && at_end && i == n && r.waiting && !Confirm(cur, on_match)) *stopped = true;
  cur.state = r.state;
  cur.via = r.via == c.root_via ? 0 : r.via;
  cur.gap = r.gap;
  cur.joined = r.joined;
  cur.word_begin = r.word_begin;
  cur.symbols = r.symbols;
  cur.run = r.run;
  return i - from;
}

// Appends bytes [from, to) of the stream (pending[0] at `base`) to `out`, each character
// inside a mask range replaced by one '*'.
void AppendMasked(std::string_view pending, uint64_t base, uint64_t from, uint64_t to,
                  const std::vector<std::pair<uint64_t, uint64_t>>& masks, std::string* out) {
  for (uint64_t o = from; o < to; ++o) {
    const char byte = pending[o - base];
    bool masked = false;
    for (const auto& [b, e] : masks) {
      if (o >= b && o < e) {
        masked = true;
        break;
      }
    }
    if (!masked) {
      out->push_back(byte);
    } else if ((static_cast<unsigned char>(byte) & 0xC0) != 0x80) {
      out->push_back('*');
    }
  }
}

std::vector<std::filesystem::path> LexiconPaths(const RegionManifest& manifest) {
  std::vector<std::filesystem::path> paths;
  const std::filesystem::path dir = manifest.path.parent_path();
  for (const std::string& lexicon : manifest.content_policy.lexicons) {
    paths.push_back((dir / lexicon).lexically_normal());
  }
  return paths;
}

std::string JoinDiagnostics(const Diagnostics& diagnostics) {
  std::string out;
  for (const Diagnostic& d : diagnostics) {
    if (d.severity != Severity::kError) continue;
    out += '\n';
    out += d.ToString();
  }
  return out;
}

}  // namespace

std::filesystem::path DefaultFilterCacheDir() {
  if (const char* dir = std::getenv("RG_FILTER_CACHE_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') {
    return std::filesystem::path(xdg) / "regiongate" / "filter";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/') {
    return std::filesystem::path(home) / ".cache" / "regiongate" / "filter";
  }
  std::error_code ec;
  return std::filesystem::temp_directory_path(ec) / "regiongate-filter";
}

// ---- ContentFilter ---------------------------------------------------------------------

ContentFilter::ContentFilter() : lexicon_(std::make_unique<detail::CompiledLexicon>()) {}
ContentFilter::~ContentFilter() = default;

Result<std::shared_ptr<const ContentFilter>> ContentFilter::ForRegion(
    const RegionManifest& manifest, const FilterOptions& options) {
  if (!manifest.content_policy.present) {
    return Error{"RG-F101", "region '" + manifest.region + "' (" + manifest.file +
                                ") has no content_policy; add one, or do not filter this region"};
  }
  FilterOptions region_options = options;
  if (manifest.content_policy.max_separator_run) {
    region_options.max_separator_run =
        static_cast<uint32_t>(*manifest.content_policy.max_separator_run);
  }
  return FromFiles(LexiconPaths(manifest), manifest.content_policy, region_options);
}

Diagnostics CheckContentPolicyLexicons(const RegionManifest& manifest) {
  Diagnostics out;
  for (const std::filesystem::path& path : LexiconPaths(manifest)) {
    Lexicon lexicon;
    Diagnostics d = LoadLexicon(path, &lexicon, path.string());
    out.insert(out.end(), d.begin(), d.end());
  }
  return out;
}

Result<std::shared_ptr<const ContentFilter>> ContentFilter::FromFiles(
    const std::vector<std::filesystem::path>& lexicons, const ContentPolicy& policy,
    const FilterOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> names;
  std::vector<std::string> bytes(lexicons.size());
  Diagnostics diagnostics;
  for (size_t i = 0; i < lexicons.size(); ++i) {
    names.push_back(lexicons[i].string());
    ReadLexiconBytes(lexicons[i], names[i], &bytes[i], &diagnostics);
  }
  if (HasErrors(diagnostics)) {
    return Error{"RG-F102", "the content policy's lexicons cannot be used; fix these:" +
                                JoinDiagnostics(diagnostics)};
  }

  // The key covers everything the compiled form depends on.
  std::string identity = "regiongate content filter " +
                         std::to_string(detail::kCacheFormatVersion) + "\nfold " +
                         std::to_string(FoldTableHash()) + "\nseparators " +
                         std::to_string(options.max_separator_run) + "\n";
  for (size_t i = 0; i < lexicons.size(); ++i) {
    identity += names[i] + "\n" + Sha256Hex(bytes[i]) + "\n";
  }
  const std::string key = Sha256Hex(identity);

  std::shared_ptr<ContentFilter> filter(new ContentFilter());
  filter->input_cap_ = CapFrom(policy.input_action);
  filter->output_cap_ = CapFrom(policy.output_action);
  filter->refusal_message_ = policy.refusal_message;
  FilterStats& stats = filter->stats_;
  stats.max_separator_run = options.max_separator_run;

  std::filesystem::path cache_file;
  if (options.use_cache) {
    const std::filesystem::path dir =
        options.cache_dir.empty() ? DefaultFilterCacheDir() : options.cache_dir;
    cache_file = dir / (key + ".rgflex");
    std::string cached;
    if (ReadBytes(cache_file, &cached)) {
      if (detail::Deserialize(cached, key, filter->lexicon_.get())) {
        stats.from_cache = true;
        stats.cache_file = cache_file;
      } else {
        stats.cache_note = "ignored a corrupt or outdated cache file " + cache_file.string();
      }
    }
  }

  if (!stats.from_cache) {
    std::vector<Lexicon> parsed(lexicons.size());
    for (size_t i = 0; i < lexicons.size(); ++i) {
      Diagnostics d = ParseLexicon(bytes[i], names[i], &parsed[i]);
      diagnostics.insert(diagnostics.end(), d.begin(), d.end());
    }
    if (HasErrors(diagnostics)) {
      return Error{"RG-F102", "the content policy's lexicons cannot be used; fix these:" +
                                  JoinDiagnostics(diagnostics)};
    }
    detail::CompileInput input;
    input.lexicon_files = names;
    for (size_t i = 0; i < parsed.size(); ++i) {
      for (const LexiconTerm& term : parsed[i].terms) {
        input.terms.emplace_back(static_cast<uint16_t>(i), &term);
      }
    }
    std::string error;
    if (!detail::Compile(input, options.max_separator_run, filter->lexicon_.get(), &error)) {
      return Error{"RG-F103", "cannot compile the content policy's lexicons: " + error +
                                  "; split the lexicons or reduce them"};
    }
    if (!cache_file.empty()) {
      // Write then rename, so a concurrent reader never sees half a file.
      static std::atomic<unsigned> counter{0};
      std::error_code ec;
      std::filesystem::create_directories(cache_file.parent_path(), ec);
      const std::filesystem::path tmp = cache_file.string() + ".tmp." + std::to_string(::getpid()) +
                                        "." + std::to_string(counter.fetch_add(1));
      const std::string blob = detail::Serialize(*filter->lexicon_, key);
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out.write(blob.data(), static_cast<std::streamsize>(blob.size()));
      out.close();
      if (out && (std::filesystem::rename(tmp, cache_file, ec), !ec)) {
        stats.cache_file = cache_file;
      } else {
        std::filesystem::remove(tmp, ec);
        stats.cache_note = "cannot write the cache file " + cache_file.string() +
                           "; set FilterOptions::cache_dir or RG_FILTER_CACHE_DIR to a writable "
                           "directory";
      }
    }
  }
  const CompiledLexicon& c = *filter->lexicon_;
  stats.terms = c.terms.size();
  stats.states = c.state_count;
  stats.resident_bytes = c.MemoryBytes();
  stats.max_term_length = c.max_term_length;
  stats.max_separator_run = c.max_separator_run;
  stats.load_ms = MillisecondsSince(start);
  return std::shared_ptr<const ContentFilter>(std::move(filter));
}

Result<std::shared_ptr<const ContentFilter>> ContentFilter::FromLexicons(
    const std::vector<Lexicon>& lexicons, const ContentPolicy& policy,
    const FilterOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  std::shared_ptr<ContentFilter> filter(new ContentFilter());
  filter->input_cap_ = CapFrom(policy.input_action);
  filter->output_cap_ = CapFrom(policy.output_action);
  filter->refusal_message_ = policy.refusal_message;
  detail::CompileInput input;
  for (size_t i = 0; i < lexicons.size(); ++i) {
    input.lexicon_files.push_back(lexicons[i].file);
    for (const LexiconTerm& term : lexicons[i].terms) {
      input.terms.emplace_back(static_cast<uint16_t>(i), &term);
    }
  }
  std::string error;
  if (!detail::Compile(input, options.max_separator_run, filter->lexicon_.get(), &error)) {
    return Error{"RG-F103", "cannot compile the content policy's lexicons: " + error +
                                "; split the lexicons or reduce them"};
  }
  const CompiledLexicon& c = *filter->lexicon_;
  FilterStats& stats = filter->stats_;
  stats.terms = c.terms.size();
  stats.states = c.state_count;
  stats.resident_bytes = c.MemoryBytes();
  stats.max_term_length = c.max_term_length;
  stats.max_separator_run = c.max_separator_run;
  stats.load_ms = MillisecondsSince(start);
  return std::shared_ptr<const ContentFilter>(std::move(filter));
}

uint64_t ContentFilter::LocaleMask(std::string_view locale) const {
  uint64_t mask = 1;
  const std::vector<std::string>& locales = lexicon_->locales;
  for (size_t i = 1; i < locales.size(); ++i) {
    const std::string& l = locales[i];
    // RFC 4647 basic filtering: "zh" covers zh-CN and zh-Hans-CN; "zh-CN" only itself.
    if (locale == l ||
        (locale.size() > l.size() && locale.substr(0, l.size()) == l && locale[l.size()] == '-')) {
      mask |= uint64_t{1} << i;
    }
  }
  return mask;
}

void ContentFilter::ScanAll(std::string_view text, const FilterContext& context,
                            std::vector<FilterMatch>* matches) const {
  ScanCursor cur;
  auto on_match = [matches](const FilterMatch& m) {
    matches->push_back(m);
    return true;
  };
  bool stopped = false;
  ScanBytes(*lexicon_, ScanRules{LocaleMask(context.locale), Cap(context.direction)}, cur,
            reinterpret_cast<const unsigned char*>(text.data()), 0, text.size(), true, 0, on_match,
            &stopped);
}

FilterResult ContentFilter::Check(std::string_view text, const FilterContext& context) const {
  FilterResult result;
  ScanCursor cur;
  std::vector<std::pair<uint64_t, uint64_t>> masks;
  auto on_match = [&result, &masks](const FilterMatch& m) {
    result.matches.push_back(m);
    if (m.action == FilterAction::kMask) masks.emplace_back(m.begin, m.end);
    if (m.action != FilterAction::kBlock) return true;
    result.block = m;
    return false;
  };
  bool stopped = false;
  ScanBytes(*lexicon_, ScanRules{LocaleMask(context.locale), Cap(context.direction)}, cur,
            reinterpret_cast<const unsigned char*>(text.data()), 0, text.size(), true, 0, on_match,
            &stopped);
  const size_t cut = result.block ? result.block->stop : text.size();
  if (masks.empty()) {
    result.text.assign(text.substr(0, cut));
  } else {
    result.text.reserve(cut);
    AppendMasked(text, 0, 0, cut, masks, &result.text);
  }
  return result;
}

FilterStream ContentFilter::NewStream(const FilterContext& context) const {
  return FilterStream(shared_from_this(), context);
}

std::string_view ContentFilter::RefusalMessage(std::string_view locale) const {
  if (auto it = refusal_message_.find(std::string(locale)); it != refusal_message_.end()) {
    return it->second;
  }
  const std::string_view language = locale.substr(0, locale.find('-'));
  for (const auto& [tag, text] : refusal_message_) {
    if (std::string_view(tag).substr(0, tag.find('-')) == language) return text;
  }
  return {};
}

FilterTermInfo ContentFilter::Term(uint32_t term) const {
  const CompiledLexicon& c = *lexicon_;
  const detail::TermRecord& t = c.terms.at(term);
  FilterTermInfo info;
  info.text = c.TermText(term);
  info.category = c.categories[t.category];
  info.locale = c.locales[t.locale];
  info.lexicon = c.lexicons[t.lexicon];
  info.line = t.line;
  info.action = static_cast<FilterAction>(t.action);
  return info;
}

// ---- FilterStream ----------------------------------------------------------------------

FilterStream::FilterStream(std::shared_ptr<const ContentFilter> filter,
                           const FilterContext& context)
    : filter_(std::move(filter)),
      lexicon_(filter_->lexicon_.get()),
      locale_mask_(filter_->LocaleMask(context.locale)),
      cap_(filter_->Cap(context.direction)) {}

FilterStream::Step FilterStream::Feed(std::string_view chunk) {
  if (stopped_) return {};
  if (released_ > 0) {  // the caller has had the released text; drop it
    pending_.erase(0, released_);
    base_ += released_;
    decoded_ -= released_;
    released_ = 0;
  }
  pending_.append(chunk);
  return Run(/*at_end=*/false);
}

FilterStream::Step FilterStream::Finish() {
  if (stopped_) return {};
  if (released_ > 0) {
    pending_.erase(0, released_);
    base_ += released_;
    decoded_ -= released_;
    released_ = 0;
  }
  Step step = Run(/*at_end=*/true);
  stopped_ = true;
  return step;
}

FilterStream::Step FilterStream::Run(bool at_end) {
  const CompiledLexicon& c = *lexicon_;
  std::optional<FilterMatch> block;
  auto on_match = [this, &block](const FilterMatch& m) {
    matches_.push_back(m);
    if (m.action == FilterAction::kMask) masks_.emplace_back(m.begin, m.end);
    if (m.action != FilterAction::kBlock) return true;
    block = m;
    return false;
  };
  bool stopped = false;
  decoded_ += ScanBytes(c, ScanRules{locale_mask_, cap_}, cursor_,
                        reinterpret_cast<const unsigned char*>(pending_.data()), decoded_,
                        pending_.size(), at_end, base_, on_match, &stopped);
  if (block) {
    stopped_ = true;
    return Release(block->stop, block);
  }
  if (at_end) return Release(base_ + pending_.size(), std::nullopt);
  // Everything before the longest suffix a later character could still extend into a term,
  // and before a match waiting to learn whether it ends a word, can go. A partial match
  // inside a word holds the whole word: a 'part' term blocked there cuts at the word's start.
  const uint32_t hold = c.HoldDepth(cursor_.state);
  uint64_t upto = base_ + decoded_;
  if (hold != 0) {
    const uint64_t first = (cursor_.symbols - hold) & kRingMask;
    upto = (cursor_.ring[first] & kJoinedBit) ? cursor_.word_ring[first]
                                              : cursor_.ring[first] & kOffsetMask;
  }
  if (c.inner_word_terms && cursor_.joined) upto = std::min(upto, cursor_.word_begin);
  for (const FilterMatch& m : cursor_.pending) upto = std::min<uint64_t>(upto, m.stop);
  return Release(upto, std::nullopt);
}

FilterStream::Step FilterStream::Release(uint64_t upto, std::optional<FilterMatch> block) {
  const uint64_t from = base_ + released_;
  Step step;
  step.block = std::move(block);
  upto = std::min<uint64_t>(upto, base_ + pending_.size());
  if (upto <= from) return step;
  const size_t begin = released_;
  released_ = static_cast<size_t>(upto - base_);
  if (masks_.empty()) {
    step.text = std::string_view(pending_).substr(begin, released_ - begin);
    return step;
  }
  masked_.clear();
  AppendMasked(pending_, base_, from, upto, masks_, &masked_);
  masks_.erase(std::remove_if(masks_.begin(), masks_.end(),
                              [upto](const auto& m) { return m.second <= upto; }),
               masks_.end());
  step.text = masked_;
  return step;
}

size_t FilterStream::overhead_bytes() const {
  return sizeof(*this) + (pending_.capacity() - (pending_.size() - released_)) +
         matches_.capacity() * sizeof(FilterMatch) +
         masks_.capacity() * sizeof(std::pair<uint64_t, uint64_t>) + masked_.capacity();
}

}  // namespace rg::compliance
