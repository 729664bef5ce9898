// AI-content labels for one response: the explicit label of a region manifest's `labels`
// section (text and position, per locale with fallback) and the implicit metadata returned
// with every response (GB 45438-2025 Appendix E "AIGC" fields for gb45438-aigc; provider,
// model, time and a unique id for every scheme). Reference: docs/pii-labels-audit.md.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace rg::compliance {

struct ExplicitLabel;
struct Labels;

/// Key of the region-wide explicit label in `labels.explicit`, used when no locale matches.
inline constexpr std::string_view kDefaultLabelKey = "default";

/// The explicit label for `locale`: the exact tag, then without its script
/// (zh-Hans-CN -> zh-CN), then the language alone (zh), then `default`. Tags compare in
/// canonical case. nullptr when none applies; `used` (optional) gets the key that matched.
const ExplicitLabel* FindExplicitLabel(const Labels& labels, std::string_view locale,
                                       std::string* used = nullptr);

/// What the response is labelled with.
struct LabelRequest {
  std::string locale;
  std::string provider;  ///< plug-in id
  std::string model;
  std::chrono::system_clock::time_point time{};  ///< when the answer was produced
  std::string id;  ///< unique per response (the decision id); GB 45438 ProduceID
};

struct LabelOutput {
  std::string prefix;     ///< goes before the answer's first byte ("" when none)
  std::string suffix;     ///< goes after its last byte ("" when none)
  std::string ui_notice;  ///< position ui_persistent: the text the UI keeps on screen
  std::string position;   ///< start | end | start_and_end | ui_persistent | "" (no label)
  std::string label_key;  ///< the `labels.explicit` key used, "" when none applied
  /// Machine-readable metadata, keys in a fixed order: scheme, ai_generated, provider,
  /// model, time, id, and for gb45438-aigc an "AIGC" object with its seven fields in the
  /// standard's order.
  nlohmann::ordered_json implicit_metadata;
  /// Configuration gaps a person should fix (no label for the locale, no producer code...).
  std::vector<std::string> warnings;
};

/// Separator between the answer and a start or end label.
inline constexpr std::string_view kLabelSeparator = "\n\n";

/// The labels of one response. Never fails: gaps become `warnings` (the gate already denies
/// a locale whose required labels are missing).
LabelOutput MakeLabels(const Labels& labels, const LabelRequest& request);

}  // namespace rg::compliance
