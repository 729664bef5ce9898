#include "regiongate/tools/conformance/report.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <sstream>

namespace rg::tools::conformance {

namespace {

using nlohmann::json;

std::string Seconds(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3f", seconds);
  return buffer;
}

std::string ShortSeconds(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f s", seconds);
  return buffer;
}

Counts CountOf(const PluginReport& plugin) {
  Counts counts;
  for (const auto& c : plugin.cases) counts.Add(c.status);
  return counts;
}

std::string CountsText(const Counts& counts) {
  std::string out = std::to_string(counts.passed) + " passed";
  if (counts.failed > 0) out += ", " + std::to_string(counts.failed) + " failed";
  if (counts.pending > 0) out += ", " + std::to_string(counts.pending) + " pending";
  if (counts.skipped > 0) out += ", " + std::to_string(counts.skipped) + " skipped";
  return out;
}

json CountsJson(const Counts& counts) {
  return {{"total", counts.total()},
          {"passed", counts.passed},
          {"failed", counts.failed},
          {"pending", counts.pending},
          {"skipped", counts.skipped}};
}

// Length of the valid UTF-8 sequence starting at `s[i]`, or 0 when it is not valid.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b = byte(i);
  size_t n = 0;
  uint32_t cp = 0;
  if (b < 0x80) return 1;
  if ((b & 0xE0) == 0xC0) {
    n = 2;
    cp = b & 0x1Fu;
  } else if ((b & 0xF0) == 0xE0) {
    n = 3;
    cp = b & 0x0Fu;
  } else if ((b & 0xF8) == 0xF0) {
    n = 4;
    cp = b & 0x07u;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3Fu);
  }
  const uint32_t min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

}  // namespace

std::string_view StatusName(CaseStatus status) {
  switch (status) {
    case CaseStatus::kPassed:
      return "passed";
    case CaseStatus::kFailed:
      return "failed";
    case CaseStatus::kSkipped:
      return "skipped";
    case CaseStatus::kPending:
      return "pending";
  }
  return "failed";
}

std::optional<CaseStatus> ParseStatus(std::string_view name) {
  for (CaseStatus status :
       {CaseStatus::kPassed, CaseStatus::kFailed, CaseStatus::kSkipped, CaseStatus::kPending}) {
    if (StatusName(status) == name) return status;
  }
  return std::nullopt;
}

json CaseId::ToJson() const { return {{"suite", suite}, {"classname", classname}, {"name", name}}; }

CaseId CaseId::FromJson(const json& j) {
  CaseId id;
  id.suite = j.value("suite", "");
  id.classname = j.value("classname", "");
  id.name = j.value("name", "");
  return id;
}

json CaseResult::ToJson() const {
  json j = id.ToJson();
  j["plugin"] = plugin;
  j["status"] = StatusName(status);
  j["message"] = message;
  j["details"] = details;
  j["seconds"] = seconds;
  return j;
}

CaseResult CaseResult::FromJson(const json& j) {
  CaseResult r;
  r.id = CaseId::FromJson(j);
  r.plugin = j.value("plugin", "");
  r.status = ParseStatus(j.value("status", "")).value_or(CaseStatus::kFailed);
  r.message = j.value("message", "");
  r.details = j.value("details", "");
  r.seconds = j.value("seconds", 0.0);
  return r;
}

void Counts::Add(CaseStatus status) {
  switch (status) {
    case CaseStatus::kPassed:
      ++passed;
      break;
    case CaseStatus::kFailed:
      ++failed;
      break;
    case CaseStatus::kSkipped:
      ++skipped;
      break;
    case CaseStatus::kPending:
      ++pending;
      break;
  }
}

Counts RunReport::counts() const {
  Counts counts;
  for (const auto& plugin : plugins) {
    for (const auto& c : plugin.cases) counts.Add(c.status);
  }
  return counts;
}

bool RunReport::ok() const {
  const Counts c = counts();
  if (c.failed > 0 || (fail_pending && c.pending > 0)) return false;
  for (const auto& plugin : plugins) {
    if (!plugin.failure.empty()) return false;
  }
  return true;
}

std::string SummaryText(const RunReport& report, bool verbose) {
  std::ostringstream out;
  for (const auto& plugin : report.plugins) {
    const Counts counts = CountOf(plugin);
    out << plugin.plugin << "  " << CountsText(counts) << "  (" << ShortSeconds(plugin.seconds)
        << ", " << plugin.manifest << ")\n";
    // Skipped cases that share a reason (everything after a crash, every fault of a plug-in
    // that does not use the simulator) are one line, so the reasons stay readable.
    std::map<std::string, std::vector<std::string>> skipped;
    std::vector<std::string> skipped_order;
    for (const auto& c : plugin.cases) {
      if (c.status == CaseStatus::kSkipped) {
        if (skipped.find(c.message) == skipped.end()) skipped_order.push_back(c.message);
        skipped[c.message].push_back(c.id.name);
        continue;
      }
      if (c.status == CaseStatus::kPassed && !verbose) continue;
      const std::string label = c.status == CaseStatus::kFailed    ? "FAILED "
                                : c.status == CaseStatus::kPending ? "pending"
                                                                   : "passed ";
      out << "  " << label << "  " << c.id.classname << ": " << c.id.name;
      if (!c.message.empty()) out << ": " << c.message;
      out << "\n";
    }
    for (const auto& message : skipped_order) {
      const auto& names = skipped[message];
      out << "  skipped  ";
      if (names.size() == 1) {
        out << names.front();
      } else {
        out << names.size() << " cases (" << names.front() << ", ...)";
      }
      out << ": " << message << "\n";
    }
    // A crash or hang is already the message of the case it happened in.
    const bool shown =
        std::any_of(plugin.cases.begin(), plugin.cases.end(), [&](const CaseResult& c) {
          return c.status == CaseStatus::kFailed && c.message == plugin.failure;
        });
    if (!plugin.failure.empty() && !shown) out << "  worker: " << plugin.failure << "\n";
  }
  for (const auto& note : report.notes) out << "note: " << note << "\n";
  const Counts counts = report.counts();
  out << "conformance " << (report.ok() ? "PASSED" : "FAILED") << ": " << report.plugins.size()
      << (report.plugins.size() == 1 ? " plug-in, " : " plug-ins, ") << counts.total()
      << " cases: " << CountsText(counts) << " (" << ShortSeconds(report.seconds) << ")\n";
  return out.str();
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = Utf8Length(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD for bytes that are not UTF-8
      ++i;
      continue;
    }
    if (n > 1) {
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    const char c = text[i++];
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\r':
        out += "&#13;";
        break;
      case '\t':
        out += "&#9;";
        break;
      default:
        // XML 1.0 forbids the other C0 controls even as character references.
        if (static_cast<unsigned char>(c) >= 0x20) out += c;
        break;
    }
  }
  return out;
}

std::string JunitXml(const RunReport& report) {
  // One <testsuite> per plug-in (its built-in cases) and per scenario suite (its cases on
  // every plug-in), in the order they first appear.
  struct Suite {
    std::string name;
    std::vector<const CaseResult*> cases;
    std::vector<std::string> worker_failures;
    Counts counts;
    double seconds = 0;
  };
  std::vector<Suite> suites;
  std::map<std::string, size_t> index;
  auto suite_for = [&](const std::string& name) -> Suite& {
    auto [it, inserted] = index.emplace(name, suites.size());
    if (inserted) suites.push_back(Suite{name, {}, {}, {}, 0});
    return suites[it->second];
  };
  for (const auto& plugin : report.plugins) {
    Suite& own = suite_for(plugin.plugin);
    if (!plugin.failure.empty()) own.worker_failures.push_back(plugin.failure);
    for (const auto& c : plugin.cases) {
      Suite& suite = suite_for(c.id.suite.empty() ? plugin.plugin : c.id.suite);
      suite.cases.push_back(&c);
      suite.counts.Add(c.status);
      suite.seconds += c.seconds;
    }
  }
  const Counts total = report.counts();
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << "<testsuites name=\"regiongate conformance\" tests=\"" << total.total() << "\" failures=\""
      << total.failed << "\" errors=\"0\" skipped=\"" << total.skipped + total.pending
      << "\" time=\"" << Seconds(report.seconds) << "\">\n";
  for (const auto& suite : suites) {
    out << "  <testsuite name=\"" << XmlEscape(suite.name) << "\" tests=\"" << suite.counts.total()
        << "\" failures=\"" << suite.counts.failed << "\" errors=\"0\" skipped=\""
        << suite.counts.skipped + suite.counts.pending << "\" time=\"" << Seconds(suite.seconds)
        << "\">\n";
    for (const CaseResult* c : suite.cases) {
      out << "    <testcase classname=\"" << XmlEscape(c->id.classname) << "\" name=\""
          << XmlEscape(c->id.name) << "\" time=\"" << Seconds(c->seconds) << "\"";
      switch (c->status) {
        case CaseStatus::kPassed:
          out << "/>\n";
          continue;
        case CaseStatus::kFailed:
          out << ">\n      <failure message=\"" << XmlEscape(c->message)
              << "\" type=\"conformance\">" << XmlEscape(c->details) << "</failure>\n";
          break;
        case CaseStatus::kSkipped:
          out << ">\n      <skipped message=\"" << XmlEscape(c->message) << "\"/>\n";
          break;
        case CaseStatus::kPending:
          out << ">\n      <skipped message=\"" << XmlEscape("pending: " + c->message) << "\"/>\n";
          break;
      }
      out << "    </testcase>\n";
    }
    for (const auto& failure : suite.worker_failures) {
      out << "    <system-err>" << XmlEscape(failure) << "</system-err>\n";
    }
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
  return out.str();
}

json ReportJson(const RunReport& report) {
  json plugins = json::array();
  for (const auto& plugin : report.plugins) {
    json cases = json::array();
    for (const auto& c : plugin.cases) cases.push_back(c.ToJson());
    plugins.push_back({{"plugin", plugin.plugin},
                       {"manifest", plugin.manifest},
                       {"failure", plugin.failure},
                       {"seconds", plugin.seconds},
                       {"counts", CountsJson(CountOf(plugin))},
                       {"cases", cases}});
  }
  return {{"ok", report.ok()},
          {"seconds", report.seconds},
          {"counts", CountsJson(report.counts())},
          {"fail_pending", report.fail_pending},
          {"notes", report.notes},
          {"plugins", plugins}};
}

}  // namespace rg::tools::conformance
