#include "validator/internal/utf8.h"

#include <string.h>

#define HIGH_BITS 0x8080808080808080ull

size_t atf_utf8_feed(atf_utf8_state *s, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (s->need == 0) {
      /* ASCII runs (symbols, paths, register names) eight bytes at a time. */
      uint64_t w;
      while (n - i >= 8 && (memcpy(&w, p + i, 8), (w & HIGH_BITS) == 0)) i += 8;
      if (i == n) break;
    }
    const uint8_t b = p[i];
    if (s->need > 0) {
      if (b < s->lo || b > s->hi) return i;
      s->need--;
      s->lo = 0x80;
      s->hi = 0xBF;
      continue;
    }
    if (b < 0x80) continue;
    if (b >= 0xC2 && b <= 0xDF) {
      s->need = 1;
    } else if (b == 0xE0) {
      s->need = 2, s->lo = 0xA0; /* no overlong 3-byte forms */
    } else if (b == 0xED) {
      s->need = 2, s->hi = 0x9F; /* no surrogates */
    } else if (b >= 0xE1 && b <= 0xEF) {
      s->need = 2;
    } else if (b == 0xF0) {
      s->need = 3, s->lo = 0x90; /* no overlong 4-byte forms */
    } else if (b >= 0xF1 && b <= 0xF3) {
      s->need = 3;
    } else if (b == 0xF4) {
      s->need = 3, s->hi = 0x8F; /* nothing above U+10FFFF */
    } else {
      return i; /* 0x80..0xC1 as a lead byte, or 0xF5..0xFF */
    }
  }
  return n;
}

bool atf_utf8_complete(const atf_utf8_state *s) { return s->need == 0; }
