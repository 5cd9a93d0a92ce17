// fuzz_input.h: reads typed values off the front of a fuzz input. Past the end every read yields
// zeros / empty strings, so any byte string is a complete program (the usual FuzzedDataProvider
// contract, without its dependency).
#ifndef ATF_FUZZ_FUZZ_INPUT_H_
#define ATF_FUZZ_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace atf_fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t *data, size_t size) : p_(data), left_(size) {}

  size_t remaining() const { return left_; }
  bool empty() const { return left_ == 0; }

  uint8_t U8() {
    if (left_ == 0) return 0;
    --left_;
    return *p_++;
  }
  uint16_t U16() { return static_cast<uint16_t>(U8() | U8() << 8); }
  uint32_t U32() { return static_cast<uint32_t>(U16()) | static_cast<uint32_t>(U16()) << 16; }
  uint64_t U64() { return static_cast<uint64_t>(U32()) | static_cast<uint64_t>(U32()) << 32; }

  // Up to n bytes (fewer at the end of the input).
  std::string Bytes(size_t n) {
    if (n > left_) n = left_;
    std::string s(reinterpret_cast<const char *>(p_), n);
    p_ += n;
    left_ -= n;
    return s;
  }
  // A string with a one-byte length.
  std::string ShortString() { return Bytes(U8()); }

 private:
  const uint8_t *p_;
  size_t left_;
};

}  // namespace atf_fuzz

#endif  // ATF_FUZZ_FUZZ_INPUT_H_
