// Fuzz target for the content filter: random bytes as a lexicon file (parser and
// diagnostics), as a text scanned whole and streamed in three chunkings that must agree
// (abort otherwise: a disagreement could let a blocked term through), and as a compiled-lexicon
// cache file (the loader must reject what it cannot trust, never crash). Builds as a libFuzzer
// target (clang -fsanitize=fuzzer) or, with g++, with fuzz_driver.cpp, which replays
// corpus/lexicon and deterministic mutations inside ctest.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "filter_automaton.hpp"  // compliance/src: the cache loader
#include "regiongate/compliance/content_filter.hpp"
#include "regiongate/compliance/text_normalizer.hpp"

namespace {

using namespace rg::compliance;

const Lexicon& FixedLexicon() {
  static const Lexicon lexicon = [] {
    Lexicon l;
    (void)ParseLexicon(
        "term\tcategory\taction\tlocale\tmatch\n"
        "坏词\tA.1.a\tblock\nbomb\tA.1.b\tblock\nzorb\tsample\tmask\nab\tsample\tflag\t\tpart\n"
        "ｶﾞ\tsample\tblock\tja\n",
        "fixed.tsv", &l);
    return l;
  }();
  return lexicon;
}

ContentPolicy Policy() {
  ContentPolicy p;
  p.present = true;
  p.input_action = "refuse";
  p.output_action = "block";
  return p;
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "lexicon_fuzz: %s\n", what);
    std::abort();
  }
}

// Streams `text` in chunks of `size` and checks the result against the whole-text scan.
void StreamAgrees(const ContentFilter& filter, std::string_view text, const FilterResult& whole,
                  size_t size) {
  FilterStream s = filter.NewStream({FilterDirection::kOutput, "ja-JP"});
  std::string released;
  bool blocked = false;
  for (size_t i = 0; i < text.size(); i += size) {
    FilterStream::Step step = s.Feed(text.substr(i, size));
    released += step.text;
    blocked = blocked || step.block.has_value();
  }
  FilterStream::Step last = s.Finish();
  released += last.text;
  blocked = blocked || last.block.has_value();
  Check(released == whole.text, "streamed text differs from the whole-text result");
  Check(blocked == whole.blocked(), "streamed block differs from the whole-text result");
  Check(s.matches().size() == whole.matches.size(), "streamed matches differ");
}

// What a scan does with a loaded automaton, over every code point of `text`: class lookups,
// transitions and report walks must stay in bounds and terminate.
void Walk(const detail::CompiledLexicon& c, std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  uint32_t state = 0;
  size_t reports = 0;
  for (size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    i += DecodeUtf8(p + i, text.size() - i, true, &cp);
    const uint32_t cls = c.Class(cp);
    if (cls == detail::kClassRemoved) continue;
    const uint32_t* symbols = &cls;
    uint32_t count = 1;
    if (cls & detail::kClassSequence) {
      symbols = c.class_sequences.data() + (cls & detail::kSymbolMask);
      count = (cls >> 24) & 0x7F;
    }
    for (uint32_t k = 0; k < count; ++k) {
      state = c.Next(state, symbols[k] & detail::kSymbolMask);
      (void)c.HoldDepth(state);
      for (uint32_t r = c.FirstReport(state); r != 0; r = c.reports[r].next) {
        reports += c.terms[c.reports[r].term].length;
      }
    }
  }
  (void)reports;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  // As a lexicon.
  Lexicon parsed;
  for (const Diagnostic& d : ParseLexicon(text, "fuzz.tsv", &parsed)) (void)d.ToString();

  // As a text, through a filter over the fixed terms and whatever parsed.
  auto filter = ContentFilter::FromLexicons({FixedLexicon(), parsed}, Policy());
  Check(filter.ok(), "a parsed lexicon failed to compile");
  const ContentFilter& f = **filter;
  const FilterResult whole = f.Check(text, {FilterDirection::kOutput, "ja-JP"});
  Check(!f.Check(whole.text, {FilterDirection::kOutput, "ja-JP"}).blocked() ||
            whole.text.find('*') != std::string::npos,
        "the released text holds a blocking match");
  const size_t odd = 1 + (size > 0 ? data[0] % 11 : 0);
  for (size_t chunk : {size_t{1}, size_t{3}, odd}) StreamAgrees(f, text, whole, chunk);
  std::vector<FilterMatch> all;
  f.ScanAll(text, {FilterDirection::kInput, ""}, &all);
  for (const FilterMatch& m : all) {
    Check(m.begin < m.end && m.end <= text.size(), "a match lies outside the text");
    (void)f.Term(m.term);
  }

  // As a cache file: hostile bytes, and the real serialisation with one byte changed (the
  // checksum catches that; Valid() is what stands behind it).
  detail::CompiledLexicon loaded;
  if (detail::Deserialize(text, "key", &loaded)) Walk(loaded, text);
  detail::CompileInput input;
  input.lexicon_files = {"fuzz.tsv"};
  for (const LexiconTerm& t : parsed.terms) input.terms.emplace_back(0, &t);
  detail::CompiledLexicon compiled;
  std::string error;
  if (detail::Compile(input, 8, &compiled, &error)) {
    std::string bytes = detail::Serialize(compiled, "key");
    Check(detail::Deserialize(bytes, "key", &loaded), "a fresh serialisation was rejected");
    Walk(loaded, text);
    if (size > 1) bytes[(data[1] * 7919u + size) % bytes.size()] ^= static_cast<char>(1 + data[0]);
    if (detail::Deserialize(bytes, "key", &loaded)) Walk(loaded, text);
  }
  return 0;
}
