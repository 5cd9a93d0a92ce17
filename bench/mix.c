#include "bench/mix.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const bench_call_regs[6] = {"RDI", "RSI", "RDX", "RCX", "R8", "R9"};
const char *const bench_return_regs[1] = {"RAX"};
const char *const bench_signal_regs[18] = {"RAX", "RBX", "RCX", "RDX", "RSI", "RDI",
                                           "RBP", "RSP", "R8",  "R9",  "R10", "R11",
                                           "R12", "R13", "R14", "R15", "RIP", "RFLAGS"};

static uint64_t next(uint64_t *s) { /* splitmix64 */
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

int bench_mix_build(bench_mix *m, size_t events, uint64_t seed) {
  memset(m, 0, sizeof *m);
  if (events < 4) events = 4;
  const size_t max_rec = atf_record_size(18, BENCH_STACK_BYTES);
  m->records = aligned_alloc(64, ((events * max_rec) + 63) / 64 * 64);
  m->offsets = malloc(events * sizeof *m->offsets);
  if (!m->records || !m->offsets) {
    bench_mix_free(m);
    return -1;
  }
  for (int i = 0; i < BENCH_SYMBOLS; ++i)
    snprintf(m->symbols[i], sizeof m->symbols[i], "bench_fn_%d", i);

  uint64_t rng = seed;
  uint64_t ts = 1767225600000000000ull; /* 2026-01-01T00:00:00Z */
  uint32_t stack_syms[64];
  uint64_t stack_addr[64];
  int depth = 0;
  size_t off = 0;
  size_t n = 0;
  while (n < events - 1) {
    const size_t left = events - 1 - n;
    atf_ring_record *r = (atf_ring_record *)(m->records + off);
    memset(r, 0, ATF_RECORD_HEADER_SIZE);
    r->thread_id = 4242;
    ts += 1 + next(&rng) % 100;
    r->timestamp_ns = ts;
    /* Every frame still open needs one of the remaining events to return. */
    const int must_return = depth > 0 && (size_t)depth >= left;
    const int can_call = depth < 32 && (size_t)depth + 2 <= left;
    if (!must_return && !can_call && depth == 0) break; /* one slot left, nothing open */
    if ((n + 1) % BENCH_SIGNAL_EVERY == 0 && (size_t)depth < left) {
      r->kind = ATF_KIND_SIGNAL;
      r->value = SIGUSR1;
      r->reg_count = 18;
      for (int i = 0; i < 18; ++i) atf_record_regs(r)[i] = next(&rng);
    } else {
      /* Call when shallow, return when the remaining events are needed to unwind. */
      const int call = !must_return && can_call && (depth == 0 || next(&rng) % 2 == 0);
      if (call) {
        uint32_t sym = 1 + (uint32_t)(next(&rng) % BENCH_SYMBOLS);
        stack_syms[depth] = sym;
        stack_addr[depth] = 0x400000u + 0x40u * sym;
        ++depth;
        r->kind = ATF_KIND_CALL;
        r->symbol_id = sym;
        r->address = 0x400000u + 0x40u * sym;
        r->reg_count = 6;
        r->stack_len = BENCH_STACK_BYTES;
        uint64_t *regs = atf_record_regs(r);
        for (int i = 0; i < 6; ++i) regs[i] = next(&rng) >> (next(&rng) % 64);
        uint8_t *stack = atf_record_stack(r);
        for (int i = 0; i < BENCH_STACK_BYTES; i += 8) {
          uint64_t v = next(&rng);
          memcpy(stack + i, &v, 8);
        }
      } else {
        --depth;
        r->kind = ATF_KIND_RETURN;
        r->symbol_id = stack_syms[depth];
        r->address = stack_addr[depth];
        r->reg_count = 1;
        atf_record_regs(r)[0] = next(&rng) >> (next(&rng) % 64);
      }
    }
    r->size = (uint16_t)atf_record_size(r->reg_count, r->stack_len);
    memset((uint8_t *)r + ATF_RECORD_HEADER_SIZE + 8u * r->reg_count + r->stack_len, 0,
           r->size - (ATF_RECORD_HEADER_SIZE + 8u * r->reg_count + r->stack_len));
    m->offsets[n++] = off;
    off += r->size;
  }
  atf_ring_record *end = (atf_ring_record *)(m->records + off);
  memset(end, 0, ATF_RECORD_HEADER_SIZE);
  end->kind = ATF_KIND_TRACE_END;
  end->size = ATF_RECORD_HEADER_SIZE;
  end->timestamp_ns = ts + 1;
  m->offsets[n++] = off;
  off += end->size;
  m->events = n;
  m->bytes = off;
  return 0;
}

void bench_mix_free(bench_mix *m) {
  free(m->records);
  free(m->offsets);
  memset(m, 0, sizeof *m);
}
