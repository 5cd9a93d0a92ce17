/* instrument_micro: the cost of one traced call in isolation. A loop calls an empty function N
 * times; built with -finstrument-functions and libatf_instrument.so (instrument_micro) and without
 * (instrument_micro_plain). Prints the loop's nanoseconds per iteration. bench/instrument_bench.py
 * runs it plain, with ATF_TRACE=0 (hooks called, tracing off) and traced into a ring that holds
 * every event, so that the difference is the hooks plus two tracer records per call, not the
 * writer's speed.
 *
 *   instrument_micro N
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

__attribute__((noinline)) void empty_function(void) { __asm__ volatile(""); }

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000000;
  if (n <= 0) return 2;
  empty_function(); /* the first call names the function; not timed */
  double t0 = now_ns();
  for (long i = 0; i < n; i++) empty_function();
  double t1 = now_ns();
  printf("%.3f\n", (t1 - t0) / (double)n);
  return 0;
}
