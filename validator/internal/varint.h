/* The validator's one reader of protobuf base-128 varints from memory (docs/format.md, sections 2
 * and 3). Every varint the validator reads itself goes through here: the length prefixes
 * (framing, reader.c). The nanopb engine (decode.c) reads a record's varints through nanopb's
 * stream primitives and bounds what they accept with the same limits (ATF_VARINT32_BYTES).
 *
 * A varint holds 7 bits per byte, least significant group first; 0x80 says another byte follows.
 * A caller states how many bytes it allows and what the last allowed byte may hold, which bounds
 * the value: 10 bytes with a last byte <= 0x01 is any uint64 (length prefixes, varint fields);
 * 5 bytes with a last byte <= 0x0F is any uint32 (tags and lengths inside a record). */
#ifndef ATF_VALIDATOR_INTERNAL_VARINT_H_
#define ATF_VALIDATOR_INTERNAL_VARINT_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATF_VARINT64_BYTES 10u /* the longest varint: a uint64 */
#define ATF_VARINT64_LAST 0x01u
#define ATF_VARINT32_BYTES 5u /* a uint32: tags and lengths */
#define ATF_VARINT32_LAST 0x0Fu

typedef enum atf_varint_status {
  ATF_VARINT_OK = 0,
  ATF_VARINT_SHORT = 1, /* the input ends inside the varint (fewer than max_bytes bytes left) */
  ATF_VARINT_BAD = 2,   /* longer than max_bytes, or its last allowed byte above last_max */
} atf_varint_status;

/* Reads the varint at p[0, avail). On OK sets *out and *len (bytes read). */
static inline atf_varint_status atf_read_varint(const uint8_t *p, size_t avail, unsigned max_bytes,
                                                uint8_t last_max, uint64_t *out, unsigned *len) {
  if (avail > 0 && p[0] < 0x80) {
    *out = p[0];
    *len = 1;
    return ATF_VARINT_OK;
  }
  uint64_t v = 0;
  const size_t n = avail < max_bytes ? avail : max_bytes;
  for (unsigned i = 0; i < n; ++i) {
    const uint8_t b = p[i];
    if (i + 1 == max_bytes && b > last_max) return ATF_VARINT_BAD; /* too big, or an extra byte */
    v |= (uint64_t)(b & 0x7F) << (7 * i);
    if (b < 0x80) {
      *out = v;
      *len = i + 1;
      return ATF_VARINT_OK;
    }
  }
  return n == max_bytes ? ATF_VARINT_BAD : ATF_VARINT_SHORT;
}

/* The end of a uint64 varint in [p, end) whose value is not needed, or NULL when it is not a
 * complete valid one. Same rule as atf_read_varint(p, end - p, 10, 0x01), eight bytes at a time. */
static inline const uint8_t *atf_skip_varint(const uint8_t *p, const uint8_t *end) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (end - p >= 10) { /* the first byte without a continuation bit, eight at a time */
    uint64_t w;
    memcpy(&w, p, 8);
    const uint64_t stops = ~w & 0x8080808080808080ull;
    if (stops != 0) return p + __builtin_ctzll(stops) / 8 + 1;
    if (p[8] < 0x80) return p + 9;
    return p[9] <= ATF_VARINT64_LAST ? p + 10 : NULL;
  }
#endif
  uint64_t ignored;
  unsigned len;
  return atf_read_varint(p, (size_t)(end - p), ATF_VARINT64_BYTES, ATF_VARINT64_LAST, &ignored,
                         &len) == ATF_VARINT_OK
             ? p + len
             : NULL;
}

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ATF_VALIDATOR_INTERNAL_VARINT_H_ */
