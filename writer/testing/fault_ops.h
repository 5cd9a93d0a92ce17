// Test-only atf_file_ops that forward to the real system calls but inject faults: a disk that
// fills up after N bytes (a short write, then ENOSPC), EIO at the Nth write/fsync, short writes,
// EINTR before every call, failing rename/open; and that track open descriptors to catch leaks.
#ifndef ATF_WRITER_TESTING_FAULT_OPS_H_
#define ATF_WRITER_TESTING_FAULT_OPS_H_

#include <atomic>
#include <cstdint>
#include <set>
#include <string>
#include <thread>

#include "writer/atf/file_ops.h"

namespace atf_test {

struct FaultOps {
  FaultOps();
  const atf_file_ops *ops() const { return &table; }

  // Configuration (all off by default).
  int64_t space_left = -1;  // bytes any write may still add (all files); then ENOSPC
  int write_fail_at = -1;   // the write call (0-based) that fails with write_errno
  int write_errno = 0;
  size_t max_write = 0;    // > 0: every write writes at most this many bytes
  bool eintr = false;      // every write/fsync/rename/ftruncate first fails once with EINTR
  int fsync_fail_at = -1;  // the fsync call (0-based) that fails with fsync_errno
  int fsync_errno = 0;
  int rename_errno = 0;          // every rename fails with this
  std::string fail_open_suffix;  // open of a path ending with this fails with open_errno
  int open_errno = 0;

  // Observations.
  int writes = 0, fsyncs = 0, renames = 0, ftruncates = 0, eintrs = 0;
  std::set<int> open_fds;
  // Threads: writes made on a thread other than the one that created this object (the writer's
  // I/O thread), and calls that began while another call was still running (must stay 0: the
  // writer never runs file operations on two threads at once).
  std::thread::id owner = std::this_thread::get_id();
  int foreign_writes = 0;
  std::atomic<int> active{0}, overlaps{0};

  atf_file_ops table;
  bool pending_eintr = false;
};

}  // namespace atf_test

#endif  // ATF_WRITER_TESTING_FAULT_OPS_H_
