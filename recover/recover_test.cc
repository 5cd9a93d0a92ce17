// atf-recover's library: sessions cut the ways a crash cuts them, and corrupted ones; nothing is
// ever destroyed (issue 12).
#include "recover/atf/recover.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "pipeline/atf/tracer.h"
#include "pipeline/testing/session.h"
#include "validator/atf/validate.h"
#include "validator/internal/engine.h"
#include "validator/internal/json_reader.h"
#include "validator/testing/session_builder.h"

namespace {

using atf_test::FileExists;
using atf_test::ReadFile;
using atf_test::Validate;

// Offsets of each record's length prefix, plus the file size at the end.
std::vector<size_t> FrameOffsets(const std::string &data) {
  std::vector<size_t> out;
  size_t off = 0;
  while (off < data.size()) {
    out.push_back(off);
    uint64_t len = 0;
    int shift = 0;
    while (off < data.size()) {
      unsigned char b = static_cast<unsigned char>(data[off++]);
      len |= static_cast<uint64_t>(b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) == 0) break;
    }
    off += len;
  }
  out.push_back(data.size());
  return out;
}

void WriteFile(const std::string &path, const std::string &data) {
  FILE *f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(data.data(), 1, data.size(), f), data.size());
  std::fclose(f);
}

// A finalized session of 1 + 2 * pairs + 1 records; returns its directory.
std::string MakeSession(const std::string &name, int pairs) {
  static int n = 0;
  std::string root = atf_test::TempDir(name + std::to_string(n++));
  atf_tracer_options o;
  atf_tracer_options_init(&o);
  o.writer.output_root = root.c_str();
  o.writer.session_label = "r";
  o.writer.collect_modules = 0;
  EXPECT_EQ(atf_tracer_start(&o), ATF_TRACER_OK);
  uint32_t sym = 0;
  EXPECT_EQ(atf_tracer_symbol("f", &sym), ATF_TRACER_OK);
  for (int i = 0; i < pairs; i++) {
    uint64_t regs[2] = {static_cast<uint64_t>(i), 0};
    char stack[16] = "stack";
    EXPECT_EQ(atf_tracer_record_call(sym, 0x40, regs, 2, stack, sizeof stack), ATF_TRACER_OK);
    EXPECT_EQ(atf_tracer_record_return(sym, 0x40, regs, 1), ATF_TRACER_OK);
  }
  atf_tracer_stats st{};
  EXPECT_EQ(atf_tracer_stop(0, &st), ATF_TRACER_OK);
  std::string dir = st.session_dir;
  return dir;
}

atf_recover_status Recover(const std::string &dir, bool truncate, atf_recover_result *r,
                           bool dry_run = false) {
  atf_recover_options o;
  atf_recover_options_init(&o);
  o.truncate = truncate;
  o.dry_run = dry_run;
  return atf_recover_session(dir.c_str(), &o, r);
}

TEST(RecoverTest, ValidSessionIsNotTouched) {
  std::string dir = MakeSession("valid", 5);
  std::string events = ReadFile(dir + "/events.bin"), manifest = ReadFile(dir + "/trace.json");
  ASSERT_TRUE(Validate(dir).valid);
  atf_recover_result r;
  EXPECT_EQ(Recover(dir, true, &r), ATF_RECOVER_ALREADY_VALID) << r.message;
  EXPECT_EQ(ReadFile(dir + "/events.bin"), events);
  EXPECT_EQ(ReadFile(dir + "/trace.json"), manifest);
}

TEST(RecoverTest, CrashBetweenRecordsGetsATraceEndAndAManifest) {
  std::string dir = MakeSession("clean", 5);
  std::string events = ReadFile(dir + "/events.bin");
  std::vector<size_t> frames = FrameOffsets(events);
  ASSERT_EQ(frames.size(), 12u + 1u);  // TraceStart, 5 calls + 5 returns, TraceEnd; the end
  unlink((dir + "/trace.json").c_str());
  WriteFile(dir + "/events.bin", events.substr(0, frames[11]));  // no TraceEnd, last return gone
  EXPECT_FALSE(Validate(dir).valid);
  atf_recover_result r;
  ASSERT_EQ(Recover(dir, false, &r), ATF_RECOVER_OK) << r.message;
  EXPECT_EQ(r.tail_bytes, 0u);
  EXPECT_TRUE(r.trace_end_appended);
  EXPECT_EQ(r.final_records, 12u);
  atf_test::Verdict v = Validate(dir);
  EXPECT_TRUE(v.valid) << v.text;
  EXPECT_TRUE(v.recovered);
  std::vector<atf::v4::Event> evs;
  std::string error;
  ASSERT_TRUE(atf_test::ReadEvents(dir + "/events.bin", &evs, &error)) << error;
  ASSERT_EQ(evs.size(), 12u);
  EXPECT_TRUE(evs.back().has_trace_end());
  EXPECT_EQ(evs.back().trace_end().exit_code(), -1);
  EXPECT_EQ(evs.back().event_id(), evs[10].event_id() + 1);
  EXPECT_EQ(ReadFile(dir + "/events.bin").substr(0, frames[11]), events.substr(0, frames[11]))
      << "the valid prefix is kept byte for byte";
  atf_recover_result again;
  EXPECT_EQ(Recover(dir, true, &again), ATF_RECOVER_ALREADY_VALID);
}

TEST(RecoverTest, TornTailIsKeptWithoutTruncateAndCutWithIt) {
  std::string dir = MakeSession("torn", 5);
  std::string events = ReadFile(dir + "/events.bin");
  std::vector<size_t> frames = FrameOffsets(events);
  unlink((dir + "/trace.json").c_str());
  std::string torn = events.substr(0, frames[9] + 7);  // record 9 cut after 7 bytes
  WriteFile(dir + "/events.bin", torn);
  atf_test::Verdict before = Validate(dir);
  ASSERT_FALSE(before.valid);
  EXPECT_EQ(before.rules, std::vector<std::string>{"framing.truncated"}) << before.text;

  atf_recover_result r;
  EXPECT_EQ(Recover(dir, false, &r), ATF_RECOVER_TAIL_KEPT) << r.message;
  EXPECT_EQ(ReadFile(dir + "/events.bin"), torn) << "without --truncate events.bin is untouched";
  EXPECT_EQ(r.prefix_bytes, frames[9]);
  EXPECT_EQ(r.tail_bytes, 7u);
  ASSERT_TRUE(FileExists(dir + "/trace.json"));
  atf_test::Verdict kept = Validate(dir);
  EXPECT_FALSE(kept.valid);
  EXPECT_TRUE(kept.recovered);
  EXPECT_EQ(kept.rules, std::vector<std::string>{"framing.truncated"})
      << "only the torn tail is wrong: " << kept.text;

  const std::string first_manifest = ReadFile(dir + "/trace.json");
  ASSERT_EQ(Recover(dir, true, &r), ATF_RECOVER_OK) << r.message;
  EXPECT_TRUE(r.tail_cut);
  EXPECT_EQ(r.final_records, 10u);
  atf_test::Verdict after = Validate(dir);
  EXPECT_TRUE(after.valid) << after.text;
  EXPECT_TRUE(after.recovered);
  EXPECT_EQ(ReadFile(dir + "/trace.json.invalid"), first_manifest)
      << "the first recovered manifest is kept";
  EXPECT_EQ(ReadFile(dir + "/events.bin.cut"), torn.substr(frames[9])) << "the cut bytes are kept";
  EXPECT_STREQ(r.events_aside, "events.bin.cut");
  EXPECT_NE(std::string(r.message).find("events.bin.cut"), std::string::npos) << r.message;
}

TEST(RecoverTest, CorruptRecordInTheMiddleEndsThePrefix) {
  std::string dir = MakeSession("corrupt", 5);
  std::string events = ReadFile(dir + "/events.bin");
  std::vector<size_t> frames = FrameOffsets(events);
  events[frames[4] + 1] = static_cast<char>(0xff);  // first tag byte of record 4
  WriteFile(dir + "/events.bin", events);
  atf_recover_result r;
  ASSERT_EQ(Recover(dir, true, &r), ATF_RECOVER_OK) << r.message;
  EXPECT_EQ(r.prefix_records, 4u);
  EXPECT_EQ(r.final_records, 5u);
  EXPECT_TRUE(FileExists(dir + "/trace.json.invalid")) << "the old manifest is kept aside";
  EXPECT_EQ(ReadFile(dir + "/events.bin.cut"), events.substr(frames[4]))
      << "every cut byte is kept";
  EXPECT_TRUE(Validate(dir).valid) << Validate(dir).text;
}

TEST(RecoverTest, FinalizedButNoManifestNeedsNoTraceEnd) {
  std::string dir = MakeSession("nomanifest", 2);
  std::string events = ReadFile(dir + "/events.bin");
  unlink((dir + "/trace.json").c_str());
  atf_recover_result r;
  ASSERT_EQ(Recover(dir, false, &r), ATF_RECOVER_OK) << r.message;
  EXPECT_FALSE(r.trace_end_appended);
  EXPECT_TRUE(r.manifest_written);
  EXPECT_EQ(ReadFile(dir + "/events.bin"), events) << "a valid events.bin is never touched";
  EXPECT_TRUE(Validate(dir).valid);
  EXPECT_TRUE(Validate(dir).recovered);
}

TEST(RecoverTest, DryRunChangesNothing) {
  std::string dir = MakeSession("dry", 3);
  std::string events = ReadFile(dir + "/events.bin");
  unlink((dir + "/trace.json").c_str());
  WriteFile(dir + "/events.bin", events.substr(0, events.size() - 3));
  atf_recover_result r;
  EXPECT_EQ(Recover(dir, true, &r, true), ATF_RECOVER_OK) << r.message;
  EXPECT_EQ(ReadFile(dir + "/events.bin"), events.substr(0, events.size() - 3));
  EXPECT_FALSE(FileExists(dir + "/trace.json"));
}

TEST(RecoverTest, NothingToKeep) {
  std::string dir = atf_test::TempDir("garbage");
  WriteFile(dir + "/events.bin", std::string("\x05garbage", 8));
  atf_recover_result r;
  EXPECT_EQ(Recover(dir, true, &r), ATF_RECOVER_E_NO_PREFIX) << r.message;
  EXPECT_EQ(Recover(atf_test::TempDir("empty"), true, &r), ATF_RECOVER_E_IO) << r.message;
}

// The engine option reaches both of the validator's passes: with --engine both and the engines made
// to disagree on every record (the engine's test hook), not even the first record is valid; with
// upb or nanopb alone (no comparison) the same session recovers.
TEST(RecoverTest, EngineOptionChoosesTheValidatorsEngine) {
  for (int engine :
       {ATF_VALIDATE_ENGINE_UPB, ATF_VALIDATE_ENGINE_NANOPB, ATF_VALIDATE_ENGINE_BOTH}) {
    SCOPED_TRACE(atf_validate_engine_name(static_cast<atf_validate_engine>(engine)));
    std::string dir = MakeSession("engine", 3);
    std::string events = ReadFile(dir + "/events.bin");
    std::vector<size_t> frames = FrameOffsets(events);
    unlink((dir + "/trace.json").c_str());
    WriteFile(dir + "/events.bin", events.substr(0, frames[frames.size() - 2]));  // no TraceEnd
    atf_recover_options o;
    atf_recover_options_init(&o);
    EXPECT_EQ(o.engine, ATF_VALIDATE_ENGINE_UPB) << "the default";
    o.engine = engine;
    o.dry_run = 1;
    atf_engine_test_tamper = [](atf_event *, atf_decode_error *, bool *, uint64_t *hashes) {
      hashes[0] ^= 1;  // the upb engine's executable_path hash: never the nanopb engine's
    };
    atf_recover_result r;
    const atf_recover_status st = atf_recover_session(dir.c_str(), &o, &r);
    atf_engine_test_tamper = nullptr;
    if (engine == ATF_VALIDATE_ENGINE_BOTH) {
      EXPECT_EQ(st, ATF_RECOVER_E_NO_PREFIX) << r.message;
      EXPECT_NE(std::string(r.message).find(ATF_ENGINE_RULE_DISAGREE), std::string::npos)
          << r.message;
    } else {
      EXPECT_EQ(st, ATF_RECOVER_OK) << r.message;
    }
    // A real run (no tamper) with that engine recovers it.
    o.dry_run = 0;
    ASSERT_EQ(atf_recover_session(dir.c_str(), &o, &r), ATF_RECOVER_OK) << r.message;
    EXPECT_TRUE(r.trace_end_appended);
    EXPECT_TRUE(Validate(dir).valid);
  }
}

// ---- issue 12: recovery destroys nothing -------------------------------------------------

// Events made with Google's C++ protobuf (validator/testing/session_builder.h): [varint
// length][Event].
std::string Frame(const atf::v4::Event &e) { return atf_test::Frame(e.SerializeAsString()); }

using atf_test::EventAt;

const uint64_t kNs = atf_test::kBaseNs;

atf::v4::Event StartEvent(const std::string &os = "linux") {
  atf::v4::Event e = EventAt(0, 0, kNs);
  e.mutable_trace_start()->set_executable_path("/usr/bin/app");
  e.mutable_trace_start()->set_operating_system(os);
  e.mutable_trace_start()->set_cpu_architecture("x86_64");
  return e;
}

atf::v4::Event CallEvent(uint64_t id, uint64_t ns) {
  atf::v4::Event e = EventAt(id, 7, ns);
  e.mutable_function_call()->set_symbol("f");
  return e;
}

// A session directory .../pid_<pid> holding `events` and, unless empty, `manifest`.
std::string Session(const std::string &name, const std::string &events,
                    const std::string &manifest = "") {
  std::string dir = atf_test::TempDir(name) + "/pid_4321";
  mkdir(dir.c_str(), 0755);
  WriteFile(dir + "/events.bin", events);
  if (!manifest.empty()) WriteFile(dir + "/trace.json", manifest);
  return dir;
}

struct Manifest {
  atf_json_doc doc;
  std::string text;
  explicit Manifest(const std::string &path) : text(ReadFile(path)) {
    EXPECT_EQ(atf_json_parse(text.data(), text.size(), &doc), ATF_JSON_OK) << doc.error << "\n"
                                                                           << text;
  }
  ~Manifest() { atf_json_free(&doc); }
  // A member's text, verbatim.
  std::string Raw(const char *key) const {
    const size_t v = atf_json_get(&doc, 0, key);
    return v == ATF_JSON_NONE
               ? "(absent)"
               : text.substr(doc.nodes[v].offset, doc.nodes[v].end - doc.nodes[v].offset);
  }
};

// A second run (plain, then --truncate, as the first run's message advises) keeps the original
// manifest: trace.json.invalid is never overwritten.
TEST(RecoverKeeps, TheOriginalManifestAcrossRuns) {
  std::string dir = MakeSession("two_runs", 5);
  const std::string original = ReadFile(dir + "/trace.json");
  std::string events = ReadFile(dir + "/events.bin");
  WriteFile(dir + "/events.bin", events.substr(0, events.size() - 3));
  atf_recover_result r;
  ASSERT_EQ(Recover(dir, false, &r), ATF_RECOVER_TAIL_KEPT) << r.message;
  EXPECT_STREQ(r.manifest_aside, "trace.json.invalid");
  ASSERT_EQ(Recover(dir, true, &r), ATF_RECOVER_OK) << r.message;
  EXPECT_STREQ(r.manifest_aside, "trace.json.invalid.1");
  EXPECT_EQ(ReadFile(dir + "/trace.json.invalid"), original);
  EXPECT_NE(std::string(r.message).find("trace.json.invalid.1"), std::string::npos) << r.message;
  // A third run on a session that validates changes nothing.
  EXPECT_EQ(Recover(dir, true, &r), ATF_RECOVER_ALREADY_VALID);
  EXPECT_FALSE(FileExists(dir + "/trace.json.invalid.2"));
}

// What the old manifest knew survives: sessionId, pid, executablePath, modules, droppedEvents (and
// by thread), unknown keys, verbatim; broken keys are left out (they stay in trace.json.invalid).
TEST(RecoverKeeps, WhatTheOldManifestKnew) {
  std::string events =
      Frame(StartEvent()) + Frame(CallEvent(1, kNs + 1)) + Frame(CallEvent(2, kNs + 2));
  const std::string old =
      "{\"os\": \"linux\", \"arch\": \"x86_64\", \"pid\": 18446744073709551615, \"sessionId\": "
      "987654321987,"
      " \"executablePath\": \"/opt/the \\\"app\\\"\", \"timeStartNs\": 1000, \"timeEndNs\": 2000,"
      " \"eventCount\": 99, \"bytesWritten\": 1,"
      " \"modules\": [\"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\", "
      "\"8e9f0a1b-2c3d-4e5f-8071-92a3b4c5d6e7\"],"
      " \"droppedEvents\": 12, \"droppedEventsByThread\": {\"-5\": 12}, \"clock\": \"custom\","
      " \"vendor\": {\"exact\": 18446744073709551614, \"list\": [1, \"\\u0000\"]},"
      " \"recovered\": \"not a boolean\"}";
  const std::string dir = Session("old_manifest", events, old);
  atf_recover_result r;
  ASSERT_EQ(Recover(dir + "/", false, &r), ATF_RECOVER_OK) << r.message;  // a trailing slash
  EXPECT_TRUE(r.trace_end_appended);
  EXPECT_EQ(ReadFile(dir + "/trace.json.invalid"), old);
  EXPECT_TRUE(Validate(dir).valid) << Validate(dir).text;
  Manifest m(dir + "/trace.json");
  EXPECT_EQ(m.Raw("pid"), "18446744073709551615");
  EXPECT_EQ(m.Raw("sessionId"), "987654321987");
  EXPECT_EQ(m.Raw("executablePath"), "\"/opt/the \\\"app\\\"\"");
  EXPECT_EQ(m.Raw("modules"),
            "[\"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\", \"8e9f0a1b-2c3d-4e5f-8071-92a3b4c5d6e7\"]");
  EXPECT_EQ(m.Raw("droppedEvents"), "12");
  EXPECT_EQ(m.Raw("droppedEventsByThread"), "{\"-5\": 12}");
  EXPECT_EQ(m.Raw("clock"), "\"custom\"");
  EXPECT_EQ(m.Raw("vendor"), "{\"exact\": 18446744073709551614, \"list\": [1, \"\\u0000\"]}");
  EXPECT_EQ(m.Raw("recovered"), "true");
  EXPECT_EQ(m.Raw("timeStartNs"), "1000") << "the old start, earlier than every event, stays";
  EXPECT_EQ(m.Raw("timeEndNs"), std::to_string(kNs + 2)) << "widened to cover the events";
  EXPECT_EQ(m.Raw("eventCount"), "4");
  EXPECT_EQ(m.Raw("recoveredSideFiles"), "[\"trace.json.invalid\"]");
}

// Without an old manifest: pid from the directory name (even with a trailing slash), os and arch
// from TraceStart, a NUL in them kept (escaped), nothing invented.
TEST(RecoverKeeps, TraceStartStringsWhole) {
  const std::string events =
      Frame(StartEvent(std::string("lin\0ux", 6))) + Frame(CallEvent(1, kNs + 1));
  const std::string dir = Session("nul_os", events);
  atf_recover_result r;
  ASSERT_EQ(Recover(dir + "//", false, &r), ATF_RECOVER_OK) << r.message;
  Manifest m(dir + "/trace.json");
  EXPECT_EQ(m.Raw("pid"), "4321");
  EXPECT_EQ(m.Raw("os"), "\"lin\\u0000ux\"");
  EXPECT_EQ(m.Raw("arch"), "\"x86_64\"");
  EXPECT_EQ(m.Raw("executablePath"), "\"/usr/bin/app\"");
  EXPECT_EQ(m.Raw("sessionId"), "0");
  EXPECT_EQ(m.Raw("modules"), "[]");
  EXPECT_EQ(m.Raw("droppedEvents"), "(absent)");
  EXPECT_TRUE(Validate(dir).valid) << Validate(dir).text;
}

// --salvage keeps every record that still decodes after the damage, drops only the broken one
// (an event_id gap is valid), and keeps the original events.bin whole.
TEST(RecoverKeeps, SalvageKeepsEveryRecordThatStillDecodes) {
  std::string dir = MakeSession("salvage", 10);
  std::string events = ReadFile(dir + "/events.bin");
  const std::vector<size_t> frames = FrameOffsets(events);
  ASSERT_EQ(frames.size(), 22u + 1u);
  std::string damaged = events;
  damaged[frames[10] + 1] = static_cast<char>(0xff);  // record 10's first tag byte
  WriteFile(dir + "/events.bin", damaged);
  atf_recover_result dry;
  atf_recover_options o;
  atf_recover_options_init(&o);
  o.salvage = 1;
  o.dry_run = 1;
  ASSERT_EQ(atf_recover_session(dir.c_str(), &o, &dry), ATF_RECOVER_OK) << dry.message;
  EXPECT_EQ(ReadFile(dir + "/events.bin"), damaged);
  EXPECT_FALSE(FileExists(dir + "/events.bin.orig"));
  EXPECT_FALSE(FileExists(dir + "/trace.json.invalid"));
  o.dry_run = 0;
  atf_recover_result r;
  ASSERT_EQ(atf_recover_session(dir.c_str(), &o, &r), ATF_RECOVER_OK) << r.message;
  EXPECT_EQ(r.prefix_records, 21u);
  EXPECT_EQ(r.dropped_records, 1u);
  EXPECT_FALSE(r.trace_end_appended) << "the session's own TraceEnd is kept";
  EXPECT_EQ(ReadFile(dir + "/events.bin"),
            events.substr(0, frames[10]) + events.substr(frames[11]));
  EXPECT_EQ(ReadFile(dir + "/events.bin.orig"), damaged) << "the original is kept whole";
  EXPECT_STREQ(r.events_aside, "events.bin.orig");
  EXPECT_NE(std::string(r.message).find("events.bin.orig"), std::string::npos) << r.message;
  atf_test::Verdict v = Validate(dir);
  EXPECT_TRUE(v.valid) << v.text;
  EXPECT_EQ(v.records, 21u);
  Manifest m(dir + "/trace.json");
  EXPECT_EQ(m.Raw("recoveredMode"), "\"salvage\"");
  EXPECT_EQ(m.Raw("recoveredDroppedRecords"), "1");
  // What --truncate would have cut: every record after the damage.
  EXPECT_EQ(m.Raw("recoveredValidPrefixRecords"), "10");
}

// Salvage copies what it keeps through a 1 MiB buffer: records larger than it, and more than it
// in all, arrive whole and in order.
TEST(RecoverKeeps, SalvageOfRecordsLargerThanItsBuffer) {
  std::string events = Frame(StartEvent()), damaged_record;
  for (uint64_t i = 1; i <= 4; ++i) {
    atf::v4::Event call = CallEvent(i, kNs + i);
    call.mutable_function_call()->set_symbol(std::string(700 * 1024, static_cast<char>('a' + i)));
    const std::string frame = Frame(call);
    if (i == 2) {
      damaged_record = frame;
      damaged_record[damaged_record.size() - 10] =
          static_cast<char>(0xff);  // invalid UTF-8 in the symbol
      events += damaged_record;
    } else {
      events += frame;
    }
  }
  const std::string dir = Session("salvage_big", events);
  atf_recover_options o;
  atf_recover_options_init(&o);
  o.salvage = 1;
  atf_recover_result r;
  ASSERT_EQ(atf_recover_session(dir.c_str(), &o, &r), ATF_RECOVER_OK) << r.message;
  EXPECT_EQ(r.dropped_records, 1u);
  EXPECT_TRUE(r.trace_end_appended);
  const std::string kept = ReadFile(dir + "/events.bin");
  const size_t drop_at = events.find(damaged_record);
  const std::string expected =
      events.substr(0, drop_at) + events.substr(drop_at + damaged_record.size());
  ASSERT_GT(kept.size(), expected.size());
  EXPECT_TRUE(kept.compare(0, expected.size(), expected) == 0)
      << "the kept records, in order, byte for byte";
  EXPECT_EQ(ReadFile(dir + "/events.bin.orig"), events);
  EXPECT_TRUE(Validate(dir).valid) << Validate(dir).text;
}

// Checked before anything changes: a directory path too long for the manifest's names, a
// TraceStart string no trace.json can hold.
TEST(RecoverKeeps, NothingWhenItCannotFinish) {
  const std::string huge_os(2u << 20, 'o');
  const std::string events = Frame(StartEvent(huge_os)) + Frame(CallEvent(1, kNs + 1));
  const std::string dir = Session("huge_os", events, "{\"old\": true}");
  for (int truncate : {0, 1}) {
    atf_recover_result r;
    EXPECT_EQ(Recover(dir, truncate, &r), ATF_RECOVER_E_CANNOT) << r.message;
    EXPECT_NE(std::string(r.message).find("nothing changed"), std::string::npos) << r.message;
    EXPECT_EQ(ReadFile(dir + "/events.bin"), events);
    EXPECT_EQ(ReadFile(dir + "/trace.json"), "{\"old\": true}");
    EXPECT_FALSE(FileExists(dir + "/trace.json.invalid"));
  }
  // A path that leaves no room for "/trace.json.tmp" within PATH_MAX.
  const std::string small =
      Session("long_path", Frame(StartEvent()) + Frame(CallEvent(1, kNs + 1)));
  std::string path = small;
  while (path.size() < 4084) path += "/.";
  atf_recover_result r;
  EXPECT_EQ(Recover(path, true, &r), ATF_RECOVER_E_USAGE) << r.message;
  EXPECT_NE(std::string(r.message).find("too long"), std::string::npos) << r.message;
  EXPECT_FALSE(FileExists(small + "/trace.json"));
}

// A stale trace.json.tmp (a writer killed while renaming its manifest) is kept aside, not lost,
// and does not stop the manifest from being written.
TEST(RecoverKeeps, AStaleTemporaryManifest) {
  const std::string dir = Session("stale_tmp", Frame(StartEvent()) + Frame(CallEvent(1, kNs + 1)));
  WriteFile(dir + "/trace.json.tmp", "{\"half\":");
  atf_recover_result r;
  ASSERT_EQ(Recover(dir, false, &r), ATF_RECOVER_OK) << r.message;
  EXPECT_EQ(ReadFile(dir + "/trace.json.tmp.invalid"), "{\"half\":");
  EXPECT_TRUE(Validate(dir).valid) << Validate(dir).text;
}

// A FIFO in place of events.bin: an I/O error at once.
TEST(RecoverKeeps, RefusesAFifo) {
  const std::string dir = atf_test::TempDir("fifo_session");
  ASSERT_EQ(mkfifo((dir + "/events.bin").c_str(), 0644), 0);
  atf_recover_result r;
  EXPECT_EQ(Recover(dir, true, &r), ATF_RECOVER_E_IO);
  EXPECT_NE(std::string(r.message).find("not a regular file (a FIFO)"), std::string::npos)
      << r.message;
  atf_recover_options o;
  atf_recover_options_init(&o);
  o.truncate = o.salvage = 1;
  EXPECT_EQ(atf_recover_session(dir.c_str(), &o, &r), ATF_RECOVER_E_USAGE);
}

// Runs the atf-recover binary on dir in a child of its own; its peak RSS in KiB.
long RecoverPeakKib(const std::string &dir, int *status) {
  const char *srcdir = getenv("TEST_SRCDIR");
  const std::string bin = std::string(srcdir ? srcdir : ".") + "/atf_v4/recover/atf-recover";
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    execl(bin.c_str(), bin.c_str(), dir.c_str(), static_cast<char *>(nullptr));
    _exit(127);
  }
  int raw = 0;
  struct rusage ru {};
  wait4(pid, &raw, 0, &ru);
  *status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return ru.ru_maxrss;
}

// Records over 16 MiB at either end (the validator accepts up to 64 MiB), the last one holding
// 3.4 million registers: recovered, in memory that does not grow with the records (before: it
// unpacked the last record with protobuf-c, 412 MB for this one).
TEST(RecoverKeeps, LargeRecordsAtBothEndsInLittleMemory) {
  atf::v4::Event start = StartEvent();
  start.mutable_trace_start()->add_args(std::string(17u << 20, 'a'));
  std::string last = EventAt(5, 7, kNs + 5).SerializeAsString();
  std::string payload =
      "\x0a\x01"
      "f";
  const std::string entry(
      "\x1a\x03\x0a\x01"
      "A",
      5);  // one register "A" (value 0)
  payload.reserve(17u << 20);
  while (payload.size() < (17u << 20)) payload += entry;
  std::string varint;
  for (uint64_t v = payload.size();; v >>= 7) {
    varint.push_back(static_cast<char>((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
    if (v <= 0x7f) break;
  }
  last += "\x62" + varint + payload;  // field 12 (function_call), length-delimited
  std::string len;
  for (uint64_t v = last.size();; v >>= 7) {
    len.push_back(static_cast<char>((v & 0x7f) | (v > 0x7f ? 0x80 : 0)));
    if (v <= 0x7f) break;
  }
  const std::string events = Frame(start) + Frame(CallEvent(1, kNs + 1)) + len + last;
  const std::string dir = Session("large_ends", events);
  const std::string small =
      Session("small_ends", Frame(StartEvent()) + Frame(CallEvent(1, kNs + 1)));
  int status = -1, small_status = -1;
  const long small_kib = RecoverPeakKib(small, &small_status);
  const long big_kib = RecoverPeakKib(dir, &status);
  EXPECT_EQ(small_status, ATF_RECOVER_OK);
  ASSERT_EQ(status, ATF_RECOVER_OK);
  EXPECT_LT(big_kib - small_kib, 16 * 1024) << big_kib << " KiB against " << small_kib << " KiB";
  atf_test::Verdict v = Validate(dir);
  EXPECT_TRUE(v.valid) << v.text;
  EXPECT_EQ(v.records, 4u);
  EXPECT_EQ(ReadFile(dir + "/events.bin").substr(0, events.size()), events);
}

}  // namespace
