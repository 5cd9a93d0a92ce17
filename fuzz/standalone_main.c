/* Runs a libFuzzer target's entry point over files and directories without libFuzzer: the
 * regression replay used by `bazel test //fuzz:all` and for reproducing a single crash input.
 *
 *   <target>_replay PATH...      each PATH a file or a directory (not recursive)
 *
 * Fails (exit 1) if no input at all was found, so a replay test cannot pass by running nothing.
 * A crash, sanitizer report or failed check inside the target aborts the process as it would
 * under libFuzzer. */
/* strdup and the dirent API are POSIX, not C11: declare them (an implicit int strdup truncates
 * the pointer). */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: cannot open %s\n", path);
    return -1;
  }
  size_t cap = 1 << 16, len = 0;
  uint8_t *buf = malloc(cap);
  size_t n;
  while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
    len += n;
    if (len == cap) {
      uint8_t *bigger = realloc(buf, cap *= 2);
      if (!bigger) {
        free(buf);
        buf = NULL;
      } else {
        buf = bigger;
      }
    }
  }
  fclose(f);
  if (!buf) {
    fprintf(stderr, "replay: out of memory reading %s\n", path);
    return -1;
  }
  /* Copy into an exact-size allocation so ASan catches reads past the end, as libFuzzer does. */
  uint8_t *exact = malloc(len ? len : 1);
  if (!exact) {
    free(buf);
    return -1;
  }
  memcpy(exact, buf, len);
  free(buf);
  LLVMFuzzerTestOneInput(exact, len);
  free(exact);
  return 0;
}

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  size_t inputs = 0;
  int errors = 0;
  for (int i = 1; i < argc; ++i) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "replay: %s: not found\n", argv[i]);
      ++errors;
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {
      errors += run_file(argv[i]) != 0;
      ++inputs;
      continue;
    }
    DIR *d = opendir(argv[i]);
    if (!d) {
      ++errors;
      continue;
    }
    char **names = NULL;
    size_t count = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.') continue;
      if (count == cap) {
        cap = cap ? cap * 2 : 64;
        char **bigger = realloc(names, cap * sizeof *names);
        if (!bigger) break;
        names = bigger;
      }
      names[count++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, count, sizeof *names, cmp); /* deterministic order */
    for (size_t k = 0; k < count; ++k) {
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[i], names[k]);
      if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        errors += run_file(path) != 0;
        ++inputs;
      }
      free(names[k]);
    }
    free(names);
  }
  printf("replay: %zu inputs, %d errors\n", inputs, errors);
  return inputs == 0 || errors != 0;
}
