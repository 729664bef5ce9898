// Writes the content filter benchmarks' inputs into a build directory, at build time:
//   lexicon-10k.tsv, lexicon-100k.tsv   synthetic lexicons (invented terms, TSV with header)
//   text-mixed.txt                      4 MiB of mixed CJK/Latin text
// Deterministic (synthetic_corpus.hpp), so nothing generated is ever committed.
//   rg_filter_corpus_gen OUTPUT_DIR
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "synthetic_corpus.hpp"

namespace {

bool Write(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: rg_filter_corpus_gen OUTPUT_DIR\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (rg::bench::CommonHanzi().size() != 3755) {
    std::cerr << "rg_filter_corpus_gen: iconv has no GB2312 table; install the C library's "
                 "locale data (glibc gconv)\n";
    return 1;
  }
  const bool ok = Write(dir / "lexicon-10k.tsv", rg::bench::SyntheticLexicon(10000)) &&
                  Write(dir / "lexicon-100k.tsv", rg::bench::SyntheticLexicon(100000)) &&
                  Write(dir / "text-mixed.txt", rg::bench::SyntheticText(4 << 20));
  if (!ok) {
    std::cerr << "rg_filter_corpus_gen: cannot write to " << dir << "\n";
    return 1;
  }
  return 0;
}
