/* See file.h. */
#include "validator/internal/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "not a regular file (a directory)";
  if (S_ISFIFO(mode)) return "not a regular file (a FIFO)";
  if (S_ISSOCK(mode)) return "not a regular file (a socket)";
  if (S_ISCHR(mode)) return "not a regular file (a character device)";
  if (S_ISBLK(mode)) return "not a regular file (a block device)";
  if (S_ISLNK(mode)) return "not a regular file (a symbolic link)";
  return "not a regular file";
}

int atf_file_open(int dirfd, const char *name, bool nofollow, int *fd, uint64_t *size,
                  const char **why) {
  *fd = -1;
  *size = 0;
  *why = NULL;
  struct stat st;
  /* Look first: opening a FIFO blocks, opening a device may do anything. */
  if (fstatat(dirfd, name, &st, nofollow ? AT_SYMLINK_NOFOLLOW : 0) != 0) return errno;
  if (!S_ISREG(st.st_mode)) {
    *why = kind_of(st.st_mode);
    return -1;
  }
  /* Then open without blocking and look again, at what was opened (the name may have changed). */
  const int f = openat(dirfd, name,
                       O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
  if (f < 0) return errno;
  int err = 0;
  if (fstat(f, &st) != 0) {
    err = errno; /* fstat of a descriptor just opened: not reproducible in a test */
  } else if (!S_ISREG(st.st_mode)) {
    *why = kind_of(st.st_mode); /* replaced between the two looks: not reproducible in a test */
    err = -1;
  } else if (st.st_size == 0) {
    /* /proc files say 0 bytes whatever they hold: a size that cannot be trusted. */
    uint8_t b;
    ssize_t n;
    do n = pread(f, &b, 1, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
      err = errno;
    } else if (n > 0) {
      *why = "its size says 0 bytes but it holds data (a /proc file?)";
      err = -1;
    }
  }
  if (err != 0) {
    close(f);
    return err;
  }
  *fd = f;
  *size = (uint64_t)st.st_size;
  return 0;
}

const char *atf_file_strerror(int err, const char *why) {
  return err == -1 && why != NULL ? why : strerror(err);
}

int atf_file_read_all(int fd, uint64_t size_hint, size_t limit, char **data, size_t *len) {
  *data = NULL;
  *len = 0;
  size_t cap =
      (size_hint < limit ? (size_t)size_hint : limit) + 2; /* room for one more byte and a NUL */
  char *buf = malloc(cap);
  if (buf == NULL) return ENOMEM; /* at most ~1 MiB: not reproducible in a test */
  size_t got = 0;
  while (got < limit + 1) {
    if (got + 2 > cap) { /* the file holds more than its size said: grow, up to limit + 2 */
      const size_t bigger = cap > (limit + 2) / 2 ? limit + 2 : cap * 2;
      char *p = realloc(buf, bigger);
      if (p == NULL) { /* not reproducible in a test */
        free(buf);
        return ENOMEM;
      }
      buf = p;
      cap = bigger;
    }
    const ssize_t n = read(fd, buf + got, cap - 1 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      free(buf);
      return err;
    }
    if (n == 0) break;
    got += (size_t)n;
  }
  buf[got] = '\0';
  *data = buf;
  *len = got;
  return 0;
}

int atf_file_open_dir_of(int dirfd, const char *path, bool path_is_dir, const char **leaf,
                         bool *owned) {
  *leaf = NULL;
  *owned = true;
  if (path_is_dir) return openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const char *slash = strrchr(path, '/');
  if (slash == NULL) {
    *leaf = path;
    *owned = false;
    return dirfd;
  }
  *leaf = slash + 1;
  const size_t n = slash == path ? 1 : (size_t)(slash - path); /* "/events.bin": the root */
  char *dir = malloc(n + 1);
  if (dir == NULL) return -1; /* errno is ENOMEM; not reproducible in a test */
  memcpy(dir, path, n);
  dir[n] = '\0';
  const int fd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const int err = errno;
  free(dir);
  errno = err;
  return fd;
}

bool atf_file_pid_from_path(const char *path, bool path_is_file, uint64_t *pid) {
  size_t end = strlen(path);
  while (end > 0 && path[end - 1] == '/') end--;
  if (path_is_file) {
    while (end > 0 && path[end - 1] != '/') end--; /* drop the file's name */
    while (end > 0 && path[end - 1] == '/') end--;
  }
  size_t start = end;
  while (start > 0 && path[start - 1] != '/') start--;
  const char *c = path + start;
  const size_t n = end - start;
  if (n < 5 || n > 14 || strncmp(c, "pid_", 4) != 0) return false;
  uint64_t v = 0;
  for (size_t i = 4; i < n; ++i) {
    if (c[i] < '0' || c[i] > '9') return false;
    v = v * 10 + (uint64_t)(c[i] - '0');
  }
  if (v > INT32_MAX) return false;
  *pid = v;
  return true;
}
