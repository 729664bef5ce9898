// The content filter's engine (compliance/src/content_filter.cpp, filter_automaton.cpp) against
// a brute-force reference written from docs/content-filter.md: fold every code point, then try
// every term at every position. The engine's shortcuts (the root's Bloom rows, the Latin front
// tables, skipping the inside of words, the in-word return to the root) must find exactly the
// reference's matches, with the same offsets and stops, on random lexicons and texts.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "regiongate/compliance/content_filter.hpp"
#include "regiongate/compliance/text_normalizer.hpp"

namespace rg::compliance {
namespace {

// One folded symbol of the text: where its code point is, and how it sits among its
// neighbours.
struct RefSymbol {
  char32_t cp;
  size_t begin;
  size_t end;
  bool word;          // a word character (the alphabets below: ASCII letters and digits)
  bool joined;        // directly after a word character, no separator between
  uint32_t gap;       // separators (removed code points) since the previous symbol
  size_t word_begin;  // where the run of joined characters it belongs to began
};

bool IsWordSymbol(char32_t cp) { return cp < 0x3000; }  // enough for the test's alphabets

std::vector<RefSymbol> FoldForReference(std::string_view text) {
  std::vector<RefSymbol> out;
  bool joined = false;
  uint32_t gap = 0;
  size_t word_begin = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const size_t used = DecodeUtf8(p + i, text.size() - i, /*at_end=*/true, &cp);
    char32_t folded[kMaxFoldLength];
    const size_t count = cp == kInvalidUtf8 ? 0 : FoldCodePoint(cp, folded);
    if (count == 0) {
      joined = false;
      ++gap;
    }
    for (size_t k = 0; k < count; ++k) {
      const bool word = IsWordSymbol(folded[k]);
      if (!joined) word_begin = i;
      out.push_back({folded[k], i, i + used, word, joined, gap, word_begin});
      joined = word;
      gap = 0;
    }
    i += used;
  }
  return out;
}

struct RefTerm {
  std::u32string folded;
  std::string text;
  bool part;
};

using Found = std::tuple<size_t, size_t, size_t, std::string>;  // end, begin, stop, term

std::set<Found> Reference(const std::vector<RefTerm>& terms, std::string_view text,
                          uint32_t max_gap) {
  const std::vector<RefSymbol> s = FoldForReference(text);
  std::set<Found> out;
  for (const RefTerm& t : terms) {
    const size_t k = t.folded.size();
    const bool word_start = !t.part && IsWordSymbol(t.folded.front());
    const bool word_end = !t.part && IsWordSymbol(t.folded.back());
    for (size_t j = 0; j + k <= s.size(); ++j) {
      bool ok = !(word_start && s[j].joined);
      for (size_t m = 0; ok && m < k; ++m) {
        ok = s[j + m].cp == t.folded[m] && (m == 0 || s[j + m].gap <= max_gap);
      }
      // A whole-word term must not run on into a word character.
      if (ok && word_end && j + k < s.size() && s[j + k].gap == 0 && s[j + k].word &&
          s[j + k].joined) {
        ok = false;
      }
      if (!ok) continue;
      const size_t stop = s[j].joined ? s[j].word_begin : s[j].begin;
      out.emplace(s[j + k - 1].end, s[j].begin, stop, t.text);
    }
  }
  return out;
}

std::set<Found> Engine(const ContentFilter& filter, std::string_view text) {
  std::vector<FilterMatch> matches;
  filter.ScanAll(text, {FilterDirection::kOutput, "zh-CN"}, &matches);
  std::set<Found> out;
  for (const FilterMatch& m : matches) {
    out.emplace(m.end, m.begin, m.stop, std::string(filter.Term(m.term).text));
  }
  EXPECT_EQ(out.size(), matches.size()) << "a match was reported twice";
  return out;
}

std::string Describe(const std::set<Found>& found) {
  std::string out;
  for (const auto& [end, begin, stop, term] : found) {
    out += "  " + term + " [" + std::to_string(begin) + "," + std::to_string(end) + ") stop " +
           std::to_string(stop) + "\n";
  }
  return out;
}

struct Alphabet {
  std::vector<std::string> letters;  // what terms are made of
  std::vector<std::string> noise;    // what else texts contain
};

void RunRandomRounds(const Alphabet& alphabet, uint32_t seed, int part_percent, uint32_t max_gap) {
  std::mt19937 rng(seed);
  for (int round = 0; round < 60; ++round) {
    std::string tsv = "term\tcategory\taction\tlocale\tmatch\n";
    std::vector<RefTerm> terms;
    std::set<std::u32string> seen;
    const int count = 1 + static_cast<int>(rng() % 40);
    for (int t = 0; t < count; ++t) {
      std::string term;
      const int length = 1 + static_cast<int>(rng() % 6);
      for (int k = 0; k < length; ++k) term += alphabet.letters[rng() % alphabet.letters.size()];
      const std::u32string folded = FoldText(term);
      if (!seen.insert(folded).second) continue;
      const bool part = static_cast<int>(rng() % 100) < part_percent;
      terms.push_back({folded, term, part});
      tsv += term + "\tsample\tflag\t\t" + (part ? "part" : "") + "\n";
    }
    Lexicon lexicon;
    ASSERT_FALSE(HasErrors(ParseLexicon(tsv, "random.tsv", &lexicon))) << tsv;
    ContentPolicy policy;
    policy.present = true;
    policy.input_action = "refuse";
    policy.output_action = "block";
    FilterOptions options;
    options.max_separator_run = max_gap;
    Result<std::shared_ptr<const ContentFilter>> filter =
        ContentFilter::FromLexicons({lexicon}, policy, options);
    ASSERT_TRUE(filter.ok()) << tsv;
    for (int text_round = 0; text_round < 8; ++text_round) {
      std::string text;
      const size_t pieces = text_round < 6 ? 1 + rng() % 80 : 2000 + rng() % 2000;
      for (size_t k = 0; k < pieces; ++k) {
        text += rng() % 3 == 0 ? alphabet.noise[rng() % alphabet.noise.size()]
                               : alphabet.letters[rng() % alphabet.letters.size()];
        if (rng() % 40 == 0) text += std::string(1 + rng() % (max_gap + 3), ' ');
      }
      const std::set<Found> expected = Reference(terms, text, max_gap);
      const std::set<Found> found = Engine(**filter, text);
      ASSERT_EQ(found, expected) << tsv << "text: " << text << "\nengine:\n"
                                 << Describe(found) << "reference:\n"
                                 << Describe(expected);
    }
  }
}

const Alphabet kLatin = {{"a", "b", "c", "d", "e", "f", "i", "1"},
                         {" ", "-", ".", "x", "Q", "E", "\u200B", "ﬁ", "é", "\xFF", "\n"}};
const Alphabet kMixed = {{"a", "b", "c", "坏", "词", "示", "例", "壞"},
                         {" ", "\u200B", "-", "，", "x", "Ａ", "ﬁ", "\xFF", "\xE5", "天", "\n"}};

// Whole-word Latin terms only: the Latin front tables and the in-word skips are in play.
TEST(ContentFilterReferenceTest, LatinWholeWords) { RunRandomRounds(kLatin, 1, 0, 8); }
TEST(ContentFilterReferenceTest, LatinWithPartTerms) { RunRandomRounds(kLatin, 2, 30, 8); }
TEST(ContentFilterReferenceTest, MixedWholeWords) { RunRandomRounds(kMixed, 3, 0, 8); }
TEST(ContentFilterReferenceTest, MixedWithPartTerms) { RunRandomRounds(kMixed, 4, 30, 8); }
TEST(ContentFilterReferenceTest, ShortSeparatorRuns) { RunRandomRounds(kMixed, 5, 10, 1); }
TEST(ContentFilterReferenceTest, NoSeparators) { RunRandomRounds(kLatin, 6, 0, 0); }

}  // namespace
}  // namespace rg::compliance
