// The call report (validator/call_report.h) on sessions encoded with Google's C++ protobuf: exact
// counts and times by hand-computed expectations, recursion, threads, drops, broken input and the
// report's limits; and atf-dump --format=report as a command.
#include "validator/call_report.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "validator/testing/run_tool.h"
#include "validator/testing/session_builder.h"

namespace {

using atf::v4::Event;
using atf_test::Call;
using atf_test::Return;

constexpr uint64_t T0 = atf_test::kBaseNs;

// Call/Return without registers or stack copy, framed: the bulk tests' events (cheap to encode).
std::string Light(bool call, uint64_t id, int32_t tid, uint64_t ns, const std::string &symbol,
                  uint64_t address) {
  Event e;
  e.set_event_id(id);
  e.set_thread_id(tid);
  e.mutable_timestamp()->set_seconds(static_cast<int64_t>(ns / 1000000000u));
  e.mutable_timestamp()->set_nanos(static_cast<int32_t>(ns % 1000000000u));
  if (call) {
    e.mutable_function_call()->set_symbol(symbol);
    e.mutable_function_call()->set_address(address);
  } else {
    e.mutable_function_return()->set_symbol(symbol);
    e.mutable_function_return()->set_address(address);
  }
  return atf_test::Frame(atf_test::Serialize(e));
}

struct Report {
  atf_call_report rep{};
  bool ok = false;
  std::string printed;
  std::map<std::string, atf_call_report_row> by_name;

  Report(const std::vector<Event> &events, const std::string *manifest = nullptr,
         atf_call_report_options *opts = nullptr, std::string bytes = "") {
    atf_call_report_options o;
    atf_call_report_options_init(&o);
    if (opts != nullptr) o = *opts;
    if (bytes.empty()) bytes = atf_test::Frames(events);
    char err[128] = "";
    ok = atf_call_report_build(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(),
                               manifest ? manifest->data() : nullptr,
                               manifest ? manifest->size() : 0, &o, &rep, err, sizeof err);
    EXPECT_TRUE(ok) << err;
    for (size_t i = 0; ok && i < rep.nrows; ++i) by_name[rep.rows[i].symbol] = rep.rows[i];
    char *buf = nullptr;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    atf_call_report_print(&rep, "mem", &o, f);
    fclose(f);
    printed.assign(buf, len);
    free(buf);
  }
  ~Report() { atf_call_report_free(&rep); }
  const atf_call_report_row &Row(const std::string &name) {
    EXPECT_EQ(by_name.count(name), 1u) << name << "\n" << printed;
    return by_name[name];
  }
};

TEST(CallReport, NestedCallsExactTotalAndSelf) {
  // A [100, 200): B [110, 150), B [160, 170).
  std::vector<Event> ev = {atf_test::Start(0, T0),
                           Call(1, 7, T0 + 100, "A", 0x1000),
                           Call(2, 7, T0 + 110, "B", 0x2000),
                           Return(3, 7, T0 + 150, "B", 0x2000),
                           Call(4, 7, T0 + 160, "B", 0x2000),
                           Return(5, 7, T0 + 170, "B", 0x2000),
                           Return(6, 7, T0 + 200, "A", 0x1000),
                           atf_test::End(7, T0 + 300)};
  Report r(ev);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.rep.calls, 3u);
  EXPECT_EQ(r.rep.returns, 3u);
  EXPECT_EQ(r.rep.matched, 3u);
  EXPECT_EQ(r.rep.threads, 1u);
  EXPECT_EQ(r.Row("A").calls, 1u);
  EXPECT_EQ(r.Row("A").total_ns, 100u);
  EXPECT_EQ(r.Row("A").self_ns, 50u);
  EXPECT_EQ(r.Row("B").calls, 2u);
  EXPECT_EQ(r.Row("B").total_ns, 50u);
  EXPECT_EQ(r.Row("B").self_ns, 50u);
  // Sorted by total time: A first. Times printed exactly, in seconds.
  EXPECT_STREQ(r.rep.rows[0].symbol, "A");
  EXPECT_NE(r.printed.find("0.000000100          0.000000050            1            0  A\n"),
            std::string::npos)
      << r.printed;
  EXPECT_NE(r.printed.find("# drops: unknown: no trace.json"), std::string::npos) << r.printed;
}

TEST(CallReport, RecursionCountsTheOutermostActivationInTotal) {
  // A [0, 100) calls A [10, 30) which calls A [12, 20).
  std::vector<Event> ev = {Call(1, 1, T0 + 0, "A", 0x10),    Call(2, 1, T0 + 10, "A", 0x10),
                           Call(3, 1, T0 + 12, "A", 0x10),   Return(4, 1, T0 + 20, "A", 0x10),
                           Return(5, 1, T0 + 30, "A", 0x10), Return(6, 1, T0 + 100, "A", 0x10)};
  Report r(ev);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.Row("A").calls, 3u);
  EXPECT_EQ(r.Row("A").total_ns, 100u);
  EXPECT_EQ(r.Row("A").self_ns, 100u);  // 80 + 12 + 8
}

TEST(CallReport, ThreadsAreSeparateAndOneCanBeSelected) {
  // Interleaved in the file; each thread's stack is its own.
  std::vector<Event> ev = {Call(1, 1, T0 + 0, "A", 0x10),    Call(2, 2, T0 + 1, "A", 0x10),
                           Call(3, 2, T0 + 5, "B", 0x20),    Return(4, 1, T0 + 10, "A", 0x10),
                           Return(5, 2, T0 + 25, "B", 0x20), Return(6, 2, T0 + 41, "A", 0x10)};
  Report all(ev);
  ASSERT_TRUE(all.ok);
  EXPECT_EQ(all.rep.threads, 2u);
  EXPECT_EQ(all.Row("A").calls, 2u);
  EXPECT_EQ(all.Row("A").total_ns, 50u);  // both outermost: 10 + 40
  EXPECT_EQ(all.Row("A").self_ns, 30u);   // 10 + (40 - 20)
  atf_call_report_options o;
  atf_call_report_options_init(&o);
  o.one_thread = true;
  o.thread_id = 2;
  Report two(ev, nullptr, &o);
  ASSERT_TRUE(two.ok);
  EXPECT_EQ(two.rep.calls, 2u);
  EXPECT_EQ(two.rep.threads, 1u);
  EXPECT_EQ(two.Row("A").total_ns, 40u);
  EXPECT_EQ(two.Row("B").total_ns, 20u);
  EXPECT_NE(two.printed.find("# thread 2\n"), std::string::npos);
}

TEST(CallReport, MissingReturnsAndStrayReturnsAreCountedNotTimed) {
  // B's return is missing (dropped); A's return closes A and leaves B unreturned. C returns
  // without a call. D is still open at the end (exit() inside it).
  std::vector<Event> ev = {Call(1, 1, T0 + 0, "A", 0x10), Call(2, 1, T0 + 5, "B", 0x20),
                           Return(3, 1, T0 + 50, "A", 0x10), Return(4, 1, T0 + 60, "C", 0x30),
                           Call(5, 1, T0 + 70, "D", 0x40)};
  Report r(ev);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.rep.calls, 3u);
  EXPECT_EQ(r.rep.returns, 2u);
  EXPECT_EQ(r.rep.matched, 1u);
  EXPECT_EQ(r.rep.unreturned, 2u);
  EXPECT_EQ(r.rep.unmatched_returns, 1u);
  EXPECT_EQ(r.Row("A").total_ns, 50u);
  EXPECT_EQ(r.Row("A").self_ns, 50u);  // B has no return: its time cannot be known
  EXPECT_EQ(r.Row("B").unreturned, 1u);
  EXPECT_EQ(r.Row("B").total_ns, 0u);
  EXPECT_EQ(r.Row("C").calls, 0u);
  EXPECT_EQ(r.Row("C").unmatched_returns, 1u);
  EXPECT_EQ(r.Row("D").unreturned, 1u);
  EXPECT_NE(
      r.printed.find("1 calls returned, 2 without a return in the file, 1 returns without a call"),
      std::string::npos)
      << r.printed;
}

TEST(CallReport, DropsFromTheManifestAreStated) {
  std::vector<Event> ev = {Call(1, 9, T0, "A", 0x10), Return(2, 9, T0 + 1, "A", 0x10)};
  const std::string dropped = R"({"droppedEvents": 12, "droppedEventsByThread": {"9": 12}})";
  Report r(ev, &dropped);
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.rep.manifest_read);
  EXPECT_EQ(r.rep.dropped_events, 12u);
  EXPECT_NE(r.printed.find("# drops: 12 events were dropped"), std::string::npos) << r.printed;
  atf_call_report_options o;
  atf_call_report_options_init(&o);
  o.one_thread = true;
  o.thread_id = 9;
  Report t(ev, &dropped, &o);
  EXPECT_EQ(t.rep.thread_dropped_events, 12u);
  EXPECT_NE(t.printed.find("# drops: 12 events"), std::string::npos) << t.printed;
  o.thread_id = 8;
  Report other(ev, &dropped, &o);
  EXPECT_NE(other.printed.find("12 events in the session, none listed for this thread"),
            std::string::npos)
      << other.printed;
  const std::string none = R"({"eventCount": 4})";
  Report clean(ev, &none);
  EXPECT_NE(clean.printed.find("# drops: none (trace.json)"), std::string::npos) << clean.printed;
  const std::string broken = "{not json";
  Report bad(ev, &broken);
  EXPECT_FALSE(bad.rep.manifest_read);
  EXPECT_NE(bad.printed.find("# drops: unknown: trace.json is not a JSON object"),
            std::string::npos);
}

TEST(CallReport, SortOrdersAndAnonymousFunctions) {
  std::vector<Event> ev = {Call(1, 1, T0, "b", 0x20),     Return(2, 1, T0 + 5, "b", 0x20),
                           Call(3, 1, T0 + 5, "a", 0x10), Return(4, 1, T0 + 7, "a", 0x10),
                           Call(5, 1, T0 + 7, "a", 0x10), Return(6, 1, T0 + 9, "a", 0x10),
                           Call(7, 1, T0 + 9, "", 0xabc), Return(8, 1, T0 + 10, "", 0xabc)};
  atf_call_report_options o;
  atf_call_report_options_init(&o);
  Report total(ev, nullptr, &o);
  EXPECT_STREQ(total.rep.rows[0].symbol, "b");  // 5 ns > 4 ns
  o.sort = ATF_CALL_REPORT_SORT_CALLS;
  Report calls(ev, nullptr, &o);
  EXPECT_STREQ(calls.rep.rows[0].symbol, "a");
  o.sort = ATF_CALL_REPORT_SORT_NAME;
  Report name(ev, nullptr, &o);
  EXPECT_STREQ(name.rep.rows[0].symbol, "");
  EXPECT_STREQ(name.rep.rows[1].symbol, "a");
  EXPECT_NE(name.printed.find("  0xabc\n"), std::string::npos) << name.printed;
}

TEST(CallReport, SameNameAtTwoAddressesIsTwoFunctions) {
  std::vector<Event> ev = {Call(1, 1, T0, "init", 0x10), Return(2, 1, T0 + 1, "init", 0x10),
                           Call(3, 1, T0 + 1, "init", 0x20), Return(4, 1, T0 + 3, "init", 0x20)};
  Report r(ev);
  EXPECT_EQ(r.rep.nrows, 2u);
}

TEST(CallReport, InvalidRecordsAreSkippedAndCounted) {
  std::vector<Event> ev = {Call(1, 1, T0, "A", 0x10), Return(2, 1, T0 + 4, "A", 0x10)};
  std::string bytes = atf_test::Frame(atf_test::Serialize(ev[0]));
  bytes += atf_test::Frame(atf_test::Tag(12, 0) + "\x01");  // function_call as a varint
  bytes += atf_test::Frame(atf_test::Serialize(ev[1]));
  Report r({}, nullptr, nullptr, bytes);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.rep.invalid_records, 1u);
  EXPECT_EQ(r.Row("A").total_ns, 4u);
  bytes += "\x05\x01";  // a record cut short
  Report cut({}, nullptr, nullptr, bytes);
  EXPECT_TRUE(cut.rep.stopped_at_framing);
  EXPECT_EQ(cut.rep.invalid_records, 2u);
  EXPECT_NE(cut.printed.find("broken framing"), std::string::npos);
}

TEST(CallReport, DepthBeyondTheLimitIsCountedOutsideTheTable) {
  for (const uint32_t depth : {1000u, 0u}) {  // 0: the default, ATF_CALL_REPORT_MAX_DEPTH
    const uint64_t limit = depth ? depth : ATF_CALL_REPORT_MAX_DEPTH;
    const uint64_t n = limit + 10;
    std::string bytes;
    uint64_t id = 0;
    for (uint64_t i = 0; i < n; ++i) bytes += Light(true, id++, 1, T0 + i, "r", 0x10);
    for (uint64_t i = 0; i < n; ++i) bytes += Light(false, id++, 1, T0 + n + i, "r", 0x10);
    atf_call_report_options o;
    atf_call_report_options_init(&o);
    o.max_depth = depth;
    Report r({}, nullptr, &o, bytes);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.rep.calls, n);
    EXPECT_EQ(r.Row("r").calls, n);
    EXPECT_EQ(r.rep.events_over_limits, 20u);  // 10 calls past the limit and their 10 returns
    EXPECT_EQ(r.rep.matched, limit);
    EXPECT_EQ(r.rep.unreturned, 0u);
    EXPECT_EQ(r.Row("r").total_ns, 2 * n - 1);  // the outermost frame: T0 .. T0 + 2n - 1
    EXPECT_NE(r.printed.find("over the report's limits: 20 events"), std::string::npos);
  }
}

TEST(CallReport, FunctionAndOpenFrameLimits) {
  // 20 distinct functions, each called and returned, with a limit of 12 functions: calls of the
  // other 8 are counted in the header, not in the table.
  std::string bytes;
  uint64_t id = 0;
  for (uint64_t f = 0; f < 20; ++f) {
    bytes += Light(true, id++, 1, T0 + 2 * f, "f" + std::to_string(f), 0x100 + f);
    bytes += Light(false, id++, 1, T0 + 2 * f + 1, "f" + std::to_string(f), 0x100 + f);
  }
  atf_call_report_options o;
  atf_call_report_options_init(&o);
  o.max_functions = 12;
  Report r({}, nullptr, &o, bytes);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.rep.nrows, 12u);
  EXPECT_EQ(r.rep.calls, 20u);
  EXPECT_EQ(r.rep.matched, 12u);
  EXPECT_EQ(r.rep.events_over_limits, 16u);
  // Open frames over all threads: 3 threads 4 deep with a limit of 10.
  bytes.clear();
  for (int32_t t = 1; t <= 3; ++t) {
    for (uint64_t d = 0; d < 4; ++d) bytes += Light(true, id++, t, T0 + d, "g", 0x500 + d);
  }
  for (int32_t t = 1; t <= 3; ++t) {
    for (uint64_t d = 4; d-- > 0;) bytes += Light(false, id++, t, T0 + 10 + d, "g", 0x500 + d);
  }
  o.max_functions = 0;
  o.max_open_frames = 10;
  Report frames({}, nullptr, &o, bytes);
  ASSERT_TRUE(frames.ok);
  EXPECT_EQ(frames.rep.calls, 12u);
  EXPECT_EQ(frames.rep.events_over_limits, 4u);  // thread 3's last two calls and their returns
  EXPECT_EQ(frames.rep.matched, 10u);
}

// Random call trees on 8 threads over 3000 functions (recursion included), against a plain
// reference computation: exercises the tables' growth, collisions and deletions.
TEST(CallReport, RandomSessionsMatchAReferenceComputation) {
  for (uint64_t seed = 1; seed <= 2; ++seed) {
    std::mt19937_64 rng(seed);
    struct Ref {
      uint64_t calls = 0, total = 0, self = 0;
    };
    std::map<uint64_t, Ref> ref;  // by address (one symbol per address here)
    struct Open {
      uint64_t addr, t, child;
      bool outer;
    };
    std::map<int32_t, std::vector<Open>> stacks;
    std::map<std::pair<int32_t, uint64_t>, int> active;
    std::string bytes;
    uint64_t id = 0, now = T0;
    auto name = [](uint64_t addr) { return "f" + std::to_string(addr); };
    for (int step = 0; step < 60000; ++step) {
      const int32_t tid = 100 + static_cast<int32_t>(rng() % 8);
      auto &st = stacks[tid];
      now += 1 + rng() % 50;
      const bool call = st.empty() || (st.size() < 200 && rng() % 100 < 52);
      if (call) {
        // Mostly a few hot functions, sometimes any of 3000, sometimes the caller again.
        uint64_t addr = rng() % 4 == 0 ? 0x1000 + 16 * (rng() % 3000) : 0x1000 + 16 * (rng() % 20);
        if (!st.empty() && rng() % 10 == 0) addr = st.back().addr;
        const bool outer = active[{tid, addr}]++ == 0;
        st.push_back({addr, now, 0, outer});
        ref[addr].calls++;
        bytes += Light(true, id++, tid, now, name(addr), addr);
      } else {
        const Open o = st.back();
        st.pop_back();
        const uint64_t d = now - o.t;
        ref[o.addr].self += d - o.child;
        if (o.outer) ref[o.addr].total += d;
        if (!st.empty()) st.back().child += d;
        active[{tid, o.addr}]--;
        bytes += Light(false, id++, tid, now, name(o.addr), o.addr);
      }
    }
    Report r({}, nullptr, nullptr, bytes);
    ASSERT_TRUE(r.ok);
    uint64_t open = 0;
    for (const auto &[tid, st] : stacks) open += st.size();
    EXPECT_EQ(r.rep.unreturned, open);
    EXPECT_EQ(r.rep.unmatched_returns, 0u);
    EXPECT_EQ(r.rep.threads, 8u);
    ASSERT_EQ(r.rep.nrows, ref.size());
    for (const auto &[addr, want] : ref) {
      const atf_call_report_row &got = r.Row(name(addr));
      ASSERT_EQ(got.calls, want.calls) << name(addr);
      ASSERT_EQ(got.total_ns, want.total) << name(addr);
      ASSERT_EQ(got.self_ns, want.self) << name(addr);
    }
  }
}

TEST(CallReport, ThreadLimitAndRecordSizeLimit) {
  atf_call_report_options o;
  atf_call_report_options_init(&o);
  for (const uint32_t threads : {50u, 0u}) {  // 0: the default, ATF_CALL_REPORT_MAX_THREADS
    const uint64_t limit = threads ? threads : ATF_CALL_REPORT_MAX_THREADS;
    const uint64_t n = limit + 2;
    std::string bytes;
    for (uint64_t i = 0; i < n; ++i) bytes += Light(true, i, int32_t(i + 1), T0 + i, "t", 0x10);
    bytes += Light(false, n, int32_t(n), T0 + n, "t", 0x10);
    o.max_threads = threads;
    Report r({}, nullptr, &o, bytes);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.rep.threads, limit);
    EXPECT_EQ(r.rep.calls, n);
    EXPECT_EQ(r.rep.events_over_limits, 3u);  // two calls and a return of threads past the limit
    EXPECT_EQ(r.Row("t").calls, limit);
  }
  atf_call_report_options_init(&o);
  o.max_record_size = 20;
  std::vector<Event> ev = {Call(1, 1, T0, "a_rather_long_function_name", 0x10),
                           Call(2, 1, T0 + 1, "b", 0x20), Return(3, 1, T0 + 2, "b", 0x20)};
  Report small(ev, nullptr, &o);
  EXPECT_EQ(small.rep.invalid_records, 3u);  // every record here is longer than 20 bytes
  EXPECT_EQ(small.rep.calls, 0u);
}

TEST(CallReport, Options) {
  atf_call_report_options o;
  atf_call_report_options_init(&o);
  char err[160];
  EXPECT_EQ(atf_call_report_parse_option("--thread=-5", &o, err, sizeof err), 1);
  EXPECT_TRUE(o.one_thread);
  EXPECT_EQ(o.thread_id, -5);
  EXPECT_EQ(atf_call_report_parse_option("--thread=4294967296", &o, err, sizeof err), -1);
  EXPECT_STREQ(err, "invalid '--thread=4294967296': expected a thread id (a 32-bit integer)");
  EXPECT_EQ(atf_call_report_parse_option("--thread=", &o, err, sizeof err), -1);
  EXPECT_EQ(atf_call_report_parse_option("--sort=self", &o, err, sizeof err), 1);
  EXPECT_EQ(o.sort, ATF_CALL_REPORT_SORT_SELF);
  EXPECT_EQ(atf_call_report_parse_option("--sort=size", &o, err, sizeof err), -1);
  EXPECT_EQ(atf_call_report_parse_option("--format=jsonl", &o, err, sizeof err), 0);
}

TEST(CallReportCli, ReportOfASessionDirectory) {
  const std::string dir = atf_test::TempDir() + "/report_session";
  std::vector<Event> ev = {atf_test::Start(0, T0), Call(1, 3, T0 + 10, "main", 0x10),
                           Return(2, 3, T0 + 30, "main", 0x10), atf_test::End(3, T0 + 40)};
  const std::string bytes = atf_test::Frames(ev);
  const std::string manifest = atf_test::ManifestJson(atf_test::ManifestFor(ev, bytes));
  atf_test::WriteSession(dir, bytes, &manifest);
  auto r = atf_test::RunTool("validator/atf-dump --format=report " + dir);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("0.000000020          0.000000020            1            0  main\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("# drops: none (trace.json)"), std::string::npos) << r.out;
  r = atf_test::RunTool("validator/atf-dump --format=report --thread=4 --sort=calls " + dir +
                        "/events.bin");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("# events: 0 calls"), std::string::npos) << r.out;
  r = atf_test::RunTool("validator/atf-dump --thread=3 " + dir);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "atf-dump: --thread and --sort apply to --format report (try --help)\n");
  r = atf_test::RunTool("validator/atf-dump --format=report --thread=x " + dir);
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.err, "atf-dump: invalid --thread 'x' (try --help)\n");
  atf_test::WriteSession(dir, bytes + "\x09\x01", &manifest);
  r = atf_test::RunTool("validator/atf-dump --format=report " + dir);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("framing.truncated"), std::string::npos) << r.err;
  r = atf_test::RunTool("{ validator/atf-dump --format=report " + dir + " >/dev/full; }");
  EXPECT_EQ(r.status, 2);
}

// The report is a hook of the validation pass: its errors are the validator's, printed as the other
// formats print them, and --max-errors, --allow and --profile apply.
TEST(CallReportCli, ErrorsAreThePassesAndTheOptionsApply) {
  const std::string dir = atf_test::TempDir() + "/report_rules";
  // Three returns that close no call on thread 3 (session.call_return), then a valid pair.
  std::vector<Event> ev = {atf_test::Start(1, T0),
                           Return(2, 3, T0 + 1, "x", 0x99),
                           Return(3, 3, T0 + 2, "x", 0x99),
                           Return(4, 3, T0 + 3, "x", 0x99),
                           Call(5, 3, T0 + 10, "main", 0x10),
                           Return(6, 3, T0 + 30, "main", 0x10),
                           atf_test::End(7, T0 + 40)};
  const std::string bytes = atf_test::Frames(ev);
  const std::string manifest = atf_test::ManifestJson(atf_test::ManifestFor(ev, bytes));
  atf_test::WriteSession(dir, bytes, &manifest);
  auto r = atf_test::RunTool("validator/atf-dump --format=report --max-errors 1 " + dir);
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.out.find("0.000000020          0.000000020            1            0  main\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("3 returns without a call"), std::string::npos) << r.out;
  const auto jsonl = atf_test::RunTool("validator/atf-dump --format=jsonl --max-errors 1 " + dir);
  EXPECT_EQ(r.err, jsonl.err) << "the same errors, printed the same way";
  EXPECT_NE(
      r.err.find("record 1: session.call_return: FunctionReturn of 0x99 on thread 3 closes no open "
                 "FunctionCall\n"),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("atf-dump: 2 more not shown (--max-errors)\n"), std::string::npos) << r.err;
  for (const char *opt :
       {"--allow session.call_return", "--allow session.*", "--profile original"}) {
    r = atf_test::RunTool(std::string("validator/atf-dump --format=report ") + opt + " " + dir);
    EXPECT_EQ(r.status, 0) << opt << ": " << r.err;
    EXPECT_NE(r.err.find("atf-dump: warning: "), std::string::npos) << opt << ": " << r.err;
    EXPECT_NE(r.out.find("  main\n"), std::string::npos) << r.out;
  }
  // A FIFO in place of events.bin is refused by the pass at once (I/O error, exit 2).
  const std::string fifo_dir = atf_test::TempDir() + "/report_fifo";
  ::mkdir(fifo_dir.c_str(), 0755);
  ::unlink((fifo_dir + "/events.bin").c_str());
  ASSERT_EQ(::mkfifo((fifo_dir + "/events.bin").c_str(), 0644), 0);
  r = atf_test::RunTool("validator/atf-dump --format=report " + fifo_dir);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("FIFO"), std::string::npos) << r.err;
}

}  // namespace
