/* internal/convert.h: ring record -> protobuf-c atf.v4.Event, the reference conversion.
 *
 * All storage the Event points into lives in a caller-provided atf_convert_scratch: the message
 * structs, one map-entry array per register-carrying payload sized ATF_RECORD_MAX_REGS, and a
 * buffer for "SIG<n>" names. Map-entry keys are filled once per architecture by
 * atf_convert_scratch_init(), so converting a record only stores numbers and pointers: nothing is
 * allocated, nothing is copied but the register values. The Event points into the record (stack
 * bytes) and into the symbol text, so it is valid while those are.
 */
#ifndef ATF_WRITER_INTERNAL_CONVERT_H_
#define ATF_WRITER_INTERNAL_CONVERT_H_

#include <stddef.h>
#include <stdint.h>

#include "writer/atf/ring_record.h"
#include "writer/atf/writer.h"
#include "atf_v4.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct atf_convert_scratch {
  atf_arch arch;
  Atf__V4__Event event;
  Google__Protobuf__Timestamp timestamp;
  Atf__V4__TraceStart trace_start;
  Atf__V4__TraceEnd trace_end;
  Atf__V4__FunctionCall call;
  Atf__V4__FunctionReturn ret;
  Atf__V4__SignalDelivery signal;
  Atf__V4__FunctionCall__ArgumentRegistersEntry call_entries[ATF_RECORD_MAX_REGS];
  Atf__V4__FunctionReturn__ReturnRegistersEntry ret_entries[ATF_RECORD_MAX_REGS];
  Atf__V4__SignalDelivery__RegistersEntry signal_entries[ATF_RECORD_MAX_REGS];
  Atf__V4__FunctionCall__ArgumentRegistersEntry *call_ptrs[ATF_RECORD_MAX_REGS];
  Atf__V4__FunctionReturn__ReturnRegistersEntry *ret_ptrs[ATF_RECORD_MAX_REGS];
  Atf__V4__SignalDelivery__RegistersEntry *signal_ptrs[ATF_RECORD_MAX_REGS];
  char signal_name[16];
} atf_convert_scratch;

/* Prepares `s` for records of `arch`: message headers, entry keys, entry pointer arrays. */
void atf_convert_scratch_init(atf_convert_scratch *s, atf_arch arch);

/* Exact split of nanoseconds since the epoch: seconds = ns / 1e9, nanos = ns % 1e9. */
void atf_timestamp_from_ns(uint64_t ns, Google__Protobuf__Timestamp *ts);

/* Converts one ring record of kind CALL, RETURN, SIGNAL or TRACE_END to s->event and returns it.
 * `symbol`: the sanitised symbol text for CALL/RETURN ("" when none). `os`: names signals
 * (internal/names.h). The stack copy is cut to `max_stack` bytes (*stack_truncated set to 1 then,
 * else 0). REQUIRES: r passed atf_batch_check() for s->arch. */
Atf__V4__Event *atf_convert_record(atf_convert_scratch *s, const atf_ring_record *r,
                                   const char *symbol, const char *os, uint32_t max_stack,
                                   uint64_t event_id, int *stack_truncated);

/* Builds a TraceStart event in s->event. Strings must be valid UTF-8 without NUL (sanitised) and
 * outlive the event; `args` has n_args non-NULL entries. */
Atf__V4__Event *atf_convert_trace_start(atf_convert_scratch *s, uint64_t event_id,
                                        int32_t thread_id, uint64_t timestamp_ns,
                                        const char *executable_path, char **args, size_t n_args,
                                        const char *os, const char *arch);

#ifdef __cplusplus
}
#endif

#endif /* ATF_WRITER_INTERNAL_CONVERT_H_ */
