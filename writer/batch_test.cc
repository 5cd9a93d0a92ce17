// Batch checker: every rule rejects, with the offset of the first bad record; good batches pass.
#include <gtest/gtest.h>

#include <functional>

#include "writer/internal/batch.h"
#include "writer/testing/records.h"

namespace {

using atf_test::Batch;

atf_writer_status Check(const Batch &b, atf_batch_info *info, atf_arch arch = ATF_ARCH_X86_64,
                        uint32_t symbols = 3) {
  return atf_batch_check(b.data(), b.size(), arch, symbols, info);
}

TEST(BatchCheck, AcceptsEveryKindAndPads) {
  Batch b;
  b.Call(1, 2, 3, 1, {1, 2, 3, 4, 5, 6}, std::string(ATF_RECORD_MAX_STACK, 'x'));
  atf_ring_record *with_site = b.Call(1, 2, 3, 1, {});
  with_site->flags = ATF_RECORD_FLAG_CALL_SITE;  // the call site in value and reserved
  with_site->value = -1;
  with_site->reserved = 0x7fffffff;
  EXPECT_EQ(atf_record_call_site(with_site), 0x7fffffffffffffffull);
  b.Pad(40);
  b.Return(1, 2, 3, 3, {1, 2});
  b.Signal(1, 2, 11, std::vector<uint64_t>(18, 7));
  b.End(1, 2, 0);
  b.Pad(64);
  atf_batch_info info;
  ASSERT_EQ(Check(b, &info), ATF_WRITER_OK);
  EXPECT_EQ(info.events, 5u);
  EXPECT_NE(info.trace_end_offset, SIZE_MAX);
  EXPECT_EQ(atf_batch_check(nullptr, 0, ATF_ARCH_X86_64, 0, &info), ATF_WRITER_OK);
  EXPECT_EQ(info.events, 0u);
}

struct BadCase {
  const char *rule;
  std::function<void(Batch *)> build;
};

TEST(BatchCheck, RejectsEachRuleAtItsOffset) {
  const BadCase cases[] = {
      {"size", [](Batch *b) { b->Call(1, 1, 1, 0, {})->size = 36; }},
      {"size", [](Batch *b) { b->Call(1, 1, 1, 0, {})->size = 44; }},
      {"size beyond batch", [](Batch *b) { b->Call(1, 1, 1, 0, {})->size = 48; }},
      {"kind", [](Batch *b) { b->Call(1, 1, 1, 0, {})->kind = 9; }},
      {"flags", [](Batch *b) { b->Call(1, 1, 1, 0, {})->flags = 2; }},
      {"flags", [](Batch *b) { b->Return(1, 1, 1, 0, {})->flags = ATF_RECORD_FLAG_CALL_SITE; }},
      {"flags", [](Batch *b) { b->Signal(1, 1, 1, {})->flags = ATF_RECORD_FLAG_CALL_SITE; }},
      {"reserved fields", [](Batch *b) { b->Call(1, 1, 1, 0, {})->reserved = 1; }},
      {"reg_count",
       [](Batch *b) {
         b->Call(1, 1, 1, 0, {1, 2, 3, 4, 5, 6, 7});
       }},
      {"reg_count",
       [](Batch *b) {
         b->Return(1, 1, 1, 0, {1, 2, 3});
       }},
      {"reg_count", [](Batch *b) { b->Signal(1, 1, 1, std::vector<uint64_t>(19, 0)); }},
      {"reg_count", [](Batch *b) { b->Add(ATF_KIND_TRACE_END, 1, 1, 0, 0, 0, {1}); }},
      {"stack_len", [](Batch *b) { b->Add(ATF_KIND_RETURN, 1, 1, 0, 0, 0, {}, "x"); }},
      {"stack_len",
       [](Batch *b) { b->Call(1, 1, 1, 0, {}, std::string(ATF_RECORD_MAX_STACK + 1, 'x')); }},
      {"size mismatch",
       [](Batch *b) {
         b->Call(1, 1, 1, 0, {1, 2})->reg_count = 1;
       }},
      {"symbol_id", [](Batch *b) { b->Call(1, 1, 1, 4, {}); }},
      {"symbol_id", [](Batch *b) { b->Return(1, 1, 1, 4, {}); }},
      {"event after TRACE_END",
       [](Batch *b) {
         b->End(1, 1, 0);
         b->Call(1, 1, 1, 0, {});
       }},
      {"event after TRACE_END",
       [](Batch *b) {
         b->End(1, 1, 0);
         b->End(1, 1, 0);
       }},
  };
  for (const BadCase &c : cases) {
    Batch b;
    b.Call(1, 1, 1, 1, {1});  // a good record first: the error offset must be past it
    const size_t first = b.size();
    c.build(&b);
    atf_batch_info info;
    EXPECT_EQ(Check(b, &info), ATF_WRITER_E_BAD_RECORD) << c.rule;
    EXPECT_STREQ(info.error_rule, c.rule);
    EXPECT_GE(info.error_offset, first) << c.rule;
  }
}

TEST(BatchCheck, TruncatedHeader) {
  Batch b;
  b.Call(1, 1, 1, 0, {});
  atf_batch_info info;
  EXPECT_EQ(atf_batch_check(b.data(), 32, ATF_ARCH_X86_64, 0, &info), ATF_WRITER_E_BAD_RECORD);
  EXPECT_STREQ(info.error_rule, "truncated header");
}

TEST(BatchCheck, RegisterLimitsFollowArch) {
  atf_batch_info info;
  Batch arm;
  arm.Call(1, 1, 1, 0, {1, 2, 3, 4, 5, 6, 7, 8});
  arm.Signal(1, 1, 11, std::vector<uint64_t>(34, 1));
  EXPECT_EQ(Check(arm, &info, ATF_ARCH_ARM64), ATF_WRITER_OK);
  EXPECT_EQ(Check(arm, &info, ATF_ARCH_X86_64), ATF_WRITER_E_BAD_RECORD);
  Batch unknown;
  unknown.Signal(1, 1, 11, std::vector<uint64_t>(ATF_RECORD_MAX_REGS, 1));
  EXPECT_EQ(Check(unknown, &info, ATF_ARCH_UNKNOWN), ATF_WRITER_OK);
}

}  // namespace
