// Test-only decoding of an encoded Event with each of three protobuf implementations (protobuf-c,
// nanopb, Google's C++ protobuf) into one neutral model, so tests compare every implementation
// with the expected model and never one implementation with another. The writer's tests decode
// what the writer wrote with it; the schema's cross-check (proto/crosscheck_test.cc) decodes
// protobuf-c's and C++'s encodings with it and adds upb. Target //writer:testing_decode: nothing
// of the writer, only the generated schema libraries.
#ifndef ATF_WRITER_TESTING_DECODE_H_
#define ATF_WRITER_TESTING_DECODE_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace atf_test {

using Registers = std::vector<std::pair<std::string, uint64_t>>;

enum class Kind { kNone = 0, kStart = 10, kEnd = 11, kCall = 12, kReturn = 13, kSignal = 14 };

struct Event {
  uint64_t event_id = 0;
  int32_t thread_id = 0;
  bool has_timestamp = false;
  int64_t seconds = 0;
  int32_t nanos = 0;
  Kind kind = Kind::kNone;
  std::string executable_path, operating_system, cpu_architecture;  // TraceStart
  std::vector<std::string> args;
  int32_t exit_code = 0;  // TraceEnd
  std::string symbol;     // FunctionCall/FunctionReturn symbol, SignalDelivery name
  uint64_t address = 0;
  Registers registers;  // in wire order
  std::string stack;
  uint64_t call_site = 0;  // FunctionCall.call_site (0 when absent)
  int32_t number = 0;

  bool operator==(const Event &o) const;
  bool operator!=(const Event &o) const { return !(*this == o); }
};
std::string Describe(const Event &e);
void PrintTo(const Event &e, std::ostream *os);  // googletest prints an Event with Describe

// Splits a length-delimited stream into its records. Returns false when the stream does not end
// at a record boundary (a torn tail); *complete_bytes gets the bytes of complete records.
bool SplitFraming(const std::string &stream, std::vector<std::string> *records,
                  size_t *complete_bytes);

// Each returns false when its implementation rejects the bytes; *out is reset first. The
// three-argument DecodeNanopb also puts nanopb's own message in *error when it fails. DecodeCpp
// sorts the registers by name (C++ protobuf's maps have no order); the others keep wire order.
bool DecodeProtobufC(const std::string &bytes, Event *out);
bool DecodeNanopb(const std::string &bytes, Event *out);
bool DecodeNanopb(const std::string &bytes, Event *out, std::string *error);
bool DecodeCpp(const std::string &bytes, Event *out);

// Decodes with all three; "" when they all succeed and agree (C++ compared with registers sorted),
// else a description of the disagreement. *out gets the protobuf-c decoding (wire order).
std::string DecodeAll(const std::string &bytes, Event *out);

// Reads a whole file ("" when missing) / splits a whole events.bin and decodes every record.
std::string ReadFile(const std::string &path);
std::string DecodeEventsFile(const std::string &path, std::vector<Event> *events);

}  // namespace atf_test

#endif  // ATF_WRITER_TESTING_DECODE_H_
