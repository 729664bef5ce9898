#include "filter_automaton.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>

#include "regiongate/compliance/text_normalizer.hpp"

namespace rg::compliance::detail {
namespace {

constexpr size_t kStage1Size = 0x110000 / 256;
// Shallow states of Latin-script terms get a resolved ASCII row: English text keeps the
// automaton at depth 1-3 in them, and the row saves walking the fail chain for every letter.
constexpr uint32_t kAsciiRowMaxDepth = 3;
constexpr uint32_t kMaxSparseCount = 0xFFFF;

// Trie node while building: children in a sibling list, created in increasing symbol order
// because terms are inserted sorted.
struct BuildNode {
  uint32_t symbol = 0;
  uint32_t first_child = 0;
  uint32_t last_child = 0;
  uint32_t next_sibling = 0;
  uint32_t term = kNoTerm;
  uint8_t depth = 0;
};

struct UniqueTerm {
  const LexiconTerm* term;
  uint16_t lexicon;
};

// The trie, breadth-first, with sparse edges: the intermediate form Compile lays out flat.
struct SparseTrie {
  struct State {
    uint32_t edge_begin;
    uint32_t fail;
    uint32_t term;
    uint32_t depth;
  };
  std::vector<State> states;                         // one extra entry closes the edges
  std::vector<std::pair<uint32_t, uint32_t>> edges;  // symbol, target
  std::vector<uint32_t> root_next;

  uint32_t Goto(uint32_t s, uint32_t symbol) const {
    auto begin = edges.begin() + states[s].edge_begin;
    auto end = edges.begin() + states[s + 1].edge_begin;
    auto it = std::lower_bound(begin, end, std::make_pair(symbol, uint32_t{0}));
    return it != end && it->first == symbol ? it->second : kNoTerm;
  }
  uint32_t Next(uint32_t s, uint32_t symbol) const {
    for (; s != 0; s = states[s].fail) {
      if (uint32_t to = Goto(s, symbol); to != kNoTerm) return to;
    }
    return root_next[symbol];
  }
};

// Symbol ids of the code points terms contain (0: none), in blocks of 256 allocated on use.
class SymbolTable {
 public:
  SymbolTable() : stage1_(kStage1Size, -1) {}
  uint32_t operator[](char32_t cp) const {
    if (cp > 0x10FFFF) return 0;
    const int32_t b = stage1_[cp >> 8];
    return b < 0 ? 0 : blocks_[static_cast<size_t>(b) * 256 + (cp & 0xFF)];
  }
  void Set(char32_t cp, uint32_t symbol) {
    int32_t& b = stage1_[cp >> 8];
    if (b < 0) {
      b = static_cast<int32_t>(blocks_.size() / 256);
      blocks_.resize(blocks_.size() + 256, 0);
    }
    blocks_[static_cast<size_t>(b) * 256 + (cp & 0xFF)] = symbol;
  }

 private:
  std::vector<int32_t> stage1_;
  std::vector<uint32_t> blocks_;
};

// The class entry of `cp`: what it folds to, as symbols of this lexicon (`symbol_of`; an
// empty vector: no symbols). Expansions that contain a symbol (or whose first and last
// characters differ in being word characters) go to `sequences`.
uint32_t ClassOf(char32_t cp, const SymbolTable& symbol_of, std::vector<uint32_t>* sequences) {
  char32_t folded[kMaxFoldLength];
  const size_t n = FoldCodePoint(cp, folded);
  auto entry = [&symbol_of](char32_t f) {
    const uint32_t symbol = symbol_of[f];
    return IsWordScript(f) ? symbol | kWordBit : symbol;
  };
  if (n == 0) return kClassRemoved;
  if (n == 1) return entry(folded[0]);
  uint32_t seq[kMaxFoldLength];
  bool any = false;
  for (size_t k = 0; k < n; ++k) {
    seq[k] = entry(folded[k]);
    any = any || (seq[k] & kSymbolMask) != 0;
  }
  // No term character: one non-matching character does the same.
  if (!any && (seq[0] & kWordBit) == (seq[n - 1] & kWordBit)) return seq[0];
  // Linear search: expansions with symbols are few (ligatures, ㎏, ½...).
  for (size_t at = 0; at + n <= sequences->size(); ++at) {
    if (std::equal(seq, seq + n, sequences->begin() + static_cast<ptrdiff_t>(at))) {
      return kClassSequence | static_cast<uint32_t>(n) << 24 | static_cast<uint32_t>(at);
    }
  }
  const auto at = static_cast<uint32_t>(sequences->size());
  sequences->insert(sequences->end(), seq, seq + n);
  return kClassSequence | static_cast<uint32_t>(n) << 24 | at;
}

// Deduplicates blocks of 256 class entries in a lexicon's stage-2 table.
class ClassBlocks {
 public:
  explicit ClassBlocks(CompiledLexicon* c) : c_(c) {
    for (size_t b = 0; b < c_->class_stage2.size() / 256; ++b) {
      index_[Hash(c_->class_stage2.data() + b * 256)].push_back(static_cast<uint16_t>(b));
    }
  }
  uint16_t Intern(const uint32_t* block) {
    std::vector<uint16_t>& same = index_[Hash(block)];
    for (uint16_t candidate : same) {
      if (std::memcmp(c_->class_stage2.data() + size_t{candidate} * 256, block,
                      256 * sizeof(uint32_t)) == 0) {
        return candidate;
      }
    }
    const auto index = static_cast<uint16_t>(c_->class_stage2.size() / 256);
    c_->class_stage2.insert(c_->class_stage2.end(), block, block + 256);
    same.push_back(index);
    return index;
  }
  // Blocks of the base table that no code point uses any more.
  void DropUnused() {
    std::vector<int32_t> remap(c_->class_stage2.size() / 256, -1);
    std::vector<uint32_t> kept;
    for (uint16_t& b : c_->class_stage1) {
      if (remap[b] < 0) {
        remap[b] = static_cast<int32_t>(kept.size() / 256);
        kept.insert(kept.end(), c_->class_stage2.begin() + static_cast<ptrdiff_t>(b) * 256,
                    c_->class_stage2.begin() + static_cast<ptrdiff_t>(b) * 256 + 256);
      }
      b = static_cast<uint16_t>(remap[b]);
    }
    c_->class_stage2 = std::move(kept);
  }

 private:
  static uint64_t Hash(const uint32_t* block) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < 256; ++i) h = (h ^ block[i]) * 1099511628211ull;
    return h;
  }
  CompiledLexicon* c_;
  std::unordered_map<uint64_t, std::vector<uint16_t>> index_;
};

// The class table of a lexicon without terms, and which code points fold to each character
// (other than itself): a lexicon's compile recomputes only the blocks its terms touch.
struct BaseClassTable {
  std::vector<uint16_t> stage1;
  std::vector<uint32_t> stage2;
  std::vector<uint32_t> sequences;
  std::vector<std::pair<char32_t, char32_t>> sources;  // (folded character, source), sorted
};

const BaseClassTable& BaseClasses() {
  static const BaseClassTable table = [] {
    BaseClassTable t;
    CompiledLexicon scratch;
    const SymbolTable no_symbols;
    ClassBlocks blocks(&scratch);
    t.stage1.resize(kStage1Size);
    uint32_t block[256];
    char32_t folded[kMaxFoldLength];
    for (size_t b = 0; b < kStage1Size; ++b) {
      for (size_t i = 0; i < 256; ++i) {
        const auto cp = static_cast<char32_t>(b * 256 + i);
        block[i] = ClassOf(cp, no_symbols, &scratch.class_sequences);
        const size_t n = FoldCodePoint(cp, folded);
        for (size_t k = 0; k < n; ++k) {
          if (folded[k] != cp) t.sources.emplace_back(folded[k], cp);
        }
      }
      t.stage1[b] = blocks.Intern(block);
    }
    std::sort(t.sources.begin(), t.sources.end());
    t.stage2 = std::move(scratch.class_stage2);
    t.sequences = std::move(scratch.class_sequences);
    return t;
  }();
  return table;
}

// RootInfo from root_next and the depth-1 states (which Valid() has checked, for a load).
void DeriveRootInfo(CompiledLexicon* c) {
  // One entry per symbol; [0] stands for states deeper than 1 (every symbol may be an edge:
  // ask the state), and one more at the end for the root itself (no state to leave).
  c->root_info.assign(c->root_next.size() + 1, RootInfo{0, 0, {0, 0}});
  c->root_info[0].children[0] = c->root_info[0].children[1] = ~uint64_t{0};
  c->root_via = static_cast<uint32_t>(c->root_next.size());
  for (size_t symbol = 1; symbol < c->root_next.size(); ++symbol) {
    const uint32_t s = c->root_next[symbol];
    if (s == 0) continue;
    RootInfo& info = c->root_info[symbol];
    info.state = s;
    const uint32_t* n = c->nodes.data() + s;
    if (n[1] != 0) info.flags |= kRootReports;
    auto add = [&info](uint32_t child) { info.AddChild(child); };
    const uint32_t h = n[2];
    const uint32_t* x = n + kNodeHeader;
    if (h & kNodeAsciiRow) {
      for (uint32_t k = 0; k < c->ascii_symbols; ++k) {
        if (x[k] & kRowChild) add(k + 1);
      }
      x += c->ascii_symbols;
    }
    if (h & kNodeBand) {
      for (uint32_t k = 0; k < x[1]; ++k) {
        if (x[2 + k] != 0) add(x[0] + k);
      }
    } else {
      for (uint32_t k = 0; k < (h & 0xFFFF); ++k) add(x[k]);
    }
  }
}

// The ASCII bytes' classes, and whether ASCII letters and digits are word characters and
// everything else in ASCII a separator (what the folding table makes them: LatinRun's
// eight-byte word skip relies on it).
void DeriveAscii(CompiledLexicon* c) {
  c->front_of.fill(0);
  c->cjk_classes.assign(CompiledLexicon::kCjkLast - CompiledLexicon::kCjkFirst + 1, 0);
  for (char32_t cp = CompiledLexicon::kCjkFirst; cp <= CompiledLexicon::kCjkLast; ++cp) {
    const uint32_t cls = c->Class(cp);
    if (cls > 0xFFFF) {  // a separator, a sequence, a word character or a large symbol id
      c->cjk_classes.clear();
      break;
    }
    c->cjk_classes[cp - CompiledLexicon::kCjkFirst] = static_cast<uint16_t>(cls);
  }
  c->ascii_plain = true;
  for (uint32_t cp = 0; cp < 128; ++cp) {
    const uint32_t cls = c->class_stage2[static_cast<size_t>(c->class_stage1[0]) * 256 + cp];
    c->ascii[cp] = cls;
    if ((cls & (kClassSequence | kWordBit)) == kWordBit &&
        (cls & kSymbolMask) - 1 < c->front_symbols) {
      c->front_of[cp] = static_cast<uint8_t>(cls & kSymbolMask);
    }
    const bool alnum = (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z');
    if (alnum ? (cls & (kClassSequence | kWordBit)) != kWordBit : cls != kClassRemoved) {
      c->ascii_plain = false;
    }
  }
}

// The front tables from the automaton (after DeriveRootInfo).
void DeriveFront(CompiledLexicon* c) {
  c->pairs.clear();
  c->triples.clear();
  c->front_symbols = c->ascii_symbols <= kMaxFrontSymbols ? c->ascii_symbols : 0;
  const uint32_t a_max = c->front_symbols;
  if (a_max == 0) return;
  const size_t row = a_max + 1;
  c->pairs.assign(row * row, PairInfo{0, 0});
  c->triples.assign((row * row * row + 63) / 64, 0);
  for (uint32_t a = 1; a <= a_max; ++a) {
    const uint32_t s1 = c->root_next[a];
    if (s1 == 0) continue;
    for (uint32_t b = 1; b <= a_max; ++b) {
      const uint32_t s2 = c->Child(s1, b);
      if (s2 == 0) continue;
      const size_t pair = a * row + b;
      c->pairs[pair] = PairInfo{s2, c->FirstReport(s2) != 0 ? 1u : 0u};
      for (uint32_t d = 1; d <= a_max; ++d) {
        if (c->Child(s2, d) == 0) continue;
        const size_t bit = pair * row + d;
        c->triples[bit >> 6] |= uint64_t{1} << (bit & 63);
      }
    }
  }
}

}  // namespace

bool IsWordScript(char32_t c) {
  if (c < 0x80) return true;  // folded ASCII that is kept: letters and digits
  const bool no_spaces =
      (c >= 0x0E00 && c <= 0x0FFF) ||    // Thai, Lao, Tibetan
      (c >= 0x1000 && c <= 0x109F) ||    // Myanmar
      (c >= 0x1780 && c <= 0x17FF) ||    // Khmer
      (c >= 0x19E0 && c <= 0x19FF) ||    // Khmer symbols
      (c >= 0x2E80 && c <= 0x31FF) ||    // CJK radicals, kana, bopomofo, CJK strokes
      (c >= 0x3400 && c <= 0x4DBF) ||    // CJK extension A
      (c >= 0x4E00 && c <= 0x9FFF) ||    // CJK unified ideographs
      (c >= 0xA000 && c <= 0xA4CF) ||    // Yi
      (c >= 0xF900 && c <= 0xFAFF) ||    // CJK compatibility ideographs
      (c >= 0xFF66 && c <= 0xFF9F) ||    // half-width kana
      (c >= 0x1B000 && c <= 0x1B16F) ||  // kana supplement
      (c >= 0x20000 && c <= 0x3FFFF);    // CJK extensions B-H
  return !no_spaces;
}

size_t CompiledLexicon::MemoryBytes() const {
  size_t n = sizeof(*this);
  n += class_stage1.capacity() * sizeof(uint16_t) + class_stage2.capacity() * sizeof(uint32_t) +
       class_sequences.capacity() * sizeof(uint32_t) + root_next.capacity() * sizeof(uint32_t) +
       root_info.capacity() * sizeof(RootInfo) + cjk_classes.capacity() * sizeof(uint16_t) +
       pairs.capacity() * sizeof(PairInfo) + triples.capacity() * sizeof(uint64_t) +
       nodes.capacity() * sizeof(uint32_t) + reports.capacity() * sizeof(ReportRecord) +
       terms.capacity() * sizeof(TermRecord) + strings.capacity();
  for (const auto* list : {&categories, &lexicons, &locales}) {
    for (const std::string& s : *list) n += sizeof(s) + s.capacity();
  }
  return n;
}

bool Compile(const CompileInput& input, uint32_t max_separator_run, CompiledLexicon* out,
             std::string* error) {
  CompiledLexicon c;
  c.max_separator_run = max_separator_run;
  if (input.lexicon_files.size() > 0xFFFF) {
    *error = "more than 65,535 lexicon files";
    return false;
  }
  c.lexicons = input.lexicon_files;

  // Merge terms that fold to the same text: the strongest action wins, the first on ties.
  std::vector<UniqueTerm> unique;
  {
    std::unordered_map<std::u32string_view, size_t> index;
    index.reserve(input.terms.size());
    for (const auto& [lexicon, term] : input.terms) {
      if (term->folded.empty() || term->folded.size() > kMaxTermLength) continue;
      auto [it, inserted] = index.emplace(term->folded, unique.size());
      if (inserted) {
        unique.push_back({term, lexicon});
      } else if (term->action > unique[it->second].term->action) {
        unique[it->second] = {term, lexicon};  // the key still views equal text
      }
    }
  }
  std::sort(unique.begin(), unique.end(), [](const UniqueTerm& a, const UniqueTerm& b) {
    return a.term->folded < b.term->folded;
  });

  // Symbols: every code point a folded term contains, numbered from 1 in code point order,
  // so the ASCII ones come first.
  SymbolTable symbol_of;
  std::vector<char32_t> cps;
  {
    for (const UniqueTerm& u : unique) {
      for (char32_t cp : u.term->folded) {
        if (cp <= 0x10FFFF) cps.push_back(cp);
      }
    }
    std::sort(cps.begin(), cps.end());
    cps.erase(std::unique(cps.begin(), cps.end()), cps.end());
    if (cps.size() >= kSymbolMask) {
      *error = "more than 2^24 distinct characters in the terms";
      return false;
    }
    for (size_t i = 0; i < cps.size(); ++i) {
      symbol_of.Set(cps[i], static_cast<uint32_t>(i + 1));
      if (cps[i] < 0x80) c.ascii_symbols = static_cast<uint32_t>(i + 1);
    }
    c.num_symbols = static_cast<uint32_t>(cps.size());
  }
  // Class table: the table of a lexicon without terms (computed once per process), with the
  // blocks that hold a term character, or a character that folds to one, recomputed.
  const BaseClassTable& base = BaseClasses();
  c.class_stage1 = base.stage1;
  c.class_stage2 = base.stage2;
  c.class_sequences = base.sequences;
  {
    std::vector<bool> dirty(kStage1Size, false);
    for (char32_t cp : cps) {
      dirty[cp >> 8] = true;
      auto it = std::lower_bound(base.sources.begin(), base.sources.end(),
                                 std::make_pair(cp, char32_t{0}));
      for (; it != base.sources.end() && it->first == cp; ++it) dirty[it->second >> 8] = true;
    }
    ClassBlocks blocks(&c);
    uint32_t block[256];
    for (size_t b = 0; b < kStage1Size; ++b) {
      if (!dirty[b]) continue;
      for (size_t i = 0; i < 256; ++i) {
        block[i] = ClassOf(static_cast<char32_t>(b * 256 + i), symbol_of, &c.class_sequences);
      }
      if (c.class_sequences.size() >= kSymbolMask) {
        *error = "the folding table has more expansions than the class table can hold";
        return false;
      }
      c.class_stage1[b] = blocks.Intern(block);
    }
    blocks.DropUnused();
  }

  // Trie, inserting sorted terms along the previous term's path.
  std::vector<BuildNode> nodes(1);
  {
    std::vector<uint32_t> path{0};
    const std::u32string* previous = nullptr;
    for (size_t t = 0; t < unique.size(); ++t) {
      const std::u32string& folded = unique[t].term->folded;
      size_t common = 0;
      if (previous != nullptr) {
        while (common < folded.size() && common < previous->size() &&
               folded[common] == (*previous)[common]) {
          ++common;
        }
      }
      path.resize(common + 1);
      for (size_t i = common; i < folded.size(); ++i) {
        const uint32_t parent = path.back();
        const auto id = static_cast<uint32_t>(nodes.size());
        BuildNode node;
        node.symbol = symbol_of[folded[i]];
        node.depth = static_cast<uint8_t>(i + 1);
        nodes.push_back(node);
        if (nodes[parent].first_child == 0) {
          nodes[parent].first_child = id;
        } else {
          nodes[nodes[parent].last_child].next_sibling = id;
        }
        nodes[parent].last_child = id;
        path.push_back(id);
      }
      nodes[path.back()].term = static_cast<uint32_t>(t);
      previous = &folded;
    }
  }

  // Breadth-first numbering and fail links (a state's fail is always shallower).
  SparseTrie trie;
  const size_t n = nodes.size();
  {
    std::vector<uint32_t> order{0};  // trie state -> build node
    order.reserve(n);
    trie.states.resize(n + 1);
    trie.edges.reserve(n - 1);
    for (size_t id = 0; id < order.size(); ++id) {
      const BuildNode& node = nodes[order[id]];
      trie.states[id] = {static_cast<uint32_t>(trie.edges.size()), 0, node.term, node.depth};
      for (uint32_t child = node.first_child; child != 0; child = nodes[child].next_sibling) {
        trie.edges.emplace_back(nodes[child].symbol, static_cast<uint32_t>(order.size()));
        order.push_back(child);
      }
    }
    trie.states[n] = {static_cast<uint32_t>(trie.edges.size()), 0, kNoTerm, 0};
    nodes.clear();
    nodes.shrink_to_fit();
    trie.root_next.assign(c.num_symbols + 1, 0);
    for (uint32_t e = trie.states[0].edge_begin; e < trie.states[1].edge_begin; ++e) {
      trie.root_next[trie.edges[e].first] = trie.edges[e].second;
    }
    for (size_t u = 0; u < n; ++u) {
      for (uint32_t e = trie.states[u].edge_begin; e < trie.states[u + 1].edge_begin; ++e) {
        const uint32_t v = trie.edges[e].second;
        trie.states[v].fail = u == 0 ? 0 : trie.Next(trie.states[u].fail, trie.edges[e].first);
      }
    }
  }

  // Chain symbol ranges, hold depths, and which states get an ASCII row.
  std::vector<uint32_t> chain_lo(n, 0xFFFFFFFF), chain_hi(n, 0), hold(n, 0);
  std::vector<bool> ascii_row(n, false);
  for (size_t s = 1; s < n; ++s) {
    const uint32_t b = trie.states[s].edge_begin, e = trie.states[s + 1].edge_begin;
    if (b < e) {
      chain_lo[s] = trie.edges[b].first;
      chain_hi[s] = trie.edges[e - 1].first;
    }
    const uint32_t f = trie.states[s].fail;
    if (f != 0) {
      chain_lo[s] = std::min(chain_lo[s], chain_lo[f]);
      chain_hi[s] = std::max(chain_hi[s], chain_hi[f]);
    }
    hold[s] = b < e ? trie.states[s].depth : hold[f];
    ascii_row[s] = c.ascii_symbols > 0 && trie.states[s].depth <= kAsciiRowMaxDepth &&
                   chain_lo[s] <= c.ascii_symbols;
  }

  // Flat layout.
  struct Shape {
    uint32_t first_edge;  // after the ASCII row's symbols
    bool band;
    uint32_t band_lo;
    uint32_t band_width;
    uint32_t words;
  };
  auto shape_of = [&](size_t s) {
    Shape sh{};
    uint32_t b = trie.states[s].edge_begin;
    const uint32_t e = trie.states[s + 1].edge_begin;
    if (ascii_row[s]) {
      while (b < e && trie.edges[b].first <= c.ascii_symbols) ++b;
    }
    sh.first_edge = b;
    const uint32_t count = e - b;
    if (count > 0) {
      sh.band_lo = trie.edges[b].first;
      sh.band_width = trie.edges[e - 1].first - sh.band_lo + 1;
      // Dense when it costs at most about twice the sparse form, or when it must.
      sh.band = (count >= 6 && sh.band_width <= 2 * count + 8) || count > kMaxSparseCount;
    }
    sh.words = kNodeHeader + (ascii_row[s] ? c.ascii_symbols : 0) +
               (sh.band ? 2 + sh.band_width : 2 * count);
    return sh;
  };
  std::vector<uint32_t> offset(n);
  {
    uint64_t words = 0;
    for (size_t s = 0; s < n; ++s) {
      offset[s] = static_cast<uint32_t>(words);
      words += shape_of(s).words;
      if (words >= kRowChild) {
        *error = "the lexicons are too large for one automaton (over 8 GiB of states)";
        return false;
      }
    }
    c.nodes.assign(words, 0);
  }
  c.reports.push_back({kNoTerm, 0});
  std::vector<uint32_t> first_report(n, 0);
  for (size_t s = 0; s < n; ++s) {
    const Shape sh = shape_of(s);
    uint32_t* node = c.nodes.data() + offset[s];
    const SparseTrie::State& st = trie.states[s];
    // Breadth-first order: the fail state's reports are known.
    if (s != 0) {
      const uint32_t inherited = first_report[st.fail];
      if (st.term != kNoTerm) {
        first_report[s] = static_cast<uint32_t>(c.reports.size());
        c.reports.push_back({st.term, inherited});
      } else {
        first_report[s] = inherited;
      }
    }
    node[0] = offset[st.fail];
    node[1] = first_report[s];
    const uint32_t e = trie.states[s + 1].edge_begin;
    const uint32_t count = e - sh.first_edge;
    node[2] = (sh.band ? 0 : count) | st.depth << 16 | (sh.band ? kNodeBand : 0) |
              (ascii_row[s] ? kNodeAsciiRow : 0) | hold[s] << kNodeHoldShift;
    node[3] = s == 0 ? 1 : (ascii_row[s] ? 1 : chain_lo[s]);
    node[4] = s == 0 ? c.num_symbols : chain_hi[s];
    uint32_t* x = node + kNodeHeader;
    if (ascii_row[s]) {
      for (uint32_t symbol = 1; symbol <= c.ascii_symbols; ++symbol) {
        const uint32_t t = trie.Next(static_cast<uint32_t>(s), symbol);
        x[symbol - 1] = offset[t] | (trie.states[t].depth == st.depth + 1 ? kRowChild : 0);
      }
      x += c.ascii_symbols;
    }
    if (sh.band) {
      x[0] = sh.band_lo;
      x[1] = sh.band_width;
      for (uint32_t k = sh.first_edge; k < e; ++k) {
        x[2 + trie.edges[k].first - sh.band_lo] = offset[trie.edges[k].second];
      }
    } else {
      for (uint32_t k = sh.first_edge; k < e; ++k) {
        x[k - sh.first_edge] = trie.edges[k].first;
        x[count + k - sh.first_edge] = offset[trie.edges[k].second];
      }
    }
  }
  c.root_next.resize(trie.root_next.size());
  for (size_t i = 0; i < trie.root_next.size(); ++i) c.root_next[i] = offset[trie.root_next[i]];
  DeriveRootInfo(&c);
  DeriveFront(&c);
  c.state_count = n;

  // Term records.
  std::map<std::string, uint16_t, std::less<>> category_index;
  std::map<std::string, uint8_t, std::less<>> locale_index;
  c.locales.push_back("");
  c.terms.resize(unique.size());
  for (size_t t = 0; t < unique.size(); ++t) {
    const LexiconTerm& term = *unique[t].term;
    TermRecord& r = c.terms[t];
    r.text_offset = static_cast<uint32_t>(c.strings.size());
    r.text_length = static_cast<uint32_t>(term.text.size());
    c.strings += term.text;
    auto cat = category_index.find(term.category);
    if (cat == category_index.end()) {
      if (c.categories.size() >= 0xFFFF) {
        *error = "more than 65,535 categories";
        return false;
      }
      cat = category_index.emplace(term.category, static_cast<uint16_t>(c.categories.size())).first;
      c.categories.push_back(term.category);
    }
    r.category = cat->second;
    r.lexicon = unique[t].lexicon;
    r.line = static_cast<uint32_t>(term.line);
    r.length = static_cast<uint8_t>(term.folded.size());
    r.action = static_cast<uint8_t>(term.action);
    r.locale = 0;
    if (!term.locale.empty()) {
      auto loc = locale_index.find(term.locale);
      if (loc == locale_index.end()) {
        if (c.locales.size() >= 64) {
          *error = "more than 63 distinct term locales";
          return false;
        }
        loc = locale_index.emplace(term.locale, static_cast<uint8_t>(c.locales.size())).first;
        c.locales.push_back(term.locale);
      }
      r.locale = loc->second;
    }
    r.flags = 0;
    if (term.whole_words && IsWordScript(term.folded.front())) r.flags |= kTermWordStart;
    if (!term.whole_words && IsWordScript(term.folded.front())) c.inner_word_terms = true;
    if (term.whole_words && IsWordScript(term.folded.back())) r.flags |= kTermWordEnd;
    c.max_term_length = std::max<uint32_t>(c.max_term_length, r.length);
  }
  DeriveAscii(&c);
  *out = std::move(c);
  return true;
}

// ---- serialisation ---------------------------------------------------------------------

namespace {

constexpr char kMagic[8] = {'R', 'G', 'F', 'L', 'E', 'X', '0', '3'};

uint64_t Checksum(std::string_view bytes) {
  // 64-bit multiply-rotate over 8-byte words: a few ms for a 30 MB file.
  uint64_t h = 0x9E3779B97F4A7C15ull ^ bytes.size();
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t w = 0;
    std::memcpy(&w, bytes.data() + i, 8);
    h ^= w * 0xC2B2AE3D27D4EB4Full;
    h = (h << 31 | h >> 33) * 0x9E3779B97F4A7C15ull;
  }
  for (; i < bytes.size(); ++i) {
    h ^= static_cast<unsigned char>(bytes[i]);
    h *= 0x100000001B3ull;
  }
  return h ^ (h >> 29);
}

class Writer {
 public:
  template <class T>
  void Scalar(T v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  template <class T>
  void Array(const std::vector<T>& v) {
    Scalar<uint64_t>(v.size());
    if (!v.empty()) out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
    Pad();
  }
  void Strings(const std::vector<std::string>& v) {
    Scalar<uint64_t>(v.size());
    for (const std::string& s : v) {
      Scalar<uint32_t>(static_cast<uint32_t>(s.size()));
      out_ += s;
    }
    Pad();
  }
  void Bytes(std::string_view s) {
    Scalar<uint64_t>(s.size());
    out_ += s;
    Pad();
  }
  std::string& str() { return out_; }

 private:
  void Pad() { out_.resize((out_.size() + 7) / 8 * 8, '\0'); }
  std::string out_;
};

class ReaderView {
 public:
  explicit ReaderView(std::string_view in) : in_(in) {}
  template <class T>
  bool Scalar(T* v) {
    if (in_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  template <class T>
  bool Array(std::vector<T>* v, size_t max_count) {
    uint64_t count = 0;
    if (!Scalar(&count) || count > max_count || count > (in_.size() - pos_) / sizeof(T)) {
      return false;
    }
    v->resize(count);
    if (count > 0) std::memcpy(v->data(), in_.data() + pos_, count * sizeof(T));
    pos_ += count * sizeof(T);
    return Pad();
  }
  bool Strings(std::vector<std::string>* v, size_t max_count) {
    uint64_t count = 0;
    if (!Scalar(&count) || count > max_count) return false;
    v->clear();
    for (uint64_t i = 0; i < count; ++i) {
      uint32_t len = 0;
      if (!Scalar(&len) || len > in_.size() - pos_) return false;
      v->emplace_back(in_.substr(pos_, len));
      pos_ += len;
    }
    return Pad();
  }
  bool Bytes(std::string* s) {
    uint64_t len = 0;
    if (!Scalar(&len) || len > in_.size() - pos_) return false;
    s->assign(in_.substr(pos_, len));
    pos_ += len;
    return Pad();
  }
  bool AtEnd() const { return pos_ == in_.size(); }

 private:
  bool Pad() {
    const size_t padded = (pos_ + 7) / 8 * 8;
    if (padded > in_.size()) return false;
    pos_ = padded;
    return true;
  }
  std::string_view in_;
  size_t pos_ = 0;
};

// Every offset is checked, so that scanning a loaded automaton can neither read out of bounds
// nor loop: fail links lead to shallower states, report chains to smaller indices.
bool Valid(CompiledLexicon* c) {
  if (c->max_term_length > kMaxTermLength || c->num_symbols >= kSymbolMask ||
      c->ascii_symbols > c->num_symbols || c->ascii_symbols > 128) {
    return false;
  }
  if (c->class_stage1.size() != kStage1Size || c->class_stage2.empty() ||
      c->class_stage2.size() % 256 != 0) {
    return false;
  }
  const size_t blocks = c->class_stage2.size() / 256;
  for (uint16_t b : c->class_stage1) {
    if (b >= blocks) return false;
  }
  auto symbol_ok = [c](uint32_t e) {
    return (e & kClassSequence) == 0 && (e & ~(kWordBit | kSymbolMask)) == 0 &&
           (e & kSymbolMask) <= c->num_symbols;
  };
  for (uint32_t e : c->class_stage2) {
    if (e == kClassRemoved) continue;
    if (e & kClassSequence) {
      const uint32_t len = (e >> 24) & 0x7F;
      const uint32_t off = e & kSymbolMask;
      if (len == 0 || static_cast<uint64_t>(off) + len > c->class_sequences.size()) return false;
    } else if (!symbol_ok(e)) {
      return false;
    }
  }
  for (uint32_t e : c->class_sequences) {
    if (!symbol_ok(e)) return false;
  }
  if (c->locales.empty() || !c->locales[0].empty() || c->locales.size() > 64) return false;
  for (const TermRecord& t : c->terms) {
    if (static_cast<uint64_t>(t.text_offset) + t.text_length > c->strings.size() ||
        t.category >= c->categories.size() || t.lexicon >= c->lexicons.size() ||
        t.locale >= c->locales.size() || t.action > 2 || t.length == 0 ||
        t.length > c->max_term_length || t.flags > 3) {
      return false;
    }
  }
  if (c->reports.empty()) return false;
  for (size_t r = 1; r < c->reports.size(); ++r) {
    if (c->reports[r].term >= c->terms.size() || c->reports[r].next >= r) return false;
  }

  // Walk the states in layout order: each must fit, and every offset must be a state start.
  const std::vector<uint32_t>& nodes = c->nodes;
  std::vector<uint8_t> depth_at(nodes.size(), 0xFF);  // 0xFF: not a state start
  std::vector<uint32_t> starts;
  for (size_t o = 0; o < nodes.size();) {
    if (nodes.size() - o < kNodeHeader) return false;
    const uint32_t h = nodes[o + 2];
    const uint32_t depth = (h >> 16) & 0xFF;
    if (depth > c->max_term_length || (o == 0) != (depth == 0) || (h >> kNodeHoldShift) > depth) {
      return false;
    }
    size_t words = kNodeHeader;
    if (h & kNodeAsciiRow) words += c->ascii_symbols;
    if (h & kNodeBand) {
      if (nodes.size() - o < words + 2) return false;
      const uint64_t lo = nodes[o + words], width = nodes[o + words + 1];
      if (width == 0 || lo == 0 || lo + width - 1 > c->num_symbols) return false;
      words += 2 + width;
    } else {
      words += 2 * static_cast<size_t>(h & 0xFFFF);
    }
    if (nodes.size() - o < words) return false;
    depth_at[o] = static_cast<uint8_t>(depth);
    starts.push_back(static_cast<uint32_t>(o));
    o += words;
  }
  if (starts.empty()) return false;
  auto state_ok = [&](uint32_t s) { return s < nodes.size() && depth_at[s] != 0xFF; };
  for (uint32_t to : c->root_next) {
    if (!state_ok(to) || depth_at[to] > 1) return false;
  }
  if (c->root_next.size() != static_cast<size_t>(c->num_symbols) + 1 || c->root_next[0] != 0) {
    return false;
  }
  for (uint32_t o : starts) {
    const uint32_t* n = nodes.data() + o;
    const uint32_t depth = depth_at[o];
    if (o != 0 && (!state_ok(n[0]) || depth_at[n[0]] >= depth)) return false;
    if (n[1] >= c->reports.size()) return false;
    if (n[1] != 0 && c->terms[c->reports[n[1]].term].length > depth) return false;
    const uint32_t h = n[2];
    const uint32_t* x = n + kNodeHeader;
    if (h & kNodeAsciiRow) {
      for (uint32_t k = 0; k < c->ascii_symbols; ++k) {
        const uint32_t to = x[k] & ~kRowChild;
        if (!state_ok(to) ||
            ((x[k] & kRowChild) != 0 ? depth_at[to] != depth + 1 : depth_at[to] > depth)) {
          return false;
        }
      }
      x += c->ascii_symbols;
    }
    if (h & kNodeBand) {
      for (uint32_t k = 0; k < x[1]; ++k) {
        const uint32_t to = x[2 + k];
        if (to != 0 && (!state_ok(to) || depth_at[to] != depth + 1)) return false;
      }
    } else {
      const uint32_t count = h & 0xFFFF;
      for (uint32_t k = 0; k < count; ++k) {
        if (x[k] == 0 || x[k] > c->num_symbols || (k > 0 && x[k] <= x[k - 1])) return false;
        const uint32_t to = x[count + k];
        if (!state_ok(to) || depth_at[to] != depth + 1) return false;
      }
    }
  }
  // A report's term must end where it is reported, so that its start is in the ring.
  c->state_count = starts.size();
  return true;
}

}  // namespace

std::string Serialize(const CompiledLexicon& c, std::string_view key) {
  Writer payload;
  payload.Scalar<uint32_t>(c.max_separator_run);
  payload.Scalar<uint32_t>(c.max_term_length);
  payload.Scalar<uint32_t>(c.num_symbols);
  payload.Scalar<uint32_t>(c.ascii_symbols);
  payload.Scalar<uint32_t>(c.inner_word_terms ? 1 : 0);
  payload.Scalar<uint32_t>(0);
  payload.Array(c.class_stage1);
  payload.Array(c.class_stage2);
  payload.Array(c.class_sequences);
  payload.Array(c.root_next);
  payload.Array(c.nodes);
  payload.Array(c.reports);
  payload.Array(c.terms);
  payload.Bytes(c.strings);
  payload.Strings(c.categories);
  payload.Strings(c.lexicons);
  payload.Strings(c.locales);

  Writer file;
  file.str().append(kMagic, sizeof(kMagic));
  file.Scalar<uint32_t>(kCacheFormatVersion);
  file.Scalar<uint32_t>(0);
  file.Scalar<uint64_t>(FoldTableHash());
  file.Bytes(key);
  file.Scalar<uint64_t>(payload.str().size());
  file.Scalar<uint64_t>(Checksum(payload.str()));
  file.str() += payload.str();
  return std::move(file.str());
}

bool Deserialize(std::string_view bytes, std::string_view key, CompiledLexicon* out) {
  if (bytes.size() < sizeof(kMagic) || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return false;
  }
  ReaderView header(bytes.substr(sizeof(kMagic)));
  uint32_t version = 0, reserved = 0;
  uint64_t fold_hash = 0, payload_size = 0, checksum = 0;
  std::string stored_key;
  if (!header.Scalar(&version) || version != kCacheFormatVersion || !header.Scalar(&reserved) ||
      !header.Scalar(&fold_hash) || fold_hash != FoldTableHash() || !header.Bytes(&stored_key) ||
      stored_key != key || !header.Scalar(&payload_size) || !header.Scalar(&checksum)) {
    return false;
  }
  const size_t header_size = sizeof(kMagic) + 4 + 4 + 8 + 8 + (key.size() + 7) / 8 * 8 + 8 + 8;
  if (bytes.size() < header_size || bytes.size() - header_size != payload_size) return false;
  const std::string_view payload = bytes.substr(header_size);
  if (Checksum(payload) != checksum) return false;

  CompiledLexicon c;
  ReaderView in(payload);
  const size_t big = payload.size();
  uint32_t inner = 0, unused = 0;
  const bool ok = in.Scalar(&c.max_separator_run) && in.Scalar(&c.max_term_length) &&
                  in.Scalar(&c.num_symbols) && in.Scalar(&c.ascii_symbols) && in.Scalar(&inner) &&
                  inner <= 1 && in.Scalar(&unused) && in.Array(&c.class_stage1, kStage1Size) &&
                  in.Array(&c.class_stage2, big) && in.Array(&c.class_sequences, big) &&
                  in.Array(&c.root_next, big) && in.Array(&c.nodes, big) &&
                  in.Array(&c.reports, big) && in.Array(&c.terms, big) && in.Bytes(&c.strings) &&
                  in.Strings(&c.categories, 0xFFFF) && in.Strings(&c.lexicons, 0xFFFF) &&
                  in.Strings(&c.locales, 64) && in.AtEnd();
  if (!ok || !Valid(&c)) return false;
  DeriveRootInfo(&c);
  DeriveFront(&c);
  c.inner_word_terms = inner == 1;
  DeriveAscii(&c);
  *out = std::move(c);
  return true;
}

}  // namespace rg::compliance::detail
