// Crash consistency: a child process (testing/crash_child) traces two threads with periodic
// flushes and reports each acknowledged flush point; it is SIGKILLed once it has acknowledged a
// seeded random number of events (plus a random pause of up to 2 ms). The child never ends on its
// own, so every trial is a kill whatever the machine's speed.
// Every other killed trial also simulates a power cut: events.bin is cut at a random byte after
// the last acknowledged event (SIGKILL alone practically never tears a write()).
// After each kill (and cut):
//   - every event acknowledged by the last completed flush is in events.bin's valid prefix,
//   - the validator reports a torn tail as truncation (framing.truncated), never as a bad event,
//   - trace.json is absent, or complete and valid,
//   - atf-recover --truncate yields a session that validates.
// ATF_CRASH_SEED=<n> reproduces a run's kill points (thread timing still varies);
// ATF_CRASH_TRIALS=<n> changes the number of trials (default 60).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "writer/atf/writer.h"
#include "pipeline/testing/session.h"
#include "recover/atf/recover.h"

namespace {

struct ChildReport {
  std::string dir;
  std::map<int32_t, int64_t> acked;  // tid -> last durable sequence number
  bool done = false;

  // Events acknowledged as durable, all threads.
  int64_t AckedEvents() const {
    int64_t n = 0;
    for (const auto &[tid, seq] : acked) n += seq + 1;
    return n;
  }
};

void ParseLine(const std::string &line, ChildReport *r) {
  std::istringstream in(line);
  std::string word;
  in >> word;
  if (word == "DIR") {
    in >> r->dir;
  } else if (word == "ACK") {
    int32_t tid;
    long long seq;
    while (in >> tid >> seq) {
      if (tid != 0) r->acked[tid] = seq;
    }
  } else if (word == "DONE") {
    r->done = true;
  }
}

// Reads complete lines from `fd` until `enough(report)` holds (true) or EOF (false). A child whose
// acknowledged event count does not grow for `stall` is reported as stuck (false, *stalled set): a
// hang guard tied to the child's progress, far beyond any pause of a working child.
template <typename Pred>
bool ReadUntil(int fd, std::string *buf, ChildReport *r, Pred enough, bool *stalled,
               std::chrono::milliseconds stall = std::chrono::seconds(60)) {
  auto progress_at = std::chrono::steady_clock::now();
  int64_t acked = r->AckedEvents();
  for (;;) {
    size_t nl;
    while ((nl = buf->find('\n')) != std::string::npos) {
      ParseLine(buf->substr(0, nl), r);
      buf->erase(0, nl + 1);
      if (enough(*r)) return true;
    }
    const auto now = std::chrono::steady_clock::now();
    if (r->AckedEvents() != acked) {
      acked = r->AckedEvents();
      progress_at = now;
    }
    const auto left =
        stall - std::chrono::duration_cast<std::chrono::milliseconds>(now - progress_at);
    pollfd p{fd, POLLIN, 0};
    int ready = left.count() <= 0 ? 0 : poll(&p, 1, static_cast<int>(left.count()));
    if (ready == 0) {
      *stalled = true;
      return false;
    }
    if (ready < 0) continue;
    char tmp[4096];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n <= 0) return false;
    buf->append(tmp, static_cast<size_t>(n));
  }
}

std::string ChildPath() {
  const char *srcdir = std::getenv("TEST_SRCDIR");
  return std::string(srcdir ? srcdir : ".") + "/atf_v4/pipeline/crash_child";
}

const std::string kArg0 = atf_register_name(atf_host_arch(), ATF_KIND_CALL, 0);

struct Tally {
  int killed = 0, torn = 0, no_manifest = 0, trace_end_appended = 0, power_cuts = 0;
};

// Byte offset where the last durable record ends: TraceStart (the writer fsyncs it before
// atf_tracer_start returns, and the child reports DIR after that) or the last record holding an
// acknowledged event, whichever is later.
size_t AckedEnd(const std::string &events, const std::map<int32_t, int64_t> &acked) {
  size_t off = 0, end = 0;
  while (off < events.size()) {
    uint64_t len = 0;
    int shift = 0;
    size_t p = off;
    while (p < events.size() && shift < 64) {
      unsigned char b = static_cast<unsigned char>(events[p++]);
      len |= static_cast<uint64_t>(b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) == 0) break;
    }
    if (p + len > events.size()) break;
    atf::v4::Event ev;
    if (off == 0) end = p + len;  // TraceStart
    if (ev.ParseFromArray(events.data() + p, static_cast<int>(len)) && ev.has_function_call()) {
      auto it = acked.find(ev.thread_id());
      int64_t seq =
          static_cast<int64_t>(atf_test::Reg(ev.function_call().argument_registers(), kArg0));
      if (it != acked.end() && seq <= it->second) end = p + len;
    }
    off = p + len;
  }
  return end;
}

// Checks that the valid prefix of `dir` holds, per thread, events 0, 1, 2, ... up to at least the
// acknowledged ones, and that only the tail is wrong. Returns the verdict.
atf_test::Verdict CheckPrefix(const std::string &dir, const ChildReport &rep) {
  atf_test::Verdict v = atf_test::Validate(dir);
  for (const std::string &rule : v.rules) {
    EXPECT_TRUE(rule == "framing.truncated" || rule == "session.last")
        << "a crash may only tear the tail:\n"
        << v.text;
  }
  std::string events = atf_test::ReadFile(dir + "/events.bin");
  EXPECT_LE(v.valid_prefix_bytes, events.size());
  std::map<int32_t, int64_t> next;
  std::string error;
  EXPECT_TRUE(atf_test::ParseEvents(
      events.substr(0, v.valid_prefix_bytes),
      [&](const atf::v4::Event &ev) {
        if (!ev.has_function_call()) return;
        int64_t seq =
            static_cast<int64_t>(atf_test::Reg(ev.function_call().argument_registers(), kArg0));
        EXPECT_EQ(seq, next[ev.thread_id()]) << "thread " << ev.thread_id();
        next[ev.thread_id()] = seq + 1;
      },
      &error))
      << error;
  for (const auto &[tid, seq] : rep.acked) {
    EXPECT_GE(next[tid] - 1, seq) << "thread " << tid << ": acknowledged event " << seq
                                  << " is not in the valid prefix";
  }
  return v;
}

void RunTrial(const std::string &root, int trial, int64_t kill_after_events, int pause_us,
              std::mt19937_64 *rng, Tally *tally) {
  int fds[2], in[2];
  ASSERT_EQ(pipe(fds), 0);
  ASSERT_EQ(pipe(in), 0);
  std::string label = "crash" + std::to_string(trial);
  std::string child = ChildPath();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(in[0], 0);  // the child runs until this pipe ends; the parent never ends it first
    close(fds[0]);
    close(fds[1]);
    close(in[0]);
    close(in[1]);
    execl(child.c_str(), child.c_str(), root.c_str(), label.c_str(), static_cast<char *>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  close(in[0]);
  ChildReport rep;
  std::string buf;
  bool stalled = false;
  bool alive = ReadUntil(
      fds[0], &buf, &rep, [&](const ChildReport &r) { return !r.dir.empty(); }, &stalled);
  if (alive) {
    alive = ReadUntil(
        fds[0], &buf, &rep,
        [&](const ChildReport &r) { return r.AckedEvents() >= kill_after_events; }, &stalled);
  }
  if (alive && pause_us > 0) usleep(static_cast<useconds_t>(pause_us));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  close(in[1]);
  bool unused = false;
  ReadUntil(
      fds[0], &buf, &rep, [](const ChildReport &) { return false; }, &unused);  // to EOF
  close(fds[0]);
  ASSERT_FALSE(stalled) << "the child acknowledged no new event for 60 s (stuck)";
  ASSERT_FALSE(rep.dir.empty()) << "child never started (exec " << child << ")";
  ASSERT_TRUE(alive) << "the child ended before it was killed (status " << status << ")";
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  tally->killed++;

  const std::string dir = rep.dir;
  const bool has_manifest = atf_test::FileExists(dir + "/trace.json");
  atf_test::Verdict v = atf_test::Validate(dir);
  if (has_manifest) {
    EXPECT_TRUE(v.valid) << "trace.json present means complete and valid:\n" << v.text;
  } else {
    tally->no_manifest++;
  }
  std::string events = atf_test::ReadFile(dir + "/events.bin");
  if (v.valid_prefix_bytes < events.size()) tally->torn++;
  CheckPrefix(dir, rep);
  if (::testing::Test::HasFailure()) return;
  uint64_t kept = v.valid_prefix_bytes;

  // SIGKILL never tears a write() in practice; a power loss can tear anything not yet fsync'ed.
  // Every other killed trial, cut events.bin at a random byte after the last acknowledged event
  // and check the same guarantees again.
  if (!has_manifest && trial % 2 == 1) {
    size_t acked_end = AckedEnd(events, rep.acked);
    if (acked_end < events.size()) {
      size_t cut = acked_end + (*rng)() % (events.size() - acked_end);
      ASSERT_EQ(truncate((dir + "/events.bin").c_str(), static_cast<off_t>(cut)), 0);
      tally->power_cuts++;
      atf_test::Verdict cutv = CheckPrefix(dir, rep);
      if (::testing::Test::HasFailure()) return;
      kept = cutv.valid_prefix_bytes;
    }
  }

  atf_recover_options ro;
  atf_recover_options_init(&ro);
  ro.truncate = 1;
  atf_recover_result rr;
  atf_recover_status rs = atf_recover_session(dir.c_str(), &ro, &rr);
  EXPECT_TRUE(rs == ATF_RECOVER_OK || rs == ATF_RECOVER_ALREADY_VALID) << rr.message;
  if (rr.trace_end_appended) tally->trace_end_appended++;
  atf_test::Verdict after = atf_test::Validate(dir);
  EXPECT_TRUE(after.valid) << after.text;
  EXPECT_GE(after.valid_prefix_bytes, kept)
      << "recovery keeps the valid prefix; recovery said: " << rr.message << " (status " << rs
      << ", manifest before: " << has_manifest << ")";
}

TEST(CrashTest, SigkillAtRandomMomentsLosesNothingAcknowledged) {
  uint64_t seed = std::random_device()();
  if (const char *s = std::getenv("ATF_CRASH_SEED")) seed = std::strtoull(s, nullptr, 10);
  int trials = 60;
  if (const char *s = std::getenv("ATF_CRASH_TRIALS")) trials = std::atoi(s);
  std::printf("crash_test: ATF_CRASH_SEED=%llu, %d trials\n", static_cast<unsigned long long>(seed),
              trials);
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);          // kill times
  std::mt19937_64 cut_rng(seed + 1);  // simulated power cuts
  std::string root = atf_test::TempDir("crash");
  Tally tally;
  for (int trial = 0; trial < trials; trial++) {
    // Kill once the child has acknowledged this many durable events (it records ~60,000 a
    // second), then after a pause so kills also land between flushes.
    int64_t kill_after_events = static_cast<int64_t>(rng() % 6000);
    int pause_us = static_cast<int>(rng() % 2000);
    SCOPED_TRACE("ATF_CRASH_SEED=" + std::to_string(seed) + " trial " + std::to_string(trial) +
                 " kill after " + std::to_string(kill_after_events) + " acknowledged events + " +
                 std::to_string(pause_us) + " us");
    RunTrial(root, trial, kill_after_events, pause_us, &cut_rng, &tally);
    if (HasFailure()) return;
  }
  std::printf(
      "crash_test: %d killed, %d without trace.json, %d torn tails, "
      "%d simulated power cuts, %d TraceEnds appended by recovery\n",
      tally.killed, tally.no_manifest, tally.torn, tally.power_cuts, tally.trace_end_appended);
  EXPECT_EQ(tally.killed, trials);
}

}  // namespace
