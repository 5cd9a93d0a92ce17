/* config.c: see config.h. */
#include "instrument/internal/config.h"

#include <stdio.h>
#include <string.h>

#include "writer/atf/ring_record.h"
#include "pipeline/atf/tracer.h"
#include "instrument/internal/compiler.h"

/* 1 for 1/on/yes/true, 0 for 0/off/no/false, -1 otherwise. */
ATF_NOINSTR static int parse_bool(const char *v) {
  static const char *const yes[] = {"1", "on", "yes", "true"};
  static const char *const no[] = {"0", "off", "no", "false"};
  for (size_t i = 0; i < 4; i++) {
    if (strcmp(v, yes[i]) == 0) return 1;
    if (strcmp(v, no[i]) == 0) return 0;
  }
  return -1;
}

/* A decimal integer with an optional K or M suffix (x1024, x1048576). 0 on success. */
ATF_NOINSTR static int parse_size(const char *v, uint64_t *out) {
  if (*v < '0' || *v > '9') return -1;
  uint64_t n = 0;
  for (; *v >= '0' && *v <= '9'; v++) {
    if (n > (UINT64_MAX - 9) / 10) return -1;
    n = n * 10 + (uint64_t)(*v - '0');
  }
  uint64_t mult = 1;
  if (*v == 'k' || *v == 'K')
    mult = 1024, v++;
  else if (*v == 'm' || *v == 'M')
    mult = 1024 * 1024, v++;
  if (*v != '\0' || n > UINT64_MAX / mult) return -1;
  *out = n * mult;
  return 0;
}

ATF_NOINSTR static int fail(char *err, size_t len, const char *name, const char *value,
                            const char *want) {
  snprintf(err, len, "%s='%s': %s", name, value, want);
  return -1;
}

/* Reads an integer variable in [lo, hi]; keeps *out when unset. */
ATF_NOINSTR static int read_int(atf_getenv_fn env, const char *name, uint64_t lo, uint64_t hi,
                                const char *want, uint64_t *out, char *err, size_t len) {
  const char *v = env(name);
  if (v == NULL || *v == '\0') return 0;
  uint64_t n;
  if (parse_size(v, &n) != 0 || n < lo || n > hi) return fail(err, len, name, v, want);
  *out = n;
  return 0;
}

ATF_NOINSTR static int read_bool(atf_getenv_fn env, const char *name, int *out, char *err,
                                 size_t len) {
  const char *v = env(name);
  if (v == NULL || *v == '\0') return 0;
  int b = parse_bool(v);
  if (b < 0) return fail(err, len, name, v, "expected 1/0, on/off, yes/no or true/false");
  *out = b;
  return 0;
}

ATF_NOINSTR static int read_numbers(atf_getenv_fn env, atf_instrument_config *c, char *err,
                                    size_t len) {
  uint64_t ring = c->ring_bytes, stack = c->stack_bytes, threads = c->max_threads;
  if (read_int(env, "ATF_RING_BYTES", 1024, 1u << 30,
               "expected a power of two from 1024 to 1G "
               "(K and M suffixes allowed)",
               &ring, err, len) != 0) {
    return -1;
  }
  if ((ring & (ring - 1)) != 0) {
    return fail(err, len, "ATF_RING_BYTES", env("ATF_RING_BYTES"), "not a power of two");
  }
  if (read_int(env, "ATF_STACK_BYTES", 0, ATF_RECORD_MAX_STACK, "expected 0 to 4096", &stack, err,
               len) != 0 ||
      read_int(env, "ATF_MAX_THREADS", 1, ATF_TRACER_MAX_THREADS_LIMIT, "expected 1 to 4096",
               &threads, err, len) != 0 ||
      read_int(env, "ATF_FLUSH_MS", 0, 86400000u, "expected milliseconds, 0 to 86400000",
               &c->flush_interval_ms, err, len) != 0) {
    return -1;
  }
  c->ring_bytes = (uint32_t)ring;
  c->stack_bytes = (uint32_t)stack;
  c->max_threads = (uint32_t)threads;
  return 0;
}

ATF_NOINSTR int atf_instrument_config_read(atf_getenv_fn env, atf_instrument_config *c, char *err,
                                           size_t len) {
  memset(c, 0, sizeof *c);
  c->enabled = 1;
  c->output_root = ATF_INSTRUMENT_DEFAULT_ROOT;
  c->ring_bytes = 1024u * 1024u;
  c->max_threads = 1024;
  c->flush_interval_ms = 100;
  if (len > 0) err[0] = '\0';
  if (read_bool(env, "ATF_TRACE", &c->enabled, err, len) != 0) return -1;
  if (!c->enabled) return 0; /* off: the other variables are not looked at */
  if (read_bool(env, "ATF_VERBOSE", &c->verbose, err, len) != 0) return -1;
  const char *v = env("ATF_OUTPUT_ROOT");
  if (v != NULL && *v != '\0') c->output_root = v;
  v = env("ATF_SESSION_LABEL");
  if (v != NULL && *v != '\0') c->session_label = v; /* the writer checks its characters */
  v = env("ATF_OVERFLOW");
  if (v != NULL && *v != '\0') {
    if (strcmp(v, "drop") == 0) {
      c->overflow_block = 0;
    } else if (strcmp(v, "block") == 0) {
      c->overflow_block = 1;
    } else {
      return fail(err, len, "ATF_OVERFLOW", v, "expected drop or block");
    }
  }
  v = env("ATF_PAGE_CACHE");
  if (v != NULL && *v != '\0') {
    if (strcmp(v, "window") == 0) {
      c->keep_page_cache = 0;
      c->direct_io = 0;
    } else if (strcmp(v, "keep") == 0) {
      c->keep_page_cache = 1;
      c->direct_io = 0;
    } else if (strcmp(v, "direct") == 0) {
      c->keep_page_cache = 0;
      c->direct_io = 1;
    } else {
      return fail(err, len, "ATF_PAGE_CACHE", v, "expected window, keep or direct");
    }
  }
  return read_numbers(env, c, err, len);
}
