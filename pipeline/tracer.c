/* tracer.c: the tracer API (atf/tracer.h) over the registry, the rings and the drain worker.
 *
 * The record path costs a counter read and the copy of the event, plus a handful of plain loads
 * and stores: no lock, no read-modify-write, no fence instruction, no system call.
 *
 * Session lifetime without locks on the record path. g_epoch is odd while a session runs; each
 * thread caches (slot, epoch) in TLS. A record:
 *   1. sets the thread's own `busy` flag (bit 0, in TLS): a signal handler that finds it set drops
 *      its event instead of entering the ring a second time, and atf_tracer_stop() waits for it,
 *   2. re-reads g_epoch: if the session it cached is gone it backs out,
 *   3. reserves, fills and commits the record, then clears `busy` (release).
 * atf_tracer_stop() bumps g_epoch, then waits until the `busy` flag of every ACTIVE slot's owner is
 * clear before it touches the rings. This is Dekker's pattern (each side stores, then loads the
 * other's variable), which needs a full fence on both sides; the recorder's fence is made free by
 * the asymmetric fence of Linux's membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED): stop runs it after
 * the epoch store, which executes a full barrier on every running thread of the process, so the
 * recorder needs only a compiler barrier between its store and its load. Where membarrier is not
 * available the recorder uses a real fence (one instruction, seq_cst). Either a recorder sees the
 * new epoch and backs out, or stop sees its flag and waits, so ring memory is never unmapped under
 * a writer. The flag lives in the thread's own TLS, so a thread still holding a slot pointer of an
 * earlier session (it was preempted between loading the epoch and setting its flag) only ever
 * writes its own flag, never a slot another thread owns now; stop reads a flag through the slot's
 * owner_busy pointer only for ACTIVE slots, whose owners cannot finish exiting meanwhile (the
 * thread-exit hook takes g_life, which stop holds).
 *
 * Balanced call trees. Per thread the tracer keeps the calls it recorded whose return is still to
 * come (open_calls) and, after a dropped call, the depth of the dropped subtree (skip_depth). A
 * return is recorded only if its call was; a call whose record cannot be made drops its whole
 * subtree (every call and return under it, and its own return). With the DROP policy a call or a
 * signal is admitted only if the ring keeps room, after it, for the returns of every open call
 * (ATF_RING_WORST_CASE per return, PADs included), so an admitted call's return always fits. With
 * BLOCK, returns wait for room instead. A return with no recorded call (its function was entered
 * before the session, or before the thread got a slot) is not written and counts as dropped
 * (`unmatched`). A file written this way never has a return without its call, nor a call whose
 * return went missing while its thread went on.
 *
 * Claiming a slot (first event of a thread in a session) takes g_life, the lifecycle mutex that
 * start/stop/flush/symbol and the thread-exit hook also take; it is never taken on the steady
 * record path, nor in a signal handler (a thread's first event in a signal handler is dropped).
 */
#include "pipeline/atf/tracer.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/membarrier.h>
#endif

#include "writer/atf/ring_record.h"
#include "writer/atf/writer.h"
#include "pipeline/internal/clock.h"
#include "pipeline/internal/drain.h"
#include "pipeline/internal/registry.h"

#define DEFAULT_RING_BYTES (256u * 1024u) /* the per-thread memory budget (issue 7) */
#define DEFAULT_MAX_THREADS 1024u
#define NOSLOT_RETRY_EVENTS 1024u

#if defined(__GNUC__) || defined(__clang__)
#define ATF_LIKELY(x) __builtin_expect(!!(x), 1)
#define ATF_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define ATF_LIKELY(x) (x)
#define ATF_UNLIKELY(x) (x)
#endif

/* What every record reads, alone on its cache line: nothing the drain worker writes (its passes
 * counter, flush state) may share it, or every record would pay a cache miss. */
static struct record_globals {
  alignas(ATF_CACHE_LINE) _Atomic uint64_t epoch; /* odd: a session is running */
  _Atomic uint32_t max_symbol; /* highest id atf_tracer_symbol returned this session */
  uint32_t max_stack;
  uint32_t block;       /* overflow policy BLOCK */
  uint32_t light_fence; /* membarrier is registered: recorders need only a compiler barrier */
  uint32_t return_keep; /* DROP: the largest return record, kept free per open call */
  uint64_t start_ns;    /* TraceStart's time: no event of the session is earlier */
  unsigned reg_count[ATF_KIND_TRACE_END + 1];
} g_hot;
#define g_epoch g_hot.epoch
#define g_max_symbol g_hot.max_symbol
#define g_max_stack g_hot.max_stack
#define g_reg_count g_hot.reg_count

static atf_slot g_slots[ATF_TRACER_MAX_THREADS_LIMIT];
static atf_registry g_reg;
static alignas(ATF_CACHE_LINE) atf_drain g_drain;
static atf_writer *g_writer;
static pthread_mutex_t g_life = PTHREAD_MUTEX_INITIALIZER;
static atf_writer_status g_last_writer_status;
static uint64_t g_start_ns;
static atf_clock_source g_clock_source;
static _Atomic uint64_t g_time_floor; /* stop: TraceEnd is not earlier than any event */

static pthread_once_t g_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_exit_key;
static int g_exit_key_ok;

#define BUSY_RECORD 1u  /* in a record: stop waits for it */
#define BUSY_EXITING 2u /* in the thread-exit hook: signals drop, stop does not wait */

struct thread_state {
  _Atomic uint32_t busy; /* BUSY_* bits; written only by this thread (and its signal handlers,
                            which always leave it as they found it) */
  atf_slot *slot;
  uint64_t epoch;        /* session the slot belongs to */
  uint64_t noslot_epoch; /* session in which no slot was free */
  uint32_t noslot_skip;  /* events to drop before trying to claim again */
  uint32_t open_calls;   /* recorded calls whose return is still to come (this session) */
  uint32_t skip_depth;   /* > 0: inside the subtree of a dropped call */
};
static __thread struct thread_state t __attribute__((tls_model("initial-exec")));

const char *atf_tracer_strerror(atf_tracer_status status) {
  switch (status) {
    case ATF_TRACER_OK:
      return "ok";
    case ATF_TRACER_E_INVALID_ARGUMENT:
      return "invalid argument";
    case ATF_TRACER_E_STATE:
      return "no session running, or one already is";
    case ATF_TRACER_E_DROPPED:
      return "event dropped";
    case ATF_TRACER_E_NO_MEMORY:
      return "out of memory";
    case ATF_TRACER_E_WRITER:
      return "writer error";
    case ATF_TRACER_E_THREAD:
      return "cannot start the drain thread";
  }
  return "unknown status";
}

static uint64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int32_t os_thread_id(void) {
#if defined(__linux__)
  return (int32_t)syscall(SYS_gettid);
#elif defined(__APPLE__)
  uint64_t id = 0;
  pthread_threadid_np(NULL, &id);
  return (int32_t)(uint32_t)id;
#else
  return 0;
#endif
}

static int running(uint64_t epoch) { return (epoch & 1u) != 0; }

/* ---- thread registration ---------------------------------------------------------------- */

/* The thread-exit hook. `busy` stays set throughout so a signal arriving now cannot write into
 * a ring the drain worker may already be freeing (its event is dropped and counted instead). */
static void on_thread_exit(void *unused) {
  (void)unused;
  atomic_store_explicit(&t.busy, BUSY_EXITING, memory_order_relaxed);
  atomic_signal_fence(memory_order_seq_cst);
  pthread_mutex_lock(&g_life);
  atf_slot *s = t.slot;
  t.slot = NULL;
  atomic_signal_fence(memory_order_seq_cst);
  if (s != NULL && t.epoch == atomic_load(&g_epoch)) atf_registry_mark_exiting(s);
  pthread_mutex_unlock(&g_life);
  atomic_signal_fence(memory_order_seq_cst);
  atomic_store_explicit(&t.busy, 0, memory_order_relaxed);
}

/* fork(): the child has only the forking thread, so no drain worker. The session stays the
 * parent's: in the child it is simply ended (records return ATF_TRACER_E_STATE; its memory and
 * file descriptors are left alone, the parent still owns the files), and the child may start a
 * session of its own. g_life is held across fork so the child never inherits it locked. */
static void before_fork(void) { pthread_mutex_lock(&g_life); }
static void after_fork_parent(void) { pthread_mutex_unlock(&g_life); }
static void after_fork_child(void) {
  uint64_t epoch = atomic_load(&g_epoch);
  if (running(epoch)) atomic_store(&g_epoch, epoch + 1);
  t.slot = NULL;
  pthread_mutex_unlock(&g_life);
}

static void make_exit_key(void) {
  g_exit_key_ok = pthread_key_create(&g_exit_key, on_thread_exit) == 0;
  pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

/* Gives the calling thread a slot in session `epoch`. REQUIRES: BUSY_RECORD set, not in a
 * signal handler. */
static atf_tracer_status claim(uint64_t epoch) {
  if (t.noslot_epoch == epoch && t.noslot_skip > 0) {
    t.noslot_skip--;
    atomic_fetch_add_explicit(&g_reg.noslot_dropped, 1, memory_order_relaxed);
    return ATF_TRACER_E_DROPPED;
  }
  atf_tracer_status st = ATF_TRACER_OK;
  pthread_mutex_lock(&g_life);
  if (atomic_load(&g_epoch) != epoch) {
    st = ATF_TRACER_E_STATE;
  } else {
    atf_slot *s = atf_registry_claim(&g_reg, os_thread_id());
    if (s == NULL) {
      t.noslot_epoch = epoch;
      t.noslot_skip = NOSLOT_RETRY_EVENTS;
      atomic_fetch_add_explicit(&g_reg.noslot_dropped, 1, memory_order_relaxed);
      st = ATF_TRACER_E_DROPPED;
    } else {
      s->owner_busy = &t.busy;
      s->last_timestamp_ns = g_hot.start_ns;
      t.slot = s;
      t.epoch = epoch;
      t.open_calls = 0;
      t.skip_depth = 0;
      /* The exit hook; pthread_setspecific may allocate once per thread. */
      if (g_exit_key_ok) pthread_setspecific(g_exit_key, (void *)1);
    }
  }
  pthread_mutex_unlock(&g_life);
  return st;
}

/* ---- the record path ----------------------------------------------------------------------- */

typedef struct event {
  uint8_t kind;
  int32_t value;
  uint32_t symbol_id;
  uint64_t address;
  uint64_t call_site; /* CALL: 0 = none */
  const uint64_t *regs;
  unsigned nregs;
  const void *stack;
  size_t stack_len;
} event;

/* Owner-only counters: a plain load and store (see registry.h). */
static inline void bump(_Atomic uint64_t *counter) {
  atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + 1,
                        memory_order_relaxed);
}

static atf_tracer_status dropped(atf_slot *s) {
  bump(&s->dropped);
  return ATF_TRACER_E_DROPPED;
}

/* Reserves, fills and commits one record in the calling thread's ring, keeping call trees
 * balanced (see the top of this file). */
static atf_tracer_status append(atf_slot *s, const event *e, int in_signal) {
  bump(&s->produced);
  const unsigned kind = e->kind;
  if (kind == ATF_KIND_RETURN) {
    if (t.skip_depth != 0) {
      t.skip_depth--;
      return dropped(s);
    }
    if (t.open_calls == 0) {
      bump(&s->unmatched);
      return dropped(s);
    }
  } else if (kind == ATF_KIND_CALL && t.skip_depth != 0) {
    t.skip_depth++;
    return dropped(s);
  }

  unsigned nregs = e->regs == NULL ? 0 : e->nregs;
  if (nregs > g_reg_count[kind]) nregs = g_reg_count[kind];
  size_t stack_len = e->stack == NULL ? 0 : e->stack_len;
  if (stack_len > g_max_stack) stack_len = g_max_stack;
  const size_t fixed = ATF_RECORD_HEADER_SIZE + 8u * (size_t)nregs;
  if (fixed + stack_len > s->ring.max_record) { /* a tiny ring: keep what fits of the stack */
    stack_len = fixed > s->ring.max_record ? 0 : (s->ring.max_record - fixed) & ~(size_t)7;
  }
  const size_t size = atf_record_size(nregs, (unsigned)stack_len);

  /* DROP: room the returns of the open calls need after this record, so that they never fail.
   * Returns written back to back need at most one PAD between them (a PAD puts the next at the
   * start of the ring, and they fit in it with room to spare), and a PAD before a return is at most
   * the return's size plus a header. */
  size_t keep = 0;
  if (!g_hot.block && kind != ATF_KIND_RETURN) {
    const size_t open = (size_t)t.open_calls + (kind == ATF_KIND_CALL);
    if (open != 0) keep = (open + 1) * g_hot.return_keep + ATF_RECORD_HEADER_SIZE;
  }
  unsigned char *p = (unsigned char *)atf_ring_reserve_keep(&s->ring, size, keep);
  if (ATF_UNLIKELY(p == NULL)) {
    /* BLOCK: the drain worker runs until atf_tracer_stop() has seen every recorder leave (this one
     * included), so room always comes. */
    if (g_hot.block && !in_signal) p = (unsigned char *)atf_ring_reserve_wait(&s->ring, size);
    if (p == NULL) {
      if (kind == ATF_KIND_CALL) t.skip_depth = 1;
      return dropped(s);
    }
  }
  /* The writer refuses a whole batch over one unknown symbol id: never hand it one. */
  uint32_t symbol_id = e->symbol_id;
  if (symbol_id > atomic_load_explicit(&g_max_symbol, memory_order_relaxed)) symbol_id = 0;
  uint64_t ts = atf_clock_now();
  if (ts < s->last_timestamp_ns) ts = s->last_timestamp_ns;
  s->last_timestamp_ns = ts;

  atf_ring_record *r = (atf_ring_record *)p;
  r->size = (uint16_t)size;
  r->kind = (uint8_t)kind;
  r->reg_count = (uint8_t)nregs;
  r->stack_len = (uint16_t)stack_len;
  r->flags = 0;
  r->thread_id = s->tid;
  r->value = e->value;
  r->timestamp_ns = ts;
  r->address = e->address;
  r->symbol_id = symbol_id;
  r->reserved = 0;
  if (e->call_site != 0) {
    r->flags = ATF_RECORD_FLAG_CALL_SITE;
    r->value = (int32_t)(uint32_t)e->call_site;
    r->reserved = (uint32_t)(e->call_site >> 32);
  }
  if (nregs != 0) memcpy(atf_record_regs(r), e->regs, 8u * (size_t)nregs);
  if (stack_len != 0) memcpy(atf_record_stack(r), e->stack, stack_len);
  const size_t used = fixed + stack_len;
  if (used < size) memset(p + used, 0, size - used);
  atf_ring_commit(&s->ring);
  /* Over half full: make sure the drain is not asleep. The stale view of the tail says "maybe";
   * then the real tail is read once (and kept), so this costs a load per half ring at most. */
  if (ATF_UNLIKELY(s->ring.reserved_head - s->ring.cached_tail > s->ring.capacity / 2) &&
      atf_ring_refresh_tail(&s->ring) > s->ring.capacity / 2) {
    atf_drain_nudge(&g_drain);
  }
  if (kind == ATF_KIND_CALL) t.open_calls++;
  if (kind == ATF_KIND_RETURN) t.open_calls--;
  return ATF_TRACER_OK;
}

/* A record that found its own thread mid-record (a signal handler interrupting the tracer), or in
 * its exit hook. */
static atf_tracer_status drop_nested(void) {
  uint64_t epoch = atomic_load_explicit(&g_epoch, memory_order_acquire);
  if (!running(epoch)) return ATF_TRACER_E_STATE;
  atf_slot *s = t.slot;
  if (s != NULL && t.epoch == epoch) {
    atomic_fetch_add_explicit(&s->nested_dropped, 1, memory_order_relaxed);
  } else {
    atomic_fetch_add_explicit(&g_reg.noslot_dropped, 1, memory_order_relaxed);
  }
  return ATF_TRACER_E_DROPPED;
}

/* Sets BUSY_RECORD and orders it before the epoch load that follows (see the top of this file). */
static inline void enter(void) {
  atomic_store_explicit(&t.busy, BUSY_RECORD, memory_order_relaxed);
  if (ATF_LIKELY(g_hot.light_fence)) {
    atomic_signal_fence(memory_order_seq_cst);
  } else {
    atomic_thread_fence(memory_order_seq_cst);
  }
}

static inline void leave(void) { atomic_store_explicit(&t.busy, 0, memory_order_release); }

static atf_tracer_status record(const event *e, int in_signal) {
  if (atomic_load_explicit(&t.busy, memory_order_relaxed) != 0) return drop_nested();
  enter();
  atf_tracer_status st;
  uint64_t epoch = atomic_load_explicit(&g_epoch, memory_order_relaxed);
  if (!running(epoch)) {
    st = ATF_TRACER_E_STATE;
  } else if (ATF_LIKELY(t.slot != NULL && t.epoch == epoch)) {
    st = append(t.slot, e, in_signal);
  } else if (in_signal) {
    atomic_fetch_add_explicit(&g_reg.noslot_dropped, 1, memory_order_relaxed);
    st = ATF_TRACER_E_DROPPED;
  } else if ((st = claim(epoch)) == ATF_TRACER_OK) {
    st = append(t.slot, e, in_signal);
  }
  leave();
  return st;
}

atf_tracer_status atf_tracer_record_call(uint32_t symbol_id, uint64_t address, const uint64_t *regs,
                                         unsigned nregs, const void *stack, size_t stack_len) {
  event e = {ATF_KIND_CALL, 0, symbol_id, address, 0, regs, nregs, stack, stack_len};
  return record(&e, 0);
}

atf_tracer_status atf_tracer_record_call_at(uint32_t symbol_id, uint64_t address,
                                            uint64_t call_site, const uint64_t *regs,
                                            unsigned nregs, const void *stack, size_t stack_len) {
  event e = {ATF_KIND_CALL, 0, symbol_id, address, call_site, regs, nregs, stack, stack_len};
  return record(&e, 0);
}

atf_tracer_status atf_tracer_record_return(uint32_t symbol_id, uint64_t address,
                                           const uint64_t *regs, unsigned nregs) {
  event e = {ATF_KIND_RETURN, 0, symbol_id, address, 0, regs, nregs, NULL, 0};
  return record(&e, 0);
}

atf_tracer_status atf_tracer_record_signal(int signo, const uint64_t *regs, unsigned nregs) {
  int saved_errno = errno;
  event e = {ATF_KIND_SIGNAL, signo, 0, 0, 0, regs, nregs, NULL, 0};
  atf_tracer_status st = record(&e, 1);
  errno = saved_errno;
  return st;
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

/* The writer as the drain's sink: atf_writer_append walks each span once (checks, skips PADs,
 * encodes) and says how many events it kept. */
static int sink_write(void *ctx, const void *records, size_t bytes, uint64_t *events) {
  return (int)atf_writer_append((atf_writer *)ctx, records, bytes, events);
}
static int sink_flush(void *ctx) { return (int)atf_writer_flush((atf_writer *)ctx); }
static int sink_write_out(void *ctx) { return (int)atf_writer_write_out((atf_writer *)ctx); }
static int sink_drops(void *ctx, int32_t tid, uint64_t n) {
  return (int)atf_writer_record_drops((atf_writer *)ctx, tid, n);
}

void atf_tracer_options_init(atf_tracer_options *o) {
  memset(o, 0, sizeof *o);
  atf_writer_options_init(&o->writer);
  o->writer.io_thread = 1; /* the drain keeps encoding while the kernel copies a full buffer */
  o->ring_bytes = DEFAULT_RING_BYTES;
  o->max_threads = DEFAULT_MAX_THREADS;
  o->max_stack_bytes = ATF_WRITER_DEFAULT_MAX_STACK;
  o->idle_sleep_ns = 1000000u;
  o->flush_interval_ns = 100000000u;
  o->clock = ATF_TRACER_CLOCK_AUTO;
}

/* membarrier(2) for the asymmetric fence (see the top of this file). */
static int membarrier_cmd(int cmd) {
#if defined(__linux__) && defined(SYS_membarrier)
  return (int)syscall(SYS_membarrier, cmd, 0, 0);
#else
  (void)cmd;
  errno = ENOSYS;
  return -1;
#endif
}

static int register_light_fence(void) {
#if defined(__linux__) && defined(SYS_membarrier)
  return membarrier_cmd(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
#else
  return 0;
#endif
}

/* The heavy side of the fence pair: after it, every recorder either has its busy flag visible or
 * will see the epoch stored before it. */
static void heavy_fence(void) {
#if defined(__linux__) && defined(SYS_membarrier)
  if (g_hot.light_fence && membarrier_cmd(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return;
#endif
  atomic_thread_fence(memory_order_seq_cst);
}

/* The writer's clock (TraceStart, TraceEnd): the session clock, never earlier than g_time_floor. */
static uint64_t session_clock(void *ctx) {
  (void)ctx;
  const uint64_t now = atf_clock_read();
  const uint64_t floor = atomic_load_explicit(&g_time_floor, memory_order_relaxed);
  return now > floor ? now : floor;
}

atf_tracer_status atf_tracer_start(const atf_tracer_options *o) {
  if (o == NULL || o->writer.output_root == NULL || !atf_ring_capacity_ok(o->ring_bytes) ||
      o->max_threads == 0 || o->max_threads > ATF_TRACER_MAX_THREADS_LIMIT ||
      o->max_stack_bytes > ATF_RECORD_MAX_STACK || o->idle_sleep_ns == 0 || o->drain_nice < -20 ||
      o->drain_nice > 19 ||
      (o->overflow != ATF_TRACER_OVERFLOW_DROP && o->overflow != ATF_TRACER_OVERFLOW_BLOCK) ||
      (o->clock != ATF_TRACER_CLOCK_AUTO && o->clock != ATF_TRACER_CLOCK_MONOTONIC)) {
    return ATF_TRACER_E_INVALID_ARGUMENT;
  }
  pthread_once(&g_key_once, make_exit_key);
  pthread_mutex_lock(&g_life);
  atf_tracer_status st = ATF_TRACER_OK;
  uint64_t epoch = atomic_load(&g_epoch);
  if (running(epoch)) {
    st = ATF_TRACER_E_STATE;
    goto out;
  }
  if (atf_registry_init(&g_reg, g_slots, o->max_threads, o->ring_bytes) != 0) {
    st = ATF_TRACER_E_NO_MEMORY;
    goto out;
  }
  /* Recorders read the flag and the clock only once the new epoch is published below. */
  g_hot.light_fence = (uint32_t)register_light_fence();
  g_clock_source = atf_clock_start(o->clock == ATF_TRACER_CLOCK_AUTO);
  atomic_store(&g_time_floor, 0);
  atf_writer_options wo = o->writer;
  wo.max_stack_bytes = o->max_stack_bytes;
  wo.clock = session_clock;
  wo.clock_ctx = NULL;
  wo.clock_name = atf_clock_source_name(g_clock_source);
  wo.io_thread_nice = o->drain_nice; /* the drain waits on it at every buffer hand-over */
  g_last_writer_status = atf_writer_open(&wo, &g_writer);
  if (g_last_writer_status != ATF_WRITER_OK) {
    atf_registry_destroy(&g_reg);
    st = ATF_TRACER_E_WRITER;
    goto out;
  }
  g_max_stack = o->max_stack_bytes;
  g_hot.block = o->overflow == ATF_TRACER_OVERFLOW_BLOCK;
  for (int kind = ATF_KIND_CALL; kind <= ATF_KIND_SIGNAL; kind++) {
    unsigned n = atf_register_count(wo.arch, kind);
    g_reg_count[kind] = n > ATF_RECORD_MAX_REGS ? ATF_RECORD_MAX_REGS : n;
  }
  g_hot.return_keep = (uint32_t)atf_record_size(g_reg_count[ATF_KIND_RETURN], 0);
  {
    atf_writer_stats ws;
    atf_writer_get_stats(g_writer, &ws);
    g_hot.start_ns = ws.first_timestamp_ns; /* TraceStart's */
  }
  atf_drain_sink sink = {g_writer, sink_write, sink_flush, sink_drops, sink_write_out};
  if (atf_drain_init(&g_drain, &g_reg, &sink, o->idle_sleep_ns, o->flush_interval_ns) != 0) {
    st = ATF_TRACER_E_NO_MEMORY;
  } else {
    g_drain.nice = o->drain_nice;
    if (atf_drain_start(&g_drain) != 0) {
      atf_drain_destroy(&g_drain);
      st = ATF_TRACER_E_THREAD;
    }
  }
  if (st != ATF_TRACER_OK) {
    atf_writer_close(g_writer); /* leaves a session without trace.json, as after a crash */
    g_writer = NULL;
    atf_registry_destroy(&g_reg);
    goto out;
  }
  g_start_ns = clock_ns(CLOCK_MONOTONIC);
  atomic_store(&g_max_symbol, 0);
  atomic_store(&g_epoch, epoch + 1);
out:
  pthread_mutex_unlock(&g_life);
  return st;
}

atf_writer_status atf_tracer_last_writer_status(void) { return g_last_writer_status; }

const char *atf_tracer_session_dir(void) {
  if (!running(atomic_load(&g_epoch))) return NULL;
  return atf_writer_session_dir(g_writer);
}

atf_tracer_status atf_tracer_symbol(const char *name, uint32_t *id) {
  pthread_once(&g_key_once, make_exit_key);
  if (name == NULL || id == NULL) return ATF_TRACER_E_INVALID_ARGUMENT;
  pthread_mutex_lock(&g_life);
  atf_tracer_status st = ATF_TRACER_E_STATE;
  if (running(atomic_load(&g_epoch))) {
    st = ATF_TRACER_E_WRITER;
    if (atf_writer_intern_symbol(g_writer, name, strlen(name), id) == ATF_WRITER_OK) {
      if (*id > atomic_load(&g_max_symbol)) atomic_store(&g_max_symbol, *id);
      st = ATF_TRACER_OK;
    }
  }
  pthread_mutex_unlock(&g_life);
  return st;
}

atf_tracer_status atf_tracer_flush(void) {
  pthread_mutex_lock(&g_life);
  atf_tracer_status st = ATF_TRACER_E_STATE;
  if (running(atomic_load(&g_epoch))) {
    st = atf_drain_flush(&g_drain) == 0 ? ATF_TRACER_OK : ATF_TRACER_E_WRITER;
  }
  pthread_mutex_unlock(&g_life);
  return st;
}

/* Waits until no thread is inside a record of the session that just ended, then raises the time
 * floor of the writer's clock to the latest event timestamp (TraceEnd comes after every event).
 * REQUIRES: g_life held, the new epoch stored. */
static void wait_for_recorders(void) {
  heavy_fence();
  uint64_t latest = 0;
  const uint32_t hw = atf_registry_high_water(&g_reg);
  for (uint32_t i = 0; i < hw; i++) {
    atf_slot *s = &g_slots[i];
    if (atomic_load_explicit(&s->state, memory_order_acquire) == ATF_SLOT_ACTIVE &&
        s->owner_busy != NULL) {
      for (unsigned spins = 0;
           atomic_load_explicit(s->owner_busy, memory_order_acquire) & BUSY_RECORD; spins++) {
        if (spins < 100) {
          sched_yield();
        } else {
          struct timespec ts = {0, 10000};
          nanosleep(&ts, NULL);
        }
      }
    }
    if (s->last_timestamp_ns > latest) latest = s->last_timestamp_ns;
  }
  atomic_store(&g_time_floor, latest);
}

static void fill_stats(atf_tracer_stats *out, uint64_t noslot) {
  atf_tracer_thread_stats *detail = out->thread_stats;
  size_t cap = out->thread_stats_cap;
  memset(out, 0, sizeof *out);
  out->thread_stats = detail;
  out->thread_stats_cap = cap;
  for (size_t i = 0; i < g_drain.nthreads; i++) {
    const atf_drain_thread_stats *d = &g_drain.threads[i];
    out->produced += d->produced;
    out->written += d->written;
    out->dropped += d->dropped;
    out->dropped_unmatched += d->dropped_unmatched;
    out->lost += d->lost;
    if (i < cap) detail[i] = *d;
  }
  out->threads = g_drain.nthreads + g_drain.threads_untracked;
  out->thread_stats_count = g_drain.nthreads;
  out->produced += noslot;
  out->dropped += noslot;
  out->dropped_no_slot = noslot;
}

atf_tracer_status atf_tracer_stop(int32_t exit_code, atf_tracer_stats *stats) {
  pthread_mutex_lock(&g_life);
  uint64_t epoch = atomic_load(&g_epoch);
  if (!running(epoch)) {
    pthread_mutex_unlock(&g_life);
    return ATF_TRACER_E_STATE;
  }
  atomic_store(&g_epoch, epoch + 1);
  wait_for_recorders();
  atf_drain_stop(&g_drain);
  uint64_t noslot = atomic_load(&g_reg.noslot_dropped);
  atf_drain_pass(&g_drain, 1);
  atf_writer_status ws = (atf_writer_status)g_drain.sink_status;
  atf_writer_status fin = atf_writer_finalize(g_writer, exit_code);
  if (ws == ATF_WRITER_OK) ws = fin;
  if (stats != NULL) {
    fill_stats(stats, noslot);
    atf_writer_stats w;
    atf_writer_get_stats(g_writer, &w);
    stats->file_events = w.events_written;
    stats->file_bytes = w.bytes_written;
    stats->elapsed_ns = clock_ns(CLOCK_MONOTONIC) - g_start_ns;
    stats->drain_cpu_ns = g_drain.cpu_ns;
    stats->writer_status = ws;
    stats->writer_errno = atf_writer_last_errno(g_writer);
    stats->clock = atf_clock_source_name(g_clock_source);
    const char *dir = atf_writer_session_dir(g_writer);
    if (dir != NULL) {
      strncpy(stats->session_dir, dir, sizeof stats->session_dir - 1);
      stats->session_dir[sizeof stats->session_dir - 1] = '\0';
    }
  }
  atf_writer_close(g_writer);
  g_writer = NULL;
  atf_drain_destroy(&g_drain);
  atf_registry_destroy(&g_reg);
  pthread_mutex_unlock(&g_life);
  return ws == ATF_WRITER_OK ? ATF_TRACER_OK : ATF_TRACER_E_WRITER;
}
