/*
 * regiongate inference ABI, version 1: the whole contract between the host and a provider
 * plug-in. Pure C11; no other project header is needed to implement a plug-in.
 *
 * Shape (docs/abi.md explains the why):
 *   - A plug-in library exports exactly one symbol, rg_plugin_entry (RG_PLUGIN_ENTRY_SYMBOL).
 *   - The host calls it once with its services table (rg_host_services) and its ABI version;
 *     the plug-in answers with a pointer to its own table (rg_plugin), which names the ABI
 *     version the plug-in will speak. Major must equal the host's, minor must be <= the host's.
 *   - Every table starts with uint32_t struct_size and only ever grows at the end. A reader
 *     uses a member only if RG_HAS_MEMBER(table, member) holds.
 *   - Requests and responses cross as canonical JSON (close to OpenAI chat completions), so
 *     unknown fields pass through and the ABI does not change when a field is added.
 *   - Completions push canonical events to a host sink and end with exactly one FINAL event.
 *   - Plug-ins never open sockets: all egress goes through rg_host_services.http, where the
 *     host applies data-residency checks, endpoint overrides, timeouts and proxies.
 *
 * Conventions for every function below:
 *   - Strings are UTF-8. rg_str is a borrowed view {ptr,len}, not NUL-terminated, valid only
 *     for the duration of the call that passes it; copy what you keep. A NULL ptr with len 0
 *     is the empty string.
 *   - `const char*` members of plug-in tables are NUL-terminated and owned by the plug-in;
 *     they must stay valid until the library is unloaded (static storage is the norm).
 *   - No C++ exception, longjmp or signal may cross the boundary in either direction.
 *   - Functions return rg_code; RG_OK (0) is success.
 *   - Every enumeration has a *_MAX_ENUM member so that it is 32 bits wide on every compiler.
 */
#ifndef REGIONGATE_ABI_H_
#define REGIONGATE_ABI_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------- */
/* Versioning                                                                               */
/* ---------------------------------------------------------------------------------------- */

/** Major changes break compatibility (a member removed or its meaning changed). */
#define RG_ABI_VERSION_MAJOR 1
/** Minor changes only append members to tables or values to enumerations. */
#define RG_ABI_VERSION_MINOR 0

/** The one symbol a plug-in library exports. */
#define RG_PLUGIN_ENTRY_SYMBOL "rg_plugin_entry"

/** True when `table` (a pointer to any rg_* table) is large enough to contain `member`. */
#ifdef __cplusplus
#define RG_HAS_MEMBER(table, member)                                                               \
  ((table) != nullptr && static_cast<size_t>((table)->struct_size) >=                              \
                             static_cast<size_t>(reinterpret_cast<const char*>(&(table)->member) - \
                                                 reinterpret_cast<const char*>(table)) +           \
                                 sizeof((table)->member))
#else
#define RG_HAS_MEMBER(table, member) \
  ((table) != NULL &&                \
   (size_t)(table)->struct_size >=   \
       (size_t)((const char*)&(table)->member - (const char*)(table)) + sizeof((table)->member))
#endif

#if defined(_WIN32)
#define RG_PLUGIN_EXPORT __declspec(dllexport)
#else
#define RG_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* ---------------------------------------------------------------------------------------- */
/* Basic types                                                                              */
/* ---------------------------------------------------------------------------------------- */

/** Borrowed UTF-8 string view; see the conventions above for its lifetime. */
typedef struct rg_str {
  const char* ptr;
  size_t len;
} rg_str;

/**
 * Result codes. The host acts on them: RETRYABLE and RATE_LIMITED are retried (with capped
 * exponential backoff, honouring retry_after_ms) while no output has reached the caller;
 * AUTH and INVALID_REQUEST are reported, never retried; PROVIDER_BLOCKED is reported as a
 * provider-side content block (input or output); UNAVAILABLE may fall back to another
 * plug-in. Values are stable and only ever appended; a reader treats an unknown value as
 * RG_ERR_INTERNAL.
 */
typedef enum rg_code {
  RG_OK = 0,
  RG_ERR_RETRYABLE = 1,         /**< transient: connection reset, timeout, HTTP 500/502/503/504 */
  RG_ERR_AUTH = 2,              /**< credential missing, invalid or expired */
  RG_ERR_RATE_LIMITED = 3,      /**< vendor rate limit or quota (HTTP 429 and equivalents) */
  RG_ERR_INVALID_REQUEST = 4,   /**< the request itself is wrong; retrying cannot help */
  RG_ERR_PROVIDER_BLOCKED = 5,  /**< the vendor's content safety refused input or output */
  RG_ERR_UNAVAILABLE = 6,       /**< model/endpoint not available, or plug-in not ready */
  RG_ERR_CANCELLED = 7,         /**< the host cancelled the call */
  RG_ERR_INTERNAL = 8,          /**< bug or unexpected state inside the plug-in or host */
  RG_ERR_PROTOCOL = 9,          /**< vendor answered malformed data or the stream was truncated */
  RG_ERR_EGRESS_DENIED = 10,    /**< the host refused the destination before sending (policy) */
  RG_CODE_MAX_ENUM = 0x7FFFFFFF /**< keeps the enumeration 32 bits wide */
} rg_code;

/** Log levels for rg_host_services.log. */
typedef enum rg_log_level {
  RG_LOG_TRACE = 0,
  RG_LOG_DEBUG = 1,
  RG_LOG_INFO = 2,
  RG_LOG_WARN = 3,
  RG_LOG_ERROR = 4,
  RG_LOG_MAX_ENUM = 0x7FFFFFFF
} rg_log_level;

/** Opaque host objects. Plug-ins only pass them back to the host. */
typedef struct rg_host_context rg_host_context; /**< one per loaded plug-in */
typedef struct rg_call rg_call;                 /**< one per completion call */

/** Opaque plug-in object: one configured instance (settings applied). */
typedef struct rg_instance rg_instance;

/** Size of rg_error.message, including the terminating NUL. */
#define RG_ERROR_MESSAGE_CAPACITY 1024

/**
 * Error slot for functions that do not report through events. Always owned by the CALLER,
 * who zero-initialises it and sets struct_size; the callee writes code and a NUL-terminated
 * UTF-8 message (truncated to fit, at a character boundary). No allocation crosses.
 */
typedef struct rg_error {
  uint32_t struct_size;
  rg_code code;
  char message[RG_ERROR_MESSAGE_CAPACITY];
} rg_error;

/* ---------------------------------------------------------------------------------------- */
/* HTTP through the host                                                                    */
/* ---------------------------------------------------------------------------------------- */

typedef struct rg_http_header {
  rg_str name;
  rg_str value;
} rg_http_header;

/**
 * An outbound request. The destination is a declared endpoint (by id, from the plug-in
 * manifest) plus a path: the host resolves the endpoint's base URL (applying any configured
 * override), asks the compliance layer whether this call may reach it, and only then sends.
 * A plug-in cannot reach a host it did not declare.
 */
typedef struct rg_http_request {
  uint32_t struct_size;
  rg_str method;                 /**< "GET", "POST", ... */
  rg_str endpoint_id;            /**< id of an endpoint in the plug-in manifest */
  rg_str path;                   /**< appended to the endpoint base URL; may carry a query */
  const rg_http_header* headers; /**< borrowed array, header_count entries */
  size_t header_count;
  rg_str body;               /**< request body, may be empty */
  uint32_t total_timeout_ms; /**< 0 = host default */
  uint32_t idle_timeout_ms;  /**< max gap between body bytes; 0 = host default */
} rg_http_request;

/**
 * Receives the response. Called on the thread that called http(), in order: on_head once,
 * then on_body zero or more times. Views are valid only during the callback.
 * Returning non-zero from either callback aborts the transfer; http() then returns
 * RG_ERR_CANCELLED.
 */
typedef struct rg_http_response_sink {
  uint32_t struct_size;
  void* user;
  int (*on_head)(void* user, int32_t status, const rg_http_header* headers, size_t header_count);
  int (*on_body)(void* user, rg_str chunk);
} rg_http_response_sink;

/* ---------------------------------------------------------------------------------------- */
/* Host services (host-owned, valid from entry until the plug-in is unloaded)                */
/* ---------------------------------------------------------------------------------------- */

typedef struct rg_host_services {
  uint32_t struct_size;
  uint16_t abi_major; /**< the host's ABI version */
  uint16_t abi_minor;
  rg_host_context* context; /**< pass back to context-taking services */

  /** Log a line attributed to this plug-in. Thread-safe. The host copies the text and
   *  redacts any secret value it has handed out. Plug-ins must not print to stdout/stderr. */
  void (*log)(rg_host_context* context, rg_log_level level, rg_str message);
  /** Non-zero when `level` would be emitted; lets a plug-in skip building a message. */
  int (*log_enabled)(rg_host_context* context, rg_log_level level);

  /** Monotonic nanoseconds, for durations. Thread-safe. */
  uint64_t (*clock_monotonic_ns)(rg_host_context* context);
  /** Wall-clock milliseconds since the Unix epoch. Thread-safe. */
  int64_t (*clock_unix_ms)(rg_host_context* context);

  /**
   * Look up a secret by name (e.g. "OPENAI_API_KEY") from the environment or a file named in
   * host configuration. Copies at most `capacity` bytes into `buffer` (no NUL added) and
   * stores the full length in *length. Returns RG_OK, RG_ERR_AUTH when no such secret exists
   * (the host's error names the variable), or RG_ERR_INVALID_REQUEST when capacity is too
   * small (*length says how much is needed). Thread-safe. Never log the value.
   */
  rg_code (*secret_get)(rg_host_context* context, rg_str name, char* buffer, size_t capacity,
                        size_t* length);

  /** Non-zero once the host has cancelled `call`. Cheap; poll it between chunks. */
  int (*is_cancelled)(rg_call* call);

  /**
   * Perform one HTTP exchange for `call`, blocking the calling thread until the response
   * has been delivered to `sink` or the exchange failed. TLS is verified, proxies come from
   * the environment, timeouts and cancellation are enforced by the host. Returns RG_OK when
   * a response (of any status) was delivered in full; otherwise RG_ERR_EGRESS_DENIED (policy
   * refused the destination: nothing was sent), RG_ERR_CANCELLED, RG_ERR_RETRYABLE
   * (connect/timeout/reset), RG_ERR_PROTOCOL (connection closed mid-body, not HTTP),
   * RG_ERR_INVALID_REQUEST (bad path or header), RG_ERR_UNAVAILABLE (TLS verification
   * failed) or RG_ERR_INTERNAL, with the
   * reason in `error` (caller-owned; may be NULL). May be called from any thread working on
   * `call`.
   */
  rg_code (*http)(rg_call* call, const rg_http_request* request, const rg_http_response_sink* sink,
                  rg_error* error);

  /** Convenience: writes code and message into `error` (truncating at a UTF-8 character
   *  boundary). `error` may be NULL. Thread-safe. */
  void (*error_set)(rg_error* error, rg_code code, rg_str message);
} rg_host_services;

/* ---------------------------------------------------------------------------------------- */
/* Completions and streaming events                                                         */
/* ---------------------------------------------------------------------------------------- */

typedef enum rg_event_kind {
  /** data: UTF-8 text to append to the answer. */
  RG_EVENT_TEXT_DELTA = 1,
  /** data: JSON {"index":N,"id":"...","name":"...","arguments":"<fragment>"}; id and name
   *  only on the first delta of a call. */
  RG_EVENT_TOOL_CALL_DELTA = 2,
  /** data: JSON {"prompt_tokens":N,"completion_tokens":N,"total_tokens":N,...}: the running
   *  totals for the whole call so far (the plug-in turns vendor semantics - cumulative or
   *  final-only - into totals); the last USAGE event wins. */
  RG_EVENT_USAGE = 3,
  /** The end of the call; exactly one per complete() call, always the last event.
   *  finish and code are set; data: JSON {"message":"...", "blocked":"input"|"output",
   *  "retry_after_ms":N, "http_status":N, "vendor_code":"...", "request_id":"..."}, every key
   *  optional. */
  RG_EVENT_FINAL = 4,
  RG_EVENT_MAX_ENUM = 0x7FFFFFFF
} rg_event_kind;

typedef enum rg_finish_reason {
  RG_FINISH_NONE = 0,           /**< not a FINAL event */
  RG_FINISH_STOP = 1,           /**< natural end or a stop sequence */
  RG_FINISH_LENGTH = 2,         /**< token limit reached: the answer is cut short */
  RG_FINISH_TOOL_CALLS = 3,     /**< the model asks for tool calls */
  RG_FINISH_CONTENT_FILTER = 4, /**< blocked by content safety (code RG_ERR_PROVIDER_BLOCKED
                                     for the vendor's own; the host uses it for its filter) */
  RG_FINISH_ERROR = 5,          /**< failed; code says how */
  RG_FINISH_CANCELLED = 6,      /**< cancelled by the host; code RG_ERR_CANCELLED */
  RG_FINISH_MAX_ENUM = 0x7FFFFFFF
} rg_finish_reason;

typedef struct rg_event {
  uint32_t struct_size;
  rg_event_kind kind;
  rg_str data;             /**< kind-specific, borrowed for the duration of the sink call */
  rg_finish_reason finish; /**< FINAL only */
  rg_code code;            /**< FINAL only: RG_OK unless the call failed or was blocked */
} rg_event;

/**
 * The host's event sink. The plug-in calls `emit` on the thread that runs complete(), in
 * order. A non-zero return means "stop": the plug-in must stop producing output, then
 * emit FINAL with RG_FINISH_CANCELLED / RG_ERR_CANCELLED and return.
 */
typedef struct rg_event_sink {
  uint32_t struct_size;
  void* user;
  int (*emit)(void* user, const rg_event* event);
} rg_event_sink;

/** One completion request. Everything is borrowed for the duration of complete(). */
typedef struct rg_request {
  uint32_t struct_size;
  rg_call* call;      /**< pass to is_cancelled() and http() */
  rg_str endpoint_id; /**< the endpoint the host's gate selected for this call */
  /** Canonical request JSON: {"model":"...","messages":[{"role":"...","content":"..."}],
   *  "stream":bool, "max_tokens":N, "temperature":x, "top_p":x, "stop":[...], "tools":[...],
   *  "tool_choice":..., ...}; unknown keys are passed through to vendors that accept them. */
  rg_str json;
} rg_request;

/* ---------------------------------------------------------------------------------------- */
/* The plug-in table                                                                        */
/* ---------------------------------------------------------------------------------------- */

typedef struct rg_plugin {
  uint32_t struct_size;
  uint16_t abi_major; /**< version the plug-in speaks, answered in negotiation */
  uint16_t abi_minor;

  /** Identity; must agree with the plug-in manifest (checked at load). */
  const char* id;
  const char* version;
  const char* vendor;
  /** JSON {"models":["..."],"endpoints":["..."],"capabilities":["..."]}: what the code
   *  implements; the host checks it equals the manifest's lists. */
  const char* description_json;

  /**
   * Create an instance. `config_json` is {"settings":{...validated, defaults applied...},
   * "endpoints":{"<id>":{...manifest entry, effective base_url...}}}, borrowed. On success
   * stores a plug-in-owned instance in *out. On failure returns a code and fills `error`
   * (host-owned slot, never NULL).
   * Called on any thread; concurrent calls must be safe.
   */
  rg_code (*instance_create)(rg_str config_json, rg_instance** out, rg_error* error);

  /** Destroy an instance. No complete() runs on it during or after this call. */
  void (*instance_destroy)(rg_instance* instance);

  /**
   * Run one completion (streaming or not, per the request's "stream" key: events are pushed
   * either way; for stream:false the plug-in may deliver the text as one delta). Blocks
   * until done. Emits exactly one FINAL event and returns the same code it carries.
   * May be called concurrently on one instance from many threads, for different requests.
   */
  rg_code (*complete)(rg_instance* instance, const rg_request* request, const rg_event_sink* sink);

  /** Called once before the host drops the plug-in; join any thread the plug-in started.
   *  May be NULL. */
  void (*shutdown)(void);
} rg_plugin;

/**
 * The entry point (exported as rg_plugin_entry). Called once per process, under the host's
 * load lock, before any other plug-in function. `host` stays valid until the plug-in is
 * unloaded. On success stores a pointer to the plug-in's table (valid until unload) in *out
 * and returns RG_OK; the table's abi_major/abi_minor give the version the plug-in speaks,
 * which must satisfy major == host_abi_major and minor <= host_abi_minor. Must not throw.
 */
typedef rg_code (*rg_plugin_entry_fn)(const rg_host_services* host, uint32_t host_abi_major,
                                      uint32_t host_abi_minor, const rg_plugin** out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* REGIONGATE_ABI_H_ */
