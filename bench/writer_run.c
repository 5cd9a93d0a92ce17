#define _GNU_SOURCE
#include "bench/writer_run.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "writer/atf/file_ops.h"
#include "writer/atf/writer.h"
#include "bench/baselines.h"

/* File operations that discard what is written: the writer's own cost without the kernel's copy
 * into the page cache. Everything else goes to the real system calls. */
static ssize_t discard_write(void *ctx, int fd, const void *buf, size_t len) {
  (void)ctx;
  (void)fd;
  (void)buf;
  return (ssize_t)len;
}
static int discard_fsync(void *ctx, int fd) {
  (void)ctx;
  (void)fd;
  return 0;
}
static atf_file_ops discard_ops;

static int open_session_ops(const bench_mix *m, const char *dir, const char *label,
                            const atf_file_ops *ops, int io_thread, int keep_page_cache,
                            int direct_io, atf_writer **w);

static int open_session(const bench_mix *m, const char *dir, const char *label, atf_writer **w) {
  return open_session_ops(m, dir, label, NULL, 0, bench_keep_page_cache, bench_direct_io, w);
}

int bench_keep_page_cache = 0;
int bench_direct_io = 0;
int bench_direct_io_used = -1;
int bench_direct_io_refused = 0;

static int open_session_ops(const bench_mix *m, const char *dir, const char *label,
                            const atf_file_ops *ops, int io_thread, int keep_page_cache,
                            int direct_io, atf_writer **w) {
  atf_writer_options o;
  atf_writer_options_init(&o);
  o.keep_page_cache = keep_page_cache;
  o.direct_io = direct_io;
  o.output_root = dir;
  o.session_label = label;
  o.arch = ATF_ARCH_X86_64;
  o.collect_modules = 0;
  o.flush_policy = ATF_FLUSH_EXPLICIT;
  static const char *const argv[] = {"writer_bench"};
  o.argv = argv;
  o.argc = 1;
  o.executable_path = "/bench/writer_bench";
  o.file_ops = ops;
  o.io_thread = io_thread;
  if (atf_writer_open(&o, w) != ATF_WRITER_OK) return -1;
  if (direct_io && ops == NULL)
    bench_direct_io_used = atf_writer_direct_io(*w, &bench_direct_io_refused);
  for (int i = 0; i < BENCH_SYMBOLS; ++i) {
    uint32_t id;
    if (atf_writer_intern_symbol(*w, m->symbols[i], strlen(m->symbols[i]), &id) != ATF_WRITER_OK ||
        id != (uint32_t)i + 1) {
      atf_writer_close(*w);
      return -1;
    }
  }
  return 0;
}

void bench_remove_session(const char *session_dir) {
  char path[4096];
  const char *files[] = {"events.bin", "trace.json"};
  for (int i = 0; i < 2; ++i) {
    snprintf(path, sizeof path, "%s/%s", session_dir, files[i]);
    unlink(path);
  }
  rmdir(session_dir);
  snprintf(path, sizeof path, "%s", session_dir);
  char *slash = strrchr(path, '/');
  if (slash) {
    *slash = '\0';
    rmdir(path); /* session_<label>/ */
  }
}

static char label_buf[64];
static const char *unique_label(const char *what) {
  static unsigned counter;
  snprintf(label_buf, sizeof label_buf, "bench_%s_%d_%u", what, (int)getpid(), counter++);
  return label_buf;
}

int bench_writer_mix(const bench_mix *m, const char *dir, size_t batch_events, int flags,
                     bench_writer_result *out, char *keep_path, size_t keep_cap) {
  atf_writer *w;
  const int discard = (flags & BENCH_WRITER_DISCARD) != 0;
  if (discard) {
    discard_ops = *atf_file_ops_posix();
    discard_ops.write = discard_write;
    discard_ops.fsync = discard_fsync;
  }
  if (open_session_ops(m, dir, unique_label("mix"), discard ? &discard_ops : NULL,
                       (flags & BENCH_WRITER_IO_THREAD) != 0, bench_keep_page_cache,
                       bench_direct_io, &w) != 0) {
    return -1;
  }
  int rc = 0;
  const uint64_t t0 = bench_now_ns();
  for (size_t i = 0; i < m->events && rc == 0; i += batch_events) {
    size_t end = i + batch_events < m->events ? i + batch_events : m->events;
    size_t from = m->offsets[i];
    size_t to = end < m->events ? m->offsets[end] : m->bytes;
    if (atf_writer_write(w, m->records + from, to - from) != ATF_WRITER_OK) rc = -1;
  }
  const uint64_t t1 = bench_now_ns();
  if (rc == 0 && atf_writer_flush(w) != ATF_WRITER_OK) rc = -1;
  const uint64_t t2 = bench_now_ns();
  if (rc == 0 && atf_writer_finalize(w, 0) != ATF_WRITER_OK) rc = -1;
  atf_writer_stats st;
  atf_writer_get_stats(w, &st);
  out->write_ns = t1 - t0;
  out->durable_ns = t2 - t0;
  out->file_bytes = st.bytes_written;
  out->events = st.events_written;
  if (keep_path) {
    snprintf(keep_path, keep_cap, "%s", atf_writer_session_dir(w));
  } else {
    bench_remove_session(atf_writer_session_dir(w));
  }
  atf_writer_close(w);
  return rc;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int bench_writer_batch_latency(const bench_mix *m, const char *dir, double *p50, double *p99,
                               double *p999) {
  atf_writer *w;
  if (open_session(m, dir, unique_label("latency"), &w) != 0) return -1;
  uint64_t *samples = malloc(sizeof(uint64_t) * (m->bytes / 1024 + 2));
  size_t n = 0;
  int rc = samples ? 0 : -1;
  size_t i = 0;
  while (rc == 0 && i < m->events) {
    /* Whole records adding up to about 1 KiB. */
    size_t from = m->offsets[i], end = i;
    while (end < m->events && m->offsets[end] - from < 1024) ++end;
    if (end == i) ++end;
    size_t to = end < m->events ? m->offsets[end] : m->bytes;
    const uint64_t t0 = bench_now_ns();
    if (atf_writer_write(w, m->records + from, to - from) != ATF_WRITER_OK) rc = -1;
    samples[n++] = bench_now_ns() - t0;
    i = end;
  }
  if (rc == 0 && atf_writer_finalize(w, 0) != ATF_WRITER_OK) rc = -1;
  bench_remove_session(atf_writer_session_dir(w));
  atf_writer_close(w);
  if (rc == 0 && n > 0) {
    qsort(samples, n, sizeof *samples, cmp_u64);
    *p50 = samples[n / 2] / 1e3;
    *p99 = samples[(size_t)(n * 0.99)] / 1e3;
    *p999 = samples[(size_t)(n * 0.999)] / 1e3;
  }
  free(samples);
  return rc;
}

int bench_writer_big_session(const bench_mix *m, const char *dir, uint64_t min_bytes,
                             char *session_dir, size_t cap) {
  const size_t n = m->events - 1; /* without the TraceEnd */
  uint8_t *copy = aligned_alloc(64, (m->offsets[n] + 63) / 64 * 64);
  atf_writer *w;
  /* Kept in the page cache: the validator rows measure decoding, not reading from the device. */
  if (copy == NULL || open_session_ops(m, dir, unique_label("big"), NULL, 0, /*keep_page_cache=*/1,
                                       /*direct_io=*/0, &w) != 0) {
    free(copy);
    return -1;
  }
  memcpy(copy, m->records, m->offsets[n]);
  const uint64_t span =
      bench_mix_record(m, n)->timestamp_ns - bench_mix_record(m, 0)->timestamp_ns + 1;
  int ok = 1;
  atf_writer_stats st;
  atf_writer_get_stats(w, &st);
  while (ok && st.bytes_written + st.events_buffered * 160 < min_bytes) {
    ok = atf_writer_write(w, copy, m->offsets[n]) == ATF_WRITER_OK;
    for (size_t k = 0; k < n; ++k)
      ((atf_ring_record *)(copy + m->offsets[k]))->timestamp_ns += span;
    atf_writer_get_stats(w, &st);
  }
  ok = ok && atf_writer_finalize(w, 0) == ATF_WRITER_OK;
  snprintf(session_dir, cap, "%s", atf_writer_session_dir(w));
  atf_writer_close(w);
  free(copy);
  return ok ? 0 : -1;
}

int bench_writer_rss_child(uint64_t events, const char *dir) {
  bench_mix m;
  if (bench_mix_build(&m, 10002, 7) != 0) return 1;
  const size_t chunk = 10000; /* the mix without its TraceEnd */
  const size_t chunk_bytes = m.offsets[chunk];
  atf_writer *w;
  if (open_session(&m, dir, unique_label("rss"), &w) != 0) return 1;
  int ok = 1;
  for (uint64_t done = 0; ok && done < events; done += chunk) {
    if (done > 0) { /* keep timestamps increasing across repetitions */
      for (size_t k = 0; k < chunk; ++k) {
        ((atf_ring_record *)(m.records + m.offsets[k]))->timestamp_ns += 1000000000u;
      }
    }
    ok = atf_writer_write(w, m.records, chunk_bytes) == ATF_WRITER_OK;
  }
  ok = ok && atf_writer_finalize(w, 0) == ATF_WRITER_OK;
  bench_remove_session(atf_writer_session_dir(w));
  atf_writer_close(w);
  bench_mix_free(&m);
  printf("%.3f\n", bench_peak_rss_mib());
  return ok ? 0 : 1;
}

double bench_peak_rss_mib(void) {
  /* VmHWM, the high-water mark of this address space. Not getrusage's ru_maxrss: Linux carries
   * that across execve, so a child of a large parent would report the parent's size. */
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  double kib = -1;
  while (f && fgets(line, sizeof line, f)) {
    if (strncmp(line, "VmHWM:", 6) == 0) kib = strtod(line + 6, NULL);
  }
  if (f) fclose(f);
  return kib < 0 ? -1 : kib / 1024.0;
}

int bench_run_child_output(char *const argv[], char *out, size_t cap) {
  int fds[2];
  if (cap == 0 || pipe(fds) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execv("/proc/self/exe", argv);
    _exit(127);
  }
  close(fds[1]);
  ssize_t n = pid > 0 ? read(fds[0], out, cap - 1) : -1;
  close(fds[0]);
  out[n > 0 ? n : 0] = '\0';
  int status = 1;
  if (pid > 0) waitpid(pid, &status, 0);
  return n > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

double bench_run_child(char *const argv[]) {
  char buf[64];
  return bench_run_child_output(argv, buf, sizeof buf) == 0 ? strtod(buf, NULL) : -1;
}

double bench_writer_peak_rss_mib(const char *dir, uint64_t events) {
  char count[32];
  snprintf(count, sizeof count, "%llu", (unsigned long long)events);
  char *const argv[] = {(char *)"writer_bench", (char *)"--rss-child", count, (char *)dir, NULL};
  return bench_run_child(argv);
}
