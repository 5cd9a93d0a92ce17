// Writes a large valid session for throughput measurements:
//   make_large_session DIR MIB     (DIR/events.bin of about MIB MiB, and DIR/trace.json)
// Events: TraceStart, then FunctionCall/FunctionReturn pairs on 8 threads, a SignalDelivery every
// 1000 pairs, TraceEnd. Encoded with Google's C++ protobuf.
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "validator/testing/session_builder.h"

int main(int argc, char **argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: make_large_session DIR MIB\n");
    return 2;
  }
  const std::string dir = argv[1];
  const uint64_t target = std::strtoull(argv[2], nullptr, 10) << 20;
  ::mkdir(dir.c_str(), 0755);
  std::FILE *f = std::fopen((dir + "/events.bin").c_str(), "wb");
  if (f == nullptr) return 2;
  uint64_t id = 0, ns = atf_test::kBaseNs, bytes = 0, count = 0;
  bool ok = true;
  auto put = [&](const atf::v4::Event &e) {
    const std::string rec = atf_test::Frame(atf_test::Serialize(e));
    ok = ok && std::fwrite(rec.data(), 1, rec.size(), f) == rec.size();
    bytes += rec.size();
    count++;
  };
  const uint64_t start_ns = ns;
  put(atf_test::Start(id++, ns));
  // The test is in the body: put() advances `bytes` and `ok` (a for condition would look stuck).
  for (uint64_t pair = 0;; ++pair) {
    if (!ok || bytes >= target) break;
    const int32_t tid = 1000 + static_cast<int32_t>(pair % 8);
    const std::string sym = "_ZN7example6workerEi" + std::to_string(pair % 97);
    put(atf_test::Call(id++, tid, ns += 100, sym, 0x400000 + 16 * (pair % 97)));
    put(atf_test::Return(id++, tid, ns += 50, sym, 0x400000 + 16 * (pair % 97)));
    if (pair % 1000 == 999) put(atf_test::Signal(id++, tid, ns += 10, 10, "SIGUSR1"));
  }
  put(atf_test::End(id++, ns += 1, 0));
  if (std::fclose(f) != 0 || !ok) {
    std::perror("make_large_session: events.bin");
    return 2;
  }
  atf_test::Manifest m;
  m.time_start_ns = start_ns;
  m.time_end_ns = ns;
  m.event_count = count;
  m.bytes_written = bytes;
  const std::string json = atf_test::ManifestJson(m);
  std::FILE *j = std::fopen((dir + "/trace.json").c_str(), "wb");
  if (j == nullptr) return 2;
  const bool json_ok = std::fwrite(json.data(), 1, json.size(), j) == json.size();
  if (std::fclose(j) != 0 || !json_ok) {
    std::perror("make_large_session: trace.json");
    return 2;
  }
  std::printf("%llu records, %llu bytes\n", (unsigned long long)count, (unsigned long long)bytes);
  return 0;
}
