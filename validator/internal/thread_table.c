/* See thread_table.h. */
#include "validator/internal/thread_table.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FIRST_CAP 64u

static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void atf_thread_table_init(atf_thread_table *t, size_t max, uint64_t seed) {
  memset(t, 0, sizeof *t);
  t->max = max;
  t->a = splitmix64(&seed) | 1u;
  t->b = splitmix64(&seed);
}

void atf_thread_table_free(atf_thread_table *t) {
  free(t->slots);
  t->slots = NULL;
  t->cap = t->len = 0;
}

/* The top log2(cap) bits of a * x + b (mod 2^64): pairwise independent over random a, b. */
static size_t home(const atf_thread_table *t, int32_t tid) {
  return (size_t)((t->a * (uint64_t)(uint32_t)tid + t->b) >> t->shift);
}

static size_t probe(atf_thread_table *t, int32_t tid) {
  size_t i = home(t, tid);
  while (t->slots[i].used && t->slots[i].tid != tid) {
    i = (i + 1) & (t->cap - 1);
    t->probes++;
  }
  return i;
}

static bool grow(atf_thread_table *t) {
  const size_t cap = t->cap ? t->cap * 2 : FIRST_CAP;
  atf_thread_slot *slots = calloc(cap, sizeof *slots);
  if (slots == NULL) return false; /* at most 3 MiB: not reproducible in a test */
  atf_thread_table bigger = *t;
  bigger.slots = slots;
  bigger.cap = cap;
  bigger.shift = (unsigned)(64 - __builtin_ctzll(cap));
  for (size_t i = 0; i < t->cap; ++i) {
    if (t->slots[i].used) slots[probe(&bigger, t->slots[i].tid)] = t->slots[i];
  }
  free(t->slots);
  *t = bigger;
  return true;
}

atf_thread_slot *atf_thread_table_find(atf_thread_table *t, int32_t tid, bool *is_new, bool *oom) {
  *is_new = false;
  if (t->cap == 0 && !grow(t)) return *oom = true, NULL;
  size_t i = probe(t, tid);
  if (t->slots[i].used) return &t->slots[i];
  if (t->len >= t->max) return NULL;
  if (2 * (t->len + 1) > t->cap) {
    if (!grow(t)) return *oom = true, NULL;
    i = probe(t, tid);
  }
  atf_thread_slot *s = &t->slots[i];
  memset(s, 0, sizeof *s);
  s->used = true;
  s->tid = tid;
  t->len++;
  *is_new = true;
  return s;
}

uint64_t atf_thread_table_random_seed(void) {
  uint64_t seed = 0;
  const int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    const bool ok = read(fd, &seed, sizeof seed) == (ssize_t)sizeof seed;
    close(fd);
    if (ok) return seed;
  }
  /* No /dev/urandom (a bare chroot): the clock and this process's addresses. */
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  uint64_t mix = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)&ts ^
                 (uint64_t)(uintptr_t)&atf_thread_table_random_seed ^ ((uint64_t)getpid() << 16);
  return splitmix64(&mix);
}
