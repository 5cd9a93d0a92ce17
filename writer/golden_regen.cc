// Regenerates the golden session files on purpose:
//   bazel run //writer:golden_regen -- $PWD/testdata/golden
// Writes the fixed session of testing/golden_session.cc once per target into a temporary directory
// and copies its events.bin and trace.json into <directory given>/<os>-<arch>/ (created if
// missing). Review the diff before committing it.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "writer/testing/decode.h"
#include "writer/testing/golden_session.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: golden_regen <testdata/golden directory>\n");
    return 2;
  }
  for (const atf_test::GoldenTarget &t : atf_test::GoldenTargets()) {
    char tmpl[] = "/tmp/atf_golden_XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    std::string dir;
    std::string err = atf_test::WriteGoldenSession(tmpl, t, &dir);
    if (!err.empty()) {
      std::fprintf(stderr, "golden session %s: %s\n", t.dir, err.c_str());
      return 1;
    }
    const std::string out_dir = std::string(argv[1]) + "/" + t.dir;
    if (mkdir(out_dir.c_str(), 0755) != 0 && errno != EEXIST) {
      std::perror(out_dir.c_str());
      return 1;
    }
    for (const char *name : {"events.bin", "trace.json"}) {
      const std::string bytes = atf_test::ReadFile(dir + "/" + name);
      std::ofstream out(out_dir + "/" + name, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      if (!out) {
        std::fprintf(stderr, "cannot write %s/%s\n", out_dir.c_str(), name);
        return 1;
      }
      std::printf("wrote %s/%s (%zu bytes)\n", out_dir.c_str(), name, bytes.size());
    }
  }
  return 0;
}
