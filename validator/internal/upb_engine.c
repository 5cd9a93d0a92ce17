/* The upb engine (upb_engine.h): schema views, one-pass decoding, the validator's record rules.
 *
 * Layout of this file:
 *   1. the schema: the embedded descriptor set, changed in memory, loaded into three upb_symtabs
 *      ("views", below); the offsets of every field the engine reads, resolved once per view;
 *   2. the arena: a fixed block per engine, growth bounded by a byte limit;
 *   3. decoding: upb_decode_ex() with an unknown-field handler, then the rules in the nanopb
 *      engine's order: structure (upb), then values in wire order (UTF-8, register names), then
 *      the record's rules (one payload, the timestamp);
 *   4. the visitor, for valid records.
 *
 * Three views of the schema, all without the payload oneof:
 *   RAW      map fields as repeated bytes: the first pass (decode_first()), whose register entries
 *            raw_entry() reads; it settles a record in its smallest encoding with ASCII text and
 *            canonical named entries (every record the writer writes but the few with a negative
 *            int32). Also, on the error path, where each map entry starts and ends.
 *   FAST     the schema's own labels (strings singular): upb keeps the last occurrence of each
 *            string. Exact when no field occurred twice, which the engine checks after decoding:
 *            the record's length must equal the smallest encoding of what was decoded
 *            (scan_record(), below). Any repeated occurrence, unknown field, explicit default or
 *            padded varint makes the record longer than that.
 *   REPEATED every singular string, bytes field and map key repeated: every occurrence kept. A
 *            record the FAST view cannot vouch for is decoded again with it (rare: the writer's
 *            records are minimal, except those with a negative int32, below).
 * The views keep every field number and wire type, so upb accepts and rejects the same bytes in
 * all three, at the same place, except inside map entries, which only FAST and REPEATED decode: a
 * record the RAW pass does not settle, whatever the reason, is decided by the FAST view as if that
 * pass had not run, and a structural error from the FAST view is final.
 *
 * The nanopb engine's error order, which this file reproduces: (a) the first structural defect in
 * wire order, innermost first (upb stops at it: decoding is depth-first in wire order); (b) the
 * first value defect in wire order: a string's invalid UTF-8 at its bad byte, or a register map
 * entry without a name, detected when the entry ends (so a bad byte inside that entry's keys comes
 * first); (c) schema.payload; (d) schema.timestamp. upb keeps string positions (its strings point
 * into the input) but not where a map entry starts and ends: when (b) involves a nameless entry,
 * the record is decoded again with the LOCATE view to find them. */
#include "validator/internal/upb_engine.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atf_v4_descriptor_set.h"
#include "google/protobuf/descriptor.upb.h"
#include "upb/decode.h"
#include "upb/def.h"
#include "upb/generated_util.h"
#include "upb/msg.h"
#include "upb/msgfactory.h"
#include "upb/upb.h"
#include "validator/internal/utf8.h"

#define BLOCK_SIZE (64u * 1024u)
#define PAYLOADS 5 /* field numbers 10 .. 14 */

/* ---------------------------------------------------------------------------------------------
 * 1. The schema. */

/* Where a field lives in a decoded message. */
typedef struct field_ref {
  uint16_t offset;
  bool repeated;            /* an upb_array* at offset */
  const upb_msglayout *sub; /* submessage layout, or NULL */
} field_ref;

typedef enum view_kind { VIEW_FAST, VIEW_REPEATED, VIEW_RAW } view_kind;

/* One loaded schema view and the offsets of the fields the engine reads in it. */
typedef struct view {
  view_kind kind;
  upb_symtab *symtab;
  upb_msgfactory *factory;
  const upb_msglayout *event;
  field_ref payload[PAYLOADS]; /* Event.trace_start .. signal_delivery */
  /* Each payload's register map (FunctionCall, FunctionReturn, SignalDelivery). */
  field_ref regs[PAYLOADS];
  field_ref ev_id, ev_tid, ev_ts;
  field_ref ts_seconds, ts_nanos;
  field_ref start_path, start_args, start_os, start_arch;
  field_ref end_exit;
  field_ref call_symbol, call_address, call_stack, call_site;
  field_ref ret_symbol, ret_address;
  field_ref sig_number, sig_name;
  field_ref entry_key, entry_value; /* the three entry messages share one layout shape */
} view;

static struct {
  const char *error; /* NULL: loaded */
  char error_buf[160];
  view raw, fast, repeated;
} g;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void set_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g.error_buf, sizeof g.error_buf, fmt, ap);
  va_end(ap);
  g.error = g.error_buf;
}

enum { LABEL_OPTIONAL = 1, LABEL_REPEATED = 3 };
enum { TYPE_STRING = 9, TYPE_MESSAGE = 11, TYPE_BYTES = 12 };
/* google_protobuf_FieldDescriptorProto_has_oneof_index() reads has-bit 4 (descriptor.upb.h). */
#define ONEOF_INDEX_HASBIT 4

static bool is_map_entry(const google_protobuf_DescriptorProto *m) {
  const google_protobuf_MessageOptions *o = google_protobuf_DescriptorProto_options(m);
  return o != NULL && google_protobuf_MessageOptions_map_entry(o);
}

/* Whether type_name (".pkg.Outer.Entry") names the nested message `nested` of a message. */
static bool names_nested(upb_strview type_name, upb_strview nested) {
  return type_name.size > nested.size && type_name.data[type_name.size - nested.size - 1] == '.' &&
         memcmp(type_name.data + type_name.size - nested.size, nested.data, nested.size) == 0;
}

/* A view of one message (and its nested messages): no oneofs; for VIEW_REPEATED every singular
 * string and bytes field repeated; for VIEW_RAW map fields as repeated bytes. */
static void change_message(google_protobuf_DescriptorProto *m, view_kind kind, upb_arena *a) {
  size_t nfields = 0, nnested = 0;
  google_protobuf_FieldDescriptorProto **fields =
      google_protobuf_DescriptorProto_mutable_field(m, &nfields);
  google_protobuf_DescriptorProto **nested =
      google_protobuf_DescriptorProto_mutable_nested_type(m, &nnested);
  for (size_t i = 0; i < nfields; ++i) {
    google_protobuf_FieldDescriptorProto *f = fields[i];
    const int32_t type = google_protobuf_FieldDescriptorProto_type(f);
    if (google_protobuf_FieldDescriptorProto_has_oneof_index(f))
      _upb_clearhas(f, ONEOF_INDEX_HASBIT);
    if (kind == VIEW_REPEATED && (type == TYPE_STRING || type == TYPE_BYTES) &&
        google_protobuf_FieldDescriptorProto_label(f) == LABEL_OPTIONAL) {
      google_protobuf_FieldDescriptorProto_set_label(f, LABEL_REPEATED);
    }
    if (kind == VIEW_RAW && type == TYPE_MESSAGE) {
      for (size_t k = 0; k < nnested; ++k) {
        if (is_map_entry(nested[k]) &&
            names_nested(google_protobuf_FieldDescriptorProto_type_name(f),
                         google_protobuf_DescriptorProto_name(nested[k]))) {
          google_protobuf_FieldDescriptorProto_set_type(f, TYPE_BYTES);
        }
      }
    }
  }
  google_protobuf_DescriptorProto_resize_oneof_decl(m, 0, a);
  for (size_t k = 0; k < nnested; ++k) change_message(nested[k], kind, a);
}

static const upb_msglayout_field *layout_field(const upb_msglayout *l, uint32_t number) {
  for (int i = 0; i < l->field_count; ++i) {
    if (l->fields[i].number == number) return &l->fields[i];
  }
  return NULL;
}

/* The field `number` of layout l, which must have the descriptor type and label given. */
static bool resolve(const upb_msglayout *l, const char *message, uint32_t number, int dtype,
                    int label, field_ref *out) {
  const upb_msglayout_field *f = l != NULL ? layout_field(l, number) : NULL;
  if (f == NULL || f->descriptortype != dtype || f->label != label) {
    set_error("schema: %s field %u is not what the engine reads (type %d, label %d expected)",
              message, (unsigned)number, dtype, label);
    return false;
  }
  out->offset = f->offset;
  out->repeated = label == LABEL_REPEATED;
  out->sub = dtype == TYPE_MESSAGE ? l->submsgs[f->submsg_index] : NULL;
  return true;
}

static bool resolve_fields(view *v);

static bool load_view(view *v, view_kind kind) {
  v->kind = kind;
  upb_arena *a = upb_arena_new();
  v->symtab = upb_symtab_new();
  if (a == NULL || v->symtab == NULL) {
    if (a != NULL) upb_arena_free(a);
    set_error("schema: out of memory");
    return false;
  }
  google_protobuf_FileDescriptorSet *set = google_protobuf_FileDescriptorSet_parse(
      (const char *)atf_v4_descriptor_set, atf_v4_descriptor_set_size, a);
  size_t nfiles = 0;
  google_protobuf_FileDescriptorProto **files =
      set != NULL ? google_protobuf_FileDescriptorSet_mutable_file(set, &nfiles) : NULL;
  bool ok = files != NULL;
  if (!ok) set_error("schema: the embedded descriptor set does not parse");
  for (size_t i = 0; ok && i < nfiles; ++i) { /* dependencies first (protoc --include_imports) */
    size_t nmsgs = 0;
    google_protobuf_DescriptorProto **msgs =
        google_protobuf_FileDescriptorProto_mutable_message_type(files[i], &nmsgs);
    for (size_t k = 0; k < nmsgs; ++k) change_message(msgs[k], kind, a);
    upb_status status;
    upb_status_clear(&status);
    if (upb_symtab_addfile(v->symtab, files[i], &status) == NULL) {
      set_error("schema: %s", upb_status_errmsg(&status));
      ok = false;
    }
  }
  upb_arena_free(a);
  if (!ok) return false;
  v->factory = upb_msgfactory_new(v->symtab);
  const upb_msgdef *event = upb_symtab_lookupmsg(v->symtab, "atf.v4.Event");
  v->event =
      v->factory != NULL && event != NULL ? upb_msgfactory_getlayout(v->factory, event) : NULL;
  if (v->event == NULL) {
    set_error("schema: no layout for atf.v4.Event");
    return false;
  }
  return resolve_fields(v);
}

static bool resolve_fields(view *v) {
  static const char *const kPayloads[PAYLOADS] = {"TraceStart", "TraceEnd", "FunctionCall",
                                                  "FunctionReturn", "SignalDelivery"};
  enum { UINT64 = 4, INT32 = 5, INT64 = 3 };
  const int text = v->kind == VIEW_REPEATED ? LABEL_REPEATED : LABEL_OPTIONAL;
  for (int p = 0; p < PAYLOADS; ++p) {
    if (!resolve(v->event, "Event", 10 + p, TYPE_MESSAGE, LABEL_OPTIONAL, &v->payload[p]))
      return false;
    if (p >= 2 &&
        !resolve(v->payload[p].sub, kPayloads[p], 3,
                 v->kind == VIEW_RAW ? TYPE_BYTES : TYPE_MESSAGE, LABEL_REPEATED, &v->regs[p])) {
      return false;
    }
  }
  const upb_msglayout *start = v->payload[0].sub;
  const upb_msglayout *end = v->payload[1].sub;
  const upb_msglayout *call = v->payload[2].sub;
  const upb_msglayout *ret = v->payload[3].sub;
  const upb_msglayout *sig = v->payload[4].sub;
  bool ok = resolve(v->event, "Event", 1, UINT64, LABEL_OPTIONAL, &v->ev_id) &&
            resolve(v->event, "Event", 2, INT32, LABEL_OPTIONAL, &v->ev_tid) &&
            resolve(v->event, "Event", 3, TYPE_MESSAGE, LABEL_OPTIONAL, &v->ev_ts) &&
            resolve(v->ev_ts.sub, "Timestamp", 1, INT64, LABEL_OPTIONAL, &v->ts_seconds) &&
            resolve(v->ev_ts.sub, "Timestamp", 2, INT32, LABEL_OPTIONAL, &v->ts_nanos) &&
            resolve(start, "TraceStart", 1, TYPE_STRING, text, &v->start_path) &&
            resolve(start, "TraceStart", 2, TYPE_STRING, LABEL_REPEATED, &v->start_args) &&
            resolve(start, "TraceStart", 3, TYPE_STRING, text, &v->start_os) &&
            resolve(start, "TraceStart", 4, TYPE_STRING, text, &v->start_arch) &&
            resolve(end, "TraceEnd", 1, INT32, LABEL_OPTIONAL, &v->end_exit) &&
            resolve(call, "FunctionCall", 1, TYPE_STRING, text, &v->call_symbol) &&
            resolve(call, "FunctionCall", 2, UINT64, LABEL_OPTIONAL, &v->call_address) &&
            resolve(call, "FunctionCall", 4, TYPE_BYTES, text, &v->call_stack) &&
            resolve(call, "FunctionCall", 5, UINT64, LABEL_OPTIONAL, &v->call_site) &&
            resolve(ret, "FunctionReturn", 1, TYPE_STRING, text, &v->ret_symbol) &&
            resolve(ret, "FunctionReturn", 2, UINT64, LABEL_OPTIONAL, &v->ret_address) &&
            resolve(sig, "SignalDelivery", 1, INT32, LABEL_OPTIONAL, &v->sig_number) &&
            resolve(sig, "SignalDelivery", 2, TYPE_STRING, text, &v->sig_name);
  if (!ok || v->kind == VIEW_RAW) return ok;
  /* The three register entries: key (string) = 1, value (uint64) = 2, at the same offsets in each
   * (one reader serves all three). */
  for (int p = 2; p < PAYLOADS; ++p) {
    field_ref key, value;
    if (!resolve(v->regs[p].sub, "register entry", 1, TYPE_STRING, text, &key) ||
        !resolve(v->regs[p].sub, "register entry", 2, UINT64, LABEL_OPTIONAL, &value)) {
      return false;
    }
    if (p > 2 && (key.offset != v->entry_key.offset || value.offset != v->entry_value.offset)) {
      set_error("schema: the register entries differ in layout");
      return false;
    }
    v->entry_key = key;
    v->entry_value = value;
  }
  return true;
}

static void load_schema(void) {
  if (load_view(&g.fast, VIEW_FAST) && load_view(&g.repeated, VIEW_REPEATED) &&
      load_view(&g.raw, VIEW_RAW)) {
    g.error = NULL;
  }
}

const char *atf_upb_engine_schema_error(void) {
  pthread_once(&g_once, load_schema);
  return g.error;
}

/* ---------------------------------------------------------------------------------------------
 * 2. The arena. Each record gets an arena over the engine's block; what it needs beyond that comes
 * from malloc through this allocator, up to the engine's limit per record. */

typedef struct budget {
  upb_alloc alloc; /* first member: upb calls alloc.func with a pointer to it */
  size_t limit, used;
  bool refused;
} budget;

static void *budget_alloc(upb_alloc *alloc, void *ptr, size_t oldsize, size_t size) {
  budget *b = (budget *)alloc;
  (void)oldsize;
  if (size == 0) {
    free(ptr);
    return NULL;
  }
  if (ptr != NULL || size > b->limit - b->used) { /* upb's arena never reallocates its blocks */
    b->refused = true;
    return NULL;
  }
  void *p = malloc(size);
  if (p == NULL) {
    b->refused = true;
    return NULL;
  }
  b->used += size;
  return p;
}

#define ENGINE_ALIGN 128u

struct atf_upb_engine {
  budget budget;
  size_t last_arena_bytes;
  atf_upb_engine_stats stats;
  unsigned char *block; /* BLOCK_SIZE bytes */
};

atf_upb_engine *atf_upb_engine_new(size_t max_arena_bytes) {
  if (atf_upb_engine_schema_error() != NULL) return NULL;
  /* Written for every record by the one thread that decodes with it: on cache lines of its own
   * (two of them: the adjacent-line prefetcher pairs lines), never beside another thread's data. */
  const size_t size = (sizeof(atf_upb_engine) + ENGINE_ALIGN - 1) / ENGINE_ALIGN * ENGINE_ALIGN;
  atf_upb_engine *e = aligned_alloc(ENGINE_ALIGN, size);
  if (e == NULL) return NULL;
  memset(e, 0, size);
  e->block = malloc(BLOCK_SIZE);
  if (e->block == NULL) {
    free(e);
    return NULL;
  }
  e->budget.alloc.func = budget_alloc;
  e->budget.limit = max_arena_bytes != 0 ? max_arena_bytes : ATF_UPB_DEFAULT_ARENA_LIMIT;
  return e;
}

void atf_upb_engine_free(atf_upb_engine *e) {
  if (e == NULL) return;
  free(e->block);
  free(e);
}

size_t atf_upb_engine_last_arena_bytes(const atf_upb_engine *e) { return e->last_arena_bytes; }

void atf_upb_engine_get_stats(const atf_upb_engine *e, atf_upb_engine_stats *out) {
  *out = e->stats;
}

/* ---------------------------------------------------------------------------------------------
 * 3. Decoding. */

typedef struct record {
  atf_upb_engine *e;
  const char *base; /* the record's first byte */
  size_t len;
  uint64_t offset; /* its absolute input offset */
  atf_decode_error *err;
  /* The unknown-field handler's findings. */
  uint64_t unknown;
  uint32_t bad_tag;
  const char *bad_what; /* why the handler rejected bad_tag, or NULL */
} record;

__attribute__((format(printf, 4, 5))) static bool fail(record *r, const char *rule, uint64_t offset,
                                                       const char *fmt, ...) {
  if (r->err->rule != NULL) return false; /* first error wins */
  r->err->rule = rule;
  r->err->offset = offset;
  if (r->err->quiet) return false; /* the caller wants no message (decode.h) */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->err->message, sizeof r->err->message, fmt, ap);
  va_end(ap);
  return false;
}

/* Reading a decoded message at a resolved offset. upb stored each value with memcpy. */
static const void *msg_ptr(const upb_msg *m, field_ref f) {
  const void *p;
  memcpy(&p, (const char *)m + f.offset, sizeof p);
  return p;
}
static uint64_t msg_u64(const upb_msg *m, field_ref f) {
  uint64_t v;
  memcpy(&v, (const char *)m + f.offset, sizeof v);
  return v;
}
static int32_t msg_i32(const upb_msg *m, field_ref f) {
  int32_t v;
  memcpy(&v, (const char *)m + f.offset, sizeof v);
  return v;
}
/* A repeated field's elements (NULL, 0 when it never occurred). */
static const void *msg_array(const upb_msg *m, field_ref f, size_t *n) {
  const upb_array *a = msg_ptr(m, f);
  *n = a != NULL ? a->len : 0;
  return a != NULL ? a->data : NULL;
}
/* A text field's occurrences: every one (REPEATED view, or a repeated field), or the last one of
 * a singular field (FAST view: only used for a minimal record, where an empty string was not on
 * the wire at all, so none is reported for it). */
static const upb_strview *msg_strings(const upb_msg *m, field_ref f, size_t *n) {
  if (f.repeated) return msg_array(m, f, n);
  const upb_strview *s = (const upb_strview *)(const void *)((const char *)m + f.offset);
  *n = s->size > 0;
  return s;
}

static bool layout_has(const upb_msglayout *l, uint32_t number) {
  return layout_field(l, number) != NULL;
}

/* upb calls this for each field it would keep as unknown, after reading it. A known field number
 * here has a wire type its type does not have; groups are not accepted at all (both are
 * wire.decode in the nanopb engine, at the field's tag: upb's error_at). */
static bool on_unknown(void *ctx, const upb_msglayout *l, uint32_t tag, const char *start,
                       const char *end) {
  record *r = ctx;
  (void)start;
  (void)end;
  const unsigned wt = tag & 7;
  if (layout_has(l, tag >> 3)) {
    r->bad_tag = tag;
    r->bad_what = "has a wire type its schema type does not have";
    return false;
  }
  if (wt == UPB_WIRE_TYPE_START_GROUP || wt == UPB_WIRE_TYPE_END_GROUP) {
    r->bad_tag = tag;
    r->bad_what = "is a group (wire type 3), which this format does not allow";
    return false;
  }
  r->unknown++;
  return true;
}

/* ---- scan_record(): the size of the smallest encoding of a decoded record (FAST view) -----------
 * Each field that has a value counts once, with a one-byte tag (every field number here is below
 * 16), minimal varints and lengths; zero scalars and empty strings count nothing. A negative int32
 * counts 5 bytes: the smallest varint that decodes to it (its 32-bit form; encoders write 10). If
 * the record is exactly this long, no field occurred twice, nothing else was on the wire, and the
 * FAST view saw every occurrence: removing an earlier occurrence of a field whose last occurrence
 * wins would give a shorter encoding of the same record. The same pass notes whether any value
 * rule can fail at all (non-ASCII text, a nameless register entry). */

static uint64_t varint_size(uint64_t v) {
  /* 7 bits a byte: bits needed (lg + 1, at least 1) rounded up to sevens, which is
   * (lg * 9 + 73) / 64 for lg in 0..63 (checked for each in upb_engine_test), without a division.
   */
  const unsigned lg = 63u - (unsigned)__builtin_clzll(v | 1u);
  return (lg * 9u + 73u) >> 6;
}
static uint64_t field_size(uint64_t len) {
  return 1 + varint_size(len) + len;
} /* tag, length, bytes */
static uint64_t u64_size(uint64_t v) { return v != 0 ? 1 + varint_size(v) : 0; }
static uint64_t i32_size(int32_t v) { return v < 0 ? 1 + 5 : u64_size((uint64_t)v); }
/* Whether p[0, n) is ASCII: the common case, without a call. Short texts (register names, symbols)
 * in one or two overlapping loads rather than a loop over bytes. */
static uint64_t load64(const uint8_t *p) {
  uint64_t w;
  memcpy(&w, p, 8);
  return w;
}
static uint32_t load32(const uint8_t *p) {
  uint32_t w;
  memcpy(&w, p, 4);
  return w;
}
static bool ascii(const uint8_t *p, size_t n) {
  uint64_t high;
  if (n >= 8) {
    high = load64(p + n - 8);
    for (size_t i = 0; i + 8 <= n; i += 8) high |= load64(p + i);
  } else if (n >= 4) {
    high = load32(p) | load32(p + n - 4);
  } else {
    high = n == 0 ? 0 : (uint64_t)p[0] | p[n / 2] | p[n - 1];
  }
  return (high & 0x8080808080808080ull) == 0;
}

/* Whether every byte of p[0, n) has its high bit set (n <= 9: the continued bytes of a varint), in
 * one or two overlapping loads as ascii() does. */
static bool continued(const uint8_t *p, size_t n) {
  if (n >= 8)
    return ((load64(p) & load64(p + n - 8)) & 0x8080808080808080ull) == 0x8080808080808080ull;
  if (n >= 4) return (load32(p) & load32(p + n - 4) & 0x80808080u) == 0x80808080u;
  return n == 0 || (p[0] & p[n / 2] & p[n - 1] & 0x80) != 0;
}

/* What one pass over a FAST-view record finds: its smallest encoding's size, and whether every
 * text field is ASCII and every register entry named (then no value rule can fail). */
typedef struct scan {
  uint64_t size;
  bool plain;
} scan;

static void scan_text(scan *sc, const upb_msg *m, field_ref f, bool is_text) {
  const upb_strview *s = (const upb_strview *)(const void *)((const char *)m + f.offset);
  if (s->size == 0) return;
  sc->size += field_size(s->size);
  if (is_text) sc->plain &= ascii((const uint8_t *)s->data, s->size);
}

/* A register map entry read from its bytes (RAW view), in its smallest encoding only: the key
 * (field 1) non-empty and ASCII, then the value (field 2) unless it is 0, each once, with minimal
 * varints. Returns false for anything else (the caller then decodes the record with the entries as
 * messages, where upb and the value rules judge it). Every read is bounds-checked against n. The
 * value's varint must end where the entry ends, so it is checked in place (every byte but the last
 * with its high bit set, the last neither 0, which would not be minimal, nor above 1 in 10th place,
 * which would not fit 64 bits) and decoded only when `value` is wanted (not NULL). */
static inline __attribute__((always_inline)) bool raw_entry(const uint8_t *p, size_t n,
                                                            const uint8_t **key, size_t *key_len,
                                                            uint64_t *value) {
  if (n < 3 || p[0] != 0x0a) return false; /* tag 1, length, at least one key byte */
  size_t len = p[1], i = 2;
  if (len >= 0x80) { /* a length of 2 to 5 bytes, minimal */
    len &= 0x7f;
    for (unsigned k = 1;; ++k) {
      if (k >= 5 || i >= n) return false;
      len |= (size_t)(p[i] & 0x7f) << (7 * k);
      if (p[i++] < 0x80) break;
    }
    if (p[i - 1] == 0) return false;
  }
  if (len == 0 || len > n - i || !ascii(p + i, len)) return false;
  *key = p + i;
  *key_len = len;
  i += len;
  if (value != NULL) *value = 0;
  if (i == n) return true;
  if (p[i++] != 0x10) return false; /* tag 2, varint */
  const size_t vlen = n - i;        /* the varint is the rest: 1 to 10 bytes */
  if (vlen == 0 || vlen > 10) return false;
  const uint8_t last = p[n - 1];
  if (last == 0 || last >= 0x80 || (vlen == 10 && last != 1)) return false;
  if (!continued(p + i, vlen - 1)) return false; /* every byte but the last continues it */
  if (value != NULL) {
    uint64_t v = 0;
    for (size_t k = 0; k < vlen; ++k) v |= (uint64_t)(p[i + k] & 0x7f) << (7 * k);
    *value = v;
  }
  return true;
}

static void scan_entries(scan *sc, const view *v, const upb_msg *m, field_ref regs) {
  size_t n;
  if (v->kind == VIEW_RAW) { /* entries as bytes: each must be in its smallest encoding */
    const upb_strview *raw = msg_array(m, regs, &n);
    for (size_t i = 0; i < n; ++i) {
      const uint8_t *key;
      size_t key_len;
      sc->plain &= raw_entry((const uint8_t *)raw[i].data, raw[i].size, &key, &key_len, NULL);
      sc->size += field_size(raw[i].size);
    }
    return;
  }
  const upb_msg *const *entries = msg_array(m, regs, &n);
  for (size_t i = 0; i < n; ++i) {
    const upb_strview *key =
        (const upb_strview *)(const void *)((const char *)entries[i] + v->entry_key.offset);
    const uint64_t value = msg_u64(entries[i], v->entry_value);
    uint64_t entry = u64_size(value);
    if (key->size > 0) {
      entry += field_size(key->size);
      sc->plain &= ascii((const uint8_t *)key->data, key->size);
    } else {
      sc->plain = false; /* a nameless entry */
    }
    sc->size += field_size(entry);
  }
}

static void scan_payload(scan *sc, const view *v, int p, const upb_msg *m) {
  scan in = {0, sc->plain};
  switch (p) {
    case 0: {
      size_t n;
      const upb_strview *args = msg_array(m, v->start_args, &n);
      scan_text(&in, m, v->start_path, true);
      scan_text(&in, m, v->start_os, true);
      scan_text(&in, m, v->start_arch, true);
      for (size_t i = 0; i < n; ++i) {
        in.size += field_size(args[i].size);
        in.plain &= ascii((const uint8_t *)args[i].data, args[i].size);
      }
      break;
    }
    case 1:
      in.size = i32_size(msg_i32(m, v->end_exit));
      break;
    case 2:
      scan_text(&in, m, v->call_symbol, true);
      in.size += u64_size(msg_u64(m, v->call_address));
      scan_entries(&in, v, m, v->regs[2]);
      scan_text(&in, m, v->call_stack, false);
      in.size += u64_size(msg_u64(m, v->call_site));
      break;
    case 3:
      scan_text(&in, m, v->ret_symbol, true);
      in.size += u64_size(msg_u64(m, v->ret_address));
      scan_entries(&in, v, m, v->regs[3]);
      break;
    default:
      in.size = i32_size(msg_i32(m, v->sig_number));
      scan_text(&in, m, v->sig_name, true);
      scan_entries(&in, v, m, v->regs[4]);
      break;
  }
  sc->size += field_size(in.size);
  sc->plain = in.plain;
}

static scan scan_record(const view *v, const upb_msg *msg,
                        const upb_msg *const payloads[PAYLOADS]) {
  scan sc = {u64_size(msg_u64(msg, v->ev_id)) + i32_size(msg_i32(msg, v->ev_tid)), true};
  const upb_msg *ts = msg_ptr(msg, v->ev_ts);
  if (ts != NULL)
    sc.size +=
        field_size(u64_size(msg_u64(ts, v->ts_seconds)) + i32_size(msg_i32(ts, v->ts_nanos)));
  for (int p = 0; p < PAYLOADS; ++p) {
    if (payloads[p] != NULL) scan_payload(&sc, v, p, payloads[p]);
  }
  return sc;
}

/* ---- value rules ---------------------------------------------------------------------------- */

/* The text fields' names in messages, as the nanopb engine names them. */
static const char *const kTextNames[ATF_TEXT_FIELD_COUNT] = {
    "TraceStart.executable_path",  "TraceStart.args", "TraceStart.operating_system",
    "TraceStart.cpu_architecture", "symbol",          "FunctionCall.stack_shallow_copy",
    "SignalDelivery.name",         "register name",
};

/* The first value defect found so far, by its position in the record ("time", see top). */
typedef struct defect {
  bool set;
  uint64_t at;     /* position in the record where the nanopb engine detects it */
  uint64_t offset; /* position it reports */
  const char *rule;
  char message[128];
} defect;

static void note(defect *d, uint64_t at, uint64_t offset, const char *rule, const char *message) {
  if (d->set && d->at <= at) return;
  d->set = true;
  d->at = at;
  d->offset = offset;
  d->rule = rule;
  snprintf(d->message, sizeof d->message, "%s", message);
}

/* UTF-8 of every occurrence of a string field. */
static void check_strings(const record *r, const upb_msg *m, field_ref f, atf_text_field field,
                          defect *d) {
  size_t n;
  const upb_strview *s = msg_strings(m, f, &n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t *p = (const uint8_t *)s[i].data;
    if (ascii(p, s[i].size)) continue;
    atf_utf8_state u = ATF_UTF8_STATE_INIT;
    const size_t good = atf_utf8_feed(&u, p, s[i].size);
    const uint64_t at = (uint64_t)(s[i].data - r->base);
    char message[128];
    if (good != s[i].size) {
      snprintf(message, sizeof message, "%s: invalid UTF-8 (byte 0x%02x)", kTextNames[field],
               p[good]);
      note(d, at + good, at + good, "schema.utf8", message);
    } else if (!atf_utf8_complete(&u)) {
      snprintf(message, sizeof message, "%s: UTF-8 sequence cut off at the end", kTextNames[field]);
      note(d, at + s[i].size, at + s[i].size, "schema.utf8", message);
    }
  }
}

/* An entry's name is its last key (protobuf: the last occurrence wins). */
static bool entry_named(const view *v, const upb_msg *entry) {
  size_t n;
  const upb_strview *keys = msg_strings(entry, v->entry_key, &n);
  return n > 0 && keys[n - 1].size > 0;
}

/* Where each nameless map entry lies: decodes the record again with the LOCATE view, in which a
 * map field is repeated bytes (upb: each entry's bytes, in wire order). */
static bool locate_nameless(record *r, const view *v, const upb_msg *const payloads[PAYLOADS],
                            defect *d) {
  r->e->stats.located++;
  upb_arena *a = upb_arena_init(NULL, 0, &r->e->budget.alloc);
  if (a == NULL) return false;
  upb_msg *msg = upb_msg_new(g.raw.event, a);
  bool ok = msg != NULL && upb_decode(r->base, r->len, msg, g.raw.event, a);
  for (int p = 2; ok && p < PAYLOADS; ++p) {
    if (payloads[p] == NULL) continue;
    size_t n, nbytes;
    const upb_msg *const *entries = msg_array(payloads[p], v->regs[p], &n);
    if (n == 0) continue;
    const upb_msg *located = msg_ptr(msg, g.raw.payload[p]);
    const upb_strview *bytes = located != NULL ? msg_array(located, g.raw.regs[p], &nbytes) : NULL;
    if (bytes == NULL || nbytes != n) {
      ok = false;
      break;
    }
    for (size_t i = 0; i < n; ++i) {
      if (entry_named(v, entries[i])) continue;
      const uint64_t start = (uint64_t)(bytes[i].data - r->base);
      note(d, start + bytes[i].size, start, "schema.register_name", "register name is empty");
    }
  }
  upb_arena_free(a);
  return ok;
}

/* Value rules, in wire order (see top). Returns false when one is broken (err filled). */
static bool check_values(record *r, const view *v, const upb_msg *const payloads[PAYLOADS]) {
  defect d = {0};
  bool nameless = false;
  if (payloads[0] != NULL) {
    check_strings(r, payloads[0], v->start_path, ATF_TEXT_EXECUTABLE_PATH, &d);
    check_strings(r, payloads[0], v->start_args, ATF_TEXT_ARG, &d);
    check_strings(r, payloads[0], v->start_os, ATF_TEXT_OPERATING_SYSTEM, &d);
    check_strings(r, payloads[0], v->start_arch, ATF_TEXT_CPU_ARCHITECTURE, &d);
  }
  if (payloads[2] != NULL) check_strings(r, payloads[2], v->call_symbol, ATF_TEXT_SYMBOL, &d);
  if (payloads[3] != NULL) check_strings(r, payloads[3], v->ret_symbol, ATF_TEXT_SYMBOL, &d);
  if (payloads[4] != NULL) check_strings(r, payloads[4], v->sig_name, ATF_TEXT_SIGNAL_NAME, &d);
  for (int p = 2; p < PAYLOADS; ++p) {
    if (payloads[p] == NULL) continue;
    size_t n;
    const upb_msg *const *entries = msg_array(payloads[p], v->regs[p], &n);
    for (size_t i = 0; i < n; ++i) {
      check_strings(r, entries[i], v->entry_key, ATF_TEXT_REGISTER_NAME, &d);
      nameless |= !entry_named(v, entries[i]);
    }
  }
  if (nameless && !locate_nameless(r, v, payloads, &d)) {
    if (r->e->budget.refused)
      return fail(r, ATF_UPB_RULE_LIMIT, r->offset, "upb engine: arena limit reached");
    /* Cannot happen: the LOCATE view accepts whatever the others accepted. */
    return fail(r, "schema.register_name", r->offset, "register name is empty (entry not located)");
  }
  if (!d.set) return true;
  return fail(r, d.rule, r->offset + d.offset, "%s", d.message);
}

/* The record-level rules and the fixed fields (decode.c: check_record). */
static bool check_record(record *r, const view *v, const upb_msg *msg,
                         const upb_msg *const payloads[PAYLOADS], atf_event *ev) {
  unsigned tags = 0;
  int payload = -1;
  for (int p = 0; p < PAYLOADS; ++p) {
    if (payloads[p] != NULL) tags |= 1u << p, payload = p;
  }
  if (tags == 0) return fail(r, "schema.payload", r->offset, "no payload set");
  if ((tags & (tags - 1)) != 0) {
    return fail(r, "schema.payload", r->offset,
                "more than one payload field set (field numbers mask 0x%x)",
                tags << ATF_PAYLOAD_TRACE_START);
  }
  const upb_msg *ts = msg_ptr(msg, v->ev_ts);
  if (ts == NULL) return fail(r, "schema.timestamp", r->offset, "timestamp missing");
  const int64_t sec = (int64_t)msg_u64(ts, v->ts_seconds);
  const int32_t nanos = msg_i32(ts, v->ts_nanos);
  if (sec < 0)
    return fail(r, "schema.timestamp", r->offset, "timestamp seconds %lld < 0", (long long)sec);
  if (nanos < 0 || nanos >= 1000000000) {
    return fail(r, "schema.timestamp", r->offset, "timestamp nanos %d outside [0, 999999999]",
                (int)nanos);
  }
  if ((uint64_t)sec > (UINT64_MAX - (uint64_t)nanos) / 1000000000u) {
    return fail(r, "schema.timestamp", r->offset, "timestamp %lld.%09d s is beyond 2^64-1 ns",
                (long long)sec, (int)nanos);
  }
  ev->event_id = msg_u64(msg, v->ev_id);
  ev->thread_id = msg_i32(msg, v->ev_tid);
  ev->seconds = sec;
  ev->nanos = nanos;
  ev->time_ns = (uint64_t)sec * 1000000000u + (uint64_t)nanos;
  ev->payload = (atf_payload)(ATF_PAYLOAD_TRACE_START + payload);
  ev->unknown_fields = r->unknown;
  const upb_msg *m = payloads[payload];
  switch (ev->payload) {
    case ATF_PAYLOAD_TRACE_END:
      ev->exit_code = msg_i32(m, v->end_exit);
      break;
    case ATF_PAYLOAD_FUNCTION_CALL:
      ev->address = msg_u64(m, v->call_address);
      ev->call_site = msg_u64(m, v->call_site);
      break;
    case ATF_PAYLOAD_FUNCTION_RETURN:
      ev->address = msg_u64(m, v->ret_address);
      break;
    case ATF_PAYLOAD_SIGNAL_DELIVERY:
      ev->signal_number = msg_i32(m, v->sig_number);
      break;
    default:
      break;
  }
  return true;
}

/* ---------------------------------------------------------------------------------------------
 * 4. The visitor: each occurrence of each text field as one chunk, each register entry's name
 * occurrences then its value, payload field by field. */

static void visit_strings(const atf_event_visitor *vis, const upb_msg *m, field_ref f,
                          atf_text_field field) {
  size_t n;
  const upb_strview *s = msg_strings(m, f, &n);
  for (size_t i = 0; i < n; ++i) {
    vis->text(vis->ctx, field, (const uint8_t *)s[i].data, s[i].size,
              ATF_CHUNK_FIRST | ATF_CHUNK_LAST);
  }
}

static void visit_registers(const atf_event_visitor *vis, const view *v, const upb_msg *m,
                            field_ref regs) {
  size_t n;
  if (v->kind == VIEW_RAW) { /* entries that raw_entry() accepted (the record passed its scan) */
    const upb_strview *raw = msg_array(m, regs, &n);
    for (size_t i = 0; i < n; ++i) {
      const uint8_t *key = NULL;
      size_t key_len = 0;
      uint64_t value = 0;
      if (!raw_entry((const uint8_t *)raw[i].data, raw[i].size, &key, &key_len, &value)) continue;
      if (vis->text != NULL)
        vis->text(vis->ctx, ATF_TEXT_REGISTER_NAME, key, key_len, ATF_CHUNK_FIRST | ATF_CHUNK_LAST);
      if (vis->reg != NULL) vis->reg(vis->ctx, value);
    }
    return;
  }
  const upb_msg *const *entries = msg_array(m, regs, &n);
  for (size_t i = 0; i < n; ++i) {
    if (vis->text != NULL) visit_strings(vis, entries[i], v->entry_key, ATF_TEXT_REGISTER_NAME);
    if (vis->reg != NULL) vis->reg(vis->ctx, msg_u64(entries[i], v->entry_value));
  }
}

static void visit(const atf_event_visitor *vis, const view *v, atf_payload payload,
                  const upb_msg *m) {
  const bool text = vis->text != NULL;
  switch (payload) {
    case ATF_PAYLOAD_TRACE_START:
      if (!text) break;
      visit_strings(vis, m, v->start_path, ATF_TEXT_EXECUTABLE_PATH);
      visit_strings(vis, m, v->start_args, ATF_TEXT_ARG);
      visit_strings(vis, m, v->start_os, ATF_TEXT_OPERATING_SYSTEM);
      visit_strings(vis, m, v->start_arch, ATF_TEXT_CPU_ARCHITECTURE);
      break;
    case ATF_PAYLOAD_FUNCTION_CALL:
      if (text) visit_strings(vis, m, v->call_symbol, ATF_TEXT_SYMBOL);
      visit_registers(vis, v, m, v->regs[2]);
      if (text) visit_strings(vis, m, v->call_stack, ATF_TEXT_STACK);
      break;
    case ATF_PAYLOAD_FUNCTION_RETURN:
      if (text) visit_strings(vis, m, v->ret_symbol, ATF_TEXT_SYMBOL);
      visit_registers(vis, v, m, v->regs[3]);
      break;
    case ATF_PAYLOAD_SIGNAL_DELIVERY:
      if (text) visit_strings(vis, m, v->sig_name, ATF_TEXT_SIGNAL_NAME);
      visit_registers(vis, v, m, v->regs[4]);
      break;
    default: /* TraceEnd: no text */
      break;
  }
}

/* ---------------------------------------------------------------------------------------------
 * The entry point. */

/* The first pass (see top): the record decoded with the RAW view, register entries read by
 * raw_entry(). It settles the record when the record is its own smallest encoding, every text is
 * ASCII and every entry named and in its smallest encoding: then the FAST view would find exactly
 * this and no value rule can fail, so the verdict is check_record()'s. Returns false, having left
 * no trace (error, counts, arena budget), when it cannot: any upb error, unknown field, repeated
 * field, non-ASCII text or other entry (their errors and offsets are the FAST view's to give). */
static bool decode_first(record *r, const atf_event_visitor *visitor, atf_event *ev, bool *ok) {
  atf_upb_engine *e = r->e;
  const view *v = &g.raw;
  upb_arena *a = upb_arena_init(e->block, BLOCK_SIZE, &e->budget.alloc);
  upb_msg *msg = a != NULL ? upb_msg_new(v->event, a) : NULL;
  upb_decodeopts opts = {on_unknown, r, NULL, true};
  bool settled = false;
  if (msg != NULL && upb_decode_ex(r->base, r->len, msg, v->event, a, &opts)) {
    const upb_msg *payloads[PAYLOADS];
    for (int p = 0; p < PAYLOADS; ++p) payloads[p] = msg_ptr(msg, v->payload[p]);
    const scan sc = scan_record(v, msg, payloads);
    settled = sc.plain && sc.size == r->len;
    if (settled) {
      *ok = check_record(r, v, msg, payloads, ev);
      if (*ok && visitor != NULL)
        visit(visitor, v, ev->payload, payloads[ev->payload - ATF_PAYLOAD_TRACE_START]);
    }
  }
  if (a != NULL) upb_arena_free(a);
  if (!settled) {
    e->budget.used = 0;
    e->budget.refused = false;
    r->unknown = 0;
    r->bad_tag = 0;
    r->bad_what = NULL;
  }
  return settled;
}

/* Decodes the record with view v. FAST: a record that is not minimal is decoded again with the
 * REPEATED view. */
static bool decode(record *r, const view *v, const atf_event_visitor *visitor, atf_event *ev) {
  atf_upb_engine *e = r->e;
  upb_arena *a = upb_arena_init(e->block, BLOCK_SIZE, &e->budget.alloc);
  upb_msg *msg = a != NULL ? upb_msg_new(v->event, a) : NULL;
  if (msg == NULL) {
    if (a != NULL) upb_arena_free(a);
    return fail(r, ATF_UPB_RULE_LIMIT, r->offset, "upb engine: out of memory");
  }
  r->unknown = 0;
  upb_decodeopts opts = {on_unknown, r, NULL, true}; /* int32_range: docs/format.md, wire.decode */
  bool ok = upb_decode_ex(r->base, r->len, msg, v->event, a, &opts);
  if (!ok) {
    const uint64_t at = r->offset + (uint64_t)(opts.error_at - r->base);
    if (e->budget.refused) {
      fail(r, ATF_UPB_RULE_LIMIT, r->offset,
           "upb engine: the record needs more than %zu bytes of arena", e->budget.limit);
    } else if (r->bad_what != NULL) {
      fail(r, "wire.decode", at, "field %u (wire type %u) %s", (unsigned)(r->bad_tag >> 3),
           (unsigned)(r->bad_tag & 7), r->bad_what);
    } else {
      fail(r, "wire.decode", at,
           "upb cannot decode the field that starts here (tag, varint, length or nesting)");
    }
    upb_arena_free(a);
    return false;
  }
  const upb_msg *payloads[PAYLOADS];
  for (int p = 0; p < PAYLOADS; ++p) payloads[p] = msg_ptr(msg, v->payload[p]);
  bool plain = false;
  if (v->kind == VIEW_FAST) {
    const scan sc = scan_record(v, msg, payloads);
    if (sc.size != r->len) {
      upb_arena_free(a);
      e->budget.used = 0; /* what that pass allocated is freed: the limit applies to each pass */
      e->stats.redecoded++;
      return decode(r, &g.repeated, visitor, ev);
    }
    plain = sc.plain;
  }
  ok = (plain || check_values(r, v, payloads)) && check_record(r, v, msg, payloads, ev);
  if (ok && visitor != NULL)
    visit(visitor, v, ev->payload, payloads[ev->payload - ATF_PAYLOAD_TRACE_START]);
  upb_arena_free(a);
  return ok;
}

bool atf_upb_decode_record(atf_upb_engine *e, const uint8_t *data, size_t len, uint64_t offset,
                           const atf_event_visitor *visitor, atf_event *ev, atf_decode_error *err) {
  memset(ev, 0, sizeof *ev);
  err->rule = NULL;
  err->offset = 0;
  err->message[0] = '\0';
  record r = {e, (const char *)data, len, offset, err, 0, 0, NULL};
  e->budget.used = 0;
  e->budget.refused = false;
  e->stats.records++;
  bool ok;
  if (len >= INT32_MAX) {
    ok = fail(&r, ATF_UPB_RULE_LIMIT, offset,
              "upb engine: records of 2^31 bytes or more are not decoded");
  } else if (decode_first(&r, visitor, ev, &ok)) {
    e->stats.first_pass++;
  } else {
    ok = decode(&r, &g.fast, visitor, ev);
  }
  e->last_arena_bytes = e->budget.used;
  return ok;
}
