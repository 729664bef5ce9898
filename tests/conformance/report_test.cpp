// Reports: the summary, JUnit XML (escaping, counts, pending as skipped) and JSON.
#include "regiongate/tools/conformance/report.hpp"

#include <gtest/gtest.h>

namespace rg::tools::conformance {
namespace {

CaseResult Case(const std::string& classname, const std::string& name, CaseStatus status,
                const std::string& message = {}) {
  CaseResult c;
  c.id = {classname, classname, name};
  c.plugin = "qwen";
  c.status = status;
  c.message = message;
  c.seconds = 0.25;
  return c;
}

RunReport Sample() {
  RunReport report;
  PluginReport qwen;
  qwen.plugin = "qwen";
  qwen.manifest = "/p/qwen/plugin.yaml";
  qwen.cases.push_back(Case("qwen", "streaming completion", CaseStatus::kPassed));
  qwen.cases.push_back(Case("qwen", "output policy enforced", CaseStatus::kPending, "not wired"));
  qwen.cases.push_back(Case("qwen", "usage accounting", CaseStatus::kSkipped, "no usage"));
  CaseResult scenario = Case("gate-decisions", "openai is denied [qwen]", CaseStatus::kFailed,
                             "expected <denied> & \"quoted\"");
  scenario.details = "line 1\nline 2";
  qwen.cases.push_back(scenario);
  report.plugins.push_back(qwen);
  report.seconds = 1.5;
  return report;
}

TEST(ConformanceReportTest, StatusNamesRoundTrip) {
  for (CaseStatus s :
       {CaseStatus::kPassed, CaseStatus::kFailed, CaseStatus::kSkipped, CaseStatus::kPending}) {
    EXPECT_EQ(ParseStatus(StatusName(s)), s);
  }
  EXPECT_FALSE(ParseStatus("bogus").has_value());
}

TEST(ConformanceReportTest, CaseResultJsonRoundTrip) {
  const CaseResult c = Sample().plugins[0].cases[3];
  const CaseResult back = CaseResult::FromJson(c.ToJson());
  EXPECT_EQ(back.id.suite, c.id.suite);
  EXPECT_EQ(back.id.name, c.id.name);
  EXPECT_EQ(back.status, CaseStatus::kFailed);
  EXPECT_EQ(back.message, c.message);
  EXPECT_EQ(back.details, c.details);
}

TEST(ConformanceReportTest, XmlEscapeHandlesMarkupControlsAndBadUtf8) {
  EXPECT_EQ(XmlEscape("a<b>&\"c\"'d'"), "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;");
  EXPECT_EQ(XmlEscape("tab\there\nnew"), "tab&#9;here&#10;new");
  EXPECT_EQ(XmlEscape(std::string("bell\x07") + "x"), "bellx");
  EXPECT_EQ(XmlEscape("中文"), "中文");
  EXPECT_EQ(XmlEscape("\xff"
                      "ok"),
            "\xEF\xBF\xBD"
            "ok");
  EXPECT_EQ(XmlEscape("\xE4\xB8"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // cut sequence
}

TEST(ConformanceReportTest, JunitGroupsByPluginAndSuiteWithCounts) {
  const std::string xml = JunitXml(Sample());
  EXPECT_NE(xml.find("<testsuites name=\"regiongate conformance\" tests=\"4\" failures=\"1\" "
                     "errors=\"0\" skipped=\"2\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<testsuite name=\"qwen\" tests=\"3\" failures=\"0\" errors=\"0\" "
                     "skipped=\"2\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<testsuite name=\"gate-decisions\" tests=\"1\" failures=\"1\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<testcase classname=\"qwen\" name=\"streaming completion\" "
                     "time=\"0.250\"/>"),
            std::string::npos);
  EXPECT_NE(xml.find("<skipped message=\"pending: not wired\"/>"), std::string::npos);
  EXPECT_NE(xml.find("<failure message=\"expected &lt;denied&gt; &amp; &quot;quoted&quot;\" "
                     "type=\"conformance\">line 1&#10;line 2</failure>"),
            std::string::npos)
      << xml;
}

TEST(ConformanceReportTest, OkCountsFailuresWorkerFailuresAndOptionallyPending) {
  RunReport report = Sample();
  EXPECT_FALSE(report.ok());
  report.plugins[0].cases.pop_back();
  EXPECT_TRUE(report.ok());
  report.fail_pending = true;
  EXPECT_FALSE(report.ok());
  report.fail_pending = false;
  report.plugins[0].failure = "plug-in 'qwen' crashed with SIGSEGV during case 'x'";
  EXPECT_FALSE(report.ok());
}

TEST(ConformanceReportTest, SummaryListsWhatDidNotPass) {
  const std::string text = SummaryText(Sample());
  EXPECT_NE(text.find("qwen  1 passed, 1 failed, 1 pending, 1 skipped"), std::string::npos) << text;
  EXPECT_NE(text.find("  pending  qwen: output policy enforced: not wired\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("  FAILED   gate-decisions: openai is denied [qwen]: expected <denied>"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  skipped  usage accounting: no usage\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("streaming completion"), std::string::npos) << "passed cases stay quiet";
  EXPECT_NE(text.find("conformance FAILED: 1 plug-in, 4 cases: 1 passed, 1 failed, 1 pending, "
                      "1 skipped (1.5 s)"),
            std::string::npos)
      << text;
  EXPECT_NE(SummaryText(Sample(), /*verbose=*/true).find("streaming completion"),
            std::string::npos);
}

TEST(ConformanceReportTest, JsonHasCountsAndCases) {
  const auto json = ReportJson(Sample());
  EXPECT_FALSE(json["ok"].get<bool>());
  EXPECT_EQ(json["counts"]["total"], 4);
  EXPECT_EQ(json["counts"]["pending"], 1);
  EXPECT_EQ(json["plugins"][0]["cases"][1]["status"], "pending");
  EXPECT_EQ(json["plugins"][0]["cases"][3]["classname"], "gate-decisions");
}

}  // namespace
}  // namespace rg::tools::conformance
