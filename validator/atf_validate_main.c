// atf-validate: checks an ATF V4 session and says whether it conforms to docs/format.md.
// Exit status: 0 valid, 1 invalid, 2 usage or I/O error (one line on stderr).
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "validator/atf/validate.h"

#define EXIT_VALID 0
#define EXIT_INVALID 1
#define EXIT_USAGE 2
#define DEFAULT_SHOWN_ERRORS 20
#define PROGRESS_MIN_BYTES (64u * 1024u * 1024u)

static const char kUsage[] =
    "usage: atf-validate [options] PATH\n"
    "\n"
    "PATH is a session directory (events.bin + trace.json) or an events.bin file; trace.json is\n"
    "taken from the same directory when present.\n"
    "\n"
    "options:\n"
    "  --json                 one JSON object on stdout instead of the summary\n"
    "  --max-errors N         keep and print at most N errors (default 20; all are counted)\n"
    "  --max-record-size B    longest record accepted, in bytes; K, M, G suffixes (default 64M)\n"
    "  --threads N            threads decoding records (default: one per online CPU, at most 8)\n"
    "  --quiet                print nothing on stdout; the exit status tells\n"
    "  --help, --version\n"
    "\n"
    "exit status: 0 valid, 1 invalid, 2 usage or I/O error\n";

typedef struct cli {
  bool json, quiet;
  atf_validate_options options;
  const char* path;
} cli;

static int usage_error(const char* fmt, const char* arg) {
  fputs("atf-validate: ", stderr);
  fprintf(stderr, fmt, arg);
  fputs(" (try --help)\n", stderr);
  return EXIT_USAGE;
}

// Parses a decimal count with an optional K/M/G (binary) suffix.
static bool parse_size(const char* s, uint64_t* out) {
  if (*s < '0' || *s > '9') return false;
  errno = 0;
  char* end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0) return false;
  unsigned shift = 0;
  if (*end == 'K' || *end == 'k') shift = 10, end++;
  else if (*end == 'M' || *end == 'm') shift = 20, end++;
  else if (*end == 'G' || *end == 'g') shift = 30, end++;
  if (*end != '\0' || (shift && v > (UINT64_MAX >> shift))) return false;
  *out = (uint64_t)v << shift;
  return true;
}

// Value of "--name=value" or "--name value"; NULL when arg is not --name.
static const char* option_value(int argc, char** argv, int* i, const char* name, bool* missing) {
  const size_t n = strlen(name);
  const char* arg = argv[*i];
  if (strncmp(arg, name, n) != 0) return NULL;
  if (arg[n] == '=') return arg + n + 1;
  if (arg[n] != '\0') return NULL;
  if (*i + 1 >= argc) {
    *missing = true;
    return NULL;
  }
  return argv[++*i];
}

// Returns -1 to go on, or an exit status.
static int parse_args(int argc, char** argv, cli* c) {
  atf_validate_options_init(&c->options);
  c->options.threads = 0; /* the tool: one decoding thread per online CPU (the library: 1) */
  c->options.max_errors = DEFAULT_SHOWN_ERRORS;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    bool missing = false;
    const char* value;
    if (options_done || arg[0] != '-' || strcmp(arg, "-") == 0) {
      if (c->path != NULL) return usage_error("more than one PATH: '%s'", arg);
      c->path = arg;
    } else if (strcmp(arg, "--") == 0) {
      options_done = true;
    } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      fputs(kUsage, stdout);
      return EXIT_VALID;
    } else if (strcmp(arg, "--version") == 0) {
      printf("atf-validate %s\n", ATF_VALIDATE_VERSION);
      return EXIT_VALID;
    } else if (strcmp(arg, "--json") == 0) {
      c->json = true;
    } else if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0) {
      c->quiet = true;
    } else if ((value = option_value(argc, argv, &i, "--max-errors", &missing)) != NULL) {
      uint64_t n;
      if (!parse_size(value, &n) || n > SIZE_MAX) return usage_error("invalid --max-errors '%s'", value);
      c->options.max_errors = (size_t)n;
    } else if ((value = option_value(argc, argv, &i, "--max-record-size", &missing)) != NULL) {
      uint64_t n;
      if (!parse_size(value, &n) || n == 0) return usage_error("invalid --max-record-size '%s'", value);
      c->options.max_record_size = n;
    } else if ((value = option_value(argc, argv, &i, "--threads", &missing)) != NULL) {
      uint64_t n;
      if (!parse_size(value, &n) || n == 0 || n > 1024) return usage_error("invalid --threads '%s'", value);
      c->options.threads = (unsigned)n;
    } else if (missing) {
      return usage_error("option '%s' needs a value", arg);
    } else {
      return usage_error("unknown option '%s'", arg);
    }
  }
  if (c->path == NULL) return usage_error("%s", "missing PATH");
  return -1;
}

static void show_progress(uint64_t done, uint64_t total, void* arg) {
  (void)arg;
  if (total < PROGRESS_MIN_BYTES) return;
  if (done >= total) {
    fputs("\r\033[K", stderr);
  } else {
    fprintf(stderr, "\ratf-validate: %3u%% (%" PRIu64 " of %" PRIu64 " MiB)", (unsigned)(done * 100 / total),
            done >> 20, total >> 20);
  }
  fflush(stderr);
}

static void print_summary(const cli* c, const atf_validate_report* r) {
  printf("%s: %s\n", c->path, r->valid ? "valid" : "INVALID");
  printf("  records %" PRIu64 ", bytes %" PRIu64 "\n", r->records, r->bytes);
  printf("  payloads:");
  for (int i = 0; i < ATF_VALIDATE_PAYLOAD_COUNT; ++i) {
    printf(" %s %" PRIu64, atf_validate_payload_name((atf_validate_payload)i), r->counts[i]);
  }
  printf("\n  threads %" PRIu64 "%s", r->threads, r->threads_capped ? " (table full: more not tracked)" : "");
  if (r->has_time) {
    const uint64_t span = r->time_max_ns - r->time_min_ns;
    printf(", time %" PRIu64 ".%09" PRIu64 " .. %" PRIu64 ".%09" PRIu64 " (%" PRIu64 ".%09" PRIu64 " s)",
           r->time_min_ns / 1000000000u, r->time_min_ns % 1000000000u, r->time_max_ns / 1000000000u,
           r->time_max_ns % 1000000000u, span / 1000000000u, span % 1000000000u);
  }
  printf("\n  manifest: %s", r->manifest_checked ? "checked" : "trace.json not found, manifest rules skipped");
  if (r->has_dropped_events) printf(", droppedEvents %" PRIu64, r->dropped_events);
  if (r->has_recovered) printf(", recovered %s", r->recovered ? "true" : "false");
  printf("\n  warnings %" PRIu64 " (unknown fields %" PRIu64 ")\n", r->warnings, r->unknown_fields);
  if (!r->valid) {
    printf("  valid prefix: %" PRIu64 " records, %" PRIu64 " bytes\n", r->valid_prefix_records,
           r->valid_prefix_bytes);
    printf("  errors %" PRIu64 "%s:\n", r->error_count, r->error_count > r->errors_len ? " (first ones shown)" : "");
  }
  for (size_t i = 0; i < r->errors_len; ++i) {
    const atf_validate_error* e = &r->errors[i];
    printf("    %s offset %" PRIu64, e->file, e->offset);
    if (e->record != ATF_VALIDATE_NO_RECORD) printf(" record %" PRIu64, e->record);
    printf(": %s: %s\n", e->rule, e->message);
  }
}

int main(int argc, char** argv) {
  cli c;
  memset(&c, 0, sizeof c);
  const int parsed = parse_args(argc, argv, &c);
  if (parsed >= 0) return parsed;
  if (isatty(STDERR_FILENO) && !c.quiet) {
    c.options.progress = show_progress;
  }
  atf_validate_report report;
  const atf_validate_status st = atf_validate_path(c.path, &c.options, &report);
  if (st != ATF_VALIDATE_OK) {
    fprintf(stderr, "atf-validate: %s\n", report.reason[0] ? report.reason : atf_validate_strerror(st));
    atf_validate_report_free(&report);
    return EXIT_USAGE;
  }
  if (c.json && !c.quiet) {
    atf_validate_report_write_json(&report, stdout);
  } else if (!c.quiet) {
    print_summary(&c, &report);
  }
  const int status = report.valid ? EXIT_VALID : EXIT_INVALID;
  atf_validate_report_free(&report);
  if (fflush(stdout) != 0) {
    fprintf(stderr, "atf-validate: writing the report failed: %s\n", strerror(errno));
    return EXIT_USAGE;
  }
  return status;
}
