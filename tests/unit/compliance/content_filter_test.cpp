// The content filter (compliance/src/content_filter.cpp): a blocked term never reaches the
// caller in any spelling the folding covers, whole or streamed however the text is chunked;
// normal text passes byte for byte; offsets point into the original; the region's caps,
// locales, refusal messages; the compiled-lexicon cache; the manifest's content_policy.
#include "regiongate/compliance/content_filter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "regiongate/compliance/text_normalizer.hpp"
#include "synthetic_corpus.hpp"
#include "test_util.hpp"

namespace rg::compliance {
namespace {

using testing::TempDir;
using testing::WriteText;

const std::string kLexicon =
    "term\tcategory\taction\tlocale\tmatch\n"
    "示例违禁词\tA.1.a\tblock\n"
    "坏词\tA.1.b\tblock\n"
    "虚构禁语乙\tA.2.c\tmask\n"
    "观察用词\tA.2.f\tflag\n"
    "bomb\tA.1.c\tblock\n"
    "zorblax\tsample\tmask\n"
    "wibble\tsample\tflag\n"
    "grimble\tsample\tblock\t\tpart\n"
    "仅限大陆样词\tA.1.e\tblock\tzh-CN\n"
    "jpterm\tsample\tblock\tja\n";

const FilterContext kOutput{FilterDirection::kOutput, "zh-CN"};

ContentPolicy Policy(std::string input = "refuse", std::string output = "block") {
  ContentPolicy p;
  p.present = true;
  p.input_action = std::move(input);
  p.output_action = std::move(output);
  p.refusal_message = {{"zh-CN", "抱歉，这个问题我无法回答。"},
                       {"en-US", "Sorry, I can't help with that request."}};
  return p;
}

std::shared_ptr<const ContentFilter> Make(const ContentPolicy& policy = Policy(),
                                          const FilterOptions& options = {},
                                          const std::string& lexicon = kLexicon) {
  Lexicon parsed;
  const Diagnostics d = ParseLexicon(lexicon, "test.tsv", &parsed);
  EXPECT_FALSE(HasErrors(d));
  Result<std::shared_ptr<const ContentFilter>> f =
      ContentFilter::FromLexicons({parsed}, policy, options);
  EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.error().message);
  return f.ok() ? *f : nullptr;
}

struct Streamed {
  std::string text;
  std::optional<FilterMatch> block;
  std::vector<FilterMatch> matches;
  size_t max_held = 0;
};

// Streams `text` in chunks of the given sizes (cycled); 0 means "random 1..9".
Streamed Stream(const ContentFilter& filter, std::string_view text, std::vector<size_t> sizes,
                const FilterContext& context = kOutput, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  FilterStream stream = filter.NewStream(context);
  Streamed out;
  size_t i = 0;
  for (size_t k = 0; i < text.size(); ++k) {
    size_t n = sizes[k % sizes.size()];
    if (n == 0) n = 1 + rng() % 9;
    FilterStream::Step step = stream.Feed(text.substr(i, n));
    i += std::min(n, text.size() - i);
    out.text += step.text;
    if (step.block) {
      EXPECT_FALSE(out.block.has_value()) << "a block is reported once";
      out.block = step.block;
    }
    out.max_held = std::max(out.max_held, stream.held_back_bytes());
  }
  FilterStream::Step last = stream.Finish();
  out.text += last.text;
  if (last.block) out.block = last.block;
  out.matches = stream.matches();
  if (!out.block) {
    EXPECT_EQ(stream.held_back_bytes(), 0u);
  }
  return out;
}

bool SameMatch(const FilterMatch& a, const FilterMatch& b) {
  return a.term == b.term && a.begin == b.begin && a.end == b.end && a.stop == b.stop &&
         a.action == b.action && a.term_action == b.term_action;
}

// Whole-text and streamed results agree for every chunking, and the released text holds no
// blocking match.
void ExpectStreamsAgree(const ContentFilter& filter, const std::string& text,
                        const FilterContext& context = kOutput) {
  const FilterResult whole = filter.Check(text, context);
  const std::vector<std::vector<size_t>> chunkings = {{1}, {2}, {3}, {5}, {16}, {0}, {4096}};
  for (size_t c = 0; c < chunkings.size(); ++c) {
    for (uint32_t seed = 1; seed <= (chunkings[c][0] == 0 ? 8u : 1u); ++seed) {
      const Streamed s = Stream(filter, text, chunkings[c], context, seed);
      ASSERT_EQ(s.text, whole.text) << "chunking " << c << " seed " << seed << " of " << text;
      ASSERT_EQ(s.block.has_value(), whole.blocked()) << text;
      if (whole.blocked()) {
        EXPECT_TRUE(SameMatch(*s.block, *whole.block));
      }
      ASSERT_EQ(s.matches.size(), whole.matches.size()) << text;
      for (size_t m = 0; m < s.matches.size(); ++m) {
        EXPECT_TRUE(SameMatch(s.matches[m], whole.matches[m])) << text << " match " << m;
      }
    }
  }
  EXPECT_FALSE(filter.Check(whole.text, context).blocked()) << "released: " << whole.text;
}

// ---- every spelling of a blocked term is blocked, whole and streamed -------------------

class SpellingTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SpellingTest, BlockedWholeAndStreamedNeverReleased) {
  const auto filter = Make();
  const std::string& spelling = GetParam();
  for (const std::string& before : {std::string("前文说明："), std::string("Before it, ")}) {
    const std::string text = before + spelling + " 之后 and after";
    const FilterResult r = filter->Check(text, kOutput);
    ASSERT_TRUE(r.blocked()) << text;
    EXPECT_EQ(r.text, before);
    EXPECT_EQ(text.substr(r.block->begin, r.block->end - r.block->begin), spelling);
    EXPECT_EQ(r.block->action, FilterAction::kBlock);
    ExpectStreamsAgree(*filter, text);
    // Input: refused the same way.
    EXPECT_TRUE(filter->Check(text, {FilterDirection::kInput, "zh-CN"}).blocked());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Spellings, SpellingTest,
    ::testing::Values(
        // CJK: as written, traditional, full-width separators, zero-width and format chars
        "坏词", "壞詞", "坏\u200B词", "坏\u200C\u200D词", "坏\uFEFF词", "坏\u2060词", "坏 词",
        "坏\u3000词", "坏，词", "坏*词", "坏.词", "坏-词", "坏_词", "坏💣词", "示例違禁詞",
        "示\u200B例 違-禁*詞",
        // Latin: case, full-width, separators, zero-width, soft hyphen, diacritics
        "bomb", "BOMB", "BoMb", "ｂｏｍｂ", "ＢＯＭＢ", "b o m b", "b.o.m.b", "b*o*m*b", "b_o_m_b",
        "b-o-m-b", "b\u200Bo\u200Cm\u200Db", "b\u00ADomb", "Ｂ\u200BＯ ｍ．ｂ", "b\no\nm\nb",
        "bömb", "b\u0301omb", "b\xFFomb"));

// ---- normal text passes unchanged ------------------------------------------------------

TEST(ContentFilterTest, NormalTextPassesByteForByte) {
  const auto filter = Make();
  const std::string text =
      "今天天气很好，我们去公园散步。这是一个示例，不是违禁内容；坏天气也有好词。\n"
      "The bombastic speaker from Essex thought it was excellent: a bombshell by the "
      "tombstone, grim and zorb.\n"
      "日本語のテキストもそのまま通ります。😀 emoji, tabs\tand \xFF invalid bytes too.";
  const FilterResult r = filter->Check(text, kOutput);
  EXPECT_FALSE(r.blocked());
  EXPECT_TRUE(r.matches.empty());
  EXPECT_EQ(r.text, text);
  const Streamed s = Stream(*filter, text, {0});
  EXPECT_EQ(s.text, text);
  EXPECT_FALSE(s.block);
  ExpectStreamsAgree(*filter, text);
}

TEST(ContentFilterTest, OffsetsPointIntoTheOriginal) {
  const auto filter = Make();
  const std::string text = "一 壞詞 two ＢＯＭＢ，三 b.o.m.b";
  std::vector<FilterMatch> matches;
  filter->ScanAll(text, kOutput, &matches);
  ASSERT_EQ(matches.size(), 3u);
  EXPECT_EQ(text.substr(matches[0].begin, matches[0].end - matches[0].begin), "壞詞");
  EXPECT_EQ(text.substr(matches[1].begin, matches[1].end - matches[1].begin), "ＢＯＭＢ");
  EXPECT_EQ(text.substr(matches[2].begin, matches[2].end - matches[2].begin), "b.o.m.b");
  const FilterTermInfo info = filter->Term(matches[0].term);
  EXPECT_EQ(info.text, "坏词");
  EXPECT_EQ(info.category, "A.1.b");
  EXPECT_EQ(info.lexicon, "test.tsv");
  EXPECT_EQ(info.line, 3u);
  EXPECT_EQ(info.action, FilterAction::kBlock);
}

// ---- actions and caps ------------------------------------------------------------------

TEST(ContentFilterTest, MaskAndFlag) {
  const auto filter = Make();
  const std::string text = "这里有虚构禁语乙和观察用词, zorblax and wibble.";
  const FilterResult r = filter->Check(text, kOutput);
  EXPECT_FALSE(r.blocked());
  EXPECT_EQ(r.text, "这里有*****和观察用词, ******* and wibble.");
  ASSERT_EQ(r.matches.size(), 4u);
  EXPECT_EQ(r.matches[0].action, FilterAction::kMask);
  EXPECT_EQ(r.matches[1].action, FilterAction::kFlag);
  EXPECT_EQ(filter->Term(r.matches[1].term).text, "观察用词");
  ExpectStreamsAgree(*filter, text);
  // A mask written with separators masks every character of the original spelling.
  EXPECT_EQ(filter->Check("虚 构-禁*语.乙!", kOutput).text, "*********!");
}

TEST(ContentFilterTest, RegionCapsWhatAMatchMayDo) {
  const auto flag_only = Make(Policy("flag", "flag"));
  const std::string text = "前文坏词后文 zorblax";
  const FilterResult flagged = flag_only->Check(text, kOutput);
  EXPECT_FALSE(flagged.blocked());
  EXPECT_EQ(flagged.text, text);
  ASSERT_EQ(flagged.matches.size(), 2u);
  EXPECT_EQ(flagged.matches[0].term_action, FilterAction::kBlock);
  EXPECT_EQ(flagged.matches[0].action, FilterAction::kFlag);
  EXPECT_EQ(flagged.matches[1].action, FilterAction::kFlag);
  ExpectStreamsAgree(*flag_only, text);

  const auto mask_cap = Make(Policy("mask", "mask"));
  EXPECT_EQ(mask_cap->Check(text, kOutput).text, "前文**后文 *******");
  EXPECT_EQ(mask_cap->Check(text, {FilterDirection::kInput, ""}).text, "前文**后文 *******");
  EXPECT_EQ(mask_cap->Cap(FilterDirection::kInput), FilterAction::kMask);

  // Input and output caps are separate: refuse prompts, only flag answers.
  const auto mixed = Make(Policy("refuse", "flag"));
  EXPECT_TRUE(mixed->Check(text, {FilterDirection::kInput, ""}).blocked());
  EXPECT_FALSE(mixed->Check(text, {FilterDirection::kOutput, ""}).blocked());
}

TEST(ContentFilterTest, RefusalMessagePerLocale) {
  const auto filter = Make();
  EXPECT_EQ(filter->RefusalMessage("zh-CN"), "抱歉，这个问题我无法回答。");
  EXPECT_EQ(filter->RefusalMessage("zh-Hans-CN"), "抱歉，这个问题我无法回答。");
  EXPECT_EQ(filter->RefusalMessage("en-US"), "Sorry, I can't help with that request.");
  EXPECT_EQ(filter->RefusalMessage("de-DE"), "");
}

TEST(ContentFilterTest, TermsWithALocaleApplyToItOnly) {
  const auto filter = Make();
  const std::string cn = "这是仅限大陆样词。";
  EXPECT_TRUE(filter->Check(cn, {FilterDirection::kOutput, "zh-CN"}).blocked());
  EXPECT_FALSE(filter->Check(cn, {FilterDirection::kOutput, "zh-HK"}).blocked());
  EXPECT_FALSE(filter->Check(cn, {FilterDirection::kOutput, ""}).blocked());
  const std::string jp = "a jpterm here";
  EXPECT_TRUE(filter->Check(jp, {FilterDirection::kOutput, "ja-JP"}).blocked());
  EXPECT_TRUE(filter->Check(jp, {FilterDirection::kOutput, "ja"}).blocked());
  EXPECT_FALSE(filter->Check(jp, {FilterDirection::kOutput, "jam"}).blocked());
  EXPECT_FALSE(filter->Check(jp, {FilterDirection::kOutput, "en-US"}).blocked());
  ExpectStreamsAgree(*filter, cn + jp, {FilterDirection::kOutput, "ja-JP"});
  ExpectStreamsAgree(*filter, cn + jp, {FilterDirection::kOutput, "zh-CN"});
}

TEST(ContentFilterTest, LatinTermsMatchWholeWordsUnlessPart) {
  const auto filter = Make();
  for (const char* text : {"abomb", "bombs", "bombastic", "the bomba", "x1bomb"}) {
    EXPECT_FALSE(filter->Check(text, kOutput).blocked()) << text;
    ExpectStreamsAgree(*filter, text);
  }
  for (const char* text : {"bomb", "a bomb!", "a-bomb", "bomb-free", "(bomb)", "炸bomb", "bomb炸",
                           "1 bomb 2", "xgrimblex", "GRIMBLES", "Grimbl e"}) {
    EXPECT_TRUE(filter->Check(text, kOutput).blocked()) << text;
    ExpectStreamsAgree(*filter, text);
  }
}

TEST(ContentFilterTest, APartTermInsideAWordCutsAtTheWordStart) {
  // "bomb" is not a whole word in "bombgrimble", but showing "bomb" and then stopping before
  // "grimble" would show it as one: the cut goes back to the start of the word.
  const auto filter = Make();
  for (const std::string text : {"a bombgrimble here", "a BOMBGRIMBLE", "一 ｂｏｍｂgrimble"}) {
    const FilterResult r = filter->Check(text, kOutput);
    ASSERT_TRUE(r.blocked()) << text;
    EXPECT_EQ(filter->Term(r.block->term).text, "grimble");
    EXPECT_EQ(r.block->stop, text.find(' ') + 1);
    EXPECT_EQ(r.text, text.substr(0, text.find(' ') + 1));
    ExpectStreamsAgree(*filter, text);
  }
}

TEST(ContentFilterTest, SeparatorRunIsCapped) {
  const auto filter = Make();
  EXPECT_EQ(filter->stats().max_separator_run, kDefaultMaxSeparatorRun);
  const std::string eight(kDefaultMaxSeparatorRun, ' ');
  const std::string nine(kDefaultMaxSeparatorRun + 1, ' ');
  EXPECT_TRUE(filter->Check("b" + eight + "omb", kOutput).blocked());
  EXPECT_FALSE(filter->Check("b" + nine + "omb", kOutput).blocked());
  EXPECT_TRUE(filter->Check("坏" + std::string(8, '*') + "词", kOutput).blocked());
  EXPECT_FALSE(filter->Check("坏" + std::string(9, '*') + "词", kOutput).blocked());
  ExpectStreamsAgree(*filter, "b" + nine + "omb b" + eight + "omb");

  FilterOptions options;
  options.max_separator_run = 2;
  const auto tight = Make(Policy(), options);
  EXPECT_TRUE(tight->Check("b  omb", kOutput).blocked());
  EXPECT_FALSE(tight->Check("b   omb", kOutput).blocked());
  EXPECT_EQ(tight->stats().max_hold_back_code_points(),
            tight->stats().max_term_length + (tight->stats().max_term_length - 1) * 2);
}

// ---- streaming -------------------------------------------------------------------------

TEST(FilterStreamTest, HoldsBackOnlyWhatCouldStillBecomeATerm) {
  const auto filter = Make();
  FilterStream s = filter->NewStream(kOutput);
  FilterStream::Step step = s.Feed("hello, ");
  EXPECT_EQ(step.text, "hello, ");
  EXPECT_EQ(s.held_back_bytes(), 0u);
  step = s.Feed("示例");  // a prefix of 示例违禁词
  EXPECT_EQ(step.text, "");
  EXPECT_EQ(s.held_back_bytes(), 6u);
  step = s.Feed("说明，");
  EXPECT_EQ(step.text, "示例说明，");
  EXPECT_EQ(s.held_back_bytes(), 0u);
  step = s.Feed("\xE5");  // first byte of 坏
  EXPECT_EQ(step.text, "");
  EXPECT_EQ(s.held_back_bytes(), 1u);
  step = s.Feed("\x9D\x8F");
  EXPECT_EQ(step.text, "");
  EXPECT_EQ(s.held_back_bytes(), 3u);
  step = s.Feed("蛋 and b");  // 坏蛋 is fine; "b" may start "bomb"
  EXPECT_EQ(step.text, "坏蛋 and ");
  EXPECT_EQ(s.held_back_bytes(), 1u);
  step = s.Feed("omb");  // complete, but "bombs" would not match: wait for the next character
  EXPECT_EQ(step.text, "");
  EXPECT_FALSE(step.block);
  step = s.Feed("s!");
  EXPECT_EQ(step.text, "bombs!");
  step = s.Finish();
  EXPECT_EQ(step.text, "");
  EXPECT_TRUE(s.matches().empty());
  EXPECT_EQ(s.released_bytes(), std::string("hello, 示例说明，坏蛋 and bombs!").size());
}

TEST(FilterStreamTest, StopsAtTheBlockAndReleasesNothingAfterIt) {
  const auto filter = Make();
  FilterStream s = filter->NewStream(kOutput);
  EXPECT_EQ(s.Feed("前文虚构禁语乙，").text, "前文*****，");
  EXPECT_EQ(s.Feed("然后坏").text, "然后");
  FilterStream::Step step = s.Feed("詞和更多");
  EXPECT_EQ(step.text, "");
  ASSERT_TRUE(step.block);
  EXPECT_EQ(step.block->begin, std::string("前文虚构禁语乙，然后").size());
  EXPECT_EQ(step.block->end, std::string("前文虚构禁语乙，然后坏詞").size());
  EXPECT_TRUE(s.stopped());
  EXPECT_EQ(s.Feed("more text").text, "");
  EXPECT_FALSE(s.Feed("坏词").block);
  EXPECT_EQ(s.Finish().text, "");
  ASSERT_EQ(s.matches().size(), 2u);
  EXPECT_EQ(s.matches()[0].action, FilterAction::kMask);
  EXPECT_EQ(s.matches()[1].action, FilterAction::kBlock);
}

TEST(FilterStreamTest, FinishReleasesWhatWasHeldAndConfirmsAWordAtTheEnd) {
  const auto filter = Make();
  FilterStream a = filter->NewStream(kOutput);
  EXPECT_EQ(a.Feed("示例违禁").text, "");
  EXPECT_EQ(a.Finish().text, "示例违禁");
  FilterStream b = filter->NewStream(kOutput);
  EXPECT_EQ(b.Feed("a bomb").text, "a ");
  FilterStream::Step end = b.Finish();
  EXPECT_EQ(end.text, "");
  EXPECT_TRUE(end.block);
}

TEST(FilterStreamTest, PerStreamMemoryIsSmall) {
  const auto filter = Make();
  FilterStream s = filter->NewStream(kOutput);
  EXPECT_LT(s.overhead_bytes(), 2048u);
  EXPECT_EQ(filter->stats().max_term_length, 7u);  // zorblax
  EXPECT_EQ(filter->stats().max_hold_back_code_points(),
            size_t{7} + 6 * size_t{kDefaultMaxSeparatorRun});
}

TEST(FilterStreamTest, RandomTextsAndChunkingsAgreeWithWholeText) {
  const auto filter = Make();
  const std::vector<std::string> pieces = {
      "坏",       "词",     "壞",   "詞",   "示例", "违禁", "違禁",    "词",
      "虚构禁语", "乙",     "观察", "用词", "b",    "o",    "m",       "B",
      "Ｏ",       "ｍ",     "zorb", "lax",  "wib",  "ble",  "grimble", "仅限大陆样词",
      " ",        "\u200B", "*",    "-",    "，",   "。",   "\xFF",    "\xE5",
      "é",        "\u0301", "ａ",   "天气", "the ", "s",    "ﬁ",       "💣",
      "\n",       "jpterm"};
  std::mt19937 rng(20261121);
  for (int round = 0; round < 300; ++round) {
    std::string text;
    const int n = 1 + static_cast<int>(rng() % 24);
    for (int k = 0; k < n; ++k) text += pieces[rng() % pieces.size()];
    ExpectStreamsAgree(*filter, text);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// On random lexicons of short, overlapping terms (one to six symbols, Latin and CJK,
// whole-word and 'part') and random texts of their pieces, separators, ligatures and broken
// bytes (some of them long), the whole-text scan and streams in any chunking find exactly the
// same matches. (A faster whole-text path must keep passing this: it is how one was checked.)
TEST(FilterStreamTest, RandomLexiconsWholeAndStreamedAgree) {
  const std::vector<std::string> alphabet = {"a", "b", "c", "坏", "词", "示", "例"};
  const std::vector<std::string> noise = {" ",    "\u200B", "-",  "，", "x", "Ａ", "ﬁ",
                                          "\xFF", "\xE5",   "天", "\n", "b", "坏", "壞"};
  std::mt19937 rng(7);
  for (int lexicon_round = 0; lexicon_round < 40; ++lexicon_round) {
    std::string tsv = "term\tcategory\taction\tlocale\tmatch\n";
    std::set<std::string> terms;
    const int count = 1 + static_cast<int>(rng() % 30);
    for (int t = 0; t < count; ++t) {
      std::string term;
      const int length = 1 + static_cast<int>(rng() % 6);
      for (int k = 0; k < length; ++k) term += alphabet[rng() % alphabet.size()];
      if (!terms.insert(term).second) continue;
      tsv += term + "\tsample\tflag\t\t" + (rng() % 3 == 0 ? "part" : "") + "\n";
    }
    const auto filter = Make(Policy(), {}, tsv);
    ASSERT_NE(filter, nullptr) << tsv;
    for (int text_round = 0; text_round < 6; ++text_round) {
      std::string text;
      const size_t pieces = text_round < 4 ? 1 + rng() % 60 : 3000 + rng() % 4000;
      for (size_t k = 0; k < pieces; ++k) {
        text += rng() % 4 == 0 ? noise[rng() % noise.size()] : alphabet[rng() % alphabet.size()];
        if (rng() % 50 == 0) text += std::string(1 + rng() % 12, ' ');  // long separator runs
      }
      std::vector<FilterMatch> whole;
      filter->ScanAll(text, kOutput, &whole);
      const Streamed streamed = Stream(*filter, text, {4096});
      ASSERT_EQ(whole.size(), streamed.matches.size()) << tsv << "\n" << text;
      for (size_t m = 0; m < whole.size(); ++m) {
        ASSERT_TRUE(SameMatch(whole[m], streamed.matches[m])) << tsv << "\n"
                                                              << text << "\nmatch " << m;
      }
      const Streamed chunked =
          Stream(*filter, text, {0}, kOutput, static_cast<uint32_t>(text_round));
      ASSERT_EQ(chunked.matches.size(), whole.size()) << tsv << "\n" << text;
    }
  }
}

TEST(FilterStreamTest, SharedFilterAcrossThreads) {
  const auto filter = Make();
  const std::string text = bench::SyntheticText(64 << 10, 3) + "坏词";
  const FilterResult whole = filter->Check(text, kOutput);
  ASSERT_TRUE(whole.blocked());
  std::vector<std::string> results(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      FilterStream s = filter->NewStream(kOutput);
      for (size_t i = 0; i < text.size(); i += 16 + t) {
        results[t] += s.Feed(std::string_view(text).substr(i, 16 + t)).text;
      }
      results[t] += s.Finish().text;
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& r : results) EXPECT_EQ(r, whole.text);
}

// ---- regions, files, cache -------------------------------------------------------------

TEST(ContentFilterRegionTest, ShippedMainlandManifest) {
  TempDir cache;
  Result<RegionManifest> m =
      LoadRegionManifest(testing::kShippedConfig / "regions" / "cn-mainland.yaml");
  ASSERT_TRUE(m.ok()) << m.error().message;
  FilterOptions options;
  options.cache_dir = cache.path();
  Result<std::shared_ptr<const ContentFilter>> f = ContentFilter::ForRegion(*m, options);
  ASSERT_TRUE(f.ok()) << f.error().message;
  const ContentFilter& filter = **f;
  const FilterContext input{FilterDirection::kInput, "zh-CN"};
  for (const char* prompt : {"请解释示例违禁词", "请解释示例違禁詞", "虚构禁语丙", "虛構禁語丙",
                             "ｚｏｒｂｌａｘｉａｎ", "仅限大陆样词"}) {
    const FilterResult r = filter.Check(prompt, input);
    EXPECT_TRUE(r.blocked()) << prompt;
  }
  EXPECT_EQ(filter.RefusalMessage("zh-Hans-CN"), "抱歉，这个问题我无法回答。");
  const FilterResult masked = filter.Check("它提到了虚构禁语乙。", {FilterDirection::kOutput, ""});
  EXPECT_EQ(masked.text, "它提到了*****。");
  std::vector<FilterMatch> matches;
  filter.ScanAll("示例违禁词", input, &matches);
  ASSERT_EQ(matches.size(), 1u);
  const FilterTermInfo info = filter.Term(matches[0].term);
  EXPECT_EQ(info.category, "A.1.a");
  EXPECT_EQ(std::filesystem::path(std::string(info.lexicon)).filename(), "tc260-a1-a2.tsv");
  EXPECT_EQ(info.line, 9u);
  EXPECT_TRUE(CheckContentPolicyLexicons(*m).empty());
}

TEST(ContentFilterRegionTest, ShippedSamplesForOtherRegionsOnlyFlag) {
  TempDir cache;
  FilterOptions options;
  options.cache_dir = cache.path();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"us", "It was BLORPTASTIC."}, {"eu-fr", "C'est ÉBLOUFFRIN !"}, {"jp", "ﾋﾟﾛﾎﾟﾝｶﾞです"}};
  for (const auto& [region, text] : cases) {
    Result<RegionManifest> m =
        LoadRegionManifest(testing::kShippedConfig / "regions" / (region + ".yaml"));
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_TRUE(CheckContentPolicyLexicons(*m).empty()) << region;
    Result<std::shared_ptr<const ContentFilter>> f = ContentFilter::ForRegion(*m, options);
    ASSERT_TRUE(f.ok()) << f.error().message;
    const FilterResult r = (*f)->Check(text, {FilterDirection::kOutput, m->locales[0]});
    EXPECT_FALSE(r.blocked()) << region;
    EXPECT_EQ(r.text, text);
    ASSERT_EQ(r.matches.size(), 1u) << region;
    EXPECT_EQ(r.matches[0].term_action, FilterAction::kBlock);
    EXPECT_EQ(r.matches[0].action, FilterAction::kFlag);
  }
}

TEST(ContentFilterRegionTest, Errors) {
  RegionManifest none;
  none.region = "xx";
  none.file = "xx.yaml";
  Result<std::shared_ptr<const ContentFilter>> f = ContentFilter::ForRegion(none);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().id, "RG-F101");
  EXPECT_EQ(f.error().message,
            "region 'xx' (xx.yaml) has no content_policy; add one, or do not filter this region");

  TempDir dir;
  f = ContentFilter::FromFiles({dir.path() / "missing.tsv"}, Policy());
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().id, "RG-F102");
  EXPECT_EQ(f.error().message,
            "the content policy's lexicons cannot be used; fix these:\n" +
                (dir.path() / "missing.tsv").string() +
                ": error: cannot read lexicon: No such file or directory; check the path in "
                "content_policy.lexicons and the file's permissions");

  WriteText(dir.path() / "bad.tsv", "term\tcategory\taction\nok\tA.1.a\tblok\n");
  FilterOptions options;
  options.cache_dir = dir.path() / "cache";
  f = ContentFilter::FromFiles({dir.path() / "bad.tsv"}, Policy(), options);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().message,
            "the content policy's lexicons cannot be used; fix these:\n" +
                (dir.path() / "bad.tsv").string() +
                ":2:10: error: unknown action 'blok'; use block, mask or flag (did you mean "
                "'block'?)");
}

TEST(ContentFilterCacheTest, CompiledLexiconIsCachedByContent) {
  TempDir dir;
  const std::filesystem::path lexicon = dir.path() / "lexicon.tsv";
  WriteText(lexicon, bench::SyntheticLexicon(10000));
  FilterOptions options;
  options.cache_dir = dir.path() / "cache";
  const std::string text = bench::SyntheticText(256 << 10);

  auto build = [&] {
    Result<std::shared_ptr<const ContentFilter>> f =
        ContentFilter::FromFiles({lexicon}, Policy(), options);
    EXPECT_TRUE(f.ok()) << (f.ok() ? "" : f.error().message);
    return f.ok() ? *f : nullptr;
  };
  auto scan = [&](const ContentFilter& f) {
    std::vector<FilterMatch> m;
    f.ScanAll(text, kOutput, &m);
    return m;
  };
  const auto cold = build();
  ASSERT_TRUE(cold);
  EXPECT_FALSE(cold->stats().from_cache);
  EXPECT_EQ(cold->stats().cache_note, "");
  const std::filesystem::path file = cold->stats().cache_file;
  ASSERT_TRUE(std::filesystem::is_regular_file(file));
  EXPECT_EQ(file.parent_path(), options.cache_dir);
  EXPECT_GT(cold->stats().terms, 9900u);
  const std::vector<FilterMatch> expected = scan(*cold);
  EXPECT_FALSE(expected.empty());

  const auto warm = build();
  ASSERT_TRUE(warm);
  EXPECT_TRUE(warm->stats().from_cache);
  EXPECT_EQ(warm->stats().terms, cold->stats().terms);
  EXPECT_EQ(warm->stats().states, cold->stats().states);
  const std::vector<FilterMatch> got = scan(*warm);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(SameMatch(got[i], expected[i]));
  EXPECT_EQ(warm->Term(got[0].term).text, cold->Term(expected[0].term).text);

  // A corrupt file (one flipped byte, or truncated) is ignored and rebuilt.
  std::string bytes = testing::ReadText(file);
  for (const std::string& damaged : {bytes.substr(0, bytes.size() / 2), [&] {
                                       std::string b = bytes;
                                       b[b.size() / 3] = static_cast<char>(b[b.size() / 3] ^ 0x10);
                                       return b;
                                     }()}) {
    WriteText(file, damaged);
    const auto rebuilt = build();
    ASSERT_TRUE(rebuilt);
    EXPECT_FALSE(rebuilt->stats().from_cache);
    EXPECT_EQ(rebuilt->stats().cache_note,
              "ignored a corrupt or outdated cache file " + file.string());
    EXPECT_EQ(scan(*rebuilt).size(), expected.size());
    EXPECT_TRUE(build()->stats().from_cache);
  }

  // Another lexicon content, another key.
  WriteText(lexicon, bench::SyntheticLexicon(100, 5));
  const auto other = build();
  ASSERT_TRUE(other);
  EXPECT_FALSE(other->stats().from_cache);
  EXPECT_NE(other->stats().cache_file, file);
}

TEST(ContentFilterCacheTest, UnwritableCacheIsANoteNotAnError) {
  TempDir dir;
  WriteText(dir.path() / "lexicon.tsv", kLexicon);
  WriteText(dir.path() / "not-a-dir", "x");
  FilterOptions options;
  options.cache_dir = dir.path() / "not-a-dir";
  Result<std::shared_ptr<const ContentFilter>> f =
      ContentFilter::FromFiles({dir.path() / "lexicon.tsv"}, Policy(), options);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_TRUE((*f)->Check("坏词", kOutput).blocked());
  EXPECT_TRUE((*f)->stats().cache_file.empty());
  EXPECT_EQ((*f)->stats().cache_note.rfind(
                "cannot write the cache file " + (options.cache_dir).string() + "/", 0),
            0u)
      << (*f)->stats().cache_note;
  options.use_cache = false;
  f = ContentFilter::FromFiles({dir.path() / "lexicon.tsv"}, Policy(), options);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->stats().cache_note, "");
}

TEST(ContentFilterCacheTest, DefaultCacheDirFollowsTheEnvironment) {
  auto saved = [](const char* name) {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  const std::optional<std::string> rg = saved("RG_FILTER_CACHE_DIR");
  const std::optional<std::string> xdg = saved("XDG_CACHE_HOME");
  ::setenv("RG_FILTER_CACHE_DIR", "/tmp/rg-filter-test-cache", 1);
  EXPECT_EQ(DefaultFilterCacheDir(), "/tmp/rg-filter-test-cache");
  ::unsetenv("RG_FILTER_CACHE_DIR");
  ::setenv("XDG_CACHE_HOME", "/tmp/xdg", 1);
  EXPECT_EQ(DefaultFilterCacheDir(), "/tmp/xdg/regiongate/filter");
  ::unsetenv("XDG_CACHE_HOME");
  if (rg) ::setenv("RG_FILTER_CACHE_DIR", rg->c_str(), 1);
  if (xdg) ::setenv("XDG_CACHE_HOME", xdg->c_str(), 1);
}

// ---- the manifest's content_policy section ---------------------------------------------

TEST(ContentPolicyManifestTest, LexiconsMustExistAndSeparatorRunIsParsed) {
  TempDir dir;
  testing::CopyShippedConfig(dir.path());
  const std::filesystem::path us = dir.path() / "regions" / "us.yaml";
  testing::ReplaceInFile(us, "  input_action: flag\n",
                         "  max_separator_run: 3\n  input_action: flag\n");
  Result<RegionManifest> m = LoadRegionManifest(us);
  ASSERT_TRUE(m.ok()) << m.error().message;
  ASSERT_TRUE(m->content_policy.max_separator_run.has_value());
  EXPECT_EQ(*m->content_policy.max_separator_run, 3);
  EXPECT_EQ(m->ToJson()["content_policy"]["max_separator_run"], 3);
  FilterOptions options;
  options.cache_dir = dir.path() / "cache";
  Result<std::shared_ptr<const ContentFilter>> f = ContentFilter::ForRegion(*m, options);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ((*f)->stats().max_separator_run, 3u);

  testing::ReplaceInFile(us, "../lexicons/en-US/sample.tsv", "../lexicons/en-US/missing.tsv");
  RegionManifest ignored;
  const Diagnostics d = CheckRegionManifest(us, &ignored);
  // The diagnostic points at the list item.
  const std::vector<std::string> lines = testing::Lines(testing::ReadText(us));
  const auto at = std::find_if(lines.begin(), lines.end(),
                               [](const std::string& l) { return l.find("  lexicons: [") == 0; });
  ASSERT_NE(at, lines.end());
  const int line = static_cast<int>(at - lines.begin()) + 1;
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].id, "RG-F020");
  EXPECT_EQ(d[0].ToString(),
            us.string() + ":" + std::to_string(line) +
                ":14: error: lexicon '../lexicons/en-US/missing.tsv' is not a file "
                "(looked for " +
                (dir.path() / "lexicons/en-US/missing.tsv").string() +
                "); fix the path, which is relative to this manifest");

  testing::ReplaceInFile(us, "max_separator_run: 3", "max_separator_run: 33");
  EXPECT_TRUE(HasErrors(CheckRegionManifest(us, &ignored)));
}

}  // namespace
}  // namespace rg::compliance
