/* The per-thread state of the order rules (last timestamp of each thread_id), keyed by a value
 * read from the file.
 *
 * An attacker picks the thread ids, so the table's cost must not depend on them: with a fixed
 * hash (the former tid * 2654435761) ids that collide turned each lookup into a walk of the whole
 * table (an 8 MiB file took 20x longer). Here the hash is drawn at random per table from a
 * strongly universal family (Dietzfelbinger's multiply-add-shift: h(x) = (a * x + b) >> (64 - k)
 * for 32-bit x and random 64-bit a, b), so for any ids chosen without knowing a and b, two of them
 * collide with probability about 2^-k and the expected probe length stays small whatever the ids
 * are. Open addressing with linear probing, at most half full, grown by doubling up to `max`
 * entries (then full: new ids are not tracked, the caller warns). */
#ifndef ATF_VALIDATOR_INTERNAL_THREAD_TABLE_H_
#define ATF_VALIDATOR_INTERNAL_THREAD_TABLE_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct atf_thread_slot {
  uint64_t last_ns;      /* timestamp of the thread's last record (validation) */
  uint64_t kept_last_ns; /* of its last record kept by salvage */
  int32_t tid;
  bool used, kept; /* kept: kept_last_ns is set */
  uint32_t aux;    /* the owner's own index for this thread (call_tree.c), 0 when none */
} atf_thread_slot;

typedef struct atf_thread_table {
  atf_thread_slot *slots;
  size_t cap, len, max; /* cap is a power of two, at least twice len (0 before the first insert) */
  unsigned shift;       /* 64 - log2(cap) */
  uint64_t a, b;        /* the hash: a odd */
  uint64_t probes;      /* slots looked at beyond the first, over all lookups (for tests) */
} atf_thread_table;

/* An empty table of at most `max` entries whose hash is drawn from `seed` (see
 * atf_thread_table_random_seed). Allocates nothing yet. */
void atf_thread_table_init(atf_thread_table *t, size_t max, uint64_t seed);
void atf_thread_table_free(atf_thread_table *t);

/* The slot of tid, inserted (zeroed, *is_new set) when absent. NULL when the table is full
 * (max entries) or memory ran out (*oom set). */
atf_thread_slot *atf_thread_table_find(atf_thread_table *t, int32_t tid, bool *is_new, bool *oom);

/* 64 unpredictable bits from the system (getentropy), else from the clock and addresses. */
uint64_t atf_thread_table_random_seed(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ATF_VALIDATOR_INTERNAL_THREAD_TABLE_H_ */
