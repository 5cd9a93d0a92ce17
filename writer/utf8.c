/* UTF-8 sanitiser: see internal/utf8.h. */
#include "writer/internal/utf8.h"

#include <string.h>

/* Length of the sequence starting at p (n > 0 bytes available): the whole well-formed sequence
 * (*ok = 1) or its maximal subpart / the single bad byte (*ok = 0). Ranges are Unicode Table 3-7.
 */
static size_t next_sequence(const uint8_t *p, size_t n, int *ok) {
  const uint8_t b = p[0];
  if (b < 0x80u) {
    *ok = b != 0;
    return 1;
  }
  size_t need;
  uint8_t lo = 0x80u, hi = 0xBFu; /* allowed range of the second byte */
  if (b >= 0xC2u && b <= 0xDFu) {
    need = 1;
  } else if (b == 0xE0u) {
    need = 2, lo = 0xA0u;
  } else if ((b >= 0xE1u && b <= 0xECu) || b == 0xEEu || b == 0xEFu) {
    need = 2;
  } else if (b == 0xEDu) {
    need = 2, hi = 0x9Fu; /* no surrogates */
  } else if (b == 0xF0u) {
    need = 3, lo = 0x90u;
  } else if (b >= 0xF1u && b <= 0xF3u) {
    need = 3;
  } else if (b == 0xF4u) {
    need = 3, hi = 0x8Fu; /* nothing above U+10FFFF */
  } else {
    *ok = 0; /* 80..C1 and F5..FF never start a sequence */
    return 1;
  }
  for (size_t i = 1; i <= need; i++) {
    if (i >= n || p[i] < lo || p[i] > hi) {
      *ok = 0;
      return i;
    }
    lo = 0x80u, hi = 0xBFu;
  }
  *ok = 1;
  return need + 1;
}

size_t atf_utf8_sanitized_size(const uint8_t *in, size_t len) {
  size_t out = 0;
  for (size_t i = 0; i < len;) {
    int ok;
    size_t n = next_sequence(in + i, len - i, &ok);
    out += ok ? n : 3;
    i += n;
  }
  return out;
}

size_t atf_utf8_sanitize(const uint8_t *in, size_t len, char *out, size_t *out_len) {
  static const char kReplacement[3] = {(char)0xEF, (char)0xBF, (char)0xBD};
  size_t replacements = 0, o = 0;
  for (size_t i = 0; i < len;) {
    int ok;
    size_t n = next_sequence(in + i, len - i, &ok);
    if (ok) {
      memcpy(out + o, in + i, n);
      o += n;
    } else {
      memcpy(out + o, kReplacement, 3);
      o += 3;
      replacements++;
    }
    i += n;
  }
  out[o] = '\0';
  if (out_len != NULL) *out_len = o;
  return replacements;
}
