/* internal/clock.c: see clock.h. */
#include "pipeline/internal/clock.h"

#include <math.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

atf_clock_map atf_clock_g;

/* Anchoring state: the thread that calls atf_clock_start / atf_clock_anchor owns it. */
static struct {
  uint64_t cal_count, cal_mono; /* the first sample: rates are measured from here */
  uint64_t last_anchor_mono;
} g_anchor;

static uint64_t read_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t atf_clock_monotonic_now(void) {
  return read_ns(CLOCK_MONOTONIC) +
         atomic_load_explicit(&atf_clock_g.mono_offset, memory_order_relaxed);
}

uint64_t atf_clock_read(void) { return atf_clock_now(); }

atf_clock_source atf_clock_best_source(void) {
#if defined(__x86_64__)
  unsigned a, b, c, d;
  if (__get_cpuid(0x80000000u, &a, &b, &c, &d) && a >= 0x80000007u &&
      __get_cpuid(0x80000007u, &a, &b, &c, &d) && (d & (1u << 8)) != 0) {
    return ATF_CLOCK_TSC;
  }
  return ATF_CLOCK_MONOTONIC;
#elif defined(__aarch64__) && defined(__linux__)
  return ATF_CLOCK_CNTVCT;
#else
  return ATF_CLOCK_MONOTONIC;
#endif
}

const char *atf_clock_source_name(atf_clock_source source) {
  switch (source) {
    case ATF_CLOCK_TSC:
      return "tsc";
    case ATF_CLOCK_CNTVCT:
      return "cntvct";
    default:
      return "monotonic";
  }
}

/* A (counter, CLOCK_MONOTONIC) pair read as close together as possible: the best of a few tries
 * by the counter ticks the monotonic read took. */
static void sample(uint64_t *count, uint64_t *mono) {
  uint64_t best = UINT64_MAX;
  for (int i = 0; i < 5; i++) {
    const uint64_t c1 = atf_clock_read_counter();
    const uint64_t m = read_ns(CLOCK_MONOTONIC);
    const uint64_t c2 = atf_clock_read_counter();
    if (c2 >= c1 && c2 - c1 < best) {
      best = c2 - c1;
      *count = c1 + (c2 - c1) / 2;
      *mono = m;
    }
  }
}

/* ns per tick in 32.32 fixed point from a span of `ticks` ticks lasting `ns`. */
static uint64_t mult_of(uint64_t ns, uint64_t ticks) {
  return ticks == 0 ? 0 : (uint64_t)(((unsigned __int128)ns << 32) / ticks);
}

static void publish(uint64_t base_count, uint64_t base_ns, uint64_t mult) {
  atf_clock_map *m = &atf_clock_g;
  const uint32_t seq = atomic_load_explicit(&m->seq, memory_order_relaxed);
  atomic_store_explicit(&m->seq, seq + 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  atomic_store_explicit(&m->base_count, base_count, memory_order_relaxed);
  atomic_store_explicit(&m->base_ns, base_ns, memory_order_relaxed);
  atomic_store_explicit(&m->mult, mult, memory_order_relaxed);
  atomic_store_explicit(&m->seq, seq + 2, memory_order_release);
}

atf_clock_source atf_clock_start(int use_counter) {
  atf_clock_map *m = &atf_clock_g;
  atomic_store_explicit(&m->source, ATF_CLOCK_MONOTONIC, memory_order_relaxed);
  /* CLOCK_REALTIME once, between two monotonic reads. */
  const uint64_t m1 = read_ns(CLOCK_MONOTONIC);
  const uint64_t real = read_ns(CLOCK_REALTIME);
  const uint64_t m2 = read_ns(CLOCK_MONOTONIC);
  const uint64_t offset = real - (m1 + (m2 - m1) / 2);
  atomic_store_explicit(&m->mono_offset, offset, memory_order_relaxed);
  atf_clock_source source = use_counter ? atf_clock_best_source() : ATF_CLOCK_MONOTONIC;
  if (source == ATF_CLOCK_MONOTONIC) return source;

  uint64_t c0 = 0, mono0 = 0, c1 = 0, mono1 = 0, mult = 0;
  sample(&c0, &mono0);
#if defined(__aarch64__)
  uint64_t freq;
  __asm__ __volatile__("mrs %0, cntfrq_el0" : "=r"(freq));
  mult = freq == 0 ? 0 : (uint64_t)(((unsigned __int128)1000000000u << 32) / freq);
  c1 = c0, mono1 = mono0;
#else
  do {
    sample(&c1, &mono1);
  } while (mono1 - mono0 < ATF_CLOCK_CALIBRATE_NS);
  mult = c1 > c0 ? mult_of(mono1 - mono0, c1 - c0) : 0;
#endif
  if (mult == 0) return ATF_CLOCK_MONOTONIC; /* a counter that does not count */
  g_anchor.cal_count = c0;
  g_anchor.cal_mono = mono0;
  g_anchor.last_anchor_mono = mono1;
  publish(c1, mono1 + offset, mult);
  atomic_store_explicit(&m->source, source, memory_order_release);
  return source;
}

void atf_clock_anchor(void) {
  atf_clock_map *m = &atf_clock_g;
  if (atomic_load_explicit(&m->source, memory_order_relaxed) == ATF_CLOCK_MONOTONIC) return;
  if (read_ns(CLOCK_MONOTONIC) - g_anchor.last_anchor_mono < ATF_CLOCK_ANCHOR_NS) return;
  uint64_t count = 0, mono = 0;
  sample(&count, &mono);
  if (count <= g_anchor.cal_count) return; /* the counter went back: keep the mapping */
  g_anchor.last_anchor_mono = mono;
  const uint64_t mult = atomic_load_explicit(&m->mult, memory_order_relaxed);
  const uint64_t at =
      atf_clock_map_count(count, atomic_load_explicit(&m->base_count, memory_order_relaxed),
                          atomic_load_explicit(&m->base_ns, memory_order_relaxed), mult);
  const uint64_t target = mono + atomic_load_explicit(&m->mono_offset, memory_order_relaxed);
  const int64_t ahead = (int64_t)(at - target); /* > 0: the mapping runs ahead of the target */
  /* The rate over the whole session so far, corrected to work off `ahead` over ATF_CLOCK_SLEW_NS.
   */
  const double rate = (double)mult_of(mono - g_anchor.cal_mono, count - g_anchor.cal_count);
  double slew = -(double)ahead / (double)ATF_CLOCK_SLEW_NS;
  const double cap = ATF_CLOCK_MAX_SLEW_PPM * 1e-6;
  if (slew > cap) slew = cap;
  if (slew < -cap) slew = -cap;
  uint64_t base_ns = at;
  if (ahead < -(int64_t)ATF_CLOCK_ANCHOR_NS) base_ns = target; /* far behind: catch up (forward) */
  publish(count, base_ns, (uint64_t)llround(rate * (1.0 + slew)));
}

double atf_clock_ns_per_tick(void) {
  if (atomic_load_explicit(&atf_clock_g.source, memory_order_relaxed) == ATF_CLOCK_MONOTONIC) {
    return 0;
  }
  return (double)atomic_load_explicit(&atf_clock_g.mult, memory_order_relaxed) / 4294967296.0;
}
