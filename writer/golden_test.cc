// Golden files: the fixed synthetic session of testing/golden_session.cc is written afresh on every
// run and must equal testdata/golden/{events.bin,trace.json} byte for byte. Nothing in it depends on
// the host (fixed clock, pid, thread ids, session id, os "linux", arch x86_64, no module
// collection), so the same bytes are expected on linux and darwin.
// Regenerate on purpose: bazel run //writer:golden_regen -- $PWD/testdata/golden
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/decode.h"
#include "testing/golden_session.h"
#include "testing/session.h"

namespace {

using atf_test::Event;
using atf_test::Kind;

class Golden : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string root = atf_test::MakeTempDir("golden");
    ASSERT_EQ(atf_test::WriteGoldenSession(root, &dir_), "");
  }
  std::string dir_;
};

TEST_F(Golden, EventsBinMatchesByteForByte) {
  const std::string golden = atf_test::ReadFile("testdata/golden/events.bin");
  ASSERT_FALSE(golden.empty()) << "testdata/golden/events.bin missing";
  EXPECT_TRUE(atf_test::ReadFile(dir_ + "/events.bin") == golden)
      << "events.bin differs from testdata/golden; if intended, regenerate with\n"
         "  bazel run //writer:golden_regen -- $PWD/testdata/golden";
}

TEST_F(Golden, TraceJsonMatchesByteForByte) {
  const std::string golden = atf_test::ReadFile("testdata/golden/trace.json");
  ASSERT_FALSE(golden.empty()) << "testdata/golden/trace.json missing";
  EXPECT_EQ(atf_test::ReadFile(dir_ + "/trace.json"), golden)
      << "if intended, regenerate with bazel run //writer:golden_regen -- $PWD/testdata/golden";
}

TEST_F(Golden, GoldenFileDecodesWithEveryPayload) {
  std::vector<Event> events;
  uint64_t bytes;
  ASSERT_EQ(atf_test::ReadSession("testdata/golden", &events, &bytes), "");
  std::vector<Kind> kinds;
  for (const Event& e : events) kinds.push_back(e.kind);
  const std::vector<Kind> want = {Kind::kStart,  Kind::kCall,   Kind::kCall,   Kind::kReturn,
                                  Kind::kCall,   Kind::kReturn, Kind::kSignal, Kind::kSignal,
                                  Kind::kSignal, Kind::kReturn, Kind::kEnd};
  EXPECT_EQ(kinds, want);
  EXPECT_EQ(events[1].stack.size(), 32u);  // cut to max_stack_bytes
  EXPECT_EQ(events[4].symbol, "bad\xef\xbf\xbd\xef\xbf\xbdname");
  EXPECT_EQ(events[7].symbol, "SIGUSR1");
  EXPECT_EQ(events[8].symbol, "SIG77");
  EXPECT_EQ(events[10].exit_code, 3);
  uint64_t v;
  const std::string json = atf_test::ReadFile("testdata/golden/trace.json");
  ASSERT_TRUE(atf_test::ExactJsonU64(json, "bytesWritten", &v));
  EXPECT_EQ(v, bytes);
  ASSERT_TRUE(atf_test::ExactJsonU64(json, "eventCount", &v));
  EXPECT_EQ(v, events.size());
}

}  // namespace
