/* A growable byte buffer with the JSON pieces the report writer and atf-dump need. */
#ifndef ATF_VALIDATOR_INTERNAL_JSON_WRITER_H_
#define ATF_VALIDATOR_INTERNAL_JSON_WRITER_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct atf_buf {
  char *data;
  size_t len, cap;
  bool oom; /* an append failed; later appends are ignored */
} atf_buf;

void atf_buf_free(atf_buf *b);
void atf_buf_clear(atf_buf *b);
void atf_buf_append(atf_buf *b, const void *data, size_t len);
void atf_buf_puts(atf_buf *b, const char *s);
void atf_buf_printf(atf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void atf_buf_u64(atf_buf *b, uint64_t v);
/* The bytes of a JSON string's contents (no quotes): '"', '\\', control characters and the line
 * separators U+2028 and U+2029 (which end a line in JavaScript) escaped; other bytes copied.
 * REQUIRES: valid UTF-8 in whole sequences (a piece of a longer string ends at a character
 * boundary). */
void atf_buf_json_chars(atf_buf *b, const void *data, size_t len);
/* A quoted JSON string. */
void atf_buf_json_string(atf_buf *b, const char *s);
void atf_buf_hex(atf_buf *b, const void *data, size_t len);
void atf_buf_base64(atf_buf *b, const void *data, size_t len);
/* Writes the buffer out; false on a write error or an earlier allocation failure. */
bool atf_buf_write(const atf_buf *b, FILE *out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ATF_VALIDATOR_INTERNAL_JSON_WRITER_H_ */
