/* Symbol table: see internal/symtab.h.
 *
 * Layout: a fixed directory of chunk pointers, each chunk holding ATF_SYMTAB_CHUNK entries; chunks
 * are allocated on demand and never move, so a reader holding an id below the published count can
 * index without a lock. Dedup is a open-addressing hash table of ids keyed on the raw bytes,
 * touched only under the mutex.
 */
#include "writer/internal/symtab.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "writer/internal/utf8.h"

#define CHUNK 4096u
#define DIRECTORY (ATF_SYMTAB_MAX / CHUNK)

typedef struct entry {
  const char *text; /* sanitised, NUL-terminated */
  size_t text_len;
  const uint8_t *raw; /* the bytes interned, for dedup */
  size_t raw_len;
  uint64_t hash;
} entry;

struct atf_symtab {
  pthread_mutex_t lock;
  _Atomic uint32_t count;
  entry *chunks[DIRECTORY];
  uint32_t *slots; /* hash table of ids, 0 = empty */
  size_t n_slots;  /* power of two */
};

static uint64_t hash_bytes(const uint8_t *p, size_t n) { /* FNV-1a */
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

static entry *entry_at(const atf_symtab *t, uint32_t id) {
  return &t->chunks[(id - 1) / CHUNK][(id - 1) % CHUNK];
}

atf_symtab *atf_symtab_new(void) {
  atf_symtab *t = calloc(1, sizeof *t);
  if (t == NULL) return NULL;
  t->n_slots = 1024;
  t->slots = calloc(t->n_slots, sizeof *t->slots);
  if (t->slots == NULL || pthread_mutex_init(&t->lock, NULL) != 0) {
    free(t->slots);
    free(t);
    return NULL;
  }
  atomic_init(&t->count, 0);
  return t;
}

void atf_symtab_free(atf_symtab *t) {
  if (t == NULL) return;
  uint32_t n = atomic_load(&t->count);
  for (uint32_t id = 1; id <= n; id++) free((void *)entry_at(t, id)->text);
  for (size_t c = 0; c < DIRECTORY; c++) free(t->chunks[c]);
  free(t->slots);
  pthread_mutex_destroy(&t->lock);
  free(t);
}

/* Doubles the hash table. REQUIRES: lock held. */
static int grow(atf_symtab *t, uint32_t count) {
  size_t n = t->n_slots * 2;
  uint32_t *slots = calloc(n, sizeof *slots);
  if (slots == NULL) return 0;
  for (uint32_t id = 1; id <= count; id++) {
    size_t i = entry_at(t, id)->hash & (n - 1);
    while (slots[i] != 0) i = (i + 1) & (n - 1);
    slots[i] = id;
  }
  free(t->slots);
  t->slots = slots;
  t->n_slots = n;
  return 1;
}

/* Adds a new entry with the next id. REQUIRES: lock held, room in the table. */
static atf_writer_status add(atf_symtab *t, const uint8_t *raw, size_t len, uint64_t hash,
                             size_t slot, uint32_t *id, uint64_t *replacements) {
  uint32_t count = atomic_load_explicit(&t->count, memory_order_relaxed);
  if (count >= ATF_SYMTAB_MAX) return ATF_WRITER_E_LIMIT;
  size_t chunk = count / CHUNK;
  if (t->chunks[chunk] == NULL && (t->chunks[chunk] = calloc(CHUNK, sizeof(entry))) == NULL) {
    return ATF_WRITER_E_NO_MEMORY;
  }
  size_t text_len = atf_utf8_sanitized_size(raw, len);
  char *block = malloc(text_len + 1 + len); /* text, NUL, raw */
  if (block == NULL) return ATF_WRITER_E_NO_MEMORY;
  *replacements = atf_utf8_sanitize(raw, len, block, NULL);
  if (len > 0) memcpy(block + text_len + 1, raw, len);
  entry *e = &t->chunks[chunk][count % CHUNK];
  e->text = block;
  e->text_len = text_len;
  e->raw = (const uint8_t *)block + text_len + 1;
  e->raw_len = len;
  e->hash = hash;
  t->slots[slot] = count + 1;
  *id = count + 1;
  atomic_store_explicit(&t->count, count + 1, memory_order_release);
  return ATF_WRITER_OK;
}

atf_writer_status atf_symtab_intern(atf_symtab *t, const char *name, size_t len, uint32_t *id,
                                    uint64_t *replacements) {
  const uint8_t *raw = (const uint8_t *)name;
  const uint64_t hash = hash_bytes(raw, len);
  *replacements = 0;
  pthread_mutex_lock(&t->lock);
  uint32_t count = atomic_load_explicit(&t->count, memory_order_relaxed);
  atf_writer_status status = ATF_WRITER_OK;
  if ((size_t)(count + 1) * 2 > t->n_slots && !grow(t, count)) status = ATF_WRITER_E_NO_MEMORY;
  size_t i = hash & (t->n_slots - 1);
  while (status == ATF_WRITER_OK && t->slots[i] != 0) {
    const entry *e = entry_at(t, t->slots[i]);
    if (e->hash == hash && e->raw_len == len && (len == 0 || memcmp(e->raw, raw, len) == 0)) {
      *id = t->slots[i];
      pthread_mutex_unlock(&t->lock);
      return ATF_WRITER_OK;
    }
    i = (i + 1) & (t->n_slots - 1);
  }
  if (status == ATF_WRITER_OK) status = add(t, raw, len, hash, i, id, replacements);
  pthread_mutex_unlock(&t->lock);
  return status;
}

uint32_t atf_symtab_count(const atf_symtab *t) {
  return atomic_load_explicit(&((atf_symtab *)t)->count, memory_order_acquire);
}

const char *atf_symtab_get(const atf_symtab *t, uint32_t id) {
  return id == 0 ? "" : entry_at(t, id)->text;
}

const char *atf_symtab_get_len(const atf_symtab *t, uint32_t id, size_t *len) {
  if (id == 0) {
    *len = 0;
    return "";
  }
  const entry *e = entry_at(t, id);
  *len = e->text_len;
  return e->text;
}
