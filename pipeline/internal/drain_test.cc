// Drain worker tests against a fake sink: every record reaches the sink once and in per-thread
// order, PADs never do, exiting slots are freed and their drops reported, flush() is a barrier,
// and a failing sink turns later records into `lost` without stalling producers.
#include "pipeline/internal/drain.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "writer/atf/ring_record.h"

namespace {

struct FakeSink {
  std::mutex mu;
  std::map<int32_t, std::vector<uint64_t>> seqs;  // thread id -> addresses in sink order
  std::map<int32_t, uint64_t> drops;
  uint64_t records = 0, pads = 0, flushes = 0, writes = 0, write_outs = 0;
  int fail_after_writes = -1;  // -1: never fail

  // Like the writer: skips PADs, reports the events it kept.
  static int Write(void *ctx, const void *records, size_t bytes, uint64_t *events) {
    auto *f = static_cast<FakeSink *>(ctx);
    std::lock_guard<std::mutex> lock(f->mu);
    *events = 0;
    if (f->fail_after_writes >= 0 && f->writes >= static_cast<uint64_t>(f->fail_after_writes)) {
      return 4;
    }
    f->writes++;
    const auto *p = static_cast<const unsigned char *>(records);
    for (size_t off = 0; off < bytes;) {
      atf_ring_record r;
      std::memcpy(&r, p + off, sizeof r);
      off += r.size;
      if (r.kind == ATF_KIND_PAD) {
        f->pads++;
        continue;
      }
      f->seqs[r.thread_id].push_back(r.address);
      f->records++;
      ++*events;
    }
    return 0;
  }
  static int Flush(void *ctx) {
    auto *f = static_cast<FakeSink *>(ctx);
    std::lock_guard<std::mutex> lock(f->mu);
    f->flushes++;
    return 0;
  }
  static int WriteOut(void *ctx) {
    auto *f = static_cast<FakeSink *>(ctx);
    std::lock_guard<std::mutex> lock(f->mu);
    f->write_outs++;
    return 0;
  }
  static int Drops(void *ctx, int32_t tid, uint64_t n) {
    auto *f = static_cast<FakeSink *>(ctx);
    std::lock_guard<std::mutex> lock(f->mu);
    f->drops[tid] += n;
    return 0;
  }
  bool with_write_out = true;
  atf_drain_sink sink() { return {this, Write, Flush, Drops, with_write_out ? WriteOut : nullptr}; }
};

struct Fixture {
  Fixture(uint32_t nslots, uint32_t ring_bytes, uint64_t flush_interval_ns = 0)
      : slots(new atf_slot[nslots]()) {
    EXPECT_EQ(atf_registry_init(&reg, slots.get(), nslots, ring_bytes), 0);
    atf_drain_sink s = fake.sink();
    EXPECT_EQ(atf_drain_init(&drain, &reg, &s, 200000, flush_interval_ns), 0);
  }
  ~Fixture() {
    atf_drain_stop(&drain);
    atf_drain_destroy(&drain);
    atf_registry_destroy(&reg);
  }
  std::unique_ptr<atf_slot[]> slots;
  atf_registry reg{};
  atf_drain drain{};
  FakeSink fake;
};

// One producer: claims a slot, records `n` events (address = sequence number), exits.
void Produce(atf_registry *reg, int32_t tid, uint64_t n, size_t size) {
  atf_slot *s = atf_registry_claim(reg, tid);
  ASSERT_NE(s, nullptr);
  for (uint64_t seq = 0; seq < n; seq++) {
    atomic_fetch_add(&s->produced, 1u);
    auto *p = static_cast<unsigned char *>(atf_ring_reserve(&s->ring, size));
    if (p == nullptr) {
      atomic_fetch_add(&s->dropped, 1u);
      continue;
    }
    atf_ring_record r{};
    r.size = static_cast<uint16_t>(size);
    r.kind = ATF_KIND_CALL;
    r.thread_id = tid;
    r.address = seq;
    std::memset(p, 0, size);
    std::memcpy(p, &r, sizeof r);
    atf_ring_commit(&s->ring);
  }
  atf_registry_mark_exiting(s);
}

void ExpectIncreasing(const std::vector<uint64_t> &v) {
  for (size_t i = 1; i < v.size(); i++) ASSERT_LT(v[i - 1], v[i]) << "at " << i;
}

TEST(DrainTest, EveryRecordOnceInOrderAndSlotsFreed) {
  Fixture f(8, 1u << 16);
  ASSERT_EQ(atf_drain_start(&f.drain), 0);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; i++) {
    threads.emplace_back(Produce, &f.reg, 1000 + i, 100000, 40 + 8 * (i % 5));
  }
  for (auto &t : threads) t.join();
  atf_drain_stop(&f.drain);
  atf_drain_pass(&f.drain, 1);
  uint64_t produced = 0, written = 0, dropped = 0;
  ASSERT_EQ(f.drain.nthreads, 8u);
  for (size_t i = 0; i < f.drain.nthreads; i++) {
    const atf_drain_thread_stats &t = f.drain.threads[i];
    EXPECT_EQ(t.produced, 100000u);
    EXPECT_EQ(t.written + t.dropped, t.produced);
    EXPECT_EQ(t.written, f.fake.seqs[t.thread_id].size());
    EXPECT_EQ(f.fake.drops[t.thread_id], t.dropped);
    ExpectIncreasing(f.fake.seqs[t.thread_id]);
    produced += t.produced;
    written += t.written;
    dropped += t.dropped;
  }
  EXPECT_EQ(written, f.fake.records);  // PADs reach the sink but are never counted as written
  EXPECT_EQ(written + dropped, produced);
  for (uint32_t i = 0; i < 8; i++) EXPECT_EQ(atomic_load(&f.slots[i].state), ATF_SLOT_FREE);
}

TEST(DrainTest, TinyRingsDropButAccountForEverything) {
  Fixture f(2, 1024);
  ASSERT_EQ(atf_drain_start(&f.drain), 0);
  std::thread a(Produce, &f.reg, 1, 200000, 200);
  std::thread b(Produce, &f.reg, 2, 200000, 48);
  a.join();
  b.join();
  atf_drain_stop(&f.drain);
  atf_drain_pass(&f.drain, 1);
  uint64_t dropped = 0;
  for (size_t i = 0; i < f.drain.nthreads; i++) {
    const atf_drain_thread_stats &t = f.drain.threads[i];
    EXPECT_EQ(t.written + t.dropped, 200000u);
    dropped += t.dropped;
    ExpectIncreasing(f.fake.seqs[t.thread_id]);
  }
  EXPECT_GT(dropped, 0u);
}

TEST(DrainTest, FlushIsABarrier) {
  Fixture f(1, 4096);
  ASSERT_EQ(atf_drain_start(&f.drain), 0);
  atf_slot *s = atf_registry_claim(&f.reg, 5);
  ASSERT_NE(s, nullptr);
  for (uint64_t round = 1; round <= 50; round++) {
    auto *p = static_cast<unsigned char *>(atf_ring_reserve(&s->ring, 40));
    ASSERT_NE(p, nullptr);
    atf_ring_record r{};
    r.size = 40;
    r.kind = ATF_KIND_RETURN;
    r.thread_id = 5;
    r.address = round;
    std::memcpy(p, &r, sizeof r);
    atf_ring_commit(&s->ring);
    ASSERT_EQ(atf_drain_flush(&f.drain), 0);
    std::lock_guard<std::mutex> lock(f.fake.mu);
    ASSERT_EQ(f.fake.seqs[5].size(), round);
    ASSERT_GE(f.fake.flushes, round);
  }
}

// The periodic flush writes out without fsync (sink.write_out); requested flushes stay durable.
TEST(DrainTest, IntervalWritesOutWithoutRequestsAndNeverFsyncs) {
  Fixture f(1, 4096, 1000000);  // 1 ms
  ASSERT_EQ(atf_drain_start(&f.drain), 0);
  std::thread t(Produce, &f.reg, 9, 10, 40);
  t.join();
  for (int i = 0; i < 2000; i++) {
    {
      std::lock_guard<std::mutex> lock(f.fake.mu);
      if (f.fake.write_outs > 0) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  {
    std::lock_guard<std::mutex> lock(f.fake.mu);
    EXPECT_GT(f.fake.write_outs, 0u);
    EXPECT_EQ(f.fake.flushes, 0u);
  }
  ASSERT_EQ(atf_drain_flush(&f.drain), 0);
  std::lock_guard<std::mutex> lock(f.fake.mu);
  EXPECT_EQ(f.fake.flushes, 1u);
}

// A sink without write_out: the periodic flush is a full one.
TEST(DrainTest, IntervalFlushesWhenTheSinkHasNoWriteOut) {
  Fixture f(1, 4096, 1000000);  // 1 ms
  atf_drain_destroy(&f.drain);
  f.fake.with_write_out = false;
  atf_drain_sink s = f.fake.sink();
  ASSERT_EQ(atf_drain_init(&f.drain, &f.reg, &s, 200000, 1000000), 0);
  ASSERT_EQ(atf_drain_start(&f.drain), 0);
  std::thread t(Produce, &f.reg, 9, 10, 40);
  t.join();
  for (int i = 0; i < 2000; i++) {
    {
      std::lock_guard<std::mutex> lock(f.fake.mu);
      if (f.fake.flushes > 0) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::lock_guard<std::mutex> lock(f.fake.mu);
  EXPECT_GT(f.fake.flushes, 0u);
  EXPECT_EQ(f.fake.write_outs, 0u);
}

TEST(DrainTest, FailingSinkCountsLostAndKeepsConsuming) {
  Fixture f(2, 1024);
  ASSERT_EQ(atf_drain_start(&f.drain), 0);
  std::thread before(Produce, &f.reg, 3, 10, 64);
  before.join();
  ASSERT_EQ(atf_drain_flush(&f.drain), 0);
  {
    std::lock_guard<std::mutex> lock(f.fake.mu);
    f.fake.fail_after_writes = 0;  // every later write fails
  }
  std::thread after(Produce, &f.reg, 4, 10, 64);
  after.join();
  EXPECT_EQ(atf_drain_flush(&f.drain), 4);
  atf_drain_stop(&f.drain);
  atf_drain_pass(&f.drain, 1);
  ASSERT_EQ(f.drain.nthreads, 2u);
  for (size_t i = 0; i < 2; i++) {
    const atf_drain_thread_stats &st = f.drain.threads[i];
    EXPECT_EQ(st.written + st.dropped + st.lost, 10u);
    EXPECT_EQ(st.thread_id == 3 ? st.written : st.lost, 10u) << st.thread_id;
  }
  EXPECT_EQ(f.drain.sink_status, 4);
}

}  // namespace
