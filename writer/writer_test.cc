// The writer end to end: session layout, every payload on disk decoded three ways, event ids,
// stats and manifest agreeing with events.bin, flush policies, limits, states, invalid arguments,
// oversize events, concurrency of interning, and no allocation per event.
#include <gtest/gtest.h>

#include <cjson/cJSON.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#if defined(__linux__)
#include <sys/vfs.h>
#endif
#include <sys/wait.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "writer/atf/writer.h"
#include "writer/testing/decode.h"
#include "writer/testing/fault_ops.h"
#include "writer/testing/records.h"
#include "writer/testing/session.h"

namespace {

using atf_test::Batch;
using atf_test::Event;
using atf_test::Kind;
using atf_test::Options;

bool Exists(const std::string &path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

class WriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = atf_test::MakeTempDir("writer");
    ASSERT_FALSE(root_.empty());
  }
  void TearDown() override { atf_writer_close(w_); }

  void Open(Options *opt) {
    ASSERT_EQ(atf_writer_open(&opt->o, &w_), ATF_WRITER_OK);
    dir_ = atf_writer_session_dir(w_);
  }
  uint32_t Intern(const std::string &s) {
    uint32_t id = 0;
    EXPECT_EQ(atf_writer_intern_symbol(w_, s.data(), s.size(), &id), ATF_WRITER_OK);
    return id;
  }
  std::vector<Event> Read(uint64_t *bytes = nullptr) {
    std::vector<Event> events;
    uint64_t n;
    EXPECT_EQ(atf_test::ReadSession(dir_, &events, &n), "");
    if (bytes) *bytes = n;
    return events;
  }
  atf_writer_stats Stats() {
    atf_writer_stats s;
    atf_writer_get_stats(w_, &s);
    return s;
  }
  std::string Manifest() { return atf_test::ReadFile(dir_ + "/trace.json"); }
  uint64_t ManifestU64(const std::string &key) {
    uint64_t v = 0;
    EXPECT_TRUE(atf_test::ExactJsonU64(Manifest(), key, &v)) << key;
    return v;
  }

  std::string root_, dir_;
  atf_writer *w_ = nullptr;
};

TEST_F(WriterTest, LayoutFromSessionClockInUtc) {
  Options opt(root_, nullptr);
  opt.o.pid = 0;  // getpid()
  Open(&opt);
  // now = 1700000000 s + 1 µs at the first reading: 2023-11-14 22:13:20 UTC.
  const std::string expect = root_ + "/session_20231114_221320/pid_" + std::to_string(getpid());
  EXPECT_EQ(dir_, expect);
  EXPECT_TRUE(Exists(expect + "/events.bin"));
  std::vector<Event> ev = Read();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, Kind::kStart);
  EXPECT_EQ(ev[0].event_id, 1u);  // ATF_WRITER_FIRST_EVENT_ID, as the original writer numbered
  EXPECT_EQ(ev[0].thread_id, 0);  // session events belong to no traced thread (default)
  EXPECT_EQ(ev[0].seconds, 1700000000);
  EXPECT_EQ(ev[0].nanos, 1000);
  EXPECT_EQ(ev[0].executable_path, "/bin/app");
  EXPECT_EQ(ev[0].operating_system, "linux");
  EXPECT_EQ(ev[0].cpu_architecture, "x86_64");
  EXPECT_EQ(Stats().events_written, 1u);  // TraceStart is flushed by open
}

// The target OS and architecture, not the host, decide every name the session holds: the same
// records written for each target differ exactly in register names, signal names, TraceStart's
// operating_system / cpu_architecture and the manifest's os / arch.
TEST_F(WriterTest, TargetOsAndArchDecideTheNames) {
  struct Target {
    atf_os os;
    atf_arch arch;
    const char *os_name, *arch_name, *sig10, *sig30;
    std::vector<std::string> call_regs;
  } targets[] = {
      {ATF_OS_LINUX,
       ATF_ARCH_X86_64,
       "linux",
       "x86_64",
       "SIGUSR1",
       "SIGPWR",
       {"RDI", "RSI", "RDX", "RCX", "R8", "R9"}},
      {ATF_OS_LINUX,
       ATF_ARCH_ARM64,
       "linux",
       "aarch64",
       "SIGUSR1",
       "SIGPWR",
       {"X0", "X1", "X2", "X3", "X4", "X5"}},
      {ATF_OS_DARWIN,
       ATF_ARCH_X86_64,
       "darwin",
       "x86_64",
       "SIGBUS",
       "SIGUSR1",
       {"RDI", "RSI", "RDX", "RCX", "R8", "R9"}},
      {ATF_OS_DARWIN,
       ATF_ARCH_ARM64,
       "darwin",
       "aarch64",
       "SIGBUS",
       "SIGUSR1",
       {"X0", "X1", "X2", "X3", "X4", "X5"}},
      {ATF_OS_UNKNOWN,
       ATF_ARCH_UNKNOWN,
       "unknown",
       "unknown",
       "SIG10",
       "SIG30",
       {"R0", "R1", "R2", "R3", "R4", "R5"}},
  };
  int n = 0;
  for (const Target &t : targets) {
    const std::string label = "target" + std::to_string(n++);
    Options opt(root_, label.c_str());
    opt.o.os = t.os;
    opt.o.arch = t.arch;
    Open(&opt);
    const uint32_t f = Intern("f");
    Batch b;
    b.Call(5, 1700000000000005000ull, 0x1000, f, {1, 2, 3, 4, 5, 6});
    b.Signal(5, 1700000000000006000ull, 10, {7});
    b.Signal(5, 1700000000000007000ull, 30, {});
    ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_OK);
    ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
    std::vector<Event> ev = Read();
    ASSERT_EQ(ev.size(), 5u) << label;
    EXPECT_EQ(ev[0].operating_system, t.os_name);
    EXPECT_EQ(ev[0].cpu_architecture, t.arch_name);
    std::vector<std::string> names;
    for (const auto &r : ev[1].registers) names.push_back(r.first);
    EXPECT_EQ(names, t.call_regs) << label;
    EXPECT_EQ(ev[2].symbol, t.sig10) << label;
    ASSERT_EQ(ev[2].registers.size(), 1u);
    EXPECT_EQ(ev[2].registers[0].first, atf_register_name(t.arch, ATF_KIND_SIGNAL, 0));
    EXPECT_EQ(ev[3].symbol, t.sig30) << label;
    const std::string m = Manifest();
    EXPECT_NE(m.find("\"os\":\t\"" + std::string(t.os_name) + "\""), std::string::npos) << m;
    EXPECT_NE(m.find("\"arch\":\t\"" + std::string(t.arch_name) + "\""), std::string::npos) << m;
    atf_writer_close(w_);
    w_ = nullptr;
  }
}

TEST_F(WriterTest, EveryPayloadOnDiskAndManifestMatchesFile) {
  Options opt(root_);
  const char *argv[] = {"/bin/app", "-x", "\xff"};
  opt.o.argv = argv;
  opt.o.argc = 3;
  opt.o.session_thread_id = 77;
  Open(&opt);
  const uint32_t main_id = Intern("main");
  Batch b;
  b.Call(5, 1700000000000005000ull, 0x401000, main_id, {1, 2, 3, 4, 5, 6}, "stack");
  b.Pad(40);
  b.Signal(6, 1600000000000000000ull, 11, std::vector<uint64_t>(18, UINT64_MAX));  // earliest
  b.Return(5, 1800000000000000000ull, 0x401000, main_id, {0, 1});                  // latest
  ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_OK);
  EXPECT_EQ(Stats().events_buffered, 3u);
  ASSERT_EQ(atf_writer_finalize(w_, 42), ATF_WRITER_OK);

  uint64_t bytes;
  std::vector<Event> ev = Read(&bytes);
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_EQ(ev[0].args, (std::vector<std::string>{"/bin/app", "-x", "\xef\xbf\xbd"}));
  EXPECT_EQ(ev[0].thread_id, 77);
  EXPECT_EQ(ev[1].kind, Kind::kCall);
  EXPECT_EQ(ev[1].symbol, "main");
  EXPECT_EQ(ev[1].stack, "stack");
  EXPECT_EQ(ev[1].registers.front(), (std::pair<std::string, uint64_t>("RDI", 1)));
  EXPECT_EQ(ev[2].kind, Kind::kSignal);
  EXPECT_EQ(ev[2].registers.size(), 18u);
  EXPECT_EQ(ev[2].registers.back(), (std::pair<std::string, uint64_t>("RFLAGS", UINT64_MAX)));
  EXPECT_EQ(ev[3].kind, Kind::kReturn);
  EXPECT_EQ(ev[4].kind, Kind::kEnd);
  EXPECT_EQ(ev[4].exit_code, 42);
  EXPECT_EQ(ev[4].thread_id, 77);

  const atf_writer_stats s = Stats();
  EXPECT_EQ(s.events_written, 5u);
  EXPECT_EQ(s.bytes_written, bytes);
  EXPECT_EQ(s.bytes_durable, bytes);
  EXPECT_EQ(s.utf8_replacements, 1u);
  EXPECT_EQ(s.events_buffered, 0u);
  EXPECT_EQ(ManifestU64("eventCount"), 5u);
  EXPECT_EQ(ManifestU64("bytesWritten"), bytes);
  EXPECT_EQ(ManifestU64("timeStartNs"), 1600000000000000000ull);
  EXPECT_EQ(ManifestU64("timeEndNs"), 1800000000000000000ull);
  EXPECT_EQ(ManifestU64("pid"), 4242u);
  EXPECT_FALSE(Exists(dir_ + "/trace.json.tmp"));
  EXPECT_EQ(Manifest().find("droppedEvents"), std::string::npos);
}

TEST_F(WriterTest, ZeroRingEventsStillBracketsStartAndEnd) {
  Options opt(root_);
  Open(&opt);
  ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
  std::vector<Event> ev = Read();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ManifestU64("eventCount"), 2u);
  EXPECT_EQ(ManifestU64("timeStartNs"), 1700000000000001000ull);
  EXPECT_EQ(ManifestU64("timeEndNs"), static_cast<uint64_t>(ev[1].seconds) * 1000000000u +
                                          static_cast<uint64_t>(ev[1].nanos));
  EXPECT_GT(ManifestU64("timeEndNs"), ManifestU64("timeStartNs"));
}

TEST_F(WriterTest, ManyEventsAcrossBufferBoundaries) {
  Options opt(root_);
  opt.o.buffer_bytes = 1;  // raised to the 64 KiB minimum
  Open(&opt);
  const uint32_t sym = Intern("f");
  Batch b;
  for (int i = 0; i < 5000; i++) {
    b.Call(1, 1700000000000000000ull + i, 0x1000 + i, sym, {static_cast<uint64_t>(i)},
           "0123456789abcdef");
  }
  for (int round = 0; round < 10; round++)
    ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_OK);
  const atf_writer_stats mid = Stats();
  EXPECT_GT(mid.events_written, 1u);  // buffers were drained along the way
  EXPECT_EQ(mid.events_written + mid.events_buffered, 50001u);
  ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
  uint64_t bytes;
  std::vector<Event> ev = Read(&bytes);
  ASSERT_EQ(ev.size(), 50002u);
  EXPECT_EQ(ev[25000].registers[0].second, 4999u);
  EXPECT_EQ(ManifestU64("eventCount"), 50002u);
  EXPECT_EQ(ManifestU64("bytesWritten"), bytes);
}

#if defined(__linux__)
// Pages of `path` in [from, to) that are in the page cache, and how many pages were asked about.
std::pair<size_t, size_t> ResidentPages(const std::string &path, uint64_t from, uint64_t to) {
  const long page = sysconf(_SC_PAGESIZE);
  from = (from + page - 1) / page * page;
  to = to / page * page;
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0 || to <= from) return {0, 0};
  void *m = mmap(nullptr, to - from, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(from));
  close(fd);
  if (m == MAP_FAILED) return {0, 0};
  std::vector<unsigned char> vec((to - from) / page);
  size_t resident = 0;
  if (mincore(m, to - from, vec.data()) == 0) {
    for (unsigned char v : vec) resident += v & 1;
  }
  munmap(m, to - from);
  return {resident, vec.size()};
}

// The page-cache window (keep_page_cache 0, the default): pages more than the window (4 buffers)
// behind the end are dropped once written back; with keep_page_cache 1 they stay. A flush first
// makes every page written so far clean (fsync), so whether they are dropped does not depend on
// how fast the device is. The bytes are the same either way.
TEST_F(WriterTest, PageCacheWindowDropsWhatIsBehindIt) {
  struct statfs fs;
  ASSERT_EQ(statfs(root_.c_str(), &fs), 0);
  if (fs.f_type == 0x01021994 /* TMPFS_MAGIC: memory is the file, nothing to drop */) {
    GTEST_SKIP() << root_ << " is on tmpfs";
  }
  std::string files[2][2];
  for (int keep = 0; keep < 2; keep++) {
    for (int io = 0; io < 2; io++) {
      SCOPED_TRACE(std::string(keep ? "keep" : "window") + (io ? ", io_thread" : ", inline"));
      const std::string label = std::string(keep ? "keep" : "window") + (io ? "_io" : "");
      Options opt(root_, label.c_str());
      opt.o.buffer_bytes = 64 << 10;  // window: 256 KiB
      opt.o.io_thread = io;
      opt.o.keep_page_cache = keep;
      Open(&opt);
      const uint32_t sym = Intern("f");
      Batch b;
      for (int i = 0; i < 1000; i++) {  // ~250 KiB
        b.Call(1, 1700000000000000000ull + i, 0x1000 + i, sym, {static_cast<uint64_t>(i)},
               std::string(200, static_cast<char>(i)));
      }
      for (int round = 0; round < 8; round++)
        ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_OK);
      ASSERT_EQ(atf_writer_flush(w_), ATF_WRITER_OK);
      const uint64_t flushed = Stats().bytes_written;
      for (int round = 0; round < 3; round++)  // > 1.5 windows past the flush
        ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_OK);
      ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
      const auto [resident, pages] =
          ResidentPages(dir_ + "/events.bin", flushed - (128 << 10), flushed);
      ASSERT_GT(pages, 0u);
      if (keep) {
        EXPECT_EQ(resident, pages);
      } else {
        EXPECT_EQ(resident, 0u);
      }
      EXPECT_EQ(Read().size(), 1u + 11000u + 1u);
      files[keep][io] = atf_test::ReadFile(dir_ + "/events.bin");
      atf_writer_close(w_);
      w_ = nullptr;
    }
  }
  EXPECT_EQ(files[0][0], files[1][0]);
  EXPECT_EQ(files[0][1], files[1][1]);
}
#endif

// With the I/O thread: the same bytes as without it (same session id and clock), stats that
// account for the buffer in flight, a max_file_bytes limit that counts it, and a close without
// finalize that still leaves every complete record.
TEST_F(WriterTest, IoThreadWritesTheSameBytes) {
  std::string files[2];
  for (int io = 0; io < 2; io++) {
    SCOPED_TRACE(io ? "io_thread" : "inline");
    Options opt(root_, io ? "io" : "inline");
    opt.o.buffer_bytes = 64 << 10;
    opt.o.io_thread = io;
    Open(&opt);
    const uint32_t sym = Intern("f");
    Batch b;
    for (int i = 0; i < 3000; i++) {
      b.Call(1, 1700000000000000000ull + i, 0x1000 + i, sym, {static_cast<uint64_t>(i), 7},
             std::string(100, static_cast<char>(i)));
      b.Return(1, 1700000000000000000ull + i, 0x1000 + i, sym, {static_cast<uint64_t>(i)});
    }
    for (int round = 0; round < 5; round++) {
      ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_OK);
      const atf_writer_stats s = Stats();
      EXPECT_EQ(s.events_written + s.events_buffered, 1u + 6000u * (round + 1));
    }
    EXPECT_GT(Stats().events_written, 1u);
    ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
    const atf_writer_stats s = Stats();
    EXPECT_EQ(s.events_buffered, 0u);
    EXPECT_EQ(s.events_written, 30002u);
    uint64_t bytes;
    EXPECT_EQ(Read(&bytes).size(), 30002u);
    EXPECT_EQ(bytes, s.bytes_written);
    EXPECT_EQ(ManifestU64("bytesWritten"), bytes);
    files[io] = atf_test::ReadFile(dir_ + "/events.bin");
    atf_writer_close(w_);
    w_ = nullptr;
  }
  EXPECT_EQ(files[0], files[1]);
}

TEST_F(WriterTest, IoThreadLimitCountsTheBufferInFlight) {
  Options opt(root_);
  opt.o.buffer_bytes = 64 << 10;
  opt.o.io_thread = 1;
  const uint64_t limit = 200 << 10;
  opt.o.max_file_bytes = limit;
  Open(&opt);
  Batch b;
  for (int i = 0; i < 100; i++) b.Call(1, 1, 1, 0, {1, 2, 3}, std::string(200, 's'));
  atf_writer_status st = ATF_WRITER_OK;
  for (int i = 0; i < 100 && st == ATF_WRITER_OK; i++)
    st = atf_writer_write(w_, b.data(), b.size());
  EXPECT_EQ(st, ATF_WRITER_E_LIMIT);
  ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
  uint64_t bytes;
  std::vector<Event> ev = Read(&bytes);
  EXPECT_GT(bytes, limit - 400);  // stopped within one record (+ TraceEnd) of the limit
  EXPECT_LE(bytes, limit + 64);   // TraceEnd may pass it
  EXPECT_EQ(ev.back().kind, Kind::kEnd);
}

TEST_F(WriterTest, IoThreadCloseWithoutFinalizeKeepsEveryRecord) {
  Options opt(root_);
  opt.o.buffer_bytes = 64 << 10;
  opt.o.io_thread = 1;
  Open(&opt);
  Batch b;
  for (int i = 0; i < 2000; i++) b.Call(1, 1, 1, 0, {1}, std::string(100, 'x'));
  ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()),
            ATF_WRITER_OK);  // several buffers, one in flight
  atf_writer_close(w_);
  w_ = nullptr;
  EXPECT_EQ(Read().size(), 2001u);
  EXPECT_FALSE(Exists(dir_ + "/trace.json"));
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ATF_UNDER_ASAN 1
#endif
#endif

TEST_F(WriterTest, NoAllocationPerEvent) {
#if defined(__GLIBC__) && !defined(ATF_UNDER_ASAN)
  Options opt(root_);
  opt.o.buffer_bytes = 64 << 10;
  Open(&opt);
  const uint32_t sym = Intern("f");
  Batch b;
  for (int i = 0; i < 20000; i++) {
    b.Call(1, 1, 2, sym, {1, 2, 3, 4, 5, 6}, std::string(64, 'x'));
    b.Signal(1, 1, 11, std::vector<uint64_t>(18, 3));
  }
  ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_OK);  // warm up
  const size_t before = mallinfo2().uordblks;
  ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_OK);  // 40000 events, many drains
  EXPECT_EQ(mallinfo2().uordblks, before);
#else
  GTEST_SKIP() << "mallinfo2 is not meaningful under ASan";
#endif
}

// atf_writer_write_out: the buffered events reach events.bin (a crash of the process keeps them)
// with one write and no fsync, with or without the I/O thread; an error fails the writer.
TEST_F(WriterTest, WriteOutWritesWithoutFsync) {
  for (int io = 0; io <= 1; ++io) {
    SCOPED_TRACE(io);
    atf_test::FaultOps f;
    Options opt(root_, io ? "io" : "plain");
    opt.o.file_ops = f.ops();
    opt.o.io_thread = io;
    Open(&opt);
    Batch b;
    for (int i = 0; i < 100; ++i) b.Call(1, 1, 1 + i, 0, {});
    ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_OK);
    EXPECT_EQ(Stats().events_buffered, 100u);
    const uint64_t durable = Stats().bytes_durable;
    const int fsyncs = f.fsyncs;
    ASSERT_EQ(atf_writer_write_out(w_), ATF_WRITER_OK);
    EXPECT_EQ(f.fsyncs, fsyncs);
    EXPECT_EQ(Stats().events_buffered, 0u);
    EXPECT_EQ(Stats().events_written, 101u);  // TraceStart and the batch
    EXPECT_EQ(Stats().bytes_durable, durable);
    EXPECT_GT(Stats().bytes_written, durable);
    struct stat st;
    ASSERT_EQ(stat((std::string(atf_writer_session_dir(w_)) + "/events.bin").c_str(), &st), 0);
    EXPECT_EQ(static_cast<uint64_t>(st.st_size),
              Stats().bytes_written);                    // in the file, not in memory
    ASSERT_EQ(atf_writer_write_out(w_), ATF_WRITER_OK);  // nothing buffered: nothing written
    ASSERT_EQ(atf_writer_flush(w_), ATF_WRITER_OK);
    EXPECT_EQ(f.fsyncs, fsyncs + 1);
    EXPECT_EQ(Stats().bytes_durable, Stats().bytes_written);
    // A write error: the writer fails, the file keeps its complete records.
    f.write_fail_at = f.writes;
    f.write_errno = EIO;
    ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_OK);
    EXPECT_EQ(atf_writer_write_out(w_), ATF_WRITER_E_IO);
    EXPECT_EQ(atf_writer_write_out(w_), ATF_WRITER_E_FAILED);
    atf_writer_close(w_);
    w_ = nullptr;
  }
  EXPECT_EQ(atf_writer_write_out(nullptr), ATF_WRITER_E_INVALID_ARGUMENT);
}

TEST_F(WriterTest, FlushMakesDurableAndPolicies) {
  atf_test::FaultOps f;
  Options opt(root_);
  opt.o.file_ops = f.ops();
  Open(&opt);
  Batch b;
  b.Call(1, 1, 1, 0, {});
  const int fsyncs = f.fsyncs;
  ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_OK);
  EXPECT_EQ(f.fsyncs, fsyncs);  // explicit policy: no fsync on write
  EXPECT_EQ(Stats().events_written, 1u);
  ASSERT_EQ(atf_writer_flush(w_), ATF_WRITER_OK);
  EXPECT_EQ(f.fsyncs, fsyncs + 1);
  EXPECT_EQ(Stats().events_written, 2u);
  EXPECT_EQ(Stats().bytes_durable, Stats().bytes_written);
  atf_writer_close(w_);
  w_ = nullptr;

  Options every(root_, "every");
  every.o.file_ops = f.ops();
  every.o.flush_policy = ATF_FLUSH_EVERY_BATCH;
  Open(&every);
  const int before = f.fsyncs;
  ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_OK);
  EXPECT_EQ(f.fsyncs, before + 1);
  atf_writer_close(w_);
  w_ = nullptr;

  Options interval(root_, "interval");
  interval.o.file_ops = f.ops();
  interval.o.flush_policy = ATF_FLUSH_INTERVAL;
  interval.o.flush_interval_ns = 2500;  // the test clock advances 1000 ns per reading
  Open(&interval);
  const int start = f.fsyncs;
  ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_OK);  // +1000
  ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_OK);  // +2000
  EXPECT_EQ(f.fsyncs, start);
  ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_OK);  // +3000: flush
  EXPECT_EQ(f.fsyncs, start + 1);
  EXPECT_EQ(Stats().events_buffered, 0u);
  atf_writer_close(w_);  // before `f` goes out of scope
  w_ = nullptr;
  EXPECT_TRUE(f.open_fds.empty());
}

TEST_F(WriterTest, TraceEndRecordEndsTheSession) {
  Options opt(root_);
  Open(&opt);
  Batch b;
  b.Call(1, 1, 1, 0, {});
  b.End(9, 2, 7);
  ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_OK);
  Batch more;
  more.Call(1, 1, 1, 0, {});
  EXPECT_EQ(atf_writer_write(w_, more.data(), more.size()), ATF_WRITER_E_STATE);
  Batch pad;
  pad.Pad(40);
  EXPECT_EQ(atf_writer_write(w_, pad.data(), pad.size()), ATF_WRITER_OK);
  ASSERT_EQ(atf_writer_finalize(w_, 99), ATF_WRITER_OK);
  std::vector<Event> ev = Read();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[2].kind, Kind::kEnd);
  EXPECT_EQ(ev[2].exit_code, 7);  // the record's, not finalize's
  EXPECT_EQ(ev[2].thread_id, 9);
}

TEST_F(WriterTest, BadBatchWritesNothing) {
  Options opt(root_);
  Open(&opt);
  Batch b;
  b.Call(1, 1, 1, 0, {});
  b.Call(1, 1, 1, 5, {});  // unknown symbol id
  EXPECT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_E_BAD_RECORD);
  EXPECT_EQ(Stats().events_buffered, 0u);
  Batch ok;
  ok.Call(1, 1, 1, 0, {});
  EXPECT_EQ(atf_writer_write(w_, ok.data(), ok.size()), ATF_WRITER_OK);  // not a failed state
  ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
  EXPECT_EQ(Read().size(), 3u);
}

// atf_writer_append: one walk, prefix semantics, the accepted count returned by the call itself.
TEST_F(WriterTest, AppendKeepsThePrefixBeforeABadRecordAndCountsIt) {
  Options opt(root_);
  Open(&opt);
  const uint32_t sym = Intern("f");
  Batch b;
  b.Pad(48);
  b.Call(1, 10, 1, sym, {1});
  b.Pad(40);
  b.Return(1, 11, 1, sym, {2});
  b.Call(1, 12, 1, sym + 1, {});  // unknown symbol id: refused, and everything after it
  b.Call(1, 13, 1, sym, {});
  uint64_t n = 99;
  EXPECT_EQ(atf_writer_append(w_, b.data(), b.size(), &n), ATF_WRITER_E_BAD_RECORD);
  EXPECT_EQ(n, 2u);
  EXPECT_EQ(Stats().events_buffered, 2u);  // the prefix (TraceStart is on disk since open)
  Batch ok;
  ok.Call(1, 14, 1, sym, {});
  EXPECT_EQ(atf_writer_append(w_, ok.data(), ok.size(), &n), ATF_WRITER_OK);  // not a failed state
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(atf_writer_append(w_, ok.data(), ok.size(), nullptr), ATF_WRITER_OK);
  Batch torn;  // a header cut short by the batch end
  torn.Call(1, 15, 1, sym, {});
  EXPECT_EQ(atf_writer_append(w_, torn.data(), torn.size() - 8, &n), ATF_WRITER_E_BAD_RECORD);
  EXPECT_EQ(n, 0u);
  ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
  std::vector<Event> ev = Read();
  ASSERT_EQ(ev.size(), 6u);  // start, call, return, call, call, end
  EXPECT_EQ(ev[1].kind, Kind::kCall);
  EXPECT_EQ(ev[2].kind, Kind::kReturn);
  EXPECT_EQ(ev[3].kind, Kind::kCall);
}

TEST_F(WriterTest, AppendAfterTraceEndAndAtLimits) {
  Options opt(root_);
  opt.o.max_events = 4;  // TraceStart + 3
  Open(&opt);
  Batch b;
  for (int i = 0; i < 5; i++) b.Call(1, 1, 1, 0, {});
  uint64_t n = 0;
  EXPECT_EQ(atf_writer_append(w_, b.data(), b.size(), &n), ATF_WRITER_E_LIMIT);
  EXPECT_EQ(n, 3u);
  EXPECT_EQ(atf_writer_append(w_, b.data(), b.size(), &n), ATF_WRITER_E_LIMIT);
  EXPECT_EQ(n, 0u);
  ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
  EXPECT_EQ(Read().size(), 5u);
  atf_writer_close(w_);
  w_ = nullptr;

  Options end(root_, "end");
  Open(&end);
  Batch e;
  e.Call(1, 1, 1, 0, {});
  e.End(9, 2, 7);
  e.Call(1, 3, 1, 0, {});  // after the TRACE_END of the same batch: a bad record
  EXPECT_EQ(atf_writer_append(w_, e.data(), e.size(), &n), ATF_WRITER_E_BAD_RECORD);
  EXPECT_EQ(n, 2u);
  Batch more;
  more.Call(1, 4, 1, 0, {});
  EXPECT_EQ(atf_writer_append(w_, more.data(), more.size(), &n),
            ATF_WRITER_E_STATE);  // a later batch
  EXPECT_EQ(n, 0u);
  ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
  EXPECT_EQ(Read().size(), 3u);
}

// atf_writer_append and atf_writer_write produce the same bytes, and a call or return that does
// not fit the room left in the buffer goes to a fresh buffer (never to protobuf-c).
TEST_F(WriterTest, AppendWritesWhatWriteWrites) {
  std::string files[2];
  for (int append = 0; append < 2; append++) {
    Options opt(root_, append ? "append" : "write");
    opt.o.buffer_bytes = 64 << 10;
    Open(&opt);
    const uint32_t sym = Intern("f");
    Batch b;
    for (int i = 0; i < 3000; i++) {
      b.Call(1, 1700000000000000000ull + i, 0x1000 + i, sym, {static_cast<uint64_t>(i), 7},
             std::string(i % 200, static_cast<char>(i)));
      if (i % 7 == 0) b.Pad(48);
      b.Return(1, 1700000000000000000ull + i, 0x1000 + i, sym, {static_cast<uint64_t>(i)});
      if (i % 500 == 0) b.Signal(1, 1700000000000000000ull + i, 10, {1, 2, 3});
    }
    for (int round = 0; round < 3; round++) {
      if (append) {
        uint64_t n = 0;
        ASSERT_EQ(atf_writer_append(w_, b.data(), b.size(), &n), ATF_WRITER_OK);
        EXPECT_EQ(n, 6006u);
      } else {
        ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_OK);
      }
    }
    ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
    EXPECT_EQ(Read().size(), 18020u);
    files[append] = atf_test::ReadFile(dir_ + "/events.bin");
    atf_writer_close(w_);
    w_ = nullptr;
  }
  EXPECT_EQ(files[0], files[1]);
}

TEST_F(WriterTest, CallsAfterFinalize) {
  Options opt(root_);
  Open(&opt);
  ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
  const std::string manifest = Manifest();
  Batch b;
  b.Call(1, 1, 1, 0, {});
  uint32_t id;
  EXPECT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_E_STATE);
  EXPECT_EQ(atf_writer_flush(w_), ATF_WRITER_E_STATE);
  EXPECT_EQ(atf_writer_intern_symbol(w_, "x", 1, &id), ATF_WRITER_E_STATE);
  EXPECT_EQ(atf_writer_add_module(w_, "01234567-89ab-cdef-0123-456789abcdef"), ATF_WRITER_E_STATE);
  EXPECT_EQ(atf_writer_record_drops(w_, 1, 1), ATF_WRITER_E_STATE);
  EXPECT_EQ(atf_writer_finalize(w_, 5), ATF_WRITER_OK);  // second call: nothing changes
  EXPECT_EQ(Manifest(), manifest);
  EXPECT_EQ(Read().size(), 2u);
}

TEST_F(WriterTest, InvalidArguments) {
  atf_writer *w = reinterpret_cast<atf_writer *>(1);
  EXPECT_EQ(atf_writer_open(nullptr, &w), ATF_WRITER_E_INVALID_ARGUMENT);
  EXPECT_EQ(w, nullptr);
  Options opt(root_);
  EXPECT_EQ(atf_writer_open(&opt.o, nullptr), ATF_WRITER_E_INVALID_ARGUMENT);
  auto rejects = [&](void (*change)(atf_writer_options *)) {
    Options o(root_);
    change(&o.o);
    atf_writer *x = nullptr;
    EXPECT_EQ(atf_writer_open(&o.o, &x), ATF_WRITER_E_INVALID_ARGUMENT);
    EXPECT_EQ(x, nullptr);
  };
  rejects([](atf_writer_options *o) { o->output_root = nullptr; });
  rejects([](atf_writer_options *o) { o->output_root = ""; });
  rejects([](atf_writer_options *o) { o->session_label = "a/b"; });
  rejects([](atf_writer_options *o) { o->session_label = ".."; });
  rejects([](atf_writer_options *o) { o->session_label = "."; });
  rejects([](atf_writer_options *o) { o->session_label = ""; });
  rejects([](atf_writer_options *o) { o->session_label = "tab\there"; });
  rejects([](atf_writer_options *o) { o->io_thread_nice = 20; });
  rejects([](atf_writer_options *o) { o->io_thread_nice = -21; });
  rejects([](atf_writer_options *o) { o->clock_name = ""; });
  rejects([](atf_writer_options *o) { o->clock_name = "new\nline"; });
  rejects([](atf_writer_options *o) {
    static const std::string long_name(65, 'c');
    o->clock_name = long_name.c_str();
  });
  rejects([](atf_writer_options *o) { o->session_label = "caf\xc3\xa9"; });
  rejects([](atf_writer_options *o) { o->argc = 2; });
  rejects([](atf_writer_options *o) { o->max_stack_bytes = ATF_RECORD_MAX_STACK + 1; });
  rejects([](atf_writer_options *o) { o->arch = static_cast<atf_arch>(7); });
  rejects([](atf_writer_options *o) { o->os = static_cast<atf_os>(3); });
  rejects([](atf_writer_options *o) { o->os = static_cast<atf_os>(-1); });
  rejects([](atf_writer_options *o) { o->flush_policy = static_cast<atf_flush_policy>(9); });
  rejects([](atf_writer_options *o) { o->pid = -1; });
  EXPECT_FALSE(Exists(root_ + "/session_t"));

  Open(&opt);
  uint32_t id;
  Batch b;
  b.Call(1, 1, 1, 0, {});
  EXPECT_EQ(atf_writer_intern_symbol(nullptr, "x", 1, &id), ATF_WRITER_E_INVALID_ARGUMENT);
  EXPECT_EQ(atf_writer_intern_symbol(w_, nullptr, 1, &id), ATF_WRITER_E_INVALID_ARGUMENT);
  EXPECT_EQ(atf_writer_intern_symbol(w_, "x", 1, nullptr), ATF_WRITER_E_INVALID_ARGUMENT);
  EXPECT_EQ(atf_writer_write(nullptr, b.data(), b.size()), ATF_WRITER_E_INVALID_ARGUMENT);
  EXPECT_EQ(atf_writer_write(w_, nullptr, 40), ATF_WRITER_E_INVALID_ARGUMENT);
  EXPECT_EQ(atf_writer_write(w_, static_cast<const char *>(b.data()) + 4, 32),
            ATF_WRITER_E_INVALID_ARGUMENT);
  EXPECT_EQ(atf_writer_write(w_, nullptr, 0), ATF_WRITER_OK);
  EXPECT_EQ(atf_writer_flush(nullptr), ATF_WRITER_E_INVALID_ARGUMENT);
  EXPECT_EQ(atf_writer_add_module(w_, "not-a-uuid"), ATF_WRITER_E_INVALID_ARGUMENT);
  EXPECT_EQ(atf_writer_add_module(w_, nullptr), ATF_WRITER_E_INVALID_ARGUMENT);
  EXPECT_EQ(atf_writer_record_drops(nullptr, 1, 1), ATF_WRITER_E_INVALID_ARGUMENT);
  EXPECT_EQ(atf_writer_finalize(nullptr, 0), ATF_WRITER_E_INVALID_ARGUMENT);
  atf_writer_close(nullptr);
  EXPECT_EQ(atf_writer_session_dir(nullptr), nullptr);
  EXPECT_EQ(atf_writer_last_errno(nullptr), 0);
  EXPECT_STREQ(atf_writer_strerror(static_cast<atf_writer_status>(1234)), "unknown status");
  for (int s = ATF_WRITER_OK; s <= ATF_WRITER_E_FAILED; s++) {
    EXPECT_STRNE(atf_writer_strerror(static_cast<atf_writer_status>(s)), "unknown status");
  }
}

TEST_F(WriterTest, ExistingSessionIsNeverReused) {
  Options opt(root_);
  Open(&opt);
  atf_writer *second = nullptr;
  Options again(root_);
  EXPECT_EQ(atf_writer_open(&again.o, &second), ATF_WRITER_E_EXISTS);
  EXPECT_EQ(second, nullptr);
  // A symlink where the session directory would go is not followed.
  ASSERT_EQ(symlink(root_.c_str(), (root_ + "/session_link").c_str()), 0);
  Options link(root_, "link");
  EXPECT_EQ(atf_writer_open(&link.o, &second), ATF_WRITER_E_EXISTS);
  EXPECT_EQ(second, nullptr);
}

// options.open_error: a failed open says which system call failed, on which path, with which
// errno; a successful or refused open clears it. Each step of the open that can fail is named.
TEST_F(WriterTest, OpenErrorNamesTheFailedCallAndPath) {
  auto open = [](Options *opt, atf_writer_open_error *e) {
    memset(e, 0x5a, sizeof *e);  // garbage: every field must be written
    opt->o.open_error = e;
    atf_writer *w = nullptr;
    atf_writer_status st = atf_writer_open(&opt->o, &w);
    EXPECT_EQ(st, e->status);
    if (st != ATF_WRITER_OK) EXPECT_EQ(w, nullptr);
    atf_writer_close(w);
    return st;
  };
  auto message = [](const atf_writer_open_error &e) {
    char buf[8192];
    return std::string(atf_writer_format_open_error(&e, buf, sizeof buf));
  };
  // No system call failed: only the status is set, and the message is its text.
  auto expect_no_call = [&message](const atf_writer_open_error &e, const char *text) {
    EXPECT_EQ(e.error_number, 0);
    EXPECT_STREQ(e.operation, "");
    EXPECT_STREQ(e.path, "");
    EXPECT_EQ(message(e), text);
  };
  atf_writer_open_error e;

  // A root whose parent is missing: the writer creates one level only.
  Options deep(root_ + "/nope/deeper");
  EXPECT_EQ(open(&deep, &e), ATF_WRITER_E_IO);
  EXPECT_EQ(e.error_number, ENOENT);
  EXPECT_STREQ(e.operation, "create");
  EXPECT_EQ(std::string(e.path), root_ + "/nope/deeper");
  EXPECT_EQ(message(e), "cannot create " + root_ + "/nope/deeper: No such file or directory");

  // Success clears it; the same session again exists.
  Options first(root_, "again");
  EXPECT_EQ(open(&first, &e), ATF_WRITER_OK);
  expect_no_call(e, "ok");
  Options second(root_, "again");
  EXPECT_EQ(open(&second, &e), ATF_WRITER_E_EXISTS);
  EXPECT_EQ(e.error_number, EEXIST);
  EXPECT_EQ(message(e), "cannot create " + root_ + "/session_again: File exists");

  // events.bin cannot be created.
  atf_test::FaultOps no_file;
  no_file.fail_open_suffix = "events.bin";
  no_file.open_errno = EACCES;
  Options file(root_, "nofile");
  file.o.file_ops = no_file.ops();
  EXPECT_EQ(open(&file, &e), ATF_WRITER_E_IO);
  EXPECT_EQ(e.error_number, EACCES);
  EXPECT_EQ(message(e),
            "cannot create " + root_ + "/session_nofile/pid_4242/events.bin: " + strerror(EACCES));

  // The new directory entry cannot be made durable (the first fsync is pid_4242's directory).
  atf_test::FaultOps no_sync;
  no_sync.fsync_fail_at = 0;
  no_sync.fsync_errno = ENOSPC;
  Options sync(root_, "nosync");
  sync.o.file_ops = no_sync.ops();
  EXPECT_EQ(open(&sync, &e), ATF_WRITER_E_NO_SPACE);
  EXPECT_EQ(e.error_number, ENOSPC);
  EXPECT_STREQ(e.operation, "sync");
  EXPECT_EQ(std::string(e.path), root_ + "/session_nosync/pid_4242");

  // TraceStart cannot be written, inline and by the I/O thread.
  for (int io_thread : {0, 1}) {
    atf_test::FaultOps no_write;
    no_write.write_fail_at = 0;
    no_write.write_errno = EIO;
    const std::string label = "nowrite" + std::to_string(io_thread);
    Options w(root_, label.c_str());
    w.o.file_ops = no_write.ops();
    w.o.io_thread = io_thread;
    EXPECT_EQ(open(&w, &e), ATF_WRITER_E_IO);
    EXPECT_EQ(e.error_number, EIO);
    EXPECT_EQ(message(e), "cannot write " + root_ + "/session_" + label +
                              "/pid_4242/events.bin: " + strerror(EIO));
  }

  // Refused options: no system call failed, the status says why.
  Options bad(root_, "a/b");
  EXPECT_EQ(open(&bad, &e), ATF_WRITER_E_INVALID_ARGUMENT);
  expect_no_call(e, "invalid argument");

  // The message is cut to the buffer, always terminated; a zero size writes nothing.
  open(&deep, &e);
  char small[16];
  EXPECT_EQ(std::string(atf_writer_format_open_error(&e, small, sizeof small)), "cannot create /");
  small[0] = 'x';
  atf_writer_format_open_error(&e, small, 0);
  EXPECT_EQ(small[0], 'x');
}

TEST_F(WriterTest, LimitsStopAtARecordAndFinalizeStillWorks) {
  Options opt(root_);
  opt.o.max_events = 4;  // TraceStart + 3
  Open(&opt);
  Batch b;
  for (int i = 0; i < 5; i++) b.Call(1, 1, 1, 0, {});
  EXPECT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_E_LIMIT);
  EXPECT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_E_LIMIT);
  ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
  EXPECT_EQ(Read().size(), 5u);  // 4 + TraceEnd
  atf_writer_close(w_);
  w_ = nullptr;

  Options bytes(root_, "bytes");
  Open(&bytes);
  const uint64_t start = Stats().bytes_written;
  atf_writer_close(w_);
  w_ = nullptr;
  Options capped(root_, "capped");
  capped.o.max_file_bytes = start + 3 * 13;  // a bare call: 1 length + 12 Event bytes
  Open(&capped);
  EXPECT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_E_LIMIT);
  ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
  uint64_t file;
  std::vector<Event> ev = Read(&file);
  EXPECT_EQ(ev.size(), 5u);
  EXPECT_GT(file, start + 3 * 13);  // only the TraceEnd goes past the cap
}

TEST_F(WriterTest, EventsLargerThanTheBuffer) {
  Options opt(root_);
  opt.o.buffer_bytes = 64 << 10;
  std::string huge(200 << 10, 'a');
  const char *argv[] = {huge.c_str(), "b"};
  opt.o.argv = argv;
  opt.o.argc = 2;
  Open(&opt);
  std::string name(100 << 10, 's');
  const uint32_t id = Intern(name);
  Batch b;
  b.Call(1, 1, 1, id, {1});
  b.Return(1, 2, 1, id, {2});
  ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_OK);
  ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
  std::vector<Event> ev = Read();
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].args[0], huge);
  EXPECT_EQ(ev[1].symbol, name);
  EXPECT_EQ(ev[2].symbol, name);
}

TEST_F(WriterTest, DropsAndModulesInManifest) {
  Options opt(root_);
  Open(&opt);
  ASSERT_EQ(atf_writer_record_drops(w_, 7, 3), ATF_WRITER_OK);
  ASSERT_EQ(atf_writer_record_drops(w_, -1, UINT64_MAX), ATF_WRITER_OK);
  ASSERT_EQ(atf_writer_record_drops(w_, 7, 4), ATF_WRITER_OK);
  ASSERT_EQ(atf_writer_record_drops(w_, -1, 1), ATF_WRITER_OK);  // saturates
  for (int i = 0; i < 300; i++) {
    char u[40];
    snprintf(u, sizeof u, "%08X-0000-4000-8000-%012x", i % 200, i % 200);
    ASSERT_EQ(atf_writer_add_module(w_, u), ATF_WRITER_OK);
  }
  ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
  EXPECT_EQ(Stats().dropped_events, UINT64_MAX);
  const std::string json = Manifest();
  cJSON *root = cJSON_Parse(json.c_str());
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "modules")), 200);
  EXPECT_STREQ(
      cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "modules"), 10)->valuestring,
      "0000000a-0000-4000-8000-00000000000a");
  cJSON_Delete(root);
  uint64_t v;
  ASSERT_TRUE(atf_test::ExactJsonU64(json, "droppedEvents", &v));
  EXPECT_EQ(v, UINT64_MAX);
  ASSERT_TRUE(atf_test::ExactJsonU64(json, "7", &v));
  EXPECT_EQ(v, 7u);
  ASSERT_TRUE(atf_test::ExactJsonU64(json, "-1", &v));
  EXPECT_EQ(v, UINT64_MAX);
}

TEST_F(WriterTest, CollectsLoadedModules) {
  Options opt(root_);
  opt.o.collect_modules = 1;
  Open(&opt);
  ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
  cJSON *root = cJSON_Parse(Manifest().c_str());
  ASSERT_NE(root, nullptr);
#if defined(__linux__)
  EXPECT_GE(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "modules")), 1);
#endif
  cJSON_Delete(root);
}

TEST_F(WriterTest, StrangePathsRoundTripThroughTheManifest) {
  const std::string odd = root_ + "/we\"ird \\ tr\xc3\xa4\x63\x65";
  Options opt(odd);
  opt.o.executable_path = "/opt/\"q\"/back\\slash/\xe2\x9c\x93/bad\xc3";
  opt.o.session_id = (uint64_t{1} << 53) + 1;  // beyond a double's exact range
  opt.o.clock = nullptr;                       // CLOCK_REALTIME
  Open(&opt);
  ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
  cJSON *root = cJSON_Parse(Manifest().c_str());
  ASSERT_NE(root, nullptr);
  EXPECT_STREQ(cJSON_GetObjectItemCaseSensitive(root, "executablePath")->valuestring,
               "/opt/\"q\"/back\\slash/\xe2\x9c\x93/bad\xef\xbf\xbd");
  EXPECT_NE(Manifest().find("\"sessionId\":\t9007199254740993,"), std::string::npos) << Manifest();
  EXPECT_STREQ(cJSON_GetObjectItemCaseSensitive(root, "clock")->valuestring, "CLOCK_REALTIME");
  cJSON_Delete(root);
  std::vector<Event> ev = Read();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].executable_path, "/opt/\"q\"/back\\slash/\xe2\x9c\x93/bad\xef\xbf\xbd");
  EXPECT_EQ(Stats().utf8_replacements, 1u);
}

TEST_F(WriterTest, ManifestNamesTheClock) {
  const char *const names[] = {nullptr, "tsc"};
  for (const char *name : names) {
    Options opt(root_, name ? name : "unnamed");
    opt.o.clock_name = name;  // with the stepping test clock
    Open(&opt);
    ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
    cJSON *root = cJSON_Parse(Manifest().c_str());
    ASSERT_NE(root, nullptr);
    EXPECT_STREQ(cJSON_GetObjectItemCaseSensitive(root, "clock")->valuestring,
                 name ? name : "custom");
    cJSON_Delete(root);
    atf_writer_close(w_);
    w_ = nullptr;
  }
}

TEST_F(WriterTest, DefaultsComeFromTheProcess) {
  // No session id, executable path or pid given: a random id that any JSON reader keeps exact,
  // this process's executable and pid.
  Options opt(root_);
  opt.o.session_id = 0;
  opt.o.executable_path = nullptr;
  opt.o.pid = 0;
  Open(&opt);
  ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
  const uint64_t id = ManifestU64("sessionId");
  EXPECT_GE(id, 1u);
  EXPECT_LT(id, uint64_t{1} << 53);
  EXPECT_EQ(ManifestU64("pid"), static_cast<uint64_t>(getpid()));
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  ASSERT_GT(n, 0);
  exe[n] = '\0';
  std::vector<Event> ev = Read();
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev[0].executable_path, exe);
}

TEST_F(WriterTest, RealFileSizeLimitLeavesCompleteRecords) {
  // The real system calls, not the fault seam: a child process with RLIMIT_FSIZE gets EFBIG from
  // write(2) part-way through a buffer; the writer must cut the file back to a record boundary with
  // the real ftruncate(2) and report the error.
  Options opt(root_);
  const rlim_t limit = 200 * 1024 + 123;  // not a record boundary
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit rl = {limit, limit};
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(10);
    atf_writer *w = nullptr;
    if (atf_writer_open(&opt.o, &w) != ATF_WRITER_OK) _exit(11);
    Batch b;
    const std::string stack(200, 's');
    for (int i = 0; i < 100; i++) b.Call(1, 1000 + i, 0x1000, 0, {1, 2, 3, 4, 5, 6}, stack);
    atf_writer_status st = ATF_WRITER_OK;
    for (int i = 0; i < 100 && st == ATF_WRITER_OK; i++) {
      st = atf_writer_write(w, b.data(), b.size());
      if (st == ATF_WRITER_OK) st = atf_writer_flush(w);
    }
    const int code = st == ATF_WRITER_E_IO && atf_writer_last_errno(w) == EFBIG ? 0 : 12;
    atf_writer_close(w);
    _exit(code);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0) << "10: setrlimit, 11: open, 12: no EFBIG error";
  dir_ = root_ + "/session_t/pid_4242";
  uint64_t bytes = 0;
  std::vector<Event> ev = Read(&bytes);  // ends at a record boundary, every record decodes
  EXPECT_GT(ev.size(), 1u);
  EXPECT_LE(bytes, limit);
  EXPECT_FALSE(Exists(dir_ + "/trace.json"));
}

TEST_F(WriterTest, CloseWithoutFinalizeKeepsCompleteRecordsAndNoManifest) {
  Options opt(root_);
  Open(&opt);
  Batch b;
  b.Call(1, 1, 1, 0, {});
  ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_OK);
  atf_writer_close(w_);
  w_ = nullptr;
  EXPECT_EQ(Read().size(), 2u);
  EXPECT_FALSE(Exists(dir_ + "/trace.json"));
}

TEST_F(WriterTest, InternFromManyThreadsWhileWriting) {
  Options opt(root_);
  opt.o.buffer_bytes = 64 << 10;
  Open(&opt);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop.load() && i < 20000; i++) {
        uint32_t id;
        std::string s = "t" + std::to_string(t) + "_" + std::to_string(i % 3000);
        ASSERT_EQ(atf_writer_intern_symbol(w_, s.data(), s.size(), &id), ATF_WRITER_OK);
      }
    });
  }
  for (int round = 0; round < 200; round++) {
    const uint32_t id = Intern("writer" + std::to_string(round));
    Batch b;
    for (int i = 0; i < 50; i++) b.Call(1, 1, 1, id, {1});
    ASSERT_EQ(atf_writer_write(w_, b.data(), b.size()), ATF_WRITER_OK);
  }
  stop = true;
  for (auto &t : threads) t.join();
  ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
  std::vector<Event> ev = Read();
  ASSERT_EQ(ev.size(), 10002u);
  EXPECT_EQ(ev[10000].symbol, "writer199");
}

TEST_F(WriterTest, CorruptedBatchesAreRefusedOrWrittenCorrectly) {
  // Ring records are not trusted: random byte flips must give ATF_WRITER_E_BAD_RECORD (nothing
  // written) or a batch that decodes; never a crash, an out-of-bounds read (ASan) or a broken file.
  std::mt19937 rng(20231114);
  Batch good;
  for (int i = 0; i < 8; i++) {
    good.Call(1, 100 + i, 0x1000, 0, {1, 2, 3}, std::string(i * 5, 'k'));
    good.Signal(2, 200 + i, 11, std::vector<uint64_t>(i * 2, 9));
    good.Return(1, 300 + i, 0x1000, 0, {7});
  }
  good.Pad(48);
  const std::vector<uint64_t> words(static_cast<const uint64_t *>(good.data()),
                                    static_cast<const uint64_t *>(good.data()) + good.size() / 8);
  int accepted = 0, refused = 0;
  for (int session = 0; session < 20; session++) {
    const std::string label = "fuzz" + std::to_string(session);
    Options opt(root_, label.c_str());
    Open(&opt);
    for (int i = 0; i < 100; i++) {
      std::vector<uint64_t> copy = words;
      auto *bytes = reinterpret_cast<uint8_t *>(copy.data());
      const int flips = 1 + static_cast<int>(rng() % 3);
      for (int k = 0; k < flips; k++)
        bytes[rng() % (copy.size() * 8)] ^= static_cast<uint8_t>(1u << (rng() % 8));
      const size_t len =
          (rng() % 4 == 0) ? (rng() % (copy.size() * 8)) & ~size_t{7} : copy.size() * 8;
      atf_writer_status st = atf_writer_write(w_, copy.data(), len);
      ASSERT_TRUE(st == ATF_WRITER_OK || st == ATF_WRITER_E_BAD_RECORD || st == ATF_WRITER_E_STATE)
          << atf_writer_strerror(st);
      (st == ATF_WRITER_OK ? accepted : refused)++;
    }
    ASSERT_EQ(atf_writer_finalize(w_, 0), ATF_WRITER_OK);
    uint64_t bytes;
    std::vector<Event> ev = Read(&bytes);
    EXPECT_EQ(ev.size(), Stats().events_written);
    atf_writer_close(w_);
    w_ = nullptr;
  }
  EXPECT_GT(accepted, 50);
  EXPECT_GT(refused, 50);
}

}  // namespace
