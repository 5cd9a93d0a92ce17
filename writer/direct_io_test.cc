// Direct I/O (atf_writer_options.direct_io): events.bin written with O_DIRECT holds exactly the
// bytes a buffered session holds, for many buffer sizes, batch sizes and flush patterns (the
// partial block carried over, a flush or write_out in the middle of a block, events larger than the
// buffer), with and without the I/O thread; the file never claims more than it holds; a
// filesystem that refuses O_DIRECT (ramfs) gets buffered writes, not an error; a write that fails
// (a file size limit: real system calls, as direct I/O requires) keeps the same complete records as
// a buffered session with the same limit.
#include <gtest/gtest.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "writer/atf/writer.h"
#include "writer/testing/decode.h"
#include "writer/testing/records.h"
#include "writer/testing/session.h"

namespace {

using atf_test::Batch;
using atf_test::Options;

uint64_t FileSize(const std::string &path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : UINT64_MAX;
}

// Whether a file in `dir` can be opened with O_DIRECT (what the writer's fcntl will get).
bool DirectSupported(const std::string &dir) {
  const std::string p = dir + "/probe";
  int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_DIRECT, 0600);
  const bool ok = fd >= 0;
  if (fd >= 0) close(fd);
  unlink(p.c_str());
  return ok;
}

struct Config {
  int direct, io;
  size_t buffer_bytes;
  uint64_t max_file_bytes;
};

struct Result {
  std::string events, manifest, error;  // error: "" or what went wrong on the way
  int direct = -1, refused = -1;
  atf_writer_status failed = ATF_WRITER_OK;  // the first call that failed (limit runs)
  int last_errno = 0;
};

std::string Cfg(const Config &c) {
  return "direct " + std::to_string(c.direct) + ", io " + std::to_string(c.io) + ", buffer " +
         std::to_string(c.buffer_bytes);
}

// A session driven by `seed`: batches of 1..1500 calls and returns with stacks of 0..256 bytes
// (records of every length, so boundaries fall anywhere in a block), flush or write_out after some
// batches, now and then an event larger than the buffer (its symbol is 70..140 KiB). Checked on
// the way: the file never holds less than bytes_written claims; after every flush and write_out it
// holds exactly that, with nothing buffered; events accepted == written + buffered. Stops at the
// first failing call (a limit run) and records it.
Result RunSession(const std::string &root, const std::string &label, const Config &c,
                  uint32_t seed) {
  Result r;
  Options opt(root, label.c_str());
  opt.o.direct_io = c.direct;
  opt.o.io_thread = c.io;
  opt.o.buffer_bytes = c.buffer_bytes;
  opt.o.max_file_bytes = c.max_file_bytes;
  atf_writer *w = nullptr;
  atf_writer_status st = atf_writer_open(&opt.o, &w);
  if (st != ATF_WRITER_OK) {
    r.failed = st;
    r.error = std::string("open: ") + atf_writer_strerror(st);
    return r;
  }
  const std::string dir = atf_writer_session_dir(w);
  const std::string events = dir + "/events.bin";
  r.direct = atf_writer_direct_io(w, &r.refused);
  std::mt19937 rng(seed);
  uint32_t small = 0, big = 0;
  atf_writer_intern_symbol(w, "f", 1, &small);
  const std::string big_name(70000 + rng() % 70000, 'b');
  atf_writer_intern_symbol(w, big_name.data(), big_name.size(), &big);
  uint64_t accepted = 1, ts = 1700000000000000000ull;
  auto check = [&](const char *where, bool exact) {
    atf_writer_stats s;
    atf_writer_get_stats(w, &s);
    const uint64_t size = FileSize(events);
    if (s.events_written + s.events_buffered != accepted && r.error.empty())
      r.error = std::string(where) + ": written + buffered != accepted";
    if (s.bytes_written > size && r.error.empty())
      r.error = std::string(where) + ": bytes_written " + std::to_string(s.bytes_written) +
                " > file size " + std::to_string(size);
    if (exact && (s.bytes_written != size || s.events_buffered != 0) && r.error.empty())
      r.error = std::string(where) + ": file " + std::to_string(size) + " bytes_written " +
                std::to_string(s.bytes_written) + " buffered " + std::to_string(s.events_buffered);
  };
  for (int round = 0; round < 40 && st == ATF_WRITER_OK; round++) {
    Batch b;
    const int n = 1 + static_cast<int>(rng() % 1500);
    for (int i = 0; i < n; i++) {
      ts++;
      if (rng() % 600 == 0) {
        b.Call(2, ts, 0x2000, big, {1, 2});
      } else if (i % 2 == 0) {
        b.Call(1, ts, 0x1000 + i, small, {ts, static_cast<uint64_t>(i), 3},
               std::string(rng() % 257, static_cast<char>(i)));
      } else {
        b.Return(1, ts, 0x1000 + i, small, {static_cast<uint64_t>(rng())});
      }
    }
    uint64_t taken = 0;
    st = atf_writer_append(w, b.data(), b.size(), &taken);
    accepted += taken;
    if (st != ATF_WRITER_OK) break;
    check("append", false);
    switch (rng() % 4) {
      case 0:
        st = atf_writer_flush(w);
        if (st == ATF_WRITER_OK) check("flush", true);
        break;
      case 1:
        st = atf_writer_write_out(w);
        if (st == ATF_WRITER_OK) check("write_out", true);
        break;
      default:
        break;
    }
  }
  if (st == ATF_WRITER_OK) st = atf_writer_finalize(w, 3);
  if (st == ATF_WRITER_OK) {
    accepted++;
    check("finalize", true);
  } else {
    r.failed = st;
    // A limit is no failure: what is buffered is written out (and must then all be in the file).
    if (st == ATF_WRITER_E_LIMIT && atf_writer_write_out(w) != ATF_WRITER_OK)
      r.error = "write_out after the limit";
    r.last_errno = atf_writer_last_errno(w);
    atf_writer_stats s;
    atf_writer_get_stats(w, &s);
    if (s.bytes_written != FileSize(events) && r.error.empty())
      r.error = "after the failure: file " + std::to_string(FileSize(events)) + " bytes_written " +
                std::to_string(s.bytes_written);
    std::vector<atf_test::Event> decoded;
    uint64_t bytes = 0;
    std::string err = atf_test::ReadSession(dir, &decoded, &bytes);
    if (!err.empty() && r.error.empty()) r.error = "after the failure: " + err;
    if (decoded.size() != s.events_written && r.error.empty())
      r.error = "after the failure: " + std::to_string(decoded.size()) +
                " events in the file, events_written " + std::to_string(s.events_written);
  }
  atf_writer_close(w);
  r.events = atf_test::ReadFile(events);
  r.manifest = atf_test::ReadFile(dir + "/trace.json");
  return r;
}

class DirectIoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = atf_test::MakeTempDir("direct");
    ASSERT_FALSE(root_.empty());
    direct_ok_ = DirectSupported(root_);
  }
  std::string root_;
  bool direct_ok_ = false;
};

// The same records, flushes and oversized events give the same events.bin and trace.json with and
// without O_DIRECT, inline and with the I/O thread, for buffer sizes that are and are not a
// multiple of the block.
TEST_F(DirectIoTest, SameBytesAsBuffered) {
  if (!direct_ok_)
    std::printf("note: %s refuses O_DIRECT: this runs the fallback\n", root_.c_str());
  int label = 0;
  for (size_t buffer : {size_t{64} << 10, size_t{100000}, size_t{1} << 20}) {
    for (uint32_t seed : {1u, 2u, 3u}) {
      const Config ref_cfg{0, 0, buffer, 0};
      const Result ref = RunSession(root_, "r" + std::to_string(label++), ref_cfg, seed);
      ASSERT_EQ(ref.error, "");
      ASSERT_EQ(ref.failed, ATF_WRITER_OK);
      ASSERT_EQ(ref.direct, 0);
      ASSERT_GT(ref.events.size(), size_t{100} << 10);
      for (int io = 0; io < 2; io++) {
        for (int direct = 0; direct < 2; direct++) {
          const Config c{direct, io, buffer, 0};
          SCOPED_TRACE(Cfg(c) + ", seed " + std::to_string(seed));
          const Result r = RunSession(root_, "r" + std::to_string(label++), c, seed);
          EXPECT_EQ(r.error, "");
          EXPECT_EQ(r.failed, ATF_WRITER_OK);
          EXPECT_EQ(r.direct, direct && direct_ok_ ? 1 : 0);
          EXPECT_EQ(r.refused, direct && !direct_ok_ ? EINVAL : 0);
          EXPECT_TRUE(r.events == ref.events) << r.events.size() << " vs " << ref.events.size();
          EXPECT_EQ(r.manifest, ref.manifest);
        }
      }
    }
  }
}

// Small steps around the block: write_out after every few events, so that the file ends inside a
// block again and again and the next direct write rewrites that block whole; at each step the
// file holds exactly what bytes_written says.
TEST_F(DirectIoTest, WriteOutInTheMiddleOfABlock) {
  for (int io = 0; io < 2; io++) {
    std::string files[2];
    for (int direct = 0; direct < 2; direct++) {
      SCOPED_TRACE("direct " + std::to_string(direct) + ", io " + std::to_string(io));
      const std::string label = "m" + std::to_string(io) + std::to_string(direct);
      Options opt(root_, label.c_str());
      opt.o.direct_io = direct;
      opt.o.io_thread = io;
      opt.o.buffer_bytes = 64 << 10;
      atf_writer *w = nullptr;
      ASSERT_EQ(atf_writer_open(&opt.o, &w), ATF_WRITER_OK);
      EXPECT_EQ(atf_writer_direct_io(w, nullptr), direct && direct_ok_ ? 1 : 0);
      const std::string events = std::string(atf_writer_session_dir(w)) + "/events.bin";
      uint32_t sym;
      ASSERT_EQ(atf_writer_intern_symbol(w, "g", 1, &sym), ATF_WRITER_OK);
      for (int i = 0; i < 3000; i++) {
        Batch b;
        for (int j = 0; j <= i % 5; j++)
          b.Call(1, 1700000000000000000ull + i, 0x10, sym, {1}, std::string(i % 97, 's'));
        ASSERT_EQ(atf_writer_write(w, b.data(), b.size()), ATF_WRITER_OK);
        if (i % 7 == 0) {
          ASSERT_EQ(i % 21 == 0 ? atf_writer_flush(w) : atf_writer_write_out(w), ATF_WRITER_OK);
          atf_writer_stats s;
          atf_writer_get_stats(w, &s);
          ASSERT_EQ(FileSize(events), s.bytes_written) << "step " << i;
          ASSERT_EQ(s.events_buffered, 0u);
          if (i % 21 == 0) ASSERT_EQ(s.bytes_durable, s.bytes_written);
        }
      }
      ASSERT_EQ(atf_writer_finalize(w, 0), ATF_WRITER_OK);
      atf_writer_close(w);
      files[direct] = atf_test::ReadFile(events);
    }
    EXPECT_GT(files[0].size(), size_t{512} << 10);
    EXPECT_TRUE(files[0] == files[1]);
  }
}

// A close without finalize writes the carried partial block too: the file ends at the last record.
TEST_F(DirectIoTest, CloseWithoutFinalizeWritesTheCarriedBlock) {
  for (int io = 0; io < 2; io++) {
    SCOPED_TRACE(io ? "io_thread" : "inline");
    Options opt(root_, io ? "c1" : "c0");
    opt.o.direct_io = 1;
    opt.o.io_thread = io;
    opt.o.buffer_bytes = 64 << 10;
    atf_writer *w = nullptr;
    ASSERT_EQ(atf_writer_open(&opt.o, &w), ATF_WRITER_OK);
    const std::string dir = atf_writer_session_dir(w);
    uint32_t sym;
    ASSERT_EQ(atf_writer_intern_symbol(w, "h", 1, &sym), ATF_WRITER_OK);
    Batch b;
    for (int i = 0; i < 1001; i++) b.Call(1, 1700000000000000000ull + i, 0x10, sym, {1, 2}, "abc");
    ASSERT_EQ(atf_writer_write(w, b.data(), b.size()), ATF_WRITER_OK);
    atf_writer_close(w);
    std::vector<atf_test::Event> decoded;
    uint64_t bytes = 0;
    EXPECT_EQ(atf_test::ReadSession(dir, &decoded, &bytes), "");
    EXPECT_EQ(decoded.size(), 1002u);
    EXPECT_NE(bytes % 4096, 0u);  // ends inside a block, not padded
  }
}

// Pages of events.bin in the page cache, in [0, bytes).
size_t ResidentPages(const std::string &path, size_t bytes) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return SIZE_MAX;
  void *m = mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (m == MAP_FAILED) return SIZE_MAX;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> vec((bytes + page - 1) / page);
  size_t resident = SIZE_MAX;
  if (mincore(m, bytes, vec.data()) == 0) {
    resident = 0;
    for (unsigned char v : vec) resident += v & 1;
  }
  munmap(m, bytes);
  return resident;
}

// The writes really bypass the page cache: after a session of several MiB with write_outs on the
// way (each leaves its partial block in the page cache, which the next direct write of that block
// drops), no page of events.bin before its last block is cached; a buffered session with
// keep_page_cache has them all.
TEST_F(DirectIoTest, NoPageCacheBehindTheLastBlock) {
  struct statfs fs;
  ASSERT_EQ(statfs(root_.c_str(), &fs), 0);
  if (fs.f_type == 0x01021994 /* TMPFS_MAGIC: memory is the file */ || !direct_ok_)
    GTEST_SKIP() << root_ << " is on tmpfs or refuses O_DIRECT";
  for (int direct = 0; direct < 2; direct++) {
    for (int io = 0; io < 2; io++) {
      SCOPED_TRACE("direct " + std::to_string(direct) + ", io " + std::to_string(io));
      const std::string label = "p" + std::to_string(direct) + std::to_string(io);
      Options opt(root_, label.c_str());
      opt.o.direct_io = direct;
      opt.o.keep_page_cache = 1;
      opt.o.io_thread = io;
      atf_writer *w = nullptr;
      ASSERT_EQ(atf_writer_open(&opt.o, &w), ATF_WRITER_OK);
      const std::string events = std::string(atf_writer_session_dir(w)) + "/events.bin";
      uint32_t sym;
      ASSERT_EQ(atf_writer_intern_symbol(w, "k", 1, &sym), ATF_WRITER_OK);
      Batch b;
      for (int i = 0; i < 5000; i++)
        b.Call(1, 1700000000000000000ull + i, 0x10, sym, {1, 2}, std::string(i % 200, 'z'));
      for (int round = 0; round < 6; round++) {
        ASSERT_EQ(atf_writer_write(w, b.data(), b.size()), ATF_WRITER_OK);
        ASSERT_EQ(atf_writer_write_out(w), ATF_WRITER_OK);
      }
      ASSERT_EQ(atf_writer_finalize(w, 0), ATF_WRITER_OK);
      atf_writer_close(w);
      const uint64_t size = FileSize(events);
      ASSERT_GT(size, uint64_t{4} << 20);
      const size_t before_last = static_cast<size_t>(size & ~uint64_t{4095});
      const size_t resident = ResidentPages(events, before_last);
      if (direct) {
        EXPECT_EQ(resident, 0u);
      } else {
        EXPECT_EQ(resident, before_last / 4096);
      }
    }
  }
}

// tmpfs: on kernels before 6.6 it refuses O_DIRECT (fallback), from 6.6 on it takes it; either
// way the bytes are those of a buffered session and atf_writer_direct_io() says which it was.
TEST_F(DirectIoTest, DevShm) {
  const std::string shm = "/dev/shm";
  if (access(shm.c_str(), W_OK) != 0) GTEST_SKIP() << "no writable /dev/shm";
  char tmpl[] = "/dev/shm/atf_direct_XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string root = tmpl;
  const bool ok = DirectSupported(root);
  std::printf("note: /dev/shm %s O_DIRECT\n", ok ? "takes" : "refuses");
  const Result ref = RunSession(root, "ref", {0, 0, 64 << 10, 0}, 7);
  ASSERT_EQ(ref.error, "");
  for (int io = 0; io < 2; io++) {
    const Result r = RunSession(root, io ? "d1" : "d0", {1, io, 64 << 10, 0}, 7);
    EXPECT_EQ(r.error, "");
    EXPECT_EQ(r.direct, ok ? 1 : 0);
    EXPECT_EQ(r.refused, ok ? 0 : EINVAL);
    EXPECT_TRUE(r.events == ref.events);
    EXPECT_EQ(r.manifest, ref.manifest);
  }
  std::string cmd = "rm -rf '" + root + "'";
  EXPECT_EQ(system(cmd.c_str()), 0);
}

// A child process: `body` returns "" or an error, which comes back through a pipe; the exit
// status 77 means "cannot run here" (a skip).
std::string InChild(const std::function<std::string()> &body, bool *skipped) {
  int p[2];
  if (pipe(p) != 0) return "pipe";
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    std::string err = body();
    if (err == "skip") _exit(77);
    if (!err.empty()) (void)!write(p[1], err.data(), err.size());
    _exit(err.empty() ? 0 : 1);
  }
  close(p[1]);
  std::string msg;
  char buf[512];
  ssize_t n;
  while ((n = read(p[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<size_t>(n));
  close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  *skipped = WIFEXITED(status) && WEXITSTATUS(status) == 77;
  if (*skipped) return "";
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return msg.empty() ? "child died" : msg;
  return "";
}

// ramfs refuses O_DIRECT: the session is written buffered, atf_writer_direct_io() says so with
// EINVAL, and the bytes are those of a buffered session. ramfs is mounted in a private mount
// namespace of a child process (needs CAP_SYS_ADMIN: skipped where there is none).
TEST_F(DirectIoTest, FallsBackOnRamfs) {
  const std::string mnt = root_ + "/ramfs", out = root_ + "/out";
  ASSERT_EQ(mkdir(mnt.c_str(), 0700), 0);
  ASSERT_EQ(mkdir(out.c_str(), 0700), 0);
  const Result ref = RunSession(out, "ref", {0, 0, 64 << 10, 0}, 11);
  ASSERT_EQ(ref.error, "");
  bool skipped = false;
  const std::string err = InChild(
      [&]() -> std::string {
        if (unshare(CLONE_NEWNS) != 0) return "skip";
        (void)mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
        if (mount("none", mnt.c_str(), "ramfs", 0, nullptr) != 0) return "skip";
        if (DirectSupported(mnt)) return "ramfs took O_DIRECT";
        for (int io = 0; io < 2; io++) {
          const Result r = RunSession(mnt, io ? "d1" : "d0", {1, io, 64 << 10, 0}, 11);
          if (!r.error.empty()) return r.error;
          if (r.direct != 0 || r.refused != EINVAL)
            return "direct " + std::to_string(r.direct) + " refused " + std::to_string(r.refused);
          if (r.events != ref.events) return "events.bin differs";
          if (r.manifest != ref.manifest) return "trace.json differs";
        }
        return "";
      },
      &skipped);
  if (skipped) GTEST_SKIP() << "cannot mount ramfs in a private mount namespace here";
  EXPECT_EQ(err, "");
}

// A file size limit (RLIMIT_FSIZE, SIGXFSZ ignored) stops the session part-way: the writer fails
// with EFBIG, the file ends at a record boundary with exactly the events and bytes the stats
// report, and it holds the same bytes as a buffered session under the same limit (the direct
// write the limit cuts is continued through the page cache, which writes up to the limit as a
// buffered write does). Run in a child: the limit is the process's.
TEST_F(DirectIoTest, FileSizeLimitKeepsTheSameRecordsAsBuffered) {
  int label = 0;
  for (uint64_t limit : {uint64_t{6000}, uint64_t{8192}, uint64_t{65536 + 100}, uint64_t{300001},
                         uint64_t{1} << 20}) {
    for (int io = 0; io < 2; io++) {
      std::string files[2];
      for (int direct = 0; direct < 2; direct++) {
        const Config c{direct, io, 64 << 10, 0};
        SCOPED_TRACE(Cfg(c) + ", limit " + std::to_string(limit));
        const std::string lab = "l" + std::to_string(label++);
        bool skipped = false;
        const std::string err = InChild(
            [&]() -> std::string {
              signal(SIGXFSZ, SIG_IGN);
              struct rlimit rl = {limit, limit};
              if (setrlimit(RLIMIT_FSIZE, &rl) != 0) return "setrlimit";
              const Result r = RunSession(root_, lab, c, 5);
              if (!r.error.empty()) return r.error;
              if (r.failed == ATF_WRITER_OK) return "no failure under the limit";
              if (r.last_errno != EFBIG) return "errno " + std::to_string(r.last_errno);
              if (r.direct != (direct && direct_ok_ ? 1 : 0)) return "direct state";
              return "";
            },
            &skipped);
        ASSERT_FALSE(skipped);
        EXPECT_EQ(err, "");
        std::string dir = root_ + "/session_" + lab + "/pid_4242";
        files[direct] = atf_test::ReadFile(dir + "/events.bin");
        EXPECT_LE(files[direct].size(), limit);
        EXPECT_GT(files[direct].size(), 0u);
      }
      EXPECT_TRUE(files[0] == files[1]) << files[0].size() << " vs " << files[1].size();
    }
  }
}

// With max_file_bytes the limit is met at the same event with and without O_DIRECT (the carried
// block and the block in flight are counted once).
TEST_F(DirectIoTest, MaxFileBytesStopsAtTheSameEvent) {
  int label = 0;
  for (uint64_t max : {uint64_t{5000}, uint64_t{70001}, uint64_t{1000000}}) {
    for (int io = 0; io < 2; io++) {
      std::string files[2];
      for (int direct = 0; direct < 2; direct++) {
        const Config c{direct, io, 64 << 10, max};
        SCOPED_TRACE(Cfg(c) + ", max_file_bytes " + std::to_string(max));
        const Result r = RunSession(root_, "x" + std::to_string(label++), c, 9);
        EXPECT_EQ(r.error, "");
        EXPECT_EQ(r.failed, ATF_WRITER_E_LIMIT);
        files[direct] = r.events;
      }
      EXPECT_TRUE(files[0] == files[1]) << files[0].size() << " vs " << files[1].size();
    }
  }
}

}  // namespace
