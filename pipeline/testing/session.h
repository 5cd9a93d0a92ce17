// Test helpers: read a session back with Google's C++ protobuf (the reference decoder) and run the
// validator library on it.
#ifndef ATF_PIPELINE_TESTING_SESSION_H_
#define ATF_PIPELINE_TESTING_SESSION_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "atf_v4.pb.h"

namespace atf_test {

// Parses a length-delimited events.bin; stops at the first incomplete or unparsable record.
// Returns false (and says why in *error) if anything after the parsed prefix remains.
bool ReadEvents(const std::string &path, std::vector<atf::v4::Event> *events, std::string *error);
// The same, one event at a time (for sessions too big to hold as messages).
bool ForEachEvent(const std::string &path, const std::function<void(const atf::v4::Event &)> &fn,
                  std::string *error);

// Parses length-delimited events from memory (a whole events.bin or a prefix of one).
bool ParseEvents(const std::string &data, const std::function<void(const atf::v4::Event &)> &fn,
                 std::string *error);

// The whole file, or "" when it cannot be read (and *exists = false).
std::string ReadFile(const std::string &path, bool *exists = nullptr);

bool FileExists(const std::string &path);

struct Verdict {
  bool valid = false;
  uint64_t records = 0;
  uint64_t valid_prefix_records = 0;
  uint64_t valid_prefix_bytes = 0;
  bool has_dropped_events = false;
  uint64_t dropped_events = 0;
  bool recovered = false;
  std::vector<std::string> rules;  // rule names of the kept errors
  std::string text;                // "rule @file:offset: message" lines, for failure messages
};

// Runs atf_validate_path on a session directory.
Verdict Validate(const std::string &dir);

// $TEST_TMPDIR (or /tmp) + "/" + name, created fresh.
std::string TempDir(const std::string &name);

// The register value named `name` in a map field, or UINT64_MAX when absent.
uint64_t Reg(const google::protobuf::Map<std::string, uint64_t> &regs, const std::string &name);

}  // namespace atf_test

#endif  // ATF_PIPELINE_TESTING_SESSION_H_
