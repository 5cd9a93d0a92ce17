// writer_program.h: runs a writer fuzz program (the byte language documented in
// writer_roundtrip_fuzzer.cc) against the real writer on an in-memory file system, keeping a model
// of every event it must write.
//
// Strict runs (the round-trip target) check every status against the model and then the whole
// session (CheckSession: three decoders, both encoding paths, validator, statistics). Relaxed runs
// (the fault target) stop issuing operations at the first status the model did not predict (an
// injected I/O error or a limit) and only report what happened, for the caller to compare with a
// strict run of the same program.
#ifndef ATF_FUZZ_WRITER_PROGRAM_H_
#define ATF_FUZZ_WRITER_PROGRAM_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "writer/atf/writer.h"
#include "fuzz/mem_file_ops.h"

namespace atf_fuzz {

struct WriterRun {
  bool strict = true;
  uint64_t max_events = 0, max_file_bytes = 0;
  bool interval_flush = false;  // ATF_FLUSH_INTERVAL (instead of the program's policy)
  uint64_t flush_interval_ns = 0;
  MemFs::Faults faults;
};

struct WriterOutcome {
  atf_writer_status open_status = ATF_WRITER_OK;
  // Every status after open (intern, write, flush, finalize), in call order.
  std::vector<atf_writer_status> statuses;
  atf_writer_status first_unexpected = ATF_WRITER_OK;  // the first status the model did not predict
  atf_writer_status finalize_status = ATF_WRITER_OK;
  bool events_exists = false, manifest_exists = false, tmp_exists = false;
  std::string events, manifest;
  atf_writer_stats stats = {};
  uint64_t durable = 0;      // bytes_durable after the last successful flush point
  unsigned hard_faults = 0;  // injected by the file system
};

void RunWriterProgram(const uint8_t *data, size_t size, const WriterRun &run, WriterOutcome *out);

}  // namespace atf_fuzz

#endif  // ATF_FUZZ_WRITER_PROGRAM_H_
