// Writes the malformed corpus: make_malformed OUTDIR (normally testdata/malformed).
//   bazel run //validator:make_malformed -- $PWD/testdata/malformed
#include <cstdio>

#include "validator/testing/malformed_cases.h"
#include "validator/testing/session_builder.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_malformed OUTDIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  const auto cases = atf_test::MalformedCases();
  for (const auto &c : cases) {
    atf_test::WriteSession(dir + "/" + c.name, c.events, c.has_manifest ? &c.manifest : nullptr);
  }
  std::FILE *f = std::fopen((dir + "/EXPECTED").c_str(), "w");
  if (f == nullptr) return 2;
  const std::string list = atf_test::ExpectedList(cases);
  std::fwrite(list.data(), 1, list.size(), f);
  std::fclose(f);
  std::printf("%zu cases written to %s\n", cases.size(), dir.c_str());
  return 0;
}
