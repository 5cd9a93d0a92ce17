#include "validator/testing/engine_compare.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace atf_test {
namespace {

struct Collector {
  EngineResult *r;
  std::string name;  // register name being assembled

  static void Text(void *ctx, atf_text_field f, const uint8_t *p, size_t n, unsigned flags) {
    auto *c = static_cast<Collector *>(ctx);
    c->r->text_calls++;
    const std::string chunk(reinterpret_cast<const char *>(p), n);
    std::string *target = nullptr;
    switch (f) {
      case ATF_TEXT_EXECUTABLE_PATH:
        target = &c->r->path;
        break;
      case ATF_TEXT_OPERATING_SYSTEM:
        target = &c->r->os;
        break;
      case ATF_TEXT_CPU_ARCHITECTURE:
        target = &c->r->arch;
        break;
      case ATF_TEXT_SYMBOL:
        target = &c->r->symbol;
        break;
      case ATF_TEXT_STACK:
        target = &c->r->stack;
        break;
      case ATF_TEXT_SIGNAL_NAME:
        target = &c->r->name;
        break;
      case ATF_TEXT_REGISTER_NAME:
        target = &c->name;
        break;
      case ATF_TEXT_ARG:
        if (flags & ATF_CHUNK_FIRST) c->r->args.emplace_back();
        target = &c->r->args.back();
        break;
      default:  // a field this collector does not know: the engine or this file is out of date
        std::fprintf(stderr, "engine_compare: unknown text field %d from an engine\n", (int)f);
        std::abort();
    }
    if ((flags & ATF_CHUNK_FIRST) && f != ATF_TEXT_ARG) target->clear();  // last occurrence wins
    target->append(chunk);
  }
  static void Reg(void *ctx, uint64_t v) {
    auto *c = static_cast<Collector *>(ctx);
    c->r->regs.emplace_back(c->name, v);
    c->name.clear();
  }
};

void Finish(EngineResult *r, bool ok, const atf_event &ev, const atf_decode_error &err) {
  r->ok = ok;
  if (ok) {
    r->ev = ev;
  } else {
    // What a visitor got from a rejected record is to be dropped (decode.h): not compared.
    *r = EngineResult();
    r->rule = err.rule != nullptr ? err.rule : "(no rule)";
    r->offset = err.offset;
    r->message = err.message;
  }
}

std::string Hex(const std::string &s) {
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

}  // namespace

EngineResult DecodeNanopb(const uint8_t *input, size_t input_len, uint64_t off, uint64_t len) {
  static const uint8_t kEmpty[1] = {0};
  atf_reader reader;
  atf_reader_init_mem(&reader, input_len ? input : kEmpty, input_len);
  EngineResult r;
  Collector c{&r, {}};
  const atf_event_visitor v = {&c, Collector::Text, Collector::Reg};
  atf_event ev;
  atf_decode_error err{};  // quiet = false: messages wanted
  const bool ok = atf_decode_record(&reader, off, len, &v, &ev, &err);
  atf_reader_free(&reader);
  Finish(&r, ok, ev, err);
  return r;
}

EngineResult DecodeUpb(atf_upb_engine *e, const uint8_t *input, uint64_t off, uint64_t len) {
  EngineResult r;
  Collector c{&r, {}};
  const atf_event_visitor v = {&c, Collector::Text, Collector::Reg};
  atf_event ev;
  atf_decode_error err{};  // quiet = false: messages wanted
  const bool ok = atf_upb_decode_record(e, len ? input + off : nullptr, len, off, &v, &ev, &err);
  Finish(&r, ok, ev, err);
  return r;
}

std::string EngineResult::Describe() const {
  std::ostringstream o;
  if (!ok) {
    o << "REJECTED " << rule << " at " << offset << " (" << message << ")";
    return o.str();
  }
  o << "VALID id=" << ev.event_id << " tid=" << ev.thread_id << " ts=" << ev.seconds << "."
    << ev.nanos << " time_ns=" << ev.time_ns << " payload=" << ev.payload
    << " exit=" << ev.exit_code << " address=" << ev.address << " call_site=" << ev.call_site
    << " signal=" << ev.signal_number << " unknown=" << ev.unknown_fields << " path=\"" << Hex(path)
    << "\" os=\"" << Hex(os) << "\" arch=\"" << Hex(arch) << "\" symbol=\"" << Hex(symbol)
    << "\" name=\"" << Hex(name) << "\" stack(" << stack.size() << ") args=[";
  for (const auto &a : args) o << "\"" << Hex(a) << "\" ";
  o << "] regs={";
  for (const auto &rg : regs) o << Hex(rg.first) << ":" << rg.second << " ";
  o << "} text_calls=" << text_calls;
  return o.str();
}

std::string EngineResult::Diff(const EngineResult &o) const {
  const bool same =
      ok == o.ok && rule == o.rule && offset == o.offset &&
      (!ok || (ev.event_id == o.ev.event_id && ev.thread_id == o.ev.thread_id &&
               ev.seconds == o.ev.seconds && ev.nanos == o.ev.nanos && ev.time_ns == o.ev.time_ns &&
               ev.payload == o.ev.payload && ev.exit_code == o.ev.exit_code &&
               ev.address == o.ev.address && ev.call_site == o.ev.call_site &&
               ev.signal_number == o.ev.signal_number && ev.unknown_fields == o.ev.unknown_fields &&
               path == o.path && os == o.os && arch == o.arch && symbol == o.symbol &&
               stack == o.stack && name == o.name && args == o.args && regs == o.regs));
  return same ? "" : Describe() + "\n  vs\n" + o.Describe();
}

}  // namespace atf_test
