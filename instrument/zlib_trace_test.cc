// Issue 14's main case: zlib's own minigzip, built from the pinned zlib 1.2.11 with
// -finstrument-functions (zlib instrumented too) and linked with libatf_instrument.so, compresses
// and decompresses a generated file under tracing. Each run's session must validate, name zlib's
// functions (deflate, inflate, and static ones such as longest_match) with every call returned in
// order on its thread, and the call report must count exactly the FunctionCall events in the file.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "instrument/testing/trace_check.h"
#include "validator/atf/validate.h"

namespace {

const char kMinigzip[] = "third_party/zlib/minigzip_traced";
const char kMinigzipStatic[] = "third_party/zlib/minigzip_traced_static";

// ~1.5 MB of text with repetition at several distances, so deflate does real matching work.
std::string Input() {
  std::string words[64];
  uint64_t x = 14;
  for (auto &w : words) {
    for (int i = 0; i < 3 + static_cast<int>(x % 7); ++i) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      w.push_back(static_cast<char>('a' + (x >> 59) % 26));
    }
  }
  std::string text;
  while (text.size() < 1500000) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    text += words[(x >> 40) % 64];
    text += (x >> 20) % 11 == 0 ? ".\n" : " ";
  }
  return text;
}

struct Traced {
  std::string dir;
  std::vector<atf::v4::Event> events;
  atf_test::Structure s;
  bool valid = false;
  uint64_t dropped = 0;
  std::string errors;
};

Traced Trace(const std::string &name, const std::string &env, const std::string &command) {
  const std::string root = atf_test::TempDir() + "/" + name;
  const auto r = atf_test::RunTraced(root, env, command);
  Traced t;
  EXPECT_EQ(r.status, 0) << command << ": " << r.err;
  const auto dirs = atf_test::SessionDirs(root);
  EXPECT_EQ(dirs.size(), 1u);
  if (dirs.size() != 1) return t;
  t.dir = dirs[0];
  std::string err;
  EXPECT_TRUE(atf_test::ReadSession(t.dir, &t.events, &err)) << err;
  t.s = atf_test::CheckStructure(t.events);
  atf_validate_report rep;
  EXPECT_EQ(atf_validate_path(t.dir.c_str(), nullptr, &rep), ATF_VALIDATE_OK);
  t.valid = rep.valid;
  t.dropped = rep.has_dropped_events ? rep.dropped_events : 0;
  for (size_t i = 0; i < rep.errors_len; ++i) t.errors += std::string(rep.errors[i].rule) + " ";
  atf_validate_report_free(&rep);
  return t;
}

void ExpectCompleteAndBalanced(const Traced &t, const char *known) {
  EXPECT_TRUE(t.valid) << t.errors;
  EXPECT_EQ(t.dropped, 0u);
  ASSERT_FALSE(t.events.empty());
  EXPECT_TRUE(t.events.back().has_trace_end());
  EXPECT_EQ(t.events.back().trace_end().exit_code(), 0);
  EXPECT_EQ(t.s.first_error, "");        // every return closes its thread's innermost call
  EXPECT_TRUE(t.s.open_at_end.empty());  // main returned: nothing left open
  for (const auto &[tid, calls] : t.s.calls_by_thread)
    EXPECT_EQ(t.s.returns_by_thread.at(tid), calls);
  EXPECT_GT(t.s.calls_by_symbol.at(known), 0u) << known;
  EXPECT_EQ(t.s.returns_by_symbol.at(known), t.s.calls_by_symbol.at(known));
  EXPECT_EQ(t.s.calls_by_symbol.at("main"), 1u);
  // Every call carries its call site (the hook's call_site), which lies outside the called
  // function's first bytes: a return address into the caller.
  uint64_t with_site = 0, calls = 0;
  for (const auto &ev : t.events) {
    if (!ev.has_function_call()) continue;
    calls++;
    const auto &c = ev.function_call();
    if (c.call_site() != 0 && c.call_site() != c.address()) with_site++;
  }
  EXPECT_EQ(with_site, calls);
}

// The report's calls column, per function and in total, against the events.
void ExpectReportMatches(const Traced &t) {
  const auto rep = atf_test::RunTool("validator/atf-dump --format=report " + t.dir);
  ASSERT_EQ(rep.status, 0) << rep.err;
  const auto calls = atf_test::ReportCalls(rep.out);
  EXPECT_EQ(calls, t.s.calls_by_symbol);
  uint64_t sum = 0;
  for (const auto &[name, n] : calls) sum += n;
  EXPECT_EQ(sum, t.s.calls);
}

TEST(ZlibTrace, MinigzipCompressesAndDecompressesTraced) {
  const std::string tmp = atf_test::TempDir();
  std::ofstream(tmp + "/input.txt", std::ios::binary) << Input();
  const Traced gz =
      Trace("gz", "ATF_OVERFLOW=block",
            std::string(kMinigzip) + " -c " + tmp + "/input.txt > " + tmp + "/input.gz");
  const Traced gunzip =
      Trace("gunzip", "ATF_OVERFLOW=block",
            std::string(kMinigzip) + " -d -c " + tmp + "/input.gz > " + tmp + "/output.txt");
  EXPECT_EQ(atf_test::RunTool("cmp " + tmp + "/input.txt " + tmp + "/output.txt").status, 0);

  ExpectCompleteAndBalanced(gz, "deflate");
  EXPECT_GT(gz.s.calls_by_symbol.at("longest_match"), 1000u);  // static in deflate.c: .symtab
  EXPECT_GT(gz.s.calls_by_symbol.at("gzwrite"), 0u);
  ExpectCompleteAndBalanced(gunzip, "inflate");
  EXPECT_GT(gunzip.s.calls_by_symbol.at("inflate_fast"), 0u);
  EXPECT_GT(gunzip.s.calls_by_symbol.at("gzread"), 0u);
  ExpectReportMatches(gz);
  ExpectReportMatches(gunzip);
}

TEST(ZlibTrace, StaticVariant) {
  const std::string tmp = atf_test::TempDir();
  std::ofstream(tmp + "/small.txt", std::ios::binary) << Input().substr(0, 200000);
  const Traced gz = Trace("gz_static", "ATF_OVERFLOW=block",
                          std::string(kMinigzipStatic) + " -c " + tmp + "/small.txt > /dev/null");
  ExpectCompleteAndBalanced(gz, "deflate");
  ExpectReportMatches(gz);
}

TEST(ZlibTrace, WithDropsTheReportStillCountsTheFileAndSaysSo) {
  const std::string tmp = atf_test::TempDir();
  std::ofstream(tmp + "/drop.txt", std::ios::binary) << Input();
  const Traced gz = Trace("gz_drop", "ATF_OVERFLOW=drop ATF_RING_BYTES=1024",
                          std::string(kMinigzip) + " -c " + tmp + "/drop.txt > /dev/null");
  EXPECT_TRUE(gz.valid) << gz.errors;
  EXPECT_GT(gz.dropped, 0u);  // a 1 KiB ring cannot keep up
  ExpectReportMatches(gz);
  const auto rep = atf_test::RunTool("validator/atf-dump --format=report " + gz.dir);
  EXPECT_NE(rep.out.find("# drops: " + std::to_string(gz.dropped) + " events were dropped"),
            std::string::npos)
      << rep.out.substr(0, 600);
}

}  // namespace
