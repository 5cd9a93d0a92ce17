/* atf/file_ops.h: the writer's file-operation seam.
 *
 * Every system call the writer makes on files and directories goes through this table, so tests
 * can inject ENOSPC, EIO, short writes and EINTR at any call. Each function behaves like the POSIX
 * call of the same name: it returns -1 (or a short count for write) and sets errno on failure.
 * `ctx` is passed back unchanged. atf_file_ops_posix() returns the table of real system calls.
 */
#ifndef ATF_FILE_OPS_H_
#define ATF_FILE_OPS_H_

#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct atf_file_ops {
  void *ctx;
  int (*open)(void *ctx, const char *path, int flags, mode_t mode);
  ssize_t (*write)(void *ctx, int fd, const void *buf, size_t len);
  int (*fsync)(void *ctx, int fd);
  int (*ftruncate)(void *ctx, int fd, off_t len);
  int (*close)(void *ctx, int fd);
  int (*rename)(void *ctx, const char *from, const char *to);
  int (*mkdir)(void *ctx, const char *path, mode_t mode);
  int (*unlink)(void *ctx, const char *path);
} atf_file_ops;

/* The real system calls. */
const atf_file_ops *atf_file_ops_posix(void);

#ifdef __cplusplus
}
#endif

#endif /* ATF_FILE_OPS_H_ */
