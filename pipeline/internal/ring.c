/* internal/ring.c: see ring.h for the design. */
#include "pipeline/internal/ring.h"

#include <string.h>
#include <time.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "writer/atf/ring_record.h"

int atf_ring_capacity_ok(uint64_t capacity) {
  return capacity >= ATF_RING_MIN_BYTES && capacity <= ATF_RING_MAX_BYTES &&
         (capacity & (capacity - 1)) == 0;
}

void atf_ring_init(atf_ring *r, void *buf, uint32_t capacity) {
  atomic_store_explicit(&r->head, 0, memory_order_relaxed);
  atomic_store_explicit(&r->tail, 0, memory_order_relaxed);
  atomic_store_explicit(&r->waiting, 0, memory_order_relaxed);
  atomic_store_explicit(&r->room_seq, 0, memory_order_relaxed);
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

/* Sleeps until room_seq differs from `seen`, or at most 1 ms (a missed wake-up costs no more). */
static void sleep_for_room(atf_ring *r, uint32_t seen) {
#if defined(__linux__) && defined(SYS_futex)
  struct timespec ts = {0, 1000000};
  syscall(SYS_futex, &r->room_seq, FUTEX_WAIT_PRIVATE, seen, &ts, NULL, 0);
#else
  (void)r;
  (void)seen;
  struct timespec ts = {0, 50000};
  nanosleep(&ts, NULL);
#endif
}

void *atf_ring_reserve_wait(atf_ring *r, size_t size) {
  if (size > r->max_record) return NULL;
  void *p;
  for (unsigned spins = 0; spins < 64; spins++) {
    if ((p = atf_ring_reserve(r, size)) != NULL) return p;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
  }
  for (;;) {
    const uint32_t seen = atomic_load_explicit(&r->room_seq, memory_order_acquire);
    /* Dekker with atf_ring_release: store `waiting`, then load tail; it stores tail, then loads
     * `waiting` (seq_cst on both sides), so either this reserve sees the room or the release sees
     * the flag and bumps room_seq. */
    atomic_store_explicit(&r->waiting, 1, memory_order_seq_cst);
    atomic_thread_fence(memory_order_seq_cst);
    p = atf_ring_reserve(r, size);
    if (p != NULL) break;
    sleep_for_room(r, seen);
  }
  atomic_store_explicit(&r->waiting, 0, memory_order_relaxed);
  return p;
}

void atf_ring_release(atf_ring *r, size_t bytes) {
  const uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed) + bytes;
  atomic_store_explicit(&r->tail, tail, memory_order_release);
  atomic_thread_fence(memory_order_seq_cst);
  /* A waiting producer is woken once half the ring is free, not at every release: it then refills
   * half a ring while the consumer works through the other half, instead of both taking turns at
   * a chunk each (a wake-up costs far more than the records a chunk holds). */
  if (atomic_load_explicit(&r->waiting, memory_order_relaxed) &&
      atomic_load_explicit(&r->head, memory_order_relaxed) - tail <= r->capacity / 2) {
    atomic_fetch_add_explicit(&r->room_seq, 1, memory_order_release);
#if defined(__linux__) && defined(SYS_futex)
    syscall(SYS_futex, &r->room_seq, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
#endif
  }
}
