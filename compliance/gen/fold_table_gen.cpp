// Build-time generator of the content filter's folding table (text_normalizer.cpp): for every
// Unicode code point, what the filter matches it as. Runs on the build machine with utf8proc
// (NFKD + case folding) and OpenCC's dictionaries (traditional -> simplified), so that
// rg::compliance needs neither library at run time and folds one code point with two loads.
//   rg_fold_table_gen OPENCC_DATA_DIR OUTPUT.inc
#include <utf8proc.h>

#include <opencc/DictEntry.hpp>
#include <opencc/Lexicon.hpp>
#include <opencc/MarisaDict.hpp>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace {

constexpr int32_t kMaxCodePoint = 0x10FFFF;

// Entry kinds; keep in sync with text_normalizer.cpp.
constexpr uint32_t kKindIdentity = 0;
constexpr uint32_t kKindSingle = 1;
constexpr uint32_t kKindSequence = 2;
constexpr uint32_t kKindRemoved = 3;

bool DecodeOne(const std::string& s, int32_t* cp) {
  utf8proc_int32_t c = 0;
  const utf8proc_ssize_t n = utf8proc_iterate(reinterpret_cast<const uint8_t*>(s.data()),
                                              static_cast<utf8proc_ssize_t>(s.size()), &c);
  if (n <= 0 || static_cast<size_t>(n) != s.size()) return false;
  *cp = c;
  return true;
}

// Single-character entries of an OpenCC dictionary (phrases are ignored: the filter folds
// one code point at a time, so that chunking can never change the result).
std::map<int32_t, int32_t> LoadCharacterDict(const std::string& path) {
  std::map<int32_t, int32_t> out;
  FILE* fp = std::fopen(path.c_str(), "rb");
  if (fp == nullptr) {
    std::cerr << "rg_fold_table_gen: cannot open " << path << "\n";
    std::exit(1);
  }
  opencc::MarisaDictPtr dict = opencc::MarisaDict::NewFromFile(fp);
  std::fclose(fp);
  for (const auto& entry : *dict->GetLexicon()) {
    int32_t from = 0;
    int32_t to = 0;
    if (DecodeOne(entry->Key(), &from) && DecodeOne(entry->GetDefault(), &to) && from != to) {
      out[from] = to;
    }
  }
  return out;
}

bool InDiacriticBlock(int32_t cp) {
  return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) ||
         (cp >= 0x1DC0 && cp <= 0x1DFF) || (cp >= 0x20D0 && cp <= 0x20FF) ||
         (cp >= 0xFE20 && cp <= 0xFE2F);
}

// Characters a term never contains: what people insert between the characters of a term.
bool Removable(int32_t cp) {
  const utf8proc_property_t* p = utf8proc_get_property(cp);
  if (p->ignorable) return true;
  if (InDiacriticBlock(cp)) return true;
  switch (p->category) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
    case UTF8PROC_CATEGORY_SM:
    case UTF8PROC_CATEGORY_SC:
    case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO:
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    // Unassigned and private-use code points render as boxes or nothing at all.
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CO:
      return true;
    default:
      return false;
  }
}

struct Folder {
  std::map<int32_t, int32_t> t2s;  // variant -> standard traditional -> simplified, composed

  // NFKD + case fold, repeated until stable (a decomposition may need folding again).
  std::vector<int32_t> Unicode(int32_t cp) const {
    std::vector<int32_t> cur{cp};
    for (int round = 0; round < 8; ++round) {
      std::vector<int32_t> next;
      for (int32_t c : cur) {
        utf8proc_int32_t buf[32];
        const utf8proc_ssize_t n =
            utf8proc_decompose_char(c, buf, 32,
                                    static_cast<utf8proc_option_t>(
                                        UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD),
                                    nullptr);
        if (n < 0 || n > 32) {
          next.push_back(c);
        } else {
          next.insert(next.end(), buf, buf + n);
        }
      }
      if (next == cur) break;
      cur = std::move(next);
    }
    return cur;
  }

  std::vector<int32_t> Fold(int32_t cp) const {
    std::vector<int32_t> out;
    for (int32_t c : Unicode(cp)) {
      if (Removable(c)) continue;
      // Follow the chain to a fixed point (bounded: a cycle keeps the last value seen).
      for (int i = 0; i < 4; ++i) {
        auto it = t2s.find(c);
        if (it == t2s.end()) break;
        c = it->second;
      }
      out.push_back(c);
    }
    return out;
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: rg_fold_table_gen OPENCC_DATA_DIR OUTPUT.inc\n";
    return 2;
  }
  const std::string dir = argv[1];
  Folder folder;
  // Regional variants first (HK/TW forms -> OpenCC's standard traditional), then T -> S.
  const std::map<int32_t, int32_t> hk = LoadCharacterDict(dir + "/HKVariantsRev.ocd2");
  const std::map<int32_t, int32_t> tw = LoadCharacterDict(dir + "/TWVariantsRev.ocd2");
  const std::map<int32_t, int32_t> ts = LoadCharacterDict(dir + "/TSCharacters.ocd2");
  auto compose = [&](int32_t c) {
    if (auto it = hk.find(c); it != hk.end()) c = it->second;
    if (auto it = tw.find(c); it != tw.end()) c = it->second;
    if (auto it = ts.find(c); it != ts.end()) c = it->second;
    return c;
  };
  for (const auto* m : {&hk, &tw, &ts}) {
    for (const auto& [from, to] : *m) {
      (void)to;
      const int32_t target = compose(from);
      if (target != from) folder.t2s[from] = target;
    }
  }

  // entries[cp]: kind << 29 | payload.
  std::vector<uint32_t> entries(kMaxCodePoint + 1, 0);
  std::vector<uint32_t> seq;
  size_t removed = 0, single = 0, sequences = 0;
  for (int32_t cp = 0; cp <= kMaxCodePoint; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;  // not encodable in UTF-8; decoder rejects
    std::vector<int32_t> f = folder.Fold(cp);
    // Idempotence: folding the folded text changes nothing, so terms and text agree.
    std::vector<int32_t> again;
    for (int32_t c : f) {
      std::vector<int32_t> g = folder.Fold(c);
      again.insert(again.end(), g.begin(), g.end());
    }
    if (again != f) f = again;
    uint32_t e = 0;
    if (f.empty()) {
      e = kKindRemoved << 29;
      ++removed;
    } else if (f.size() == 1 && f[0] == cp) {
      e = kKindIdentity << 29;
    } else if (f.size() == 1) {
      e = kKindSingle << 29 | static_cast<uint32_t>(f[0]);
      ++single;
    } else {
      if (f.size() > 32 || seq.size() > 0x1FFFFF) {  // kMaxFoldLength in text_normalizer.hpp
        std::cerr << "rg_fold_table_gen: folding too long at U+" << std::hex << cp << "\n";
        return 1;
      }
      e = kKindSequence << 29 | static_cast<uint32_t>(f.size()) << 21 |
          static_cast<uint32_t>(seq.size());
      seq.insert(seq.end(), f.begin(), f.end());
      ++sequences;
    }
    entries[static_cast<size_t>(cp)] = e;
  }

  // Two-stage table: blocks of 256 entries, identical blocks shared.
  std::vector<uint16_t> stage1;
  std::vector<uint32_t> stage2;
  std::map<std::vector<uint32_t>, uint16_t> blocks;
  for (size_t b = 0; b < entries.size() / 256; ++b) {
    std::vector<uint32_t> block(entries.begin() + static_cast<long>(b * 256),
                                entries.begin() + static_cast<long>(b * 256 + 256));
    auto [it, inserted] = blocks.emplace(block, static_cast<uint16_t>(blocks.size()));
    if (inserted) stage2.insert(stage2.end(), block.begin(), block.end());
    stage1.push_back(it->second);
  }

  // FNV-1a over everything, so a compiled-lexicon cache built with another table is ignored.
  uint64_t hash = 1469598103934665603ull;
  auto mix = [&hash](uint32_t v) {
    for (int i = 0; i < 4; ++i) {
      hash ^= (v >> (8 * i)) & 0xFF;
      hash *= 1099511628211ull;
    }
  };
  for (uint16_t v : stage1) mix(v);
  for (uint32_t v : stage2) mix(v);
  for (uint32_t v : seq) mix(v);

  std::ofstream out(argv[2], std::ios::binary);
  out << "// Generated by rg_fold_table_gen from utf8proc " << utf8proc_version() << " (Unicode "
      << utf8proc_unicode_version() << ") and OpenCC's HKVariantsRev, "
      << "TWVariantsRev and TSCharacters.\n// Do not edit. " << removed << " removed, " << single
      << " mapped, " << sequences << " expanded code points; " << blocks.size()
      << " distinct blocks.\n";
  out << "constexpr char kFoldUnicodeVersion[] = \"" << utf8proc_unicode_version() << "\";\n";
  out << "constexpr uint64_t kFoldTableHash = 0x" << std::hex << hash << std::dec << "ull;\n";
  out << "constexpr uint16_t kFoldStage1[" << stage1.size() << "] = {";
  for (size_t i = 0; i < stage1.size(); ++i) out << (i % 24 == 0 ? "\n" : "") << stage1[i] << ",";
  out << "};\n";
  out << "constexpr uint32_t kFoldStage2[" << stage2.size() << "] = {";
  for (size_t i = 0; i < stage2.size(); ++i) {
    out << (i % 12 == 0 ? "\n" : "") << "0x" << std::hex << stage2[i] << std::dec << ",";
  }
  out << "};\n";
  out << "constexpr uint32_t kFoldSequences[" << (seq.empty() ? 1 : seq.size()) << "] = {";
  for (size_t i = 0; i < seq.size(); ++i) {
    out << (i % 12 == 0 ? "\n" : "") << "0x" << std::hex << seq[i] << std::dec << ",";
  }
  if (seq.empty()) out << "0";
  out << "};\n";
  if (!out) {
    std::cerr << "rg_fold_table_gen: cannot write " << argv[2] << "\n";
    return 1;
  }
  return 0;
}
