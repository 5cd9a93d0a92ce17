// atf_validate_* on sessions written with Google's C++ protobuf: valid ones pass with the right
// report; limits (window, max_errors, thread cap, record size) behave as documented; recovery
// offsets are exact; files over 4 GiB work.
#include "validator/atf/validate.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "validator/internal/json_reader.h"
#include "validator/internal/pass.h"
#include "validator/testing/run_tool.h"
#include "validator/testing/session_builder.h"

namespace {

using atf_test::Frames;
using atf_test::kBaseNs;

struct Report {
  atf_validate_report r;
  atf_validate_status status;
  Report() { memset(&r, 0, sizeof r); }
  ~Report() { atf_validate_report_free(&r); }
  std::string FirstRule() const { return r.errors_len ? r.errors[0].rule : "(none)"; }
  std::string Errors() const {
    std::string s;
    for (size_t i = 0; i < r.errors_len; ++i)
      s += std::string(r.errors[i].rule) + ": " + r.errors[i].message + "\n";
    return s;
  }
};

void ValidateBuffers(const std::string &events, const std::string *manifest, Report *out,
                     const atf_validate_options *options = nullptr) {
  out->status =
      atf_validate_buffers(reinterpret_cast<const uint8_t *>(events.data()), events.size(),
                           manifest ? reinterpret_cast<const uint8_t *>(manifest->data()) : nullptr,
                           manifest ? manifest->size() : 0, options, &out->r);
}

std::string NewDir(const std::string &name) {
  const std::string dir = atf_test::TempDir() + "/" + name;
  ::mkdir(dir.c_str(), 0755);
  return dir;
}

TEST(Validate, SampleSessionIsValid) {
  const auto events = atf_test::SampleSession(3);
  const std::string bytes = Frames(events);
  const std::string manifest = atf_test::ManifestJson(atf_test::ManifestFor(events, bytes));
  Report rep;
  ValidateBuffers(bytes, &manifest, &rep);
  ASSERT_EQ(rep.status, ATF_VALIDATE_OK);
  const atf_validate_report &r = rep.r;
  EXPECT_TRUE(r.valid) << rep.Errors();
  EXPECT_EQ(r.records, events.size());
  EXPECT_EQ(r.bytes, bytes.size());
  EXPECT_EQ(r.counts[ATF_VALIDATE_TRACE_START], 1u);
  EXPECT_EQ(r.counts[ATF_VALIDATE_TRACE_END], 1u);
  EXPECT_EQ(r.counts[ATF_VALIDATE_FUNCTION_CALL], 6u);
  EXPECT_EQ(r.counts[ATF_VALIDATE_FUNCTION_RETURN], 6u);
  EXPECT_EQ(r.counts[ATF_VALIDATE_SIGNAL_DELIVERY], 1u);
  EXPECT_EQ(r.threads, 3u);  // 0 (session events), 101, 102
  EXPECT_EQ(r.time_min_ns, kBaseNs);
  EXPECT_EQ(r.time_max_ns, atf_test::TimeNs(events.back()));
  EXPECT_TRUE(r.manifest_checked);
  EXPECT_FALSE(r.has_dropped_events);
  EXPECT_EQ(r.valid_prefix_bytes, bytes.size());
  EXPECT_EQ(r.valid_prefix_records, events.size());
  EXPECT_EQ(r.warnings, 0u);
}

TEST(Validate, PathFormsAndMissingManifest) {
  const auto events = atf_test::SampleSession(2);
  const std::string bytes = Frames(events);
  const std::string manifest = atf_test::ManifestJson(atf_test::ManifestFor(events, bytes));
  const std::string with = NewDir("with_manifest"), without = NewDir("without_manifest");
  atf_test::WriteSession(with, bytes, &manifest);
  atf_test::WriteSession(without, bytes, nullptr);
  for (const std::string &path : {with, with + "/", with + "/events.bin"}) {
    Report rep;
    rep.status = atf_validate_path(path.c_str(), nullptr, &rep.r);
    ASSERT_EQ(rep.status, ATF_VALIDATE_OK) << rep.r.reason;
    EXPECT_TRUE(rep.r.valid) << path << "\n" << rep.Errors();
    EXPECT_TRUE(rep.r.manifest_checked) << path;
  }
  Report rep;
  ASSERT_EQ(atf_validate_path(without.c_str(), nullptr, &rep.r), ATF_VALIDATE_OK);
  EXPECT_TRUE(rep.r.valid);
  EXPECT_FALSE(rep.r.manifest_checked);
}

TEST(Validate, IoErrorsAreNotValidationErrors) {
  Report a, b;
  EXPECT_EQ(atf_validate_path((atf_test::TempDir() + "/does/not/exist").c_str(), nullptr, &a.r),
            ATF_VALIDATE_E_IO);
  EXPECT_NE(std::string(a.r.reason).find("does/not/exist"), std::string::npos);
  EXPECT_EQ(atf_validate_path(NewDir("empty_dir").c_str(), nullptr, &b.r), ATF_VALIDATE_E_IO);
  EXPECT_NE(std::string(b.r.reason).find("events.bin"), std::string::npos);
}

TEST(Validate, OptionalManifestKeysAreReported) {
  const auto events = atf_test::SampleSession(1);
  const std::string bytes = Frames(events);
  std::string manifest = atf_test::ManifestJson(atf_test::ManifestFor(events, bytes));
  manifest.insert(
      1,
      "\"droppedEvents\": 18446744073709551615, \"recovered\": true, \"extra\": {\"a\": [null]},");
  Report rep;
  ValidateBuffers(bytes, &manifest, &rep);
  EXPECT_TRUE(rep.r.valid) << rep.Errors();
  EXPECT_TRUE(rep.r.has_dropped_events);
  EXPECT_EQ(rep.r.dropped_events, UINT64_MAX);
  EXPECT_TRUE(rep.r.has_recovered);
  EXPECT_TRUE(rep.r.recovered);
}

TEST(Validate, UnknownFieldsAreWarningsNotErrors) {
  auto events = atf_test::SampleSession(1);
  std::string bytes;
  for (const auto &e : events)
    bytes += atf_test::Frame(atf_test::Serialize(e) + atf_test::VarintField(500, 1));
  Report rep;
  ValidateBuffers(bytes, nullptr, &rep);
  EXPECT_TRUE(rep.r.valid) << rep.Errors();
  EXPECT_EQ(rep.r.unknown_fields, events.size());
  EXPECT_EQ(rep.r.warnings, events.size());
}

TEST(Validate, RecordsLargerThanTheWindowAreStreamed) {
  // 300 KiB symbol of 4-byte characters and 200 KiB of stack, read through a 64 KiB window.
  std::string symbol;
  while (symbol.size() < 300 * 1024) symbol += "\xf0\x9f\x98\x80";
  auto big = atf_test::Call(1, 5, kBaseNs + 1, symbol, 1);
  big.mutable_function_call()->set_stack_shallow_copy(std::string(200 * 1024, '\xab'));
  std::vector<atf::v4::Event> events = {atf_test::Start(0, kBaseNs), big,
                                        atf_test::End(2, kBaseNs + 2)};
  const std::string dir = NewDir("big_record");
  std::string bytes = Frames(events);
  atf_test::WriteSession(dir, bytes, nullptr);
  atf_validate_options opt;
  atf_validate_options_init(&opt);
  opt.window_size = 64 * 1024;
  Report ok;
  ASSERT_EQ(atf_validate_path(dir.c_str(), &opt, &ok.r), ATF_VALIDATE_OK) << ok.r.reason;
  EXPECT_TRUE(ok.r.valid) << ok.Errors();

  // Break one character 250 KiB into the symbol: the error names that byte.
  const size_t at = bytes.find(symbol) + 250 * 1024 + 1;
  bytes[at] = 'x';  // a continuation byte replaced: the lead byte before it is left incomplete
  atf_test::WriteSession(dir, bytes, nullptr);
  Report bad;
  ASSERT_EQ(atf_validate_path(dir.c_str(), &opt, &bad.r), ATF_VALIDATE_OK);
  EXPECT_EQ(bad.FirstRule(), "schema.utf8");
  ASSERT_GT(bad.r.errors_len, 0u);
  EXPECT_EQ(bad.r.errors[0].offset, at);
  EXPECT_EQ(bad.r.errors[0].record, 1u);

  // The same record over a 100 KiB limit is framing.too_large, and the next record is still read.
  opt.max_record_size = 100 * 1024;
  Report large;
  ASSERT_EQ(atf_validate_path(dir.c_str(), &opt, &large.r), ATF_VALIDATE_OK);
  EXPECT_EQ(large.FirstRule(), "framing.too_large");
  EXPECT_EQ(large.r.error_count, 1u) << large.Errors();
  EXPECT_EQ(large.r.counts[ATF_VALIDATE_TRACE_END], 1u);
}

// Everything in a report, errors included, as text: reports of the same input must be equal.
std::string Describe(const atf_validate_report &r) {
  std::string s =
      std::to_string(r.valid) + " " + std::to_string(r.records) + " " + std::to_string(r.bytes);
  for (uint64_t c : r.counts) s += " " + std::to_string(c);
  for (uint64_t x :
       {r.threads, (uint64_t)r.threads_capped, (uint64_t)r.has_time, r.time_min_ns, r.time_max_ns,
        r.warnings, r.unknown_fields, r.valid_prefix_bytes, r.valid_prefix_records,
        (uint64_t)r.manifest_checked, r.error_count, (uint64_t)r.errors_len}) {
    s += " " + std::to_string(x);
  }
  for (size_t i = 0; i < r.errors_len; ++i) {
    const atf_validate_error &e = r.errors[i];
    s += std::string("\n") + e.file + " " + std::to_string(e.offset) + " " +
         std::to_string(e.record) + " " + e.rule + ": " + e.message;
  }
  return s;
}

TEST(Validate, DecodingThreadsAndWindowsDoNotChangeTheReport) {
  // 6000 records with defects spread through them (bad UTF-8, repeated ids, a timestamp going
  // back, an unknown field, a record too large for the limit, one larger than the window), read
  // from memory and through 64 KiB and 1 MiB windows (batches end mid-record), by 1, 2, 4 and one
  // per CPU threads.
  std::string bytes = atf_test::Frame(atf_test::Serialize(atf_test::Start(0, kBaseNs)));
  uint64_t id = 1;
  for (int i = 1; i < 6000; ++i) {
    atf::v4::Event e =
        atf_test::Call(id++, 100 + i % 7, kBaseNs + 10 * i, "fn_" + std::to_string(i), 0x1000 + i);
    if (i % 997 == 0) e.mutable_function_call()->set_symbol("bad\xc3(");
    if (i % 1499 == 0) e.set_event_id(1);
    if (i % 2003 == 0) e.mutable_timestamp()->set_seconds(1);
    if (i == 3000) e.mutable_function_call()->set_stack_shallow_copy(std::string(100 * 1024, 'x'));
    if (i == 4000) e.mutable_function_call()->set_stack_shallow_copy(std::string(3000, 'y'));
    std::string body = atf_test::Serialize(e);
    if (i % 1201 == 0) body += atf_test::VarintField(77, 1);
    bytes += atf_test::Frame(body);
  }
  bytes += atf_test::Frame(atf_test::Serialize(atf_test::End(id, kBaseNs + 100000)));
  const std::string dir = NewDir("threads");
  atf_test::WriteSession(dir, bytes, nullptr);

  atf_validate_options opt;
  atf_validate_options_init(&opt);
  opt.max_errors = 100;
  opt.max_record_size = 2000;
  opt.threads = 1;
  Report reference;
  ValidateBuffers(bytes, nullptr, &reference, &opt);
  ASSERT_EQ(reference.status, ATF_VALIDATE_OK);
  EXPECT_EQ(reference.r.records, 6001u);
  EXPECT_EQ(reference.r.error_count, 6u + 4u + 2u + 2u)
      << reference.Errors();  // utf8, ids, times, too large
  EXPECT_EQ(reference.r.unknown_fields, 4u);
  EXPECT_EQ(reference.FirstRule(), "schema.utf8");
  const std::string expected = Describe(reference.r);
  for (unsigned threads : {1u, 2u, 4u, 0u}) {  // 0: one per CPU
    opt.threads = threads;
    Report mem;
    ValidateBuffers(bytes, nullptr, &mem, &opt);
    EXPECT_EQ(Describe(mem.r), expected) << threads << " threads, memory";
    for (size_t window : {size_t{64 * 1024}, size_t{1024 * 1024}}) {
      opt.window_size = window;
      Report file;
      ASSERT_EQ(atf_validate_path(dir.c_str(), &opt, &file.r), ATF_VALIDATE_OK) << file.r.reason;
      EXPECT_EQ(Describe(file.r), expected) << threads << " threads, window " << window;
    }
  }
}

// The whole report as atf_validate_report_write_json() writes it (every field, every kept error
// and warning).
std::string Json(const atf_validate_report &r) {
  char *data = nullptr;
  size_t len = 0;
  FILE *f = open_memstream(&data, &len);
  if (f == nullptr) return "(no memory)";
  const bool ok = atf_validate_report_write_json(&r, f);
  std::fclose(f);
  std::string s(data, len);
  std::free(data);
  return ok ? s : "(write failed)";
}

// Some 2.5 MB of calls and returns on three threads, records of 40 to 160 bytes, with defects
// spread through them so that windows and batches end in every kind of place: bad UTF-8, repeated
// ids, timestamps going back, unknown fields, returns that close the wrong call, a record larger
// than a 320 KiB window, runs of zero bytes (empty records) and a torn tail.
constexpr int kPipelineRecords = 20000;  // with the TraceStart, the TraceEnd: 20001

std::string PipelineSession() {
  std::string bytes = atf_test::Frame(atf_test::Serialize(atf_test::Start(0, kBaseNs)));
  uint64_t id = 1;
  std::vector<uint64_t> open[3];
  bool bad_utf8 = false, large = false;  // for the next FunctionCall
  for (int i = 1; i < kPipelineRecords; ++i) {
    const int t = i % 3;
    const std::string symbol = "fn_" + std::string(10 + (i * 7) % 100, 'a' + i % 26);
    bad_utf8 |= i % 3001 == 0;
    large |= i == kPipelineRecords / 2;
    atf::v4::Event e;
    if (open[t].size() < 2 && (i / 3) % 4 < 2) {
      open[t].push_back(0x1000 + i);
      e = atf_test::Call(id++, 100 + t, kBaseNs + 10 * i, symbol, open[t].back());
      if (bad_utf8) e.mutable_function_call()->set_symbol("bad\xc3("), bad_utf8 = false;
      if (large) e.mutable_function_call()->set_stack_shallow_copy(std::string(400 << 10, 's'));
      large = false;
    } else if (!open[t].empty()) {
      const uint64_t address = i % 6007 < 3 ? 0xbad : open[t].back();
      open[t].pop_back();
      e = atf_test::Return(id++, 100 + t, kBaseNs + 10 * i, symbol, address);
    } else {
      e = atf_test::Signal(id++, 100 + t, kBaseNs + 10 * i, 10, "SIGUSR1");
    }
    if (i % 4999 == 0) e.set_event_id(1);
    if (i % 7001 == 0) e.mutable_timestamp()->set_seconds(1);
    std::string body = atf_test::Serialize(e);
    if (i % 2503 == 0) body += atf_test::VarintField(77, 1);
    bytes += atf_test::Frame(body);
    if (i == kPipelineRecords * 3 / 4) bytes += std::string(5000, '\0');
    if (i == kPipelineRecords * 7 / 8) bytes += std::string(3000, '\0');
  }
  bytes += atf_test::Frame(atf_test::Serialize(atf_test::End(id, kBaseNs + 10 * kPipelineRecords)));
  return bytes + atf_test::Varint(100) + std::string(10, 'x');  // torn: 10 of 100 bytes
}

TEST(Validate, PipelinedBatchesGiveTheSameReportAsOneThread) {
  // Windows of 64 KiB (batches too small to share), 320 KiB and 1 MiB (batches shared between
  // threads while the next window is read and framed), 1, 2, 3 and 8 threads (more than this
  // machine's cores: a worker often wakes after the batch it was called for is done); kept
  // errors capped at 0, 10 (full before the zero runs: they are counted in one step) and 5000
  // (full in the middle of the first run). Each report equals the one-thread report through the
  // same window, and with a 1 MiB window the one-thread in-memory one (a smaller window streams
  // the 400 KiB record through the nanopb engine: one engine fallback more).
  const std::string bytes = PipelineSession();
  const std::string dir = NewDir("pipeline");
  atf_test::WriteSession(dir, bytes, nullptr);
  for (size_t max_errors : {size_t{0}, size_t{10}, size_t{5000}}) {
    atf_validate_options opt;
    atf_validate_options_init(&opt);
    opt.max_errors = max_errors;
    Report reference;
    ValidateBuffers(bytes, nullptr, &reference, &opt);
    ASSERT_EQ(reference.status, ATF_VALIDATE_OK);
    EXPECT_EQ(reference.r.records, kPipelineRecords + 1u + 8000u);  // and the empty ones
    EXPECT_TRUE(reference.r.stopped_at_framing);
    EXPECT_GT(reference.r.unknown_fields, 0u);
    EXPECT_GT(reference.r.error_count, 8000u);
    EXPECT_EQ(reference.r.engine_fallbacks, 0u);
    if (max_errors == 5000) {  // every defect is there before the zero runs
      std::string rules;
      for (size_t i = 0; i < reference.r.errors_len; ++i) {
        rules += std::string(reference.r.errors[i].rule) + " ";
      }
      for (const char *rule : {"schema.utf8", "order.event_id", "order.timestamp",
                               "session.call_return", "schema.payload"}) {
        EXPECT_NE(rules.find(rule), std::string::npos) << rule;
      }
    }
    for (size_t window : {size_t{64 << 10}, size_t{320 << 10}, size_t{1 << 20}}) {
      opt.window_size = window;
      std::string expected;
      for (unsigned threads : {1u, 2u, 3u, 8u}) {
        SCOPED_TRACE(std::to_string(threads) + " threads, window " + std::to_string(window) +
                     ", max_errors " + std::to_string(max_errors));
        opt.threads = threads;
        Report file;
        ASSERT_EQ(atf_validate_path(dir.c_str(), &opt, &file.r), ATF_VALIDATE_OK) << file.r.reason;
        if (threads == 1) {
          expected = Json(file.r);
          if (window == (1 << 20)) EXPECT_EQ(expected, Json(reference.r));
          EXPECT_EQ(file.r.engine_fallbacks, window < (400 << 10) ? 1u : 0u);
        }
        EXPECT_EQ(Json(file.r), expected);
        if (window == (1 << 20)) {  // in memory (the window does not apply)
          Report mem;
          ValidateBuffers(bytes, nullptr, &mem, &opt);
          EXPECT_EQ(Json(mem.r), Json(reference.r));
        }
      }
    }
  }
}

TEST(Validate, MaxErrorsCapsKeptErrorsButAllAreCounted) {
  std::vector<atf::v4::Event> events = {atf_test::Start(0, kBaseNs)};
  for (int i = 1; i <= 200; ++i)
    events.push_back(atf_test::Call(7, 1, kBaseNs + i, "f", 1));  // ids repeat
  events.push_back(atf_test::End(1000, kBaseNs + 1000));
  atf_validate_options opt;
  atf_validate_options_init(&opt);
  opt.max_errors = 5;
  Report rep;
  ValidateBuffers(Frames(events), nullptr, &rep, &opt);
  EXPECT_FALSE(rep.r.valid);
  EXPECT_EQ(rep.r.errors_len, 5u);
  EXPECT_EQ(rep.r.error_count, 199u);
  EXPECT_EQ(rep.FirstRule(), "order.event_id");
  EXPECT_EQ(rep.r.errors[0].record, 2u);
  EXPECT_EQ(rep.r.valid_prefix_records, 2u);
}

TEST(Validate, ThreadTableIsCappedWithAWarning) {
  std::vector<atf::v4::Event> events = {atf_test::Start(0, kBaseNs)};
  const int n = ATF_VALIDATE_MAX_THREADS + 10;
  for (int i = 1; i <= n; ++i) {
    atf::v4::Event e = atf_test::End(i, kBaseNs + i);
    e.set_thread_id(i);
    e.mutable_signal_delivery()->set_number(1);  // replaces the payload
    events.push_back(e);
  }
  events.push_back(atf_test::End(n + 1, kBaseNs + n + 1));
  Report rep;
  ValidateBuffers(Frames(events), nullptr, &rep);
  EXPECT_TRUE(rep.r.valid) << rep.Errors();
  EXPECT_TRUE(rep.r.threads_capped);
  EXPECT_EQ(rep.r.threads, ATF_VALIDATE_MAX_THREADS);
  EXPECT_EQ(rep.r.warnings, 1u);
}

TEST(Validate, TornTailGivesTheRecoveryOffset) {
  const auto events = atf_test::SampleSession(2);
  const std::string whole = Frames(events);
  const std::string last = atf_test::Frame(atf_test::Serialize(events.back()));
  const std::string torn = whole.substr(0, whole.size() - 2);
  Report rep;
  ValidateBuffers(torn, nullptr, &rep);
  EXPECT_EQ(rep.FirstRule(), "framing.truncated");
  EXPECT_EQ(rep.r.errors[0].offset, whole.size() - last.size());
  EXPECT_EQ(rep.r.valid_prefix_bytes, whole.size() - last.size());
  EXPECT_EQ(rep.r.valid_prefix_records, events.size() - 1);
  EXPECT_EQ(rep.r.records, events.size() - 1);
}

TEST(Validate, ReportJsonIsExactAndParses) {
  const auto events = atf_test::SampleSession(1);
  Report rep;
  std::string bytes = Frames(events);
  bytes += "\x05";  // a torn tail
  ValidateBuffers(bytes, nullptr, &rep);
  char *text = nullptr;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  ASSERT_TRUE(atf_validate_report_write_json(&rep.r, f));
  fclose(f);
  atf_json_doc doc;
  ASSERT_EQ(atf_json_parse(text, len, &doc), ATF_JSON_OK) << doc.error << "\n" << text;
  const auto u64 = [&](const char *key) { return doc.nodes[atf_json_get(&doc, 0, key)].u64; };
  EXPECT_EQ(doc.nodes[atf_json_get(&doc, 0, "valid")].type, ATF_JSON_FALSE);
  EXPECT_EQ(u64("records"), events.size());
  EXPECT_EQ(u64("bytes"), bytes.size());
  EXPECT_EQ(u64("time_min_ns"), kBaseNs);  // above 2^53, exact
  EXPECT_EQ(u64("valid_prefix_bytes"), bytes.size() - 1);
  const size_t errors = atf_json_get(&doc, 0, "errors");
  ASSERT_NE(errors, ATF_JSON_NONE);
  EXPECT_EQ(doc.nodes[errors].count, 1u);  // framing.truncated only: a torn tail has no last record
  atf_json_free(&doc);
  free(text);
}

// A sparse file just over 5 GiB: TraceStart, a record whose length prefix claims 5 GiB of zero
// bytes, and a TraceEnd that starts beyond 2^32. Only a few pages are ever written or read.
TEST(Validate, FilesOver4GiB) {
  const std::string dir = NewDir("sparse");
  const std::string path = dir + "/events.bin";
  const uint64_t body = 5ull << 30;
  const std::string head =
      atf_test::Frame(atf_test::Serialize(atf_test::Start(0, kBaseNs))) + atf_test::Varint(body);
  const std::string tail = atf_test::Frame(atf_test::Serialize(atf_test::End(2, kBaseNs + 1)));
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  const uint64_t tail_at = head.size() + body;
  const bool written =
      ::pwrite(fd, head.data(), head.size(), 0) == static_cast<ssize_t>(head.size()) &&
      ::pwrite(fd, tail.data(), tail.size(), static_cast<off_t>(tail_at)) ==
          static_cast<ssize_t>(tail.size());
  ::close(fd);
  if (!written) GTEST_SKIP() << "the file system cannot hold a sparse 5 GiB file";
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  if (static_cast<uint64_t>(st.st_blocks) * 512 > (64u << 20))
    GTEST_SKIP() << "the file system is not sparse";

  Report
      deflt;  // default limit: the huge record is framing.too_large, the next one is read at 5 GiB
  ASSERT_EQ(atf_validate_path(dir.c_str(), nullptr, &deflt.r), ATF_VALIDATE_OK) << deflt.r.reason;
  EXPECT_EQ(deflt.r.bytes, tail_at + tail.size());
  EXPECT_EQ(deflt.r.records, 3u);
  EXPECT_EQ(deflt.r.error_count, 1u) << deflt.Errors();
  EXPECT_EQ(deflt.FirstRule(), "framing.too_large");
  EXPECT_EQ(deflt.r.counts[ATF_VALIDATE_TRACE_END], 1u);

  atf_validate_options
      opt;  // a limit above 5 GiB: the record is streamed and fails on its first byte
  atf_validate_options_init(&opt);
  opt.max_record_size = 8ull << 30;
  Report big;
  ASSERT_EQ(atf_validate_path(dir.c_str(), &opt, &big.r), ATF_VALIDATE_OK);
  EXPECT_EQ(big.FirstRule(), "wire.decode");
  EXPECT_EQ(big.r.errors[0].offset, head.size());
  EXPECT_EQ(big.r.error_count, 1u) << big.Errors();
  EXPECT_EQ(big.r.counts[ATF_VALIDATE_TRACE_END], 1u);

  // Truncate inside the huge record: the truncation is reported at its length prefix.
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(tail_at - 1)), 0);
  Report torn;
  ASSERT_EQ(atf_validate_path(dir.c_str(), &opt, &torn.r), ATF_VALIDATE_OK);
  EXPECT_EQ(torn.FirstRule(), "framing.truncated");
  EXPECT_EQ(torn.r.valid_prefix_bytes, head.size() - atf_test::Varint(body).size());
  ::unlink(path.c_str());
}

TEST(Validate, BadArguments) {
  Report a;
  EXPECT_EQ(atf_validate_buffers(nullptr, 5, nullptr, 0, nullptr, &a.r), ATF_VALIDATE_E_USAGE);
  Report b;
  atf_validate_options opt;
  atf_validate_options_init(&opt);
  opt.max_record_size = 0;
  EXPECT_EQ(atf_validate_buffers(reinterpret_cast<const uint8_t *>(""), 0, nullptr, 0, &opt, &b.r),
            ATF_VALIDATE_E_USAGE);
  EXPECT_STREQ(atf_validate_strerror(ATF_VALIDATE_E_IO), "I/O error");
  EXPECT_STREQ(atf_validate_strerror(ATF_VALIDATE_OK), "ok");
  EXPECT_STREQ(atf_validate_strerror(ATF_VALIDATE_E_USAGE), "invalid arguments");
  EXPECT_STREQ(atf_validate_strerror(ATF_VALIDATE_E_NO_MEMORY), "out of memory");
  EXPECT_STREQ(atf_validate_strerror(static_cast<atf_validate_status>(42)), "unknown status");
  EXPECT_STREQ(atf_validate_payload_name(ATF_VALIDATE_PAYLOAD_COUNT), "unknown");

  Report c, d;
  EXPECT_EQ(atf_validate_path("", nullptr, &c.r), ATF_VALIDATE_E_USAGE);
  EXPECT_STREQ(c.r.reason, "no path given");
  EXPECT_EQ(atf_validate_path(nullptr, nullptr, &d.r), ATF_VALIDATE_E_USAGE);
}

// Paths are never cut: a directory named by a path that leaves no room for "/events.bin" within
// PATH_MAX is still validated (files are opened relative to the directory's descriptor).
TEST(Validate, LongPathsAreNotCut) {
  const auto events = atf_test::SampleSession(1);
  const std::string bytes = Frames(events);
  const std::string manifest = atf_test::ManifestJson(atf_test::ManifestFor(events, bytes));
  const std::string dir = NewDir("long_path");
  atf_test::WriteSession(dir, bytes, &manifest);
  std::string path = dir;
  while (path.size() < 4090) path += "/.";
  ASSERT_GT(path.size() + sizeof "/events.bin", 4096u);
  Report rep;
  ASSERT_EQ(atf_validate_path(path.c_str(), nullptr, &rep.r), ATF_VALIDATE_OK) << rep.r.reason;
  EXPECT_TRUE(rep.r.valid) << rep.Errors();
  EXPECT_TRUE(rep.r.manifest_checked);
}

// A FIFO, socket or device in place of a session's files (a tarball can carry them): refused at
// once, without opening it for reading (that would block until a writer appears), as an I/O error
// naming the kind. A hang here would be a test timeout.
TEST(Validate, AnythingButARegularFileIsRefused) {
  const auto events = atf_test::SampleSession(1);
  const std::string bytes = Frames(events);
  const std::string manifest = atf_test::ManifestJson(atf_test::ManifestFor(events, bytes));
  const std::string fifo = NewDir("fifos") + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0) << strerror(errno);
  const std::string events_fifo = NewDir("events_fifo");
  ASSERT_EQ(::mkfifo((events_fifo + "/events.bin").c_str(), 0644), 0);
  const std::string manifest_fifo = NewDir("manifest_fifo");
  atf_test::WriteSession(manifest_fifo, bytes, nullptr);
  ASSERT_EQ(::mkfifo((manifest_fifo + "/trace.json").c_str(), 0644), 0);
  const std::string linked = NewDir("link_to_fifo");
  ASSERT_EQ(::symlink(fifo.c_str(), (linked + "/events.bin").c_str()), 0);
  // A Unix socket bound in the directory.
  const std::string sock_dir = NewDir("socket");
  const std::string sock_path = sock_dir + "/events.bin";
  const int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const bool bound = sock_path.size() < sizeof addr.sun_path &&
                     (std::strcpy(addr.sun_path, sock_path.c_str()), true) &&
                     ::bind(sock, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0;
  struct Case {
    std::string path, reason;
  };
  std::vector<Case> cases = {
      {fifo, "not a regular file (a FIFO)"},
      {events_fifo, "events.bin: not a regular file (a FIFO)"},
      {manifest_fifo, "trace.json: not a regular file (a FIFO)"},
      {manifest_fifo + "/events.bin",
       "trace.json beside the events file: not a regular file (a FIFO)"},
      {linked, "events.bin: not a regular file (a FIFO)"},
      {"/dev/null", "not a regular file (a character device)"},
  };
  if (bound) cases.push_back({sock_dir, "events.bin: not a regular file (a socket)"});
  for (const auto &c : cases) {
    SCOPED_TRACE(c.path);
    Report rep;
    EXPECT_EQ(atf_validate_path(c.path.c_str(), nullptr, &rep.r), ATF_VALIDATE_E_IO);
    EXPECT_NE(std::string(rep.r.reason).find(c.reason), std::string::npos) << rep.r.reason;
  }
  ::close(sock);
}

// /proc files say 0 bytes and hold text: not taken for an empty events.bin.
TEST(Validate, AFileWhoseSizeSaysZeroButHoldsDataIsRefused) {
  Report rep;
  EXPECT_EQ(atf_validate_path("/proc/self/status", nullptr, &rep.r), ATF_VALIDATE_E_IO);
  EXPECT_NE(std::string(rep.r.reason).find("size says 0 bytes but it holds data"),
            std::string::npos)
      << rep.r.reason;
  // A really empty file is an empty events.bin (session.first), not an I/O error.
  const std::string dir = NewDir("really_empty");
  atf_test::WriteSession(dir, "", nullptr);
  Report empty;
  ASSERT_EQ(atf_validate_path(dir.c_str(), nullptr, &empty.r), ATF_VALIDATE_OK) << empty.r.reason;
  EXPECT_EQ(empty.FirstRule(), "session.first");
}

// Past max_errors, a run of zero bytes (each an empty record: schema.payload) is counted in one
// step. The report must be the one the record-by-record path gives.
TEST(Validate, ZeroRunsPastTheCapGiveTheSameReport) {
  const auto events = atf_test::SampleSession(1);
  std::string bytes = Frames(events);
  const std::string end =
      bytes.substr(bytes.size() - atf_test::Frame(atf_test::Serialize(events.back())).size());
  bytes.resize(bytes.size() - end.size());
  bytes += std::string(3000, '\0') +
           atf_test::Frame(atf_test::Serialize(atf_test::Call(50, 7, kBaseNs + 99, "f", 1))) +
           std::string(70000, '\0') + end;  // the last run spans windows of 64 KiB
  const std::string dir = NewDir("zero_runs");
  atf_test::WriteSession(dir, bytes, nullptr);
  atf_validate_options all;  // every error kept: each record goes its own way
  atf_validate_options_init(&all);
  all.max_errors = ATF_VALIDATE_MAX_ERRORS;
  Report reference;
  ValidateBuffers(bytes, nullptr, &reference, &all);
  // 73000 empty records, and the TraceEnd's event_id now below the inserted call's.
  ASSERT_EQ(reference.r.error_count, 73001u) << reference.Errors().substr(0, 500);
  for (size_t max_errors : {size_t{0}, size_t{5}, size_t{2999}, size_t{3000}, size_t{3001}}) {
    atf_validate_options opt = all;
    opt.max_errors = max_errors;
    opt.window_size = 64 * 1024;
    for (bool file : {false, true}) {
      SCOPED_TRACE(std::to_string(max_errors) + (file ? " file" : " memory"));
      Report rep;
      if (file) {
        ASSERT_EQ(atf_validate_path(dir.c_str(), &opt, &rep.r), ATF_VALIDATE_OK);
      } else {
        ValidateBuffers(bytes, nullptr, &rep, &opt);
      }
      // Equal to the reference with its error list cut at max_errors.
      atf_validate_report cut = reference.r;
      cut.errors_len = max_errors;
      EXPECT_EQ(Describe(rep.r), Describe(cut));
      EXPECT_EQ(rep.r.counts[ATF_VALIDATE_FUNCTION_CALL],
                reference.r.counts[ATF_VALIDATE_FUNCTION_CALL]);
    }
  }
}

// A sparse 1 GiB file of zeros: 2^30 empty records, each counted (only the first few kept).
TEST(Validate, ASparseGigabyteOfZerosIsCountedRecordByRecord) {
  const std::string dir = NewDir("zeros");
  const std::string path = dir + "/events.bin";
  const int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  const bool sized = ::ftruncate(fd, off_t{1} << 30) == 0;
  ::close(fd);
  if (!sized) GTEST_SKIP() << "the file system cannot hold a sparse 1 GiB file";
  atf_validate_options opt;
  atf_validate_options_init(&opt);
  opt.max_errors = 3;
  Report rep;
  ASSERT_EQ(atf_validate_path(dir.c_str(), &opt, &rep.r), ATF_VALIDATE_OK) << rep.r.reason;
  EXPECT_EQ(rep.r.records, uint64_t{1} << 30);
  EXPECT_EQ(rep.r.error_count, uint64_t{1} << 30);
  ASSERT_EQ(rep.r.errors_len, 3u);
  EXPECT_EQ(rep.FirstRule(), "schema.payload");
  EXPECT_EQ(rep.r.errors[2].record, 2u);
  EXPECT_EQ(rep.r.errors[2].offset, 3u);  // the empty body just after its length byte
  EXPECT_EQ(rep.r.valid_prefix_records, 0u);
  ::unlink(path.c_str());
}

// Holes of a sparse file are zeros that need not be read (SEEK_DATA): a TraceStart, a 4 MiB hole,
// a TraceEnd ending the file give the report the same bytes in memory give.
TEST(Validate, HolesInASparseFileAreCountedLikeZeros) {
  const std::string start = atf_test::Frame(atf_test::Serialize(atf_test::Start(0, kBaseNs)));
  const std::string end = atf_test::Frame(atf_test::Serialize(atf_test::End(1, kBaseNs + 1)));
  const uint64_t hole = 4u << 20;
  const std::string dir = NewDir("holes");
  const int fd = ::open((dir + "/events.bin").c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, start.data(), start.size(), 0), static_cast<ssize_t>(start.size()));
  ASSERT_EQ(::pwrite(fd, end.data(), end.size(), static_cast<off_t>(start.size() + hole)),
            static_cast<ssize_t>(end.size()));
  ::close(fd);
  atf_validate_options opt;
  atf_validate_options_init(&opt);
  opt.max_errors = 2;
  Report file, memory;
  ASSERT_EQ(atf_validate_path(dir.c_str(), &opt, &file.r), ATF_VALIDATE_OK) << file.r.reason;
  ValidateBuffers(start + std::string(hole, '\0') + end, nullptr, &memory, &opt);
  EXPECT_EQ(Describe(file.r), Describe(memory.r));
  EXPECT_EQ(file.r.records, 2 + hole);
  EXPECT_EQ(file.r.error_count, hole) << "every empty record";
  EXPECT_EQ(file.r.counts[ATF_VALIDATE_TRACE_END], 1u) << "the TraceEnd after the hole is read";
}

TEST(Validate, MaxErrorsIsCappedSoMemoryIsBounded) {
  atf_validate_options opt;
  atf_validate_options_init(&opt);
  opt.max_errors = SIZE_MAX;
  Report rep;
  ValidateBuffers(std::string(70000, '\0'), nullptr, &rep, &opt);
  EXPECT_EQ(rep.r.error_count, 70000u);
  EXPECT_EQ(rep.r.errors_len, ATF_VALIDATE_MAX_ERRORS);
}

// A record over the limit is still a complete record: counted, and eventCount agrees.
TEST(Validate, ARecordTooLargeIsCountedAsARecord) {
  std::vector<atf::v4::Event> events = {atf_test::Start(0, kBaseNs)};
  for (int i = 1; i <= 5; ++i)
    events.push_back(atf_test::Call(i, 7, kBaseNs + i, std::string(i == 3 ? 3000 : 5, 'f'), 1));
  events.push_back(atf_test::End(6, kBaseNs + 10));
  const std::string bytes = Frames(events);
  const std::string manifest = atf_test::ManifestJson(atf_test::ManifestFor(events, bytes));
  atf_validate_options opt;
  atf_validate_options_init(&opt);
  opt.max_record_size = 1024;
  Report rep;
  ValidateBuffers(bytes, &manifest, &rep, &opt);
  EXPECT_EQ(rep.r.records, 7u);
  EXPECT_EQ(rep.r.error_count, 1u) << rep.Errors();
  EXPECT_EQ(rep.FirstRule(), "framing.too_large");
}

TEST(Validate, ManifestTooLargeNamesItsSize) {
  const auto events = atf_test::SampleSession(1);
  const std::string bytes = Frames(events);
  const std::string dir = NewDir("big_manifest");
  const std::string manifest(2u << 20, ' ');
  atf_test::WriteSession(dir, bytes, &manifest);
  Report rep;
  ASSERT_EQ(atf_validate_path(dir.c_str(), nullptr, &rep.r), ATF_VALIDATE_OK);
  EXPECT_EQ(rep.FirstRule(), "manifest.too_large");
  EXPECT_NE(std::string(rep.r.errors[0].message).find("2097152 bytes"), std::string::npos)
      << rep.Errors();
}

// "pid": -0 is the integer zero.
TEST(Validate, ManifestMinusZeroIsZero) {
  const auto events = atf_test::SampleSession(1);
  const std::string bytes = Frames(events);
  std::string manifest = atf_test::ManifestJson(atf_test::ManifestFor(events, bytes));
  manifest.replace(manifest.find("\"pid\": 4242"), 11, "\"pid\": -0");
  Report rep;
  ValidateBuffers(bytes, &manifest, &rep);
  EXPECT_TRUE(rep.r.valid) << rep.Errors() << manifest;
}

// --allow: a rule's violations become warnings, listed apart; --profile original allows what the
// original format does not state. An allowed violation never hides an error of the same record.
TEST(Validate, AllowedRulesAreWarnings) {
  const uint64_t b = kBaseNs;
  // Record 2 restarts event_id (allowed below) and goes back in time on its thread (not allowed).
  const std::vector<atf::v4::Event> events = {
      atf_test::Start(0, b), atf_test::Call(5, 7, b + 10, "f", 1),
      atf_test::Return(1, 7, b + 5, "f", 1), atf_test::End(6, b + 20)};
  const std::string bytes = Frames(events);
  atf_validate_options opt;
  atf_validate_options_init(&opt);
  Report strict;
  ValidateBuffers(bytes, nullptr, &strict, &opt);
  EXPECT_EQ(strict.FirstRule(), "order.event_id");
  EXPECT_EQ(strict.r.error_count, 1u) << "first error wins";

  ASSERT_TRUE(atf_validate_rule_parse("order.event_id", &opt.allowed_rules));
  Report allowed;
  ValidateBuffers(bytes, nullptr, &allowed, &opt);
  EXPECT_FALSE(allowed.r.valid);
  EXPECT_EQ(allowed.FirstRule(), "order.timestamp")
      << "the next rule of the same record still runs";
  EXPECT_EQ(allowed.r.rule_warning_count, 1u);
  ASSERT_EQ(allowed.r.rule_warnings_len, 1u);
  EXPECT_STREQ(allowed.r.rule_warnings[0].rule, "order.event_id");
  EXPECT_EQ(allowed.r.rule_warnings[0].record, 2u);
  EXPECT_EQ(allowed.r.warnings, 1u);
  EXPECT_EQ(allowed.r.allowed_rules, ATF_VALIDATE_RULE_BIT(ATF_RULE_ORDER_EVENT_ID));

  uint64_t group = 0;
  ASSERT_TRUE(atf_validate_rule_parse("order.*", &group));
  EXPECT_EQ(group, ATF_VALIDATE_RULE_BIT(ATF_RULE_ORDER_EVENT_ID) |
                       ATF_VALIDATE_RULE_BIT(ATF_RULE_ORDER_TIMESTAMP));
  opt.allowed_rules = group;
  Report both;
  ValidateBuffers(bytes, nullptr, &both, &opt);
  EXPECT_TRUE(both.r.valid) << both.Errors();
  EXPECT_EQ(both.r.rule_warning_count, 2u);
  EXPECT_EQ(both.r.valid_prefix_records, 4u) << "allowed violations keep the prefix valid";

  // Framing, wire and schema rules cannot be allowed: their bits are ignored.
  opt.allowed_rules = ATF_VALIDATE_RULE_BIT(ATF_RULE_SCHEMA_PAYLOAD);
  Report not_allowable;
  ValidateBuffers(std::string(1, '\0'), nullptr, &not_allowable, &opt);
  EXPECT_FALSE(not_allowable.r.valid);
  EXPECT_EQ(not_allowable.r.allowed_rules, 0u);
  EXPECT_FALSE(atf_validate_rule_parse("no.such_rule", &group));
  EXPECT_FALSE(atf_validate_rule_parse("nothing.*", &group));
  EXPECT_STREQ(atf_validate_rule_name(ATF_RULE_MANIFEST_TIME_RANGE), "manifest.time_range");
  EXPECT_STREQ(atf_validate_rule_name(ATF_RULE_COUNT), "unknown");
}

// Sessions of the original ATF V4 writer: valid under --profile original, not strictly.
TEST(Validate, ProfileOriginalAcceptsWhatTheOriginalFormatAllows) {
  const uint64_t b = kBaseNs;
  struct Case {
    const char *name;
    std::string events;
    bool with_manifest;
    const char *strict_rule;
  };
  const auto sample = atf_test::SampleSession(1);
  std::vector<Case> cases = {
      {"an empty session (start, then stop: nothing written)", "", false, "session.first"},
      {"event_id restarting after explicit ids",
       Frames({atf_test::Start(0, b), atf_test::Call(7, 1, b + 1, "f", 1),
               atf_test::Call(1, 1, b + 2, "f", 1), atf_test::End(2, b + 3)}),
       false, "order.event_id"},
      {"first record not a TraceStart",
       Frames({atf_test::Call(1, 1, b + 1, "f", 1), atf_test::End(2, b + 3)}), false,
       "session.first"},
      {"timeStartNs from the wall clock, events from a monotonic clock", Frames(sample), true,
       "manifest.time_range"},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.name);
    std::string manifest;
    if (c.with_manifest) {
      atf_test::Manifest m = atf_test::ManifestFor(sample, c.events);
      m.time_start_ns = m.time_end_ns + 1000;  // the wall clock is ahead of the events' clock
      m.time_end_ns += 2000;
      manifest = atf_test::ManifestJson(m);
    }
    atf_validate_options opt;
    atf_validate_options_init(&opt);
    Report strict;
    ValidateBuffers(c.events, c.with_manifest ? &manifest : nullptr, &strict, &opt);
    EXPECT_FALSE(strict.r.valid);
    EXPECT_EQ(strict.FirstRule(), c.strict_rule);
    opt.allowed_rules = ATF_VALIDATE_PROFILE_ORIGINAL;
    Report original;
    ValidateBuffers(c.events, c.with_manifest ? &manifest : nullptr, &original, &opt);
    EXPECT_TRUE(original.r.valid) << original.Errors();
    EXPECT_GE(original.r.rule_warning_count, 1u);
  }
  // What the original format states stays an error under the profile.
  atf_validate_options opt;
  atf_validate_options_init(&opt);
  opt.allowed_rules = ATF_VALIDATE_PROFILE_ORIGINAL;
  Report torn;
  const std::string bytes = Frames(sample);
  ValidateBuffers(bytes.substr(0, bytes.size() - 1), nullptr, &torn, &opt);
  EXPECT_EQ(torn.FirstRule(), "framing.truncated");
}

// session.call_return: per thread, a return closes the innermost open call (same address); calls
// still open at the end are allowed.
TEST(Validate, ReturnsCloseTheInnermostCallOfTheirThread) {
  const uint64_t b = kBaseNs;
  using atf_test::Call;
  using atf_test::Return;
  // Two threads interleaved, nested calls, and calls still open at the end: valid.
  const std::vector<atf::v4::Event> good = {
      atf_test::Start(1, b),        Call(2, 1, b + 1, "f", 0x10),   Call(3, 2, b + 2, "g", 0x20),
      Call(4, 1, b + 3, "h", 0x11), Return(5, 1, b + 4, "h", 0x11), Return(6, 2, b + 5, "g", 0x20),
      Call(7, 2, b + 6, "k", 0x21), atf_test::End(8, b + 7)};
  Report ok;
  ValidateBuffers(Frames(good), nullptr, &ok);
  EXPECT_TRUE(ok.r.valid) << ok.Errors();
  EXPECT_FALSE(ok.r.calls_capped);

  // A return on a thread without open calls, then one of another address than the innermost call.
  const std::vector<atf::v4::Event> bad = {
      atf_test::Start(1, b),        Return(2, 1, b + 1, "f", 0x10), Call(3, 1, b + 2, "f", 0x10),
      Call(4, 1, b + 3, "g", 0x11), Return(5, 1, b + 4, "f", 0x10), Return(6, 1, b + 5, "f", 0x10),
      atf_test::End(7, b + 6)};
  const std::string bytes = Frames(bad);
  Report strict;
  ValidateBuffers(bytes, nullptr, &strict);
  EXPECT_FALSE(strict.r.valid);
  ASSERT_EQ(strict.r.errors_len, 2u) << strict.Errors();
  EXPECT_STREQ(strict.r.errors[0].rule, "session.call_return");
  EXPECT_EQ(strict.r.errors[0].record, 1u);
  EXPECT_EQ(strict.r.errors[0].offset, Frames({bad[0]}).size()) << "the return's length prefix";
  EXPECT_STREQ(strict.r.errors[0].message,
               "FunctionReturn of 0x10 on thread 1 closes no open FunctionCall");
  EXPECT_EQ(strict.r.errors[1].record, 4u);
  EXPECT_STREQ(
      strict.r.errors[1].message,
      "FunctionReturn of 0x10 on thread 1, but its innermost open FunctionCall is of 0x11");
  EXPECT_EQ(strict.r.valid_prefix_records, 1u);
  // The mismatched return closed 0x11 (one complaint for a lost return): record 5 closes 0x10.

  // Allowed (--allow session.call_return, or --profile original): warnings, valid.
  atf_validate_options opt;
  atf_validate_options_init(&opt);
  ASSERT_TRUE(atf_validate_rule_parse("session.call_return", &opt.allowed_rules));
  EXPECT_EQ(opt.allowed_rules, ATF_VALIDATE_RULE_BIT(ATF_RULE_SESSION_CALL_RETURN));
  Report allowed;
  ValidateBuffers(bytes, nullptr, &allowed, &opt);
  EXPECT_TRUE(allowed.r.valid) << allowed.Errors();
  EXPECT_EQ(allowed.r.rule_warning_count, 2u);
  EXPECT_EQ(allowed.r.valid_prefix_records, bad.size());
  opt.allowed_rules = ATF_VALIDATE_PROFILE_ORIGINAL;
  Report original;
  ValidateBuffers(bytes, nullptr, &original, &opt);
  EXPECT_TRUE(original.r.valid) << original.Errors();
  EXPECT_EQ(original.r.rule_warning_count, 2u);

  // First error wins: a return that also breaks order.timestamp reports that rule only, and the
  // stacks still follow it (the next return closes the call below).
  const std::vector<atf::v4::Event> late = {
      atf_test::Start(1, b),          Call(2, 1, b + 5, "f", 0x10),   Call(3, 1, b + 6, "g", 0x11),
      Return(4, 1, b + 1, "f", 0x10), Return(5, 1, b + 7, "f", 0x10), atf_test::End(6, b + 8)};
  Report first;
  ValidateBuffers(Frames(late), nullptr, &first);
  EXPECT_EQ(first.r.error_count, 1u) << first.Errors();
  EXPECT_EQ(first.FirstRule(), "order.timestamp");
}

// The open-call budget: a depth past ATF_CALL_TREE_MAX_OPEN (1 048 576) on one thread is counted,
// not stored; the returns above the budget are checked for depth only, and the report says so.
TEST(Validate, CallReturnPastItsBudgetChecksDepthOnly) {
  const uint64_t b = kBaseNs;
  const uint64_t stored = 1u << 20, extra = 1000, depth = stored + extra;
  std::string bytes = Frames({atf_test::Start(1, b)});
  uint64_t id = 2;
  // Two million records: encoded here by patching one record's event_id and address (both written
  // as 5-byte varints so every record has the same size) rather than by protobuf, for speed.
  auto pinned = [](bool is_call, uint64_t ns) {
    atf::v4::Event e;
    e.set_event_id(1u << 28);
    e.set_thread_id(9);
    e.mutable_timestamp()->set_seconds(static_cast<int64_t>(ns / 1000000000u));
    e.mutable_timestamp()->set_nanos(static_cast<int32_t>(ns % 1000000000u));
    if (is_call) {
      e.mutable_function_call()->set_address(1u << 28);
    } else {
      e.mutable_function_return()->set_address(1u << 28);
    }
    return atf_test::Frame(atf_test::Serialize(e));
  };
  const std::string call = pinned(true, b + 1), ret = pinned(false, b + 2);
  auto patch = [](std::string r, uint64_t at_id, uint64_t v_id, uint64_t v_addr) {
    // event_id's varint follows the 0x08 tag; the address's the last 0x10 tag (5 bytes at the end).
    for (int k = 0; k < 5; ++k)
      r[at_id + k] = static_cast<char>(((v_id >> (7 * k)) & 0x7f) | (k < 4 ? 0x80 : 0));
    for (int k = 0; k < 5; ++k) {
      r[r.size() - 5 + k] = static_cast<char>(((v_addr >> (7 * k)) & 0x7f) | (k < 4 ? 0x80 : 0));
    }
    return r;
  };
  ASSERT_EQ(call[1], 0x08);
  ASSERT_EQ(call[call.size() - 6], 0x10);
  bytes.reserve(bytes.size() + depth * (call.size() + ret.size()) + 64);
  for (uint64_t i = 0; i < depth; ++i) bytes += patch(call, 2, id++, 0x1000 + i);
  // The `extra` innermost returns name a wrong address: past the budget that is not seen.
  for (uint64_t i = depth; i-- > 0;)
    bytes += patch(ret, 2, id++, i >= stored ? 0xdead : 0x1000 + i);
  bytes += Frames({atf_test::End(id++, b + 3)});
  Report capped;
  ValidateBuffers(bytes, nullptr, &capped);
  EXPECT_TRUE(capped.r.valid) << capped.Errors();
  EXPECT_TRUE(capped.r.calls_capped);
  EXPECT_EQ(capped.r.calls_unchecked, extra);
  EXPECT_EQ(capped.r.warnings, 1u);

  // Below the budget addresses are checked again, and a return at depth 0 is caught whatever.
  std::string wrong = bytes.substr(0, bytes.size() - Frames({atf_test::End(id - 1, b + 3)}).size());
  wrong += Frames({atf_test::Return(id, 9, b + 3, "", 0x1000)});
  wrong += Frames({atf_test::End(id + 1, b + 4)});
  Report unmatched;
  ValidateBuffers(wrong, nullptr, &unmatched);
  ASSERT_EQ(unmatched.r.error_count, 1u);
  EXPECT_STREQ(unmatched.r.errors[0].message,
               "FunctionReturn of 0x1000 on thread 9 closes no open FunctionCall");
}

// What a recovery needs from the report: the first TraceStart's strings (a NUL kept, the last of
// a repeated field), and the valid prefix's last event_id, time range and end.
TEST(Validate, ReportCarriesTraceStartAndThePrefix) {
  const uint64_t b = kBaseNs;
  atf::v4::Event start = atf_test::Start(0, b + 5);
  start.mutable_trace_start()->set_operating_system(std::string("lin\0ux", 6));
  std::string start_bytes =
      atf_test::Serialize(start) + atf_test::LenField(10, atf_test::LenField(4, "arm64"));
  // A TraceEnd in the middle: the prefix stops there (a session ends at its TraceEnd).
  const std::string bytes =
      atf_test::Frame(start_bytes) +
      Frames({atf_test::Call(1, 7, b + 1, "f", 1), atf_test::Return(2, 7, b + 9, "f", 1),
              atf_test::End(3, b + 10), atf_test::Call(4, 7, b + 11, "g", 1)});
  Report rep;
  ValidateBuffers(bytes, nullptr, &rep);
  EXPECT_FALSE(rep.r.valid);  // session.last
  EXPECT_TRUE(rep.r.has_trace_start);
  EXPECT_EQ(std::string(rep.r.operating_system.data, rep.r.operating_system.len),
            std::string("lin\0ux", 6));
  EXPECT_EQ(std::string(rep.r.cpu_architecture.data, rep.r.cpu_architecture.len), "arm64")
      << "the last occurrence";
  EXPECT_EQ(std::string(rep.r.executable_path.data),
            "/usr/bin/tr\xc3\xa4"
            "ced");
  EXPECT_FALSE(rep.r.operating_system.truncated);
  EXPECT_EQ(rep.r.valid_prefix_records, 4u);
  EXPECT_EQ(rep.r.valid_prefix_last_event_id, 3u);
  EXPECT_EQ(rep.r.valid_prefix_time_min_ns, b + 1);
  EXPECT_EQ(rep.r.valid_prefix_time_max_ns, b + 10);
  EXPECT_TRUE(rep.r.valid_prefix_ends_session);
  EXPECT_EQ(rep.r.valid_prefix_bytes,
            bytes.size() -
                atf_test::Frame(atf_test::Serialize(atf_test::Call(4, 7, b + 11, "g", 1))).size());

  // A TraceStart string over ATF_VALIDATE_MAX_TEXT is kept cut, and says so.
  atf::v4::Event huge = atf_test::Start(0, b);
  huge.mutable_trace_start()->set_operating_system(std::string(ATF_VALIDATE_MAX_TEXT + 10, 'o'));
  Report cut;
  ValidateBuffers(Frames({huge, atf_test::End(1, b)}), nullptr, &cut);
  EXPECT_TRUE(cut.r.valid) << cut.Errors();
  EXPECT_TRUE(cut.r.operating_system.truncated);
  EXPECT_EQ(cut.r.operating_system.len, ATF_VALIDATE_MAX_TEXT);
  EXPECT_EQ(cut.r.cpu_architecture.len, 6u);
}

// The pass's hook (atf-dump, atf-recover) sees every record that decodes, in file order, even one
// that breaks an order or session rule; salvage keeps those that fit the session.
struct Seen {
  uint64_t index;
  bool valid, keep;
  std::string bytes;
};

bool Collect(void *ctx, atf_reader *reader, const atf_pass_record *rec, char *reason) {
  (void)reason;
  const uint64_t n = rec->frame->body_offset + rec->frame->length - rec->frame->offset;
  std::string bytes(static_cast<size_t>(n), '\0');  // a record may be larger than the window
  if (!atf_reader_copy(reader, rec->frame->offset, &bytes[0], bytes.size())) return false;
  static_cast<std::vector<Seen> *>(ctx)->push_back({rec->index, rec->valid, rec->keep, bytes});
  return true;
}

TEST(Validate, PassHookSeesEveryDecodableRecordAndSalvageKeepsTheSession) {
  const uint64_t b = kBaseNs;
  std::string bytes;
  const std::vector<std::string> records = {
      atf_test::Frame(atf_test::Serialize(atf_test::Start(0, b))),                // 0 kept
      atf_test::Frame(atf_test::Serialize(atf_test::Call(1, 7, b + 1, "f", 1))),  // 1 kept
      atf_test::Frame(std::string(12, '\xff')),  // 2 garbage: no hook
      atf_test::Frame(atf_test::Serialize(atf_test::Call(2, 7, b + 3, "f", 1))),  // 3 kept
      atf_test::Frame(atf_test::Serialize(atf_test::Call(2, 8, b + 4, "f", 1))),  // 4 id repeated
      atf_test::Frame(
          atf_test::Serialize(atf_test::Call(3, 7, b + 2, "f", 1))),    // 5 thread 7 goes back
      atf_test::Frame(atf_test::Serialize(atf_test::Start(4, b + 5))),  // 6 a second TraceStart
      atf_test::Frame(
          atf_test::Serialize(atf_test::Return(5, 9, b + 5, "f", 1))),  // 7 closes no call
      atf_test::Frame(
          atf_test::Serialize(atf_test::Return(6, 7, b + 5, "f", 1))),  // 8 kept: closes 3
      atf_test::Frame(atf_test::Serialize(atf_test::End(10, b + 6))),   // 9 kept (id gap)
      atf_test::Frame(
          atf_test::Serialize(atf_test::Call(11, 7, b + 7, "f", 1))),  // 10 after the end
  };
  for (const auto &r : records) bytes += r;
  const std::string dir = NewDir("hooks");
  atf_test::WriteSession(dir, bytes, nullptr);
  std::vector<Seen> seen;
  const atf_pass_hooks hooks = {&seen, true, Collect};
  for (size_t window : {size_t{64 * 1024}, size_t{1 << 20}}) {
    seen.clear();
    atf_validate_options opt;
    atf_validate_options_init(&opt);
    opt.window_size = window;
    Report rep;
    ASSERT_EQ(atf_pass_run(AT_FDCWD, dir.c_str(), dir.c_str(), &opt, &hooks, &rep.r),
              ATF_VALIDATE_OK)
        << rep.r.reason;
    EXPECT_FALSE(rep.r.valid);
    ASSERT_EQ(seen.size(), 10u);
    const uint64_t index[] = {0, 1, 3, 4, 5, 6, 7, 8, 9, 10};
    const bool keep[] = {true, true, true, false, false, false, false, true, true, false};
    const bool valid[] = {true, true, true, false, false, false, false, true, true, true};
    std::string salvaged;
    for (size_t i = 0; i < seen.size(); ++i) {
      SCOPED_TRACE(i);
      EXPECT_EQ(seen[i].index, index[i]);
      EXPECT_EQ(seen[i].keep, keep[i]);
      EXPECT_EQ(seen[i].valid, valid[i]);
      EXPECT_EQ(seen[i].bytes, records[index[i]]);
      if (seen[i].keep) salvaged += seen[i].bytes;
    }
    Report again;
    ValidateBuffers(salvaged, nullptr, &again);
    EXPECT_TRUE(again.r.valid) << again.Errors();
  }
  // Without salvage every record is reported not kept; a hook that fails ends the pass.
  const atf_pass_hooks plain = {&seen, false, Collect};
  seen.clear();
  Report rep;
  ASSERT_EQ(atf_pass_run(AT_FDCWD, dir.c_str(), dir.c_str(), nullptr, &plain, &rep.r),
            ATF_VALIDATE_OK);
  for (const auto &s : seen) EXPECT_FALSE(s.keep);
  const atf_pass_hooks failing = {nullptr, false,
                                  [](void *, atf_reader *, const atf_pass_record *, char *reason) {
                                    std::snprintf(reason, 256, "the hook said no");
                                    return false;
                                  }};
  Report failed;
  EXPECT_EQ(atf_pass_run(AT_FDCWD, dir.c_str(), dir.c_str(), nullptr, &failing, &failed.r),
            ATF_VALIDATE_E_IO);
  EXPECT_STREQ(failed.r.reason, "the hook said no");
}

TEST(Validate, PassHooksSeeTheSameRecordsWithAnyThreadsAndWindow) {
  // The pipeline's batches (the next window framed and decoded while the hook runs on this one)
  // hand the hook the same records, in the same order, with the same bytes and verdicts, and the
  // report is the one of one thread through the same window.
  const std::string bytes = PipelineSession();
  const std::string dir = NewDir("pipeline_hooks");
  atf_test::WriteSession(dir, bytes, nullptr);
  std::vector<Seen> reference;
  for (size_t window : {size_t{1 << 20}, size_t{64 << 10}, size_t{320 << 10}}) {
    std::string expected;
    for (unsigned threads : {1u, 2u, 3u, 8u}) {
      SCOPED_TRACE(std::to_string(threads) + " threads, window " + std::to_string(window));
      std::vector<Seen> seen;
      const atf_pass_hooks hooks = {&seen, true, Collect};
      atf_validate_options opt;
      atf_validate_options_init(&opt);
      opt.threads = threads;
      opt.window_size = window;
      Report rep;
      ASSERT_EQ(atf_pass_run(AT_FDCWD, dir.c_str(), dir.c_str(), &opt, &hooks, &rep.r),
                ATF_VALIDATE_OK)
          << rep.r.reason;
      if (threads == 1) expected = Json(rep.r);
      EXPECT_EQ(Json(rep.r), expected);
      if (reference.empty()) {
        reference = seen;
        EXPECT_GT(reference.size(), kPipelineRecords - 500u);  // each one that decodes
        EXPECT_LT(reference.size(), kPipelineRecords + 1u);    // (not the empty ones)
      }
      ASSERT_EQ(seen.size(), reference.size());
      for (size_t i = 0; i < seen.size(); ++i) {
        ASSERT_EQ(seen[i].index, reference[i].index) << i;
        ASSERT_EQ(seen[i].valid, reference[i].valid) << i;
        ASSERT_EQ(seen[i].keep, reference[i].keep) << i;
        ASSERT_EQ(seen[i].bytes, reference[i].bytes) << i;
      }
    }
  }
}

// A regular file whose size says more than it holds (as if it shrank while being read): sysfs
// files are 4096 bytes by stat and a few bytes by read.
const char kShortFile[] = "/sys/devices/system/cpu/online";

bool ShortFileAvailable() {
  struct stat st;
  return ::stat(kShortFile, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 64 &&
         atf_test::ReadFile(kShortFile).size() < static_cast<size_t>(st.st_size);
}

TEST(Validate, AFileThatShrinksWhileReadIsAnIoError) {
  if (!ShortFileAvailable()) GTEST_SKIP() << kShortFile << " is not a short sysfs file here";
  for (unsigned threads : {1u, 2u}) {
    atf_validate_options opt;
    atf_validate_options_init(&opt);
    opt.threads = threads;
    Report rep;
    EXPECT_EQ(atf_validate_path(kShortFile, &opt, &rep.r), ATF_VALIDATE_E_IO);
    EXPECT_STREQ(rep.r.reason, "events.bin: file changed while being read");
  }
}

TEST(Validate, UnreadableManifestIsAnIoError) {
  // trace.json that opens but cannot be read (a directory): an I/O error naming it, not a defect.
  const auto events = atf_test::SampleSession(1);
  const std::string dir = NewDir("manifest_is_a_dir");
  atf_test::WriteSession(dir, Frames(events), nullptr);
  ::mkdir((dir + "/trace.json").c_str(), 0755);
  Report rep;
  EXPECT_EQ(atf_validate_path(dir.c_str(), nullptr, &rep.r), ATF_VALIDATE_E_IO);
  EXPECT_NE(std::string(rep.r.reason).find("trace.json"), std::string::npos) << rep.r.reason;
}

TEST(Validate, ManifestTypesAndSize) {
  const auto events = atf_test::SampleSession(1);
  const std::string bytes = Frames(events);
  const std::string good = atf_test::ManifestJson(atf_test::ManifestFor(events, bytes));
  struct Case {
    std::string name, insert, rule;
  };
  // Keys inserted first win over nothing (the generated ones come later): use keys it lacks, or
  // replace "modules" by renaming the generated one.
  const std::vector<Case> cases = {
      {"modules not an array", "\"modules\": {},", "manifest.type"},
      {"modules entry not a string", "\"modules\": [7],", "manifest.type"},
      {"recovered not a boolean", "\"recovered\": 1,", "manifest.type"},
      {"droppedEvents negative", "\"droppedEvents\": -1,", "manifest.range"},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.name);
    std::string manifest = good;
    const size_t at = manifest.find("\"modules\"");
    ASSERT_NE(at, std::string::npos);
    manifest.replace(at, 9, "\"modulez\"");  // the generated list no longer counts
    if (c.insert.rfind("\"modules\"", 0) != 0) manifest.replace(at, 9, "\"modules\"");
    manifest.insert(1, c.insert);
    Report rep;
    ValidateBuffers(bytes, &manifest, &rep);
    EXPECT_EQ(rep.FirstRule(), c.rule) << rep.Errors();
    EXPECT_EQ(rep.r.error_count, 1u) << rep.Errors();
  }
  std::string huge = good;
  huge.insert(1, "\"pad\": \"" + std::string(ATF_VALIDATE_MAX_MANIFEST, 'p') + "\",");
  Report big;
  ValidateBuffers(bytes, &huge, &big);
  EXPECT_EQ(big.FirstRule(), "manifest.too_large");
  EXPECT_EQ(big.r.errors[0].offset, 0u);
  EXPECT_EQ(big.r.error_count, 1u) << big.Errors();
}

TEST(Validate, KeptErrorsGrowUpToMaxErrors) {
  std::vector<atf::v4::Event> events = {atf_test::Start(0, kBaseNs)};
  for (int i = 1; i <= 300; ++i)
    events.push_back(atf_test::Call(7, 1, kBaseNs + i, "f", 1));  // ids repeat
  events.push_back(atf_test::End(1000, kBaseNs + 1000));
  atf_validate_options opt;
  atf_validate_options_init(&opt);
  opt.max_errors = 200;
  Report rep;
  ValidateBuffers(Frames(events), nullptr, &rep, &opt);
  EXPECT_EQ(rep.r.error_count, 299u);
  ASSERT_EQ(rep.r.errors_len, 200u);
  for (size_t i = 0; i < rep.r.errors_len; ++i) {
    EXPECT_EQ(rep.r.errors[i].record, i + 2) << i;
    EXPECT_STREQ(rep.r.errors[i].rule, "order.event_id");
  }
}

TEST(Validate, ProgressIsReportedUpToTheTotal) {
  const auto events = atf_test::SampleSession(3);
  const std::string bytes = Frames(events);
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  atf_validate_options opt;
  atf_validate_options_init(&opt);
  opt.progress = [](uint64_t done, uint64_t total, void *arg) {
    static_cast<std::vector<std::pair<uint64_t, uint64_t>> *>(arg)->emplace_back(done, total);
  };
  opt.progress_arg = &calls;
  Report rep;
  ValidateBuffers(bytes, nullptr, &rep, &opt);
  EXPECT_TRUE(rep.r.valid) << rep.Errors();
  ASSERT_GE(calls.size(), 2u);
  EXPECT_EQ(calls.front(), std::make_pair(uint64_t{0}, uint64_t{bytes.size()}));
  EXPECT_EQ(calls.back(), std::make_pair(uint64_t{bytes.size()}, uint64_t{bytes.size()}));
}

}  // namespace
