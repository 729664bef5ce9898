// The content filter a region's content_policy configures: its lexicons compiled into one
// matcher (cached on disk by content hash), applied to a prompt before any byte goes to a
// provider, and to an answer, whole or streamed. A stream holds back only the text that could
// still turn into a term and releases the rest at once; a blocked term never reaches the caller
// in any spelling the folding covers (text_normalizer.hpp), however the text is chunked.
// Behaviour, hold-back bound, cache and figures: docs/content-filter.md. Errors: RG-F1xx.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "regiongate/compliance/lexicon.hpp"
#include "regiongate/compliance/region_manifest.hpp"
#include "regiongate/result.hpp"

namespace rg::compliance {

namespace detail {
struct CompiledLexicon;
}  // namespace detail

/// A prompt going to a provider, or an answer coming back.
enum class FilterDirection { kInput, kOutput };

/// A run of more removed characters (spaces, punctuation, symbols, zero-width...) than this
/// between two characters of a term breaks the term: it bounds how much a stream holds back.
inline constexpr uint32_t kDefaultMaxSeparatorRun = 8;

struct FilterOptions {
  /// Where compiled lexicons are cached; empty: DefaultFilterCacheDir().
  std::filesystem::path cache_dir;
  bool use_cache = true;
  uint32_t max_separator_run = kDefaultMaxSeparatorRun;
};

/// $RG_FILTER_CACHE_DIR, else $XDG_CACHE_HOME/regiongate/filter, else
/// $HOME/.cache/regiongate/filter, else the system temporary directory's regiongate-filter.
std::filesystem::path DefaultFilterCacheDir();

/// One match, in original byte offsets.
struct FilterMatch {
  uint32_t term = 0;                                ///< ContentFilter::Term(term) describes it
  FilterAction term_action = FilterAction::kBlock;  ///< as the lexicon says
  FilterAction action = FilterAction::kBlock;       ///< after the region's cap for the direction
  size_t begin = 0;  ///< first byte of the match in the original text (or stream)
  size_t end = 0;    ///< one past its last byte
  /// Where released text ends when this match blocks: `begin`, or for a term matched inside
  /// a word ('part' terms), the start of that word, so no fragment glued to it is shown.
  size_t stop = 0;
};

namespace detail {
/// Where a scan is: automaton state, separators seen since the last character, whether the
/// last character was a word character and where its word began, where the last symbols
/// began (bit 63: directly after a word character; bit 62: no term may start there) and where
/// their words began, and matches waiting for the next character to show they end a word.
struct ScanCursor {
  uint32_t state = 0;
  uint32_t via = 0;  ///< when `state` has depth 1: the symbol the root took to it; else 0
  uint32_t gap = 0;
  uint32_t run = 0;  ///< symbols in a row, up to the last, where no term may start
  bool joined = false;
  uint64_t word_begin = 0;
  uint64_t symbols = 0;
  std::array<uint64_t, kMaxTermLength> ring{};
  std::array<uint64_t, kMaxTermLength> word_ring{};
  std::vector<FilterMatch> pending;
};
}  // namespace detail

/// What a lexicon says about a term; views into the filter, valid while it lives.
struct FilterTermInfo {
  std::string_view text;      ///< as written in the lexicon
  std::string_view category;  ///< "A.1.a", or a region category
  std::string_view locale;    ///< "" for every locale
  std::string_view lexicon;   ///< file name
  uint32_t line = 0;
  FilterAction action = FilterAction::kBlock;
};

/// Whole-text result (input, or a non-streamed answer).
struct FilterResult {
  /// The text that may pass: masks applied, and cut at the first blocking match's `stop`
  /// (for input, the host refuses instead of sending it).
  std::string text;
  /// Every match up to and including the first blocking one, in order of end offset.
  std::vector<FilterMatch> matches;
  std::optional<FilterMatch> block;  ///< the first blocking match

  bool blocked() const { return block.has_value(); }
};

/// How a scan is run: direction (which cap of the region applies) and the request's locale
/// (terms with a locale apply only to it: "ja" to ja-*, "zh-CN" to zh-CN).
struct FilterContext {
  FilterDirection direction = FilterDirection::kOutput;
  std::string locale;
};

/// Where the compiled lexicon came from and what it costs.
struct FilterStats {
  size_t terms = 0;
  size_t states = 0;
  size_t resident_bytes = 0;  ///< the compiled lexicon's arrays
  bool from_cache = false;
  double load_ms = 0;                ///< compile or cache load, lexicon reading included
  std::filesystem::path cache_file;  ///< empty when not cached
  std::string cache_note;  ///< why the cache was not used or written, for logs; "" when it was
  uint32_t max_term_length = 0;  ///< in folded characters
  uint32_t max_separator_run = 0;
  /// Upper bound of what a stream holds back, in code points: the longest term plus the
  /// separators allowed inside it.
  size_t max_hold_back_code_points() const {
    return max_term_length == 0
               ? 0
               : max_term_length + (max_term_length - 1) * size_t{max_separator_run};
  }
};

class FilterStream;

/// Reads and checks every lexicon of `manifest.content_policy` (paths relative to the
/// manifest), errors and warnings, FILE:LINE:COL, for `regiongate validate`. Cheap enough for
/// a command, not meant for every reload (ForRegion checks what it compiles).
Diagnostics CheckContentPolicyLexicons(const RegionManifest& manifest);

/// Immutable once built; share one per region across all requests and threads.
class ContentFilter : public std::enable_shared_from_this<ContentFilter> {
 public:
  /// The filter for `manifest.content_policy`: its lexicons (relative to the manifest's
  /// directory), caps, refusal messages and max_separator_run (which overrides `options`).
  /// Errors: RG-F101 (no content_policy), RG-F102 (lexicon errors: one diagnostic per line),
  /// RG-F103 (limits).
  static Result<std::shared_ptr<const ContentFilter>> ForRegion(const RegionManifest& manifest,
                                                                const FilterOptions& options = {});

  /// A filter over lexicon files with explicit caps; `policy` supplies input/output actions
  /// and refusal messages (its `lexicons` are ignored).
  static Result<std::shared_ptr<const ContentFilter>> FromFiles(
      const std::vector<std::filesystem::path>& lexicons, const ContentPolicy& policy,
      const FilterOptions& options = {});

  /// A filter over parsed lexicons, never cached (tests, tools).
  static Result<std::shared_ptr<const ContentFilter>> FromLexicons(
      const std::vector<Lexicon>& lexicons, const ContentPolicy& policy,
      const FilterOptions& options = {});

  ~ContentFilter();
  ContentFilter(const ContentFilter&) = delete;
  ContentFilter& operator=(const ContentFilter&) = delete;

  /// Scans a whole text: masks, the first block, every match before it.
  FilterResult Check(std::string_view text, const FilterContext& context) const;

  /// Every match in `text` (all of them, blocks included, in order of end offset); appends to
  /// `matches`. The engine's raw speed: benchmarks and tools.
  void ScanAll(std::string_view text, const FilterContext& context,
               std::vector<FilterMatch>* matches) const;

  /// A per-request stream scanner. It keeps the filter alive.
  FilterStream NewStream(const FilterContext& context) const;

  /// The region's refusal text for `locale` (exact tag, then the same language), or "".
  std::string_view RefusalMessage(std::string_view locale) const;

  /// The region's cap for a direction: a match never does more than this.
  FilterAction Cap(FilterDirection direction) const {
    return direction == FilterDirection::kInput ? input_cap_ : output_cap_;
  }

  FilterTermInfo Term(uint32_t term) const;
  const FilterStats& stats() const { return stats_; }

 private:
  friend class FilterStream;
  ContentFilter();
  uint64_t LocaleMask(std::string_view locale) const;

  std::unique_ptr<detail::CompiledLexicon> lexicon_;
  FilterAction input_cap_ = FilterAction::kBlock;
  FilterAction output_cap_ = FilterAction::kBlock;
  std::map<std::string, std::string> refusal_message_;
  FilterStats stats_;
};

/// Scans one answer as it streams. Not thread-safe; cheap to create (no allocation until the
/// first Feed).
class FilterStream {
 public:
  struct Step {
    /// Text to release to the caller now. Valid until the next call on this stream.
    std::string_view text;
    /// Set once, when a blocking match is found: stop the stream with a content-filter
    /// finish. Nothing at or after `block->stop` is ever released.
    std::optional<FilterMatch> block;
  };

  /// Scans `chunk` and releases everything that can no longer become part of a match.
  Step Feed(std::string_view chunk);
  /// End of the answer: releases the rest (or stops at a block).
  Step Finish();

  bool stopped() const { return stopped_; }
  /// Every match so far (flags and masks included; the block last), for the audit record.
  const std::vector<FilterMatch>& matches() const { return matches_; }
  /// Bytes received but not yet released.
  size_t held_back_bytes() const { return pending_.size() - released_; }
  /// Bytes released so far.
  uint64_t released_bytes() const { return base_ + released_; }
  /// Heap and object bytes this stream uses beyond the text it holds back.
  size_t overhead_bytes() const;

 private:
  friend class ContentFilter;
  FilterStream(std::shared_ptr<const ContentFilter> filter, const FilterContext& context);
  Step Run(bool at_end);
  Step Release(uint64_t upto, std::optional<FilterMatch> block);

  std::shared_ptr<const ContentFilter> filter_;
  const detail::CompiledLexicon* lexicon_;
  uint64_t locale_mask_ = 0;
  FilterAction cap_ = FilterAction::kBlock;
  detail::ScanCursor cursor_;
  std::string pending_;  ///< bytes from base_ on: released prefix, held text, undecoded tail
  uint64_t base_ = 0;    ///< stream offset of pending_[0]
  size_t released_ = 0;  ///< bytes of pending_ already released
  size_t decoded_ = 0;   ///< bytes of pending_ already scanned
  bool stopped_ = false;
  std::vector<FilterMatch> matches_;
  std::vector<std::pair<uint64_t, uint64_t>> masks_;  ///< stream offsets still to be masked
  std::string masked_;                                ///< released text when a mask applies
};

}  // namespace rg::compliance
