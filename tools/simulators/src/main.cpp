// rg-vendor-sim: serves every simulated vendor on one loopback port until SIGTERM/SIGINT.
// Prints exactly one line, "rg-vendor-sim listening on HOST:PORT", when ready.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include <pthread.h>

#include <CLI/CLI.hpp>

#include "regiongate/tools/sim_behavior.hpp"
#include "regiongate/tools/vendor_sim.hpp"

namespace {

rg::Result<void> WritePortFile(const std::string& path, uint16_t port) {
  // Written aside and renamed, so a script polling the file never reads half a number.
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << port << '\n';
    if (!out.flush()) {
      return rg::Error{"RG-S005", "cannot write --port-file " + temporary +
                                      "; check that the directory exists and is writable"};
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    return rg::Error{"RG-S005", "cannot write --port-file " + path + ": " + ec.message() +
                                    "; check that the directory exists and is writable"};
  }
  return {};
}

int Fail(const rg::Error& error) {
  std::cerr << "rg-vendor-sim: error " << error.id << ": " << error.message << '\n';
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  rg::tools::VendorSimOptions options;
  rg::tools::VendorFacts& facts = options.facts;
  std::string port_file;
  std::string native_sse_errors = "event";
  std::string v1_stream_usage = "cumulative";

  std::string behaviors;
  for (std::string_view name : rg::tools::BehaviorNames()) {
    behaviors += (behaviors.empty() ? "" : ", ") + std::string(name);
  }
  CLI::App app{
      "rg-vendor-sim: faithful local simulators of the OpenAI, DashScope (Qwen) and Qianfan "
      "(ERNIE) chat APIs on one loopback port. See docs/simulators.md."};
  app.add_option("--host", options.host, "address to listen on (loopback only by default)")
      ->capture_default_str();
  app.add_option("--port", options.port, "port to listen on; 0 picks an ephemeral one")
      ->capture_default_str();
  app.add_option("--port-file", port_file, "also write the bound port to this file");
  app.add_flag("--allow-non-loopback", options.allow_non_loopback,
               "allow a --host that is not a loopback address");
  app.add_option("--threads", options.threads, "I/O threads")->capture_default_str();
  app.add_flag("-v,--verbose", options.verbose,
               "log one line per request to stderr (never keys, tokens or query strings)");
  app.add_option("--behavior", options.default_behavior,
                 "behavior NAME[:ARG] for requests that name none (" + behaviors + ")")
      ->capture_default_str();
  app.add_option("--chunk-chars", options.chunk_chars, "code points of answer text per chunk")
      ->capture_default_str();
  app.add_option("--chunk-interval-ms", options.chunk_interval_ms, "pause between stream chunks")
      ->capture_default_str();
  app.add_option("--created", options.created,
                 "fixed 'created' unix time in answers; 0 uses the current time")
      ->capture_default_str();

  app.add_option("--openai-key", options.openai_key, "accepted OpenAI bearer key")
      ->envname("RG_SIM_OPENAI_KEY")
      ->capture_default_str();
  app.add_option("--dashscope-key", options.dashscope_key, "accepted DashScope bearer key")
      ->envname("RG_SIM_DASHSCOPE_KEY")
      ->capture_default_str();
  app.add_option("--qianfan-key", options.qianfan_key, "accepted Qianfan v2 bearer key")
      ->envname("RG_SIM_QIANFAN_KEY")
      ->capture_default_str();
  app.add_option("--qianfan-ak", options.qianfan_ak, "accepted Qianfan v1 API key (client_id)")
      ->envname("RG_SIM_QIANFAN_AK")
      ->capture_default_str();
  app.add_option("--qianfan-sk", options.qianfan_sk,
                 "accepted Qianfan v1 secret key (client_secret)")
      ->envname("RG_SIM_QIANFAN_SK")
      ->capture_default_str();
  app.add_option("--qianfan-token-ttl", options.qianfan_token_ttl_s,
                 "lifetime (expires_in) of Qianfan v1 access tokens, seconds")
      ->capture_default_str();
  app.add_option("--qianfan-v2-model", options.qianfan_v2_extra_models,
                 "accept this Qianfan v2 model id besides the known ones (repeatable)");

  // Facts vendor-protocols.md marks UNCONFIRMED.
  app.add_option("--openai-retry-after", facts.openai_retry_after_s,
                 "[UNCONFIRMED] retry-after seconds on OpenAI 429s; -1 sends no header")
      ->capture_default_str();
  app.add_option("--openai-auth-code", facts.openai_auth_error_code,
                 "[UNCONFIRMED] error.code of an OpenAI 401 for a wrong key")
      ->capture_default_str();
  app.add_option("--openai-rate-limit-type", facts.openai_rate_limit_type,
                 "[UNCONFIRMED] error.type of an OpenAI 429")
      ->capture_default_str();
  app.add_option("--openai-rate-limit-code", facts.openai_rate_limit_code,
                 "[UNCONFIRMED] error.code of an OpenAI 429")
      ->capture_default_str();
  app.add_option("--openai-reasoning-prefixes", facts.openai_reasoning_prefixes,
                 "model prefixes that reject max_tokens (comma-separated)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--dashscope-input-block-status", facts.dashscope_input_block_status,
                 "[UNCONFIRMED] HTTP status of a DashScope input content block")
      ->capture_default_str();
  app.add_option("--dashscope-compat-done-after-error", facts.dashscope_compat_done_after_error,
                 "[UNCONFIRMED] send data: [DONE] after a compatible-mode mid-stream error")
      ->capture_default_str();
  app.add_option("--dashscope-native-sse-errors", native_sse_errors,
                 "[UNCONFIRMED] native streaming errors before the first event: 'event' "
                 "(HTTP 200 + event:error) or 'http' (plain HTTP error)")
      ->check(CLI::IsMember({"event", "http"}))
      ->capture_default_str();
  app.add_option("--dashscope-ratelimit-headers", facts.dashscope_ratelimit_headers,
                 "[UNCONFIRMED] send x-ratelimit-* headers on DashScope answers")
      ->capture_default_str();
  app.add_option("--qianfan-v2-chunk-object", facts.qianfan_v2_chunk_object,
                 "[UNCONFIRMED] 'object' of Qianfan v2 stream chunks")
      ->capture_default_str();
  app.add_option("--qianfan-block-text", facts.qianfan_block_text,
                 "[UNCONFIRMED] text that accompanies a Qianfan content block")
      ->capture_default_str();
  app.add_option("--qianfan-input-block-flag", facts.qianfan_input_block_flag,
                 "flag of a Qianfan input block (1-4)")
      ->capture_default_str();
  app.add_option("--qianfan-output-block-flag", facts.qianfan_output_block_flag,
                 "flag of a Qianfan output block (1-4)")
      ->capture_default_str();
  app.add_option(
         "--qianfan-v1-stream-usage", v1_stream_usage,
         "[UNCONFIRMED] Qianfan v1 stream usage: 'cumulative' in every chunk or 'last' only")
      ->check(CLI::IsMember({"cumulative", "last"}))
      ->capture_default_str();
  app.add_option("--qianfan-v1-error-status", facts.qianfan_v1_error_status,
                 "HTTP status of Qianfan v1 error_code bodies (usually 200)")
      ->capture_default_str();
  app.add_option("--qianfan-v1-ratelimit-remaining", facts.qianfan_v1_ratelimit_remaining,
                 "[UNCONFIRMED] also send X-Ratelimit-Remaining-* on Qianfan v1")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  facts.dashscope_native_sse_errors_as_events = native_sse_errors == "event";
  facts.qianfan_v1_cumulative_stream_usage = v1_stream_usage == "cumulative";

  // Block the stop signals before any thread exists, so only sigwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  rg::tools::VendorSim simulator(options);
  if (rg::Result<void> started = simulator.Start(); !started) return Fail(started.error());
  if (!port_file.empty()) {
    if (rg::Result<void> written = WritePortFile(port_file, simulator.port()); !written) {
      simulator.Stop();
      return Fail(written.error());
    }
  }
  std::cout << "rg-vendor-sim listening on " << options.host << ":" << simulator.port()
            << std::endl;

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  if (options.verbose) {
    std::cerr << "rg-vendor-sim: stopping on " << (signal_number == SIGINT ? "SIGINT" : "SIGTERM")
              << " after " << simulator.RequestsServed() << " requests\n";
  }
  simulator.Stop();
  if (!port_file.empty()) {
    std::error_code ec;
    std::filesystem::remove(port_file, ec);
  }
  return 0;
}
