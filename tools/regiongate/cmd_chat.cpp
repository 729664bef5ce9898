// `regiongate chat`: one completion through a plug-in, printed as it arrives (--stream) or
// as one JSON object (--json).
#include <atomic>
#include <csignal>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli_context.hpp"

namespace rg::tools {

namespace {

std::atomic<bool> g_interrupted{false};

struct ChatOptions {
  std::string locale;
  std::string as_of;
  std::string plugin;
  std::string model;
  std::string endpoint;
  std::string system;
  std::string prompt;
  std::vector<std::string> settings;  // KEY=VALUE (VALUE parsed as JSON when it is JSON)
  int64_t max_tokens = 0;
  bool stream = false;
  bool json = false;
};

std::string Outcome(const core::CompletionResult& r) {
  if (r.ok()) return "completed";
  if (r.code == RG_ERR_PROVIDER_BLOCKED) return "provider_blocked";
  if (r.code == RG_ERR_CANCELLED) return "cancelled";
  if (r.code == RG_ERR_EGRESS_DENIED) return "denied";
  return "failed";
}

int ExitCodeFor(const core::CompletionResult& r) {
  if (r.ok()) return kExitOk;
  if (r.code == RG_ERR_PROVIDER_BLOCKED || r.code == RG_ERR_EGRESS_DENIED) return kExitDenied;
  return kExitRuntime;
}

nlohmann::json ParseSettings(const std::vector<std::string>& specs) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& spec : specs) {
    const auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw CliExit{kExitUsage, "--setting '" + spec + "' is not of the form KEY=VALUE"};
    }
    const std::string value = spec.substr(eq + 1);
    auto parsed = nlohmann::json::parse(value, nullptr, false);
    out[spec.substr(0, eq)] = parsed.is_discarded() ? nlohmann::json(value) : parsed;
  }
  return out;
}

// The endpoint to use: the named one, else the first inference endpoint serving the model.
std::string PickEndpoint(const compliance::PluginManifest& m, const ChatOptions& o) {
  const compliance::ModelDecl* model = m.FindModel(o.model);
  if (model == nullptr) {
    std::string known;
    for (const auto& x : m.models) known += (known.empty() ? "" : ", ") + x.id;
    throw CliExit{kExitUsage, "plug-in '" + m.id + "' has no model '" + o.model +
                                  "' (its models: " + known + ")"};
  }
  if (!o.endpoint.empty()) {
    const auto* e = m.FindEndpoint(o.endpoint);
    if (e == nullptr || e->kind != "inference") {
      throw CliExit{kExitUsage, "plug-in '" + m.id + "' has no inference endpoint '" + o.endpoint +
                                    "'; run 'regiongate plugins describe " + m.id + "'"};
    }
    return o.endpoint;
  }
  if (!model->endpoints.empty()) return model->endpoints.front();
  for (const auto& e : m.endpoints) {
    if (e.kind == "inference") return e.id;
  }
  throw CliExit{kExitUsage, "plug-in '" + m.id + "' declares no inference endpoint"};
}

nlohmann::json RequestBody(const ChatOptions& o) {
  nlohmann::json messages = nlohmann::json::array();
  if (!o.system.empty()) messages.push_back({{"role", "system"}, {"content", o.system}});
  messages.push_back({{"role", "user"}, {"content", o.prompt}});
  nlohmann::json body = {{"model", o.model}, {"messages", messages}, {"stream", o.stream}};
  if (o.max_tokens > 0) body["max_tokens"] = o.max_tokens;
  return body;
}

// Prints deltas live with --stream; Ctrl-C cancels.
class LivePrinter {
 public:
  explicit LivePrinter(bool live) : live_(live) {
    g_interrupted = false;
    previous_ = std::signal(SIGINT, [](int) { g_interrupted = true; });
  }
  ~LivePrinter() { std::signal(SIGINT, previous_); }
  LivePrinter(const LivePrinter&) = delete;
  LivePrinter& operator=(const LivePrinter&) = delete;

  core::EventCallback Callback() const {
    return [live = live_](const core::CompletionEvent& event) {
      if (live && event.kind == RG_EVENT_TEXT_DELTA) std::cout << event.data << std::flush;
      return !g_interrupted.load();
    };
  }

 private:
  bool live_;
  void (*previous_)(int) = nullptr;
};

// `json` keeps its keys in the order written, so the GB 45438 implicit metadata keeps its field
// order (and the report reads in a stable order).
int Report(const ChatOptions& o, const core::CompletionResult& result,
           nlohmann::ordered_json json) {
  if (o.json) {
    if (json.contains("policy_outcome")) {
      json["outcome"] = json["policy_outcome"];
      json.erase("policy_outcome");
    }
    json["text"] = result.text;
    json["finish_reason"] = core::FinishName(result.finish);
    json["usage"] = result.usage;
    if (!json.contains("outcome")) json["outcome"] = Outcome(result);
    json["code"] =
        result.ok() ? nlohmann::json(nullptr) : nlohmann::json(core::CodeName(result.code));
    json["complete"] = result.ok();
    json["attempts"] = result.attempts;
    json["latency_ms"] = static_cast<double>(result.latency.count()) / 1000.0;
    if (!result.ok()) json["error"] = result.message;
    if (result.final_data.contains("blocked")) json["blocked"] = result.final_data["blocked"];
    if (!result.tool_calls.empty()) json["tool_calls"] = result.tool_calls;
    std::cout << json.dump(2) << "\n";
    return ExitCodeFor(result);
  }
  if (!(o.stream)) std::cout << result.text;
  if (!result.text.empty()) std::cout << "\n";
  if (!result.ok()) {
    std::cerr << "regiongate: " << (result.partial() ? "answer incomplete: " : "no answer: ")
              << core::CodeName(result.code) << ": " << result.message << "\n";
  }
  return ExitCodeFor(result);
}

// Ungated: the operator named plug-in and model; no region rules apply.
int ChatDirect(CliContext& ctx, const ChatOptions& o) {
  if (o.plugin.empty() || o.model.empty()) {
    throw CliExit{kExitUsage, "chat needs --locale L, or both --plugin and --model"};
  }
  auto host = ctx.MakeHost();
  auto plugin = host->FindPlugin(o.plugin);
  if (!plugin) {
    throw CliExit{kExitUsage,
                  "no plug-in '" + o.plugin + "' is loaded; run 'regiongate plugins list'"};
  }
  const std::string endpoint = PickEndpoint(plugin->manifest, o);
  auto instance = host->CreateInstance(o.plugin, ParseSettings(o.settings));
  if (!instance.ok()) throw CliExit{kExitRuntime, instance.error().message};
  core::CompletionRequest request;
  request.endpoint_id = endpoint;
  request.body = RequestBody(o);
  LivePrinter printer(o.stream && !o.json);
  auto result = host->Complete(**instance, request, printer.Callback());
  return Report(o, result,
                {{"plugin", o.plugin},
                 {"model", o.model},
                 {"endpoint", endpoint},
                 {"endpoint_overridden", host->IsOverridden(o.plugin, endpoint)},
                 {"gated", false}});
}

// Gated: the gate picks the best allowed plug-in/model/endpoint for the locale (or checks
// the one named) and the egress hook checks every request on the way out.
int ChatGated(CliContext& ctx, const ChatOptions& o) {
  auto runtime = ctx.MakeRuntime(o.as_of);
  compliance::DecisionFilter filter{o.plugin, o.model, o.endpoint};
  // Say who answers before the answer streams in.
  if (auto choice = runtime->gate()->Choose(o.locale, filter); choice.ok()) {
    filter = {choice->plugin, choice->model, choice->endpoint};
    if (!o.json) {
      std::cerr << "regiongate: " << o.locale << " (region " << choice->region << ") -> "
                << choice->plugin << "/" << choice->model << " via " << choice->endpoint << "\n";
    }
  }
  LivePrinter printer(o.stream && !o.json);
  auto gated = runtime->Complete(o.locale, filter, RequestBody(o), ParseSettings(o.settings),
                                 printer.Callback());
  if (!gated.ok()) {
    if (o.json) {
      std::cout << nlohmann::json{{"locale", o.locale},
                                  {"outcome", "denied"},
                                  {"code", gated.error().id},
                                  {"error", gated.error().message}}
                       .dump(2)
                << "\n";
    } else {
      std::cerr << "regiongate: refused: " << gated.error().message << "\n";
    }
    return gated.error().id == "RG-G003" || gated.error().id == "RG-G001" ? kExitDenied
                                                                          : kExitRuntime;
  }
  const auto& d = gated->decision;
  if (!o.json) {
    if (!gated->labels.ui_notice.empty()) {
      std::cerr << "regiongate: label (" << gated->labels.position
                << "): " << gated->labels.ui_notice << "\n";
    }
    if (gated->outcome == "blocked_input" && gated->blocked_by == "regiongate") {
      std::cout << (o.stream ? "" : gated->result.text) << "\n";
      std::cerr << "regiongate: refused before any byte went to the provider: "
                << gated->result.message << "\n";
      return kExitDenied;
    }
    if (gated->outcome == "blocked_output" && gated->blocked_by == "regiongate") {
      std::cerr << (o.stream ? "\n" : "") << "regiongate: " << gated->result.message
                << "; the answer above is incomplete\n";
      if (!o.stream && !gated->result.text.empty()) std::cout << gated->result.text << "\n";
      return kExitDenied;
    }
  }
  nlohmann::json reasons = nlohmann::json::array();
  for (const auto& r : d.reasons) reasons.push_back(r.ToJson());
  return Report(o, gated->result,
                {{"locale", o.locale},
                 {"region", d.region},
                 {"plugin", d.plugin},
                 {"model", d.model},
                 {"endpoint", d.endpoint},
                 {"endpoint_overridden", runtime->host().IsOverridden(d.plugin, d.endpoint)},
                 {"gated", true},
                 {"decision_id", gated->decision_id},
                 {"policy_outcome", gated->outcome},
                 {"blocked_by", gated->blocked_by},
                 {"rules", gated->rules},
                 {"labels",
                  {{"position", gated->labels.position},
                   {"prefix", gated->labels.prefix},
                   {"suffix", gated->labels.suffix},
                   {"ui_notice", gated->labels.ui_notice}}},
                 {"implicit_metadata", gated->labels.implicit_metadata},
                 {"audit_file", gated->audit_file.string()},
                 {"decision_reasons", reasons}});
}

int Chat(CliContext& ctx, const ChatOptions& o) {
  return o.locale.empty() ? ChatDirect(ctx, o) : ChatGated(ctx, o);
}

}  // namespace

void RegisterChat(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<ChatOptions>();
  auto* chat = app.add_subcommand("chat", "send one prompt through a plug-in and print the answer");
  chat->add_option("--locale", o->locale,
                   "serve this locale through the gate: the best allowed plug-in/model/endpoint "
                   "is chosen (or the one named, if allowed); exit 2 with the reasons if none is");
  chat->add_option("--as-of", o->as_of, "evaluate the rules as of YYYY-MM-DD (default today)");
  chat->add_option("--plugin", o->plugin, "plug-in id (required without --locale)");
  chat->add_option("--model", o->model, "model id (required without --locale)");
  chat->add_option("--endpoint", o->endpoint,
                   "endpoint id (default: the first inference endpoint serving the model)");
  chat->add_option("--system", o->system, "system message");
  chat->add_option("--max-tokens", o->max_tokens, "token limit for the answer");
  chat->add_option("--setting", o->settings, "KEY=VALUE plug-in setting; repeatable");
  chat->add_flag("--stream", o->stream, "print the answer as it arrives");
  chat->add_flag("--json", o->json,
                 "print one JSON object: text, finish_reason, usage, outcome, code, error");
  chat->add_option("PROMPT", o->prompt, "the user message")->required();
  chat->callback([&ctx, o] { ctx.exit_code = Chat(ctx, *o); });
}

}  // namespace rg::tools
