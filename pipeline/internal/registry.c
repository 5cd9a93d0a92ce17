/* internal/registry.c: see registry.h. */
#include "pipeline/internal/registry.h"

#include <errno.h>
#include <sys/mman.h>

#if defined(__linux__) && !defined(MADV_POPULATE_WRITE)
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older kernels answer EINVAL, which is harmless */
#endif

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

int atf_registry_init(atf_registry *reg, atf_slot *slots, uint32_t nslots, uint32_t ring_bytes) {
  if (nslots == 0 || !atf_ring_capacity_ok(ring_bytes)) {
    errno = EINVAL;
    return -1;
  }
  size_t bytes = (size_t)nslots * ring_bytes;
  void *mem =
      mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) return -1;
  reg->slots = slots;
  reg->nslots = nslots;
  reg->ring_bytes = ring_bytes;
  reg->ring_mem = (unsigned char *)mem;
  reg->ring_mem_bytes = bytes;
  atomic_store_explicit(&reg->high_water, 0, memory_order_relaxed);
  atomic_store_explicit(&reg->noslot_dropped, 0, memory_order_relaxed);
  for (uint32_t i = 0; i < nslots; i++) {
    atf_slot *s = &slots[i];
    atf_ring_init(&s->ring, reg->ring_mem + (size_t)i * ring_bytes, ring_bytes);
    s->prefaulted = 0;
    atomic_store_explicit(&s->state, ATF_SLOT_FREE, memory_order_release);
  }
  return 0;
}

void atf_registry_destroy(atf_registry *reg) {
  if (reg->ring_mem != NULL) munmap(reg->ring_mem, reg->ring_mem_bytes);
  reg->ring_mem = NULL;
  reg->ring_mem_bytes = 0;
}

static void raise_high_water(atf_registry *reg, uint32_t n) {
  uint32_t cur = atomic_load_explicit(&reg->high_water, memory_order_relaxed);
  while (cur < n && !atomic_compare_exchange_weak_explicit(
                        &reg->high_water, &cur, n, memory_order_release, memory_order_relaxed)) {}
}

atf_slot *atf_registry_claim(atf_registry *reg, int32_t tid) {
  for (uint32_t i = 0; i < reg->nslots; i++) {
    atf_slot *s = &reg->slots[i];
    uint32_t expected = ATF_SLOT_FREE;
    if (atomic_load_explicit(&s->state, memory_order_relaxed) != ATF_SLOT_FREE) continue;
    if (!atomic_compare_exchange_strong_explicit(&s->state, &expected, ATF_SLOT_CLAIMING,
                                                 memory_order_acquire, memory_order_relaxed)) {
      continue;
    }
    atf_ring_init(&s->ring, reg->ring_mem + (size_t)i * reg->ring_bytes, reg->ring_bytes);
    s->tid = tid;
    s->last_timestamp_ns = 0;
    s->owner_busy = NULL;
    atomic_store_explicit(&s->produced, 0, memory_order_relaxed);
    atomic_store_explicit(&s->dropped, 0, memory_order_relaxed);
    atomic_store_explicit(&s->unmatched, 0, memory_order_relaxed);
    atomic_store_explicit(&s->nested_dropped, 0, memory_order_relaxed);
    atomic_store_explicit(&s->written, 0, memory_order_relaxed);
    atomic_store_explicit(&s->lost, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->generation, 1, memory_order_relaxed);
    raise_high_water(reg, i + 1);
    atomic_store_explicit(&s->state, ATF_SLOT_ACTIVE, memory_order_release);
    return s;
  }
  return NULL;
}

void atf_registry_mark_exiting(atf_slot *s) {
  atomic_store_explicit(&s->state, ATF_SLOT_EXITING, memory_order_release);
}

void atf_registry_free(atf_slot *s) {
  atomic_store_explicit(&s->state, ATF_SLOT_FREE, memory_order_release);
}

uint32_t atf_registry_high_water(atf_registry *reg) {
  return atomic_load_explicit(&reg->high_water, memory_order_acquire);
}

void atf_registry_prefault(atf_slot *s) {
  if (s->prefaulted) return;
  s->prefaulted = 1;
#if defined(__linux__)
  madvise(s->ring.buf, s->ring.capacity, MADV_POPULATE_WRITE);
#endif
}
