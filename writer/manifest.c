/* trace.json rendering and atomic write: see internal/manifest.h. */
#include "writer/internal/manifest.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "writer/internal/fileio.h"

#define WRITER_NAME "atf-writer " ATF_WRITER_VERSION

/* Adds an exact integer: the decimal text goes into the file verbatim. */
static int add_u64(cJSON *obj, const char *key, uint64_t v) {
  char text[24];
  snprintf(text, sizeof text, "%" PRIu64, v);
  return cJSON_AddItemToObject(obj, key, cJSON_CreateRaw(text));
}

static int add_i64(cJSON *obj, const char *key, int64_t v) {
  char text[24];
  snprintf(text, sizeof text, "%" PRId64, v);
  return cJSON_AddItemToObject(obj, key, cJSON_CreateRaw(text));
}

static int add_string(cJSON *obj, const char *key, const char *v) {
  return cJSON_AddItemToObject(obj, key, cJSON_CreateString(v != NULL ? v : ""));
}

/* Fills root; returns 0 on allocation failure (cJSON_AddItemToObject fails on a NULL item). */
static int fill(cJSON *root, const atf_manifest *m) {
  int ok = add_string(root, "formatVersion", "ATF V4") && add_string(root, "writer", WRITER_NAME) &&
           add_string(root, "os", m->os) && add_string(root, "arch", m->arch) &&
           add_i64(root, "pid", m->pid) && add_u64(root, "sessionId", m->session_id) &&
           add_string(root, "executablePath", m->executable_path) &&
           add_string(root, "clock", m->clock) && add_u64(root, "timeStartNs", m->time_start_ns) &&
           add_u64(root, "timeEndNs", m->time_end_ns) &&
           add_u64(root, "eventCount", m->event_count) &&
           add_u64(root, "bytesWritten", m->bytes_written);
  cJSON *modules = ok ? cJSON_AddArrayToObject(root, "modules") : NULL;
  if (modules == NULL) return 0;
  for (size_t i = 0; i < m->n_modules; i++) {
    if (!cJSON_AddItemToArray(modules, cJSON_CreateString(m->modules[i]))) return 0;
  }
  if (!m->has_drops) return 1;
  cJSON *by_thread = add_u64(root, "droppedEvents", m->dropped_events)
                         ? cJSON_AddObjectToObject(root, "droppedEventsByThread")
                         : NULL;
  if (by_thread == NULL) return 0;
  for (size_t i = 0; i < m->n_drops; i++) {
    char tid[16];
    snprintf(tid, sizeof tid, "%" PRId32, m->drops[i].thread_id);
    if (!add_u64(by_thread, tid, m->drops[i].count)) return 0;
  }
  return 1;
}

/* The caller's verbatim members: replacing a member of the same key in place, else appended. */
static int add_members(cJSON *root, const atf_manifest *m) {
  for (size_t i = 0; i < m->n_members; i++) {
    const char *key = m->members[i].key;
    cJSON *raw = cJSON_CreateRaw(m->members[i].json);
    int ok = raw != NULL && (cJSON_GetObjectItemCaseSensitive(root, key) != NULL
                                 ? cJSON_ReplaceItemInObjectCaseSensitive(root, key, raw)
                                 : cJSON_AddItemToObject(root, key, raw));
    if (!ok) {
      cJSON_Delete(raw); /* allocation failure: not reproducible in a test */
      return 0;
    }
  }
  return 1;
}

char *atf_manifest_render(const atf_manifest *m) {
  cJSON *root = cJSON_CreateObject();
  char *text = root != NULL && fill(root, m) && add_members(root, m) ? cJSON_Print(root) : NULL;
  cJSON_Delete(root);
  if (text == NULL) return NULL;
  /* End the file with a newline, as text files do. */
  const size_t n = strlen(text);
  char *json = malloc(n + 2);
  if (json != NULL) {
    memcpy(json, text, n);
    memcpy(json + n, "\n", 2);
  }
  cJSON_free(text);
  return json;
}

void atf_manifest_free(char *json) { free(json); }

/* dir + "/" + name into a fresh string, or NULL. */
static char *join(const char *dir, const char *name) {
  size_t n = strlen(dir) + 1 + strlen(name) + 1;
  char *p = malloc(n);
  if (p != NULL) snprintf(p, n, "%s/%s", dir, name);
  return p;
}

atf_writer_status atf_manifest_write(const atf_file_ops *ops, const char *dir, const char *json,
                                     size_t len, int *err) {
  char *tmp = join(dir, "trace.json.tmp");
  char *final_path = join(dir, "trace.json");
  int e = 0, fd = -1, created = 0;
  size_t done;
  if (tmp == NULL || final_path == NULL) {
    e = ENOMEM;
  } else if ((fd = ops->open(ops->ctx, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                             0644)) < 0) {
    e = errno != 0 ? errno : EIO;
  } else {
    created = 1;
    e = atf_write_all(ops, fd, json, len, &done);
    if (e == 0) e = atf_fsync_retry(ops, fd);
    if (ops->close(ops->ctx, fd) != 0 && e == 0 && errno != EINTR) e = errno;
    if (e == 0) e = atf_rename_retry(ops, tmp, final_path);
    if (e == 0) created = 0; /* the temporary name is gone */
    if (e == 0) e = atf_fsync_dir(ops, dir);
  }
  if (created) ops->unlink(ops->ctx, tmp);
  free(tmp);
  free(final_path);
  *err = e;
  return e == 0 ? ATF_WRITER_OK : atf_status_from_errno(e);
}
