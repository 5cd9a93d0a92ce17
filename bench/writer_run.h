/* writer_run.h: the project's writer over the standard mix, and the measurements that need it. */
#ifndef ATF_BENCH_WRITER_RUN_H_
#define ATF_BENCH_WRITER_RUN_H_

#include <stddef.h>
#include <stdint.h>

#include "bench/mix.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bench_writer_result {
  uint64_t write_ns;   /* all atf_writer_write calls: encode + write() into the page cache */
  uint64_t durable_ns; /* write_ns + the final atf_writer_flush (fsync) */
  uint64_t file_bytes;
  uint64_t events; /* events in events.bin, TraceStart and TraceEnd included */
} bench_writer_result;

/* atf_writer_options.keep_page_cache for every writer the bench opens on a real file (the writer
 * alone and the pipeline's); 0 by default, as the library's; --keep-page-cache sets it. */
extern int bench_keep_page_cache;
/* atf_writer_options.direct_io likewise (--direct-io; not for the validator's session, which is
 * read back from memory). bench_direct_io_used: what atf_writer_direct_io() said for the last
 * writer the bench opened with it (-1: none), bench_direct_io_refused its errno. */
extern int bench_direct_io;
extern int bench_direct_io_used;
extern int bench_direct_io_refused;

/* bench_writer_mix flags. */
enum {
  BENCH_WRITER_DISCARD = 1,  /* write(2) and fsync(2) replaced by no-ops: the writer's own cost */
  BENCH_WRITER_IO_THREAD = 2 /* atf_writer_options.io_thread: write(2) on the writer's I/O thread */
};

/* Writes the mix as one session under `dir` in batches of `batch_events` events (as a drain worker
 * hands them over), flush policy explicit, then flushes and finalizes. The session is deleted
 * unless `keep_path` is non-NULL, in which case its directory is stored there. write_ns ends after
 * the last atf_writer_write: the last buffer (at most 1 MiB of the mix's hundreds, and with the I/O
 * thread the one in flight) is written by the flush, counted in durable_ns. Returns 0. */
int bench_writer_mix(const bench_mix *m, const char *dir, size_t batch_events, int flags,
                     bench_writer_result *out, char *keep_path, size_t keep_cap);

/* Latency of atf_writer_write() for batches of ~1 KiB of ring records, over the whole mix;
 * percentiles in microseconds. */
int bench_writer_batch_latency(const bench_mix *m, const char *dir, double *p50, double *p99,
                               double *p999);

/* Peak RSS (MiB) of a fresh process (this binary re-executed with --rss-child) that writes
 * `events` events with the writer, a 10,000-event piece of the mix replayed in a loop. */
double bench_writer_peak_rss_mib(const char *dir, uint64_t events);

/* The child side of bench_writer_peak_rss_mib: prints its peak RSS in MiB; returns exit status. */
int bench_writer_rss_child(uint64_t events, const char *dir);

/* Peak resident set of this process so far, MiB (Linux: VmHWM). */
double bench_peak_rss_mib(void);

/* Runs /proc/self/exe with argv; what it prints on stdout goes to out (NUL-terminated). Returns 0
 * when it printed something and exited 0. */
int bench_run_child_output(char *const argv[], char *out, size_t cap);

/* bench_run_child_output, returning the number printed (-1 on failure). */
double bench_run_child(char *const argv[]);

/* Writes a session of at least `min_bytes` (the mix replayed, timestamps shifted per pass) and
 * keeps it, in the page cache too (keep_page_cache 1: the validator reads it from memory); its
 * directory goes to session_dir. Returns 0. */
int bench_writer_big_session(const bench_mix *m, const char *dir, uint64_t min_bytes,
                             char *session_dir, size_t cap);

/* Removes a session directory tree made by the writer (session_x/pid_y/{events.bin,trace.json}). */
void bench_remove_session(const char *session_dir);

#ifdef __cplusplus
}
#endif

#endif /* ATF_BENCH_WRITER_RUN_H_ */
