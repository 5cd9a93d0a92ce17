/* The writer's module and drop tables, filled from any thread under `lock`, and the manifest
 * rendered from them and the writer's counters at finalize. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "writer/internal/modules.h"
#include "writer/internal/writer_impl.h"

/* REQUIRES: w->lock held. Ignores duplicates (case-insensitively: stored lowercase). */
static void add_module_locked(atf_writer *w, const char *uuid, atf_writer_status *st) {
  char lower[ATF_UUID_STRING_SIZE];
  for (size_t i = 0; i < ATF_UUID_STRING_SIZE; i++) {
    lower[i] = (uuid[i] >= 'A' && uuid[i] <= 'F') ? (char)(uuid[i] - 'A' + 'a') : uuid[i];
  }
  for (size_t i = 0; i < w->n_modules; i++) {
    if (strcmp(w->modules[i], lower) == 0) return;
  }
  if (w->n_modules == w->cap_modules) {
    size_t cap = w->cap_modules ? 2 * w->cap_modules : 16;
    char **m = realloc(w->modules, cap * sizeof *m);
    if (m == NULL) {
      *st = ATF_WRITER_E_NO_MEMORY;
      return;
    }
    w->modules = m;
    w->cap_modules = cap;
  }
  if ((w->modules[w->n_modules] = strdup(lower)) == NULL) {
    *st = ATF_WRITER_E_NO_MEMORY;
    return;
  }
  w->n_modules++;
}

void atf_tables_on_module(void *ctx, const char *uuid) {
  atf_writer *w = (atf_writer *)ctx;
  atf_writer_status st = ATF_WRITER_OK;
  pthread_mutex_lock(&w->lock);
  add_module_locked(w, uuid, &st);
  pthread_mutex_unlock(&w->lock);
}

atf_writer_status atf_writer_add_module(atf_writer *w, const char *uuid) {
  if (w == NULL || uuid == NULL || !atf_uuid_valid(uuid)) return ATF_WRITER_E_INVALID_ARGUMENT;
  atf_writer_status st = atf_writer_check_open(w);
  if (st != ATF_WRITER_OK) return st;
  pthread_mutex_lock(&w->lock);
  add_module_locked(w, uuid, &st);
  pthread_mutex_unlock(&w->lock);
  return st;
}

atf_writer_status atf_writer_record_drops(atf_writer *w, int32_t thread_id, uint64_t count) {
  if (w == NULL) return ATF_WRITER_E_INVALID_ARGUMENT;
  atf_writer_status st = atf_writer_check_open(w);
  if (st != ATF_WRITER_OK) return st;
  pthread_mutex_lock(&w->lock);
  size_t i = 0;
  while (i < w->n_drops && w->drops[i].thread_id != thread_id) i++;
  if (i == w->n_drops && w->n_drops == w->cap_drops) {
    size_t cap = w->cap_drops ? 2 * w->cap_drops : 16;
    atf_thread_drops *d = realloc(w->drops, cap * sizeof *d);
    if (d == NULL) st = ATF_WRITER_E_NO_MEMORY;
    if (d != NULL) w->drops = d, w->cap_drops = cap;
  }
  if (st == ATF_WRITER_OK) {
    if (i == w->n_drops) w->drops[w->n_drops++] = (atf_thread_drops){thread_id, 0};
    uint64_t *c = &w->drops[i].count; /* saturating: a count must never wrap to small */
    *c = *c > UINT64_MAX - count ? UINT64_MAX : *c + count;
    w->dropped_events =
        w->dropped_events > UINT64_MAX - count ? UINT64_MAX : w->dropped_events + count;
    w->has_drops = 1;
  }
  pthread_mutex_unlock(&w->lock);
  return st;
}

atf_writer_status atf_tables_write_manifest(atf_writer *w) {
  pthread_mutex_lock(&w->lock);
  atf_manifest m = {
      .os = w->os,
      .arch = atf_arch_name(w->arch),
      .pid = w->pid,
      .session_id = w->session_id,
      .executable_path = w->executable_path,
      .clock = w->clock_name,
      .time_start_ns = w->min_ts,
      .time_end_ns = w->max_ts,
      .event_count = w->committed_events,
      .bytes_written = w->committed_bytes,
      .modules = (const char *const *)w->modules,
      .n_modules = w->n_modules,
      .has_drops = w->has_drops,
      .dropped_events = w->dropped_events,
      .drops = w->drops,
      .n_drops = w->n_drops,
  };
  char *json = atf_manifest_render(&m);
  pthread_mutex_unlock(&w->lock);
  if (json == NULL) return ATF_WRITER_E_NO_MEMORY;
  int err = 0;
  atf_writer_status st = atf_manifest_write(w->ops, w->session_dir, json, strlen(json), &err);
  atf_manifest_free(json);
  if (st != ATF_WRITER_OK) {
    if (err == 0) err = ENOMEM;
    atf_writer_fail(w, err);
  }
  return st;
}
