// The audit trail: chained JSON lines with a salted prompt hash, rotation by size and date,
// retention, fail-closed writes, and `audit verify` for each kind of tampering (edit,
// remove, reorder, truncate mid-line, cut records off the end, delete a rotated file).
#include "regiongate/compliance/audit_log.hpp"

#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

#include "regiongate/compliance/sha256.hpp"
#include "test_util.hpp"

namespace rg::compliance {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::system_clock;
using V = std::vector<std::string>;
using testing::Join;
using testing::Lines;
using testing::ReadText;
using testing::TempDir;
using testing::WriteText;

const std::string kSalt = "test-salt-0123456789abcdef";

Clock::time_point Day(unsigned day) {
  return std::chrono::sys_days{std::chrono::year{2026} / 11 / day} + 10h;
}

class AuditTest : public ::testing::Test {
 protected:
  fs::path Dir() const { return tmp_.path() / "audit"; }

  AuditWriter::Options Options() {
    AuditWriter::Options o;
    o.directory = Dir();
    o.salt = kSalt;
    o.fsync = FsyncPolicy::kNone;
    o.clock = [now = now_] { return *now; };
    return o;
  }

  std::unique_ptr<AuditWriter> Open(AuditWriter::Options options) {
    Result<std::unique_ptr<AuditWriter>> w = AuditWriter::Open(std::move(options));
    EXPECT_TRUE(w.ok()) << w.error().message;
    return w.ok() ? std::move(w.value()) : nullptr;
  }
  std::unique_ptr<AuditWriter> Open() { return Open(Options()); }

  static AuditRecord Sample(int i) {
    AuditRecord r;
    r.decision_id = "dec-" + std::to_string(i);
    r.locale = "zh-CN";
    r.region = "cn-mainland";
    r.manifest_revision = std::string(64, 'a');
    r.plugin = "qwen";
    r.model = "qwen-plus";
    r.endpoint = "cn-beijing";
    r.rules = {"cn-genai-filing"};
    r.outcome = "completed";
    r.prompt_tokens = 10;
    r.completion_tokens = 20;
    r.latency_ms = 1200;
    r.ttft_ms = 300;
    r.prompt = "我的问题 " + std::to_string(i);
    r.pii = {{"phone", {{"action", "replace_and_restore"}, {"count", 1}}}};
    return r;
  }

  void Write(AuditWriter& w, int count, int from = 1) {
    for (int i = from; i < from + count; ++i) ASSERT_TRUE(w.Append(Sample(i)).ok());
  }

  // The trail's files, oldest first.
  std::vector<fs::path> Files() const {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(Dir())) {
      if (e.path().extension() == ".jsonl") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  fs::path File(const std::string& name) const { return Dir() / name; }
  std::string F1() const { return File("audit-20261121-0001.jsonl").string(); }

  static V Problems(const AuditVerifyReport& r) {
    V out;
    for (const AuditProblem& p : r.problems) {
      out.push_back(p.file + ":" + std::to_string(p.line) + ": " + p.message + " (" + p.id + ")");
    }
    return out;
  }

  std::shared_ptr<Clock::time_point> now_ = std::make_shared<Clock::time_point>(Day(21));

 private:
  TempDir tmp_;
};

// Replaces the file's lines.
void EditLines(const fs::path& file, const std::function<void(V&)>& edit) {
  V lines = Lines(ReadText(file));
  edit(lines);
  WriteText(file, Join(lines));
}

// The line with a hash that matches its (edited) content.
std::string Rehash(const std::string& line) {
  const std::string body = line.substr(0, line.size() - 75) + "}";
  return body.substr(0, body.size() - 1) + ",\"hash\":\"" + Sha256Hex(body) + "\"}";
}

// ---- records -------------------------------------------------------------------------------

TEST_F(AuditTest, RecordsAreChainedJsonLinesWithASaltedPromptHash) {
  auto w = Open();
  Write(*w, 3);
  EXPECT_EQ(w->current_file(), File("audit-20261121-0001.jsonl"));
  EXPECT_EQ(w->last_seq(), 3);
  const std::string text = ReadText(F1());
  const V lines = Lines(text);
  ASSERT_EQ(lines.size(), 3u);
  std::string prev(64, '0');
  for (size_t i = 0; i < lines.size(); ++i) {
    const nlohmann::json j = nlohmann::json::parse(lines[i]);
    EXPECT_EQ(j["seq"], i + 1);
    EXPECT_EQ(j["prev"], prev);
    EXPECT_EQ(j["hash"], Sha256Hex(lines[i].substr(0, lines[i].size() - 75) + "}"));
    prev = j["hash"];
  }
  EXPECT_EQ(w->last_hash(), prev);
  const nlohmann::json first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["v"], 1);
  EXPECT_EQ(first["kind"], "request");
  EXPECT_EQ(first["time"], "2026-11-21T10:00:00.000Z");
  EXPECT_EQ(first["decision_id"], "dec-1");
  EXPECT_EQ(first["locale"], "zh-CN");
  EXPECT_EQ(first["region"], "cn-mainland");
  EXPECT_EQ(first["manifest_revision"], std::string(64, 'a'));
  EXPECT_EQ(first["plugin"], "qwen");
  EXPECT_EQ(first["model"], "qwen-plus");
  EXPECT_EQ(first["endpoint"], "cn-beijing");
  EXPECT_EQ(first["endpoint_overridden"], false);
  EXPECT_EQ(first["rules"], nlohmann::json({"cn-genai-filing"}));
  EXPECT_EQ(first["outcome"], "completed");
  EXPECT_EQ(first["usage"], nlohmann::json({{"prompt_tokens", 10}, {"completion_tokens", 20}}));
  EXPECT_EQ(first["latency_ms"], 1200);
  EXPECT_EQ(first["ttft_ms"], 300);
  EXPECT_EQ(first["prompt_hmac"], HmacSha256Hex(kSalt, "我的问题 1"));
  EXPECT_EQ(first["pii"]["phone"]["count"], 1);
  EXPECT_FALSE(first.contains("prompt_text"));
  EXPECT_EQ(text.find("我的问题"), std::string::npos) << "the prompt text is not stored";
  EXPECT_EQ(text.find(kSalt), std::string::npos) << "the salt is never written";
  EXPECT_EQ(nlohmann::json::parse(ReadText(File("audit.head"))),
            (nlohmann::json{{"file", "audit-20261121-0001.jsonl"}, {"seq", 3}, {"hash", prev}}));
}

TEST_F(AuditTest, StorePromptTextKeepsTheText) {
  auto w = Open();
  AuditRecord r = Sample(1);
  r.store_prompt_text = true;
  r.time = Day(21) - 2s;
  ASSERT_TRUE(w->Append(r).ok());
  const nlohmann::json j = nlohmann::json::parse(Lines(ReadText(F1()))[0]);
  EXPECT_EQ(j["prompt_text"], "我的问题 1");
  EXPECT_EQ(j["time"], "2026-11-21T09:59:58.000Z");
}

TEST(AuditHmacTest, Rfc4231KnownAnswers) {
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(HmacSha256Hex(std::string(131, '\xaa'),
                          "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

// ---- verify --------------------------------------------------------------------------------

TEST_F(AuditTest, VerifyAnIntactTrail) {
  auto w = Open();
  Write(*w, 3);
  const AuditVerifyReport r = VerifyAuditFiles(Files());
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.ToText(), "ok: 3 records in 1 file, chain intact; last record seq 3, hash " +
                            w->last_hash() + "\n");
  EXPECT_EQ(r.head_file, File("audit.head").string());
  const nlohmann::json j = r.ToJson();
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["files"][0],
            (nlohmann::json{{"file", F1()}, {"records", 3}, {"first_seq", 1}, {"last_seq", 3}}));
}

TEST_F(AuditTest, VerifyFindsAnEditedRecord) {
  Write(*Open(), 3);
  EditLines(F1(), [](V& lines) { lines[1].replace(lines[1].find("dec-2"), 5, "dec-X"); });
  const AuditVerifyReport r = VerifyAuditFiles(Files());
  EXPECT_EQ(Problems(r),
            V{F1() + ":2: the record was edited: its content does not match its hash (RG-A101)"});
  EXPECT_EQ(r.ToText().substr(0, r.ToText().find('\n')),
            F1() +
                ":2: error: the record was edited: its content does not match its hash "
                "(RG-A101)");
  EXPECT_EQ(r.ToText().substr(r.ToText().find('\n') + 1),
            "FAILED: 1 problem in 3 records in 1 file\n");
}

TEST_F(AuditTest, VerifyFindsAnEditedRecordWhoseHashWasRecomputed) {
  Write(*Open(), 3);
  EditLines(F1(), [](V& lines) {
    lines[1].replace(lines[1].find("completed"), 9, "refused__");
    lines[1] = Rehash(lines[1]);
  });
  EXPECT_EQ(Problems(VerifyAuditFiles(Files())),
            V{F1() + ":3: the record does not link to seq 2 (" + F1() +
              ":2): that record was edited and its hash recomputed, or replaced (RG-A101)"});
}

TEST_F(AuditTest, VerifyFindsARemovedRecord) {
  Write(*Open(), 4);
  EditLines(F1(), [](V& lines) { lines.erase(lines.begin() + 1); });
  EXPECT_EQ(Problems(VerifyAuditFiles(Files())),
            V{F1() + ":2: record seq 2 is missing before this record (removed) (RG-A102)"});
}

TEST_F(AuditTest, VerifyFindsReorderedRecords) {
  Write(*Open(), 4);
  EditLines(F1(), [](V& lines) { std::swap(lines[1], lines[2]); });
  EXPECT_EQ(Problems(VerifyAuditFiles(Files())),
            (V{F1() + ":2: out of order: seq 3 belongs right after seq 2 (" + F1() +
                   ":3) but follows seq 1 (" + F1() + ":1) (RG-A103)",
               F1() + ":3: out of order: seq 2 belongs right after seq 1 (" + F1() +
                   ":1) but follows seq 3 (" + F1() + ":2) (RG-A103)",
               F1() + ":4: out of order: seq 4 belongs right after seq 3 (" + F1() +
                   ":2) but follows seq 2 (" + F1() + ":3) (RG-A103)"}));
}

TEST_F(AuditTest, VerifyFindsARepeatedRecord) {
  Write(*Open(), 3);
  EditLines(F1(), [](V& lines) { lines.push_back(lines[1]); });
  EXPECT_EQ(Problems(VerifyAuditFiles(Files()))[0],
            F1() + ":4: out of order: seq 2 belongs right after seq 1 (" + F1() +
                ":1) but follows seq 3 (" + F1() + ":3) (RG-A103)");
}

TEST_F(AuditTest, VerifyFindsATruncatedLine) {
  Write(*Open(), 3);
  std::string text = ReadText(F1());
  text.resize(text.size() - 40);
  WriteText(F1(), text);
  EXPECT_EQ(Problems(VerifyAuditFiles(Files())),
            (V{F1() + ":2: the trail ends at seq 2 but the writer's head (" +
                   File("audit.head").string() +
                   ") records seq 3: record seq 3 was cut off the end (RG-A105)",
               F1() + ":3: the file ends in the middle of a record (truncated, or the writer "
                      "stopped mid-write) (RG-A104)"}));
}

TEST_F(AuditTest, VerifyFindsRecordsCutOffTheEnd) {
  Write(*Open(), 4);
  EditLines(F1(), [](V& lines) { lines.resize(2); });
  EXPECT_EQ(
      Problems(VerifyAuditFiles(Files())),
      V{F1() + ":2: the trail ends at seq 2 but the writer's head (" + File("audit.head").string() +
        ") records seq 4: records seq 3 to 4 were cut off the end (RG-A105)"});
}

TEST_F(AuditTest, WithoutTheHeadACutIsOnlyANote) {
  Write(*Open(), 4);
  EditLines(F1(), [](V& lines) { lines.resize(2); });
  fs::remove(File("audit.head"));
  const AuditVerifyReport r = VerifyAuditFiles(Files());
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.notes, V{"no head file (" + File("audit.head").string() +
                       "): records cut off the end of the last file cannot be detected"});
}

TEST_F(AuditTest, VerifyFindsAnEmptyLine) {
  Write(*Open(), 2);
  EditLines(F1(), [](V& lines) { lines.insert(lines.begin() + 1, ""); });
  EXPECT_EQ(Problems(VerifyAuditFiles(Files())),
            V{F1() + ":2: empty line; a record was removed or the file was edited (RG-A104)"});
}

TEST_F(AuditTest, VerifyReportsAnUnreadableFile) {
  const AuditVerifyReport r = VerifyAuditFiles({Dir() / "missing.jsonl"});
  EXPECT_EQ(Problems(r), V{(Dir() / "missing.jsonl").string() +
                           ":0: cannot read the file: No such file or directory; check the path "
                           "(RG-A106)"});
}

// ---- rotation ------------------------------------------------------------------------------

TEST_F(AuditTest, RotationBySizeKeepsTheChainAcrossFiles) {
  AuditWriter::Options o = Options();
  o.max_file_bytes = 1500;
  auto w = Open(o);
  Write(*w, 10);
  const std::vector<fs::path> files = Files();
  ASSERT_GE(files.size(), 3u);
  EXPECT_EQ(files[0].filename(), "audit-20261121-0001.jsonl");
  EXPECT_EQ(files[1].filename(), "audit-20261121-0002.jsonl");
  for (const fs::path& f : files) EXPECT_LE(fs::file_size(f), 1500u) << f;
  // The first record of a rotated file links to the last record of the file before it.
  const V before = Lines(ReadText(files[0]));
  const nlohmann::json last = nlohmann::json::parse(before.back());
  const nlohmann::json next = nlohmann::json::parse(Lines(ReadText(files[1]))[0]);
  EXPECT_EQ(next["prev"], last["hash"]);
  const AuditVerifyReport r = VerifyAuditFiles(files);
  EXPECT_TRUE(r.ok()) << r.ToText();
  EXPECT_EQ(r.records, 10);
}

TEST_F(AuditTest, RotationByDate) {
  auto w = Open();
  Write(*w, 2);
  *now_ = Day(22);
  Write(*w, 1, 3);
  const std::vector<fs::path> files = Files();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[1].filename(), "audit-20261122-0001.jsonl");
  EXPECT_EQ(w->current_file(), files[1]);
  EXPECT_TRUE(VerifyAuditFiles(files).ok());
}

TEST_F(AuditTest, VerifyFindsADeletedRotatedFile) {
  AuditWriter::Options o = Options();
  o.max_file_bytes = 1;  // one record per file
  Write(*Open(o), 4);
  std::vector<fs::path> files = Files();
  ASSERT_EQ(files.size(), 4u);
  fs::remove(files[1]);
  files.erase(files.begin() + 1);
  EXPECT_EQ(Problems(VerifyAuditFiles(files)),
            V{files[1].string() +
              ":1: record seq 2 is missing before this record (removed from the end of " +
              files[0].string() + ", or a whole file between the two is missing) (RG-A102)"});
  // The oldest file, which retention did not delete.
  fs::remove(files[0]);
  files.erase(files.begin());
  EXPECT_EQ(Problems(VerifyAuditFiles(files)),
            V{files[0].string() +
              ":1: records seq 1 to 2 are missing before the first record given and no "
              "retention record accounts for them: an older file was removed, or not every "
              "file was given (pass all files of the trail, oldest first) (RG-A102)"});
}

TEST_F(AuditTest, VerifyFindsTheNewestFileDeleted) {
  AuditWriter::Options o = Options();
  o.max_file_bytes = 1;
  Write(*Open(o), 3);
  std::vector<fs::path> files = Files();
  fs::remove(files.back());
  files.pop_back();
  EXPECT_EQ(Problems(VerifyAuditFiles(files)),
            V{File("audit.head").string() + ":0: the writer's head names " +
              "audit-20261121-0003.jsonl (seq 3) as the newest file, but it does not exist: it "
              "was removed (RG-A105)"});
}

// ---- retention -----------------------------------------------------------------------------

TEST_F(AuditTest, RetentionDeletesOldFilesAndRecordsIt) {
  AuditWriter::Options o = Options();
  o.retention_days = 2;
  auto w = Open(o);
  for (unsigned day = 21; day <= 24; ++day) {
    *now_ = Day(day);
    ASSERT_TRUE(w->Append(Sample(static_cast<int>(day))).ok());
  }
  // On the 24th the file of the 21st (newest record older than 24 - 2 days) went; the 22nd stays.
  std::vector<fs::path> files = Files();
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].filename(), "audit-20261122-0001.jsonl");
  const nlohmann::json retention = nlohmann::json::parse(Lines(ReadText(files[2]))[0]);
  EXPECT_EQ(retention["kind"], "retention");
  EXPECT_EQ(retention["retention_days"], 2);
  EXPECT_EQ(retention["deleted"][0]["file"], "audit-20261121-0001.jsonl");
  EXPECT_EQ(retention["deleted"][0]["last_seq"], 1);
  const AuditVerifyReport r = VerifyAuditFiles(files);
  EXPECT_TRUE(r.ok()) << r.ToText();
  EXPECT_EQ(r.notes, V{"records before seq 2 were deleted by retention (recorded at " +
                       files[2].string() + ":1)"});
}

TEST_F(AuditTest, RetentionNeverDeletesTheCurrentFile) {
  AuditWriter::Options o = Options();
  o.retention_days = 1;
  o.rotate_daily = false;
  auto w = Open(o);
  Write(*w, 1);
  *now_ = Day(30);
  Result<std::vector<std::string>> deleted = w->ApplyRetention();
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted.value(), V{});
  EXPECT_TRUE(fs::exists(F1()));
}

TEST_F(AuditTest, RetentionOnOpenDeletesOldestFirst) {
  {
    auto w = Open();
    for (unsigned day = 21; day <= 23; ++day) {
      *now_ = Day(day);
      ASSERT_TRUE(w->Append(Sample(static_cast<int>(day))).ok());
    }
  }
  *now_ = Day(25);
  AuditWriter::Options o = Options();
  o.retention_days = 2;
  auto w = Open(o);  // keeps records from the 23rd on; a new file for the 25th
  EXPECT_EQ(Files().size(), 2u);
  EXPECT_EQ(Files()[0].filename(), "audit-20261123-0001.jsonl");
  EXPECT_TRUE(VerifyAuditFiles(Files()).ok());
}

// ---- failing closed ------------------------------------------------------------------------

TEST_F(AuditTest, UnwritableDirectoryFailsToOpen) {
  WriteText(Dir().parent_path() / "blocker", "a file, not a directory");
  AuditWriter::Options o = Options();
  o.directory = Dir().parent_path() / "blocker" / "audit";
  Result<std::unique_ptr<AuditWriter>> w = AuditWriter::Open(o);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().id, "RG-A001");
  EXPECT_EQ(w.error().message, "cannot create the audit directory '" + o.directory.string() +
                                   "': Not a directory; create it, make it writable by the host, "
                                   "or fix the audit directory setting");
}

TEST_F(AuditTest, AFailedWriteIsAnErrorAndReadyReportsIt) {
  fs::create_directories(Dir());
  ASSERT_EQ(::symlink("/dev/full", F1().c_str()), 0);  // every write: ENOSPC
  auto w = Open();
  ASSERT_NE(w, nullptr);
  Result<void> appended = w->Append(Sample(1));
  ASSERT_FALSE(appended.ok());
  EXPECT_EQ(appended.error().id, "RG-A003");
  EXPECT_EQ(appended.error().message,
            "cannot write the audit record to '" + F1() +
                "': No space left on device; free disk space or make the audit directory "
                "writable");
  Result<void> ready = w->Ready();
  ASSERT_FALSE(ready.ok());
  EXPECT_EQ(ready.error().message, appended.error().message);
}

TEST_F(AuditTest, DirectoryRemovedWhileOpenFailsClosed) {
  auto w = Open();
  Write(*w, 1);
  EXPECT_TRUE(w->Ready().ok());
  fs::remove_all(Dir());
  Result<void> appended = w->Append(Sample(2));
  ASSERT_FALSE(appended.ok());
  EXPECT_EQ(appended.error().id, "RG-A001");
  EXPECT_EQ(appended.error().message,
            "cannot create the audit file '" + File("audit-20261121-0002.jsonl").string() +
                "': No such file or directory; make the audit directory writable by the host");
  EXPECT_FALSE(w->Ready().ok());
  // Once the directory is back, the trail goes on in a new file.
  fs::create_directories(Dir());
  EXPECT_TRUE(w->Ready().ok());
  EXPECT_TRUE(w->Append(Sample(3)).ok());
}

TEST_F(AuditTest, ASecondWriterIsRefused) {
  auto first = Open();
  Result<std::unique_ptr<AuditWriter>> second = AuditWriter::Open(Options());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().id, "RG-A002");
  EXPECT_EQ(second.error().message,
            "the audit directory '" + Dir().string() + "' is in use by another writer (" +
                File("audit.lock").string() +
                " is locked); give each host process its own audit directory");
}

TEST_F(AuditTest, SaltMustBeLongEnough) {
  AuditWriter::Options o = Options();
  o.salt = "short";
  Result<std::unique_ptr<AuditWriter>> w = AuditWriter::Open(o);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().id, "RG-A004");
  EXPECT_EQ(w.error().message,
            "the audit salt is 5 bytes; configure at least 16 random bytes (ReadAuditSalt reads "
            "them from a file)");
}

TEST_F(AuditTest, ReadAuditSalt) {
  const fs::path good = Dir().parent_path() / "salt";
  WriteText(good, kSalt + "\n");
  Result<std::string> salt = ReadAuditSalt(good);
  ASSERT_TRUE(salt.ok());
  EXPECT_EQ(salt.value(), kSalt);
  const fs::path bad = Dir().parent_path() / "short-salt";
  WriteText(bad, "secret\n");
  salt = ReadAuditSalt(bad);
  ASSERT_FALSE(salt.ok());
  EXPECT_EQ(salt.error().message,
            "the audit salt in '" + bad.string() +
                "' is 6 bytes; use at least 16 random bytes (head -c 32 /dev/urandom | base64 > "
                "FILE)");
  EXPECT_EQ(salt.error().message.find("secret"), std::string::npos);
}

// ---- restarts ------------------------------------------------------------------------------

TEST_F(AuditTest, ReopeningContinuesTheChain) {
  Write(*Open(), 2);
  auto w = Open();
  EXPECT_EQ(w->last_seq(), 2);
  Write(*w, 1, 3);
  EXPECT_EQ(Files().size(), 1u);
  const AuditVerifyReport r = VerifyAuditFiles(Files());
  EXPECT_TRUE(r.ok()) << r.ToText();
  EXPECT_EQ(r.records, 3);
}

TEST_F(AuditTest, ATornLastLineIsLeftForVerifyToReport) {
  Write(*Open(), 2);
  WriteText(F1(), ReadText(F1()) + "{\"v\":1,\"kind\":\"req");
  auto w = Open();
  ASSERT_EQ(w->open_notes().size(), 1u);
  EXPECT_EQ(w->open_notes()[0],
            F1() +
                " ends in an incomplete line (a write was cut short); the next record starts "
                "on a new line and 'regiongate audit verify' reports the torn one");
  Write(*w, 1, 3);
  EXPECT_EQ(Problems(VerifyAuditFiles(Files())),
            V{F1() + ":3: not a complete audit record (no hash at its end) (RG-A104)"});
}

TEST_F(AuditTest, RecordsCutOffBeforeARestartStayVisible) {
  Write(*Open(), 3);
  EditLines(F1(), [](V& lines) { lines.pop_back(); });
  auto w = Open();
  EXPECT_EQ(w->open_notes().size(), 1u);
  EXPECT_EQ(w->last_seq(), 3) << "the chain continues from the head";
  Write(*w, 1, 4);
  EXPECT_EQ(Problems(VerifyAuditFiles(Files())),
            V{F1() + ":3: record seq 3 is missing before this record (removed) (RG-A102)"});
}

TEST_F(AuditTest, ConcurrentAppendsKeepOneChain) {
  AuditWriter::Options o = Options();
  o.max_file_bytes = 20000;
  auto w = Open(o);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&w, t] {
      for (int i = 0; i < 25; ++i) EXPECT_TRUE(w->Append(Sample(t * 100 + i)).ok());
    });
  }
  for (std::thread& t : threads) t.join();
  const AuditVerifyReport r = VerifyAuditFiles(Files());
  EXPECT_TRUE(r.ok()) << r.ToText();
  EXPECT_EQ(r.records, 100);
  EXPECT_EQ(r.last_seq, 100);
}

TEST_F(AuditTest, FsyncEveryRecordWrites) {
  AuditWriter::Options o = Options();
  o.fsync = FsyncPolicy::kEveryRecord;
  auto w = Open(o);
  Write(*w, 2);
  EXPECT_TRUE(VerifyAuditFiles(Files()).ok());
}

}  // namespace
}  // namespace rg::compliance
