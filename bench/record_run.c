/* record_run.c: see record_run.h.
 *
 * The record runs trace a recursion, as instrumented code does: 256 nested calls, then their 256
 * returns, over and over; the calls and the returns are timed apart, each block of 256 with the
 * monotonic clock (whose own cost is a fraction of a percent of a block), and a run's figure is the
 * median block: a block in which the thread was preempted (the machine is shared) does not count.
 * The ring is 64 MiB and warmed up (every page touched, then drained), so the run measures the
 * record path on resident memory, not the drain's speed or first-touch page faults; the drain
 * thread runs meanwhile, as in real use. The baseline copies the call's bytes (a 40-byte header, 6
 * registers, 128 stack bytes) into a warmed buffer of the same 64 MiB, front to back, as the ring
 * is written. The drop run uses a 4 KiB ring that the producer outruns: nearly every call fails to
 * reserve (and drops its subtree) and every return is then dropped with it.
 */
#define _GNU_SOURCE
#include "bench/record_run.h"

#include <stdlib.h>
#include <string.h>

#include "pipeline/atf/tracer.h"
#include "bench/baselines.h"
#include "bench/writer_run.h"

#define DEPTH 256
#define CALLS (DEPTH * 512) /* per run: 35 MB of records, inside the ring */
#define BIG_RING (64u << 20)
#define CALL_BYTES 216 /* 40 + 6 * 8 + 128 */

typedef struct timing {
  double call_ns, return_ns, drop_ns, drop_fraction;
  const char *clock;
} timing;

static int start(const char *dir, uint32_t ring_bytes, atf_tracer_clock clock, uint32_t *sym) {
  atf_tracer_options o;
  atf_tracer_options_init(&o);
  o.writer.output_root = dir;
  o.writer.collect_modules = 0;
  o.ring_bytes = ring_bytes;
  o.max_stack_bytes = 128;
  o.flush_interval_ns = 0;
  o.clock = clock;
  if (atf_tracer_start(&o) != ATF_TRACER_OK) return -1;
  return atf_tracer_symbol("bench", sym) == ATF_TRACER_OK ? 0 : -1;
}

static int cmp_u64(const void *a, const void *b) {
  const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static double median_block_ns(uint64_t *blocks, int n) {
  qsort(blocks, (size_t)n, sizeof *blocks, cmp_u64);
  return (double)blocks[n / 2] / DEPTH;
}

/* Calls and returns of a DEPTH-deep recursion, `rounds` times; stores each block's time of the
 * calls and of the returns (arrays of `rounds`, or NULL). */
static void recurse(uint32_t sym, int rounds, uint64_t *call_ns, uint64_t *return_ns) {
  uint64_t regs[6] = {1, 2, 3, 4, 5, 6};
  unsigned char stack[128];
  memset(stack, 0x5a, sizeof stack);
  for (int r = 0; r < rounds; r++) {
    const uint64_t t0 = bench_now_ns();
    for (int i = 0; i < DEPTH; i++) {
      regs[0] = (uint64_t)i;
      atf_tracer_record_call(sym, 0x401000, regs, 6, stack, sizeof stack);
    }
    const uint64_t t1 = bench_now_ns();
    for (int i = 0; i < DEPTH; i++) atf_tracer_record_return(sym, 0x401000, regs, 1);
    const uint64_t t2 = bench_now_ns();
    if (call_ns != NULL) call_ns[r] = t1 - t0;
    if (return_ns != NULL) return_ns[r] = t2 - t1;
  }
}

static int run_record(const char *dir, atf_tracer_clock clock, timing *out) {
  uint32_t sym;
  if (start(dir, BIG_RING, clock, &sym) != 0) return -1;
  static uint64_t call[CALLS / DEPTH], ret[CALLS / DEPTH];
  /* Warm-up: a little over the ring's worth of records, drained as it goes. */
  for (int lap = 0; lap < 6; lap++) {
    recurse(sym, BIG_RING / 4 / (DEPTH * (CALL_BYTES + 56)), NULL, NULL);
    atf_tracer_flush();
  }
  recurse(sym, CALLS / DEPTH, call, ret);
  atf_tracer_stats st;
  memset(&st, 0, sizeof st);
  atf_tracer_stop(0, &st);
  bench_remove_session(st.session_dir);
  if (st.dropped != 0) return -1; /* the measured run must not drop: it would not be this path */
  out->call_ns = median_block_ns(call, CALLS / DEPTH);
  out->return_ns = median_block_ns(ret, CALLS / DEPTH);
  out->clock = st.clock;
  return 0;
}

static int run_drop(const char *dir, timing *out) {
  uint32_t sym;
  if (start(dir, 4096, ATF_TRACER_CLOCK_AUTO, &sym) != 0) return -1;
  uint64_t regs[6] = {1, 2, 3, 4, 5, 6};
  unsigned char stack[128];
  memset(stack, 0x5a, sizeof stack);
  const uint64_t t0 = bench_now_ns();
  for (int i = 0; i < CALLS; i++) {
    atf_tracer_record_call(sym, 0x401000, regs, 6, stack, sizeof stack);
    atf_tracer_record_return(sym, 0x401000, regs, 1);
  }
  const uint64_t t1 = bench_now_ns();
  atf_tracer_stats st;
  memset(&st, 0, sizeof st);
  atf_tracer_stop(0, &st);
  bench_remove_session(st.session_dir);
  out->drop_ns = (double)(t1 - t0) / (2.0 * CALLS);
  out->drop_fraction = (double)st.dropped / (2.0 * CALLS);
  return 0;
}

static double run_memcpy(unsigned char *buf) {
  uint64_t regs[6] = {1, 2, 3, 4, 5, 6};
  unsigned char stack[128];
  unsigned char header[40];
  memset(stack, 0x5a, sizeof stack);
  memset(header, 1, sizeof header);
  static uint64_t blocks[CALLS / DEPTH];
  size_t off = 0;
  for (int b = 0; b < CALLS / DEPTH; b++) {
    const uint64_t t0 = bench_now_ns();
    for (int i = 0; i < DEPTH; i++) {
      if (off + CALL_BYTES > BIG_RING) off = 0;
      regs[0] = (uint64_t)i;
      memcpy(buf + off, header, sizeof header);
      memcpy(buf + off + 40, regs, sizeof regs);
      memcpy(buf + off + 88, stack, sizeof stack);
      __asm__ __volatile__("" : : "r"(buf) : "memory");
      off += CALL_BYTES;
    }
    blocks[b] = bench_now_ns() - t0;
  }
  return median_block_ns(blocks, CALLS / DEPTH);
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int bench_record(const char *dir, int reps, bench_record_result *out) {
  memset(out, 0, sizeof *out);
  if (reps < 1 || reps > 99) return -1;
  unsigned char *buf = malloc(BIG_RING);
  if (buf == NULL) return -1;
  memset(buf, 0, BIG_RING);
  double call[99], ret[99], mono[99], drop[99], frac[99], copy[99];
  const char *clock = "monotonic";
  for (int r = 0; r < reps; r++) {
    timing t, m, d;
    copy[r] = run_memcpy(buf);
    if (run_record(dir, ATF_TRACER_CLOCK_AUTO, &t) != 0 ||
        run_record(dir, ATF_TRACER_CLOCK_MONOTONIC, &m) != 0 || run_drop(dir, &d) != 0) {
      free(buf);
      return -1;
    }
    clock = t.clock;
    call[r] = t.call_ns;
    ret[r] = t.return_ns;
    mono[r] = m.call_ns;
    drop[r] = d.drop_ns;
    frac[r] = d.drop_fraction;
  }
  free(buf);
  out->record_ns = median(call, reps);
  out->record_return_ns = median(ret, reps);
  out->record_monotonic_ns = median(mono, reps);
  out->record_drop_ns = median(drop, reps);
  out->drop_fraction = median(frac, reps);
  out->record_memcpy_ns = median(copy, reps);
  out->clock = clock;
  return 0;
}
