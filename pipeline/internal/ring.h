/* internal/ring.h: a single-producer/single-consumer byte ring of atf_ring_record.
 *
 * One traced thread produces, the drain worker consumes. Positions are free-running 64-bit byte
 * counters (they never wrap in practice), so "full" and "empty" need no extra flag:
 * used = head - tail. head and tail live on separate cache lines so the producer and the consumer
 * never write the same line. The producer keeps a cached copy of tail and reloads it (acquire) only
 * when the cached value says the ring is full; the consumer loads head once per peek.
 *
 * Records never straddle the end of the buffer: when a record does not fit before the end, an
 * ATF_KIND_PAD record fills the rest and the record starts at offset 0. A PAD is also inserted when
 * a record would leave fewer than ATF_RECORD_HEADER_SIZE bytes before the end, so every gap is big
 * enough for a real 40-byte PAD header. Hence committed bytes are at most two spans (before and
 * after the wrap), each a whole number of records, and records are at most capacity / 4 bytes so a
 * record plus its PAD always fits an empty ring.
 *
 * Producer: p = reserve(size); fill p; commit() (release store of head).
 * Consumer: peek() (acquire load of head), read the spans, release(bytes) (release store of tail).
 * Nothing here blocks, allocates or calls the OS: reserve/commit are async-signal-safe.
 */
#ifndef ATF_PIPELINE_INTERNAL_RING_H_
#define ATF_PIPELINE_INTERNAL_RING_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "writer/atf/ring_record.h"
#include "pipeline/internal/atomic.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__aarch64__) && defined(__APPLE__)
#define ATF_CACHE_LINE 128
#else
#define ATF_CACHE_LINE 64
#endif

#define ATF_RING_MIN_BYTES 1024u
#define ATF_RING_MAX_BYTES (1u << 30)

typedef struct atf_ring {
  /* Producer's line. */
  alignas(ATF_CACHE_LINE) ATF_ATOMIC(uint64_t) head; /* bytes committed */
  uint64_t reserved_head;                            /* head after the pending reservation */
  uint64_t cached_tail;                              /* producer's last view of tail */
  /* Consumer's line. */
  alignas(ATF_CACHE_LINE) ATF_ATOMIC(uint64_t) tail; /* bytes released */
  ATF_ATOMIC(uint32_t) room_seq;                     /* bumped to wake a waiting producer (futex) */
  /* Read by the consumer at every release, written only when the producer starts or stops
   * waiting: alone, so that neither side's hot line bounces for it. */
  alignas(ATF_CACHE_LINE) ATF_ATOMIC(uint32_t) waiting; /* the producer sleeps in _reserve_wait */
  /* Read-only after init. */
  alignas(ATF_CACHE_LINE) unsigned char *buf;
  uint64_t mask;
  uint32_t capacity;
  uint32_t max_record; /* capacity / 4, capped at UINT16_MAX rounded down to 8 */
} atf_ring;

/* A view of the committed bytes: at most two spans, each whole records. */
typedef struct atf_ring_span {
  const unsigned char *ptr[2];
  size_t len[2];
} atf_ring_span;

/* True if `capacity` is a valid ring size: a power of two in [ATF_RING_MIN_BYTES, MAX]. */
int atf_ring_capacity_ok(uint64_t capacity);

/* Points the ring at `buf` (capacity bytes, 8-byte aligned) and empties it.
 * REQUIRES: atf_ring_capacity_ok(capacity); no producer or consumer is using the ring. */
void atf_ring_init(atf_ring *r, void *buf, uint32_t capacity);

/* Producer: room for one record of `size` bytes, or NULL when the ring is full or `size` is over
 * max_record. Nothing is visible to the consumer until atf_ring_commit().
 * REQUIRES: size is a multiple of 8 and >= ATF_RECORD_HEADER_SIZE; no reservation pending. */
static inline void *atf_ring_reserve(atf_ring *r, size_t size);

/* Producer: as atf_ring_reserve, but succeeds only if at least `keep_free` bytes stay free after
 * the record (and its PAD, if any): room set aside for records that must not fail later. */
static inline void *atf_ring_reserve_keep(atf_ring *r, size_t size, size_t keep_free);

/* Producer: publishes the pending reservation (and its PAD, if any). */
static inline void atf_ring_commit(atf_ring *r);

/* Producer: atf_ring_reserve, waiting for the consumer to make room when the ring is full: a short
 * spin, then sleeping until atf_ring_release() wakes it (Linux: a futex; elsewhere short sleeps).
 * NULL only when `size` is over max_record. Never allocates; the sleep is a system call, so it is
 * async-signal-safe, but it waits for the consumer: never call it where the consumer might wait
 * for this thread. */
void *atf_ring_reserve_wait(atf_ring *r, size_t size);

/* Consumer: the committed, unreleased bytes. Returns their total length. */
size_t atf_ring_peek(atf_ring *r, atf_ring_span *out);

/* Consumer: frees `bytes` (REQUIRES: <= the length peek returned) for the producer, and wakes it
 * if it waits for room. */
void atf_ring_release(atf_ring *r, size_t bytes);

/* ---- the producer's side, inline: it is on every event's path -------------------------------- */

#ifdef __cplusplus
#define ATF_RING_LOAD(x, order) (x).load(std::order)
#define ATF_RING_STORE(x, v, order) (x).store((v), std::order)
#else
#define ATF_RING_LOAD(x, order) atomic_load_explicit(&(x), order)
#define ATF_RING_STORE(x, v, order) atomic_store_explicit(&(x), (v), order)
#endif

static inline void *atf_ring_reserve_keep(atf_ring *r, size_t size, size_t keep_free) {
  if (size > r->max_record) return NULL;
  const uint64_t head = ATF_RING_LOAD(r->head, memory_order_relaxed);
  const uint64_t off = head & r->mask;
  const uint64_t to_end = r->capacity - off;
  /* A record never straddles the end, and never leaves a gap too small for a PAD header. */
  uint64_t pad = 0;
  if (size > to_end || (to_end - size != 0 && to_end - size < ATF_RECORD_HEADER_SIZE)) pad = to_end;
  const uint64_t need = pad + size + keep_free;
  if (head + need - r->cached_tail > r->capacity) {
    r->cached_tail = ATF_RING_LOAD(r->tail, memory_order_acquire);
    if (head + need - r->cached_tail > r->capacity) return NULL;
  }
  if (pad != 0) {
    atf_ring_record *p = (atf_ring_record *)(r->buf + off);
    memset(p, 0, sizeof *p);
    p->size = (uint16_t)pad;
    p->kind = ATF_KIND_PAD;
  }
  r->reserved_head = head + pad + size;
  return r->buf + ((head + pad) & r->mask);
}

static inline void *atf_ring_reserve(atf_ring *r, size_t size) {
  return atf_ring_reserve_keep(r, size, 0);
}

static inline uint64_t atf_ring_refresh_tail(atf_ring *r) {
  r->cached_tail = ATF_RING_LOAD(r->tail, memory_order_acquire);
  return r->reserved_head - r->cached_tail;
}

static inline void atf_ring_commit(atf_ring *r) {
  ATF_RING_STORE(r->head, r->reserved_head, memory_order_release);
}

#ifdef __cplusplus
}
#endif

#endif /* ATF_PIPELINE_INTERNAL_RING_H_ */
