#include "validator/fuzz_check.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "atf_v4.pb.h"
#include "validator/atf/validate.h"
#include "validator/call_report.h"
#include "validator/internal/decode.h"

namespace atf_fuzz {
namespace {

#define FUZZ_ASSERT(cond)                                                               \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

// Reads events.bin's framing independently of the validator and parses each record with Google's
// C++ protobuf; true when all of them parse.
bool ReferenceParsesAll(const uint8_t *p, size_t n) {
  size_t pos = 0;
  while (pos < n) {
    uint64_t len = 0;
    int shift = 0;
    for (;;) {
      if (pos >= n || shift > 63) return false;
      const uint8_t b = p[pos++];
      len |= uint64_t{b & 0x7Fu} << shift;
      shift += 7;
      if ((b & 0x80) == 0) break;
    }
    if (len > n - pos) return false;
    atf::v4::Event e;
    if (!e.ParseFromArray(p + pos, static_cast<int>(len))) return false;
    pos += len;
  }
  return true;
}

// Every complete record decoded twice by the nanopb engine: without a visitor and with one (which
// then receives every string and register). Same verdict, values, rule, offset and message.
void CheckVisitorAgrees(const uint8_t *p, size_t n) {
  atf_reader r;
  atf_reader_init_mem(&r, p, n);
  const atf_event_visitor ignore = {
      nullptr, [](void *, atf_text_field, const uint8_t *, size_t, unsigned) {},
      [](void *, uint64_t) {}};
  for (uint64_t off = 0;;) {
    atf_frame f;
    if (atf_reader_frame(&r, off, &f) != ATF_FRAME_OK) break;
    atf_event plain_ev, visited_ev;
    atf_decode_error plain_err{}, visited_err{};
    const bool plain =
        atf_decode_record(&r, f.body_offset, f.length, nullptr, &plain_ev, &plain_err);
    const bool visited =
        atf_decode_record(&r, f.body_offset, f.length, &ignore, &visited_ev, &visited_err);
    FUZZ_ASSERT(plain == visited);
    if (plain) {
      FUZZ_ASSERT(std::memcmp(&plain_ev, &visited_ev, sizeof plain_ev) == 0);
    } else {
      FUZZ_ASSERT(std::strcmp(plain_err.rule, visited_err.rule) == 0);
      FUZZ_ASSERT(plain_err.offset == visited_err.offset);
      FUZZ_ASSERT(std::strcmp(plain_err.message, visited_err.message) == 0);
    }
    off = f.body_offset + f.length;
  }
}

void CheckReport(const atf_validate_report &r, const atf_validate_options &opt, size_t events_len,
                 size_t manifest_len) {
  FUZZ_ASSERT(r.valid == (r.error_count == 0));
  FUZZ_ASSERT(r.rule_warnings_len <= opt.max_errors && r.rule_warnings_len <= r.rule_warning_count);
  FUZZ_ASSERT(r.has_trace_start == (r.counts[ATF_VALIDATE_TRACE_START] > 0));
  FUZZ_ASSERT(!r.valid_prefix_ends_session || r.valid_prefix_records > 0);
  FUZZ_ASSERT(r.errors_len <= opt.max_errors);
  FUZZ_ASSERT(r.errors_len <= r.error_count);
  FUZZ_ASSERT(r.bytes == events_len);
  FUZZ_ASSERT(r.valid_prefix_bytes <= r.bytes);
  FUZZ_ASSERT(r.valid_prefix_records <= r.records);
  FUZZ_ASSERT(r.threads <= ATF_VALIDATE_MAX_THREADS);
  for (size_t i = 0; i < r.errors_len; ++i) {
    const atf_validate_error &e = r.errors[i];
    FUZZ_ASSERT(e.rule != nullptr && e.rule[0] != '\0');
    const bool manifest = std::strcmp(e.file, "trace.json") == 0;
    FUZZ_ASSERT(e.offset <= (manifest ? manifest_len : events_len));
  }
}

// Everything in a report but its kept errors: past max_errors an error is only counted (and a run
// of zero bytes counted at once), which must change nothing else.
std::string Summary(const atf_validate_report &r) {
  std::string s;
  for (uint64_t x : {static_cast<uint64_t>(r.valid), r.records, r.bytes, r.threads, r.warnings,
                     r.unknown_fields, r.valid_prefix_bytes, r.valid_prefix_records,
                     r.valid_prefix_last_event_id, r.valid_prefix_time_min_ns,
                     r.valid_prefix_time_max_ns, static_cast<uint64_t>(r.valid_prefix_ends_session),
                     r.time_min_ns, r.time_max_ns, r.error_count, r.rule_warning_count}) {
    s += std::to_string(x) + " ";
  }
  for (uint64_t c : r.counts) s += std::to_string(c) + " ";
  return s;
}

// Everything a report says about the input whatever the engine: Summary() without the warnings
// that are the upb engine's fallbacks, and the kept errors' rules, offsets and records (their
// messages are each engine's wording).
std::string EngineSummary(const atf_validate_report &r) {
  std::string s = Summary(r) + "w" + std::to_string(r.warnings - r.engine_fallbacks) + " ";
  for (size_t i = 0; i < r.errors_len; ++i) {
    s += std::string(r.errors[i].rule) + "@" + std::to_string(r.errors[i].offset) + "#" +
         std::to_string(r.errors[i].record) + " ";
  }
  return s;
}

// The engines (atf_validate_options.engine): upb (the default, `r`), nanopb and both give the same
// report; with both, the engines never disagree (a disagreement is a finding) and a record is
// valid only when both accept it.
void CheckEngines(const uint8_t *events, size_t events_len, const uint8_t *manifest, size_t m,
                  const atf_validate_options &upb_opt, const atf_validate_report &r) {
  FUZZ_ASSERT(r.engine == ATF_VALIDATE_ENGINE_UPB);
  FUZZ_ASSERT(r.warnings >= r.engine_fallbacks);
  for (atf_validate_engine engine : {ATF_VALIDATE_ENGINE_NANOPB, ATF_VALIDATE_ENGINE_BOTH}) {
    atf_validate_options opt = upb_opt;
    opt.engine = engine;
    atf_validate_report o;
    FUZZ_ASSERT(atf_validate_buffers(events, events_len, manifest, m, &opt, &o) == ATF_VALIDATE_OK);
    FUZZ_ASSERT(o.engine == engine);
    for (size_t i = 0; i < o.errors_len; ++i)
      FUZZ_ASSERT(std::strcmp(o.errors[i].rule, "engine.disagree") != 0);
    if (engine == ATF_VALIDATE_ENGINE_NANOPB) FUZZ_ASSERT(o.engine_fallbacks == 0);
    if (engine == ATF_VALIDATE_ENGINE_BOTH) FUZZ_ASSERT(o.engine_fallbacks == r.engine_fallbacks);
    FUZZ_ASSERT(EngineSummary(o) == EngineSummary(r));
    atf_validate_report_free(&o);
  }
}

// Allowed rules: errors only of rules not allowed, warnings only of allowed ones, and a session
// valid without them is valid with them.
void CheckAllowed(const uint8_t *events, size_t events_len, const uint8_t *manifest, size_t m,
                  const atf_validate_options &strict_opt, const atf_validate_report &strict) {
  atf_validate_options opt = strict_opt;
  opt.allowed_rules = ATF_VALIDATE_PROFILE_ORIGINAL;
  atf_validate_report r;
  FUZZ_ASSERT(atf_validate_buffers(events, events_len, manifest, m, &opt, &r) == ATF_VALIDATE_OK);
  FUZZ_ASSERT(r.allowed_rules == ATF_VALIDATE_PROFILE_ORIGINAL);
  for (size_t i = 0; i < r.errors_len; ++i) {
    uint64_t bit = 0;
    FUZZ_ASSERT(atf_validate_rule_parse(r.errors[i].rule, &bit) && (bit & opt.allowed_rules) == 0);
  }
  for (size_t i = 0; i < r.rule_warnings_len; ++i) {
    uint64_t bit = 0;
    FUZZ_ASSERT(atf_validate_rule_parse(r.rule_warnings[i].rule, &bit) &&
                (bit & opt.allowed_rules) == bit);
  }
  if (strict.valid) FUZZ_ASSERT(r.valid && r.rule_warning_count == 0);
  FUZZ_ASSERT(strict.rule_warning_count == 0);
  atf_validate_report_free(&r);
}

// The call report (atf-dump --format=report) on the same bytes, with its default bounds and with
// tiny ones: it builds, and its counts agree with themselves and, on a valid session, with the
// validator's (the report counts exactly the FunctionCall and FunctionReturn events of the file).
void CheckCallReport(const uint8_t *events, size_t events_len, const uint8_t *manifest,
                     size_t manifest_len, const atf_validate_report &v) {
  for (int small = 0; small <= 1; ++small) {
    atf_call_report_options o;
    atf_call_report_options_init(&o);
    o.max_record_size = 1 << 20;
    if (small) {
      o.max_functions = 16;
      o.max_threads = 4;
      o.max_depth = 8;
      o.max_open_frames = 12;
    }
    atf_call_report rep;
    char err[128];
    FUZZ_ASSERT(atf_call_report_build(events, events_len, reinterpret_cast<const char *>(manifest),
                                      manifest_len, &o, &rep, err, sizeof err));
    FUZZ_ASSERT(rep.matched + rep.unmatched_returns <= rep.returns);
    FUZZ_ASSERT(rep.matched + rep.unreturned <= rep.calls);
    uint64_t calls = 0, unreturned = 0, unmatched = 0;
    for (size_t i = 0; i < rep.nrows; ++i) {
      const atf_call_report_row &row = rep.rows[i];
      calls += row.calls;
      unreturned += row.unreturned;
      unmatched += row.unmatched_returns;
      FUZZ_ASSERT(row.unreturned <= row.calls);
      if (i > 0 && o.sort == ATF_CALL_REPORT_SORT_TOTAL)
        FUZZ_ASSERT(rep.rows[i - 1].total_ns >= row.total_ns);
    }
    FUZZ_ASSERT(calls <= rep.calls && calls + rep.events_over_limits >= rep.calls);
    FUZZ_ASSERT(unreturned == rep.unreturned);
    if (rep.events_over_limits == 0) {
      FUZZ_ASSERT(calls == rep.calls);
      FUZZ_ASSERT(unmatched == rep.unmatched_returns);
    }
    if (v.valid) {
      FUZZ_ASSERT(rep.invalid_records == 0);
      FUZZ_ASSERT(rep.calls == v.counts[ATF_VALIDATE_FUNCTION_CALL]);
      FUZZ_ASSERT(rep.returns == v.counts[ATF_VALIDATE_FUNCTION_RETURN]);
      // Per-thread time never goes back in a valid session: the self times of a function's
      // activations lie inside its outermost activations.
      for (size_t i = 0; i < rep.nrows && rep.events_over_limits == 0; ++i) {
        FUZZ_ASSERT(rep.rows[i].self_ns <= rep.rows[i].total_ns);
      }
    }
    atf_call_report_free(&rep);
  }
}

}  // namespace

std::string Pack(const std::string &events, const std::string *manifest) {
  const size_t m = manifest ? manifest->size() : 0xffff;
  std::string out;
  out.push_back(static_cast<char>(m & 0xff));
  out.push_back(static_cast<char>((m >> 8) & 0xff));
  out += events;
  if (manifest) out += *manifest;
  return out;
}

void CheckOne(const uint8_t *data, size_t size) {
  if (size < 2) return;
  size_t m = data[0] | static_cast<size_t>(data[1]) << 8;
  const bool has_manifest = m != 0xffff;
  data += 2;
  size -= 2;
  if (!has_manifest) m = 0;
  if (m > size) m = size;
  const uint8_t *events = data;
  const size_t events_len = size - m;
  atf_validate_options opt;
  atf_validate_options_init(&opt);
  opt.max_errors = 16;
  opt.max_record_size = 1 << 20;

  atf_validate_report r;
  FUZZ_ASSERT(atf_validate_buffers(events, events_len, has_manifest ? data + events_len : nullptr,
                                   m, &opt, &r) == ATF_VALIDATE_OK);
  CheckReport(r, opt, events_len, m);
  CheckCallReport(events, events_len, has_manifest ? data + events_len : nullptr, m, r);
  const uint64_t prefix = r.valid_prefix_bytes;
  const uint8_t *manifest = has_manifest ? data + events_len : nullptr;
  CheckAllowed(events, events_len, manifest, m, opt, r);
  CheckEngines(events, events_len, manifest, m, opt, r);
  atf_validate_options quiet = opt;
  quiet.max_errors = 0;
  atf_validate_report q;
  FUZZ_ASSERT(atf_validate_buffers(events, events_len, manifest, m, &quiet, &q) == ATF_VALIDATE_OK);
  FUZZ_ASSERT(Summary(q) == Summary(r) && q.errors_len == 0);
  atf_validate_report_free(&q);
  if (r.valid) FUZZ_ASSERT(ReferenceParsesAll(events, events_len));
  CheckVisitorAgrees(events, events_len);
  atf_validate_report_free(&r);

  // The valid prefix holds only valid records: only session rules may fire on it alone.
  atf_validate_report p;
  FUZZ_ASSERT(atf_validate_buffers(events, static_cast<size_t>(prefix), nullptr, 0, &opt, &p) ==
              ATF_VALIDATE_OK);
  for (size_t i = 0; i < p.errors_len; ++i)
    FUZZ_ASSERT(std::strncmp(p.errors[i].rule, "session.", 8) == 0);
  FUZZ_ASSERT(p.valid_prefix_bytes == prefix);
  atf_validate_report_free(&p);
}

}  // namespace atf_fuzz
