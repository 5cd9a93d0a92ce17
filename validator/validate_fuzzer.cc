// Fuzz target for atf_validate_buffers (see docs/security.md). Under --config=fuzz it links
// libFuzzer's main; otherwise it runs standalone on the files given, or on stdin.
#include <cstdio>
#include <iterator>
#include <string>
#include <fstream>
#include <iostream>

#include "validator/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  atf_fuzz::CheckOne(data, size);
  return 0;
}

#ifndef ATF_LIBFUZZER
int main(int argc, char **argv) {
  auto run = [](std::istream &in) {
    const std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(s.data()), s.size());
  };
  if (argc < 2) run(std::cin);
  for (int i = 1; i < argc; ++i) {
    std::ifstream f(argv[i], std::ios::binary);
    if (!f) {
      std::fprintf(stderr, "validate_fuzzer: cannot read %s\n", argv[i]);
      return 2;
    }
    run(f);
  }
  std::printf("%d input(s) passed\n", argc < 2 ? 1 : argc - 1);
  return 0;
}
#endif
