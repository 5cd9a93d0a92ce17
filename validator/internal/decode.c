#include "validator/internal/decode.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "atf_v4.npb.h"
#include "pb_common.h"
#include "pb_decode.h"
#include "validator/internal/utf8.h"
#include "validator/internal/varint.h"

typedef struct decoder decoder;

/* Callback argument for a text field: which field, and the decoder it belongs to. */
typedef struct field_ref {
  decoder *d;
  atf_text_field field;
} field_ref;

struct decoder {
  atf_record_stream rs;
  const atf_event_visitor *visitor;
  atf_decode_error *err;
  atf_event *ev;
  unsigned payload_tags; /* bit (tag - 10) for every payload field seen */
  bool checked;          /* scan() accepted the record and there is no visitor: step over strings */
  uint64_t name_len;     /* length of the current map entry's key */
  field_ref refs[ATF_TEXT_FIELD_COUNT];
};

static const char *const kTextNames[ATF_TEXT_FIELD_COUNT] = {
    "TraceStart.executable_path",  "TraceStart.args", "TraceStart.operating_system",
    "TraceStart.cpu_architecture", "symbol",          "FunctionCall.stack_shallow_copy",
    "SignalDelivery.name",         "register name",
};

__attribute__((format(printf, 4, 5))) static bool fail(decoder *d, const char *rule,
                                                       uint64_t offset, const char *fmt, ...) {
  if (d->err->rule != NULL) return false; /* first error wins */
  d->err->rule = rule;
  d->err->offset = offset;
  if (d->err->quiet)
    return false; /* the caller keeps no message: the cost of an error stays small */
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->err->message, sizeof d->err->message, fmt, ap);
  va_end(ap);
  return false;
}

static uint64_t offset_of(const decoder *d, const pb_istream_t *s) {
  return atf_record_stream_offset(&d->rs, s);
}

/* ---------------------------------------------------------------------------------------------
 * Pass 1: structure, wire types, unknown fields. */

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

/* What pass 1 needs of each message, indexed by field number: built once from nanopb's generated
 * descriptors, because iterating a descriptor for every tag was a quarter of the run time. */
#define DIRECT_TAGS 32 /* every field number of the schema is below this */

typedef struct schema_msg {
  const pb_msgdesc_t *desc;
  const char *name;
  bool known[DIRECT_TAGS];
  pb_type_t type[DIRECT_TAGS];
  uint8_t wire_types[DIRECT_TAGS]; /* bit wt set when wire_type_matches(type, wt) (known fields) */
  bool utf8[DIRECT_TAGS];          /* a string field: its callback checks UTF-8 */
  bool int32[DIRECT_TAGS]; /* an int32 field: its varint must be a sign-extended 32-bit value */
  const struct schema_msg *sub[DIRECT_TAGS];
  bool register_entry; /* a register map entry: its key (field 1) must not be empty */
} schema_msg;

enum { kMessageCount = 10 };
static schema_msg kSchema[kMessageCount];
static pthread_once_t kSchemaOnce = PTHREAD_ONCE_INIT;
static atomic_bool kSchemaBuilt; /* pthread_once's own check costs a call per record */

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
  } messages[kMessageCount] = {
      {atf_v4_Event_fields, "Event", false},
      {google_protobuf_Timestamp_fields, "Timestamp", false},
      {atf_v4_TraceStart_fields, "TraceStart", false},
      {atf_v4_TraceEnd_fields, "TraceEnd", false},
      {atf_v4_FunctionCall_fields, "FunctionCall", false},
      {atf_v4_FunctionCall_ArgumentRegistersEntry_fields, "FunctionCall.argument_registers entry",
       true},
      {atf_v4_FunctionReturn_fields, "FunctionReturn", false},
      {atf_v4_FunctionReturn_ReturnRegistersEntry_fields, "FunctionReturn.return_registers entry",
       true},
      {atf_v4_SignalDelivery_fields, "SignalDelivery", false},
      {atf_v4_SignalDelivery_RegistersEntry_fields, "SignalDelivery.registers entry", true},
  };
  for (int i = 0; i < kMessageCount; ++i) {
    kSchema[i].desc = messages[i].desc;
    kSchema[i].name = messages[i].name;
    kSchema[i].register_entry = messages[i].register_entry;
  }
  for (int i = 0; i < kMessageCount; ++i) {
    pb_field_iter_t it;
    if (!pb_field_iter_begin_const(&it, kSchema[i].desc, &kScratch)) continue;
    do {
      if (it.tag >= DIRECT_TAGS) abort(); /* the schema changed: raise DIRECT_TAGS */
      kSchema[i].known[it.tag] = true;
      kSchema[i].type[it.tag] = it.type;
      kSchema[i].utf8[it.tag] = PB_LTYPE(it.type) == PB_LTYPE_STRING;
      kSchema[i].int32[it.tag] =
          PB_LTYPE(it.type) == PB_LTYPE_VARINT && it.data_size == sizeof(int32_t);
      for (int wt = 0; wt < 8; ++wt) {
        if (wire_type_matches(it.type, (pb_wire_type_t)wt))
          kSchema[i].wire_types[it.tag] |= (uint8_t)(1u << wt);
      }
      if (PB_LTYPE_IS_SUBMSG(it.type)) {
        kSchema[i].sub[it.tag] = schema_of(it.submsg_desc);
        if (kSchema[i].sub[it.tag] == NULL) abort(); /* a message missing from the list above */
      }
    } while (pb_field_iter_next(&it));
  }
  atomic_store_explicit(&kSchemaBuilt, true, memory_order_release);
}

/* Varints inside a record: nanopb's skipping and tag/length reading accept encodings that Google's
 * C++ protobuf rejects or reads differently (an unknown varint of any length, tags and lengths
 * padded beyond 5 bytes, a 5th tag byte of 0x78..0x7F taken as a sign extension, int32 values
 * truncated to their low 32 bits), so pass 1 bounds them itself, with varint.h's limits: tags and
 * lengths at most 5 bytes and 2^32-1, other varints at most 10 bytes, and an int32 field's value
 * a sign-extended 32-bit one (docs/format.md, wire.decode). */
#define MAX_TAG_BYTES ATF_VARINT32_BYTES
#define MAX_LENGTH_BYTES ATF_VARINT32_BYTES

/* An int32 on the wire is the 64-bit sign extension of its value: below 2^31, or at least
 * 2^64 - 2^31 (a negative one, 10 bytes). */
static inline bool is_int32(uint64_t v) {
  return v <= (uint64_t)INT32_MAX || v >= (uint64_t)INT32_MIN;
}

static bool walk(decoder *d, pb_istream_t *s, const schema_msg *m) {
  while (s->bytes_left > 0) {
    const uint64_t at = offset_of(d, s);
    uint64_t key;
    if (!pb_decode_varint(s, &key)) {
      return fail(d, "wire.decode", at, "%s: bad tag: %s", m->name, PB_GET_ERROR(s));
    }
    if (offset_of(d, s) - at > MAX_TAG_BYTES || key > UINT32_MAX) {
      return fail(d, "wire.decode", at, "%s: tag varint longer than %d bytes or above 2^32-1",
                  m->name, MAX_TAG_BYTES);
    }
    const uint32_t tag = (uint32_t)(key >> 3);
    const pb_wire_type_t wt = (pb_wire_type_t)(key & 7);
    if (tag == 0) return fail(d, "wire.decode", at, "%s: field number 0", m->name);
    const bool known = tag < DIRECT_TAGS && m->known[tag];
    if (!known) d->ev->unknown_fields++;
    if (known && !wire_type_matches(m->type[tag], wt)) {
      return fail(d, "wire.decode", at, "%s: field %u has wire type %d, not the schema's", m->name,
                  (unsigned)tag, (int)wt);
    }
    if (wt == PB_WT_STRING) {
      const uint64_t length_at = offset_of(d, s);
      pb_istream_t sub;
      if (!pb_make_string_substream(s, &sub)) {
        return fail(d, "wire.decode", at, "%s: field %u: length exceeds its parent: %s", m->name,
                    (unsigned)tag, PB_GET_ERROR(s));
      }
      bool ok = offset_of(d, &sub) - length_at <= MAX_LENGTH_BYTES ||
                fail(d, "wire.decode", at, "%s: field %u: length varint longer than %d bytes",
                     m->name, (unsigned)tag, MAX_LENGTH_BYTES);
      if (ok && known && m->sub[tag] != NULL) ok = walk(d, &sub, m->sub[tag]);
      if (!pb_close_string_substream(s, &sub) || !ok) { /* closing skips what was not walked */
        return fail(d, "wire.decode", at, "%s: field %u: %s", m->name, (unsigned)tag,
                    PB_GET_ERROR(s));
      }
    } else if (wt == PB_WT_VARINT) {
      uint64_t value;
      if (!pb_decode_varint(s, &value)) {
        return fail(d, "wire.decode", at, "%s: field %u: %s", m->name, (unsigned)tag,
                    PB_GET_ERROR(s));
      }
      if (known && m->int32[tag] && !is_int32(value)) {
        return fail(d, "wire.decode", at,
                    "%s: field %u (int32): varint value %llu is not a sign-extended 32-bit value",
                    m->name, (unsigned)tag, (unsigned long long)value);
      }
    } else if (!pb_skip_field(s, wt)) {
      return fail(d, "wire.decode", at, "%s: field %u (wire type %d): %s", m->name, (unsigned)tag,
                  (int)wt, PB_GET_ERROR(s));
    }
  }
  return true;
}

/* Fast path. walk() and pass 2's callbacks read every byte through nanopb's stream callback, and
 * pb_decode() checks each field's length against its parent again: most of the time of a record in
 * the window went there. scan() checks the same structure with plain pointers (every bound tested
 * before the byte is read), also validates UTF-8 and register names, and accepts exactly the
 * records walk() and the checking callbacks accept; anything it rejects goes the checking way,
 * which then names the error. pass 2 for a scanned record still decodes the record
 * (every scalar, the timestamp, the payload and its int32 range checks) but hands strings, bytes
 * and map entries, already checked, to a callback that steps over them. */

static bool valid_utf8(const uint8_t *p, size_t n) {
  uint64_t high = 0; /* ASCII strings, the common case, without a call */
  size_t i = 0;
  for (uint64_t w; i + 8 <= n; i += 8) memcpy(&w, p + i, 8), high |= w;
  for (; i < n; ++i) high |= p[i];
  if ((high & 0x8080808080808080ull) == 0) return true;
  atf_utf8_state u = ATF_UTF8_STATE_INIT;
  return atf_utf8_feed(&u, p, n) == n && atf_utf8_complete(&u);
}

static bool scan(const uint8_t *p, const uint8_t *end, const schema_msg *m, uint64_t *unknown) {
  uint64_t key_len = 0; /* of a register entry's last key (the last occurrence wins) */
  while (p < end) {
    uint64_t key, value;
    unsigned len;
    if (atf_read_varint(p, (size_t)(end - p), ATF_VARINT32_BYTES, ATF_VARINT32_LAST, &key, &len) !=
        ATF_VARINT_OK) {
      return false;
    }
    p += len;
    const uint64_t tag = key >> 3;
    const unsigned wt = (unsigned)(key & 7);
    if (tag == 0) return false;
    const bool known = tag < DIRECT_TAGS && m->known[tag];
    if (!known) {
      (*unknown)++;
    } else if ((m->wire_types[tag] & (1u << wt)) == 0) {
      return false;
    }
    switch (wt) {
      case PB_WT_VARINT:
        if (known && m->int32[tag]) {
          if (atf_read_varint(p, (size_t)(end - p), ATF_VARINT64_BYTES, ATF_VARINT64_LAST, &value,
                              &len) != ATF_VARINT_OK ||
              !is_int32(value)) {
            return false;
          }
          p += len;
        } else if ((p = atf_skip_varint(p, end)) == NULL) {
          return false;
        }
        break;
      case PB_WT_STRING:
        if (atf_read_varint(p, (size_t)(end - p), ATF_VARINT32_BYTES, ATF_VARINT32_LAST, &value,
                            &len) != ATF_VARINT_OK) {
          return false;
        }
        p += len;
        if (value > (uint64_t)(end - p)) return false;
        if (known) {
          if (m->sub[tag] != NULL && !scan(p, p + value, m->sub[tag], unknown)) return false;
          if (m->utf8[tag] && !valid_utf8(p, (size_t)value)) return false;
          if (tag == 1) key_len = value;
        }
        p += value;
        break;
      case PB_WT_64BIT:
        if (end - p < 8) return false;
        p += 8;
        break;
      case PB_WT_32BIT:
        if (end - p < 4) return false;
        p += 4;
        break;
      default:
        return false; /* groups (3, 4) and 6, 7 */
    }
  }
  return !m->register_entry || key_len > 0;
}

/* ---------------------------------------------------------------------------------------------
 * Pass 2: values. */

/* One piece of a text or bytes field: validate UTF-8 (across pieces), pass it on. */
static bool take_chunk(const field_ref *ref, atf_utf8_state *u, uint64_t at, const uint8_t *p,
                       size_t n, unsigned flags) {
  decoder *d = ref->d;
  if (ref->field != ATF_TEXT_STACK) {
    const size_t good = atf_utf8_feed(u, p, n);
    if (good != n) {
      return fail(d, "schema.utf8", at + good, "%s: invalid UTF-8 (byte 0x%02x)",
                  kTextNames[ref->field], p[good]);
    }
    if ((flags & ATF_CHUNK_LAST) && !atf_utf8_complete(u)) {
      return fail(d, "schema.utf8", at + n, "%s: UTF-8 sequence cut off at the end",
                  kTextNames[ref->field]);
    }
  }
  if (d->visitor != NULL && d->visitor->text != NULL)
    d->visitor->text(d->visitor->ctx, ref->field, p, n, flags);
  return true;
}

static bool read_text(pb_istream_t *s, const pb_field_t *field, void **arg) {
  (void)field;
  const field_ref *ref = *arg;
  decoder *d = ref->d;
  const uint64_t at = offset_of(d, s);
  const uint64_t len = s->bytes_left;
  atf_utf8_state u = ATF_UTF8_STATE_INIT;
  if (ref->field == ATF_TEXT_REGISTER_NAME) d->name_len = len;
  const uint8_t *p = atf_record_stream_take(&d->rs, s, (size_t)len);
  if (p != NULL) { /* a buffered record: the bytes are in memory already, taken in place */
    return take_chunk(ref, &u, at, p, (size_t)len, ATF_CHUNK_FIRST | ATF_CHUNK_LAST);
  }
  uint8_t chunk[ATF_DECODE_CHUNK];
  unsigned flags = ATF_CHUNK_FIRST;
  uint64_t done = 0;
  do {
    const size_t n = s->bytes_left < sizeof chunk ? s->bytes_left : sizeof chunk;
    if (!pb_read(s, chunk, n)) return false;
    if (s->bytes_left == 0) flags |= ATF_CHUNK_LAST;
    if (!take_chunk(ref, &u, at + done, chunk, n, flags)) return false;
    done += n;
    flags = 0;
  } while (s->bytes_left > 0);
  return true;
}

/* The three register maps have identical entry messages (string key = 1, uint64 value = 2); the
 * field's own descriptor decodes each. */
_Static_assert(sizeof(atf_v4_FunctionCall_ArgumentRegistersEntry) ==
                       sizeof(atf_v4_SignalDelivery_RegistersEntry) &&
                   sizeof(atf_v4_FunctionReturn_ReturnRegistersEntry) ==
                       sizeof(atf_v4_SignalDelivery_RegistersEntry),
               "map entries share one layout");

static bool read_register(pb_istream_t *s, const pb_field_t *field, void **arg) {
  decoder *d = *arg;
  const uint64_t at = offset_of(d, s);
  atf_v4_SignalDelivery_RegistersEntry entry = atf_v4_SignalDelivery_RegistersEntry_init_zero;
  entry.key.funcs.decode = read_text;
  entry.key.arg = &d->refs[ATF_TEXT_REGISTER_NAME];
  d->name_len = 0;
  if (!pb_decode(s, field->submsg_desc, &entry)) return false;
  if (d->name_len == 0) return fail(d, "schema.register_name", at, "register name is empty");
  if (d->visitor != NULL && d->visitor->reg != NULL) d->visitor->reg(d->visitor->ctx, entry.value);
  return true;
}

/* A string, bytes or map entry that scan() checked already, in a buffered record: step over it. */
static bool step_over(pb_istream_t *s, const pb_field_t *field, void **arg) {
  (void)field;
  const decoder *d = *arg;
  return atf_record_stream_take(&d->rs, s, s->bytes_left) != NULL;
}

static void set_text(pb_callback_t *cb, decoder *d, atf_text_field f) {
  cb->funcs.decode = d->checked ? step_over : read_text;
  cb->arg = d->checked ? (void *)d : (void *)&d->refs[f];
}

static void set_registers(pb_callback_t *cb, decoder *d) {
  cb->funcs.decode = d->checked ? step_over : read_register;
  cb->arg = d;
}

/* nanopb calls this (submsg_callback) before decoding a payload member: the union's storage is
 * shared, so the member's callbacks can only be installed once it is known. */
static bool set_up_payload(pb_istream_t *s, const pb_field_t *field, void **arg) {
  (void)s;
  decoder *d = *arg;
  d->payload_tags |= 1u << (field->tag - ATF_PAYLOAD_TRACE_START);
  atf_v4_TraceStart *const start = field->pData;
  atf_v4_FunctionCall *const call = field->pData;
  atf_v4_FunctionReturn *const ret = field->pData;
  atf_v4_SignalDelivery *const signal = field->pData;
  switch (field->tag) {
    case atf_v4_Event_trace_start_tag:
      set_text(&start->executable_path, d, ATF_TEXT_EXECUTABLE_PATH);
      set_text(&start->args, d, ATF_TEXT_ARG);
      set_text(&start->operating_system, d, ATF_TEXT_OPERATING_SYSTEM);
      set_text(&start->cpu_architecture, d, ATF_TEXT_CPU_ARCHITECTURE);
      break;
    case atf_v4_Event_function_call_tag:
      set_text(&call->symbol, d, ATF_TEXT_SYMBOL);
      set_registers(&call->argument_registers, d);
      set_text(&call->stack_shallow_copy, d, ATF_TEXT_STACK);
      break;
    case atf_v4_Event_function_return_tag:
      set_text(&ret->symbol, d, ATF_TEXT_SYMBOL);
      set_registers(&ret->return_registers, d);
      break;
    case atf_v4_Event_signal_delivery_tag:
      set_text(&signal->name, d, ATF_TEXT_SIGNAL_NAME);
      set_registers(&signal->registers, d);
      break;
    default: /* TraceEnd: no strings */
      break;
  }
  return true;
}

/* ---------------------------------------------------------------------------------------------
 * Record-level rules. */

static bool check_record(decoder *d, const atf_v4_Event *m) {
  atf_event *ev = d->ev;
  const uint64_t at = d->rs.start;
  const unsigned tags = d->payload_tags;
  if (tags == 0) return fail(d, "schema.payload", at, "no payload set");
  if ((tags & (tags - 1)) != 0) {
    return fail(d, "schema.payload", at,
                "more than one payload field set (field numbers mask 0x%x)",
                tags << ATF_PAYLOAD_TRACE_START);
  }
  if (!m->has_timestamp) return fail(d, "schema.timestamp", at, "timestamp missing");
  const int64_t sec = m->timestamp.seconds;
  const int32_t nanos = m->timestamp.nanos;
  if (sec < 0) return fail(d, "schema.timestamp", at, "timestamp seconds %lld < 0", (long long)sec);
  if (nanos < 0 || nanos >= 1000000000) {
    return fail(d, "schema.timestamp", at, "timestamp nanos %d outside [0, 999999999]", (int)nanos);
  }
  /* seconds * 1e9 + nanos must fit in uint64 nanoseconds (the manifest's unit). */
  if ((uint64_t)sec > (UINT64_MAX - (uint64_t)nanos) / 1000000000u) {
    return fail(d, "schema.timestamp", at, "timestamp %lld.%09d s is beyond 2^64-1 ns",
                (long long)sec, (int)nanos);
  }
  ev->event_id = m->event_id;
  ev->thread_id = m->thread_id;
  ev->seconds = sec;
  ev->nanos = nanos;
  ev->time_ns = (uint64_t)sec * 1000000000u + (uint64_t)nanos;
  ev->payload = (atf_payload)m->which_payload;
  switch (m->which_payload) {
    case atf_v4_Event_trace_end_tag:
      ev->exit_code = m->payload.trace_end.exit_code;
      break;
    case atf_v4_Event_function_call_tag:
      ev->address = m->payload.function_call.address;
      ev->call_site = m->payload.function_call.call_site;
      break;
    case atf_v4_Event_function_return_tag:
      ev->address = m->payload.function_return.address;
      break;
    case atf_v4_Event_signal_delivery_tag:
      ev->signal_number = m->payload.signal_delivery.number;
      break;
    default:
      break;
  }
  return true;
}

static bool decode_record(atf_reader *r, uint64_t off, uint64_t len,
                          const atf_event_visitor *visitor, atf_event *ev, atf_decode_error *err) {
  memset(ev, 0, sizeof *ev);
  err->rule = NULL; /* fail() fills in the rest */
  err->offset = 0;
  err->message[0] = '\0';
  decoder d;
  memset(&d, 0, sizeof d);
  d.visitor = visitor;
  d.err = err;
  d.ev = ev;
  for (int f = 0; f < ATF_TEXT_FIELD_COUNT; ++f) d.refs[f] = (field_ref){&d, (atf_text_field)f};

  if (!atf_record_stream_open(&d.rs, r, off, len)) return fail(&d, "io", off, "read error");
  ensure_schema();
  uint64_t unknown = 0;
  if (d.rs.base != NULL && scan(d.rs.base, d.rs.base + len, &kSchema[0], &unknown)) {
    ev->unknown_fields = unknown;
    d.checked = visitor == NULL;
  } else {
    if (!walk(&d, &d.rs.stream, &kSchema[0])) return false;
    if (!atf_record_stream_open(&d.rs, r, off, len)) return fail(&d, "io", off, "read error");
  }

  atf_v4_Event m = atf_v4_Event_init_zero;
  m.cb_payload.funcs.decode = set_up_payload;
  m.cb_payload.arg = &d;
  if (!pb_decode_ex(&d.rs.stream, atf_v4_Event_fields, &m,
                    PB_DECODE_NOINIT)) { /* m is initialised */
    return fail(&d, "wire.decode", off, "Event: %s", PB_GET_ERROR(&d.rs.stream));
  }
  return check_record(&d, &m);
}

bool atf_decode_record(atf_reader *r, uint64_t off, uint64_t len, const atf_event_visitor *visitor,
                       atf_event *ev, atf_decode_error *err) {
  const bool failed_before = r->io_failed;
  if (decode_record(r, off, len, visitor, ev, err)) return true;
  if (r->io_failed && !failed_before) {
    /* A streamed record whose file shrank: nanopb saw a failing stream, but this is no defect of
     * the record. */
    err->rule = "io";
    err->offset = off;
    snprintf(err->message, sizeof err->message, "read error");
  }
  return false;
}
