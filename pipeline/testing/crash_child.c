/* crash_child: the process crash_test kills. Traces two producer threads and reports, on stdout,
 * the flush points the tracer acknowledged:
 *   DIR <session dir>
 *   ACK <tid> <seq> <tid> <seq>     after atf_tracer_flush() returned OK: each thread's calls
 *                                   with sequence numbers 0..seq are durable (each call is
 *                                   followed by its return)
 *   DONE                            after atf_tracer_stop() returned OK
 * Each producer numbers only the events the tracer accepted (a dropped event's number is reused),
 * so the durable sequence numbers of a thread are exactly 0..seq.
 *
 * It runs until its standard input reaches end of file (or reads a line), then stops the session
 * cleanly; it never ends on its own, so a test that kills it after some progress always kills it.
 *
 *   crash_child OUTPUT_ROOT LABEL
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "pipeline/atf/tracer.h"

#define PRODUCERS 2

static atomic_int g_stop;
static _Atomic int64_t g_last_ok[PRODUCERS];
static atomic_int g_tid[PRODUCERS];
static uint32_t g_sym;

static void *produce(void *arg) {
  int i = (int)(intptr_t)arg;
  atomic_store(&g_tid[i], (int)syscall(SYS_gettid));
  unsigned char stack[32];
  memset(stack, i, sizeof stack);
  for (int64_t seq = 0; !atomic_load(&g_stop);) {
    uint64_t regs[6] = {(uint64_t)seq, (uint64_t)i, 0, 0, 0, 0};
    /* A call and its return (a dropped call takes its return with it). */
    atf_tracer_status st = atf_tracer_record_call(g_sym, 0x1000, regs, 6, stack, sizeof stack);
    atf_tracer_record_return(g_sym, 0x1000, regs, 1);
    if (st == ATF_TRACER_OK) {
      atomic_store_explicit(&g_last_ok[i], seq, memory_order_release);
      seq++;
    } else {
      usleep(100);
    }
    if (seq % 16 == 0) usleep(500); /* ~30k events/s per thread: small sessions, many flushes */
  }
  return NULL;
}

static void sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

/* True once standard input has a line or is at end of file. */
static int told_to_stop(void) {
  struct pollfd p = {0, POLLIN, 0};
  if (poll(&p, 1, 0) <= 0) return 0;
  char c;
  return read(0, &c, 1) >= 0; /* 0 = EOF, 1 = a byte: either way, stop */
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: crash_child OUTPUT_ROOT LABEL\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  atf_tracer_options o;
  atf_tracer_options_init(&o);
  o.writer.output_root = argv[1];
  o.writer.session_label = argv[2];
  o.writer.collect_modules = 0;
  o.ring_bytes = 256 * 1024;
  o.flush_interval_ns = 2000000; /* the drain also flushes on its own every 2 ms */
  o.idle_sleep_ns = 200000;
  if (atf_tracer_start(&o) != ATF_TRACER_OK) return 1;
  atf_tracer_symbol("produce", &g_sym);
  printf("DIR %s\n", atf_tracer_session_dir());
  for (int i = 0; i < PRODUCERS; i++) atomic_store(&g_last_ok[i], -1);
  pthread_t threads[PRODUCERS];
  for (int i = 0; i < PRODUCERS; i++)
    pthread_create(&threads[i], NULL, produce, (void *)(intptr_t)i);
  unsigned seed = (unsigned)getpid();
  while (!told_to_stop()) {
    sleep_us(300 + (long)(rand_r(&seed) % 2000));
    int64_t seq[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++) {
      seq[i] = atomic_load_explicit(&g_last_ok[i], memory_order_acquire);
    }
    if (atf_tracer_flush() != ATF_TRACER_OK) return 1;
    printf("ACK %d %lld %d %lld\n", atomic_load(&g_tid[0]), (long long)seq[0],
           atomic_load(&g_tid[1]), (long long)seq[1]);
  }
  atomic_store(&g_stop, 1);
  for (int i = 0; i < PRODUCERS; i++) pthread_join(threads[i], NULL);
  if (atf_tracer_stop(0, NULL) != ATF_TRACER_OK) return 1;
  printf("DONE\n");
  return 0;
}
