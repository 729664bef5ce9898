// `regiongate audit verify FILE...`: checks the hash chain of audit trails and says where
// a record was edited, removed, reordered or truncated.
#include <iostream>
#include <memory>

#include "cli_context.hpp"
#include "regiongate/compliance/audit_log.hpp"

namespace rg::tools {

void RegisterAudit(CLI::App& app, CliContext& ctx) {
  auto* audit = app.add_subcommand("audit", "work with audit trails");
  audit->require_subcommand(1);
  struct Options {
    std::vector<std::string> files;
    std::string head;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* verify = audit->add_subcommand(
      "verify", "verify audit files (in order, oldest first); exit 0 when intact, 2 otherwise");
  verify->add_option("FILE", o->files, "audit files (audit-*.jsonl), oldest first")->required();
  verify->add_option("--head", o->head, "the writer's head file (default: next to the files)");
  verify->add_flag("--json", o->json, "print the report as JSON");
  verify->callback([&ctx, o] {
    std::vector<std::filesystem::path> paths(o->files.begin(), o->files.end());
    compliance::AuditVerifyOptions options;
    if (!o->head.empty()) options.head = std::filesystem::path(o->head);
    const auto report = compliance::VerifyAuditFiles(paths, options);
    std::cout << (o->json ? report.ToJson().dump(2) + "\n" : report.ToText());
    ctx.exit_code = report.ok() ? kExitOk : kExitDenied;
  });
}

}  // namespace rg::tools
