// Conversion and framing of each payload type, decoded by protobuf-c, nanopb and Google's C++
// protobuf and compared field for field with the expected event: register values and stack bytes
// bit-exact, timestamps exact, map entries in canonical order on the wire.
#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "writer/internal/convert.h"
#include "writer/internal/encode.h"
#include "writer/internal/symtab.h"
#include "writer/internal/varint.h"
#include "writer/testing/decode.h"
#include "writer/testing/records.h"

namespace {

using atf_test::Batch;
using atf_test::Event;
using atf_test::Kind;

struct Fixture {
  atf_symtab *symtab = atf_symtab_new();
  std::unique_ptr<atf_encoder> enc{new atf_encoder};
  Fixture(atf_arch arch, const char *os = "linux", uint32_t max_stack = 256) {
    atf_encoder_init(enc.get(), arch, os, symtab, max_stack);
  }
  ~Fixture() { atf_symtab_free(symtab); }
  uint32_t Intern(const std::string &s) {
    uint32_t id;
    uint64_t r;
    EXPECT_EQ(atf_symtab_intern(symtab, s.data(), s.size(), &id, &r), ATF_WRITER_OK);
    return id;
  }
  // Encodes the single record of `b` and returns the unframed Event bytes.
  std::string Encode(const Batch &b, uint64_t event_id) {
    std::vector<uint8_t> out(ATF_RECORD_MAX_SIZE * 4);
    const auto *r = static_cast<const atf_ring_record *>(b.data());
    int converted;
    size_t n = atf_encode_record(enc.get(), r, event_id, out.data(), out.size(), &converted);
    EXPECT_LE(n, out.size());
    uint64_t len;
    size_t h = atf_varint_decode(out.data(), n, &len);
    EXPECT_EQ(h + len, n);
    EXPECT_EQ(h, atf_varint_size(len));  // canonical length prefix
    return std::string(reinterpret_cast<const char *>(out.data()) + h, len);
  }
};

Event Decode(const std::string &bytes) {
  Event e;
  std::string err = atf_test::DecodeAll(bytes, &e);
  EXPECT_EQ(err, "");
  return e;
}

Event Expected(Kind kind, uint64_t id, int32_t tid, uint64_t ns) {
  Event e;
  e.kind = kind;
  e.event_id = id;
  e.thread_id = tid;
  e.has_timestamp = true;
  e.seconds = static_cast<int64_t>(ns / 1000000000u);
  e.nanos = static_cast<int32_t>(ns % 1000000000u);
  return e;
}

std::string AllBytes(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; i++) s.push_back(static_cast<char>(i));
  return s;
}

TEST(Convert, FunctionCallX86) {
  Fixture f(ATF_ARCH_X86_64);
  const uint32_t sym = f.Intern("_ZN3foo3barEv");
  const std::vector<uint64_t> regs = {0, 1, 127, 128, 1ull << 63, UINT64_MAX};
  Batch b;
  b.Call(INT32_MAX, UINT64_MAX, UINT64_MAX, sym, regs, AllBytes(256));
  Event want = Expected(Kind::kCall, 1, INT32_MAX, UINT64_MAX);
  want.symbol = "_ZN3foo3barEv";
  want.address = UINT64_MAX;
  want.registers = {{"RDI", 0},   {"RSI", 1},         {"RDX", 127},
                    {"RCX", 128}, {"R8", 1ull << 63}, {"R9", UINT64_MAX}};
  want.stack = AllBytes(256);
  EXPECT_EQ(Decode(f.Encode(b, 1)), want) << atf_test::Describe(Decode(f.Encode(b, 1)));
  EXPECT_EQ(want.seconds, 18446744073);
  EXPECT_EQ(want.nanos, 709551615);
}

TEST(Convert, FunctionCallArm64PrefixOfRegisters) {
  Fixture f(ATF_ARCH_ARM64);
  Batch b;
  b.Call(7, 1, 0x1000, 0, {10, 11, 12});
  Event want = Expected(Kind::kCall, 0, 7, 1);
  want.address = 0x1000;
  want.registers = {{"X0", 10}, {"X1", 11}, {"X2", 12}};
  EXPECT_EQ(Decode(f.Encode(b, 0)), want);
}

TEST(Convert, StackCopyCutToCap) {
  Fixture f(ATF_ARCH_X86_64, "linux", 128);
  Batch b;
  b.Call(1, 1, 1, 0, {}, AllBytes(300));
  Event got = Decode(f.Encode(b, 5));
  EXPECT_EQ(got.stack, AllBytes(128));
  EXPECT_EQ(f.enc->stack_truncations, 1u);
}

TEST(Convert, FunctionReturn) {
  for (atf_arch arch : {ATF_ARCH_X86_64, ATF_ARCH_ARM64}) {
    Fixture f(arch);
    const uint32_t sym = f.Intern("ma\xffin");
    Batch b;
    b.Return(-1, 0, 0x401000, sym, {0xdeadbeefcafebabeull, 16384});
    Event want = Expected(Kind::kReturn, 2, -1, 0);
    want.symbol = "ma\xef\xbf\xbdin";
    want.address = 0x401000;
    want.registers = arch == ATF_ARCH_X86_64
                         ? atf_test::Registers{{"RAX", 0xdeadbeefcafebabeull}, {"RDX", 16384}}
                         : atf_test::Registers{{"X0", 0xdeadbeefcafebabeull}, {"X1", 16384}};
    EXPECT_EQ(Decode(f.Encode(b, 2)), want);
  }
}

TEST(Convert, SignalDeliveryFullDumpInCanonicalOrder) {
  for (atf_arch arch : {ATF_ARCH_X86_64, ATF_ARCH_ARM64, ATF_ARCH_UNKNOWN}) {
    Fixture f(arch);
    const unsigned n = atf_register_count(arch, ATF_KIND_SIGNAL);
    std::vector<uint64_t> regs;
    Event want = Expected(Kind::kSignal, 3, 9, 1000000001);
    want.number = 11;
    want.symbol = "SIGSEGV";
    uint64_t v = 1;
    for (unsigned i = 0; i < n; i++, v = v * 131 + 7) {
      regs.push_back(v);
      want.registers.emplace_back(atf_register_name(arch, ATF_KIND_SIGNAL, i), v);
    }
    Batch b;
    b.Signal(9, 1000000001, 11, regs);
    EXPECT_EQ(Decode(f.Encode(b, 3)), want) << arch;
  }
  EXPECT_EQ(atf_register_count(ATF_ARCH_X86_64, ATF_KIND_SIGNAL), 18u);
  EXPECT_EQ(atf_register_count(ATF_ARCH_ARM64, ATF_KIND_SIGNAL), 34u);
  EXPECT_STREQ(atf_register_name(ATF_ARCH_X86_64, ATF_KIND_SIGNAL, 17), "RFLAGS");
  EXPECT_STREQ(atf_register_name(ATF_ARCH_ARM64, ATF_KIND_SIGNAL, 33), "CPSR");
  EXPECT_EQ(atf_register_name(ATF_ARCH_X86_64, ATF_KIND_CALL, 6), nullptr);
}

TEST(Convert, SignalNamesFollowSessionOs) {
  struct {
    const char *os;
    int number;
    const char *name;
  } cases[] = {{"linux", 10, "SIGUSR1"},  {"darwin", 30, "SIGUSR1"}, {"linux", 11, "SIGSEGV"},
               {"darwin", 11, "SIGSEGV"}, {"darwin", 10, "SIGBUS"},  {"linux", 77, "SIG77"},
               {"unknown", 11, "SIG11"},  {"linux", -3, "SIG-3"},    {"linux", 0, "SIG0"}};
  for (const auto &c : cases) {
    Fixture f(ATF_ARCH_X86_64, c.os);
    Batch b;
    b.Signal(1, 1, c.number, {});
    Event got = Decode(f.Encode(b, 1));
    EXPECT_EQ(got.symbol, c.name) << c.os << " " << c.number;
    EXPECT_EQ(got.number, c.number);
  }
}

TEST(Convert, TraceEnd) {
  Fixture f(ATF_ARCH_X86_64);
  for (int32_t code : {0, 3, -129, INT32_MIN, INT32_MAX}) {
    Batch b;
    b.End(INT32_MIN, 999999999, code);
    Event want = Expected(Kind::kEnd, UINT64_MAX, INT32_MIN, 999999999);
    want.exit_code = code;
    EXPECT_EQ(Decode(f.Encode(b, UINT64_MAX)), want);
  }
}

TEST(Convert, TraceStart) {
  std::unique_ptr<atf_convert_scratch> s(new atf_convert_scratch);
  atf_convert_scratch_init(s.get(), ATF_ARCH_ARM64);
  std::vector<std::string> args = {"/usr/bin/traced", "--flag", "", "\xe2\x9c\x93"};
  std::vector<char *> argv;
  for (auto &a : args) argv.push_back(&a[0]);
  const Atf__V4__Event *ev = atf_convert_trace_start(s.get(), 0, 4242, 1700000000123456789ull,
                                                     "/usr/bin/tr\xc3\xa4\x63\x65\"d \\ app",
                                                     argv.data(), argv.size(), "darwin", "aarch64");
  std::vector<uint8_t> out(4096);
  size_t n = atf_encode_event(ev, out.data(), out.size());
  uint64_t len;
  size_t h = atf_varint_decode(out.data(), n, &len);
  Event want = Expected(Kind::kStart, 0, 4242, 1700000000123456789ull);
  want.executable_path = "/usr/bin/tr\xc3\xa4\x63\x65\"d \\ app";
  want.args = args;
  want.operating_system = "darwin";
  want.cpu_architecture = "aarch64";
  EXPECT_EQ(Decode(std::string(reinterpret_cast<char *>(out.data()) + h, len)), want);
}

TEST(Convert, TooSmallOutputWritesNothing) {
  Fixture f(ATF_ARCH_X86_64);
  Batch b;
  b.Call(1, 1, 1, 0, {1, 2, 3}, "abc");
  uint8_t out[8];
  std::memset(out, 0xAA, sizeof out);
  int converted = 1;
  size_t n = atf_encode_record(f.enc.get(), static_cast<const atf_ring_record *>(b.data()), 1, out,
                               sizeof out, &converted);
  EXPECT_GT(n, sizeof out);
  for (uint8_t c : out) EXPECT_EQ(c, 0xAA);
  // A call takes the fast path: nothing was converted, n is a bound that leaves room for it.
  EXPECT_EQ(converted, 0);
  std::vector<uint8_t> fast(n);
  size_t exact = atf_encode_record(f.enc.get(), static_cast<const atf_ring_record *>(b.data()), 1,
                                   fast.data(), fast.size(), &converted);
  EXPECT_LE(exact, n);
  EXPECT_EQ(converted, 0);
  // A signal takes the reference path: the converted event is left for the caller and frames to
  // the same, exact size.
  Batch s;
  s.Signal(1, 1, 10, {1, 2, 3});
  n = atf_encode_record(f.enc.get(), static_cast<const atf_ring_record *>(s.data()), 2, out,
                        sizeof out, &converted);
  EXPECT_GT(n, sizeof out);
  EXPECT_EQ(converted, 1);
  for (uint8_t c : out) EXPECT_EQ(c, 0xAA);
  std::vector<uint8_t> big(n);
  EXPECT_EQ(atf_encode_event(&f.enc->scratch.event, big.data(), big.size()), n);
}

TEST(Convert, TimestampSplitIsExact) {
  for (uint64_t ns :
       std::initializer_list<uint64_t>{0ull, 1ull, 999999999ull, 1000000000ull,
                                       1700000000123456789ull, (1ull << 53) + 1, UINT64_MAX}) {
    Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    atf_timestamp_from_ns(ns, &ts);
    EXPECT_EQ(static_cast<uint64_t>(ts.seconds) * 1000000000u + static_cast<uint64_t>(ts.nanos),
              ns);
    EXPECT_GE(ts.nanos, 0);
    EXPECT_LT(ts.nanos, 1000000000);
  }
}

}  // namespace

namespace {

TEST(Names, HostDetection) {
#if defined(__linux__)
  EXPECT_EQ(atf_host_os(), ATF_OS_LINUX);
#elif defined(__APPLE__)
  EXPECT_EQ(atf_host_os(), ATF_OS_DARWIN);
#endif
#if defined(__x86_64__)
  EXPECT_EQ(atf_host_arch(), ATF_ARCH_X86_64);
#elif defined(__aarch64__)
  EXPECT_EQ(atf_host_arch(), ATF_ARCH_ARM64);
#endif
  atf_writer_options o;
  atf_writer_options_init(&o);
  EXPECT_EQ(o.os, atf_host_os());
  EXPECT_EQ(o.arch, atf_host_arch());
}

TEST(Names, ArchAndOsAsWritten) {
  EXPECT_STREQ(atf_arch_name(ATF_ARCH_X86_64), "x86_64");
  EXPECT_STREQ(atf_arch_name(ATF_ARCH_ARM64), "aarch64");  // the original writer's word
  EXPECT_STREQ(atf_arch_name(ATF_ARCH_UNKNOWN), "unknown");
  EXPECT_STREQ(atf_arch_name(static_cast<atf_arch>(99)), "unknown");
  EXPECT_STREQ(atf_os_name(ATF_OS_LINUX), "linux");
  EXPECT_STREQ(atf_os_name(ATF_OS_DARWIN), "darwin");
  EXPECT_STREQ(atf_os_name(ATF_OS_UNKNOWN), "unknown");
  EXPECT_STREQ(atf_os_name(static_cast<atf_os>(-1)), "unknown");
}

// Every signal of both systems, transcribed per name from the headers names.c cites (the kernel's
// asm-generic/signal.h and x86 asm/signal.h; xnu bsd/sys/signal.h); 0 = not defined there.
struct SignalRow {
  const char *name;
  int linux_number, darwin_number;
};
const SignalRow kSignals[] = {
    {"SIGHUP", 1, 1},    {"SIGINT", 2, 2},      {"SIGQUIT", 3, 3},   {"SIGILL", 4, 4},
    {"SIGTRAP", 5, 5},   {"SIGABRT", 6, 6},     {"SIGBUS", 7, 10},   {"SIGFPE", 8, 8},
    {"SIGKILL", 9, 9},   {"SIGUSR1", 10, 30},   {"SIGSEGV", 11, 11}, {"SIGUSR2", 12, 31},
    {"SIGPIPE", 13, 13}, {"SIGALRM", 14, 14},   {"SIGTERM", 15, 15}, {"SIGSTKFLT", 16, 0},
    {"SIGCHLD", 17, 20}, {"SIGCONT", 18, 19},   {"SIGSTOP", 19, 17}, {"SIGTSTP", 20, 18},
    {"SIGTTIN", 21, 21}, {"SIGTTOU", 22, 22},   {"SIGURG", 23, 16},  {"SIGXCPU", 24, 24},
    {"SIGXFSZ", 25, 25}, {"SIGVTALRM", 26, 26}, {"SIGPROF", 27, 27}, {"SIGWINCH", 28, 28},
    {"SIGIO", 29, 23},   {"SIGPWR", 30, 0},     {"SIGSYS", 31, 12},  {"SIGEMT", 0, 7},
    {"SIGINFO", 0, 29},
};

TEST(Names, EverySignalOfBothSystems) {
  char buf[16];
  int linux_named = 0, darwin_named = 0;
  for (const SignalRow &row : kSignals) {
    if (row.linux_number != 0) {
      EXPECT_STREQ(atf_signal_name(ATF_OS_LINUX, row.linux_number, buf), row.name);
      linux_named++;
    }
    if (row.darwin_number != 0) {
      EXPECT_STREQ(atf_signal_name(ATF_OS_DARWIN, row.darwin_number, buf), row.name);
      darwin_named++;
    }
  }
  EXPECT_EQ(linux_named, 31);  // 1..31 each once
  EXPECT_EQ(darwin_named, 31);
  // Nothing else has a name: 0, negatives, Linux real-time signals, darwin past NSIG, unknown OS.
  for (int n : {0, -1, 32, 33, 34, 64, 65, 1000}) {
    const std::string want = "SIG" + std::to_string(n);
    EXPECT_EQ(atf_signal_name(ATF_OS_LINUX, n, buf), want);
    EXPECT_EQ(atf_signal_name(ATF_OS_DARWIN, n, buf), want);
  }
  for (int n = 1; n < 32; n++) {
    EXPECT_EQ(atf_signal_name(ATF_OS_UNKNOWN, n, buf), "SIG" + std::to_string(n));
    EXPECT_EQ(atf_signal_name(static_cast<atf_os>(9), n, buf), "SIG" + std::to_string(n));
  }
  EXPECT_STREQ(atf_signal_name(ATF_OS_LINUX, INT32_MIN, buf), "SIG-2147483648");
  EXPECT_STREQ(atf_signal_name(ATF_OS_LINUX, INT32_MAX, buf), "SIG2147483647");
}

// The host's own <signal.h> agrees with the table of the OS this test runs on.
TEST(Names, HostSignalHeaderAgrees) {
  const struct {
    int number;
    const char *name;
  } host[] = {
    {SIGHUP, "SIGHUP"},
    {SIGINT, "SIGINT"},
    {SIGQUIT, "SIGQUIT"},
    {SIGILL, "SIGILL"},
    {SIGTRAP, "SIGTRAP"},
    {SIGABRT, "SIGABRT"},
    {SIGBUS, "SIGBUS"},
    {SIGFPE, "SIGFPE"},
    {SIGKILL, "SIGKILL"},
    {SIGUSR1, "SIGUSR1"},
    {SIGSEGV, "SIGSEGV"},
    {SIGUSR2, "SIGUSR2"},
    {SIGPIPE, "SIGPIPE"},
    {SIGALRM, "SIGALRM"},
    {SIGTERM, "SIGTERM"},
    {SIGCHLD, "SIGCHLD"},
    {SIGCONT, "SIGCONT"},
    {SIGSTOP, "SIGSTOP"},
    {SIGTSTP, "SIGTSTP"},
    {SIGTTIN, "SIGTTIN"},
    {SIGTTOU, "SIGTTOU"},
    {SIGURG, "SIGURG"},
    {SIGXCPU, "SIGXCPU"},
    {SIGXFSZ, "SIGXFSZ"},
    {SIGVTALRM, "SIGVTALRM"},
    {SIGPROF, "SIGPROF"},
    {SIGWINCH, "SIGWINCH"},
    {SIGIO, "SIGIO"},
    {SIGSYS, "SIGSYS"},
#if defined(__linux__)
    {SIGSTKFLT, "SIGSTKFLT"},
    {SIGPWR, "SIGPWR"},
#elif defined(__APPLE__)
    {SIGEMT, "SIGEMT"},
    {SIGINFO, "SIGINFO"},
#endif
  };
  char buf[16];
  for (const auto &h : host) EXPECT_STREQ(atf_signal_name(atf_host_os(), h.number, buf), h.name);
#if defined(__linux__)
  EXPECT_EQ(SIGRTMAX, 64);  // the unnamed real-time range ends where the test expects it
#endif
}

}  // namespace
