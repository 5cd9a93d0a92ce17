// Test-only builder of ring-record batches (atf/ring_record.h), 8-byte aligned.
#ifndef ATF_WRITER_TESTING_RECORDS_H_
#define ATF_WRITER_TESTING_RECORDS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "writer/atf/ring_record.h"

namespace atf_test {

class Batch {
 public:
  // Appends a record and returns it (valid until the next append) for tests that corrupt fields.
  atf_ring_record *Add(uint8_t kind, int32_t tid, uint64_t ts, uint64_t address, uint32_t symbol,
                       int32_t value, const std::vector<uint64_t> &regs,
                       const std::string &stack = "");
  atf_ring_record *Call(int32_t tid, uint64_t ts, uint64_t address, uint32_t symbol,
                        const std::vector<uint64_t> &regs, const std::string &stack = "") {
    return Add(ATF_KIND_CALL, tid, ts, address, symbol, 0, regs, stack);
  }
  atf_ring_record *Return(int32_t tid, uint64_t ts, uint64_t address, uint32_t symbol,
                          const std::vector<uint64_t> &regs) {
    return Add(ATF_KIND_RETURN, tid, ts, address, symbol, 0, regs);
  }
  atf_ring_record *Signal(int32_t tid, uint64_t ts, int32_t number,
                          const std::vector<uint64_t> &regs) {
    return Add(ATF_KIND_SIGNAL, tid, ts, 0, 0, number, regs);
  }
  atf_ring_record *End(int32_t tid, uint64_t ts, int32_t exit_code) {
    return Add(ATF_KIND_TRACE_END, tid, ts, 0, 0, exit_code, {});
  }
  atf_ring_record *Pad(size_t bytes);  // bytes: multiple of 8, >= 40

  const void *data() const { return words_.data(); }
  size_t size() const { return words_.size() * 8; }
  void Clear() { words_.clear(); }

 private:
  std::vector<uint64_t> words_;
};

}  // namespace atf_test

#endif  // ATF_WRITER_TESTING_RECORDS_H_
