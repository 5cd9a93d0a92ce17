/* atf-dump: prints an ATF V4 events.bin as JSON Lines (every field) or as Chrome Trace Event JSON
 * (Perfetto UI, chrome://tracing).
 *
 * Built on the validation pass (internal/pass.h), so every rule of docs/format.md is checked as
 * atf-validate checks it, and nothing here frames the file: every record that decodes is printed,
 * even one that breaks an order, session or manifest rule; only records that do not decode are
 * left out. The rules' errors go to stderr after the records (at most --max-errors of them, then
 * how many more); the exit status is then 1. Exit status: 0 every rule holds, 1 some rule broken,
 * 2 usage or I/O error.
 *
 * Memory does not grow with what a record holds beyond the record itself: a record is printed
 * from its bytes in place (in the reader's window, or, when larger than the window, copied whole
 * into one buffer of its size, at most --max-record-size), in pieces of at most 64 KiB. Its
 * repeated field (args or a register map) is formatted into a buffer of at most 1 MiB; a larger
 * one is printed by decoding the record once more, streaming the elements. So the peak is about
 * one record plus 3 MiB (plus the upb engine's arena, at most 8 MiB: internal/engine.h), however
 * the record's bytes expand when escaped.
 *
 * Chrome output is balanced for any input (ours or not, with drops or not): per thread, a
 * FunctionCall is a B and the FunctionReturn that closes the innermost open call (internal/
 * call_tree.h, in bounded memory) an E; a return of another address than that call's still closes
 * it (its args say which address was open); a return that closes nothing becomes an instant event
 * ("unmatched_return" in its args); calls still open at the end get an E at their thread's latest
 * timestamp ("unclosed" in its args). Threads beyond the call tree's table (65 536) have their
 * calls and returns printed as instant events. A viewer orders a thread's events by time: a B or E
 * whose timestamp is earlier than an earlier event of its thread (order.timestamp is broken) is
 * printed at the thread's latest time so far, its own time in its args ("ts_in_file_ns").
 *
 * uint64 values: JSON Lines writes them as JSON integers with every digit (exact for parsers that
 * keep 64-bit integers: Python, Go, C++, serde_json); the Chrome format is read by JavaScript,
 * which would round them, so there addresses and registers are hex strings and timestamps are
 * microseconds relative to the first record (exact to the nanosecond as decimals with 3 places).
 *
 * Register maps are written as JSON objects in wire order. A map that names a register twice (legal
 * protobuf, where the last entry wins; never written by a conforming writer) yields a repeated key.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "validator/atf/validate.h"
#include "validator/internal/cli.h"
#include "validator/call_report.h"
#include "validator/internal/call_tree.h"
#include "validator/internal/decode.h"
#include "validator/internal/engine.h"
#include "validator/internal/file.h"
#include "validator/internal/json_writer.h"
#include "validator/internal/pass.h"
#include "validator/internal/reader.h"

#define EXIT_OK 0
#define EXIT_INVALID 1
#define EXIT_USAGE 2
#define DEFAULT_SHOWN_ERRORS 20
#define FLUSH_AT (64u * 1024u)       /* output written in pieces of about this size */
#define SLICE 4096u                  /* input bytes escaped at a time */
#define REPEATED_MAX (1024u * 1024u) /* a repeated field formatted in memory up to this size */

static const char kUsage[] =
    "usage: atf-dump [options] PATH\n"
    "\n"
    "PATH is a session directory (events.bin + trace.json) or an events.bin file. Every record\n"
    "that decodes is printed; the rules it breaks (docs/format.md) go to stderr.\n"
    "\n"
    "options (--opt VALUE or --opt=VALUE; -- ends the options):\n"
    "  --format F            jsonl: one JSON object per record, every field (default);\n"
    "                        chrome: Chrome Trace Event JSON for Perfetto UI / chrome://tracing;\n"
    "                        report: per function, calls and total and self time\n"
    "  --thread TID          report: one thread only\n"
    "  --sort KEY            report: rows by total (default), self, calls or name\n"
    "  --bytes B             FunctionCall.stack_shallow_copy as hex (default) or base64\n"
    "  --max-record-size B   longest record accepted, in bytes; K, M, G suffixes (default 64M)\n"
    "  --max-errors N        print at most N errors on stderr (default 20, at most 65536; all are\n"
    "                        counted)\n"
    "  --allow RULE          a rule whose violations are warnings (as atf-validate --allow)\n"
    "  --profile P           strict (default) or original (as atf-validate --profile)\n"
    "  --engine E            record decoder: upb (default), nanopb, or both (as atf-validate "
    "--engine)\n"
    "  --help, -h, --version\n"
    "\n"
    "exit status: 0 ok, 1 some rule broken (named on stderr), 2 usage or I/O error\n";

typedef struct dumper dumper;

/* An output format: what is printed before the records, for each, and after them. */
typedef struct dump_format {
  const char *name;
  bool hex_registers; /* registers as "0x..." strings (for JavaScript readers) */
  void (*begin)(dumper *d);
  bool (*record)(dumper *d); /* false: the record could not be read again */
  void (*end)(dumper *d);
} dump_format;

struct dumper {
  const dump_format *format;
  bool base64;
  bool report; /* --format report: validator/call_report.c */
  atf_call_report_options report_options;
  uint32_t pid;
  atf_buf out;
  bool write_failed;
  /* Chrome: events written, time base, open calls per thread. */
  uint64_t written;
  atf_call_tree calls;
  bool calls_oom;
  bool have_base;
  uint64_t base_ns;
  /* The record being printed. */
  const atf_pass_record *rec;
  atf_reader *reader;                        /* holds the record's bytes in place */
  const uint8_t *text[ATF_TEXT_FIELD_COUNT]; /* last occurrence of each singular field */
  size_t text_len[ATF_TEXT_FIELD_COUNT];
  const uint8_t *reg_name; /* the current register map entry's name */
  size_t reg_name_len;
  atf_buf repeated; /* the repeated field's elements, formatted */
  bool repeated_overflow, streaming;
  uint64_t elements;
  uint8_t *big; /* a record larger than the window, copied */
};

/* ---------------------------------------------------------------------------------------------
 * Output in pieces. */

static void maybe_flush(dumper *d) {
  if (d->out.len < FLUSH_AT) return;
  if (!atf_buf_write(&d->out, stdout)) d->write_failed = true;
  atf_buf_clear(&d->out);
}

/* data[0, len), JSON-escaped into b, a slice at a time (cut at character boundaries), flushing
 * the output between slices when b is the output. */
static void put_text(dumper *d, atf_buf *b, const uint8_t *data, size_t len) {
  while (len > 0) {
    size_t n = len < SLICE ? len : SLICE;
    while (n < len && n > 0 && (data[n] & 0xC0) == 0x80) n--; /* valid UTF-8: a lead byte is near */
    atf_buf_json_chars(b, data, n);
    data += n;
    len -= n;
    if (b == &d->out) maybe_flush(d);
  }
}

/* "name":"text of field" */
static void text_member(dumper *d, const char *name, atf_text_field field, bool comma) {
  atf_buf_printf(&d->out, "%s\"%s\":\"", comma ? "," : "", name);
  put_text(d, &d->out, d->text[field], d->text_len[field]);
  atf_buf_puts(&d->out, "\"");
}

static void put_bytes(dumper *d, const uint8_t *data, size_t len) {
  while (len > 0) {
    const size_t n = len < SLICE * 3 ? len : SLICE * 3; /* base64 groups stay whole */
    (d->base64 ? atf_buf_base64 : atf_buf_hex)(&d->out, data, n);
    data += n;
    len -= n;
    maybe_flush(d);
  }
}

/* ---------------------------------------------------------------------------------------------
 * The record's fields, from a decoding pass with this visitor. */

static void add_element(dumper *d, const uint8_t *name, size_t len, bool is_register,
                        uint64_t value) {
  atf_buf *b = d->streaming ? &d->out : &d->repeated;
  if (!d->streaming) {
    if (d->repeated_overflow) return;
    if (d->repeated.len + 6 * (uint64_t)len + 64 >
        REPEATED_MAX) { /* escaping grows text 6x at most */
      d->repeated_overflow = true;
      return;
    }
  }
  atf_buf_puts(b, d->elements++ ? ",\"" : "\"");
  put_text(d, b, name, len);
  if (!is_register) {
    atf_buf_puts(b, "\"");
  } else if (d->format->hex_registers) {
    atf_buf_printf(b, "\":\"0x%" PRIx64 "\"", value);
  } else {
    atf_buf_printf(b, "\":%" PRIu64, value);
  }
  if (d->streaming) maybe_flush(d);
}

/* Records are decoded from memory, so each occurrence of a field comes as one chunk, in place. */
static void on_text(void *ctx, atf_text_field field, const uint8_t *data, size_t len,
                    unsigned flags) {
  dumper *d = ctx;
  (void)flags;
  if (field == ATF_TEXT_ARG) {
    add_element(d, data, len, false, 0);
  } else if (field == ATF_TEXT_REGISTER_NAME) {
    d->reg_name = data; /* a name given twice in one entry: the last wins */
    d->reg_name_len = len;
  } else if (!d->streaming) {
    d->text[field] = data; /* a repeated singular field: the last occurrence wins */
    d->text_len[field] = len;
  }
}

static void on_register(void *ctx, uint64_t value) {
  dumper *d = ctx;
  add_element(d, d->reg_name, d->reg_name_len, true, value);
}

/* Decodes the current record again (it decoded in the validation pass, from the same bytes), its
 * text fields and registers going to the dumper's visitor. */
static bool redecode(dumper *d, atf_reader *reader) {
  const atf_event_visitor visitor = {d, on_text, on_register};
  atf_event ev;
  atf_decode_error err;
  memset(&err, 0, sizeof err);
  err.quiet = true;
  const atf_frame *f = d->rec->frame;
  return atf_engine_decode(d->rec->engine, reader, f->body_offset, f->length, &visitor, &ev, &err);
}

/* The repeated field's elements: formatted already, or printed now by decoding the record again. */
static bool put_repeated(dumper *d) {
  if (!d->repeated_overflow) {
    atf_buf_append(&d->out, d->repeated.data, d->repeated.len);
    maybe_flush(d);
    return true;
  }
  d->streaming = true;
  d->elements = 0;
  const bool ok = redecode(d, d->reader);
  d->streaming = false;
  return ok; /* it decoded a moment ago, from the same bytes in memory */
}

/* ---------------------------------------------------------------------------------------------
 * JSON Lines. */

static bool jsonl_payload(dumper *d) {
  const atf_event *ev = d->rec->ev;
  atf_buf *o = &d->out;
  bool ok = true;
  switch (ev->payload) {
    case ATF_PAYLOAD_TRACE_START:
      atf_buf_puts(o, ",\"trace_start\":{");
      text_member(d, "executable_path", ATF_TEXT_EXECUTABLE_PATH, false);
      atf_buf_puts(o, ",\"args\":[");
      ok = put_repeated(d);
      atf_buf_puts(o, "]");
      text_member(d, "operating_system", ATF_TEXT_OPERATING_SYSTEM, true);
      text_member(d, "cpu_architecture", ATF_TEXT_CPU_ARCHITECTURE, true);
      break;
    case ATF_PAYLOAD_TRACE_END:
      atf_buf_printf(o, ",\"trace_end\":{\"exit_code\":%d", (int)ev->exit_code);
      break;
    case ATF_PAYLOAD_FUNCTION_CALL:
    case ATF_PAYLOAD_FUNCTION_RETURN: {
      const bool call = ev->payload == ATF_PAYLOAD_FUNCTION_CALL;
      atf_buf_puts(o, call ? ",\"function_call\":{" : ",\"function_return\":{");
      text_member(d, "symbol", ATF_TEXT_SYMBOL, false);
      atf_buf_printf(o, ",\"address\":%" PRIu64 ",\"%s\":{", ev->address,
                     call ? "argument_registers" : "return_registers");
      ok = put_repeated(d);
      atf_buf_puts(o, "}");
      if (call) {
        atf_buf_puts(o, ",\"stack_shallow_copy\":\"");
        put_bytes(d, d->text[ATF_TEXT_STACK], d->text_len[ATF_TEXT_STACK]);
        atf_buf_puts(o, "\"");
        if (ev->call_site != 0) atf_buf_printf(o, ",\"call_site\":%" PRIu64, ev->call_site);
      }
      break;
    }
    case ATF_PAYLOAD_SIGNAL_DELIVERY:
      atf_buf_printf(o, ",\"signal_delivery\":{\"number\":%d", (int)ev->signal_number);
      text_member(d, "name", ATF_TEXT_SIGNAL_NAME, true);
      atf_buf_puts(o, ",\"registers\":{");
      ok = put_repeated(d);
      atf_buf_puts(o, "}");
      break;
    case ATF_PAYLOAD_NONE: /* never: a record without a payload does not decode (schema.payload) */
      break;
  }
  atf_buf_puts(o, "}");
  return ok;
}

static bool jsonl_record(dumper *d) {
  const atf_event *ev = d->rec->ev;
  atf_buf_printf(&d->out,
                 "{\"record\":%" PRIu64 ",\"offset\":%" PRIu64 ",\"event_id\":%" PRIu64
                 ",\"thread_id\":%d,\"timestamp\":{\"seconds\":%" PRId64
                 ",\"nanos\":%d},\"time_ns\":%" PRIu64,
                 d->rec->index, d->rec->frame->offset, ev->event_id, (int)ev->thread_id,
                 ev->seconds, (int)ev->nanos, ev->time_ns);
  const bool ok = jsonl_payload(d);
  if (ev->unknown_fields)
    atf_buf_printf(&d->out, ",\"unknown_fields\":%" PRIu64, ev->unknown_fields);
  atf_buf_puts(&d->out, "}\n");
  return ok;
}

/* ---------------------------------------------------------------------------------------------
 * Chrome Trace Event Format. */

static void chrome_begin(dumper *d) {
  atf_buf_puts(&d->out, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
}

static void chrome_head_at(dumper *d, const char *ph, const char *name_or_null, int32_t tid,
                           uint64_t t);

/* Calls still open at the end: an E each, at their thread's latest timestamp. */
static void chrome_close_open_calls(dumper *d) {
  for (size_t i = 0; i < atf_call_tree_threads(&d->calls); ++i) {
    const atf_call_tree_thread_info t = atf_call_tree_thread(&d->calls, i);
    for (uint64_t k = 0; k < t.depth; ++k) {
      chrome_head_at(d, "E", NULL, t.tid, t.last_ns);
      atf_buf_puts(&d->out,
                   ",\"args\":{\"unclosed\":\"no FunctionReturn in the file; closed at the "
                   "thread's last event\"}}");
      maybe_flush(d);
    }
  }
}

static void chrome_end(dumper *d) {
  chrome_close_open_calls(d);
  atf_buf_printf(&d->out,
                 "\n],\"otherData\":{\"source\":\"atf-dump\",\"time_base_ns\":\"%" PRIu64 "\"}}\n",
                 d->base_ns);
}

static void chrome_head_at(dumper *d, const char *ph, const char *name_or_null, int32_t tid,
                           uint64_t t) {
  atf_buf *o = &d->out;
  atf_buf_puts(o, d->written++ ? ",\n{\"ph\":\"" : "\n{\"ph\":\"");
  atf_buf_puts(o, ph);
  atf_buf_puts(o, "\"");
  if (name_or_null != NULL) atf_buf_printf(o, ",\"name\":\"%s\"", name_or_null);
  const uint64_t b = d->base_ns;
  const uint64_t delta = t >= b ? t - b : b - t;
  atf_buf_printf(o, ",\"pid\":%u,\"tid\":%d,\"ts\":%s%" PRIu64 ".%03u", (unsigned)d->pid, (int)tid,
                 t >= b ? "" : "-", delta / 1000, (unsigned)(delta % 1000));
}

static void chrome_head(dumper *d, const char *ph, const char *name_or_null) {
  chrome_head_at(d, ph, name_or_null, d->rec->ev->thread_id, d->rec->ev->time_ns);
}

/* The phase of a FunctionCall or FunctionReturn, from the thread's open calls, and what its args
 * must say: "B", "E" or "i" (an instant: a return that closes nothing, or an untracked thread). */
static const char *chrome_call_phase(dumper *d, char *note, size_t note_len) {
  const atf_event *ev = d->rec->ev;
  const bool call = ev->payload == ATF_PAYLOAD_FUNCTION_CALL;
  uint64_t innermost = 0;
  const atf_call_tree_step step =
      call ? atf_call_tree_call(&d->calls, ev->thread_id, ev->address, ev->time_ns)
           : atf_call_tree_return(&d->calls, ev->thread_id, ev->address, ev->time_ns, &innermost);
  note[0] = '\0';
  switch (step) {
    case ATF_CALL_TREE_OPENED:
    case ATF_CALL_TREE_OPENED_DEPTH:
      return "B";
    case ATF_CALL_TREE_CLOSED:
    case ATF_CALL_TREE_CLOSED_DEPTH:
      return "E";
    case ATF_CALL_TREE_MISMATCH:
      snprintf(note, note_len, ",\"mismatch\":\"closes the innermost open call, of 0x%" PRIx64 "\"",
               innermost);
      return "E";
    case ATF_CALL_TREE_UNMATCHED:
      snprintf(note, note_len,
               ",\"unmatched_return\":\"closes no open FunctionCall of its thread\"");
      return "i";
    case ATF_CALL_TREE_NOMEM:
      d->calls_oom = true;
      break;
    case ATF_CALL_TREE_UNTRACKED:
      break;
  }
  snprintf(note, note_len, ",\"untracked\":\"more threads than atf-dump pairs calls for (65536)\"");
  return "i";
}

static void chrome_name(dumper *d, atf_text_field field) {
  atf_buf_puts(&d->out, ",\"name\":\"");
  if (d->text_len[field] > 0) {
    put_text(d, &d->out, d->text[field], d->text_len[field]);
  } else {
    atf_buf_printf(&d->out, "0x%" PRIx64, d->rec->ev->address);
  }
  atf_buf_puts(&d->out, "\"");
}

static bool chrome_record(dumper *d) {
  const atf_event *ev = d->rec->ev;
  atf_buf *o = &d->out;
  bool ok = true;
  if (!d->have_base) d->have_base = true, d->base_ns = ev->time_ns;
  if (ev->payload != ATF_PAYLOAD_FUNCTION_CALL && ev->payload != ATF_PAYLOAD_FUNCTION_RETURN) {
    atf_call_tree_note(&d->calls, ev->thread_id, ev->time_ns,
                       &d->calls_oom); /* the thread's latest time */
  }
  switch (ev->payload) {
    case ATF_PAYLOAD_TRACE_START:
      chrome_head(d, "M", "process_name");
      atf_buf_puts(o, ",\"args\":{");
      text_member(d, "name", ATF_TEXT_EXECUTABLE_PATH, false);
      atf_buf_puts(o, "}}");
      chrome_head(d, "i", "TraceStart");
      atf_buf_puts(o, ",\"s\":\"p\",\"args\":{");
      text_member(d, "operating_system", ATF_TEXT_OPERATING_SYSTEM, false);
      text_member(d, "cpu_architecture", ATF_TEXT_CPU_ARCHITECTURE, true);
      atf_buf_puts(o, ",\"argv\":[");
      ok = put_repeated(d);
      atf_buf_puts(o, "]}}");
      break;
    case ATF_PAYLOAD_TRACE_END:
      chrome_head(d, "i", "TraceEnd");
      atf_buf_printf(o, ",\"s\":\"p\",\"args\":{\"exit_code\":%d}}", (int)ev->exit_code);
      break;
    case ATF_PAYLOAD_FUNCTION_CALL:
    case ATF_PAYLOAD_FUNCTION_RETURN: {
      char note[128];
      const char *ph = chrome_call_phase(d, note, sizeof note);
      const uint64_t latest = ph[0] == 'i' ? 0 : atf_call_tree_latest(&d->calls, ev->thread_id);
      chrome_head_at(d, ph, NULL, ev->thread_id, latest > ev->time_ns ? latest : ev->time_ns);
      chrome_name(d, ATF_TEXT_SYMBOL);
      atf_buf_printf(o, "%s,\"args\":{\"event_id\":\"%" PRIu64 "\",\"address\":\"0x%" PRIx64 "\"",
                     ph[0] == 'i' ? ",\"s\":\"t\"" : "", ev->event_id, ev->address);
      if (ev->call_site != 0) atf_buf_printf(o, ",\"call_site\":\"0x%" PRIx64 "\"", ev->call_site);
      if (latest > ev->time_ns)
        atf_buf_printf(o, ",\"ts_in_file_ns\":\"%" PRIu64 "\"", ev->time_ns);
      atf_buf_printf(o, "%s,\"registers\":{", note);
      ok = put_repeated(d);
      atf_buf_puts(o, "}}}");
      break;
    }
    case ATF_PAYLOAD_SIGNAL_DELIVERY:
      chrome_head(d, "i", NULL);
      chrome_name(d, ATF_TEXT_SIGNAL_NAME);
      atf_buf_printf(o, ",\"s\":\"t\",\"args\":{\"number\":%d,\"registers\":{",
                     (int)ev->signal_number);
      ok = put_repeated(d);
      atf_buf_puts(o, "}}}");
      break;
    case ATF_PAYLOAD_NONE: /* never: a record without a payload does not decode (schema.payload) */
      break;
  }
  return ok;
}

static const dump_format kFormats[] = {
    {"jsonl", false, NULL, jsonl_record, NULL},
    {"chrome", true, chrome_begin, chrome_record, chrome_end},
};

/* ---------------------------------------------------------------------------------------------
 * The pass's hook: one record that decoded. */

static bool print_record(void *ctx, atf_reader *reader, const atf_pass_record *rec, char *reason) {
  dumper *d = ctx;
  const atf_frame *f = rec->frame;
  atf_reader copy;
  d->rec = rec;
  d->reader = reader;
  if (f->length > reader->cap) { /* not in the window: decode it from a copy of its own */
    d->big = malloc((size_t)f->length);
    if (d->big == NULL || !atf_reader_copy(reader, f->body_offset, d->big, (size_t)f->length)) {
      snprintf(reason, 256, "events.bin: %s", d->big == NULL ? "out of memory" : "read error");
      free(d->big);
      d->big = NULL;
      return false;
    }
    atf_reader_init_span(&copy, d->big, f->body_offset, (size_t)f->length, reader->size);
    d->reader = &copy;
  }
  memset(d->text, 0, sizeof d->text);
  memset(d->text_len, 0, sizeof d->text_len);
  atf_buf_clear(&d->repeated);
  d->repeated_overflow = false;
  d->elements = 0;
  /* It decoded in the pass: only a file that changed since fails here. */
  const bool ok = redecode(d, d->reader) && d->format->record(d);
  if (ok) {
    maybe_flush(d);
  } else {
    snprintf(reason, 256, "events.bin: read error");
  }
  free(d->big);
  d->big = NULL;
  if (d->calls_oom) snprintf(reason, 256, "out of memory");
  return ok && !d->write_failed && !d->repeated.oom && !d->calls_oom;
}

/* --------------------------------------------------------------------------------------------- */

/* The errors (or warnings) of the report on stderr. paths: events.bin's and trace.json's. */
static void print_list(const char *const paths[2], const char *what, const atf_validate_error *list,
                       size_t len, uint64_t count) {
  for (size_t i = 0; i < len; ++i) {
    const atf_validate_error *e = &list[i];
    fprintf(stderr, "atf-dump: %s%s offset %" PRIu64, what,
            paths[strcmp(e->file, "trace.json") == 0], e->offset);
    if (e->record != ATF_VALIDATE_NO_RECORD) fprintf(stderr, " record %" PRIu64, e->record);
    fprintf(stderr, ": %s: %s\n", e->rule, e->message);
  }
  if (count > len)
    fprintf(stderr, "atf-dump: %s%" PRIu64 " more not shown (--max-errors)\n", what, count - len);
}

typedef struct options {
  atf_validate_options validate;
  const char *path;
} options;

enum {
  OPT_HELP,
  OPT_VERSION,
  OPT_FORMAT,
  OPT_BYTES,
  OPT_MAX_RECORD,
  OPT_MAX_ERRORS,
  OPT_ALLOW,
  OPT_PROFILE,
  OPT_THREAD,
  OPT_SORT,
  OPT_ENGINE
};

static const atf_cli_option kOptions[] = {
    {"--help", "-h", false, OPT_HELP},
    {"--version", NULL, false, OPT_VERSION},
    {"--format", NULL, true, OPT_FORMAT},
    {"--bytes", NULL, true, OPT_BYTES},
    {"--max-record-size", NULL, true, OPT_MAX_RECORD},
    {"--max-errors", NULL, true, OPT_MAX_ERRORS},
    {"--allow", NULL, true, OPT_ALLOW},
    {"--profile", NULL, true, OPT_PROFILE},
    {"--engine", NULL, true, OPT_ENGINE},
    {"--thread", NULL, true, OPT_THREAD},
    {"--sort", NULL, true, OPT_SORT},
    {NULL, NULL, false, 0},
};

static bool apply_option(const atf_cli *p, dumper *d, options *o, int id, const char *value) {
  uint64_t n;
  switch (id) {
    case OPT_FORMAT:
      d->report = strcmp(value, "report") == 0;
      if (d->report) return true;
      for (size_t i = 0; i < sizeof kFormats / sizeof kFormats[0]; ++i) {
        if (strcmp(value, kFormats[i].name) == 0) return d->format = &kFormats[i], true;
      }
      break;
    case OPT_BYTES:
      if (strcmp(value, "hex") != 0 && strcmp(value, "base64") != 0) break;
      d->base64 = strcmp(value, "base64") == 0;
      return true;
    case OPT_MAX_RECORD:
      if (!atf_cli_size(value, &n) || n == 0 || n > SIZE_MAX) break;
      o->validate.max_record_size = n;
      return true;
    case OPT_MAX_ERRORS:
      if (!atf_cli_count(value, ATF_VALIDATE_MAX_ERRORS, &n)) break;
      o->validate.max_errors = (size_t)n;
      return true;
    case OPT_ALLOW:
      if (!atf_validate_rule_parse(value, &n) || (n & ~ATF_VALIDATE_ALLOWABLE_RULES) != 0) break;
      o->validate.allowed_rules |= n;
      return true;
    case OPT_THREAD:
    case OPT_SORT: {
      char arg[64], err[160];
      snprintf(arg, sizeof arg, "%s=%s", id == OPT_THREAD ? "--thread" : "--sort", value);
      if (strlen(value) >= 48 ||
          atf_call_report_parse_option(arg, &d->report_options, err, sizeof err) != 1)
        break;
      return true;
    }
    case OPT_ENGINE:
      if (!atf_validate_engine_parse(value, &o->validate.engine)) break;
      return true;
    case OPT_PROFILE:
      if (strcmp(value, "original") == 0)
        o->validate.allowed_rules |= ATF_VALIDATE_PROFILE_ORIGINAL;
      if (strcmp(value, "original") != 0 && strcmp(value, "strict") != 0) break;
      return true;
  }
  atf_cli_error(p, "invalid %s '%s'", atf_cli_option_name(kOptions, id), value);
  return false;
}

typedef struct parse_ctx {
  dumper *d;
  options *o;
} parse_ctx;

static bool apply_cb(void *ctx, const atf_cli *p, int id, const char *value) {
  const parse_ctx *c = ctx;
  return apply_option(p, c->d, c->o, id, value);
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, dumper *d, options *o) {
  atf_cli p;
  atf_cli_init(&p, "atf-dump", argc, argv);
  parse_ctx ctx = {d, o};
  const atf_cli_spec spec = {
      kOptions, OPT_HELP, OPT_VERSION, kUsage, "atf-dump " ATF_VALIDATE_VERSION,
      "PATH",   apply_cb, &ctx};
  switch (atf_cli_parse("atf-dump", argc, argv, &spec, &o->path)) {
    case ATF_CLI_PARSED:
      break;
    case ATF_CLI_DONE:
      return EXIT_OK;
    default:
      return EXIT_USAGE;
  }
  if (!d->report &&
      (d->report_options.one_thread || d->report_options.sort != ATF_CALL_REPORT_SORT_TOTAL)) {
    atf_cli_error(&p, "--thread and --sort apply to --format report");
    return EXIT_USAGE;
  }
  return -1;
}

int main(int argc, char **argv) {
  dumper d;
  memset(&d, 0, sizeof d);
  d.format = &kFormats[0];
  atf_call_report_options_init(&d.report_options);
  atf_call_tree_init(&d.calls, 0, 0, atf_thread_table_random_seed());
  options o;
  memset(&o, 0, sizeof o);
  atf_validate_options_init(&o.validate);
  o.validate.threads = 0; /* records decode in parallel; they print in order */
  o.validate.max_errors = DEFAULT_SHOWN_ERRORS;
  const int parsed = parse_args(argc, argv, &d, &o);
  if (parsed >= 0) return parsed;

  struct stat st;
  const bool is_dir = stat(o.path, &st) == 0 && S_ISDIR(st.st_mode);
  uint64_t pid = 0;
  d.pid = atf_file_pid_from_path(o.path, !is_dir, &pid) && pid > 0 ? (uint32_t)pid : 1;
  /* Names for messages: <dir>/events.bin (or PATH) and the trace.json beside it. */
  const size_t n = strlen(o.path);
  const char *slash = strrchr(o.path, '/');
  const int dir_len = is_dir ? (int)n : slash != NULL ? (int)(slash - o.path) : -1;
  char *events_path = malloc(n + sizeof "/events.bin");
  char *manifest_path = malloc(n + sizeof "/trace.json");
  if (events_path == NULL || manifest_path == NULL)
    return EXIT_USAGE; /* not reproducible in a test */
  snprintf(events_path, n + sizeof "/events.bin", "%s%s", o.path, is_dir ? "/events.bin" : "");
  snprintf(manifest_path, n + sizeof "/trace.json", "%.*s%strace.json", dir_len < 0 ? 0 : dir_len,
           o.path, dir_len < 0 ? "" : "/");
  const char *const paths[2] = {events_path, manifest_path};

  /* --format report: the call report (validator/call_report.c) is a hook of the same pass; it is
   * printed after the pass, like the other formats' ends. */
  atf_call_report crep;
  atf_call_report_builder *builder =
      d.report ? atf_call_report_begin(&d.report_options, &crep) : NULL;
  if (!d.report && d.format->begin != NULL) d.format->begin(&d);
  const atf_pass_hooks hooks = d.report
                                   ? (atf_pass_hooks){builder, false, atf_call_report_on_record}
                                   : (atf_pass_hooks){&d, false, print_record};
  atf_validate_report report;
  memset(&report, 0, sizeof report);
  const atf_validate_status vs =
      d.report && builder == NULL
          ? ATF_VALIDATE_E_NO_MEMORY
          : atf_pass_run(AT_FDCWD, o.path, o.path, &o.validate, &hooks, &report);
  int status = EXIT_USAGE;
  bool report_ok = false;
  if (d.report && vs == ATF_VALIDATE_OK) {
    size_t mlen = 0;
    char *manifest = atf_call_report_read_manifest(events_path, &mlen);
    report_ok = atf_call_report_finish(builder, &report, manifest, mlen);
    builder = NULL;
    free(manifest);
  }
  atf_call_report_abandon(builder); /* the pass failed (or never ran) */
  if (d.write_failed) {
    fprintf(stderr, "atf-dump: writing the output failed\n");
  } else if (vs != ATF_VALIDATE_OK) {
    fprintf(stderr, "atf-dump: %s\n", report.reason[0] ? report.reason : atf_validate_strerror(vs));
  } else if (d.report && !report_ok) {
    fprintf(stderr, "atf-dump: out of memory\n");
  } else {
    if (!d.report && d.format->end != NULL) d.format->end(&d);
    const bool printed = d.report
                             ? atf_call_report_print(&crep, events_path, &d.report_options, stdout)
                             : atf_buf_write(&d.out, stdout);
    if (d.report) atf_call_report_free(&crep);
    if (!printed || fflush(stdout) != 0) {
      fprintf(stderr, "atf-dump: writing the output failed\n");
    } else {
      print_list(paths, "", report.errors, report.errors_len, report.error_count);
      print_list(paths, "warning: ", report.rule_warnings, report.rule_warnings_len,
                 report.rule_warning_count);
      if (report.engine_fallbacks > 0) {
        fprintf(stderr,
                "atf-dump: warning: %" PRIu64
                " record(s) beyond the upb engine's bounds were decoded by the nanopb "
                "engine\n",
                report.engine_fallbacks);
      }
      status = report.valid ? EXIT_OK : EXIT_INVALID;
    }
  }
  atf_validate_report_free(&report);
  atf_buf_free(&d.out);
  atf_buf_free(&d.repeated);
  atf_call_tree_free(&d.calls);
  free(events_path);
  free(manifest_path);
  return status;
}
