// The writer's output, checked by the independent validator (nanopb, its own framing and manifest
// reader): the golden sessions of every target, what the original ATF V4 writer wrote (arch
// "arm64"/"aarch64", event ids from 0 or 1), random sessions of every architecture and payload,
// sessions with drops and sanitised strings are valid with the counts the writer reports; a session
// cut short or torn is reported with the rule that names that defect.
#include <gtest/gtest.h>
#include <unistd.h>

#include <random>
#include <map>
#include <string>
#include <vector>

#include "validator/atf/validate.h"
#include "writer/atf/writer.h"
#include "atf_v4.pb.h"
#include "writer/testing/decode.h"
#include "writer/testing/golden_session.h"
#include "writer/testing/records.h"
#include "writer/testing/session.h"

namespace {

struct Report {
  atf_validate_report r = {};
  ~Report() { atf_validate_report_free(&r); }
};

std::string FirstRule(const atf_validate_report &r) {
  return r.errors_len > 0 ? r.errors[0].rule : "";
}

TEST(WriterValidator, GoldenSessionsAreValid) {
  for (const atf_test::GoldenTarget &t : atf_test::GoldenTargets()) {
    const std::string dir = std::string("testdata/golden/") + t.dir;
    Report rep;
    ASSERT_EQ(atf_validate_path(dir.c_str(), nullptr, &rep.r), ATF_VALIDATE_OK) << rep.r.reason;
    EXPECT_TRUE(rep.r.valid) << t.dir << ": " << FirstRule(rep.r);
    EXPECT_TRUE(rep.r.manifest_checked);
    EXPECT_EQ(rep.r.records, 12u);
    EXPECT_EQ(rep.r.bytes, atf_test::ReadFile(dir + "/events.bin").size());
    for (int p = 0; p < ATF_VALIDATE_PAYLOAD_COUNT; ++p) EXPECT_GE(rep.r.counts[p], 1u) << p;
    EXPECT_TRUE(rep.r.has_dropped_events);
    EXPECT_EQ(rep.r.dropped_events, 8u);
  }
}

// Re-frames events.bin after `change` edited each record (C++ protobuf, independent of both).
std::string Rewrite(const std::string &events, void (*change)(size_t index, atf::v4::Event *ev)) {
  std::vector<std::string> records;
  size_t complete = 0;
  EXPECT_TRUE(atf_test::SplitFraming(events, &records, &complete));
  std::string out;
  for (size_t i = 0; i < records.size(); i++) {
    atf::v4::Event ev;
    EXPECT_TRUE(ev.ParseFromString(records[i]));
    change(i, &ev);
    std::string body = ev.SerializeAsString();
    for (uint64_t n = body.size();; n >>= 7) {
      out.push_back(static_cast<char>((n & 0x7f) | (n > 0x7f ? 0x80 : 0)));
      if (n <= 0x7f) break;
    }
    out += body;
  }
  return out;
}

std::string Replace(std::string s, const std::string &from, const std::string &to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

// What this writer writes and what the original ATF V4 writer (or this one before) wrote are both
// valid: arch "aarch64" or "arm64" (TraceStart and manifest), event ids from 1 or from 0, session
// events on thread 0 or on a real thread id.
TEST(WriterValidator, BothSpellingsAndNumberingsAreAccepted) {
  const std::string dir = "testdata/golden/linux-arm64";
  const std::string events = atf_test::ReadFile(dir + "/events.bin");
  const std::string manifest = atf_test::ReadFile(dir + "/trace.json");
  ASSERT_NE(manifest.find("\"arch\":\t\"aarch64\""), std::string::npos);
  struct Variant {
    const char *what;
    std::string events, manifest;
  } variants[] = {
      {"as written (aarch64, ids from 1, thread 0)", events, manifest},
      {"arm64 in TraceStart and manifest",
       Rewrite(events,
               [](size_t i, atf::v4::Event *ev) {
                 if (i == 0) ev->mutable_trace_start()->set_cpu_architecture("arm64");
               }),
       Replace(manifest, "\"aarch64\"", "\"arm64\"")},
      {"ids from 0, session events on thread 4242",
       Rewrite(events,
               [](size_t, atf::v4::Event *ev) {
                 ev->set_event_id(ev->event_id() - 1);
                 if (ev->has_trace_start() || ev->has_trace_end()) ev->set_thread_id(4242);
               }),
       manifest},
  };
  for (Variant &v : variants) {
    const std::string m = Replace(v.manifest, "\"bytesWritten\":\t" + std::to_string(events.size()),
                                  "\"bytesWritten\":\t" + std::to_string(v.events.size()));
    Report rep;
    ASSERT_EQ(atf_validate_buffers(reinterpret_cast<const uint8_t *>(v.events.data()),
                                   v.events.size(), reinterpret_cast<const uint8_t *>(m.data()),
                                   m.size(), nullptr, &rep.r),
              ATF_VALIDATE_OK);
    EXPECT_TRUE(rep.r.valid) << v.what << ": " << FirstRule(rep.r);
    EXPECT_EQ(rep.r.records, 12u) << v.what;
  }
  EXPECT_NE(variants[1].events, events);  // the rewrites did change the bytes
  EXPECT_NE(variants[2].events, events);
}

class RandomSessions : public ::testing::TestWithParam<atf_arch> {};

TEST_P(RandomSessions, WriterSessionsValidate) {
  const atf_arch arch = GetParam();
  std::mt19937_64 rng(1234 + static_cast<int>(arch));
  const std::string root = atf_test::MakeTempDir("integration");
  for (int session = 0; session < 5; ++session) {
    const std::string label = "s" + std::to_string(session);
    atf_test::Options opt(root, label.c_str());
    opt.o.arch = arch;
    opt.o.max_stack_bytes = 64;
    opt.o.buffer_bytes = 64 * 1024;  // several buffer drains per session
    atf_writer *w = nullptr;
    ASSERT_EQ(atf_writer_open(&opt.o, &w), ATF_WRITER_OK);
    const std::vector<std::string> names = {"main", "bad\xff\xfe utf8", std::string("nul\0x", 5),
                                            std::string(200, 'n'), ""};
    std::vector<uint32_t> ids;
    for (const auto &n : names) {
      uint32_t id;
      ASSERT_EQ(atf_writer_intern_symbol(w, n.data(), n.size(), &id), ATF_WRITER_OK);
      ids.push_back(id);
    }
    uint64_t ts = opt.now + 1000000;  // after TraceStart (the session clock starts at opt.now)
    uint64_t produced = 1;            // TraceStart
    // Per thread, the open calls' addresses: a return closes the innermost one
    // (session.call_return), as the tracer guarantees; a return on a thread without open calls is a
    // call instead.
    std::map<int32_t, std::vector<uint64_t>> open;
    for (int batch = 0; batch < 20; ++batch) {
      atf_test::Batch b;
      for (int i = 0; i < 100; ++i) {
        const int32_t tid = static_cast<int32_t>(rng() % 4) + 1;
        ts += rng() % 1000;
        std::vector<uint64_t> regs(rng() % (atf_register_count(arch, ATF_KIND_CALL) + 1));
        for (auto &v : regs) v = rng() >> (rng() % 64);
        switch (rng() % 7) {
          case 0:
            b.Signal(tid, ts, static_cast<int32_t>(rng() % 40),
                     std::vector<uint64_t>(rng() % (atf_register_count(arch, ATF_KIND_SIGNAL) + 1),
                                           rng()));
            break;
          case 1:
          case 2:
            if (!open[tid].empty()) {
              regs.resize(std::min<size_t>(regs.size(), atf_register_count(arch, ATF_KIND_RETURN)));
              b.Return(tid, ts, open[tid].back(), ids[rng() % ids.size()], regs);
              open[tid].pop_back();
              break;
            }
            [[fallthrough]];
          default:
            open[tid].push_back(rng());
            b.Call(tid, ts, open[tid].back(), ids[rng() % ids.size()], regs,
                   std::string(rng() % 128, 'k'));
        }
        ++produced;
      }
      ASSERT_EQ(atf_writer_write(w, b.data(), b.size()), ATF_WRITER_OK);
    }
    ASSERT_EQ(atf_writer_record_drops(w, 3, 17), ATF_WRITER_OK);
    ASSERT_EQ(atf_writer_finalize(w, 0), ATF_WRITER_OK);
    ++produced;  // TraceEnd
    atf_writer_stats st;
    atf_writer_get_stats(w, &st);
    const std::string dir = atf_writer_session_dir(w);
    atf_writer_close(w);

    Report rep;
    ASSERT_EQ(atf_validate_path(dir.c_str(), nullptr, &rep.r), ATF_VALIDATE_OK) << rep.r.reason;
    EXPECT_TRUE(rep.r.valid) << dir << ": " << FirstRule(rep.r) << " "
                             << (rep.r.errors_len ? rep.r.errors[0].message : "");
    EXPECT_EQ(rep.r.records, produced);
    EXPECT_EQ(rep.r.records, st.events_written);
    EXPECT_EQ(rep.r.bytes, st.bytes_written);
    EXPECT_EQ(rep.r.unknown_fields, 0u);
    EXPECT_TRUE(rep.r.manifest_checked);
    EXPECT_EQ(rep.r.dropped_events, 17u);
    EXPECT_EQ(rep.r.time_min_ns, st.first_timestamp_ns);
  }
}

INSTANTIATE_TEST_SUITE_P(EveryArch, RandomSessions,
                         ::testing::Values(ATF_ARCH_X86_64, ATF_ARCH_ARM64, ATF_ARCH_UNKNOWN));

TEST(WriterValidator, UnfinishedAndTornSessionsNameTheirDefect) {
  const std::string root = atf_test::MakeTempDir("integration");
  atf_test::Options opt(root, "torn");
  atf_writer *w = nullptr;
  ASSERT_EQ(atf_writer_open(&opt.o, &w), ATF_WRITER_OK);
  atf_test::Batch b;
  for (int i = 0; i < 10; ++i) b.Call(1, 1700000000000000000ull + i, 0x1000, 0, {1, 2, 3});
  ASSERT_EQ(atf_writer_write(w, b.data(), b.size()), ATF_WRITER_OK);
  ASSERT_EQ(atf_writer_flush(w), ATF_WRITER_OK);
  const std::string dir = atf_writer_session_dir(w);
  atf_writer_close(w);  // no finalize: as if the process died after the flush

  {  // No TraceEnd, no manifest: the session rule, not corruption.
    Report rep;
    ASSERT_EQ(atf_validate_path(dir.c_str(), nullptr, &rep.r), ATF_VALIDATE_OK);
    EXPECT_FALSE(rep.r.valid);
    EXPECT_FALSE(rep.r.manifest_checked);
    EXPECT_EQ(FirstRule(rep.r), "session.last");
    EXPECT_EQ(rep.r.valid_prefix_records, 11u);
  }
  // Tear the last record: framing.truncated at the end of the last complete record.
  const std::string events = dir + "/events.bin";
  const std::string bytes = atf_test::ReadFile(events);
  ASSERT_EQ(truncate(events.c_str(), static_cast<off_t>(bytes.size() - 3)), 0);
  Report rep;
  ASSERT_EQ(atf_validate_path(dir.c_str(), nullptr, &rep.r), ATF_VALIDATE_OK);
  EXPECT_FALSE(rep.r.valid);
  bool truncated = false;
  for (size_t i = 0; i < rep.r.errors_len; ++i) {
    if (std::string(rep.r.errors[i].rule) == "framing.truncated") truncated = true;
    EXPECT_NE(std::string(rep.r.errors[i].rule).rfind("wire.", 0), 0u)
        << "torn tail reported as corruption";
  }
  EXPECT_TRUE(truncated);
  EXPECT_EQ(rep.r.valid_prefix_records, 10u);
}

}  // namespace
