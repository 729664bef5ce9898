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
    if (last.contains("content") && last["content"].is_string()) {
      record.prompt = last["content"].get<std::string>();
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
  auto finish_audit = [&](GatedCompletion& done) -> Result<void> {
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
    if (done.result.code != RG_OK) record.detail = std::string(CodeName(done.result.code));
    done.audit_file = audit->current_file();
    auto appended = audit->Append(record);
    if (!appended.ok() && region->audit.required) return appended.error();
    return {};
  };

  auto choice = gate->Choose(locale, filter);
  if (!choice.ok()) {
    out.outcome = "denied";
    (void)finish_audit(out);
    return choice.error();
  }
  out.decision = std::move(choice.value());
  for (const auto& reason : out.decision.reasons) {
    if (reason.effect == "allow" || reason.effect == "warn") out.rules.push_back(reason.rule);
  }

  auto content_filter = FilterFor(*region);
  if (!content_filter.ok()) return content_filter.error();
  const std::shared_ptr<const compliance::ContentFilter> words = content_filter.value();
  const compliance::PiiPolicy pii = compliance::PiiPolicyFor(*region);

  // A refusal answered by regiongate itself: recorded, audited, never sent to the provider.
  auto refuse = [&](std::string cause, std::string message) -> Result<GatedCompletion> {
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
    if (on_event) {
      if (!out.result.text.empty()) {
        on_event({RG_EVENT_TEXT_DELTA, out.result.text, RG_FINISH_NONE, RG_OK});
      }
      on_event({RG_EVENT_FINAL, out.result.final_data.dump(), out.result.finish, out.result.code});
    }
    return out;
  };

  // Input policies on every message that goes to the provider: content filter, then PII.
  compliance::PiiRestoreMap restore;
  std::vector<compliance::PiiFinding> pii_findings;
  if (body.contains("messages") && body["messages"].is_array()) {
    for (auto& message : body["messages"]) {
      if (!message.is_object() || !message.contains("content") || !message["content"].is_string()) {
        continue;
      }
      std::string text = message["content"].get<std::string>();
      if (words) {
        compliance::FilterResult checked =
            words->Check(text, {compliance::FilterDirection::kInput, locale});
        for (const auto& match : checked.matches) {
          out.rules.push_back("content:" + std::string(words->Term(match.term).category));
        }
        if (checked.blocked()) {
          return refuse("content_filter",
                        "the request was refused by the content policy of "
                        "region '" +
                            region->region + "'");
        }
        text = checked.text;
      }
      if (!pii.empty()) {
        compliance::PiiInputResult processed = compliance::ProcessInput(pii, text, restore);
        pii_findings.insert(pii_findings.end(), processed.findings.begin(),
                            processed.findings.end());
        if (!processed.ok()) return refuse("pii", processed.blocked->message);
        text = std::move(processed.text_for_provider);
        restore = std::move(processed.restore);
      }
      message["content"] = text;
    }
  }
  for (const auto& finding : pii_findings) {
    out.rules.push_back("pii:" + std::string(compliance::ToString(finding.type)));
  }
  std::sort(out.rules.begin(), out.rules.end());
  out.rules.erase(std::unique(out.rules.begin(), out.rules.end()), out.rules.end());
  record.pii = compliance::PiiSummaryJson(pii_findings);

  auto instance = host_->CreateInstance(out.decision.plugin, settings);
  if (!instance.ok()) return instance.error();
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
    out.result.final_data = {
        {"blocked", "output"}, {"by", "regiongate"}, {"message", out.result.message}};
  } else if (out.result.ok()) {
    out.outcome = "completed";
    if (!out.labels.suffix.empty()) {
      delivered += out.labels.suffix;
      if (on_event) on_event({RG_EVENT_TEXT_DELTA, out.labels.suffix, RG_FINISH_NONE, RG_OK});
    }
  } else if (out.result.code == RG_ERR_PROVIDER_BLOCKED) {
    out.outcome = out.result.final_data.value("blocked", "output") == "input" ? "blocked_input"
                                                                              : "blocked_output";
    out.blocked_by = "provider";
  } else if (out.result.code == RG_ERR_CANCELLED) {
    out.outcome = "cancelled";
  } else {
    out.outcome = "failed";
  }
  out.result.text = std::move(delivered);
  std::sort(out.rules.begin(), out.rules.end());
  out.rules.erase(std::unique(out.rules.begin(), out.rules.end()), out.rules.end());
  if (auto audited = finish_audit(out); !audited.ok()) {
    out.outcome = "failed";
    out.result.code = RG_ERR_INTERNAL;
    out.result.finish = RG_FINISH_ERROR;
    out.result.message =
        "region '" + region->region +
        "' requires an audit trail and the record could not be written: " + audited.error().message;
  }
  if (on_event) {
    nlohmann::json final_data =
        out.result.final_data.is_object() ? out.result.final_data : nlohmann::json::object();
    final_data["outcome"] = out.outcome;
    final_data["decision_id"] = out.decision_id;
    on_event({RG_EVENT_FINAL, final_data.dump(), out.result.finish, out.result.code});
  }
  return out;
}

}  // namespace rg::core
