/* call_report.c: see call_report.h.
 *
 * A hook of the validation pass (internal/pass.h): the pass frames, decodes and checks every
 * record; the hook gets each record that decodes and decodes a FunctionCall/FunctionReturn once
 * more with a visitor that keeps its symbol. Three tables, all open addressing with linear probing:
 * functions keyed by (address, symbol bytes), threads keyed by thread id, and "active" counts keyed
 * by (thread, function) for the open frames of each function on each thread (an entry is deleted,
 * by backward shift, when its count returns to 0, so the table never holds more entries than
 * there are open frames). A frame is outermost when its (thread, function) count was 0 on entry.
 */
#include "validator/call_report.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "validator/atf/validate.h"
#include "validator/internal/decode.h"
#include "validator/internal/pass.h"
#include "validator/internal/json_reader.h"
#include "validator/internal/json_writer.h"

#define NO_FN UINT32_MAX

typedef struct fn {
  uint64_t address, hash;
  size_t name_off;
  size_t name_len;
  uint64_t calls, unreturned, unmatched, total_ns, self_ns;
} fn;

typedef struct frame {
  uint64_t address, t, child_ns;
  uint32_t fn;
  uint8_t outer;
} frame;

typedef struct thread_state {
  int32_t tid;
  frame *stack;
  size_t depth, cap;
  uint64_t lost; /* frames past the depth or frame limit: their returns come first */
} thread_state;

/* uint64 key (never 0) -> uint32 value. */
typedef struct map {
  uint64_t *keys;
  uint32_t *vals;
  size_t cap, n; /* cap: 0 or a power of two */
} map;

typedef struct builder {
  atf_call_report *rep;
  const atf_call_report_options *o;
  uint32_t max_functions, max_threads, max_depth, max_open_frames; /* the bounds in force */
  fn *fns;
  size_t nfns, capfns;
  uint32_t *fn_slots; /* fn index + 1; 0 = empty */
  size_t fn_slot_cap;
  char *names;
  size_t names_len, names_cap;
  thread_state *threads;
  size_t nthreads, capthreads;
  map thread_ids; /* tid + 2^32 -> thread index */
  map active;     /* ((thread << 32) | fn) + 1 -> open frames */
  size_t open_frames;
  atf_buf symbol;   /* the current record's */
  uint64_t decoded; /* records the pass handed over */
  bool oom;
} builder;

struct atf_call_report_builder {
  builder b;
};

/* ---- options -----------------------------------------------------------------------------------
 */

void atf_call_report_options_init(atf_call_report_options *o) {
  memset(o, 0, sizeof *o);
  o->sort = ATF_CALL_REPORT_SORT_TOTAL;
}

int atf_call_report_parse_option(const char *arg, atf_call_report_options *o, char *err,
                                 size_t err_len) {
  if (strncmp(arg, "--thread=", 9) == 0) {
    const char *v = arg + 9;
    char *end;
    errno = 0;
    long long tid = strtoll(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || tid < INT32_MIN || tid > INT32_MAX) {
      snprintf(err, err_len, "invalid '%s': expected a thread id (a 32-bit integer)", arg);
      return -1;
    }
    o->one_thread = true;
    o->thread_id = (int32_t)tid;
    return 1;
  }
  if (strncmp(arg, "--sort=", 7) == 0) {
    static const char *const names[] = {"total", "self", "calls", "name"};
    for (int i = 0; i < 4; i++) {
      if (strcmp(arg + 7, names[i]) == 0) {
        o->sort = (atf_call_report_sort)i;
        return 1;
      }
    }
    snprintf(err, err_len, "invalid '%s': expected total, self, calls or name", arg);
    return -1;
  }
  return 0;
}

/* ---- small helpers -----------------------------------------------------------------------------
 */

static uint32_t bound(uint32_t asked, uint32_t limit) {
  return asked == 0 || asked > limit ? limit : asked;
}

static uint64_t add_sat(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

static uint64_t mix(uint64_t x) { /* splitmix64 finaliser */
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

static uint64_t hash_fn(uint64_t address, const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull ^ mix(address);
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return mix(h);
}

/* Doubles `*p` (an array of `*cap` elements of `size` bytes) until it holds `need`. */
static bool reserve(void **p, size_t *cap, size_t need, size_t size, size_t first) {
  if (need <= *cap) return true;
  size_t c = *cap ? *cap : first;
  while (c < need) c *= 2;
  void *q = realloc(*p, c * size);
  if (q == NULL) return false;
  *p = q;
  *cap = c;
  return true;
}

/* ---- map ---------------------------------------------------------------------------------------
 */

static size_t map_find(const map *m, uint64_t key) {
  if (m->cap == 0) return SIZE_MAX;
  size_t i = (size_t)(mix(key) & (m->cap - 1));
  while (m->keys[i] != 0) {
    if (m->keys[i] == key) return i;
    i = (i + 1) & (m->cap - 1);
  }
  return SIZE_MAX;
}

static bool map_grow(map *m) {
  size_t cap = m->cap ? m->cap * 2 : 64;
  uint64_t *keys = calloc(cap, sizeof *keys);
  uint32_t *vals = calloc(cap, sizeof *vals);
  if (keys == NULL || vals == NULL) {
    free(keys);
    free(vals);
    return false;
  }
  for (size_t i = 0; i < m->cap; i++) {
    if (m->keys[i] == 0) continue;
    size_t j = (size_t)(mix(m->keys[i]) & (cap - 1));
    while (keys[j] != 0) j = (j + 1) & (cap - 1);
    keys[j] = m->keys[i];
    vals[j] = m->vals[i];
  }
  free(m->keys);
  free(m->vals);
  m->keys = keys;
  m->vals = vals;
  m->cap = cap;
  return true;
}

/* The slot of `key`, inserted with value 0 when absent; SIZE_MAX when memory ran out. */
static size_t map_upsert(map *m, uint64_t key) {
  size_t i = map_find(m, key);
  if (i != SIZE_MAX) return i;
  if ((m->n + 1) * 2 > m->cap && !map_grow(m)) return SIZE_MAX;
  i = (size_t)(mix(key) & (m->cap - 1));
  while (m->keys[i] != 0) i = (i + 1) & (m->cap - 1);
  m->keys[i] = key;
  m->vals[i] = 0;
  m->n++;
  return i;
}

/* Removes slot i, shifting later members of its probe run back (no tombstones). */
static void map_erase(map *m, size_t i) {
  size_t mask = m->cap - 1, j = i;
  for (;;) {
    m->keys[i] = 0;
    for (;;) {
      j = (j + 1) & mask;
      if (m->keys[j] == 0) {
        m->n--;
        return;
      }
      size_t home = (size_t)(mix(m->keys[j]) & mask);
      /* keep j where it is when its home lies cyclically in (i, j] */
      bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (!stays) break;
    }
    m->keys[i] = m->keys[j];
    m->vals[i] = m->vals[j];
    i = j;
  }
}

static void map_free(map *m) {
  free(m->keys);
  free(m->vals);
  memset(m, 0, sizeof *m);
}

/* ---- functions and threads ---------------------------------------------------------------------
 */

static bool fn_slots_grow(builder *b) {
  size_t cap = b->fn_slot_cap ? b->fn_slot_cap * 2 : 1024;
  uint32_t *slots = calloc(cap, sizeof *slots);
  if (slots == NULL) return false;
  for (size_t k = 0; k < b->nfns; k++) {
    size_t i = (size_t)(b->fns[k].hash & (cap - 1));
    while (slots[i] != 0) i = (i + 1) & (cap - 1);
    slots[i] = (uint32_t)k + 1;
  }
  free(b->fn_slots);
  b->fn_slots = slots;
  b->fn_slot_cap = cap;
  return true;
}

/* The function (address, current symbol), added when new; NO_FN past the limits or out of
 * memory. */
static uint32_t fn_get(builder *b, uint64_t address) {
  const char *s = b->symbol.data != NULL ? b->symbol.data : "";
  size_t n = b->symbol.len;
  uint64_t h = hash_fn(address, s, n);
  if (b->fn_slot_cap != 0) {
    size_t i = (size_t)(h & (b->fn_slot_cap - 1));
    for (; b->fn_slots[i] != 0; i = (i + 1) & (b->fn_slot_cap - 1)) {
      const fn *f = &b->fns[b->fn_slots[i] - 1];
      if (f->hash == h && f->address == address && f->name_len == n &&
          (n == 0 || memcmp(b->names + f->name_off, s, n) == 0)) {
        return b->fn_slots[i] - 1;
      }
    }
  }
  if (b->nfns >= b->max_functions || b->names_len + n + 1 > ATF_CALL_REPORT_MAX_NAME_BYTES) {
    return NO_FN;
  }
  if ((b->nfns + 1) * 2 > b->fn_slot_cap && !fn_slots_grow(b)) goto oom;
  if (!reserve((void **)&b->fns, &b->capfns, b->nfns + 1, sizeof *b->fns, 256)) goto oom;
  if (!reserve((void **)&b->names, &b->names_cap, b->names_len + n + 1, 1, 4096)) goto oom;
  fn *f = &b->fns[b->nfns];
  memset(f, 0, sizeof *f);
  f->address = address;
  f->hash = h;
  f->name_off = b->names_len;
  f->name_len = n;
  if (n != 0) memcpy(b->names + b->names_len, s, n);
  b->names[b->names_len + n] = '\0';
  b->names_len += n + 1;
  size_t i = (size_t)(h & (b->fn_slot_cap - 1));
  while (b->fn_slots[i] != 0) i = (i + 1) & (b->fn_slot_cap - 1);
  b->fn_slots[i] = (uint32_t)b->nfns + 1;
  return (uint32_t)b->nfns++;
oom:
  b->oom = true;
  return NO_FN;
}

/* The thread's state, added when new; NULL past the limit or out of memory. */
static thread_state *thread_get(builder *b, int32_t tid, size_t *index) {
  uint64_t key = (uint64_t)(uint32_t)tid + (1ull << 32);
  size_t i = map_find(&b->thread_ids, key);
  if (i != SIZE_MAX) {
    *index = b->thread_ids.vals[i];
    return &b->threads[*index];
  }
  if (b->nthreads >= b->max_threads) return NULL;
  if (!reserve((void **)&b->threads, &b->capthreads, b->nthreads + 1, sizeof *b->threads, 16) ||
      (i = map_upsert(&b->thread_ids, key)) == SIZE_MAX) {
    b->oom = true;
    return NULL;
  }
  thread_state *t = &b->threads[b->nthreads];
  memset(t, 0, sizeof *t);
  t->tid = tid;
  b->thread_ids.vals[i] = (uint32_t)b->nthreads;
  *index = b->nthreads++;
  return t;
}

static uint64_t active_key(size_t thread, uint32_t f) { return (((uint64_t)thread << 32) | f) + 1; }

/* ---- events ------------------------------------------------------------------------------------
 */

static void on_call(builder *b, const atf_event *ev) {
  b->rep->calls++;
  size_t ti;
  thread_state *t = thread_get(b, ev->thread_id, &ti);
  uint32_t f = t == NULL ? NO_FN : fn_get(b, ev->address);
  if (f != NO_FN) b->fns[f].calls++;
  if (t == NULL) {
    b->rep->events_over_limits++;
    return;
  }
  if (f == NO_FN || t->depth >= b->max_depth || b->open_frames >= b->max_open_frames) {
    t->lost++; /* not stacked: its return comes before any return of the frames below */
    b->rep->events_over_limits++;
    return;
  }
  size_t slot;
  if (!reserve((void **)&t->stack, &t->cap, t->depth + 1, sizeof *t->stack, 64) ||
      (slot = map_upsert(&b->active, active_key(ti, f))) == SIZE_MAX) {
    b->oom = true;
    return;
  }
  frame *fr = &t->stack[t->depth++];
  fr->address = ev->address;
  fr->t = ev->time_ns;
  fr->child_ns = 0;
  fr->fn = f;
  fr->outer = b->active.vals[slot]++ == 0;
  b->open_frames++;
}

/* Pops the innermost frame of thread `ti`; `returned` when its return was found at `t_ns`. */
static void pop(builder *b, thread_state *t, size_t ti, bool returned, uint64_t t_ns) {
  frame *fr = &t->stack[--t->depth];
  b->open_frames--;
  fn *f = &b->fns[fr->fn];
  size_t slot = map_find(&b->active, active_key(ti, fr->fn));
  if (slot != SIZE_MAX && --b->active.vals[slot] == 0) map_erase(&b->active, slot);
  if (!returned) {
    f->unreturned++;
    b->rep->unreturned++;
    return;
  }
  uint64_t d = t_ns >= fr->t ? t_ns - fr->t : 0;
  f->self_ns = add_sat(f->self_ns, d > fr->child_ns ? d - fr->child_ns : 0);
  if (fr->outer) f->total_ns = add_sat(f->total_ns, d);
  if (t->depth > 0) t->stack[t->depth - 1].child_ns = add_sat(t->stack[t->depth - 1].child_ns, d);
  b->rep->matched++;
}

static void on_return(builder *b, const atf_event *ev) {
  b->rep->returns++;
  size_t ti;
  thread_state *t = thread_get(b, ev->thread_id, &ti);
  if (t == NULL) {
    b->rep->events_over_limits++;
    return;
  }
  if (t->lost > 0) { /* closes a frame that was past the limits */
    t->lost--;
    b->rep->events_over_limits++;
    return;
  }
  size_t stop =
      t->depth > ATF_CALL_REPORT_SEARCH_DEPTH ? t->depth - ATF_CALL_REPORT_SEARCH_DEPTH : 0;
  size_t k = t->depth;
  while (k > stop && t->stack[k - 1].address != ev->address) k--;
  if (k == stop) { /* no open call of this function */
    b->rep->unmatched_returns++;
    uint32_t f = fn_get(b, ev->address);
    if (f == NO_FN) {
      b->rep->events_over_limits++;
    } else {
      b->fns[f].unmatched++;
    }
    return;
  }
  while (t->depth > k) pop(b, t, ti, false, 0);
  pop(b, t, ti, true, ev->time_ns);
}

static void on_text(void *ctx, atf_text_field field, const uint8_t *data, size_t len,
                    unsigned flags) {
  builder *b = ctx;
  if (field != ATF_TEXT_SYMBOL) return;
  if (flags & ATF_CHUNK_FIRST) atf_buf_clear(&b->symbol);
  atf_buf_append(&b->symbol, data, len);
}

static void on_register(void *ctx, uint64_t value) {
  (void)ctx;
  (void)value;
}

/* ---- manifest ----------------------------------------------------------------------------------
 */

static void read_manifest(atf_call_report *rep, const atf_call_report_options *o, const char *data,
                          size_t len) {
  if (data == NULL) {
    snprintf(rep->manifest_note, sizeof rep->manifest_note,
             "no trace.json (the session did not end normally)");
    return;
  }
  atf_json_doc doc;
  if (atf_json_parse(data, len, &doc) != ATF_JSON_OK || doc.nodes[0].type != ATF_JSON_OBJECT) {
    snprintf(rep->manifest_note, sizeof rep->manifest_note, "trace.json is not a JSON object");
    atf_json_free(&doc);
    return;
  }
  rep->manifest_read = true;
  size_t v = atf_json_get(&doc, 0, "droppedEvents");
  if (v != ATF_JSON_NONE && doc.nodes[v].type == ATF_JSON_NUMBER && doc.nodes[v].is_uint64) {
    rep->has_dropped = true;
    rep->dropped_events = doc.nodes[v].u64;
  }
  size_t by = atf_json_get(&doc, 0, "droppedEventsByThread");
  if (o->one_thread && by != ATF_JSON_NONE && doc.nodes[by].type == ATF_JSON_OBJECT) {
    char key[16];
    snprintf(key, sizeof key, "%d", (int)o->thread_id);
    v = atf_json_get(&doc, by, key);
    if (v != ATF_JSON_NONE && doc.nodes[v].type == ATF_JSON_NUMBER && doc.nodes[v].is_uint64) {
      rep->has_thread_dropped = true;
      rep->thread_dropped_events = doc.nodes[v].u64;
    }
  }
  atf_json_free(&doc);
}

/* ---- build -------------------------------------------------------------------------------------
 */

static void builder_free(builder *b) {
  for (size_t i = 0; i < b->nthreads; i++) free(b->threads[i].stack);
  free(b->threads);
  free(b->fns);
  free(b->fn_slots);
  free(b->names);
  map_free(&b->thread_ids);
  map_free(&b->active);
  atf_buf_free(&b->symbol);
}

static int row_cmp_name(const atf_call_report_row *a, const atf_call_report_row *b) {
  int c = strcmp(a->symbol, b->symbol);
  if (c != 0) return c;
  return a->address < b->address ? -1 : a->address > b->address;
}

#define DESC(field)                                                \
  static int cmp_##field(const void *pa, const void *pb) {         \
    const atf_call_report_row *a = pa, *b = pb;                    \
    if (a->field != b->field) return a->field > b->field ? -1 : 1; \
    return row_cmp_name(a, b);                                     \
  }
DESC(total_ns)
DESC(self_ns)
DESC(calls)
static int cmp_name(const void *a, const void *b) { return row_cmp_name(a, b); }

/* Closes the frames still open, then moves the functions into sorted rows. */
static bool finish(builder *b, atf_call_report *rep, const atf_call_report_options *o) {
  for (size_t ti = 0; ti < b->nthreads; ti++) {
    thread_state *t = &b->threads[ti];
    while (t->depth > 0) pop(b, t, ti, false, 0);
    rep->threads++;
  }
  rep->rows = calloc(b->nfns == 0 ? 1 : b->nfns, sizeof *rep->rows);
  if (rep->rows == NULL) return false;
  rep->names = b->names; /* the rows point into it */
  rep->names_len = b->names_len;
  b->names = NULL;
  for (size_t i = 0; i < b->nfns; i++) {
    const fn *f = &b->fns[i];
    atf_call_report_row *r = &rep->rows[i];
    r->symbol = rep->names + f->name_off;
    r->address = f->address;
    r->calls = f->calls;
    r->unreturned = f->unreturned;
    r->unmatched_returns = f->unmatched;
    r->total_ns = f->total_ns;
    r->self_ns = f->self_ns;
  }
  rep->nrows = b->nfns;
  int (*cmp)(const void *, const void *) = o->sort == ATF_CALL_REPORT_SORT_SELF    ? cmp_self_ns
                                           : o->sort == ATF_CALL_REPORT_SORT_CALLS ? cmp_calls
                                           : o->sort == ATF_CALL_REPORT_SORT_NAME  ? cmp_name
                                                                                   : cmp_total_ns;
  qsort(rep->rows, rep->nrows, sizeof *rep->rows, cmp);
  return true;
}

atf_call_report_builder *atf_call_report_begin(const atf_call_report_options *o,
                                               atf_call_report *rep) {
  memset(rep, 0, sizeof *rep);
  atf_call_report_builder *cb = calloc(1, sizeof *cb);
  if (cb == NULL) return NULL;
  builder *b = &cb->b;
  b->rep = rep;
  b->o = o;
  b->max_functions = bound(o->max_functions, ATF_CALL_REPORT_MAX_FUNCTIONS);
  b->max_threads = bound(o->max_threads, ATF_CALL_REPORT_MAX_THREADS);
  b->max_depth = bound(o->max_depth, ATF_CALL_REPORT_MAX_DEPTH);
  b->max_open_frames = bound(o->max_open_frames, ATF_CALL_REPORT_MAX_OPEN_FRAMES);
  return cb;
}

bool atf_call_report_on_record(void *ctx, atf_reader *reader, const atf_pass_record *rec,
                               char *reason) {
  builder *b = &((atf_call_report_builder *)ctx)->b;
  const atf_event *ev = rec->ev;
  b->decoded++;
  if (ev->payload != ATF_PAYLOAD_FUNCTION_CALL && ev->payload != ATF_PAYLOAD_FUNCTION_RETURN)
    return true;
  if (b->o->one_thread && ev->thread_id != b->o->thread_id) return true;
  /* Once more, for the symbol (it decoded in the pass: only a file that changed fails here). */
  const atf_event_visitor visitor = {b, on_text, on_register};
  atf_event again;
  atf_decode_error err;
  memset(&err, 0, sizeof err);
  err.quiet = true;
  atf_buf_clear(&b->symbol);
  if (!atf_decode_record(reader, rec->frame->body_offset, rec->frame->length, &visitor, &again,
                         &err)) {
    snprintf(reason, 256, "events.bin: read error");
    return false;
  }
  if (b->symbol.oom) b->oom = true;
  if (ev->payload == ATF_PAYLOAD_FUNCTION_CALL) {
    on_call(b, ev);
  } else {
    on_return(b, ev);
  }
  if (b->oom) snprintf(reason, 256, "out of memory");
  return !b->oom;
}

void atf_call_report_abandon(atf_call_report_builder *cb) {
  if (cb == NULL) return;
  builder_free(&cb->b);
  atf_call_report_free(cb->b.rep);
  free(cb);
}

bool atf_call_report_finish(atf_call_report_builder *cb, const atf_validate_report *v,
                            const char *manifest, size_t manifest_len) {
  builder *b = &cb->b;
  atf_call_report *rep = b->rep;
  rep->records = v->records;
  rep->stopped_at_framing = v->stopped_at_framing;
  /* Records that did not decode (or were too large), and the broken framing that ended the pass. */
  rep->invalid_records =
      v->records - (b->decoded < v->records ? b->decoded : v->records) + v->stopped_at_framing;
  read_manifest(rep, b->o, manifest, manifest_len);
  const bool ok = !b->oom && finish(b, rep, b->o);
  builder_free(b);
  if (!ok) atf_call_report_free(rep);
  free(cb);
  return ok;
}

bool atf_call_report_build(const uint8_t *events, size_t events_len, const char *manifest,
                           size_t manifest_len, const atf_call_report_options *o,
                           atf_call_report *rep, char *err, size_t err_len) {
  atf_call_report_builder *cb = atf_call_report_begin(o, rep);
  if (cb == NULL) {
    snprintf(err, err_len, "out of memory");
    return false;
  }
  atf_validate_options vo;
  atf_validate_options_init(&vo);
  if (o->max_record_size != 0) vo.max_record_size = o->max_record_size;
  vo.max_errors = 0; /* the report counts records; the caller validates if it wants the errors */
  const atf_pass_hooks hooks = {cb, false, atf_call_report_on_record};
  atf_validate_report v;
  const atf_validate_status st = atf_pass_run_buffers(events, events_len, (const uint8_t *)manifest,
                                                      manifest_len, &vo, &hooks, &v);
  bool ok = st == ATF_VALIDATE_OK;
  if (!ok) {
    snprintf(err, err_len, "%s", v.reason[0] ? v.reason : atf_validate_strerror(st));
    atf_call_report_abandon(cb);
  } else if (!(ok = atf_call_report_finish(cb, &v, manifest, manifest_len))) {
    snprintf(err, err_len, "out of memory");
  }
  atf_validate_report_free(&v);
  return ok;
}

void atf_call_report_free(atf_call_report *rep) {
  free(rep->rows);
  free(rep->names);
  rep->rows = NULL;
  rep->names = NULL;
  rep->nrows = 0;
}

/* ---- output ------------------------------------------------------------------------------------
 */

static void seconds(char *buf, size_t len, uint64_t ns) {
  snprintf(buf, len, "%" PRIu64 ".%09" PRIu64, ns / 1000000000u, ns % 1000000000u);
}

static void print_drops(const atf_call_report *rep, const atf_call_report_options *o, FILE *out) {
  if (!rep->manifest_read) {
    fprintf(out, "# drops: unknown: %s\n", rep->manifest_note);
    return;
  }
  uint64_t dropped = o->one_thread ? rep->thread_dropped_events : rep->dropped_events;
  bool known = o->one_thread ? rep->has_thread_dropped || !rep->has_dropped : true;
  if (!known) {
    fprintf(out, "# drops: %" PRIu64 " events in the session, none listed for this thread\n",
            rep->dropped_events);
    return;
  }
  if (dropped == 0) {
    fprintf(out, "# drops: none (trace.json)\n");
    return;
  }
  fprintf(out,
          "# drops: %" PRIu64
          " events were dropped before they reached events.bin (trace.json): "
          "the table counts only the events in the file; a dropped call's time is in its "
          "caller's self time, a call whose return was dropped has no time\n",
          dropped);
}

bool atf_call_report_print(const atf_call_report *rep, const char *source,
                           const atf_call_report_options *o, FILE *out) {
  fprintf(out, "# call report of %s\n", source);
  if (o->one_thread) {
    fprintf(out, "# thread %d\n", (int)o->thread_id);
  } else {
    fprintf(out, "# threads: all (%" PRIu64 " with function events)\n", rep->threads);
  }
  fprintf(out,
          "# events: %" PRIu64 " calls, %" PRIu64 " returns; %" PRIu64 " calls returned, %" PRIu64
          " without a return in the file, %" PRIu64 " returns without a call\n",
          rep->calls, rep->returns, rep->matched, rep->unreturned, rep->unmatched_returns);
  print_drops(rep, o, out);
  if (rep->invalid_records != 0) {
    fprintf(out, "# invalid records: %" PRIu64 " skipped%s\n", rep->invalid_records,
            rep->stopped_at_framing ? " (broken framing: the rest of the file was not read)" : "");
  }
  if (rep->events_over_limits != 0) {
    fprintf(out, "# over the report's limits: %" PRIu64 " events not in the table\n",
            rep->events_over_limits);
  }
  fprintf(out, "# total and self time in seconds; total counts the outermost of recursive calls\n");
  fprintf(out, "#%19s %20s %12s %12s  %s\n", "total", "self", "calls", "unreturned", "function");
  for (size_t i = 0; i < rep->nrows; i++) {
    const atf_call_report_row *r = &rep->rows[i];
    char total[32], self[32];
    seconds(total, sizeof total, r->total_ns);
    seconds(self, sizeof self, r->self_ns);
    fprintf(out, "%20s %20s %12" PRIu64 " %12" PRIu64 "  ", total, self, r->calls, r->unreturned);
    if (r->symbol[0] != '\0') {
      fputs(r->symbol, out);
    } else {
      fprintf(out, "0x%" PRIx64, r->address);
    }
    fputc('\n', out);
  }
  return fflush(out) == 0 && !ferror(out);
}

/* ---- atf-dump --format=report ------------------------------------------------------------------
 */

char *atf_call_report_read_manifest(const char *events_path, size_t *len) {
  char path[4096];
  const char *slash = strrchr(events_path, '/');
  int dir_len = slash == NULL ? 0 : (int)(slash - events_path + 1);
  if (snprintf(path, sizeof path, "%.*strace.json", dir_len, events_path) >= (int)sizeof path) {
    return NULL;
  }
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return NULL;
  struct stat st;
  char *data = NULL;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= ATF_VALIDATE_MAX_MANIFEST &&
      (data = malloc((size_t)st.st_size + 1)) != NULL) {
    size_t got = 0;
    while (got < (size_t)st.st_size) {
      ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += (size_t)n;
    }
    *len = got;
  }
  close(fd);
  return data;
}
