// Fuzz target: the writer's varint encoders (the plain one, writer/internal/varint.h, and the fast
// path's branch-free one, writer/fastpath/fast_varint.h) and the validator's framing reader
// (validator/internal/reader.h), against a reference varint decoder written here from
// docs/format.md section 2 (at most 10 bytes, the 10th only 00 or 01).
//
// Every input is used twice:
//   1. as events.bin: the validator's framing walk must agree with the reference frame by frame
//      (status, length, prefix length, body offset), and where the reference reads a well-formed
//      varint the writer's decoder reads the same value and re-encoding it gives the canonical
//      bytes (equal to the input's unless the input padded the varint with 0x80 groups);
//   2. as a sequence of little-endian uint64 values, each also shifted right by 0..63 bits so
//      every encoded length 1..10 appears: encode -> size, canonical form, the fast path's two
//      encoders and its size function byte-identical to it (and writing nothing past 10 bytes),
//      decode by the writer,
//      decode by the validator's framing reader with the body present (OK) and one byte short
//      (truncated), and by the reference.
#include <cstdint>
#include <cstring>
#include <string>

#include "fuzz/event_decoders.h"
#include "writer/internal/varint.h"
#include "validator/internal/reader.h"
#include "writer/fastpath/fast_varint.h"

namespace {

enum RefStatus { kOk, kTooLong, kCut };

// Reference varint reader: p[0, n).
RefStatus RefVarint(const uint8_t *p, size_t n, uint64_t *v, size_t *used) {
  *v = 0;
  for (size_t i = 0; i < 10; ++i) {
    if (i == n) return kCut;
    if (i == 9 && p[i] > 1) return kTooLong;
    *v += static_cast<uint64_t>(p[i] & 0x7f) << (7 * i);
    if (p[i] < 0x80) {
      *used = i + 1;
      return kOk;
    }
  }
  return kTooLong;
}

void CheckFramingWalk(const uint8_t *data, size_t size) {
  atf_reader r;
  atf_reader_init_mem(&r, data, size);
  uint64_t off = 0;
  for (;;) {
    atf_frame f;
    const atf_frame_status st = atf_reader_frame(&r, off, &f);
    ATF_FUZZ_CHECK(f.offset == off);
    if (off == size) {
      ATF_FUZZ_CHECK(st == ATF_FRAME_END);
      break;
    }
    uint64_t v;
    size_t used = 0;
    const RefStatus ref = RefVarint(data + off, size - off, &v, &used);
    if (ref == kTooLong) {
      ATF_FUZZ_CHECK(st == ATF_FRAME_VARINT);
      break;
    }
    if (ref == kCut) {
      ATF_FUZZ_CHECK(st == ATF_FRAME_TRUNCATED && f.prefix_len == 0);
      break;
    }
    ATF_FUZZ_CHECK(f.prefix_len == used && f.length == v && f.body_offset == off + used);
    // The writer's decoder reads every well-formed varint the same way.
    uint64_t w = 0;
    ATF_FUZZ_CHECK(atf_varint_decode(data + off, size - off, &w) == used && w == v);
    // Canonical re-encoding: never longer; equal unless the input was padded.
    uint8_t enc[ATF_VARINT_MAX_BYTES];
    const size_t n = atf_varint_encode(v, enc);
    ATF_FUZZ_CHECK(n == atf_varint_size(v) && n <= used);
    const bool padded = used > 1 && data[off + used - 1] == 0;
    ATF_FUZZ_CHECK(padded ? n < used : (n == used && std::memcmp(enc, data + off, n) == 0));
    if (v > size - f.body_offset) {
      ATF_FUZZ_CHECK(st == ATF_FRAME_TRUNCATED);
      break;
    }
    ATF_FUZZ_CHECK(st == ATF_FRAME_OK);
    off = f.body_offset + v;
  }
  atf_reader_free(&r);
}

void CheckValue(uint64_t v) {
  uint8_t buf[ATF_VARINT_MAX_BYTES + 2];
  const size_t n = atf_varint_encode(v, buf);
  ATF_FUZZ_CHECK(n >= 1 && n <= ATF_VARINT_MAX_BYTES && n == atf_varint_size(v));
  // Canonical: continuation bits on all but the last byte, and no trailing zero group.
  for (size_t i = 0; i + 1 < n; ++i) ATF_FUZZ_CHECK(buf[i] & 0x80);
  ATF_FUZZ_CHECK(buf[n - 1] < 0x80 && (n == 1 || buf[n - 1] != 0));
  // Expected length from the value's bit width.
  const unsigned bits = v == 0 ? 1 : 64 - static_cast<unsigned>(__builtin_clzll(v));
  ATF_FUZZ_CHECK(n == (bits + 6) / 7);

  // The fast path's encoders: same size, same bytes; the branch-free one stores exactly ten bytes
  // (its documented contract) and nothing past them.
  ATF_FUZZ_CHECK(atf_fast_varint_size(v) == n);
  uint8_t fast[ATF_VARINT_MAX_BYTES + 6];
  std::memset(fast, 0xA5, sizeof fast);
  ATF_FUZZ_CHECK(atf_fast_put_varint_any(fast, v) == fast + n);
  ATF_FUZZ_CHECK(std::memcmp(fast, buf, n) == 0);
  for (size_t i = ATF_VARINT_MAX_BYTES; i < sizeof fast; ++i) ATF_FUZZ_CHECK(fast[i] == 0xA5);
  std::memset(fast, 0xA5, sizeof fast);
  ATF_FUZZ_CHECK(atf_fast_put_varint(fast, v) == fast + n);
  ATF_FUZZ_CHECK(std::memcmp(fast, buf, n) == 0 && fast[n] == 0xA5);

  uint64_t w = 0;
  ATF_FUZZ_CHECK(atf_varint_decode(buf, n, &w) == n && w == v);
  ATF_FUZZ_CHECK(atf_varint_decode(buf, n - 1, &w) == 0);  // one byte short: incomplete
  size_t used;
  ATF_FUZZ_CHECK(RefVarint(buf, n, &w, &used) == kOk && used == n && w == v);

  // As a length prefix: with the record present when it is small enough, and cut.
  atf_reader r;
  atf_frame f;
  if (v <= 2) {
    buf[n] = 0;
    buf[n + 1] = 0;
    atf_reader_init_mem(&r, buf, n + v);
    ATF_FUZZ_CHECK(atf_reader_frame(&r, 0, &f) == ATF_FRAME_OK && f.length == v &&
                   f.prefix_len == n && f.body_offset == n);
    atf_reader_free(&r);
  }
  atf_reader_init_mem(&r, buf, n);
  const atf_frame_status st = atf_reader_frame(&r, 0, &f);
  ATF_FUZZ_CHECK(v == 0 ? st == ATF_FRAME_OK : st == ATF_FRAME_TRUNCATED);
  ATF_FUZZ_CHECK(f.length == v && f.prefix_len == n);
  atf_reader_free(&r);
  if (n > 1) {  // the file ends inside the prefix
    atf_reader_init_mem(&r, buf, n - 1);
    ATF_FUZZ_CHECK(atf_reader_frame(&r, 0, &f) == ATF_FRAME_TRUNCATED && f.prefix_len == 0);
    atf_reader_free(&r);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  CheckFramingWalk(data, size);
  for (size_t i = 0; i + 8 <= size; i += 8) {
    uint64_t v = 0;
    for (int k = 7; k >= 0; --k) v = v << 8 | data[i + k];
    CheckValue(v);
    CheckValue(v >> (data[i] & 63));
    CheckValue(~v);
  }
  CheckValue(0);
  CheckValue(UINT64_MAX);
  return 0;
}
