#include "writer/testing/session.h"

#include <stdlib.h>

#include <cstdlib>

namespace atf_test {

std::string MakeTempDir(const std::string &prefix) {
  const char *base = getenv("TEST_TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/" + prefix + "_XXXXXX";
  if (mkdtemp(&tmpl[0]) == nullptr) return "";
  return tmpl;
}

uint64_t SteppingClock(void *ctx) {
  auto *t = static_cast<uint64_t *>(ctx);
  *t += 1000;
  return *t;
}

Options::Options(const std::string &r, const char *label) : root(r) {
  atf_writer_options_init(&o);
  o.output_root = root.c_str();
  o.session_label = label;
  o.pid = 4242;
  o.session_id = 20261126;
  o.clock = SteppingClock;
  o.clock_ctx = &now;
  o.executable_path = "/bin/app";
  o.os = ATF_OS_LINUX;
  o.arch = ATF_ARCH_X86_64;
  o.collect_modules = 0;
}

bool ExactJsonU64(const std::string &json, const std::string &key, uint64_t *out) {
  const std::string needle = "\"" + key + "\":";
  size_t at = json.find(needle);
  if (at == std::string::npos) return false;
  at += needle.size();
  while (at < json.size() && (json[at] == ' ' || json[at] == '\t')) at++;
  uint64_t v = 0;
  size_t digits = 0;
  for (; at < json.size() && json[at] >= '0' && json[at] <= '9'; at++, digits++) {
    const uint64_t d = static_cast<uint64_t>(json[at] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  *out = v;
  return digits > 0;
}

std::string ReadSession(const std::string &dir, std::vector<Event> *events, uint64_t *file_bytes) {
  const std::string bytes = ReadFile(dir + "/events.bin");
  *file_bytes = bytes.size();
  std::string err = DecodeEventsFile(dir + "/events.bin", events);
  if (!err.empty()) return err;
  for (size_t i = 0; i < events->size(); i++) {
    if ((*events)[i].event_id != ATF_WRITER_FIRST_EVENT_ID + i) {
      return "event " + std::to_string(i) + " has id " + std::to_string((*events)[i].event_id);
    }
  }
  if (!events->empty() && (*events)[0].kind != Kind::kStart) return "first event is not TraceStart";
  return "";
}

}  // namespace atf_test
