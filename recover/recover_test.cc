// atf-recover's library: sessions cut the ways a crash cuts them, and corrupted ones.
#include "recover/recover.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "atf/tracer.h"
#include "pipeline/testing/session.h"

namespace {

using atf_test::FileExists;
using atf_test::ReadFile;
using atf_test::Validate;

// Offsets of each record's length prefix, plus the file size at the end.
std::vector<size_t> FrameOffsets(const std::string& data) {
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

void WriteFile(const std::string& path, const std::string& data) {
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fwrite(data.data(), 1, data.size(), f), data.size());
  std::fclose(f);
}

// A finalized session of 1 + 2 * pairs + 1 records; returns its directory.
std::string MakeSession(const std::string& name, int pairs) {
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

atf_recover_status Recover(const std::string& dir, bool truncate, atf_recover_result* r,
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

  ASSERT_EQ(Recover(dir, true, &r), ATF_RECOVER_OK) << r.message;
  EXPECT_TRUE(r.tail_cut);
  EXPECT_EQ(r.final_records, 10u);
  atf_test::Verdict after = Validate(dir);
  EXPECT_TRUE(after.valid) << after.text;
  EXPECT_TRUE(after.recovered);
  EXPECT_TRUE(FileExists(dir + "/trace.json.invalid")) << "the first recovered manifest is kept";
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

}  // namespace
