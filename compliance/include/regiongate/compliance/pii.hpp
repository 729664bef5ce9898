// PII handling for what leaves the region: detectors for e-mail addresses, phone numbers,
// mainland resident ID numbers, bank cards, Japanese My Numbers, US SSNs and IP addresses,
// and the per-type actions of a region manifest's `pii` section (allow, mask, block,
// replace_and_restore), with a stream restorer for the provider's answer.
// Behaviour, formats and limits: docs/pii-labels-audit.md.
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "regiongate/result.hpp"

namespace rg::compliance {

struct Pii;
struct RegionManifest;

/// What a detector finds. The manifest names are ToString(): email, phone, cn_resident_id,
/// bank_card, jp_my_number, us_ssn, ip_address.
enum class PiiType { kEmail, kPhone, kCnResidentId, kBankCard, kJpMyNumber, kUsSsn, kIpAddress };
inline constexpr std::array<PiiType, 7> kAllPiiTypes = {
    PiiType::kEmail,      PiiType::kPhone, PiiType::kCnResidentId, PiiType::kBankCard,
    PiiType::kJpMyNumber, PiiType::kUsSsn, PiiType::kIpAddress};
std::string_view ToString(PiiType type);
/// "a bank card number", for messages a person reads.
std::string_view Describe(PiiType type);
/// The tag inside placeholders: EMAIL, PHONE, CN_ID, BANK_CARD, MY_NUMBER, SSN, IP.
std::string_view PlaceholderTag(PiiType type);
std::optional<PiiType> ParsePiiType(std::string_view name);

/// What happens to a finding on its way to the provider.
enum class PiiAction {
  kAllow,              ///< sent as is (still reported in findings)
  kMask,               ///< replaced by MaskPii(); the caller never gets the value back
  kBlock,              ///< the request is refused (RG-D001), naming the type, never the value
  kReplaceAndRestore,  ///< a placeholder goes to the provider; the answer gets the value back
};
std::string_view ToString(PiiAction action);
std::optional<PiiAction> ParsePiiAction(std::string_view name);

/// One value found in a text.
struct PiiFinding {
  PiiType type = PiiType::kEmail;
  size_t begin = 0;   ///< byte offset in the original text
  size_t end = 0;     ///< one past the last byte
  std::string value;  ///< the original bytes, text[begin, end)
  /// Set by ProcessInput: what was done, and what replaced the value ("" for allow/block).
  PiiAction action = PiiAction::kAllow;
  std::string replacement;
};

/// Every value of `types` in `text`, ordered by offset, never overlapping. Every detector
/// runs so that one kind cannot claim part of another (a card's digits are not a phone
/// number); only `types` are returned. Bytes only: full-width digits are not matched.
std::vector<PiiFinding> DetectPii(std::string_view text,
                                  std::span<const PiiType> types = kAllPiiTypes);

/// The masked form of a value (the format is part of the contract, docs/pii-labels-audit.md):
/// e-mail "j***@example.com"; phone, bank card, resident ID, My Number, SSN "***" plus the
/// last four digits (an ID's final X kept); IPv4 "192.168.1.***"; IPv6 the first three
/// groups then ":***" ("2001:db8:0:***").
std::string MaskPii(PiiType type, std::string_view value);

/// The `pii` section of one region, as actions. Types it does not list are not looked for.
struct PiiPolicy {
  std::string region;
  std::map<PiiType, PiiAction> actions;

  bool empty() const { return actions.empty(); }
  /// The listed types, for DetectPii.
  std::vector<PiiType> Types() const;
};
/// The policy of a manifest (empty when it has no `pii` section).
PiiPolicy PiiPolicyFor(const RegionManifest& manifest);
PiiPolicy PiiPolicyFor(const Pii& pii, std::string region);

/// Placeholder -> original value, for one request. The same value of the same type always
/// gets the same placeholder, so the model can tell repeated values apart from new ones.
class PiiRestoreMap {
 public:
  struct Entry {
    std::string placeholder;  ///< e.g. "[[PII:EMAIL:1]]"
    PiiType type = PiiType::kEmail;
    std::string value;
  };

  /// The placeholder for `value`, adding one when it is new. `avoid` is the text being
  /// processed: a number whose placeholder already occurs in it is skipped, so a literal
  /// "[[PII:EMAIL:1]]" typed by the user is never mistaken for ours.
  std::string Add(PiiType type, std::string_view value, std::string_view avoid = {});
  /// The original value of a placeholder, or nullptr.
  const std::string* Find(std::string_view placeholder) const;
  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }

 private:
  std::vector<Entry> entries_;
  std::map<std::string, size_t, std::less<>> by_placeholder_;
};

/// Longest placeholder ProcessInput makes; the stream restorer never holds back more.
inline constexpr size_t kMaxPiiPlaceholderSize = 27;

/// What goes to the provider for one input text.
struct PiiInputResult {
  /// The text with mask and replace_and_restore applied; empty when blocked.
  std::string text_for_provider;
  /// Every finding of a listed type with the action taken, offsets into the original text.
  std::vector<PiiFinding> findings;
  /// Set when a finding's action is block: RG-D001, naming the types, never the values.
  std::optional<Error> blocked;
  /// The request's placeholders so far (the `prior` map plus this text's new ones).
  PiiRestoreMap restore;

  bool ok() const { return !blocked.has_value(); }
};

/// Applies `policy` to one input text. For a request with several messages, pass the
/// previous result's `restore` as `prior` so placeholders stay unique across messages.
PiiInputResult ProcessInput(const PiiPolicy& policy, std::string_view text,
                            const PiiRestoreMap& prior = {});

/// Puts the original values back into a complete answer. Unknown placeholders stay as they are.
std::string RestorePii(std::string_view text, const PiiRestoreMap& restore);

/// Puts the original values back into a streamed answer, chunk by chunk. Text is released
/// at once except a tail that could still be the start of a placeholder (at most
/// kMaxPiiPlaceholderSize - 1 bytes), so a placeholder split across chunks is restored whole.
class PiiStreamRestorer {
 public:
  explicit PiiStreamRestorer(PiiRestoreMap restore) : restore_(std::move(restore)) {}

  /// The text that may go to the caller now.
  std::string Push(std::string_view chunk);
  /// The held-back tail, at the end of the stream (or when it stops early).
  std::string Finish();
  /// Bytes held back right now.
  size_t held() const { return held_.size(); }

 private:
  PiiRestoreMap restore_;
  std::string held_;
};

/// Findings as the audit trail records them: per type, the action and a count; never a value.
/// {"bank_card": {"action": "mask", "count": 2}, ...}
nlohmann::json PiiSummaryJson(const std::vector<PiiFinding>& findings);

}  // namespace rg::compliance
