// Registry tests: claim until full, exit -> free -> reuse with a new generation, concurrent claims.
#include "pipeline/internal/registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <thread>
#include <vector>

namespace {

struct Registry {
  explicit Registry(uint32_t n, uint32_t ring_bytes = 4096) : slots(new atf_slot[n]()) {
    EXPECT_EQ(atf_registry_init(&reg, slots.get(), n, ring_bytes), 0);
  }
  ~Registry() { atf_registry_destroy(&reg); }
  std::unique_ptr<atf_slot[]> slots;
  atf_registry reg{};
};

TEST(RegistryTest, RejectsBadSizes) {
  atf_slot slot{};
  atf_registry reg{};
  EXPECT_EQ(atf_registry_init(&reg, &slot, 0, 4096), -1);
  EXPECT_EQ(atf_registry_init(&reg, &slot, 1, 1000), -1);
}

TEST(RegistryTest, ClaimsUntilFull) {
  Registry r(4);
  std::set<atf_slot *> seen;
  for (int i = 0; i < 4; i++) {
    atf_slot *s = atf_registry_claim(&r.reg, 100 + i);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->tid, 100 + i);
    EXPECT_EQ(atomic_load(&s->state), ATF_SLOT_ACTIVE);
    seen.insert(s);
  }
  EXPECT_EQ(seen.size(), 4u);
  EXPECT_EQ(atf_registry_claim(&r.reg, 200), nullptr);
  EXPECT_EQ(atf_registry_high_water(&r.reg), 4u);
}

TEST(RegistryTest, FreedSlotIsReusedWithANewGenerationAndAnEmptyRing) {
  Registry r(1);
  atf_slot *s = atf_registry_claim(&r.reg, 7);
  ASSERT_NE(s, nullptr);
  uint32_t gen = atomic_load(&s->generation);
  ASSERT_NE(atf_ring_reserve(&s->ring, 64), nullptr);
  atf_ring_commit(&s->ring);
  atomic_store(&s->produced, 5u);
  atf_registry_mark_exiting(s);
  EXPECT_EQ(atf_registry_claim(&r.reg, 7), nullptr) << "an exiting slot is not reusable yet";
  atf_registry_free(s);
  atf_slot *again = atf_registry_claim(&r.reg, 7);  // the OS reused tid 7
  ASSERT_EQ(again, s);
  EXPECT_EQ(atomic_load(&s->generation), gen + 1);
  EXPECT_EQ(atomic_load(&s->produced), 0u);
  atf_ring_span span;
  EXPECT_EQ(atf_ring_peek(&s->ring, &span), 0u);
}

TEST(RegistryTest, ConcurrentClaimsGetDistinctSlots) {
  constexpr int kSlots = 64, kThreads = 96;
  Registry r(kSlots);
  std::vector<atf_slot *> got(kThreads);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; i++) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      got[i] = atf_registry_claim(&r.reg, i);
    });
  }
  go = true;
  for (auto &t : threads) t.join();
  std::set<atf_slot *> distinct;
  int nulls = 0;
  for (atf_slot *s : got) {
    if (s == nullptr) {
      nulls++;
    } else {
      distinct.insert(s);
    }
  }
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kSlots));
  EXPECT_EQ(nulls, kThreads - kSlots);
}

TEST(RegistryTest, ThousandsOfSlotsMapLazily) {
  Registry r(4096, 1u << 20);  // 4 GiB of address space, untouched
  atf_slot *s = atf_registry_claim(&r.reg, 1);
  ASSERT_NE(s, nullptr);
  EXPECT_NE(atf_ring_reserve(&s->ring, 128), nullptr);
}

}  // namespace
