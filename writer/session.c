/* The session's identity on disk: its directory, name, executable path and id. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <mach-o/dyld.h>
#include <sys/random.h> /* getentropy */
#endif

#include "writer/internal/fileio.h"
#include "writer/internal/writer_impl.h"

char *atf_session_path_join(const char *a, const char *b) {
  size_t n = strlen(a) + 1 + strlen(b) + 1;
  char *p = malloc(n);
  if (p != NULL) snprintf(p, n, "%s/%s", a, b);
  return p;
}

/* A label becomes a directory name: printable ASCII, no '/', not "." or "..", 1..128 bytes. */
int atf_session_label_valid(const char *label) {
  size_t n = strlen(label);
  if (n == 0 || n > 128 || strcmp(label, ".") == 0 || strcmp(label, "..") == 0) return 0;
  for (size_t i = 0; i < n; i++) {
    if (label[i] < 0x20 || label[i] > 0x7e || label[i] == '/') return 0;
  }
  return 1;
}

/* A manifest clock name: 1..64 printable ASCII characters. */
int atf_session_clock_name_valid(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > 64) return 0;
  for (size_t i = 0; i < n; i++) {
    if (name[i] < 0x20 || name[i] > 0x7e) return 0;
  }
  return 1;
}

char *atf_session_executable_path(void) {
  char path[4096];
  ssize_t n = -1;
#if defined(__linux__)
  n = readlink("/proc/self/exe", path, sizeof path - 1);
#elif defined(__APPLE__)
  uint32_t size = sizeof path;
  if (_NSGetExecutablePath(path, &size) == 0) n = (ssize_t)strlen(path);
#endif
  if (n < 0) n = 0;
  path[n] = '\0';
  return strdup(path);
}

/* A random session id in [1, 2^53): exact as a JSON number even for readers that use doubles. */
int atf_session_random_id(uint64_t *out) {
  uint64_t v = 0;
  do {
    if (getentropy(&v, sizeof v) != 0) return 0;
    v &= (UINT64_C(1) << 53) - 1;
  } while (v == 0);
  *out = v;
  return 1;
}

void atf_session_note_failure(const atf_writer_options *o, const char *operation, const char *path,
                              int err) {
  atf_writer_open_error *e = o->open_error;
  if (e == NULL || e->error_number != 0) return; /* the first failure is the cause */
  e->error_number = err;
  e->operation = operation;
  snprintf(e->path, sizeof e->path, "%s", path != NULL ? path : "");
}

/* Creates <root>/<session>/pid_<pid>/events.bin (root may exist; nothing else may) and makes the
 * new directory entries durable. */
atf_writer_status atf_session_create(atf_writer *w, const atf_writer_options *o, uint64_t now_ns) {
  char name[160];
  if (o->session_label != NULL) {
    snprintf(name, sizeof name, "session_%s", o->session_label);
  } else {
    time_t secs = (time_t)(now_ns / 1000000000u);
    struct tm tm;
    if (gmtime_r(&secs, &tm) == NULL) return ATF_WRITER_E_INVALID_ARGUMENT;
    snprintf(name, sizeof name, "session_%04d%02d%02d_%02d%02d%02d", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  char pid_name[24];
  snprintf(pid_name, sizeof pid_name, "pid_%" PRId32, w->pid);
  char *session = atf_session_path_join(o->output_root, name);
  w->session_dir = session != NULL ? atf_session_path_join(session, pid_name) : NULL;
  char *events =
      w->session_dir != NULL ? atf_session_path_join(w->session_dir, "events.bin") : NULL;
  atf_writer_status st = ATF_WRITER_OK;
  const atf_file_ops *ops = w->ops;
  int err = 0;
  const char *op = "create", *failed = NULL; /* what failed, on which path */
  if (events == NULL) {
    st = ATF_WRITER_E_NO_MEMORY;
  } else if (ops->mkdir(ops->ctx, o->output_root, 0755) != 0 && errno != EEXIST) {
    err = errno;
    failed = o->output_root;
  } else if (ops->mkdir(ops->ctx, session, 0755) != 0) {
    err = errno;
    failed = session;
  } else if (ops->mkdir(ops->ctx, w->session_dir, 0755) != 0) {
    err = errno;
    failed = w->session_dir;
  } else if ((w->fd = ops->open(ops->ctx, events,
                                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0) {
    err = errno;
    failed = events;
  } else {
    op = "sync";
    if ((err = atf_fsync_dir(ops, failed = w->session_dir)) == 0 &&
        (err = atf_fsync_dir(ops, failed = session)) == 0) {
      err = atf_fsync_dir(ops, failed = o->output_root);
    }
  }
  if (err != 0) {
    atf_session_note_failure(o, op, failed, err);
    w->last_errno = err;
    st = atf_status_from_errno(err);
    if (w->fd >= 0) {
      ops->close(ops->ctx, w->fd);
      ops->unlink(ops->ctx, events);
      w->fd = -1;
    }
  }
  free(session);
  free(events);
  return st;
}
