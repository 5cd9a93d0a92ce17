/* atf-recover: makes the session of a process that died valid again. See recover.h.
 *
 *   atf-recover [--truncate] [--dry-run] [--exit-code N] SESSION_DIR
 *
 * Exit status: the atf_recover_status value (0 = the session validates now, 1 = it validated
 * already and was not touched, 2 = manifest written but an invalid tail was kept: run again with
 * --truncate; 3.. errors).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recover/recover.h"

static int usage(void) {
  fprintf(stderr,
          "usage: atf-recover [--truncate] [--dry-run] [--exit-code N] SESSION_DIR\n"
          "  SESSION_DIR  <root>/session_.../pid_<pid>, holding events.bin\n"
          "  --truncate   cut the bytes after the longest valid prefix (a torn tail); without it\n"
          "               they are kept and the session stays invalid\n"
          "  --dry-run    say what would be done, change nothing\n"
          "  --exit-code  exit_code of the TraceEnd appended when there is none (default -1)\n");
  return ATF_RECOVER_E_USAGE;
}

int main(int argc, char **argv) {
  atf_recover_options o;
  atf_recover_options_init(&o);
  const char *dir = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--truncate") == 0) {
      o.truncate = 1;
    } else if (strcmp(argv[i], "--dry-run") == 0) {
      o.dry_run = 1;
    } else if (strcmp(argv[i], "--exit-code") == 0 && i + 1 < argc) {
      char *end = NULL;
      long v = strtol(argv[++i], &end, 10);
      if (*end != '\0' || v < INT32_MIN || v > INT32_MAX) return usage();
      o.exit_code = (int32_t)v;
    } else if (argv[i][0] == '-' || dir != NULL) {
      return usage();
    } else {
      dir = argv[i];
    }
  }
  if (dir == NULL) return usage();
  /* Under `bazel run` the working directory is the runfiles tree: resolve a relative path
   * against the directory the command was started from. */
  char resolved[4096];
  const char *base = getenv("BUILD_WORKING_DIRECTORY");
  if (dir[0] != '/' && base != NULL) {
    snprintf(resolved, sizeof resolved, "%s/%s", base, dir);
    dir = resolved;
  }
  atf_recover_result r;
  atf_recover_status st = atf_recover_session(dir, &o, &r);
  FILE *out = st <= ATF_RECOVER_TAIL_KEPT ? stdout : stderr;
  fprintf(out, "atf-recover: %s\n", r.message);
  return (int)st;
}
