#include "fuzz/manifest_render.h"

#include "fuzz/event_decoders.h"
#include "writer/internal/manifest.h"
#include "writer/internal/utf8.h"

namespace atf_fuzz {

std::string RenderWriterManifest(const ManifestValues &v) {
  std::vector<const char *> modules;
  for (const auto &m : v.modules) modules.push_back(m.c_str());
  std::vector<atf_thread_drops> drops;
  for (const auto &d : v.drops) drops.push_back({d.first, d.second});
  atf_manifest m = {};
  m.os = v.os.c_str();
  m.arch = v.arch.c_str();
  m.pid = v.pid;
  m.session_id = v.session_id;
  m.executable_path = v.executable_path.c_str();
  m.clock = "custom";
  m.time_start_ns = v.time_start_ns;
  m.time_end_ns = v.time_end_ns;
  m.event_count = v.event_count;
  m.bytes_written = v.bytes_written;
  m.modules = modules.data();
  m.n_modules = modules.size();
  m.has_drops = v.has_drops;
  m.dropped_events = v.dropped_events;
  m.drops = drops.data();
  m.n_drops = drops.size();
  char *json = atf_manifest_render(&m);
  ATF_FUZZ_CHECK(json != nullptr);
  std::string out(json);
  atf_manifest_free(json);
  return out;
}

std::string SanitiseWithWriter(const std::string &raw) {
  const auto *in = reinterpret_cast<const uint8_t *>(raw.data());
  std::string out(atf_utf8_sanitized_size(in, raw.size()) + 1, '\0');
  size_t len = 0;
  atf_utf8_sanitize(in, raw.size(), &out[0], &len);
  out.resize(len);
  return out;
}

}  // namespace atf_fuzz
