// Test helper: builds ATF V4 sessions with Google's C++ protobuf (the reference encoder), and raw
// protobuf pieces for malformed inputs. Independent of the validator's own code.
#ifndef ATF_VALIDATOR_TESTING_SESSION_BUILDER_H_
#define ATF_VALIDATOR_TESTING_SESSION_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "atf_v4.pb.h"

namespace atf_test {

// 1700000000.123456789 s: above 2^53 ns, so a double could not hold the manifest's times exactly.
constexpr uint64_t kBaseNs = 1700000000123456789ull;

// An event with only its id, thread and timestamp set (no payload yet).
atf::v4::Event EventAt(uint64_t id, int32_t tid, uint64_t ns);
atf::v4::Event Start(uint64_t id, uint64_t ns);
atf::v4::Event End(uint64_t id, uint64_t ns, int32_t exit_code = 0);
atf::v4::Event Call(uint64_t id, int32_t tid, uint64_t ns, const std::string &symbol,
                    uint64_t address);
atf::v4::Event Return(uint64_t id, int32_t tid, uint64_t ns, const std::string &symbol,
                      uint64_t address);
atf::v4::Event Signal(uint64_t id, int32_t tid, uint64_t ns, int32_t number,
                      const std::string &name);

// A well-formed session: TraceStart, calls and returns on two threads, a signal, TraceEnd.
std::vector<atf::v4::Event> SampleSession(int calls_per_thread = 3);

// Random events for differential tests: every payload kind, texts built from pieces that stress
// escaping and UTF-8 (ASCII, quotes, control bytes, 2-4 byte sequences), register maps of up to 19
// entries, stacks of random bytes. The options widen it to what only some decoders accept.
struct RandomEventOptions {
  size_t max_stack = 8999;              // stack bytes at most: sometimes beyond one decode chunk
  bool empty_text_piece = false;        // "" among the text pieces
  bool sometimes_no_timestamp = false;  // 1 event in 50 without a timestamp
  bool sometimes_nameless_register = false;  // 1 register name in 30 is only digits
  bool full_range_register_values = false;   // every value a full 64-bit draw (else often small)
};
std::string RandomText(std::mt19937_64 &rng, size_t max_len, bool empty_piece = false);
atf::v4::Event RandomEvent(std::mt19937_64 &rng, const RandomEventOptions &o = {});

std::string Serialize(const atf::v4::Event &e);
std::string Varint(uint64_t v);
// [varint length][body]
std::string Frame(const std::string &body);
std::string Frames(const std::vector<atf::v4::Event> &events);

// Raw protobuf pieces: a tag, a length-delimited field, a varint field.
std::string Tag(uint32_t field, int wire_type);
std::string LenField(uint32_t field, const std::string &body);
std::string VarintField(uint32_t field, uint64_t v);

struct Manifest {
  uint64_t pid = 4242, session_id = 7, time_start_ns = 0, time_end_ns = 0, event_count = 0,
           bytes_written = 0;
  std::vector<std::string> modules = {"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"};
};

// A manifest that matches `events` framed as `bytes`.
Manifest ManifestFor(const std::vector<atf::v4::Event> &events, const std::string &bytes);
std::string ManifestJson(const Manifest &m);

// Writes dir/events.bin and, unless manifest is null, dir/trace.json (creating dir).
void WriteSession(const std::string &dir, const std::string &events, const std::string *manifest);

uint64_t TimeNs(const atf::v4::Event &e);

}  // namespace atf_test

#endif  // ATF_VALIDATOR_TESTING_SESSION_BUILDER_H_
