/* fast_encode_inl.h: the single-pass encoder itself (see fast_encode.h for what it produces), as
 * an inline function so that the writer's walk over a batch (atf_encode_hot in
 * writer/internal/encode.h, inlined into writer.c's append_batch) compiles it into its own loop:
 * the event's fields then stay in registers instead of being stored into an atf_fast_event and read
 * back behind a call. fast_encode.c wraps it for everyone else.
 *
 * One pass, front to back, no size pass in the common case. The two lengths that precede their
 * contents (the event's and the payload's) are varints whose WIDTH must be known before the bytes
 * behind them are written; their values are stored once the contents are out. Everything in the
 * payload is known exactly up front except the register values, each of which adds 0 or 2..11
 * bytes to its entry; when the shortest and the longest possible payload (and event) have
 * varints of the same width, that is the width (a call with a 128-byte stack: 2 and 2; a return:
 * 1 and 1). Otherwise the register entries are sized exactly first (the old size pass), which only
 * events whose size lies near 128 or 16384 bytes need.
 *
 * A register entry is written as its constant head (registers tag, length for a 0 value, key
 * field, value tag: 8 bytes for a key of up to 3 characters, one store), the value's varint after
 * it, then the length byte corrected by the value's size. The thread id, the seconds of the
 * timestamp and the event id above its low 7 bits repeat from event to event: their encodings are
 * kept in an atf_fast_cache and copied while they repeat. Data varints use PDEP when the caller
 * asks (`pdep`, see atf_fast_put_value).
 *
 * Every store stays within atf_fast_max_size() of `out`: a varint stores 10 bytes and a cached
 * field up to 16, each followed by fields whose bounds cover the overhang (see the comments at
 * each). */
#ifndef ATF_WRITER_FASTPATH_FAST_ENCODE_INL_H_
#define ATF_WRITER_FASTPATH_FAST_ENCODE_INL_H_

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "writer/fastpath/fast_encode.h"
#include "writer/fastpath/fast_varint.h"

#if defined(__GNUC__) || defined(__clang__)
#define ATF_FAST_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define ATF_FAST_INLINE static inline __attribute__((always_inline))
#else
#define ATF_FAST_UNLIKELY(x) (x)
#define ATF_FAST_INLINE static inline
#endif

/* Tags of the fields written directly (single bytes; atf_fast_tables_init checks each against
 * protobuf-c's descriptors and refuses to run if the schema no longer matches). */
enum {
  ATF_FAST_TAG_EVENT_ID = 0x08,
  ATF_FAST_TAG_THREAD_ID = 0x10,
  ATF_FAST_TAG_TIMESTAMP = 0x1A,
  ATF_FAST_TAG_SECONDS = 0x08,
  ATF_FAST_TAG_NANOS = 0x10,
  ATF_FAST_TAG_SYMBOL = 0x0A,
  ATF_FAST_TAG_ADDRESS = 0x10,
  ATF_FAST_TAG_STACK = 0x22,
  ATF_FAST_TAG_CALL_SITE = 0x28,
  ATF_FAST_TAG_KEY = 0x0A,
  ATF_FAST_TAG_VALUE = 0x10
};

/* Bytes of a varint field (tag + varint) of `v`; 0 when v is 0 (proto3 omits it). */
ATF_FAST_INLINE size_t atf_fast_field_size(uint64_t v) {
  return v ? 1u + atf_fast_varint_size(v) : 0u;
}

/* The exact size of an event's register entries (the size pass, for the rare event whose length
 * widths the bounds leave open). */
static inline size_t atf_fast_entries_exact(const atf_fast_tables *t, const atf_fast_event *e) {
  const atf_fast_entry_head *heads = t->heads[e->kind];
  size_t n = 0;
  for (unsigned i = 0; i < e->reg_count; ++i) n += heads[i].len + atf_fast_field_size(e->regs[i]);
  return n;
}

/* Copies n bytes; a short string (symbols are mostly 8..16 bytes, where a call to memcpy costs
 * more than the copy) with two overlapping loads and stores. */
ATF_FAST_INLINE void atf_fast_copy(uint8_t *dst, const uint8_t *src, size_t n) {
  if (n >= 8 && n <= 16) {
    uint64_t a, b;
    memcpy(&a, src, 8);
    memcpy(&b, src + n - 8, 8);
    memcpy(dst, &a, 8);
    memcpy(dst + n - 8, &b, 8);
  } else {
    memcpy(dst, src, n);
  }
}

/* f, refilled first when it holds another value than v. */
ATF_FAST_INLINE const atf_fast_cached_field *atf_fast_cached(atf_fast_cached_field *f, uint8_t tag,
                                                             uint64_t v) {
  if (ATF_FAST_UNLIKELY(f->key != v)) atf_fast_cache_fill(f, tag, v);
  return f;
}

/* The width shared by the varints of every value in [lo, hi], or 0 when they differ. */
ATF_FAST_INLINE unsigned atf_fast_common_width(size_t lo, size_t hi) {
  if (hi < 128u) return 1;
  if (lo >= 128u && hi < 16384u) return 2;
  return 0;
}

/* A data varint (any length, `size` bytes; 10 stored): with PDEP when `pdep`, a constant at each
 * call site (the caller is then compiled with target("bmi2")). */
ATF_FAST_INLINE uint8_t *atf_fast_put_value(uint8_t *p, uint64_t v, unsigned size, const int pdep) {
#if ATF_FAST_HAVE_PDEP
  if (pdep) return atf_fast_put_varint_sized_pdep(p, v, size);
#endif
  (void)pdep;
  return atf_fast_put_varint_sized(p, v, size);
}

/* Writes [varint length][Event] of `e` at out (room: atf_fast_max_size()); returns its size.
 * `pdep`: a constant, 1 only inside a function compiled with target("bmi2") on a CPU where
 * t->use_pdep is set. REQUIRES: e->reg_count <= t->key_count[e->kind]. */
ATF_FAST_INLINE size_t atf_fast_encode_inline(const atf_fast_tables *t, atf_fast_cache *c,
                                              const atf_fast_event *e, uint8_t *out,
                                              const int pdep) {
  const int k = e->kind;
  const uint64_t seconds = e->timestamp_ns / 1000000000u;
  const uint64_t nanos = e->timestamp_ns % 1000000000u; /* < 2^30: at most 5 bytes */
  const size_t stack_len = k == ATF_FAST_CALL ? e->stack_len : 0;
  const uint64_t call_site = k == ATF_FAST_CALL ? e->call_site : 0;
  const unsigned n_regs = e->reg_count;
  /* seconds < 2^64 / 10^9 < 2^35: at most 6 bytes; the thread id field at most 11. */
  const atf_fast_cached_field *sec = atf_fast_cached(&c->seconds, ATF_FAST_TAG_SECONDS, seconds);
  const atf_fast_cached_field *thread =
      atf_fast_cached(&c->tid, ATF_FAST_TAG_THREAD_ID, (uint64_t)(int64_t)e->thread_id);
  const uint64_t id = e->event_id;
  const atf_fast_cached_field *id_high = NULL;
  unsigned id_field = id ? 2u : 0u; /* id < 128 */
  if (id >= 128u) {
    id_high = atf_fast_cached(&c->id_high, 0, id >> 7);
    id_field = 2u + id_high->len;
  }

  /* Sizes known exactly. */
  const unsigned nanos_size = atf_fast_varint_size(nanos);
  const size_t ts = sec->len + (nanos ? 1u + nanos_size : 0u);
  const size_t head = id_field + thread->len + 2u + ts + 1u;
  const unsigned addr_size = atf_fast_varint_size(e->address);
  const size_t fixed = (e->symbol_len ? 1u + atf_fast_varint_size(e->symbol_len) : 0u) +
                       e->symbol_len + (e->address ? 1u + addr_size : 0u) +
                       (stack_len ? 1u + atf_fast_varint_size(stack_len) + stack_len : 0u) +
                       atf_fast_field_size(call_site);
  size_t lo = fixed + t->entries_size[k][n_regs];
  const size_t hi = lo + 11u * n_regs;
  /* Widths of the two lengths. */
  unsigned pw = atf_fast_common_width(lo, hi);
  unsigned ew = pw ? atf_fast_common_width(head + pw + lo, head + pw + hi) : 0u;
  if (ATF_FAST_UNLIKELY(ew == 0)) {
    lo = fixed + atf_fast_entries_exact(t, e);
    pw = atf_fast_varint_size(lo);
    ew = atf_fast_varint_size(head + pw + lo);
  }

  /* Bytes. */
  uint8_t *const event_start = out + ew;
  uint8_t *p = event_start;
  if (id_high != NULL) {
    /* The low 7 bits with a continuation bit, then the cached varint of the rest: 18 bytes
     * stored, within the id's bound (11) and the thread id's (11) that follows. */
    p[0] = ATF_FAST_TAG_EVENT_ID;
    p[1] = (uint8_t)(id | 0x80u);
    memcpy(p + 2, id_high->bytes, 16);
    p += id_field;
  } else if (id != 0) {
    p[0] = ATF_FAST_TAG_EVENT_ID;
    p[1] = (uint8_t)id;
    p += 2;
  }
  /* 16 bytes stored: the field's bound is 11 and the timestamp's 24 follow. */
  memcpy(p, thread->bytes, 16);
  p += thread->len;
  p[0] = ATF_FAST_TAG_TIMESTAMP;
  p[1] = (uint8_t)ts; /* at most 6 + 6 */
  /* 8 bytes stored: the field has at most 6, and the nanos field (bound 11) follows. */
  memcpy(p + 2, sec->bytes, 8);
  p += 2 + sec->len;
  if (nanos) {
    *p++ = ATF_FAST_TAG_NANOS;
    p = atf_fast_put_value(p, nanos, nanos_size, pdep);
  }
  *p++ = t->event_payload_tag[k];
  uint8_t *const payload_len_at = p;
  p += pw;
  uint8_t *const payload_start = p;
  if (e->symbol_len) {
    *p++ = ATF_FAST_TAG_SYMBOL;
    p = atf_fast_put_varint(p, e->symbol_len);
    atf_fast_copy(p, e->symbol, e->symbol_len);
    p += e->symbol_len;
  }
  if (e->address) {
    *p++ = ATF_FAST_TAG_ADDRESS;
    p = atf_fast_put_value(p, e->address, addr_size, pdep);
  }
  const atf_fast_entry_head *heads = t->heads[k];
  const int long_keys = t->long_keys[k];
  for (unsigned i = 0; i < n_regs; ++i) {
    /* The head in one store (three when a key is longer than 3 bytes: at most 24 bytes, within
     * the entry's bound of 31), the value's 10 bytes after it (len <= 20: within 31 too), then
     * the length byte; a zero value's tag is left behind and overwritten by what follows. */
    const uint64_t v = e->regs[i];
    const unsigned len = heads[i].len;
    memcpy(p, heads[i].bytes, 8);
    if (long_keys) memcpy(p + 8, heads[i].bytes + 8, 16);
    const unsigned size = atf_fast_varint_size(v);
    atf_fast_put_value(p + len + 1, v, size, pdep);
    const unsigned value_bytes = v ? 1u + size : 0u;
    p[1] = (uint8_t)(len - 2u + value_bytes);
    p += len + value_bytes;
  }
  if (stack_len) {
    *p++ = ATF_FAST_TAG_STACK;
    p = atf_fast_put_varint(p, stack_len);
    memcpy(p, e->stack, stack_len);
    p += stack_len;
  }
  if (call_site) {
    *p++ = ATF_FAST_TAG_CALL_SITE;
    p = atf_fast_put_value(p, call_site, atf_fast_varint_size(call_site), pdep);
  }
  atf_fast_put_varint_width(payload_len_at, (uint64_t)(p - payload_start), pw);
  atf_fast_put_varint_width(out, (uint64_t)(p - event_start), ew);
  return (size_t)(p - out);
}

#endif /* ATF_WRITER_FASTPATH_FAST_ENCODE_INL_H_ */
