// Fuzz target: the writer, differentially. Fuzz bytes are a program that opens a session, interns
// symbols, builds batches of ring records of every kind and writes them, flushes and finalizes;
// the session goes to an in-memory file system through the writer's atf_file_ops seam. The target
// keeps its own model of what every event must be and checks events.bin and trace.json:
//
//   - framing: read here, independently; one record per expected event, canonical length varints;
//   - every record decoded by the validator's two engines (nanopb and upb), by protobuf-c and by
//     Google's C++ protobuf equals the expected event field for field (C++ through map semantics
//     for the registers);
//   - re-encoding the protobuf-c decode with atf__v4__event__pack gives the record's bytes;
//   - each ring record encoded again with atf_encode_record (writer/fastpath for calls and
//     returns) and with atf_encode_record_reference (protobuf-c) gives those same bytes, also
//     when `cap` is too small for the fast path (and nothing is written when it is too small);
//   - text: a symbol, executable path or argument that was valid UTF-8 without NUL comes back
//     unchanged; otherwise the output is valid UTF-8 with every well-formed sequence of the input
//     kept in order and each run of bad bytes replaced by 1..(run length) U+FFFD (checked here,
//     not with the writer's sanitiser);
//   - FunctionCall.call_site: calls carry one (ATF_RECORD_FLAG_CALL_SITE) half of the time, and
//     every decoder above must return it;
//   - atf_validate_buffers on events.bin + trace.json reports exactly the errors the model predicts
//     (none, unless the program made a thread's timestamps decrease: then order.timestamp at those
//     records; or a return that does not close its thread's innermost open call, by the model's own
//     stacks: then session.call_return there), with exact counts, time range and sizes;
//   - batch semantics: a batch with a bad record (reg_count past the kind's names, a stack on a
//     non-call, an unknown symbol id, an unknown flag or the call-site flag on a return, an event
//     after TRACE_END) is refused whole
//     (ATF_WRITER_E_BAD_RECORD), events after a written TRACE_END are refused (ATF_WRITER_E_STATE);
//   - writer statistics: events and bytes written, stack truncations, UTF-8 replacements.
//
// Program (every read past the end yields 0):
//   u8  config: arch = %3 (unknown, x86_64, arm64), os = /3 %3 (linux, darwin, unknown),
//       flush policy = /9 %2 (explicit, every batch)
//   u8  bit 0..2: max_stack_bytes from {0,1,7,32,256,1000,4095,4096}; bit 3: 64 KiB write buffer;
//       bit 4: the writer's I/O thread (options.io_thread)
//   u32 session thread id (0 -> 1);  str executable path;  u8 argc %4, then argc strings
//   u32 exit code for finalize
//   then operations, u8 op %8: 0 intern symbol (str, u8 repeat selector: x1, x1, x3, x300),
//       1..4 append a CALL / RETURN / SIGNAL / TRACE_END record, 5 append a PAD record,
//       6 write the batch, 7 atf_writer_flush.  The last batch is written at the end.
//   str = u8 length + bytes. Record fields: see AppendRecord().
#include <cstddef>
#include <cstdint>

#include "fuzz/writer_program.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  atf_fuzz::WriterOutcome out;
  atf_fuzz::RunWriterProgram(data, size, atf_fuzz::WriterRun(), &out);
  return 0;
}
