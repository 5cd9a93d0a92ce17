/* Ring record batch checker: see internal/batch.h. */
#include "internal/batch.h"

/* The rule `r` (which fits in `room` bytes of the batch) breaks, or NULL if it is well formed. */
static const char *record_error(const atf_ring_record *r, size_t room, atf_arch arch,
                                uint32_t symbol_count) {
  if (r->size < ATF_RECORD_HEADER_SIZE || r->size % ATF_RECORD_ALIGN != 0) return "size";
  if (r->size > room) return "size beyond batch";
  if (r->kind == ATF_KIND_PAD) return NULL; /* filler: only its size matters */
  if (r->kind > ATF_KIND_TRACE_END) return "kind";
  if (r->flags != 0 || r->reserved != 0) return "reserved fields";
  if (r->reg_count > atf_register_count(arch, r->kind)) return "reg_count";
  if (r->stack_len > (r->kind == ATF_KIND_CALL ? ATF_RECORD_MAX_STACK : 0u)) return "stack_len";
  if (r->size != atf_record_size(r->reg_count, r->stack_len)) return "size mismatch";
  if ((r->kind == ATF_KIND_CALL || r->kind == ATF_KIND_RETURN) && r->symbol_id > symbol_count) {
    return "symbol_id";
  }
  return NULL;
}

atf_status atf_batch_check(const void *records, size_t bytes, atf_arch arch,
                           uint32_t symbol_count, atf_batch_info *info) {
  const unsigned char *base = (const unsigned char *)records;
  info->events = 0;
  info->trace_end_offset = SIZE_MAX;
  info->error_offset = 0;
  info->error_rule = NULL;
  for (size_t off = 0; off < bytes;) {
    const atf_ring_record *r = (const atf_ring_record *)(base + off);
    /* Records are contiguous: fetch well ahead, so the check (and the encoding pass after it,
     * which finds the records in cache) does not wait on memory record by record. */
    __builtin_prefetch(base + off + 1024);
    __builtin_prefetch(base + off + 1088);
    const char *rule = bytes - off < ATF_RECORD_HEADER_SIZE
                           ? "truncated header"
                           : record_error(r, bytes - off, arch, symbol_count);
    if (rule == NULL && r->kind != ATF_KIND_PAD && info->trace_end_offset != SIZE_MAX) {
      rule = "event after TRACE_END";
    }
    if (rule != NULL) {
      info->error_offset = off;
      info->error_rule = rule;
      return ATF_E_BAD_RECORD;
    }
    if (r->kind != ATF_KIND_PAD) info->events++;
    if (r->kind == ATF_KIND_TRACE_END) info->trace_end_offset = off;
    off += r->size;
  }
  return ATF_OK;
}
