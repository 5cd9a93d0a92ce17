/* The per-event encoding step: see internal/encode.h. */
#include "writer/internal/encode.h"

#include "writer/internal/varint.h"

/* Register names of `kind` on `arch` in canonical order; returns how many. */
static unsigned register_names(atf_arch arch, int kind, const char *names[ATF_RECORD_MAX_REGS]) {
  unsigned n = atf_register_count(arch, kind);
  if (n > ATF_RECORD_MAX_REGS) n = ATF_RECORD_MAX_REGS;
  for (unsigned i = 0; i < n; ++i) names[i] = atf_register_name(arch, kind, i);
  return n;
}

void atf_encoder_init(atf_encoder *e, atf_arch arch, const char *os, const atf_symtab *symtab,
                      uint32_t max_stack) {
  atf_convert_scratch_init(&e->scratch, arch);
  e->symtab = symtab;
  e->os = os;
  e->max_stack = max_stack;
  e->stack_truncations = 0;
  const char *call[ATF_RECORD_MAX_REGS], *ret[ATF_RECORD_MAX_REGS];
  const unsigned n_call = register_names(arch, ATF_KIND_CALL, call);
  const unsigned n_ret = register_names(arch, ATF_KIND_RETURN, ret);
  e->fast_ok = atf_fast_tables_init(&e->fast, call, n_call, ret, n_ret) == 0;
  atf_fast_cache_init(&e->fast_cache);
}

size_t atf_encode_event(const Atf__V4__Event *ev, uint8_t *out, size_t cap) {
  const size_t len = atf__v4__event__get_packed_size(ev);
  const size_t framed = atf_varint_size(len) + len;
  if (framed > cap) return framed;
  size_t n = atf_varint_encode(len, out);
  atf__v4__event__pack(ev, out + n);
  return framed;
}

size_t atf_encode_record_reference(atf_encoder *e, const atf_ring_record *r, uint64_t event_id,
                                   uint8_t *out, size_t cap) {
  const char *symbol = "";
  if (r->kind == ATF_KIND_CALL || r->kind == ATF_KIND_RETURN) {
    symbol = atf_symtab_get(e->symtab, r->symbol_id);
  }
  int truncated;
  const Atf__V4__Event *ev =
      atf_convert_record(&e->scratch, r, symbol, e->os, e->max_stack, event_id, &truncated);
  e->stack_truncations += (uint64_t)truncated;
  return atf_encode_event(ev, out, cap);
}

size_t atf_encode_record(atf_encoder *e, const atf_ring_record *r, uint64_t event_id, uint8_t *out,
                         size_t cap, int *converted) {
  *converted = 0;
  const size_t framed = atf_encode_hot(e, r, event_id, out, cap, 0);
  if (ATF_LIKELY(framed != 0)) return framed;
  if (ATF_LIKELY(e->fast_ok) && (r->kind == ATF_KIND_CALL || r->kind == ATF_KIND_RETURN)) {
    /* No room here: the caller makes room (a fresh buffer) rather than the event taking the
     * reference path, which costs several times more. A bound over any buffer means a huge
     * symbol: the reference path's exact size and its own buffer then. */
    size_t symbol_len;
    (void)atf_symtab_get_len(e->symtab, r->symbol_id, &symbol_len);
    const size_t bound =
        atf_fast_max_size(symbol_len, r->reg_count, r->kind == ATF_KIND_CALL ? r->stack_len : 0);
    if (bound <= ATF_ENCODE_FAST_BOUND_MAX) return bound;
  }
  *converted = 1;
  return atf_encode_record_reference(e, r, event_id, out, cap);
}
