#include "regiongate/compliance/content_filter.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
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
using detail::kPrefilterDepth;
using detail::kSingleBit;
using detail::kStartBit;
using detail::kSymbolMask;
using detail::kWordBit;
using detail::PrefilterKey;
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

// Matches that had to wait for the next character are confirmed: it is not a word character.
template <class OnMatch>
inline bool Confirm(ScanCursor& cur, OnMatch& on_match) {
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
inline bool Removed(const CompiledLexicon& c, ScanCursor& cur, OnMatch& on_match) {
  if (!cur.pending.empty() && !Confirm(cur, on_match)) return false;
  cur.joined = false;
  if (cur.gap <= c.max_separator_run && ++cur.gap > c.max_separator_run) {
    cur.state = 0;
    cur.via = 0;
  }
  return true;
}

// One symbol entry (kWordBit | symbol id) of a code point at stream offsets [begin, end).
template <class OnMatch>
[[gnu::always_inline]] inline bool Symbol(const CompiledLexicon& c, const ScanRules& rules,
                                          ScanCursor& cur, uint32_t entry, uint64_t begin,
                                          uint64_t end, OnMatch& on_match) {
  const bool word = (entry & kWordBit) != 0;
  if (!cur.pending.empty()) {
    if (word) {
      cur.pending.clear();  // the term runs on into a word: not a whole-word match
    } else if (!Confirm(cur, on_match)) {
      return false;
    }
  }
  cur.gap = 0;
  if (!cur.joined) cur.word_begin = begin;
  // A word character straight after another cannot start a whole-word term: without 'part'
  // terms, such positions are no starts at all, and the automaton keeps only suffixes that
  // begin at a real start (English text then mostly stays at the root).
  const bool no_start = word && cur.joined && !c.inner_word_terms;
  cur.ring[cur.symbols & kRingMask] =
      begin | (cur.joined ? kJoinedBit : 0) | (no_start ? kNoStartBit : 0);
  cur.word_ring[cur.symbols & kRingMask] = cur.word_begin;
  ++cur.symbols;
  cur.joined = word;
  // From the root or a depth-1 state without an edge for the symbol (the common case in CJK
  // text), RootInfo has the target and whether it reports, without touching either state.
  const uint32_t symbol = entry & kSymbolMask;
  bool reports;
  const detail::RootInfo* from = cur.state == 0 ? nullptr : &c.root_info[cur.via];
  if (cur.state == 0 || (cur.via != 0 && symbol != from->child[0] && symbol != from->child[1] &&
                         (from->flags & detail::kRootUseNode) == 0)) {
    const detail::RootInfo& to = no_start ? c.root_info[0] : c.root_info[symbol];
    cur.state = to.state;
    cur.via = to.state != 0 ? symbol : 0;
    reports = (to.flags & detail::kRootReports) != 0;
  } else {
    uint32_t t = c.Next(cur.state, symbol);
    while (t != 0 && (cur.ring[(cur.symbols - c.Depth(t)) & kRingMask] & kNoStartBit)) {
      t = c.Fail(t);
    }
    cur.state = t;
    cur.via = t != 0 && t == c.root_info[symbol].state ? symbol : 0;
    reports = c.FirstReport(t) != 0;
  }
  if (!reports) return true;
  for (uint32_t r = c.FirstReport(cur.state); r != 0; r = c.reports[r].next) {
    const uint32_t term = c.reports[r].term;
    const detail::TermRecord& t = c.terms[term];
    if (t.locale != 0 && ((rules.locale_mask >> t.locale) & 1) == 0) continue;
    const uint64_t first = (cur.symbols - t.length) & kRingMask;
    const uint64_t start = cur.ring[first];
    if ((t.flags & detail::kTermWordStart) && (start & kJoinedBit)) continue;
    if (end <= cur.report_after) continue;
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

// One code point of class `cls` at stream offsets [begin, end). `on_match(const FilterMatch&)`
// returns false to stop the scan; then Step returns false too.
template <class OnMatch>
[[gnu::always_inline]] inline bool Step(const CompiledLexicon& c, const ScanRules& rules,
                                        ScanCursor& cur, uint32_t cls, uint64_t begin, uint64_t end,
                                        OnMatch& on_match) {
  if ((cls & kClassSequence) == 0) return Symbol(c, rules, cur, cls, begin, end, on_match);
  if (cls == kClassRemoved) return Removed(c, cur, on_match);
  const uint32_t* seq = c.class_sequences.data() + (cls & kSymbolMask);
  const uint32_t count = (cls >> 24) & 0x7F;
  for (uint32_t k = 0; k < count; ++k) {
    if (!Symbol(c, rules, cur, seq[k], begin, end, on_match)) return false;
  }
  return true;
}

// The class of the code point at p[i] (n bytes in all) and its length in bytes; 0 when the
// bytes are an incomplete sequence and more may come (!at_end). Invalid bytes are removed.
[[gnu::always_inline]] inline size_t ClassAt(const CompiledLexicon& c, const unsigned char* p,
                                             size_t i, size_t n, bool at_end, uint32_t* cls) {
  const unsigned char b = p[i];
  if (b < 0x80) {
    *cls = c.ascii[b];
    return 1;
  }
  // Three bytes (CJK, kana, most punctuation), not overlong and not a surrogate.
  if ((b & 0xF0) == 0xE0 && n - i >= 3 && (p[i + 1] & 0xC0) == 0x80 && (p[i + 2] & 0xC0) == 0x80) {
    const char32_t cp = (b & 0x0Fu) << 12 | (p[i + 1] & 0x3Fu) << 6 | (p[i + 2] & 0x3Fu);
    if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) {
      *cls = c.ClassAbove127(cp);
      return 3;
    }
  }
  char32_t cp = 0;
  const size_t used = DecodeUtf8(p + i, n - i, at_end, &cp);
  *cls = cp == kInvalidUtf8 ? kClassRemoved : c.Class(cp);
  return used;
}

// Runs the automaton over the code point at p[i], whose byte 0 is at stream offset `base`.
// Returns its length (0: incomplete, wait for more); sets *stopped when `on_match` stopped the
// scan at it.
template <class OnMatch>
[[gnu::always_inline]] inline size_t ScanOne(const CompiledLexicon& c, const ScanRules& rules,
                                             ScanCursor& cur, const unsigned char* p, size_t i,
                                             size_t n, bool at_end, uint64_t base,
                                             OnMatch& on_match, bool* stopped) {
  uint32_t cls = 0;
  const size_t used = ClassAt(c, p, i, n, at_end, &cls);
  if (used == 0) return 0;
  // Outside any partial match, a word character in the middle of a word (when no term may
  // start there) changes nothing.
  if (cur.state == 0 && cur.joined && !c.inner_word_terms &&
      (cls & (kClassSequence | kWordBit)) == kWordBit) {
    cur.gap = 0;
    return used;
  }
  // A character no term contains, outside any partial match: most of normal text.
  if ((cls & kClassSequence) == 0 && (cls & kSymbolMask) == 0 && cur.state == 0) {
    cur.gap = 0;
    if (cls != 0 && !cur.joined) cur.word_begin = base + i;
    cur.joined = cls != 0;
    return used;
  }
  if (!Step(c, rules, cur, cls, base + i, base + i + used, on_match)) *stopped = true;
  return used;
}

// Scans bytes [from, n) of `p`, whose byte 0 is at stream offset `base`. Returns the bytes
// consumed: all of them, less an incomplete UTF-8 tail when !at_end; stops early (after the
// code point whose match made `on_match` return false) and sets *stopped. At the end of the
// text, matches waiting for the next character are confirmed.
template <class OnMatch>
size_t ScanBytes(const CompiledLexicon& c, const ScanRules& rules, ScanCursor& cur,
                 const unsigned char* p, size_t from, size_t n, bool at_end, uint64_t base,
                 OnMatch& on_match, bool* stopped) {
  size_t i = from;
  while (i < n) {
    const size_t used = ScanOne(c, rules, cur, p, i, n, at_end, base, on_match, stopped);
    if (used == 0) break;
    i += used;
    if (*stopped) return i - from;
  }
  if (at_end && i == n && !cur.pending.empty() && !Confirm(cur, on_match)) *stopped = true;
  return i - from;
}

// ---- whole texts: prefilter candidates, verify with the automaton ----------------------

inline constexpr size_t kNone = ~size_t{0};

// The prefilter holds every term's first kPrefilterDepth symbols: prefixes some longer term
// continues ("alive") and keys that send the automaton ("enter": whole terms of 2 or 3
// symbols, 4-symbol prefixes). Bit 0 of the result: alive; bit 1: enter.
[[gnu::always_inline]] inline uint32_t Probe(const CompiledLexicon& c, uint64_t key) {
  const uint64_t h = CompiledLexicon::PrefilterHash(key);
  const uint64_t word = c.prefilter[h >> c.prefilter_shift];
  return static_cast<uint32_t>((word >> (h & 63)) & 1) |
         static_cast<uint32_t>((word >> ((h >> 6) & 63)) & 1) << 1;
}

// A candidate whose first two symbols (`key`) some longer term begins with: looks at the
// next symbols, decoded straight from the text at `at` (separators skipped). Returns where the
// automaton must get to (the end of the code point that decided), or kNone when no term
// starts with them.
[[gnu::always_inline]] inline size_t Lookahead(const CompiledLexicon& c, const unsigned char* p,
                                               size_t at, size_t n, uint64_t key) {
  for (uint32_t depth = 3; depth <= kPrefilterDepth; ++depth) {
    uint32_t cls = 0;
    do {
      if (at >= n) return kNone;  // the text ends before any term could
      if (p[at] < 0x80) {
        cls = c.ascii[p[at++]];
      } else {
        at += ClassAt(c, p, at, n, /*at_end=*/true, &cls);
      }
    } while (cls == kClassRemoved);
    if ((cls & kClassSequence) != 0) return at;  // a ligature: the automaton decides
    const uint32_t symbol = cls & kSymbolMask;
    if (symbol == 0) return kNone;
    key = PrefilterKey(key, symbol);
    const uint32_t probe = Probe(c, key);
    if (probe & 2) return at;
    if ((probe & 1) == 0) return kNone;
  }
  return kNone;
}

inline constexpr size_t kUndecided = kNone - 1;

// A candidate at an ASCII word start with class `e`, the word going on at p[at]: follows the
// word's next ASCII letters (the common case in Latin text) through the prefilter. Returns
// where the automaton must get to, kNone when no term starts here, or kUndecided when the
// word ends (or leaves ASCII) first, for the general path to take over.
[[gnu::always_inline]] inline size_t LatinWord(const CompiledLexicon& c, const unsigned char* p,
                                               size_t at, size_t n, uint32_t e) {
  uint64_t key = PrefilterKey(0, e & kSymbolMask);
  for (uint32_t depth = 2; depth <= kPrefilterDepth; ++depth, ++at) {
    if (at >= n || p[at] >= 0x80) return kUndecided;
    const uint32_t cls = c.ascii[p[at]];
    if ((cls & (kClassSequence | kWordBit)) != kWordBit) return kUndecided;
    const uint32_t symbol = cls & kSymbolMask;
    if (symbol == 0) return kNone;
    key = PrefilterKey(key, symbol);
    const uint32_t probe = Probe(c, key);
    if (probe & 2) return at + 1;
    if ((probe & 1) == 0) return kNone;
  }
  return kNone;
}

// The automaton's side of a whole-text scan.
struct VerifyState {
  ScanCursor cur;
  uint64_t scanned = 0;  ///< the automaton has seen every code point before this offset
};

// Runs the automaton from p[start], in the context `joined` / `word_begin`, past `until`,
// until it is back at the root, or at depth 1 on a later symbol than `start` (which the
// prefilter can take over; an earlier one would be looked at again and again), with nothing
// waiting for confirmation. Out of line, so that the prefilter's loop stays small.
// Where the prefilter goes on after the automaton, and in which context.
struct Resume {
  size_t at;
  uint64_t word_begin;
  bool joined;
  bool go_on;  ///< false: the end of the text, or `on_match` stopped the scan
};

template <class OnMatch>
[[gnu::noinline]] Resume Verify(const CompiledLexicon& c, const ScanRules& rules, VerifyState& v,
                                const unsigned char* p, size_t start, size_t until, size_t n,
                                OnMatch& on_match, bool joined, uint64_t word_begin) {
  ScanCursor& cur = v.cur;
  cur.state = 0;
  cur.via = 0;
  cur.gap = 0;
  cur.joined = joined;
  cur.word_begin = word_begin;
  cur.report_after = v.scanned;
  size_t at = start;
  while (at < n) {
    bool stopped = false;
    at += ScanOne(c, rules, cur, p, at, n, /*at_end=*/true, 0, on_match, &stopped);
    if (stopped) return {n, 0, false, false};
    v.scanned = std::max<uint64_t>(v.scanned, at);
    if (at >= until && cur.pending.empty() &&
        (cur.state == 0 || (c.Depth(cur.state) == 1 &&
                            (cur.ring[(cur.symbols - 1) & kRingMask] & kOffsetMask) > start))) {
      if (cur.state == 0) return {at, cur.word_begin, cur.joined, true};
      // Go on from the symbol that starts the partial match.
      const uint64_t last = (cur.symbols - 1) & kRingMask;
      return {cur.ring[last] & kOffsetMask, cur.word_ring[last], (cur.ring[last] & kJoinedBit) != 0,
              true};
    }
  }
  if (!cur.pending.empty()) Confirm(cur, on_match);
  return {n, 0, false, false};
}

template <bool kOuter, class OnMatch>
void ScanWholeFor(const CompiledLexicon& c, const ScanRules& rules, const unsigned char* p,
                  size_t n, OnMatch& on_match) {
  const uint32_t* const ascii = c.ascii.data();
  VerifyState state;
  bool joined = false;  // right after a word character
  uint64_t word_begin = 0;
  // The previous symbol, when a longer term may start with it: its prefilter key (0: none),
  // where its code point begins, and the context before it.
  uint64_t cand_key = 0;
  size_t cand_at = 0;
  bool cand_joined = false;
  uint64_t cand_word_begin = 0;
  size_t i = 0;
  while (i < n) {
    uint32_t cls;
    size_t used = 1;
    if (p[i] < 0x80) {
      cls = ascii[p[i]];
    } else {
      used = ClassAt(c, p, i, n, /*at_end=*/true, &cls);
    }
    if (cls == kClassRemoved) {
      joined = false;
      i += used;
      continue;
    }
    size_t until = kNone;  // where the automaton must get to
    bool from_candidate = false;
    if ((cls & kClassSequence) != 0) {
      until = i + used;  // a ligature: the automaton takes it
      from_candidate = cand_key != 0;
    } else {
      if (cand_key != 0) {
        const uint32_t symbol = cls & kSymbolMask;
        if (symbol != 0) {
          const uint64_t key = PrefilterKey(cand_key, symbol);
          const uint32_t probe = Probe(c, key);
          if (probe & 2) {
            until = i + used;
          } else if (probe & 1) {
            until = Lookahead(c, p, i + used, n, key);
          }
          from_candidate = until != kNone;
        }
        cand_key = 0;
      }
      if (until == kNone) {
        const bool word = (cls & kWordBit) != 0;
        if (!(kOuter && word && joined)) {  // not inside a word
          if (cls & kSingleBit) {
            until = i + used;
          } else if (kOuter && word && used == 1 && (cls & kStartBit)) {
            // An ASCII word start: its next letters decide, read straight from the text.
            switch (const size_t at = LatinWord(c, p, i + 1, n, cls)) {
              case kNone:
                break;
              case kUndecided:
                cand_key = PrefilterKey(0, cls & kSymbolMask);
                cand_at = i;
                cand_joined = joined;
                cand_word_begin = word_begin;
                break;
              default:
                until = at;
            }
          } else if (cls & kStartBit) {
            cand_key = PrefilterKey(0, cls & kSymbolMask);
            cand_at = i;
            cand_joined = joined;
            cand_word_begin = word_begin;
          }
          if (until == kNone) {
            if (!joined) word_begin = i;
            joined = word;
          }
        }
        if (until == kNone) {
          i += used;
          if (kOuter && joined && cand_key == 0) {
            // The rest of an ASCII word starts nothing: pass over it in one go.
            while (i < n && c.word_byte[p[i]] != 0) ++i;
          }
          continue;
        }
      }
    }

    // The automaton, from the candidate (or this code point) past `until`.
    const Resume r =
        from_candidate
            ? Verify(c, rules, state, p, cand_at, until, n, on_match, cand_joined, cand_word_begin)
            : Verify(c, rules, state, p, i, until, n, on_match, joined, word_begin);
    if (!r.go_on) return;
    i = r.at;
    joined = r.joined;
    word_begin = r.word_begin;
    cand_key = 0;
  }
}

template <class OnMatch>
void ScanWhole(const CompiledLexicon& c, const ScanRules& rules, const unsigned char* p, size_t n,
               OnMatch& on_match) {
  if (c.inner_word_terms) {
    ScanWholeFor<false>(c, rules, p, n, on_match);
  } else {
    ScanWholeFor<true>(c, rules, p, n, on_match);
  }
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
  std::string identity = "regiongate content filter 1\nfold " + std::to_string(FoldTableHash()) +
                         "\nseparators " + std::to_string(options.max_separator_run) + "\n";
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
  auto on_match = [matches](const FilterMatch& m) {
    matches->push_back(m);
    return true;
  };
  ScanWhole(*lexicon_, ScanRules{LocaleMask(context.locale), Cap(context.direction)},
            reinterpret_cast<const unsigned char*>(text.data()), text.size(), on_match);
}

FilterResult ContentFilter::Check(std::string_view text, const FilterContext& context) const {
  FilterResult result;
  std::vector<std::pair<uint64_t, uint64_t>> masks;
  auto on_match = [&result, &masks](const FilterMatch& m) {
    result.matches.push_back(m);
    if (m.action == FilterAction::kMask) masks.emplace_back(m.begin, m.end);
    if (m.action != FilterAction::kBlock) return true;
    result.block = m;
    return false;
  };
  ScanWhole(*lexicon_, ScanRules{LocaleMask(context.locale), Cap(context.direction)},
            reinterpret_cast<const unsigned char*>(text.data()), text.size(), on_match);
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
