// Toolchain cross-check: the four implementations built from proto/atf_v4.proto agree on the wire.
//
// For an Event of every payload type, encode with protobuf-c and decode with nanopb, upb and
// Google's C++ protobuf; then encode with Google's C++ protobuf and decode with protobuf-c, nanopb
// and upb. Every field must come back as it went in. A neutral C++ model (EventModel) stands
// between them so each implementation is only ever compared with the model, never with another
// implementation's structs. upb (third_party/upb, patched) has no code generator: it reads the
// schema at run time from protoc's descriptor set (//proto:atf_v4_descriptor_set), takes layouts
// from upb_msgfactory and gives fields back by reflection; this is upb itself, not the validator's
// upb engine.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "atf_v4.npb.h"
#include "atf_v4.pb-c.h"
#include "atf_v4.pb.h"
#include "atf_v4_descriptor_set.h"
#include "pb_decode.h"
#include "third_party/upb/upb_testing.h"
#include "upb/decode.h"
extern "C" {  // no extern "C" block in this header of upb's
#include "upb/legacy_msg_reflection.h"
}

namespace {

using Registers = std::vector<std::pair<std::string, uint64_t>>;

enum class Kind { kNone = 0, kStart = 10, kEnd = 11, kCall = 12, kReturn = 13, kSignal = 14 };

struct EventModel {
  uint64_t event_id = 0;
  int32_t thread_id = 0;
  bool has_timestamp = false;
  int64_t seconds = 0;
  int32_t nanos = 0;
  Kind kind = Kind::kNone;
  // TraceStart
  std::string executable_path, operating_system, cpu_architecture;
  std::vector<std::string> args;
  // TraceEnd
  int32_t exit_code = 0;
  // FunctionCall / FunctionReturn / SignalDelivery
  std::string symbol;  // also SignalDelivery.name
  uint64_t address = 0;
  uint64_t call_site = 0;  // FunctionCall
  Registers registers;
  std::string stack;
  int32_t number = 0;

  bool operator==(const EventModel &o) const {
    return event_id == o.event_id && thread_id == o.thread_id && has_timestamp == o.has_timestamp &&
           seconds == o.seconds && nanos == o.nanos && kind == o.kind &&
           executable_path == o.executable_path && operating_system == o.operating_system &&
           cpu_architecture == o.cpu_architecture && args == o.args && exit_code == o.exit_code &&
           call_site == o.call_site && symbol == o.symbol && address == o.address &&
           registers == o.registers && stack == o.stack && number == o.number;
  }
};

void PrintTo(const EventModel &m, std::ostream *os) {
  *os << "{id=" << m.event_id << " tid=" << m.thread_id << " ts=" << m.seconds << "." << m.nanos
      << " kind=" << static_cast<int>(m.kind) << " symbol/name=\"" << m.symbol
      << "\" address=" << m.address << " regs=" << m.registers.size() << " stack=" << m.stack.size()
      << " args=" << m.args.size() << " exit=" << m.exit_code << " number=" << m.number << "}";
}

// Maps have no order in C++ protobuf; compare register sets sorted by name.
EventModel Canonical(EventModel m) {
  std::sort(m.registers.begin(), m.registers.end());
  return m;
}

std::vector<EventModel> Samples() {
  std::vector<EventModel> out;
  EventModel start;
  start.event_id = 0;
  start.thread_id = 4242;
  start.has_timestamp = true;
  start.seconds = 1700000000;
  start.nanos = 123456789;
  start.kind = Kind::kStart;
  start.executable_path = "/usr/bin/tr\xc3\xa4\x63\x65\"d \\ app";  // non-ASCII, quote, backslash
  start.args = {"/usr/bin/traced", "--flag", "", "\xe2\x9c\x93"};
  start.operating_system = "linux";
  start.cpu_architecture = "x86_64";
  out.push_back(start);

  EventModel call;
  call.event_id = 1;
  call.thread_id = std::numeric_limits<int32_t>::max();
  call.has_timestamp = true;
  call.seconds = std::numeric_limits<int64_t>::max() / 1000000000;
  call.nanos = 999999999;
  call.kind = Kind::kCall;
  call.symbol = "_ZN3foo3barEv";
  call.address = std::numeric_limits<uint64_t>::max();
  call.call_site = 0x8000000000000001ull;
  call.registers = {{"RDI", 0},   {"RSI", 1},         {"RDX", 127},
                    {"RCX", 128}, {"R8", 1ull << 63}, {"R9", std::numeric_limits<uint64_t>::max()}};
  for (int i = 0; i < 256; ++i) call.stack.push_back(static_cast<char>(i));
  out.push_back(call);

  EventModel ret;
  ret.event_id = 2;
  ret.thread_id = -1;
  ret.has_timestamp = true;
  ret.seconds = 0;
  ret.nanos = 0;
  ret.kind = Kind::kReturn;
  ret.symbol = "main";
  ret.address = 0x401000;
  ret.registers = {{"X0", 0xdeadbeefcafebabeull}, {"X1", 16384}};
  out.push_back(ret);

  EventModel sig;
  sig.event_id = 3;
  sig.thread_id = 7;
  sig.has_timestamp = true;
  sig.seconds = 1;
  sig.nanos = 1;
  sig.kind = Kind::kSignal;
  sig.number = 11;
  sig.symbol = "SIGSEGV";
  const char *names[] = {"RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP", "R8",
                         "R9",  "R10", "R11", "R12", "R13", "R14", "R15", "RIP", "RFLAGS"};
  uint64_t v = 1;
  for (const char *n : names) {
    sig.registers.emplace_back(n, v);
    v = v * 131 + 7;
  }
  out.push_back(sig);

  EventModel end;
  end.event_id = std::numeric_limits<uint64_t>::max();
  end.thread_id = std::numeric_limits<int32_t>::min();
  end.has_timestamp = true;
  end.seconds = 1700000001;
  end.nanos = 5;
  end.kind = Kind::kEnd;
  end.exit_code = -129;
  out.push_back(end);
  return out;
}

// ---------------------------------------------------------------------------------------------
// protobuf-c

std::string PackProtobufC(const EventModel &m) {
  Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  ts.seconds = m.seconds;
  ts.nanos = m.nanos;
  Atf__V4__Event ev = ATF__V4__EVENT__INIT;
  ev.event_id = m.event_id;
  ev.thread_id = m.thread_id;
  ev.timestamp = m.has_timestamp ? &ts : nullptr;

  std::vector<char *> args;
  for (const auto &a : m.args) args.push_back(const_cast<char *>(a.c_str()));
  Atf__V4__TraceStart start = ATF__V4__TRACE_START__INIT;
  Atf__V4__TraceEnd end = ATF__V4__TRACE_END__INIT;
  Atf__V4__FunctionCall call = ATF__V4__FUNCTION_CALL__INIT;
  Atf__V4__FunctionReturn ret = ATF__V4__FUNCTION_RETURN__INIT;
  Atf__V4__SignalDelivery sig = ATF__V4__SIGNAL_DELIVERY__INIT;
  // Map entries share one layout (base, key, value); each kind still gets its own descriptor.
  std::vector<Atf__V4__FunctionCall__ArgumentRegistersEntry> call_regs;
  std::vector<Atf__V4__FunctionReturn__ReturnRegistersEntry> ret_regs;
  std::vector<Atf__V4__SignalDelivery__RegistersEntry> sig_regs;
  std::vector<void *> reg_ptrs;
  for (const auto &r : m.registers) {
    Atf__V4__FunctionCall__ArgumentRegistersEntry c =
        ATF__V4__FUNCTION_CALL__ARGUMENT_REGISTERS_ENTRY__INIT;
    Atf__V4__FunctionReturn__ReturnRegistersEntry rr =
        ATF__V4__FUNCTION_RETURN__RETURN_REGISTERS_ENTRY__INIT;
    Atf__V4__SignalDelivery__RegistersEntry s = ATF__V4__SIGNAL_DELIVERY__REGISTERS_ENTRY__INIT;
    c.key = rr.key = s.key = const_cast<char *>(r.first.c_str());
    c.value = rr.value = s.value = r.second;
    call_regs.push_back(c);
    ret_regs.push_back(rr);
    sig_regs.push_back(s);
  }
  for (size_t i = 0; i < m.registers.size(); ++i) {
    if (m.kind == Kind::kCall) reg_ptrs.push_back(&call_regs[i]);
    if (m.kind == Kind::kReturn) reg_ptrs.push_back(&ret_regs[i]);
    if (m.kind == Kind::kSignal) reg_ptrs.push_back(&sig_regs[i]);
  }

  switch (m.kind) {
    case Kind::kStart:
      start.executable_path = const_cast<char *>(m.executable_path.c_str());
      start.n_args = args.size();
      start.args = args.data();
      start.operating_system = const_cast<char *>(m.operating_system.c_str());
      start.cpu_architecture = const_cast<char *>(m.cpu_architecture.c_str());
      ev.payload_case = ATF__V4__EVENT__PAYLOAD_TRACE_START;
      ev.trace_start = &start;
      break;
    case Kind::kEnd:
      end.exit_code = m.exit_code;
      ev.payload_case = ATF__V4__EVENT__PAYLOAD_TRACE_END;
      ev.trace_end = &end;
      break;
    case Kind::kCall:
      call.symbol = const_cast<char *>(m.symbol.c_str());
      call.address = m.address;
      call.call_site = m.call_site;
      call.n_argument_registers = reg_ptrs.size();
      call.argument_registers =
          reinterpret_cast<Atf__V4__FunctionCall__ArgumentRegistersEntry **>(reg_ptrs.data());
      call.stack_shallow_copy.len = m.stack.size();
      call.stack_shallow_copy.data =
          reinterpret_cast<uint8_t *>(const_cast<char *>(m.stack.data()));
      ev.payload_case = ATF__V4__EVENT__PAYLOAD_FUNCTION_CALL;
      ev.function_call = &call;
      break;
    case Kind::kReturn:
      ret.symbol = const_cast<char *>(m.symbol.c_str());
      ret.address = m.address;
      ret.n_return_registers = reg_ptrs.size();
      ret.return_registers =
          reinterpret_cast<Atf__V4__FunctionReturn__ReturnRegistersEntry **>(reg_ptrs.data());
      ev.payload_case = ATF__V4__EVENT__PAYLOAD_FUNCTION_RETURN;
      ev.function_return = &ret;
      break;
    case Kind::kSignal:
      sig.number = m.number;
      sig.name = const_cast<char *>(m.symbol.c_str());
      sig.n_registers = reg_ptrs.size();
      sig.registers = reinterpret_cast<Atf__V4__SignalDelivery__RegistersEntry **>(reg_ptrs.data());
      ev.payload_case = ATF__V4__EVENT__PAYLOAD_SIGNAL_DELIVERY;
      ev.signal_delivery = &sig;
      break;
    case Kind::kNone:
      break;
  }
  std::string out(atf__v4__event__get_packed_size(&ev), '\0');
  size_t n = atf__v4__event__pack(&ev, reinterpret_cast<uint8_t *>(&out[0]));
  EXPECT_EQ(n, out.size());
  return out;
}

template <typename Entry>
Registers CRegisters(size_t n, Entry **entries) {
  Registers out;
  for (size_t i = 0; i < n; ++i) out.emplace_back(entries[i]->key, entries[i]->value);
  return out;
}

bool UnpackProtobufC(const std::string &bytes, EventModel *m) {
  Atf__V4__Event *ev = atf__v4__event__unpack(nullptr, bytes.size(),
                                              reinterpret_cast<const uint8_t *>(bytes.data()));
  if (ev == nullptr) return false;
  m->event_id = ev->event_id;
  m->thread_id = ev->thread_id;
  m->has_timestamp = ev->timestamp != nullptr;
  if (ev->timestamp) {
    m->seconds = ev->timestamp->seconds;
    m->nanos = ev->timestamp->nanos;
  }
  m->kind = static_cast<Kind>(ev->payload_case);
  switch (ev->payload_case) {
    case ATF__V4__EVENT__PAYLOAD_TRACE_START:
      m->executable_path = ev->trace_start->executable_path;
      for (size_t i = 0; i < ev->trace_start->n_args; ++i)
        m->args.push_back(ev->trace_start->args[i]);
      m->operating_system = ev->trace_start->operating_system;
      m->cpu_architecture = ev->trace_start->cpu_architecture;
      break;
    case ATF__V4__EVENT__PAYLOAD_TRACE_END:
      m->exit_code = ev->trace_end->exit_code;
      break;
    case ATF__V4__EVENT__PAYLOAD_FUNCTION_CALL:
      m->symbol = ev->function_call->symbol;
      m->address = ev->function_call->address;
      m->call_site = ev->function_call->call_site;
      m->registers = CRegisters(ev->function_call->n_argument_registers,
                                ev->function_call->argument_registers);
      m->stack.assign(reinterpret_cast<const char *>(ev->function_call->stack_shallow_copy.data),
                      ev->function_call->stack_shallow_copy.len);
      break;
    case ATF__V4__EVENT__PAYLOAD_FUNCTION_RETURN:
      m->symbol = ev->function_return->symbol;
      m->address = ev->function_return->address;
      m->registers = CRegisters(ev->function_return->n_return_registers,
                                ev->function_return->return_registers);
      break;
    case ATF__V4__EVENT__PAYLOAD_SIGNAL_DELIVERY:
      m->number = ev->signal_delivery->number;
      m->symbol = ev->signal_delivery->name;
      m->registers = CRegisters(ev->signal_delivery->n_registers, ev->signal_delivery->registers);
      break;
    default:
      break;
  }
  atf__v4__event__free_unpacked(ev, nullptr);
  return true;
}

// ---------------------------------------------------------------------------------------------
// Google's C++ protobuf

std::string SerializeCpp(const EventModel &m) {
  atf::v4::Event ev;
  ev.set_event_id(m.event_id);
  ev.set_thread_id(m.thread_id);
  if (m.has_timestamp) {
    ev.mutable_timestamp()->set_seconds(m.seconds);
    ev.mutable_timestamp()->set_nanos(m.nanos);
  }
  switch (m.kind) {
    case Kind::kStart: {
      auto *s = ev.mutable_trace_start();
      s->set_executable_path(m.executable_path);
      for (const auto &a : m.args) s->add_args(a);
      s->set_operating_system(m.operating_system);
      s->set_cpu_architecture(m.cpu_architecture);
      break;
    }
    case Kind::kEnd:
      ev.mutable_trace_end()->set_exit_code(m.exit_code);
      break;
    case Kind::kCall: {
      auto *c = ev.mutable_function_call();
      c->set_symbol(m.symbol);
      c->set_address(m.address);
      c->set_call_site(m.call_site);
      for (const auto &r : m.registers) (*c->mutable_argument_registers())[r.first] = r.second;
      c->set_stack_shallow_copy(m.stack);
      break;
    }
    case Kind::kReturn: {
      auto *r = ev.mutable_function_return();
      r->set_symbol(m.symbol);
      r->set_address(m.address);
      for (const auto &x : m.registers) (*r->mutable_return_registers())[x.first] = x.second;
      break;
    }
    case Kind::kSignal: {
      auto *s = ev.mutable_signal_delivery();
      s->set_number(m.number);
      s->set_name(m.symbol);
      for (const auto &x : m.registers) (*s->mutable_registers())[x.first] = x.second;
      break;
    }
    case Kind::kNone:
      break;
  }
  std::string out;
  EXPECT_TRUE(ev.SerializeToString(&out));
  return out;
}

template <typename Map>
Registers CppRegisters(const Map &map) {
  Registers out(map.begin(), map.end());
  return out;
}

bool ParseCpp(const std::string &bytes, EventModel *m) {
  atf::v4::Event ev;
  if (!ev.ParseFromString(bytes)) return false;
  m->event_id = ev.event_id();
  m->thread_id = ev.thread_id();
  m->has_timestamp = ev.has_timestamp();
  m->seconds = ev.timestamp().seconds();
  m->nanos = ev.timestamp().nanos();
  m->kind = static_cast<Kind>(ev.payload_case());
  switch (ev.payload_case()) {
    case atf::v4::Event::kTraceStart:
      m->executable_path = ev.trace_start().executable_path();
      m->args.assign(ev.trace_start().args().begin(), ev.trace_start().args().end());
      m->operating_system = ev.trace_start().operating_system();
      m->cpu_architecture = ev.trace_start().cpu_architecture();
      break;
    case atf::v4::Event::kTraceEnd:
      m->exit_code = ev.trace_end().exit_code();
      break;
    case atf::v4::Event::kFunctionCall:
      m->symbol = ev.function_call().symbol();
      m->address = ev.function_call().address();
      m->call_site = ev.function_call().call_site();
      m->registers = CppRegisters(ev.function_call().argument_registers());
      m->stack = ev.function_call().stack_shallow_copy();
      break;
    case atf::v4::Event::kFunctionReturn:
      m->symbol = ev.function_return().symbol();
      m->address = ev.function_return().address();
      m->registers = CppRegisters(ev.function_return().return_registers());
      break;
    case atf::v4::Event::kSignalDelivery:
      m->number = ev.signal_delivery().number();
      m->symbol = ev.signal_delivery().name();
      m->registers = CppRegisters(ev.signal_delivery().registers());
      break;
    default:
      break;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// nanopb: strings, bytes and map entries arrive through callbacks.

bool ReadString(pb_istream_t *stream, const pb_field_t *, void **arg) {
  auto *s = static_cast<std::string *>(*arg);
  s->resize(stream->bytes_left);
  return pb_read(stream, reinterpret_cast<pb_byte_t *>(&(*s)[0]), s->size());
}

bool AppendString(pb_istream_t *stream, const pb_field_t *field, void **arg) {
  auto *v = static_cast<std::vector<std::string> *>(*arg);
  v->emplace_back();
  void *target = &v->back();
  return ReadString(stream, field, &target);
}

// The three map entry messages have the same fields (key = 1, value = 2); each is decoded with its
// own descriptor, chosen by the caller.
template <typename Entry>
bool ReadRegister(pb_istream_t *stream, const pb_msgdesc_t *fields, Registers *out) {
  Entry entry = {};
  std::string key;
  entry.key.funcs.decode = ReadString;
  entry.key.arg = &key;
  if (!pb_decode(stream, fields, &entry)) return false;
  out->emplace_back(key, entry.value);
  return true;
}

bool CallRegister(pb_istream_t *s, const pb_field_t *, void **arg) {
  return ReadRegister<atf_v4_FunctionCall_ArgumentRegistersEntry>(
      s, atf_v4_FunctionCall_ArgumentRegistersEntry_fields, static_cast<Registers *>(*arg));
}
bool ReturnRegister(pb_istream_t *s, const pb_field_t *, void **arg) {
  return ReadRegister<atf_v4_FunctionReturn_ReturnRegistersEntry>(
      s, atf_v4_FunctionReturn_ReturnRegistersEntry_fields, static_cast<Registers *>(*arg));
}
bool SignalRegister(pb_istream_t *s, const pb_field_t *, void **arg) {
  return ReadRegister<atf_v4_SignalDelivery_RegistersEntry>(
      s, atf_v4_SignalDelivery_RegistersEntry_fields, static_cast<Registers *>(*arg));
}

// Called by nanopb (submsg_callback) once it knows which payload member is next, before decoding
// it: install the callbacks of that member.
bool SetUpPayload(pb_istream_t *, const pb_field_t *field, void **arg) {
  auto *m = static_cast<EventModel *>(*arg);
  switch (field->tag) {
    case atf_v4_Event_trace_start_tag: {
      auto *s = static_cast<atf_v4_TraceStart *>(field->pData);
      s->executable_path = {{ReadString}, &m->executable_path};
      s->args = {{AppendString}, &m->args};
      s->operating_system = {{ReadString}, &m->operating_system};
      s->cpu_architecture = {{ReadString}, &m->cpu_architecture};
      break;
    }
    case atf_v4_Event_function_call_tag: {
      auto *c = static_cast<atf_v4_FunctionCall *>(field->pData);
      c->symbol = {{ReadString}, &m->symbol};
      c->argument_registers = {{CallRegister}, &m->registers};
      c->stack_shallow_copy = {{ReadString}, &m->stack};
      break;
    }
    case atf_v4_Event_function_return_tag: {
      auto *r = static_cast<atf_v4_FunctionReturn *>(field->pData);
      r->symbol = {{ReadString}, &m->symbol};
      r->return_registers = {{ReturnRegister}, &m->registers};
      break;
    }
    case atf_v4_Event_signal_delivery_tag: {
      auto *s = static_cast<atf_v4_SignalDelivery *>(field->pData);
      s->name = {{ReadString}, &m->symbol};
      s->registers = {{SignalRegister}, &m->registers};
      break;
    }
    default:
      break;
  }
  return true;
}

bool DecodeNanopb(const std::string &bytes, EventModel *m) {
  atf_v4_Event ev = atf_v4_Event_init_zero;
  ev.cb_payload.funcs.decode = SetUpPayload;
  ev.cb_payload.arg = m;
  pb_istream_t stream =
      pb_istream_from_buffer(reinterpret_cast<const pb_byte_t *>(bytes.data()), bytes.size());
  if (!pb_decode(&stream, atf_v4_Event_fields, &ev)) {
    ADD_FAILURE() << "nanopb: " << PB_GET_ERROR(&stream);
    return false;
  }
  m->event_id = ev.event_id;
  m->thread_id = ev.thread_id;
  m->has_timestamp = ev.has_timestamp;
  m->seconds = ev.timestamp.seconds;
  m->nanos = ev.timestamp.nanos;
  m->kind = static_cast<Kind>(ev.which_payload);
  if (ev.which_payload == atf_v4_Event_trace_end_tag) m->exit_code = ev.payload.trace_end.exit_code;
  if (ev.which_payload == atf_v4_Event_function_call_tag) {
    m->address = ev.payload.function_call.address;
    m->call_site = ev.payload.function_call.call_site;
  }
  if (ev.which_payload == atf_v4_Event_function_return_tag)
    m->address = ev.payload.function_return.address;
  if (ev.which_payload == atf_v4_Event_signal_delivery_tag)
    m->number = ev.payload.signal_delivery.number;
  return true;
}

// ---------------------------------------------------------------------------------------------
// upb: a message decoded into an arena, read back by field index (upb_msg_get, upb_msg_has).

class Upb {
 public:
  Upb() : schema_(atf_v4_descriptor_set, atf_v4_descriptor_set_size) {}

  bool Decode(const std::string &bytes, EventModel *m) {
    EXPECT_EQ(schema_.error(), "");
    upb::Arena arena;
    const upb_msglayout *l = schema_.Layout("atf.v4.Event");
    upb_msg *ev = upb_msg_new(l, arena.ptr());
    if (!upb_decode(bytes.data(), bytes.size(), ev, l, arena.ptr())) return false;
    m->event_id = Get(ev, "Event", "event_id").u64;
    m->thread_id = Get(ev, "Event", "thread_id").i32;
    const upb_msg *ts = Get(ev, "Event", "timestamp").msg;
    m->has_timestamp = ts != nullptr;
    if (ts != nullptr) {
      m->seconds = Get(ts, "google.protobuf.Timestamp", "seconds").i64;
      m->nanos = Get(ts, "google.protobuf.Timestamp", "nanos").i32;
    }
    static const struct {
      const char *field;
      const char *message;
      Kind kind;
    } kPayloads[] = {{"trace_start", "TraceStart", Kind::kStart},
                     {"trace_end", "TraceEnd", Kind::kEnd},
                     {"function_call", "FunctionCall", Kind::kCall},
                     {"function_return", "FunctionReturn", Kind::kReturn},
                     {"signal_delivery", "SignalDelivery", Kind::kSignal}};
    for (const auto &p : kPayloads) {
      if (!upb_msg_has(ev, schema_.Index("atf.v4.Event", p.field), l)) continue;
      m->kind = p.kind;
      const upb_msg *pl = Get(ev, "Event", p.field).msg;
      switch (p.kind) {
        case Kind::kStart: {
          m->executable_path = Str(pl, p.message, "executable_path");
          const upb_array *args = Get(pl, p.message, "args").arr;
          for (size_t i = 0; args != nullptr && i < upb_array_size(args); ++i) {
            const upb_strview a = upb_array_get(args, UPB_TYPE_STRING, i).str;
            m->args.emplace_back(a.data, a.size);
          }
          m->operating_system = Str(pl, p.message, "operating_system");
          m->cpu_architecture = Str(pl, p.message, "cpu_architecture");
          break;
        }
        case Kind::kEnd:
          m->exit_code = Get(pl, p.message, "exit_code").i32;
          break;
        case Kind::kCall:
          m->symbol = Str(pl, p.message, "symbol");
          m->address = Get(pl, p.message, "address").u64;
          m->call_site = Get(pl, p.message, "call_site").u64;
          m->registers = Registers(pl, p.message, "argument_registers");
          m->stack = Str(pl, p.message, "stack_shallow_copy");
          break;
        case Kind::kReturn:
          m->symbol = Str(pl, p.message, "symbol");
          m->address = Get(pl, p.message, "address").u64;
          m->registers = Registers(pl, p.message, "return_registers");
          break;
        case Kind::kSignal:
          m->number = Get(pl, p.message, "number").i32;
          m->symbol = Str(pl, p.message, "name");
          m->registers = Registers(pl, p.message, "registers");
          break;
        case Kind::kNone:
          break;
      }
    }
    return true;
  }

 private:
  static std::string Full(const char *message) {
    return std::string(message).find('.') == std::string::npos ? std::string("atf.v4.") + message
                                                               : message;
  }
  upb_msgval Get(const upb_msg *msg, const char *message, const char *field) {
    const std::string full = Full(message);
    return upb_msg_get(msg, schema_.Index(full.c_str(), field), schema_.Layout(full.c_str()));
  }
  std::string Str(const upb_msg *msg, const char *message, const char *field) {
    const upb_strview v = Get(msg, message, field).str;
    return std::string(v.data, v.size);
  }
  // A map field: its entries as upb decodes them, a repeated entry message in wire order.
  ::Registers Registers(const upb_msg *msg, const char *message, const char *field) {
    ::Registers out;
    const upb_array *entries = Get(msg, message, field).arr;
    const upb_msgdef *entry =
        upb_fielddef_msgsubdef(upb_msgdef_ntofz(schema_.Message(Full(message).c_str()), field));
    const upb_msglayout *el = schema_.Layout(entry);
    const int key = static_cast<int>(upb_fielddef_index(upb_msgdef_ntofz(entry, "key")));
    const int value = static_cast<int>(upb_fielddef_index(upb_msgdef_ntofz(entry, "value")));
    for (size_t i = 0; entries != nullptr && i < upb_array_size(entries); ++i) {
      const upb_msg *e = upb_array_get(entries, UPB_TYPE_MESSAGE, i).msg;
      const upb_strview k = upb_msg_get(e, key, el).str;
      out.emplace_back(std::string(k.data, k.size), upb_msg_get(e, value, el).u64);
    }
    return out;
  }

  upb_testing::Schema schema_;
};

bool DecodeUpb(const std::string &bytes, EventModel *m) {
  static Upb *upb = new Upb;
  return upb->Decode(bytes, m);
}

// ---------------------------------------------------------------------------------------------

class CrossCheck : public ::testing::TestWithParam<int> {};

TEST_P(CrossCheck, ProtobufCEncodedDecodesEverywhere) {
  const EventModel in = Samples()[GetParam()];
  const std::string bytes = PackProtobufC(in);
  ASSERT_FALSE(bytes.empty());

  EventModel by_nanopb, by_cpp, by_protobuf_c, by_upb;
  ASSERT_TRUE(DecodeNanopb(bytes, &by_nanopb));
  ASSERT_TRUE(ParseCpp(bytes, &by_cpp));
  ASSERT_TRUE(UnpackProtobufC(bytes, &by_protobuf_c));
  ASSERT_TRUE(DecodeUpb(bytes, &by_upb));
  // Wire order of map entries is protobuf-c's array order, and nanopb and upb see it as written.
  EXPECT_EQ(by_nanopb, in);
  EXPECT_EQ(by_protobuf_c, in);
  EXPECT_EQ(by_upb, in);
  EXPECT_EQ(Canonical(by_cpp), Canonical(in));
}

TEST_P(CrossCheck, CppEncodedDecodesEverywhere) {
  const EventModel in = Samples()[GetParam()];
  const std::string bytes = SerializeCpp(in);
  ASSERT_FALSE(bytes.empty());

  EventModel by_nanopb, by_protobuf_c, by_upb;
  ASSERT_TRUE(DecodeNanopb(bytes, &by_nanopb));
  ASSERT_TRUE(UnpackProtobufC(bytes, &by_protobuf_c));
  ASSERT_TRUE(DecodeUpb(bytes, &by_upb));
  EXPECT_EQ(Canonical(by_nanopb), Canonical(in));
  EXPECT_EQ(Canonical(by_protobuf_c), Canonical(in));
  EXPECT_EQ(Canonical(by_upb), Canonical(in));
}

TEST_P(CrossCheck, EncodersAgreeByteForByteWithoutMaps) {
  // With at most one map entry there is no ordering freedom, so both encoders must emit the same
  // canonical bytes (fields in number order, minimal varints), as long as the entry's value is not
  // zero (see MapEntryWithZeroValueDiffers).
  EventModel in = Samples()[GetParam()];
  if (in.registers.size() > 1) in.registers.resize(1);
  for (auto &r : in.registers) r.second |= 1;
  EXPECT_EQ(PackProtobufC(in), SerializeCpp(in));
}

TEST(CrossCheck, MapEntryWithZeroValueDiffers) {
  // Google's C++ protobuf always writes both fields of a map entry; protobuf-c treats the entry as
  // an ordinary proto3 message and omits a zero value. Both are valid encodings of the same map,
  // which is why readers must not assume one of them and the writer is compared with protobuf-c.
  EventModel in = Samples()[2];
  in.registers = {{"RAX", 0}};
  const std::string c = PackProtobufC(in);
  const std::string cpp = SerializeCpp(in);
  EXPECT_EQ(cpp.size(), c.size() + 2);  // the explicit "value = 0": tag 0x10, varint 0x00
  EXPECT_NE(cpp.find(std::string("RAX\x10\x00", 5)), std::string::npos);
  EventModel a, b, ua, ub;
  ASSERT_TRUE(DecodeNanopb(c, &a));
  ASSERT_TRUE(DecodeNanopb(cpp, &b));
  ASSERT_TRUE(DecodeUpb(c, &ua));
  ASSERT_TRUE(DecodeUpb(cpp, &ub));
  EXPECT_EQ(a, in);
  EXPECT_EQ(b, in);
  EXPECT_EQ(ua, in);
  EXPECT_EQ(ub, in);
}

std::string SampleName(const ::testing::TestParamInfo<int> &info) {
  static const char *const kNames[] = {"TraceStart", "FunctionCall", "FunctionReturn",
                                       "SignalDelivery", "TraceEnd"};
  return kNames[info.param];
}

INSTANTIATE_TEST_SUITE_P(EveryPayload, CrossCheck, ::testing::Range(0, 5), SampleName);

TEST(CrossCheck, NanopbAndUpbRejectTruncatedRecord) {
  // A decoder that accepted anything would pass the tests above; this one must fail.
  std::string bytes = PackProtobufC(Samples()[1]);
  bytes.resize(bytes.size() - 3);
  atf_v4_Event ev = atf_v4_Event_init_zero;
  pb_istream_t stream =
      pb_istream_from_buffer(reinterpret_cast<const pb_byte_t *>(bytes.data()), bytes.size());
  EXPECT_FALSE(pb_decode(&stream, atf_v4_Event_fields, &ev));
  atf::v4::Event cpp;
  EXPECT_FALSE(cpp.ParseFromString(bytes));
  EventModel m;
  EXPECT_FALSE(DecodeUpb(bytes, &m));
}

}  // namespace
