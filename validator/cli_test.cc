// atf-validate and atf-dump as a CI pipeline runs them: exit statuses, one-line usage errors, and
// output that parses as JSON (read back with the validator's strict JSON reader) holding every
// event.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "validator/internal/json_reader.h"
#include "validator/testing/run_tool.h"
#include "validator/testing/session_builder.h"

namespace {

const char kValidate[] = "validator/atf-validate";
const char kDump[] = "validator/atf-dump";

struct Json {
  atf_json_doc doc;
  atf_json_status status;
  explicit Json(const std::string &text) {
    status = atf_json_parse(text.data(), text.size(), &doc);
  }
  ~Json() { atf_json_free(&doc); }
  const atf_json_node *Get(size_t obj, const char *key) const {
    const size_t i = atf_json_get(&doc, obj, key);
    return i == ATF_JSON_NONE ? nullptr : &doc.nodes[i];
  }
  size_t Index(const atf_json_node *n) const { return static_cast<size_t>(n - doc.nodes); }
  std::string Str(size_t obj, const char *key) const {
    const atf_json_node *n = Get(obj, key);
    return n && n->type == ATF_JSON_STRING ? std::string(n->text, n->len) : "(missing)";
  }
};

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    events_ = atf_test::SampleSession(3);
    bytes_ = atf_test::Frames(events_);
    const std::string manifest = atf_test::ManifestJson(atf_test::ManifestFor(events_, bytes_));
    dir_ = atf_test::TempDir() + "/pid_4242";
    atf_test::WriteSession(dir_, bytes_, &manifest);
  }
  std::vector<atf::v4::Event> events_;
  std::string bytes_, dir_;
};

TEST_F(Cli, ValidSessionExitsZero) {
  const auto r = atf_test::RunTool(std::string(kValidate) + " " + dir_);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find(": valid"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("records 15"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST_F(Cli, JsonReport) {
  const auto r = atf_test::RunTool(std::string(kValidate) + " --json " + dir_ + "/events.bin");
  ASSERT_EQ(r.status, 0) << r.err;
  Json j(r.out);
  ASSERT_EQ(j.status, ATF_JSON_OK) << j.doc.error;
  EXPECT_EQ(j.Get(0, "valid")->type, ATF_JSON_TRUE);
  EXPECT_EQ(j.Get(0, "records")->u64, events_.size());
  EXPECT_EQ(j.Get(0, "bytes")->u64, bytes_.size());
  EXPECT_EQ(j.Get(0, "threads")->u64, 3u);
  EXPECT_EQ(j.Get(0, "warnings")->u64, 0u);
  EXPECT_EQ(j.Get(j.Index(j.Get(0, "counts")), "function_call")->u64, 6u);
  EXPECT_EQ(j.Get(0, "errors")->count, 0u);
  EXPECT_EQ(j.Get(0, "manifest_checked")->type, ATF_JSON_TRUE);
}

TEST_F(Cli, InvalidSessionExitsOneAndMaxErrorsCapsTheList) {
  std::string broken = bytes_;
  for (int i = 0; i < 2; ++i)
    broken += atf_test::Frame(atf_test::Serialize(atf_test::End(1, atf_test::kBaseNs)));
  atf_test::WriteSession(dir_, broken, nullptr);
  ::unlink((dir_ + "/trace.json").c_str());
  const auto r = atf_test::RunTool(std::string(kValidate) + " --json --max-errors 1 " + dir_);
  EXPECT_EQ(r.status, 1) << r.err;
  Json j(r.out);
  ASSERT_EQ(j.status, ATF_JSON_OK);
  EXPECT_EQ(j.Get(0, "valid")->type, ATF_JSON_FALSE);
  EXPECT_EQ(j.Get(0, "errors")->count, 1u);
  EXPECT_EQ(j.Get(0, "error_count")->u64,
            2u);  // order.event_id twice (first error per record wins)
  const auto q = atf_test::RunTool(std::string(kValidate) + " --quiet " + dir_);
  EXPECT_EQ(q.status, 1);
  EXPECT_EQ(q.out, "");
}

// A path to `dir` too long to append "/events.bin" to within PATH_MAX: the tools open files
// relative to the directory, so nothing is cut.
std::string LongPathTo(const std::string &dir) {
  std::string path = dir;
  while (path.size() < 4090) path += "/.";
  return path;
}

TEST_F(Cli, InvalidSessionSummaryNamesEveryError) {
  std::string broken = bytes_;
  broken += atf_test::Frame(atf_test::Serialize(atf_test::End(1, atf_test::kBaseNs)));
  broken += atf_test::Frame(
      atf_test::Serialize(atf_test::Call(100, 101, atf_test::kBaseNs + 999999, "late", 1)));
  atf_test::WriteSession(dir_, broken, nullptr);
  ::unlink((dir_ + "/trace.json").c_str());
  // "--" ends the options; the threads and record size options are accepted in both spellings.
  const auto r = atf_test::RunTool(std::string(kValidate) +
                                   " --threads=2 --max-record-size 1K --max-errors=5 -- " + dir_);
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.out.find(": INVALID"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("manifest: trace.json not found"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("valid prefix: 15 records, " + std::to_string(bytes_.size()) + " bytes"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("errors 2:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("events.bin offset " + std::to_string(bytes_.size()) +
                       " record 15: order.event_id"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("record 16: session.last"), std::string::npos) << r.out;
}

TEST_F(Cli, LongPathsAreNotCut) {
  for (const char *tool : {kValidate, kDump}) {
    const auto r = atf_test::RunTool(std::string(tool) + " " + LongPathTo(dir_));
    EXPECT_EQ(r.status, 0) << tool << ": " << r.err;
  }
}

// "--" ends the options and "-" is a PATH (a file named "-"), in both tools; values in both
// spellings, sizes with suffixes.
TEST_F(Cli, OneGrammarForBothTools) {
  const std::string link = atf_test::TempDir() + "/dash_dir";
  ::mkdir(link.c_str(), 0755);
  ::unlink((link + "/-").c_str());
  ASSERT_EQ(::symlink((dir_ + "/events.bin").c_str(), (link + "/-").c_str()), 0);
  for (const char *tool : {kValidate, kDump}) {
    SCOPED_TRACE(tool);
    const std::string bin = std::string(getenv("PWD") ? getenv("PWD") : ".") + "/" + tool;
    for (const std::string &args :
         {" --max-record-size 1K -- " + dir_, " --max-record-size=1k " + dir_,
          " --max-errors 3 --max-errors=4 " + dir_}) {
      const auto r = atf_test::RunTool(std::string(tool) + args);
      EXPECT_EQ(r.status, 0) << args << ": " << r.err;
    }
    const auto limit = atf_test::RunTool(std::string(tool) + " --max-record-size=100 " + dir_);
    EXPECT_EQ(limit.status, 1) << "calls of ~200 bytes: framing.too_large";
    const auto dash = atf_test::RunTool("cd " + link + " && " + bin + " -");
    EXPECT_EQ(dash.status, 0) << dash.err;
    const auto dashdash = atf_test::RunTool("cd " + link + " && " + bin + " -- -");
    EXPECT_EQ(dashdash.status, 0) << dashdash.err;
  }
}

// A FIFO in place of events.bin or trace.json: exit 2 at once, "not a regular file".
TEST_F(Cli, FifosAreRefusedAtOnce) {
  ASSERT_EQ(::mkfifo((dir_ + "/fifo").c_str(), 0644), 0);
  ::unlink((dir_ + "/trace.json").c_str());
  ASSERT_EQ(::mkfifo((dir_ + "/trace.json").c_str(), 0644), 0);
  for (const char *tool : {kValidate, kDump}) {
    for (const std::string &path : {dir_ + "/fifo", dir_}) {
      SCOPED_TRACE(std::string(tool) + " " + path);
      const auto r = atf_test::RunTool(std::string(tool) + " " + path);
      EXPECT_EQ(r.status, 2);
      EXPECT_NE(r.err.find("not a regular file (a FIFO)"), std::string::npos) << r.err;
      EXPECT_EQ(r.out, "");
    }
  }
  ::unlink((dir_ + "/fifo").c_str());  // the next test writes trace.json again
  ::unlink((dir_ + "/trace.json").c_str());
}

// --allow / --profile: the violations are warnings, listed apart in --json; exit 0.
TEST_F(Cli, AllowedRulesAreListedApartInJson) {
  std::string bytes = bytes_;
  atf_test::Manifest m = atf_test::ManifestFor(events_, bytes);
  m.time_start_ns += 1;  // one event before timeStartNs
  const std::string manifest = atf_test::ManifestJson(m);
  atf_test::WriteSession(dir_, bytes, &manifest);
  const auto strict = atf_test::RunTool(std::string(kValidate) + " --json " + dir_);
  EXPECT_EQ(strict.status, 1);
  for (const std::string &opt :
       {std::string(" --allow manifest.time_range"), std::string(" --allow=manifest.*"),
        std::string(" --profile original")}) {
    SCOPED_TRACE(opt);
    const auto r = atf_test::RunTool(std::string(kValidate) + " --json" + opt + " " + dir_);
    EXPECT_EQ(r.status, 0) << r.out;
    Json j(r.out);
    ASSERT_EQ(j.status, ATF_JSON_OK) << j.doc.error;
    EXPECT_EQ(j.Get(0, "valid")->type, ATF_JSON_TRUE);
    EXPECT_EQ(j.Get(0, "errors")->count, 0u);
    EXPECT_EQ(j.Get(0, "error_count")->u64, 0u);
    EXPECT_EQ(j.Get(0, "rule_warning_count")->u64, 1u);
    const atf_json_node *list = j.Get(0, "rule_warnings");
    ASSERT_NE(list, nullptr);
    ASSERT_EQ(list->count, 1u);
    EXPECT_EQ(j.Str(list->first, "rule"), "manifest.time_range");
    const atf_json_node *allowed = j.Get(0, "allowed_rules");
    ASSERT_NE(allowed, nullptr);
    bool listed = false;
    for (size_t i = allowed->first; i != ATF_JSON_NONE; i = j.doc.nodes[i].next) {
      listed |= std::string(j.doc.nodes[i].text, j.doc.nodes[i].len) == "manifest.time_range";
    }
    EXPECT_TRUE(listed);
    EXPECT_EQ(j.Get(0, "warnings")->u64, 1u);
  }
  const auto text =
      atf_test::RunTool(std::string(kValidate) + " --allow manifest.time_range " + dir_);
  EXPECT_EQ(text.status, 0);
  EXPECT_NE(text.out.find("allowed rules broken 1:"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("manifest.time_range"), std::string::npos) << text.out;
  const auto dump = atf_test::RunTool(std::string(kDump) + " --profile=original " + dir_);
  EXPECT_EQ(dump.status, 0) << dump.err;
  EXPECT_NE(dump.err.find("warning: "), std::string::npos) << dump.err;
}

// A duplicate manifest key holding a newline and an escape sequence cannot fake summary lines.
TEST_F(Cli, SummaryShowsInputTextEscaped) {
  std::string manifest = atf_test::ManifestJson(atf_test::ManifestFor(events_, bytes_));
  manifest.insert(1,
                  "\"x\\n    events.bin offset 0: all good\\u001b[2J\": 1, "
                  "\"x\\n    events.bin offset 0: all good\\u001b[2J\": 2, ");
  atf_test::WriteSession(dir_, bytes_, &manifest);
  const auto r = atf_test::RunTool(std::string(kValidate) + " " + dir_);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("manifest.duplicate_key"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\n    events.bin offset 0: all good"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos) << r.out;
}

// atf-dump prints every record that decodes, even one that breaks an order or session rule; the
// rule goes to stderr and the exit status is 1. Only an undecodable record is left out.
TEST_F(Cli, DumpPrintsRecordsThatBreakOrderRules) {
  const uint64_t b = atf_test::kBaseNs;
  const std::vector<atf::v4::Event> events = {atf_test::Start(0, b),
                                              atf_test::Call(5, 101, b + 10, "f", 1),
                                              atf_test::Return(3, 101, b + 5, "f", 1),
                                              atf_test::Start(6, b + 11), atf_test::End(7, b + 12)};
  std::string bytes = atf_test::Frames(events);
  bytes += atf_test::Frame(std::string(5, '\xff'));  // does not decode
  atf_test::WriteSession(dir_, bytes, nullptr);
  ::unlink((dir_ + "/trace.json").c_str());
  const auto r = atf_test::RunTool(std::string(kDump) + " " + dir_);
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 5) << r.out;
  EXPECT_NE(r.out.find("\"record\":2,"), std::string::npos);
  EXPECT_NE(r.err.find("record 2: order.event_id"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("record 3: session.duplicate_start"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("record 5: wire.decode"), std::string::npos) << r.err;
}

// Garbage is quiet: at most --max-errors lines (default 20), then how many more.
TEST_F(Cli, DumpCapsItsErrorMessages) {
  std::string bytes = bytes_;
  bytes.insert(bytes.size() - atf_test::Frame(atf_test::Serialize(events_.back())).size(),
               std::string(100000, '\0'));
  atf_test::WriteSession(dir_, bytes, nullptr);
  ::unlink((dir_ + "/trace.json").c_str());
  const auto capped = atf_test::RunTool(std::string(kDump) + " --max-errors 3 " + dir_);
  EXPECT_EQ(capped.status, 1);
  EXPECT_EQ(std::count(capped.out.begin(), capped.out.end(), '\n'),
            static_cast<long>(events_.size()));
  EXPECT_EQ(std::count(capped.err.begin(), capped.err.end(), '\n'), 4) << capped.err;
  EXPECT_NE(capped.err.find("atf-dump: 99997 more not shown (--max-errors)"), std::string::npos)
      << capped.err;
  const auto deflt = atf_test::RunTool(std::string(kDump) + " " + dir_);
  EXPECT_EQ(std::count(deflt.err.begin(), deflt.err.end(), '\n'), 21) << deflt.err.substr(0, 300);
}

// U+2028 / U+2029 in a string are escaped in the output (they end lines in JavaScript).
TEST_F(Cli, DumpEscapesLineSeparators) {
  std::vector<atf::v4::Event> events = {atf_test::Start(0, atf_test::kBaseNs),
                                        atf_test::Call(1, 101, atf_test::kBaseNs + 1,
                                                       "a\xe2\x80\xa8"
                                                       "b\xe2\x80\xa9",
                                                       1),
                                        atf_test::End(2, atf_test::kBaseNs + 2)};
  atf_test::WriteSession(dir_, atf_test::Frames(events), nullptr);
  ::unlink((dir_ + "/trace.json").c_str());
  for (const char *format : {"jsonl", "chrome"}) {
    const auto r = atf_test::RunTool(std::string(kDump) + " --format " + format + " " + dir_);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("a\\u2028b\\u2029"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("\xe2\x80\xa8"), std::string::npos);
  }
}

// One record larger than the window whose text expands when escaped (a symbol of NUL bytes,
// 6 bytes each as \u0000) and one with a million registers: printed exactly, and the dump's
// memory grows by about the record, not by what its text expands to.
TEST_F(Cli, DumpMemoryStaysNearOneRecord) {
  const uint64_t b = atf_test::kBaseNs;
  atf::v4::Event nul = atf_test::Call(1, 101, b + 1, std::string(2u << 20, '\0'), 0x40);
  atf::v4::Event regs = atf_test::Call(2, 101, b + 2, "many", 0x50);
  auto *map = regs.mutable_function_call()->mutable_argument_registers();
  map->clear();
  for (int i = 0; i < 60000; ++i)
    (*map)["R" + std::to_string(i)] = static_cast<uint64_t>(i) * 0x100000001ull;
  const std::vector<atf::v4::Event> big = {atf_test::Start(0, b), nul, regs,
                                           atf_test::End(3, b + 3)};
  const std::string bytes = atf_test::Frames(big);
  atf_test::WriteSession(dir_, bytes, nullptr);
  ::unlink((dir_ + "/trace.json").c_str());
  const std::string small_dir = atf_test::TempDir() + "/small_session";
  atf_test::WriteSession(small_dir, bytes_, nullptr);
  // The nanopb engine decodes the register record through callbacks, holding nothing per entry;
  // the upb engine (the default) decodes it into an arena of at most 8 MiB (the validator's
  // limit, ATF_ENGINE_UPB_ARENA_LIMIT), which AddressSanitizer's quarantine may hold twice (the
  // pass's decode, then the dump's).
  for (const char *format : {"jsonl", "chrome", "jsonl --engine nanopb"}) {
    SCOPED_TRACE(format);
    const bool nanopb = std::string(format).find("nanopb") != std::string::npos;
    long small_kib = 0, big_kib = 0;
    const auto baseline = atf_test::RunToolMeasured(
        std::string(kDump) + " --format " + format + " " + small_dir, &small_kib);
    ASSERT_EQ(baseline.status, 0) << baseline.err;
    const auto r = atf_test::RunToolMeasured(
        std::string(kDump) + " --format " + format + " " + dir_, &big_kib);
    ASSERT_EQ(r.status, 0) << r.err;
    const long record_kib =
        static_cast<long>(atf_test::Serialize(nul).size() >> 10);  // the largest
    const long arena_kib = nanopb ? 0 : 2 * 8 * 1024;
    EXPECT_LT(big_kib - small_kib, record_kib + 8 * 1024 + arena_kib)
        << "peak " << big_kib << " KiB against " << small_kib << " KiB for a small session";
    if (std::string(format) != "chrome") {
      std::istringstream lines(r.out);
      std::string line;
      std::vector<std::string> all;
      while (std::getline(lines, line)) all.push_back(line);
      ASSERT_EQ(all.size(), 4u);
      Json sym(all[1]);
      ASSERT_EQ(sym.status, ATF_JSON_OK) << sym.doc.error;
      EXPECT_EQ(sym.Str(sym.Index(sym.Get(0, "function_call")), "symbol"),
                nul.function_call().symbol());
      Json reg(all[2]);
      ASSERT_EQ(reg.status, ATF_JSON_OK) << reg.doc.error;
      const size_t map_node =
          reg.Index(reg.Get(reg.Index(reg.Get(0, "function_call")), "argument_registers"));
      EXPECT_EQ(reg.doc.nodes[map_node].count, 60000u);
      EXPECT_EQ(reg.Get(map_node, "R59999")->u64, 59999ull * 0x100000001ull);
      EXPECT_EQ(reg.Str(reg.Index(reg.Get(0, "function_call")), "stack_shallow_copy").size(), 256u);
    } else {
      Json j(r.out);
      ASSERT_EQ(j.status, ATF_JSON_OK) << j.doc.error;
      EXPECT_NE(r.out.find("\"R59999\":\"0xea5f0000ea5f\""), std::string::npos);
    }
  }
}

TEST_F(Cli, OutputWriteFailuresExitTwo) {
  for (const std::string &tool : {std::string(kValidate), std::string(kDump)}) {
    SCOPED_TRACE(tool);
    const auto r = atf_test::RunTool("{ " + tool + " " + dir_ + " >/dev/full; }");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("fail"), std::string::npos) << r.err;
  }
}

TEST_F(Cli, DumpReportsBrokenFramingAndSkipsLongRecords) {
  // A record over --max-record-size is named and skipped; a torn tail ends the dump.
  std::string bytes = bytes_;
  const auto long_call =
      atf_test::Call(100, 101, atf_test::kBaseNs + 999999, std::string(600, 's'), 1);
  bytes += atf_test::Frame(atf_test::Serialize(long_call));
  bytes += "\x85";  // a length prefix cut off
  atf_test::WriteSession(dir_, bytes, nullptr);
  ::unlink((dir_ + "/trace.json").c_str());
  const auto r =
      atf_test::RunTool(std::string(kDump) + " --max-record-size=500 " + dir_ + "/events.bin");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), static_cast<long>(events_.size()));
  EXPECT_NE(r.err.find("record 15: framing.too_large"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("record 16: framing.truncated"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 2) << r.err;
}

TEST_F(Cli, DumpChromeNamesAnonymousFunctionsByAddress) {
  std::vector<atf::v4::Event> events = {
      atf_test::Start(0, atf_test::kBaseNs),
      atf_test::Call(1, 101, atf_test::kBaseNs + 1, "", 0x4010a0),
      atf_test::Return(2, 101, atf_test::kBaseNs + 2, "", 0x4010a0),
      atf_test::End(3, atf_test::kBaseNs + 3)};
  atf_test::WriteSession(dir_, atf_test::Frames(events), nullptr);
  ::unlink((dir_ + "/trace.json").c_str());
  const auto r = atf_test::RunTool(std::string(kDump) + " --format chrome " + dir_);
  ASSERT_EQ(r.status, 0) << r.err;
  Json j(r.out);
  ASSERT_EQ(j.status, ATF_JSON_OK) << j.doc.error;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '"') > 0, true);
  EXPECT_NE(r.out.find("\"ph\":\"B\",\"pid\":4242,\"tid\":101,\"ts\":0.001,\"name\":\"0x4010a0\""),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\"ph\":\"E\",\"pid\":4242,\"tid\":101,\"ts\":0.002,\"name\":\"0x4010a0\""),
            std::string::npos)
      << r.out;
}

// Chrome output is balanced for any session: unmatched returns become instants, mismatched returns
// close the innermost call, calls still open at the end get an E at their thread's last timestamp.
TEST_F(Cli, DumpChromeIsBalancedForAnySession) {
  using atf_test::Call;
  using atf_test::Return;
  const uint64_t b = atf_test::kBaseNs;
  const std::vector<atf::v4::Event> events = {
      atf_test::Start(1, b),           Return(2, 1, b + 1, "r", 0x10),  // unmatched
      Call(3, 1, b + 2, "f", 0x10),    Call(4, 2, b + 3, "g", 0x20),
      Call(5, 1, b + 4, "h", 0x11),    Call(6, 3, b + 5, "k", 0x30),
      Return(7, 1, b + 6, "f", 0x10),                                     // mismatched: closes h
      Call(8, 2, b + 7, "g2", 0x21),   Return(9, 3, b + 8, "x", 0x31),    // mismatched: closes k
      Return(10, 1, b + 9, "f", 0x10), Return(11, 1, b + 10, "z", 0x12),  // the second: unmatched
      Call(12, 3, b + 11, "m", 0x32),  atf_test::Signal(13, 2, b + 50, 10, "SIGUSR1"),
      Call(14, 4, b + 20, "p", 0x40),  Return(15, 4, b + 15, "p", 0x40),  // time goes back on tid 4
      atf_test::End(16, b + 60)};
  atf_test::WriteSession(dir_, atf_test::Frames(events), nullptr);
  ::unlink((dir_ + "/trace.json").c_str());
  const auto r = atf_test::RunTool(std::string(kDump) + " --format chrome " + dir_);
  EXPECT_EQ(r.status, 1) << "session.call_return is broken: " << r.err;
  EXPECT_NE(r.err.find("session.call_return"), std::string::npos) << r.err;
  Json j(r.out);
  ASSERT_EQ(j.status, ATF_JSON_OK) << j.doc.error << "\n" << r.out;
  const atf_json_node *list = j.Get(0, "traceEvents");
  ASSERT_NE(list, nullptr);
  std::map<uint64_t, int> depth;
  std::map<uint64_t, double> last_ts;  // of B and E: a viewer orders them by time
  std::map<uint64_t, std::string> last_unclosed_ts;
  int unmatched = 0, mismatched = 0, unclosed = 0, begins = 0, ends = 0;
  for (size_t i = list->first; i != ATF_JSON_NONE; i = j.doc.nodes[i].next) {
    const std::string ph = j.Str(i, "ph");
    const uint64_t tid = j.Get(i, "tid")->u64;
    const atf_json_node *args = j.Get(i, "args");
    const size_t a = args ? j.Index(args) : ATF_JSON_NONE;
    if (ph == "B" || ph == "E") {
      const double ts = std::stod(std::string(j.Get(i, "ts")->text, j.Get(i, "ts")->len));
      EXPECT_GE(ts, last_ts[tid]) << "tid " << tid << " goes back in time\n" << r.out;
      last_ts[tid] = ts;
    }
    if (ph == "B") {
      depth[tid]++, begins++;
    } else if (ph == "E") {
      ends++;
      ASSERT_GT(depth[tid], 0) << "an E without an open B on tid " << tid << "\n" << r.out;
      depth[tid]--;
      mismatched += args != nullptr && j.Get(a, "mismatch") != nullptr;
      if (args != nullptr && j.Get(a, "unclosed") != nullptr) {
        unclosed++;
        const atf_json_node *ts = j.Get(i, "ts");
        last_unclosed_ts[tid] = std::string(ts->text, ts->len);
      }
    } else if (ph == "i" && args != nullptr && j.Get(a, "unmatched_return") != nullptr) {
      unmatched++;
      EXPECT_EQ(tid, 1u);
    }
  }
  for (const auto &[tid, d] : depth) EXPECT_EQ(d, 0) << "tid " << tid << " left open";
  EXPECT_EQ(begins, 7);
  EXPECT_EQ(ends, 7);
  EXPECT_NE(r.out.find("\"ph\":\"E\",\"pid\":4242,\"tid\":4,\"ts\":0.020,"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\"ts_in_file_ns\":\"1700000000123456804\""), std::string::npos) << r.out;
  EXPECT_EQ(unmatched, 2);
  EXPECT_EQ(mismatched, 2);
  EXPECT_EQ(unclosed, 3);  // g and g2 on tid 2, m on tid 3
  EXPECT_EQ(last_unclosed_ts[2], "0.050") << "at tid 2's last event, the signal";
  EXPECT_EQ(last_unclosed_ts[3], "0.011");
}

// FunctionCall.call_site: JSON Lines prints it as an integer (when present), Chrome as a hex
// string.
TEST_F(Cli, DumpPrintsTheCallSite) {
  const uint64_t b = atf_test::kBaseNs;
  std::vector<atf::v4::Event> events = {
      atf_test::Start(1, b), atf_test::Call(2, 7, b + 1, "f", 0x401000),
      atf_test::Return(3, 7, b + 2, "f", 0x401000), atf_test::Call(4, 7, b + 3, "g", 0x402000),
      atf_test::End(5, b + 4)};
  events[1].mutable_function_call()->set_call_site(
      0xFFFFFFFFFFFFFFF0ull);  // above 2^53: exact digits
  atf_test::WriteSession(dir_, atf_test::Frames(events), nullptr);
  ::unlink((dir_ + "/trace.json").c_str());
  const auto jsonl = atf_test::RunTool(std::string(kDump) + " " + dir_);
  ASSERT_EQ(jsonl.status, 0) << jsonl.err;
  EXPECT_NE(jsonl.out.find("\"call_site\":18446744073709551600}"), std::string::npos) << jsonl.out;
  EXPECT_EQ(std::count(jsonl.out.begin(), jsonl.out.end(), 'c') > 0 &&
                jsonl.out.find("call_site") == jsonl.out.rfind("call_site"),
            true)
      << "absent (0) on the other call";
  const auto chrome = atf_test::RunTool(std::string(kDump) + " --format chrome " + dir_);
  ASSERT_EQ(chrome.status, 0) << chrome.err;
  EXPECT_NE(chrome.out.find("\"address\":\"0x401000\",\"call_site\":\"0xfffffffffffffff0\""),
            std::string::npos)
      << chrome.out;
}

TEST(CliProgress, ShownOnATerminalForLargeFiles) {
  // events.bin of 65 MiB (progress starts at 64 MiB): a record above the 64 MiB limit, skipped
  // unread (the file is sparse), between a TraceStart and a TraceEnd.
  const std::string dir = atf_test::TempDir() + "/progress";
  ::mkdir(dir.c_str(), 0755);
  const std::string head =
      atf_test::Frame(atf_test::Serialize(atf_test::Start(0, atf_test::kBaseNs))) +
      atf_test::Varint(65u << 20);
  const std::string tail =
      atf_test::Frame(atf_test::Serialize(atf_test::End(1, atf_test::kBaseNs + 1)));
  const int fd = ::open((dir + "/events.bin").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, head.data(), head.size(), 0), static_cast<ssize_t>(head.size()));
  ASSERT_EQ(::pwrite(fd, tail.data(), tail.size(), static_cast<off_t>(head.size() + (65u << 20))),
            static_cast<ssize_t>(tail.size()));
  ::close(fd);

  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  const std::string terminal = ::ptsname(master);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int tty = ::open(terminal.c_str(), O_RDWR);
    const int null = ::open("/dev/null", O_WRONLY);
    if (tty < 0 || null < 0 || ::dup2(tty, 2) < 0 || ::dup2(null, 1) < 0) ::_exit(126);
    ::execl(kValidate, kValidate, dir.c_str(), static_cast<char *>(nullptr));
    ::_exit(127);
  }
  std::string shown;
  char buf[4096];
  for (ssize_t n; (n = ::read(master, buf, sizeof buf)) > 0;)
    shown.append(buf, static_cast<size_t>(n));
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::close(master);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);  // framing.too_large
  EXPECT_NE(shown.find("atf-validate:   0% (0 of 65 MiB)"), std::string::npos) << shown;
  EXPECT_NE(shown.find("\r\033[K"), std::string::npos) << shown;  // the line is cleared at the end
}

TEST(CliUsage, AFileThatShrinksWhileReadExitsTwo) {
  // sysfs files are 4096 bytes by stat and a few bytes by read, like a file truncated under us.
  const char kShortFile[] = "/sys/devices/system/cpu/online";
  struct stat st;
  if (::stat(kShortFile, &st) != 0 || st.st_size <= 64 ||
      atf_test::ReadFile(kShortFile).size() >= 64) {
    GTEST_SKIP() << kShortFile << " is not a short sysfs file here";
  }
  for (const char *tool : {kValidate, kDump}) {
    const auto r = atf_test::RunTool(std::string(tool) + " " + kShortFile);
    EXPECT_EQ(r.status, 2) << tool;
    EXPECT_NE(r.err.find("events.bin: file changed while being read"), std::string::npos) << r.err;
  }
}

TEST(CliUsage, BadCommandLinesExitTwoWithOneLine) {
  const std::string empty_dir = atf_test::TempDir() + "/no_events";
  ::mkdir(empty_dir.c_str(), 0755);
  const std::vector<std::string> commands = {
      std::string(kValidate),
      std::string(kValidate) + " --bogus " + empty_dir,
      std::string(kValidate) + " " + empty_dir,
      std::string(kValidate) + " /nonexistent/session",
      std::string(kValidate) + " --max-errors",
      std::string(kValidate) + " --max-errors x .",
      std::string(kValidate) + " --max-record-size 0 .",
      std::string(kValidate) + " --max-record-size=12Q .",
      std::string(kValidate) + " --threads 0 .",
      std::string(kValidate) + " --threads=x .",
      std::string(kValidate) + " a b",
      std::string(kDump),
      std::string(kDump) + " --format=xml .",
      std::string(kDump) + " " + empty_dir,
      std::string(kDump) + " /nonexistent/session",
      std::string(kDump) + " --max-record-size=12x .",
      std::string(kDump) + " --max-record-size=0 .",
      std::string(kDump) + " a b",
      // One grammar for both tools (and atf-recover, whose test runs the same spellings).
      std::string(kValidate) + " --threads 1K .",
      std::string(kValidate) + " --max-errors 65537 .",
      std::string(kValidate) + " --max-errors=1K .",
      std::string(kValidate) + " --json=1 .",
      std::string(kValidate) + " --allow schema.utf8 .",
      std::string(kValidate) + " --allow no.such_rule .",
      std::string(kValidate) + " --profile loose .",
      std::string(kValidate) + " --allow",
      std::string(kDump) + " --format .",
      std::string(kDump) + " --max-errors 1M .",
      std::string(kDump) + " --allow wire.decode .",
      std::string(kDump) + " --bytes=octal .",
      std::string(kDump) + " --format=jsonl=x .",
      std::string(kDump) + " -q .",
  };
  for (const auto &cmd : commands) {
    SCOPED_TRACE(cmd);
    const auto r = atf_test::RunTool(cmd);
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.out, "");
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << r.err;  // exactly one line
  }
}

TEST(CliUsage, HelpAndVersion) {
  for (const char *tool : {kValidate, kDump}) {
    const auto h = atf_test::RunTool(std::string(tool) + " --help");
    EXPECT_EQ(h.status, 0);
    EXPECT_NE(h.out.find("usage:"), std::string::npos);
    const auto v = atf_test::RunTool(std::string(tool) + " --version");
    EXPECT_EQ(v.status, 0);
    EXPECT_NE(v.out.find("1.0.0"), std::string::npos);
  }
}

TEST_F(Cli, DumpJsonLinesHoldsEveryEventAndField) {
  for (const char *bytes_opt : {"", " --bytes=base64"}) {
    const auto r = atf_test::RunTool(std::string(kDump) + bytes_opt + " " + dir_);
    ASSERT_EQ(r.status, 0) << r.err;
    std::istringstream lines(r.out);
    std::string line;
    size_t n = 0;
    while (std::getline(lines, line)) {
      SCOPED_TRACE(line);
      ASSERT_LT(n, events_.size());
      const atf::v4::Event &e = events_[n];
      Json j(line);
      ASSERT_EQ(j.status, ATF_JSON_OK) << j.doc.error;
      EXPECT_EQ(j.Get(0, "record")->u64, n);
      EXPECT_EQ(j.Get(0, "event_id")->u64, e.event_id());
      EXPECT_EQ(j.Get(0, "time_ns")->u64, atf_test::TimeNs(e));
      if (e.has_trace_start()) {
        const size_t p = j.Index(j.Get(0, "trace_start"));
        EXPECT_EQ(j.Str(p, "executable_path"), e.trace_start().executable_path());
        EXPECT_EQ(j.Get(p, "args")->count, static_cast<size_t>(e.trace_start().args_size()));
        EXPECT_EQ(j.Str(p, "cpu_architecture"), "x86_64");
      } else if (e.has_function_call()) {
        const size_t p = j.Index(j.Get(0, "function_call"));
        EXPECT_EQ(j.Str(p, "symbol"), e.function_call().symbol());
        EXPECT_EQ(j.Get(p, "address")->u64, e.function_call().address());
        const size_t regs = j.Index(j.Get(p, "argument_registers"));
        for (const auto &kv : e.function_call().argument_registers()) {
          EXPECT_EQ(j.Get(regs, kv.first.c_str())->u64, kv.second) << kv.first;  // exact above 2^53
        }
        EXPECT_EQ(j.Str(p, "stack_shallow_copy").size(), *bytes_opt ? 172u : 256u);  // 128 bytes
      } else if (e.has_function_return()) {
        const size_t p = j.Index(j.Get(0, "function_return"));
        EXPECT_EQ(j.Get(j.Index(j.Get(p, "return_registers")), "RAX")->u64,
                  e.function_return().return_registers().at("RAX"));
      } else if (e.has_signal_delivery()) {
        const size_t p = j.Index(j.Get(0, "signal_delivery"));
        EXPECT_EQ(j.Str(p, "name"), "SIGSEGV");
        EXPECT_EQ(j.Get(j.Index(j.Get(p, "registers")), ""), nullptr);
        EXPECT_EQ(j.Get(p, "registers")->count, 18u);
      } else {
        EXPECT_EQ(j.Get(j.Index(j.Get(0, "trace_end")), "exit_code")->u64, 139u);
      }
      n++;
    }
    EXPECT_EQ(n, events_.size());
  }
}

TEST_F(Cli, DumpChromeTraceLoadsAsJson) {
  const auto r = atf_test::RunTool(std::string(kDump) + " --format=chrome " + dir_);
  ASSERT_EQ(r.status, 0) << r.err;
  Json j(r.out);
  ASSERT_EQ(j.status, ATF_JSON_OK) << j.doc.error;
  const atf_json_node *list = j.Get(0, "traceEvents");
  ASSERT_NE(list, nullptr);
  int begins = 0, ends = 0, instants = 0, meta = 0;
  for (size_t i = list->first; i != ATF_JSON_NONE; i = j.doc.nodes[i].next) {
    const std::string ph = j.Str(i, "ph");
    begins += ph == "B";
    ends += ph == "E";
    instants += ph == "i";
    if (ph == "M") {
      meta++;
      EXPECT_EQ(j.Str(i, "name"), "process_name");
      EXPECT_EQ(j.Get(i, "pid")->u64, 4242u);
    }
  }
  EXPECT_EQ(begins, 6);
  EXPECT_EQ(ends, 6);
  EXPECT_EQ(instants, 3);  // TraceStart, the signal, TraceEnd
  EXPECT_EQ(meta, 1);
  EXPECT_EQ(list->count, 16u);
}

TEST_F(Cli, DumpSkipsInvalidRecordsAndExitsOne) {
  std::string bytes = bytes_;
  bytes.insert(bytes.size() - atf_test::Frame(atf_test::Serialize(events_.back())).size(),
               atf_test::Frame(atf_test::LenField(12, atf_test::LenField(1, "\xff"))));
  atf_test::WriteSession(dir_, bytes, nullptr);
  const auto r = atf_test::RunTool(std::string(kDump) + " " + dir_);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("schema.utf8"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), static_cast<long>(events_.size()));
}

}  // namespace
