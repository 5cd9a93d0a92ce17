/* Opening the files of a session without trusting what they are.
 *
 * A session directory may come from a tarball: events.bin or trace.json may be a FIFO (open()
 * would block until a writer appears), a socket, a device, a symbolic link, a /proc file whose
 * size says 0 but that holds text, or a name longer than any fixed buffer. These helpers look
 * before they open (fstatat), open without blocking (O_NONBLOCK, O_NOCTTY) and check again on the
 * descriptor, so anything but a regular file is refused at once with "not a regular file". Names
 * are opened relative to a directory descriptor, so no path is ever built in a fixed-size buffer.
 */
#ifndef ATF_VALIDATOR_INTERNAL_FILE_H_
#define ATF_VALIDATOR_INTERNAL_FILE_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "validator/internal/reader.h" /* ATF_MUST_USE */

#ifdef __cplusplus
extern "C" {
#endif

/* Opens `name` relative to dirfd (AT_FDCWD: the working directory) for reading. On success
 * returns 0 and sets *fd and *size. Otherwise returns an errno value (ENOENT, EACCES, ...) or
 * -1 with *why set to a description ("not a regular file", ...); strerror() describes the others.
 * With `nofollow`, a symbolic link is refused too. */
ATF_MUST_USE int atf_file_open(int dirfd, const char *name, bool nofollow, int *fd, uint64_t *size,
                               const char **why);

/* A description of a failure returned by atf_file_open. */
const char *atf_file_strerror(int err, const char *why);

/* Reads all of fd (at most limit bytes: reading stops after limit + 1, so an oversized file is
 * still detected), into a buffer sized for `size_hint` bytes (the file's size by fstat) and grown
 * if it holds more. On success *data (free() it; NUL-terminated) and *len. Returns 0 or an errno.
 */
ATF_MUST_USE int atf_file_read_all(int fd, uint64_t size_hint, size_t limit, char **data,
                                   size_t *len);

/* Opens the directory a session path names (relative to dirfd), for *at() calls. `path` is a
 * directory, or a file whose directory is wanted (then *leaf points at its last component inside
 * path). Returns a descriptor, or -1 with errno set; *owned says whether the caller must close it
 * (a file without a directory part yields dirfd itself). */
int atf_file_open_dir_of(int dirfd, const char *path, bool path_is_dir, const char **leaf,
                         bool *owned);

/* The process id a session path names: its directory's last component is "pid_<digits>" (the
 * writer names sessions <root>/session_.../pid_<pid>/). Trailing slashes are ignored; with
 * path_is_file the last component (events.bin) is dropped first. Returns false when the component
 * is not "pid_" and 1 to 10 digits of a value at most INT32_MAX. */
bool atf_file_pid_from_path(const char *path, bool path_is_file, uint64_t *pid);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ATF_VALIDATOR_INTERNAL_FILE_H_ */
