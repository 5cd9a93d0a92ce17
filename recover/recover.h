/* recover/recover.h: turns the session of a process that died (no trace.json, maybe a torn tail)
 * into a valid ATF V4 session, keeping the longest valid prefix of events.bin.
 *
 * The validator library decides what is valid (valid_prefix_bytes: where the longest run of fully
 * valid records from the start ends). A session that validates with its trace.json is never
 * touched; one whose events.bin validates but has no trace.json only gets the manifest. Otherwise:
 *   - bytes after the valid prefix (a torn tail, or records after the first bad one) are cut only
 *     with `truncate`; without it events.bin is left exactly as it is, the manifest records where
 *     the valid prefix ends, and the result is reported as still invalid (a validator must reject
 *     a torn tail: only cutting it makes the session valid);
 *   - a TraceEnd is appended when the (cut) file does not end with one: event_id one past the
 *     last, thread_id 0, the timestamp of the latest event (the process died at an unknown time
 *     after it), exit_code from the options (default -1: unknown);
 *   - trace.json is written atomically (temporary file, fsync, rename, directory fsync) with
 *     "recovered": true and the keys docs/format.md requires. A trace.json that was there is kept
 *     as trace.json.invalid. What a crash lost is not invented: "modules" is empty, "sessionId" 0,
 *     "droppedEvents" absent (the drop counts lived in the dead process).
 */
#ifndef ATF_RECOVER_RECOVER_H_
#define ATF_RECOVER_RECOVER_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Outcomes. The values are stable (atf-recover exits with them). */
typedef enum atf_recover_status {
  ATF_RECOVER_OK = 0,            /* the session validates now */
  ATF_RECOVER_ALREADY_VALID = 1, /* it validated already; nothing was changed */
  ATF_RECOVER_TAIL_KEPT = 2,     /* manifest written, tail kept (no truncate): still invalid */
  ATF_RECOVER_E_USAGE = 3,       /* bad arguments */
  ATF_RECOVER_E_IO = 4,          /* a file could not be read or written (message says which) */
  ATF_RECOVER_E_NO_PREFIX = 5,   /* not even a valid first record: nothing to keep */
  ATF_RECOVER_E_STILL_INVALID = 6 /* recovery ran but the validator still rejects the session */
} atf_recover_status;

const char *atf_recover_strerror(atf_recover_status status);

typedef struct atf_recover_options {
  int truncate;      /* cut everything after the valid prefix */
  int dry_run;       /* report what would be done; change nothing */
  int32_t exit_code; /* TraceEnd.exit_code of an appended TraceEnd; default -1 (unknown) */
} atf_recover_options;

void atf_recover_options_init(atf_recover_options *o);

typedef struct atf_recover_result {
  uint64_t file_bytes;      /* events.bin before recovery */
  uint64_t prefix_bytes;    /* valid prefix */
  uint64_t prefix_records;
  uint64_t tail_bytes;      /* bytes after the prefix (kept or cut) */
  int tail_cut;
  int trace_end_appended;
  int manifest_written;
  uint64_t final_records;   /* records in events.bin afterwards */
  uint64_t final_bytes;
  char message[512];        /* one line: what was done, or why not */
} atf_recover_result;

/* Recovers the session directory `dir` (holding events.bin). `o` may be NULL (defaults). */
atf_recover_status atf_recover_session(const char *dir, const atf_recover_options *o,
                                       atf_recover_result *result);

#ifdef __cplusplus
}
#endif

#endif /* ATF_RECOVER_RECOVER_H_ */
