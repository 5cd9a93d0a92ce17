/* The ATF V4 session writer: see atf/writer.h for the contract.
 *
 * Write path: each record is checked (internal/batch.h), then converted and framed straight into
 * one user-space buffer (internal/encode.h) that is written with write(2) only when full, on flush
 * and on finalize. Memory is fixed at open: the buffer, the conversion scratch (map entries for
 * ATF_RECORD_MAX_REGS registers), the symbol table (grows with symbols, never with events). The only
 * per-event allocation is for an event larger than the whole buffer, which only a symbol name or a
 * TraceStart argv of that size can produce.
 *
 * Boundaries: committed_bytes is the length of events.bin made of complete records, the only length
 * the stats and the manifest report. A write error in the middle of the buffer leaves a prefix of
 * it in the file; the framing of that prefix (our own bytes) is walked to keep the complete records
 * it holds, and the file is truncated back to that boundary.
 *
 * I/O thread (options.io_thread): a second buffer of the same size and a thread that owns it while
 * it is written. A full buffer is handed over (io_submit) and encoding goes on in the other one;
 * the hand-over first waits for the previous write and settles it (io_collect), so there is at most
 * one buffer in flight and the file operations never run on two threads at once: the writer's
 * thread touches the file (fsync, ftruncate, the oversized-event write, close) only with nothing
 * in flight. A write error is settled exactly as without the thread (same truncation, same failed
 * state), by the writer's thread, at the next hand-over, flush, finalize or close; the buffer being
 * filled then is discarded like the unwritten rest of a failed buffer.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "atf/writer.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#elif defined(__APPLE__)
#include <mach-o/dyld.h>
#include <sys/random.h> /* getentropy */
#endif

#include "atf/file_ops.h"
#include "internal/batch.h"
#include "internal/encode.h"
#include "internal/fileio.h"
#include "internal/manifest.h"
#include "internal/modules.h"
#include "internal/symtab.h"
#include "internal/utf8.h"
#include "internal/varint.h"

#define DEFAULT_BUFFER_BYTES (1u << 20)
#define MIN_BUFFER_BYTES (64u << 10)
_Static_assert(MIN_BUFFER_BYTES >= ATF_ENCODE_FAST_BOUND_MAX, "a fresh buffer fits any fast bound");
#define DEFAULT_FLUSH_INTERVAL_NS 100000000ull
#define DEFAULT_MAX_STACK 256u

enum { STATE_OPEN = 0, STATE_FINALIZED = 1, STATE_FAILED = 2 };

struct atf_writer {
  const atf_file_ops *ops;
  atf_symtab *symtab;
  atf_encoder enc;
  atf_record_limits limits; /* per-kind register counts of the session's architecture */

  atf_clock_fn clock;
  void *clock_ctx;
  char clock_name[65];
  atf_flush_policy flush_policy;
  uint64_t flush_interval_ns, max_events, max_file_bytes;
  int collect_modules;
  int32_t pid, session_tid;
  atf_arch arch;
  const char *os;        /* atf_os_name() of the target OS: static */
  char *executable_path; /* sanitised UTF-8 */
  uint64_t session_id;
  char *session_dir;                       /* <root>/session_.../pid_<pid> */
  int fd;

  uint8_t *buf;
  size_t cap, len;     /* buffered bytes: complete records only */
  uint64_t buf_events; /* records in buf */

  /* The I/O thread (io_on): io_buf/io_len/io_events is the buffer handed to it (io_pending until
   * collected); io_work, io_done, io_stop, io_err and io_written are shared under io_mu. */
  int io_on, io_started, io_pending, io_nice;
  uint8_t *io_buf;
  size_t io_len;
  uint64_t io_events;
  pthread_t io_tid;
  pthread_mutex_t io_mu;
  pthread_cond_t io_work_cv, io_done_cv;
  int io_work, io_done, io_stop, io_err;
  size_t io_written;

  uint64_t next_event_id; /* events accepted (on disk or buffered) */
  uint64_t committed_bytes, committed_events, durable_bytes;
  uint64_t first_ts, last_ts, min_ts, max_ts;
  uint64_t last_flush_ns;
  int trace_end_written, limit_reached, last_errno;
  _Atomic int state;
  _Atomic uint64_t utf8_replacements;

  pthread_mutex_t lock; /* modules and drops: any thread */
  char **modules;
  size_t n_modules, cap_modules;
  atf_thread_drops *drops;
  size_t n_drops, cap_drops;
  uint64_t dropped_events;
  int has_drops;
};

/* ---- small helpers ------------------------------------------------------------------------- */

static uint64_t realtime_ns(void *ctx) {
  (void)ctx;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A fresh NUL-terminated, sanitised copy of s[0..len); *replacements += U+FFFD count. */
static char *sanitised_copy(const char *s, size_t len, uint64_t *replacements) {
  size_t n = atf_utf8_sanitized_size((const uint8_t *)s, len);
  char *out = malloc(n + 1);
  if (out != NULL) *replacements += atf_utf8_sanitize((const uint8_t *)s, len, out, NULL);
  return out;
}

static char *path_join(const char *a, const char *b) {
  size_t n = strlen(a) + 1 + strlen(b) + 1;
  char *p = malloc(n);
  if (p != NULL) snprintf(p, n, "%s/%s", a, b);
  return p;
}

/* A label becomes a directory name: printable ASCII, no '/', not "." or "..", 1..128 bytes. */
static int label_valid(const char *label) {
  size_t n = strlen(label);
  if (n == 0 || n > 128 || strcmp(label, ".") == 0 || strcmp(label, "..") == 0) return 0;
  for (size_t i = 0; i < n; i++) {
    if (label[i] < 0x20 || label[i] > 0x7e || label[i] == '/') return 0;
  }
  return 1;
}

/* A manifest clock name: 1..64 printable ASCII characters. */
static int clock_name_valid(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > 64) return 0;
  for (size_t i = 0; i < n; i++) {
    if (name[i] < 0x20 || name[i] > 0x7e) return 0;
  }
  return 1;
}

static char *default_executable_path(void) {
  char path[4096];
  ssize_t n = -1;
#if defined(__linux__)
  n = readlink("/proc/self/exe", path, sizeof path - 1);
#elif defined(__APPLE__)
  uint32_t size = sizeof path;
  if (_NSGetExecutablePath(path, &size) == 0) n = (ssize_t)strlen(path);
#endif
  if (n < 0) n = 0;
  path[n] = '\0';
  return strdup(path);
}

/* A random session id in [1, 2^53): exact as a JSON number even for readers that use doubles. */
static int random_session_id(uint64_t *out) {
  uint64_t v = 0;
  do {
    if (getentropy(&v, sizeof v) != 0) return 0;
    v &= (UINT64_C(1) << 53) - 1;
  } while (v == 0);
  *out = v;
  return 1;
}

static atf_status fail(atf_writer *w, int err) {
  w->last_errno = err;
  atomic_store(&w->state, STATE_FAILED);
  return atf_status_from_errno(err);
}

static atf_status check_open(const atf_writer *w) {
  switch (atomic_load(&((atf_writer *)w)->state)) {
    case STATE_FAILED: return ATF_E_FAILED;
    case STATE_FINALIZED: return ATF_E_STATE;
    default: return ATF_OK;
  }
}

/* ---- the byte sink ------------------------------------------------------------------------- */

static int truncate_to(atf_writer *w, uint64_t length) {
  for (;;) {
    if (w->ops->ftruncate(w->ops->ctx, w->fd, (off_t)length) == 0) return 0;
    if (errno != EINTR) return errno;
  }
}

/* Accounts for a buffer of `len` bytes holding `events` records whose write ended with `err` after
 * `done` bytes reached the file. On error keeps the complete records of that prefix, truncates
 * the rest, and fails the writer. REQUIRES: nothing in flight (the writer's thread owns the fd). */
static atf_status settle(atf_writer *w, const uint8_t *buf, size_t len, uint64_t events, int err,
                         size_t done) {
  if (err == 0) {
    w->committed_bytes += len;
    w->committed_events += events;
    return ATF_OK;
  }
  size_t keep = 0;
  for (;;) {
    uint64_t n;
    size_t h = atf_varint_decode(buf + keep, done - keep, &n);
    if (h == 0 || n > (uint64_t)(done - keep - h)) break;
    keep += h + (size_t)n;
    w->committed_events++;
  }
  w->committed_bytes += keep;
  truncate_to(w, w->committed_bytes); /* if this fails too, a torn tail remains (as after a crash) */
  return fail(w, err);
}

/* Waits for the buffer the I/O thread is writing, if any, and settles it. */
static atf_status io_collect(atf_writer *w) {
  if (!w->io_pending) return ATF_OK;
  pthread_mutex_lock(&w->io_mu);
  while (!w->io_done) pthread_cond_wait(&w->io_done_cv, &w->io_mu);
  w->io_done = 0;
  const int err = w->io_err;
  const size_t done = w->io_written;
  pthread_mutex_unlock(&w->io_mu);
  w->io_pending = 0;
  return settle(w, w->io_buf, w->io_len, w->io_events, err, done);
}

/* Writes the buffer on this thread (after the one in flight, if any). */
static atf_status drain_sync(atf_writer *w) {
  atf_status st = io_collect(w);
  if (st == ATF_OK && w->len != 0) {
    size_t done;
    int err = atf_write_all(w->ops, w->fd, w->buf, w->len, &done);
    st = settle(w, w->buf, w->len, w->buf_events, err, done);
  }
  w->len = 0;
  w->buf_events = 0;
  return st;
}

/* Empties the buffer: hands it to the I/O thread (after settling the previous one), or writes it. */
static atf_status drain(atf_writer *w) {
  if (!w->io_on) return drain_sync(w);
  atf_status st = io_collect(w);
  if (st != ATF_OK || w->len == 0) {
    w->len = 0;
    w->buf_events = 0;
    return st;
  }
  uint8_t *b = w->io_buf;
  w->io_buf = w->buf;
  w->io_len = w->len;
  w->io_events = w->buf_events;
  w->buf = b;
  w->len = 0;
  w->buf_events = 0;
  w->io_pending = 1;
  pthread_mutex_lock(&w->io_mu);
  w->io_work = 1;
  pthread_cond_signal(&w->io_work_cv);
  pthread_mutex_unlock(&w->io_mu);
  return ATF_OK;
}

static void *io_main(void *arg) {
  atf_writer *w = (atf_writer *)arg;
#if defined(__linux__)
  /* Per thread on Linux: PRIO_PROCESS with a thread id. A refusal keeps the default priority. */
  if (w->io_nice != 0) (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), w->io_nice);
#endif
  pthread_mutex_lock(&w->io_mu);
  for (;;) {
    while (!w->io_work && !w->io_stop) pthread_cond_wait(&w->io_work_cv, &w->io_mu);
    if (!w->io_work) break; /* stop, nothing handed over */
    w->io_work = 0;
    const uint8_t *b = w->io_buf;
    const size_t n = w->io_len;
    pthread_mutex_unlock(&w->io_mu);
    size_t done = 0;
    const int err = atf_write_all(w->ops, w->fd, b, n, &done);
    pthread_mutex_lock(&w->io_mu);
    w->io_err = err;
    w->io_written = done;
    w->io_done = 1;
    pthread_cond_signal(&w->io_done_cv);
  }
  pthread_mutex_unlock(&w->io_mu);
  return NULL;
}

/* Starts the I/O thread with every signal blocked: a traced process's handlers never run on it. */
static int io_start(atf_writer *w) {
  /* The two failures below (no memory, no thread) are not provoked by the tests: open returns
   * ATF_E_NO_MEMORY / ATF_E_IO and close releases what was made, the path every other open
   * failure takes. */
  w->io_buf = malloc(w->cap);
  if (w->io_buf == NULL) return ENOMEM;
  pthread_mutex_init(&w->io_mu, NULL);
  pthread_cond_init(&w->io_work_cv, NULL);
  pthread_cond_init(&w->io_done_cv, NULL);
  w->io_started = 1; /* the primitives exist: close destroys them */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&w->io_tid, NULL, io_main, w);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) return rc;
  w->io_on = 1;
  return 0;
}

/* Stops and joins the I/O thread; a write in flight finishes first (it is not settled). */
static void io_stop(atf_writer *w) {
  if (!w->io_started) return;
  if (w->io_on) {
    pthread_mutex_lock(&w->io_mu);
    w->io_stop = 1;
    pthread_cond_signal(&w->io_work_cv);
    pthread_mutex_unlock(&w->io_mu);
    pthread_join(w->io_tid, NULL);
    w->io_on = 0;
  }
  pthread_cond_destroy(&w->io_work_cv);
  pthread_cond_destroy(&w->io_done_cv);
  pthread_mutex_destroy(&w->io_mu);
  w->io_started = 0;
}

/* event_id of the next event: ids count from ATF_WRITER_FIRST_EVENT_ID in file order (atf/writer.h
 * says why 1). next_event_id counts the events accepted so far. */
static uint64_t event_id_next(const atf_writer *w) {
  return ATF_WRITER_FIRST_EVENT_ID + w->next_event_id;
}

static void account(atf_writer *w, uint64_t timestamp_ns) {
  if (w->next_event_id == 0) w->first_ts = w->min_ts = w->max_ts = timestamp_ns;
  if (timestamp_ns < w->min_ts) w->min_ts = timestamp_ns;
  if (timestamp_ns > w->max_ts) w->max_ts = timestamp_ns;
  w->last_ts = timestamp_ns;
  w->next_event_id++;
}

/* Appends the event converted in w->enc.scratch.event, whose framed size is `framed`. */
static atf_status append_converted(atf_writer *w, size_t framed, uint64_t timestamp_ns) {
  const Atf__V4__Event *ev = &w->enc.scratch.event;
  if (framed > w->cap - w->len) {
    atf_status st = drain(w);
    if (st != ATF_OK) return st;
  }
  if (framed <= w->cap) {
    atf_encode_event(ev, w->buf + w->len, w->cap - w->len);
    w->len += framed;
    w->buf_events++;
    account(w, timestamp_ns);
    return ATF_OK;
  }
  atf_status st = io_collect(w); /* the file is this thread's again */
  if (st != ATF_OK) return st;
  uint8_t *big = malloc(framed); /* larger than the whole buffer: rare, see the top comment */
  if (big == NULL) return ATF_E_NO_MEMORY;
  atf_encode_event(ev, big, framed);
  size_t done;
  int err = atf_write_all(w->ops, w->fd, big, framed, &done);
  free(big);
  if (err != 0) {
    truncate_to(w, w->committed_bytes);
    return fail(w, err);
  }
  w->committed_bytes += framed;
  w->committed_events++;
  account(w, timestamp_ns);
  return ATF_OK;
}

/* Appends one checked, non-PAD record, honouring max_file_bytes (TRACE_END is always written).
 * A call or return that does not fit the room left gets a fresh buffer (the full one is handed
 * over) and is encoded there on the fast path, like every other. */
static atf_status append_record(atf_writer *w, const atf_ring_record *r) {
  size_t room = w->cap - w->len;
  int converted;
  size_t framed = atf_encode_record(&w->enc, r, event_id_next(w), w->buf + w->len, room, &converted);
  if (ATF_UNLIKELY(framed > room) && !converted) { /* framed is the fast path's bound <= cap */
    atf_status st = drain(w);
    if (st != ATF_OK) return st;
    room = w->cap - w->len;
    framed = atf_encode_record(&w->enc, r, event_id_next(w), w->buf + w->len, room, &converted);
  }
  if (w->max_file_bytes != 0 && r->kind != ATF_KIND_TRACE_END &&
      w->committed_bytes + (w->io_pending ? w->io_len : 0) + w->len + framed > w->max_file_bytes) {
    w->limit_reached = 1;
    return ATF_E_LIMIT;
  }
  if (ATF_LIKELY(framed <= room)) {
    w->len += framed;
    w->buf_events++;
    account(w, r->timestamp_ns);
    return ATF_OK;
  }
  return append_converted(w, framed, r->timestamp_ns);
}

static atf_status flush(atf_writer *w) {
  atf_status st = drain_sync(w);
  if (st != ATF_OK) return st;
  int err = atf_fsync_retry(w->ops, w->fd);
  if (err != 0) return fail(w, err);
  w->durable_bytes = w->committed_bytes;
  w->last_flush_ns = w->clock(w->clock_ctx);
  return ATF_OK;
}

/* ---- options and open ---------------------------------------------------------------------- */

void atf_writer_options_init(atf_writer_options *o) {
  memset(o, 0, sizeof *o);
  o->os = atf_host_os();
  o->arch = atf_host_arch();
  o->flush_policy = ATF_FLUSH_EXPLICIT;
  o->flush_interval_ns = DEFAULT_FLUSH_INTERVAL_NS;
  o->buffer_bytes = DEFAULT_BUFFER_BYTES;
  o->max_stack_bytes = DEFAULT_MAX_STACK;
  o->collect_modules = 1;
}

static int options_valid(const atf_writer_options *o) {
  if (o->output_root == NULL || o->output_root[0] == '\0') return 0;
  if (o->session_label != NULL && !label_valid(o->session_label)) return 0;
  if (o->pid < 0 || o->max_stack_bytes > ATF_RECORD_MAX_STACK) return 0;
  if (o->io_thread_nice < -20 || o->io_thread_nice > 19) return 0;
  if (o->arch != ATF_ARCH_UNKNOWN && o->arch != ATF_ARCH_X86_64 && o->arch != ATF_ARCH_ARM64) return 0;
  if (o->os != ATF_OS_UNKNOWN && o->os != ATF_OS_LINUX && o->os != ATF_OS_DARWIN) return 0;
  if (o->flush_policy != ATF_FLUSH_EXPLICIT && o->flush_policy != ATF_FLUSH_EVERY_BATCH &&
      o->flush_policy != ATF_FLUSH_INTERVAL) {
    return 0;
  }
  if (o->clock != NULL && o->clock_name != NULL && !clock_name_valid(o->clock_name)) return 0;
  if (o->argc > 0 && o->argv == NULL) return 0;
  for (size_t i = 0; i < o->argc; i++) {
    if (o->argv[i] == NULL) return 0;
  }
  return 1;
}

/* Copies the options into a new writer (no files touched yet). */
static atf_status writer_new(const atf_writer_options *o, atf_writer **out) {
  atf_writer *w = calloc(1, sizeof *w);
  if (w == NULL) return ATF_E_NO_MEMORY;
  *out = w;
  w->fd = -1;
  pthread_mutex_init(&w->lock, NULL);
  w->ops = o->file_ops != NULL ? o->file_ops : atf_file_ops_posix();
  w->clock = o->clock != NULL ? o->clock : realtime_ns;
  w->clock_ctx = o->clock_ctx;
  snprintf(w->clock_name, sizeof w->clock_name, "%s",
           o->clock == NULL ? "CLOCK_REALTIME" : o->clock_name != NULL ? o->clock_name : "custom");
  w->flush_policy = o->flush_policy;
  w->flush_interval_ns = o->flush_interval_ns;
  w->max_events = o->max_events;
  w->max_file_bytes = o->max_file_bytes;
  w->collect_modules = o->collect_modules;
  w->pid = o->pid != 0 ? o->pid : (int32_t)getpid();
  w->session_tid = o->session_thread_id;
  w->arch = o->arch;
  w->os = atf_os_name(o->os);
  w->cap = o->buffer_bytes == 0 ? DEFAULT_BUFFER_BYTES : o->buffer_bytes;
  if (w->cap < MIN_BUFFER_BYTES) w->cap = MIN_BUFFER_BYTES;
  w->io_nice = o->io_thread_nice;
  if (o->io_thread) {
    int err = io_start(w);
    if (err != 0) {
      w->last_errno = err;
      return err == ENOMEM ? ATF_E_NO_MEMORY : ATF_E_IO;
    }
  }

  uint64_t repl = 0;
  w->session_id = o->session_id;
  if (w->session_id == 0 && !random_session_id(&w->session_id)) return ATF_E_IO;
  if (o->executable_path != NULL) {
    w->executable_path = sanitised_copy(o->executable_path, strlen(o->executable_path), &repl);
  } else {
    char *raw = default_executable_path();
    if (raw != NULL) w->executable_path = sanitised_copy(raw, strlen(raw), &repl);
    free(raw);
  }
  atomic_store(&w->utf8_replacements, repl);
  w->buf = malloc(w->cap);
  w->symtab = atf_symtab_new();
  if (w->executable_path == NULL || w->buf == NULL || w->symtab == NULL) {
    return ATF_E_NO_MEMORY;
  }
  atf_encoder_init(&w->enc, w->arch, w->os, w->symtab, o->max_stack_bytes);
  atf_record_limits_init(&w->limits, w->arch);
  return ATF_OK;
}

/* Creates <root>/<session>/pid_<pid>/events.bin (root may exist; nothing else may) and makes the
 * new directory entries durable. */
static atf_status create_session(atf_writer *w, const atf_writer_options *o, uint64_t now_ns) {
  char name[160];
  if (o->session_label != NULL) {
    snprintf(name, sizeof name, "session_%s", o->session_label);
  } else {
    time_t secs = (time_t)(now_ns / 1000000000u);
    struct tm tm;
    if (gmtime_r(&secs, &tm) == NULL) return ATF_E_INVALID_ARGUMENT;
    snprintf(name, sizeof name, "session_%04d%02d%02d_%02d%02d%02d", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  char pid_name[24];
  snprintf(pid_name, sizeof pid_name, "pid_%" PRId32, w->pid);
  char *session = path_join(o->output_root, name);
  w->session_dir = session != NULL ? path_join(session, pid_name) : NULL;
  char *events = w->session_dir != NULL ? path_join(w->session_dir, "events.bin") : NULL;
  atf_status st = ATF_OK;
  const atf_file_ops *ops = w->ops;
  int err = 0;
  if (events == NULL) {
    st = ATF_E_NO_MEMORY;
  } else if (ops->mkdir(ops->ctx, o->output_root, 0755) != 0 && errno != EEXIST) {
    err = errno;
  } else if (ops->mkdir(ops->ctx, session, 0755) != 0) {
    err = errno;
  } else if (ops->mkdir(ops->ctx, w->session_dir, 0755) != 0) {
    err = errno;
  } else if ((w->fd = ops->open(ops->ctx, events,
                                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0) {
    err = errno;
  } else if ((err = atf_fsync_dir(ops, w->session_dir)) == 0 &&
             (err = atf_fsync_dir(ops, session)) == 0) {
    err = atf_fsync_dir(ops, o->output_root);
  }
  if (err != 0) {
    w->last_errno = err;
    st = atf_status_from_errno(err);
    if (w->fd >= 0) {
      ops->close(ops->ctx, w->fd);
      ops->unlink(ops->ctx, events);
      w->fd = -1;
    }
  }
  free(session);
  free(events);
  return st;
}

static void add_module_locked(atf_writer *w, const char *uuid, atf_status *st);

static void on_module(void *ctx, const char *uuid) {
  atf_writer *w = (atf_writer *)ctx;
  atf_status st = ATF_OK;
  pthread_mutex_lock(&w->lock);
  add_module_locked(w, uuid, &st);
  pthread_mutex_unlock(&w->lock);
}

/* Converts and appends TraceStart (the first event), then makes it durable. */
static atf_status write_trace_start(atf_writer *w, const atf_writer_options *o, uint64_t now_ns) {
  uint64_t repl = 0;
  char **args = calloc(o->argc + 1, sizeof *args);
  atf_status st = args != NULL ? ATF_OK : ATF_E_NO_MEMORY;
  for (size_t i = 0; st == ATF_OK && i < o->argc; i++) {
    args[i] = sanitised_copy(o->argv[i], strlen(o->argv[i]), &repl);
    if (args[i] == NULL) st = ATF_E_NO_MEMORY;
  }
  if (st == ATF_OK) {
    const Atf__V4__Event *ev = atf_convert_trace_start(
        &w->enc.scratch, event_id_next(w), w->session_tid, now_ns, w->executable_path, args,
        o->argc, w->os, atf_arch_name(w->arch));
    st = append_converted(w, atf_encode_event(ev, NULL, 0), now_ns);
  }
  if (st == ATF_OK) st = flush(w);
  for (size_t i = 0; args != NULL && i < o->argc; i++) free(args[i]);
  free(args);
  atomic_fetch_add(&w->utf8_replacements, repl);
  return st;
}

atf_status atf_writer_open(const atf_writer_options *o, atf_writer **out) {
  if (out == NULL) return ATF_E_INVALID_ARGUMENT;
  *out = NULL;
  if (o == NULL || !options_valid(o)) return ATF_E_INVALID_ARGUMENT;
  atf_writer *w = NULL;
  atf_status st = writer_new(o, &w);
  uint64_t now = st == ATF_OK ? w->clock(w->clock_ctx) : 0;
  if (st == ATF_OK) st = create_session(w, o, now);
  if (st == ATF_OK) {
    st = write_trace_start(w, o, now);
    if (st != ATF_OK) {
      io_stop(w); /* nothing may be in flight when the file goes */
      char *events = path_join(w->session_dir, "events.bin");
      w->ops->close(w->ops->ctx, w->fd);
      w->fd = -1;
      if (events != NULL) w->ops->unlink(w->ops->ctx, events);
      free(events);
    }
  }
  if (st == ATF_OK && w->collect_modules) atf_modules_collect(on_module, w);
  if (st != ATF_OK) {
    if (w != NULL) atomic_store(&w->state, STATE_FAILED); /* close must not drain */
    atf_writer_close(w);
    return st;
  }
  *out = w;
  return ATF_OK;
}

/* ---- the rest of the API ------------------------------------------------------------------- */

atf_status atf_writer_intern_symbol(atf_writer *w, const char *name, size_t len, uint32_t *id) {
  if (w == NULL || id == NULL || (name == NULL && len > 0)) return ATF_E_INVALID_ARGUMENT;
  atf_status st = check_open(w);
  if (st != ATF_OK) return st;
  uint64_t repl;
  st = atf_symtab_intern(w->symtab, name, len, id, &repl);
  if (st == ATF_OK && repl != 0) atomic_fetch_add(&w->utf8_replacements, repl);
  return st;
}

/* Events the writer holds: in events.bin, in flight to it, or buffered. */
static uint64_t events_held(const atf_writer *w) {
  return w->committed_events + (w->io_pending ? w->io_events : 0) + w->buf_events;
}

/* The one walk over a batch: each record is checked, then encoded (PADs skipped). Stops at the
 * first record that is refused; *events counts the events of the batch the writer holds. */
static atf_status append_batch(atf_writer *w, const unsigned char *p, size_t bytes,
                               uint64_t *events) {
  const uint32_t symbols = atf_symtab_count(w->symtab);
  const uint64_t held_before = events_held(w);
  uint64_t taken = 0;
  atf_status st = ATF_OK;
  int end_in_batch = 0;
  for (size_t off = 0; off < bytes;) {
    const atf_ring_record *r = (const atf_ring_record *)(p + off);
    __builtin_prefetch(p + off + 512);
    if (ATF_UNLIKELY(bytes - off < ATF_RECORD_HEADER_SIZE ||
                     atf_record_check(r, bytes - off, &w->limits, symbols) != NULL)) {
      st = ATF_E_BAD_RECORD;
      break;
    }
    off += r->size;
    if (r->kind == ATF_KIND_PAD) continue;
    if (ATF_UNLIKELY(w->trace_end_written)) {
      st = end_in_batch ? ATF_E_BAD_RECORD : ATF_E_STATE; /* as atf_batch_check / the API say */
      break;
    }
    if (r->kind != ATF_KIND_TRACE_END && w->max_events != 0 && w->next_event_id >= w->max_events) {
      w->limit_reached = 1;
      st = ATF_E_LIMIT;
      break;
    }
    st = append_record(w, r);
    if (st != ATF_OK) break;
    taken++;
    if (r->kind == ATF_KIND_TRACE_END) w->trace_end_written = end_in_batch = 1;
  }
  if (st != ATF_OK) {
    /* A failed hand-over may have lost buffered events of this batch (and earlier ones): count
     * only what is still held. */
    const uint64_t held = events_held(w);
    const uint64_t kept = held > held_before ? held - held_before : 0;
    if (kept < taken) taken = kept;
  }
  if (events != NULL) *events = taken;
  if (st != ATF_OK) return st;
  if (w->flush_policy == ATF_FLUSH_EVERY_BATCH) return flush(w);
  if (w->flush_policy == ATF_FLUSH_INTERVAL) {
    uint64_t now = w->clock(w->clock_ctx);
    if (now >= w->last_flush_ns && now - w->last_flush_ns >= w->flush_interval_ns) return flush(w);
  }
  return ATF_OK;
}

/* Common argument and state checks of the two write entry points. */
static atf_status write_allowed(atf_writer *w, const void *records, size_t bytes) {
  if (w == NULL || (records == NULL && bytes > 0)) return ATF_E_INVALID_ARGUMENT;
  if ((uintptr_t)records % ATF_RECORD_ALIGN != 0) return ATF_E_INVALID_ARGUMENT;
  atf_status st = check_open(w);
  if (st != ATF_OK) return st;
  return w->limit_reached ? ATF_E_LIMIT : ATF_OK;
}

atf_status atf_writer_write(atf_writer *w, const void *records, size_t bytes) {
  atf_status st = write_allowed(w, records, bytes);
  if (st != ATF_OK) return st;
  atf_batch_info info;
  st = atf_batch_check(records, bytes, w->arch, atf_symtab_count(w->symtab), &info);
  if (st != ATF_OK) return st;
  if (w->trace_end_written && info.events > 0) return ATF_E_STATE;
  return append_batch(w, (const unsigned char *)records, bytes, NULL);
}

atf_status atf_writer_append(atf_writer *w, const void *records, size_t bytes, uint64_t *events) {
  if (events != NULL) *events = 0;
  atf_status st = write_allowed(w, records, bytes);
  if (st != ATF_OK) return st;
  return append_batch(w, (const unsigned char *)records, bytes, events);
}

atf_status atf_writer_flush(atf_writer *w) {
  if (w == NULL) return ATF_E_INVALID_ARGUMENT;
  atf_status st = check_open(w);
  return st != ATF_OK ? st : flush(w);
}

/* REQUIRES: w->lock held. Ignores duplicates (case-insensitively: stored lowercase). */
static void add_module_locked(atf_writer *w, const char *uuid, atf_status *st) {
  char lower[ATF_UUID_STRING_SIZE];
  for (size_t i = 0; i < ATF_UUID_STRING_SIZE; i++) {
    lower[i] = (uuid[i] >= 'A' && uuid[i] <= 'F') ? (char)(uuid[i] - 'A' + 'a') : uuid[i];
  }
  for (size_t i = 0; i < w->n_modules; i++) {
    if (strcmp(w->modules[i], lower) == 0) return;
  }
  if (w->n_modules == w->cap_modules) {
    size_t cap = w->cap_modules ? 2 * w->cap_modules : 16;
    char **m = realloc(w->modules, cap * sizeof *m);
    if (m == NULL) {
      *st = ATF_E_NO_MEMORY;
      return;
    }
    w->modules = m;
    w->cap_modules = cap;
  }
  if ((w->modules[w->n_modules] = strdup(lower)) == NULL) {
    *st = ATF_E_NO_MEMORY;
    return;
  }
  w->n_modules++;
}

atf_status atf_writer_add_module(atf_writer *w, const char *uuid) {
  if (w == NULL || uuid == NULL || !atf_uuid_valid(uuid)) return ATF_E_INVALID_ARGUMENT;
  atf_status st = check_open(w);
  if (st != ATF_OK) return st;
  pthread_mutex_lock(&w->lock);
  add_module_locked(w, uuid, &st);
  pthread_mutex_unlock(&w->lock);
  return st;
}

atf_status atf_writer_record_drops(atf_writer *w, int32_t thread_id, uint64_t count) {
  if (w == NULL) return ATF_E_INVALID_ARGUMENT;
  atf_status st = check_open(w);
  if (st != ATF_OK) return st;
  pthread_mutex_lock(&w->lock);
  size_t i = 0;
  while (i < w->n_drops && w->drops[i].thread_id != thread_id) i++;
  if (i == w->n_drops && w->n_drops == w->cap_drops) {
    size_t cap = w->cap_drops ? 2 * w->cap_drops : 16;
    atf_thread_drops *d = realloc(w->drops, cap * sizeof *d);
    if (d == NULL) st = ATF_E_NO_MEMORY;
    if (d != NULL) w->drops = d, w->cap_drops = cap;
  }
  if (st == ATF_OK) {
    if (i == w->n_drops) w->drops[w->n_drops++] = (atf_thread_drops){thread_id, 0};
    uint64_t *c = &w->drops[i].count; /* saturating: a count must never wrap to small */
    *c = *c > UINT64_MAX - count ? UINT64_MAX : *c + count;
    w->dropped_events = w->dropped_events > UINT64_MAX - count ? UINT64_MAX : w->dropped_events + count;
    w->has_drops = 1;
  }
  pthread_mutex_unlock(&w->lock);
  return st;
}

static atf_status write_manifest(atf_writer *w) {
  pthread_mutex_lock(&w->lock);
  atf_manifest m = {
      .os = w->os,
      .arch = atf_arch_name(w->arch),
      .pid = w->pid,
      .session_id = w->session_id,
      .executable_path = w->executable_path,
      .clock = w->clock_name,
      .time_start_ns = w->min_ts,
      .time_end_ns = w->max_ts,
      .event_count = w->committed_events,
      .bytes_written = w->committed_bytes,
      .modules = (const char *const *)w->modules,
      .n_modules = w->n_modules,
      .has_drops = w->has_drops,
      .dropped_events = w->dropped_events,
      .drops = w->drops,
      .n_drops = w->n_drops,
  };
  char *json = atf_manifest_render(&m);
  pthread_mutex_unlock(&w->lock);
  if (json == NULL) return ATF_E_NO_MEMORY;
  int err = 0;
  atf_status st = atf_manifest_write(w->ops, w->session_dir, json, strlen(json), &err);
  atf_manifest_free(json);
  if (st != ATF_OK) {
    if (err == 0) err = ENOMEM;
    fail(w, err);
  }
  return st;
}

atf_status atf_writer_finalize(atf_writer *w, int32_t exit_code) {
  if (w == NULL) return ATF_E_INVALID_ARGUMENT;
  int state = atomic_load(&w->state);
  if (state == STATE_FINALIZED) return ATF_OK;
  if (state == STATE_FAILED) return ATF_E_FAILED;
  atf_status st = ATF_OK;
  if (!w->trace_end_written) {
    _Alignas(8) atf_ring_record end = {0};
    end.size = ATF_RECORD_HEADER_SIZE;
    end.kind = ATF_KIND_TRACE_END;
    end.thread_id = w->session_tid;
    end.value = exit_code;
    end.timestamp_ns = w->clock(w->clock_ctx);
    st = append_record(w, &end);
    if (st == ATF_OK) w->trace_end_written = 1;
  }
  if (st == ATF_OK) st = flush(w);
  if (st == ATF_OK && w->collect_modules) atf_modules_collect(on_module, w);
  if (st == ATF_OK) st = write_manifest(w);
  if (st == ATF_OK) atomic_store(&w->state, STATE_FINALIZED);
  return st;
}

void atf_writer_close(atf_writer *w) {
  if (w == NULL) return;
  if (w->fd >= 0 && atomic_load(&w->state) == STATE_OPEN) drain_sync(w); /* best effort, no fsync */
  io_stop(w); /* after drain_sync nothing is in flight; after a failure, waits for the last write */
  if (w->fd >= 0) w->ops->close(w->ops->ctx, w->fd);
  atf_symtab_free(w->symtab);
  for (size_t i = 0; i < w->n_modules; i++) free(w->modules[i]);
  free(w->modules);
  free(w->drops);
  free(w->buf);
  free(w->io_buf);
  free(w->executable_path);
  free(w->session_dir);
  pthread_mutex_destroy(&w->lock);
  free(w);
}

void atf_writer_get_stats(const atf_writer *w, atf_writer_stats *out) {
  memset(out, 0, sizeof *out);
  if (w == NULL) return;
  out->events_written = w->committed_events;
  out->bytes_written = w->committed_bytes;
  out->bytes_durable = w->durable_bytes;
  out->utf8_replacements = atomic_load(&((atf_writer *)w)->utf8_replacements);
  out->stack_truncations = w->enc.stack_truncations;
  out->first_timestamp_ns = w->first_ts;
  out->last_timestamp_ns = w->last_ts;
  pthread_mutex_lock(&((atf_writer *)w)->lock);
  out->dropped_events = w->dropped_events;
  pthread_mutex_unlock(&((atf_writer *)w)->lock);
  out->events_buffered = w->buf_events + (w->io_pending ? w->io_events : 0);
}

const char *atf_writer_session_dir(const atf_writer *w) { return w != NULL ? w->session_dir : NULL; }

int atf_writer_last_errno(const atf_writer *w) { return w != NULL ? w->last_errno : 0; }
