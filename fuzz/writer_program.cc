// The writer fuzz program runner: see writer_program.h; the program language and what a strict run
// checks are documented in writer_roundtrip_fuzzer.cc.
#include "fuzz/writer_program.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "writer/atf/file_ops.h"
#include "writer/atf/ring_record.h"
#include "writer/atf/writer.h"
#include "fuzz/event_decoders.h"
#include "fuzz/fuzz_input.h"
#include "fuzz/mem_file_ops.h"
#include "fuzz/writer_program.h"
#include "writer/internal/encode.h"
#include "writer/internal/symtab.h"
#include "validator/atf/validate.h"

namespace {

using atf_fuzz::Event;
using atf_fuzz::Fail;
using atf_fuzz::FuzzInput;

constexpr uint64_t kStartNs = UINT64_C(1700000000000000000);
constexpr int32_t kPid = 4242;
constexpr char kSessionDir[] = "/fuzz/session_fuzz/pid_4242";

// ---- independent oracles ------------------------------------------------------------------------

// Register names of docs/format.md / proto comments, per arch (0 unknown, 1 x86_64, 2 arm64).
std::vector<std::string> RegisterNames(int arch, int kind) {
  if (kind == ATF_KIND_TRACE_END) return {};
  if (arch == 1) {
    if (kind == ATF_KIND_CALL) return {"RDI", "RSI", "RDX", "RCX", "R8", "R9"};
    if (kind == ATF_KIND_RETURN) return {"RAX", "RDX"};
    return {"RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP", "R8",
            "R9",  "R10", "R11", "R12", "R13", "R14", "R15", "RIP", "RFLAGS"};
  }
  std::vector<std::string> v;
  if (arch == 2) {
    const int n = kind == ATF_KIND_CALL ? 8 : kind == ATF_KIND_RETURN ? 2 : 29;
    for (int i = 0; i < n; ++i) v.push_back("X" + std::to_string(i));
    if (kind == ATF_KIND_SIGNAL) v.insert(v.end(), {"FP", "LR", "SP", "PC", "CPSR"});
    return v;
  }
  for (unsigned i = 0; i < ATF_RECORD_MAX_REGS; ++i) v.push_back("R" + std::to_string(i));
  return v;
}

std::string SignalName(const std::string &os, int32_t n) {
  static const char *const kLinux[] = {
      nullptr,     "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
      "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
      "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
      "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS"};
  static const char *const kDarwin[] = {
      nullptr,   "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGEMT",
      "SIGFPE",  "SIGKILL", "SIGBUS",    "SIGSEGV", "SIGSYS",   "SIGPIPE", "SIGALRM", "SIGTERM",
      "SIGURG",  "SIGSTOP", "SIGTSTP",   "SIGCONT", "SIGCHLD",  "SIGTTIN", "SIGTTOU", "SIGIO",
      "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGINFO", "SIGUSR1", "SIGUSR2"};
  if (n >= 1 && n <= 31 && os == "linux") return kLinux[n];
  if (n >= 1 && n <= 31 && os == "darwin") return kDarwin[n];
  return "SIG" + std::to_string(n);
}

// Length of the well-formed UTF-8 sequence (not U+0000) at s[i], or 0. Decodes the code point
// arithmetically and rejects overlong forms, surrogates and values above U+10FFFF.
size_t WellFormedAt(const std::string &s, size_t i) {
  const unsigned char b = static_cast<unsigned char>(s[i]);
  if (b == 0) return 0;
  if (b < 0x80) return 1;
  size_t len;
  uint32_t cp, min;
  if ((b & 0xE0) == 0xC0) {
    len = 2, cp = b & 0x1F, min = 0x80;
  } else if ((b & 0xF0) == 0xE0) {
    len = 3, cp = b & 0x0F, min = 0x800;
  } else if ((b & 0xF8) == 0xF0) {
    len = 4, cp = b & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    const unsigned char c = static_cast<unsigned char>(s[i + k]);
    if ((c & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (c & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool CleanText(const std::string &s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = WellFormedAt(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// Checks `out` is a documented sanitising of `in` (see the file comment).
void CheckSanitised(const std::string &in, const std::string &out, const char *what) {
  static const std::string kFffd = "\xEF\xBF\xBD";
  auto fail = [&](const char *why) {
    Event a, b;
    a.symbol = in;
    b.symbol = out;
    Fail(__FILE__, __LINE__,
         std::string(what) + ": bad sanitising (" + why + "):\n" + a.Describe() + b.Describe());
  };
  if (!atf_fuzz::IsValidUtf8(out) || out.find('\0') != std::string::npos)
    fail("output not clean UTF-8");
  if (CleanText(in)) {
    if (in != out) fail("valid input changed");
    return;
  }
  size_t i = 0, o = 0;
  while (i < in.size()) {
    const size_t n = WellFormedAt(in, i);
    const bool literal = n == 3 && in.compare(i, 3, kFffd) == 0;
    if (n > 0 && !literal) {
      if (out.compare(o, n, in, i, n) != 0) fail("well-formed sequence lost");
      i += n, o += n;
      continue;
    }
    // A stretch of bad bytes and literal U+FFFDs.
    size_t bad = 0, runs = 0, literals = 0;
    bool in_run = false;
    while (i < in.size()) {
      const size_t m = WellFormedAt(in, i);
      if (m == 0) {
        bad++, i++;
        runs += !in_run;
        in_run = true;
      } else if (m == 3 && in.compare(i, 3, kFffd) == 0) {
        literals++, i += 3;
        in_run = false;
      } else {
        break;
      }
    }
    size_t c = 0;
    while (out.compare(o, 3, kFffd) == 0) c++, o += 3;
    if (c < literals + runs || c > literals + bad) fail("wrong number of U+FFFD");
  }
  if (o != out.size()) fail("extra output");
}

// ---- the model ----------------------------------------------------------------------------------

struct Session {
  int arch;  // 0 unknown, 1 x86_64, 2 arm64
  std::string os;
  uint32_t max_stack;
  int32_t session_tid;
  std::vector<std::string> symbols;         // raw bytes interned, by id - 1
  std::vector<Event> events;                // expected, in file order (text fields: raw input)
  std::vector<std::vector<uint64_t>> ring;  // the record of each event (empty for TraceStart)
  uint64_t stack_truncations = 0;
  bool trace_end_written = false;
  uint64_t clock_ns = kStartNs;
  std::map<int32_t, uint64_t> last_ts;  // per thread, as the program builds timestamps

  // The pending batch.
  std::vector<uint64_t> batch;  // 8-byte aligned storage
  std::vector<Event> batch_events;
  std::vector<std::vector<uint64_t>> batch_records;
  std::vector<bool> batch_record_bad;  // per record of batch_events
  bool batch_bad = false, batch_has_end = false;
  bool append = false;  // batches go through atf_writer_append (prefix semantics)
};

uint64_t Clock(void *ctx) { return static_cast<Session *>(ctx)->clock_ns; }

atf_arch ArchOf(int a) {
  return a == 1 ? ATF_ARCH_X86_64 : a == 2 ? ATF_ARCH_ARM64 : ATF_ARCH_UNKNOWN;
}

uint64_t Special64(uint8_t k) {
  static const uint64_t kValues[] = {0,
                                     1,
                                     UINT64_MAX,
                                     UINT64_C(1) << 63,
                                     (UINT64_C(1) << 63) - 1,
                                     0x7f,
                                     0x80,
                                     UINT64_C(1) << 53,
                                     0x3fff,
                                     0x4000};
  return kValues[k % (sizeof kValues / sizeof kValues[0])];
}

int32_t Special32(uint8_t k) {
  static const int32_t kValues[] = {INT32_MIN, -1, 0, INT32_MAX, 1, 127, 128, -128};
  return kValues[k % 8];
}

void AppendRecord(Session *s, FuzzInput *in, int kind) {
  atf_ring_record h = {};
  h.kind = static_cast<uint8_t>(kind);
  // Thread id.
  const uint8_t tsel = in->U8();
  switch (tsel % 4) {
    case 0:
      h.thread_id = s->session_tid;
      break;
    case 1:
      h.thread_id = in->U8();
      break;
    case 2:
      h.thread_id = static_cast<int32_t>(in->U32());
      break;
    default:
      h.thread_id = Special32(in->U8());
      break;
  }
  // Timestamp: mostly non-decreasing per thread, sometimes anything.
  auto it = s->last_ts.find(h.thread_id);
  const uint64_t last = it != s->last_ts.end() ? it->second : kStartNs;
  switch (in->U8() % 5) {
    case 0:
      h.timestamp_ns = last + in->U8();
      break;
    case 1:
      h.timestamp_ns = last + in->U32();
      break;
    case 2:
      h.timestamp_ns = in->U64();
      break;
    case 3:
      h.timestamp_ns = UINT64_MAX;
      break;
    default:
      h.timestamp_ns = last;
      break;
  }
  if (h.timestamp_ns < last && in->U8() % 2 == 0)
    h.timestamp_ns = last;  // keep most sessions valid
  s->last_ts[h.thread_id] = h.timestamp_ns;
  // Address and symbol (calls and returns).
  if (kind == ATF_KIND_CALL || kind == ATF_KIND_RETURN) {
    const uint8_t asel = in->U8();
    h.address = asel % 3 == 0 ? in->U64() : asel % 3 == 1 ? Special64(in->U8()) : in->U32();
    h.symbol_id = in->U8() % (static_cast<uint32_t>(s->symbols.size()) + 2);  // + one unknown id
  }
  // Call site (ATF_RECORD_FLAG_CALL_SITE): on calls, half of the time; a flag the writer does not
  // know, or the call-site flag on a return, now and then (a bad record).
  uint64_t call_site = 0;
  bool bad_flags = false;
  if (kind == ATF_KIND_CALL || kind == ATF_KIND_RETURN) {
    const uint8_t csel = in->U8();
    if (kind == ATF_KIND_CALL && (csel % 4 == 2 || csel % 4 == 3) && csel < 0xf0) {
      call_site = csel % 4 == 2 ? in->U64() : Special64(in->U8());
      h.flags = ATF_RECORD_FLAG_CALL_SITE;
      h.value = static_cast<int32_t>(static_cast<uint32_t>(call_site));
      h.reserved = static_cast<uint32_t>(call_site >> 32);
    } else if (csel == 0xff) {
      h.flags = 0x0002;
      bad_flags = true;
    } else if (csel == 0xfe && kind == ATF_KIND_RETURN) {
      h.flags = ATF_RECORD_FLAG_CALL_SITE;
      bad_flags = true;
    }
  }
  // Value: signal number or exit code.
  if (kind == ATF_KIND_SIGNAL || kind == ATF_KIND_TRACE_END) {
    const uint8_t vsel = in->U8();
    h.value = vsel % 3 == 0   ? in->U8() % 40
              : vsel % 3 == 1 ? static_cast<int32_t>(in->U32())
                              : Special32(in->U8());
  }
  // Registers: up to the kind's names, sometimes one more (a bad record).
  const unsigned max_regs = static_cast<unsigned>(RegisterNames(s->arch, kind).size());
  const uint8_t rsel = in->U8();
  unsigned regs = rsel & 0x80 ? max_regs : (rsel & 0x7f) % (max_regs + 2);
  if (regs > ATF_RECORD_MAX_REGS) regs = ATF_RECORD_MAX_REGS;
  const uint8_t vmode = in->U8() % 3;
  const uint64_t fill = vmode == 2 ? in->U64() : 0;
  std::vector<uint64_t> values;
  for (unsigned i = 0; i < regs; ++i) {
    values.push_back(vmode == 0   ? in->U64()
                     : vmode == 1 ? Special64(static_cast<uint8_t>(i))
                                  : fill);
  }
  // Stack: calls, and now and then another kind (a bad record).
  unsigned stack = 0;
  const uint8_t ssel = in->U8();
  if (kind == ATF_KIND_CALL || ssel == 0xff) {
    switch (ssel % 4) {
      case 0:
        stack = 0;
        break;
      case 1:
        stack = in->U8();
        break;
      case 2:
        stack = s->max_stack + in->U8() % 3;
        break;
      default:
        stack = in->U16() % (ATF_RECORD_MAX_STACK + 1);
        break;
    }
    if (stack > ATF_RECORD_MAX_STACK) stack = ATF_RECORD_MAX_STACK;
    if (kind != ATF_KIND_CALL && stack == 0) stack = 1;
  }
  std::string bytes = in->Bytes(stack);
  for (size_t i = bytes.size(); i < stack; ++i) bytes += static_cast<char>(i * 31 + 7);

  h.reg_count = static_cast<uint8_t>(regs);
  h.stack_len = static_cast<uint16_t>(stack);
  const size_t size = atf_record_size(regs, stack);
  h.size = static_cast<uint16_t>(size);
  std::vector<uint64_t> rec(size / 8, 0);
  std::memcpy(rec.data(), &h, sizeof h);
  auto *r = reinterpret_cast<atf_ring_record *>(rec.data());
  if (regs) std::memcpy(atf_record_regs(r), values.data(), 8 * regs);
  if (stack) std::memcpy(atf_record_stack(r), bytes.data(), stack);

  // (Symbol ids are checked against the table when the batch is written: see WriteBatch.)
  const bool bad =
      regs > max_regs || (kind != ATF_KIND_CALL && stack > 0) || s->batch_has_end || bad_flags;
  if (getenv("ATF_FUZZ_TRACE")) {
    fprintf(
        stderr,
        "record kind=%d tid=%d ts=%llu regs=%u/%u stack=%u symbol=%u call_site=%llx flags=%u%s\n",
        kind, h.thread_id, (unsigned long long)h.timestamp_ns, regs, max_regs, stack, h.symbol_id,
        (unsigned long long)call_site, h.flags, bad ? " BAD" : "");
  }
  s->batch_bad |= bad;
  s->batch_record_bad.push_back(bad);
  s->batch_has_end |= kind == ATF_KIND_TRACE_END;
  s->batch.insert(s->batch.end(), rec.begin(), rec.end());

  Event e;  // event_id is set when the batch is accepted
  e.thread_id = h.thread_id;
  e.seconds = static_cast<int64_t>(h.timestamp_ns / 1000000000u);
  e.nanos = static_cast<int32_t>(h.timestamp_ns % 1000000000u);
  static const int kPayload[] = {0, atf_fuzz::kCall, atf_fuzz::kReturn, atf_fuzz::kSignal,
                                 atf_fuzz::kTraceEnd};
  e.payload = kPayload[kind];
  const std::vector<std::string> names = RegisterNames(s->arch, kind);
  for (unsigned i = 0; i < regs && i < names.size(); ++i) e.regs.emplace_back(names[i], values[i]);
  switch (kind) {
    case ATF_KIND_CALL:
      e.stack = bytes.substr(0, std::min<size_t>(stack, s->max_stack));
      e.call_site = call_site;
      [[fallthrough]];
    case ATF_KIND_RETURN:
      e.address = h.address;
      break;
    case ATF_KIND_SIGNAL:
      e.signal_number = h.value;
      e.signal_name = SignalName(s->os, h.value);
      break;
    default:
      e.exit_code = h.value;
      break;
  }
  s->batch_events.push_back(e);
  s->batch_records.push_back(rec);
}

void AppendPad(Session *s, FuzzInput *in) {
  const size_t size = ATF_RECORD_HEADER_SIZE + 8 * (in->U8() % 4);
  std::vector<uint64_t> rec(size / 8, 0);
  atf_ring_record *r = reinterpret_cast<atf_ring_record *>(rec.data());
  r->size = static_cast<uint16_t>(size);
  r->kind = ATF_KIND_PAD;
  s->batch.insert(s->batch.end(), rec.begin(), rec.end());
}

// Returns false (relaxed runs) when the status was not the model's.
bool WriteBatch(Session *s, atf_writer *w, atf_fuzz::WriterOutcome *out, bool strict) {
  // Symbol ids name the table as it is when the batch is written.
  for (size_t i = 0; i < s->batch_events.size(); ++i) {
    const auto *r = reinterpret_cast<const atf_ring_record *>(s->batch_records[i].data());
    if (r->kind != ATF_KIND_CALL && r->kind != ATF_KIND_RETURN) continue;
    if (r->symbol_id > s->symbols.size()) {
      s->batch_bad = true;
      s->batch_record_bad[i] = true;
    } else if (r->symbol_id > 0) {
      s->batch_events[i].symbol = s->symbols[r->symbol_id - 1];
    }
  }
  uint64_t taken = 0;
  const atf_writer_status st =
      s->append ? atf_writer_append(w, s->batch.data(), s->batch.size() * 8, &taken)
                : atf_writer_write(w, s->batch.data(), s->batch.size() * 8);
  // A malformed record is refused as such first: atf_writer_write checks the whole batch before
  // anything else, atf_writer_append each record before it looks at the session's state.
  atf_writer_status want = ATF_WRITER_OK;
  size_t keep = s->batch_events.size();  // events of the batch the writer keeps
  size_t first_bad = 0;
  while (first_bad < s->batch_events.size() && !s->batch_record_bad[first_bad]) first_bad++;
  if (s->batch_bad && !(s->append && s->trace_end_written && first_bad > 0)) {
    want = ATF_WRITER_E_BAD_RECORD;
    keep = s->append ? first_bad : 0;  // the records before it / all or nothing
  } else if (s->trace_end_written && !s->batch_events.empty()) {
    want = ATF_WRITER_E_STATE;
    keep = 0;
  }
  if (getenv("ATF_FUZZ_TRACE")) {
    fprintf(stderr, "batch of %zu events (%s): status %d, expected %d; kept %llu, expected %zu\n",
            s->batch_events.size(), s->append ? "append" : "write", st, want,
            (unsigned long long)taken, keep);
  }
  out->statuses.push_back(st);
  if (st != want && !strict) {
    out->first_unexpected = st;
    return false;
  }
  if (st != want) {
    Fail(__FILE__, __LINE__,
         std::string(s->append ? "atf_writer_append" : "atf_writer_write") + " returned " +
             std::to_string(st) + ", expected " + std::to_string(want));
  }
  if (s->append && taken != keep) {
    Fail(__FILE__, __LINE__,
         "atf_writer_append accepted " + std::to_string(taken) + " events, expected " +
             std::to_string(keep));
  }
  if (st != ATF_WRITER_OK && !s->append) keep = 0;
  for (size_t i = 0; i < keep; ++i) {
    Event e = s->batch_events[i];
    e.event_id = ATF_WRITER_FIRST_EVENT_ID + s->events.size();
    const auto *r = reinterpret_cast<const atf_ring_record *>(s->batch_records[i].data());
    if (r->kind == ATF_KIND_CALL && r->stack_len > s->max_stack) s->stack_truncations++;
    if (r->kind == ATF_KIND_TRACE_END) s->trace_end_written = true;
    s->events.push_back(e);
    s->ring.push_back(s->batch_records[i]);
  }
  if (keep < s->batch_events.size()) {
    // Refused records change nothing: the per-thread clock goes back to the accepted events.
    s->last_ts.clear();
    for (const Event &e : s->events) {
      s->last_ts[e.thread_id] =
          static_cast<uint64_t>(e.seconds) * 1000000000u + static_cast<uint64_t>(e.nanos);
    }
  }
  s->batch.clear();
  s->batch_events.clear();
  s->batch_records.clear();
  s->batch_record_bad.clear();
  s->batch_bad = s->batch_has_end = false;
  return true;
}

uint64_t TimeNs(const Event &e) {
  return static_cast<uint64_t>(e.seconds) * 1000000000u + static_cast<uint64_t>(e.nanos);
}

// ---- checking the files -------------------------------------------------------------------------

struct Frame {
  size_t offset, body, length;
};

std::vector<Frame> FrameAll(const std::string &f) {
  std::vector<Frame> out;
  size_t pos = 0;
  while (pos < f.size()) {
    uint64_t len = 0;
    size_t start = pos;
    for (int shift = 0;; shift += 7) {
      ATF_FUZZ_CHECK(pos < f.size() && shift <= 63);
      const uint8_t b = static_cast<uint8_t>(f[pos++]);
      len |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) {
        ATF_FUZZ_CHECK(b != 0 || pos - start == 1);  // canonical
        break;
      }
    }
    ATF_FUZZ_CHECK(len <= f.size() - pos);
    out.push_back({start, pos, static_cast<size_t>(len)});
    pos += len;
  }
  return out;
}

// The ring record re-encoded through both paths of the encoding step equals `framed`.
void CheckEncoders(atf_encoder *enc, const std::vector<uint64_t> &rec, uint64_t id,
                   const std::string &framed) {
  const auto *r = reinterpret_cast<const atf_ring_record *>(rec.data());
  std::string a(framed.size() + 64, '\x5a'), b(framed.size() + 64, '\x5a');
  int conv = 0;
  const size_t na =
      atf_encode_record(enc, r, id, reinterpret_cast<uint8_t *>(&a[0]), a.size(), &conv);
  const size_t nb =
      atf_encode_record_reference(enc, r, id, reinterpret_cast<uint8_t *>(&b[0]), b.size());
  ATF_FUZZ_CHECK(nb == framed.size());
  if (na > a.size()) {  // the fast path's bound did not fit: room for the bound, then it must
    ATF_FUZZ_CHECK(conv == 0 && na > framed.size());
    a.assign(na, '\x5a');
    ATF_FUZZ_CHECK(atf_encode_record(enc, r, id, reinterpret_cast<uint8_t *>(&a[0]), a.size(),
                                     &conv) == framed.size());
  }
  ATF_FUZZ_CHECK(atf_encode_record(enc, r, id, reinterpret_cast<uint8_t *>(&a[0]), a.size(),
                                   &conv) == framed.size());
  if (a.compare(0, framed.size(), framed) != 0)
    Fail(__FILE__, __LINE__, "atf_encode_record bytes differ from events.bin");
  if (b.compare(0, nb, framed) != 0)
    Fail(__FILE__, __LINE__, "reference encoding differs from events.bin");
  // Exactly enough room: written, or (fast path) its bound returned and nothing written.
  std::string c(framed.size(), '\x5a');
  const size_t nc =
      atf_encode_record(enc, r, id, reinterpret_cast<uint8_t *>(&c[0]), c.size(), &conv);
  if (nc == framed.size()) {
    ATF_FUZZ_CHECK(c == framed);
  } else {
    ATF_FUZZ_CHECK(nc > framed.size() && conv == 0 && c == std::string(framed.size(), '\x5a'));
  }
  // One byte short: a size over the room is returned and nothing is written; the reference path
  // returns the exact size and leaves the converted event, which frames to the same bytes.
  std::string d(framed.size() - 1, '\x5a');
  const size_t nd =
      atf_encode_record(enc, r, id, reinterpret_cast<uint8_t *>(&d[0]), d.size(), &conv);
  ATF_FUZZ_CHECK(nd > d.size() && d == std::string(framed.size() - 1, '\x5a'));
  if (conv) {
    ATF_FUZZ_CHECK(nd == framed.size());
    std::string e(framed.size(), '\0');
    ATF_FUZZ_CHECK(atf_encode_event(&enc->scratch.event, reinterpret_cast<uint8_t *>(&e[0]),
                                    e.size()) == framed.size());
    ATF_FUZZ_CHECK(e == framed);
  }
}

void CheckEvent(const Event &want_raw, const std::string &body, bool start, const char *what) {
  Event v, c, p;
  std::string rule, repacked;
  const auto *b = reinterpret_cast<const uint8_t *>(body.data());
  if (!atf_fuzz::DecodeWithValidator(b, body.size(), &v, &rule)) {
    Fail(__FILE__, __LINE__, std::string(what) + ": validator rejects a written record: " + rule);
  }
  Event u;
  if (!atf_fuzz::DecodeWithUpbEngine(b, body.size(), &u, &rule)) {
    Fail(__FILE__, __LINE__,
         std::string(what) + ": the upb engine rejects a written record: " + rule);
  }
  ATF_FUZZ_CHECK(atf_fuzz::DecodeWithProtobufC(b, body.size(), &p, &repacked));
  ATF_FUZZ_CHECK(atf_fuzz::DecodeWithCpp(b, body.size(), &c));
  if (repacked != body)
    Fail(__FILE__, __LINE__, std::string(what) + ": protobuf-c repack differs from events.bin");
  // Text fields: sanitised from the raw input, checked independently; the rest must be exact.
  Event want = want_raw;
  CheckSanitised(want_raw.symbol, v.symbol, "symbol");
  want.symbol = v.symbol;
  if (start) {
    CheckSanitised(want_raw.executable_path, v.executable_path, "executable path");
    want.executable_path = v.executable_path;
    ATF_FUZZ_CHECK(v.args.size() == want_raw.args.size());
    for (size_t i = 0; i < v.args.size(); ++i)
      CheckSanitised(want_raw.args[i], v.args[i], "argument");
    want.args = v.args;
  }
  atf_fuzz::ExpectEqual(want, v, "expected event and validator decode");
  atf_fuzz::ExpectEqual(want, u, "expected event and upb engine decode");
  atf_fuzz::ExpectEqual(want, p, "expected event and protobuf-c decode");
  atf_fuzz::ExpectEqual(atf_fuzz::WithMapRegisters(want), c,
                        "expected event and C++ protobuf decode");
}

void CheckSession(Session *s, const atf_fuzz::MemFs &fs, atf_writer *w, bool any_replacement) {
  const std::string *events = fs.File(std::string(kSessionDir) + "/events.bin");
  const std::string *manifest = fs.File(std::string(kSessionDir) + "/trace.json");
  ATF_FUZZ_CHECK(events != nullptr && manifest != nullptr);
  ATF_FUZZ_CHECK(fs.File(std::string(kSessionDir) + "/trace.json.tmp") == nullptr);

  const std::vector<Frame> frames = FrameAll(*events);
  ATF_FUZZ_CHECK(frames.size() == s->events.size());

  atf_symtab *symtab = atf_symtab_new();
  ATF_FUZZ_CHECK(symtab != nullptr);
  for (size_t i = 0; i < s->symbols.size(); ++i) {
    uint32_t id;
    uint64_t repl;
    ATF_FUZZ_CHECK(atf_symtab_intern(symtab, s->symbols[i].data(), s->symbols[i].size(), &id,
                                     &repl) == ATF_WRITER_OK);
    ATF_FUZZ_CHECK(id == i + 1);
  }
  auto *enc = new atf_encoder;
  atf_encoder_init(enc, ArchOf(s->arch), s->os.c_str(), symtab, s->max_stack);

  std::map<int32_t, uint64_t> last;
  std::map<int32_t, std::vector<uint64_t>> open_calls;  // session.call_return, per thread
  std::vector<std::pair<uint64_t, const char *>>
      errors;  // record, rule: what the validator must report
  uint64_t tmin = UINT64_MAX, tmax = 0, counts[ATF_VALIDATE_PAYLOAD_COUNT] = {};
  for (size_t i = 0; i < frames.size(); ++i) {
    const Event &e = s->events[i];
    const std::string framed =
        events->substr(frames[i].offset, frames[i].body + frames[i].length - frames[i].offset);
    CheckEvent(e, events->substr(frames[i].body, frames[i].length), i == 0, "record");
    if (i > 0) CheckEncoders(enc, s->ring[i], e.event_id, framed);
    const uint64_t t = TimeNs(e);
    auto it = last.find(e.thread_id);
    const bool order_error = it != last.end() && t < it->second;
    if (order_error) errors.emplace_back(i, "order.timestamp");
    last[e.thread_id] = t;
    // A return closes the innermost open call of its thread; one of another address, or on a thread
    // without open calls, is an error (the first error of a record wins: order.timestamp first).
    std::vector<uint64_t> &stack = open_calls[e.thread_id];
    if (e.payload == atf_fuzz::kCall) {
      stack.push_back(e.address);
    } else if (e.payload == atf_fuzz::kReturn) {
      const bool broken = stack.empty() || stack.back() != e.address;
      if (!stack.empty()) stack.pop_back();
      if (broken && !order_error) errors.emplace_back(i, "session.call_return");
    }
    tmin = std::min(tmin, t);
    tmax = std::max(tmax, t);
    counts[e.payload == atf_fuzz::kTraceStart ? 0 : e.payload - atf_fuzz::kTraceStart]++;
  }
  ATF_FUZZ_CHECK(enc->stack_truncations >= s->stack_truncations);
  delete enc;
  atf_symtab_free(symtab);

  atf_validate_report rep;
  ATF_FUZZ_CHECK(atf_validate_buffers(reinterpret_cast<const uint8_t *>(events->data()),
                                      events->size(),
                                      reinterpret_cast<const uint8_t *>(manifest->data()),
                                      manifest->size(), nullptr, &rep) == ATF_VALIDATE_OK);
  ATF_FUZZ_CHECK(rep.manifest_checked && rep.records == frames.size() &&
                 rep.bytes == events->size());
  for (int k = 0; k < ATF_VALIDATE_PAYLOAD_COUNT; ++k) ATF_FUZZ_CHECK(rep.counts[k] == counts[k]);
  ATF_FUZZ_CHECK(rep.has_time && rep.time_min_ns == tmin && rep.time_max_ns == tmax);
  if (rep.error_count != errors.size()) {
    std::string msg = "validator errors differ from the model (" + std::to_string(errors.size()) +
                      " errors expected):";
    for (size_t k = 0; k < rep.errors_len; ++k)
      msg += std::string("\n  ") + rep.errors[k].rule + ": " + rep.errors[k].message;
    Fail(__FILE__, __LINE__, msg);
  }
  for (size_t k = 0; k < rep.errors_len; ++k) {
    ATF_FUZZ_CHECK(std::strcmp(rep.errors[k].rule, errors[k].second) == 0);
    ATF_FUZZ_CHECK(rep.errors[k].record == errors[k].first &&
                   rep.errors[k].offset == frames[errors[k].first].offset);
  }
  ATF_FUZZ_CHECK(rep.valid == errors.empty());
  atf_validate_report_free(&rep);

  atf_writer_stats st;
  atf_writer_get_stats(w, &st);
  ATF_FUZZ_CHECK(st.events_written == frames.size() && st.bytes_written == events->size());
  ATF_FUZZ_CHECK(st.bytes_durable == events->size() && st.events_buffered == 0);
  ATF_FUZZ_CHECK(st.stack_truncations == s->stack_truncations);
  ATF_FUZZ_CHECK((st.utf8_replacements > 0) == any_replacement);
}

std::string CString(FuzzInput *in) {
  std::string s = in->ShortString();
  return s.substr(0, s.find('\0'));
}

}  // namespace

namespace atf_fuzz {

void RunWriterProgram(const uint8_t *data, size_t size, const WriterRun &run, WriterOutcome *out) {
  *out = WriterOutcome();
  FuzzInput in(data, size);
  Session s;
  const uint8_t config = in.U8();
  static const char *const kOs[] = {"linux", "darwin", "unknown"};  // as written
  static const atf_os kOsIds[] = {ATF_OS_LINUX, ATF_OS_DARWIN, ATF_OS_UNKNOWN};
  static const uint32_t kStackCaps[] = {0, 1, 7, 32, 256, 1000, 4095, 4096};
  s.arch = config % 3;
  s.os = kOs[config / 3 % 3];
  const uint8_t sizes = in.U8();
  s.max_stack = kStackCaps[sizes & 7];
  s.append = (sizes & 32) != 0;  // batches through atf_writer_append instead of atf_writer_write
  s.session_tid = static_cast<int32_t>(in.U32());  // 0: the writer's default
  const std::string exe = CString(&in);
  std::vector<std::string> args;
  for (unsigned n = in.U8() % 4; n > 0; --n) args.push_back(CString(&in));
  const int32_t exit_code = static_cast<int32_t>(in.U32());
  bool any_replacement = !CleanText(exe);
  for (const auto &a : args) any_replacement |= !CleanText(a);

  atf_fuzz::MemFs fs(run.faults);
  std::vector<const char *> argv;
  for (const auto &a : args) argv.push_back(a.c_str());
  atf_writer_options o;
  atf_writer_options_init(&o);
  o.output_root = "/fuzz";
  o.session_label = "fuzz";
  o.pid = kPid;
  o.session_id = 7;
  o.clock = Clock;
  o.clock_ctx = &s;
  o.executable_path = exe.c_str();
  o.argv = argv.data();
  o.argc = argv.size();
  o.os = kOsIds[config / 3 % 3];
  o.arch = ArchOf(s.arch);
  o.flush_policy = config / 9 % 2 ? ATF_FLUSH_EVERY_BATCH : ATF_FLUSH_EXPLICIT;
  if (run.interval_flush) {
    o.flush_policy = ATF_FLUSH_INTERVAL;
    o.flush_interval_ns = run.flush_interval_ns;
  }
  o.max_events = run.max_events;
  o.max_file_bytes = run.max_file_bytes;
  o.buffer_bytes = sizes & 8 ? 64 * 1024 : 0;
  o.io_thread = (sizes & 16) != 0;  // full buffers written by the writer's I/O thread
  o.max_stack_bytes = s.max_stack;
  o.collect_modules = 0;
  o.file_ops = fs.ops();
  o.session_thread_id = s.session_tid;
  atf_writer *w = nullptr;
  const std::string events_path = std::string(kSessionDir) + "/events.bin";
  const std::string manifest_path = std::string(kSessionDir) + "/trace.json";
  auto collect = [&] {
    out->hard_faults = fs.hard_faults();
    if (const std::string *f = fs.File(events_path)) out->events_exists = true, out->events = *f;
    if (const std::string *f = fs.File(manifest_path))
      out->manifest_exists = true, out->manifest = *f;
    out->tmp_exists = fs.File(manifest_path + ".tmp") != nullptr;
  };
  out->open_status = atf_writer_open(&o, &w);
  if (out->open_status != ATF_WRITER_OK && !run.strict) {
    ATF_FUZZ_CHECK(w == nullptr);
    collect();
    return;
  }
  ATF_FUZZ_CHECK(out->open_status == ATF_WRITER_OK);
  // A call's status: the model's prediction, or (relaxed) the end of the program.
  bool stopped = false;
  auto expect = [&](atf_writer_status st, atf_writer_status want, const char *what) {
    out->statuses.push_back(st);
    if (st == want) return;
    if (!run.strict) {
      out->first_unexpected = st;
      stopped = true;
      return;
    }
    Fail(__FILE__, __LINE__, std::string(what) + " returned " + std::to_string(st));
  };
  auto note_durable = [&] {
    atf_writer_stats st;
    atf_writer_get_stats(w, &st);
    out->durable = st.bytes_durable;
  };
  note_durable();

  Event start;
  start.event_id = ATF_WRITER_FIRST_EVENT_ID;
  start.thread_id = s.session_tid;
  start.seconds = static_cast<int64_t>(kStartNs / 1000000000u);
  start.payload = atf_fuzz::kTraceStart;
  start.executable_path = exe;
  start.args = args;
  start.operating_system = s.os;
  start.cpu_architecture = s.arch == 1 ? "x86_64" : s.arch == 2 ? "aarch64" : "unknown";
  s.events.push_back(start);
  s.ring.emplace_back();
  s.last_ts[s.session_tid] = kStartNs;

  static const unsigned kRepeat[] = {1, 1, 3, 300};
  while (!in.empty() && !stopped) {
    const uint8_t op = in.U8() % 8;
    if (op == 0) {
      const std::string piece = in.ShortString();
      std::string name;
      for (unsigned k = kRepeat[in.U8() % 4]; k > 0; --k) name += piece;
      uint32_t id = 0;
      expect(atf_writer_intern_symbol(w, name.data(), name.size(), &id), ATF_WRITER_OK,
             "atf_writer_intern_symbol");
      if (stopped) break;
      auto known = std::find(s.symbols.begin(), s.symbols.end(), name);
      if (known != s.symbols.end()) {
        ATF_FUZZ_CHECK(id == static_cast<uint32_t>(known - s.symbols.begin()) + 1);
      } else {
        ATF_FUZZ_CHECK(id == s.symbols.size() + 1);
        s.symbols.push_back(name);
        any_replacement |= !CleanText(name);
      }
    } else if (op <= 4) {
      AppendRecord(&s, &in, op);
    } else if (op == 5) {
      AppendPad(&s, &in);
    } else if (op == 6) {
      stopped = !WriteBatch(&s, w, out, run.strict);
      if (!stopped && o.flush_policy != ATF_FLUSH_EXPLICIT) note_durable();
    } else {
      expect(atf_writer_flush(w), ATF_WRITER_OK, "atf_writer_flush");
      if (!stopped) note_durable();
    }
  }
  if (!stopped) {
    stopped = !WriteBatch(&s, w, out, run.strict);
    if (!stopped && o.flush_policy != ATF_FLUSH_EXPLICIT) note_durable();
  }

  // finalize's TraceEnd (unless the program wrote one) is stamped with the latest timestamp.
  uint64_t latest = kStartNs;
  for (const Event &e : s.events) latest = std::max(latest, TimeNs(e));
  for (const Event &e : s.batch_events)
    latest = std::max(latest, TimeNs(e));  // a batch a relaxed run cut
  s.clock_ns = latest;
  out->finalize_status = atf_writer_finalize(w, exit_code);
  out->statuses.push_back(out->finalize_status);
  if (out->finalize_status == ATF_WRITER_OK) note_durable();
  atf_writer_get_stats(w, &out->stats);
  if (!run.strict) {
    collect();
    atf_writer_close(w);
    return;
  }
  ATF_FUZZ_CHECK(out->finalize_status == ATF_WRITER_OK);
  if (!s.trace_end_written) {
    Event end;
    end.event_id = ATF_WRITER_FIRST_EVENT_ID + s.events.size();
    end.thread_id = s.session_tid;
    end.seconds = static_cast<int64_t>(latest / 1000000000u);
    end.nanos = static_cast<int32_t>(latest % 1000000000u);
    end.payload = atf_fuzz::kTraceEnd;
    end.exit_code = exit_code;
    std::vector<uint64_t> rec(ATF_RECORD_HEADER_SIZE / 8, 0);
    atf_ring_record *r = reinterpret_cast<atf_ring_record *>(rec.data());
    r->size = ATF_RECORD_HEADER_SIZE;
    r->kind = ATF_KIND_TRACE_END;
    r->thread_id = s.session_tid;
    r->value = exit_code;
    r->timestamp_ns = latest;
    s.events.push_back(end);
    s.ring.push_back(rec);
  }
  CheckSession(&s, fs, w, any_replacement);
  collect();
  atf_writer_close(w);
}

}  // namespace atf_fuzz
