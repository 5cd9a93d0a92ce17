/* internal/modules.h: identities of the modules loaded in this process, as UUID strings.
 *
 * Linux: the GNU build id (PT_NOTE, NT_GNU_BUILD_ID) of every object dl_iterate_phdr() reports.
 * A build id is usually 20 bytes (SHA-1) but may be any length; its first 16 bytes are formatted
 * as a UUID (8-4-4-4-12 lowercase hex), shorter ids are padded with zero bytes. Objects without a
 * build id are skipped.
 * darwin: the LC_UUID of every image dyld reports (compiled only on __APPLE__; not tested here).
 */
#ifndef ATF_WRITER_INTERNAL_MODULES_H_
#define ATF_WRITER_INTERNAL_MODULES_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATF_UUID_STRING_SIZE 37 /* 36 characters + NUL */

/* Formats id[0..len) (first 16 bytes, zero-padded) as a lowercase UUID string. */
void atf_uuid_format(const uint8_t *id, size_t len, char out[ATF_UUID_STRING_SIZE]);

/* 1 if s is 8-4-4-4-12 hexadecimal digits (either case), else 0. */
int atf_uuid_valid(const char *s);

/* Calls fn(ctx, uuid) for each loaded module with an identity, in loader order. Returns the number
 * of calls. fn must not load or unload modules. */
typedef void (*atf_module_fn)(void *ctx, const char *uuid);
size_t atf_modules_collect(atf_module_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* ATF_WRITER_INTERNAL_MODULES_H_ */
