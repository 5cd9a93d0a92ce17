/* atf-validate: checks an ATF V4 session and says whether it conforms to docs/format.md.
 * Exit status: 0 valid, 1 invalid, 2 usage or I/O error (one line on stderr). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "validator/atf/validate.h"
#include "validator/internal/cli.h"

#define EXIT_VALID 0
#define EXIT_INVALID 1
#define EXIT_USAGE 2
#define DEFAULT_SHOWN_ERRORS 20
#define PROGRESS_MIN_BYTES (64u * 1024u * 1024u)

static const char kUsage[] =
    "usage: atf-validate [options] PATH\n"
    "\n"
    "PATH is a session directory (events.bin + trace.json) or an events.bin file; trace.json is\n"
    "taken from the same directory when present. Anything but a regular file is refused.\n"
    "\n"
    "options (--opt VALUE or --opt=VALUE; -- ends the options):\n"
    "  --json                 one JSON object on stdout instead of the summary\n"
    "  --max-errors N         keep and print at most N errors, and N warnings (default 20, at "
    "most\n"
    "                         65536; all are counted)\n"
    "  --max-record-size B    longest record accepted, in bytes; K, M, G suffixes (default 64M)\n"
    "  --threads N            threads decoding records, 1 to 1024 (default: one per online CPU,\n"
    "                         at most 8)\n"
    "  --allow RULE           report violations of RULE as warnings, not errors (repeatable; RULE\n"
    "                         is an order.*, session.* or manifest.* rule, or such a group: "
    "order.*)\n"
    "  --profile P            strict (default): every rule; original: only what the original\n"
    "                         ATF V4 format states (order.*, session.*, manifest.uuid and\n"
    "                         manifest.time_range become warnings)\n"
    "  --engine E             record decoder: upb (default), nanopb, or both (each record decoded "
    "by\n"
    "                         both; any difference is an error, rule engine.disagree)\n"
    "  --quiet, -q            print nothing on stdout; the exit status tells\n"
    "  --help, -h, --version\n"
    "\n"
    "exit status: 0 valid (warnings allowed), 1 invalid, 2 usage or I/O error\n";

typedef struct cli {
  bool json, quiet;
  atf_validate_options options;
  const char *path;
} cli;

enum {
  OPT_HELP,
  OPT_VERSION,
  OPT_JSON,
  OPT_QUIET,
  OPT_MAX_ERRORS,
  OPT_MAX_RECORD,
  OPT_THREADS,
  OPT_ALLOW,
  OPT_PROFILE,
  OPT_ENGINE
};

static const atf_cli_option kOptions[] = {
    {"--help", "-h", false, OPT_HELP},
    {"--version", NULL, false, OPT_VERSION},
    {"--json", NULL, false, OPT_JSON},
    {"--quiet", "-q", false, OPT_QUIET},
    {"--max-errors", NULL, true, OPT_MAX_ERRORS},
    {"--max-record-size", NULL, true, OPT_MAX_RECORD},
    {"--threads", NULL, true, OPT_THREADS},
    {"--allow", NULL, true, OPT_ALLOW},
    {"--profile", NULL, true, OPT_PROFILE},
    {"--engine", NULL, true, OPT_ENGINE},
    {NULL, NULL, false, 0},
};

/* Applies one option; returns false after printing a usage error. */
static bool apply_option(const atf_cli *p, cli *c, int id, const char *value) {
  uint64_t n;
  switch (id) {
    case OPT_JSON:
      c->json = true;
      return true;
    case OPT_QUIET:
      c->quiet = true;
      return true;
    case OPT_MAX_ERRORS:
      if (!atf_cli_count(value, ATF_VALIDATE_MAX_ERRORS, &n)) break;
      c->options.max_errors = (size_t)n;
      return true;
    case OPT_MAX_RECORD:
      if (!atf_cli_size(value, &n) || n == 0) break;
      c->options.max_record_size = n;
      return true;
    case OPT_THREADS:
      if (!atf_cli_count(value, 1024, &n) || n == 0) break;
      c->options.threads = (unsigned)n;
      return true;
    case OPT_ALLOW:
      if (!atf_validate_rule_parse(value, &n)) break;
      if ((n & ~ATF_VALIDATE_ALLOWABLE_RULES) != 0) {
        atf_cli_error(p, "--allow '%s': a framing, wire or schema rule cannot be allowed", value);
        return false;
      }
      c->options.allowed_rules |= n;
      return true;
    case OPT_ENGINE:
      if (!atf_validate_engine_parse(value, &c->options.engine)) break;
      return true;
    case OPT_PROFILE:
      if (strcmp(value, "original") == 0) {
        c->options.allowed_rules |= ATF_VALIDATE_PROFILE_ORIGINAL;
      } else if (strcmp(value, "strict") != 0) {
        break;
      }
      return true;
  }
  atf_cli_error(p, "invalid %s '%s'", atf_cli_option_name(kOptions, id), value);
  return false;
}

static bool apply_cb(void *ctx, const atf_cli *p, int id, const char *value) {
  return apply_option(p, ctx, id, value);
}

/* Returns -1 to go on, or an exit status. */
static int parse_args(int argc, char **argv, cli *c) {
  atf_validate_options_init(&c->options);
  c->options.threads = 0; /* the tool: one decoding thread per online CPU (the library: 1) */
  c->options.max_errors = DEFAULT_SHOWN_ERRORS;
  const atf_cli_spec spec = {
      kOptions, OPT_HELP, OPT_VERSION, kUsage, "atf-validate " ATF_VALIDATE_VERSION, "PATH",
      apply_cb, c};
  switch (atf_cli_parse("atf-validate", argc, argv, &spec, &c->path)) {
    case ATF_CLI_PARSED:
      return -1;
    case ATF_CLI_DONE:
      return EXIT_VALID;
    default:
      return EXIT_USAGE;
  }
}

static void show_progress(uint64_t done, uint64_t total, void *arg) {
  (void)arg;
  if (total < PROGRESS_MIN_BYTES) return;
  if (done >= total) {
    fputs("\r\033[K", stderr);
  } else {
    fprintf(stderr, "\ratf-validate: %3u%% (%" PRIu64 " of %" PRIu64 " MiB)",
            (unsigned)(done * 100 / total), done >> 20, total >> 20);
  }
  fflush(stderr);
}

/* Text from the input (a message may quote it) on a terminal: C0 and C1 controls and DEL are
 * shown as \xNN, so a key holding newlines or escape sequences cannot fake lines of the summary. */
static void put_safe(const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; ++p) {
    const bool c1 = *p == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F;
    if (*p < 0x20 || *p == 0x7F || c1) {
      printf("\\x%02x", c1 ? *++p : *p);
    } else {
      putchar(*p);
    }
  }
}

static void print_list(const atf_validate_error *list, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    const atf_validate_error *e = &list[i];
    printf("    %s offset %" PRIu64, e->file, e->offset);
    if (e->record != ATF_VALIDATE_NO_RECORD) printf(" record %" PRIu64, e->record);
    printf(": %s: ", e->rule);
    put_safe(e->message);
    putchar('\n');
  }
}

static void print_summary(const cli *c, const atf_validate_report *r) {
  put_safe(c->path);
  printf(": %s\n", r->valid ? "valid" : "INVALID");
  printf("  records %" PRIu64 ", bytes %" PRIu64 "\n", r->records, r->bytes);
  printf("  payloads:");
  for (int i = 0; i < ATF_VALIDATE_PAYLOAD_COUNT; ++i) {
    printf(" %s %" PRIu64, atf_validate_payload_name((atf_validate_payload)i), r->counts[i]);
  }
  printf("\n  threads %" PRIu64 "%s", r->threads,
         r->threads_capped ? " (table full: more not tracked)" : "");
  if (r->has_time) {
    const uint64_t span = r->time_max_ns - r->time_min_ns;
    printf(", time %" PRIu64 ".%09" PRIu64 " .. %" PRIu64 ".%09" PRIu64 " (%" PRIu64 ".%09" PRIu64
           " s)",
           r->time_min_ns / 1000000000u, r->time_min_ns % 1000000000u, r->time_max_ns / 1000000000u,
           r->time_max_ns % 1000000000u, span / 1000000000u, span % 1000000000u);
  }
  printf("\n  manifest: %s",
         r->manifest_checked ? "checked" : "trace.json not found, manifest rules skipped");
  if (r->has_dropped_events) printf(", droppedEvents %" PRIu64, r->dropped_events);
  if (r->has_recovered) printf(", recovered %s", r->recovered ? "true" : "false");
  printf("\n  engine %s", atf_validate_engine_name(r->engine));
  if (r->engine_fallbacks > 0) {
    printf(" (%" PRIu64 " record(s) beyond the upb engine's bounds decoded by the nanopb engine)",
           r->engine_fallbacks);
  }
  printf("\n  warnings %" PRIu64 " (unknown fields %" PRIu64 ", allowed rules %" PRIu64
         ", engine fallbacks %" PRIu64 ")\n",
         r->warnings, r->unknown_fields, r->rule_warning_count, r->engine_fallbacks);
  if (r->calls_capped) {
    printf("  open-call budget full: %" PRIu64
           " returns checked for depth only (session.call_return)\n",
           r->calls_unchecked);
  }
  if (r->rule_warning_count > 0) {
    printf("  allowed rules broken %" PRIu64 "%s:\n", r->rule_warning_count,
           r->rule_warning_count > r->rule_warnings_len ? " (first ones shown)" : "");
    print_list(r->rule_warnings, r->rule_warnings_len);
  }
  if (!r->valid) {
    printf("  valid prefix: %" PRIu64 " records, %" PRIu64 " bytes\n", r->valid_prefix_records,
           r->valid_prefix_bytes);
    printf("  errors %" PRIu64 "%s:\n", r->error_count,
           r->error_count > r->errors_len ? " (first ones shown)" : "");
  }
  print_list(r->errors, r->errors_len);
}

int main(int argc, char **argv) {
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
    fprintf(stderr, "atf-validate: %s\n",
            report.reason[0] ? report.reason : atf_validate_strerror(st));
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
