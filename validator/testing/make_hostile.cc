// Writes the hostile inputs of issue 12 for timing and memory measurements (the regression tests
// build their own, smaller ones):
//   make_hostile KIND DIR [N]
// KIND:
//   tid-flood N      valid session of about N MiB, FunctionReturns on 65536 thread ids that are
//                    multiples of 2^16 (they collide in a table hashed by tid * 2654435761)
//   tid-plain N      the same records on 65536 ordinary thread ids (1000..66535)
//   zeros N          events.bin of N MiB of zero bytes (sparse)
//   big-symbol N     TraceStart, a FunctionCall whose symbol is N MiB of zero bytes (a file hole),
//                    TraceEnd
//   registers N      TraceStart, a FunctionCall with N one-letter register entries, TraceEnd
//   corrupt N        valid session of about N MiB (no trace.json) with 0xff as record 10's first
//                    tag byte
//   last-registers N TraceStart, 100 calls, then a last FunctionCall with N register entries and no
//                    TraceEnd (a crashed session, no trace.json)
// Encoded with Google's C++ protobuf where the records are small; large ones are framed by hand.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "validator/testing/session_builder.h"

namespace {

using atf_test::Frame;
using atf_test::kBaseNs;
using atf_test::Serialize;

struct Out {
  int fd = -1;
  uint64_t bytes = 0, records = 0;
  bool Put(const std::string &s) {
    if (::pwrite(fd, s.data(), s.size(), static_cast<off_t>(bytes)) !=
        static_cast<ssize_t>(s.size()))
      return false;
    bytes += s.size();
    return true;
  }
  bool Record(const atf::v4::Event &e) {
    records++;
    return Put(Frame(Serialize(e)));
  }
};

// FunctionCall body with n register entries named "A" (value omitted: 0), symbol "f".
std::string ManyRegistersCall(uint64_t id, uint64_t ns, uint64_t n) {
  atf::v4::Event head = atf_test::Call(id, 1, ns, "f", 0x40);
  head.mutable_function_call()->clear_argument_registers();
  head.mutable_function_call()->clear_stack_shallow_copy();
  std::string payload = atf_test::LenField(1, "f") + atf_test::VarintField(2, 0x40);
  const std::string entry = atf_test::LenField(3, atf_test::LenField(1, "A"));
  std::string entries;
  entries.reserve(entry.size() * n);
  for (uint64_t i = 0; i < n; ++i) entries += entry;
  head.clear_function_call();
  return Serialize(head) + atf_test::LenField(12, payload + entries);
}

int Flood(Out *o, uint64_t target, bool colliding) {
  uint64_t id = 0, ns = kBaseNs;
  if (!o->Record(atf_test::Start(id++, ns))) return 2;
  for (uint64_t i = 0; o->bytes < target; ++i) {
    const uint32_t k = static_cast<uint32_t>(i % 65536);
    const int32_t tid = colliding ? static_cast<int32_t>(k << 16) : static_cast<int32_t>(1000 + k);
    atf::v4::Event e = atf_test::Return(id++, tid, ns += 10, "f", 0x40);
    if (!o->Record(e)) return 2;
  }
  return o->Record(atf_test::End(id++, ns + 1)) ? 0 : 2;
}

int Normal(Out *o, uint64_t target, bool corrupt) {
  uint64_t id = 0, ns = kBaseNs;
  if (!o->Record(atf_test::Start(id++, ns))) return 2;
  for (uint64_t pair = 0; o->bytes < target; ++pair) {
    const int32_t tid = 1000 + static_cast<int32_t>(pair % 8);
    const std::string sym = "_ZN7example6workerEi" + std::to_string(pair % 97);
    if (corrupt && o->records == 11) {  // record 11: a call (records 1, 3, ... start pairs)
      std::string body = Serialize(atf_test::Call(id++, tid, ns += 100, sym, 0x400000));
      body[0] = static_cast<char>(0xff);
      o->records++;
      if (!o->Put(Frame(body))) return 2;
      continue;
    }
    if (!o->Record(atf_test::Call(id++, tid, ns += 100, sym, 0x400000 + 16 * (pair % 97))))
      return 2;
    if (!o->Record(atf_test::Return(id++, tid, ns += 50, sym, 0x400000 + 16 * (pair % 97))))
      return 2;
  }
  return o->Record(atf_test::End(id++, ns + 1)) ? 0 : 2;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: make_hostile KIND DIR N (see the source for the kinds)\n");
    return 2;
  }
  const std::string kind = argv[1], dir = argv[2];
  const uint64_t n = std::strtoull(argv[3], nullptr, 10);
  ::mkdir(dir.c_str(), 0755);
  ::unlink((dir + "/trace.json").c_str());
  Out o;
  o.fd = ::open((dir + "/events.bin").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (o.fd < 0) return 2;
  int rc = 0;
  if (kind == "tid-flood" || kind == "tid-plain") {
    rc = Flood(&o, n << 20, kind == "tid-flood");
  } else if (kind == "zeros") {
    rc = ::ftruncate(o.fd, static_cast<off_t>(n << 20)) == 0 ? 0 : 2;
    o.bytes = n << 20;
  } else if (kind == "big-symbol") {
    // FunctionCall { symbol = n MiB of zeros }: the zeros are a hole in the file.
    atf::v4::Event head = atf_test::Call(1, 1, kBaseNs + 1, "", 0x40);
    head.clear_function_call();
    const uint64_t sym = n << 20;
    const std::string sym_head = atf_test::Tag(1, 2) + atf_test::Varint(sym);
    const std::string payload_head = atf_test::Tag(12, 2) + atf_test::Varint(sym_head.size() + sym);
    const std::string body_head = Serialize(head) + payload_head + sym_head;
    rc = o.Record(atf_test::Start(0, kBaseNs)) &&
                 o.Put(atf_test::Varint(body_head.size() + sym) + body_head)
             ? 0
             : 2;
    o.bytes += sym;
    o.records++;
    if (rc == 0 && !o.Record(atf_test::End(2, kBaseNs + 2))) rc = 2;
  } else if (kind == "registers") {
    rc = o.Record(atf_test::Start(0, kBaseNs)) &&
                 o.Put(Frame(ManyRegistersCall(1, kBaseNs + 1, n))) &&
                 o.Record(atf_test::End(2, kBaseNs + 2))
             ? 0
             : 2;
  } else if (kind == "corrupt") {
    rc = Normal(&o, n << 20, true);
  } else if (kind == "last-registers") {
    rc = o.Record(atf_test::Start(0, kBaseNs)) ? 0 : 2;
    uint64_t id = 1;
    for (int i = 0; rc == 0 && i < 100; ++i) {
      if (!o.Record(atf_test::Call(id, 7, kBaseNs + id, "g", 0x40))) rc = 2;
      ++id;
    }
    if (rc == 0 && !o.Put(Frame(ManyRegistersCall(id, kBaseNs + id, n)))) rc = 2;
  } else {
    std::fprintf(stderr, "make_hostile: unknown kind %s\n", kind.c_str());
    rc = 2;
  }
  ::close(o.fd);
  if (rc == 0)
    std::printf("%s: %llu bytes\n", kind.c_str(), static_cast<unsigned long long>(o.bytes));
  return rc;
}
