/* The ATF V4 session writer: see atf/writer.h for the contract, internal/writer_impl.h for how the
 * files of //writer:writer divide the work.
 *
 * Write path: each record is checked (internal/batch.h) right before it is converted and framed
 * straight into one user-space buffer (internal/encode.h); the sink (sink.c) writes the buffer
 * with write(2) only when full, on flush and on finalize. Memory is fixed at open: the buffer, the
 * conversion scratch (map entries for ATF_RECORD_MAX_REGS registers), the symbol table (grows with
 * symbols, never with events). The only per-event allocation is for an event larger than the whole
 * buffer, which only a symbol name or a TraceStart argv of that size can produce.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "writer/atf/writer.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "writer/internal/batch.h"
#include "writer/internal/encode.h"
#include "writer/internal/fileio.h"
#include "writer/internal/modules.h"
#include "writer/internal/utf8.h"
#include "writer/internal/writer_impl.h"

#define DEFAULT_FLUSH_INTERVAL_NS 100000000ull

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

atf_writer_status atf_writer_fail(atf_writer *w, int err) {
  w->last_errno = err;
  atomic_store(&w->state, STATE_FAILED);
  return atf_status_from_errno(err);
}

atf_writer_status atf_writer_check_open(const atf_writer *w) {
  switch (atomic_load(&((atf_writer *)w)->state)) {
    case STATE_FAILED:
      return ATF_WRITER_E_FAILED;
    case STATE_FINALIZED:
      return ATF_WRITER_E_STATE;
    default:
      return ATF_WRITER_OK;
  }
}

/* ---- the byte sink ------------------------------------------------------------------------- */

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
static atf_writer_status append_converted(atf_writer *w, size_t framed, uint64_t timestamp_ns) {
  const Atf__V4__Event *ev = &w->enc.scratch.event;
  if (framed > w->cap - w->len) {
    atf_writer_status st = atf_sink_handover(w);
    if (st != ATF_WRITER_OK) return st;
  }
  if (framed <= w->cap) {
    atf_encode_event(ev, w->buf + w->len, w->cap - w->len);
    w->len += framed;
    w->buf_events++;
    account(w, timestamp_ns);
    return ATF_WRITER_OK;
  }
  uint8_t *big = malloc(framed); /* larger than the whole buffer: rare, see the top comment */
  if (big == NULL) return ATF_WRITER_E_NO_MEMORY;
  atf_encode_event(ev, big, framed);
  atf_writer_status st = atf_sink_write_oversized(w, big, framed);
  free(big);
  if (st != ATF_WRITER_OK) return st;
  account(w, timestamp_ns);
  return ATF_WRITER_OK;
}

/* Appends one checked, non-PAD record, honouring max_file_bytes (TRACE_END is always written).
 * A call or return that does not fit the room left gets a fresh buffer (the full one is handed
 * over) and is encoded there on the fast path, like every other. */
static atf_writer_status append_record(atf_writer *w, const atf_ring_record *r) {
  size_t room = w->cap - w->len;
  int converted;
  size_t framed =
      atf_encode_record(&w->enc, r, event_id_next(w), w->buf + w->len, room, &converted);
  if (ATF_UNLIKELY(framed > room) && !converted) { /* framed is the fast path's bound <= cap */
    atf_writer_status st = atf_sink_handover(w);
    if (st != ATF_WRITER_OK) return st;
    room = w->cap - w->len;
    framed = atf_encode_record(&w->enc, r, event_id_next(w), w->buf + w->len, room, &converted);
  }
  if (w->max_file_bytes != 0 && r->kind != ATF_KIND_TRACE_END &&
      w->committed_bytes + (w->io_pending ? w->io_len : 0) + w->len + framed > w->max_file_bytes) {
    w->limit_reached = 1;
    return ATF_WRITER_E_LIMIT;
  }
  if (ATF_LIKELY(framed <= room)) {
    w->len += framed;
    w->buf_events++;
    account(w, r->timestamp_ns);
    return ATF_WRITER_OK;
  }
  return append_converted(w, framed, r->timestamp_ns);
}

/* ---- options and open ---------------------------------------------------------------------- */

void atf_writer_options_init(atf_writer_options *o) {
  memset(o, 0, sizeof *o);
  o->os = atf_host_os();
  o->arch = atf_host_arch();
  o->flush_policy = ATF_FLUSH_EXPLICIT;
  o->flush_interval_ns = DEFAULT_FLUSH_INTERVAL_NS;
  o->buffer_bytes = ATF_WRITER_DEFAULT_BUFFER_BYTES;
  o->max_stack_bytes = ATF_WRITER_DEFAULT_MAX_STACK;
  o->collect_modules = 1;
}

static int options_valid(const atf_writer_options *o) {
  if (o->output_root == NULL || o->output_root[0] == '\0') return 0;
  if (o->session_label != NULL && !atf_session_label_valid(o->session_label)) return 0;
  if (o->pid < 0 || o->max_stack_bytes > ATF_RECORD_MAX_STACK) return 0;
  if (o->io_thread_nice < -20 || o->io_thread_nice > 19) return 0;
  if (o->arch != ATF_ARCH_UNKNOWN && o->arch != ATF_ARCH_X86_64 && o->arch != ATF_ARCH_ARM64)
    return 0;
  if (o->os != ATF_OS_UNKNOWN && o->os != ATF_OS_LINUX && o->os != ATF_OS_DARWIN) return 0;
  if (o->flush_policy != ATF_FLUSH_EXPLICIT && o->flush_policy != ATF_FLUSH_EVERY_BATCH &&
      o->flush_policy != ATF_FLUSH_INTERVAL) {
    return 0;
  }
  if (o->clock != NULL && o->clock_name != NULL && !atf_session_clock_name_valid(o->clock_name))
    return 0;
  if (o->argc > 0 && o->argv == NULL) return 0;
  for (size_t i = 0; i < o->argc; i++) {
    if (o->argv[i] == NULL) return 0;
  }
  return 1;
}

/* Copies the options into a new writer (no files touched yet). */
static atf_writer_status writer_new(const atf_writer_options *o, atf_writer **out) {
  atf_writer *w = calloc(1, sizeof *w);
  if (w == NULL) return ATF_WRITER_E_NO_MEMORY;
  *out = w;
  w->fd = -1;
  pthread_mutex_init(&w->lock, NULL);
  w->ops = o->file_ops != NULL ? o->file_ops : atf_file_ops_posix();
  w->clock = o->clock != NULL ? o->clock : realtime_ns;
  w->clock_ctx = o->clock_ctx;
  snprintf(w->clock_name, sizeof w->clock_name, "%s",
           o->clock == NULL        ? "CLOCK_REALTIME"
           : o->clock_name != NULL ? o->clock_name
                                   : "custom");
  w->flush_policy = o->flush_policy;
  w->flush_interval_ns = o->flush_interval_ns;
  w->max_events = o->max_events;
  w->max_file_bytes = o->max_file_bytes;
  w->collect_modules = o->collect_modules;
  w->pid = o->pid != 0 ? o->pid : (int32_t)getpid();
  w->session_tid = o->session_thread_id;
  w->arch = o->arch;
  w->os = atf_os_name(o->os);
  w->cap = o->buffer_bytes == 0 ? ATF_WRITER_DEFAULT_BUFFER_BYTES : o->buffer_bytes;
  if (w->cap < ATF_WRITER_MIN_BUFFER_BYTES) w->cap = ATF_WRITER_MIN_BUFFER_BYTES;
  w->io_nice = o->io_thread_nice;
  /* With a caller's file ops the fd may not be a file: the window needs the real system calls. */
  w->release_cache = !o->keep_page_cache && o->file_ops == NULL;
  w->cache_window = 4 * (uint64_t)w->cap;
#if defined(__linux__)
  /* Direct I/O is set up at the first write (sink.c); its buffers are aligned and a multiple of
   * any block size up to 64 KiB, with one spare block for the carried partial one. */
  w->direct_want = o->direct_io && o->file_ops == NULL;
  w->dcap = (((size_t)w->cap + 65535u) & ~(size_t)65535u) + 65536u;
#endif
  if (o->io_thread) {
    int err = atf_sink_io_start(w);
    if (err != 0) {
      atf_session_note_failure(o, "start the I/O thread", NULL, err);
      w->last_errno = err;
      return err == ENOMEM ? ATF_WRITER_E_NO_MEMORY : ATF_WRITER_E_IO;
    }
  }

  uint64_t repl = 0;
  w->session_id = o->session_id;
  errno = 0;
  if (w->session_id == 0 && !atf_session_random_id(&w->session_id)) {
    int err = errno != 0 ? errno : EIO;
    atf_session_note_failure(o, "read random bytes for the session id", NULL, err);
    w->last_errno = err;
    return ATF_WRITER_E_IO;
  }
  if (o->executable_path != NULL) {
    w->executable_path = sanitised_copy(o->executable_path, strlen(o->executable_path), &repl);
  } else {
    char *raw = atf_session_executable_path();
    if (raw != NULL) w->executable_path = sanitised_copy(raw, strlen(raw), &repl);
    free(raw);
  }
  atomic_store(&w->utf8_replacements, repl);
  w->buf = atf_sink_alloc(w, w->cap);
  w->symtab = atf_symtab_new();
  if (w->executable_path == NULL || w->buf == NULL || w->symtab == NULL) {
    return ATF_WRITER_E_NO_MEMORY;
  }
  atf_encoder_init(&w->enc, w->arch, w->os, w->symtab, o->max_stack_bytes);
  atf_record_limits_init(&w->limits, w->arch);
  return ATF_WRITER_OK;
}

/* Converts and appends TraceStart (the first event), then makes it durable. */
static atf_writer_status write_trace_start(atf_writer *w, const atf_writer_options *o,
                                           uint64_t now_ns) {
  uint64_t repl = 0;
  char **args = calloc(o->argc + 1, sizeof *args);
  atf_writer_status st = args != NULL ? ATF_WRITER_OK : ATF_WRITER_E_NO_MEMORY;
  for (size_t i = 0; st == ATF_WRITER_OK && i < o->argc; i++) {
    args[i] = sanitised_copy(o->argv[i], strlen(o->argv[i]), &repl);
    if (args[i] == NULL) st = ATF_WRITER_E_NO_MEMORY;
  }
  if (st == ATF_WRITER_OK) {
    const Atf__V4__Event *ev =
        atf_convert_trace_start(&w->enc.scratch, event_id_next(w), w->session_tid, now_ns,
                                w->executable_path, args, o->argc, w->os, atf_arch_name(w->arch));
    st = append_converted(w, atf_encode_event(ev, NULL, 0), now_ns);
  }
  if (st == ATF_WRITER_OK) st = atf_sink_flush(w);
  for (size_t i = 0; args != NULL && i < o->argc; i++) free(args[i]);
  free(args);
  atomic_fetch_add(&w->utf8_replacements, repl);
  return st;
}

/* atf_writer_open() but for filling options.open_error: its status, the rest noted on the way. */
static atf_writer_status open_session(const atf_writer_options *o, atf_writer **out) {
  if (out == NULL) return ATF_WRITER_E_INVALID_ARGUMENT;
  *out = NULL;
  if (o == NULL || !options_valid(o)) return ATF_WRITER_E_INVALID_ARGUMENT;
  atf_writer *w = NULL;
  atf_writer_status st = writer_new(o, &w);
  uint64_t now = st == ATF_WRITER_OK ? w->clock(w->clock_ctx) : 0;
  if (st == ATF_WRITER_OK) st = atf_session_create(w, o, now);
  if (st == ATF_WRITER_OK) {
    st = write_trace_start(w, o, now);
    if (st != ATF_WRITER_OK) {
      atf_sink_io_stop(w); /* nothing may be in flight when the file goes */
      char *events = atf_session_path_join(w->session_dir, "events.bin");
      if (w->last_errno != 0) atf_session_note_failure(o, "write", events, w->last_errno);
      w->ops->close(w->ops->ctx, w->fd);
      w->fd = -1;
      if (events != NULL) w->ops->unlink(w->ops->ctx, events);
      free(events);
    }
  }
  if (st == ATF_WRITER_OK && w->collect_modules) atf_modules_collect(atf_tables_on_module, w);
  if (st != ATF_WRITER_OK) {
    if (w != NULL) atomic_store(&w->state, STATE_FAILED); /* close must not write the buffer */
    atf_writer_close(w);
    return st;
  }
  *out = w;
  return ATF_WRITER_OK;
}

atf_writer_status atf_writer_open(const atf_writer_options *o, atf_writer **out) {
  atf_writer_open_error *e = o != NULL ? o->open_error : NULL;
  if (e != NULL) {
    memset(e, 0, sizeof *e);
    e->operation = "";
  }
  atf_writer_status st = open_session(o, out);
  if (e != NULL) e->status = st;
  return st;
}

/* ---- the rest of the API ------------------------------------------------------------------- */

atf_writer_status atf_writer_intern_symbol(atf_writer *w, const char *name, size_t len,
                                           uint32_t *id) {
  if (w == NULL || id == NULL || (name == NULL && len > 0)) return ATF_WRITER_E_INVALID_ARGUMENT;
  atf_writer_status st = atf_writer_check_open(w);
  if (st != ATF_WRITER_OK) return st;
  uint64_t repl;
  st = atf_symtab_intern(w->symtab, name, len, id, &repl);
  if (st == ATF_WRITER_OK && repl != 0) atomic_fetch_add(&w->utf8_replacements, repl);
  return st;
}

/* Events the writer holds: in events.bin, in flight to it, or buffered. */
static uint64_t events_held(const atf_writer *w) {
  return w->committed_events + (w->io_pending ? w->io_events : 0) + w->buf_events;
}

/* The one walk over a batch: each record is checked, then encoded (PADs skipped). Stops at the
 * first record that is refused; *events counts the events of the batch the writer holds.
 * `checked`: atf_writer_write() has run atf_batch_check() over these very bytes (every record
 * passed atf_record_check() and no event follows a TRACE_END), so the walk does not check them
 * again. `pdep`: encode varints with BMI2's PDEP (see writer/fastpath). Both are constants at
 * each call site (append_walk below), so each combination gets its own copy of the loop. */
ATF_FAST_INLINE atf_writer_status append_batch(atf_writer *w, const unsigned char *p, size_t bytes,
                                               uint64_t *events, const int checked,
                                               const int pdep) {
  const uint32_t symbols = atf_symtab_count(w->symtab);
  const uint64_t held_before = events_held(w);
  uint64_t taken = 0;
  atf_writer_status st = ATF_WRITER_OK;
  int end_in_batch = 0;
  for (size_t off = 0; off < bytes;) {
    const atf_ring_record *r = (const atf_ring_record *)(p + off);
    __builtin_prefetch(p + off + 512);
    if (!checked && ATF_UNLIKELY(bytes - off < ATF_RECORD_HEADER_SIZE ||
                                 atf_record_check(r, bytes - off, &w->limits, symbols) != NULL)) {
      st = ATF_WRITER_E_BAD_RECORD;
      break;
    }
    off += r->size;
    if (r->kind == ATF_KIND_PAD) continue;
    if (ATF_UNLIKELY(w->trace_end_written)) {
      st = end_in_batch ? ATF_WRITER_E_BAD_RECORD
                        : ATF_WRITER_E_STATE; /* as atf_batch_check / the API say */
      break;
    }
    if (r->kind != ATF_KIND_TRACE_END && w->max_events != 0 && w->next_event_id >= w->max_events) {
      w->limit_reached = 1;
      st = ATF_WRITER_E_LIMIT;
      break;
    }
    /* The hot path: a call or return encoded straight into the room left (no max_file_bytes to
     * honour); anything else, or no room, goes through append_record. */
    if (ATF_LIKELY(w->max_file_bytes == 0)) {
      const size_t framed =
          atf_encode_hot(&w->enc, r, event_id_next(w), w->buf + w->len, w->cap - w->len, pdep);
      if (ATF_LIKELY(framed != 0)) {
        w->len += framed;
        w->buf_events++;
        account(w, r->timestamp_ns);
        taken++;
        continue;
      }
    }
    st = append_record(w, r);
    if (st != ATF_WRITER_OK) break;
    taken++;
    if (r->kind == ATF_KIND_TRACE_END) w->trace_end_written = end_in_batch = 1;
  }
  if (st != ATF_WRITER_OK) {
    /* A failed hand-over may have lost buffered events of this batch (and earlier ones): count
     * only what is still held. */
    const uint64_t held = events_held(w);
    const uint64_t kept = held > held_before ? held - held_before : 0;
    if (kept < taken) taken = kept;
  }
  if (events != NULL) *events = taken;
  if (st != ATF_WRITER_OK) return st;
  if (w->flush_policy == ATF_FLUSH_EVERY_BATCH) return atf_sink_flush(w);
  if (w->flush_policy == ATF_FLUSH_INTERVAL) {
    uint64_t now = w->clock(w->clock_ctx);
    if (now >= w->last_flush_ns && now - w->last_flush_ns >= w->flush_interval_ns)
      return atf_sink_flush(w);
  }
  return ATF_WRITER_OK;
}

static atf_writer_status append_checked(atf_writer *w, const unsigned char *p, size_t bytes,
                                        uint64_t *events) {
  return append_batch(w, p, bytes, events, 1, 0);
}

static atf_writer_status append_unchecked(atf_writer *w, const unsigned char *p, size_t bytes,
                                          uint64_t *events) {
  return append_batch(w, p, bytes, events, 0, 0);
}

#if ATF_FAST_HAVE_PDEP
__attribute__((target("bmi2"))) static atf_writer_status append_checked_pdep(atf_writer *w,
                                                                             const unsigned char *p,
                                                                             size_t bytes,
                                                                             uint64_t *events) {
  return append_batch(w, p, bytes, events, 1, 1);
}

__attribute__((target("bmi2"))) static atf_writer_status append_unchecked_pdep(
    atf_writer *w, const unsigned char *p, size_t bytes, uint64_t *events) {
  return append_batch(w, p, bytes, events, 0, 1);
}
#endif

/* The walk for this CPU: `checked` as in append_batch. */
static atf_writer_status append_walk(atf_writer *w, const unsigned char *p, size_t bytes,
                                     uint64_t *events, int checked) {
#if ATF_FAST_HAVE_PDEP
  if (w->enc.fast.use_pdep) {
    return checked ? append_checked_pdep(w, p, bytes, events)
                   : append_unchecked_pdep(w, p, bytes, events);
  }
#endif
  return checked ? append_checked(w, p, bytes, events) : append_unchecked(w, p, bytes, events);
}

/* Common argument and state checks of the two write entry points. */
static atf_writer_status write_allowed(atf_writer *w, const void *records, size_t bytes) {
  if (w == NULL || (records == NULL && bytes > 0)) return ATF_WRITER_E_INVALID_ARGUMENT;
  if ((uintptr_t)records % ATF_RECORD_ALIGN != 0) return ATF_WRITER_E_INVALID_ARGUMENT;
  atf_writer_status st = atf_writer_check_open(w);
  if (st != ATF_WRITER_OK) return st;
  return w->limit_reached ? ATF_WRITER_E_LIMIT : ATF_WRITER_OK;
}

atf_writer_status atf_writer_write(atf_writer *w, const void *records, size_t bytes) {
  atf_writer_status st = write_allowed(w, records, bytes);
  if (st != ATF_WRITER_OK) return st;
  atf_batch_info info;
  st = atf_batch_check(records, bytes, w->arch, atf_symtab_count(w->symtab), &info);
  if (st != ATF_WRITER_OK) return st;
  if (w->trace_end_written && info.events > 0) return ATF_WRITER_E_STATE;
  return append_walk(w, (const unsigned char *)records, bytes, NULL, 1);
}

atf_writer_status atf_writer_append(atf_writer *w, const void *records, size_t bytes,
                                    uint64_t *events) {
  if (events != NULL) *events = 0;
  atf_writer_status st = write_allowed(w, records, bytes);
  if (st != ATF_WRITER_OK) return st;
  return append_walk(w, (const unsigned char *)records, bytes, events, 0);
}

atf_writer_status atf_writer_flush(atf_writer *w) {
  if (w == NULL) return ATF_WRITER_E_INVALID_ARGUMENT;
  atf_writer_status st = atf_writer_check_open(w);
  return st != ATF_WRITER_OK ? st : atf_sink_flush(w);
}

atf_writer_status atf_writer_write_out(atf_writer *w) {
  if (w == NULL) return ATF_WRITER_E_INVALID_ARGUMENT;
  atf_writer_status st = atf_writer_check_open(w);
  return st != ATF_WRITER_OK ? st : atf_sink_write_now(w);
}

atf_writer_status atf_writer_finalize(atf_writer *w, int32_t exit_code) {
  if (w == NULL) return ATF_WRITER_E_INVALID_ARGUMENT;
  int state = atomic_load(&w->state);
  if (state == STATE_FINALIZED) return ATF_WRITER_OK;
  if (state == STATE_FAILED) return ATF_WRITER_E_FAILED;
  atf_writer_status st = ATF_WRITER_OK;
  if (!w->trace_end_written) {
    _Alignas(8) atf_ring_record end = {0};
    end.size = ATF_RECORD_HEADER_SIZE;
    end.kind = ATF_KIND_TRACE_END;
    end.thread_id = w->session_tid;
    end.value = exit_code;
    end.timestamp_ns = w->clock(w->clock_ctx);
    st = append_record(w, &end);
    if (st == ATF_WRITER_OK) w->trace_end_written = 1;
  }
  if (st == ATF_WRITER_OK) st = atf_sink_flush(w);
  if (st == ATF_WRITER_OK && w->collect_modules) atf_modules_collect(atf_tables_on_module, w);
  if (st == ATF_WRITER_OK) st = atf_tables_write_manifest(w);
  if (st == ATF_WRITER_OK) atomic_store(&w->state, STATE_FINALIZED);
  return st;
}

void atf_writer_close(atf_writer *w) {
  if (w == NULL) return;
  if (w->fd >= 0 && atomic_load(&w->state) == STATE_OPEN) {
    (void)atf_sink_write_now(w); /* best effort, no fsync */
  }
  atf_sink_io_stop(w); /* after write_now nothing is in flight; after a failure, waits for the
                          last write */
  if (w->fd >= 0) w->ops->close(w->ops->ctx, w->fd);
  atf_symtab_free(w->symtab);
  for (size_t i = 0; i < w->n_modules; i++) free(w->modules[i]);
  free(w->modules);
  free(w->drops);
  free(atf_sink_buffer_base(w));
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

const char *atf_writer_session_dir(const atf_writer *w) {
  return w != NULL ? w->session_dir : NULL;
}

int atf_writer_last_errno(const atf_writer *w) { return w != NULL ? w->last_errno : 0; }
