/* internal/drain.h: the drain worker, which moves records from the registry's rings to a sink.
 *
 * The sink is a small function table (the tracer plugs in atf_writer_append / _flush /
 * _record_drops / _write_out; tests plug in a fake), so the worker is tested without files. One
 * pass visits slots[0, high_water): for each ACTIVE or EXITING slot it peeks the committed bytes
 * (at most two spans, PADs included), hands each span to sink.write in one call, and releases the
 * bytes. An EXITING slot is drained to the end, its drops are reported with sink.record_drops, and
 * it is freed for reuse. After the first sink error the worker keeps consuming (producers must
 * never stall) and counts what it could not write as lost.
 *
 * Threads: the worker thread drives the sink; atf_drain_flush() may be called from any thread.
 * After atf_drain_stop() the caller may drive the sink itself (atf_drain_pass(d, 1)).
 */
#ifndef ATF_PIPELINE_INTERNAL_DRAIN_H_
#define ATF_PIPELINE_INTERNAL_DRAIN_H_

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/atf/thread_stats.h"
#include "pipeline/internal/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct atf_drain_sink {
  void *ctx;
  /* Takes whole records, PADs included (the sink skips them). Returns 0 when every record was
   * accepted, else an error; in both cases *events = the events (non-PAD records) of the batch the
   * sink kept (all of them on 0; a prefix on error, e.g. up to a size limit). */
  int (*write)(void *ctx, const void *records, size_t bytes, uint64_t *events);
  int (*flush)(void *ctx); /* 0 = durable */
  int (*record_drops)(void *ctx, int32_t thread_id, uint64_t count);
  /* The periodic flush (flush_interval_ns): 0 = every record taken is in the file, written, not
   * necessarily durable; it must not wait for the disk. NULL: flush is used. */
  int (*write_out)(void *ctx);
} atf_drain_sink;

/* One thread lifetime's accounting: the tracer's public struct, filled here and handed out as is.
 */
typedef atf_tracer_thread_stats atf_drain_thread_stats;

typedef struct atf_drain {
  atf_registry *reg;
  atf_drain_sink sink;
  uint64_t idle_sleep_ns;
  int nice; /* applied by the worker thread to itself at start when nonzero (Linux) */
  uint64_t flush_interval_ns; /* 0 = flush only on request */

  /* The worker's idle sleep (Linux: a futex on wake_seq, at most idle_sleep_ns). Producers whose
   * ring is over half full wake it (atf_drain_nudge), so a burst does not wait out the sleep.
   * Alone on a line: producers read `sleeping` only then, and it changes only around sleeps. */
  alignas(ATF_CACHE_LINE) ATF_ATOMIC(uint32_t) sleeping;
  ATF_ATOMIC(uint32_t) wake_seq;

  alignas(ATF_CACHE_LINE) pthread_t thread;
  int running;
  pthread_mutex_t mu;
  pthread_cond_t wake; /* requests to the worker */
  pthread_cond_t done; /* flush completions */
  uint64_t flush_requested, flush_done;
  int flush_status;
  int stop_requested;

  /* Worker-owned (or the caller's after atf_drain_stop). */
  int sink_status; /* first sink error, 0 = none */
  int dirty;       /* written since the last flush */
  uint64_t last_flush_ns;
  uint64_t passes;
  uint64_t cpu_ns; /* CPU time the worker thread used, set when it exits (Linux) */
  atf_drain_thread_stats *threads;
  size_t nthreads, threads_cap;
  uint64_t threads_untracked; /* thread stats lost to allocation failure */
} atf_drain;

/* REQUIRES: reg initialised; sink functions non-NULL. Returns 0 or an errno value. */
int atf_drain_init(atf_drain *d, atf_registry *reg, const atf_drain_sink *sink,
                   uint64_t idle_sleep_ns, uint64_t flush_interval_ns);
/* Starts the worker thread. Returns 0 or an errno value. */
int atf_drain_start(atf_drain *d);
/* Waits until every record committed before the call is written and sink.flush succeeded.
 * Returns 0 or the sink's error. REQUIRES: the worker is running. */
int atf_drain_flush(atf_drain *d);
/* Stops and joins the worker (no final drain). Idempotent. */
void atf_drain_stop(atf_drain *d);
/* One pass over the slots; with `retire_all`, drains every slot to the end and frees it
 * (REQUIRES then: no producer is active). Returns the number of records written. */
uint64_t atf_drain_pass(atf_drain *d, int retire_all);
/* Wakes the worker. */
void atf_drain_wake(atf_drain *d);
/* Wakes the worker if it is in its idle sleep; of all the producers that find it asleep, only the
 * first pays the system call (it takes the `sleeping` flag). Async-signal-safe; one load when the
 * worker is awake. For producers whose ring is filling up. */
void atf_drain_nudge_slow(atf_drain *d);
static inline void atf_drain_nudge(atf_drain *d) {
#ifdef __cplusplus
  if (d->sleeping.load(std::memory_order_relaxed)) atf_drain_nudge_slow(d);
#else
  if (atomic_load_explicit(&d->sleeping, memory_order_relaxed)) atf_drain_nudge_slow(d);
#endif
}

/* Frees the worker's memory. REQUIRES: stopped. */
void atf_drain_destroy(atf_drain *d);

#ifdef __cplusplus
}
#endif

#endif /* ATF_PIPELINE_INTERNAL_DRAIN_H_ */
