// PII detection (true and false positives for every kind: bad checksums are not IDs, numbers
// in prose are not phone numbers), mask formats, the actions of ProcessInput, the manifest's
// pii section, and the replace-and-restore round trip with placeholders split across chunks
// at every position.
#include "regiongate/compliance/pii.hpp"

#include <gtest/gtest.h>

#include "regiongate/compliance/region_manifest.hpp"
#include "test_util.hpp"

namespace rg::compliance {
namespace {

using V = std::vector<std::string>;

// "type:value" for every finding, in order.
V Found(std::string_view text) {
  V out;
  for (const PiiFinding& f : DetectPii(text)) {
    out.push_back(std::string(ToString(f.type)) + ":" + f.value);
  }
  return out;
}

// One finding of `type` covering exactly `value`: alone, in English prose and in Chinese.
void ExpectDetected(PiiType type, const std::string& value) {
  const V expected{std::string(ToString(type)) + ":" + value};
  EXPECT_EQ(Found(value), expected) << value;
  EXPECT_EQ(Found("see " + value + ", thanks"), expected) << value;
  EXPECT_EQ(Found("号码" + value + "。"), expected) << value;
}

void ExpectNothing(const std::string& text) { EXPECT_EQ(Found(text), V{}) << text; }

// ---- detection -----------------------------------------------------------------------------

TEST(PiiDetectTest, Email) {
  ExpectDetected(PiiType::kEmail, "zhang.san+cn@example.com.cn");
  ExpectDetected(PiiType::kEmail, "li_4@qq.com");
  ExpectDetected(PiiType::kEmail, "a@b.io");
  // Sentence punctuation is not part of the address.
  EXPECT_EQ(Found("mail bob@example.org."), V{"email:bob@example.org"});
  EXPECT_EQ(Found("<jo@example.net>"), V{"email:jo@example.net"});
}

TEST(PiiDetectTest, NotEmail) {
  ExpectNothing("user@localhost");
  ExpectNothing("a@b.c");
  ExpectNothing("follow @regiongate on social media");
  ExpectNothing("x@y");
  ExpectNothing("foo@bar.123");
  ExpectNothing("john at example dot com");
  ExpectNothing("price @ 3.50 each");
}

TEST(PiiDetectTest, PhoneMainlandChina) {
  ExpectDetected(PiiType::kPhone, "13812345678");
  ExpectDetected(PiiType::kPhone, "138-1234-5678");
  ExpectDetected(PiiType::kPhone, "138 1234 5678");
  ExpectDetected(PiiType::kPhone, "+86 138 1234 5678");
  ExpectDetected(PiiType::kPhone, "+8613812345678");
  ExpectDetected(PiiType::kPhone, "010-12345678");
  ExpectDetected(PiiType::kPhone, "0755-1234567");
  ExpectDetected(PiiType::kPhone, "(010)12345678");
  ExpectDetected(PiiType::kPhone, "+86 10 1234 5678");
  EXPECT_EQ(Found("电话(13812345678)"), V{"phone:13812345678"});
}

TEST(PiiDetectTest, PhoneUnitedStates) {
  ExpectDetected(PiiType::kPhone, "(415) 555-2671");
  ExpectDetected(PiiType::kPhone, "415-555-2671");
  ExpectDetected(PiiType::kPhone, "415.555.2671");
  ExpectDetected(PiiType::kPhone, "415 555 2671");
  ExpectDetected(PiiType::kPhone, "1-415-555-2671");
  ExpectDetected(PiiType::kPhone, "+1 415 555 2671");
  ExpectDetected(PiiType::kPhone, "+1-415-555-2671");
}

TEST(PiiDetectTest, PhoneFranceJapanAndE164) {
  ExpectDetected(PiiType::kPhone, "01 23 45 67 89");
  ExpectDetected(PiiType::kPhone, "06.12.34.56.78");
  ExpectDetected(PiiType::kPhone, "+33 6 12 34 56 78");
  ExpectDetected(PiiType::kPhone, "03-1234-5678");
  ExpectDetected(PiiType::kPhone, "090-1234-5678");
  ExpectDetected(PiiType::kPhone, "0120-123-456");
  ExpectDetected(PiiType::kPhone, "+81 90 1234 5678");
  ExpectDetected(PiiType::kPhone, "+49 151 12345678");
  ExpectDetected(PiiType::kPhone, "+4915112345678");
}

TEST(PiiDetectTest, NumbersInProseAreNotPhoneNumbers) {
  ExpectNothing("in 2024 we sold 12345 units for 3.50 each");
  ExpectNothing("version 1.2.3, pi is 3.1415926535");
  ExpectNothing("released on 2024-01-15 at 12:30:45");
  ExpectNothing("order 12345678901 shipped");  // 11 digits, but not 1[3-9]...
  ExpectNothing("call 555-1234");              // no area code
  ExpectNothing("0123456789");                 // unseparated 10 digits
  ExpectNothing("(415) 155-2671");             // exchange cannot start with 1
  ExpectNothing("415-055-2671");
  ExpectNothing("ISBN 978-3-16-148410-0");
  ExpectNothing("1 000 000 people");
  ExpectNothing("+1 234");
  ExpectNothing("2+13812345678");   // arithmetic, not a number
  ExpectNothing("abc13812345678");  // part of a token
  ExpectNothing("13812345678.5");
  ExpectNothing("090-1234-56789");
}

TEST(PiiDetectTest, MainlandResidentId) {
  ExpectDetected(PiiType::kCnResidentId, "11010519491231002X");
  ExpectDetected(PiiType::kCnResidentId, "11010519491231002x");
  ExpectDetected(PiiType::kCnResidentId, "44030419900307123X");
  ExpectDetected(PiiType::kCnResidentId, "310115198512010018");
}

TEST(PiiDetectTest, ResidentIdWithBadChecksumOrDateIsNotAnId) {
  ExpectNothing("110105194912310021");  // check character should be X
  ExpectNothing("310115198512010019");  // should be 8
  ExpectNothing("110101209901010017");  // checksum right, born in 2099
  ExpectNothing("110105194913310021");  // checksum right, month 13
  ExpectNothing("990105194912310023");  // checksum right, no province 99
  ExpectNothing("11010519491231002X1");
}

TEST(PiiDetectTest, BankCard) {
  ExpectDetected(PiiType::kBankCard, "4111111111111111");
  ExpectDetected(PiiType::kBankCard, "4111 1111 1111 1111");
  ExpectDetected(PiiType::kBankCard, "4111-1111-1111-1111");
  ExpectDetected(PiiType::kBankCard, "5555555555554444");
  ExpectDetected(PiiType::kBankCard, "3782 822463 10005");
  ExpectDetected(PiiType::kBankCard, "6222021234567890128");
  ExpectDetected(PiiType::kBankCard, "6222 0212 3456 7890 128");
}

TEST(PiiDetectTest, NotBankCard) {
  ExpectNothing("4111 1111 1111 1112");  // Luhn fails
  ExpectNothing("4111111111111112");
  ExpectNothing("1700000000000");         // a millisecond timestamp
  ExpectNothing("4111 11111 1111 111");   // not a card grouping
  ExpectNothing("4111 1111-1111 1111");   // mixed separators
  ExpectNothing("41111111111111111111");  // 20 digits
}

TEST(PiiDetectTest, JapaneseMyNumber) {
  ExpectDetected(PiiType::kJpMyNumber, "123456789018");
  ExpectDetected(PiiType::kJpMyNumber, "1234 5678 9018");
  ExpectDetected(PiiType::kJpMyNumber, "9876-5432-1093");
  ExpectNothing("123456789012");  // check digit should be 8
  ExpectNothing("1234 5678 9012");
  ExpectNothing("1234-5678 9018");
}

TEST(PiiDetectTest, UsSocialSecurityNumber) {
  ExpectDetected(PiiType::kUsSsn, "123-45-6789");
  ExpectDetected(PiiType::kUsSsn, "123 45 6789");
  ExpectNothing("000-12-3456");  // area 000
  ExpectNothing("666-12-3456");  // area 666
  ExpectNothing("900-12-3456");  // area 9xx
  ExpectNothing("123-00-4567");  // group 00
  ExpectNothing("123-45-0000");  // serial 0000
  ExpectNothing("123456789");    // unseparated: too common in prose
}

TEST(PiiDetectTest, IpAddresses) {
  ExpectDetected(PiiType::kIpAddress, "192.168.1.20");
  ExpectDetected(PiiType::kIpAddress, "10.0.0.1");
  ExpectDetected(PiiType::kIpAddress, "2001:db8:85a3::8a2e:370:7334");
  ExpectDetected(PiiType::kIpAddress, "2001:0db8:0000:0000:0000:ff00:0042:8329");
  ExpectDetected(PiiType::kIpAddress, "::ffff:192.0.2.128");
  EXPECT_EQ(Found("from 2001:db8::1:5."), V{"ip_address:2001:db8::1:5"});
}

TEST(PiiDetectTest, NotIpAddresses) {
  ExpectNothing("256.1.1.1");
  ExpectNothing("1.2.3");
  ExpectNothing("version 1.2.3.4.5");
  ExpectNothing("01.2.3.4");
  ExpectNothing("std::vector<int> and a::b");
  ExpectNothing("12:30:45");
  ExpectNothing("dead::beef:cafe");
  ExpectNothing("::1");
  ExpectNothing("00:1A:2B:3C:4D:5E");
}

TEST(PiiDetectTest, OneFindingPerValueAndOffsetsIntoTheOriginal) {
  // The phone digits inside an address, the card's groups: each value is claimed once.
  EXPECT_EQ(Found("13812345678@163.com"), V{"email:13812345678@163.com"});
  const std::string text = "卡号 4111 1111 1111 1111，手机 13812345678，邮箱 a@b.io";
  const std::vector<PiiFinding> findings = DetectPii(text);
  ASSERT_EQ(findings.size(), 3u);
  for (const PiiFinding& f : findings) EXPECT_EQ(text.substr(f.begin, f.end - f.begin), f.value);
  EXPECT_EQ(findings[0].type, PiiType::kBankCard);
  EXPECT_EQ(findings[0].begin, std::string("卡号 ").size());
  EXPECT_EQ(findings[1].type, PiiType::kPhone);
  EXPECT_EQ(findings[2].type, PiiType::kEmail);
  // Only the types asked for are returned, but the others still claim their bytes.
  const PiiType phone[] = {PiiType::kPhone};
  EXPECT_EQ(DetectPii(text, phone).size(), 1u);
  EXPECT_TRUE(DetectPii("4111 1111 1111 1111", phone).empty());
}

// ---- masks ---------------------------------------------------------------------------------

TEST(PiiMaskTest, Formats) {
  EXPECT_EQ(MaskPii(PiiType::kEmail, "zhang.san@example.com.cn"), "z***@example.com.cn");
  EXPECT_EQ(MaskPii(PiiType::kPhone, "+86 138 1234 5678"), "***5678");
  EXPECT_EQ(MaskPii(PiiType::kPhone, "(415) 555-2671"), "***2671");
  EXPECT_EQ(MaskPii(PiiType::kBankCard, "4111 1111 1111 1111"), "***1111");
  EXPECT_EQ(MaskPii(PiiType::kCnResidentId, "11010519491231002X"), "***002X");
  EXPECT_EQ(MaskPii(PiiType::kJpMyNumber, "1234 5678 9018"), "***9018");
  EXPECT_EQ(MaskPii(PiiType::kUsSsn, "123-45-6789"), "***6789");
  EXPECT_EQ(MaskPii(PiiType::kIpAddress, "192.168.1.20"), "192.168.1.***");
  EXPECT_EQ(MaskPii(PiiType::kIpAddress, "2001:db8:85a3::8a2e:370:7334"), "2001:db8:85a3:***");
  EXPECT_EQ(MaskPii(PiiType::kIpAddress, "2001:db8::1"), "2001:db8:0:***");
}

// ---- actions -------------------------------------------------------------------------------

PiiPolicy Policy(std::map<PiiType, PiiAction> actions) {
  PiiPolicy p;
  p.region = "test-region";
  p.actions = std::move(actions);
  return p;
}

TEST(PiiProcessTest, MaskAllowAndUnlistedTypes) {
  const PiiPolicy policy =
      Policy({{PiiType::kPhone, PiiAction::kMask}, {PiiType::kEmail, PiiAction::kAllow}});
  const std::string text = "call 138-1234-5678 or mail a@b.io, card 4111111111111111";
  const PiiInputResult r = ProcessInput(policy, text);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.text_for_provider, "call ***5678 or mail a@b.io, card 4111111111111111");
  ASSERT_EQ(r.findings.size(), 2u) << "bank_card is not listed, so it is not looked for";
  EXPECT_EQ(r.findings[0].action, PiiAction::kMask);
  EXPECT_EQ(r.findings[0].replacement, "***5678");
  EXPECT_EQ(r.findings[0].begin, 5u);
  EXPECT_EQ(r.findings[1].action, PiiAction::kAllow);
  EXPECT_TRUE(r.restore.empty());
  EXPECT_EQ(PiiSummaryJson(r.findings),
            (nlohmann::json{{"email", {{"action", "allow"}, {"count", 1}}},
                            {"phone", {{"action", "mask"}, {"count", 1}}}}));
}

TEST(PiiProcessTest, BlockNamesTheTypesNeverTheValues) {
  const PiiPolicy policy = Policy({{PiiType::kBankCard, PiiAction::kBlock},
                                   {PiiType::kUsSsn, PiiAction::kBlock},
                                   {PiiType::kEmail, PiiAction::kReplaceAndRestore}});
  const PiiInputResult r =
      ProcessInput(policy, "a@b.io pays with 4111 1111 1111 1111, ssn 123-45-6789");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.blocked->id, "RG-D001");
  EXPECT_EQ(r.blocked->message,
            "the request contains a bank card number and a US social security number, which "
            "region 'test-region' does not allow to be sent to a model provider (pii action "
            "'block' for bank_card, us_ssn); remove it from the request and send it again");
  EXPECT_EQ(r.text_for_provider, "");
  EXPECT_TRUE(r.restore.empty());
  const nlohmann::json summary = PiiSummaryJson(r.findings);
  EXPECT_EQ(summary.dump().find("4111"), std::string::npos);
}

TEST(PiiProcessTest, ReplaceAndRestoreRoundTrip) {
  const PiiPolicy policy = Policy({{PiiType::kEmail, PiiAction::kReplaceAndRestore},
                                   {PiiType::kPhone, PiiAction::kReplaceAndRestore},
                                   {PiiType::kCnResidentId, PiiAction::kReplaceAndRestore}});
  const std::string text =
      "我是张三，身份证11010519491231002X，邮箱 zs@example.cn，手机13812345678，"
      "再说一遍邮箱 zs@example.cn，备用 li@example.cn";
  const PiiInputResult r = ProcessInput(policy, text);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.text_for_provider,
            "我是张三，身份证[[PII:CN_ID:1]]，邮箱 [[PII:EMAIL:1]]，手机[[PII:PHONE:1]]，"
            "再说一遍邮箱 [[PII:EMAIL:1]]，备用 [[PII:EMAIL:2]]");
  EXPECT_EQ(r.restore.size(), 4u);
  EXPECT_EQ(RestorePii(r.text_for_provider, r.restore), text);
  const std::string answer =
      "好的，[[PII:EMAIL:2]] 和 [[PII:PHONE:1]] 已记录；[[PII:EMAIL:9]] 未知";
  EXPECT_EQ(RestorePii(answer, r.restore),
            "好的，li@example.cn 和 13812345678 已记录；[[PII:EMAIL:9]] 未知");
}

TEST(PiiProcessTest, PlaceholdersTypedByTheUserAreNotReused) {
  const PiiPolicy policy = Policy({{PiiType::kEmail, PiiAction::kReplaceAndRestore}});
  const PiiInputResult r = ProcessInput(policy, "what is [[PII:EMAIL:1]]? mine is a@b.io");
  EXPECT_EQ(r.text_for_provider, "what is [[PII:EMAIL:1]]? mine is [[PII:EMAIL:2]]");
  EXPECT_EQ(RestorePii("[[PII:EMAIL:1]] / [[PII:EMAIL:2]]", r.restore), "[[PII:EMAIL:1]] / a@b.io");
}

TEST(PiiProcessTest, MessagesOfOneRequestSharePlaceholders) {
  const PiiPolicy policy = Policy({{PiiType::kEmail, PiiAction::kReplaceAndRestore}});
  const PiiInputResult first = ProcessInput(policy, "I am a@b.io");
  const PiiInputResult second = ProcessInput(policy, "cc c@d.io and a@b.io", first.restore);
  EXPECT_EQ(second.text_for_provider, "cc [[PII:EMAIL:2]] and [[PII:EMAIL:1]]");
  EXPECT_EQ(second.restore.size(), 2u);
}

TEST(PiiProcessTest, EmptyPolicyPassesTextUnchanged) {
  const PiiInputResult r = ProcessInput(PiiPolicy{}, "a@b.io 13812345678");
  EXPECT_EQ(r.text_for_provider, "a@b.io 13812345678");
  EXPECT_TRUE(r.findings.empty());
}

// ---- stream restorer -----------------------------------------------------------------------

PiiRestoreMap SampleMap() {
  PiiRestoreMap map;
  map.Add(PiiType::kEmail, "zs@example.cn");
  map.Add(PiiType::kPhone, "13812345678");
  map.Add(PiiType::kBankCard, "4111 1111 1111 1111");
  return map;
}

const char* const kAnswer =
    "[[PII:EMAIL:1]] wrote: call [[PII:PHONE:1]]; card [[PII:BANK_CARD:1]]]] and [[x] "
    "[[PII:PHONE:7]] [[PII:[[PII:EMAIL:1]]!";

TEST(PiiStreamRestorerTest, SplitAtEveryPositionGivesTheWholeRestore) {
  const PiiRestoreMap map = SampleMap();
  const std::string text = kAnswer;
  const std::string expected = RestorePii(text, map);
  EXPECT_EQ(expected,
            "zs@example.cn wrote: call 13812345678; card 4111 1111 1111 1111]] and [[x] "
            "[[PII:PHONE:7]] [[PII:zs@example.cn!");
  for (size_t a = 0; a <= text.size(); ++a) {
    for (size_t b = a; b <= text.size(); ++b) {
      PiiStreamRestorer restorer(map);
      std::string out = restorer.Push(text.substr(0, a));
      out += restorer.Push(text.substr(a, b - a));
      out += restorer.Push(text.substr(b));
      out += restorer.Finish();
      ASSERT_EQ(out, expected) << "split at " << a << " and " << b;
    }
  }
}

TEST(PiiStreamRestorerTest, ByteByByte) {
  const PiiRestoreMap map = SampleMap();
  const std::string text = kAnswer;
  PiiStreamRestorer restorer(map);
  std::string out;
  for (char c : text) {
    out += restorer.Push(std::string_view(&c, 1));
    EXPECT_LT(restorer.held(), kMaxPiiPlaceholderSize);
  }
  out += restorer.Finish();
  EXPECT_EQ(out, RestorePii(text, map));
}

TEST(PiiStreamRestorerTest, HoldsBackOnlyAPossiblePlaceholderPrefix) {
  PiiStreamRestorer restorer(SampleMap());
  EXPECT_EQ(restorer.Push("hello [[PII:EM"), "hello ");
  EXPECT_EQ(restorer.held(), 8u);
  EXPECT_EQ(restorer.Push("AIL:1"), "");
  EXPECT_EQ(restorer.Push("]"), "");
  EXPECT_EQ(restorer.Push("] ok ["), "zs@example.cn ok ");
  EXPECT_EQ(restorer.held(), 1u);
  EXPECT_EQ(restorer.Push("x"), "[x");
  EXPECT_EQ(restorer.held(), 0u);
  EXPECT_EQ(restorer.Push("[[PII:EMAIL:1234567890"), "[[PII:EMAIL:1234567890")
      << "more digits than a placeholder has: released at once";
  EXPECT_EQ(restorer.Push("tail [[PII:PHO"), "tail ");
  EXPECT_EQ(restorer.Finish(), "[[PII:PHO") << "an unfinished prefix is released at the end";
}

// ---- the manifest's pii section ------------------------------------------------------------

const char* const kManifestHead =
    "schema_version: 1\n"
    "region: test\n"
    "name: Test\n"
    "locales: [en-US]\n"
    "rules:\n"
    "  - id: t-deny\n"
    "    kind: deny\n"
    "    summary: s\n"
    "    citation: c\n"
    "    effective: 2024-01-01\n"
    "    match: [{plugin: openai}]\n"
    "pii:\n"
    "  actions:\n";  // line 13

V Strings(const Diagnostics& diagnostics) {
  V out;
  for (const Diagnostic& d : diagnostics) out.push_back(d.ToString());
  return out;
}

V Check(const std::string& actions) {
  return Strings(ParseRegionManifest(kManifestHead + actions, "t.yaml", nullptr));
}

TEST(PiiManifestTest, EveryTypeAndActionParses) {
  RegionManifest m;
  const std::string actions =
      "    - {type: email, action: allow}\n"
      "    - {type: phone, action: mask}\n"
      "    - {type: cn_resident_id, action: replace_and_restore}\n"
      "    - {type: bank_card, action: block}\n"
      "    - {type: jp_my_number, action: block}\n"
      "    - {type: us_ssn, action: replace_and_restore}\n"
      "    - {type: ip_address, action: mask}\n";
  ASSERT_EQ(Strings(ParseRegionManifest(kManifestHead + actions, "t.yaml", &m)), V{});
  const PiiPolicy policy = PiiPolicyFor(m);
  EXPECT_EQ(policy.region, "test");
  ASSERT_EQ(policy.actions.size(), 7u);
  EXPECT_EQ(policy.actions.at(PiiType::kCnResidentId), PiiAction::kReplaceAndRestore);
  EXPECT_EQ(policy.actions.at(PiiType::kBankCard), PiiAction::kBlock);
  EXPECT_EQ(m.ToJson()["pii"]["actions"][2],
            (nlohmann::json{{"type", "cn_resident_id"}, {"action", "replace_and_restore"}}));
}

TEST(PiiManifestTest, RetiredValuesSayWhatToWriteInstead) {
  EXPECT_EQ(Check("    - {type: id_number, action: mask}\n"),
            V{"t.yaml:14:14: error: 'pii.actions[0].type' has retired value 'id_number': it was "
              "split by country: write cn_resident_id, jp_my_number or us_ssn"});
  EXPECT_EQ(Check("    - {type: name, action: mask}\n"),
            V{"t.yaml:14:14: error: 'pii.actions[0].type' has retired value 'name': personal "
              "names cannot be detected reliably without a language model, so regiongate does "
              "not look for them; remove the entry"});
  EXPECT_EQ(Check("    - {type: bank_card, action: redact}\n"),
            V{"t.yaml:14:33: error: 'pii.actions[0].action' has retired value 'redact': write "
              "replace_and_restore (the provider sees a placeholder, the caller gets the value "
              "back) or mask (the value is gone for good)"});
  EXPECT_EQ(Check("    - {type: bank_card, action: refuse}\n"),
            V{"t.yaml:14:33: error: 'pii.actions[0].action' has retired value 'refuse': it is "
              "now called block"});
}

TEST(PiiManifestTest, UnknownValuesAndRepeatedTypes) {
  EXPECT_EQ(Check("    - {type: bank_crad, action: mask}\n"),
            V{"t.yaml:14:14: error: 'pii.actions[0].type' has unknown value 'bank_crad'; "
              "expected one of email, phone, cn_resident_id, bank_card, jp_my_number, us_ssn, "
              "ip_address (did you mean 'bank_card'?)"});
  EXPECT_EQ(Check("    - {type: email, action: mask}\n    - {type: email, action: block}\n"),
            V{"t.yaml:15:14: error: 'pii.actions[1].type' repeats 'email'; give one action per "
              "type"});
}

TEST(PiiManifestTest, ShippedManifestsUseOnlyDetectableTypes) {
  for (const char* region : {"cn-mainland", "eu-fr", "hk", "jp", "us"}) {
    Result<RegionManifest> m =
        LoadRegionManifest(testing::kShippedConfig / "regions" / (std::string(region) + ".yaml"));
    ASSERT_TRUE(m.ok()) << m.error().message;
    const PiiPolicy policy = PiiPolicyFor(*m);
    EXPECT_EQ(policy.actions.size(), m->pii.actions.size()) << region;
    EXPECT_FALSE(policy.empty()) << region;
  }
}

}  // namespace
}  // namespace rg::compliance
