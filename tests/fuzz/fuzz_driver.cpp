// A small stand-in for libFuzzer's driver, so every fuzz target also runs under g++ inside
// ctest: replays every file of a corpus directory, then feeds deterministic mutations of them
// (bit flips, inserts of YAML punctuation, deletions, duplications, splices).
//   fuzz_target CORPUS_DIR [--mutations N] [--seed S]
// A crash or sanitizer report fails the test; on a crash signal the input that caused it is
// written to fuzz-crash-input.bin in the working directory, to be added to the corpus once
// fixed.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

const char* const kTokens[] = {"{",
                               "}",
                               "[",
                               "]",
                               ": ",
                               "- ",
                               ",",
                               "\n",
                               "\n  ",
                               "&a ",
                               "*a",
                               "!!str ",
                               "!!int ",
                               "!tag ",
                               "? ",
                               "---\n",
                               "...\n",
                               "'",
                               "\"",
                               "#",
                               "|\n",
                               ">\n",
                               "~",
                               "null",
                               "true",
                               "0x1F",
                               "1e9",
                               "-1",
                               "2026-02-30",
                               "\t",
                               "\xe5\x86\x85",
                               "\xff",
                               "<<: *a",
                               "%YAML 1.2\n"};

// The input being run, for the crash handler (async-signal-safe: no allocation there).
const char* g_input = nullptr;
size_t g_input_size = 0;

extern "C" void OnCrash(int signal_number) {
  const int fd = ::open("fuzz-crash-input.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd >= 0) {
    size_t written = 0;
    while (written < g_input_size) {
      const ssize_t n = ::write(fd, g_input + written, g_input_size - written);
      if (n <= 0) break;
      written += static_cast<size_t>(n);
    }
    ::close(fd);
  }
  static const char kMessage[] = "fuzz: crash; input saved to fuzz-crash-input.bin\n";
  (void)!::write(2, kMessage, sizeof(kMessage) - 1);
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

void Run(const std::string& input) {
  g_input = input.data();
  g_input_size = input.size();
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

std::string Mutate(std::string s, const std::vector<std::string>& corpus, std::mt19937_64& rng) {
  auto pick = [&rng](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  const int steps = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < steps; ++i) {
    switch (rng() % 6) {
      case 0:
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1:
        s.insert(pick(s.size() + 1), kTokens[pick(std::size(kTokens))]);
        break;
      case 2:
        if (!s.empty()) {
          const size_t at = pick(s.size());
          s.erase(at, 1 + pick(std::min<size_t>(64, s.size() - at)));
        }
        break;
      case 3:
        if (!s.empty()) {
          const size_t at = pick(s.size());
          const size_t len = 1 + pick(std::min<size_t>(256, s.size() - at));
          s.insert(pick(s.size() + 1), s.substr(at, len));
        }
        break;
      case 4: {
        const std::string& other = corpus[pick(corpus.size())];
        if (!other.empty()) {
          const size_t at = pick(other.size());
          s.insert(pick(s.size() + 1), other.substr(at, 1 + pick(other.size() - at)));
        }
        break;
      }
      case 5:
        if (!s.empty()) {
          // Swap two lines: YAML structure depends on line order and indentation.
          const size_t a = s.rfind('\n', pick(s.size()));
          const size_t b = s.find('\n', pick(s.size()));
          if (a != std::string::npos && b != std::string::npos && a < b) {
            std::rotate(s.begin() + static_cast<std::ptrdiff_t>(a),
                        s.begin() + static_cast<std::ptrdiff_t>(a + (b - a) / 2),
                        s.begin() + static_cast<std::ptrdiff_t>(b));
          }
        }
        break;
    }
  }
  if (s.size() > 1 << 16) s.resize(1 << 16);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " CORPUS_DIR [--mutations N] [--seed S]\n";
    return 2;
  }
  long mutations = 2000;
  uint64_t seed = 20261121;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--mutations") == 0) mutations = std::atol(argv[i + 1]);
    if (std::strcmp(argv[i], "--seed") == 0) seed = std::strtoull(argv[i + 1], nullptr, 10);
  }
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> corpus;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    corpus.push_back(bytes.str());
  }
  if (corpus.empty()) {
    std::cerr << "empty corpus: " << argv[1] << "\n";
    return 2;
  }
  for (int signal_number : {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGTERM}) {
    std::signal(signal_number, OnCrash);
  }
  for (const std::string& input : corpus) Run(input);
  std::mt19937_64 rng(seed);
  for (long i = 0; i < mutations; ++i) {
    Run(Mutate(corpus[static_cast<size_t>(rng() % corpus.size())], corpus, rng));
  }
  std::cout << "ran " << corpus.size() << " corpus inputs and " << mutations << " mutations (seed "
            << seed << ") without a crash\n";
  return 0;
}
