// Content filter benchmarks, each beside its baseline in one run (docs/content-filter.md has
// the figures and how to read them). Inputs are generated at build time (filter_corpus_gen):
// synthetic 10k/100k-term lexicons and 4 MiB of mixed CJK/Latin text.
//   Filter/ScanAll            the filter: folding + matching, every match reported
//   Baseline/HyperscanRaw     Hyperscan block mode, raw terms on the raw text: no folding at all
//   Engine/FoldThenHyperscan  the alternative design: fold to a buffer, then Hyperscan
//   Fold/*                    folding alone: our table vs utf8proc vs ICU vs OpenCC
//   Stream/Chunk16            median cost per 16-byte chunk (+ Hyperscan stream mode beside it)
//   Stream/FirstToken         what the hold-back adds to the time to first token
//   Memory/*                  per-stream memory, the compiled lexicon's resident size
//   Load/*                    cold compile vs cached load (+ Hyperscan compile/deserialise)
// Run: build/<release>/tests/bench/rg_filter_bench [--benchmark_repetitions=3]
#include <benchmark/benchmark.h>
#include <hs/hs.h>
#include <opencc/opencc.h>
#include <time.h>
#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unistd.h>
#include <utf8proc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "regiongate/compliance/content_filter.hpp"
#include "regiongate/compliance/text_normalizer.hpp"

namespace {

using rg::compliance::ContentFilter;
using rg::compliance::ContentPolicy;
using rg::compliance::FilterContext;
using rg::compliance::FilterDirection;
using rg::compliance::FilterMatch;
using rg::compliance::FilterOptions;
using rg::compliance::FilterStream;

const std::filesystem::path kCorpus = RG_FILTER_CORPUS_DIR;
const FilterContext kOutput{FilterDirection::kOutput, "zh-CN"};

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

const std::string& Text() {
  static const std::string text = ReadFile(kCorpus / "text-mixed.txt");
  return text;
}

std::filesystem::path LexiconPath(size_t terms) {
  return kCorpus / (terms == 10000 ? "lexicon-10k.tsv" : "lexicon-100k.tsv");
}

ContentPolicy Policy() {
  ContentPolicy p;
  p.present = true;
  p.input_action = "refuse";
  p.output_action = "block";
  return p;
}

FilterOptions CacheOptions(bool use_cache) {
  FilterOptions o;
  o.cache_dir = kCorpus / "cache";
  o.use_cache = use_cache;
  return o;
}

std::shared_ptr<const ContentFilter> Filter(size_t terms) {
  static std::map<size_t, std::shared_ptr<const ContentFilter>> filters;
  auto& f = filters[terms];
  if (!f) {
    auto r = ContentFilter::FromFiles({LexiconPath(terms)}, Policy(), CacheOptions(true));
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.error().message.c_str());
      std::exit(1);
    }
    f = *r;
  }
  return f;
}

// The lexicon's terms, raw (as written) and folded, for the Hyperscan databases.
std::vector<std::string> Terms(size_t terms, bool folded) {
  rg::compliance::Lexicon lexicon;
  (void)rg::compliance::LoadLexicon(LexiconPath(terms), &lexicon);
  std::vector<std::string> out;
  for (const auto& t : lexicon.terms) {
    if (!folded) {
      out.push_back(t.text);
      continue;
    }
    std::string s;
    for (char32_t cp : t.folded) rg::compliance::AppendUtf8(cp, &s);
    out.push_back(s);
  }
  return out;
}

hs_database_t* CompileHyperscan(const std::vector<std::string>& terms, unsigned mode) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  std::vector<unsigned> ids, flags;
  for (size_t i = 0; i < terms.size(); ++i) {
    ptrs.push_back(terms[i].data());
    lens.push_back(terms[i].size());
    ids.push_back(static_cast<unsigned>(i));
    flags.push_back(0);
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile_lit_multi(ptrs.data(), flags.data(), ids.data(), lens.data(),
                           static_cast<unsigned>(terms.size()), mode, nullptr, &db,
                           &error) != HS_SUCCESS) {
    std::fprintf(stderr, "hyperscan: %s\n", error->message);
    std::exit(1);
  }
  return db;
}

struct Hyperscan {
  hs_database_t* raw = nullptr;     // raw terms, block mode
  hs_database_t* folded = nullptr;  // folded terms, block mode
  hs_database_t* stream = nullptr;  // raw terms, stream mode
  hs_scratch_t* scratch = nullptr;
};

Hyperscan& Hs(size_t terms) {
  static std::map<size_t, Hyperscan> dbs;
  Hyperscan& h = dbs[terms];
  if (h.raw == nullptr) {
    h.raw = CompileHyperscan(Terms(terms, false), HS_MODE_BLOCK);
    h.folded = CompileHyperscan(Terms(terms, true), HS_MODE_BLOCK);
    h.stream = CompileHyperscan(Terms(terms, false), HS_MODE_STREAM | HS_MODE_SOM_HORIZON_SMALL);
    hs_alloc_scratch(h.raw, &h.scratch);
    hs_alloc_scratch(h.folded, &h.scratch);
    hs_alloc_scratch(h.stream, &h.scratch);
  }
  return h;
}

int CountMatch(unsigned, unsigned long long, unsigned long long, unsigned, void* context) {
  ++*static_cast<size_t*>(context);
  return 0;
}

double NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

// ---- throughput ------------------------------------------------------------------------

void FilterScanAll(benchmark::State& state, size_t terms) {
  const auto filter = Filter(terms);
  const std::string& text = Text();
  std::vector<FilterMatch> matches;
  for (auto _ : state) {
    matches.clear();
    filter->ScanAll(text, kOutput, &matches);
    benchmark::DoNotOptimize(matches.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["matches"] = static_cast<double>(matches.size());
}

void BaselineHyperscanRaw(benchmark::State& state, size_t terms) {
  Hyperscan& h = Hs(terms);
  const std::string& text = Text();
  size_t count = 0;
  for (auto _ : state) {
    count = 0;
    hs_scan(h.raw, text.data(), static_cast<unsigned>(text.size()), 0, h.scratch, CountMatch,
            &count);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["matches"] = static_cast<double>(count);
}

void EngineFoldThenHyperscan(benchmark::State& state, size_t terms) {
  Hyperscan& h = Hs(terms);
  const std::string& text = Text();
  size_t count = 0;
  for (auto _ : state) {
    count = 0;
    const rg::compliance::NormalizedText n = rg::compliance::NormalizeForMatching(text);
    hs_scan(h.folded, n.text.data(), static_cast<unsigned>(n.text.size()), 0, h.scratch, CountMatch,
            &count);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["matches"] = static_cast<double>(count);
}

// ---- folding engines -------------------------------------------------------------------

void FoldTable(benchmark::State& state) {
  const std::string& text = Text();
  for (auto _ : state) {
    rg::compliance::NormalizedText n = rg::compliance::NormalizeForMatching(text);
    benchmark::DoNotOptimize(n.text.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.SetLabel("NFKD+casefold+T2S+separators, with offset map");
}

void FoldUtf8proc(benchmark::State& state) {
  const std::string& text = Text();
  for (auto _ : state) {
    utf8proc_uint8_t* out = nullptr;
    utf8proc_map(
        reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
        static_cast<utf8proc_ssize_t>(text.size()), &out,
        static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE |
                                       UTF8PROC_CASEFOLD | UTF8PROC_IGNORE | UTF8PROC_STRIPMARK));
    benchmark::DoNotOptimize(out);
    std::free(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.SetLabel("NFKC+casefold only, no offsets, no T2S");
}

void FoldIcu(benchmark::State& state) {
  const std::string& text = Text();
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(status);
  for (auto _ : state) {
    std::string out;
    icu::StringByteSink<std::string> sink(&out, static_cast<int32_t>(text.size()));
    status = U_ZERO_ERROR;
    nfkc_cf->normalizeUTF8(0, icu::StringPiece(text.data(), static_cast<int32_t>(text.size())),
                           sink, nullptr, status);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.SetLabel("NFKC_Casefold only, no offsets, no T2S");
}

void T2sOpenCC(benchmark::State& state) {
  const std::string& text = Text();
  opencc_t cc = opencc_open(OPENCC_DEFAULT_CONFIG_TRAD_TO_SIMP);
  if (cc == reinterpret_cast<opencc_t>(-1)) {
    state.SkipWithError("opencc_open(t2s.json) failed");
    return;
  }
  for (auto _ : state) {
    char* out = opencc_convert_utf8(cc, text.data(), text.size());
    benchmark::DoNotOptimize(out);
    opencc_convert_utf8_free(out);
  }
  opencc_close(cc);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.SetLabel("traditional->simplified only (phrases), no offsets");
}

// ---- streaming -------------------------------------------------------------------------

void StreamChunk16(benchmark::State& state, size_t terms) {
  const auto filter = Filter(terms);
  const std::string_view text = Text();
  constexpr size_t kChunk = 16;
  FilterStream stream = filter->NewStream(kOutput);
  size_t at = 0;
  for (auto _ : state) {
    if (at + kChunk > text.size() || stream.stopped()) {
      state.PauseTiming();
      stream = filter->NewStream(kOutput);
      at = 0;
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(stream.Feed(text.substr(at, kChunk)).text.data());
    at += kChunk;
  }
  // Median and 99th percentile, timing each chunk (clock overhead measured and subtracted).
  std::vector<double> ns;
  const double overhead = [] {
    std::vector<double> d;
    for (int i = 0; i < 2000; ++i) {
      const double a = NowNs();
      d.push_back(NowNs() - a);
    }
    std::sort(d.begin(), d.end());
    return d[d.size() / 2];
  }();
  FilterStream timed = filter->NewStream(kOutput);
  for (size_t i = 0; i + kChunk <= text.size() && !timed.stopped(); i += kChunk) {
    const double a = NowNs();
    benchmark::DoNotOptimize(timed.Feed(text.substr(i, kChunk)).text.data());
    ns.push_back(NowNs() - a - overhead);
  }
  std::sort(ns.begin(), ns.end());
  state.counters["median_ns"] = ns[ns.size() / 2];
  state.counters["p99_ns"] = ns[ns.size() * 99 / 100];
  state.counters["chunks_timed"] = static_cast<double>(ns.size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kChunk));
}

void BaselineHyperscanStreamChunk16(benchmark::State& state, size_t terms) {
  Hyperscan& h = Hs(terms);
  const std::string_view text = Text();
  constexpr size_t kChunk = 16;
  hs_stream_t* stream = nullptr;
  hs_open_stream(h.stream, 0, &stream);
  size_t at = 0;
  size_t count = 0;
  for (auto _ : state) {
    if (at + kChunk > text.size()) {
      state.PauseTiming();
      hs_close_stream(stream, h.scratch, CountMatch, &count);
      hs_open_stream(h.stream, 0, &stream);
      at = 0;
      state.ResumeTiming();
    }
    hs_scan_stream(stream, text.data() + at, kChunk, 0, h.scratch, CountMatch, &count);
    at += kChunk;
  }
  hs_close_stream(stream, h.scratch, CountMatch, &count);
  size_t stream_size = 0;
  hs_stream_size(h.stream, &stream_size);
  state.counters["stream_state_bytes"] = static_cast<double>(stream_size);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kChunk));
  state.SetLabel("raw bytes, no folding, no hold-back");
}

// What the hold-back adds to the time to first token: streams start at 2,000 places in the
// text and receive token-sized chunks (4 bytes, about one CJK character or a short word
// piece). Reported: characters of the first chunk held back (mean, max), the share of streams
// whose first chunk released nothing (those wait one more chunk), and the CPU time of the
// first Feed.
void StreamFirstToken(benchmark::State& state, size_t terms) {
  const auto filter = Filter(terms);
  const std::string_view text = Text();
  constexpr size_t kStarts = 2000;
  constexpr size_t kChunk = 4;
  double held_chars = 0, max_held_chars = 0, nothing_released = 0, first_feed_ns = 0;
  size_t runs = 0;
  for (auto _ : state) {
    for (size_t k = 0; k < kStarts; ++k) {
      size_t start = (text.size() / kStarts) * k;
      while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) {
        ++start;
      }
      const std::string_view chunk = text.substr(start, kChunk);
      FilterStream s = filter->NewStream(kOutput);
      const double a = NowNs();
      const FilterStream::Step step = s.Feed(chunk);
      first_feed_ns += NowNs() - a;
      size_t held = 0;  // characters of the chunk not released
      const std::string_view rest = chunk.substr(step.text.size());
      for (char c : rest) held += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      held_chars += static_cast<double>(held);
      max_held_chars = std::max(max_held_chars, static_cast<double>(held));
      nothing_released += step.text.empty() ? 1 : 0;
      ++runs;
    }
  }
  state.counters["held_chars_mean"] = held_chars / static_cast<double>(runs);
  state.counters["held_chars_max"] = max_held_chars;
  state.counters["first_chunk_withheld_pct"] = 100.0 * nothing_released / static_cast<double>(runs);
  state.counters["first_feed_us"] = first_feed_ns / static_cast<double>(runs) / 1000.0;
}

// ---- memory and load -------------------------------------------------------------------

void MemoryPerStream(benchmark::State& state, size_t terms) {
  const auto filter = Filter(terms);
  const std::string_view text = Text();
  size_t overhead = 0;
  for (auto _ : state) {
    FilterStream s = filter->NewStream(kOutput);
    for (size_t i = 0; i + 16 <= 64 << 10 && !s.stopped(); i += 16) s.Feed(text.substr(i, 16));
    overhead = s.overhead_bytes();
    benchmark::DoNotOptimize(overhead);
  }
  state.counters["stream_overhead_bytes"] = static_cast<double>(overhead);
  state.counters["sizeof_FilterStream"] = static_cast<double>(sizeof(FilterStream));
  state.counters["max_hold_back_code_points"] =
      static_cast<double>(filter->stats().max_hold_back_code_points());
}

void MemoryLexicon(benchmark::State& state, size_t terms) {
  size_t resident = 0, states = 0, rss_delta = 0, hs_bytes = 0;
  for (auto _ : state) {
    const size_t before = ResidentBytes();
    auto r = ContentFilter::FromFiles({LexiconPath(terms)}, Policy(), CacheOptions(true));
    rss_delta = ResidentBytes() - before;
    resident = (*r)->stats().resident_bytes;
    states = (*r)->stats().states;
  }
  hs_database_size(Hs(terms).raw, &hs_bytes);
  state.counters["resident_MiB"] = static_cast<double>(resident) / (1 << 20);
  state.counters["rss_delta_MiB"] = static_cast<double>(rss_delta) / (1 << 20);
  state.counters["states"] = static_cast<double>(states);
  state.counters["hyperscan_db_MiB"] = static_cast<double>(hs_bytes) / (1 << 20);
}

void LoadCold(benchmark::State& state, size_t terms) {
  for (auto _ : state) {
    auto r = ContentFilter::FromFiles({LexiconPath(terms)}, Policy(), CacheOptions(false));
    benchmark::DoNotOptimize(r.ok());
  }
  state.SetLabel("read + parse + fold + compile");
}

void LoadCached(benchmark::State& state, size_t terms) {
  (void)Filter(terms);  // make sure the cache file exists
  bool from_cache = false;
  for (auto _ : state) {
    auto r = ContentFilter::FromFiles({LexiconPath(terms)}, Policy(), CacheOptions(true));
    from_cache = (*r)->stats().from_cache;
  }
  state.counters["from_cache"] = from_cache ? 1 : 0;
  state.SetLabel("read + hash + load + validate");
}

void BaselineHyperscanCompile(benchmark::State& state, size_t terms) {
  const std::vector<std::string> raw = Terms(terms, false);
  for (auto _ : state) {
    hs_database_t* db = CompileHyperscan(raw, HS_MODE_BLOCK);
    hs_free_database(db);
  }
}

void BaselineHyperscanDeserialize(benchmark::State& state, size_t terms) {
  char* bytes = nullptr;
  size_t length = 0;
  hs_serialize_database(Hs(terms).raw, &bytes, &length);
  for (auto _ : state) {
    hs_database_t* db = nullptr;
    hs_deserialize_database(bytes, length, &db);
    hs_free_database(db);
  }
  std::free(bytes);
}

// Names end in /10k or /100k (the smoke test runs the /10k ones) or /text.
void Register() {
  for (size_t terms : {size_t{10000}, size_t{100000}}) {
    const std::string n = terms == 10000 ? "/10k" : "/100k";
    auto ms = benchmark::kMillisecond;
    benchmark::RegisterBenchmark(("Filter/ScanAll" + n).c_str(), FilterScanAll, terms)->Unit(ms);
    benchmark::RegisterBenchmark(("Baseline/HyperscanRaw" + n).c_str(), BaselineHyperscanRaw, terms)
        ->Unit(ms);
    benchmark::RegisterBenchmark(("Engine/FoldThenHyperscan" + n).c_str(), EngineFoldThenHyperscan,
                                 terms)
        ->Unit(ms);
    benchmark::RegisterBenchmark(("Stream/Chunk16" + n).c_str(), StreamChunk16, terms);
    benchmark::RegisterBenchmark(("Baseline/HyperscanStreamChunk16" + n).c_str(),
                                 BaselineHyperscanStreamChunk16, terms);
    benchmark::RegisterBenchmark(("Stream/FirstToken" + n).c_str(), StreamFirstToken, terms)
        ->Iterations(1);
    benchmark::RegisterBenchmark(("Memory/PerStream" + n).c_str(), MemoryPerStream, terms)
        ->Iterations(1);
    benchmark::RegisterBenchmark(("Memory/Lexicon" + n).c_str(), MemoryLexicon, terms)
        ->Iterations(1);
    benchmark::RegisterBenchmark(("Load/Cold" + n).c_str(), LoadCold, terms)
        ->Unit(ms)
        ->Iterations(terms == 10000 ? 5 : 2);
    benchmark::RegisterBenchmark(("Load/Cached" + n).c_str(), LoadCached, terms)
        ->Unit(ms)
        ->Iterations(terms == 10000 ? 10 : 5);
    benchmark::RegisterBenchmark(("Baseline/HyperscanCompile" + n).c_str(),
                                 BaselineHyperscanCompile, terms)
        ->Unit(ms)
        ->Iterations(1);
    benchmark::RegisterBenchmark(("Baseline/HyperscanDeserialize" + n).c_str(),
                                 BaselineHyperscanDeserialize, terms)
        ->Unit(ms);
  }
  auto ms = benchmark::kMillisecond;
  benchmark::RegisterBenchmark("Fold/RegiongateTable/text", FoldTable)->Unit(ms);
  benchmark::RegisterBenchmark("Fold/Utf8proc/text", FoldUtf8proc)->Unit(ms);
  benchmark::RegisterBenchmark("Fold/ICU/text", FoldIcu)->Unit(ms);
  benchmark::RegisterBenchmark("Fold/OpenCC_T2S/text", T2sOpenCC)->Unit(ms);
}

}  // namespace

int main(int argc, char** argv) {
  Register();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("text_bytes", std::to_string(Text().size()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
