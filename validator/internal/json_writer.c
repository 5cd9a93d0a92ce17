#include "validator/internal/json_writer.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void atf_buf_free(atf_buf *b) {
  free(b->data);
  memset(b, 0, sizeof *b);
}

void atf_buf_clear(atf_buf *b) { b->len = 0; }

static bool reserve(atf_buf *b, size_t more) {
  if (b->oom) return false;
  if (b->cap - b->len >= more) return true;
  size_t cap = b->cap ? b->cap : 256;
  while (cap - b->len < more) {
    if (cap > SIZE_MAX / 2) {
      b->oom = true;
      return false;
    }
    cap *= 2;
  }
  char *p = realloc(b->data, cap);
  if (p ==
      NULL) { /* realloc failure below SIZE_MAX / 2: not reproducible in a test (ASan aborts) */
    b->oom = true;
    return false;
  }
  b->data = p;
  b->cap = cap;
  return true;
}

void atf_buf_append(atf_buf *b, const void *data, size_t len) {
  if (len == 0 || !reserve(b, len)) return;
  memcpy(b->data + b->len, data, len);
  b->len += len;
}

void atf_buf_puts(atf_buf *b, const char *s) { atf_buf_append(b, s, strlen(s)); }

void atf_buf_printf(atf_buf *b, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  const int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    atf_buf_append(b, small, (size_t)n);
    return;
  }
  if (!reserve(b, (size_t)n + 1)) return;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void atf_buf_u64(atf_buf *b, uint64_t v) { atf_buf_printf(b, "%" PRIu64, v); }

void atf_buf_json_chars(atf_buf *b, const void *data, size_t len) {
  const uint8_t *p = data;
  size_t run = 0; /* bytes copied as they are, flushed in one append */
  for (size_t i = 0; i < len; ++i) {
    const uint8_t c = p[i];
    /* U+2028 and U+2029 are valid in JSON strings but end a line in JavaScript: escaped too. */
    const bool separator =
        c == 0xE2 && len - i >= 3 && p[i + 1] == 0x80 && (p[i + 2] & 0xFE) == 0xA8;
    if (c >= 0x20 && c != '"' && c != '\\' && !separator) {
      run++;
      continue;
    }
    atf_buf_append(b, p + i - run, run);
    run = 0;
    switch (c) {
      case '"':
        atf_buf_puts(b, "\\\"");
        break;
      case '\\':
        atf_buf_puts(b, "\\\\");
        break;
      case '\n':
        atf_buf_puts(b, "\\n");
        break;
      case '\r':
        atf_buf_puts(b, "\\r");
        break;
      case '\t':
        atf_buf_puts(b, "\\t");
        break;
      case 0xE2:
        atf_buf_puts(b, p[i + 2] == 0xA8 ? "\\u2028" : "\\u2029");
        i += 2;
        break;
      default: {
        static const char kHex[] = "0123456789abcdef";
        const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
        atf_buf_append(b, esc, sizeof esc);
        break;
      }
    }
  }
  atf_buf_append(b, p + len - run, run);
}

void atf_buf_json_string(atf_buf *b, const char *s) {
  atf_buf_puts(b, "\"");
  atf_buf_json_chars(b, s, strlen(s));
  atf_buf_puts(b, "\"");
}

void atf_buf_hex(atf_buf *b, const void *data, size_t len) {
  static const char kDigits[] = "0123456789abcdef";
  const uint8_t *p = data;
  char out[512];
  size_t o = 0;
  for (size_t i = 0; i < len; ++i) {
    out[o++] = kDigits[p[i] >> 4];
    out[o++] = kDigits[p[i] & 15];
    if (o == sizeof out) atf_buf_append(b, out, o), o = 0;
  }
  atf_buf_append(b, out, o);
}

void atf_buf_base64(atf_buf *b, const void *data, size_t len) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const uint8_t *p = data;
  size_t i = 0;
  char out[4];
  for (; i + 3 <= len; i += 3) {
    const uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
    out[0] = kAlphabet[v >> 18], out[1] = kAlphabet[(v >> 12) & 63];
    out[2] = kAlphabet[(v >> 6) & 63], out[3] = kAlphabet[v & 63];
    atf_buf_append(b, out, 4);
  }
  if (i < len) {
    const uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);
    out[0] = kAlphabet[v >> 18], out[1] = kAlphabet[(v >> 12) & 63];
    out[2] = i + 1 < len ? kAlphabet[(v >> 6) & 63] : '=';
    out[3] = '=';
    atf_buf_append(b, out, 4);
  }
}

bool atf_buf_write(const atf_buf *b, FILE *out) {
  if (b->oom) return false;
  return b->len == 0 || fwrite(b->data, 1, b->len, out) == b->len;
}
