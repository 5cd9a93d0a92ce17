// atf_validate: framing, order, session and manifest rules on top of the record decoder
// (internal/decode.c). One pass over events.bin, front to back, through the reader's fixed window.
//
// Error policy: the first error of a record wins (later rules are not evaluated for it) and
// validation continues with the next record, because the framing still says where it starts.
// Framing errors other than framing.too_large stop the pass: after a broken length prefix nothing
// says where the next record begins.
#include "validator/atf/validate.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "validator/internal/decode.h"
#include "validator/internal/manifest.h"
#include "validator/internal/reader.h"

#define DEFAULT_MAX_ERRORS 1000u
#define BATCH_MAX 8192u        // records decoded between two passes of the order rules
#define BATCH_CHUNK 256u       // records a decoding thread takes at a time
#define MIN_PARALLEL 1024u     // smaller batches are decoded by the calling thread alone
#define MAX_DECODE_THREADS 8u
#define EVENTS_FILE "events.bin"
#define MANIFEST_FILE "trace.json"

const char* atf_validate_strerror(atf_validate_status status) {
  switch (status) {
    case ATF_VALIDATE_OK: return "ok";
    case ATF_VALIDATE_EUSAGE: return "invalid arguments";
    case ATF_VALIDATE_EIO: return "I/O error";
    case ATF_VALIDATE_ENOMEM: return "out of memory";
  }
  return "unknown status";
}

const char* atf_validate_payload_name(atf_validate_payload payload) {
  static const char* const kNames[ATF_VALIDATE_PAYLOAD_COUNT] = {
      "trace_start", "trace_end", "function_call", "function_return", "signal_delivery"};
  return (unsigned)payload < ATF_VALIDATE_PAYLOAD_COUNT ? kNames[payload] : "unknown";
}

void atf_validate_options_init(atf_validate_options* options) {
  memset(options, 0, sizeof *options);
  options->max_record_size = ATF_VALIDATE_DEFAULT_MAX_RECORD;
  options->max_errors = DEFAULT_MAX_ERRORS;
  options->window_size = ATF_READER_DEFAULT_WINDOW;
  options->threads = 1;
}

void atf_validate_report_free(atf_validate_report* report) {
  free(report->errors);
  memset(report, 0, sizeof *report);
}

// ---------------------------------------------------------------------------------------------
// Per-thread last timestamp: open addressing, grown by doubling up to the documented cap.

typedef struct thread_slot {
  uint64_t last_ns;
  int32_t tid;
  bool used;
} thread_slot;

typedef struct thread_table {
  thread_slot* slots;
  size_t cap, len;  // cap is a power of two, kept at least twice len
} thread_table;

static size_t slot_of(const thread_table* t, int32_t tid) {
  size_t i = ((uint32_t)tid * 2654435761u) & (t->cap - 1);
  while (t->slots[i].used && t->slots[i].tid != tid) i = (i + 1) & (t->cap - 1);
  return i;
}

static bool grow(thread_table* t) {
  const size_t cap = t->cap ? t->cap * 2 : 64;
  thread_table bigger = {calloc(cap, sizeof(thread_slot)), cap, t->len};
  if (bigger.slots == NULL) return false;
  for (size_t i = 0; i < t->cap; ++i) {
    if (t->slots[i].used) bigger.slots[slot_of(&bigger, t->slots[i].tid)] = t->slots[i];
  }
  free(t->slots);
  *t = bigger;
  return true;
}

// The slot of tid, inserting it; NULL when the table is full (or memory ran out).
static thread_slot* thread_find(thread_table* t, int32_t tid, bool* is_new, bool* oom) {
  *is_new = false;
  if (t->cap == 0 && !grow(t)) return *oom = true, NULL;
  size_t i = slot_of(t, tid);
  if (t->slots[i].used) return &t->slots[i];
  if (t->len >= ATF_VALIDATE_MAX_THREADS) return NULL;
  if (2 * (t->len + 1) > t->cap) {
    if (!grow(t)) return *oom = true, NULL;
    i = slot_of(t, tid);
  }
  t->slots[i].used = true;
  t->slots[i].tid = tid;
  t->len++;
  *is_new = true;
  return &t->slots[i];
}

// ---------------------------------------------------------------------------------------------

// One record's decoding outcome, computed by any thread, applied in file order. Kept small (the
// batch stays in cache): a record that fails is decoded again, alone, for its error.
typedef struct decoded {
  atf_frame frame;
  bool ok;
  atf_event ev;
} decoded;

typedef struct validation {
  const atf_validate_options* opt;
  atf_validate_report* rep;
  atf_reader reader;
  bool oom;
  unsigned decoders;  // decoding threads, the calling one included
  decoded* batch;    // BATCH_MAX or fewer entries (never more than the input has bytes)
  size_t batch_cap;
  // Order and session state.
  bool have_prev_id;
  uint64_t prev_id;
  thread_table threads;
  uint64_t starts, ends;
  atf_payload last_payload;
  uint64_t last_offset;
  bool last_record_failed;
  bool prefix_intact;
  // Manifest values, and events outside its time range.
  bool have_manifest;
  atf_manifest manifest;
  uint64_t out_of_range;
  uint64_t first_out_of_range_record, first_out_of_range_offset, first_out_of_range_ns;
} validation;

__attribute__((format(printf, 6, 7))) static void add_error(validation* v, const char* file, uint64_t offset,
                                                            uint64_t record, const char* rule,
                                                            const char* fmt, ...) {
  atf_validate_report* rep = v->rep;
  rep->valid = false;
  rep->error_count++;
  if (rep->errors_len >= v->opt->max_errors) return;
  if (rep->errors == NULL) {
    // Kept errors grow in steps; the cap is the caller's max_errors, not anything in the input.
    const size_t first = v->opt->max_errors < 64 ? v->opt->max_errors : 64;
    rep->errors = calloc(first, sizeof *rep->errors);
    if (rep->errors == NULL) return (void)(v->oom = true);
  } else if ((rep->errors_len & (rep->errors_len - 1)) == 0 && rep->errors_len >= 64) {
    size_t cap = rep->errors_len * 2;
    if (cap > v->opt->max_errors) cap = v->opt->max_errors;
    atf_validate_error* e = realloc(rep->errors, cap * sizeof *e);
    if (e == NULL) return (void)(v->oom = true);
    rep->errors = e;
  }
  atf_validate_error* e = &rep->errors[rep->errors_len++];
  e->file = file;
  e->offset = offset;
  e->record = record;
  e->rule = rule;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
}

static void on_manifest_error(void* ctx, uint64_t offset, const char* rule, const char* message) {
  add_error(ctx, MANIFEST_FILE, offset, ATF_VALIDATE_NO_RECORD, rule, "%s", message);
}

static void check_manifest(validation* v, const char* data, size_t len) {
  v->rep->manifest_checked = true;
  if (len > ATF_VALIDATE_MAX_MANIFEST) {
    add_error(v, MANIFEST_FILE, 0, ATF_VALIDATE_NO_RECORD, "manifest.too_large",
              "trace.json is %zu bytes, more than the %u allowed", len, ATF_VALIDATE_MAX_MANIFEST);
    return;
  }
  if (!atf_manifest_check(data, len, &v->manifest, on_manifest_error, v)) v->oom = true;
  v->have_manifest = true;
  v->rep->has_dropped_events = v->manifest.dropped_events.present;
  v->rep->dropped_events = v->manifest.dropped_events.value;
  v->rep->has_recovered = v->manifest.has_recovered;
  v->rep->recovered = v->manifest.recovered;
}

// Order, session and manifest-range rules of one decoded record. Returns false when it broke one.
static bool check_order(validation* v, const atf_event* ev, uint64_t index, uint64_t off) {
  atf_validate_report* rep = v->rep;
  const bool had_prev = v->have_prev_id;
  const uint64_t prev = v->prev_id;
  v->have_prev_id = true;
  v->prev_id = ev->event_id;

  bool is_new = false;
  thread_slot* slot = thread_find(&v->threads, ev->thread_id, &is_new, &v->oom);
  uint64_t last_ns = 0;
  if (slot != NULL) {
    last_ns = is_new ? ev->time_ns : slot->last_ns;
    slot->last_ns = ev->time_ns;
    if (is_new) rep->threads++;
  } else if (!v->oom && !rep->threads_capped) {
    rep->threads_capped = true;
    rep->warnings++;
  }

  const char* file = EVENTS_FILE;
  if (had_prev && ev->event_id <= prev) {
    add_error(v, file, off, index, "order.event_id", "event_id %" PRIu64 " is not greater than the previous %" PRIu64,
              ev->event_id, prev);
    return false;
  }
  if (slot != NULL && ev->time_ns < last_ns) {
    add_error(v, file, off, index, "order.timestamp",
              "timestamp %" PRIu64 " ns of thread %d is before its previous event's %" PRIu64 " ns", ev->time_ns,
              (int)ev->thread_id, last_ns);
    return false;
  }
  if (ev->payload == ATF_PAYLOAD_TRACE_START && v->starts++ > 0) {
    add_error(v, file, off, index, "session.duplicate_start", "a second TraceStart");
    return false;
  }
  if (ev->payload == ATF_PAYLOAD_TRACE_END && v->ends++ > 0) {
    add_error(v, file, off, index, "session.duplicate_end", "a second TraceEnd");
    return false;
  }
  if ((index == 0) != (ev->payload == ATF_PAYLOAD_TRACE_START) && (index == 0 || v->starts == 1)) {
    add_error(v, file, off, index, "session.first",
              index == 0 ? "the first record is not a TraceStart" : "TraceStart is not the first record");
    return false;
  }
  return true;
}

static void note_time_range(validation* v, const atf_event* ev, uint64_t index, uint64_t off) {
  const atf_manifest* m = &v->manifest;
  if (!v->have_manifest || !m->time_start_ns.present || !m->time_end_ns.present) return;
  if (ev->time_ns >= m->time_start_ns.value && ev->time_ns <= m->time_end_ns.value) return;
  if (v->out_of_range++ == 0) {
    v->first_out_of_range_record = index;
    v->first_out_of_range_offset = off;
    v->first_out_of_range_ns = ev->time_ns;
  }
}

static void count(validation* v, const atf_event* ev) {
  atf_validate_report* rep = v->rep;
  rep->counts[ev->payload - ATF_PAYLOAD_TRACE_START]++;
  rep->unknown_fields += ev->unknown_fields;
  rep->warnings += ev->unknown_fields;
  if (!rep->has_time || ev->time_ns < rep->time_min_ns) rep->time_min_ns = ev->time_ns;
  if (!rep->has_time || ev->time_ns > rep->time_max_ns) rep->time_max_ns = ev->time_ns;
  rep->has_time = true;
}

// One record whose frame is complete, decoded (decoded_ok, ev, err) unless it is too large.
// Returns false on an I/O error.
static bool apply_record(validation* v, const atf_frame* f, uint64_t index, bool decoded_ok, const atf_event* ev,
                         const atf_decode_error* err) {
  bool ok;
  if (f->length > v->opt->max_record_size) {
    add_error(v, EVENTS_FILE, f->offset, index, "framing.too_large",
              "record length %" PRIu64 " exceeds the limit of %" PRIu64 " bytes", f->length, v->opt->max_record_size);
    ok = false;
  } else if (decoded_ok) {
    count(v, ev);
    note_time_range(v, ev, index, f->offset);
    ok = check_order(v, ev, index, f->offset);
    v->last_payload = ev->payload;
  } else {
    if (strcmp(err->rule, "io") == 0) return false;
    add_error(v, EVENTS_FILE, err->offset, index, err->rule, "%s", err->message);
    ok = false;
  }
  v->last_record_failed = !ok;
  v->last_offset = f->offset;
  if (!ok) v->last_payload = ATF_PAYLOAD_NONE;
  if (ok && v->prefix_intact) {
    v->rep->valid_prefix_bytes = f->body_offset + f->length;
    v->rep->valid_prefix_records = index + 1;
  } else {
    v->prefix_intact = false;
  }
  return true;
}

static bool check_record(validation* v, const atf_frame* f, uint64_t index) {
  atf_event ev;
  atf_decode_error err;
  const bool ok = f->length <= v->opt->max_record_size &&
                  atf_decode_record(&v->reader, f->body_offset, f->length, NULL, &ev, &err);
  return apply_record(v, f, index, ok, &ev, &err);
}

// ---------------------------------------------------------------------------------------------
// Batches: the records that lie whole in the reader's window are decoded first, by up to
// v->decoders threads (decoding is nearly all the work and records are independent), then the
// order, session and manifest rules run over the outcomes in file order, as for a single record.
// Each thread decodes through its own copy of the reader, limited to the window (fd -1), so none
// of them ever reads the file or moves the window.

typedef struct batch_work {
  atf_reader view;
  decoded* records;
  size_t n;
  atomic_size_t next;
} batch_work;

static void* decode_batch(void* arg) {
  batch_work* w = arg;
  atf_reader view = w->view;
  for (;;) {
    const size_t first = atomic_fetch_add(&w->next, BATCH_CHUNK);
    if (first >= w->n) return NULL;
    const size_t end = w->n - first < BATCH_CHUNK ? w->n : first + BATCH_CHUNK;
    for (size_t i = first; i < end; ++i) {
      decoded* d = &w->records[i];
      atf_decode_error err;
      d->ok = atf_decode_record(&view, d->frame.body_offset, d->frame.length, NULL, &d->ev, &err);
    }
  }
}

// Frames the records from *off that lie whole in the window (refilled to start at *off when it
// must be), up to the first one that does not, is too large or is badly framed, which the caller
// then handles alone. Decodes and applies them. Returns the number of records done (0: none fit).
static size_t run_batch(validation* v, uint64_t* off, uint64_t* index) {
  atf_reader* r = &v->reader;
  const uint64_t left = r->size - *off;
  if (atf_reader_get(r, *off, left < r->cap ? (size_t)left : r->cap) == NULL) return 0;
  const uint64_t win_end = r->win_off + r->win_len;
  size_t n = 0;
  uint64_t at = *off;
  // Length prefixes of at most 9 bytes read in place; anything else (a 10-byte or broken prefix,
  // a record running past the window or over the limit) ends the batch.
  while (n < v->batch_cap && at < win_end) {
    const uint8_t* p = r->win + (at - r->win_off);
    const size_t avail = win_end - at < 9 ? (size_t)(win_end - at) : 9;
    uint64_t length = 0;
    unsigned len_bytes = 0;
    for (unsigned i = 0; i < avail; ++i) {
      length |= (uint64_t)(p[i] & 0x7F) << (7 * i);
      if (p[i] < 0x80) {
        len_bytes = i + 1;
        break;
      }
    }
    if (len_bytes == 0 || length > win_end - at - len_bytes || length > v->opt->max_record_size) break;
    atf_frame* f = &v->batch[n++].frame;
    f->offset = at;
    f->prefix_len = len_bytes;
    f->body_offset = at + len_bytes;
    f->length = length;
    at = f->body_offset + length;
  }
  if (n == 0) return 0;
  batch_work w = {*r, v->batch, n, 0};
  w.view.fd = -1;
  w.view.buf = NULL;
  pthread_t tids[MAX_DECODE_THREADS];
  unsigned started = 0;
  if (n >= MIN_PARALLEL) {
    for (; started + 1 < v->decoders; ++started) {
      if (pthread_create(&tids[started], NULL, decode_batch, &w) != 0) break;  // the others do it
    }
  }
  decode_batch(&w);
  for (unsigned i = 0; i < started; ++i) pthread_join(tids[i], NULL);
  for (size_t i = 0; i < n; ++i) {
    const decoded* d = &v->batch[i];
    v->rep->records++;
    // The record lies in the window: decoding it again cannot fail to read, and apply_record only
    // returns false for that.
    (void)(d->ok ? apply_record(v, &d->frame, *index, true, &d->ev, NULL) : check_record(v, &d->frame, *index));
    *index += 1;
  }
  *off = at;
  return n;
}

static unsigned decode_threads(const atf_validate_options* opt) {
  long n = opt->threads;
  if (n == 0) n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) n = 1;
  return n > (long)MAX_DECODE_THREADS ? MAX_DECODE_THREADS : (unsigned)n;
}

static void framing_error(validation* v, atf_frame_status st, const atf_frame* f, uint64_t index) {
  if (st == ATF_FRAME_VARINT) {
    add_error(v, EVENTS_FILE, f->offset, index, "framing.varint",
              "length prefix is longer than 10 bytes or exceeds 2^64-1");
  } else if (f->prefix_len == 0) {
    add_error(v, EVENTS_FILE, f->offset, index, "framing.truncated",
              "file ends inside a length prefix; the last complete record ends at %" PRIu64, f->offset);
  } else if (f->length > v->opt->max_record_size) {
    add_error(v, EVENTS_FILE, f->offset, index, "framing.too_large",
              "record length %" PRIu64 " exceeds the limit of %" PRIu64 " bytes (and the file)", f->length,
              v->opt->max_record_size);
  } else {
    add_error(v, EVENTS_FILE, f->offset, index, "framing.truncated",
              "record of %" PRIu64 " bytes runs past the end of the file (%" PRIu64
              " bytes); the last complete record ends at %" PRIu64,
              f->length, v->reader.size, f->offset);
  }
}

static atf_validate_status io_failure(validation* v, const char* what) {
  snprintf(v->rep->reason, sizeof v->rep->reason, "%s: %s", what,
           v->reader.io_errno ? strerror(v->reader.io_errno) : "file changed while being read");
  return ATF_VALIDATE_EIO;
}

static atf_validate_status check_events(validation* v) {
  atf_validate_report* rep = v->rep;
  uint64_t off = 0, index = 0, next_progress = 0;
  const uint64_t step = rep->bytes / 100 > (1u << 20) ? rep->bytes / 100 : (1u << 20);
  v->decoders = decode_threads(v->opt);
  v->batch_cap = rep->bytes < BATCH_MAX ? (size_t)rep->bytes : BATCH_MAX;  // a record takes >= 1 byte
  if (v->batch_cap > 0 && (v->batch = malloc(v->batch_cap * sizeof *v->batch)) == NULL) return ATF_VALIDATE_ENOMEM;
  for (;;) {
    if (v->opt->progress != NULL && off >= next_progress) {
      v->opt->progress(off, rep->bytes, v->opt->progress_arg);
      next_progress = off + step;
    }
    if (run_batch(v, &off, &index) > 0) {
      if (v->oom) return ATF_VALIDATE_ENOMEM;
      continue;
    }
    atf_frame f;
    const atf_frame_status st = atf_reader_frame(&v->reader, off, &f);
    if (st == ATF_FRAME_END) break;
    if (st == ATF_FRAME_IO) return io_failure(v, EVENTS_FILE);
    if (st != ATF_FRAME_OK) {
      framing_error(v, st, &f, index);
      v->last_record_failed = true;  // a torn tail is not a last record
      break;
    }
    rep->records++;
    if (!check_record(v, &f, index)) return io_failure(v, EVENTS_FILE);
    if (v->oom) return ATF_VALIDATE_ENOMEM;
    off = f.body_offset + f.length;
    index++;
  }
  if (v->opt->progress != NULL) v->opt->progress(rep->bytes, rep->bytes, v->opt->progress_arg);
  return ATF_VALIDATE_OK;
}

static void check_session_end(validation* v) {
  atf_validate_report* rep = v->rep;
  if (rep->records == 0) {
    add_error(v, EVENTS_FILE, 0, ATF_VALIDATE_NO_RECORD, "session.first", "events.bin holds no complete record");
  } else if (!v->last_record_failed && v->last_payload != ATF_PAYLOAD_TRACE_END) {
    add_error(v, EVENTS_FILE, v->last_offset, rep->records - 1, "session.last", "the last record is not a TraceEnd");
  }
}

static void cross_check_manifest(validation* v) {
  const atf_manifest* m = &v->manifest;
  atf_validate_report* rep = v->rep;
  if (!v->have_manifest) return;
  if (m->event_count.present && m->event_count.value != rep->records) {
    add_error(v, MANIFEST_FILE, m->event_count.offset, ATF_VALIDATE_NO_RECORD, "manifest.event_count",
              "eventCount is %" PRIu64 " but events.bin holds %" PRIu64 " records", m->event_count.value, rep->records);
  }
  if (m->bytes_written.present && m->bytes_written.value != rep->bytes) {
    add_error(v, MANIFEST_FILE, m->bytes_written.offset, ATF_VALIDATE_NO_RECORD, "manifest.bytes_written",
              "bytesWritten is %" PRIu64 " but events.bin is %" PRIu64 " bytes", m->bytes_written.value, rep->bytes);
  }
  if (v->out_of_range > 0) {
    add_error(v, EVENTS_FILE, v->first_out_of_range_offset, v->first_out_of_range_record, "manifest.time_range",
              "%" PRIu64 " event(s) outside [timeStartNs, timeEndNs] = [%" PRIu64 ", %" PRIu64 "]; the first at %" PRIu64
              " ns",
              v->out_of_range, m->time_start_ns.value, m->time_end_ns.value, v->first_out_of_range_ns);
  }
}

// Runs every rule; the reader is set up, the manifest (if any) given as bytes.
static atf_validate_status run(validation* v, const char* manifest, size_t manifest_len, bool has_manifest) {
  v->rep->valid = true;
  v->prefix_intact = true;
  if (has_manifest) check_manifest(v, manifest, manifest_len);
  if (v->oom) return ATF_VALIDATE_ENOMEM;
  atf_validate_status st = check_events(v);
  if (st == ATF_VALIDATE_OK) {
    check_session_end(v);
    cross_check_manifest(v);
    if (v->oom) st = ATF_VALIDATE_ENOMEM;
  }
  free(v->threads.slots);
  free(v->batch);
  return st;
}

static bool begin(validation* v, const atf_validate_options* options, atf_validate_options* defaults,
                  atf_validate_report* report) {
  memset(report, 0, sizeof *report);
  memset(v, 0, sizeof *v);
  if (options == NULL) {
    atf_validate_options_init(defaults);
    options = defaults;
  }
  v->opt = options;
  v->rep = report;
  return options->max_record_size > 0;
}

atf_validate_status atf_validate_buffers(const uint8_t* events, size_t events_len, const uint8_t* manifest,
                                         size_t manifest_len, const atf_validate_options* options,
                                         atf_validate_report* report) {
  validation v;
  atf_validate_options defaults;
  if (!begin(&v, options, &defaults, report) || (events == NULL && events_len > 0)) {
    snprintf(report->reason, sizeof report->reason, "invalid arguments");
    return ATF_VALIDATE_EUSAGE;
  }
  static const uint8_t kEmpty[1] = {0};
  atf_reader_init_mem(&v.reader, events ? events : kEmpty, events_len);
  report->bytes = events_len;
  return run(&v, (const char*)manifest, manifest_len, manifest != NULL);
}

// ---------------------------------------------------------------------------------------------
// Files.

// Reads a whole small file (at most `limit` + 1 bytes, so an oversized one is still detected).
static bool slurp(const char* path, size_t limit, char** data, size_t* len, int* err) {
  *data = NULL;
  *len = 0;
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return *err = errno, false;
  char* buf = malloc(limit + 1);
  if (buf == NULL) {  // 1 MiB malloc failure: not reproducible in a test
    close(fd);
    return *err = ENOMEM, false;
  }
  size_t got = 0;
  while (got < limit + 1) {
    const ssize_t n = read(fd, buf + got, limit + 1 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *err = errno;
      free(buf);
      close(fd);
      return false;
    }
    if (n == 0) break;
    got += (size_t)n;
  }
  close(fd);
  *data = buf;
  *len = got;
  return true;
}

static bool join(char* out, size_t size, const char* dir, size_t dir_len, const char* name) {
  const int n = snprintf(out, size, "%.*s%s%s", (int)dir_len, dir,
                         dir_len > 0 && dir[dir_len - 1] != '/' ? "/" : "", name);
  return n > 0 && (size_t)n < size;
}

atf_validate_status atf_validate_path(const char* path, const atf_validate_options* options,
                                      atf_validate_report* report) {
  validation v;
  atf_validate_options defaults;
  if (!begin(&v, options, &defaults, report) || path == NULL || path[0] == '\0') {
    snprintf(report->reason, sizeof report->reason, "no path given");
    return ATF_VALIDATE_EUSAGE;
  }
  char events_path[4096], manifest_path[4096];
  struct stat st;
  if (stat(path, &st) != 0) {
    snprintf(report->reason, sizeof report->reason, "%s: %s", path, strerror(errno));
    return ATF_VALIDATE_EIO;
  }
  bool ok;
  if (S_ISDIR(st.st_mode)) {
    ok = join(events_path, sizeof events_path, path, strlen(path), EVENTS_FILE) &&
         join(manifest_path, sizeof manifest_path, path, strlen(path), MANIFEST_FILE);
  } else {
    const char* slash = strrchr(path, '/');
    ok = snprintf(events_path, sizeof events_path, "%s", path) < (int)sizeof events_path &&
         join(manifest_path, sizeof manifest_path, path, slash ? (size_t)(slash - path + 1) : 0, MANIFEST_FILE);
  }
  if (!ok) {
    snprintf(report->reason, sizeof report->reason, "path too long");
    return ATF_VALIDATE_EUSAGE;
  }

  const int fd = open(events_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(report->reason, sizeof report->reason, "%s: %s", events_path,
             fd < 0 ? strerror(errno) : "not a regular file");
    if (fd >= 0) close(fd);
    return ATF_VALIDATE_EIO;
  }
  char* manifest = NULL;
  size_t manifest_len = 0;
  int err = 0;
  const bool has_manifest = slurp(manifest_path, ATF_VALIDATE_MAX_MANIFEST, &manifest, &manifest_len, &err);
  if (!has_manifest && err != ENOENT) {
    snprintf(report->reason, sizeof report->reason, "%s: %s", manifest_path, strerror(err));
    close(fd);
    return ATF_VALIDATE_EIO;
  }
  atf_validate_status status = ATF_VALIDATE_ENOMEM;
  if (atf_reader_init_fd(&v.reader, fd, (uint64_t)st.st_size, v.opt->window_size)) {
    report->bytes = (uint64_t)st.st_size;
    status = run(&v, manifest, manifest_len, has_manifest);
  }
  if (status == ATF_VALIDATE_ENOMEM) snprintf(report->reason, sizeof report->reason, "out of memory");
  atf_reader_free(&v.reader);
  free(manifest);
  close(fd);
  return status;
}
