/* call_tree.c: see call_tree.h. Each thread's stored open calls form a linked stack in one shared
 * pool (index + 1 links, 0 = none); freed entries go on a free list, so the pool never holds more
 * than the open calls stored at the busiest moment. */
#include "validator/internal/call_tree.h"

#include <stdlib.h>
#include <string.h>

struct atf_call_tree_state {
  int32_t tid;
  uint32_t top;    /* innermost stored entry: index + 1, 0 = none */
  uint64_t depth;  /* open calls, stored or not */
  uint64_t stored; /* of them, the bottom ones whose address is in the pool */
  uint64_t last_ns;
};

struct atf_call_tree_entry {
  uint64_t address;
  uint32_t below; /* the entry under it (or the next free one): index + 1, 0 = none */
};

void atf_call_tree_init(atf_call_tree *t, uint32_t max_threads, uint32_t max_open, uint64_t seed) {
  memset(t, 0, sizeof *t);
  if (max_threads == 0 || max_threads > ATF_CALL_TREE_MAX_THREADS)
    max_threads = ATF_CALL_TREE_MAX_THREADS;
  if (max_open == 0 || max_open > ATF_CALL_TREE_MAX_OPEN) max_open = ATF_CALL_TREE_MAX_OPEN;
  atf_thread_table_init(&t->table, max_threads, seed);
  t->max_open = max_open;
}

void atf_call_tree_free(atf_call_tree *t) {
  atf_thread_table_free(&t->table);
  free(t->states);
  free(t->pool);
  memset(t, 0, sizeof *t);
}

/* The state of `tid`, created when new, its latest time updated; NULL when the table is full
 * (threads_capped) or memory ran out (*oom). */
static atf_call_tree_state *lookup(atf_call_tree *t, int32_t tid, uint64_t time_ns, bool *oom) {
  bool is_new = false;
  atf_thread_slot *slot = atf_thread_table_find(&t->table, tid, &is_new, oom);
  if (slot == NULL) {
    if (!*oom) t->threads_capped = true;
    return NULL;
  }
  if (slot->aux == 0) {
    if (t->nstates == t->states_cap) { /* at most table.max states: the table caps the threads */
      const size_t cap = t->states_cap ? t->states_cap * 2 : 16;
      atf_call_tree_state *s = realloc(t->states, cap * sizeof *s);
      if (s == NULL) return *oom = true, NULL;
      t->states = s;
      t->states_cap = cap;
    }
    atf_call_tree_state *s = &t->states[t->nstates++];
    memset(s, 0, sizeof *s);
    s->tid = tid;
    s->last_ns = time_ns;
    slot->aux = (uint32_t)t->nstates;
  }
  atf_call_tree_state *s = &t->states[slot->aux - 1];
  if (time_ns > s->last_ns) s->last_ns = time_ns;
  return s;
}

/* A free pool entry (index + 1), 0 when the pool is at max_open; *oom when growing it failed. */
static uint32_t take_entry(atf_call_tree *t, bool *oom) {
  if (t->free_list != 0) {
    const uint32_t e = t->free_list;
    t->free_list = t->pool[e - 1].below;
    return e;
  }
  if (t->pool_len == t->max_open) return 0;
  if (t->pool_len == t->pool_cap) {
    uint32_t cap = t->pool_cap ? t->pool_cap * 2 : 64;
    if (cap > t->max_open) cap = t->max_open;
    atf_call_tree_entry *p = realloc(t->pool, (size_t)cap * sizeof *p);
    if (p == NULL) return *oom = true, 0;
    t->pool = p;
    t->pool_cap = cap;
  }
  return ++t->pool_len;
}

atf_call_tree_step atf_call_tree_call(atf_call_tree *t, int32_t tid, uint64_t address,
                                      uint64_t time_ns) {
  bool oom = false;
  atf_call_tree_state *s = lookup(t, tid, time_ns, &oom);
  if (s == NULL) return oom ? ATF_CALL_TREE_NOMEM : ATF_CALL_TREE_UNTRACKED;
  /* Stored entries are the bottom of the stack: a call above unstored ones is not stored either. */
  const uint32_t e = s->depth == s->stored ? take_entry(t, &oom) : 0;
  if (oom) return ATF_CALL_TREE_NOMEM;
  s->depth++;
  if (e == 0) {
    t->capped = true;
    return ATF_CALL_TREE_OPENED_DEPTH;
  }
  t->pool[e - 1].address = address;
  t->pool[e - 1].below = s->top;
  s->top = e;
  s->stored++;
  t->open_entries++;
  return ATF_CALL_TREE_OPENED;
}

atf_call_tree_step atf_call_tree_return(atf_call_tree *t, int32_t tid, uint64_t address,
                                        uint64_t time_ns, uint64_t *innermost) {
  bool oom = false;
  *innermost = 0;
  atf_call_tree_state *s = lookup(t, tid, time_ns, &oom);
  if (s == NULL) return oom ? ATF_CALL_TREE_NOMEM : ATF_CALL_TREE_UNTRACKED;
  if (s->depth == 0) return ATF_CALL_TREE_UNMATCHED;
  s->depth--;
  if (s->depth >= s->stored) { /* it closes a call that was only counted */
    t->unchecked++;
    return ATF_CALL_TREE_CLOSED_DEPTH;
  }
  const uint32_t e = s->top;
  atf_call_tree_entry *entry = &t->pool[e - 1];
  *innermost = entry->address;
  s->top = entry->below;
  s->stored--;
  entry->below = t->free_list;
  t->free_list = e;
  t->open_entries--;
  return *innermost == address ? ATF_CALL_TREE_CLOSED : ATF_CALL_TREE_MISMATCH;
}

bool atf_call_tree_would_close(atf_call_tree *t, int32_t tid, uint64_t address) {
  bool oom = false;
  const atf_call_tree_state *s = lookup(t, tid, 0, &oom); /* time 0: the latest time stays */
  if (s == NULL) return true;                             /* not tracked: not checked */
  if (s->depth == 0) return false;
  if (s->depth > s->stored) return true; /* closes a call that was only counted */
  return t->pool[s->top - 1].address == address;
}

bool atf_call_tree_note(atf_call_tree *t, int32_t tid, uint64_t time_ns, bool *oom) {
  return lookup(t, tid, time_ns, oom) != NULL;
}

uint64_t atf_call_tree_latest(atf_call_tree *t, int32_t tid) {
  bool oom = false;
  const atf_call_tree_state *s = lookup(t, tid, 0, &oom);
  return s != NULL ? s->last_ns : 0;
}

size_t atf_call_tree_threads(const atf_call_tree *t) { return t->nstates; }

atf_call_tree_thread_info atf_call_tree_thread(const atf_call_tree *t, size_t i) {
  const atf_call_tree_state *s = &t->states[i];
  const atf_call_tree_thread_info info = {s->tid, s->depth, s->last_ns};
  return info;
}
