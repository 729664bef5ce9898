// `regiongate explain --locale L`: every decision the gate took for a locale, with the rule,
// effect, reason and citation behind each.
#include <iostream>
#include <memory>

#include "cli_context.hpp"

namespace rg::tools {

namespace {

struct ExplainOptions {
  std::string locale;
  std::string plugin;
  std::string model;
  std::string endpoint;
  std::string as_of;
  bool json = false;
  bool brief = false;
};

int Explain(CliContext& ctx, const ExplainOptions& o) {
  auto runtime = ctx.MakeRuntime(o.as_of);
  auto explanation = runtime->gate()->Explain(o.locale, {o.plugin, o.model, o.endpoint});
  if (!explanation.ok()) throw CliExit{kExitUsage, explanation.error().message};
  std::cout << (o.json    ? explanation->ToJson().dump(2) + "\n"
                : o.brief ? explanation->ToSummaryText()
                          : explanation->ToText());
  return kExitOk;
}

}  // namespace

void RegisterExplain(CLI::App& app, CliContext& ctx) {
  auto o = std::make_shared<ExplainOptions>();
  auto* cmd = app.add_subcommand(
      "explain", "show which plug-ins, models and endpoints the gate allows for a locale, and why");
  cmd->add_option("--locale", o->locale, "locale, e.g. zh-CN")->required();
  cmd->add_option("--plugin", o->plugin, "only this plug-in");
  cmd->add_option("--model", o->model, "only this model");
  cmd->add_option("--endpoint", o->endpoint, "only this endpoint");
  cmd->add_option("--as-of", o->as_of, "evaluate the rules as of YYYY-MM-DD (default today)");
  cmd->add_flag("--json", o->json,
                "print {\"locale\",\"region\",\"as_of\",\"manifest_revision\",\"decisions\"}");
  cmd->add_flag("--brief", o->brief,
                "one line per plug-in and outcome, each deny rule's reason once");
  cmd->callback([&ctx, o] { ctx.exit_code = Explain(ctx, *o); });
}

}  // namespace rg::tools
