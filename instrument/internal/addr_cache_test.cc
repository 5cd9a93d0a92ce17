// The address cache: lookups, growth that keeps every entry, invalidation of a range, and readers
// running while a writer inserts and grows (run under TSan/ASan too).
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

extern "C" {
struct atf_addr_cache;
atf_addr_cache *shim_new(size_t expected);
uint32_t shim_find(atf_addr_cache *c, uint64_t addr);
int shim_put(atf_addr_cache *c, uint64_t addr, uint32_t id);
size_t shim_invalidate(atf_addr_cache *c, uint64_t lo, uint64_t hi);
size_t shim_retired(const atf_addr_cache *c);
void shim_free(atf_addr_cache *c);
}

namespace {

uint32_t IdFor(uint64_t addr) { return static_cast<uint32_t>((addr >> 4) * 7 + 1); }

TEST(AddrCache, FindPutGrowInvalidate) {
  atf_addr_cache *c = shim_new(16);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(shim_find(c, 0x1000), 0u);
  // Addresses 16 bytes apart, as functions often are: far more than the first table holds.
  const uint64_t n = 100000;
  for (uint64_t i = 1; i <= n; ++i)
    ASSERT_EQ(shim_put(c, 0x400000 + 16 * i, IdFor(0x400000 + 16 * i)), 0);
  EXPECT_GT(shim_retired(c), 0u);  // it grew
  for (uint64_t i = 1; i <= n; ++i)
    ASSERT_EQ(shim_find(c, 0x400000 + 16 * i), IdFor(0x400000 + 16 * i));
  EXPECT_EQ(shim_find(c, 0x400008), 0u);
  // Overwrite keeps one entry.
  ASSERT_EQ(shim_put(c, 0x400010, 99), 0);
  EXPECT_EQ(shim_find(c, 0x400010), 99u);
  // Invalidate [lo, hi): ids become 0 there only.
  const uint64_t lo = 0x400000 + 16 * 100, hi = 0x400000 + 16 * 200;
  EXPECT_EQ(shim_invalidate(c, lo, hi), 100u);
  EXPECT_EQ(shim_find(c, lo), 0u);
  EXPECT_EQ(shim_find(c, hi - 16), 0u);
  EXPECT_EQ(shim_find(c, lo - 16), IdFor(lo - 16));
  EXPECT_EQ(shim_find(c, hi), IdFor(hi));
  EXPECT_EQ(shim_invalidate(c, lo, hi), 0u);
  // Re-resolving an invalidated address stores the new id in place.
  ASSERT_EQ(shim_put(c, lo, 5), 0);
  EXPECT_EQ(shim_find(c, lo), 5u);
  shim_free(c);
}

TEST(AddrCache, ReadersNeverSeeAWrongIdWhileTheWriterGrowsTheTable) {
  atf_addr_cache *c = shim_new(1);
  ASSERT_NE(c, nullptr);
  const uint64_t n = 200000;
  std::atomic<uint64_t> published{0};
  std::atomic<bool> bad{false};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      uint64_t seen = 0;
      for (uint64_t round = 0; published.load(std::memory_order_acquire) < n; ++round) {
        const uint64_t upto = published.load(std::memory_order_acquire);
        for (uint64_t i = 1 + (round * 7919 + r) % 64; i <= upto; i += 61) {
          const uint64_t addr = 0x10000 + 32 * i;
          const uint32_t id = shim_find(c, addr);
          if (id != IdFor(addr)) bad = true;  // published before: must be found, with its id
          seen++;
        }
      }
      EXPECT_GT(seen, 0u);
    });
  }
  for (uint64_t i = 1; i <= n; ++i) {
    ASSERT_EQ(shim_put(c, 0x10000 + 32 * i, IdFor(0x10000 + 32 * i)), 0);
    published.store(i, std::memory_order_release);
  }
  for (auto &t : readers) t.join();
  EXPECT_FALSE(bad.load());
  shim_free(c);
}

}  // namespace
