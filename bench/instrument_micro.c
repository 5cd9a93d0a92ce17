/* instrument_micro: the cost of one traced call in isolation. A loop calls an empty function N
 * times; built with -finstrument-functions and libatf_instrument.so (instrument_micro) and without
 * (instrument_micro_plain). Prints the timed loop's nanoseconds per iteration.
 *
 *   instrument_micro N [WARMUP SLEEP_MS]
 *
 * bench/instrument_bench.py runs it plain, with ATF_TRACE=0 (hooks called, tracing off) and traced
 * into a ring that holds the N calls' events, so the difference is the two hooks and two tracer
 * records of a call, not the writer's speed. As in writer_bench's record section, the ring is
 * warmed up first: WARMUP calls (enough to touch every page of the ring once), then SLEEP_MS for
 * the drain to empty it, so the timed loop writes into resident memory rather than paying
 * first-touch page faults.
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
  long warmup = argc > 2 ? atol(argv[2]) : 0;
  long sleep_ms = argc > 3 ? atol(argv[3]) : 0;
  if (n <= 0 || warmup < 0 || sleep_ms < 0) return 2;
  empty_function(); /* the first call names the function; not timed */
  for (long i = 0; i < warmup; i++) empty_function();
  struct timespec pause = {sleep_ms / 1000, (sleep_ms % 1000) * 1000000L};
  nanosleep(&pause, NULL);
  double t0 = now_ns();
  for (long i = 0; i < n; i++) empty_function();
  double t1 = now_ns();
  printf("%.3f\n", (t1 - t0) / (double)n);
  return 0;
}
