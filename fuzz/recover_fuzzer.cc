// Fuzz target: atf-recover's library (recover/recover.h) on torn and corrupted sessions.
//
// Input: u8 flags (bit 0 truncate, bit 1 a trace.json is present: the rest then uses the validator
// target's layout, 2-byte manifest length + events.bin + trace.json; bit 2 dry run), then the
// files. They are written to a session directory (pid_4242) under a private directory in /dev/shm
// (or TEST_TMPDIR), recovered, and checked against the validator's verdict on the original bytes:
//   - the outcome is the documented one: ALREADY_VALID exactly when the session validated with its
//     trace.json; NO_PREFIX exactly when not even the first record is valid; TAIL_KEPT only
//     without truncate and with bytes after the kept prefix; never USAGE or IO; STILL_INVALID
//     only when no TraceEnd can be appended (the last kept record has event_id 2^64-1), and then
//     nothing is changed;
//   - the kept prefix is the validator's valid prefix (valid_prefix_bytes / records), cut after
//     its TraceEnd when valid records follow one (a session ends at its TraceEnd);
//   - nothing changes on disk for ALREADY_VALID, NO_PREFIX or a dry run; TAIL_KEPT leaves
//     events.bin byte for byte;
//   - OK: events.bin starts with the original valid prefix, is final_bytes long, and the session
//     validates (trace.json included, with "recovered": true).
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
#include <string>

#include "fuzz/event_decoders.h"
#include "recover/recover.h"
#include "validator/atf/validate.h"

namespace {

std::string g_dir;  // <private tmp>/session_fuzz/pid_4242

std::string Slurp(const std::string& path, bool* exists) {
  std::ifstream f(path, std::ios::binary);
  *exists = static_cast<bool>(f);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

void Put(const std::string& path, const uint8_t* data, size_t len) {
  FILE* f = std::fopen(path.c_str(), "wb");
  ATF_FUZZ_CHECK(f != nullptr);
  ATF_FUZZ_CHECK(len == 0 || std::fwrite(data, 1, len, f) == len);
  ATF_FUZZ_CHECK(std::fclose(f) == 0);
}

void Clean() {
  for (const char* name : {"events.bin", "trace.json", "trace.json.invalid", "trace.json.tmp"}) {
    unlink((g_dir + "/" + name).c_str());
  }
  // Nothing else may be left behind.
  DIR* d = opendir(g_dir.c_str());
  ATF_FUZZ_CHECK(d != nullptr);
  while (struct dirent* e = readdir(d)) {
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
  const char* base = getenv("TEST_TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") +
                     "/atf_recover_fuzz.XXXXXX";
  ATF_FUZZ_CHECK(mkdtemp(&tmpl[0]) != nullptr);
  g_root = tmpl;
  atexit(RemoveAll);
  ATF_FUZZ_CHECK(mkdir((tmpl + "/session_fuzz").c_str(), 0700) == 0);
  g_dir = tmpl + "/session_fuzz/pid_4242";
  ATF_FUZZ_CHECK(mkdir(g_dir.c_str(), 0700) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  Init();
  const uint8_t flags = data[0];
  const bool truncate = flags & 1, has_manifest = flags & 2, dry_run = flags & 4;
  const uint8_t* events = data + 1;
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

  atf_validate_report before;
  ATF_FUZZ_CHECK(atf_validate_buffers(events, events_len, has_manifest ? events + events_len : nullptr, m, nullptr,
                                      &before) == ATF_VALIDATE_OK);
  atf_recover_options o;
  atf_recover_options_init(&o);
  o.truncate = truncate;
  o.dry_run = dry_run;
  atf_recover_result r;
  const atf_recover_status st = atf_recover_session(g_dir.c_str(), &o, &r);
  const std::string what = std::string("status ") + std::to_string(st) + ": " + r.message;

  // The prefix to keep, read here: the valid prefix, up to its TraceEnd; and whether a TraceEnd
  // can end it (its last record is one, or has an event_id below 2^64-1).
  uint64_t keep = 0, keep_records = 0;
  bool can_end = true;
  for (uint64_t off = 0; off < before.valid_prefix_bytes;) {
    size_t k = 0;
    uint64_t len = 0;
    for (; events[off + k] & 0x80; ++k) len |= static_cast<uint64_t>(events[off + k] & 0x7f) << (7 * k);
    len |= static_cast<uint64_t>(events[off + k]) << (7 * k);
    atf_fuzz::Event e;
    ATF_FUZZ_CHECK(atf_fuzz::DecodeWithValidator(events + off + k + 1, len, &e, nullptr));
    off += k + 1 + len;
    keep = off, keep_records++;
    can_end = e.payload == atf_fuzz::kTraceEnd || e.event_id != UINT64_MAX;
    if (e.payload == atf_fuzz::kTraceEnd) break;
  }
  ATF_FUZZ_CHECK(keep_records == 0 || keep_records <= before.valid_prefix_records);

  if (st == ATF_RECOVER_E_USAGE || st == ATF_RECOVER_E_IO || (st == ATF_RECOVER_E_STILL_INVALID && can_end)) {
    atf_fuzz::Fail(__FILE__, __LINE__, "recovery failed: " + what);
  }
  ATF_FUZZ_CHECK(r.file_bytes == events_len);
  if (r.prefix_bytes != keep || r.prefix_records != keep_records) {
    atf_fuzz::Fail(__FILE__, __LINE__, "kept prefix " + std::to_string(r.prefix_bytes) + " bytes, expected " +
                                           std::to_string(keep) + ": " + what);
  }
  ATF_FUZZ_CHECK(r.tail_bytes == events_len - keep);
  const bool already = before.valid && has_manifest;
  if ((st == ATF_RECOVER_ALREADY_VALID) != already) atf_fuzz::Fail(__FILE__, __LINE__, "ALREADY_VALID wrong: " + what);
  if (!already && (st == ATF_RECOVER_E_NO_PREFIX) != (before.valid_prefix_records == 0)) {
    atf_fuzz::Fail(__FILE__, __LINE__, "NO_PREFIX wrong: " + what);
  }
  if (st == ATF_RECOVER_TAIL_KEPT) ATF_FUZZ_CHECK(!truncate && r.tail_bytes > 0);

  bool exists = false;
  const std::string after = Slurp(ev_path, &exists);
  ATF_FUZZ_CHECK(exists);
  const std::string original(reinterpret_cast<const char*>(events), events_len);
  const bool untouched = dry_run || st == ATF_RECOVER_ALREADY_VALID || st == ATF_RECOVER_E_NO_PREFIX ||
                        st == ATF_RECOVER_E_STILL_INVALID;
  if (untouched || st == ATF_RECOVER_TAIL_KEPT) {
    if (after != original) atf_fuzz::Fail(__FILE__, __LINE__, "events.bin changed: " + what);
  }
  if (untouched) {
    bool tj = false;
    const std::string manifest = Slurp(tj_path, &tj);
    ATF_FUZZ_CHECK(tj == has_manifest);
    if (tj) ATF_FUZZ_CHECK(manifest == std::string(reinterpret_cast<const char*>(events + events_len), m));
  }
  if (st == ATF_RECOVER_OK && !dry_run) {
    ATF_FUZZ_CHECK(after.size() == r.final_bytes);
    ATF_FUZZ_CHECK(after.compare(0, r.prefix_bytes, original, 0, r.prefix_bytes) == 0);
    atf_validate_report rep;
    ATF_FUZZ_CHECK(atf_validate_path(g_dir.c_str(), nullptr, &rep) == ATF_VALIDATE_OK);
    if (!rep.valid) atf_fuzz::Fail(__FILE__, __LINE__, "recovered session does not validate: " + what);
    ATF_FUZZ_CHECK(rep.has_recovered && rep.recovered && rep.records == r.final_records);
    atf_validate_report_free(&rep);
  }
  atf_validate_report_free(&before);
  Clean();
  return 0;
}
