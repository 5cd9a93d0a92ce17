// manifest_render.h: the writer's trace.json renderer (writer/internal/manifest.h) behind a plain
// interface, so the manifest fuzz target can hold it and the validator's manifest reader in one
// binary (both headers name their struct atf_manifest).
#ifndef ATF_FUZZ_MANIFEST_RENDER_H_
#define ATF_FUZZ_MANIFEST_RENDER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace atf_fuzz {

struct ManifestValues {
  std::string os, arch, executable_path;  // valid UTF-8, no NUL
  int32_t pid = 0;
  uint64_t session_id = 0, time_start_ns = 0, time_end_ns = 0, event_count = 0, bytes_written = 0;
  std::vector<std::string> modules;  // UUID strings
  bool has_drops = false;
  uint64_t dropped_events = 0;
  std::vector<std::pair<int32_t, uint64_t>> drops;  // distinct thread ids
};

// atf_manifest_render() of `v`; aborts when it returns NULL.
std::string RenderWriterManifest(const ManifestValues &v);

// The writer's sanitiser (writer/internal/utf8.h), used only to prepare valid UTF-8 input.
std::string SanitiseWithWriter(const std::string &raw);

}  // namespace atf_fuzz

#endif  // ATF_FUZZ_MANIFEST_RENDER_H_
