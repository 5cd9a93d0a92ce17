// The decoder against Google's C++ protobuf: every field it decodes from a record must equal what
// the reference decoder reads from the same bytes. Inputs: hand-made edge cases and pseudo-random
// events encoded by C++ protobuf and by protobuf-c, plus records with unknown fields.
#include "validator/internal/decode.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "atf_v4.pb.h"
#include "validator/testing/run_tool.h"
#include "validator/testing/session_builder.h"

namespace {

using Registers = std::vector<std::pair<std::string, uint64_t>>;

struct Model {
  uint64_t event_id = 0;
  int32_t thread_id = 0;
  int64_t seconds = 0;
  int32_t nanos = 0;
  int payload = 0;
  std::string path, os, arch, symbol, stack, name;
  std::vector<std::string> args;
  Registers regs;
  int32_t exit_code = 0, number = 0;
  uint64_t address = 0;

  bool operator==(const Model &o) const {
    return event_id == o.event_id && thread_id == o.thread_id && seconds == o.seconds &&
           nanos == o.nanos && payload == o.payload && path == o.path && os == o.os &&
           arch == o.arch && symbol == o.symbol && stack == o.stack && name == o.name &&
           args == o.args && regs == o.regs && exit_code == o.exit_code && number == o.number &&
           address == o.address;
  }
};

void PrintTo(const Model &m, std::ostream *os) {
  *os << "{id=" << m.event_id << " tid=" << m.thread_id << " ts=" << m.seconds << "." << m.nanos
      << " payload=" << m.payload << " symbol=" << m.symbol << " name=" << m.name
      << " path=" << m.path << " args=" << m.args.size() << " regs=" << m.regs.size()
      << " stack=" << m.stack.size() << " address=" << m.address << " exit=" << m.exit_code
      << " number=" << m.number << "}";
}

// Visitor that assembles a Model from the decoder's chunks.
struct Collector {
  Model m;
  std::string reg_name;
  static void Text(void *ctx, atf_text_field f, const uint8_t *p, size_t n, unsigned flags) {
    auto *c = static_cast<Collector *>(ctx);
    const std::string chunk(reinterpret_cast<const char *>(p), n);
    std::string *target = nullptr;
    switch (f) {
      case ATF_TEXT_EXECUTABLE_PATH:
        target = &c->m.path;
        break;
      case ATF_TEXT_OPERATING_SYSTEM:
        target = &c->m.os;
        break;
      case ATF_TEXT_CPU_ARCHITECTURE:
        target = &c->m.arch;
        break;
      case ATF_TEXT_SYMBOL:
        target = &c->m.symbol;
        break;
      case ATF_TEXT_STACK:
        target = &c->m.stack;
        break;
      case ATF_TEXT_SIGNAL_NAME:
        target = &c->m.name;
        break;
      case ATF_TEXT_REGISTER_NAME:
        target = &c->reg_name;
        break;
      case ATF_TEXT_ARG:
        if (flags & ATF_CHUNK_FIRST) c->m.args.emplace_back();
        target = &c->m.args.back();
        break;
      default:
        break;
    }
    if ((flags & ATF_CHUNK_FIRST) && f != ATF_TEXT_ARG) target->clear();
    target->append(chunk);
  }
  static void Reg(void *ctx, uint64_t v) {
    auto *c = static_cast<Collector *>(ctx);
    c->m.regs.emplace_back(c->reg_name, v);
  }
};

// Decodes from memory, or (streamed) from a file through the smallest window, so that records
// larger than the window are read in chunks.
bool DecodeOurs(const std::string &bytes, Model *out, atf_decode_error *err,
                uint64_t *unknown = nullptr, bool streamed = false) {
  atf_reader r;
  int fd = -1;
  if (streamed) {
    const std::string path = atf_test::TempDir() + "/record.bin";
    FILE *f = fopen(path.c_str(), "wb");
    fwrite(bytes.data(), 1, bytes.size(), f);
    fclose(f);
    fd = open(path.c_str(), O_RDONLY);
    EXPECT_TRUE(atf_reader_init_fd(&r, fd, bytes.size(), ATF_READER_MIN_WINDOW));
  } else {
    atf_reader_init_mem(&r, reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
  }
  struct Closer {
    atf_reader *r;
    int fd;
    ~Closer() {
      atf_reader_free(r);
      if (fd >= 0) close(fd);
    }
  } closer{&r, fd};
  Collector c;
  const atf_event_visitor v = {&c, Collector::Text, Collector::Reg};
  atf_event ev;
  if (!atf_decode_record(&r, 0, bytes.size(), &v, &ev, err)) return false;
  c.m.event_id = ev.event_id;
  c.m.thread_id = ev.thread_id;
  c.m.seconds = ev.seconds;
  c.m.nanos = ev.nanos;
  c.m.payload = ev.payload;
  c.m.exit_code = ev.exit_code;
  c.m.address = ev.address;
  c.m.number = ev.signal_number;
  if (unknown) *unknown = ev.unknown_fields;
  // Maps have no order in C++ protobuf; compare sorted (last value of a repeated key wins there).
  Registers dedup;
  for (auto it = c.m.regs.rbegin(); it != c.m.regs.rend(); ++it) {
    if (std::none_of(dedup.begin(), dedup.end(),
                     [&](const auto &e) { return e.first == it->first; }))
      dedup.push_back(*it);
  }
  std::sort(dedup.begin(), dedup.end());
  c.m.regs = dedup;
  *out = c.m;
  return true;
}

template <typename Map>
Registers Sorted(const Map &map) {
  Registers r(map.begin(), map.end());
  std::sort(r.begin(), r.end());
  return r;
}

Model Reference(const std::string &bytes) {
  atf::v4::Event e;
  EXPECT_TRUE(e.ParseFromString(bytes));
  Model m;
  m.event_id = e.event_id();
  m.thread_id = e.thread_id();
  m.seconds = e.timestamp().seconds();
  m.nanos = e.timestamp().nanos();
  m.payload = e.payload_case();
  switch (e.payload_case()) {
    case atf::v4::Event::kTraceStart:
      m.path = e.trace_start().executable_path();
      m.args.assign(e.trace_start().args().begin(), e.trace_start().args().end());
      m.os = e.trace_start().operating_system();
      m.arch = e.trace_start().cpu_architecture();
      break;
    case atf::v4::Event::kTraceEnd:
      m.exit_code = e.trace_end().exit_code();
      break;
    case atf::v4::Event::kFunctionCall:
      m.symbol = e.function_call().symbol();
      m.address = e.function_call().address();
      m.regs = Sorted(e.function_call().argument_registers());
      m.stack = e.function_call().stack_shallow_copy();
      break;
    case atf::v4::Event::kFunctionReturn:
      m.symbol = e.function_return().symbol();
      m.address = e.function_return().address();
      m.regs = Sorted(e.function_return().return_registers());
      break;
    case atf::v4::Event::kSignalDelivery:
      m.number = e.signal_delivery().number();
      m.name = e.signal_delivery().name();
      m.regs = Sorted(e.signal_delivery().registers());
      break;
    default:
      break;
  }
  return m;
}

void ExpectSameAsReference(const std::string &bytes, bool streamed = false) {
  Model ours;
  atf_decode_error err{};
  ASSERT_TRUE(DecodeOurs(bytes, &ours, &err, nullptr, streamed)) << err.rule << ": " << err.message;
  EXPECT_EQ(ours, Reference(bytes));
}

TEST(Decode, SampleSessionMatchesReference) {
  for (const auto &e : atf_test::SampleSession(3)) ExpectSameAsReference(atf_test::Serialize(e));
}

using atf_test::RandomEvent;

TEST(Decode, RandomEventsMatchReference) {
  std::mt19937_64 rng(20261126);
  for (int i = 0; i < 3000; ++i) {
    SCOPED_TRACE(i);
    ExpectSameAsReference(atf_test::Serialize(RandomEvent(rng)));
  }
}

TEST(Decode, LongStringsCrossChunkBoundaries) {
  // A record larger than the reader's window is streamed; multi-byte characters then straddle the
  // decoder's 4096-byte chunks (a 7-byte pattern never aligns with them).
  atf::v4::Event e = atf_test::Call(1, 2, atf_test::kBaseNs, "", 3);
  std::string s = "x";
  while (s.size() < 30 * ATF_DECODE_CHUNK) s += "\xe2\x9c\x93\xf0\x9f\x98\x80";
  e.mutable_function_call()->set_symbol(s);
  e.mutable_function_call()->set_stack_shallow_copy(std::string(100000, '\x80'));
  const std::string bytes = atf_test::Serialize(e);
  ASSERT_GT(bytes.size(), ATF_READER_MIN_WINDOW);
  ExpectSameAsReference(bytes);
  ExpectSameAsReference(bytes, /*streamed=*/true);

  // A broken character deep inside is found at its byte in both modes.
  const size_t at = bytes.find(s) + 20 * ATF_DECODE_CHUNK + 3;
  std::string bad = bytes;
  bad[at] = '\xff';
  for (bool streamed : {false, true}) {
    Model m;
    atf_decode_error err{};
    ASSERT_FALSE(DecodeOurs(bad, &m, &err, nullptr, streamed));
    EXPECT_STREQ(err.rule, "schema.utf8");
    EXPECT_GE(err.offset, at - 3);  // the sequence's lead byte or the replaced byte itself
    EXPECT_LE(err.offset, at);
  }
}

TEST(Decode, UnknownFieldsAreCountedAndSkipped) {
  const std::string known = atf_test::Serialize(atf_test::Call(1, 2, atf_test::kBaseNs, "f", 3));
  // Unknown fields at the top level and inside the payload, of every wire type.
  std::string payload = atf_test::VarintField(1000, 7);
  payload += atf_test::Tag(1001, 1) + std::string(8, 'x');
  payload += atf_test::Tag(1002, 5) + std::string(4, 'y');
  payload += atf_test::LenField(1003, "zz");
  const std::string bytes = known + atf_test::LenField(12, payload) + atf_test::VarintField(99, 1);
  Model ours;
  atf_decode_error err{};
  uint64_t unknown = 0;
  ASSERT_TRUE(DecodeOurs(bytes, &ours, &err, &unknown)) << err.message;
  EXPECT_EQ(unknown, 5u);
  EXPECT_EQ(ours, Reference(bytes));
}

TEST(Decode, MapEntryFieldsInAnyOrderAndRepeated) {
  // value before key, key twice (last wins), and a C++-style explicit zero value.
  const std::string entry =
      atf_test::VarintField(2, 9) + atf_test::LenField(1, "RAX") + atf_test::LenField(1, "RBX");
  const std::string bytes =
      atf_test::VarintField(1, 4) +
      atf_test::LenField(3, atf_test::VarintField(1, 1) + atf_test::VarintField(2, 2)) +
      atf_test::LenField(13, atf_test::LenField(3, entry) +
                                 atf_test::LenField(3, atf_test::LenField(1, "RDX") +
                                                           atf_test::VarintField(2, 0)));
  ExpectSameAsReference(bytes);
}

struct Rejection {
  const char *name;
  std::string bytes;
  const char *rule;
  uint64_t offset;
};

TEST(Decode, RejectsWithRuleAndOffset) {
  const std::string hdr =
      atf_test::VarintField(1, 1) +
      atf_test::LenField(3, atf_test::VarintField(1, 1) + atf_test::VarintField(2, 2));
  // hdr is 2 + 6 = 8 bytes; the payload's tag and length follow, then its fields.
  const std::vector<Rejection> cases = {
      {"bad utf8 at its byte", hdr + atf_test::LenField(12, atf_test::LenField(1, "abc\xff")),
       "schema.utf8", 8 + 2 + 2 + 3},
      {"empty register name at the entry",
       hdr + atf_test::LenField(13, atf_test::LenField(3, atf_test::VarintField(2, 1))),
       "schema.register_name", 8 + 2 + 2},
      {"no payload at the record", hdr, "schema.payload", 0},
      {"no timestamp", atf_test::LenField(11, ""), "schema.timestamp", 0},
      {"wrong wire type for a string", hdr + atf_test::LenField(14, atf_test::VarintField(2, 1)),
       "wire.decode", 10},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.name);
    Model m;
    atf_decode_error err{};
    ASSERT_FALSE(DecodeOurs(c.bytes, &m, &err));
    EXPECT_STREQ(err.rule, c.rule) << err.message;
    EXPECT_EQ(err.offset, c.offset) << err.message;
  }
}

void ExpectVisitorAgrees(const std::string &bytes);

// docs/format.md, wire.decode: an int32 whose varint is not a sign-extended 32-bit value is
// rejected, at its tag. Google's C++ protobuf (and nanopb) read such a varint and keep its low 32
// bits: the validator is stricter on purpose, and says so.
TEST(Decode, EveryInt32FieldMustHoldASignExtended32BitValue) {
  const std::string ts =
      atf_test::LenField(3, atf_test::VarintField(1, 1) + atf_test::VarintField(2, 2));
  const std::string id = atf_test::VarintField(1, 1);
  using Get = int64_t (*)(const atf::v4::Event &);
  struct Case {
    const char *name;
    std::string bytes;
    uint64_t tag_offset;  // of the int32 field's tag
    int64_t cpp_value;    // what C++ protobuf reads (the low 32 bits)
    Get get;
  };
  // id: 2 bytes; ts: 6 bytes (1a 04 08 01 10 02); a payload's tag and length: 2 bytes.
  const std::vector<Case> cases = {
      {"Event.thread_id 2^32+101",
       id + atf_test::VarintField(2, (uint64_t{1} << 32) + 101) + ts + atf_test::LenField(11, ""),
       2, 101, [](const atf::v4::Event &e) -> int64_t { return e.thread_id(); }},
      {"Timestamp.nanos 2^32+5",
       id +
           atf_test::LenField(
               3, atf_test::VarintField(1, 1) + atf_test::VarintField(2, (uint64_t{1} << 32) + 5)) +
           atf_test::LenField(11, ""),
       2 + 2 + 2, 5, [](const atf::v4::Event &e) -> int64_t { return e.timestamp().nanos(); }},
      {"Timestamp.nanos 0xFFFFFFFF in 5 bytes",
       id +
           atf_test::LenField(
               3, atf_test::VarintField(1, 1) + atf_test::VarintField(2, 0xFFFFFFFFull)) +
           atf_test::LenField(11, ""),
       2 + 2 + 2, -1, [](const atf::v4::Event &e) -> int64_t { return e.timestamp().nanos(); }},
      {"TraceEnd.exit_code 2^40+3",
       id + ts + atf_test::LenField(11, atf_test::VarintField(1, (uint64_t{1} << 40) + 3)),
       2 + 6 + 2, 3, [](const atf::v4::Event &e) -> int64_t { return e.trace_end().exit_code(); }},
      {"SignalDelivery.number 2^35+11",
       id + ts + atf_test::LenField(14, atf_test::VarintField(1, (uint64_t{1} << 35) + 11)),
       2 + 6 + 2, 11,
       [](const atf::v4::Event &e) -> int64_t { return e.signal_delivery().number(); }},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.name);
    Model m;
    atf_decode_error err{};
    ASSERT_FALSE(DecodeOurs(c.bytes, &m, &err));
    EXPECT_STREQ(err.rule, "wire.decode") << err.message;
    EXPECT_EQ(err.offset, c.tag_offset) << err.message;
    EXPECT_NE(std::string(err.message).find("sign-extended 32-bit"), std::string::npos)
        << err.message;
    ExpectVisitorAgrees(c.bytes);
    atf::v4::Event e;
    ASSERT_TRUE(e.ParseFromString(c.bytes)) << "C++ protobuf accepts it";
    EXPECT_EQ(c.get(e), c.cpp_value) << "and truncates it to 32 bits";
  }
  // Negative values are 10-byte sign extensions: accepted, equal to C++ protobuf's.
  atf::v4::Event neg = atf_test::Signal(3, -7, atf_test::kBaseNs, INT32_MIN, "SIG?");
  ExpectSameAsReference(atf_test::Serialize(neg));
  ExpectSameAsReference(atf_test::Serialize(atf_test::End(4, atf_test::kBaseNs, -1)));
  neg.set_thread_id(INT32_MAX);
  neg.mutable_signal_delivery()->set_number(INT32_MAX);
  ExpectSameAsReference(atf_test::Serialize(neg));
}

// docs/format.md: a tag is at most 5 bytes and at most 2^32-1, so its 5th byte is at most 0x0f.
// nanopb took a 5th byte of 0x78..0x7f as a sign extension (0x10 or 0x70 were overflows); Google's
// C++ protobuf keeps the low 32 bits. The validator rejects every 5th byte above 0x0f.
TEST(Decode, FiveByteTagsAboveUint32AreRejected) {
  const std::string ts =
      atf_test::LenField(3, atf_test::VarintField(1, 1) + atf_test::VarintField(2, 2));
  for (uint8_t fifth : {0x10, 0x70, 0x78, 0x7f}) {
    SCOPED_TRACE(static_cast<int>(fifth));
    const std::string bytes = ts + std::string("\x82\x80\x80\x80", 4) + static_cast<char>(fifth) +
                              std::string(1, '\0') + atf_test::LenField(11, "");
    Model m;
    atf_decode_error err{};
    ASSERT_FALSE(DecodeOurs(bytes, &m, &err));
    EXPECT_STREQ(err.rule, "wire.decode") << err.message;
    EXPECT_EQ(err.offset, ts.size()) << err.message;
    ExpectVisitorAgrees(bytes);
  }
  // 0x0f: field number 2^28 (the largest fit 29 bits), an unknown length-delimited field.
  const std::string ok =
      ts + std::string("\x82\x80\x80\x80\x0f\x00", 6) + atf_test::LenField(11, "");
  Model m;
  atf_decode_error err{};
  uint64_t unknown = 0;
  ASSERT_TRUE(DecodeOurs(ok, &m, &err, &unknown)) << err.message;
  EXPECT_EQ(unknown, 1u);
  EXPECT_EQ(m, Reference(ok));
}

TEST(Decode, AFileThatShrankIsAnIoErrorNotADefect) {
  // The reader is told the file is larger than it is: in-window and streamed records alike fail
  // with the rule "io" (atf-validate then exits 2, not 1).
  atf::v4::Event e = atf_test::Call(1, 2, atf_test::kBaseNs, "f", 3);
  e.mutable_function_call()->set_stack_shallow_copy(std::string(100000, 's'));
  const std::string bytes = atf_test::Serialize(e);
  const std::string path = atf_test::TempDir() + "/shrunk.bin";
  FILE *f = fopen(path.c_str(), "wb");
  fwrite(bytes.data(), 1, 1000, f);  // only the first 1000 bytes
  fclose(f);
  const int fd = open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  for (uint64_t len : {uint64_t{2000}, uint64_t{bytes.size()}}) {
    SCOPED_TRACE(len);
    atf_reader r;
    ASSERT_TRUE(atf_reader_init_fd(&r, fd, bytes.size(), ATF_READER_MIN_WINDOW));
    atf_event ev;
    atf_decode_error err{};
    EXPECT_FALSE(atf_decode_record(&r, 0, len, nullptr, &ev, &err));
    EXPECT_STREQ(err.rule, "io") << err.message;
    EXPECT_EQ(r.io_errno, 0);  // a short read, not an errno
    atf_frame frame;
    EXPECT_EQ(atf_reader_frame(&r, 1500, &frame), ATF_FRAME_IO);
    atf_reader_free(&r);
  }
  close(fd);
}

// atf_decode_record with a visitor (which receives every string and register as it is read) and
// without one must reach the same verdict, values, rule, offset and message.
std::string Hex(const std::string &s) {
  std::string out;
  char b[4];
  for (unsigned char c : s) snprintf(b, sizeof b, "%02x ", c), out += b;
  return out;
}

void ExpectVisitorAgrees(const std::string &bytes) {
  atf_reader r;
  atf_reader_init_mem(&r, reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
  Collector c;
  const atf_event_visitor v = {&c, Collector::Text, Collector::Reg};
  atf_event visited_ev, plain_ev;
  atf_decode_error visited_err{}, plain_err{};
  const bool visited = atf_decode_record(&r, 0, bytes.size(), &v, &visited_ev, &visited_err);
  const bool plain = atf_decode_record(&r, 0, bytes.size(), nullptr, &plain_ev, &plain_err);
  ASSERT_EQ(plain, visited) << (visited ? plain_err.message : visited_err.message);
  if (!visited) {
    EXPECT_STREQ(plain_err.rule, visited_err.rule);
    EXPECT_EQ(plain_err.offset, visited_err.offset);
    EXPECT_STREQ(plain_err.message, visited_err.message);
    return;
  }
  EXPECT_EQ(0, memcmp(&plain_ev, &visited_ev, sizeof plain_ev));
}

TEST(Decode, VisitorAgreesOnValidAndMutatedRecords) {
  std::mt19937_64 rng(7);
  std::vector<std::string> records;
  for (const auto &e : atf_test::SampleSession(3)) records.push_back(atf_test::Serialize(e));
  for (int i = 0; i < 120; ++i) {
    std::string bytes = atf_test::Serialize(RandomEvent(rng));
    if (bytes.size() < 600) records.push_back(bytes);
  }
  size_t checked = 0;
  for (const auto &bytes : records) {
    ExpectVisitorAgrees(bytes);
    // Every truncation, and every byte replaced by values that break varints, wire types and UTF-8.
    for (size_t n = 0; n < bytes.size(); ++n) ExpectVisitorAgrees(bytes.substr(0, n));
    for (size_t at = 0; at < bytes.size(); ++at) {
      for (uint8_t b : {0x00, 0x01, 0x07, 0x0b, 0x0f, 0x12, 0x7f, 0x80, 0xc0, 0xed, 0xf4, 0xff}) {
        std::string m = bytes;
        m[at] = static_cast<char>(b);
        ExpectVisitorAgrees(m);
        ++checked;
      }
    }
    if (HasFailure()) return;
  }
  EXPECT_GT(checked, 10000u);
}

TEST(Decode, VisitorAgreesOnHandMadeEdgeCases) {
  const std::string ts =
      atf_test::LenField(3, atf_test::VarintField(1, 1) + atf_test::VarintField(2, 2));
  const std::string entry_no_key = atf_test::LenField(3, atf_test::VarintField(2, 1));
  const std::string entry_empty_last =
      atf_test::LenField(3, atf_test::LenField(1, "RAX") + atf_test::LenField(1, ""));
  const std::string entry_empty_first =
      atf_test::LenField(3, atf_test::LenField(1, "") + atf_test::LenField(1, "RAX"));
  const std::vector<std::string> cases = {
      ts + atf_test::LenField(13, entry_no_key),
      ts + atf_test::LenField(13, entry_empty_last),
      ts + atf_test::LenField(13, entry_empty_first),
      ts + atf_test::LenField(12, atf_test::LenField(4, "\xff\xfe")),  // bytes: no UTF-8 rule
      ts + atf_test::LenField(12, atf_test::LenField(1, "\xe2\x9c")),  // cut-off sequence
      ts + atf_test::LenField(12, atf_test::LenField(1, "abcdefgh\xc3\xa4ijklmnopq\xff")),
      ts + atf_test::LenField(10, atf_test::LenField(2, "ok") + atf_test::LenField(2, "\xc0\x80")),
      // Tags and lengths of 5 bytes whose last byte nanopb reads as a sign extension.
      ts + std::string("\x82\x80\x80\x80\x7f", 5) + atf_test::LenField(11, ""),
      ts + std::string("\x62\x80\x80\x80\x80\x00", 6),
      ts + std::string("\x62\x80\x80\x80\x80\x78", 6),
      ts + atf_test::Tag(99, 3) + atf_test::LenField(11, ""),                  // a group
      ts + atf_test::Tag(99, 1) + "1234567",                                   // a cut-off fixed64
      ts + atf_test::Tag(99, 5) + "123",                                       // a cut-off fixed32
      ts + atf_test::LenField(11, atf_test::VarintField(1, 0xffffffffffull)),  // int32 out of range
      ts + atf_test::LenField(11, atf_test::VarintField(1, uint64_t{1} << 31)),
      ts + atf_test::LenField(11, atf_test::VarintField(1, 0xFFFFFFFF7FFFFFFFull)),
      ts + atf_test::LenField(11, atf_test::VarintField(1, 0xFFFFFFFF80000000ull)),  // INT32_MIN
      atf_test::LenField(3, atf_test::VarintField(2, 0xFFFFFFFFull)) + atf_test::LenField(11, ""),
      ts + std::string("\x82\x80\x80\x80\x0f\x00", 6) + atf_test::LenField(11, ""),
      ts + std::string("\x82\x80\x80\x80\x10\x00", 6) + atf_test::LenField(11, ""),
      ts + atf_test::LenField(11, "") + atf_test::LenField(11, ""),
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(Hex(c));
    ExpectVisitorAgrees(c);
  }
}

}  // namespace
