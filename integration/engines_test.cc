// The writer's sessions through both of the validator's record engines: every record of the golden
// session and of random writer sessions (every architecture and payload, registers, stacks,
// sanitised strings, several buffer drains) decodes the same with the nanopb engine and the upb
// engine (validator/testing/engine_compare.h: verdict, rule, offset, atf_event and every value
// the visitor gets), and is valid.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "writer/atf/writer.h"
#include "writer/testing/decode.h"
#include "writer/testing/records.h"
#include "writer/testing/session.h"
#include "validator/internal/upb_engine.h"
#include "validator/testing/engine_compare.h"

namespace {

// Both engines on every record of `events`; returns the number of records. The upb engine decodes
// each record once, except one holding a negative int32 (the writer encodes it in 10 bytes, not in
// the 5 that also decode to it), which it decodes again (upb_engine.h, "One pass per record").
size_t ExpectEnginesAgree(const std::string &events, atf_upb_engine *e) {
  size_t records = 0;
  const auto *p = reinterpret_cast<const uint8_t *>(events.data());
  atf_test::ForEachRecord(events, [&](uint64_t off, uint64_t len) {
    atf_upb_engine_stats before, after;
    atf_upb_engine_get_stats(e, &before);
    const atf_test::EngineResult nanopb = atf_test::DecodeNanopb(p, events.size(), off, len);
    const atf_test::EngineResult upb = atf_test::DecodeUpb(e, p, off, len);
    atf_upb_engine_get_stats(e, &after);
    EXPECT_EQ(nanopb.Diff(upb), "") << "record at " << off;
    EXPECT_TRUE(upb.ok) << upb.Describe();
    const atf_event &ev = upb.ev;
    const bool negative = ev.thread_id < 0 || ev.exit_code < 0 || ev.signal_number < 0;
    EXPECT_EQ(after.redecoded - before.redecoded, negative ? 1u : 0u) << "record at " << off;
    EXPECT_EQ(after.located, before.located);
    records++;
  });
  return records;
}

class Engines : public ::testing::Test {
 protected:
  void SetUp() override {
    engine_ = atf_upb_engine_new(0);
    ASSERT_NE(engine_, nullptr) << atf_upb_engine_schema_error();
  }
  void TearDown() override { atf_upb_engine_free(engine_); }
  atf_upb_engine *engine_ = nullptr;
};

// The four golden sessions (one per target OS and architecture, the same records): every record
// decodes the same way with both engines, and each session has all 12 of its records.
TEST_F(Engines, GoldenSessionsDecodeTheSame) {
  for (const char *target : {"linux-x86_64", "linux-arm64", "darwin-x86_64", "darwin-arm64"}) {
    SCOPED_TRACE(target);
    const std::string events =
        atf_test::ReadFile(std::string("testdata/golden/") + target + "/events.bin");
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(ExpectEnginesAgree(events, engine_), 12u);
  }
}

TEST_F(Engines, RandomWriterSessionsDecodeTheSame) {
  const std::string root = atf_test::MakeTempDir("engines");
  size_t total = 0;
  for (atf_arch arch : {ATF_ARCH_X86_64, ATF_ARCH_ARM64, ATF_ARCH_UNKNOWN}) {
    std::mt19937_64 rng(4321 + static_cast<int>(arch));
    const std::string label = "a" + std::to_string(static_cast<int>(arch));
    atf_test::Options opt(root, label.c_str());
    opt.o.arch = arch;
    opt.o.max_stack_bytes = 256;
    opt.o.buffer_bytes = 64 * 1024;
    atf_writer *w = nullptr;
    ASSERT_EQ(atf_writer_open(&opt.o, &w), ATF_WRITER_OK);
    const std::vector<std::string> names = {
        "main", "bad\xff\xfe utf8", std::string("nul\0x", 5), std::string(300, 'n'),
        "",     "\xe2\x9c\x93"};
    std::vector<uint32_t> ids;
    for (const auto &n : names) {
      uint32_t id;
      ASSERT_EQ(atf_writer_intern_symbol(w, n.data(), n.size(), &id), ATF_WRITER_OK);
      ids.push_back(id);
    }
    uint64_t ts = opt.now + 1000000;
    for (int batch = 0; batch < 20; ++batch) {
      atf_test::Batch b;
      for (int i = 0; i < 100; ++i) {
        const int32_t tid = static_cast<int32_t>(rng() % 4) - 1;  // -1 .. 2
        ts += rng() % 1000;
        std::vector<uint64_t> regs(rng() % (atf_register_count(arch, ATF_KIND_CALL) + 1));
        for (auto &v : regs) v = rng() >> (rng() % 64);
        switch (rng() % 7) {
          case 0:
            b.Signal(tid, ts, static_cast<int32_t>(rng() % 65) - 1,
                     std::vector<uint64_t>(rng() % (atf_register_count(arch, ATF_KIND_SIGNAL) + 1),
                                           rng()));
            break;
          case 1:
          case 2:
            regs.resize(std::min<size_t>(regs.size(), atf_register_count(arch, ATF_KIND_RETURN)));
            b.Return(tid, ts, rng(), ids[rng() % ids.size()], regs);
            break;
          default: {
            std::string stack(rng() % 300, '\0');
            for (auto &c : stack) c = static_cast<char>(rng());
            b.Call(tid, ts, rng(), ids[rng() % ids.size()], regs, stack);
          }
        }
      }
      ASSERT_EQ(atf_writer_write(w, b.data(), b.size()), ATF_WRITER_OK);
    }
    ASSERT_EQ(atf_writer_finalize(w, 3), ATF_WRITER_OK);
    const std::string dir = atf_writer_session_dir(w);
    atf_writer_close(w);
    total += ExpectEnginesAgree(atf_test::ReadFile(dir + "/events.bin"), engine_);
  }
  EXPECT_EQ(total, 3u * (1 + 20 * 100 + 1));
}

}  // namespace
