/* Single-pass encoder for FunctionCall / FunctionReturn events; see fast_encode.h. The tables are
 * built here from protobuf-c's descriptors; the encoder itself is in fast_encode_inl.h, so that
 * the writer's per-event step inlines it. */
#include "writer/fastpath/fast_encode.h"

#include <string.h>

#include "atf_v4.pb-c.h"
#include "writer/fastpath/fast_encode_inl.h"

#if ATF_FAST_HAVE_PDEP
#include <cpuid.h>
#endif

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

/* The Event-level tags (ATF_FAST_TAG_*, fast_encode_inl.h) are single-byte constants; each is
 * checked against the descriptors once, at init, so a schema change that would break them fails
 * loudly there. */
static int fixed_tags_match(void) {
  const ProtobufCMessageDescriptor *ev = &atf__v4__event__descriptor;
  const ProtobufCMessageDescriptor *ts = &google__protobuf__timestamp__descriptor;
  const ProtobufCMessageDescriptor *call = &atf__v4__function_call__descriptor;
  const ProtobufCMessageDescriptor *ret = &atf__v4__function_return__descriptor;
  const ProtobufCMessageDescriptor *entries[3] = {
      &atf__v4__function_call__argument_registers_entry__descriptor,
      &atf__v4__function_return__return_registers_entry__descriptor,
      &atf__v4__signal_delivery__registers_entry__descriptor};
  int ok = tag_of(ev, "event_id", 1, PROTOBUF_C_TYPE_UINT64) == ATF_FAST_TAG_EVENT_ID &&
           tag_of(ev, "thread_id", 2, PROTOBUF_C_TYPE_INT32) == ATF_FAST_TAG_THREAD_ID &&
           tag_of(ev, "timestamp", 3, PROTOBUF_C_TYPE_MESSAGE) == ATF_FAST_TAG_TIMESTAMP &&
           tag_of(ts, "seconds", 1, PROTOBUF_C_TYPE_INT64) == ATF_FAST_TAG_SECONDS &&
           tag_of(ts, "nanos", 2, PROTOBUF_C_TYPE_INT32) == ATF_FAST_TAG_NANOS &&
           tag_of(call, "symbol", 1, PROTOBUF_C_TYPE_STRING) == ATF_FAST_TAG_SYMBOL &&
           tag_of(call, "address", 2, PROTOBUF_C_TYPE_UINT64) == ATF_FAST_TAG_ADDRESS &&
           tag_of(call, "stack_shallow_copy", 4, PROTOBUF_C_TYPE_BYTES) == ATF_FAST_TAG_STACK &&
           tag_of(call, "call_site", 5, PROTOBUF_C_TYPE_UINT64) == ATF_FAST_TAG_CALL_SITE &&
           tag_of(ret, "symbol", 1, PROTOBUF_C_TYPE_STRING) == ATF_FAST_TAG_SYMBOL &&
           tag_of(ret, "address", 2, PROTOBUF_C_TYPE_UINT64) == ATF_FAST_TAG_ADDRESS;
  for (int i = 0; i < 3; ++i) {
    ok = ok && tag_of(entries[i], "key", 1, PROTOBUF_C_TYPE_STRING) == ATF_FAST_TAG_KEY &&
         tag_of(entries[i], "value", 2, PROTOBUF_C_TYPE_UINT64) == ATF_FAST_TAG_VALUE;
  }
  return ok;
}

static int init_keys(atf_fast_key *keys, const char *const *names, unsigned count) {
  for (unsigned i = 0; i < count; ++i) {
    size_t n = names[i] ? strlen(names[i]) : 0;
    if (n == 0 || n > ATF_FAST_MAX_KEY) return -1;
    keys[i].bytes[0] = ATF_FAST_TAG_KEY;
    keys[i].bytes[1] = (uint8_t)n;
    memcpy(keys[i].bytes + 2, names[i], n);
    keys[i].len = (uint8_t)(n + 2);
  }
  return 0;
}

/* Entry heads of one kind from its keys: [registers tag][entry length for value 0][key field]
 * [value tag]; entries_size[n] sums the first n heads' bytes before the value tag. */
static void init_heads(atf_fast_tables *t, int kind) {
  t->entries_size[kind][0] = 0;
  for (unsigned i = 0; i < t->key_count[kind]; ++i) {
    const atf_fast_key *key = &t->keys[kind][i];
    atf_fast_entry_head *h = &t->heads[kind][i];
    h->bytes[0] = t->registers_tag[kind];
    h->bytes[1] = key->len;
    memcpy(h->bytes + 2, key->bytes, key->len);
    h->bytes[2 + key->len] = ATF_FAST_TAG_VALUE;
    h->len = (uint8_t)(2 + key->len);
    if (h->len + 1u > 8u) t->long_keys[kind] = 1;
    t->entries_size[kind][i + 1] = (uint16_t)(t->entries_size[kind][i] + h->len);
  }
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
  init_heads(t, ATF_FAST_CALL);
  init_heads(t, ATF_FAST_RETURN);
  t->use_pdep = atf_fast_pdep_usable();
  return 0;
}

void atf_fast_cache_init(atf_fast_cache *c) {
  memset(c, 0, sizeof *c);
  c->tid.key = c->seconds.key = c->id_high.key = ATF_FAST_NO_KEY;
}

void atf_fast_cache_fill(atf_fast_cached_field *f, uint8_t tag, uint64_t v) {
  uint8_t field[1 + 10 + 5];
  size_t n = 0;
  if (tag == 0) {
    n = (size_t)(atf_fast_put_varint_any(field, v) - field);
  } else if (v != 0) {
    field[0] = tag;
    n = (size_t)(atf_fast_put_varint_any(field + 1, v) - field);
  }
  memset(f->bytes, 0, sizeof f->bytes);
  memcpy(f->bytes, field, n);
  f->len = (uint8_t)n;
  f->key = v;
}

int atf_fast_pdep_usable(void) {
#if ATF_FAST_HAVE_PDEP
  unsigned a, b, c, d;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
  const int intel = b == 0x756E6547u && d == 0x49656E69u && c == 0x6C65746Eu; /* GenuineIntel */
  const int amd = b == 0x68747541u && d == 0x69746E65u && c == 0x444D4163u;   /* AuthenticAMD */
  if (!intel && !amd) return 0;
  if (a < 7 || !__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 8))) return 0; /* BMI2 */
  if (amd) {
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    unsigned family = (a >> 8) & 0xFu;
    if (family == 0xFu) family += (a >> 20) & 0xFFu;
    if (family < 0x19u) return 0;
  }
  return 1;
#else
  return 0;
#endif
}

static size_t encode_generic(const atf_fast_tables *t, atf_fast_cache *c, const atf_fast_event *e,
                             uint8_t *out) {
  return atf_fast_encode_inline(t, c, e, out, 0);
}

#if ATF_FAST_HAVE_PDEP
__attribute__((target("bmi2"))) static size_t encode_pdep(const atf_fast_tables *t,
                                                          atf_fast_cache *c,
                                                          const atf_fast_event *e, uint8_t *out) {
  return atf_fast_encode_inline(t, c, e, out, 1);
}
#endif

size_t atf_fast_encode_cached(const atf_fast_tables *t, atf_fast_cache *c, const atf_fast_event *e,
                              uint8_t *out) {
#if ATF_FAST_HAVE_PDEP
  if (t->use_pdep) return encode_pdep(t, c, e, out);
#endif
  return encode_generic(t, c, e, out);
}

size_t atf_fast_encode(const atf_fast_tables *t, const atf_fast_event *e, uint8_t *out) {
  atf_fast_cache c;
  atf_fast_cache_init(&c);
  return atf_fast_encode_cached(t, &c, e, out);
}
