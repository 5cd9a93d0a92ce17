// Canonical varints: lengths and bytes at every length boundary, and agreement with protobuf-c's
// own encoder (a uint64 field's value bytes).
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "atf_v4.pb-c.h"
#include "writer/internal/varint.h"

namespace {

std::vector<uint8_t> Encode(uint64_t v) {
  uint8_t out[ATF_VARINT_MAX_BYTES];
  size_t n = atf_varint_encode(v, out);
  EXPECT_EQ(n, atf_varint_size(v));
  return std::vector<uint8_t>(out, out + n);
}

TEST(Varint, EdgeCases) {
  using V = std::vector<uint8_t>;
  EXPECT_EQ(Encode(0), (V{0x00}));
  EXPECT_EQ(Encode(1), (V{0x01}));
  EXPECT_EQ(Encode(127), (V{0x7f}));
  EXPECT_EQ(Encode(128), (V{0x80, 0x01}));
  EXPECT_EQ(Encode(16383), (V{0xff, 0x7f}));
  EXPECT_EQ(Encode(16384), (V{0x80, 0x80, 0x01}));
  EXPECT_EQ(Encode(UINT32_MAX), (V{0xff, 0xff, 0xff, 0xff, 0x0f}));
  EXPECT_EQ(Encode(1ull << 63), (V{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}));
  EXPECT_EQ(Encode(UINT64_MAX), (V{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
}

TEST(Varint, SizeAtEveryBoundary) {
  for (unsigned bits = 1; bits <= 64; bits++) {
    const uint64_t top = bits == 64 ? UINT64_MAX : (1ull << bits) - 1;
    const size_t expected = (bits + 6) / 7;
    EXPECT_EQ(atf_varint_size(top), expected) << bits;
    if (bits < 64) EXPECT_EQ(atf_varint_size(top + 1), (bits + 7) / 7) << bits;
  }
}

TEST(Varint, DecodeRoundTripAndRejects) {
  for (uint64_t v : std::initializer_list<uint64_t>{0ull, 1ull, 127ull, 128ull, 16383ull, 16384ull,
                                                    4294967295ull, 1ull << 63, UINT64_MAX}) {
    std::vector<uint8_t> bytes = Encode(v);
    uint64_t back = 0;
    EXPECT_EQ(atf_varint_decode(bytes.data(), bytes.size(), &back), bytes.size());
    EXPECT_EQ(back, v);
    EXPECT_EQ(atf_varint_decode(bytes.data(), bytes.size() - 1, &back), 0u);  // incomplete
  }
  const uint8_t eleven[11] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  uint64_t v;
  EXPECT_EQ(atf_varint_decode(eleven, sizeof eleven, &v), 0u);
}

TEST(Varint, MatchesProtobufC) {
  // TraceEnd{exit_code} is too narrow (int32); an Event with only event_id set is "08 <varint>".
  for (uint64_t v : std::initializer_list<uint64_t>{1ull, 127ull, 128ull, 16383ull, 16384ull,
                                                    4294967295ull, 1ull << 63, UINT64_MAX}) {
    Atf__V4__Event ev = ATF__V4__EVENT__INIT;
    ev.event_id = v;
    uint8_t buf[16];
    size_t n = atf__v4__event__pack(&ev, buf);
    std::vector<uint8_t> expected = Encode(v);
    expected.insert(expected.begin(), 0x08);
    EXPECT_EQ(std::vector<uint8_t>(buf, buf + n), expected) << v;
  }
}

}  // namespace
