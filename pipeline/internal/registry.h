/* internal/registry.h: the thread registry, a fixed array of slots, one per live traced thread.
 *
 * A slot holds a thread's ring and its counters. A thread claims a FREE slot on its first event
 * (CAS FREE -> CLAIMING, initialise, release-store ACTIVE) and marks it EXITING from its
 * thread-exit hook. Only the drain worker frees a slot: it drains an EXITING slot's ring to the
 * end, reports its drops and stores FREE; the next claim bumps the slot's generation. So a slot is
 * never reused while bytes of the previous thread are still in its ring, and an OS thread id reused
 * after exit always lands in a fresh (slot, generation): two threads' events never mix in one ring.
 *
 * Slot memory is owned by the caller and must outlive every thread that may touch it (the tracer
 * uses a static array, so a thread racing atf_tracer_stop() never writes freed memory). Ring
 * buffers are one anonymous mapping per registry, reserved up front (MAP_NORESERVE): claiming a
 * slot never allocates, and only the pages a ring actually touches cost memory.
 */
#ifndef ATF_PIPELINE_INTERNAL_REGISTRY_H_
#define ATF_PIPELINE_INTERNAL_REGISTRY_H_

#include <stdint.h>

#include "pipeline/internal/ring.h"

#ifdef __cplusplus
extern "C" {
#endif

enum atf_slot_state {
  ATF_SLOT_FREE = 0,
  ATF_SLOT_CLAIMING = 1,
  ATF_SLOT_ACTIVE = 2,
  ATF_SLOT_EXITING = 3
};

typedef struct atf_slot {
  atf_ring ring;
  /* Written by the owning thread on every event, and only by it: counters are atomics so the drain
   * may read them, but the owner updates them with a plain load and store (no read-modify-write).
   */
  alignas(ATF_CACHE_LINE) int32_t tid;
  uint64_t last_timestamp_ns;     /* keeps the thread's timestamps non-decreasing */
  ATF_ATOMIC(uint64_t) produced;  /* events the thread tried to record */
  ATF_ATOMIC(uint64_t) dropped;   /* of those, dropped (ring full, call subtree, too big, ...) */
  ATF_ATOMIC(uint64_t) unmatched; /* of dropped: returns whose call this session never recorded */
  /* Events of signal handlers that interrupted one of the owner's records: produced and dropped
   * (read-modify-write: handlers may nest). */
  ATF_ATOMIC(uint64_t) nested_dropped;
  /* The owner's "in a record" flag (bit 0) lives in its thread-local storage; the tracer sets this
   * pointer when the slot is claimed and reads it when stopping (both under its lifecycle lock). */
  ATF_ATOMIC(uint32_t) * owner_busy;
  /* Read by the drain worker on every pass; written on claim and free. */
  alignas(ATF_CACHE_LINE) ATF_ATOMIC(uint32_t) state;
  ATF_ATOMIC(uint32_t) generation; /* bumped on every claim */
  ATF_ATOMIC(uint64_t) written;    /* drained and accepted by the sink (drain worker only) */
  ATF_ATOMIC(uint64_t) lost;       /* drained but refused by a failed sink (drain worker only) */
  int prefaulted;                  /* ring pages populated this session (drain worker only) */
} atf_slot;

typedef struct atf_registry {
  atf_slot *slots;
  uint32_t nslots;
  uint32_t ring_bytes;
  ATF_ATOMIC(uint32_t) high_water; /* slots[0, high_water) have ever been claimed */
  unsigned char *ring_mem;
  size_t ring_mem_bytes;
  ATF_ATOMIC(uint64_t) noslot_dropped; /* events dropped because every slot was in use */
} atf_registry;

/* Initialises `nslots` slots (all FREE) and maps their rings.
 * REQUIRES: nslots >= 1; atf_ring_capacity_ok(ring_bytes). Returns 0, or -1 (errno set). */
int atf_registry_init(atf_registry *reg, atf_slot *slots, uint32_t nslots, uint32_t ring_bytes);

/* Unmaps the rings. REQUIRES: no thread uses any slot's ring any more. */
void atf_registry_destroy(atf_registry *reg);

/* Claims a FREE slot for thread `tid`, or NULL when all are in use. Lock-free. */
atf_slot *atf_registry_claim(atf_registry *reg, int32_t tid);

/* Owner's exit hook: after this the owner never touches the slot again. */
void atf_registry_mark_exiting(atf_slot *s);

/* Drain worker: makes a drained slot reusable. REQUIRES: state EXITING (or the session is
 * stopping) and the ring drained. */
void atf_registry_free(atf_slot *s);

/* Drain worker: populates the slot's ring pages once per session (Linux MADV_POPULATE_WRITE,
 * else nothing), so the traced thread does not take a page fault per 4 KiB of its first lap. Safe
 * while the owner writes: populating never changes the contents. */
void atf_registry_prefault(atf_slot *s);

/* Slots [0, result) may be in use. */
uint32_t atf_registry_high_water(atf_registry *reg);

#ifdef __cplusplus
}
#endif

#endif /* ATF_PIPELINE_INTERNAL_REGISTRY_H_ */
