/* recover/atf/recover.h: turns the session of a process that died (no trace.json, a torn tail,
 * damaged records) into a valid ATF V4 session, and destroys nothing: whatever it removes it keeps
 * in a side file and names it.
 *
 * Built on the validator: one validation pass (validator/internal/pass.h) says where the valid
 * prefix ends (cut after its first TraceEnd: a session ends there), what it holds (records, last
 * event_id, time range), what TraceStart says (os, arch, executable path) and, for salvage, which
 * records still belong to the session; recover frames and decodes nothing itself. The TraceEnd it
 * appends is encoded by the writer's encoder and trace.json is written by the writer's manifest
 * writer (writer/internal/manifest.h: temporary file, fsync, rename, directory fsync). After a
 * change the session is validated once more.
 *
 * What is kept (events.bin):
 *   - default: events.bin keeps every byte. When its valid prefix is the whole file, a TraceEnd is
 *     appended if it lacks one, and the session validates (OK); otherwise the manifest describes
 *     the file as it is and says where the valid prefix ends (TAIL_KEPT: still invalid);
 *   - truncate: the bytes after the valid prefix are copied to a side file (events.bin.cut, or
 *     events.bin.cut.1, ...: never an existing name), fsync'ed, and only then cut;
 *   - salvage: events.bin is rewritten with every record that decodes and fits the session (a
 *     TraceStart first, event_id increasing, each thread's timestamps non-decreasing, each
 *     FunctionReturn closing its thread's innermost kept FunctionCall, up to the first TraceEnd;
 *     event_id gaps are valid) and the original is kept whole as events.bin.orig
 *     (or .orig.1, ...). Needs room for the copy.
 * A TraceEnd is appended when the kept records do not end with one: event_id one past the last,
 * thread_id 0, the timestamp of the latest kept event (the process died at an unknown time after
 * it), exit_code from the options (default -1: unknown).
 *
 * The manifest: a trace.json that was there is kept as trace.json.invalid (or .invalid.1, ...:
 * a second run never overwrites the first's copy), a stale trace.json.tmp as
 * trace.json.tmp.invalid. The new trace.json keeps what the old one knew, when it was JSON: pid,
 * sessionId, executablePath, clock, writer, modules, droppedEvents, droppedEventsByThread and every
 * other key, verbatim (timeStartNs / timeEndNs widened to cover the kept events); what a crash
 * lost is not invented (no old manifest: sessionId 0, modules [], no droppedEvents; pid from the
 * pid_<pid> directory name; os, arch and executablePath from TraceStart). It adds
 * "recovered": true and "recoveredBy", "recoveredMode", "recoveredSideFiles" and the counts.
 *
 * Checked before anything changes (else ATF_RECOVER_E_CANNOT, nothing touched): an appended
 * TraceEnd can follow the last kept record (its event_id is below 2^64-1), the new trace.json
 * fits in the validator's 1 MiB, and the directory's path leaves room for the manifest's names.
 * Paths are never cut: every file is opened relative to the session directory.
 */
#ifndef ATF_RECOVER_ATF_RECOVER_H_
#define ATF_RECOVER_ATF_RECOVER_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Outcomes. The values are stable (atf-recover exits with them). */
typedef enum atf_recover_status {
  ATF_RECOVER_OK = 0,            /* the session validates now */
  ATF_RECOVER_ALREADY_VALID = 1, /* it validated already; nothing was changed */
  ATF_RECOVER_TAIL_KEPT = 2, /* manifest written, tail kept (no truncate/salvage): still invalid */
  ATF_RECOVER_E_USAGE = 3,   /* bad arguments */
  ATF_RECOVER_E_IO = 4,      /* a file could not be read or written (message says which) */
  ATF_RECOVER_E_NO_PREFIX = 5,     /* not even a valid first record: nothing to keep */
  ATF_RECOVER_E_STILL_INVALID = 6, /* recovery ran but the validator still rejects the session */
  ATF_RECOVER_E_CANNOT = 7         /* the session cannot be made valid this way; nothing changed */
} atf_recover_status;

const char *atf_recover_strerror(atf_recover_status status);

typedef struct atf_recover_options {
  int truncate;      /* cut everything after the valid prefix (kept in events.bin.cut) */
  int salvage;       /* keep every record that still fits the session (original kept whole) */
  int dry_run;       /* report what would be done; change nothing */
  int32_t exit_code; /* TraceEnd.exit_code of an appended TraceEnd; default -1 (unknown) */
  /* The validator's record engine for both of its passes (the look and the final check): an
   * atf_validate_engine value (validator/atf/validate.h); default ATF_VALIDATE_ENGINE_UPB. */
  int engine;
} atf_recover_options;

void atf_recover_options_init(atf_recover_options *o);

typedef struct atf_recover_result {
  uint64_t file_bytes;   /* events.bin before recovery */
  uint64_t prefix_bytes; /* kept: the valid prefix, or (salvage) the salvaged records */
  uint64_t prefix_records;
  uint64_t tail_bytes;      /* bytes of events.bin not kept (kept aside, or left in place) */
  uint64_t dropped_records; /* salvage: complete records not kept */
  int tail_cut;             /* bytes were removed from events.bin (and kept aside) */
  int trace_end_appended;
  int manifest_written;
  uint64_t final_records; /* records in events.bin afterwards */
  uint64_t final_bytes;
  char events_aside[64];   /* side file holding what was removed from events.bin, or "" */
  char manifest_aside[64]; /* where the old trace.json was kept, or "" */
  char message[768];       /* what was done, or why not */
} atf_recover_result;

/* Recovers the session directory `dir` (holding events.bin). `o` may be NULL (defaults). */
atf_recover_status atf_recover_session(const char *dir, const atf_recover_options *o,
                                       atf_recover_result *result);

#ifdef __cplusplus
}
#endif

#endif /* ATF_RECOVER_ATF_RECOVER_H_ */
