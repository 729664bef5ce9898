#include "regiongate/compliance/yaml_reader.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

namespace rg::compliance::detail {
namespace {

char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLowerAlpha(char c) { return c >= 'a' && c <= 'z'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsHexLower(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }

bool AllOf(std::string_view s, bool (*pred)(char)) { return std::all_of(s.begin(), s.end(), pred); }

// YAML 1.2 core schema, plain scalars only.
bool IsCoreBool(std::string_view s) {
  return s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE";
}
bool IsCoreNull(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}
bool IsCoreInt(std::string_view s) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
    const bool hex = s[1] == 'x';
    return std::all_of(s.begin() + 2, s.end(), [hex](char c) {
      return hex ? std::isxdigit(static_cast<unsigned char>(c)) != 0 : (c >= '0' && c <= '7');
    });
  }
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  return !s.empty() && AllOf(s, IsDigit);
}
bool IsCoreFloat(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s == ".inf" || s == ".Inf" || s == ".INF") return true;
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return true;
  size_t i = 0;
  size_t int_digits = 0;
  while (i < s.size() && IsDigit(s[i])) ++i, ++int_digits;
  size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && IsDigit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

std::optional<int64_t> ParseCoreInt(std::string_view s) {
  int base = 10;
  bool negative = false;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
    base = s[1] == 'x' ? 16 : 8;
    s.remove_prefix(2);
  } else if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  // Accumulate as negative so INT64_MIN fits.
  int64_t value = 0;
  const int64_t min = std::numeric_limits<int64_t>::min();
  for (char c : s) {
    int digit = IsDigit(c) ? c - '0' : Lower(c) - 'a' + 10;
    if (digit < 0 || digit >= base) return std::nullopt;
    if (value < (min + digit) / base) return std::nullopt;
    value = value * base - digit;
  }
  if (!negative) {
    if (value == min) return std::nullopt;
    value = -value;
  }
  return value;
}

std::string Quote(std::string_view s) {
  // Keep messages one line and bounded even for hostile input.
  std::string out = "'";
  size_t n = 0;
  for (char c : s) {
    if (++n > 80) {
      out += "...";
      break;
    }
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += '?';
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

Pos PosOf(const YAML::Node& node, Pos fallback) {
  if (!node.IsDefined() || node.IsNull()) return fallback;
  const YAML::Mark mark = node.Mark();
  if (mark.line < 0 || mark.column < 0) return fallback;
  return {mark.line + 1, mark.column + 1};
}

nlohmann::json ToJson(const YAML::Node& node) {
  switch (TypeOf(node)) {
    case ValueType::kNull:
      return nullptr;
    case ValueType::kBool:
      return node.as<bool>();
    case ValueType::kInt:
      try {
        return node.as<int64_t>();
      } catch (const YAML::Exception&) {
        return node.Scalar();
      }
    case ValueType::kFloat:
      try {
        return node.as<double>();
      } catch (const YAML::Exception&) {
        return node.Scalar();
      }
    case ValueType::kString:
    case ValueType::kOther:
      return node.Scalar();
    case ValueType::kList: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(ToJson(item));
      return out;
    }
    case ValueType::kMap: {
      nlohmann::json out = nlohmann::json::object();
      for (auto it = node.begin(); it != node.end(); ++it)
        out[it->first.Scalar()] = ToJson(it->second);
      return out;
    }
  }
  return nullptr;
}

ValueType TypeOf(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return ValueType::kNull;
  if (node.IsSequence()) return ValueType::kList;
  if (node.IsMap()) return ValueType::kMap;
  if (!node.IsScalar()) return ValueType::kOther;
  const std::string& tag = node.Tag();
  const std::string& s = node.Scalar();
  if (tag == "!") return ValueType::kString;
  static constexpr std::string_view kCore = "tag:yaml.org,2002:";
  if (tag.compare(0, kCore.size(), kCore) == 0) {
    const std::string_view name = std::string_view(tag).substr(kCore.size());
    if (name == "str") return ValueType::kString;
    if (name == "bool") return IsCoreBool(s) ? ValueType::kBool : ValueType::kOther;
    if (name == "int") return IsCoreInt(s) ? ValueType::kInt : ValueType::kOther;
    if (name == "float")
      return IsCoreFloat(s) || IsCoreInt(s) ? ValueType::kFloat : ValueType::kOther;
    if (name == "null") return ValueType::kNull;
    return ValueType::kOther;
  }
  if (tag != "?") return ValueType::kString;  // a local tag: the text is what counts
  if (IsCoreNull(s)) return ValueType::kNull;
  if (IsCoreBool(s)) return ValueType::kBool;
  if (IsCoreInt(s)) return ValueType::kInt;
  if (IsCoreFloat(s)) return ValueType::kFloat;
  return ValueType::kString;
}

std::string_view Describe(ValueType type) {
  switch (type) {
    case ValueType::kNull:
      return "an empty value";
    case ValueType::kBool:
      return "a boolean";
    case ValueType::kInt:
      return "an integer";
    case ValueType::kFloat:
      return "a number";
    case ValueType::kString:
      return "a string";
    case ValueType::kList:
      return "a list";
    case ValueType::kMap:
      return "a mapping";
    case ValueType::kOther:
      break;
  }
  return "an unsupported value";
}

size_t EditDistance(std::string_view a, std::string_view b) {
  // Bounded: identifiers people type are short; hostile input must not cost O(n*m) memory.
  if (a.size() > 256 || b.size() > 256) return std::max(a.size(), b.size());
  const size_t n = a.size();
  const size_t m = b.size();
  std::vector<size_t> prev2(m + 1), prev(m + 1), cur(m + 1);
  for (size_t j = 0; j <= m; ++j) prev[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = Lower(a[i - 1]) == Lower(b[j - 1]) ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && Lower(a[i - 1]) == Lower(b[j - 2]) &&
          Lower(a[i - 2]) == Lower(b[j - 1])) {
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
      }
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[m];
}

std::string NearestMatch(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const std::string& candidate : candidates) {
    if (candidate == word) continue;
    const size_t d = EditDistance(word, candidate);
    const size_t limit = std::max<size_t>(1, std::min(word.size(), candidate.size()) / 3);
    if (d <= limit && d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates) {
  std::string match = NearestMatch(word, candidates);
  return match.empty() ? std::string() : "did you mean '" + match + "'?";
}

std::string JoinList(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

namespace {

/// Counts documents and remembers where the second starts.
class DocumentCounter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents == 2) second = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  int documents = 0;
  YAML::Mark second = YAML::Mark::null_mark();
};

Pos PosOfMark(const YAML::Mark& mark) {
  if (mark.line < 0 || mark.column < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

}  // namespace

bool ParseYaml(std::string_view text, const std::string& file, YAML::Node* root, Diagnostics* out) {
  Reader reader(file, out);
  const std::string input(text);
  YAML::Node first;
  try {
    // Never YAML::LoadAll: in yaml-cpp 0.7 it loops forever, allocating, on input such as
    // "," (yaml-cpp issue #1040, fixed upstream after 0.7 by PR #1319). Load reads one
    // document; a bounded parse below counts the rest.
    first = YAML::Load(input);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp 0.7 gives this one the message "bad file".
    reader.Report(PosOfMark(e.mark), "RG-M002",
                  "invalid YAML: nested deeper than " + std::to_string(e.depth()) +
                      " levels; manifests need only a few");
    return false;
  } catch (const YAML::Exception& e) {
    reader.Report(PosOfMark(e.mark), "RG-M002",
                  "invalid YAML: " + e.msg + "; fix the syntax at this position");
    return false;
  } catch (const std::exception& e) {
    reader.Report({}, "RG-M002", std::string("invalid YAML: ") + e.what());
    return false;
  }
  if (TypeOf(first) == ValueType::kNull) {
    reader.Report({}, "RG-M003",
                  "the file holds no YAML document; write the keys at the top level");
    return false;
  }
  DocumentCounter counter;
  try {
    std::istringstream in(input);
    YAML::Parser parser(in);
    for (int i = 0; i < 2 && parser.HandleNextDocument(counter); ++i) {
    }
  } catch (const YAML::Exception& e) {
    // A syntax error after the first document: it is still a second document.
    if (counter.documents < 2) {
      counter.documents = 2;
      counter.second = e.mark;
    }
  }
  if (counter.documents > 1) {
    reader.Report(PosOfMark(counter.second), "RG-M003",
                  "the file holds more than one YAML document; keep one and remove the '---' "
                  "separators");
    return false;
  }
  *root = first;
  return true;
}

bool ReadFileBytes(const std::filesystem::path& path, const std::string& file, std::string* bytes,
                   Diagnostics* out) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    Reader(file, out).Report({}, "RG-M001",
                             "cannot read file: it is a directory; pass a YAML file");
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Reader(file, out).Report({}, "RG-M001",
                             std::string("cannot read file: ") + std::strerror(errno) +
                                 "; check the path and permissions");
    return false;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *bytes = buffer.str();
  return true;
}

// ---- Reader ----------------------------------------------------------------------------

void Reader::Report(Pos at, std::string id, std::string message, std::string suggestion) {
  ++errors_;
  out_->push_back(Diagnostic{file_, at.line, at.column, Severity::kError, std::move(id),
                             std::move(message), std::move(suggestion)});
}

void Reader::Warn(Pos at, std::string id, std::string message, std::string suggestion) {
  out_->push_back(Diagnostic{file_, at.line, at.column, Severity::kWarning, std::move(id),
                             std::move(message), std::move(suggestion)});
}

MapReader Reader::Root(const YAML::Node& root, std::vector<Field> fields) {
  return MapReader(*this, Value{root, PosOf(root, {1, 1}), ""}, std::move(fields));
}

MapReader Reader::Map(const Value& value, std::vector<Field> fields) {
  return MapReader(*this, value, std::move(fields));
}

void Reader::WrongType(const Value& v, std::string_view what) {
  if (v.path.empty()) {
    Report(v.pos, "RG-M007",
           "the document must be " + std::string(what) + ", got " +
               std::string(Describe(TypeOf(v.node))));
    return;
  }
  Report(v.pos, "RG-M007",
         "'" + v.path + "' must be " + std::string(what) + ", got " +
             std::string(Describe(TypeOf(v.node))));
}

std::optional<std::string> Reader::String(const Value& v, bool allow_empty) {
  const ValueType type = TypeOf(v.node);
  if (type == ValueType::kInt || type == ValueType::kFloat || type == ValueType::kBool) {
    Report(v.pos, "RG-M007",
           "'" + v.path + "' must be a string, got " + std::string(Describe(type)) +
               "; put it in quotes");
    return std::nullopt;
  }
  if (type != ValueType::kString) {
    WrongType(v, "a string");
    return std::nullopt;
  }
  std::string s = v.node.Scalar();
  if (!allow_empty && s.empty()) {
    Report(v.pos, "RG-M007", "'" + v.path + "' must not be empty");
    return std::nullopt;
  }
  return s;
}

std::optional<int64_t> Reader::Integer(const Value& v, int64_t min, int64_t max) {
  const std::string range = " from " + std::to_string(min) + " to " + std::to_string(max);
  if (TypeOf(v.node) != ValueType::kInt) {
    WrongType(v, "an integer" + range);
    return std::nullopt;
  }
  std::optional<int64_t> value = ParseCoreInt(v.node.Scalar());
  if (!value || *value < min || *value > max) {
    Report(v.pos, "RG-M010",
           "'" + v.path + "' must be an integer" + range + ", got " + Quote(v.node.Scalar()));
    return std::nullopt;
  }
  return value;
}

std::optional<double> Reader::Number(const Value& v) {
  const ValueType type = TypeOf(v.node);
  if (type != ValueType::kInt && type != ValueType::kFloat) {
    WrongType(v, "a number");
    return std::nullopt;
  }
  try {
    return v.node.as<double>();
  } catch (const YAML::Exception&) {
    if (std::optional<int64_t> i = ParseCoreInt(v.node.Scalar())) return static_cast<double>(*i);
    Report(v.pos, "RG-M010", "'" + v.path + "' is not a number this build can read");
    return std::nullopt;
  }
}

std::optional<bool> Reader::Boolean(const Value& v) {
  if (TypeOf(v.node) != ValueType::kBool) {
    WrongType(v, "a boolean (true or false)");
    return std::nullopt;
  }
  return Lower(v.node.Scalar()[0]) == 't';
}

std::optional<std::string> Reader::Enum(const Value& v, const std::vector<std::string>& allowed) {
  std::optional<std::string> s = String(v);
  if (!s) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), *s) != allowed.end()) return s;
  Report(
      v.pos, "RG-M008",
      "'" + v.path + "' has unknown value " + Quote(*s) + "; expected one of " + JoinList(allowed),
      DidYouMean(*s, allowed));
  return std::nullopt;
}

std::optional<std::string> Reader::Checked(const Value& v, bool (*valid)(std::string_view),
                                           std::string_view what) {
  std::optional<std::string> s = String(v);
  if (!s) return std::nullopt;
  if (valid(*s)) return s;
  Report(v.pos, "RG-M009", "'" + v.path + "' must be " + std::string(what) + ", got " + Quote(*s));
  return std::nullopt;
}

std::optional<std::vector<Value>> Reader::List(const Value& v, bool allow_empty) {
  if (TypeOf(v.node) != ValueType::kList) {
    WrongType(v, "a list");
    return std::nullopt;
  }
  std::vector<Value> items;
  size_t index = 0;
  for (auto it = v.node.begin(); it != v.node.end(); ++it, ++index) {
    items.push_back(Value{*it, PosOf(*it, v.pos), v.path + "[" + std::to_string(index) + "]"});
  }
  if (!allow_empty && items.empty()) {
    Report(v.pos, "RG-M007", "'" + v.path + "' must list at least one item");
  }
  return items;
}

std::vector<std::string> Reader::StringList(const Value& v, bool (*valid)(std::string_view),
                                            std::string_view what, bool allow_empty) {
  std::vector<std::string> out;
  std::optional<std::vector<Value>> items = List(v, allow_empty);
  if (!items) return out;
  for (const Value& item : *items) {
    std::optional<std::string> s = valid ? Checked(item, valid, what) : String(item);
    if (!s) continue;
    if (std::find(out.begin(), out.end(), *s) != out.end()) {
      Report(item.pos, "RG-M011",
             "'" + item.path + "' repeats " + Quote(*s) + "; list each value once");
      continue;
    }
    out.push_back(std::move(*s));
  }
  return out;
}

std::vector<std::string> Reader::EnumList(const Value& v, const std::vector<std::string>& allowed,
                                          bool allow_empty) {
  std::vector<std::string> out;
  std::optional<std::vector<Value>> items = List(v, allow_empty);
  if (!items) return out;
  for (const Value& item : *items) {
    std::optional<std::string> s = Enum(item, allowed);
    if (!s) continue;
    if (std::find(out.begin(), out.end(), *s) != out.end()) {
      Report(item.pos, "RG-M011",
             "'" + item.path + "' repeats " + Quote(*s) + "; list each value once");
      continue;
    }
    out.push_back(std::move(*s));
  }
  return out;
}

// ---- MapReader -------------------------------------------------------------------------

MapReader::MapReader(Reader& reader, const Value& value, std::vector<Field> fields)
    : reader_(reader), value_(value) {
  if (TypeOf(value.node) != ValueType::kMap) {
    reader_.WrongType(value, "a mapping of keys");
    return;
  }
  ok_ = true;
  std::vector<std::string> known;
  known.reserve(fields.size());
  for (const Field& f : fields) known.push_back(f.name);
  const std::string where = value_.path.empty() ? "" : " in " + value_.path;

  std::map<std::string, Pos, std::less<>> seen;
  for (auto it = value.node.begin(); it != value.node.end(); ++it) {
    // Copies, not references: yaml-cpp iterators hand out a temporary proxy.
    const YAML::Node key_node = it->first;
    const Pos key_pos = PosOf(key_node, value_.pos);
    if (TypeOf(key_node) != ValueType::kString && TypeOf(key_node) != ValueType::kInt &&
        TypeOf(key_node) != ValueType::kBool && TypeOf(key_node) != ValueType::kFloat) {
      reader_.Report(key_pos, "RG-M004",
                     "keys must be plain names, got " + std::string(Describe(TypeOf(key_node))) +
                         " as a key" + where);
      continue;
    }
    const std::string key = key_node.Scalar();
    if (auto first = seen.find(key); first != seen.end()) {
      reader_.Report(key_pos, "RG-M005",
                     "duplicate key " + Quote(key) + where + ", first set at line " +
                         std::to_string(first->second.line) + "; keep only one");
      continue;
    }
    seen.emplace(key, key_pos);
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string suggestion = DidYouMean(key, known);
      std::string message = "unknown key " + Quote(key) + where;
      if (suggestion.empty()) message += "; expected one of " + JoinList(known);
      reader_.Report(key_pos, "RG-M004", std::move(message), std::move(suggestion));
      continue;
    }
    entries_.push_back(Entry{key, key_node, it->second});
  }
  for (const Field& f : fields) {
    if (f.required && seen.find(f.name) == seen.end()) {
      reader_.Report(value_.pos, "RG-M006", "missing required key " + Quote(f.name) + where);
    }
  }
}

bool MapReader::Has(std::string_view key) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [key](const Entry& e) { return e.key == key; });
}

std::string MapReader::PathOf(std::string_view key) const {
  return value_.path.empty() ? std::string(key) : value_.path + "." + std::string(key);
}

std::optional<Value> MapReader::Get(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) {
      const Pos key_pos = PosOf(e.key_node, value_.pos);
      return Value{e.value, PosOf(e.value, key_pos), PathOf(key)};
    }
  }
  return std::nullopt;
}

Pos MapReader::KeyPos(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) return PosOf(e.key_node, value_.pos);
  }
  return value_.pos;
}

std::optional<std::string> MapReader::String(std::string_view key, bool allow_empty) const {
  std::optional<Value> v = Get(key);
  return v ? reader_.String(*v, allow_empty) : std::nullopt;
}
std::optional<int64_t> MapReader::Integer(std::string_view key, int64_t min, int64_t max) const {
  std::optional<Value> v = Get(key);
  return v ? reader_.Integer(*v, min, max) : std::nullopt;
}
std::optional<bool> MapReader::Boolean(std::string_view key) const {
  std::optional<Value> v = Get(key);
  return v ? reader_.Boolean(*v) : std::nullopt;
}
std::optional<std::string> MapReader::Enum(std::string_view key,
                                           const std::vector<std::string>& allowed) const {
  std::optional<Value> v = Get(key);
  return v ? reader_.Enum(*v, allowed) : std::nullopt;
}
std::optional<std::string> MapReader::Checked(std::string_view key, bool (*valid)(std::string_view),
                                              std::string_view what) const {
  std::optional<Value> v = Get(key);
  return v ? reader_.Checked(*v, valid, what) : std::nullopt;
}
std::optional<std::vector<Value>> MapReader::List(std::string_view key, bool allow_empty) const {
  std::optional<Value> v = Get(key);
  return v ? reader_.List(*v, allow_empty) : std::nullopt;
}
std::vector<std::string> MapReader::StringList(std::string_view key,
                                               bool (*valid)(std::string_view),
                                               std::string_view what, bool allow_empty) const {
  std::optional<Value> v = Get(key);
  return v ? reader_.StringList(*v, valid, what, allow_empty) : std::vector<std::string>{};
}
std::vector<std::string> MapReader::EnumList(std::string_view key,
                                             const std::vector<std::string>& allowed,
                                             bool allow_empty) const {
  std::optional<Value> v = Get(key);
  return v ? reader_.EnumList(*v, allowed, allow_empty) : std::vector<std::string>{};
}

// ---- validators ------------------------------------------------------------------------

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 64 || !IsLowerAlpha(s[0])) return false;
  return AllOf(s, [](char c) { return IsLowerAlpha(c) || IsDigit(c) || c == '_' || c == '-'; });
}

bool IsSettingKey(std::string_view s) {
  if (s.empty() || s.size() > 64 || !IsLowerAlpha(s[0])) return false;
  return AllOf(s, [](char c) { return IsLowerAlpha(c) || IsDigit(c) || c == '_'; });
}

bool IsModelId(std::string_view s) {
  if (s.empty() || s.size() > 128 || !(IsAlpha(s[0]) || IsDigit(s[0]))) return false;
  return AllOf(s, [](char c) {
    return IsAlpha(c) || IsDigit(c) || c == '.' || c == '_' || c == ':' || c == '/' || c == '-';
  });
}

bool IsSha256Hex(std::string_view s) { return s.size() == 64 && AllOf(s, IsHexLower); }

namespace {
bool IsNumericIdentifier(std::string_view s) {
  return !s.empty() && AllOf(s, IsDigit) && (s.size() == 1 || s[0] != '0');
}
bool IsAlnumHyphen(std::string_view s) {
  return !s.empty() && AllOf(s, [](char c) { return IsAlpha(c) || IsDigit(c) || c == '-'; });
}
template <class Pred>
bool DotSeparated(std::string_view s, Pred pred) {
  while (true) {
    const size_t dot = s.find('.');
    if (!pred(s.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}
}  // namespace

bool IsSemver(std::string_view s) {
  std::string_view build;
  if (size_t plus = s.find('+'); plus != std::string_view::npos) {
    build = s.substr(plus + 1);
    s = s.substr(0, plus);
    if (!DotSeparated(build, IsAlnumHyphen)) return false;
  }
  std::string_view pre;
  bool has_pre = false;
  if (size_t dash = s.find('-'); dash != std::string_view::npos) {
    pre = s.substr(dash + 1);
    s = s.substr(0, dash);
    has_pre = true;
  }
  int parts = 0;
  if (!DotSeparated(s, [&parts](std::string_view p) {
        ++parts;
        return IsNumericIdentifier(p);
      })) {
    return false;
  }
  if (parts != 3) return false;
  if (has_pre) {
    return DotSeparated(pre, [](std::string_view p) {
      if (!IsAlnumHyphen(p)) return false;
      return !AllOf(p, IsDigit) || IsNumericIdentifier(p);
    });
  }
  return true;
}

bool IsHttpUrl(std::string_view s) {
  if (s.substr(0, 8) == "https://") {
    s.remove_prefix(8);
  } else if (s.substr(0, 7) == "http://") {
    s.remove_prefix(7);
  } else {
    return false;
  }
  const size_t slash = s.find('/');
  std::string_view authority = s.substr(0, slash);
  std::string_view rest = slash == std::string_view::npos ? std::string_view() : s.substr(slash);
  std::string_view host = authority;
  if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    std::string_view port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 || !AllOf(port, IsDigit)) return false;
  }
  if (host.empty() || host.front() == '.' || host.front() == '-') return false;
  if (!AllOf(host, [](char c) { return IsAlpha(c) || IsDigit(c) || c == '.' || c == '-'; })) {
    return false;
  }
  return AllOf(rest, [](char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7f; });
}

bool IsIsoDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!IsDigit(s[i])) return false;
  }
  const int year = std::stoi(std::string(s.substr(0, 4)));
  const int month = std::stoi(std::string(s.substr(5, 2)));
  const int day = std::stoi(std::string(s.substr(8, 2)));
  if (month < 1 || month > 12 || day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  const int max_day = month == 2 && leap ? 29 : kDays[month - 1];
  return day <= max_day;
}

bool IsLocaleTag(std::string_view s) {
  // language
  size_t i = 0;
  while (i < s.size() && IsLowerAlpha(s[i])) ++i;
  if (i < 2 || i > 3) return false;
  if (i == s.size()) return true;
  std::string_view rest = s.substr(i);
  if (rest[0] != '-') return false;
  rest.remove_prefix(1);
  const size_t dash = rest.find('-');
  std::string_view sub = rest.substr(0, dash);
  auto is_region = [](std::string_view r) {
    return (r.size() == 2 &&
            std::all_of(r.begin(), r.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) ||
           (r.size() == 3 && std::all_of(r.begin(), r.end(), IsDigit));
  };
  if (sub.size() == 4 && (sub[0] >= 'A' && sub[0] <= 'Z') &&
      std::all_of(sub.begin() + 1, sub.end(), IsLowerAlpha)) {
    if (dash == std::string_view::npos) return true;
    return is_region(rest.substr(dash + 1));
  }
  return dash == std::string_view::npos && is_region(sub);
}

}  // namespace rg::compliance::detail

namespace rg::compliance::detail {

void Reader::CheckSchemaVersion(const MapReader& doc, int64_t supported) {
  std::optional<Value> v = doc.Get("schema_version");
  if (!v) return;
  if (std::optional<int64_t> version = Integer(*v, 0, 1000000); version && *version != supported) {
    Report(v->pos, "RG-M013",
           "unsupported schema_version " + std::to_string(*version) +
               "; this build reads schema_version " + std::to_string(supported));
  }
}

}  // namespace rg::compliance::detail
