#include "validator/internal/manifest.h"

#include <stdio.h>
#include <string.h>

#include "validator/internal/json_reader.h"

typedef struct checker {
  const atf_json_doc *doc;
  atf_manifest_error_fn on_error;
  void *ctx;
} checker;

static void report(const checker *c, size_t offset, const char *rule, const char *fmt,
                   const char *key) {
  char msg[160];
  snprintf(msg, sizeof msg, fmt, key);
  c->on_error(c->ctx, offset, rule, msg);
}

static const char *type_name(atf_json_type t) {
  static const char *const kNames[] = {"null",     "false",    "true",     "a number",
                                       "a string", "an array", "an object"};
  return kNames[t];
}

/* The member's node, or NULL when absent (reported when required). */
static const atf_json_node *member(const checker *c, const char *key, bool required) {
  const size_t v = atf_json_get(c->doc, 0, key);
  if (v == ATF_JSON_NONE) {
    if (required)
      report(c, c->doc->nodes[0].offset, "manifest.missing_key", "required key \"%s\" missing",
             key);
    return NULL;
  }
  return &c->doc->nodes[v];
}

static void wrong_type(const checker *c, const atf_json_node *n, const char *key,
                       const char *want) {
  char msg[160];
  snprintf(msg, sizeof msg, "\"%s\" must be %s, not %s", key, want, type_name(n->type));
  c->on_error(c->ctx, n->offset, "manifest.type", msg);
}

static void get_uint(const checker *c, const char *key, bool required, atf_manifest_uint *out) {
  const atf_json_node *n = member(c, key, required);
  if (n == NULL) return;
  if (n->type != ATF_JSON_NUMBER) {
    wrong_type(c, n, key, "a non-negative integer");
    return;
  }
  if (!n->is_uint64) {
    char msg[200];
    const char *why = n->negative   ? "is negative"
                      : n->overflow ? "exceeds 2^64-1"
                                    : "is not an integer";
    snprintf(msg, sizeof msg, "\"%s\" %s: %.*s", key, why, (int)(n->len > 40 ? 40 : n->len),
             n->text);
    c->on_error(c->ctx, n->offset, "manifest.range", msg);
    return;
  }
  out->present = true;
  out->value = n->u64;
  out->offset = n->offset;
}

static void check_string(const checker *c, const char *key) {
  const atf_json_node *n = member(c, key, true);
  if (n != NULL && n->type != ATF_JSON_STRING) wrong_type(c, n, key, "a string");
}

static bool is_uuid(const char *s, size_t len) {
  /* 8-4-4-4-12 hexadecimal digits, either case. */
  if (len != 36) return false;
  for (size_t i = 0; i < len; ++i) {
    const char ch = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (ch != '-') return false;
    } else if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
                 (ch >= 'A' && ch <= 'F'))) {
      return false;
    }
  }
  return true;
}

static void check_modules(const checker *c) {
  const atf_json_node *n = member(c, "modules", true);
  if (n == NULL) return;
  if (n->type != ATF_JSON_ARRAY) {
    wrong_type(c, n, "modules", "an array of UUID strings");
    return;
  }
  for (size_t i = n->first; i != ATF_JSON_NONE; i = c->doc->nodes[i].next) {
    const atf_json_node *e = &c->doc->nodes[i];
    if (e->type != ATF_JSON_STRING) {
      wrong_type(c, e, "modules[]", "a UUID string");
    } else if (!is_uuid(e->text, e->len)) {
      c->on_error(c->ctx, e->offset, "manifest.uuid",
                  "\"modules\" entry is not a UUID (8-4-4-4-12 hex digits)");
    }
  }
}

bool atf_manifest_check(const char *data, size_t len, atf_manifest *out,
                        atf_manifest_error_fn on_error, void *ctx) {
  memset(out, 0, sizeof *out);
  atf_json_doc doc;
  const atf_json_status st = atf_json_parse(data, len, &doc);
  if (st == ATF_JSON_NO_MEMORY) { /* allocation failure in the reader: not reproducible in a test */
    atf_json_free(&doc);
    return false;
  }
  if (st != ATF_JSON_OK) {
    on_error(ctx, doc.error_offset,
             st == ATF_JSON_DUPLICATE_KEY ? "manifest.duplicate_key" : "manifest.json", doc.error);
    atf_json_free(&doc);
    return true;
  }
  const checker c = {&doc, on_error, ctx};
  if (doc.nodes[0].type != ATF_JSON_OBJECT) {
    wrong_type(&c, &doc.nodes[0], "trace.json", "an object");
    atf_json_free(&doc);
    return true;
  }
  check_string(&c, "os");
  check_string(&c, "arch");
  get_uint(&c, "pid", true, &out->pid);
  get_uint(&c, "sessionId", true, &out->session_id);
  get_uint(&c, "timeStartNs", true, &out->time_start_ns);
  get_uint(&c, "timeEndNs", true, &out->time_end_ns);
  get_uint(&c, "eventCount", true, &out->event_count);
  get_uint(&c, "bytesWritten", true, &out->bytes_written);
  check_modules(&c);
  get_uint(&c, "droppedEvents", false, &out->dropped_events);
  const atf_json_node *rec = member(&c, "recovered", false);
  if (rec != NULL) {
    if (rec->type == ATF_JSON_TRUE || rec->type == ATF_JSON_FALSE) {
      out->has_recovered = true;
      out->recovered = rec->type == ATF_JSON_TRUE;
    } else {
      wrong_type(&c, rec, "recovered", "true or false");
    }
  }
  if (out->time_start_ns.present && out->time_end_ns.present &&
      out->time_start_ns.value > out->time_end_ns.value) {
    on_error(ctx, out->time_end_ns.offset, "manifest.time_range",
             "timeEndNs is before timeStartNs");
  }
  atf_json_free(&doc);
  return true;
}
