#include "validator/internal/decode.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "atf_v4.npb.h"
#include "pb_common.h"
#include "pb_decode.h"
#include "validator/internal/utf8.h"

typedef struct decoder decoder;

// Callback argument for a text field: which field, and the decoder it belongs to.
typedef struct field_ref {
  decoder* d;
  atf_text_field field;
} field_ref;

struct decoder {
  atf_record_stream rs;
  const atf_event_visitor* visitor;
  atf_decode_error* err;
  atf_event* ev;
  unsigned payload_tags;  // bit (tag - 10) for every payload field seen
  uint64_t name_len;      // length of the current map entry's key
  field_ref refs[ATF_TEXT_FIELD_COUNT];
};

static const char* const kTextNames[ATF_TEXT_FIELD_COUNT] = {
    "TraceStart.executable_path", "TraceStart.args",       "TraceStart.operating_system",
    "TraceStart.cpu_architecture", "symbol",               "FunctionCall.stack_shallow_copy",
    "SignalDelivery.name",         "register name",
};

__attribute__((format(printf, 4, 5))) static bool fail(decoder* d, const char* rule, uint64_t offset,
                                                       const char* fmt, ...) {
  if (d->err->rule != NULL) return false;  // first error wins
  d->err->rule = rule;
  d->err->offset = offset;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->err->message, sizeof d->err->message, fmt, ap);
  va_end(ap);
  return false;
}

static uint64_t offset_of(const decoder* d, const pb_istream_t* s) {
  return atf_record_stream_offset(&d->rs, s);
}

// ---------------------------------------------------------------------------------------------
// Pass 1: structure, wire types, unknown fields.

// Large enough for any message of the schema: the field iterator computes member addresses from it.
static union {
  atf_v4_Event event;
  atf_v4_TraceStart start;
  atf_v4_FunctionCall call;
  atf_v4_FunctionReturn ret;
  atf_v4_SignalDelivery signal;
  atf_v4_SignalDelivery_RegistersEntry entry;
  google_protobuf_Timestamp timestamp;
} kScratch;

static bool wire_type_matches(pb_type_t type, pb_wire_type_t wt) {
  switch (PB_LTYPE(type)) {
    case PB_LTYPE_BOOL:
    case PB_LTYPE_VARINT:
    case PB_LTYPE_UVARINT:
    case PB_LTYPE_SVARINT:
      return wt == PB_WT_VARINT || (PB_HTYPE(type) == PB_HTYPE_REPEATED && wt == PB_WT_STRING);
    case PB_LTYPE_FIXED32:
      return wt == PB_WT_32BIT || (PB_HTYPE(type) == PB_HTYPE_REPEATED && wt == PB_WT_STRING);
    case PB_LTYPE_FIXED64:
      return wt == PB_WT_64BIT || (PB_HTYPE(type) == PB_HTYPE_REPEATED && wt == PB_WT_STRING);
    default:
      return wt == PB_WT_STRING;  // bytes, string, submessages
  }
}

static const char* message_name(const pb_msgdesc_t* desc) {
  if (desc == atf_v4_Event_fields) return "Event";
  if (desc == atf_v4_TraceStart_fields) return "TraceStart";
  if (desc == atf_v4_TraceEnd_fields) return "TraceEnd";
  if (desc == atf_v4_FunctionCall_fields) return "FunctionCall";
  if (desc == atf_v4_FunctionReturn_fields) return "FunctionReturn";
  if (desc == atf_v4_SignalDelivery_fields) return "SignalDelivery";
  if (desc == google_protobuf_Timestamp_fields) return "Timestamp";
  return "register map entry";
}

static bool walk(decoder* d, pb_istream_t* s, const pb_msgdesc_t* desc) {
  const char* name = message_name(desc);
  while (s->bytes_left > 0) {
    const uint64_t at = offset_of(d, s);
    pb_wire_type_t wt;
    uint32_t tag;
    bool eof;
    if (!pb_decode_tag(s, &wt, &tag, &eof)) {
      return fail(d, "wire.decode", at, "%s: bad tag: %s", name, PB_GET_ERROR(s));
    }
    if (tag == 0) return fail(d, "wire.decode", at, "%s: field number 0", name);
    pb_field_iter_t it;
    if (!pb_field_iter_begin_const(&it, desc, &kScratch) || !pb_field_iter_find(&it, tag)) {
      d->ev->unknown_fields++;
      if (!pb_skip_field(s, wt)) {
        return fail(d, "wire.decode", at, "%s: unknown field %u (wire type %d): %s", name, (unsigned)tag,
                    (int)wt, PB_GET_ERROR(s));
      }
      continue;
    }
    if (!wire_type_matches(it.type, wt)) {
      return fail(d, "wire.decode", at, "%s: field %u has wire type %d, not the schema's", name,
                  (unsigned)tag, (int)wt);
    }
    if (PB_LTYPE_IS_SUBMSG(it.type)) {
      pb_istream_t sub;
      if (!pb_make_string_substream(s, &sub)) {
        return fail(d, "wire.decode", at, "%s: field %u: length exceeds its parent: %s", name,
                    (unsigned)tag, PB_GET_ERROR(s));
      }
      const bool ok = walk(d, &sub, it.submsg_desc);
      if (!pb_close_string_substream(s, &sub) || !ok) {
        return fail(d, "wire.decode", at, "%s: field %u: %s", name, (unsigned)tag, PB_GET_ERROR(s));
      }
    } else if (!pb_skip_field(s, wt)) {
      return fail(d, "wire.decode", at, "%s: field %u: %s", name, (unsigned)tag, PB_GET_ERROR(s));
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Pass 2: values.

static bool read_text(pb_istream_t* s, const pb_field_t* field, void** arg) {
  (void)field;
  const field_ref* ref = *arg;
  decoder* d = ref->d;
  const bool utf8 = ref->field != ATF_TEXT_STACK;
  const uint64_t at = offset_of(d, s);
  atf_utf8_state u = ATF_UTF8_STATE_INIT;
  uint8_t chunk[ATF_DECODE_CHUNK];
  uint64_t done = 0;
  unsigned flags = ATF_CHUNK_FIRST;
  do {
    const size_t n = s->bytes_left < sizeof chunk ? s->bytes_left : sizeof chunk;
    if (!pb_read(s, chunk, n)) return false;
    if (utf8) {
      const size_t good = atf_utf8_feed(&u, chunk, n);
      if (good != n) {
        return fail(d, "schema.utf8", at + done + good, "%s: invalid UTF-8 (byte 0x%02x at index %llu)",
                    kTextNames[ref->field], chunk[good], (unsigned long long)(done + good));
      }
      if (s->bytes_left == 0 && !atf_utf8_complete(&u)) {
        return fail(d, "schema.utf8", at + done + n, "%s: UTF-8 sequence cut off at the end",
                    kTextNames[ref->field]);
      }
    }
    done += n;
    if (s->bytes_left == 0) flags |= ATF_CHUNK_LAST;
    if (d->visitor != NULL && d->visitor->text != NULL) {
      d->visitor->text(d->visitor->ctx, ref->field, chunk, n, flags);
    }
    flags = 0;
  } while (s->bytes_left > 0);
  if (ref->field == ATF_TEXT_REGISTER_NAME) d->name_len = done;
  return true;
}

// The three register maps have identical entry messages (string key = 1, uint64 value = 2); the
// field's own descriptor decodes each.
_Static_assert(sizeof(atf_v4_FunctionCall_ArgumentRegistersEntry) ==
                       sizeof(atf_v4_SignalDelivery_RegistersEntry) &&
                   sizeof(atf_v4_FunctionReturn_ReturnRegistersEntry) ==
                       sizeof(atf_v4_SignalDelivery_RegistersEntry),
               "map entries share one layout");

static bool read_register(pb_istream_t* s, const pb_field_t* field, void** arg) {
  decoder* d = *arg;
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

static void set_text(pb_callback_t* cb, decoder* d, atf_text_field f) {
  cb->funcs.decode = read_text;
  cb->arg = &d->refs[f];
}

static void set_registers(pb_callback_t* cb, decoder* d) {
  cb->funcs.decode = read_register;
  cb->arg = d;
}

// nanopb calls this (submsg_callback) before decoding a payload member: the union's storage is
// shared, so the member's callbacks can only be installed once it is known.
static bool set_up_payload(pb_istream_t* s, const pb_field_t* field, void** arg) {
  (void)s;
  decoder* d = *arg;
  d->payload_tags |= 1u << (field->tag - ATF_PAYLOAD_TRACE_START);
  switch (field->tag) {
    case atf_v4_Event_trace_start_tag: {
      atf_v4_TraceStart* m = field->pData;
      set_text(&m->executable_path, d, ATF_TEXT_EXECUTABLE_PATH);
      set_text(&m->args, d, ATF_TEXT_ARG);
      set_text(&m->operating_system, d, ATF_TEXT_OPERATING_SYSTEM);
      set_text(&m->cpu_architecture, d, ATF_TEXT_CPU_ARCHITECTURE);
      break;
    }
    case atf_v4_Event_function_call_tag: {
      atf_v4_FunctionCall* m = field->pData;
      set_text(&m->symbol, d, ATF_TEXT_SYMBOL);
      set_registers(&m->argument_registers, d);
      set_text(&m->stack_shallow_copy, d, ATF_TEXT_STACK);
      break;
    }
    case atf_v4_Event_function_return_tag: {
      atf_v4_FunctionReturn* m = field->pData;
      set_text(&m->symbol, d, ATF_TEXT_SYMBOL);
      set_registers(&m->return_registers, d);
      break;
    }
    case atf_v4_Event_signal_delivery_tag: {
      atf_v4_SignalDelivery* m = field->pData;
      set_text(&m->name, d, ATF_TEXT_SIGNAL_NAME);
      set_registers(&m->registers, d);
      break;
    }
    default:
      break;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Record-level rules.

static bool check_record(decoder* d, const atf_v4_Event* m) {
  atf_event* ev = d->ev;
  const uint64_t at = d->rs.start;
  const unsigned tags = d->payload_tags;
  if (tags == 0) return fail(d, "schema.payload", at, "no payload set");
  if ((tags & (tags - 1)) != 0) {
    return fail(d, "schema.payload", at, "more than one payload field set (field numbers mask 0x%x)",
                tags << ATF_PAYLOAD_TRACE_START);
  }
  if (!m->has_timestamp) return fail(d, "schema.timestamp", at, "timestamp missing");
  const int64_t sec = m->timestamp.seconds;
  const int32_t nanos = m->timestamp.nanos;
  if (sec < 0) return fail(d, "schema.timestamp", at, "timestamp seconds %lld < 0", (long long)sec);
  if (nanos < 0 || nanos >= 1000000000) {
    return fail(d, "schema.timestamp", at, "timestamp nanos %d outside [0, 999999999]", (int)nanos);
  }
  // seconds * 1e9 + nanos must fit in uint64 nanoseconds (the manifest's unit).
  if ((uint64_t)sec > (UINT64_MAX - (uint64_t)nanos) / 1000000000u) {
    return fail(d, "schema.timestamp", at, "timestamp %lld.%09d s is beyond 2^64-1 ns", (long long)sec,
                (int)nanos);
  }
  ev->event_id = m->event_id;
  ev->thread_id = m->thread_id;
  ev->seconds = sec;
  ev->nanos = nanos;
  ev->time_ns = (uint64_t)sec * 1000000000u + (uint64_t)nanos;
  ev->payload = (atf_payload)m->which_payload;
  switch (m->which_payload) {
    case atf_v4_Event_trace_end_tag: ev->exit_code = m->payload.trace_end.exit_code; break;
    case atf_v4_Event_function_call_tag: ev->address = m->payload.function_call.address; break;
    case atf_v4_Event_function_return_tag: ev->address = m->payload.function_return.address; break;
    case atf_v4_Event_signal_delivery_tag: ev->signal_number = m->payload.signal_delivery.number; break;
    default: break;
  }
  return true;
}

bool atf_decode_record(atf_reader* r, uint64_t off, uint64_t len, const atf_event_visitor* visitor,
                       atf_event* ev, atf_decode_error* err) {
  memset(ev, 0, sizeof *ev);
  memset(err, 0, sizeof *err);
  decoder d;
  memset(&d, 0, sizeof d);
  d.visitor = visitor;
  d.err = err;
  d.ev = ev;
  for (int f = 0; f < ATF_TEXT_FIELD_COUNT; ++f) d.refs[f] = (field_ref){&d, (atf_text_field)f};

  if (!atf_record_stream_open(&d.rs, r, off, len)) return fail(&d, "io", off, "read error");
  if (!walk(&d, &d.rs.stream, atf_v4_Event_fields)) return false;

  if (!atf_record_stream_open(&d.rs, r, off, len)) return fail(&d, "io", off, "read error");
  atf_v4_Event m = atf_v4_Event_init_zero;
  m.cb_payload.funcs.decode = set_up_payload;
  m.cb_payload.arg = &d;
  if (!pb_decode(&d.rs.stream, atf_v4_Event_fields, &m)) {
    return fail(&d, "wire.decode", off, "Event: %s", PB_GET_ERROR(&d.rs.stream));
  }
  return check_record(&d, &m);
}
