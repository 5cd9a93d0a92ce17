// Tests of upb_decode_ex() (patches/0013-decode-options.patch, our addition to upb 2019): where
// a failed decode stopped, and the handler for unknown fields. Schema:
// testdata/upb_patches_test.proto.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "third_party/upb/upb_testing.h"
#include "upb/decode.h"
#include "upb_patches_test_descriptor_set.h"

namespace {

using upb_testing::CheckedArena;
using upb_testing::Len;
using upb_testing::Schema;
using upb_testing::Tag;
using upb_testing::Var;

class UpbPatches : public ::testing::Test {
 protected:
  UpbPatches() : schema_(upb_patches_test_descriptor_set, upb_patches_test_descriptor_set_size) {}
  void SetUp() override { ASSERT_EQ(schema_.error(), ""); }
  size_t UnknownLength(const upb_msg *msg) {
    size_t n = 0;
    upb_msg_getunknown(msg, &n);
    return n;
  }
  Schema schema_;
};

struct SeenUnknown {
  const upb_msglayout *layout;
  uint32_t tag;
  size_t start, end;
};

struct UnknownLog {
  const char *base;
  std::vector<SeenUnknown> seen;
  size_t reject_at = SIZE_MAX;  // reject the n-th unknown field (0-based)
  static bool Handle(void *ctx, const upb_msglayout *l, uint32_t tag, const char *start,
                     const char *end) {
    auto *log = static_cast<UnknownLog *>(ctx);
    log->seen.push_back(
        {l, tag, static_cast<size_t>(start - log->base), static_cast<size_t>(end - log->base)});
    return log->seen.size() - 1 != log->reject_at;
  }
};

TEST_F(UpbPatches, DecodeExSaysWhereDecodingFailed) {
  struct Case {
    std::string bytes;
    ptrdiff_t error_at;  // -1: decodes
  };
  const std::string ok = Var(8, 1);  // 2 bytes
  const std::vector<Case> cases = {
      {ok + Len(4, Var(1, 1)), -1},
      {ok + "\x10", 2},                      // opt_b's varint cut off: its tag
      {ok + Len(4, Var(1, 1) + "\x08"), 6},  // inside child: the inner field's tag
      {ok + Len(4, Var(1, 1)) + Len(11, "abc") + Tag(11, 2) + "\x09", 11},  // length past the end
      {ok + Tag(20, 3) + Var(1, 1) + Len(2, "xy"), 2},  // unknown group never closed: the group
      {ok + std::string("\x88\x80\x80\x80\x80\x00\x01", 7), 2},  // a 6-byte tag
      {ok + Tag(0, 0) + "\x01", 2},                              // field number 0
      {ok + Tag(8, 4), 2},                                       // an end tag outside any group
      {ok + Tag(8, 7), 2},                                       // wire type 7
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.bytes));
    const upb_msglayout *l = schema_.Layout("upbtest.Outer");
    CheckedArena arena;
    upb_msg *msg = upb_msg_new(l, arena.arena());
    upb_decodeopts opts = {nullptr, nullptr, reinterpret_cast<const char *>(1)};
    const bool decoded =
        upb_decode_ex(c.bytes.data(), c.bytes.size(), msg, l, arena.arena(), &opts);
    EXPECT_EQ(decoded, c.error_at < 0);
    if (c.error_at < 0) {
      EXPECT_EQ(opts.error_at, nullptr);
    } else {
      EXPECT_EQ(opts.error_at - c.bytes.data(), c.error_at);
    }
  }
}

TEST_F(UpbPatches, DecodeExHandsEveryUnknownFieldToTheHandler) {
  // In wire order: an unknown varint, opt_a (int32) sent length-delimited, an unknown group, an
  // unknown fixed32 inside child (a Small), scalar (int32) sent as a group.
  const std::string a = Var(30, 5);
  const std::string b = Len(8, "xy");
  const std::string c = Tag(20, 3) + Var(1, 1) + Tag(20, 4);
  const std::string d_inner = Tag(9, 5) + "abcd";
  const std::string d = Len(4, Var(1, 1) + d_inner);
  const std::string e = Tag(1, 3) + Tag(1, 4);
  const std::string bytes = a + b + c + d + e;
  const upb_msglayout *outer = schema_.Layout("upbtest.Outer");
  const upb_msglayout *small = schema_.Layout("upbtest.Small");
  {
    UnknownLog log{bytes.data(), {}};
    CheckedArena arena;
    upb_msg *msg = upb_msg_new(outer, arena.arena());
    upb_decodeopts opts = {&UnknownLog::Handle, &log, nullptr};
    ASSERT_TRUE(upb_decode_ex(bytes.data(), bytes.size(), msg, outer, arena.arena(), &opts));
    const size_t d_at = a.size() + b.size() + c.size();
    const size_t d_inner_at = d_at + 2 + Var(1, 1).size();
    const std::vector<SeenUnknown> want = {
        {outer, 30 << 3 | 0, 0, a.size()},
        {outer, 8 << 3 | 2, a.size(), a.size() + b.size()},
        {outer, 20 << 3 | 3, a.size() + b.size(), d_at},
        {small, 9 << 3 | 5, d_inner_at, d_inner_at + d_inner.size()},
        {outer, 1 << 3 | 3, d_at + d.size(), bytes.size()},
    };
    ASSERT_EQ(log.seen.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      SCOPED_TRACE(i);
      EXPECT_EQ(log.seen[i].layout, want[i].layout);
      EXPECT_EQ(log.seen[i].tag, want[i].tag);
      EXPECT_EQ(log.seen[i].start, want[i].start);
      EXPECT_EQ(log.seen[i].end, want[i].end);
    }
    EXPECT_EQ(UnknownLength(msg), a.size() + b.size() + c.size() + e.size());  // still kept
  }
  for (size_t reject = 0; reject < 5; ++reject) {
    UnknownLog log{bytes.data(), {}, reject};
    CheckedArena arena;
    upb_msg *msg = upb_msg_new(outer, arena.arena());
    upb_decodeopts opts = {&UnknownLog::Handle, &log, nullptr};
    EXPECT_FALSE(upb_decode_ex(bytes.data(), bytes.size(), msg, outer, arena.arena(), &opts));
    EXPECT_EQ(log.seen.size(), reject + 1);
    EXPECT_EQ(static_cast<size_t>(opts.error_at - bytes.data()), log.seen.back().start);
  }
}

TEST_F(UpbPatches, DecodeExOnEmptyInputSucceeds) {
  CheckedArena arena;
  const upb_msglayout *l = schema_.Layout("upbtest.Outer");
  upb_msg *msg = upb_msg_new(l, arena.arena());
  upb_decodeopts opts = {nullptr, nullptr, reinterpret_cast<const char *>(1)};
  EXPECT_TRUE(upb_decode_ex(nullptr, 0, msg, l, arena.arena(), &opts));
  EXPECT_EQ(opts.error_at, nullptr);
}

// Patch 0016: with int32_range, an int32 varint outside [INT32_MIN, INT32_MAX] as a 64-bit two's
// complement value fails the decode at its tag; without it upb keeps the low 32 bits.
TEST_F(UpbPatches, Int32RangeIsCheckedOnlyWhenAsked) {
  const upb_msglayout *l = schema_.Layout("upbtest.Outer");
  const std::string ok = Var(8, 1);  // opt_a, 2 bytes
  struct Case {
    uint64_t value;
    bool in_range;
  };
  const Case cases[] = {
      {0, true},
      {0x7fffffffu, true},
      {0xffffffff80000000ull, true},  // INT32_MIN, ten bytes
      {UINT64_MAX, true},             // -1
      {0x80000000u, false},           // 2^31
      {0xffffffffu, false},           // five bytes FF FF FF FF 0F: 2^32 - 1, not -1
      {(1ull << 32) + 101, false},
      {0xffffffff7fffffffull, false},  // INT32_MIN - 1
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(c.value);
    const std::string bytes = ok + Var(9, c.value);  // opt_b
    for (bool ask : {false, true}) {
      CheckedArena arena;
      upb_msg *msg = upb_msg_new(l, arena.arena());
      upb_decodeopts opts = {nullptr, nullptr, nullptr, ask};
      const bool decoded = upb_decode_ex(bytes.data(), bytes.size(), msg, l, arena.arena(), &opts);
      EXPECT_EQ(decoded, !ask || c.in_range);
      if (!decoded) EXPECT_EQ(opts.error_at, bytes.data() + ok.size());
    }
  }
  // upb_decode() is unchanged: the low 32 bits.
  const std::string bytes = Var(9, (1ull << 32) + 101);
  CheckedArena arena;
  EXPECT_TRUE(
      upb_decode(bytes.data(), bytes.size(), upb_msg_new(l, arena.arena()), l, arena.arena()));
}

}  // namespace
