/* internal/manifest.h: renders and atomically writes trace.json.
 *
 * cJSON stores numbers as doubles, which cannot hold every uint64 (2^53 + 1 becomes 2^53). Every
 * integer is therefore emitted with cJSON_CreateRaw() from its exact decimal text (PRIu64 /
 * PRId32), so the file holds exact integers; a reader that parses them as doubles loses precision,
 * a reader that parses them as integers gets them back exactly.
 */
#ifndef ATF_WRITER_INTERNAL_MANIFEST_H_
#define ATF_WRITER_INTERNAL_MANIFEST_H_

#include <stddef.h>
#include <stdint.h>

#include "writer/atf/file_ops.h"
#include "writer/atf/writer.h"
#include "writer/internal/compiler.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct atf_thread_drops {
  int32_t thread_id;
  uint64_t count;
} atf_thread_drops;

/* A member whose value is given as JSON text, rendered verbatim. For callers that carry exact
 * values they did not produce: atf-recover keeps a damaged session's old keys this way. */
typedef struct atf_manifest_member {
  const char *key;
  const char *json; /* REQUIRES: one valid JSON value */
} atf_manifest_member;

typedef struct atf_manifest {
  const char *os;
  const char *arch;
  int32_t pid;
  uint64_t session_id;
  const char *executable_path;
  const char *clock; /* "CLOCK_REALTIME" or "custom" */
  uint64_t time_start_ns, time_end_ns;
  uint64_t event_count, bytes_written;
  const char *const *modules;
  size_t n_modules;
  int has_drops; /* emit droppedEvents / droppedEventsByThread */
  uint64_t dropped_events;
  const atf_thread_drops *drops;
  size_t n_drops;
  /* Further members, after the ones above, in this order; one named like a member above replaces
   * that member's value in place. Keys must differ from each other. */
  const atf_manifest_member *members;
  size_t n_members;
} atf_manifest;

/* Returns the manifest as pretty-printed JSON (NUL-terminated, free with atf_manifest_free), or
 * NULL when out of memory. Strings must be valid UTF-8. Keys, in order: formatVersion, writer, os,
 * arch, pid, sessionId, executablePath, clock, timeStartNs, timeEndNs, eventCount, bytesWritten,
 * modules, then droppedEvents and droppedEventsByThread when has_drops, then `members`. */
char *atf_manifest_render(const atf_manifest *m);
void atf_manifest_free(char *json);

/* Writes json[0..len) to <dir>/trace.json atomically: <dir>/trace.json.tmp is created (O_EXCL,
 * O_NOFOLLOW), written, fsync'ed and closed, renamed to trace.json, and dir is fsync'ed. On failure
 * the temporary file is unlinked, *err gets errno and an ATF_WRITER_E_* status is returned. */
ATF_MUST_USE atf_writer_status atf_manifest_write(const atf_file_ops *ops, const char *dir,
                                                  const char *json, size_t len, int *err);

#ifdef __cplusplus
}
#endif

#endif /* ATF_WRITER_INTERNAL_MANIFEST_H_ */
