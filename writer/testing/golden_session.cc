#include "writer/testing/golden_session.h"

#include <cstdint>
#include <string>
#include <vector>

#include "writer/atf/writer.h"
#include "writer/testing/records.h"

namespace atf_test {
namespace {

// 2023-11-14T22:13:20Z + 1 µs per reading.
uint64_t FixedClock(void *ctx) {
  auto *t = static_cast<uint64_t *>(ctx);
  *t += 1000;
  return *t;
}

std::string Check(atf_writer_status st, const char *what) {
  return st == ATF_WRITER_OK ? "" : std::string(what) + ": " + atf_writer_strerror(st);
}

}  // namespace

const std::vector<GoldenTarget> &GoldenTargets() {
  static const std::vector<GoldenTarget> kTargets = {
      {ATF_OS_LINUX, ATF_ARCH_X86_64, "linux-x86_64"},
      {ATF_OS_LINUX, ATF_ARCH_ARM64, "linux-arm64"},
      {ATF_OS_DARWIN, ATF_ARCH_X86_64, "darwin-x86_64"},
      {ATF_OS_DARWIN, ATF_ARCH_ARM64, "darwin-arm64"},
  };
  return kTargets;
}

std::string WriteGoldenSession(const std::string &root, const GoldenTarget &target,
                               std::string *session_dir) {
  uint64_t now = 1700000000000000000ull;
  const char *argv[] = {"/opt/app/bin/traced", "--mode=\"fast\"", "C:\\dir", "\xc3\xa4\xe2\x9c\x93",
                        "bad\xff"};
  atf_writer_options o;
  atf_writer_options_init(&o);
  o.output_root = root.c_str();
  o.session_label = "golden";
  o.pid = 4242;
  o.session_id = 20261126;
  o.clock = FixedClock;
  o.clock_ctx = &now;
  o.executable_path = "/opt/app/bin/traced";
  o.argv = argv;
  o.argc = 5;
  o.os = target.os;
  o.arch = target.arch;
  o.max_stack_bytes = 32;
  o.collect_modules = 0;  // session_thread_id stays 0: TraceStart/TraceEnd carry thread 0

  atf_writer *w = nullptr;
  std::string err = Check(atf_writer_open(&o, &w), "open");
  if (!err.empty()) return err;
  uint32_t main_id = 0, foo_id = 0, bad_id = 0;
  atf_writer_intern_symbol(w, "main", 4, &main_id);
  atf_writer_intern_symbol(w, "_ZN3foo3barEv", 13, &foo_id);
  atf_writer_intern_symbol(w, "bad\xc0\xafname", 9, &bad_id);

  std::string stack;
  for (int i = 0; i < 40; i++) stack.push_back(static_cast<char>(i * 7));  // cut to 32
  // 18 registers: x86_64's full dump (RAX..RFLAGS); on arm64 the same values are X0..X17, since the
  // records are the same for every target.
  std::vector<uint64_t> dump;
  for (uint64_t i = 0; i < 18; i++) dump.push_back(i == 0 ? 0 : (UINT64_MAX >> i) ^ (i << 40));

  Batch b;
  b.Call(4243, 1700000000000002000ull, 0x401000, main_id, {1, 2, 0, UINT64_MAX, 1ull << 63, 127},
         stack);
  b.Call(4243, 1700000000000003000ull, 0x401100, foo_id, {0xdeadbeefcafebabeull});
  b.Pad(48);
  b.Return(4243, 1700000000000004000ull, 0x401100, foo_id, {42, 0});
  b.Call(4244, 1700000000000004500ull, 0x7fff00000000ull, bad_id, {});
  b.Return(4244, 1700000000000004600ull, 0x7fff00000000ull, 0, {16384});
  b.Signal(4243, 1700000000000005000ull, 11, dump);
  // Numbered differently on the two systems: 10 is SIGUSR1 on linux, SIGBUS on darwin; 30 is SIGPWR
  // on linux, SIGUSR1 on darwin; 77 has no name on either.
  b.Signal(4244, 1700000000000005001ull, 10, {1, 2});
  b.Signal(4244, 1700000000000005002ull, 77, {});
  b.Signal(4243, 1700000000000005003ull, 30, {3});
  b.Return(4243, 1700000000000006000ull, 0x401000, main_id, {0});
  err = Check(atf_writer_write(w, b.data(), b.size()), "write");
  if (err.empty())
    err = Check(atf_writer_add_module(w, "8e9f0a1b-2c3d-4e5f-8071-92a3b4c5d6e7"), "module");
  if (err.empty())
    err = Check(atf_writer_add_module(w, "01234567-89ab-cdef-0123-456789abcdef"), "module");
  if (err.empty())
    err = Check(atf_writer_add_module(w, "8E9F0A1B-2C3D-4E5F-8071-92A3B4C5D6E7"),
                "module");  // duplicate
  if (err.empty()) err = Check(atf_writer_record_drops(w, 4243, 5), "drops");
  if (err.empty()) err = Check(atf_writer_record_drops(w, 4244, 2), "drops");
  if (err.empty()) err = Check(atf_writer_record_drops(w, 4243, 1), "drops");
  if (err.empty()) err = Check(atf_writer_finalize(w, 3), "finalize");
  if (err.empty()) *session_dir = atf_writer_session_dir(w);
  atf_writer_close(w);
  return err;
}

}  // namespace atf_test
