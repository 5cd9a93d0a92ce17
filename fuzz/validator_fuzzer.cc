// Fuzz target: the whole validator (atf_validate_buffers) on arbitrary bytes.
//
// Input layout (shared with //validator:validate_fuzzer, validator/fuzz_check.h): 2 bytes
// little-endian manifest length M (0xffff: no manifest), then events.bin, then the last M bytes are
// trace.json. Beyond the sanitizers (no crash, no UB, no leak) it asserts:
//   - validator/fuzz_check.cc's report invariants (see docs/security.md): the call succeeds, valid
//     iff no error, kept errors bounded and located inside their file, the valid prefix reported
//     exactly and holding only valid records, a valid input parsed by C++ protobuf too;
//   - per record, field for field: every record the validator's decoder accepts, Google's C++
//     protobuf parses to the same event (map semantics for the registers);
//   - the report's per-payload counts equal the records the decoder accepts, and a valid session
//     has exactly one TraceStart and one TraceEnd, and its valid prefix is the whole file.
#include <cstdint>
#include <string>

#include "fuzz/event_decoders.h"
#include "validator/atf/validate.h"
#include "validator/fuzz_check.h"
#include "validator/internal/reader.h"

namespace {

void CheckRecords(const uint8_t *events, size_t len) {
  atf_reader r;
  atf_reader_init_mem(&r, events, len);
  uint64_t accepted[ATF_VALIDATE_PAYLOAD_COUNT] = {};
  uint64_t off = 0;
  atf_frame f;
  while (atf_reader_frame(&r, off, &f) == ATF_FRAME_OK) {
    const uint8_t *body = events + f.body_offset;
    atf_fuzz::Event v, c;
    if (atf_fuzz::DecodeWithValidator(body, f.length, &v, nullptr)) {
      ATF_FUZZ_CHECK(v.payload >= atf_fuzz::kTraceStart && v.payload <= atf_fuzz::kSignal);
      accepted[v.payload - atf_fuzz::kTraceStart]++;
      if (!atf_fuzz::DecodeWithCpp(body, f.length, &c)) {
        atf_fuzz::Fail(__FILE__, __LINE__,
                       "validator accepts a record C++ protobuf rejects:\n" + v.Describe());
      }
      atf_fuzz::ExpectEqual(atf_fuzz::WithMapRegisters(v), c, "validator and C++ protobuf");
    }
    off = f.body_offset + f.length;
  }
  atf_reader_free(&r);

  atf_validate_report rep;
  ATF_FUZZ_CHECK(atf_validate_buffers(events, len, nullptr, 0, nullptr, &rep) == ATF_VALIDATE_OK);
  uint64_t total = 0;
  for (int i = 0; i < ATF_VALIDATE_PAYLOAD_COUNT; ++i) {
    ATF_FUZZ_CHECK(rep.counts[i] == accepted[i]);
    total += rep.counts[i];
  }
  ATF_FUZZ_CHECK(total <= rep.records);
  if (rep.valid) {
    ATF_FUZZ_CHECK(rep.counts[ATF_VALIDATE_TRACE_START] == 1 &&
                   rep.counts[ATF_VALIDATE_TRACE_END] == 1);
    ATF_FUZZ_CHECK(total == rep.records);
    ATF_FUZZ_CHECK(rep.valid_prefix_bytes == len && rep.valid_prefix_records == rep.records);
    ATF_FUZZ_CHECK(rep.has_time && rep.time_min_ns <= rep.time_max_ns);
  }
  atf_validate_report_free(&rep);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  atf_fuzz::CheckOne(data, size);
  if (size < 2) return 0;
  size_t m = data[0] | static_cast<size_t>(data[1]) << 8;
  if (m == 0xffff) m = 0;
  if (m > size - 2) m = size - 2;
  CheckRecords(data + 2, size - 2 - m);
  return 0;
}
