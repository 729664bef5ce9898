#include "regiongate/compliance/lexicon.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "regiongate/compliance/text_normalizer.hpp"
#include "regiongate/compliance/yaml_reader.hpp"

namespace rg::compliance {
namespace {

constexpr size_t kMaxLineBytes = 4096;

const std::vector<std::string> kColumns = {"term", "category", "action", "locale", "match", "note"};
const std::vector<std::string> kActions = {"block", "mask", "flag"};
const std::vector<std::string> kMatchModes = {"word", "part"};

enum Column { kTerm, kCategory, kAction, kLocale, kMatch, kNote, kColumnCount };

bool IsSpace(char c) { return c == ' ' || c == '\r'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// 1-based column, counted in code points (what editors show), of byte `offset` of `line`.
int ColumnOf(std::string_view line, size_t offset) {
  int column = 1;
  for (size_t i = 0; i < offset && i < line.size(); ++i) {
    if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80) ++column;
  }
  return column;
}

// Byte offset of the first invalid UTF-8 sequence, or npos.
size_t FirstInvalidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = 0;
  while (i < s.size()) {
    char32_t cp = 0;
    const size_t used = DecodeUtf8(p + i, s.size() - i, /*at_end=*/true, &cp);
    if (cp == kInvalidUtf8) return i;
    i += used;
  }
  return std::string_view::npos;
}

bool IsRegionCategory(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() < 'a' || s.front() > 'z') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

FilterAction ActionFrom(std::string_view s) {
  if (s == "flag") return FilterAction::kFlag;
  if (s == "mask") return FilterAction::kMask;
  return FilterAction::kBlock;
}

class LexiconParser {
 public:
  LexiconParser(std::string file, Diagnostics* out) : file_(std::move(file)), out_(out) {}

  void Parse(std::string_view text, Lexicon* lexicon) {
    lexicon->file = file_;
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // byte-order mark
    int line_number = 0;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(pos, end - pos);
      pos = end + 1;
      ++line_number;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (Trim(line).empty() || line.front() == '#') continue;
      if (line.size() > kMaxLineBytes) {
        Error(line_number, 1, "RG-F015",
              "line is " + std::to_string(line.size()) + " bytes long; lines are limited to " +
                  std::to_string(kMaxLineBytes) + " bytes, split or shorten the term");
        continue;
      }
      if (!have_header_) {
        ParseHeader(line, line_number);
        if (!have_header_) return;  // nothing below can be read without columns
        continue;
      }
      ParseRow(line, line_number, lexicon);
    }
    if (!have_header_) {
      Error(0, 0, "RG-F002",
            "lexicon has no header line; start it with 'term<TAB>category<TAB>action' "
            "(optional columns: locale, match, note)");
      return;
    }
    if (lexicon->terms.empty() && !HasErrors(*out_)) {
      Warn(0, 0, "RG-F014", "lexicon has no terms; it matches nothing");
    }
  }

 private:
  void ParseHeader(std::string_view line, int line_number) {
    std::array<bool, kColumnCount> seen{};
    size_t start = 0;
    bool ok = true;
    while (true) {
      const size_t tab = line.find('\t', start);
      const std::string_view name =
          Trim(line.substr(start, tab == std::string_view::npos ? line.npos : tab - start));
      const int column = ColumnOf(line, start);
      auto it = std::find(kColumns.begin(), kColumns.end(), name);
      if (it == kColumns.end()) {
        ok = false;
        if (columns_.empty() && name.find(' ') != std::string_view::npos &&
            line.find('\t') == std::string_view::npos) {
          Error(line_number, column, "RG-F002",
                "the header line '" + std::string(name) +
                    "' has no tabs; separate the column names with one tab each");
          return;
        }
        Error(line_number, column, "RG-F003",
              "unknown column '" + std::string(name) + "' in the header; columns are " +
                  detail::JoinList(kColumns),
              detail::DidYouMean(name, kColumns));
      } else {
        const auto index = static_cast<size_t>(it - kColumns.begin());
        if (seen[index]) {
          ok = false;
          Error(line_number, column, "RG-F004",
                "column '" + std::string(name) + "' appears twice in the header; keep one");
        }
        seen[index] = true;
        columns_.push_back(static_cast<Column>(index));
      }
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    for (Column required : {kTerm, kCategory, kAction}) {
      if (!seen[required]) {
        ok = false;
        Error(line_number, 1, "RG-F004",
              "the header has no '" + kColumns[required] +
                  "' column; the header needs term, category and action");
      }
    }
    have_header_ = ok;
  }

  void ParseRow(std::string_view line, int line_number, Lexicon* lexicon) {
    std::array<std::string_view, kColumnCount> fields{};
    std::array<int, kColumnCount> field_columns{};
    size_t start = 0;
    size_t count = 0;
    while (true) {
      const size_t tab = line.find('\t', start);
      const std::string_view field =
          line.substr(start, tab == std::string_view::npos ? line.npos : tab - start);
      if (count < columns_.size()) {
        fields[columns_[count]] = Trim(field);
        field_columns[columns_[count]] = ColumnOf(line, start);
      }
      ++count;
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (count > columns_.size() || (count < columns_.size() && !OnlyOptionalAfter(count))) {
      Error(line_number, 1, "RG-F005",
            "line has " + std::to_string(count) + " fields but the header has " +
                std::to_string(columns_.size()) + "; separate fields with one tab each");
      return;
    }
    if (const size_t bad = FirstInvalidUtf8(line); bad != std::string_view::npos) {
      Error(line_number, ColumnOf(line, bad), "RG-F006",
            "invalid UTF-8 byte; save the lexicon as UTF-8");
      return;
    }
    bool ok = true;
    LexiconTerm term;
    term.line = line_number;
    term.text = std::string(fields[kTerm]);
    if (term.text.empty()) {
      Error(line_number, field_columns[kTerm], "RG-F007",
            "empty term; write the term in the first column or delete the line");
      ok = false;
    } else {
      term.folded = FoldText(term.text);
      if (term.folded.empty()) {
        Error(line_number, field_columns[kTerm], "RG-F008",
              "term '" + term.text +
                  "' has only spaces, punctuation or symbols, which the filter ignores; it "
                  "could never match, write letters or digits");
        ok = false;
      } else if (term.folded.size() > kMaxTermLength) {
        Error(line_number, field_columns[kTerm], "RG-F009",
              "term is " + std::to_string(term.folded.size()) +
                  " characters long after folding; terms are limited to " +
                  std::to_string(kMaxTermLength) + ", use a shorter distinctive part");
        ok = false;
      }
    }
    const std::string category(fields[kCategory]);
    if (!IsLexiconCategory(category)) {
      ok = false;
      const bool looks_tc260 = !category.empty() && (category[0] == 'A' || category[0] == 'a');
      Error(line_number, field_columns[kCategory], "RG-F010",
            "unknown category '" + category +
                "'; use a TC260-003 risk code (A.1.a to A.5.b) or a region category (a "
                "lower-case id such as 'us-sample')",
            looks_tc260 ? detail::DidYouMean(category, Tc260Categories()) : std::string());
    }
    term.category = category;
    const std::string action(fields[kAction]);
    if (std::find(kActions.begin(), kActions.end(), action) == kActions.end()) {
      ok = false;
      Error(line_number, field_columns[kAction], "RG-F011",
            "unknown action '" + action + "'; use block, mask or flag",
            detail::DidYouMean(action, kActions));
    }
    term.action = ActionFrom(action);
    term.locale = std::string(fields[kLocale]);
    if (!term.locale.empty() && !detail::IsLocaleTag(term.locale)) {
      ok = false;
      Error(line_number, field_columns[kLocale], "RG-F012",
            "locale '" + term.locale +
                "' is not a locale tag such as 'zh-CN', 'ja' or 'zh-Hant-HK'; leave it empty "
                "for every locale");
    }
    const std::string match(fields[kMatch]);
    if (!match.empty() && match != "word" && match != "part") {
      ok = false;
      Error(line_number, field_columns[kMatch], "RG-F016",
            "unknown match mode '" + match +
                "'; use 'word' (whole words, the default) or 'part' (also inside words)",
            detail::DidYouMean(match, kMatchModes));
    }
    term.whole_words = match != "part";
    if (!ok) return;
    auto [it, inserted] = seen_.emplace(term.folded, lexicon->terms.size());
    if (!inserted) {
      LexiconTerm& first = lexicon->terms[it->second];
      const bool stronger = term.action > first.action;
      Warn(line_number, field_columns[kTerm], "RG-F013",
           "term '" + term.text + "' matches the same text as '" + first.text + "' on line " +
               std::to_string(first.line) + "; " +
               (stronger ? "this line's action '" + std::string(ToString(term.action)) +
                               "' is stronger and replaces it"
                         : "line " + std::to_string(first.line) + " is kept") +
               ", delete one of them");
      if (stronger) first = std::move(term);
      return;
    }
    lexicon->terms.push_back(std::move(term));
  }

  bool OnlyOptionalAfter(size_t count) const {
    for (size_t i = count; i < columns_.size(); ++i) {
      if (columns_[i] != kLocale && columns_[i] != kMatch && columns_[i] != kNote) return false;
    }
    return true;
  }

  void Error(int line, int column, std::string id, std::string message,
             std::string suggestion = {}) {
    out_->push_back({file_, line, column, Severity::kError, std::move(id), std::move(message),
                     std::move(suggestion)});
  }
  void Warn(int line, int column, std::string id, std::string message) {
    out_->push_back(
        {file_, line, column, Severity::kWarning, std::move(id), std::move(message), {}});
  }

  std::string file_;
  Diagnostics* out_;
  bool have_header_ = false;
  std::vector<Column> columns_;
  std::unordered_map<std::u32string, size_t> seen_;
};

}  // namespace

std::string_view ToString(FilterAction action) {
  switch (action) {
    case FilterAction::kFlag:
      return "flag";
    case FilterAction::kMask:
      return "mask";
    case FilterAction::kBlock:
      return "block";
  }
  return "block";
}

const std::vector<std::string>& Tc260Categories() {
  static const std::vector<std::string> codes = [] {
    std::vector<std::string> out;
    const std::array<std::pair<char, char>, 5> groups = {
        {{'1', 'h'}, {'2', 'i'}, {'3', 'e'}, {'4', 'g'}, {'5', 'b'}}};
    for (const auto& [group, last] : groups) {
      for (char c = 'a'; c <= last; ++c) out.push_back(std::string("A.") + group + '.' + c);
    }
    return out;
  }();
  return codes;
}

bool IsLexiconCategory(std::string_view category) {
  const std::vector<std::string>& codes = Tc260Categories();
  if (std::find(codes.begin(), codes.end(), category) != codes.end()) return true;
  return IsRegionCategory(category);
}

Diagnostics ParseLexicon(std::string_view text, const std::string& file, Lexicon* lexicon) {
  Diagnostics out;
  Lexicon parsed;
  LexiconParser(file, &out).Parse(text, &parsed);
  *lexicon = std::move(parsed);
  return out;
}

bool ReadLexiconBytes(const std::filesystem::path& path, const std::string& file,
                      std::string* bytes, Diagnostics* out) {
  std::error_code ec;
  std::string reason;
  if (std::filesystem::is_directory(path, ec)) {
    reason = "it is a directory";
  } else if (std::ifstream in(path, std::ios::binary); !in) {
    reason = std::strerror(errno);
  } else {
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (!in.bad()) {
      *bytes = std::move(buffer).str();
      return true;
    }
    reason = "read error";
  }
  out->push_back({file,
                  0,
                  0,
                  Severity::kError,
                  "RG-F001",
                  "cannot read lexicon: " + reason +
                      "; check the path in content_policy.lexicons and the file's permissions",
                  {}});
  return false;
}

Diagnostics LoadLexicon(const std::filesystem::path& path, Lexicon* lexicon,
                        const std::string& file) {
  const std::string name = file.empty() ? path.string() : file;
  Diagnostics out;
  std::string bytes;
  if (!ReadLexiconBytes(path, name, &bytes, &out)) {
    *lexicon = Lexicon{name, {}};
    return out;
  }
  return ParseLexicon(bytes, name, lexicon);
}

}  // namespace rg::compliance
