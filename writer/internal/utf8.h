/* internal/utf8.h: makes arbitrary bytes valid UTF-8 for protobuf string fields.
 *
 * Every ill-formed sequence is replaced by one U+FFFD per *maximal subpart* (Unicode 15 §3.9,
 * "U+FFFD Substitution of Maximal Subparts", the practice the WHATWG Encoding standard requires):
 * a lead byte followed by the longest run of continuation bytes that could still begin a
 * well-formed sequence is one replacement; any other byte that cannot start a sequence is one
 * replacement. E.g. "61 F1 80 80 E1 80 C2 62 80 63 80 BF 64" -> "a\uFFFD\uFFFD\uFFFDb\uFFFDc
 * \uFFFD\uFFFDd" (Unicode Table 3-8).
 *
 * One departure: U+0000 is valid UTF-8 but protobuf-c strings are NUL-terminated C strings, so a
 * NUL byte would silently cut the string. It is replaced by U+FFFD and counted like an error.
 */
#ifndef ATF_WRITER_INTERNAL_UTF8_H_
#define ATF_WRITER_INTERNAL_UTF8_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Length (without the terminating NUL) of atf_utf8_sanitize()'s output for in[0..len).
 * At most 3 * len. */
size_t atf_utf8_sanitized_size(const uint8_t *in, size_t len);

/* Copies in[0..len) to out, replacing ill-formed subparts and NUL bytes by U+FFFD (EF BF BD), and
 * NUL-terminates it. Returns the number of replacements; *out_len (if not NULL) gets the length.
 * REQUIRES: out has atf_utf8_sanitized_size(in, len) + 1 bytes. */
size_t atf_utf8_sanitize(const uint8_t *in, size_t len, char *out, size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif /* ATF_WRITER_INTERNAL_UTF8_H_ */
