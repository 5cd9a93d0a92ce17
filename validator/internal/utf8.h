/* Incremental UTF-8 validation (RFC 3629): bytes may arrive in chunks of any size, so a code point
 * can straddle two chunks. Rejects overlong forms, surrogates (U+D800..U+DFFF) and values above
 * U+10FFFF. */
#ifndef ATF_VALIDATOR_INTERNAL_UTF8_H_
#define ATF_VALIDATOR_INTERNAL_UTF8_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct atf_utf8_state {
  uint8_t need; /* continuation bytes still expected */
  uint8_t lo;   /* allowed range of the next continuation byte */
  uint8_t hi;
} atf_utf8_state;

#define ATF_UTF8_STATE_INIT \
  { 0, 0x80, 0xBF }

/* Feeds n bytes. Returns the index of the first byte that cannot continue a valid sequence, or n
 * when all bytes are acceptable so far. */
size_t atf_utf8_feed(atf_utf8_state *s, const uint8_t *p, size_t n);

/* True when no sequence is left incomplete (call after the last chunk). */
bool atf_utf8_complete(const atf_utf8_state *s);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ATF_VALIDATOR_INTERNAL_UTF8_H_ */
