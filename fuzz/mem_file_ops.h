// mem_file_ops.h: an in-memory file system behind the writer's atf_file_ops seam, so the writer
// round-trip fuzzer exercises the writer's real file path (open, write, fsync, ftruncate, rename,
// mkdir, unlink) without touching the disk: fast, deterministic, and nothing left behind when the
// fuzzer stops. POSIX semantics for what the writer uses: O_CREAT|O_EXCL fails on an existing
// path, O_DIRECTORY needs a directory, mkdir fails with EEXIST, writes append at the file offset.
#ifndef ATF_FUZZ_MEM_FILE_OPS_H_
#define ATF_FUZZ_MEM_FILE_OPS_H_

#include <map>
#include <set>
#include <string>

#include "writer/atf/file_ops.h"

namespace atf_fuzz {

class MemFs {
 public:
  // Faults injected on events.bin (any path ending in "/events.bin"), for the durability tests.
  struct Faults {
    unsigned eintr_every = 0;     // every n-th write or fsync fails with EINTR first (retried)
    size_t short_write = 0;       // a write stores at most this many bytes (the caller continues)
    bool limit_on = false;        // the file cannot grow past `limit` bytes:
    uint64_t limit = 0;           //   the write reaching it is cut short, the next one fails
    int limit_errno = 0;          //   with this errno (ENOSPC, EIO)
    unsigned fsync_fail_at = 0;   // the n-th fsync fails with EIO
    bool truncate_fails = false;  // ftruncate fails with EIO once a hard fault was injected
  };

  MemFs();
  explicit MemFs(const Faults &faults);
  // Hard faults injected so far (ENOSPC/EIO on write, EIO on fsync); EINTR and short writes are
  // not counted.
  unsigned hard_faults() const { return hard_faults_; }
  const atf_file_ops *ops() const { return &ops_; }
  // Contents of a regular file; NULL when there is none at `path`.
  const std::string *File(const std::string &path) const;

 private:
  struct Open {
    std::string path;
    bool dir;
    size_t pos;
  };
  static int DoOpen(void *ctx, const char *path, int flags, mode_t mode);
  static ssize_t DoWrite(void *ctx, int fd, const void *buf, size_t len);
  static int DoFsync(void *ctx, int fd);
  static int DoFtruncate(void *ctx, int fd, off_t len);
  static int DoClose(void *ctx, int fd);
  static int DoRename(void *ctx, const char *from, const char *to);
  static int DoMkdir(void *ctx, const char *path, mode_t mode);
  static int DoUnlink(void *ctx, const char *path);

  bool IsEvents(int fd) const;

  atf_file_ops ops_;
  Faults faults_;
  unsigned calls_ = 0, fsyncs_ = 0, hard_faults_ = 0;
  std::set<std::string> dirs_;
  std::map<std::string, std::string> files_;
  std::map<int, Open> fds_;
  int next_fd_ = 3;
};

}  // namespace atf_fuzz

#endif  // ATF_FUZZ_MEM_FILE_OPS_H_
