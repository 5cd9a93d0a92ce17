// Ring tests: reserve/commit/peek/release, wrap with PAD, full ring, and a two-thread stress test
// that checks every record arrives once, in order, intact.
#include "pipeline/internal/ring.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "writer/atf/ring_record.h"

namespace {

struct Ring {
  explicit Ring(uint32_t cap) : mem(cap / 8) { atf_ring_init(&r, mem.data(), cap); }
  std::vector<uint64_t> mem;
  atf_ring r;
};

// Writes a CALL record of `size` bytes carrying `seq` in address and a byte pattern after it.
bool Produce(atf_ring *r, size_t size, uint64_t seq) {
  auto *p = static_cast<unsigned char *>(atf_ring_reserve(r, size));
  if (p == nullptr) return false;
  atf_ring_record rec{};
  rec.size = static_cast<uint16_t>(size);
  rec.kind = ATF_KIND_CALL;
  rec.address = seq;
  std::memcpy(p, &rec, sizeof rec);
  for (size_t i = sizeof rec; i < size; i++) p[i] = static_cast<unsigned char>(seq + i);
  atf_ring_commit(r);
  return true;
}

// Consumes everything committed; checks records are whole, PADs only at the end of span 0.
void Consume(atf_ring *r, std::vector<uint64_t> *seqs, uint64_t *pads) {
  atf_ring_span span;
  size_t len = atf_ring_peek(r, &span);
  ASSERT_EQ(len, span.len[0] + span.len[1]);
  for (int k = 0; k < 2; k++) {
    size_t off = 0;
    while (off < span.len[k]) {
      atf_ring_record rec;
      ASSERT_LE(off + sizeof rec, span.len[k]);
      std::memcpy(&rec, span.ptr[k] + off, sizeof rec);
      ASSERT_GE(rec.size, ATF_RECORD_HEADER_SIZE);
      ASSERT_EQ(rec.size % 8, 0u);
      ASSERT_LE(off + rec.size, span.len[k]);
      if (rec.kind == ATF_KIND_PAD) {
        ASSERT_EQ(k, 0) << "a PAD only fills the end of the buffer";
        ASSERT_EQ(off + rec.size, span.len[0]);
        ++*pads;
      } else {
        ASSERT_EQ(rec.kind, ATF_KIND_CALL);
        for (size_t i = sizeof rec; i < rec.size; i++) {
          ASSERT_EQ(span.ptr[k][off + i], static_cast<unsigned char>(rec.address + i));
        }
        seqs->push_back(rec.address);
      }
      off += rec.size;
    }
  }
  atf_ring_release(r, len);
}

TEST(RingTest, CapacityMustBePowerOfTwoInRange) {
  EXPECT_FALSE(atf_ring_capacity_ok(0));
  EXPECT_FALSE(atf_ring_capacity_ok(512));
  EXPECT_TRUE(atf_ring_capacity_ok(1024));
  EXPECT_FALSE(atf_ring_capacity_ok(1536));
  EXPECT_TRUE(atf_ring_capacity_ok(1u << 20));
  EXPECT_FALSE(atf_ring_capacity_ok(uint64_t{1} << 31));
}

TEST(RingTest, EmptyRingPeeksNothing) {
  Ring ring(1024);
  atf_ring_span span;
  EXPECT_EQ(atf_ring_peek(&ring.r, &span), 0u);
}

TEST(RingTest, UncommittedRecordIsInvisible) {
  Ring ring(1024);
  ASSERT_NE(atf_ring_reserve(&ring.r, 64), nullptr);
  atf_ring_span span;
  EXPECT_EQ(atf_ring_peek(&ring.r, &span), 0u);
  atf_ring_commit(&ring.r);
  EXPECT_EQ(atf_ring_peek(&ring.r, &span), 64u);
}

TEST(RingTest, RejectsRecordsOverAQuarterOfTheRing) {
  Ring ring(1024);
  EXPECT_EQ(atf_ring_reserve(&ring.r, 264), nullptr);
  EXPECT_NE(atf_ring_reserve(&ring.r, 256), nullptr);
}

TEST(RingTest, FullRingRefusesUntilReleased) {
  Ring ring(1024);
  int n = 0;
  while (Produce(&ring.r, 128, n)) n++;
  EXPECT_EQ(n, 8);
  std::vector<uint64_t> seqs;
  uint64_t pads = 0;
  Consume(&ring.r, &seqs, &pads);
  ASSERT_EQ(seqs.size(), 8u);
  EXPECT_TRUE(Produce(&ring.r, 128, 8));
}

TEST(RingTest, WrapInsertsPadSoNoRecordStraddlesTheEnd) {
  Ring ring(1024);
  std::vector<uint64_t> seqs;
  uint64_t pads = 0;
  // 7 x 136 = 952 bytes: 72 left before the end, then a 96-byte record must wrap.
  for (int i = 0; i < 7; i++) ASSERT_TRUE(Produce(&ring.r, 136, i));
  Consume(&ring.r, &seqs, &pads);
  ASSERT_TRUE(Produce(&ring.r, 96, 7));
  atf_ring_span span;
  EXPECT_EQ(atf_ring_peek(&ring.r, &span), 72u + 96u);
  EXPECT_EQ(span.len[0], 72u);
  EXPECT_EQ(span.len[1], 96u);
  Consume(&ring.r, &seqs, &pads);
  EXPECT_EQ(pads, 1u);
  EXPECT_EQ(seqs.size(), 8u);
}

TEST(RingTest, NeverLeavesAGapTooSmallForAPad) {
  Ring ring(1024);
  std::vector<uint64_t> seqs;
  uint64_t pads = 0;
  // 1024 - 984 = 40 would fit a PAD; 1024 - 1000 = 24 would not, so the 48-byte record after
  // 952 bytes wraps early instead of leaving 24 bytes.
  for (int i = 0; i < 7; i++) ASSERT_TRUE(Produce(&ring.r, 136, i));
  Consume(&ring.r, &seqs, &pads);
  ASSERT_TRUE(Produce(&ring.r, 48, 7));
  atf_ring_span span;
  atf_ring_peek(&ring.r, &span);
  EXPECT_EQ(span.len[0], 72u);
  Consume(&ring.r, &seqs, &pads);
  EXPECT_EQ(pads, 1u);
}

TEST(RingTest, RandomInterleavingKeepsOrder) {
  std::mt19937 rng(42);
  Ring ring(4096);
  std::vector<uint64_t> seqs;
  uint64_t pads = 0, next = 0, drops = 0;
  for (int step = 0; step < 200000; step++) {
    if (rng() % 3 != 0) {
      size_t size = 40 + 8 * (rng() % 124);  // 40 .. 1024
      if (Produce(&ring.r, size, next)) {
        next++;
      } else {
        drops++;
      }
    } else {
      Consume(&ring.r, &seqs, &pads);
    }
  }
  Consume(&ring.r, &seqs, &pads);
  ASSERT_EQ(seqs.size(), next);
  for (uint64_t i = 0; i < next; i++) ASSERT_EQ(seqs[i], i);
  EXPECT_GT(pads, 0u);
  EXPECT_GT(drops, 0u);
}

TEST(RingTest, TwoThreadsTransferEveryRecordInOrder) {
  Ring ring(8192);
  constexpr uint64_t kRecords = 500000;
  std::thread producer([&] {
    std::mt19937 rng(7);
    for (uint64_t seq = 0; seq < kRecords;) {
      size_t size = 40 + 8 * (rng() % 32);
      if (Produce(&ring.r, size, seq)) {
        seq++;
      } else {
        std::this_thread::yield();
      }
    }
  });
  std::vector<uint64_t> seqs;
  seqs.reserve(kRecords);
  uint64_t pads = 0;
  while (seqs.size() < kRecords) {
    const size_t before = seqs.size();
    Consume(&ring.r, &seqs, &pads);
    if (testing::Test::HasFatalFailure()) break;
    if (seqs.size() == before) std::this_thread::yield();  // a busy consumer starves the producer
  }
  producer.join();
  ASSERT_EQ(seqs.size(), kRecords);
  for (uint64_t i = 0; i < kRecords; i++) ASSERT_EQ(seqs[i], i);
}

// A producer that waits for room (atf_ring_reserve_wait) against a consumer that pauses now and
// then: every record arrives in order, none is refused, and the producer sleeps rather than spins.
TEST(RingTest, ReserveWaitSleepsUntilTheConsumerMakesRoom) {
  Ring ring(1024);
  constexpr uint64_t kRecords = 20000;
  std::thread producer([&] {
    for (uint64_t seq = 0; seq < kRecords; seq++) {
      const size_t size = 40 + 8 * (seq % 20);
      auto *p = static_cast<unsigned char *>(atf_ring_reserve_wait(&ring.r, size));
      ASSERT_NE(p, nullptr);
      atf_ring_record rec{};
      rec.size = static_cast<uint16_t>(size);
      rec.kind = ATF_KIND_CALL;
      rec.address = seq;
      std::memcpy(p, &rec, sizeof rec);
      for (size_t i = sizeof rec; i < size; i++) p[i] = static_cast<unsigned char>(seq + i);
      atf_ring_commit(&ring.r);
    }
  });
  std::vector<uint64_t> seqs;
  uint64_t pads = 0;
  for (int round = 0; seqs.size() < kRecords; round++) {
    Consume(&ring.r, &seqs, &pads);
    if (testing::Test::HasFatalFailure()) break;
    if (round % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  producer.join();
  ASSERT_EQ(seqs.size(), kRecords);
  for (uint64_t i = 0; i < kRecords; i++) ASSERT_EQ(seqs[i], i);
  EXPECT_EQ(atf_ring_reserve_wait(&ring.r, ring.r.max_record + 8), nullptr);
}

}  // namespace
