/* The address cache's C API for addr_cache_test.cc (C++ cannot include <stdatomic.h>). */
#include <stdlib.h>

#include "instrument/internal/addr_cache.h"

atf_addr_cache *shim_new(size_t expected) {
  atf_addr_cache *c = calloc(1, sizeof *c);
  if (c != NULL && atf_addr_cache_init(c, expected) != 0) {
    free(c);
    c = NULL;
  }
  return c;
}
uint32_t shim_find(atf_addr_cache *c, uint64_t addr) { return atf_addr_cache_find(c, addr); }
int shim_put(atf_addr_cache *c, uint64_t addr, uint32_t id) {
  return atf_addr_cache_put(c, addr, id);
}
size_t shim_invalidate(atf_addr_cache *c, uint64_t lo, uint64_t hi) {
  return atf_addr_cache_invalidate(c, lo, hi);
}
size_t shim_retired(const atf_addr_cache *c) { return c->nretired; }
void shim_free(atf_addr_cache *c) {
  atf_addr_cache_destroy(c);
  free(c);
}
