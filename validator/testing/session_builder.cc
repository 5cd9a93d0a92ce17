#include "validator/testing/session_builder.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace atf_test {

atf::v4::Event EventAt(uint64_t id, int32_t tid, uint64_t ns) {
  atf::v4::Event e;
  e.set_event_id(id);
  e.set_thread_id(tid);
  e.mutable_timestamp()->set_seconds(static_cast<int64_t>(ns / 1000000000u));
  e.mutable_timestamp()->set_nanos(static_cast<int32_t>(ns % 1000000000u));
  return e;
}

atf::v4::Event Start(uint64_t id, uint64_t ns) {
  atf::v4::Event e = EventAt(id, 0, ns);
  auto *s = e.mutable_trace_start();
  s->set_executable_path(
      "/usr/bin/tr\xc3\xa4"
      "ced");
  s->add_args(
      "/usr/bin/tr\xc3\xa4"
      "ced");
  s->add_args("--flag=\"quoted\"\\");
  s->add_args("");
  s->set_operating_system("linux");
  s->set_cpu_architecture("x86_64");
  return e;
}

atf::v4::Event End(uint64_t id, uint64_t ns, int32_t exit_code) {
  atf::v4::Event e = EventAt(id, 0, ns);
  e.mutable_trace_end()->set_exit_code(exit_code);
  return e;
}

atf::v4::Event Call(uint64_t id, int32_t tid, uint64_t ns, const std::string &symbol,
                    uint64_t address) {
  atf::v4::Event e = EventAt(id, tid, ns);
  auto *c = e.mutable_function_call();
  c->set_symbol(symbol);
  c->set_address(address);
  const char *regs[] = {"RDI", "RSI", "RDX", "RCX", "R8", "R9"};
  uint64_t v = id;
  for (const char *r : regs)
    (*c->mutable_argument_registers())[r] = v = v * 6364136223846793005ull + 1;
  std::string stack;
  for (int i = 0; i < 128; ++i) stack.push_back(static_cast<char>(i * 7 + id));
  c->set_stack_shallow_copy(stack);
  return e;
}

atf::v4::Event Return(uint64_t id, int32_t tid, uint64_t ns, const std::string &symbol,
                      uint64_t address) {
  atf::v4::Event e = EventAt(id, tid, ns);
  auto *r = e.mutable_function_return();
  r->set_symbol(symbol);
  r->set_address(address);
  (*r->mutable_return_registers())["RAX"] = UINT64_MAX - id;
  (*r->mutable_return_registers())["RDX"] = 0;
  return e;
}

atf::v4::Event Signal(uint64_t id, int32_t tid, uint64_t ns, int32_t number,
                      const std::string &name) {
  atf::v4::Event e = EventAt(id, tid, ns);
  auto *s = e.mutable_signal_delivery();
  s->set_number(number);
  s->set_name(name);
  const char *regs[] = {"RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP", "R8",
                        "R9",  "R10", "R11", "R12", "R13", "R14", "R15", "RIP", "RFLAGS"};
  uint64_t v = 1;
  for (const char *r : regs) (*s->mutable_registers())[r] = v = v * 131 + 7;
  return e;
}

std::vector<atf::v4::Event> SampleSession(int calls_per_thread) {
  std::vector<atf::v4::Event> out;
  uint64_t id = 0, ns = kBaseNs;
  out.push_back(Start(id++, ns));
  for (int i = 0; i < calls_per_thread; ++i) {
    for (int32_t tid : {101, 102}) {
      const std::string sym = "_ZN3app4workEi" + std::to_string(i);
      out.push_back(Call(id++, tid, ns += 1000, sym, 0x401000 + 16 * i));
      out.push_back(Return(id++, tid, ns += 1, sym, 0x401000 + 16 * i));
    }
  }
  out.push_back(Signal(id++, 101, ns += 5, 11, "SIGSEGV"));
  out.push_back(End(id++, ns += 1, 139));
  return out;
}

// Deterministic: map entries sorted by key, so the generated corpus is the same in every run.
std::string Serialize(const atf::v4::Event &e) {
  std::string s;
  {
    google::protobuf::io::StringOutputStream raw(&s);
    google::protobuf::io::CodedOutputStream out(&raw);
    out.SetSerializationDeterministic(true);
    if (!e.SerializeToCodedStream(&out)) throw std::runtime_error("serialization failed");
  }
  return s;
}

std::string Varint(uint64_t v) {
  std::string s;
  do {
    uint8_t b = v & 0x7F;
    v >>= 7;
    if (v) b |= 0x80;
    s.push_back(static_cast<char>(b));
  } while (v);
  return s;
}

std::string Frame(const std::string &body) { return Varint(body.size()) + body; }

std::string Frames(const std::vector<atf::v4::Event> &events) {
  std::string out;
  for (const auto &e : events) out += Frame(Serialize(e));
  return out;
}

std::string Tag(uint32_t field, int wire_type) {
  return Varint((uint64_t{field} << 3) | wire_type);
}
std::string LenField(uint32_t field, const std::string &body) {
  return Tag(field, 2) + Varint(body.size()) + body;
}
std::string VarintField(uint32_t field, uint64_t v) { return Tag(field, 0) + Varint(v); }

uint64_t TimeNs(const atf::v4::Event &e) {
  return static_cast<uint64_t>(e.timestamp().seconds()) * 1000000000u +
         static_cast<uint64_t>(e.timestamp().nanos());
}

Manifest ManifestFor(const std::vector<atf::v4::Event> &events, const std::string &bytes) {
  Manifest m;
  m.event_count = events.size();
  m.bytes_written = bytes.size();
  m.time_start_ns = UINT64_MAX;
  for (const auto &e : events) {
    m.time_start_ns = std::min(m.time_start_ns, TimeNs(e));
    m.time_end_ns = std::max(m.time_end_ns, TimeNs(e));
  }
  if (events.empty()) m.time_start_ns = 0;
  return m;
}

std::string ManifestJson(const Manifest &m) {
  std::string s = "{\n  \"os\": \"linux\",\n  \"arch\": \"x86_64\",\n";
  s += "  \"pid\": " + std::to_string(m.pid) + ",\n";
  s += "  \"sessionId\": " + std::to_string(m.session_id) + ",\n";
  s += "  \"timeStartNs\": " + std::to_string(m.time_start_ns) + ",\n";
  s += "  \"timeEndNs\": " + std::to_string(m.time_end_ns) + ",\n";
  s += "  \"eventCount\": " + std::to_string(m.event_count) + ",\n";
  s += "  \"bytesWritten\": " + std::to_string(m.bytes_written) + ",\n";
  s += "  \"modules\": [";
  for (size_t i = 0; i < m.modules.size(); ++i) s += (i ? ", \"" : "\"") + m.modules[i] + "\"";
  s += "]\n}\n";
  return s;
}

static void WriteFile(const std::string &path, const std::string &data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!f) throw std::runtime_error("cannot write " + path);
}

void WriteSession(const std::string &dir, const std::string &events, const std::string *manifest) {
  ::mkdir(dir.c_str(), 0755);
  WriteFile(dir + "/events.bin", events);
  if (manifest != nullptr) WriteFile(dir + "/trace.json", *manifest);
}

std::string RandomText(std::mt19937_64 &rng, size_t max_len, bool empty_piece) {
  static const char *const kPieces[] = {"a",
                                        "Z",
                                        "_",
                                        "::",
                                        "\"",
                                        "\\",
                                        "\n",
                                        "\x01",
                                        "\xc3\xa4",
                                        "\xe2\x9c\x93",
                                        "\xf0\x9f\x98\x80",
                                        "\x7f",
                                        " ",
                                        ""};
  std::string s;
  const size_t n = rng() % (max_len + 1);
  const size_t pieces = sizeof kPieces / sizeof kPieces[0] - (empty_piece ? 0 : 1);
  while (s.size() < n) s += kPieces[rng() % pieces];
  return s;
}

atf::v4::Event RandomEvent(std::mt19937_64 &rng, const RandomEventOptions &o) {
  atf::v4::Event e;
  e.set_event_id(rng() >> (rng() % 64));
  e.set_thread_id(static_cast<int32_t>(rng()));
  if (!o.sometimes_no_timestamp || rng() % 50 != 0) {
    e.mutable_timestamp()->set_seconds(static_cast<int64_t>(rng() % 18446744073ull));
    e.mutable_timestamp()->set_nanos(static_cast<int32_t>(rng() % 1000000000));
  }
  auto regs = [&](auto *map) {
    const int n = static_cast<int>(rng() % 20);
    for (int i = 0; i < n; ++i) {
      const bool named = !o.sometimes_nameless_register || rng() % 30 != 0;
      const std::string key = std::string(named ? "R" : "") + std::to_string(rng() % 40);
      (*map)[key] = o.full_range_register_values ? rng() : rng() >> (rng() % 64);
    }
  };
  switch (rng() % 5) {
    case 0: {
      auto *s = e.mutable_trace_start();
      s->set_executable_path(RandomText(rng, 300, o.empty_text_piece));
      const int n = static_cast<int>(rng() % 6);
      for (int i = 0; i < n; ++i) s->add_args(RandomText(rng, 40, o.empty_text_piece));
      s->set_operating_system(RandomText(rng, 8, o.empty_text_piece));
      s->set_cpu_architecture(RandomText(rng, 8, o.empty_text_piece));
      break;
    }
    case 1:
      e.mutable_trace_end()->set_exit_code(static_cast<int32_t>(rng()));
      break;
    case 2: {
      auto *c = e.mutable_function_call();
      c->set_symbol(RandomText(rng, 100, o.empty_text_piece));
      c->set_address(rng());
      regs(c->mutable_argument_registers());
      std::string stack(rng() % (o.max_stack + 1), '\0');
      for (auto &ch : stack) ch = static_cast<char>(rng());
      c->set_stack_shallow_copy(stack);
      break;
    }
    case 3: {
      auto *r = e.mutable_function_return();
      r->set_symbol(RandomText(rng, 100, o.empty_text_piece));
      r->set_address(rng());
      regs(r->mutable_return_registers());
      break;
    }
    default: {
      auto *s = e.mutable_signal_delivery();
      s->set_number(static_cast<int32_t>(rng()));
      s->set_name(RandomText(rng, 12, o.empty_text_piece));
      regs(s->mutable_registers());
      break;
    }
  }
  return e;
}

}  // namespace atf_test
