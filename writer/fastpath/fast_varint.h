/* fast_varint.h: the varint primitives of the single-pass encoder (fast_encode.c).
 *
 * Kept in a header of their own so that the varint fuzz target (fuzz/varint_fuzzer.cc) and the
 * unit test check them directly, for every value length, against the writer's plain encoder
 * (writer/internal/varint.h) and the validator's framing reader, instead of only through whole
 * events. Everything here is canonical (shortest-form) protobuf base-128.
 */
#ifndef ATF_WRITER_FASTPATH_FAST_VARINT_H_
#define ATF_WRITER_FASTPATH_FAST_VARINT_H_

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes the varint of `v` takes (1..10), from its bit width: no loop, no division.
 * ceil(bits / 7) for bits = log2(v|1) + 1 is (log2 * 9 + 73) / 64 for every log2 in 0..63 (the
 * unit test checks each). */
static inline unsigned atf_fast_varint_size(uint64_t v) {
  return ((unsigned)(63 - __builtin_clzll(v | 1u)) * 9u + 73u) >> 6;
}

/* Writes the varint of `v` byte by byte; returns the end. For lengths and small values. */
static inline uint8_t *atf_fast_put_varint(uint8_t *p, uint64_t v) {
  while (v >= 0x80u) {
    *p++ = (uint8_t)(v | 0x80u);
    v >>= 7;
  }
  *p++ = (uint8_t)v;
  return p;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Continuation bits of the first eight bytes for a varint of `size` (index 1..10) bytes. */
static const uint64_t atf_fast_continuation[11] = {0,
                                                   0,
                                                   0x80,
                                                   0x8080,
                                                   0x808080,
                                                   0x80808080,
                                                   0x8080808080,
                                                   0x808080808080,
                                                   0x80808080808080,
                                                   0x8080808080808080,
                                                   0x8080808080808080};

/* Bytes 8 and 9 of a 10-byte store of v: bits 56..62 with a continuation bit when bit 63 is set
 * (a 10-byte varint), then bit 63; that is the top byte t and t >> 7, stored together. */
static inline void atf_fast_put_varint_top(uint8_t *p, uint64_t v) {
  const uint32_t top = (uint32_t)(v >> 56);
  const uint16_t last = (uint16_t)(top | (top & 0x80u) << 1);
  memcpy(p + 8, &last, 2);
}

/* Varint of a value of any length without a data-dependent branch; `size` must be
 * atf_fast_varint_size(v) (callers that need the size anyway compute it once): register values and
 * addresses have every length, and a byte loop mispredicts on each. The low 56 bits are spread into
 * eight 7-bit groups with shifts and masks, continuation bits come from a table by length, and all
 * ten bytes are stored; only the first atf_fast_varint_size(v) of them count. Returns p + that
 * size. REQUIRES: 10 writable bytes at p (atf_fast_max_size allows 11 per varint field, so the
 * extra bytes stay inside the bound and are overwritten by what follows). */
static inline uint8_t *atf_fast_put_varint_sized(uint8_t *p, uint64_t v, unsigned size) {
  uint64_t x = v & 0x00FFFFFFFFFFFFFFu;
  x = ((x & 0x00FFFFFFF0000000u) << 4) | (x & 0x000000000FFFFFFFu); /* 28-bit halves */
  x = ((x & 0x0FFFC0000FFFC000u) << 2) | (x & 0x00003FFF00003FFFu); /* 14-bit quarters */
  x = ((x & 0x3F803F803F803F80u) << 1) | (x & 0x007F007F007F007Fu); /* 7-bit groups */
  x |= atf_fast_continuation[size];
  memcpy(p, &x, 8);
  atf_fast_put_varint_top(p, v);
  return p + size;
}
#else
static inline uint8_t *atf_fast_put_varint_sized(uint8_t *p, uint64_t v, unsigned size) {
  (void)size;
  return atf_fast_put_varint(p, v);
}
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ATF_FAST_HAVE_PDEP 1
#include <immintrin.h>
/* atf_fast_put_varint_sized with BMI2's PDEP spreading the low 56 bits into eight 7-bit groups in
 * one instruction instead of six shifts and masks. Only where PDEP is fast (atf_fast_pdep_usable in
 * fast_encode.h); a caller compiled for the generic target never inlines it (target attribute). */
__attribute__((target("bmi2"))) static inline uint8_t *atf_fast_put_varint_sized_pdep(
    uint8_t *p, uint64_t v, unsigned size) {
  uint64_t x = _pdep_u64(v, 0x7F7F7F7F7F7F7F7Fu) | atf_fast_continuation[size];
  memcpy(p, &x, 8);
  atf_fast_put_varint_top(p, v);
  return p + size;
}
#else
#define ATF_FAST_HAVE_PDEP 0
#endif

/* atf_fast_put_varint_sized with the size computed here. Same REQUIRES (10 writable bytes). */
static inline uint8_t *atf_fast_put_varint_any(uint8_t *p, uint64_t v) {
  return atf_fast_put_varint_sized(p, v, atf_fast_varint_size(v));
}

/* The varint of `v` in exactly `width` bytes, where width == atf_fast_varint_size(v) (so it is
 * canonical): for a length whose width was known before the value (fast_encode.c). */
static inline void atf_fast_put_varint_width(uint8_t *p, uint64_t v, unsigned width) {
  if (width == 2) { /* the common cases without a loop */
    p[0] = (uint8_t)(v | 0x80u);
    p[1] = (uint8_t)(v >> 7);
    return;
  }
  for (unsigned i = 1; i < width; ++i) {
    *p++ = (uint8_t)(v | 0x80u);
    v >>= 7;
  }
  *p = (uint8_t)v;
}

#ifdef __cplusplus
}
#endif

#endif /* ATF_WRITER_FASTPATH_FAST_VARINT_H_ */
