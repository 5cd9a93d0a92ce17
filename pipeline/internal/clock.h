/* internal/clock.h: the tracer's timestamps, read on every event.
 *
 * What a timestamp means (every source): nanoseconds since the Unix epoch, taken as CLOCK_REALTIME
 * once at session start plus the time elapsed since then at CLOCK_MONOTONIC's rate. A step of the
 * wall clock during a session (settimeofday, an NTP step) therefore never reorders or jumps a
 * session's events; NTP's rate corrections are followed through CLOCK_MONOTONIC.
 *
 * Sources (the manifest's "clock" key names the one used):
 *   "tsc"        x86_64 whose TSC is invariant (CPUID 0x80000007 EDX bit 8): RDTSC, ~10 ns;
 *   "cntvct"     arm64 Linux: the generic timer's virtual count (CNTVCT_EL0), constant rate;
 *   "monotonic"  anywhere else, or when asked: clock_gettime(CLOCK_MONOTONIC) per event, ~26 ns.
 * A counter is turned into nanoseconds by a linear mapping (base count, base ns, ns per tick in
 * 32.32 fixed point) that readers take under a sequence lock, without a store or a fence. At start
 * the counter's rate is measured against CLOCK_MONOTONIC over ATF_CLOCK_CALIBRATE_NS (arm64: read
 * from CNTFRQ_EL0); afterwards atf_clock_anchor(), which the drain thread calls on each pass,
 * re-measures it every ATF_CLOCK_ANCHOR_NS over the whole session and republishes the mapping:
 * continuous at the anchor (never a jump) and with its rate corrected so that the accumulated
 * difference to CLOCK_MONOTONIC is worked off over ATF_CLOCK_SLEW_NS (the correction is capped
 * at ATF_CLOCK_MAX_SLEW_PPM). Successive reads by one thread can differ from perfect order only
 * around a re-anchoring, by at most the slew over the time that reader was held up between reading
 * the mapping and the counter (sub-nanosecond unless it was preempted right there): the tracer
 * clamps each thread's timestamps to be non-decreasing, so its events are always in order.
 *
 * Threads: atf_clock_start() and atf_clock_anchor() from one thread at a time (the tracer's
 * lifecycle and its drain thread); atf_clock_now() from any thread, including signal handlers
 * (async-signal-safe: a reader that keeps finding the mapping mid-update, e.g. a handler that
 * interrupted the anchoring thread, falls back to clock_gettime after a few tries).
 */
#ifndef ATF_PIPELINE_INTERNAL_CLOCK_H_
#define ATF_PIPELINE_INTERNAL_CLOCK_H_

#include <stdint.h>
#include <time.h>

#include "pipeline/internal/atomic.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ATF_CLOCK_CALIBRATE_NS 2000000u /* 2 ms at start (x86_64 TSC only) */
#define ATF_CLOCK_ANCHOR_NS 10000000u   /* re-anchor every 10 ms */
#define ATF_CLOCK_SLEW_NS 200000000u    /* work off a difference over 200 ms */
#define ATF_CLOCK_MAX_SLEW_PPM 500u

typedef enum atf_clock_source {
  ATF_CLOCK_MONOTONIC = 0,
  ATF_CLOCK_TSC = 1,
  ATF_CLOCK_CNTVCT = 2
} atf_clock_source;

/* The counter this host could use, or ATF_CLOCK_MONOTONIC when it has none that is invariant. */
atf_clock_source atf_clock_best_source(void);

/* Starts the session clock: samples CLOCK_REALTIME and CLOCK_MONOTONIC, and with a counter source
 * calibrates it. `use_counter` 0 forces ATF_CLOCK_MONOTONIC. Returns the source in use.
 * REQUIRES: no thread is reading the clock. */
atf_clock_source atf_clock_start(int use_counter);

/* The session time now (see the top of this file). Async-signal-safe. atf_clock_now() is inline
 * for C (it is on every event's path, below); atf_clock_read() is the same, out of line. */
uint64_t atf_clock_read(void);

/* Re-anchors the counter's mapping when ATF_CLOCK_ANCHOR_NS have passed since the last anchor;
 * otherwise returns at once. One thread at a time. */
void atf_clock_anchor(void);

/* "tsc", "cntvct" or "monotonic". */
const char *atf_clock_source_name(atf_clock_source source);

/* For tests: the current mapping's ns per counter tick (0 without a counter). */
double atf_clock_ns_per_tick(void);

/* ---- implementation of the reader ------------------------------------------------------------ */

/* The published mapping: ns = base_ns + ((count - base_count) * mult) >> 32, read under `seq`
 * (odd while the anchoring thread rewrites it). Alone on its cache line: it changes every
 * ATF_CLOCK_ANCHOR_NS, readers touch it on every event. */
typedef struct atf_clock_map {
  alignas(64) ATF_ATOMIC(uint32_t) seq;
  ATF_ATOMIC(uint32_t) source; /* atf_clock_source */
  ATF_ATOMIC(uint64_t) base_count;
  ATF_ATOMIC(uint64_t) base_ns;
  ATF_ATOMIC(uint64_t) mult;        /* ns per tick, 32.32 fixed point */
  ATF_ATOMIC(uint64_t) mono_offset; /* session time - CLOCK_MONOTONIC (mod 2^64) */
} atf_clock_map;

extern atf_clock_map atf_clock_g;

/* The fallback, and the "monotonic" source. */
uint64_t atf_clock_monotonic_now(void);

static inline uint64_t atf_clock_read_counter(void) {
#if defined(__x86_64__)
  uint32_t lo, hi;
  __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
  return (uint64_t)hi << 32 | lo;
#elif defined(__aarch64__)
  uint64_t v;
  __asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(v));
  return v;
#else
  return 0;
#endif
}

/* base_ns + (count - base_count) * mult / 2^32, for counts on either side of the base. */
static inline uint64_t atf_clock_map_count(uint64_t count, uint64_t base_count, uint64_t base_ns,
                                           uint64_t mult) {
  if (count >= base_count) {
    return base_ns + (uint64_t)(((unsigned __int128)(count - base_count) * mult) >> 32);
  }
  return base_ns - (uint64_t)(((unsigned __int128)(base_count - count) * mult) >> 32);
}

#ifndef __cplusplus
static inline uint64_t atf_clock_now(void) {
  atf_clock_map *m = &atf_clock_g;
  if (atomic_load_explicit(&m->source, memory_order_relaxed) != ATF_CLOCK_MONOTONIC) {
    for (int tries = 0; tries < 4; tries++) {
      const uint32_t s1 = atomic_load_explicit(&m->seq, memory_order_acquire);
      if (s1 & 1u) continue;
      const uint64_t base_count = atomic_load_explicit(&m->base_count, memory_order_relaxed);
      const uint64_t base_ns = atomic_load_explicit(&m->base_ns, memory_order_relaxed);
      const uint64_t mult = atomic_load_explicit(&m->mult, memory_order_relaxed);
      const uint64_t count = atf_clock_read_counter(); /* inside the window the check covers */
      atomic_thread_fence(memory_order_acquire);
      if (atomic_load_explicit(&m->seq, memory_order_relaxed) != s1) continue;
      return atf_clock_map_count(count, base_count, base_ns, mult);
    }
  }
  return atf_clock_monotonic_now();
}
#endif

#ifdef __cplusplus
}
#endif

#endif /* ATF_PIPELINE_INTERNAL_CLOCK_H_ */
