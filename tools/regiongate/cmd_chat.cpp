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
      throw CliExit{kExitUsage, "plug-in '" + m.id + "' has no inference endpoint '" +
                                    o.endpoint + "'; run 'regiongate plugins describe " + m.id +
                                    "'"};
    }
    return o.endpoint;
  }
  if (!model->endpoints.empty()) return model->endpoints.front();
  for (const auto& e : m.endpoints) {
    if (e.kind == "inference") return e.id;
  }
  throw CliExit{kExitUsage, "plug-in '" + m.id + "' declares no inference endpoint"};
}

int Chat(CliContext& ctx, const ChatOptions& o) {
  auto host = ctx.MakeHost();
  auto plugin = host->FindPlugin(o.plugin);
  if (!plugin) {
    throw CliExit{kExitUsage, "no plug-in '" + o.plugin +
                                  "' is loaded; run 'regiongate plugins list'"};
  }
  const std::string endpoint = PickEndpoint(plugin->manifest, o);
  auto instance = host->CreateInstance(o.plugin, ParseSettings(o.settings));
  if (!instance.ok()) throw CliExit{kExitRuntime, instance.error().message};

  core::CompletionRequest request;
  request.endpoint_id = endpoint;
  nlohmann::json messages = nlohmann::json::array();
  if (!o.system.empty()) messages.push_back({{"role", "system"}, {"content", o.system}});
  messages.push_back({{"role", "user"}, {"content", o.prompt}});
  request.body = {{"model", o.model}, {"messages", messages}, {"stream", o.stream}};
  if (o.max_tokens > 0) request.body["max_tokens"] = o.max_tokens;

  g_interrupted = false;
  auto previous = std::signal(SIGINT, [](int) { g_interrupted = true; });
  const bool print_live = o.stream && !o.json;
  auto result = host->Complete(**instance, request, [&](const core::CompletionEvent& event) {
    if (print_live && event.kind == RG_EVENT_TEXT_DELTA) std::cout << event.data << std::flush;
    return !g_interrupted.load();
  });
  std::signal(SIGINT, previous);

  if (o.json) {
    nlohmann::json out = {
        {"plugin", o.plugin},
        {"model", o.model},
        {"endpoint", endpoint},
        {"endpoint_overridden", host->IsOverridden(o.plugin, endpoint)},
        {"text", result.text},
        {"finish_reason", core::FinishName(result.finish)},
        {"usage", result.usage},
        {"outcome", Outcome(result)},
        {"code", result.ok() ? nlohmann::json(nullptr) : nlohmann::json(core::CodeName(result.code))},
        {"complete", result.ok()},
        {"attempts", result.attempts},
        {"latency_ms", static_cast<double>(result.latency.count()) / 1000.0},
    };
    if (!result.ok()) out["error"] = result.message;
    if (result.final_data.contains("blocked")) out["blocked"] = result.final_data["blocked"];
    if (!result.tool_calls.empty()) out["tool_calls"] = result.tool_calls;
    std::cout << out.dump(2) << "\n";
    return ExitCodeFor(result);
  }
  if (!print_live) std::cout << result.text;
  if (!result.text.empty()) std::cout << "\n";
  if (!result.ok()) {
    std::cerr << "regiongate: " << (result.partial() ? "answer incomplete: " : "no answer: ")
              << core::CodeName(result.code) << ": " << result.message << "\n";
  }
  return ExitCodeFor(result);
}

}  // namespace

void RegisterChat(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<ChatOptions>();
  auto* chat = app.add_subcommand("chat", "send one prompt through a plug-in and print the answer");
  chat->add_option("--plugin", o->plugin, "plug-in id")->required();
  chat->add_option("--model", o->model, "model id declared by the plug-in")->required();
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
