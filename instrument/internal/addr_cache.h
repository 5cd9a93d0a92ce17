/* addr_cache.h: function address -> interned symbol id, read by the hooks without a lock.
 *
 * An open-addressing hash table of (address, id) slots, kept at most half full so that every probe
 * sequence ends at an empty slot. Readers (any thread, signal handlers included) load the table
 * pointer and walk slots with atomic loads only: no lock, no allocation, no system call, so a
 * lookup is async-signal-safe. Writers (insert, grow, invalidate) are serialised by the caller's
 * lock. An insert stores the id, then publishes the key with a release store; a reader that sees
 * the key (acquire) sees the id. Growing builds a twice larger table from the live entries and
 * publishes it with one release store; the old table stays mapped (retired, never freed: a reader
 * may still be walking it, and the retired tables together are smaller than the live one).
 *
 * Invalidation (dlclose) sets the ids of a range of addresses to 0 and keeps the keys, so probe
 * sequences stay intact; a lookup that finds id 0 reports a miss and the caller resolves again.
 * Tables are mmap'ed, never malloc'ed.
 */
#ifndef ATF_INSTRUMENT_INTERNAL_ADDR_CACHE_H_
#define ATF_INSTRUMENT_INTERNAL_ADDR_CACHE_H_

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "instrument/internal/compiler.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct atf_addr_slot {
  _Atomic uint64_t key; /* function address; 0 = empty */
  _Atomic uint32_t id;  /* symbol id; 0 = unresolved */
  uint32_t unused;
} atf_addr_slot;

typedef struct atf_addr_table {
  uint64_t mask;  /* slots - 1, slots a power of two */
  unsigned shift; /* 64 - log2(slots) */
  size_t used;    /* keys stored (writers only) */
  size_t bytes;   /* of the mapping */
  atf_addr_slot slots[];
} atf_addr_table;

#define ATF_ADDR_CACHE_MAX_RETIRED 48

typedef struct atf_addr_cache {
  _Atomic(atf_addr_table *) table;
  atf_addr_table *retired[ATF_ADDR_CACHE_MAX_RETIRED];
  size_t nretired;
} atf_addr_cache;

ATF_NOINSTR static inline uint64_t atf_addr_hash(uint64_t addr, unsigned shift) {
  return (addr * 0x9E3779B97F4A7C15ull) >> shift;
}

/* The id cached for `addr`, or 0. Lock-free, async-signal-safe. */
ATF_NOINSTR static inline uint32_t atf_addr_cache_find(atf_addr_cache *c, uint64_t addr) {
  atf_addr_table *t = atomic_load_explicit(&c->table, memory_order_acquire);
  if (ATF_UNLIKELY(t == NULL)) return 0;
  uint64_t i = atf_addr_hash(addr, t->shift);
  for (;;) {
    uint64_t k = atomic_load_explicit(&t->slots[i].key, memory_order_acquire);
    if (ATF_LIKELY(k == addr)) return atomic_load_explicit(&t->slots[i].id, memory_order_relaxed);
    if (k == 0) return 0;
    i = (i + 1) & t->mask;
  }
}

/* An empty cache with room for `expected` entries before it grows. 0 on success, -1 when the
 * memory cannot be mapped. REQUIRES: c zeroed or destroyed. */
int atf_addr_cache_init(atf_addr_cache *c, size_t expected);

/* Sets `addr` -> `id` (id >= 1), growing the table if needed. 0 on success, -1 when memory ran out
 * (the entry is then not cached; lookups keep missing). REQUIRES: the writers' lock, addr != 0. */
int atf_addr_cache_put(atf_addr_cache *c, uint64_t addr, uint32_t id);

/* Sets the id of every cached address in [lo, hi) to 0. Returns how many. REQUIRES: the lock. */
size_t atf_addr_cache_invalidate(atf_addr_cache *c, uint64_t lo, uint64_t hi);

/* Unmaps everything. REQUIRES: no reader can still use the cache (tests only). */
void atf_addr_cache_destroy(atf_addr_cache *c);

#ifdef __cplusplus
}
#endif

#endif /* ATF_INSTRUMENT_INTERNAL_ADDR_CACHE_H_ */
