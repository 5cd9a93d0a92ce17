// Fuzz target: atf-recover's library (recover/atf/recover.h) on torn and corrupted sessions.
//
// Input: u8 flags (bit 0 truncate, bit 1 a trace.json is present: the rest then uses the validator
// target's layout, 2-byte manifest length + events.bin + trace.json; bit 2 dry run; bit 3
// salvage), then the files. They are written to a session directory (pid_4242) under a private
// directory in /dev/shm (or TEST_TMPDIR), recovered, and checked against the validator's verdict
// on the original bytes and against a model of salvage written here from atf/recover.h:
//   - the outcome is the documented one: USAGE exactly when truncate and salvage are both asked
//     (nothing changed); ALREADY_VALID exactly when the session validated with its trace.json;
//     NO_PREFIX exactly when nothing can be kept (no valid first record; for salvage, no record
//     that decodes as a TraceStart); TAIL_KEPT only in the default mode with bytes after the kept
//     prefix; never IO; CANNOT only when no TraceEnd can follow the last kept record (event_id
//     2^64-1), and then nothing is changed; never STILL_INVALID;
//   - the kept prefix is the validator's valid prefix (valid_prefix_bytes / records), which ends
//     at its first TraceEnd (a session ends there); salvage keeps exactly the records the model
//     keeps (a TraceStart first, event_id increasing, each thread's timestamps non-decreasing, up
//     to the first TraceEnd), in order and byte for byte;
//   - nothing is destroyed: nothing changes on disk for ALREADY_VALID, NO_PREFIX, CANNOT, USAGE or
//     a dry run; TAIL_KEPT leaves events.bin byte for byte; truncate keeps the cut bytes in
//     events.bin.cut, salvage the whole original in events.bin.orig; an old trace.json is kept
//     byte for byte in trace.json.invalid; no other file is left behind;
//   - OK: events.bin is the kept bytes (plus a TraceEnd when they lack one), final_bytes long, and
//     the session validates (trace.json included, with "recovered": true).
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "fuzz/event_decoders.h"
#include "recover/atf/recover.h"
#include "validator/atf/validate.h"
#include "validator/internal/reader.h"

namespace {

std::string g_dir;  // <private tmp>/session_fuzz/pid_4242

std::string Slurp(const std::string &path, bool *exists) {
  std::ifstream f(path, std::ios::binary);
  *exists = static_cast<bool>(f);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

void Put(const std::string &path, const uint8_t *data, size_t len) {
  FILE *f = std::fopen(path.c_str(), "wb");
  ATF_FUZZ_CHECK(f != nullptr);
  ATF_FUZZ_CHECK(len == 0 || std::fwrite(data, 1, len, f) == len);
  ATF_FUZZ_CHECK(std::fclose(f) == 0);
}

// The files a recovery may leave: its own and its side files (one run: no numbered copies).
const char *const kKnownFiles[] = {"events.bin", "trace.json", "trace.json.invalid",
                                   "events.bin.cut", "events.bin.orig"};

void Clean() {
  for (const char *name : kKnownFiles) unlink((g_dir + "/" + name).c_str());
  // Nothing else may be left behind (no temporary file, no numbered side file in one run).
  DIR *d = opendir(g_dir.c_str());
  ATF_FUZZ_CHECK(d != nullptr);
  while (struct dirent *e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      atf_fuzz::Fail(__FILE__, __LINE__, std::string("recovery left a file behind: ") + e->d_name);
    }
  }
  closedir(d);
}

std::string g_root;  // the private directory

void RemoveAll() {
  Clean();
  rmdir(g_dir.c_str());
  rmdir((g_root + "/session_fuzz").c_str());
  rmdir(g_root.c_str());
}

void Init() {
  if (!g_dir.empty()) return;
  const char *base = getenv("TEST_TMPDIR");
  std::string tmpl = std::string(base != nullptr                 ? base
                                 : access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                                                                 : "/tmp") +
                     "/atf_recover_fuzz.XXXXXX";
  ATF_FUZZ_CHECK(mkdtemp(&tmpl[0]) != nullptr);
  g_root = tmpl;
  atexit(RemoveAll);
  ATF_FUZZ_CHECK(mkdir((tmpl + "/session_fuzz").c_str(), 0700) == 0);
  g_dir = tmpl + "/session_fuzz/pid_4242";
  ATF_FUZZ_CHECK(mkdir(g_dir.c_str(), 0700) == 0);
}

// The complete records of events.bin: [offset, end) and whether each decodes (with its event).
struct Record {
  uint64_t offset, end;
  bool decodes;
  atf_fuzz::Event event;
};

std::vector<Record> Records(const uint8_t *events, size_t len) {
  std::vector<Record> out;
  atf_reader r;
  atf_reader_init_mem(&r, events, len);
  atf_frame f;
  for (uint64_t off = 0; atf_reader_frame(&r, off, &f) == ATF_FRAME_OK;
       off = f.body_offset + f.length) {
    Record rec{f.offset, f.body_offset + f.length, false, {}};
    rec.decodes =
        atf_fuzz::DecodeWithValidator(events + f.body_offset, f.length, &rec.event, nullptr);
    out.push_back(rec);
  }
  atf_reader_free(&r);
  return out;
}

uint64_t TimeNs(const atf_fuzz::Event &e) {
  return static_cast<uint64_t>(e.seconds) * 1000000000u + static_cast<uint64_t>(e.nanos);
}

// Salvage, from atf/recover.h: the records that decode and, against those kept before them, start
// with a TraceStart, keep event_id increasing and each thread's timestamps non-decreasing, and
// end at the first TraceEnd. Sets *threads to the distinct thread ids seen.
std::vector<const Record *> Salvaged(const std::vector<Record> &records, size_t *threads) {
  std::vector<const Record *> kept;
  std::map<int32_t, uint64_t> last_ns;
  std::map<int32_t, std::vector<uint64_t>> open;  // per thread, the kept calls not yet returned
  std::map<int32_t, bool> seen;
  bool ended = false;
  for (const Record &r : records) {
    if (!r.decodes) continue;
    const atf_fuzz::Event &e = r.event;
    seen[e.thread_id] = true;
    if (ended || kept.empty() != (e.payload == atf_fuzz::kTraceStart)) continue;
    if (!kept.empty() && e.event_id <= kept.back()->event.event_id) continue;
    auto t = last_ns.find(e.thread_id);
    if (t != last_ns.end() && TimeNs(e) < t->second) continue;
    std::vector<uint64_t> &calls = open[e.thread_id];
    if (e.payload == atf_fuzz::kReturn && (calls.empty() || calls.back() != e.address)) continue;
    if (e.payload == atf_fuzz::kReturn) calls.pop_back();
    if (e.payload == atf_fuzz::kCall) calls.push_back(e.address);
    last_ns[e.thread_id] = TimeNs(e);
    kept.push_back(&r);
    ended = e.payload == atf_fuzz::kTraceEnd;
  }
  *threads = seen.size();
  return kept;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  Init();
  const uint8_t flags = data[0];
  const bool truncate = flags & 1, has_manifest = flags & 2, dry_run = flags & 4,
             salvage = flags & 8;
  const uint8_t *events = data + 1;
  size_t events_len = size - 1, m = 0;
  if (has_manifest) {
    if (size < 3) return 0;
    m = data[1] | static_cast<size_t>(data[2]) << 8;
    events = data + 3;
    events_len = size - 3;
    if (m > events_len) m = events_len;
    events_len -= m;
  }
  const std::string ev_path = g_dir + "/events.bin", tj_path = g_dir + "/trace.json";
  Put(ev_path, events, events_len);
  if (has_manifest) Put(tj_path, events + events_len, m);
  const std::string original(reinterpret_cast<const char *>(events), events_len);
  const std::string old_manifest(reinterpret_cast<const char *>(events + events_len), m);

  atf_validate_report before;
  ATF_FUZZ_CHECK(atf_validate_buffers(events, events_len,
                                      has_manifest ? events + events_len : nullptr, m, nullptr,
                                      &before) == ATF_VALIDATE_OK);
  atf_recover_options o;
  atf_recover_options_init(&o);
  o.truncate = truncate;
  o.salvage = salvage;
  o.dry_run = dry_run;
  atf_recover_result r;
  const atf_recover_status st = atf_recover_session(g_dir.c_str(), &o, &r);
  const std::string what = std::string("status ") + std::to_string(st) + ": " + r.message;

  // What is kept: the validator's valid prefix (up to its first TraceEnd), or the salvaged records.
  const std::vector<Record> records = Records(events, events_len);
  size_t threads = 0;
  const std::vector<const Record *> salvaged = Salvaged(records, &threads);
  std::string kept;
  uint64_t kept_records = 0;
  bool ends = false;
  uint64_t last_id = 0;
  if (salvage) {
    for (const Record *rec : salvaged) kept.append(original, rec->offset, rec->end - rec->offset);
    kept_records = salvaged.size();
    if (!salvaged.empty()) ends = salvaged.back()->event.payload == atf_fuzz::kTraceEnd;
    if (!salvaged.empty()) last_id = salvaged.back()->event.event_id;
  } else {
    kept = original.substr(0, before.valid_prefix_bytes);
    kept_records = before.valid_prefix_records;
    ends = before.valid_prefix_ends_session;
    last_id = before.valid_prefix_last_event_id;
    for (size_t i = 0; i < before.valid_prefix_records; ++i) {
      ATF_FUZZ_CHECK(records[i].decodes);  // the valid prefix holds records that decode...
      if (i + 1 < before.valid_prefix_records)
        ATF_FUZZ_CHECK(records[i].event.payload != atf_fuzz::kTraceEnd);
    }  // ...and ends at its first TraceEnd
  }
  const bool can_end = ends || last_id != UINT64_MAX;
  const bool already = before.valid && has_manifest;
  const bool model_applies = threads <= ATF_VALIDATE_MAX_THREADS;

  if (truncate && salvage) {
    ATF_FUZZ_CHECK(st == ATF_RECOVER_E_USAGE);
  } else if (st == ATF_RECOVER_E_USAGE || st == ATF_RECOVER_E_IO ||
             st == ATF_RECOVER_E_STILL_INVALID) {
    atf_fuzz::Fail(__FILE__, __LINE__, "recovery failed: " + what);
  } else if (st == ATF_RECOVER_E_CANNOT && can_end) {
    atf_fuzz::Fail(__FILE__, __LINE__, "CANNOT, but a TraceEnd could follow: " + what);
  }
  if ((st == ATF_RECOVER_ALREADY_VALID) != already && !(truncate && salvage)) {
    atf_fuzz::Fail(__FILE__, __LINE__, "ALREADY_VALID wrong: " + what);
  }
  if (!already && !(truncate && salvage) && model_applies &&
      (st == ATF_RECOVER_E_NO_PREFIX) != (kept_records == 0)) {
    atf_fuzz::Fail(__FILE__, __LINE__, "NO_PREFIX wrong: " + what);
  }
  if (st != ATF_RECOVER_E_USAGE) {
    ATF_FUZZ_CHECK(r.file_bytes == events_len);
    if (model_applies && (r.prefix_bytes != kept.size() || r.prefix_records != kept_records)) {
      atf_fuzz::Fail(__FILE__, __LINE__,
                     "kept " + std::to_string(r.prefix_bytes) + " bytes, expected " +
                         std::to_string(kept.size()) + ": " + what);
    }
  }
  if (st == ATF_RECOVER_TAIL_KEPT) ATF_FUZZ_CHECK(!truncate && !salvage && r.tail_bytes > 0);

  bool exists = false;
  const std::string after = Slurp(ev_path, &exists);
  ATF_FUZZ_CHECK(exists);
  const bool untouched = dry_run || st == ATF_RECOVER_ALREADY_VALID ||
                         st == ATF_RECOVER_E_NO_PREFIX || st == ATF_RECOVER_E_CANNOT ||
                         st == ATF_RECOVER_E_USAGE;
  if (untouched || st == ATF_RECOVER_TAIL_KEPT) {
    if (after != original) atf_fuzz::Fail(__FILE__, __LINE__, "events.bin changed: " + what);
  }
  bool tj = false, aside = false, cut = false, orig = false;
  const std::string manifest = Slurp(tj_path, &tj);
  const std::string kept_manifest = Slurp(g_dir + "/trace.json.invalid", &aside);
  const std::string cut_bytes = Slurp(g_dir + "/events.bin.cut", &cut);
  const std::string orig_bytes = Slurp(g_dir + "/events.bin.orig", &orig);
  if (untouched) {
    ATF_FUZZ_CHECK(tj == has_manifest && !aside && !cut && !orig);
    if (tj) ATF_FUZZ_CHECK(manifest == old_manifest);
  } else {
    // Nothing destroyed: the old manifest, the cut bytes, the original events.bin are kept.
    ATF_FUZZ_CHECK(aside == has_manifest);
    if (aside && kept_manifest != old_manifest)
      atf_fuzz::Fail(__FILE__, __LINE__, "old manifest lost: " + what);
    ATF_FUZZ_CHECK(cut == (r.tail_cut && truncate));
    if (cut && cut_bytes != original.substr(r.prefix_bytes))
      atf_fuzz::Fail(__FILE__, __LINE__, "cut bytes lost: " + what);
    ATF_FUZZ_CHECK(orig == (r.tail_cut && salvage));
    if (orig && orig_bytes != original)
      atf_fuzz::Fail(__FILE__, __LINE__, "original events.bin lost: " + what);
  }
  if (st == ATF_RECOVER_OK && !dry_run) {
    ATF_FUZZ_CHECK(after.size() == r.final_bytes);
    if (model_applies && after.compare(0, kept.size(), kept) != 0) {
      atf_fuzz::Fail(__FILE__, __LINE__,
                     "events.bin does not start with the kept records: " + what);
    }
    ATF_FUZZ_CHECK(r.trace_end_appended == !ends);
    atf_validate_report rep;
    ATF_FUZZ_CHECK(atf_validate_path(g_dir.c_str(), nullptr, &rep) == ATF_VALIDATE_OK);
    if (!rep.valid)
      atf_fuzz::Fail(__FILE__, __LINE__, "recovered session does not validate: " + what);
    ATF_FUZZ_CHECK(rep.has_recovered && rep.recovered && rep.records == r.final_records);
    atf_validate_report_free(&rep);
  }
  atf_validate_report_free(&before);
  Clean();
  return 0;
}
