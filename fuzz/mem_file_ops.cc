#include "fuzz/mem_file_ops.h"

#include <errno.h>
#include <fcntl.h>

#include <cstring>

namespace atf_fuzz {

static std::string Parent(const std::string &path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

MemFs::MemFs() : MemFs(Faults()) {}

MemFs::MemFs(const Faults &faults) : faults_(faults) {
  ops_ = {this, DoOpen, DoWrite, DoFsync, DoFtruncate, DoClose, DoRename, DoMkdir, DoUnlink};
  dirs_.insert("/");
  dirs_.insert(".");
}

bool MemFs::IsEvents(int fd) const {
  auto it = fds_.find(fd);
  static const std::string kName = "/events.bin";
  return it != fds_.end() && it->second.path.size() >= kName.size() &&
         it->second.path.compare(it->second.path.size() - kName.size(), kName.size(), kName) == 0;
}

const std::string *MemFs::File(const std::string &path) const {
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : &it->second;
}

int MemFs::DoOpen(void *ctx, const char *path, int flags, mode_t) {
  MemFs *fs = static_cast<MemFs *>(ctx);
  const std::string p(path);
  const bool is_dir = fs->dirs_.count(p) != 0;
  const bool is_file = fs->files_.count(p) != 0;
  if (flags & O_DIRECTORY) {
    if (!is_dir) return errno = is_file ? ENOTDIR : ENOENT, -1;
  } else if (is_dir) {
    return errno = EISDIR, -1;
  } else if (is_file && (flags & O_CREAT) && (flags & O_EXCL)) {
    return errno = EEXIST, -1;
  } else if (!is_file) {
    if (!(flags & O_CREAT)) return errno = ENOENT, -1;
    if (fs->dirs_.count(Parent(p)) == 0) return errno = ENOENT, -1;
    fs->files_[p];
  }
  if (!(flags & O_DIRECTORY) && (flags & O_TRUNC)) fs->files_[p].clear();
  const int fd = fs->next_fd_++;
  fs->fds_[fd] = Open{p, is_dir, 0};
  return fd;
}

ssize_t MemFs::DoWrite(void *ctx, int fd, const void *buf, size_t len) {
  MemFs *fs = static_cast<MemFs *>(ctx);
  auto it = fs->fds_.find(fd);
  if (it == fs->fds_.end() || it->second.dir) return errno = EBADF, -1;
  if (fs->IsEvents(fd)) {
    const Faults &f = fs->faults_;
    if (f.eintr_every && ++fs->calls_ % f.eintr_every == 0) return errno = EINTR, -1;
    if (f.short_write && len > f.short_write) len = f.short_write;
    if (f.limit_on && it->second.pos + len > f.limit) {
      if (it->second.pos >= f.limit) {
        fs->hard_faults_++;
        return errno = f.limit_errno, -1;
      }
      len = static_cast<size_t>(f.limit - it->second.pos);
    }
  }
  std::string &f = fs->files_[it->second.path];
  if (f.size() < it->second.pos) f.resize(it->second.pos, '\0');
  f.replace(it->second.pos, len, static_cast<const char *>(buf), len);
  it->second.pos += len;
  return static_cast<ssize_t>(len);
}

int MemFs::DoFsync(void *ctx, int fd) {
  MemFs *fs = static_cast<MemFs *>(ctx);
  if (!fs->fds_.count(fd)) return errno = EBADF, -1;
  if (fs->IsEvents(fd)) {
    const Faults &f = fs->faults_;
    if (f.eintr_every && ++fs->calls_ % f.eintr_every == 0) return errno = EINTR, -1;
    if (f.fsync_fail_at && ++fs->fsyncs_ == f.fsync_fail_at) {
      fs->hard_faults_++;
      return errno = EIO, -1;
    }
  }
  return 0;
}

int MemFs::DoFtruncate(void *ctx, int fd, off_t len) {
  MemFs *fs = static_cast<MemFs *>(ctx);
  auto it = fs->fds_.find(fd);
  if (it == fs->fds_.end() || it->second.dir || len < 0) return errno = EINVAL, -1;
  if (fs->IsEvents(fd) && fs->faults_.truncate_fails && fs->hard_faults_ > 0)
    return errno = EIO, -1;
  fs->files_[it->second.path].resize(static_cast<size_t>(len), '\0');
  return 0;
}

int MemFs::DoClose(void *ctx, int fd) {
  MemFs *fs = static_cast<MemFs *>(ctx);
  return fs->fds_.erase(fd) ? 0 : (errno = EBADF, -1);
}

int MemFs::DoRename(void *ctx, const char *from, const char *to) {
  MemFs *fs = static_cast<MemFs *>(ctx);
  auto it = fs->files_.find(from);
  if (it == fs->files_.end()) return errno = ENOENT, -1;
  if (fs->dirs_.count(to)) return errno = EISDIR, -1;
  std::string data = std::move(it->second);
  fs->files_.erase(it);
  fs->files_[to] = std::move(data);
  return 0;
}

int MemFs::DoMkdir(void *ctx, const char *path, mode_t) {
  MemFs *fs = static_cast<MemFs *>(ctx);
  const std::string p(path);
  if (fs->dirs_.count(p) || fs->files_.count(p)) return errno = EEXIST, -1;
  if (fs->dirs_.count(Parent(p)) == 0) return errno = ENOENT, -1;
  fs->dirs_.insert(p);
  return 0;
}

int MemFs::DoUnlink(void *ctx, const char *path) {
  MemFs *fs = static_cast<MemFs *>(ctx);
  return fs->files_.erase(path) ? 0 : (errno = ENOENT, -1);
}

}  // namespace atf_fuzz
