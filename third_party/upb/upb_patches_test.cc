// Reproducers for the defects our patches (patches/*.patch) fix in upb 2019, one test group per
// patch file, named after it (0013 adds an API: its tests are upb_decode_options_test.cc). Each
// test fails, crashes or trips a sanitizer on the unpatched sources (third_party/upb/README.md says
// which under which build) and passes on the patched ones. Schema: testdata/upb_patches_test.proto,
// loaded from its descriptor set.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "third_party/upb/upb_testing.h"
#include "upb/decode.h"
extern "C" {  // this header of upb's has no extern "C" block of its own
#include "upb/legacy_msg_reflection.h"
}
#include "upb/msgfactory.h"
#include "upb_patches_test_descriptor_set.h"

namespace {

using upb_testing::CheckedArena;
using upb_testing::Len;
using upb_testing::Schema;
using upb_testing::Tag;
using upb_testing::Var;
using upb_testing::Varint;

class UpbPatches : public ::testing::Test {
 protected:
  UpbPatches() : schema_(upb_patches_test_descriptor_set, upb_patches_test_descriptor_set_size) {}
  void SetUp() override { ASSERT_EQ(schema_.error(), ""); }

  // Decodes `bytes` as upbtest.Outer into a message allocated from `arena`. The message's strings
  // point into the input, so the fixture keeps a copy.
  upb_msg *Decode(const std::string &bytes, CheckedArena *arena, bool *ok) {
    inputs_.push_back(bytes);
    const std::string &in = inputs_.back();
    const upb_msglayout *l = schema_.Layout("upbtest.Outer");
    upb_msg *msg = upb_msg_new(l, arena->arena());
    *ok = msg != nullptr && upb_decode(in.data(), in.size(), msg, l, arena->arena());
    return msg;
  }
  bool Decodes(const std::string &bytes) {
    CheckedArena arena;
    bool ok;
    Decode(bytes, &arena, &ok);
    EXPECT_TRUE(arena.CanariesIntact());
    return ok;
  }
  upb_msgval Get(const upb_msg *msg, const char *field, const char *message = "upbtest.Outer") {
    return upb_msg_get(msg, schema_.Index(message, field), schema_.Layout(message));
  }
  size_t UnknownLength(const upb_msg *msg) {
    size_t n = 0;
    upb_msg_getunknown(msg, &n);
    return n;
  }

  Schema schema_;
  std::deque<std::string> inputs_;
};

// ---- 0001-decode-start-group-on-non-group-field -------------------------------------------------

TEST_F(UpbPatches, StartGroupOnScalarFieldIsSkippedAsUnknown) {
  // Field 1 (an int32) sent as a group holding one varint: upb took the field's (unset) submessage
  // index and created a "group" through it (SIGSEGV). Protobuf skips it as an unknown field.
  const std::string bytes = Tag(1, 3) + Var(1, 1) + Tag(1, 4);
  ASSERT_EQ(bytes, std::string("\x0b\x08\x01\x0c", 4));
  CheckedArena arena;
  bool ok;
  upb_msg *msg = Decode(bytes, &arena, &ok);
  EXPECT_TRUE(ok);
  EXPECT_EQ(Get(msg, "scalar").i32, 0);
  EXPECT_EQ(UnknownLength(msg), bytes.size());
  EXPECT_TRUE(arena.CanariesIntact());
}

TEST_F(UpbPatches, StartGroupOnMessageAndRepeatedFieldsIsSkippedAsUnknown) {
  EXPECT_TRUE(Decodes(Tag(4, 3) + Var(1, 1) + Tag(4, 4)));    // optional Small child
  EXPECT_TRUE(Decodes(Tag(10, 3) + Var(1, 1) + Tag(10, 4)));  // repeated Small items
  EXPECT_TRUE(Decodes(Tag(11, 3) + Tag(11, 4)));              // optional string name
}

// ---- 0002-decode-oneof-submessage-per-member ----------------------------------------------------

TEST_F(UpbPatches, OneofMemberSwitchGetsItsOwnSubmessage) {
  // small (8 bytes) then big (6 fields): upb decoded big into the small's allocation (heap
  // overflow). The last member wins, in a submessage of its own type.
  const std::string big =
      Len(1, "one") + Len(2, "two") + Var(3, 3) + Var(4, 4) + Len(5, "five") + Len(6, "six");
  CheckedArena arena;
  bool ok;
  upb_msg *msg = Decode(Len(2, Var(1, 7)) + Len(3, big), &arena, &ok);
  ASSERT_TRUE(arena.CanariesIntact()) << "a write ran past its allocation";
  ASSERT_TRUE(ok);
  const upb_msg *b = Get(msg, "big").msg;
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(std::string(Get(b, "s6", "upbtest.Big").str.data, Get(b, "s6", "upbtest.Big").str.size),
            "six");
  EXPECT_EQ(Get(b, "u4", "upbtest.Big").u64, 4u);
  EXPECT_EQ(Get(b, "s1", "upbtest.Big").str.size, 3u);
}

TEST_F(UpbPatches, SameOneofMemberTwiceMerges) {
  CheckedArena arena;
  bool ok;
  upb_msg *msg = Decode(Len(3, Var(3, 3)) + Len(3, Var(4, 4)), &arena, &ok);
  ASSERT_TRUE(ok);
  const upb_msg *b = Get(msg, "big").msg;
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(Get(b, "u3", "upbtest.Big").u64, 3u);
  EXPECT_EQ(Get(b, "u4", "upbtest.Big").u64, 4u);
  EXPECT_TRUE(arena.CanariesIntact());
}

// ---- 0003-decode-submessage-errors --------------------------------------------------------------

TEST_F(UpbPatches, ErrorInsideSubmessageFailsTheParse) {
  // child = {a: <varint cut off>}: upb ignored the submessage's failure and went on after it.
  EXPECT_FALSE(Decodes(Len(4, "\x08")));
  EXPECT_FALSE(Decodes(Len(4, "\x08") + Var(8, 1)));
  EXPECT_FALSE(Decodes(Len(10, Len(1, "x") + "\x12")));   // items[0]: a length cut off
  EXPECT_FALSE(Decodes(Tag(5, 3) + "\x30" + Tag(5, 4)));  // group G: x's varint is its end tag
  EXPECT_TRUE(Decodes(Len(4, Var(1, 5))));
}

// ---- 0004-decode-groups -------------------------------------------------------------------------

TEST_F(UpbPatches, ValidUnknownGroupIsSkippedAndKept) {
  // Field 20 is unknown: upb never noticed the group's end tag and rejected every unknown group.
  const std::string group = Tag(20, 3) + Var(1, 1) + Len(2, "x") + Tag(20, 4);
  CheckedArena arena;
  bool ok;
  upb_msg *msg = Decode(group + Var(8, 9), &arena, &ok);
  EXPECT_TRUE(ok);
  EXPECT_EQ(UnknownLength(msg), group.size());
  EXPECT_EQ(Get(msg, "opt_a").i32, 9);
}

TEST_F(UpbPatches, KnownGroupDecodes) {
  CheckedArena arena;
  bool ok;
  upb_msg *msg = Decode(Tag(5, 3) + Var(6, 7) + Tag(5, 4) + Var(8, 1), &arena, &ok);
  ASSERT_TRUE(ok);
  const upb_msg *g = Get(msg, "g").msg;
  ASSERT_NE(g, nullptr);
  EXPECT_EQ(Get(g, "x", "upbtest.Outer.G").i32, 7);
  EXPECT_EQ(Get(msg, "opt_a").i32, 1);
}

TEST_F(UpbPatches, MismatchedOrStrayGroupEndsAreRejected) {
  EXPECT_FALSE(Decodes(Tag(5, 3) + Var(6, 7) + Tag(6, 4)));    // G closed by field 6's end tag
  EXPECT_FALSE(Decodes(Tag(20, 3) + Var(1, 1) + Tag(21, 4)));  // unknown group, wrong end
  EXPECT_FALSE(Decodes(Tag(20, 3) + Var(1, 1)));               // unknown group never closed
  EXPECT_FALSE(Decodes(Var(8, 1) + Tag(8, 4)));                // an end tag outside any group
  EXPECT_FALSE(Decodes(Len(4, Tag(1, 4))));                    // ... inside a submessage
}

// ---- 0005-decode-unknown-group-depth ------------------------------------------------------------

TEST_F(UpbPatches, DeeplyNestedUnknownGroupsAreRejectedNotRecursedInto) {
  // One million nested unknown groups: upb recursed once per level (stack overflow).
  std::string open, close;
  for (int i = 0; i < 1000000; ++i) open += Tag(20, 3);
  EXPECT_FALSE(Decodes(open));
  // Nesting within upb's depth limit (64, as for submessages) still decodes.
  open.clear();
  for (int i = 0; i < 30; ++i) {
    open += Tag(20, 3);
    close += Tag(20, 4);
  }
  EXPECT_TRUE(Decodes(open + close));
}

// ---- 0006-msgfactory-map-entry-layouts ----------------------------------------------------------

TEST_F(UpbPatches, MapFieldGetsALayoutAndDecodesAsEntries) {
  // upb_msgfactory_getlayout asserted !upb_msgdef_mapentry() for any message with a map field.
  const upb_msglayout *l = schema_.Layout("upbtest.WithMap");
  ASSERT_NE(l, nullptr);
  CheckedArena arena;
  upb_msg *msg = upb_msg_new(l, arena.arena());
  const std::string bytes = Len(1, Len(1, "k") + Var(2, 5)) + Len(1, Len(1, "j"));
  ASSERT_TRUE(upb_decode(bytes.data(), bytes.size(), msg, l, arena.arena()));
  const upb_array *entries = upb_msg_get(msg, schema_.Index("upbtest.WithMap", "counts"), l).arr;
  ASSERT_NE(entries, nullptr);
  ASSERT_EQ(upb_array_size(entries), 2u);
  const upb_msgdef *entry_def =
      upb_fielddef_msgsubdef(upb_msgdef_ntofz(schema_.Message("upbtest.WithMap"), "counts"));
  const upb_msglayout *el = schema_.Layout(entry_def);
  const upb_msg *e0 = upb_array_get(entries, UPB_TYPE_MESSAGE, 0).msg;
  const upb_msg *e1 = upb_array_get(entries, UPB_TYPE_MESSAGE, 1).msg;
  const int key = static_cast<int>(upb_fielddef_index(upb_msgdef_ntofz(entry_def, "key")));
  const int value = static_cast<int>(upb_fielddef_index(upb_msgdef_ntofz(entry_def, "value")));
  EXPECT_EQ(std::string(upb_msg_get(e0, key, el).str.data, upb_msg_get(e0, key, el).str.size), "k");
  EXPECT_EQ(upb_msg_get(e0, value, el).u64, 5u);
  EXPECT_EQ(upb_msg_get(e1, value, el).u64, 0u);
  EXPECT_TRUE(arena.CanariesIntact());
}

// ---- 0007-def-memcpy-null -----------------------------------------------------------------------

TEST(UpbPatchesNoFixture, SchemaLoadsWithoutUndefinedBehaviour) {
  // def.c gave every string field without an explicit default an empty default with
  // memcpy(dst, NULL, 0), which C leaves undefined; UBSan (--config=asan) stops here on the
  // unpatched sources. Loading a schema with a string field is enough.
  Schema schema(upb_patches_test_descriptor_set, upb_patches_test_descriptor_set_size);
  EXPECT_EQ(schema.error(), "");
}

// ---- 0008-msgfactory-free-layouts ---------------------------------------------------------------

namespace counting {
long live = 0;
upb_alloc_func *real = nullptr;
void *Alloc(upb_alloc *alloc, void *ptr, size_t oldsize, size_t size) {
  if (ptr == nullptr && size > 0) live++;
  if (ptr != nullptr && size == 0) live--;
  return real(alloc, ptr, oldsize, size);
}
}  // namespace counting

TEST(UpbPatchesNoFixture, MsgfactoryFreesEveryLayout) {
  // upb_msglayout_free freed the layout but not its field and submessage arrays. upb's global
  // allocator is a struct with a function pointer: count what goes through it.
  counting::real = upb_alloc_global.func;
  upb_alloc_global.func = counting::Alloc;
  counting::live = 0;
  {
    Schema schema(upb_patches_test_descriptor_set, upb_patches_test_descriptor_set_size);
    ASSERT_EQ(schema.error(), "");
    ASSERT_NE(schema.Layout("upbtest.Outer"), nullptr);
    ASSERT_NE(schema.Layout("upbtest.WithMap"), nullptr);
  }
  upb_alloc_global.func = counting::real;
  EXPECT_EQ(counting::live, 0) << "allocations not freed";
}

// ---- 0009-hasbits -------------------------------------------------------------------------------

TEST_F(UpbPatches, HasbitsSayWhichFieldsArePresent) {
  // msgfactory numbered has-bits from 0, which upb reads as "no presence" (the first optional
  // field's bit was never set and upb_msg_has asserted), and upb_msg_has tested with `|`, so every
  // field looked present.
  CheckedArena arena;
  bool ok;
  upb_msg *msg = Decode(Var(8, 5) + Var(1, 0), &arena, &ok);
  ASSERT_TRUE(ok);
  const upb_msglayout *l = schema_.Layout("upbtest.Outer");
  EXPECT_TRUE(upb_msg_has(msg, schema_.Index("upbtest.Outer", "scalar"), l));  // present, value 0
  EXPECT_TRUE(upb_msg_has(msg, schema_.Index("upbtest.Outer", "opt_a"), l));
  EXPECT_FALSE(upb_msg_has(msg, schema_.Index("upbtest.Outer", "opt_b"), l));
  EXPECT_FALSE(upb_msg_has(msg, schema_.Index("upbtest.Outer", "flag"), l));
  EXPECT_FALSE(upb_msg_has(msg, schema_.Index("upbtest.Outer", "real"), l));
  EXPECT_FALSE(upb_msg_has(msg, schema_.Index("upbtest.Outer", "name"), l));
  EXPECT_TRUE(arena.CanariesIntact());
}

// ---- 0010-decode-out-of-memory ------------------------------------------------------------------

TEST_F(UpbPatches, AllocationFailuresFailTheParse) {
  // upb_msg_addunknown copied through the NULL a failed realloc returned; upb_addmsg dropped a
  // failed append. Every budget below what the message needs must fail cleanly.
  std::string bytes;
  for (int i = 0; i < 20; ++i) bytes += Var(30 + i, i) + Len(10, Var(1, i)) + Len(11, "name");
  bytes +=
      Tag(20, 3) + Var(1, 1) + Tag(20, 4) + Len(13, Varint(1) + Varint(300)) + Len(12, "abcdefgh");
  size_t needed = 0;
  for (size_t limit = 0; limit < 100000; limit += 8) {
    CheckedArena arena(limit);
    bool ok;
    Decode(bytes, &arena, &ok);
    EXPECT_TRUE(arena.CanariesIntact());
    if (ok) {
      EXPECT_EQ(arena.refused(), 0u) << "a refused allocation was ignored at limit " << limit;
      needed = limit;
      break;
    }
  }
  EXPECT_GT(needed, 0u);
}

// ---- 0011-decode-strict-varints -----------------------------------------------------------------

TEST_F(UpbPatches, TagsLongerThanFiveBytesAreRejected) {
  EXPECT_FALSE(
      Decodes(std::string("\x88\x80\x80\x80\x80\x00\x01", 7)));       // field 1 padded to 6 bytes
  EXPECT_TRUE(Decodes(std::string("\x88\x80\x80\x80\x00\x01", 6)));   // 5 bytes
  EXPECT_FALSE(Decodes(std::string("\xf8\xff\xff\xff\x10\x01", 6)));  // 5 bytes, above 2^32-1
}

TEST_F(UpbPatches, LengthsLongerThanFiveBytesAreRejected) {
  EXPECT_FALSE(Decodes(Tag(11, 2) + std::string("\x80\x80\x80\x80\x80\x00", 6)));
  EXPECT_TRUE(Decodes(Tag(11, 2) + std::string("\x80\x80\x80\x80\x00", 5)));
}

TEST_F(UpbPatches, VarintsOverflowingSixtyFourBitsAreRejected) {
  const std::string nine(9, '\xff');
  EXPECT_TRUE(Decodes(Tag(1, 0) + nine + "\x01"));    // 2^64-1: the 10th byte holds bit 63
  EXPECT_FALSE(Decodes(Tag(1, 0) + nine + "\x02"));   // bit 64
  EXPECT_FALSE(Decodes(Tag(99, 0) + nine + "\x7f"));  // also when skipping an unknown field
  EXPECT_FALSE(Decodes(Len(13, nine + "\x03")));      // and inside a packed field
  EXPECT_FALSE(Decodes(Tag(1, 0) + std::string(10, '\x80') + "\x01"));  // 11 bytes
}

// ---- 0012-decode-empty-packed-field -------------------------------------------------------------

TEST_F(UpbPatches, EmptyPackedFieldDecodes) {
  // An empty packed fixed32 field (length 0): upb asked its array for room for 0 elements, got the
  // NULL of an array without storage and failed as if out of memory.
  EXPECT_TRUE(Decodes(Len(12, "")));
  EXPECT_TRUE(Decodes(Len(13, "")));
  CheckedArena arena;
  bool ok;
  upb_msg *msg = Decode(Len(12, "") + Len(12, "abcdefgh") + Len(12, ""), &arena, &ok);
  ASSERT_TRUE(ok);
  const upb_array *a = Get(msg, "packed_fixed").arr;
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(upb_array_size(a), 2u);
}

// ---- 0014-decode-empty-input --------------------------------------------------------------------

TEST_F(UpbPatches, EmptyInputWithoutBufferDecodes) {
  // upb_decode(NULL, 0): upb computed NULL + 0, undefined in C (UBSan: "applying zero offset to
  // null pointer"). An empty message is valid.
  CheckedArena arena;
  const upb_msglayout *l = schema_.Layout("upbtest.Outer");
  upb_msg *msg = upb_msg_new(l, arena.arena());
  EXPECT_TRUE(upb_decode(nullptr, 0, msg, l, arena.arena()));
}

// ---- 0017-arena-inline-allocation --------------------------------------------------------------

TEST(UpbPatchesNoFixture, ArenaRefusesSizesThatWouldWrap) {
  // upb rounded a size up to 16 before checking it: SIZE_MAX became 0 and came back as a pointer
  // into the block; a size near it wrapped when the block header was added, and upb wrote a
  // 32-byte header into the small block it got (ASan: heap-buffer-overflow). Such sizes fail.
  for (size_t size : {SIZE_MAX, SIZE_MAX - 15, SIZE_MAX - 40, SIZE_MAX / 2 + 1}) {
    upb_arena *a = upb_arena_new();
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(upb_arena_malloc(a, size), nullptr) << size;
    void *small = upb_arena_malloc(a, 8);
    ASSERT_NE(small, nullptr);
    EXPECT_EQ(upb_arena_realloc(a, small, 8, size), nullptr) << size;
    upb_arena_free(a);
  }
}

TEST(UpbPatchesNoFixture, ArenaBumpAllocationsAreAlignedDisjointAndCounted) {
  // The inline bump (upb.h) and the function it falls back to: every allocation 16-aligned, inside
  // a block, disjoint from the others, counted by upb_arena_bytesallocated; a fixed arena (no
  // block allocator) fails when full; size 0 gets NULL. Each allocation is filled, so ASan sees
  // one that overlaps the arena's own header at the end of the block.
  alignas(16) static unsigned char block[2048];
  upb_arena *fixed = upb_arena_init(block, sizeof block, nullptr);
  upb_arena *growing = upb_arena_new();
  for (upb_arena *a : {fixed, growing}) {
    std::vector<std::pair<unsigned char *, size_t>> got;
    size_t total = 0;
    EXPECT_EQ(upb_arena_malloc(a, 0), nullptr);
    if (a == fixed) EXPECT_EQ(upb_arena_malloc(a, sizeof block), nullptr);  // more than it holds
    for (size_t i = 0; i < 3000; ++i) {
      // Now and then more than a block of the growing arena (a block of its own).
      const size_t size = i % 41 + 1 + (a == growing && i % 97 == 0 ? 20000 : 0);
      auto *p = static_cast<unsigned char *>(upb_arena_malloc(a, size));
      if (p == nullptr) break;
      EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
      memset(p, static_cast<int>(got.size() & 0xff), size);
      got.emplace_back(p, size);
      total += (size + 15) / 16 * 16;
    }
    EXPECT_EQ(upb_arena_bytesallocated(a), total);
    for (size_t i = 0; i < got.size(); ++i) {  // nothing overwrote an earlier allocation
      for (size_t k = 0; k < got[i].second; ++k) {
        ASSERT_EQ(got[i].first[k], static_cast<unsigned char>(i & 0xff)) << i;
      }
    }
    if (a == fixed) {
      EXPECT_GT(got.size(), 10u);
      EXPECT_LT(got.size(), 3000u);  // it filled up
      for (const auto &g : got) {
        EXPECT_GE(g.first, block);
        EXPECT_LE(g.first + g.second, block + sizeof block);
      }
    } else {
      EXPECT_EQ(got.size(), 3000u);
    }
  }
  upb_arena_free(fixed);
  upb_arena_free(growing);
}

TEST_F(UpbPatches, NonArenaAllocatorIsStillCalledForEveryAllocation) {
  // A upb_alloc passed as the arena (CheckedArena) is not a upb_arena: the inline bump must not
  // touch it. Outer, its array of items and the array's storage, three Smalls, child: 7 blocks.
  CheckedArena arena;
  bool ok;
  upb_msg *msg =
      Decode(Len(10, Var(1, 1)) + Len(10, Var(1, 2)) + Len(4, Var(1, 3)) + Len(10, Var(1, 4)),
             &arena, &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(upb_array_size(Get(msg, "items").arr), 3u);
  EXPECT_EQ(arena.allocations(), 7u);
  EXPECT_TRUE(arena.CanariesIntact());
}

// ---- 0018-msgfactory-field-lookup -------------------------------------------------------------

TEST_F(UpbPatches, LookupTableNamesEveryFieldAndNoOther) {
  // A speed patch: upb_msgfactory's layouts get a table of fields by number, which the decoder
  // reads instead of searching. Each entry must name the field with that number, and every field
  // below the table's end must be in it. Sparse's largest number (100000) is beyond the bound: no
  // table, the decoder searches.
  for (const char *name : {"upbtest.Outer", "upbtest.Small", "upbtest.Big", "upbtest.WithMap",
                           "upbtest.Sparse", "upbtest.Outer.G", "upbtest.Outer.RG"}) {
    const upb_msglayout *l = schema_.Layout(name);
    ASSERT_NE(l, nullptr) << name;
    size_t listed = 0, below = 0;
    for (uint32_t n = 0; n < l->lookup_count; ++n) {
      if (l->lookup[n] == 0) continue;
      ASSERT_LE(l->lookup[n], l->field_count) << name << " " << n;
      EXPECT_EQ(l->fields[l->lookup[n] - 1].number, n) << name;
      listed++;
    }
    for (int i = 0; i < l->field_count; ++i) below += l->fields[i].number < l->lookup_count;
    EXPECT_EQ(listed, below) << name;
    if (std::string(name) == "upbtest.Sparse") {
      EXPECT_EQ(l->lookup_count, 0u);
      EXPECT_EQ(l->lookup, nullptr);
    } else {
      EXPECT_EQ(listed, static_cast<size_t>(l->field_count)) << name;
    }
  }
  EXPECT_EQ(schema_.Layout("upbtest.Outer")->lookup_count, 18u);  // fields 1 .. 17
}

TEST_F(UpbPatches, FieldsAroundTheLookupTableDecode) {
  // Known fields by the table, numbers in its gaps and beyond its end kept as unknown; a message
  // without a table (Sparse) searched as before.
  const std::string unknown_outer = Var(6, 1) + Var(7, 2) + Var(18, 3) + Var(1000, 4);
  CheckedArena arena;
  bool ok;
  upb_msg *msg = Decode(Var(1, 11) + Var(6, 1) + Len(4, Var(1, 12)) + Var(7, 2) + Var(9, 13) +
                            Var(18, 3) + Len(11, "n") + Var(1000, 4) + Var(15, 1),
                        &arena, &ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(Get(msg, "scalar").i32, 11);
  EXPECT_EQ(Get(Get(msg, "child").msg, "a", "upbtest.Small").i32, 12);
  EXPECT_EQ(Get(msg, "opt_b").i32, 13);
  EXPECT_EQ(Get(msg, "name").str.size, 1u);
  EXPECT_TRUE(Get(msg, "flag").b);
  EXPECT_EQ(UnknownLength(msg), unknown_outer.size());

  const std::string sparse =
      Var(1, 1) + Var(2, 9) + Len(7, Var(1, 2)) + Len(300, "xyz") + Var(99999, 9) + Var(100000, 7);
  inputs_.push_back(sparse);
  const upb_msglayout *l = schema_.Layout("upbtest.Sparse");
  upb_msg *s = upb_msg_new(l, arena.arena());
  ASSERT_TRUE(upb_decode(inputs_.back().data(), inputs_.back().size(), s, l, arena.arena()));
  EXPECT_EQ(Get(s, "one", "upbtest.Sparse").i32, 1);
  EXPECT_EQ(Get(Get(s, "sub", "upbtest.Sparse").msg, "a", "upbtest.Small").i32, 2);
  EXPECT_EQ(Get(s, "text", "upbtest.Sparse").str.size, 3u);
  EXPECT_EQ(Get(s, "far", "upbtest.Sparse").u64, 7u);
  EXPECT_EQ(UnknownLength(s), (Var(2, 9) + Var(99999, 9)).size());
  EXPECT_TRUE(arena.CanariesIntact());
}

// ---- 0019-decode-varint-word --------------------------------------------------------------------

// A varint of `bytes` bytes for v (at least its minimal length): padded with redundant 0x80 bytes.
std::string PaddedVarint(uint64_t v, size_t bytes) {
  std::string out;
  for (size_t i = 0; i + 1 < bytes; ++i) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
  return out;
}

TEST_F(UpbPatches, VarintsDecodeAlikeWithAndWithoutEightBytesLeft) {
  // A speed patch: a varint with eight bytes of its field left is read with one 8-byte load (up
  // to 8 bytes long), others byte by byte. Every value and length, minimal and padded, at every
  // distance from the end of a packed field (so both ways), decodes to the same value.
  std::vector<uint64_t> values = {0, 1, 127, 128, 300, UINT64_MAX, UINT64_MAX - 1};
  for (int bit = 0; bit < 64; ++bit) {
    values.push_back(uint64_t{1} << bit);
    values.push_back((uint64_t{1} << bit) - 1);
    values.push_back((uint64_t{1} << bit) | 0x5555555555555555ull >> (63 - bit));
  }
  for (uint64_t v : values) {
    size_t minimal = 1;
    while (minimal < 10 && (v >> (7 * minimal)) != 0) ++minimal;
    for (size_t bytes = minimal; bytes <= 10; ++bytes) {
      const std::string enc = PaddedVarint(v, bytes);
      for (size_t after = 0; after <= 9; ++after) {
        CheckedArena arena;
        bool ok;
        upb_msg *msg = Decode(Len(13, enc + std::string(after, '\x01')) + Var(1, 7), &arena, &ok);
        ASSERT_TRUE(ok) << v << " " << bytes << " " << after;
        const upb_array *a = Get(msg, "packed_varint").arr;
        ASSERT_EQ(upb_array_size(a), after + 1);
        EXPECT_EQ(upb_array_get(a, UPB_TYPE_INT64, 0).u64, v) << bytes << " " << after;
        for (size_t i = 1; i <= after; ++i) EXPECT_EQ(upb_array_get(a, UPB_TYPE_INT64, i).i64, 1);
        EXPECT_EQ(Get(msg, "scalar").i32, 7);
      }
    }
  }
}

TEST_F(UpbPatches, BadVarintsAreRejectedWithAndWithoutEightBytesLeft) {
  // What patch 0011 rejects, now also where eight bytes of the field are left (fields follow).
  const std::string more = Var(1, 1) + Var(8, 2) + Var(9, 3) + Var(15, 1);
  ASSERT_GE(more.size(), 8u);
  for (const std::string &tail : {std::string(), more}) {
    EXPECT_FALSE(Decodes(std::string("\x88\x80\x80\x80\x80\x00\x01", 7) + tail));  // 6-byte tag
    EXPECT_TRUE(Decodes(std::string("\x88\x80\x80\x80\x00\x01", 6) + tail));       // 5 bytes
    EXPECT_FALSE(Decodes(std::string("\xf8\xff\xff\xff\x10\x01", 6) + tail));      // above 2^32-1
    EXPECT_FALSE(Decodes(Tag(11, 2) + std::string("\x80\x80\x80\x80\x80\x00", 6) + tail));
    EXPECT_FALSE(Decodes(Tag(1, 0) + std::string(9, '\xff') + "\x02" + tail));   // bit 64
    EXPECT_FALSE(Decodes(Tag(1, 0) + std::string(10, '\x80') + "\x01" + tail));  // 11 bytes
    EXPECT_TRUE(Decodes(Tag(1, 0) + std::string(9, '\xff') + "\x01" + tail));    // 2^64-1
  }
  // A varint that runs past the end of its packed field, with more input after the field.
  EXPECT_FALSE(Decodes(Len(13, std::string(9, '\x81')) + more));
  EXPECT_FALSE(Decodes(Len(13, "\x01" + std::string(3, '\x81')) + more));
  EXPECT_FALSE(Decodes(Len(13, std::string(8, '\x81')) + "\x01" + more));
}

// ---- 0020-decode-one-byte-tags-and-lengths ------------------------------------------------------

TEST_F(UpbPatches, OneByteLengthsAreCheckedAgainstTheirMessage) {
  // A speed patch: a one-byte tag or length skips the checks a longer one needs; a length must
  // still fit what is left of its (sub)message, not of the whole input.
  for (size_t len = 0; len < 128; ++len) {
    SCOPED_TRACE(len);
    CheckedArena arena;
    bool ok;
    upb_msg *msg = Decode(Len(11, std::string(len, 'a')) + Var(1, 5), &arena, &ok);
    ASSERT_TRUE(ok);
    EXPECT_EQ(Get(msg, "name").str.size, len);
    EXPECT_EQ(Get(msg, "scalar").i32, 5);
    // Inside child (Small), an unknown field 2 of `len` bytes: whole, and one byte short with
    // enough input after the child for it.
    const std::string field = Tag(2, 2) + static_cast<char>(len) + std::string(len, 'b');
    EXPECT_TRUE(Decodes(Len(4, field) + Var(1, 5)));
    if (len > 0) {
      EXPECT_FALSE(Decodes(Len(4, field.substr(0, field.size() - 1)) + Var(1, 5) + Var(1, 5)));
      EXPECT_FALSE(Decodes(Tag(11, 2) + static_cast<char>(len) + std::string(len - 1, 'a')));
    }
  }
  EXPECT_FALSE(Decodes(Len(4, Tag(1, 0)) + Var(1, 5)));  // a tag whose value is past the child
  EXPECT_FALSE(Decodes(Tag(11, 2)));                     // a tag whose length is past the input
  EXPECT_FALSE(Decodes(Len(4, Tag(2, 2)) + "\x01a"));    // a length past the child
}

}  // namespace
