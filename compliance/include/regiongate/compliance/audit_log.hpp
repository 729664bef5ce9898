// The audit trail: one JSON line per request (also for refusals and failures), hash-chained
// across files, rotated by size and date, pruned per region's retention, and a verifier that
// says where a trail was edited, cut, reordered or truncated. Prompts are kept as an
// HMAC-SHA256 under a secret salt unless the region asks for the text.
// Record format, file layout and guarantees: docs/pii-labels-audit.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "regiongate/result.hpp"

namespace rg::compliance {

/// When appended records are forced to disk.
enum class FsyncPolicy {
  kNone,         ///< leave it to the OS (a crash may lose the last records)
  kEveryRecord,  ///< fdatasync after every record and head update (default)
};

/// One request as the host knows it when the request ends. `outcome` is what the runtime
/// writes (core/src/runtime.cpp): completed | blocked_input | blocked_output | denied |
/// failed | cancelled (docs/pii-labels-audit.md says which is which); the writer does not
/// police it.
struct AuditRecord {
  std::string decision_id;
  /// When the request arrived; the epoch (default) means "now" by the writer's clock.
  std::chrono::system_clock::time_point time{};
  std::string locale;
  std::string region;
  std::string manifest_revision;  ///< sha256 of the region manifest (RegionManifest::revision)
  std::string plugin;
  std::string model;
  std::string endpoint;
  bool endpoint_overridden = false;
  std::vector<std::string> rules;  ///< ids of the rules that fired (gate, content, PII)
  std::string outcome;
  std::string detail;  ///< error id, finish reason or refusal cause; optional
  std::optional<int64_t> prompt_tokens;
  std::optional<int64_t> completion_tokens;
  std::optional<int64_t> latency_ms;
  std::optional<int64_t> ttft_ms;  ///< time to first token
  /// The prompt: recorded as "prompt_hmac" (HMAC-SHA256 under the writer's salt), and as
  /// "prompt_text" too only when `store_prompt_text` (the region's audit.store_prompt_text).
  std::string prompt;
  bool store_prompt_text = false;
  nlohmann::json pii;    ///< PiiSummaryJson(): types, actions, counts; never values
  nlohmann::json extra;  ///< anything else worth keeping (an object), e.g. the label id
};

/// Appends records to `<directory>/<prefix>-YYYYMMDD-NNNN.jsonl`. Every record carries
/// "seq", "prev" (the previous record's hash; 64 zeros for the first record ever) and
/// "hash" (sha256 of the line without its hash), so a rotated file's first record links to
/// the last record of the file before it. `<prefix>.head` names the newest record, so cutting
/// records off the end is detected too; `<prefix>.lock` keeps a second writer out.
/// Thread-safe. Errors: RG-A001..RG-A007 (docs/errors.md).
class AuditWriter {
 public:
  struct Options {
    std::filesystem::path directory;
    /// Key of the prompt HMAC, at least 16 bytes (ReadAuditSalt reads it from a file).
    /// Never written anywhere.
    std::string salt;
    std::string file_prefix = "audit";
    /// A record that would take the file past this size goes to a new file (a file always
    /// takes at least one record).
    uint64_t max_file_bytes = 64ull << 20;
    /// A new file when the UTC day changes.
    bool rotate_daily = true;
    /// Files whose newest record is older than this many days are deleted, oldest first,
    /// on open and on rotation; the current file never is. 0 keeps everything.
    int retention_days = 0;
    FsyncPolicy fsync = FsyncPolicy::kEveryRecord;
    /// The time source (tests); system_clock::now when empty.
    std::function<std::chrono::system_clock::time_point()> clock;
  };

  /// Opens (or creates) the trail in `options.directory` and continues its chain.
  static Result<std::unique_ptr<AuditWriter>> Open(Options options);
  ~AuditWriter();
  AuditWriter(const AuditWriter&) = delete;
  AuditWriter& operator=(const AuditWriter&) = delete;

  /// Writes one record (and rotates or prunes first when due). An error means the record
  /// is not in the trail: a region with `audit.required` must then refuse the request.
  Result<void> Append(const AuditRecord& record);

  /// Whether a record could be written now: the last append succeeded and the current file
  /// is still in place. Call it before sending a request of an `audit.required` region, so
  /// a broken trail refuses the request before any byte reaches a provider.
  Result<void> Ready();

  /// Deletes the files past retention now; returns their names.
  Result<std::vector<std::string>> ApplyRetention();

  std::filesystem::path current_file() const;
  int64_t last_seq() const;
  std::string last_hash() const;
  /// What Open found and worked around (a torn last line, a head ahead of the files...),
  /// for the host's log.
  const std::vector<std::string>& open_notes() const { return open_notes_; }

 private:
  explicit AuditWriter(Options options);
  Result<void> Start();
  Result<void> OpenFile(const std::filesystem::path& path, bool create, int* error = nullptr);
  Result<void> Rotate(std::chrono::system_clock::time_point now);
  Result<void> AppendBody(nlohmann::json body, std::chrono::system_clock::time_point now);
  Result<void> WriteHead();
  Result<std::vector<std::string>> RetentionLocked(std::chrono::system_clock::time_point now);
  std::chrono::system_clock::time_point Now() const;

  Options options_;
  mutable std::mutex mutex_;
  int fd_ = -1;
  int lock_fd_ = -1;
  std::filesystem::path current_;
  std::chrono::year_month_day current_day_{};
  int current_number_ = 0;
  uint64_t current_size_ = 0;
  bool need_newline_ = false;  // the file ends in a torn line: start the next record afresh
  int64_t seq_ = 0;
  std::string hash_;
  std::optional<Error> last_error_;
  std::vector<std::string> open_notes_;
};

/// Reads the salt from a file (trailing newline removed); RG-A004 when it cannot be read or
/// is shorter than 16 bytes. The message never contains the salt.
Result<std::string> ReadAuditSalt(const std::filesystem::path& path);

/// One thing wrong with a trail, where it is.
struct AuditProblem {
  std::string id;  ///< RG-A101 edited, RG-A102 missing, RG-A103 out of order, RG-A104 malformed
                   ///< or truncated, RG-A105 cut at the end, RG-A106 unreadable
  std::string file;
  int64_t line = 0;  ///< 1-based; 0 for the whole file
  std::string message;
};

struct AuditFileSummary {
  std::string file;
  int64_t records = 0;  ///< well-formed records
  int64_t first_seq = 0;
  int64_t last_seq = 0;
};

struct AuditVerifyReport {
  std::vector<AuditFileSummary> files;
  std::vector<AuditProblem> problems;
  std::vector<std::string> notes;  ///< facts that are not problems (retention, head behind)
  int64_t records = 0;
  int64_t last_seq = 0;
  std::string last_hash;  ///< of the newest record: compare it with a copy kept elsewhere
  std::string head_file;  ///< the head file checked, "" when none

  bool ok() const { return problems.empty(); }
  /// "FILE:LINE: error: MESSAGE (ID)" per problem, then a summary line.
  std::string ToText() const;
  nlohmann::json ToJson() const;
};

struct AuditVerifyOptions {
  /// The writer's head file; by default `<prefix>.head` next to the last file given.
  std::optional<std::filesystem::path> head;
};

/// Checks a trail: pass its files oldest first (the shell's sorted glob does that). Finds
/// edited, removed, reordered and duplicated records, torn lines, files missing between or
/// before the ones given (unless a retention record accounts for them) and records cut off
/// the end (against the head). The CLI's `audit verify` prints ToText() or ToJson() and
/// exits 0 when ok(), 2 otherwise.
AuditVerifyReport VerifyAuditFiles(const std::vector<std::filesystem::path>& paths,
                                   const AuditVerifyOptions& options = {});

}  // namespace rg::compliance
