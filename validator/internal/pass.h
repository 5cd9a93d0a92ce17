/* The validation pass with hooks: what atf-dump and atf-recover build on, so that neither frames or
 * decodes events.bin itself. One pass over the file, as atf_validate_path() makes it; a hook sees
 * every record that decodes, in file order, after the rules across records ran on it, with the
 * reader positioned so that the record's bytes can be read (or decoded again, with a visitor). */
#ifndef ATF_VALIDATOR_INTERNAL_PASS_H_
#define ATF_VALIDATOR_INTERNAL_PASS_H_

#include <stdbool.h>
#include <stdint.h>

#include "validator/atf/validate.h"
#include "validator/internal/decode.h"
#include "validator/internal/engine.h"
#include "validator/internal/reader.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct atf_pass_record {
  const atf_frame *frame;
  uint64_t index;      /* record index in events.bin */
  const atf_event *ev; /* its decoded fixed fields */
  bool valid;          /* it broke no rule (allowed rules aside) */
  /* Salvage (atf_pass_hooks.salvage): the record belongs to the salvaged session, the records
   * that decode and, against those kept before them, start with a TraceStart, keep event_id
   * increasing, each thread's timestamps non-decreasing and each FunctionReturn closing its
   * thread's innermost kept FunctionCall (session.call_return), and end at the first TraceEnd. */
  bool keep;
  /* The pass's engine (options.engine), for decoding the record again with a visitor
   * (atf_engine_decode) so that a hook sees what the pass checked. Its counters are the hook's. */
  atf_engine *engine;
} atf_pass_record;

typedef struct atf_pass_hooks {
  void *ctx;
  bool salvage; /* compute atf_pass_record.keep */
  /* Called for each record that decodes. The record's bytes are input bytes
   * [frame->body_offset, + frame->length) of `reader` (atf_reader_get, atf_reader_copy,
   * atf_engine_decode with rec->engine); nothing else reads the input until the hook returns.
   * Returning false ends the pass with ATF_VALIDATE_E_IO and the hook's text in report->reason (at
   * most 255 bytes). */
  bool (*on_record)(void *ctx, atf_reader *reader, const atf_pass_record *rec, char *reason);
} atf_pass_hooks;

/* atf_validate_path() with hooks (NULL: none). `dirfd` and `name` say where PATH is: a session
 * directory or an events.bin file relative to dirfd (AT_FDCWD for a path); `display` names it in
 * messages. */
atf_validate_status atf_pass_run(int dirfd, const char *name, const char *display,
                                 const atf_validate_options *options, const atf_pass_hooks *hooks,
                                 atf_validate_report *report);

/* atf_validate_buffers() with hooks (NULL: none). */
atf_validate_status atf_pass_run_buffers(const uint8_t *events, size_t events_len,
                                         const uint8_t *manifest, size_t manifest_len,
                                         const atf_validate_options *options,
                                         const atf_pass_hooks *hooks, atf_validate_report *report);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ATF_VALIDATOR_INTERNAL_PASS_H_ */
