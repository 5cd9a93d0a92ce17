// Regenerates the golden session files on purpose:
//   bazel run //writer:golden_regen -- $PWD/testdata/golden
// Writes the fixed session of testing/golden_session.cc into a temporary directory and copies its
// events.bin and trace.json into the directory given.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "testing/decode.h"
#include "testing/golden_session.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: golden_regen <testdata/golden directory>\n");
    return 2;
  }
  char tmpl[] = "/tmp/atf_golden_XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  std::string dir;
  std::string err = atf_test::WriteGoldenSession(tmpl, &dir);
  if (!err.empty()) {
    std::fprintf(stderr, "golden session: %s\n", err.c_str());
    return 1;
  }
  for (const char* name : {"events.bin", "trace.json"}) {
    const std::string bytes = atf_test::ReadFile(dir + "/" + name);
    std::ofstream out(std::string(argv[1]) + "/" + name, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::fprintf(stderr, "cannot write %s/%s\n", argv[1], name);
      return 1;
    }
    std::printf("wrote %s/%s (%zu bytes)\n", argv[1], name, bytes.size());
  }
  return 0;
}
