/* baselines.h: the alternatives the writer is measured against, each over the same mix. */
#ifndef ATF_BENCH_BASELINES_H_
#define ATF_BENCH_BASELINES_H_

#include <stddef.h>
#include <stdint.h>

#include "bench/mix.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Each runs once over the whole mix and returns elapsed nanoseconds, or 0 on failure.
 * `sink` receives a checksum so the compiler cannot drop the work. */

/* Fixed-size 208-byte binary records (header, 6 registers, 128 stack bytes) copied into a 1 MiB
 * buffer that is reused when full: the raw format's lower bound, no I/O. */
uint64_t bench_raw_copy(const bench_mix *m, uint64_t *sink);

/* protobuf-c: Event structs filled per event, get_packed_size + pack into a buffer, no I/O. */
uint64_t bench_protobuf_c_pack(const bench_mix *m, uint64_t *sink);

/* The original V4 writer re-created: per event malloc, get_packed_size + pack, write() of the
 * varint length and write() of the message, unbuffered, to `path`; free. */
uint64_t bench_original_v4(const bench_mix *m, size_t events, const char *path, uint64_t *sink);

/* Google's C++ protobuf: one reused Event message filled per event, SerializeToArray into a
 * buffer, no I/O (bench/libprotobuf_baseline.cc). */
uint64_t bench_libprotobuf(const bench_mix *m, uint64_t *sink);

/* Bytes the mix takes as a length-delimited events.bin (via protobuf-c), for bytes_per_event. */
uint64_t bench_encoded_bytes(const bench_mix *m);

uint64_t bench_now_ns(void);

#ifdef __cplusplus
}
#endif

#endif /* ATF_BENCH_BASELINES_H_ */
