// Golden files, one session per target (testdata/golden/<os>-<arch>/: linux and darwin, each x86_64
// and arm64), all written from the same fixed records and options by testing/golden_session.cc;
// only the target OS and architecture differ. On every run each of the four is written afresh and
// must equal its events.bin and trace.json byte for byte, and every record of every golden file
// must decode, with every decoder the project has, to exactly the event this file expects (built
// here from the records and the names docs/format.md gives, not from the writer's tables); the
// validator library must find each session valid. Nothing depends on the host (fixed clock, pid,
// thread ids, session id, target, no module collection), so a linux, darwin, x86_64 or arm64 host
// runs the same checks on the same files: testdata/golden/README.md.
// Regenerate on purpose: bazel run //writer:golden_regen -- $PWD/testdata/golden
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "writer/atf/writer.h"
#include "writer/testing/decode.h"
#include "writer/testing/golden_session.h"
#include "writer/testing/session.h"
#include "validator/atf/validate.h"

namespace {

using atf_test::Event;
using atf_test::GoldenTarget;
using atf_test::Kind;
using atf_test::Registers;

const char kRegenerate[] =
    "if intended, regenerate with bazel run //writer:golden_regen -- $PWD/testdata/golden";

// ---- every decoder the project has --------------------------------------------------------------

// Decoders of one record. Each must give exactly the expected event.
struct RecordDecoder {
  const char *name;
  bool (*decode)(const std::string &bytes, Event *out);
  bool sorts_registers;  // C++ protobuf maps are unordered: compared sorted by name
};
const RecordDecoder kRecordDecoders[] = {
    {"protobuf-c (the writer's library)", atf_test::DecodeProtobufC, false},
    {"nanopb (test decoder)", atf_test::DecodeNanopb, false},
    {"Google C++ protobuf", atf_test::DecodeCpp, true},
};

// Engines of the validator library, which checks a whole session (framing, schema, order, manifest)
// with its own record decoders, selected in atf_validate_options.engine: nanopb, upb, and both
// (every record decoded by both, any difference an engine.disagree error).
struct ValidatorEngine {
  const char *name;
  void (*configure)(atf_validate_options *options);
};
const ValidatorEngine kValidatorEngines[] = {
    {"validator library (nanopb)",
     [](atf_validate_options *o) { o->engine = ATF_VALIDATE_ENGINE_NANOPB; }},
    {"validator library (upb)",
     [](atf_validate_options *o) { o->engine = ATF_VALIDATE_ENGINE_UPB; }},
    {"validator library (both, compared)",
     [](atf_validate_options *o) { o->engine = ATF_VALIDATE_ENGINE_BOTH; }},
};

// ---- the expected sessions, from the records of testing/golden_session.cc -----------------------

constexpr uint64_t kT0 = 1700000000000000000ull;  // + 1 µs per clock reading

Event At(uint64_t id, int32_t tid, uint64_t ns, Kind kind) {
  Event e;
  e.event_id = id;
  e.thread_id = tid;
  e.has_timestamp = true;
  e.seconds = static_cast<int64_t>(ns / 1000000000u);
  e.nanos = static_cast<int32_t>(ns % 1000000000u);
  e.kind = kind;
  return e;
}

Registers Named(const std::vector<std::string> &names, const std::vector<uint64_t> &values) {
  Registers r;
  for (size_t i = 0; i < values.size(); i++) r.emplace_back(names.at(i), values[i]);
  return r;
}

std::vector<Event> Expected(const GoldenTarget &t) {
  const bool x86 = t.arch == ATF_ARCH_X86_64, darwin = t.os == ATF_OS_DARWIN;
  // docs/format.md (section 3) and proto/atf_v4.proto name the registers.
  std::vector<std::string> call = {"RDI", "RSI", "RDX", "RCX", "R8", "R9"};
  std::vector<std::string> ret = {"RAX", "RDX"};
  std::vector<std::string> dump = {"RAX", "RBX", "RCX", "RDX", "RSI", "RDI",
                                   "RBP", "RSP", "R8",  "R9",  "R10", "R11",
                                   "R12", "R13", "R14", "R15", "RIP", "RFLAGS"};
  if (!x86) {
    call.clear(), ret = {"X0", "X1"}, dump.clear();
    for (int i = 0; i < 8; i++) call.push_back("X" + std::to_string(i));
    for (int i = 0; i < 18; i++) dump.push_back("X" + std::to_string(i));  // 18 values given
  }
  std::string stack;
  for (int i = 0; i < 32; i++) stack.push_back(static_cast<char>(i * 7));  // 40 given, cap 32
  std::vector<uint64_t> dump_values;
  for (uint64_t i = 0; i < 18; i++) {
    dump_values.push_back(i == 0 ? 0 : (UINT64_MAX >> i) ^ (i << 40));
  }
  const std::string fffd = "\xef\xbf\xbd";

  std::vector<Event> v;
  Event e = At(1, 0, kT0 + 1000, Kind::kStart);  // first event id 1; session events on thread 0
  e.executable_path = "/opt/app/bin/traced";
  e.args = {"/opt/app/bin/traced", "--mode=\"fast\"", "C:\\dir", "\xc3\xa4\xe2\x9c\x93",
            "bad" + fffd};
  e.operating_system = darwin ? "darwin" : "linux";
  e.cpu_architecture = x86 ? "x86_64" : "aarch64";
  v.push_back(e);
  e = At(2, 4243, kT0 + 2000, Kind::kCall);
  e.symbol = "main", e.address = 0x401000, e.stack = stack;
  e.registers = Named(call, {1, 2, 0, UINT64_MAX, 1ull << 63, 127});
  v.push_back(e);
  e = At(3, 4243, kT0 + 3000, Kind::kCall);
  e.symbol = "_ZN3foo3barEv", e.address = 0x401100;
  e.registers = Named(call, {0xdeadbeefcafebabeull});
  v.push_back(e);
  e = At(4, 4243, kT0 + 4000, Kind::kReturn);  // the PAD record before it is skipped
  e.symbol = "_ZN3foo3barEv", e.address = 0x401100, e.registers = Named(ret, {42, 0});
  v.push_back(e);
  e = At(5, 4244, kT0 + 4500, Kind::kCall);
  e.symbol = "bad" + fffd + fffd + "name", e.address = 0x7fff00000000ull;
  v.push_back(e);
  e = At(6, 4244, kT0 + 4600, Kind::kReturn);  // symbol id 0: no symbol
  e.address = 0x7fff00000000ull, e.registers = Named(ret, {16384});
  v.push_back(e);
  e = At(7, 4243, kT0 + 5000, Kind::kSignal);
  e.number = 11, e.symbol = "SIGSEGV", e.registers = Named(dump, dump_values);
  v.push_back(e);
  e = At(8, 4244, kT0 + 5001, Kind::kSignal);  // signal numbering is the target OS's
  e.number = 10, e.symbol = darwin ? "SIGBUS" : "SIGUSR1", e.registers = Named(dump, {1, 2});
  v.push_back(e);
  e = At(9, 4244, kT0 + 5002, Kind::kSignal);
  e.number = 77, e.symbol = "SIG77";
  v.push_back(e);
  e = At(10, 4243, kT0 + 5003, Kind::kSignal);
  e.number = 30, e.symbol = darwin ? "SIGUSR1" : "SIGPWR", e.registers = Named(dump, {3});
  v.push_back(e);
  e = At(11, 4243, kT0 + 6000, Kind::kReturn);
  e.symbol = "main", e.address = 0x401000, e.registers = Named(ret, {0});
  v.push_back(e);
  // Clock readings: 1 open (TraceStart), 2 the flush at open, 3 finalize (TraceEnd).
  e = At(12, 0, kT0 + 3000, Kind::kEnd);
  e.exit_code = 3;
  v.push_back(e);
  return v;
}

// trace.json as cJSON prints it (tabs), with the target's os and arch.
std::string Manifest(const GoldenTarget &t, uint64_t bytes) {
  const std::string os = t.os == ATF_OS_DARWIN ? "darwin" : "linux";
  const std::string arch = t.arch == ATF_ARCH_X86_64 ? "x86_64" : "aarch64";
  return "{\n"
         "\t\"formatVersion\":\t\"ATF V4\",\n"
         "\t\"writer\":\t\"atf-writer " ATF_WRITER_VERSION
         "\",\n"
         "\t\"os\":\t\"" +
         os +
         "\",\n"
         "\t\"arch\":\t\"" +
         arch +
         "\",\n"
         "\t\"pid\":\t4242,\n"
         "\t\"sessionId\":\t20261126,\n"
         "\t\"executablePath\":\t\"/opt/app/bin/traced\",\n"
         "\t\"clock\":\t\"custom\",\n"
         "\t\"timeStartNs\":\t1700000000000001000,\n"
         "\t\"timeEndNs\":\t1700000000000006000,\n"
         "\t\"eventCount\":\t12,\n"
         "\t\"bytesWritten\":\t" +
         std::to_string(bytes) +
         ",\n"
         "\t\"modules\":\t[\"8e9f0a1b-2c3d-4e5f-8071-92a3b4c5d6e7\", "
         "\"01234567-89ab-cdef-0123-456789abcdef\"],\n"
         "\t\"droppedEvents\":\t8,\n"
         "\t\"droppedEventsByThread\":\t{\n"
         "\t\t\"4243\":\t6,\n"
         "\t\t\"4244\":\t2\n"
         "\t}\n"
         "}\n";
}

std::string GoldenDir(const GoldenTarget &t) { return std::string("testdata/golden/") + t.dir; }

class Golden : public ::testing::TestWithParam<GoldenTarget> {};

TEST_P(Golden, WrittenAfreshEqualsTheGoldenFilesByteForByte) {
  const GoldenTarget &t = GetParam();
  std::string dir;
  ASSERT_EQ(atf_test::WriteGoldenSession(atf_test::MakeTempDir(t.dir), t, &dir), "");
  for (const char *name : {"events.bin", "trace.json"}) {
    const std::string golden = atf_test::ReadFile(GoldenDir(t) + "/" + name);
    ASSERT_FALSE(golden.empty()) << GoldenDir(t) << "/" << name << " missing";
    EXPECT_TRUE(atf_test::ReadFile(dir + "/" + name) == golden)
        << name << " for " << t.dir << " differs from " << GoldenDir(t) << "; " << kRegenerate;
  }
}

TEST_P(Golden, EveryDecoderReadsTheExpectedEvents) {
  const GoldenTarget &t = GetParam();
  const std::string bytes = atf_test::ReadFile(GoldenDir(t) + "/events.bin");
  std::vector<std::string> records;
  size_t complete = 0;
  ASSERT_TRUE(atf_test::SplitFraming(bytes, &records, &complete)) << "torn at " << complete;
  const std::vector<Event> want = Expected(t);
  ASSERT_EQ(records.size(), want.size());
  for (const RecordDecoder &d : kRecordDecoders) {
    for (size_t i = 0; i < records.size(); i++) {
      Event got;
      ASSERT_TRUE(d.decode(records[i], &got)) << d.name << ": record " << i;
      Event w = want[i];
      if (d.sorts_registers) std::sort(w.registers.begin(), w.registers.end());
      EXPECT_EQ(got, w) << d.name << ", " << t.dir << ", record " << i << ":\n  got  "
                        << atf_test::Describe(got) << "\n  want " << atf_test::Describe(w);
    }
  }
  EXPECT_EQ(atf_test::ReadFile(GoldenDir(t) + "/trace.json"), Manifest(t, bytes.size()))
      << t.dir << "/trace.json";
}

TEST_P(Golden, ValidatorFindsTheSessionValid) {
  const GoldenTarget &t = GetParam();
  for (const ValidatorEngine &engine : kValidatorEngines) {
    atf_validate_options o;
    atf_validate_options_init(&o);
    engine.configure(&o);
    atf_validate_report r = {};
    ASSERT_EQ(atf_validate_path(GoldenDir(t).c_str(), &o, &r), ATF_VALIDATE_OK) << r.reason;
    EXPECT_TRUE(r.valid) << engine.name << ", " << t.dir << ": "
                         << (r.errors_len > 0 ? r.errors[0].rule : "");
    EXPECT_TRUE(r.manifest_checked) << engine.name;
    EXPECT_EQ(r.records, 12u) << engine.name;
    EXPECT_EQ(r.bytes, atf_test::ReadFile(GoldenDir(t) + "/events.bin").size()) << engine.name;
    const uint64_t counts[ATF_VALIDATE_PAYLOAD_COUNT] = {1, 1, 3, 3, 4};
    for (int p = 0; p < ATF_VALIDATE_PAYLOAD_COUNT; ++p) EXPECT_EQ(r.counts[p], counts[p]) << p;
    EXPECT_EQ(r.threads, 3u) << engine.name;  // 0 (session events), 4243, 4244
    EXPECT_EQ(r.unknown_fields, 0u);
    EXPECT_TRUE(r.has_dropped_events);
    EXPECT_EQ(r.dropped_events, 8u);
    atf_validate_report_free(&r);
  }
}

// The four targets' files are four different sessions: the target changes bytes, never by accident
// only in one file of the pair.
TEST(GoldenTargets, EachTargetHasItsOwnBytes) {
  const auto &targets = atf_test::GoldenTargets();
  ASSERT_EQ(targets.size(), 4u);
  for (size_t i = 0; i < targets.size(); i++) {
    for (size_t j = i + 1; j < targets.size(); j++) {
      for (const char *name : {"events.bin", "trace.json"}) {
        EXPECT_NE(atf_test::ReadFile(GoldenDir(targets[i]) + "/" + name),
                  atf_test::ReadFile(GoldenDir(targets[j]) + "/" + name))
            << targets[i].dir << " and " << targets[j].dir << " " << name;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTargets, Golden, ::testing::ValuesIn(atf_test::GoldenTargets()),
                         [](const ::testing::TestParamInfo<GoldenTarget> &p) {
                           std::string n = p.param.dir;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
