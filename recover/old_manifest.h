/* recover/old_manifest.h: what a damaged session's trace.json still says, and whether a manifest
 * atf-recover rendered passes the validator's manifest checks.
 *
 * Both run the validator's own code (its strict JSON reader and manifest checker), in their own
 * translation unit because the writer and the validator both name a struct atf_manifest.
 */
#ifndef ATF_RECOVER_OLD_MANIFEST_H_
#define ATF_RECOVER_OLD_MANIFEST_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct recover_member {
  char *key;  /* the decoded key (never holds a NUL) */
  char *json; /* its value's text, verbatim from the old file */
} recover_member;

typedef struct recover_old_manifest {
  recover_member *members; /* top-level members, in file order */
  size_t n;
} recover_old_manifest;

/* The top-level members of data[0, len) in which the validator's manifest checker finds no fault
 * (a member whose value holds an error's offset is left out; a file that is not a JSON object
 * yields none). Keys holding a NUL are left out too (a C string cannot carry them). Returns 0, or
 * -1 when memory ran out. */
int recover_old_manifest_read(const char *data, size_t len, recover_old_manifest *out);
void recover_old_manifest_free(recover_old_manifest *m);

/* The member named `key`, or NULL. */
const recover_member *recover_old_manifest_get(const recover_old_manifest *m, const char *key);

/* The member's value when it is a non-negative integer (as the checker accepted it). */
int recover_member_u64(const recover_member *member, uint64_t *value);

/* 1 when json[0, len) raises no manifest.* error but those that compare it with events.bin
 * (eventCount, bytesWritten, the time range, which the caller computed); else 0 with the first
 * error in why[0, why_size). */
int recover_manifest_check(const char *json, size_t len, char *why, size_t why_size);

#ifdef __cplusplus
}
#endif

#endif /* ATF_RECOVER_OLD_MANIFEST_H_ */
