// The thread table: every id found again, the cap, and probe lengths that do not depend on the
// ids, for ids chosen to collide under the former fixed hash (tid * 2654435761).
#include "validator/internal/thread_table.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace {

// Thread ids that all share the former hash's home slot in every table of up to 2^16 slots, and
// two slots in one of 2^17: multiples of 2^16.
std::vector<int32_t> CollidingIds() {
  std::vector<int32_t> ids;
  for (uint32_t k = 0; k < 65536; ++k) ids.push_back(static_cast<int32_t>(k << 16));
  return ids;
}

TEST(ThreadTable, FindsEveryIdAgainAndStopsAtItsCap) {
  atf_thread_table t;
  atf_thread_table_init(&t, 1000, 42);
  bool is_new = false, oom = false;
  for (int32_t tid = -500; tid < 500; ++tid) {
    atf_thread_slot *s = atf_thread_table_find(&t, tid, &is_new, &oom);
    ASSERT_NE(s, nullptr) << tid;
    EXPECT_TRUE(is_new);
    s->last_ns = static_cast<uint64_t>(tid + 1000);
  }
  EXPECT_EQ(t.len, 1000u);
  EXPECT_EQ(atf_thread_table_find(&t, 500, &is_new, &oom), nullptr) << "full";
  EXPECT_FALSE(oom);
  for (int32_t tid = -500; tid < 500; ++tid) {
    atf_thread_slot *s = atf_thread_table_find(&t, tid, &is_new, &oom);
    ASSERT_NE(s, nullptr);
    EXPECT_FALSE(is_new);
    EXPECT_EQ(s->tid, tid);
    EXPECT_EQ(s->last_ns, static_cast<uint64_t>(tid + 1000));
    EXPECT_FALSE(s->kept);
  }
  atf_thread_table_free(&t);
}

// The former hash put all of these in one or two chains: an insert walked ~len/2 slots, 2^31
// probes for the set. With a random multiply-add-shift hash the probes per lookup stay a small
// constant whatever the seed (fixed here so the test is repeatable; the validator draws one).
TEST(ThreadTable, CollidingIdsCostAFewProbesEach) {
  const std::vector<int32_t> ids = CollidingIds();
  for (uint64_t seed : {uint64_t{1}, uint64_t{2}, uint64_t{0xdeadbeef}, UINT64_MAX}) {
    SCOPED_TRACE(seed);
    atf_thread_table t;
    atf_thread_table_init(&t, 65536, seed);
    bool is_new = false, oom = false;
    for (int32_t tid : ids) ASSERT_NE(atf_thread_table_find(&t, tid, &is_new, &oom), nullptr);
    const uint64_t after_inserts = t.probes;
    for (int round = 0; round < 4; ++round) {
      for (int32_t tid : ids) ASSERT_NE(atf_thread_table_find(&t, tid, &is_new, &oom), nullptr);
    }
    const double per_lookup = static_cast<double>(t.probes - after_inserts) / (4.0 * ids.size());
    EXPECT_LT(per_lookup, 2.0) << "probes beyond the first slot, per lookup";
    EXPECT_EQ(t.len, ids.size());
    atf_thread_table_free(&t);
  }
}

TEST(ThreadTable, SeedsDiffer) {
  // Two draws from the system agree only by accident (2^-64).
  EXPECT_NE(atf_thread_table_random_seed(), atf_thread_table_random_seed());
}

}  // namespace
