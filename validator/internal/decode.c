/* See decode.h. One pass per record: walk() reads every tag and value of the record once, through
 * nanopb's stream primitives (pb_decode_varint, pb_make_string_substream, pb_read, pb_skip_field,
 * pb_close_string_substream), checks the structure against tables built from nanopb's generated
 * descriptors, and keeps the values the caller wants as nanopb reads them: the fixed fields, the
 * strings and bytes (UTF-8 checked, passed to the visitor) and the register map entries. Then the
 * record-level rules.
 *
 * Which error a record gets: a structural error (rule wire.decode) anywhere in the record wins,
 * then the first value error in wire order (schema.utf8, schema.register_name), then the
 * record-level rules (schema.payload, schema.timestamp). So walk() stops at a structural error,
 * and after a value error it notes the error and goes on checking the structure, without passing
 * values on. An error is recorded as a rule, an offset and what to say (a `problem`); its message
 * is formatted once, at the end, and only when the caller keeps messages (!err->quiet).
 *
 * Values follow protobuf's (and nanopb's) merge rules: a repeated scalar's last occurrence wins, a
 * repeated submessage (timestamp, the payload) merges into the earlier ones. A record with two
 * different payload fields is invalid (schema.payload), so the payload's scalars can be kept in
 * the record's fixed fields directly. int32 values are the low 32 bits of the varint, as nanopb
 * takes them (the structure rules have checked that the varint is a sign-extended 32-bit value). */
#include "validator/internal/decode.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "atf_v4.npb.h"
#include "pb_common.h"
#include "pb_decode.h"
#include "validator/internal/utf8.h"
#include "validator/internal/varint.h"

/* ---------------------------------------------------------------------------------------------
 * The schema, as walk() needs it. */

/* Large enough for any message of the schema: the field iterator computes member addresses from it.
 */
static union {
  atf_v4_Event event;
  atf_v4_TraceStart start;
  atf_v4_FunctionCall call;
  atf_v4_FunctionReturn ret;
  atf_v4_SignalDelivery signal;
  atf_v4_SignalDelivery_RegistersEntry entry;
  google_protobuf_Timestamp timestamp;
} kScratch;

/* The wire type of a field's type: bool and (s/u)varints 0, fixed32 5, fixed64 1, the rest
 * (bytes, string, submessages) 2; a repeated scalar may also come packed (2). */
static bool wire_type_matches(pb_type_t type, pb_wire_type_t wt) {
  const unsigned lt = PB_LTYPE(type);
  const pb_wire_type_t want = lt <= PB_LTYPE_SVARINT   ? PB_WT_VARINT
                              : lt == PB_LTYPE_FIXED32 ? PB_WT_32BIT
                              : lt == PB_LTYPE_FIXED64 ? PB_WT_64BIT
                                                       : PB_WT_STRING;
  return wt == want || (wt == PB_WT_STRING && PB_HTYPE(type) == PB_HTYPE_REPEATED &&
                        lt <= PB_LTYPE_LAST_PACKABLE);
}

/* Where a known varint field's value goes. */
typedef enum value_slot {
  SLOT_NONE = 0,
  SLOT_EVENT_ID,
  SLOT_THREAD_ID,
  SLOT_SECONDS,
  SLOT_NANOS,
  SLOT_EXIT_CODE,
  SLOT_ADDRESS,
  SLOT_CALL_SITE,
  SLOT_SIGNAL_NUMBER,
  SLOT_REGISTER_VALUE,
  SLOT_COUNT
} value_slot;

#define NO_TEXT 0xFF

/* What walk() needs of each message, indexed by field number: built once from nanopb's generated
 * descriptors (iterating a descriptor for every tag was a quarter of the run time). */
#define DIRECT_TAGS 32 /* every field number of the schema is below this */

typedef struct schema_msg {
  const pb_msgdesc_t *desc;
  const char *name;
  bool known[DIRECT_TAGS];
  uint8_t wire_types[DIRECT_TAGS]; /* bit wt set when wire_type_matches(type, wt) (known fields) */
  bool int32[DIRECT_TAGS];   /* an int32 field: its varint must be a sign-extended 32-bit value */
  uint8_t slot[DIRECT_TAGS]; /* value_slot of a varint field */
  uint8_t text[DIRECT_TAGS]; /* atf_text_field of a string or bytes field, else NO_TEXT */
  const struct schema_msg *sub[DIRECT_TAGS];
  bool register_entry; /* a register map entry: its key (field 1) must not be empty */
  bool event;          /* Event: fields 3 (timestamp) and 10..14 (payload) are noted */
} schema_msg;

enum { kMessageCount = 10 };
static schema_msg kSchema[kMessageCount];
static pthread_once_t kSchemaOnce = PTHREAD_ONCE_INIT;
static atomic_bool kSchemaBuilt; /* pthread_once's own check costs a call per record */

/* What each field carries: which value slot or text field (the rest of the table comes from the
 * descriptors). */
typedef struct field_role {
  uint8_t tag;
  uint8_t slot;
  uint8_t text;
} field_role;

#define ROLE_SLOT(tag, slot) \
  { (tag), (slot), NO_TEXT }
#define ROLE_TEXT(tag, text) \
  { (tag), SLOT_NONE, (text) }
#define MAX_ROLES 5

static void build_schema(void);

static void ensure_schema(void) {
  if (atomic_load_explicit(&kSchemaBuilt, memory_order_acquire)) return;
  pthread_once(&kSchemaOnce, build_schema);
}

static const schema_msg *schema_of(const pb_msgdesc_t *desc) {
  for (int i = 0; i < kMessageCount; ++i) {
    if (kSchema[i].desc == desc) return &kSchema[i];
  }
  return NULL; /* never: build_schema lists every message of the schema (it aborts otherwise) */
}

static void build_schema(void) {
  const struct {
    const pb_msgdesc_t *desc;
    const char *name;
    bool register_entry;
    field_role roles[MAX_ROLES];
  } messages[kMessageCount] = {
      {atf_v4_Event_fields,
       "Event",
       false,
       {ROLE_SLOT(atf_v4_Event_event_id_tag, SLOT_EVENT_ID),
        ROLE_SLOT(atf_v4_Event_thread_id_tag, SLOT_THREAD_ID)}},
      {google_protobuf_Timestamp_fields,
       "Timestamp",
       false,
       {ROLE_SLOT(google_protobuf_Timestamp_seconds_tag, SLOT_SECONDS),
        ROLE_SLOT(google_protobuf_Timestamp_nanos_tag, SLOT_NANOS)}},
      {atf_v4_TraceStart_fields,
       "TraceStart",
       false,
       {ROLE_TEXT(atf_v4_TraceStart_executable_path_tag, ATF_TEXT_EXECUTABLE_PATH),
        ROLE_TEXT(atf_v4_TraceStart_args_tag, ATF_TEXT_ARG),
        ROLE_TEXT(atf_v4_TraceStart_operating_system_tag, ATF_TEXT_OPERATING_SYSTEM),
        ROLE_TEXT(atf_v4_TraceStart_cpu_architecture_tag, ATF_TEXT_CPU_ARCHITECTURE)}},
      {atf_v4_TraceEnd_fields,
       "TraceEnd",
       false,
       {ROLE_SLOT(atf_v4_TraceEnd_exit_code_tag, SLOT_EXIT_CODE)}},
      {atf_v4_FunctionCall_fields,
       "FunctionCall",
       false,
       {ROLE_TEXT(atf_v4_FunctionCall_symbol_tag, ATF_TEXT_SYMBOL),
        ROLE_SLOT(atf_v4_FunctionCall_address_tag, SLOT_ADDRESS),
        ROLE_TEXT(atf_v4_FunctionCall_stack_shallow_copy_tag, ATF_TEXT_STACK),
        ROLE_SLOT(atf_v4_FunctionCall_call_site_tag, SLOT_CALL_SITE)}},
      {atf_v4_FunctionCall_ArgumentRegistersEntry_fields,
       "FunctionCall.argument_registers entry",
       true,
       {ROLE_TEXT(atf_v4_FunctionCall_ArgumentRegistersEntry_key_tag, ATF_TEXT_REGISTER_NAME),
        ROLE_SLOT(atf_v4_FunctionCall_ArgumentRegistersEntry_value_tag, SLOT_REGISTER_VALUE)}},
      {atf_v4_FunctionReturn_fields,
       "FunctionReturn",
       false,
       {ROLE_TEXT(atf_v4_FunctionReturn_symbol_tag, ATF_TEXT_SYMBOL),
        ROLE_SLOT(atf_v4_FunctionReturn_address_tag, SLOT_ADDRESS)}},
      {atf_v4_FunctionReturn_ReturnRegistersEntry_fields,
       "FunctionReturn.return_registers entry",
       true,
       {ROLE_TEXT(atf_v4_FunctionReturn_ReturnRegistersEntry_key_tag, ATF_TEXT_REGISTER_NAME),
        ROLE_SLOT(atf_v4_FunctionReturn_ReturnRegistersEntry_value_tag, SLOT_REGISTER_VALUE)}},
      {atf_v4_SignalDelivery_fields,
       "SignalDelivery",
       false,
       {ROLE_SLOT(atf_v4_SignalDelivery_number_tag, SLOT_SIGNAL_NUMBER),
        ROLE_TEXT(atf_v4_SignalDelivery_name_tag, ATF_TEXT_SIGNAL_NAME)}},
      {atf_v4_SignalDelivery_RegistersEntry_fields,
       "SignalDelivery.registers entry",
       true,
       {ROLE_TEXT(atf_v4_SignalDelivery_RegistersEntry_key_tag, ATF_TEXT_REGISTER_NAME),
        ROLE_SLOT(atf_v4_SignalDelivery_RegistersEntry_value_tag, SLOT_REGISTER_VALUE)}},
  };
  for (int i = 0; i < kMessageCount; ++i) {
    kSchema[i].desc = messages[i].desc;
    kSchema[i].name = messages[i].name;
    kSchema[i].register_entry = messages[i].register_entry;
    kSchema[i].event = i == 0;
    memset(kSchema[i].text, NO_TEXT, sizeof kSchema[i].text);
  }
  for (int i = 0; i < kMessageCount; ++i) {
    schema_msg *m = &kSchema[i];
    pb_field_iter_t it;
    if (!pb_field_iter_begin_const(&it, m->desc, &kScratch)) continue;
    do {
      if (it.tag >= DIRECT_TAGS) abort(); /* the schema changed: raise DIRECT_TAGS */
      m->known[it.tag] = true;
      m->int32[it.tag] = PB_LTYPE(it.type) == PB_LTYPE_VARINT && it.data_size == sizeof(int32_t);
      for (int wt = 0; wt < 8; ++wt) {
        if (wire_type_matches(it.type, (pb_wire_type_t)wt))
          m->wire_types[it.tag] |= (uint8_t)(1u << wt);
      }
      if (PB_LTYPE_IS_SUBMSG(it.type)) {
        m->sub[it.tag] = schema_of(it.submsg_desc);
        if (m->sub[it.tag] == NULL) abort(); /* a message missing from the list above */
      }
    } while (pb_field_iter_next(&it));
    for (int k = 0; k < MAX_ROLES && messages[i].roles[k].tag != 0; ++k) {
      const field_role *role = &messages[i].roles[k];
      /* A role must name a field of the descriptor, of the kind its role needs. */
      if (!m->known[role->tag]) abort();
      const bool is_varint = (m->wire_types[role->tag] & (1u << PB_WT_VARINT)) != 0;
      if (role->slot != SLOT_NONE && !is_varint) abort();
      if (role->text != NO_TEXT && (is_varint || m->sub[role->tag] != NULL)) abort();
      m->slot[role->tag] = role->slot;
      m->text[role->tag] = role->text;
    }
  }
  atomic_store_explicit(&kSchemaBuilt, true, memory_order_release);
}

/* ---------------------------------------------------------------------------------------------
 * Errors: what went wrong, kept as data; the message is written once, at the end (describe()). */

typedef enum problem_kind {
  P_BAD_TAG,        /* name, nanopb's message */
  P_LONG_TAG,       /* name */
  P_FIELD_ZERO,     /* name */
  P_WIRE_TYPE,      /* name, tag, wire type */
  P_LENGTH,         /* name, tag, nanopb's message */
  P_LONG_LENGTH,    /* name, tag */
  P_FIELD,          /* name, tag, nanopb's message */
  P_INT32,          /* name, tag, value */
  P_SKIP,           /* name, tag, wire type, nanopb's message */
  P_UTF8_BYTE,      /* text field, value = the byte */
  P_UTF8_CUT,       /* text field */
  P_REGISTER_EMPTY, /* - */
  P_NO_PAYLOAD,
  P_TWO_PAYLOADS, /* value = the payload field numbers' mask */
  P_NO_TIMESTAMP,
  P_SECONDS,    /* value = seconds */
  P_NANOS,      /* value = nanos */
  P_TIME_RANGE, /* value = seconds, value2 = nanos */
  P_IO,
} problem_kind;

typedef struct problem {
  const char *rule; /* NULL: none */
  uint64_t offset;
  problem_kind kind;
  const char *name; /* the message's name, or nanopb's error text below */
  const char *pb_error;
  unsigned tag;
  int wire_type;
  uint64_t value, value2;
} problem;

static const char *const kTextNames[ATF_TEXT_FIELD_COUNT] = {
    "TraceStart.executable_path",  "TraceStart.args", "TraceStart.operating_system",
    "TraceStart.cpu_architecture", "symbol",          "FunctionCall.stack_shallow_copy",
    "SignalDelivery.name",         "register name",
};

static void describe(const problem *p, char *out, size_t size) {
  const char *n = p->name;
  const unsigned t = p->tag;
  switch (p->kind) {
    case P_BAD_TAG:
      snprintf(out, size, "%s: bad tag: %s", n, p->pb_error);
      break;
    case P_LONG_TAG:
      snprintf(out, size, "%s: tag varint longer than %d bytes or above 2^32-1", n,
               ATF_VARINT32_BYTES);
      break;
    case P_FIELD_ZERO:
      snprintf(out, size, "%s: field number 0", n);
      break;
    case P_WIRE_TYPE:
      snprintf(out, size, "%s: field %u has wire type %d, not the schema's", n, t, p->wire_type);
      break;
    case P_LENGTH:
      snprintf(out, size, "%s: field %u: length exceeds its parent: %s", n, t, p->pb_error);
      break;
    case P_LONG_LENGTH:
      snprintf(out, size, "%s: field %u: length varint longer than %d bytes", n, t,
               ATF_VARINT32_BYTES);
      break;
    case P_FIELD:
      snprintf(out, size, "%s: field %u: %s", n, t, p->pb_error);
      break;
    case P_INT32:
      snprintf(out, size,
               "%s: field %u (int32): varint value %llu is not a sign-extended 32-bit value", n, t,
               (unsigned long long)p->value);
      break;
    case P_SKIP:
      snprintf(out, size, "%s: field %u (wire type %d): %s", n, t, p->wire_type, p->pb_error);
      break;
    case P_UTF8_BYTE:
      snprintf(out, size, "%s: invalid UTF-8 (byte 0x%02x)", n, (unsigned)p->value);
      break;
    case P_UTF8_CUT:
      snprintf(out, size, "%s: UTF-8 sequence cut off at the end", n);
      break;
    case P_REGISTER_EMPTY:
      snprintf(out, size, "register name is empty");
      break;
    case P_NO_PAYLOAD:
      snprintf(out, size, "no payload set");
      break;
    case P_TWO_PAYLOADS:
      snprintf(out, size, "more than one payload field set (field numbers mask 0x%x)",
               (unsigned)p->value);
      break;
    case P_NO_TIMESTAMP:
      snprintf(out, size, "timestamp missing");
      break;
    case P_SECONDS:
      snprintf(out, size, "timestamp seconds %lld < 0", (long long)(int64_t)p->value);
      break;
    case P_NANOS:
      snprintf(out, size, "timestamp nanos %d outside [0, 999999999]", (int)(int32_t)p->value);
      break;
    case P_TIME_RANGE:
      snprintf(out, size, "timestamp %lld.%09d s is beyond 2^64-1 ns", (long long)(int64_t)p->value,
               (int)(int32_t)p->value2);
      break;
    case P_IO:
      snprintf(out, size, "read error");
      break;
  }
}

/* ---------------------------------------------------------------------------------------------
 * The walk. */

typedef struct decoder {
  atf_record_stream rs;
  const atf_event_visitor *visitor; /* NULL once a value error is noted: nothing more passes on */
  problem structure;                /* the first structural error: the walk stops there */
  problem value;                    /* the first value error: the walk goes on */
  uint64_t slots[SLOT_COUNT];
  uint64_t unknown_fields;
  unsigned payload_tags; /* bit (tag - 10) for every payload field seen */
  bool has_timestamp;
  uint64_t name_len; /* the current map entry's last key length */
} decoder;

/* Offsets: every (sub)stream of the walk is passed with the absolute input offset of its end, so
 * the next byte it reads is at end - bytes_left (nanopb keeps bytes_left exact: it counts down
 * each byte it reads). */
static inline uint64_t offset_of(uint64_t end, const pb_istream_t *s) {
  return end - s->bytes_left;
}

/* Notes a structural error (the first wins) and returns false, which ends the walk. */
static bool fail(decoder *d, problem_kind kind, uint64_t at, const schema_msg *m, unsigned tag,
                 int wire_type, const char *pb_error, uint64_t value) {
  if (d->structure.rule == NULL) {
    d->structure = (problem){"wire.decode", at, kind, m->name, pb_error, tag, wire_type, value, 0};
  }
  return false;
}

/* Notes a value error (the first wins); the walk goes on to check the structure. */
static void value_error(decoder *d, const char *rule, problem_kind kind, uint64_t at,
                        atf_text_field field, uint64_t value) {
  if (d->value.rule != NULL) return;
  d->value = (problem){
      rule, at, kind, kind == P_REGISTER_EMPTY ? NULL : kTextNames[field], NULL, 0, 0, value, 0};
  d->visitor = NULL;
}

/* An int32 on the wire is the 64-bit sign extension of its value: below 2^31, or at least
 * 2^64 - 2^31 (a negative one, 10 bytes). */
static inline bool is_int32(uint64_t v) {
  return v <= (uint64_t)INT32_MAX || v >= (uint64_t)INT32_MIN;
}

static bool is_ascii(const uint8_t *p, size_t n) {
  uint64_t high = 0; /* ASCII strings, the common case, without a call */
  size_t i = 0;
  for (uint64_t w; i + 8 <= n; i += 8) memcpy(&w, p + i, 8), high |= w;
  for (; i < n; ++i) high |= p[i];
  return (high & 0x8080808080808080ull) == 0;
}

/* One piece of a text or bytes field: validate UTF-8 (across pieces), pass it on. */
static void take_chunk(decoder *d, atf_text_field field, atf_utf8_state *u, uint64_t at,
                       const uint8_t *p, size_t n, unsigned flags) {
  if (d->value.rule != NULL) return; /* the record is invalid: nothing more to check or pass on */
  if (field != ATF_TEXT_STACK && !(u->need == 0 && is_ascii(p, n))) {
    const size_t good = atf_utf8_feed(u, p, n);
    if (good != n) {
      value_error(d, "schema.utf8", P_UTF8_BYTE, at + good, field, p[good]);
      return;
    }
    if ((flags & ATF_CHUNK_LAST) && !atf_utf8_complete(u)) {
      value_error(d, "schema.utf8", P_UTF8_CUT, at + n, field, 0);
      return;
    }
  }
  if (d->visitor != NULL && d->visitor->text != NULL)
    d->visitor->text(d->visitor->ctx, field, p, n, flags);
}

/* A string or bytes field: the whole of `s`, in place when the record is buffered, else in chunks
 * of at most ATF_DECODE_CHUNK bytes. Returns false when the input could not be read. */
static bool read_text(decoder *d, pb_istream_t *s, uint64_t end, atf_text_field field) {
  const uint64_t at = offset_of(end, s);
  const size_t len = s->bytes_left;
  atf_utf8_state u = ATF_UTF8_STATE_INIT;
  if (field == ATF_TEXT_REGISTER_NAME) d->name_len = len;
  const uint8_t *p = atf_record_stream_take(&d->rs, s, len);
  if (p != NULL) {
    take_chunk(d, field, &u, at, p, len, ATF_CHUNK_FIRST | ATF_CHUNK_LAST);
    return true;
  }
  uint8_t chunk[ATF_DECODE_CHUNK];
  unsigned flags = ATF_CHUNK_FIRST;
  uint64_t done = 0;
  do {
    const size_t n = s->bytes_left < sizeof chunk ? s->bytes_left : sizeof chunk;
    if (!pb_read(s, chunk, n)) return false;
    if (s->bytes_left == 0) flags |= ATF_CHUNK_LAST;
    take_chunk(d, field, &u, at + done, chunk, n, flags);
    done += n;
    flags = 0;
  } while (s->bytes_left > 0);
  return true;
}

static bool walk(decoder *d, pb_istream_t *s, uint64_t end, const schema_msg *m);

/* A register map entry: its fields, then its key must not be empty; the visitor gets its value. */
static bool walk_entry(decoder *d, pb_istream_t *s, uint64_t end, const schema_msg *m) {
  const uint64_t at = offset_of(end, s);
  d->name_len = 0;
  d->slots[SLOT_REGISTER_VALUE] = 0;
  if (!walk(d, s, end, m)) return false;
  if (d->name_len == 0) {
    value_error(d, "schema.register_name", P_REGISTER_EMPTY, at, ATF_TEXT_REGISTER_NAME, 0);
  } else if (d->visitor != NULL && d->visitor->reg != NULL) {
    d->visitor->reg(d->visitor->ctx, d->slots[SLOT_REGISTER_VALUE]);
  }
  return true;
}

/* A length-delimited field at `at` (its tag): a submessage, a string or bytes, or unknown bytes. */
static bool walk_length_delimited(decoder *d, pb_istream_t *s, uint64_t end, const schema_msg *m,
                                  uint64_t at, unsigned tag, bool known) {
  const uint64_t length_at = offset_of(end, s);
  pb_istream_t sub;
  if (!pb_make_string_substream(s, &sub))
    return fail(d, P_LENGTH, at, m, tag, 0, PB_GET_ERROR(s), 0);
  const uint64_t sub_end = offset_of(end, s); /* s now continues after the substream */
  bool ok = offset_of(sub_end, &sub) - length_at <= ATF_VARINT32_BYTES ||
            fail(d, P_LONG_LENGTH, at, m, tag, 0, NULL, 0);
  if (ok && known) {
    const schema_msg *sm = m->sub[tag];
    if (sm != NULL) {
      if (m->event) {
        if (tag >= ATF_PAYLOAD_TRACE_START) {
          d->payload_tags |= 1u << (tag - ATF_PAYLOAD_TRACE_START);
        } else {
          d->has_timestamp = true;
        }
      }
      ok = sm->register_entry ? walk_entry(d, &sub, sub_end, sm) : walk(d, &sub, sub_end, sm);
    } else if (m->text[tag] != NO_TEXT) {
      ok = read_text(d, &sub, sub_end, (atf_text_field)m->text[tag]);
    }
  }
  if (!pb_close_string_substream(s, &sub) || !ok) /* closing skips what was not read */
    return fail(d, P_FIELD, at, m, tag, 0, PB_GET_ERROR(s), 0);
  return true;
}

/* The fields of message `m` in `s`, to its end. */
static bool walk(decoder *d, pb_istream_t *s, uint64_t end, const schema_msg *m) {
  while (s->bytes_left > 0) {
    const uint64_t at = offset_of(end, s);
    uint64_t key;
    if (!pb_decode_varint(s, &key)) return fail(d, P_BAD_TAG, at, m, 0, 0, PB_GET_ERROR(s), 0);
    /* nanopb reads tags of up to 10 bytes; the format allows 5, and values up to 2^32-1. */
    if (offset_of(end, s) - at > ATF_VARINT32_BYTES || key > UINT32_MAX)
      return fail(d, P_LONG_TAG, at, m, 0, 0, NULL, 0);
    const unsigned tag = (unsigned)(key >> 3);
    const pb_wire_type_t wt = (pb_wire_type_t)(key & 7);
    if (tag == 0) return fail(d, P_FIELD_ZERO, at, m, 0, 0, NULL, 0);
    const bool known = tag < DIRECT_TAGS && m->known[tag];
    if (!known) {
      d->unknown_fields++;
    } else if ((m->wire_types[tag] & (1u << wt)) == 0) {
      return fail(d, P_WIRE_TYPE, at, m, tag, (int)wt, NULL, 0);
    }
    if (wt == PB_WT_STRING) {
      if (!walk_length_delimited(d, s, end, m, at, tag, known)) return false;
    } else if (wt == PB_WT_VARINT) {
      uint64_t value;
      if (!pb_decode_varint(s, &value)) return fail(d, P_FIELD, at, m, tag, 0, PB_GET_ERROR(s), 0);
      if (known) {
        if (m->int32[tag] && !is_int32(value)) return fail(d, P_INT32, at, m, tag, 0, NULL, value);
        d->slots[m->slot[tag]] = value; /* SLOT_NONE: a field nothing reads */
      }
    } else if (!pb_skip_field(s, wt)) {
      return fail(d, P_SKIP, at, m, tag, (int)wt, PB_GET_ERROR(s), 0);
    }
  }
  return true;
}

/* ---------------------------------------------------------------------------------------------
 * Record-level rules, on a record whose structure and values are valid. */

static bool record_problem(problem *p, uint64_t at, problem_kind kind, const char *rule,
                           uint64_t value, uint64_t value2) {
  *p = (problem){rule, at, kind, NULL, NULL, 0, 0, value, value2};
  return false;
}

static bool check_record(const decoder *d, uint64_t at, atf_event *ev, problem *p) {
  const unsigned tags = d->payload_tags;
  if (tags == 0) return record_problem(p, at, P_NO_PAYLOAD, "schema.payload", 0, 0);
  if ((tags & (tags - 1)) != 0) {
    return record_problem(p, at, P_TWO_PAYLOADS, "schema.payload",
                          (uint64_t)tags << ATF_PAYLOAD_TRACE_START, 0);
  }
  if (!d->has_timestamp) return record_problem(p, at, P_NO_TIMESTAMP, "schema.timestamp", 0, 0);
  const int64_t sec = (int64_t)d->slots[SLOT_SECONDS];
  const int32_t nanos = (int32_t)d->slots[SLOT_NANOS];
  if (sec < 0) return record_problem(p, at, P_SECONDS, "schema.timestamp", (uint64_t)sec, 0);
  if (nanos < 0 || nanos >= 1000000000)
    return record_problem(p, at, P_NANOS, "schema.timestamp", (uint64_t)(int64_t)nanos, 0);
  /* seconds * 1e9 + nanos must fit in uint64 nanoseconds (the manifest's unit). */
  if ((uint64_t)sec > (UINT64_MAX - (uint64_t)nanos) / 1000000000u) {
    return record_problem(p, at, P_TIME_RANGE, "schema.timestamp", (uint64_t)sec,
                          (uint64_t)(int64_t)nanos);
  }
  ev->event_id = d->slots[SLOT_EVENT_ID];
  ev->thread_id = (int32_t)d->slots[SLOT_THREAD_ID];
  ev->seconds = sec;
  ev->nanos = nanos;
  ev->time_ns = (uint64_t)sec * 1000000000u + (uint64_t)nanos;
  ev->payload = (atf_payload)(ATF_PAYLOAD_TRACE_START + __builtin_ctz(tags));
  /* One payload field: the slots hold only its scalars (the others are 0). */
  ev->exit_code = (int32_t)d->slots[SLOT_EXIT_CODE];
  ev->address = d->slots[SLOT_ADDRESS];
  ev->call_site = d->slots[SLOT_CALL_SITE];
  ev->signal_number = (int32_t)d->slots[SLOT_SIGNAL_NUMBER];
  return true;
}

/* ---------------------------------------------------------------------------------------------
 * The record. */

static bool finish(const problem *p, atf_decode_error *err) {
  err->rule = p->rule;
  err->offset = p->offset;
  if (!err->quiet) describe(p, err->message, sizeof err->message);
  return false;
}

/* A read error: no defect of the record (a file that shrank while being read). */
static bool io_error(uint64_t off, atf_decode_error *err) {
  err->rule = "io";
  err->offset = off;
  snprintf(err->message, sizeof err->message, "read error");
  return false;
}

bool atf_decode_record(atf_reader *r, uint64_t off, uint64_t len, const atf_event_visitor *visitor,
                       atf_event *ev, atf_decode_error *err) {
  memset(ev, 0, sizeof *ev);
  err->rule = NULL;
  err->offset = 0;
  err->message[0] = '\0';
  decoder d;
  memset(&d, 0, sizeof d);
  d.visitor = visitor;
  const bool failed_before = r->io_failed;
  if (!atf_record_stream_open(&d.rs, r, off, len)) {
    if (r->io_failed && !failed_before) return io_error(off, err);
    const problem io = {"io", off, P_IO, NULL, NULL, 0, 0, 0, 0};
    return finish(&io, err);
  }
  ensure_schema();
  const bool walked = walk(&d, &d.rs.stream, off + len, &kSchema[0]);
  /* A streamed record whose file shrank: nanopb saw a failing stream, but this is no defect of
   * the record. */
  if (r->io_failed && !failed_before) return io_error(off, err);
  ev->unknown_fields = d.unknown_fields; /* as far as the walk got */
  if (!walked) return finish(&d.structure, err);
  if (d.value.rule != NULL) return finish(&d.value, err);
  problem p;
  return check_record(&d, off, ev, &p) || finish(&p, err);
}
