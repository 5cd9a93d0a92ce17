// The session clock: starts at the wall clock, then runs at CLOCK_MONOTONIC's rate from whichever
// source the host has; reads never go back within a thread, even while the mapping is re-anchored
// concurrently; the mapping arithmetic is exact on both sides of its base.
#include "pipeline/internal/clock.h"

#include <gtest/gtest.h>
#include <time.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace {

uint64_t Ns(clockid_t id) {
  timespec ts;
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

int64_t Diff(uint64_t a, uint64_t b) { return static_cast<int64_t>(a - b); }

TEST(ClockTest, MappingIsExactOnBothSidesOfTheBase) {
  const uint64_t half = uint64_t{1} << 31;  // 0.5 ns per tick
  EXPECT_EQ(atf_clock_map_count(1000, 1000, 5000, half), 5000u);
  EXPECT_EQ(atf_clock_map_count(1010, 1000, 5000, half), 5005u);
  EXPECT_EQ(atf_clock_map_count(990, 1000, 5000, half), 4995u);
  // A long span does not overflow: 2^40 ticks at 3 ns per tick.
  const uint64_t three = uint64_t{3} << 32;
  EXPECT_EQ(atf_clock_map_count((uint64_t{1} << 40) + 7, 7, 1, three), 3 * (uint64_t{1} << 40) + 1);
}

TEST(ClockTest, MonotonicSourceStartsAtTheWallClock) {
  EXPECT_EQ(atf_clock_start(0), ATF_CLOCK_MONOTONIC);
  EXPECT_EQ(atf_clock_ns_per_tick(), 0.0);
  const uint64_t real = Ns(CLOCK_REALTIME);
  const uint64_t now = atf_clock_read();
  EXPECT_LT(std::llabs(Diff(now, real)), 1000000) << "within 1 ms of CLOCK_REALTIME at start";
  EXPECT_STREQ(atf_clock_source_name(ATF_CLOCK_MONOTONIC), "monotonic");
}

TEST(ClockTest, BestSourceTracksMonotonicTime) {
  const atf_clock_source source = atf_clock_start(1);
  EXPECT_EQ(source, atf_clock_best_source());
  std::printf("clock source: %s, %.4f ns per tick\n", atf_clock_source_name(source),
              atf_clock_ns_per_tick());
  const uint64_t real0 = Ns(CLOCK_REALTIME), mono0 = Ns(CLOCK_MONOTONIC);
  const uint64_t t0 = atf_clock_read();
  EXPECT_LT(std::llabs(Diff(t0, real0)), 1000000) << "within 1 ms of CLOCK_REALTIME at start";
  // 300 ms of reads and anchors (as the drain thread does); the clock must advance like
  // CLOCK_MONOTONIC: the difference stays within 1% of the span.
  uint64_t last = t0;
  while (Ns(CLOCK_MONOTONIC) - mono0 < 300000000u) {
    atf_clock_anchor();
    const uint64_t now = atf_clock_read();
    ASSERT_GE(now, last) << "a reader never sees time go back";
    last = now;
  }
  const uint64_t mono1 = Ns(CLOCK_MONOTONIC);
  const uint64_t t1 = atf_clock_read();
  const int64_t span = Diff(mono1, mono0);
  EXPECT_LT(std::llabs(Diff(t1 - t0, mono1 - mono0)), span / 100)
      << "clock advanced " << (t1 - t0) << " ns while CLOCK_MONOTONIC advanced " << span;
}

// Readers on other threads while the mapping is re-anchored as often as it may be: a reader's
// successive values go back at most by the slew over a preemption between reading the mapping and
// the counter (the tracer clamps per thread): at most 500 ppm of it, so 1 ms would take a
// 2-second preemption. The largest step back seen is printed. (ThreadSanitizer also checks the
// sequence lock.)
TEST(ClockTest, ConcurrentReadersStayWithinTheSlew) {
  atf_clock_start(1);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> worst{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 2; i++) {
    readers.emplace_back([&] {
      uint64_t last = 0;
      int64_t back = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        const uint64_t now = atf_clock_read();
        if (now<last &&static_cast<int64_t>(last - now)> back)
          back = static_cast<int64_t>(last - now);
        if (now > last) last = now;
      }
      int64_t w = worst.load();
      while (back > w && !worst.compare_exchange_weak(w, back)) {}
    });
  }
  const uint64_t mono0 = Ns(CLOCK_MONOTONIC);
  while (Ns(CLOCK_MONOTONIC) - mono0 < 200000000u) atf_clock_anchor();
  stop.store(true);
  for (auto &t : readers) t.join();
  std::printf("largest step back between two reads of one thread: %lld ns\n",
              static_cast<long long>(worst.load()));
  EXPECT_LE(worst.load(), 1000000);
}

}  // namespace
