/* Reference conversion of ring records to protobuf-c Events: see internal/convert.h. */
#include "writer/internal/convert.h"

#include "writer/internal/names.h"

void atf_convert_scratch_init(atf_convert_scratch *s, atf_arch arch) {
  static const Atf__V4__Event kEvent = ATF__V4__EVENT__INIT;
  static const Google__Protobuf__Timestamp kTimestamp = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  static const Atf__V4__TraceStart kStart = ATF__V4__TRACE_START__INIT;
  static const Atf__V4__TraceEnd kEnd = ATF__V4__TRACE_END__INIT;
  static const Atf__V4__FunctionCall kCall = ATF__V4__FUNCTION_CALL__INIT;
  static const Atf__V4__FunctionReturn kReturn = ATF__V4__FUNCTION_RETURN__INIT;
  static const Atf__V4__SignalDelivery kSignal = ATF__V4__SIGNAL_DELIVERY__INIT;
  static const Atf__V4__FunctionCall__ArgumentRegistersEntry kCallEntry =
      ATF__V4__FUNCTION_CALL__ARGUMENT_REGISTERS_ENTRY__INIT;
  static const Atf__V4__FunctionReturn__ReturnRegistersEntry kReturnEntry =
      ATF__V4__FUNCTION_RETURN__RETURN_REGISTERS_ENTRY__INIT;
  static const Atf__V4__SignalDelivery__RegistersEntry kSignalEntry =
      ATF__V4__SIGNAL_DELIVERY__REGISTERS_ENTRY__INIT;

  s->arch = arch;
  s->event = kEvent;
  s->timestamp = kTimestamp;
  s->trace_start = kStart;
  s->trace_end = kEnd;
  s->call = kCall;
  s->ret = kReturn;
  s->signal = kSignal;
  for (unsigned i = 0; i < ATF_RECORD_MAX_REGS; i++) {
    /* Unnamed slots are never used: the batch checker rejects reg_count past the names. */
    const char *call = atf_register_name(arch, ATF_KIND_CALL, i);
    const char *ret = atf_register_name(arch, ATF_KIND_RETURN, i);
    const char *sig = atf_register_name(arch, ATF_KIND_SIGNAL, i);
    s->call_entries[i] = kCallEntry;
    s->ret_entries[i] = kReturnEntry;
    s->signal_entries[i] = kSignalEntry;
    s->call_entries[i].key = (char *)(call ? call : "");
    s->ret_entries[i].key = (char *)(ret ? ret : "");
    s->signal_entries[i].key = (char *)(sig ? sig : "");
    s->call_ptrs[i] = &s->call_entries[i];
    s->ret_ptrs[i] = &s->ret_entries[i];
    s->signal_ptrs[i] = &s->signal_entries[i];
  }
  s->call.argument_registers = s->call_ptrs;
  s->ret.return_registers = s->ret_ptrs;
  s->signal.registers = s->signal_ptrs;
  s->event.timestamp = &s->timestamp;
}

void atf_timestamp_from_ns(uint64_t ns, Google__Protobuf__Timestamp *ts) {
  ts->seconds = (int64_t)(ns / 1000000000u);
  ts->nanos = (int32_t)(ns % 1000000000u);
}

/* The three entry types share one layout (base, key, value); only their descriptors differ. */
#define SET_VALUES(entries, regs, n)                                        \
  do {                                                                      \
    for (unsigned i_ = 0; i_ < (n); i_++) (entries)[i_].value = (regs)[i_]; \
  } while (0)

Atf__V4__Event *atf_convert_record(atf_convert_scratch *s, const atf_ring_record *r,
                                   const char *symbol, const char *os, uint32_t max_stack,
                                   uint64_t event_id, int *stack_truncated) {
  Atf__V4__Event *ev = &s->event;
  const uint64_t *regs = atf_record_regs_const(r);
  ev->event_id = event_id;
  ev->thread_id = r->thread_id;
  atf_timestamp_from_ns(r->timestamp_ns, &s->timestamp);
  *stack_truncated = 0;
  switch (r->kind) {
    case ATF_KIND_CALL:
      s->call.symbol = (char *)symbol;
      s->call.address = r->address;
      s->call.call_site = atf_record_call_site(r);
      s->call.n_argument_registers = r->reg_count;
      SET_VALUES(s->call_entries, regs, r->reg_count);
      s->call.stack_shallow_copy.data = (uint8_t *)atf_record_stack_const(r);
      s->call.stack_shallow_copy.len = r->stack_len;
      if (r->stack_len > max_stack) {
        s->call.stack_shallow_copy.len = max_stack;
        *stack_truncated = 1;
      }
      ev->payload_case = ATF__V4__EVENT__PAYLOAD_FUNCTION_CALL;
      ev->function_call = &s->call;
      break;
    case ATF_KIND_RETURN:
      s->ret.symbol = (char *)symbol;
      s->ret.address = r->address;
      s->ret.n_return_registers = r->reg_count;
      SET_VALUES(s->ret_entries, regs, r->reg_count);
      ev->payload_case = ATF__V4__EVENT__PAYLOAD_FUNCTION_RETURN;
      ev->function_return = &s->ret;
      break;
    case ATF_KIND_SIGNAL:
      s->signal.number = r->value;
      s->signal.name = (char *)atf_signal_name_for_os(os, r->value, s->signal_name);
      s->signal.n_registers = r->reg_count;
      SET_VALUES(s->signal_entries, regs, r->reg_count);
      ev->payload_case = ATF__V4__EVENT__PAYLOAD_SIGNAL_DELIVERY;
      ev->signal_delivery = &s->signal;
      break;
    default: /* ATF_KIND_TRACE_END */
      s->trace_end.exit_code = r->value;
      ev->payload_case = ATF__V4__EVENT__PAYLOAD_TRACE_END;
      ev->trace_end = &s->trace_end;
      break;
  }
  return ev;
}

Atf__V4__Event *atf_convert_trace_start(atf_convert_scratch *s, uint64_t event_id,
                                        int32_t thread_id, uint64_t timestamp_ns,
                                        const char *executable_path, char **args, size_t n_args,
                                        const char *os, const char *arch) {
  Atf__V4__Event *ev = &s->event;
  ev->event_id = event_id;
  ev->thread_id = thread_id;
  atf_timestamp_from_ns(timestamp_ns, &s->timestamp);
  s->trace_start.executable_path = (char *)executable_path;
  s->trace_start.args = args;
  s->trace_start.n_args = n_args;
  s->trace_start.operating_system = (char *)os;
  s->trace_start.cpu_architecture = (char *)arch;
  ev->payload_case = ATF__V4__EVENT__PAYLOAD_TRACE_START;
  ev->trace_start = &s->trace_start;
  return ev;
}
