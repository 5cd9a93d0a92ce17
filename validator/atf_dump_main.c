// atf-dump: prints an ATF V4 events.bin as JSON Lines (every field) or as Chrome Trace Event JSON
// (Perfetto UI, chrome://tracing), decoded with the validator's own decoder.
//
// Records that break a rule are left out and named on stderr; the exit status is then 1.
// Exit status: 0 all records dumped, 1 some records invalid, 2 usage or I/O error.
//
// uint64 values: JSON Lines writes them as JSON integers with every digit (exact for parsers that
// keep 64-bit integers: Python, Go, C++, serde_json); the Chrome format is read by JavaScript,
// which would round them, so there addresses and registers are hex strings and timestamps are
// microseconds relative to the first record (exact to the nanosecond as decimals with 3 places).
//
// Register maps are written as JSON objects in wire order. A map that names a register twice (legal
// protobuf, where the last entry wins; never written by a conforming writer) yields a repeated key.
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "validator/atf/validate.h"
#include "validator/call_report.h"
#include "validator/internal/decode.h"
#include "validator/internal/json_writer.h"
#include "validator/internal/reader.h"

#define EXIT_OK 0
#define EXIT_INVALID 1
#define EXIT_USAGE 2

static const char kUsage[] =
    "usage: atf-dump [--format=jsonl|chrome|report] [--bytes=hex|base64] [--max-record-size=B] PATH\n"
    "\n"
    "PATH is a session directory holding events.bin, or an events.bin file.\n"
    "  --format=jsonl   one JSON object per record, every field (default)\n"
    "  --format=chrome  Chrome Trace Event JSON for Perfetto UI / chrome://tracing\n"
    "  --format=report  per function: total and self time, calls (--thread=TID: one thread;\n"
    "                   --sort=total|self|calls|name)\n"
    "  --bytes=hex      FunctionCall.stack_shallow_copy as hex (default) or base64\n"
    "exit status: 0 ok, 1 some records invalid (named on stderr), 2 usage or I/O error\n";

typedef struct record_text {
  atf_buf text[ATF_TEXT_FIELD_COUNT];  // JSON-escaped; ARG holds the array's elements
  atf_buf registers;                   // "NAME":value,... (JSONL)
  atf_buf registers_hex;               // "NAME":"0x...",... (Chrome)
} record_text;

typedef struct dumper {
  bool chrome, base64;
  bool report;  // --format=report: validator/call_report.c
  atf_call_report_options report_options;
  uint64_t max_record_size;
  const char* events_path;
  uint32_t pid;
  record_text rec;
  atf_buf out;
  uint64_t written;  // Chrome events written
  bool have_base;
  uint64_t base_ns;
  uint64_t invalid;
} dumper;

// ---------------------------------------------------------------------------------------------
// Visitor: collect a record's variable-length fields.

static void on_text(void* ctx, atf_text_field field, const uint8_t* data, size_t len, unsigned flags) {
  record_text* r = ctx;
  atf_buf* b = &r->text[field];
  if (field == ATF_TEXT_ARG) {
    if (flags & ATF_CHUNK_FIRST) atf_buf_puts(b, b->len ? ",\"" : "\"");
    atf_buf_json_chars(b, data, len);
    if (flags & ATF_CHUNK_LAST) atf_buf_puts(b, "\"");
    return;
  }
  if (flags & ATF_CHUNK_FIRST) atf_buf_clear(b);  // a repeated singular field: the last one wins
  if (field == ATF_TEXT_STACK) {
    atf_buf_append(b, data, len);  // raw; encoded when the record is written
  } else {
    atf_buf_json_chars(b, data, len);
  }
}

static void on_register(void* ctx, uint64_t value) {
  record_text* r = ctx;
  const atf_buf* name = &r->text[ATF_TEXT_REGISTER_NAME];
  atf_buf_puts(&r->registers, r->registers.len ? ",\"" : "\"");
  atf_buf_append(&r->registers, name->data, name->len);
  atf_buf_printf(&r->registers, "\":%" PRIu64, value);
  atf_buf_puts(&r->registers_hex, r->registers_hex.len ? ",\"" : "\"");
  atf_buf_append(&r->registers_hex, name->data, name->len);
  atf_buf_printf(&r->registers_hex, "\":\"0x%" PRIx64 "\"", value);
}

static void clear_record(record_text* r) {
  for (int i = 0; i < ATF_TEXT_FIELD_COUNT; ++i) atf_buf_clear(&r->text[i]);
  atf_buf_clear(&r->registers);
  atf_buf_clear(&r->registers_hex);
}

static void free_record(record_text* r) {
  for (int i = 0; i < ATF_TEXT_FIELD_COUNT; ++i) atf_buf_free(&r->text[i]);
  atf_buf_free(&r->registers);
  atf_buf_free(&r->registers_hex);
}

// "name":"escaped text"
static void text_member(dumper* d, const char* name, atf_text_field field, bool comma) {
  const atf_buf* t = &d->rec.text[field];
  atf_buf_printf(&d->out, "%s\"%s\":\"", comma ? "," : "", name);
  atf_buf_append(&d->out, t->data, t->len);
  atf_buf_puts(&d->out, "\"");
}

// ---------------------------------------------------------------------------------------------
// JSON Lines.

static void jsonl_payload(dumper* d, const atf_event* ev) {
  atf_buf* o = &d->out;
  const record_text* r = &d->rec;
  switch (ev->payload) {
    case ATF_PAYLOAD_TRACE_START:
      atf_buf_puts(o, ",\"trace_start\":{");
      text_member(d, "executable_path", ATF_TEXT_EXECUTABLE_PATH, false);
      atf_buf_puts(o, ",\"args\":[");
      atf_buf_append(o, r->text[ATF_TEXT_ARG].data, r->text[ATF_TEXT_ARG].len);
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
      atf_buf_append(o, r->registers.data, r->registers.len);
      atf_buf_puts(o, "}");
      if (call) {
        const atf_buf* stack = &r->text[ATF_TEXT_STACK];
        atf_buf_puts(o, ",\"stack_shallow_copy\":\"");
        (d->base64 ? atf_buf_base64 : atf_buf_hex)(o, stack->data, stack->len);
        atf_buf_puts(o, "\"");
      }
      break;
    }
    case ATF_PAYLOAD_SIGNAL_DELIVERY:
      atf_buf_printf(o, ",\"signal_delivery\":{\"number\":%d", (int)ev->signal_number);
      text_member(d, "name", ATF_TEXT_SIGNAL_NAME, true);
      atf_buf_puts(o, ",\"registers\":{");
      atf_buf_append(o, r->registers.data, r->registers.len);
      atf_buf_puts(o, "}");
      break;
    case ATF_PAYLOAD_NONE:  // never: a record without a payload fails decoding (schema.payload)
      break;
  }
  atf_buf_puts(o, "}");
}

static void jsonl_record(dumper* d, const atf_event* ev, uint64_t index, uint64_t offset) {
  atf_buf_printf(&d->out,
                 "{\"record\":%" PRIu64 ",\"offset\":%" PRIu64 ",\"event_id\":%" PRIu64
                 ",\"thread_id\":%d,\"timestamp\":{\"seconds\":%" PRId64 ",\"nanos\":%d},\"time_ns\":%" PRIu64,
                 index, offset, ev->event_id, (int)ev->thread_id, ev->seconds, (int)ev->nanos, ev->time_ns);
  jsonl_payload(d, ev);
  if (ev->unknown_fields) atf_buf_printf(&d->out, ",\"unknown_fields\":%" PRIu64, ev->unknown_fields);
  atf_buf_puts(&d->out, "}\n");
}

// ---------------------------------------------------------------------------------------------
// Chrome Trace Event Format.

static void chrome_head(dumper* d, const char* ph, const char* name_or_null, const atf_event* ev) {
  atf_buf* o = &d->out;
  atf_buf_puts(o, d->written++ ? ",\n{\"ph\":\"" : "\n{\"ph\":\"");
  atf_buf_puts(o, ph);
  atf_buf_puts(o, "\"");
  if (name_or_null != NULL) atf_buf_printf(o, ",\"name\":\"%s\"", name_or_null);
  const uint64_t t = ev->time_ns, b = d->base_ns;
  const uint64_t delta = t >= b ? t - b : b - t;
  atf_buf_printf(o, ",\"pid\":%u,\"tid\":%d,\"ts\":%s%" PRIu64 ".%03u", (unsigned)d->pid, (int)ev->thread_id,
                 t >= b ? "" : "-", delta / 1000, (unsigned)(delta % 1000));
}

static void chrome_name(dumper* d, atf_text_field field, const atf_event* ev) {
  const atf_buf* t = &d->rec.text[field];
  atf_buf_puts(&d->out, ",\"name\":\"");
  if (t->len > 0) {
    atf_buf_append(&d->out, t->data, t->len);
  } else {
    atf_buf_printf(&d->out, "0x%" PRIx64, ev->address);
  }
  atf_buf_puts(&d->out, "\"");
}

static void chrome_record(dumper* d, const atf_event* ev) {
  atf_buf* o = &d->out;
  const record_text* r = &d->rec;
  if (!d->have_base) d->have_base = true, d->base_ns = ev->time_ns;
  switch (ev->payload) {
    case ATF_PAYLOAD_TRACE_START:
      chrome_head(d, "M", "process_name", ev);
      atf_buf_puts(o, ",\"args\":{");
      text_member(d, "name", ATF_TEXT_EXECUTABLE_PATH, false);
      atf_buf_puts(o, "}}");
      chrome_head(d, "i", "TraceStart", ev);
      atf_buf_puts(o, ",\"s\":\"p\",\"args\":{");
      text_member(d, "operating_system", ATF_TEXT_OPERATING_SYSTEM, false);
      text_member(d, "cpu_architecture", ATF_TEXT_CPU_ARCHITECTURE, true);
      atf_buf_puts(o, ",\"argv\":[");
      atf_buf_append(o, r->text[ATF_TEXT_ARG].data, r->text[ATF_TEXT_ARG].len);
      atf_buf_puts(o, "]}}");
      break;
    case ATF_PAYLOAD_TRACE_END:
      chrome_head(d, "i", "TraceEnd", ev);
      atf_buf_printf(o, ",\"s\":\"p\",\"args\":{\"exit_code\":%d}}", (int)ev->exit_code);
      break;
    case ATF_PAYLOAD_FUNCTION_CALL:
    case ATF_PAYLOAD_FUNCTION_RETURN:
      chrome_head(d, ev->payload == ATF_PAYLOAD_FUNCTION_CALL ? "B" : "E", NULL, ev);
      chrome_name(d, ATF_TEXT_SYMBOL, ev);
      atf_buf_printf(o, ",\"args\":{\"event_id\":\"%" PRIu64 "\",\"address\":\"0x%" PRIx64 "\",\"registers\":{",
                     ev->event_id, ev->address);
      atf_buf_append(o, r->registers_hex.data, r->registers_hex.len);
      atf_buf_puts(o, "}}}");
      break;
    case ATF_PAYLOAD_SIGNAL_DELIVERY:
      chrome_head(d, "i", NULL, ev);
      chrome_name(d, ATF_TEXT_SIGNAL_NAME, ev);
      atf_buf_printf(o, ",\"s\":\"t\",\"args\":{\"number\":%d,\"registers\":{", (int)ev->signal_number);
      atf_buf_append(o, r->registers_hex.data, r->registers_hex.len);
      atf_buf_puts(o, "}}}");
      break;
    case ATF_PAYLOAD_NONE:  // never: a record without a payload fails decoding (schema.payload)
      break;
  }
}

// ---------------------------------------------------------------------------------------------

static bool flush(dumper* d) {
  const bool ok = atf_buf_write(&d->out, stdout);
  atf_buf_clear(&d->out);
  return ok;
}

static void record_error(dumper* d, uint64_t offset, uint64_t index, const char* rule, const char* message) {
  d->invalid++;
  fprintf(stderr, "atf-dump: %s offset %" PRIu64 " record %" PRIu64 ": %s: %s\n", d->events_path, offset, index,
          rule, message);
}

// Returns an exit status.
static int dump(dumper* d, atf_reader* r) {
  const atf_event_visitor visitor = {&d->rec, on_text, on_register};
  if (d->chrome) atf_buf_puts(&d->out, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[");
  uint64_t off = 0, index = 0;
  for (;; ++index) {
    atf_frame f;
    const atf_frame_status st = atf_reader_frame(r, off, &f);
    if (st == ATF_FRAME_END) break;
    if (st == ATF_FRAME_IO) {
      fprintf(stderr, "atf-dump: %s: read error\n", d->events_path);
      return EXIT_USAGE;
    }
    if (st != ATF_FRAME_OK) {
      record_error(d, off, index, st == ATF_FRAME_VARINT ? "framing.varint" : "framing.truncated",
                   "broken framing; nothing after this offset is dumped");
      break;
    }
    off = f.body_offset + f.length;
    if (f.length > d->max_record_size) {
      record_error(d, f.offset, index, "framing.too_large", "record longer than --max-record-size; skipped");
      continue;
    }
    atf_event ev;
    atf_decode_error err;
    clear_record(&d->rec);
    if (!atf_decode_record(r, f.body_offset, f.length, &visitor, &ev, &err)) {
      if (strcmp(err.rule, "io") == 0) {  // the file shrank between framing and decoding
        fprintf(stderr, "atf-dump: %s: read error\n", d->events_path);
        return EXIT_USAGE;
      }
      record_error(d, err.offset, index, err.rule, err.message);
      continue;
    }
    d->chrome ? chrome_record(d, &ev) : jsonl_record(d, &ev, index, f.offset);
    if (d->out.len >= (1u << 16) && !flush(d)) break;
  }
  if (d->chrome) {
    atf_buf_printf(&d->out, "\n],\"otherData\":{\"source\":\"atf-dump\",\"time_base_ns\":\"%" PRIu64 "\"}}\n",
                   d->base_ns);
  }
  if (!flush(d) || fflush(stdout) != 0) {
    fprintf(stderr, "atf-dump: writing the output failed\n");
    return EXIT_USAGE;
  }
  return d->invalid ? EXIT_INVALID : EXIT_OK;
}

static int usage_error(const char* fmt, const char* arg) {
  fputs("atf-dump: ", stderr);
  fprintf(stderr, fmt, arg);
  fputs(" (try --help)\n", stderr);
  return EXIT_USAGE;
}

// Returns -1 to go on, or an exit status.
static int parse_args(int argc, char** argv, dumper* d, const char** path) {
  int report_arg;
  char report_err[160];
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (a[0] != '-') {
      if (*path != NULL) return usage_error("more than one PATH: '%s'", a);
      *path = a;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      fputs(kUsage, stdout);
      return EXIT_OK;
    } else if (strcmp(a, "--version") == 0) {
      printf("atf-dump %s\n", ATF_VALIDATE_VERSION);
      return EXIT_OK;
    } else if (strcmp(a, "--format=jsonl") == 0 || strcmp(a, "--format=chrome") == 0 ||
               strcmp(a, "--format=report") == 0) {
      d->chrome = strcmp(a, "--format=chrome") == 0;
      d->report = strcmp(a, "--format=report") == 0;
    } else if (strcmp(a, "--bytes=hex") == 0 || strcmp(a, "--bytes=base64") == 0) {
      d->base64 = strcmp(a, "--bytes=base64") == 0;
    } else if (strncmp(a, "--max-record-size=", 18) == 0) {
      char* end;
      errno = 0;
      d->max_record_size = strtoull(a + 18, &end, 10);
      if (errno || *end || end == a + 18 || d->max_record_size == 0) return usage_error("invalid '%s'", a);
    } else if ((report_arg = atf_call_report_parse_option(a, &d->report_options, report_err, sizeof report_err))) {
      if (report_arg < 0) return usage_error("%s", report_err);
    } else {
      return usage_error("unknown option '%s'", a);
    }
  }
  if (*path == NULL) return usage_error("%s", "missing PATH");
  if (!d->report && (d->report_options.one_thread || d->report_options.sort != ATF_CALL_REPORT_SORT_TOTAL)) {
    return usage_error("%s", "--thread and --sort apply to --format=report");
  }
  return -1;
}

// pid from a ".../pid_<pid>/events.bin" path, else 1.
static uint32_t pid_from_path(const char* events_path) {
  const char* p = strstr(events_path, "pid_");
  const char* last = NULL;
  for (; p != NULL; p = strstr(p + 1, "pid_")) last = p;
  if (last == NULL) return 1;
  const unsigned long v = strtoul(last + 4, NULL, 10);
  return v > 0 && v <= UINT32_MAX ? (uint32_t)v : 1;
}

int main(int argc, char** argv) {
  dumper d;
  memset(&d, 0, sizeof d);
  d.max_record_size = ATF_VALIDATE_DEFAULT_MAX_RECORD;
  atf_call_report_options_init(&d.report_options);
  const char* path = NULL;
  const int parsed = parse_args(argc, argv, &d, &path);
  if (parsed >= 0) return parsed;

  char events_path[4096];
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "atf-dump: %s: %s\n", path, strerror(errno));
    return EXIT_USAGE;
  }
  const bool dir = S_ISDIR(st.st_mode);
  if (snprintf(events_path, sizeof events_path, "%s%s", path, dir ? "/events.bin" : "") >= (int)sizeof events_path) {
    return usage_error("%s", "path too long");
  }
  const int fd = open(events_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    fprintf(stderr, "atf-dump: %s: %s\n", events_path, fd < 0 ? strerror(errno) : "not a regular file");
    if (fd >= 0) close(fd);
    return EXIT_USAGE;
  }
  if (d.report) {
    d.report_options.max_record_size = d.max_record_size;
    const int report_status = atf_call_report_run(events_path, fd, (uint64_t)st.st_size, &d.report_options);
    close(fd);
    return report_status;
  }
  d.events_path = events_path;
  d.pid = pid_from_path(events_path);
  atf_reader r;
  int status = EXIT_USAGE;
  if (atf_reader_init_fd(&r, fd, (uint64_t)st.st_size, ATF_READER_DEFAULT_WINDOW)) {
    status = dump(&d, &r);
  } else {  // a 1 MiB malloc failed: not reproducible in a test
    fprintf(stderr, "atf-dump: out of memory\n");
  }
  atf_reader_free(&r);
  free_record(&d.rec);
  atf_buf_free(&d.out);
  close(fd);
  return status;
}
