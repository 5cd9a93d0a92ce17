/* internal/encode.h: the per-event encoding step of the write path.
 *
 * atf_encode_record() turns one ring record into its framed bytes, [varint length][Event], directly
 * in the writer's output buffer. It is the single place a record becomes bytes, so a specialised
 * encoder (e.g. a single-pass FunctionCall/FunctionReturn encoder) can replace it and be tested for
 * byte equality against it. This version converts with atf_convert_record() and packs with
 * protobuf-c (get_packed_size + pack); neither allocates.
 */
#ifndef ATF_WRITER_INTERNAL_ENCODE_H_
#define ATF_WRITER_INTERNAL_ENCODE_H_

#include <stddef.h>
#include <stdint.h>

#include "atf/ring_record.h"
#include "atf/writer.h"
#include "internal/convert.h"
#include "internal/symtab.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct atf_encoder {
  atf_convert_scratch scratch; /* also fixes the architecture (register names) */
  const atf_symtab *symtab;
  const char *os; /* signal naming */
  uint32_t max_stack;
  uint64_t stack_truncations;
} atf_encoder;

/* REQUIRES: symtab and os outlive the encoder. */
void atf_encoder_init(atf_encoder *e, atf_arch arch, const char *os, const atf_symtab *symtab,
                      uint32_t max_stack);

/* Frames an already converted event into out[0..cap). Returns the framed size; when that is
 * larger than cap nothing is written. */
size_t atf_encode_event(const Atf__V4__Event *ev, uint8_t *out, size_t cap);

/* Converts `r` with `event_id` and frames it into out[0..cap) (see atf_encode_event). When the
 * returned size exceeds cap, the converted event is left in e->scratch.event for the caller.
 * REQUIRES: r passed atf_batch_check() for the encoder's architecture and symbol table. */
size_t atf_encode_record(atf_encoder *e, const atf_ring_record *r, uint64_t event_id,
                         uint8_t *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* ATF_WRITER_INTERNAL_ENCODE_H_ */
