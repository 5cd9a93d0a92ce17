// call_tree: the stacks behind session.call_return and atf-dump's balanced Chrome export, and each
// of their memory bounds.
#include "validator/internal/call_tree.h"

#include <gtest/gtest.h>

namespace {

class Tree {
 public:
  Tree(uint32_t max_threads = 0, uint32_t max_open = 0) {
    atf_call_tree_init(&t, max_threads, max_open, 12345);
  }
  ~Tree() { atf_call_tree_free(&t); }
  atf_call_tree_step Call(int32_t tid, uint64_t a, uint64_t ns = 0) {
    return atf_call_tree_call(&t, tid, a, ns);
  }
  atf_call_tree_step Return(int32_t tid, uint64_t a, uint64_t ns = 0, uint64_t *inner = nullptr) {
    uint64_t x;
    return atf_call_tree_return(&t, tid, a, ns, inner ? inner : &x);
  }
  uint64_t Depth(int32_t tid) const {
    for (size_t i = 0; i < atf_call_tree_threads(&t); ++i) {
      if (atf_call_tree_thread(&t, i).tid == tid) return atf_call_tree_thread(&t, i).depth;
    }
    return UINT64_MAX;
  }
  atf_call_tree t;
};

TEST(CallTree, ReturnsCloseTheInnermostCallOfTheirThread) {
  Tree t;
  EXPECT_EQ(t.Call(1, 0x10), ATF_CALL_TREE_OPENED);
  EXPECT_EQ(t.Call(2, 0x20), ATF_CALL_TREE_OPENED);
  EXPECT_EQ(t.Call(1, 0x11), ATF_CALL_TREE_OPENED);
  EXPECT_EQ(t.Return(2, 0x20), ATF_CALL_TREE_CLOSED);  // threads are apart
  EXPECT_EQ(t.Return(1, 0x11), ATF_CALL_TREE_CLOSED);
  EXPECT_EQ(t.Return(1, 0x10), ATF_CALL_TREE_CLOSED);
  EXPECT_EQ(t.t.open_entries, 0u);
  EXPECT_FALSE(t.t.capped);
}

TEST(CallTree, UnmatchedAndMismatchedReturns) {
  Tree t;
  EXPECT_EQ(t.Return(7, 0x10), ATF_CALL_TREE_UNMATCHED);
  EXPECT_EQ(t.Depth(7), 0u);
  t.Call(7, 0x10);
  t.Call(7, 0x11);
  uint64_t inner = 0;
  // A lost return of 0x11: the return of 0x10 closes 0x11 (one complaint) ...
  EXPECT_EQ(t.Return(7, 0x10, 0, &inner), ATF_CALL_TREE_MISMATCH);
  EXPECT_EQ(inner, 0x11u);
  EXPECT_EQ(t.Depth(7), 1u);
  // ... and the stack goes on from there.
  EXPECT_EQ(t.Return(7, 0x10, 0, &inner), ATF_CALL_TREE_CLOSED);
  EXPECT_EQ(inner, 0x10u);
  EXPECT_EQ(t.Return(7, 0x10), ATF_CALL_TREE_UNMATCHED);
}

TEST(CallTree, LatestTimePerThreadIsKept) {
  Tree t;
  t.Call(3, 1, 100);
  bool oom = false;
  EXPECT_TRUE(atf_call_tree_note(&t.t, 3, 250, &oom));
  t.Call(3, 1, 200);  // earlier than the latest: the latest stays
  ASSERT_EQ(atf_call_tree_threads(&t.t), 1u);
  EXPECT_EQ(atf_call_tree_thread(&t.t, 0).last_ns, 250u);
  EXPECT_EQ(atf_call_tree_latest(&t.t, 3), 250u);
  EXPECT_TRUE(atf_call_tree_would_close(&t.t, 3, 1));
  EXPECT_FALSE(atf_call_tree_would_close(&t.t, 3, 2));
  EXPECT_EQ(atf_call_tree_thread(&t.t, 0).depth, 2u) << "would_close changes nothing";
}

// The pool bound: past max_open stored calls, calls are counted only and their returns checked
// for depth only; once a thread is back to its stored calls, addresses are checked again.
TEST(CallTree, PastTheOpenCallBudgetDepthIsCountedOnly) {
  Tree t(0, 4);
  for (uint64_t a = 1; a <= 4; ++a) EXPECT_EQ(t.Call(1, a), ATF_CALL_TREE_OPENED);
  EXPECT_EQ(t.Call(1, 5), ATF_CALL_TREE_OPENED_DEPTH);
  EXPECT_EQ(t.Call(2, 6), ATF_CALL_TREE_OPENED_DEPTH);  // the budget is shared by all threads
  EXPECT_TRUE(t.t.capped);
  EXPECT_LE(t.t.pool_cap, 4u);
  EXPECT_EQ(t.Return(2, 99), ATF_CALL_TREE_CLOSED_DEPTH);  // address not known: depth only
  EXPECT_EQ(t.Return(2, 99), ATF_CALL_TREE_UNMATCHED);     // depth 0 is still caught
  EXPECT_EQ(t.Return(1, 99), ATF_CALL_TREE_CLOSED_DEPTH);
  EXPECT_EQ(t.t.unchecked, 2u);
  EXPECT_EQ(t.Return(1, 99), ATF_CALL_TREE_MISMATCH);  // 4 is stored: checked again
  EXPECT_EQ(t.Return(1, 3), ATF_CALL_TREE_CLOSED);
  // Freed entries are reused: thread 3 gets two stored calls.
  EXPECT_EQ(t.Call(3, 8), ATF_CALL_TREE_OPENED);
  EXPECT_EQ(t.Call(3, 9), ATF_CALL_TREE_OPENED);
  EXPECT_EQ(t.Call(3, 10), ATF_CALL_TREE_OPENED_DEPTH);
  EXPECT_EQ(t.t.pool_len, 4u);
}

// A call above calls that were counted only is not stored, even when an entry is free, so the
// stored entries stay the bottom of each stack.
TEST(CallTree, NoStoredCallAboveUnstoredOnes) {
  Tree t(0, 1);
  EXPECT_EQ(t.Call(1, 1), ATF_CALL_TREE_OPENED);
  EXPECT_EQ(t.Call(2, 2), ATF_CALL_TREE_OPENED_DEPTH);
  EXPECT_EQ(t.Return(1, 1), ATF_CALL_TREE_CLOSED);  // frees the entry
  EXPECT_EQ(t.Call(2, 3), ATF_CALL_TREE_OPENED_DEPTH);
  EXPECT_EQ(t.Return(2, 3), ATF_CALL_TREE_CLOSED_DEPTH);
  EXPECT_EQ(t.Return(2, 2), ATF_CALL_TREE_CLOSED_DEPTH);
  EXPECT_EQ(t.Call(2, 4), ATF_CALL_TREE_OPENED);  // back to depth 0: stored again
  EXPECT_EQ(t.Return(2, 4), ATF_CALL_TREE_CLOSED);
}

// Depth in the millions with the default budget: memory stops at the budget, depth is exact.
TEST(CallTree, DepthInTheMillionsStaysWithinTheBudget) {
  Tree t;
  const uint64_t depth = ATF_CALL_TREE_MAX_OPEN + 2000000ull;
  for (uint64_t i = 0; i < depth; ++i) t.Call(1, i);
  EXPECT_EQ(t.t.pool_cap, ATF_CALL_TREE_MAX_OPEN);
  EXPECT_EQ(t.Depth(1), depth);
  uint64_t depth_only = 0, checked = 0;
  for (uint64_t i = depth; i-- > 0;) {
    const atf_call_tree_step s = t.Return(1, i);
    depth_only += i >= ATF_CALL_TREE_MAX_OPEN && s == ATF_CALL_TREE_CLOSED_DEPTH;
    checked += i < ATF_CALL_TREE_MAX_OPEN && s == ATF_CALL_TREE_CLOSED;
  }
  EXPECT_EQ(depth_only, 2000000u);
  EXPECT_EQ(checked, ATF_CALL_TREE_MAX_OPEN);
  EXPECT_EQ(t.Depth(1), 0u);
  EXPECT_EQ(t.t.unchecked, 2000000u);
  EXPECT_EQ(t.t.open_entries, 0u);
}

// The thread bound: events of threads beyond the table are not tracked and change nothing.
TEST(CallTree, ThreadsBeyondTheTableAreUntracked) {
  Tree t(2, 0);
  EXPECT_EQ(t.Call(1, 1), ATF_CALL_TREE_OPENED);
  EXPECT_EQ(t.Call(2, 1), ATF_CALL_TREE_OPENED);
  EXPECT_EQ(t.Call(3, 1), ATF_CALL_TREE_UNTRACKED);
  EXPECT_EQ(t.Return(3, 1), ATF_CALL_TREE_UNTRACKED);
  EXPECT_TRUE(t.t.threads_capped);
  EXPECT_EQ(atf_call_tree_threads(&t.t), 2u);
}

// 65 536 threads, the default table: all tracked, the next one not.
TEST(CallTree, SixtyFiveThousandThreads) {
  Tree t;
  for (int32_t tid = 0; tid < 65536; ++tid) ASSERT_EQ(t.Call(tid * 7919, 1), ATF_CALL_TREE_OPENED);
  EXPECT_EQ(t.Call(-1, 1), ATF_CALL_TREE_UNTRACKED);
  for (int32_t tid = 0; tid < 65536; ++tid)
    ASSERT_EQ(t.Return(tid * 7919, 1), ATF_CALL_TREE_CLOSED);
  EXPECT_FALSE(t.t.capped);
}

}  // namespace
