/* atf-recover: makes the session of a process that died valid again, destroying nothing. See
 * atf/recover.h.
 *
 *   atf-recover [--truncate | --salvage] [--dry-run] [--exit-code N] [--engine E] SESSION_DIR
 *
 * The command line follows the grammar of atf-validate and atf-dump (validator/internal/cli.h).
 * Exit status: the atf_recover_status value (0 = the session validates now, 1 = it validated
 * already and was not touched, 2 = manifest written but an invalid tail was kept: run again with
 * --truncate or --salvage; 3 usage, 4 I/O, 5 nothing to keep, 6 still invalid, 7 cannot be
 * recovered this way, nothing changed). --help and --version exit 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recover/atf/recover.h"
#include "validator/atf/validate.h"
#include "validator/internal/cli.h"

static const char kUsage[] =
    "usage: atf-recover [options] SESSION_DIR\n"
    "\n"
    "SESSION_DIR is <root>/session_.../pid_<pid>, holding events.bin. Nothing is destroyed:\n"
    "what is removed is kept in a side file the summary names; an old trace.json is kept as\n"
    "trace.json.invalid (or .invalid.1, ...).\n"
    "\n"
    "options (--opt VALUE or --opt=VALUE; -- ends the options):\n"
    "  --truncate       cut the bytes after the longest valid prefix (a torn tail, or all after\n"
    "                   the first bad record), keeping them in events.bin.cut\n"
    "  --salvage        keep every record that still fits the session, dropping only broken and\n"
    "                   out-of-order ones; the original is kept whole as events.bin.orig\n"
    "  --dry-run        say what would be done, change nothing\n"
    "  --exit-code N    exit_code of the TraceEnd appended when there is none (default -1)\n"
    "  --engine E       record decoder of the validator's passes: upb (default), nanopb, or both\n"
    "                   (as atf-validate --engine)\n"
    "  --help, -h, --version\n"
    "\n"
    "without --truncate or --salvage, bytes after the valid prefix stay and the session stays\n"
    "invalid (exit 2)\n"
    "exit status: 0 recovered, 1 already valid (untouched), 2 tail kept, 3 usage, 4 I/O error,\n"
    "5 nothing to keep, 6 still invalid, 7 cannot be recovered this way (nothing changed)\n";

enum { OPT_HELP, OPT_VERSION, OPT_TRUNCATE, OPT_SALVAGE, OPT_DRY_RUN, OPT_EXIT_CODE, OPT_ENGINE };

static const atf_cli_option kOptions[] = {
    {"--help", "-h", false, OPT_HELP},         {"--version", NULL, false, OPT_VERSION},
    {"--truncate", NULL, false, OPT_TRUNCATE}, {"--salvage", NULL, false, OPT_SALVAGE},
    {"--dry-run", NULL, false, OPT_DRY_RUN},   {"--exit-code", NULL, true, OPT_EXIT_CODE},
    {"--engine", NULL, true, OPT_ENGINE},      {NULL, NULL, false, 0},
};

/* Applies one option of kOptions to the atf_recover_options `ctx`. */
static bool apply_option(void *ctx, const atf_cli *p, int id, const char *value) {
  atf_recover_options *o = ctx;
  switch (id) {
    case OPT_TRUNCATE:
      o->truncate = 1;
      return true;
    case OPT_SALVAGE:
      o->salvage = 1;
      return true;
    case OPT_DRY_RUN:
      o->dry_run = 1;
      return true;
    case OPT_EXIT_CODE:
      if (atf_cli_int32(value, &o->exit_code)) return true;
      atf_cli_error(p, "invalid --exit-code '%s'", value);
      return false;
    case OPT_ENGINE: {
      atf_validate_engine e;
      if (atf_validate_engine_parse(value, &e)) {
        o->engine = (int)e;
        return true;
      }
      atf_cli_error(p, "invalid --engine '%s' (upb, nanopb or both)", value);
      return false;
    }
  }
  return false;
}

int main(int argc, char **argv) {
  atf_recover_options o;
  atf_recover_options_init(&o);
  const char *dir = NULL;
  atf_cli p;
  atf_cli_init(&p, "atf-recover", argc, argv);
  const atf_cli_spec spec = {kOptions,      OPT_HELP,     OPT_VERSION, kUsage, "atf-recover 1.1.0",
                             "SESSION_DIR", apply_option, &o};
  switch (atf_cli_parse("atf-recover", argc, argv, &spec, &dir)) {
    case ATF_CLI_PARSED:
      break;
    case ATF_CLI_DONE:
      return 0;
    default:
      return ATF_RECOVER_E_USAGE;
  }
  if (o.truncate && o.salvage) {
    atf_cli_error(&p, "--truncate and --salvage exclude each other");
    return ATF_RECOVER_E_USAGE;
  }
  /* Under `bazel run` the working directory is the runfiles tree: resolve a relative path
   * against the directory the command was started from. */
  char *resolved = NULL;
  const char *base = getenv("BUILD_WORKING_DIRECTORY");
  if (dir[0] != '/' && base != NULL) {
    const size_t n = strlen(base) + 1 + strlen(dir) + 1;
    if ((resolved = malloc(n)) == NULL) return ATF_RECOVER_E_IO;
    snprintf(resolved, n, "%s/%s", base, dir);
    dir = resolved;
  }
  atf_recover_result r;
  const atf_recover_status st = atf_recover_session(dir, &o, &r);
  FILE *out = st <= ATF_RECOVER_TAIL_KEPT ? stdout : stderr;
  fprintf(out, "atf-recover: %s\n", r.message);
  free(resolved);
  return (int)st;
}
