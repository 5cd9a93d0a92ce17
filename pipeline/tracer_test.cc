// End-to-end tests of the tracer: producers -> rings -> drain -> writer -> events.bin, read back
// with Google's C++ protobuf and checked by the validator library.
#include "pipeline/atf/tracer.h"

#include <gtest/gtest.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "pipeline/testing/session.h"

namespace {

using atf_test::ForEachEvent;
using atf_test::Reg;
using atf_test::Validate;

int32_t Tid() { return static_cast<int32_t>(syscall(SYS_gettid)); }

const std::string kArg0 = atf_register_name(atf_host_arch(), ATF_KIND_CALL, 0);
const std::string kRet0 = atf_register_name(atf_host_arch(), ATF_KIND_RETURN, 0);

atf_tracer_options Options(const std::string &name) {
  static std::vector<std::string> *roots = new std::vector<std::string>();
  roots->push_back(atf_test::TempDir(name));
  atf_tracer_options o;
  atf_tracer_options_init(&o);
  o.writer.output_root = roots->back().c_str();
  o.writer.session_label = "test";
  o.writer.collect_modules = 0;
  return o;
}

// What one producer thread did.
struct Producer {
  int32_t tid = 0;
  uint64_t ok = 0, dropped = 0;
};

// Alternates calls and returns; the sequence number goes in the first argument / return register.
// With `backoff`, a producer whose event was dropped pauses 50 us, like a workload that does
// real work between events; without it, producers outrun the writer and most events drop.
void Produce(uint32_t sym, uint64_t n, Producer *p, bool backoff) {
  p->tid = Tid();
  unsigned char stack[24];
  for (uint64_t i = 0; i < n; i++) {
    uint64_t regs[6] = {i, 1, 2, 3, 4, 5};
    atf_tracer_status st;
    if (i % 2 == 0) {
      std::memcpy(stack, &i, sizeof i);
      st = atf_tracer_record_call(sym, 0x1000 + sym, regs, 6, stack, sizeof stack);
    } else {
      st = atf_tracer_record_return(sym, 0x1000 + sym, regs, 2);
    }
    if (st == ATF_TRACER_OK) {
      p->ok++;
    } else {
      ASSERT_EQ(st, ATF_TRACER_E_DROPPED);
      p->dropped++;
      if (backoff) std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
  }
}

// Reads the session back and checks each producer's events arrived complete and in order.
// `other_written`: events recorded besides the producers' calls and returns (signals).
void CheckSession(const atf_tracer_stats &st, const std::vector<Producer> &producers,
                  uint64_t other_written = 0) {
  std::map<int32_t, std::vector<uint64_t>> seqs;
  uint64_t events = 0, last_id = 0;
  bool first = true;
  std::string error;
  ASSERT_TRUE(ForEachEvent(
      std::string(st.session_dir) + "/events.bin",
      [&](const atf::v4::Event &ev) {
        if (!first) EXPECT_GT(ev.event_id(), last_id);
        first = false;
        last_id = ev.event_id();
        events++;
        if (ev.has_function_call()) {
          seqs[ev.thread_id()].push_back(Reg(ev.function_call().argument_registers(), kArg0));
        } else if (ev.has_function_return()) {
          seqs[ev.thread_id()].push_back(Reg(ev.function_return().return_registers(), kRet0));
        }
      },
      &error))
      << error;
  EXPECT_EQ(events, st.file_events);
  uint64_t ok = 0;
  for (const Producer &p : producers) {
    const std::vector<uint64_t> &s = seqs[p.tid];
    ASSERT_EQ(s.size(), p.ok) << "thread " << p.tid;
    for (size_t i = 1; i < s.size(); i++) ASSERT_LT(s[i - 1], s[i]) << "thread " << p.tid;
    ok += p.ok;
  }
  EXPECT_EQ(st.written, ok + other_written);
  atf_test::Verdict v = Validate(st.session_dir);
  EXPECT_TRUE(v.valid) << v.text;
  if (st.dropped > 0) {
    EXPECT_TRUE(v.has_dropped_events);
    EXPECT_EQ(v.dropped_events, st.dropped);
  }
}

void RunProducers(const atf_tracer_options &o, int threads, uint64_t per_thread, bool backoff,
                  atf_tracer_stats *st, std::vector<Producer> *producers) {
  ASSERT_EQ(atf_tracer_start(&o), ATF_TRACER_OK);
  uint32_t sym = 0;
  ASSERT_EQ(atf_tracer_symbol("produce", &sym), ATF_TRACER_OK);
  producers->assign(threads, Producer());
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; i++)
    ts.emplace_back(Produce, sym, per_thread, &(*producers)[i], backoff);
  for (auto &t : ts) t.join();
  ASSERT_EQ(atf_tracer_stop(0, st), ATF_TRACER_OK);
}

TEST(TracerTest, Defaults) {
  atf_tracer_options o;
  atf_tracer_options_init(&o);
  EXPECT_EQ(o.ring_bytes, 256u * 1024u);
  EXPECT_EQ(o.max_threads, 1024u);
  EXPECT_EQ(o.max_stack_bytes, 256u);
  EXPECT_EQ(o.writer.io_thread, 1);  // unlike atf_writer_options_init
  atf_writer_options w;
  atf_writer_options_init(&w);
  EXPECT_EQ(w.io_thread, 0);
  EXPECT_EQ(o.overflow, ATF_TRACER_OVERFLOW_DROP);
}

TEST(TracerTest, EightProducersAMillionEventsAllAccountedFor) {
  atf_tracer_options o = Options("million");
  atf_tracer_stats st{};
  std::vector<atf_tracer_thread_stats> detail(16);
  st.thread_stats = detail.data();
  st.thread_stats_cap = detail.size();
  std::vector<Producer> producers;
  RunProducers(o, 8, 125000, true, &st, &producers);
  EXPECT_EQ(st.produced, 1000000u);
  EXPECT_EQ(st.written + st.dropped, st.produced);
  EXPECT_EQ(st.lost, 0u);
  EXPECT_EQ(st.threads, 8u);
  ASSERT_EQ(st.thread_stats_count, 8u);
  for (const Producer &p : producers) {
    bool found = false;
    for (size_t i = 0; i < st.thread_stats_count; i++) {
      if (detail[i].thread_id != p.tid) continue;
      found = true;
      EXPECT_EQ(detail[i].produced, p.ok + p.dropped);
      EXPECT_EQ(detail[i].written, p.ok);
      EXPECT_EQ(detail[i].dropped, p.dropped);
    }
    EXPECT_TRUE(found) << p.tid;
  }
  CheckSession(st, producers);
  std::printf("million: written %llu dropped %llu in %.3f s\n", (unsigned long long)st.written,
              (unsigned long long)st.dropped, st.elapsed_ns / 1e9);
}

TEST(TracerTest, TinyRingsDropAndStillAccountForEverything) {
  atf_tracer_options o = Options("tiny");
  o.ring_bytes = 1024;
  atf_tracer_stats st{};
  std::vector<Producer> producers;
  RunProducers(o, 8, 20000, false, &st, &producers);
  EXPECT_EQ(st.produced, 160000u);
  EXPECT_EQ(st.written + st.dropped, st.produced);
  EXPECT_GT(st.dropped, 0u);
  CheckSession(st, producers);
}

TEST(TracerTest, BlockPolicyNeverDropsWithTinyRings) {
  atf_tracer_options o = Options("block");
  o.ring_bytes = 1024;
  o.overflow = ATF_TRACER_OVERFLOW_BLOCK;
  atf_tracer_stats st{};
  std::vector<Producer> producers;
  RunProducers(o, 8, 20000, false, &st, &producers);
  EXPECT_EQ(st.produced, 160000u);
  EXPECT_EQ(st.dropped, 0u);
  EXPECT_EQ(st.written, st.produced);
  for (const Producer &p : producers) EXPECT_EQ(p.dropped, 0u);
  CheckSession(st, producers);
}

// The drain sleeps up to idle_sleep_ns when it finds nothing; a producer whose ring passes half
// full wakes it. With a one-minute idle sleep and 4 KiB rings that block when full, the run only
// ends in time if every refill wakes the drain (the test's timeout is the guard).
TEST(TracerTest, AFillingRingWakesASleepingDrain) {
  atf_tracer_options o = Options("wake");
  o.ring_bytes = 4096;
  o.overflow = ATF_TRACER_OVERFLOW_BLOCK;
  o.idle_sleep_ns = 60000000000ull;
  o.flush_interval_ns = 0;
  atf_tracer_stats st{};
  std::vector<Producer> producers;
  RunProducers(o, 2, 20000, false, &st, &producers);
  EXPECT_EQ(st.dropped, 0u);
  EXPECT_EQ(st.written, 40000u);
  CheckSession(st, producers);
}

// Producers blocked on full rings while another thread stops the session: stop waits for them,
// every event a producer was told was recorded is in the file, the rest got ATF_TRACER_E_STATE.
TEST(TracerTest, StopWhileProducersBlockIsClean) {
  atf_tracer_options o = Options("block_stop");
  o.ring_bytes = 1024;
  o.overflow = ATF_TRACER_OVERFLOW_BLOCK;
  ASSERT_EQ(atf_tracer_start(&o), ATF_TRACER_OK);
  uint32_t sym = 0;
  ASSERT_EQ(atf_tracer_symbol("produce", &sym), ATF_TRACER_OK);
  constexpr int kThreads = 4;
  std::vector<Producer> producers(kThreads);
  std::atomic<uint64_t> total{0};
  std::atomic<int> stopped_seen{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < kThreads; i++) {
    ts.emplace_back([&, i] {
      Producer *p = &producers[i];
      p->tid = Tid();
      unsigned char stack[64] = {0};
      for (uint64_t seq = 0;; seq++) {
        uint64_t regs[6] = {seq, 1, 2, 3, 4, 5};
        atf_tracer_status st = atf_tracer_record_call(sym, 0x1000, regs, 6, stack, sizeof stack);
        if (st == ATF_TRACER_E_STATE) break;
        ASSERT_EQ(st, ATF_TRACER_OK);  // BLOCK: never dropped
        p->ok++;
        total.fetch_add(1);
      }
      stopped_seen.fetch_add(1);
    });
  }
  while (total.load() < 50000) std::this_thread::yield();  // rings are full and blocking by now
  atf_tracer_stats st{};
  ASSERT_EQ(atf_tracer_stop(0, &st), ATF_TRACER_OK);
  for (auto &t : ts) t.join();
  EXPECT_EQ(stopped_seen.load(), kThreads);
  EXPECT_EQ(st.dropped, 0u);
  EXPECT_EQ(st.written, st.produced);
  EXPECT_EQ(st.written, total.load());
  CheckSession(st, producers);
}

TEST(TracerTest, ThreadsStartingAndExitingReuseSlots) {
  atf_tracer_options o = Options("churn");
  o.max_threads = 5;
  ASSERT_EQ(atf_tracer_start(&o), ATF_TRACER_OK);
  uint32_t sym = 0;
  ASSERT_EQ(atf_tracer_symbol("churn", &sym), ATF_TRACER_OK);
  std::vector<Producer> producers(1 + 10 * 4);
  std::atomic<bool> stop_long{false};
  std::thread long_lived([&] {
    producers[0].tid = Tid();
    for (uint64_t i = 0; !stop_long.load(); i++) {
      uint64_t r[2] = {i, 0};
      if (atf_tracer_record_return(sym, 1, r, 2) == ATF_TRACER_OK) {
        producers[0].ok++;
      } else {
        producers[0].dropped++;
      }
      if (i % 64 == 0) std::this_thread::yield();
    }
  });
  for (int wave = 0; wave < 10; wave++) {
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; i++)
      ts.emplace_back(Produce, sym, 2000, &producers[1 + wave * 4 + i], false);
    for (auto &t : ts) t.join();
    ASSERT_EQ(atf_tracer_flush(), ATF_TRACER_OK);  // the drain frees the exited threads' slots
  }
  stop_long = true;
  long_lived.join();
  atf_tracer_stats st{};
  std::vector<atf_tracer_thread_stats> detail(64);
  st.thread_stats = detail.data();
  st.thread_stats_cap = detail.size();
  ASSERT_EQ(atf_tracer_stop(0, &st), ATF_TRACER_OK);
  EXPECT_EQ(st.dropped_no_slot, 0u);
  EXPECT_EQ(st.threads, 41u);
  EXPECT_EQ(st.written + st.dropped, st.produced);
  uint32_t max_generation = 0;
  for (size_t i = 0; i < st.thread_stats_count; i++) {
    max_generation = std::max(max_generation, detail[i].generation);
  }
  EXPECT_GE(max_generation, 10u) << "slots were reused";
  CheckSession(st, producers);
}

TEST(TracerTest, AllSlotsBusyDropsAndCounts) {
  atf_tracer_options o = Options("noslot");
  o.max_threads = 1;
  atf_tracer_stats st{};
  std::vector<Producer> producers;
  ASSERT_EQ(atf_tracer_start(&o), ATF_TRACER_OK);
  producers.resize(2);
  Produce(0, 100, &producers[0], false);  // this thread holds the only slot
  std::thread other(Produce, 0, 100, &producers[1], false);
  other.join();
  ASSERT_EQ(atf_tracer_stop(0, &st), ATF_TRACER_OK);
  EXPECT_EQ(producers[1].dropped, 100u);
  EXPECT_EQ(st.dropped_no_slot, 100u);
  EXPECT_EQ(st.produced, 200u);
  EXPECT_EQ(st.written + st.dropped, st.produced);
  CheckSession(st, producers);
}

TEST(TracerTest, Lifecycle) {
  atf_tracer_options o = Options("lifecycle");
  uint32_t sym = 0;
  uint64_t regs[1] = {1};
  EXPECT_EQ(atf_tracer_record_call(0, 0, regs, 1, nullptr, 0), ATF_TRACER_E_STATE);
  EXPECT_EQ(atf_tracer_stop(0, nullptr), ATF_TRACER_E_STATE);
  EXPECT_EQ(atf_tracer_flush(), ATF_TRACER_E_STATE);
  EXPECT_EQ(atf_tracer_symbol("x", &sym), ATF_TRACER_E_STATE);
  EXPECT_EQ(atf_tracer_session_dir(), nullptr);

  ASSERT_EQ(atf_tracer_start(&o), ATF_TRACER_OK);
  EXPECT_EQ(atf_tracer_start(&o), ATF_TRACER_E_STATE);
  ASSERT_NE(atf_tracer_session_dir(), nullptr);
  ASSERT_EQ(atf_tracer_symbol("main", &sym), ATF_TRACER_OK);
  EXPECT_EQ(atf_tracer_record_call(sym, 0x10, regs, 1, nullptr, 0), ATF_TRACER_OK);
  EXPECT_EQ(atf_tracer_record_call(sym + 100, 0x10, regs, 1, nullptr, 0), ATF_TRACER_OK)
      << "an unknown symbol id is written as no symbol, not refused";
  EXPECT_EQ(atf_tracer_flush(), ATF_TRACER_OK);
  EXPECT_EQ(atf_tracer_record_return(sym, 0x10, regs, 1), ATF_TRACER_OK);
  atf_tracer_stats st{};
  ASSERT_EQ(atf_tracer_stop(7, &st), ATF_TRACER_OK);
  EXPECT_EQ(atf_tracer_stop(7, &st), ATF_TRACER_E_STATE) << "stop twice";
  EXPECT_EQ(atf_tracer_record_call(sym, 0x10, regs, 1, nullptr, 0), ATF_TRACER_E_STATE);
  EXPECT_EQ(atf_tracer_record_return(sym, 0x10, regs, 1), ATF_TRACER_E_STATE);
  EXPECT_EQ(atf_tracer_record_signal(SIGUSR1, regs, 1), ATF_TRACER_E_STATE);
  EXPECT_EQ(atf_tracer_flush(), ATF_TRACER_E_STATE);
  EXPECT_EQ(st.produced, 3u);
  EXPECT_EQ(st.written, 3u);
  EXPECT_EQ(st.file_events, 5u);  // TraceStart, 3 events, TraceEnd

  std::vector<atf::v4::Event> events;
  std::string error;
  ASSERT_TRUE(atf_test::ReadEvents(std::string(st.session_dir) + "/events.bin", &events, &error))
      << error;
  ASSERT_EQ(events.size(), 5u);
  EXPECT_TRUE(events[0].has_trace_start());
  EXPECT_EQ(events[1].function_call().symbol(), "main");
  EXPECT_EQ(events[2].function_call().symbol(), "");
  EXPECT_EQ(events[4].trace_end().exit_code(), 7);
  EXPECT_TRUE(Validate(st.session_dir).valid) << Validate(st.session_dir).text;

  // A second session in the same process, from the same threads.
  atf_tracer_options o2 = Options("lifecycle2");
  ASSERT_EQ(atf_tracer_start(&o2), ATF_TRACER_OK);
  EXPECT_EQ(atf_tracer_record_call(0, 0x10, regs, 1, nullptr, 0), ATF_TRACER_OK);
  ASSERT_EQ(atf_tracer_stop(0, &st), ATF_TRACER_OK);
  EXPECT_EQ(st.written, 1u);
  EXPECT_TRUE(Validate(st.session_dir).valid);
}

TEST(TracerTest, WriterLimitIsAccountedExactly) {
  atf_tracer_options o = Options("limit");
  o.writer.max_events = 101;  // TraceStart + 100 events
  ASSERT_EQ(atf_tracer_start(&o), ATF_TRACER_OK);
  for (uint64_t i = 0; i < 500; i++) {
    uint64_t regs[1] = {i};
    ASSERT_EQ(atf_tracer_record_call(0, 1, regs, 1, nullptr, 0), ATF_TRACER_OK);
    if (i == 250) atf_tracer_flush();  // the limit falls inside one drained batch
  }
  atf_tracer_stats st{};
  EXPECT_EQ(atf_tracer_stop(0, &st), ATF_TRACER_E_WRITER);
  EXPECT_EQ(st.writer_status, ATF_WRITER_E_LIMIT);
  EXPECT_EQ(st.produced, 500u);
  EXPECT_EQ(st.written, 100u);
  EXPECT_EQ(st.lost, 400u);
  EXPECT_EQ(st.file_events, st.written + 2);  // TraceStart, TraceEnd
  EXPECT_TRUE(Validate(st.session_dir).valid) << Validate(st.session_dir).text;
}

// The writer's open_error option passes through atf_tracer_start: the caller learns which
// system call failed, on which path and why, and a later successful start clears it.
TEST(TracerTest, WriterOpenErrorNamesThePathAndErrno) {
  atf_tracer_options o = Options("open_error");
  const std::string root = std::string(o.writer.output_root) + "/nope/deeper";
  o.writer.output_root = root.c_str();
  atf_writer_open_error e;
  memset(&e, 0x5a, sizeof e);
  o.writer.open_error = &e;
  EXPECT_EQ(atf_tracer_start(&o), ATF_TRACER_E_WRITER);
  EXPECT_EQ(atf_tracer_last_writer_status(), ATF_WRITER_E_IO);
  EXPECT_EQ(e.status, ATF_WRITER_E_IO);
  EXPECT_EQ(e.error_number, ENOENT);
  EXPECT_STREQ(e.operation, "create");
  EXPECT_EQ(std::string(e.path), root);
  char buf[8192];
  EXPECT_EQ(std::string(atf_writer_format_open_error(&e, buf, sizeof buf)),
            "cannot create " + root + ": No such file or directory");

  o = Options("open_error_ok");
  o.writer.open_error = &e;
  ASSERT_EQ(atf_tracer_start(&o), ATF_TRACER_OK);
  EXPECT_EQ(e.status, ATF_WRITER_OK);
  EXPECT_EQ(e.error_number, 0);
  EXPECT_STREQ(e.path, "");
  atf_tracer_stats st;
  memset(&st, 0, sizeof st);
  EXPECT_EQ(atf_tracer_stop(0, &st), ATF_TRACER_OK);
}

TEST(TracerTest, RejectsBadOptions) {
  atf_tracer_options o = Options("bad");
  o.ring_bytes = 1000;
  EXPECT_EQ(atf_tracer_start(&o), ATF_TRACER_E_INVALID_ARGUMENT);
  o = Options("bad2");
  o.max_threads = ATF_TRACER_MAX_THREADS_LIMIT + 1;
  EXPECT_EQ(atf_tracer_start(&o), ATF_TRACER_E_INVALID_ARGUMENT);
  o.max_threads = 0;
  EXPECT_EQ(atf_tracer_start(&o), ATF_TRACER_E_INVALID_ARGUMENT);
  o = Options("bad3");
  o.writer.output_root = "/proc/definitely/not/writable";
  EXPECT_EQ(atf_tracer_start(&o), ATF_TRACER_E_WRITER);
  EXPECT_NE(atf_tracer_last_writer_status(), ATF_WRITER_OK);
  EXPECT_EQ(atf_tracer_start(nullptr), ATF_TRACER_E_INVALID_ARGUMENT);
  o = Options("bad4");
  o.drain_nice = 20;
  EXPECT_EQ(atf_tracer_start(&o), ATF_TRACER_E_INVALID_ARGUMENT);
  o.drain_nice = -21;
  EXPECT_EQ(atf_tracer_start(&o), ATF_TRACER_E_INVALID_ARGUMENT);
  o = Options("bad5");
  o.overflow = static_cast<atf_tracer_overflow>(2);
  EXPECT_EQ(atf_tracer_start(&o), ATF_TRACER_E_INVALID_ARGUMENT);
}

// The nice values of this process's threads, from /proc/self/task/<tid>/stat (field 19).
std::vector<int> ThreadNiceValues() {
  std::vector<int> out;
  DIR *dir = opendir("/proc/self/task");
  while (dir != nullptr) {
    const dirent *e = readdir(dir);
    if (e == nullptr) break;
    if (e->d_name[0] == '.') continue;
    std::FILE *f = std::fopen((std::string("/proc/self/task/") + e->d_name + "/stat").c_str(), "r");
    char line[1024] = {0};
    if (f != nullptr && std::fgets(line, sizeof line, f) != nullptr) {
      const char *p = std::strrchr(line, ')');  // the command name may hold spaces
      for (int field = 2; p != nullptr && *p; ++p) {
        if (*p == ' ' && ++field == 19) {
          out.push_back(std::atoi(p + 1));
          break;
        }
      }
    }
    if (f != nullptr) std::fclose(f);
  }
  if (dir != nullptr) closedir(dir);
  return out;
}

// The drain thread and the writer's I/O thread (on by default) take the nice value; nothing else.
// Each applies it as it starts: wait for both (the test's timeout is the guard), then check that no
// third thread has it.
TEST(TracerTest, DrainAndIoThreadsTakeTheAskedNiceValue) {
  // Above this thread's own value (raising nice needs no privilege), which the test runner may
  // already have raised: every thread inherits it.
  errno = 0;
  const int base = getpriority(PRIO_PROCESS, 0);
  ASSERT_EQ(errno, 0);
  if (base >= 19) GTEST_SKIP() << "the test runs at nice 19: no higher value to ask for";
  const int asked = std::min(base + 5, 19);
  atf_tracer_options o = Options("nice");
  o.drain_nice = asked;
  ASSERT_EQ(atf_tracer_start(&o), ATF_TRACER_OK);
  std::vector<int> nice;
  while (std::count((nice = ThreadNiceValues()).begin(), nice.end(), asked) < 2) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(std::count(nice.begin(), nice.end(), asked), 2) << "exactly the drain and I/O threads";
  EXPECT_EQ(atf_tracer_stop(0, nullptr), ATF_TRACER_OK);
}

TEST(TracerTest, ForkedChildDoesNotTouchTheParentsSession) {
  atf_tracer_options o = Options("fork");
  ASSERT_EQ(atf_tracer_start(&o), ATF_TRACER_OK);
  uint64_t regs[1] = {1};
  ASSERT_EQ(atf_tracer_record_call(0, 1, regs, 1, nullptr, 0), ATF_TRACER_OK);
  std::string child_root = atf_test::TempDir("fork-child");
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int bad = 0;
    bad |= atf_tracer_record_call(0, 1, regs, 1, nullptr, 0) != ATF_TRACER_E_STATE;
    bad |= atf_tracer_stop(0, nullptr) != ATF_TRACER_E_STATE;
    atf_tracer_options co;
    atf_tracer_options_init(&co);
    co.writer.output_root = child_root.c_str();
    co.writer.collect_modules = 0;
    bad |= atf_tracer_start(&co) != ATF_TRACER_OK;
    bad |= atf_tracer_record_call(0, 1, regs, 1, nullptr, 0) != ATF_TRACER_OK;
    atf_tracer_stats cst{};
    bad |= atf_tracer_stop(0, &cst) != ATF_TRACER_OK;
    bad |= cst.written != 1;
    _exit(bad);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_EQ(atf_tracer_record_call(0, 1, regs, 1, nullptr, 0), ATF_TRACER_OK);
  atf_tracer_stats st{};
  ASSERT_EQ(atf_tracer_stop(0, &st), ATF_TRACER_OK);
  EXPECT_EQ(st.written, 2u);
  EXPECT_TRUE(Validate(st.session_dir).valid);
}

void OnSignal(int signo) {
  uint64_t regs[3] = {11, 22, 33};
  atf_tracer_record_signal(signo, regs, 3);
}

TEST(TracerTest, SignalFromAHandlerIsRecorded) {
  atf_tracer_options o = Options("signal");
  ASSERT_EQ(atf_tracer_start(&o), ATF_TRACER_OK);
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  struct sigaction old {};
  ASSERT_EQ(sigaction(SIGUSR1, &sa, &old), 0);
  uint64_t regs[1] = {5};
  ASSERT_EQ(atf_tracer_record_call(0, 1, regs, 1, nullptr, 0), ATF_TRACER_OK);
  raise(SIGUSR1);
  std::thread([] { raise(SIGUSR1); }).join();  // a thread whose first event is a signal: dropped
  sigaction(SIGUSR1, &old, nullptr);
  atf_tracer_stats st{};
  ASSERT_EQ(atf_tracer_stop(0, &st), ATF_TRACER_OK);
  EXPECT_EQ(st.written, 2u);
  EXPECT_EQ(st.dropped_no_slot, 1u);
  std::vector<atf::v4::Event> events;
  std::string error;
  ASSERT_TRUE(atf_test::ReadEvents(std::string(st.session_dir) + "/events.bin", &events, &error));
  ASSERT_EQ(events.size(), 4u);
  ASSERT_TRUE(events[2].has_signal_delivery());
  EXPECT_EQ(events[2].signal_delivery().number(), SIGUSR1);
  EXPECT_EQ(events[2].signal_delivery().name(), "SIGUSR1");
  EXPECT_EQ(events[2].signal_delivery().registers().size(), 3u);
  EXPECT_TRUE(Validate(st.session_dir).valid) << Validate(st.session_dir).text;
}

std::atomic<uint64_t> g_signal_ok{0}, g_signal_dropped{0};

void OnStormSignal(int signo) {
  uint64_t regs[18];
  for (unsigned i = 0; i < 18; i++) regs[i] = i;
  if (atf_tracer_record_signal(signo, regs, 18) == ATF_TRACER_OK) {
    g_signal_ok++;
  } else {
    g_signal_dropped++;
  }
}

// Signals aimed at a thread while it records: some land mid-record. Those must be dropped and
// counted, never corrupt the ring or the thread's timestamp order.
TEST(TracerTest, SignalStormDuringRecordsNeverCorruptsTheRing) {
  atf_tracer_options o = Options("storm");
  o.ring_bytes = 1u << 24;  // holds every event: a signal is dropped only when it lands mid-record
  ASSERT_EQ(atf_tracer_start(&o), ATF_TRACER_OK);
  struct sigaction sa {};
  sa.sa_handler = OnStormSignal;
  sa.sa_flags = SA_RESTART;
  struct sigaction old {};
  ASSERT_EQ(sigaction(SIGUSR2, &sa, &old), 0);
  g_signal_ok = 0;
  g_signal_dropped = 0;
  std::vector<Producer> producers(1);
  std::atomic<bool> done{false};
  std::atomic<pthread_t> target{};
  std::atomic<bool> ready{false};
  std::thread producer([&] {
    target = pthread_self();
    ready = true;
    // Events with ~2 us of work between them, so signals land both inside and outside records.
    Producer *p = &producers[0];
    p->tid = Tid();
    for (uint64_t i = 0; i < 50000; i++) {
      uint64_t regs[6] = {2 * i, 0, 0, 0, 0, 0};
      (atf_tracer_record_call(0, 1, regs, 6, nullptr, 0) == ATF_TRACER_OK ? p->ok : p->dropped)++;
      regs[0] = 2 * i + 1;
      (atf_tracer_record_return(0, 1, regs, 1) == ATF_TRACER_OK ? p->ok : p->dropped)++;
      auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(2);
      while (std::chrono::steady_clock::now() < until) {}
    }
    done = true;
  });
  while (!ready) std::this_thread::yield();
  uint64_t sent = 0;
  while (!done) {
    pthread_kill(target.load(), SIGUSR2);
    sent++;
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  producer.join();
  sigaction(SIGUSR2, &old, nullptr);
  atf_tracer_stats st{};
  ASSERT_EQ(atf_tracer_stop(0, &st), ATF_TRACER_OK);
  uint64_t handled = g_signal_ok + g_signal_dropped;
  std::printf("storm: %llu signals sent, %llu handled, %llu recorded, %llu dropped\n",
              (unsigned long long)sent, (unsigned long long)handled,
              (unsigned long long)g_signal_ok.load(), (unsigned long long)g_signal_dropped.load());
  EXPECT_GT(handled, 100u);
  EXPECT_EQ(st.produced, 100000u + handled);
  EXPECT_GT(g_signal_ok.load(), 0u);
  EXPECT_EQ(st.written + st.dropped, st.produced);
  uint64_t signals_in_file = 0;
  std::string error;
  ASSERT_TRUE(ForEachEvent(
      std::string(st.session_dir) + "/events.bin",
      [&](const atf::v4::Event &ev) { signals_in_file += ev.has_signal_delivery(); }, &error))
      << error;
  EXPECT_EQ(signals_in_file, g_signal_ok.load());
  CheckSession(st, producers, g_signal_ok.load());
}

// ---- balanced call trees ----------------------------------------------------------------------

// Per thread, the calls and returns of a session must nest: every return closes the innermost open
// call (same address), and no call stays open while its thread goes on past its return. Checks the
// file and returns the calls still open at the end, per thread.
std::map<int32_t, size_t> CheckBalanced(const std::string &dir) {
  std::map<int32_t, std::vector<uint64_t>> stacks;
  std::string error;
  EXPECT_TRUE(ForEachEvent(
      dir + "/events.bin",
      [&](const atf::v4::Event &ev) {
        if (ev.has_function_call()) {
          stacks[ev.thread_id()].push_back(ev.function_call().address());
        } else if (ev.has_function_return()) {
          std::vector<uint64_t> &st = stacks[ev.thread_id()];
          ASSERT_FALSE(st.empty()) << "a return without its call, thread " << ev.thread_id()
                                   << ", event " << ev.event_id();
          ASSERT_EQ(st.back(), ev.function_return().address())
              << "a return that does not close the innermost call, event " << ev.event_id();
          st.pop_back();
        }
      },
      &error))
      << error;
  std::map<int32_t, size_t> open;
  for (const auto &[tid, st] : stacks) open[tid] = st.size();
  return open;
}

// A random walk of nested calls (the address names the depth) with signals in between; the walk
// returns to depth 0 at the end. Records what the tracer said of each event.
void Recurse(uint32_t sym, uint64_t events, int max_depth, uint64_t seed, Producer *p,
             bool signals) {
  p->tid = Tid();
  std::mt19937_64 rng(seed);
  unsigned char stack[64] = {0};
  int depth = 0;
  for (uint64_t i = 0; i < events || depth > 0; i++) {
    const bool call = depth == 0 || (i < events && depth < max_depth && rng() % 2 == 0);
    uint64_t regs[6] = {i, 1, 2, 3, 4, 5};
    atf_tracer_status st;
    if (call) {
      st = atf_tracer_record_call(sym, 0x1000 + depth, regs, 6, stack, sizeof stack);
      depth++;
    } else {
      depth--;
      st = atf_tracer_record_return(sym, 0x1000 + depth, regs, 2);
    }
    (st == ATF_TRACER_OK ? p->ok : p->dropped)++;
    if (signals && i % 97 == 0) raise(SIGUSR1);
  }
}

void BalancedRun(const char *name, uint32_t ring_bytes, atf_tracer_overflow policy, int threads,
                 int max_depth, bool signals, atf_tracer_stats *st) {
  atf_tracer_options o = Options(name);
  o.ring_bytes = ring_bytes;
  o.overflow = policy;
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  struct sigaction old {};
  ASSERT_EQ(sigaction(SIGUSR1, &sa, &old), 0);
  ASSERT_EQ(atf_tracer_start(&o), ATF_TRACER_OK);
  uint32_t sym = 0;
  ASSERT_EQ(atf_tracer_symbol("recurse", &sym), ATF_TRACER_OK);
  std::vector<Producer> producers(threads);
  std::vector<std::thread> ts;
  for (int i = 0; i < threads; i++) {
    ts.emplace_back(Recurse, sym, 30000, max_depth, 1000 + i, &producers[i], signals);
  }
  for (auto &t : ts) t.join();
  ASSERT_EQ(atf_tracer_stop(0, st), ATF_TRACER_OK);
  sigaction(SIGUSR1, &old, nullptr);
  uint64_t ok = 0, dropped = 0;
  for (const Producer &p : producers) ok += p.ok, dropped += p.dropped;
  EXPECT_EQ(st->written + st->dropped, st->produced);
  EXPECT_GE(st->written, ok);  // and the signals the handler recorded
  std::map<int32_t, size_t> open = CheckBalanced(st->session_dir);
  for (const Producer &p : producers) {
    EXPECT_EQ(open[p.tid], 0u) << "every walk returned to depth 0: thread " << p.tid;
  }
  atf_test::Verdict v = Validate(st->session_dir);
  EXPECT_TRUE(v.valid) << v.text;
}

// Tiny rings, deep recursion, four threads, signals: most events drop, whole subtrees at a time,
// and what is written nests exactly.
TEST(TracerTest, DropKeepsCallTreesBalancedWithTinyRingsDeepRecursionAndSignals) {
  atf_tracer_stats st{};
  BalancedRun("balanced_tiny", 1024, ATF_TRACER_OVERFLOW_DROP, 4, 2000, true, &st);
  EXPECT_GT(st.dropped, st.produced / 10) << "the rings were meant to overflow";
  EXPECT_GT(st.written, 0u);
  atf_tracer_stats big{};
  BalancedRun("balanced_4k", 4096, ATF_TRACER_OVERFLOW_DROP, 4, 5000, true, &big);
  EXPECT_GT(big.dropped, 0u);
}

TEST(TracerTest, BlockNeverDropsADeepRecursion) {
  atf_tracer_stats st{};
  BalancedRun("balanced_block", 1024, ATF_TRACER_OVERFLOW_BLOCK, 4, 5000, false, &st);
  EXPECT_EQ(st.dropped, 0u);
  EXPECT_EQ(st.written, st.produced);
}

// atf_tracer_record_call_at: the call site reaches FunctionCall.call_site (field 5), any value;
// atf_tracer_record_call leaves it absent.
TEST(TracerTest, CallSiteReachesTheFile) {
  atf_tracer_options o = Options("call_site");
  ASSERT_EQ(atf_tracer_start(&o), ATF_TRACER_OK);
  uint64_t regs[1] = {7};
  const uint64_t sites[] = {0x401234, 0xffffffffffffffffull, 0x80000000ull, 1};
  for (uint64_t site : sites) {
    ASSERT_EQ(atf_tracer_record_call_at(0, 0x1000, site, regs, 1, nullptr, 0), ATF_TRACER_OK);
    ASSERT_EQ(atf_tracer_record_return(0, 0x1000, regs, 1), ATF_TRACER_OK);
  }
  ASSERT_EQ(atf_tracer_record_call(0, 0x1000, regs, 1, nullptr, 0), ATF_TRACER_OK);
  ASSERT_EQ(atf_tracer_record_return(0, 0x1000, regs, 1), ATF_TRACER_OK);
  atf_tracer_stats st{};
  ASSERT_EQ(atf_tracer_stop(0, &st), ATF_TRACER_OK);
  std::vector<atf::v4::Event> events;
  std::string error;
  ASSERT_TRUE(atf_test::ReadEvents(std::string(st.session_dir) + "/events.bin", &events, &error));
  std::vector<uint64_t> got;
  for (const auto &ev : events) {
    if (ev.has_function_call()) got.push_back(ev.function_call().call_site());
  }
  EXPECT_EQ(got, (std::vector<uint64_t>{0x401234, 0xffffffffffffffffull, 0x80000000ull, 1, 0}));
  atf_test::Verdict v = Validate(st.session_dir);
  EXPECT_TRUE(v.valid) << v.text;
}

// Returns whose calls were made before the session (or before the thread had a slot) are not
// written: they are dropped and counted apart, and the file stays balanced.
TEST(TracerTest, ReturnsWithoutARecordedCallAreDroppedAndCounted) {
  atf_tracer_options o = Options("unmatched");
  ASSERT_EQ(atf_tracer_start(&o), ATF_TRACER_OK);
  uint64_t regs[2] = {1, 2};
  EXPECT_EQ(atf_tracer_record_return(0, 0x10, regs, 1), ATF_TRACER_E_DROPPED);
  EXPECT_EQ(atf_tracer_record_call(0, 0x20, regs, 2, nullptr, 0), ATF_TRACER_OK);
  EXPECT_EQ(atf_tracer_record_return(0, 0x20, regs, 1), ATF_TRACER_OK);
  EXPECT_EQ(atf_tracer_record_return(0, 0x10, regs, 1), ATF_TRACER_E_DROPPED);
  atf_tracer_stats st{};
  ASSERT_EQ(atf_tracer_stop(0, &st), ATF_TRACER_OK);
  EXPECT_EQ(st.produced, 4u);
  EXPECT_EQ(st.written, 2u);
  EXPECT_EQ(st.dropped, 2u);
  EXPECT_EQ(st.dropped_unmatched, 2u);
  CheckBalanced(st.session_dir);
  EXPECT_TRUE(Validate(st.session_dir).valid);
}

// A dropped call drops everything under it and its own return, even when room comes back
// meanwhile: a tiny ring filled by one big burst, then drained by a flush, mid-subtree.
TEST(TracerTest, ADroppedCallTakesItsWholeSubtree) {
  atf_tracer_options o = Options("subtree");
  o.ring_bytes = 1024;
  ASSERT_EQ(atf_tracer_start(&o), ATF_TRACER_OK);
  uint64_t regs[6] = {1, 2, 3, 4, 5, 6};
  unsigned char stack[200] = {0};
  // Fill the ring with open calls until one is refused.
  int recorded = 0;
  while (atf_tracer_record_call(0, 0x100 + recorded, regs, 6, stack, sizeof stack) ==
         ATF_TRACER_OK) {
    recorded++;
    ASSERT_LT(recorded, 100);
  }
  ASSERT_EQ(atf_tracer_flush(), ATF_TRACER_OK);  // room again
  // Inside the dropped call: a call and its return, then the dropped call's own return.
  EXPECT_EQ(atf_tracer_record_call(0, 0x999, regs, 6, nullptr, 0), ATF_TRACER_E_DROPPED);
  EXPECT_EQ(atf_tracer_record_return(0, 0x999, regs, 1), ATF_TRACER_E_DROPPED);
  EXPECT_EQ(atf_tracer_record_return(0, 0x100 + recorded, regs, 1), ATF_TRACER_E_DROPPED);
  // The recorded calls' returns all fit: room was kept for them.
  for (int i = recorded - 1; i >= 0; i--) {
    EXPECT_EQ(atf_tracer_record_return(0, 0x100 + i, regs, 1), ATF_TRACER_OK) << i;
  }
  atf_tracer_stats st{};
  ASSERT_EQ(atf_tracer_stop(0, &st), ATF_TRACER_OK);
  EXPECT_EQ(st.written, 2u * recorded);
  EXPECT_EQ(st.dropped, 4u);
  std::map<int32_t, size_t> open = CheckBalanced(st.session_dir);
  for (const auto &[tid, n] : open) EXPECT_EQ(n, 0u) << tid;
}

}  // namespace
