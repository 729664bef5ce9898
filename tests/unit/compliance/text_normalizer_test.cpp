// Folding for the content filter (compliance/src/text_normalizer.cpp): what each kind of
// spelling folds to, that folding is idempotent over all of Unicode, and the offset map.
#include "regiongate/compliance/text_normalizer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace rg::compliance {
namespace {

std::string Folded(std::string_view text) {
  std::string out;
  for (char32_t cp : FoldText(text)) AppendUtf8(cp, &out);
  return out;
}

struct Decoded {
  size_t used;
  char32_t cp;
};

Decoded Decode(std::string_view bytes, bool at_end = true) {
  char32_t cp = 0;
  const size_t used =
      DecodeUtf8(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), at_end, &cp);
  return {used, cp};
}

TEST(DecodeUtf8Test, DecodesEveryLength) {
  EXPECT_EQ(Decode("a").used, 1u);
  EXPECT_EQ(Decode("a").cp, U'a');
  EXPECT_EQ(Decode("\xC3\xA9").used, 2u);
  EXPECT_EQ(Decode("\xC3\xA9").cp, U'\u00E9');
  EXPECT_EQ(Decode("\xE5\x9D\x8F").cp, U'\u574F');  // 坏
  EXPECT_EQ(Decode("\xF0\x9F\x92\xA3").used, 4u);
  EXPECT_EQ(Decode("\xF0\x9F\x92\xA3").cp, U'\U0001F4A3');
}

TEST(DecodeUtf8Test, IllFormedBytesAreConsumedOneAtATime) {
  for (std::string_view bad : {std::string_view("\x80"), std::string_view("\xC0\x80"),
                               std::string_view("\xE0\x80\x80"),      // overlong
                               std::string_view("\xED\xA0\x80"),      // surrogate
                               std::string_view("\xF4\x90\x80\x80"),  // beyond U+10FFFF
                               std::string_view("\xFF"), std::string_view("\xE5\x41")}) {
    const Decoded d = Decode(bad);
    EXPECT_EQ(d.used, 1u) << ::testing::PrintToString(bad);
    EXPECT_EQ(d.cp, kInvalidUtf8) << ::testing::PrintToString(bad);
  }
}

TEST(DecodeUtf8Test, IncompleteSequenceWaitsUnlessAtTheEnd) {
  EXPECT_EQ(Decode("\xE5\x9D", /*at_end=*/false).used, 0u);
  EXPECT_EQ(Decode("\xF0", /*at_end=*/false).used, 0u);
  const Decoded end = Decode("\xE5\x9D", /*at_end=*/true);
  EXPECT_EQ(end.used, 1u);
  EXPECT_EQ(end.cp, kInvalidUtf8);
  // A second byte that can never complete the sequence is not waited for.
  EXPECT_EQ(Decode("\xE0\x80", /*at_end=*/false).used, 1u);
}

TEST(FoldTest, FullWidthAndCase) {
  EXPECT_EQ(Folded("ＢＯＭＢ"), "bomb");
  EXPECT_EQ(Folded("BoMb"), "bomb");
  EXPECT_EQ(Folded("ｂｏｍｂ"), "bomb");
  EXPECT_EQ(Folded("Straße"), "strasse");
  EXPECT_EQ(Folded("ΣΊΣΥΦΟΣ"), "σισυφοσ");
  EXPECT_EQ(Folded("①Ⓐ㎏ﬁ"), "1akgfi");
}

TEST(FoldTest, TraditionalAndVariantsToSimplified) {
  EXPECT_EQ(Folded("壞詞"), "坏词");
  EXPECT_EQ(Folded("國家"), "国家");
  EXPECT_EQ(Folded("臺灣"), "台湾");
  EXPECT_EQ(Folded("裏"), "里");
  EXPECT_EQ(Folded("坏词"), "坏词");  // simplified stays
}

TEST(FoldTest, RemovesZeroWidthFormatAndSeparators) {
  EXPECT_EQ(Folded("b\u200Bo\u200Cm\u200Db\u2060"), "bomb");
  EXPECT_EQ(Folded("\uFEFFb\u00ADomb"), "bomb");
  EXPECT_EQ(Folded("b o\u3000m\tb\n"), "bomb");
  EXPECT_EQ(Folded("b*o.m-b_!"), "bomb");
  EXPECT_EQ(Folded("坏，词。"), "坏词");
  EXPECT_EQ(Folded("💣b🎉o👍🏽mb"), "bomb");
  EXPECT_EQ(Folded("b\xFFo\x80mb"), "bomb");  // invalid UTF-8
  EXPECT_EQ(Folded("\uE000b\uE001"), "b");    // private use
}

TEST(FoldTest, DiacriticsAndCombiningMarks) {
  EXPECT_EQ(Folded("café"), "cafe");
  EXPECT_EQ(Folded("cafe\u0301"), "cafe");
  EXPECT_EQ(Folded("z\u0334\u0321a\u0336l\u0337g\u0338o"), "zalgo");
  EXPECT_EQ(Folded("ÉBLOUFFRIN"), "eblouffrin");
}

TEST(FoldTest, KanaWidthsAgree) {
  // Half-width katakana with a separate voicing mark and the precomposed full-width letter
  // fold alike; hiragana stays distinct from katakana.
  EXPECT_EQ(Folded("ｶﾞ"), Folded("ガ"));
  EXPECT_EQ(Folded("ﾋﾟﾛﾎﾟﾝｶﾞ"), Folded("ピロポンガ"));
  EXPECT_NE(Folded("が"), Folded("ガ"));
  EXPECT_NE(Folded("が"), Folded("か"));
}

TEST(FoldTest, IsIdempotentForEveryCodePoint) {
  std::u32string once;
  std::u32string twice;
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    once.clear();
    FoldCodePoint(cp, &once);
    twice.clear();
    for (char32_t f : once) FoldCodePoint(f, &twice);
    ASSERT_EQ(once, twice) << "U+" << std::hex << static_cast<uint32_t>(cp);
  }
}

TEST(FoldTest, RemovedCodePoints) {
  EXPECT_TRUE(IsRemovedCodePoint(U' '));
  EXPECT_TRUE(IsRemovedCodePoint(U'\u200B'));
  EXPECT_TRUE(IsRemovedCodePoint(kInvalidUtf8));
  EXPECT_FALSE(IsRemovedCodePoint(U'a'));
  EXPECT_FALSE(IsRemovedCodePoint(U'词'));
  EXPECT_FALSE(IsRemovedCodePoint(U'7'));
}

TEST(NormalizeForMatchingTest, MapsEveryFoldedByteToItsSource) {
  const std::string text = "Ａb \u200Bc壞";
  const NormalizedText n = NormalizeForMatching(text);
  EXPECT_EQ(n.text, "abc坏");
  ASSERT_EQ(n.source_begin.size(), n.text.size());
  EXPECT_EQ(n.SourceRange(0, 1), std::make_pair(size_t{0}, size_t{3}));   // Ａ
  EXPECT_EQ(n.SourceRange(1, 2), std::make_pair(size_t{3}, size_t{4}));   // b
  EXPECT_EQ(n.SourceRange(2, 3), std::make_pair(size_t{8}, size_t{9}));   // c after ' ' and ZWSP
  EXPECT_EQ(n.SourceRange(3, 6), std::make_pair(size_t{9}, size_t{12}));  // 壞
  EXPECT_EQ(text.substr(9, 3), "壞");
}

TEST(NormalizeForMatchingTest, TableIdentity) {
  EXPECT_EQ(FoldUnicodeVersion(), "15.0.0");
  EXPECT_NE(FoldTableHash(), 0u);
}

}  // namespace
}  // namespace rg::compliance
