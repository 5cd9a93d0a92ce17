// Test-only helpers shared by writer_test and fault_test: a temporary output root, default options
// with a fixed clock, and reading a finished session back.
#ifndef ATF_WRITER_TESTING_SESSION_H_
#define ATF_WRITER_TESTING_SESSION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "writer/atf/writer.h"
#include "writer/testing/decode.h"

namespace atf_test {

// A fresh directory under $TEST_TMPDIR.
std::string MakeTempDir(const std::string &prefix);

// A clock that starts at *ctx and advances 1 µs per reading.
uint64_t SteppingClock(void *ctx);

struct Options {
  explicit Options(const std::string &root, const char *label = "t");
  atf_writer_options o;
  uint64_t now = 1700000000000000000ull;  // 2023-11-14T22:13:20Z
  std::string root;
};

// The exact integer after "key": in a JSON text (test-side scanner: cJSON reads doubles).
bool ExactJsonU64(const std::string &json, const std::string &key, uint64_t *out);

// Checks what is on disk for the session in `dir`: events.bin ends at a record boundary and every
// record decodes identically with the three decoders; event ids count from
// ATF_WRITER_FIRST_EVENT_ID. Returns "" or an
// error. *events gets the events, *file_bytes the size of events.bin.
std::string ReadSession(const std::string &dir, std::vector<Event> *events, uint64_t *file_bytes);

}  // namespace atf_test

#endif  // ATF_WRITER_TESTING_SESSION_H_
