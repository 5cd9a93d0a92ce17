/* atf/tracer.h: the API instrumented code calls to trace itself into an ATF V4 session.
 *
 * Usage:
 *   atf_tracer_options o;
 *   atf_tracer_options_init(&o);
 *   o.writer.output_root = "/tmp/atf-out";
 *   if (atf_tracer_start(&o) != ATF_TRACER_OK) ...
 *   static uint32_t sym;                                   // cache the id per call site
 *   if (!sym) atf_tracer_symbol("work", &sym);
 *   atf_tracer_record_call(sym, (uint64_t)(uintptr_t)&work, regs, 6, sp, 128);
 *   atf_tracer_record_return(sym, (uint64_t)(uintptr_t)&work, rets, 2);
 *   atf_tracer_stats st;
 *   atf_tracer_stop(0, &st);                               // drains, TraceEnd, trace.json
 *
 * Each traced thread writes into its own lock-free ring (claimed on its first event, released
 * when the thread exits); a drain thread hands the rings' records to the writer (atf/writer.h).
 * A record costs about a counter read and the copy of its bytes: no lock, no atomic
 * read-modify-write, no fence, no system call. The record functions never allocate (except once
 * per thread, on its first event, to register the thread-exit hook). When the thread's ring is
 * full, options.overflow decides: ATF_TRACER_OVERFLOW_DROP (the default) drops the event, counted,
 * and never waits; ATF_TRACER_OVERFLOW_BLOCK waits for the drain to make room, so nothing is
 * lost (signal events still drop: a handler never waits).
 *
 * Call trees stay balanced, dropping or not: a return is recorded only if its call was, a dropped
 * call drops its whole subtree and its own return, and (DROP) a call is admitted only with room
 * kept for the returns of every call still open, so a recorded call's return is never dropped
 * while its thread goes on. A return whose call this session did not record (the function was
 * entered before the session started) is dropped and counted (dropped_unmatched).
 *
 * Ordering: each thread's events keep their order and get non-decreasing timestamps: nanoseconds
 * since the Unix epoch, CLOCK_REALTIME at session start plus the time elapsed since, read from the
 * CPU's invariant counter where there is one (options.clock; the manifest's "clock" key names the
 * source). Across threads the file order is the drain order; event_id is assigned by the writer
 * in file order.
 *
 * Signals: atf_tracer_record_signal() is async-signal-safe. A signal that interrupts its own
 * thread in the middle of a record (or arrives before the thread's first event, when it has no
 * ring yet) cannot use the ring without corrupting it or reordering the thread's timestamps, so
 * that signal event is dropped and counted (ATF_TRACER_E_DROPPED), never written half.
 *
 * One session per process at a time. start/stop/flush/symbol may be called from any thread.
 * fork(): in the child the parent's session is over (records return ATF_TRACER_E_STATE; the
 * parent keeps writing it); the child may start its own session.
 */
#ifndef ATF_TRACER_H_
#define ATF_TRACER_H_

#include <stddef.h>
#include <stdint.h>

#include "pipeline/atf/thread_stats.h"
#include "writer/atf/writer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. The values are stable. */
typedef enum atf_tracer_status {
  ATF_TRACER_OK = 0,
  ATF_TRACER_E_INVALID_ARGUMENT = 1, /* NULL or out-of-range argument or option */
  ATF_TRACER_E_STATE = 2,            /* no session running (record/stop/flush) or one already is */
  ATF_TRACER_E_DROPPED = 3,          /* the event was dropped and counted (full ring, ...) */
  ATF_TRACER_E_NO_MEMORY = 4,        /* ring memory could not be mapped */
  ATF_TRACER_E_WRITER = 5,           /* the writer failed; see atf_tracer_stats.writer_status */
  ATF_TRACER_E_THREAD = 6            /* the drain thread could not be started */
} atf_tracer_status;

/* A static description of `status`. */
const char *atf_tracer_strerror(atf_tracer_status status);

/* What a traced thread does when its ring is full (atf_tracer_options.overflow). */
typedef enum atf_tracer_overflow {
  ATF_TRACER_OVERFLOW_DROP = 0, /* drop the event and count it; never waits (the default) */
  ATF_TRACER_OVERFLOW_BLOCK = 1 /* wait for the drain to make room: nothing is dropped for lack
                                   of room (a bounded spin, then yielding). Signal handlers still
                                   drop: they must never wait. */
} atf_tracer_overflow;

/* Where timestamps come from (atf_tracer_options.clock). Either way a timestamp is CLOCK_REALTIME
 * at session start plus the time elapsed since at CLOCK_MONOTONIC's rate (a wall-clock step during
 * the session moves nothing); the manifest's "clock" key names the source ("tsc", "cntvct",
 * "monotonic"). */
typedef enum atf_tracer_clock {
  ATF_TRACER_CLOCK_AUTO = 0,     /* the CPU's invariant counter where there is one (x86_64 TSC,
                                    arm64 CNTVCT), calibrated against CLOCK_MONOTONIC; else as
                                    below (the default) */
  ATF_TRACER_CLOCK_MONOTONIC = 1 /* clock_gettime(CLOCK_MONOTONIC) per event */
} atf_tracer_clock;

/* Upper bound of atf_tracer_options.max_threads (the registry's static slot array). */
#define ATF_TRACER_MAX_THREADS_LIMIT 4096u

typedef struct atf_tracer_options {
  atf_writer_options writer;    /* output_root is required; see atf/writer.h. Defaults as there,
                                   except writer.io_thread = 1: the drain thread encodes while the
                                   writer's I/O thread does write(2) (set 0 for one thread only) */
  uint32_t ring_bytes;          /* per thread; a power of two >= 1024; default 256 KiB */
  uint32_t max_threads;         /* concurrent traced threads; default 1024 */
  uint32_t max_stack_bytes;     /* stack snapshot cap; default 256 (also sets writer's) */
  uint64_t idle_sleep_ns;       /* drain worker's sleep when the rings are empty; default 1 ms */
  uint64_t flush_interval_ns;   /* the drain writes out what it took this often when it wrote
                                   (write(2), no fsync: a crash of the traced process then loses at
                                   most this interval's events and what the rings hold); default
                                   100 ms, 0 = never. Durable (fsync'ed) events come from
                                   atf_tracer_flush() and stop only */
  atf_tracer_overflow overflow; /* full ring: drop (default) or block; see the enum */
  atf_tracer_clock clock;       /* timestamp source; see the enum */
  int drain_nice;               /* Linux: nice value asked for the drain thread (default 0 = as
                                   the process). When traced threads outnumber the cores, a drain
                                   that gets only its fair share falls behind and rings fill; e.g.
                                   -10 lets it keep up. The writer's I/O thread asks for the same
                                   (the drain waits on it at each full buffer). Negative values
                                   need CAP_SYS_NICE or RLIMIT_NICE; if refused, the threads keep
                                   the default. */
} atf_tracer_options;

/* Per thread lifetime (a reused OS thread id appears once per lifetime). */
/* atf_tracer_thread_stats: one thread lifetime's accounting (atf/thread_stats.h). */

typedef struct atf_tracer_stats {
  /* Events passed to atf_tracer_record_*; produced == written + dropped + lost. */
  uint64_t produced;
  uint64_t written;                /* accepted by the writer */
  uint64_t dropped;                /* full ring, nested signal, no free slot, too big */
  uint64_t dropped_no_slot;        /* of dropped: every slot was in use (reported as thread 0) */
  uint64_t dropped_unmatched;      /* of dropped: returns whose call this session did not record
                                      (entered before the session or before the thread had a slot) */
  uint64_t lost;                   /* drained after the writer had failed */
  uint64_t threads;                /* thread lifetimes that recorded at least one event */
  uint64_t file_events;            /* events in events.bin, incl. TraceStart and TraceEnd */
  uint64_t file_bytes;             /* size of events.bin */
  uint64_t elapsed_ns;             /* start to stop */
  uint64_t drain_cpu_ns;           /* CPU time the drain thread used (encoding included; not the
                                      writer's I/O thread) */
  atf_writer_status writer_status; /* first writer error, ATF_WRITER_OK if none */
  int writer_errno;                /* errno of the writer's failed system call, 0 if none */
  const char *clock; /* the timestamps' source: "tsc", "cntvct" or "monotonic" (static) */
  char session_dir[4096];
  /* Optional per-thread detail: set `thread_stats` to an array of `thread_stats_cap` entries
   * before stop; stop fills up to that many and sets thread_stats_count to the total. */
  atf_tracer_thread_stats *thread_stats;
  size_t thread_stats_cap;
  size_t thread_stats_count;
} atf_tracer_stats;

/* Defaults, including atf_writer_options_init(&o->writer). */
void atf_tracer_options_init(atf_tracer_options *o);

/* Opens the session (atf_writer_open) and starts the drain thread.
 * ATF_TRACER_E_STATE if a session is running; ATF_TRACER_E_WRITER if the writer could not open:
 * then o->writer.open_error, when set, says which system call failed, on which path and with which
 * errno (atf_writer_format_open_error() makes the message); the writer fills it whenever
 * atf_tracer_start gets as far as opening it (not on ATF_TRACER_E_INVALID_ARGUMENT,
 * ATF_TRACER_E_STATE or ATF_TRACER_E_NO_MEMORY before the open). */
atf_tracer_status atf_tracer_start(const atf_tracer_options *o);

/* The session directory, or NULL when no session is running. Valid until stop. */
const char *atf_tracer_session_dir(void);

/* The writer's status from atf_tracer_start() when it returned ATF_TRACER_E_WRITER (the status
 * only: the errno and path are in atf_tracer_options.writer.open_error). */
atf_writer_status atf_tracer_last_writer_status(void);

/* Interns `name` in the session's symbol table; `*id` >= 1. Thread-safe, takes a lock: call once
 * per call site and cache the id (ids are valid for the current session only). */
atf_tracer_status atf_tracer_symbol(const char *name, uint32_t *id);

/* Records a function entry. `regs` are the argument registers in the host's canonical order
 * (x86_64: RDI RSI RDX RCX R8 R9; arm64: X0..X7), at most that many are kept; `stack` is copied
 * (at most max_stack_bytes). ATF_TRACER_E_DROPPED when dropped (and then its subtree and return
 * are dropped too), ATF_TRACER_E_STATE when no session is running. */
atf_tracer_status atf_tracer_record_call(uint32_t symbol_id, uint64_t address, const uint64_t *regs,
                                         unsigned nregs, const void *stack, size_t stack_len);

/* As atf_tracer_record_call, with the call site: the return address in the caller
 * (FunctionCall.call_site; 0 = none), as -finstrument-functions hands it to its hooks. */
atf_tracer_status atf_tracer_record_call_at(uint32_t symbol_id, uint64_t address,
                                            uint64_t call_site, const uint64_t *regs,
                                            unsigned nregs, const void *stack, size_t stack_len);

/* Records a function exit; `regs` are the return registers (x86_64: RAX RDX; arm64: X0 X1). It
 * closes the innermost call of this thread recorded with atf_tracer_record_call(): calls and
 * returns must nest, as function entries and exits do. */
atf_tracer_status atf_tracer_record_return(uint32_t symbol_id, uint64_t address,
                                           const uint64_t *regs, unsigned nregs);

/* Records a signal delivery with the full register dump in the host's canonical order (see
 * ring_record.h). Async-signal-safe. */
atf_tracer_status atf_tracer_record_signal(int signo, const uint64_t *regs, unsigned nregs);

/* Durability point: when it returns ATF_TRACER_OK, every event recorded before the call (by this
 * thread, or by any thread whose record happened-before the call) is in events.bin and fsync'ed. */
atf_tracer_status atf_tracer_flush(void);

/* Ends the session: waits for in-progress records, stops the drain thread, drains every ring,
 * reports drops, finalizes (TraceEnd with `exit_code`, trace.json) and closes the writer.
 * `stats` may be NULL. ATF_TRACER_E_STATE when no session is running (e.g. a second stop);
 * ATF_TRACER_E_WRITER when the writer failed at any point (the session is still closed). */
atf_tracer_status atf_tracer_stop(int32_t exit_code, atf_tracer_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* ATF_TRACER_H_ */
