/* internal/ring.c: see ring.h for the design. */
#include "pipeline/internal/ring.h"

#include <string.h>

#include "atf/ring_record.h"

int atf_ring_capacity_ok(uint64_t capacity) {
  return capacity >= ATF_RING_MIN_BYTES && capacity <= ATF_RING_MAX_BYTES &&
         (capacity & (capacity - 1)) == 0;
}

void atf_ring_init(atf_ring *r, void *buf, uint32_t capacity) {
  atomic_store_explicit(&r->head, 0, memory_order_relaxed);
  atomic_store_explicit(&r->tail, 0, memory_order_relaxed);
  r->reserved_head = 0;
  r->cached_tail = 0;
  r->buf = (unsigned char *)buf;
  r->mask = (uint64_t)capacity - 1;
  r->capacity = capacity;
  uint32_t max = capacity / 4;
  r->max_record = max > 0xFFF8u ? 0xFFF8u : max;
}

size_t atf_ring_peek(atf_ring *r, atf_ring_span *out) {
  uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
  uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
  uint64_t len = head - tail;
  uint64_t off = tail & r->mask;
  uint64_t first = len;
  if (off + len > r->capacity) first = r->capacity - off;
  out->ptr[0] = r->buf + off;
  out->len[0] = (size_t)first;
  out->ptr[1] = r->buf;
  out->len[1] = (size_t)(len - first);
  return (size_t)len;
}

void atf_ring_release(atf_ring *r, size_t bytes) {
  uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
  atomic_store_explicit(&r->tail, tail + bytes, memory_order_release);
}
