#include "fuzz/event_decoders.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

#include "atf_v4.pb-c.h"
#include "atf_v4.pb.h"
#include "validator/internal/upb_engine.h"
#include "validator/testing/engine_compare.h"

namespace atf_fuzz {

bool Event::operator==(const Event &o) const {
  return event_id == o.event_id && thread_id == o.thread_id && seconds == o.seconds &&
         nanos == o.nanos && payload == o.payload && executable_path == o.executable_path &&
         operating_system == o.operating_system && cpu_architecture == o.cpu_architecture &&
         args == o.args && exit_code == o.exit_code && symbol == o.symbol && address == o.address &&
         stack == o.stack && call_site == o.call_site && signal_number == o.signal_number &&
         signal_name == o.signal_name && regs == o.regs;
}

static std::string Hex(const std::string &s) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kDigits[c >> 4];
      out += kDigits[c & 15];
    }
  }
  return out;
}

std::string Event::Describe() const {
  std::ostringstream o;
  o << "  event_id=" << event_id << " thread_id=" << thread_id << " ts=" << seconds << "." << nanos
    << " payload=" << payload << "\n";
  o << "  start: exe=\"" << Hex(executable_path) << "\" os=\"" << Hex(operating_system)
    << "\" arch=\"" << Hex(cpu_architecture) << "\" args=[";
  for (const auto &a : args) o << "\"" << Hex(a) << "\" ";
  o << "]\n  exit_code=" << exit_code << " symbol=\"" << Hex(symbol) << "\" address=" << address
    << " call_site=" << call_site << " stack(" << stack.size() << ")=\"" << Hex(stack.substr(0, 64))
    << "\"\n  signal=" << signal_number << " \"" << Hex(signal_name) << "\" regs={";
  for (const auto &r : regs) o << Hex(r.first) << ":" << r.second << " ";
  o << "}\n";
  return o.str();
}

Registers AsMap(const Registers &regs) {
  std::map<std::string, uint64_t> m;
  for (const auto &r : regs) m[r.first] = r.second;
  return Registers(m.begin(), m.end());
}

Event WithMapRegisters(Event e) {
  e.regs = AsMap(e.regs);
  return e;
}

void Fail(const char *file, int line, const std::string &message) {
  std::fprintf(stderr, "%s:%d: %s\n", file, line, message.c_str());
  std::abort();
}

void ExpectEqual(const Event &a, const Event &b, const char *what) {
  if (a == b) return;
  Fail(__FILE__, __LINE__, std::string(what) + " differ:\n" + a.Describe() + "vs\n" + b.Describe());
}

// ---- the validator ------------------------------------------------------------------------------
// Both engines through validator/testing/engine_compare (one visitor collector for every test that
// compares them), then into this file's Event.

static bool FromEngine(const atf_test::EngineResult &r, Event *out, std::string *rule) {
  *out = Event();
  if (!r.ok) {
    if (rule != nullptr) *rule = r.rule;
    return false;
  }
  out->executable_path = r.path;
  out->operating_system = r.os;
  out->cpu_architecture = r.arch;
  out->args = r.args;
  out->symbol = r.symbol;
  out->stack = r.stack;
  out->signal_name = r.name;
  out->regs = r.regs;
  const atf_event &ev = r.ev;
  out->event_id = ev.event_id;
  out->thread_id = ev.thread_id;
  out->seconds = ev.seconds;
  out->nanos = ev.nanos;
  out->payload = ev.payload;
  switch (ev.payload) {
    case ATF_PAYLOAD_TRACE_END:
      out->exit_code = ev.exit_code;
      break;
    case ATF_PAYLOAD_FUNCTION_CALL:
      out->address = ev.address;
      out->call_site = ev.call_site;
      break;
    case ATF_PAYLOAD_FUNCTION_RETURN:
      out->address = ev.address;
      break;
    case ATF_PAYLOAD_SIGNAL_DELIVERY:
      out->signal_number = ev.signal_number;
      break;
    default:
      break;
  }
  return true;
}

bool DecodeWithValidator(const uint8_t *body, size_t len, Event *out, std::string *rule) {
  return FromEngine(atf_test::DecodeNanopb(body, len, 0, len), out, rule);
}

bool DecodeWithUpbEngine(const uint8_t *body, size_t len, Event *out, std::string *rule) {
  static thread_local struct Engine {
    atf_upb_engine *e = atf_upb_engine_new(0);
    ~Engine() { atf_upb_engine_free(e); }
  } engine;
  if (engine.e == nullptr) Fail(__FILE__, __LINE__, "upb engine: cannot load the schema");
  return FromEngine(atf_test::DecodeUpb(engine.e, body, 0, len), out, rule);
}

// ---- protobuf-c ---------------------------------------------------------------------------------

template <typename Entry>
static Registers EntriesOf(Entry *const *entries, size_t n) {
  Registers r;
  for (size_t i = 0; i < n; ++i) r.emplace_back(entries[i]->key, entries[i]->value);
  return r;
}

bool DecodeWithProtobufC(const uint8_t *body, size_t len, Event *out, std::string *repacked) {
  *out = Event();
  Atf__V4__Event *ev = atf__v4__event__unpack(nullptr, len, body);
  if (ev == nullptr) return false;
  out->event_id = ev->event_id;
  out->thread_id = ev->thread_id;
  if (ev->timestamp != nullptr) {
    out->seconds = ev->timestamp->seconds;
    out->nanos = ev->timestamp->nanos;
  }
  out->payload = ev->payload_case;
  switch (ev->payload_case) {
    case ATF__V4__EVENT__PAYLOAD_TRACE_START: {
      const Atf__V4__TraceStart *s = ev->trace_start;
      out->executable_path = s->executable_path;
      for (size_t i = 0; i < s->n_args; ++i) out->args.emplace_back(s->args[i]);
      out->operating_system = s->operating_system;
      out->cpu_architecture = s->cpu_architecture;
      break;
    }
    case ATF__V4__EVENT__PAYLOAD_TRACE_END:
      out->exit_code = ev->trace_end->exit_code;
      break;
    case ATF__V4__EVENT__PAYLOAD_FUNCTION_CALL: {
      const Atf__V4__FunctionCall *f = ev->function_call;
      out->symbol = f->symbol;
      out->address = f->address;
      out->call_site = f->call_site;
      out->regs = EntriesOf(f->argument_registers, f->n_argument_registers);
      out->stack.assign(reinterpret_cast<const char *>(f->stack_shallow_copy.data),
                        f->stack_shallow_copy.len);
      break;
    }
    case ATF__V4__EVENT__PAYLOAD_FUNCTION_RETURN: {
      const Atf__V4__FunctionReturn *f = ev->function_return;
      out->symbol = f->symbol;
      out->address = f->address;
      out->regs = EntriesOf(f->return_registers, f->n_return_registers);
      break;
    }
    case ATF__V4__EVENT__PAYLOAD_SIGNAL_DELIVERY: {
      const Atf__V4__SignalDelivery *s = ev->signal_delivery;
      out->signal_number = s->number;
      out->signal_name = s->name;
      out->regs = EntriesOf(s->registers, s->n_registers);
      break;
    }
    default:
      break;
  }
  if (repacked != nullptr) {
    repacked->assign(atf__v4__event__get_packed_size(ev), '\0');
    const size_t n = atf__v4__event__pack(ev, reinterpret_cast<uint8_t *>(&(*repacked)[0]));
    if (n != repacked->size())
      Fail(__FILE__, __LINE__, "protobuf-c pack size differs from get_packed_size");
  }
  atf__v4__event__free_unpacked(ev, nullptr);
  return true;
}

// ---- Google's C++ protobuf ----------------------------------------------------------------------

template <typename Map>
static Registers FromMap(const Map &m) {
  Registers r(m.begin(), m.end());
  return AsMap(r);
}

bool DecodeWithCpp(const uint8_t *body, size_t len, Event *out) {
  *out = Event();
  atf::v4::Event ev;
  if (!ev.ParseFromArray(body, static_cast<int>(len))) return false;
  out->event_id = ev.event_id();
  out->thread_id = ev.thread_id();
  out->seconds = ev.timestamp().seconds();
  out->nanos = ev.timestamp().nanos();
  out->payload = ev.payload_case();
  switch (ev.payload_case()) {
    case atf::v4::Event::kTraceStart: {
      const auto &s = ev.trace_start();
      out->executable_path = s.executable_path();
      out->args.assign(s.args().begin(), s.args().end());
      out->operating_system = s.operating_system();
      out->cpu_architecture = s.cpu_architecture();
      break;
    }
    case atf::v4::Event::kTraceEnd:
      out->exit_code = ev.trace_end().exit_code();
      break;
    case atf::v4::Event::kFunctionCall: {
      const auto &f = ev.function_call();
      out->symbol = f.symbol();
      out->address = f.address();
      out->call_site = f.call_site();
      out->regs = FromMap(f.argument_registers());
      out->stack = f.stack_shallow_copy();
      break;
    }
    case atf::v4::Event::kFunctionReturn: {
      const auto &f = ev.function_return();
      out->symbol = f.symbol();
      out->address = f.address();
      out->regs = FromMap(f.return_registers());
      break;
    }
    case atf::v4::Event::kSignalDelivery: {
      const auto &s = ev.signal_delivery();
      out->signal_number = s.number();
      out->signal_name = s.name();
      out->regs = FromMap(s.registers());
      break;
    }
    default:
      break;
  }
  return true;
}

// ---- UTF-8 --------------------------------------------------------------------------------------

bool IsValidUtf8(const std::string &str) {
  const auto *s = reinterpret_cast<const unsigned char *>(str.data());
  const size_t n = str.size();
  for (size_t i = 0; i < n;) {
    const unsigned c = s[i];
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      need = 1;
    } else if (c == 0xE0) {
      need = 2, lo = 0xA0;
    } else if (c == 0xED) {
      need = 2, hi = 0x9F;
    } else if (c >= 0xE1 && c <= 0xEF) {
      need = 2;
    } else if (c == 0xF0) {
      need = 3, lo = 0x90;
    } else if (c == 0xF4) {
      need = 3, hi = 0x8F;
    } else if (c >= 0xF1 && c <= 0xF3) {
      need = 3;
    } else {
      return false;
    }
    if (n - i <= need) return false;
    for (size_t k = 1; k <= need; ++k) {
      if (s[i + k] < lo || s[i + k] > hi) return false;
      lo = 0x80, hi = 0xBF;
    }
    i += need + 1;
  }
  return true;
}

}  // namespace atf_fuzz
