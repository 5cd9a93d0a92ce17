/* The per-event encoding step: see internal/encode.h. */
#include "internal/encode.h"

#include "internal/varint.h"

void atf_encoder_init(atf_encoder *e, atf_arch arch, const char *os, const atf_symtab *symtab,
                      uint32_t max_stack) {
  atf_convert_scratch_init(&e->scratch, arch);
  e->symtab = symtab;
  e->os = os;
  e->max_stack = max_stack;
  e->stack_truncations = 0;
}

size_t atf_encode_event(const Atf__V4__Event *ev, uint8_t *out, size_t cap) {
  const size_t len = atf__v4__event__get_packed_size(ev);
  const size_t framed = atf_varint_size(len) + len;
  if (framed > cap) return framed;
  size_t n = atf_varint_encode(len, out);
  atf__v4__event__pack(ev, out + n);
  return framed;
}

size_t atf_encode_record(atf_encoder *e, const atf_ring_record *r, uint64_t event_id,
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
