/* internal/encode.h: the per-event encoding step of the write path.
 *
 * atf_encode_record() turns one ring record into its framed bytes, [varint length][Event], directly
 * in the writer's output buffer. It is the single place a record becomes bytes. Two paths:
 *   - FunctionCall and FunctionReturn, the events a tracer emits millions of times per second, go
 *     through writer/fastpath: one pass, length widths from bounds, tags and register-entry heads
 *     precomputed from protobuf-c's descriptors at init, repeating fields cached in the encoder.
 *     atf_encode_hot() is that step alone, inline, for the writer's walk over a batch;
 *   - everything else (signals, TraceEnd), and a hot event too large for the room left in the
 *     buffer, goes through the reference path: atf_convert_record() + protobuf-c get_packed_size +
 *     pack.
 * Both produce the same bytes (fastpath_equivalence_test, convert_test and the differential fuzzer
 * compare them); neither allocates. atf_encode_record_reference() forces the reference path.
 */
#ifndef ATF_WRITER_INTERNAL_ENCODE_H_
#define ATF_WRITER_INTERNAL_ENCODE_H_

#include <stddef.h>
#include <stdint.h>

#include "writer/atf/ring_record.h"
#include "writer/atf/writer.h"
#include "writer/internal/convert.h"
#include "writer/internal/symtab.h"
#include "writer/fastpath/fast_encode.h"
#include "writer/fastpath/fast_encode_inl.h"
#include "writer/internal/compiler.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A fast-path event whose bound exceeds this (only a symbol of tens of kilobytes makes one) takes
 * the reference path when it does not fit; smaller bounds are returned for the caller to make room.
 * The writer's smallest buffer is at least this large, so a fresh buffer always fits the bound. */
#define ATF_ENCODE_FAST_BOUND_MAX (64u << 10)

typedef struct atf_encoder {
  atf_convert_scratch scratch; /* also fixes the architecture (register names) */
  const atf_symtab *symtab;
  const char *os; /* signal naming */
  uint32_t max_stack;
  uint64_t stack_truncations;
  int fast_ok; /* the fast tables matched the descriptors (always, unless the schema changed) */
  atf_fast_tables fast;
  atf_fast_cache fast_cache; /* the thread id and seconds of the last fast-path event */
} atf_encoder;

/* REQUIRES: symtab and os outlive the encoder. */
void atf_encoder_init(atf_encoder *e, atf_arch arch, const char *os, const atf_symtab *symtab,
                      uint32_t max_stack);

/* Frames an already converted event into out[0..cap). Returns the framed size; when that is
 * larger than cap nothing is written. */
size_t atf_encode_event(const Atf__V4__Event *ev, uint8_t *out, size_t cap);

/* Converts `r` with `event_id` and frames it into out[0..cap) (see atf_encode_event). When the
 * returned size exceeds cap nothing is written, and *converted tells what the caller has: 1 = the
 * converted event is in e->scratch.event (reference path; the size is exact), 0 = nothing (fast
 * path; the size is an upper bound: give it that much room and call again).
 * REQUIRES: r passed atf_record_check() for the encoder's architecture and symbol table. */
size_t atf_encode_record(atf_encoder *e, const atf_ring_record *r, uint64_t event_id, uint8_t *out,
                         size_t cap, int *converted);

/* The hot step alone: a CALL or RETURN encoded on the fast path into out[0..room) when its bound
 * fits there. Returns the framed size, or 0 when it did nothing (another kind, no room for the
 * bound, or no fast tables): the caller then takes atf_encode_record(). Inline, so that the
 * writer's walk over a batch compiles the encoder into its loop. `pdep`: a constant; 1 only in a
 * function compiled with target("bmi2") and called when e->fast.use_pdep is set.
 * REQUIRES: r passed atf_record_check() for the encoder's architecture and symbol table. */
ATF_FAST_INLINE size_t atf_encode_hot(atf_encoder *e, const atf_ring_record *r, uint64_t event_id,
                                      uint8_t *out, size_t room, const int pdep) {
  if (ATF_UNLIKELY(!e->fast_ok) || (r->kind != ATF_KIND_CALL && r->kind != ATF_KIND_RETURN)) {
    return 0;
  }
  const int call = r->kind == ATF_KIND_CALL;
  size_t symbol_len;
  const char *symbol = atf_symtab_get_len(e->symtab, r->symbol_id, &symbol_len);
  size_t stack_len = call ? r->stack_len : 0;
  if (atf_fast_max_size(symbol_len, r->reg_count, stack_len) > room) return 0;
  if (ATF_UNLIKELY(stack_len > e->max_stack)) {
    stack_len = e->max_stack;
    e->stack_truncations++;
  }
  atf_fast_event f;
  f.kind = call ? ATF_FAST_CALL : ATF_FAST_RETURN;
  f.event_id = event_id;
  f.thread_id = r->thread_id;
  f.timestamp_ns = r->timestamp_ns;
  f.symbol = (const uint8_t *)symbol;
  f.symbol_len = symbol_len;
  f.address = r->address;
  f.regs = atf_record_regs_const(r);
  f.reg_count = r->reg_count;
  f.stack = atf_record_stack_const(r);
  f.stack_len = stack_len;
  f.call_site = atf_record_call_site(r);
  return atf_fast_encode_inline(&e->fast, &e->fast_cache, &f, out, pdep);
}

/* atf_encode_record through the reference path only (protobuf-c), for tests and benchmarks. */
size_t atf_encode_record_reference(atf_encoder *e, const atf_ring_record *r, uint64_t event_id,
                                   uint8_t *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* ATF_WRITER_INTERNAL_ENCODE_H_ */
