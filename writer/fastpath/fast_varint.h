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

/* Bytes the varint of `v` takes (1..10), from its bit width: no loop. */
static inline unsigned atf_fast_varint_size(uint64_t v) {
  return 1u + (unsigned)(63 - __builtin_clzll(v | 1u)) / 7u;
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
/* Continuation bits of the first eight bytes for a varint of 1..9+ bytes. */
static const uint64_t atf_fast_continuation[9] = {0,
                                                  0x80,
                                                  0x8080,
                                                  0x808080,
                                                  0x80808080,
                                                  0x8080808080,
                                                  0x808080808080,
                                                  0x80808080808080,
                                                  0x8080808080808080};

/* Varint of a value of any length without a data-dependent branch: register values and addresses
 * have every length, and a byte loop mispredicts on each. The low 56 bits are spread into eight
 * 7-bit groups with shifts and masks, continuation bits come from a table by length, and all ten
 * bytes are stored; only the first atf_fast_varint_size(v) of them count. Returns p + that size.
 * REQUIRES: 10 writable bytes at p (atf_fast_max_size allows 11 per varint field, so the extra
 * bytes stay inside the bound and are overwritten by what follows). */
static inline uint8_t *atf_fast_put_varint_any(uint8_t *p, uint64_t v) {
  const unsigned size = atf_fast_varint_size(v);
  uint64_t x = v & 0x00FFFFFFFFFFFFFFu;
  x = ((x & 0x00FFFFFFF0000000u) << 4) | (x & 0x000000000FFFFFFFu); /* 28-bit halves */
  x = ((x & 0x0FFFC0000FFFC000u) << 2) | (x & 0x00003FFF00003FFFu); /* 14-bit quarters */
  x = ((x & 0x3F803F803F803F80u) << 1) | (x & 0x007F007F007F007Fu); /* 7-bit groups */
  x |= atf_fast_continuation[size > 8 ? 8 : size - 1];
  memcpy(p, &x, 8);
  p[8] = (uint8_t)(((v >> 56) & 0x7Fu) | (size > 9 ? 0x80u : 0u));
  p[9] = (uint8_t)(v >> 63);
  return p + size;
}
#else
static inline uint8_t *atf_fast_put_varint_any(uint8_t *p, uint64_t v) {
  return atf_fast_put_varint(p, v);
}
#endif

#ifdef __cplusplus
}
#endif

#endif /* ATF_WRITER_FASTPATH_FAST_VARINT_H_ */
