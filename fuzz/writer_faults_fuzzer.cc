// Fuzz target: the writer's durability contract (atf/writer.h) under injected file-system faults
// and session limits. Each input runs one writer program (writer_roundtrip_fuzzer.cc's language)
// twice: cleanly, with every check of the round-trip target, and again with a fault or limit; the
// second run is compared with the first.
//
// Input: u8 mode, u16 parameter (little-endian), then the program. mode % 9:
//   0 EINTR on every (2 + p % 5)-th write/fsync    1 writes cut to 1 + p % 64 bytes
//   2 ATF_FLUSH_INTERVAL with a 0 ns interval     3 ENOSPC once events.bin reaches p bytes
//   4 EIO once events.bin reaches p bytes         5 the (1 + p % 8)-th fsync fails with EIO
//   6 as 3, and ftruncate fails too               7 max_events = 1 + p % 64
//   8 max_file_bytes = p
// bit 6 adds EINTR on every third call and bit 7 writes cut to 7 bytes, to any mode.
//
// Asserts:
//   - transparent faults (EINTR, short writes, interval flushes) and hard faults that never fire
//     change nothing: same statuses, byte-identical events.bin and trace.json, same statistics;
//   - a hard fault: the call that meets it returns ATF_WRITER_E_NO_SPACE / ATF_WRITER_E_IO and
//     every later one ATF_WRITER_E_FAILED; no trace.json (nor its temporary file) is left;
//     events.bin is the clean run's file cut at a record boundary (any cut when ftruncate failed
//     too), never shorter than the last flush made durable; events_written / bytes_written
//     describe exactly its complete records, which the validator accepts as its valid prefix; a
//     fault during open leaves no events.bin;
//   - a limit: writes return ATF_WRITER_E_LIMIT from the record that meets it on; finalize
//     still succeeds; the session is the clean run's first records plus a TraceEnd, within the
//     limit, and
//     validates with its manifest (up to the clean run's own order.timestamp errors).
#include <errno.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "atf_v4.pb-c.h"
#include "fuzz/event_decoders.h"
#include "fuzz/writer_program.h"
#include "validator/atf/validate.h"

namespace {

using atf_fuzz::Fail;

// Offsets where the records of a well-framed file end (0 first).
std::vector<size_t> Boundaries(const std::string &f) {
  std::vector<size_t> b{0};
  size_t pos = 0;
  while (pos < f.size()) {
    uint64_t len = 0;
    for (int shift = 0;; shift += 7) {
      if (pos >= f.size() || shift > 63) return b;
      const uint8_t c = static_cast<uint8_t>(f[pos++]);
      len |= static_cast<uint64_t>(c & 0x7f) << shift;
      if (c < 0x80) break;
    }
    if (len > f.size() - pos) return b;
    pos += len;
    b.push_back(pos);
  }
  return b;
}

bool OnlyOrderErrors(const std::string &events, const std::string *manifest) {
  atf_validate_report rep;
  ATF_FUZZ_CHECK(
      atf_validate_buffers(reinterpret_cast<const uint8_t *>(events.data()), events.size(),
                           manifest ? reinterpret_cast<const uint8_t *>(manifest->data()) : nullptr,
                           manifest ? manifest->size() : 0, nullptr, &rep) == ATF_VALIDATE_OK);
  bool only = rep.errors_len == rep.error_count;
  for (size_t i = 0; i < rep.errors_len; ++i)
    only &= std::strcmp(rep.errors[i].rule, "order.timestamp") == 0;
  atf_validate_report_free(&rep);
  return only;
}

bool Validates(const atf_fuzz::WriterOutcome &o) {
  atf_validate_report rep;
  ATF_FUZZ_CHECK(atf_validate_buffers(reinterpret_cast<const uint8_t *>(o.events.data()),
                                      o.events.size(),
                                      reinterpret_cast<const uint8_t *>(o.manifest.data()),
                                      o.manifest.size(), nullptr, &rep) == ATF_VALIDATE_OK);
  const bool valid = rep.valid;
  atf_validate_report_free(&rep);
  return valid;
}

void ExpectSameRun(const atf_fuzz::WriterOutcome &a, const atf_fuzz::WriterOutcome &b) {
  ATF_FUZZ_CHECK(a.open_status == b.open_status && a.first_unexpected == ATF_WRITER_OK);
  ATF_FUZZ_CHECK(a.statuses == b.statuses);
  if (a.events != b.events) Fail(__FILE__, __LINE__, "events.bin differs from the clean run");
  if (a.manifest != b.manifest) Fail(__FILE__, __LINE__, "trace.json differs from the clean run");
  ATF_FUZZ_CHECK(a.stats.events_written == b.stats.events_written &&
                 a.stats.bytes_written == b.stats.bytes_written);
  ATF_FUZZ_CHECK(a.stats.stack_truncations == b.stats.stack_truncations &&
                 a.stats.utf8_replacements == b.stats.utf8_replacements);
}

void CheckHardFault(const atf_fuzz::WriterOutcome &got, const atf_fuzz::WriterOutcome &ref,
                    atf_writer_status injected, bool torn_allowed) {
  ATF_FUZZ_CHECK(!got.manifest_exists && !got.tmp_exists);
  if (got.open_status != ATF_WRITER_OK) {
    ATF_FUZZ_CHECK(got.open_status == injected && !got.events_exists);
    return;
  }
  // Statuses: the clean run's up to the failing call, which returns the error; FAILED after it.
  size_t i = 0;
  while (i < got.statuses.size() && i < ref.statuses.size() && got.statuses[i] == ref.statuses[i])
    ++i;
  if (i == got.statuses.size() || got.statuses[i] != injected) {
    Fail(__FILE__, __LINE__,
         "the failing call did not return the injected error (status " +
             std::to_string(i < got.statuses.size() ? got.statuses[i] : -1) + ")");
  }
  for (++i; i < got.statuses.size(); ++i) ATF_FUZZ_CHECK(got.statuses[i] == ATF_WRITER_E_FAILED);

  // events.bin: a prefix of the clean file, cut at a record boundary unless ftruncate failed too.
  ATF_FUZZ_CHECK(got.events_exists);
  ATF_FUZZ_CHECK(got.events.size() <= ref.events.size() &&
                 ref.events.compare(0, got.events.size(), got.events) == 0);
  const std::vector<size_t> b = Boundaries(ref.events);
  size_t complete = 0, records = 0;
  for (size_t k = 0; k < b.size() && b[k] <= got.events.size(); ++k) complete = b[k], records = k;
  if (!torn_allowed && complete != got.events.size()) {
    Fail(__FILE__, __LINE__,
         "events.bin ends inside a record after a write error: " +
             std::to_string(got.events.size()) + " bytes, last complete record ends at " +
             std::to_string(complete));
  }
  ATF_FUZZ_CHECK(got.stats.bytes_written == complete && got.stats.events_written == records);
  ATF_FUZZ_CHECK(got.durable <= complete);  // flushed bytes survive the failure
  // The complete records are the validator's valid prefix (all of them when the clean session
  // had no error; order errors of the clean session may end it earlier).
  if (complete > 0) {
    atf_validate_report rep;
    ATF_FUZZ_CHECK(atf_validate_buffers(reinterpret_cast<const uint8_t *>(got.events.data()),
                                        got.events.size(), nullptr, 0, nullptr,
                                        &rep) == ATF_VALIDATE_OK);
    ATF_FUZZ_CHECK(rep.records == records && rep.valid_prefix_bytes <= complete);
    if (Validates(ref)) ATF_FUZZ_CHECK(rep.valid_prefix_bytes == complete);
    atf_validate_report_free(&rep);
  }
}

void CheckLimit(const atf_fuzz::WriterOutcome &got, const atf_fuzz::WriterOutcome &ref,
                uint64_t max_events, uint64_t max_file_bytes) {
  ATF_FUZZ_CHECK(got.open_status == ATF_WRITER_OK && got.first_unexpected == ATF_WRITER_E_LIMIT);
  ATF_FUZZ_CHECK(got.finalize_status == ATF_WRITER_OK && got.manifest_exists && !got.tmp_exists);
  const std::vector<size_t> b = Boundaries(got.events);
  const std::vector<size_t> rb = Boundaries(ref.events);
  ATF_FUZZ_CHECK(b.back() == got.events.size() && b.size() >= 3);  // TraceStart ... TraceEnd
  const size_t n = b.size() - 1, before_end = b[n - 1];
  // All but the last record are the clean run's first records, byte for byte.
  ATF_FUZZ_CHECK(rb.size() > n - 1 && rb[n - 1] == before_end &&
                 ref.events.compare(0, before_end, got.events, 0, before_end) == 0);
  // The last one is finalize's TraceEnd, numbered after them.
  const size_t prefix = b[n - 1], body = got.events.size() - prefix;
  size_t hdr = 1;
  while (static_cast<uint8_t>(got.events[prefix + hdr - 1]) & 0x80) ++hdr;
  Atf__V4__Event *end = atf__v4__event__unpack(
      nullptr, body - hdr, reinterpret_cast<const uint8_t *>(got.events.data()) + prefix + hdr);
  ATF_FUZZ_CHECK(end != nullptr && end->payload_case == ATF__V4__EVENT__PAYLOAD_TRACE_END &&
                 end->event_id == ATF_WRITER_FIRST_EVENT_ID + (n - 1));
  atf__v4__event__free_unpacked(end, nullptr);
  if (max_events) ATF_FUZZ_CHECK(n - 1 <= max_events);
  if (max_file_bytes) ATF_FUZZ_CHECK(before_end <= max_file_bytes || n - 1 == 1);
  ATF_FUZZ_CHECK(got.stats.events_written == n && got.stats.bytes_written == got.events.size());
  if (OnlyOrderErrors(ref.events, &ref.manifest) && !OnlyOrderErrors(got.events, &got.manifest)) {
    Fail(__FILE__, __LINE__, "a session cut by a limit does not validate");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3) return 0;
  const uint8_t mode = data[0];
  const unsigned p = data[1] | static_cast<unsigned>(data[2]) << 8;
  const uint8_t *program = data + 3;
  const size_t program_size = size - 3;

  atf_fuzz::WriterOutcome ref, got;
  atf_fuzz::RunWriterProgram(program, program_size, atf_fuzz::WriterRun(), &ref);

  atf_fuzz::WriterRun run;
  run.strict = false;
  if (mode & 0x40) run.faults.eintr_every = 3;
  if (mode & 0x80) run.faults.short_write = 7;
  const unsigned kind = (mode & 0x3f) % 9;
  switch (kind) {
    case 0:
      run.faults.eintr_every = 2 + p % 5;
      break;
    case 1:
      run.faults.short_write = 1 + p % 64;
      break;
    case 2:
      run.interval_flush = true;
      break;
    case 3:
    case 6:
      run.faults.limit_on = true, run.faults.limit = p, run.faults.limit_errno = ENOSPC;
      run.faults.truncate_fails = kind == 6;
      break;
    case 4:
      run.faults.limit_on = true, run.faults.limit = p, run.faults.limit_errno = EIO;
      break;
    case 5:
      run.faults.fsync_fail_at = 1 + p % 8;
      break;
    case 7:
      run.max_events = 1 + p % 64;
      break;
    default:
      run.max_file_bytes = p;
      break;
  }
  atf_fuzz::RunWriterProgram(program, program_size, run, &got);

  if (getenv("ATF_FUZZ_TRACE")) {
    std::fprintf(
        stderr,
        "mode %u p %u: open %d hard_faults %u first_unexpected %d finalize %d events %zu/%zu\n",
        kind, p, got.open_status, got.hard_faults, got.first_unexpected, got.finalize_status,
        got.events.size(), ref.events.size());
  }
  if (got.hard_faults == 0 && got.first_unexpected == ATF_WRITER_OK) {
    ExpectSameRun(got, ref);
    if (kind == 2) ATF_FUZZ_CHECK(got.durable == got.events.size());
  } else if (kind == 7 || kind == 8) {
    CheckLimit(got, ref, run.max_events, run.max_file_bytes);
  } else {
    ATF_FUZZ_CHECK(got.hard_faults > 0);
    CheckHardFault(got, ref, kind == 3 || kind == 6 ? ATF_WRITER_E_NO_SPACE : ATF_WRITER_E_IO,
                   kind == 6);
  }
  return 0;
}
