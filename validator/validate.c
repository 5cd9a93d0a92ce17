/* atf_validate: framing, order, session and manifest rules on top of the record engine
 * (internal/engine.h: upb, nanopb or both). One pass over events.bin, front to back, through the
 * reader's fixed window; the framing itself is internal/reader.c's.
 *
 * Error policy: the first error of a record wins (later rules are not evaluated for it) and
 * validation continues with the next record, because the framing still says where it starts.
 * Framing errors other than framing.too_large stop the pass: after a broken length prefix nothing
 * says where the next record begins. A violation of an allowed rule is a warning and does not stop
 * the record's evaluation.
 *
 * Cost: every byte is framed once and decoded once. An error is formatted only while the report
 * keeps errors (max_errors); past that it is counted, a record that failed in a batch is not
 * decoded again for its message, and a run of zero bytes (each one an empty record, which has no
 * payload) is counted in one step, so garbage costs no more than data. */
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

#include "validator/internal/call_tree.h"
#include "validator/internal/decode.h"
#include "validator/internal/engine.h"
#include "validator/internal/file.h"
#include "validator/internal/manifest.h"
#include "validator/internal/pass.h"
#include "validator/internal/reader.h"
#include "validator/internal/thread_table.h"

#define DEFAULT_MAX_ERRORS 1000u
#define BATCH_MAX 8192u    /* records decoded between two passes of the order rules */
#define BATCH_CHUNK 256u   /* records a decoding thread takes at a time */
#define MIN_PARALLEL 1024u /* smaller batches are decoded by the calling thread alone, */
#define MIN_PARALLEL_BYTES (256u * 1024u) /* and so are batches of tiny records (garbage) */
#define MAX_DECODE_THREADS 8u
#define EVENTS_FILE "events.bin"
#define MANIFEST_FILE "trace.json"

const char *atf_validate_strerror(atf_validate_status status) {
  switch (status) {
    case ATF_VALIDATE_OK:
      return "ok";
    case ATF_VALIDATE_E_USAGE:
      return "invalid arguments";
    case ATF_VALIDATE_E_IO:
      return "I/O error";
    case ATF_VALIDATE_E_NO_MEMORY:
      return "out of memory";
  }
  return "unknown status";
}

_Static_assert(ATF_VALIDATE_ENGINE_UPB == (int)ATF_ENGINE_UPB &&
                   ATF_VALIDATE_ENGINE_NANOPB == (int)ATF_ENGINE_NANOPB &&
                   ATF_VALIDATE_ENGINE_BOTH == (int)ATF_ENGINE_BOTH,
               "engine values");

const char *atf_validate_engine_name(atf_validate_engine engine) {
  const char *name = atf_engine_name((atf_engine_kind)engine);
  return name != NULL ? name : "unknown";
}

bool atf_validate_engine_parse(const char *text, atf_validate_engine *engine) {
  atf_engine_kind k;
  if (!atf_engine_parse(text, &k)) return false;
  *engine = (atf_validate_engine)k;
  return true;
}

const char *atf_validate_payload_name(atf_validate_payload payload) {
  static const char *const kNames[ATF_VALIDATE_PAYLOAD_COUNT] = {
      "trace_start", "trace_end", "function_call", "function_return", "signal_delivery"};
  return (unsigned)payload < ATF_VALIDATE_PAYLOAD_COUNT ? kNames[payload] : "unknown";
}

void atf_validate_options_init(atf_validate_options *options) {
  memset(options, 0, sizeof *options);
  options->max_record_size = ATF_VALIDATE_DEFAULT_MAX_RECORD;
  options->max_errors = DEFAULT_MAX_ERRORS;
  options->window_size = ATF_READER_DEFAULT_WINDOW;
  options->threads = 1;
  options->engine = ATF_VALIDATE_ENGINE_UPB;
}

static void free_text(atf_validate_text *t) { free(t->data); }

void atf_validate_report_free(atf_validate_report *report) {
  free(report->errors);
  free(report->rule_warnings);
  free_text(&report->executable_path);
  free_text(&report->operating_system);
  free_text(&report->cpu_architecture);
  memset(report, 0, sizeof *report);
}

/* --------------------------------------------------------------------------------------------- */

/* One record's decoding outcome, computed by any thread, applied in file order. Kept small (the
 * batch stays in cache): a record that fails is decoded again, alone, for its message. */
typedef struct outcome {
  bool ok;
  bool fallback;    /* the upb engine left it to the nanopb engine */
  const char *rule; /* when !ok: the rule and offset (the decoder ran quiet) */
  uint64_t err_offset;
  atf_event ev;
} outcome;

#define BATCH_CHUNKS ((BATCH_MAX + BATCH_CHUNK - 1) / BATCH_CHUNK)

/* A batch as the decoding threads see it (see "Batches" below). */
typedef struct batch_work {
  atf_reader view; /* the batch's window, read-only (fd -1) */
  const atf_frame *frames;
  outcome *out;
  size_t n;
  uint64_t generation;            /* in the pool; 0 while not published */
  atomic_size_t next;             /* the first record of the next unclaimed chunk */
  atomic_bool done[BATCH_CHUNKS]; /* chunk decoded (its outcomes are written before) */
  /* The calling thread sleeps on chunk_cv (under mu) while a worker finishes the chunk it needs;
   * `waiting` tells a worker that finished one to wake it. */
  pthread_mutex_t mu;
  pthread_cond_t chunk_cv;
  atomic_bool waiting;
} batch_work;

/* One of the two batch slots: a window of its own and the records framed in it. */
typedef struct batch {
  atf_reader reader; /* a file's: its own window; memory: the input */
  atf_frame *frames; /* batch_cap entries */
  outcome *outcomes;
  size_t n;
  uint64_t off, end; /* the records framed lie in [off, end) */
  batch_work w;
} batch;

typedef struct validation {
  const atf_validate_options *opt;
  atf_validate_report *rep;
  const atf_pass_hooks *hooks; /* may be NULL */
  atf_reader reader; /* the input, for what no batch takes; the slots have their own windows */
  size_t max_errors; /* opt->max_errors, at most ATF_VALIDATE_MAX_ERRORS */
  uint64_t allowed;  /* opt->allowed_rules within ATF_VALIDATE_ALLOWABLE_RULES */
  bool oom;
  bool hook_failed;
  unsigned decoders;     /* decoding threads, the calling one included */
  atf_engine engines[1]; /* the calling thread's (each worker makes its own: see pool_worker) */
  unsigned engines_ready;
  struct decode_pool *pool; /* the other decoding threads, started at the first parallel batch */
  uint64_t fallbacks;       /* records decoded by the nanopb engine in place of the upb engine */
  batch slots[2];           /* batches in flight: the one applied and the next */
  unsigned slots_ready;
  size_t batch_cap; /* BATCH_MAX or fewer records (never more than the input has bytes) */
  atf_reader *rd;   /* the reader holding the record being applied: a slot's or `reader` */
  /* Order and session state. */
  bool have_prev_id;
  uint64_t prev_id;
  atf_thread_table threads;
  atf_call_tree calls;      /* session.call_return */
  atf_call_tree kept_calls; /* salvage: the open calls of the records kept */
  uint64_t starts, ends;
  atf_payload last_payload;
  uint64_t last_offset;
  bool last_record_failed;
  bool prefix_intact;
  /* Salvage state (hooks->salvage): the records kept so far. */
  uint64_t kept, kept_last_id;
  bool kept_ended;
  size_t text_cap[3]; /* of the report's TraceStart strings */
  /* Manifest values, and events outside its time range. */
  bool have_manifest;
  atf_manifest manifest;
  uint64_t out_of_range;
  uint64_t first_out_of_range_record, first_out_of_range_offset, first_out_of_range_ns;
} validation;

static bool errors_full(const validation *v) { return v->rep->errors_len >= v->max_errors; }

/* The next free entry of a kept list (grown in steps; the cap is the caller's max_errors, not
 * anything in the input), or NULL when it is full or memory ran out. */
static atf_validate_error *push(validation *v, atf_validate_error **list, size_t *len) {
  if (*len >= v->max_errors) return NULL;
  if (*list == NULL) {
    const size_t first = v->max_errors < 64 ? v->max_errors : 64;
    if ((*list = calloc(first, sizeof **list)) == NULL) return v->oom = true, NULL;
  } else if ((*len & (*len - 1)) == 0 && *len >= 64) {
    size_t cap = *len * 2;
    if (cap > v->max_errors) cap = v->max_errors;
    atf_validate_error *e = realloc(*list, cap * sizeof *e);
    if (e == NULL) return v->oom = true, NULL;
    *list = e;
  }
  return &(*list)[(*len)++];
}

/* Records a violation of `rule_name` (rule: its id, or -1 for the decoder's rules, never
 * allowable). Returns true when it is an error, false when the rule is allowed (a warning). */
__attribute__((format(printf, 7, 8))) static bool add(validation *v, int rule,
                                                      const char *rule_name, const char *file,
                                                      uint64_t offset, uint64_t record,
                                                      const char *fmt, ...) {
  atf_validate_report *rep = v->rep;
  const bool allowed = rule >= 0 && (v->allowed & ATF_VALIDATE_RULE_BIT(rule)) != 0;
  atf_validate_error *e;
  if (allowed) {
    rep->rule_warning_count++;
    rep->warnings++;
    e = push(v, &rep->rule_warnings, &rep->rule_warnings_len);
  } else {
    rep->valid = false;
    rep->error_count++;
    e = push(v, &rep->errors, &rep->errors_len);
  }
  if (e == NULL) return !allowed; /* past max_errors: counted, not formatted */
  e->file = file;
  e->offset = offset;
  e->record = record;
  e->rule = rule_name;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
  return !allowed;
}

#define ADD(v, rule, ...) add((v), (rule), atf_validate_rule_name(rule), __VA_ARGS__)

static void on_manifest_error(void *ctx, uint64_t offset, const char *rule, const char *message) {
  uint64_t bit = 0;
  int id = -1;
  if (atf_validate_rule_parse(rule, &bit) && (bit & (bit - 1)) == 0) id = __builtin_ctzll(bit);
  add(ctx, id, rule, MANIFEST_FILE, offset, ATF_VALIDATE_NO_RECORD, "%s", message);
}

/* `len` bytes of trace.json were read; it is `size` bytes long. */
static void check_manifest(validation *v, const char *data, size_t len, uint64_t size) {
  v->rep->manifest_checked = true;
  if (len > ATF_VALIDATE_MAX_MANIFEST || size > ATF_VALIDATE_MAX_MANIFEST) {
    ADD(v, ATF_RULE_MANIFEST_TOO_LARGE, MANIFEST_FILE, 0, ATF_VALIDATE_NO_RECORD,
        "trace.json is %" PRIu64 " bytes, more than the %u allowed",
        size > len ? size : (uint64_t)len, ATF_VALIDATE_MAX_MANIFEST);
    return;
  }
  if (!atf_manifest_check(data, len, &v->manifest, on_manifest_error, v)) v->oom = true;
  v->have_manifest = true;
  v->rep->has_dropped_events = v->manifest.dropped_events.present;
  v->rep->dropped_events = v->manifest.dropped_events.value;
  v->rep->has_recovered = v->manifest.has_recovered;
  v->rep->recovered = v->manifest.recovered;
}

/* Order and session rules of one decoded record. Returns false when it broke one (an error; an
 * allowed rule's violation is a warning and evaluation goes on). */
static bool check_order(validation *v, const atf_event *ev, atf_thread_slot *slot, bool is_new,
                        uint64_t index, uint64_t off) {
  const bool had_prev = v->have_prev_id;
  const uint64_t prev = v->prev_id;
  v->have_prev_id = true;
  v->prev_id = ev->event_id;
  uint64_t last_ns = 0;
  if (slot != NULL) {
    last_ns = is_new ? ev->time_ns : slot->last_ns;
    slot->last_ns = ev->time_ns;
  }
  const char *file = EVENTS_FILE;
  if (had_prev && ev->event_id <= prev &&
      ADD(v, ATF_RULE_ORDER_EVENT_ID, file, off, index,
          "event_id %" PRIu64 " is not greater than the previous %" PRIu64, ev->event_id, prev)) {
    return false;
  }
  if (slot != NULL && ev->time_ns < last_ns &&
      ADD(v, ATF_RULE_ORDER_TIMESTAMP, file, off, index,
          "timestamp %" PRIu64 " ns of thread %d is before its previous event's %" PRIu64 " ns",
          ev->time_ns, (int)ev->thread_id, last_ns)) {
    return false;
  }
  if (ev->payload == ATF_PAYLOAD_TRACE_START && v->starts++ > 0 &&
      ADD(v, ATF_RULE_SESSION_DUPLICATE_START, file, off, index, "a second TraceStart")) {
    return false;
  }
  if (ev->payload == ATF_PAYLOAD_TRACE_END && v->ends++ > 0 &&
      ADD(v, ATF_RULE_SESSION_DUPLICATE_END, file, off, index, "a second TraceEnd")) {
    return false;
  }
  if ((index == 0) != (ev->payload == ATF_PAYLOAD_TRACE_START) && (index == 0 || v->starts == 1) &&
      ADD(v, ATF_RULE_SESSION_FIRST, file, off, index,
          index == 0 ? "the first record is not a TraceStart"
                     : "TraceStart is not the first record")) {
    return false;
  }
  return true;
}

/* session.call_return for a FunctionCall or FunctionReturn (internal/call_tree.h keeps the stacks,
 * in bounded memory). The stacks follow every decoded record; a violation is reported only when the
 * record broke no rule before (`ok`). Returns false when it is an error. */
static bool check_calls(validation *v, const atf_event *ev, uint64_t index, uint64_t off, bool ok) {
  atf_validate_report *rep = v->rep;
  uint64_t innermost = 0;
  atf_call_tree_step step;
  if (ev->payload == ATF_PAYLOAD_FUNCTION_CALL) {
    step = atf_call_tree_call(&v->calls, ev->thread_id, ev->address, ev->time_ns);
  } else if (ev->payload == ATF_PAYLOAD_FUNCTION_RETURN) {
    step = atf_call_tree_return(&v->calls, ev->thread_id, ev->address, ev->time_ns, &innermost);
  } else {
    return true;
  }
  if (step == ATF_CALL_TREE_NOMEM) v->oom = true;
  if (v->calls.capped && !rep->calls_capped) rep->calls_capped = true, rep->warnings++;
  rep->calls_unchecked = v->calls.unchecked;
  if (!ok) return true;
  if (step == ATF_CALL_TREE_UNMATCHED) {
    return !ADD(v, ATF_RULE_SESSION_CALL_RETURN, EVENTS_FILE, off, index,
                "FunctionReturn of 0x%" PRIx64 " on thread %d closes no open FunctionCall",
                ev->address, (int)ev->thread_id);
  }
  if (step == ATF_CALL_TREE_MISMATCH) {
    return !ADD(v, ATF_RULE_SESSION_CALL_RETURN, EVENTS_FILE, off, index,
                "FunctionReturn of 0x%" PRIx64
                " on thread %d, but its innermost open FunctionCall is of 0x%" PRIx64,
                ev->address, (int)ev->thread_id, innermost);
  }
  return true;
}

static void note_time_range(validation *v, const atf_event *ev, uint64_t index, uint64_t off) {
  const atf_manifest *m = &v->manifest;
  if (!v->have_manifest || !m->time_start_ns.present || !m->time_end_ns.present) return;
  if (ev->time_ns >= m->time_start_ns.value && ev->time_ns <= m->time_end_ns.value) return;
  if (v->out_of_range++ == 0) {
    v->first_out_of_range_record = index;
    v->first_out_of_range_offset = off;
    v->first_out_of_range_ns = ev->time_ns;
  }
}

static void count(validation *v, const atf_event *ev) {
  atf_validate_report *rep = v->rep;
  rep->counts[ev->payload - ATF_PAYLOAD_TRACE_START]++;
  rep->unknown_fields += ev->unknown_fields;
  rep->warnings += ev->unknown_fields;
  if (!rep->has_time || ev->time_ns < rep->time_min_ns) rep->time_min_ns = ev->time_ns;
  if (!rep->has_time || ev->time_ns > rep->time_max_ns) rep->time_max_ns = ev->time_ns;
  rep->has_time = true;
}

/* ---------------------------------------------------------------------------------------------
 * The first TraceStart's strings, kept for the report (a rebuilt manifest needs them). */

static void keep_text(void *ctx, atf_text_field field, const uint8_t *data, size_t len,
                      unsigned flags) {
  validation *v = ctx;
  atf_validate_report *rep = v->rep;
  atf_validate_text *t = field == ATF_TEXT_EXECUTABLE_PATH    ? &rep->executable_path
                         : field == ATF_TEXT_OPERATING_SYSTEM ? &rep->operating_system
                         : field == ATF_TEXT_CPU_ARCHITECTURE ? &rep->cpu_architecture
                                                              : NULL;
  if (t == NULL || v->oom) return;
  if (flags & ATF_CHUNK_FIRST)
    t->len = 0, t->truncated = false; /* a repeated field: the last wins */
  size_t n = len;
  if (n > ATF_VALIDATE_MAX_TEXT - t->len) n = ATF_VALIDATE_MAX_TEXT - t->len, t->truncated = true;
  /* Grown as the text arrives (most are a few bytes), up to the cap. */
  size_t *cap = &v->text_cap[field == ATF_TEXT_EXECUTABLE_PATH    ? 0
                             : field == ATF_TEXT_OPERATING_SYSTEM ? 1
                                                                  : 2];
  if (t->len + n + 1 > *cap) {
    size_t want = *cap ? *cap : 64;
    while (want < t->len + n + 1) want *= 2;
    if (want > ATF_VALIDATE_MAX_TEXT + 1) want = ATF_VALIDATE_MAX_TEXT + 1;
    char *p = realloc(t->data, want);
    if (p == NULL) return (void)(v->oom = true); /* at most 1 MiB: not reproducible in a test */
    t->data = p;
    *cap = want;
  }
  memcpy(t->data + t->len, data, n);
  t->len += n;
  t->data[t->len] = '\0';
}

/* Returns false on an I/O error (the record was read once already) or when memory ran out. */
static bool capture_trace_start(validation *v, const atf_frame *f) {
  atf_validate_report *rep = v->rep;
  const atf_event_visitor visitor = {v, keep_text, NULL};
  atf_event ev;
  atf_decode_error err;
  memset(&err, 0, sizeof err);
  err.quiet = true;
  const uint64_t fallbacks = v->engines[0].fallbacks; /* counted when the record was checked */
  const bool ok =
      atf_engine_decode(&v->engines[0], v->rd, f->body_offset, f->length, &visitor, &ev, &err);
  v->engines[0].fallbacks = fallbacks;
  rep->has_trace_start = true;
  atf_validate_text *texts[] = {&rep->executable_path, &rep->operating_system,
                                &rep->cpu_architecture};
  for (int i = 0; i < 3; ++i) {
    if (texts[i]->len == 0) free(texts[i]->data), texts[i]->data = NULL;
  }
  return ok; /* decoded before: only a shrinking file fails here */
}

/* --------------------------------------------------------------------------------------------- */

/* Salvage: whether `ev`, a record that decoded, joins the records kept so far. */
static bool salvage_keeps(validation *v, const atf_event *ev, atf_thread_slot *slot) {
  if (v->kept_ended) return false;
  if ((v->kept == 0) != (ev->payload == ATF_PAYLOAD_TRACE_START)) return false;
  if (v->kept > 0 && ev->event_id <= v->kept_last_id) return false;
  if (slot != NULL && slot->kept && ev->time_ns < slot->kept_last_ns) return false;
  /* A return must close the innermost kept call of its thread (session.call_return). */
  if (ev->payload == ATF_PAYLOAD_FUNCTION_RETURN &&
      !atf_call_tree_would_close(&v->kept_calls, ev->thread_id, ev->address)) {
    return false;
  }
  if (ev->payload == ATF_PAYLOAD_FUNCTION_CALL || ev->payload == ATF_PAYLOAD_FUNCTION_RETURN) {
    uint64_t innermost;
    const atf_call_tree_step step =
        ev->payload == ATF_PAYLOAD_FUNCTION_CALL
            ? atf_call_tree_call(&v->kept_calls, ev->thread_id, ev->address, ev->time_ns)
            : atf_call_tree_return(&v->kept_calls, ev->thread_id, ev->address, ev->time_ns,
                                   &innermost);
    if (step == ATF_CALL_TREE_NOMEM) v->oom = true;
  }
  v->kept++;
  v->kept_last_id = ev->event_id;
  v->kept_ended = ev->payload == ATF_PAYLOAD_TRACE_END;
  if (slot != NULL) slot->kept = true, slot->kept_last_ns = ev->time_ns;
  return true;
}

static void extend_prefix(validation *v, const atf_frame *f, uint64_t index, const atf_event *ev) {
  atf_validate_report *rep = v->rep;
  if (rep->valid_prefix_records == 0 || ev->time_ns < rep->valid_prefix_time_min_ns) {
    rep->valid_prefix_time_min_ns = ev->time_ns;
  }
  if (rep->valid_prefix_records == 0 || ev->time_ns > rep->valid_prefix_time_max_ns) {
    rep->valid_prefix_time_max_ns = ev->time_ns;
  }
  rep->valid_prefix_bytes = f->body_offset + f->length;
  rep->valid_prefix_records = index + 1;
  rep->valid_prefix_last_event_id = ev->event_id;
  if (ev->payload == ATF_PAYLOAD_TRACE_END) { /* a session ends at its TraceEnd */
    rep->valid_prefix_ends_session = true;
    v->prefix_intact = false;
  }
}

/* The rules across records for one record that decoded, then the hook. Returns false to stop
 * (I/O error, hook failure). */
static bool apply_decoded(validation *v, const atf_frame *f, uint64_t index, const atf_event *ev) {
  atf_validate_report *rep = v->rep;
  count(v, ev);
  note_time_range(v, ev, index, f->offset);
  bool is_new = false;
  atf_thread_slot *slot = atf_thread_table_find(&v->threads, ev->thread_id, &is_new, &v->oom);
  if (slot != NULL && is_new) {
    rep->threads++;
  } else if (slot == NULL && !v->oom && !rep->threads_capped) {
    rep->threads_capped = true;
    rep->warnings++;
  }
  bool ok = check_order(v, ev, slot, is_new, index, f->offset);
  ok = check_calls(v, ev, index, f->offset, ok) && ok;
  if (ev->payload == ATF_PAYLOAD_TRACE_START && !rep->has_trace_start && !capture_trace_start(v, f))
    return false;
  v->last_payload = ok ? ev->payload : ATF_PAYLOAD_NONE;
  v->last_record_failed = !ok;
  v->last_offset = f->offset;
  if (ok && v->prefix_intact) {
    extend_prefix(v, f, index, ev);
  } else if (!ok) {
    v->prefix_intact = false;
  }
  if (v->hooks == NULL || v->hooks->on_record == NULL) return true;
  const atf_pass_record rec = {
      f, index, ev, ok, v->hooks->salvage && salvage_keeps(v, ev, slot), &v->engines[0]};
  if (!v->hooks->on_record(v->hooks->ctx, v->rd, &rec, v->rep->reason))
    return !(v->hook_failed = true);
  return true;
}

/* A record that did not decode (err), or is too large. Returns false on an I/O error. */
static bool apply_failed(validation *v, const atf_frame *f, uint64_t index,
                         const atf_decode_error *err) {
  if (f->length > v->opt->max_record_size) {
    ADD(v, ATF_RULE_FRAMING_TOO_LARGE, EVENTS_FILE, f->offset, index,
        "record length %" PRIu64 " exceeds the limit of %" PRIu64 " bytes", f->length,
        v->opt->max_record_size);
  } else {
    if (err->rule[0] == 'i' && strcmp(err->rule, "io") == 0)
      return false; /* the only rule starting so */
    add(v, -1, err->rule, EVENTS_FILE, err->offset, index, "%s", err->message);
  }
  v->last_record_failed = true;
  v->last_offset = f->offset;
  v->last_payload = ATF_PAYLOAD_NONE;
  v->prefix_intact = false;
  return true;
}

/* Decodes one framed record alone and applies it; `counted`: a batch counted its fallback already.
 * Returns false to stop. */
static bool check_record(validation *v, const atf_frame *f, uint64_t index, bool counted) {
  atf_event ev;
  atf_decode_error err;
  memset(&err, 0, sizeof err);
  err.quiet = errors_full(v);
  atf_engine *e = &v->engines[0];
  const uint64_t fallbacks = e->fallbacks;
  const bool ok = f->length <= v->opt->max_record_size &&
                  atf_engine_decode(e, v->rd, f->body_offset, f->length, NULL, &ev, &err);
  if (!counted) v->fallbacks += e->fallbacks - fallbacks;
  return ok ? apply_decoded(v, f, index, &ev) : apply_failed(v, f, index, &err);
}

/* `n` zero bytes from `off`: n empty records, each without a payload (schema.payload). Only
 * called past max_errors, where nothing of them is kept: counted in one step. */
static void apply_empty_records(validation *v, uint64_t off, uint64_t n) {
  atf_validate_report *rep = v->rep;
  rep->records += n;
  rep->error_count += n;
  rep->valid = false;
  v->last_record_failed = true;
  v->last_offset = off + n - 1;
  v->last_payload = ATF_PAYLOAD_NONE;
  v->prefix_intact = false;
}

/* ---------------------------------------------------------------------------------------------
 * Batches: the records that lie whole in a window are decoded by up to v->decoders threads
 * (decoding is nearly all the work and records are independent) in chunks of BATCH_CHUNK, while
 * the calling thread applies the order, session and manifest rules to the outcomes in file order,
 * chunk by chunk as they are done (a chunk not done yet: it decodes the next unclaimed one
 * itself).
 *
 * Two batch slots, each with a window of its own, make a pipeline: before the calling thread
 * applies batch N it reads and frames batch N+1 (the records from where N's end) in the other
 * slot and publishes it, so the other threads go on from N's last chunk to N+1's first without
 * waiting for the read, the framing or the rules; while it waits for a chunk of N that a worker
 * is finishing, the calling thread decodes a chunk of N+1. A slot is framed again only after
 * every thread left its batch (pool_retire). Nothing order-dependent moves: outcomes are applied
 * in file order, and a batch N+1 is framed only where the file says records go on (from N's end,
 * the same boundaries as without the pipeline), so the report is the same as one batch at a time,
 * whatever the number of threads. One that would start with a zero byte (an empty record) is left
 * to the next round, so that past max_errors a run of them is still counted in one step
 * (skip_zeros) rather than decoded record by record.
 *
 * With hooks the calling thread waits for the whole batch first: a hook reads the input through
 * the batch's reader and may move its window. The decoding threads are started once
 * (decode_pool) and wait between batches. Each decodes through a copy of the batch's reader
 * limited to the window (fd -1), so none of them ever reads the file or moves a window. */

/* Decodes the chunk of w that starts at `first`. */
static void decode_chunk_at(batch_work *w, size_t first, atf_engine *e) {
  atf_reader view = w->view;
  atf_decode_error err;
  memset(&err, 0, sizeof err);
  err.quiet = true; /* a record that fails is decoded again for its message, if one is kept */
  const size_t end = w->n - first < BATCH_CHUNK ? w->n : first + BATCH_CHUNK;
  for (size_t i = first; i < end; ++i) {
    outcome *o = &w->out[i];
    const uint64_t fallbacks = e->fallbacks;
    o->ok = atf_engine_decode(e, &view, w->frames[i].body_offset, w->frames[i].length, NULL, &o->ev,
                              &err);
    o->fallback = e->fallbacks != fallbacks;
    o->rule = err.rule;
    o->err_offset = err.offset;
  }
  /* seq_cst with `waiting` (see await_chunk): either this store is seen by the waiter's check
   * under mu, or the waiter's flag is seen here and the wake-up is sent under mu. */
  atomic_store(&w->done[first / BATCH_CHUNK], true);
  if (atomic_load(&w->waiting)) {
    pthread_mutex_lock(&w->mu);
    pthread_cond_broadcast(&w->chunk_cv);
    pthread_mutex_unlock(&w->mu);
  }
}

/* Claims and decodes one chunk of w. Returns false when none was left to claim. */
static bool decode_chunk(batch_work *w, atf_engine *e) {
  if (atomic_load_explicit(&w->next, memory_order_relaxed) >= w->n) return false;
  const size_t first = atomic_fetch_add(&w->next, BATCH_CHUNK);
  if (first >= w->n) return false;
  decode_chunk_at(w, first, e);
  return true;
}

/* Decodes chunks of w until none is left to claim. */
static void decode_chunks(batch_work *w, atf_engine *e) {
  while (decode_chunk(w, e)) {}
}

/* The decoding threads. Batches are published in generations 1, 2, ...; generation g lives in
 * work[g % 2] until the calling thread retires it, which it does before it publishes g + 2, so
 * at most two are live. A worker enters the live generations in order and leaves each when no
 * chunk is left to claim. */
typedef struct decode_pool {
  pthread_mutex_t mu;
  pthread_cond_t wake; /* a batch published, or stop */
  pthread_cond_t idle; /* a busy count fell to 0 */
  uint64_t published;  /* the last generation published */
  uint64_t oldest;     /* no worker enters a generation below it (retired) */
  batch_work *work[2];
  unsigned busy[2]; /* workers inside work[i] */
  bool stop;
  unsigned started;
  pthread_t tids[MAX_DECODE_THREADS];
  atf_engine_kind kind; /* of the engine each worker makes */
} decode_pool;

typedef struct worker_arg {
  decode_pool *pool;
  unsigned index;
} worker_arg;

static void *pool_worker(void *arg) {
  worker_arg *a = arg;
  decode_pool *pool = a->pool;
  /* The engine is made here, so that its memory (written for every record) comes from this
   * thread's malloc arena, away from the other threads' (two engines side by side in one heap
   * shared cache lines: two threads ran slower than one in writer_bench's process). */
  atf_engine own;
  const bool ready = atf_engine_init(&own, pool->kind);
  atf_engine *e = &own;
  uint64_t seen = 0; /* the last generation this worker left */
  pthread_mutex_lock(&pool->mu);
  while (ready && !pool->stop) {
    const uint64_t g = seen + 1 > pool->oldest ? seen + 1 : pool->oldest;
    if (g > pool->published) {
      pthread_cond_wait(&pool->wake, &pool->mu);
      continue;
    }
    batch_work *w = pool->work[g % 2];
    pool->busy[g % 2]++;
    pthread_mutex_unlock(&pool->mu);
    decode_chunks(w, e);
    pthread_mutex_lock(&pool->mu);
    if (--pool->busy[g % 2] == 0) pthread_cond_broadcast(&pool->idle);
    seen = g;
  }
  pthread_mutex_unlock(&pool->mu);
  if (ready) atf_engine_free(&own); /* else the others decode its share */
  free(a);
  return NULL;
}

/* Starts up to `workers` threads; NULL when none could be (the calling thread decodes alone). */
static decode_pool *pool_start(atf_engine_kind kind, unsigned workers) {
  decode_pool *pool = calloc(1, sizeof *pool);
  if (pool == NULL) return NULL;
  pthread_mutex_init(&pool->mu, NULL);
  pthread_cond_init(&pool->wake, NULL);
  pthread_cond_init(&pool->idle, NULL);
  pool->kind = kind;
  pool->oldest = 1;
  for (; pool->started < workers; ++pool->started) {
    worker_arg *a = malloc(sizeof *a);
    if (a == NULL) break;
    *a = (worker_arg){pool, pool->started};
    if (pthread_create(&pool->tids[pool->started], NULL, pool_worker, a) != 0) {
      free(a);
      break; /* the others do it */
    }
  }
  return pool;
}

static void pool_stop(decode_pool *pool) {
  if (pool == NULL) return;
  pthread_mutex_lock(&pool->mu);
  pool->stop = true;
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->mu);
  for (unsigned i = 0; i < pool->started; ++i) pthread_join(pool->tids[i], NULL);
  pthread_cond_destroy(&pool->wake);
  pthread_cond_destroy(&pool->idle);
  pthread_mutex_destroy(&pool->mu);
  free(pool);
}

static void pool_publish(decode_pool *pool, batch_work *w) {
  pthread_mutex_lock(&pool->mu);
  w->generation = ++pool->published;
  pool->work[w->generation % 2] = w;
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->mu);
}

/* Returns when no worker is inside w any more, nor will enter it; w may then be framed again. */
static void pool_retire(decode_pool *pool, batch_work *w) {
  if (w->generation == 0) return; /* not published */
  pthread_mutex_lock(&pool->mu);
  if (pool->oldest <= w->generation) pool->oldest = w->generation + 1;
  while (pool->busy[w->generation % 2] > 0) pthread_cond_wait(&pool->idle, &pool->mu);
  pthread_mutex_unlock(&pool->mu);
  w->generation = 0;
}

/* Waits until chunk c of w is decoded, decoding unclaimed chunks of w meanwhile, then, one at a
 * time, of `ahead` (the next batch, or NULL); when a worker is finishing chunk c and nothing is
 * left to claim, sleeps until that worker says it is done (no spinning: on a busy machine the
 * worker may need this very core). */
static void await_chunk(batch_work *w, size_t c, atf_engine *e, batch_work *ahead) {
  while (!atomic_load(&w->done[c])) {
    if (atomic_load_explicit(&w->next, memory_order_relaxed) < w->n) {
      decode_chunks(w, e); /* returns when no chunk is left to claim */
      continue;
    }
    if (ahead != NULL && decode_chunk(ahead, e)) continue;
    atomic_store(&w->waiting, true);
    pthread_mutex_lock(&w->mu);
    while (!atomic_load(&w->done[c])) pthread_cond_wait(&w->chunk_cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    atomic_store(&w->waiting, false);
  }
}

/* Sets up the two slots: windows over the input of their own, and room for batch_cap records. */
static bool slots_init(validation *v) {
  for (unsigned k = 0; k < 2; ++k) {
    batch *b = &v->slots[k];
    batch_work *w = &b->w;
    atomic_init(&w->next, 0);
    atomic_init(&w->waiting, false);
    for (size_t c = 0; c < BATCH_CHUNKS; ++c) atomic_init(&w->done[c], false);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->chunk_cv, NULL);
    v->slots_ready = k + 1;
    if (!atf_reader_init_like(&b->reader, &v->reader)) return false;
    b->frames = malloc(v->batch_cap * sizeof *b->frames);
    b->outcomes = malloc(v->batch_cap * sizeof *b->outcomes);
    if (b->frames == NULL || b->outcomes == NULL) return false;
  }
  return true;
}

static void slots_free(validation *v) {
  for (unsigned k = 0; k < v->slots_ready; ++k) {
    batch *b = &v->slots[k];
    pthread_cond_destroy(&b->w.chunk_cv);
    pthread_mutex_destroy(&b->w.mu);
    atf_reader_free(&b->reader);
    free(b->frames);
    free(b->outcomes);
  }
  v->slots_ready = 0;
}

/* Frames the records from `off` that lie whole in slot b's window (refilled to start at `off`
 * when it must be), up to the first one that does not or is too large, which the caller then
 * handles alone, and hands them to the decoding threads. Returns false when none was framed (an
 * I/O error too: the caller's atf_reader_frame() reports it), or, unless `zero_first`, when the
 * first record is a zero byte. */
static bool batch_prepare(validation *v, batch *b, uint64_t off, bool zero_first) {
  b->off = off;
  b->n = atf_reader_frame_window(&b->reader, off, v->opt->max_record_size, b->frames, v->batch_cap,
                                 &b->end);
  if (b->n == 0) return false;
  if (!zero_first && b->frames[0].prefix_len == 1 && b->frames[0].length == 0) return false;
  batch_work *w = &b->w;
  w->view = b->reader;
  w->view.fd = -1;
  w->view.buf = NULL;
  w->frames = b->frames;
  w->out = b->outcomes;
  w->n = b->n;
  atomic_store(&w->next, 0);
  atomic_store(&w->waiting, false);
  for (size_t c = 0; c < (b->n + BATCH_CHUNK - 1) / BATCH_CHUNK; ++c)
    atomic_store(&w->done[c], false);
  const bool parallel =
      v->decoders > 1 && b->n >= MIN_PARALLEL && b->end - off >= MIN_PARALLEL_BYTES;
  if (parallel && v->pool == NULL)
    v->pool = pool_start((atf_engine_kind)v->opt->engine, v->decoders - 1);
  if (parallel && v->pool != NULL && v->pool->started > 0) pool_publish(v->pool, w);
  return true;
}

/* Takes b back from the decoding threads: none is left inside it; a chunk not claimed yet never
 * will be. */
static void batch_retire(validation *v, batch *b) {
  atomic_store(&b->w.next, b->n);
  if (v->pool != NULL) pool_retire(v->pool, &b->w);
}

/* Applies outcome i of batch b, the record `index`. Returns false to stop. */
static bool apply_outcome(validation *v, const batch *b, size_t i, uint64_t index) {
  const outcome *o = &b->outcomes[i];
  const atf_frame *f = &b->frames[i];
  v->rep->records++;
  v->fallbacks += o->fallback;
  if (o->ok) return apply_decoded(v, f, index, &o->ev);
  if (!errors_full(v)) return check_record(v, f, index, true); /* again, alone, for the message */
  atf_decode_error err;
  err.rule = o->rule;
  err.offset = o->err_offset;
  err.message[0] = '\0';
  return apply_failed(v, f, index, &err);
}

/* Applies batch b, whose first record is `index`, in file order, decoding a share of it and of
 * `ahead` (the next batch, or NULL). Returns false to stop (a hook said so, or an I/O error). */
static bool batch_apply(validation *v, batch *b, batch *ahead, uint64_t index) {
  batch_work *w = &b->w, *next = ahead != NULL ? &ahead->w : NULL;
  atf_engine *e = &v->engines[0];
  if (v->hooks != NULL) { /* see above */
    for (size_t c = 0; c < (b->n + BATCH_CHUNK - 1) / BATCH_CHUNK; ++c) await_chunk(w, c, e, next);
  }
  v->rd = &b->reader;
  bool go_on = true;
  for (size_t i = 0; i < b->n && go_on; ++i) {
    if (i % BATCH_CHUNK == 0) await_chunk(w, i / BATCH_CHUNK, e, next);
    go_on = apply_outcome(v, b, i, index + i);
  }
  v->rd = &v->reader;
  return go_on;
}

static unsigned decode_threads(const atf_validate_options *opt) {
  long n = opt->threads;
  if (n == 0) n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) n = 1;
  return n > (long)MAX_DECODE_THREADS ? MAX_DECODE_THREADS : (unsigned)n;
}

static void framing_error(validation *v, atf_frame_status st, const atf_frame *f, uint64_t index) {
  if (st == ATF_FRAME_VARINT) {
    ADD(v, ATF_RULE_FRAMING_VARINT, EVENTS_FILE, f->offset, index,
        "length prefix is longer than 10 bytes or exceeds 2^64-1");
  } else if (f->prefix_len == 0) {
    ADD(v, ATF_RULE_FRAMING_TRUNCATED, EVENTS_FILE, f->offset, index,
        "file ends inside a length prefix; the last complete record ends at %" PRIu64, f->offset);
  } else if (f->length > v->opt->max_record_size) {
    ADD(v, ATF_RULE_FRAMING_TOO_LARGE, EVENTS_FILE, f->offset, index,
        "record length %" PRIu64 " exceeds the limit of %" PRIu64 " bytes (and the file)",
        f->length, v->opt->max_record_size);
  } else {
    ADD(v, ATF_RULE_FRAMING_TRUNCATED, EVENTS_FILE, f->offset, index,
        "record of %" PRIu64 " bytes runs past the end of the file (%" PRIu64
        " bytes); the last complete record ends at %" PRIu64,
        f->length, v->reader.size, f->offset);
  }
}

static atf_validate_status io_failure(validation *v, const char *what) {
  if (v->hook_failed) return ATF_VALIDATE_E_IO; /* the hook wrote the reason */
  const atf_reader *r = &v->reader;             /* the one that failed; a slot's if not this one */
  for (unsigned k = 0; k < v->slots_ready && !r->io_failed; ++k) {
    if (v->slots[k].reader.io_failed) r = &v->slots[k].reader;
  }
  snprintf(v->rep->reason, sizeof v->rep->reason, "%s: %s", what,
           r->io_errno ? strerror(r->io_errno) : "file changed while being read");
  return ATF_VALIDATE_E_IO;
}

/* Past max_errors, a run of zero bytes at `off` is counted in one step. Returns the bytes done. */
static uint64_t skip_zeros(validation *v, uint64_t off) {
  if (!errors_full(v) || off >= v->rep->bytes) return 0;
  const uint8_t *p = atf_reader_get(&v->reader, off, 1);
  if (p == NULL || *p != 0) return 0;
  const uint64_t n = atf_reader_zeros(&v->reader, off, v->rep->bytes - off);
  if (n > 0) apply_empty_records(v, off, n);
  return n;
}

static atf_validate_status check_events(validation *v) {
  atf_validate_report *rep = v->rep;
  uint64_t off = 0, index = 0, next_progress = 0;
  const uint64_t step = rep->bytes / 100 > (1u << 20) ? rep->bytes / 100 : (1u << 20);
  v->rd = &v->reader;
  v->decoders = decode_threads(v->opt);
  for (; v->engines_ready < 1; ++v->engines_ready) {
    if (!atf_engine_init(&v->engines[v->engines_ready], (atf_engine_kind)v->opt->engine)) {
      const char *why = atf_upb_engine_schema_error();
      if (why == NULL) return ATF_VALIDATE_E_NO_MEMORY;
      snprintf(rep->reason, sizeof rep->reason, "upb engine: %s", why);
      return ATF_VALIDATE_E_IO;
    }
  }
  v->batch_cap =
      rep->bytes < BATCH_MAX ? (size_t)rep->bytes : BATCH_MAX; /* a record takes >= 1 byte */
  if (v->batch_cap > 0 && !slots_init(v)) return ATF_VALIDATE_E_NO_MEMORY;
  batch *ahead = NULL; /* framed from `off` and handed out already */
  unsigned s = 0;      /* the slot the next batch is framed in */
  for (;;) {
    if (v->opt->progress != NULL && off >= next_progress) {
      v->opt->progress(off, rep->bytes, v->opt->progress_arg);
      next_progress = off + step;
    }
    batch *cur = ahead;
    ahead = NULL;
    if (cur == NULL) {
      const uint64_t zeros = skip_zeros(v, off);
      if (v->reader.io_failed) return io_failure(v, EVENTS_FILE);
      if (zeros > 0) {
        off += zeros;
        index += zeros;
        continue;
      }
      if (v->batch_cap > 0 && batch_prepare(v, &v->slots[s], off, true)) cur = &v->slots[s], s ^= 1;
    }
    if (cur != NULL) {
      if (batch_prepare(v, &v->slots[s], cur->end, false)) ahead = &v->slots[s], s ^= 1;
      const bool go_on = batch_apply(v, cur, ahead, index);
      batch_retire(v, cur);
      if (!go_on || v->oom) {
        if (ahead != NULL) batch_retire(v, ahead);
        return go_on ? ATF_VALIDATE_E_NO_MEMORY : io_failure(v, EVENTS_FILE);
      }
      index += cur->n;
      off = cur->end;
      continue;
    }
    /* The record at `off` goes alone: larger than the window or the limit, or broken framing. */
    atf_frame f;
    const atf_frame_status st = atf_reader_frame(&v->reader, off, &f);
    if (st == ATF_FRAME_END) break;
    if (st == ATF_FRAME_IO) return io_failure(v, EVENTS_FILE);
    if (st != ATF_FRAME_OK) {
      rep->stopped_at_framing = true;
      framing_error(v, st, &f, index);
      v->last_record_failed = true; /* a torn tail is not a last record */
      break;
    }
    rep->records++;
    if (!check_record(v, &f, index, false)) return io_failure(v, EVENTS_FILE);
    if (v->oom) return ATF_VALIDATE_E_NO_MEMORY;
    off = f.body_offset + f.length;
    index++;
  }
  if (v->opt->progress != NULL) v->opt->progress(rep->bytes, rep->bytes, v->opt->progress_arg);
  return ATF_VALIDATE_OK;
}

static void check_session_end(validation *v) {
  atf_validate_report *rep = v->rep;
  if (rep->records == 0) {
    ADD(v, ATF_RULE_SESSION_FIRST, EVENTS_FILE, 0, ATF_VALIDATE_NO_RECORD,
        "events.bin holds no complete record");
  } else if (!v->last_record_failed && v->last_payload != ATF_PAYLOAD_TRACE_END) {
    ADD(v, ATF_RULE_SESSION_LAST, EVENTS_FILE, v->last_offset, rep->records - 1,
        "the last record is not a TraceEnd");
  }
}

static void cross_check_manifest(validation *v) {
  const atf_manifest *m = &v->manifest;
  atf_validate_report *rep = v->rep;
  if (!v->have_manifest) return;
  if (m->event_count.present && m->event_count.value != rep->records) {
    ADD(v, ATF_RULE_MANIFEST_EVENT_COUNT, MANIFEST_FILE, m->event_count.offset,
        ATF_VALIDATE_NO_RECORD,
        "eventCount is %" PRIu64 " but events.bin holds %" PRIu64 " records", m->event_count.value,
        rep->records);
  }
  if (m->bytes_written.present && m->bytes_written.value != rep->bytes) {
    ADD(v, ATF_RULE_MANIFEST_BYTES_WRITTEN, MANIFEST_FILE, m->bytes_written.offset,
        ATF_VALIDATE_NO_RECORD, "bytesWritten is %" PRIu64 " but events.bin is %" PRIu64 " bytes",
        m->bytes_written.value, rep->bytes);
  }
  if (v->out_of_range > 0) {
    ADD(v, ATF_RULE_MANIFEST_TIME_RANGE, EVENTS_FILE, v->first_out_of_range_offset,
        v->first_out_of_range_record,
        "%" PRIu64 " event(s) outside [timeStartNs, timeEndNs] = [%" PRIu64 ", %" PRIu64
        "]; the first at %" PRIu64 " ns",
        v->out_of_range, m->time_start_ns.value, m->time_end_ns.value, v->first_out_of_range_ns);
  }
}

/* Runs every rule; the reader is set up, the manifest (if any) given as bytes. */
static atf_validate_status run(validation *v, const char *manifest, size_t manifest_len,
                               uint64_t manifest_size, bool has_manifest) {
  v->rep->valid = true;
  v->prefix_intact = true;
  atf_thread_table_init(&v->threads, ATF_VALIDATE_MAX_THREADS, atf_thread_table_random_seed());
  atf_call_tree_init(&v->calls, ATF_VALIDATE_MAX_THREADS, 0, atf_thread_table_random_seed());
  atf_call_tree_init(&v->kept_calls, ATF_VALIDATE_MAX_THREADS, 0, atf_thread_table_random_seed());
  if (has_manifest) check_manifest(v, manifest, manifest_len, manifest_size);
  atf_validate_status st = v->oom ? ATF_VALIDATE_E_NO_MEMORY : check_events(v);
  v->rep->engine_fallbacks = v->fallbacks;
  v->rep->warnings += v->fallbacks;
  if (st == ATF_VALIDATE_OK) {
    check_session_end(v);
    cross_check_manifest(v);
    if (v->oom) st = ATF_VALIDATE_E_NO_MEMORY;
  }
  atf_thread_table_free(&v->threads);
  atf_call_tree_free(&v->calls);
  atf_call_tree_free(&v->kept_calls);
  pool_stop(v->pool);
  v->pool = NULL;
  for (unsigned i = 0; i < v->engines_ready; ++i) atf_engine_free(&v->engines[i]);
  slots_free(v);
  if (st == ATF_VALIDATE_E_NO_MEMORY)
    snprintf(v->rep->reason, sizeof v->rep->reason, "out of memory");
  return st;
}

static bool begin(validation *v, const atf_validate_options *options,
                  atf_validate_options *defaults, const atf_pass_hooks *hooks,
                  atf_validate_report *report) {
  memset(report, 0, sizeof *report);
  memset(v, 0, sizeof *v);
  if (options == NULL) {
    atf_validate_options_init(defaults);
    options = defaults;
  }
  v->opt = options;
  v->rep = report;
  v->hooks = hooks;
  v->max_errors =
      options->max_errors < ATF_VALIDATE_MAX_ERRORS ? options->max_errors : ATF_VALIDATE_MAX_ERRORS;
  v->allowed = options->allowed_rules & ATF_VALIDATE_ALLOWABLE_RULES;
  report->allowed_rules = v->allowed;
  report->engine = options->engine;
  if (atf_engine_name((atf_engine_kind)options->engine) == NULL) {
    snprintf(report->reason, sizeof report->reason, "unknown engine %d", (int)options->engine);
    return false;
  }
  return options->max_record_size > 0;
}

atf_validate_status atf_validate_buffers(const uint8_t *events, size_t events_len,
                                         const uint8_t *manifest, size_t manifest_len,
                                         const atf_validate_options *options,
                                         atf_validate_report *report) {
  return atf_pass_run_buffers(events, events_len, manifest, manifest_len, options, NULL, report);
}

atf_validate_status atf_pass_run_buffers(const uint8_t *events, size_t events_len,
                                         const uint8_t *manifest, size_t manifest_len,
                                         const atf_validate_options *options,
                                         const atf_pass_hooks *hooks, atf_validate_report *report) {
  validation v;
  atf_validate_options defaults;
  if (!begin(&v, options, &defaults, hooks, report) || (events == NULL && events_len > 0)) {
    if (report->reason[0] == '\0')
      snprintf(report->reason, sizeof report->reason, "invalid arguments");
    return ATF_VALIDATE_E_USAGE;
  }
  static const uint8_t kEmpty[1] = {0};
  atf_reader_init_mem(&v.reader, events ? events : kEmpty, events_len);
  report->bytes = events_len;
  return run(&v, (const char *)manifest, manifest_len, manifest_len, manifest != NULL);
}

/* ---------------------------------------------------------------------------------------------
 * Files. */

/* Reads trace.json from dirfd, if there is one. Returns 0 (*data NULL when there is none) or the
 * failure (errno, or -1 with *why). */
static int read_manifest(int dirfd, char **data, size_t *len, uint64_t *size, const char **why) {
  int fd;
  int err = atf_file_open(dirfd, MANIFEST_FILE, false, &fd, size, why);
  if (err == ENOENT) return 0;
  if (err != 0) return err;
  err = atf_file_read_all(fd, *size, ATF_VALIDATE_MAX_MANIFEST, data, len);
  close(fd);
  return err;
}

atf_validate_status atf_pass_run(int dirfd, const char *name, const char *display,
                                 const atf_validate_options *options, const atf_pass_hooks *hooks,
                                 atf_validate_report *report) {
  validation v;
  atf_validate_options defaults;
  if (!begin(&v, options, &defaults, hooks, report) || name == NULL || name[0] == '\0') {
    if (report->reason[0] == '\0') snprintf(report->reason, sizeof report->reason, "no path given");
    return ATF_VALIDATE_E_USAGE;
  }
  struct stat st;
  if (fstatat(dirfd, name, &st, 0) != 0) {
    snprintf(report->reason, sizeof report->reason, "%s: %s", display, strerror(errno));
    return ATF_VALIDATE_E_IO;
  }
  const bool is_dir = S_ISDIR(st.st_mode);
  const char *leaf;
  bool owned;
  const int dfd = atf_file_open_dir_of(dirfd, name, is_dir, &leaf, &owned);
  if (dfd < 0 && dfd != AT_FDCWD) {
    snprintf(report->reason, sizeof report->reason, "%s: %s", display, strerror(errno));
    return ATF_VALIDATE_E_IO;
  }
  const char *sep = is_dir ? "/" : "";
  const char *events_name = is_dir ? EVENTS_FILE : leaf;
  atf_validate_status status = ATF_VALIDATE_E_IO;
  int fd = -1;
  uint64_t size = 0, manifest_size = 0;
  const char *why = NULL;
  char *manifest = NULL;
  size_t manifest_len = 0;
  int err = atf_file_open(dfd, events_name, false, &fd, &size, &why);
  if (err != 0) {
    snprintf(report->reason, sizeof report->reason, "%s%s%s: %s", display, sep,
             is_dir ? EVENTS_FILE : "", atf_file_strerror(err, why));
  } else if ((err = read_manifest(dfd, &manifest, &manifest_len, &manifest_size, &why)) != 0) {
    snprintf(report->reason, sizeof report->reason, "%s%s%s%s: %s", is_dir ? display : "", sep,
             MANIFEST_FILE, is_dir ? "" : " beside the events file", atf_file_strerror(err, why));
  } else if (!atf_reader_init_fd(&v.reader, fd, size, v.opt->window_size)) {
    status = ATF_VALIDATE_E_NO_MEMORY; /* a 1 MiB malloc failure: not reproducible in a test */
    snprintf(report->reason, sizeof report->reason, "out of memory");
  } else {
    report->bytes = size;
    status = run(&v, manifest, manifest_len, manifest_size, manifest != NULL);
  }
  atf_reader_free(&v.reader);
  free(manifest);
  if (fd >= 0) close(fd);
  if (owned && dfd >= 0) close(dfd);
  return status;
}

atf_validate_status atf_validate_path(const char *path, const atf_validate_options *options,
                                      atf_validate_report *report) {
  return atf_pass_run(AT_FDCWD, path, path, options, NULL, report);
}
