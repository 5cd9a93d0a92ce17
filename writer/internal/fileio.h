/* internal/fileio.h: retrying wrappers over atf_file_ops shared by the writer and the manifest. */
#ifndef ATF_WRITER_INTERNAL_FILEIO_H_
#define ATF_WRITER_INTERNAL_FILEIO_H_

#include <stddef.h>

#include "writer/atf/file_ops.h"
#include "writer/atf/writer.h"
#include "writer/internal/compiler.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes all of buf[0..len), retrying on EINTR and continuing after short writes. Returns 0, or
 * errno (a write that makes no progress counts as EIO). *done gets the bytes written either way. */
ATF_MUST_USE int atf_write_all(const atf_file_ops *ops, int fd, const void *buf, size_t len,
                               size_t *done);

/* fsync / rename, retried on EINTR. Return 0 or errno. */
ATF_MUST_USE int atf_fsync_retry(const atf_file_ops *ops, int fd);
ATF_MUST_USE int atf_rename_retry(const atf_file_ops *ops, const char *from, const char *to);

/* Opens `dir` read-only and fsyncs it, so entries created in it survive a power loss. */
ATF_MUST_USE int atf_fsync_dir(const atf_file_ops *ops, const char *dir);

/* ENOSPC, EDQUOT -> ATF_WRITER_E_NO_SPACE; EEXIST -> ATF_WRITER_E_EXISTS; ENOMEM ->
 * ATF_WRITER_E_NO_MEMORY; other -> ATF_WRITER_E_IO. */
atf_writer_status atf_status_from_errno(int err);

#ifdef __cplusplus
}
#endif

#endif /* ATF_WRITER_INTERNAL_FILEIO_H_ */
