// The upb engine against the nanopb engine: for every input below, every record decoded by both
// must give the same verdict, rule, absolute offset, atf_event and visitor values
// (validator/testing/engine_compare.h). Inputs: every case of the malformed corpus, hand-made edge
// cases (each defect the engines report, alone and in pairs whose order matters), pseudo-random
// valid events from Google's C++ protobuf, and byte-level mutants of them. Writer sessions are
// compared in integration/engines_test.cc.
#include "validator/internal/upb_engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "atf_v4.pb.h"
#include "validator/testing/engine_compare.h"
#include "validator/testing/malformed_cases.h"
#include "validator/testing/session_builder.h"

namespace {

using atf_test::EngineResult;
using atf_test::LenField;
using atf_test::Tag;
using atf_test::Varint;
using atf_test::VarintField;

class UpbEngine : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(atf_upb_engine_schema_error(), nullptr) << atf_upb_engine_schema_error();
    engine_ = atf_upb_engine_new(0);
    ASSERT_NE(engine_, nullptr);
  }
  void TearDown() override { atf_upb_engine_free(engine_); }

  // Both engines on the record input[off, off + len); returns the upb engine's result after
  // checking that the nanopb engine's is the same.
  EngineResult Agree(const std::string &input, uint64_t off, uint64_t len) {
    const auto *p = reinterpret_cast<const uint8_t *>(input.data());
    const EngineResult nanopb = atf_test::DecodeNanopb(p, input.size(), off, len);
    const EngineResult upb = atf_test::DecodeUpb(engine_, p, off, len);
    EXPECT_EQ(nanopb.Diff(upb), "") << "record at " << off << " of " << len << " bytes";
    return upb;
  }
  // One record body alone, preceded by `pad` bytes so that offsets are absolute, not 0-based.
  EngineResult AgreeOnBody(const std::string &body, size_t pad = 3) {
    return Agree(std::string(pad, '\x5a') + body, pad, body.size());
  }

  atf_upb_engine *engine_ = nullptr;
};

TEST_F(UpbEngine, MalformedCorpusCasesAgreeRecordForRecord) {
  size_t records = 0, rejected = 0;
  for (const auto &c : atf_test::MalformedCases()) {
    SCOPED_TRACE(c.name);
    std::set<std::string> upb_rules;
    atf_test::ForEachRecord(c.events, [&](uint64_t off, uint64_t len) {
      const EngineResult r = Agree(c.events, off, len);
      records++;
      if (!r.ok) rejected++, upb_rules.insert(r.rule);
    });
    // A case about one record's defect: the upb engine reports it too (not only "agrees").
    if (c.rule.rfind("wire.", 0) == 0 || c.rule.rfind("schema.", 0) == 0) {
      EXPECT_EQ(upb_rules.count(c.rule), 1u) << "expected " << c.rule;
    }
  }
  EXPECT_GT(records, 100u);
  EXPECT_GE(rejected, 20u);
}

// A header (event_id 1, thread_id 7, a timestamp) and a FunctionCall with symbol "f".
const std::string kTs = LenField(3, VarintField(1, 5) + VarintField(2, 7));
const std::string kHdr = VarintField(1, 1) + VarintField(2, 7) + kTs;
const std::string kCall = LenField(12, LenField(1, "f"));

struct Edge {
  const char *name;
  std::string body;
  const char *rule;  // nullptr: valid
  size_t offset;     // of the error, from the body's start
};

std::vector<Edge> EdgeCases() {
  const std::string nine(9, '\xff');
  const std::string entry_a = LenField(3, LenField(1, "A") + VarintField(2, 1));
  return {
      {"valid", kHdr + kCall, nullptr, 0},
      {"empty record", "", "schema.payload", 0},
      {"unknown fields everywhere",
       kHdr + VarintField(99, 1) + LenField(12, LenField(1, "f") + LenField(9, "zz")) + Tag(98, 1) +
           "12345678" + Tag(97, 5) + "1234",
       nullptr, 0},
      {"unknown field in an entry and the timestamp",
       VarintField(1, 1) + LenField(3, VarintField(1, 5) + VarintField(7, 1)) +
           LenField(12, LenField(3, LenField(1, "A") + Tag(9, 5) + "abcd")),
       nullptr, 0},
      {"overlong length", kHdr + Tag(12, 2) + std::string("\x80\x80\x80\x80\x80\x00", 6),
       "wire.decode", kHdr.size()},
      {"length past the parent", kHdr + Tag(12, 2) + std::string("\x80\x80\x80\x80\x0f", 5),
       "wire.decode", kHdr.size()},
      {"event_id: 10th byte 1", Tag(1, 0) + nine + "\x01" + kHdr.substr(2) + kCall, nullptr, 0},
      {"event_id: 10th byte 2", Tag(1, 0) + nine + "\x02" + kHdr.substr(2) + kCall, "wire.decode",
       0},
      {"unknown varint: 10th byte 0x7f", kHdr + kCall + Tag(99, 0) + nine + "\x7f", "wire.decode",
       kHdr.size() + kCall.size()},
      {"11-byte varint", kHdr + kCall + Tag(2, 0) + std::string(10, '\x80') + "\x01", "wire.decode",
       kHdr.size() + kCall.size()},
      {"5-byte tag, 5th byte 0x0f", kHdr + kCall + std::string("\xf8\xff\xff\xff\x0f", 5) + "\x01",
       nullptr, 0},
      {"5-byte tag, 5th byte 0x10", kHdr + kCall + std::string("\xf8\xff\xff\xff\x10", 5) + "\x01",
       "wire.decode", kHdr.size() + kCall.size()},
      {"6-byte tag", std::string("\x88\x80\x80\x80\x80\x00\x01", 7) + kHdr.substr(2) + kCall,
       "wire.decode", 0},
      {"5-byte tag of event_id",
       std::string("\x88\x80\x80\x80\x00\x01", 6) + kHdr.substr(2) + kCall, nullptr, 0},
      {"field number 0", kHdr + kCall + VarintField(0, 1), "wire.decode",
       kHdr.size() + kCall.size()},
      {"tag byte 0", kHdr + kCall + std::string(1, '\0'), "wire.decode",
       kHdr.size() + kCall.size()},
      {"wire type 6", kHdr + kCall + Tag(99, 6), "wire.decode", kHdr.size() + kCall.size()},
      {"unknown group", kHdr + kCall + Tag(99, 3) + Tag(99, 4), "wire.decode",
       kHdr.size() + kCall.size()},
      {"unknown group never closed", kHdr + kCall + Tag(99, 3) + VarintField(1, 1), "wire.decode",
       kHdr.size() + kCall.size()},
      {"end group alone", kHdr + kCall + Tag(99, 4), "wire.decode", kHdr.size() + kCall.size()},
      {"event_id as a group", Tag(1, 3) + VarintField(1, 1) + Tag(1, 4) + kHdr.substr(2) + kCall,
       "wire.decode", 0},
      {"event_id length-delimited", LenField(1, "abc") + kHdr.substr(2) + kCall, "wire.decode", 0},
      {"symbol as a varint", kHdr + LenField(12, VarintField(1, 5)), "wire.decode",
       kHdr.size() + 2},
      {"payload as fixed32", kHdr + Tag(12, 5) + "abcd", "wire.decode", kHdr.size()},
      {"register value length-delimited",
       kHdr + LenField(12, LenField(3, LenField(1, "A") + LenField(2, "x"))), "wire.decode",
       kHdr.size() + 2 + 2 + 3},
      {"truncated fixed64", kHdr + kCall + Tag(99, 1) + "1234567", "wire.decode",
       kHdr.size() + kCall.size()},
      {"truncated timestamp",
       VarintField(1, 1) + Tag(3, 2) + Varint(2) + Tag(2, 0) + "\xff" + kCall, "wire.decode", 4},
      {"error inside an entry, then a later one",
       kHdr + LenField(12, LenField(3, "\x08")) + Tag(99, 6), "wire.decode", kHdr.size() + 4},
      {"call twice merges",
       kHdr + LenField(12, VarintField(2, 77)) + LenField(12, LenField(1, "g")), nullptr, 0},
      {"symbol twice",
       kHdr + LenField(12, LenField(1, "a") + VarintField(2, 5)) + LenField(12, LenField(1, "b")),
       nullptr, 0},
      {"timestamp twice merges",
       VarintField(1, 1) + LenField(3, VarintField(1, 5)) + LenField(3, VarintField(2, 9)) + kCall,
       nullptr, 0},
      {"thread_id 0xffffffff", kHdr + kCall + VarintField(2, 0xffffffffull), "wire.decode",
       kHdr.size() + kCall.size()},
      {"thread_id 2^40 then 5", VarintField(2, 1ull << 40) + kHdr + kCall, "wire.decode", 0},
      {"nanos 2^40", VarintField(1, 1) + LenField(3, VarintField(2, 1ull << 40)) + kCall,
       "wire.decode", 4},  // the nanos tag inside the timestamp
      {"exit_code 2^33", kHdr + LenField(11, VarintField(1, 1ull << 33)), "wire.decode",
       kHdr.size() + 2},
      {"trace_end twice", kHdr + LenField(11, VarintField(1, 3)) + LenField(11, ""), nullptr, 0},
      {"key twice",
       kHdr + LenField(12, LenField(3, LenField(1, "A") + LenField(1, "B") + VarintField(2, 3))),
       nullptr, 0},
      {"value twice",
       kHdr + LenField(12, LenField(3, VarintField(2, 3) + LenField(1, "K") + VarintField(2, 4))),
       nullptr, 0},
      {"duplicate register names",
       kHdr + LenField(12, entry_a + LenField(3, LenField(1, "A") + VarintField(2, 2))), nullptr,
       0},
      {"entry without a key", kHdr + LenField(12, LenField(3, VarintField(2, 3))),
       "schema.register_name", kHdr.size() + 4},
      {"key then empty key",
       kHdr + LenField(12, entry_a + LenField(3, LenField(1, "A") + LenField(1, ""))),
       "schema.register_name", kHdr.size() + 2 + entry_a.size() + 2},
      {"empty key then key", kHdr + LenField(12, LenField(3, LenField(1, "") + LenField(1, "A"))),
       nullptr, 0},
      {"empty entry", kHdr + LenField(13, LenField(3, "")), "schema.register_name",
       kHdr.size() + 4},
      {"nameless entry in a signal",
       kHdr + LenField(14, VarintField(1, 11) + LenField(3, VarintField(2, 1))),
       "schema.register_name", kHdr.size() + 6},
      {"bad key in a nameless entry",
       kHdr + LenField(12, LenField(3, LenField(1, "\xff") + LenField(1, ""))), "schema.utf8",
       kHdr.size() + 6},
      {"cut-off key at the end of an entry",
       kHdr + LenField(12, LenField(3, LenField(1, "") + LenField(1, "\xe2"))), "schema.utf8",
       kHdr.size() + 9},
      {"nameless entry, then bad symbol",
       kHdr + LenField(12, LenField(3, VarintField(2, 1)) + LenField(1, "\xff")),
       "schema.register_name", kHdr.size() + 4},
      {"bad symbol, then nameless entry",
       kHdr + LenField(12, LenField(1, "\xff") + LenField(3, VarintField(2, 1))), "schema.utf8",
       kHdr.size() + 4},
      {"nameless entries in two payloads",
       kHdr + LenField(13, LenField(3, "")) + LenField(12, LenField(3, "")), "schema.register_name",
       kHdr.size() + 4},
      {"second payload's entry first",
       kHdr + LenField(12, LenField(1, "\xe2\x9c")) + LenField(13, LenField(3, "")), "schema.utf8",
       kHdr.size() + 6},
      {"bad symbol in an earlier payload",
       kHdr + LenField(12, LenField(1, "\xff")) + LenField(13, ""), "schema.utf8", kHdr.size() + 4},
      {"bad symbol in a later payload", kHdr + LenField(13, "") + LenField(12, LenField(1, "\xff")),
       "schema.utf8", kHdr.size() + 6},
      {"bad first symbol, good second",
       kHdr + LenField(12, LenField(1, "\xff") + LenField(1, "ok")), "schema.utf8",
       kHdr.size() + 4},
      {"bad arg",
       VarintField(1, 1) + kTs + LenField(10, LenField(2, "ok") + LenField(2, "\xc0\x80")),
       "schema.utf8", 2 + kTs.size() + 2 + 4 + 2},
      {"stack is not text", kHdr + LenField(12, LenField(4, "\xff\xfe")), nullptr, 0},
      {"args and paths",
       VarintField(1, 1) + kTs +
           LenField(10, LenField(2, "a") + LenField(2, "b") + LenField(1, "/x") +
                            LenField(1, "/y") + LenField(3, "linux")),
       nullptr, 0},
      {"two payloads", kHdr + kCall + LenField(13, VarintField(2, 1)), "schema.payload", 0},
      {"no payload", kHdr, "schema.payload", 0},
      {"no timestamp", VarintField(1, 1) + kCall, "schema.timestamp", 0},
      {"empty timestamp", VarintField(1, 1) + LenField(3, "") + kCall, nullptr, 0},
      {"negative nanos", VarintField(1, 1) + LenField(3, VarintField(2, ~0ull)) + kCall,
       "schema.timestamp", 0},
      {"seconds beyond 2^64 ns",
       VarintField(1, 1) + LenField(3, VarintField(1, 18446744074ull)) + kCall, "schema.timestamp",
       0},
      {"payload rule before timestamp rule", VarintField(1, 1), "schema.payload", 0},
      {"utf8 before payload rule", LenField(12, LenField(1, "\xff")) + LenField(13, ""),
       "schema.utf8", 4},
  };
}

TEST_F(UpbEngine, HandMadeEdgeCasesAgreeWithTheRuleExpected) {
  for (const Edge &c : EdgeCases()) {
    SCOPED_TRACE(c.name);
    const size_t pad = 3;
    const EngineResult r = AgreeOnBody(c.body, pad);
    if (c.rule == nullptr) {
      EXPECT_TRUE(r.ok) << r.Describe();
    } else {
      EXPECT_FALSE(r.ok);
      EXPECT_EQ(r.rule, c.rule);
      EXPECT_EQ(r.offset, pad + c.offset) << r.message;
    }
  }
}

TEST_F(UpbEngine, ValuesComeThroughTheVisitor) {
  atf::v4::Event e = atf_test::Call(9, 77, atf_test::kBaseNs, "main", 0x401000);
  (*e.mutable_function_call()->mutable_argument_registers())["RDI"] = 42;
  e.mutable_function_call()->set_stack_shallow_copy(std::string("\x00\x01\xff", 3));
  e.mutable_function_call()->set_call_site(0x8000000000401234ull);
  const EngineResult r = AgreeOnBody(atf_test::Serialize(e));
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.ev.call_site, 0x8000000000401234ull) << "FunctionCall.call_site, field 5";
  EXPECT_EQ(r.ev.event_id, 9u);
  EXPECT_EQ(r.ev.thread_id, 77);
  EXPECT_EQ(r.ev.time_ns, atf_test::kBaseNs);
  EXPECT_EQ(r.ev.payload, ATF_PAYLOAD_FUNCTION_CALL);
  EXPECT_EQ(r.ev.address, 0x401000u);
  EXPECT_EQ(r.symbol, "main");
  EXPECT_EQ(r.stack, std::string("\x00\x01\xff", 3));
  bool found = false;
  for (const auto &reg : r.regs) found |= reg.first == "RDI" && reg.second == 42u;
  EXPECT_TRUE(found) << r.Describe();
}

// The counts of extra passes: none for a record in its smallest encoding, one for a record with a
// field twice (or anything else that makes it longer), one more to locate a nameless entry.
TEST_F(UpbEngine, SmallestEncodingTakesOnePass) {
  uint64_t first_pass = 0;  // records the first pass settled (a valid smallest encoding)
  auto passes = [&](const std::string &body) {
    atf_upb_engine_stats before, after;
    atf_upb_engine_get_stats(engine_, &before);
    AgreeOnBody(body);
    atf_upb_engine_get_stats(engine_, &after);
    EXPECT_EQ(after.records, before.records + 1);
    first_pass += after.first_pass - before.first_pass;
    return std::make_pair(after.redecoded - before.redecoded, after.located - before.located);
  };
  atf::v4::Event e = atf_test::Call(9, 77, atf_test::kBaseNs, "main", 0x401000);
  (*e.mutable_function_call()->mutable_argument_registers())["RDI"] = 42;
  e.mutable_function_call()->set_stack_shallow_copy("stack");
  e.mutable_function_call()->set_call_site(0x401234);  // field 5 counts in the smallest encoding
  const std::string minimal = atf_test::Serialize(e);
  EXPECT_EQ(passes(minimal), std::make_pair(uint64_t{0}, uint64_t{0}));
  EXPECT_EQ(passes(atf_test::Serialize(atf_test::Start(0, atf_test::kBaseNs))),
            std::make_pair(uint64_t{0}, uint64_t{0}));
  // The TraceStart's path is not ASCII: its UTF-8 is checked by the FAST view (still one pass).
  EXPECT_EQ(first_pass, 1u);
  // Longer than the smallest encoding: a symbol twice (the first one invalid), an unknown field,
  // an explicit zero, a padded length, a negative thread id (10 bytes; 5 would do).
  EXPECT_EQ(passes(minimal + LenField(12, LenField(1, "x"))),
            std::make_pair(uint64_t{1}, uint64_t{0}));
  EXPECT_EQ(passes(LenField(12, LenField(1, "\xff")) + minimal),
            std::make_pair(uint64_t{1}, uint64_t{0}));
  EXPECT_EQ(passes(minimal + VarintField(99, 1)), std::make_pair(uint64_t{1}, uint64_t{0}));
  EXPECT_EQ(passes(minimal + VarintField(2, 0)), std::make_pair(uint64_t{1}, uint64_t{0}));
  EXPECT_EQ(passes(kHdr + Tag(12, 2) + std::string("\x83\x00", 2) + LenField(1, "f")),
            std::make_pair(uint64_t{1}, uint64_t{0}));
  e.set_thread_id(-1);
  EXPECT_EQ(passes(atf_test::Serialize(e)), std::make_pair(uint64_t{1}, uint64_t{0}));
  // Invalid: a nameless entry needs its place (minimal record: one pass, then the locating one).
  EXPECT_EQ(passes(kHdr + LenField(12, LenField(3, VarintField(2, 3)))),
            std::make_pair(uint64_t{0}, uint64_t{1}));
  EXPECT_EQ(first_pass, 1u) << "none of the records after the first is settled by it";
}

// The first pass reads register entries from their bytes (upb_engine.c, raw_entry()) and settles
// only records in their smallest encoding with ASCII text and named entries in their smallest
// encoding; every other entry leaves the record to the FAST view. Each entry form below, alone in
// a FunctionCall: the engines agree, and the first pass settles it exactly when it is canonical.
TEST_F(UpbEngine, FirstPassSettlesOnlyCanonicalEntries) {
  const std::string ten_one = std::string(9, '\xff') + "\x01";  // 2^64-1, 10 bytes
  struct Form {
    const char *name;
    std::string entry;  // the map entry's bytes
    bool canonical;
  };
  const std::vector<Form> forms = {
      {"name and value", LenField(1, "RDI") + VarintField(2, 42), true},
      {"name, value 0 left out", LenField(1, "RDI"), true},
      {"name, 2-byte value", LenField(1, "RDI") + VarintField(2, 300), true},
      {"name, 10-byte value", LenField(1, "RDI") + Tag(2, 0) + ten_one, true},
      {"name, 9-byte value", LenField(1, "R") + VarintField(2, uint64_t{1} << 62), true},
      {"long name (2-byte length)", LenField(1, std::string(200, 'r')) + VarintField(2, 1), true},
      {"value 0 written", LenField(1, "RDI") + VarintField(2, 0), false},
      {"padded value", LenField(1, "RDI") + Tag(2, 0) + std::string("\x81\x00", 2), false},
      {"10-byte value, 10th byte 2",
       LenField(1, "RDI") + Tag(2, 0) + std::string(9, '\xff') + "\x02", false},
      {"11-byte value", LenField(1, "RDI") + Tag(2, 0) + std::string(10, '\x80') + "\x01", false},
      {"value cut off", LenField(1, "RDI") + Tag(2, 0) + "\x80", false},
      {"value first", VarintField(2, 5) + LenField(1, "RDI"), false},
      {"name twice", LenField(1, "A") + LenField(1, "RDI") + VarintField(2, 5), false},
      {"value twice", LenField(1, "RDI") + VarintField(2, 5) + VarintField(2, 6), false},
      {"empty name written", LenField(1, "") + VarintField(2, 5), false},
      {"no name", VarintField(2, 5), false},
      {"empty entry", "", false},
      {"non-ASCII name", LenField(1, "R\xc3\xa9") + VarintField(2, 5), false},
      {"invalid UTF-8 name", LenField(1, "R\xff") + VarintField(2, 5), false},
      {"padded name length", Tag(1, 2) + std::string("\x83\x00", 2) + "RDI", false},
      {"name length past the entry", Tag(1, 2) + "\x09" + "RDI", false},
      {"name as a varint", VarintField(1, 5) + VarintField(2, 5), false},
      {"value as fixed64", LenField(1, "RDI") + Tag(2, 1) + "12345678", false},
      {"unknown field", LenField(1, "RDI") + VarintField(2, 5) + VarintField(3, 1), false},
      {"a group", LenField(1, "RDI") + Tag(3, 3) + Tag(3, 4), false},
  };
  for (const Form &f : forms) {
    SCOPED_TRACE(f.name);
    const std::string body = kHdr + LenField(12, LenField(1, "f") + LenField(3, f.entry));
    atf_upb_engine_stats before, after;
    atf_upb_engine_get_stats(engine_, &before);
    AgreeOnBody(body);
    atf_upb_engine_get_stats(engine_, &after);
    EXPECT_EQ(after.first_pass - before.first_pass, f.canonical ? 1u : 0u);
  }
}

// The first pass's size of the smallest encoding (varint_size() in upb_engine.c, a formula without
// a division) and its check of a register value's continued bytes (continued(), one or two loads),
// at every varint length: a minimal record with values of each bit length is settled by the first
// pass; an entry whose value has a byte without its high bit before its last byte is not.
TEST_F(UpbEngine, FirstPassSizesAndChecksVarintsOfEveryLength) {
  atf_upb_engine_stats before, after;
  for (int bit = 0; bit < 64; ++bit) {
    SCOPED_TRACE(bit);
    const uint64_t v = uint64_t{1} << bit | (uint64_t{1} << bit) - 1;  // bit + 1 bits, all set
    atf::v4::Event e = atf_test::Call(v, 77, atf_test::kBaseNs + v % 1000000000u, "main", v);
    (*e.mutable_function_call()->mutable_argument_registers())["RDI"] = v;
    (*e.mutable_function_call()->mutable_argument_registers())["RSI"] = uint64_t{1} << bit;
    e.mutable_function_call()->set_call_site(uint64_t{1} << bit);
    atf_upb_engine_get_stats(engine_, &before);
    EXPECT_TRUE(AgreeOnBody(atf_test::Serialize(e)).ok);
    atf_upb_engine_get_stats(engine_, &after);
    EXPECT_EQ(after.first_pass - before.first_pass, 1u);
  }
  for (size_t len = 2; len <= 10; ++len) {
    for (size_t cleared = 0; cleared + 1 < len; ++cleared) {
      SCOPED_TRACE(testing::Message() << len << " bytes, byte " << cleared << " not continued");
      std::string value(len - 1, '\x81');
      value += '\x01';
      value[cleared] = '\x01';
      const std::string body =
          kHdr +
          LenField(12, LenField(1, "f") + LenField(3, LenField(1, "RDI") + Tag(2, 0) + value));
      atf_upb_engine_get_stats(engine_, &before);
      AgreeOnBody(body);
      atf_upb_engine_get_stats(engine_, &after);
      EXPECT_EQ(after.first_pass - before.first_pass, 0u);
    }
  }
}

TEST_F(UpbEngine, NoVisitorCallsForARejectedRecord) {
  struct Count {
    int calls = 0;
  } count;
  const atf_event_visitor v = {&count,
                               [](void *c, atf_text_field, const uint8_t *, size_t, unsigned) {
                                 static_cast<Count *>(c)->calls++;
                               },
                               [](void *c, uint64_t) { static_cast<Count *>(c)->calls++; }};
  const std::string body =
      kHdr + LenField(12, LenField(1, "sym") + LenField(3, LenField(1, "A"))) + LenField(13, "");
  atf_event ev;
  atf_decode_error err{};  // quiet = false: messages wanted
  ASSERT_FALSE(atf_upb_decode_record(engine_, reinterpret_cast<const uint8_t *>(body.data()),
                                     body.size(), 0, &v, &ev, &err));
  EXPECT_STREQ(err.rule, "schema.payload");
  EXPECT_EQ(count.calls, 0);
}

std::string HexBytes(const std::string &s) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) out += {kDigits[c >> 4], kDigits[c & 15]};
  return out;
}

// The decode_test generator, widened to what only the validator's rules reject: empty texts,
// events without a timestamp, nameless registers, full-range values.
atf::v4::Event RandomEvent(std::mt19937_64 &rng) {
  atf_test::RandomEventOptions o;
  o.max_stack = 299;
  o.empty_text_piece = true;
  o.sometimes_no_timestamp = true;
  o.sometimes_nameless_register = true;
  o.full_range_register_values = true;
  return atf_test::RandomEvent(rng, o);
}

TEST_F(UpbEngine, RandomEventsAgree) {
  std::mt19937_64 rng(20261128);
  size_t valid = 0;
  for (int i = 0; i < 3000; ++i) {
    SCOPED_TRACE(i);
    valid += AgreeOnBody(atf_test::Serialize(RandomEvent(rng))).ok;
    if (HasFailure()) return;
  }
  EXPECT_GT(valid, 2500u);  // mostly valid: the values are compared, not only verdicts
}

// Byte mutations of valid records: both engines see the same broken bytes.
TEST_F(UpbEngine, MutatedRecordsAgree) {
  std::mt19937_64 rng(1128);
  size_t compared = 0, rejected = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string body = atf_test::Serialize(RandomEvent(rng));
    if (body.empty()) continue;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits; ++k) {
      const size_t at = rng() % body.size();
      switch (rng() % 4) {
        case 0:
          body[at] = static_cast<char>(rng());
          break;
        case 1:
          body[at] ^= static_cast<char>(1u << (rng() % 8));
          break;
        case 2:
          body.erase(at, 1 + rng() % 3);
          break;
        default:
          body.insert(at, 1, static_cast<char>(rng()));
          break;
      }
      if (body.empty()) body = "\x08";
    }
    const std::string input = "pad" + body;
    const auto *p = reinterpret_cast<const uint8_t *>(input.data());
    const EngineResult nanopb = atf_test::DecodeNanopb(p, input.size(), 3, body.size());
    const EngineResult upb = atf_test::DecodeUpb(engine_, p, 3, body.size());
    EXPECT_EQ(nanopb.Diff(upb), "") << "mutant " << i << ": " << HexBytes(body);
    if (HasFailure()) return;
    compared++;
    rejected += !upb.ok;
  }
  EXPECT_GT(compared, 3900u);
  EXPECT_GT(rejected, 1000u);
}

// Five-byte tags whose value needs more than 32 bits, and int32 values that are not sign-extended
// 32-bit ones: both engines reject them at the tag (docs/format.md, wire.decode), where Google's
// C++ protobuf keeps the low 32 bits.
TEST_F(UpbEngine, TagsAndInt32ValuesBeyond32BitsAreRejectedByBoth) {
  for (unsigned fifth : {0x10u, 0x70u, 0x78u, 0x7fu}) {
    SCOPED_TRACE(fifth);
    const std::string tag = std::string("\xf8\xff\xff\xff", 4) + static_cast<char>(fifth);
    const EngineResult r = AgreeOnBody(kHdr + kCall + tag + "\x01", 3);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.rule, "wire.decode");
    EXPECT_EQ(r.offset, 3 + kHdr.size() + kCall.size());
  }
  // A 5th byte of 0x0f: field 2^28 - 1, an unknown varint field, valid.
  EXPECT_TRUE(AgreeOnBody(kHdr + kCall + std::string("\xf8\xff\xff\xff\x0f", 5) + "\x01", 3).ok);
  for (uint64_t v : {(1ull << 32) + 101, 0xffffffffull, 0x80000000ull}) {
    SCOPED_TRACE(v);
    const EngineResult r = AgreeOnBody(VarintField(2, v) + kHdr + kCall, 3);  // thread_id
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.rule, "wire.decode");
    EXPECT_EQ(r.offset, 3u);
  }
  EXPECT_TRUE(
      AgreeOnBody(VarintField(2, static_cast<uint64_t>(-7)) + kHdr + kCall, 3).ok);  // ten bytes
}

TEST_F(UpbEngine, ArenaLimitIsTheEnginesLimitNotTheRecords) {
  // 5000 register entries: about 5000 entry messages in the arena.
  std::string regs;
  for (int i = 0; i < 5000; ++i)
    regs += LenField(3, LenField(1, "R" + std::to_string(i)) + VarintField(2, i));
  const std::string body = kHdr + LenField(14, VarintField(1, 11) + regs);
  const auto *p = reinterpret_cast<const uint8_t *>(body.data());
  const EngineResult full = atf_test::DecodeUpb(engine_, p, 0, body.size());
  EXPECT_TRUE(full.ok) << full.message;
  EXPECT_EQ(full.regs.size(), 5000u);
  const size_t used = atf_upb_engine_last_arena_bytes(engine_);
  EXPECT_GT(used, 0u);  // beyond the engine's fixed block

  atf_upb_engine *small = atf_upb_engine_new(used / 2);
  ASSERT_NE(small, nullptr);
  const EngineResult limited = atf_test::DecodeUpb(small, p, 0, body.size());
  EXPECT_FALSE(limited.ok);
  EXPECT_EQ(limited.rule, ATF_UPB_RULE_LIMIT);
  EXPECT_LE(atf_upb_engine_last_arena_bytes(small), used / 2);
  // The engine is usable afterwards, and a small record needs nothing beyond the block.
  const std::string ok = kHdr + kCall;
  EXPECT_TRUE(
      atf_test::DecodeUpb(small, reinterpret_cast<const uint8_t *>(ok.data()), 0, ok.size()).ok);
  EXPECT_EQ(atf_upb_engine_last_arena_bytes(small), 0u);
  atf_upb_engine_free(small);
}

TEST_F(UpbEngine, LimitsAreTheEnginesNotTheRecords) {
  // A record of 2^31 bytes or more is refused before a byte of it is read.
  const uint8_t byte = 0;
  atf_event ev;
  atf_decode_error err{};  // quiet = false: messages wanted
  EXPECT_FALSE(atf_upb_decode_record(engine_, &byte, size_t{1} << 31, 7, nullptr, &ev, &err));
  EXPECT_STREQ(err.rule, ATF_UPB_RULE_LIMIT);
  EXPECT_EQ(err.offset, 7u);
  // An engine without room beyond its fixed block decodes small records, but cannot locate a
  // nameless register entry (that takes a second arena).
  atf_upb_engine *tiny = atf_upb_engine_new(1);
  ASSERT_NE(tiny, nullptr);
  const std::string ok = kHdr + kCall;
  EXPECT_TRUE(
      atf_test::DecodeUpb(tiny, reinterpret_cast<const uint8_t *>(ok.data()), 0, ok.size()).ok);
  const std::string nameless = kHdr + LenField(12, LenField(3, VarintField(2, 3)));
  const EngineResult r = atf_test::DecodeUpb(
      tiny, reinterpret_cast<const uint8_t *>(nameless.data()), 0, nameless.size());
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.rule, ATF_UPB_RULE_LIMIT);
  atf_upb_engine_free(tiny);
}

TEST_F(UpbEngine, EnginesOnSeveralThreadsShareTheSchema) {
  // The schema is loaded once; engines are per thread. (Run under TSan too.)
  std::vector<std::string> bodies;
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200; ++i) bodies.push_back(atf_test::Serialize(RandomEvent(rng)));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      atf_upb_engine *e = atf_upb_engine_new(0);
      for (const auto &b : bodies) {
        const EngineResult r =
            atf_test::DecodeUpb(e, reinterpret_cast<const uint8_t *>(b.data()), 0, b.size());
        const EngineResult n = atf_test::DecodeNanopb(reinterpret_cast<const uint8_t *>(b.data()),
                                                      b.size(), 0, b.size());
        if (!r.Diff(n).empty()) failures++;
      }
      atf_upb_engine_free(e);
    });
  }
  for (auto &t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace

// Each decoding thread writes its engine for every record: the engine sits on cache lines of its
// own (128 bytes: lines are prefetched in pairs). Two engines that shared a line cost atf-validate
// a third of its speed with two threads (README, Performance).
TEST(UpbEngineLayout, EnginesLieOnCacheLinesOfTheirOwn) {
  std::vector<atf_upb_engine *> engines;
  for (int i = 0; i < 8; ++i) {
    engines.push_back(atf_upb_engine_new(0));
    ASSERT_NE(engines.back(), nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(engines.back()) % 128, 0u);
  }
  for (atf_upb_engine *e : engines) atf_upb_engine_free(e);
}
