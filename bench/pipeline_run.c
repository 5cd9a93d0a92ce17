#define _GNU_SOURCE
#include "bench/pipeline_run.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipeline/atf/tracer.h"
#include "bench/baselines.h"
#include "bench/mix.h"
#include "bench/writer_run.h"
#include "validator/atf/validate.h"

typedef struct producer_arg {
  uint64_t events;        /* at most this many (then the walk returns to depth 0) */
  const atomic_int *stop; /* or until this is set */
  uint32_t symbols[BENCH_SYMBOLS];
  uint64_t seed;
} producer_arg;

static void *producer(void *p) {
  producer_arg *a = p;
  uint64_t regs[6];
  uint8_t stack[BENCH_STACK_BYTES];
  memset(stack, 0xA5, sizeof stack);
  uint64_t s = a->seed;
  uint32_t open_sym[32];
  int depth = 0;
  uint64_t limit = a->events;
  for (uint64_t i = 0; i < limit || depth > 0; ++i) {
    /* Stop at the deadline: then only returns, back to depth 0 (every call returned). */
    if ((i & 255) == 0 && i < limit && atomic_load_explicit(a->stop, memory_order_relaxed)) {
      limit = i;
    }
    if (i >= limit && depth == 0) break;
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    const uint64_t left = i < limit ? limit - i : 0;
    const int call =
        left > 0 && (depth == 0 || (depth < 32 && (uint64_t)depth + 1 < left && (s >> 62) & 1));
    if (call) {
      const uint32_t sym = a->symbols[(s >> 33) % BENCH_SYMBOLS];
      for (int k = 0; k < 6; ++k) regs[k] = s >> (k * 9);
      open_sym[depth++] = sym;
      atf_tracer_record_call(sym, 0x400000u + sym, regs, 6, stack, sizeof stack);
    } else {
      const uint32_t sym = open_sym[--depth];
      regs[0] = s >> 20;
      atf_tracer_record_return(sym, 0x400000u + sym, regs, 1);
    }
  }
  return NULL;
}

static char validate_label[64];

int bench_pipeline(const char *dir, int producers, double seconds, uint32_t ring_bytes,
                   int drain_nice, int io_thread, int block, bench_pipeline_result *out) {
  memset(out, 0, sizeof *out);
  out->producers = producers;
  out->block = block;
  out->ring_bytes = ring_bytes;
  atf_tracer_options o;
  atf_tracer_options_init(&o);
  snprintf(validate_label, sizeof validate_label, "bench_pipeline_%d_%d", producers, (int)getpid());
  o.writer.output_root = dir;
  o.writer.session_label = validate_label;
  o.writer.collect_modules = 0;
  o.ring_bytes = ring_bytes;
  o.max_stack_bytes = BENCH_STACK_BYTES;
  o.idle_sleep_ns = 100000; /* 100 us */
  o.drain_nice = drain_nice;
  o.overflow = block ? ATF_TRACER_OVERFLOW_BLOCK : ATF_TRACER_OVERFLOW_DROP;
  if (io_thread >= 0) o.writer.io_thread = io_thread;
  o.writer.keep_page_cache = bench_keep_page_cache;
  o.writer.direct_io = bench_direct_io;
  if (atf_tracer_start(&o) != ATF_TRACER_OK) return -1;
  atomic_int stop = 0;
  producer_arg arg;
  arg.events = UINT64_MAX;
  arg.stop = &stop;
  for (int i = 0; i < BENCH_SYMBOLS; ++i) {
    char name[32];
    snprintf(name, sizeof name, "bench_fn_%d", i);
    if (atf_tracer_symbol(name, &arg.symbols[i]) != ATF_TRACER_OK) return -1;
  }
  const uint64_t t0 = bench_now_ns();
  pthread_t threads[64];
  producer_arg args[64];
  for (int t = 0; t < producers; ++t) {
    args[t] = arg;
    args[t].seed = 1000u + (uint64_t)t;
    pthread_create(&threads[t], NULL, producer, &args[t]);
  }
  const uint64_t ns = (uint64_t)(seconds * 1e9);
  struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
  while (nanosleep(&ts, &ts) != 0) {}
  atomic_store(&stop, 1);
  for (int t = 0; t < producers; ++t) pthread_join(threads[t], NULL);
  const uint64_t t1 = bench_now_ns();
  atf_tracer_stats st;
  memset(&st, 0, sizeof st);
  if (atf_tracer_stop(0, &st) != ATF_TRACER_OK) return -1;
  out->produced = st.produced;
  out->written = st.written;
  out->dropped = st.dropped;
  out->dropped_unmatched = st.dropped_unmatched;
  out->dropped_no_slot = st.dropped_no_slot;
  /* While the producers ran, the drain wrote all but what their rings still held at the end
   * (at most producers x ring_bytes); stop then drains that, writes TraceEnd and fsyncs. */
  out->events_per_s = (double)st.written / ((double)(t1 - t0) / 1e9);
  out->events_per_s_with_stop = (double)st.written / ((double)st.elapsed_ns / 1e9);
  out->drain_cpu_ns_per_event = st.written ? (double)st.drain_cpu_ns / (double)st.written : 0;
  out->file_bytes = st.file_bytes;
  out->file_events = st.file_events;
  atf_validate_report rep;
  memset(&rep, 0, sizeof rep);
  out->valid = atf_validate_path(st.session_dir, NULL, &rep) == ATF_VALIDATE_OK && rep.valid &&
               rep.records == st.file_events;
  atf_validate_report_free(&rep);
  bench_remove_session(st.session_dir);
  return 0;
}

int bench_write_fresh(const char *dir, unsigned mib, double *mb_per_s, double *cpu_ns_per_byte) {
  char path[4096];
  snprintf(path, sizeof path, "%s/atf_bench_write_fresh.%d", dir, (int)getpid());
  const size_t chunk = 1u << 20;
  uint8_t *buf = malloc(chunk);
  if (buf == NULL) return -1;
  for (size_t i = 0; i < chunk; ++i) buf[i] = (uint8_t)(i * 131u + 7u); /* not zeros */
  const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    free(buf);
    return -1;
  }
  struct timespec c0, c1;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
  const uint64_t t0 = bench_now_ns();
  int rc = 0;
  for (unsigned m = 0; m < mib && rc == 0; ++m) {
    for (size_t done = 0; done < chunk;) {
      const ssize_t n = write(fd, buf + done, chunk - done);
      if (n <= 0) {
        rc = -1;
        break;
      }
      done += (size_t)n;
    }
  }
  const uint64_t t1 = bench_now_ns();
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
  close(fd);
  unlink(path);
  free(buf);
  const double bytes = (double)mib * (double)chunk;
  *mb_per_s = bytes / 1e6 / ((double)(t1 - t0) / 1e9);
  *cpu_ns_per_byte =
      ((double)(c1.tv_sec - c0.tv_sec) * 1e9 + (double)(c1.tv_nsec - c0.tv_nsec)) / bytes;
  return rc;
}

int bench_validator_child(const char *session_dir, unsigned threads, const char *engine) {
  atf_validate_report rep;
  memset(&rep, 0, sizeof rep);
  atf_validate_options opt;
  atf_validate_options_init(&opt);
  opt.threads = threads;
  if (strcmp(engine, "default") != 0 && !atf_validate_engine_parse(engine, &opt.engine)) return 2;
  const uint64_t t0 = bench_now_ns();
  const int ok = atf_validate_path(session_dir, &opt, &rep) == ATF_VALIDATE_OK;
  const uint64_t t1 = bench_now_ns();
  printf("%.6f %.3f %d\n", (double)(t1 - t0) / 1e9, bench_peak_rss_mib(), ok && rep.valid);
  atf_validate_report_free(&rep);
  return ok ? 0 : 1;
}

int bench_validator(const char *session_dir, unsigned threads, const char *engine, double *mb_per_s,
                    double *peak_rss_mib, uint64_t *file_bytes) {
  char path[4200];
  snprintf(path, sizeof path, "%s/events.bin", session_dir);
  struct stat stbuf;
  if (stat(path, &stbuf) != 0) return -1;
  *file_bytes = (uint64_t)stbuf.st_size;
  char nthreads[16];
  snprintf(nthreads, sizeof nthreads, "%u", threads);
  char *const argv[] = {(char *)"writer_bench",
                        (char *)"--validate-child",
                        (char *)session_dir,
                        nthreads,
                        (char *)(engine != NULL ? engine : "default"),
                        NULL};
  char buf[128];
  if (bench_run_child_output(argv, buf, sizeof buf) != 0) return -1;
  double secs = 0, rss = 0;
  int valid = 0;
  if (sscanf(buf, "%lf %lf %d", &secs, &rss, &valid) != 3 || !valid || secs <= 0) {
    return -1;
  }
  *mb_per_s = (double)*file_bytes / 1e6 / secs;
  *peak_rss_mib = rss;
  return 0;
}
