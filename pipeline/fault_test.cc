// Fault injection through the writer's file-operation seam: a small traced session is run once to
// count its write, fsync and rename calls, then once per call with that call failing (ENOSPC, EIO,
// or a short write followed by ENOSPC). Every run must: not crash or leak (ASan), report an error
// from start, flush or stop, keep the tracer's accounting (produced == written + dropped + lost),
// and leave on disk a valid prefix (no torn record) that atf-recover turns into a valid session.
#include <errno.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "writer/atf/file_ops.h"
#include "pipeline/atf/tracer.h"
#include "pipeline/testing/session.h"
#include "recover/atf/recover.h"

namespace {

enum Op { kWrite = 0, kFsync = 1, kRename = 2, kOps = 3 };
const char *const kOpNames[kOps] = {"write", "fsync", "rename"};
enum Mode { kNoSpace, kIo, kShort };
const char *const kModeNames[] = {"ENOSPC", "EIO", "short write"};

struct Faults {
  int calls[kOps] = {0, 0, 0};
  int fail_op = -1;  // which op, -1 = none
  int fail_at = -1;  // which call of it (0-based)
  Mode mode = kNoSpace;
  bool fired = false;
  bool disk_full = false;  // after a short write, writes fail with ENOSPC
};

Faults *g_faults;

const atf_file_ops *Real() { return atf_file_ops_posix(); }

bool Hit(Op op) {
  int n = g_faults->calls[op]++;
  if (g_faults->fail_op == op && g_faults->fail_at == n) {
    g_faults->fired = true;
    return true;
  }
  return false;
}

int FOpen(void *, const char *path, int flags, mode_t mode) {
  return Real()->open(Real()->ctx, path, flags, mode);
}
ssize_t FWrite(void *, int fd, const void *buf, size_t len) {
  if (g_faults->disk_full) {
    errno = ENOSPC;
    return -1;
  }
  if (Hit(kWrite)) {
    if (g_faults->mode == kShort && len > 1) {
      g_faults->disk_full = true;
      return Real()->write(Real()->ctx, fd, buf, len / 2);
    }
    errno = g_faults->mode == kIo ? EIO : ENOSPC;
    return -1;
  }
  return Real()->write(Real()->ctx, fd, buf, len);
}
int FFsync(void *, int fd) {
  if (Hit(kFsync)) {
    errno = g_faults->mode == kIo ? EIO : ENOSPC;
    return -1;
  }
  return Real()->fsync(Real()->ctx, fd);
}
int FFtruncate(void *, int fd, off_t len) { return Real()->ftruncate(Real()->ctx, fd, len); }
int FClose(void *, int fd) { return Real()->close(Real()->ctx, fd); }
int FRename(void *, const char *from, const char *to) {
  if (Hit(kRename)) {
    errno = g_faults->mode == kIo ? EIO : ENOSPC;
    return -1;
  }
  return Real()->rename(Real()->ctx, from, to);
}
int FMkdir(void *, const char *path, mode_t mode) { return Real()->mkdir(Real()->ctx, path, mode); }
int FUnlink(void *, const char *path) { return Real()->unlink(Real()->ctx, path); }

const atf_file_ops kFaultOps = {nullptr, FOpen,   FWrite, FFsync, FFtruncate,
                                FClose,  FRename, FMkdir, FUnlink};

struct Outcome {
  bool error_reported = false;
  std::string dir;
};

// One session: 300 events, an explicit flush, 300 more, stop.
Outcome RunSession(const std::string &root, Faults *faults) {
  g_faults = faults;
  Outcome out;
  atf_tracer_options o;
  atf_tracer_options_init(&o);
  o.writer.output_root = root.c_str();
  o.writer.session_label = "fault";
  o.writer.collect_modules = 0;
  o.writer.file_ops = &kFaultOps;
  o.writer.buffer_bytes = 64 * 1024;  // several buffer writes per session
  o.flush_interval_ns = 0;            // flushes only where this test asks: deterministic calls
  atf_tracer_status st = atf_tracer_start(&o);
  if (st != ATF_TRACER_OK) {
    EXPECT_EQ(st, ATF_TRACER_E_WRITER);
    out.error_reported = true;
    out.dir = root + "/session_fault";
    return out;
  }
  out.dir = atf_tracer_session_dir();
  uint32_t sym = 0;
  EXPECT_EQ(atf_tracer_symbol("faulty", &sym), ATF_TRACER_OK);
  unsigned char stack[200] = {1, 2, 3};
  for (int round = 0; round < 2; round++) {
    for (uint64_t i = 0; i < 300; i++) {
      uint64_t regs[6] = {i, 1, 2, 3, 4, 5};
      atf_tracer_record_call(sym, 0x99, regs, 6, stack, sizeof stack);
    }
    if (round == 0 && atf_tracer_flush() != ATF_TRACER_OK) out.error_reported = true;
  }
  atf_tracer_stats stats{};
  st = atf_tracer_stop(0, &stats);
  if (st != ATF_TRACER_OK) {
    EXPECT_EQ(st, ATF_TRACER_E_WRITER);
    EXPECT_NE(stats.writer_status, ATF_WRITER_OK);
    out.error_reported = true;
  }
  EXPECT_EQ(stats.produced, stats.written + stats.dropped + stats.lost);
  EXPECT_EQ(stats.produced, 600u);
  return out;
}

void CheckDisk(const Outcome &out) {
  if (!atf_test::FileExists(out.dir + "/events.bin")) return;  // failed before events.bin existed
  atf_test::Verdict v = atf_test::Validate(out.dir);
  std::string events = atf_test::ReadFile(out.dir + "/events.bin");
  if (atf_test::FileExists(out.dir + "/trace.json")) {
    EXPECT_TRUE(v.valid) << "a trace.json is only there when the session is complete:\n" << v.text;
  }
  if (events.empty()) return;  // TraceStart's own write failed: nothing to keep
  EXPECT_EQ(v.valid_prefix_bytes, events.size()) << "no torn record after an error:\n" << v.text;
  atf_recover_options ro;
  atf_recover_options_init(&ro);
  ro.truncate = 1;
  atf_recover_result rr;
  atf_recover_status rs = atf_recover_session(out.dir.c_str(), &ro, &rr);
  EXPECT_TRUE(rs == ATF_RECOVER_OK || rs == ATF_RECOVER_ALREADY_VALID) << rr.message;
  atf_test::Verdict after = atf_test::Validate(out.dir);
  EXPECT_TRUE(after.valid) << after.text;
}

TEST(FaultTest, EveryWriteFsyncAndRenameFailingInTurn) {
  Faults count;
  Outcome clean = RunSession(atf_test::TempDir("fault-count"), &count);
  ASSERT_FALSE(clean.error_reported);
  EXPECT_TRUE(atf_test::Validate(clean.dir).valid);
  std::printf("fault_test: a clean session makes %d writes, %d fsyncs, %d renames\n",
              count.calls[kWrite], count.calls[kFsync], count.calls[kRename]);
  ASSERT_GE(count.calls[kWrite], 3);
  ASSERT_GE(count.calls[kFsync], 3);
  ASSERT_GE(count.calls[kRename], 1);

  int runs = 0, fired = 0;
  for (int op = 0; op < kOps; op++) {
    std::vector<Mode> modes = {kNoSpace, kIo};
    if (op == kWrite) modes.push_back(kShort);
    for (Mode mode : modes) {
      for (int at = 0; at < count.calls[op]; at++) {
        SCOPED_TRACE(std::string(kOpNames[op]) + " #" + std::to_string(at) + " fails with " +
                     kModeNames[mode]);
        Faults f;
        f.fail_op = op;
        f.fail_at = at;
        f.mode = mode;
        std::string root = atf_test::TempDir("fault-" + std::to_string(runs++));
        Outcome out = RunSession(root, &f);
        if (!f.fired) continue;
        fired++;
        EXPECT_TRUE(out.error_reported) << "an injected failure must be reported";
        CheckDisk(out);
      }
    }
  }
  std::printf("fault_test: %d runs, %d with the fault fired\n", runs, fired);
  EXPECT_GT(fired, 10);
}

}  // namespace
