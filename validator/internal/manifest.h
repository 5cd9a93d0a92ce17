/* The session manifest (trace.json): parsed with the strict JSON reader, keys and types checked.
 * The cross-checks against events.bin (eventCount, bytesWritten, time range) are the caller's; this
 * extracts the values they need, exactly. */
#ifndef ATF_VALIDATOR_INTERNAL_MANIFEST_H_
#define ATF_VALIDATOR_INTERNAL_MANIFEST_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "validator/internal/reader.h" /* ATF_MUST_USE */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct atf_manifest_uint {
  bool present; /* the key exists and holds a valid non-negative integer */
  uint64_t value;
  size_t offset; /* of the value in trace.json */
} atf_manifest_uint;

typedef struct atf_manifest {
  atf_manifest_uint pid, session_id, time_start_ns, time_end_ns, event_count, bytes_written;
  atf_manifest_uint dropped_events; /* optional */
  bool has_recovered, recovered;    /* optional */
} atf_manifest;

/* Reports one defect: offset in trace.json, rule name, message. */
typedef void (*atf_manifest_error_fn)(void *ctx, uint64_t offset, const char *rule,
                                      const char *message);

/* Checks data[0, len) and fills *out with what could be read. Returns false when memory ran out. */
ATF_MUST_USE bool atf_manifest_check(const char *data, size_t len, atf_manifest *out,
                                     atf_manifest_error_fn on_error, void *ctx);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ATF_VALIDATOR_INTERNAL_MANIFEST_H_ */
