#include "writer/testing/records.h"

#include <cstring>

namespace atf_test {

atf_ring_record *Batch::Add(uint8_t kind, int32_t tid, uint64_t ts, uint64_t address,
                            uint32_t symbol, int32_t value, const std::vector<uint64_t> &regs,
                            const std::string &stack) {
  const size_t size =
      atf_record_size(static_cast<unsigned>(regs.size()), static_cast<unsigned>(stack.size()));
  const size_t at = words_.size();
  words_.resize(at + size / 8, 0);
  auto *r = reinterpret_cast<atf_ring_record *>(&words_[at]);
  r->size = static_cast<uint16_t>(size);
  r->kind = kind;
  r->reg_count = static_cast<uint8_t>(regs.size());
  r->stack_len = static_cast<uint16_t>(stack.size());
  r->thread_id = tid;
  r->value = value;
  r->timestamp_ns = ts;
  r->address = address;
  r->symbol_id = symbol;
  if (!regs.empty()) std::memcpy(atf_record_regs(r), regs.data(), regs.size() * 8);
  if (!stack.empty()) std::memcpy(atf_record_stack(r), stack.data(), stack.size());
  return r;
}

atf_ring_record *Batch::Pad(size_t bytes) {
  const size_t at = words_.size();
  words_.resize(at + bytes / 8, 0);
  auto *r = reinterpret_cast<atf_ring_record *>(&words_[at]);
  r->size = static_cast<uint16_t>(bytes);
  r->kind = ATF_KIND_PAD;
  return r;
}

}  // namespace atf_test
