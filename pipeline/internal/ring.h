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
  uint64_t reserved_head;                         /* head after the pending reservation */
  uint64_t cached_tail;                           /* producer's last view of tail */
  /* Consumer's line. */
  alignas(ATF_CACHE_LINE) ATF_ATOMIC(uint64_t) tail; /* bytes released */
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
void *atf_ring_reserve(atf_ring *r, size_t size);

/* Producer: publishes the pending reservation (and its PAD, if any). */
void atf_ring_commit(atf_ring *r);

/* Consumer: the committed, unreleased bytes. Returns their total length. */
size_t atf_ring_peek(atf_ring *r, atf_ring_span *out);

/* Consumer: frees `bytes` (REQUIRES: <= the length peek returned) for the producer. */
void atf_ring_release(atf_ring *r, size_t bytes);

#ifdef __cplusplus
}
#endif

#endif /* ATF_PIPELINE_INTERNAL_RING_H_ */
