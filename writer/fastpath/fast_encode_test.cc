// The fast encoder must be byte-identical to [varint length] + protobuf_c_message_pack() of the
// same event built as protobuf-c structs, for every shape: edge values, random values, every
// register count, every stack length class.
#include "writer/fastpath/fast_encode.h"
#include "writer/fastpath/fast_varint.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "atf_v4.pb-c.h"
#include "atf_v4.pb.h"

namespace {

const char *const kCallNames[] = {"RDI", "RSI", "RDX", "RCX", "R8", "R9"};
const char *const kReturnNames[] = {"RAX", "RDX"};
const char *const kArm64Call[] = {"X0", "X1", "X2", "X3", "X4", "X5", "X6", "X7"};

// Reference: the event as protobuf-c structs, packed, with a length prefix decoded separately.
std::string ReferencePack(const atf_fast_event &e, const char *const *names) {
  Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
  ts.seconds = static_cast<int64_t>(e.timestamp_ns / 1000000000u);
  ts.nanos = static_cast<int32_t>(e.timestamp_ns % 1000000000u);
  Atf__V4__Event ev = ATF__V4__EVENT__INIT;
  ev.event_id = e.event_id;
  ev.thread_id = e.thread_id;
  ev.timestamp = &ts;
  std::string symbol(reinterpret_cast<const char *>(e.symbol), e.symbol_len);
  std::vector<Atf__V4__FunctionCall__ArgumentRegistersEntry> call_entries(e.reg_count);
  std::vector<Atf__V4__FunctionReturn__ReturnRegistersEntry> ret_entries(e.reg_count);
  std::vector<void *> ptrs;
  for (unsigned i = 0; i < e.reg_count; ++i) {
    atf__v4__function_call__argument_registers_entry__init(&call_entries[i]);
    atf__v4__function_return__return_registers_entry__init(&ret_entries[i]);
    call_entries[i].key = ret_entries[i].key = const_cast<char *>(names[i]);
    call_entries[i].value = ret_entries[i].value = e.regs[i];
    ptrs.push_back(e.kind == ATF_FAST_CALL ? static_cast<void *>(&call_entries[i])
                                           : &ret_entries[i]);
  }
  Atf__V4__FunctionCall call = ATF__V4__FUNCTION_CALL__INIT;
  Atf__V4__FunctionReturn ret = ATF__V4__FUNCTION_RETURN__INIT;
  if (e.kind == ATF_FAST_CALL) {
    call.symbol = const_cast<char *>(symbol.c_str());
    call.address = e.address;
    call.n_argument_registers = e.reg_count;
    call.argument_registers =
        reinterpret_cast<Atf__V4__FunctionCall__ArgumentRegistersEntry **>(ptrs.data());
    call.stack_shallow_copy.data = const_cast<uint8_t *>(e.stack);
    call.stack_shallow_copy.len = e.stack_len;
    call.call_site = e.call_site;
    ev.payload_case = ATF__V4__EVENT__PAYLOAD_FUNCTION_CALL;
    ev.function_call = &call;
  } else {
    ret.symbol = const_cast<char *>(symbol.c_str());
    ret.address = e.address;
    ret.n_return_registers = e.reg_count;
    ret.return_registers =
        reinterpret_cast<Atf__V4__FunctionReturn__ReturnRegistersEntry **>(ptrs.data());
    ev.payload_case = ATF__V4__EVENT__PAYLOAD_FUNCTION_RETURN;
    ev.function_return = &ret;
  }
  std::string body(atf__v4__event__get_packed_size(&ev), '\0');
  atf__v4__event__pack(&ev, reinterpret_cast<uint8_t *>(&body[0]));
  return body;
}

// Splits [varint][body]; returns false if the prefix is not a canonical varint equal to the rest.
bool SplitRecord(const std::string &rec, std::string *body) {
  uint64_t len = 0;
  size_t i = 0;
  for (int shift = 0; i < rec.size() && shift < 64; shift += 7) {
    uint8_t b = static_cast<uint8_t>(rec[i++]);
    len |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      if (b == 0 && i > 1) return false;  // non-canonical trailing zero group
      *body = rec.substr(i);
      return len == body->size();
    }
  }
  return false;
}

class FastEncode : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(0, atf_fast_tables_init(&x86_, kCallNames, 6, kReturnNames, 2));
    ASSERT_EQ(0, atf_fast_tables_init(&arm_, kArm64Call, 8, kReturnNames, 2));
  }

  void ExpectIdentical(const atf_fast_tables &t, const char *const *names,
                       const atf_fast_event &e) {
    std::string out(atf_fast_max_size(e.symbol_len, e.reg_count, e.stack_len), '\0');
    size_t n = atf_fast_encode(&t, &e, reinterpret_cast<uint8_t *>(&out[0]));
    ASSERT_LE(n, out.size());
    out.resize(n);
    std::string body;
    ASSERT_TRUE(SplitRecord(out, &body)) << "bad length prefix";
    ASSERT_EQ(body, ReferencePack(e, names))
        << "kind=" << e.kind << " id=" << e.event_id << " tid=" << e.thread_id
        << " ts=" << e.timestamp_ns << " sym=" << e.symbol_len << " addr=" << e.address
        << " regs=" << e.reg_count << " stack=" << e.stack_len;
    // And Google's C++ protobuf reads the same values back.
    atf::v4::Event parsed;
    ASSERT_TRUE(parsed.ParseFromString(body));
    EXPECT_EQ(parsed.event_id(), e.event_id);
    EXPECT_EQ(parsed.thread_id(), e.thread_id);
    EXPECT_EQ(static_cast<uint64_t>(parsed.timestamp().seconds()) * 1000000000u +
                  static_cast<uint64_t>(parsed.timestamp().nanos()),
              e.timestamp_ns);
    if (e.kind == ATF_FAST_CALL) {
      EXPECT_EQ(parsed.function_call().address(), e.address);
      EXPECT_EQ(parsed.function_call().stack_shallow_copy(),
                std::string(reinterpret_cast<const char *>(e.stack), e.stack_len));
      ASSERT_EQ(parsed.function_call().argument_registers().size(), static_cast<int>(e.reg_count));
      for (unsigned i = 0; i < e.reg_count; ++i)
        EXPECT_EQ(parsed.function_call().argument_registers().at(names[i]), e.regs[i]);
    } else {
      EXPECT_EQ(parsed.function_return().address(), e.address);
      ASSERT_EQ(parsed.function_return().return_registers().size(), static_cast<int>(e.reg_count));
    }
  }

  atf_fast_tables x86_, arm_;
};

TEST_F(FastEncode, EdgeValues) {
  const uint64_t u64s[] = {0,
                           1,
                           127,
                           128,
                           16383,
                           16384,
                           (1ull << 32) - 1,
                           1ull << 63,
                           std::numeric_limits<uint64_t>::max()};
  const int32_t tids[] = {
      0, 1, 127, 128, -1, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()};
  const uint64_t times[] = {
      0, 1, 999999999, 1000000000, 1700000000123456789ull, std::numeric_limits<uint64_t>::max()};
  std::vector<uint8_t> stack(4096);
  for (size_t i = 0; i < stack.size(); ++i) stack[i] = static_cast<uint8_t>(i * 7);
  const size_t stack_lens[] = {0, 1, 127, 128, 255, 256, 16383, 4096};
  const std::string symbols[] = {"", "f", std::string(127, 's'), std::string(128, 's'),
                                 "\xe2\x9c\x93 unicode"};
  uint64_t regs[8];
  for (int kind : {ATF_FAST_CALL, ATF_FAST_RETURN}) {
    for (uint64_t v : u64s) {
      for (unsigned n = 0; n <= (kind == ATF_FAST_CALL ? 6u : 2u); ++n) {
        for (unsigned i = 0; i < 8; ++i) regs[i] = i % 2 ? v : ~v;
        atf_fast_event e = {};
        e.kind = kind;
        e.event_id = v;
        e.thread_id = tids[n % 7];
        e.timestamp_ns = times[n % 6];
        e.symbol = reinterpret_cast<const uint8_t *>(symbols[n % 5].data());
        e.symbol_len = symbols[n % 5].size();
        e.address = v;
        e.regs = regs;
        e.reg_count = n;
        e.stack = stack.data();
        e.stack_len = std::min<size_t>(stack_lens[n % 8], stack.size());
        ExpectIdentical(x86_, kind == ATF_FAST_CALL ? kCallNames : kReturnNames, e);
      }
    }
  }
}

TEST_F(FastEncode, RandomEventsBothArchitectures) {
  std::mt19937_64 rng(20261126);
  std::vector<uint8_t> stack(4096);
  for (auto &b : stack) b = static_cast<uint8_t>(rng());
  std::string symbol(300, 'x');
  uint64_t regs[8];
  for (int iter = 0; iter < 20000; ++iter) {
    atf_fast_event e = {};
    e.kind = static_cast<int>(rng() % 2);
    const bool arm = rng() % 2;
    const unsigned max_regs = e.kind == ATF_FAST_CALL ? (arm ? 8u : 6u) : 2u;
    // Values of every varint length: shift a random word right by a random amount.
    auto any = [&] { return rng() % 4 == 0 ? 0 : rng() >> (rng() % 64); };
    e.event_id = any();
    e.thread_id = static_cast<int32_t>(any());
    e.timestamp_ns = any();
    e.address = any();
    for (auto &r : regs) r = any();
    e.regs = regs;
    e.reg_count = static_cast<unsigned>(rng() % (max_regs + 1));
    e.symbol = reinterpret_cast<const uint8_t *>(symbol.data());
    e.symbol_len = rng() % 200;
    e.stack = stack.data();
    e.stack_len = rng() % 8 == 0 ? rng() % 4097 : rng() % 257;
    const char *const *names =
        e.kind == ATF_FAST_CALL ? (arm ? kArm64Call : kCallNames) : kReturnNames;
    ExpectIdentical(arm ? arm_ : x86_, names, e);
    if (HasFatalFailure()) return;
  }
}

// The varint primitives alone, at every bit width and around every length boundary, against a
// byte loop written here (7 bits per byte, low group first, continuation bit on all but the last).
TEST(FastVarint, EveryLengthMatchesByteLoop) {
  auto loop = [](uint64_t v) {
    std::string out;
    while (v >= 0x80) {
      out.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
    return out;
  };
  std::vector<uint64_t> values = {0, 1, 0x7f, 0x80, std::numeric_limits<uint64_t>::max()};
  for (int bit = 0; bit < 64; ++bit) {
    const uint64_t p = uint64_t{1} << bit;
    for (uint64_t v : {p - 1, p, p + 1, p | (p - 1), p | 0x5555555555555555u >> (63 - bit)}) {
      values.push_back(v);
    }
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) values.push_back(rng() >> (rng() % 64));
  for (uint64_t v : values) {
    const std::string want = loop(v);
    ASSERT_EQ(atf_fast_varint_size(v), want.size()) << v;
    uint8_t buf[16];
    std::memset(buf, 0xA5, sizeof buf);
    ASSERT_EQ(atf_fast_put_varint_any(buf, v), buf + want.size()) << v;
    ASSERT_EQ(std::string(reinterpret_cast<char *>(buf), want.size()), want) << v;
    for (size_t i = 10; i < sizeof buf; ++i) ASSERT_EQ(buf[i], 0xA5) << v;  // ten bytes at most
    std::memset(buf, 0xA5, sizeof buf);
    ASSERT_EQ(atf_fast_put_varint(buf, v), buf + want.size()) << v;
    ASSERT_EQ(std::string(reinterpret_cast<char *>(buf), want.size()), want) << v;
    ASSERT_EQ(buf[want.size()], 0xA5) << v;
  }
}

// Encodes `e` with `cache` into a buffer of exactly atf_fast_max_size() bytes followed by guard
// bytes; checks the guard, and that the bytes equal the reference. Returns the framed bytes.
std::string EncodeChecked(const atf_fast_tables &t, atf_fast_cache *cache, const char *const *names,
                          const atf_fast_event &e) {
  const size_t bound = atf_fast_max_size(e.symbol_len, e.reg_count, e.stack_len);
  std::vector<uint8_t> buf(bound + 64, 0xA5);
  const size_t n = cache != nullptr ? atf_fast_encode_cached(&t, cache, &e, buf.data())
                                    : atf_fast_encode(&t, &e, buf.data());
  EXPECT_LE(n, bound);
  for (size_t i = bound; i < buf.size(); ++i) {
    EXPECT_EQ(buf[i], 0xA5) << "store past the bound at +" << (i - bound);
    if (buf[i] != 0xA5) break;
  }
  std::string out(reinterpret_cast<const char *>(buf.data()), n), body;
  EXPECT_TRUE(SplitRecord(out, &body)) << "bad length prefix";
  EXPECT_EQ(body, ReferencePack(e, names))
      << "kind=" << e.kind << " id=" << e.event_id << " tid=" << e.thread_id
      << " ts=" << e.timestamp_ns << " sym=" << e.symbol_len << " regs=" << e.reg_count
      << " stack=" << e.stack_len;
  return out;
}

// The two lengths whose varint width the encoder takes from bounds (payload and event): events
// whose sizes sweep across 127/128 and 16383/16384 bytes, with register values that make the
// bounds straddle a boundary (the exact-size fallback) and values that do not.
TEST_F(FastEncode, LengthWidthBoundaries) {
  std::vector<uint8_t> stack(4096);
  for (size_t i = 0; i < stack.size(); ++i) stack[i] = static_cast<uint8_t>(i * 13);
  const std::string symbol(20000, 'y');
  const uint64_t reg_sets[][6] = {
      {0, 0, 0, 0, 0, 0},
      {1, 2, 3, 4, 5, 6},
      {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX},
      {0, UINT64_MAX, 1, 1u << 20, 0, 1u << 14}};
  atf_fast_cache cache;
  atf_fast_cache_init(&cache);
  uint64_t id = 1;
  for (int kind : {ATF_FAST_CALL, ATF_FAST_RETURN}) {
    for (const auto &regs : reg_sets) {
      for (unsigned n : {0u, 1u, 2u, 6u}) {
        if (kind == ATF_FAST_RETURN && n > 2) continue;
        for (size_t base : {size_t{0}, size_t{16200}}) {
          for (size_t extra = 0; extra < 200; ++extra) {
            atf_fast_event e = {};
            e.kind = kind;
            e.event_id = id++;
            e.thread_id = 77;
            e.timestamp_ns = 1700000000123456789ull;
            e.address = 0x401000;
            e.regs = regs;
            e.reg_count = n;
            e.stack = stack.data();
            // Calls put the sweep in the stack (up to 4096), returns in the symbol.
            const size_t len = base + extra;
            e.stack_len = kind == ATF_FAST_CALL ? std::min<size_t>(len, 4096) : 0;
            e.symbol = reinterpret_cast<const uint8_t *>(symbol.data());
            e.symbol_len = kind == ATF_FAST_CALL ? (len > 4096 ? len - 4096 : 0) : len;
            EncodeChecked(kind == ATF_FAST_CALL ? x86_ : x86_, &cache,
                          kind == ATF_FAST_CALL ? kCallNames : kReturnNames, e);
            if (HasFailure()) return;
          }
        }
      }
    }
  }
}

// 64 registers (ATF_FAST_MAX_REGS) with 16-byte keys (ATF_FAST_MAX_KEY, heads longer than one
// 8-byte store), and keys of every length 1..16 mixed.
TEST_F(FastEncode, MaxRegistersAndLongKeys) {
  std::vector<std::string> long_names, mixed_names;
  for (unsigned i = 0; i < ATF_FAST_MAX_REGS; ++i) {
    std::string name = "REGISTER_" + std::to_string(1000000 + i);  // 16 bytes
    long_names.push_back(name.substr(0, ATF_FAST_MAX_KEY));
    mixed_names.push_back(std::string(1 + i % ATF_FAST_MAX_KEY, static_cast<char>('A' + i % 26)) +
                          "");
  }
  std::vector<const char *> longp, mixedp;
  for (auto &n : long_names) longp.push_back(n.c_str());
  for (auto &n : mixed_names) mixedp.push_back(n.c_str());
  atf_fast_tables long_t, mixed_t;
  ASSERT_EQ(0, atf_fast_tables_init(&long_t, longp.data(), ATF_FAST_MAX_REGS, longp.data(),
                                    ATF_FAST_MAX_REGS));
  ASSERT_EQ(0, atf_fast_tables_init(&mixed_t, mixedp.data(), ATF_FAST_MAX_REGS, mixedp.data(),
                                    ATF_FAST_MAX_REGS));
  std::mt19937_64 rng(64);
  std::vector<uint8_t> stack(4096, 0x5A);
  uint64_t regs[ATF_FAST_MAX_REGS];
  atf_fast_cache cache;
  atf_fast_cache_init(&cache);
  for (int iter = 0; iter < 3000; ++iter) {
    for (auto &r : regs) r = rng() % 3 == 0 ? 0 : rng() >> (rng() % 64);
    atf_fast_event e = {};
    e.kind = static_cast<int>(rng() % 2);
    e.event_id = rng() >> (rng() % 64);
    e.thread_id = static_cast<int32_t>(rng());
    e.timestamp_ns = rng();
    e.symbol = stack.data();
    e.symbol_len = rng() % 40;
    e.address = rng() >> (rng() % 64);
    e.regs = regs;
    e.reg_count = iter % 2 ? ATF_FAST_MAX_REGS : static_cast<unsigned>(rng() % 65);
    e.stack = stack.data();
    e.stack_len = rng() % 3 == 0 ? 0 : rng() % 4097;
    e.call_site = rng() % 2 ? 0 : rng();
    const bool use_long = iter % 3 == 0;
    EncodeChecked(use_long ? long_t : mixed_t, &cache, use_long ? longp.data() : mixedp.data(), e);
    if (HasFailure()) return;
  }
}

// One cache over a stream, as the writer uses it: event ids counting up across 2^7, 2^14, 2^21,
// 2^56 and 2^63 (the cached high part changes), thread ids switching (0, negative, 10-byte
// varints), timestamps crossing seconds and 0; each event equal to the reference and to the
// uncached encoder.
TEST_F(FastEncode, CachedStreamMatchesUncached) {
  const uint64_t id_starts[] = {
      0, 100, 16300, (1u << 21) - 100, (1ull << 56) - 100, (1ull << 63) - 100, UINT64_MAX - 100};
  const int32_t tids[] = {4242, 4242, 4242, 0, -1, std::numeric_limits<int32_t>::min(), 4243};
  std::vector<uint8_t> stack(256, 0x11);
  const std::string symbol = "bench_fn_17";
  uint64_t regs[6] = {1, 1u << 7, 1u << 14, 0, UINT64_MAX, 12345};
  atf_fast_cache cache;
  atf_fast_cache_init(&cache);
  uint64_t ts = 999999000;  // crosses 1 s almost at once
  for (uint64_t start : id_starts) {
    for (uint64_t i = 0; i < 300; ++i) {
      atf_fast_event e = {};
      e.kind = i % 2 ? ATF_FAST_RETURN : ATF_FAST_CALL;
      e.event_id = start + i;
      e.thread_id = tids[(i / 7) % 7];
      ts += i % 50 == 0 ? 0 : 997 * i;
      e.timestamp_ns = i % 97 == 0 ? 0 : ts;
      e.symbol = reinterpret_cast<const uint8_t *>(symbol.data());
      e.symbol_len = symbol.size();
      e.address = 0x55555555a000ull + i;
      e.regs = regs;
      e.reg_count = e.kind == ATF_FAST_CALL ? 6 : 2;
      e.stack = stack.data();
      e.stack_len = 128;
      const char *const *names = e.kind == ATF_FAST_CALL ? kCallNames : kReturnNames;
      const std::string cached = EncodeChecked(x86_, &cache, names, e);
      const std::string fresh = EncodeChecked(x86_, nullptr, names, e);
      ASSERT_EQ(cached, fresh) << "id=" << e.event_id;
      if (HasFailure()) return;
    }
  }
}

// The PDEP varints (used where atf_fast_pdep_usable()) and the shift-and-mask ones give the same
// bytes: random events of every shape encoded both ways. Where the CPU has no BMI2 only the
// generic path runs (and use_pdep must be 0).
TEST_F(FastEncode, PdepAndGenericAgree) {
  if (!atf_fast_pdep_usable()) {
    EXPECT_EQ(x86_.use_pdep, 0);
    GTEST_SKIP() << "no fast PDEP on this CPU: the generic path is the only one";
  }
  EXPECT_EQ(x86_.use_pdep, 1);
  atf_fast_tables generic = x86_;
  generic.use_pdep = 0;
  std::mt19937_64 rng(99);
  std::vector<uint8_t> stack(4096, 0x33);
  uint64_t regs[6];
  atf_fast_cache c1, c2;
  atf_fast_cache_init(&c1);
  atf_fast_cache_init(&c2);
  for (int iter = 0; iter < 20000; ++iter) {
    auto any = [&] { return rng() % 4 == 0 ? 0 : rng() >> (rng() % 64); };
    for (auto &r : regs) r = any();
    atf_fast_event e = {};
    e.kind = static_cast<int>(rng() % 2);
    e.event_id = any();
    e.thread_id = static_cast<int32_t>(any());
    e.timestamp_ns = any();
    e.symbol = stack.data();
    e.symbol_len = rng() % 30;
    e.address = any();
    e.regs = regs;
    e.reg_count = static_cast<unsigned>(rng() % (e.kind == ATF_FAST_CALL ? 7 : 3));
    e.stack = stack.data();
    e.stack_len = rng() % 300;
    e.call_site = any();
    const char *const *names = e.kind == ATF_FAST_CALL ? kCallNames : kReturnNames;
    const std::string a = EncodeChecked(x86_, &c1, names, e);
    const std::string b = EncodeChecked(generic, &c2, names, e);
    ASSERT_EQ(a, b);
    if (HasFailure()) return;
  }
}

TEST_F(FastEncode, RejectsBadNames) {
  atf_fast_tables t;
  const char *const empty[] = {""};
  const char *const too_long[] = {"ABCDEFGHIJKLMNOPQ"};  // 17 > ATF_FAST_MAX_KEY
  EXPECT_EQ(-1, atf_fast_tables_init(&t, empty, 1, kReturnNames, 2));
  EXPECT_EQ(-1, atf_fast_tables_init(&t, kCallNames, 6, too_long, 1));
  EXPECT_EQ(-1, atf_fast_tables_init(&t, kCallNames, ATF_FAST_MAX_REGS + 1, kReturnNames, 2));
}

TEST_F(FastEncode, TablesComeFromDescriptors) {
  EXPECT_EQ(x86_.event_payload_tag[ATF_FAST_CALL], (12 << 3) | 2);
  EXPECT_EQ(x86_.event_payload_tag[ATF_FAST_RETURN], (13 << 3) | 2);
  EXPECT_EQ(x86_.registers_tag[ATF_FAST_CALL], (3 << 3) | 2);
  EXPECT_EQ(x86_.keys[ATF_FAST_CALL][4].len, 4);  // 0A 02 'R' '8'
  EXPECT_EQ(std::string(reinterpret_cast<const char *>(x86_.keys[ATF_FAST_CALL][4].bytes), 4),
            std::string("\x0a\x02R8", 4));
}

}  // namespace
