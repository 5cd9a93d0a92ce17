#include "testing/fault_ops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace atf_test {
namespace {

FaultOps* Self(void* ctx) { return static_cast<FaultOps*>(ctx); }

// Alternates: the first attempt of each call fails with EINTR, the retry goes through.
bool InjectEintr(FaultOps* f) {
  if (!f->eintr) return false;
  f->pending_eintr = !f->pending_eintr;
  if (!f->pending_eintr) return false;
  f->eintrs++;
  errno = EINTR;
  return true;
}

int Open(void* ctx, const char* path, int flags, mode_t mode) {
  FaultOps* f = Self(ctx);
  const std::string p(path);
  const std::string& s = f->fail_open_suffix;
  if (!s.empty() && p.size() >= s.size() && p.compare(p.size() - s.size(), s.size(), s) == 0) {
    errno = f->open_errno;
    return -1;
  }
  int fd = open(path, flags, mode);
  if (fd >= 0) f->open_fds.insert(fd);
  return fd;
}

ssize_t Write(void* ctx, int fd, const void* buf, size_t len) {
  FaultOps* f = Self(ctx);
  if (InjectEintr(f)) return -1;
  const int call = f->writes++;
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

int Fsync(void* ctx, int fd) {
  FaultOps* f = Self(ctx);
  if (InjectEintr(f)) return -1;
  if (f->fsyncs++ == f->fsync_fail_at) {
    errno = f->fsync_errno;
    return -1;
  }
  return fsync(fd);
}

int Ftruncate(void* ctx, int fd, off_t len) {
  FaultOps* f = Self(ctx);
  if (InjectEintr(f)) return -1;
  f->ftruncates++;
  return ftruncate(fd, len);
}

int Close(void* ctx, int fd) {
  Self(ctx)->open_fds.erase(fd);
  return close(fd);
}

int Rename(void* ctx, const char* from, const char* to) {
  FaultOps* f = Self(ctx);
  if (InjectEintr(f)) return -1;
  f->renames++;
  if (f->rename_errno != 0) {
    errno = f->rename_errno;
    return -1;
  }
  return rename(from, to);
}

int Mkdir(void*, const char* path, mode_t mode) { return mkdir(path, mode); }
int Unlink(void*, const char* path) { return unlink(path); }

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
