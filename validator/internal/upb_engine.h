/* The validator's second record decoder: upb (third_party/upb, patched), giving exactly what
 * atf_decode_record() (decode.h, the nanopb engine) gives for the same bytes: the atf_event fixed
 * fields, the visitor's text chunks and register values, or an atf_decode_error with the same rule
 * and absolute offset. The validator's own record rules (UTF-8, register names, exactly one
 * payload, the timestamp's range, unknown fields counted) are applied here on top of upb, under
 * decode.h's rule names; the cross-record rules stay in validate.c for either engine.
 *
 * The schema. upb has no code generator here: the engine reads proto/atf_v4.proto's
 * FileDescriptorSet (made by protoc at build time and embedded, //proto:atf_v4_descriptor_set)
 * into upb_symtabs and takes message layouts from upb_msgfactory. It changes its in-memory copies
 * in ways that keep every field number and wire type (so upb accepts and rejects the same bytes):
 * the payload oneof is dropped (each payload field is an ordinary submessage field, so two
 * different payloads are both kept, for schema.payload, and upb never reuses one payload's
 * submessage for another), and, in the second view below, every singular string, bytes field
 * and map key is repeated, because the nanopb engine checks every occurrence of a field (UTF-8;
 * the visitor gets each), not only the last one that protobuf keeps. Occurrences of the same
 * submessage merge, as protobuf requires (upb reuses the submessage).
 *
 * One pass per record. First, one upb_decode_ex() of the record's bytes with the register maps read
 * as repeated bytes (upb would allocate a message per map entry, most of its cost), each entry
 * checked by the engine itself: only an entry in its smallest encoding (a non-empty ASCII name,
 * then a non-zero value in a minimal varint) passes. Values are read at layout offsets resolved
 * once at start-up, in one walk that also computes the size of the smallest encoding of what was
 * decoded. When the record is exactly that long (no field occurred twice; every record the writer
 * writes, except one holding a negative int32, which encoders write in 10 bytes), every text is
 * ASCII and every entry passed, no value rule can fail and that pass is final. Otherwise (rare)
 * the record is decoded again with upb decoding the entries as messages and the schema's own
 * labels, which gives every verdict, rule and offset; a record that is not its smallest encoding
 * once more with every occurrence kept; a record with a nameless register entry (invalid) once
 * more to locate the entry. atf_upb_engine_get_stats() counts each.
 *
 * What upb reports and what the engine adds. A failed upb_decode_ex() gives the first byte of the
 * innermost field it was decoding (patch 0013): the failing tag, which is decode.h's "wire.decode"
 * offset. The engine's unknown-field handler rejects, at the field's tag, a known field number
 * with the wrong wire type (upb would keep it as unknown) and any group, and counts the other
 * unknown fields. The stricter varint rules of the nanopb engine are upb's after patch 0011 (tags
 * and lengths at most 5 bytes and 32 bits, no varint above 2^64-1) and patch 0016 (an int32 varint
 * must be a sign-extended 32-bit value), so both engines reject the same tags and int32 values,
 * where Google's C++ protobuf keeps their low 32 bits.
 *
 * What the nanopb engine decodes and this one does not (also in docs/security.md):
 *   - Records of 2^31 bytes or more (only with --max-record-size above 2 GiB) and records whose
 *     decoding needs more arena memory than the engine's limit are not decoded: the error's rule is
 *     ATF_UPB_RULE_LIMIT, which is not a defect of the record (the caller decides; see below).
 *
 * Threads: the schema is built once per process (pthread_once) and then only read; an engine is
 * one thread's working memory. */
#ifndef ATF_VALIDATOR_INTERNAL_UPB_ENGINE_H_
#define ATF_VALIDATOR_INTERNAL_UPB_ENGINE_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "validator/internal/decode.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The rule of an error that is the engine's limit, not the record's defect: a record of 2^31 bytes
 * or more, or one whose decoded messages need more than the engine's arena limit. */
#define ATF_UPB_RULE_LIMIT "engine.limit"

/* Arena memory one record may use by default. upb allocates a message and an array slot per map
 * entry: a 1 MiB FunctionCall of 5-byte register entries ("RAX" style names cut to one letter)
 * needs 17 MiB; of 2-byte empty entries (invalid, and located again) 56 MiB; of 4-byte entries
 * with an empty key (decoded with every occurrence kept, then located) more than 64 MiB, which
 * gives ATF_UPB_RULE_LIMIT. Records in the reader's window hold at most 1 MiB. */
#define ATF_UPB_DEFAULT_ARENA_LIMIT (64u * 1024u * 1024u)

typedef struct atf_upb_engine atf_upb_engine;

/* One thread's decoder. max_arena_bytes: arena memory one record may use beyond the engine's fixed
 * 64 KiB block (0: ATF_UPB_DEFAULT_ARENA_LIMIT). Returns NULL when memory cannot be allocated or
 * the embedded schema cannot be loaded (atf_upb_engine_schema_error() says why). */
atf_upb_engine *atf_upb_engine_new(size_t max_arena_bytes);
void atf_upb_engine_free(atf_upb_engine *e);

/* NULL when the schema loaded, else a description (for a message before giving up). */
const char *atf_upb_engine_schema_error(void);

/* Decodes and checks one record body, data[0, len), which starts at absolute input offset `offset`.
 * `visitor` may be NULL. Same contract as atf_decode_record(): returns true when the record is
 * valid (ev filled); otherwise fills *err (rule, absolute offset, message; first error wins, in
 * the nanopb engine's order). The visitor is called only for a valid record, after all checks,
 * payload field by field (decode.h allows chunks before validity is known; this engine never sends
 * any for a record it rejects). data may be NULL when len is 0. */
bool atf_upb_decode_record(atf_upb_engine *e, const uint8_t *data, size_t len, uint64_t offset,
                           const atf_event_visitor *visitor, atf_event *ev, atf_decode_error *err);

/* Arena bytes the last atf_upb_decode_record() used beyond the fixed block (for tests/benches). */
size_t atf_upb_engine_last_arena_bytes(const atf_upb_engine *e);

/* How often the engine needed more than one pass (see "One pass per record" above). */
typedef struct atf_upb_engine_stats {
  uint64_t records;    /* atf_upb_decode_record() calls */
  uint64_t first_pass; /* settled by the first pass alone (register entries read as bytes) */
  uint64_t redecoded;  /* decoded again with every occurrence kept: not the smallest encoding */
  uint64_t located;    /* decoded again to find a nameless register entry (an invalid record) */
} atf_upb_engine_stats;

void atf_upb_engine_get_stats(const atf_upb_engine *e, atf_upb_engine_stats *out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ATF_VALIDATOR_INTERNAL_UPB_ENGINE_H_ */
