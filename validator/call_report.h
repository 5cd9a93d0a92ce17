/* call_report.h: per-function call counts and times of a session (atf-dump --format=report).
 *
 * What a function tracer's user reads first: for each function, how often it was called, the time
 * from its calls to their returns (total) and that time minus the time spent in traced callees
 * (self), sorted; for all threads or one. Built on the validator's pass
 * (validator/internal/pass.h), never the writer's code: the records are framed, decoded and checked
 * once, as atf-validate does.
 *
 * Matching: per thread, a FunctionCall opens a frame and the FunctionReturn with the same address
 * closes the innermost open frame of that address. A return whose address is not the innermost
 * frame's closes the nearest matching frame within the 256 innermost ones; the frames above it are
 * left without a return ("unreturned": their returns are not in the file). A return that matches
 * no frame counts as "unmatched". Frames still open at the end of the file (the process ended
 * inside them, e.g. exit() called from a nested function, or the session was cut short) are
 * unreturned too. Only matched pairs contribute time:
 *   total: return time - call time, counted once per outermost activation (a recursive call
 *          inside an activation of the same function on the same thread adds nothing to total);
 *   self:  total of each activation minus the totals of its matched callees.
 * On a session whose events are all there (no drops, every call returned), the counts and times
 * are exact. With drops (the manifest's droppedEvents) they count what the file holds: a dropped
 * call's time shows up in its caller's self time, and a call whose return was dropped has none;
 * the report says so in its header.
 *
 * Bounds (hostile input; each settable lower in the options, for tests): functions (distinct
 * address + symbol) ATF_CALL_REPORT_MAX_FUNCTIONS with at most ATF_CALL_REPORT_MAX_NAME_BYTES of
 * names, threads ATF_CALL_REPORT_MAX_THREADS, open frames ATF_CALL_REPORT_MAX_DEPTH per thread and
 * ATF_CALL_REPORT_MAX_OPEN_FRAMES in all. Events past a bound are counted in
 * `events_over_limits` and left out of the table, and the report says so. Memory grows with the
 * distinct functions, threads and open frames found in the file (at most about 200 MiB at the
 * bounds), never with a size the file declares.
 */
#ifndef ATF_VALIDATOR_CALL_REPORT_H_
#define ATF_VALIDATOR_CALL_REPORT_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "validator/internal/pass.h"
#include "validator/internal/reader.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ATF_CALL_REPORT_MAX_FUNCTIONS (1u << 20)
#define ATF_CALL_REPORT_MAX_NAME_BYTES (64u * 1024u * 1024u)
#define ATF_CALL_REPORT_MAX_THREADS 65536u
#define ATF_CALL_REPORT_MAX_DEPTH (1u << 16)
#define ATF_CALL_REPORT_MAX_OPEN_FRAMES (1u << 20)
#define ATF_CALL_REPORT_SEARCH_DEPTH 256u

typedef enum atf_call_report_sort {
  ATF_CALL_REPORT_SORT_TOTAL = 0, /* total time, descending (default) */
  ATF_CALL_REPORT_SORT_SELF = 1,  /* self time, descending */
  ATF_CALL_REPORT_SORT_CALLS = 2, /* calls, descending */
  ATF_CALL_REPORT_SORT_NAME = 3   /* function name, ascending */
} atf_call_report_sort;

typedef struct atf_call_report_options {
  bool one_thread; /* only events of thread_id */
  int32_t thread_id;
  atf_call_report_sort sort;
  uint64_t max_record_size; /* records longer than this are skipped as invalid (0: 64 MiB) */
  /* The bounds above; 0 = the ATF_CALL_REPORT_MAX_* default, larger values are lowered to it. */
  uint32_t max_functions, max_threads, max_depth, max_open_frames;
} atf_call_report_options;

typedef struct atf_call_report_row {
  const char *symbol; /* as in the events; "" when they carried none */
  uint64_t address;
  uint64_t calls;             /* FunctionCall events */
  uint64_t unreturned;        /* of calls: no matching FunctionReturn in the file */
  uint64_t unmatched_returns; /* FunctionReturn events of this function that closed no call */
  uint64_t total_ns, self_ns;
} atf_call_report_row;

typedef struct atf_call_report {
  atf_call_report_row *rows; /* sorted */
  size_t nrows;
  uint64_t calls, returns; /* FunctionCall / FunctionReturn events of the selected threads */
  uint64_t matched;        /* returns that closed a call */
  uint64_t unreturned, unmatched_returns;
  uint64_t threads; /* threads with function events (selected ones) */
  uint64_t records, invalid_records;
  uint64_t events_over_limits;
  bool stopped_at_framing; /* broken framing: nothing after it was read */
  /* trace.json: droppedEvents (all threads) and droppedEventsByThread for the selected thread */
  bool manifest_read;
  bool has_dropped, has_thread_dropped;
  uint64_t dropped_events, thread_dropped_events;
  char manifest_note[160]; /* why the manifest could not be read, when it could not */
  /* private */
  char *names;
  size_t names_len;
} atf_call_report;

/* Fills defaults: all threads, sort by total time. */
void atf_call_report_options_init(atf_call_report_options *o);

/* Reads one atf-dump option of the report (--thread=TID, --sort=total|self|calls|name).
 * Returns 1 when `arg` was one and parsed, 0 when it is not a report option, -1 when it is one
 * with a bad value (a message naming it is in err). */
int atf_call_report_parse_option(const char *arg, atf_call_report_options *o, char *err,
                                 size_t err_len);

/* The report is built by a hook of the validation pass (validator/internal/pass.h), which frames,
 * decodes and checks every record as atf-validate does; the hook sees each record that decodes
 * (valid or not: a record breaking an order or session rule still counts) and ignores the rest:
 *
 *   atf_call_report_builder *b = atf_call_report_begin(&options, &report);
 *   atf_pass_hooks hooks = {b, false, atf_call_report_on_record};
 *   atf_pass_run(..., &hooks, &validation);        // errors: in validation, as for any format
 *   atf_call_report_finish(b, &validation, manifest, manifest_len);
 *
 * `out` is filled as the records arrive; NULL when memory ran out. `o` must outlive the builder. */
typedef struct atf_call_report_builder atf_call_report_builder;
atf_call_report_builder *atf_call_report_begin(const atf_call_report_options *o,
                                               atf_call_report *out);

/* The pass hook (atf_pass_hooks.on_record); ctx is the builder. Fails (false, `reason` set) when
 * memory ran out or the record could not be read again. */
bool atf_call_report_on_record(void *ctx, atf_reader *reader, const atf_pass_record *rec,
                               char *reason);

/* After a pass that returned ATF_VALIDATE_OK with report `v`: closes the frames still open, reads
 * `manifest` (trace.json's bytes, may be NULL) for drops, sorts the rows; frees the builder.
 * invalid_records: records that did not decode (or were over the size limit), plus one for broken
 * framing. Returns false when memory ran out (out is then freed). */
ATF_MUST_USE bool atf_call_report_finish(atf_call_report_builder *b, const atf_validate_report *v,
                                         const char *manifest, size_t manifest_len);

/* Frees a builder whose pass failed, and its report. NULL is allowed. */
void atf_call_report_abandon(atf_call_report_builder *b);

/* The whole report of an in-memory events.bin (and trace.json's bytes, may be NULL), through
 * atf_pass_run_buffers() with o->max_record_size (0: 64 MiB). Returns false when memory ran out
 * (`err` says so). */
ATF_MUST_USE bool atf_call_report_build(const uint8_t *events, size_t events_len,
                                        const char *manifest, size_t manifest_len,
                                        const atf_call_report_options *o, atf_call_report *out,
                                        char *err, size_t err_len);

/* Prints the report as text: a header of '#' lines (source, threads, counts, drops), then one line
 * per function: total and self time in seconds with nanosecond digits, calls, unreturned, name
 * (0x<address> when the events carried no symbol). Returns false on a write error. */
bool atf_call_report_print(const atf_call_report *rep, const char *source,
                           const atf_call_report_options *o, FILE *out);

void atf_call_report_free(atf_call_report *rep);

/* trace.json beside `events_path` (a path to events.bin), read when it is a regular file no larger
 * than the validator's manifest limit (a FIFO or a huge file is not read): malloc'ed bytes and
 * *len, or NULL. */
char *atf_call_report_read_manifest(const char *events_path, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* ATF_VALIDATOR_CALL_REPORT_H_ */
