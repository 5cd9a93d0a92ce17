/* call_tree.h: per-thread stacks of open FunctionCalls, in bounded memory.
 *
 * What the rule session.call_return (docs/format.md section 3) and atf-dump's balanced Chrome
 * export need: per thread_id, a FunctionCall opens a call and a FunctionReturn closes the innermost
 * open one. Each step says what happened (opened, closed with the address checked, closed by depth
 * only, closed although the addresses differ, closed nothing, thread not tracked), so the caller
 * decides what is an error and what to print.
 *
 * A mismatched return closes the innermost open call anyway: one lost return then costs one
 * complaint, not one per later return of that thread, and a consumer that pairs events by nesting
 * (Chrome's B/E) stays balanced.
 *
 * Memory is bounded whatever the input (hostile files: 65 536 threads, depths in the millions):
 *   - threads: a thread table (thread_table.h, random hash) of at most max_threads entries; events
 *     of threads beyond it are ATF_CALL_TREE_UNTRACKED and change nothing;
 *   - open calls: one pool of at most max_open entries (16 bytes each) shared by all threads. A
 *     thread's stored entries are the bottom of its stack; a call made when the pool is full (or
 *     above calls that were not stored) only raises the thread's depth, and the return that closes
 *     it is checked for depth only (ATF_CALL_TREE_CLOSED_DEPTH, counted in `unchecked`). Once the
 *     thread is back down to its stored entries, addresses are checked again.
 * Depths are 64-bit counters: no input can overflow them. Everything grows with what the file holds
 * (doubling), never with a size it declares.
 */
#ifndef ATF_VALIDATOR_INTERNAL_CALL_TREE_H_
#define ATF_VALIDATOR_INTERNAL_CALL_TREE_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "validator/internal/thread_table.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ATF_CALL_TREE_MAX_THREADS 65536u
#define ATF_CALL_TREE_MAX_OPEN (1u << 20) /* open-call entries, all threads together: 16 MiB */

/* What one event did. Values are fixed. */
typedef enum atf_call_tree_step {
  ATF_CALL_TREE_OPENED = 0,       /* a call, its address stored */
  ATF_CALL_TREE_OPENED_DEPTH = 1, /* a call, counted only (the pool is full) */
  ATF_CALL_TREE_CLOSED = 2,       /* a return closed the innermost call, same address */
  ATF_CALL_TREE_CLOSED_DEPTH = 3, /* a return closed the innermost call, counted only: unchecked */
  ATF_CALL_TREE_MISMATCH = 4,     /* a return closed the innermost call of another address */
  ATF_CALL_TREE_UNMATCHED = 5,    /* a return on a thread without open calls: closed nothing */
  ATF_CALL_TREE_UNTRACKED = 6,    /* the thread table is full: not tracked */
  ATF_CALL_TREE_NOMEM = 7         /* memory ran out (nothing changed) */
} atf_call_tree_step;

/* A thread's state, as atf_call_tree_thread() reports it. */
typedef struct atf_call_tree_thread_info {
  int32_t tid;
  uint64_t depth;   /* open calls */
  uint64_t last_ns; /* the latest timestamp seen on the thread (atf_call_tree_note) */
} atf_call_tree_thread_info;

typedef struct atf_call_tree_state atf_call_tree_state;
typedef struct atf_call_tree_entry atf_call_tree_entry;

typedef struct atf_call_tree {
  atf_thread_table table;
  atf_call_tree_state *states; /* states[slot.aux - 1] */
  size_t nstates, states_cap;
  atf_call_tree_entry *pool;
  uint32_t pool_len, pool_cap, max_open, free_list; /* free_list: index + 1, 0 = empty */
  /* Outcomes, for reports. */
  bool capped;           /* a call found the pool full */
  bool threads_capped;   /* an event found the thread table full */
  uint64_t unchecked;    /* returns closed by depth only */
  uint64_t open_entries; /* entries in use now (for tests) */
} atf_call_tree;

/* An empty tree: at most max_threads threads (0: ATF_CALL_TREE_MAX_THREADS) and max_open stored
 * open calls (0: ATF_CALL_TREE_MAX_OPEN; larger values are lowered to the defaults). seed: the
 * thread table's hash (atf_thread_table_random_seed()). Allocates nothing yet. */
void atf_call_tree_init(atf_call_tree *t, uint32_t max_threads, uint32_t max_open, uint64_t seed);
void atf_call_tree_free(atf_call_tree *t);

/* A FunctionCall of `address` on thread `tid` at time_ns. */
atf_call_tree_step atf_call_tree_call(atf_call_tree *t, int32_t tid, uint64_t address,
                                      uint64_t time_ns);

/* A FunctionReturn of `address` on thread `tid` at time_ns. *innermost is set to the address of the
 * call it closed when that was stored (ATF_CALL_TREE_CLOSED, ATF_CALL_TREE_MISMATCH), else 0. */
atf_call_tree_step atf_call_tree_return(atf_call_tree *t, int32_t tid, uint64_t address,
                                        uint64_t time_ns, uint64_t *innermost);

/* Whether a FunctionReturn of `address` on thread `tid` would be ATF_CALL_TREE_CLOSED or
 * ATF_CALL_TREE_CLOSED_DEPTH (true as well for a thread the table cannot hold: not checked). Opens
 * no call and closes none (it may add the thread to the table). */
bool atf_call_tree_would_close(atf_call_tree *t, int32_t tid, uint64_t address);

/* Any other event of thread `tid` at time_ns: keeps the thread's latest timestamp. Returns false
 * when the thread is not tracked (table full, or memory ran out: *oom). */
bool atf_call_tree_note(atf_call_tree *t, int32_t tid, uint64_t time_ns, bool *oom);

/* The latest timestamp seen on thread `tid` (0 when the thread is not tracked). */
uint64_t atf_call_tree_latest(atf_call_tree *t, int32_t tid);

/* The threads seen, in the order they were first seen: i < atf_call_tree_threads(t). */
size_t atf_call_tree_threads(const atf_call_tree *t);
atf_call_tree_thread_info atf_call_tree_thread(const atf_call_tree *t, size_t i);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ATF_VALIDATOR_INTERNAL_CALL_TREE_H_ */
