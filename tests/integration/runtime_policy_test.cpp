// End-to-end tests of Runtime::Complete's request-time policies (issue 5): the content filter on
// the prompt and on the answer (streamed or not, whatever the spelling or chunking), PII
// handling, labels and the audit trail, for every vendor plug-in. Everything is real: the
// built plug-ins loaded from RG_PLUGIN_DIR (manifest, sha256, dlopen), every endpoint
// overridden to the in-process rg-vendor-sim on loopback, a region manifest and lexicon
// written into a temporary policy directory, audit files on disk.
//
// How the vendor is made to say a blocked term: the simulator's `reverse` behaviour answers
// "Echo: " + the prompt reversed, so a prompt holding the term backwards (which no lexicon
// entry matches, so the input filter lets it through) gets the term itself back in the
// answer. The simulator cuts answers every 2 code points, so every term of 3 or more code
// points arrives split across stream chunks.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <regex>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "regiongate/compliance/audit_log.hpp"
#include "regiongate/compliance/sha256.hpp"
#include "regiongate/compliance/text_normalizer.hpp"
#include "regiongate/core/runtime.hpp"
#include "regiongate/tools/vendor_sim.hpp"

namespace rg {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// ---- the test policy ---------------------------------------------------------------------

constexpr const char* kRegionId = "policy-test";
constexpr const char* kRefusalEn = "I can't help with that request.";
constexpr const char* kRefusalZh = "抱歉，这个问题我无法回答。";
constexpr const char* kRefusalFr = "Je ne peux pas répondre à cette demande.";
constexpr const char* kLabelEn = "[AI-generated content]";
constexpr const char* kLabelZh = "（本内容由人工智能生成）";
constexpr const char* kLabelFr = "Contenu généré par IA";
constexpr const char* kProducerCode = "001191110102MAD55U9H0F10002";
constexpr const char* kInputRefused =
    "the request was refused by the content policy of region 'policy-test'";
constexpr const char* kOutputStopped =
    "the answer was stopped by the content policy of region 'policy-test'";

// One region that allows every plug-in (its only rule requires the runtime policies to be
// configured, which they are) and configures every request-time policy: a content policy that
// refuses prompts and blocks answers, a label per locale in each position (en-US end, zh-CN
// start, fr-FR kept in the UI), GB 45438 implicit metadata, one PII type per action, and a
// required audit trail.
constexpr const char* kRegionYaml =
    R"(# runtime_policy_test: every plug-in allowed, every runtime policy configured
schema_version: 1
region: policy-test
name: Runtime policy test region
locales: [en-US, zh-CN, fr-FR]
rules:
  - id: policy-test-runtime
    kind: require_capabilities
    summary: every request-time policy must be configured
    citation: runtime_policy_test
    effective: 2000-01-01
    runtime: [content_policy, labels, implicit_labels, pii, audit]
content_policy:
  lexicons: [../lexicons/policy-test.tsv]
  input_action: refuse
  output_action: block
  refusal_message:
    en-US: I can't help with that request.
    zh-CN: 抱歉，这个问题我无法回答。
    fr-FR: Je ne peux pas répondre à cette demande.
labels:
  explicit:
    en-US: {text: "[AI-generated content]", position: end}
    zh-CN: {text: （本内容由人工智能生成）, position: start}
    fr-FR: {text: Contenu généré par IA, position: ui_persistent}
  implicit:
    scheme: gb45438-aigc
    producer_code: "001191110102MAD55U9H0F10002"
pii:
  actions:
    - {type: email, action: replace_and_restore}
    - {type: ip_address, action: mask}
    - {type: us_ssn, action: block}
audit:
  required: true
  retention_days: 183
  store_prompt_text: false
)";

// A region that requires an audit trail; the test puts a file where its audit directory
// would go, so the trail can never be opened.
constexpr const char* kBrokenAuditRegionYaml =
    R"(# runtime_policy_test: the audit trail cannot be written
schema_version: 1
region: broken-audit
name: Region whose audit trail cannot be written
locales: [en-GB]
rules:
  - id: broken-audit-logs
    kind: require_capabilities
    summary: logs must be kept
    citation: runtime_policy_test
    effective: 2000-01-01
    runtime: [audit]
audit:
  required: true
  retention_days: 183
)";

// Two invented terms a prompt is refused for: a Latin word (whole-word match) and a hanzi term
// (matches anywhere); and one the input filter masks.
constexpr const char* kLatinTerm = "zorblax";
constexpr const char* kHanziTerm = "虚构禁语";
constexpr const char* kMaskedTerm = "glorptang";
constexpr const char* kLexiconTsv =
    "# runtime_policy_test: invented terms\n"
    "term\tcategory\taction\tnote\n"
    "zorblax\tA.1.a\tblock\tinvented Latin term\n"
    "虚构禁语\tA.2.a\tblock\tinvented hanzi term\n"
    "glorptang\tA.3.a\tmask\tinvented term to mask\n";

/// A way of writing a blocked term that the filter's folding must see through.
struct Spelling {
  std::string name;
  std::string text;
  std::string category;  ///< of the lexicon entry it must hit
};

const std::vector<Spelling>& Spellings() {
  static const std::vector<Spelling> spellings = {
      {"latin_plain", "zorblax", "A.1.a"},
      {"latin_fullwidth", "ｚｏｒｂｌａｘ", "A.1.a"},
      {"latin_zero_width_spaces", "zor\u200Bbl\u200Bax", "A.1.a"},
      {"latin_fullwidth_upper_zero_width", "ＺＯＲ\u200BＢＬＡＸ", "A.1.a"},
      {"hanzi_simplified", "虚构禁语", "A.2.a"},
      {"hanzi_traditional", "虛構禁語", "A.2.a"},
      {"hanzi_traditional_zero_width", "虛構\u200B禁語", "A.2.a"},
  };
  return spellings;
}

/// One way of reaching a vendor: what the gate is asked to choose, and the plug-in settings.
struct Route {
  std::string name;
  compliance::DecisionFilter choice;  ///< plug-in, model, endpoint
  json settings;
};

void PrintTo(const Route& route, std::ostream* out) { *out << route.name; }

// Every plug-in, and each wire protocol a plug-in speaks (their streams are framed apart).
const std::vector<Route>& Routes() {
  static const std::vector<Route> routes = {
      {"openai", {"openai", "gpt-4o", "global"}, json::object()},
      {"qwen_compatible", {"qwen", "qwen-plus", "cn-beijing"}, {{"protocol", "compatible"}}},
      {"qwen_native", {"qwen", "qwen-max", "cn-beijing"}, {{"protocol", "native"}}},
      {"qwen_native_full_text",
       {"qwen", "qwen-turbo", "cn-beijing"},
       {{"protocol", "native"}, {"incremental_output", false}}},
      {"baidu_v2", {"baidu", "ernie-4.0-8k", "qianfan-v2"}, json::object()},
      {"baidu_v1", {"baidu", "ernie-3.5-8k", "qianfan-v1"}, json::object()},
      {"deepseek", {"deepseek", "deepseek-chat", "cn"}, json::object()},
  };
  return routes;
}

const Route& Qwen() { return Routes()[1]; }

// ---- the environment: one simulator, one policy directory, one runtime per process -------

/// Plug-in entries run once per process and keep the services of the first host that loaded
/// them, so every test of the binary shares one Runtime.
class Environment {
 public:
  static Environment& Get() {
    static Environment environment;
    return environment;
  }

  core::Runtime& runtime() { return *runtime_; }
  tools::VendorSim& sim() { return *sim_; }
  const std::string& setup_error() const { return setup_error_; }
  fs::path region_file() const { return root_ / "config" / "regions" / "policy-test.yaml"; }
  fs::path audit_dir() const { return root_ / "audit"; }
  /// The options the shared runtime was created with (a test may vary one and create another
  /// runtime, as long as that one never calls a plug-in).
  const core::RuntimeOptions& options() const { return options_; }

 private:
  Environment()
      : root_(fs::temp_directory_path() /
              ("rg-runtime-policy-test-" + std::to_string(::getpid()))) {
    fs::remove_all(root_);
    const fs::path config = root_ / "config";
    WriteFile(config / "regions" / "policy-test.yaml", kRegionYaml);
    WriteFile(config / "regions" / "broken-audit.yaml", kBrokenAuditRegionYaml);
    WriteFile(config / "lexicons" / "policy-test.tsv", kLexiconTsv);
    WriteFile(audit_dir() / "broken-audit", "a file where the region's audit directory goes\n");

    tools::VendorSimOptions sim_options;
    sim_options.chunk_chars = 2;
    sim_options.created = 1767225600;
    sim_ = std::make_unique<tools::VendorSim>(sim_options);
    if (auto started = sim_->Start(); !started) {
      setup_error_ = "simulator did not start: " + started.error().message;
      return;
    }
    // Credentials come from secret files, never from the environment of the test run.
    options_.host.secrets.use_environment = false;
    for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
             {"OPENAI_API_KEY", sim_options.openai_key},
             {"DEEPSEEK_API_KEY", sim_options.openai_key},  // served on the OpenAI route
             {"DASHSCOPE_API_KEY", sim_options.dashscope_key},
             {"QIANFAN_API_KEY", sim_options.qianfan_key},
             {"QIANFAN_AK", sim_options.qianfan_ak},
             {"QIANFAN_SK", sim_options.qianfan_sk}}) {
      WriteFile(root_ / "secrets" / name, value + "\n");
      options_.host.secrets.files[name] = root_ / "secrets" / name;
    }
    options_.host.endpoint_overrides = {{"*", "*", sim_->BaseUrl()}};
    options_.host.http.idle_timeout = std::chrono::milliseconds(2000);
    options_.host.http.total_timeout = std::chrono::milliseconds(20'000);
    options_.host.retry.max_attempts = 1;
    options_.host.log_observer = [](const core::PluginLogRecord&) {};
    options_.plugin_dirs = {RG_PLUGIN_DIR};
    options_.config_dir = config;
    options_.audit_dir = audit_dir();
    options_.filter_cache_dir = root_ / "filter-cache";
    auto created = core::Runtime::Create(options_);
    if (!created) {
      setup_error_ = created.error().message;
      return;
    }
    runtime_ = std::move(created.value());
    for (const auto& refused : runtime_->load_report().refused) {
      setup_error_ += "refused " + refused.plugin + ": " + refused.message + "; ";
    }
    for (const char* plugin : {"openai", "qwen", "baidu", "deepseek"}) {
      if (!runtime_->host().FindPlugin(plugin)) {
        setup_error_ +=
            std::string("plug-in '") + plugin + "' did not load from " + RG_PLUGIN_DIR + "; ";
      }
    }
  }

  ~Environment() {
    runtime_.reset();
    if (sim_) sim_->Stop();
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

  static void WriteFile(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
  }

  fs::path root_;
  core::RuntimeOptions options_;
  std::unique_ptr<tools::VendorSim> sim_;
  std::unique_ptr<core::Runtime> runtime_;
  std::string setup_error_;
};

// ---- calls and what the caller saw -------------------------------------------------------

/// One Runtime::Complete call as its caller lived it.
struct Call {
  Result<core::GatedCompletion> done = Error{"", "not run"};
  std::vector<core::CompletionEvent> events;
  uint64_t provider_requests = 0;  ///< requests the simulator answered during the call

  /// Every TEXT delta the caller received, in order.
  std::string CallerText() const {
    std::string text;
    for (const auto& event : events) {
      if (event.kind == RG_EVENT_TEXT_DELTA) text += event.data;
    }
    return text;
  }
  size_t Count(rg_event_kind kind) const {
    return std::count_if(events.begin(), events.end(),
                         [kind](const auto& event) { return event.kind == kind; });
  }
  /// The FINAL event's data; null when the last event is not the only FINAL.
  json Final() const {
    if (events.empty() || events.back().kind != RG_EVENT_FINAL || Count(RG_EVENT_FINAL) != 1) {
      return nullptr;
    }
    return json::parse(events.back().data, nullptr, false);
  }
  std::string Describe() const {
    if (!done.ok()) return "error " + done.error().id + ": " + done.error().message;
    const auto& r = done->result;
    return done->outcome + " (" + std::string(core::CodeName(r.code)) + " / " +
           std::string(core::FinishName(r.finish)) + ") text='" + r.text +
           "' final=" + r.final_data.dump() + " message='" + r.message + "'";
  }
};

Call Complete(const std::string& locale, const Route& route, const json& content, bool stream) {
  Environment& env = Environment::Get();
  Call call;
  const json body = {{"messages", json::array({{{"role", "user"}, {"content", content}}})},
                     {"stream", stream}};
  const uint64_t before = env.sim().RequestsServed();
  call.done = env.runtime().Complete(locale, route.choice, body, route.settings,
                                     [&call](const core::CompletionEvent& event) {
                                       call.events.push_back(event);
                                       return true;
                                     });
  call.provider_requests = env.sim().RequestsServed() - before;
  return call;
}

/// Code points of `text` in reverse order.
std::string Reversed(std::string_view text) {
  std::string out;
  for (size_t end = text.size(); end > 0;) {
    size_t begin = end - 1;
    while (begin > 0 && (static_cast<unsigned char>(text[begin]) & 0xC0) == 0x80) --begin;
    out.append(text.substr(begin, end - begin));
    end = begin;
  }
  return out;
}

/// A prompt the simulator answers with "Echo: " + `answer`, without `answer` being in it.
std::string PromptForAnswer(std::string_view answer) {
  return Reversed(answer) + " [[sim:reverse]]";
}

/// Fails when `text` holds a blocked term in any spelling the filter folds.
void ExpectNoBlockedTerm(const std::string& what, const std::string& text) {
  for (const Spelling& spelling : Spellings()) {
    EXPECT_EQ(text.find(spelling.text), std::string::npos)
        << what << " holds the " << spelling.name << " spelling: " << text;
  }
  const std::string folded = compliance::NormalizeForMatching(text).text;
  for (const char* term : {kLatinTerm, kHanziTerm}) {
    EXPECT_EQ(folded.find(term), std::string::npos) << what << " folds to '" << folded << "'";
  }
}

/// Asserts that regiongate itself stopped the request (`direction` "input": refused; "output":
/// the answer cut) with `message`, that the caller got exactly `text`, and exactly one FINAL
/// event, the last, saying so.
void ExpectStoppedByRegiongate(const Call& call, const std::string& direction,
                               const std::string& message, const std::string& text) {
  ASSERT_TRUE(call.done.ok()) << call.Describe();
  const core::GatedCompletion& done = *call.done;
  EXPECT_EQ(done.outcome, "blocked_" + direction) << call.Describe();
  EXPECT_EQ(done.blocked_by, "regiongate");
  EXPECT_EQ(done.result.code, RG_ERR_PROVIDER_BLOCKED);
  EXPECT_EQ(done.result.finish, RG_FINISH_CONTENT_FILTER);
  EXPECT_EQ(done.result.message, message);
  EXPECT_EQ(done.result.text, text);
  EXPECT_EQ(call.CallerText(), text);
  const json final_data = call.Final();
  ASSERT_TRUE(final_data.is_object()) << "exactly one FINAL event, the last one";
  EXPECT_EQ(call.events.back().finish, RG_FINISH_CONTENT_FILTER);
  EXPECT_EQ(call.events.back().code, RG_ERR_PROVIDER_BLOCKED);
  EXPECT_EQ(final_data.value("blocked", ""), direction);
  EXPECT_EQ(final_data.value("by", ""), "regiongate");
  EXPECT_EQ(final_data.value("message", ""), message);
  // What a streaming caller needs to match the refusal or block to its audit record.
  EXPECT_EQ(final_data.value("outcome", ""), done.outcome);
  EXPECT_EQ(final_data.value("decision_id", ""), done.decision_id);
}

// ---- the audit trail ---------------------------------------------------------------------

std::vector<fs::path> AuditFiles(const std::string& region) {
  std::vector<fs::path> files;
  std::error_code none_yet;  // the trail's directory appears with its first record
  for (const auto& entry :
       fs::directory_iterator(Environment::Get().audit_dir() / region, none_yet)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("audit-", 0) == 0 && entry.path().extension() == ".jsonl") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// Every line of the region's trail, oldest first.
std::vector<std::string> AuditLines(const std::string& region = kRegionId) {
  std::vector<std::string> lines;
  for (const fs::path& file : AuditFiles(region)) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  return lines;
}

/// The one record of `decision_id` (an empty object, and a failure, unless there is one).
json RecordOf(const std::string& decision_id) {
  json found;
  int count = 0;
  for (const std::string& line : AuditLines()) {
    json record = json::parse(line, nullptr, false);
    if (record.is_object() && record.value("decision_id", "") == decision_id) {
      found = std::move(record);
      ++count;
    }
  }
  EXPECT_EQ(count, 1) << "audit records of " << decision_id;
  return count == 1 ? found : json::object();
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// ---- fixtures ----------------------------------------------------------------------------

class PolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string& error = Environment::Get().setup_error();
    ASSERT_TRUE(error.empty()) << error;
  }
};

/// Every route, streamed and buffered.
class RouteTest : public PolicyTest, public ::testing::WithParamInterface<std::tuple<Route, bool>> {
 protected:
  const Route& route() const { return std::get<0>(GetParam()); }
  bool stream() const { return std::get<1>(GetParam()); }
  Call Run(const std::string& locale, const json& content) {
    return Complete(locale, route(), content, stream());
  }
};

std::string RouteName(const ::testing::TestParamInfo<std::tuple<Route, bool>>& info) {
  return std::get<0>(info.param).name + (std::get<1>(info.param) ? "_stream" : "_buffered");
}

INSTANTIATE_TEST_SUITE_P(AllPlugins, RouteTest,
                         ::testing::Combine(::testing::ValuesIn(Routes()), ::testing::Bool()),
                         RouteName);

// ---- 1. a blocked term in the answer never reaches the caller ----------------------------

TEST_P(RouteTest, BlockedTermInTheAnswerNeverReachesTheCaller) {
  // Each spelling after text of even and of odd length, so that the 2-code-point chunks cut
  // the term at every other place.
  for (const Spelling& spelling : Spellings()) {
    for (const std::string lead : {"safe words before ", "safe words, before "}) {
      SCOPED_TRACE(spelling.name + " after '" + lead + "'");
      const Call call = Run("en-US", PromptForAnswer(lead + spelling.text + " and after"));
      // The text before the term is delivered; nothing from the term on, and no end label.
      ASSERT_NO_FATAL_FAILURE(
          ExpectStoppedByRegiongate(call, "output", kOutputStopped, "Echo: " + lead));
      EXPECT_GE(call.provider_requests, 1u) << "the term must come from the provider's answer";
      ExpectNoBlockedTerm("the caller's deltas", call.CallerText());
      for (const auto& event : call.events) ExpectNoBlockedTerm("an event", event.data);
      ExpectNoBlockedTerm("the result", call.done->result.text + call.done->result.message);
      // Streamed, each chunk before the term is released as it arrives: one delta per
      // 2-code-point chunk of "Echo: " + lead (the last may hold the term's first character).
      const size_t chunks = (std::string("Echo: ").size() + lead.size() + 1) / 2;
      EXPECT_EQ(call.Count(RG_EVENT_TEXT_DELTA), stream() ? chunks : 1u);
      EXPECT_EQ(call.Final().value("decision_id", ""), call.done->decision_id);
      EXPECT_EQ(call.Final().value("outcome", ""), "blocked_output");
      const auto& rules = call.done->rules;
      EXPECT_NE(std::find(rules.begin(), rules.end(), "content:" + spelling.category), rules.end())
          << json(rules).dump();
    }
  }
}

// ---- 2. normal text passes unchanged, with the region's label ----------------------------

TEST_P(RouteTest, NormalTextPassesByteForByteWithTheEndLabel) {
  // Near misses of both terms (whole-word rule, a prefix of each term, the prefix held back
  // at the very end), multi-byte text, emoji and full-width characters.
  const std::string prompt =
      "Zorblaxes and azorblax are other words; 虚构 alone is fine, émoji 🙂 ｆｕｌｌ ok. "
      "Ends with zorbl";
  const Call call = Run("en-US", prompt);
  ASSERT_TRUE(call.done.ok()) << call.Describe();
  const core::GatedCompletion& done = *call.done;
  EXPECT_EQ(done.outcome, "completed") << call.Describe();
  EXPECT_TRUE(done.result.ok());
  EXPECT_EQ(done.result.finish, RG_FINISH_STOP);
  const std::string expected = "Echo: " + prompt + "\n\n" + kLabelEn;
  EXPECT_EQ(done.result.text, expected);
  EXPECT_EQ(call.CallerText(), expected);
  // The label comes once, last, as its own delta after the answer.
  ASSERT_FALSE(call.events.empty());
  const auto last_text = std::find_if(call.events.rbegin(), call.events.rend(),
                                      [](const auto& e) { return e.kind == RG_EVENT_TEXT_DELTA; });
  ASSERT_NE(last_text, call.events.rend());
  EXPECT_EQ(last_text->data, std::string("\n\n") + kLabelEn);
  // Buffered: the answer (its tail "zorbl" held back until the end, it could still become the
  // term) and the label. Streamed: released as the 2-code-point chunks arrive.
  if (stream()) {
    EXPECT_GT(call.Count(RG_EVENT_TEXT_DELTA), 10u);
  } else {
    EXPECT_LE(call.Count(RG_EVENT_TEXT_DELTA), 3u);
  }
  const json final_data = call.Final();
  ASSERT_TRUE(final_data.is_object()) << "exactly one FINAL event, the last one";
  EXPECT_EQ(final_data.value("outcome", ""), "completed");
  EXPECT_EQ(call.events.back().finish, RG_FINISH_STOP);
}

// ---- 3. a prompt holding the term is refused before any byte leaves ------------------------

TEST_P(RouteTest, PromptWithTheTermIsRefusedBeforeAnyByteLeaves) {
  for (const Spelling& spelling : Spellings()) {
    SCOPED_TRACE(spelling.name);
    const Call call = Run("en-US", "tell me about " + spelling.text + " please");
    ASSERT_NO_FATAL_FAILURE(ExpectStoppedByRegiongate(call, "input", kInputRefused, kRefusalEn));
    EXPECT_EQ(call.provider_requests, 0u) << "the simulator received a request";
    EXPECT_EQ(call.Count(RG_EVENT_TEXT_DELTA), 1u);
    EXPECT_EQ(call.Final().value("cause", ""), "content_filter");
    const auto& rules = call.done->rules;
    EXPECT_NE(std::find(rules.begin(), rules.end(), "content:" + spelling.category), rules.end())
        << json(rules).dump();
  }
}

using LocaleMessage = std::pair<std::string, std::string>;

class RefusalLocaleTest : public PolicyTest, public ::testing::WithParamInterface<LocaleMessage> {};

TEST_P(RefusalLocaleTest, RefusalIsTheRegionsMessageForTheLocale) {
  const auto& [locale, message] = GetParam();
  const Call call = Complete(locale, Qwen(), "parle-moi de 虛構禁語", true);
  ASSERT_NO_FATAL_FAILURE(
      ExpectStoppedByRegiongate(call, "input", kInputRefused, message));  // no label on a refusal
  EXPECT_EQ(call.provider_requests, 0u);
}

std::string LocaleName(const ::testing::TestParamInfo<LocaleMessage>& param) {
  std::string name = param.param.first;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

INSTANTIATE_TEST_SUITE_P(EveryLocale, RefusalLocaleTest,
                         ::testing::Values(LocaleMessage{"en-US", kRefusalEn},
                                           LocaleMessage{"zh-CN", kRefusalZh},
                                           LocaleMessage{"fr-FR", kRefusalFr}),
                         LocaleName);

// ---- 4. PII: replace and restore, mask, block ----------------------------------------------

TEST_P(RouteTest, PiiGoesOutAsPlaceholdersAndComesBackRestored) {
  const std::string prompt = "mail alice@example.com or bob@example.org, not alice@example.com";
  const Call echoed = Run("en-US", prompt);
  ASSERT_TRUE(echoed.done.ok()) << echoed.Describe();
  EXPECT_EQ(echoed.done->outcome, "completed") << echoed.Describe();
  const std::string restored = "Echo: " + prompt + "\n\n" + kLabelEn;
  EXPECT_EQ(echoed.done->result.text, restored);
  EXPECT_EQ(echoed.CallerText(), restored);

  // What the provider saw, read back through the simulator's reversed echo (reversed, a
  // placeholder is no longer one, so nothing restores it on the way back; had the provider
  // seen the addresses, the caller would get them reversed).
  const Call reversed = Run("en-US", prompt + " [[sim:reverse]]");
  ASSERT_TRUE(reversed.done.ok()) << reversed.Describe();
  const std::string provider_saw =
      "Echo: " + Reversed("mail [[PII:EMAIL:1]] or [[PII:EMAIL:2]], not [[PII:EMAIL:1]]") + "\n\n" +
      kLabelEn;
  EXPECT_EQ(reversed.done->result.text, provider_saw);
  EXPECT_EQ(reversed.CallerText(), provider_saw);

  // The audit record counts the finding, never holds the value.
  const json record = RecordOf(echoed.done->decision_id);
  EXPECT_EQ(record.value("pii", json()),
            json::parse(R"({"email":{"action":"replace_and_restore","count":3}})"));
  for (const std::string& line : AuditLines()) {
    EXPECT_EQ(line.find("example.com"), std::string::npos) << line;
  }
}

TEST_P(RouteTest, MaskedPiiNeverComesBack) {
  const Call call = Run("en-US", "server 192.168.1.77 is down");
  ASSERT_TRUE(call.done.ok()) << call.Describe();
  EXPECT_EQ(call.done->outcome, "completed") << call.Describe();
  const std::string expected = std::string("Echo: server 192.168.1.*** is down\n\n") + kLabelEn;
  EXPECT_EQ(call.done->result.text, expected);
  EXPECT_EQ(call.CallerText(), expected);
}

TEST_P(RouteTest, BlockedPiiIsRefusedBeforeAnyByteLeaves) {
  const Call call = Run("en-US", "my number is 123-45-6789, file my taxes");
  ASSERT_NO_FATAL_FAILURE(ExpectStoppedByRegiongate(
      call, "input",
      "the request contains a US social security number, which region "
      "'policy-test' does not allow to be sent to a model provider (pii "
      "action 'block' for us_ssn); remove it from the request and send it "
      "again",
      kRefusalEn));
  EXPECT_EQ(call.provider_requests, 0u) << "the simulator received a request";
  EXPECT_EQ(call.Final().value("cause", ""), "pii");
  for (const std::string& line : AuditLines()) {
    EXPECT_EQ(line.find("123-45-6789"), std::string::npos) << line;
  }
}

// ---- 5. audit ------------------------------------------------------------------------------

using AuditTest = PolicyTest;

TEST_F(AuditTest, RefusedRequestWritesExactlyOneVerifiableRecord) {
  const std::string prompt = "tell me about ｚｏｒｂｌａｘ please";
  const size_t before = AuditLines().size();
  const Call call = Complete("en-US", Qwen(), prompt, false);
  ASSERT_TRUE(call.done.ok()) << call.Describe();
  const core::GatedCompletion& done = *call.done;
  ASSERT_EQ(done.outcome, "blocked_input");

  const std::vector<std::string> lines = AuditLines();
  ASSERT_EQ(lines.size(), before + 1) << "exactly one record per request";
  const std::string& line = lines.back();
  json record = json::parse(line);  // not const: a missing key reads as null
  EXPECT_EQ(done.audit_file, AuditFiles(kRegionId).back());
  EXPECT_EQ(record["v"], 1);
  EXPECT_EQ(record["kind"], "request");
  EXPECT_EQ(record["decision_id"], done.decision_id);
  EXPECT_EQ(record["outcome"], "blocked_input");
  EXPECT_EQ(record["detail"], "content_filter");
  EXPECT_EQ(record["extra"], json({{"blocked_by", "regiongate"}}));
  EXPECT_EQ(record["locale"], "en-US");
  EXPECT_EQ(record["region"], kRegionId);
  EXPECT_EQ(record["manifest_revision"],
            compliance::Sha256File(Environment::Get().region_file()).value());
  EXPECT_EQ(record["plugin"], "qwen");
  EXPECT_EQ(record["model"], "qwen-plus");
  EXPECT_EQ(record["endpoint"], "cn-beijing");
  EXPECT_EQ(record["endpoint_overridden"], true);
  std::vector<std::string> rules = record.value("rules", std::vector<std::string>());
  std::sort(rules.begin(), rules.end());
  EXPECT_EQ(rules, std::vector<std::string>({"content:A.1.a", "policy-test-runtime"}));
  EXPECT_EQ(record["usage"], json::object());
  EXPECT_TRUE(record["latency_ms"].is_number_integer()) << line;
  EXPECT_FALSE(record.contains("ttft_ms")) << "no text came from a provider";
  EXPECT_TRUE(std::regex_match(record.value("time", ""),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << line;
  // The prompt is kept only as its HMAC under the trail's salt; the term never appears.
  const std::string salt = ReadFile(Environment::Get().audit_dir() / "audit.salt");
  EXPECT_EQ(record["prompt_hmac"], compliance::HmacSha256Hex(salt, prompt));
  EXPECT_FALSE(record.contains("prompt_text"));
  ExpectNoBlockedTerm("the audit record", line);
  // Chained to the record before it, hash last.
  EXPECT_EQ(record["seq"], static_cast<int64_t>(before) + 1);
  EXPECT_EQ(record["prev"], before == 0
                                ? std::string(64, '0')
                                : json::parse(lines[before - 1])["hash"].get<std::string>());
  EXPECT_TRUE(std::regex_search(line, std::regex(R"(,"hash":"[0-9a-f]{64}"\}$)"))) << line;

  const compliance::AuditVerifyReport report = compliance::VerifyAuditFiles(AuditFiles(kRegionId));
  EXPECT_TRUE(report.ok()) << report.ToText();
  EXPECT_EQ(report.records, static_cast<int64_t>(before) + 1);
}

TEST_F(AuditTest, CompletedAndBlockedAnswersAreAuditedWithTheirOutcome) {
  const Call completed = Complete("en-US", Qwen(), "good morning", true);
  ASSERT_TRUE(completed.done.ok()) << completed.Describe();
  const json ok = RecordOf(completed.done->decision_id);
  EXPECT_EQ(ok.value("outcome", ""), "completed");
  EXPECT_FALSE(ok.contains("detail"));
  EXPECT_EQ(ok.value("usage", json()), json::parse(R"({"completion_tokens":5,"prompt_tokens":3})"))
      << "the simulator counts ceil(code points / 4): 'Echo: good morning' and 'good morning'";
  EXPECT_TRUE(ok.contains("ttft_ms"));
  EXPECT_EQ(ok.value("rules", json()), json({"policy-test-runtime"}));

  const Call blocked = Complete("en-US", Qwen(), PromptForAnswer("say zorblax"), true);
  ASSERT_TRUE(blocked.done.ok()) << blocked.Describe();
  const json stopped = RecordOf(blocked.done->decision_id);
  EXPECT_EQ(stopped.value("outcome", ""), "blocked_output");
  EXPECT_EQ(stopped.value("rules", json()), json({"content:A.1.a", "policy-test-runtime"}));
  EXPECT_TRUE(compliance::VerifyAuditFiles(AuditFiles(kRegionId)).ok());
}

TEST_F(AuditTest, UnwritableAuditTrailFailsClosedBeforeAnyByteLeaves) {
  const Call call = Complete("en-GB", Qwen(), "hello", true);
  ASSERT_FALSE(call.done.ok()) << call.Describe();
  EXPECT_EQ(call.done.error().id, "RG-R006");
  const fs::path dir = Environment::Get().audit_dir() / "broken-audit";
  EXPECT_EQ(call.done.error().message,
            "region 'broken-audit' requires an audit trail, which cannot be written (cannot "
            "create the audit directory '" +
                dir.string() +
                "': Not a directory; create it, make it writable by the host, or fix the audit "
                "directory setting); the request was refused");
  EXPECT_EQ(call.provider_requests, 0u);
  EXPECT_TRUE(call.events.empty());
}

TEST_F(AuditTest, NoAuditDirectoryFailsClosedForARegionThatRequiresOne) {
  // A second runtime without plug-ins: the refusal comes before any plug-in is chosen.
  core::RuntimeOptions options = Environment::Get().options();
  options.plugin_dirs.clear();
  options.audit_dir.clear();
  auto runtime = core::Runtime::Create(options);
  ASSERT_TRUE(runtime.ok()) << runtime.error().message;
  const auto done = runtime.value()->Complete("en-US", {}, {{"messages", json::array()}});
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.error().id, "RG-R006");
  EXPECT_EQ(done.error().message,
            "region 'policy-test' requires an audit trail, which cannot be written (no audit "
            "directory is configured (--audit-dir)); the request was refused");
}

// ---- 6. labels and implicit metadata -------------------------------------------------------

class LabelTest : public PolicyTest, public ::testing::WithParamInterface<bool> {};

TEST_P(LabelTest, StartLabelPrecedesTheAnswer) {
  const Call call = Complete("zh-CN", Qwen(), "你好，世界", GetParam());
  ASSERT_TRUE(call.done.ok()) << call.Describe();
  const std::string prefix = std::string(kLabelZh) + "\n\n";
  EXPECT_EQ(call.done->result.text, prefix + "Echo: 你好，世界");
  EXPECT_EQ(call.CallerText(), prefix + "Echo: 你好，世界");
  ASSERT_FALSE(call.events.empty());
  EXPECT_EQ(call.events.front().kind, RG_EVENT_TEXT_DELTA);
  EXPECT_EQ(call.events.front().data, prefix) << "the label is the first delta";
  EXPECT_EQ(call.done->labels.position, "start");
  EXPECT_EQ(call.done->labels.label_key, "zh-CN");
}

TEST_P(LabelTest, UiPersistentLabelLeavesTheAnswerAlone) {
  const Call call = Complete("fr-FR", Qwen(), "bonjour", GetParam());
  ASSERT_TRUE(call.done.ok()) << call.Describe();
  EXPECT_EQ(call.done->result.text, "Echo: bonjour");
  EXPECT_EQ(call.CallerText(), "Echo: bonjour");
  EXPECT_EQ(call.done->labels.ui_notice, kLabelFr);
  EXPECT_EQ(call.done->labels.position, "ui_persistent");
}

TEST_P(LabelTest, ImplicitMetadataFollowsGb45438) {
  const Call call = Complete("en-US", Qwen(), "good evening", GetParam());
  ASSERT_TRUE(call.done.ok()) << call.Describe();
  const core::GatedCompletion& done = *call.done;
  const nlohmann::ordered_json& metadata = done.labels.implicit_metadata;
  ASSERT_TRUE(metadata.is_object()) << metadata.dump();
  const std::string time = metadata.value("time", "");
  EXPECT_TRUE(std::regex_match(time, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << time;
  const std::string& id = done.decision_id;
  const std::string producer = kProducerCode;
  EXPECT_EQ(metadata.dump(),
            R"({"scheme":"gb45438-aigc","ai_generated":true,"provider":"qwen","model":"qwen-plus",)"
            R"("time":")" +
                time + R"(","id":")" + id + R"(","AIGC":{"Label":"1","ContentProducer":")" +
                producer + R"(","ProduceID":")" + id +
                R"(","ReservedCode1":"","ContentPropagator":")" + producer +
                R"(","PropagateID":")" + id + R"(","ReservedCode2":""}})");
  EXPECT_TRUE(done.labels.warnings.empty()) << json(done.labels.warnings).dump();
  EXPECT_EQ(done.labels.label_key, "en-US");
  EXPECT_EQ(done.labels.suffix, std::string("\n\n") + kLabelEn);
}

std::string ModeName(const ::testing::TestParamInfo<bool>& param) {
  return param.param ? "stream" : "buffered";
}

INSTANTIATE_TEST_SUITE_P(StreamAndBuffered, LabelTest, ::testing::Bool(), ModeName);

TEST_P(LabelTest, FinalEventCarriesTheImplicitMetadata) {
  // A streaming caller has only the events: the FINAL one carries the metadata, in the
  // standard's key order, exactly as GatedCompletion::labels holds it.
  const Call call = Complete("zh-CN", Qwen(), "你好", GetParam());
  ASSERT_TRUE(call.done.ok()) << call.Describe();
  ASSERT_TRUE(call.Final().is_object()) << "exactly one FINAL event, the last one";
  const auto final_data = nlohmann::ordered_json::parse(call.events.back().data);
  ASSERT_TRUE(final_data.contains("implicit_metadata")) << call.events.back().data;
  EXPECT_EQ(final_data["implicit_metadata"].dump(), call.done->labels.implicit_metadata.dump());
  EXPECT_EQ(final_data.value("decision_id", ""), call.done->decision_id);
  EXPECT_EQ(final_data.value("outcome", ""), "completed");
}

// ---- 7. content given as parts ([{"type":"text","text":...}]) ------------------------------

using ContentPartsTest = PolicyTest;

// The plug-ins send the text parts of array content to the vendor, so the input policies
// inspect them like string content.
TEST_F(ContentPartsTest, ArrayContentIsFilteredLikeStringContent) {
  const json parts = json::array({{{"type", "text"}, {"text", "tell me about zorblax please"}}});
  const Call call = Complete("en-US", Qwen(), parts, false);
  ASSERT_TRUE(call.done.ok()) << call.Describe();
  EXPECT_EQ(call.provider_requests, 0u) << "the blocked term was sent to the provider";
  EXPECT_EQ(call.done->outcome, "blocked_input") << call.Describe();
  EXPECT_EQ(call.done->result.text, kRefusalEn);
}

TEST_F(ContentPartsTest, ArrayContentPiiGoesOutAsPlaceholders) {
  const json parts =
      json::array({{{"type", "text"}, {"text", "mail alice@example.com [[sim:reverse]]"}}});
  const Call call = Complete("en-US", Qwen(), parts, false);
  ASSERT_TRUE(call.done.ok()) << call.Describe();
  EXPECT_EQ(call.done->result.text, "Echo: " + Reversed("mail [[PII:EMAIL:1]]") + "\n\n" + kLabelEn)
      << "the provider saw the e-mail address itself";
}

json TextParts(const std::vector<std::string>& texts) {
  json parts = json::array();
  for (const std::string& text : texts) parts.push_back({{"type", "text"}, {"text", text}});
  return parts;
}

TEST_F(ContentPartsTest, PromptHmacCoversEveryTextPart) {
  const Call call = Complete("en-US", Qwen(), TextParts({"tell me about ", "zorblax"}), false);
  ASSERT_TRUE(call.done.ok()) << call.Describe();
  ASSERT_EQ(call.done->outcome, "blocked_input");
  const json record = RecordOf(call.done->decision_id);
  const std::string salt = ReadFile(Environment::Get().audit_dir() / "audit.salt");
  EXPECT_EQ(record.value("prompt_hmac", ""),
            compliance::HmacSha256Hex(salt, "tell me about zorblax"))
      << "the text parts joined, as a string prompt of the same text";
}

TEST_F(ContentPartsTest, ContentThatIsNeitherTextNorPartsIsRefused) {
  const Call call = Complete("en-US", Qwen(), 42, true);
  ASSERT_NO_FATAL_FAILURE(ExpectStoppedByRegiongate(
      call, "input",
      "the request was refused: 'messages[0].content' is a JSON number, which regiongate cannot "
      "inspect for the content and PII policies of region 'policy-test'; send text only (a "
      "string, or parts {\"type\":\"text\",\"text\":...})",
      kRefusalEn));
  EXPECT_EQ(call.provider_requests, 0u);
}

// Parts are inspected as the text they form together, which is what a model reads: a term or
// a value split across two parts is found, and replaced whole.
TEST_P(RouteTest, TermSplitAcrossPartsIsRefused) {
  for (const auto& split :
       std::vector<std::vector<std::string>>{{"tell me about zor", "blax please"},
                                             {"虛構", "禁語"},
                                             {"ｚｏｒ", "\u200B", "ｂｌａｘ"}}) {
    SCOPED_TRACE(json(split).dump());
    const Call call = Run("en-US", TextParts(split));
    ASSERT_NO_FATAL_FAILURE(ExpectStoppedByRegiongate(call, "input", kInputRefused, kRefusalEn));
    EXPECT_EQ(call.provider_requests, 0u) << "the simulator received a request";
    EXPECT_EQ(call.Final().value("cause", ""), "content_filter");
  }
}

TEST_P(RouteTest, PiiSplitAcrossPartsGoesOutAsOnePlaceholder) {
  const Call echoed = Run("en-US", TextParts({"mail alice@exa", "mple.com, ", "bob@example.org"}));
  ASSERT_TRUE(echoed.done.ok()) << echoed.Describe();
  EXPECT_EQ(echoed.done->outcome, "completed") << echoed.Describe();
  const std::string restored =
      std::string("Echo: mail alice@example.com, bob@example.org\n\n") + kLabelEn;
  EXPECT_EQ(echoed.done->result.text, restored);
  EXPECT_EQ(echoed.CallerText(), restored);
  EXPECT_EQ(RecordOf(echoed.done->decision_id).value("pii", json()),
            json::parse(R"({"email":{"action":"replace_and_restore","count":2}})"));

  const Call reversed =
      Run("en-US", TextParts({"mail alice@exa", "mple.com, ", "bob@example.org [[sim:reverse]]"}));
  ASSERT_TRUE(reversed.done.ok()) << reversed.Describe();
  EXPECT_EQ(reversed.done->result.text,
            "Echo: " + Reversed("mail [[PII:EMAIL:1]], [[PII:EMAIL:2]]") + "\n\n" + kLabelEn)
      << "the provider saw an address";
}

TEST_P(RouteTest, MaskedTermInPartsIsMaskedForTheProvider) {
  const std::string provider_saw =
      "Echo: " + Reversed("say " + std::string(9, '*') + " now") + "\n\n" + kLabelEn;
  for (const json& content : {json("say glorptang now [[sim:reverse]]"),
                              TextParts({"say glorp", "tang now [[sim:reverse]]"}),
                              TextParts({"say gl", "orpt", "ang now", " [[sim:reverse]]"})}) {
    SCOPED_TRACE(content.dump());
    const Call call = Run("en-US", content);
    ASSERT_TRUE(call.done.ok()) << call.Describe();
    EXPECT_EQ(call.done->outcome, "completed") << call.Describe();
    EXPECT_EQ(call.done->result.text, provider_saw);
    EXPECT_EQ(call.done->result.text.find(kMaskedTerm), std::string::npos);
    const auto& rules = call.done->rules;
    EXPECT_NE(std::find(rules.begin(), rules.end(), "content:A.3.a"), rules.end())
        << json(rules).dump();
  }
}

TEST_P(RouteTest, PartTheRuntimeCannotInspectIsRefusedBeforeAnyByteLeaves) {
  const json parts = json::array(
      {{{"type", "text"}, {"text", "what is in this picture?"}},
       {{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64,iVBORw0KGgo="}}}}});
  const Call call = Run("en-US", parts);
  ASSERT_NO_FATAL_FAILURE(ExpectStoppedByRegiongate(
      call, "input",
      "the request was refused: 'messages[0].content[1]' is a part of type 'image_url', which "
      "regiongate cannot inspect for the content and PII policies of region 'policy-test'; send "
      "text only (a string, or parts {\"type\":\"text\",\"text\":...})",
      kRefusalEn));
  EXPECT_EQ(call.provider_requests, 0u) << "the simulator received a request";
  EXPECT_EQ(call.Final().value("cause", ""), "uninspectable_content");
  const json record = RecordOf(call.done->decision_id);
  EXPECT_EQ(record.value("detail", ""), "uninspectable_content");
  EXPECT_EQ(record.value("outcome", ""), "blocked_input");
}

// ---- 8. what the audit record says about a stopped request ---------------------------------

// A refusal is audited with its cause, not with the code the caller gets.
TEST_F(AuditTest, RefusalRecordKeepsItsCause) {
  const Call words = Complete("en-US", Qwen(), "tell me about zorblax", false);
  const Call pii = Complete("en-US", Qwen(), "my number is 123-45-6789", false);
  ASSERT_TRUE(words.done.ok() && pii.done.ok()) << words.Describe() << pii.Describe();
  ASSERT_EQ(words.done->outcome, "blocked_input");
  ASSERT_EQ(pii.done->outcome, "blocked_input");
  EXPECT_EQ(RecordOf(words.done->decision_id).value("detail", ""), "content_filter");
  EXPECT_EQ(RecordOf(pii.done->decision_id).value("detail", ""), "pii");
}

// A request refused for PII is audited with the finding that caused it.
TEST_F(AuditTest, PiiRefusalRecordNamesTheType) {
  const Call call = Complete("en-US", Qwen(), "my number is 123-45-6789", false);
  ASSERT_TRUE(call.done.ok()) << call.Describe();
  ASSERT_EQ(call.done->outcome, "blocked_input");
  const json record = RecordOf(call.done->decision_id);
  EXPECT_EQ(record.value("pii", json()), json::parse(R"({"us_ssn":{"action":"block","count":1}})"));
  EXPECT_EQ(record.value("rules", json()), json({"pii:us_ssn", "policy-test-runtime"}));
}

// An answer stopped by regiongate's own output filter is told apart from a vendor's block.
TEST_F(AuditTest, OutputBlockRecordSaysRegiongateBlocked) {
  const Call ours = Complete("en-US", Qwen(), PromptForAnswer("say zorblax"), true);
  const Call theirs = Complete("en-US", Qwen(), "anything [[sim:output-block]]", true);
  ASSERT_TRUE(ours.done.ok() && theirs.done.ok()) << ours.Describe() << theirs.Describe();
  ASSERT_EQ(ours.done->blocked_by, "regiongate");
  ASSERT_EQ(theirs.done->blocked_by, "provider");
  const json ours_record = RecordOf(ours.done->decision_id);
  const json theirs_record = RecordOf(theirs.done->decision_id);
  EXPECT_EQ(ours_record.value("detail", ""), "content_filter");
  EXPECT_NE(ours_record.value("detail", ""), theirs_record.value("detail", ""));
}

TEST_F(AuditTest, RecordSaysWhoBlocked) {
  struct Case {
    std::string prompt;
    std::string outcome;
    std::string detail;
    json extra;  ///< null: no "extra" in the record
  };
  const std::vector<Case> cases = {
      {"tell me about zorblax", "blocked_input", "content_filter", {{"blocked_by", "regiongate"}}},
      {PromptForAnswer("say zorblax"),
       "blocked_output",
       "content_filter",
       {{"blocked_by", "regiongate"}}},
      {"anything [[sim:input-block]]",
       "blocked_input",
       "provider_blocked",
       {{"blocked_by", "provider"}}},
      {"anything [[sim:output-block]]",
       "blocked_output",
       "provider_blocked",
       {{"blocked_by", "provider"}}},
      {"good night", "completed", "", nullptr},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.prompt);
    const Call call = Complete("en-US", Qwen(), c.prompt, true);
    ASSERT_TRUE(call.done.ok()) << call.Describe();
    ASSERT_EQ(call.done->outcome, c.outcome) << call.Describe();
    json record = RecordOf(call.done->decision_id);  // not const: a missing key reads as null
    EXPECT_EQ(record.value("outcome", ""), c.outcome);
    EXPECT_EQ(record.value("detail", ""), c.detail);
    EXPECT_EQ(record["extra"], c.extra);
    EXPECT_EQ(call.done->blocked_by,
              c.extra.is_null() ? std::string() : c.extra["blocked_by"].get<std::string>());
  }
}

TEST_F(AuditTest, StreamingCallerMatchesARefusalToItsRecord) {
  const Call call = Complete("en-US", Qwen(), "tell me about 虚构禁语", true);
  const json final_data = call.Final();
  ASSERT_TRUE(final_data.is_object()) << call.Describe();
  EXPECT_EQ(final_data.value("outcome", ""), "blocked_input");
  EXPECT_FALSE(final_data.contains("implicit_metadata"))
      << "the refusal is regiongate's own text, not generated content";
  const json record = RecordOf(final_data.value("decision_id", ""));
  EXPECT_EQ(record.value("outcome", ""), "blocked_input");
  EXPECT_EQ(record.value("detail", ""), "content_filter");
}

TEST_F(AuditTest, DeniedAndFailedRequestsAreAuditedWithTheirErrorId) {
  const Route nothing_allowed = {"no_such_model", {"qwen", "no-such-model", ""}, json::object()};
  const Call denied = Complete("en-US", nothing_allowed, "hello", false);
  ASSERT_FALSE(denied.done.ok());
  json record = json::parse(AuditLines().back());
  EXPECT_EQ(record.value("outcome", ""), "denied");
  EXPECT_EQ(record.value("detail", ""), denied.done.error().id);
  EXPECT_TRUE(denied.events.empty());

  const Route bad_setting = {"bad_setting", Qwen().choice, {{"no_such_setting", 1}}};
  const Call failed = Complete("en-US", bad_setting, "hello", false);
  ASSERT_FALSE(failed.done.ok());
  EXPECT_EQ(failed.done.error().id, "RG-I003");
  EXPECT_EQ(failed.provider_requests, 0u);
  record = json::parse(AuditLines().back());
  EXPECT_EQ(record.value("outcome", ""), "failed");
  EXPECT_EQ(record.value("detail", ""), "RG-I003");
  EXPECT_EQ(record.value("plugin", ""), "qwen");
  EXPECT_TRUE(compliance::VerifyAuditFiles(AuditFiles(kRegionId)).ok());
}

}  // namespace
}  // namespace rg
