// Reading YAML files that people edit (plug-in manifests, region manifests, the filing
// registry) with positions: every problem becomes a Diagnostic FILE:LINE:COL, and reading
// carries on after a problem so that all of them are reported at once.
// Internal: shared by rg::compliance and the conformance harness (whose case files get the
// manifests' diagnostics this way), not an API for anyone else; it exposes yaml-cpp, so an
// includer links yaml-cpp itself. The walk is driven by the expected shape, never by the
// input, so cyclic aliases and deep nesting in hostile input cannot recurse without bound.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "regiongate/compliance/diagnostic.hpp"

namespace rg::compliance::detail {

/// 1-based position in a file; {0, 0} means "the whole file".
struct Pos {
  int line = 0;
  int column = 0;
};

/// Position of a node, or `fallback` when yaml-cpp has none (null values, empty documents).
Pos PosOf(const YAML::Node& node, Pos fallback = {});

/// How a scalar resolves under the YAML 1.2 core schema (what editors and JSON Schema see):
/// quoted scalars are strings; plain ones may be null, booleans, integers or floats.
enum class ValueType { kNull, kBool, kInt, kFloat, kString, kList, kMap, kOther };
ValueType TypeOf(const YAML::Node& node);
/// "a string", "an integer", "a list", ... for messages.
std::string_view Describe(ValueType type);
/// A YAML value as JSON, with scalars typed as TypeOf reads them (an integer or float too
/// large for its C++ type stays the string it was written as).
nlohmann::json ToJson(const YAML::Node& node);

/// Optimal-string-alignment distance, ASCII case-insensitive.
size_t EditDistance(std::string_view a, std::string_view b);
/// The candidate nearest to `word` when it is close enough to be a plausible typo; else "".
std::string NearestMatch(std::string_view word, const std::vector<std::string>& candidates);
/// "did you mean 'x'?" or "" when nothing is close.
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

/// Comma-separated list for messages: "a, b, c".
std::string JoinList(const std::vector<std::string>& items);

/// Parses YAML text. Reports syntax errors, an empty document, and more than one document.
/// Returns false when there is nothing to read.
bool ParseYaml(std::string_view text, const std::string& file, YAML::Node* root, Diagnostics* out);

/// Reads a whole file as bytes; reports an unreadable file as a whole-file diagnostic.
bool ReadFileBytes(const std::filesystem::path& path, const std::string& file, std::string* bytes,
                   Diagnostics* out);

/// A value found in a document with where it is and how to name it in messages.
struct Value {
  YAML::Node node;
  Pos pos;
  std::string path;  ///< e.g. "endpoints[0].kind"; the key name at the top level
};

/// A key a mapping accepts.
struct Field {
  std::string name;
  bool required = false;
};

class MapReader;

/// Collects diagnostics for one file and converts values with type checks.
class Reader {
 public:
  Reader(std::string file, Diagnostics* out) : file_(std::move(file)), out_(out) {}

  const std::string& file() const { return file_; }
  void Report(Pos at, std::string id, std::string message, std::string suggestion = {});
  void Warn(Pos at, std::string id, std::string message, std::string suggestion = {});
  size_t error_count() const { return errors_; }

  /// The document root as a mapping with the given fields.
  MapReader Root(const YAML::Node& root, std::vector<Field> fields);
  /// A nested mapping.
  MapReader Map(const Value& value, std::vector<Field> fields);
  /// Reports RG-M013 when the document's schema_version is not `supported`.
  void CheckSchemaVersion(const MapReader& doc, int64_t supported);

  std::optional<std::string> String(const Value& v, bool allow_empty = false);
  std::optional<int64_t> Integer(const Value& v, int64_t min, int64_t max);
  std::optional<double> Number(const Value& v);
  std::optional<bool> Boolean(const Value& v);
  /// A string from a closed set; suggests the nearest allowed value.
  std::optional<std::string> Enum(const Value& v, const std::vector<std::string>& allowed);
  /// A string accepted by `valid`; `what` completes "'path' must be WHAT, got 'x'".
  std::optional<std::string> Checked(const Value& v, bool (*valid)(std::string_view),
                                     std::string_view what);
  /// A list; items carry paths like "path[3]". Wrong type yields nullopt.
  std::optional<std::vector<Value>> List(const Value& v, bool allow_empty = true);
  /// A list of strings each accepted by `valid` (nullptr accepts any non-empty string),
  /// with duplicates reported. Bad items are reported and skipped.
  std::vector<std::string> StringList(const Value& v, bool (*valid)(std::string_view) = nullptr,
                                      std::string_view what = {}, bool allow_empty = true);
  std::vector<std::string> EnumList(const Value& v, const std::vector<std::string>& allowed,
                                    bool allow_empty = true);

  /// Reports "'path' must be WHAT, got TYPE".
  void WrongType(const Value& v, std::string_view what);

 private:
  std::string file_;
  Diagnostics* out_;
  size_t errors_ = 0;
};

/// One mapping being read. Construction reports a value that is not a mapping, duplicate
/// keys (yaml-cpp silently keeps the first), unknown keys with the nearest known key, and
/// missing required keys. Lookups use the first occurrence of a key.
class MapReader {
 public:
  MapReader(Reader& reader, const Value& value, std::vector<Field> fields);

  bool ok() const { return ok_; }
  bool Has(std::string_view key) const;
  /// The value for `key`, when present. Null values are present (they are type errors for
  /// every field that is not nullable).
  std::optional<Value> Get(std::string_view key) const;
  Pos KeyPos(std::string_view key) const;
  const Pos& pos() const { return value_.pos; }
  const std::string& path() const { return value_.path; }
  std::string PathOf(std::string_view key) const;

  std::optional<std::string> String(std::string_view key, bool allow_empty = false) const;
  std::optional<int64_t> Integer(std::string_view key, int64_t min, int64_t max) const;
  std::optional<bool> Boolean(std::string_view key) const;
  std::optional<std::string> Enum(std::string_view key,
                                  const std::vector<std::string>& allowed) const;
  std::optional<std::string> Checked(std::string_view key, bool (*valid)(std::string_view),
                                     std::string_view what) const;
  std::optional<std::vector<Value>> List(std::string_view key, bool allow_empty = true) const;
  std::vector<std::string> StringList(std::string_view key,
                                      bool (*valid)(std::string_view) = nullptr,
                                      std::string_view what = {}, bool allow_empty = true) const;
  std::vector<std::string> EnumList(std::string_view key, const std::vector<std::string>& allowed,
                                    bool allow_empty = true) const;

 private:
  struct Entry {
    std::string key;
    YAML::Node key_node;
    YAML::Node value;
  };
  Reader& reader_;
  Value value_;
  std::vector<Entry> entries_;  // first occurrence of each known key
  bool ok_ = false;
};

// Validators shared by the manifests (hand-written: std::regex recurses per character and
// can overflow the stack on long hostile input).

/// ^[a-z][a-z0-9_-]{0,63}$ (plug-in, endpoint, region and rule ids).
bool IsIdentifier(std::string_view s);
/// ^[a-z][a-z0-9_]{0,63}$ (setting keys).
bool IsSettingKey(std::string_view s);
/// ^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$ (vendor model ids).
bool IsModelId(std::string_view s);
/// ^[0-9a-f]{64}$
bool IsSha256Hex(std::string_view s);
/// Semantic Versioning 2.0.0.
bool IsSemver(std::string_view s);
/// ^https?://HOST(:PORT)?(/PATH)?$ with no whitespace.
bool IsHttpUrl(std::string_view s);
/// YYYY-MM-DD, a real calendar date.
bool IsIsoDate(std::string_view s);
/// A BCP 47 tag the host uses: language (2-3 letters), optional script (4 letters) and
/// region (2 letters or 3 digits), e.g. "zh-CN", "zh-Hant-HK", "fr-FR", "en".
bool IsLocaleTag(std::string_view s);

}  // namespace rg::compliance::detail
