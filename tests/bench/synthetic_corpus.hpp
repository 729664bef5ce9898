// Deterministic synthetic lexicons and text for the content filter's benchmarks and tests:
// the same bytes on every machine and run (SplitMix64, fixed seeds, glibc's GB2312 table), so
// figures are comparable and nothing generated needs committing. The CJK characters are the
// 3,755 GB2312 level-1 hanzi (the common ones); terms are invented combinations of them or
// invented Latin words, never a real keyword list.
#pragma once

#include <iconv.h>

#include <cstdint>
#include <string>
#include <vector>

namespace rg::bench {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n).
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }
  /// Zipf-like in [0, n): small indices far more often (a common-character text).
  size_t Skewed(size_t n) {
    const double u = static_cast<double>(Next() >> 11) / 9007199254740992.0;
    return static_cast<size_t>(static_cast<double>(n) * u * u * u) % n;
  }

 private:
  uint64_t state_;
};

/// The GB2312 level-1 hanzi as UTF-8 strings, in GB2312 order (by pinyin).
inline const std::vector<std::string>& CommonHanzi() {
  static const std::vector<std::string> chars = [] {
    std::vector<std::string> out;
    iconv_t cd = iconv_open("UTF-8", "GB2312");
    if (cd == reinterpret_cast<iconv_t>(-1)) return out;
    for (int row = 0xB0; row <= 0xD7; ++row) {
      for (int col = 0xA1; col <= 0xFE; ++col) {
        if (row == 0xD7 && col > 0xF9) break;
        char in[2] = {static_cast<char>(row), static_cast<char>(col)};
        char buf[8];
        char* inp = in;
        char* outp = buf;
        size_t inleft = 2, outleft = sizeof(buf);
        if (iconv(cd, &inp, &inleft, &outp, &outleft) != static_cast<size_t>(-1)) {
          out.emplace_back(buf, static_cast<size_t>(outp - buf));
        }
      }
    }
    iconv_close(cd);
    return out;
  }();
  return chars;
}

inline const std::vector<std::string>& EnglishWords() {
  static const std::vector<std::string> words = {
      "the",    "of",     "and",   "to",     "in",      "is",     "you",     "that",     "it",
      "he",     "was",    "for",   "on",     "are",     "as",     "with",    "his",      "they",
      "at",     "be",     "this",  "have",   "from",    "or",     "one",     "had",      "by",
      "word",   "but",    "not",   "what",   "all",     "were",   "we",      "when",     "your",
      "can",    "said",   "there", "use",    "an",      "each",   "which",   "she",      "do",
      "how",    "their",  "if",    "will",   "up",      "other",  "about",   "out",      "many",
      "then",   "them",   "these", "so",     "some",    "her",    "would",   "make",     "like",
      "him",    "into",   "time",  "has",    "look",    "two",    "more",    "write",    "go",
      "see",    "number", "no",    "way",    "could",   "people", "my",      "than",     "first",
      "water",  "been",   "call",  "who",    "oil",     "its",    "now",     "find",     "long",
      "down",   "day",    "did",   "get",    "come",    "made",   "may",     "part",     "model",
      "server", "region", "token", "stream", "request", "answer", "Beijing", "Shanghai", "API",
      "JSON",   "GPU"};
  return words;
}

/// A lexicon of `terms` invented terms as TSV (header included). 70 % are 2-6 common hanzi,
/// 30 % invented Latin words of 6-12 letters; categories cycle through the 17 A.1/A.2 risks;
/// actions are 80 % block, 10 % mask, 10 % flag.
inline std::string SyntheticLexicon(size_t terms, uint64_t seed = 20261121) {
  static const char* const kCategories[] = {"A.1.a", "A.1.b", "A.1.c", "A.1.d", "A.1.e", "A.1.f",
                                            "A.1.g", "A.1.h", "A.2.a", "A.2.b", "A.2.c", "A.2.d",
                                            "A.2.e", "A.2.f", "A.2.g", "A.2.h", "A.2.i"};
  const std::vector<std::string>& hanzi = CommonHanzi();
  SplitMix64 rng(seed);
  std::string out =
      "# synthetic lexicon for benchmarks: invented terms, not a keyword library\n"
      "term\tcategory\taction\n";
  for (size_t i = 0; i < terms; ++i) {
    std::string term;
    if (rng.Below(10) < 7) {
      const size_t n = 2 + rng.Below(5);
      for (size_t k = 0; k < n; ++k) term += hanzi[rng.Below(hanzi.size())];
    } else {
      const size_t n = 6 + rng.Below(7);
      for (size_t k = 0; k < n; ++k) term += static_cast<char>('a' + rng.Below(26));
    }
    const size_t a = rng.Below(10);
    out += term + '\t' + kCategories[i % 17] + '\t' +
           (a < 8   ? "block"
            : a < 9 ? "mask"
                    : "flag") +
           '\n';
  }
  return out;
}

/// The terms of SyntheticLexicon(terms, seed), in order.
inline std::vector<std::string> SyntheticTerms(size_t terms, uint64_t seed = 20261121) {
  std::vector<std::string> out;
  const std::string tsv = SyntheticLexicon(terms, seed);
  size_t pos = tsv.find('\n', tsv.find("term\t")) + 1;
  while (pos < tsv.size()) {
    const size_t tab = tsv.find('\t', pos);
    out.push_back(tsv.substr(pos, tab - pos));
    pos = tsv.find('\n', tab) + 1;
  }
  return out;
}

/// About `bytes` of mixed text: sentences of common hanzi (skewed towards the frequent end)
/// with Chinese punctuation, alternating with English sentences; roughly half the bytes each.
inline std::string SyntheticText(size_t bytes, uint64_t seed = 7) {
  const std::vector<std::string>& hanzi = CommonHanzi();
  const std::vector<std::string>& words = EnglishWords();
  SplitMix64 rng(seed);
  std::string out;
  out.reserve(bytes + 256);
  while (out.size() < bytes) {
    const size_t n = 8 + rng.Below(30);
    for (size_t k = 0; k < n; ++k) {
      out += hanzi[rng.Skewed(hanzi.size())];
      if (rng.Below(12) == 0) out += "，";
    }
    out += rng.Below(4) == 0 ? "！" : "。";
    const size_t w = 5 + rng.Below(15);
    for (size_t k = 0; k < w; ++k) {
      if (k > 0) out += ' ';
      out += words[rng.Skewed(words.size())];
      if (rng.Below(15) == 0) out += std::to_string(rng.Below(2030));
    }
    out += rng.Below(3) == 0 ? ". " : ", ";
  }
  out.resize(bytes);
  // Never end inside a UTF-8 sequence.
  size_t start = out.size();
  while (start > 0 && (static_cast<unsigned char>(out[start - 1]) & 0xC0) == 0x80) --start;
  if (start > 0) {
    const auto lead = static_cast<unsigned char>(out[--start]);
    const size_t len = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    if (start + len > out.size()) out.resize(start);
  }
  return out;
}

}  // namespace rg::bench
