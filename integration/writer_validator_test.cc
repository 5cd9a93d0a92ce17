// The writer's output, checked by the independent validator (nanopb, its own framing and manifest
// reader): the golden session, random sessions of every architecture and payload, sessions with
// drops and sanitised strings are valid with the counts the writer reports; a session cut short
// or torn is reported with the rule that names that defect.
#include <gtest/gtest.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include "validator/atf/validate.h"
#include "atf/writer.h"
#include "testing/decode.h"
#include "testing/records.h"
#include "testing/session.h"

namespace {

struct Report {
  atf_validate_report r = {};
  ~Report() { atf_validate_report_free(&r); }
};

std::string FirstRule(const atf_validate_report& r) {
  return r.errors_len > 0 ? r.errors[0].rule : "";
}

TEST(WriterValidator, GoldenSessionIsValid) {
  Report rep;
  ASSERT_EQ(atf_validate_path("testdata/golden", nullptr, &rep.r), ATF_VALIDATE_OK) << rep.r.reason;
  EXPECT_TRUE(rep.r.valid) << FirstRule(rep.r);
  EXPECT_TRUE(rep.r.manifest_checked);
  EXPECT_EQ(rep.r.records, 11u);
  EXPECT_EQ(rep.r.bytes, atf_test::ReadFile("testdata/golden/events.bin").size());
  for (int p = 0; p < ATF_VALIDATE_PAYLOAD_COUNT; ++p) EXPECT_GE(rep.r.counts[p], 1u) << p;
  EXPECT_TRUE(rep.r.has_dropped_events);
  EXPECT_EQ(rep.r.dropped_events, 8u);
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
    atf_writer* w = nullptr;
    ASSERT_EQ(atf_writer_open(&opt.o, &w), ATF_OK);
    const std::vector<std::string> names = {"main", "bad\xff\xfe utf8", std::string("nul\0x", 5),
                                            std::string(200, 'n'), ""};
    std::vector<uint32_t> ids;
    for (const auto& n : names) {
      uint32_t id;
      ASSERT_EQ(atf_writer_intern_symbol(w, n.data(), n.size(), &id), ATF_OK);
      ids.push_back(id);
    }
    uint64_t ts = opt.now + 1000000;  // after TraceStart (the session clock starts at opt.now)
    uint64_t produced = 1;  // TraceStart
    for (int batch = 0; batch < 20; ++batch) {
      atf_test::Batch b;
      for (int i = 0; i < 100; ++i) {
        const int32_t tid = static_cast<int32_t>(rng() % 4) + 1;
        ts += rng() % 1000;
        std::vector<uint64_t> regs(rng() % (atf_register_count(arch, ATF_KIND_CALL) + 1));
        for (auto& v : regs) v = rng() >> (rng() % 64);
        switch (rng() % 7) {
          case 0:
            b.Signal(tid, ts, static_cast<int32_t>(rng() % 40),
                     std::vector<uint64_t>(rng() % (atf_register_count(arch, ATF_KIND_SIGNAL) + 1), rng()));
            break;
          case 1:
          case 2:
            regs.resize(std::min<size_t>(regs.size(), atf_register_count(arch, ATF_KIND_RETURN)));
            b.Return(tid, ts, rng(), ids[rng() % ids.size()], regs);
            break;
          default:
            b.Call(tid, ts, rng(), ids[rng() % ids.size()], regs, std::string(rng() % 128, 'k'));
        }
        ++produced;
      }
      ASSERT_EQ(atf_writer_write(w, b.data(), b.size()), ATF_OK);
    }
    ASSERT_EQ(atf_writer_record_drops(w, 3, 17), ATF_OK);
    ASSERT_EQ(atf_writer_finalize(w, 0), ATF_OK);
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
  atf_writer* w = nullptr;
  ASSERT_EQ(atf_writer_open(&opt.o, &w), ATF_OK);
  atf_test::Batch b;
  for (int i = 0; i < 10; ++i) b.Call(1, 1700000000000000000ull + i, 0x1000, 0, {1, 2, 3});
  ASSERT_EQ(atf_writer_write(w, b.data(), b.size()), ATF_OK);
  ASSERT_EQ(atf_writer_flush(w), ATF_OK);
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
    EXPECT_NE(std::string(rep.r.errors[i].rule).rfind("wire.", 0), 0u) << "torn tail reported as corruption";
  }
  EXPECT_TRUE(truncated);
  EXPECT_EQ(rep.r.valid_prefix_records, 10u);
}

}  // namespace
