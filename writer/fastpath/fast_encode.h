/* fast_encode.h: single-pass encoder for the hot ATF V4 events (FunctionCall, FunctionReturn).
 *
 * protobuf-c encodes a message in two walks over a tree of structs (get_packed_size, then pack),
 * after the caller has built that tree. For the two payloads a tracer emits millions of times per
 * second the shape is fixed: a few scalars, one symbol, a handful of named registers, a stack
 * copy. This encoder writes their bytes directly from the values, in one pass: the two lengths
 * that precede their contents get their varint width from bounds computed up front (exact sizes
 * only when the bounds straddle 128 or 16384) and their value once the contents are out; every
 * tag and register-entry head is precomputed at session start from protobuf-c's generated
 * descriptors; the thread id, seconds and event id's high part are kept encoded between events
 * (fast_encode_inl.h has the details). Its output is byte-identical to
 * `[varint length] protobuf_c_message_pack(Event)` of the same event converted field by field, as
 * fast_encode_test.cc and the differential fuzzer check.
 *
 * What "identical" commits to (protobuf-c's proto3 rules): fields in field-number order; scalars
 * equal to 0 and empty strings/bytes omitted; the timestamp and payload submessages always present
 * (possibly empty); a negative int32 written as a 10-byte varint; map entries in the given order,
 * each with its key (never empty) and its value omitted when 0.
 */
#ifndef ATF_WRITER_FASTPATH_FAST_ENCODE_H_
#define ATF_WRITER_FASTPATH_FAST_ENCODE_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATF_FAST_MAX_REGS 64u
#define ATF_FAST_MAX_KEY 16u /* longest register name */

/* An encoded map-entry key field: 0x0A <len> <name bytes>. */
typedef struct atf_fast_key {
  uint8_t len;
  uint8_t bytes[2 + ATF_FAST_MAX_KEY];
} atf_fast_key;

/* The constant head of one register's map entry in its message: the registers field's tag, the
 * entry's length for a value of 0, the key field (0x0A <len> <name>) and the value field's tag
 * (0x10). Only the entry's length byte and the value's varint depend on the value. */
typedef struct atf_fast_entry_head {
  uint8_t len; /* bytes before the value tag: 2 + key field */
  uint8_t bytes[24];
} atf_fast_entry_head;

/* Tags and key prefixes, precomputed once per session (per architecture). */
typedef struct atf_fast_tables {
  uint8_t event_payload_tag[2]; /* [0] FunctionCall, [1] FunctionReturn (Event oneof members) */
  uint8_t registers_tag[2];     /* argument_registers / return_registers in their message */
  unsigned key_count[2];
  atf_fast_key keys[2][ATF_FAST_MAX_REGS];
  atf_fast_entry_head heads[2][ATF_FAST_MAX_REGS];
  uint8_t long_keys[2]; /* some head of this kind is longer than 8 bytes (a key over 3 bytes) */
  /* entries_size[k][n]: bytes of the first n entries of kind k with every value 0 */
  uint16_t entries_size[2][ATF_FAST_MAX_REGS + 1];
  /* Encode varints with BMI2's PDEP (atf_fast_pdep_usable() at init; tests may clear it, or set
   * it where PDEP exists). Same bytes either way. */
  int use_pdep;
} atf_fast_tables;

/* 1 when this CPU has BMI2 and its PDEP is fast: Intel, and AMD from Zen 3 (family 0x19) on. AMD
 * before Zen 3 (and Hygon) execute PDEP in microcode, tens of cycles and data-dependent, slower
 * than the shifts it replaces. 0 elsewhere (and on other architectures). */
int atf_fast_pdep_usable(void);

enum { ATF_FAST_CALL = 0, ATF_FAST_RETURN = 1 };

/* One hot event. `symbol` must already be valid UTF-8 (the writer sanitises at intern time). */
typedef struct atf_fast_event {
  int kind; /* ATF_FAST_CALL or ATF_FAST_RETURN */
  uint64_t event_id;
  int32_t thread_id;
  uint64_t timestamp_ns;
  const uint8_t *symbol;
  size_t symbol_len;
  uint64_t address;
  const uint64_t *regs; /* regs[i] is named keys[kind][i] */
  unsigned reg_count;   /* <= key_count[kind] */
  const uint8_t *stack; /* FunctionCall only; ignored for returns */
  size_t stack_len;
  uint64_t call_site; /* FunctionCall only; 0 = none */
} atf_fast_event;

/* An encoded field kept between events: `bytes[0..len)` encode `key` (zero-filled after). */
typedef struct atf_fast_cached_field {
  uint64_t key; /* ATF_FAST_NO_KEY until filled: no value cached matches it */
  uint8_t len;
  uint8_t bytes[16];
} atf_fast_cached_field;

#define ATF_FAST_NO_KEY (1ull << 63)

/* Encoded fields that repeat from event to event, kept by one encoder between events: the thread
 * id field, the timestamp's seconds field, and the varint of event_id >> 7 (ids count up: only
 * their low 7 bits change from one event to the next, 127 times in 128). Only a cache: any state
 * gives the same bytes. */
typedef struct atf_fast_cache {
  atf_fast_cached_field tid, seconds, id_high;
} atf_fast_cache;

void atf_fast_cache_init(atf_fast_cache *c);

/* Encodes `v` into f (as [tag varint], nothing for 0, when tag != 0; as the bare varint when tag
 * is 0) and makes it f's key. The encoder's miss path: out of line. */
void atf_fast_cache_fill(atf_fast_cached_field *f, uint8_t tag, uint64_t v);

/* Fills `t` from protobuf-c's descriptors of atf.v4 and the register names of each kind, in
 * canonical order. Returns 0, or -1 if a descriptor does not have the expected field numbers and
 * types (the schema changed and this encoder no longer matches it) or a name is empty or longer
 * than ATF_FAST_MAX_KEY. */
int atf_fast_tables_init(atf_fast_tables *t, const char *const *call_names, unsigned call_count,
                         const char *const *return_names, unsigned return_count);

/* Upper bound of atf_fast_encode()'s output for an event with these sizes. Every varint field is
 * allowed its tag and 10 bytes, because the encoder stores all 10 bytes of a varint and keeps only
 * its length (the rest is overwritten by the next field or lies inside this bound). */
static inline size_t atf_fast_max_size(size_t symbol_len, unsigned reg_count, size_t stack_len) {
  /* record length varint, event_id, thread_id, timestamp, payload header, symbol, address, each
   * register entry (tag, len, key field, value field), stack field, call site. */
  return 10 + 11 + 11 + (2 + 11 + 11) + 11 + (11 + symbol_len) + 11 +
         (size_t)reg_count * (2 + 2 + ATF_FAST_MAX_KEY + 11) + (11 + stack_len) + 11;
}

/* Writes [varint length][Event] for `e` at `out`, which has room for atf_fast_max_size(...) bytes.
 * Returns the number of bytes written. REQUIRES: e->reg_count <= t->key_count[e->kind]. */
size_t atf_fast_encode(const atf_fast_tables *t, const atf_fast_event *e, uint8_t *out);

/* atf_fast_encode with a cache kept across the events of one stream (same bytes, fewer steps).
 * fast_encode_inl.h has it as an inline function for the writer's per-event step. */
size_t atf_fast_encode_cached(const atf_fast_tables *t, atf_fast_cache *c, const atf_fast_event *e,
                              uint8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* ATF_WRITER_FASTPATH_FAST_ENCODE_H_ */
