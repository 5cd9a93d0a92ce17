/* The validator's record engine: which decoder checks a record (docs/format.md, "Engines").
 *
 * Everything above it (validate.c's rules across records, atf-dump, atf-recover) decodes records
 * through atf_engine_decode(), which has atf_decode_record()'s contract (decode.h), whatever the
 * engine:
 *   - ATF_ENGINE_UPB: the upb engine (upb_engine.h). A record it cannot decode within its limits
 *     (rule ATF_UPB_RULE_LIMIT: ATF_ENGINE_UPB_ARENA_LIMIT, 2^31 bytes or more) or that is
 *     larger than the reader's window (upb decodes from contiguous memory) is decoded by the
 *     nanopb engine instead: a fallback, counted (atf_engine.fallbacks), which the report shows
 *     as a warning.
 *   - ATF_ENGINE_NANOPB: the nanopb engine (decode.h).
 *   - ATF_ENGINE_BOTH: both engines decode every record and must agree on the verdict, the rule
 *     and offset of a rejection, the fixed fields (atf_event) and every string, bytes and register
 *     value (compared as one 64-bit hash per text field, chunking and field order aside). Any
 *     difference is the record's error, rule ATF_ENGINE_RULE_DISAGREE at the record's first byte,
 *     whose message says what differed. A upb fallback record is decoded by nanopb alone
 *     (counted as above). The caller's visitor sees the upb engine's values.
 *
 * Threads: an atf_engine is one thread's working memory (the upb engine's arena). */
#ifndef ATF_VALIDATOR_INTERNAL_ENGINE_H_
#define ATF_VALIDATOR_INTERNAL_ENGINE_H_

#include <stdbool.h>
#include <stdint.h>

#include "validator/internal/decode.h"
#include "validator/internal/reader.h"
#include "validator/internal/upb_engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Values equal to atf_validate_engine's (validate.h). */
typedef enum atf_engine_kind {
  ATF_ENGINE_UPB = 0,
  ATF_ENGINE_NANOPB = 1,
  ATF_ENGINE_BOTH = 2,
} atf_engine_kind;

#define ATF_ENGINE_RULE_DISAGREE "engine.disagree"

/* Arena memory the upb engine may use for one record beyond its fixed 64 KiB block (its own
 * default is 64 MiB): a record needing more falls back to the nanopb engine. A writer's record (a
 * few dozen registers at most) needs a few KiB; a 1 MiB record of 5-byte register entries needs
 * 17 MiB (upb_engine.h) and falls back. So each decoding thread holds at most the window's record,
 * 64 KiB and this, whatever the input declares. */
#define ATF_ENGINE_UPB_ARENA_LIMIT (8u * 1024u * 1024u)

/* Test-only: when set (never in the tools), called after the upb engine decoded a record in
 * ATF_ENGINE_BOTH mode, before the comparison, with what it produced (its verdict, fixed fields or
 * error, and its ATF_TEXT_FIELD_COUNT value hashes); it may change them. It is how the tests make
 * the engines disagree on purpose. */
typedef void (*atf_engine_tamper_fn)(atf_event *ev, atf_decode_error *err, bool *ok,
                                     uint64_t *text_hashes);
extern atf_engine_tamper_fn atf_engine_test_tamper;

typedef struct atf_engine {
  atf_engine_kind kind;
  atf_upb_engine *upb; /* NULL with ATF_ENGINE_NANOPB */
  uint64_t fallbacks;  /* records the upb engine left to the nanopb engine */
  uint64_t disagreements;
} atf_engine;

/* "upb", "nanopb", "both"; NULL outside the enum. */
const char *atf_engine_name(atf_engine_kind kind);
/* Parses one of those names. */
bool atf_engine_parse(const char *text, atf_engine_kind *kind);

/* Returns false when memory runs out or the upb engine's schema does not load (the reason is then
 * atf_upb_engine_schema_error()). */
ATF_MUST_USE bool atf_engine_init(atf_engine *e, atf_engine_kind kind);
void atf_engine_free(atf_engine *e);

/* atf_decode_record() through the engine (see above). */
ATF_MUST_USE bool atf_engine_decode(atf_engine *e, atf_reader *r, uint64_t off, uint64_t len,
                                    const atf_event_visitor *visitor, atf_event *ev,
                                    atf_decode_error *err);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ATF_VALIDATOR_INTERNAL_ENGINE_H_ */
