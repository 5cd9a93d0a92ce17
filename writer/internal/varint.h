/* internal/varint.h: protobuf base-128 varints, canonical (shortest) form.
 *
 * The writer frames each Event as [varint length][Event bytes]; protobuf-c has its own varint code
 * but does not export it. (The fast path's branch-free encoder is writer/fastpath/fast_varint.h;
 * varint_test and varint_fuzzer check the two against each other.)
 */
#ifndef ATF_WRITER_INTERNAL_VARINT_H_
#define ATF_WRITER_INTERNAL_VARINT_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATF_VARINT_MAX_BYTES 10u

/* Bytes the canonical varint encoding of `v` takes (1..10). */
static inline size_t atf_varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80u) {
    v >>= 7;
    n++;
  }
  return n;
}

/* Writes the canonical varint encoding of `v` to out and returns its length (1..10). */
static inline size_t atf_varint_encode(uint64_t v, uint8_t out[ATF_VARINT_MAX_BYTES]) {
  size_t n = 0;
  while (v >= 0x80u) {
    out[n++] = (uint8_t)(v | 0x80u);
    v >>= 7;
  }
  out[n++] = (uint8_t)v;
  return n;
}

/* Reads a varint from p[0..len). Returns the bytes consumed, or 0 when the varint is incomplete
 * or longer than 10 bytes. Used on the writer's failure path to find record boundaries in its own
 * buffer, never on untrusted input. */
static inline size_t atf_varint_decode(const uint8_t *p, size_t len, uint64_t *v) {
  uint64_t x = 0;
  for (size_t i = 0; i < len && i < ATF_VARINT_MAX_BYTES; i++) {
    x |= (uint64_t)(p[i] & 0x7fu) << (7 * i);
    if ((p[i] & 0x80u) == 0) {
      *v = x;
      return i + 1;
    }
  }
  return 0;
}

#ifdef __cplusplus
}
#endif

#endif /* ATF_WRITER_INTERNAL_VARINT_H_ */
