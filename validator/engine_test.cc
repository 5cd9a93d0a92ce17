// The record engine option (atf_validate_options.engine, --engine): every engine gives the same
// report on the malformed corpus and on valid sessions; "both" turns any difference between the
// engines into an engine.disagree error (forced here through the test-only tamper hook, one test
// per kind of difference); upb fallbacks to nanopb are counted as warnings; the tools take
// --engine with the one option grammar.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "validator/atf/validate.h"
#include "validator/internal/engine.h"
#include "validator/internal/json_reader.h"
#include "validator/testing/malformed_cases.h"
#include "validator/testing/run_tool.h"
#include "validator/testing/session_builder.h"

namespace {

const atf_validate_engine kEngines[] = {ATF_VALIDATE_ENGINE_UPB, ATF_VALIDATE_ENGINE_NANOPB,
                                        ATF_VALIDATE_ENGINE_BOTH};

struct Report {
  atf_validate_report r;
  atf_validate_status status;
  Report() { memset(&r, 0, sizeof r); }
  ~Report() { atf_validate_report_free(&r); }
  Report(const Report &) = delete;
  Report &operator=(const Report &) = delete;
  // Everything the report says about the input, errors included (engine fields aside; an error's
  // message text is the engine's own words, its rule, offset and record are compared).
  std::string Summary() const {
    std::ostringstream o;
    o << "status " << status << " valid " << r.valid << " records " << r.records << " bytes "
      << r.bytes << " counts";
    for (uint64_t c : r.counts) o << " " << c;
    o << " threads " << r.threads << " time " << r.time_min_ns << ".." << r.time_max_ns
      << " unknown " << r.unknown_fields << " prefix " << r.valid_prefix_bytes << "/"
      << r.valid_prefix_records << " errors " << r.error_count << "\n";
    for (size_t i = 0; i < r.errors_len; ++i) {
      o << "  " << r.errors[i].file << " " << r.errors[i].offset << " " << r.errors[i].record << " "
        << r.errors[i].rule << "\n";
    }
    for (size_t i = 0; i < r.rule_warnings_len; ++i) {
      o << "  warning " << r.rule_warnings[i].offset << " " << r.rule_warnings[i].rule << "\n";
    }
    return o.str();
  }
};

void Validate(const std::string &events, atf_validate_engine engine, Report *out,
              unsigned threads = 1, const std::string *manifest = nullptr) {
  atf_validate_options opt;
  atf_validate_options_init(&opt);
  opt.engine = engine;
  opt.threads = threads;
  out->status =
      atf_validate_buffers(reinterpret_cast<const uint8_t *>(events.data()), events.size(),
                           manifest ? reinterpret_cast<const uint8_t *>(manifest->data()) : nullptr,
                           manifest ? manifest->size() : 0, &opt, &out->r);
}

TEST(Engine, NamesAndDefault) {
  atf_validate_options opt;
  atf_validate_options_init(&opt);
  EXPECT_EQ(opt.engine, ATF_VALIDATE_ENGINE_UPB);
  for (atf_validate_engine e : kEngines) {
    atf_validate_engine back = ATF_VALIDATE_ENGINE_BOTH;
    EXPECT_TRUE(atf_validate_engine_parse(atf_validate_engine_name(e), &back));
    EXPECT_EQ(back, e);
  }
  EXPECT_STREQ(atf_validate_engine_name(ATF_VALIDATE_ENGINE_BOTH), "both");
  atf_validate_engine e;
  EXPECT_FALSE(atf_validate_engine_parse("UPB", &e));
  EXPECT_FALSE(atf_validate_engine_parse("", &e));
  EXPECT_STREQ(atf_validate_engine_name(static_cast<atf_validate_engine>(3)), "unknown");
}

TEST(Engine, UnknownEngineIsAUsageError) {
  atf_validate_options opt;
  atf_validate_options_init(&opt);
  opt.engine = static_cast<atf_validate_engine>(7);
  Report rep;
  const std::string bytes = atf_test::Frames(atf_test::SampleSession(1));
  rep.status = atf_validate_buffers(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(),
                                    nullptr, 0, &opt, &rep.r);
  EXPECT_EQ(rep.status, ATF_VALIDATE_E_USAGE);
  EXPECT_NE(std::string(rep.r.reason).find("engine"), std::string::npos) << rep.r.reason;
}

TEST(Engine, DisagreementCannotBeAllowed) {
  uint64_t mask = 0;
  ASSERT_TRUE(atf_validate_rule_parse("engine.disagree", &mask));
  EXPECT_EQ(mask, ATF_VALIDATE_RULE_BIT(ATF_RULE_ENGINE_DISAGREE));
  EXPECT_EQ(mask & ATF_VALIDATE_ALLOWABLE_RULES, 0u);
  EXPECT_STREQ(atf_validate_rule_name(ATF_RULE_ENGINE_DISAGREE), "engine.disagree");
  // The allowable set is still every order.*, session.* and manifest.* rule, and nothing else.
  for (int i = 0; i < ATF_RULE_COUNT; ++i) {
    const std::string name = atf_validate_rule_name(static_cast<atf_validate_rule>(i));
    const bool want = name.rfind("order.", 0) == 0 || name.rfind("session.", 0) == 0 ||
                      name.rfind("manifest.", 0) == 0;
    EXPECT_EQ((ATF_VALIDATE_ALLOWABLE_RULES & ATF_VALIDATE_RULE_BIT(i)) != 0, want) << name;
  }
}

TEST(Engine, SameReportOnValidSessionsWhateverTheEngineAndThreads) {
  // Enough records for the batches to be decoded by two threads.
  const auto events = atf_test::SampleSession(3000);
  const std::string bytes = atf_test::Frames(events);
  const std::string manifest = atf_test::ManifestJson(atf_test::ManifestFor(events, bytes));
  Report ref;
  Validate(bytes, ATF_VALIDATE_ENGINE_NANOPB, &ref, 1, &manifest);
  ASSERT_EQ(ref.status, ATF_VALIDATE_OK);
  EXPECT_TRUE(ref.r.valid) << ref.Summary();
  for (atf_validate_engine e : kEngines) {
    for (unsigned threads : {1u, 2u}) {
      SCOPED_TRACE(std::string(atf_validate_engine_name(e)) + " threads " +
                   std::to_string(threads));
      Report rep;
      Validate(bytes, e, &rep, threads, &manifest);
      EXPECT_EQ(rep.Summary(), ref.Summary());
      EXPECT_EQ(rep.r.engine, e);
      EXPECT_EQ(rep.r.engine_fallbacks, 0u);
      EXPECT_EQ(rep.r.warnings, 0u);
    }
  }
}

TEST(Engine, SameReportOnTheMalformedCorpus) {
  const auto cases = atf_test::MalformedCases();
  ASSERT_GE(cases.size(), 30u);
  for (const auto &c : cases) {
    SCOPED_TRACE(c.name);
    Report ref;
    Validate(c.events, ATF_VALIDATE_ENGINE_NANOPB, &ref, 1, c.has_manifest ? &c.manifest : nullptr);
    EXPECT_FALSE(ref.r.valid);
    for (atf_validate_engine e : {ATF_VALIDATE_ENGINE_UPB, ATF_VALIDATE_ENGINE_BOTH}) {
      Report rep;
      Validate(c.events, e, &rep, 1, c.has_manifest ? &c.manifest : nullptr);
      EXPECT_EQ(rep.Summary(), ref.Summary()) << atf_validate_engine_name(e);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Forced disagreements: the tamper hook changes what the upb engine produced, in "both" mode only.

enum class Tamper { kNone, kVerdict, kOffset, kRule, kEventId, kSymbolValue };
Tamper g_tamper = Tamper::kNone;
uint64_t g_target_event_id = 0;  // the record whose values are changed (kEventId, kSymbolValue)

void TamperHook(atf_event *ev, atf_decode_error *err, bool *ok, uint64_t *text_hashes) {
  switch (g_tamper) {
    case Tamper::kNone:
      break;
    case Tamper::kVerdict:  // the upb engine "rejects" a record the nanopb engine accepts
      if (*ok && ev->event_id == g_target_event_id) {
        *ok = false;
        err->rule = "wire.decode";
        err->offset = 1;
      }
      break;
    case Tamper::kOffset:
      if (!*ok) err->offset += 1;
      break;
    case Tamper::kRule:
      if (!*ok) err->rule = "wire.decode";  // the record below breaks schema.utf8
      break;
    case Tamper::kEventId:
      if (*ok && ev->event_id == g_target_event_id) ev->event_id += 1000;
      break;
    case Tamper::kSymbolValue:
      if (*ok && ev->event_id == g_target_event_id) text_hashes[ATF_TEXT_SYMBOL] ^= 1;
      break;
  }
}

class Disagree : public ::testing::Test {
 protected:
  void SetUp() override {
    atf_engine_test_tamper = TamperHook;
    g_tamper = Tamper::kNone;
    events_ = atf_test::SampleSession(3);
    bytes_ = atf_test::Frames(events_);
    // The first FunctionCall (it has a symbol) is the record changed: its index, offset, event_id.
    while (index_ < events_.size() && !events_[index_].has_function_call()) {
      offset_ += atf_test::Frame(atf_test::Serialize(events_[index_++])).size();
    }
    ASSERT_LT(index_, events_.size());
    ASSERT_FALSE(events_[index_].function_call().symbol().empty());
    g_target_event_id = events_[index_].event_id();
  }
  void TearDown() override {
    atf_engine_test_tamper = nullptr;
    g_tamper = Tamper::kNone;
  }
  // Validates with each engine under `t`; "both" must report engine.disagree for that record, the
  // others must not notice (the hook is only consulted when both engines run).
  void ExpectDisagreement(Tamper t, const char *message_part) {
    g_tamper = t;
    for (atf_validate_engine e : {ATF_VALIDATE_ENGINE_UPB, ATF_VALIDATE_ENGINE_NANOPB}) {
      Report rep;
      Validate(bytes_, e, &rep);
      EXPECT_TRUE(rep.r.valid) << rep.Summary();
    }
    Report rep;
    Validate(bytes_, ATF_VALIDATE_ENGINE_BOTH, &rep);
    ASSERT_EQ(rep.status, ATF_VALIDATE_OK);
    EXPECT_FALSE(rep.r.valid);
    // The record is rejected, so the call it holds is not opened: its return then closes no open
    // call (session.call_return), the only other error there may be.
    ASSERT_GE(rep.r.errors_len, 1u) << rep.Summary();
    for (size_t i = 1; i < rep.r.errors_len; ++i)
      EXPECT_STREQ(rep.r.errors[i].rule, "session.call_return");
    EXPECT_STREQ(rep.r.errors[0].rule, "engine.disagree");
    EXPECT_EQ(rep.r.errors[0].record, index_);
    // The record's first byte: the body, after its length prefix.
    EXPECT_EQ(rep.r.errors[0].offset,
              offset_ + atf_test::Varint(atf_test::Serialize(events_[index_]).size()).size());
    EXPECT_NE(std::string(rep.r.errors[0].message).find(message_part), std::string::npos)
        << rep.r.errors[0].message;
    EXPECT_EQ(rep.r.counts[ATF_VALIDATE_FUNCTION_CALL], 5u);  // the record did not count as decoded
  }
  std::vector<atf::v4::Event> events_;
  std::string bytes_;
  uint64_t offset_ = 0;
  size_t index_ = 0;
};

TEST_F(Disagree, NoTamperingNoDisagreement) {
  Report rep;
  Validate(bytes_, ATF_VALIDATE_ENGINE_BOTH, &rep);
  EXPECT_TRUE(rep.r.valid) << rep.Summary();
}

TEST_F(Disagree, OnTheVerdict) {
  ExpectDisagreement(Tamper::kVerdict, "upb engine: invalid, nanopb engine: valid");
}

TEST_F(Disagree, OnAFixedField) { ExpectDisagreement(Tamper::kEventId, "fixed fields differ"); }

TEST_F(Disagree, OnAStringValue) {
  ExpectDisagreement(Tamper::kSymbolValue, "different symbol values");
}

// An invalid record (bad UTF-8 in a symbol) both engines reject: a different offset or rule from
// one of them is a disagreement too.
TEST_F(Disagree, OnTheRuleOrOffsetOfARejection) {
  auto events = events_;
  events[index_].mutable_function_call()->set_symbol("bad\xff");
  const std::string bytes = atf_test::Frames(events);
  Report plain;
  Validate(bytes, ATF_VALIDATE_ENGINE_BOTH, &plain);
  ASSERT_GE(plain.r.errors_len, 1u);
  EXPECT_STREQ(plain.r.errors[0].rule, "schema.utf8");
  for (Tamper t : {Tamper::kOffset, Tamper::kRule}) {
    g_tamper = t;
    Report rep;
    Validate(bytes, ATF_VALIDATE_ENGINE_BOTH, &rep);
    ASSERT_GE(rep.r.errors_len, 1u);
    EXPECT_STREQ(rep.r.errors[0].rule, "engine.disagree");
    EXPECT_EQ(rep.r.errors[0].record, index_);
    EXPECT_NE(std::string(rep.r.errors[0].message).find("both engines reject the record"),
              std::string::npos)
        << rep.r.errors[0].message;
    Report upb;
    Validate(bytes, ATF_VALIDATE_ENGINE_UPB, &upb);
    EXPECT_STREQ(upb.r.errors[0].rule, "schema.utf8");
  }
}

// The parallel path: a disagreement found by a decoding thread is reported the same way.
TEST_F(Disagree, FoundByEveryDecodingThread) {
  const auto events = atf_test::SampleSession(3000);
  const std::string bytes = atf_test::Frames(events);
  g_tamper = Tamper::kEventId;
  g_target_event_id = events[events.size() / 2].event_id();
  for (unsigned threads : {1u, 2u}) {
    Report rep;
    Validate(bytes, ATF_VALIDATE_ENGINE_BOTH, &rep, threads);
    // engine.disagree there, and at most the session.call_return it causes (see above).
    ASSERT_GE(rep.r.error_count, 1u) << rep.Summary();
    ASSERT_LE(rep.r.error_count, 2u) << rep.Summary();
    EXPECT_STREQ(rep.r.errors[0].rule, "engine.disagree");
    EXPECT_EQ(rep.r.errors[0].record, events.size() / 2);
    if (rep.r.error_count == 2) EXPECT_STREQ(rep.r.errors[1].rule, "session.call_return");
  }
}

// ---------------------------------------------------------------------------------------------
// Fallbacks: a record larger than the reader's window is decoded by the nanopb engine.

std::string WriteBigRecordSession(const std::string &name, size_t symbol_bytes) {
  auto events = atf_test::SampleSession(2);
  events[2].mutable_function_call()->set_symbol(std::string(symbol_bytes, 's'));
  const std::string bytes = atf_test::Frames(events);
  const std::string manifest = atf_test::ManifestJson(atf_test::ManifestFor(events, bytes));
  const std::string dir = atf_test::TempDir() + "/" + name;
  atf_test::WriteSession(dir, bytes, &manifest);
  return dir;
}

TEST(EngineFallback, RecordsLargerThanTheWindowAreCountedAsWarnings) {
  const std::string dir = WriteBigRecordSession("fallback", 100 * 1024);
  for (atf_validate_engine e : kEngines) {
    SCOPED_TRACE(atf_validate_engine_name(e));
    atf_validate_options opt;
    atf_validate_options_init(&opt);
    opt.engine = e;
    opt.window_size = 64 * 1024;
    Report rep;
    rep.status = atf_validate_path(dir.c_str(), &opt, &rep.r);
    ASSERT_EQ(rep.status, ATF_VALIDATE_OK) << rep.r.reason;
    EXPECT_TRUE(rep.r.valid) << rep.Summary();
    const uint64_t want = e == ATF_VALIDATE_ENGINE_NANOPB ? 0 : 1;
    EXPECT_EQ(rep.r.engine_fallbacks, want);
    EXPECT_EQ(rep.r.warnings, want);
    // The same record in a window that holds it: no fallback.
    opt.window_size = 1 << 20;
    Report wide;
    wide.status = atf_validate_path(dir.c_str(), &opt, &wide.r);
    ASSERT_EQ(wide.status, ATF_VALIDATE_OK);
    EXPECT_EQ(wide.r.engine_fallbacks, 0u);
    EXPECT_EQ(wide.Summary(), rep.Summary());
  }
}

// A record inside the window whose decoding needs more than the upb engine's arena limit (8 MiB in
// the validator): 128 000 register entries with the same one-letter name (legal: the last wins).
TEST(EngineFallback, RecordsBeyondTheArenaLimitAreCountedAsWarnings) {
  auto events = atf_test::SampleSession(1);
  size_t at = 0;
  while (!events[at].has_function_call()) ++at;
  std::string body = atf_test::Serialize(events[at]);
  const std::string call = events[at].function_call().SerializeAsString();
  std::string entries;
  const std::string entry =
      atf_test::LenField(3, atf_test::LenField(1, "R") + atf_test::VarintField(2, 1));
  for (int i = 0; i < 128000; ++i) entries += entry;
  // The payload (Event field 12) again, holding only the entries: protobuf merges the two.
  body += atf_test::LenField(12, entries);
  ASSERT_LT(body.size(), 1u << 20);
  std::string bytes;
  for (size_t i = 0; i < events.size(); ++i)
    bytes += atf_test::Frame(i == at ? body : atf_test::Serialize(events[i]));
  for (atf_validate_engine e : kEngines) {
    SCOPED_TRACE(atf_validate_engine_name(e));
    Report rep;
    Validate(bytes, e, &rep);
    ASSERT_EQ(rep.status, ATF_VALIDATE_OK);
    EXPECT_TRUE(rep.r.valid) << rep.Summary();
    EXPECT_EQ(rep.r.engine_fallbacks, e == ATF_VALIDATE_ENGINE_NANOPB ? 0u : 1u);
  }
}

// ---------------------------------------------------------------------------------------------
// The tools.

const char kValidate[] = "validator/atf-validate";
const char kDump[] = "validator/atf-dump";

std::string JsonString(const std::string &json, const char *key) {
  atf_json_doc doc;
  std::string out = "(unparsable)";
  if (atf_json_parse(json.data(), json.size(), &doc) == ATF_JSON_OK) {
    const size_t i = atf_json_get(&doc, 0, key);
    out = i == ATF_JSON_NONE ? "(missing)" : std::string(doc.nodes[i].text, doc.nodes[i].len);
  }
  atf_json_free(&doc);
  return out;
}

TEST(EngineCli, EveryEngineGivesTheSameVerdictAndErrors) {
  const auto events = atf_test::SampleSession(3);
  const std::string bytes = atf_test::Frames(events);
  const std::string manifest = atf_test::ManifestJson(atf_test::ManifestFor(events, bytes));
  const std::string good = atf_test::TempDir() + "/cli_good";
  atf_test::WriteSession(good, bytes, &manifest);
  auto bad_events = events;
  bad_events[4].mutable_function_call()->set_symbol("x\xc0");
  const std::string bad = atf_test::TempDir() + "/cli_bad";
  atf_test::WriteSession(bad, atf_test::Frames(bad_events), nullptr);
  std::string first_bad_errors;
  for (const char *engine : {"upb", "nanopb", "both"}) {
    SCOPED_TRACE(engine);
    auto r = atf_test::RunTool(std::string(kValidate) + " --json --engine " + engine + " " + good);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(JsonString(r.out, "engine"), engine);
    EXPECT_EQ(JsonString(r.out, "engine_fallbacks"), "0");
    r = atf_test::RunTool(std::string(kValidate) + " --engine=" + engine + " " + bad);
    EXPECT_EQ(r.status, 1);
    const std::string errors = r.out.substr(r.out.find("errors "));
    EXPECT_NE(errors.find("schema.utf8"), std::string::npos) << r.out;
    if (first_bad_errors.empty()) first_bad_errors = errors;
    EXPECT_EQ(errors, first_bad_errors);
    EXPECT_NE(r.out.find(std::string("engine ") + engine), std::string::npos) << r.out;
    r = atf_test::RunTool(std::string(kDump) + " --engine " + engine + " " + good);
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), static_cast<long>(events.size()));
  }
  // The default is upb.
  const auto r = atf_test::RunTool(std::string(kValidate) + " --json " + good);
  EXPECT_EQ(JsonString(r.out, "engine"), "upb");
}

TEST(EngineCli, BadEngineIsAUsageError) {
  for (const char *tool : {kValidate, kDump}) {
    for (const char *arg : {"--engine nano", "--engine", "--engine=", "--allow engine.disagree",
                            "--allow engine.*"}) {
      const auto r = atf_test::RunTool(std::string(tool) + " " + arg + " /nonexistent");
      EXPECT_EQ(r.status, 2) << tool << " " << arg;
      EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    }
  }
}

TEST(EngineCli, FallbacksAreShownAsWarnings) {
  // 2 MiB: larger than the tools' 1 MiB window.
  const std::string dir = WriteBigRecordSession("cli_fallback", 2u << 20);
  auto r = atf_test::RunTool(std::string(kValidate) + " --json " + dir);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(JsonString(r.out, "engine_fallbacks"), "1");
  EXPECT_EQ(JsonString(r.out, "warnings"), "1");
  r = atf_test::RunTool(std::string(kValidate) + " --engine both " + dir);
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("engine fallbacks 1"), std::string::npos) << r.out;
  r = atf_test::RunTool(std::string(kValidate) + " --json --engine nanopb " + dir);
  EXPECT_EQ(JsonString(r.out, "engine_fallbacks"), "0");
  r = atf_test::RunTool(std::string(kDump) + " " + dir + " > /dev/null");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.err.find("warning: 1 record(s) beyond the upb engine's bounds"), std::string::npos)
      << r.err;
}

}  // namespace
