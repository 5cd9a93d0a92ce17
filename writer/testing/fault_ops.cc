#include "writer/testing/fault_ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace atf_test {
namespace {

FaultOps *Self(void *ctx) { return static_cast<FaultOps *>(ctx); }

// Held for the duration of every call: counts calls that overlap another one.
class Busy {
 public:
  explicit Busy(void *ctx) : f_(Self(ctx)) {
    if (f_->active.fetch_add(1) != 0) f_->overlaps++;
  }
  ~Busy() { f_->active.fetch_sub(1); }

 private:
  FaultOps *f_;
};

// Alternates: the first attempt of each call fails with EINTR, the retry goes through.
bool InjectEintr(FaultOps *f) {
  if (!f->eintr) return false;
  f->pending_eintr = !f->pending_eintr;
  if (!f->pending_eintr) return false;
  f->eintrs++;
  errno = EINTR;
  return true;
}

int Open(void *ctx, const char *path, int flags, mode_t mode) {
  Busy busy(ctx);
  FaultOps *f = Self(ctx);
  const std::string p(path);
  const std::string &s = f->fail_open_suffix;
  if (!s.empty() && p.size() >= s.size() && p.compare(p.size() - s.size(), s.size(), s) == 0) {
    errno = f->open_errno;
    return -1;
  }
  int fd = open(path, flags, mode);
  if (fd >= 0) f->open_fds.insert(fd);
  return fd;
}

ssize_t Write(void *ctx, int fd, const void *buf, size_t len) {
  Busy busy(ctx);
  FaultOps *f = Self(ctx);
  if (InjectEintr(f)) return -1;
  const int call = f->writes++;
  if (std::this_thread::get_id() != f->owner) f->foreign_writes++;
  if (call == f->write_fail_at) {
    errno = f->write_errno;
    return -1;
  }
  if (f->max_write > 0) len = std::min(len, f->max_write);
  if (f->space_left >= 0) {
    if (f->space_left == 0) {
      errno = ENOSPC;
      return -1;
    }
    len = std::min(len, static_cast<size_t>(f->space_left));
  }
  ssize_t n = write(fd, buf, len);
  if (n > 0 && f->space_left >= 0) f->space_left -= n;
  return n;
}

int Fsync(void *ctx, int fd) {
  Busy busy(ctx);
  FaultOps *f = Self(ctx);
  if (InjectEintr(f)) return -1;
  if (f->fsyncs++ == f->fsync_fail_at) {
    errno = f->fsync_errno;
    return -1;
  }
  return fsync(fd);
}

int Ftruncate(void *ctx, int fd, off_t len) {
  Busy busy(ctx);
  FaultOps *f = Self(ctx);
  if (InjectEintr(f)) return -1;
  f->ftruncates++;
  return ftruncate(fd, len);
}

int Close(void *ctx, int fd) {
  Busy busy(ctx);
  Self(ctx)->open_fds.erase(fd);
  return close(fd);
}

int Rename(void *ctx, const char *from, const char *to) {
  Busy busy(ctx);
  FaultOps *f = Self(ctx);
  if (InjectEintr(f)) return -1;
  f->renames++;
  if (f->rename_errno != 0) {
    errno = f->rename_errno;
    return -1;
  }
  return rename(from, to);
}

int Mkdir(void *ctx, const char *path, mode_t mode) {
  Busy busy(ctx);
  return mkdir(path, mode);
}
int Unlink(void *ctx, const char *path) {
  Busy busy(ctx);
  return unlink(path);
}

}  // namespace

FaultOps::FaultOps() {
  table.ctx = this;
  table.open = Open;
  table.write = Write;
  table.fsync = Fsync;
  table.ftruncate = Ftruncate;
  table.close = Close;
  table.rename = Rename;
  table.mkdir = Mkdir;
  table.unlink = Unlink;
}

}  // namespace atf_test
