// Toolchain cross-check: the four implementations built from proto/atf_v4.proto agree on the wire.
//
// For an Event of every payload type, encode with protobuf-c and decode with nanopb, upb and
// Google's C++ protobuf; then encode with Google's C++ protobuf and decode with protobuf-c, nanopb
// and upb. Every field must come back as it went in. A neutral C++ model (atf_test::Event) stands
// between them so each implementation is only ever compared with the model, never with another
// implementation's structs. The protobuf-c, nanopb and C++ decoders are the writer's test decoders
// (writer/testing/decode.h, //writer:testing_decode, nothing of the writer itself); the two
// encoders and the upb decoder exist only here. upb (third_party/upb, patched) has no code
// generator: it reads the schema at run time from protoc's descriptor set
// (//proto:atf_v4_descriptor_set), takes layouts from upb_msgfactory and gives fields back by
// reflection; this is upb itself, not the validator's upb engine.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "atf_v4.npb.h"  // the truncation test calls nanopb directly
#include "atf_v4.pb-c.h"
#include "atf_v4.pb.h"
#include "atf_v4_descriptor_set.h"
#include "pb_decode.h"
#include "third_party/upb/upb_testing.h"
#include "upb/decode.h"
#include "writer/testing/decode.h"
extern "C" {  // no extern "C" block in this header of upb's
#include "upb/legacy_msg_reflection.h"
}

namespace {

using atf_test::DecodeCpp;
using atf_test::DecodeNanopb;
using atf_test::DecodeProtobufC;
using atf_test::Event;
using atf_test::Kind;
using atf_test::Registers;

// Maps have no order in C++ protobuf; compare register sets sorted by name.
Event Canonical(Event m) {
  std::sort(m.registers.begin(), m.registers.end());
  return m;
}

std::vector<Event> Samples() {
  std::vector<Event> out;
  Event start;
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

  Event call;
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

  Event ret;
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

  Event sig;
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

  Event end;
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

std::string PackProtobufC(const Event &m) {
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

// ---------------------------------------------------------------------------------------------
// Google's C++ protobuf

std::string SerializeCpp(const Event &m) {
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

// ---------------------------------------------------------------------------------------------
// upb: a message decoded into an arena, read back by field index (upb_msg_get, upb_msg_has).

class Upb {
 public:
  Upb() : schema_(atf_v4_descriptor_set, atf_v4_descriptor_set_size) {}

  bool Decode(const std::string &bytes, Event *m) {
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
          m->registers = MapEntries(pl, p.message, "argument_registers");
          m->stack = Str(pl, p.message, "stack_shallow_copy");
          break;
        case Kind::kReturn:
          m->symbol = Str(pl, p.message, "symbol");
          m->address = Get(pl, p.message, "address").u64;
          m->registers = MapEntries(pl, p.message, "return_registers");
          break;
        case Kind::kSignal:
          m->number = Get(pl, p.message, "number").i32;
          m->symbol = Str(pl, p.message, "name");
          m->registers = MapEntries(pl, p.message, "registers");
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
  Registers MapEntries(const upb_msg *msg, const char *message, const char *field) {
    Registers out;
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

bool DecodeUpb(const std::string &bytes, Event *m) {
  static Upb *upb = new Upb;
  return upb->Decode(bytes, m);
}

// ---------------------------------------------------------------------------------------------

class CrossCheck : public ::testing::TestWithParam<int> {};

TEST_P(CrossCheck, ProtobufCEncodedDecodesEverywhere) {
  const Event in = Samples()[GetParam()];
  const std::string bytes = PackProtobufC(in);
  ASSERT_FALSE(bytes.empty());

  Event by_nanopb, by_cpp, by_protobuf_c, by_upb;
  std::string why;
  ASSERT_TRUE(DecodeNanopb(bytes, &by_nanopb, &why)) << why;
  ASSERT_TRUE(DecodeCpp(bytes, &by_cpp));
  ASSERT_TRUE(DecodeProtobufC(bytes, &by_protobuf_c));
  ASSERT_TRUE(DecodeUpb(bytes, &by_upb));
  // Wire order of map entries is protobuf-c's array order, and nanopb and upb see it as written.
  EXPECT_EQ(by_nanopb, in);
  EXPECT_EQ(by_protobuf_c, in);
  EXPECT_EQ(by_upb, in);
  EXPECT_EQ(Canonical(by_cpp), Canonical(in));
}

TEST_P(CrossCheck, CppEncodedDecodesEverywhere) {
  const Event in = Samples()[GetParam()];
  const std::string bytes = SerializeCpp(in);
  ASSERT_FALSE(bytes.empty());

  Event by_nanopb, by_protobuf_c, by_upb;
  std::string why;
  ASSERT_TRUE(DecodeNanopb(bytes, &by_nanopb, &why)) << why;
  ASSERT_TRUE(DecodeProtobufC(bytes, &by_protobuf_c));
  ASSERT_TRUE(DecodeUpb(bytes, &by_upb));
  EXPECT_EQ(Canonical(by_nanopb), Canonical(in));
  EXPECT_EQ(Canonical(by_protobuf_c), Canonical(in));
  EXPECT_EQ(Canonical(by_upb), Canonical(in));
}

TEST_P(CrossCheck, EncodersAgreeByteForByteWithoutMaps) {
  // With at most one map entry there is no ordering freedom, so both encoders must emit the same
  // canonical bytes (fields in number order, minimal varints), as long as the entry's value is not
  // zero (see MapEntryWithZeroValueDiffers).
  Event in = Samples()[GetParam()];
  if (in.registers.size() > 1) in.registers.resize(1);
  for (auto &r : in.registers) r.second |= 1;
  EXPECT_EQ(PackProtobufC(in), SerializeCpp(in));
}

TEST(CrossCheck, MapEntryWithZeroValueDiffers) {
  // Google's C++ protobuf always writes both fields of a map entry; protobuf-c treats the entry as
  // an ordinary proto3 message and omits a zero value. Both are valid encodings of the same map,
  // which is why readers must not assume one of them and the writer is compared with protobuf-c.
  Event in = Samples()[2];
  in.registers = {{"RAX", 0}};
  const std::string c = PackProtobufC(in);
  const std::string cpp = SerializeCpp(in);
  EXPECT_EQ(cpp.size(), c.size() + 2);  // the explicit "value = 0": tag 0x10, varint 0x00
  EXPECT_NE(cpp.find(std::string("RAX\x10\x00", 5)), std::string::npos);
  Event a, b, ua, ub;
  std::string why;
  ASSERT_TRUE(DecodeNanopb(c, &a, &why)) << why;
  ASSERT_TRUE(DecodeNanopb(cpp, &b, &why)) << why;
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
  Event m;
  EXPECT_FALSE(DecodeUpb(bytes, &m));
}

}  // namespace
