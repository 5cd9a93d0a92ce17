// Fault injection through atf_file_ops: ENOSPC (a disk that fills at every possible byte), EIO at
// every write and fsync, short writes, EINTR on write/fsync/rename/ftruncate, failing rename and
// open. Whatever happens: no crash, no leaked descriptor (and no leak under ASan), the error is
// returned, later calls fail with ATF_WRITER_E_FAILED, and events.bin ends at a record boundary
// with exactly the events and bytes the writer reports.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cerrno>
#include <string>
#include <vector>

#include "writer/atf/writer.h"
#include "writer/testing/decode.h"
#include "writer/testing/fault_ops.h"
#include "writer/testing/records.h"
#include "writer/testing/session.h"

namespace {

using atf_test::Batch;
using atf_test::Event;
using atf_test::FaultOps;
using atf_test::Options;

struct Outcome {
  atf_writer_status open = ATF_WRITER_OK, first_error = ATF_WRITER_OK;
  bool finalized = false;
  std::string dir;
  atf_writer_stats stats = {};
  int last_errno = 0;
};

// open; three batches (the second overflows the 64 KiB buffer several times); flush; finalize.
// With io_thread the full buffers are written by the writer's I/O thread and an error of such a
// write is returned by a later call: the invariants and outcomes checked below are the same.
Outcome RunScenario(const std::string &root, const std::string &label, FaultOps *f, int io_thread) {
  Options opt(root, label.c_str());
  opt.o.file_ops = f->ops();
  opt.o.buffer_bytes = 64 << 10;
  opt.o.io_thread = io_thread;
  Outcome out;
  atf_writer *w = nullptr;
  out.open = atf_writer_open(&opt.o, &w);
  if (out.open != ATF_WRITER_OK) {
    EXPECT_EQ(w, nullptr);
    return out;
  }
  out.dir = atf_writer_session_dir(w);
  uint32_t sym;
  atf_writer_intern_symbol(w, "fn", 2, &sym);
  Batch small, big;
  small.Call(1, 10, 0x10, sym, {1, 2, 3}, "abc");
  small.Return(1, 11, 0x10, sym, {4});
  for (int i = 0; i < 1000; i++) {  // ~300 KB: four drains of the 64 KiB buffer
    big.Call(2, 100 + i, 0x20, sym, {static_cast<uint64_t>(i), UINT64_MAX}, std::string(40, 's'));
    big.Signal(2, 101 + i, 11, std::vector<uint64_t>(18, static_cast<uint64_t>(i)));
  }
  atf_writer_status steps[4];
  steps[0] = atf_writer_write(w, small.data(), small.size());
  steps[1] = atf_writer_write(w, big.data(), big.size());
  steps[2] = atf_writer_flush(w);
  steps[3] = atf_writer_write(w, small.data(), small.size());
  for (atf_writer_status s : steps) {
    if (out.first_error == ATF_WRITER_OK && s != ATF_WRITER_OK) out.first_error = s;
  }
  atf_writer_status fin = atf_writer_finalize(w, 0);
  if (out.first_error == ATF_WRITER_OK) out.first_error = fin;
  out.finalized = fin == ATF_WRITER_OK;
  if (out.first_error != ATF_WRITER_OK) {
    // The failed state: everything but close refuses.
    EXPECT_EQ(atf_writer_write(w, small.data(), small.size()), ATF_WRITER_E_FAILED);
    EXPECT_EQ(atf_writer_flush(w), ATF_WRITER_E_FAILED);
    EXPECT_EQ(atf_writer_finalize(w, 0), ATF_WRITER_E_FAILED);
    uint32_t id;
    EXPECT_EQ(atf_writer_intern_symbol(w, "x", 1, &id), ATF_WRITER_E_FAILED);
    EXPECT_NE(atf_writer_last_errno(w), 0);
  }
  atf_writer_get_stats(w, &out.stats);
  out.last_errno = atf_writer_last_errno(w);
  atf_writer_close(w);
  EXPECT_TRUE(f->open_fds.empty()) << "leaked descriptors";
  EXPECT_EQ(f->overlaps.load(), 0) << "file operations ran on two threads at once";
  if (!io_thread) EXPECT_EQ(f->foreign_writes, 0);
  return out;
}

bool Exists(const std::string &path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

// The invariants every outcome must satisfy.
void CheckOnDisk(const Outcome &o, const std::string &what) {
  SCOPED_TRACE(what);
  if (o.open != ATF_WRITER_OK) return;
  std::vector<Event> events;
  uint64_t bytes = 0;
  EXPECT_EQ(atf_test::ReadSession(o.dir, &events, &bytes), "");
  EXPECT_EQ(bytes, o.stats.bytes_written);
  EXPECT_EQ(events.size(), o.stats.events_written);
  EXPECT_LE(o.stats.bytes_durable, o.stats.bytes_written);
  // A manifest may exist without a successful finalize only when the failure came after the rename
  // (the directory fsync); it is complete and describes events.bin either way.
  const bool manifest = Exists(o.dir + "/trace.json");
  if (o.finalized) EXPECT_TRUE(manifest);
  EXPECT_FALSE(Exists(o.dir + "/trace.json.tmp"));
  if (manifest) {
    uint64_t v;
    const std::string json = atf_test::ReadFile(o.dir + "/trace.json");
    ASSERT_TRUE(atf_test::ExactJsonU64(json, "bytesWritten", &v));
    EXPECT_EQ(v, bytes);
    ASSERT_TRUE(atf_test::ExactJsonU64(json, "eventCount", &v));
    EXPECT_EQ(v, events.size());
  }
}

// Every test runs twice: parameter 0 without the writer's I/O thread, 1 with it.
class FaultTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    root_ = atf_test::MakeTempDir("fault");
    ASSERT_FALSE(root_.empty());
    FaultOps clean;
    reference_ = RunScenario(root_, Label("reference", 0), &clean, GetParam());
    ASSERT_EQ(reference_.first_error, ATF_WRITER_OK);
    ASSERT_TRUE(reference_.finalized);
    reference_bytes_ = atf_test::ReadFile(reference_.dir + "/events.bin");
    clean_writes_ = clean.writes;
    clean_fsyncs_ = clean.fsyncs;
    // The big batch fills the 64 KiB buffer several times (4): those writes are the I/O thread's.
    if (GetParam()) EXPECT_GE(clean.foreign_writes, 3);
  }
  std::string Label(const char *kind, long n) {
    return std::string(kind) + std::to_string(n) + (GetParam() ? "_io" : "");
  }

  std::string root_, reference_bytes_;
  Outcome reference_;
  int clean_writes_ = 0, clean_fsyncs_ = 0;
};

TEST_P(FaultTest, DiskFullAtEveryRegion) {
  // Budgets through the whole run, denser near the start; the manifest is written last, so the
  // largest budgets fail inside trace.json.
  const long total = static_cast<long>(reference_bytes_.size()) + 1024;
  std::vector<long> budgets = {0, 1, 2, 5, 17, 64, 100};
  for (long b = 128; b < total; b += total / 97) budgets.push_back(b);
  for (long b = total - 1100; b < total; b += 37) budgets.push_back(b);
  for (long budget : budgets) {
    FaultOps f;
    f.space_left = budget;
    Outcome o = RunScenario(root_, Label("enospc", budget), &f, GetParam());
    SCOPED_TRACE("budget " + std::to_string(budget));
    if (o.open != ATF_WRITER_OK) {
      EXPECT_EQ(o.open, ATF_WRITER_E_NO_SPACE);
      continue;
    }
    if (!o.finalized) {
      EXPECT_EQ(o.first_error, ATF_WRITER_E_NO_SPACE);
      EXPECT_EQ(o.last_errno, ENOSPC);
    }
    CheckOnDisk(o, "budget " + std::to_string(budget));
    // What is on disk is a prefix of the clean run's bytes.
    const std::string got = atf_test::ReadFile(o.dir + "/events.bin");
    EXPECT_EQ(reference_bytes_.compare(0, got.size(), got), 0);
  }
}

TEST_P(FaultTest, EioAtEveryWrite) {
  for (int n = 0; n < clean_writes_; n++) {
    FaultOps f;
    f.write_fail_at = n;
    f.write_errno = EIO;
    Outcome o = RunScenario(root_, Label("eio", n), &f, GetParam());
    SCOPED_TRACE("write " + std::to_string(n));
    EXPECT_EQ(o.open == ATF_WRITER_OK ? o.first_error : o.open, ATF_WRITER_E_IO);
    CheckOnDisk(o, "eio write " + std::to_string(n));
  }
}

TEST_P(FaultTest, FsyncFailureAtEveryFsync) {
  for (int n = 0; n < clean_fsyncs_; n++) {
    FaultOps f;
    f.fsync_fail_at = n;
    f.fsync_errno = (n % 2) ? EIO : ENOSPC;
    Outcome o = RunScenario(root_, Label("fsync", n), &f, GetParam());
    SCOPED_TRACE("fsync " + std::to_string(n));
    EXPECT_EQ(o.open == ATF_WRITER_OK ? o.first_error : o.open,
              (n % 2) ? ATF_WRITER_E_IO : ATF_WRITER_E_NO_SPACE);
    CheckOnDisk(o, "fsync " + std::to_string(n));
  }
}

TEST_P(FaultTest, ShortWritesAndEintrChangeNothing) {
  for (size_t max_write : {size_t{1}, size_t{7}, size_t{4093}}) {
    FaultOps f;
    f.max_write = max_write;
    f.eintr = true;
    Outcome o = RunScenario(root_, Label("short", static_cast<long>(max_write)), &f, GetParam());
    EXPECT_EQ(o.first_error, ATF_WRITER_OK);
    EXPECT_TRUE(o.finalized);
    EXPECT_GT(f.eintrs, 0);
    EXPECT_EQ(atf_test::ReadFile(o.dir + "/events.bin"), reference_bytes_);
    EXPECT_EQ(atf_test::ReadFile(o.dir + "/trace.json"),
              atf_test::ReadFile(reference_.dir + "/trace.json"));
    CheckOnDisk(o, "short writes");
  }
}

TEST_P(FaultTest, ShortWriteThenEnospcKeepsTheCompleteRecordsWritten) {
  // The disk fills in the middle of a buffer drain: the records before the torn one stay.
  FaultOps f;
  f.space_left = static_cast<long>(reference_bytes_.size() / 2);
  f.max_write = 1000;
  Outcome o = RunScenario(root_, Label("half", 0), &f, GetParam());
  EXPECT_EQ(o.first_error, ATF_WRITER_E_NO_SPACE);
  EXPECT_GT(f.ftruncates, 0);
  EXPECT_GT(o.stats.bytes_written, reference_bytes_.size() / 2 - 200);  // at most one record lost
  CheckOnDisk(o, "half");
}

TEST_P(FaultTest, RenameFailureLeavesNoManifest) {
  for (int err : {EIO, ENOSPC, EXDEV}) {
    FaultOps f;
    f.rename_errno = err;
    Outcome o = RunScenario(root_, Label("rename", err), &f, GetParam());
    EXPECT_FALSE(o.finalized);
    EXPECT_EQ(o.first_error, err == ENOSPC ? ATF_WRITER_E_NO_SPACE : ATF_WRITER_E_IO);
    EXPECT_EQ(o.last_errno, err);
    CheckOnDisk(o, "rename");
  }
}

TEST_P(FaultTest, OpenFailures) {
  FaultOps f;
  f.fail_open_suffix = "events.bin";
  f.open_errno = EACCES;
  Outcome o = RunScenario(root_, Label("noevents", 0), &f, GetParam());
  EXPECT_EQ(o.open, ATF_WRITER_E_IO);
  EXPECT_TRUE(f.open_fds.empty());

  FaultOps g;
  g.fail_open_suffix = "trace.json.tmp";
  g.open_errno = EDQUOT;
  Outcome p = RunScenario(root_, Label("nomanifest", 0), &g, GetParam());
  EXPECT_EQ(p.first_error, ATF_WRITER_E_NO_SPACE);
  CheckOnDisk(p, "manifest open");

  // The first TraceStart write fails: open fails and removes events.bin.
  FaultOps h;
  h.write_fail_at = 0;
  h.write_errno = EIO;
  Outcome q = RunScenario(root_, Label("nostart", 0), &h, GetParam());
  EXPECT_EQ(q.open, ATF_WRITER_E_IO);
  EXPECT_FALSE(Exists(root_ + "/session_" + Label("nostart", 0) + "/pid_4242/events.bin"));
}

INSTANTIATE_TEST_SUITE_P(IoThread, FaultTest, ::testing::Values(0, 1),
                         [](const ::testing::TestParamInfo<int> &i) {
                           return i.param ? "io_thread" : "inline";
                         });

}  // namespace
