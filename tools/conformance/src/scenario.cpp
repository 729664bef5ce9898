#include "regiongate/tools/conformance/scenario.hpp"

#include <algorithm>
#include <set>

#include "regiongate/compliance/plugin_manifest.hpp"
#include "regiongate/compliance/yaml_reader.hpp"  // case files get the manifests' diagnostics
#include "regiongate/tools/sim_behavior.hpp"

namespace rg::tools::conformance {

namespace {

namespace fs = std::filesystem;
using compliance::Diagnostics;
using compliance::detail::Field;
using compliance::detail::MapReader;
using compliance::detail::Pos;
using compliance::detail::Reader;
using compliance::detail::Value;
using compliance::detail::ValueType;
using nlohmann::json;

const std::vector<std::string>& Decisions() {
  static const std::vector<std::string> v = {"allowed", "denied"};
  return v;
}
const std::vector<std::string>& Outcomes() {
  // Runtime::Complete's outcomes (GatedCompletion::outcome), plus the gate's refusal.
  static const std::vector<std::string> v = {"completed", "blocked_input", "blocked_output",
                                             "denied",    "failed",        "cancelled"};
  return v;
}
const std::vector<std::string>& Codes() {
  static const std::vector<std::string> v = {
      "ok",          "retryable", "auth",     "rate_limited", "invalid_request", "provider_blocked",
      "unavailable", "cancelled", "internal", "protocol",     "egress_denied"};
  return v;
}
const std::vector<std::string>& Finishes() {
  static const std::vector<std::string> v = {"stop",           "length", "tool_calls",
                                             "content_filter", "error",  "cancelled"};
  return v;
}
const std::vector<std::string>& Blockers() {
  static const std::vector<std::string> v = {"regiongate", "provider"};
  return v;
}

bool IsPluginOrAny(std::string_view s) { return s == "any" || compliance::detail::IsIdentifier(s); }

// A string, or a list of strings.
std::vector<std::string> OneOrMany(Reader& r, const MapReader& map, std::string_view key) {
  std::optional<Value> v = map.Get(key);
  if (!v) return {};
  if (compliance::detail::TypeOf(v->node) == ValueType::kList) {
    return r.StringList(*v, nullptr, {}, /*allow_empty=*/false);
  }
  if (std::optional<std::string> s = r.String(*v)) return {*s};
  return {};
}

class SuiteParser {
 public:
  SuiteParser(const std::string& file, Diagnostics* out) : r_(file, out) {}

  bool Parse(const YAML::Node& root, ScenarioSuite* suite) {
    MapReader top = r_.Root(root, {{"suite", false}, {"description", false}, {"cases", true}});
    if (!top.ok()) return false;
    suite->file = r_.file();
    suite->name = fs::path(r_.file()).stem().string();
    if (auto name = top.String("suite")) suite->name = *name;
    if (auto description = top.String("description", true)) suite->description = *description;
    if (auto cases = top.List("cases", /*allow_empty=*/false)) {
      std::map<std::string, Pos> names;
      for (const Value& item : *cases) {
        ScenarioCase c;
        if (!ParseCase(item, &c)) continue;
        if (auto [it, inserted] = names.emplace(c.name, Pos{c.line, c.column}); !inserted) {
          r_.Report({c.line, c.column}, std::string(scenario_error::kDuplicateName),
                    "case name '" + c.name + "' is already used at line " +
                        std::to_string(it->second.line) +
                        "; give every case of a suite its own name");
          continue;
        }
        suite->cases.push_back(std::move(c));
      }
    }
    return r_.error_count() == 0;
  }

 private:
  bool ParseCase(const Value& item, ScenarioCase* c) {
    const size_t errors = r_.error_count();
    MapReader map = r_.Map(item, {{"name", true},
                                  {"locale", true},
                                  {"plugin", false},
                                  {"model", false},
                                  {"endpoint", false},
                                  {"capabilities", false},
                                  {"settings", false},
                                  {"system", false},
                                  {"prompt", false},
                                  {"behavior", false},
                                  {"stream", false},
                                  {"max_tokens", false},
                                  {"expect", true}});
    if (!map.ok()) return false;
    c->file = r_.file();
    c->line = item.pos.line;
    c->column = item.pos.column;
    if (auto name = map.String("name")) c->name = *name;
    if (auto locale = map.Checked("locale", compliance::detail::IsLocaleTag,
                                  "a locale tag such as zh-CN or fr-FR")) {
      c->locale = *locale;
    }
    if (auto plugin = map.Checked("plugin", IsPluginOrAny, "a plug-in id or 'any'")) {
      c->plugin = *plugin == "any" ? "" : *plugin;
    }
    if (auto model = map.Checked("model", compliance::detail::IsModelId, "a model id")) {
      c->model = *model;
    }
    if (auto endpoint =
            map.Checked("endpoint", compliance::detail::IsIdentifier, "an endpoint id")) {
      c->endpoint = *endpoint;
    }
    c->capabilities = map.EnumList("capabilities", compliance::KnownCapabilities(),
                                   /*allow_empty=*/false);
    if (auto settings = map.Get("settings")) {
      if (compliance::detail::TypeOf(settings->node) != ValueType::kMap) {
        r_.WrongType(*settings, "a mapping of plug-in settings");
      } else {
        c->settings = compliance::detail::ToJson(settings->node);
      }
    }
    if (auto system = map.String("system")) c->system = *system;
    if (auto prompt = map.String("prompt")) c->prompt = *prompt;
    if (auto behavior = map.Get("behavior")) {
      if (auto spec = r_.String(*behavior)) {
        auto parsed = ParseBehavior(*spec, "'" + behavior->path + "'");
        if (!parsed.ok()) {
          r_.Report(behavior->pos, std::string(scenario_error::kBadBehavior),
                    parsed.error().message);
        } else {
          c->behavior = *spec;
        }
      }
    }
    if (auto stream = map.Get("stream")) {
      const ValueType type = compliance::detail::TypeOf(stream->node);
      if (type == ValueType::kBool) {
        c->stream = *r_.Boolean(*stream) ? StreamMode::kStream : StreamMode::kBuffered;
      } else if (type == ValueType::kString && stream->node.Scalar() == "both") {
        c->stream = StreamMode::kBoth;
      } else {
        r_.WrongType(*stream, "true, false or both");
      }
    }
    if (auto max_tokens = map.Integer("max_tokens", 1, 1'000'000)) c->max_tokens = *max_tokens;
    if (auto expect = map.Get("expect")) ParseExpect(*expect, c);
    if (r_.error_count() != errors) return false;
    return CheckConsistency(map, c);
  }

  void ParseExpect(const Value& value, ScenarioCase* c) {
    MapReader map = r_.Map(value, {{"decision", false},
                                   {"rule", false},
                                   {"outcome", false},
                                   {"code", false},
                                   {"finish", false},
                                   {"blocked_by", false},
                                   {"text_contains", false},
                                   {"text_absent", false},
                                   {"label", false},
                                   {"audit", false}});
    if (!map.ok()) return;
    ScenarioExpect& e = c->expect;
    if (auto decision = map.Enum("decision", Decisions())) e.decision = *decision;
    if (auto rule = map.Checked("rule", compliance::detail::IsIdentifier, "a rule id")) {
      e.rule = *rule;
    }
    if (auto outcome = map.Enum("outcome", Outcomes())) e.outcome = *outcome;
    if (auto code = map.Enum("code", Codes())) e.code = *code;
    if (auto finish = map.Enum("finish", Finishes())) e.finish = *finish;
    if (auto by = map.Enum("blocked_by", Blockers())) e.blocked_by = *by;
    e.text_contains = OneOrMany(r_, map, "text_contains");
    e.text_absent = OneOrMany(r_, map, "text_absent");
    if (auto label = map.String("label")) e.label = *label;
    if (auto audit = map.Get("audit")) {
      if (compliance::detail::TypeOf(audit->node) != ValueType::kMap) {
        r_.WrongType(*audit, "a mapping of audit record fields to expected values");
      } else {
        for (auto it = audit->node.begin(); it != audit->node.end(); ++it) {
          e.audit[it->first.Scalar()] = compliance::detail::ToJson(it->second);
        }
      }
    }
  }

  // Contradictions that no run could satisfy, reported where the case starts.
  bool CheckConsistency(const MapReader& map, ScenarioCase* c) {
    const ScenarioExpect& e = c->expect;
    const size_t errors = r_.error_count();
    const Pos at = map.KeyPos("expect");
    auto contradiction = [&](const std::string& message) {
      r_.Report(at, std::string(scenario_error::kContradiction),
                "case '" + c->name + "': " + message);
    };
    const bool has_run_expectation = !e.outcome.empty() || !e.code.empty() || !e.finish.empty() ||
                                     !e.blocked_by.empty() || !e.text_contains.empty() ||
                                     !e.text_absent.empty() || !e.label.empty() || !e.audit.empty();
    if (c->prompt.empty() && has_run_expectation) {
      contradiction("'expect' checks an answer but the case has no 'prompt' to send; add one");
    }
    if (c->prompt.empty() && e.decision.empty()) {
      contradiction(
          "the case checks nothing: give 'expect.decision', or a 'prompt' and what "
          "must happen to it");
    }
    if (e.decision == "denied" && !e.outcome.empty() && e.outcome != "denied") {
      contradiction("a request the gate denies can only have outcome 'denied', not '" + e.outcome +
                    "'");
    }
    if (e.decision == "allowed" && e.outcome == "denied") {
      contradiction(
          "outcome 'denied' means the gate refused the request, but 'decision' is "
          "'allowed'");
    }
    if (!e.blocked_by.empty() && e.outcome != "blocked_input" && e.outcome != "blocked_output") {
      contradiction("'blocked_by: " + e.blocked_by +
                    "' needs outcome blocked_input or blocked_output" +
                    (e.outcome.empty() ? std::string() : ", not '" + e.outcome + "'"));
    }
    if (!e.rule.empty() && e.decision.empty()) {
      contradiction(
          "'rule' names the rule behind a decision; add 'decision: allowed' or "
          "'decision: denied'");
    }
    for (const auto& absent : e.text_absent) {
      for (const auto& present : e.text_contains) {
        if (present.find(absent) != std::string::npos) {
          contradiction("'" + absent +
                        "' is both required (text_contains) and forbidden "
                        "(text_absent)");
        }
      }
    }
    if (!c->prompt.empty() && c->plugin.empty() && !c->settings.empty()) {
      contradiction("'settings' belong to one plug-in; name it with 'plugin'");
    }
    return r_.error_count() == errors;
  }

  Reader r_;
};

}  // namespace

std::string ScenarioCase::Where() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

compliance::Diagnostics ParseScenario(std::string_view yaml, const std::string& file,
                                      ScenarioSuite* suite) {
  Diagnostics out;
  YAML::Node root;
  if (!compliance::detail::ParseYaml(yaml, file, &root, &out)) return out;
  ScenarioSuite parsed;
  SuiteParser parser(file, &out);
  parser.Parse(root, &parsed);
  if (!compliance::HasErrors(out)) *suite = std::move(parsed);
  return out;
}

std::vector<fs::path> ScenarioFiles(const std::vector<fs::path>& paths) {
  std::vector<fs::path> files;
  for (const auto& path : paths) {
    std::error_code ec;
    if (!fs::is_directory(path, ec)) {
      files.push_back(path);
      continue;
    }
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      const auto ext = entry.path().extension();
      if (entry.is_regular_file(ec) && (ext == ".yaml" || ext == ".yml")) {
        found.push_back(entry.path());
      }
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

compliance::Diagnostics LoadScenarios(const std::vector<fs::path>& paths,
                                      std::vector<ScenarioSuite>* suites) {
  Diagnostics out;
  for (const auto& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec) && ScenarioFiles({path}).empty()) {
      out.push_back({path.string(), 0, 0, compliance::Severity::kError,
                     std::string(scenario_error::kNoFiles),
                     "no case files (*.yaml) in this directory; pass a directory of scenario "
                     "suites or a file",
                     ""});
    }
  }
  std::map<std::string, std::string> names;  // suite name -> file
  for (const auto& file : ScenarioFiles(paths)) {
    std::string bytes;
    if (!compliance::detail::ReadFileBytes(file, file.string(), &bytes, &out)) continue;
    ScenarioSuite suite;
    Diagnostics diagnostics = ParseScenario(bytes, file.string(), &suite);
    const bool ok = !compliance::HasErrors(diagnostics);
    out.insert(out.end(), diagnostics.begin(), diagnostics.end());
    if (!ok) continue;
    if (auto [it, inserted] = names.emplace(suite.name, file.string()); !inserted) {
      out.push_back({file.string(), 0, 0, compliance::Severity::kError,
                     std::string(scenario_error::kDuplicateName),
                     "suite name '" + suite.name + "' is already used by " + it->second +
                         "; set a distinct 'suite:'",
                     ""});
      continue;
    }
    suites->push_back(std::move(suite));
  }
  return out;
}

}  // namespace rg::tools::conformance
