/* The real file operations (atf/file_ops.h) and retrying wrappers (internal/fileio.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "writer/atf/file_ops.h"
#include "writer/internal/fileio.h"

static int posix_open(void *ctx, const char *path, int flags, mode_t mode) {
  (void)ctx;
  return open(path, flags, mode);
}
static ssize_t posix_write(void *ctx, int fd, const void *buf, size_t len) {
  (void)ctx;
  return write(fd, buf, len);
}
static int posix_fsync(void *ctx, int fd) {
  (void)ctx;
  return fsync(fd);
}
static int posix_ftruncate(void *ctx, int fd, off_t len) {
  (void)ctx;
  return ftruncate(fd, len);
}
static int posix_close(void *ctx, int fd) {
  (void)ctx;
  return close(fd);
}
static int posix_rename(void *ctx, const char *from, const char *to) {
  (void)ctx;
  return rename(from, to);
}
static int posix_mkdir(void *ctx, const char *path, mode_t mode) {
  (void)ctx;
  return mkdir(path, mode);
}
static int posix_unlink(void *ctx, const char *path) {
  (void)ctx;
  return unlink(path);
}

const atf_file_ops *atf_file_ops_posix(void) {
  static const atf_file_ops kPosix = {NULL,         posix_open,      posix_write,
                                      posix_fsync,  posix_ftruncate, posix_close,
                                      posix_rename, posix_mkdir,     posix_unlink};
  return &kPosix;
}

int atf_write_all(const atf_file_ops *ops, int fd, const void *buf, size_t len, size_t *done) {
  const unsigned char *p = (const unsigned char *)buf;
  *done = 0;
  while (*done < len) {
    ssize_t n = ops->write(ops->ctx, fd, p + *done, len - *done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno != 0 ? errno : EIO;
    if (n == 0) return EIO;
    *done += (size_t)n;
  }
  return 0;
}

int atf_fsync_retry(const atf_file_ops *ops, int fd) {
  for (;;) {
    if (ops->fsync(ops->ctx, fd) == 0) return 0;
    if (errno != EINTR) return errno != 0 ? errno : EIO;
  }
}

int atf_rename_retry(const atf_file_ops *ops, const char *from, const char *to) {
  for (;;) {
    if (ops->rename(ops->ctx, from, to) == 0) return 0;
    if (errno != EINTR) return errno != 0 ? errno : EIO;
  }
}

int atf_fsync_dir(const atf_file_ops *ops, const char *dir) {
  int fd = ops->open(ops->ctx, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) return errno != 0 ? errno : EIO;
  int err = atf_fsync_retry(ops, fd);
  ops->close(ops->ctx, fd);
  return err;
}

atf_writer_status atf_status_from_errno(int err) {
  switch (err) {
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
      return ATF_WRITER_E_NO_SPACE;
    case EEXIST:
      return ATF_WRITER_E_EXISTS;
    case ENOMEM:
      return ATF_WRITER_E_NO_MEMORY;
    default:
      return ATF_WRITER_E_IO;
  }
}
