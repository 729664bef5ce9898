// Lexicon files (compliance/src/lexicon.cpp): the format, every diagnostic with its exact
// message and position, and the shipped sample lexicons.
#include "regiongate/compliance/lexicon.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace rg::compliance {
namespace {

const std::filesystem::path kSourceDir = RG_SOURCE_DIR;

struct Parsed {
  Lexicon lexicon;
  Diagnostics diagnostics;
};

Parsed Parse(std::string_view text) {
  Parsed p;
  p.diagnostics = ParseLexicon(text, "x.tsv", &p.lexicon);
  return p;
}

std::vector<std::string> Messages(const Diagnostics& diagnostics) {
  std::vector<std::string> out;
  for (const Diagnostic& d : diagnostics) out.push_back(d.id + " " + d.ToString());
  return out;
}

TEST(LexiconTest, ParsesTermsWithAllColumns) {
  const Parsed p = Parse(
      "# comment\n"
      "\n"
      "term\tcategory\taction\tlocale\tmatch\tnote\n"
      "坏词\tA.1.a\tblock\t\t\tfirst\n"
      "ＢＯＭＢ\tus-sample\tmask\ten\tpart\n"
      "# another comment\n"
      "  watch me  \tA.5.b\tflag\tzh-Hant-HK\tword\n");
  ASSERT_TRUE(p.diagnostics.empty()) << ::testing::PrintToString(Messages(p.diagnostics));
  ASSERT_EQ(p.lexicon.terms.size(), 3u);
  const LexiconTerm& a = p.lexicon.terms[0];
  EXPECT_EQ(a.text, "坏词");
  EXPECT_EQ(a.category, "A.1.a");
  EXPECT_EQ(a.action, FilterAction::kBlock);
  EXPECT_EQ(a.locale, "");
  EXPECT_TRUE(a.whole_words);
  EXPECT_EQ(a.line, 4);
  const LexiconTerm& b = p.lexicon.terms[1];
  EXPECT_EQ(b.folded, U"bomb");
  EXPECT_EQ(b.action, FilterAction::kMask);
  EXPECT_EQ(b.locale, "en");
  EXPECT_FALSE(b.whole_words);
  const LexiconTerm& c = p.lexicon.terms[2];
  EXPECT_EQ(c.text, "watch me");
  EXPECT_EQ(c.folded, U"watchme");
  EXPECT_EQ(c.action, FilterAction::kFlag);
  EXPECT_EQ(c.locale, "zh-Hant-HK");
  EXPECT_EQ(p.lexicon.file, "x.tsv");
}

TEST(LexiconTest, ColumnsInAnyOrderCrlfByteOrderMarkAndShortOptionalColumns) {
  const Parsed p = Parse(
      "\xEF\xBB\xBF"
      "action\tterm\tcategory\tlocale\r\n"
      "flag\tabc\tsample\r\n"
      "block\tdef\tA.2.i\tja\r\n");
  ASSERT_TRUE(p.diagnostics.empty()) << ::testing::PrintToString(Messages(p.diagnostics));
  ASSERT_EQ(p.lexicon.terms.size(), 2u);
  EXPECT_EQ(p.lexicon.terms[0].text, "abc");
  EXPECT_EQ(p.lexicon.terms[0].action, FilterAction::kFlag);
  EXPECT_EQ(p.lexicon.terms[1].locale, "ja");
}

TEST(LexiconTest, Tc260Categories) {
  EXPECT_EQ(Tc260Categories().size(), 31u);
  EXPECT_TRUE(IsLexiconCategory("A.1.h"));
  EXPECT_TRUE(IsLexiconCategory("A.5.b"));
  EXPECT_FALSE(IsLexiconCategory("A.5.c"));
  EXPECT_TRUE(IsLexiconCategory("us-sample_2"));
  EXPECT_FALSE(IsLexiconCategory("Violence"));
  EXPECT_FALSE(IsLexiconCategory("a.1.b"));
  EXPECT_FALSE(IsLexiconCategory(""));
}

TEST(LexiconTest, HeaderErrors) {
  EXPECT_EQ(Messages(Parse("# only comments\n").diagnostics),
            std::vector<std::string>{"RG-F002 x.tsv: error: lexicon has no header line; start it "
                                     "with 'term<TAB>category<TAB>action' (optional columns: "
                                     "locale, match, note)"});
  EXPECT_EQ(Messages(Parse("term category action\nx\tA.1.a\tblock\n").diagnostics),
            std::vector<std::string>{"RG-F002 x.tsv:1:1: error: the header line 'term category "
                                     "action' has no tabs; separate the column names with one "
                                     "tab each"});
  EXPECT_EQ(Messages(Parse("term\tcatgory\taction\n").diagnostics),
            (std::vector<std::string>{
                "RG-F003 x.tsv:1:6: error: unknown column 'catgory' in the header; columns are "
                "term, category, action, locale, match, note (did you mean 'category'?)",
                "RG-F004 x.tsv:1:1: error: the header has no 'category' column; the header "
                "needs term, category and action"}));
  EXPECT_EQ(Messages(Parse("term\tcategory\taction\tterm\n").diagnostics),
            std::vector<std::string>{"RG-F004 x.tsv:1:22: error: column 'term' appears twice in "
                                     "the header; keep one"});
}

TEST(LexiconTest, RowErrorsNameLineAndColumn) {
  const Parsed p = Parse(
      "term\tcategory\taction\tlocale\tmatch\n"
      "ok\tA.1.a\tblock\n"
      "too\tmany\tfields\there\tword\textra\n"
      "\tA.1.a\tblock\n"
      "**!!\tA.1.a\tblock\n"
      "词\ta.1.b\tblock\n"
      "词二\tA.1.a\tblok\n"
      "词三\tA.1.a\tblock\tzh_CN\n"
      "词四\tA.1.a\tblock\t\twhole\n"
      "bad\xFFterm\tA.1.a\tblock\n"
      "tooshort\tA.1.a\n");
  EXPECT_EQ(
      Messages(p.diagnostics),
      (std::vector<std::string>{
          "RG-F005 x.tsv:3:1: error: line has 6 fields but the header has 5; separate fields "
          "with one tab each",
          "RG-F007 x.tsv:4:1: error: empty term; write the term in the first column or delete "
          "the line",
          "RG-F008 x.tsv:5:1: error: term '**!!' has only spaces, punctuation or symbols, which "
          "the filter ignores; it could never match, write letters or digits",
          "RG-F010 x.tsv:6:3: error: unknown category 'a.1.b'; use a TC260-003 risk code (A.1.a "
          "to A.5.b) or a region category (a lower-case id such as 'us-sample') (did you mean "
          "'A.1.b'?)",
          "RG-F011 x.tsv:7:10: error: unknown action 'blok'; use block, mask or flag (did you "
          "mean 'block'?)",
          "RG-F012 x.tsv:8:16: error: locale 'zh_CN' is not a locale tag such as 'zh-CN', 'ja' "
          "or 'zh-Hant-HK'; leave it empty for every locale",
          "RG-F016 x.tsv:9:17: error: unknown match mode 'whole'; use 'word' (whole words, the "
          "default) or 'part' (also inside words)",
          "RG-F006 x.tsv:10:4: error: invalid UTF-8 byte; save the lexicon as UTF-8",
          "RG-F005 x.tsv:11:1: error: line has 2 fields but the header has 5; separate fields "
          "with one tab each"}));
  ASSERT_EQ(p.lexicon.terms.size(), 1u);
  EXPECT_EQ(p.lexicon.terms[0].text, "ok");
}

TEST(LexiconTest, TooLongTermAndLine) {
  std::string long_term(65, 'a');
  std::string long_line(5000, 'b');
  const Parsed p = Parse("term\tcategory\taction\n" + std::string(64, 'c') + "\tA.1.a\tblock\n" +
                         long_term + "\tA.1.a\tblock\n" + long_line + "\tA.1.a\tblock\n");
  EXPECT_EQ(Messages(p.diagnostics),
            (std::vector<std::string>{
                "RG-F009 x.tsv:3:1: error: term is 65 characters long after folding; terms are "
                "limited to 64, use a shorter distinctive part",
                "RG-F015 x.tsv:4:1: error: line is 5012 bytes long; lines are limited to 4096 "
                "bytes, split or shorten the term"}));
  EXPECT_EQ(p.lexicon.terms.size(), 1u);
}

TEST(LexiconTest, DuplicatesAreWarningsAndTheStrongestActionWins) {
  const Parsed p = Parse(
      "term\tcategory\taction\n"
      "bomb\tA.1.a\tflag\n"
      "B O M B\tA.1.b\tblock\n"
      "ｂｏｍｂ\tA.1.c\tmask\n");
  EXPECT_EQ(Messages(p.diagnostics),
            (std::vector<std::string>{
                "RG-F013 x.tsv:3:1: warning: term 'B O M B' matches the same text as 'bomb' on "
                "line 2; this line's action 'block' is stronger and replaces it, delete one of "
                "them",
                "RG-F013 x.tsv:4:1: warning: term 'ｂｏｍｂ' matches the same text as 'B O M B' "
                "on line 3; line 3 is kept, delete one of them"}));
  ASSERT_EQ(p.lexicon.terms.size(), 1u);
  EXPECT_EQ(p.lexicon.terms[0].text, "B O M B");
  EXPECT_EQ(p.lexicon.terms[0].action, FilterAction::kBlock);
  EXPECT_FALSE(HasErrors(p.diagnostics));
}

TEST(LexiconTest, EmptyLexiconIsAWarning) {
  EXPECT_EQ(Messages(Parse("term\tcategory\taction\n# nothing yet\n").diagnostics),
            std::vector<std::string>{"RG-F014 x.tsv: warning: lexicon has no terms; it matches "
                                     "nothing"});
}

TEST(LexiconTest, UnreadableFile) {
  Lexicon lexicon;
  const Diagnostics d = LoadLexicon("/nonexistent/lexicon.tsv", &lexicon);
  EXPECT_EQ(Messages(d), std::vector<std::string>{
                             "RG-F001 /nonexistent/lexicon.tsv: error: cannot read lexicon: No "
                             "such file or directory; check the path in content_policy.lexicons "
                             "and the file's permissions"});
  const Diagnostics dir = LoadLexicon(kSourceDir / "config/lexicons", &lexicon, "lexicons");
  EXPECT_EQ(Messages(dir), std::vector<std::string>{
                               "RG-F001 lexicons: error: cannot read lexicon: it is a directory; "
                               "check the path in content_policy.lexicons and the file's "
                               "permissions"});
}

TEST(LexiconTest, ShippedSampleLexiconsAreClean) {
  size_t files = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(kSourceDir / "config/lexicons")) {
    if (entry.path().extension() != ".tsv") continue;
    ++files;
    Lexicon lexicon;
    const Diagnostics d = LoadLexicon(entry.path(), &lexicon);
    EXPECT_TRUE(d.empty()) << ::testing::PrintToString(Messages(d));
    EXPECT_GE(lexicon.terms.size(), 4u) << entry.path();
  }
  EXPECT_EQ(files, 4u);
}

}  // namespace
}  // namespace rg::compliance
