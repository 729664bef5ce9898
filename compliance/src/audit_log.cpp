#include "regiongate/compliance/audit_log.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "regiongate/compliance/region_manifest.hpp"
#include "regiongate/compliance/sha256.hpp"
#include "utc_time.hpp"

namespace rg::compliance {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

constexpr int kFormatVersion = 1;
constexpr std::string_view kHashKey = ",\"hash\":\"";
constexpr size_t kHashSuffixSize = kHashKey.size() + 64 + 2;  // ,"hash":"<64 hex>"}
const std::string kGenesisHash(64, '0');
constexpr size_t kMinSaltSize = 16;

std::string ErrnoText(int error) { return std::strerror(error); }

bool IsLowerHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// ---- file names ---------------------------------------------------------------------------

struct TrailFile {
  fs::path path;
  std::chrono::year_month_day day{};
  int number = 0;
  std::string prefix;
};

// "<prefix>-YYYYMMDD-NNNN.jsonl"
std::optional<TrailFile> ParseTrailName(const fs::path& path) {
  std::string name = path.filename().string();
  constexpr std::string_view kExtension = ".jsonl";
  if (name.size() <= kExtension.size() ||
      name.compare(name.size() - kExtension.size(), kExtension.size(), kExtension) != 0) {
    return std::nullopt;
  }
  name.resize(name.size() - kExtension.size());
  const size_t number_dash = name.rfind('-');
  if (number_dash == std::string::npos || number_dash < 10) return std::nullopt;
  const std::string number = name.substr(number_dash + 1);
  const std::string date = name.substr(number_dash - 8, 8);
  if (name[number_dash - 9] != '-' || !AllDigits(number) || number.size() > 9 || !AllDigits(date)) {
    return std::nullopt;
  }
  const std::optional<Date> day =
      ParseDate(date.substr(0, 4) + "-" + date.substr(4, 2) + "-" + date.substr(6, 2));
  if (!day) return std::nullopt;
  return TrailFile{path, *day, std::stoi(number), name.substr(0, number_dash - 9)};
}

std::string TrailName(const std::string& prefix, std::chrono::year_month_day day, int number) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "-%04d%02u%02u-%04d.jsonl", static_cast<int>(day.year()),
                static_cast<unsigned>(day.month()), static_cast<unsigned>(day.day()), number);
  return prefix + buffer;
}

// The trail's files in `dir`, oldest first.
std::vector<TrailFile> ListTrail(const fs::path& dir, const std::string& prefix) {
  std::vector<TrailFile> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec) && !it->is_symlink(ec)) continue;
    std::optional<TrailFile> f = ParseTrailName(it->path());
    if (f && f->prefix == prefix) files.push_back(std::move(*f));
  }
  std::sort(files.begin(), files.end(), [](const TrailFile& a, const TrailFile& b) {
    return std::tie(a.day, a.number) < std::tie(b.day, b.number);
  });
  return files;
}

// ---- records ------------------------------------------------------------------------------

struct ParsedLine {
  bool ok = false;       // a valid record
  bool chained = false;  // seq, prev, hash and kind are readable (true too for an edited record)
  std::string id;        // problem id when !ok
  std::string problem;
  int64_t seq = 0;
  std::string prev;
  std::string hash;
  std::string kind;
  nlohmann::json body;
};

// Checks one line (without its line end): complete, self-consistent, chained fields present.
ParsedLine ParseLine(std::string_view line) {
  ParsedLine p;
  const auto fail = [&p](std::string id, std::string problem) {
    p.id = std::move(id);
    p.problem = std::move(problem);
    return p;
  };
  if (line.size() < kHashSuffixSize + 2 ||
      line.substr(line.size() - kHashSuffixSize, kHashKey.size()) != kHashKey ||
      line.substr(line.size() - 2) != "\"}") {
    return fail("RG-A104", "not a complete audit record (no hash at its end)");
  }
  const std::string_view stored = line.substr(line.size() - 66, 64);
  if (!IsLowerHex64(stored)) return fail("RG-A104", "not a complete audit record (bad hash)");
  std::string body(line.substr(0, line.size() - kHashSuffixSize));
  body += '}';
  p.body = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (p.body.is_discarded() || !p.body.is_object()) {
    return fail("RG-A104", "not a complete audit record (invalid JSON)");
  }
  const nlohmann::json& seq = p.body["seq"];
  const nlohmann::json& prev = p.body["prev"];
  const nlohmann::json& kind = p.body["kind"];
  if (p.body.value("v", 0) != kFormatVersion || !seq.is_number_integer() ||
      seq.get<int64_t>() < 1 || !prev.is_string() || !IsLowerHex64(prev.get<std::string>()) ||
      !kind.is_string()) {
    return fail("RG-A104", "not an audit record of format 1 (v, seq, prev or kind is missing)");
  }
  // An edited record still says where it sits in the chain, so its neighbours check out.
  p.chained = true;
  p.seq = seq.get<int64_t>();
  p.prev = prev.get<std::string>();
  p.hash = std::string(stored);
  p.kind = kind.get<std::string>();
  if (Sha256Hex(body) != stored) {
    return fail("RG-A101", "the record was edited: its content does not match its hash");
  }
  p.ok = true;
  return p;
}

// Size of a regular file; 0 for anything else (a device stands in for a disk in tests).
uint64_t FileSize(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  return static_cast<uint64_t>(st.st_size);
}

bool ReadAll(const fs::path& path, std::string* out, std::string* error) {
  // Only regular files: reading /dev/zero or a FIFO would never end.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    *error = ErrnoText(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = "not a regular file";
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = ErrnoText(errno);
    return false;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    *error = "read error";
    return false;
  }
  *out = buffer.str();
  return true;
}

// Calls fn(line, number, terminated) for every line; the last one may lack its line end.
template <class Fn>
void ForEachLine(std::string_view content, Fn fn) {
  size_t start = 0;
  int64_t number = 0;
  while (start < content.size()) {
    const size_t nl = content.find('\n', start);
    ++number;
    if (nl == std::string_view::npos) {
      fn(content.substr(start), number, false);
      return;
    }
    fn(content.substr(start, nl - start), number, true);
    start = nl + 1;
  }
}

std::optional<ParsedLine> FirstRecord(const fs::path& path) {
  if (!fs::is_regular_file(path)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  for (std::string line; std::getline(in, line);) {
    ParsedLine p = ParseLine(line);
    if (p.ok) return p;
  }
  return std::nullopt;
}

std::optional<ParsedLine> LastRecord(const fs::path& path) {
  std::string content;
  std::string error;
  if (!ReadAll(path, &content, &error)) return std::nullopt;
  size_t end = content.size();
  while (end > 0) {
    const size_t nl = content.rfind('\n', end - 1);
    const size_t begin = nl == std::string::npos ? 0 : nl + 1;
    if (end > begin) {
      ParsedLine p = ParseLine(std::string_view(content).substr(begin, end - begin));
      if (p.ok) return p;
    }
    if (nl == std::string::npos) break;
    end = nl;
  }
  return std::nullopt;
}

struct Head {
  std::string file;
  int64_t seq = 0;
  std::string hash;
};

std::optional<Head> ReadHead(const fs::path& path, std::string* problem) {
  std::string content;
  std::string error;
  if (!fs::exists(path)) return std::nullopt;
  if (!ReadAll(path, &content, &error)) {
    *problem = "cannot read it: " + error;
    return std::nullopt;
  }
  const nlohmann::json j = nlohmann::json::parse(content, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j["file"].is_string() ||
      !j["seq"].is_number_integer() || !j["hash"].is_string() ||
      !IsLowerHex64(j["hash"].get<std::string>())) {
    *problem = "it is not a head file ({\"file\", \"seq\", \"hash\"})";
    return std::nullopt;
  }
  return Head{j["file"].get<std::string>(), j["seq"].get<int64_t>(), j["hash"].get<std::string>()};
}

bool WriteAll(int fd, std::string_view data, int* error) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = errno;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

nlohmann::json RecordJson(const AuditRecord& r, const std::string& salt, Clock::time_point now) {
  nlohmann::json j = nlohmann::json::object();
  j["kind"] = "request";
  j["time"] = detail::FormatUtc(r.time == Clock::time_point{} ? now : r.time);
  j["decision_id"] = r.decision_id;
  j["locale"] = r.locale;
  j["region"] = r.region;
  j["manifest_revision"] = r.manifest_revision;
  j["plugin"] = r.plugin;
  j["model"] = r.model;
  j["endpoint"] = r.endpoint;
  j["endpoint_overridden"] = r.endpoint_overridden;
  j["rules"] = r.rules;
  j["outcome"] = r.outcome;
  if (!r.detail.empty()) j["detail"] = r.detail;
  nlohmann::json usage = nlohmann::json::object();
  if (r.prompt_tokens) usage["prompt_tokens"] = *r.prompt_tokens;
  if (r.completion_tokens) usage["completion_tokens"] = *r.completion_tokens;
  j["usage"] = std::move(usage);
  if (r.latency_ms) j["latency_ms"] = *r.latency_ms;
  if (r.ttft_ms) j["ttft_ms"] = *r.ttft_ms;
  j["prompt_hmac"] = HmacSha256Hex(salt, r.prompt);
  if (r.store_prompt_text) j["prompt_text"] = r.prompt;
  if (!r.pii.is_null()) j["pii"] = r.pii;
  if (!r.extra.is_null()) j["extra"] = r.extra;
  return j;
}

std::string Location(const std::string& file, int64_t line) {
  return file + ":" + std::to_string(line);
}

// "record seq 3 is" / "records seq 3 to 5 are"
std::string Records(int64_t first, int64_t last, std::string_view singular,
                    std::string_view plural) {
  if (first == last) return "record seq " + std::to_string(first) + " " + std::string(singular);
  return "records seq " + std::to_string(first) + " to " + std::to_string(last) + " " +
         std::string(plural);
}

}  // namespace

// ---- salt ---------------------------------------------------------------------------------

Result<std::string> ReadAuditSalt(const fs::path& path) {
  std::string salt;
  std::string error;
  if (!ReadAll(path, &salt, &error)) {
    return Error{"RG-A004", "cannot read the audit salt file '" + path.string() + "': " + error +
                                "; create it with 32 random bytes (head -c 32 /dev/urandom | "
                                "base64 > FILE) and make it readable by the host only"};
  }
  while (!salt.empty() && (salt.back() == '\n' || salt.back() == '\r')) salt.pop_back();
  if (salt.size() < kMinSaltSize) {
    return Error{"RG-A004", "the audit salt in '" + path.string() + "' is " +
                                std::to_string(salt.size()) + " bytes; use at least " +
                                std::to_string(kMinSaltSize) +
                                " random bytes (head -c 32 /dev/urandom | base64 > FILE)"};
  }
  return salt;
}

// ---- writer -------------------------------------------------------------------------------

AuditWriter::AuditWriter(Options options) : options_(std::move(options)) {}

AuditWriter::~AuditWriter() {
  if (fd_ >= 0) {
    if (options_.fsync == FsyncPolicy::kEveryRecord) ::fdatasync(fd_);
    ::close(fd_);
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
}

Result<std::unique_ptr<AuditWriter>> AuditWriter::Open(Options options) {
  if (options.salt.size() < kMinSaltSize) {
    return Error{"RG-A004", "the audit salt is " + std::to_string(options.salt.size()) +
                                " bytes; configure at least " + std::to_string(kMinSaltSize) +
                                " random bytes (ReadAuditSalt reads them from a file)"};
  }
  if (options.directory.empty() || options.file_prefix.empty() ||
      options.file_prefix.find('/') != std::string::npos) {
    return Error{"RG-A001",
                 "the audit trail needs a directory and a file prefix without '/'; "
                 "set both in the host configuration"};
  }
  if (options.max_file_bytes == 0) options.max_file_bytes = 1;
  std::unique_ptr<AuditWriter> writer(new AuditWriter(std::move(options)));
  std::lock_guard lock(writer->mutex_);
  if (Result<void> started = writer->Start(); !started.ok()) return started.error();
  return writer;
}

Clock::time_point AuditWriter::Now() const {
  return options_.clock ? options_.clock() : Clock::now();
}

Result<void> AuditWriter::Start() {
  const fs::path& dir = options_.directory;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir, ec)) {
    return Error{"RG-A001", "cannot create the audit directory '" + dir.string() +
                                "': " + (ec ? ec.message() : std::string("not a directory")) +
                                "; create it, make it writable by the host, or fix the audit "
                                "directory setting"};
  }
  const fs::path lock_path = dir / (options_.file_prefix + ".lock");
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (lock_fd_ < 0) {
    return Error{"RG-A001", "cannot write in the audit directory '" + dir.string() + "' (" +
                                lock_path.filename().string() + ": " + ErrnoText(errno) +
                                "); make it writable by the host"};
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return Error{"RG-A002", "the audit directory '" + dir.string() +
                                "' is in use by another writer (" + lock_path.string() +
                                " is locked); give each host process its own audit directory"};
  }

  // Continue the chain from the newest record on disk, or from the head when it is ahead
  // (records were cut off the end: continuing from the head keeps that gap visible).
  const std::vector<TrailFile> files = ListTrail(dir, options_.file_prefix);
  seq_ = 0;
  hash_ = kGenesisHash;
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    if (std::optional<ParsedLine> last = LastRecord(it->path)) {
      seq_ = last->seq;
      hash_ = last->hash;
      break;
    }
  }
  std::string head_problem;
  const fs::path head_path = dir / (options_.file_prefix + ".head");
  if (std::optional<Head> head = ReadHead(head_path, &head_problem)) {
    if (head->seq > seq_ || (head->seq == seq_ && head->hash != hash_)) {
      open_notes_.push_back("the head " + head_path.string() + " records seq " +
                            std::to_string(head->seq) +
                            " but the newest record in the files is "
                            "seq " +
                            std::to_string(seq_) +
                            ": records are missing or were edited; the chain continues from the "
                            "head so 'regiongate audit verify' reports the gap");
      seq_ = head->seq;
      hash_ = head->hash;
    }
  } else if (!head_problem.empty()) {
    open_notes_.push_back("ignoring the head " + head_path.string() + ": " + head_problem);
  }

  const Clock::time_point now = Now();
  const std::chrono::year_month_day today = detail::UtcDay(now);
  if (!files.empty()) {
    const TrailFile& newest = files.back();
    const uint64_t size = FileSize(newest.path);
    if ((!options_.rotate_daily || newest.day == today) && size < options_.max_file_bytes) {
      if (Result<void> opened = OpenFile(newest.path, /*create=*/false); !opened.ok()) {
        return opened;
      }
      current_day_ = newest.day;
      current_number_ = newest.number;
      char last = '\n';
      std::ifstream in(newest.path, std::ios::binary);
      if (size > 0 && in.seekg(static_cast<std::streamoff>(size - 1)) && in.get(last)) {
        if (last != '\n') {
          need_newline_ = true;
          open_notes_.push_back(newest.path.string() +
                                " ends in an incomplete line (a write was cut short); the next "
                                "record starts on a new line and 'regiongate audit verify' "
                                "reports the torn one");
        }
      }
    }
  }
  if (fd_ < 0) {
    current_day_ = files.empty() ? today : files.back().day;
    current_number_ = files.empty() ? 0 : files.back().number;
    if (Result<void> rotated = Rotate(now); !rotated.ok()) return rotated;
  } else if (options_.retention_days > 0) {
    if (Result<std::vector<std::string>> pruned = RetentionLocked(now); !pruned.ok()) {
      if (pruned.error().id != "RG-A006") return pruned.error();
      open_notes_.push_back(pruned.error().message);
    }
  }
  return {};
}

Result<void> AuditWriter::OpenFile(const fs::path& path, bool create, int* error_out) {
  const int flags = O_WRONLY | O_APPEND | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0);
  const int fd = ::open(path.c_str(), flags, 0640);
  if (fd < 0) {
    const int error = errno;
    if (error_out != nullptr) *error_out = error;
    return Error{"RG-A001", "cannot " + std::string(create ? "create" : "open") +
                                " the audit file '" + path.string() + "': " + ErrnoText(error) +
                                "; make the audit directory writable by the host"};
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  current_ = path;
  current_size_ = create ? 0 : FileSize(path);
  need_newline_ = false;
  return {};
}

Result<void> AuditWriter::Rotate(Clock::time_point now) {
  if (fd_ >= 0) {
    if (options_.fsync == FsyncPolicy::kEveryRecord) ::fdatasync(fd_);
    ::close(fd_);
    fd_ = -1;
  }
  const std::chrono::year_month_day day = detail::UtcDay(now);
  int number = day == current_day_ ? current_number_ + 1 : 1;
  Result<void> opened;
  for (int attempt = 0; attempt < 100; ++attempt, ++number) {
    int error = 0;
    opened = OpenFile(options_.directory / TrailName(options_.file_prefix, day, number),
                      /*create=*/true, &error);
    if (opened.ok() || error != EEXIST) break;  // EEXIST: a stray file holds this name
  }
  if (!opened.ok()) {
    last_error_ = opened.error();
    return opened;
  }
  last_error_.reset();
  current_day_ = day;
  current_number_ = number;
  if (options_.retention_days > 0) {
    if (Result<std::vector<std::string>> pruned = RetentionLocked(now); !pruned.ok()) {
      if (pruned.error().id != "RG-A006") return pruned.error();
      open_notes_.push_back(pruned.error().message);
    }
  }
  return {};
}

Result<void> AuditWriter::AppendBody(nlohmann::json body, Clock::time_point now) {
  // A current file removed or renamed behind our back would swallow records: start anew.
  struct stat st {};
  if (fd_ >= 0 && ::fstat(fd_, &st) == 0 && st.st_nlink == 0) {
    open_notes_.push_back(current_.string() + " was removed while open; continuing in a new file");
    if (Result<void> rotated = Rotate(now); !rotated.ok()) return rotated;
  }
  std::string line;
  std::string hash;
  for (int pass = 0;; ++pass) {
    body["v"] = kFormatVersion;
    body["seq"] = seq_ + 1;
    body["prev"] = hash_;
    // Invalid UTF-8 (a stored prompt) becomes U+FFFD rather than an exception.
    const std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    hash = Sha256Hex(text);
    line = text.substr(0, text.size() - 1);
    line += kHashKey;
    line += hash;
    line += "\"}\n";
    const bool new_day = options_.rotate_daily && detail::UtcDay(now) != current_day_;
    const bool full = current_size_ > 0 && current_size_ + line.size() > options_.max_file_bytes;
    if (pass == 1 || !(fd_ < 0 || new_day || full)) break;
    // Rotating may write a retention record first, which moves seq and prev: build again.
    if (Result<void> rotated = Rotate(now); !rotated.ok()) return rotated;
  }
  const std::string data = need_newline_ ? "\n" + line : line;
  int error = 0;
  bool written = WriteAll(fd_, data, &error);
  if (written && options_.fsync == FsyncPolicy::kEveryRecord && ::fdatasync(fd_) != 0) {
    error = errno;
    written = false;
  }
  if (!written) {
    need_newline_ = true;  // part of the line may be in the file
    last_error_ = Error{"RG-A003", "cannot write the audit record to '" + current_.string() +
                                       "': " + ErrnoText(error) +
                                       "; free disk space or make the audit directory writable"};
    return *last_error_;
  }
  current_size_ += data.size();
  need_newline_ = false;
  ++seq_;
  hash_ = hash;
  if (Result<void> head = WriteHead(); !head.ok()) {
    last_error_ = head.error();
    return head;
  }
  last_error_.reset();
  return {};
}

Result<void> AuditWriter::WriteHead() {
  const fs::path head = options_.directory / (options_.file_prefix + ".head");
  const fs::path temp = options_.directory / (options_.file_prefix + ".head.tmp");
  const nlohmann::json j = {{"file", current_.filename().string()}, {"seq", seq_}, {"hash", hash_}};
  const std::string text = j.dump() + "\n";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  int error = 0;
  bool ok = fd >= 0;
  if (!ok) error = errno;
  if (ok && !WriteAll(fd, text, &error)) ok = false;
  if (ok && options_.fsync == FsyncPolicy::kEveryRecord && ::fdatasync(fd) != 0) {
    error = errno;
    ok = false;
  }
  if (fd >= 0) ::close(fd);
  if (ok && ::rename(temp.c_str(), head.c_str()) != 0) {
    error = errno;
    ok = false;
  }
  if (!ok) {
    return Error{"RG-A005", "cannot update the audit head '" + head.string() +
                                "': " + ErrnoText(error) +
                                "; free disk space or make the audit directory writable"};
  }
  return {};
}

Result<std::vector<std::string>> AuditWriter::RetentionLocked(Clock::time_point now) {
  std::vector<std::string> deleted;
  if (options_.retention_days <= 0) return deleted;
  // A file goes when its newest record is from a day before today - retention_days.
  const std::chrono::sys_days cutoff =
      std::chrono::sys_days(detail::UtcDay(now)) - std::chrono::days(options_.retention_days);
  nlohmann::json entries = nlohmann::json::array();
  std::optional<Error> failure;
  for (const TrailFile& f : ListTrail(options_.directory, options_.file_prefix)) {
    if (f.path == current_) break;
    const std::optional<ParsedLine> last = LastRecord(f.path);
    std::chrono::year_month_day newest = f.day;
    if (last && last->body["time"].is_string()) {
      const std::string time = last->body["time"].get<std::string>();
      if (std::optional<Date> d = ParseDate(time.substr(0, 10))) newest = *d;
    }
    if (std::chrono::sys_days(newest) >= cutoff) break;
    const std::optional<ParsedLine> first = FirstRecord(f.path);
    std::error_code ec;
    if (!fs::remove(f.path, ec) || ec) {
      failure = Error{"RG-A006", "cannot delete the audit file '" + f.path.string() +
                                     "' past its retention of " +
                                     std::to_string(options_.retention_days) +
                                     " days: " + (ec ? ec.message() : std::string("not removed")) +
                                     "; make the audit directory writable"};
      break;
    }
    nlohmann::json entry = {{"file", f.path.filename().string()}};
    if (first) entry["first_seq"] = first->seq;
    if (last) {
      entry["last_seq"] = last->seq;
      entry["last_hash"] = last->hash;
    }
    entries.push_back(std::move(entry));
    deleted.push_back(f.path.filename().string());
  }
  if (!entries.empty()) {
    nlohmann::json body = {{"kind", "retention"},
                           {"time", detail::FormatUtc(now)},
                           {"retention_days", options_.retention_days},
                           {"deleted", std::move(entries)}};
    if (Result<void> written = AppendBody(std::move(body), now); !written.ok()) {
      return written.error();
    }
  }
  if (failure) return *failure;
  return deleted;
}

Result<void> AuditWriter::Append(const AuditRecord& record) {
  std::lock_guard lock(mutex_);
  const Clock::time_point now = Now();
  if (fd_ < 0) {
    // An earlier rotation failed; try again (the directory may be back).
    if (Result<void> rotated = Rotate(now); !rotated.ok()) return rotated;
  }
  return AppendBody(RecordJson(record, options_.salt, now), now);
}

Result<void> AuditWriter::Ready() {
  std::lock_guard lock(mutex_);
  const Clock::time_point now = Now();
  struct stat st {};
  if (fd_ < 0 || (::fstat(fd_, &st) == 0 && st.st_nlink == 0)) {
    if (Result<void> rotated = Rotate(now); !rotated.ok()) return rotated;
  }
  if (last_error_) return *last_error_;
  return {};
}

Result<std::vector<std::string>> AuditWriter::ApplyRetention() {
  std::lock_guard lock(mutex_);
  return RetentionLocked(Now());
}

fs::path AuditWriter::current_file() const {
  std::lock_guard lock(mutex_);
  return current_;
}

int64_t AuditWriter::last_seq() const {
  std::lock_guard lock(mutex_);
  return seq_;
}

std::string AuditWriter::last_hash() const {
  std::lock_guard lock(mutex_);
  return hash_;
}

// ---- verify -------------------------------------------------------------------------------

namespace {

struct Where {
  std::string file;
  int64_t line = 0;
};

struct Good {
  int64_t seq = 0;
  std::string hash;
  Where where;
};

// A record whose prev is not the hash of the record right before it.
struct Break {
  Where where;
  int64_t seq = 0;
  std::string prev;
  std::optional<Good> before;  // the good record right before it, if any
  bool first_of_file = false;
};

struct RetentionEntry {
  int64_t last_seq = 0;
  std::string last_hash;
  Where where;
};

}  // namespace

AuditVerifyReport VerifyAuditFiles(const std::vector<fs::path>& paths,
                                   const AuditVerifyOptions& options) {
  AuditVerifyReport report;
  const auto problem = [&report](std::string id, const Where& where, std::string message) {
    report.problems.push_back({std::move(id), where.file, where.line, std::move(message)});
  };

  std::optional<Good> last;    // the newest good record so far
  std::optional<Break> start;  // the first good record, when it is not seq 1
  std::vector<Break> breaks;
  std::vector<RetentionEntry> retained;
  std::set<std::string> wanted;  // prev hashes to look up in the second pass

  for (const fs::path& path : paths) {
    const std::string file = path.string();
    AuditFileSummary summary;
    summary.file = file;
    std::string content;
    std::string error;
    if (!ReadAll(path, &content, &error)) {
      problem("RG-A106", {file, 0}, "cannot read the file: " + error + "; check the path");
      report.files.push_back(summary);
      continue;
    }
    bool first_in_file = true;
    ForEachLine(content, [&](std::string_view line, int64_t number, bool terminated) {
      const Where where{file, number};
      if (line.empty()) {
        problem("RG-A104", where, "empty line; a record was removed or the file was edited");
        return;
      }
      ParsedLine p = ParseLine(line);
      if (!p.ok) {
        if (!terminated && p.id == "RG-A104") {
          problem("RG-A104", where,
                  "the file ends in the middle of a record (truncated, or the writer stopped "
                  "mid-write)");
        } else {
          problem(p.id, where, p.problem);
        }
        if (!p.chained) return;
      }
      if (!terminated) {
        problem("RG-A104", where,
                "the file ends without a line break after this record (truncated, or still "
                "being written)");
      }
      ++summary.records;
      if (summary.first_seq == 0) summary.first_seq = p.seq;
      summary.last_seq = p.seq;
      if (!last) {
        if (p.seq == 1 && p.prev != kGenesisHash) {
          problem("RG-A101", where,
                  "the first record (seq 1) does not start the chain (prev is not 64 zeros)");
        } else if (p.seq != 1) {
          start = Break{where, p.seq, p.prev, std::nullopt, first_in_file};
        }
      } else if (p.prev != last->hash || p.seq != last->seq + 1) {
        breaks.push_back(Break{where, p.seq, p.prev, last, first_in_file});
        wanted.insert(p.prev);
      }
      if (p.kind == "retention" && p.body["deleted"].is_array()) {
        for (const nlohmann::json& d : p.body["deleted"]) {
          if (d.is_object() && d["last_seq"].is_number_integer() && d["last_hash"].is_string()) {
            retained.push_back(
                {d["last_seq"].get<int64_t>(), d["last_hash"].get<std::string>(), where});
          }
        }
      }
      last = Good{p.seq, p.hash, where};
      first_in_file = false;
    });
    report.records += summary.records;
    report.files.push_back(summary);
  }

  // Second pass, only when the chain breaks: where are the records the breaks point to?
  std::map<std::string, Good> by_hash;
  std::map<int64_t, Good> by_seq;
  std::set<int64_t> wanted_seq;
  for (const Break& b : breaks) wanted_seq.insert(b.seq - 1);
  if (!breaks.empty()) {
    for (const fs::path& path : paths) {
      std::string content;
      std::string error;
      if (!ReadAll(path, &content, &error)) continue;
      ForEachLine(content, [&](std::string_view line, int64_t number, bool) {
        ParsedLine p = ParseLine(line);
        if (!p.chained) return;
        const Good g{p.seq, p.hash, {path.string(), number}};
        if (wanted.count(p.hash) != 0) by_hash.emplace(p.hash, g);
        if (wanted_seq.count(p.seq) != 0) by_seq.emplace(p.seq, g);
      });
    }
  }
  for (const Break& b : breaks) {
    const Good& before = *b.before;
    const std::string after = "seq " + std::to_string(before.seq) + " (" +
                              Location(before.where.file, before.where.line) + ")";
    if (const auto it = by_hash.find(b.prev); it != by_hash.end()) {
      const Good& parent = it->second;
      if (parent.seq == b.seq - 1) {
        problem("RG-A103", b.where,
                "out of order: seq " + std::to_string(b.seq) + " belongs right after seq " +
                    std::to_string(parent.seq) + " (" +
                    Location(parent.where.file, parent.where.line) + ") but follows " + after);
      } else {
        problem("RG-A101", b.where,
                "the record links to seq " + std::to_string(parent.seq) + " (" +
                    Location(parent.where.file, parent.where.line) + ") but is numbered seq " +
                    std::to_string(b.seq) + ": its seq was edited");
      }
      continue;
    }
    if (b.seq <= before.seq) {
      problem("RG-A103", b.where,
              "out of order: seq " + std::to_string(b.seq) + " follows " + after +
                  " (records were reordered or repeated)");
      continue;
    }
    const auto same_seq = by_seq.find(b.seq - 1);
    if (same_seq != by_seq.end()) {
      const Good& edited = same_seq->second;
      problem("RG-A101", b.where,
              "the record does not link to seq " + std::to_string(edited.seq) + " (" +
                  Location(edited.where.file, edited.where.line) +
                  "): that record was edited and its hash recomputed, or replaced");
      continue;
    }
    std::string message =
        Records(before.seq + 1, b.seq - 1, "is", "are") + " missing before this record";
    if (b.first_of_file) {
      message += " (removed from the end of " + before.where.file +
                 ", or a whole file between the two is missing)";
    } else {
      message += " (removed)";
    }
    problem("RG-A102", b.where, message);
  }

  if (start) {
    const auto covered = std::find_if(retained.begin(), retained.end(), [&](const auto& r) {
      return r.last_seq == start->seq - 1 && r.last_hash == start->prev;
    });
    if (covered != retained.end()) {
      report.notes.push_back("records before seq " + std::to_string(start->seq) +
                             " were deleted by retention (recorded at " +
                             Location(covered->where.file, covered->where.line) + ")");
    } else {
      problem("RG-A102", start->where,
              Records(1, start->seq - 1, "is missing", "are missing") +
                  " before the first record given and no retention record accounts for " +
                  (start->seq == 2 ? "it" : "them") +
                  ": an older file was removed, or not every file was given (pass all files of "
                  "the trail, oldest first)");
    }
  }

  if (last) {
    report.last_seq = last->seq;
    report.last_hash = last->hash;
  }

  // The end of the trail, against the writer's head.
  std::optional<fs::path> head_path = options.head;
  if (!head_path && !paths.empty()) {
    if (std::optional<TrailFile> f = ParseTrailName(paths.back())) {
      head_path = paths.back().parent_path() / (f->prefix + ".head");
    }
  }
  std::string head_problem;
  std::optional<Head> head;
  if (head_path) head = ReadHead(*head_path, &head_problem);
  if (!head_problem.empty()) {
    problem("RG-A105", {head_path->string(), 0}, "the writer's head is unusable: " + head_problem);
  } else if (!head) {
    report.notes.push_back("no head file" +
                           (head_path ? " (" + head_path->string() + ")" : std::string()) +
                           ": records cut off the end of the last file cannot be detected");
  } else {
    report.head_file = head_path->string();
    const bool given = std::any_of(paths.begin(), paths.end(), [&](const fs::path& p) {
      return p.filename().string() == head->file;
    });
    const fs::path head_target = head_path->parent_path() / head->file;
    if (!given) {
      if (fs::exists(head_target)) {
        report.notes.push_back("the head names " + head->file +
                               ", which was not given; the end of the trail was not checked");
      } else {
        problem("RG-A105", {head_path->string(), 0},
                "the writer's head names " + head->file + " (seq " + std::to_string(head->seq) +
                    ") as the newest file, but it does not exist: it was removed");
      }
    } else if (!last || head->seq > last->seq) {
      const int64_t have = last ? last->seq : 0;
      problem("RG-A105", last ? last->where : Where{head_target.string(), 0},
              "the trail ends at seq " + std::to_string(have) + " but the writer's head (" +
                  head_path->string() + ") records seq " + std::to_string(head->seq) + ": " +
                  Records(have + 1, head->seq, "was", "were") + " cut off the end");
    } else if (head->seq == last->seq && head->hash != last->hash) {
      problem("RG-A101", last->where,
              "the last record (seq " + std::to_string(last->seq) +
                  ") is not the one the writer's head records: it was edited or replaced");
    } else if (head->seq < last->seq) {
      report.notes.push_back("the writer's head records seq " + std::to_string(head->seq) +
                             ", behind the last record (seq " + std::to_string(last->seq) +
                             "): the writer stopped between a record and its head");
    }
  }

  std::stable_sort(report.problems.begin(), report.problems.end(),
                   [&paths](const AuditProblem& a, const AuditProblem& b) {
                     const auto rank = [&paths](const std::string& file) {
                       for (size_t i = 0; i < paths.size(); ++i) {
                         if (paths[i].string() == file) return i;
                       }
                       return paths.size();
                     };
                     return std::make_pair(rank(a.file), a.line) <
                            std::make_pair(rank(b.file), b.line);
                   });
  return report;
}

std::string AuditVerifyReport::ToText() const {
  std::string out;
  for (const AuditProblem& p : problems) {
    out += p.file;
    if (p.line > 0) out += ":" + std::to_string(p.line);
    out += ": error: " + p.message + " (" + p.id + ")\n";
  }
  for (const std::string& note : notes) out += "note: " + note + "\n";
  const std::string counts = std::to_string(records) + " records in " +
                             std::to_string(files.size()) +
                             (files.size() == 1 ? " file" : " files");
  if (ok()) {
    out += "ok: " + counts + ", chain intact";
    if (!last_hash.empty()) {
      out += "; last record seq " + std::to_string(last_seq) + ", hash " + last_hash;
    }
    out += "\n";
  } else {
    out += "FAILED: " + std::to_string(problems.size()) +
           (problems.size() == 1 ? " problem" : " problems") + " in " + counts + "\n";
  }
  return out;
}

nlohmann::json AuditVerifyReport::ToJson() const {
  nlohmann::json j;
  j["ok"] = ok();
  j["records"] = records;
  j["last_seq"] = last_seq;
  j["last_hash"] = last_hash;
  j["head_file"] = head_file;
  j["files"] = nlohmann::json::array();
  for (const AuditFileSummary& f : files) {
    j["files"].push_back({{"file", f.file},
                          {"records", f.records},
                          {"first_seq", f.first_seq},
                          {"last_seq", f.last_seq}});
  }
  j["problems"] = nlohmann::json::array();
  for (const AuditProblem& p : problems) {
    j["problems"].push_back(
        {{"id", p.id}, {"file", p.file}, {"line", p.line}, {"message", p.message}});
  }
  j["notes"] = notes;
  return j;
}

}  // namespace rg::compliance
