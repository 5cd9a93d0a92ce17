/* atf_validate: checks an ATF V4 session (events.bin + trace.json) against docs/format.md and
 * reports every defect with its byte offset, record index and stable rule name.
 *
 * Every input byte is untrusted. Memory stays bounded whatever the input declares: events.bin is
 * read through a fixed-size window, strings and bytes are checked in chunks, the per-thread table
 * is capped (see ATF_VALIDATE_MAX_THREADS) and so is the error list (ATF_VALIDATE_MAX_ERRORS).
 * Time stays linear in the input whatever it holds: the thread table's hash is seeded at random,
 * and an error past max_errors is only counted. Anything but a regular file (a FIFO, a socket, a
 * device) is refused without being opened for reading. Usable from C and C++. */
#ifndef ATF_VALIDATOR_ATF_VALIDATE_H_
#define ATF_VALIDATOR_ATF_VALIDATE_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATF_VALIDATE_VERSION "1.0.0"

/* Distinct thread ids tracked for "timestamps non-decreasing per thread"; beyond this, events of
 * new threads are not order-checked and one warning is counted. */
#define ATF_VALIDATE_MAX_THREADS 65536u
/* Default limit of one record's length (settable with max_record_size). */
#define ATF_VALIDATE_DEFAULT_MAX_RECORD (64u * 1024u * 1024u)
/* trace.json larger than this is rejected (rule manifest.too_large) rather than read. */
#define ATF_VALIDATE_MAX_MANIFEST (1024u * 1024u)
/* The largest max_errors honoured (errors kept in each list: 256 bytes each, 16 MiB). */
#define ATF_VALIDATE_MAX_ERRORS 65536u
/* TraceStart strings kept in the report: at most this many bytes each (see atf_validate_text). */
#define ATF_VALIDATE_MAX_TEXT ATF_VALIDATE_MAX_MANIFEST
/* Record index of errors that belong to no record (manifest rules, empty file). */
#define ATF_VALIDATE_NO_RECORD UINT64_MAX

/* Outcome of a call, named in the toolkit's one scheme (ATF_<MODULE>_E_*, as ATF_RECOVER_E_* and
 * ATF_TRACER_E_*). Values are fixed: they are those of the earlier names ATF_VALIDATE_EUSAGE (1),
 * ATF_VALIDATE_EIO (2) and ATF_VALIDATE_ENOMEM (3), which are gone. */
typedef enum atf_validate_status {
  ATF_VALIDATE_OK = 0,      /* the input was read; report->valid says whether it conforms */
  ATF_VALIDATE_E_USAGE = 1, /* bad arguments (no path, NULL buffers, zero max_record_size, */
                            /* unknown engine) */
  ATF_VALIDATE_E_IO = 2,    /* a file is missing or unreadable, or the upb engine's embedded */
                            /* schema did not load (report->reason says which) */
  ATF_VALIDATE_E_NO_MEMORY = 3,
} atf_validate_status;

const char *atf_validate_strerror(atf_validate_status status);

/* Payload kinds, in the order of report->counts. */
typedef enum atf_validate_payload {
  ATF_VALIDATE_TRACE_START = 0,
  ATF_VALIDATE_TRACE_END = 1,
  ATF_VALIDATE_FUNCTION_CALL = 2,
  ATF_VALIDATE_FUNCTION_RETURN = 3,
  ATF_VALIDATE_SIGNAL_DELIVERY = 4,
  ATF_VALIDATE_PAYLOAD_COUNT = 5,
} atf_validate_payload;

/* "trace_start", "trace_end", ... (the Event field names). */
const char *atf_validate_payload_name(atf_validate_payload payload);

/* The rules of docs/format.md. Values are fixed; ATF_VALIDATE_RULE_BIT(rule) is its bit in a mask.
 */
typedef enum atf_validate_rule {
  ATF_RULE_FRAMING_VARINT = 0,
  ATF_RULE_FRAMING_TOO_LARGE = 1,
  ATF_RULE_FRAMING_TRUNCATED = 2,
  ATF_RULE_WIRE_DECODE = 3,
  ATF_RULE_SCHEMA_PAYLOAD = 4,
  ATF_RULE_SCHEMA_TIMESTAMP = 5,
  ATF_RULE_SCHEMA_UTF8 = 6,
  ATF_RULE_SCHEMA_REGISTER_NAME = 7,
  ATF_RULE_ORDER_EVENT_ID = 8,
  ATF_RULE_ORDER_TIMESTAMP = 9,
  ATF_RULE_SESSION_FIRST = 10,
  ATF_RULE_SESSION_LAST = 11,
  ATF_RULE_SESSION_DUPLICATE_START = 12,
  ATF_RULE_SESSION_DUPLICATE_END = 13,
  ATF_RULE_MANIFEST_JSON = 14,
  ATF_RULE_MANIFEST_DUPLICATE_KEY = 15,
  ATF_RULE_MANIFEST_TYPE = 16,
  ATF_RULE_MANIFEST_RANGE = 17,
  ATF_RULE_MANIFEST_MISSING_KEY = 18,
  ATF_RULE_MANIFEST_UUID = 19,
  ATF_RULE_MANIFEST_TOO_LARGE = 20,
  ATF_RULE_MANIFEST_EVENT_COUNT = 21,
  ATF_RULE_MANIFEST_BYTES_WRITTEN = 22,
  ATF_RULE_MANIFEST_TIME_RANGE = 23,
  ATF_RULE_SESSION_CALL_RETURN = 24,
  ATF_RULE_ENGINE_DISAGREE =
      25, /* engine "both": the upb and nanopb engines decoded a record differently */
  ATF_RULE_COUNT = 26,
} atf_validate_rule;

#define ATF_VALIDATE_RULE_BIT(rule) (UINT64_C(1) << (rule))
/* The rules that may be allowed (turned into warnings): those checked after a record decoded
 * (order.*, session.*) and the manifest's (manifest.*). A record that breaks a framing, wire or
 * schema rule cannot be read on, so those always stay errors, and so does engine.disagree. */
#define ATF_VALIDATE_ALLOWABLE_RULES                                                         \
  (((UINT64_C(1) << ATF_RULE_COUNT) - 1) & ~((UINT64_C(1) << ATF_RULE_ORDER_EVENT_ID) - 1) & \
   ~ATF_VALIDATE_RULE_BIT(ATF_RULE_ENGINE_DISAGREE))
/* Profile "original": only what the original ATF V4 format states is checked (framing, wire,
 * schema, UTF-8, manifest syntax, types, required keys, counts and sizes); the rules this toolkit
 * adds become warnings: order.*, session.* (session.call_return included), manifest.uuid and
 * manifest.time_range. */
#define ATF_VALIDATE_PROFILE_ORIGINAL                                                             \
  (ATF_VALIDATE_RULE_BIT(ATF_RULE_ORDER_EVENT_ID) |                                               \
   ATF_VALIDATE_RULE_BIT(ATF_RULE_ORDER_TIMESTAMP) |                                              \
   ATF_VALIDATE_RULE_BIT(ATF_RULE_SESSION_FIRST) | ATF_VALIDATE_RULE_BIT(ATF_RULE_SESSION_LAST) | \
   ATF_VALIDATE_RULE_BIT(ATF_RULE_SESSION_DUPLICATE_START) |                                      \
   ATF_VALIDATE_RULE_BIT(ATF_RULE_SESSION_DUPLICATE_END) |                                        \
   ATF_VALIDATE_RULE_BIT(ATF_RULE_MANIFEST_UUID) |                                                \
   ATF_VALIDATE_RULE_BIT(ATF_RULE_MANIFEST_TIME_RANGE) |                                          \
   ATF_VALIDATE_RULE_BIT(ATF_RULE_SESSION_CALL_RETURN))

/* "framing.varint", ... (docs/format.md); "unknown" outside the enum. */
const char *atf_validate_rule_name(atf_validate_rule rule);
/* Sets *mask to the bit of the rule named `text`, or to the bits of a group written "order.*".
 * Returns false when no rule matches. */
bool atf_validate_rule_parse(const char *text, uint64_t *mask);

/* The record decoder (docs/format.md, "Engines"). Values are fixed. */
typedef enum atf_validate_engine {
  /* The upb engine (third_party/upb, patched). A record it cannot decode within its bounds (8 MiB
   * of arena memory, 2^31 bytes or more, or larger than the read window) is decoded by the nanopb
   * engine instead: counted in report->engine_fallbacks, a warning. */
  ATF_VALIDATE_ENGINE_UPB = 0,
  ATF_VALIDATE_ENGINE_NANOPB = 1, /* the nanopb engine */
  /* Both decode every record; any difference (verdict, rule, offset, values) is an error of rule
   * engine.disagree, so a record passes only when two unrelated decoders agree on it. */
  ATF_VALIDATE_ENGINE_BOTH = 2,
} atf_validate_engine;

/* "upb", "nanopb", "both"; "unknown" outside the enum. */
const char *atf_validate_engine_name(atf_validate_engine engine);
/* Parses one of those names; false when `text` is none of them. */
bool atf_validate_engine_parse(const char *text, atf_validate_engine *engine);

typedef struct atf_validate_options {
  uint64_t max_record_size; /* records longer than this: framing.too_large (default 64 MiB) */
  /* Errors kept in the report (default 1000, at most ATF_VALIDATE_MAX_ERRORS); all are counted.
   * Past it an error costs a counter increment: no message is formatted. */
  size_t max_errors;
  size_t window_size; /* read buffer for events.bin (default 1 MiB, at least 64 KiB) */
  /* Threads decoding records, the calling one included (default 1; 0: one per online CPU; at most
   * 8). The report does not depend on it. atf-validate uses 0. How much a second thread brings,
   * on an idle and on a busy machine: README, Performance, "The validator". */
  unsigned threads;
  /* Called now and then with bytes of events.bin checked so far and the total; may be NULL. */
  void (*progress)(uint64_t done, uint64_t total, void *arg);
  void *progress_arg;
  /* Rules whose violations are warnings (report->rule_warnings), not errors:
   * ATF_VALIDATE_RULE_BIT()s of ATF_VALIDATE_ALLOWABLE_RULES (other bits are ignored), e.g.
   * ATF_VALIDATE_PROFILE_ORIGINAL. Default 0: every rule is an error. Evaluation goes on past an
   * allowed violation, so it never hides an error of the same record. */
  uint64_t allowed_rules;
  /* The record decoder (default ATF_VALIDATE_ENGINE_UPB). The report does not depend on it,
   * except for engine_fallbacks and, with ATF_VALIDATE_ENGINE_BOTH, engine.disagree errors. */
  atf_validate_engine engine;
} atf_validate_options;

/* Fills in the defaults. */
void atf_validate_options_init(atf_validate_options *options);

typedef struct atf_validate_error {
  const char *file; /* "events.bin" or "trace.json" */
  uint64_t offset;  /* byte offset in that file where the defect was detected */
  uint64_t record;  /* index of the record in events.bin, or ATF_VALIDATE_NO_RECORD */
  const char *rule; /* stable rule name, e.g. "framing.truncated" (docs/format.md lists them) */
  char message[224];
} atf_validate_error;

/* A string of the input, copied: data[0, len) and a NUL after it (data may hold NULs too).
 * truncated: the field was longer than ATF_VALIDATE_MAX_TEXT; len is then that limit. */
typedef struct atf_validate_text {
  char *data; /* NULL when the field was absent or empty (len 0) */
  size_t len;
  bool truncated;
} atf_validate_text;

typedef struct atf_validate_report {
  bool valid;                                  /* no error at all (warnings do not count) */
  uint64_t records;                            /* complete records in events.bin */
  uint64_t bytes;                              /* size of events.bin */
  uint64_t counts[ATF_VALIDATE_PAYLOAD_COUNT]; /* decoded records by payload */
  uint64_t threads;    /* distinct thread_id values (at most ATF_VALIDATE_MAX_THREADS) */
  bool threads_capped; /* more threads than the table holds */
  bool has_time;       /* at least one record decoded */
  uint64_t time_min_ns, time_max_ns;
  uint64_t
      warnings; /* unknown fields + thread-table overflow + calls_capped + rule_warning_count */
                /* + engine_fallbacks */
  uint64_t unknown_fields;
  atf_validate_engine engine; /* the engine that was asked for */
  /* Records the upb engine could not decode within its bounds and left to the nanopb engine
   * (engines upb and both; see atf_validate_engine). A warning each. */
  uint64_t engine_fallbacks;
  /* Recovery: the longest run of records from the start that are each fully valid, ending at the
   * first TraceEnd (a session ends there). Truncating events.bin at valid_prefix_bytes leaves
   * only valid records. */
  uint64_t valid_prefix_bytes; /* byte offset where the last of them ends */
  uint64_t valid_prefix_records;
  uint64_t valid_prefix_last_event_id;                         /* of its last record (if any) */
  uint64_t valid_prefix_time_min_ns, valid_prefix_time_max_ns; /* over its records (if any) */
  bool valid_prefix_ends_session;                              /* its last record is a TraceEnd */
  /* The first TraceStart that decoded (has_trace_start): its strings, for a rebuilt manifest. */
  bool has_trace_start;
  atf_validate_text executable_path, operating_system, cpu_architecture;
  /* Manifest. */
  bool manifest_checked;   /* trace.json was found and its rules applied */
  bool has_dropped_events; /* optional key droppedEvents */
  uint64_t dropped_events;
  bool has_recovered; /* optional key recovered */
  bool recovered;
  /* Errors: error_count counts all; the first errors_len (<= max_errors) are kept. */
  uint64_t error_count;
  size_t errors_len;
  atf_validate_error *errors;
  /* Violations of allowed rules (options.allowed_rules), listed apart: they do not make the input
   * invalid. Counted in rule_warning_count (and in warnings); the first max_errors are kept. */
  uint64_t allowed_rules; /* the mask that was applied */
  uint64_t rule_warning_count;
  size_t rule_warnings_len;
  atf_validate_error *rule_warnings;
  char reason[256]; /* when a call fails (ATF_VALIDATE_E_*): why, one line */
  /* session.call_return past its memory budget (docs/format.md): calls made while the open-call
   * budget was full were counted, not stored (one warning), and calls_unchecked returns were then
   * checked for depth only, not for their address. */
  bool calls_capped;
  uint64_t calls_unchecked;
  /* Broken framing (framing.varint, framing.truncated) ended the pass: nothing after it was read.
   */
  bool stopped_at_framing;
} atf_validate_report;

/* Validates PATH: a session directory holding events.bin (and normally trace.json), or an
 * events.bin file (trace.json taken from the same directory when present). options may be NULL
 * (defaults). Always call atf_validate_report_free(report) afterwards. */
atf_validate_status atf_validate_path(const char *path, const atf_validate_options *options,
                                      atf_validate_report *report);

/* Validates in-memory contents. manifest may be NULL (manifest rules skipped). */
atf_validate_status atf_validate_buffers(const uint8_t *events, size_t events_len,
                                         const uint8_t *manifest, size_t manifest_len,
                                         const atf_validate_options *options,
                                         atf_validate_report *report);

/* Releases what the report owns; the report may be reused. */
void atf_validate_report_free(atf_validate_report *report);

/* Writes the report as one JSON object and a newline. uint64 values are JSON integers with all
 * their digits. Returns false on a write error. */
bool atf_validate_report_write_json(const atf_validate_report *report, FILE *out);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ATF_VALIDATOR_ATF_VALIDATE_H_ */
