// Test-only decoders: see decode.h.
#include "writer/testing/decode.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "atf_v4.npb.h"
#include "atf_v4.pb-c.h"
#include "atf_v4.pb.h"
#include "pb_decode.h"

namespace atf_test {

bool Event::operator==(const Event &o) const {
  return event_id == o.event_id && thread_id == o.thread_id && has_timestamp == o.has_timestamp &&
         seconds == o.seconds && nanos == o.nanos && kind == o.kind &&
         executable_path == o.executable_path && operating_system == o.operating_system &&
         cpu_architecture == o.cpu_architecture && args == o.args && exit_code == o.exit_code &&
         symbol == o.symbol && address == o.address && registers == o.registers &&
         stack == o.stack && call_site == o.call_site && number == o.number;
}

std::string Describe(const Event &m) {
  std::ostringstream os;
  os << "{id=" << m.event_id << " tid=" << m.thread_id << " ts=" << m.seconds << "." << m.nanos
     << " kind=" << static_cast<int>(m.kind) << " symbol/name=\"" << m.symbol
     << "\" address=" << m.address << " call_site=" << m.call_site << " regs=[";
  for (const auto &r : m.registers) os << r.first << "=" << r.second << " ";
  os << "] stack=" << m.stack.size() << " args=" << m.args.size() << " exe=\"" << m.executable_path
     << "\" os=" << m.operating_system << " arch=" << m.cpu_architecture << " exit=" << m.exit_code
     << " number=" << m.number << "}";
  return os.str();
}

void PrintTo(const Event &e, std::ostream *os) { *os << Describe(e); }

bool SplitFraming(const std::string &stream, std::vector<std::string> *records,
                  size_t *complete_bytes) {
  size_t off = 0;
  records->clear();
  for (;;) {
    *complete_bytes = off;
    if (off == stream.size()) return true;
    uint64_t len = 0;
    size_t i = 0;
    bool done = false;
    for (; i < 10 && off + i < stream.size(); i++) {
      uint8_t b = static_cast<uint8_t>(stream[off + i]);
      len |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) {
        done = true;
        i++;
        break;
      }
    }
    if (!done || len > stream.size() - off - i) return false;
    records->push_back(stream.substr(off + i, len));
    off += i + len;
  }
}

// ---- protobuf-c ------------------------------------------------------------------------------

template <typename Entry>
static Registers CRegisters(size_t n, Entry **entries) {
  Registers out;
  for (size_t i = 0; i < n; ++i) out.emplace_back(entries[i]->key, entries[i]->value);
  return out;
}

bool DecodeProtobufC(const std::string &bytes, Event *m) {
  *m = Event();
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

// ---- Google's C++ protobuf -------------------------------------------------------------------

template <typename Map>
static Registers CppRegisters(const Map &map) {
  Registers out(map.begin(), map.end());
  std::sort(out.begin(), out.end());
  return out;
}

bool DecodeCpp(const std::string &bytes, Event *m) {
  *m = Event();
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

// ---- nanopb ----------------------------------------------------------------------------------

static bool ReadString(pb_istream_t *stream, const pb_field_t *, void **arg) {
  auto *s = static_cast<std::string *>(*arg);
  s->resize(stream->bytes_left);
  return pb_read(stream, reinterpret_cast<pb_byte_t *>(&(*s)[0]), s->size());
}

static bool AppendString(pb_istream_t *stream, const pb_field_t *field, void **arg) {
  auto *v = static_cast<std::vector<std::string> *>(*arg);
  v->emplace_back();
  void *target = &v->back();
  return ReadString(stream, field, &target);
}

template <typename Entry>
static bool ReadRegister(pb_istream_t *stream, const pb_msgdesc_t *fields, Registers *out) {
  Entry entry = {};
  std::string key;
  entry.key.funcs.decode = ReadString;
  entry.key.arg = &key;
  if (!pb_decode(stream, fields, &entry)) return false;
  out->emplace_back(key, entry.value);
  return true;
}

static bool CallRegister(pb_istream_t *s, const pb_field_t *, void **arg) {
  return ReadRegister<atf_v4_FunctionCall_ArgumentRegistersEntry>(
      s, atf_v4_FunctionCall_ArgumentRegistersEntry_fields, static_cast<Registers *>(*arg));
}
static bool ReturnRegister(pb_istream_t *s, const pb_field_t *, void **arg) {
  return ReadRegister<atf_v4_FunctionReturn_ReturnRegistersEntry>(
      s, atf_v4_FunctionReturn_ReturnRegistersEntry_fields, static_cast<Registers *>(*arg));
}
static bool SignalRegister(pb_istream_t *s, const pb_field_t *, void **arg) {
  return ReadRegister<atf_v4_SignalDelivery_RegistersEntry>(
      s, atf_v4_SignalDelivery_RegistersEntry_fields, static_cast<Registers *>(*arg));
}

static bool SetUpPayload(pb_istream_t *, const pb_field_t *field, void **arg) {
  auto *m = static_cast<Event *>(*arg);
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

bool DecodeNanopb(const std::string &bytes, Event *m, std::string *error) {
  *m = Event();
  atf_v4_Event ev = atf_v4_Event_init_zero;
  ev.cb_payload.funcs.decode = SetUpPayload;
  ev.cb_payload.arg = m;
  pb_istream_t stream =
      pb_istream_from_buffer(reinterpret_cast<const pb_byte_t *>(bytes.data()), bytes.size());
  if (!pb_decode(&stream, atf_v4_Event_fields, &ev)) {
    *error = PB_GET_ERROR(&stream);
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

bool DecodeNanopb(const std::string &bytes, Event *m) {
  std::string ignored;
  return DecodeNanopb(bytes, m, &ignored);
}

std::string DecodeAll(const std::string &bytes, Event *out) {
  Event c, n, cpp;
  if (!DecodeProtobufC(bytes, &c)) return "protobuf-c cannot unpack the record";
  std::string why;
  if (!DecodeNanopb(bytes, &n, &why)) return "nanopb cannot decode the record: " + why;
  if (!DecodeCpp(bytes, &cpp)) return "C++ protobuf cannot parse the record";
  *out = c;
  if (n != c) return "nanopb " + Describe(n) + " != protobuf-c " + Describe(c);
  Event sorted = c;
  std::sort(sorted.registers.begin(), sorted.registers.end());
  if (cpp != sorted) return "C++ " + Describe(cpp) + " != protobuf-c " + Describe(sorted);
  return "";
}

std::string ReadFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string DecodeEventsFile(const std::string &path, std::vector<Event> *events) {
  std::vector<std::string> records;
  size_t complete;
  const std::string bytes = ReadFile(path);
  if (!SplitFraming(bytes, &records, &complete)) {
    return "torn tail: " + std::to_string(bytes.size() - complete) + " bytes after the last record";
  }
  events->clear();
  for (size_t i = 0; i < records.size(); i++) {
    Event e;
    std::string err = DecodeAll(records[i], &e);
    if (!err.empty()) return "record " + std::to_string(i) + ": " + err;
    events->push_back(e);
  }
  return "";
}

}  // namespace atf_test
