// Test helper: one record decoded by both of the validator's engines, the nanopb engine
// (internal/decode.h) and the upb engine (internal/upb_engine.h), into one comparable result:
// verdict, rule, absolute offset, the atf_event fixed fields and everything the visitor delivered.
// Shared by validator/upb_engine_test, integration/engines_test and fuzz/upb_fuzzer.
#ifndef ATF_VALIDATOR_TESTING_ENGINE_COMPARE_H_
#define ATF_VALIDATOR_TESTING_ENGINE_COMPARE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "validator/internal/decode.h"
#include "validator/internal/upb_engine.h"

namespace atf_test {

struct EngineResult {
  bool ok = false;
  std::string rule;     // empty when ok
  uint64_t offset = 0;  // of the error
  std::string message;
  atf_event ev = {};  // when ok
  // What the visitor delivered, assembled: a singular text field's last occurrence, every arg,
  // every register entry (name, value) in the order delivered.
  std::string path, os, arch, symbol, stack, name;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, uint64_t>> regs;
  size_t text_calls = 0;  // visitor calls, to tell "no text at all" from "empty text"

  // "" when this and `o` agree on verdict, rule, offset and values (not the message).
  std::string Diff(const EngineResult &o) const;
  std::string Describe() const;
};

// The record body at input[off, off + len), decoded by the nanopb engine over the whole input (an
// in-memory reader) and by the upb engine from input + off.
EngineResult DecodeNanopb(const uint8_t *input, size_t input_len, uint64_t off, uint64_t len);
EngineResult DecodeUpb(atf_upb_engine *e, const uint8_t *input, uint64_t off, uint64_t len);

// Frames `events` (an events.bin image) and calls f(off, len) for each complete record, up to the
// first framing error.
template <typename F>
void ForEachRecord(const std::string &events, F f);

}  // namespace atf_test

#include "validator/internal/reader.h"

template <typename F>
void atf_test::ForEachRecord(const std::string &events, F f) {
  atf_reader r;
  atf_reader_init_mem(&r, reinterpret_cast<const uint8_t *>(events.data()), events.size());
  uint64_t off = 0;
  atf_frame fr;
  while (atf_reader_frame(&r, off, &fr) == ATF_FRAME_OK) {
    f(fr.body_offset, fr.length);
    off = fr.body_offset + fr.length;
  }
  atf_reader_free(&r);
}

#endif  // ATF_VALIDATOR_TESTING_ENGINE_COMPARE_H_
