/* internal/batch.h: the checks every ring record passes before it becomes bytes.
 *
 * Records come from traced threads' rings and are not trusted to be well formed (a tracer bug or a
 * torn ring must not make the writer read out of bounds or emit a wrong event). One per-record
 * check, atf_record_check(), serves both entry points: atf_writer_append() runs it on each record
 * right before encoding it (one walk; a bad record stops the batch, the records before it are
 * kept), and atf_writer_write() runs atf_batch_check() over the whole batch first so that a bad
 * batch writes nothing.
 */
#ifndef ATF_WRITER_INTERNAL_BATCH_H_
#define ATF_WRITER_INTERNAL_BATCH_H_

#include <stddef.h>
#include <stdint.h>

#include "writer/atf/ring_record.h"
#include "writer/atf/writer.h"
#include "writer/internal/compiler.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Registers each record kind may carry on one architecture, indexed by kind (PAD..TRACE_END). */
typedef struct atf_record_limits {
  uint8_t max_regs[ATF_KIND_TRACE_END + 1];
} atf_record_limits;

void atf_record_limits_init(atf_record_limits *l, atf_arch arch);

/* The rule `r` breaks, or NULL when it is well formed. `room`: bytes of the batch from r on.
 * REQUIRES: room >= ATF_RECORD_HEADER_SIZE. */
static inline const char *atf_record_check(const atf_ring_record *r, size_t room,
                                           const atf_record_limits *l, uint32_t symbol_count) {
  if (r->size < ATF_RECORD_HEADER_SIZE || r->size % ATF_RECORD_ALIGN != 0) return "size";
  if (r->size > room) return "size beyond batch";
  if (r->kind == ATF_KIND_PAD) return NULL; /* filler: only its size matters */
  if (r->kind > ATF_KIND_TRACE_END) return "kind";
  if (r->flags != 0 && !(r->kind == ATF_KIND_CALL && r->flags == ATF_RECORD_FLAG_CALL_SITE)) {
    return "flags";
  }
  if (r->flags == 0 && r->reserved != 0) return "reserved fields";
  if (r->reg_count > l->max_regs[r->kind]) return "reg_count";
  if (r->stack_len > (r->kind == ATF_KIND_CALL ? ATF_RECORD_MAX_STACK : 0u)) return "stack_len";
  if (r->size != atf_record_size(r->reg_count, r->stack_len)) return "size mismatch";
  if ((r->kind == ATF_KIND_CALL || r->kind == ATF_KIND_RETURN) && r->symbol_id > symbol_count) {
    return "symbol_id";
  }
  return NULL;
}

typedef struct atf_batch_info {
  size_t events;           /* records that become events (all but PAD) */
  size_t trace_end_offset; /* offset of the TRACE_END record; SIZE_MAX when there is none */
  size_t error_offset;     /* on ATF_WRITER_E_BAD_RECORD: offset of the first bad record */
  const char *error_rule;  /* on ATF_WRITER_E_BAD_RECORD: the rule it broke (static string) */
} atf_batch_info;

/* Checks records[0..bytes): each record's size is a multiple of 8, at least the header, within the
 * batch and equal to atf_record_size(reg_count, stack_len); kind is known; flags and reserved are
 * 0; reg_count <= atf_register_count(arch, kind) (0 for TRACE_END); only CALL carries stack bytes
 * (<= ATF_RECORD_MAX_STACK); CALL/RETURN symbol_id <= symbol_count; no event follows a TRACE_END.
 * Returns ATF_WRITER_OK or ATF_WRITER_E_BAD_RECORD (first error wins) and fills *info.
 * REQUIRES: records 8-byte aligned (or bytes == 0). */
ATF_MUST_USE atf_writer_status atf_batch_check(const void *records, size_t bytes, atf_arch arch,
                                               uint32_t symbol_count, atf_batch_info *info);

#ifdef __cplusplus
}
#endif

#endif /* ATF_WRITER_INTERNAL_BATCH_H_ */
