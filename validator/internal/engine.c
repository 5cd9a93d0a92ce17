/* See engine.h. The comparison of ATF_ENGINE_BOTH: each engine's visitor output is folded into one
 * FNV-1a hash per text field (ATF_TEXT_*) plus one for register values, each fed the occurrences
 * of that field in order, an occurrence's bytes followed by its length; a register value follows
 * its name in the register-name hash. So the hashes do not depend on how the nanopb engine chunks
 * a long field, nor on the order in which an engine visits different fields (the upb engine visits
 * payload field by field, the nanopb engine in wire order), only on the values. */
#include "validator/internal/engine.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull

atf_engine_tamper_fn atf_engine_test_tamper = NULL;

static const char *const kNames[] = {"upb", "nanopb", "both"};

const char *atf_engine_name(atf_engine_kind kind) {
  return (unsigned)kind < sizeof kNames / sizeof kNames[0] ? kNames[kind] : NULL;
}

bool atf_engine_parse(const char *text, atf_engine_kind *kind) {
  for (unsigned i = 0; i < sizeof kNames / sizeof kNames[0]; ++i) {
    if (strcmp(text, kNames[i]) == 0) {
      *kind = (atf_engine_kind)i;
      return true;
    }
  }
  return false;
}

bool atf_engine_init(atf_engine *e, atf_engine_kind kind) {
  memset(e, 0, sizeof *e);
  e->kind = kind;
  if (kind == ATF_ENGINE_NANOPB) return true;
  e->upb = atf_upb_engine_new(ATF_ENGINE_UPB_ARENA_LIMIT);
  return e->upb != NULL;
}

void atf_engine_free(atf_engine *e) {
  atf_upb_engine_free(e->upb);
  e->upb = NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Value hashes (ATF_ENGINE_BOTH). */

typedef struct value_hash {
  uint64_t text[ATF_TEXT_FIELD_COUNT];
  uint64_t occurrence_len[ATF_TEXT_FIELD_COUNT];
  const atf_event_visitor *forward; /* the caller's visitor, or NULL */
} value_hash;

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * FNV_PRIME;
  return h;
}

static void hash_text(void *ctx, atf_text_field field, const uint8_t *data, size_t len,
                      unsigned flags) {
  value_hash *h = ctx;
  if ((unsigned)field < ATF_TEXT_FIELD_COUNT) {
    if (flags & ATF_CHUNK_FIRST) h->occurrence_len[field] = 0;
    h->text[field] = fnv(h->text[field], data, len);
    h->occurrence_len[field] += len;
    if (flags & ATF_CHUNK_LAST) {
      const uint64_t n = h->occurrence_len[field];
      h->text[field] = fnv(h->text[field], (const uint8_t *)&n, sizeof n);
    }
  }
  if (h->forward != NULL && h->forward->text != NULL)
    h->forward->text(h->forward->ctx, field, data, len, flags);
}

static void hash_reg(void *ctx, uint64_t value) {
  value_hash *h = ctx;
  h->text[ATF_TEXT_REGISTER_NAME] =
      fnv(h->text[ATF_TEXT_REGISTER_NAME], (const uint8_t *)&value, sizeof value);
  if (h->forward != NULL && h->forward->reg != NULL) h->forward->reg(h->forward->ctx, value);
}

static void value_hash_init(value_hash *h, const atf_event_visitor *forward) {
  for (int i = 0; i < ATF_TEXT_FIELD_COUNT; ++i) h->text[i] = FNV_OFFSET, h->occurrence_len[i] = 0;
  h->forward = forward;
}

/* ---------------------------------------------------------------------------------------------
 * Decoding. */

/* The upb engine on [off, off + len) of r, or *fallback when it cannot decode it (larger than the
 * window, or its limit). Returns its verdict otherwise; false with rule "io" on a read error. */
static bool upb_decode(atf_engine *e, atf_reader *r, uint64_t off, uint64_t len,
                       const atf_event_visitor *visitor, atf_event *ev, atf_decode_error *err,
                       bool *fallback) {
  *fallback = false;
  if (r->fd >= 0 && len > r->cap) {
    *fallback = true;
    return false;
  }
  const uint8_t *p = len > 0 ? atf_reader_get(r, off, (size_t)len) : NULL;
  if (len > 0 && p == NULL) {
    memset(ev, 0, sizeof *ev);
    err->rule = "io";
    err->offset = off;
    err->message[0] = '\0';
    return false;
  }
  const bool ok = atf_upb_decode_record(e->upb, p, (size_t)len, off, visitor, ev, err);
  if (!ok && strcmp(err->rule, ATF_UPB_RULE_LIMIT) == 0) *fallback = true;
  return ok;
}

static bool same_event(const atf_event *a, const atf_event *b) {
  return a->event_id == b->event_id && a->thread_id == b->thread_id && a->seconds == b->seconds &&
         a->nanos == b->nanos && a->time_ns == b->time_ns && a->payload == b->payload &&
         a->exit_code == b->exit_code && a->address == b->address &&
         a->signal_number == b->signal_number && a->unknown_fields == b->unknown_fields;
}

__attribute__((format(printf, 5, 6))) static bool disagree(atf_engine *e, uint64_t off,
                                                           atf_event *ev, atf_decode_error *err,
                                                           const char *fmt, ...) {
  e->disagreements++;
  memset(ev, 0, sizeof *ev);
  err->rule = ATF_ENGINE_RULE_DISAGREE;
  err->offset = off;
  err->message[0] = '\0';
  if (!err->quiet) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return false;
}

static const char *kFieldNames[ATF_TEXT_FIELD_COUNT] = {
    "executable_path",    "args", "operating_system", "cpu_architecture", "symbol",
    "stack_shallow_copy", "name", "registers"};

static bool decode_both(atf_engine *e, atf_reader *r, uint64_t off, uint64_t len,
                        const atf_event_visitor *visitor, atf_event *ev, atf_decode_error *err) {
  value_hash hu, hn;
  value_hash_init(&hu, visitor);
  value_hash_init(&hn, NULL);
  const atf_event_visitor vu = {&hu, hash_text, hash_reg};
  const atf_event_visitor vn = {&hn, hash_text, hash_reg};
  bool fallback;
  const bool quiet = err->quiet;
  bool ok_u = upb_decode(e, r, off, len, &vu, ev, err, &fallback);
  if (fallback) {
    e->fallbacks++;
    err->quiet = quiet;
    return atf_decode_record(r, off, len, visitor, ev, err);
  }
  if (!ok_u && strcmp(err->rule, "io") == 0) return false;
  if (atf_engine_test_tamper != NULL) atf_engine_test_tamper(ev, err, &ok_u, hu.text);
  atf_event ev_n;
  atf_decode_error err_n;
  memset(&err_n, 0, sizeof err_n);
  err_n.quiet = true;
  const bool ok_n = atf_decode_record(r, off, len, &vn, &ev_n, &err_n);
  if (!ok_n && strcmp(err_n.rule, "io") == 0) {
    *err = err_n;
    return false;
  }
  if (ok_u != ok_n) {
    const atf_decode_error *bad = ok_u ? &err_n : err;
    const char *rule = bad->rule;
    const uint64_t at = bad->offset;
    return disagree(e, off, ev, err,
                    "upb engine: %s, nanopb engine: %s (rule %s at offset %" PRIu64 ")",
                    ok_u ? "valid" : "invalid", ok_n ? "valid" : "invalid", rule, at);
  }
  if (!ok_u) {
    if (strcmp(err->rule, err_n.rule) == 0 && err->offset == err_n.offset) return false;
    const char *rule_u = err->rule;
    const uint64_t at_u = err->offset;
    return disagree(e, off, ev, err,
                    "both engines reject the record, upb with %s at offset %" PRIu64
                    ", nanopb with %s at offset %" PRIu64,
                    rule_u, at_u, err_n.rule, err_n.offset);
  }
  if (!same_event(ev, &ev_n)) {
    const atf_event u = *ev;
    return disagree(e, off, ev, err,
                    "fixed fields differ: upb event_id %" PRIu64 " thread %d time %" PRIu64
                    " payload %d, nanopb event_id %" PRIu64 " thread %d time %" PRIu64
                    " payload %d",
                    u.event_id, (int)u.thread_id, u.time_ns, (int)u.payload, ev_n.event_id,
                    (int)ev_n.thread_id, ev_n.time_ns, (int)ev_n.payload);
  }
  for (int i = 0; i < ATF_TEXT_FIELD_COUNT; ++i) {
    if (hu.text[i] != hn.text[i]) {
      return disagree(e, off, ev, err, "the engines decoded different %s values", kFieldNames[i]);
    }
  }
  return true;
}

bool atf_engine_decode(atf_engine *e, atf_reader *r, uint64_t off, uint64_t len,
                       const atf_event_visitor *visitor, atf_event *ev, atf_decode_error *err) {
  if (e->kind == ATF_ENGINE_NANOPB) return atf_decode_record(r, off, len, visitor, ev, err);
  if (e->kind == ATF_ENGINE_BOTH) return decode_both(e, r, off, len, visitor, ev, err);
  bool fallback;
  const bool ok = upb_decode(e, r, off, len, visitor, ev, err, &fallback);
  if (!fallback) return ok;
  e->fallbacks++;
  return atf_decode_record(r, off, len, visitor, ev, err);
}
