#include "regiongate/core/runtime.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <random>

#include "regiongate/compliance/pii.hpp"

namespace rg::core {

std::string FormatDiagnostics(const compliance::Diagnostics& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) {
    if (!out.empty()) out += '\n';
    out += d.ToString();
  }
  return out;
}

Result<std::unique_ptr<Runtime>> Runtime::Create(RuntimeOptions options) {
  std::unique_ptr<Runtime> runtime(new Runtime());
  runtime->options_ = options;
  runtime->host_ = std::make_unique<Host>(std::move(options.host));
  for (const auto& dir : options.plugin_dirs) {
    LoadReport one = runtime->host_->LoadPluginDirectory(dir);
    auto& all = runtime->load_report_;
    all.loaded.insert(all.loaded.end(), one.loaded.begin(), one.loaded.end());
    all.refused.insert(all.refused.end(), one.refused.begin(), one.refused.end());
  }
  // Only plug-ins that passed every load check are candidates: a refused plug-in (say, a
  // tampered library) never shows up as allowed.
  std::vector<compliance::PluginManifest> manifests;
  for (const auto& plugin : runtime->host_->Plugins()) manifests.push_back(plugin->manifest);

  compliance::StoreOptions store_options;
  store_options.sources = compliance::DefaultPolicySources(options.config_dir);
  store_options.as_of = options.as_of;
  runtime->store_ = std::make_unique<compliance::ComplianceStore>(std::move(store_options));
  runtime->store_->SetPlugins(std::move(manifests));
  compliance::Diagnostics diagnostics = runtime->store_->Reload();
  if (compliance::HasErrors(diagnostics)) {
    return Error{"RG-R001", "the compliance policy in '" + options.config_dir.string() +
                                "' is invalid; fix these and run again:\n" +
                                FormatDiagnostics(diagnostics)};
  }
  runtime->warnings_ = std::move(diagnostics);

  // Every outbound request of a gated call is checked against the region's rules, with the
  // declared endpoint's attributes (never the override's URL).
  compliance::ComplianceStore* store = runtime->store_.get();
  runtime->host_->SetEgressHook([store](const EgressTarget& target) -> Result<void> {
    if (target.region.empty()) return {};  // an ungated call (no locale) — an operator choice
    auto gate = store->gate();
    if (!gate) {
      return Error{"RG-R002", "no compliance policy is in force; egress denied"};
    }
    return gate->EgressCheck(target.region, target.plugin_id, target.endpoint_id);
  });
  return runtime;
}

compliance::Diagnostics Runtime::Reload() {
  compliance::Diagnostics diagnostics = store_->Reload();
  if (compliance::HasErrors(diagnostics)) {
    spdlog::error("policy reload rejected; the previous policy stays in force:\n{}",
                  FormatDiagnostics(diagnostics));
  } else {
    warnings_ = diagnostics;
    spdlog::info("policy reloaded (generation {})", store_->generation());
  }
  return diagnostics;
}

Result<std::shared_ptr<const compliance::ContentFilter>> Runtime::FilterFor(
    const compliance::RegionManifest& region) {
  if (!region.content_policy.present || region.content_policy.lexicons.empty()) {
    return std::shared_ptr<const compliance::ContentFilter>();
  }
  const uint64_t generation = store_->generation();
  std::lock_guard lock(mutex_);
  auto it = filters_.find(region.region);
  if (it != filters_.end() && it->second.first == generation) return it->second.second;
  compliance::FilterOptions filter_options;
  if (!options_.filter_cache_dir.empty()) filter_options.cache_dir = options_.filter_cache_dir;
  auto filter = compliance::ContentFilter::ForRegion(region, filter_options);
  if (!filter.ok()) return filter.error();
  filters_[region.region] = {generation, filter.value()};
  return filter.value();
}

namespace {

// The HMAC key for prompts: from the configured file, else a per-trail file of random bytes.
Result<std::string> AuditSalt(const std::filesystem::path& configured,
                              const std::filesystem::path& audit_dir) {
  if (!configured.empty()) return compliance::ReadAuditSalt(configured);
  const auto path = audit_dir / "audit.salt";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    std::filesystem::create_directories(audit_dir, ec);
    std::random_device device;
    std::string bytes;
    for (int i = 0; i < 32; ++i) bytes.push_back("0123456789abcdef"[device() % 16]);
    {
      std::ofstream out(path, std::ios::binary);
      out << bytes;
      if (!out) {
        return Error{"RG-R004", "cannot create the audit salt file '" + path.string() +
                                    "'; check the audit directory's permissions"};
      }
    }
    std::filesystem::permissions(
        path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  }
  return compliance::ReadAuditSalt(path);
}

std::string NewDecisionId() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "rg-";
  for (int i = 0; i < 24; ++i) id.push_back(kHex[random() % 16]);
  return id;
}

void SortUnique(std::vector<std::string>& list) {
  std::sort(list.begin(), list.end());
  list.erase(std::unique(list.begin(), list.end()), list.end());
}

// A message's text split the way it travels: one string, or one entry per text part.
struct MessageText {
  std::vector<std::string> parts;
  std::vector<size_t> slots;  ///< each part's index in the content array; empty for a string

  std::string Joined() const {
    std::string joined;
    for (const auto& part : parts) joined += part;
    return joined;
  }
};

// "a part of type 'image_url'", for the RG-R007 message.
std::string PartKind(const nlohmann::json& part) {
  if (!part.is_object()) return std::string("a JSON ") + part.type_name() + ", not a part object";
  const auto type = part.find("type");
  if (type == part.end() || !type->is_string()) return "a part without a string 'type'";
  return "a part of type '" + type->get<std::string>() + "'";
}

// Reads the text of `content` (at `where`, e.g. "messages[0].content") into `out`: a string,
// or the "text" of each text part, which joined (MessageText::Joined) is what plug-ins that
// take string content send and what a model reads. Anything the policies cannot inspect (a
// part other than {"type":"text","text":"..."}, content that is neither a string nor a list)
// is passed over, and the first such thing comes back as the reason, for the RG-R007 refusal.
std::optional<std::string> ReadMessageText(const nlohmann::json& content, const std::string& where,
                                           MessageText* out) {
  if (content.is_string()) {
    out->parts.push_back(content.get<std::string>());
    return std::nullopt;
  }
  if (!content.is_array()) return "'" + where + "' is a JSON " + content.type_name();
  std::optional<std::string> unreadable;
  for (size_t i = 0; i < content.size(); ++i) {
    const auto& part = content[i];
    const std::string at = where + "[" + std::to_string(i) + "]";
    std::optional<std::string> reason;
    if (!part.is_object() || part.value("type", nlohmann::json()) != "text") {
      reason = "'" + at + "' is " + PartKind(part);
    } else if (const auto text = part.find("text"); text == part.end() || !text->is_string()) {
      reason = "'" + at + ".text' is not a string";
    } else {
      out->parts.push_back(text->get<std::string>());
      out->slots.push_back(i);
    }
    if (reason && !unreadable) unreadable = std::move(reason);
  }
  return unreadable;
}

// One change the input policies made to a message's joined text: bytes [begin, end) became
// `replacement`. Edits are ordered and do not overlap.
struct TextEdit {
  size_t begin = 0;
  size_t end = 0;
  std::string replacement;
};

// Carries edits of the joined text back to the parts it was joined from: a replacement goes
// into the part where its edit begins, and the bytes it replaces leave every part, so a value
// or a term split across parts is replaced whole. `expected` is the policies' own result for
// the joined text; should the parts ever not join up to it, the whole of it goes into the
// first part, so what leaves is always exactly what the policies passed.
std::vector<std::string> SplitEdits(const std::vector<std::string>& parts,
                                    const std::vector<TextEdit>& edits,
                                    const std::string& expected) {
  if (parts.size() == 1) return {expected};
  std::vector<std::string> out;
  size_t base = 0;
  size_t e = 0;
  for (const std::string& part : parts) {
    const size_t end = base + part.size();
    std::string text;
    for (size_t pos = base; pos < end;) {
      while (e < edits.size() && edits[e].end <= pos) ++e;
      if (e < edits.size() && edits[e].begin <= pos) {  // inside edit e
        if (edits[e].begin == pos) text += edits[e].replacement;
        pos = std::min(edits[e].end, end);
        continue;
      }
      const size_t next = e < edits.size() ? std::min(edits[e].begin, end) : end;
      text.append(part, pos - base, next - pos);
      pos = next;
    }
    out.push_back(std::move(text));
    base = end;
  }
  std::string joined;
  for (const auto& part : out) joined += part;
  if (joined != expected && !out.empty()) {
    std::fill(out.begin(), out.end(), std::string());
    out.front() = expected;
  }
  return out;
}

// The content filter's masks as edits: each character of a masked match becomes one '*', as
// ContentFilter::Check writes it (overlapping masks merge).
std::vector<TextEdit> MaskEdits(std::string_view text,
                                const std::vector<compliance::FilterMatch>& matches) {
  std::vector<std::pair<size_t, size_t>> ranges;
  for (const auto& match : matches) {
    if (match.action == compliance::FilterAction::kMask)
      ranges.emplace_back(match.begin, match.end);
  }
  std::sort(ranges.begin(), ranges.end());
  std::vector<TextEdit> edits;
  for (const auto& [begin, end] : ranges) {
    if (!edits.empty() && begin <= edits.back().end) {
      edits.back().end = std::max(edits.back().end, end);
    } else {
      edits.push_back({begin, end, ""});
    }
  }
  for (auto& edit : edits) {
    for (size_t i = edit.begin; i < edit.end && i < text.size(); ++i) {
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) edit.replacement.push_back('*');
    }
  }
  return edits;
}

}  // namespace

Result<compliance::AuditWriter*> Runtime::AuditFor(const compliance::RegionManifest& region) {
  if (options_.audit_dir.empty()) {
    return Error{"RG-R003", "no audit directory is configured (--audit-dir)"};
  }
  std::lock_guard lock(mutex_);
  if (auto it = audit_writers_.find(region.region); it != audit_writers_.end()) {
    return it->second.get();
  }
  auto salt = AuditSalt(options_.audit_salt_file, options_.audit_dir);
  if (!salt.ok()) return salt.error();
  compliance::AuditWriter::Options writer_options;
  writer_options.directory = options_.audit_dir / region.region;
  writer_options.salt = salt.value();
  writer_options.retention_days = region.audit.retention_days;
  auto writer = compliance::AuditWriter::Open(std::move(writer_options));
  if (!writer.ok()) return writer.error();
  auto* raw = writer.value().get();
  audit_writers_[region.region] = std::move(writer.value());
  return raw;
}

Result<GatedCompletion> Runtime::Complete(const std::string& locale,
                                          const compliance::DecisionFilter& filter,
                                          nlohmann::json body, const nlohmann::json& settings,
                                          const EventCallback& on_event,
                                          const CancelToken& cancel) {
  const auto started = std::chrono::steady_clock::now();
  auto gate = store_->gate();
  auto region_id = gate->ResolveRegion(locale);
  if (!region_id.ok()) return region_id.error();
  const compliance::RegionManifest* region = gate->policy().FindRegion(region_id.value());
  if (region == nullptr) return Error{"RG-R005", "region '" + region_id.value() + "' vanished"};

  GatedCompletion out;
  out.decision_id = NewDecisionId();
  compliance::AuditRecord record;
  record.decision_id = out.decision_id;
  record.time = std::chrono::system_clock::now();
  record.locale = locale;
  record.region = region->region;
  record.manifest_revision = region->revision;
  record.store_prompt_text = region->audit.store_prompt_text;
  if (body.contains("messages") && body["messages"].is_array() && !body["messages"].empty()) {
    const auto& last = body["messages"].back();
    if (last.is_object() && last.contains("content")) {
      MessageText text;  // the text parts only, whatever else the message holds
      (void)ReadMessageText(last["content"], "", &text);
      record.prompt = text.Joined();
    }
  }

  // The audit trail first: a region that requires one refuses when it cannot be written.
  compliance::AuditWriter* audit = nullptr;
  if (!options_.audit_dir.empty() || region->audit.required) {
    auto writer = AuditFor(*region);
    if (writer.ok()) {
      audit = writer.value();
      if (auto ready = audit->Ready(); !ready.ok() && region->audit.required) {
        return Error{"RG-R006", "region '" + region->region +
                                    "' requires an audit trail, which cannot be written (" +
                                    ready.error().message + "); the request was refused"};
      }
    } else if (region->audit.required) {
      return Error{"RG-R006", "region '" + region->region +
                                  "' requires an audit trail, which cannot be written (" +
                                  writer.error().message + "); the request was refused"};
    }
  }
  // One record per request, whatever happened. `record.detail` keeps a cause set earlier (a
  // refusal's, regiongate's output block); otherwise it is the error id or canonical code.
  auto finish_audit = [&](GatedCompletion& done) -> Result<void> {
    SortUnique(done.rules);
    if (audit == nullptr) return {};
    record.outcome = done.outcome;
    record.rules = done.rules;
    record.plugin = done.decision.plugin;
    record.model = done.decision.model;
    record.endpoint = done.decision.endpoint;
    record.endpoint_overridden = !done.decision.plugin.empty() &&
                                 host_->IsOverridden(done.decision.plugin, done.decision.endpoint);
    const auto& usage = done.result.usage;
    if (usage.is_object()) {
      if (usage.contains("prompt_tokens")) record.prompt_tokens = usage.value("prompt_tokens", 0);
      if (usage.contains("completion_tokens")) {
        record.completion_tokens = usage.value("completion_tokens", 0);
      }
    }
    record.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();
    if (done.result.time_to_first_token.count() >= 0) {
      record.ttft_ms = done.result.time_to_first_token.count() / 1000;
    }
    if (record.detail.empty() && done.result.code != RG_OK) {
      record.detail = std::string(CodeName(done.result.code));
    }
    if (!done.blocked_by.empty()) record.extra["blocked_by"] = done.blocked_by;
    done.audit_file = audit->current_file();
    auto appended = audit->Append(record);
    if (!appended.ok() && region->audit.required) return appended.error();
    return {};
  };
  // A request that ends in an error of the host (no answer, no FINAL event) is audited too.
  auto fail = [&](Error error) -> Result<GatedCompletion> {
    out.outcome = "failed";
    record.detail = error.id;
    (void)finish_audit(out);
    return error;
  };
  // The FINAL event: the result's own data plus what a streaming caller cannot get from the
  // deltas (the outcome, the id of the audit record, the implicit label metadata, in the same
  // key order as GatedCompletion::labels, which is where the returned value has it).
  auto send_final = [&] {
    if (!on_event) return;
    nlohmann::ordered_json data = nlohmann::ordered_json::object();
    if (out.result.final_data.is_object()) data = out.result.final_data;
    data["outcome"] = out.outcome;
    data["decision_id"] = out.decision_id;
    if (out.labels.implicit_metadata.is_object()) {
      data["implicit_metadata"] = out.labels.implicit_metadata;
    }
    on_event({RG_EVENT_FINAL, data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
              out.result.finish, out.result.code});
  };

  auto choice = gate->Choose(locale, filter);
  if (!choice.ok()) {
    out.outcome = "denied";
    record.detail = choice.error().id;
    (void)finish_audit(out);
    return choice.error();
  }
  out.decision = std::move(choice.value());
  for (const auto& reason : out.decision.reasons) {
    if (reason.effect == "allow" || reason.effect == "warn") out.rules.push_back(reason.rule);
  }

  auto content_filter = FilterFor(*region);
  if (!content_filter.ok()) return fail(content_filter.error());
  const std::shared_ptr<const compliance::ContentFilter> words = content_filter.value();
  const compliance::PiiPolicy pii = compliance::PiiPolicyFor(*region);

  // What the input policies found, for the result and the audit record, refusals included.
  std::vector<compliance::PiiFinding> pii_findings;
  auto note_pii = [&] {
    for (const auto& finding : pii_findings) {
      out.rules.push_back("pii:" + std::string(compliance::ToString(finding.type)));
    }
    SortUnique(out.rules);
    record.pii = compliance::PiiSummaryJson(pii_findings);
  };

  // A refusal answered by regiongate itself: recorded, audited, never sent to the provider.
  auto refuse = [&](std::string cause, std::string message) -> Result<GatedCompletion> {
    note_pii();
    out.outcome = "blocked_input";
    out.blocked_by = "regiongate";
    out.result.code = RG_ERR_PROVIDER_BLOCKED;
    out.result.finish = RG_FINISH_CONTENT_FILTER;
    out.result.message = std::move(message);
    out.result.text = words ? std::string(words->RefusalMessage(locale)) : std::string();
    out.result.final_data = {{"blocked", "input"},
                             {"by", "regiongate"},
                             {"cause", cause},
                             {"message", out.result.message}};
    record.detail = cause;
    if (auto audited = finish_audit(out); !audited.ok()) return audited.error();
    if (on_event && !out.result.text.empty()) {
      on_event({RG_EVENT_TEXT_DELTA, out.result.text, RG_FINISH_NONE, RG_OK});
    }
    send_final();
    return out;
  };

  // Input policies on every message that goes to the provider: content filter, then PII, on
  // the message's text (a string, or its text parts joined, as a model reads them). A region
  // with either policy refuses what it cannot inspect (RG-R007): an image could carry either.
  compliance::PiiRestoreMap restore;
  const bool inspects_input = words != nullptr || !pii.empty();
  if (inspects_input && body.contains("messages") && body["messages"].is_array()) {
    auto& messages = body["messages"];
    for (size_t i = 0; i < messages.size(); ++i) {
      auto& message = messages[i];
      if (!message.is_object() || !message.contains("content") || message["content"].is_null()) {
        continue;
      }
      auto& content = message["content"];
      MessageText text;
      const std::string where = "messages[" + std::to_string(i) + "].content";
      if (auto unreadable = ReadMessageText(content, where, &text)) {
        return refuse(
            "uninspectable_content",
            "the request was refused: " + *unreadable +
                ", which regiongate cannot inspect for the content and PII policies "
                "of region '" +
                region->region +
                "'; send text only (a string, or parts {\"type\":\"text\",\"text\":...})");
      }
      std::string joined = text.Joined();
      if (words) {
        compliance::FilterResult checked =
            words->Check(joined, {compliance::FilterDirection::kInput, locale});
        for (const auto& match : checked.matches) {
          out.rules.push_back("content:" + std::string(words->Term(match.term).category));
        }
        if (checked.blocked()) {
          return refuse("content_filter",
                        "the request was refused by the content policy of "
                        "region '" +
                            region->region + "'");
        }
        if (checked.text != joined) {
          text.parts = SplitEdits(text.parts, MaskEdits(joined, checked.matches), checked.text);
          joined = std::move(checked.text);
        }
      }
      if (!pii.empty()) {
        compliance::PiiInputResult processed = compliance::ProcessInput(pii, joined, restore);
        pii_findings.insert(pii_findings.end(), processed.findings.begin(),
                            processed.findings.end());
        if (!processed.ok()) return refuse("pii", processed.blocked->message);
        std::vector<TextEdit> edits;
        for (const auto& finding : processed.findings) {
          if (finding.action == compliance::PiiAction::kMask ||
              finding.action == compliance::PiiAction::kReplaceAndRestore) {
            edits.push_back({finding.begin, finding.end, finding.replacement});
          }
        }
        if (processed.text_for_provider != joined) {
          text.parts = SplitEdits(text.parts, edits, processed.text_for_provider);
        }
        restore = std::move(processed.restore);
      }
      if (text.slots.empty()) {
        if (content.is_string()) content = text.parts.front();
      } else {
        for (size_t p = 0; p < text.slots.size(); ++p) {
          content[text.slots[p]]["text"] = text.parts[p];
        }
      }
    }
  }
  note_pii();

  auto instance = host_->CreateInstance(out.decision.plugin, settings);
  if (!instance.ok()) return fail(instance.error());
  out.labels =
      compliance::MakeLabels(region->labels, {locale, out.decision.plugin, out.decision.model,
                                              std::chrono::system_clock::now(), out.decision_id});

  // Output pipeline: provider text -> PII restore -> content filter hold-back -> labels ->
  // caller. Nothing the filter blocks is ever released, streaming or not.
  compliance::PiiStreamRestorer restorer(restore);
  std::optional<compliance::FilterStream> stream;
  if (words) stream.emplace(words->NewStream({compliance::FilterDirection::kOutput, locale}));
  std::string delivered;
  bool prefix_sent = false;
  std::optional<compliance::FilterMatch> block;
  auto deliver = [&](std::string_view text) -> bool {
    if (text.empty()) return true;
    if (!prefix_sent) {
      prefix_sent = true;
      if (!out.labels.prefix.empty()) {
        delivered += out.labels.prefix;
        if (on_event &&
            !on_event({RG_EVENT_TEXT_DELTA, out.labels.prefix, RG_FINISH_NONE, RG_OK})) {
          return false;
        }
      }
    }
    delivered.append(text);
    return !on_event || on_event({RG_EVENT_TEXT_DELTA, std::string(text), RG_FINISH_NONE, RG_OK});
  };
  auto pass = [&](std::string_view restored) -> bool {
    if (!stream) return deliver(restored);
    const auto step = stream->Feed(restored);
    const bool keep = deliver(step.text);
    if (step.block) {
      block = step.block;
      return false;
    }
    return keep;
  };
  bool caller_stopped = false;
  CompletionRequest request;
  request.endpoint_id = out.decision.endpoint;
  body["model"] = out.decision.model;
  request.body = std::move(body);
  request.region = region->region;
  request.locale = locale;
  out.result = host_->Complete(
      **instance, request,
      [&](const CompletionEvent& event) {
        switch (event.kind) {
          case RG_EVENT_TEXT_DELTA: {
            if (block) return false;
            const bool keep = pass(restorer.Push(event.data));
            if (!keep && !block) caller_stopped = true;
            return keep;
          }
          case RG_EVENT_FINAL:
            return true;  // the runtime sends its own FINAL once output policies are done
          default:
            return !on_event || on_event(event) || (caller_stopped = true, false);
        }
      },
      cancel);

  if (!block && !caller_stopped) {
    // Release what the restorer and the filter still hold (only text the filter passed).
    std::string rest = restorer.Finish();
    if (stream) {
      auto step = stream->Feed(rest);
      deliver(step.text);
      if (step.block) {
        block = step.block;
      } else {
        auto last = stream->Finish();
        deliver(last.text);
        if (last.block) block = last.block;
      }
    } else {
      deliver(rest);
    }
  }
  if (stream) {
    for (const auto& match : stream->matches()) {
      out.rules.push_back("content:" + std::string(words->Term(match.term).category));
    }
  }
  if (block) {
    out.outcome = "blocked_output";
    out.blocked_by = "regiongate";
    out.result.code = RG_ERR_PROVIDER_BLOCKED;
    out.result.finish = RG_FINISH_CONTENT_FILTER;
    out.result.message =
        "the answer was stopped by the content policy of region '" + region->region + "'";
    out.result.final_data = {{"blocked", "output"},
                             {"by", "regiongate"},
                             {"cause", "content_filter"},
                             {"message", out.result.message}};
    record.detail = "content_filter";
  } else if (out.result.ok()) {
    out.outcome = "completed";
    if (!out.labels.suffix.empty()) {
      delivered += out.labels.suffix;
      if (on_event) on_event({RG_EVENT_TEXT_DELTA, out.labels.suffix, RG_FINISH_NONE, RG_OK});
    }
  } else if (out.result.code == RG_ERR_PROVIDER_BLOCKED) {
    const bool input = out.result.final_data.is_object() &&
                       out.result.final_data.value("blocked", nlohmann::json()) == "input";
    out.outcome = input ? "blocked_input" : "blocked_output";
    out.blocked_by = "provider";
  } else if (out.result.code == RG_ERR_CANCELLED) {
    out.outcome = "cancelled";
  } else {
    out.outcome = "failed";
  }
  out.result.text = std::move(delivered);
  if (auto audited = finish_audit(out); !audited.ok()) {
    out.outcome = "failed";
    out.result.code = RG_ERR_INTERNAL;
    out.result.finish = RG_FINISH_ERROR;
    out.result.message =
        "region '" + region->region +
        "' requires an audit trail and the record could not be written: " + audited.error().message;
  }
  send_final();
  return out;
}

}  // namespace rg::core
