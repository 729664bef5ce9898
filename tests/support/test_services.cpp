#include "support/test_services.hpp"

#include <chrono>

namespace rg::test {

TestServices::TestServices() {
  table_.struct_size = sizeof(rg_host_services);
  table_.abi_major = RG_ABI_VERSION_MAJOR;
  table_.abi_minor = RG_ABI_VERSION_MINOR;
  table_.context = reinterpret_cast<rg_host_context*>(this);
  table_.log = &TestServices::Log;
  table_.log_enabled = &TestServices::LogEnabled;
  table_.clock_monotonic_ns = &TestServices::ClockMonotonicNs;
  table_.clock_unix_ms = &TestServices::ClockUnixMs;
  table_.secret_get = &TestServices::SecretGet;
  table_.is_cancelled = &TestServices::IsCancelled;
  table_.http = &TestServices::Http;
  table_.error_set = &TestServices::ErrorSet;
}

TestServices& TestServices::Shared() {
  // Leaked on purpose: plug-ins keep the table until the process exits.
  static auto* shared = new TestServices();
  return *shared;
}

core::PluginLoader::ServicesFactory TestServices::Factory() {
  return [this](const compliance::PluginManifest&) { return table(); };
}

std::vector<LogLine> TestServices::Logs() const {
  std::lock_guard lock(mutex_);
  return logs_;
}

void TestServices::SetSecret(const std::string& name, const std::string& value) {
  std::lock_guard lock(mutex_);
  secrets_[name] = value;
}

void TestServices::SetHttpHandler(HttpHandler handler) {
  std::lock_guard lock(mutex_);
  http_handler_ = std::move(handler);
}

void TestServices::Reset() {
  std::lock_guard lock(mutex_);
  logs_.clear();
  secrets_.clear();
  http_handler_ = nullptr;
}

TestServices& TestServices::Self(rg_host_context* context) {
  return *reinterpret_cast<TestServices*>(context);
}

void TestServices::Log(rg_host_context* context, rg_log_level level, rg_str message) {
  TestServices& self = Self(context);
  std::lock_guard lock(self.mutex_);
  self.logs_.push_back(LogLine{level, std::string(message.ptr != nullptr ? message.ptr : "",
                                                  message.ptr != nullptr ? message.len : 0)});
}

int TestServices::LogEnabled(rg_host_context*, rg_log_level) { return 1; }

uint64_t TestServices::ClockMonotonicNs(rg_host_context*) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

int64_t TestServices::ClockUnixMs(rg_host_context*) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

rg_code TestServices::SecretGet(rg_host_context* context, rg_str name, char* buffer,
                                size_t capacity, size_t* length) {
  TestServices& self = Self(context);
  std::lock_guard lock(self.mutex_);
  const auto it = self.secrets_.find(
      std::string(name.ptr != nullptr ? name.ptr : "", name.ptr != nullptr ? name.len : 0));
  if (it == self.secrets_.end()) return RG_ERR_AUTH;
  if (length != nullptr) *length = it->second.size();
  if (it->second.size() > capacity) return RG_ERR_INVALID_REQUEST;
  it->second.copy(buffer, it->second.size());  // no NUL: the ABI passes a length
  return RG_OK;
}

int TestServices::IsCancelled(rg_call* call) {
  return call != nullptr && reinterpret_cast<TestCall*>(call)->cancelled.load() ? 1 : 0;
}

rg_code TestServices::Http(rg_call* call, const rg_http_request* request,
                           const rg_http_response_sink* sink, rg_error* error) {
  TestCall* test_call = reinterpret_cast<TestCall*>(call);
  TestServices& self =
      test_call != nullptr && test_call->services != nullptr ? *test_call->services : Shared();
  HttpHandler handler;
  {
    std::lock_guard lock(self.mutex_);
    handler = self.http_handler_;
  }
  if (!handler || request == nullptr || sink == nullptr) {
    const std::string message = "test services: no HTTP handler set";
    ErrorSet(error, RG_ERR_EGRESS_DENIED, Str(message));
    return RG_ERR_EGRESS_DENIED;
  }
  return handler(*request, *sink, error);
}

void TestServices::ErrorSet(rg_error* error, rg_code code, rg_str message) {
  if (error == nullptr) return;
  auto* slot = reinterpret_cast<TestError*>(error);
  slot->code = code;
  slot->message.assign(message.ptr != nullptr ? message.ptr : "",
                       message.ptr != nullptr ? message.len : 0);
}

EventRecorder::EventRecorder() {
  sink_.struct_size = sizeof(rg_event_sink);
  sink_.user = this;
  sink_.emit = &EventRecorder::Emit;
}

std::vector<RecordedEvent> EventRecorder::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

std::string EventRecorder::Text() const {
  std::lock_guard lock(mutex_);
  std::string text;
  for (const RecordedEvent& event : events_) {
    if (event.kind == RG_EVENT_TEXT_DELTA) text += event.data;
  }
  return text;
}

int EventRecorder::Emit(void* user, const rg_event* event) {
  auto* self = static_cast<EventRecorder*>(user);
  std::lock_guard lock(self->mutex_);
  RecordedEvent recorded;
  recorded.kind = event->kind;
  if (event->data.ptr != nullptr) recorded.data.assign(event->data.ptr, event->data.len);
  recorded.finish = event->finish;
  recorded.code = event->code;
  self->events_.push_back(std::move(recorded));
  const int count = static_cast<int>(self->events_.size());
  return self->stop_after_ > 0 && count >= self->stop_after_ ? 1 : 0;
}

}  // namespace rg::test
