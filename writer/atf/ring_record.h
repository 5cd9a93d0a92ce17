/* atf/ring_record.h: the record a traced thread writes into its ring; the writer's input.
 *
 * A record is a fixed 40-byte header followed by `reg_count` 64-bit register values, then
 * `stack_len` bytes of stack copy, then zero padding to a multiple of 8 bytes. `size` covers all
 * of it. Records sit end to end in a batch. Nothing in a record points outside it: symbols are
 * 32-bit ids interned once in the writer's symbol table (atf_writer_intern_symbol), so a ring can
 * be drained, copied or handed over as plain bytes, and no string is copied per event.
 *
 * Register values are stored in the architecture-canonical order of the record's kind (see
 * atf_register_name() in atf/writer.h): for ATF_KIND_CALL on x86_64, regs[0] is RDI, regs[1] RSI,
 * ... regs[5] R9; on arm64, X0..X7. ATF_KIND_RETURN: RAX, RDX / X0, X1. ATF_KIND_SIGNAL: the full
 * general-purpose dump. A record may carry fewer registers than its kind names (a prefix).
 *
 * Layout (little- or big-endian as the host; records never leave the process in this form):
 *   offset  size  field
 *        0     2  size          total bytes, multiple of 8, >= ATF_RECORD_HEADER_SIZE
 *        2     1  kind          enum atf_record_kind
 *        3     1  reg_count     <= ATF_RECORD_MAX_REGS
 *        4     2  stack_len     <= ATF_RECORD_MAX_STACK
 *        6     2  flags         0, or ATF_RECORD_FLAG_CALL_SITE on a CALL
 *        8     4  thread_id     OS thread id
 *       12     4  value         SIGNAL: signal number; TRACE_END: exit code; CALL with
 *                               ATF_RECORD_FLAG_CALL_SITE: the call site's low 32 bits; else 0
 *       16     8  timestamp_ns  nanoseconds since the Unix epoch
 *       24     8  address       CALL/RETURN: function entry address; otherwise 0
 *       32     4  symbol_id     CALL/RETURN: interned symbol id, 0 = no symbol; otherwise 0
 *       36     4  reserved      0; CALL with ATF_RECORD_FLAG_CALL_SITE: the call site's high
 *                               32 bits
 *       40  8*n   regs[reg_count]
 *        …   len  stack[stack_len]
 */
#ifndef ATF_RING_RECORD_H_
#define ATF_RING_RECORD_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATF_RECORD_ALIGN 8u
#define ATF_RECORD_HEADER_SIZE 40u
#define ATF_RECORD_MAX_REGS 64u
#define ATF_RECORD_MAX_STACK 4096u
#define ATF_RECORD_MAX_SIZE \
  (ATF_RECORD_HEADER_SIZE + 8u * ATF_RECORD_MAX_REGS + ATF_RECORD_MAX_STACK)

/* flags: a CALL record carries its call site (FunctionCall.call_site) in value (low 32 bits) and
 * reserved (high 32 bits). */
#define ATF_RECORD_FLAG_CALL_SITE 0x0001u

enum atf_record_kind {
  ATF_KIND_PAD = 0,      /* filler (e.g. at a ring's wrap point): skipped by the writer */
  ATF_KIND_CALL = 1,     /* FunctionCall */
  ATF_KIND_RETURN = 2,   /* FunctionReturn */
  ATF_KIND_SIGNAL = 3,   /* SignalDelivery */
  ATF_KIND_TRACE_END = 4 /* TraceEnd; optional, atf_writer_finalize writes one if absent */
};

typedef struct atf_ring_record {
  uint16_t size;
  uint8_t kind;
  uint8_t reg_count;
  uint16_t stack_len;
  uint16_t flags;
  int32_t thread_id;
  int32_t value;
  uint64_t timestamp_ns;
  uint64_t address;
  uint32_t symbol_id;
  uint32_t reserved;
  /* followed by uint64_t regs[reg_count]; uint8_t stack[stack_len]; padding */
} atf_ring_record;

/* Bytes a record with `reg_count` registers and `stack_len` stack bytes occupies. */
static inline size_t atf_record_size(unsigned reg_count, unsigned stack_len) {
  size_t n = ATF_RECORD_HEADER_SIZE + 8u * (size_t)reg_count + (size_t)stack_len;
  return (n + (ATF_RECORD_ALIGN - 1u)) & ~(size_t)(ATF_RECORD_ALIGN - 1u);
}

/* The call site a CALL record carries, 0 without ATF_RECORD_FLAG_CALL_SITE. */
static inline uint64_t atf_record_call_site(const atf_ring_record *r) {
  if (!(r->flags & ATF_RECORD_FLAG_CALL_SITE)) return 0;
  return (uint64_t)(uint32_t)r->value | (uint64_t)r->reserved << 32;
}

static inline uint64_t *atf_record_regs(atf_ring_record *r) {
  return (uint64_t *)((unsigned char *)r + ATF_RECORD_HEADER_SIZE);
}
static inline const uint64_t *atf_record_regs_const(const atf_ring_record *r) {
  return (const uint64_t *)((const unsigned char *)r + ATF_RECORD_HEADER_SIZE);
}
static inline uint8_t *atf_record_stack(atf_ring_record *r) {
  return (uint8_t *)r + ATF_RECORD_HEADER_SIZE + 8u * (size_t)r->reg_count;
}
static inline const uint8_t *atf_record_stack_const(const atf_ring_record *r) {
  return (const uint8_t *)r + ATF_RECORD_HEADER_SIZE + 8u * (size_t)r->reg_count;
}

#ifdef __cplusplus
}
#endif

#endif /* ATF_RING_RECORD_H_ */
