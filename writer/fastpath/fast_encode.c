/* Single-pass encoder for FunctionCall / FunctionReturn events; see fast_encode.h.
 *
 * Sizes first, bytes second: every nested length is computed arithmetically from the values
 * before the first byte is written, so the output is produced front to back with no reservation,
 * patching or memmove. A register entry is at most 2 + 18 + 11 bytes, so its length always fits
 * one varint byte. */
#include "writer/fastpath/fast_encode.h"

#include <string.h>

#include "atf_v4.pb-c.h"
#include "writer/fastpath/fast_varint.h"

#define WIRE_VARINT 0u
#define WIRE_LEN 2u

/* Tag byte of field `name` in `desc`, checked against the expected number and type. 0 if the
 * descriptor disagrees (tags of fields 1..15 are single bytes and never 0). */
static uint8_t tag_of(const ProtobufCMessageDescriptor *desc, const char *name, unsigned number,
                      ProtobufCType type) {
  const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, name);
  if (f == NULL || f->id != number || f->type != type || number > 15) return 0;
  unsigned wire = (type == PROTOBUF_C_TYPE_STRING || type == PROTOBUF_C_TYPE_BYTES ||
                   type == PROTOBUF_C_TYPE_MESSAGE)
                      ? WIRE_LEN
                      : WIRE_VARINT;
  return (uint8_t)(number << 3 | wire);
}

/* The Event-level tags are single-byte constants below; each is checked against the descriptors
 * once, at init, so a schema change that would break them fails loudly there. */
enum {
  TAG_EVENT_ID = 0x08,
  TAG_THREAD_ID = 0x10,
  TAG_TIMESTAMP = 0x1A,
  TAG_SECONDS = 0x08,
  TAG_NANOS = 0x10,
  TAG_SYMBOL = 0x0A,
  TAG_ADDRESS = 0x10,
  TAG_STACK = 0x22,
  TAG_CALL_SITE = 0x28,
  TAG_KEY = 0x0A,
  TAG_VALUE = 0x10
};

static int fixed_tags_match(void) {
  const ProtobufCMessageDescriptor *ev = &atf__v4__event__descriptor;
  const ProtobufCMessageDescriptor *ts = &google__protobuf__timestamp__descriptor;
  const ProtobufCMessageDescriptor *call = &atf__v4__function_call__descriptor;
  const ProtobufCMessageDescriptor *ret = &atf__v4__function_return__descriptor;
  const ProtobufCMessageDescriptor *entries[3] = {
      &atf__v4__function_call__argument_registers_entry__descriptor,
      &atf__v4__function_return__return_registers_entry__descriptor,
      &atf__v4__signal_delivery__registers_entry__descriptor};
  int ok = tag_of(ev, "event_id", 1, PROTOBUF_C_TYPE_UINT64) == TAG_EVENT_ID &&
           tag_of(ev, "thread_id", 2, PROTOBUF_C_TYPE_INT32) == TAG_THREAD_ID &&
           tag_of(ev, "timestamp", 3, PROTOBUF_C_TYPE_MESSAGE) == TAG_TIMESTAMP &&
           tag_of(ts, "seconds", 1, PROTOBUF_C_TYPE_INT64) == TAG_SECONDS &&
           tag_of(ts, "nanos", 2, PROTOBUF_C_TYPE_INT32) == TAG_NANOS &&
           tag_of(call, "symbol", 1, PROTOBUF_C_TYPE_STRING) == TAG_SYMBOL &&
           tag_of(call, "address", 2, PROTOBUF_C_TYPE_UINT64) == TAG_ADDRESS &&
           tag_of(call, "stack_shallow_copy", 4, PROTOBUF_C_TYPE_BYTES) == TAG_STACK &&
           tag_of(call, "call_site", 5, PROTOBUF_C_TYPE_UINT64) == TAG_CALL_SITE &&
           tag_of(ret, "symbol", 1, PROTOBUF_C_TYPE_STRING) == TAG_SYMBOL &&
           tag_of(ret, "address", 2, PROTOBUF_C_TYPE_UINT64) == TAG_ADDRESS;
  for (int i = 0; i < 3; ++i) {
    ok = ok && tag_of(entries[i], "key", 1, PROTOBUF_C_TYPE_STRING) == TAG_KEY &&
         tag_of(entries[i], "value", 2, PROTOBUF_C_TYPE_UINT64) == TAG_VALUE;
  }
  return ok;
}

static int init_keys(atf_fast_key *keys, const char *const *names, unsigned count) {
  for (unsigned i = 0; i < count; ++i) {
    size_t n = names[i] ? strlen(names[i]) : 0;
    if (n == 0 || n > ATF_FAST_MAX_KEY) return -1;
    keys[i].bytes[0] = TAG_KEY;
    keys[i].bytes[1] = (uint8_t)n;
    memcpy(keys[i].bytes + 2, names[i], n);
    keys[i].len = (uint8_t)(n + 2);
  }
  return 0;
}

int atf_fast_tables_init(atf_fast_tables *t, const char *const *call_names, unsigned call_count,
                         const char *const *return_names, unsigned return_count) {
  memset(t, 0, sizeof *t);
  if (call_count > ATF_FAST_MAX_REGS || return_count > ATF_FAST_MAX_REGS) return -1;
  if (!fixed_tags_match()) return -1;
  t->event_payload_tag[ATF_FAST_CALL] =
      tag_of(&atf__v4__event__descriptor, "function_call", 12, PROTOBUF_C_TYPE_MESSAGE);
  t->event_payload_tag[ATF_FAST_RETURN] =
      tag_of(&atf__v4__event__descriptor, "function_return", 13, PROTOBUF_C_TYPE_MESSAGE);
  t->registers_tag[ATF_FAST_CALL] =
      tag_of(&atf__v4__function_call__descriptor, "argument_registers", 3, PROTOBUF_C_TYPE_MESSAGE);
  t->registers_tag[ATF_FAST_RETURN] =
      tag_of(&atf__v4__function_return__descriptor, "return_registers", 3, PROTOBUF_C_TYPE_MESSAGE);
  if (!t->event_payload_tag[0] || !t->event_payload_tag[1] || !t->registers_tag[0] ||
      !t->registers_tag[1]) {
    return -1;
  }
  if (init_keys(t->keys[ATF_FAST_CALL], call_names, call_count) != 0 ||
      init_keys(t->keys[ATF_FAST_RETURN], return_names, return_count) != 0) {
    return -1;
  }
  t->key_count[ATF_FAST_CALL] = call_count;
  t->key_count[ATF_FAST_RETURN] = return_count;
  return 0;
}

static inline size_t entry_size(const atf_fast_key *key, uint64_t value) {
  return key->len + (value ? 1u + atf_fast_varint_size(value) : 0u);
}

size_t atf_fast_encode(const atf_fast_tables *t, const atf_fast_event *e, uint8_t *out) {
  const int k = e->kind;
  const atf_fast_key *keys = t->keys[k];
  const uint64_t seconds = e->timestamp_ns / 1000000000u;
  const uint64_t nanos = e->timestamp_ns % 1000000000u;
  const uint64_t tid = (uint64_t)(int64_t)e->thread_id; /* int32 varints sign-extend */
  const size_t stack_len = k == ATF_FAST_CALL ? e->stack_len : 0;
  const uint64_t call_site = k == ATF_FAST_CALL ? e->call_site : 0;

  /* Sizes. */
  size_t ts = (seconds ? 1u + atf_fast_varint_size(seconds) : 0u) +
              (nanos ? 1u + atf_fast_varint_size(nanos) : 0u);
  size_t payload = 0;
  if (e->symbol_len) payload += 1u + atf_fast_varint_size(e->symbol_len) + e->symbol_len;
  if (e->address) payload += 1u + atf_fast_varint_size(e->address);
  for (unsigned i = 0; i < e->reg_count; ++i) payload += 2u + entry_size(&keys[i], e->regs[i]);
  if (stack_len) payload += 1u + atf_fast_varint_size(stack_len) + stack_len;
  if (call_site) payload += 1u + atf_fast_varint_size(call_site);
  size_t event = (e->event_id ? 1u + atf_fast_varint_size(e->event_id) : 0u) +
                 (tid ? 1u + atf_fast_varint_size(tid) : 0u) + 2u + ts + 1u +
                 atf_fast_varint_size(payload) + payload;

  /* Bytes. */
  uint8_t *p = atf_fast_put_varint(out, event);
  if (e->event_id) {
    *p++ = TAG_EVENT_ID;
    p = atf_fast_put_varint_any(p, e->event_id);
  }
  if (tid) {
    *p++ = TAG_THREAD_ID;
    p = atf_fast_put_varint_any(p, tid);
  }
  *p++ = TAG_TIMESTAMP;
  *p++ = (uint8_t)ts; /* at most 17 */
  if (seconds) {
    *p++ = TAG_SECONDS;
    p = atf_fast_put_varint_any(p, seconds);
  }
  if (nanos) {
    *p++ = TAG_NANOS;
    p = atf_fast_put_varint_any(p, nanos);
  }
  *p++ = t->event_payload_tag[k];
  p = atf_fast_put_varint(p, payload);
  if (e->symbol_len) {
    *p++ = TAG_SYMBOL;
    p = atf_fast_put_varint(p, e->symbol_len);
    memcpy(p, e->symbol, e->symbol_len);
    p += e->symbol_len;
  }
  if (e->address) {
    *p++ = TAG_ADDRESS;
    p = atf_fast_put_varint_any(p, e->address);
  }
  const uint8_t reg_tag = t->registers_tag[k];
  for (unsigned i = 0; i < e->reg_count; ++i) {
    const uint64_t v = e->regs[i];
    *p++ = reg_tag;
    *p++ = (uint8_t)entry_size(&keys[i], v);
    memcpy(p, keys[i].bytes, sizeof keys[i].bytes); /* fixed size: no call, no branch */
    p += keys[i].len;
    if (v) {
      *p++ = TAG_VALUE;
      p = atf_fast_put_varint_any(p, v);
    }
  }
  if (stack_len) {
    *p++ = TAG_STACK;
    p = atf_fast_put_varint(p, stack_len);
    memcpy(p, e->stack, stack_len);
    p += stack_len;
  }
  if (call_site) {
    *p++ = TAG_CALL_SITE;
    p = atf_fast_put_varint_any(p, call_site);
  }
  return (size_t)(p - out);
}
