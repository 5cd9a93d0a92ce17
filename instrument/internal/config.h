/* config.h: the instrument library's settings, read from the environment once, at start.
 *
 * Every variable is optional; instrument/README.md lists them with their defaults. A value that
 * does not parse is an error (the library then traces nothing and says why on stderr) rather than
 * a silent fallback to a setting the user did not ask for.
 */
#ifndef ATF_INSTRUMENT_INTERNAL_CONFIG_H_
#define ATF_INSTRUMENT_INTERNAL_CONFIG_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATF_INSTRUMENT_DEFAULT_ROOT "./atf-out"

typedef struct atf_instrument_config {
  int enabled;                /* ATF_TRACE: 1 (default) or 0 */
  const char *output_root;    /* ATF_OUTPUT_ROOT, default ./atf-out (points into the environment) */
  const char *session_label;  /* ATF_SESSION_LABEL, default none: session_<date>_<time> */
  uint32_t ring_bytes;        /* ATF_RING_BYTES: power of two >= 1024; default 1 MiB */
  int overflow_block;         /* ATF_OVERFLOW: drop (0, default) or block (1) */
  int keep_page_cache;        /* ATF_PAGE_CACHE: window (0, default) or keep (1) */
  int direct_io;              /* ATF_PAGE_CACHE=direct: 1 (O_DIRECT, the writer's direct_io) */
  uint32_t stack_bytes;       /* ATF_STACK_BYTES: 0 (default) .. 4096 */
  uint32_t max_threads;       /* ATF_MAX_THREADS: 1 .. 4096, default 1024 */
  uint64_t flush_interval_ms; /* ATF_FLUSH_MS: default 100; 0 = only at exit */
  int verbose; /* ATF_VERBOSE: 1 prints the session and its counts on stderr at exit */
} atf_instrument_config;

typedef const char *(*atf_getenv_fn)(const char *name);

/* Fills `c` from `getenv_fn` (getenv in the library; tests pass their own). Returns 0, or -1 with
 * a one-line reason naming the variable and its value in err[0, err_len). */
int atf_instrument_config_read(atf_getenv_fn getenv_fn, atf_instrument_config *c, char *err,
                               size_t err_len);

#ifdef __cplusplus
}
#endif

#endif /* ATF_INSTRUMENT_INTERNAL_CONFIG_H_ */
