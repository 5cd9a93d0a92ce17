/* The validator's own Event decoder, the nanopb engine: nanopb's stream primitives and tables
 * built from its generated descriptors (//proto:atf_v4_nanopb), plus the per-record schema rules.
 * Shared by atf-validate, atf-dump and the tests; nothing here is shared with the writer.
 *
 * A record is checked in one pass over its bytes (decode.c): every tag and value is read once,
 * through nanopb (pb_decode_varint, pb_make_string_substream, pb_read, pb_skip_field), and checked
 * as it is read:
 *   - structure: every tag is looked up in the schema; known fields must carry their schema's wire
 *     type, submessages are walked recursively, unknown fields are counted and skipped. Nested
 *     lengths must stay inside their parent; tags and lengths take at most 5 bytes, other varints
 *     at most 10 (varint.h's limits: tags and lengths at most 2^32-1, int32 values sign-extended
 *     32-bit ones).
 *   - values: the fixed fields are kept; strings, bytes and map entries are validated (UTF-8,
 *     register names) and passed to the visitor: in place when the record sits in the reader's
 *     window, else in chunks of at most ATF_DECODE_CHUNK bytes, with UTF-8 validated across chunk
 *     boundaries.
 * Then the record-level rules: exactly one payload, a valid timestamp. A structural error anywhere
 * in the record is its error; else the first value error in wire order; else the first
 * record-level one. The same code finds an error and describes it; the message is written only
 * when the caller keeps it (atf_decode_error.quiet). */
#ifndef ATF_VALIDATOR_INTERNAL_DECODE_H_
#define ATF_VALIDATOR_INTERNAL_DECODE_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "validator/internal/reader.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ATF_DECODE_CHUNK 4096

/* Payload kinds, numbered by their field number in Event. */
typedef enum atf_payload {
  ATF_PAYLOAD_NONE = 0,
  ATF_PAYLOAD_TRACE_START = 10,
  ATF_PAYLOAD_TRACE_END = 11,
  ATF_PAYLOAD_FUNCTION_CALL = 12,
  ATF_PAYLOAD_FUNCTION_RETURN = 13,
  ATF_PAYLOAD_SIGNAL_DELIVERY = 14,
} atf_payload;

/* Text and bytes fields, as delivered to a visitor. */
typedef enum atf_text_field {
  ATF_TEXT_EXECUTABLE_PATH = 0,
  ATF_TEXT_ARG = 1, /* TraceStart.args: each occurrence is the next element */
  ATF_TEXT_OPERATING_SYSTEM = 2,
  ATF_TEXT_CPU_ARCHITECTURE = 3,
  ATF_TEXT_SYMBOL = 4,      /* FunctionCall.symbol or FunctionReturn.symbol */
  ATF_TEXT_STACK = 5,       /* FunctionCall.stack_shallow_copy (bytes, not UTF-8) */
  ATF_TEXT_SIGNAL_NAME = 6, /* SignalDelivery.name */
  ATF_TEXT_REGISTER_NAME = 7,
  ATF_TEXT_FIELD_COUNT = 8,
} atf_text_field;

#define ATF_CHUNK_FIRST 1u /* first chunk of an occurrence (a repeated singular field restarts) */
#define ATF_CHUNK_LAST 2u  /* last chunk of an occurrence */

/* Receives a record's variable-length fields as they are decoded. Chunks arrive before the record
 * is known to be valid: a visitor that keeps them must drop them when decoding fails. */
typedef struct atf_event_visitor {
  void *ctx;
  void (*text)(void *ctx, atf_text_field field, const uint8_t *data, size_t len, unsigned flags);
  /* One map entry of the payload's register map is complete; its name came just before as
   * ATF_TEXT_REGISTER_NAME chunks. */
  void (*reg)(void *ctx, uint64_t value);
} atf_event_visitor;

/* The fixed-size fields of a decoded record. */
typedef struct atf_event {
  uint64_t event_id;
  int32_t thread_id;
  int64_t seconds;
  int32_t nanos;
  uint64_t time_ns; /* seconds * 1e9 + nanos (the rules guarantee it fits) */
  atf_payload payload;
  int32_t exit_code;     /* TraceEnd */
  uint64_t address;      /* FunctionCall, FunctionReturn */
  uint64_t call_site;    /* FunctionCall (field 5; 0 when absent) */
  int32_t signal_number; /* SignalDelivery */
  uint64_t unknown_fields;
} atf_event;

typedef struct atf_decode_error {
  const char *rule; /* stable rule name, e.g. "wire.decode"; NULL when the record is valid */
  uint64_t offset;  /* absolute input offset where the defect was detected */
  char message[192];
  /* Set by the caller before the call: fill in rule and offset only, leave message empty (a report
   * past its max_errors keeps no message, and formatting one was most of the cost of garbage). */
  bool quiet;
} atf_decode_error;

/* The validator's per-record decoder: this function and the types above are the whole interface
 * between the rules across records (validate.c, which frames) and a record's decoding, so another
 * engine can stand behind it. Decodes and checks the record body [off, off + len) of `r`; `visitor`
 * may be NULL. Returns true when the record is valid; otherwise fills *err (first error wins), and
 * rule "io" means the input could not be read (not a defect of the record). */
ATF_MUST_USE bool atf_decode_record(atf_reader *r, uint64_t off, uint64_t len,
                                    const atf_event_visitor *visitor, atf_event *ev,
                                    atf_decode_error *err);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ATF_VALIDATOR_INTERNAL_DECODE_H_ */
