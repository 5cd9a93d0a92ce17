/* internal/batch.h: checks a batch of ring records before any of it is written.
 *
 * Records come from traced threads' rings and are not trusted to be well formed (a tracer bug or a
 * torn ring must not make the writer read out of bounds or emit a wrong event). The writer accepts
 * a batch only if every record passes, so a bad batch writes nothing.
 */
#ifndef ATF_WRITER_INTERNAL_BATCH_H_
#define ATF_WRITER_INTERNAL_BATCH_H_

#include <stddef.h>
#include <stdint.h>

#include "atf/ring_record.h"
#include "atf/writer.h"
#include "internal/compiler.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct atf_batch_info {
  size_t events;           /* records that become events (all but PAD) */
  size_t trace_end_offset; /* offset of the TRACE_END record; SIZE_MAX when there is none */
  size_t error_offset;     /* on ATF_E_BAD_RECORD: offset of the first bad record */
  const char *error_rule;  /* on ATF_E_BAD_RECORD: the rule it broke (static string) */
} atf_batch_info;

/* Checks records[0..bytes): each record's size is a multiple of 8, at least the header, within the
 * batch and equal to atf_record_size(reg_count, stack_len); kind is known; flags and reserved are
 * 0; reg_count <= atf_register_count(arch, kind) (0 for TRACE_END); only CALL carries stack bytes
 * (<= ATF_RECORD_MAX_STACK); CALL/RETURN symbol_id <= symbol_count; no event follows a TRACE_END.
 * Returns ATF_OK or ATF_E_BAD_RECORD (first error wins) and fills *info.
 * REQUIRES: records 8-byte aligned (or bytes == 0). */
ATF_MUST_USE atf_status atf_batch_check(const void *records, size_t bytes, atf_arch arch,
                           uint32_t symbol_count, atf_batch_info *info);

#ifdef __cplusplus
}
#endif

#endif /* ATF_WRITER_INTERNAL_BATCH_H_ */
