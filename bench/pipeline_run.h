/* pipeline_run.h: producers -> rings -> drain -> writer -> file, and the validator on a big file.
 */
#ifndef ATF_BENCH_PIPELINE_RUN_H_
#define ATF_BENCH_PIPELINE_RUN_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bench_pipeline_result {
  int producers;
  int block; /* overflow policy: 0 drop, 1 block */
  uint64_t produced, written, dropped;
  uint64_t dropped_unmatched, dropped_no_slot; /* of dropped (atf_tracer_stats) */
  double events_per_s;           /* written / the producers' run time (what the drain sustained) */
  double events_per_s_with_stop; /* written / (start .. stop: final drain, TraceEnd, fsync) */
  int valid;                     /* the validator accepted the session */
  double drain_cpu_ns_per_event; /* the drain thread's CPU time / written */
  uint64_t file_bytes, file_events; /* events.bin's size and records (TraceStart, TraceEnd too) */
  uint64_t ring_bytes;              /* per producer */
} bench_pipeline_result;

/* `producers` threads record events of the standard mix's shape (calls with 6 registers and a
 * 128-byte stack copy, returns with 1 register, nested) as fast as they can for `seconds` (then
 * each returns from its open calls), through per-thread rings of `ring_bytes`, the drain thread at
 * `drain_nice` (see atf_tracer_options), the writer's I/O thread on or off (`io_thread` 0/1; < 0:
 * the tracer's default), full rings dropping (`block` 0) or blocking (1); then stop, validate,
 * delete the session. */
int bench_pipeline(const char *dir, int producers, double seconds, uint32_t ring_bytes,
                   int drain_nice, int io_thread, int block, bench_pipeline_result *out);

/* The storage path alone: one thread write()s `mib` MiB of fresh data, 1 MiB at a time, to a new
 * file in `dir` (no fsync, as the pipeline rows time none), then deletes it: MB/s and the thread's
 * CPU ns per byte. On a VM whose freed memory goes back to the host (free page reporting), each
 * new page-cache page costs a host page fault: this is the bound on bytes written per second. */
int bench_write_fresh(const char *dir, unsigned mib, double *mb_per_s, double *cpu_ns_per_byte);

/* Validates `session_dir` in a fresh child process (this binary re-executed with
 * --validate-child) with `threads` decoding threads (atf_validate_options.threads) and the
 * record engine named `engine` ("upb", "nanopb", "both"; NULL: the library's default); MB/s of
 * events.bin and the child's peak RSS in MiB. */
int bench_validator(const char *session_dir, unsigned threads, const char *engine, double *mb_per_s,
                    double *peak_rss_mib, uint64_t *file_bytes);

/* The child side: validates and prints "<seconds> <peak rss MiB> <valid>"; returns exit status.
 * `engine` as above ("default": the library's default). */
int bench_validator_child(const char *session_dir, unsigned threads, const char *engine);

#ifdef __cplusplus
}
#endif

#endif /* ATF_BENCH_PIPELINE_RUN_H_ */
