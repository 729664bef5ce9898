#include "regiongate/compliance/labels.hpp"

#include <algorithm>

#include "regiongate/compliance/region_manifest.hpp"
#include "utc_time.hpp"

namespace rg::compliance {
namespace {

std::vector<std::string> SplitTag(const std::string& tag) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= tag.size()) {
    size_t dash = tag.find('-', start);
    if (dash == std::string::npos) dash = tag.size();
    parts.push_back(tag.substr(start, dash - start));
    start = dash + 1;
  }
  return parts;
}

// Lookup order for a tag: itself, without the script subtag, the language alone.
std::vector<std::string> Fallbacks(std::string_view locale) {
  std::vector<std::string> keys;
  const std::string tag = CanonicalLocale(locale);
  if (tag.empty()) return keys;
  keys.push_back(tag);
  const std::vector<std::string> parts = SplitTag(tag);
  if (parts.size() == 3 && parts[1].size() == 4) keys.push_back(parts[0] + "-" + parts[2]);
  if (parts.size() > 1) keys.push_back(parts[0]);
  return keys;
}

// GB 45438 public implementations accept printable ASCII without quote, backslash or space
// (UNCONFIRMED as normative, regulations.md §1.6); say so rather than rewrite the value.
bool IsAigcValue(std::string_view value) {
  return std::all_of(value.begin(), value.end(),
                     [](char c) { return c > ' ' && c < 0x7f && c != '"' && c != '\\'; });
}

}  // namespace

const ExplicitLabel* FindExplicitLabel(const Labels& labels, std::string_view locale,
                                       std::string* used) {
  std::vector<std::string> keys = Fallbacks(locale);
  keys.emplace_back(kDefaultLabelKey);
  for (const std::string& key : keys) {
    const auto it = labels.explicit_labels.find(key);
    if (it != labels.explicit_labels.end()) {
      if (used != nullptr) *used = key;
      return &it->second;
    }
  }
  if (used != nullptr) used->clear();
  return nullptr;
}

LabelOutput MakeLabels(const Labels& labels, const LabelRequest& request) {
  LabelOutput out;
  if (const ExplicitLabel* label = FindExplicitLabel(labels, request.locale, &out.label_key)) {
    out.position = label->position;
    const std::string separator(kLabelSeparator);
    if (label->position == "start" || label->position == "start_and_end") {
      out.prefix = label->text + separator;
    }
    if (label->position == "end" || label->position == "start_and_end") {
      out.suffix = separator + label->text;
    }
    if (label->position == "ui_persistent") out.ui_notice = label->text;
  } else if (labels.present) {
    out.warnings.push_back("labels.explicit has no label for locale '" + request.locale +
                           "' and no '" + std::string(kDefaultLabelKey) +
                           "' entry; add one so the answer is labelled");
  }

  const std::string scheme = labels.implicit_scheme.empty() ? "none" : labels.implicit_scheme;
  const std::string time = detail::FormatUtc(request.time);
  nlohmann::ordered_json& meta = out.implicit_metadata;
  meta["scheme"] = scheme;
  meta["ai_generated"] = true;
  meta["provider"] = request.provider;
  meta["model"] = request.model;
  meta["time"] = time;
  meta["id"] = request.id;
  if (scheme == "gb45438-aigc") {
    // Appendix E: Label "1" = AI-generated (a string); on first write the propagator is the
    // producer and PropagateID is ProduceID; the reserved codes hold signatures we do not make.
    const std::string& producer = labels.producer_code;
    nlohmann::ordered_json aigc;
    aigc["Label"] = "1";
    aigc["ContentProducer"] = producer;
    aigc["ProduceID"] = request.id;
    aigc["ReservedCode1"] = "";
    aigc["ContentPropagator"] = producer;
    aigc["PropagateID"] = request.id;
    aigc["ReservedCode2"] = "";
    meta["AIGC"] = std::move(aigc);
    if (producer.empty()) {
      out.warnings.push_back(
          "labels.implicit.producer_code is not set, so the AIGC ContentProducer field is "
          "empty; set it to the deployer's code (TC260 coding practice guide)");
    } else if (!IsAigcValue(producer)) {
      out.warnings.push_back("labels.implicit.producer_code '" + producer +
                             "' has characters outside printable ASCII (or a space, quote or "
                             "backslash), which AIGC readers may reject");
    }
    if (request.id.empty()) {
      out.warnings.push_back(
          "the response has no id, so the AIGC ProduceID field is empty; "
          "pass the decision id");
    } else if (!IsAigcValue(request.id)) {
      out.warnings.push_back("the response id '" + request.id +
                             "' is not printable ASCII without spaces, quotes or backslashes, "
                             "which AIGC readers may reject as ProduceID");
    }
  }
  return out;
}

}  // namespace rg::compliance
