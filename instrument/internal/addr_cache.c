/* addr_cache.c: see addr_cache.h. */
#include "instrument/internal/addr_cache.h"

#include <string.h>
#include <sys/mman.h>

#define MIN_SLOTS 1024u

ATF_NOINSTR static atf_addr_table *table_new(size_t slots) {
  size_t bytes = sizeof(atf_addr_table) + slots * sizeof(atf_addr_slot);
  void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  atf_addr_table *t = p; /* anonymous memory is zero: every slot empty */
  t->mask = slots - 1;
  unsigned bits = 0;
  while (((size_t)1 << bits) < slots) bits++;
  t->shift = 64u - bits;
  t->bytes = bytes;
  return t;
}

/* Stores into a table that has room. REQUIRES: the lock. */
ATF_NOINSTR static void table_put(atf_addr_table *t, uint64_t addr, uint32_t id) {
  uint64_t i = atf_addr_hash(addr, t->shift);
  for (;;) {
    uint64_t k = atomic_load_explicit(&t->slots[i].key, memory_order_relaxed);
    if (k == addr) {
      atomic_store_explicit(&t->slots[i].id, id, memory_order_release);
      return;
    }
    if (k == 0) {
      atomic_store_explicit(&t->slots[i].id, id, memory_order_relaxed);
      atomic_store_explicit(&t->slots[i].key, addr, memory_order_release);
      t->used++;
      return;
    }
    i = (i + 1) & t->mask;
  }
}

ATF_NOINSTR int atf_addr_cache_init(atf_addr_cache *c, size_t expected) {
  memset(c, 0, sizeof *c);
  size_t slots = MIN_SLOTS;
  while (slots / 2 < expected && slots < ((size_t)1 << 40)) slots *= 2;
  atf_addr_table *t = table_new(slots);
  if (t == NULL) return -1;
  atomic_store_explicit(&c->table, t, memory_order_release);
  return 0;
}

/* Replaces the table by one twice as large holding its resolved entries. */
ATF_NOINSTR static int grow(atf_addr_cache *c, atf_addr_table *old) {
  if (c->nretired == ATF_ADDR_CACHE_MAX_RETIRED) return -1;
  atf_addr_table *t = table_new((size_t)(old->mask + 1) * 2);
  if (t == NULL) return -1;
  for (uint64_t i = 0; i <= old->mask; i++) {
    uint64_t k = atomic_load_explicit(&old->slots[i].key, memory_order_relaxed);
    uint32_t id = atomic_load_explicit(&old->slots[i].id, memory_order_relaxed);
    if (k != 0 && id != 0) table_put(t, k, id);
  }
  atomic_store_explicit(&c->table, t, memory_order_release);
  c->retired[c->nretired++] = old;
  return 0;
}

ATF_NOINSTR int atf_addr_cache_put(atf_addr_cache *c, uint64_t addr, uint32_t id) {
  atf_addr_table *t = atomic_load_explicit(&c->table, memory_order_relaxed);
  if (t == NULL) return -1;
  if ((t->used + 1) * 2 > t->mask + 1) {
    if (grow(c, t) != 0) return -1;
    t = atomic_load_explicit(&c->table, memory_order_relaxed);
  }
  table_put(t, addr, id);
  return 0;
}

ATF_NOINSTR size_t atf_addr_cache_invalidate(atf_addr_cache *c, uint64_t lo, uint64_t hi) {
  atf_addr_table *t = atomic_load_explicit(&c->table, memory_order_relaxed);
  size_t n = 0;
  for (uint64_t i = 0; t != NULL && i <= t->mask; i++) {
    uint64_t k = atomic_load_explicit(&t->slots[i].key, memory_order_relaxed);
    if (k >= lo && k < hi && k != 0 &&
        atomic_load_explicit(&t->slots[i].id, memory_order_relaxed) != 0) {
      atomic_store_explicit(&t->slots[i].id, 0, memory_order_release);
      n++;
    }
  }
  return n;
}

ATF_NOINSTR void atf_addr_cache_destroy(atf_addr_cache *c) {
  atf_addr_table *t = atomic_load_explicit(&c->table, memory_order_relaxed);
  if (t != NULL) munmap(t, t->bytes);
  for (size_t i = 0; i < c->nretired; i++) munmap(c->retired[i], c->retired[i]->bytes);
  memset(c, 0, sizeof *c);
}
