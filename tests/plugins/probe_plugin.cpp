// Test plug-in "probe", built on the SDK: exercises the host's services (HTTP through
// declared endpoints, secrets, logging) on command, for host and conformance tests.
// Commands (the last user message):
//   http ENDPOINT PATH     GET PATH on ENDPOINT, stream the body back as text; an HTTP error
//                          status fails with the SDK's canonical code and Retry-After
//   secret NAME            read secret NAME, log it (deliberately: the host must redact it)
//   text-then-fail         emit some text, then fail with a retryable code
//   anything else          answer "probe: <text>"
#include <sstream>

#include "regiongate/sdk/plugin.hpp"

namespace {

using rg::sdk::CallContext;
using rg::sdk::EventWriter;

class ProbeInstance final : public rg::sdk::Instance {
 public:
  void Complete(const CallContext& ctx, EventWriter& out) override {
    std::istringstream words(ctx.request.LastUserText());
    std::string command;
    words >> command;
    if (command == "http") {
      rg::sdk::HttpCall call;
      call.method = "GET";
      words >> call.endpoint_id >> call.path;
      int status = 0;
      rg::sdk::HttpResponse head;
      std::string error_body;
      const rg::sdk::Status st = ctx.host.Http(
          ctx.call, call,
          [&](int s, const rg::sdk::Headers& headers) {
            status = s;
            head.status = s;
            head.headers = headers;
            return true;
          },
          [&](std::string_view chunk) {
            if (status >= 400) {
              error_body.append(chunk);
              return true;
            }
            return out.Text(chunk);
          });
      if (out.stopped()) {
        out.Cancelled();
        return;
      }
      if (!st.ok()) {
        out.Fail(st.code, st.message);
        return;
      }
      if (status >= 400) {
        nlohmann::json details = {{"http_status", status}};
        if (auto ms = rg::sdk::RetryAfterMs(head)) details["retry_after_ms"] = *ms;
        out.Fail(rg::sdk::CodeForHttpStatus(status), "http status " + std::to_string(status),
                 details);
        return;
      }
      out.Final(RG_FINISH_STOP, RG_OK);
      return;
    }
    if (command == "secret") {
      std::string name, value;
      words >> name;
      const rg::sdk::Status st = ctx.host.Secret(name, &value);
      if (!st.ok()) {
        out.Fail(st.code, st.message);
        return;
      }
      ctx.host.Log(RG_LOG_WARN, "using key " + value);
      out.Text("secret length " + std::to_string(value.size()));
      out.Final(RG_FINISH_STOP, RG_OK);
      return;
    }
    if (command == "text-then-fail") {
      out.Text("partial ");
      out.Fail(RG_ERR_RETRYABLE, "failed after partial output");
      return;
    }
    out.Text("probe: " + ctx.request.LastUserText());
    out.ReportUsage({1, 2, 3});
    out.Final(RG_FINISH_STOP, RG_OK);
  }
};

const rg::sdk::PluginDefinition kProbe{
    "probe", RG_TEST_PLUGIN_VERSION, "regiongate tests",
    R"({"models":["probe-1"],"endpoints":["home","abroad"],"capabilities":["streaming"]})",
    [](const rg::sdk::Host&, const nlohmann::json&, rg::sdk::Status*)
        -> std::unique_ptr<rg::sdk::Instance> { return std::make_unique<ProbeInstance>(); }};

}  // namespace

RG_SDK_DEFINE_PLUGIN(kProbe)
