/* Ring record batch checker: see internal/batch.h. */
#include "writer/internal/batch.h"

void atf_record_limits_init(atf_record_limits *l, atf_arch arch) {
  for (int kind = 0; kind <= ATF_KIND_TRACE_END; kind++) {
    unsigned n = kind == ATF_KIND_PAD ? 0 : atf_register_count(arch, kind);
    l->max_regs[kind] = (uint8_t)(n > ATF_RECORD_MAX_REGS ? ATF_RECORD_MAX_REGS : n);
  }
}

atf_writer_status atf_batch_check(const void *records, size_t bytes, atf_arch arch,
                                  uint32_t symbol_count, atf_batch_info *info) {
  const unsigned char *base = (const unsigned char *)records;
  atf_record_limits limits;
  atf_record_limits_init(&limits, arch);
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
                           : atf_record_check(r, bytes - off, &limits, symbol_count);
    if (rule == NULL && r->kind != ATF_KIND_PAD && info->trace_end_offset != SIZE_MAX) {
      rule = "event after TRACE_END";
    }
    if (rule != NULL) {
      info->error_offset = off;
      info->error_rule = rule;
      return ATF_WRITER_E_BAD_RECORD;
    }
    if (r->kind != ATF_KIND_PAD) info->events++;
    if (r->kind == ATF_KIND_TRACE_END) info->trace_end_offset = off;
    off += r->size;
  }
  return ATF_WRITER_OK;
}
