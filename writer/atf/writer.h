/* atf/writer.h: writes drained ring records as an ATF V4 session (events.bin + trace.json).
 *
 * Usage:
 *   atf_writer_options o;
 *   atf_writer_options_init(&o);
 *   o.output_root = "/var/trace";
 *   atf_writer *w;
 *   if (atf_writer_open(&o, &w) != ATF_WRITER_OK) ...  // the session, TraceStart written
 *   uint32_t sym; atf_writer_intern_symbol(w, "main", 4, &sym);
 *   atf_writer_write(w, records, bytes);                 // batches of atf_ring_record
 *   atf_writer_flush(w);                                 // durability point
 *   atf_writer_finalize(w, exit_code);                   // TraceEnd, flush, trace.json
 *   atf_writer_close(w);
 *
 * Session layout: <output_root>/session_YYYYMMDD_HHMMSS/pid_<pid>/{events.bin,trace.json}, the
 * date taken from the session clock in UTC (or session_<label> when a label is given).
 * events.bin is a length-delimited stream of atf.v4.Event messages: [varint length][Event]...
 * with canonical (shortest) varints; event_id counts from ATF_WRITER_FIRST_EVENT_ID (1) in file
 * order: TraceStart is 1, the next event 2, ... The TraceStart and TraceEnd the writer writes
 * itself carry thread_id 0 (options.session_thread_id to change it).
 *
 * Target: a session is written for a target OS and architecture (options.os, options.arch; default
 * the host), not for the host it is written on, so any host writes the same bytes for the same
 * records and options. The target decides the register names (per architecture), the signal names
 * (per the OS's numbering: SIGUSR1 is 10 on linux, 30 on darwin), TraceStart's operating_system
 * and cpu_architecture, and the manifest's os and arch. testdata/golden/ holds one session per
 * target (linux and darwin x x86_64 and arm64).
 *
 * Durability contract:
 *   - After atf_writer_flush() returns ATF_WRITER_OK, every event passed to
 *     atf_writer_write() before it is in events.bin and fsync'ed: it survives a crash of the
 *     process or a power loss.
 *   - events.bin never ends inside a record because of an error the writer saw: when a write fails
 *     (ENOSPC, EIO, ...) the file is truncated back to the last complete record, the error is
 *     returned, and the writer enters the failed state (every later call returns
 *     ATF_WRITER_E_FAILED except close). events_written/bytes_written count exactly the
 *     complete records left in the file. A process crash (or an ftruncate that fails too) can
 *     leave a torn tail; atf-validate reports it as truncation. EINTR and short writes are
 *     retried, never reported.
 *   - An fsync failure also puts the writer in the failed state: what reached the disk is unknown.
 *   - trace.json is written atomically by atf_writer_finalize(): a temporary file is written and
 *     fsync'ed, renamed over trace.json, and the directory is fsync'ed. It is either absent or
 *     complete; its eventCount and bytesWritten describe exactly the events.bin beside it. (If
 *     only the final directory fsync fails, finalize returns the error although trace.json is
 *     already in place, complete.)
 *   - Files and directories are created with O_EXCL / O_NOFOLLOW semantics: an existing session
 *     directory is never reused (ATF_WRITER_E_EXISTS) and no symlink is followed at the
 *     last component.
 *
 * Manifest keys: formatVersion ("ATF V4"), writer ("atf-writer <version>"), os ("linux", "darwin"
 * or "unknown"), arch ("x86_64", "aarch64" or "unknown"; the same values as TraceStart), pid,
 * sessionId, executablePath, clock ("CLOCK_REALTIME", or options.clock_name / "custom" with a
 * caller's clock), timeStartNs/timeEndNs (min/max
 * of every event timestamp, TraceStart and TraceEnd included), eventCount, bytesWritten, modules
 * (UUID strings), and droppedEvents/droppedEventsByThread ({"<tid>": n}) once drops were recorded.
 * Every integer is written as exact decimal text (no double rounding, any uint64).
 *
 * Memory: fixed at open (write buffer, conversion scratch) plus the symbol table and module list;
 * nothing is allocated per event, except for an event larger than the whole write buffer (only a
 * symbol name or TraceStart argv of that size can make one).
 *
 * Threads: one thread drives a writer (open/write/flush/finalize/close).
 * atf_writer_intern_symbol(), atf_writer_add_module() and atf_writer_record_drops() may be called
 * from any thread at any time before finalize. Nothing is printed; errors are returned as
 * atf_writer_status codes. With options.io_thread the writer starts one thread of its own (all
 * signals blocked) that writes full buffers while the caller fills the next; the file operations
 * still never run on two threads at once (atf_file_ops implementations need no locking). The
 * durability contract is the same; only the moment an error of a background write is returned
 * moves: to the next atf_writer_write() that fills a buffer, or flush / finalize / close, whichever
 * comes first. Flush, finalize and close wait for the write in flight. A writer belongs to the
 * process that opened it: after fork() the child must not use it (with io_thread its I/O thread
 * does not exist there; without, the two processes' writes would interleave).
 */
#ifndef ATF_WRITER_H_
#define ATF_WRITER_H_

#include <stddef.h>
#include <stdint.h>

#include "writer/atf/ring_record.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The default of atf_writer_options.max_stack_bytes (and of the tracer's). */
#define ATF_WRITER_DEFAULT_MAX_STACK 256u

/* Written into the manifest's "writer" key as "atf-writer <version>". */
#define ATF_WRITER_VERSION "0.1.0"

/* event_id of a session's first event (TraceStart); each next event in file order gets one more.
 * The original ATF V4 writer numbered the events it numbered itself the same way (its counter
 * started at 1; 0 meant "assign one"). Readers accept any strictly increasing ids, 0 first
 * included (this writer numbered from 0 before). */
#define ATF_WRITER_FIRST_EVENT_ID 1

/* Status codes, in the one scheme of every public header (ATF_<MODULE>_OK, ATF_<MODULE>_E_*,
 * atf_<module>_strerror()). The values are stable: scripts and logs may rely on them; they are
 * those of the former ATF_OK / ATF_E_* names (renamed on 2026-11-28, values unchanged). */
typedef enum atf_writer_status {
  ATF_WRITER_OK = 0,
  ATF_WRITER_E_INVALID_ARGUMENT = 1, /* a NULL or out-of-range argument */
  ATF_WRITER_E_STATE = 2,            /* call not allowed now (e.g. write after finalize) */
  ATF_WRITER_E_NO_MEMORY = 3,
  ATF_WRITER_E_IO = 4,         /* an I/O error (EIO, ...); atf_writer_last_errno() has errno */
  ATF_WRITER_E_NO_SPACE = 5,   /* ENOSPC or EDQUOT */
  ATF_WRITER_E_EXISTS = 6,     /* the session directory already exists */
  ATF_WRITER_E_LIMIT = 7,      /* max_events or max_file_bytes reached; nothing more is written */
  ATF_WRITER_E_BAD_RECORD = 8, /* malformed ring record (size, kind, counts, symbol id) */
  ATF_WRITER_E_FAILED = 9      /* an earlier I/O error put the writer in the failed state */
} atf_writer_status;

/* A static, human-readable description of `status` ("unknown status" for other values). */
const char *atf_writer_strerror(atf_writer_status status);

/* Target architectures. The values are stable. */
typedef enum atf_arch {
  ATF_ARCH_UNKNOWN = 0, /* registers named R0, R1, ... */
  ATF_ARCH_X86_64 = 1,  /* x86-64, System V ABI register names */
  ATF_ARCH_ARM64 = 2    /* AArch64 (arm64), AAPCS64 register names */
} atf_arch;

/* Target operating systems: they number signals differently. The values are stable. */
typedef enum atf_os {
  ATF_OS_UNKNOWN = 0, /* every signal named SIG<n> */
  ATF_OS_LINUX = 1,
  ATF_OS_DARWIN = 2
} atf_os;

/* The architecture / OS this code was compiled for: the defaults of atf_writer_options. */
atf_arch atf_host_arch(void);
atf_os atf_host_os(void);
/* As written into TraceStart.cpu_architecture and the manifest's arch: "x86_64", "aarch64" (the
 * original ATF V4 writer's word for arm64) or "unknown" (also for values outside the enum). */
const char *atf_arch_name(atf_arch arch);
/* As written into TraceStart.operating_system and the manifest's os: "linux", "darwin" or
 * "unknown" (also for values outside the enum). */
const char *atf_os_name(atf_os os);

/* Name of register `index` of a record of `kind` (ATF_KIND_CALL/RETURN/SIGNAL) on `arch`, in
 * canonical order; NULL when `index` is past the last register the kind names on that arch.
 * On ATF_ARCH_UNKNOWN, registers are named "R0", "R1", ... up to ATF_RECORD_MAX_REGS. */
const char *atf_register_name(atf_arch arch, int kind, unsigned index);
/* Number of registers `kind` names on `arch` (6/8 for CALL, 2 for RETURN, the full dump for
 * SIGNAL on x86_64/arm64). */
unsigned atf_register_count(atf_arch arch, int kind);

/* Name of signal `number` as numbered on `os`, as written into SignalDelivery.name: "SIGUSR1" is
 * 10 on ATF_OS_LINUX (x86_64 and arm64 alike) and 30 on ATF_OS_DARWIN. Every signal 1..31 of
 * either system has its name (linux: the kernel's asm-generic and x86 <asm/signal.h>; darwin:
 * xnu's <sys/signal.h>); a number with aliases (SIGIOT, SIGPOLL, SIGCLD) gets its primary name.
 * Any other number, Linux real-time signals 32..64 included (their SIGRTMIN+n names depend on the
 * C library, whose SIGRTMIN is a run-time value: 34 with Debian 12's glibc), and every number on
 * ATF_OS_UNKNOWN, is formatted "SIG<n>" into buf, which is then returned. Async-signal-safe; no
 * allocation. */
const char *atf_signal_name(atf_os os, int number, char buf[16]);

typedef enum atf_flush_policy {
  ATF_FLUSH_EXPLICIT = 0,    /* only atf_writer_flush() and finalize make events durable */
  ATF_FLUSH_EVERY_BATCH = 1, /* every atf_writer_write() ends with a flush */
  ATF_FLUSH_INTERVAL = 2 /* a write flushes when flush_interval_ns passed since the last flush */
} atf_flush_policy;

/* Nanoseconds since the Unix epoch. */
typedef uint64_t (*atf_clock_fn)(void *ctx);

struct atf_file_ops; /* atf/file_ops.h: the file-operation seam for fault injection */

/* Why atf_writer_open() failed, for a message that names the cause and the path: point
 * atf_writer_options.open_error at one of these. The writer is freed when open fails, so this is
 * the only place its errno and path survive. atf_writer_format_open_error() makes the message. */
typedef struct atf_writer_open_error {
  atf_writer_status status; /* what atf_writer_open() returned (ATF_WRITER_OK on success) */
  int error_number;         /* errno of the system call that failed; 0 when the failure was no
                               system call's (invalid options, out of memory) */
  const char *operation;    /* static, "" when error_number is 0; what failed, a verb phrase
                               for "cannot <operation> <path>": "create" (mkdir of the output
                               root, the session or pid_<pid> directory; creating events.bin),
                               "sync" (fsync of a directory after its new entry), "write"
                               (TraceStart into events.bin: write(2) or fsync), "start the I/O
                               thread", "read random bytes for the session id" */
  char path[4096];          /* the file or directory of that call ("" when it has none); a
                               longer path is cut, NUL-terminated */
} atf_writer_open_error;

typedef struct atf_writer_options {
  const char *output_root;   /* required; created if missing (one level) */
  const char *session_label; /* optional: session_<label> instead of session_<date>_<time> */
  int32_t pid;               /* traced process id; 0 = getpid() */
  uint64_t session_id;       /* manifest sessionId; 0 = random in [1, 2^53), so that even a
                                JSON reader using doubles reads it exactly */
  atf_clock_fn clock;        /* optional; NULL = CLOCK_REALTIME */
  void *clock_ctx;
  const char *clock_name;      /* the manifest's "clock" with a caller's clock: printable ASCII,
                                  1..64 bytes; NULL = "custom" (ignored without `clock`) */
  const char *executable_path; /* TraceStart; NULL = the current executable */
  const char *const *argv;     /* TraceStart args; may be NULL with argc == 0 */
  size_t argc;
  atf_os os;     /* target OS: signal names, TraceStart.operating_system, manifest
                    os; default atf_host_os() */
  atf_arch arch; /* target architecture: register names, TraceStart.cpu_architecture,
                    manifest arch; default atf_host_arch() */
  atf_flush_policy flush_policy;
  uint64_t flush_interval_ns; /* for ATF_FLUSH_INTERVAL; default 100 ms */
  size_t buffer_bytes;        /* write buffer; default 1 MiB (0 = default); smaller values are
                                 raised to 64 KiB */
  uint32_t max_stack_bytes;   /* stack copy cap per event; default 256, max ATF_RECORD_MAX_STACK;
                                 0 = no stack bytes */
  uint64_t max_events;        /* 0 = unlimited; counts TraceStart; the TraceEnd finalize writes
                                 is always allowed (one past the limit) */
  uint64_t max_file_bytes;    /* 0 = unlimited; likewise, TraceEnd may exceed it */
  int collect_modules;        /* default 1: list loaded modules' build ids in the manifest */
  const struct atf_file_ops *file_ops; /* NULL = the real system calls */
  int32_t session_thread_id; /* thread_id of the TraceStart/TraceEnd the writer itself writes;
                                default 0, as docs/format.md and atf-recover have it: session
                                events belong to no traced thread */
  int io_thread_nice;        /* Linux: the nice value the I/O thread asks for itself (-20..19;
                                0 = the opening thread's). A tracer whose drain runs at a raised
                                priority gives its I/O thread the same, or the drain waits on
                                it; refused (no CAP_SYS_NICE / RLIMIT_NICE): left as is */
  int io_thread;             /* 1: write(2) of full buffers runs on a thread the writer owns
                                (one more buffer_bytes of memory), so encoding goes on while the
                                kernel copies; default 0: no thread is created. See Threads. */
  int keep_page_cache;       /* Linux, real system calls (file_ops NULL). 0 (default): only the
                                last 4 buffers (4 MiB by default) of events.bin stay in the page
                                cache; each buffer written is handed to write-back at once
                                (sync_file_range) and the pages behind that window are dropped
                                (POSIX_FADV_DONTNEED; a page not yet written back is skipped,
                                nothing waits for the device). A long session then neither fills
                                memory with its pages nor pushes the traced program's data out,
                                and the kernel reuses the same few pages (README, Performance:
                                zlib traced with its files kept). Errors still surface at fsync.
                                Reading the file back soon after reads it from the device.
                                1: leave the file to the kernel. Ignored with direct_io. */
  int direct_io;             /* Linux, real system calls (file_ops NULL; ignored otherwise).
                                1: events.bin bypasses the page cache (O_DIRECT): whole blocks of
                                the buffer (the filesystem's st_blksize, at least 4096 bytes) go
                                straight from the buffer to the device, and the partial block at
                                its end stays in the buffer for the next write. Flush, write_out,
                                finalize and close also write that partial block, through the page
                                cache, so that events.bin always ends at the last record written
                                (never padded); the next write rewrites the block directly. The
                                kernel then copies no event into the page cache and the traced
                                program's cached data stays; whether it costs less CPU or time
                                than the default window depends on the machine and buffer_bytes
                                (README, Performance). Durability, errors and the bytes written
                                are those of buffered writes; but a direct write returns when the
                                device has the bytes, so atf_writer_write_out() waits for the
                                device for the whole blocks it writes (at most one buffer). A
                                filesystem that refuses O_DIRECT (ramfs, some FUSE filesystems)
                                gets buffered writes, not an error: atf_writer_direct_io() tells
                                which. Default 0. */
  atf_writer_open_error *open_error; /* optional (default NULL): atf_writer_open() fills it on
                                every call, zeroed with status ATF_WRITER_OK on success; on
                                failure with the status and, when a system call failed, its
                                errno, what it was doing and on which path. The tracer passes
                                it through (atf_tracer_options.writer). */
} atf_writer_options;

typedef struct atf_writer atf_writer;

typedef struct atf_writer_stats {
  uint64_t events_written; /* complete events in events.bin, including TraceStart */
  uint64_t bytes_written;  /* bytes of complete records in events.bin (written, maybe not synced);
                              buffered events are not counted until they reach the file */
  uint64_t bytes_durable;  /* bytes covered by the last successful flush */
  uint64_t utf8_replacements; /* invalid UTF-8 sequences replaced by U+FFFD */
  uint64_t stack_truncations; /* stack copies cut to max_stack_bytes */
  uint64_t first_timestamp_ns;
  uint64_t last_timestamp_ns;
  uint64_t dropped_events;  /* as reported with atf_writer_record_drops() */
  uint64_t events_buffered; /* accepted but still in the write buffer (not in events_written) */
} atf_writer_stats;

/* Fills `o` with defaults. */
void atf_writer_options_init(atf_writer_options *o);

/* Creates the session directory and events.bin, and writes TraceStart and fsyncs it (so a full
 * disk shows up here). REQUIRES: o->output_root != NULL. On error *out is NULL and nothing is left
 * half-created except empty directories (session_.../pid_<pid>/) when the error happened after
 * creating them: events.bin is unlinked. session_label: 1..128 printable ASCII characters, no '/',
 * not "." or ".." (else ATF_WRITER_E_INVALID_ARGUMENT); os and arch: a value of their enum (else
 * ATF_WRITER_E_INVALID_ARGUMENT). */
atf_writer_status atf_writer_open(const atf_writer_options *o, atf_writer **out);

/* Writes the message of a failed open into buf (NUL-terminated, cut to `size`; nothing when size
 * is 0) and returns buf: "cannot <operation> <path>: <strerror(error_number)>" (e.g. "cannot
 * create /tmp/nope/deeper: No such file or directory"; without the path when there is none), or
 * atf_writer_strerror(status) when no system call failed. */
const char *atf_writer_format_open_error(const atf_writer_open_error *e, char *buf, size_t size);

/* Interns a symbol name (any bytes; invalid UTF-8 and NUL bytes are replaced by U+FFFD once, here,
 * and counted in utf8_replacements) and returns its id (>= 1, stable for the session; the same
 * bytes return the same id). Thread-safe. */
atf_writer_status atf_writer_intern_symbol(atf_writer *w, const char *name, size_t len,
                                           uint32_t *id);

/* Appends the records in [records, records + bytes) (atf_ring_record, end to end, each `size`
 * bytes) as events. Either every record of the batch is accepted or, on ATF_WRITER_E_BAD_RECORD,
 * none is (the batch is checked first; see writer/internal/batch.h for the rules; an event after a
 * TRACE_END of the same batch is such a record). A well-formed batch with events after a TRACE_END
 * written earlier is refused with ATF_WRITER_E_STATE. ATF_WRITER_E_LIMIT: the records before the
 * one that hit the limit were accepted, the rest were not. REQUIRES: records 8-byte aligned (else
 * ATF_WRITER_E_INVALID_ARGUMENT). */
atf_writer_status atf_writer_write(atf_writer *w, const void *records, size_t bytes);

/* Appends records like atf_writer_write(), in one walk: each record is checked right before it is
 * encoded, so a bad record stops the batch with ATF_WRITER_E_BAD_RECORD after the records before it
 * were accepted (a prefix; the same rules), and a well-formed event after a TRACE_END written by an
 * earlier batch stops it with ATF_WRITER_E_STATE (a malformed one is ATF_WRITER_E_BAD_RECORD: the
 * record's own check comes first). *events (may be NULL) is set in every case to the number of
 * events (non-PAD records) of this batch the writer holds afterwards: all of them on ATF_WRITER_OK,
 * the accepted prefix on ATF_WRITER_E_BAD_RECORD / ATF_WRITER_E_STATE / ATF_WRITER_E_LIMIT, and
 * after an I/O error those not lost with the failed buffer. The drain worker's entry point: no
 * second pass, no stats call. */
atf_writer_status atf_writer_append(atf_writer *w, const void *records, size_t bytes,
                                    uint64_t *events);

/* Writes buffered events to events.bin and fsyncs it: the durability point. */
atf_writer_status atf_writer_flush(atf_writer *w);

/* Writes buffered events to events.bin without fsync: on return every event passed to
 * atf_writer_write()/_append() before it has been written with write(2) (with the I/O thread,
 * the buffer in flight has been collected), so it survives a crash of this process, not a power
 * loss (bytes_durable does not move). Costs one write of the partial buffer; never waits for the
 * disk. Errors as atf_writer_flush() (the failed state after an I/O error). */
atf_writer_status atf_writer_write_out(atf_writer *w);

/* Adds a module identity (UUID string 8-4-4-4-12 hex, else ATF_WRITER_E_INVALID_ARGUMENT; stored
 * lowercase) to the manifest's `modules`; duplicates are ignored. Thread-safe. With
 * collect_modules, the writer adds the loaded modules itself at open and at finalize (Linux: the
 * GNU build id of each ELF object, first 16 bytes as a UUID, zero-padded when shorter; darwin:
 * LC_UUID). */
atf_writer_status atf_writer_add_module(atf_writer *w, const char *uuid);

/* Records that `count` events of `thread_id` were dropped before reaching the writer (full ring).
 * Adds up per thread (saturating at UINT64_MAX); the manifest gets droppedEvents and
 * droppedEventsByThread. Thread-safe. */
atf_writer_status atf_writer_record_drops(atf_writer *w, int32_t thread_id, uint64_t count);

/* Writes TraceEnd (with `exit_code`) unless a TRACE_END record was written, flushes, and writes
 * trace.json atomically. A second call returns ATF_WRITER_OK and changes nothing. */
atf_writer_status atf_writer_finalize(atf_writer *w, int32_t exit_code);

/* Frees the writer. Does not finalize: a session closed without finalize has no trace.json, as
 * after a crash; buffered events are still written (best effort, not fsync'ed). Accepts NULL. */
void atf_writer_close(atf_writer *w);

void atf_writer_get_stats(const atf_writer *w, atf_writer_stats *out);
/* The session directory (<root>/session_.../pid_<pid>), valid until close. */
const char *atf_writer_session_dir(const atf_writer *w);
/* errno of the last failed system call (0 if none). */
int atf_writer_last_errno(const atf_writer *w);
/* 1 when events.bin is being written with O_DIRECT (options.direct_io asked for it and the
 * filesystem took it), else 0. When direct_io was asked for and the filesystem refused O_DIRECT
 * (the session then writes through the page cache, as without the option), *refused_errno (may be
 * NULL) gets the errno of the refusal (EINVAL: ramfs, some FUSE filesystems), else 0. */
int atf_writer_direct_io(const atf_writer *w, int *refused_errno);

#ifdef __cplusplus
}
#endif

#endif /* ATF_WRITER_H_ */
