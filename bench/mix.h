/* mix.h: the benchmarks' standard event mix, as drained ring records.
 *
 * The standard mix (documented in bench/README.md): the writer's TraceStart, then FunctionCall and
 * FunctionReturn in equal numbers with nesting (a seeded random walk of call depth between 1 and
 * 32, every call eventually returned), each FunctionCall with 6 argument registers (x86_64 names)
 * and a 128-byte stack copy, each FunctionReturn with 1 return register (RAX), one SignalDelivery
 * per 100,000 events with a full x86_64 register dump (18 registers), and a TraceEnd at the end.
 * Symbols: 64 names "bench_fn_<i>" interned once. Timestamps increase by 1-100 ns per event,
 * starting at 2026-01-01T00:00:00Z; thread id 4242.
 */
#ifndef ATF_BENCH_MIX_H_
#define ATF_BENCH_MIX_H_

#include <stddef.h>
#include <stdint.h>

#include "writer/atf/ring_record.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BENCH_SYMBOLS 64
#define BENCH_STACK_BYTES 128
#define BENCH_SIGNAL_EVERY 100000

typedef struct bench_mix {
  uint8_t *records; /* atf_ring_record, end to end, 8-byte aligned */
  size_t bytes;
  size_t *offsets; /* offsets[i] = start of event i (not counting TraceStart) */
  size_t events;   /* calls + returns + signals + the final TraceEnd */
  char symbols[BENCH_SYMBOLS][24];
} bench_mix;

/* Builds `events` events (rounded so every call is returned and TraceEnd is last). */
int bench_mix_build(bench_mix *m, size_t events, uint64_t seed);
void bench_mix_free(bench_mix *m);

static inline const atf_ring_record *bench_mix_record(const bench_mix *m, size_t i) {
  return (const atf_ring_record *)(m->records + m->offsets[i]);
}

/* Register names of the mix (x86_64). */
extern const char *const bench_call_regs[6];
extern const char *const bench_return_regs[1];
extern const char *const bench_signal_regs[18];

#ifdef __cplusplus
}
#endif

#endif /* ATF_BENCH_MIX_H_ */
