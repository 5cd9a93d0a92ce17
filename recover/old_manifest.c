/* recover/old_manifest.c: see old_manifest.h. */
#include "recover/old_manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validator/internal/json_reader.h"
#include "validator/internal/manifest.h"

/* Offsets of the checker's errors in the text. */
typedef struct faults {
  uint64_t *at;
  size_t n, cap;
  int oom;
  char first[256];
} faults;

static void note_fault(void *ctx, uint64_t offset, const char *rule, const char *message) {
  faults *f = ctx;
  if (f->n == 0 && f->first[0] == '\0')
    snprintf(f->first, sizeof f->first, "%s: %s", rule, message);
  if (f->n == f->cap) {
    const size_t cap = f->cap ? f->cap * 2 : 16;
    uint64_t *at = realloc(f->at, cap * sizeof *at);
    if (at == NULL) { /* not reproducible in a test */
      f->oom = 1;
      return;
    }
    f->at = at;
    f->cap = cap;
  }
  f->at[f->n++] = offset;
}

static int faulty(const faults *f, size_t begin, size_t end) {
  for (size_t i = 0; i < f->n; i++) {
    if (f->at[i] >= begin && f->at[i] < end) return 1;
  }
  return 0;
}

static char *copy(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (p != NULL) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

int recover_old_manifest_read(const char *data, size_t len, recover_old_manifest *out) {
  memset(out, 0, sizeof *out);
  faults f = {0};
  atf_manifest checked;
  if (!atf_manifest_check(data, len, &checked, note_fault, &f) || f.oom) { /* not reproducible */
    free(f.at);
    return -1;
  }
  atf_json_doc doc;
  int rc = 0;
  if (atf_json_parse(data, len, &doc) == ATF_JSON_OK && doc.nodes[0].type == ATF_JSON_OBJECT) {
    out->members = calloc(doc.nodes[0].count ? doc.nodes[0].count : 1, sizeof *out->members);
    if (out->members == NULL) rc = -1; /* not reproducible in a test */
    for (size_t k = doc.nodes[0].first; rc == 0 && k != ATF_JSON_NONE; k = doc.nodes[k].next) {
      const atf_json_node *key = &doc.nodes[k];
      const atf_json_node *value = &doc.nodes[key->value];
      if (memchr(key->text, '\0', key->len) != NULL || faulty(&f, value->offset, value->end))
        continue;
      recover_member *m = &out->members[out->n];
      m->key = copy(key->text, key->len);
      m->json = copy(data + value->offset, value->end - value->offset);
      if (m->key == NULL || m->json == NULL) rc = -1; /* not reproducible in a test */
      out->n++;
    }
  }
  atf_json_free(&doc);
  free(f.at);
  if (rc != 0) recover_old_manifest_free(out);
  return rc;
}

void recover_old_manifest_free(recover_old_manifest *m) {
  for (size_t i = 0; i < m->n; i++) {
    free(m->members[i].key);
    free(m->members[i].json);
  }
  free(m->members);
  memset(m, 0, sizeof *m);
}

const recover_member *recover_old_manifest_get(const recover_old_manifest *m, const char *key) {
  for (size_t i = 0; i < m->n; i++) {
    if (strcmp(m->members[i].key, key) == 0) return &m->members[i];
  }
  return NULL;
}

int recover_member_u64(const recover_member *member, uint64_t *value) {
  atf_json_doc doc;
  const size_t n = strlen(member->json);
  const int ok = atf_json_parse(member->json, n, &doc) == ATF_JSON_OK &&
                 doc.nodes[0].type == ATF_JSON_NUMBER && doc.nodes[0].is_uint64;
  if (ok) *value = doc.nodes[0].u64;
  atf_json_free(&doc);
  return ok;
}

/* Like note_fault, but the rules that compare with events.bin are the caller's. */
static void note_own_fault(void *ctx, uint64_t offset, const char *rule, const char *message) {
  if (strcmp(rule, "manifest.time_range") == 0) return;
  note_fault(ctx, offset, rule, message);
}

int recover_manifest_check(const char *json, size_t len, char *why, size_t why_size) {
  faults f = {0};
  atf_manifest checked;
  const int ran = atf_manifest_check(json, len, &checked, note_own_fault, &f);
  const int ok = ran && f.n == 0 && !f.oom;
  snprintf(why, why_size, "%s", ok ? "" : f.first[0] ? f.first : "out of memory");
  free(f.at);
  return ok;
}
