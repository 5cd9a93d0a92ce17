// event_decoders.h: one record body decoded by each of the three implementations the toolkit has
// (the validator's nanopb decoder, protobuf-c, Google's C++ protobuf) into one plain struct, so a
// fuzz target can compare them field for field with each other and with what it expects.
//
// The struct holds every field of the schema. `regs` keeps map entries in wire order for the
// decoders that expose it (validator, protobuf-c); Google's C++ protobuf stores a map, so its
// entries come back sorted by key with the last duplicate winning: compare through AsMap().
#ifndef ATF_FUZZ_EVENT_DECODERS_H_
#define ATF_FUZZ_EVENT_DECODERS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace atf_fuzz {

// Payload field numbers, as in proto/atf_v4.proto.
enum Payload {
  kNone = 0,
  kTraceStart = 10,
  kTraceEnd = 11,
  kCall = 12,
  kReturn = 13,
  kSignal = 14
};

using Registers = std::vector<std::pair<std::string, uint64_t>>;

struct Event {
  uint64_t event_id = 0;
  int32_t thread_id = 0;
  int64_t seconds = 0;
  int32_t nanos = 0;
  int payload = kNone;
  // TraceStart
  std::string executable_path, operating_system, cpu_architecture;
  std::vector<std::string> args;
  // TraceEnd
  int32_t exit_code = 0;
  // FunctionCall / FunctionReturn
  std::string symbol;
  uint64_t address = 0;
  std::string stack;       // FunctionCall only
  uint64_t call_site = 0;  // FunctionCall only (field 5; 0 when absent)
  // SignalDelivery
  int32_t signal_number = 0;
  std::string signal_name;
  // The payload's register map.
  Registers regs;

  bool operator==(const Event &o) const;
  bool operator!=(const Event &o) const { return !(*this == o); }
  // One line per field, for failure messages.
  std::string Describe() const;
};

// Map semantics of `regs`: last duplicate wins, sorted by key.
Registers AsMap(const Registers &regs);
// `e` with its registers replaced by AsMap(e.regs).
Event WithMapRegisters(Event e);

// The validator's decoder (validator/internal/decode.h) on body[0, len). On rejection returns false
// and sets *rule (when not NULL) to the rule it reported.
bool DecodeWithValidator(const uint8_t *body, size_t len, Event *out, std::string *rule);

// The validator's upb engine (validator/internal/upb_engine.h) on body[0, len), one engine per
// thread; same contract as DecodeWithValidator.
bool DecodeWithUpbEngine(const uint8_t *body, size_t len, Event *out, std::string *rule);

// protobuf-c's atf__v4__event__unpack. When `repacked` is not NULL it gets
// atf__v4__event__pack() of the unpacked message.
bool DecodeWithProtobufC(const uint8_t *body, size_t len, Event *out, std::string *repacked);

// Google's C++ protobuf ParseFromArray. Registers come back as AsMap() would give them.
bool DecodeWithCpp(const uint8_t *body, size_t len, Event *out);

// Independent UTF-8 check (RFC 3629, Unicode Table 3-7): no overlong forms, no surrogates,
// nothing above U+10FFFF, nothing cut off.
bool IsValidUtf8(const std::string &s);

// Aborts with `what` and the two sides when a != b.
void ExpectEqual(const Event &a, const Event &b, const char *what);

// Prints `message` and aborts (a finding).
[[noreturn]] void Fail(const char *file, int line, const std::string &message);

}  // namespace atf_fuzz

#define ATF_FUZZ_CHECK(cond)                                                                  \
  do {                                                                                        \
    if (!(cond)) ::atf_fuzz::Fail(__FILE__, __LINE__, std::string("check failed: ") + #cond); \
  } while (0)

#endif  // ATF_FUZZ_EVENT_DECODERS_H_
