/* record_benchmark: the cost of the traced thread's side of atf_tracer_record_call(), against a
 * speed-of-light baseline (the same bytes memcpy'd into a local buffer).
 *
 *   bazel run -c opt //pipeline:record_benchmark [-- EVENTS]
 *
 * The ring (64 MiB) is warmed up first (filled past one lap in chunks, drained in between) and
 * drained, then the measured burst fits in it, so the numbers are the record path itself
 * (timestamp, reservation, copy, release store) on resident memory, not the writer's speed or
 * first-touch page faults; a second run with a 4 KiB ring measures the drop path (ring full).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atf/tracer.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const char *label, uint32_t ring_bytes, uint64_t n) {
  char root[] = "/tmp/atf-record-benchmark-XXXXXX";
  if (mkdtemp(root) == NULL) return 1;
  atf_tracer_options o;
  atf_tracer_options_init(&o);
  o.writer.output_root = root;
  o.writer.collect_modules = 0;
  o.ring_bytes = ring_bytes;
  o.max_stack_bytes = 128;
  o.flush_interval_ns = 0;
  if (atf_tracer_start(&o) != ATF_TRACER_OK) return 1;
  uint32_t sym = 0;
  atf_tracer_symbol("bench", &sym);
  uint64_t regs[6] = {1, 2, 3, 4, 5, 6};
  unsigned char stack[128] = {0};
  uint64_t ok = 0;
  if (ring_bytes >= (1u << 20)) { /* warm-up: touch every page of the ring, then empty it */
    uint64_t chunk = ring_bytes / 216 / 4;
    for (int c = 0; c < 5; c++) {
      for (uint64_t i = 0; i < chunk; i++) {
        atf_tracer_record_call(sym, 0x1000, regs, 6, stack, sizeof stack);
      }
      atf_tracer_flush();
    }
  }
  double t0 = now_s();
  for (uint64_t i = 0; i < n; i++) {
    regs[0] = i;
    ok += atf_tracer_record_call(sym, 0x1000, regs, 6, stack, sizeof stack) == ATF_TRACER_OK;
  }
  double t1 = now_s();
  atf_tracer_stats st;
  memset(&st, 0, sizeof st);
  atf_tracer_stop(0, &st);
  printf("%-28s %8.1f ns/event  (%llu recorded, %llu dropped; drain+writer then took %.3f s)\n",
         label, (t1 - t0) * 1e9 / (double)n, (unsigned long long)ok,
         (unsigned long long)(n - ok), (double)st.elapsed_ns / 1e9 - (t1 - t0));
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  return system(cmd);
}

int main(int argc, char **argv) {
  uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 250000; /* 54 MB: fits the ring */
  /* Baseline: the record's bytes copied into a local buffer, nothing else. */
  static unsigned char sink[1 << 16];
  uint64_t regs[6] = {1, 2, 3, 4, 5, 6};
  unsigned char stack[128] = {0};
  double t0 = now_s();
  for (uint64_t i = 0; i < n; i++) {
    size_t off = (i * 216) & 0xFFFF & ~(size_t)7;
    if (off + 216 > sizeof sink) off = 0;
    regs[0] = i;
    memcpy(sink + off + 40, regs, sizeof regs);
    memcpy(sink + off + 88, stack, sizeof stack);
    __asm__ volatile("" : : "r"(sink) : "memory");
  }
  double t1 = now_s();
  printf("%-28s %8.1f ns/event\n", "baseline (memcpy only)", (t1 - t0) * 1e9 / (double)n);
  uint32_t big = 1u << 26;
  while ((uint64_t)big < n * 216 + (1u << 20) && big < (1u << 30)) big <<= 1;
  if (run("record_call (ring never full)", big, n) != 0) return 1;
  return run("record_call (ring full: drop)", 4096, n);
}
