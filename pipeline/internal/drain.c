/* internal/drain.c: see drain.h.
 *
 * Spans are forwarded, not walked: each span of committed bytes (PADs included) goes to the sink in
 * one call, and the sink's own walk (atf_writer_append: check, skip PADs, encode) returns how many
 * events it kept, which is the per-thread written count the accounting needs (written + dropped +
 * lost == produced). Only after the sink has failed does the drain walk records itself, to count
 * what it could not write as lost.
 */
#include "pipeline/internal/drain.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "writer/atf/ring_record.h"
#include "pipeline/internal/clock.h"

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* Bytes written to the sink between two releases to the producer. */
#define ATF_DRAIN_CHUNK (16u << 10)

/* Empty passes (each followed by a yield) before the worker sleeps. */
#define ATF_DRAIN_EMPTY_PASSES 16

#if defined(__linux__) && defined(SYS_futex)
#define ATF_DRAIN_FUTEX 1
#else
#define ATF_DRAIN_FUTEX 0
#endif

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int atf_drain_init(atf_drain *d, atf_registry *reg, const atf_drain_sink *sink,
                   uint64_t idle_sleep_ns, uint64_t flush_interval_ns) {
  memset(d, 0, sizeof *d);
  d->reg = reg;
  d->sink = *sink;
  d->idle_sleep_ns = idle_sleep_ns;
  d->flush_interval_ns = flush_interval_ns;
  d->last_flush_ns = mono_ns();
  pthread_condattr_t attr;
  int err = pthread_condattr_init(&attr);
  if (err != 0) return err;
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  err = pthread_mutex_init(&d->mu, NULL);
  if (err == 0 && (err = pthread_cond_init(&d->wake, &attr)) != 0) pthread_mutex_destroy(&d->mu);
  if (err == 0 && (err = pthread_cond_init(&d->done, &attr)) != 0) {
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->mu);
  }
  pthread_condattr_destroy(&attr);
  return err;
}

/* Events (non-PAD records) in a span of whole records; a malformed size ends the count (the sink
 * refuses such a record too). */
static uint64_t count_events(const unsigned char *p, size_t len) {
  uint64_t n = 0;
  for (size_t off = 0; len - off >= ATF_RECORD_HEADER_SIZE;) {
    const atf_ring_record *r = (const atf_ring_record *)(p + off);
    if (r->size < ATF_RECORD_HEADER_SIZE || r->size % ATF_RECORD_ALIGN != 0 ||
        r->size > len - off) {
      break;
    }
    n += r->kind != ATF_KIND_PAD;
    off += r->size;
  }
  return n;
}

static void add(ATF_ATOMIC(uint64_t) * counter, uint64_t n) { /* drain worker only: no RMW needed */
  atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + n,
                        memory_order_relaxed);
}

/* Hands one span of whole records to the sink. Returns the events it kept. */
static uint64_t write_span(atf_drain *d, atf_slot *s, const unsigned char *p, size_t len) {
  if (len == 0) return 0;
  uint64_t kept = 0;
  if (d->sink_status == 0) {
    const int st = d->sink.write(d->sink.ctx, p, len, &kept);
    add(&s->written, kept);
    if (kept != 0) d->dirty = 1;
    if (st == 0) return kept;
    d->sink_status = st;
  }
  const uint64_t events = count_events(p, len);
  add(&s->lost, events > kept ? events - kept : 0);
  return kept;
}

/* Where the first chunk of whole records of p[0..len) ends: at least ATF_DRAIN_CHUNK bytes (or
 * all of them), on a record boundary. Reads only the size fields; a malformed size ends the chunk
 * at the rest of the span (the sink refuses such a record). */
static size_t chunk_end(const unsigned char *p, size_t len) {
  if (len <= ATF_DRAIN_CHUNK) return len;
  size_t off = 0;
  while (off < ATF_DRAIN_CHUNK) {
    const atf_ring_record *r = (const atf_ring_record *)(p + off);
    if (len - off < ATF_RECORD_HEADER_SIZE || r->size < ATF_RECORD_HEADER_SIZE ||
        r->size % ATF_RECORD_ALIGN != 0 || r->size > len - off) {
      return len;
    }
    off += r->size;
  }
  return off;
}

/* Writes one span in chunks, releasing each to the producer as soon as it is written, so that a
 * producer that ran out of room (or blocks) refills while the rest is encoded. */
static uint64_t write_span_chunks(atf_drain *d, atf_slot *s, const unsigned char *p, size_t len) {
  uint64_t n = 0;
  while (len > 0) {
    const size_t c = chunk_end(p, len);
    n += write_span(d, s, p, c);
    atf_ring_release(&s->ring, c);
    p += c;
    len -= c;
  }
  return n;
}

/* Drains what is committed now; with `to_end`, repeats until the ring is empty. */
static uint64_t drain_slot(atf_drain *d, atf_slot *s, int to_end) {
  uint64_t n = 0;
  for (;;) {
    atf_ring_span span;
    size_t len = atf_ring_peek(&s->ring, &span);
    if (len == 0) break;
    n += write_span_chunks(d, s, span.ptr[0], span.len[0]);
    n += write_span_chunks(d, s, span.ptr[1], span.len[1]);
    if (!to_end) break;
  }
  return n;
}

static void remember_thread(atf_drain *d, atf_slot *s) {
  if (d->nthreads == d->threads_cap) {
    size_t cap = d->threads_cap ? d->threads_cap * 2 : 64;
    atf_drain_thread_stats *t = realloc(d->threads, cap * sizeof *t);
    if (t == NULL) {
      d->threads_untracked++;
      return;
    }
    d->threads = t;
    d->threads_cap = cap;
  }
  atf_drain_thread_stats *t = &d->threads[d->nthreads++];
  t->thread_id = s->tid;
  t->generation = atomic_load_explicit(&s->generation, memory_order_relaxed);
  const uint64_t nested = atomic_load_explicit(&s->nested_dropped, memory_order_relaxed);
  t->produced = atomic_load_explicit(&s->produced, memory_order_relaxed) + nested;
  t->written = atomic_load_explicit(&s->written, memory_order_relaxed);
  t->dropped = atomic_load_explicit(&s->dropped, memory_order_relaxed) + nested;
  t->dropped_unmatched = atomic_load_explicit(&s->unmatched, memory_order_relaxed);
  t->lost = atomic_load_explicit(&s->lost, memory_order_relaxed);
}

static void retire(atf_drain *d, atf_slot *s) {
  uint64_t dropped = atomic_load_explicit(&s->dropped, memory_order_relaxed) +
                     atomic_load_explicit(&s->nested_dropped, memory_order_relaxed);
  if (dropped != 0) d->sink.record_drops(d->sink.ctx, s->tid, dropped);
  remember_thread(d, s);
  atf_registry_free(s);
}

uint64_t atf_drain_pass(atf_drain *d, int retire_all) {
  uint64_t n = 0;
  uint32_t hw = atf_registry_high_water(d->reg);
  for (uint32_t i = 0; i < hw; i++) {
    atf_slot *s = &d->reg->slots[i];
    uint32_t state = atomic_load_explicit(&s->state, memory_order_acquire);
    if (state == ATF_SLOT_ACTIVE && !retire_all) {
      atf_registry_prefault(s);
      n += drain_slot(d, s, 0);
    } else if (state == ATF_SLOT_EXITING || (state == ATF_SLOT_ACTIVE && retire_all)) {
      n += drain_slot(d, s, 1);
      retire(d, s);
    }
  }
  if (retire_all) {
    uint64_t noslot = atomic_exchange_explicit(&d->reg->noslot_dropped, 0, memory_order_relaxed);
    if (noslot != 0) d->sink.record_drops(d->sink.ctx, 0, noslot);
  }
  d->passes++;
  return n;
}

/* Flushes the sink; returns its status (the first sink error once there was one). Worker-owned
 * state only: flush_status, which flushers read, is published under the mutex by the caller. */
/* A requested flush is durable (sink.flush: write and fsync). The periodic one only writes out
 * (sink.write_out): it bounds what a crash of the process loses without making the drain wait for
 * the disk, which an fsync of hundreds of MB does for as long as the device needs (the drain then
 * takes nothing from the rings: with DROP they overflow, with BLOCK their threads wait). */
static int do_flush(atf_drain *d, uint64_t now, int durable) {
  int st = d->sink_status;
  if (st == 0) {
    st = durable || d->sink.write_out == NULL ? d->sink.flush(d->sink.ctx)
                                              : d->sink.write_out(d->sink.ctx);
    if (st != 0) d->sink_status = st;
  }
  d->dirty = 0;
  d->last_flush_ns = now;
  return st;
}

/* Sleeps up to idle_sleep_ns, or until woken (atf_drain_wake: a flush, stop, or a producer whose
 * ring fills up). REQUIRES: d->mu held; it is released during the sleep. */
static void idle_sleep(atf_drain *d) {
#if ATF_DRAIN_FUTEX
  /* wake_seq is read under the mutex: a flush or stop request (made under it) bumps it later. A
   * producer either sees `sleeping` (set, then a full fence) and bumps it, or it committed before
   * the fence and the next pass finds its records after at most this sleep. */
  const uint32_t seq = atomic_load_explicit(&d->wake_seq, memory_order_acquire);
  atomic_store_explicit(&d->sleeping, 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_seq_cst);
  pthread_mutex_unlock(&d->mu);
  struct timespec ts = {(time_t)(d->idle_sleep_ns / 1000000000u),
                        (long)(d->idle_sleep_ns % 1000000000u)};
  syscall(SYS_futex, &d->wake_seq, FUTEX_WAIT_PRIVATE, seq, &ts, NULL, 0);
  atomic_store_explicit(&d->sleeping, 0, memory_order_relaxed);
  pthread_mutex_lock(&d->mu);
#else
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  uint64_t ns = (uint64_t)until.tv_nsec + d->idle_sleep_ns;
  until.tv_sec += (time_t)(ns / 1000000000u);
  until.tv_nsec = (long)(ns % 1000000000u);
  pthread_cond_timedwait(&d->wake, &d->mu, &until);
#endif
}

void atf_drain_wake(atf_drain *d) {
  atomic_fetch_add_explicit(&d->wake_seq, 1, memory_order_release);
#if ATF_DRAIN_FUTEX
  syscall(SYS_futex, &d->wake_seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
#endif
}

void atf_drain_nudge_slow(atf_drain *d) {
  uint32_t expected = 1;
  if (atomic_compare_exchange_strong_explicit(&d->sleeping, &expected, 0, memory_order_relaxed,
                                              memory_order_relaxed)) {
    atf_drain_wake(d);
  }
}

/* Wakes the worker for a request made under d->mu. */
static void wake_locked(atf_drain *d) {
#if ATF_DRAIN_FUTEX
  atf_drain_wake(d);
#else
  pthread_cond_signal(&d->wake);
#endif
}

static void *worker(void *arg) {
  atf_drain *d = (atf_drain *)arg;
#if defined(__linux__)
  /* Per-thread on Linux: PRIO_PROCESS with a thread id sets that thread's nice value. A refusal
   * (no CAP_SYS_NICE) leaves the default priority, which is correct, only slower to drain. */
  if (d->nice != 0) (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), d->nice);
  (void)pthread_setname_np(pthread_self(), "atf-drain"); /* as top, perf and gdb show it */
#endif
  unsigned empty_passes = 0;
  pthread_mutex_lock(&d->mu);
  for (;;) {
    uint64_t want_flush = d->flush_requested;
    int stop = d->stop_requested;
    pthread_mutex_unlock(&d->mu);

    uint64_t n = atf_drain_pass(d, 0);
    atf_clock_anchor(); /* the session clock's counter mapping, every ATF_CLOCK_ANCHOR_NS */
    uint64_t now = mono_ns();
    int interval_due =
        d->flush_interval_ns != 0 && d->dirty && now - d->last_flush_ns >= d->flush_interval_ns;
    int flushed = 0, flush_st = 0;
    if (want_flush > d->flush_done || interval_due) {
      flush_st = do_flush(d, now, want_flush > d->flush_done);
      flushed = 1;
    }

    pthread_mutex_lock(&d->mu);
    if (flushed && want_flush > d->flush_done) {
      d->flush_status = flush_st;
      d->flush_done = want_flush;
      pthread_cond_broadcast(&d->done);
    }
    if (stop) break;
    /* Nothing found: a few more passes, yielding in between, before sleeping; a producer that is
     * only between two bursts then never waits out a sleep (or pays a wake-up). */
    if (n == 0) {
      empty_passes++;
    } else {
      empty_passes = 0;
    }
    if (n == 0 && !d->stop_requested && d->flush_requested == d->flush_done) {
      if (empty_passes < ATF_DRAIN_EMPTY_PASSES) {
        pthread_mutex_unlock(&d->mu);
        sched_yield();
        pthread_mutex_lock(&d->mu);
      } else {
        idle_sleep(d);
      }
    }
  }
  {
    struct timespec cpu;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0) {
      d->cpu_ns = (uint64_t)cpu.tv_sec * 1000000000u + (uint64_t)cpu.tv_nsec;
    }
  }
  /* Flush requests that raced with stop are answered with the current status. */
  d->flush_done = d->flush_requested;
  d->flush_status = d->sink_status;
  pthread_cond_broadcast(&d->done);
  pthread_mutex_unlock(&d->mu);
  return NULL;
}

int atf_drain_start(atf_drain *d) {
  d->stop_requested = 0;
  int err = pthread_create(&d->thread, NULL, worker, d);
  if (err == 0) d->running = 1;
  return err;
}

int atf_drain_flush(atf_drain *d) {
  pthread_mutex_lock(&d->mu);
  uint64_t ticket = ++d->flush_requested;
  wake_locked(d);
  while (d->flush_done < ticket) pthread_cond_wait(&d->done, &d->mu);
  int st = d->flush_status;
  pthread_mutex_unlock(&d->mu);
  return st;
}

void atf_drain_stop(atf_drain *d) {
  if (!d->running) return;
  pthread_mutex_lock(&d->mu);
  d->stop_requested = 1;
  wake_locked(d);
  pthread_mutex_unlock(&d->mu);
  pthread_join(d->thread, NULL);
  d->running = 0;
}

void atf_drain_destroy(atf_drain *d) {
  free(d->threads);
  d->threads = NULL;
  d->nthreads = d->threads_cap = 0;
  pthread_cond_destroy(&d->done);
  pthread_cond_destroy(&d->wake);
  pthread_mutex_destroy(&d->mu);
}
